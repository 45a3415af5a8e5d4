//! A 3-D finite-difference time-domain (FDTD) solver written for pillar metasurfaces: one
//! periodic unit cell (the check against RCWA) and whole pillar lenses (the check of the local
//! periodic approximation).
//!
//! # Method
//! - Yee grid of uniform cubic cells (side 1/resolution µm), c = 1, fields f32, running DFTs
//!   f64 ([`grid`]); rayon over z planes.
//! - Anisotropic sub-pixel averaging of ε ([`material`]), so the error falls as dx²; in a unit
//!   cell, laterally uniform layers exact at the centre frequency ([`material::exact_planar`]).
//! - CPML on open sides; periodic sides for a unit cell; PEC/PMC mirror planes for a lens.
//! - Source: a normally incident plane wave from a current sheet in the substrate, a
//!   Gaussian pulse centred at the design frequency. Its incident field is taken from a
//!   *normalisation run*: the same sheet, dt, dz and CPML in a 1 × 1 × nz column of bare
//!   substrate (a 1-D run through the same kernel, negligible cost), so the incident amplitude,
//!   phase and flux are exactly what the 3-D grid sees, numerical dispersion included. The
//!   current sheet (rather than TF/SF) keeps the source one line of code on one plane, with
//!   the lens aperture set by a PEC screen (see [`lens`]), and the subtraction of the
//!   normalisation fields gives the reflected field directly.
//! - Running DFTs of Ex, Ey (at integer z nodes) and Hx, Hy (half a cell above) with their
//!   proper half-step times; the flux ½ Re Σ(Ex Hy* − Ey Hx*) with this pairing is exactly
//!   conserved by the discrete scheme in a lossless structure, so R + T = 1 holds to rounding
//!   plus the CPML reflection and the DFT truncation.
//! - Stop: once the pulse has passed (6 τ after its centre), when the largest Σ E² over the
//!   monitor planes during the last period falls below `decay` × its maximum over the run.
//!
//! Lossless media only: a pillar index with Im n ≠ 0 is refused (no conductivity model).

pub mod cell;
pub mod grid;
pub mod lens;
pub mod material;

use crate::{Error, Result, C64};
use grid::{Axis, Grid, PlaneEps, PmlParams, Side};

/// Solver settings shared by the unit-cell and lens drivers.
#[derive(Clone, Debug)]
pub struct FdtdSettings {
    /// Grid cells per µm.
    pub resolution: f64,
    /// Courant number c dt / dx (≤ 1/√3 in 3-D); 0.5 as in Meep.
    pub courant: f64,
    /// CPML thickness along z (µm).
    pub pml_um: f64,
    /// Stop when the field energy on the monitor planes falls below this fraction of its max.
    pub decay: f64,
    /// Wavelengths (µm) of the running DFTs; empty = the design wavelength only.
    pub wavelengths: Vec<f64>,
    /// Height of the near-field monitor above the pillar tops (µm).
    pub monitor_height_um: f64,
    /// Compensate the Yee grid's numerical dispersion at the centre frequency: in a unit cell
    /// the laterally uniform media (substrate, uniform layers, exit) are discretised exactly for
    /// a normally incident plane wave ([`material::exact_planar`]: exact wavenumber and Fresnel
    /// coefficients) and the indices of patterned layers are scaled
    /// ([`dispersion_corrected_index`]); a lens (only when asked, see
    /// [`lens::LENS_DISPERSION_CORRECTION`]) scales every medium's index.
    pub dispersion_correction: bool,
    /// Anisotropic sub-pixel averaging of ε (false: staircasing, for comparisons only).
    pub subpixel: bool,
    /// Use the mirror planes x = 0 and y = 0 (lens only).
    pub symmetry: bool,
    /// Refuse a run whose estimate exceeds this many bytes.
    pub memory_limit_bytes: u64,
    /// Lateral CPML thickness (µm) and free margin between the lens rim and the CPML (µm).
    pub lateral_pml_um: f64,
    pub lateral_margin_um: f64,
}

