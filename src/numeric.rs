//! Small numerical helpers shared by the stages: sample grids and the one golden-section
//! search of the crate (focal-plane refinement in 2-D and 1-D, the layout's phase offset), the
//! one phase-wrapping function and the index of a sampled maximum.

use std::f64::consts::PI;

/// Wrap a phase (radians) into (−π, π]. The only phase-wrapping function of the crate.
#[inline]
pub fn wrap_phase(phase: f64) -> f64 {
    let w = (phase + PI).rem_euclid(2.0 * PI) - PI;
    // rem_euclid maps odd multiples of π to −π; the half-open interval is (−π, π]
    if w <= -PI {
        w + 2.0 * PI
    } else {
        w
    }
}

/// Index of the largest sample (NaN ordered by `total_cmp`); `None` for no samples.
pub fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// `n` equally spaced samples from `a` to `b` inclusive (n ≥ 2).
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Outcome of [`golden_section_max`].
#[derive(Clone, Copy, Debug)]
pub struct GoldenSection<T> {
    /// The final bracket (lo, hi).
    pub bracket: (f64, f64),
    /// The better of the two final interior samples (x, f(x)): the one with the larger score,
    /// the second on a tie.
    pub best: (f64, T),
}

/// Golden-section search for the maximum of `score(f(x))` over [lo, hi], for a function that
/// is unimodal there. Each of the `iterations` steps evaluates `f` once and shrinks the
/// bracket by the golden ratio g = (√5 − 1)/2 ≈ 0.618, so the bracket ends at
/// g^iterations of its start (30 steps: 5.4e-7; 20 steps: 6.6e-5). `f` may return more than
/// the score (the layout keeps the amplitude that goes with a phase offset).
pub fn golden_section_max<T: Copy>(
    mut f: impl FnMut(f64) -> T,
    score: impl Fn(&T) -> f64,
    lo: f64,
    hi: f64,
    iterations: usize,
) -> GoldenSection<T> {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let mut fc = f(c);
    let mut fd = f(d);
    for _ in 0..iterations {
        if score(&fc) > score(&fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    GoldenSection {
        bracket: (a, b),
        best: if score(&fc) > score(&fd) {
            (c, fc)
        } else {
            (d, fd)
        },
    }
}

/// The one look-up of a value on an axis of lengths (wavelengths, heights, pitches in µm):
/// the first entry within 1e-6 relative of `value`. Axis values come from design files
/// (ranges expanded in f64) and HDF5 round trips: they match within 1e-6 relative, far below
/// any physical difference (1e-6 µm = 1 fm at 1 µm).
pub fn axis_position(axis: &[f64], value: f64) -> Option<usize> {
    let tol = 1e-6 * value.abs().max(1e-9);
    axis.iter().position(|&a| (a - value).abs() <= tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_section_finds_the_maximum_of_a_parabola() {
        let r = golden_section_max(|x| -(x - 0.3f64).powi(2), |v| *v, -1.0, 2.0, 40);
        let mid = 0.5 * (r.bracket.0 + r.bracket.1);
        // bracket 3 · 0.618^40 ≈ 1.3e-8
        assert!((mid - 0.3).abs() < 2e-8, "{mid}");
        assert!((r.best.0 - 0.3).abs() < 2e-8);
        assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }
}
