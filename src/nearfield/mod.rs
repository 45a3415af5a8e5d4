//! Near field: the complex aperture field t(x, y) just behind the lens (z = 0+, exit medium).
//!
//! # Local periodic approximation
//! A designed lens is a list of pillar sites; every grid point takes the complex transmission
//! of its nearest site (the site's Voronoi cell, i.e. its unit cell), as computed by RCWA for
//! an infinite periodic array of identical pillars. This *local periodic approximation* ignores
//! coupling between unlike neighbours: it is accurate where the radius varies slowly from cell
//! to cell and is known to err where the phase gradient is steep (the outer zones of a high-NA
//! lens, where the phase wraps every few cells), at zone boundaries of the wrapped phase, and
//! at the lens rim. A full-wave check comes later; until then treat high-NA efficiencies from
//! this model as upper estimates.
//!
//! # Grid
//! An m × m grid (m even), spacing `dx` µm, sample (i, j) at x = (i − m/2)·dx,
//! y = (j − m/2)·dx, stored row-major with rows along y. The same layout is used by
//! [`crate::propagate`], which embeds it, centred, in its zero-padded FFT grid.
//!
//! # Polarisation
//! Each site carries the co-polarised transmissions t_x (x-polarised incidence) and t_y
//! (y-polarised incidence); cross-polarisation is neglected (zero for pillars of circular
//! section in the local periodic approximation). Circular polarisation is their combination:
//! with exp(−iωt), right-circular (clockwise seen facing the oncoming wave, Born & Wolf) is
//! (x̂ − iŷ)/√2 and left-circular (x̂ + iŷ)/√2; the transmitted field is
//! (t_x, ∓i t_y)/√2.

use crate::error::check_positive;
use crate::{Error, Result, C64};

/// The one hyperbolic-phase formula (of [`crate::lens`]), used by the ideal near field.
pub use crate::lens::hyperbolic_phase;

/// One pillar site: centre (µm) and the complex co-polarised transmissions for x- and
/// y-polarised unit-amplitude incidence (t as defined in the crate docs).
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub x: f64,
    pub y: f64,
    pub tx: C64,
    pub ty: C64,
}

/// What lies outside the lens (beyond the last pillar or beyond the aperture radius).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outside {
    /// An opaque stop (t = 0). The default.
    Opaque,
    /// Bare substrate, with the given complex transmission for both polarisations
    /// (e.g. the Fresnel coefficient 2 n_inc / (n_inc + n_exit) at normal incidence).
    Bare(C64),
}

/// What lies outside the lens, as a design or the command line chooses it (the transmission
/// of a bare substrate follows from the lens's media: [`Surround::outside`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surround {
    /// An opaque stop (`opaque`; `metalens propagate --outside opaque`).
    Opaque,
    /// Bare substrate (`substrate`; `metalens propagate --outside bare`), normal-incidence
    /// Fresnel transmission.
    Substrate,
}

impl Surround {
    /// The region outside a lens between an incidence medium of index `n_incident` and an
    /// exit medium of index `n_exit`: t = 2 n_inc / (n_inc + n_exit) for the bare substrate.
    pub fn outside(self, n_incident: f64, n_exit: f64) -> Outside {
        match self {
            Surround::Opaque => Outside::Opaque,
            Surround::Substrate => {
                Outside::Bare(C64::new(2.0 * n_incident / (n_incident + n_exit), 0.0))
            }
        }
    }
}

/// Incident polarisation (read case-insensitively from "x", "y", "rcp", "lcp").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarization {
    X,
    Y,
    /// Right-circular: (x̂ − iŷ)/√2 with exp(−iωt).
    Rcp,
    /// Left-circular: (x̂ + iŷ)/√2 with exp(−iωt).
    Lcp,
}

