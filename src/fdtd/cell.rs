//! One periodic unit cell at normal incidence by FDTD: t, r (crate definition, see
//! [`crate::T_DEFINITION`]) and R, T from the fluxes. The validation mode of the solver: the
//! same [`Stack`] the RCWA solves.
//!
//! # Grid
//! The cell must be rectangular (a1 ∥ x, a2 ∥ y); the grid spacing is the pitch divided by
//! round(pitch × resolution), so the period is a whole number of cells (the effective
//! resolution is reported). Along z: CPML | sheet source | reflection monitor | 0.2 µm |
//! z = 0 (substrate top) | layers | monitor height | 0.1 µm | CPML.

use super::grid::{Axis, Grid, Side};
use super::material::{self, Frame, Geometry, LayerGeom, ZProfile};
use super::{
    dispersion_corrected_index, normalisation_run, numerical_k, pml_params, real_index, run,
    FdtdSettings, Monitor, Pulse, RunFacts, Sheet,
};
use crate::cell::{Shape, Stack};
use crate::{Error, Result, C64};

/// Pulse length τ ω0 of a cell run (see [`Pulse::covering`]).
pub const CELL_PULSE_PERIODS: f64 = 20.0;

/// Incident polarisation of a unit-cell run (normal incidence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellPolarization {
    X,
    Y,
}

/// Results at one wavelength.
#[derive(Clone, Debug)]
pub struct CellResult {
    pub wavelength_um: f64,
    /// Zeroth-order co-polarised t and r (crate definition) and the cross-polarised t.
    pub t: C64,
    pub r: C64,
    pub t_cross: C64,
    pub r_cross: C64,
    /// Transmitted and reflected power fractions from the Poynting fluxes.
    pub transmittance: f64,
    pub reflectance: f64,
}

/// A solved cell.
#[derive(Clone, Debug)]
pub struct CellSolution {
    pub results: Vec<CellResult>,
    /// Cells per µm actually used (pitch / whole number of cells).
    pub resolution_effective: f64,
    pub facts: RunFacts,
}

/// Smallest lateral feature or gap (µm) of the patterned layers, pillars' periodic images
/// included (bounding circles: exact for circles, conservative for other shapes).
pub fn smallest_feature(shapes: &[(Shape, f64)], period: Option<[f64; 2]>) -> f64 {
    let mut best = f64::INFINITY;
    for (s, _) in shapes {
        let f = match s {
            Shape::Circle { radius, .. } => 2.0 * radius,
            Shape::Ellipse { semi_axes, .. } => 2.0 * semi_axes[0].min(semi_axes[1]),
            Shape::Rectangle { size, .. } => size[0].min(size[1]),
        };
        best = best.min(f);
    }
    let images: Vec<(f64, f64, f64)> = match period {
        Some(p) => shapes
            .iter()
            .flat_map(|(s, _)| {
                let c = s.center();
                let r = s.bounding_radius();
                (-1..=1).flat_map(move |a| {
                    (-1..=1).map(move |b| (c[0] + a as f64 * p[0], c[1] + b as f64 * p[1], r))
                })
            })
            .collect(),
        None => shapes
            .iter()
            .map(|(s, _)| (s.center()[0], s.center()[1], s.bounding_radius()))
            .collect(),
    };
    for (n, (s, _)) in shapes.iter().enumerate() {
        let c = s.center();
        let r = s.bounding_radius();
        for (m, &(x, y, q)) in images.iter().enumerate() {
            let same = period.map_or(m == n, |_| m / 9 == n && m % 9 == 4);
            if same {
                continue;
            }
            best = best.min((x - c[0]).hypot(y - c[1]) - r - q);
        }
    }
    best
}

/// Refuse a grid whose cells are more than twice the smallest gap or feature: sub-pixel
/// averaging resolves sub-cell features, but below half a cell neighbouring interfaces share
/// one voxel and the averaging is no longer first-principles.
pub fn check_resolution(feature_um: f64, resolution: f64, what: &str) -> Result<()> {
    let needed = 1.0 / (2.0 * feature_um);
    if feature_um <= 0.0 {
        return Err(Error::invalid(
            "geometry",
            format!("{what} {feature_um:.4} µm"),
            "pillars overlap or touch (gap ≤ 0)",
        ));
    }
    if resolution < needed * (1.0 - 1e-9) {
        return Err(Error::invalid(
            "resolution",
            format!("{resolution} px/µm"),
            format!(
                "too coarse for the {what} of {feature_um:.4} µm: needs ≥ {needed:.1} px/µm (half a cell across it)"
            ),
        ));
    }
    Ok(())
}

