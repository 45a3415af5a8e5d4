//! `metalens fullwave`: a 1-D lens solved full-wave (supercell RCWA) against the local periodic
//! approximation; prints and plots both side by side (see [`crate::fullwave`]).

use crate::fullwave::solver1d::Polarization;
use crate::fullwave::{run_polarization, PolarizationResult, RunOptions};
use crate::io::fullwave_design::FullwaveDesign;
use crate::io::write_atomic;
use crate::{Error, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Arguments of `metalens fullwave`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A 1-D design file (TOML, e.g. designs/fullwave-mk1.toml: supercell RCWA) or a layout
    /// file (HDF5, written by `metalens layout` / `reproduce`: 3-D FDTD).
    pub design: PathBuf,
    /// Output folder (default out/fullwave-<name>, or out/fullwave3d-<layout name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Polarisation. 1-D: te (E along the ridges), tm (H along the ridges) or both (default).
    /// Layout (3-D): x (default), y or both.
    #[arg(long)]
    pub pol: Option<String>,
    /// 3-D FDTD grid resolution, cells per µm (default 40).
    #[arg(long = "resolution")]
    pub resolution: Option<f64>,
    /// 3-D: what lies outside the lens aperture at the substrate surface: opaque (a PEC
    /// screen, as the LPA's default opaque stop) or bare substrate.
    #[arg(long, default_value = "opaque")]
    pub outside: String,
    /// 3-D: solve the whole grid instead of a quarter with the mirror planes x = 0 and y = 0.
    #[arg(long)]
    pub no_symmetry: bool,
    /// 3-D, for layout files written before the pillar record: pillar height, µm.
    #[arg(long = "pillar-height")]
    pub pillar_height_um: Option<f64>,
    /// 3-D, with --pillar-height: pillar material (index "2.74", preset "srn", or a file).
    #[arg(long = "pillar-index")]
    pub pillar_index: Option<String>,
    /// 3-D: height of the near-field plane above the pillar tops, µm (default 0.15; it must
    /// lie above the pillars).
    #[arg(long = "monitor-height", allow_negative_numbers = true)]
    pub monitor_height_um: Option<f64>,
    /// 3-D: stop once the field energy on the monitor planes over one period falls below this
    /// fraction of its peak (default 1e-5, chosen by the study in validation/fullwave3d/README.md).
    #[arg(long, allow_negative_numbers = true)]
    pub decay: Option<f64>,
    /// 3-D: scale each medium's index to cancel the grid's axial numerical dispersion (off for
    /// lenses: it is exact only for light along the axis; see `fdtd::lens`). For comparisons.
    #[arg(long = "dispersion-correction")]
    pub dispersion_correction: bool,
    /// 3-D: write the FDTD near field (Ex, Ey, Hx, Hy) as a near-field file
    /// (docs/near-field-format.md), readable by `metalens propagate --near-field`.
    #[arg(long = "save-near-field")]
    pub save_near_field: Option<PathBuf>,
    /// No progress bar and no text summary.
    #[arg(long)]
    pub quiet: bool,
    /// Print the JSON document to stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

fn polarizations(s: &str) -> Result<Vec<Polarization>> {
    match s.to_ascii_lowercase().as_str() {
        "te" => Ok(vec![Polarization::Te]),
        "tm" => Ok(vec![Polarization::Tm]),
        "both" => Ok(vec![Polarization::Te, Polarization::Tm]),
        _ => Err(Error::invalid(
            "--pol",
            format!("'{s}'"),
            "must be te, tm or both",
        )),
    }
}

/// The JSON document of a run.
pub fn json_document(
    d: &FullwaveDesign,
    text: &str,
    results: &[PolarizationResult],
) -> serde_json::Value {
    let mut defs = serde_json::Map::new();
    for (k, v) in crate::metrics::definitions() {
        defs.insert(k.to_string(), v.into());
    }
    defs.insert("efficiency.incident_rK".into(), "power of Sz within |x - x_peak| < K*FWHM (transverse intensity) in the focal plane / power incident on the lens width, 0.5 n_sub * width (per unit length along y, unit-amplitude plane wave)".into());
    defs.insert("efficiency.transmitted_rK".into(), "power of Sz within the same window / power transmitted by the lens aperture (Sz power of the propagating plane waves of the aperture field)".into());
    defs.insert("strehl".into(), "total intensity at the focal point (the Sz maximum) / that of the ideal 1-D lens (the perfect flat lens that conserves energy: exact hyperbolic phase, field ∝ 1/√cos θ, unit transmittance, same aperture), each at its own focal plane".into());
    defs.insert(
        "strehl_power_normalised".into(),
        "(total intensity at the focal point / transmitted power P_t) / the same for the ideal lens".into(),
    );
    defs.insert("aperture_field".into(), "TE: Ey; TM: hy = eta0 Hy, for a unit incident E in the substrate; both restricted to |x| <= N*pitch/2. Full-wave: the supercell's transmitted orders at the top of the ridges. LPA: t(w) per pitch cell (x n_exit for TM). Ideal: exp(i phi) (x n_exit for TM)".into());
    defs.insert("near_field.phase_error".into(), "wrap(arg of the full-wave aperture field averaged over the pitch cell - arg of the LPA field), per cell".into());
    serde_json::json!({
        "tool": "metalens fullwave",
        "version": crate::VERSION,
        "conventions": crate::CONVENTIONS,
        "t_definition": crate::T_DEFINITION,
        "design": d,
        "design_text": text,
        "definitions": defs,
        "results": results,
    })
}

/// Text summary of one polarisation.
pub fn summary(r: &PolarizationResult) -> String {
    let mut s = String::new();
    let p = r.polarization.name().to_uppercase();
    s.push_str(&format!(
        "{p}: {} ridges, library phase coverage {:.2} rad ({:.0}°), layout RMS phase error {:.3} rad\n",
        r.layout.widths.len(),
        r.library.phase_coverage,
        r.library.phase_coverage.to_degrees(),
        r.layout.rms_phase_error
    ));
    s.push_str(&format!(
        "  supercell: period {:.3} µm, M = {} (basis {}), R = {:.6}, T = {:.6}, R+T-1 = {:.2e}, solve {:.1} s\n",
        r.supercell.period_um,
        r.supercell.harmonics,
        r.supercell.basis_dimension,
        r.supercell.reflectance,
        r.supercell.transmittance,
        r.supercell.energy_error,
        r.supercell.solve_seconds
    ));
    s.push_str(&format!(
        "  near-field phase error full-wave vs LPA: propagating part RMS {:.3} rad (max {:.3}); cell averages incl. evanescent RMS {:.3} rad (max {:.3})\n",
        r.near_field.propagating_rms_phase_error,
        r.near_field.propagating_max_phase_error,
        r.near_field.rms_phase_error,
        r.near_field.max_phase_error
    ));
    let keys: Vec<&str> = r.fullwave.efficiency.keys().collect();
    s.push_str(&format!(
        "  {:<26}{:>12}{:>12}{:>12}\n",
        "quantity", "full-wave", "LPA", "ideal"
    ));
    let row =
        |name: &str, a: f64, b: f64, c: f64| format!("  {name:<26}{a:>12.4}{b:>12.4}{c:>12.4}\n");
    for k in keys {
        s.push_str(&row(
            k,
            r.fullwave.efficiency[k],
            r.lpa.efficiency[k],
            r.ideal.efficiency[k],
        ));
    }
    s.push_str(&row(
        "transmission_efficiency",
        r.fullwave.transmission_efficiency,
        r.lpa.transmission_efficiency,
        r.ideal.transmission_efficiency,
    ));
    if let Some(m) = &r.transmission_efficiency_e_given {
        s.push_str(&format!(
            "  {:<26}{:>12}{:>12.4}{:>12.4}   (TM LPA/ideal with Ex given, the 2-D convention)\n",
            "transmission (E given)",
            "-",
            m.get("lpa").copied().unwrap_or(f64::NAN),
            m.get("ideal").copied().unwrap_or(f64::NAN)
        ));
    }
    let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
    s.push_str(&row(
        "fwhm_transverse_um",
        o(r.fullwave.fwhm_transverse.um),
        o(r.lpa.fwhm_transverse.um),
        o(r.ideal.fwhm_transverse.um),
    ));
    s.push_str(&row(
        "fwhm_total_um",
        o(r.fullwave.fwhm_total.um),
        o(r.lpa.fwhm_total.um),
        o(r.ideal.fwhm_total.um),
    ));
    s.push_str(&row(
        "fwhm_sz_um",
        o(r.fullwave.fwhm_sz.um),
        o(r.lpa.fwhm_sz.um),
        o(r.ideal.fwhm_sz.um),
    ));
    s.push_str(&row("strehl", o(r.fullwave.strehl), o(r.lpa.strehl), 1.0));
    s.push_str(&row(
        "strehl_power_normalised",
        o(r.fullwave.strehl_power_normalised),
        o(r.lpa.strehl_power_normalised),
        1.0,
    ));
    s.push_str(&row(
        "focal_shift_um",
        r.fullwave.focal_shift_um,
        r.lpa.focal_shift_um,
        r.ideal.focal_shift_um,
    ));
    s
}

/// Whether a design file is a 2-D pillar design (a `[library]`/`[cell]` design as for
/// `metalens run`) rather than a 1-D ridge design (`[ridges]`).
fn is_2d_design(path: &Path) -> Result<bool> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| Error::format(path, e.to_string()))?;
    Ok(v.get("ridges").is_none() && (v.get("library").is_some() || v.get("cell").is_some()))
}

