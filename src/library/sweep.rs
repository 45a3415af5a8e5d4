//! The parallel sweep over (wavelength, height, pitch, radius) cells.
//!
//! - One rayon task per cell; the per-cell solve is a closure (the real one is
//!   [`rcwa_cell_solver`]; tests use a solver whose t is known). faer's own parallelism is
//!   switched off first, so threads never nest. Each cell's result depends only on the cell, so
//!   the library does not depend on the thread count.
//! - Radii that do not fit a pitch (2 r + min_gap > pitch) are skipped and reported.
//! - Checkpoint: every finished cell is handed to the [`Checkpoint`] of the options as it
//!   finishes; a rerun of the same sweep resumes from the cells it kept, and a checkpoint of
//!   other settings is refused. The sweep does no file I/O: the CLI passes the file journal
//!   `crate::io::checkpoint::CheckpointFile` (one JSON line per cell, flushed).
//! - Shards: `Shard { index: k, count: n }` takes the cells whose flat index i satisfies
//!   i mod n = k − 1 (interleaved, so every shard gets a fair mix of pitches and radii).
//! - A sweep is a [`SweepSpec`]: its [`SweepSettings`] (axes, solver settings and the
//!   materials by the specifications a design gives, the record its files keep) and the
//!   [`SweepMaterials`] resolved from them at the edge (`crate::io::material_file`), so the
//!   sweep neither parses nor reads a material.

use super::PhaseLibrary;
use crate::cell::{Incidence, LatticeKind, PillarCell, Polarization};
use crate::material::Material;
use crate::rcwa::RcwaPlan;
use crate::{Error, Result, C64};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Incident polarisations solved per library cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LibraryPolarization {
    /// One solve with x input only (at normal incidence the y symmetry sector is not
    /// solved); t, T and R for y equal x's by the cell's symmetry (a centred disc in a square or
    /// hexagonal lattice has C4 / C6 symmetry: the zeroth-order response at normal incidence is
    /// isotropic).
    X,
    /// Separate x and y solves (twice the cost; a check of the symmetry argument).
    Both,
}

/// A sweep ready to run: its settings and the materials they name, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub settings: SweepSettings,
    /// The materials `settings` names (`pillar`, `substrate`, `exit`), resolved by the caller.
    pub materials: SweepMaterials,
}

/// The three materials of a sweep, resolved from their specifications (at the edge:
/// `crate::io::material_file::resolve_material`).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepMaterials {
    pub pillar: Material,
    /// The incidence medium.
    pub substrate: Material,
    /// Around and above the pillars.
    pub exit: Material,
}

impl SweepMaterials {
    /// Check that every material has an index at every wavelength (µm): a one-line error
    /// before the first cell rather than one per cell.
    pub fn check_at(&self, wavelengths: &[f64]) -> Result<()> {
        for &w in wavelengths {
            self.pillar.index(w)?;
            self.substrate.index(w)?;
            self.exit.index(w)?;
        }
        Ok(())
    }
}

/// Everything that determines the library's numbers, as the library file records it (its
/// JSON is the `sweep_settings` attribute): the materials by their specifications. Two sweeps
/// with equal settings give the same library; shards and checkpoints are matched on it
/// ([`SweepSettings::fingerprint`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSettings {
    /// µm, ascending.
    pub wavelengths: Vec<f64>,
    pub heights: Vec<f64>,
    pub pitches: Vec<f64>,
    pub radii: Vec<f64>,
    pub lattice: LatticeKind,
    /// µm.
    pub min_gap: f64,
    /// Material specifications as given (a preset, a complex index or an n,k file: see
    /// `crate::io::material_file::resolve_material`), resolved into [`SweepSpec::materials`].
    pub pillar: String,
    pub substrate: String,
    pub exit: String,
    /// Harmonics per solve when `harmonic_rule` is None (an explicit count for every pitch).
    pub harmonics: usize,
    pub polarization: LibraryPolarization,
    /// The harmonic count per pitch by a density rule (None: `harmonics` for every pitch).
    /// Left out of the JSON when None, so the fingerprints of fixed-count sweeps are those of
    /// before the rule existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harmonic_rule: Option<HarmonicRule>,
    /// Polar angles of incidence θ (degrees, in the incidence medium (the substrate), in
    /// [0, 89]), ascending. Default [0]; left out of the JSON then (fingerprints as before).
    #[serde(
        default = "normal_incidence",
        skip_serializing_if = "is_normal_incidence"
    )]
    pub incidence_theta_deg: Vec<f64>,
    /// Azimuths of the plane of incidence φ (degrees from x, in [0, 360)), ascending.
    /// Default [0].
    #[serde(
        default = "normal_incidence",
        skip_serializing_if = "is_normal_incidence"
    )]
    pub incidence_phi_deg: Vec<f64>,
}

