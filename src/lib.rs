//! # metalens
//!
//! A design engine for high-numerical-aperture metalenses made of silicon-rich nitride (SRN)
//! pillars: rigorous coupled-wave analysis of unit cells, phase libraries, lens layout with
//! GDSII export, vectorial angular-spectrum propagation and focal-spot metrics.
//!
//! The data flow one way: material → unit cell → RCWA solve → phase library → lens profile →
//! layout → near field → propagation → metrics, with files, figures and the command line at
//! the edge. Each stage is a function from typed records to a typed record, and the command
//! line, `reproduce` and the studies call the same functions (no argv between stages, no JSON
//! read back):
//!
//! - [`material`], [`cell`], [`rcwa`]: materials, unit cells, the RCWA solve (`RcwaPlan` holds
//!   what a sweep shares: harmonics, k-vectors, half-space modes).
//! - [`library`]: the parallel sweep into a [`library::PhaseLibrary`] (progress and interrupts
//!   through [`progress`]).
//! - [`lens`], [`layout`]: the one lens record [`lens::Lens`] (NA and focal length tied by one
//!   checked formula, [`lens::focal_length_for_na`]; wavelength as `wavelength_um`), its target
//!   phase, and pillar placement.
//! - [`nearfield`], [`propagate`], [`metrics`]: the aperture field, the vectorial angular
//!   spectrum, the focal spot ([`metrics::FocusReport`], efficiencies as
//!   [`metrics::Efficiencies`]).
//! - [`fdtd`] (3-D FDTD): a full-wave near field of a layout, analysed by the same
//!   [`metrics`]. [`fullwave`] (1-D supercell RCWA) is a whole 1-D pipeline on its typed
//!   design record ([`fullwave::Design1d`]): it keeps its own 1-D angular spectrum
//!   (`fullwave::propagate1d`: fields vary along x only) but shares the golden-section search
//!   ([`numeric::golden_section_max`]), the central-lobe FWHM ([`metrics::fwhm_central`]), the
//!   efficiency record, the band-limit window and the lens record.
//! - [`io`] (design files, the 1-D design schema, library, layout, near-field, cell and
//!   checkpoint files; atomic writes and locks in [`io::guard`]), [`plot`] (every figure) and
//!   [`cli`] (clap, progress bars) at the edge.
//!
//! Imports between folders run down this list ([`error`], [`numeric`] and [`progress`] are
//! shared by all): material → cell → rcwa → library → lens → layout → nearfield → propagate →
//! metrics → fdtd, fullwave → io → plot → cli, no import running back up. A stage reports
//! progress through [`progress::Progress`]; the library sweep keeps its resumable journal
//! through [`library::sweep::Checkpoint`] (the file is [`io::checkpoint::CheckpointFile`]).
//! No stage touches a file: the file formats are read and written in [`io`], [`plot`] writes
//! the figures, and [`cli`] makes the output folders and reads back a few records of its own
//! runs (a study's finished lenses, the kind of a design file); clap and the progress bars
//! live only in [`cli`]. A material specification (preset, complex index or n,k file)
//! becomes a [`material::Material`] in [`io::material_file::resolve_material`], and a
//! [`library::SweepSpec`] carries the resolved materials beside the settings its file
//! records ([`library::SweepSettings`], materials by their specifications).
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
//! - Complex transmission is always stored as complex t; phase wrapping to (−π, π] lives in
//!   one function ([`numeric::wrap_phase`], re-exported as [`lens::wrap_phase`]). The phase
//!   coverage and the library figures place phases in [0, 2π) with `rem_euclid` (a display
//!   range, not a second wrap to (−π, π]).

pub mod bound;
pub mod cell;
pub mod cli;
pub mod design;
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
