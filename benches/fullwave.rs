//! Criterion bench of the 1-D supercell solve (even sector): a 10 µm wide NA 0.7 lens of
//! 33 ridges at 0.3 µm pitch with a 3 µm margin, M = 400 (basis 401), TE and TM (Li).
//! Short: sample_size 10, 5 s measurement.

use criterion::{criterion_group, criterion_main, Criterion};
use metalens::fullwave::solver1d::{solve, Basis, Factorization, Polarization};
use metalens::fullwave::{grating_library, plan_layout, supercell};
use metalens::io::fullwave_design::FullwaveDesign;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let d = FullwaveDesign::from_toml(
        "[lens]\nna = 0.7\nwidth = 10.0\npitch = 0.3\n[supercell]\nmargin = 3.0\n",
        "bench",
    )
    .unwrap()
    .design()
    .unwrap();
    let f = d.lens.focal_length_um;
    let mut group = c.benchmark_group("fullwave");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for pol in [Polarization::Te, Polarization::Tm] {
        let lib = grating_library(&d, 0.3, 1.0, pol).unwrap();
        let lay = plan_layout(&lib, d.ridge_count, f, 0.685, 1.0, d.selection);
        let g = supercell(&d, &lay, d.period(d.margin_um), 1.0);
        group.bench_function(format!("supercell_m400_{}", pol.name()), |b| {
            b.iter(|| solve(&g, 0.685, 400, pol, Basis::Even, Factorization::Li).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
