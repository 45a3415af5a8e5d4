//! `metalens fullwave LAYOUT.h5`: a laid-out 2-D pillar lens solved full-wave by the built-in
//! 3-D FDTD ([`crate::fdtd`]), its near field propagated by the same vectorial angular
//! spectrum and measured by the same metrics as the local periodic approximation (LPA) of the
//! same layout and the ideal lens of the same NA and size, side by side.
//!
//! JSON contract (`--json`, and `fullwave.json` in the output folder): `fullwave`, `lpa` and
//! `ideal` blocks, each with the fields of `metalens propagate --json`
//! (`efficiency.transmitted_r3`, `fwhm.transverse.x_um`, `transmission_efficiency`, …), for
//! the first polarisation asked; `polarizations` holds the same three blocks for each; then
//! `resolution_px_per_um`, `wall_s`, `peak_memory_bytes` and the FDTD run facts (`fdtd`).

use super::fullwave::Args;
use super::propagate::{document, layout_near_field};
use crate::fdtd::lens::{check_fits, solve_lens, Aperture};
use crate::fdtd::FdtdSettings;
use crate::io::layout_file::LayoutFile;
use crate::io::write_atomic;
use crate::layout::PillarSpec;
use crate::metrics::pipeline::{run_designed, run_field_plane_with_ideal, LensResult, RunOptions};
use crate::nearfield::{Outside, Polarization};
use crate::{Error, Result, C64};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

fn polarizations(s: Option<&str>) -> Result<Vec<Polarization>> {
    match s.unwrap_or("x").to_ascii_lowercase().as_str() {
        "x" => Ok(vec![Polarization::X]),
        "y" => Ok(vec![Polarization::Y]),
        "both" => Ok(vec![Polarization::X, Polarization::Y]),
        other => Err(Error::invalid(
            "--pol",
            format!("'{other}'"),
            "must be x, y or both for a 2-D lens (te/tm are the 1-D supercell's)",
        )),
    }
}

/// The pillar record given on the command line (for layouts written before it was stored),
/// the material evaluated at the layout's wavelength (µm). A layout that records its pillars
/// keeps them: its radii were chosen from a library of exactly those pillars, so other ones
/// given here are refused rather than silently solved.
fn pillar_override(
    args: &Args,
    wavelength: f64,
    recorded: Option<PillarSpec>,
) -> Result<Option<PillarSpec>> {
    match (args.pillar_height_um, &args.pillar_index) {
        (None, None) => Ok(None),
        (Some(height), Some(index)) => {
            crate::error::check_positive("--pillar-height", height, "µm")?;
            let index = crate::io::material_file::resolve_material(index)?.index(wavelength)?;
            if let Some(r) = recorded {
                // the file stores the height and index as written: equal to rounding
                if (r.height - height).abs() > 1e-9 * r.height
                    || (r.index - index).norm() > 1e-9 * r.index.norm()
                {
                    return Err(Error::invalid(
                        "--pillar-height / --pillar-index",
                        format!("{height} µm, n = {index}"),
                        format!(
                            "the layout was designed for pillars {} µm tall of n = {} at λ {wavelength} µm; lay it out again from a library of these pillars instead",
                            r.height, r.index
                        ),
                    ));
                }
            }
            Ok(Some(PillarSpec { height, index }))
        }
        _ => Err(Error::invalid(
            "--pillar-height / --pillar-index",
            "only one given",
            "give both, or neither (then the layout file's record is used)",
        )),
    }
}

/// One polarisation's three results.
pub struct PolResult {
    pub pol: Polarization,
    pub fullwave: LensResult,
    pub ideal: LensResult,
    pub lpa: LensResult,
    pub transmitted_flux: f64,
    pub reflected_flux: f64,
}

/// How a layout is solved full-wave: the FDTD settings, the polarisations, what lies outside
/// the aperture, and the pillars when the layout file does not record them.
pub struct FullwaveOptions {
    pub settings: FdtdSettings,
    pub polarizations: Vec<Polarization>,
    pub outside: Aperture,
    pub pillar: Option<PillarSpec>,
    /// No estimate line and no progress bar.
    pub quiet: bool,
}

impl FullwaveOptions {
    /// The defaults of `metalens fullwave LAYOUT.h5` at a resolution (px/µm).
    pub fn at_resolution(resolution: f64, pol: Polarization) -> Self {
        FullwaveOptions {
            settings: FdtdSettings {
                resolution,
                decay: crate::fdtd::lens::LENS_DECAY,
                dispersion_correction: crate::fdtd::lens::LENS_DISPERSION_CORRECTION,
                ..FdtdSettings::default()
            },
            polarizations: vec![pol],
            outside: Aperture::Opaque,
            pillar: None,
            quiet: false,
        }
    }
}

