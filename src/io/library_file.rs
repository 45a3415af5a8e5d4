//! The HDF5 schema of a phase library, its reader, the merge of shards, and the
//! Lumerical/Zemax meta-atom export.
//!
//! Library file (h5py opens it without help):
//!
//! | dataset | shape | type | units |
//! |---|---|---|---|
//! | `incidence_theta`, `incidence_phi` | (n,) | f64, dimension scales | deg |
//! | `wavelength`, `height`, `pitch`, `radius` | (n,) | f64, dimension scales | µm |
//! | `polarization` | (2,) | u8 scale: 0 = x, 1 = y input | |
//! | `t` | (nθ, nφ, nw, nh, np, nr, 2) | complex128 as compound {r, i} | field ratio |
//! | `transmittance`, `reflectance` | (nθ, nφ, nw, nh, np, nr, 2) | f64 | power fraction |
//! | `valid` | (nθ, nφ, nw, nh, np, nr) | bool | |
//! | `computed` | (nθ, nφ, nw, nh, np, nr) | bool: cells this file (shard) is responsible for | |
//! | `harmonics` | (np,) | i64, pitch scale: harmonics requested per solve at each pitch | |
//!
//! θ is the polar angle of incidence in the incidence medium (the substrate), φ the azimuth of
//! the plane of incidence from x. Format 1 (before the angle axes) has no `incidence_*` and no
//! `harmonics` dataset and 5-D / 4-D arrays: it is read as θ = φ = 0, one harmonic count.
//! The layout, plots and exports use the θ = 0 slice ([`read_library`]); a file without one is
//! refused there.
//!
//! Root attributes: `kind`, `format_version`, `tool_version`, `units`, `conventions`
//! (crate::CONVENTIONS), `t_definition` (crate::T_DEFINITION), `t_storage`, `harmonics`,
//! `solver`, `solver_settings` (JSON), `sweep_settings` (JSON, the sweep's identity),
//! `lattice`, `min_gap_um`, `pillar`, `substrate`, `exit`, `exit_index`, `design` (the
//! design file's text), `shard` ("k/n", only in shard files), `valid_definition`.

use crate::io::hdf5::{H5Reader, H5Writer};
use crate::library::{
    AngularLibrary, LibraryMeta, LibraryPolarization, PhaseLibrary, Shard, SweepSettings,
};
use crate::{Error, Result, C64};
use rust_hdf5::H5Dataset;
use std::path::Path;

/// Value of the root attribute `kind` of a library file.
pub const KIND: &str = "metalens phase library";
/// Schema version of the library file written (2: incidence-angle axes, harmonics per pitch).
pub const FORMAT_VERSION: &str = "2";
/// Schema versions read ("1": no angle axes, read as θ = φ = 0).
const READABLE_VERSIONS: [&str; 2] = ["1", "2"];

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

/// Write a library of one incidence (atomically): the incidence of `meta.settings`, which must
/// have one θ and one φ.
pub fn write_library(path: &Path, lib: &PhaseLibrary, meta: &LibraryMeta) -> Result<()> {
    if meta.settings.angle_count() != 1 {
        return Err(Error::invalid(
            "incidence angles",
            format!(
                "{:?} × {:?} degrees",
                meta.settings.incidence_theta_deg, meta.settings.incidence_phi_deg
            ),
            "one library slice is one incidence: write an angular library with write_angular_library",
        ));
    }
    let ang = AngularLibrary {
        incidence_theta_deg: meta.settings.incidence_theta_deg.clone(),
        incidence_phi_deg: meta.settings.incidence_phi_deg.clone(),
        slices: vec![lib.clone()],
        computed: vec![meta.computed.clone()],
    };
    write_angular_library(path, &ang, meta)
}

/// Write a library over incidence angles (atomically). Its angle axes must be those of
/// `meta.settings`, every slice on the same (wavelength, height, pitch, radius) axes.
pub fn write_angular_library(path: &Path, ang: &AngularLibrary, meta: &LibraryMeta) -> Result<()> {
    let lib = check_slices(ang, meta)?;
    let w = H5Writer::create(path)?;
    let per_pitch: Vec<i64> = lib
        .pitches
        .iter()
        .map(|&p| meta.settings.harmonics_at(p) as i64)
        .collect();
    write_root_attributes(&w, lib, meta, &per_pitch)?;
    let axes = write_axes(&w, path, ang, lib)?;
    let ds = w.dataset::<i64>("harmonics", &[lib.pitches.len()], &per_pitch, "")?;
    w.dataset_attr(
        &ds,
        "meaning",
        "harmonics requested per solve at each pitch (the circular truncation keeps the closed shells nearest this count)",
    )?;
    w.attach(&ds, &[Some(&axes.pitch)])?;
    write_cells(&w, ang, lib, &axes)?;
    w.commit()
}

