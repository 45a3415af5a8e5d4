//! Lens layout: lattice sites inside the aperture → one pillar radius per site.
//!
//! The pipeline is
//! 1. [`CellTable::from_library`]: the unit cells available at the lens' wavelength, height
//!    and pitch (library radii, optionally refined by linear interpolation of complex t in
//!    radius on a `radius_step` grid);
//! 2. [`plan_layout`]: the sites of a square or hexagonal lattice inside the aperture (a site
//!    at the lens centre), the global phase offset φ₀ and common amplitude a that minimise the
//!    total error, and per site the cell minimising
//!    Σ_pol |t_pol(r) e^{−iφ} − a|² (complex error, default) or |wrap(arg t̄ − φ)|
//!    (nearest phase);
//! 3. [`Layout::report`]: pillar count, radius histogram, RMS/max phase error, sites the
//!    library cannot reach well (by radial ring), minimum gap between neighbours.
//!
//! Storage is compact for very large lenses: one `u16` cell index per site, positions are
//! recomputed from the lattice (12 million pillars take 24 MB).
//!
//! Selection uses a lookup table over the wrapped target phase θ: for each of
//! [`LUT_BINS`] bins it keeps every cell that can be optimal somewhere in the bin (bound by
//! the Lipschitz constant of each cell's cost in θ), and each site then evaluates the exact
//! cost of those few cells only. The result equals a brute-force search over all cells.

use crate::cell::LatticeKind;
use crate::lens::{wrap_phase, Lens};
use crate::library::PhaseLibrary;
use crate::numeric::golden_section_max;
use crate::{Error, Result, C64};
use rayon::prelude::*;
use std::f64::consts::PI;

/// Number of bins of the selection lookup table over θ ∈ (−π, π].
pub const LUT_BINS: usize = 8192;
/// Bins of the target-phase histogram used to optimise the offset and the amplitude.
const HIST_BINS: usize = 1024;
/// Largest number of cells used in the search for the phase offset.
const SEARCH_CELLS: usize = 256;
/// Number of radial rings in the "where are the poorly reached sites" report.
pub const REPORT_RINGS: usize = 10;

/// How each site's cell is chosen (design files: `selection = "complex"` or
/// `"nearest-phase"`; `"complex-error"` is read as `"complex"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// Minimise Σ_pol |t_pol e^{−iφ} − a|² with a common amplitude a (default).
    #[serde(rename = "complex", alias = "complex-error")]
    ComplexError,
    /// Minimise the phase distance |wrap(arg t̄ − φ)|, t̄ = (t_x + t_y)/2.
    NearestPhase,
}

/// Settings of a layout (lengths in µm, angles in radians).
#[derive(Clone, Debug)]
pub struct LayoutSettings {
    pub lattice: LatticeKind,
    /// Lattice pitch (nearest-neighbour distance).
    pub pitch: f64,
    pub selection: Selection,
    /// Fixed global phase offset φ₀ (rad); `None` = optimise it.
    pub phase_offset: Option<f64>,
    /// Fabrication minimum gap between neighbouring pillars (µm), for the report.
    pub min_gap: f64,
    /// A site is "poorly reached" when |phase error| exceeds this (rad).
    pub poor_phase_threshold: f64,
    /// Fill the lattice sites of the bounding square outside the aperture with the cell
    /// closest to this radius (µm); `None` leaves them empty.
    pub fill_radius: Option<f64>,
    /// Refractive index of the incidence medium (substrate) the library's t refers to; the
    /// propagation stage normalises the incident power with it.
    pub incidence_index: f64,
    /// Height and material of the pillars, recorded in the layout file so that a full-wave
    /// solver or an exporter can rebuild the structure; `None` when not known.
    pub pillar: Option<PillarSpec>,
}

/// The pillars as a full-wave solver needs them: height (µm) and complex refractive index at
/// the design wavelength (loss Im n > 0). The substrate is the layout's incidence medium and
/// the medium around and above the pillars its exit medium.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PillarSpec {
    pub height: f64,
    pub index: C64,
}

/// One unit cell available to the layout: radius and complex t for x and y polarisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// Pillar radius (µm).
    pub radius: f64,
    /// t for x- and y-polarised normal incidence.
    pub t: [C64; 2],
}

impl Cell {
    /// Polarisation-averaged t̄ = (t_x + t_y)/2.
    pub fn t_mean(&self) -> C64 {
        0.5 * (self.t[0] + self.t[1])
    }
}

/// The cells available at one (wavelength, height, pitch), radius ascending.
#[derive(Clone, Debug)]
pub struct CellTable {
    pub cells: Vec<Cell>,
    /// Human-readable provenance (which library entries, interpolation).
    pub notes: Vec<String>,
}

