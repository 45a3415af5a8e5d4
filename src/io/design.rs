//! The design file (TOML): one schema shared by `library`, `layout`, `propagate` and
//! `reproduce`. Every section has defaults, so a design file only states what differs.
//!
//! ```toml
//! name = "mk1"
//! description = "NA 0.9 SRN metalens"
//!
//! [source]
//! wavelength = 0.685            # µm (vacuum)
//!
//! [materials]                   # material specs: preset (srn, sio2, air), "2.74+0.01i", or n,k file
//! pillar = "srn"
//! substrate = "sio2"            # incidence side
//! exit = "air"                  # the medium the lens focuses into
//!
//! [cell]
//! lattice = "square"            # square | hex
//! height = 1.0                  # pillar height, µm
//! min_gap = 0.03                # smallest gap between neighbouring pillars, µm
//!
//! [library]
//! pitches = [0.22, 0.25, 0.3]   # µm; or pitch_range = { start = 0.2, stop = 0.4, step = 0.04 }
//! radius = { start = 0.03, stop = 0.2, count = 100 }   # µm; step or count
//! heights = [0.6, 0.8]          # optional height sweep (default: [cell.height])
//! wavelengths = [0.685]         # optional (default: [source.wavelength])
//! harmonics = 250
//! polarization = "x"            # x: one solve per cell; both: a second solve for y
//! incidence_theta_deg = [0, 10, 20]   # optional angle sweep, θ in [0, 89]° in the substrate (default [0])
//! incidence_phi_deg = [0]       # optional, φ in [0, 360)° from x (default [0])
//!
//! [lens]
//! na = 0.9                      # or focal_length = ... (µm); not both
//! diameter = 20.0               # µm
//! pitch = 0.25                  # µm, must be one of the library's pitches
//!
//! [propagation]                 # drives the propagation of `reproduce` / `run`
//! polarization = "x"            # x, y, rcp, lcp
//! efficiency_radii = [1.5, 3.0] # circle radii in FWHM; the report has a row for each
//! aperture = "opaque"           # outside the lens: opaque or substrate (bare, Fresnel)
//! samples_per_pitch = 4         # near-field samples per pitch (default: automatic, >= 4)
//! ```
//!
//! `reproduces = "mk1"` (top level) says the design reproduces one of the reference study's
//! lenses: only then does the report set the study's numbers beside ours.
//!
//! Unknown keys are errors everywhere (`deny_unknown_fields`), so a typo never silently falls back
//! to a default. Lengths are micrometres throughout (see the crate conventions).
//!
//! Defaults and their sources:
//! - wavelength 0.685 µm and SRN n = 2.74, k = 0: the reference study's group, earlier SRN
//!   metalens work, Opt. Mater. Express 9, 1200 (2019) (which also reached a 0.22 µm pitch). The
//!   reference study itself does not publish its wavelength, index or height. Loss is a
//!   parameter: `pillar = "2.74+0.005i"`.
//! - fused-silica substrate (Malitson 1965 Sellmeier, preset `sio2`), air above.
//! - minimum gap 0.03 µm: a typical electron-beam-lithography limit (its aspect ratio for ~1 µm
//!   tall pillars, ≈ 33, is demanding for the etch); configurable.
//! - pillar height: chosen with the tool itself, see validation/library/height-study.md.

use crate::cell::LatticeKind;
use crate::error::check_positive;
use crate::io::material_file::resolve_material;
use crate::layout::Selection;
use crate::lens::{na_or_focal_length, Lens, LensSize};
pub use crate::library::LibraryPolarization;
use crate::library::{SweepMaterials, SweepSettings, SweepSpec};
use crate::material::Material;
use crate::nearfield::{Polarization, Surround};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Default vacuum wavelength (µm): Opt. Mater. Express 9, 1200 (2019).
pub const DEFAULT_WAVELENGTH: f64 = 0.685;
/// Default minimum gap between neighbouring pillars (µm), for fabrication.
pub const DEFAULT_MIN_GAP: f64 = 0.03;
/// Default pillar height (µm), from the height study in validation/library/.
pub const DEFAULT_HEIGHT: f64 = 1.0;
/// Default library pitch (µm) when a design gives none, and of `metalens cell`.
pub const DEFAULT_PITCH: f64 = 0.25;
/// Default harmonics for library sweeps: the count that keeps every cell of the shipped designs'
/// pitches (≤ 0.25 µm) within 0.5° in phase and 1e-3 in |t| of a 3000-harmonic solve, at no more
/// wall time than the 200 it replaced (validation/rcwa/library_convergence.md). Larger pitches
/// need more: at p 0.30 µm 600 keep the phase within 0.5°, but one resonant cell's |t| is not
/// settled to 1e-3 below 3000; at p ≥ 0.35 µm no count up to 2000 settles every cell.
pub const DEFAULT_LIBRARY_HARMONICS: usize = 250;

