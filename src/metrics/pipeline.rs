//! Lens → aperture field → plan → focal analysis, for the ideal lens and for a designed lens
//! given as a [`NearField`]. The CLI and scripts call these.

use super::{analyse, FocusReport, FocusSetup};
use crate::nearfield::{NearField, Outside, Polarization};
use crate::propagate::{aliasing_warning, check_sampling, choose_fft_size, AngularSpectrumPlan};
use crate::{Error, Result};
use serde::Serialize;

/// The lens being evaluated (or its ideal counterpart).
#[derive(Clone, Debug, Serialize)]
pub struct LensSpec {
    /// Vacuum wavelength, µm.
    pub wavelength_um: f64,
    /// Numerical aperture n_exit·sin θ of the marginal ray.
    pub na: f64,
    /// Aperture diameter, µm.
    pub diameter_um: f64,
    /// Index of the exit medium (the lens focuses in it).
    pub n_exit: f64,
    /// Index of the incidence medium (substrate).
    pub n_incident: f64,
}

impl LensSpec {
    /// Check ranges (NA < n_exit, positive lengths).
    pub fn validate(&self) -> Result<()> {
        crate::error::check_positive("wavelength", self.wavelength_um, "µm")?;
        crate::error::check_positive("diameter", self.diameter_um, "µm")?;
        crate::error::check_positive("exit index", self.n_exit, "")?;
        crate::error::check_positive("incidence index", self.n_incident, "")?;
        if !(self.na.is_finite() && self.na > 0.0 && self.na < self.n_exit) {
            return Err(Error::invalid(
                "NA",
                self.na,
                format!(
                    "must be in (0, n_exit = {}) (NA = n_exit sin θ)",
                    self.n_exit
                ),
            ));
        }
        Ok(())
    }
    /// Focal length from NA and diameter: f = R √(n² − NA²) / NA, µm.
    pub fn focal_length(&self) -> f64 {
        0.5 * self.diameter_um * (self.n_exit * self.n_exit - self.na * self.na).sqrt() / self.na
    }
    /// Power of a unit-amplitude plane wave in the incidence medium on the aperture:
    /// ½ n_inc π R² (|E|²·µm²/η0).
    pub fn incident_power(&self) -> f64 {
        0.5 * self.n_incident * std::f64::consts::PI * (0.5 * self.diameter_um).powi(2)
    }
}

/// How to run the analysis.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub polarization: Polarization,
    /// Aperture grid spacing for the ideal lens, µm (default λ/(4 n_exit)).
    pub dx: Option<f64>,
    /// Force the FFT grid size (warns if it would alias).
    pub fft_size: Option<usize>,
    /// Minimum padding factor (≥ 2).
    pub padding: f64,
    pub efficiency_k: Vec<f64>,
    pub circle_fwhm: Option<f64>,
    /// z range of the scan; default (0.5 f, 1.5 f).
    pub z_range: Option<(f64, f64)>,
    pub n_z: usize,
    pub at_design_focus: bool,
    /// Region outside the lens.
    pub outside: Outside,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            polarization: Polarization::X,
            dx: None,
            fft_size: None,
            padding: 2.0,
            efficiency_k: vec![1.5, 3.0],
            circle_fwhm: None,
            z_range: None,
            n_z: 200,
            at_design_focus: false,
            outside: Outside::Opaque,
            progress: false,
        }
    }
}

/// Grid facts recorded with the results.
#[derive(Clone, Debug, Serialize)]
pub struct GridInfo {
    pub dx_um: f64,
    pub aperture_samples: usize,
    pub fft_size: usize,
    pub window_um: f64,
    pub padding_factor: f64,
    /// NA passed by the band limit at the focal plane.
    pub band_limit_na_at_focus: f64,
}

/// One lens evaluated.
#[derive(Clone, Debug)]
pub struct LensResult {
    pub report: FocusReport,
    pub grid: GridInfo,
    pub warnings: Vec<String>,
}

/// The ideal lens of `spec` (uniform amplitude √(n_inc/n_exit), so that its normal-incidence
/// transmittance is 1; exact hyperbolic phase; same aperture) on spacing `dx`.
pub fn ideal_nearfield(spec: &LensSpec, dx: f64, outside: Outside) -> Result<NearField> {
    NearField::ideal(
        spec.wavelength_um,
        spec.focal_length(),
        spec.n_exit,
        (spec.n_incident / spec.n_exit).sqrt(),
        dx,
        0.5 * spec.diameter_um,
        outside,
    )
}

