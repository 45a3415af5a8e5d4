//! Rigorous coupled-wave analysis (Fourier modal method) of one periodic unit cell.
//!
//! Pure math: no I/O, no rayon. [`solve`] solves one stack; [`RcwaPlan`] splits planning (what
//! a sweep shares) from execution. One file per stage and factorisation:
//!
//! | file | what | sizes |
//! |---|---|---|
//! | `harmonics` | circular truncation, N harmonics G | N |
//! | `fourier` | analytic shape transforms, Toeplitz [[f]], normal-vector field | N × N |
//! | `mod.rs` (`layer_matrices`) | η = [[ε]]⁻¹ and the normal-vector ε̂ (LU inversions) | N × N |
//! | `symmetry` | mirror-sector bases (two mirrors: ~N/2 each, one mirror: ~N) | 2N × d |
//! | `modes` | P, Q, eigensolve of Ω² = P Q (general; real for lossless centrosymmetric layers) | d × d |
//! | `direct` | one layer between half-spaces by block elimination (two LUs) | d × d |
//! | `smatrix` | interface S-matrices and Redheffer star products (multilayer stacks) | d × d |
//! | `plan` | plan / layer modes / solve; choice of paths | |
//!
//! # Derivation of the layer equations (used by `modes`)
//!
//! With exp(−iωt), μ = 1, z' = k₀z, h = Z₀H and K = k_∥/k₀, Maxwell's curl equations
//! ∇ × E = i k₀ h and ∇ × h = −i k₀ ε E in a z-invariant layer, for fields
//! Σ_G (E_G, h_G)(z) exp(i(k_∥ + G)·r), read component by component (∂_x → i Kx, ∂_y → i Ky
//! on the harmonics):
//!
//! ```text
//! i Ky Ez − dEy/dz' = i hx      dEx/dz' − i Kx Ez = i hy      Kx Ey − Ky Ex = hz
//! i Ky hz − dhy/dz' = −i (ε E)x  dhx/dz' − i Kx hz = −i (ε E)y  Kx hy − Ky hx = −(ε E)z
//! ```
//!
//! Eliminating Ez = −η (Kx hy − Ky hx) (η = [[ε]]⁻¹, the inverse rule for the normal
//! component D_z) and hz = Kx Ey − Ky Ex gives d/dz' [Ex; Ey] = i P [hx; hy] and
//! d/dz' [hx; hy] = i Q [Ex; Ey] with P and Q as written in `modes`, (ε E)_t = ε̂ E_t the
//! factorised in-plane permittivity. Then d²E/dz'² = −P Q E, so modes exp(i q z') have
//! q² = eigenvalues of Ω² = P Q, and h = Q E / q (i q h = i Q E).

pub mod direct;
pub mod fourier;
pub mod harmonics;
pub mod modes;
pub mod plan;
pub mod smatrix;
pub mod symmetry;

pub use plan::{LayerModes, Paths, RcwaPlan};

use crate::cell::{Incidence, Polarization, Shape, Stack};
use crate::{Result, C64};
use faer::Mat;
use harmonics::Harmonics;
use modes::{Kvectors, LayerMatrices};

/// How the in-plane permittivity of patterned layers is Fourier-factorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Factorization {
    /// Normal-vector method (Li's rules applied along the local normal of every boundary,
    /// Schuster et al. JOSA A 24, 2880 (2007)): the default.
    NormalVector,
    /// Plain Laurent rule ([[ε]] for every component): converges slowly; for comparison only.
    Laurent,
}

/// Solver settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Approximate total number of Fourier harmonics kept (circular truncation in reciprocal space).
    pub harmonics: usize,
    pub factorization: Factorization,
}

/// Default number of harmonics (chosen from the convergence study in validation/convergence).
pub const DEFAULT_HARMONICS: usize = 400;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            harmonics: DEFAULT_HARMONICS,
            factorization: Factorization::NormalVector,
        }
    }
}

