//! `metalens library`: sweep a design's cells into an HDF5 phase library, and `library plot`,
//! `library info`, `library merge`, `library export` on such files.
//!
//! ```text
//! metalens library designs/mk1.toml -o mk1-lib.h5 [--quiet] [--shard 2/8] [--threads 2]
//! metalens library plot mk1-lib.h5 [--out-dir DIR] [--min-transmittance 0.5] [--pol x]
//! metalens library info mk1-lib.h5
//! metalens library merge shard1.h5 shard2.h5 ... -o lib.h5
//! metalens library export lib.h5 --pitch 0.22 -o lumerical.h5   # Lumerical/Zemax format 1.0
//! ```

use crate::io::design::{Design, LibraryPolarization, Range};
use crate::io::library_file as store;
use crate::library::sweep::{
    rcwa_height_solver, sweep_angles, AngularReport, CellPoint, CellResult, Shard, SweepOptions,
    SweepSettings, SweepSpec,
};
use crate::library::{LibraryMeta, PhaseLibrary};
use crate::{Error, Result};
use std::io::Write;

/// println! that does not panic when stdout is closed (`metalens library info F | head`).
macro_rules! out {
    ($($a:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($a)*);
    }};
}
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `metalens library`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    #[command(flatten)]
    pub sweep: SweepArgs,
}

/// Operations on library files.
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Draw the library's figures (PNG and SVG): phase and transmittance versus radius,
    /// maps over radius x pitch, phase coverage per pitch.
    Plot(PlotArgs),
    /// Print what a library file holds and its phase coverage per pitch.
    Info(InfoArgs),
    /// Merge the shards of one sweep (written with --shard k/n) into one library.
    Merge(MergeArgs),
    /// Export one pitch (one wavelength, one height) in the Ansys Lumerical / Zemax
    /// OpticStudio meta-atom format (HDF5, version 1.0: phase and amplitude per meta-atom).
    Export(ExportArgs),
}

/// The sweep: a design file plus optional overrides.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Design file (TOML), or the name of a built-in design (mk1, mk2, pitch-sweep).
    /// Without it, the defaults of the design schema and the flags below.
    pub design: Option<PathBuf>,
    /// Output HDF5 file.
    #[arg(short, long, required = true)]
    pub output: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Vacuum wavelength (µm), overrides [source] and [library].wavelengths.
    #[arg(long)]
    pub wavelength: Option<f64>,
    /// Pillar material (preset, complex index like 2.74+0.01i, or n,k file).
    #[arg(long)]
    pub pillar: Option<String>,
    /// Substrate (incidence) material.
    #[arg(long)]
    pub substrate: Option<String>,
    /// Exit medium.
    #[arg(long)]
    pub exit: Option<String>,
    /// Pillar height(s) (µm), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub heights: Option<Vec<f64>>,
    /// Pitches (µm), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub pitches: Option<Vec<f64>>,
    /// Radius range: smallest radius (µm).
    #[arg(long)]
    pub radius_min: Option<f64>,
    /// Radius range: largest radius (µm).
    #[arg(long)]
    pub radius_max: Option<f64>,
    /// Radius step (µm) (instead of a count).
    #[arg(long, conflicts_with = "radius_count")]
    pub radius_step: Option<f64>,
    /// Number of radii (instead of a step).
    #[arg(long)]
    pub radius_count: Option<usize>,
    /// Lattice.
    #[arg(long, value_parser = super::values::lattice())]
    pub lattice: Option<crate::cell::LatticeKind>,
    /// Minimum gap between neighbouring pillars (µm).
    #[arg(long)]
    pub min_gap: Option<f64>,
    /// Fourier harmonics per solve.
    #[arg(long)]
    pub harmonics: Option<usize>,
    /// Incident polarisations solved.
    #[arg(long, value_parser = super::values::library_polarization())]
    pub polarization: Option<LibraryPolarization>,
    /// Polar angles of incidence θ (degrees, in the substrate; each in [0, 89]),
    /// comma-separated: overrides [library].incidence_theta_deg.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub incidence_theta_deg: Option<Vec<f64>>,
    /// Azimuths of the plane of incidence φ (degrees from x; each in [0, 360)),
    /// comma-separated: overrides [library].incidence_phi_deg.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub incidence_phi_deg: Option<Vec<f64>>,
    /// Compute only shard k of n (k/n); merge the shards with `metalens library merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Progress bar but no summary on stdout (a stage of `reproduce`, which summarises).
    #[arg(long, hide = true)]
    pub no_summary: bool,
}

