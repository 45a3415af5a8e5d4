//! Regenerates validation/layout/: the files checked by validation/layout/check_gds_klayout.py
//! (KLayout's Python package) — a hexagonal lens as GDSII plus the expected pillars as CSV, in
//! validation/layout/out/ (not committed) — and the example `metalens layout` run whose
//! figures and report are committed in validation/layout/example/.
//! Run: cargo run --release --example layout_validation
//! (A generator of validation data, not a test: the checks are the KLayout script's.)

#[path = "../tests/layout_common/mod.rs"]
mod layout_common;
use layout_common::*;

use metalens::cell::LatticeKind;
use metalens::io::gds::{self, GdsOptions};
use metalens::layout::{plan_layout, CellTable, LayoutSettings, Selection};
use metalens::lens::Lens;
use std::io::Write;

fn write_validation_gds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/layout/out");
    std::fs::create_dir_all(&dir).unwrap();
    let lib = uniform_phase_library(LatticeKind::Hex, 48);
    let lens = Lens::from_na(WAVELENGTH, 0.9, 1.0, 40.0).unwrap();
    let table =
        CellTable::from_library(&lib, LatticeKind::Hex, WAVELENGTH, None, PITCH, Some(0.001))
            .unwrap();
    let settings = LayoutSettings {
        lattice: LatticeKind::Hex,
        pitch: PITCH,
        selection: Selection::ComplexError,
        phase_offset: None,
        min_gap: 0.05,
        poor_phase_threshold: 0.5,
        fill_radius: None,

        incidence_index: 1.0,
        pillar: None,
    };
    let layout = plan_layout(&lens, &settings, table, &indicatif::ProgressBar::hidden()).unwrap();
    let opts = GdsOptions {
        vertices: 64,
        dbu_um: 0.001,
        outline_layer: Some(2),
        ..GdsOptions::default()
    };
    let stats = gds::write_layout(&layout, &dir.join("lens_d40_hex.gds"), &opts).unwrap();
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(dir.join("lens_d40_hex_pillars.csv")).unwrap(),
    );
    writeln!(csv, "x_um,y_um,radius_um").unwrap();
    for p in layout.pillars() {
        writeln!(
            csv,
            "{:.6},{:.6},{:.6}",
            p.x, p.y, layout.table.cells[p.cell as usize].radius
        )
        .unwrap();
    }
    println!(
        "{} pillars, {} SREF + {} AREF, {} bytes",
        stats.pillars, stats.srefs, stats.arefs, stats.bytes
    );
}

/// Example run of `metalens layout` on a synthetic library (48 radii on a 1/1024 µm grid, phase
/// over 2π with a transmittance dip): figures and report in validation/layout/example/.
fn example_cli_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/layout");
    let out = root.join("out");
    let ex = root.join("example");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&ex).unwrap();
    let cells: Vec<(f64, metalens::C64)> = (0..48)
        .map(|k| {
            let s = k as f64 / 47.0;
            let amp = 0.95 - 0.4 * (std::f64::consts::PI * s).sin().powi(6);
            (
                (51 + 2 * k) as f64 / 1024.0,
                metalens::C64::from_polar(amp, 2.0 * std::f64::consts::PI * 0.97 * s),
            )
        })
        .collect();
    let lib = out.join("synthetic_lib.h5");
    library(LatticeKind::Hex, &cells).save(&lib).unwrap();
    let design = ex.join("design.toml");
    std::fs::write(
        &design,
        format!(
            "[source]\nwavelength = {WAVELENGTH}\n[cell]\nlattice = \"hex\"\nheight = {HEIGHT}\nmin_gap = 0.03\n\
             [library]\npitches = [{PITCH}]\nradius = {{ start = 0.05, stop = 0.14, count = 10 }}\n\
             [lens]\nna = 0.9\ndiameter = 30.0\npitch = {PITCH}\n"
        ),
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("metalens");
    assert!(
        bin.exists(),
        "build the binary first: cargo build --release"
    );
    let run = std::process::Command::new(bin)
        .args([
            "layout",
            design.to_str().unwrap(),
            "--library",
            lib.to_str().unwrap(),
            "-o",
            ex.join("lens").to_str().unwrap(),
            "--outline-layer",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::write(ex.join("stdout.txt"), &run.stdout).unwrap();
    // keep the figures, the report and the design; the large outputs stay out of git
    std::fs::rename(ex.join("lens.h5"), out.join("example_lens.h5")).unwrap();
    std::fs::rename(ex.join("lens.gds"), out.join("example_lens.gds")).unwrap();
}

fn main() {
    write_validation_gds();
    example_cli_run();
}
