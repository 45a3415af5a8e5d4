//! The HDF5 file of a supercell library ([`SupercellLibrary`]): optimised metagrating
//! supercells over deflection angle, with the LPA staircase of each angle beside them. Written
//! whole and atomically after every angle (the file is small), so an interrupted sweep resumes
//! at the first angle not computed; `complete` is the last root attribute written.
//!
//! | dataset | shape | type | units |
//! |---|---|---|---|
//! | `deflection_angle` | (na,) | f64, dimension scale | deg (in the exit medium) |
//! | `period` | (na,) | f64 | µm (Λ = λ/(n_exit sin θ)) |
//! | `pitch` | (1,) | f64: period along the grating lines (y) | µm |
//! | `computed` | (na,) | bool | |
//! | `pillar_count`, `harmonics`, `evaluations` | (na,) | i64 | |
//! | `x`, `radius`, `lpa_x`, `lpa_radius` | (na, N_max) | f64, NaN past the angle's N | µm |
//! | `efficiency`, `lpa_efficiency` | (na, 2, 4) | f64 | power fractions |
//! | `search_mean` | (na, 2) | f64: ½(TE + TM) of [LPA, optimum] at the search truncation | |
//!
//! The second axis of the efficiencies is the polarisation (0 = TE, E along the grating lines
//! y; 1 = TM, E along x), the third [focal order, Σ T, Σ R, absorption 1 − R − T].
//!
//! Root attributes: `kind`, `format_version`, `tool_version`, `units`, `conventions`,
//! `focal_order`, `geometry`, `identity` (everything the designs depend on; a sweep resumes
//! only a file of its own identity), `spec_*` (wavelength, indices, height, gap, radius range,
//! pitch, harmonics), `design` (the design file's text), `complete` ("true" when every angle
//! is computed; written last).

use crate::design::grating::{
    FocalEfficiency, GratingSpec, PolarisedPowers, SupercellDesign, SupercellGeometry,
    SupercellLibrary,
};
use crate::io::design::Design;
use crate::io::hdf5::{H5Reader, H5Writer};
use crate::{Error, Result};
use std::path::Path;

/// Value of the root attribute `kind`.
pub const KIND: &str = "metalens supercell library";
/// Schema version written and read.
pub const FORMAT_VERSION: &str = "1";

impl GratingSpec {
    /// The supercell spec of a design file: its wavelength, materials, pillar height, minimum
    /// gap, radius range (the library's radii), the lens pitch (or the first library pitch)
    /// along the grating lines, and its library harmonics as the harmonics per p × p.
    pub fn from_design(d: &Design) -> Result<Self> {
        d.validate()?;
        let (pillar, substrate, exit) = d.materials.parse()?;
        let radii = d.radii()?;
        let (lo, hi) = radii
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &r| {
                (a.min(r), b.max(r))
            });
        let pitch = match &d.lens {
            Some(l) => l.pitch,
            None => d.pitches()?[0],
        };
        let spec = GratingSpec {
            wavelength_um: d.source.wavelength,
            pillar,
            substrate,
            exit,
            height_um: d.cell.height,
            min_gap_um: d.cell.min_gap,
            radius_min_um: lo,
            radius_max_um: hi,
            pitch_um: pitch,
            harmonics_per_pitch: d.library.harmonics,
        };
        spec.validate()?;
        Ok(spec)
    }
}

const QUANTITIES: usize = 4;

fn powers_row(p: &PolarisedPowers) -> [f64; QUANTITIES] {
    [p.focal, p.transmittance, p.reflectance, p.absorption]
}

fn powers_of(v: &[f64]) -> PolarisedPowers {
    PolarisedPowers {
        focal: v[0],
        transmittance: v[1],
        reflectance: v[2],
        absorption: v[3],
    }
}

