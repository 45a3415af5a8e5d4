//! Target phase profiles of lenses (the one phase-wrapping function of the crate,
//! [`wrap_phase`], lives in [`crate::numeric`] and is re-exported here).
//!
//! Time convention exp(−iωt) (see the crate docs): a converging lens of focal length f in an
//! exit medium of index n imparts
//!
//! φ(r) = −(2π n/λ)(√(r² + f²) − f) + φ₀,
//!
//! so the phase *decreases* away from the axis: the wave leaving the rim is delayed less than
//! the one on axis and all arrive at the focus in phase (path r ↦ √(r² + f²), forward wave
//! exp(+i k z)). Lengths in µm.

use crate::error::check_positive;
use crate::{Error, Result};
use std::f64::consts::PI;

pub use crate::numeric::wrap_phase;

/// Numerical aperture of a lens of diameter D (µm) and focal length f (µm) focusing into a
/// medium of index n_exit: NA = n_exit · sin(atan(D / 2f)).
pub fn numerical_aperture(diameter: f64, focal_length: f64, n_exit: f64) -> f64 {
    n_exit * (0.5 * diameter / focal_length).atan().sin()
}

/// Focal length (µm) giving numerical aperture `na` for diameter D (µm) in a medium of
/// index n_exit: f = (D/2) / tan(asin(NA / n_exit)) = (D/2)·√(n² − NA²)/NA.
/// Requires 0 < NA < n_exit.
pub fn focal_length_for_na(diameter: f64, na: f64, n_exit: f64) -> Result<f64> {
    check_positive("diameter", diameter, "µm")?;
    check_positive("exit index", n_exit, "")?;
    if !na.is_finite() || na <= 0.0 || na >= n_exit {
        return Err(Error::invalid(
            "NA",
            na,
            format!(
                "must be in (0, n_exit) = (0, {n_exit}) with n_exit = {n_exit} (NA = n_exit·sin θ with θ < 90°)"
            ),
        ));
    }
    Ok(0.5 * diameter * (n_exit * n_exit - na * na).sqrt() / na)
}

/// How a lens is sized in a design file or on the command line: by NA or by focal length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LensSize {
    Na(f64),
    /// µm.
    FocalLength(f64),
}

/// The one check that exactly one of NA and focal length is given; `what` names the pair.
pub fn na_or_focal_length(
    na: Option<f64>,
    focal_length_um: Option<f64>,
    what: &str,
) -> Result<LensSize> {
    match (na, focal_length_um) {
        (Some(na), None) => Ok(LensSize::Na(na)),
        (None, Some(f)) => Ok(LensSize::FocalLength(f)),
        (Some(na), Some(f)) => Err(Error::invalid(
            what,
            format!("na {na} and focal_length {f} µm"),
            "give exactly one of na and focal_length, not both",
        )),
        (None, None) => Err(Error::invalid(
            what,
            "(neither na nor focal_length)",
            "give exactly one of na and focal_length",
        )),
    }
}

/// The lens: the one domain record of a lens in the crate (layout, near field, metrics, FDTD
/// and the 1-D full-wave check all take it). A hyperbolic (aberration-free on axis) lens of
/// diameter D focusing into an exit medium of index n_exit, lit from an incidence medium of
/// index n_incident. NA and focal length are tied by the one checked formula
/// [`focal_length_for_na`] (and its inverse [`numerical_aperture`]): build it with
/// [`Lens::from_na`] or [`Lens::new`] (from the focal length), never field by field. Lengths in
/// µm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lens {
    /// Vacuum wavelength (µm).
    pub wavelength_um: f64,
    /// Focal length in the exit medium (µm).
    pub focal_length_um: f64,
    /// Numerical aperture n_exit·sin θ of the marginal ray.
    pub na: f64,
    /// Aperture diameter (µm).
    pub diameter_um: f64,
    /// Refractive index of the exit medium (the lens focuses in it).
    pub n_exit: f64,
    /// Refractive index of the incidence medium (substrate): the incident power ½ n_inc π R²
    /// and the ideal lens's amplitude √(n_inc/n_exit). n_exit (no interface) unless
    /// [`Lens::with_incidence`] sets it.
    pub n_incident: f64,
}