/// A whole design file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Design {
    /// Short name (used for output names and reports).
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The reference study's lens this design reproduces ("mk1" or "mk2"): only then does the
    /// report set the study's numbers beside ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduces: Option<String>,
    #[serde(default)]
    pub source: SourceSection,
    #[serde(default)]
    pub materials: MaterialsSection,
    #[serde(default)]
    pub cell: CellSection,
    #[serde(default)]
    pub library: LibrarySection,
    /// Lens specification; only `layout`, `propagate` and `reproduce` need it.
    #[serde(default)]
    pub lens: Option<LensSection>,
    /// Near field and propagation settings; only `propagate` and `reproduce` need them.
    #[serde(default)]
    pub propagation: Option<PropagationSection>,
    /// A design study: the [lens] at every library pitch and every listed NA (`reproduce`).
    #[serde(default)]
    pub study: Option<StudySection>,
}

/// `[study]`: the same lens ([lens] diameter and settings) laid out at every pitch of the
/// library and every NA listed here; `metalens reproduce` then reports efficiency and FWHM
/// versus pitch. The library is computed once and shared by all lenses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySection {
    /// Numerical apertures to lay out at every pitch (each in (0, n_exit)).
    pub nas: Vec<f64>,
}

/// `[source]`: the illumination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    /// Vacuum wavelength (µm). Default 0.685 µm (Opt. Mater. Express 9, 1200 (2019)).
    #[serde(default = "default_wavelength")]
    pub wavelength: f64,
}

impl Default for SourceSection {
    fn default() -> Self {
        SourceSection {
            wavelength: DEFAULT_WAVELENGTH,
        }
    }
}

/// `[materials]`: material specifications as accepted by [`resolve_material`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialsSection {
    /// Pillar material. Default "srn" (n = 2.74, k = 0).
    #[serde(default = "default_pillar")]
    pub pillar: String,
    /// Substrate, the incidence medium. Default "sio2" (fused silica).
    #[serde(default = "default_substrate")]
    pub substrate: String,
    /// Exit medium, around the pillars and above them. Default "air".
    #[serde(default = "default_exit")]
    pub exit: String,
}

impl Default for MaterialsSection {
    fn default() -> Self {
        MaterialsSection {
            pillar: default_pillar(),
            substrate: default_substrate(),
            exit: default_exit(),
        }
    }
}

impl MaterialsSection {
    /// The three materials, resolved (pillar, substrate, exit); n,k files are read.
    pub fn parse(&self) -> Result<(Material, Material, Material)> {
        let named = |spec: &str, role: &str| {
            resolve_material(spec).map_err(|e| match e {
                Error::InvalidInput { value, rule, .. } => Error::invalid(role, value, rule),
                other => other,
            })
        };
        Ok((
            named(&self.pillar, "pillar material")?,
            named(&self.substrate, "substrate material")?,
            named(&self.exit, "exit material")?,
        ))
    }
}

/// `[cell]`: the unit cell geometry shared by library and layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSection {
    /// Lattice of the cells. Default square.
    #[serde(default = "default_lattice")]
    pub lattice: LatticeKind,
    /// Pillar height (µm) of the lens. Default 1.0 µm (validation/library/height-study.md).
    #[serde(default = "default_height")]
    pub height: f64,
    /// Smallest allowed gap between neighbouring pillars (µm): radii with
    /// 2 r + min_gap > pitch do not fit and are skipped (reported). Default 0.03 µm.
    #[serde(default = "default_min_gap")]
    pub min_gap: f64,
}

impl Default for CellSection {
    fn default() -> Self {
        CellSection {
            lattice: default_lattice(),
            height: DEFAULT_HEIGHT,
            min_gap: DEFAULT_MIN_GAP,
        }
    }
}

