//! The 1-D (cylindrical lens) design file of `metalens fullwave`: the TOML schema, its checks,
//! and its conversion into the typed record [`Design1d`] that [`crate::fullwave`] runs on.
//!
//! ```toml
//! name = "fullwave-mk1"
//! description = "30 µm wide NA 0.9 cylindrical SRN-ridge lens"
//!
//! [source]
//! wavelength = 0.685        # µm (vacuum), as the 2-D schema
//!
//! [materials]               # same specs as the 2-D schema (src/material)
//! pillar = "srn"            # the ridge material
//! substrate = "sio2"        # incidence side
//! exit = "air"              # around and above the ridges; the lens focuses into it
//!
//! [ridges]
//! height = 1.0              # µm
//! min_gap = 0.03            # smallest gap between neighbouring ridges, µm
//! min_width = 0.06          # narrowest ridge, µm
//! widths = 121              # library widths from min_width to pitch − min_gap
//! library_harmonics = 50    # harmonics M (orders −M…M) of the small-period library solves
//!
//! [lens]
//! na = 0.9                  # or focal_length (µm); not both
//! width = 30.0              # µm (the lens holds floor(width/pitch) ridges, centred at x = 0)
//! pitch = 0.22              # µm
//! selection = "complex-error"   # or "nearest-phase"
//!
//! [supercell]
//! margin = 10.0             # ridge-free glass between the lens edge and the period edge, µm
//! harmonics = "auto"        # or M (orders −M…M)
//!
//! [propagation]
//! efficiency_k = [1, 2, 3]  # efficiency windows |x − x_peak| < K·FWHM
//! z_planes = 151            # on-axis scan planes over 0.5 f … 1.5 f
//! ```
//!
//! Unknown keys are errors everywhere. Defaults are the Mk design values (designs/mk1.toml):
//! λ = 0.685 µm, SRN n = 2.74, fused silica, air, height 1.0 µm, min_gap 0.03 µm; min_width
//! 0.06 µm = the smallest pillar diameter of the 2-D library (2 × 0.03 µm radius).
//!
//! Rules checked here (each a one-line error, exit code 2):
//! * margin ≥ [`MIN_MARGIN_WAVELENGTHS`] λ: the supercell repeats the lens; closer copies couple
//!   through the near fields of their edge ridges (an evanescent order at |kx| ≥ 1.5 k₀ has
//!   decayed by exp(−2π·1.1·3) ≈ 1e-9 over 3 λ) and through the margin's own diffraction, and
//!   the margin study in validation/fullwave shows what margin converges.
//! * harmonics: the Fourier series of the supercell resolves features down to about
//!   L/(2M+1); [`MIN_SAMPLES_PER_FEATURE`] such "samples" must fit across the narrowest ridge
//!   or gap (min(min_width, min_gap)); "auto" uses [`AUTO_SAMPLES_PER_FEATURE`]. The
//!   convergence study (validation/fullwave/README.md) shows the Mk1 focal quantities within
//!   0.5 % of the 2-samples result already at 0.72 samples (M = 600 over 49.92 µm); below half
//!   a sample the narrowest gap is not represented at all and the result is meaningless.

use crate::fullwave::{
    harmonics_for, Design1d, Harmonics1d, Selection1d, AUTO_SAMPLES_PER_FEATURE,
    MIN_MARGIN_WAVELENGTHS, MIN_SAMPLES_PER_FEATURE,
};
use crate::io::design::{MaterialsSection, SourceSection, DEFAULT_HEIGHT, DEFAULT_MIN_GAP};
use crate::lens::{na_or_focal_length, Lens, LensSize};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Default narrowest ridge (µm): the smallest pillar diameter of the 2-D library.
pub const DEFAULT_MIN_WIDTH: f64 = 0.06;

/// A whole 1-D design file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullwaveDesign {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source: SourceSection,
    #[serde(default)]
    pub materials: MaterialsSection,
    #[serde(default)]
    pub ridges: RidgesSection,
    pub lens: LensSection1d,
    #[serde(default)]
    pub supercell: SupercellSection,
    #[serde(default)]
    pub propagation: PropagationSection1d,
}