/// Default resolution of a lens (px/µm). The whole-lens studies (validation/fullwave3d/
/// lenses.md, lenses without the bulk dispersion correction) converge at second order: the
/// 5 µm NA 0.9 lens's efficiencies move by ≤ 0.4 points from 40 to 60 px/µm and sit ≤ 0.7
/// below their extrapolated limit at 40. A 10 µm lens takes about 2 minutes on 2 idle cores here
/// (3.4 minutes before the fused kernel; validation/fullwave3d/roofline.md). Single cells at
/// 40 px/µm stay within 0.8 % in |t| and 1 nm of equivalent radius of converged RCWA, but not
/// within 1.5° in phase on the steep radii (up to 11° at r 0.08, cell_convergence.md), hence
/// [`CELL_RESOLUTION`] for a cell on its own.
pub const DEFAULT_RESOLUTION: f64 = 40.0;

/// Default resolution of one periodic cell (`metalens cell --solver fdtd`), px/µm: at 80 the Mk
/// cell is within 0.13 % in |t| and 1.5° in phase of converged RCWA at every radius of the
/// library (0.03–0.09 µm; validation/fullwave3d/cell_convergence.md), in 2–3 s on one thread.
pub const CELL_RESOLUTION: f64 = 80.0;

impl Default for FdtdSettings {
    fn default() -> Self {
        FdtdSettings {
            resolution: DEFAULT_RESOLUTION,
            courant: 0.5,
            pml_um: 0.5,
            decay: 1e-8,
            wavelengths: Vec::new(),
            monitor_height_um: 0.15,
            dispersion_correction: true,
            subpixel: true,
            symmetry: true,
            memory_limit_bytes: 16 << 30,
            lateral_pml_um: 0.5,
            lateral_margin_um: 0.5,
        }
    }
}

impl FdtdSettings {
    /// Check the numbers that do not depend on the structure.
    pub fn validate(&self) -> Result<()> {
        if !(self.resolution.is_finite() && (4.0..=400.0).contains(&self.resolution)) {
            return Err(Error::invalid(
                "resolution",
                format!("{} px/µm", self.resolution),
                "must be in [4, 400] px/µm",
            ));
        }
        if !(self.courant > 0.0 && self.courant < 1.0 / 3f64.sqrt()) {
            return Err(Error::invalid(
                "Courant number",
                self.courant,
                "must be in (0, 1/√3) for a stable 3-D Yee scheme",
            ));
        }
        if !(self.decay > 0.0 && self.decay < 1.0) {
            return Err(Error::invalid("decay", self.decay, "must be in (0, 1)"));
        }
        for &w in &self.wavelengths {
            crate::error::check_positive("wavelength", w, "µm")?;
        }
        crate::error::check_positive("PML thickness", self.pml_um, "µm")?;
        if !(self.monitor_height_um.is_finite() && self.monitor_height_um > 0.0) {
            return Err(Error::invalid(
                "monitor height",
                format!("{} µm", self.monitor_height_um),
                "must be > 0 µm above the pillar tops (a plane inside the pillars is refused)",
            ));
        }
        Ok(())
    }
}

/// A real refractive index from a complex one; lossy media are refused.
pub fn real_index(what: &str, n: C64) -> Result<f64> {
    if n.im.abs() > 1e-12 || !(n.re.is_finite() && n.re >= 1.0) {
        return Err(Error::invalid(
            what,
            format!("{}{:+}i", n.re, n.im),
            "the FDTD solver takes lossless media with real index ≥ 1 only (no conductivity model)",
        ));
    }
    Ok(n.re)
}

/// Gaussian-pulse current J(t) = exp(−(t − t0)²/(2τ²)) cos(ω0 (t − t0)).
#[derive(Clone, Copy, Debug)]
pub struct Pulse {
    pub omega0: f64,
    pub tau: f64,
    pub t0: f64,
}

