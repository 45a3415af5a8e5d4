//! Whole pillar lenses by FDTD: the near field ([`FieldPlane`]) a little above the pillars,
//! for the existing angular spectrum and metrics.
//!
//! # Set-up
//! The lens is centred at x = y = 0 on a grid node. Pillars (circles of one height and index)
//! stand on the substrate (z < 0) in the exit medium. Along x and y: a free margin beyond the
//! aperture, then CPML; with `symmetry` the quarter x, y ≥ 0 only, the planes x = 0 and
//! y = 0 being PEC or PMC as the polarisation requires (x-polarised: Ey = Ez = 0 on x = 0,
//! tangential H = 0 on y = 0; y-polarised the other way round), allowed only on a layout that
//! is mirror-symmetric in both axes (checked pillar by pillar).
//!
//! # Aperture
//! The plane wave comes from a current sheet over the whole substrate plane. "Opaque" (the
//! LPA pipeline's default) is a zero-thickness PEC screen on z = 0 outside the aperture disc
//! of radius D/2: the incident field on the aperture is the unit plane wave (from the
//! normalisation run), the incident power ½ n_inc π R², as in the LPA and ideal-lens
//! pipelines. "Bare" leaves the substrate open.
//!
//! # Near field
//! Running DFTs of Ex, Ey on the monitor plane (E nodes, `monitor_height_um` above the pillar
//! tops, rounded up to the grid) and Hx, Hy half a cell above, averaged to the cell corners
//! (the nodes x = i dx, y = j dx), divided by the incident amplitude at z = 0. H is scaled so
//! that the discrete incident flux equals ½ n_inc per unit area: the flux of the plane
//! divided by ½ n_inc π R² is then the grid's own transmitted fraction.

use super::cell::check_resolution;
use super::grid::{Axis, Grid, Kernel, Side};
use super::material::{self, Frame, Geometry, LayerGeom};
use super::{
    dispersion_corrected_index, normalisation_run, pml_params, run, FdtdSettings, Monitor, Pulse,
    RunFacts, Sheet,
};
use crate::cell::Shape;
use crate::lens::Lens;
use crate::nearfield::{FieldPlane, Polarization};
use crate::{Error, Result, C64};

/// Default stop of a lens run: the field energy on the monitor planes over one period below
/// this fraction of its peak. Measured on the 5 µm NA 0.9 lens at 30 px/µm: every efficiency at
/// 1e-5 within 4e-5 of its value at 1e-8 (at 1e-4 within 4e-4), at 3066 steps instead of 19194
/// (validation/fullwave3d/README.md). Unit cells keep the stricter [`super::FdtdSettings`]
/// default (1e-8): their R + T = 1 check to 1e-3 and phase comparison need it.
pub const LENS_DECAY: f64 = 1e-5;

/// Whether a lens run scales each medium's index to cancel the Yee grid's axial numerical
/// dispersion at the centre frequency ([`super::FdtdSettings::dispersion_correction`]): no.
/// The correction is exact for a plane wave along z in bulk, which is what a unit cell at
/// normal incidence transmits, but a lens bends light. Measured on the 5 µm NA 0.9 lens at
/// 30 px/µm: with the correction its near field carried 9–15 % too little power at
/// sin θ 0.6–0.9 (and 17–19 % too much below 0.3) against the same lens at 60 px/µm, and
/// `transmitted_r3` was 4.2 points below its extrapolated limit; without it every band is
/// within 3 % and the efficiency 1.2 points low (0.448, 0.453, 0.457 at 30, 40, 60 px/µm;
/// limit 0.460, where the corrected runs extrapolate to 0.458). Switching the correction off
/// in the pillars alone recovers all of it, in the exit medium alone nothing. On single cells
/// both ways are equally close to converged RCWA once a common phase offset is removed (rms
/// 6.1° and 5.8° over the library at 30 px/µm, 3.4° and 4.0° at 40), so there the correction
/// only moves the absolute phase, which a lens does not see (validation/fullwave3d/README.md
/// §4a).
pub const LENS_DISPERSION_CORRECTION: bool = false;

