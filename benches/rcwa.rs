//! One SRN cell solve (p = 0.35 µm, h = 0.75 µm, n = 2.9 on n = 1.45, λ = 0.633 µm, into
//! air, x input; the reference cell of srn_cells.json and of issue 15) on every path, at 100,
//! 200 and 400 harmonics (BENCH_HARMONICS="100 200 400 800" adds more; 800 takes minutes):
//! - normal incidence, disc r 0.13 (two-mirror sectors);
//! - oblique θ 20°, φ 30°, disc (full basis, real eigensolve, block elimination);
//! - oblique θ 20°, φ 0°, disc (single-mirror sectors);
//! - ellipse 0.15 × 0.08 µm rotated 30°, normal incidence (full basis);
//! - hex lattice, disc, θ 20°, φ 30° (full basis);
//! - the reference path (plain full basis, complex, S-matrices: the solver before plans) on
//!   the oblique disc, up to 200 harmonics;
//! - a height sweep of 5 heights reusing one set of layer modes vs 5 fresh solves (oblique).
//!
//! `cargo bench --bench rcwa`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use metalens::cell::{Incidence, Lattice, Layer, Polarization, Shape, Stack};
use metalens::material::Material;
use metalens::rcwa::{solve_with_paths, Factorization, Paths, RcwaPlan, Settings};
use metalens::C64;
use std::time::Duration;

fn stack(lattice: Lattice, shape: Shape) -> Stack {
    let mut layer = Layer::uniform(0.75, Material::air());
    layer
        .shapes
        .push((shape, Material::Constant(C64::new(2.9, 0.0))));
    Stack {
        lattice,
        incidence: Material::Constant(C64::new(1.45, 0.0)),
        layers: vec![layer],
        exit: Material::air(),
    }
}

fn bench(c: &mut Criterion) {
    faer::set_global_parallelism(faer::Par::Seq);
    let hs: Vec<usize> = std::env::var("BENCH_HARMONICS")
        .unwrap_or_else(|_| "100 200 400".into())
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let disc = Shape::Circle {
        center: [0.0, 0.0],
        radius: 0.13,
    };
    let sq = Lattice::square(0.35).unwrap();
    let inc = |th: f64, ph: f64| Incidence {
        wavelength: 0.633,
        theta: th.to_radians(),
        phi: ph.to_radians(),
        polarization: Polarization::X,
    };
    let ellipse = Shape::Ellipse {
        center: [0.0, 0.0],
        semi_axes: [0.15, 0.08],
        angle: 30f64.to_radians(),
    };
    let cases: Vec<(&str, Stack, Incidence, Paths, usize)> = vec![
        (
            "normal_sectors",
            stack(sq.clone(), disc.clone()),
            inc(0.0, 0.0),
            Paths::FAST,
            usize::MAX,
        ),
        (
            "oblique_full",
            stack(sq.clone(), disc.clone()),
            inc(20.0, 30.0),
            Paths::FAST,
            usize::MAX,
        ),
        (
            "oblique_mirror",
            stack(sq.clone(), disc.clone()),
            inc(20.0, 0.0),
            Paths::FAST,
            usize::MAX,
        ),
        (
            "ellipse_full",
            stack(sq.clone(), ellipse),
            inc(0.0, 0.0),
            Paths::FAST,
            usize::MAX,
        ),
        (
            "hex_oblique_full",
            stack(Lattice::hexagonal(0.35).unwrap(), disc.clone()),
            inc(20.0, 30.0),
            Paths::FAST,
            usize::MAX,
        ),
        (
            "reference_oblique",
            stack(sq.clone(), disc.clone()),
            inc(20.0, 30.0),
            Paths::REFERENCE,
            200,
        ),
    ];
    let mut g = c.benchmark_group("srn_cell");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    for &h in &hs {
        let s = Settings {
            harmonics: h,
            factorization: Factorization::NormalVector,
        };
        for (name, st, inc, paths, max_h) in &cases {
            if h > *max_h {
                continue;
            }
            g.bench_with_input(BenchmarkId::new(*name, h), &h, |b, _| {
                b.iter(|| solve_with_paths(st, inc, &s, *paths).unwrap())
            });
        }
        // height sweep: modes once, five heights
        let st = stack(sq.clone(), disc.clone());
        let oblique = inc(20.0, 30.0);
        let plan = RcwaPlan::new(&sq, &s, &oblique, &st.incidence, &st.exit).unwrap();
        let heights = [0.5, 0.625, 0.75, 0.875, 1.0];
        g.bench_with_input(BenchmarkId::new("heights5_reused_modes", h), &h, |b, _| {
            b.iter(|| {
                let lm = plan.layer_modes(&st).unwrap();
                for hh in heights {
                    plan.solve_modes(&lm, Some(&[hh])).unwrap();
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("heights5_fresh", h), &h, |b, _| {
            b.iter(|| {
                for hh in heights {
                    let mut st = st.clone();
                    st.layers[0].thickness = hh;
                    solve_with_paths(&st, &oblique, &s, Paths::FAST).unwrap();
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
