//! The HDF5 schema of a phase library, its reader, the merge of shards, and the
//! Lumerical/Zemax meta-atom export.
//!
//! Library file (h5py opens it without help):
//!
//! | dataset | shape | type | units |
//! |---|---|---|---|
//! | `wavelength`, `height`, `pitch`, `radius` | (n,) | f64, dimension scales | µm |
//! | `polarization` | (2,) | u8 scale: 0 = x, 1 = y input | |
//! | `t` | (nw, nh, np, nr, 2) | complex128 as compound {r, i} | field ratio |
//! | `transmittance`, `reflectance` | (nw, nh, np, nr, 2) | f64 | power fraction |
//! | `valid` | (nw, nh, np, nr) | bool | |
//! | `computed` | (nw, nh, np, nr) | bool: cells this file (shard) is responsible for | |
//!
//! Root attributes: `kind`, `format_version`, `tool_version`, `units`, `conventions`
//! (crate::CONVENTIONS), `t_definition` (crate::T_DEFINITION), `t_storage`, `harmonics`,
//! `solver`, `solver_settings` (JSON), `sweep_settings` (JSON, the sweep's identity),
//! `lattice`, `min_gap_um`, `pillar`, `substrate`, `exit`, `exit_index`, `design` (the
//! design file's text), `shard` ("k/n", only in shard files), `valid_definition`.

use crate::io::hdf5::{H5Reader, H5Writer};
use crate::library::{LibraryMeta, LibraryPolarization, PhaseLibrary, Shard, SweepSpec};
use crate::{Error, Result, C64};
use std::path::Path;

/// Value of the root attribute `kind` of a library file.
pub const KIND: &str = "metalens phase library";
/// Schema version of the library file.
pub const FORMAT_VERSION: &str = "1";

impl PhaseLibrary {
    /// Read a library written by `metalens library` (HDF5). Errors with a one-line message for
    /// a missing, corrupt or foreign file, and for an unmerged shard.
    pub fn load(path: &std::path::Path) -> crate::Result<Self> {
        let (lib, meta) = read_library(path)?;
        if let Some(s) = meta.shard {
            return Err(Error::format(
                path,
                format!("is shard {}/{} of a sweep, not a whole library: merge the shards first (metalens library merge)", s.index, s.count),
            ));
        }
        Ok(lib)
    }

    /// Read a library with its metadata (settings, design text, shard).
    pub fn load_with_meta(path: &std::path::Path) -> crate::Result<(Self, LibraryMeta)> {
        read_library(path)
    }

    /// Write the library to HDF5 (atomically) with minimal metadata; the CLI writes full
    /// provenance through [`write_library`].
    pub fn save(&self, path: &std::path::Path) -> crate::Result<()> {
        write_library(path, self, &LibraryMeta::minimal(self))
    }
}

fn lattice_name(l: crate::cell::LatticeKind) -> &'static str {
    match l {
        crate::cell::LatticeKind::Square => "square",
        crate::cell::LatticeKind::Hex => "hex",
    }
}

