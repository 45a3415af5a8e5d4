//! Phase-library benchmarks (criterion, short): the sweep machinery's own cost per cell
//! (a trivial solver, with and without the checkpoint), the HDF5 write + read of a
//! 100 radii x 6 pitches library, and a few real RCWA cells at library harmonics (skipped
//! while the solver is a stub). The full 100 x 6 library timing (wall time, peak memory,
//! 1 vs 2 threads) is measured with the CLI under /usr/bin/time -v: see
//! validation/library/benchmark.md.

use criterion::{criterion_group, criterion_main, Criterion};
use metalens::io::design::Design;
use metalens::library::sweep::{
    rcwa_cell_solver, sweep, CellPoint, CellResult, SweepOptions, SweepSpec,
};
use metalens::C64;
use std::time::Duration;

fn spec() -> SweepSpec {
    let (d, _) = Design::builtin("pitch-sweep").unwrap();
    SweepSpec::from_design(&d).unwrap()
}

fn trivial(c: &CellPoint) -> metalens::Result<CellResult> {
    let t = C64::from_polar(0.9, c.radius * 40.0);
    Ok(CellResult {
        t: [t, t],
        transmittance: [0.81, 0.81],
        reflectance: [0.1, 0.1],
    })
}

fn bench(c: &mut Criterion) {
    let s = spec();
    let dir = std::env::temp_dir().join(format!("metalens-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = c.benchmark_group("library");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("sweep_overhead_390_cells", |b| {
        b.iter(|| sweep(&s, trivial, &SweepOptions::default()).unwrap())
    });
    let ck = dir.join("bench.ckpt");
    g.bench_function("sweep_overhead_390_cells_checkpointed", |b| {
        b.iter(|| {
            let _ = std::fs::remove_file(&ck);
            sweep(
                &s,
                trivial,
                &SweepOptions {
                    checkpoint: Some(metalens::io::checkpoint::CheckpointFile::shared(&ck)),
                    ..Default::default()
                },
            )
            .unwrap()
        })
    });
    let lib = sweep(&s, trivial, &SweepOptions::default())
        .unwrap()
        .library;
    let p = dir.join("bench.h5");
    g.bench_function("hdf5_save_load_100x6", |b| {
        b.iter(|| {
            lib.save(&p).unwrap();
            metalens::library::PhaseLibrary::load(&p).unwrap()
        })
    });
    // a few real cells (one pitch, 4 radii) at the design's harmonics
    let mut small = s.clone();
    small.settings.pitches = vec![0.25];
    small.settings.radii = vec![0.04, 0.07, 0.09, 0.11];
    let solver = rcwa_cell_solver(&small).unwrap();
    if solver(&small.settings.point(0)).is_ok() {
        g.sample_size(10).measurement_time(Duration::from_secs(10));
        g.bench_function("rcwa_4_cells_h200", |b| {
            b.iter(|| sweep(&small, &solver, &SweepOptions::default()).unwrap())
        });
    } else {
        eprintln!("rcwa::solve is a stub on this branch: real-cell benchmark skipped");
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