/// Pulse length τ ω0 of a lens run.
pub const LENS_PULSE_PERIODS: f64 = 8.0;

/// What lies outside the aperture at z = 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aperture {
    /// PEC screen outside the disc (the LPA default, "opaque").
    Opaque,
    /// Bare substrate.
    Bare,
}

/// A lens to solve.
#[derive(Clone, Debug)]
pub struct LensProblem {
    pub wavelength_um: f64,
    pub na: f64,
    pub diameter_um: f64,
    pub n_incident: f64,
    pub n_exit: f64,
    pub pillar_height_um: f64,
    pub pillar_index: f64,
    pub pitch_um: f64,
    pub centers: Vec<[f64; 2]>,
    pub radii: Vec<f64>,
    pub polarizations: Vec<Polarization>,
    pub aperture: Aperture,
}

impl LensProblem {
    /// A Mk-style lens without a phase library, for the kernel benches and tests: SRN pillars
    /// (n 2.74, h 1.0 µm) on a 0.22 µm square lattice on fused silica (1.45) into air at
    /// λ 0.685 µm, radius 0.04–0.09 µm linear in the wrapped hyperbolic phase (so the grid
    /// holds the walls, off-diagonal terms and PEC screen of a real lens, not its focus).
    pub fn benchmark(diameter_um: f64, na: f64) -> Self {
        let (wl, pitch) = (0.685, 0.22);
        let r_lens = 0.5 * diameter_um;
        let focal = r_lens * (1.0 - na * na).sqrt() / na;
        let m = (r_lens / pitch).floor() as i64;
        let (mut centers, mut radii) = (Vec::new(), Vec::new());
        for j in -m..=m {
            for i in -m..=m {
                let (x, y) = (i as f64 * pitch, j as f64 * pitch);
                let r = x.hypot(y);
                if r > r_lens {
                    continue;
                }
                let phase =
                    (2.0 * std::f64::consts::PI / wl) * ((r * r + focal * focal).sqrt() - focal);
                let frac = phase / (2.0 * std::f64::consts::PI);
                centers.push([x, y]);
                radii.push(0.04 + 0.05 * (frac - frac.floor()));
            }
        }
        LensProblem {
            wavelength_um: wl,
            na,
            diameter_um,
            n_incident: 1.45,
            n_exit: 1.0,
            pillar_height_um: 1.0,
            pillar_index: 2.74,
            pitch_um: pitch,
            centers,
            radii,
            polarizations: vec![Polarization::X],
            aperture: Aperture::Opaque,
        }
    }

    /// The lens as the metrics pipeline sees it (checked).
    pub fn spec(&self) -> Result<Lens> {
        Lens::from_na(self.wavelength_um, self.na, self.n_exit, self.diameter_um)?
            .with_incidence(self.n_incident)
    }

    fn validate(&self, s: &FdtdSettings) -> Result<()> {
        s.validate()?;
        crate::error::check_positive("pillar height", self.pillar_height_um, "µm")?;
        crate::error::check_positive("diameter", self.diameter_um, "µm")?;
        if self.centers.len() != self.radii.len() || self.centers.is_empty() {
            return Err(Error::invalid(
                "layout",
                format!("{} centres, {} radii", self.centers.len(), self.radii.len()),
                "needs one radius per pillar and at least one pillar",
            ));
        }
        for p in &self.polarizations {
            if !matches!(p, Polarization::X | Polarization::Y) {
                return Err(Error::invalid(
                    "polarization",
                    p.name(),
                    "the FDTD lens driver solves x and y (circular is their combination)",
                ));
            }
        }
        // smallest gap and feature, on a bin grid of one pitch
        let feat = smallest_gap(&self.centers, &self.radii, self.pitch_um);
        check_resolution(feat, s.resolution, "smallest pillar gap or diameter")?;
        if s.symmetry {
            check_mirror_symmetric(&self.centers, &self.radii, self.pitch_um)?;
        }
        Ok(())
    }
}