/// An inclusive range: `{ start, stop, step }` or `{ start, stop, count }`. Only a table is
/// accepted: a list (`radius = [0.05, 0.1, 0.01]`) is an error naming the key, never silently
/// read as start, stop, step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Range {
    pub start: f64,
    pub stop: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeTable {
    start: f64,
    stop: f64,
    #[serde(default)]
    step: Option<f64>,
    #[serde(default)]
    count: Option<usize>,
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Range;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a range table { start = .., stop = .., step = .. } (or count = ..), not a list")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Range, A::Error> {
                let t = RangeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Range {
                    start: t.start,
                    stop: t.stop,
                    step: t.step,
                    count: t.count,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl Range {
    /// The values, ascending, `stop` included (within 1e-9 of a step). `name` names the range
    /// in errors.
    pub fn values(&self, name: &str) -> Result<Vec<f64>> {
        let (a, b) = (self.start, self.stop);
        if !a.is_finite() || !b.is_finite() {
            return Err(Error::invalid(
                name,
                format!("{a}..{b} µm"),
                "start and stop must be finite",
            ));
        }
        if b < a {
            return Err(Error::invalid(
                name,
                format!("{a}..{b} µm"),
                "empty range: stop must be >= start",
            ));
        }
        match (self.step, self.count) {
            (Some(_), Some(_)) => Err(Error::invalid(
                name,
                "step and count",
                "give either step or count, not both",
            )),
            (None, None) => Err(Error::invalid(
                name,
                format!("{a}..{b} µm"),
                "give a step or a count",
            )),
            (None, Some(n)) => {
                if n == 0 {
                    return Err(Error::invalid(
                        format!("{name} count"),
                        n,
                        "empty range: count must be >= 1",
                    ));
                }
                if n > 1_000_000 {
                    return Err(Error::invalid(
                        format!("{name} count"),
                        n,
                        "must be at most 1000000",
                    ));
                }
                if n == 1 {
                    if b != a {
                        return Err(Error::invalid(
                            format!("{name} count"),
                            n,
                            "a count of 1 needs start = stop",
                        ));
                    }
                    return Ok(vec![a]);
                }
                Ok((0..n)
                    .map(|i| round_pm(a + (b - a) * i as f64 / (n - 1) as f64))
                    .collect())
            }
            (Some(s), None) => {
                if !(s.is_finite() && s > 0.0) {
                    return Err(Error::invalid(
                        format!("{name} step"),
                        format!("{s} µm"),
                        "must be a finite number > 0",
                    ));
                }
                let n = ((b - a) / s + 1e-9).floor() as usize + 1;
                if n > 1_000_000 {
                    return Err(Error::invalid(
                        format!("{name} step"),
                        format!("{s} µm"),
                        "gives more than a million values",
                    ));
                }
                // rounded to 1e-12 µm so that 0.02 + 6 × 0.001 reads 0.026, not 0.026000000000000002
                Ok((0..n).map(|i| round_pm(a + s * i as f64)).collect())
            }
        }
    }
}

/// `[library]`: the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibrarySection {
    /// Pitch list (µm). Exactly one of `pitches` and `pitch_range`.
    #[serde(default)]
    pub pitches: Option<Vec<f64>>,
    #[serde(default)]
    pub pitch_range: Option<Range>,
    /// Radius range (µm), shared by all pitches; radii that do not fit a pitch are skipped.
    #[serde(default = "default_radius_range")]
    pub radius: Range,
    /// Heights (µm) to sweep. Default: `[cell.height]`.
    #[serde(default)]
    pub heights: Option<Vec<f64>>,
    /// Wavelengths (µm) to sweep. Default: `[source.wavelength]`.
    #[serde(default)]
    pub wavelengths: Option<Vec<f64>>,
    /// Fourier harmonics per solve. Default [`DEFAULT_LIBRARY_HARMONICS`] (see validation/rcwa/).
    #[serde(default = "default_harmonics")]
    pub harmonics: usize,
    /// Default x.
    #[serde(default = "default_polarization")]
    pub polarization: LibraryPolarization,
    /// Polar angles of incidence θ (degrees, measured in the substrate, the incidence medium)
    /// to sweep, ascending, in [0, 89]. Default [0]. The layout uses the θ = 0 slice.
    #[serde(
        default = "crate::library::sweep::normal_incidence",
        skip_serializing_if = "crate::library::sweep::is_normal_incidence"
    )]
    pub incidence_theta_deg: Vec<f64>,
    /// Azimuths of the plane of incidence (degrees from x), ascending, in [0, 360). Default [0].
    #[serde(
        default = "crate::library::sweep::normal_incidence",
        skip_serializing_if = "crate::library::sweep::is_normal_incidence"
    )]
    pub incidence_phi_deg: Vec<f64>,
}

impl Default for LibrarySection {
    fn default() -> Self {
        LibrarySection {
            pitches: Some(vec![DEFAULT_PITCH]),
            pitch_range: None,
            radius: default_radius_range(),
            heights: None,
            wavelengths: None,
            harmonics: DEFAULT_LIBRARY_HARMONICS,
            polarization: LibraryPolarization::X,
            incidence_theta_deg: crate::library::sweep::normal_incidence(),
            incidence_phi_deg: crate::library::sweep::normal_incidence(),
        }
    }
}

/// `[lens]`: the lens to lay out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensSection {
    /// Numerical aperture in the exit medium (NA = n_exit sin θ_max). Exactly one of `na` and
    /// `focal_length`.
    #[serde(default)]
    pub na: Option<f64>,
    /// Focal length (µm).
    #[serde(default)]
    pub focal_length: Option<f64>,
    /// Lens diameter (µm).
    pub diameter: f64,
    /// Lattice pitch of the lens (µm); must be one of the library's pitches.
    pub pitch: f64,
    /// Constant phase offset (rad) added to the target; None: chosen automatically.
    #[serde(default)]
    pub phase_offset: Option<f64>,
    /// Radius selection: "complex" (minimise |t e^{-iφ} - a|², default) or "nearest-phase".
    #[serde(default = "default_selection")]
    pub selection: Selection,
    /// Interpolate the library in radius. Default true.
    #[serde(default = "default_true")]
    pub interpolate: bool,
    /// GDSII: vertices per circle (default 64) and database unit in µm (default 0.001).
    #[serde(default = "default_gds_vertices")]
    pub gds_vertices: usize,
    #[serde(default = "default_gds_dbu")]
    pub gds_dbu: f64,
}

/// `[propagation]`: near field and angular-spectrum settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropagationSection {
    /// Near-field samples per pitch. Default: automatic (at least 4, and fine enough for the
    /// NA: ⌈2.5 NA pitch / λ⌉), as `metalens propagate` chooses.
    #[serde(default)]
    pub samples_per_pitch: Option<usize>,
    /// Incident polarisation: "x", "y", "rcp", "lcp". Default "x".
    #[serde(default = "default_prop_polarization")]
    pub polarization: Polarization,
    /// Outside the aperture: "opaque" (default) or "substrate" (bare substrate, Fresnel
    /// transmission: `metalens propagate --outside bare`).
    #[serde(default = "default_aperture")]
    pub aperture: Surround,
    /// Efficiency circle radii in units of the FWHM. Default [1.5, 3.0] (the report's table
    /// has a row for each).
    #[serde(default = "default_efficiency_radii")]
    pub efficiency_radii: Vec<f64>,
    /// Extra planes (µm from the lens) at which the on-axis and peak intensity are reported,
    /// besides the focal plane.
    #[serde(default)]
    pub planes: Vec<f64>,
}

