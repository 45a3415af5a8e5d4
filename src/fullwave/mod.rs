//! Full-wave check of the local periodic approximation (LPA) on 1-D (cylindrical) lenses.
//!
//! A lens of SRN ridges on glass (infinite along y, varying along x), centred at x = 0 with a
//! mirror-symmetric layout, is repeated with a ridge-free margin as one supercell of period
//! L = N·pitch + 2·margin and solved by 1-D RCWA ([`solver1d`], even sector). Its transmitted
//! orders are the lens's exact near field just above the ridges; the same lens through the LPA
//! uses a library of small-period gratings ([`grating_library`], same solver) and the
//! piecewise near field t(w_j) per pitch cell. Both near fields (and the ideal lens) are
//! restricted to the lens aperture |x| ≤ N·pitch/2 and propagated by the same 1-D angular
//! spectrum ([`propagate1d`]) to the same focal metrics.
//!
//! Aperture field F: Ey for TE, hy = η₀Hy for TM, for a unit-amplitude incident E in the
//! substrate (incident hy = n_sub for TM). LPA: F = t(w) for TE and F = n_exit·t(w) for TM
//! (t is the crate's E-field ratio, [`crate::T_DEFINITION`]; hy = n_exit·Ex for the zeroth
//! order at normal incidence). Ideal lens: F = exp(iφ(x)) (TE), n_exit·exp(iφ(x)) (TM).
//!
//! Each polarisation is laid out from its own library (a 1-D grating's TE and TM phases differ
//! too much for one joint layout); the full-wave supercell of a polarisation uses exactly the
//! ridge widths of its LPA layout.

pub mod propagate1d;
pub mod solver1d;

use crate::lens::{wrap_phase, Lens};
use crate::{Error, Result, C64};
use propagate1d::{analyse, Focus1d, FocusSetup1d, Spectrum1d};
use rayon::prelude::*;
use serde::Serialize;
use solver1d::{solve, Basis, Factorization, Grating, Polarization, Ridge};
use std::f64::consts::PI;

/// The smallest supercell margin, in wavelengths: the supercell repeats the lens; closer
/// copies couple through the near fields of their edge ridges (an evanescent order at
/// |kx| ≥ 1.5 k₀ has decayed by exp(−2π·1.1·3) ≈ 1e-9 over 3 λ) and through the margin's own
/// diffraction (margin study in validation/fullwave).
pub const MIN_MARGIN_WAVELENGTHS: f64 = 3.0;
/// Fewest "samples" L/(2M+1) across the narrowest ridge or gap accepted.
pub const MIN_SAMPLES_PER_FEATURE: f64 = 0.5;
/// Samples across the narrowest feature used by `harmonics = "auto"`.
pub const AUTO_SAMPLES_PER_FEATURE: f64 = 1.0;

/// Smallest M with L/(2M+1) ≤ narrowest / samples: the Fourier series of a supercell of
/// period L (µm) resolves features down to about L/(2M+1).
pub fn harmonics_for(samples: f64, period: f64, narrowest: f64) -> usize {
    let need = samples * period / narrowest;
    ((need - 1.0) / 2.0).ceil().max(1.0) as usize
}

/// How each ridge width is chosen (as in the 2-D layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection1d {
    /// Minimise |t(w) − a e^{i(φ + φ₀)}|² with a common amplitude a and offset φ₀.
    ComplexError,
    /// Minimise |wrap(arg t(w) − φ − φ₀)|.
    NearestPhase,
}

/// Supercell harmonics: a fixed M (orders −M…M) or the automatic choice
/// ([`AUTO_SAMPLES_PER_FEATURE`] across the narrowest ridge or gap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Harmonics1d {
    Fixed(usize),
    Auto,
}