/// A layout solved full-wave, beside its LPA and the ideal lens.
pub struct FullwaveFocus {
    pub spec: crate::lens::Lens,
    pub results: Vec<PolResult>,
    pub solution: crate::fdtd::lens::LensSolution,
    pub estimate: crate::fdtd::lens::Estimate,
}

/// Solve a layout by the 3-D FDTD and analyse its near field with the same propagation and
/// metrics as its LPA and the ideal lens, for every polarisation asked. Everything is
/// checked (the monitor plane, the memory) before the run; the estimate is printed first.
pub fn fullwave_focus(layout: &LayoutFile, o: &FullwaveOptions) -> Result<FullwaveFocus> {
    let mut problem = layout.lens_problem(o.pillar)?;
    problem.polarizations = o.polarizations.clone();
    problem.aperture = o.outside;
    let settings = &o.settings;
    settings.validate()?;
    let f = problem.spec()?.focal_length_um;
    if settings.monitor_height_um >= f {
        return Err(Error::invalid(
            "--monitor-height",
            format!("{} µm", settings.monitor_height_um),
            format!("must lie between the pillar tops and the focus: in (0, {f:.3}) µm"),
        ));
    }
    let est = check_fits(&problem, settings)?;
    if !o.quiet {
        eprintln!(
            "FDTD: {} pillars, {:.0} px/µm, {} cells ({:.2} GB), {} steps per polarisation, {} polarisation(s); estimated {:.0} s",
            problem.centers.len(),
            settings.resolution,
            est.cells,
            est.bytes as f64 / 1e9,
            est.steps,
            o.polarizations.len(),
            est.seconds
        );
    }
    let show = !o.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = indicatif::ProgressBar::new(1000);
        b.set_style(
            indicatif::ProgressStyle::with_template("FDTD {bar:40} {percent}% [{elapsed} < {eta}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let sol = solve_lens(&problem, settings, &|f| {
        bar.set_position((1000.0 * f.clamp(0.0, 1.0)) as u64)
    })?;
    bar.finish_and_clear();

    let spec = problem.spec()?;
    let lpa_outside = match o.outside {
        Aperture::Opaque => Outside::Opaque,
        // the Fresnel transmission of the bare glass–exit interface at normal incidence
        Aperture::Bare => Outside::Bare(C64::new(
            2.0 * spec.n_incident / (spec.n_incident + spec.n_exit),
            0.0,
        )),
    };
    let mut results = Vec::new();
    for (k, plane) in sol.planes.iter().enumerate() {
        // the design wavelength's planes are analysed (other wavelengths are in the file)
        if (plane.wavelength_um - spec.wavelength_um).abs() > 1e-9 * spec.wavelength_um {
            continue;
        }
        let opts = RunOptions {
            polarization: plane.polarization,
            outside: lpa_outside,
            ..RunOptions::default()
        };
        let (fullwave, ideal) = run_field_plane_with_ideal(plane, &spec, &opts)?;
        let nf = layout_near_field(None, layout, &spec, &opts)?;
        let (lpa, _) = run_designed(&nf, &spec, &opts)?;
        results.push(PolResult {
            pol: plane.polarization,
            fullwave,
            ideal,
            lpa,
            transmitted_flux: sol.transmitted_flux[k],
            reflected_flux: sol.reflected_flux[k],
        });
    }
    if results.is_empty() {
        return Err(Error::numerical(
            "fullwave",
            "the FDTD run returned no near field at the design wavelength",
        ));
    }
    Ok(FullwaveFocus {
        spec,
        results,
        solution: sol,
        estimate: est,
    })
}

/// Run `metalens fullwave` on a layout file.
pub fn run(args: &Args, path: &Path) -> Result<()> {
    let t0 = std::time::Instant::now();
    let pols = polarizations(args.pol.as_deref())?;
    let outside = aperture(&args.outside)?;
    let layout = LayoutFile::load(path)?;
    let o = options_from_args(args, &layout, pols, outside)?;
    let dir = args.out.clone().unwrap_or_else(|| {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "layout".into());
        PathBuf::from(format!("out/fullwave3d-{stem}"))
    });
    let fw = fullwave_focus(&layout, &o)?;
    if let Some(save) = &args.save_near_field {
        save_near_fields(save, &fw, path)?;
    }
    let doc = document_of_run(&fw, &o, path, t0);
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::numerical("fullwave", format!("JSON encoding failed: {e}")))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    write_atomic(&dir.join("fullwave.json"), text.as_bytes())?;
    for r in fw.results.iter() {
        let sub = dir.join(format!("{}-fullwave", r.pol.name()));
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(&sub, e))?;
        crate::plot::focal::write_all(&sub, &fw.spec, &r.fullwave, Some(&r.ideal))?;
        let sub = dir.join(format!("{}-lpa", r.pol.name()));
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(&sub, e))?;
        crate::plot::focal::write_all(&sub, &fw.spec, &r.lpa, Some(&r.ideal))?;
    }
    if args.json {
        println!("{text}");
    } else if !args.quiet {
        print_run(&fw, &dir);
    }
    Ok(())
}