impl Default for PropagationSection {
    fn default() -> Self {
        PropagationSection {
            samples_per_pitch: None,
            polarization: default_prop_polarization(),
            aperture: default_aperture(),
            efficiency_radii: default_efficiency_radii(),
            planes: Vec::new(),
        }
    }
}

fn default_wavelength() -> f64 {
    DEFAULT_WAVELENGTH
}
fn default_pillar() -> String {
    "srn".into()
}
fn default_substrate() -> String {
    "sio2".into()
}
fn default_exit() -> String {
    "air".into()
}
fn default_lattice() -> LatticeKind {
    LatticeKind::Square
}
fn default_height() -> f64 {
    DEFAULT_HEIGHT
}
fn default_min_gap() -> f64 {
    DEFAULT_MIN_GAP
}
fn default_radius_range() -> Range {
    Range {
        start: 0.02,
        stop: 0.11,
        step: None,
        count: Some(91),
    }
}
fn default_harmonics() -> usize {
    DEFAULT_LIBRARY_HARMONICS
}
fn default_polarization() -> LibraryPolarization {
    LibraryPolarization::X
}
fn default_selection() -> Selection {
    Selection::ComplexError
}
fn default_true() -> bool {
    true
}
fn default_gds_vertices() -> usize {
    64
}
fn default_gds_dbu() -> f64 {
    0.001
}
fn default_prop_polarization() -> Polarization {
    Polarization::X
}
fn default_aperture() -> Surround {
    Surround::Opaque
}
fn default_efficiency_radii() -> Vec<f64> {
    vec![1.5, 3.0]
}

/// The design files shipped in designs/, built in so that they work without the repository.
pub const BUILTIN: &[(&str, &str)] = &[
    ("mk1", include_str!("../../designs/mk1.toml")),
    ("mk2", include_str!("../../designs/mk2.toml")),
    (
        "pitch-sweep",
        include_str!("../../designs/pitch-sweep.toml"),
    ),
];