/// The default angle axis: [0].
pub fn normal_incidence() -> Vec<f64> {
    vec![0.0]
}

/// Whether an angle axis is the default [0] (left out of files then).
pub fn is_normal_incidence(v: &[f64]) -> bool {
    v == [0.0]
}

/// Largest polar angle of incidence a library sweeps (degrees).
pub const MAX_INCIDENCE_THETA_DEG: f64 = 89.0;

/// Check the angle axes of a sweep: non-empty, finite, strictly ascending, θ in [0, 89]°, φ in
/// [0, 360)°. The error names the value and the range.
pub fn check_incidence_angles(theta_deg: &[f64], phi_deg: &[f64]) -> Result<()> {
    for (name, axis, ok, range) in [
        (
            "incidence_theta_deg",
            theta_deg,
            (|x: f64| (0.0..=MAX_INCIDENCE_THETA_DEG).contains(&x)) as fn(f64) -> bool,
            "must lie in [0, 89] degrees",
        ),
        (
            "incidence_phi_deg",
            phi_deg,
            |x: f64| (0.0..360.0).contains(&x),
            "must lie in [0, 360) degrees",
        ),
    ] {
        if axis.is_empty() {
            return Err(Error::invalid(name, "[]", "empty: give at least one angle"));
        }
        if let Some(&bad) = axis.iter().find(|&&x| !(x.is_finite() && ok(x))) {
            return Err(Error::invalid(name, format!("{bad}°"), range));
        }
        if axis.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::invalid(
                name,
                format!("{axis:?}"),
                "must be strictly ascending",
            ));
        }
    }
    Ok(())
}

/// Harmonic count by density: the Fourier truncation of N harmonics resolves a cell of pitch
/// p to about p·√(π/N), so equal resolution at every pitch needs N ∝ p²:
/// N(p) = max(floor, round(reference_harmonics · (p / reference_pitch)²)). The floor keeps the
/// propagating orders and their neighbours inside the truncation at small pitch.
/// validation/rcwa/library_convergence.md measures the default ([`HarmonicRule::DEFAULT`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HarmonicRule {
    pub reference_harmonics: usize,
    /// µm.
    pub reference_pitch: f64,
    pub floor: usize,
}

impl HarmonicRule {
    /// The harmonic count at `pitch` (µm).
    pub fn harmonics_at(&self, pitch: f64) -> usize {
        let scaled = self.reference_harmonics as f64 * (pitch / self.reference_pitch).powi(2);
        (scaled.round() as usize).max(self.floor)
    }
}

/// One cell of the sweep: axis indices and values (µm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellPoint {
    pub index: usize,
    pub iw: usize,
    pub ih: usize,
    pub ip: usize,
    pub ir: usize,
    pub wavelength: f64,
    pub height: f64,
    pub pitch: f64,
    pub radius: f64,
}

/// Result of one cell: per polarisation (0 = x, 1 = y) the co-polarised t, and the total
/// transmittance and reflectance (power fractions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellResult {
    pub t: [C64; 2],
    pub transmittance: [f64; 2],
    pub reflectance: [f64; 2],
}

/// A shard k of n (1-based k).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "shard",
                format!("'{s}'"),
                "expected k/n with 1 <= k <= n, e.g. 2/8",
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The journal of a sweep's finished cells, so that an interrupted run resumes: the sweep asks
/// it for the cells an earlier run of the same sweep kept, restarts it with those, and appends
/// every cell it finishes (from the worker threads). The file implementation is
/// `crate::io::checkpoint::CheckpointFile`.
pub trait Checkpoint: Send + Sync + std::fmt::Debug {
    /// Cells kept by an earlier run of the sweep identified by `fingerprint`
    /// ([`SweepSettings::fingerprint`]) and `shard`, with flat index below `cell_count`; none when
    /// there is no journal yet; an error when it belongs to another sweep.
    fn resume(
        &self,
        fingerprint: &str,
        shard: Option<Shard>,
        cell_count: usize,
    ) -> Result<Vec<(usize, CellResult)>>;
    /// Start the journal afresh with `cells` (the resumed ones).
    fn start(
        &self,
        fingerprint: &str,
        shard: Option<Shard>,
        cells: &[(usize, CellResult)],
    ) -> Result<()>;
    /// Keep one finished cell (durable when it returns).
    fn append(&self, index: usize, cell: &CellResult) -> Result<()>;
    /// Remove the journal: a run that saved nothing leaves none behind.
    fn discard(&self);
    /// Where it is, for messages.
    fn location(&self) -> String;
}

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// Journal of the finished cells (resumed from when it holds cells of the same sweep).
    pub checkpoint: Option<Arc<dyn Checkpoint>>,
    pub shard: Option<Shard>,
    /// Told the cells solved (silent by default).
    pub progress: crate::progress::Shared,
}

