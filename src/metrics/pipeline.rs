//! Lens → aperture field → plan → focal analysis, for the ideal lens and for a designed lens
//! given as a [`NearField`]. The CLI and scripts call these.

use super::{analyse, FocusReport, FocusSetup};
use crate::lens::Lens;
use crate::nearfield::{
    ApertureField, ApertureModel, FieldPlane, NearField, Outside, Polarization,
};
use crate::propagate::{aliasing_warning, check_sampling, choose_fft_size, AngularSpectrumPlan};
use crate::{Error, Result};
use serde::Serialize;

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
    /// How transmissions become the aperture field, for the ideal lens and the LPA near field
    /// (energy-conserving [`ApertureModel::Flux`] by default).
    pub aperture_model: ApertureModel,
    /// Told the planes propagated (silent by default).
    pub progress: crate::progress::Shared,
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
            aperture_model: ApertureModel::Flux,
            progress: Default::default(),
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

/// The ideal lens of `lens` on spacing `dx`: normal-incidence amplitude √(n_inc/n_exit) (unit
/// transmittance), exact hyperbolic phase, same aperture, `opts.outside` beyond it; under the
/// default [`ApertureModel::Flux`] the perfect flat lens that conserves energy (its local flux
/// equals the incident flux at every point of the aperture; see [`ApertureModel`]).
///
/// A passive lens transmits at most what falls on it: where the local construction's
/// propagating power would exceed the incident power (the local plane-wave picture fails
/// where the rim zone is only a few wavelengths wide; it never does for the round lenses of
/// validation/propagation/ideal_lens.md, 5–100 µm at NA 0.9 and 0.99, but does for cylindrical
/// ones at NA 0.99), the field is scaled down to carry exactly the incident power.
pub fn ideal_nearfield(lens: &Lens, dx: f64, opts: &RunOptions) -> Result<NearField> {
    let mut nf = NearField::ideal(
        lens.wavelength_um,
        lens.focal_length_um,
        lens.n_exit,
        (lens.n_incident / lens.n_exit).sqrt(),
        dx,
        0.5 * lens.diameter_um,
        opts.outside,
        opts.aperture_model,
    )?;
    if opts.aperture_model == ApertureModel::Flux && opts.outside == Outside::Opaque {
        let n = choose_fft_size(nf.m, dx, lens.na, lens.n_exit, 0.0, 2.0);
        let plan = AngularSpectrumPlan::new(n, dx, lens.wavelength_um, lens.n_exit)?;
        let p_t = plan.propagating_power(&plan.spectrum(&nf.field(opts.polarization))?);
        let p_inc = lens.incident_power();
        if p_t > p_inc {
            nf.scale((p_inc / p_t).sqrt());
        }
    }
    Ok(nf)
}

/// Propagate a near field (local periodic approximation) and analyse its focus.
pub fn run_nearfield(nf: &NearField, lens: &Lens, opts: &RunOptions) -> Result<LensResult> {
    run_aperture(&nf.field(opts.polarization), lens, opts, 0.0, None)
}

/// Propagate a full-wave or imported near field ([`FieldPlane`]) and analyse its focus. The
/// plane's polarisation replaces `opts.polarization`; axial distances stay measured from the
/// lens surface (the plane's height is subtracted for the propagation and added back). With
/// H known, the transmitted power P_t is the Poynting flux through the plane from E and H
/// (and `transmitted_r*` are relative to it); without, the plane-wave power of E as for the LPA.
pub fn run_field_plane(fp: &FieldPlane, lens: &Lens, opts: &RunOptions) -> Result<LensResult> {
    check_plane_matches(fp, lens)?;
    run_aperture(&fp.aperture(), lens, opts, fp.z_um, fp.poynting_flux())
}

/// A field plane and the ideal lens of the same NA, size and polarisation on the same grid;
/// fills the Strehl ratio. Returns (measured, ideal).
pub fn run_field_plane_with_ideal(
    fp: &FieldPlane,
    lens: &Lens,
    opts: &RunOptions,
) -> Result<(LensResult, LensResult)> {
    let opts = RunOptions {
        polarization: fp.polarization,
        ..opts.clone()
    };
    let mut measured = run_field_plane(fp, lens, &opts)?;
    let ideal_nf = ideal_nearfield(lens, fp.dx, &opts)?;
    let mut ideal = run_nearfield(&ideal_nf, lens, &opts)?;
    ideal.report.strehl = Some(1.0);
    measured.report.strehl =
        Some(measured.report.focal_point_intensity / ideal.report.focal_point_intensity);
    Ok((measured, ideal))
}