impl Pulse {
    /// Centred at the mean of the frequencies, wide enough (±2 σ) to cover them all, and no
    /// wider than σ_ω = ω0 / `periods` (τ = periods/ω0; ≥ 6 keeps the DC content below 1e-7).
    /// A periodic cell wants a narrow band (`periods` 20): at ω ≥ 1.25 ω0 its first diffraction
    /// orders graze the substrate (Rayleigh anomaly), never reach the CPML and would keep the
    /// run from decaying; with τ = 20/ω0 the pulse holds 1e-11 of its energy there.
    pub fn covering(omegas: &[f64], periods: f64) -> Self {
        let (lo, hi) = omegas
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &w| (a.min(w), b.max(w)));
        let omega0 = 0.5 * (lo + hi);
        // spectral σ of the envelope = 1/τ; want (hi − lo)/2 ≤ 2 σ
        let tau_band = if hi > lo { 4.0 / (hi - lo) } else { f64::MAX };
        let tau = (periods / omega0).min(tau_band).max(6.0 / omega0);
        Pulse {
            omega0,
            tau,
            t0: 6.0 * tau,
        }
    }
    pub fn at(&self, t: f64) -> f64 {
        let u = (t - self.t0) / self.tau;
        (-0.5 * u * u).exp() * (self.omega0 * (t - self.t0)).cos()
    }
    /// Time after which the pulse is negligible (envelope < 1.5e-8).
    pub fn end(&self) -> f64 {
        self.t0 + 6.0 * self.tau
    }
}

/// Running DFT of Ex, Ey (plane k) and Hx, Hy (plane k + ½) over a rectangle of a z plane.
#[derive(Clone, Debug)]
pub struct Monitor {
    pub k: usize,
    /// Rectangle [i0, i1) × [j0, j1).
    pub i0: usize,
    pub i1: usize,
    pub j0: usize,
    pub j1: usize,
    /// dft[f][component][(j − j0)·w + (i − i0)], components Ex, Ey, Hx, Hy.
    pub dft: Vec<[Vec<C64>; 4]>,
}

impl Monitor {
    pub fn new(k: usize, (i0, i1): (usize, usize), (j0, j1): (usize, usize), nf: usize) -> Self {
        let n = (i1 - i0) * (j1 - j0);
        let z = || vec![C64::new(0.0, 0.0); n];
        Monitor {
            k,
            i0,
            i1,
            j0,
            j1,
            dft: (0..nf).map(|_| [z(), z(), z(), z()]).collect(),
        }
    }
    pub fn width(&self) -> usize {
        self.i1 - self.i0
    }
    pub fn bytes(&self) -> usize {
        self.dft.len() * 4 * self.dft[0][0].len() * 16
    }