/// What a sweep produced.
#[derive(Debug)]
pub struct SweepReport {
    pub library: PhaseLibrary,
    /// Cells this run (or shard) is responsible for and that fit (flat order).
    pub computed: ndarray::Array4<bool>,
    /// (pitch, radius) pairs skipped because the radius does not fit the pitch.
    pub skipped: Vec<(f64, f64)>,
    /// Cells whose solve failed, with the error.
    pub failed: Vec<(CellPoint, String)>,
    /// Cells taken from the checkpoint.
    pub resumed: usize,
    /// Cells solved in this run.
    pub solved: usize,
    /// Wall time of the solves (s).
    pub elapsed_s: f64,
}

impl SweepSpec {
    /// The sweep at one incidence (axis indices into `incidence_theta_deg`,
    /// `incidence_phi_deg`): the same spec with one-element angle axes.
    pub fn at_incidence(&self, itheta: usize, iphi: usize) -> SweepSpec {
        SweepSpec {
            settings: self.settings.at_incidence(itheta, iphi),
            materials: self.materials.clone(),
        }
    }

    /// Refractive index of the exit medium at the first wavelength (real part).
    pub fn exit_index(&self) -> Result<f64> {
        Ok(self.materials.exit.index(self.settings.wavelengths[0])?.re)
    }
}

impl SweepSettings {
    /// Canonical JSON of the settings (f64 written exactly): the identity of a sweep.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).expect("settings serialise")
    }

    /// Grid shape (nw, nh, np, nr).
    pub fn shape(&self) -> (usize, usize, usize, usize) {
        (
            self.wavelengths.len(),
            self.heights.len(),
            self.pitches.len(),
            self.radii.len(),
        )
    }

    /// Harmonics per solve at `pitch` (µm): the rule's count, or the fixed one.
    pub fn harmonics_at(&self, pitch: f64) -> usize {
        match &self.harmonic_rule {
            Some(r) => r.harmonics_at(pitch),
            None => self.harmonics,
        }
    }

    /// Number of (θ, φ) incidences swept.
    pub fn angle_count(&self) -> usize {
        self.incidence_theta_deg.len() * self.incidence_phi_deg.len()
    }

    /// The settings at one incidence (axis indices into `incidence_theta_deg`,
    /// `incidence_phi_deg`): the same settings with one-element angle axes.
    pub fn at_incidence(&self, itheta: usize, iphi: usize) -> SweepSettings {
        SweepSettings {
            incidence_theta_deg: vec![self.incidence_theta_deg[itheta]],
            incidence_phi_deg: vec![self.incidence_phi_deg[iphi]],
            ..self.clone()
        }
    }

    /// Index of θ = 0 on the angle axis, if the sweep has it (the slice a layout uses).
    pub fn normal_theta_index(&self) -> Option<usize> {
        self.incidence_theta_deg.iter().position(|&t| t == 0.0)
    }

    /// The incidence of this sweep's (single) angle at `wavelength` (µm), x input.
    fn incidence(&self, wavelength: f64) -> Incidence {
        Incidence {
            wavelength,
            theta: self.incidence_theta_deg[0].to_radians(),
            phi: self.incidence_phi_deg[0].to_radians(),
            polarization: Polarization::X,
        }
    }

    /// Total number of grid cells.
    pub fn cell_count(&self) -> usize {
        let (a, b, c, d) = self.shape();
        a * b * c * d
    }

    /// Whether a pillar of `radius` fits a cell of `pitch` with the minimum gap to its
    /// neighbours (nearest-neighbour distance = pitch for square and hexagonal lattices).
    pub fn fits(&self, pitch: f64, radius: f64) -> bool {
        2.0 * radius + self.min_gap <= pitch * (1.0 + 1e-12)
    }

    /// The cell with flat index `i` (order: wavelength, height, pitch, radius; radius fastest).
    pub fn point(&self, i: usize) -> CellPoint {
        let (_, nh, np, nr) = self.shape();
        let ir = i % nr;
        let ip = (i / nr) % np;
        let ih = (i / (nr * np)) % nh;
        let iw = i / (nr * np * nh);
        CellPoint {
            index: i,
            iw,
            ih,
            ip,
            ir,
            wavelength: self.wavelengths[iw],
            height: self.heights[ih],
            pitch: self.pitches[ip],
            radius: self.radii[ir],
        }
    }

    /// Check the settings (also for settings not built from a design file).
    pub fn validate(&self) -> Result<()> {
        for (name, axis) in [
            ("wavelengths", &self.wavelengths),
            ("heights", &self.heights),
            ("pitches", &self.pitches),
            ("radii", &self.radii),
        ] {
            if axis.is_empty() {
                return Err(Error::invalid(name, "[]", "empty: give at least one value"));
            }
            if axis.windows(2).any(|w| w[1] <= w[0]) || axis.iter().any(|x| !x.is_finite()) {
                return Err(Error::invalid(
                    name,
                    format!("{axis:?}"),
                    "must be finite and strictly ascending",
                ));
            }
        }
        let max_pitch = self.pitches[self.pitches.len() - 1];
        let r_max = self.radii[self.radii.len() - 1];
        if self.radii[0] < 0.0 || r_max >= 0.5 * max_pitch {
            return Err(Error::invalid(
                "radius range",
                format!("{}..{} µm", self.radii[0], r_max),
                format!(
                    "must lie in [0, half the largest pitch = {} µm)",
                    0.5 * max_pitch
                ),
            ));
        }
        if self.harmonics == 0 {
            return Err(Error::invalid("harmonics", 0, "must be >= 1"));
        }
        check_incidence_angles(&self.incidence_theta_deg, &self.incidence_phi_deg)?;
        if let Some(r) = &self.harmonic_rule {
            if r.reference_harmonics == 0
                || r.floor == 0
                || !(r.reference_pitch.is_finite() && r.reference_pitch > 0.0)
            {
                return Err(Error::invalid(
                    "harmonic rule",
                    format!("{r:?}"),
                    "reference harmonics and floor >= 1, reference pitch > 0 µm",
                ));
            }
        }
        Ok(())
    }
}

