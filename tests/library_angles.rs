//! Angular libraries: the incidence angle as a sweep axis (issue 15).
//!
//! - an angular sweep equals `metalens cell` at each incidence (same harmonics) to rounding;
//! - the HDF5 round trip of the angle axes, a format-1 file (before the axes) read as θ = 0;
//! - the layout path refuses a library without θ = 0, and bad angles are refused with one line
//!   naming the value and the range, exit 2.

use metalens::cell::LatticeKind;
use metalens::io::library_file::{read_angular_library, read_library, write_angular_library};
use metalens::library::{
    AngularLibrary, LibraryMeta, LibraryPolarization, PhaseLibrary, SweepSettings,
};
use metalens::C64;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-angles-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn metalens(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const TINY: &str = r#"
[source]
wavelength = 0.685
[materials]
pillar = "srn"
substrate = "sio2"
exit = "air"
[cell]
lattice = "square"
height = 0.8
min_gap = 0.03
[library]
pitches = [0.3]
radius = { start = 0.08, stop = 0.11, count = 2 }
harmonics = 60
"#;

fn c64(v: &serde_json::Value) -> C64 {
    C64::new(v["re"].as_f64().unwrap(), v["im"].as_f64().unwrap())
}

/// `metalens cell` at one incidence: (t_xx, t_yy from the Jones matrix, T, R) for `pol` input.
fn cell(radius: f64, theta: f64, phi: f64, pol: &str) -> (C64, C64, f64, f64) {
    let (r, th, ph) = (radius.to_string(), theta.to_string(), phi.to_string());
    let (code, out, err) = metalens(&[
        "cell",
        "--wavelength",
        "0.685",
        "--pitch",
        "0.3",
        "--radius",
        &r,
        "--height",
        "0.8",
        "--pillar-index",
        "srn",
        "--incidence-index",
        "sio2",
        "--exit-index",
        "air",
        "--harmonics",
        "60",
        "--theta-deg",
        &th,
        "--phi-deg",
        &ph,
        "--polarization",
        pol,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    (
        c64(&v["jones_t"][0][0]),
        c64(&v["jones_t"][1][1]),
        v["transmittance"].as_f64().unwrap(),
        v["reflectance"].as_f64().unwrap(),
    )
}

#[test]
fn angular_sweep_equals_single_cell_solves() {
    let d = tmp("sweep");
    let design = d.join("d.toml");
    std::fs::write(&design, TINY).unwrap();
    let lib = d.join("lib.h5");
    // 2 θ × 1 φ, from the command line; φ = 30° takes the full basis off normal incidence
    let (code, _, err) = metalens(&[
        "library",
        design.to_str().unwrap(),
        "-o",
        lib.to_str().unwrap(),
        "--quiet",
        "--incidence-theta-deg",
        "0,20",
        "--incidence-phi-deg",
        "30",
    ]);
    assert_eq!(code, 0, "{err}");
    let (ang, meta) = read_angular_library(&lib).unwrap();
    assert_eq!(ang.incidence_theta_deg, vec![0.0, 20.0]);
    assert_eq!(ang.incidence_phi_deg, vec![30.0]);
    assert_eq!(meta.settings.incidence_theta_deg, vec![0.0, 20.0]);
    let mut compared = 0;
    for (it, &theta) in ang.incidence_theta_deg.iter().enumerate() {
        let l = ang.slice(it, 0);
        for (ir, &radius) in l.radii.iter().enumerate() {
            assert!(l.valid[[0, 0, 0, ir]]);
            let (txx, tyy, tx, rx) = cell(radius, theta, 30.0, "x");
            let (_, _, ty, ry) = cell(radius, theta, 30.0, "y");
            // the same plan, paths and harmonics: equal to rounding (1e-12 on O(1) numbers)
            let close = |a: C64, b: C64| (a - b).norm() <= 1e-12;
            assert!(close(l.t[[0, 0, 0, ir, 0]], txx), "θ {theta}, r {radius}");
            assert!(close(l.t[[0, 0, 0, ir, 1]], tyy), "θ {theta}, r {radius}");
            assert!((l.transmittance[[0, 0, 0, ir, 0]] - tx).abs() <= 1e-12);
            assert!((l.reflectance[[0, 0, 0, ir, 0]] - rx).abs() <= 1e-12);
            if theta > 0.0 {
                // off normal incidence the y powers are those of a y solve, not copies of x
                assert!((l.transmittance[[0, 0, 0, ir, 1]] - ty).abs() <= 1e-12);
                assert!((l.reflectance[[0, 0, 0, ir, 1]] - ry).abs() <= 1e-12);
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 4);
    // the oblique slice differs from normal incidence (the angle reached the solver)
    assert!(
        (ang.slice(0, 0).t[[0, 0, 0, 0, 0]] - ang.slice(1, 0).t[[0, 0, 0, 0, 0]]).norm() > 1e-3
    );
    // the layout path reads the θ = 0 slice
    let (l0, _) = read_library(&lib).unwrap();
    assert_eq!(l0.t, ang.slice(0, 0).t);
    // `library info` lists the angle axes
    let (code, out, err) = metalens(&["library", "info", lib.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("incidence θ (deg): [0.0, 20.0]"), "{out}");
    assert!(out.contains("incidence φ (deg): [30.0]"), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

fn synthetic(theta: &[f64], phi: &[f64]) -> (AngularLibrary, LibraryMeta) {
    let mut slices = Vec::new();
    for (it, &th) in theta.iter().enumerate() {
        for (ip, &ph) in phi.iter().enumerate() {
            let mut l = PhaseLibrary::empty(
                vec![0.685],
                vec![0.8],
                vec![0.3],
                vec![0.05, 0.08, 0.14],
                LatticeKind::Square,
                1.0,
                60,
            );
            for ir in 0..2 {
                l.valid[[0, 0, 0, ir]] = true;
                for pol in 0..2 {
                    let a = 0.5 + 0.1 * ir as f64 + 0.01 * pol as f64;
                    l.t[[0, 0, 0, ir, pol]] = C64::from_polar(a, 0.1 * th + 0.01 * ph + ir as f64);
                    l.transmittance[[0, 0, 0, ir, pol]] = a * a + 0.01 * (it + ip) as f64;
                    l.reflectance[[0, 0, 0, ir, pol]] = 0.1;
                }
            }
            slices.push(l);
        }
    }
    let mut meta = LibraryMeta::minimal(&slices[0]);
    meta.settings.pillar = "srn".into();
    meta.settings.substrate = "air".into();
    meta.settings.exit = "air".into();
    meta.settings.polarization = LibraryPolarization::Both;
    meta.settings.incidence_theta_deg = theta.to_vec();
    meta.settings.incidence_phi_deg = phi.to_vec();
    let computed = slices.iter().map(|l| l.valid.clone()).collect();
    (
        AngularLibrary {
            incidence_theta_deg: theta.to_vec(),
            incidence_phi_deg: phi.to_vec(),
            slices,
            computed,
        },
        meta,
    )
}

#[test]
fn angle_axes_round_trip_through_hdf5() {
    let d = tmp("roundtrip");
    let p = d.join("ang.h5");
    let (ang, meta) = synthetic(&[0.0, 10.0, 30.0], &[0.0, 45.0]);
    write_angular_library(&p, &ang, &meta).unwrap();
    let (back, meta_back) = read_angular_library(&p).unwrap();
    assert_eq!(back.incidence_theta_deg, ang.incidence_theta_deg);
    assert_eq!(back.incidence_phi_deg, ang.incidence_phi_deg);
    assert_eq!(meta_back.settings, meta.settings);
    for (a, b) in back.slices.iter().zip(&ang.slices) {
        // NaN where invalid: compare the valid cells exactly, and the masks
        assert_eq!(a.valid, b.valid);
        for (idx, &v) in a.valid.indexed_iter() {
            if v {
                let (w, h, pp, r) = idx;
                for pol in 0..2 {
                    assert_eq!(a.t[[w, h, pp, r, pol]], b.t[[w, h, pp, r, pol]]);
                    assert_eq!(
                        a.transmittance[[w, h, pp, r, pol]],
                        b.transmittance[[w, h, pp, r, pol]]
                    );
                }
            }
        }
    }
    assert_eq!(back.computed, ang.computed);
    // the dimension scales carry their units
    let f = metalens::io::hdf5::H5Reader::open(&p).unwrap();
    assert_eq!(
        f.dataset_attr_string("incidence_theta", "units").as_deref(),
        Some("deg")
    );
    assert_eq!(
        f.dataset_attr_string("incidence_phi", "units").as_deref(),
        Some("deg")
    );
    // a library without θ = 0: readable as angular, refused where a layout needs normal incidence
    let q = d.join("oblique.h5");
    let (ang, meta) = synthetic(&[10.0, 20.0], &[0.0]);
    write_angular_library(&q, &ang, &meta).unwrap();
    assert!(read_angular_library(&q).is_ok());
    let e = read_library(&q).unwrap_err().to_string();
    assert!(e.contains("θ = 0") && e.contains("[10.0, 20.0]"), "{e}");
    let (code, _, err) = metalens(&[
        "library",
        "export",
        q.to_str().unwrap(),
        "--pitch",
        "0.3",
        "-o",
        d.join("x.h5").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("θ = 0") && err.trim().lines().count() == 1,
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A library file as format 1 wrote it (no angle axes, 5-D / 4-D arrays): the datasets and
/// attributes its reader needs.
fn write_format1(path: &Path, lib: &PhaseLibrary, spec: &SweepSettings) {
    use metalens::io::hdf5::H5Writer;
    let w = H5Writer::create(path).unwrap();
    w.attr_str("kind", "metalens phase library").unwrap();
    w.attr_str("format_version", "1").unwrap();
    w.attr_str("sweep_settings", &spec.fingerprint()).unwrap();
    let sw = w.scale("wavelength", &lib.wavelengths, "um").unwrap();
    let sh = w.scale("height", &lib.heights, "um").unwrap();
    let sp = w.scale("pitch", &lib.pitches, "um").unwrap();
    let sr = w.scale("radius", &lib.radii, "um").unwrap();
    let (nw, nh, np, nr) = (1, 1, 1, lib.radii.len());
    let t: Vec<C64> = lib.t.iter().copied().collect();
    let ds = w.dataset_c64("t", &[nw, nh, np, nr, 2], &t, "").unwrap();
    w.attach(&ds, &[Some(&sw), Some(&sh), Some(&sp), Some(&sr)])
        .unwrap();
    let tt: Vec<f64> = lib.transmittance.iter().copied().collect();
    w.dataset("transmittance", &[nw, nh, np, nr, 2], &tt, "")
        .unwrap();
    let rr: Vec<f64> = lib.reflectance.iter().copied().collect();
    w.dataset("reflectance", &[nw, nh, np, nr, 2], &rr, "")
        .unwrap();
    let v: Vec<bool> = lib.valid.iter().copied().collect();
    w.dataset_bool("valid", &[nw, nh, np, nr], &v).unwrap();
    w.dataset_bool("computed", &[nw, nh, np, nr], &v).unwrap();
    w.commit().unwrap();
}

#[test]
fn format1_libraries_read_as_normal_incidence() {
    let d = tmp("format1");
    let p = d.join("v1.h5");
    let (ang, meta) = synthetic(&[0.0], &[0.0]);
    // a format-1 sweep_settings has no angle keys: the default [0] is left out of the JSON
    assert!(!meta.settings.fingerprint().contains("incidence"));
    write_format1(&p, &ang.slices[0], &meta.settings);
    let (back, m) = read_angular_library(&p).unwrap();
    assert_eq!(back.incidence_theta_deg, vec![0.0]);
    assert_eq!(back.incidence_phi_deg, vec![0.0]);
    assert_eq!(m.settings, meta.settings);
    let (lib, _) = read_library(&p).unwrap();
    assert_eq!(lib.valid, ang.slices[0].valid);
    assert_eq!(lib.t[[0, 0, 0, 1, 1]], ang.slices[0].t[[0, 0, 0, 1, 1]]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_angles_are_refused_with_one_line() {
    let d = tmp("bad");
    let design = d.join("d.toml");
    std::fs::write(&design, TINY).unwrap();
    let out = d.join("lib.h5");
    for (flag, value, needles) in [
        (
            "--incidence-theta-deg",
            "90",
            ["incidence_theta_deg", "90°", "[0, 89]"],
        ),
        (
            "--incidence-theta-deg",
            "-5",
            ["incidence_theta_deg", "-5°", "[0, 89]"],
        ),
        (
            "--incidence-theta-deg",
            "10,0",
            ["incidence_theta_deg", "[10.0, 0.0]", "ascending"],
        ),
        (
            "--incidence-phi-deg",
            "360",
            ["incidence_phi_deg", "360°", "[0, 360)"],
        ),
        (
            "--incidence-phi-deg",
            "-1",
            ["incidence_phi_deg", "-1°", "[0, 360)"],
        ),
    ] {
        let (code, _, err) = metalens(&[
            "library",
            design.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--quiet",
            flag,
            value,
        ]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{flag} {value}: missing {n} in {err}");
        }
        assert!(!out.exists());
    }
    // the same from the design file
    let bad = d.join("bad.toml");
    std::fs::write(&bad, format!("{TINY}incidence_theta_deg = [0, 95]\n")).unwrap();
    let (code, _, err) = metalens(&[
        "library",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("95°") && err.contains("[0, 89]"), "{err}");
    // a lens needs θ = 0: `reproduce` refuses an angular design without it before any cell
    let obl = d.join("oblique.toml");
    std::fs::write(
        &obl,
        format!(
            "{TINY}incidence_theta_deg = [10]\n[lens]\nna = 0.5\ndiameter = 5.0\npitch = 0.3\n"
        ),
    )
    .unwrap();
    let (code, _, err) = metalens(&[
        "reproduce",
        obl.to_str().unwrap(),
        "--out",
        d.join("rep").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("θ = 0"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
