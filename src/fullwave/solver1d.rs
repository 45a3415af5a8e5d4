//! One-dimensional RCWA: a single layer of ridges (infinite along y, periodic along x) between
//! a substrate (incidence side) and an exit medium, at normal incidence.
//!
//! # Equations (normalised z' = k₀z, Kx = kx/k₀, h = η₀H; exp(−iωt))
//! Fields are expanded as F(x) = Σ_m F_m exp(i kx_m x), kx_m = 2πm/L, m = −M…M. With
//! [[ε]] the Toeplitz matrix of the Fourier coefficients of ε(x) and [[1/ε]] that of 1/ε:
//!
//! * **TE** (E ∥ y): F = Ey, G = −hx = −i dEy/dz'. d²Ey/dz'² = (Kx² − [[ε]]) Ey, so the modes
//!   Ey = W exp(iqz') have q² = eig([[ε]] − Kx²) and G = V F with V = W q.
//! * **TM** (H ∥ y): F = hy, G = Ex. Li's inverse rule for Ex (discontinuous across the
//!   sidewalls; Dx = εEx is continuous): Dx = [[1/ε]]⁻¹ Ex; Ez (continuous) uses Laurent's
//!   rule, Ez = −[[ε]]⁻¹ Kx hy. Then q² = eig([[1/ε]]⁻¹ (I − Kx [[ε]]⁻¹ Kx)) and
//!   G = V F with V = [[1/ε]] W q. `Factorization::Laurent` replaces [[1/ε]]⁻¹ by [[ε]]
//!   (for the convergence comparison only).
//!
//! A forward mode has G = +V F, a backward one G = −V F; in a uniform medium W = I and
//! V = diag(q) (TE) or diag(q/ε) (TM), q = √(ε − Kx²) with Im q ≥ 0.
//!
//! # Solve (only decaying exponentials)
//! With forward amplitudes a referenced at the bottom of the layer, backward amplitudes b at
//! its top, X = diag(exp(i q k₀ h)) and the incident vector e (order 0, F = 1):
//!
//! ```text
//! e + r = W(a + X b)          V₁(e − r) = V(a − X b)          (bottom, z = 0)
//! t = W(X a + b)              V₃ t = V(X a − b)               (top, z = h)
//! ⇒ b = R X a,  R = (V₃W + V)⁻¹(V − V₃W),  [(V₁W + V) + (V₁W − V) X R X] a = 2 V₁ e
//! ```
//!
//! # Bases
//! [`Basis::Full`] uses all 2M+1 harmonics. [`Basis::Even`] exploits the mirror symmetry
//! x → −x of a symmetric ridge set at normal incidence: Ey (TE) and hy (TM) are even, so only
//! the orthonormal cosine vectors u₀ = e₀, u_j = (e_j + e_−j)/√2 (j = 1…M) are needed. In it
//! [[ε]] becomes c_{i−j} + c_{i+j} (×√2 on the row/column 0), and Kx[[ε]]⁻¹Kx needs the odd
//! sector of [[ε]], (c_{i−j} − c_{i+j}), inverted: Kx maps even vectors to odd ones. The
//! matrices are halved, the eigensolve ~8× cheaper.
//!
//! For a lossless structure (real ε) the TE matrix is real symmetric and the TM problem is a
//! real symmetric-definite pencil ([[1/ε]] is positive definite), solved by Cholesky and a
//! real symmetric eigensolver; a lossy structure takes the general complex path.

use crate::rcwa::modes::forward_sqrt;
use crate::rcwa::smatrix::solve_checked;
use crate::{Error, Result, C64};
use faer::{Mat, Side};
use std::f64::consts::PI;

/// Polarisation of a 1-D problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarization {
    /// E along the ridges (y).
    Te,
    /// H along the ridges (y), E across them (x).
    Tm,
}

impl Polarization {
    pub fn name(&self) -> &'static str {
        match self {
            Polarization::Te => "te",
            Polarization::Tm => "tm",
        }
    }
}

/// Fourier factorisation of the TM product ε Ex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factorization {
    /// Li's inverse rule, [[1/ε]]⁻¹ (default, correct for discontinuous ε).
    Li,
    /// Laurent's rule, [[ε]] (slow convergence for TM; kept for the comparison).
    Laurent,
}

