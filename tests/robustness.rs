//! Issue 14: hostile input, interrupted and concurrent runs, files that lie. Every example of
//! the issue has a test here; each failure must be one line on stderr, exit code 2 for bad
//! input (130 for Ctrl-C), raised before any heavy work, leaving nothing a rerun could trust.
//! The RCWA solve is replaced by the `--test-solver` stand-in of tests/fake_cli (this test
//! binary re-executed with the stand-in injected; the shipped binary has no test flag) where
//! the physics does not matter, so that the file runs in seconds.

mod fake_cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_metalens"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-robust-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `metalens ARGS` in `dir`; with `--test-solver`, through the test binary's own child with
/// the analytic stand-in in place of the RCWA (the shipped binary has no test flags).
fn run(args: &[&str], dir: &Path) -> Output {
    if args.contains(&"--test-solver") {
        return fake_cli::output(args, dir);
    }
    bin().args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Exit code 2 and exactly one line on stderr mentioning every needle.
fn assert_bad(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' not in: {err}");
    }
}

/// Files whose name says they are temporary (`.x.tmp123.h5`, `.cut_x.tmp.png`) under `dir`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                v.extend(temp_files(&p));
            } else if p.file_name().unwrap().to_string_lossy().contains(".tmp") {
                v.push(p);
            }
        }
    }
    v
}

const SMALL: &str = "[library]\npitches = [0.2, 0.3]\nradius = { start = 0.03, stop = 0.12, step = 0.01 }\nharmonics = 20\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ---------------------------------------------------------------------------------------------
// 1. validate everything before computing anything

#[test]
fn output_path_that_is_a_folder_fails_before_the_sweep() {
    let d = tmpdir("outdir");
    write(&d, "s.toml", SMALL);
    std::fs::create_dir_all(d.join("lib.h5")).unwrap();
    let t0 = Instant::now();
    // 18 cells at 300 ms each would take seconds: the check must come first
    let o = run(
        &[
            "library",
            "s.toml",
            "-o",
            "lib.h5",
            "--test-solver",
            "--test-solver-delay-ms",
            "300",
        ],
        &d,
    );
    assert_bad(&o, &["lib.h5", "folder"]);
    assert!(t0.elapsed() < Duration::from_secs(3), "not checked first");
    assert!(!d.join("lib.h5.ckpt").exists());
    // the output is the input
    let o = run(&["library", "s.toml", "-o", "s.toml", "--test-solver"], &d);
    assert_bad(&o, &["s.toml", "input"]);
    // a missing output folder
    let o = run(
        &["library", "s.toml", "-o", "nope/lib.h5", "--test-solver"],
        &d,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nope"));
}

#[test]
fn reproduce_with_na_1_fails_before_the_library_and_leaves_nothing() {
    let d = tmpdir("na1");
    let mk1 =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml")).unwrap();
    write(&d, "na1.toml", &mk1.replace("na = 0.9", "na = 1.0"));
    let o = run(&["reproduce", "na1.toml", "--out", "o", "--quiet"], &d);
    assert_bad(&o, &["NA", "1", "(0, 1)"]);
    assert!(!d.join("o/library.h5").exists() && !d.join("o/library.h5.ckpt").exists());
    // a study with NA 1 among its NAs
    let sweep = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/designs/pitch-sweep.toml"
    ))
    .unwrap();
    write(
        &d,
        "st.toml",
        &sweep.replace("nas = [0.9, 0.99]", "nas = [0.9, 1.0]"),
    );
    let o = run(&["run", "st.toml", "--out", "o2", "--quiet"], &d);
    assert_bad(&o, &["NA"]);
    assert!(!d.join("o2/library.h5").exists());
}

#[test]
fn na_so_close_to_1_that_the_focus_is_in_the_near_field_is_refused() {
    let d = tmpdir("f");
    let mk1 =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml")).unwrap();
    // NA 0.9999, D = 20 µm: f = 10·√(1 − 0.9998)/0.9999 = 0.14 µm, a fifth of λ
    write(&d, "f.toml", &mk1.replace("na = 0.9", "na = 0.9999"));
    let o = run(&["reproduce", "f.toml", "--out", "o", "--quiet"], &d);
    assert_bad(&o, &["focal length", "0.141", "wavelength"]);
}