/// Smallest pillar diameter or edge-to-edge gap between neighbours (µm).
fn smallest_gap(centers: &[[f64; 2]], radii: &[f64], pitch: f64) -> f64 {
    use std::collections::HashMap;
    let key = |p: [f64; 2]| ((p[0] / pitch).floor() as i64, (p[1] / pitch).floor() as i64);
    let mut bins: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (n, c) in centers.iter().enumerate() {
        bins.entry(key(*c)).or_default().push(n);
    }
    let mut best = radii.iter().fold(f64::INFINITY, |a, r| a.min(2.0 * r));
    for (n, c) in centers.iter().enumerate() {
        let (bx, by) = key(*c);
        for dy in -2..=2 {
            for dx in -2..=2 {
                if let Some(v) = bins.get(&(bx + dx, by + dy)) {
                    for &m in v {
                        if m != n {
                            let d = (centers[m][0] - c[0]).hypot(centers[m][1] - c[1]);
                            best = best.min(d - radii[n] - radii[m]);
                        }
                    }
                }
            }
        }
    }
    best
}

fn check_mirror_symmetric(centers: &[[f64; 2]], radii: &[f64], pitch: f64) -> Result<()> {
    use std::collections::HashMap;
    let q = 1e-4 * pitch;
    let key = |x: f64, y: f64| ((x / q).round() as i64, (y / q).round() as i64);
    let map: HashMap<(i64, i64), f64> = centers
        .iter()
        .zip(radii)
        .map(|(c, r)| (key(c[0], c[1]), *r))
        .collect();
    for (c, r) in centers.iter().zip(radii) {
        for (x, y) in [(-c[0], c[1]), (c[0], -c[1])] {
            match map.get(&key(x, y)) {
                Some(r2) if (r2 - r).abs() <= 1e-6 * pitch.max(*r) => {}
                _ => {
                    return Err(Error::invalid(
                        "symmetry",
                        format!("pillar at ({:.4}, {:.4}) µm, r {:.4} µm", c[0], c[1], r),
                        format!(
                            "has no mirror image at ({x:.4}, {y:.4}) µm: the layout is not mirror-symmetric; run without symmetry"
                        ),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Run-size estimate, computed before anything is allocated.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Estimate {
    pub cells: usize,
    pub bytes: u64,
    pub steps: usize,
    pub seconds: f64,
}

/// Throughput assumed by [`estimate`] on one thread: cell-updates per second of the fused
/// kernel on a lens grid with the core to itself (measured on this 2-core machine: 174e6 on
/// the 10 µm lens grid at 40 px/µm, 147e6 on the 20 µm one, 146–164e6 per CPU-second on the
/// 5 µm ones; validation/fullwave3d/roofline.md). A run sharing its cores takes longer in
/// proportion to the share it gets: the estimate is the time with the cores to itself
/// (scaling it by the load average at the start was tried and was off by −10 % to +130 %:
/// that average lags by a minute and counts the work that just ended).
pub const ASSUMED_CELL_UPDATES_PER_S: f64 = 1.6e8;

/// Speed-up assumed on two or more threads over one: measured 1.56 on the 10 µm lens grid
/// and 1.54 on the 20 µm one (the two cores share L3 and memory; roofline.md).
pub const ASSUMED_SPEEDUP_2_THREADS: f64 = 1.6;

/// Light travel (µm) of the ring-down per µm of lens diameter: light guided in the pillar
/// layer crosses the aperture slowly. Fitted to the 20 runs of validation/fullwave3d/runs
/// (5, 10, 20 µm; NA 0.9, 0.99; 30–60 px/µm; decay 1e-5): the step estimate was 0.5 µm per
/// µm and 5–33 % short on every lens but one; with 2.0 it is within −14 %..+15 %, mean −1 %.
const RING_UM_PER_DIAMETER_UM: f64 = 2.0;

/// The grid layout of a lens run.
#[derive(Clone, Copy, Debug)]
struct Layout3 {
    nx: usize,
    ny: usize,
    nz: usize,
    dx: f64,
    npml_z: usize,
    npml_xy: usize,
    k_src: usize,
    k_ref: usize,
    k0: usize,
    k_mon: usize,
    /// Index of the node x = 0 (and y = 0).
    centre: usize,
}

fn layout3(p: &LensProblem, s: &FdtdSettings) -> Layout3 {
    let dx = 1.0 / s.resolution;
    let cells = |um: f64| (um / dx).ceil() as usize;
    let npml_z = cells(s.pml_um).max(8);
    let npml_xy = cells(s.lateral_pml_um).max(8);
    let half = cells(0.5 * p.diameter_um + s.lateral_margin_um);
    let (n, centre) = if s.symmetry {
        (half + npml_xy, 0)
    } else {
        (2 * (half + npml_xy), half + npml_xy)
    };
    let k_src = npml_z + 1;
    let k_ref = k_src + 2;
    let k0 = k_ref + cells(0.2).max(4);
    let k_mon = k0 + cells(p.pillar_height_um + s.monitor_height_um);
    let nz = k_mon + cells(0.1).max(3) + npml_z;
    Layout3 {
        nx: n,
        ny: n,
        nz,
        dx,
        npml_z,
        npml_xy,
        k_src,
        k_ref,
        k0,
        k_mon,
        centre,
    }
}

fn omegas(p: &LensProblem, s: &FdtdSettings) -> Vec<f64> {
    let w: Vec<f64> = if s.wavelengths.is_empty() {
        vec![p.wavelength_um]
    } else {
        s.wavelengths.clone()
    };
    w.iter().map(|w| 2.0 * std::f64::consts::PI / w).collect()
}

/// Cells, bytes, steps and seconds of a run (all polarisations), before any allocation.
pub fn estimate(p: &LensProblem, s: &FdtdSettings) -> Result<Estimate> {
    s.validate()?;
    let l = layout3(p, s);
    let cells = l.nx * l.ny * l.nz;
    let plane = l.nx * l.ny;
    let om = omegas(p, s);
    let nf = om.len();
    // fields 24 B/cell; ε maps (≈ 4 distinct planes × 3 components × 4 B) and the off-diagonal
    // maps and pair lists (≈ 3 planes × 2 components × (4 B + 36 B × wall fraction ≈ ¼)), two
    // curl planes for the pair gather per chunk of planes holding pillar planes (≈ 4–5 chunks
    // on 2 threads: 36 B per plane point, counted in the 164); CPML ψ (4 arrays of f32 per
    // axis over its slabs); two monitor planes (4 components × nf × 16 B); set-up temporaries
    // (layer x-y averages: 32 B per plane point per component, freed after).
    let psi =
        16 * (2 * l.npml_z * plane + (1 + usize::from(!s.symmetry)) * 2 * l.npml_xy * l.ny * l.nz);
    let bytes = 24 * cells + 164 * plane + psi + 2 * 64 * nf * plane + 96 * plane;
    let pulse = Pulse::covering(&om, LENS_PULSE_PERIODS);
    let dt = s.courant * l.dx;
    let n_max = p.n_incident.max(p.pillar_index);
    let travel = l.nz as f64 * l.dx * n_max + RING_UM_PER_DIAMETER_UM * p.diameter_um;
    let period = 2.0 * std::f64::consts::PI / om.iter().cloned().fold(f64::MAX, f64::min);
    // ring-down after the pulse, interpolated in the decades of `decay` from the 5 µm NA 0.9
    // lens at 30 px/µm (1890, 3066, 19194 steps to 1e-4, 1e-5, 1e-8: ≈ 26, 55, 448 periods
    // after pulse and transit); the tail slows below 1e-5
    let decades = (1.0 / s.decay).log10();
    let ring = if decades <= 5.0 {
        (26.0 + 29.0 * (decades - 4.0)).max(10.0)
    } else {
        55.0 + 131.0 * (decades - 5.0)
    };
    let steps = ((pulse.end() + travel + ring * period) / dt) as usize;
    let runs = p.polarizations.len().max(1);
    Ok(Estimate {
        cells,
        bytes: bytes as u64,
        steps: steps * runs,
        seconds: cells as f64 * (steps * runs) as f64 / assumed_throughput(),
    })
}

/// Cell-updates per second assumed on rayon's thread count.
fn assumed_throughput() -> f64 {
    if rayon::current_num_threads() >= 2 {
        ASSUMED_CELL_UPDATES_PER_S * ASSUMED_SPEEDUP_2_THREADS
    } else {
        ASSUMED_CELL_UPDATES_PER_S
    }
}

/// Results of a lens run.
#[derive(Clone, Debug)]
pub struct LensSolution {
    /// One plane per (wavelength, polarisation), wavelength-major.
    pub planes: Vec<FieldPlane>,
    /// One per polarisation.
    pub facts: Vec<RunFacts>,
    pub estimate: Estimate,
    /// Transmitted flux through the monitor plane and reflected flux through the plane below
    /// the lens, per plane, in units |E_inc|²·µm²/η0 (the incident power on the aperture is
    /// ½ n_inc π R²).
    pub transmitted_flux: Vec<f64>,
    pub reflected_flux: Vec<f64>,
    pub incident_power: f64,
    pub resolution: f64,
}

/// Validate the problem and its settings, and refuse a run whose memory estimate exceeds
/// `memory_limit_bytes` (with the estimate and the resolution that would fit); the estimate
/// otherwise. Cheap: call it before announcing a run.
pub fn check_fits(p: &LensProblem, s: &FdtdSettings) -> Result<Estimate> {
    p.validate(s)?;
    let est = estimate(p, s)?;
    if est.bytes > s.memory_limit_bytes {
        let scale = (s.memory_limit_bytes as f64 / est.bytes as f64).cbrt();
        return Err(Error::invalid(
            "memory",
            format!(
                "estimate {:.2} GB for {} cells",
                est.bytes as f64 / 1e9,
                est.cells
            ),
            format!(
                "exceeds the limit {:.2} GB: lower the resolution to ≤ {:.1} px/µm{}",
                s.memory_limit_bytes as f64 / 1e9,
                s.resolution * scale * 0.98,
                if s.symmetry {
                    ""
                } else {
                    " or use the mirror symmetry"
                }
            ),
        ));
    }
    Ok(est)
}

/// Solve the lens for every requested polarisation and wavelength.
pub fn solve_lens(
    p: &LensProblem,
    s: &FdtdSettings,
    progress: &dyn Fn(f64),
) -> Result<LensSolution> {
    solve_lens_with(p, s, Kernel::default(), progress)
}

/// [`solve_lens`] stepped by a chosen kernel ([`Kernel::Reference`] only to compare kernels:
/// tests and benches).
pub fn solve_lens_with(
    p: &LensProblem,
    s: &FdtdSettings,
    kernel: Kernel,
    progress: &dyn Fn(f64),
) -> Result<LensSolution> {
    let est = check_fits(p, s)?;
    let l = layout3(p, s);
    let om = omegas(p, s);
    let pulse = Pulse::covering(&om, LENS_PULSE_PERIODS);
    let (geom, n_sub, n_exit) = lens_geometry(p, s, &l, pulse.omega0);
    let perm = material::build(&geom, &frame(&l), s.subpixel);
    // monitor region: inside the lateral CPML
    let (i0, i1) = if s.symmetry {
        (0, l.nx - l.npml_xy)
    } else {
        (l.npml_xy, l.nx - l.npml_xy)
    };
    let runs = p.polarizations.len();
    let mut planes_by_pol = Vec::new();
    let mut facts = Vec::new();
    let mut tflux = Vec::new();
    let mut rflux = Vec::new();
    for (ri, &pol) in p.polarizations.iter().enumerate() {
        let (mut g, sheet) = grid_of(s, &l, &om, pulse, (n_sub, n_exit), perm.clone(), pol);
        g.kernel = kernel;
        let comp = sheet.comp;
        let inc = normalisation_run(
            l.nz,
            l.dx,
            s.courant,
            (n_sub * n_sub, 1.0),
            (l.npml_z, l.npml_z),
            &sheet,
            &[l.k0, l.k_ref],
            &om,
            s.decay,
        )?;
        let mut mons = vec![
            Monitor::new(l.k_ref, (i0, i1), (i0, i1), om.len()),
            Monitor::new(l.k_mon, (i0, i1), (i0, i1), om.len()),
        ];
        let f = run(&mut g, &sheet, &mut mons, &om, s.decay, 10_000_000, &|x| {
            progress((ri as f64 + x) / runs as f64)
        })?;
        let mut per_w = Vec::new();
        for (fi, &w) in om.iter().enumerate() {
            let (e0, _) = inc[fi][0];
            let (er, hr) = inc[fi][1];
            let p_inc_disc = if comp == 0 {
                0.5 * (er * hr.conj()).re
            } else {
                -0.5 * (er * hr.conj()).re
            } / e0.norm_sqr();
            let mon = MonitorFrame {
                s,
                l: &l,
                comp,
                width: mons[1].width(),
                i0,
                norm: Norm {
                    e0,
                    h_scale: 0.5 * p.n_incident / p_inc_disc,
                },
            };
            tflux.push(mon.flux(&mons[1].dft[fi], None));
            rflux.push(-mon.flux(&mons[0].dft[fi], Some((er, hr))));
            let (ex, ey, hx, hy) = mon.at_nodes(&mons[1].dft[fi]);
            per_w.push(FieldPlane {
                m: mon.m(),
                dx: l.dx,
                wavelength_um: 2.0 * std::f64::consts::PI / w,
                n_medium: p.n_exit,
                z_um: (l.k_mon - l.k0) as f64 * l.dx - p.pillar_height_um,
                polarization: pol,
                ex,
                ey,
                h: Some((hx, hy)),
            });
        }
        planes_by_pol.push(per_w);
        facts.push(f);
    }
    // wavelength-major ordering
    let mut planes = Vec::new();
    let mut tf = Vec::new();
    let mut rf = Vec::new();
    for fi in 0..om.len() {
        for (ri, pp) in planes_by_pol.iter().enumerate() {
            planes.push(pp[fi].clone());
            tf.push(tflux[ri * om.len() + fi]);
            rf.push(rflux[ri * om.len() + fi]);
        }
    }
    let rr = 0.5 * p.diameter_um;
    Ok(LensSolution {
        planes,
        facts,
        estimate: est,
        transmitted_flux: tf,
        reflected_flux: rf,
        incident_power: 0.5 * p.n_incident * std::f64::consts::PI * rr * rr,
        resolution: s.resolution,
    })
}

/// The grid frame of a lens layout: the lens axis on the node `centre`, z = 0 on plane k0.
fn frame(l: &Layout3) -> Frame {
    Frame {
        nx: l.nx,
        ny: l.ny,
        nz: l.nz,
        dx: l.dx,
        origin: [
            -(l.centre as f64) * l.dx,
            -(l.centre as f64) * l.dx,
            -(l.k0 as f64) * l.dx,
        ],
    }
}

/// The grid (fields zero) and sheet source of one polarisation.
fn grid_of(
    s: &FdtdSettings,
    l: &Layout3,
    om: &[f64],
    pulse: Pulse,
    (n_sub, n_exit): (f64, f64),
    perm: super::grid::Permittivity,
    pol: Polarization,
) -> (Grid, Sheet) {
    let comp = if pol == Polarization::X { 0 } else { 1 };
    let pz = pml_params(n_sub.min(n_exit), 1.0, om);
    let pxy = pml_params(n_exit, 2.0, om);
    let g = Grid::new(lens_axes(s, l, comp), l.dx, s.courant, perm, [pxy, pxy, pz]);
    let sheet = Sheet {
        comp,
        k: l.k_src,
        pulse,
    };
    (g, sheet)
}

/// The grid (fields zero, default kernel) and sheet source that [`solve_lens`] steps for one
/// polarisation, for the kernel benches and tests; the problem is checked as by [`check_fits`].
pub fn lens_grid(p: &LensProblem, s: &FdtdSettings, pol: Polarization) -> Result<(Grid, Sheet)> {
    check_fits(p, s)?;
    let l = layout3(p, s);
    let om = omegas(p, s);
    let pulse = Pulse::covering(&om, LENS_PULSE_PERIODS);
    let (geom, n_sub, n_exit) = lens_geometry(p, s, &l, pulse.omega0);
    let perm = material::build(&geom, &frame(&l), s.subpixel);
    Ok(grid_of(s, &l, &om, pulse, (n_sub, n_exit), perm, pol))
}

/// The structure on the grid: substrate, the pillars (with symmetry only those reaching into
/// the quarter), the exit medium and the aperture screen; with the grid indices of substrate
/// and exit medium (dispersion-corrected when the settings ask).
fn lens_geometry(
    p: &LensProblem,
    s: &FdtdSettings,
    l: &Layout3,
    omega0: f64,
) -> (Geometry, f64, f64) {
    let dt = s.courant * l.dx;
    let grid_index = |n: f64| {
        if s.dispersion_correction {
            dispersion_corrected_index(n, omega0, l.dx, dt)
        } else {
            n
        }
    };
    let (n_sub, n_exit, n_pil) = (
        grid_index(p.n_incident),
        grid_index(p.n_exit),
        grid_index(p.pillar_index),
    );
    let shapes: Vec<(Shape, f64)> = p
        .centers
        .iter()
        .zip(&p.radii)
        .filter(|(c, r)| {
            // with symmetry only the pillars reaching into the quarter matter
            !s.symmetry || (c[0] + **r >= -l.dx && c[1] + **r >= -l.dx)
        })
        .map(|(c, r)| {
            (
                Shape::Circle {
                    center: *c,
                    radius: *r,
                },
                n_pil * n_pil,
            )
        })
        .collect();
    let geom = Geometry {
        eps_substrate: n_sub * n_sub,
        layers: vec![LayerGeom {
            z0: 0.0,
            z1: p.pillar_height_um,
            eps_background: n_exit * n_exit,
            shapes,
        }],
        eps_exit: n_exit * n_exit,
        period: None,
        screen_radius: match p.aperture {
            Aperture::Opaque => Some(0.5 * p.diameter_um),
            Aperture::Bare => None,
        },
    };
    (geom, n_sub, n_exit)
}

/// Boundaries of the grid for the polarisation `comp` (0 x, 1 y): CPML on every open side;
/// with symmetry the planes x = 0 and y = 0 are PEC or PMC (x-polarised: Ey = Ez = 0 on
/// x = 0, tangential H = 0 on y = 0; y-polarised the other way round).
fn lens_axes(s: &FdtdSettings, l: &Layout3, comp: usize) -> [Axis; 3] {
    let (lo_x, lo_y) = if !s.symmetry {
        (Side::Pml(l.npml_xy), Side::Pml(l.npml_xy))
    } else if comp == 0 {
        (Side::Pec, Side::Pmc)
    } else {
        (Side::Pmc, Side::Pec)
    };
    [
        Axis {
            n: l.nx,
            lo: lo_x,
            hi: Side::Pml(l.npml_xy),
        },
        Axis {
            n: l.ny,
            lo: lo_y,
            hi: Side::Pml(l.npml_xy),
        },
        Axis {
            n: l.nz,
            lo: Side::Pml(l.npml_z),
            hi: Side::Pml(l.npml_z),
        },
    ]
}

/// The incident wave's amplitude at z = 0 and the factor that makes the discrete incident
/// flux ½ n_inc per unit area.
struct Norm {
    e0: C64,
    h_scale: f64,
}

/// One monitor plane's DFT (components Ex, Ey, Hx, Hy over the monitor's window) read as the
/// whole plane: its flux, and its fields at the nodes of the centred m × m grid.
struct MonitorFrame<'a> {
    s: &'a FdtdSettings,
    l: &'a Layout3,
    comp: usize,
    width: usize,
    i0: usize,
    norm: Norm,
}

impl MonitorFrame<'_> {
    /// Half the side of the centred node grid.
    fn m_half(&self) -> usize {
        if self.s.symmetry {
            self.l.nx - self.l.npml_xy - 1
        } else {
            self.l.centre - self.l.npml_xy - 1
        }
    }

    fn m(&self) -> usize {
        2 * self.m_half()
    }

    /// Full-plane flux (quarter × 4 with symmetry), discrete pairing E(k), H(k+½), after
    /// subtracting the incident wave `sub` (E, H of the sheet's component) when given.
    fn flux(&self, dd: &[Vec<C64>; 4], sub: Option<(C64, C64)>) -> f64 {
        let (s, comp, wdt) = (self.s, self.comp, self.width);
        let mut acc = 0.0;
        #[allow(clippy::needless_range_loop)]
        for idx in 0..dd[0].len() {
            let (mut ex, mut ey, mut hx, mut hy) = (dd[0][idx], dd[1][idx], dd[2][idx], dd[3][idx]);
            if let Some((e, h)) = sub {
                if comp == 0 {
                    ex -= e;
                    hy -= h;
                } else {
                    ey -= e;
                    hx -= h;
                }
            }
            // on a mirror plane the nodes lying in it count half
            let (ii, jj) = (idx % wdt, idx / wdt);
            let wy = if s.symmetry && jj == 0 { 0.5 } else { 1.0 };
            let wx = if s.symmetry && ii == 0 { 0.5 } else { 1.0 };
            acc += 0.5 * (wy * ex * hy.conj() - wx * ey * hx.conj()).re;
        }
        acc * self.l.dx * self.l.dx * if s.symmetry { 4.0 } else { 1.0 } / self.norm.e0.norm_sqr()
            * self.norm.h_scale
    }

    /// Component c (0 Ex, 1 Ey, 2 Hx, 3 Hy) at its Yee position of grid offset (a, b) from the
    /// lens axis; with symmetry the mirror image supplies the other quadrants.
    fn get(&self, d: &[Vec<C64>; 4], c: usize, a: i64, b: i64) -> C64 {
        // half position along x for Ex, Hy; along y for Ey, Hx
        let hx_half = c == 0 || c == 3;
        let even = (c == 0 || c == 3) == (self.comp == 0);
        let (mut a, mut b, mut sign) = (a, b, 1.0);
        if self.s.symmetry {
            if a < 0 {
                a = if hx_half { -a - 1 } else { -a };
                if !even {
                    sign = -sign;
                }
            }
            if b < 0 {
                b = if hx_half { -b } else { -b - 1 };
                if !even {
                    sign = -sign;
                }
            }
        }
        let wdt = self.width as i64;
        let ii = a + self.l.centre as i64 - self.i0 as i64;
        let jj = b + self.l.centre as i64 - self.i0 as i64;
        if ii < 0 || jj < 0 || ii >= wdt || jj >= wdt {
            return C64::new(0.0, 0.0);
        }
        d[c][jj as usize * self.width + ii as usize] * sign
    }

    /// Ex, Ey, Hx, Hy interpolated to the nodes x = i dx, y = j dx of the centred m × m grid,
    /// E in units of the incident amplitude, H scaled as the flux.
    #[allow(clippy::type_complexity)]
    fn at_nodes(&self, d: &[Vec<C64>; 4]) -> (Vec<C64>, Vec<C64>, Vec<C64>, Vec<C64>) {
        let (m, m_half) = (self.m(), self.m_half() as i64);
        let (e0, hs) = (self.norm.e0, self.norm.h_scale);
        let n = m * m;
        let mut ex = vec![C64::new(0.0, 0.0); n];
        let mut ey = ex.clone();
        let mut hx = ex.clone();
        let mut hy = ex.clone();
        for jy in 0..m {
            let b = jy as i64 - m_half;
            for ix in 0..m {
                let a = ix as i64 - m_half;
                let q = jy * m + ix;
                ex[q] = 0.5 * (self.get(d, 0, a - 1, b) + self.get(d, 0, a, b)) / e0;
                ey[q] = 0.5 * (self.get(d, 1, a, b - 1) + self.get(d, 1, a, b)) / e0;
                hx[q] = 0.5 * (self.get(d, 2, a, b - 1) + self.get(d, 2, a, b)) / e0 * hs;
                hy[q] = 0.5 * (self.get(d, 3, a - 1, b) + self.get(d, 3, a, b)) / e0 * hs;
            }
        }
        (ex, ey, hx, hy)
    }
}