/// Phase coverage of a cell table: 2π minus the largest circular gap between cell phases.
#[derive(Clone, Copy, Debug)]
pub struct Coverage {
    /// Covered phase range (rad).
    pub covered: f64,
    /// The largest gap runs from `gap_start` to `gap_start + gap` (rad, wrapped).
    pub gap_start: f64,
    pub gap: f64,
}

impl CellTable {
    /// Build from explicit cells (sorted by radius; must be non-empty, finite, ≤ 65535).
    pub fn new(mut cells: Vec<Cell>, notes: Vec<String>) -> Result<Self> {
        cells.retain(|c| {
            c.radius.is_finite() && c.t.iter().all(|t| t.re.is_finite() && t.im.is_finite())
        });
        if cells.is_empty() {
            return Err(Error::invalid(
                "phase library",
                "with no valid cell",
                "needs at least one valid radius at the lens pitch",
            ));
        }
        if cells.len() > u16::MAX as usize {
            return Err(Error::invalid(
                "number of cells",
                cells.len(),
                format!("must be at most {} (coarsen radius_step)", u16::MAX),
            ));
        }
        cells.sort_by(|a, b| a.radius.total_cmp(&b.radius));
        Ok(CellTable { cells, notes })
    }

    /// The cells of `library` at (wavelength, height, pitch), all in µm. `height` may be `None`
    /// when the library has a single height. With `radius_step` = Some(δ), each interval
    /// between two neighbouring valid library radii is refined on a δ grid with t
    /// interpolated linearly (complex) in radius.
    pub fn from_library(
        library: &PhaseLibrary,
        lattice: LatticeKind,
        wavelength: f64,
        height: Option<f64>,
        pitch: f64,
        radius_step: Option<f64>,
    ) -> Result<Self> {
        if library.lattice != lattice {
            return Err(Error::invalid(
                "lattice",
                format!("{lattice:?}").to_lowercase(),
                format!(
                    "must match the library's lattice ({})",
                    format!("{:?}", library.lattice).to_lowercase()
                ),
            ));
        }
        let iw = library.wavelength_index(wavelength)?;
        let ih = match height {
            Some(h) => library.height_index(h)?,
            None if library.heights.len() == 1 => 0,
            None => {
                let list: Vec<String> = library.heights.iter().map(|h| format!("{h}")).collect();
                return Err(Error::invalid(
                    "height",
                    "(not given)",
                    format!(
                        "must be given: the library has several heights [{}] µm",
                        list.join(", ")
                    ),
                ));
            }
        };
        let ip = library.pitch_index(pitch)?;
        if let Some(d) = radius_step {
            crate::error::check_positive("radius_step", d, "µm")?;
        }
        let nr = library.radii.len();
        let sample = |ir: usize| -> Option<Cell> {
            if !library.valid[[iw, ih, ip, ir]] {
                return None;
            }
            let t = [
                library.t[[iw, ih, ip, ir, 0]],
                library.t[[iw, ih, ip, ir, 1]],
            ];
            if t.iter().any(|v| !(v.re.is_finite() && v.im.is_finite())) {
                return None;
            }
            Some(Cell {
                radius: library.radii[ir],
                t,
            })
        };
        let mut cells = Vec::new();
        let mut interpolated = 0usize;
        for ir in 0..nr {
            let Some(c0) = sample(ir) else { continue };
            cells.push(c0);
            if let (Some(step), Some(c1)) =
                (radius_step, if ir + 1 < nr { sample(ir + 1) } else { None })
            {
                let span = c1.radius - c0.radius;
                let n = (span / step).round() as usize;
                for k in 1..n {
                    let s = k as f64 / n as f64;
                    let r = c0.radius + s * span;
                    let t = [
                        c0.t[0] + s * (c1.t[0] - c0.t[0]),
                        c0.t[1] + s * (c1.t[1] - c0.t[1]),
                    ];
                    cells.push(Cell { radius: r, t });
                    interpolated += 1;
                }
            }
        }
        let valid = cells.len() - interpolated;
        let mut notes = vec![format!(
            "library entries at wavelength {} µm, height {} µm, pitch {} µm (exact library values, no interpolation across wavelength/height/pitch); {} valid radii",
            library.wavelengths[iw], library.heights[ih], library.pitches[ip], valid
        )];
        if interpolated > 0 {
            notes.push(format!(
                "{interpolated} radii interpolated (complex t linear in radius) between neighbouring valid library radii, step ≈ {} µm",
                radius_step.unwrap_or(0.0)
            ));
        }
        Self::new(cells, notes)
    }