impl Design {
    /// Parse and validate a design from TOML text. `origin` names the source in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let d: Design = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        d.validate().map_err(|e| at_key_line(e, text))?;
        Ok(d)
    }

    /// Read a design file; returns the design and its text (recorded in output files).
    pub fn load(path: &Path) -> Result<(Self, String)> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let d = Self::from_toml(&text, &path.display().to_string())?;
        Ok((d, text))
    }

    /// A design argument as every subcommand reads it: an existing file is that file (a note
    /// says so when it shadows a built-in name); otherwise a built-in name (mk1, mk2,
    /// pitch-sweep). Returns the design and its text.
    pub fn resolve(arg: &Path) -> Result<(Self, String)> {
        let builtin = BUILTIN.iter().any(|(n, _)| Path::new(n) == arg);
        if arg.is_file() {
            if builtin {
                eprintln!(
                    "note: using the file {} in this folder, not the built-in design of that name",
                    arg.display()
                );
            }
            return Self::load(arg);
        }
        if builtin {
            return Self::builtin(&arg.display().to_string());
        }
        Err(Error::invalid(
            "design",
            format!("'{}'", arg.display()),
            "no such file, and not a built-in design (mk1, mk2, pitch-sweep)",
        ))
    }

    /// A built-in design by name ("mk1", "mk2", "pitch-sweep") with its text.
    pub fn builtin(name: &str) -> Result<(Self, String)> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            Error::invalid(
                "design",
                format!("'{name}'"),
                "built-in designs are mk1, mk2, pitch-sweep",
            )
        })?;
        Ok((
            Self::from_toml(text, &format!("built-in design {name}"))?,
            text.to_string(),
        ))
    }

    /// Check every value for range and consistency (materials are parsed too).
    pub fn validate(&self) -> Result<()> {
        check_positive("wavelength", self.source.wavelength, "µm")?;
        self.materials.parse()?;
        if let Some(r) = &self.reproduces {
            if r != "mk1" && r != "mk2" {
                return Err(Error::invalid(
                    "reproduces",
                    format!("'{r}'"),
                    "must be mk1 or mk2 (the reference study's lenses)",
                ));
            }
        }
        self.check_library_axes()?;
        if self.study.is_some() && self.lens.is_none() {
            return Err(Error::invalid(
                "study",
                "a [study] without a [lens]",
                "a study needs a [lens] section (diameter and settings of the lens to sweep)",
            ));
        }
        self.check_pitches_fit()?;
        let n_exit = self.materials.parse()?.2.index(self.source.wavelength)?.re;
        if let Some(p) = &self.propagation {
            p.validate()?;
        }
        if let Some(lens) = &self.lens {
            self.check_lens(lens, n_exit)?;
        }
        Ok(())
    }

    /// The library's axes: cell height, gap, wavelengths, heights, harmonics, radius range.
    fn check_library_axes(&self) -> Result<()> {
        use crate::error::check_non_negative;
        check_positive("cell height", self.cell.height, "µm")?;
        check_non_negative("min_gap", self.cell.min_gap, "µm")?;
        let pitches = self.pitches()?;
        let radii = self.radii()?;
        for &w in &self.wavelengths() {
            check_positive("wavelength", w, "µm")?;
        }
        if self.wavelengths().is_empty() {
            return Err(Error::invalid(
                "library wavelengths",
                "[]",
                "empty list: give at least one wavelength",
            ));
        }
        for &h in &self.heights() {
            check_positive("height", h, "µm")?;
        }
        if self.heights().is_empty() {
            return Err(Error::invalid(
                "library heights",
                "[]",
                "empty list: give at least one height",
            ));
        }
        if self.library.harmonics == 0 || self.library.harmonics > 100_000 {
            return Err(Error::invalid(
                "harmonics",
                self.library.harmonics,
                "must be in 1..=100000",
            ));
        }
        crate::library::sweep::check_incidence_angles(
            &self.library.incidence_theta_deg,
            &self.library.incidence_phi_deg,
        )?;
        let max_pitch = pitches.iter().cloned().fold(0.0, f64::max);
        let r_min = radii[0];
        let r_max = radii[radii.len() - 1];
        if r_min < 0.0 {
            return Err(Error::invalid(
                "radius",
                format!("{r_min} µm"),
                "must be >= 0",
            ));
        }
        if r_max >= 0.5 * max_pitch {
            return Err(Error::invalid(
                "radius range",
                format!("{r_min}..{r_max} µm"),
                format!(
                    "must stay below half the largest pitch ({} µm): radii outside the cell",
                    0.5 * max_pitch
                ),
            ));
        }
        Ok(())
    }

    /// Every pitch holds at least one radius of the range (with the minimum gap): a pitch
    /// where none fits gives a library slice without a valid cell.
    fn check_pitches_fit(&self) -> Result<()> {
        let pitches = self.pitches()?;
        let radii = self.radii()?;
        let (r_min, r_max) = (radii[0], radii[radii.len() - 1]);
        for &p in &pitches {
            if !radii
                .iter()
                .any(|&r| 2.0 * r + self.cell.min_gap <= p * (1.0 + 1e-12))
            {
                return Err(Error::invalid(
                    "pitch",
                    format!("{p} µm"),
                    format!(
                        "no radius of the range {r_min}..{r_max} µm fits it with the minimum gap {} µm (2 r + min_gap <= pitch)",
                        self.cell.min_gap
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The lens (and the study's NAs): sizes, NA below the exit index, a focal length beyond
    /// half a wavelength, exactly one of na and focal_length.
    fn check_lens(&self, lens: &LensSection, n_exit: f64) -> Result<()> {
        check_positive("lens diameter", lens.diameter, "µm")?;
        check_positive("lens pitch", lens.pitch, "µm")?;
        if lens.diameter < lens.pitch {
            return Err(Error::invalid(
                "diameter",
                format!("{} µm", lens.diameter),
                format!("must be at least the pitch {} µm", lens.pitch),
            ));
        }
        let mut nas: Vec<Option<f64>> = vec![lens.na];
        if let Some(st) = &self.study {
            nas.extend(st.nas.iter().map(|&x| Some(x)));
        }
        for na in nas {
            let mut l = lens.clone();
            if let Some(na) = na {
                if !(na.is_finite() && na > 0.0 && na < n_exit) {
                    return Err(Error::invalid(
                        "NA",
                        na,
                        format!("must be in (0, {n_exit}): NA = n_exit sin θ stays below the exit medium's index"),
                    ));
                }
                l.na = Some(na);
                l.focal_length = None;
            }
            if na.is_none() && l.focal_length.is_none() {
                continue;
            }
            let f = l.lens(self.source.wavelength, n_exit)?.focal_length_um;
            if f.is_finite() && f < 0.5 * self.source.wavelength {
                return Err(Error::invalid(
                    "lens",
                    format!(
                        "NA {} with diameter {} µm",
                        na.map_or("from focal_length".to_string(), |x| x.to_string()),
                        lens.diameter
                    ),
                    format!(
                        "the focal length {f:.3} µm is below half the wavelength {} µm: a focus that close lies in the pillars' near field, not a lens focus (lower the NA or enlarge the lens)",
                        self.source.wavelength
                    ),
                ));
            }
        }
        match na_or_focal_length(lens.na, lens.focal_length, "lens")? {
            LensSize::Na(na) => {
                if !(na.is_finite() && na > 0.0) {
                    return Err(Error::invalid("na", na, "must be > 0"));
                }
            }
            LensSize::FocalLength(f) => check_positive("focal_length", f, "µm")?,
        }
        if let Some(study) = &self.study {
            if study.nas.is_empty() {
                return Err(Error::invalid(
                    "study nas",
                    "[]",
                    "empty list: give at least one NA",
                ));
            }
            for &na in &study.nas {
                if !(na.is_finite() && na > 0.0) {
                    return Err(Error::invalid("study na", na, "must be > 0"));
                }
            }
        }
        Ok(())
    }

    /// Library pitches (µm), ascending, without duplicates.
    pub fn pitches(&self) -> Result<Vec<f64>> {
        let mut p = match (&self.library.pitches, &self.library.pitch_range) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "library",
                    "pitches and pitch_range",
                    "give one of them, not both",
                ))
            }
            (Some(list), None) => list.clone(),
            (None, Some(r)) => r.values("pitch range")?,
            (None, None) => {
                return Err(Error::invalid(
                    "library",
                    "no pitches",
                    "give pitches = [...] or pitch_range",
                ))
            }
        };
        if p.is_empty() {
            return Err(Error::invalid(
                "library pitches",
                "[]",
                "empty list: give at least one pitch",
            ));
        }
        for &x in &p {
            check_positive("pitch", x, "µm")?;
        }
        sort_dedup(&mut p);
        Ok(p)
    }

    /// Library radii (µm), ascending.
    pub fn radii(&self) -> Result<Vec<f64>> {
        let mut r = self.library.radius.values("radius range")?;
        sort_dedup(&mut r);
        Ok(r)
    }

    /// Library heights (µm), ascending.
    pub fn heights(&self) -> Vec<f64> {
        let mut h = self
            .library
            .heights
            .clone()
            .unwrap_or_else(|| vec![self.cell.height]);
        sort_dedup(&mut h);
        h
    }

    /// Library wavelengths (µm), ascending.
    pub fn wavelengths(&self) -> Vec<f64> {
        let mut w = self
            .library
            .wavelengths
            .clone()
            .unwrap_or_else(|| vec![self.source.wavelength]);
        sort_dedup(&mut w);
        w
    }

    /// The design as TOML text (for recording a design built from flags).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// Wavelength range (µm) within which the constant `srn` index (2.74 at 0.685 µm) is used
/// without a warning: ±10 % around the wavelength where it was measured.
pub const SRN_RANGE_UM: (f64, f64) = (0.62, 0.75);

impl Design {
    /// Legal but questionable settings, one line each (printed as warnings before any work):
    /// a focal length of a few wavelengths, the constant SRN index far from where it was
    /// measured.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.materials.pillar.trim().eq_ignore_ascii_case("srn") {
            for &l in &self.wavelengths() {
                if l < SRN_RANGE_UM.0 || l > SRN_RANGE_UM.1 {
                    w.push(format!(
                        "pillar material srn is a constant n = 2.74 measured at 0.685 µm (Opt. Mater. Express 9, 1200 (2019)); wavelength {l} µm is outside {}..{} µm where that value holds: give the measured index (pillar = \"n+ki\" or an n,k file)",
                        SRN_RANGE_UM.0, SRN_RANGE_UM.1
                    ));
                }
            }
        }
        if let Some(x) = self.lattice_resonance_warning() {
            w.push(x);
        }
        if let (Some(lens), Ok((_, _, exit))) = (&self.lens, self.materials.parse()) {
            if let Ok(n_exit) = exit.index(self.source.wavelength) {
                let mut nas: Vec<Option<f64>> = vec![lens.na];
                if let Some(st) = &self.study {
                    nas = st.nas.iter().map(|&x| Some(x)).collect();
                }
                for na in nas {
                    let mut l = lens.clone();
                    if na.is_some() {
                        l.na = na;
                        l.focal_length = None;
                    }
                    if let Ok(spec) = l.lens(self.source.wavelength, n_exit.re) {
                        let (f, lambda) = (spec.focal_length_um, self.source.wavelength);
                        let at = na.map_or(String::new(), |x| format!(" at NA {x}"));
                        if f < 2.0 * lambda {
                            w.push(format!(
                                "lens{at}: focal length {f:.3} µm is under two wavelengths: the focus is close to the pillars and the spot metrics depend on the near-field model"
                            ));
                        }
                        // the rim's local grating period λ/NA sampled by fewer than two pillars
                        let nyquist = lambda / (2.0 * spec.na);
                        let coarse: Vec<String> = self
                            .pitches()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|&p| p > nyquist * (1.0 + 1e-9))
                            .map(|p| format!("{p}"))
                            .collect();
                        if !coarse.is_empty() {
                            w.push(format!(
                                "lens{at}: pitch {} µm is above λ/(2 NA) = {nyquist:.3} µm: the rim's phase gradient (local period λ/NA) holds fewer than two pillars, the staircase aliases there, and the LPA near field, which sends each point's light at the design's deflection, can transmit more than its cells do",
                                coarse.join(", ")
                            ));
                        }
                    }
                }
            }
        }
        w
    }

    /// The library pitches whose lattice rows are spaced more than λ/n_pillar at some library
    /// wavelength, as one warning. There a first-order diffracted wave can be guided in the
    /// pillar layer (its in-plane wavenumber 2π/d is below n_pillar k₀), so the periodic array
    /// can have guided lattice resonances at normal incidence. The pitch sweep's cells converge
    /// to 0.5° at 250 harmonics for p ≤ 0.25 µm = λ/n_pillar, and above it at no count up to
    /// 2000: erratically near the resonances, slowly elsewhere (issue 15,
    /// validation/rcwa/library_radius_error.md).
    fn lattice_resonance_warning(&self) -> Option<String> {
        let (pillar, _, _) = self.materials.parse().ok()?;
        let mut limits = Vec::new();
        let mut lowest = f64::INFINITY;
        for &l in &self.wavelengths() {
            let limit = l / pillar.index(l).ok()?.re;
            limits.push(format!("{limit:.3} µm at λ {l} µm"));
            lowest = lowest.min(limit);
        }
        let mut list = Vec::new();
        for p in self.pitches().ok()? {
            let rows = crate::cell::Lattice::of_kind(self.cell.lattice, p)
                .ok()?
                .row_spacing();
            // relative 1e-9: a pitch equal to λ/n_pillar (the pitch sweep's 0.25 µm) is not
            // above it
            if rows > lowest * (1.0 + 1e-9) {
                list.push(format!("{p}"));
            }
        }
        if list.is_empty() {
            return None;
        }
        Some(format!(
            "library: at pitch {} µm the lattice rows are spaced more than λ/n_pillar ({}): the periodic array can have guided lattice resonances at normal incidence, and the cells of these pitches converge slowly in the harmonic count (the pitch sweep at 250 harmonics: up to 35° from 3000; validation/rcwa/library_radius_error.md)",
            list.join(", "),
            limits.join(", ")
        ))
    }
}