/// Solve one cell at normal incidence.
pub fn solve_cell(
    stack: &Stack,
    wavelength_um: f64,
    pol: CellPolarization,
    settings: &FdtdSettings,
) -> Result<CellSolution> {
    settings.validate()?;
    stack.validate()?;
    crate::error::check_positive("wavelength", wavelength_um, "µm")?;
    let (px, py, dx, nxc, nyc) = cell_grid(stack, settings)?;
    let wls: Vec<f64> = if settings.wavelengths.is_empty() {
        vec![wavelength_um]
    } else {
        settings.wavelengths.clone()
    };
    let omegas: Vec<f64> = wls.iter().map(|w| 2.0 * std::f64::consts::PI / w).collect();
    let pulse = Pulse::covering(&omegas, CELL_PULSE_PERIODS);
    let dt = settings.courant * dx;
    let (geom, profile, z_top) = cell_geometry(
        stack,
        wavelength_um,
        settings,
        (pulse.omega0, dx, dt),
        [px, py],
    )?;
    // z layout
    let cells = |um: f64| (um / dx).ceil() as usize;
    let npml = cells(settings.pml_um).max(8);
    let k_src = npml + 1;
    let k_ref = k_src + 2;
    let k0 = k_ref + cells(0.2).max(4);
    let k_mon = k0 + cells(z_top + settings.monitor_height_um);
    let nz = k_mon + cells(0.1).max(3) + npml;
    let frame = Frame {
        nx: nxc,
        ny: nyc,
        nz,
        dx,
        origin: [-0.5 * px, -0.5 * py, -(k0 as f64) * dx],
    };
    let mut perm = material::build(&geom, &frame, settings.subpixel);
    // (ε, μ) of substrate and exit medium as the grid holds them
    let (sub, exit) = if settings.dispersion_correction {
        material::exact_planar(&profile, &frame, pulse.omega0, dt, &mut perm);
        (
            material::exact_planar_medium(profile.n_substrate, pulse.omega0, dx, dt),
            material::exact_planar_medium(profile.n_exit, pulse.omega0, dx, dt),
        )
    } else {
        ((geom.eps_substrate, 1.0), (geom.eps_exit, 1.0))
    };
    let ax = [
        Axis::periodic(nxc),
        Axis::periodic(nyc),
        Axis {
            n: nz,
            lo: Side::Pml(npml),
            hi: Side::Pml(npml),
        },
    ];
    // the index that sets each half-space's numerical wavenumber: √(εμ)
    let n_sub = (sub.0 * sub.1).sqrt();
    let n_exit = (exit.0 * exit.1).sqrt();
    let pz = pml_params(n_sub.min(n_exit), 1.0, &omegas);
    let mut g = Grid::new(ax, dx, settings.courant, perm, [pz, pz, pz]);
    let comp = match pol {
        CellPolarization::X => 0,
        CellPolarization::Y => 1,
    };
    let sheet = Sheet {
        comp,
        k: k_src,
        pulse,
    };
    let inc = normalisation_run(
        nz,
        dx,
        settings.courant,
        sub,
        (npml, npml),
        &sheet,
        &[k0, k_ref],
        &omegas,
        settings.decay,
    )?;
    let mut mons = vec![
        Monitor::new(k_ref, (0, nxc), (0, nyc), omegas.len()),
        Monitor::new(k_mon, (0, nxc), (0, nyc), omegas.len()),
    ];
    let max_steps = 200_000;
    let facts = run(
        &mut g,
        &sheet,
        &mut mons,
        &omegas,
        settings.decay,
        max_steps,
        &|_| {},
    )?;
    let npts = (nxc * nyc) as f64;
    let mean = |v: &[C64]| v.iter().sum::<C64>() / npts;
    let (co, cross) = if comp == 0 { (0, 1) } else { (1, 0) };
    let flux = |ex: &[C64], ey: &[C64], hx: &[C64], hy: &[C64]| -> f64 {
        (0..ex.len())
            .map(|i| 0.5 * (ex[i] * hy[i].conj() - ey[i] * hx[i].conj()).re)
            .sum::<f64>()
            / npts
    };
    let mut results = Vec::new();
    for (f, &w) in omegas.iter().enumerate() {
        let (e0, _) = inc[f][0];
        let (er, hr) = inc[f][1];
        // incident flux per unit area at the reflection plane (same pairing as the 3-D flux)
        let p_inc = if comp == 0 {
            0.5 * (er * hr.conj()).re
        } else {
            -0.5 * (er * hr.conj()).re
        };
        let top = &mons[1].dft[f];
        let bot = &mons[0].dft[f];
        let kt = numerical_k(w, n_exit, dx, g.dt);
        let ks = numerical_k(w, n_sub, dx, g.dt);
        let z_mon = (k_mon - k0) as f64 * dx - z_top;
        let z_ref = (k_ref as f64 - k0 as f64) * dx;
        let back = C64::from_polar(1.0, -kt * z_mon);
        let t = mean(&top[co]) * back / e0;
        let t_cross = mean(&top[cross]) * back / e0;
        let fwd = C64::from_polar(1.0, ks * z_ref);
        let r = (mean(&bot[co]) - er) * fwd / e0;
        let r_cross = mean(&bot[cross]) * fwd / e0;
        let transmittance = flux(&top[0], &top[1], &top[2], &top[3]) / p_inc;
        // reflected fields: 3-D minus incident
        let mut d = bot.clone();
        let hco = if comp == 0 { 3 } else { 2 };
        d[co].iter_mut().for_each(|v| *v -= er);
        d[hco].iter_mut().for_each(|v| *v -= hr);
        let reflectance = -flux(&d[0], &d[1], &d[2], &d[3]) / p_inc;
        results.push(CellResult {
            wavelength_um: 2.0 * std::f64::consts::PI / w,
            t,
            r,
            t_cross,
            r_cross,
            transmittance,
            reflectance,
        });
    }
    Ok(CellSolution {
        results,
        resolution_effective: 1.0 / dx,
        facts,
    })
}

