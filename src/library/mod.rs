//! Phase library: complex transmission of pillar cells over radius × pitch (× height ×
//! wavelength), computed in parallel, stored in HDF5.
//!
//! CONTRACT used by later stages (layout, near field): the `PhaseLibrary` struct below.
//!
//! - [`sweep`]: the parallel sweep, generic over the per-cell solve (a closure), with
//!   checkpoint/resume and sharding; [`sweep::rcwa_cell_solver`] is the real solve.
//! - the HDF5 file (load, save, merge of shards, Lumerical/Zemax export) is
//!   [`crate::io::library_file`]; [`LibraryMeta`] is what it records besides the numbers.
//! - lookups on [`PhaseLibrary`]: axis indices, the radius column at (wavelength, height,
//!   pitch), interpolation in radius, phase coverage.

pub mod sweep;

pub use sweep::{
    AngularReport, CellPoint, CellResult, HarmonicRule, LibraryPolarization, Shard, SweepMaterials,
    SweepOptions, SweepReport, SweepSettings, SweepSpec,
};

use crate::numeric::wrap_phase;
use crate::{Error, Result, C64};
use std::f64::consts::PI;

/// Complex transmission of pillar cells on a grid of (wavelength, height, pitch, radius).
/// Axes are ascending. `t[[iw, ih, ip, ir, pol]]` with pol 0 = x, 1 = y polarisation
/// (normal incidence, t as defined in the crate docs). `valid[[iw, ih, ip, ir]]` is false for
/// radii that do not fit the cell (minimum gap) or whose solve failed; t is then NaN.
#[derive(Clone, Debug)]
pub struct PhaseLibrary {
    pub wavelengths: Vec<f64>,
    pub heights: Vec<f64>,
    pub pitches: Vec<f64>,
    pub radii: Vec<f64>,
    pub t: ndarray::Array5<C64>,
    pub transmittance: ndarray::Array5<f64>,
    pub reflectance: ndarray::Array5<f64>,
    pub valid: ndarray::Array4<bool>,
    /// Lattice of the cells ("square" or "hex").
    pub lattice: crate::cell::LatticeKind,
    /// Refractive index of the exit medium (the medium the lens focuses into).
    pub exit_index: f64,
    /// Harmonics used per solve.
    pub harmonics: usize,
}

/// The library along radius at one (wavelength, height, pitch) and polarisation.
#[derive(Clone, Debug, PartialEq)]
pub struct RadiusColumn {
    /// Radii (µm), ascending (all library radii, or only the valid ones).
    pub radii: Vec<f64>,
    pub t: Vec<C64>,
    pub transmittance: Vec<f64>,
    pub valid: Vec<bool>,
}

impl RadiusColumn {
    /// Only the valid entries.
    pub fn valid_only(&self) -> RadiusColumn {
        let keep: Vec<usize> = (0..self.radii.len()).filter(|&i| self.valid[i]).collect();
        RadiusColumn {
            radii: keep.iter().map(|&i| self.radii[i]).collect(),
            t: keep.iter().map(|&i| self.t[i]).collect(),
            transmittance: keep.iter().map(|&i| self.transmittance[i]).collect(),
            valid: vec![true; keep.len()],
        }
    }

    /// Phase of t unwrapped along radius (rad), starting in (−π, π]; NaN where invalid, and
    /// unwrapping restarts after an invalid gap.
    pub fn unwrapped_phase(&self) -> Vec<f64> {
        unwrap_phase(
            &self
                .t
                .iter()
                .zip(&self.valid)
                .map(|(z, &v)| if v { z.arg() } else { f64::NAN })
                .collect::<Vec<_>>(),
        )
    }
}

/// Unwrap a phase sequence (rad): consecutive differences are brought into (−π, π]. NaN
/// entries are kept and break the sequence.
pub fn unwrap_phase(phase: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(phase.len());
    let mut prev: Option<(f64, f64)> = None; // (raw, unwrapped)
    for &p in phase {
        if !p.is_finite() {
            out.push(f64::NAN);
            prev = None;
            continue;
        }
        let u = match prev {
            None => p,
            Some((raw, unw)) => unw + wrap_phase(p - raw),
        };
        out.push(u);
        prev = Some((p, u));
    }
    out
}

