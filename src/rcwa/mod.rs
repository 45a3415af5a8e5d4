//! Rigorous coupled-wave analysis (Fourier modal method) of one periodic unit cell.
//!
//! Pure math: no I/O, no rayon. See `solve` for the entry point; the formulation is documented
//! in each submodule next to the equations it implements.

use crate::cell::{Incidence, Stack};
use crate::{Result, C64};

/// How the in-plane permittivity of patterned layers is Fourier-factorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
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
        Settings { harmonics: DEFAULT_HARMONICS, factorization: Factorization::NormalVector }
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
}

/// Solve the stack for the given incidence.
pub fn solve(stack: &Stack, incidence: &Incidence, settings: &Settings) -> Result<Solution> {
    let _ = (stack, incidence, settings);
    Err(crate::Error::numerical("rcwa", "solver not implemented yet"))
}