/// Power in one diffraction order.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OrderPower {
    /// Indices (m, n) along the reciprocal vectors b1, b2.
    pub m: i32,
    pub n: i32,
    /// In-plane wave vector (kx, ky) / k0.
    pub kx: f64,
    pub ky: f64,
    /// Transmitted / reflected power fraction (0 for evanescent orders, which are not listed).
    pub t: f64,
    pub r: f64,
    /// Complex tangential (Ex, Ey) amplitudes of the transmitted order at the exit interface
    /// for the unit tangential incident field of the requested polarisation (same convention as
    /// [`Solution::t`], exp(−iωt)): the phase a supercell gives its diffracted order, which
    /// the zones of a metagrating lens must match (issue 24). Zero where the order is
    /// evanescent in the exit medium.
    #[serde(skip)]
    pub t_field: [C64; 2],
}

/// Result of one cell solve for the requested incident polarisation.
#[derive(Clone, Debug)]
pub struct Solution {
    /// Zeroth-order co-polarised transmission and reflection amplitudes (see crate docs for
    /// the definition of t): projected on the incident polarisation's basis vector.
    pub t: C64,
    pub r: C64,
    /// Zeroth-order cross-polarised amplitudes (on the orthogonal basis vector).
    pub t_cross: C64,
    pub r_cross: C64,
    /// Jones matrices of the zeroth order, `[out][in]`, in the basis of the incidence:
    /// (x, y) tangential components for x / y / Jones input, (s, p) for s / p input.
    pub jones_t: [[C64; 2]; 2],
    pub jones_r: [[C64; 2]; 2],
    /// Total transmitted and reflected power fractions, summed over propagating orders from
    /// the fields (Poynting flux), never 1 − the other.
    pub transmittance: f64,
    pub reflectance: f64,
    /// Propagating orders with their powers.
    pub orders: Vec<OrderPower>,
    /// Number of harmonics actually used.
    pub harmonics: usize,
    /// Wall time spent per stage of the solve (seconds).
    pub timings: Timings,
}

/// Where the time of one solve goes (seconds).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timings {
    /// Fourier coefficients, Toeplitz matrices, their inverses and the factorisation.
    pub fourier: f64,
    /// Building the reduced P, Q and the layer eigensolve.
    pub eigen: f64,
    /// Interfaces, star products and the final amplitudes.
    pub smatrix: f64,
    pub total: f64,
}

/// Zeroth-order and per-order responses to unit tangential x and y incident fields.
pub(crate) struct Response {
    /// Full-basis transmitted / reflected amplitudes [Ex_i…, Ey_i…] for x and y input.
    pub(crate) t: [Vec<C64>; 2],
    pub(crate) r: [Vec<C64>; 2],
}

/// Build the factorised permittivity matrices of a patterned layer.
pub(crate) fn layer_matrices(
    lattice: &crate::cell::Lattice,
    shapes: &[(Shape, C64)],
    eps_bg: C64,
    h: &Harmonics,
    factorization: Factorization,
    allow_real: bool,
    parity: Option<&[Vec<usize>; 2]>,
) -> Result<LayerMatrices> {
    let table = fourier::CoefficientTable::piecewise(lattice, h, eps_bg, shapes);
    let e = table.toeplitz(h);
    let lossless = eps_bg.im == 0.0 && shapes.iter().all(|(_, v)| v.im == 0.0);
    if allow_real && lossless {
        if let Some(er) = modes::real_part_if_real(&e) {
            return layer_matrices_real(lattice, shapes, eps_bg, h, factorization, er, parity);
        }
    }
    let n = h.len();
    let id = Mat::<C64>::from_fn(n, n, |i, j| {
        if i == j {
            C64::new(1.0, 0.0)
        } else {
            C64::new(0.0, 0.0)
        }
    });
    let eta = smatrix::solve_checked(&e, &id, "the permittivity Toeplitz matrix")?;
    match factorization {
        Factorization::Laurent => Ok(LayerMatrices {
            eta,
            eps_xx: e.clone(),
            eps_xy: Mat::zeros(n, n),
            eps_yx: Mat::zeros(n, n),
            eps_yy: e,
        }),
        Factorization::NormalVector => {
            // Δ = [[ε]] − [[1/ε]]⁻¹; ε̂ = [[ε]] − Δ [[N]], N = n nᵀ (Schuster et al. 2007):
            // the normal component of D sees the inverse rule, the tangential ones Laurent's.
            let a = smatrix::solve_checked(
                &inverse_permittivity_toeplitz(lattice, h, eps_bg, shapes),
                &id,
                "the inverse-permittivity Toeplitz matrix",
            )?;
            let delta = &e - &a;
            let geometry: Vec<Shape> = shapes.iter().map(|(s, _)| s.clone()).collect();
            let [nxx, nxy, nyy] = fourier::normal_vector_toeplitz(lattice, h, &geometry);
            // Symmetrised product ½(ΔN + NΔ): Hermitian for a lossless layer, so the truncated
            // problem conserves energy exactly (the one-sided ΔN of Schuster et al. does not,
            // by ~1e-5 here); both converge to the same limit.
            let half = faer::Scale(C64::new(0.5, 0.0));
            // Lossless layer: Δ and [[nnᵀ]] are Hermitian, so [[nnᵀ]]Δ = (Δ[[nnᵀ]])ᴴ and one
            // product per component suffices.
            let lossless = eps_bg.im == 0.0 && shapes.iter().all(|(_, v)| v.im == 0.0);
            let sym = |nm: &Mat<C64>| {
                let dn = &delta * nm;
                if lossless {
                    (&dn + dn.adjoint()) * half
                } else {
                    (&dn + nm * &delta) * half
                }
            };
            let dxy = sym(&nxy);
            Ok(LayerMatrices {
                eta,
                eps_xx: &e - sym(&nxx),
                eps_xy: -&dxy,
                eps_yx: -&dxy,
                eps_yy: &e - sym(&nyy),
            })
        }
    }
}