/// Write a library (atomically).
pub fn write_library(path: &Path, lib: &PhaseLibrary, meta: &LibraryMeta) -> Result<()> {
    let (nw, nh, np, nr) = (
        lib.wavelengths.len(),
        lib.heights.len(),
        lib.pitches.len(),
        lib.radii.len(),
    );
    let w = H5Writer::create(path)?;
    w.attr_str("kind", KIND)?;
    w.attr_str("format_version", FORMAT_VERSION)?;
    w.attr_str("tool_version", &meta.tool_version)?;
    w.attr_str(
        "units",
        "lengths (wavelength, height, pitch, radius, min_gap_um) in micrometres; t is a dimensionless complex field ratio; transmittance and reflectance are power fractions",
    )?;
    w.attr_str("conventions", crate::CONVENTIONS)?;
    w.attr_str("t_definition", crate::T_DEFINITION)?;
    w.attr_str(
        "t_storage",
        "complex128 stored as the HDF5 compound {r: float64, i: float64} (h5py reads complex128); axes (wavelength, height, pitch, radius, polarization); polarization 0 = x input (t_xx), 1 = y input (t_yy), zeroth order at normal incidence; NaN where valid is false",
    )?;
    w.attr_str(
        "valid_definition",
        "true where the pillar fits the cell (2 radius + min_gap <= pitch) and the solve succeeded",
    )?;
    w.attr_i64("harmonics", lib.harmonics as i64)?;
    w.attr_str("solver", "RCWA (Fourier modal method), normal incidence, one pillar per cell, incidence from the substrate")?;
    let pol = match meta.spec.polarization {
        LibraryPolarization::X => "x (y from the same solve's Jones matrix; y transmittance and reflectance equal x's by the C4/C6 symmetry of the cell)",
        LibraryPolarization::Both => "both (separate x and y solves)",
    };
    let solver_settings = serde_json::json!({
        "harmonics": lib.harmonics,
        "factorization": "normal-vector",
        "polarization": pol,
    });
    w.attr_str("solver_settings", &solver_settings.to_string())?;
    w.attr_str("sweep_settings", &meta.spec.fingerprint())?;
    w.attr_str("lattice", lattice_name(lib.lattice))?;
    w.attr_f64("min_gap_um", meta.spec.min_gap)?;
    w.attr_str("pillar", &meta.spec.pillar)?;
    w.attr_str("substrate", &meta.spec.substrate)?;
    w.attr_str("exit", &meta.spec.exit)?;
    w.attr_f64("exit_index", lib.exit_index)?;
    w.attr_str("design", &meta.design_text)?;
    if let Some(s) = meta.shard {
        w.attr_str("shard", &s.to_string())?;
    }

    let sw = w.scale("wavelength", &lib.wavelengths, "um")?;
    let sh = w.scale("height", &lib.heights, "um")?;
    let sp = w.scale("pitch", &lib.pitches, "um")?;
    let sr = w.scale("radius", &lib.radii, "um")?;
    let spol = w.dataset::<u8>("polarization", &[2], &[0, 1], "")?;
    w.dataset_attr(
        &spol,
        "meaning",
        "0 = x input polarisation, 1 = y input polarisation",
    )?;
    spol.set_scale(Some("polarization"))
        .map_err(|e| Error::format(path, format!("polarization scale: {e}")))?;

    let shape5 = [nw, nh, np, nr, 2];
    let shape4 = [nw, nh, np, nr];
    let scales5 = [Some(&sw), Some(&sh), Some(&sp), Some(&sr), Some(&spol)];
    let scales4 = [Some(&sw), Some(&sh), Some(&sp), Some(&sr)];
    let t: Vec<C64> = lib.t.iter().copied().collect();
    let ds = w.dataset_c64("t", &shape5, &t, "")?;
    w.dataset_attr(
        &ds,
        "description",
        "complex transmission coefficient (see root attributes t_definition, t_storage)",
    )?;
    w.attach(&ds, &scales5)?;
    let tt: Vec<f64> = lib.transmittance.iter().copied().collect();
    let ds = w.dataset("transmittance", &shape5, &tt, "power fraction")?;
    w.attach(&ds, &scales5)?;
    let rr: Vec<f64> = lib.reflectance.iter().copied().collect();
    let ds = w.dataset("reflectance", &shape5, &rr, "power fraction")?;
    w.attach(&ds, &scales5)?;
    let v: Vec<bool> = lib.valid.iter().copied().collect();
    let ds = w.dataset_bool("valid", &shape4, &v)?;
    w.attach(&ds, &scales4)?;
    let c: Vec<bool> = meta.computed.iter().copied().collect();
    let ds = w.dataset_bool("computed", &shape4, &c)?;
    w.attach(&ds, &scales4)?;
    w.commit()
}

/// Read a library file (also a shard) with its metadata.
pub fn read_library(path: &Path) -> Result<(PhaseLibrary, LibraryMeta)> {
    let r = H5Reader::open(path)?;
    match r.attr_string_opt("kind") {
        Some(k) if k == KIND => {}
        _ => {
            return Err(Error::format(
                path,
                "not a metalens phase library (root attribute kind is missing or different)",
            ))
        }
    }
    let fv = r.attr_string("format_version")?;
    if fv != FORMAT_VERSION {
        return Err(Error::format(
            path,
            format!(
                "library format version {fv} is not supported (this tool reads {FORMAT_VERSION})"
            ),
        ));
    }
    let spec: SweepSpec = serde_json::from_str(&r.attr_string("sweep_settings")?)
        .map_err(|e| Error::format(path, format!("unreadable sweep_settings: {e}")))?;
    let (wavelengths, _) = r.f64("wavelength", None)?;
    let (heights, _) = r.f64("height", None)?;
    let (pitches, _) = r.f64("pitch", None)?;
    let (radii, _) = r.f64("radius", None)?;
    if wavelengths != spec.wavelengths
        || heights != spec.heights
        || pitches != spec.pitches
        || radii != spec.radii
    {
        return Err(Error::format(
            path,
            "axes disagree with the recorded sweep settings (corrupt file)",
        ));
    }
    let (nw, nh, np, nr) = (wavelengths.len(), heights.len(), pitches.len(), radii.len());
    let s5 = [nw, nh, np, nr, 2];
    let s4 = [nw, nh, np, nr];
    let (t, _) = r.c64("t", Some(&s5))?;
    let (tt, _) = r.f64("transmittance", Some(&s5))?;
    let (rr, _) = r.f64("reflectance", Some(&s5))?;
    let (v, _) = r.bool("valid", Some(&s4))?;
    let (c, _) = r.bool("computed", Some(&s4))?;
    // an n,k file named in `exit` may be absent on this machine: NaN then
    let exit_index: f64 = spec.exit_index().unwrap_or(f64::NAN);
    let sh5 = (nw, nh, np, nr, 2);
    let sh4 = (nw, nh, np, nr);
    let a5 = |v: Vec<f64>| ndarray::Array5::from_shape_vec(sh5, v).expect("shape checked");
    let lib = PhaseLibrary {
        t: ndarray::Array5::from_shape_vec(sh5, t).expect("shape checked"),
        transmittance: a5(tt),
        reflectance: a5(rr),
        valid: ndarray::Array4::from_shape_vec(sh4, v).expect("shape checked"),
        wavelengths,
        heights,
        pitches,
        radii,
        lattice: spec.lattice,
        exit_index,
        harmonics: spec.harmonics,
    };
    let shard = match r.attr_string_opt("shard") {
        Some(s) => Some(
            s.parse::<Shard>()
                .map_err(|_| Error::format(path, format!("bad shard attribute '{s}'")))?,
        ),
        None => None,
    };
    check_physical(path, &lib, &spec)?;
    let meta = LibraryMeta {
        design_text: r.attr_string_opt("design").unwrap_or_default(),
        shard,
        computed: ndarray::Array4::from_shape_vec(sh4, c).expect("shape checked"),
        tool_version: r.attr_string_opt("tool_version").unwrap_or_default(),
        spec,
    };
    Ok((lib, meta))
}

