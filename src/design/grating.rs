//! Metagrating supercells: one local period of a lens zone, optimised by RCWA for the power
//! diffracted into the order that goes to the focus.
//!
//! # Geometry and the focal order
//!
//! A supercell is a rectangular cell Λ × p (Λ along x, across the zone; p, the design's pitch,
//! along y, the grating lines) holding N circular pillars of the design's material and height
//! at y = 0, on the design's substrate, the exit medium around and above them. Light arrives
//! at normal incidence from the substrate. The supercell's x axis points radially outwards, so
//! the lens phase φ(r) = −(2π n_exit/λ)(√(r² + f²) − f) (crate convention, exp(−iωt))
//! decreases by 2π per period along +x: the local phase gradient dφ/dx = −2π/Λ is the
//! transverse wave number of the transmitted wave, which is the **order (m, n) = (−1, 0)**
//! (k_x = −2π/Λ along the reciprocal vector b1 = (2π/Λ) x̂): it travels towards −x, i.e.
//! towards the lens axis, at sin θ = λ/(n_exit Λ). [`FOCAL_ORDER`].
//!
//! # Polarisations
//!
//! TE: E along the grating lines (y); TM: E along x (across the zone). An x-polarised lens
//! sees TM on its x axis, TE on its y axis and an equal mix at 45°; a y-polarised or circularly
//! polarised lens the same with the axes swapped. The figure of merit of a zone of a
//! circularly symmetric lens is therefore the equal average ½(η_TE + η_TM), each η the power in
//! the focal order normalised to the incident power.
//!
//! # How many pillars
//!
//! Λ is rarely a whole number of pitches. N = ⌊Λ/p⌋ pillars at the even spacing Λ/N ≥ p keep
//! the whole radius range of the design (2 r_max + min_gap ≤ p ≤ Λ/N) and every pillar away
//! from its neighbours along the zone by at least the minimum gap; N = ⌈Λ/p⌉ packs the pillars
//! closer than the pitch and caps the radius at (Λ/N − min_gap)/2. [`PillarCount`] chooses;
//! validation/design/supercells.md compares the two.

use crate::cell::{Incidence, Lattice, Layer, Polarization, Shape, Stack};
use crate::layout::Cell;
use crate::material::Material;
use crate::progress::Progress;
use crate::rcwa::{RcwaPlan, Settings, Solution};
use crate::{Error, Result, C64};
use std::f64::consts::PI;

/// The diffraction order (m, n) that goes to the focus: k_x = −2π/Λ (see the module docs).
pub const FOCAL_ORDER: (i32, i32) = (-1, 0);

/// Largest number of pillars in a supercell (small deflection angles need more: use the LPA).
pub const MAX_PILLARS: usize = 12;

/// Largest |1 − R − T| accepted in a lossless supercell (the symmetrised normal-vector
/// factorisation conserves energy of the truncated problem to rounding, ~1e-12; a larger
/// drift is a numerical failure, reported).
pub const ENERGY_TOLERANCE: f64 = 1e-6;

/// The pillars, media and fabrication limits a supercell is built of (lengths in µm).
#[derive(Clone, Debug, PartialEq)]
pub struct GratingSpec {
    /// Vacuum wavelength (µm).
    pub wavelength_um: f64,
    pub pillar: Material,
    /// Incidence side (the light comes from it).
    pub substrate: Material,
    /// The medium the lens focuses into (also around the pillars).
    pub exit: Material,
    /// Pillar height (µm).
    pub height_um: f64,
    /// Smallest gap between neighbouring pillars (µm).
    pub min_gap_um: f64,
    /// Radius range of the pillars (µm).
    pub radius_min_um: f64,
    pub radius_max_um: f64,
    /// Period along the grating lines (y), the lens pitch (µm).
    pub pitch_um: f64,
    /// Fourier harmonics per p × p of supercell area: a supercell Λ × p keeps about
    /// `harmonics_per_pitch` · Λ/p harmonics (the same reciprocal-space density as a unit cell).
    pub harmonics_per_pitch: usize,
}

