//! Plan / execute split of a solve (RustFFT's planner and S4's workspace are the models).
//!
//! [`RcwaPlan::new`] holds what does not change across the cells of a sweep at one lattice,
//! wavelength and incidence: the harmonic set, the k-vectors, the mirror permutations, and
//! (built on first use, then shared by every cell and thread) the symmetry-sector bases with
//! the half-space modes in each. [`RcwaPlan::layer_modes`] does a stack's Fourier stage and
//! layer eigensolves; the modes do not depend on the layer thicknesses, so
//! [`RcwaPlan::solve_modes`] with new thicknesses reuses them across the heights of a sweep.
//! [`RcwaPlan::solve`] is the two in a row.
//!
//! Paths (each exact; a test compares every one with [`Paths::REFERENCE`]):
//! - symmetry: at normal incidence the four sectors of the two mirrors x → −x, y → −y (each
//!   ~N/2, see `symmetry`); at oblique incidence with the plane of incidence along x or y the
//!   two sectors of the one mirror that keeps k_∥ (each ~N); the structure is first translated
//!   to its symmetry centre (zeroth-order amplitudes and every power are unchanged);
//! - real: lossless centrosymmetric layers get real P, Q and a real eigensolve (`modes`);
//! - direct: one layer between two half-spaces is solved by block elimination for the two
//!   incident fields instead of full S-matrices (`direct`).

use super::harmonics::Harmonics;
use super::modes::{self, Kvectors, Modes};
use super::smatrix::SMatrix;
use super::symmetry::{self, Basis};
use super::{assemble, layer_matrices, Response, Settings, Solution, Timings};
use crate::cell::{Incidence, Lattice, Shape, Stack};
use crate::material::Material;
use crate::{Error, Result, C64};
use faer::Mat;
use std::sync::OnceLock;

/// Which exact accelerations a solve may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paths {
    /// Mirror-symmetry sectors (two mirrors at normal incidence; one when the plane of
    /// incidence is a mirror plane of the cell).
    pub symmetry: bool,
    /// Real arithmetic for the eigensolve of lossless centrosymmetric layers.
    pub real: bool,
    /// Block elimination instead of S-matrices for one layer between two half-spaces.
    pub direct: bool,
}

impl Paths {
    /// Everything on: what [`super::solve`] and the library use.
    pub const FAST: Paths = Paths {
        symmetry: true,
        real: true,
        direct: true,
    };
    /// The plain full-basis, complex, S-matrix algorithm (the solver before plans existed).
    pub const REFERENCE: Paths = Paths {
        symmetry: false,
        real: false,
        direct: false,
    };
}

/// The symmetry group a solve splits by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Full,
    TwoMirrors,
    /// The single mirror along axis 0 (x → −x) or 1 (y → −y).
    Mirror(usize),
}

impl Group {
    fn slot(self) -> usize {
        match self {
            Group::Full => 0,
            Group::TwoMirrors => 1,
            Group::Mirror(0) => 2,
            Group::Mirror(_) => 3,
        }
    }
}

/// One sector: its basis, the unit x / y incident fields projected on it, and the half-space
/// modes in it.
struct Sector {
    basis: Basis,
    inputs: [Vec<C64>; 2],
    top: Modes,
    exit: Modes,
}

impl Sector {
    /// Whether unit input p (0 = x, 1 = y) has a component in this sector.
    fn excited_by(&self, p: usize) -> bool {
        self.inputs[p].iter().any(|x| x.norm() != 0.0)
    }
}

/// What does not change across the cells of a sweep at one lattice, wavelength and incidence.
pub struct RcwaPlan {
    lattice: Lattice,
    settings: Settings,
    paths: Paths,
    incidence: Incidence,
    k0: f64,
    n_inc: C64,
    n_exit: C64,
    eps_inc: C64,
    eps_exit: C64,
    h: Harmonics,
    k: Kvectors,
    /// k_∥ along x (ky = 0 exactly) / along y (kx = 0 exactly).
    along: [bool; 2],
    perms: Option<[Vec<usize>; 2]>,
    sectors: [OnceLock<Vec<Sector>>; 4],
}

