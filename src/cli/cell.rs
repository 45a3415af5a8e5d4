//! `metalens cell`: solve one periodic unit cell and print t, r and the diffraction orders.

use crate::cell::{Incidence, LatticeKind, PillarCell, Polarization, Stack};
use crate::io::material_file::resolve_material;
use crate::rcwa::{self, Factorization, Settings};
use crate::{Error, Result, C64};
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `metalens cell`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Vacuum wavelength (µm); the design files' default.
    #[arg(long, default_value_t = crate::io::design::DEFAULT_WAVELENGTH, allow_negative_numbers = true)]
    pub wavelength: f64,
    /// Lattice period (µm); the design files' default library pitch.
    #[arg(long, default_value_t = crate::io::design::DEFAULT_PITCH, allow_negative_numbers = true)]
    pub pitch: f64,
    /// Pillar radius (µm); 0 for an empty cell.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub radius: f64,
    /// Pillar height (µm); the design files' default.
    #[arg(long, default_value_t = crate::io::design::DEFAULT_HEIGHT, allow_negative_numbers = true)]
    pub height: f64,
    /// Pillar material: complex index (2.74+0.01i), preset (srn, sio2) or n,k file.
    #[arg(long, default_value = "srn")]
    pub pillar_index: String,
    /// Medium the light comes from (the substrate); the design files' default.
    #[arg(long, default_value = "sio2")]
    pub incidence_index: String,
    /// Medium above the pillars (and around them); the design files' default (air).
    #[arg(long, default_value = "air")]
    pub exit_index: String,
    #[arg(long, value_parser = super::values::lattice(), default_value = "square")]
    pub lattice: LatticeKind,
    /// Approximate total number of Fourier harmonics kept (one cell: 400 for accuracy; a
    /// design's library sweep defaults to 250, see validation/rcwa/).
    #[arg(long, default_value_t = rcwa::DEFAULT_HARMONICS)]
    pub harmonics: usize,
    /// Polar angle of incidence in the incidence medium (degrees).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub theta_deg: f64,
    /// Azimuth of the plane of incidence from +x (degrees).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub phi_deg: f64,
    /// x, y, s, p, or a Jones vector "Ex,Ey" (tangential components).
    #[arg(long, default_value = "x")]
    pub polarization: String,
    /// Fourier factorisation (normal-vector is the default; laurent for comparison).
    #[arg(long, value_parser = super::values::factorization(), default_value = "normal-vector")]
    pub factorization: Factorization,
    /// Any other structure: a TOML cell file (lattice, media, layers); replaces the pillar flags.
    #[arg(long)]
    pub cell: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Solver: rcwa (Fourier modal, the default) or fdtd (3-D FDTD, normal incidence, x or y
    /// polarisation, square or rectangular lattice).
    #[arg(long, value_enum, default_value_t = Solver::Rcwa)]
    pub solver: Solver,
    /// FDTD grid resolution (cells per µm); the default keeps a cell within 1.5° of converged RCWA.
    #[arg(long, default_value_t = crate::fdtd::CELL_RESOLUTION, allow_negative_numbers = true)]
    pub resolution: f64,
    /// FDTD: no dispersion correction (by default a cell's substrate, uniform layers and exit
    /// medium are discretised exactly at the centre frequency and the pillar layer's indices are
    /// scaled for the exact axial wavenumber; see `fdtd::material::exact_planar`). For comparisons.
    #[arg(long = "no-dispersion-correction")]
    pub no_dispersion_correction: bool,
}

/// Unit-cell solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Solver {
    Rcwa,
    Fdtd,
}

fn c(z: C64) -> serde_json::Value {
    json!({"re": z.re, "im": z.im})
}

