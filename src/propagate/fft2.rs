//! Square 2-D FFT, in place: plans made once (rustfft), rows then columns, rayon over rows and
//! over blocks of columns. No transpose plane: columns are gathered a block at a time into a
//! small per-thread buffer (`COLUMN_BLOCK` columns × n), transformed and scattered back.

use crate::C64;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Columns gathered per block in the column pass (16 complex = 256 bytes per row read).
const COLUMN_BLOCK: usize = 16;

/// Planned forward and inverse FFTs of an n × n complex array (row-major). Unnormalised:
/// the caller applies the crate's convention (spectrum = forward ÷ N, field = inverse).
pub struct Fft2 {
    n: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

#[derive(Clone, Copy)]
struct SharedPtr(*mut C64);
// SAFETY: every parallel task touches a disjoint set of columns (see `columns`).
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
        let ptr = SharedPtr(data.as_mut_ptr());
        let blocks = n.div_ceil(COLUMN_BLOCK);
        (0..blocks).into_par_iter().for_each_init(
            || {
                (
                    vec![C64::default(); n * COLUMN_BLOCK],
                    vec![C64::default(); scratch_len],
                )
            },
            |(buf, scratch), b| {
                let c0 = b * COLUMN_BLOCK;
                let w = COLUMN_BLOCK.min(n - c0);
                let p = ptr.get();
                // SAFETY: block b owns columns c0..c0+w of every row; blocks are disjoint and
                // the row pass above has finished (rayon joins before returning).
                unsafe {
                    for r in 0..n {
                        let src = p.add(r * n + c0);
                        for c in 0..w {
                            buf[c * n + r] = *src.add(c);
                        }
                    }
                }
                for c in 0..w {
                    fft.process_with_scratch(&mut buf[c * n..(c + 1) * n], scratch);
                }
                unsafe {
                    for r in 0..n {
                        let dst = p.add(r * n + c0);
                        for c in 0..w {
                            *dst.add(c) = buf[c * n + r];
                        }
                    }
                }
            },
        );
    }
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
}