/// A 1-D lens design, parsed and checked at the edge (`crate::io::fullwave_design`): the
/// record the full-wave and LPA pipelines run on. Lengths in µm.
#[derive(Clone, Debug)]
pub struct Design1d {
    pub name: String,
    /// Vacuum wavelength (µm).
    pub wavelength_um: f64,
    /// Permittivities at the wavelength: ridge, substrate (incidence side), exit medium.
    pub eps_ridge: C64,
    pub eps_substrate: C64,
    pub eps_exit: C64,
    pub ridge_height_um: f64,
    /// Smallest gap between neighbouring ridges and narrowest ridge (µm).
    pub min_gap_um: f64,
    pub min_width_um: f64,
    /// Library widths from `min_width_um` to pitch − `min_gap_um`, and the harmonics M of
    /// the small-period library solves.
    pub library_widths: usize,
    pub library_harmonics: usize,
    pub pitch_um: f64,
    /// N ridges, centred at x = 0.
    pub ridge_count: usize,
    /// The lens over the aperture N·pitch (diameter = aperture), exit medium and substrate.
    pub lens: Lens,
    pub selection: Selection1d,
    /// Ridge-free glass between the lens edge and the period edge (µm).
    pub margin_um: f64,
    pub harmonics: Harmonics1d,
    /// Efficiency windows |x − x_peak| < K·FWHM and on-axis scan planes over 0.5 f … 1.5 f.
    pub efficiency_k: Vec<f64>,
    pub z_planes: usize,
}

impl Design1d {
    /// The lens aperture covered by ridge cells, N·pitch (µm).
    pub fn aperture(&self) -> f64 {
        self.lens.diameter_um
    }

    /// Supercell period L = aperture + 2·margin (µm).
    pub fn period(&self, margin_um: f64) -> f64 {
        self.aperture() + 2.0 * margin_um
    }

    /// The narrowest feature the supercell must resolve: min(min_width, min_gap).
    pub fn narrowest_feature(&self) -> f64 {
        self.min_width_um.min(self.min_gap_um)
    }

    /// The supercell harmonics M for a margin (µm).
    pub fn supercell_harmonics(&self, margin_um: f64) -> usize {
        match self.harmonics {
            Harmonics1d::Fixed(m) => m,
            Harmonics1d::Auto => harmonics_for(
                AUTO_SAMPLES_PER_FEATURE,
                self.period(margin_um),
                self.narrowest_feature(),
            ),
        }
    }
}

/// A 1-D grating library: width (µm) → t (crate t definition), at one pitch.
#[derive(Clone, Debug, Serialize)]
pub struct GratingLibrary {
    pub pitch: f64,
    pub height: f64,
    pub harmonics: usize,
    pub widths: Vec<f64>,
    #[serde(serialize_with = "ser_complex")]
    pub t: Vec<C64>,
    /// Largest |R + T − 1| over the library solves.
    pub energy_error: f64,
    /// Span of the unwrapped phase of t over the widths (rad).
    pub phase_coverage: f64,
}

fn ser_complex<S: serde::Serializer>(v: &[C64], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for c in v {
        seq.serialize_element(&[c.re, c.im])?;
    }
    seq.end()
}

/// Span of the unwrapped phase of a sequence of t.
pub fn phase_span(t: &[C64]) -> f64 {
    let mut acc = t[0].arg();
    let (mut lo, mut hi) = (acc, acc);
    for w in t.windows(2) {
        acc += wrap_phase(w[1].arg() - w[0].arg());
        lo = lo.min(acc);
        hi = hi.max(acc);
    }
    hi - lo
}

/// Solve the small-period gratings (one ridge of each width per pitch) with the 1-D solver.
pub fn grating_library(
    d: &Design1d,
    pitch: f64,
    height: f64,
    pol: Polarization,
) -> Result<GratingLibrary> {
    let (er, es, ee) = (d.eps_ridge, d.eps_substrate, d.eps_exit);
    let (w0, w1) = (d.min_width_um, pitch - d.min_gap_um);
    let n = d.library_widths;
    let widths: Vec<f64> = (0..n)
        .map(|i| w0 + (w1 - w0) * i as f64 / (n - 1) as f64)
        .collect();
    let sols: Vec<Result<(C64, f64)>> = widths
        .par_iter()
        .map(|&w| {
            let g = Grating {
                period: pitch,
                height,
                ridges: vec![Ridge {
                    center: 0.0,
                    width: w,
                }],
                eps_ridge: er,
                eps_substrate: es,
                eps_exit: ee,
            };
            let s = solve(
                &g,
                d.wavelength_um,
                d.library_harmonics,
                pol,
                Basis::Even,
                Factorization::Li,
            )?;
            Ok((s.t0, (s.transmittance + s.reflectance - 1.0).abs()))
        })
        .collect();
    let mut t = Vec::with_capacity(n);
    let mut err: f64 = 0.0;
    for s in sols {
        let (ti, e) = s?;
        t.push(ti);
        err = err.max(e);
    }
    Ok(GratingLibrary {
        pitch,
        height,
        harmonics: d.library_harmonics,
        phase_coverage: phase_span(&t),
        widths,
        t,
        energy_error: err,
    })
}