/// The cells a run (or shard) solves: those that fit their pitch, in flat order; with the
/// map of them and the (pitch, radius) pairs skipped because the radius does not fit.
struct CellPlan {
    computed: ndarray::Array4<bool>,
    skipped: Vec<(f64, f64)>,
    todo: Vec<usize>,
}

impl CellPlan {
    fn new(spec: &SweepSettings, shard: Option<Shard>) -> Self {
        let (nw, nh, np, nr) = spec.shape();
        let mut computed = ndarray::Array4::from_elem((nw, nh, np, nr), false);
        let mut skipped = Vec::new();
        for &p in &spec.pitches {
            for &r in &spec.radii {
                if !spec.fits(p, r) {
                    skipped.push((p, r));
                }
            }
        }
        let mine = |i: usize| shard.is_none_or(|s| i % s.count == s.index - 1);
        let mut todo: Vec<usize> = Vec::new();
        for i in 0..spec.cell_count() {
            let c = spec.point(i);
            if mine(i) && spec.fits(c.pitch, c.radius) {
                computed[[c.iw, c.ih, c.ip, c.ir]] = true;
                todo.push(i);
            }
        }
        CellPlan {
            computed,
            skipped,
            todo,
        }
    }
}

/// A solved cell's numbers, refused when not finite.
fn finite_result(c: &CellPoint, r: CellResult) -> Result<CellResult> {
    if finite(&r) {
        Ok(r)
    } else {
        Err(Error::numerical(
            "library",
            format!(
                "non-finite result for radius {} µm, pitch {} µm",
                c.radius, c.pitch
            ),
        ))
    }
}

/// Put a solved cell into the library (valid from now on).
fn store_cell(lib: &mut PhaseLibrary, c: &CellPoint, r: &CellResult) {
    for pol in 0..2 {
        lib.t[[c.iw, c.ih, c.ip, c.ir, pol]] = r.t[pol];
        lib.transmittance[[c.iw, c.ih, c.ip, c.ir, pol]] = r.transmittance[pol];
        lib.reflectance[[c.iw, c.ih, c.ip, c.ir, pol]] = r.reflectance[pol];
    }
    lib.valid[[c.iw, c.ih, c.ip, c.ir]] = true;
}

