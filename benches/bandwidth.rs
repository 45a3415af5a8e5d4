//! STREAM-style triad a[i] = b[i] + s·c[i] on f64 arrays far larger than the caches, on 1 and
//! 2 threads: the memory bandwidth the FDTD kernel's roofline is drawn against
//! (validation/fullwave3d/roofline.md). Bytes counted as STREAM counts them: 24 per element
//! (two reads, one write; the write-allocate read of `a` is not counted).
//!
//! `cargo bench --bench bandwidth` (or `-- N` for 2^N elements per array, default 25:
//! 3 × 256 MiB). Best of 10 repetitions per thread count, each touching every element once.

use rayon::prelude::*;
use std::time::Instant;

fn main() {
    let log2 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(25);
    let n = 1usize << log2;
    let mut a = vec![0f64; n];
    let b: Vec<f64> = (0..n).map(|i| (i % 1000) as f64).collect();
    let c: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
    let s = 3.0f64;
    let max_threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "triad over 3 × {} MiB f64 arrays, {} bytes counted per element",
        (n * 8) >> 20,
        24
    );
    for threads in 1..=max_threads.min(2) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        // one contiguous chunk per thread, as the FDTD's slabs of planes
        let chunk = n.div_ceil(threads);
        let mut best = f64::MAX;
        for _ in 0..10 {
            let t = Instant::now();
            pool.install(|| {
                a.par_chunks_mut(chunk)
                    .zip(b.par_chunks(chunk))
                    .zip(c.par_chunks(chunk))
                    .for_each(|((a, b), c)| {
                        for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                            *a = b + s * c;
                        }
                    })
            });
            best = best.min(t.elapsed().as_secs_f64());
        }
        let check = a[n / 3];
        println!(
            "{threads} thread(s): {:.1} GB/s (best of 10, {:.1} ms; a[n/3] = {check})",
            24.0 * n as f64 / best / 1e9,
            best * 1e3
        );
    }
}