/// Harmonic basis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// All orders −M…M.
    Full,
    /// The even (cosine) sector; needs a mirror-symmetric ridge set.
    Even,
}

/// One ridge: centre and width (µm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ridge {
    pub center: f64,
    pub width: f64,
}

/// A periodic 1-D structure: ridges of permittivity `eps_ridge` surrounded by the exit medium,
/// on a substrate, in one layer of `height`.
#[derive(Clone, Debug)]
pub struct Grating {
    /// Period L (µm).
    pub period: f64,
    /// Layer height (µm).
    pub height: f64,
    /// Ridges inside one period, centres in [−L/2, L/2), not overlapping.
    pub ridges: Vec<Ridge>,
    pub eps_ridge: C64,
    pub eps_substrate: C64,
    pub eps_exit: C64,
}

/// The result of a 1-D solve at normal incidence with a unit incident F (Ey = 1 for TE,
/// hy = 1 for TM).
#[derive(Clone, Debug)]
pub struct Solution {
    pub polarization: Polarization,
    /// Harmonic cut-off M (orders −M…M).
    pub harmonics: usize,
    pub period: f64,
    /// Transmitted F amplitudes (Ey or hy) of orders −M…M at the top of the layer (exit side).
    pub t: Vec<C64>,
    /// Reflected F amplitudes of orders −M…M at the bottom of the layer (substrate side).
    pub r: Vec<C64>,
    /// Transmitted power fraction Σ Re(V₃)|t|² / Re(V₁,0), computed from the orders.
    pub transmittance: f64,
    /// Reflected power fraction.
    pub reflectance: f64,
    /// Zeroth-order co-polarised E-field transmission coefficient (crate t definition).
    pub t0: C64,
    pub n_substrate: C64,
    pub n_exit: C64,
}

impl Solution {
    /// Index of order m in `t` / `r`.
    pub fn index(&self, m: i64) -> usize {
        (m + self.harmonics as i64) as usize
    }
    /// kx (rad/µm) of array index i.
    pub fn kx(&self, i: usize) -> f64 {
        2.0 * PI * (i as f64 - self.harmonics as f64) / self.period
    }
}

/// Fourier coefficient c_m = (1/L) ∫ f(x) e^{−i 2π m x / L} dx of a two-valued profile that
/// is `inside` in the ridges and `outside` elsewhere: analytic sum of sinc terms.
pub fn fourier_coefficient(g: &Grating, m: i64, inside: C64, outside: C64) -> C64 {
    let l = g.period;
    let mut s = C64::new(0.0, 0.0);
    let gm = 2.0 * PI * m as f64 / l;
    for r in &g.ridges {
        let u = 0.5 * gm * r.width;
        let sinc = if u == 0.0 { 1.0 } else { u.sin() / u };
        s += C64::from_polar(r.width / l * sinc, -gm * r.center);
    }
    let base = if m == 0 { outside } else { C64::new(0.0, 0.0) };
    base + (inside - outside) * s
}

impl Grating {
    /// Check the geometry: finite positive period/height, ridges inside the period and not
    /// overlapping (gaps ≥ 0).
    pub fn validate(&self) -> Result<()> {
        crate::error::check_positive("period", self.period, "µm")?;
        crate::error::check_positive("height", self.height, "µm")?;
        let mut rs = self.ridges.clone();
        rs.sort_by(|a, b| a.center.total_cmp(&b.center));
        for r in &rs {
            crate::error::check_positive("ridge width", r.width, "µm")?;
            if !r.center.is_finite() {
                return Err(Error::invalid("ridge centre", r.center, "must be finite"));
            }
        }
        for w in rs.windows(2) {
            let gap = (w[1].center - 0.5 * w[1].width) - (w[0].center + 0.5 * w[0].width);
            if gap < -1e-12 {
                return Err(Error::invalid(
                    "ridges",
                    format!("at {} and {} µm", w[0].center, w[1].center),
                    "overlap: neighbouring ridges must not intersect",
                ));
            }
        }
        let total: f64 = rs.iter().map(|r| r.width).sum();
        if total > self.period + 1e-12 {
            return Err(Error::invalid(
                "ridge widths",
                format!("{total} µm in total"),
                format!("exceed the period {} µm", self.period),
            ));
        }
        Ok(())
    }

