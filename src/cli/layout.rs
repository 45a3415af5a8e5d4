//! `metalens layout DESIGN.toml --library LIB.h5 -o OUT [--quiet]`: place pillars for the
//! lens of the design file and write OUT.h5, OUT.gds, OUT.json (the report) and the figures
//! OUT_pillars.png, OUT_pillars_zoom.png, OUT_phase.png, OUT_phase_error.png.
//!
//! From the design file (see [`crate::io::design`]): `[source] wavelength`, `[materials] exit`
//! (its index must equal the library's exit index), `[cell] lattice, height, min_gap`, and
//! `[lens] na | focal_length, diameter, pitch, phase_offset, selection, interpolate,
//! gds_vertices, gds_dbu`. Settings that only the layout has are flags (`--radius-step`,
//! `--poor-phase-error`, `--coverage-warn-deg`, `--coverage-floor-deg`, `--gds-layer`,
//! `--outline-layer`, `--no-arrays`).

use crate::cell::LatticeKind;
use crate::io::design::Design;
use crate::io::gds::{self, GdsOptions};
use crate::layout::{plan_layout, CellTable, LayoutSettings, Selection};
use crate::lens::Lens;
use crate::library::PhaseLibrary;
use crate::{Error, Result, C64};
use std::path::{Path, PathBuf};

/// Arguments of `metalens layout`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Design file (TOML) with a [lens] section.
    pub design: PathBuf,
    /// Phase library (HDF5) written by `metalens library`.
    #[arg(long)]
    pub library: PathBuf,
    /// Output stem: writes OUT.h5, OUT.gds, OUT.json and OUT_*.png.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// No progress bar and no report on stdout.
    #[arg(long)]
    pub quiet: bool,
    /// Progress bar but no report on stdout (a stage of `reproduce`, which summarises).
    #[arg(long, hide = true)]
    pub no_summary: bool,
    /// Radius grid (µm) on which the library is interpolated between its radii.
    #[arg(long, default_value_t = 0.001)]
    pub radius_step: f64,
    /// |phase error| (rad) above which a site counts as poorly reached.
    #[arg(long, default_value_t = 0.5)]
    pub poor_phase_error: f64,
    /// Warn when the library's phase coverage at the lens pitch is below this (degrees).
    #[arg(long, default_value_t = 300.0)]
    pub coverage_warn_deg: f64,
    /// Refuse a library whose phase coverage is below this hard floor (degrees).
    #[arg(long, default_value_t = 180.0)]
    pub coverage_floor_deg: f64,
    /// GDSII layer of the pillars.
    #[arg(long, default_value_t = 1)]
    pub gds_layer: i16,
    /// GDSII layer of the aperture outline (none when absent).
    #[arg(long)]
    pub outline_layer: Option<i16>,
    /// Write every pillar as an SREF (no AREF for runs of equal pillars).
    #[arg(long)]
    pub no_arrays: bool,
    /// Fill the lattice sites of the bounding square outside the aperture with the library
    /// cell closest to this radius (µm); empty when absent.
    #[arg(long)]
    pub fill_radius: Option<f64>,
}

/// What to lay out: the lens (as given on the command line or in a design file, before the
/// library supplies defaults; it becomes a [`Lens`] in [`lens_of_request`]) and where its
/// cells come from (lattice, pitch, height). Lengths in µm.
#[derive(Debug, Clone)]
pub struct LayoutRequest {
    pub wavelength: f64,
    pub diameter: f64,
    pub na: Option<f64>,
    pub focal_length: Option<f64>,
    /// Exit-medium index (None: the library's).
    pub n_exit: Option<f64>,
    /// Lattice (None: the library's).
    pub lattice: Option<LatticeKind>,
    pub pitch: f64,
    /// Pillar height (None: the library's only height).
    pub height: Option<f64>,
    pub phase_offset: Option<f64>,
}

