//! Shared by the near-field and export tests: temporary folders, the binary, a small layout.
#![allow(dead_code)]

use crate::layout_common::*;
use metalens::cell::LatticeKind;
use metalens::C64;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-nf-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the binary: (exit code, stdout, stderr).
pub fn metalens(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// A square-lattice lens of a synthetic 16-cell library (|t| = 0.9, phases 2πk/16), laid out
/// by `metalens layout` into `d/lens.h5`. The design names no materials, so the layout file
/// records no pillar.
pub fn small_layout(d: &Path, diameter: f64, na: f64) -> PathBuf {
    let lib_path = d.join("lib.h5");
    let cells: Vec<(f64, C64)> = (0..16)
        .map(|k| {
            (
                (51 + 4 * k) as f64 / 1024.0,
                C64::from_polar(0.9, 2.0 * std::f64::consts::PI * k as f64 / 16.0),
            )
        })
        .collect();
    library(LatticeKind::Square, &cells)
        .save(&lib_path)
        .unwrap();
    let design = d.join("design.toml");
    std::fs::write(
        &design,
        format!(
            "[source]\nwavelength = {WAVELENGTH}\n[cell]\nlattice = \"square\"\nheight = {HEIGHT}\nmin_gap = 0.05\n\
             [library]\npitches = [{PITCH}]\nradius = {{ start = 0.05, stop = 0.11, count = 7 }}\n\
             [lens]\nna = {na}\ndiameter = {diameter}\npitch = {PITCH}\n"
        ),
    )
    .unwrap();
    let (code, _, err) = metalens(&[
        "layout",
        &s(&design),
        "--library",
        &s(&lib_path),
        "-o",
        &s(&d.join("lens")),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    d.join("lens.h5")
}