/// Tolerance of the energy checks on a stored cell: the solver conserves energy to rounding
/// in a lossless cell (symmetrised normal-vector factorisation, validation/rcwa/), so 1e-3 of
/// the incident power flags only edited, corrupt or foreign values.
const ENERGY_TOL: f64 = 1e-3;

/// Refuse values no passive cell can have: non-finite numbers, T or R below 0, T + R above 1
/// (more power than the cell receives; a lossy cell only has less), or a zeroth order carrying
/// more than T (n_exit/n_inc · |t|² > T). Names the cell by radius and pitch.
fn check_physical(path: &Path, lib: &PhaseLibrary, spec: &SweepSpec) -> Result<()> {
    let sub = crate::material::Material::parse(&spec.substrate).ok();
    let ext = crate::material::Material::parse(&spec.exit).ok();
    for ((iw, ih, ip, ir), &v) in lib.valid.indexed_iter() {
        if !v {
            continue;
        }
        let w = lib.wavelengths[iw];
        let ratio = match (&sub, &ext) {
            (Some(s), Some(e)) => match (s.index(w), e.index(w)) {
                (Ok(ns), Ok(ne)) if ns.re > 0.0 => Some(ne.re / ns.re),
                _ => None,
            },
            _ => None,
        };
        for pol in 0..2 {
            let t = lib.t[[iw, ih, ip, ir, pol]];
            let tt = lib.transmittance[[iw, ih, ip, ir, pol]];
            let rr = lib.reflectance[[iw, ih, ip, ir, pol]];
            let at = || {
                format!(
                    "cell radius {} µm, pitch {} µm (height {} µm, wavelength {} µm, {} polarisation)",
                    lib.radii[ir],
                    lib.pitches[ip],
                    lib.heights[ih],
                    w,
                    ["x", "y"][pol]
                )
            };
            let bad = if !(t.re.is_finite() && t.im.is_finite() && tt.is_finite() && rr.is_finite())
            {
                Some(format!("non-finite value (t = {t}, T = {tt}, R = {rr})"))
            } else if tt < -ENERGY_TOL || rr < -ENERGY_TOL {
                Some(format!("negative power (T = {tt}, R = {rr})"))
            } else if tt + rr > 1.0 + ENERGY_TOL {
                Some(format!(
                    "T + R = {:.6} exceeds 1: a passive cell cannot carry more power than it receives",
                    tt + rr
                ))
            } else if ratio.is_some_and(|q| q * t.norm_sqr() > tt + ENERGY_TOL) {
                Some(format!(
                    "the zeroth order carries n_exit/n_inc·|t|² = {:.6}, more than the transmittance T = {tt:.6}",
                    ratio.unwrap_or(1.0) * t.norm_sqr()
                ))
            } else {
                None
            };
            if let Some(b) = bad {
                return Err(Error::format(
                    path,
                    format!("{}: {b} (the file was edited or is corrupt; recompute it with `metalens library`)", at()),
                ));
            }
        }
    }
    Ok(())
}