    /// Phase coverage of the polarisation-averaged t̄ of the cells.
    pub fn coverage(&self) -> Coverage {
        let mut ph: Vec<f64> = self.cells.iter().map(|c| c.t_mean().arg()).collect();
        ph.sort_by(f64::total_cmp);
        let mut gap = 2.0 * PI - (ph[ph.len() - 1] - ph[0]);
        let mut start = ph[ph.len() - 1];
        for w in ph.windows(2) {
            if w[1] - w[0] > gap {
                gap = w[1] - w[0];
                start = w[0];
            }
        }
        Coverage {
            covered: 2.0 * PI - gap,
            gap_start: start,
            gap,
        }
    }
}

/// One row of lattice sites: x = (first + i)·pitch + shift for i in 0..cells.len(), all at
/// height y (computed from the integer lattice index, so the centre site sits at exactly 0).
#[derive(Clone, Debug)]
pub struct SiteRow {
    /// y of the row (µm).
    pub y: f64,
    /// x of the first site (µm).
    pub x0: f64,
    /// Lattice index of the first site and the row's shift (0, or pitch/2 on odd hex rows).
    pub first: i64,
    pub shift: f64,
    /// Index into [`CellTable::cells`] per site.
    pub cells: Vec<u16>,
}

impl SiteRow {
    /// x (µm) of site i of the row.
    #[inline]
    pub fn x(&self, i: usize, pitch: f64) -> f64 {
        (self.first + i as i64) as f64 * pitch + self.shift
    }
}

/// One placed pillar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pillar {
    /// Centre (µm), lens axis at the origin.
    pub x: f64,
    pub y: f64,
    /// Index of the cell in the layout's table.
    pub cell: u16,
}

/// A complete layout.
#[derive(Clone, Debug)]
pub struct Layout {
    pub lens: Lens,
    pub settings: LayoutSettings,
    pub table: CellTable,
    /// Common amplitude a of the target transmission a·e^{iφ}.
    pub amplitude: f64,
    /// Global phase offset φ₀ (rad) added to the hyperbolic profile.
    pub phase_offset: f64,
    pub rows: Vec<SiteRow>,
}

/// Cost of cell `c` for target phase θ and amplitude a.
#[inline]
fn cost(sel: Selection, c: &Cell, rot: C64, a: f64) -> f64 {
    match sel {
        Selection::ComplexError => (c.t[0] * rot - a).norm_sqr() + (c.t[1] * rot - a).norm_sqr(),
        Selection::NearestPhase => {
            let z = c.t_mean() * rot;
            z.im.atan2(z.re).abs()
        }
    }
}

/// Lookup table: per θ bin, the cells that can be optimal somewhere in the bin (CSR).
struct SelectionTable {
    offsets: Vec<u32>,
    cells: Vec<u16>,
}

fn bin_of(theta: f64, bins: usize) -> usize {
    (((theta + PI) / (2.0 * PI) * bins as f64) as usize).min(bins - 1)
}

impl SelectionTable {
    fn build(sel: Selection, table: &CellTable, a: f64) -> Self {
        let h = PI / LUT_BINS as f64; // half bin width
                                      // Lipschitz constant of each cell's cost in θ: complex error
                                      // d/dθ Σ|t e^{−iθ} − a|² = −2a Σ Im(t e^{−iθ}), bounded by 2a Σ|t|; nearest phase: 1.
        let lip: Vec<f64> = table
            .cells
            .iter()
            .map(|c| match sel {
                Selection::ComplexError => 2.0 * a * (c.t[0].norm() + c.t[1].norm()),
                Selection::NearestPhase => 1.0,
            })
            .collect();
        let phases: Vec<f64> = table.cells.iter().map(|c| c.t_mean().arg()).collect();
        let per_bin: Vec<Vec<u16>> = (0..LUT_BINS)
            .into_par_iter()
            .map(|b| {
                let theta = -PI + (b as f64 + 0.5) * 2.0 * h;
                let rot = C64::from_polar(1.0, -theta);
                let costs: Vec<f64> = match sel {
                    Selection::ComplexError => {
                        table.cells.iter().map(|c| cost(sel, c, rot, a)).collect()
                    }
                    // same value as `cost`, from precomputed phases (no atan2 per bin and cell)
                    Selection::NearestPhase => phases
                        .iter()
                        .map(|&ph| wrap_phase(ph - theta).abs())
                        .collect(),
                };
                let upper = costs
                    .iter()
                    .zip(&lip)
                    .map(|(c, l)| c + l * h)
                    .fold(f64::INFINITY, f64::min);
                // small relative slack against rounding (1e-12 of the cost scale)
                let slack = 1e-12 * (1.0 + upper.abs());
                (0..costs.len())
                    .filter(|&k| costs[k] - lip[k] * h <= upper + slack)
                    .map(|k| k as u16)
                    .collect()
            })
            .collect();
        let mut offsets = Vec::with_capacity(LUT_BINS + 1);
        let mut cells = Vec::new();
        offsets.push(0);
        for v in per_bin {
            cells.extend_from_slice(&v);
            offsets.push(cells.len() as u32);
        }
        SelectionTable { offsets, cells }
    }