#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// Library file (HDF5).
    pub file: PathBuf,
    /// Folder for the figures (default: next to the file).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Transmittance threshold of the phase coverage.
    #[arg(long, default_value_t = 0.5)]
    pub min_transmittance: f64,
    /// Polarisation: x or y.
    #[arg(long, default_value = "x")]
    pub pol: String,
}

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Library file (HDF5).
    pub file: PathBuf,
    /// Transmittance threshold of the phase coverage.
    #[arg(long, default_value_t = 0.5)]
    pub min_transmittance: f64,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard files.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output HDF5 file.
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Library file (HDF5).
    pub file: PathBuf,
    /// Pitch (µm) to export.
    #[arg(long)]
    pub pitch: f64,
    /// Height (µm); default: the only one.
    #[arg(long)]
    pub height: Option<f64>,
    /// Wavelength (µm); default: the only one.
    #[arg(long)]
    pub wavelength: Option<f64>,
    /// Polarisation: x or y.
    #[arg(long, default_value = "x")]
    pub pol: String,
    /// Output HDF5 file.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Run `metalens library`.
pub fn run(args: Args) -> Result<()> {
    run_with(args, None)
}

/// [`run`] with `solver` in place of the RCWA for a sweep (the other actions are unchanged):
/// the entry the command-line tests use to inject their stand-in.
pub fn run_with_solver(args: Args, solver: CellSolver) -> Result<()> {
    run_with(args, Some(solver))
}

fn run_with(args: Args, solver: Option<CellSolver>) -> Result<()> {
    match args.action {
        Some(Action::Plot(a)) => run_plot(a),
        Some(Action::Info(a)) => run_info(a),
        Some(Action::Merge(a)) => run_merge(a),
        Some(Action::Export(a)) => run_export(a),
        None => run_sweep(args.sweep, solver),
    }
}

fn parse_pol(s: &str) -> Result<usize> {
    match s.to_ascii_lowercase().as_str() {
        "x" => Ok(0),
        "y" => Ok(1),
        _ => Err(Error::invalid(
            "polarisation",
            format!("'{s}'"),
            "must be x or y",
        )),
    }
}

/// The design: a file, a built-in name, or the defaults; with the flags applied. Returns the
/// design and the text to record.
pub fn design_from_args(a: &SweepArgs) -> Result<(Design, String)> {
    let (mut d, text, origin) = match &a.design {
        Some(p) => {
            let (d, t) = Design::resolve(p)?;
            let origin = if p.is_file() {
                p.display().to_string()
            } else {
                format!("built-in design {}", p.display())
            };
            (d, t, origin)
        }
        None => (
            Design::from_toml("", "defaults")?,
            String::new(),
            "defaults".to_string(),
        ),
    };
    let mut overridden = false;
    let mut set = |b: bool| overridden |= b;
    if let Some(w) = a.wavelength {
        d.source.wavelength = w;
        d.library.wavelengths = None;
        set(true);
    }
    if let Some(m) = &a.pillar {
        d.materials.pillar = m.clone();
        set(true);
    }
    if let Some(m) = &a.substrate {
        d.materials.substrate = m.clone();
        set(true);
    }
    if let Some(m) = &a.exit {
        d.materials.exit = m.clone();
        set(true);
    }
    if let Some(h) = &a.heights {
        d.library.heights = Some(h.clone());
        if h.len() == 1 {
            d.cell.height = h[0];
        }
        set(true);
    }
    if let Some(p) = &a.pitches {
        d.library.pitches = Some(p.clone());
        d.library.pitch_range = None;
        set(true);
    }
    if a.radius_min.is_some()
        || a.radius_max.is_some()
        || a.radius_step.is_some()
        || a.radius_count.is_some()
    {
        let r = &d.library.radius;
        let (step, count) = match (a.radius_step, a.radius_count) {
            (None, None) => (r.step, r.count),
            (s, c) => (s, c),
        };
        d.library.radius = Range {
            start: a.radius_min.unwrap_or(r.start),
            stop: a.radius_max.unwrap_or(r.stop),
            step,
            count,
        };
        set(true);
    }
    if let Some(l) = a.lattice {
        d.cell.lattice = l;
        set(true);
    }
    if let Some(g) = a.min_gap {
        d.cell.min_gap = g;
        set(true);
    }
    if let Some(h) = a.harmonics {
        d.library.harmonics = h;
        set(true);
    }
    if let Some(p) = a.polarization {
        d.library.polarization = p;
        set(true);
    }
    if let Some(t) = &a.incidence_theta_deg {
        d.library.incidence_theta_deg = t.clone();
        set(true);
    }
    if let Some(p) = &a.incidence_phi_deg {
        d.library.incidence_phi_deg = p.clone();
        set(true);
    }
    d.validate()?;
    let text = if overridden || text.is_empty() {
        format!(
            "# {origin} with command-line settings applied; the effective design:\n{}",
            d.to_toml()
        )
    } else {
        text
    };
    Ok((d, text))
}

