//! `metalens reproduce mk1|mk2|pitch-sweep|DESIGN.toml` (alias `metalens run DESIGN.toml`):
//! library → layout → propagation → metrics in one command, into one folder with a report
//! (report.md, report.html with the figures inline, report.json with every number).
//!
//! Each stage runs exactly as its own subcommand would (same parsing, same checks), so the
//! folder can be regenerated stage by stage by hand: `library`, `layout`, `propagate`.
//!
//! A design with a `[study]` section (the built-in `pitch-sweep`) is a design study: the
//! `[lens]` is laid out at every library pitch and every NA of the study, all from ONE library
//! (cells are computed once and shared by every lens), and the report gives efficiency, FWHM
//! and Strehl versus pitch with the ideal lens of the same NA and size as the reference line.
//!
//! Nothing is lost on interruption: a finished library is reused when its recorded sweep
//! specification and tool version match the design (an unfinished one resumes from its
//! checkpoint), and in a study every lens whose folder already holds results for the same
//! derived design and the same library is reused.

use crate::io::design::Design;
use crate::library::sweep::SweepSettings;
use crate::library::PhaseLibrary;
use crate::plot::study::{write_panels, Panel, Series};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `metalens reproduce` / `metalens run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A built-in design (mk1, mk2, pitch-sweep) or a design file (TOML) with a [lens]
    /// section (and optionally a [study] section).
    #[arg(default_value = "mk1")]
    pub design: String,
    /// Output folder (default out/<design name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bars and no summary.
    #[arg(long)]
    pub quiet: bool,
    /// Also solve the laid-out lens full-wave by the built-in 3-D FDTD and report it beside
    /// the LPA and the ideal lens (a single lens, x- or y-polarised; the estimate is printed
    /// before the run: a 20 µm lens takes about an hour at 30 px/µm on 2 cores).
    #[arg(long)]
    pub fullwave: bool,
    /// With --fullwave: FDTD cells per µm (default 40).
    #[arg(long, requires = "fullwave", allow_negative_numbers = true)]
    pub resolution: Option<f64>,
}

/// The reference study's published numbers: (lens, NA, focusing efficiency, FWHM in λ).
pub const STUDY: [(&str, f64, f64, f64); 2] = [("mk1", 0.9, 0.75, 0.53), ("mk2", 0.99, 0.42, 0.48)];

/// Efficiency definitions reported, in table order, with their plain meaning.
const EFF_KEYS: [(&str, &str); 4] = [
    (
        "incident_r1.5",
        "circle of diameter 3·FWHM ÷ power incident on the aperture",
    ),
    (
        "incident_r3",
        "circle of radius 3·FWHM ÷ power incident on the aperture",
    ),
    (
        "transmitted_r1.5",
        "circle of diameter 3·FWHM ÷ power transmitted by the lens",
    ),
    (
        "transmitted_r3",
        "circle of radius 3·FWHM ÷ power transmitted by the lens",
    ),
];

/// FWHM definitions reported: (json kind, label).
const FWHM_KINDS: [(&str, &str); 3] = [
    ("transverse", "transverse Ex²+Ey²"),
    ("total", "total E² (with Ez)"),
    ("sz", "axial flux Sz"),
];

/// A JSON record saved by an earlier run (a finished lens of a study, reused as it stands).
fn read_json(p: &Path) -> Result<Value> {
    let t = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
    serde_json::from_str(&t).map_err(|e| Error::format(p, e.to_string()))
}

fn write(p: &Path, text: &str) -> Result<()> {
    crate::io::write_atomic(p, text.as_bytes())
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_f64()
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:.1} %", 100.0 * x))
}

fn fix3(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.3}"))
}

/// Peak resident memory of this process so far (MB), from /proc (Linux); None elsewhere.
pub fn peak_memory_mb() -> Option<f64> {
    let st = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = st.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Load a design by path or built-in name: (design, text, short name). One rule for every
/// subcommand: an argument naming an existing file is that file; otherwise a built-in name.
fn load(arg: &str) -> Result<(Design, String, String)> {
    let (design, text) = Design::resolve(Path::new(arg))?;
    let name = Path::new(arg)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "design".into());
    Ok((design, text, name))
}

/// The library stage. Reuses `lib` when it was written by this tool version for the same sweep
/// (`reused` is true then); otherwise sweeps it (resuming from a checkpoint) as `metalens
/// library` does. `design_path` is the design file the run recorded (the library must not
/// overwrite it).
fn library_stage(
    design: &Design,
    text: &str,
    design_path: &Path,
    lib: &Path,
    quiet: bool,
) -> Result<LibraryStage> {
    let want = SweepSettings::from_design(design)?;
    if lib.exists() {
        if let Ok((library, meta)) = PhaseLibrary::load_with_meta(lib) {
            if meta.settings == want && meta.tool_version == crate::VERSION && meta.shard.is_none()
            {
                if !quiet {
                    eprintln!("reusing {} (same sweep, same tool version)", lib.display());
                }
                return Ok(LibraryStage {
                    library,
                    reused: true,
                });
            }
        }
    }
    let job = super::library::SweepJob {
        quiet,
        ..Default::default()
    };
    let (_, report) =
        super::library::build_library(design, text.to_string(), lib, &[design_path], &job)?;
    Ok(LibraryStage {
        library: report.library,
        reused: false,
    })
}

/// The phase library of a run and whether it was reused from an earlier run.
struct LibraryStage {
    library: PhaseLibrary,
    reused: bool,
}

/// One lens laid out and analysed: the layout report (layout.json) and the focus of the
/// lens and of its ideal counterpart (focus/propagate.json), with the stage times; the layout
/// record itself, for a full-wave solve of the same lens.
struct LensStage {
    focus: Value,
    layout: Value,
    record: crate::io::layout_file::LayoutFile,
    t_layout_s: f64,
    t_propagate_s: f64,
}

/// The focus of one laid-out lens by the local periodic approximation, with the ideal lens
/// of the same NA, diameter and grid beside it: the layout record and the design's
/// `[propagation]` settings in, the report record out. (A full-wave near field of the same
/// layout goes through [`super::propagate::focus_of_near_field`] the same way.)
pub fn lpa_focus(
    layout: &crate::io::layout_file::LayoutFile,
    propagation: &crate::io::design::PropagationSection,
) -> Result<(crate::lens::Lens, super::propagate::LensFocus)> {
    let spec = super::propagate::layout_lens_spec(layout, 1.0)?;
    let opts =
        super::propagate::FocusSettings::of_design(propagation, layout.pitch).run_options(&spec)?;
    let nf = super::propagate::layout_near_field(opts.dx, layout, &spec, &opts)?;
    crate::io::guard::check_interrupt(|| "nothing saved (propagation not started)".into())?;
    let focus = super::propagate::focus_of_near_field(&nf, &spec, &opts)?;
    Ok((spec, focus))
}