    #[inline]
    fn choose(&self, sel: Selection, table: &CellTable, theta: f64, a: f64) -> u16 {
        let b = bin_of(theta, LUT_BINS);
        let rot = C64::from_polar(1.0, -theta);
        let mut best = (f64::INFINITY, 0u16);
        for &k in &self.cells[self.offsets[b] as usize..self.offsets[b + 1] as usize] {
            let c = cost(sel, &table.cells[k as usize], rot, a);
            if c < best.0 {
                best = (c, k);
            }
        }
        best.1
    }
}

/// Site rows of a lattice inside a circular aperture of `diameter` centred on a site (or its
/// bounding square when `square`).
fn site_rows(
    lattice: LatticeKind,
    pitch: f64,
    diameter: f64,
    square: bool,
) -> Vec<(f64, i64, f64, usize)> {
    let radius = 0.5 * diameter;
    let tol = 1e-9 * pitch;
    let (dy, shift) = match lattice {
        LatticeKind::Square => (pitch, 0.0),
        LatticeKind::Hex => (0.5 * 3f64.sqrt() * pitch, 0.5 * pitch),
    };
    let jmax = ((radius + tol) / dy).floor() as i64;
    let mut rows = Vec::new();
    for j in -jmax..=jmax {
        let y = j as f64 * dy;
        let half = if square {
            radius
        } else {
            (radius * radius - y * y).max(0.0).sqrt()
        } + tol;
        let off = if j.rem_euclid(2) == 1 { shift } else { 0.0 };
        let i0 = ((-half - off) / pitch).ceil() as i64;
        let i1 = ((half - off) / pitch).floor() as i64;
        if i1 >= i0 {
            rows.push((y, i0, off, (i1 - i0 + 1) as usize));
        }
    }
    rows
}

/// Wrapped target phase θ ∈ (−π, π] at (x, y).
#[inline]
fn target_theta(lens: &Lens, offset: f64, x: f64, y: f64) -> f64 {
    wrap_phase(lens.phase(x.hypot(y)) + offset)
}

/// Optimal amplitude and offset from the histogram of wrapped (offset-free) target phases.
fn optimise_offset_amplitude(
    sel: Selection,
    table: &CellTable,
    hist: &[f64],
    fixed_offset: Option<f64>,
) -> (f64, f64) {
    let nb = hist.len();
    let centres: Vec<f64> = (0..nb)
        .map(|b| -PI + (b as f64 + 0.5) * 2.0 * PI / nb as f64)
        .collect();
    let total: f64 = hist.iter().sum();
    let a0 = table
        .cells
        .iter()
        .map(|c| 0.5 * (c.t[0].norm() + c.t[1].norm()))
        .sum::<f64>()
        / table.cells.len() as f64;
    // total cost and updated amplitude for offset φ₀ at amplitude a: choose per bin, then
    // a = Σ h Re(Σ_pol t e^{−iθ}) / (2 Σ h) (least squares for the complex error; the mean
    // |t̄| of the chosen cells for nearest phase)
    let phases: Vec<f64> = table.cells.iter().map(|c| c.t_mean().arg()).collect();
    let eval = |offset: f64, a: f64| -> (f64, f64) {
        let mut c_sum = 0.0;
        let mut a_num = 0.0;
        for (b, &w) in hist.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            let theta = centres[b] + offset;
            let rot = C64::from_polar(1.0, -theta);
            let mut best = (f64::INFINITY, 0usize);
            for (k, c) in table.cells.iter().enumerate() {
                // nearest phase from the precomputed cell phases (no atan2 in the hot loop)
                let v = match sel {
                    Selection::ComplexError => cost(sel, c, rot, a),
                    Selection::NearestPhase => wrap_phase(phases[k] - theta).abs(),
                };
                if v < best.0 {
                    best = (v, k);
                }
            }
            let c = &table.cells[best.1];
            c_sum += w * match sel {
                Selection::ComplexError => best.0,
                Selection::NearestPhase => best.0 * best.0,
            };
            a_num += w * match sel {
                Selection::ComplexError => 0.5 * ((c.t[0] + c.t[1]) * rot).re,
                Selection::NearestPhase => c.t_mean().norm(),
            };
        }
        (c_sum, (a_num / total).max(0.0))
    };
    let refine_a = |offset: f64| -> (f64, f64) {
        let mut a = a0;
        let mut c = f64::INFINITY;
        for _ in 0..4 {
            let (ci, ai) = eval(offset, a);
            c = ci;
            if (ai - a).abs() <= 1e-9 * a.max(1e-12) {
                break;
            }
            a = ai;
        }
        (c, a)
    };
    if let Some(off) = fixed_offset {
        let (_, a) = refine_a(off);
        return (off, a);
    }
    let coarse = 96;
    let results: Vec<(f64, f64, f64)> = (0..coarse)
        .into_par_iter()
        .map(|k| {
            let off = -PI + 2.0 * PI * k as f64 / coarse as f64;
            let (c, a) = refine_a(off);
            (c, off, a)
        })
        .collect();
    let best =
        results.iter().copied().fold(
            (f64::INFINITY, 0.0, a0),
            |m, v| if v.0 < m.0 { v } else { m },
        );
    // golden-section refinement within ± one coarse step
    let step = 2.0 * PI / coarse as f64;
    let search = golden_section_max(refine_a, |v| -v.0, best.1 - step, best.1 + step, 20);
    let (x, (cost, a)) = search.best;
    let cand = (cost, x, a);
    let pick = if cand.0 <= best.0 { cand } else { best };
    (wrap_phase(pick.1), pick.2)
}