#[test]
fn harmonics_beyond_the_machine_are_refused_with_an_estimate() {
    let d = tmpdir("harm");
    let t0 = Instant::now();
    let o = run(&["cell", "--harmonics", "100000"], &d);
    assert_bad(&o, &["harmonics 100000", "TiB", "at most about"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    // the same in a library sweep, before a checkpoint exists
    write(
        &d,
        "h.toml",
        &SMALL.replace("harmonics = 20", "harmonics = 100000"),
    );
    let o = run(&["library", "h.toml", "-o", "h.h5"], &d);
    assert_bad(&o, &["100000 harmonics", "memory", "lower the harmonics"]);
    assert!(!d.join("h.h5.ckpt").exists());
}

#[test]
fn huge_radius_and_pitch_lists_are_refused_up_front() {
    let d = tmpdir("huge");
    // a count beyond a million values
    write(
        &d,
        "r.toml",
        "[library]\npitches = [0.3]\nradius = { start = 0.01, stop = 0.1, count = 1000000000000 }\n",
    );
    let o = run(&["library", "r.toml", "-o", "r.h5", "--test-solver"], &d);
    assert_bad(&o, &["radius range count", "at most 1000000"]);
    // a million radii at 70 000 pitches: 7e10 cells, refused with the estimate
    write(
        &d,
        "p.toml",
        "[library]\npitch_range = { start = 0.3, stop = 1.0, step = 0.00001 }\nradius = { start = 0.01, stop = 0.1, count = 1000000 }\n",
    );
    let o = run(&["library", "p.toml", "-o", "p.h5", "--test-solver"], &d);
    assert_bad(&o, &["library sweep", "cells", "memory"]);
    assert!(!d.join("p.h5.ckpt").exists() && !d.join("p.h5").exists());
}

#[test]
fn a_lens_beyond_the_machine_is_refused_before_the_library() {
    let d = tmpdir("biglens");
    let mk1 =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml")).unwrap();
    write(
        &d,
        "big.toml",
        &mk1.replace("diameter = 20.0", "diameter = 100000.0"),
    );
    let o = run(&["reproduce", "big.toml", "--out", "o", "--quiet"], &d);
    assert_bad(&o, &["lens diameter 100000 µm", "pillars", "FFT", "memory"]);
    assert!(!d.join("o/library.h5").exists());
}

#[test]
fn a_library_without_a_valid_cell_is_not_written() {
    let d = tmpdir("novalid");
    // no radius fits pitch 0.2 with a 0.2 µm gap
    write(
        &d,
        "n.toml",
        "[cell]\nmin_gap = 0.2\n[library]\npitches = [0.2, 0.3]\nradius = { start = 0.03, stop = 0.09, step = 0.01 }\n",
    );
    let o = run(&["library", "n.toml", "-o", "n.h5", "--test-solver"], &d);
    assert_bad(&o, &["pitch 0.2 µm", "no radius"]);
    assert!(!d.join("n.h5").exists());
}

#[test]
fn design_type_errors_name_the_key_and_the_line() {
    let d = tmpdir("types");
    write(&d, "t.toml", "name = \"x\"\n[cell]\nheight = \"high\"\n");
    let o = run(&["library", "t.toml", "-o", "t.h5", "--test-solver"], &d);
    assert_bad(&o, &["line 3", "cell.height", "high"]);
    // a list where a range table is expected is an error naming the key, not start/stop/step
    write(
        &d,
        "l.toml",
        "[library]\npitches = [0.3]\nradius = [0.03, 0.1, 0.01]\n",
    );
    let o = run(&["library", "l.toml", "-o", "l.h5", "--test-solver"], &d);
    assert_bad(&o, &["line 3", "library.radius", "range table"]);
    write(&d, "pr.toml", "[library]\npitch_range = [0.2, 0.4, 0.1]\n");
    let o = run(&["library", "pr.toml", "-o", "l.h5", "--test-solver"], &d);
    assert_bad(&o, &["library.pitch_range", "range table"]);
}

/// Values out of range (not only wrong types) name the TOML key and its line when the file
/// sets it: one line, exit 2, before any cell is solved.
#[test]
fn design_value_errors_name_the_key_and_the_line() {
    let d = tmpdir("values");
    write(&d, "h.toml", "name = \"x\"\n\n[cell]\nheight = -1.0\n");
    let o = run(&["run", "h.toml", "--out", "o"], &d);
    assert_bad(&o, &["[cell] height, line 4", "-1"]);
    write(
        &d,
        "m.toml",
        "[materials]\nexit = \"air\"\npillar = \"unobtanium\"\n",
    );
    let o = run(&["run", "m.toml", "--out", "o"], &d);
    assert_bad(
        &o,
        &[
            "pillar material",
            "[materials] pillar, line 3",
            "unobtanium",
        ],
    );
}

#[test]
fn propagation_section_values_are_checked_and_unsupported_keys_refused() {
    let d = tmpdir("prop");
    let mk1 =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml")).unwrap();
    for (extra, needle) in [
        (
            "[propagation]\npolarization = \"z\"\n",
            "propagation.polarization",
        ),
        (
            "[propagation]\naperture = \"glass\"\n",
            "propagation.aperture",
        ),
        (
            "[propagation]\nefficiency_radii = []\n",
            "propagation.efficiency_radii",
        ),
        (
            "[propagation]\nefficiency_radii = [-1.0]\n",
            "propagation.efficiency_radii",
        ),
        (
            "[propagation]\nsamples_per_pitch = 1\n",
            "propagation.samples_per_pitch",
        ),
        ("[propagation]\nplanes = [5.0]\n", "propagation.planes"),
        ("[propagation]\nsampels = 4\n", "sampels"),
    ] {
        write(&d, "p.toml", &format!("{mk1}\n{extra}"));
        let o = run(&["reproduce", "p.toml", "--out", "o", "--quiet"], &d);
        assert_bad(&o, &[needle]);
        assert!(!d.join("o/library.h5").exists());
    }
}

#[test]
fn propagation_section_drives_polarisation_and_efficiency_radii() {
    let d = tmpdir("propok");
    let mk1 = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml"))
        .unwrap()
        .replace("diameter = 20.0", "diameter = 4.0")
        .replace("step = 0.001 }", "step = 0.01 }")
        .replace("harmonics = 250", "harmonics = 40")
        .replace("reproduces = \"mk1\"", "");
    write(
        &d,
        "p.toml",
        &format!("{mk1}\n[propagation]\npolarization = \"y\"\nefficiency_radii = [2.0]\nsamples_per_pitch = 5\n"),
    );
    let o = run(&["reproduce", "p.toml", "--out", "o"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o/report.json")).unwrap()).unwrap();
    let f = &r["focus"];
    assert_eq!(f["lens"]["polarization"], "y", "{}", f["lens"]);
    let keys: Vec<&String> = f["efficiency"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with("radius"))
        .collect();
    assert_eq!(keys, ["incident_r2", "transmitted_r2"], "{keys:?}");
    // 5 samples per 0.22 µm pitch
    let dx = f["grid"]["dx_um"].as_f64().unwrap();
    assert!((dx - 0.044).abs() < 1e-9, "dx {dx}");
    // the design does not say it reproduces the study: no study column, no comparison
    let md = std::fs::read_to_string(d.join("o/report.md")).unwrap();
    assert!(!md.contains("| reference study |"), "study column present");
    assert!(!md.contains("Against the study"));
    assert!(md.contains("`incident_r2`"));
    // stdout is a short summary naming the report, not the report
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().count() <= 6, "{out}");
    assert!(out.contains("report.md"), "{out}");
    assert!(temp_files(&d).is_empty(), "{:?}", temp_files(&d));
}

// ---------------------------------------------------------------------------------------------
// 2. files that lie

fn small_library(d: &Path) -> PathBuf {
    write(d, "s.toml", SMALL);
    // the same sweep with a lens, for the layout stage (NA 0.5, 6 µm: f = 5.2 µm)
    write(
        d,
        "sl.toml",
        &format!("{SMALL}[lens]\nna = 0.5\ndiameter = 6.0\npitch = 0.3\n"),
    );
    let o = run(
        &[
            "library",
            "s.toml",
            "-o",
            "lib.h5",
            "--test-solver",
            "--quiet",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    d.join("lib.h5")
}

#[test]
fn a_library_with_unphysical_values_is_rejected_naming_radius_and_pitch() {
    use metalens::io::library_file as store;
    use metalens::library::PhaseLibrary;
    let d = tmpdir("lie");
    let lib_path = small_library(&d);
    let (lib, meta) = PhaseLibrary::load_with_meta(&lib_path).unwrap();
    type Edit = Box<dyn Fn(&mut PhaseLibrary)>;
    let edits: [(&str, Edit, &str); 4] = [
        (
            "power.h5",
            Box::new(|l: &mut PhaseLibrary| l.transmittance[[0, 0, 1, 2, 0]] = 1.5),
            "exceeds 1",
        ),
        (
            "nan.h5",
            Box::new(|l: &mut PhaseLibrary| l.t[[0, 0, 1, 2, 0]].re = f64::NAN),
            "non-finite",
        ),
        (
            "neg.h5",
            Box::new(|l: &mut PhaseLibrary| l.reflectance[[0, 0, 1, 2, 1]] = -0.2),
            "negative",
        ),
        (
            "t.h5",
            Box::new(|l: &mut PhaseLibrary| l.t[[0, 0, 1, 2, 0]] *= 3.0),
            "zeroth order",
        ),
    ];
    for (name, edit, needle) in edits.iter() {
        let mut bad = lib.clone();
        edit(&mut bad);
        let p = d.join(name);
        store::write_library(&p, &bad, &meta).unwrap();
        let o = run(&["library", "info", name], &d);
        // radius index 2 = 0.05 µm, pitch index 1 = 0.3 µm
        assert_bad(&o, &[name, "radius 0.05 µm", "pitch 0.3 µm", needle]);
        // the layout stage refuses it too
        let o = run(
            &[
                "layout",
                "sl.toml",
                "--library",
                name,
                "-o",
                "lay",
                "--quiet",
            ],
            &d,
        );
        assert_bad(&o, &[name, "radius 0.05 µm", "pitch 0.3 µm", needle]);
    }
}

#[test]
fn wrong_kind_truncated_and_foreign_hdf5_files_are_one_line_errors() {
    let d = tmpdir("foreign");
    let lib_path = small_library(&d);
    let bytes = std::fs::read(&lib_path).unwrap();
    // truncated
    std::fs::write(d.join("trunc.h5"), &bytes[..bytes.len() / 2]).unwrap();
    // foreign: not HDF5 at all, and an HDF5 file of another kind (the Lumerical export)
    std::fs::write(d.join("text.h5"), "hello\n").unwrap();
    let o = run(
        &[
            "library", "export", "lib.h5", "--pitch", "0.3", "-o", "lum.h5",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(d.join("empty.h5"), "").unwrap();
    for f in ["trunc.h5", "text.h5", "lum.h5", "empty.h5"] {
        for args in [
            vec!["library", "info", f],
            vec!["propagate", f, "--quiet"],
            vec!["layout", "sl.toml", "--library", f, "-o", "x", "--quiet"],
        ] {
            let o = run(&args, &d);
            assert_bad(&o, &[f]);
        }
    }
    // a library where a layout is expected, and the reverse: wrong kind
    let o = run(&["propagate", "lib.h5", "--quiet"], &d);
    assert_bad(&o, &["lib.h5", "layout"]);
}

// ---------------------------------------------------------------------------------------------
// 3. interrupted and concurrent runs

fn sigint(pid: u32) {
    let st = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// A sweep slow enough to interrupt: 18 cells at 250 ms on one thread.
fn slow_sweep(d: &Path, out: &str) -> std::process::Child {
    write(d, "s.toml", SMALL);
    fake_cli::command(&[
        "library",
        "s.toml",
        "-o",
        out,
        "--test-solver",
        "--test-solver-delay-ms",
        "250",
        "--threads",
        "1",
        "--quiet",
    ])
    .current_dir(d)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

#[test]
fn ctrl_c_saves_says_how_to_resume_exits_130_and_leaves_no_temp_file() {
    let d = tmpdir("sigint");
    let child = slow_sweep(&d, "lib.h5");
    std::thread::sleep(Duration::from_millis(1200));
    sigint(child.id());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.contains("interrupted") && last.contains("saved") && last.contains("resume"),
        "{err}"
    );
    assert!(
        !d.join("lib.h5").exists(),
        "a library from an interrupted sweep"
    );
    assert!(d.join("lib.h5.ckpt").exists(), "{err}");
    assert!(temp_files(&d).is_empty(), "{:?}", temp_files(&d));
    assert!(!d.join(".lib.h5.lock").exists(), "lock left behind");
    // the rerun resumes and finishes
    let o = run(&["library", "s.toml", "-o", "lib.h5", "--test-solver"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("(0 resumed"), "{out}");
    assert!(!d.join("lib.h5.ckpt").exists());
}

#[test]
fn ctrl_c_before_the_first_cell_leaves_no_checkpoint() {
    let d = tmpdir("sigint0");
    write(d.as_path(), "s.toml", SMALL);
    let child = fake_cli::command(&[
        "library",
        "s.toml",
        "-o",
        "lib.h5",
        "--test-solver",
        "--test-solver-delay-ms",
        "3000",
        "--threads",
        "1",
        "--quiet",
    ])
    .current_dir(&d)
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sigint(child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing saved"), "{}", stderr(&o));
    assert!(!d.join("lib.h5.ckpt").exists());
}

#[test]
fn a_second_process_on_the_same_output_refuses_and_a_stale_lock_is_taken_over() {
    let d = tmpdir("lock");
    let child = slow_sweep(&d, "lib.h5");
    std::thread::sleep(Duration::from_millis(600));
    let o = run(&["library", "s.toml", "-o", "lib.h5", "--test-solver"], &d);
    assert_bad(
        &o,
        &[
            "lib.h5",
            "another metalens process",
            &child.id().to_string(),
        ],
    );
    sigint(child.id());
    let _ = child.wait_with_output().unwrap();
    // a lock whose process is gone (kill -9) is taken over with a note
    std::fs::write(d.join(".lib.h5.lock"), "2147483000\n").unwrap();
    let o = run(&["library", "s.toml", "-o", "lib.h5", "--test-solver"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("stale lock"), "{}", stderr(&o));
    assert!(!d.join(".lib.h5.lock").exists());
}

#[test]
fn a_failed_write_names_the_file_and_leaves_no_half_result() {
    // a file-size limit stands in for a full disk: every write past 8 KiB fails (EFBIG)
    let d = tmpdir("full");
    write(&d, "s.toml", SMALL);
    let o = fake_cli::in_shell(
        "trap '' XFSZ; ulimit -f 16",
        &[
            "library",
            "s.toml",
            "-o",
            "lib.h5",
            "--test-solver",
            "--quiet",
        ],
    )
    .current_dir(&d)
    .output()
    .unwrap();
    let err = stderr(&o);
    if o.status.success() {
        // the library fitted under the limit: nothing to test on this file system
        return;
    }
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("lib.h5"), "{err}");
    assert!(!d.join("lib.h5").exists());
    assert!(temp_files(&d).is_empty(), "{:?}", temp_files(&d));
}

#[test]
fn the_default_folder_of_a_builtin_is_not_overwritten_by_a_file_of_the_same_name() {
    let d = tmpdir("names");
    std::fs::create_dir_all(d.join("out/mk1")).unwrap();
    std::fs::write(d.join("out/mk1/.design-source"), "built-in design mk1").unwrap();
    std::fs::create_dir_all(d.join("sub")).unwrap();
    let mk1 =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml")).unwrap();
    write(&d, "sub/mk1.toml", &mk1);
    let o = run(&["reproduce", "sub/mk1.toml", "--quiet"], &d);
    assert_bad(&o, &["out/mk1", "built-in design mk1", "--out"]);
    // a file in the working directory named like a built-in is used by every subcommand
    write(&d, "mk2", SMALL);
    let o = run(
        &["library", "mk2", "-o", "x.h5", "--test-solver", "--quiet"],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (lib, _) = metalens::library::PhaseLibrary::load_with_meta(&d.join("x.h5")).unwrap();
    assert_eq!(lib.pitches, vec![0.2, 0.3], "the built-in was used");
    assert!(stderr(&o).contains("not the built-in"), "{}", stderr(&o));
}

#[test]
fn a_study_lens_folder_is_reused_only_when_its_completion_marker_matches() {
    let d = tmpdir("marker");
    let design = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/designs/pitch-sweep.toml"
    ))
    .unwrap()
    .replace(
        "pitches = [0.18, 0.22, 0.25, 0.30, 0.35, 0.40]",
        "pitches = [0.3]",
    )
    .replace("stop = 0.185, count = 100", "stop = 0.13, count = 12")
    .replace("harmonics = 250", "harmonics = 40")
    .replace("diameter = 20.0", "diameter = 5.0")
    .replace("nas = [0.9, 0.99]", "nas = [0.8]");
    write(&d, "st.toml", &design);
    let reused = |d: &Path| -> bool {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("o/report.json")).unwrap())
                .unwrap();
        r["lenses"][0]["reused"].as_bool().unwrap()
    };
    let o = run(&["run", "st.toml", "--out", "o", "--quiet"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    let lens = d.join("o/lenses/na0.80-p0.300");
    assert!(lens.join(".complete").exists());
    let o = run(&["run", "st.toml", "--out", "o", "--quiet"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(reused(&d), "a complete lens was recomputed");
    // a run that died after propagate.json but before its figures (full disk): no marker
    std::fs::remove_file(lens.join(".complete")).unwrap();
    std::fs::remove_file(lens.join("focus/focal_plane.png")).unwrap();
    let o = run(&["run", "st.toml", "--out", "o", "--quiet"], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!reused(&d), "an incomplete lens folder was reused");
    assert!(lens.join("focus/focal_plane.png").exists() && lens.join(".complete").exists());
    assert!(temp_files(&d).is_empty(), "{:?}", temp_files(&d));
    // a second run on the same folder while the first holds it refuses
    std::fs::write(d.join("o/.metalens.lock"), "1\n").unwrap();
    let o = run(&["run", "st.toml", "--out", "o", "--quiet"], &d);
    assert_bad(&o, &["another metalens process", "pid 1"]);
    std::fs::remove_file(d.join("o/.metalens.lock")).unwrap();
}
