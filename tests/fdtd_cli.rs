//! `metalens cell --solver fdtd` as a user runs it: the same JSON fields as the RCWA path and
//! a one-line refusal (exit 2) of a grid too coarse for the pillar gap.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .arg("cell")
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const CELL: [&str; 8] = [
    "--pitch",
    "0.22",
    "--radius",
    "0.06",
    "--height",
    "1.0",
    "--pillar-index",
    "2.74",
];

#[test]
fn fdtd_json_has_the_rcwa_fields_and_agrees_with_rcwa() {
    let mut a = CELL.to_vec();
    a.extend(["--solver", "fdtd", "--resolution", "30", "--json"]);
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    let f: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut b = CELL.to_vec();
    b.extend(["--json", "--harmonics", "200"]);
    let (code, out, err) = run(&b);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "t",
        "r",
        "transmittance",
        "reflectance",
        "t_abs",
        "t_phase_rad",
        "energy_balance",
    ] {
        assert!(f.get(key).is_some() && r.get(key).is_some(), "{key}");
    }
    assert_eq!(f["solver"], "fdtd");
    let eb = f["energy_balance"].as_f64().unwrap();
    assert!((eb - 1.0).abs() < 1e-3, "R + T = {eb}");
    // 30 px/µm: |t| within 2 % of RCWA (measured 0.6–0.7 % across the library)
    let (ta, tr) = (f["t_abs"].as_f64().unwrap(), r["t_abs"].as_f64().unwrap());
    assert!((ta - tr).abs() < 0.02 * tr, "fdtd |t| {ta} vs rcwa {tr}");
}

#[test]
fn too_coarse_a_grid_is_refused() {
    let (code, _out, err) = run(&[
        "--pitch",
        "0.22",
        "--radius",
        "0.097",
        "--height",
        "1.0",
        "--solver",
        "fdtd",
        "--resolution",
        "10",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("needs") && err.contains("px/µm"), "{err}");
}