/// Merge shard files of one sweep into a whole library. Refuses files that are not shards,
/// shards of different settings or shard counts, duplicates, and missing shards.
pub fn merge(shards: &[&Path]) -> Result<(PhaseLibrary, LibraryMeta)> {
    if shards.is_empty() {
        return Err(Error::invalid(
            "shards",
            "none",
            "give the shard files to merge",
        ));
    }
    let mut parts = Vec::new();
    for p in shards {
        let (lib, meta) = read_library(p)?;
        let s = meta.shard.ok_or_else(|| {
            Error::format(
                p,
                "is a whole library, not a shard (written without --shard)",
            )
        })?;
        parts.push((p.to_path_buf(), lib, meta, s));
    }
    let (p0, _, m0, s0) = &parts[0];
    let fp = m0.spec.fingerprint();
    let mut seen = vec![false; s0.count];
    for (p, _, m, s) in &parts {
        if m.spec.fingerprint() != fp {
            return Err(Error::format(
                p,
                format!(
                    "shard of a sweep with other settings than {} (refusing to merge)",
                    p0.display()
                ),
            ));
        }
        if s.count != s0.count {
            return Err(Error::format(
                p,
                format!(
                    "shard {s} of a {}-way split, but {} is one of {}",
                    s.count,
                    p0.display(),
                    s0.count
                ),
            ));
        }
        if seen[s.index - 1] {
            return Err(Error::format(p, format!("shard {s} given twice")));
        }
        seen[s.index - 1] = true;
    }
    let missing: Vec<String> = (0..s0.count)
        .filter(|&k| !seen[k])
        .map(|k| format!("{}/{}", k + 1, s0.count))
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(
            "shards",
            format!("{} of {}", parts.len(), s0.count),
            format!("missing shard(s) {}", missing.join(", ")),
        ));
    }
    let mut lib = parts[0].1.clone();
    let mut computed = parts[0].2.computed.clone();
    for (_, l, m, _) in parts.iter().skip(1) {
        for (idx, &c) in m.computed.indexed_iter() {
            if !c {
                continue;
            }
            let (a, b, cc, d) = idx;
            computed[idx] = true;
            lib.valid[idx] = l.valid[idx];
            for pol in 0..2 {
                lib.t[[a, b, cc, d, pol]] = l.t[[a, b, cc, d, pol]];
                lib.transmittance[[a, b, cc, d, pol]] = l.transmittance[[a, b, cc, d, pol]];
                lib.reflectance[[a, b, cc, d, pol]] = l.reflectance[[a, b, cc, d, pol]];
            }
        }
    }
    let meta = LibraryMeta {
        shard: None,
        computed,
        ..parts[0].2.clone()
    };
    Ok((lib, meta))
}

/// Write the Ansys Lumerical / Zemax OpticStudio meta-atom database (format "1.0", normal
/// incidence, one wavelength): root attribute `version` = "1.0", vectors `phase` (rad) and
/// `amplitude` (|t|) over the meta-atoms (the valid radii at one wavelength, height and pitch,
/// ascending), plus `radius` (µm) and the provenance attributes. The phase is arg t in this
/// crate's exp(−iωt) convention (recorded as an attribute); a tool using exp(+iωt) sees −phase.
pub fn export_lumerical(
    path: &Path,
    lib: &PhaseLibrary,
    iw: usize,
    ih: usize,
    ip: usize,
    pol: usize,
) -> Result<usize> {
    let col = lib.column_at(iw, ih, ip, pol).valid_only();
    if col.radii.is_empty() {
        return Err(Error::invalid(
            "export",
            format!("pitch {} µm", lib.pitches[ip]),
            "has no valid radii to export",
        ));
    }
    let w = H5Writer::create(path)?;
    w.attr_str("version", "1.0")?;
    w.attr_str("tool_version", crate::VERSION)?;
    w.attr_str("conventions", crate::CONVENTIONS)?;
    w.attr_str("t_definition", crate::T_DEFINITION)?;
    w.attr_f64("wavelength_um", lib.wavelengths[iw])?;
    w.attr_f64("height_um", lib.heights[ih])?;
    w.attr_f64("pitch_um", lib.pitches[ip])?;
    w.attr_str("polarization", if pol == 0 { "x" } else { "y" })?;
    w.attr_str("lattice", lattice_name(lib.lattice))?;
    let k = col.radii.len();
    let phase: Vec<f64> = col.t.iter().map(|z| z.arg()).collect();
    let amp: Vec<f64> = col.t.iter().map(|z| z.norm()).collect();
    let ds = w.dataset("phase", &[k], &phase, "rad")?;
    w.dataset_attr(
        &ds,
        "convention",
        "arg t under exp(-i omega t), in (-pi, pi]",
    )?;
    w.dataset("amplitude", &[k], &amp, "")?;
    w.dataset("radius", &[k], &col.radii, "um")?;
    w.dataset("transmittance", &[k], &col.transmittance, "power fraction")?;
    w.commit()?;
    Ok(k)
}