impl Polarization {
    /// Parse "x", "y", "rcp", "lcp".
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "x" => Ok(Polarization::X),
            "y" => Ok(Polarization::Y),
            "rcp" => Ok(Polarization::Rcp),
            "lcp" => Ok(Polarization::Lcp),
            _ => Err(Error::invalid(
                "polarization",
                s,
                "must be one of x, y, rcp, lcp",
            )),
        }
    }
    /// Name as accepted by [`Polarization::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Polarization::X => "x",
            Polarization::Y => "y",
            Polarization::Rcp => "rcp",
            Polarization::Lcp => "lcp",
        }
    }
    /// Jones vector (x, y) of the incident field, unit norm.
    pub fn jones(self) -> (C64, C64) {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        match self {
            Polarization::X => (C64::new(1.0, 0.0), C64::new(0.0, 0.0)),
            Polarization::Y => (C64::new(0.0, 0.0), C64::new(1.0, 0.0)),
            Polarization::Rcp => (C64::new(s, 0.0), C64::new(0.0, -s)),
            Polarization::Lcp => (C64::new(s, 0.0), C64::new(0.0, s)),
        }
    }
}

impl serde::Serialize for Polarization {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Polarization {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Polarization::parse(&s)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' must be x, y, rcp or lcp")))
    }
}

/// How a transmission map becomes the tangential field behind the lens at a point where the
/// lens deflects the light (the aperture model of the LPA near field and of the ideal lens).
///
/// # The energy-conserving flat lens (`Flux`, the default)
/// A perfect, lossless, reflection-free flat lens takes the incident plane wave (power density
/// ½ n_inc |E_inc|² per unit area, units |E|²/η0) and sends, from every point of its aperture,
/// a plane wave towards the focus: in the exit medium of index n, at the point (r, ϕ), the
/// direction of polar angle θ(r) with sin θ = r/√(r² + f²) (the direction of the hyperbolic
/// phase's gradient, |∇φ| = n k0 sin θ) in the plane of incidence of azimuth ϕ. Split the
/// incident Jones vector into its part along ŝ = (−sin ϕ, cos ϕ) (s, perpendicular to the
/// plane of incidence) and along p̂ = (cos ϕ, sin ϕ) (p, in it): c_s = ŝ·E_inc, c_p = p̂·E_inc.
/// Each part leaves as a plane wave of amplitude A with axial flux ½ n |A|² cos θ, and energy
/// conservation point by point, ½ n |A|² cos θ = ½ n_inc |c|², gives |A| = |c| √(n_inc / (n cos θ)).
/// The s wave's field is tangential; the p wave's tilts, so its tangential part is A cos θ.
/// With t₀ = √(n_inc/n)·e^{iφ(r)} (unit normal-incidence transmittance, exact phase):
///
///   E_t = t₀ · [ (1/√cos θ) ŝ ŝᵀ + √cos θ p̂ p̂ᵀ ] · E_inc,
///
/// a 2 × 2 Jones matrix per point, linear in E_inc, so it holds for x, y and circular
/// polarisation alike (an x-polarised lens gains a cross-polarised Ey of opposite sign in
/// alternate quadrants). Its axial flux ½ n (cos θ |E_s|² + |E_p,t|²/cos θ) equals ½ n_inc
/// |E_inc|² at every point: the *local* power equals the incident power exactly. The angular
/// spectrum then carries slightly less, P_t < P_inc, because a hard aperture edge is not a
/// local plane wave: it diffracts part of the rim's light onto and beyond the light line
/// (evanescent), which carries no power. See validation/propagation/ideal_lens.md for the
/// numbers (transmission 0.994 at NA 0.5, 0.985 at NA 0.9, 0.91 at NA 0.99 for 20 µm).
///
/// The LPA near field uses the same matrix with the cell's t in place of t₀ (t_x, t_y of a
/// cell, the pillar's co-polarised transmissions, applied before the s/p split): the power it
/// sends through each point is then the cell's normal-incidence transmittance
/// T = (n/n_inc)|t|² times the incident power, whatever the local deflection, so its
/// transmission cannot exceed what its cells transmit.
///
/// # The uniform tangential field (`Tangential`, the construction before this model)
/// E_t = t · E_inc at every point. For the light leaving the rim at a steep angle in the plane
/// of incidence (p, TM) a tangential field of fixed size carries an axial flux growing as
/// 1/cos θ, so this "ideal" lens transmits more than falls on it (1.14 at NA 0.9, 1.52 at NA
/// 0.99 for 20 µm). Kept for comparison only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApertureModel {
    /// Energy-conserving: the local flux through every point is the cell's (or the ideal
    /// lens's) normal-incidence transmittance times the incident flux.
    #[default]
    Flux,
    /// The tangential field equals t · E_inc (does not conserve energy at steep deflection).
    Tangential,
}