/// How to lay it out.
#[derive(Debug, Clone)]
pub struct LayoutOptions {
    pub selection: Selection,
    pub interpolate: bool,
    pub radius_step: f64,
    pub min_gap: f64,
    pub poor_phase_error: f64,
    pub coverage_warn_deg: f64,
    pub coverage_floor_deg: f64,
    pub gds_vertices: usize,
    pub gds_dbu: f64,
    pub gds_layer: i16,
    pub gds_outline_layer: Option<i16>,
    pub gds_arrays: bool,
    pub fill_radius: Option<f64>,
    /// Refractive index of the substrate (incidence medium), recorded in the layout file.
    pub incidence_index: f64,
    /// Complex index of the pillars at the design wavelength, recorded in the layout file
    /// with the pillar height (for full-wave solvers and exporters).
    pub pillar_index: Option<C64>,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            selection: Selection::ComplexError,
            interpolate: true,
            radius_step: 0.001,
            min_gap: 0.03,
            poor_phase_error: 0.5,
            coverage_warn_deg: 300.0,
            coverage_floor_deg: 180.0,
            gds_vertices: 64,
            gds_dbu: 0.001,
            gds_layer: 1,
            gds_outline_layer: None,
            gds_arrays: true,
            fill_radius: None,
            incidence_index: 1.0,
            pillar_index: None,
        }
    }
}

/// The layout flags of the command line (the settings a design file does not hold).
pub fn flag_options(args: &Args) -> LayoutOptions {
    LayoutOptions {
        radius_step: args.radius_step,
        poor_phase_error: args.poor_phase_error,
        coverage_warn_deg: args.coverage_warn_deg,
        coverage_floor_deg: args.coverage_floor_deg,
        gds_layer: args.gds_layer,
        gds_outline_layer: args.outline_layer,
        gds_arrays: !args.no_arrays,
        fill_radius: args.fill_radius,
        ..LayoutOptions::default()
    }
}

/// The lens and options of a design file (`origin` names it in errors) over the layout flags
/// `flags` (those a design file does not hold: radius step, thresholds, GDS layers, fill).
pub fn from_design(
    design: &Design,
    origin: &Path,
    flags: &LayoutOptions,
) -> Result<(LayoutRequest, LayoutOptions)> {
    let lens = design.lens.as_ref().ok_or_else(|| Error::Parse {
        path: origin.display().to_string(),
        message: "missing [lens] section".into(),
    })?;
    let wavelength = design.source.wavelength;
    let (pillar, substrate, exit) = design.materials.parse()?;
    let n_exit = exit.index(wavelength)?.re;
    let spec = LayoutRequest {
        wavelength,
        diameter: lens.diameter,
        na: lens.na,
        focal_length: lens.focal_length,
        n_exit: Some(n_exit),
        lattice: Some(design.cell.lattice),
        pitch: lens.pitch,
        height: Some(design.cell.height),
        phase_offset: lens.phase_offset,
    };
    let opts = LayoutOptions {
        selection: lens.selection,
        interpolate: lens.interpolate,
        min_gap: design.cell.min_gap,
        gds_vertices: lens.gds_vertices,
        gds_dbu: lens.gds_dbu,
        incidence_index: substrate.index(wavelength)?.re,
        pillar_index: Some(pillar.index(wavelength)?),
        ..flags.clone()
    };
    Ok((spec, opts))
}

/// The lens of a spec (n_exit defaults to `default_n_exit`).
pub fn lens_of_request(s: &LayoutRequest, default_n_exit: f64) -> Result<Lens> {
    let n_exit = s.n_exit.unwrap_or(default_n_exit);
    crate::error::check_positive("n_exit", n_exit, "")?;
    Lens::from_na_or_focal_length(
        s.wavelength,
        s.na,
        s.focal_length,
        n_exit,
        s.diameter,
        "na / focal_length",
    )
}

