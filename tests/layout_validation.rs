//! Writes the files checked by validation/layout/check_gds_klayout.py (KLayout's Python
//! package): a hexagonal lens as GDSII plus the expected pillars as CSV.
//! Run: cargo test --release --test layout_validation -- --ignored

mod layout_common;
use layout_common::*;

use metalens::cell::LatticeKind;
use metalens::io::gds::{self, GdsOptions};
use metalens::layout::{plan_layout, CellTable, LayoutSettings, Selection};
use metalens::lens::HyperbolicLens;
use std::io::Write;

#[test]
#[ignore]
fn write_validation_gds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/layout/out");
    std::fs::create_dir_all(&dir).unwrap();
    let lib = uniform_phase_library(LatticeKind::Hex, 48);
    let lens = HyperbolicLens::from_na(WAVELENGTH, 0.9, 1.0, 40.0).unwrap();
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