/// A 1-D lens layout: one ridge per pitch cell, centred cells x_j = (j − (N−1)/2)·pitch.
#[derive(Clone, Debug, Serialize)]
pub struct Layout1d {
    pub pitch: f64,
    pub centers: Vec<f64>,
    pub widths: Vec<f64>,
    #[serde(serialize_with = "ser_complex")]
    pub t: Vec<C64>,
    /// Target phase φ(x_j) (unwrapped, rad), without the offset.
    pub target_phase: Vec<f64>,
    pub phase_offset: f64,
    pub amplitude: f64,
    pub rms_phase_error: f64,
    pub max_phase_error: f64,
}

/// Choose each cell's width from the library (complex error with a common amplitude and an
/// optimised global offset, or nearest phase), as the 2-D layout does.
pub fn plan_layout(
    lib: &GratingLibrary,
    count: usize,
    focal_length: f64,
    wavelength: f64,
    n_exit: f64,
    selection: Selection1d,
) -> Layout1d {
    let p = lib.pitch;
    let centers: Vec<f64> = (0..count)
        .map(|j| (j as f64 - 0.5 * (count as f64 - 1.0)) * p)
        .collect();
    let k = 2.0 * PI * n_exit / wavelength;
    let phi: Vec<f64> = centers
        .iter()
        .map(|x| -k * ((x * x + focal_length * focal_length).sqrt() - focal_length))
        .collect();
    let choose = |theta: f64, a: f64| -> usize {
        let target = C64::from_polar(a, theta);
        let mut best = (f64::INFINITY, 0);
        for (i, t) in lib.t.iter().enumerate() {
            let c = match selection {
                Selection1d::ComplexError => (t - target).norm_sqr(),
                Selection1d::NearestPhase => wrap_phase(t.arg() - theta).abs(),
            };
            if c < best.0 {
                best = (c, i);
            }
        }
        best.1
    };
    let mean_abs = lib.t.iter().map(|t| t.norm()).sum::<f64>() / lib.t.len() as f64;
    let mut best = (f64::INFINITY, 0.0, mean_abs);
    let n_off = 720;
    for io in 0..n_off {
        let off = -PI + 2.0 * PI * io as f64 / n_off as f64;
        let mut a = mean_abs;
        let mut cost = 0.0;
        for _ in 0..2 {
            let idx: Vec<usize> = phi.iter().map(|&ph| choose(ph + off, a)).collect();
            // least-squares amplitude for the chosen cells
            let s: f64 = idx
                .iter()
                .zip(&phi)
                .map(|(&i, &ph)| (lib.t[i] * C64::from_polar(1.0, -(ph + off))).re)
                .sum();
            a = (s / count as f64).max(1e-6);
            cost = idx
                .iter()
                .zip(&phi)
                .map(|(&i, &ph)| (lib.t[i] - C64::from_polar(a, ph + off)).norm_sqr())
                .sum::<f64>();
        }
        if cost < best.0 {
            best = (cost, off, a);
        }
    }
    let (_, off, a) = best;
    let idx: Vec<usize> = phi.iter().map(|&ph| choose(ph + off, a)).collect();
    let errs: Vec<f64> = idx
        .iter()
        .zip(&phi)
        .map(|(&i, &ph)| wrap_phase(lib.t[i].arg() - ph - off))
        .collect();
    let rms = (errs.iter().map(|e| e * e).sum::<f64>() / count as f64).sqrt();
    let max = errs.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    Layout1d {
        pitch: p,
        centers,
        widths: idx.iter().map(|&i| lib.widths[i]).collect(),
        t: idx.iter().map(|&i| lib.t[i]).collect(),
        target_phase: phi,
        phase_offset: off,
        amplitude: a,
        rms_phase_error: rms,
        max_phase_error: max,
    }
}

/// The supercell of a layout: the lens ridges centred at x = 0, period `period`.
pub fn supercell(d: &Design1d, layout: &Layout1d, period: f64, height: f64) -> Grating {
    let (er, es, ee) = (d.eps_ridge, d.eps_substrate, d.eps_exit);
    Grating {
        period,
        height,
        ridges: layout
            .centers
            .iter()
            .zip(&layout.widths)
            .map(|(&center, &width)| Ridge { center, width })
            .collect(),
        eps_ridge: er,
        eps_substrate: es,
        eps_exit: ee,
    }
}