/// The plane must belong to the lens it is analysed as: same wavelength and exit medium.
fn check_plane_matches(fp: &FieldPlane, lens: &Lens) -> Result<()> {
    fp.validate("near field")?;
    // 1e-6 relative: both come from the same design numbers written as f64 text or HDF5.
    if (fp.wavelength_um - lens.wavelength_um).abs() > 1e-6 * lens.wavelength_um {
        return Err(Error::invalid(
            "near-field wavelength",
            format!("{} µm", fp.wavelength_um),
            format!("must equal the lens's {} µm", lens.wavelength_um),
        ));
    }
    if (fp.n_medium - lens.n_exit).abs() > 1e-6 * lens.n_exit {
        return Err(Error::invalid(
            "near-field medium index",
            fp.n_medium,
            format!("must equal the lens's exit index {}", lens.n_exit),
        ));
    }
    Ok(())
}

/// The FFT grid size: `opts.fft_size` (at least the aperture; a warning in `warnings` when it
/// would alias up to `z_end`), else the automatic band-limit-safe size.
fn fft_size(
    field: &ApertureField,
    lens: &Lens,
    opts: &RunOptions,
    z_end: f64,
    warnings: &mut Vec<String>,
) -> Result<usize> {
    Ok(match opts.fft_size {
        Some(n) => {
            if n < field.m {
                return Err(Error::invalid(
                    "FFT grid size",
                    n,
                    format!("must be at least the aperture's {} samples", field.m),
                ));
            }
            if let Some(w) = aliasing_warning(
                n,
                field.m,
                field.dx,
                lens.wavelength_um,
                lens.na,
                lens.n_exit,
                z_end,
            ) {
                warnings.push(w);
            }
            n + n % 2
        }
        None => choose_fft_size(field.m, field.dx, lens.na, lens.n_exit, z_end, opts.padding),
    })
}

/// The shared path: `field` lies at height `plane_z` (µm) above the lens surface; with
/// `measured_power`, P_t is that flux instead of the plane-wave power of `field`.
fn run_aperture(
    field: &ApertureField,
    lens: &Lens,
    opts: &RunOptions,
    plane_z: f64,
    measured_power: Option<f64>,
) -> Result<LensResult> {
    check_sampling(field.dx, lens.wavelength_um, lens.na)?;
    let f = lens.focal_length_um;
    let z_range = opts.z_range.unwrap_or((0.5 * f, 1.5 * f));
    if z_range.0.is_nan() || z_range.0 <= 0.0 {
        return Err(Error::invalid(
            "z range start",
            format!("{} µm", z_range.0),
            "must be > 0: planes behind the lens (z ≤ 0) are not propagated",
        ));
    }
    let mut warnings = Vec::new();
    let n = fft_size(field, lens, opts, z_range.1, &mut warnings)?;
    let plan = AngularSpectrumPlan::new(n, field.dx, lens.wavelength_um, lens.n_exit)?;
    if z_range.0 <= plane_z {
        return Err(Error::invalid(
            "z range start",
            format!("{} µm", z_range.0),
            format!("must lie beyond the near-field plane at {plane_z} µm"),
        ));
    }
    let sp = plan.spectrum(field)?;
    let setup = FocusSetup {
        wavelength_um: lens.wavelength_um,
        design_focal_length: f - plane_z,
        na: lens.na,
        incident_power: lens.incident_power(),
        efficiency_k: opts.efficiency_k.clone(),
        circle_fwhm: opts.circle_fwhm,
        z_range: (z_range.0 - plane_z, z_range.1 - plane_z),
        n_z: opts.n_z,
        at_design_focus: opts.at_design_focus,
    };
    let bar = opts.progress.get();
    bar.set_len(opts.n_z as u64);
    bar.set_message(format!("propagating {n}² planes"));
    let report = analyse(&plan, &sp, &setup, &|i| bar.set_position(i as u64));
    bar.finish();
    let mut report = report?;
    shift_to_lens_surface(&mut report, plane_z);
    if let Some(p) = measured_power {
        let p_prop = report.transmitted_power;
        // E alone (plane waves) and E with H (Poynting) must carry the same power; 5 %
        // allows for the half-cell stagger of a Yee grid's E and H on the plane.
        if (p - p_prop).abs() > 0.05 * p_prop.abs() {
            warnings.push(format!(
                "the Poynting flux through the near-field plane ({p:.4}) differs from the plane-wave power of its E ({p_prop:.4}) by more than 5 %"
            ));
        }
        use_measured_power(&mut report, p);
    }
    let grid = GridInfo {
        dx_um: field.dx,
        aperture_samples: field.m,
        fft_size: n,
        window_um: plan.window(),
        padding_factor: n as f64 / field.m as f64,
        band_limit_na_at_focus: plan.band_limit(report.focal_plane_z_um - plane_z) / plan.k0(),
    };
    Ok(LensResult {
        report,
        grid,
        warnings,
    })
}

/// Distances of an analysis made from a plane at `plane_z` back to the lens surface.
fn shift_to_lens_surface(report: &mut crate::metrics::FocusReport, plane_z: f64) {
    if plane_z == 0.0 {
        return;
    }
    report.focal_plane_z_um += plane_z;
    report.design_focal_length_um += plane_z;
    if let Some(d) = report.data.as_mut() {
        d.sections.zs.iter_mut().for_each(|z| *z += plane_z);
    }
}

