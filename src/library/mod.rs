//! Phase library: complex transmission of pillar cells over radius × pitch (× height ×
//! wavelength), computed in parallel, stored in HDF5.
//!
//! CONTRACT used by later stages (layout, near field): the `PhaseLibrary` struct below.

use crate::C64;

/// Complex transmission of pillar cells on a grid of (wavelength, height, pitch, radius).
/// Axes are ascending. `t[[iw, ih, ip, ir, pol]]` with pol 0 = x, 1 = y polarisation
/// (normal incidence, t as defined in the crate docs). `valid[[iw, ih, ip, ir]]` is false for
/// radii that do not fit the cell (minimum gap) or whose solve failed; t is then NaN.
#[derive(Clone, Debug)]
pub struct PhaseLibrary {
    pub wavelengths: Vec<f64>,
    pub heights: Vec<f64>,
    pub pitches: Vec<f64>,
    pub radii: Vec<f64>,
    pub t: ndarray::Array5<C64>,
    pub transmittance: ndarray::Array5<f64>,
    pub reflectance: ndarray::Array5<f64>,
    pub valid: ndarray::Array4<bool>,
    /// Lattice of the cells ("square" or "hex").
    pub lattice: crate::cell::LatticeKind,
    /// Refractive index of the exit medium (the medium the lens focuses into).
    pub exit_index: f64,
    /// Harmonics used per solve.
    pub harmonics: usize,
}

impl PhaseLibrary {
    /// Read a library written by `metalens library` (HDF5). CONTRACT: implemented on branch
    /// `lib`; errors with a one-line message for a missing, corrupt or foreign file.
    pub fn load(path: &std::path::Path) -> crate::Result<Self> {
        Err(crate::Error::format(
            path,
            "reading phase libraries is not implemented yet",
        ))
    }
}