/// Cell-by-cell comparison of the near fields just above the ridges.
#[derive(Clone, Debug, Serialize)]
pub struct NearFieldComparison {
    pub x_um: Vec<f64>,
    /// Phase of the full-wave aperture field averaged over each pitch cell (rad, wrapped).
    pub fullwave_phase: Vec<f64>,
    pub fullwave_amplitude: Vec<f64>,
    /// Phase and amplitude of the LPA aperture field (t(w_j), ×n_exit for TM).
    pub lpa_phase: Vec<f64>,
    pub lpa_amplitude: Vec<f64>,
    /// wrap(arg F_fw − arg F_lpa) per cell (rad).
    pub phase_error: Vec<f64>,
    pub rms_phase_error: f64,
    pub max_phase_error: f64,
    /// Amplitude ratio |F_fw| / |F_lpa| per cell.
    pub amplitude_ratio: Vec<f64>,
    /// The same comparison for the propagating parts only (both aperture fields low-pass
    /// filtered to |kx| < k, evaluated at the cell centres): what can reach the focus.
    pub propagating_phase_error: Vec<f64>,
    pub propagating_rms_phase_error: f64,
    pub propagating_max_phase_error: f64,
    pub propagating_fullwave_amplitude: Vec<f64>,
    pub propagating_lpa_amplitude: Vec<f64>,
}

/// Supercell solve statistics.
#[derive(Clone, Debug, Serialize)]
pub struct SupercellStats {
    pub period_um: f64,
    pub margin_um: f64,
    pub harmonics: usize,
    pub basis_dimension: usize,
    pub reflectance: f64,
    pub transmittance: f64,
    /// R + T − 1 (lossless: rounding).
    pub energy_error: f64,
    pub solve_seconds: f64,
}

/// Everything measured for one polarisation.
#[derive(Clone, Debug, Serialize)]
pub struct PolarizationResult {
    pub polarization: Polarization,
    pub library: GratingLibrary,
    pub layout: Layout1d,
    pub supercell: SupercellStats,
    pub near_field: NearFieldComparison,
    pub fullwave: Focus1d,
    pub lpa: Focus1d,
    pub ideal: Focus1d,
    /// TM only: the transmission efficiency P_t/P_inc of the LPA and ideal near fields if
    /// their transverse E is taken as given and hy derived instead of hy = n_exit·t: E = t(w)
    /// resp. √(n_inc/n_exit)·exp(iφ), times √cos θ(x) under the energy-conserving aperture
    /// model (the tangential E of a p wave whose H carries 1/√cos θ): {"lpa": …, "ideal": …}.
    pub transmission_efficiency_e_given: Option<std::collections::BTreeMap<String, f64>>,
}

/// Options of a run (overrides of the design for studies).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Override the supercell harmonics.
    pub harmonics: Option<usize>,
    /// Override the margin (µm).
    pub margin: Option<f64>,
    /// Override the ridge height (µm).
    pub height: Option<f64>,
    /// TM factorisation (Li by default).
    pub laurent: bool,
    /// Aperture model of the LPA and ideal fields ([`crate::nearfield::ApertureModel`]): under
    /// `Flux` (default) the invariant field component (E_y for TE, H_y for TM) carries the
    /// factor 1/√cos θ(x) of the local deflection, so the power through every point is the
    /// cell's transmittance (the ideal lens's: 1) times the incident power.
    pub aperture_model: crate::nearfield::ApertureModel,
}

/// The factor of the invariant field component (E_y for TE, H_y for TM; both tangential) of a
/// plane wave leaving at θ(x), sin θ = |x|/√(x² + f²), that keeps its axial flux equal to that
/// of the same amplitude at normal incidence: 1/√cos θ (the flux ½ n |E|² cos θ for TE,
/// ½ |H|² cos θ / n for TM); 1 under the tangential model.
fn obliquity_1d(model: crate::nearfield::ApertureModel, f: f64) -> impl Fn(f64) -> f64 + Sync {
    let flux = model == crate::nearfield::ApertureModel::Flux;
    move |x: f64| {
        if flux {
            ((x * x + f * f).sqrt() / f).sqrt()
        } else {
            1.0
        }
    }
}

/// The aperture field of the supercell orders at x (F for unit incident E).
fn order_field(t: &[C64], m: usize, period: f64, scale: C64, x: f64) -> C64 {
    // even: F = t₀ + 2 Σ_{m>0} t_m cos(2πmx/L) when t_m = t_−m; use the general sum
    let mut s = C64::new(0.0, 0.0);
    for (i, ti) in t.iter().enumerate() {
        let kx = 2.0 * PI * (i as f64 - m as f64) / period;
        s += ti * C64::from_polar(1.0, kx * x);
    }
    s * scale
}