/// `metalens fullwave DESIGN.toml` for a 2-D pillar design: the design's library, layout and
/// LPA focus as `metalens run` makes them, and the laid-out lens solved by the 3-D FDTD beside
/// them (`reproduce --fullwave`), into out/fullwave-<name>.
fn run_2d_design(args: &Args) -> Result<()> {
    let layout_only = [
        ("--pol", args.pol.is_some()),
        ("--outside", args.outside != "opaque"),
        ("--no-symmetry", args.no_symmetry),
        ("--pillar-height", args.pillar_height_um.is_some()),
        ("--pillar-index", args.pillar_index.is_some()),
        ("--monitor-height", args.monitor_height_um.is_some()),
        ("--decay", args.decay.is_some()),
        ("--dispersion-correction", args.dispersion_correction),
        ("--save-near-field", args.save_near_field.is_some()),
        ("--json", args.json),
    ];
    if let Some((flag, _)) = layout_only.iter().find(|(_, given)| *given) {
        return Err(Error::invalid(
            *flag,
            "with a 2-D design file",
            "is an option of `metalens fullwave LAYOUT.h5`: the design's [propagation] sets polarisation and aperture here; run this once, then `metalens fullwave OUT/layout.h5` with the option",
        ));
    }
    let stem = args
        .design
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "design".into());
    let out = args.out.clone().unwrap_or_else(|| {
        if stem.starts_with("fullwave") {
            PathBuf::from("out").join(&stem)
        } else {
            PathBuf::from(format!("out/fullwave-{stem}"))
        }
    });
    super::reproduce::run(super::reproduce::Args {
        design: args.design.to_string_lossy().to_string(),
        out: Some(out),
        quiet: args.quiet,
        fullwave: true,
        resolution: args.resolution,
    })
}