impl PropagationSection {
    /// Check every value (before any work).
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.samples_per_pitch {
            if !(2..=64).contains(&n) {
                return Err(Error::invalid(
                    "propagation.samples_per_pitch",
                    n,
                    "must be in 2..=64",
                ));
            }
        }
        if self.efficiency_radii.is_empty() {
            return Err(Error::invalid(
                "propagation.efficiency_radii",
                "[]",
                "give at least one radius (in FWHM)",
            ));
        }
        for &k in &self.efficiency_radii {
            if !(k.is_finite() && k > 0.0 && k <= 100.0) {
                return Err(Error::invalid(
                    "propagation.efficiency_radii",
                    k,
                    "each must be in (0, 100] FWHM",
                ));
            }
        }
        if !self.planes.is_empty() {
            // refused rather than ignored: the designed lens's extra planes are not computed
            return Err(Error::invalid(
                "propagation.planes",
                format!("{:?}", self.planes),
                "extra planes are not supported for a designed lens yet: remove the key (the on-axis scan and the x–z / y–z sections cover 0.5 f to 1.5 f; `metalens propagate --ideal --z` gives planes for the ideal lens)",
            ));
        }
        Ok(())
    }
}

impl LensSection {
    /// The domain lens of this section at `wavelength_um` in an exit medium of index `n_exit`:
    /// from `focal_length`, or from `na` by the one formula
    /// ([`crate::lens::focal_length_for_na`]: NA = n_exit sin(atan(D / 2f))).
    pub fn lens(&self, wavelength_um: f64, n_exit: f64) -> Result<Lens> {
        Lens::from_na_or_focal_length(
            wavelength_um,
            self.na,
            self.focal_length,
            n_exit,
            self.diameter,
            "lens",
        )
    }
}