/// Layout and propagation of one lens into `dir`: `design_path` is the design file recorded
/// for it (the outputs must not overwrite it), `lib` the library file the library came from.
fn lens_stage(
    design: &Design,
    design_path: &Path,
    library: &PhaseLibrary,
    lib: &Path,
    dir: &Path,
    quiet: bool,
) -> Result<LensStage> {
    let t0 = Instant::now();
    let stem = dir.join("layout");
    let job = super::layout::LayoutJob {
        design,
        design_file: design_path,
        flags: super::layout::LayoutOptions::default(),
        output: &stem,
        quiet,
    };
    let done = super::layout::lay_out(&job, super::layout::LibrarySource::Loaded(library, lib))?;
    let layout_h5 = dir.join("layout.h5");
    let record = crate::io::layout_file::LayoutFile::of_layout(&done.layout, &layout_h5)?;
    let layout_json = done.json;
    drop(done.layout);
    let t_lay = t0.elapsed().as_secs_f64();
    crate::io::guard::check_interrupt(|| {
        format!(
            "the library and the layout are saved in {}; rerun the same command to go on",
            dir.display()
        )
    })?;
    // [propagation] drives the propagation: polarisation, outside, efficiency radii, sampling
    let prop = dir.join("focus");
    crate::io::guard::preflight_dir(&prop, &[&layout_h5])?;
    let _lock = crate::io::guard::Lock::acquire(&prop)?;
    let propagation = design.propagation.clone().unwrap_or_default();
    let (spec, focus) = lpa_focus(&record, &propagation)?;
    let text = serde_json::to_string_pretty(&focus.document)
        .map_err(|e| Error::numerical("cli", e.to_string()))?;
    super::propagate::write_focus(&prop, &text, &spec, &focus.designed, Some(&focus.ideal))?;
    let t_prop = t0.elapsed().as_secs_f64() - t_lay;
    Ok(LensStage {
        focus: focus.document,
        layout: layout_json,
        record,
        t_layout_s: t_lay,
        t_propagate_s: t_prop,
    })
}

/// Run `metalens reproduce` / `metalens run`.
pub fn run(a: Args) -> Result<()> {
    let (design, text, name) = load(&a.design)?;
    if design.lens.is_none() {
        return Err(Error::invalid(
            "design",
            format!("'{}'", a.design),
            "needs a [lens] section (and a [study] section for a design study)",
        ));
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&name));
    // everything checked before the library: the folder, a concurrent run, another design's
    // results in the default folder, the size of every job
    let src = source_of(&a.design);
    crate::io::guard::preflight_dir(&out, &[Path::new(&a.design)])?;
    let _lock = crate::io::guard::Lock::acquire(&out)?;
    if a.out.is_none() {
        check_folder_owner(&out, &src)?;
    }
    preflight_budget(&design)?;
    let fullwave = if a.fullwave {
        Some(fullwave_options(&design, a.resolution, a.quiet)?)
    } else {
        None
    };
    for w in design.warnings() {
        eprintln!("warning: {w}");
    }
    write(&out.join(SOURCE_FILE), &src)?;
    if design.study.is_some() {
        return run_study(&design, &text, &name, &out, a.quiet);
    }
    let design_path = out.join("design.toml");
    write(&design_path, &text)?;
    let lib = out.join("library.h5");
    let t0 = Instant::now();
    let LibraryStage { library, reused } =
        library_stage(&design, &text, &design_path, &lib, a.quiet)?;
    let t_lib = t0.elapsed().as_secs_f64();
    crate::io::guard::check_interrupt(|| {
        format!(
            "the library is saved in {}; rerun the same command to go on",
            lib.display()
        )
    })?;
    let LensStage {
        focus,
        layout,
        record,
        t_layout_s: t_lay,
        t_propagate_s: t_prop,
    } = lens_stage(&design, &design_path, &library, &lib, &out, a.quiet)?;
    drop(library);
    let t1 = Instant::now();
    let fw = match &fullwave {
        Some(o) => Some(fullwave_stage(o, &record, &out)?),
        None => None,
    };
    let t_fw = t1.elapsed().as_secs_f64();
    let study = study_of(&design);
    let bound = match study {
        Some(st) => Some(perfect_lens_bound(&focus, st)?),
        None => None,
    };
    let mem = peak_memory_mb();
    let report = json!({
        "perfect_lens_bound": bound.as_ref().map(|b| &b.0),
        "fullwave": fw.as_ref().map(|v| {
            let mut v = v.clone();
            v["wall_time_s"] = json!(t_fw);
            v
        }),
        "design": name, "design_text": text, "version": crate::VERSION, "conventions": crate::CONVENTIONS,
        "study": study.map(|s| json!({"lens": s.0, "na": s.1, "focusing_efficiency": s.2, "fwhm_lambda": s.3})),
        "closest_definitions": study.map(|s| closest(&focus, s.2, s.3)),
        "focus": focus, "layout": layout,
        "library_reused": reused,
        "wall_time_s": {"library": t_lib, "layout": t_lay, "propagate": t_prop},
        "peak_memory_mb": mem,
    });
    write_json(&out.join("report.json"), &report)?;
    let mut md = markdown(
        &name,
        &text,
        study,
        &focus,
        &layout,
        [t_lib, t_lay, t_prop],
        mem,
        bound.as_ref().map(|b| b.1.as_str()),
    );
    if let Some(v) = &fw {
        md += &fullwave_markdown(v, study, t_fw);
    }
    write(&out.join("report.md"), &md)?;
    let html = crate::io::html::markdown_to_html(&md, &format!("metalens: {name}"), &out)?;
    write(&out.join("report.html"), &html)?;
    if !a.quiet {
        print!("{}", summary_single(&name, &focus, study, &out));
        if let Some(v) = &fw {
            print_fullwave_summary(v, &out);
        }
    }
    Ok(())
}