/// Coverage of the phase circle (rad, in [0, 2π]) by a set of phases: 2π minus the largest
/// gap between neighbouring phases on the circle. 0 for fewer than two phases. This is "how much
/// of 2π the radii reach": a lens needs every phase within half the largest gap.
pub fn circle_coverage(phases: &[f64]) -> f64 {
    let mut p: Vec<f64> = phases
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| x.rem_euclid(2.0 * PI))
        .collect();
    if p.len() < 2 {
        return 0.0;
    }
    p.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut gap = p[0] + 2.0 * PI - p[p.len() - 1];
    for w in p.windows(2) {
        gap = gap.max(w[1] - w[0]);
    }
    2.0 * PI - gap
}

fn finite_min_max(v: &[f64]) -> Option<(f64, f64)> {
    let mut it = v.iter().copied().filter(|x| x.is_finite());
    let first = it.next()?;
    Some(it.fold((first, first), |(a, b), x| (a.min(x), b.max(x))))
}

/// A value on a library axis ([`crate::numeric::axis_position`]), or an error naming the
/// axis's values.
fn axis_index(axis: &[f64], value: f64, name: &str) -> Result<usize> {
    crate::numeric::axis_position(axis, value).ok_or_else(|| {
        let list: Vec<String> = axis.iter().map(|a| format!("{a}")).collect();
        Error::invalid(
            name,
            format!("{value} µm"),
            format!(
                "must be one of the library {name}s [{}] µm",
                list.join(", ")
            ),
        )
    })
}

impl PhaseLibrary {
    /// An empty library (all cells invalid, t NaN) on the given axes.
    pub fn empty(
        wavelengths: Vec<f64>,
        heights: Vec<f64>,
        pitches: Vec<f64>,
        radii: Vec<f64>,
        lattice: crate::cell::LatticeKind,
        exit_index: f64,
        harmonics: usize,
    ) -> Self {
        let sh = (wavelengths.len(), heights.len(), pitches.len(), radii.len());
        let nan = C64::new(f64::NAN, f64::NAN);
        PhaseLibrary {
            t: ndarray::Array5::from_elem((sh.0, sh.1, sh.2, sh.3, 2), nan),
            transmittance: ndarray::Array5::from_elem((sh.0, sh.1, sh.2, sh.3, 2), f64::NAN),
            reflectance: ndarray::Array5::from_elem((sh.0, sh.1, sh.2, sh.3, 2), f64::NAN),
            valid: ndarray::Array4::from_elem(sh, false),
            wavelengths,
            heights,
            pitches,
            radii,
            lattice,
            exit_index,
            harmonics,
        }
    }

    /// Index of a pitch (µm) on the library axis; an error lists the available pitches.
    pub fn pitch_index(&self, pitch: f64) -> Result<usize> {
        axis_index(&self.pitches, pitch, "pitch")
    }
    /// Index of a height (µm).
    pub fn height_index(&self, height: f64) -> Result<usize> {
        axis_index(&self.heights, height, "height")
    }
    /// Index of a wavelength (µm).
    pub fn wavelength_index(&self, wavelength: f64) -> Result<usize> {
        axis_index(&self.wavelengths, wavelength, "wavelength")
    }

    /// The library along radius at axis indices (iw, ih, ip), polarisation `pol` (0 = x, 1 = y).
    pub fn column_at(&self, iw: usize, ih: usize, ip: usize, pol: usize) -> RadiusColumn {
        let nr = self.radii.len();
        RadiusColumn {
            radii: self.radii.clone(),
            t: (0..nr).map(|ir| self.t[[iw, ih, ip, ir, pol]]).collect(),
            transmittance: (0..nr)
                .map(|ir| self.transmittance[[iw, ih, ip, ir, pol]])
                .collect(),
            valid: (0..nr).map(|ir| self.valid[[iw, ih, ip, ir]]).collect(),
        }
    }

    /// t at (wavelength, height, pitch) (µm) for all radii, polarisation `pol` (0 = x, 1 = y).
    pub fn column(
        &self,
        wavelength: f64,
        height: f64,
        pitch: f64,
        pol: usize,
    ) -> Result<RadiusColumn> {
        if pol > 1 {
            return Err(Error::invalid(
                "polarisation index",
                pol,
                "must be 0 (x) or 1 (y)",
            ));
        }
        Ok(self.column_at(
            self.wavelength_index(wavelength)?,
            self.height_index(height)?,
            self.pitch_index(pitch)?,
            pol,
        ))
    }