fn finite(r: &CellResult) -> bool {
    r.t.iter().all(|z| z.re.is_finite() && z.im.is_finite())
        && r.transmittance
            .iter()
            .chain(&r.reflectance)
            .all(|x| x.is_finite())
}

/// Run the sweep with `solver` for each cell that fits (and belongs to the shard).
///
/// A cell whose solve fails is marked invalid and reported; if every attempted cell fails,
/// the first error is returned instead (a solver that cannot run at all).
pub fn sweep<F>(spec: &SweepSpec, solver: F, opts: &SweepOptions) -> Result<SweepReport>
where
    F: Fn(&CellPoint) -> Result<CellResult> + Sync,
{
    sweep_impl(
        spec,
        false,
        |pts: &[CellPoint]| pts.iter().map(&solver).collect(),
        opts,
    )
}

/// [`sweep`] with a solver that takes every height of one (wavelength, pitch, radius) at
/// once (cells in ascending height; one result per cell, in order), so that a layer's modes,
/// which do not depend on its height, are computed once per column: see
/// [`rcwa_height_solver`].
pub fn sweep_heights<G>(spec: &SweepSpec, solver: G, opts: &SweepOptions) -> Result<SweepReport>
where
    G: Fn(&[CellPoint]) -> Vec<Result<CellResult>> + Sync,
{
    sweep_impl(spec, true, solver, opts)
}

fn sweep_impl<G>(
    spec: &SweepSpec,
    group_heights: bool,
    solver: G,
    opts: &SweepOptions,
) -> Result<SweepReport>
where
    G: Fn(&[CellPoint]) -> Vec<Result<CellResult>> + Sync,
{
    let settings = &spec.settings;
    settings.validate()?;
    if settings.angle_count() != 1 {
        return Err(Error::invalid(
            "incidence angles",
            format!(
                "{} × {}",
                settings.incidence_theta_deg.len(),
                settings.incidence_phi_deg.len()
            ),
            "a cell sweep runs at one incidence: sweep the angles with sweep_angles",
        ));
    }
    let mut lib = empty_library(spec)?;
    let CellPlan {
        computed,
        skipped,
        todo,
    } = CellPlan::new(settings, opts.shard);

    let ckpt = opts.checkpoint.as_deref();
    let done = resume(settings, ckpt, opts.shard, &todo)?;
    let resumed = done.len();
    let have: std::collections::HashSet<usize> = done.iter().map(|(i, _)| *i).collect();
    let remaining: Vec<usize> = todo.iter().copied().filter(|i| !have.contains(i)).collect();

    let bar = opts.progress.get();
    bar.set_len(remaining.len() as u64);
    if resumed > 0 {
        bar.set_message(format!("({resumed} resumed from checkpoint)"));
    }
    let start = std::time::Instant::now();
    let groups = work_units(settings, &remaining, group_heights);
    let results = solve_units(settings, &groups, &solver, ckpt, bar)?;
    let elapsed_s = start.elapsed().as_secs_f64();

    if crate::progress::interrupted() {
        let saved = resumed + results.iter().filter(|(_, r)| r.is_ok()).count();
        let where_ = ckpt.map_or("memory only (no checkpoint)".to_string(), |c| c.location());
        return Err(Error::Interrupted {
            message: format!(
                "{saved} of {} cells saved in {where_}; rerun the same command to resume",
                todo.len()
            ),
        });
    }
    let mut failed = Vec::new();
    let mut first_err = None;
    let mut solved = 0;
    let put =
        |lib: &mut PhaseLibrary, i: usize, r: &CellResult| store_cell(lib, &settings.point(i), r);
    for (i, r) in &done {
        put(&mut lib, *i, r);
    }
    for (i, r) in results {
        match r {
            Ok(r) => {
                put(&mut lib, i, &r);
                solved += 1;
            }
            Err(e) => {
                let msg = e.to_string();
                if first_err.is_none() {
                    first_err = Some(e);
                }
                failed.push((settings.point(i), msg));
            }
        }
    }
    if solved == 0 && resumed == 0 && !failed.is_empty() {
        // nothing was saved: leave no checkpoint behind
        if let Some(c) = ckpt {
            c.discard();
        }
        return Err(first_err.expect("a failure"));
    }
    Ok(SweepReport {
        library: lib,
        computed,
        skipped,
        failed,
        resumed,
        solved,
        elapsed_s,
    })
}