/// A cell solver that takes the place of the RCWA in a sweep run through
/// [`run_with_solver`]: called with the sweep and one cell. The tests of the command line
/// inject an analytic stand-in this way (tests/fake_cli), so that the shipped binary carries
/// no test double.
#[derive(Clone)]
pub struct CellSolver(pub Arc<SolveCell>);

/// The call of a [`CellSolver`]: the sweep and one of its cells to its result.
pub type SolveCell = dyn Fn(&SweepSpec, &CellPoint) -> Result<CellResult> + Send + Sync;

impl std::fmt::Debug for CellSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CellSolver(..)")
    }
}

fn run_sweep(a: SweepArgs, solver: Option<CellSolver>) -> Result<()> {
    let out = a
        .output
        .clone()
        .ok_or_else(|| Error::invalid("output", "none", "give -o FILE.h5"))?;
    let (design, text) = design_from_args(&a)?;
    let shard = a.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let warnings = if a.quiet || a.no_summary {
        Vec::new()
    } else {
        let mut w = design.warnings();
        w.retain(|w| w.starts_with("pillar") || w.starts_with("library"));
        w
    };
    let job = SweepJob {
        shard,
        threads: a.threads,
        quiet: a.quiet,
        solver,
        warnings,
    };
    let inputs: Vec<&Path> = a.design.iter().map(PathBuf::as_path).collect();
    let (spec, report) = build_angular_library(&design, text, &out, &inputs, &job)?;
    if !a.quiet && !a.no_summary {
        print_sweep_summary(&out, &spec.settings, &report, shard);
    }
    Ok(())
}

/// How to run a library sweep (the settings that are not part of the design).
#[derive(Clone, Debug, Default)]
pub struct SweepJob {
    /// Compute only this shard of the sweep.
    pub shard: Option<Shard>,
    /// Worker threads (None: all cores).
    pub threads: Option<usize>,
    /// No progress bar and no size note.
    pub quiet: bool,
    /// A solver in place of the RCWA ([`run_with_solver`]; None: the RCWA).
    pub solver: Option<CellSolver>,
    /// Printed (as `warning: …`) once every check has passed, before the first cell: a bad
    /// input stays a one-line error.
    pub warnings: Vec<String>,
}

/// The library stage of a lens: [`build_angular_library`], refused before the first cell when
/// the sweep has no θ = 0 (the layout needs normal incidence). Returns the sweep and the
/// report of its θ = 0 slice; the library itself is `report.library`.
pub fn build_library(
    design: &Design,
    text: String,
    out: &Path,
    inputs: &[&Path],
    job: &SweepJob,
) -> Result<(SweepSpec, crate::library::sweep::SweepReport)> {
    let settings = SweepSettings::from_design(design)?;
    if settings.normal_theta_index().is_none() {
        return Err(Error::invalid(
            "incidence_theta_deg",
            format!("{:?}", settings.incidence_theta_deg),
            "the lens layout needs the θ = 0 slice: include 0",
        ));
    }
    let (spec, report) = build_angular_library(design, text, out, inputs, job)?;
    let report = report
        .into_normal_incidence()
        .ok_or_else(|| Error::numerical("library", "the θ = 0 slice is missing"))?;
    Ok((spec, report))
}