    /// t at `radius` (µm) interpolated between the two neighbouring valid library radii,
    /// linearly in amplitude and in phase (the phase step taken the short way round), at axis
    /// indices (iw, ih, ip). None outside the valid radii or across an invalid radius.
    /// Linear interpolation of amplitude and phase rather than of Re/Im keeps |t| from dipping
    /// between samples where the phase turns quickly.
    pub fn interpolate_at(
        &self,
        iw: usize,
        ih: usize,
        ip: usize,
        pol: usize,
        radius: f64,
    ) -> Option<C64> {
        let r = &self.radii;
        if r.is_empty() || !radius.is_finite() || radius < r[0] || radius > r[r.len() - 1] {
            return None;
        }
        let j = r.partition_point(|&x| x < radius);
        let ok = |i: usize| self.valid[[iw, ih, ip, i]];
        if j < r.len() && (r[j] - radius).abs() <= 1e-12 {
            return ok(j).then(|| self.t[[iw, ih, ip, j, pol]]);
        }
        if j == 0 {
            return ok(0).then(|| self.t[[iw, ih, ip, 0, pol]]);
        }
        let (a, b) = (j - 1, j);
        if !ok(a) || !ok(b) {
            return None;
        }
        let s = (radius - r[a]) / (r[b] - r[a]);
        let (ta, tb) = (self.t[[iw, ih, ip, a, pol]], self.t[[iw, ih, ip, b, pol]]);
        let amp = ta.norm() + s * (tb.norm() - ta.norm());
        let ph = ta.arg() + s * wrap_phase(tb.arg() - ta.arg());
        Some(C64::from_polar(amp, ph))
    }

    /// Phase coverage (rad, 0..2π) at axis indices (iw, ih, ip), polarisation `pol`: the part of
    /// the phase circle reached by valid radii whose transmittance is at least
    /// `min_transmittance` (see [`circle_coverage`]).
    pub fn phase_coverage_at(
        &self,
        iw: usize,
        ih: usize,
        ip: usize,
        pol: usize,
        min_transmittance: f64,
    ) -> f64 {
        let c = self.column_at(iw, ih, ip, pol);
        let phases: Vec<f64> = (0..c.radii.len())
            .filter(|&i| c.valid[i] && c.transmittance[i] >= min_transmittance)
            .map(|i| c.t[i].arg())
            .collect();
        circle_coverage(&phases)
    }

    /// Span (rad) of the phase of t unwrapped along the valid radii at (iw, ih, ip): max − min.
    /// Unlike [`Self::phase_coverage_at`] it ignores transmittance and does not depend on the
    /// radius step; ≥ 2π means the radii sweep through a full cycle.
    pub fn phase_span_at(&self, iw: usize, ih: usize, ip: usize, pol: usize) -> f64 {
        let c = self.column_at(iw, ih, ip, pol).valid_only();
        let u = c.unwrapped_phase();
        match finite_min_max(&u) {
            Some((lo, hi)) => hi - lo,
            None => 0.0,
        }
    }

    /// Mean transmittance (power fraction) of the valid radii at (iw, ih, ip), polarisation `pol`.
    pub fn mean_transmittance_at(&self, iw: usize, ih: usize, ip: usize, pol: usize) -> f64 {
        let c = self.column_at(iw, ih, ip, pol).valid_only();
        if c.radii.is_empty() {
            return f64::NAN;
        }
        c.transmittance.iter().sum::<f64>() / c.radii.len() as f64
    }

    /// Number of valid cells.
    pub fn valid_count(&self) -> usize {
        self.valid.iter().filter(|&&v| v).count()
    }
}

/// A phase library over incidence angles: one [`PhaseLibrary`] per (θ, φ), θ major
/// (`slices[iθ · nφ + iφ]`), with the map of cells each was responsible for (shards).
#[derive(Clone, Debug)]
pub struct AngularLibrary {
    /// Polar angles of incidence in the incidence medium (degrees), ascending.
    pub incidence_theta_deg: Vec<f64>,
    /// Azimuths of the plane of incidence from x (degrees), ascending.
    pub incidence_phi_deg: Vec<f64>,
    pub slices: Vec<PhaseLibrary>,
    pub computed: Vec<ndarray::Array4<bool>>,
}