/// A TOML error as one line naming the line number and the key (`[section] key`), e.g.
/// `cannot parse d.toml: line 7, key cell.height: invalid type: string "high", expected f64`.
/// A validation error of a design file, with the TOML key it most likely concerns and its line
/// when the file sets that key: "invalid cell height -1 µm ([cell] height, line 19): …". The
/// key is the one whose name (and section, on a tie) appears as a word in the error's name;
/// a value the file does not set (a default) is left as it is.
fn at_key_line(e: Error, text: &str) -> Error {
    let Error::InvalidInput { name, value, rule } = e else {
        return e;
    };
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let has = |w: &str| {
        let w = w.to_ascii_lowercase();
        words
            .iter()
            .any(|x| *x == w || x.trim_end_matches('s') == w.trim_end_matches('s'))
    };
    let mut section = String::new();
    let mut best: Option<(u8, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(head) = t.strip_prefix('[') {
            // `[lens]   # a comment [with brackets]`: the name ends at the first ']'
            let head = head.trim_start_matches('[');
            section = head[..head.find(']').unwrap_or(head.len())]
                .trim()
                .to_string();
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        if k.is_empty() || k.starts_with('#') || !has(k) {
            continue;
        }
        let score = 2 + u8::from(has(&section));
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, format!("[{section}] {k}"), i + 1));
        }
    }
    let value = match best {
        Some((_, key, line)) => format!("{value} ({key}, line {line})"),
        None => value,
    };
    Error::InvalidInput { name, value, rule }
}