/// Refuse a layout's pitch, gap, diameter (less than one pitch) or phase offset.
fn check_settings(lens: &Lens, settings: &LayoutSettings) -> Result<()> {
    crate::error::check_positive("pitch", settings.pitch, "µm")?;
    crate::error::check_non_negative("minimum gap", settings.min_gap, "µm")?;
    if lens.diameter_um < settings.pitch {
        return Err(Error::invalid(
            "diameter",
            format!("{} µm", lens.diameter_um),
            format!("must be at least one pitch ({} µm)", settings.pitch),
        ));
    }
    if let Some(o) = settings.phase_offset {
        if !o.is_finite() {
            return Err(Error::invalid(
                "phase offset",
                o,
                "must be finite (radians)",
            ));
        }
    }
    Ok(())
}

/// The cell of `table` nearest the fill radius, for the sites outside the aperture (None:
/// no fill pillars).
fn fill_cell(settings: &LayoutSettings, table: &CellTable) -> Result<Option<u16>> {
    Ok(match settings.fill_radius {
        None => None,
        Some(r) => {
            crate::error::check_non_negative("fill radius", r, "µm")?;
            let k = (0..table.cells.len()).min_by(|&a, &b| {
                (table.cells[a].radius - r)
                    .abs()
                    .total_cmp(&(table.cells[b].radius - r).abs())
            });
            k.map(|k| k as u16)
        }
    })
}