/// Sweep the cells of `design` at every incidence angle into the library file `out` (resuming
/// from its checkpoints), everything checked before the first cell. `inputs` are the files the
/// run reads (the output must not overwrite them). Returns the sweep and its report.
pub fn build_angular_library(
    design: &Design,
    text: String,
    out: &Path,
    inputs: &[&Path],
    job: &SweepJob,
) -> Result<(SweepSpec, AngularReport)> {
    let spec = SweepSpec::from_design(design)?;
    let settings = &spec.settings;
    let shard = job.shard;
    check_before_sweep(settings, out, inputs, job)?;
    let _lock = crate::io::guard::Lock::acquire(out)?;
    for w in &job.warnings {
        eprintln!("warning: {w}");
    }
    let ckpt = PathBuf::from(format!("{}.ckpt", out.display()));
    // one checkpoint file per incidence (the plain OUT.h5.ckpt when there is one incidence)
    let checkpoint_at = |it: usize, ip: usize| {
        Some(crate::io::checkpoint::CheckpointFile::shared(
            crate::io::checkpoint::incidence_checkpoint(&ckpt, settings, it, ip),
        ))
    };
    let opts = SweepOptions {
        checkpoint: None,
        shard,
        progress: super::progress::shared(
            super::progress::visible(job.quiet),
            Some("{bar:40} {pos}/{len} cells  {elapsed_precise} elapsed, ETA {eta_precise}  {msg}"),
        ),
    };
    let run = || -> Result<_> {
        match &job.solver {
            Some(f) => sweep_angles(
                &spec,
                false,
                |sub: &SweepSpec| {
                    let (f, sub) = (f.clone(), sub.clone());
                    Ok(move |pts: &[CellPoint]| {
                        pts.iter().map(|c| (f.0)(&sub, c)).collect::<Vec<_>>()
                    })
                },
                &opts,
                &checkpoint_at,
            ),
            None => sweep_angles(&spec, true, rcwa_height_solver, &opts, &checkpoint_at),
        }
    };
    let ckpts: Vec<PathBuf> = (0..settings.incidence_theta_deg.len())
        .flat_map(|it| (0..settings.incidence_phi_deg.len()).map(move |ip| (it, ip)))
        .map(|(it, ip)| crate::io::checkpoint::incidence_checkpoint(&ckpt, settings, it, ip))
        .collect();
    let report = match job.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| Error::numerical("library", format!("cannot start {t} threads: {e}")))
            .and_then(|pool| pool.install(run)),
        None => run(),
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => return Err(failed_sweep(e, &ckpts)),
    };
    let valid: usize = report.reports.iter().map(|r| r.library.valid_count()).sum();
    if shard.is_none() && valid == 0 {
        return Err(Error::numerical(
            "library",
            format!(
                "no cell of the sweep gave a valid result ({} failed): {} not written",
                report.reports.iter().map(|r| r.failed.len()).sum::<usize>(),
                out.display()
            ),
        ));
    }
    let ang = report.library();
    let meta = LibraryMeta {
        settings: settings.clone(),
        design_text: text,
        shard,
        computed: ang.computed[ang.normal_incidence().unwrap_or(0)].clone(),
        tool_version: crate::VERSION.to_string(),
    };
    store::write_angular_library(out, &ang, &meta)?;
    for c in &ckpts {
        let _ = std::fs::remove_file(c);
    }
    Ok((spec, report))
}