/// [`layer_matrices`] in real arithmetic, for a lossless layer whose Toeplitz matrices are real
/// (a centrosymmetric pattern about the origin: ε_G = ε_{−G} real): the same formulas with
/// N × N real inversions and products (4× fewer flops), returned as complex matrices. With
/// `parity` (the mirror permutations of a layer symmetric under x → −x and y → −y about the
/// origin) the inversions and products run in the four scalar parity blocks of ~N/4
/// ([`parity_blocks_nv`]: ~16× fewer flops, equal to the full-size result to rounding).
fn layer_matrices_real(
    lattice: &crate::cell::Lattice,
    shapes: &[(Shape, C64)],
    eps_bg: C64,
    h: &Harmonics,
    factorization: Factorization,
    e: Mat<f64>,
    parity: Option<&[Vec<usize>; 2]>,
) -> Result<LayerMatrices> {
    let n = h.len();
    let cplx = |m: &Mat<f64>| Mat::<C64>::from_fn(n, n, |i, j| C64::new(m[(i, j)], 0.0));
    if factorization == Factorization::Laurent {
        let eta = inverse(&e, "the permittivity Toeplitz matrix")?;
        let ec = cplx(&e);
        return Ok(LayerMatrices {
            eta: cplx(&eta),
            eps_xx: ec.clone(),
            eps_xy: Mat::zeros(n, n),
            eps_yx: Mat::zeros(n, n),
            eps_yy: ec,
        });
    }
    let real_or = |m: &Mat<C64>| {
        modes::real_part_if_real(m).unwrap_or_else(|| Mat::from_fn(n, n, |i, j| m[(i, j)].re))
    };
    let inv_t = real_or(&inverse_permittivity_toeplitz(lattice, h, eps_bg, shapes));
    let geometry: Vec<Shape> = shapes.iter().map(|(s, _)| s.clone()).collect();
    let nv = fourier::normal_vector_toeplitz(lattice, h, &geometry).map(|m| real_or(&m));
    let [eta, exx, exy, eyy] = match parity {
        Some(perms) => parity_blocks_nv(
            &e,
            &inv_t,
            [&nv[0], &nv[1], &nv[2]],
            &symmetry::scalar_parity_bases(perms),
        )?,
        None => {
            let eta = inverse(&e, "the permittivity Toeplitz matrix")?;
            let a = inverse(&inv_t, "the inverse-permittivity Toeplitz matrix")?;
            let delta = &e - &a;
            // ½(Δ[[N]] + [[N]]Δ) = ½(Δ[[N]] + (Δ[[N]])ᵀ) for symmetric Δ and [[N]] (see
            // layer_matrices)
            let sym = |nm: &Mat<f64>| {
                let dn = &delta * nm;
                Mat::<f64>::from_fn(n, n, |i, j| 0.5 * (dn[(i, j)] + dn[(j, i)]))
            };
            [eta, sym(&nv[0]), sym(&nv[1]), sym(&nv[2])]
        }
    };
    Ok(LayerMatrices {
        eta: cplx(&eta),
        eps_xx: Mat::from_fn(n, n, |i, j| C64::new(e[(i, j)] - exx[(i, j)], 0.0)),
        eps_xy: Mat::from_fn(n, n, |i, j| C64::new(-exy[(i, j)], 0.0)),
        eps_yx: Mat::from_fn(n, n, |i, j| C64::new(-exy[(i, j)], 0.0)),
        eps_yy: Mat::from_fn(n, n, |i, j| C64::new(e[(i, j)] - eyy[(i, j)], 0.0)),
    })
}