impl GratingSpec {
    /// Check every value (before any solve).
    pub fn validate(&self) -> Result<()> {
        crate::error::check_positive("wavelength", self.wavelength_um, "µm")?;
        crate::error::check_positive("height", self.height_um, "µm")?;
        crate::error::check_non_negative("min_gap", self.min_gap_um, "µm")?;
        crate::error::check_positive("pitch", self.pitch_um, "µm")?;
        crate::error::check_positive("minimum radius", self.radius_min_um, "µm")?;
        if !(self.radius_max_um.is_finite() && self.radius_max_um >= self.radius_min_um) {
            return Err(Error::invalid(
                "maximum radius",
                format!("{} µm", self.radius_max_um),
                format!(
                    "must be at least the minimum radius {} µm",
                    self.radius_min_um
                ),
            ));
        }
        if 2.0 * self.radius_min_um + self.min_gap_um > self.pitch_um + 1e-12 {
            return Err(Error::invalid(
                "minimum radius",
                format!("{} µm", self.radius_min_um),
                format!(
                    "2 r + min_gap must fit the pitch {} µm (min_gap {} µm)",
                    self.pitch_um, self.min_gap_um
                ),
            ));
        }
        if self.harmonics_per_pitch == 0 {
            return Err(Error::invalid(
                "harmonics per pitch",
                0,
                "must be at least 1",
            ));
        }
        for (name, m) in [
            ("pillar", &self.pillar),
            ("substrate", &self.substrate),
            ("exit medium", &self.exit),
        ] {
            let n = m.index(self.wavelength_um)?;
            if !(n.re > 0.0 && n.im >= 0.0) {
                return Err(Error::invalid(
                    format!("{name} index"),
                    crate::material::format_complex(n),
                    "must have Re n > 0 and Im n >= 0",
                ));
            }
        }
        if self.substrate.index(self.wavelength_um)?.im > 0.0 {
            return Err(Error::invalid(
                "substrate index",
                crate::material::format_complex(self.substrate.index(self.wavelength_um)?),
                "the incidence medium must be lossless (Im n = 0)",
            ));
        }
        Ok(())
    }

    /// Real refractive index of the exit medium at the design wavelength.
    pub fn exit_index(&self) -> Result<f64> {
        Ok(self.exit.index(self.wavelength_um)?.re)
    }

    /// Largest radius the y period allows: min(r_max, (p − min_gap)/2) (µm).
    pub fn radius_cap_um(&self) -> f64 {
        self.radius_max_um
            .min(0.5 * (self.pitch_um - self.min_gap_um))
    }

    /// Everything a supercell result depends on, as one line (the identity of a library).
    pub fn fingerprint(&self) -> String {
        let idx = |m: &Material| {
            m.index(self.wavelength_um)
                .map(crate::material::format_complex)
                .unwrap_or_else(|_| "?".into())
        };
        format!(
            "wavelength_um={} pillar_n={} substrate_n={} exit_n={} height_um={} min_gap_um={} radius_um=[{}, {}] pitch_um={} harmonics_per_pitch={}",
            self.wavelength_um,
            idx(&self.pillar),
            idx(&self.substrate),
            idx(&self.exit),
            self.height_um,
            self.min_gap_um,
            self.radius_min_um,
            self.radius_max_um,
            self.pitch_um,
            self.harmonics_per_pitch
        )
    }
}

/// Deflection angle θ (radians, in the exit medium) of a lens of numerical aperture `na` at
/// its rim: sin θ = NA/n_exit. An NA at or above n_exit is refused: no grating deflects that
/// far (the focal order would be evanescent).
pub fn deflection_for_na(na: f64, n_exit: f64) -> Result<f64> {
    if !(na.is_finite() && na > 0.0 && na < n_exit) {
        return Err(Error::invalid(
            "numerical aperture",
            na,
            format!(
                "must be in (0, n_exit = {n_exit}): sin θ = NA/n_exit must be below 1 for the focal order to propagate"
            ),
        ));
    }
    Ok((na / n_exit).asin())
}

/// Supercell period Λ = λ/(n_exit sin θ) (µm) for a deflection angle θ (radians, in the exit
/// medium), refused outside (0°, 90°).
pub fn grating_period(spec: &GratingSpec, theta: f64) -> Result<f64> {
    if !(theta.is_finite() && theta > 0.0 && theta < 0.5 * PI) {
        return Err(Error::invalid(
            "deflection angle",
            format!("{}°", theta.to_degrees()),
            "must be in (0°, 90°): sin θ = λ/(n_exit Λ) < 1 for the focal order to propagate",
        ));
    }
    Ok(spec.wavelength_um / (spec.exit_index()? * theta.sin()))
}

/// How the number of pillars of a period that is not a whole number of pitches is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PillarCount {
    /// N = ⌊Λ/p⌋: spacing Λ/N ≥ p, the whole radius range available (default).
    Floor,
    /// N = ⌈Λ/p⌉: spacing Λ/N < p, radius capped at (Λ/N − min_gap)/2.
    Ceil,
}

/// Number of pillars of a supercell of period `period_um`, checked to lie in 2..=MAX_PILLARS
/// and to leave room for the smallest radius.
pub fn pillar_count(spec: &GratingSpec, period_um: f64, rule: PillarCount) -> Result<usize> {
    let ratio = period_um / spec.pitch_um;
    let n = match rule {
        PillarCount::Floor => (ratio + 1e-9).floor(),
        PillarCount::Ceil => (ratio - 1e-9).ceil(),
    }
    .max(1.0) as usize;
    if !(2..=MAX_PILLARS).contains(&n) {
        let theta_min = (spec.wavelength_um
            / (spec.exit_index()? * spec.pitch_um * (MAX_PILLARS as f64 + 1.0)))
            .asin()
            .to_degrees();
        return Err(Error::invalid(
            "supercell period",
            format!("{period_um:.4} µm ({n} pillars of pitch {} µm)", spec.pitch_um),
            format!(
                "a supercell holds 2 to {MAX_PILLARS} pillars (deflection angles above ~{theta_min:.1}°); smaller angles are the LPA's"
            ),
        ));
    }
    let spacing = period_um / n as f64;
    if 2.0 * spec.radius_min_um + spec.min_gap_um > spacing + 1e-12 {
        return Err(Error::invalid(
            "pillar spacing",
            format!("{spacing:.4} µm ({n} pillars in {period_um:.4} µm)"),
            format!(
                "must hold two minimum radii {} µm and the gap {} µm",
                spec.radius_min_um, spec.min_gap_um
            ),
        ));
    }
    Ok(n)
}

