//! The pre-run estimate of a lens run ([`estimate`]) against the run itself: steps, seconds
//! and bytes, on benchmark lenses ([`LensProblem::benchmark`]) of the sizes of
//! validation/fullwave3d, with the defaults of `metalens fullwave` (decay
//! [`LENS_DECAY`], no bulk dispersion correction, mirror symmetry, x-polarised).
//!
//! `cargo bench --bench fdtd_estimate -- 5:0.9:30 10:0.9:40` (diameter µm : NA : px/µm; default
//! 5:0.9:30 5:0.9:40); the thread count is rayon's (`RAYON_NUM_THREADS`). Each lens is run in
//! full: minutes for the 10 µm lens at 40 px/µm. Results: validation/fullwave3d/roofline.md.

use metalens::fdtd::lens::{estimate, solve_lens, LensProblem, LENS_DECAY};
use metalens::fdtd::lens::LENS_DISPERSION_CORRECTION;
use metalens::fdtd::FdtdSettings;
use std::time::Instant;

fn main() {
    let specs: Vec<(f64, f64, f64)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            let v: Vec<f64> = a.split(':').filter_map(|x| x.parse().ok()).collect();
            (v.len() == 3).then(|| (v[0], v[1], v[2]))
        })
        .collect();
    let specs = if specs.is_empty() {
        vec![(5.0, 0.9, 30.0), (5.0, 0.9, 40.0)]
    } else {
        specs
    };
    println!(
        "| lens | px/µm | threads | grid | steps est / run | s est / run (stepping; whole solve) | M cell-updates/s | MB est / run |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (d, na, res) in specs {
        let p = LensProblem::benchmark(d, na);
        let s = FdtdSettings {
            resolution: res,
            decay: LENS_DECAY,
            dispersion_correction: LENS_DISPERSION_CORRECTION,
            ..FdtdSettings::default()
        };
        let est = estimate(&p, &s).expect("estimate");
        let t = Instant::now();
        let sol = solve_lens(&p, &s, &|_| {}).expect("lens run");
        let total = t.elapsed().as_secs_f64();
        let f = &sol.facts[0];
        println!(
            "| {d} µm NA {na} | {res} | {} | {}×{}×{} | {} / {} ({:+.0} %) | {:.1} / {:.1}; {:.1} ({:+.0} %) | {:.1} | {:.0} / {:.0} |",
            rayon::current_num_threads(),
            f.nx,
            f.ny,
            f.nz,
            est.steps,
            f.steps,
            100.0 * (est.steps as f64 / f.steps as f64 - 1.0),
            est.seconds,
            f.wall_s,
            total,
            100.0 * (est.seconds / total - 1.0),
            f.cell_updates_per_s / 1e6,
            est.bytes as f64 / 1e6,
            f.bytes as f64 / 1e6,
        );
    }
}