/// The Toeplitz matrix [[1/ε]] of a layer (background and shapes).
fn inverse_permittivity_toeplitz(
    lattice: &crate::cell::Lattice,
    h: &Harmonics,
    eps_bg: C64,
    shapes: &[(Shape, C64)],
) -> Mat<C64> {
    let one = C64::new(1.0, 0.0);
    let inv_shapes: Vec<(Shape, C64)> = shapes.iter().map(|(s, v)| (s.clone(), one / v)).collect();
    fourier::CoefficientTable::piecewise(lattice, h, one / eps_bg, &inv_shapes).toeplitz(h)
}

/// A checked real matrix inverse (`what` names the matrix in the error message).
fn inverse(m: &Mat<f64>, what: &str) -> Result<Mat<f64>> {
    smatrix::solve_checked(m, &Mat::identity(m.nrows(), m.nrows()), what)
}

/// The normal-vector Fourier stage of a layer symmetric under both mirrors, in the scalar parity
/// blocks `q` of [`symmetry::scalar_parity_bases`]: from the full N × N real [[ε]], [[1/ε]] and
/// [[n_x²]], [[n_x n_y]], [[n_y²]], the full matrices η = [[ε]]⁻¹ and the symmetrised
/// ½(Δ[[N]] + [[N]]Δ) for N = n_x², n_x n_y, n_y² (Δ = [[ε]] − [[1/ε]]⁻¹), as `layer_matrices`
/// computes them. Every even matrix is block diagonal; [[n_x n_y]] maps block q to 3 − q.
fn parity_blocks_nv(
    e: &Mat<f64>,
    inv_t: &Mat<f64>,
    [nxx, nxy, nyy]: [&Mat<f64>; 3],
    q: &[symmetry::Columns; 4],
) -> Result<[Mat<f64>; 4]> {
    let n = e.nrows();
    // Rᵀ A C for sparse orthonormal columns R, C (≤ 4 entries each)
    let block = |a: &Mat<f64>, rows: &symmetry::Columns, cols: &symmetry::Columns| {
        Mat::<f64>::from_fn(rows.len(), cols.len(), |i, j| {
            let mut acc = 0.0;
            for &(r, u) in &rows[i] {
                for &(c, v) in &cols[j] {
                    acc += u * v * a[(r, c)];
                }
            }
            acc
        })
    };
    // full += R X Cᵀ
    let scatter =
        |full: &mut Mat<f64>, x: &Mat<f64>, rows: &symmetry::Columns, cols: &symmetry::Columns| {
            for (i, ri) in rows.iter().enumerate() {
                for (j, cj) in cols.iter().enumerate() {
                    let xv = x[(i, j)];
                    for &(r, u) in ri {
                        for &(c, v) in cj {
                            full[(r, c)] += u * v * xv;
                        }
                    }
                }
            }
        };
    let sym = |m: &Mat<f64>| {
        Mat::<f64>::from_fn(m.nrows(), m.ncols(), |i, j| 0.5 * (m[(i, j)] + m[(j, i)]))
    };
    let mut out = [0, 1, 2, 3].map(|_| Mat::<f64>::zeros(n, n));
    let mut delta = Vec::with_capacity(4);
    for qb in q {
        if qb.is_empty() {
            delta.push(Mat::<f64>::zeros(0, 0));
            continue;
        }
        let eb = block(e, qb, qb);
        let eta = inverse(&eb, "the permittivity Toeplitz matrix")?;
        let d = &eb
            - inverse(
                &block(inv_t, qb, qb),
                "the inverse-permittivity Toeplitz matrix",
            )?;
        scatter(&mut out[0], &eta, qb, qb);
        scatter(&mut out[1], &sym(&(&d * block(nxx, qb, qb))), qb, qb);
        scatter(&mut out[3], &sym(&(&d * block(nyy, qb, qb))), qb, qb);
        delta.push(d);
    }
    for b in 0..4 {
        let b2 = 3 - b;
        if q[b].is_empty() || q[b2].is_empty() {
            continue;
        }
        // block (b2 ← b) of ½(Δ[[n_x n_y]] + [[n_x n_y]]Δ)
        let nb = block(nxy, &q[b2], &q[b]);
        let s = (&delta[b2] * &nb + &nb * &delta[b]) * faer::Scale(0.5);
        scatter(&mut out[2], &s, &q[b2], &q[b]);
    }
    Ok(out)
}