/// One supercell: pillar centres along x (at y = 0) and radii (µm).
#[derive(Clone, Debug, PartialEq)]
pub struct SupercellGeometry {
    /// Period across the zone, Λ (µm).
    pub period_um: f64,
    /// Period along the grating lines, p (µm).
    pub pitch_um: f64,
    /// Pillar centres x in [0, Λ), ascending (µm).
    pub x_um: Vec<f64>,
    pub radius_um: Vec<f64>,
}

impl SupercellGeometry {
    /// N pillars evenly spaced at x_j = (j + ½) Λ/N, all of radius `radius`.
    pub fn even(period_um: f64, pitch_um: f64, n: usize, radius: f64) -> Self {
        SupercellGeometry {
            period_um,
            pitch_um,
            x_um: (0..n)
                .map(|j| (j as f64 + 0.5) * period_um / n as f64)
                .collect(),
            radius_um: vec![radius; n],
        }
    }

    /// Number of pillars.
    pub fn len(&self) -> usize {
        self.x_um.len()
    }

    /// Whether there is no pillar.
    pub fn is_empty(&self) -> bool {
        self.x_um.is_empty()
    }

    /// Centre-to-centre distance from pillar j to the next one along +x (cyclic, µm).
    fn spacing_after(&self, j: usize) -> f64 {
        let n = self.len();
        if j + 1 < n {
            self.x_um[j + 1] - self.x_um[j]
        } else {
            self.x_um[0] + self.period_um - self.x_um[j]
        }
    }

    /// Smallest edge-to-edge gap between neighbouring pillars, along the zone and across
    /// the grating lines (µm).
    pub fn min_gap_um(&self) -> f64 {
        let n = self.len();
        let along = (0..n)
            .map(|j| self.spacing_after(j) - self.radius_um[j] - self.radius_um[(j + 1) % n])
            .fold(f64::INFINITY, f64::min);
        let across = self
            .radius_um
            .iter()
            .map(|r| self.pitch_um - 2.0 * r)
            .fold(f64::INFINITY, f64::min);
        along.min(across)
    }

    /// Check the fabrication bounds: radii within the design's range (and the pitch's cap),
    /// every gap at least the minimum, centres in [0, Λ) ascending.
    pub fn check_bounds(&self, spec: &GratingSpec) -> Result<()> {
        let tol = 1e-9;
        if self.x_um.len() != self.radius_um.len() || self.is_empty() {
            return Err(Error::invalid(
                "supercell",
                format!(
                    "{} centres, {} radii",
                    self.x_um.len(),
                    self.radius_um.len()
                ),
                "needs one radius per centre and at least one pillar",
            ));
        }
        for &r in &self.radius_um {
            if !(r >= spec.radius_min_um - tol && r <= spec.radius_cap_um() + tol) {
                return Err(Error::invalid(
                    "pillar radius",
                    format!("{r} µm"),
                    format!(
                        "must be in [{}, {}] µm (design range, 2 r + min_gap <= pitch)",
                        spec.radius_min_um,
                        spec.radius_cap_um()
                    ),
                ));
            }
        }
        let ascending = self.x_um.windows(2).all(|w| w[1] > w[0]);
        if !ascending
            || self.x_um[0] < -tol
            || *self.x_um.last().unwrap_or(&0.0) >= self.period_um + tol
        {
            return Err(Error::invalid(
                "pillar centres",
                format!("{:?} µm", self.x_um),
                format!("must be ascending in [0, {}) µm", self.period_um),
            ));
        }
        let gap = self.min_gap_um();
        if gap < spec.min_gap_um - tol {
            return Err(Error::invalid(
                "gap between pillars",
                format!("{gap:.4} µm"),
                format!("must be at least min_gap {} µm", spec.min_gap_um),
            ));
        }
        Ok(())
    }

    /// The periodic stack: substrate | pillar layer (pillars in the exit medium) | exit.
    pub fn stack(&self, spec: &GratingSpec) -> Result<Stack> {
        let lattice = Lattice::rectangular(self.period_um, self.pitch_um)?;
        let mut layer = Layer::uniform(spec.height_um, spec.exit.clone());
        for (&x, &r) in self.x_um.iter().zip(&self.radius_um) {
            layer.shapes.push((
                Shape::Circle {
                    center: [x, 0.0],
                    radius: r,
                },
                spec.pillar.clone(),
            ));
        }
        let stack = Stack {
            lattice,
            incidence: spec.substrate.clone(),
            layers: vec![layer],
            exit: spec.exit.clone(),
        };
        stack.validate()?;
        Ok(stack)
    }
}