/// Cell-by-cell comparison of the full-wave and LPA aperture fields just above the ridges:
/// the full-wave field (supercell orders `t`, M = `mh`, period `period`) averaged over each
/// pitch cell against the cell's LPA t, and both propagating parts at the cell centres.
/// `scales` are (full-wave, LPA) field factors (1, 1 for TE; n_sub, n_exit for TM).
fn compare_near_fields(
    layout: &Layout1d,
    t: &[C64],
    mh: usize,
    period: f64,
    scales: (C64, f64),
    spectra: (&Spectrum1d, &Spectrum1d),
) -> NearFieldComparison {
    let (scale, lpa_scale) = scales;
    let (s_fw, s_lpa) = spectra;
    let count = layout.centers.len();
    let p = layout.pitch;
    let mut nf = NearFieldComparison {
        x_um: layout.centers.clone(),
        fullwave_phase: vec![],
        fullwave_amplitude: vec![],
        lpa_phase: vec![],
        lpa_amplitude: vec![],
        phase_error: vec![],
        rms_phase_error: 0.0,
        max_phase_error: 0.0,
        amplitude_ratio: vec![],
        propagating_phase_error: vec![],
        propagating_rms_phase_error: 0.0,
        propagating_max_phase_error: 0.0,
        propagating_fullwave_amplitude: vec![],
        propagating_lpa_amplitude: vec![],
    };
    let pf = s_fw.propagating_field(&layout.centers);
    let pl = s_lpa.propagating_field(&layout.centers);
    for (a, b) in pf.iter().zip(&pl) {
        nf.propagating_phase_error
            .push(wrap_phase(a.arg() - b.arg()));
        nf.propagating_fullwave_amplitude.push(a.norm());
        nf.propagating_lpa_amplitude.push(b.norm());
    }
    nf.propagating_rms_phase_error = (nf
        .propagating_phase_error
        .iter()
        .map(|e| e * e)
        .sum::<f64>()
        / count as f64)
        .sqrt();
    nf.propagating_max_phase_error = nf
        .propagating_phase_error
        .iter()
        .fold(0.0f64, |m, e| m.max(e.abs()));
    for (j, &xc) in layout.centers.iter().enumerate() {
        let mut avg = C64::new(0.0, 0.0);
        for (i, ti) in t.iter().enumerate() {
            let kxm = 2.0 * PI * (i as f64 - mh as f64) / period;
            let u = 0.5 * kxm * p;
            let sinc = if u == 0.0 { 1.0 } else { u.sin() / u };
            avg += ti * C64::from_polar(sinc, kxm * xc);
        }
        avg *= scale;
        let l = layout.t[j] * lpa_scale;
        nf.fullwave_phase.push(avg.arg());
        nf.fullwave_amplitude.push(avg.norm());
        nf.lpa_phase.push(l.arg());
        nf.lpa_amplitude.push(l.norm());
        let e = wrap_phase(avg.arg() - l.arg());
        nf.phase_error.push(e);
        nf.amplitude_ratio.push(avg.norm() / l.norm());
    }
    nf.rms_phase_error = (nf.phase_error.iter().map(|e| e * e).sum::<f64>() / count as f64).sqrt();
    nf.max_phase_error = nf.phase_error.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    nf
}

/// Sample spacing dx (µm) and FFT size of the aperture fields: dx resolves the highest
/// supercell harmonic (≥ 2 samples per period L/M, at most λ/8) with pitch-cell edges on
/// samples (an even number per pitch); the window holds twice the aperture and the band-limit
/// window of the lens's NA up to `z_end` (µm).
fn aperture_grid(d: &Design1d, period: f64, harmonics: usize, z_end: f64) -> (f64, usize) {
    let (lambda, p, aperture) = (d.wavelength_um, d.pitch_um, d.aperture());
    let n_exit = d.eps_exit.sqrt().re;
    let dx_need = (period / (4.0 * harmonics as f64)).min(lambda / 8.0);
    let mut s = (p / dx_need).ceil() as usize;
    if s % 2 == 1 {
        s += 1;
    }
    let dx = p / s as f64;
    let w_band = crate::propagate::band_limited_window(d.lens.na, n_exit, z_end);
    let n =
        crate::propagate::fast_size(((2.0 * aperture).max(w_band + aperture) / dx).ceil() as usize);
    (dx, n)
}

