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
            format!("must be in (0, n_exit) = (0, {n_exit}) (NA = n_exit·sin θ with θ < 90°)"),
        ));
    }
    Ok(0.5 * diameter * (n_exit * n_exit - na * na).sqrt() / na)
}

/// A hyperbolic (aberration-free on axis) lens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HyperbolicLens {
    /// Vacuum wavelength (µm).
    pub wavelength: f64,
    /// Focal length in the exit medium (µm).
    pub focal_length: f64,
    /// Refractive index of the exit medium.
    pub n_exit: f64,
    /// Aperture diameter (µm).
    pub diameter: f64,
}

impl HyperbolicLens {
    /// Checked constructor.
    pub fn new(wavelength: f64, focal_length: f64, n_exit: f64, diameter: f64) -> Result<Self> {
        check_positive("wavelength", wavelength, "µm")?;
        check_positive("focal length", focal_length, "µm")?;
        check_positive("exit index", n_exit, "")?;
        check_positive("diameter", diameter, "µm")?;
        Ok(HyperbolicLens {
            wavelength,
            focal_length,
            n_exit,
            diameter,
        })
    }

    /// Lens of a given NA (focal length derived).
    pub fn from_na(wavelength: f64, na: f64, n_exit: f64, diameter: f64) -> Result<Self> {
        let f = focal_length_for_na(diameter, na, n_exit)?;
        Self::new(wavelength, f, n_exit, diameter)
    }

    /// Numerical aperture n_exit · sin(atan(D/2f)).
    pub fn numerical_aperture(&self) -> f64 {
        numerical_aperture(self.diameter, self.focal_length, self.n_exit)
    }

    /// Unwrapped target phase φ(r) (radians, without offset) at distance r (µm) from the axis.
    #[inline]
    pub fn phase(&self, r: f64) -> f64 {
        let f = self.focal_length;
        // √(r² + f²) − f written as r²/(√(r² + f²) + f): no cancellation near the axis
        let path = r * r / ((r * r + f * f).sqrt() + f);
        -2.0 * PI * self.n_exit / self.wavelength * path
    }

    /// Local phase gradient magnitude |dφ/dr| (rad/µm) = k n r/√(r² + f²).
    pub fn phase_gradient(&self, r: f64) -> f64 {
        2.0 * PI * self.n_exit / self.wavelength * r
            / (r * r + self.focal_length * self.focal_length).sqrt()
    }
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
