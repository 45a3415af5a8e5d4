//! The near-field file (issue 13): `propagate --save-near-field` → `propagate --near-field`
//! gives the same metrics; a foreign-grid ideal lens matches `--ideal`; bad files are refused
//! with one line and exit code 2.

mod layout_common;
mod nearfield_common;
use nearfield_common::{dir, metalens, small_layout};

use metalens::io::hdf5::H5Writer;
use metalens::io::nearfield_file::{LensInfo, NearFieldFile};
use metalens::lens::Lens;
use metalens::metrics::pipeline::{run_field_plane_with_ideal, run_ideal, RunOptions};
use metalens::nearfield::{hyperbolic_phase, obliquity_matrix, Polarization};
use metalens::C64;
use std::path::Path;

/// Every number in a JSON value, by path.
fn numbers(v: &serde_json::Value, path: String, out: &mut Vec<(String, f64)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                numbers(x, format!("{path}.{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                numbers(x, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Number(n) => out.push((path, n.as_f64().unwrap())),
        _ => {}
    }
}

/// The metrics of two propagate documents agree to 1e-12 relative (the bar): same
/// field, same grid, same code; only the zero Ey plane's rounding may differ.
fn same_metrics(a: &serde_json::Value, b: &serde_json::Value) {
    let (mut na, mut nb) = (Vec::new(), Vec::new());
    for key in [
        "fwhm",
        "efficiency",
        "strehl",
        "focal_plane_z_um",
        "focal_shift_um",
    ] {
        numbers(&a[key], key.into(), &mut na);
        numbers(&b[key], key.into(), &mut nb);
    }
    for key in [
        "transmission_efficiency",
        "peak_intensity",
        "focal_point_intensity",
        "side_lobe_level",
    ] {
        numbers(&a[key], key.into(), &mut na);
        numbers(&b[key], key.into(), &mut nb);
    }
    assert!(na.len() > 15, "{na:?}");
    assert_eq!(na.len(), nb.len());
    for ((k, x), (_, y)) in na.iter().zip(&nb) {
        assert!(
            (x - y).abs() <= 1e-12 * x.abs().max(1e-300),
            "{k}: {x} vs {y}"
        );
    }
}

#[test]
fn saved_near_fields_give_the_same_metrics_to_1e_12() {
    let d = dir("roundtrip");
    let nf = d.join("ideal_nf.h5");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let ideal = [
        "propagate",
        "--ideal",
        "--na",
        "0.8",
        "--diameter",
        "8",
        "--wavelength",
        "0.5",
        "--n-incident",
        "1.45",
        "--planes",
        "60",
        "--json",
        "--quiet",
    ];
    let mut a = ideal.to_vec();
    let nfs = s(&nf);
    a.extend(["--save-near-field", &nfs]);
    let (code, out_a, err) = metalens(&a);
    assert_eq!(code, 0, "{err}");
    let (code, out_b, err) = metalens(&[
        "propagate",
        "--near-field",
        &nfs,
        "--planes",
        "60",
        "--json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let ja: serde_json::Value = serde_json::from_str(&out_a).unwrap();
    let jb: serde_json::Value = serde_json::from_str(&out_b).unwrap();
    same_metrics(&ja, &jb);
    // the same JSON shape as `propagate --json`, plus the near-field block
    assert_eq!(jb["lens"]["kind"], "near field");
    assert_eq!(jb["lens"]["na"], ja["lens"]["na"]);
    assert_eq!(jb["near_field"]["resampling"]["method"], "none");
    same_metrics(&ja, &jb["ideal"]);

    // a layout: LPA saved, read back beside the same layout
    let layout = small_layout(&d, 6.0, 0.7);
    let lpa_nf = d.join("lpa_nf.h5");
    let (code, out_a, err) = metalens(&[
        "propagate",
        &s(&layout),
        "--save-near-field",
        &s(&lpa_nf),
        "--planes",
        "60",
        "--json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out_b, err) = metalens(&[
        "propagate",
        "--near-field",
        &s(&lpa_nf),
        "--layout",
        &s(&layout),
        "--planes",
        "60",
        "--json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let ja: serde_json::Value = serde_json::from_str(&out_a).unwrap();
    let jb: serde_json::Value = serde_json::from_str(&out_b).unwrap();
    same_metrics(&ja, &jb);
    same_metrics(&ja, &jb["lpa"]);
    same_metrics(&ja["ideal"], &jb["ideal"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// The ideal lens's exact field sampled on a grid unlike the engine's: spacing 0.093 µm
/// (not λ/4), an odd and non-square count, offset by a fraction of a sample.
fn foreign_ideal(spec: &Lens, dx: f64, x0: f64, y0: f64, nx: usize, ny: usize) -> NearFieldFile {
    let xs: Vec<f64> = (0..nx).map(|i| x0 + i as f64 * dx).collect();
    let ys: Vec<f64> = (0..ny).map(|j| y0 + j as f64 * dx).collect();
    let a = (spec.n_incident / spec.n_exit).sqrt();
    let radius = 0.5 * spec.diameter_um;
    let f = spec.focal_length_um;
    // the energy-conserving ideal lens (ApertureModel::Flux): x-polarised light leaves as
    // E_t = t₀ (M_xx, M_yx) with M the obliquity matrix at the point
    let (ex, ey): (Vec<C64>, Vec<C64>) = ys
        .iter()
        .flat_map(|&y| {
            xs.iter().map(move |&x| {
                let r = (x * x + y * y).sqrt();
                if r <= radius {
                    let t =
                        C64::from_polar(a, hyperbolic_phase(r, f, spec.wavelength_um, spec.n_exit));
                    let (mxx, mxy, _) = obliquity_matrix(x, y, f);
                    (t * mxx, t * mxy)
                } else {
                    (C64::new(0.0, 0.0), C64::new(0.0, 0.0))
                }
            })
        })
        .unzip();
    NearFieldFile {
        ey: vec![ey],
        ex: vec![ex],
        x_um: xs,
        y_um: ys,
        wavelengths_um: vec![spec.wavelength_um],
        h: None,
        plane_height_um: 0.0,
        medium_index: spec.n_exit,
        incident_index: spec.n_incident,
        incident_amplitude: 1.0,
        polarization: Polarization::X,
        lens: Some(LensInfo {
            numerical_aperture: spec.na,
            diameter_um: spec.diameter_um,
        }),
        source: "test: exact ideal lens on a foreign grid".into(),
    }
}

#[test]
fn an_ideal_lens_on_a_foreign_grid_matches_the_engines_ideal_lens_to_1_percent() {
    let spec = Lens::from_na(0.633, 0.7, 1.0, 12.0)
        .and_then(|l| l.with_incidence(1.45))
        .unwrap();
    let opts = RunOptions {
        n_z: 80,
        ..RunOptions::default()
    };
    let d = dir("foreign");
    let p = d.join("foreign.h5");
    foreign_ideal(&spec, 0.093, -6.2317, -6.05, 135, 131)
        .write(&p)
        .unwrap();
    let file = NearFieldFile::read(&p).unwrap();
    let (fp, rs) = file.plane(0, &p).unwrap();
    assert_eq!(rs.method, "zero padding + band-limited Fourier shift");
    assert!(rs.shift_samples[0] > 0.01 && rs.shift_samples[1] > 0.01);
    let (measured, _) = run_field_plane_with_ideal(&fp, &spec, &opts).unwrap();
    let reference = run_ideal(&spec, &opts).unwrap();
    let (a, b) = (&measured.report, &reference.report);
    // 1 % is the bar; the two grids pixelate the hard aperture edge differently
    // (0.093 vs 0.158 µm), which moves power-based numbers by ~ dx / D ≈ 1e-3
    let close = |name: &str, x: f64, y: f64| {
        assert!((x - y).abs() <= 0.01 * y.abs(), "{name}: {x} vs {y}");
    };
    for (k, v) in &b.efficiency {
        close(k, a.efficiency[k], *v);
    }
    close(
        "transmission",
        a.transmission_efficiency,
        b.transmission_efficiency,
    );
    close("focal plane", a.focal_plane_z_um, b.focal_plane_z_um);
    close(
        "fwhm x",
        a.fwhm.transverse.x_um.unwrap(),
        b.fwhm.transverse.x_um.unwrap(),
    );
    close(
        "fwhm y",
        a.fwhm.transverse.y_um.unwrap(),
        b.fwhm.transverse.y_um.unwrap(),
    );
    close("peak", a.peak_intensity, b.peak_intensity);
    let _ = std::fs::remove_dir_all(&d);
}

/// A file following the schema, with one thing wrong.
fn write_variant(p: &Path, skip: &str, fields: Option<Vec<C64>>, dx: f64) {
    let m = 40usize;
    let axis: Vec<f64> = (0..m).map(|i| (i as f64 - 20.0) * dx).collect();
    let ex = fields.unwrap_or_else(|| {
        axis.iter()
            .flat_map(|&y| {
                axis.iter()
                    .map(move |&x| C64::from_polar(1.0, -(x * x + y * y)))
            })
            .collect()
    });
    let w = H5Writer::create(p).unwrap();
    for (k, v) in [
        ("kind", "metalens near field"),
        ("format_version", "1"),
        ("conventions", metalens::CONVENTIONS),
        ("units", "um"),
        ("polarization", "x"),
    ] {
        if k != skip {
            w.attr_str(k, v).unwrap();
        }
    }
    let units = if skip == "x units" { "" } else { "um" };
    w.scale("x", &axis, units).unwrap();
    w.scale("y", &axis, "um").unwrap();
    w.scale("wavelength", &[0.5], "um").unwrap();
    if skip != "Ex" {
        w.dataset_c64("Ex", &[1, m, m], &ex, "").unwrap();
    }
    w.dataset_c64("Ey", &[1, m, m], &vec![C64::new(0.0, 0.0); m * m], "")
        .unwrap();
    w.dataset("plane_height", &[1], &[0.0], "um").unwrap();
    for k in ["medium_index", "incident_index", "incident_amplitude"] {
        w.dataset(k, &[1], &[1.0], "").unwrap();
    }
    w.dataset("lens_numerical_aperture", &[1], &[0.5], "")
        .unwrap();
    w.dataset("lens_diameter", &[1], &[3.0], "um").unwrap();
    w.commit().unwrap();
}

#[test]
fn bad_near_field_files_are_refused_with_one_line_and_exit_2() {
    let d = dir("bad");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let check = |p: &Path, extra: &[&str], want: &str| {
        let ps = s(p);
        let mut a = vec![
            "propagate",
            "--near-field",
            &ps,
            "--planes",
            "20",
            "--quiet",
        ];
        a.extend_from_slice(extra);
        let (code, _, err) = metalens(&a);
        assert_eq!(code, 2, "{want}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(want), "expected '{want}' in: {err}");
    };
    // a good file passes (so the failures below are the variants')
    let good = d.join("good.h5");
    write_variant(&good, "", None, 0.1);
    let (code, _, err) = metalens(&[
        "propagate",
        "--near-field",
        &s(&good),
        "--planes",
        "20",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");

    let p = d.join("no_ex.h5");
    write_variant(&p, "Ex", None, 0.1);
    check(&p, &[], "missing dataset 'Ex'");
    let p = d.join("no_units.h5");
    write_variant(&p, "units", None, 0.1);
    check(&p, &[], "'units'");
    let p = d.join("no_x_units.h5");
    write_variant(&p, "x units", None, 0.1);
    check(&p, &[], "dataset 'x' has no 'units'");
    let p = d.join("no_kind.h5");
    write_variant(&p, "kind", None, 0.1);
    check(&p, &[], "not a metalens near-field file");
    // NA 0.5 at λ 0.5 needs dx ≤ 0.5 µm; NA 0.9 needs 0.2778 µm
    let p = d.join("coarse.h5");
    write_variant(&p, "", None, 0.3);
    check(&p, &["--na", "0.9"], "needs ≤ 0.2778 µm");
    let p = d.join("zero.h5");
    write_variant(&p, "", Some(vec![C64::new(0.0, 0.0); 1600]), 0.1);
    check(&p, &[], "all zero");
    let mut nan = vec![C64::new(1.0, 0.0); 1600];
    nan[77] = C64::new(f64::NAN, 0.0);
    let p = d.join("nan.h5");
    write_variant(&p, "", Some(nan), 0.1);
    check(&p, &[], "non-finite value at flat index 77");
    // a foreign HDF5 file: a layout file given as a near field
    let layout = small_layout(&d, 6.0, 0.7);
    check(&layout, &[], "kind is 'metalens layout'");
    // a wavelength that does not match the layout (file 0.5 µm, layout 0.6 µm)
    check(
        &good,
        &["--layout", &s(&layout)],
        "does not include the layout's wavelength 0.6",
    );
    check(
        &good,
        &["--wavelength", "0.7"],
        "holds the wavelength(s) [0.5] µm only",
    );
    // the ideal lens of a layout (exit index 1) asked for a near field in water (1.33)
    let water = Lens::from_na(0.6, 0.7, 1.33, 6.0).unwrap();
    let p = d.join("water.h5");
    foreign_ideal(&water, 0.1, -3.05, -3.05, 62, 62)
        .write(&p)
        .unwrap();
    check(
        &p,
        &["--layout", &s(&layout)],
        "must equal the lens's exit index 1",
    );
    let _ = std::fs::remove_dir_all(&d);
}