/// Everything checked before the first cell of a sweep: the thread count, the output path
/// and a concurrent writer, that some cell fits, and the size against the machine (an
/// estimate above a minute is printed unless `job.quiet`).
fn check_before_sweep(
    settings: &SweepSettings,
    out: &Path,
    inputs: &[&Path],
    job: &SweepJob,
) -> Result<()> {
    let shard = job.shard;
    if let Some(t) = job.threads {
        if t == 0 {
            return Err(Error::invalid("threads", 0, "must be >= 1"));
        }
    }
    crate::io::guard::preflight_file(out, inputs)?;
    let threads = job.threads.unwrap_or_else(rayon::current_num_threads);
    let cells = fitting_cells(settings, shard);
    if cells == 0 {
        return Err(Error::invalid(
            "library sweep",
            "no cell",
            format!(
                "no radius of {}..{} µm fits any pitch with the minimum gap {} µm (2 r + min_gap <= pitch): a library without a valid cell is not written",
                settings.radii[0],
                settings.radii[settings.radii.len() - 1],
                settings.min_gap
            ),
        ));
    }
    let solves = match settings.polarization {
        LibraryPolarization::X => 1.0,
        LibraryPolarization::Both => 2.0,
    };
    let harmonics = if job.solver.is_some() {
        1
    } else {
        settings
            .pitches
            .iter()
            .map(|&p| settings.harmonics_at(p))
            .max()
            .unwrap_or(settings.harmonics)
    };
    let (bytes, seconds) = crate::io::budget::check_library(cells, harmonics, solves, threads)?;
    if !job.quiet && seconds > 60.0 {
        eprintln!(
            "library: {cells} cells at up to {harmonics} harmonics, estimated {} on {threads} threads, {} of memory",
            crate::io::budget::duration(seconds),
            crate::io::budget::bytes(bytes)
        );
    }
    Ok(())
}

/// The error of a sweep that stopped (`e`), after removing the checkpoints `ckpts` that hold
/// no solved cell; an interrupt that saved nothing says so.
fn failed_sweep(e: Error, ckpts: &[PathBuf]) -> Error {
    // a checkpoint without a solved cell saves nothing: never leave it behind
    for c in ckpts {
        if !crate::io::checkpoint::checkpoint_has_cells(c) {
            let _ = std::fs::remove_file(c);
        }
    }
    if !ckpts.iter().any(|c| c.exists()) {
        if let Error::Interrupted { .. } = e {
            return Error::Interrupted {
                message:
                    "no cell was finished, nothing saved; rerun the same command to start again"
                        .into(),
            };
        }
    }
    e
}

/// What `metalens library` prints after a sweep: cells solved, skipped and failed, and the
/// phase coverage.
fn print_sweep_summary(
    out: &Path,
    settings: &SweepSettings,
    angular: &AngularReport,
    shard: Option<Shard>,
) {
    let sum = |f: &dyn Fn(&crate::library::sweep::SweepReport) -> usize| -> usize {
        angular.reports.iter().map(f).sum()
    };
    let (solved, resumed, failed) = (
        sum(&|r| r.solved),
        sum(&|r| r.resumed),
        sum(&|r| r.failed.len()),
    );
    let elapsed: f64 = angular.reports.iter().map(|r| r.elapsed_s).sum();
    let angles = if settings.angle_count() > 1 {
        format!(
            " at {} incidences (θ {:?}°, φ {:?}°)",
            settings.angle_count(),
            settings.incidence_theta_deg,
            settings.incidence_phi_deg
        )
    } else {
        String::new()
    };
    out!(
        "{}: {} cells solved{angles} in {:.1} s ({} resumed from a checkpoint), {} failed, of {} attempted{}",
        out.display(),
        solved,
        elapsed,
        resumed,
        failed,
        solved + resumed + failed,
        shard.map(|s| format!(" (shard {s})")).unwrap_or_default()
    );
    let report = &angular.reports[0];
    for &p in &settings.pitches {
        let sk: Vec<f64> = report
            .skipped
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, r)| *r)
            .collect();
        if !sk.is_empty() {
            out!(
                "  pitch {p} µm: {} radii skipped ({:.4}..{:.4} µm): 2 r + min_gap {} µm > pitch",
                sk.len(),
                sk[0],
                sk[sk.len() - 1],
                settings.min_gap
            );
        }
    }
    for (c, e) in angular
        .reports
        .iter()
        .flat_map(|r| r.failed.iter())
        .take(10)
    {
        out!(
            "  failed: radius {} µm, pitch {} µm, height {} µm: {e}",
            c.radius,
            c.pitch,
            c.height
        );
    }
    if shard.is_none() {
        for (k, r) in angular.reports.iter().enumerate() {
            if settings.angle_count() > 1 {
                let nph = settings.incidence_phi_deg.len();
                out!(
                    "  incidence θ = {}°, φ = {}°:",
                    settings.incidence_theta_deg[k / nph],
                    settings.incidence_phi_deg[k % nph]
                );
            }
            print_coverage(&r.library, 0.5);
        }
    }
}