/// Solve the stack for the given incidence.
///
/// Returns the zeroth-order amplitudes (t at the top surface of the last layer, r at the
/// bottom surface of the first, both relative to the incident E-field at the bottom surface),
/// the Jones matrices, and the power of every propagating order computed from the Poynting
/// flux of the fields, with R and T summed independently (their sum is a check, not an input).
/// Every exact acceleration is on ([`Paths::FAST`]); a sweep reuses an [`RcwaPlan`] instead.
pub fn solve(stack: &Stack, incidence: &Incidence, settings: &Settings) -> Result<Solution> {
    solve_with_paths(stack, incidence, settings, Paths::FAST)
}

/// [`solve`], with the mirror-symmetry sectors switched off when `use_symmetry` is false
/// (for tests and comparisons: both paths must agree to rounding).
pub fn solve_with_symmetry(
    stack: &Stack,
    incidence: &Incidence,
    settings: &Settings,
    use_symmetry: bool,
) -> Result<Solution> {
    let paths = Paths {
        symmetry: use_symmetry,
        ..Paths::FAST
    };
    solve_with_paths(stack, incidence, settings, paths)
}

/// [`solve`] with a chosen set of accelerations ([`Paths::REFERENCE`]: the plain full-basis
/// S-matrix algorithm every other path is tested against).
pub fn solve_with_paths(
    stack: &Stack,
    incidence: &Incidence,
    settings: &Settings,
    paths: Paths,
) -> Result<Solution> {
    stack.validate()?;
    let plan = RcwaPlan::with_paths(
        &stack.lattice,
        settings,
        incidence,
        &stack.incidence,
        &stack.exit,
        paths,
    )?;
    plan.solve(stack)
}
/// Polarisation bookkeeping and Poynting fluxes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble(
    h: &Harmonics,
    k: &Kvectors,
    eps_inc: C64,
    eps_exit: C64,
    n_inc: C64,
    n_exit: C64,
    incidence: &Incidence,
    resp: &Response,
) -> Solution {
    let n = h.len();
    let z = C64::new(0.0, 0.0);
    let basis = InputBasis::of(incidence);
    let inputs = basis.inputs;
    let kz_inc = k.kz(eps_inc);
    let kz_exit = k.kz(eps_exit);
    let mut jones_t = [[z; 2]; 2];
    let mut jones_r = [[z; 2]; 2];
    for (col, e_in) in inputs.iter().enumerate() {
        let t = combine(&resp.t, *e_in);
        let r = combine(&resp.r, *e_in);
        let ot = basis.out_components(k, [t[0], t[n]], n_exit, kz_exit[0], false);
        let or = basis.out_components(k, [r[0], r[n]], n_inc, kz_inc[0], true);
        for row in 0..2 {
            jones_t[row][col] = ot[row];
            jones_r[row][col] = or[row];
        }
    }
    // The requested input as a combination of the two basis inputs.
    let (coef, co_row) = requested_input(incidence.polarization);
    let e_in = [
        inputs[0][0] * coef[0] + inputs[1][0] * coef[1],
        inputs[0][1] * coef[0] + inputs[1][1] * coef[1],
    ];
    let t_out = [
        jones_t[0][0] * coef[0] + jones_t[0][1] * coef[1],
        jones_t[1][0] * coef[0] + jones_t[1][1] * coef[1],
    ];
    let r_out = [
        jones_r[0][0] * coef[0] + jones_r[0][1] * coef[1],
        jones_r[1][0] * coef[0] + jones_r[1][1] * coef[1],
    ];
    let (t, t_cross, r, r_cross) = match co_row {
        Some(row) => (t_out[row], t_out[1 - row], r_out[row], r_out[1 - row]),
        None => {
            // co: conj(ê)·E, cross: conj(ê⊥)·E with ê⊥ = (−b*, a*)
            let (a, b) = (coef[0], coef[1]);
            let co = |v: [C64; 2]| a.conj() * v[0] + b.conj() * v[1];
            let cr = |v: [C64; 2]| -b * v[0] + a * v[1];
            (co(t_out), cr(t_out), co(r_out), cr(r_out))
        }
    };
    let media = HalfSpaces {
        eps_inc,
        eps_exit,
        kz_inc: &kz_inc,
        kz_exit: &kz_exit,
    };
    let (orders, tt, rr) = order_powers(h, k, &media, resp, e_in);
    Solution {
        t,
        r,
        t_cross,
        r_cross,
        jones_t,
        jones_r,
        transmittance: tt,
        reflectance: rr,
        orders,
        harmonics: n,
        timings: Timings::default(),
    }
}