/// `--outside`: opaque or bare.
fn aperture(outside: &str) -> Result<Aperture> {
    match outside {
        "opaque" => Ok(Aperture::Opaque),
        "bare" => Ok(Aperture::Bare),
        other => Err(Error::invalid(
            "--outside",
            format!("'{other}'"),
            "must be opaque or bare",
        )),
    }
}

/// The run's options from the flags (the pillar override checked against the layout's own).
fn options_from_args(
    args: &Args,
    layout: &LayoutFile,
    pols: Vec<Polarization>,
    outside: Aperture,
) -> Result<FullwaveOptions> {
    let pillar = pillar_override(args, layout.lens.wavelength_um, layout.pillar)?;
    let defaults = FullwaveOptions::at_resolution(
        args.resolution.unwrap_or(crate::fdtd::DEFAULT_RESOLUTION),
        Polarization::X,
    );
    Ok(FullwaveOptions {
        settings: FdtdSettings {
            symmetry: !args.no_symmetry,
            monitor_height_um: args
                .monitor_height_um
                .unwrap_or(defaults.settings.monitor_height_um),
            decay: args.decay.unwrap_or(defaults.settings.decay),
            dispersion_correction: args.dispersion_correction
                || defaults.settings.dispersion_correction,
            ..defaults.settings
        },
        polarizations: pols,
        outside,
        pillar,
        quiet: args.quiet,
    })
}

/// `--save-near-field FILE`: the monitor plane of each polarisation at the design wavelength
/// as a near-field file (`FILE` with the polarisation in its extension when there are
/// several).
fn save_near_fields(save: &Path, fw: &FullwaveFocus, layout_path: &Path) -> Result<()> {
    let spec = &fw.spec;
    for plane in &fw.solution.planes {
        if (plane.wavelength_um - spec.wavelength_um).abs() > 1e-9 * spec.wavelength_um {
            continue;
        }
        let file = if fw.results.len() > 1 {
            save.with_extension(format!("{}.h5", plane.polarization.name()))
        } else {
            save.to_path_buf()
        };
        crate::io::nearfield_file::NearFieldFile::from_plane(
            plane,
            spec.n_incident,
            Some(crate::io::nearfield_file::LensInfo {
                numerical_aperture: spec.na,
                diameter_um: spec.diameter_um,
            }),
            &format!("metalens fullwave {} (3-D FDTD)", layout_path.display()),
        )
        .write(&file)?;
    }
    Ok(())
}

/// `fullwave.json`: the three lenses per polarisation (the first also at the top level), the
/// FDTD estimate, runs and settings, wall time since `t0`.
fn document_of_run(
    fw: &FullwaveFocus,
    o: &FullwaveOptions,
    path: &Path,
    t0: std::time::Instant,
) -> Value {
    let (spec, results, sol, est, settings) = (
        &fw.spec,
        &fw.results,
        &fw.solution,
        &fw.estimate,
        &o.settings,
    );
    let outside = o.outside;
    let first = &results[0];
    let block = |kind: &str, pol: Polarization, r: &LensResult| -> Value {
        document(kind, spec, pol, r, None, &[])
    };
    let per_pol: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "polarization": r.pol.name(),
                "fullwave": block("fullwave (3-D FDTD)", r.pol, &r.fullwave),
                "lpa": block("layout (local periodic approximation)", r.pol, &r.lpa),
                "ideal": block("ideal", r.pol, &r.ideal),
                "fdtd_transmittance": r.transmitted_flux / sol.incident_power,
                // the source sheet spans the whole grid: with the opaque (PEC) screen this
                // includes what the screen reflects outside the aperture, so it is not 1 − T
                "fdtd_reflected_flux_over_aperture_power": r.reflected_flux / sol.incident_power,
            })
        })
        .collect();
    let facts: Vec<Value> = sol
        .facts
        .iter()
        .map(|f| {
            json!({
                "grid": [f.nx, f.ny, f.nz], "cells": f.cells, "steps": f.steps,
                "wall_s": f.wall_s, "bytes": f.bytes, "bytes_per_cell": f.bytes as f64 / f.cells as f64,
                "cell_updates_per_s": f.cell_updates_per_s, "dx_um": f.dx_um, "dt": f.dt,
            })
        })
        .collect();
    json!({
        "tool": "metalens fullwave (3-D FDTD)",
        "version": crate::VERSION,
        "conventions": crate::CONVENTIONS,
        "layout": path.display().to_string(),
        "polarization": first.pol.name(),
        "fullwave": per_pol[0]["fullwave"],
        "lpa": per_pol[0]["lpa"],
        "ideal": per_pol[0]["ideal"],
        "polarizations": per_pol,
        "resolution_px_per_um": sol.resolution,
        "wall_s": t0.elapsed().as_secs_f64(),
        "peak_memory_bytes": super::reproduce::peak_memory_mb().map(|mb| (mb * 1e6) as u64),
        "fdtd": {
            "estimate": {"cells": est.cells, "bytes": est.bytes, "steps": est.steps, "seconds": est.seconds},
            "runs": facts,
            "incident_power": sol.incident_power,
            "symmetry": settings.symmetry,
            "aperture": format!("{:?}", outside).to_lowercase(),
            "subpixel_averaging": settings.subpixel,
            "dispersion_correction": settings.dispersion_correction,
            "monitor_height_um": settings.monitor_height_um,
        },
    })
}