/// `[ridges]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RidgesSection {
    #[serde(default = "d_height")]
    pub height: f64,
    #[serde(default = "d_min_gap")]
    pub min_gap: f64,
    #[serde(default = "d_min_width")]
    pub min_width: f64,
    /// Number of library widths from min_width to pitch − min_gap.
    #[serde(default = "d_widths")]
    pub widths: usize,
    #[serde(default = "d_lib_harm")]
    pub library_harmonics: usize,
}

impl Default for RidgesSection {
    fn default() -> Self {
        RidgesSection {
            height: DEFAULT_HEIGHT,
            min_gap: DEFAULT_MIN_GAP,
            min_width: DEFAULT_MIN_WIDTH,
            widths: d_widths(),
            library_harmonics: d_lib_harm(),
        }
    }
}

/// `[lens]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensSection1d {
    #[serde(default)]
    pub na: Option<f64>,
    #[serde(default)]
    pub focal_length: Option<f64>,
    pub width: f64,
    pub pitch: f64,
    #[serde(default = "d_selection")]
    pub selection: Selection1d,
}

/// Harmonics: a number M or "auto".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HarmonicsSpec {
    Count(usize),
    Word(String),
}

/// `[supercell]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupercellSection {
    #[serde(default = "d_margin")]
    pub margin: f64,
    #[serde(default = "d_harm")]
    pub harmonics: HarmonicsSpec,
}

impl Default for SupercellSection {
    fn default() -> Self {
        SupercellSection {
            margin: d_margin(),
            harmonics: d_harm(),
        }
    }
}

/// `[propagation]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropagationSection1d {
    #[serde(default = "d_k")]
    pub efficiency_k: Vec<f64>,
    #[serde(default = "d_zp")]
    pub z_planes: usize,
}

impl Default for PropagationSection1d {
    fn default() -> Self {
        PropagationSection1d {
            efficiency_k: d_k(),
            z_planes: d_zp(),
        }
    }
}

fn d_height() -> f64 {
    DEFAULT_HEIGHT
}
fn d_min_gap() -> f64 {
    DEFAULT_MIN_GAP
}
fn d_min_width() -> f64 {
    DEFAULT_MIN_WIDTH
}
fn d_widths() -> usize {
    121
}
fn d_lib_harm() -> usize {
    50
}
fn d_selection() -> Selection1d {
    Selection1d::ComplexError
}
fn d_margin() -> f64 {
    10.0
}
fn d_harm() -> HarmonicsSpec {
    HarmonicsSpec::Word("auto".into())
}
fn d_k() -> Vec<f64> {
    vec![1.0, 2.0, 3.0]
}
fn d_zp() -> usize {
    151
}

fn finite_pos(name: &str, v: f64) -> Result<()> {
    crate::error::check_positive(name, v, "µm")
}