impl ApertureModel {
    /// Parse "flux" or "tangential".
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "flux" => Ok(ApertureModel::Flux),
            "tangential" => Ok(ApertureModel::Tangential),
            _ => Err(Error::invalid(
                "aperture model",
                s,
                "must be flux (energy-conserving, default) or tangential (t · E_inc, for comparison)",
            )),
        }
    }
    /// Name as accepted by [`ApertureModel::parse`].
    pub fn name(self) -> &'static str {
        match self {
            ApertureModel::Flux => "flux",
            ApertureModel::Tangential => "tangential",
        }
    }
}

/// The obliquity matrix M = a_s ŝŝᵀ + a_p p̂p̂ᵀ of [`ApertureModel::Flux`] at (x, y) for a lens
/// of focal length `focal_length` (µm): a_s = 1/√cos θ, a_p = √cos θ with
/// cos θ = f/√(r² + f²). Returned as (M_xx, M_xy = M_yx, M_yy). The identity on the axis.
pub fn obliquity_matrix(x: f64, y: f64, focal_length: f64) -> (f64, f64, f64) {
    let r2 = x * x + y * y;
    if r2 == 0.0 {
        return (1.0, 0.0, 1.0);
    }
    let cos_t = focal_length / (r2 + focal_length * focal_length).sqrt();
    let (a_p, a_s) = (cos_t.sqrt(), 1.0 / cos_t.sqrt());
    let (c2, s2, cs) = (x * x / r2, y * y / r2, x * y / r2);
    (a_p * c2 + a_s * s2, (a_p - a_s) * cs, a_p * s2 + a_s * c2)
}

/// Transverse aperture field (Ex, Ey) on the centred m × m grid described in the module docs.
/// `ex` or `ey` is `None` when that component is identically zero (saves an FFT plane).
#[derive(Clone, Debug)]
pub struct ApertureField {
    pub m: usize,
    pub dx: f64,
    pub ex: Option<Vec<C64>>,
    pub ey: Option<Vec<C64>>,
}

impl ApertureField {
    /// Coordinate (µm) of sample index i on this grid.
    pub fn coord(&self, i: usize) -> f64 {
        (i as f64 - (self.m / 2) as f64) * self.dx
    }
}

/// Co-polarised transmission maps of a lens on the centred grid (see module docs).
#[derive(Clone, Debug)]
pub struct NearField {
    /// Samples per side (even).
    pub m: usize,
    /// Grid spacing, µm.
    pub dx: f64,
    /// Transmission for x-polarised incidence.
    pub tx: Vec<C64>,
    /// Transmission for y-polarised incidence.
    pub ty: Vec<C64>,
    /// Cross-polarised transmissions (t_xy: Ex for y-polarised incidence, t_yx: Ey for
    /// x-polarised incidence), `None` where they vanish (the LPA of circular pillars under
    /// [`ApertureModel::Tangential`]). The aperture field is E_t = [[t_x, t_xy], [t_yx, t_y]]·E_inc.
    pub cross: Option<(Vec<C64>, Vec<C64>)>,
    /// Radius of the lens aperture, µm.
    pub aperture_radius: f64,
    /// Treatment of the region outside the lens.
    pub outside: Outside,
}

/// Grid size (even) covering a disc of the given radius with one spare sample each side.
fn grid_size(aperture_radius: f64, dx: f64) -> usize {
    2 * ((aperture_radius / dx).ceil() as usize + 1)
}