/// One line of the full-wave results of a run (`v`: its `fullwave` report block) beside the
/// LPA and the ideal lens.
fn print_fullwave_summary(v: &Value, out: &Path) {
    let e = |b: &str, k: &str| pct(num(&v[b], &["efficiency", k]));
    println!(
        "full-wave (3-D FDTD, {} px/µm): transmitted_r3 {} (LPA {}, ideal {}), incident_r3 {} (LPA {}); figures in {}",
        v["resolution_px_per_um"],
        e("fullwave", "transmitted_r3"),
        e("lpa", "transmitted_r3"),
        e("ideal", "transmitted_r3"),
        e("fullwave", "incident_r3"),
        e("lpa", "incident_r3"),
        out.join("focus-fullwave").display()
    );
}

/// The full-wave settings of `reproduce --fullwave`, checked before any stage runs: a single
/// lens, a linear polarisation of the design's `[propagation]`, a valid resolution.
fn fullwave_options(
    design: &Design,
    resolution: Option<f64>,
    quiet: bool,
) -> Result<super::fullwave3d::FullwaveOptions> {
    use crate::nearfield::{Polarization, Surround};
    if design.study.is_some() {
        return Err(Error::invalid(
            "--fullwave",
            "a design study",
            "applies to a single lens: run `metalens fullwave LAYOUT.h5` on the study's lens folders (out/<name>/lenses/*/layout.h5)",
        ));
    }
    let prop = design.propagation.clone().unwrap_or_default();
    let pol = match prop.polarization {
        Polarization::X | Polarization::Y => prop.polarization,
        other => {
            return Err(Error::invalid(
                "[propagation] polarization",
                format!("{other:?}"),
                "the 3-D FDTD solves x or y (use one of them with --fullwave)",
            ))
        }
    };
    let mut o = super::fullwave3d::FullwaveOptions::at_resolution(
        resolution.unwrap_or(crate::fdtd::DEFAULT_RESOLUTION),
        pol,
    );
    o.outside = match prop.aperture {
        Surround::Opaque => crate::fdtd::lens::Aperture::Opaque,
        Surround::Substrate => crate::fdtd::lens::Aperture::Bare,
    };
    o.quiet = quiet;
    o.settings.validate()?;
    Ok(o)
}

/// The laid-out lens solved full-wave: figures into `out/focus-fullwave`, the record (the
/// full-wave, LPA and ideal blocks of `propagate --json`, and the FDTD run) returned.
fn fullwave_stage(
    o: &super::fullwave3d::FullwaveOptions,
    layout: &crate::io::layout_file::LayoutFile,
    out: &Path,
) -> Result<Value> {
    let fw = super::fullwave3d::fullwave_focus(layout, o)?;
    let r = &fw.results[0];
    let dir = out.join("focus-fullwave");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    crate::plot::focal::write_all(&dir, &fw.spec, &r.fullwave, Some(&r.ideal))?;
    let doc = |kind: &str, res: &crate::metrics::pipeline::LensResult| {
        super::propagate::document(kind, &fw.spec, r.pol, res, None, &[])
    };
    let f = &fw.solution.facts[0];
    Ok(json!({
        "method": "3-D FDTD (src/fdtd), near field through the same propagation and metrics",
        "resolution_px_per_um": fw.solution.resolution,
        "polarization": r.pol.name(),
        "fullwave": doc("fullwave (3-D FDTD)", &r.fullwave),
        "lpa": doc("layout (local periodic approximation)", &r.lpa),
        "ideal": doc("ideal", &r.ideal),
        "fdtd": {"grid": [f.nx, f.ny, f.nz], "steps": f.steps, "wall_s": f.wall_s,
                 "bytes": f.bytes, "cell_updates_per_s": f.cell_updates_per_s,
                 "transmittance": r.transmitted_flux / fw.solution.incident_power},
    }))
}

/// The report's full-wave section: LPA, full-wave and ideal side by side, every definition.
fn fullwave_markdown(v: &Value, study: Option<&(&str, f64, f64, f64)>, t_s: f64) -> String {
    let mut s = format!(
        "\n## Full-wave check (3-D FDTD, {} px/µm, {}-polarised)\n\n",
        v["resolution_px_per_um"],
        v["polarization"].as_str().unwrap_or("")
    );
    s += "The same layout solved full-wave by the built-in FDTD (`src/fdtd`, validation/fullwave3d/README.md); its near field goes through the same propagation and metrics as the LPA column. Figures: `focus-fullwave/`.\n\n";
    s += "| quantity | LPA | full-wave | ideal lens | study |\n|---|---|---|---|---|\n";
    let st_eff = study.map(|st| format!("{:.0} % (definition not stated)", 100.0 * st.2));
    let st_fwhm = study.map(|st| format!("{:.2} λ", st.3));
    let row = |label: &str, path: &[&str], f: &dyn Fn(Option<f64>) -> String, st: Option<&str>| {
        format!(
            "| {label} | {} | {} | {} | {} |\n",
            f(num(&v["lpa"], path)),
            f(num(&v["fullwave"], path)),
            f(num(&v["ideal"], path)),
            st.unwrap_or("")
        )
    };
    s += &row("transmission", &["transmission_efficiency"], &pct, None);
    for (k, meaning) in EFF_KEYS {
        s += &row(
            &format!("efficiency `{k}` ({meaning})"),
            &["efficiency", k],
            &pct,
            st_eff.as_deref(),
        );
    }
    s += &row(
        "FWHM transverse x (λ)",
        &["fwhm", "transverse", "x_lambda"],
        &fix3,
        st_fwhm.as_deref(),
    );
    s += &row(
        "FWHM transverse y (λ)",
        &["fwhm", "transverse", "y_lambda"],
        &fix3,
        st_fwhm.as_deref(),
    );
    s += &row("Strehl ratio", &["strehl"], &fix3, None);
    s += &row("focal shift (µm)", &["focal_shift_um"], &fix3, None);
    s += &format!(
        "\nFDTD grid {}, {} steps, {:.0} s (the whole stage {:.0} s).\n",
        v["fdtd"]["grid"],
        v["fdtd"]["steps"],
        v["fdtd"]["wall_s"].as_f64().unwrap_or(f64::NAN),
        t_s
    );
    s
}

/// An efficiency entry of propagate.json (`incident_rK`, `transmitted_rK`; not the radii).
fn is_efficiency_key(k: &str) -> bool {
    k.starts_with("incident_r") || k.starts_with("transmitted_r")
}

/// File in an output folder naming the design that wrote it.
const SOURCE_FILE: &str = ".design-source";

/// What a design argument stands for: "built-in design mk1" or the file's absolute path.
fn source_of(arg: &str) -> String {
    let p = Path::new(arg);
    if p.is_file() {
        format!(
            "file {}",
            p.canonicalize()
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
        )
    } else {
        format!("built-in design {arg}")
    }
}