/// The two input polarisations a solve's Jones matrices are written in: (x, y), or (s, p)
/// for an s/p request (then the outputs are in (s, p) too).
struct InputBasis {
    /// Tangential parts (x, y) of the two input basis vectors.
    inputs: [[C64; 2]; 2],
    /// Whether the outputs are (s, p) components of the full vector.
    sp_basis: bool,
    /// ŝ = (−sin φ, cos φ).
    s_hat: [f64; 2],
}

impl InputBasis {
    fn of(incidence: &Incidence) -> Self {
        let z = C64::new(0.0, 0.0);
        let one = C64::new(1.0, 0.0);
        let (th, ph) = (incidence.theta, incidence.phi);
        let s_hat = [-ph.sin(), ph.cos()];
        let (inputs, sp_basis): ([[C64; 2]; 2], bool) = match incidence.polarization {
            Polarization::S | Polarization::P => (
                [
                    [C64::new(s_hat[0], 0.0), C64::new(s_hat[1], 0.0)],
                    [
                        C64::new(th.cos() * ph.cos(), 0.0),
                        C64::new(th.cos() * ph.sin(), 0.0),
                    ],
                ],
                true,
            ),
            _ => ([[one, z], [z, one]], false),
        };
        InputBasis {
            inputs,
            sp_basis,
            s_hat,
        }
    }

    /// Output components of the zeroth order with tangential field `e` in a medium of index
    /// `nidx` (k_z = `kz`, negated for the `reflected` wave): `e` itself, or its (s, p)
    /// components, E_z from k·E = 0 and p̂ = ŝ × k̂.
    fn out_components(
        &self,
        k: &Kvectors,
        e: [C64; 2],
        nidx: C64,
        kz: C64,
        reflected: bool,
    ) -> [C64; 2] {
        if !self.sp_basis {
            return e;
        }
        let s_hat = self.s_hat;
        let (kx, ky) = (C64::new(k.kx[0], 0.0), C64::new(k.ky[0], 0.0));
        let kzs = if reflected { -kz } else { kz };
        let ez = -(kx * e[0] + ky * e[1]) / kzs;
        let khat = [kx / nidx, ky / nidx, kzs / nidx];
        // p̂ = ŝ × k̂
        let p_hat = [
            s_hat[1] * khat[2],
            -s_hat[0] * khat[2],
            s_hat[0] * khat[1] - s_hat[1] * khat[0],
        ];
        let es = e[0] * s_hat[0] + e[1] * s_hat[1];
        let ep = e[0] * p_hat[0] + e[1] * p_hat[1] + ez * p_hat[2];
        [es, ep]
    }
}