impl NearField {
    /// Build the aperture transmission from pillar sites (local periodic approximation): each
    /// grid point inside `aperture_radius` takes the t of its nearest site, provided that site
    /// is within one pitch; every other point takes `outside`. The grid spacing is
    /// pitch / `samples_per_pitch`. The nearest-site (Voronoi) cells are the unit cells of
    /// either lattice, square or hexagonal, so the lattice itself is not needed.
    pub fn from_sites(
        sites: &[Site],
        pitch: f64,
        samples_per_pitch: usize,
        aperture_radius: f64,
        outside: Outside,
    ) -> Result<Self> {
        check_positive("pitch", pitch, "µm")?;
        check_positive("aperture radius", aperture_radius, "µm")?;
        if samples_per_pitch < 2 {
            return Err(Error::invalid(
                "samples per pitch",
                samples_per_pitch,
                "must be at least 2",
            ));
        }
        if sites.is_empty() {
            return Err(Error::invalid(
                "sites",
                "0 sites",
                "a lens needs at least one pillar site",
            ));
        }
        for (i, s) in sites.iter().enumerate() {
            if !(s.x.is_finite()
                && s.y.is_finite()
                && s.tx.re.is_finite()
                && s.tx.im.is_finite()
                && s.ty.re.is_finite()
                && s.ty.im.is_finite())
            {
                return Err(Error::invalid(
                    format!("site {i}"),
                    format!("({}, {}) µm", s.x, s.y),
                    "position and t must be finite",
                ));
            }
        }
        let dx = pitch / samples_per_pitch as f64;
        let m = grid_size(aperture_radius, dx);
        if (m as f64) * (m as f64) > 1.2e9 {
            return Err(Error::invalid(
                "near-field grid",
                format!("{m} × {m}"),
                "exceeds 1.2e9 samples; use fewer samples per pitch",
            ));
        }
        // bucket the sites on a pitch-sized grid
        let half = (m / 2) as f64 * dx;
        let nb = ((2.0 * half) / pitch).ceil() as usize + 3;
        let bucket_of = |v: f64| -> isize { ((v + half) / pitch).floor() as isize + 1 };
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); nb * nb];
        for (i, s) in sites.iter().enumerate() {
            let (bx, by) = (bucket_of(s.x), bucket_of(s.y));
            if bx >= 0 && by >= 0 && (bx as usize) < nb && (by as usize) < nb {
                buckets[by as usize * nb + bx as usize].push(i as u32);
            }
        }
        let out_t = match outside {
            Outside::Opaque => C64::new(0.0, 0.0),
            Outside::Bare(t) => t,
        };
        let mut tx = vec![out_t; m * m];
        let mut ty = vec![out_t; m * m];
        use rayon::prelude::*;
        let r2max = aperture_radius * aperture_radius;
        tx.par_chunks_mut(m)
            .zip(ty.par_chunks_mut(m))
            .enumerate()
            .for_each(|(j, (rx, ry))| {
                let y = (j as f64 - (m / 2) as f64) * dx;
                let by = bucket_of(y);
                for i in 0..m {
                    let x = (i as f64 - (m / 2) as f64) * dx;
                    if x * x + y * y > r2max {
                        continue;
                    }
                    let bx = bucket_of(x);
                    let mut best = (pitch * pitch, usize::MAX);
                    for dyb in -1..=1 {
                        for dxb in -1..=1 {
                            let (cx, cy) = (bx + dxb, by + dyb);
                            if cx < 0 || cy < 0 || cx as usize >= nb || cy as usize >= nb {
                                continue;
                            }
                            for &k in &buckets[cy as usize * nb + cx as usize] {
                                let s = &sites[k as usize];
                                let d2 = (s.x - x).powi(2) + (s.y - y).powi(2);
                                if d2 < best.0 {
                                    best = (d2, k as usize);
                                }
                            }
                        }
                    }
                    if best.1 != usize::MAX {
                        rx[i] = sites[best.1].tx;
                        ry[i] = sites[best.1].ty;
                    }
                }
            });
        Ok(NearField {
            m,
            dx,
            tx,
            ty,
            cross: None,
            aperture_radius,
            outside,
        })
    }

    /// The ideal lens: normal-incidence amplitude `amplitude`, exact hyperbolic phase
    /// ([`hyperbolic_phase`]) for focal length `focal_length` in the exit medium of index
    /// `n_exit`, on a disc of radius `aperture_radius`, spacing `dx`; `outside` beyond the disc.
    /// Under [`ApertureModel::Flux`] the perfect flat lens that conserves energy (see
    /// [`ApertureModel`]), under [`ApertureModel::Tangential`] the uniform tangential field.
    #[allow(clippy::too_many_arguments)]
    pub fn ideal(
        wavelength: f64,
        focal_length: f64,
        n_exit: f64,
        amplitude: f64,
        dx: f64,
        aperture_radius: f64,
        outside: Outside,
        model: ApertureModel,
    ) -> Result<Self> {
        check_positive("wavelength", wavelength, "µm")?;
        check_positive("focal length", focal_length, "µm")?;
        check_positive("exit index", n_exit, "")?;
        check_positive("grid spacing", dx, "µm")?;
        check_positive("aperture radius", aperture_radius, "µm")?;
        let m = grid_size(aperture_radius, dx);
        if (m as f64) * (m as f64) > 1.2e9 {
            return Err(Error::invalid(
                "near-field grid",
                format!("{m} × {m}"),
                "exceeds 1.2e9 samples; use a coarser grid spacing",
            ));
        }
        let out_t = match outside {
            Outside::Opaque => C64::new(0.0, 0.0),
            Outside::Bare(t) => t,
        };
        let mut t = vec![out_t; m * m];
        use rayon::prelude::*;
        t.par_chunks_mut(m).enumerate().for_each(|(j, row)| {
            let y = (j as f64 - (m / 2) as f64) * dx;
            for (i, v) in row.iter_mut().enumerate() {
                let x = (i as f64 - (m / 2) as f64) * dx;
                let r = (x * x + y * y).sqrt();
                if r <= aperture_radius {
                    *v = C64::from_polar(
                        amplitude,
                        hyperbolic_phase(r, focal_length, wavelength, n_exit),
                    );
                }
            }
        });
        let nf = NearField {
            m,
            dx,
            tx: t.clone(),
            ty: t,
            cross: None,
            aperture_radius,
            outside,
        };
        Ok(nf.with_model(model, focal_length))
    }

    /// This co-polarised map as the aperture field of `model` for a lens of focal length
    /// `focal_length` (µm): [`NearField::with_obliquity`] under `Flux`, unchanged under
    /// `Tangential`.
    pub fn with_model(self, model: ApertureModel, focal_length: f64) -> Self {
        match model {
            ApertureModel::Flux => self.with_obliquity(focal_length),
            ApertureModel::Tangential => self,
        }
    }

    /// The energy-conserving aperture field of [`ApertureModel::Flux`]: inside the aperture,
    /// the co-polarised transmissions (t_x, t_y) at each point become the Jones matrix
    /// M·diag(t_x, t_y), M the [`obliquity_matrix`] of a lens of focal length `focal_length`
    /// (µm) in the exit medium; outside the aperture (normal incidence) nothing changes.
    /// Expects a map without cross terms (as built by [`NearField::from_sites`]); applying it
    /// twice would tilt twice, so a map that has them is returned unchanged.
    pub fn with_obliquity(mut self, focal_length: f64) -> Self {
        if self.cross.is_some() {
            return self;
        }
        let m = self.m;
        let mut txy = vec![C64::new(0.0, 0.0); m * m];
        let mut tyx = vec![C64::new(0.0, 0.0); m * m];
        let r2max = self.aperture_radius * self.aperture_radius;
        let dx = self.dx;
        use rayon::prelude::*;
        self.tx
            .par_chunks_mut(m)
            .zip(self.ty.par_chunks_mut(m))
            .zip(txy.par_chunks_mut(m).zip(tyx.par_chunks_mut(m)))
            .enumerate()
            .for_each(|(j, ((rx, ry), (rxy, ryx)))| {
                let y = (j as f64 - (m / 2) as f64) * dx;
                for i in 0..m {
                    let x = (i as f64 - (m / 2) as f64) * dx;
                    if x * x + y * y > r2max {
                        continue;
                    }
                    let (mxx, mxy, myy) = obliquity_matrix(x, y, focal_length);
                    let (tx, ty) = (rx[i], ry[i]);
                    rx[i] = tx * mxx;
                    rxy[i] = ty * mxy;
                    ryx[i] = tx * mxy;
                    ry[i] = ty * myy;
                }
            });
        self.cross = Some((txy, tyx));
        self
    }

    /// Multiply every transmission inside and outside the aperture by `s`.
    pub fn scale(&mut self, s: f64) {
        let all = self.tx.iter_mut().chain(self.ty.iter_mut());
        match &mut self.cross {
            Some((a, b)) => all
                .chain(a.iter_mut())
                .chain(b.iter_mut())
                .for_each(|v| *v *= s),
            None => all.for_each(|v| *v *= s),
        }
        if let Outside::Bare(t) = &mut self.outside {
            *t *= s;
        }
    }

    /// The transmitted transverse field for a unit-amplitude incident wave of polarisation
    /// `pol`: (Ex, Ey) = (t_x j_x + t_xy j_y, t_yx j_x + t_y j_y) with (j_x, j_y) the Jones
    /// vector (the cross terms only where [`NearField::cross`] holds them). A component that
    /// is identically zero is `None`.
    pub fn field(&self, pol: Polarization) -> ApertureField {
        let (jx, jy) = pol.jones();
        let zero = C64::new(0.0, 0.0);
        // component = a·ja + b·jb, b optional
        let comp = |a: &Vec<C64>, ja: C64, b: Option<&Vec<C64>>, jb: C64| -> Option<Vec<C64>> {
            match (ja != zero, b.filter(|_| jb != zero)) {
                (false, None) => None,
                (true, None) => Some(a.iter().map(|v| v * ja).collect()),
                (false, Some(b)) => Some(b.iter().map(|v| v * jb).collect()),
                (true, Some(b)) => Some(a.iter().zip(b).map(|(u, v)| u * ja + v * jb).collect()),
            }
        };
        let (txy, tyx) = match &self.cross {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        ApertureField {
            m: self.m,
            dx: self.dx,
            ex: comp(&self.tx, jx, txy, jy),
            ey: comp(&self.ty, jy, tyx, jx),
        }
    }
}