/// A stack's layer modes in the sectors of one plan (independent of the layer thicknesses).
pub struct LayerModes {
    group: Group,
    /// The unit inputs (x, y) the modes serve: a sector that neither excites is skipped.
    inputs: [bool; 2],
    /// Per sector (None: not excited by the inputs asked for), per layer.
    modes: Vec<Option<Vec<Modes>>>,
    thicknesses: Vec<f64>,
    fourier_s: f64,
    eigen_s: f64,
}

impl LayerModes {
    /// Layer thicknesses of the stack the modes were computed for (µm).
    pub fn thicknesses(&self) -> &[f64] {
        &self.thicknesses
    }
}

/// Fail at a Rayleigh anomaly of a half-space (an order grazing, k_z = 0).
fn rayleigh_check(k: &Kvectors, eps: C64, where_: &str, h: &Harmonics) -> Result<()> {
    for (i, q) in k.kz(eps).iter().enumerate() {
        if q.norm() < 1e-9 {
            let (m, nn) = h.mn[i];
            return Err(Error::numerical(
                "rcwa",
                format!("Rayleigh anomaly: diffraction order ({m}, {nn}) grazes the {where_} (k_z = 0); shift the wavelength, pitch or angle slightly"),
            ));
        }
    }
    Ok(())
}

impl RcwaPlan {
    /// A plan with every acceleration on.
    pub fn new(
        lattice: &Lattice,
        settings: &Settings,
        incidence: &Incidence,
        incidence_medium: &Material,
        exit_medium: &Material,
    ) -> Result<Self> {
        Self::with_paths(
            lattice,
            settings,
            incidence,
            incidence_medium,
            exit_medium,
            Paths::FAST,
        )
    }

    /// A plan with the given accelerations.
    pub fn with_paths(
        lattice: &Lattice,
        settings: &Settings,
        incidence: &Incidence,
        incidence_medium: &Material,
        exit_medium: &Material,
        paths: Paths,
    ) -> Result<Self> {
        incidence.validate()?;
        if settings.harmonics == 0 {
            return Err(Error::invalid("harmonics", 0, "must be at least 1"));
        }
        let wl = incidence.wavelength;
        let k0 = 2.0 * std::f64::consts::PI / wl;
        let n_inc = incidence_medium.index(wl)?;
        let n_exit = exit_medium.index(wl)?;
        let (eps_inc, eps_exit) = (n_inc * n_inc, n_exit * n_exit);
        if incidence.theta > 0.0 && n_inc.im > 0.0 {
            return Err(Error::invalid(
                "incidence medium",
                crate::material::format_complex(n_inc),
                "oblique incidence needs a lossless incidence medium (Im n = 0)",
            ));
        }
        let kpar_norm = n_inc.re * incidence.theta.sin();
        let mut k_par = [
            k0 * kpar_norm * incidence.phi.cos(),
            k0 * kpar_norm * incidence.phi.sin(),
        ];
        // φ = 90° gives cos φ ≈ 6e-17, not 0: snap so that the plane of incidence is exactly
        // a mirror plane (a change far below rounding of any result).
        for c in k_par.iter_mut() {
            if c.abs() <= 1e-12 * k0 * kpar_norm {
                *c = 0.0;
            }
        }
        let h = Harmonics::circular(lattice, settings.harmonics);
        // Every propagating order of both half-spaces must be inside the truncation, with one
        // shell of margin; otherwise the result is meaningless.
        let (b1, b2) = lattice.reciprocal();
        let bmin = b1[0].hypot(b1[1]).min(b2[0].hypot(b2[1]));
        let needed = k0 * n_inc.re.max(n_exit.re) + k0 * kpar_norm + bmin;
        if h.g_max < needed {
            let recip_area = (b1[0] * b2[1] - b1[1] * b2[0]).abs();
            let est = (std::f64::consts::PI * needed * needed / recip_area).ceil() as usize;
            return Err(Error::invalid(
                "harmonics",
                settings.harmonics,
                format!(
                    "too few for a {:.4} µm period at wavelength {wl} µm: the propagating orders need at least ~{est}",
                    lattice.min_period()
                ),
            ));
        }
        let k = Kvectors::new(&h, k0, k_par);
        rayleigh_check(&k, eps_inc, "incidence medium", &h)?;
        rayleigh_check(&k, eps_exit, "exit medium", &h)?;
        let perms = if paths.symmetry {
            symmetry::mirror_permutations(lattice, &h)
        } else {
            None
        };
        Ok(RcwaPlan {
            lattice: lattice.clone(),
            settings: settings.clone(),
            paths,
            incidence: incidence.clone(),
            k0,
            n_inc,
            n_exit,
            eps_inc,
            eps_exit,
            along: [k_par[1] == 0.0, k_par[0] == 0.0],
            h,
            k,
            perms,
            sectors: Default::default(),
        })
    }