/// Propagate a near field and analyse its focus.
pub fn run_nearfield(nf: &NearField, spec: &LensSpec, opts: &RunOptions) -> Result<LensResult> {
    spec.validate()?;
    check_sampling(nf.dx, spec.wavelength_um, spec.na)?;
    let f = spec.focal_length();
    let z_range = opts.z_range.unwrap_or((0.5 * f, 1.5 * f));
    if z_range.0.is_nan() || z_range.0 <= 0.0 {
        return Err(Error::invalid(
            "z range start",
            format!("{} µm", z_range.0),
            "must be > 0: planes behind the lens (z ≤ 0) are not propagated",
        ));
    }
    let mut warnings = Vec::new();
    let n = match opts.fft_size {
        Some(n) => {
            if n < nf.m {
                return Err(Error::invalid(
                    "FFT grid size",
                    n,
                    format!("must be at least the aperture's {} samples", nf.m),
                ));
            }
            if let Some(w) = aliasing_warning(
                n,
                nf.m,
                nf.dx,
                spec.wavelength_um,
                spec.na,
                spec.n_exit,
                z_range.1,
            ) {
                warnings.push(w);
            }
            n + n % 2
        }
        None => choose_fft_size(nf.m, nf.dx, spec.na, spec.n_exit, z_range.1, opts.padding),
    };
    let plan = AngularSpectrumPlan::new(n, nf.dx, spec.wavelength_um, spec.n_exit)?;
    let field = nf.field(opts.polarization);
    let sp = plan.spectrum(&field)?;
    drop(field);
    let setup = FocusSetup {
        wavelength: spec.wavelength_um,
        design_focal_length: f,
        na: spec.na,
        incident_power: spec.incident_power(),
        efficiency_k: opts.efficiency_k.clone(),
        circle_fwhm: opts.circle_fwhm,
        z_range,
        n_z: opts.n_z,
        at_design_focus: opts.at_design_focus,
    };
    let bar = if opts.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = indicatif::ProgressBar::new(opts.n_z as u64);
        b.set_message(format!("propagating {n}² planes"));
        Some(b)
    } else {
        None
    };
    let report = analyse(&plan, &sp, &setup, &|i| {
        if let Some(b) = &bar {
            b.set_position(i as u64);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let grid = GridInfo {
        dx_um: nf.dx,
        aperture_samples: nf.m,
        fft_size: n,
        window_um: plan.window(),
        padding_factor: n as f64 / nf.m as f64,
        band_limit_na_at_focus: plan.band_limit(report.focal_plane_z_um) / plan.k0(),
    };
    Ok(LensResult {
        report,
        grid,
        warnings,
    })
}

/// The ideal lens alone (its Strehl ratio is 1 by definition).
pub fn run_ideal(spec: &LensSpec, opts: &RunOptions) -> Result<LensResult> {
    spec.validate()?;
    let dx = opts.dx.unwrap_or(spec.wavelength_um / (4.0 * spec.n_exit));
    crate::error::check_positive("grid spacing", dx, "µm")?;
    check_sampling(dx, spec.wavelength_um, spec.na)?;
    let nf = ideal_nearfield(spec, dx, opts.outside)?;
    let mut r = run_nearfield(&nf, spec, opts)?;
    r.report.strehl = Some(1.0);
    Ok(r)
}

/// A designed lens and its ideal counterpart on the same grid; fills the designed lens's
/// Strehl ratio. Returns (designed, ideal).
pub fn run_designed(
    nf: &NearField,
    spec: &LensSpec,
    opts: &RunOptions,
) -> Result<(LensResult, LensResult)> {
    let mut designed = run_nearfield(nf, spec, opts)?;
    let ideal_nf = ideal_nearfield(spec, nf.dx, opts.outside)?;
    let mut ideal = run_nearfield(&ideal_nf, spec, opts)?;
    ideal.report.strehl = Some(1.0);
    designed.report.strehl =
        Some(designed.report.focal_point_intensity / ideal.report.focal_point_intensity);
    Ok((designed, ideal))
}