/// The first slice of `ang`, once every slice is checked to be one incidence of
/// `meta.settings` on the same (wavelength, height, pitch, radius) axes.
fn check_slices<'a>(ang: &'a AngularLibrary, meta: &LibraryMeta) -> Result<&'a PhaseLibrary> {
    let (nt, nph) = (ang.incidence_theta_deg.len(), ang.incidence_phi_deg.len());
    let lib = ang.slices.first().ok_or_else(|| {
        Error::invalid(
            "angular library",
            "no slice",
            "needs one slice per incidence",
        )
    })?;
    if ang.slices.len() != nt * nph
        || ang.computed.len() != nt * nph
        || ang.incidence_theta_deg != meta.settings.incidence_theta_deg
        || ang.incidence_phi_deg != meta.settings.incidence_phi_deg
        || ang.slices.iter().any(|l| {
            l.wavelengths != lib.wavelengths
                || l.heights != lib.heights
                || l.pitches != lib.pitches
                || l.radii != lib.radii
        })
    {
        return Err(Error::invalid(
            "angular library",
            format!("{} slices", ang.slices.len()),
            format!("one per incidence of the sweep ({nt} × {nph}), on the same axes"),
        ));
    }
    Ok(lib)
}

/// The root attributes: kind and versions, units and conventions, the solver and sweep
/// settings (`per_pitch`: harmonics at each pitch), the materials and the design text.
fn write_root_attributes(
    w: &H5Writer,
    lib: &PhaseLibrary,
    meta: &LibraryMeta,
    per_pitch: &[i64],
) -> Result<()> {
    w.attr_str("kind", KIND)?;
    w.attr_str("format_version", FORMAT_VERSION)?;
    w.attr_str("tool_version", &meta.tool_version)?;
    w.attr_str(
        "units",
        "lengths (wavelength, height, pitch, radius, min_gap_um) in micrometres; incidence angles (incidence_theta, incidence_phi) in degrees; t is a dimensionless complex field ratio; transmittance and reflectance are power fractions",
    )?;
    w.attr_str("conventions", crate::CONVENTIONS)?;
    w.attr_str("t_definition", crate::T_DEFINITION)?;
    w.attr_str(
        "t_storage",
        "complex128 stored as the HDF5 compound {r: float64, i: float64} (h5py reads complex128); axes (incidence_theta, incidence_phi, wavelength, height, pitch, radius, polarization); polarization 0 = x input (t_xx), 1 = y input (t_yy) in the (x, y) basis of the tangential field, zeroth order; NaN where valid is false",
    )?;
    w.attr_str(
        "valid_definition",
        "true where the pillar fits the cell (2 radius + min_gap <= pitch) and the solve succeeded",
    )?;
    w.attr_i64("harmonics", lib.harmonics as i64)?;
    w.attr_str("solver", "RCWA (Fourier modal method), one pillar per cell, incidence from the substrate at the angles of the incidence_theta / incidence_phi axes")?;
    let pol = match meta.settings.polarization {
        LibraryPolarization::X => "x (y from the same solve's Jones matrix; at normal incidence the y transmittance and reflectance equal x's by the C4/C6 symmetry of the cell, off normal incidence both come from the same modes)",
        LibraryPolarization::Both => "both (separate x and y solves)",
    };
    let solver_settings = serde_json::json!({
        "harmonics": lib.harmonics,
        "harmonics_per_pitch": per_pitch,
        "harmonic_rule": meta.settings.harmonic_rule,
        "factorization": "normal-vector",
        "polarization": pol,
    });
    w.attr_str("solver_settings", &solver_settings.to_string())?;
    w.attr_str("sweep_settings", &meta.settings.fingerprint())?;
    w.attr_str("lattice", lattice_name(lib.lattice))?;
    w.attr_f64("min_gap_um", meta.settings.min_gap)?;
    w.attr_str("pillar", &meta.settings.pillar)?;
    w.attr_str("substrate", &meta.settings.substrate)?;
    w.attr_str("exit", &meta.settings.exit)?;
    w.attr_f64("exit_index", lib.exit_index)?;
    w.attr_str("design", &meta.design_text)?;
    if let Some(s) = meta.shard {
        w.attr_str("shard", &s.to_string())?;
    }
    Ok(())
}