impl FullwaveDesign {
    /// Parse and validate TOML text; `origin` names the source in errors. A 2-D pillar design
    /// is recognised and rejected with a pointer to the 1-D sections.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        if let Ok(table) = text.parse::<toml::Table>() {
            let lens_2d = table
                .get("lens")
                .and_then(|l| l.as_table())
                .is_some_and(|l| l.contains_key("diameter"));
            if table.contains_key("cell") || table.contains_key("library") || lens_2d {
                return Err(Error::invalid(
                    "design",
                    origin,
                    "is a 2-D pillar design ([cell]/[library]/lens.diameter); a 1-D fullwave design needs [ridges] (height, min_gap, min_width), [lens] (na or focal_length, width, pitch) and optionally [supercell] (margin, harmonics) — see designs/fullwave-mk1.toml",
                ));
            }
        }
        let d: FullwaveDesign = toml::from_str(text).map_err(|e| Error::Parse {
            path: origin.to_string(),
            message: e.message().replace('\n', " "),
        })?;
        d.validate()?;
        Ok(d)
    }

    /// Read and validate a design file; returns it with its text.
    pub fn load(path: &Path) -> Result<(Self, String)> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let d = Self::from_toml(&text, &path.display().to_string())?;
        Ok((d, text))
    }

    /// Short name: `name`, or "lens".
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "lens".into())
    }

    /// Number of ridges: floor(width / pitch).
    pub fn ridge_count(&self) -> usize {
        (self.lens.width / self.lens.pitch + 1e-9).floor() as usize
    }

    /// The lens aperture actually covered by ridge cells, N·pitch (µm).
    pub fn aperture(&self) -> f64 {
        self.ridge_count() as f64 * self.lens.pitch
    }

    /// Supercell period L = aperture + 2·margin (µm).
    pub fn period(&self) -> f64 {
        self.aperture() + 2.0 * self.supercell.margin
    }

    /// The narrowest feature the supercell must resolve: min(min_width, min_gap).
    pub fn narrowest_feature(&self) -> f64 {
        self.ridges.min_width.min(self.ridges.min_gap)
    }

    /// Smallest M with L/(2M+1) ≤ narrowest / samples ([`harmonics_for`]).
    pub fn harmonics_for(&self, samples: f64) -> usize {
        harmonics_for(samples, self.period(), self.narrowest_feature())
    }

    /// The supercell harmonics as asked: a number or "auto".
    pub fn harmonics_spec(&self) -> Result<Harmonics1d> {
        match &self.supercell.harmonics {
            HarmonicsSpec::Count(m) => Ok(Harmonics1d::Fixed(*m)),
            HarmonicsSpec::Word(w) if w == "auto" => Ok(Harmonics1d::Auto),
            HarmonicsSpec::Word(w) => Err(Error::invalid(
                "supercell.harmonics",
                format!("'{w}'"),
                "must be a whole number M (orders -M..M) or \"auto\"",
            )),
        }
    }

    /// The supercell harmonics M (orders −M…M).
    pub fn supercell_harmonics(&self) -> Result<usize> {
        Ok(match self.harmonics_spec()? {
            Harmonics1d::Fixed(m) => m,
            Harmonics1d::Auto => self.harmonics_for(AUTO_SAMPLES_PER_FEATURE),
        })
    }

    /// The typed record of the design (validated first): materials at the wavelength, the lens
    /// over the aperture N·pitch with its one focal-length formula ([`Lens`]).
    pub fn design(&self) -> Result<Design1d> {
        self.validate()?;
        let lambda = self.source.wavelength;
        let (ridge, substrate, exit) = self.materials.parse()?;
        let (n_ridge, n_sub, n_exit) = (
            ridge.index(lambda)?,
            substrate.index(lambda)?,
            exit.index(lambda)?,
        );
        let lens = Lens::from_na_or_focal_length(
            lambda,
            self.lens.na,
            self.lens.focal_length,
            n_exit.re,
            self.aperture(),
            "lens",
        )?
        .with_incidence(n_sub.re)?;
        Ok(Design1d {
            name: self.display_name(),
            wavelength_um: lambda,
            eps_ridge: n_ridge.powi(2),
            eps_substrate: n_sub.powi(2),
            eps_exit: n_exit.powi(2),
            ridge_height_um: self.ridges.height,
            min_gap_um: self.ridges.min_gap,
            min_width_um: self.ridges.min_width,
            library_widths: self.ridges.widths,
            library_harmonics: self.ridges.library_harmonics,
            pitch_um: self.lens.pitch,
            ridge_count: self.ridge_count(),
            lens,
            selection: self.lens.selection,
            margin_um: self.supercell.margin,
            harmonics: self.harmonics_spec()?,
            efficiency_k: self.propagation.efficiency_k.clone(),
            z_planes: self.propagation.z_planes,
        })
    }

    /// Range and consistency checks.
    pub fn validate(&self) -> Result<()> {
        let lambda = self.source.wavelength;
        crate::error::check_positive("source.wavelength", lambda, "µm")?;
        let (_, sub, exit) = self.materials.parse()?;
        let n_exit = exit.index(lambda)?;
        sub.index(lambda)?;
        let r = &self.ridges;
        finite_pos("ridges.height", r.height)?;
        finite_pos("ridges.min_gap", r.min_gap)?;
        finite_pos("ridges.min_width", r.min_width)?;
        if !(2..=100_000).contains(&r.widths) {
            return Err(Error::invalid(
                "ridges.widths",
                r.widths,
                "must be between 2 and 100000 library widths",
            ));
        }
        if !(5..=2000).contains(&r.library_harmonics) {
            return Err(Error::invalid(
                "ridges.library_harmonics",
                r.library_harmonics,
                "must be between 5 and 2000",
            ));
        }
        let l = &self.lens;
        finite_pos("lens.pitch", l.pitch)?;
        finite_pos("lens.width", l.width)?;
        if r.min_width + r.min_gap >= l.pitch {
            return Err(Error::invalid(
                "ridges.min_width",
                format!("{} µm", r.min_width),
                format!(
                    "min_width + min_gap must be below the pitch {} µm (no ridge fits)",
                    l.pitch
                ),
            ));
        }
        if l.width < 2.0 * l.pitch {
            return Err(Error::invalid(
                "lens.width",
                format!("{} µm", l.width),
                format!(
                    "must hold at least two ridges: >= 2 pitches = {} µm",
                    2.0 * l.pitch
                ),
            ));
        }
        if n_exit.im != 0.0 {
            return Err(Error::invalid(
                "materials.exit",
                &self.materials.exit,
                "the exit medium must be lossless (the focus is propagated in it)",
            ));
        }
        match na_or_focal_length(l.na, l.focal_length, "lens")? {
            LensSize::Na(na) => {
                if !na.is_finite() || na <= 0.0 || na >= n_exit.re {
                    return Err(Error::invalid(
                        "lens.na",
                        na,
                        format!(
                            "must be in (0, {}) (below the exit index n_exit)",
                            n_exit.re
                        ),
                    ));
                }
            }
            LensSize::FocalLength(f) => finite_pos("lens.focal_length", f)?,
        }
        self.validate_supercell_and_propagation(lambda)
    }

    /// The margin and harmonics of the supercell and the propagation settings.
    fn validate_supercell_and_propagation(&self, lambda: f64) -> Result<()> {
        let m = self.supercell.margin;
        if !m.is_finite() || m < MIN_MARGIN_WAVELENGTHS * lambda {
            return Err(Error::invalid(
                "supercell.margin",
                format!("{m} µm"),
                format!(
                    "must be >= {MIN_MARGIN_WAVELENGTHS} wavelengths = {:.3} µm (neighbouring lens copies of the supercell couple below it)",
                    MIN_MARGIN_WAVELENGTHS * lambda
                ),
            ));
        }
        let mh = self.supercell_harmonics()?;
        let need = self.harmonics_for(MIN_SAMPLES_PER_FEATURE);
        if mh < need {
            return Err(Error::invalid(
                "supercell.harmonics",
                mh,
                format!(
                    "too few to resolve the narrowest ridge or gap {} µm: the period {:.3} µm / (2M+1) must be <= twice that width, i.e. M >= {need} (\"auto\" gives {})",
                    self.narrowest_feature(),
                    self.period(),
                    self.harmonics_for(AUTO_SAMPLES_PER_FEATURE)
                ),
            ));
        }
        if mh > 20_000 {
            return Err(Error::invalid(
                "supercell.harmonics",
                mh,
                "must be <= 20000 (the even-sector matrices of 20001 × 20001 need ~6 GiB each)",
            ));
        }
        let p = &self.propagation;
        if p.efficiency_k.is_empty() {
            return Err(Error::invalid(
                "propagation.efficiency_k",
                "[]",
                "needs at least one factor K > 0",
            ));
        }
        for &k in &p.efficiency_k {
            if !k.is_finite() || k <= 0.0 {
                return Err(Error::invalid(
                    "propagation.efficiency_k",
                    k,
                    "must be finite numbers > 0",
                ));
            }
        }
        if p.z_planes < 3 {
            return Err(Error::invalid(
                "propagation.z_planes",
                p.z_planes,
                "must be at least 3",
            ));
        }
        Ok(())
    }
}