/// Make `p` the transmitted power P_t: transmission and `transmitted_r*` are relative to it.
fn use_measured_power(report: &mut crate::metrics::FocusReport, p: f64) {
    let p_inc = report.incident_power;
    report
        .efficiency
        .rescale_transmitted(report.transmitted_power, p);
    report.transmitted_power = p;
    report.transmission_efficiency = p / p_inc;
}

/// The ideal lens alone (its Strehl ratio is 1 by definition).
pub fn run_ideal(lens: &Lens, opts: &RunOptions) -> Result<LensResult> {
    let dx = opts.dx.unwrap_or(lens.wavelength_um / (4.0 * lens.n_exit));
    crate::error::check_positive("grid spacing", dx, "µm")?;
    check_sampling(dx, lens.wavelength_um, lens.na)?;
    let nf = ideal_nearfield(lens, dx, opts)?;
    let mut r = run_nearfield(&nf, lens, opts)?;
    r.report.strehl = Some(1.0);
    Ok(r)
}

/// A designed lens and its ideal counterpart on the same grid; fills the designed lens's
/// Strehl ratio. Returns (designed, ideal).
pub fn run_designed(
    nf: &NearField,
    lens: &Lens,
    opts: &RunOptions,
) -> Result<(LensResult, LensResult)> {
    let mut designed = run_nearfield(nf, lens, opts)?;
    let ideal_nf = ideal_nearfield(lens, nf.dx, opts)?;
    let mut ideal = run_nearfield(&ideal_nf, lens, opts)?;
    ideal.report.strehl = Some(1.0);
    designed.report.strehl =
        Some(designed.report.focal_point_intensity / ideal.report.focal_point_intensity);
    Ok((designed, ideal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::C64;

    fn small_lens() -> (Lens, RunOptions) {
        let lens = Lens::from_na(0.5, 0.5, 1.0, 6.0)
            .and_then(|l| l.with_incidence(1.45))
            .unwrap();
        let opts = RunOptions {
            n_z: 40,
            ..RunOptions::default()
        };
        (lens, opts)
    }

    #[test]
    fn a_field_plane_at_the_surface_gives_the_near_field_numbers() {
        let (lens, opts) = small_lens();
        let nf = ideal_nearfield(&lens, 0.1, &opts).unwrap();
        let a = run_nearfield(&nf, &lens, &opts).unwrap().report;
        let fp = FieldPlane::from_transmission(&nf, Polarization::X, 0.5, 1.0);
        let b = run_field_plane(&fp, &lens, &opts).unwrap().report;
        // same field, same grid: identical up to the extra zero Ey plane's rounding
        for (k, v) in &a.efficiency {
            assert!(
                (v - b.efficiency[k]).abs() < 1e-12 * v.abs().max(1.0),
                "{k}"
            );
        }
        let (ra, rb) = (a.efficiency.radii_um(), b.efficiency.radii_um());
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(&rb) {
            assert!((x - y).abs() < 1e-12 * x.abs().max(1.0), "circle radius");
        }
        assert!((a.focal_plane_z_um - b.focal_plane_z_um).abs() < 1e-9);
    }

    #[test]
    fn a_measured_flux_rescales_only_the_transmitted_definitions() {
        let (lens, opts) = small_lens();
        let nf = ideal_nearfield(&lens, 0.1, &opts).unwrap();
        let mut fp = FieldPlane::from_transmission(&nf, Polarization::X, 0.5, 1.0);
        let a = run_field_plane(&fp, &lens, &opts).unwrap();
        // H of a normally incident plane wave in the exit medium: Hy = n Ex; half the power
        // of that would be the flux of H = n E / 2
        let hy: Vec<C64> = fp.ex.iter().map(|e| e * 0.5).collect();
        fp.h = Some((vec![C64::new(0.0, 0.0); hy.len()], hy));
        let p = fp.poynting_flux().unwrap();
        let b = run_field_plane(&fp, &lens, &opts).unwrap();
        assert!((b.report.transmitted_power - p).abs() < 1e-12 * p);
        let ratio = a.report.transmitted_power / p;
        assert!(
            (ratio - 2.0).abs() < 0.05,
            "plane-wave power / flux = {ratio}"
        );
        let k = "transmitted_r3";
        assert!((b.report.efficiency[k] - a.report.efficiency[k] * ratio).abs() < 1e-12);
        assert_eq!(
            b.report.efficiency["incident_r3"],
            a.report.efficiency["incident_r3"]
        );
        assert!(b.warnings.iter().any(|w| w.contains("Poynting flux")));
    }

    #[test]
    fn a_field_plane_of_another_wavelength_is_refused() {
        let (lens, opts) = small_lens();
        let nf = ideal_nearfield(&lens, 0.1, &opts).unwrap();
        let fp = FieldPlane::from_transmission(&nf, Polarization::X, 0.6, 1.0);
        let e = run_field_plane(&fp, &lens, &opts).unwrap_err().to_string();
        assert!(e.contains("wavelength") && e.contains("0.6"), "{e}");
    }
}