/// The summary of each polarisation and of each FDTD run, and where the files went.
fn print_run(fw: &FullwaveFocus, dir: &Path) {
    let (sol, est) = (&fw.solution, &fw.estimate);
    for r in fw.results.iter() {
        print!("{}", summary(r, sol, &fw.spec));
    }
    for f in &sol.facts {
        println!(
            "FDTD run: grid {} × {} × {}, {} steps, {:.1} s, {:.1} M cell-updates/s, {:.1} B/cell ({:.0} MB of fields and maps; estimated {:.0} MB)",
            f.nx,
            f.ny,
            f.nz,
            f.steps,
            f.wall_s,
            f.cell_updates_per_s / 1e6,
            f.bytes as f64 / f.cells as f64,
            f.bytes as f64 / 1e6,
            est.bytes as f64 / 1e6
        );
    }
    println!("wrote {}", dir.display());
}

/// The three lenses side by side for one polarisation.
fn summary(
    r: &PolResult,
    sol: &crate::fdtd::lens::LensSolution,
    spec: &crate::lens::Lens,
) -> String {
    let mut s = format!(
        "{}-polarised, NA {:.3}, diameter {} µm, λ {} µm, FDTD at {:.0} px/µm: T = {:.4} (flux through the monitor / power incident on the aperture); reflected flux {:.4} of it (the sheet spans the grid, so this includes the screen's reflection outside the aperture)\n",
        r.pol.name(),
        spec.na,
        spec.diameter_um,
        spec.wavelength_um,
        sol.resolution,
        r.transmitted_flux / sol.incident_power,
        r.reflected_flux / sol.incident_power,
    );
    s += &format!(
        "  {:<28}{:>12}{:>12}{:>12}\n",
        "quantity", "full-wave", "LPA", "ideal"
    );
    let (f, l, i) = (&r.fullwave.report, &r.lpa.report, &r.ideal.report);
    let o = |v: Option<f64>| v.map_or(f64::NAN, |v| v);
    let mut row = |name: &str, a: f64, b: f64, c: f64| {
        s += &format!("  {name:<28}{a:>12.4}{b:>12.4}{c:>12.4}\n");
    };
    for k in f.efficiency.keys().filter(|k| !k.starts_with("radius")) {
        row(
            &format!("efficiency {k}"),
            f.efficiency[k],
            l.efficiency.get(k).copied().unwrap_or(f64::NAN),
            i.efficiency.get(k).copied().unwrap_or(f64::NAN),
        );
    }
    row(
        "transmission_efficiency",
        f.transmission_efficiency,
        l.transmission_efficiency,
        i.transmission_efficiency,
    );
    row(
        "fwhm transverse x (λ)",
        o(f.fwhm.transverse.x_lambda),
        o(l.fwhm.transverse.x_lambda),
        o(i.fwhm.transverse.x_lambda),
    );
    row(
        "fwhm transverse y (λ)",
        o(f.fwhm.transverse.y_lambda),
        o(l.fwhm.transverse.y_lambda),
        o(i.fwhm.transverse.y_lambda),
    );
    row("strehl", o(f.strehl), o(l.strehl), 1.0);
    row(
        "focal_shift_um",
        f.focal_shift_um,
        l.focal_shift_um,
        i.focal_shift_um,
    );
    s
}