/// Build the stack, incidence and settings from the arguments.
pub fn setup(a: &Args) -> Result<(Stack, Incidence, Settings)> {
    let settings = |h: usize| Settings {
        harmonics: h,
        factorization: a.factorization,
    };
    if let Some(path) = &a.cell {
        let f = crate::io::cell_file::load_cell_file(path)?;
        let h = f.harmonics.unwrap_or(a.harmonics);
        return Ok((f.stack, f.incidence, settings(h)));
    }
    for (name, v) in [("theta", a.theta_deg), ("phi", a.phi_deg)] {
        if !v.is_finite() {
            return Err(Error::invalid(name, v, "must be finite (degrees)"));
        }
    }
    let polarization: Polarization = a.polarization.parse()?;
    let cell = PillarCell {
        lattice: a.lattice,
        pitch: a.pitch,
        radius: a.radius,
        height: a.height,
        pillar: resolve_material(&a.pillar_index)?,
        incidence: resolve_material(&a.incidence_index)?,
        exit: resolve_material(&a.exit_index)?,
    };
    let incidence = Incidence {
        wavelength: a.wavelength,
        theta: a.theta_deg.to_radians(),
        phi: a.phi_deg.to_radians(),
        polarization,
    };
    incidence.validate()?;
    let stack = cell.stack()?;
    Ok((stack, incidence, settings(a.harmonics)))
}