/// Powers of one polarisation, each a fraction of the incident power, from the solution's
/// order powers (computed from the fields).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PolarisedPowers {
    /// Transmitted power in the focal order (−1, 0).
    pub focal: f64,
    /// Σ transmitted orders.
    pub transmittance: f64,
    /// Σ reflected orders.
    pub reflectance: f64,
    /// 1 − R − T (zero to rounding for lossless pillars; checked).
    pub absorption: f64,
}

/// Focal-order efficiency of a supercell for TE (E along the grating lines, y) and TM (E
/// across, x) at normal incidence from the substrate.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FocalEfficiency {
    pub te: PolarisedPowers,
    pub tm: PolarisedPowers,
}

impl FocalEfficiency {
    /// The figure of merit: ½(η_TE + η_TM) (see the module docs).
    pub fn mean(&self) -> f64 {
        0.5 * (self.te.focal + self.tm.focal)
    }
}

/// The powers of one solution: R and T summed over its orders, the focal order picked out, and
/// energy conservation checked (lossless pillars) or absorption checked non-negative.
pub fn polarised_powers(sol: &Solution, lossless: bool, what: &str) -> Result<PolarisedPowers> {
    let transmittance: f64 = sol.orders.iter().map(|o| o.t).sum();
    let reflectance: f64 = sol.orders.iter().map(|o| o.r).sum();
    let absorption = 1.0 - transmittance - reflectance;
    let drift = (transmittance - sol.transmittance).abs() + (reflectance - sol.reflectance).abs();
    if drift > 1e-12 || (lossless && absorption.abs() > ENERGY_TOLERANCE) {
        return Err(Error::numerical(
            "grating",
            format!(
                "energy not conserved in {what}: R + T = {:.9} (lossless pillars; tolerance {ENERGY_TOLERANCE:e})",
                transmittance + reflectance
            ),
        ));
    }
    if absorption < -ENERGY_TOLERANCE {
        return Err(Error::numerical(
            "grating",
            format!("negative absorption {absorption:e} in {what}"),
        ));
    }
    let focal = sol
        .orders
        .iter()
        .find(|o| (o.m, o.n) == FOCAL_ORDER)
        .map(|o| o.t)
        .ok_or_else(|| {
            Error::numerical(
                "grating",
                format!("the focal order {FOCAL_ORDER:?} is not propagating in {what}"),
            )
        })?;
    Ok(PolarisedPowers {
        focal,
        transmittance,
        reflectance,
        absorption,
    })
}

/// The RCWA of supercells of one period: the plan (harmonic set, k-vectors, half-space modes)
/// is built once and reused by every evaluation.
pub struct SupercellSolver<'a> {
    spec: &'a GratingSpec,
    plan: RcwaPlan,
    period_um: f64,
    lossless: bool,
    evaluations: std::cell::Cell<usize>,
}

impl<'a> SupercellSolver<'a> {
    /// Plan the solves of supercells of period `period_um` with about
    /// `spec.harmonics_per_pitch` · Λ/p harmonics.
    pub fn new(spec: &'a GratingSpec, period_um: f64) -> Result<Self> {
        Self::with_density(spec, period_um, spec.harmonics_per_pitch)
    }

    /// Plan with about `harmonics_per_pitch` · Λ/p harmonics.
    pub fn with_density(
        spec: &'a GratingSpec,
        period_um: f64,
        harmonics_per_pitch: usize,
    ) -> Result<Self> {
        let n = (harmonics_per_pitch as f64 * period_um / spec.pitch_um).round() as usize;
        Self::with_harmonics(spec, period_um, n.max(1))
    }

    /// Plan with an explicit harmonic count (convergence studies).
    pub fn with_harmonics(spec: &'a GratingSpec, period_um: f64, harmonics: usize) -> Result<Self> {
        spec.validate()?;
        let lattice = Lattice::rectangular(period_um, spec.pitch_um)?;
        let settings = Settings {
            harmonics,
            ..Default::default()
        };
        let incidence = Incidence::normal(spec.wavelength_um, Polarization::X);
        let plan = RcwaPlan::new(&lattice, &settings, &incidence, &spec.substrate, &spec.exit)?;
        let lossless = [&spec.pillar, &spec.substrate, &spec.exit].iter().all(|m| {
            m.index(spec.wavelength_um)
                .map(|n| n.im == 0.0)
                .unwrap_or(false)
        });
        Ok(SupercellSolver {
            spec,
            plan,
            period_um,
            lossless,
            evaluations: std::cell::Cell::new(0),
        })
    }

    /// Harmonics kept per solve.
    pub fn harmonics(&self) -> usize {
        self.plan.harmonics()
    }

    /// Supercell solves done so far.
    pub fn evaluations(&self) -> usize {
        self.evaluations.get()
    }