    /// Number of harmonics kept.
    pub fn harmonics(&self) -> usize {
        self.h.len()
    }

    /// The sectors of a group that x or y input excites (at normal incidence (−, +) and
    /// (+, −); the other two carry no zeroth order), built on first use.
    fn sectors(&self, group: Group) -> Result<&[Sector]> {
        let cell = &self.sectors[group.slot()];
        if let Some(s) = cell.get() {
            return Ok(s);
        }
        let n = self.h.len();
        let bases: Vec<Basis> = match (group, &self.perms) {
            (Group::TwoMirrors, Some(p)) => vec![
                symmetry::sector(p, -1.0, 1.0),
                symmetry::sector(p, 1.0, -1.0),
            ],
            (Group::Mirror(axis), Some(p)) => vec![
                symmetry::single_sector(&p[axis], axis, 1.0),
                symmetry::single_sector(&p[axis], axis, -1.0),
            ],
            _ => vec![Basis::full(n)],
        };
        let mut unit = [
            vec![C64::new(0.0, 0.0); 2 * n],
            vec![C64::new(0.0, 0.0); 2 * n],
        ];
        unit[0][0] = C64::new(1.0, 0.0);
        unit[1][n] = C64::new(1.0, 0.0);
        let mut built = Vec::with_capacity(bases.len());
        for basis in bases {
            let inputs = [basis.project(&unit[0]), basis.project(&unit[1])];
            let top = modes::uniform(&self.k, self.eps_inc, &basis, "incidence medium", &self.h)?;
            let exit = modes::uniform(&self.k, self.eps_exit, &basis, "exit medium", &self.h)?;
            built.push(Sector {
                basis,
                inputs,
                top,
                exit,
            });
        }
        let _ = cell.set(built);
        Ok(cell.get().map(|v| v.as_slice()).unwrap_or_default())
    }

    /// The symmetry group this stack and incidence allow, and the centre to translate to.
    ///
    /// Only the two-mirror group at normal incidence may move the structure (to the centre of
    /// its first shape, as the solver always did): the normal-vector field is sampled on a
    /// grid fixed to the cell, so a translation changes its discretisation slightly (~1e-4 in
    /// t for an off-centre ellipse), and every other path must reproduce the reference to
    /// rounding. The single mirror and the real eigensolve therefore apply about the origin
    /// only (where the library's and the CLI's pillars sit).
    fn choose_group(&self, stack: &Stack) -> (Group, [f64; 2]) {
        if self.perms.is_none() {
            return (Group::Full, [0.0, 0.0]);
        }
        let origin_mirror =
            |axes: &[usize]| symmetry::mirror_centre_for(stack, axes) == Some([0.0, 0.0]);
        if self.incidence.theta == 0.0 {
            if let Some(c) = symmetry::mirror_centre(stack) {
                return (Group::TwoMirrors, c);
            }
            for axis in [1, 0] {
                if origin_mirror(&[axis]) {
                    return (Group::Mirror(axis), [0.0, 0.0]);
                }
            }
        } else if self.along[0] && origin_mirror(&[1]) {
            return (Group::Mirror(1), [0.0, 0.0]);
        } else if self.along[1] && origin_mirror(&[0]) {
            return (Group::Mirror(0), [0.0, 0.0]);
        }
        (Group::Full, [0.0, 0.0])
    }

    /// Check that the stack belongs to this plan (lattice and half-space media).
    fn check_stack(&self, stack: &Stack) -> Result<()> {
        stack.validate()?;
        let wl = self.incidence.wavelength;
        if stack.lattice != self.lattice
            || stack.incidence.index(wl)? != self.n_inc
            || stack.exit.index(wl)? != self.n_exit
        {
            return Err(Error::invalid(
                "stack",
                "lattice or half-space media",
                "must be those the RCWA plan was built for",
            ));
        }
        Ok(())
    }

    /// Fourier stage and layer eigensolves of a stack (independent of its thicknesses).
    pub fn layer_modes(&self, stack: &Stack) -> Result<LayerModes> {
        self.layer_modes_for(stack, [true, true])
    }

