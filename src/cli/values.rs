//! Command-line values of the domain's enums (the enums themselves know nothing of clap):
//! the accepted words, their help and the mapping.

use crate::cell::LatticeKind;
use crate::library::LibraryPolarization;
use crate::rcwa::Factorization;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// `square` | `hex`.
pub fn lattice() -> impl TypedValueParser<Value = LatticeKind> {
    PossibleValuesParser::new(["square", "hex"]).map(|s| match s.as_str() {
        "hex" => LatticeKind::Hex,
        _ => LatticeKind::Square,
    })
}

/// `normal-vector` | `laurent`.
pub fn factorization() -> impl TypedValueParser<Value = Factorization> {
    PossibleValuesParser::new([
        PossibleValue::new("normal-vector").help("Normal-vector method (Li's rules applied along the local normal of every boundary, Schuster et al. JOSA A 24, 2880 (2007)): the default"),
        PossibleValue::new("laurent").help("Plain Laurent rule ([[ε]] for every component): converges slowly; for comparison only"),
    ])
    .map(|s| match s.as_str() {
        "laurent" => Factorization::Laurent,
        _ => Factorization::NormalVector,
    })
}

/// `x` | `both`.
pub fn library_polarization() -> impl TypedValueParser<Value = LibraryPolarization> {
    PossibleValuesParser::new([
        PossibleValue::new("x").help("One solve with x input. t for y comes from the same solve's Jones matrix (t_yy); the y transmittance and reflectance equal x's by the cell's symmetry (a centred disc in a square or hexagonal lattice has C4 / C6 symmetry: the zeroth-order response at normal incidence is isotropic)"),
        PossibleValue::new("both").help("Separate x and y solves (twice the cost; a check of the symmetry argument)"),
    ])
    .map(|s| match s.as_str() {
        "both" => LibraryPolarization::Both,
        _ => LibraryPolarization::X,
    })
}