/// Normal-incidence field ratio of the ideal cylindrical lens: √(n_inc/n_exit) (unit
/// transmittance) under `Flux`, 1 under `Tangential` (the construction before issue 25).
fn ideal_amplitude_1d(model: crate::nearfield::ApertureModel, n_inc: f64, n_exit: f64) -> f64 {
    match model {
        crate::nearfield::ApertureModel::Flux => (n_inc / n_exit).sqrt(),
        crate::nearfield::ApertureModel::Tangential => 1.0,
    }
}

/// The ideal cylindrical lens's aperture field (E_y for TE, hy = η₀H_y for TM) at x: exact
/// hyperbolic phase; under [`crate::nearfield::ApertureModel::Flux`] the perfect flat lens
/// that conserves energy (normal-incidence amplitude √(n_inc/n_exit), the field ratio of unit
/// transmittance, times the obliquity factor 1/√cos θ(x) of [`obliquity_1d`]), under
/// `Tangential` the field ratio 1 of the construction before issue 25.
fn ideal_field_1d(
    lens: &Lens,
    pol: Polarization,
    model: crate::nearfield::ApertureModel,
) -> impl Fn(f64) -> C64 + Sync {
    let (_, h_scale) = aperture_field_scales(pol, lens.n_incident, lens.n_exit);
    let amplitude = ideal_amplitude_1d(model, lens.n_incident, lens.n_exit);
    let obl = obliquity_1d(model, lens.focal_length_um);
    let (f, kx) = (
        lens.focal_length_um,
        2.0 * PI * lens.n_exit / lens.wavelength_um,
    );
    move |x: f64| {
        C64::from_polar(
            amplitude * h_scale * obl(x),
            -kx * ((x * x + f * f).sqrt() - f),
        )
    }
}

/// The focus of the ideal cylindrical lens alone (the 2-D counterpart of
/// [`crate::metrics::pipeline::run_ideal`]): `lens` read as a slit of width D, lit from its
/// incidence medium, in polarisation `pol`; efficiencies per unit length (P_inc = ½ n_inc D).
/// Sampled at λ/(8 n_exit), the FFT window band-limit safe up to 1.5 f.
pub fn ideal_focus(
    lens: &Lens,
    pol: Polarization,
    model: crate::nearfield::ApertureModel,
    efficiency_k: &[f64],
    n_z: usize,
) -> Result<Focus1d> {
    let f = lens.focal_length_um;
    let z_range = (0.5 * f, 1.5 * f);
    let dx = lens.wavelength_um / (8.0 * lens.n_exit);
    let aperture = lens.diameter_um;
    let w_band = crate::propagate::band_limited_window(lens.na, lens.n_exit, z_range.1);
    let n =
        crate::propagate::fast_size(((2.0 * aperture).max(w_band + aperture) / dx).ceil() as usize);
    let field = ideal_field_1d(lens, pol, model);
    let mut spec = Spectrum1d::from_aperture(
        pol,
        &field,
        0.5 * aperture,
        n + n % 2,
        dx,
        lens.wavelength_um,
        lens.n_exit,
    )?;
    let setup = FocusSetup1d {
        wavelength_um: lens.wavelength_um,
        design_focal_length: f,
        na: lens.na,
        incident_power: 0.5 * lens.n_incident * aperture,
        efficiency_k: efficiency_k.to_vec(),
        z_range,
        n_z,
        at_design_focus: false,
    };
    if model == crate::nearfield::ApertureModel::Flux {
        cap_at_incident_power(&mut spec, setup.incident_power);
    }
    let mut focus = analyse(&spec, &setup)?;
    focus.strehl = Some(1.0);
    Ok(focus)
}

/// A passive lens transmits at most the power that falls on it: the ideal lens's spectrum
/// scaled down to carry exactly `incident_power` where its local construction would carry
/// more. The local plane-wave picture behind [`obliquity_1d`] fails where the rim zone, in
/// which cos θ is small, is only a few wavelengths wide: a cylindrical lens at NA 0.99 below
/// about 40 µm (transmission 1.15 at 5 µm, 1.02 at 20 µm; validation/propagation/
/// ideal_lens.md). Elsewhere nothing changes.
fn cap_at_incident_power(spec: &mut Spectrum1d, incident_power: f64) {
    let p = spec.propagating_power();
    if p > incident_power {
        let s = (incident_power / p).sqrt();
        spec.a.iter_mut().for_each(|v| *v *= s);
    }
}