/// A sampled near field on a plane in the exit medium, for one incident polarisation: the
/// tangential E (and H when known) on the centred m × m grid of the module docs. This is what
/// a full-wave solver (the 1-D supercell, the 3-D FDTD) or an imported file (Meep, Tidy3D)
/// hands to the propagation, in place of the local-periodic-approximation [`NearField`].
///
/// Normalisation: the fields are those produced by a unit-amplitude incident plane wave of
/// polarisation `polarization` in the incidence medium (E in units of the incident |E|, H in
/// units of 1/η0, so that Sz = ½ Re(Ex Hy* − Ey Hx*) in |E|²/η0 as in [`crate::propagate`]).
#[derive(Clone, Debug)]
pub struct FieldPlane {
    /// Samples per side (even).
    pub m: usize,
    /// Grid spacing, µm.
    pub dx: f64,
    /// Vacuum wavelength, µm.
    pub wavelength_um: f64,
    /// Real index of the medium the plane lies in (the exit medium).
    pub n_medium: f64,
    /// Height of the plane above the pillar tops (the lens surface), µm (≥ 0). Distances along
    /// the axis (focal length, focal plane) are measured from the lens surface, so the
    /// propagation from this plane covers z − `z_um`.
    pub z_um: f64,
    /// Incident polarisation the fields belong to.
    pub polarization: Polarization,
    /// Ex, Ey on the grid (row-major, rows along y).
    pub ex: Vec<C64>,
    pub ey: Vec<C64>,
    /// (Hx, Hy) on the same grid, units 1/η0, when the source knows them.
    pub h: Option<(Vec<C64>, Vec<C64>)>,
}

