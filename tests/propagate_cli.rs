//! `metalens propagate` end to end: the JSON contract of issue 5 and the bad-input exits.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .arg("propagate")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const IDEAL: [&str; 10] = [
    "--ideal",
    "--na",
    "0.9",
    "--diameter",
    "25.3",
    "--wavelength",
    "0.633",
    "--polarization",
    "x",
    "--json",
];

#[test]
fn ideal_lens_json_contract() {
    let mut a: Vec<&str> = IDEAL.to_vec();
    a.extend(["--planes", "40", "--quiet"]);
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let num = |path: &[&str]| -> f64 {
        let mut x = &v;
        for p in path {
            x = &x[*p];
        }
        x.as_f64()
            .unwrap_or_else(|| panic!("{path:?} missing: {x}"))
    };
    for q in ["transverse", "total", "sz"] {
        for ax in ["x_um", "y_um"] {
            let w = num(&["fwhm", q, ax]);
            // a diffraction-limited NA 0.9 spot: between 0.3 and 1.0 λ
            assert!(w > 0.3 * 0.633 && w < 0.633, "{q} {ax} {w}");
        }
    }
    for k in [
        "incident_r1.5",
        "incident_r3",
        "transmitted_r1.5",
        "transmitted_r3",
    ] {
        let e = num(&["efficiency", k]);
        assert!(e > 0.3 && e < 1.3, "{k} {e}");
    }
    assert!(num(&["efficiency", "transmitted_r3"]) > num(&["efficiency", "transmitted_r1.5"]));
    assert_eq!(num(&["strehl"]), 1.0);
    let f = num(&["lens", "focal_length_um"]);
    assert!((num(&["focal_plane_z_um"]) - f - num(&["focal_shift_um"])).abs() < 1e-9);
    assert!(num(&["transmission_efficiency"]) > 0.9);
    // transverse FWHM of the ideal NA 0.9 lens ≈ 0.51 λ (scalar Airy 0.5145 λ/NA = 0.572 λ
    // is for a uniform pupil; a flat lens weights the rim more)
    let wt = num(&["fwhm", "transverse", "x_lambda"]);
    assert!(wt > 0.45 && wt < 0.6, "{wt}");
}

fn expect_exit2(args: &[&str], needle: &str) {
    let (code, _, err) = run(args);
    assert_eq!(code, 2, "args {args:?}: {err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one-line error expected: {err}"
    );
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn plane_behind_the_lens_is_rejected() {
    let mut a = IDEAL.to_vec();
    a.extend(["--z", "-2"]);
    expect_exit2(&a, "behind the lens");
    let mut a = IDEAL.to_vec();
    a.extend(["--z-start", "-1"]);
    expect_exit2(&a, "behind the lens");
}

#[test]
fn coarse_grid_names_the_needed_spacing() {
    let mut a = IDEAL.to_vec();
    a.extend(["--dx", "0.5"]);
    expect_exit2(&a, "0.3517 µm");
}

#[test]
fn na_at_or_above_the_exit_index_is_rejected() {
    expect_exit2(
        &[
            "--ideal",
            "--na",
            "1.0",
            "--diameter",
            "25.3",
            "--wavelength",
            "0.633",
        ],
        "n_exit = 1",
    );
    expect_exit2(
        &[
            "--ideal",
            "--na",
            "1.2",
            "--diameter",
            "25.3",
            "--wavelength",
            "0.633",
            "--n-exit",
            "1.1",
        ],
        "NA",
    );
}

#[test]
fn layout_file_of_the_wrong_kind_or_missing() {
    let dir = std::env::temp_dir().join(format!("metalens-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("not_a_layout.h5");
    std::fs::write(&p, b"this is not an HDF5 layout").unwrap();
    expect_exit2(&[p.to_str().unwrap()], "not_a_layout.h5");
    expect_exit2(&[dir.join("missing.h5").to_str().unwrap()], "missing.h5");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn out_dir_gets_figures_and_json() {
    let dir = std::env::temp_dir().join(format!("metalens-prop-out-{}", std::process::id()));
    let mut a = IDEAL.to_vec();
    a.extend(["--planes", "30", "--quiet", "--out", dir.to_str().unwrap()]);
    let (code, _, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    for f in [
        "propagate.json",
        "focal_plane.png",
        "focal_plane.svg",
        "cut_x.png",
        "cut_y.svg",
        "xz_section.png",
        "on_axis.svg",
    ] {
        let m = std::fs::metadata(dir.join(f)).unwrap_or_else(|_| panic!("{f} missing"));
        assert!(m.len() > 1000, "{f} too small");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn forced_small_grid_warns_about_aliasing() {
    // the automatic grid for this lens is 324² (2× the 162-sample aperture); 200² must warn
    let mut a = IDEAL.to_vec();
    a.extend(["--planes", "20", "--quiet", "--fft-size", "200"]);
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: FFT grid 200²") && err.contains("324²"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    // smaller than the aperture itself: an error, exit 2
    let mut a = IDEAL.to_vec();
    a.extend(["--fft-size", "100"]);
    expect_exit2(&a, "162 samples");
}