    /// Whether the Fourier coefficients are even (c_m = c_−m) to rounding, i.e. the ridge set
    /// is mirror-symmetric about x = 0 (modulo the period).
    pub fn is_symmetric(&self, harmonics: usize) -> bool {
        let one = C64::new(1.0, 0.0);
        let zero = C64::new(0.0, 0.0);
        let c0 = fourier_coefficient(self, 0, one, zero).norm().max(1e-300);
        (1..=(2 * harmonics).min(4000) as i64).all(|m| {
            (fourier_coefficient(self, m, one, zero) - fourier_coefficient(self, -m, one, zero))
                .norm()
                <= 1e-10 * c0.max(1.0)
        })
    }
}

fn cz(x: f64) -> C64 {
    C64::new(x, 0.0)
}

/// Reduced matrices of one layer in a basis.
struct Reduced {
    /// [[ε]] (d × d)
    eps: Mat<C64>,
    /// [[1/ε]] (d × d)
    inv: Mat<C64>,
    /// Kx [[ε]]⁻¹ Kx (d × d)
    kek: Mat<C64>,
    /// Kx of each basis vector (|Kx| for the even sector)
    kx: Vec<f64>,
    /// basis index of order 0
    zero: usize,
}

fn build(g: &Grating, m_harm: usize, basis: Basis, k0: f64, need_kek: bool) -> Result<Reduced> {
    let mh = m_harm as i64;
    let er = g.eps_ridge;
    let eb = g.eps_exit;
    let one = C64::new(1.0, 0.0);
    // coefficients c_k for k = 0..=2M of ε and 1/ε
    let ce: Vec<C64> = (-2 * mh..=2 * mh)
        .map(|k| fourier_coefficient(g, k, er, eb))
        .collect();
    let ci: Vec<C64> = (-2 * mh..=2 * mh)
        .map(|k| fourier_coefficient(g, k, one / er, one / eb))
        .collect();
    let at = |c: &Vec<C64>, k: i64| c[(k + 2 * mh) as usize];
    let kxm = |m: i64| 2.0 * PI * m as f64 / g.period / k0;
    match basis {
        Basis::Full => {
            let n = 2 * m_harm + 1;
            let ord = |i: usize| i as i64 - mh;
            let eps = Mat::from_fn(n, n, |i, j| at(&ce, ord(i) - ord(j)));
            let inv = Mat::from_fn(n, n, |i, j| at(&ci, ord(i) - ord(j)));
            let kx: Vec<f64> = (0..n).map(|i| kxm(ord(i))).collect();
            let kek = if need_kek {
                let mut k = solve_checked(
                    &eps,
                    &Mat::from_fn(n, n, |i, j| if j == i { cz(kx[i]) } else { cz(0.0) }),
                    "the permittivity Toeplitz matrix",
                )?;
                for i in 0..n {
                    for j in 0..n {
                        k[(i, j)] *= kx[i];
                    }
                }
                k
            } else {
                Mat::zeros(0, 0)
            };
            Ok(Reduced {
                eps,
                inv,
                kek,
                kx,
                zero: m_harm,
            })
        }
        Basis::Even => {
            // symmetric check on the coefficients themselves
            let scale = at(&ce, 0).norm();
            for k in 1..=2 * mh {
                if (at(&ce, k) - at(&ce, -k)).norm() > 1e-10 * scale {
                    return Err(Error::invalid(
                        "ridge layout",
                        "(asymmetric)",
                        "the even-sector solve needs ridges mirror-symmetric about x = 0",
                    ));
                }
            }
            let d = m_harm + 1;
            let s2 = 2f64.sqrt();
            let even = |c: &Vec<C64>, i: usize, j: usize| -> C64 {
                let (a, b) = (i as i64, j as i64);
                match (i, j) {
                    (0, 0) => at(c, 0),
                    (0, _) => at(c, b) * s2,
                    (_, 0) => at(c, a) * s2,
                    _ => at(c, a - b) + at(c, a + b),
                }
            };
            let eps = Mat::from_fn(d, d, |i, j| even(&ce, i, j));
            let inv = Mat::from_fn(d, d, |i, j| even(&ci, i, j));
            let kx: Vec<f64> = (0..d).map(|i| kxm(i as i64)).collect();
            let kek = if need_kek && m_harm > 0 {
                // odd sector of [[ε]]: v_j = (e_j − e_−j)/√2, j = 1..M
                let eo = Mat::from_fn(m_harm, m_harm, |i, j| {
                    let (a, b) = (i as i64 + 1, j as i64 + 1);
                    at(&ce, a - b) - at(&ce, a + b)
                });
                let dmat = Mat::from_fn(
                    m_harm,
                    d,
                    |i, j| {
                        if j == i + 1 {
                            cz(kx[j])
                        } else {
                            cz(0.0)
                        }
                    },
                );
                let y = solve_checked(&eo, &dmat, "the odd-sector permittivity matrix")?;
                // D^T y
                Mat::from_fn(d, d, |i, j| {
                    if i == 0 {
                        cz(0.0)
                    } else {
                        y[(i - 1, j)] * kx[i]
                    }
                })
            } else {
                Mat::zeros(d, d)
            };
            Ok(Reduced {
                eps,
                inv,
                kek,
                kx,
                zero: 0,
            })
        }
    }
}

