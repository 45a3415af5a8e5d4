//! # metalens
//!
//! A design engine for high-numerical-aperture metalenses made of silicon-rich nitride (SRN)
//! pillars: rigorous coupled-wave analysis of unit cells, phase libraries, lens layout with
//! GDSII export, vectorial angular-spectrum propagation and focal-spot metrics.
//!
//! The data flow one way: material → unit cell → RCWA solve → phase library → lens profile →
//! layout → near field → propagation → metrics → plots and files. Each module depends only on
//! the stages before it.
//!
//! # Conventions
//!
//! These hold everywhere in the crate, in every file it writes (as HDF5 attributes / JSON
//! fields) and are pinned by tests:
//!
//! - **Lengths in micrometres**, wavelength included. Angles are radians inside the library;
//!   CLI flags that take degrees say so in their name (`--theta-deg`).
//! - **Time dependence exp(−iωt).** A wave travelling towards +z is exp(+i k_z z) with
//!   Im k_z ≥ 0; a lossy medium has Im n > 0 (Im ε > 0). Papers and tools using exp(+jωt)
//!   (Lumerical's field monitors in some versions, many engineering texts) have the complex
//!   conjugate of our amplitudes: flip the sign of every phase when comparing.
//! - **Lens phase**: a converging lens imparts φ(r) = −(2π n_exit/λ)(√(r² + f²) − f), i.e. the
//!   phase *decreases* away from the axis (see [`lens`]).
//! - **Transmission coefficient t** of a unit cell: the zeroth-order co-polarised transmitted
//!   E-field at the top surface of the last layer (in the exit medium) divided by the incident
//!   E-field at the bottom surface of the first layer (in the incidence medium). It is a field
//!   ratio, not impedance-normalised: the zeroth-order transmittance is
//!   Re(k_z,exit)/Re(k_z,inc) · |t|² for s polarisation (n_exit/n_inc · |t|² at normal incidence).
//! - **FFT normalisation**: spectrum = forward FFT ÷ N, field = inverse FFT without a factor;
//!   one helper owns fftshift and its inverse (see [`propagate`]).
//! - Complex transmission is always stored as complex t; phase wrapping lives in one function
//!   ([`lens::wrap_phase`]).

pub mod cell;
pub mod cli;
pub mod error;
pub mod fdtd;
pub mod fullwave;
pub mod io;
pub mod layout;
pub mod lens;
pub mod library;
pub mod material;
pub mod metrics;
pub mod nearfield;
pub mod numeric;
pub mod plot;
pub mod progress;
pub mod propagate;
pub mod rcwa;

pub use error::{Error, Result};
pub use num_complex::Complex64 as C64;

/// Tool version recorded in every file written.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The conventions as one line, recorded in every output file and JSON document.
pub const CONVENTIONS: &str = "lengths in micrometres; time dependence exp(-i omega t); forward wave exp(+i kz z) with Im kz >= 0; loss Im n > 0; lens phase phi(r) = -(2 pi n_exit / lambda)(sqrt(r^2+f^2)-f); spectrum = forward FFT / N";

/// Definition of the unit-cell transmission coefficient t, recorded with every result.
pub const T_DEFINITION: &str = "zeroth-order co-polarised transmitted E-field at the top surface of the last layer (in the exit medium) divided by the incident E-field at the bottom surface of the first layer (in the incidence medium); a field ratio, not impedance-normalised";