/// The library of a sweep before any cell is solved: its axes, lattice, exit index and the
/// largest harmonic count of its pitches.
fn empty_library(spec: &SweepSpec) -> Result<PhaseLibrary> {
    let settings = &spec.settings;
    Ok(PhaseLibrary::empty(
        settings.wavelengths.clone(),
        settings.heights.clone(),
        settings.pitches.clone(),
        settings.radii.clone(),
        settings.lattice,
        spec.exit_index()?,
        settings
            .pitches
            .iter()
            .map(|&p| settings.harmonics_at(p))
            .max()
            .unwrap_or(settings.harmonics),
    ))
}

/// The cells of `todo` (ascending flat indices) an earlier run of these settings kept in the
/// checkpoint, sorted and unique; the checkpoint restarted with them.
fn resume(
    settings: &SweepSettings,
    ckpt: Option<&dyn Checkpoint>,
    shard: Option<Shard>,
    todo: &[usize],
) -> Result<Vec<(usize, CellResult)>> {
    let mut done: Vec<(usize, CellResult)> = match ckpt {
        Some(c) => c.resume(&settings.fingerprint(), shard, settings.cell_count())?,
        None => Vec::new(),
    };
    done.retain(|(i, _)| todo.binary_search(i).is_ok());
    done.sort_by_key(|(i, _)| *i);
    done.dedup_by_key(|(i, _)| *i);
    if let Some(c) = ckpt {
        c.start(&settings.fingerprint(), shard, &done)?;
    }
    Ok(done)
}

/// The units of parallel work over the `remaining` cells: single cells, or (with
/// `group_heights`) every remaining height of one (wavelength, pitch, radius), in ascending
/// height.
fn work_units(
    settings: &SweepSettings,
    remaining: &[usize],
    group_heights: bool,
) -> Vec<Vec<usize>> {
    if group_heights {
        let mut map: std::collections::BTreeMap<(usize, usize, usize), Vec<usize>> =
            Default::default();
        for &i in remaining {
            let c = settings.point(i);
            map.entry((c.iw, c.ip, c.ir)).or_default().push(i);
        }
        map.into_values().collect()
    } else {
        remaining.iter().map(|&i| vec![i]).collect()
    }
}

/// Solve the work units in parallel (rayon over units; the inner solve stays sequential), each
/// finished cell appended to the checkpoint and counted on `bar`; after Ctrl-C the remaining
/// units are skipped as interrupted. Returns (flat index, result) per cell; a checkpoint that
/// could not be written is the error.
fn solve_units<G>(
    settings: &SweepSettings,
    groups: &[Vec<usize>],
    solver: &G,
    ckpt: Option<&dyn Checkpoint>,
    bar: &dyn crate::progress::Progress,
) -> Result<Vec<(usize, Result<CellResult>)>>
where
    G: Fn(&[CellPoint]) -> Vec<Result<CellResult>> + Sync,
{
    // The inner solve stays sequential: rayon parallelises over cells only.
    faer::set_global_parallelism(faer::Par::Seq);
    let ckpt_error: Mutex<Option<Error>> = Mutex::new(None);
    let results: Vec<(usize, Result<CellResult>)> = groups
        .par_iter()
        .flat_map_iter(|group| {
            if crate::progress::interrupted() {
                // Ctrl-C: the remaining cells are skipped; the solved ones are in the checkpoint
                return group
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            Err(Error::Interrupted {
                                message: String::new(),
                            }),
                        )
                    })
                    .collect::<Vec<_>>();
            }
            let pts: Vec<CellPoint> = group.iter().map(|&i| settings.point(i)).collect();
            let mut rs = solver(&pts);
            if rs.len() != pts.len() {
                rs = pts
                    .iter()
                    .map(|_| {
                        Err(Error::numerical(
                            "library",
                            "the cell solver returned the wrong number of results",
                        ))
                    })
                    .collect();
            }
            let mut out = Vec::with_capacity(pts.len());
            for (c, r) in pts.iter().zip(rs) {
                let i = c.index;
                let r = r.and_then(|r| finite_result(c, r));
                if let (Ok(res), Some(c)) = (&r, ckpt) {
                    if let Err(e) = c.append(i, res) {
                        *ckpt_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    }
                }
                bar.inc(1);
                out.push((i, r));
            }
            out
        })
        .collect();
    bar.finish();
    if let Some(e) = ckpt_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(results)
}