    /// TE and TM focal-order efficiency of `geometry` (checked against the bounds first).
    pub fn efficiency(&self, geometry: &SupercellGeometry) -> Result<FocalEfficiency> {
        if (geometry.period_um - self.period_um).abs() > 1e-12 * self.period_um {
            return Err(Error::invalid(
                "supercell period",
                format!("{} µm", geometry.period_um),
                format!("must be the solver's period {} µm", self.period_um),
            ));
        }
        geometry.check_bounds(self.spec)?;
        let stack = geometry.stack(self.spec)?;
        let modes = self.plan.layer_modes(&stack)?;
        let sols = self
            .plan
            .solve_modes_for(&modes, None, &[Polarization::Y, Polarization::X])?;
        self.evaluations.set(self.evaluations.get() + 1);
        let what = format!("the supercell Λ = {:.4} µm", self.period_um);
        Ok(FocalEfficiency {
            te: polarised_powers(&sols[0], self.lossless, &what)?,
            tm: polarised_powers(&sols[1], self.lossless, &what)?,
        })
    }
}

/// The LPA staircase of a period: N pillars evenly spaced at x_j = (j + ½) Λ/N, each the unit
/// cell (of `cells`, characterised in a uniform array at normal incidence) whose
/// polarisation-averaged t̄ is nearest (complex error, common amplitude a = mean |t̄|) to the
/// hyperbolic phase's local ramp a·exp(i(φ₀ − 2π x_j/Λ)), the offset φ₀ chosen (720 steps)
/// for the least total error. Only cells whose radius fits the spacing and the design's range
/// are used, so the staircase is inside the optimiser's bounds.
pub fn lpa_staircase(
    spec: &GratingSpec,
    period_um: f64,
    n: usize,
    cells: &[Cell],
) -> Result<SupercellGeometry> {
    let spacing = period_um / n as f64;
    let cap = spec.radius_cap_um().min(0.5 * (spacing - spec.min_gap_um));
    let usable: Vec<&Cell> = cells
        .iter()
        .filter(|c| c.radius >= spec.radius_min_um - 1e-12 && c.radius <= cap + 1e-12)
        .filter(|c| c.t.iter().all(|t| t.re.is_finite() && t.im.is_finite()))
        .collect();
    if usable.is_empty() {
        return Err(Error::invalid(
            "unit-cell table",
            format!("{} cells", cells.len()),
            format!(
                "needs a cell with radius in [{}, {cap:.4}] µm for the staircase",
                spec.radius_min_um
            ),
        ));
    }
    let a = usable.iter().map(|c| c.t_mean().norm()).sum::<f64>() / usable.len() as f64;
    let mut geometry = SupercellGeometry::even(period_um, spec.pitch_um, n, 0.0);
    let pick = |phi: f64| -> (f64, f64) {
        let target = C64::from_polar(a, phi);
        usable
            .iter()
            .map(|c| ((c.t_mean() - target).norm_sqr(), c.radius))
            .fold((f64::INFINITY, 0.0), |b, x| if x.0 < b.0 { x } else { b })
    };
    let steps = 720;
    let mut best = (f64::INFINITY, 0.0);
    for k in 0..steps {
        let phi0 = 2.0 * PI * k as f64 / steps as f64;
        let cost: f64 = geometry
            .x_um
            .iter()
            .map(|x| pick(phi0 - 2.0 * PI * x / period_um).0)
            .sum();
        if cost < best.0 {
            best = (cost, phi0);
        }
    }
    for j in 0..n {
        geometry.radius_um[j] = pick(best.1 - 2.0 * PI * geometry.x_um[j] / period_um).1;
    }
    Ok(geometry)
}

/// Settings of the bounded derivative-free optimiser (a compass / coordinate search).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OptimiserSettings {
    /// Optimise the pillar centres too (the first stays fixed: a translation of the whole
    /// supercell changes no power).
    pub positions: bool,
    /// First step of every coordinate (µm).
    pub initial_step_um: f64,
    /// The search stops when the step falls below this (µm).
    pub min_step_um: f64,
    /// Budget of supercell solves (per angle, both polarisations in one).
    pub max_evaluations: usize,
    /// Restarts from the best point with the first step again (to leave a narrow ridge).
    pub restarts: usize,
    /// Random feasible geometries solved once each before the local searches.
    pub random_starts: usize,
    /// Local searches: from the start and from the best `refine − 1` random geometries.
    pub refine: usize,
}

impl Default for OptimiserSettings {
    fn default() -> Self {
        OptimiserSettings {
            positions: true,
            initial_step_um: 0.012,
            min_step_um: 0.001,
            max_evaluations: 360,
            restarts: 1,
            random_starts: 40,
            refine: 3,
        }
    }
}

/// Settings of a supercell design.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GratingOptions {
    pub pillar_count: PillarCount,
    pub optimiser: OptimiserSettings,
    /// Harmonics per p × p of supercell area during the search (a cheaper truncation than
    /// the spec's); the start and the optimum are then solved again at the spec's
    /// `harmonics_per_pitch`, and those are the efficiencies reported.
    pub search_harmonics_per_pitch: usize,
}