/// Run `metalens fullwave`.
pub fn run(args: Args) -> Result<()> {
    let is_h5 = args
        .design
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("h5"));
    if is_h5 {
        return super::fullwave3d::run(&args, &args.design);
    }
    if is_2d_design(&args.design)? {
        return run_2d_design(&args);
    }
    let pols = polarizations(args.pol.as_deref().unwrap_or("both"))?;
    let (schema, text) = FullwaveDesign::load(&args.design)?;
    let d = schema.design()?;
    let dir = args.out.clone().unwrap_or_else(|| {
        // out/<name>, with "fullwave-" in front unless the name already starts with it
        let n = d.name.clone();
        if n.starts_with("fullwave") {
            PathBuf::from("out").join(n)
        } else {
            PathBuf::from(format!("out/fullwave-{n}"))
        }
    });
    crate::io::guard::preflight_dir(&dir, &[args.design.as_path()])?;
    let _lock = crate::io::guard::Lock::acquire(&dir)?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = indicatif::ProgressBar::new((3 * pols.len()) as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let stages = [
        "grating library",
        "supercell RCWA solve",
        "propagation and metrics",
    ];
    let mut results = Vec::new();
    for (ip, &pol) in pols.iter().enumerate() {
        crate::io::guard::check_interrupt(|| {
            format!(
                "{ip} of {} polarisations done, nothing written yet; rerun the same command",
                pols.len()
            )
        })?;
        let progress = |stage: usize| {
            bar.set_position((3 * ip + stage) as u64);
            bar.set_message(format!("{}: {}", pol.name(), stages[stage]));
        };
        results.push(run_polarization(
            &d,
            pol,
            &RunOptions::default(),
            &progress,
        )?);
    }
    bar.finish_and_clear();
    let doc = json_document(&schema, &text, &results);
    let json = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::numerical("fullwave", format!("JSON encoding failed: {e}")))?;
    write_atomic(&dir.join("fullwave.json"), json.as_bytes())?;
    for r in &results {
        crate::plot::fullwave::plot_polarization(r, &dir)?;
    }
    if args.json {
        println!("{json}");
    } else if !args.quiet {
        for r in &results {
            print!("{}", summary(r));
        }
        println!("wrote {}", Path::new(&dir).display());
    }
    Ok(())
}