    /// Accumulate: E at time te, H at time th, phasor weights e^{iωt} dt per frequency.
    fn accumulate(&mut self, g: &Grid, we: &[C64], wh: &[C64]) -> f64 {
        use rayon::prelude::*;
        let (nx, ny) = (g.nx, g.ny);
        let o = self.k * nx * ny;
        let w = self.width();
        let (i0, j0) = (self.i0, self.j0);
        let f = &g.f;
        let energy: f64 = self
            .dft
            .iter_mut()
            .enumerate()
            .map(|(fi, comps)| {
                let (we, wh) = (we[fi], wh[fi]);
                let [dex, dey, dhx, dhy] = comps;
                dex.par_chunks_mut(w)
                    .zip(dey.par_chunks_mut(w))
                    .zip(dhx.par_chunks_mut(w))
                    .zip(dhy.par_chunks_mut(w))
                    .with_min_len(32)
                    .enumerate()
                    .map(|(jj, (((a, b), c), d))| {
                        let r = o + (j0 + jj) * nx + i0;
                        let mut en = 0.0;
                        for ii in 0..w {
                            let (ex, ey) = (f.ex[r + ii] as f64, f.ey[r + ii] as f64);
                            a[ii] += we * ex;
                            b[ii] += we * ey;
                            c[ii] += wh * f.hx[r + ii] as f64;
                            d[ii] += wh * f.hy[r + ii] as f64;
                            en += ex * ex + ey * ey;
                        }
                        en
                    })
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .first()
            .copied()
            .unwrap_or(0.0);
        energy
    }
}

/// Facts of one time-domain run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunFacts {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    pub cells: usize,
    pub steps: usize,
    pub wall_s: f64,
    pub bytes: usize,
    pub cell_updates_per_s: f64,
    pub dx_um: f64,
    pub dt: f64,
}

/// The sheet source: component (0 = Ex, 1 = Ey) on plane k over the whole plane.
#[derive(Clone, Copy, Debug)]
pub struct Sheet {
    pub comp: usize,
    pub k: usize,
    pub pulse: Pulse,
}

/// Step until the pulse has passed and the monitors' field energy has decayed.
/// `omegas` are the DFT angular frequencies; `max_steps` a hard cap (reported if hit).
pub fn run(
    g: &mut Grid,
    sheet: &Sheet,
    monitors: &mut [Monitor],
    omegas: &[f64],
    decay: f64,
    max_steps: usize,
    progress: &dyn Fn(f64),
) -> Result<RunFacts> {
    let start = std::time::Instant::now();
    let dt = g.dt;
    let (nx, ny) = (g.nx, g.ny);
    let period_steps =
        (2.0 * std::f64::consts::PI / omegas.iter().cloned().fold(f64::MAX, f64::min) / dt).ceil()
            as usize;
    let expected = (sheet.pulse.end() / dt) as usize + 20 * period_steps;
    let (mut emax, mut block_max) = (0.0f64, 0.0f64);
    let mut steps = 0;
    let mut we = vec![C64::new(0.0, 0.0); omegas.len()];
    let mut wh = we.clone();
    let mut converged = false;
    while steps < max_steps {
        let n = steps as f64;
        g.step();
        // J at t = (n + ½) dt on the sheet: E −= dt ε⁻¹ J / dx (a surface current over one cell)
        let j = sheet.pulse.at((n + 0.5) * dt) as f32;
        if j != 0.0 {
            let o = sheet.k * nx * ny;
            let comp = sheet.comp;
            let c = (dt / g.dx) as f32;
            let plane = match comp {
                0 => &mut g.f.ex[o..o + nx * ny],
                _ => &mut g.f.ey[o..o + nx * ny],
            };
            match g.eps.planes[comp][sheet.k] {
                PlaneEps::Uniform(v) => plane.iter_mut().for_each(|e| *e -= c * v * j),
                PlaneEps::Map(m) => {
                    let map = &g.eps.maps[m];
                    plane.iter_mut().zip(map).for_each(|(e, v)| *e -= c * v * j)
                }
            }
        }
        let (te, th) = ((n + 1.0) * dt, (n + 0.5) * dt);
        for (f, &w) in omegas.iter().enumerate() {
            we[f] = C64::from_polar(dt, w * te);
            wh[f] = C64::from_polar(dt, w * th);
        }
        let mut en = 0.0;
        for m in monitors.iter_mut() {
            en += m.accumulate(g, &we, &wh);
        }
        if !en.is_finite() {
            return Err(Error::numerical(
                "fdtd",
                format!("fields diverged at step {steps} (unstable time step?)"),
            ));
        }
        emax = emax.max(en);
        block_max = block_max.max(en);
        steps += 1;
        if steps % period_steps == 0 {
            if (steps as f64) * dt > sheet.pulse.end() && block_max <= decay * emax {
                converged = true;
                break;
            }
            block_max = 0.0;
            progress((steps as f64 / expected as f64).min(0.99));
        }
    }
    if !converged {
        return Err(Error::numerical(
            "fdtd",
            format!(
                "fields did not decay to {decay:.0e} of their peak within {max_steps} steps (a high-Q resonance?)"
            ),
        ));
    }
    progress(1.0);
    let wall = start.elapsed().as_secs_f64();
    Ok(RunFacts {
        nx,
        ny,
        nz: g.nz,
        cells: g.cells(),
        steps,
        wall_s: wall,
        bytes: g.bytes() + monitors.iter().map(|m| m.bytes()).sum::<usize>(),
        cell_updates_per_s: g.cells() as f64 * steps as f64 / wall.max(1e-9),
        dx_um: g.dx,
        dt,
    })
}

/// Index that makes the grid propagate a plane wave along an axis at ω0 with the exact
/// wavenumber n ω0 (Yee dispersion compensation at the centre frequency): from
/// sin(k dx/2)/dx = n_grid sin(ω dt/2)/dt with k = n ω0. Without it a plane wave in SRN
/// (n 2.74) at 40 px/µm gathers ~1.6 % too much phase (23° over a 1 µm pillar).
pub fn dispersion_corrected_index(n: f64, omega0: f64, dx: f64, dt: f64) -> f64 {
    (dt / dx) * (0.5 * n * omega0 * dx).sin() / (0.5 * omega0 * dt).sin()
}

/// Wavenumber of a plane wave of angular frequency ω in index n on the Yee grid (normal
/// propagation along an axis): sin(k dz/2)/dz = n sin(ω dt/2)/dt.
pub fn numerical_k(omega: f64, n: f64, dx: f64, dt: f64) -> f64 {
    let s = n * dx / dt * (0.5 * omega * dt).sin();
    2.0 / dx * s.clamp(-1.0, 1.0).asin()
}

/// The incident wave as the grid sees it: a 1 × 1 × nz column of bare substrate (ε, μ as the
/// 3-D grid holds them) with the same z layout, CPML, dt and sheet. Returns per frequency (E at each requested plane, H at the
/// plane + ½) for the sheet's component.
#[allow(clippy::too_many_arguments)]
pub fn normalisation_run(
    nz: usize,
    dx: f64,
    courant: f64,
    (eps_sub, mu_sub): (f64, f64),
    pml: (usize, usize),
    sheet: &Sheet,
    planes: &[usize],
    omegas: &[f64],
    decay: f64,
) -> Result<Vec<Vec<(C64, C64)>>> {
    let mut perm = grid::Permittivity::uniform((1.0 / eps_sub) as f32, nz);
    if mu_sub != 1.0 {
        perm.inv_mu = [0, 1, 2].map(|_| vec![(1.0 / mu_sub) as f32; nz]);
    }
    let n_sub = (eps_sub * mu_sub).sqrt();
    let ax = [
        Axis::periodic(1),
        Axis::periodic(1),
        Axis {
            n: nz,
            lo: Side::Pml(pml.0),
            hi: Side::Pml(pml.1),
        },
    ];
    let pp = pml_params(n_sub, 1.0, omegas);
    let mut g = Grid::new(ax, dx, courant, perm, [pp, pp, pp]);
    let mut mons: Vec<Monitor> = planes
        .iter()
        .map(|&k| Monitor::new(k, (0, 1), (0, 1), omegas.len()))
        .collect();
    run(&mut g, sheet, &mut mons, omegas, decay, 10_000_000, &|_| {})?;
    Ok((0..omegas.len())
        .map(|f| {
            mons.iter()
                .map(|m| {
                    let d = &m.dft[f];
                    if sheet.comp == 0 {
                        (d[0][0], d[3][0])
                    } else {
                        (d[1][0], d[2][0])
                    }
                })
                .collect()
        })
        .collect())
}

/// CPML grading used throughout: cubic σ (optimal for index n), κ up to `kappa_max`,
/// α = ω_min / 20 (keeps the low-frequency end of the band absorbed and evanescent waves
/// damped).
pub fn pml_params(index: f64, kappa_max: f64, omegas: &[f64]) -> PmlParams {
    let wmin = omegas.iter().cloned().fold(f64::MAX, f64::min);
    PmlParams {
        order: 3.0,
        kappa_max,
        alpha_max: wmin / 20.0,
        index,
    }
}
