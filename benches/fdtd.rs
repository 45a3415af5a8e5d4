//! FDTD kernel throughput: cell-updates per second of one leap-frog step (H and E, CPML on
//! the z ends, a pillar-layer ε map with off-diagonal wall terms on a third of the planes) on
//! a fixed 96 × 96 × 96 grid, on 1 and 2 threads.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metalens::fdtd::grid::{Axis, Grid, Permittivity, PlaneEps, PmlParams, Side};

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
    // non-zero fields so no denormal fast path flatters the timing
    g.f.ex
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = ((i % 17) as f32) * 1e-3);
    g
}

fn bench(c: &mut Criterion) {
    let n = 96;
    let mut group = c.benchmark_group("fdtd_step");
    group.throughput(Throughput::Elements((n * n * n) as u64));
    group.sample_size(20);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut g = grid(n);
        group.bench_function(format!("96^3 cell-updates, {threads} thread(s)"), |b| {
            b.iter(|| {
                pool.install(|| {
                    g.step_h();
                    g.step_e();
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