/// Default search density: ~80 harmonics per p × p keeps the focal-order efficiency within
/// ~0.5 point of 250 per p × p (validation/design/supercells.md) at 1/15 of the time.
pub const DEFAULT_SEARCH_HARMONICS_PER_PITCH: usize = 80;

impl Default for GratingOptions {
    fn default() -> Self {
        GratingOptions {
            pillar_count: PillarCount::Floor,
            optimiser: OptimiserSettings::default(),
            search_harmonics_per_pitch: DEFAULT_SEARCH_HARMONICS_PER_PITCH,
        }
    }
}

/// What the optimiser returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimised {
    pub geometry: SupercellGeometry,
    pub efficiency: FocalEfficiency,
    /// The start's efficiency (the result is never below it).
    pub start_efficiency: FocalEfficiency,
    /// Supercell solves spent.
    pub evaluations: usize,
}

/// The feasible interval of parameter k (radius j < N, or centre j = k − N + 1) with the
/// others fixed: radius in [r_min, cap] and off both neighbours by the gap; a centre between
/// its neighbours with the gap on both sides.
fn interval(spec: &GratingSpec, g: &SupercellGeometry, k: usize) -> (f64, f64) {
    let n = g.len();
    let gap = spec.min_gap_um;
    if k < n {
        let j = k;
        let prev = (j + n - 1) % n;
        let next = (j + 1) % n;
        let hi = spec
            .radius_cap_um()
            .min(g.spacing_after(prev) - gap - g.radius_um[prev])
            .min(g.spacing_after(j) - gap - g.radius_um[next]);
        (spec.radius_min_um, hi)
    } else {
        let j = k - n + 1;
        let r = g.radius_um[j];
        let lo = g.x_um[j - 1] + g.radius_um[j - 1] + r + gap;
        let hi = if j + 1 < n {
            g.x_um[j + 1] - g.radius_um[j + 1] - r - gap
        } else {
            // the last centre stays inside the cell (its neighbour is the first pillar's
            // image at x_0 + Λ)
            (g.x_um[0] + g.period_um - g.radius_um[0] - r - gap).min(g.period_um * (1.0 - 1e-9))
        };
        (lo, hi)
    }
}

fn get(g: &SupercellGeometry, k: usize) -> f64 {
    let n = g.len();
    if k < n {
        g.radius_um[k]
    } else {
        g.x_um[k - n + 1]
    }
}

fn set(g: &mut SupercellGeometry, k: usize, v: f64) {
    let n = g.len();
    if k < n {
        g.radius_um[k] = v;
    } else {
        g.x_um[k - n + 1] = v;
    }
}