/// Histogram ([`HIST_BINS`] bins) of the offset-free wrapped target phase over the sites of
/// `geometry` inside the aperture radius (µm).
fn target_phase_histogram(
    lens: &Lens,
    geometry: &[(f64, i64, f64, usize)],
    pitch: f64,
    aperture: f64,
) -> Vec<f64> {
    geometry
        .par_iter()
        .fold(
            || vec![0.0; HIST_BINS],
            |mut h, &(y, first, shift, n)| {
                for i in 0..n {
                    let x = (first + i as i64) as f64 * pitch + shift;
                    if x.hypot(y) <= aperture {
                        h[bin_of(target_theta(lens, 0.0, x, y), HIST_BINS)] += 1.0;
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0.0; HIST_BINS],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// The phase offset and amplitude of the target: the offset searched on at most
/// [`SEARCH_CELLS`] cells (evenly thinned in radius; dense interpolated tables change the
/// optimum offset negligibly), then the amplitude refined with every cell at that offset.
fn choose_offset_amplitude(
    settings: &LayoutSettings,
    table: &CellTable,
    hist: &[f64],
) -> (f64, f64) {
    let stride = table.cells.len().div_ceil(SEARCH_CELLS);
    let thinned = if stride > 1 {
        CellTable {
            cells: table.cells.iter().step_by(stride).copied().collect(),
            notes: Vec::new(),
        }
    } else {
        table.clone()
    };
    let (phase_offset, _) =
        optimise_offset_amplitude(settings.selection, &thinned, hist, settings.phase_offset);
    optimise_offset_amplitude(settings.selection, table, hist, Some(phase_offset))
}

/// Place pillars for `lens` with the cells of `table`. `progress` is told the number of rows
/// done ([`crate::progress::Silent`] for none).
pub fn plan_layout(
    lens: &Lens,
    settings: &LayoutSettings,
    table: CellTable,
    progress: &dyn crate::progress::Progress,
) -> Result<Layout> {
    check_settings(lens, settings)?;
    let fill = fill_cell(settings, &table)?;
    let geometry = site_rows(
        settings.lattice,
        settings.pitch,
        lens.diameter_um,
        fill.is_some(),
    );
    let aperture = 0.5 * lens.diameter_um + 1e-9 * settings.pitch;
    let pitch = settings.pitch;
    let hist = target_phase_histogram(lens, &geometry, pitch, aperture);
    let (phase_offset, amplitude) = choose_offset_amplitude(settings, &table, &hist);
    let lut = SelectionTable::build(settings.selection, &table, amplitude);
    progress.set_len(geometry.len() as u64);
    let rows: Vec<SiteRow> = geometry
        .par_iter()
        .map(|&(y, first, shift, n)| {
            let cells = (0..n)
                .map(|i| {
                    let x = (first + i as i64) as f64 * pitch + shift;
                    match fill {
                        Some(k) if x.hypot(y) > aperture => k,
                        _ => lut.choose(
                            settings.selection,
                            &table,
                            target_theta(lens, phase_offset, x, y),
                            amplitude,
                        ),
                    }
                })
                .collect();
            progress.inc(1);
            SiteRow {
                y,
                x0: first as f64 * pitch + shift,
                first,
                shift,
                cells,
            }
        })
        .collect();
    progress.finish();
    Ok(Layout {
        lens: *lens,
        settings: settings.clone(),
        table,
        amplitude,
        phase_offset,
        rows,
    })
}

/// Summary of a layout.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayoutReport {
    /// Pillars placed, fill pillars outside the aperture included.
    pub pillars: u64,
    /// Fill pillars outside the aperture (no target phase; not in the error statistics).
    pub fill_pillars: u64,
    /// Pillars per cell of the table (index-aligned with the table's radii).
    pub cell_counts: Vec<u64>,
    /// RMS and maximum |phase error| (rad) of t̄ against the target phase.
    pub rms_phase_error: f64,
    pub max_phase_error: f64,
    /// RMS complex error √(mean Σ_pol |t e^{−iφ} − a|²/2).
    pub rms_complex_error: f64,
    /// Sites with |phase error| above the threshold.
    pub poor_sites: u64,
    pub poor_fraction: f64,
    /// Poor sites per radial ring (ring k spans k/N..(k+1)/N of the aperture radius), and the
    /// number of sites per ring.
    pub poor_per_ring: Vec<u64>,
    pub sites_per_ring: Vec<u64>,
    /// Smallest gap between neighbouring pillars (µm) and where (x, y of one of the two).
    pub min_gap: f64,
    pub min_gap_at: [f64; 2],
    pub fabrication_min_gap: f64,
    pub amplitude: f64,
    pub phase_offset: f64,
    pub coverage: f64,
}

/// Accumulator of per-site statistics.
#[derive(Clone)]
struct Acc {
    n: u64,
    fill: u64,
    sum_e2: f64,
    max_e: f64,
    sum_c2: f64,
    poor: u64,
    poor_ring: Vec<u64>,
    ring: Vec<u64>,
    counts: Vec<u64>,
    gap: (f64, [f64; 2]),
}

impl Acc {
    fn new(ncells: usize) -> Self {
        Acc {
            n: 0,
            fill: 0,
            sum_e2: 0.0,
            max_e: 0.0,
            sum_c2: 0.0,
            poor: 0,
            poor_ring: vec![0; REPORT_RINGS],
            ring: vec![0; REPORT_RINGS],
            counts: vec![0; ncells],
            gap: (f64::INFINITY, [0.0; 2]),
        }
    }
    fn merge(mut self, o: Acc) -> Acc {
        self.n += o.n;
        self.fill += o.fill;
        self.sum_e2 += o.sum_e2;
        self.max_e = self.max_e.max(o.max_e);
        self.sum_c2 += o.sum_c2;
        self.poor += o.poor;
        for k in 0..REPORT_RINGS {
            self.poor_ring[k] += o.poor_ring[k];
            self.ring[k] += o.ring[k];
        }
        self.counts
            .iter_mut()
            .zip(&o.counts)
            .for_each(|(a, b)| *a += b);
        if o.gap.0 < self.gap.0 {
            self.gap = o.gap;
        }
        self
    }
}

impl Layout {
    /// Number of pillars.
    pub fn pillar_count(&self) -> u64 {
        self.rows.iter().map(|r| r.cells.len() as u64).sum()
    }

    /// All pillars, row by row (y ascending, x ascending).
    pub fn pillars(&self) -> impl Iterator<Item = Pillar> + '_ {
        let p = self.settings.pitch;
        self.rows.iter().flat_map(move |row| {
            row.cells.iter().enumerate().map(move |(i, &c)| Pillar {
                x: row.x(i, p),
                y: row.y,
                cell: c,
            })
        })
    }

    /// Whether a pillar lies inside the aperture (fill pillars outside have no target).
    pub fn is_inside(&self, p: &Pillar) -> bool {
        p.x.hypot(p.y) <= 0.5 * self.lens.diameter_um + 1e-9 * self.settings.pitch
    }

    /// Target transmission a·e^{i(φ(r)+φ₀)} at (x, y) (the same for both polarisations);
    /// zero outside the aperture (where fill pillars have no target).
    pub fn target(&self, x: f64, y: f64) -> C64 {
        if x.hypot(y) > 0.5 * self.lens.diameter_um + 1e-9 * self.settings.pitch {
            return C64::new(0.0, 0.0);
        }
        C64::from_polar(
            self.amplitude,
            self.lens.phase(x.hypot(y)) + self.phase_offset,
        )
    }

    /// Phase error wrap(arg t̄ − φ_target) (rad) of a pillar.
    /// NaN for fill pillars outside the aperture.
    pub fn phase_error(&self, p: &Pillar) -> f64 {
        if !self.is_inside(p) {
            return f64::NAN;
        }
        let th = target_theta(&self.lens, self.phase_offset, p.x, p.y);
        wrap_phase(self.table.cells[p.cell as usize].t_mean().arg() - th)
    }

    /// Statistics of the layout (parallel over rows).
    pub fn report(&self) -> LayoutReport {
        let p = self.settings.pitch;
        let rmax = 0.5 * self.lens.diameter_um;
        let nc = self.table.cells.len();
        let radius = |k: u16| self.table.cells[k as usize].radius;
        let neighbour_dx: &[f64] = match self.settings.lattice {
            LatticeKind::Square => &[0.0],
            LatticeKind::Hex => &[-0.5, 0.5],
        };
        let acc = (0..self.rows.len())
            .into_par_iter()
            .fold(
                || Acc::new(nc),
                |mut acc, j| {
                    let row = &self.rows[j];
                    for (i, &k) in row.cells.iter().enumerate() {
                        let pil = Pillar {
                            x: row.x(i, p),
                            y: row.y,
                            cell: k,
                        };
                        acc.counts[k as usize] += 1;
                        if !self.is_inside(&pil) {
                            acc.fill += 1;
                        } else {
                            let th = target_theta(&self.lens, self.phase_offset, pil.x, pil.y);
                            let c = &self.table.cells[k as usize];
                            let e = wrap_phase(c.t_mean().arg() - th).abs();
                            let rot = C64::from_polar(1.0, -th);
                            acc.n += 1;
                            acc.sum_e2 += e * e;
                            acc.max_e = acc.max_e.max(e);
                            acc.sum_c2 += 0.5
                                * ((c.t[0] * rot - self.amplitude).norm_sqr()
                                    + (c.t[1] * rot - self.amplitude).norm_sqr());
                            let ring = ((pil.x.hypot(pil.y) / rmax * REPORT_RINGS as f64) as usize)
                                .min(REPORT_RINGS - 1);
                            acc.ring[ring] += 1;
                            if e > self.settings.poor_phase_threshold {
                                acc.poor += 1;
                                acc.poor_ring[ring] += 1;
                            }
                        }
                        // gaps to the next site in the row and to the neighbours in row j+1
                        if i + 1 < row.cells.len() {
                            let g = p - radius(k) - radius(row.cells[i + 1]);
                            if g < acc.gap.0 {
                                acc.gap = (g, [pil.x, pil.y]);
                            }
                        }
                        if let Some(next) = self.rows.get(j + 1) {
                            for &d in neighbour_dx {
                                let ii = ((pil.x + d * p - next.x0) / p).round();
                                if ii >= 0.0 && (ii as usize) < next.cells.len() {
                                    let g = p - radius(k) - radius(next.cells[ii as usize]);
                                    if g < acc.gap.0 {
                                        acc.gap = (g, [pil.x, pil.y]);
                                    }
                                }
                            }
                        }
                    }
                    acc
                },
            )
            .reduce(|| Acc::new(nc), Acc::merge);
        let n = acc.n.max(1) as f64;
        let gap = if acc.gap.0.is_finite() {
            acc.gap
        } else {
            (
                p - 2.0
                    * self
                        .table
                        .cells
                        .iter()
                        .map(|c| c.radius)
                        .fold(0.0, f64::max),
                [0.0; 2],
            )
        };
        LayoutReport {
            pillars: acc.n + acc.fill,
            fill_pillars: acc.fill,
            cell_counts: acc.counts,
            rms_phase_error: (acc.sum_e2 / n).sqrt(),
            max_phase_error: acc.max_e,
            rms_complex_error: (acc.sum_c2 / n).sqrt(),
            poor_sites: acc.poor,
            poor_fraction: acc.poor as f64 / n,
            poor_per_ring: acc.poor_ring,
            sites_per_ring: acc.ring,
            min_gap: gap.0,
            min_gap_at: gap.1,
            fabrication_min_gap: self.settings.min_gap,
            amplitude: self.amplitude,
            phase_offset: self.phase_offset,
            coverage: self.table.coverage().covered,
        }
    }
}

impl LayoutReport {
    /// Multi-line human-readable summary (radius histogram in `bins` bins).
    pub fn summary(&self, table: &CellTable, bins: usize, poor_threshold: f64) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "pillars: {}", self.pillars);
        if self.fill_pillars > 0 {
            let _ = writeln!(
                s,
                "  of which {} fill pillars outside the aperture (not in the error statistics)",
                self.fill_pillars
            );
        }
        let _ = writeln!(
            s,
            "common amplitude a = {:.4}, phase offset φ0 = {:.4} rad",
            self.amplitude, self.phase_offset
        );
        let _ = writeln!(
            s,
            "library phase coverage: {:.1}°",
            self.coverage.to_degrees()
        );
        let _ = writeln!(
            s,
            "phase error: RMS {:.4} rad ({:.2}°), max {:.4} rad ({:.2}°); RMS complex error {:.4}",
            self.rms_phase_error,
            self.rms_phase_error.to_degrees(),
            self.max_phase_error,
            self.max_phase_error.to_degrees(),
            self.rms_complex_error
        );
        let _ = writeln!(
            s,
            "poorly reached sites (|phase error| > {:.2} rad): {} ({:.3} %)",
            poor_threshold,
            self.poor_sites,
            100.0 * self.poor_fraction
        );
        if self.poor_sites > 0 {
            let _ = writeln!(s, "  by radial ring (fraction of the ring's sites):");
            for k in 0..REPORT_RINGS {
                if self.poor_per_ring[k] > 0 {
                    let _ = writeln!(
                        s,
                        "    r/R in [{:.1}, {:.1}): {:.3} %",
                        k as f64 / REPORT_RINGS as f64,
                        (k + 1) as f64 / REPORT_RINGS as f64,
                        100.0 * self.poor_per_ring[k] as f64 / self.sites_per_ring[k].max(1) as f64
                    );
                }
            }
        }
        let verdict = if self.min_gap + 1e-12 >= self.fabrication_min_gap {
            "OK"
        } else {
            "BELOW the fabrication minimum"
        };
        let _ = writeln!(
            s,
            "minimum gap between neighbouring pillars: {:.4} µm at ({:.3}, {:.3}) µm; fabrication minimum {:.4} µm: {}",
            self.min_gap, self.min_gap_at[0], self.min_gap_at[1], self.fabrication_min_gap, verdict
        );
        // radius histogram
        let rmin = table.cells.first().map(|c| c.radius).unwrap_or(0.0);
        let rmax = table.cells.last().map(|c| c.radius).unwrap_or(0.0);
        let bins = bins.max(1);
        let width = ((rmax - rmin) / bins as f64).max(1e-12);
        let mut h = vec![0u64; bins];
        for (k, &n) in self.cell_counts.iter().enumerate() {
            let b = (((table.cells[k].radius - rmin) / width) as usize).min(bins - 1);
            h[b] += n;
        }
        let hmax = h.iter().copied().max().unwrap_or(1).max(1);
        let _ = writeln!(s, "radius histogram (µm):");
        for (b, &n) in h.iter().enumerate() {
            let bar = "#".repeat(((40 * n) as f64 / hmax as f64).round() as usize);
            let _ = writeln!(
                s,
                "  {:.4}-{:.4} {:>10} {}",
                rmin + b as f64 * width,
                rmin + (b + 1) as f64 * width,
                n,
                bar
            );
        }
        s
    }
}
