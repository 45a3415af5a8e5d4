//! Eigenmodes of one layer (or half-space) in the plane-wave basis.
//!
//! Normalised units: z' = k₀z, K = k_∥/k₀, h = Z₀H. With exp(−iωt), Maxwell's curl equations
//! for the tangential fields of the harmonic expansion read (derived in the module docs of
//! `rcwa`, src/rcwa/mod.rs):
//!
//! ```text
//! d/dz' [Ex; Ey] = i P [hx; hy],   P = [[Kx η Ky,  I − Kx η Kx], [Ky η Ky − I,  −Ky η Kx]]
//! d/dz' [hx; hy] = i Q [Ex; Ey],   Q = [[−KxKy − ε_yx,  Kx² − ε_yy], [ε_xx − Ky²,  KyKx + ε_xy]]
//! ```
//!
//! with η = [[ε]]⁻¹ (the zz-component: inverse of the permittivity Toeplitz matrix) and
//! ε_xx, ε_xy, ε_yx, ε_yy the factorised in-plane permittivity. Modes E = W exp(i q z'),
//! h = V exp(i q z') solve P Q W = W q², V = Q W q⁻¹; q is taken with Im q ≥ 0 (forward).
//!
//! Everything is expressed in a reduced basis (columns of B_E for E, B_H for h): the full
//! plane-wave basis, or one symmetry sector (see `symmetry`).

use super::harmonics::Harmonics;
use super::symmetry::Basis;
use crate::{Error, Result, C64};
use faer::Mat;

/// Modes of one region in a reduced basis of dimension d.
#[derive(Clone, Debug)]
pub struct Modes {
    /// E-field mode matrix; `None` means the identity (uniform media).
    pub w: Option<Mat<C64>>,
    /// h-field mode matrix (d × d).
    pub v: Mat<C64>,
    /// Normalised propagation constants q (Im q ≥ 0).
    pub q: Vec<C64>,
}

impl Modes {
    pub fn dim(&self) -> usize {
        self.v.nrows()
    }

    /// exp(i q k₀ d) for a layer of thickness d (µm).
    pub fn phase(&self, k0: f64, thickness: f64) -> Vec<C64> {
        self.q
            .iter()
            .map(|q| (C64::new(0.0, 1.0) * q * k0 * thickness).exp())
            .collect()
    }
}

/// Forward branch of √z: Im ≥ 0, and for (numerically) real z > 0 the positive root.
pub fn forward_sqrt(z: C64) -> C64 {
    let s = z.sqrt(); // principal: Re ≥ 0
                      // A propagating mode of a lossless medium may carry Im q ~ −1e−16 |q| from rounding:
                      // keep it forward. Flip only genuinely backward roots.
    if s.im < -1e-12 * s.norm() {
        -s
    } else {
        s
    }
}

/// Normalised in-plane wave vectors of the harmonics.
#[derive(Clone, Debug)]
pub struct Kvectors {
    pub kx: Vec<f64>,
    pub ky: Vec<f64>,
}

impl Kvectors {
    pub fn new(h: &Harmonics, k0: f64, k_par: [f64; 2]) -> Self {
        Kvectors {
            kx: h.g.iter().map(|g| (k_par[0] + g[0]) / k0).collect(),
            ky: h.g.iter().map(|g| (k_par[1] + g[1]) / k0).collect(),
        }
    }
    pub fn len(&self) -> usize {
        self.kx.len()
    }
    pub fn is_empty(&self) -> bool {
        self.kx.is_empty()
    }
    /// k_z/k₀ of every harmonic in a medium of permittivity ε (forward branch).
    pub fn kz(&self, eps: C64) -> Vec<C64> {
        self.kx
            .iter()
            .zip(&self.ky)
            .map(|(kx, ky)| forward_sqrt(eps - kx * kx - ky * ky))
            .collect()
    }
    /// The 2 × 2 block of V (h = V E for a forward plane wave) of harmonic i in a uniform
    /// medium: V_i = Q_i / k_z with Q_i = [[−kx ky, kx² − ε], [ε − ky², kx ky]].
    pub fn v_block(&self, i: usize, eps: C64, kz: C64) -> [[C64; 2]; 2] {
        let (kx, ky) = (self.kx[i], self.ky[i]);
        let c = |x: f64| C64::new(x, 0.0);
        [
            [c(-kx * ky) / kz, (c(kx * kx) - eps) / kz],
            [(eps - c(ky * ky)) / kz, c(kx * ky) / kz],
        ]
    }
}