impl FieldPlane {
    /// Check the grid, the sizes and that the fields are finite and not all zero; `what`
    /// names the source in the message (a file name, "fdtd").
    pub fn validate(&self, what: &str) -> Result<()> {
        check_positive("near-field grid spacing", self.dx, "µm")?;
        check_positive("wavelength", self.wavelength_um, "µm")?;
        check_positive("near-field medium index", self.n_medium, "")?;
        if !(self.z_um.is_finite() && self.z_um >= 0.0) {
            return Err(Error::invalid(
                "near-field plane height",
                format!("{} µm", self.z_um),
                "must be ≥ 0 (above the pillar tops)",
            ));
        }
        if self.m < 2 || !self.m.is_multiple_of(2) {
            return Err(Error::invalid(
                format!("{what}: near-field grid"),
                self.m,
                "must be an even number of samples ≥ 2",
            ));
        }
        let n = self.m * self.m;
        let mut comps: Vec<(&str, &Vec<C64>)> = vec![("Ex", &self.ex), ("Ey", &self.ey)];
        if let Some((hx, hy)) = &self.h {
            comps.push(("Hx", hx));
            comps.push(("Hy", hy));
        }
        for (name, v) in &comps {
            if v.len() != n {
                return Err(Error::invalid(
                    format!("{what}: {name}"),
                    format!("{} samples", v.len()),
                    format!("must hold {} × {} = {n}", self.m, self.m),
                ));
            }
            if let Some(i) = v
                .iter()
                .position(|c| !(c.re.is_finite() && c.im.is_finite()))
            {
                return Err(Error::invalid(
                    format!("{what}: {name}"),
                    format!("non-finite value at sample {i}"),
                    "every sample must be finite",
                ));
            }
        }
        if self
            .ex
            .iter()
            .chain(self.ey.iter())
            .all(|c| c.norm_sqr() == 0.0)
        {
            return Err(Error::invalid(
                format!("{what}: Ex, Ey"),
                "all zero",
                "a near field must carry some field",
            ));
        }
        Ok(())
    }