/// Write the library (atomically). `design_text`: the design file's text, for provenance.
pub fn write_supercell_library(
    path: &Path,
    lib: &SupercellLibrary,
    spec: &GratingSpec,
    design_text: &str,
) -> Result<()> {
    let na = lib.deflection_deg.len();
    if lib.designs.len() != na {
        return Err(Error::invalid(
            "supercell library",
            format!("{} designs for {na} angles", lib.designs.len()),
            "needs one entry per angle",
        ));
    }
    let nmax = lib
        .designs
        .iter()
        .flatten()
        .map(|d| d.optimised.len().max(d.lpa.len()))
        .max()
        .unwrap_or(1)
        .max(1);
    let w = H5Writer::create(path)?;
    w.attr_str("kind", KIND)?;
    w.attr_str("format_version", FORMAT_VERSION)?;
    w.attr_str("tool_version", crate::VERSION)?;
    w.attr_str(
        "units",
        "lengths (period, x, radius, spec_*_um) in micrometres; deflection_angle in degrees in the exit medium; efficiencies are power fractions of the incident power",
    )?;
    w.attr_str("conventions", crate::CONVENTIONS)?;
    w.attr_str(
        "focal_order",
        "(m, n) = (-1, 0): k_x = -2 pi / period, towards the lens axis for a supercell whose x axis points radially outwards (the lens phase decreases by 2 pi per period along +x); normal incidence from the substrate; TE = E along the grating lines (y), TM = E along x",
    )?;
    w.attr_str(
        "geometry",
        "rectangular cell period (x) by spec_pitch_um (y); circular pillars of spec_height_um centred at (x, 0); substrate below, exit medium around and above",
    )?;
    w.attr_str("identity", &lib.identity)?;
    w.attr_f64("spec_wavelength_um", spec.wavelength_um)?;
    w.attr_str("spec_pillar", &spec.pillar.name())?;
    w.attr_str("spec_substrate", &spec.substrate.name())?;
    w.attr_str("spec_exit", &spec.exit.name())?;
    w.attr_f64("spec_height_um", spec.height_um)?;
    w.attr_f64("spec_min_gap_um", spec.min_gap_um)?;
    w.attr_f64("spec_radius_min_um", spec.radius_min_um)?;
    w.attr_f64("spec_radius_max_um", spec.radius_max_um)?;
    w.attr_f64("spec_pitch_um", spec.pitch_um)?;
    w.attr_i64("spec_harmonics_per_pitch", spec.harmonics_per_pitch as i64)?;
    w.attr_str("design", design_text)?;
    w.dataset("pitch", &[1], &[spec.pitch_um], "um")?;
    let angles = w.scale("deflection_angle", &lib.deflection_deg, "deg")?;
    let col = |f: &dyn Fn(&SupercellDesign) -> f64| -> Vec<f64> {
        lib.designs
            .iter()
            .map(|d| d.as_ref().map(f).unwrap_or(f64::NAN))
            .collect()
    };
    let icol = |f: &dyn Fn(&SupercellDesign) -> usize| -> Vec<i64> {
        lib.designs
            .iter()
            .map(|d| d.as_ref().map(|d| f(d) as i64).unwrap_or(0))
            .collect()
    };
    let ds = w.dataset("period", &[na], &col(&|d| d.period_um), "um")?;
    w.attach(&ds, &[Some(&angles)])?;
    let computed: Vec<bool> = lib.designs.iter().map(|d| d.is_some()).collect();
    w.dataset_bool("computed", &[na], &computed)?;
    w.dataset::<i64>("pillar_count", &[na], &icol(&|d| d.optimised.len()), "")?;
    w.dataset::<i64>("harmonics", &[na], &icol(&|d| d.harmonics), "")?;
    w.dataset::<i64>("evaluations", &[na], &icol(&|d| d.evaluations), "")?;
    let padded = |f: &dyn Fn(&SupercellDesign) -> &Vec<f64>| -> Vec<f64> {
        let mut v = vec![f64::NAN; na * nmax];
        for (i, d) in lib.designs.iter().enumerate() {
            if let Some(d) = d {
                for (j, &x) in f(d).iter().enumerate() {
                    v[i * nmax + j] = x;
                }
            }
        }
        v
    };
    w.dataset("x", &[na, nmax], &padded(&|d| &d.optimised.x_um), "um")?;
    w.dataset(
        "radius",
        &[na, nmax],
        &padded(&|d| &d.optimised.radius_um),
        "um",
    )?;
    w.dataset("lpa_x", &[na, nmax], &padded(&|d| &d.lpa.x_um), "um")?;
    w.dataset(
        "lpa_radius",
        &[na, nmax],
        &padded(&|d| &d.lpa.radius_um),
        "um",
    )?;
    let eff = |f: &dyn Fn(&SupercellDesign) -> FocalEfficiency| -> Vec<f64> {
        let mut v = vec![f64::NAN; na * 2 * QUANTITIES];
        for (i, d) in lib.designs.iter().enumerate() {
            if let Some(d) = d {
                let e = f(d);
                for (p, pw) in [e.te, e.tm].iter().enumerate() {
                    let row = powers_row(pw);
                    v[(i * 2 + p) * QUANTITIES..(i * 2 + p + 1) * QUANTITIES].copy_from_slice(&row);
                }
            }
        }
        v
    };
    let meaning = "axis 1: polarisation 0 = TE (E along y), 1 = TM (E along x); axis 2: [focal order (-1, 0), sum T, sum R, absorption 1 - R - T], fractions of the incident power";
    let ds = w.dataset(
        "efficiency",
        &[na, 2, QUANTITIES],
        &eff(&|d| d.efficiency),
        "",
    )?;
    w.dataset_attr(&ds, "meaning", meaning)?;
    let ds = w.dataset(
        "lpa_efficiency",
        &[na, 2, QUANTITIES],
        &eff(&|d| d.lpa_efficiency),
        "",
    )?;
    w.dataset_attr(&ds, "meaning", meaning)?;
    let mut search = vec![f64::NAN; na * 2];
    for (i, d) in lib.designs.iter().enumerate() {
        if let Some(d) = d {
            search[2 * i] = d.search_lpa_mean;
            search[2 * i + 1] = d.search_mean;
        }
    }
    w.dataset("search_mean", &[na, 2], &search, "")?;
    // the completion marker, last
    w.attr_str("complete", if lib.is_complete() { "true" } else { "false" })?;
    w.commit()
}