/// The grid of a cell: periods (px, py), cubic cell dx = px / round(px · resolution), cells
/// along x and y; refuses a hex lattice and periods not commensurate with one cubic cell.
fn cell_grid(stack: &Stack, settings: &FdtdSettings) -> Result<(f64, f64, f64, usize, usize)> {
    let l = &stack.lattice;
    if l.a1[1].abs() > 1e-12 || l.a2[0].abs() > 1e-12 {
        return Err(Error::invalid(
            "lattice",
            format!("a1 = {:?}, a2 = {:?}", l.a1, l.a2),
            "the FDTD cell takes square or rectangular lattices only (a1 ∥ x, a2 ∥ y); use --solver rcwa for hex",
        ));
    }
    let (px, py) = (l.a1[0].abs(), l.a2[1].abs());
    let nxc = (px * settings.resolution).round().max(1.0) as usize;
    let dx = px / nxc as f64;
    let nyf = py / dx;
    let nyc = nyf.round() as usize;
    if (nyf - nyc as f64).abs() > 1e-6 * nyf || nyc == 0 {
        return Err(Error::invalid(
            "lattice",
            format!("{px} × {py} µm"),
            "the periods along x and y must be commensurate with one cubic grid cell",
        ));
    }
    Ok((px, py, dx, nxc, nyc))
}

/// The layers of the stack as the grid sees them (media at `wavelength_um`), checked against
/// the resolution, with their true indices along z and the height of the top of the layers.
/// `omega_c`, `dx`, `dt`: the pulse's centre frequency and the grid's steps. With the settings'
/// dispersion correction the indices of patterned layers are scaled for the exact axial
/// wavenumber at the pulse's centre ([`dispersion_corrected_index`]), and the
/// laterally uniform media take the ε of [`material::exact_planar_medium`] (their μ and the
/// planes between them are set by [`material::exact_planar`] once the grid is built).
fn cell_geometry(
    stack: &Stack,
    wavelength_um: f64,
    settings: &FdtdSettings,
    (omega_c, dx, dt): (f64, f64, f64),
    period: [f64; 2],
) -> Result<(Geometry, ZProfile, f64)> {
    let index = |m: &crate::material::Material, what: &str| -> Result<f64> {
        real_index(what, m.index(wavelength_um)?)
    };
    // ε of a medium in a patterned layer / of a laterally uniform one
    let eps_patterned = |n: f64| {
        let n = if settings.dispersion_correction {
            dispersion_corrected_index(n, omega_c, dx, dt)
        } else {
            n
        };
        n * n
    };
    let eps_uniform = |n: f64| {
        if settings.dispersion_correction {
            material::exact_planar_medium(n, omega_c, dx, dt).0
        } else {
            n * n
        }
    };
    let n_sub = index(&stack.incidence, "incidence index")?;
    let n_exit = index(&stack.exit, "exit index")?;
    let mut layers = Vec::new();
    let mut z_layers = Vec::new();
    let mut z = 0.0;
    let mut all_shapes = Vec::new();
    for layer in &stack.layers {
        let mut shapes = Vec::new();
        for (s, m) in &layer.shapes {
            shapes.push((s.clone(), eps_patterned(index(m, "pillar index")?)));
        }
        if layer.thickness > 0.0 {
            check_resolution(layer.thickness, settings.resolution, "layer thickness")?;
        }
        let n_bg = index(&layer.background, "layer background index")?;
        let uniform = shapes.is_empty();
        all_shapes.extend(shapes.iter().cloned());
        z_layers.push((z, z + layer.thickness, uniform.then_some(n_bg)));
        layers.push(LayerGeom {
            z0: z,
            z1: z + layer.thickness,
            eps_background: if uniform {
                eps_uniform(n_bg)
            } else {
                eps_patterned(n_bg)
            },
            shapes,
        });
        z += layer.thickness;
    }
    if !all_shapes.is_empty() {
        let feat = smallest_feature(&all_shapes, Some(period));
        check_resolution(feat, 1.0 / dx, "smallest gap or feature")?;
    }
    let geom = Geometry {
        eps_substrate: eps_uniform(n_sub),
        layers,
        eps_exit: eps_uniform(n_exit),
        period: Some(period),
        screen_radius: None,
    };
    let profile = ZProfile {
        n_substrate: n_sub,
        layers: z_layers,
        n_exit,
    };
    Ok((geom, profile, z))
}