/// The default folder out/<name> may hold another design of the same name (the built-in mk1
/// and a file sub/mk1.toml): refuse instead of overwriting its results.
fn check_folder_owner(out: &Path, src: &str) -> Result<()> {
    if let Ok(prev) = std::fs::read_to_string(out.join(SOURCE_FILE)) {
        if prev.trim() != src.trim() {
            return Err(Error::invalid(
                "output folder",
                out.display(),
                format!(
                    "holds the results of the {}, not of the {src}: give --out DIR (or remove the folder)",
                    prev.trim()
                ),
            ));
        }
    }
    Ok(())
}

/// The study's lens this design says it reproduces (`reproduces = "mk1"`), if any.
fn study_of(design: &Design) -> Option<&'static (&'static str, f64, f64, f64)> {
    let r = design.reproduces.as_deref()?;
    STUDY.iter().find(|s| s.0 == r)
}

/// Refuse a job beyond the machine before any work: the library sweep and every lens.
fn preflight_budget(design: &Design) -> Result<()> {
    let spec = SweepSettings::from_design(design)?;
    let cells: usize = spec.wavelengths.len()
        * spec.heights.len()
        * spec
            .pitches
            .iter()
            .map(|&p| spec.radii.partition_point(|&r| spec.fits(p, r)))
            .sum::<usize>();
    let solves = match spec.polarization {
        crate::io::design::LibraryPolarization::X => 1.0,
        crate::io::design::LibraryPolarization::Both => 2.0,
    };
    crate::io::budget::check_library(cells, spec.harmonics, solves, rayon::current_num_threads())?;
    let Some(lens) = &design.lens else {
        return Ok(());
    };
    let mut nas: Vec<f64> = lens.na.into_iter().collect();
    let mut pitches = vec![lens.pitch];
    if let Some(st) = &design.study {
        nas = st.nas.clone();
        pitches = spec.pitches.clone();
    }
    let nas = if nas.is_empty() { vec![0.0] } else { nas };
    let sp = design
        .propagation
        .as_ref()
        .and_then(|p| p.samples_per_pitch);
    for &p in &pitches {
        for &na in &nas {
            // as `metalens propagate`: at least 4 samples per pitch, fine enough for the NA
            let auto = ((2.5 * na * p / design.source.wavelength).ceil() as usize).max(4);
            let (b, pillars, n_fft) =
                crate::io::budget::check_lens(lens.diameter, p, sp.unwrap_or(auto), 2.0)?;
            if b > 2.0 * 1024f64.powi(3) {
                // a large lens starts with a word about its size
                eprintln!(
                    "note: lens at pitch {p} µm: {pillars:.3e} pillars, {n_fft}² FFT grid, about {} of memory",
                    crate::io::budget::bytes(b)
                );
            }
        }
    }
    Ok(())
}

/// The few lines printed at the end of a run: headline numbers and where the report is.
fn summary_single(
    name: &str,
    focus: &Value,
    study: Option<&(&str, f64, f64, f64)>,
    out: &Path,
) -> String {
    let ideal = &focus["ideal"];
    let mut s = format!("{name}: ");
    let mut parts = Vec::new();
    if let Some(obj) = focus["efficiency"].as_object() {
        for (k, v) in obj.iter().filter(|(k, _)| is_efficiency_key(k)) {
            parts.push(format!(
                "{k} {} (ideal {})",
                pct(v.as_f64()),
                pct(num(ideal, &["efficiency", k]))
            ));
        }
    }
    s += &parts.join(", ");
    s += &format!(
        "\n  FWHM x {} λ, y {} λ (ideal {} λ); Strehl {}; transmission {}\n",
        fix3(num(focus, &["fwhm", "transverse", "x_lambda"])),
        fix3(num(focus, &["fwhm", "transverse", "y_lambda"])),
        fix3(num(ideal, &["fwhm", "transverse", "x_lambda"])),
        fix3(num(focus, &["strehl"])),
        pct(num(focus, &["transmission_efficiency"])),
    );
    if let Some(st) = study {
        s += &format!(
            "  the study's {}: {:.0} %, FWHM {:.2} λ (our efficiencies are upper bounds: local periodic approximation)\n",
            st.0,
            100.0 * st.2,
            st.3
        );
    }
    s += &format!(
        "report: {} (report.html, report.json beside it)\n",
        out.join("report.md").display()
    );
    s
}

fn write_json(p: &Path, v: &Value) -> Result<()> {
    let t = serde_json::to_string_pretty(v)
        .map_err(|e| Error::numerical("reproduce", e.to_string()))?;
    write(p, &t)
}

/// Every efficiency and FWHM definition ranked by its distance to the study's number.
fn closest(focus: &Value, eff: f64, fwhm: f64) -> Value {
    let mut e: Vec<(String, f64)> = EFF_KEYS
        .iter()
        .filter_map(|(k, _)| num(focus, &["efficiency", k]).map(|v| (k.to_string(), v)))
        .collect();
    e.sort_by(|a, b| (a.1 - eff).abs().total_cmp(&(b.1 - eff).abs()));
    let mut w: Vec<(String, f64)> = Vec::new();
    for (kind, _) in FWHM_KINDS {
        for ax in ["x", "y"] {
            if let Some(v) = num(focus, &["fwhm", kind, &format!("{ax}_lambda")]) {
                w.push((format!("{kind}_{ax}"), v));
            }
        }
    }
    w.sort_by(|a, b| (a.1 - fwhm).abs().total_cmp(&(b.1 - fwhm).abs()));
    json!({
        "efficiency": e.iter().map(|(k, v)| json!({"definition": k, "value": v, "difference": v - eff})).collect::<Vec<_>>(),
        "fwhm_lambda": w.iter().map(|(k, v)| json!({"definition": k, "value": v, "difference": v - fwhm})).collect::<Vec<_>>(),
    })
}