/// The dimension scales of a library file.
struct Axes {
    theta: H5Dataset,
    phi: H5Dataset,
    wavelength: H5Dataset,
    height: H5Dataset,
    pitch: H5Dataset,
    radius: H5Dataset,
    polarization: H5Dataset,
}

/// Write the axes (incidence θ and φ in degrees, wavelength, height, pitch, radius in µm,
/// polarisation 0/1) as dimension scales.
fn write_axes(w: &H5Writer, path: &Path, ang: &AngularLibrary, lib: &PhaseLibrary) -> Result<Axes> {
    let st = w.scale("incidence_theta", &ang.incidence_theta_deg, "deg")?;
    w.dataset_attr(
        &st,
        "meaning",
        "polar angle of incidence in the incidence medium (the substrate)",
    )?;
    let sf = w.scale("incidence_phi", &ang.incidence_phi_deg, "deg")?;
    w.dataset_attr(
        &sf,
        "meaning",
        "azimuth of the plane of incidence, from the x axis",
    )?;
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
    Ok(Axes {
        theta: st,
        phi: sf,
        wavelength: sw,
        height: sh,
        pitch: sp,
        radius: sr,
        polarization: spol,
    })
}

/// The cell data of every slice, incidence major: t, transmittance, reflectance, valid and
/// computed, each with its dimension scales.
fn write_cells(w: &H5Writer, ang: &AngularLibrary, lib: &PhaseLibrary, axes: &Axes) -> Result<()> {
    let (nt, nph) = (ang.incidence_theta_deg.len(), ang.incidence_phi_deg.len());
    let (nw, nh, np, nr) = (
        lib.wavelengths.len(),
        lib.heights.len(),
        lib.pitches.len(),
        lib.radii.len(),
    );
    let shape5 = [nt, nph, nw, nh, np, nr, 2];
    let shape4 = [nt, nph, nw, nh, np, nr];
    // the cell datasets' dimension scales; the 6-D ones (no polarisation axis) take the first six
    let scales5 = [
        &axes.theta,
        &axes.phi,
        &axes.wavelength,
        &axes.height,
        &axes.pitch,
        &axes.radius,
        &axes.polarization,
    ]
    .map(Some);
    let scales4 = &scales5[..6];
    let t: Vec<C64> = ang
        .slices
        .iter()
        .flat_map(|l| l.t.iter().copied())
        .collect();
    let ds = w.dataset_c64("t", &shape5, &t, "")?;
    w.dataset_attr(
        &ds,
        "description",
        "complex transmission coefficient (see root attributes t_definition, t_storage)",
    )?;
    w.attach(&ds, &scales5)?;
    let tt: Vec<f64> = ang
        .slices
        .iter()
        .flat_map(|l| l.transmittance.iter().copied())
        .collect();
    let ds = w.dataset("transmittance", &shape5, &tt, "power fraction")?;
    w.attach(&ds, &scales5)?;
    let rr: Vec<f64> = ang
        .slices
        .iter()
        .flat_map(|l| l.reflectance.iter().copied())
        .collect();
    let ds = w.dataset("reflectance", &shape5, &rr, "power fraction")?;
    w.attach(&ds, &scales5)?;
    let v: Vec<bool> = ang
        .slices
        .iter()
        .flat_map(|l| l.valid.iter().copied())
        .collect();
    let ds = w.dataset_bool("valid", &shape4, &v)?;
    w.attach(&ds, scales4)?;
    let c: Vec<bool> = ang
        .computed
        .iter()
        .flat_map(|c| c.iter().copied())
        .collect();
    let ds = w.dataset_bool("computed", &shape4, &c)?;
    w.attach(&ds, scales4)?;
    Ok(())
}

/// Read a library file (also a shard) with its metadata: the θ = 0 slice (the first φ; at
/// normal incidence φ does not enter), which the layout uses. A library without θ = 0 is
/// refused with a one-line error.
pub fn read_library(path: &Path) -> Result<(PhaseLibrary, LibraryMeta)> {
    let (ang, mut meta) = read_angular_library(path)?;
    let i = ang.normal_incidence().ok_or_else(|| {
        Error::format(
            path,
            format!(
                "has no θ = 0 slice (incidence_theta_deg = {:?}): the layout needs normal incidence; sweep it with 0 among incidence_theta_deg",
                ang.incidence_theta_deg
            ),
        )
    })?;
    let AngularLibrary {
        mut slices,
        mut computed,
        ..
    } = ang;
    meta.computed = computed.swap_remove(i);
    Ok((slices.swap_remove(i), meta))
}