    /// [`RcwaPlan::layer_modes`] for the unit inputs `inputs` = (x, y) only: with the
    /// symmetry sectors, a sector that none of them excites is not solved (at normal incidence
    /// on a two-mirror cell x input lives in one sector and y input in another, so x alone is
    /// half the eigensolves). Solutions from these modes are refused for a polarisation that
    /// needs a missing input.
    pub fn layer_modes_for(&self, stack: &Stack, inputs: [bool; 2]) -> Result<LayerModes> {
        self.check_stack(stack)?;
        let wl = self.incidence.wavelength;
        let clock = std::time::Instant::now();
        let (group, centre) = self.choose_group(stack);
        // Layer permittivity matrices (independent of the sector).
        let mut mats = Vec::with_capacity(stack.layers.len());
        for layer in &stack.layers {
            let eps_bg = layer.background.permittivity(wl)?;
            if layer.shapes.is_empty() {
                mats.push((eps_bg, None));
                continue;
            }
            let mut shapes = Vec::with_capacity(layer.shapes.len());
            for (s, m) in &layer.shapes {
                // translate to the symmetry centre (zeroth-order amplitudes are unchanged)
                let mut s = s.clone();
                match &mut s {
                    Shape::Circle { center, .. }
                    | Shape::Ellipse { center, .. }
                    | Shape::Rectangle { center, .. } => {
                        center[0] -= centre[0];
                        center[1] -= centre[1];
                    }
                }
                shapes.push((s, m.permittivity(wl)?));
            }
            let m = layer_matrices(
                &self.lattice,
                &shapes,
                eps_bg,
                &self.h,
                self.settings.factorization,
                self.paths.real,
                // the Fourier stage in the parity blocks when the layer has both mirrors about
                // the origin (the structure was moved to its symmetry centre above)
                match (group, &self.perms) {
                    (Group::TwoMirrors, Some(p)) => Some(p),
                    _ => None,
                },
            )?;
            mats.push((eps_bg, Some(m)));
        }
        let fourier_s = clock.elapsed().as_secs_f64();
        let mut eigen_s = 0.0;
        let sectors = self.sectors(group)?;
        let mut all = Vec::with_capacity(sectors.len());
        for sector in sectors {
            if !(0..2).any(|p| inputs[p] && sector.excited_by(p)) {
                all.push(None);
                continue;
            }
            let mut per_layer = Vec::with_capacity(mats.len());
            for (li, (eps, m)) in mats.iter().enumerate() {
                per_layer.push(match m {
                    None => modes::uniform(
                        &self.k,
                        *eps,
                        &sector.basis,
                        &format!("uniform layer {}", li + 1),
                        &self.h,
                    )?,
                    Some(m) => {
                        let t0 = std::time::Instant::now();
                        let md = modes::patterned(&self.k, m, &sector.basis, self.paths.real)?;
                        eigen_s += t0.elapsed().as_secs_f64();
                        md
                    }
                });
            }
            all.push(Some(per_layer));
        }
        Ok(LayerModes {
            group,
            inputs,
            modes: all,
            thicknesses: stack.layers.iter().map(|l| l.thickness).collect(),
            fourier_s,
            eigen_s,
        })
    }

    /// Solve a stack.
    pub fn solve(&self, stack: &Stack) -> Result<Solution> {
        let lm = self.layer_modes(stack)?;
        self.solve_modes(&lm, None)
    }

    /// Solve with precomputed layer modes, optionally with other thicknesses (µm, one per
    /// layer; `None`: those of the stack the modes came from).
    pub fn solve_modes(&self, lm: &LayerModes, thicknesses: Option<&[f64]>) -> Result<Solution> {
        let mut v = self.solve_modes_for(lm, thicknesses, &[self.incidence.polarization])?;
        Ok(v.remove(0))
    }