pub fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().replace('\n', " ");
    let Some(span) = e.span() else {
        return Error::Parse {
            path: origin.to_string(),
            message: msg,
        };
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let mut section = String::new();
    for l in text[..start].lines() {
        let t = l.trim();
        if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let key = match (key, section.is_empty()) {
        (Some(k), true) => format!(", key {k}"),
        (Some(k), false) => format!(", key {section}.{k}"),
        (None, false) => format!(", section [{section}]"),
        (None, true) => String::new(),
    };
    Error::Parse {
        path: origin.to_string(),
        message: format!("line {line_no}{key}: {msg}"),
    }
}

/// Round a length (µm) to 1e-12 µm.
fn round_pm(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

fn sort_dedup(v: &mut Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * a.abs().max(b.abs()));
}

impl SweepSpec {
    /// The sweep a design file describes, its materials resolved.
    pub fn from_design(d: &Design) -> Result<Self> {
        let settings = SweepSettings::from_design(d)?;
        let (pillar, substrate, exit) = d.materials.parse()?;
        Ok(SweepSpec {
            settings,
            materials: SweepMaterials {
                pillar,
                substrate,
                exit,
            },
        })
    }
}

impl SweepSettings {
    /// The settings of the sweep a design file describes (materials by their specifications).
    pub fn from_design(d: &Design) -> Result<Self> {
        d.validate()?;
        Ok(SweepSettings {
            wavelengths: d.wavelengths(),
            heights: d.heights(),
            pitches: d.pitches()?,
            radii: d.radii()?,
            lattice: d.cell.lattice,
            min_gap: d.cell.min_gap,
            pillar: d.materials.pillar.clone(),
            substrate: d.materials.substrate.clone(),
            exit: d.materials.exit.clone(),
            harmonics: d.library.harmonics,
            polarization: d.library.polarization,
            harmonic_rule: None,
            incidence_theta_deg: d.library.incidence_theta_deg.clone(),
            incidence_phi_deg: d.library.incidence_phi_deg.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let d = Design::from_toml("", "empty").unwrap();
        assert_eq!(d.source.wavelength, 0.685);
        assert_eq!(d.materials.pillar, "srn");
        assert_eq!(d.cell.min_gap, 0.03);
        assert_eq!(d.radii().unwrap().len(), 91);
    }

    #[test]
    fn pitches_above_the_lattice_resonance_limit_are_named() {
        // λ/n_pillar = 0.685/2.74 = 0.25 µm: the pitch sweep's 0.30–0.40 µm are above it,
        // 0.25 µm and Mk1's 0.22 µm are not
        let (sweep, _) = Design::builtin("pitch-sweep").unwrap();
        let w = sweep.lattice_resonance_warning().unwrap();
        assert!(w.starts_with("library: at pitch 0.3, 0.35, 0.4 µm "), "{w}");
        assert!(w.contains("0.250 µm at λ 0.685 µm"), "{w}");
        assert!(sweep.warnings().contains(&w));
        let (mk1, _) = Design::builtin("mk1").unwrap();
        assert_eq!(mk1.lattice_resonance_warning(), None);
        // a hexagonal lattice's rows are p √3/2 apart: 0.28 µm is below the limit, 0.3 µm above
        let hex = |p: f64| {
            Design::from_toml(
                &format!("[cell]\nlattice = \"hex\"\n[library]\npitches = [{p}]\n"),
                "hex.toml",
            )
            .unwrap()
            .lattice_resonance_warning()
        };
        assert_eq!(hex(0.28), None);
        assert!(hex(0.3).unwrap().contains("at pitch 0.3 µm"));
    }

    #[test]
    fn pitches_that_undersample_the_rim_are_named() {
        // λ/(2 NA) = 0.685/1.8 = 0.381 µm at NA 0.9 and 0.346 µm at NA 0.99: the pitch sweep's
        // 0.4 µm aliases at both NAs, 0.35 µm at NA 0.99 only; Mk1 and Mk2 (0.22 µm) never
        let (sweep, _) = Design::builtin("pitch-sweep").unwrap();
        let w: Vec<String> = sweep
            .warnings()
            .into_iter()
            .filter(|w| w.contains("λ/(2 NA)"))
            .collect();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("lens at NA 0.9: pitch 0.4 µm"), "{}", w[0]);
        assert!(
            w[1].starts_with("lens at NA 0.99: pitch 0.35, 0.4 µm"),
            "{}",
            w[1]
        );
        for name in ["mk1", "mk2"] {
            let (d, _) = Design::builtin(name).unwrap();
            assert!(
                !d.warnings().iter().any(|w| w.contains("λ/(2 NA)")),
                "{name}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Design::from_toml("[cell]\nhieght = 0.8\n", "x.toml").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("hieght"), "{e}");
    }

    #[test]
    fn ranges() {
        let r = Range {
            start: 0.05,
            stop: 0.1,
            step: Some(0.01),
            count: None,
        };
        assert_eq!(r.values("r").unwrap().len(), 6);
        let r = Range {
            start: 0.1,
            stop: 0.05,
            step: Some(0.01),
            count: None,
        };
        assert!(r.values("r").unwrap_err().to_string().contains("empty"));
        let r = Range {
            start: 0.05,
            stop: 0.1,
            step: None,
            count: Some(0),
        };
        assert!(r.values("r").is_err());
    }

    #[test]
    fn radius_outside_the_cell_is_refused() {
        let e = Design::from_toml(
            "[library]\npitches = [0.3]\nradius = { start = 0.05, stop = 0.16, count = 5 }\n",
            "x",
        )
        .unwrap_err();
        assert!(e.to_string().contains("half the largest pitch"), "{e}");
    }

    #[test]
    fn builtin_designs_parse() {
        for (name, _) in BUILTIN {
            Design::builtin(name).unwrap();
        }
    }

    #[test]
    fn focal_length_from_na() {
        // NA 0.9 in air, D = 20: sin θ = 0.9, tan θ = 0.9/√0.19, f = 10 √0.19 / 0.9
        let l = LensSection {
            na: Some(0.9),
            focal_length: None,
            diameter: 20.0,
            pitch: 0.25,
            phase_offset: None,
            selection: Selection::ComplexError,
            interpolate: true,
            gds_vertices: 64,
            gds_dbu: 0.001,
        };
        let f = l.lens(0.685, 1.0).unwrap().focal_length_um;
        assert!((f - 10.0 * 0.19f64.sqrt() / 0.9).abs() < 1e-12);
    }
}