fn is_real(m: &Mat<C64>) -> bool {
    m.col_iter().all(|c| c.iter().all(|v| v.im == 0.0))
}

fn re(m: &Mat<C64>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].re)
}

fn to_c(m: &Mat<f64>) -> Mat<C64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| cz(m[(i, j)]))
}

/// Layer modes (W, V, q) in the reduced basis.
fn layer_modes(
    red: &Reduced,
    pol: Polarization,
    fact: Factorization,
) -> Result<(Mat<C64>, Mat<C64>, Vec<C64>)> {
    let d = red.kx.len();
    let eig_err = |e| Error::numerical("fullwave", format!("layer eigensolve failed ({e:?})"));
    // (W, q²)
    let (w, lam, v_pre): (Mat<C64>, Vec<C64>, Option<Mat<C64>>) = match (pol, fact) {
        (Polarization::Te, _) => {
            let mut a = red.eps.clone();
            for i in 0..d {
                a[(i, i)] -= red.kx[i] * red.kx[i];
            }
            if is_real(&a) {
                let ar = re(&a);
                let e = ar.self_adjoint_eigen(Side::Lower).map_err(eig_err)?;
                let lam = e.S().column_vector().iter().map(|&x| cz(x)).collect();
                (to_c(&e.U().to_owned()), lam, None)
            } else {
                let e = a.eigen().map_err(eig_err)?;
                let lam = e.S().column_vector().iter().copied().collect();
                (e.U().to_owned(), lam, None)
            }
        }
        (Polarization::Tm, Factorization::Li) => {
            // B = I − Kx[[ε]]⁻¹Kx;  B W = q² [[1/ε]] W
            let mut b = -&red.kek;
            for i in 0..d {
                b[(i, i)] += 1.0;
            }
            if is_real(&b) && is_real(&red.inv) {
                // symmetrise rounding
                let br = Mat::from_fn(d, d, |i, j| 0.5 * (b[(i, j)].re + b[(j, i)].re));
                let ir = re(&red.inv);
                let llt = ir.llt(Side::Lower).map_err(|e| {
                    Error::numerical(
                        "fullwave",
                        format!("[[1/eps]] is not positive definite ({e:?})"),
                    )
                })?;
                let l = llt.L().to_owned();
                // C = L⁻¹ B L⁻ᵀ
                let mut x = br.clone();
                l.solve_lower_triangular_in_place(&mut x); // L⁻¹ B
                let mut xt = x.transpose().to_owned(); // Bᵀ L⁻ᵀ = (L⁻¹B)ᵀ
                l.solve_lower_triangular_in_place(&mut xt); // L⁻¹ B L⁻ᵀ
                let c = Mat::from_fn(d, d, |i, j| 0.5 * (xt[(i, j)] + xt[(j, i)]));
                let e = c.self_adjoint_eigen(Side::Lower).map_err(eig_err)?;
                let y = e.U().to_owned();
                let lam = e.S().column_vector().iter().map(|&x| cz(x)).collect();
                // W = L⁻ᵀ Y ; [[1/ε]] W = L Y
                let mut wr = y.clone();
                l.transpose().solve_upper_triangular_in_place(&mut wr);
                let ly = &l * &y;
                (to_c(&wr), lam, Some(to_c(&ly)))
            } else {
                let p = solve_checked(&red.inv, &b, "[[1/eps]]")?;
                let e = p.eigen().map_err(eig_err)?;
                let lam = e.S().column_vector().iter().copied().collect();
                (e.U().to_owned(), lam, None)
            }
        }
        (Polarization::Tm, Factorization::Laurent) => {
            let mut b = -&red.kek;
            for i in 0..d {
                b[(i, i)] += 1.0;
            }
            let p = &red.eps * &b;
            let e = p.eigen().map_err(eig_err)?;
            let lam = e.S().column_vector().iter().copied().collect();
            (e.U().to_owned(), lam, None)
        }
    };
    let mut q = Vec::with_capacity(d);
    for l in lam {
        let qi = forward_sqrt(l);
        if qi.norm() < 1e-10 {
            return Err(Error::numerical(
                "fullwave",
                "a layer mode is at cut-off (q = 0); shift the wavelength or geometry slightly",
            ));
        }
        q.push(qi);
    }
    // V = W q (TE), [[1/ε]] W q (TM Li), [[ε]]⁻¹ W q (TM Laurent)
    let mut v = match (pol, fact, v_pre) {
        (Polarization::Te, _, _) => w.clone(),
        (Polarization::Tm, _, Some(v)) => v,
        (Polarization::Tm, Factorization::Li, None) => &red.inv * &w,
        (Polarization::Tm, Factorization::Laurent, None) => {
            solve_checked(&red.eps, &w, "[[eps]] (Laurent)")?
        }
    };
    for j in 0..d {
        for i in 0..d {
            v[(i, j)] *= q[j];
        }
    }
    Ok((w, v, q))
}

