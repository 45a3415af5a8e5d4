//! Benchmark: layout and GDSII export of a large lens (default: 1 mm, NA 0.9, λ 0.685 µm,
//! square lattice at 0.25 µm pitch, about 12.6 million pillars), from a synthetic library of
//! 30 radii interpolated on a 1 nm grid. One run, wall time per stage; measure peak memory
//! with `/usr/bin/time -v`:
//!
//! ```text
//! cargo bench --bench layout                       # 1 mm lens, layout + GDSII
//! cargo bench --bench layout -- --diameter 200 --h5 # smaller lens, also the HDF5 file
//! ```
//!
//! (harness = false: a single timed run, since a lens of this size takes seconds, not the
//! microseconds criterion's repeated sampling is made for.)

use metalens::cell::LatticeKind;
use metalens::io::gds::{self, GdsOptions};
use metalens::layout::{plan_layout, CellTable, LayoutSettings, Selection};
use metalens::lens::Lens;
use metalens::library::PhaseLibrary;
use metalens::C64;
use ndarray::{Array4, Array5};
use std::time::Instant;

fn synthetic_library(pitch: f64) -> PhaseLibrary {
    // 30 radii from 0.03 to 0.11 µm, phase rising over 2π with a transmittance dip
    let nr = 30;
    let radii: Vec<f64> = (0..nr)
        .map(|k| 0.03 + 0.08 * k as f64 / (nr - 1) as f64)
        .collect();
    let mut t = Array5::from_elem((1, 1, 1, nr, 2), C64::new(0.0, 0.0));
    for (k, _) in radii.iter().enumerate() {
        let s = k as f64 / (nr - 1) as f64;
        let v = C64::from_polar(
            0.95 - 0.25 * (std::f64::consts::PI * s).sin().powi(8),
            2.0 * std::f64::consts::PI * 1.02 * s,
        );
        t[[0, 0, 0, k, 0]] = v;
        t[[0, 0, 0, k, 1]] = v;
    }
    let tr = t.mapv(|v| v.norm_sqr());
    PhaseLibrary {
        wavelengths: vec![0.685],
        heights: vec![0.8],
        pitches: vec![pitch],
        radii,
        t,
        reflectance: tr.mapv(|v| 1.0 - v),
        transmittance: tr,
        valid: Array4::from_elem((1, 1, 1, nr), true),
        lattice: LatticeKind::Square,
        exit_index: 1.0,
        harmonics: 1,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let diameter = get("--diameter", 1000.0);
    let pitch = get("--pitch", 0.25);
    let na = get("--na", 0.9);
    let write_h5 = args.iter().any(|a| a == "--h5");
    // --keep DIR: write the files there and keep them (for the KLayout check)
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("metalens-bench-layout-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).unwrap();

    let t0 = Instant::now();
    let lib = synthetic_library(pitch);
    let lens = Lens::from_na(0.685, na, 1.0, diameter).unwrap();
    let table = CellTable::from_library(&lib, LatticeKind::Square, 0.685, None, pitch, Some(0.001))
        .unwrap();
    let settings = LayoutSettings {
        lattice: LatticeKind::Square,
        pitch,
        selection: Selection::ComplexError,
        phase_offset: None,
        min_gap: 0.03,
        poor_phase_threshold: 0.5,
        fill_radius: None,

        incidence_index: 1.0,
        pillar: None,
    };
    let layout = plan_layout(&lens, &settings, table, &metalens::progress::Silent).unwrap();
    let t_layout = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let report = layout.report();
    let t_report = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let path = dir.join("lens.gds");
    let stats = gds::write_layout(
        &layout,
        &path,
        &GdsOptions {
            vertices: 64,
            ..GdsOptions::default()
        },
    )
    .unwrap();
    let t_gds = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    let no_arrays = dir.join("lens_sref.gds");
    let stats2 = gds::write_layout(
        &layout,
        &no_arrays,
        &GdsOptions {
            vertices: 64,
            arrays: false,
            ..GdsOptions::default()
        },
    )
    .unwrap();
    let t_gds2 = t3.elapsed().as_secs_f64();
    println!("lens: D = {diameter} µm, NA = {na}, f = {:.3} µm, pitch {pitch} µm, square lattice, {} cells", lens.focal_length_um, layout.table.cells.len());
    println!("pillars: {}", layout.pillar_count());
    println!("layout (sites, offset/amplitude optimisation, selection): {t_layout:.2} s");
    println!("report (errors, histogram, minimum gap): {t_report:.2} s");
    println!(
        "GDSII with AREF runs: {t_gds:.2} s, {} bytes ({} SREF + {} AREF, {} cells)",
        stats.bytes, stats.srefs, stats.arefs, stats.cells
    );
    println!("GDSII SREF only: {t_gds2:.2} s, {} bytes", stats2.bytes);
    println!(
        "RMS phase error {:.4} rad, max {:.4} rad",
        report.rms_phase_error, report.max_phase_error
    );
    if write_h5 {
        let t4 = Instant::now();
        let h5 = dir.join("lens.h5");
        metalens::io::layout_file::write_layout(&layout, &h5).unwrap();
        println!(
            "HDF5: {:.2} s, {} bytes",
            t4.elapsed().as_secs_f64(),
            std::fs::metadata(&h5).map(|m| m.len()).unwrap_or(0)
        );
    }
    println!("total: {:.2} s", t0.elapsed().as_secs_f64());
    if keep.is_none() {
        std::fs::remove_dir_all(&dir).ok();
    } else {
        std::fs::remove_file(&no_arrays).ok();
    }
}