fn lens_table(study: Option<&(&str, f64, f64, f64)>, f: &Value) -> String {
    let ideal = f.get("ideal").cloned().unwrap_or(Value::Null);
    let mut s = String::from(
        "| quantity | reference study | this design | ideal lens, same NA and size |\n|---|---|---|---|\n",
    );
    let (se, sf) = study
        .map(|s| (format!("{:.0} %", 100.0 * s.2), format!("{:.2} λ", s.3)))
        .unwrap_or(("n/a".into(), "n/a".into()));
    // one row per efficiency the propagation computed ([propagation] efficiency_radii)
    let keys: Vec<String> = f["efficiency"]
        .as_object()
        .map(|o| o.keys().filter(|k| is_efficiency_key(k)).cloned().collect())
        .unwrap_or_else(|| EFF_KEYS.iter().map(|k| k.0.to_string()).collect());
    for key in &keys {
        s += &format!(
            "| focusing efficiency `{key}` | {se} | {} | {} |\n",
            pct(num(f, &["efficiency", key])),
            pct(num(&ideal, &["efficiency", key]))
        );
    }
    s += &format!(
        "| transmission efficiency | | {} | {} |\n",
        pct(num(f, &["transmission_efficiency"])),
        pct(num(&ideal, &["transmission_efficiency"]))
    );
    for (kind, label) in FWHM_KINDS {
        for ax in ["x", "y"] {
            s += &format!(
                "| FWHM {label} along {ax} (λ) | {sf} | {} | {} |\n",
                fix3(num(f, &["fwhm", kind, &format!("{ax}_lambda")])),
                fix3(num(&ideal, &["fwhm", kind, &format!("{ax}_lambda")]))
            );
        }
    }
    s += &format!("| Strehl ratio | | {} | 1 |\n", fix3(num(f, &["strehl"])));
    s += &format!(
        "| side-lobe level | | {} | {} |\n",
        fix3(num(f, &["side_lobe_level"])),
        fix3(num(&ideal, &["side_lobe_level"]))
    );
    s += &format!(
        "| focal shift (µm) | | {} | {} |\n",
        fix3(num(f, &["focal_shift_um"])),
        fix3(num(&ideal, &["focal_shift_um"]))
    );
    if study.is_none() {
        // the reference study's column only for designs that say they reproduce it
        s = drop_column(&s, 1);
    }
    s
}

/// A Markdown table without its column `col`.
fn drop_column(table: &str, col: usize) -> String {
    let mut out = String::new();
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').collect();
        // "| a | b | c |" splits into ["", " a ", " b ", " c ", ""]
        let kept: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != col + 1)
            .map(|(_, c)| *c)
            .collect();
        out += &kept.join("|");
        out.push('\n');
    }
    out
}

const DEFINITIONS: &str = "Definitions (all from the same focal plane, the plane of maximum on-axis intensity): `incident_rK` = power of the axial Poynting flux Sz inside a circle of radius K·FWHM around the focal point (the maximum of Sz) ÷ power incident on the lens aperture (unit plane wave in the substrate); `transmitted_rK` = the same power ÷ the power transmitted through the lens (Sz of the propagating part of the aperture field). K = 1.5 is the common \"circle of diameter three FWHM\", K = 3 the \"radius three FWHM\" variant. The FWHM of the circle is the mean x/y FWHM of the transverse intensity. FWHM is that of the central lobe through the focal point, n/a where the quantity has a dip there (the |E|² of an x-polarised focus near NA 1 has two |Ez|² lobes beside the axis). Strehl = total intensity at the focal point ÷ the ideal lens's. Side-lobe level: of Sz. Full definitions: `focus/propagate.json`, block `definitions`.\n\n";

const LPA_NOTE: &str = "About the near field: it is built by the local periodic approximation, each site carrying its library cell's normal-incidence field ratio t, and sent on as the light leaves a lens there: towards the focus at the local deflection angle θ, split into its s and p parts about the local plane of incidence, with the power the cell transmits (|E_s| ∝ 1/√cos θ, the tangential p field ∝ √cos θ; `metalens::nearfield::ApertureModel`). The ideal lens is the same construction with perfect cells: the energy-conserving flat lens, whose transmission falls short of 1 only by what its hard edge diffracts onto and beyond the light line. Under the `incident_rK` definitions it bounds every design; under `transmitted_rK`, which divide by each lens's own transmitted power and draw the circle at each lens's own FWHM, a design can score above it. The approximation itself ignores the coupling of unlike neighbours and the oblique incidence on the cells at the rim of a high-NA lens, where the phase gradient is a grating of three or four pillars: the full-wave check (`--fullwave`, validation/fullwave3d/) measures what that costs, and the efficiencies of this section are upper estimates until it has run. (`metalens propagate --aperture-model tangential` gives the construction before issue 25, a uniform tangential field E_t = t·E_inc, whose steep p light carries 1/cos θ too much power: its ideal lens transmits 114 % at NA 0.9 and 152 % at NA 0.99.)\n\n";

/// Diameters (µm) at which a report sets the perfect flat lens of the study's NA against the
/// study's efficiency (besides the design's own); validation/propagation/ideal_lens.md goes
/// to 100 µm.
const BOUND_DIAMETERS_UM: [f64; 4] = [5.0, 10.0, 20.0, 40.0];