    /// The transverse E as an [`ApertureField`] for the propagation.
    pub fn aperture(&self) -> ApertureField {
        ApertureField {
            m: self.m,
            dx: self.dx,
            ex: Some(self.ex.clone()),
            ey: Some(self.ey.clone()),
        }
    }

    /// Power through the plane from E and H, ½ Re Σ (Ex Hy* − Ey Hx*) dx², units
    /// |E|²·µm²/η0; `None` without H.
    pub fn poynting_flux(&self) -> Option<f64> {
        let (hx, hy) = self.h.as_ref()?;
        let s: f64 = (0..self.ex.len())
            .map(|i| 0.5 * (self.ex[i] * hy[i].conj() - self.ey[i] * hx[i].conj()).re)
            .sum();
        Some(s * self.dx * self.dx)
    }

    /// The LPA aperture field of `nf` for polarisation `pol` as a plane at the lens surface
    /// (no H): the same numbers [`crate::metrics::pipeline::run_nearfield`] propagates.
    pub fn from_transmission(
        nf: &NearField,
        pol: Polarization,
        wavelength_um: f64,
        n_medium: f64,
    ) -> Self {
        let f = nf.field(pol);
        let zero = || vec![C64::new(0.0, 0.0); nf.m * nf.m];
        FieldPlane {
            m: nf.m,
            dx: nf.dx,
            wavelength_um,
            n_medium,
            z_um: 0.0,
            polarization: pol,
            ex: f.ex.unwrap_or_else(zero),
            ey: f.ey.unwrap_or_else(zero),
            h: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_fill_their_cells_and_outside_is_opaque() {
        // 3 × 3 square lattice of pitch 1, t = site index, aperture radius 1.6
        let mut sites = Vec::new();
        for j in -1..=1 {
            for i in -1..=1 {
                let k = ((j + 1) * 3 + (i + 1)) as f64;
                sites.push(Site {
                    x: i as f64,
                    y: j as f64,
                    tx: C64::new(k, 0.0),
                    ty: C64::new(0.0, k),
                });
            }
        }
        let nf = NearField::from_sites(&sites, 1.0, 4, 1.6, Outside::Opaque).unwrap();
        assert_eq!(nf.dx, 0.25);
        let at = |x: f64, y: f64| {
            let i = (x / nf.dx).round() as isize + (nf.m / 2) as isize;
            let j = (y / nf.dx).round() as isize + (nf.m / 2) as isize;
            (
                nf.tx[j as usize * nf.m + i as usize],
                nf.ty[j as usize * nf.m + i as usize],
            )
        };
        assert_eq!(at(0.0, 0.0).0, C64::new(4.0, 0.0));
        assert_eq!(at(1.0, 0.25).0, C64::new(5.0, 0.0));
        assert_eq!(at(-0.75, 1.0).1, C64::new(0.0, 6.0)); // site (-1, 1)
        assert_eq!(at(1.5, 1.5).0, C64::new(0.0, 0.0)); // outside the aperture radius
        let f = nf.field(Polarization::Rcp);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let idx = (nf.m / 2) * nf.m + nf.m / 2;
        assert!((f.ex.as_ref().unwrap()[idx] - C64::new(4.0 * s, 0.0)).norm() < 1e-15);
        // ey = -i/sqrt2 * ty = -i/sqrt2 * 4i = 4/sqrt2
        assert!((f.ey.as_ref().unwrap()[idx] - C64::new(4.0 * s, 0.0)).norm() < 1e-15);
        assert!(nf.field(Polarization::X).ey.is_none());
    }

    /// The derivation of [`ApertureModel::Flux`], point by point: the axial flux of the local
    /// plane wave, ½ n (cos θ |E_s|² + |E_p,t|²/cos θ) (s and p taken about the plane of
    /// incidence at the point), equals the incident flux ½ n_inc |E_inc|² at every point of the
    /// aperture, for x, y and both circular polarisations (relative 1e-12: rounding), while
    /// the tangential model's flux grows as 1/cos θ for p light.
    #[test]
    fn flux_model_sends_the_incident_flux_through_every_point() {
        let (lambda, f, n_exit, n_inc): (f64, f64, f64, f64) = (0.685, 2.0, 1.0, 1.4553);
        let amp = (n_inc / n_exit).sqrt();
        let (r_ap, dx) = (14.0, 0.7);
        let flux = |nf: &NearField, pol: Polarization| -> (f64, f64) {
            let a = nf.field(pol);
            let coord = |i: usize| a.coord(i);
            let zero = vec![C64::new(0.0, 0.0); nf.m * nf.m];
            let (ex, ey) = (
                a.ex.clone().unwrap_or(zero.clone()),
                a.ey.clone().unwrap_or(zero),
            );
            let mut worst: f64 = 0.0;
            let mut tangential_max: f64 = 0.0;
            for j in 0..nf.m {
                for i in 0..nf.m {
                    let (x, y) = (coord(i), coord(j));
                    let r = x.hypot(y);
                    if r > r_ap || r == 0.0 {
                        continue;
                    }
                    let cos_t = f / (r * r + f * f).sqrt();
                    let (e1, e2) = (ex[j * nf.m + i], ey[j * nf.m + i]);
                    let e_p = (e1 * x + e2 * y) / r;
                    let e_s = (-e1 * y + e2 * x) / r;
                    let sz = 0.5 * n_exit * (cos_t * e_s.norm_sqr() + e_p.norm_sqr() / cos_t);
                    worst = worst.max((sz / (0.5 * n_inc) - 1.0).abs());
                    tangential_max = tangential_max.max(sz / (0.5 * n_inc));
                }
            }
            (worst, tangential_max)
        };
        let ideal = |model| {
            NearField::ideal(lambda, f, n_exit, amp, dx, r_ap, Outside::Opaque, model).unwrap()
        };
        let nf = ideal(ApertureModel::Flux);
        for pol in [
            Polarization::X,
            Polarization::Y,
            Polarization::Rcp,
            Polarization::Lcp,
        ] {
            let (worst, _) = flux(&nf, pol);
            assert!(worst < 1e-12, "{pol:?}: local flux off by {worst}");
        }
        // the tangential field: p light at the rim (cos θ = 0.14) carries 1/cos θ ≈ 7× too much
        let (_, max) = flux(&ideal(ApertureModel::Tangential), Polarization::X);
        let cos_rim = f / (r_ap * r_ap + f * f).sqrt();
        assert!(max > 0.9 / cos_rim, "tangential model's largest flux {max}");
        // a cross-polarised Ey appears for x-polarised light, odd in x and in y
        let a = nf.field(Polarization::X);
        let ey = a.ey.unwrap();
        let (i, j) = (nf.m / 2 + 8, nf.m / 2 + 5);
        let (im, jm) = (nf.m / 2 - 8, nf.m / 2 - 5);
        assert!(ey[j * nf.m + i].norm() > 1e-3);
        assert!((ey[j * nf.m + i] + ey[j * nf.m + im]).norm() < 1e-12);
        assert!((ey[j * nf.m + i] + ey[jm * nf.m + i]).norm() < 1e-12);
    }

    #[test]
    fn ideal_phase_sign_follows_convention() {
        // phase decreases away from the axis; at r the path difference is sqrt(r^2+f^2)-f
        let p = hyperbolic_phase(3.0, 4.0, 0.5, 1.0);
        assert!((p + 4.0 * std::f64::consts::PI).abs() < 1e-12); // -(2 pi / 0.5) * (5 - 4)
        let nf = NearField::from_sites(&[], 1.0, 4, 1.0, Outside::Opaque);
        assert!(nf.is_err());
    }
}
