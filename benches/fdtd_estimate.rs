//! The pre-run estimate of a lens run ([`estimate`]) against the run itself: steps, seconds
//! and bytes, on benchmark lenses ([`LensProblem::benchmark`]) of the sizes of
//! validation/fullwave3d, with the defaults of `metalens fullwave` (decay
//! [`LENS_DECAY`], no bulk dispersion correction, mirror symmetry, x-polarised).
//!
//! `cargo bench --bench fdtd_estimate -- 5:0.9:30 10:0.9:40` (diameter µm : NA : px/µm; default
//! 5:0.9:30 5:0.9:40); the thread count is rayon's (`RAYON_NUM_THREADS`). Each lens is run in
//! full: minutes for the 10 µm lens at 40 px/µm. Results: validation/fullwave3d/roofline.md.
//!
//! `-- steps:10:40:200` instead times 200 steps of each kernel on the benchmark lens grid
//! (10 µm, 40 px/µm), on 1 and 2 threads, as wall time and as CPU time (getrusage): on a
//! machine shared with other jobs the CPU-time rate is what the kernel does when it runs.

use metalens::fdtd::lens::LENS_DISPERSION_CORRECTION;
use metalens::fdtd::lens::{estimate, solve_lens, LensProblem, LENS_DECAY};
use metalens::fdtd::FdtdSettings;
use std::time::Instant;

/// User + system CPU seconds of this process so far.
fn cpu_s() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// `steps:D:res:N`: N steps of each kernel on the lens grid, 1 and 2 threads.
fn kernel_steps(d: f64, res: f64, n: usize) {
    use metalens::fdtd::grid::Kernel;
    use metalens::nearfield::Polarization;
    let s = FdtdSettings {
        resolution: res,
        decay: LENS_DECAY,
        dispersion_correction: LENS_DISPERSION_CORRECTION,
        ..FdtdSettings::default()
    };
    let p = LensProblem::benchmark(d, 0.9);
    let (mut g, _) = metalens::fdtd::lens::lens_grid(&p, &s, Polarization::X).expect("grid");
    g.f.ex
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = ((i % 17) as f32) * 1e-3);
    let cells = g.cells() as f64;
    println!(
        "| grid | kernel | threads | M cell-updates/s (wall) | M cell-updates/s per CPU-second |"
    );
    println!("|---|---|---|---|---|");
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for kernel in [Kernel::Fused, Kernel::Reference] {
            g.kernel = kernel;
            pool.install(|| (0..5).for_each(|_| g.step()));
            let (t, c) = (Instant::now(), cpu_s());
            pool.install(|| (0..n).for_each(|_| g.step()));
            let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_s() - c);
            println!(
                "| {}×{}×{} | {kernel:?} | {threads} | {:.0} | {:.0} |",
                g.nx,
                g.ny,
                g.nz,
                cells * n as f64 / wall / 1e6,
                cells * n as f64 / cpu / 1e6
            );
        }
    }
}

fn main() {
    for a in std::env::args().skip(1).filter(|a| a.starts_with("steps:")) {
        let v: Vec<f64> = a[6..].split(':').filter_map(|x| x.parse().ok()).collect();
        kernel_steps(v[0], v[1], v[2] as usize);
    }
    if std::env::args().any(|a| a.starts_with("steps:")) {
        return;
    }
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