/// A feasible geometry of `like`'s period and pillar count drawn from `rng`: radii uniform in
/// [r_min, cap], centres evenly spaced, redrawn until every gap holds (None after 1000 draws).
fn random_geometry(
    spec: &GratingSpec,
    like: &SupercellGeometry,
    rng: &mut u64,
) -> Option<SupercellGeometry> {
    let mut uniform = || {
        // xorshift64*: deterministic, seeded by the caller
        *rng ^= *rng >> 12;
        *rng ^= *rng << 25;
        *rng ^= *rng >> 27;
        (rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = like.len();
    for _ in 0..1000 {
        let mut g = SupercellGeometry::even(like.period_um, like.pitch_um, n, 0.0);
        for r in g.radius_um.iter_mut() {
            *r = spec.radius_min_um + uniform() * (spec.radius_cap_um() - spec.radius_min_um);
        }
        if g.check_bounds(spec).is_ok() {
            return Some(g);
        }
    }
    None
}

/// The compass search from `start` (efficiency `start_eff`) within `budget` solves.
fn compass(
    solver: &SupercellSolver,
    start: (SupercellGeometry, FocalEfficiency),
    settings: &OptimiserSettings,
    budget: usize,
    progress: &dyn Progress,
) -> Result<(SupercellGeometry, FocalEfficiency)> {
    let spec = solver.spec;
    let first = solver.evaluations();
    let (mut best, mut best_eff) = start;
    let n = best.len();
    let params = if settings.positions && n > 1 {
        2 * n - 1
    } else {
        n
    };
    let budget_left = |s: &SupercellSolver| s.evaluations() - first < budget;
    'restarts: for _ in 0..=settings.restarts {
        let mut step = settings.initial_step_um;
        while step >= settings.min_step_um {
            let mut improved = false;
            for k in 0..params {
                for dir in [1.0, -1.0] {
                    if !budget_left(solver) {
                        break 'restarts;
                    }
                    let (lo, hi) = interval(spec, &best, k);
                    let now = get(&best, k);
                    let v = (now + dir * step).min(hi).max(lo);
                    if (v - now).abs() < 1e-7 {
                        continue;
                    }
                    let mut trial = best.clone();
                    set(&mut trial, k, v);
                    let eff = solver.efficiency(&trial)?;
                    progress.set_message(format!(
                        "Λ = {:.3} µm, solve {}: best ½(TE + TM) = {:.4}",
                        solver.period_um,
                        solver.evaluations(),
                        best_eff.mean()
                    ));
                    if eff.mean() > best_eff.mean() + 1e-9 {
                        best = trial;
                        best_eff = eff;
                        improved = true;
                        // keep going the same way while it pays (a cheap line search)
                        while budget_left(solver) {
                            let (lo, hi) = interval(spec, &best, k);
                            let now = get(&best, k);
                            let v = (now + dir * step).min(hi).max(lo);
                            if (v - now).abs() < 1e-7 {
                                break;
                            }
                            let mut trial = best.clone();
                            set(&mut trial, k, v);
                            let eff = solver.efficiency(&trial)?;
                            if eff.mean() > best_eff.mean() + 1e-9 {
                                best = trial;
                                best_eff = eff;
                            } else {
                                break;
                            }
                        }
                        break;
                    }
                }
            }
            if !improved {
                step *= 0.5;
            }
        }
    }
    Ok((best, best_eff))
}

/// Maximise ½(η_TE + η_TM) from `start` within the bounds (radii in the design's range, every
/// gap at least the minimum). Global phase: `random_starts` feasible geometries (radii
/// uniform, centres even; seeded, deterministic) are solved once each. Local phase: a compass
/// search from the start and from the best `refine − 1` random geometries, the remaining
/// budget shared between them: each coordinate in turn is moved by ± its step, clipped to its
/// feasible interval, and a move is kept only when it improves the figure of merit (then
/// repeated while it keeps improving, a cheap line search); when no move helps the step
/// halves, down to `min_step_um`; `restarts` start again from the best point with the first
/// step. The best of all is returned; the start is among the candidates and only
/// improvements are accepted, so the result is never worse than the start.
pub fn optimise(
    solver: &SupercellSolver,
    start: &SupercellGeometry,
    settings: &OptimiserSettings,
    progress: &dyn Progress,
) -> Result<Optimised> {
    let spec = solver.spec;
    start.check_bounds(spec)?;
    crate::error::check_positive("initial step", settings.initial_step_um, "µm")?;
    crate::error::check_positive("minimum step", settings.min_step_um, "µm")?;
    let first = solver.evaluations();
    let start_efficiency = solver.efficiency(start)?;
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15 ^ (start.len() as u64);
    let mut sampled = Vec::new();
    for _ in 0..settings.random_starts {
        if solver.evaluations() - first + 1 >= settings.max_evaluations {
            break;
        }
        if let Some(g) = random_geometry(spec, start, &mut rng) {
            let e = solver.efficiency(&g)?;
            sampled.push((g, e));
        }
    }
    sampled.sort_by(|a, b| b.1.mean().total_cmp(&a.1.mean()));
    let mut candidates = vec![(start.clone(), start_efficiency)];
    candidates.extend(sampled.into_iter().take(settings.refine.saturating_sub(1)));
    let mut best = (start.clone(), start_efficiency);
    let count = candidates.len();
    for (i, c) in candidates.into_iter().enumerate() {
        let used = solver.evaluations() - first;
        let budget = settings.max_evaluations.saturating_sub(used) / (count - i);
        let found = compass(solver, c, settings, budget, progress)?;
        if found.1.mean() > best.1.mean() {
            best = found;
        }
    }
    Ok(Optimised {
        geometry: best.0,
        efficiency: best.1,
        start_efficiency,
        evaluations: solver.evaluations() - first,
    })
}

/// One deflection angle of a supercell library: the LPA staircase and the optimised
/// supercell, both solved by the same RCWA.
#[derive(Clone, Debug, PartialEq)]
pub struct SupercellDesign {
    /// Deflection angle θ in the exit medium (radians).
    pub deflection_rad: f64,
    /// Λ = λ/(n_exit sin θ) (µm).
    pub period_um: f64,
    /// Harmonics kept per solve.
    pub harmonics: usize,
    pub lpa: SupercellGeometry,
    pub lpa_efficiency: FocalEfficiency,
    pub optimised: SupercellGeometry,
    pub efficiency: FocalEfficiency,
    /// Supercell solves spent by the optimiser.
    pub evaluations: usize,
    /// ½(TE + TM) of the start and the optimum at the search truncation (the optimiser never
    /// returns less than its start there).
    pub search_lpa_mean: f64,
    pub search_mean: f64,
}

/// Design the supercell of one deflection angle θ (radians, exit medium): period, pillar
/// count, LPA staircase from `cells` (the unit cells at the design's pitch), its efficiency,
/// and the optimum started from it. Every input is checked before the first solve.
pub fn design_supercell(
    spec: &GratingSpec,
    theta: f64,
    cells: &[Cell],
    options: &GratingOptions,
    progress: &dyn Progress,
) -> Result<SupercellDesign> {
    spec.validate()?;
    let period = grating_period(spec, theta)?;
    let n = pillar_count(spec, period, options.pillar_count)?;
    let lpa = lpa_staircase(spec, period, n, cells)?;
    let search = SupercellSolver::with_density(spec, period, options.search_harmonics_per_pitch)?;
    let opt = optimise(&search, &lpa, &options.optimiser, progress)?;
    let solver = SupercellSolver::new(spec, period)?;
    Ok(SupercellDesign {
        deflection_rad: theta,
        period_um: period,
        harmonics: solver.harmonics(),
        lpa_efficiency: solver.efficiency(&lpa)?,
        lpa,
        efficiency: solver.efficiency(&opt.geometry)?,
        optimised: opt.geometry,
        evaluations: opt.evaluations,
        search_lpa_mean: opt.start_efficiency.mean(),
        search_mean: opt.efficiency.mean(),
    })
}

/// Supercells over deflection angle, reused across lenses of the same pillars.
#[derive(Clone, Debug, PartialEq)]
pub struct SupercellLibrary {
    /// Everything the designs depend on ([`library_identity`]); a file of another identity is
    /// not resumed.
    pub identity: String,
    /// Deflection angles θ in the exit medium (degrees), ascending.
    pub deflection_deg: Vec<f64>,
    /// One design per angle (None: not computed yet).
    pub designs: Vec<Option<SupercellDesign>>,
}

impl SupercellLibrary {
    /// Whether every angle is designed.
    pub fn is_complete(&self) -> bool {
        self.designs.iter().all(|d| d.is_some())
    }
}

/// The identity of a supercell library: the spec, the options and the unit-cell table the
/// staircases start from.
pub fn library_identity(spec: &GratingSpec, options: &GratingOptions, cells: &[Cell]) -> String {
    let table: f64 = cells
        .iter()
        .map(|c| c.radius + c.t_mean().re + 2.0 * c.t_mean().im)
        .sum();
    format!(
        "{}; options={}; unit cells: {} radii, checksum {table:.9}",
        spec.fingerprint(),
        serde_json::to_string(options).unwrap_or_default(),
        cells.len()
    )
}

/// Check a list of deflection angles (degrees): finite, strictly ascending, in (0°, 90°), each
/// reachable by a supercell of 2..=MAX_PILLARS pillars; all before any solve.
pub fn check_angles(
    spec: &GratingSpec,
    angles_deg: &[f64],
    options: &GratingOptions,
) -> Result<()> {
    spec.validate()?;
    if angles_deg.is_empty() || angles_deg.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::invalid(
            "deflection angles",
            format!("{angles_deg:?}°"),
            "must be a non-empty ascending list",
        ));
    }
    for &a in angles_deg {
        let period = grating_period(spec, a.to_radians())?;
        pillar_count(spec, period, options.pillar_count)?;
    }
    Ok(())
}