/// Modes of a uniform medium of permittivity ε in the reduced basis. Fails at a Rayleigh
/// anomaly (a harmonic grazing, k_z = 0), where the plane-wave modes are degenerate.
pub fn uniform(
    k: &Kvectors,
    eps: C64,
    basis: &Basis,
    where_: &str,
    h: &Harmonics,
) -> Result<Modes> {
    let kz = k.kz(eps);
    let n = k.len();
    for (i, q) in kz.iter().enumerate() {
        if q.norm() < 1e-9 {
            let (m, nn) = h.mn[i];
            return Err(Error::numerical(
                "rcwa",
                format!("Rayleigh anomaly: diffraction order ({m}, {nn}) grazes the {where_} (k_z = 0); shift the wavelength, pitch or angle slightly"),
            ));
        }
    }
    // Full-basis V is block diagonal per harmonic: rows/cols (Ex_i, Ey_i) → (hx_i, hy_i).
    let block: Vec<[[C64; 2]; 2]> = (0..n).map(|i| k.v_block(i, eps, kz[i])).collect();
    let d = basis.dim();
    // V_s = B_Hᵀ V B_E, computed column by column with the sparse bases.
    let mut v = Mat::<C64>::zeros(d, d);
    let mut col_full = vec![C64::new(0.0, 0.0); 2 * n];
    for b in 0..d {
        for x in col_full.iter_mut() {
            *x = C64::new(0.0, 0.0);
        }
        for &(row, val) in &basis.e[b] {
            let (comp, i) = (row / n, row % n);
            // h = V E: hx_i += V[0][comp] E, hy_i += V[1][comp] E
            col_full[i] += block[i][0][comp] * val;
            col_full[n + i] += block[i][1][comp] * val;
        }
        for a in 0..d {
            let mut s = C64::new(0.0, 0.0);
            for &(row, val) in &basis.h[a] {
                s += col_full[row] * val;
            }
            v[(a, b)] = s;
        }
    }
    // In a symmetry sector every basis vector combines harmonics of one orbit (same |k_∥|),
    // so it has one k_z.
    let q = (0..d).map(|b| kz[basis.e[b][0].0 % n]).collect();
    Ok(Modes { w: None, v, q })
}

/// The factorised permittivity of a patterned layer in the full basis.
pub struct LayerMatrices {
    /// η = [[ε]]⁻¹ (N × N)
    pub eta: Mat<C64>,
    pub eps_xx: Mat<C64>,
    pub eps_xy: Mat<C64>,
    pub eps_yx: Mat<C64>,
    pub eps_yy: Mat<C64>,
}

/// Modes of a patterned layer in the reduced basis.
///
/// Sizes: the full P and Q are 2N × 2N (N harmonics); in a basis of dimension d the reduced
/// P_s = B_Eᵀ P B_H and Q_s = B_Hᵀ Q B_E are d × d, Ω² = P_s Q_s (d × d, general), W its
/// eigenvectors, q = √λ (forward branch), V = Q_s W q⁻¹ (d × d).
///
/// Real path (`allow_real`): for a lossless layer whose pattern is centrosymmetric about the
/// origin (every shape centred there after translation; Fourier coefficients real, ε_G = ε_{−G})
/// and real bases, P_s and Q_s are real matrices, so Ω² is real and its eigenproblem is solved
/// in real arithmetic (about 4× fewer flops than the complex one; complex-conjugate eigenvalue
/// pairs, the complex modes of a lossless grating, come out of the real Schur form). The
/// answer is the same decomposition up to rounding and the normalisation of the eigenvectors,
/// which cancels in every S-matrix.
pub fn patterned(
    k: &Kvectors,
    m: &LayerMatrices,
    basis: &Basis,
    allow_real: bool,
) -> Result<Modes> {
    let n = k.len();
    let one = C64::new(1.0, 0.0);
    // Entries of the full P and Q (2N × 2N), evaluated on demand.
    let p_at = |r: usize, c: usize| -> C64 {
        let (bi, i) = (r / n, r % n);
        let (bj, j) = (c / n, c % n);
        let e = m.eta[(i, j)];
        let id = if i == j { one } else { C64::new(0.0, 0.0) };
        match (bi, bj) {
            (0, 0) => e * (k.kx[i] * k.ky[j]),
            (0, 1) => id - e * (k.kx[i] * k.kx[j]),
            (1, 0) => e * (k.ky[i] * k.ky[j]) - id,
            _ => -e * (k.ky[i] * k.kx[j]),
        }
    };
    let q_at = |r: usize, c: usize| -> C64 {
        let (bi, i) = (r / n, r % n);
        let (bj, j) = (c / n, c % n);
        let diag = |v: f64| {
            if i == j {
                C64::new(v, 0.0)
            } else {
                C64::new(0.0, 0.0)
            }
        };
        match (bi, bj) {
            (0, 0) => diag(-k.kx[i] * k.ky[i]) - m.eps_yx[(i, j)],
            (0, 1) => diag(k.kx[i] * k.kx[i]) - m.eps_yy[(i, j)],
            (1, 0) => m.eps_xx[(i, j)] - diag(k.ky[i] * k.ky[i]),
            _ => diag(k.ky[i] * k.kx[i]) + m.eps_xy[(i, j)],
        }
    };
    // Reduced P_s = B_Eᵀ P B_H and Q_s = B_Hᵀ Q B_E straight from the sparse basis columns
    // (at most four entries each): O(d²) work instead of dense 2N-size products.
    let reduce = |rows: &[Vec<(usize, f64)>],
                  cols: &[Vec<(usize, f64)>],
                  f: &dyn Fn(usize, usize) -> C64| {
        Mat::<C64>::from_fn(rows.len(), cols.len(), |a, b| {
            let mut acc = C64::new(0.0, 0.0);
            for &(r, u) in &rows[a] {
                for &(c, v) in &cols[b] {
                    acc += f(r, c) * (u * v);
                }
            }
            acc
        })
    };
    let ps = reduce(&basis.e, &basis.h, &p_at);
    let qs = reduce(&basis.h, &basis.e, &q_at);
    if allow_real {
        if let (Some(pr), Some(qr)) = (real_part_if_real(&ps), real_part_if_real(&qs)) {
            return patterned_real(&pr, &qr);
        }
    }
    let omega2 = &ps * &qs;
    let eig = omega2.eigen().map_err(|e| {
        Error::numerical("rcwa", format!("layer eigensolve did not converge ({e:?})"))
    })?;
    let w = eig.U().to_owned();
    let lam = eig.S().column_vector();
    let qv = forward_roots((0..ps.nrows()).map(|i| lam[i]))?;
    let mut v = &qs * &w;
    scale_columns_by_inverse(&mut v, &qv);
    Ok(Modes {
        w: Some(w),
        v,
        q: qv,
    })
}

