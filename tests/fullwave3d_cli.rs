//! `metalens fullwave LAYOUT.h5`: a 2 µm pillar lens laid out by `metalens run`, solved by the
//! 3-D FDTD and set beside the LPA of the same layout and the ideal lens, through the JSON
//! contract of issue 11; and its bad input.

use std::path::Path;
use std::process::Command;

fn metalens(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args(args)
        .output()
        .unwrap()
}

/// A 2 µm NA 0.6 lens of the Mk1 materials (SRN pillars 1 µm tall at 0.22 µm pitch on glass),
/// with a coarse, quick library: the layout file every full-wave check starts from.
fn small_layout(dir: &Path) -> std::path::PathBuf {
    let design = "name = \"fw3d-small\"\n\
        [source]\nwavelength = 0.685\n\
        [materials]\npillar = \"srn\"\nsubstrate = \"sio2\"\nexit = \"air\"\n\
        [cell]\nlattice = \"square\"\nheight = 1.0\nmin_gap = 0.03\n\
        [library]\npitches = [0.22]\nradius = { start = 0.03, stop = 0.095, step = 0.005 }\nharmonics = 60\n\
        [lens]\nna = 0.6\ndiameter = 2.0\npitch = 0.22\n";
    let path = dir.join("small.toml");
    std::fs::write(&path, design).unwrap();
    let out = dir.join("design");
    let st = metalens(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    out.join("layout.h5")
}

#[test]
fn a_layout_solved_by_fdtd_beside_the_lpa_and_the_ideal_lens() {
    let dir = std::env::temp_dir().join(format!("metalens-fw3d-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let layout = small_layout(&dir);
    let out = dir.join("fw");
    let nf = dir.join("nf.h5");
    let st = metalens(&[
        "fullwave",
        layout.to_str().unwrap(),
        "--resolution",
        "20",
        "--out",
        out.to_str().unwrap(),
        "--save-near-field",
        nf.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    // the contract: three blocks with the fields of `propagate --json`, and the run facts
    for block in ["fullwave", "lpa", "ideal"] {
        for key in ["transmitted_r3", "incident_r3", "transmitted_r1.5"] {
            assert!(doc[block]["efficiency"][key].is_f64(), "{block}.{key}");
        }
        assert!(doc[block]["fwhm"]["transverse"]["x_um"].is_f64(), "{block}");
        assert!(doc[block]["transmission_efficiency"].is_f64(), "{block}");
    }
    assert_eq!(doc["resolution_px_per_um"].as_f64(), Some(20.0));
    assert!(doc["wall_s"].as_f64().unwrap() > 0.0);
    assert!(doc["peak_memory_bytes"].as_u64().unwrap() > 0);
    // lenses run without the bulk dispersion correction (fdtd::lens), and the file says so
    assert_eq!(doc["fdtd"]["dispersion_correction"].as_bool(), Some(false));
    let fw = &doc["fullwave"];
    let ideal = &doc["ideal"];
    let eff = |b: &serde_json::Value, k: &str| b["efficiency"][k].as_f64().unwrap();
    // physics: the real pillars focus, less efficiently than the ideal lens of the same NA and
    // size under the incident definition (which the ideal bounds: it transmits all light)
    assert!(eff(fw, "incident_r3") > 0.2, "{fw}");
    assert!(eff(fw, "incident_r3") < eff(ideal, "incident_r3"));
    let t_fw = fw["transmission_efficiency"].as_f64().unwrap();
    assert!(t_fw > 0.3 && t_fw < 1.0, "T {t_fw}");
    // the spot: within 25 % of the ideal's diffraction-limited width (a 2 µm NA 0.6 lens
    // with ~9 pillars across is far from ideal, but it is a focus, not a smear)
    let w = |b: &serde_json::Value| b["fwhm"]["transverse"]["x_um"].as_f64().unwrap();
    assert!(
        (w(fw) / w(ideal) - 1.0).abs() < 0.25,
        "{} vs {}",
        w(fw),
        w(ideal)
    );
    // two independent measures of the transmitted power agree: the solver's own flux through
    // its monitor and the E×H flux of the exported near field (1 %: the half-cell stagger of
    // E and H, resolved by averaging, see src/fdtd)
    let t_solver = doc["polarizations"][0]["fdtd_transmittance"]
        .as_f64()
        .unwrap();
    assert!((t_solver / t_fw - 1.0).abs() < 0.01, "{t_solver} vs {t_fw}");
    assert!(out.join("fullwave.json").exists());
    // the near field written goes back through `propagate --near-field` to the same numbers
    let st = metalens(&[
        "propagate",
        "--near-field",
        nf.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let back: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let a = eff(fw, "incident_r3");
    let b = eff(&back, "incident_r3");
    // same field, same grid, same code: rounding of the file's f64 storage only
    assert!((a - b).abs() < 1e-9 * a, "{a} vs {b}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_fullwave_input_is_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("metalens-fw3d-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let layout = small_layout(&dir);
    let l = layout.to_str().unwrap();
    for (args, needle) in [
        (vec!["fullwave", l, "--pol", "te"], "--pol"),
        (vec!["fullwave", l, "--resolution", "2"], "resolution"),
        (vec!["fullwave", l, "--outside", "glass"], "--outside"),
        (
            vec!["fullwave", l, "--pillar-height", "1.0"],
            "--pillar-index",
        ),
        // a layout whose pillars differ from the ones asked for
        (
            vec![
                "fullwave",
                l,
                "--pillar-height",
                "0.8",
                "--pillar-index",
                "srn",
            ],
            "designed for pillars 1 µm tall",
        ),
        // a near-field plane inside the pillars, or beyond the focus
        (
            vec!["fullwave", l, "--monitor-height", "-0.1"],
            "monitor height",
        ),
        (
            vec!["fullwave", l, "--monitor-height", "5"],
            "--monitor-height",
        ),
        // a grid too coarse for the smallest gap says the resolution it needs
        (
            vec!["fullwave", l, "--resolution", "5"],
            "px/µm (half a cell across it)",
        ),
        // a run that would not fit in memory is refused with its estimate, before any step
        (vec!["fullwave", l, "--resolution", "400"], "GB"),
    ] {
        let st = metalens(&args);
        let err = String::from_utf8_lossy(&st.stderr);
        assert_eq!(st.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `metalens fullwave DESIGN.toml` for a 2-D pillar design (= `reproduce DESIGN --fullwave`):
/// library, layout, LPA focus and the FDTD of the laid-out lens in one folder, the full-wave
/// column in report.md and report.json beside the LPA and the ideal lens.
#[test]
fn a_2d_design_gets_a_fullwave_column() {
    let dir = std::env::temp_dir().join(format!("metalens-fw3d-design-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    small_layout(&dir);
    let design = dir.join("small.toml");
    let out = dir.join("fw");
    let st = metalens(&[
        "fullwave",
        design.to_str().unwrap(),
        "--resolution",
        "20",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let fw = &report["fullwave"];
    assert_eq!(fw["resolution_px_per_um"].as_f64(), Some(20.0));
    for block in ["fullwave", "lpa", "ideal"] {
        for key in ["incident_r3", "transmitted_r3"] {
            let v = fw[block]["efficiency"][key].as_f64().unwrap();
            assert!(v > 0.0 && v < 1.0, "{block}.{key} {v}");
        }
    }
    // the LPA block of the full-wave record is the report's own LPA focus
    let (a, b) = (
        fw["lpa"]["efficiency"]["transmitted_r3"].as_f64().unwrap(),
        report["focus"]["efficiency"]["transmitted_r3"]
            .as_f64()
            .unwrap(),
    );
    assert!((a / b - 1.0).abs() < 0.02, "{a} vs {b}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Full-wave check (3-D FDTD, 20"), "{md}");
    assert!(out.join("focus-fullwave").is_dir());
    // options of a layout file are refused with a design file; a study is refused
    for (args, needle) in [
        (
            vec!["fullwave", design.to_str().unwrap(), "--pol", "y"],
            "--pol",
        ),
        (vec!["reproduce", "pitch-sweep", "--fullwave"], "--fullwave"),
        (
            vec!["reproduce", design.to_str().unwrap(), "--resolution", "30"],
            "--fullwave",
        ),
    ] {
        let st = metalens(&args);
        let err = String::from_utf8_lossy(&st.stderr);
        assert_eq!(st.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