/// Cells of the sweep (or of its shard) that fit their pitch: the cells to solve.
fn fitting_cells(settings: &SweepSettings, shard: Option<Shard>) -> usize {
    let (nw, nh, _, _) = settings.shape();
    let per_slice: usize = settings
        .pitches
        .iter()
        .map(|&p| settings.radii.partition_point(|&r| settings.fits(p, r)))
        .sum();
    let all = nw * nh * per_slice * settings.angle_count();
    match shard {
        Some(s) => all.div_ceil(s.count),
        None => all,
    }
}

fn print_coverage(lib: &PhaseLibrary, thr: f64) {
    let tau = 2.0 * std::f64::consts::PI;
    out!("  coverage: 2π minus the largest phase gap between radii with T >= {thr} (x polarisation);");
    out!("  span: range of the phase unwrapped along the fitting radii; T: mean transmittance");
    out!(
        "  {:>8} {:>8} {:>8} {:>6} {:>9} {:>10} {:>7}",
        "λ (µm)",
        "h (µm)",
        "p (µm)",
        "radii",
        "coverage",
        "span (2π)",
        "mean T"
    );
    for iw in 0..lib.wavelengths.len() {
        for ih in 0..lib.heights.len() {
            for ip in 0..lib.pitches.len() {
                let n = (0..lib.radii.len())
                    .filter(|&ir| lib.valid[[iw, ih, ip, ir]])
                    .count();
                out!(
                    "  {:>8} {:>8} {:>8} {:>6} {:>8.0}% {:>10.2} {:>7.3}",
                    lib.wavelengths[iw],
                    lib.heights[ih],
                    lib.pitches[ip],
                    n,
                    100.0 * lib.phase_coverage_at(iw, ih, ip, 0, thr) / tau,
                    lib.phase_span_at(iw, ih, ip, 0) / tau,
                    lib.mean_transmittance_at(iw, ih, ip, 0)
                );
            }
        }
    }
}

fn run_plot(a: PlotArgs) -> Result<()> {
    let pol = parse_pol(&a.pol)?;
    if !(0.0..=1.0).contains(&a.min_transmittance) {
        return Err(Error::invalid(
            "min-transmittance",
            a.min_transmittance,
            "must be in [0, 1]",
        ));
    }
    let lib = PhaseLibrary::load(&a.file)?;
    let stem_name = a
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "library".into());
    let dir = match &a.out_dir {
        Some(d) => {
            crate::io::guard::preflight_dir(d, &[&a.file])?;
            d.clone()
        }
        None => a.file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let files = crate::plot::library::plot_library(
        &lib,
        &dir.join(stem_name),
        &crate::plot::library::PlotOptions {
            pol,
            min_transmittance: a.min_transmittance,
        },
    )?;
    for f in files {
        out!("{}", f.display());
    }
    Ok(())
}