/// Checks of the lens that need no library (run before loading it).
pub fn check_layout_request(s: &LayoutRequest) -> Result<()> {
    crate::error::check_positive("wavelength", s.wavelength, "µm")?;
    crate::error::check_positive("diameter", s.diameter, "µm")?;
    crate::error::check_positive("pitch", s.pitch, "µm")?;
    if s.diameter < s.pitch {
        return Err(Error::invalid(
            "diameter",
            format!("{} µm", s.diameter),
            format!("must be at least one pitch ({} µm)", s.pitch),
        ));
    }
    if let Some(n) = s.n_exit {
        lens_of_request(s, n)?;
    } else if let Some(na) = s.na {
        // without n_exit the library's index is used; NA can at least not reach 0 or be NaN
        if !na.is_finite() || na <= 0.0 {
            return Err(Error::invalid("NA", na, "must be in (0, n_exit)"));
        }
    }
    Ok(())
}

/// Output stem without a trailing .h5 / .gds.
fn stem(output: &Path) -> PathBuf {
    match output.extension().and_then(|e| e.to_str()) {
        Some("h5") | Some("gds") => output.with_extension(""),
        _ => output.to_path_buf(),
    }
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Everything a layout run decides before placing pillars (shared with the benchmark).
pub fn prepare(
    lens_s: &LayoutRequest,
    lay: &LayoutOptions,
    library: &PhaseLibrary,
) -> Result<(Lens, LayoutSettings, CellTable, Vec<String>)> {
    let lens = lens_of_request(lens_s, library.exit_index)?;
    if (lens.n_exit - library.exit_index).abs() > 1e-6 * library.exit_index {
        return Err(Error::invalid(
            "n_exit",
            lens.n_exit,
            format!(
                "must equal the exit index of the library ({}) the cells were computed in",
                library.exit_index
            ),
        ));
    }
    crate::error::check_positive("pitch", lens_s.pitch, "µm")?;
    if lens.diameter_um < lens_s.pitch {
        return Err(Error::invalid(
            "diameter",
            format!("{} µm", lens.diameter_um),
            format!("must be at least one pitch ({} µm)", lens_s.pitch),
        ));
    }
    for (name, v) in [
        ("coverage_warn_deg", lay.coverage_warn_deg),
        ("coverage_floor_deg", lay.coverage_floor_deg),
    ] {
        if !(0.0..=360.0).contains(&v) {
            return Err(Error::invalid(
                name,
                format!("{v}°"),
                "must be in [0°, 360°]",
            ));
        }
    }
    crate::error::check_positive("poor_phase_error", lay.poor_phase_error, "rad")?;
    let lattice = lens_s.lattice.unwrap_or(library.lattice);
    let step = if lay.interpolate {
        Some(lay.radius_step)
    } else {
        None
    };
    let table = CellTable::from_library(
        library,
        lattice,
        lens.wavelength_um,
        lens_s.height,
        lens_s.pitch,
        step,
    )?;
    let cov = table.coverage();
    let mut warnings = Vec::new();
    let deg = cov.covered.to_degrees();
    if deg < lay.coverage_floor_deg {
        return Err(Error::invalid(
            "library phase coverage",
            format!("{deg:.1}°"),
            format!(
                "must be at least the hard floor {}° (largest unreachable phase gap {:.1}° from {:.1}°)",
                lay.coverage_floor_deg,
                cov.gap.to_degrees(),
                cov.gap_start.to_degrees()
            ),
        ));
    }
    if deg < lay.coverage_warn_deg {
        warnings.push(format!(
            "library phase coverage {deg:.1}° is below {}°: phases in a {:.1}° gap from {:.1}° cannot be reached",
            lay.coverage_warn_deg,
            cov.gap.to_degrees(),
            cov.gap_start.to_degrees()
        ));
    }
    let settings = LayoutSettings {
        lattice,
        pitch: lens_s.pitch,
        selection: lay.selection,
        phase_offset: lens_s.phase_offset,
        min_gap: lay.min_gap,
        poor_phase_threshold: lay.poor_phase_error,
        fill_radius: lay.fill_radius,
        incidence_index: lay.incidence_index,
        pillar: match (
            lay.pillar_index,
            lens_s.height.or_else(|| match library.heights[..] {
                [h] => Some(h),
                _ => None,
            }),
        ) {
            (Some(index), Some(height)) => Some(crate::layout::PillarSpec { height, index }),
            _ => None,
        },
    };
    Ok((lens, settings, table, warnings))
}

/// GDS options.
pub fn gds_options(lay: &LayoutOptions) -> GdsOptions {
    GdsOptions {
        vertices: lay.gds_vertices,
        dbu_um: lay.gds_dbu,
        pillar_layer: lay.gds_layer,
        pillar_datatype: 0,
        outline_layer: lay.gds_outline_layer,
        arrays: lay.gds_arrays,
    }
}

/// Run `metalens layout`.
pub fn run(args: Args) -> Result<()> {
    let (design, _text) = Design::resolve(&args.design)?;
    let library = LibrarySource::File(&args.library);
    let job = LayoutJob {
        design: &design,
        design_file: &args.design,
        flags: flag_options(&args),
        output: &args.output,
        quiet: args.quiet,
    };
    let done = lay_out(&job, library)?;
    if !args.quiet && !args.no_summary {
        print_summary(&done);
    }
    Ok(())
}

/// Where the layout stage takes its phase library from.
pub enum LibrarySource<'a> {
    /// Read this file (after the outputs are checked and claimed).
    File(&'a Path),
    /// Already in memory (read from or written to `path`, which the outputs must not be).
    Loaded(&'a PhaseLibrary, &'a Path),
}

/// One layout to make: a design over the layout flags, written to `output` (a stem).
pub struct LayoutJob<'a> {
    pub design: &'a Design,
    /// The design file (named in errors; the outputs must not overwrite it).
    pub design_file: &'a Path,
    /// The settings a design file does not hold ([`flag_options`], or the defaults).
    pub flags: LayoutOptions,
    /// Output stem: OUT.h5, OUT.gds, OUT.json and the figures OUT_*.png.
    pub output: &'a Path,
    /// No progress bar, no spinner, no size note.
    pub quiet: bool,
}