/// One [`RcwaPlan`] per (wavelength, pitch): built once, shared by every radius and height
/// (and thread). A plan that cannot be built (too few harmonics, a Rayleigh anomaly) keeps
/// its error message for the cells that need it.
struct Plans {
    np: usize,
    plans: Vec<std::result::Result<RcwaPlan, String>>,
}

impl Plans {
    fn new(spec: &SweepSettings, substrate: &Material, exit: &Material) -> Result<Self> {
        let mut plans = Vec::with_capacity(spec.wavelengths.len() * spec.pitches.len());
        for &w in &spec.wavelengths {
            for &p in &spec.pitches {
                let settings = crate::rcwa::Settings {
                    harmonics: spec.harmonics_at(p),
                    ..Default::default()
                };
                let lattice = crate::cell::Lattice::of_kind(spec.lattice, p)?;
                let inc = spec.incidence(w);
                plans.push(
                    RcwaPlan::new(&lattice, &settings, &inc, substrate, exit)
                        .map_err(|e| e.to_string()),
                );
            }
        }
        Ok(Plans {
            np: spec.pitches.len(),
            plans,
        })
    }

    fn get(&self, c: &CellPoint) -> Result<&RcwaPlan> {
        self.plans[c.iw * self.np + c.ip]
            .as_ref()
            .map_err(|m| Error::numerical("rcwa", m.clone()))
    }
}

/// The cell's t, T and R from the x (and, with `both`, y) solutions. With x alone (normal
/// incidence, [`LibraryPolarization::X`]) the y values are x's: a centred disc in a square or
/// hexagonal lattice, and its circular harmonic set, have C4 / C6 symmetry, so the zeroth-order
/// response is isotropic (t_yy = t_xx to rounding, checked with `Both` in
/// tests/library_rcwa.rs); the y sector is then not solved at all.
fn cell_result(sols: &[crate::rcwa::Solution], both: bool) -> CellResult {
    let sx = &sols[0];
    let (ty, ty_t, ty_r) = if both {
        let sy = &sols[1];
        (sy.jones_t[1][1], sy.transmittance, sy.reflectance)
    } else {
        (sx.jones_t[0][0], sx.transmittance, sx.reflectance)
    };
    CellResult {
        t: [sx.jones_t[0][0], ty],
        transmittance: [sx.transmittance, ty_t],
        reflectance: [sx.reflectance, ty_r],
    }
}

/// The real per-cell solve: a [`PillarCell`] solved at normal incidence through the plan of
/// its (wavelength, pitch); t_x = jones_t[0][0], t_y = jones_t[1][1]. With
/// [`LibraryPolarization::X`] only x input is solved and every y value is x's (C4 / C6
/// symmetry of a centred disc: the zeroth-order response is isotropic); with `Both` the same
/// modes give the y-input solution too.
pub fn rcwa_cell_solver(
    spec: &SweepSpec,
) -> Result<impl Fn(&CellPoint) -> Result<CellResult> + Sync> {
    let solve_heights = rcwa_height_solver(spec)?;
    Ok(move |c: &CellPoint| -> Result<CellResult> {
        solve_heights(std::slice::from_ref(c))
            .pop()
            .unwrap_or_else(|| Err(Error::numerical("library", "no result")))
    })
}

/// The real solve of every height of one (wavelength, pitch, radius) for [`sweep_heights`]:
/// the Fourier stage and layer eigensolve once, then only the thickness-dependent part
/// (propagation and the block elimination) per height.
pub fn rcwa_height_solver(
    spec: &SweepSpec,
) -> Result<impl Fn(&[CellPoint]) -> Vec<Result<CellResult>> + Sync> {
    spec.materials.check_at(&spec.settings.wavelengths)?;
    let SweepMaterials {
        pillar,
        substrate,
        exit,
    } = spec.materials.clone();
    let settings = &spec.settings;
    let plans = Plans::new(settings, &substrate, &exit)?;
    let lattice = settings.lattice;
    // Off normal incidence the x and y responses differ in power too (no C4 argument): both
    // polarisations come from the same modes (only the bookkeeping is repeated).
    let both = settings.polarization == LibraryPolarization::Both
        || settings.incidence_theta_deg[0] != 0.0;
    let pols: Vec<Polarization> = if both {
        vec![Polarization::X, Polarization::Y]
    } else {
        vec![Polarization::X]
    };
    Ok(move |cells: &[CellPoint]| -> Vec<Result<CellResult>> {
        let Some(first) = cells.first() else {
            return Vec::new();
        };
        let modes = (|| {
            let plan = plans.get(first)?;
            let stack = PillarCell {
                lattice,
                pitch: first.pitch,
                radius: first.radius,
                height: first.height,
                pillar: pillar.clone(),
                incidence: substrate.clone(),
                exit: exit.clone(),
            }
            .stack()?;
            // x alone at normal incidence: t_y = t_x by symmetry (see `cell_result`), so the
            // y sector is not solved
            Ok::<_, Error>((plan, plan.layer_modes_for(&stack, [true, both])?))
        })();
        match modes {
            Err(e) => {
                let msg = e.to_string();
                let mut out = vec![Err(e)];
                out.extend((1..cells.len()).map(|_| Err(Error::numerical("rcwa", msg.clone()))));
                out
            }
            Ok((plan, lm)) => cells
                .iter()
                .map(|c| {
                    if c.iw != first.iw || c.ip != first.ip || c.ir != first.ir {
                        return Err(Error::numerical(
                            "library",
                            "cells of one height group differ in wavelength, pitch or radius",
                        ));
                    }
                    let sols = plan.solve_modes_for(&lm, Some(&[c.height]), &pols)?;
                    Ok(cell_result(&sols, both))
                })
                .collect(),
        }
    })
}

