//! `metalens propagate`: a designed lens (layout file) or an ideal lens to the focus, with the
//! focal-spot metrics as JSON and a figure set.

use crate::lens::Lens;
use crate::metrics::pipeline::{run_ideal, LensResult, RunOptions};
use crate::nearfield::{ApertureModel, Polarization, Surround};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Arguments of `metalens propagate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Layout file (HDF5) written by `metalens layout`.
    pub layout: Option<PathBuf>,
    /// Evaluate the ideal lens (the perfect flat lens that conserves energy, exact hyperbolic
    /// phase) instead of a layout.
    #[arg(long)]
    pub ideal: bool,
    /// Numerical aperture n_exit·sin θ (ideal lens).
    #[arg(long)]
    pub na: Option<f64>,
    /// Aperture diameter, µm (ideal lens).
    #[arg(long = "diameter")]
    pub diameter_um: Option<f64>,
    /// Vacuum wavelength, µm (ideal lens).
    #[arg(long = "wavelength")]
    pub wavelength_um: Option<f64>,
    /// Refractive index of the exit medium (the lens focuses in it).
    #[arg(long, default_value_t = 1.0)]
    pub n_exit: f64,
    /// Refractive index of the incidence medium (substrate).
    #[arg(long, default_value_t = 1.0)]
    pub n_incident: f64,
    /// Incident polarisation: x, y, rcp, lcp.
    #[arg(long, default_value = "x")]
    pub polarization: String,
    /// Aperture grid spacing for the ideal lens, µm (default λ/(4 n_exit)).
    #[arg(long = "dx")]
    pub dx_um: Option<f64>,
    /// Force the FFT grid size (default: automatic, ≥ 2× the aperture and band-limit safe).
    #[arg(long)]
    pub fft_size: Option<usize>,
    /// Minimum zero-padding factor (≥ 2).
    #[arg(long, default_value_t = 2.0)]
    pub padding: f64,
    /// Circle radii for the focusing efficiency, in units of the FWHM (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1.5,3")]
    pub efficiency_k: Vec<f64>,
    /// FWHM (µm) used for the efficiency circles instead of the measured transverse FWHM.
    #[arg(long = "circle-fwhm")]
    pub circle_fwhm_um: Option<f64>,
    /// Start of the on-axis scan and the sections, µm (default 0.5 f).
    #[arg(long = "z-start", allow_negative_numbers = true)]
    pub z_start_um: Option<f64>,
    /// End of the on-axis scan and the sections, µm (default 1.5 f).
    #[arg(long = "z-end", allow_negative_numbers = true)]
    pub z_end_um: Option<f64>,
    /// Planes in the on-axis scan and the x–z / y–z sections.
    #[arg(long, default_value_t = 200)]
    pub planes: usize,
    /// Extra planes (µm, comma-separated) at which to report the on-axis and peak intensity.
    #[arg(long = "z", value_delimiter = ',', allow_negative_numbers = true)]
    pub z_um: Vec<f64>,
    /// Analyse at the design focal length instead of the real focus (on-axis maximum).
    #[arg(long)]
    pub at_design_focus: bool,
    /// Region outside the lens: opaque (default) or bare (substrate, Fresnel transmission).
    #[arg(long, default_value = "opaque")]
    pub outside: String,
    /// Aperture model of the LPA near field and the ideal lens: flux (energy-conserving: the
    /// power through each point is the cell's transmittance, the light leaving at the local
    /// deflection angle split into s and p) or tangential (E_t = t·E_inc, the construction
    /// before issue 25, which transmits more than falls on it at high NA; for comparison).
    #[arg(long = "aperture-model", default_value = "flux")]
    pub aperture_model: String,
    /// Write the figures (PNG + SVG) and propagate.json into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no summary (`--json` still prints the JSON document).
    #[arg(long)]
    pub quiet: bool,
    /// Propagate this near-field file (docs/near-field-format.md) instead of the LPA field;
    /// with a layout (LAYOUT or --layout) its LPA result and the ideal lens beside it.
    #[arg(long = "near-field")]
    pub near_field: Option<PathBuf>,
    /// The layout a --near-field file belongs to (same as the LAYOUT argument).
    #[arg(long = "layout")]
    pub layout_flag: Option<PathBuf>,
    /// Write the near field used (LPA, ideal or resampled file) to this HDF5 file.
    #[arg(long = "save-near-field")]
    pub save_near_field: Option<PathBuf>,
}

/// `--outside opaque|bare`.
fn parse_outside(s: &str) -> Result<Surround> {
    match s {
        "opaque" => Ok(Surround::Opaque),
        "bare" => Ok(Surround::Substrate),
        o => Err(Error::invalid("outside", o, "must be opaque or bare")),
    }
}

/// The propagation settings of a run, parsed: from the flags of `metalens propagate` or from
/// a design's `[propagation]` section.
#[derive(Clone, Debug)]
pub struct FocusSettings {
    pub polarization: Polarization,
    pub outside: Surround,
    pub aperture_model: ApertureModel,
    /// Aperture grid spacing, µm (None: automatic).
    pub dx_um: Option<f64>,
    pub fft_size: Option<usize>,
    /// Minimum zero-padding factor (≥ 2).
    pub padding: f64,
    /// Efficiency circle radii in units of the FWHM.
    pub efficiency_k: Vec<f64>,
    /// FWHM (µm) of the efficiency circles instead of the measured one.
    pub circle_fwhm_um: Option<f64>,
    /// On-axis scan from / to, µm (None: 0.5 f / 1.5 f).
    pub z_start_um: Option<f64>,
    pub z_end_um: Option<f64>,
    /// Planes in the on-axis scan and the sections.
    pub planes: usize,
    /// Extra planes, µm.
    pub z_um: Vec<f64>,
    pub at_design_focus: bool,
    /// Progress bar on a terminal.
    pub progress: bool,
}

impl FocusSettings {
    /// The flags of `metalens propagate`.
    pub fn of_args(args: &Args) -> Result<Self> {
        Ok(FocusSettings {
            polarization: Polarization::parse(&args.polarization)?,
            outside: parse_outside(&args.outside)?,
            aperture_model: ApertureModel::parse(&args.aperture_model)?,
            dx_um: args.dx_um,
            fft_size: args.fft_size,
            padding: args.padding,
            efficiency_k: args.efficiency_k.clone(),
            circle_fwhm_um: args.circle_fwhm_um,
            z_start_um: args.z_start_um,
            z_end_um: args.z_end_um,
            planes: args.planes,
            z_um: args.z_um.clone(),
            at_design_focus: args.at_design_focus,
            progress: !args.quiet,
        })
    }

    /// A design's `[propagation]` section for a lens of pitch `pitch_um` (the defaults of
    /// `metalens propagate` for what the section does not set; no progress bar).
    pub fn of_design(p: &crate::io::design::PropagationSection, pitch_um: f64) -> Self {
        FocusSettings {
            polarization: p.polarization,
            outside: p.aperture,
            aperture_model: ApertureModel::Flux,
            dx_um: p.samples_per_pitch.map(|n| pitch_um / n as f64),
            fft_size: None,
            padding: 2.0,
            efficiency_k: p.efficiency_radii.clone(),
            circle_fwhm_um: None,
            z_start_um: None,
            z_end_um: None,
            planes: 200,
            z_um: Vec::new(),
            at_design_focus: false,
            progress: false,
        }
    }

    /// The analysis options for the lens `spec`, every setting checked.
    pub fn run_options(&self, spec: &Lens) -> Result<RunOptions> {
        if !(self.padding.is_finite() && self.padding >= 2.0) {
            return Err(Error::invalid(
                "padding",
                self.padding,
                "must be ≥ 2 (zero padding at least twice the aperture)",
            ));
        }
        for &z in &self.z_um {
            if !(z.is_finite() && z > 0.0) {
                return Err(Error::invalid(
                    "plane z",
                    format!("{z} µm"),
                    "must be > 0: planes behind the lens (z ≤ 0) are not propagated",
                ));
            }
        }
        let f = spec.focal_length_um;
        let z0 = self.z_start_um.unwrap_or(0.5 * f);
        let z1 = self.z_end_um.unwrap_or(1.5 * f);
        if !(z0.is_finite() && z0 > 0.0) {
            return Err(Error::invalid(
                "z start",
                format!("{z0} µm"),
                "must be > 0: planes behind the lens (z ≤ 0) are not propagated",
            ));
        }
        if !(z1.is_finite() && z1 > z0) {
            return Err(Error::invalid(
                "z end",
                format!("{z1} µm"),
                format!("must be greater than the z start {z0} µm"),
            ));
        }
        if self.planes < 3 || self.planes > 100_000 {
            return Err(Error::invalid(
                "planes",
                self.planes,
                "must be between 3 and 100000",
            ));
        }
        if let Some(c) = self.circle_fwhm_um {
            crate::error::check_positive("circle FWHM", c, "µm")?;
        }
        let z_max = z1.max(self.z_um.iter().cloned().fold(0.0, f64::max));
        Ok(RunOptions {
            polarization: self.polarization,
            dx: self.dx_um,
            fft_size: self.fft_size,
            padding: self.padding,
            efficiency_k: self.efficiency_k.clone(),
            circle_fwhm: self.circle_fwhm_um,
            z_range: Some((z0, z1.max(z_max))),
            n_z: self.planes,
            at_design_focus: self.at_design_focus,
            outside: self.outside.outside(spec.n_incident, spec.n_exit),
            aperture_model: self.aperture_model,
            progress: super::progress::shared(super::progress::visible(!self.progress), None),
        })
    }
}

/// The analysis options of the flags of `metalens propagate` for the lens `spec`.
pub(crate) fn options(args: &Args, spec: &Lens) -> Result<RunOptions> {
    FocusSettings::of_args(args)?.run_options(spec)
}

/// The JSON document of one or two lenses (the contract of the issue: `fwhm.*`,
/// `efficiency.*`, `transmission_efficiency`, `strehl`, `focal_shift_um`, `focal_plane_z_um`
/// at the top level; the ideal lens beside a designed one under `ideal`).
pub fn document(
    kind: &str,
    spec: &Lens,
    pol: Polarization,
    main: &LensResult,
    ideal: Option<&LensResult>,
    planes: &[serde_json::Value],
) -> serde_json::Value {
    use serde_json::{json, Value};
    let mut doc = json!({
        "tool": "metalens propagate",
        "version": crate::VERSION,
        "conventions": crate::CONVENTIONS,
        "lens": {
            "kind": kind,
            "wavelength_um": spec.wavelength_um,
            "na": spec.na,
            "diameter_um": spec.diameter_um,
            "focal_length_um": spec.focal_length_um,
            "n_exit": spec.n_exit,
            "n_incident": spec.n_incident,
            "polarization": pol.name(),
        },
        "grid": main.grid,
        "warnings": main.warnings,
        "planes": planes,
        "definitions": crate::metrics::definitions(),
    });
    if let (Value::Object(d), Ok(Value::Object(r))) = (&mut doc, serde_json::to_value(&main.report))
    {
        d.extend(r);
        if let Some(i) = ideal {
            d.insert(
                "ideal".into(),
                serde_json::to_value(&i.report).unwrap_or(Value::Null),
            );
        }
    }
    doc
}

/// Run `metalens propagate`.
pub fn run(args: Args) -> Result<()> {
    if let Some(path) = &args.near_field {
        return super::propagate_nearfield::run(&args, path);
    }
    if let Some(path) = &args.layout {
        if args.ideal {
            return Err(Error::invalid(
                "arguments",
                "LAYOUT and --ideal",
                "give either a layout file or --ideal, not both",
            ));
        }
        return run_layout(&args, path);
    }
    if !args.ideal {
        return Err(Error::invalid(
            "arguments",
            "none",
            "give a layout file or --ideal with --na, --diameter and --wavelength",
        ));
    }
    let need = |v: Option<f64>, name: &str| {
        v.ok_or_else(|| Error::invalid(name, "missing", "is required with --ideal"))
    };
    let (wavelength, na, diameter) = (
        need(args.wavelength_um, "--wavelength")?,
        need(args.na, "--na")?,
        need(args.diameter_um, "--diameter")?,
    );
    let spec =
        Lens::from_na(wavelength, na, args.n_exit, diameter)?.with_incidence(args.n_incident)?;
    let opts = options(&args, &spec)?;
    let _lock = match &args.out {
        Some(dir) => {
            crate::io::guard::preflight_dir(dir, &[])?;
            Some(crate::io::guard::Lock::acquire(dir)?)
        }
        None => None,
    };
    if let Some(out) = &args.save_near_field {
        let dx = opts.dx.unwrap_or(spec.wavelength_um / (4.0 * spec.n_exit));
        let nf = crate::metrics::pipeline::ideal_nearfield(&spec, dx, &opts)?;
        super::propagate_nearfield::save(
            out,
            &nf,
            &spec,
            opts.polarization,
            "metalens propagate --ideal",
        )?;
    }
    let result = run_ideal(&spec, &opts)?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let planes = extra_planes(&spec, &opts, &args.z_um)?;
    let doc = document("ideal", &spec, opts.polarization, &result, None, &planes);
    let text =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::numerical("cli", e.to_string()))?;
    if let Some(dir) = &args.out {
        write_focus(dir, &text, &spec, &result, None)?;
    }
    if args.json {
        println!("{text}");
    } else if !args.quiet {
        summary(&spec, &result);
    }
    Ok(())
}

/// On-axis and peak intensity at the user's extra planes (ideal lens).
fn extra_planes(spec: &Lens, opts: &RunOptions, zs: &[f64]) -> Result<Vec<serde_json::Value>> {
    if zs.is_empty() {
        return Ok(Vec::new());
    }
    use crate::propagate::{choose_fft_size, AngularSpectrumPlan};
    let dx = opts.dx.unwrap_or(spec.wavelength_um / (4.0 * spec.n_exit));
    let nf = crate::metrics::pipeline::ideal_nearfield(spec, dx, opts)?;
    let zmax = zs.iter().cloned().fold(0.0, f64::max);
    let n = opts
        .fft_size
        .unwrap_or_else(|| choose_fft_size(nf.m, dx, spec.na, spec.n_exit, zmax, opts.padding));
    let plan = AngularSpectrumPlan::new(n + n % 2, dx, spec.wavelength_um, spec.n_exit)?;
    let sp = plan.spectrum(&nf.field(opts.polarization))?;
    let half = 3.0 * 0.5145 * spec.wavelength_um / spec.na;
    let g: Vec<f64> = (0..61)
        .map(|i| -half + 2.0 * half * i as f64 / 60.0)
        .collect();
    let mut out = Vec::new();
    for &z in zs {
        let f = plan.evaluate(&sp, z, &g, &g)?;
        let tot = f.total_intensity();
        out.push(serde_json::json!({
            "z_um": z,
            "on_axis_intensity": tot[30 * 61 + 30],
            "peak_intensity_window": tot.iter().cloned().fold(0.0, f64::max),
            "window_half_width_um": half,
        }));
    }
    Ok(out)
}

pub(crate) fn summary(spec: &Lens, r: &LensResult) {
    let rep = &r.report;
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
    println!(
        "lens: NA {} diameter {} µm f {:.4} µm λ {} µm n_exit {}",
        spec.na, spec.diameter_um, spec.focal_length_um, spec.wavelength_um, spec.n_exit
    );
    println!(
        "grid: dx {:.4} µm, aperture {}², FFT {}²",
        r.grid.dx_um, r.grid.aperture_samples, r.grid.fft_size
    );
    println!(
        "focal plane z = {:.4} µm (shift {:+.4} µm)",
        rep.focal_plane_z_um, rep.focal_shift_um
    );
    println!(
        "FWHM transverse x {} y {} µm; total x {} y {} µm; Sz x {} y {} µm",
        fmt(rep.fwhm.transverse.x_um),
        fmt(rep.fwhm.transverse.y_um),
        fmt(rep.fwhm.total.x_um),
        fmt(rep.fwhm.total.y_um),
        fmt(rep.fwhm.sz.x_um),
        fmt(rep.fwhm.sz.y_um)
    );
    for (k, v) in &rep.efficiency {
        println!("efficiency {k}: {v:.4}");
    }
    println!(
        "transmission efficiency {:.4}; Strehl {}; peak intensity {:.4}; side-lobe level {}",
        rep.transmission_efficiency,
        fmt(rep.strehl),
        rep.peak_intensity,
        fmt(rep.side_lobe_level)
    );
}

/// A designed lens from its layout file (local periodic approximation: every pillar's cell
/// carries the library t for its radius), with the ideal lens of the same NA, diameter and
/// grid beside it.
fn run_layout(args: &Args, path: &Path) -> Result<()> {
    let _lock = match &args.out {
        Some(dir) => {
            crate::io::guard::preflight_dir(dir, &[path])?;
            Some(crate::io::guard::Lock::acquire(dir)?)
        }
        None => None,
    };
    let layout = crate::io::layout_file::LayoutFile::load(path)?;
    let spec = layout_spec(args, &layout)?;
    let opts = options(args, &spec)?;
    let nf = layout_near_field(args.dx_um, &layout, &spec, &opts)?;
    if let Some(out) = &args.save_near_field {
        let source = format!(
            "metalens propagate {} (local periodic approximation)",
            path.display()
        );
        super::propagate_nearfield::save(out, &nf, &spec, opts.polarization, &source)?;
    }
    crate::io::guard::check_interrupt(|| "nothing saved (propagation not started)".into())?;
    let LensFocus {
        designed,
        ideal,
        document: doc,
    } = focus_of_near_field(&nf, &spec, &opts)?;
    let text =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::numerical("cli", e.to_string()))?;
    if let Some(dir) = &args.out {
        write_focus(dir, &text, &spec, &designed, Some(&ideal))?;
    }
    if args.json {
        println!("{text}");
    } else if !args.quiet {
        summary(&spec, &designed);
        println!("ideal lens of the same NA, diameter and grid:");
        summary(&spec, &ideal);
    }
    Ok(())
}

/// One designed lens at its focus, with the ideal lens of the same NA, diameter and grid.
pub struct LensFocus {
    pub designed: LensResult,
    pub ideal: LensResult,
    /// The JSON document of both (what propagate.json holds).
    pub document: serde_json::Value,
}

/// The focus of a designed lens's near field and of its ideal lens; the warnings of both are
/// printed (and kept in the results).
pub fn focus_of_near_field(
    nf: &crate::nearfield::NearField,
    spec: &Lens,
    opts: &RunOptions,
) -> Result<LensFocus> {
    let (mut designed, ideal) = crate::metrics::pipeline::run_designed(nf, spec, opts)?;
    if let Some(st) = designed.report.strehl.filter(|&x| x > 1.0 + 1e-3) {
        // legal numbers, meaningless result: say so
        designed.warnings.push(format!(
            "Strehl ratio {st:.3} exceeds 1: the designed focus is brighter than the ideal lens's at its own focal plane; the local periodic approximation can over-state the rim's power where the pitch undersamples the phase gradient, so read it as an upper bound, not as a lens better than ideal"
        ));
    }
    for w in designed.warnings.iter().chain(&ideal.warnings) {
        eprintln!("warning: {w}");
    }
    let document = document(
        "layout",
        spec,
        opts.polarization,
        &designed,
        Some(&ideal),
        &[],
    );
    Ok(LensFocus {
        designed,
        ideal,
        document,
    })
}

/// Write propagate.json (`text`) and the figures into `dir` (created when missing).
pub fn write_focus(
    dir: &Path,
    text: &str,
    spec: &Lens,
    main: &LensResult,
    ideal: Option<&LensResult>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::io::write_atomic(&dir.join("propagate.json"), text.as_bytes())?;
    crate::plot::focal::write_all(dir, spec, main, ideal)
}

/// The lens of a layout file (the incidence index from the file when it records it).
pub(crate) fn layout_spec(
    args: &Args,
    layout: &crate::io::layout_file::LayoutFile,
) -> Result<Lens> {
    layout_lens_spec(layout, args.n_incident)
}

/// The lens of a layout record; `n_incident` when the record does not give the incidence
/// index.
pub fn layout_lens_spec(
    layout: &crate::io::layout_file::LayoutFile,
    n_incident: f64,
) -> Result<Lens> {
    let lens = &layout.lens;
    let n_incident = layout.incidence_index.unwrap_or(n_incident);
    Lens::from_na(
        lens.wavelength_um,
        lens.numerical_aperture(),
        lens.n_exit,
        lens.diameter_um,
    )?
    .with_incidence(n_incident)
}

/// The LPA near field of a layout file: every pillar's cell carries the library t, turned
/// into the aperture field by `opts.aperture_model` (see [`ApertureModel`]).
pub fn layout_near_field(
    dx_um: Option<f64>,
    layout: &crate::io::layout_file::LayoutFile,
    spec: &Lens,
    opts: &RunOptions,
) -> Result<crate::nearfield::NearField> {
    let sites: Vec<crate::nearfield::Site> = layout
        .centers
        .iter()
        .zip(&layout.t_achieved)
        .map(|(c, t)| crate::nearfield::Site {
            x: c[0],
            y: c[1],
            tx: t[0],
            ty: t[1],
        })
        .collect();
    // a few samples per pitch, at least 4 and fine enough for the NA (λ/(2·NA·1.25) spacing)
    let needed = (2.5 * spec.na * layout.pitch / spec.wavelength_um).ceil() as usize;
    let samples = dx_um
        .map(|dx| (layout.pitch / dx).round().max(2.0) as usize)
        .unwrap_or(needed.max(4));
    crate::io::budget::check_lens(spec.diameter_um, layout.pitch, samples, opts.padding)?;
    let nf = crate::nearfield::NearField::from_sites(
        &sites,
        layout.pitch,
        samples,
        0.5 * spec.diameter_um,
        opts.outside,
    )?;
    Ok(nf.with_model(opts.aperture_model, spec.focal_length_um))
}
