//! Synthetic phase libraries with exactly known t(r), built in memory.
#![allow(dead_code)]

use metalens::cell::LatticeKind;
use metalens::library::PhaseLibrary;
use metalens::C64;
use ndarray::{Array4, Array5};

pub const WAVELENGTH: f64 = 0.6;
pub const HEIGHT: f64 = 0.5;
pub const PITCH: f64 = 0.3;

/// A library at one wavelength, height and pitch with the given (radius, t) cells, the same t
/// for x and y.
pub fn library(lattice: LatticeKind, cells: &[(f64, C64)]) -> PhaseLibrary {
    let nr = cells.len();
    let mut t = Array5::from_elem((1, 1, 1, nr, 2), C64::new(f64::NAN, f64::NAN));
    let mut tr = Array5::zeros((1, 1, 1, nr, 2));
    for (k, &(_, v)) in cells.iter().enumerate() {
        t[[0, 0, 0, k, 0]] = v;
        t[[0, 0, 0, k, 1]] = v;
        tr[[0, 0, 0, k, 0]] = v.norm_sqr();
        tr[[0, 0, 0, k, 1]] = v.norm_sqr();
    }
    PhaseLibrary {
        wavelengths: vec![WAVELENGTH],
        heights: vec![HEIGHT],
        pitches: vec![PITCH],
        radii: cells.iter().map(|c| c.0).collect(),
        t,
        transmittance: tr.clone(),
        reflectance: tr.mapv(|v: f64| 1.0 - v),
        valid: Array4::from_elem((1, 1, 1, nr), true),
        lattice,
        exit_index: 1.0,
        harmonics: 1,
    }
}

/// K cells of unit amplitude with phases 2πk/K at radii 0.05 + 0.1·k/K µm.
pub fn uniform_phase_library(lattice: LatticeKind, k: usize) -> PhaseLibrary {
    let cells: Vec<(f64, C64)> = (0..k)
        .map(|j| {
            (
                0.05 + 0.1 * j as f64 / k as f64,
                C64::from_polar(
                    1.0,
                    -std::f64::consts::PI + 2.0 * std::f64::consts::PI * j as f64 / k as f64,
                ),
            )
        })
        .collect();
    library(lattice, &cells)
}

/// Five radii whose t are the corners 1, i, −1, −i, 1·e^{−iε} of a square around the origin:
/// linear interpolation in radius reproduces this t(r) exactly, and every phase is reachable.
pub fn square_polygon_library(lattice: LatticeKind) -> PhaseLibrary {
    let c = [
        C64::new(1.0, 0.0),
        C64::new(0.0, 1.0),
        C64::new(-1.0, 0.0),
        C64::new(0.0, -1.0),
        C64::from_polar(1.0, -1e-6),
    ];
    let cells: Vec<(f64, C64)> = c
        .iter()
        .enumerate()
        .map(|(k, &v)| (0.05 + 0.02 * k as f64, v))
        .collect();
    library(lattice, &cells)
}