impl Lens {
    /// Lens of a given focal length (µm; NA derived), checked.
    pub fn new(
        wavelength_um: f64,
        focal_length_um: f64,
        n_exit: f64,
        diameter_um: f64,
    ) -> Result<Self> {
        check_positive("wavelength", wavelength_um, "µm")?;
        check_positive("focal length", focal_length_um, "µm")?;
        check_positive("exit index", n_exit, "")?;
        check_positive("diameter", diameter_um, "µm")?;
        Ok(Lens {
            wavelength_um,
            focal_length_um,
            na: numerical_aperture(diameter_um, focal_length_um, n_exit),
            diameter_um,
            n_exit,
            n_incident: n_exit,
        })
    }

    /// Lens of a given NA (focal length derived by [`focal_length_for_na`]), checked.
    pub fn from_na(wavelength_um: f64, na: f64, n_exit: f64, diameter_um: f64) -> Result<Self> {
        check_positive("wavelength", wavelength_um, "µm")?;
        let focal_length_um = focal_length_for_na(diameter_um, na, n_exit)?;
        Ok(Lens {
            wavelength_um,
            focal_length_um,
            na,
            diameter_um,
            n_exit,
            n_incident: n_exit,
        })
    }

    /// Exactly one of `na` and `focal_length_um` (the form of the design files and flags);
    /// `what` names the pair in the error.
    pub fn from_na_or_focal_length(
        wavelength_um: f64,
        na: Option<f64>,
        focal_length_um: Option<f64>,
        n_exit: f64,
        diameter_um: f64,
        what: &str,
    ) -> Result<Self> {
        match na_or_focal_length(na, focal_length_um, what)? {
            LensSize::Na(na) => Self::from_na(wavelength_um, na, n_exit, diameter_um),
            LensSize::FocalLength(f) => Self::new(wavelength_um, f, n_exit, diameter_um),
        }
    }

    /// The same lens lit from a medium of index `n_incident`, checked.
    pub fn with_incidence(self, n_incident: f64) -> Result<Self> {
        check_positive("incidence index", n_incident, "")?;
        Ok(Lens { n_incident, ..self })
    }

    /// Numerical aperture n_exit · sin(atan(D/2f)).
    pub fn numerical_aperture(&self) -> f64 {
        self.na
    }

    /// Power of a unit-amplitude plane wave in the incidence medium on the aperture:
    /// ½ n_inc π R² (|E|²·µm²/η0).
    pub fn incident_power(&self) -> f64 {
        0.5 * self.n_incident * PI * (0.5 * self.diameter_um).powi(2)
    }

    /// Unwrapped target phase φ(r) (radians, without offset) at distance r (µm) from the axis.
    #[inline]
    pub fn phase(&self, r: f64) -> f64 {
        hyperbolic_phase(r, self.focal_length_um, self.wavelength_um, self.n_exit)
    }
}

/// Exact hyperbolic phase of a converging lens (crate convention, see `lib.rs`):
/// φ(r) = −(2π n_exit/λ)(√(r² + f²) − f), radians; r, f and λ in µm. The one evaluation of the
/// formula ([`Lens::phase`] calls it).
#[inline]
pub fn hyperbolic_phase(r: f64, focal_length_um: f64, wavelength_um: f64, n_exit: f64) -> f64 {
    let f = focal_length_um;
    // √(r² + f²) − f written as r²/(√(r² + f²) + f): no cancellation near the axis
    let path = r * r / ((r * r + f * f).sqrt() + f);
    -2.0 * PI * n_exit / wavelength_um * path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_phase_range_and_identity() {
        for k in -20..=20 {
            let p = 0.37 * k as f64;
            let w = wrap_phase(p);
            assert!(w > -PI && w <= PI, "{p} -> {w}");
            // same point on the circle: the difference is a multiple of 2π (1e-12 rounding)
            let m = (p - w) / (2.0 * PI);
            assert!((m - m.round()).abs() < 1e-12);
        }
        assert!((wrap_phase(PI) - PI).abs() < 1e-15);
        assert!((wrap_phase(-PI) - PI).abs() < 1e-15);
        assert!((wrap_phase(3.0 * PI) - PI).abs() < 1e-12);
    }
}
