//! One SRN cell solve (p = 0.35 µm, r = 0.13 µm, h = 0.75 µm, n = 2.9 on n = 1.45, λ = 0.633 µm,
//! x-polarised, normal incidence: the reference cell of srn_cells.json) at 100, 200 and 400
//! harmonics, with the mirror-symmetry sectors (default) and in the full basis.
//! `cargo bench --bench rcwa`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use metalens::cell::{Incidence, LatticeKind, PillarCell, Polarization};
use metalens::material::Material;
use metalens::rcwa::{solve_with_symmetry, Factorization, Settings};
use metalens::C64;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let stack = PillarCell {
        lattice: LatticeKind::Square,
        pitch: 0.35,
        radius: 0.13,
        height: 0.75,
        pillar: Material::Constant(C64::new(2.9, 0.0)),
        incidence: Material::Constant(C64::new(1.45, 0.0)),
        exit: Material::air(),
    }
    .stack()
    .unwrap();
    let inc = Incidence::normal(0.633, Polarization::X);
    let mut g = c.benchmark_group("srn_cell");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    for h in [100usize, 200, 400] {
        let s = Settings {
            harmonics: h,
            factorization: Factorization::NormalVector,
        };
        g.bench_with_input(BenchmarkId::new("symmetry_sectors", h), &h, |b, _| {
            b.iter(|| solve_with_symmetry(&stack, &inc, &s, true).unwrap())
        });
        if h <= 200 {
            g.bench_with_input(BenchmarkId::new("full_basis", h), &h, |b, _| {
                b.iter(|| solve_with_symmetry(&stack, &inc, &s, false).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