/// Read a supercell library (every computed angle; None for the others).
pub fn read_supercell_library(path: &Path) -> Result<SupercellLibrary> {
    let r = H5Reader::open(path)?;
    let kind = r.attr_string("kind")?;
    if kind != KIND {
        return Err(Error::format(
            path,
            format!("is a '{kind}' file, not a {KIND}"),
        ));
    }
    let version = r.attr_string("format_version")?;
    if version != FORMAT_VERSION {
        return Err(Error::format(
            path,
            format!("format version {version}; this tool reads {FORMAT_VERSION}"),
        ));
    }
    let identity = r.attr_string("identity")?;
    let pitch = r.f64("pitch", Some(&[1]))?.0[0];
    let (angles, _) = r.f64("deflection_angle", None)?;
    let na = angles.len();
    let (period, _) = r.f64("period", Some(&[na]))?;
    let (computed, _) = r.bool("computed", Some(&[na]))?;
    let (count, _) = r.read::<i64>("pillar_count", Some(&[na]))?;
    let (harmonics, _) = r.read::<i64>("harmonics", Some(&[na]))?;
    let (evaluations, _) = r.read::<i64>("evaluations", Some(&[na]))?;
    let (x, shape) = r.f64("x", None)?;
    if shape.len() != 2 || shape[0] != na {
        return Err(Error::format(
            path,
            format!("dataset 'x' has shape {shape:?}, expected ({na}, N)"),
        ));
    }
    let nmax = shape[1];
    let (radius, _) = r.f64("radius", Some(&[na, nmax]))?;
    let (lpa_x, _) = r.f64("lpa_x", Some(&[na, nmax]))?;
    let (lpa_radius, _) = r.f64("lpa_radius", Some(&[na, nmax]))?;
    let (eff, _) = r.f64("efficiency", Some(&[na, 2, QUANTITIES]))?;
    let (lpa_eff, _) = r.f64("lpa_efficiency", Some(&[na, 2, QUANTITIES]))?;
    let (search, _) = r.f64("search_mean", Some(&[na, 2]))?;
    let mut designs = Vec::with_capacity(na);
    for i in 0..na {
        if !computed[i] {
            designs.push(None);
            continue;
        }
        let n = count[i] as usize;
        if n == 0 || n > nmax {
            return Err(Error::format(
                path,
                format!("angle {i}: pillar count {n} outside 1..={nmax}"),
            ));
        }
        let row = |v: &[f64]| v[i * nmax..i * nmax + n].to_vec();
        let geometry = |xs: &[f64], rs: &[f64]| SupercellGeometry {
            period_um: period[i],
            pitch_um: pitch,
            x_um: row(xs),
            radius_um: row(rs),
        };
        let fe = |v: &[f64]| FocalEfficiency {
            te: powers_of(&v[(i * 2) * QUANTITIES..(i * 2 + 1) * QUANTITIES]),
            tm: powers_of(&v[(i * 2 + 1) * QUANTITIES..(i * 2 + 2) * QUANTITIES]),
        };
        designs.push(Some(SupercellDesign {
            deflection_rad: angles[i].to_radians(),
            period_um: period[i],
            harmonics: harmonics[i] as usize,
            lpa: geometry(&lpa_x, &lpa_radius),
            lpa_efficiency: fe(&lpa_eff),
            optimised: geometry(&x, &radius),
            efficiency: fe(&eff),
            evaluations: evaluations[i] as usize,
            search_lpa_mean: search[2 * i],
            search_mean: search[2 * i + 1],
        }));
    }
    Ok(SupercellLibrary {
        identity,
        deflection_deg: angles,
        designs,
    })
}
