//! Bad input to the layout stage: one-line errors naming the value and the rule, exit code 2.

mod layout_common;
use layout_common::*;

use metalens::cell::LatticeKind;
use metalens::cli::layout::{prepare, LayoutOptions, LayoutRequest};
use metalens::C64;
use std::process::Command;

fn lens_spec() -> LayoutRequest {
    LayoutRequest {
        wavelength: WAVELENGTH,
        diameter: 20.0,
        na: Some(0.8),
        focal_length: None,
        n_exit: None,
        lattice: None,
        pitch: PITCH,
        height: None,
        phase_offset: None,
    }
}

fn assert_one_line_exit2(e: &metalens::Error, words: &[&str]) {
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 2, "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    for w in words {
        assert!(msg.contains(w), "'{msg}' should mention '{w}'");
    }
}

#[test]
fn na_at_or_above_the_exit_index_is_refused() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    for na in [1.0, 1.2] {
        let s = LayoutRequest {
            na: Some(na),
            ..lens_spec()
        };
        let e = prepare(&s, &LayoutOptions::default(), &lib).unwrap_err();
        assert_one_line_exit2(&e, &["NA", &format!("{na}"), "(0, 1)"]);
    }
}

#[test]
fn diameter_below_one_pitch_is_refused() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    let s = LayoutRequest {
        diameter: 0.2,
        ..lens_spec()
    };
    let e = prepare(&s, &LayoutOptions::default(), &lib).unwrap_err();
    assert_one_line_exit2(&e, &["diameter", "0.2 µm", "0.3 µm"]);
}

#[test]
fn pitch_absent_from_the_library_is_refused() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    let s = LayoutRequest {
        pitch: 0.35,
        ..lens_spec()
    };
    let e = prepare(&s, &LayoutOptions::default(), &lib).unwrap_err();
    assert_one_line_exit2(&e, &["pitch", "0.35 µm", "[0.3]"]);
}

#[test]
fn phase_coverage_below_the_floor_is_refused_and_below_the_threshold_warned() {
    // cells spanning 0..150°: coverage 150° < floor 180°
    let narrow: Vec<(f64, C64)> = (0..16)
        .map(|k| {
            (
                0.05 + 0.005 * k as f64,
                C64::from_polar(1.0, (10.0 * k as f64).to_radians()),
            )
        })
        .collect();
    let lib = library(LatticeKind::Square, &narrow);
    let lay = LayoutOptions {
        interpolate: false,
        ..LayoutOptions::default()
    };
    let e = prepare(&lens_spec(), &lay, &lib).unwrap_err();
    assert_one_line_exit2(&e, &["coverage", "150.0°", "180°"]);
    // 0..270°: above the floor, below the 300° warning threshold
    let mid: Vec<(f64, C64)> = (0..28)
        .map(|k| {
            (
                0.05 + 0.003 * k as f64,
                C64::from_polar(1.0, (10.0 * k as f64).to_radians()),
            )
        })
        .collect();
    let lib = library(LatticeKind::Square, &mid);
    let (_, _, _, warnings) = prepare(&lens_spec(), &lay, &lib).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("270.0°") && warnings[0].contains("90.0°"),
        "{}",
        warnings[0]
    );
}

#[test]
fn wavelength_or_lattice_not_in_the_library_is_refused() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    let s = LayoutRequest {
        wavelength: 0.7,
        ..lens_spec()
    };
    assert_one_line_exit2(
        &prepare(&s, &LayoutOptions::default(), &lib).unwrap_err(),
        &["wavelength", "0.7 µm"],
    );
    let s = LayoutRequest {
        lattice: Some(LatticeKind::Hex),
        ..lens_spec()
    };
    assert_one_line_exit2(
        &prepare(&s, &LayoutOptions::default(), &lib).unwrap_err(),
        &["lattice", "hex", "square"],
    );
}

fn run_cli(design: &str, name: &str) -> (i32, String) {
    let dir =
        std::env::temp_dir().join(format!("metalens-layout-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.join("design.toml");
    std::fs::write(&d, design).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args([
            "layout",
            d.to_str().unwrap(),
            "--library",
            dir.join("none.h5").to_str().unwrap(),
            "-o",
            dir.join("out").to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_refuses_bad_lens_sections_before_reading_the_library() {
    // NA 1.1 in air (the default exit medium)
    let (code, err) = run_cli("[lens]\ndiameter = 20\nna = 1.1\npitch = 0.3\n", "na");
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("NA 1.1") && err.contains("(0, 1)"), "{err}");

    let (code, err) = run_cli("[lens]\ndiameter = 0.1\nna = 0.5\npitch = 0.3\n", "diam");
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("diameter 0.1 µm"), "{err}");

    let (code, err) = run_cli(
        "[lens]\ndiameter = 20\nna = 0.5\npitch = 0.3\ngds_vertices = 2\n",
        "vert",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("vertices 2"), "{err}");

    // a library file that does not exist: exit 2, one line naming it
    let (code, err) = run_cli("[lens]\ndiameter = 20\nna = 0.5\npitch = 0.3\n", "nolib");
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("none.h5"), "{err}");
}