/// The perfect flat lens of the lens of `focus` (its `lens` block: wavelength, NA, media) at
/// [`BOUND_DIAMETERS_UM`] and at the lens's own diameter, round and cylindrical, and the
/// report's paragraph on which definitions reach the study's efficiency.
fn perfect_lens_bound(
    focus: &Value,
    study: &(&str, f64, f64, f64),
) -> Result<(Vec<crate::bound::BoundPoint>, String)> {
    let lens = |k: &str| {
        num(focus, &["lens", k]).ok_or_else(|| {
            Error::numerical("reproduce", format!("the focus record has no lens.{k}"))
        })
    };
    let d = lens("diameter_um")?;
    let mut diameters = BOUND_DIAMETERS_UM.to_vec();
    if !diameters.iter().any(|&x| (x - d).abs() < 1e-9) {
        diameters.push(d);
    }
    let k: Vec<f64> = focus["efficiency"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter_map(|key| key.strip_prefix("incident_r")?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let points = crate::bound::perfect_lens_bounds(
        lens("wavelength_um")?,
        lens("na")?,
        lens("n_incident")?,
        lens("n_exit")?,
        &diameters,
        &k,
        60,
    )?;
    let text = crate::bound::reach_paragraph(
        &points,
        study.2,
        d,
        &format!("the study's {:.0} % (NA {})", 100.0 * study.2, study.1),
    );
    Ok((points, text))
}

#[allow(clippy::too_many_arguments)]
fn markdown(
    name: &str,
    design_text: &str,
    study: Option<&(&str, f64, f64, f64)>,
    f: &Value,
    layout: &Value,
    t: [f64; 3],
    mem: Option<f64>,
    bound: Option<&str>,
) -> String {
    let mut s = format!("# metalens reproduction: {name}\n\n");
    s += &format!("metalens {} · {}\n\n", crate::VERSION, crate::CONVENTIONS);
    s += &lens_table(study, f);
    s.push('\n');
    s += DEFINITIONS;
    if let Some(st) = study {
        let c = closest(f, st.2, st.3);
        let e0 = &c["efficiency"][0];
        let w0 = &c["fwhm_lambda"][0];
        s += &format!(
            "**Against the study** (our efficiencies are upper bounds, see the note on the local periodic approximation below). Efficiency: the definition nearest the study's number is `{}` = {} against the study's {:.0} % ({:+.1} points); the others in order: {}. FWHM: {} = {:.3} λ against {:.2} λ ({:+.3} λ). ",
            e0["definition"].as_str().unwrap_or(""),
            pct(e0["value"].as_f64()),
            100.0 * st.2,
            100.0 * e0["difference"].as_f64().unwrap_or(f64::NAN),
            c["efficiency"].as_array().map(|a| a[1..].iter().map(|x| format!("`{}` {}", x["definition"].as_str().unwrap_or(""), pct(x["value"].as_f64()))).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
            w0["definition"].as_str().unwrap_or("").replace('_', " along "),
            w0["value"].as_f64().unwrap_or(f64::NAN),
            st.3,
            w0["difference"].as_f64().unwrap_or(f64::NAN),
        );
        s += "The study does not state its definitions or its lens size; validation/reproduction.md discusses what the comparison across both lenses implies.\n\n";
    }
    if let Some(b) = bound {
        s += b;
    }
    s += LPA_NOTE;
    if let Some(r) = layout.get("report") {
        s += &format!(
            "Layout: {} pillars, phase coverage of the library {:.2} rad of 2π, RMS phase error {:.3} rad, RMS complex error {:.3}, smallest gap {:.3} µm.\n\n",
            r["pillars"].as_u64().unwrap_or(0),
            r["coverage"].as_f64().unwrap_or(f64::NAN),
            r["rms_phase_error"].as_f64().unwrap_or(f64::NAN),
            r["rms_complex_error"].as_f64().unwrap_or(f64::NAN),
            r["min_gap"].as_f64().unwrap_or(f64::NAN),
        );
    }
    s += &format!(
        "Wall time: library {:.1} s, layout {:.1} s, propagation {:.1} s; peak memory {}.\n\n",
        t[0],
        t[1],
        t[2],
        mem.map_or("n/a".into(), |m| format!("{m:.0} MB"))
    );
    s += "## Figures\n\n";
    for (file, cap) in [
        (
            "focus/focal_plane.png",
            "focal-plane |E|² with the efficiency circles (1.5 and 3 FWHM)",
        ),
        (
            "focus/focal_plane_sz.png",
            "focal-plane axial flux Sz (what the efficiencies integrate), same circles",
        ),
        (
            "focus/cut_x.png",
            "x cut through the focus against the ideal lens",
        ),
        (
            "focus/cut_y.png",
            "y cut through the focus against the ideal lens",
        ),
        ("focus/xz_section.png", "x–z section through the focus"),
        ("focus/yz_section.png", "y–z section through the focus"),
        ("focus/on_axis.png", "on-axis intensity"),
        ("layout_pillars_zoom.png", "pillar layout (zoom)"),
        ("layout_phase.png", "target and realised phase along x"),
        ("layout_phase_error.png", "phase error map"),
    ] {
        s += &format!("![{cap}]({file})\n\n");
    }
    s += "## Assumptions (the design file; sources in its comments)\n\n```toml\n";
    s += design_text;
    s += "\n```\n\nFiles: `library.h5`, `layout.h5`, `layout.gds`, `layout*.png`, `focus/` (figures and `propagate.json`), `report.json` (every number), `report.html` (this report with the figures inline).\n";
    s
}

// ------------------------------------------------------------------------------------------
// design studies

/// One lens of a study: its NA, pitch, folder and results.
struct StudyLens {
    na: f64,
    pitch: f64,
    tag: String,
    focus: Value,
    layout: Value,
    reused: bool,
}

/// One lens of a study before it is run: its NA, pitch, folder tag, design and the design's
/// text (recorded in its folder and, with the library's identity, its completion marker).
struct DerivedLens {
    na: f64,
    pitch: f64,
    tag: String,
    design: Design,
    text: String,
}

/// Every lens of the study (each NA at each library pitch), derived and checked before any
/// work: a bad NA fails in a second, not an hour in.
fn derive_study_lenses(design: &Design, name: &str, nas: &[f64]) -> Result<Vec<DerivedLens>> {
    let pitches = design.pitches()?;
    let (_, _, exit) = design.materials.parse()?;
    let n_exit = exit.index(design.source.wavelength)?.re;
    let mut derived = Vec::new();
    for &na in nas {
        for &p in &pitches {
            let mut d = design.clone();
            d.study = None;
            if let Some(l) = d.lens.as_mut() {
                l.na = Some(na);
                l.focal_length = None;
                l.pitch = p;
            }
            d.name = Some(format!("{name}-na{na}-p{p}"));
            d.validate()?;
            if let Some(l) = &d.lens {
                l.lens(d.source.wavelength, n_exit)?;
            }
            let body = toml::to_string(&d)
                .map_err(|e| Error::numerical("reproduce", format!("design to TOML: {e}")))?;
            let text = format!(
                "# derived by metalens {} from `{name}`: the study's [lens] at NA {na}, pitch {p} µm\n{body}",
                crate::VERSION
            );
            derived.push(DerivedLens {
                na,
                pitch: p,
                tag: format!("na{na:.2}-p{p:.3}"),
                design: d,
                text,
            });
        }
    }
    Ok(derived)
}

/// One lens of the study into `out/lenses/<tag>`: reused when the folder's completion marker
/// names the same derived design and library sweep (and the library was reused), laid out
/// and propagated otherwise.
fn study_lens(
    lens: DerivedLens,
    library: &LibraryStage,
    lib: &Path,
    lib_identity: &str,
    out: &Path,
) -> Result<StudyLens> {
    let dir = out.join("lenses").join(&lens.tag);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let dpath = dir.join("design.toml");
    let done = dir.join("focus").join("propagate.json");
    // reused only when complete: the marker is written last and names the derived design
    // and the library sweep
    let identity = format!("{}\nlibrary: {lib_identity}", lens.text);
    let (focus, layout, reused) =
        if library.reused && crate::io::guard::marker_matches(&dir, &identity) {
            (
                read_json(&done)?,
                read_json(&dir.join("layout.json"))?,
                true,
            )
        } else {
            crate::io::guard::clear_marker(&dir)?;
            let _ = std::fs::remove_file(&done);
            write(&dpath, &lens.text)?;
            let stage = lens_stage(&lens.design, &dpath, &library.library, lib, &dir, true)?;
            crate::io::guard::write_marker(&dir, &identity)?;
            (stage.focus, stage.layout, false)
        };
    Ok(StudyLens {
        na: lens.na,
        pitch: lens.pitch,
        tag: lens.tag,
        focus,
        layout,
        reused,
    })
}

/// The study's report.json: every lens's numbers with the reference study's, and `run`
/// (library reuse, wall times, memory) merged in.
fn study_json(
    name: &str,
    text: &str,
    nas: &[f64],
    pitches: &[f64],
    lenses: &[StudyLens],
    run: Value,
) -> Value {
    let rows: Vec<Value> = lenses
        .iter()
        .map(|l| {
            json!({"na": l.na, "pitch_um": l.pitch, "folder": format!("lenses/{}", l.tag),
                   "reused": l.reused, "focus": l.focus,
                   "layout": l.layout.get("report").map(|r| json!({
                       "pillars": r["pillars"], "coverage_rad": r["coverage"],
                       "rms_phase_error_rad": r["rms_phase_error"], "rms_complex_error": r["rms_complex_error"],
                       "amplitude": r["amplitude"]}))})
        })
        .collect();
    let mut doc = json!({
        "design": name, "design_text": text, "version": crate::VERSION, "conventions": crate::CONVENTIONS,
        "kind": "study", "nas": nas, "pitches_um": pitches,
        "study_reference": STUDY.iter().map(|s| json!({"lens": s.0, "na": s.1, "focusing_efficiency": s.2, "fwhm_lambda": s.3})).collect::<Vec<_>>(),
        "lenses": rows,
    });
    if let (Value::Object(d), Value::Object(r)) = (&mut doc, run) {
        d.extend(r);
    }
    doc
}

/// The lines printed at the end of a study: lenses run and reused, the best pitch per NA.
fn print_study_summary(name: &str, nas: &[f64], pitches: &[f64], lenses: &[StudyLens], out: &Path) {
    println!(
        "{name}: {} lenses ({} reused) at NA {:?} and pitches {:?} µm",
        lenses.len(),
        lenses.iter().filter(|l| l.reused).count(),
        nas,
        pitches
    );
    for &na in nas {
        if let Some(best) = lenses.iter().filter(|l| l.na == na).max_by(|a, b| {
            num(&a.focus, &["efficiency", "transmitted_r3"])
                .unwrap_or(f64::MIN)
                .total_cmp(&num(&b.focus, &["efficiency", "transmitted_r3"]).unwrap_or(f64::MIN))
        }) {
            println!(
                "  NA {na}: best transmitted_r3 {} at pitch {:.3} µm (upper bound: local periodic approximation)",
                pct(num(&best.focus, &["efficiency", "transmitted_r3"])),
                best.pitch
            );
        }
    }
    println!(
        "report: {} (report.html, report.json beside it)",
        out.join("report.md").display()
    );
}

fn run_study(design: &Design, text: &str, name: &str, out: &Path, quiet: bool) -> Result<()> {
    let t0 = Instant::now();
    let nas = design
        .study
        .as_ref()
        .map(|s| s.nas.clone())
        .unwrap_or_default();
    let pitches = design.pitches()?;
    let derived = derive_study_lenses(design, name, &nas)?;
    let design_path = out.join("design.toml");
    write(&design_path, text)?;
    let lib = out.join("library.h5");
    let library = library_stage(design, text, &design_path, &lib, quiet)?;
    let t_lib = t0.elapsed().as_secs_f64();
    let bar = super::progress::bar(
        super::progress::visible(quiet),
        Some("{msg:>18} [{bar:40}] {pos}/{len} lenses, {elapsed} (eta {eta})"),
    );
    bar.set_length(derived.len() as u64);
    let mut lenses = Vec::new();
    let t1 = Instant::now();
    let total = derived.len();
    let lib_identity = SweepSettings::from_design(design)?.fingerprint();
    for lens in derived {
        bar.set_message(lens.tag.clone());
        let finished = lenses.len();
        crate::io::guard::check_interrupt(|| {
            format!(
                "the library and {finished} of {total} lenses are saved in {}; rerun the same command to go on from there",
                out.display()
            )
        })?;
        lenses.push(study_lens(lens, &library, &lib, &lib_identity, out)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let t_lenses = t1.elapsed().as_secs_f64();
    study_figures(out, &nas, &lenses)?;
    let mem = peak_memory_mb();
    let run = json!({
        "library_reused": library.reused,
        "wall_time_s": {"library": t_lib, "lenses": t_lenses, "total": t0.elapsed().as_secs_f64()},
        "peak_memory_mb": mem,
    });
    let report = study_json(name, text, &nas, &pitches, &lenses, run);
    write_json(&out.join("report.json"), &report)?;
    let md = study_markdown(
        name,
        text,
        &nas,
        &lenses,
        [t_lib, t_lenses],
        mem,
        library.reused,
    );
    write(&out.join("report.md"), &md)?;
    let html = crate::io::html::markdown_to_html(&md, &format!("metalens: {name}"), out)?;
    write(&out.join("report.html"), &html)?;
    if !quiet {
        print_study_summary(name, &nas, &pitches, &lenses, out);
    }
    Ok(())
}

fn study_figures(out: &Path, nas: &[f64], lenses: &[StudyLens]) -> Result<()> {
    let curve = |na: f64, f: &dyn Fn(&Value) -> Option<f64>| -> Vec<(f64, f64)> {
        lenses
            .iter()
            .filter(|l| l.na == na)
            .map(|l| (l.pitch, f(&l.focus).unwrap_or(f64::NAN)))
            .collect()
    };
    // the ideal lens does not depend on the pitch (up to its sampling): a line at its mean
    let ideal_line = |na: f64, f: &dyn Fn(&Value) -> Option<f64>| -> Vec<(f64, f64)> {
        let c = curve(na, &|v: &Value| f(&v["ideal"]));
        let vals: Vec<f64> = c.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
        let m = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
        c.iter().map(|p| (p.0, m)).collect()
    };
    let mut eff_panels = Vec::new();
    let mut fwhm_panels = Vec::new();
    let mut strehl_panels = Vec::new();
    for &na in nas {
        let mut series = Vec::new();
        for (i, (key, _)) in EFF_KEYS.iter().enumerate() {
            let k = key.to_string();
            series.push(Series {
                label: k.clone(),
                colour: i,
                dashed: false,
                points: curve(na, &|v: &Value| {
                    num(v, &["efficiency", &k]).map(|x| 100.0 * x)
                }),
            });
            series.push(Series {
                label: format!("ideal {k}"),
                colour: i,
                dashed: true,
                points: ideal_line(na, &|v: &Value| {
                    num(v, &["efficiency", &k]).map(|x| 100.0 * x)
                }),
            });
        }
        eff_panels.push(Panel {
            title: format!("NA {na}: focusing efficiency"),
            series,
        });
        let mut series = Vec::new();
        for (i, ax) in ["x", "y"].iter().enumerate() {
            let key = format!("{ax}_lambda");
            series.push(Series {
                label: format!("FWHM {ax} (transverse)"),
                colour: i,
                dashed: false,
                points: curve(na, &|v: &Value| num(v, &["fwhm", "transverse", &key])),
            });
            series.push(Series {
                label: format!("ideal FWHM {ax}"),
                colour: i,
                dashed: true,
                points: ideal_line(na, &|v: &Value| num(v, &["fwhm", "transverse", &key])),
            });
        }
        fwhm_panels.push(Panel {
            title: format!("NA {na}: FWHM (λ)"),
            series,
        });
        // the Strehl ratio on its own axes (a ratio, not a length)
        strehl_panels.push(Panel {
            title: format!("NA {na}: Strehl ratio"),
            series: vec![Series {
                label: "Strehl ratio (ideal lens = 1)".into(),
                colour: 2,
                dashed: false,
                points: curve(na, &|v: &Value| num(v, &["strehl"])),
            }],
        });
    }
    write_panels(
        &out.join("efficiency_vs_pitch"),
        &eff_panels,
        "pitch (µm)",
        "focusing efficiency (%)",
        None,
    )?;
    write_panels(
        &out.join("fwhm_vs_pitch"),
        &fwhm_panels,
        "pitch (µm)",
        "transverse FWHM (λ)",
        None,
    )?;
    write_panels(
        &out.join("strehl_vs_pitch"),
        &strehl_panels,
        "pitch (µm)",
        "Strehl ratio",
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn study_markdown(
    name: &str,
    text: &str,
    nas: &[f64],
    lenses: &[StudyLens],
    t: [f64; 2],
    mem: Option<f64>,
    lib_reused: bool,
) -> String {
    let mut s = format!("# metalens design study: {name}\n\n");
    s += &format!(
        "metalens {} · {}\n\nThe [lens] of the design laid out at every pitch of the library and every NA of the study, all from one library (each cell computed once). Nothing is tuned: every lens uses the design's rules.\n\n",
        crate::VERSION,
        crate::CONVENTIONS
    );
    s += "| NA | pitch (µm) | `incident_r1.5` | `incident_r3` | `transmitted_r1.5` | `transmitted_r3` | transmission | FWHM x (λ) | FWHM y (λ) | Strehl | phase coverage (rad) | RMS phase error (rad) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for l in lenses {
        let f = &l.focus;
        let r = l.layout.get("report").cloned().unwrap_or(Value::Null);
        s += &format!(
            "| {} | {:.3} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            l.na,
            l.pitch,
            pct(num(f, &["efficiency", "incident_r1.5"])),
            pct(num(f, &["efficiency", "incident_r3"])),
            pct(num(f, &["efficiency", "transmitted_r1.5"])),
            pct(num(f, &["efficiency", "transmitted_r3"])),
            pct(num(f, &["transmission_efficiency"])),
            fix3(num(f, &["fwhm", "transverse", "x_lambda"])),
            fix3(num(f, &["fwhm", "transverse", "y_lambda"])),
            fix3(num(f, &["strehl"])),
            fix3(r["coverage"].as_f64()),
            fix3(r["rms_phase_error"].as_f64()),
        );
    }
    s += "\nThe ideal lens (the perfect flat lens that conserves energy: exact hyperbolic phase, same NA, size and incident wave):\n\n| NA | `incident_r1.5` | `incident_r3` | `transmitted_r1.5` | `transmitted_r3` | FWHM x (λ) | FWHM y (λ) |\n|---|---|---|---|---|---|---|\n";
    for &na in nas {
        if let Some(l) = lenses.iter().find(|l| l.na == na) {
            let i = &l.focus["ideal"];
            s += &format!(
                "| {na} | {} | {} | {} | {} | {} | {} |\n",
                pct(num(i, &["efficiency", "incident_r1.5"])),
                pct(num(i, &["efficiency", "incident_r3"])),
                pct(num(i, &["efficiency", "transmitted_r1.5"])),
                pct(num(i, &["efficiency", "transmitted_r3"])),
                fix3(num(i, &["fwhm", "transverse", "x_lambda"])),
                fix3(num(i, &["fwhm", "transverse", "y_lambda"])),
            );
        }
    }
    s += "\n";
    // the trend, computed: best pitch and the gain from the largest to the smallest pitch
    for &na in nas {
        let mut v: Vec<(f64, f64)> = lenses
            .iter()
            .filter(|l| l.na == na)
            .filter_map(|l| num(&l.focus, &["efficiency", "transmitted_r3"]).map(|e| (l.pitch, e)))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let (Some(first), Some(last)) = (v.first(), v.last()) {
            let best = v
                .iter()
                .cloned()
                .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
            s += &format!(
                "**NA {na}:** `transmitted_r3` goes from {} at pitch {:.3} µm to {} at {:.3} µm; the best is {} at {:.3} µm.\n\n",
                pct(Some(last.1)),
                last.0,
                pct(Some(first.1)),
                first.0,
                pct(Some(best.1)),
                best.0
            );
        }
    }
    s += DEFINITIONS;
    s += LPA_NOTE;
    s += &format!(
        "Wall time: library {:.1} s{}, {} lenses {:.1} s; peak memory {}.\n\n",
        t[0],
        if lib_reused { " (reused)" } else { "" },
        lenses.len(),
        t[1],
        mem.map_or("n/a".into(), |m| format!("{m:.0} MB"))
    );
    s += "## Figures\n\n![focusing efficiency versus pitch (dashed: ideal lens)](efficiency_vs_pitch.png)\n\n![FWHM versus pitch (dashed: ideal lens)](fwhm_vs_pitch.png)\n\n![Strehl ratio versus pitch](strehl_vs_pitch.png)\n\n";
    s += "Each lens's own figures and numbers are in `lenses/<NA>-<pitch>/` (layout, GDSII, `focus/`).\n\n";
    s += "## Assumptions (the design file; sources in its comments)\n\n```toml\n";
    s += text;
    s += "\n```\n";
    s
}
