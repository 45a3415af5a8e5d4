//! Scattering matrices and the Redheffer star product.
//!
//! Port 1 is the lower side (towards the incidence medium), port 2 the upper side. Mode
//! amplitudes c⁺ (travelling +z) and c⁻ (travelling −z) in each region: the S-matrix maps the
//! incoming amplitudes (c₁⁺, c₂⁻) to the outgoing ones (c₁⁻, c₂⁺):
//!
//! ```text
//! c₁⁻ = S11 c₁⁺ + S12 c₂⁻        c₂⁺ = S21 c₁⁺ + S22 c₂⁻
//! ```
//!
//! A layer's own propagation is [[0, Φ], [Φ, 0]] with Φ = diag(exp(i q k₀ d)), Im q ≥ 0, so
//! only decaying exponentials ever appear: no blow-up for thick or strongly evanescent layers.

use super::modes::Modes;
use crate::{Error, Result, C64};
use faer::linalg::solvers::Solve;
use faer::Mat;

/// A scattering matrix of d modes per side.
#[derive(Clone, Debug)]
pub struct SMatrix {
    pub s11: Mat<C64>,
    pub s12: Mat<C64>,
    pub s21: Mat<C64>,
    pub s22: Mat<C64>,
}

fn identity(d: usize) -> Mat<C64> {
    Mat::from_fn(d, d, |i, j| {
        if i == j {
            C64::new(1.0, 0.0)
        } else {
            C64::new(0.0, 0.0)
        }
    })
}

/// Solve A X = B by LU with partial pivoting, failing loudly (not with NaN) on a singular A
/// (real or complex).
pub fn solve_checked<T: faer::traits::ComplexField>(
    a: &Mat<T>,
    b: &Mat<T>,
    what: &str,
) -> Result<Mat<T>> {
    let x = a.partial_piv_lu().solve(b);
    if x.col_iter()
        .any(|c| c.iter().any(|v| !faer::traits::math_utils::is_finite(v)))
    {
        return Err(Error::numerical(
            "rcwa",
            format!("singular matrix while solving {what}"),
        ));
    }
    Ok(x)
}

impl SMatrix {
    /// Interface between region `a` (below) and region `b` (above), matching tangential E and
    /// H at the interface plane: [W_a W_a; V_a −V_a] (a⁺, a⁻) = [W_b W_b; V_b −V_b] (b⁺, b⁻).
    /// With X = W_a⁻¹W_b, Y = V_a⁻¹V_b, F = X + Y, G = X − Y:
    /// S11 = G F⁻¹, S21 = 2F⁻¹, S12 = ½(F − G F⁻¹ G), S22 = −F⁻¹ G.
    pub fn interface(a: &Modes, b: &Modes) -> Result<Self> {
        let x = match (&a.w, &b.w) {
            (None, None) => identity(a.dim()),
            (None, Some(wb)) => wb.clone(),
            (Some(wa), None) => solve_checked(wa, &identity(a.dim()), "the interface (W)")?,
            (Some(wa), Some(wb)) => solve_checked(wa, wb, "the interface (W)")?,
        };
        let y = solve_checked(&a.v, &b.v, "the interface (V)")?;
        let f = &x + &y;
        let g = &x - &y;
        let d = a.dim();
        let flu = f.partial_piv_lu();
        let finv = flu.solve(identity(d));
        if finv
            .col_iter()
            .any(|c| c.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()))
        {
            return Err(Error::numerical(
                "rcwa",
                "singular interface matrix (Rayleigh anomaly or degenerate modes?)",
            ));
        }
        let finv_g = &finv * &g;
        let s11 = &g * &finv;
        let s21 = &finv * faer::Scale(C64::new(2.0, 0.0));
        let s12 = (&f - &g * &finv_g) * faer::Scale(C64::new(0.5, 0.0));
        let s22 = -&finv_g;
        Ok(SMatrix { s11, s12, s21, s22 })
    }

    /// Append a homogeneous propagation over the layer described by `phase` = exp(i q k₀ d)
    /// (self ⋆ [[0, Φ], [Φ, 0]]): S11 unchanged, S12 → S12 Φ, S21 → Φ S21, S22 → Φ S22 Φ.
    pub fn propagate(mut self, phase: &[C64]) -> Self {
        let d = phase.len();
        for j in 0..d {
            for i in 0..d {
                self.s12[(i, j)] *= phase[j];
                self.s21[(i, j)] *= phase[i];
                self.s22[(i, j)] *= phase[i] * phase[j];
            }
        }
        self
    }

    /// Redheffer star product self ⋆ other (self below, other above).
    pub fn star(&self, b: &SMatrix) -> Result<Self> {
        let d = self.s11.nrows();
        let id = identity(d);
        // (I − B11 A22)⁻¹ and (I − A22 B11)⁻¹
        let m1 = &id - &b.s11 * &self.s22;
        let m2 = &id - &self.s22 * &b.s11;
        let m1_b11_a21 = solve_checked(&m1, &(&b.s11 * &self.s21), "a star product")?;
        let m1_b12 = solve_checked(&m1, &b.s12, "a star product")?;
        let m2_a21 = solve_checked(&m2, &self.s21, "a star product")?;
        let m2_a22_b12 = solve_checked(&m2, &(&self.s22 * &b.s12), "a star product")?;
        Ok(SMatrix {
            s11: &self.s11 + &self.s12 * &m1_b11_a21,
            s12: &self.s12 * &m1_b12,
            s21: &b.s21 * &m2_a21,
            s22: &b.s22 + &b.s21 * &m2_a22_b12,
        })
    }
}