    /// [`RcwaPlan::solve_modes`] for several input polarisations at once: the responses to x
    /// and y input are computed once, each polarisation only repeats the bookkeeping.
    pub fn solve_modes_for(
        &self,
        lm: &LayerModes,
        thicknesses: Option<&[f64]>,
        polarizations: &[crate::cell::Polarization],
    ) -> Result<Vec<Solution>> {
        let th = thicknesses.unwrap_or(&lm.thicknesses);
        if th.len() != lm.thicknesses.len() || th.iter().any(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(Error::invalid(
                "thicknesses",
                format!("{th:?}"),
                format!(
                    "{} finite values >= 0 µm, one per layer",
                    lm.thicknesses.len()
                ),
            ));
        }
        for pol in polarizations {
            // the whole Jones matrix (s/p and general vectors) needs both unit inputs
            let needs = match pol {
                crate::cell::Polarization::X => [true, false],
                crate::cell::Polarization::Y => [false, true],
                _ => [true, true],
            };
            if (0..2).any(|p| needs[p] && !lm.inputs[p]) {
                return Err(Error::invalid(
                    "polarisation",
                    format!("{pol:?}"),
                    "needs an input the layer modes were not computed for (see RcwaPlan::layer_modes_for)",
                ));
            }
        }
        let clock = std::time::Instant::now();
        let resp = self.responses(lm, th)?;
        let mut out = Vec::with_capacity(polarizations.len());
        for pol in polarizations {
            let inc = Incidence {
                polarization: *pol,
                ..self.incidence.clone()
            };
            out.push(assemble(
                &self.h,
                &self.k,
                self.eps_inc,
                self.eps_exit,
                self.n_inc,
                self.n_exit,
                &inc,
                &resp,
            ));
        }
        let smatrix = clock.elapsed().as_secs_f64();
        for sol in out.iter_mut() {
            sol.timings = Timings {
                fourier: lm.fourier_s,
                eigen: lm.eigen_s,
                smatrix,
                total: lm.fourier_s + lm.eigen_s + smatrix,
            };
        }
        Ok(out)
    }

    /// Full-basis responses to unit x and y input, summed over the sectors.
    fn responses(&self, lm: &LayerModes, th: &[f64]) -> Result<Response> {
        let n = self.h.len();
        let sectors = self.sectors(lm.group)?;
        let zero = C64::new(0.0, 0.0);
        let mut resp = Response {
            t: [vec![zero; 2 * n], vec![zero; 2 * n]],
            r: [vec![zero; 2 * n], vec![zero; 2 * n]],
        };
        for (sector, layers) in sectors.iter().zip(&lm.modes) {
            let Some(layers) = layers else { continue };
            let d = sector.basis.dim();
            let e = Mat::<C64>::from_fn(d, 2, |i, p| sector.inputs[p][i]);
            let (tt, rr) = if self.paths.direct && layers.len() == 1 {
                let phase = layers[0].phase(self.k0, th[0]);
                super::direct::single_layer(&sector.top, &layers[0], &sector.exit, &phase, &e)?
            } else {
                let s = self.stack_smatrix(sector, layers, th)?;
                (&s.s21 * &e, &s.s11 * &e)
            };
            for p in 0..2 {
                if !sector.excited_by(p) {
                    continue;
                }
                let tv: Vec<C64> = (0..d).map(|i| tt[(i, p)]).collect();
                let rv: Vec<C64> = (0..d).map(|i| rr[(i, p)]).collect();
                for (acc, add) in resp.t[p].iter_mut().zip(sector.basis.expand(&tv, 2 * n)) {
                    *acc += add;
                }
                for (acc, add) in resp.r[p].iter_mut().zip(sector.basis.expand(&rv, 2 * n)) {
                    *acc += add;
                }
            }
        }
        if resp
            .t
            .iter()
            .chain(resp.r.iter())
            .any(|v| v.iter().any(|x| !x.re.is_finite() || !x.im.is_finite()))
        {
            return Err(Error::numerical(
                "rcwa",
                "non-finite amplitudes (singular system)",
            ));
        }
        Ok(resp)
    }

    /// The S-matrix of the whole stack in one sector (interfaces, propagation, Redheffer
    /// star products).
    fn stack_smatrix(&self, sector: &Sector, layers: &[Modes], th: &[f64]) -> Result<SMatrix> {
        let mut s: Option<SMatrix> = None;
        let mut below = &sector.top;
        for (m, d) in layers.iter().zip(th) {
            let iface = SMatrix::interface(below, m)?;
            let acc = match s {
                None => iface,
                Some(prev) => prev.star(&iface)?,
            };
            s = Some(acc.propagate(&m.phase(self.k0, *d)));
            below = m;
        }
        let iface = SMatrix::interface(below, &sector.exit)?;
        match s {
            None => Ok(iface),
            Some(prev) => prev.star(&iface),
        }
    }
}