/// The real part of `m` if its imaginary parts are rounding noise: every |Im| ≤ 1e-13 of the
/// largest |entry| (the Fourier coefficients of a centred shape are real to the last bit; the
/// FFT of the normal-vector field leaves imaginary parts of ~1e-17).
pub(crate) fn real_part_if_real(m: &Mat<C64>) -> Option<Mat<f64>> {
    let mut max_abs = 0.0f64;
    let mut max_im = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let z = m[(i, j)];
            max_abs = max_abs.max(z.norm());
            max_im = max_im.max(z.im.abs());
        }
    }
    if max_im <= 1e-13 * max_abs {
        Some(Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].re))
    } else {
        None
    }
}

/// q = √λ on the forward branch for every eigenvalue, failing at cut-off (q = 0).
fn forward_roots(lam: impl Iterator<Item = C64>) -> Result<Vec<C64>> {
    lam.map(|l| {
        let qi = forward_sqrt(l);
        if qi.norm() < 1e-10 {
            Err(Error::numerical(
                "rcwa",
                "a layer mode is at cut-off (q = 0); shift the wavelength or geometry slightly",
            ))
        } else {
            Ok(qi)
        }
    })
    .collect()
}

/// v[:, j] /= q[j].
fn scale_columns_by_inverse(v: &mut Mat<C64>, q: &[C64]) {
    for (j, qj) in q.iter().enumerate() {
        let inv = C64::new(1.0, 0.0) / qj;
        for i in 0..v.nrows() {
            v[(i, j)] *= inv;
        }
    }
}

/// The real path of [`patterned`]: Ω² = P Q in f64, its eigenvectors U (complex only for
/// complex-conjugate pairs), V = Q U q⁻¹ with Q U formed as Q Re U + i Q Im U (two real
/// products instead of one complex one).
fn patterned_real(ps: &Mat<f64>, qs: &Mat<f64>) -> Result<Modes> {
    let omega2 = ps * qs;
    let eig = omega2.eigen().map_err(|e| {
        Error::numerical("rcwa", format!("layer eigensolve did not converge ({e:?})"))
    })?;
    let w = eig.U().to_owned();
    let lam = eig.S().column_vector();
    let d = ps.nrows();
    let qv = forward_roots((0..d).map(|i| lam[i]))?;
    let wr = Mat::<f64>::from_fn(d, d, |i, j| w[(i, j)].re);
    let wi = Mat::<f64>::from_fn(d, d, |i, j| w[(i, j)].im);
    let any_im = (0..d).any(|j| (0..d).any(|i| wi[(i, j)] != 0.0));
    let vr = qs * &wr;
    let mut v = if any_im {
        let vi = qs * &wi;
        Mat::<C64>::from_fn(d, d, |i, j| C64::new(vr[(i, j)], vi[(i, j)]))
    } else {
        Mat::<C64>::from_fn(d, d, |i, j| C64::new(vr[(i, j)], 0.0))
    };
    scale_columns_by_inverse(&mut v, &qv);
    Ok(Modes {
        w: Some(w),
        v,
        q: qv,
    })
}