/// Scales of the full-wave (supercell orders) and LPA aperture fields: 1 for TE (the field is
/// Ey); for TM, whose aperture field is hy = η₀Hy, n_sub and n_exit.
fn aperture_field_scales(pol: Polarization, n_sub: f64, n_exit: f64) -> (C64, f64) {
    let scale = match pol {
        Polarization::Te => C64::new(1.0, 0.0),
        Polarization::Tm => C64::new(n_sub, 0.0),
    };
    let lpa_scale = match pol {
        Polarization::Te => 1.0,
        Polarization::Tm => n_exit,
    };
    (scale, lpa_scale)
}

/// Solve the supercell `g` of the lens by the 1-D RCWA (even basis); returns the solution,
/// the wall time of the solve (s) and R + T − 1, refused beyond 1e-6 when every medium is
/// lossless.
fn solve_supercell(
    d: &Design1d,
    g: &Grating,
    harmonics: usize,
    pol: Polarization,
    fact: Factorization,
) -> Result<(solver1d::Solution, f64, f64)> {
    let (es, ee) = (d.eps_substrate, d.eps_exit);
    let t_start = std::time::Instant::now();
    let sol = solve(g, d.wavelength_um, harmonics, pol, Basis::Even, fact)?;
    let solve_seconds = t_start.elapsed().as_secs_f64();
    let energy_error = sol.transmittance + sol.reflectance - 1.0;
    if energy_error.abs() > 1e-6 && es.im == 0.0 && ee.im == 0.0 && g.eps_ridge.im == 0.0 {
        return Err(Error::numerical(
            "fullwave",
            format!(
                "energy not conserved in the lossless supercell: R + T − 1 = {energy_error:.3e}"
            ),
        ));
    }
    Ok((sol, solve_seconds, energy_error))
}

/// Focus of the full-wave, LPA and ideal aperture spectra (in that order, analysed in
/// parallel), the first two with their Strehl ratios against the ideal lens (plain and per
/// transmitted power).
fn analyse_against_ideal(
    spectra: [&Spectrum1d; 3],
    setup: &FocusSetup1d,
) -> Result<(Focus1d, Focus1d, Focus1d)> {
    let mut res: Vec<Result<Focus1d>> = spectra.par_iter().map(|s| analyse(s, setup)).collect();
    let ideal = res.pop().unwrap()?;
    let mut lpa = res.pop().unwrap()?;
    let mut fullwave = res.pop().unwrap()?;
    lpa.strehl = Some(lpa.focal_point_intensity / ideal.focal_point_intensity);
    fullwave.strehl = Some(fullwave.focal_point_intensity / ideal.focal_point_intensity);
    let per_power = |f: &Focus1d| f.focal_point_intensity / f.transmitted_power;
    lpa.strehl_power_normalised = Some(per_power(&lpa) / per_power(&ideal));
    fullwave.strehl_power_normalised = Some(per_power(&fullwave) / per_power(&ideal));
    Ok((fullwave, lpa, ideal))
}

/// An aperture field x (µm) ↦ its complex value.
type ApertureField = dyn Fn(f64) -> C64 + Sync;

/// TM only: the transmission efficiencies of the LPA and ideal lenses had their aperture
/// field been given as E rather than H (`spectrum` of each field; ÷ `incident_power`).
fn tm_e_given_efficiencies(
    spectrum: &dyn Fn(&ApertureField) -> Result<Spectrum1d>,
    lpa_e: &ApertureField,
    ideal_e: &ApertureField,
    incident_power: f64,
) -> Result<std::collections::BTreeMap<String, f64>> {
    let mut m = std::collections::BTreeMap::new();
    for (name, field) in [("lpa", lpa_e), ("ideal", ideal_e)] {
        let s = spectrum(field)?;
        m.insert(name.to_string(), s.power_if_tm_e_given() / incident_power);
    }
    Ok(m)
}

