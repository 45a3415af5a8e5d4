//! FDTD kernel throughput (cell-updates per second of one leap-frog step, both kernels of
//! [`Kernel`]) on 1 and 2 threads:
//! - a fixed 96 × 96 × 96 grid (H and E, CPML on the z ends, a pillar-layer ε map with
//!   off-diagonal wall terms on a third of the planes), which nearly fits the caches;
//! - the grids of whole lenses as `metalens fullwave` builds them ([`lens_grid`] of
//!   [`LensProblem::benchmark`], quarter grid with mirror planes, lateral and z CPML): 10 µm and
//!   20 µm NA 0.9 at 40 px/µm (240 × 240 × 101 and 440 × 440 × 101 cells), far beyond the caches.
//!
//! Short on purpose (10 samples, 4 s each): `cargo bench --bench fdtd -- lens10` for one group.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metalens::fdtd::grid::{Axis, Grid, Kernel, Permittivity, PlaneEps, PmlParams, Side};
use metalens::fdtd::lens::{lens_grid, LensProblem, LENS_DECAY, LENS_DISPERSION_CORRECTION};
use metalens::fdtd::FdtdSettings;
use metalens::nearfield::Polarization;
use std::time::Duration;

fn grid(n: usize) -> Grid {
    let nz = n;
    // a third of the planes carry a (non-uniform) map, as in a lens's pillar layer
    let map: Vec<f32> = (0..n * n)
        .map(|i| if (i / 7) % 3 == 0 { 1.0 / 7.5 } else { 1.0 })
        .collect();
    let plane = |k: usize| {
        if k >= nz / 3 && k < 2 * nz / 3 {
            PlaneEps::Map(0)
        } else {
            PlaneEps::Uniform(1.0 / 2.1)
        }
    };
    // off-diagonal ε⁻¹ on the wall voxels (where the map changes), as on slanted pillar walls
    let off: Vec<f32> = (0..n * n)
        .map(|i| if i % 7 == 0 || i % 7 == 6 { 0.05 } else { 0.0 })
        .collect();
    let off_plane = |k: usize| (k >= nz / 3 && k < 2 * nz / 3).then_some(0);
    let eps = Permittivity {
        planes: [0, 1, 2].map(|_| (0..nz).map(plane).collect()),
        maps: vec![map],
        off: [0, 1].map(|_| (0..nz).map(off_plane).collect()),
        off_maps: vec![off],
        inv_mu: Default::default(),
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
            lo: Side::Pml(10),
            hi: Side::Pml(10),
        },
    ];
    let mut g = Grid::new(ax, 0.025, 0.5, eps, [pml, pml, pml]);
    fill(&mut g);
    g
}

/// Non-zero fields so no denormal fast path flatters the timing.
fn fill(g: &mut Grid) {
    g.f.ex
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = ((i % 17) as f32) * 1e-3);
}

/// The quarter grid of the benchmark lens of diameter `d` µm at 40 px/µm.
fn lens(d: f64) -> Grid {
    let s = FdtdSettings {
        resolution: 40.0,
        decay: LENS_DECAY,
        dispersion_correction: LENS_DISPERSION_CORRECTION,
        ..FdtdSettings::default()
    };
    let (mut g, _) = lens_grid(&LensProblem::benchmark(d, 0.9), &s, Polarization::X).unwrap();
    fill(&mut g);
    g
}

fn steps(c: &mut Criterion, name: &str, mut g: Grid) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(g.cells() as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for kernel in [Kernel::Fused, Kernel::Reference] {
            g.kernel = kernel;
            let (nx, ny, nz) = (g.nx, g.ny, g.nz);
            group.bench_function(
                format!("{nx}x{ny}x{nz} {kernel:?}, {threads} thread(s)"),
                |b| b.iter(|| pool.install(|| g.step())),
            );
        }
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    steps(c, "fdtd_step_96", grid(96));
    steps(c, "fdtd_step_lens10", lens(10.0));
    steps(c, "fdtd_step_lens20", lens(20.0));
}

criterion_group!(benches, bench);
criterion_main!(benches);