/// What a sweep over incidence angles produced: one [`SweepReport`] per (θ, φ), θ major
/// (`reports[iθ · nφ + iφ]`).
#[derive(Debug)]
pub struct AngularReport {
    pub incidence_theta_deg: Vec<f64>,
    pub incidence_phi_deg: Vec<f64>,
    pub reports: Vec<SweepReport>,
}

impl AngularReport {
    /// The report at axis indices (iθ, iφ).
    pub fn at(&self, itheta: usize, iphi: usize) -> &SweepReport {
        &self.reports[itheta * self.incidence_phi_deg.len() + iphi]
    }

    /// The report at θ = 0 (the first φ: at normal incidence φ does not enter), if swept.
    pub fn normal_incidence(&self) -> Option<&SweepReport> {
        let it = self.incidence_theta_deg.iter().position(|&t| t == 0.0)?;
        Some(self.at(it, 0))
    }

    /// [`Self::normal_incidence`], by value.
    pub fn into_normal_incidence(mut self) -> Option<SweepReport> {
        let it = self.incidence_theta_deg.iter().position(|&t| t == 0.0)?;
        Some(self.reports.swap_remove(it * self.incidence_phi_deg.len()))
    }

    /// The libraries and computed maps of every incidence.
    pub fn library(&self) -> super::AngularLibrary {
        super::AngularLibrary {
            incidence_theta_deg: self.incidence_theta_deg.clone(),
            incidence_phi_deg: self.incidence_phi_deg.clone(),
            slices: self.reports.iter().map(|r| r.library.clone()).collect(),
            computed: self.reports.iter().map(|r| r.computed.clone()).collect(),
        }
    }
}

/// Sweep every (θ, φ) of `spec`, one incidence after the other (each a [`sweep_heights`], or a
/// [`sweep`] of single cells when `group_heights` is false), with the solver `make_solver`
/// builds for the spec of that incidence ([`SweepSpec::at_incidence`]); the journal of
/// incidence (iθ, iφ) is `checkpoint_at(iθ, iφ)` (`opts.checkpoint` is not used).
pub fn sweep_angles<M, G>(
    spec: &SweepSpec,
    group_heights: bool,
    make_solver: M,
    opts: &SweepOptions,
    checkpoint_at: &dyn Fn(usize, usize) -> Option<Arc<dyn Checkpoint>>,
) -> Result<AngularReport>
where
    M: Fn(&SweepSpec) -> Result<G>,
    G: Fn(&[CellPoint]) -> Vec<Result<CellResult>> + Sync,
{
    spec.settings.validate()?;
    let angles = &spec.settings;
    let (nt, np) = (
        angles.incidence_theta_deg.len(),
        angles.incidence_phi_deg.len(),
    );
    let mut reports = Vec::with_capacity(nt * np);
    for it in 0..nt {
        for ip in 0..np {
            let sub = spec.at_incidence(it, ip);
            let o = SweepOptions {
                checkpoint: checkpoint_at(it, ip),
                ..opts.clone()
            };
            reports.push(sweep_impl(&sub, group_heights, make_solver(&sub)?, &o)?);
        }
    }
    Ok(AngularReport {
        incidence_theta_deg: angles.incidence_theta_deg.clone(),
        incidence_phi_deg: angles.incidence_phi_deg.clone(),
        reports,
    })
}
