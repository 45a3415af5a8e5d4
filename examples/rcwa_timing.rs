//! Time split of one cell solve (Fourier stage / eigensolve / S-matrix or block elimination)
//! before and after the accelerated paths, single-threaded, one run per entry (min of `REPS`
//! runs when REPS is set). "before" is the solver as it was before the plan/paths work
//! (`Paths::REFERENCE` for the full-basis cases; sectors without the real eigensolve and the
//! block elimination at normal incidence), "after" is `Paths::FAST`.
//!
//! `cargo run --release --example rcwa_timing -- 100 200 400 [800]  > validation/rcwa/timing_split.md`
//! (pin it with `taskset -c 0`; before-paths above 400 harmonics are skipped unless
//! BEFORE_MAX=800).

use metalens::cell::{Incidence, Lattice, Layer, Polarization, Shape, Stack};
use metalens::material::Material;
use metalens::rcwa::{solve_with_paths, Factorization, Paths, Settings, Solution};
use metalens::C64;

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

fn main() {
    faer::set_global_parallelism(faer::Par::Seq);
    let hs: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hs = if hs.is_empty() {
        vec![100, 200, 400]
    } else {
        hs
    };
    let before_max: usize = std::env::var("BEFORE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
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
    let sectors_before = Paths {
        symmetry: true,
        real: false,
        direct: false,
    };
    let cases: Vec<(&str, Stack, Incidence, Paths)> = vec![
        (
            "normal, disc (sectors)",
            stack(sq.clone(), disc.clone()),
            inc(0.0, 0.0),
            sectors_before,
        ),
        (
            "oblique θ20 φ30, disc",
            stack(sq.clone(), disc.clone()),
            inc(20.0, 30.0),
            Paths::REFERENCE,
        ),
        (
            "oblique θ20 φ0, disc",
            stack(sq.clone(), disc.clone()),
            inc(20.0, 0.0),
            Paths::REFERENCE,
        ),
        (
            "ellipse 0.15×0.08 at 30°, normal",
            stack(
                sq.clone(),
                Shape::Ellipse {
                    center: [0.0, 0.0],
                    semi_axes: [0.15, 0.08],
                    angle: 30f64.to_radians(),
                },
            ),
            inc(0.0, 0.0),
            Paths::REFERENCE,
        ),
        (
            "hex, disc, oblique θ20 φ30",
            stack(Lattice::hexagonal(0.35).unwrap(), disc),
            inc(20.0, 30.0),
            Paths::REFERENCE,
        ),
    ];
    println!("| case | harmonics | path | Fourier (s) | eigen (s) | S-matrix / elimination (s) | total (s) | speed-up | max abs Δt vs before |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for h in hs {
        let s = Settings {
            harmonics: h,
            factorization: Factorization::NormalVector,
        };
        for (name, st, inc, before) in &cases {
            let run = |p: Paths| -> Solution {
                let mut best: Option<Solution> = None;
                for _ in 0..reps {
                    let sol = solve_with_paths(st, inc, &s, p).unwrap();
                    if best
                        .as_ref()
                        .is_none_or(|b| sol.timings.total < b.timings.total)
                    {
                        best = Some(sol);
                    }
                }
                best.unwrap()
            };
            let after = run(Paths::FAST);
            let b = (h <= before_max).then(|| run(*before));
            let row = |label: &str, x: &Solution, extra: String| {
                let t = &x.timings;
                println!(
                    "| {name} | {} | {label} | {:.3} | {:.3} | {:.3} | {:.3} | {extra} |",
                    x.harmonics, t.fourier, t.eigen, t.smatrix, t.total
                );
            };
            if let Some(b) = &b {
                row("before", b, " | ".into());
                let dt = (0..2)
                    .flat_map(|i| (0..2).map(move |j| (i, j)))
                    .map(|(i, j)| (after.jones_t[i][j] - b.jones_t[i][j]).norm())
                    .fold(0.0, f64::max);
                row(
                    "after",
                    &after,
                    format!("{:.1}× | {dt:.1e}", b.timings.total / after.timings.total),
                );
            } else {
                row("after", &after, " | ".into());
            }
        }
    }
}