/// A layout made and written: the layout, the JSON report
/// written to OUT.json, and what the summary prints.
pub struct LayoutDone {
    pub layout: crate::layout::Layout,
    /// The document written to OUT.json.
    pub json: serde_json::Value,
    /// Output stem (OUT.h5 is the layout file).
    pub stem: PathBuf,
    pub gds_path: PathBuf,
    pub stats: gds::GdsStats,
}

/// The layout stage: check and claim the outputs, place the pillars, write OUT.gds, OUT.h5,
/// the figures and OUT.json.
pub fn lay_out(job: &LayoutJob, library: LibrarySource) -> Result<LayoutDone> {
    let (lens_s, lay) = from_design(job.design, job.design_file, &job.flags)?;
    let gopts = gds_options(&lay);
    gopts.validate()?;
    check_layout_request(&lens_s)?;
    // outputs checked, claimed and sized before the library is read
    let stem0 = stem(job.output);
    let library_path = match library {
        LibrarySource::File(p) | LibrarySource::Loaded(_, p) => p,
    };
    let inputs = [job.design_file, library_path];
    for ext in [".h5", ".gds", ".json"] {
        crate::io::guard::preflight_file(&with_suffix(&stem0, ext), &inputs)?;
    }
    let _lock = crate::io::guard::Lock::acquire(&with_suffix(&stem0, ".h5"))?;
    let (b, pillars, _) = crate::io::budget::check_lens(lens_s.diameter, lens_s.pitch, 1, 1.0)?;
    if !job.quiet && pillars > 1e6 {
        eprintln!(
            "note: {pillars:.3e} pillars, about {} of memory for the layout",
            crate::io::budget::bytes(b)
        );
    }
    let loaded;
    let library = match library {
        LibrarySource::File(p) => {
            loaded = PhaseLibrary::load(p)?;
            &loaded
        }
        LibrarySource::Loaded(l, _) => l,
    };
    let (lens, settings, table, warnings) = prepare(&lens_s, &lay, library)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let show = super::progress::visible(job.quiet);
    let bar = super::progress::bar(
        show,
        Some("placing pillars {bar:40} {pos}/{len} rows {eta}"),
    );
    let layout = plan_layout(&lens, &settings, table, &bar)?;
    let report = layout.report();
    let stem = stem0;
    if let Some(dir) = stem.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            return Err(Error::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotFound, "output folder does not exist"),
            ));
        }
    }
    let gds_path = with_suffix(&stem, ".gds");
    // a spinner for the writing stages (seconds for lenses of ten million pillars)
    let spinner = if show {
        let s = indicatif::ProgressBar::new_spinner();
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    } else {
        indicatif::ProgressBar::hidden()
    };
    spinner.set_message(format!(
        "writing {} ({} pillars)",
        gds_path.display(),
        layout.pillar_count()
    ));
    let stats = gds::write_layout(&layout, &gds_path, &gopts)?;
    spinner.set_message("writing the layout HDF5 file");
    crate::io::layout_file::write_layout(&layout, &with_suffix(&stem, ".h5"))?;
    spinner.set_message("drawing figures");
    crate::plot::layout::plot_all(&layout, &stem)?;
    spinner.finish_and_clear();
    let json = serde_json::json!({
        "conventions": crate::CONVENTIONS,
        "version": crate::VERSION,
        "lens": {
            "wavelength_um": lens.wavelength_um, "focal_length_um": lens.focal_length_um,
            "numerical_aperture": lens.numerical_aperture(), "n_exit": lens.n_exit,
            "diameter_um": lens.diameter_um, "pitch_um": settings.pitch,
            "lattice": format!("{:?}", settings.lattice).to_lowercase(),
        },
        "library_notes": layout.table.notes,
        "cell_radii_um": layout.table.cells.iter().map(|c| c.radius).collect::<Vec<_>>(),
        "report": report,
        "warnings": warnings,
        "gds": {"file": gds_path.display().to_string(), "bytes": stats.bytes, "cells": stats.cells, "srefs": stats.srefs, "arefs": stats.arefs},
    });
    crate::io::write_atomic(
        &with_suffix(&stem, ".json"),
        serde_json::to_string_pretty(&json)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    Ok(LayoutDone {
        layout,
        json,
        stem,
        gds_path,
        stats,
    })
}

/// What `metalens layout` prints: the lens, the library notes, the report, the files.
fn print_summary(done: &LayoutDone) {
    let (layout, stem, stats) = (&done.layout, &done.stem, &done.stats);
    let (lens, settings) = (&layout.lens, &layout.settings);
    println!(
        "lens: λ = {} µm, D = {} µm, f = {:.4} µm, NA = {:.4}, n_exit = {}, {:?} lattice, pitch {} µm",
        lens.wavelength_um,
        lens.diameter_um,
        lens.focal_length_um,
        lens.numerical_aperture(),
        lens.n_exit,
        settings.lattice,
        settings.pitch
    );
    for n in &layout.table.notes {
        println!("library: {n}");
    }
    print!(
        "{}",
        layout
            .report()
            .summary(&layout.table, 12, settings.poor_phase_threshold)
    );
    println!(
        "wrote {}.h5, {} ({} bytes, {} cells, {} SREF + {} AREF), {}.json and figures",
        stem.display(),
        done.gds_path.display(),
        stats.bytes,
        stats.cells,
        stats.srefs,
        stats.arefs,
        stem.display()
    );
}
