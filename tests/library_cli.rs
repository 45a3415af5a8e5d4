//! `metalens library` from the command line: bad input gives one line and exit code 2;
//! an interrupted sweep resumes from its checkpoint. With `--test-solver` the RCWA solve is
//! replaced by the analytic stand-in of tests/fake_cli (this test binary re-executed with the
//! stand-in injected; the shipped binary has no test flag) so that these tests stay fast and
//! do not depend on the solver.

mod fake_cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_metalens"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-clitest-{tag}-{}", std::process::id()));
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

/// Exit code 2 and exactly one line on stderr that mentions `needle`.
fn assert_bad(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

const SMALL: &str = "[library]\npitches = [0.2, 0.3]\nradius = { start = 0.03, stop = 0.12, step = 0.01 }\nharmonics = 20\n";

#[test]
fn bad_design_files_are_one_line_errors_with_exit_code_2() {
    let d = tmpdir("bad");
    let cases = [
        ("unknown.toml", "[cell]\nhieght = 0.8\n", "hieght"),
        ("section.toml", "[libary]\npitches = [0.3]\n", "libary"),
        (
            "empty.toml",
            "[library]\npitches = [0.3]\nradius = { start = 0.1, stop = 0.05, step = 0.01 }\n",
            "empty range",
        ),
        ("nopitch.toml", "[library]\npitches = []\n", "empty list"),
        (
            "outside.toml",
            "[library]\npitches = [0.3]\nradius = { start = 0.05, stop = 0.2, count = 10 }\n",
            "half the largest pitch",
        ),
        (
            "material.toml",
            "[materials]\npillar = \"unobtainium\"\n",
            "unobtainium",
        ),
        (
            "wavelength.toml",
            "[source]\nwavelength = -1.0\n",
            "wavelength",
        ),
    ];
    for (name, text, needle) in cases {
        std::fs::write(d.join(name), text).unwrap();
        assert_bad(
            &run(&["library", name, "-o", "x.h5", "--test-solver"], &d),
            needle,
        );
    }
    std::fs::write(d.join("ok.toml"), SMALL).unwrap();
    assert_bad(
        &run(
            &[
                "library",
                "ok.toml",
                "-o",
                "x.h5",
                "--test-solver",
                "--shard",
                "3/2",
            ],
            &d,
        ),
        "shard",
    );
    assert_bad(
        &run(
            &[
                "library",
                "ok.toml",
                "-o",
                "x.h5",
                "--test-solver",
                "--radius-max",
                "0.2",
            ],
            &d,
        ),
        "radius range",
    );
    assert_bad(
        &run(&["library", "missing.toml", "-o", "x.h5"], &d),
        "missing.toml",
    );
    assert!(!d.join("x.h5").exists());
    // a valid design with a pitch above λ/n_pillar (0.3 > 0.685/2.74 µm): one warning, after
    // every check (the bad shard above stayed one line), none with --quiet
    for (quiet, count, out) in [(false, 1, "w1.h5"), (true, 0, "w0.h5")] {
        let mut args = vec!["library", "ok.toml", "-o", out, "--test-solver"];
        if quiet {
            args.push("--quiet");
        }
        let o = run(&args, &d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        let lines = err
            .lines()
            .filter(|l| l.starts_with("warning: library: at pitch 0.3 µm the lattice rows"))
            .count();
        assert_eq!(lines, count, "quiet {quiet}: {err}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn plot_info_merge_refuse_corrupt_and_foreign_files() {
    let d = tmpdir("files");
    std::fs::write(d.join("ok.toml"), SMALL).unwrap();
    std::fs::write(
        d.join("other.toml"),
        SMALL.replace("harmonics = 20", "harmonics = 21"),
    )
    .unwrap();
    let o = run(
        &[
            "library",
            "ok.toml",
            "-o",
            "lib.h5",
            "--test-solver",
            "--quiet",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(d.join("text.h5"), "not hdf5").unwrap();
    let bytes = std::fs::read(d.join("lib.h5")).unwrap();
    std::fs::write(d.join("cut.h5"), &bytes[..bytes.len() / 3]).unwrap();
    let o = run(
        &[
            "library", "export", "lib.h5", "--pitch", "0.3", "-o", "lum.h5",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for verb in ["plot", "info"] {
        assert_bad(&run(&["library", verb, "text.h5"], &d), "text.h5");
        assert_bad(&run(&["library", verb, "cut.h5"], &d), "cut.h5");
        assert_bad(
            &run(&["library", verb, "lum.h5"], &d),
            "not a metalens phase library",
        );
    }
    // shards
    for (design, k, out) in [
        ("ok.toml", "1/2", "a.h5"),
        ("ok.toml", "2/2", "b.h5"),
        ("other.toml", "2/2", "c.h5"),
    ] {
        let o = run(
            &[
                "library",
                design,
                "-o",
                out,
                "--test-solver",
                "--quiet",
                "--shard",
                k,
            ],
            &d,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_bad(
        &run(&["library", "merge", "a.h5", "c.h5", "-o", "m.h5"], &d),
        "other settings",
    );
    assert_bad(
        &run(&["library", "merge", "a.h5", "lib.h5", "-o", "m.h5"], &d),
        "not a shard",
    );
    assert_bad(
        &run(&["library", "merge", "a.h5", "text.h5", "-o", "m.h5"], &d),
        "text.h5",
    );
    assert_bad(
        &run(&["library", "merge", "a.h5", "-o", "m.h5"], &d),
        "missing shard",
    );
    assert_bad(&run(&["library", "plot", "a.h5"], &d), "merge");
    assert!(!d.join("m.h5").exists());
    let o = run(&["library", "merge", "a.h5", "b.h5", "-o", "m.h5"], &d);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["library", "info", "m.h5"], &d);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("valid cells"), "{text}");
    let o = run(&["library", "plot", "m.h5", "--out-dir", "fig"], &d);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.join("fig/m_coverage.svg").exists() && d.join("fig/m_maps.png").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_interrupted_sweep_resumes_from_its_checkpoint() {
    let d = tmpdir("resume");
    std::fs::write(d.join("ok.toml"), SMALL).unwrap();
    // 2 pitches x 10 radii, 16 fit; 150 ms per cell on one thread: about 2.4 s in all
    let mut child = fake_cli::command(&[
        "library",
        "ok.toml",
        "-o",
        "lib.h5",
        "--test-solver",
        "--test-solver-delay-ms",
        "150",
        "--threads",
        "1",
        "--quiet",
    ])
    .current_dir(&d)
    .spawn()
    .unwrap();
    let ck = d.join("lib.h5.ckpt");
    let lines = || {
        std::fs::read_to_string(&ck)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let t0 = std::time::Instant::now();
    while lines() < 4 && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Ctrl-C: SIGINT
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let st = child.wait().unwrap();
    assert!(!st.success());
    assert!(
        !d.join("lib.h5").exists(),
        "no output file from an interrupted sweep"
    );
    let saved = lines() - 1; // minus the header
    assert!((3..16).contains(&saved), "{saved} cells in the checkpoint");
    let o = run(&["library", "ok.toml", "-o", "lib.h5", "--test-solver"], &d);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains(&format!("{} cells solved", 16 - saved))
            && out.contains(&format!("({saved} resumed")),
        "{out}"
    );
    assert!(!ck.exists(), "checkpoint removed after success");
    // identical to an uninterrupted run
    let o = run(
        &[
            "library",
            "ok.toml",
            "-o",
            "fresh.h5",
            "--test-solver",
            "--quiet",
        ],
        &d,
    );
    assert!(o.status.success());
    let a = metalens::library::PhaseLibrary::load(&d.join("lib.h5")).unwrap();
    let b = metalens::library::PhaseLibrary::load(&d.join("fresh.h5")).unwrap();
    assert_eq!(a.valid, b.valid);
    for (x, y) in a.t.iter().zip(b.t.iter()) {
        assert!(x == y || (x.re.is_nan() && y.re.is_nan()));
    }
    std::fs::remove_dir_all(&d).unwrap();
}
