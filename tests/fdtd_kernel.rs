//! The fused FDTD kernel against the previous two-pass kernel (`Kernel::Reference`, kept for
//! this comparison): the same fields after many steps on every kind of boundary the engine
//! uses, on 1, 2 and 3 threads, and the same near field and fluxes of a whole lens run.
//!
//! Tolerance: both kernels apply to every value the same f32 operations in the same order
//! (the fused kernel only changes which plane is swept when), so they agree bit for bit (the
//! measured difference is 0, printed). The tests allow 1e-6 of the component's peak: a few
//! f32 ulps (6e-8 each) grown over the steps, should a compiler ever contract an a·b + c
//! differently in one of the two loops; a wrong neighbour, a CPML term applied twice or
//! skipped, or a plane read at the wrong time level gives differences of order 1 (the control
//! below shows the comparison sees a one-step lag as a difference of that order).

use metalens::fdtd::grid::{Axis, Grid, Kernel, Permittivity, PlaneEps, PmlParams, Side};
use metalens::fdtd::lens::{lens_grid, solve_lens_with, LensProblem, LENS_DISPERSION_CORRECTION};
use metalens::fdtd::FdtdSettings;
use metalens::nearfield::Polarization;

const TOL: f64 = 1e-6;

/// Deterministic non-zero start (all six components), so every term of the update acts from
/// the first step.
fn seed(g: &mut Grid) {
    let f = &mut g.f;
    for (c, v) in [
        &mut f.ex, &mut f.ey, &mut f.ez, &mut f.hx, &mut f.hy, &mut f.hz,
    ]
    .into_iter()
    .enumerate()
    {
        let mut x = 0x9e3779b97f4a7c15u64 ^ (c as u64 + 1);
        for e in v.iter_mut() {
            // xorshift64*, values in [−0.5, 0.5)
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *e = ((x.wrapping_mul(0x2545f4914f6cdd1d) >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
        }
    }
}

fn comps(g: &Grid) -> [&[f32]; 6] {
    let f = &g.f;
    [&f.ex, &f.ey, &f.ez, &f.hx, &f.hy, &f.hz]
}

/// Largest |a − b| over a component divided by the component's peak |a|, worst component.
fn max_rel_diff(a: &Grid, b: &Grid) -> f64 {
    comps(a)
        .iter()
        .zip(comps(b))
        .map(|(x, y)| {
            let peak = x.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
            let d = x
                .iter()
                .zip(y)
                .fold(0f64, |m, (p, q)| m.max((p - q).abs() as f64));
            if peak > 0.0 {
                d / peak
            } else {
                d
            }
        })
        .fold(0.0, f64::max)
}

/// `steps` steps of each kernel from the same start, on `threads` threads.
fn compare(make: &dyn Fn() -> Grid, steps: usize, threads: usize, what: &str) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut r = make();
    let mut f = make();
    seed(&mut r);
    seed(&mut f);
    let start = max_rel_diff(&r, &make());
    r.kernel = Kernel::Reference;
    f.kernel = Kernel::Fused;
    pool.install(|| {
        for _ in 0..steps {
            r.step();
            f.step();
        }
    });
    let d = max_rel_diff(&r, &f);
    println!("{what}, {threads} thread(s), {steps} steps: max relative difference {d:.3e}");
    assert!(start > 0.1, "{what}: the seed did not reach the fields");
    assert!(
        d <= TOL,
        "{what}: fused kernel differs from the reference by {d:.3e}"
    );
    // control: one step more of one kernel is seen as a large difference
    pool.install(|| f.step());
    let lag = max_rel_diff(&r, &f);
    assert!(
        lag > 1e-3,
        "{what}: a one-step lag gives only {lag:.3e}: the comparison is blind"
    );
}

fn lens_settings(resolution: f64, symmetry: bool) -> FdtdSettings {
    FdtdSettings {
        resolution,
        decay: 1e-4,
        dispersion_correction: LENS_DISPERSION_CORRECTION,
        symmetry,
        ..FdtdSettings::default()
    }
}

/// Quarter lens grids (PEC and PMC mirror planes, CPML on the far sides and in z, the PEC
/// screen, pillar walls with off-diagonal terms), both polarisations.
#[test]
fn fused_equals_reference_on_quarter_lens_grids() {
    let p = LensProblem::benchmark(3.0, 0.9);
    for pol in [Polarization::X, Polarization::Y] {
        let make = || lens_grid(&p, &lens_settings(20.0, true), pol).unwrap().0;
        for threads in [1, 2, 3] {
            compare(&make, 60, threads, &format!("quarter lens {}", pol.name()));
        }
    }
}

/// A whole lens grid without mirror planes: CPML on all four lateral sides.
#[test]
fn fused_equals_reference_on_a_full_lens_grid() {
    let p = LensProblem::benchmark(2.0, 0.9);
    let make = || {
        lens_grid(&p, &lens_settings(20.0, false), Polarization::X)
            .unwrap()
            .0
    };
    for threads in [1, 2] {
        compare(&make, 60, threads, "full lens");
    }
}

/// A periodic cell: periodic x and y (the row order of the y wrap), a patterned layer with
/// off-diagonal terms, μ ≠ 1 on some planes (as the exact planar discretisation sets it), CPML
/// in z only.
#[test]
fn fused_equals_reference_on_a_periodic_cell() {
    let (n, nz) = (18usize, 40usize);
    let make = || {
        let map: Vec<f32> = (0..n * n)
            .map(|i| {
                if (i % n + i / n) % 5 < 2 {
                    1.0 / 7.5
                } else {
                    1.0
                }
            })
            .collect();
        let off: Vec<f32> = (0..n * n)
            .map(|i| if i % 5 == 1 { 0.04 } else { 0.0 })
            .collect();
        let layer = |k: usize| (15..25).contains(&k);
        let eps = Permittivity {
            planes: [0, 1, 2].map(|_| {
                (0..nz)
                    .map(|k| {
                        if layer(k) {
                            PlaneEps::Map(0)
                        } else {
                            PlaneEps::Uniform(1.0 / 2.1)
                        }
                    })
                    .collect()
            }),
            maps: vec![map],
            off: [0, 1].map(|_| (0..nz).map(|k| layer(k).then_some(0)).collect()),
            off_maps: vec![off],
            inv_mu: [0, 1, 2].map(|a| {
                (0..nz)
                    .map(|k| if k < 12 { 0.9 + 0.01 * a as f32 } else { 1.0 })
                    .collect()
            }),
        };
        let pml = PmlParams {
            order: 3.0,
            kappa_max: 1.0,
            alpha_max: 0.4,
            index: 1.0,
        };
        let ax = [
            Axis::periodic(n),
            Axis::periodic(n),
            Axis {
                n: nz,
                lo: Side::Pml(8),
                hi: Side::Pml(8),
            },
        ];
        Grid::new(ax, 0.025, 0.5, eps, [pml, pml, pml])
    };
    for threads in [1, 2, 3] {
        compare(&make, 80, threads, "periodic cell");
    }
}

/// A whole lens run (source, normalisation run, monitors, stop rule) by each kernel: the same
/// number of steps, near field and fluxes.
#[test]
fn a_lens_run_is_the_same_with_either_kernel() {
    let p = LensProblem {
        polarizations: vec![Polarization::X, Polarization::Y],
        ..LensProblem::benchmark(3.0, 0.9)
    };
    let s = lens_settings(20.0, true);
    let r = solve_lens_with(&p, &s, Kernel::Reference, &|_| {}).unwrap();
    let f = solve_lens_with(&p, &s, Kernel::Fused, &|_| {}).unwrap();
    let mut worst = 0f64;
    for (a, b) in r.planes.iter().zip(&f.planes) {
        for (x, y) in [(&a.ex, &b.ex), (&a.ey, &b.ey)] {
            let peak = x.iter().fold(0f64, |m, v| m.max(v.norm()));
            let d = x
                .iter()
                .zip(y.iter())
                .fold(0f64, |m, (p, q)| m.max((p - q).norm()));
            worst = worst.max(d / peak);
        }
    }
    for (a, b) in r.transmitted_flux.iter().zip(&f.transmitted_flux) {
        worst = worst.max((a - b).abs() / a.abs());
    }
    for (a, b) in r.facts.iter().zip(&f.facts) {
        assert_eq!(a.steps, b.steps, "the stop rule fired at a different step");
        println!(
            "{} steps; reference {:.1} M cell-updates/s, fused {:.1} M/s",
            a.steps,
            a.cell_updates_per_s / 1e6,
            b.cell_updates_per_s / 1e6
        );
    }
    println!("lens run: max relative difference of the near field and flux {worst:.3e}");
    assert!(worst <= TOL, "near field differs by {worst:.3e}");
}
