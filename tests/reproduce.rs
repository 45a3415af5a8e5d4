//! The whole pipeline (library → layout → propagation → metrics) on a reduced Mk1: an 8 µm
//! lens at NA 0.9 with a coarse library, checked against physics rather than golden numbers.

use std::process::Command;

#[test]
fn reduced_mk1_end_to_end() {
    let dir = std::env::temp_dir().join(format!("metalens-reproduce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let design = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml"))
        .unwrap()
        .replace("diameter = 20.0", "diameter = 8.0")
        .replace("step = 0.001 }", "step = 0.005 }")
        .replace("harmonics = 200", "harmonics = 100");
    let path = dir.join("mk1-small.toml");
    std::fs::write(&path, design).unwrap();
    let out = dir.join("out");
    let st = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args([
            "reproduce",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    for f in [
        "library.h5",
        "layout.h5",
        "layout.gds",
        "report.md",
        "report.json",
        "focus/propagate.json",
        "focus/focal_plane.png",
    ] {
        assert!(out.join(f).exists(), "missing {f}");
    }
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let f = &r["focus"];
    let ideal = &f["ideal"];
    let g = |v: &serde_json::Value, a: &str, b: &str| v[a][b].as_f64().unwrap();
    // the pillars can only lose focusing power against the ideal lens of the same aperture
    assert!(g(f, "efficiency", "incident_r3") < g(ideal, "efficiency", "incident_r3"));
    assert!(
        g(f, "efficiency", "incident_r3") > 0.2,
        "a working lens focuses a good part of the light"
    );
    // the spot is set by the NA: within 5 % of the ideal lens's (the pillars perturb the
    // aperture field, not its extent)
    let (d, i) = (
        g(&f["fwhm"], "transverse", "x_um"),
        g(&ideal["fwhm"], "transverse", "x_um"),
    );
    assert!((d / i - 1.0).abs() < 0.05, "FWHM {d} vs ideal {i}");
    // energy bookkeeping: transmitted power ≤ incident power for the designed lens (the
    // library cells are lossless and conserve R + T = 1, so T ≤ 1 per cell)
    let te = f["transmission_efficiency"].as_f64().unwrap();
    assert!(te > 0.5 && te <= 1.0 + 1e-6, "transmission efficiency {te}");
    let s = f["strehl"].as_f64().unwrap();
    assert!(s > 0.0 && s < 1.0);
}