fn run_info(a: InfoArgs) -> Result<()> {
    let (ang, meta) = store::read_angular_library(&a.file)?;
    let lib = &ang.slices[ang.normal_incidence().unwrap_or(0)];
    let axis = |v: &[f64]| {
        if v.len() <= 8 {
            format!("{v:?}")
        } else {
            format!("{} values {}..{}", v.len(), v[0], v[v.len() - 1])
        }
    };
    out!(
        "{}: metalens phase library written by metalens {}",
        a.file.display(),
        meta.tool_version
    );
    if let Some(s) = meta.shard {
        out!("  SHARD {s} of a sweep (merge the shards with `metalens library merge`)");
    }
    out!(
        "  incidence θ (deg): {} (polar angle in the substrate{})",
        axis(&ang.incidence_theta_deg),
        if ang.normal_incidence().is_some() {
            ""
        } else {
            "; no θ = 0 slice: not usable for a layout"
        }
    );
    out!(
        "  incidence φ (deg): {} (plane of incidence from x)",
        axis(&ang.incidence_phi_deg)
    );
    out!("  wavelengths (µm): {}", axis(&lib.wavelengths));
    out!("  heights (µm):     {}", axis(&lib.heights));
    out!("  pitches (µm):     {}", axis(&lib.pitches));
    out!("  radii (µm):       {}", axis(&lib.radii));
    out!(
        "  lattice {:?}, min gap {} µm, pillar {}, substrate {}, exit {} (n = {}), harmonics {}, polarisation {:?}",
        lib.lattice, meta.settings.min_gap, meta.settings.pillar, meta.settings.substrate, meta.settings.exit, lib.exit_index, lib.harmonics, meta.settings.polarization
    );
    let harmonics: Vec<usize> = lib
        .pitches
        .iter()
        .map(|&p| meta.settings.harmonics_at(p))
        .collect();
    if harmonics.iter().any(|&h| h != harmonics[0]) {
        out!("  harmonics per pitch: {harmonics:?}");
    }
    out!(
        "  valid cells: {} of {} ({} computed here)",
        ang.slices.iter().map(|l| l.valid_count()).sum::<usize>(),
        ang.slices.iter().map(|l| l.valid.len()).sum::<usize>(),
        ang.computed
            .iter()
            .map(|c| c.iter().filter(|&&c| c).count())
            .sum::<usize>()
    );
    if meta.shard.is_none() {
        let nph = ang.incidence_phi_deg.len();
        for (k, l) in ang.slices.iter().enumerate() {
            if ang.slices.len() > 1 {
                out!(
                    "  incidence θ = {}°, φ = {}°:",
                    ang.incidence_theta_deg[k / nph],
                    ang.incidence_phi_deg[k % nph]
                );
            }
            print_coverage(l, a.min_transmittance);
        }
    }
    Ok(())
}

fn run_merge(a: MergeArgs) -> Result<()> {
    let paths: Vec<&Path> = a.shards.iter().map(PathBuf::as_path).collect();
    crate::io::guard::preflight_file(&a.output, &paths)?;
    let _lock = crate::io::guard::Lock::acquire(&a.output)?;
    let (ang, meta) = store::merge_angular(&paths)?;
    store::write_angular_library(&a.output, &ang, &meta)?;
    out!(
        "{}: merged {} shards, {} valid cells",
        a.output.display(),
        paths.len(),
        ang.slices.iter().map(|l| l.valid_count()).sum::<usize>()
    );
    Ok(())
}

fn run_export(a: ExportArgs) -> Result<()> {
    let pol = parse_pol(&a.pol)?;
    crate::io::guard::preflight_file(&a.output, &[&a.file])?;
    let lib = PhaseLibrary::load(&a.file)?;
    let pick = |axis: &[f64], v: Option<f64>, name: &str| -> Result<usize> {
        match v {
            Some(v) => match name {
                "height" => lib.height_index(v),
                _ => lib.wavelength_index(v),
            },
            None if axis.len() == 1 => Ok(0),
            None => Err(Error::invalid(
                name,
                "not given",
                format!(
                    "the library has {} {name}s: choose one with --{name}",
                    axis.len()
                ),
            )),
        }
    };
    let ih = pick(&lib.heights, a.height, "height")?;
    let iw = pick(&lib.wavelengths, a.wavelength, "wavelength")?;
    let ip = lib.pitch_index(a.pitch)?;
    let k = store::export_lumerical(&a.output, &lib, iw, ih, ip, pol)?;
    out!(
        "{}: {k} meta-atoms (Lumerical/Zemax format 1.0)",
        a.output.display()
    );
    Ok(())
}