/// The response to the input e = e₀·(first basis input) + e₁·(second): v₀ e₀ + v₁ e₁ per
/// harmonic component.
fn combine(v: &[Vec<C64>; 2], e: [C64; 2]) -> Vec<C64> {
    v[0].iter()
        .zip(&v[1])
        .map(|(a, b)| a * e[0] + b * e[1])
        .collect()
}

/// The requested polarisation as coefficients of the two basis inputs, and the row of the
/// Jones matrix that is its co-polarised output (None for a general Jones vector, normalised).
fn requested_input(polarization: Polarization) -> ([C64; 2], Option<usize>) {
    let z = C64::new(0.0, 0.0);
    let one = C64::new(1.0, 0.0);
    match polarization {
        Polarization::X | Polarization::S => ([one, z], Some(0)),
        Polarization::Y | Polarization::P => ([z, one], Some(1)),
        Polarization::Jones(a, b) => {
            let nrm = (a.norm_sqr() + b.norm_sqr()).sqrt();
            ([a / nrm, b / nrm], None)
        }
    }
}

/// The incidence and exit half-spaces: permittivities and k_z of every harmonic.
struct HalfSpaces<'a> {
    eps_inc: C64,
    eps_exit: C64,
    kz_inc: &'a [C64],
    kz_exit: &'a [C64],
}

/// Poynting flux ½Re(Ex hy* − Ey hx*) of harmonic `i` with tangential E `e`, h = ±V E
/// (`sign`), in a medium of permittivity `eps` (k_z = `kz`).
fn poynting_flux(k: &Kvectors, e: [C64; 2], i: usize, eps: C64, kz: C64, sign: f64) -> f64 {
    let v = k.v_block(i, eps, kz);
    let hx = (v[0][0] * e[0] + v[0][1] * e[1]) * sign;
    let hy = (v[1][0] * e[0] + v[1][1] * e[1]) * sign;
    0.5 * (e[0] * hy.conj() - e[1] * hx.conj()).re
}

/// Powers per propagating order for the input `e_in` (fractions of the incident flux), and
/// their sums: (orders, T, R).
fn order_powers(
    h: &Harmonics,
    k: &Kvectors,
    media: &HalfSpaces,
    resp: &Response,
    e_in: [C64; 2],
) -> (Vec<OrderPower>, f64, f64) {
    let n = h.len();
    let (eps_inc, eps_exit, kz_inc, kz_exit) =
        (media.eps_inc, media.eps_exit, media.kz_inc, media.kz_exit);
    let t_full = combine(&resp.t, e_in);
    let r_full = combine(&resp.r, e_in);
    let p_inc = poynting_flux(k, e_in, 0, eps_inc, kz_inc[0], 1.0);
    let mut orders = Vec::new();
    let (mut tt, mut rr) = (0.0, 0.0);
    for i in 0..n {
        let ti = if kz_exit[i].re > 1e-12 {
            poynting_flux(k, [t_full[i], t_full[n + i]], i, eps_exit, kz_exit[i], 1.0) / p_inc
        } else {
            0.0
        };
        let ri = if kz_inc[i].re > 1e-12 {
            -poynting_flux(k, [r_full[i], r_full[n + i]], i, eps_inc, kz_inc[i], -1.0) / p_inc
        } else {
            0.0
        };
        tt += ti;
        rr += ri;
        if kz_exit[i].re > 1e-12 || kz_inc[i].re > 1e-12 {
            let (m, nn) = h.mn[i];
            orders.push(OrderPower {
                m,
                n: nn,
                kx: k.kx[i],
                ky: k.ky[i],
                t: ti,
                r: ri,
                t_field: if kz_exit[i].re > 1e-12 {
                    [t_full[i], t_full[n + i]]
                } else {
                    [C64::new(0.0, 0.0); 2]
                },
            });
        }
    }
    (orders, tt, rr)
}
