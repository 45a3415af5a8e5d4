//! Square 2-D FFT, in place: plans made once (rustfft), rows, tiled in-place transpose, rows,
//! transpose back; rayon over rows and over tile rows. No extra plane is allocated.

use crate::C64;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Planned forward and inverse FFTs of an n × n complex array (row-major). Unnormalised:
/// the caller applies the crate's convention (spectrum = forward ÷ N, field = inverse).
pub struct Fft2 {
    n: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

#[derive(Clone, Copy)]
struct SharedPtr(*mut C64);
// SAFETY: every parallel task touches a disjoint set of tiles (see `transpose_in_place`).
unsafe impl Send for SharedPtr {}
unsafe impl Sync for SharedPtr {}
impl SharedPtr {
    fn get(self) -> *mut C64 {
        self.0
    }
}

impl Fft2 {
    /// Plan the transforms for an n × n grid (n ≥ 1).
    pub fn new(n: usize) -> Self {
        let mut planner = FftPlanner::<f64>::new();
        Fft2 {
            n,
            forward: planner.plan_fft_forward(n),
            inverse: planner.plan_fft_inverse(n),
        }
    }

    /// Side length.
    pub fn size(&self) -> usize {
        self.n
    }

    /// Forward transform Σ a e^{-2πi(...)} in place, no normalisation.
    pub fn forward(&self, data: &mut [C64]) {
        self.run(&self.forward, data);
    }

    /// Inverse transform Σ a e^{+2πi(...)} in place, no normalisation.
    pub fn inverse(&self, data: &mut [C64]) {
        self.run(&self.inverse, data);
    }

    fn run(&self, fft: &Arc<dyn Fft<f64>>, data: &mut [C64]) {
        let n = self.n;
        assert_eq!(data.len(), n * n, "Fft2: buffer is not n × n");
        let scratch_len = fft.get_inplace_scratch_len();
        data.par_chunks_mut(n).for_each_init(
            || vec![C64::default(); scratch_len],
            |scratch, row| fft.process_with_scratch(row, scratch),
        );
        transpose_in_place(data, n);
        data.par_chunks_mut(n).for_each_init(
            || vec![C64::default(); scratch_len],
            |scratch, row| fft.process_with_scratch(row, scratch),
        );
        transpose_in_place(data, n);
    }
}

/// Side of the square tiles of the in-place transpose (32 × 16 bytes = two cache lines … per row).
const TILE: usize = 32;

/// In-place transpose of a square n × n row-major array, tiled, rayon over tile rows. Task I
/// swaps tiles (I, J) and (J, I) for J ≥ I, so no two tasks touch the same tile.
pub fn transpose_in_place(data: &mut [C64], n: usize) {
    let tiles = n.div_ceil(TILE);
    let ptr = SharedPtr(data.as_mut_ptr());
    (0..tiles).into_par_iter().for_each(|ti| {
        let p = ptr.get();
        let (r0, r1) = (ti * TILE, ((ti + 1) * TILE).min(n));
        for tj in ti..tiles {
            let (c0, c1) = (tj * TILE, ((tj + 1) * TILE).min(n));
            // SAFETY: see the doc comment: tiles (ti, tj) and (tj, ti) belong to task ti only.
            unsafe {
                if ti == tj {
                    for r in r0..r1 {
                        for c in (r + 1)..c1 {
                            std::ptr::swap(p.add(r * n + c), p.add(c * n + r));
                        }
                    }
                } else {
                    for r in r0..r1 {
                        for c in c0..c1 {
                            std::ptr::swap(p.add(r * n + c), p.add(c * n + r));
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a direct O(n^4) DFT on a small non-power-of-two grid: agreement to rounding
    /// (1e-12 relative; the DFT sums 36 terms of unit size).
    #[test]
    fn matches_direct_dft() {
        let n = 6;
        let a: Vec<C64> = (0..n * n)
            .map(|i| C64::new((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()))
            .collect();
        let mut b = a.clone();
        Fft2::new(n).forward(&mut b);
        for ky in 0..n {
            for kx in 0..n {
                let mut s = C64::default();
                for y in 0..n {
                    for x in 0..n {
                        let ph =
                            -2.0 * std::f64::consts::PI * ((kx * x + ky * y) as f64) / n as f64;
                        s += a[y * n + x] * C64::from_polar(1.0, ph);
                    }
                }
                assert!((s - b[ky * n + kx]).norm() < 1e-12 * 36.0);
            }
        }
        Fft2::new(n).inverse(&mut b);
        for i in 0..n * n {
            assert!((b[i] / (n * n) as f64 - a[i]).norm() < 1e-13);
        }
    }

    /// Larger than one transpose tile (n = 70 > 32, ragged last tile): the tiled transpose
    /// equals the naive one, and a plane wave transforms to one bin of height n².
    #[test]
    fn tiled_transpose_and_plane_wave() {
        let n = 70;
        let a: Vec<C64> = (0..n * n)
            .map(|i| C64::new(i as f64, -(i as f64)))
            .collect();
        let mut t = a.clone();
        transpose_in_place(&mut t, n);
        for r in 0..n {
            for c in 0..n {
                assert_eq!(t[c * n + r], a[r * n + c]);
            }
        }
        let mut w: Vec<C64> = (0..n * n)
            .map(|i| {
                let (y, x) = ((i / n) as f64, (i % n) as f64);
                C64::from_polar(
                    1.0,
                    2.0 * std::f64::consts::PI * (3.0 * x + 5.0 * y) / n as f64,
                )
            })
            .collect();
        Fft2::new(n).forward(&mut w);
        for (i, v) in w.iter().enumerate() {
            let expect = if i == 5 * n + 3 { (n * n) as f64 } else { 0.0 };
            assert!((v - C64::new(expect, 0.0)).norm() < 1e-8, "bin {i}: {v}");
        }
    }
}