/// The sweep settings of a library file, and whether it has angle axes (format 2 on); a
/// file that is no library, or of a format this tool does not read, is refused.
fn read_settings(r: &H5Reader, path: &Path) -> Result<(SweepSettings, bool)> {
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
    if !READABLE_VERSIONS.contains(&fv.as_str()) {
        return Err(Error::format(
            path,
            format!(
                "library format version {fv} is not supported (this tool reads {FORMAT_VERSION})"
            ),
        ));
    }
    let angular = fv != "1";
    let settings: SweepSettings = serde_json::from_str(&r.attr_string("sweep_settings")?)
        .map_err(|e| Error::format(path, format!("unreadable sweep_settings: {e}")))?;
    Ok((settings, angular))
}

/// The axes of a library file (θ, φ in degrees; wavelength, height, pitch, radius in µm; a
/// file without angle axes is at θ = φ = 0), refused unless they are those of its settings.
fn read_axes(
    r: &H5Reader,
    path: &Path,
    settings: &SweepSettings,
    angular: bool,
) -> Result<[Vec<f64>; 6]> {
    let (theta, phi) = if angular {
        (
            r.f64("incidence_theta", None)?.0,
            r.f64("incidence_phi", None)?.0,
        )
    } else {
        (vec![0.0], vec![0.0])
    };
    if theta != settings.incidence_theta_deg || phi != settings.incidence_phi_deg {
        return Err(Error::format(
            path,
            "incidence angle axes disagree with the recorded sweep settings (corrupt file)",
        ));
    }
    let (wavelengths, _) = r.f64("wavelength", None)?;
    let (heights, _) = r.f64("height", None)?;
    let (pitches, _) = r.f64("pitch", None)?;
    let (radii, _) = r.f64("radius", None)?;
    if wavelengths != settings.wavelengths
        || heights != settings.heights
        || pitches != settings.pitches
        || radii != settings.radii
    {
        return Err(Error::format(
            path,
            "axes disagree with the recorded sweep settings (corrupt file)",
        ));
    }
    Ok([theta, phi, wavelengths, heights, pitches, radii])
}

/// Read a library file over every incidence angle with its metadata (`meta.computed` is that
/// of the θ = 0 slice when there is one, else of the first).
pub fn read_angular_library(path: &Path) -> Result<(AngularLibrary, LibraryMeta)> {
    let r = H5Reader::open(path)?;
    let (settings, angular) = read_settings(&r, path)?;
    let [theta, phi, wavelengths, heights, pitches, radii] =
        read_axes(&r, path, &settings, angular)?;
    let (nw, nh, np, nr) = (wavelengths.len(), heights.len(), pitches.len(), radii.len());
    let (nt, nph) = (theta.len(), phi.len());
    let (s5, s4): (Vec<usize>, Vec<usize>) = if angular {
        (
            vec![nt, nph, nw, nh, np, nr, 2],
            vec![nt, nph, nw, nh, np, nr],
        )
    } else {
        (vec![nw, nh, np, nr, 2], vec![nw, nh, np, nr])
    };
    let (t, _) = r.c64("t", Some(&s5))?;
    let (tt, _) = r.f64("transmittance", Some(&s5))?;
    let (rr, _) = r.f64("reflectance", Some(&s5))?;
    let (v, _) = r.bool("valid", Some(&s4))?;
    let (c, _) = r.bool("computed", Some(&s4))?;
    // an n,k file named in `exit` may be absent on this machine: NaN then
    let exit_index: f64 = super::material_file::resolve_material(&settings.exit)
        .and_then(|m| m.index(settings.wavelengths[0]))
        .map_or(f64::NAN, |n| n.re);
    let sh5 = (nw, nh, np, nr, 2);
    let sh4 = (nw, nh, np, nr);
    let (n5, n4) = (nw * nh * np * nr * 2, nw * nh * np * nr);
    let harmonics = pitches
        .iter()
        .map(|&p| settings.harmonics_at(p))
        .max()
        .unwrap_or(settings.harmonics);
    let mut slices = Vec::with_capacity(nt * nph);
    let mut computed = Vec::with_capacity(nt * nph);
    for k in 0..nt * nph {
        let a5 = |v: &[f64]| {
            ndarray::Array5::from_shape_vec(sh5, v[k * n5..(k + 1) * n5].to_vec())
                .expect("shape checked")
        };
        let lib = PhaseLibrary {
            t: ndarray::Array5::from_shape_vec(sh5, t[k * n5..(k + 1) * n5].to_vec())
                .expect("shape checked"),
            transmittance: a5(&tt),
            reflectance: a5(&rr),
            valid: ndarray::Array4::from_shape_vec(sh4, v[k * n4..(k + 1) * n4].to_vec())
                .expect("shape checked"),
            wavelengths: wavelengths.clone(),
            heights: heights.clone(),
            pitches: pitches.clone(),
            radii: radii.clone(),
            lattice: settings.lattice,
            exit_index,
            harmonics,
        };
        check_physical(path, &lib, &settings, theta[k / nph] == 0.0)?;
        slices.push(lib);
        computed.push(
            ndarray::Array4::from_shape_vec(sh4, c[k * n4..(k + 1) * n4].to_vec())
                .expect("shape checked"),
        );
    }
    let shard = match r.attr_string_opt("shard") {
        Some(s) => Some(
            s.parse::<Shard>()
                .map_err(|_| Error::format(path, format!("bad shard attribute '{s}'")))?,
        ),
        None => None,
    };
    let ang = AngularLibrary {
        incidence_theta_deg: theta,
        incidence_phi_deg: phi,
        slices,
        computed,
    };
    let meta = LibraryMeta {
        design_text: r.attr_string_opt("design").unwrap_or_default(),
        shard,
        computed: ang.computed[ang.normal_incidence().unwrap_or(0)].clone(),
        tool_version: r.attr_string_opt("tool_version").unwrap_or_default(),
        settings,
    };
    Ok((ang, meta))
}