/// Run `metalens cell`.
pub fn run(a: Args) -> Result<()> {
    let (stack, incidence, settings) = setup(&a)?;
    if a.solver == Solver::Fdtd {
        return run_fdtd(&a, &stack, &incidence);
    }
    if a.no_dispersion_correction {
        return Err(Error::invalid(
            "--no-dispersion-correction",
            "with --solver rcwa",
            "is an option of --solver fdtd (the RCWA has no grid dispersion)",
        ));
    }
    // a solve beyond the machine is refused with its estimate, not left to the allocator
    crate::io::budget::check_cell(settings.harmonics)?;
    let start = std::time::Instant::now();
    let sol = rcwa::solve(&stack, &incidence, &settings)?;
    crate::io::guard::check_interrupt(|| "nothing to save (one cell)".into())?;
    let seconds = start.elapsed().as_secs_f64();
    let n_inc = stack.incidence.index(incidence.wavelength)?;
    let n_exit = stack.exit.index(incidence.wavelength)?;
    if a.json {
        let orders: Vec<_> = sol
            .orders
            .iter()
            .map(|o| json!({"m": o.m, "n": o.n, "kx": o.kx, "ky": o.ky, "T": o.t, "R": o.r}))
            .collect();
        let out = json!({
            "t": c(sol.t), "r": c(sol.r), "t_cross": c(sol.t_cross), "r_cross": c(sol.r_cross),
            "t_abs": sol.t.norm(), "t_phase_rad": sol.t.arg(),
            "jones_t": sol.jones_t.iter().map(|row| row.iter().map(|z| c(*z)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "jones_r": sol.jones_r.iter().map(|row| row.iter().map(|z| c(*z)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "jones_basis": match incidence.polarization { Polarization::S | Polarization::P => "s,p", _ => "x,y (tangential components)" },
            "transmittance": sol.transmittance, "reflectance": sol.reflectance,
            "energy_balance": sol.transmittance + sol.reflectance,
            "harmonics": sol.harmonics,
            "factorization": format!("{:?}", settings.factorization),
            "orders": orders,
            "wavelength_um": incidence.wavelength,
            "incidence_index": c(n_inc), "exit_index": c(n_exit),
            "solve_seconds": seconds,
            "timings": sol.timings,
            "conventions": crate::CONVENTIONS,
            "t_definition": crate::T_DEFINITION,
            "version": crate::VERSION,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON of plain numbers")
        );
    } else {
        println!(
            "metalens cell  ({} harmonics, {:?}, {:.3} s)",
            sol.harmonics, settings.factorization, seconds
        );
        println!("{}", coefficient_line("t", sol.t));
        println!("{}", coefficient_line("r", sol.r));
        println!("  t_cross  = {:.3e}", sol.t_cross.norm());
        println!(
            "  T = {:.6}  R = {:.6}  R+T = {:.9}",
            sol.transmittance,
            sol.reflectance,
            sol.transmittance + sol.reflectance
        );
        println!("  orders (m, n): T, R");
        for o in sol.orders.iter().filter(|o| o.t > 1e-6 || o.r > 1e-6) {
            println!("    ({:3}, {:3}): {:.6}  {:.6}", o.m, o.n, o.t, o.r);
        }
        println!("  t: {}", crate::T_DEFINITION);
    }
    Ok(())
}

/// `metalens cell --solver fdtd`: the same JSON fields as the RCWA path where they exist.
fn run_fdtd(
    a: &Args,
    stack: &crate::cell::Stack,
    incidence: &crate::cell::Incidence,
) -> Result<()> {
    use crate::fdtd::cell::{solve_cell, CellPolarization};
    if incidence.theta != 0.0 {
        return Err(Error::invalid(
            "theta",
            format!("{}°", a.theta_deg),
            "the FDTD cell solves normal incidence only (use --solver rcwa)",
        ));
    }
    let pol = match incidence.polarization {
        Polarization::X | Polarization::S => CellPolarization::X,
        Polarization::Y | Polarization::P => CellPolarization::Y,
        Polarization::Jones(..) => {
            return Err(Error::invalid(
                "polarization",
                &a.polarization,
                "the FDTD cell takes x or y (use --solver rcwa for a Jones vector)",
            ))
        }
    };
    let settings = crate::fdtd::FdtdSettings {
        resolution: a.resolution,
        dispersion_correction: !a.no_dispersion_correction,
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let sol = solve_cell(stack, incidence.wavelength, pol, &settings)?;
    let seconds = start.elapsed().as_secs_f64();
    let res = &sol.results[0];
    let n_inc = stack.incidence.index(incidence.wavelength)?;
    let n_exit = stack.exit.index(incidence.wavelength)?;
    if a.json {
        let out = json!({
            "solver": "fdtd",
            "t": c(res.t), "r": c(res.r), "t_cross": c(res.t_cross), "r_cross": c(res.r_cross),
            "t_abs": res.t.norm(), "t_phase_rad": res.t.arg(),
            "transmittance": res.transmittance, "reflectance": res.reflectance,
            "energy_balance": res.transmittance + res.reflectance,
            "resolution_px_per_um": a.resolution,
            "dispersion_correction": settings.dispersion_correction,
            "resolution_effective_px_per_um": sol.resolution_effective,
            "grid": [sol.facts.nx, sol.facts.ny, sol.facts.nz],
            "steps": sol.facts.steps,
            "cell_updates_per_s": sol.facts.cell_updates_per_s,
            "memory_bytes": sol.facts.bytes,
            "wavelength_um": incidence.wavelength,
            "incidence_index": c(n_inc), "exit_index": c(n_exit),
            "solve_seconds": seconds,
            "conventions": crate::CONVENTIONS,
            "t_definition": crate::T_DEFINITION,
            "version": crate::VERSION,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON of plain numbers")
        );
    } else {
        println!(
            "metalens cell  (FDTD, {:.2} px/µm, grid {}×{}×{}, {} steps, {:.3} s, {:.0} Mcell-updates/s)",
            sol.resolution_effective,
            sol.facts.nx,
            sol.facts.ny,
            sol.facts.nz,
            sol.facts.steps,
            seconds,
            sol.facts.cell_updates_per_s / 1e6
        );
        println!("{}", coefficient_line("t", res.t));
        println!("{}", coefficient_line("r", res.r));
        println!(
            "  T = {:.6}  R = {:.6}  R+T = {:.9}",
            res.transmittance,
            res.reflectance,
            res.transmittance + res.reflectance
        );
        println!("  t: {}", crate::T_DEFINITION);
    }
    Ok(())
}

/// One line of the text output for a complex coefficient: value, modulus and phase (degrees).
fn coefficient_line(name: &str, z: crate::C64) -> String {
    format!(
        "  {name}        = {:+.6} {:+.6}i   |{name}| = {:.6}  arg {name} = {:+.3}°",
        z.re,
        z.im,
        z.norm(),
        z.arg().to_degrees()
    )
}