/// Design the supercells of every angle (degrees) not already in `resume` (a library of the
/// same identity, or None), calling `save` after each angle so that an interrupted sweep
/// resumes there. Stops between angles when the run is interrupted.
pub fn sweep_supercells(
    spec: &GratingSpec,
    angles_deg: &[f64],
    cells: &[Cell],
    options: &GratingOptions,
    resume: Option<SupercellLibrary>,
    progress: &dyn Progress,
    save: &mut dyn FnMut(&SupercellLibrary) -> Result<()>,
) -> Result<SupercellLibrary> {
    check_angles(spec, angles_deg, options)?;
    let identity = library_identity(spec, options, cells);
    let mut lib = match resume {
        Some(l) if l.identity == identity && l.deflection_deg == angles_deg => l,
        Some(l) if l.identity != identity => {
            return Err(Error::invalid(
                "supercell library to resume",
                "of another design",
                format!(
                    "identity '{}' differs from this sweep's '{identity}'",
                    l.identity
                ),
            ))
        }
        Some(l) => {
            return Err(Error::invalid(
                "supercell library to resume",
                format!("angles {:?}°", l.deflection_deg),
                format!("must have this sweep's angles {angles_deg:?}°"),
            ))
        }
        None => SupercellLibrary {
            identity,
            deflection_deg: angles_deg.to_vec(),
            designs: vec![None; angles_deg.len()],
        },
    };
    progress.set_len(angles_deg.len() as u64);
    progress.set_position(lib.designs.iter().filter(|d| d.is_some()).count() as u64);
    for i in 0..angles_deg.len() {
        if lib.designs[i].is_some() {
            continue;
        }
        if crate::progress::interrupted() {
            let done = lib.designs.iter().filter(|d| d.is_some()).count();
            return Err(Error::Interrupted {
                message: format!(
                    "{done} of {} angles designed and saved; rerun to resume",
                    angles_deg.len()
                ),
            });
        }
        let d = design_supercell(spec, angles_deg[i].to_radians(), cells, options, progress)?;
        lib.designs[i] = Some(d);
        save(&lib)?;
        progress.inc(1);
    }
    progress.finish();
    Ok(lib)
}