/// Tolerance of the energy checks on a stored cell: the solver conserves energy to rounding
/// in a lossless cell (symmetrised normal-vector factorisation, validation/rcwa/), so 1e-3 of
/// the incident power flags only edited, corrupt or foreign values.
const ENERGY_TOL: f64 = 1e-3;

/// Refuse values no passive cell can have: non-finite numbers, T or R below 0, T + R above 1
/// (more power than the cell receives; a lossy cell only has less), or a zeroth order carrying
/// more than T (n_exit/n_inc · |t|² > T; at normal incidence only, where that is the zeroth
/// order's power: off normal incidence it carries cos θ factors and E_z). Names the cell by
/// radius and pitch.
fn check_physical(
    path: &Path,
    lib: &PhaseLibrary,
    settings: &SweepSettings,
    normal: bool,
) -> Result<()> {
    // the materials by their specifications; an n,k file absent here skips that check
    let sub = super::material_file::resolve_material(&settings.substrate).ok();
    let ext = super::material_file::resolve_material(&settings.exit).ok();
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
            } else if normal && ratio.is_some_and(|q| q * t.norm_sqr() > tt + ENERGY_TOL) {
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
    let (ang, mut meta) = merge_angular(shards)?;
    let i = ang.normal_incidence().ok_or_else(|| {
        Error::invalid(
            "shards",
            format!("incidence_theta_deg = {:?}", ang.incidence_theta_deg),
            "have no θ = 0 slice: merge them with merge_angular",
        )
    })?;
    let AngularLibrary {
        mut slices,
        mut computed,
        ..
    } = ang;
    meta.computed = computed.swap_remove(i);
    Ok((slices.swap_remove(i), meta))
}

/// [`merge`] over every incidence angle.
pub fn merge_angular(shards: &[&Path]) -> Result<(AngularLibrary, LibraryMeta)> {
    if shards.is_empty() {
        return Err(Error::invalid(
            "shards",
            "none",
            "give the shard files to merge",
        ));
    }
    let mut parts = Vec::new();
    for p in shards {
        let (lib, meta) = read_angular_library(p)?;
        let s = meta.shard.ok_or_else(|| {
            Error::format(
                p,
                "is a whole library, not a shard (written without --shard)",
            )
        })?;
        parts.push((p.to_path_buf(), lib, meta, s));
    }
    let (p0, _, m0, s0) = &parts[0];
    let fp = m0.settings.fingerprint();
    let mut seen = vec![false; s0.count];
    for (p, _, m, s) in &parts {
        if m.settings.fingerprint() != fp {
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
    let mut ang = parts[0].1.clone();
    for (_, other, _, _) in parts.iter().skip(1) {
        for (k, (lib, computed)) in ang.slices.iter_mut().zip(&mut ang.computed).enumerate() {
            let l = &other.slices[k];
            for (idx, &c) in other.computed[k].indexed_iter() {
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
    }
    let meta = LibraryMeta {
        shard: None,
        computed: ang.computed[ang.normal_incidence().unwrap_or(0)].clone(),
        ..parts[0].2.clone()
    };
    Ok((ang, meta))
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
