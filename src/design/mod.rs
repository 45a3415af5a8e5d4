//! Design methods beyond the local periodic approximation (issue 24).
//!
//! - [`grating`]: metagrating supercells. At radius r a lens of focal length f deflects the
//!   light by sin θ(r) = r/√(r² + f²) in the exit medium, so locally it is a grating of period
//!   Λ = λ/(n_exit sin θ). A supercell one period long across the zone and one pitch wide along
//!   it holds a few pillars whose radii (and positions) are optimised with the engine's RCWA
//!   for the power diffracted into the order that goes to the focus.
//!
//! Pure stage code: no files, no printing; progress through [`crate::progress::Progress`].
//! The HDF5 file of a supercell library is [`crate::io::grating_file`].

pub mod grating;