impl AngularLibrary {
    /// The library at axis indices (iθ, iφ).
    pub fn slice(&self, itheta: usize, iphi: usize) -> &PhaseLibrary {
        &self.slices[itheta * self.incidence_phi_deg.len() + iphi]
    }

    /// Flat index of the θ = 0 slice (the first φ: at normal incidence φ does not enter).
    pub fn normal_incidence(&self) -> Option<usize> {
        let it = self.incidence_theta_deg.iter().position(|&t| t == 0.0)?;
        Some(it * self.incidence_phi_deg.len())
    }
}

/// What a library file records besides the numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryMeta {
    /// The sweep's settings, materials by their specifications (a file read back cannot
    /// resolve them: an n,k file named there may be gone).
    pub settings: SweepSettings,
    /// Text of the design file (or the TOML of the design built from flags).
    pub design_text: String,
    /// Set in shard files.
    pub shard: Option<Shard>,
    /// Cells this file is responsible for (fits ∧ in the shard); shape of `valid`.
    pub computed: ndarray::Array4<bool>,
    /// Tool version that wrote the file.
    pub tool_version: String,
}

impl LibraryMeta {
    /// Metadata for a library built in code (materials unknown).
    pub fn minimal(lib: &PhaseLibrary) -> Self {
        LibraryMeta {
            settings: SweepSettings {
                wavelengths: lib.wavelengths.clone(),
                heights: lib.heights.clone(),
                pitches: lib.pitches.clone(),
                radii: lib.radii.clone(),
                lattice: lib.lattice,
                min_gap: 0.0,
                pillar: "unspecified".into(),
                substrate: "unspecified".into(),
                exit: format!("{}", lib.exit_index),
                harmonics: lib.harmonics,
                polarization: LibraryPolarization::X,
                harmonic_rule: None,
                incidence_theta_deg: sweep::normal_incidence(),
                incidence_phi_deg: sweep::normal_incidence(),
            },
            design_text: String::new(),
            shard: None,
            computed: lib.valid.clone(),
            tool_version: crate::VERSION.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_removes_2pi_jumps() {
        // a phase ramp of 0.5 rad per step wrapped into (-π, π] unwraps to the ramp
        let ramp: Vec<f64> = (0..30).map(|i| 0.5 * i as f64).collect();
        let wrapped: Vec<f64> = ramp.iter().map(|&x| wrap_phase(x)).collect();
        let u = unwrap_phase(&wrapped);
        for (a, b) in u.iter().zip(&ramp) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn coverage_of_the_circle() {
        // equally spaced phases: the largest gap is one spacing
        let p: Vec<f64> = (0..8).map(|i| i as f64 * PI / 4.0).collect();
        assert!((circle_coverage(&p) - 1.75 * PI).abs() < 1e-12);
        // a cluster across the ±π cut: coverage is its width, not 2π minus it
        assert!((circle_coverage(&[3.0, -3.0]) - (2.0 * PI - 6.0)).abs() < 1e-12);
        assert_eq!(circle_coverage(&[1.0]), 0.0);
    }

    #[test]
    fn interpolation_is_exact_for_linear_amplitude_and_phase() {
        // t(r) = (0.5 + r) exp(i 20 r): amplitude and phase linear in r, phase wraps twice
        let radii: Vec<f64> = (0..11).map(|i| 0.02 * i as f64).collect();
        let mut lib = PhaseLibrary::empty(
            vec![0.685],
            vec![0.8],
            vec![0.5],
            radii.clone(),
            crate::cell::LatticeKind::Square,
            1.0,
            10,
        );
        let f = |r: f64| C64::from_polar(0.5 + r, 20.0 * r);
        for (i, &r) in radii.iter().enumerate() {
            lib.t[[0, 0, 0, i, 0]] = f(r);
            lib.valid[[0, 0, 0, i]] = true;
        }
        for k in 0..50 {
            let r = 0.2 * k as f64 / 49.0;
            let z = lib.interpolate_at(0, 0, 0, 0, r).unwrap();
            assert!((z - f(r)).norm() < 1e-12, "r = {r}");
        }
        assert!(lib.interpolate_at(0, 0, 0, 0, 0.21).is_none());
        lib.valid[[0, 0, 0, 5]] = false;
        assert!(lib.interpolate_at(0, 0, 0, 0, 0.095).is_none());
        assert!(lib
            .pitch_index(0.4)
            .unwrap_err()
            .to_string()
            .contains("0.5"));
    }
}