/// Run the full-wave and LPA pipelines for one polarisation. `progress(stage)` is called at
/// the start of each stage (0 library, 1 supercell solve, 2 propagation).
pub fn run_polarization(
    d: &Design1d,
    pol: Polarization,
    opts: &RunOptions,
    progress: &dyn Fn(usize),
) -> Result<PolarizationResult> {
    let lambda = d.wavelength_um;
    let (es, ee) = (d.eps_substrate, d.eps_exit);
    let (n_sub, n_exit) = (es.sqrt().re, ee.sqrt().re);
    let height = opts.height.unwrap_or(d.ridge_height_um);
    crate::error::check_positive("height", height, "µm")?;
    let f = d.lens.focal_length_um;
    progress(0);
    let lib = grating_library(d, d.pitch_um, height, pol)?;
    let count = d.ridge_count;
    let layout = plan_layout(&lib, count, f, lambda, n_exit, d.selection);
    let aperture = d.aperture();
    let margin = opts.margin.unwrap_or(d.margin_um);
    let period = d.period(margin);
    let harmonics = opts
        .harmonics
        .unwrap_or_else(|| d.supercell_harmonics(margin));
    progress(1);
    let g = supercell(d, &layout, period, height);
    let fact = if opts.laurent {
        Factorization::Laurent
    } else {
        Factorization::Li
    };
    let (sol, solve_seconds, energy_error) = solve_supercell(d, &g, harmonics, pol, fact)?;
    progress(2);
    // aperture fields
    let (scale, lpa_scale) = aperture_field_scales(pol, n_sub, n_exit);
    let half = 0.5 * aperture;
    let p = d.pitch_um;
    let z_range = (0.5 * f, 1.5 * f);
    let (dx, n) = aperture_grid(d, period, harmonics, z_range.1);
    let mh = sol.harmonics;
    let t = sol.t.clone();
    let fw_field = move |x: f64| order_field(&t, mh, period, scale, x);
    let lay = layout.clone();
    let obl = obliquity_1d(opts.aperture_model, f);
    let lpa_field = move |x: f64| {
        let j = ((x + half) / p).floor().clamp(0.0, (count - 1) as f64) as usize;
        lay.t[j] * (lpa_scale * obl(x))
    };
    let kx = 2.0 * PI * n_exit / lambda;
    let ideal_field = ideal_field_1d(&d.lens.with_incidence(n_sub)?, pol, opts.aperture_model);
    let setup = FocusSetup1d {
        wavelength_um: lambda,
        design_focal_length: f,
        na: d.lens.na,
        incident_power: 0.5 * n_sub * aperture,
        efficiency_k: d.efficiency_k.clone(),
        z_range,
        n_z: d.z_planes,
        at_design_focus: false,
    };
    let spec =
        |field: &ApertureField| Spectrum1d::from_aperture(pol, field, half, n, dx, lambda, n_exit);
    let s_fw = spec(&fw_field)?;
    let s_lpa = spec(&lpa_field)?;
    let mut s_id = spec(&ideal_field)?;
    if opts.aperture_model == crate::nearfield::ApertureModel::Flux {
        cap_at_incident_power(&mut s_id, setup.incident_power);
    }
    let (fullwave, lpa, ideal) = analyse_against_ideal([&s_fw, &s_lpa, &s_id], &setup)?;
    let nf = compare_near_fields(
        &layout,
        &sol.t,
        mh,
        period,
        (scale, lpa_scale),
        (&s_fw, &s_lpa),
    );
    let e_given = if pol == Polarization::Tm {
        // the tangential E of a p wave whose H carries 1/√cos θ carries √cos θ
        let lay2 = layout.clone();
        let obl = obliquity_1d(opts.aperture_model, f);
        let lpa_e = move |x: f64| {
            let j = ((x + half) / p).floor().clamp(0.0, (count - 1) as f64) as usize;
            lay2.t[j] / obl(x)
        };
        let obl = obliquity_1d(opts.aperture_model, f);
        let amplitude = ideal_amplitude_1d(opts.aperture_model, n_sub, n_exit);
        let ideal_e =
            move |x: f64| C64::from_polar(amplitude / obl(x), -kx * ((x * x + f * f).sqrt() - f));
        Some(tm_e_given_efficiencies(
            &spec,
            &lpa_e,
            &ideal_e,
            setup.incident_power,
        )?)
    } else {
        None
    };
    Ok(PolarizationResult {
        transmission_efficiency_e_given: e_given,
        polarization: pol,
        library: lib,
        layout,
        supercell: SupercellStats {
            period_um: period,
            margin_um: margin,
            harmonics,
            basis_dimension: harmonics + 1,
            reflectance: sol.reflectance,
            transmittance: sol.transmittance,
            energy_error,
            solve_seconds,
        },
        near_field: nf,
        fullwave,
        lpa,
        ideal,
    })
}
