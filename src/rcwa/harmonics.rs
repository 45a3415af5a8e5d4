//! The set of Fourier harmonics G = m b1 + n b2 kept in the expansion.
//!
//! Circular truncation: all G with |G| ≤ G_max, G_max chosen so that about the requested
//! number of harmonics is kept, always including whole shells of equal |G| (so that the set
//! keeps the lattice's symmetry). The in-plane wave vector of harmonic i is
//! k_i = k_inc,∥ + G_i.

use crate::cell::Lattice;

/// Harmonic indices and their reciprocal vectors.
#[derive(Clone, Debug)]
pub struct Harmonics {
    /// (m, n) per harmonic; index 0 is always (0, 0).
    pub mn: Vec<(i32, i32)>,
    /// G = m b1 + n b2 (rad/µm).
    pub g: Vec<[f64; 2]>,
    /// Largest |m| and |n| present.
    pub m_max: i32,
    pub n_max: i32,
    /// Truncation radius |G| (rad/µm).
    pub g_max: f64,
}

impl Harmonics {
    /// About `target` harmonics (at least 1) of the lattice.
    pub fn circular(lattice: &Lattice, target: usize) -> Self {
        let (b1, b2) = lattice.reciprocal();
        let target = target.max(1);
        // Enumerate a box large enough: |m| ≤ M with M from the area of a disc holding `target`.
        let cell = (b1[0] * b2[1] - b1[1] * b2[0]).abs();
        let radius = ((target as f64 + 10.0) * cell / std::f64::consts::PI).sqrt() * 1.5
            + b1[0].hypot(b1[1]).max(b2[0].hypot(b2[1]));
        // the box in (m, n) covering the disc |G| ≤ radius
        let inv = |v: [f64; 2]| v[0].hypot(v[1]);
        let mm = (radius * inv(lattice.a1) / (2.0 * std::f64::consts::PI)).ceil() as i32 + 1;
        let nm = (radius * inv(lattice.a2) / (2.0 * std::f64::consts::PI)).ceil() as i32 + 1;
        let mut all: Vec<(f64, i32, i32)> = Vec::new();
        for m in -mm..=mm {
            for n in -nm..=nm {
                let g = [
                    m as f64 * b1[0] + n as f64 * b2[0],
                    m as f64 * b1[1] + n as f64 * b2[1],
                ];
                all.push((g[0].hypot(g[1]), m, n));
            }
        }
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let cut = all[(target - 1).min(all.len() - 1)].0;
        let tol = 1e-9 * cut.max(1e-300);
        let kept: Vec<_> = all.into_iter().filter(|x| x.0 <= cut + tol).collect();
        let mn: Vec<(i32, i32)> = kept.iter().map(|x| (x.1, x.2)).collect();
        let g = mn
            .iter()
            .map(|&(m, n)| {
                [
                    m as f64 * b1[0] + n as f64 * b2[0],
                    m as f64 * b1[1] + n as f64 * b2[1],
                ]
            })
            .collect();
        let m_max = mn.iter().map(|x| x.0.abs()).max().unwrap_or(0);
        let n_max = mn.iter().map(|x| x.1.abs()).max().unwrap_or(0);
        Harmonics {
            mn,
            g,
            m_max,
            n_max,
            g_max: cut,
        }
    }

    pub fn len(&self) -> usize {
        self.mn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mn.is_empty()
    }

    /// Index of harmonic (m, n), if kept.
    pub fn index_of(&self, m: i32, n: i32) -> Option<usize> {
        self.mn.iter().position(|&x| x == (m, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_are_complete_and_zero_first() {
        let h = Harmonics::circular(&Lattice::square(1.0).unwrap(), 10);
        // shells of the square lattice: 1, 4, 4, 4, 8, ... -> 10 rounds up to 13 (1+4+4+4)
        assert_eq!(h.len(), 13);
        assert_eq!(h.mn[0], (0, 0));
        let hx = Harmonics::circular(&Lattice::hexagonal(1.0).unwrap(), 7);
        assert_eq!(hx.len(), 7); // 1 + 6
        for &(m, n) in &h.mn {
            assert!(h.index_of(-m, -n).is_some());
        }
    }
}