/// Solve the grating at normal incidence with M harmonics (orders −M…M).
pub fn solve(
    g: &Grating,
    wavelength: f64,
    harmonics: usize,
    pol: Polarization,
    basis: Basis,
    fact: Factorization,
) -> Result<Solution> {
    g.validate()?;
    crate::error::check_positive("wavelength", wavelength, "µm")?;
    let k0 = 2.0 * PI / wavelength;
    let red = build(g, harmonics, basis, k0, pol == Polarization::Tm)?;
    let d = red.kx.len();
    let (w, v, q) = layer_modes(&red, pol, fact)?;
    // uniform half-spaces: diagonal V
    let half = |eps: C64, where_: &str| -> Result<Vec<C64>> {
        red.kx
            .iter()
            .map(|kx| {
                let qz = forward_sqrt(eps - kx * kx);
                if qz.norm() < 1e-9 {
                    return Err(Error::numerical(
                        "fullwave",
                        format!("Rayleigh anomaly: an order grazes the {where_} (k_z = 0); change the period slightly"),
                    ));
                }
                Ok(match pol {
                    Polarization::Te => qz,
                    Polarization::Tm => qz / eps,
                })
            })
            .collect()
    };
    let v1 = half(g.eps_substrate, "substrate")?;
    let v3 = half(g.eps_exit, "exit medium")?;
    let x: Vec<C64> = q
        .iter()
        .map(|qi| (C64::new(0.0, 1.0) * qi * k0 * g.height).exp())
        .collect();
    // R = (V₃W + V)⁻¹(V − V₃W)
    let v3w = Mat::from_fn(d, d, |i, j| v3[i] * w[(i, j)]);
    let v1w = Mat::from_fn(d, d, |i, j| v1[i] * w[(i, j)]);
    let rmat = solve_checked(&(&v3w + &v), &(&v - &v3w), "the top interface")?;
    // M = (V₁W + V) + (V₁W − V) X R X
    let xrx = Mat::from_fn(d, d, |i, j| x[i] * rmat[(i, j)] * x[j]);
    let mmat = (&v1w + &v) + (&v1w - &v) * &xrx;
    let mut rhs = Mat::<C64>::zeros(d, 1);
    rhs[(red.zero, 0)] = v1[red.zero] * 2.0;
    let a = solve_checked(&mmat, &rhs, "the bottom interface")?;
    let xa = Mat::from_fn(d, 1, |i, _| x[i] * a[(i, 0)]);
    let b = &rmat * &xa;
    let t_red = &w * &(&xa + &b);
    let xb = Mat::from_fn(d, 1, |i, _| x[i] * b[(i, 0)]);
    let mut r_red = &w * &(&a + &xb);
    r_red[(red.zero, 0)] -= 1.0;
    // power from the orders (reduced basis is orthonormal)
    let p_inc = v1[red.zero].re;
    let transmittance = (0..d)
        .map(|i| v3[i].re * t_red[(i, 0)].norm_sqr())
        .sum::<f64>()
        / p_inc;
    let reflectance = (0..d)
        .map(|i| v1[i].re * r_red[(i, 0)].norm_sqr())
        .sum::<f64>()
        / p_inc;
    // expand to orders −M…M
    let n = 2 * harmonics + 1;
    let expand = |red_v: &Mat<C64>| -> Vec<C64> {
        match basis {
            Basis::Full => (0..n).map(|i| red_v[(i, 0)]).collect(),
            Basis::Even => {
                let s = 1.0 / 2f64.sqrt();
                (0..n)
                    .map(|i| {
                        let m = (i as i64 - harmonics as i64).unsigned_abs() as usize;
                        if m == 0 {
                            red_v[(0, 0)]
                        } else {
                            red_v[(m, 0)] * s
                        }
                    })
                    .collect()
            }
        }
    };
    let t = expand(&t_red);
    let r = expand(&r_red);
    let n_sub = g.eps_substrate.sqrt();
    let n_exit = g.eps_exit.sqrt();
    let t0 = match pol {
        Polarization::Te => t[harmonics],
        // Ex ratio: (q₃/ε₃) t / (q₁/ε₁) = (n_sub / n_exit) t at normal incidence
        Polarization::Tm => t[harmonics] * v3[red.zero] / v1[red.zero],
    };
    Ok(Solution {
        polarization: pol,
        harmonics,
        period: g.period,
        t,
        r,
        transmittance,
        reflectance,
        t0,
        n_substrate: n_sub,
        n_exit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slab_grating(w: f64) -> Grating {
        Grating {
            period: 0.5,
            height: 0.37,
            ridges: vec![Ridge {
                center: 0.0,
                width: w,
            }],
            eps_ridge: cz(2.74 * 2.74),
            eps_substrate: cz(1.455 * 1.455),
            eps_exit: cz(1.0),
        }
    }

    #[test]
    fn even_sector_equals_full_basis() {
        // the reduction is exact algebra: agreement to rounding (1e-9 allows for the
        // conditioning of the eigenproblems at 41 harmonics)
        let mut g = slab_grating(0.2);
        g.period = 2.0;
        g.ridges = vec![
            Ridge {
                center: -0.6,
                width: 0.15,
            },
            Ridge {
                center: 0.0,
                width: 0.3,
            },
            Ridge {
                center: 0.6,
                width: 0.15,
            },
        ];
        for pol in [Polarization::Te, Polarization::Tm] {
            let a = solve(&g, 0.685, 20, pol, Basis::Full, Factorization::Li).unwrap();
            let b = solve(&g, 0.685, 20, pol, Basis::Even, Factorization::Li).unwrap();
            let err =
                a.t.iter()
                    .zip(&b.t)
                    .chain(a.r.iter().zip(&b.r))
                    .map(|(x, y)| (x - y).norm())
                    .fold(0.0, f64::max);
            println!("even vs full {pol:?}: {err:.2e}");
            assert!(err < 1e-9, "{pol:?}: {err}");
        }
    }
}
