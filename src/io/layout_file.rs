//! The layout HDF5 file written by `metalens layout` and read by the propagation stage.
//!
//! Schema (lengths in µm, phases in radians, t as defined by [`crate::T_DEFINITION`]):
//!
//! | path | type | shape | meaning |
//! |---|---|---|---|
//! | `/` attrs `kind`, `conventions`, `t_definition`, `version`, `lattice`, `selection` | string | | provenance |
//! | `/` attrs `incidence_index`, `pillar_height_um`, `pillar_index_re`, `pillar_index_im` | string (a number) | | substrate index; pillar height and complex index at the wavelength (absent in layouts of earlier versions) |
//! | `pillars/center` | f64 | [N, 2] | pillar centre (x, y), lens axis at the origin |
//! | `pillars/radius` | f64 | [N] | pillar radius |
//! | `pillars/t_target` | complex (r, i) f64 | [N, 2] | target a·e^{iφ} for x and y polarisation (0 for fill pillars outside the aperture) |
//! | `pillars/t_achieved` | complex (r, i) f64 | [N, 2] | t of the chosen cell, x and y |
//! | `cells/radius`, `cells/t`, `cells/count` | f64, complex, u64 | [K], [K, 2], [K] | the cells available and how often each is used |
//! | `lens/<name>` | f64 | [1] | wavelength, focal_length, numerical_aperture, n_exit, diameter, pitch, amplitude, phase_offset |
//!
//! Per-pillar datasets are written in slices of [`SLICE`] pillars, so a lens of ten million
//! pillars never needs its per-pillar arrays in memory at once.

use crate::cell::LatticeKind;
use crate::fdtd::lens::{Aperture, LensProblem};
use crate::io::guard::{commit_temp, temp_path};
use crate::layout::{Layout, PillarSpec, Selection};
use crate::lens::Lens;
use crate::{Error, Result, C64};
use rust_hdf5::H5File;
use std::path::Path;

/// Pillars per written slice.
pub const SLICE: usize = 1 << 20;
/// Value of the `kind` attribute.
pub const KIND: &str = "metalens layout";

const LENS_KEYS: [&str; 8] = [
    "wavelength",
    "focal_length",
    "numerical_aperture",
    "n_exit",
    "diameter",
    "pitch",
    "amplitude",
    "phase_offset",
];

fn h5err(path: &Path, e: rust_hdf5::Hdf5Error) -> Error {
    Error::format(path, format!("HDF5: {e}"))
}

fn cplx(z: C64) -> rust_hdf5::types::Complex64 {
    rust_hdf5::types::Complex64 { re: z.re, im: z.im }
}

/// Write `layout` to `path` (atomically).
pub fn write_layout(layout: &Layout, path: &Path) -> Result<()> {
    let tmp = temp_path(path);
    let res = write_inner(layout, &tmp);
    match res {
        Ok(()) => commit_temp(&tmp, path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_inner(layout: &Layout, path: &Path) -> Result<()> {
    let e = |x| h5err(path, x);
    let file = H5File::create(path).map_err(e)?;
    write_root_attributes(&file, layout, path)?;
    write_lens_group(&file, layout, path)?;
    write_cells_group(&file, layout, path)?;
    write_pillars(&file, layout, path)?;
    file.close().map_err(e)?;
    Ok(())
}

/// Provenance, lattice and selection, the substrate index and the pillar (height, index)
/// as root attributes.
fn write_root_attributes(file: &H5File, layout: &Layout, path: &Path) -> Result<()> {
    let e = |x| h5err(path, x);
    file.set_attr_string("kind", KIND).map_err(e)?;
    file.set_attr_string("conventions", crate::CONVENTIONS)
        .map_err(e)?;
    file.set_attr_string("t_definition", crate::T_DEFINITION)
        .map_err(e)?;
    file.set_attr_string("version", crate::VERSION).map_err(e)?;
    file.set_attr_string("units", "lengths in micrometres, phases in radians")
        .map_err(e)?;
    file.set_attr_string(
        "lattice",
        &format!("{:?}", layout.settings.lattice).to_lowercase(),
    )
    .map_err(e)?;
    let sel = match layout.settings.selection {
        Selection::ComplexError => "complex-error",
        Selection::NearestPhase => "nearest-phase",
    };
    file.set_attr_string("selection", sel).map_err(e)?;
    file.set_attr_string(
        "incidence_index",
        &format!("{}", layout.settings.incidence_index),
    )
    .map_err(e)?;
    if let Some(p) = layout.settings.pillar {
        file.set_attr_string("pillar_height_um", &format!("{}", p.height))
            .map_err(e)?;
        file.set_attr_string("pillar_index_re", &format!("{}", p.index.re))
            .map_err(e)?;
        file.set_attr_string("pillar_index_im", &format!("{}", p.index.im))
            .map_err(e)?;
    }
    file.set_attr_string("library_notes", &layout.table.notes.join("; "))
        .map_err(e)?;
    Ok(())
}

/// `lens/<name>`: the lens record and the target's amplitude and phase offset ([`LENS_KEYS`]).
fn write_lens_group(file: &H5File, layout: &Layout, path: &Path) -> Result<()> {
    let e = |x| h5err(path, x);
    let lens = file.create_group("lens").map_err(e)?;
    let l = &layout.lens;
    let values = [
        l.wavelength_um,
        l.focal_length_um,
        l.numerical_aperture(),
        l.n_exit,
        l.diameter_um,
        layout.settings.pitch,
        layout.amplitude,
        layout.phase_offset,
    ];
    for (k, v) in LENS_KEYS.iter().zip(values) {
        let ds = lens
            .new_dataset::<f64>()
            .shape([1usize])
            .create(k)
            .map_err(e)?;
        ds.write_raw(&[v]).map_err(e)?;
    }
    Ok(())
}

/// `cells/`: the cells available (radius, t for x and y) and how often each is used.
fn write_cells_group(file: &H5File, layout: &Layout, path: &Path) -> Result<()> {
    let e = |x| h5err(path, x);
    let cells = file.create_group("cells").map_err(e)?;
    let nc = layout.table.cells.len();
    let radius: Vec<f64> = layout.table.cells.iter().map(|c| c.radius).collect();
    let t: Vec<rust_hdf5::types::Complex64> = layout
        .table
        .cells
        .iter()
        .flat_map(|c| [cplx(c.t[0]), cplx(c.t[1])])
        .collect();
    let mut counts = vec![0u64; nc];
    for row in &layout.rows {
        for &k in &row.cells {
            counts[k as usize] += 1;
        }
    }
    cells
        .new_dataset::<f64>()
        .shape([nc])
        .create("radius")
        .map_err(e)?
        .write_raw(&radius)
        .map_err(e)?;
    cells
        .new_dataset::<rust_hdf5::types::Complex64>()
        .shape([nc, 2])
        .create("t")
        .map_err(e)?
        .write_raw(&t)
        .map_err(e)?;
    cells
        .new_dataset::<u64>()
        .shape([nc])
        .create("count")
        .map_err(e)?
        .write_raw(&counts)
        .map_err(e)?;
    Ok(())
}

/// `pillars/`: centre, radius, target and achieved t of every pillar, written in slices of
/// [`SLICE`] pillars.
fn write_pillars(file: &H5File, layout: &Layout, path: &Path) -> Result<()> {
    let e = |x| h5err(path, x);
    let n = layout.pillar_count() as usize;
    let g = file.create_group("pillars").map_err(e)?;
    let ds_c = g
        .new_dataset::<f64>()
        .shape([n, 2])
        .create("center")
        .map_err(e)?;
    let ds_r = g
        .new_dataset::<f64>()
        .shape([n])
        .create("radius")
        .map_err(e)?;
    let ds_tt = g
        .new_dataset::<rust_hdf5::types::Complex64>()
        .shape([n, 2])
        .create("t_target")
        .map_err(e)?;
    let ds_ta = g
        .new_dataset::<rust_hdf5::types::Complex64>()
        .shape([n, 2])
        .create("t_achieved")
        .map_err(e)?;
    let mut start = 0usize;
    let mut buf_c = Vec::with_capacity(2 * SLICE.min(n));
    let mut buf_r = Vec::with_capacity(SLICE.min(n));
    let mut buf_tt = Vec::with_capacity(2 * SLICE.min(n));
    let mut buf_ta = Vec::with_capacity(2 * SLICE.min(n));
    let flush = |bc: &mut Vec<f64>,
                 br: &mut Vec<f64>,
                 btt: &mut Vec<rust_hdf5::types::Complex64>,
                 bta: &mut Vec<rust_hdf5::types::Complex64>,
                 start: &mut usize|
     -> Result<()> {
        let m = br.len();
        if m == 0 {
            return Ok(());
        }
        ds_c.write_slice(&[*start, 0], &[m, 2], bc).map_err(e)?;
        ds_r.write_slice(&[*start], &[m], br).map_err(e)?;
        ds_tt.write_slice(&[*start, 0], &[m, 2], btt).map_err(e)?;
        ds_ta.write_slice(&[*start, 0], &[m, 2], bta).map_err(e)?;
        *start += m;
        bc.clear();
        br.clear();
        btt.clear();
        bta.clear();
        Ok(())
    };
    for p in layout.pillars() {
        let c = &layout.table.cells[p.cell as usize];
        let tt = cplx(layout.target(p.x, p.y));
        buf_c.extend_from_slice(&[p.x, p.y]);
        buf_r.push(c.radius);
        buf_tt.extend_from_slice(&[tt, tt]);
        buf_ta.extend_from_slice(&[cplx(c.t[0]), cplx(c.t[1])]);
        if buf_r.len() == SLICE {
            flush(&mut buf_c, &mut buf_r, &mut buf_tt, &mut buf_ta, &mut start)?;
        }
    }
    flush(&mut buf_c, &mut buf_r, &mut buf_tt, &mut buf_ta, &mut start)?;
    Ok(())
}

/// A layout read back from its HDF5 file.
#[derive(Clone, Debug)]
pub struct LayoutFile {
    pub lens: Lens,
    pub lattice: LatticeKind,
    /// Lattice pitch (µm).
    pub pitch: f64,
    /// Common amplitude a and global phase offset φ₀ (rad) of the target.
    pub amplitude: f64,
    pub phase_offset: f64,
    /// Pillar centres (µm).
    pub centers: Vec<[f64; 2]>,
    /// Pillar radii (µm).
    pub radii: Vec<f64>,
    /// Target and achieved t per pillar for x and y polarisation.
    pub t_target: Vec<[C64; 2]>,
    pub t_achieved: Vec<[C64; 2]>,
    /// Refractive index of the incidence medium (substrate), when the file records it.
    pub incidence_index: Option<f64>,
    /// Pillar height and index, when the file records them (layouts written before this
    /// field existed do not).
    pub pillar: Option<PillarSpec>,
    /// Provenance attributes.
    pub conventions: String,
    pub version: String,
}

/// The `conventions` and `version` attributes and the lattice of a layout file, refused
/// when it is not a layout file or uses other conventions.
fn read_provenance(file: &H5File, path: &Path) -> Result<(String, String, LatticeKind)> {
    let e = |x| h5err(path, x);
    let kind = file.attr_string("kind").unwrap_or_default();
    if kind != KIND {
        return Err(Error::format(
            path,
            format!("not a metalens layout file (kind attribute '{kind}', expected '{KIND}')"),
        ));
    }
    let conventions = file.attr_string("conventions").map_err(e)?;
    if conventions != crate::CONVENTIONS {
        return Err(Error::format(
            path,
            "written with other conventions than this version of metalens",
        ));
    }
    let version = file.attr_string("version").map_err(e)?;
    let lattice = match file.attr_string("lattice").map_err(e)?.as_str() {
        "square" => LatticeKind::Square,
        "hex" => LatticeKind::Hex,
        other => return Err(Error::format(path, format!("unknown lattice '{other}'"))),
    };
    Ok((conventions, version, lattice))
}

/// The values of `lens/<name>` in the order of [`LENS_KEYS`].
fn read_lens_values(file: &H5File, path: &Path) -> Result<[f64; 8]> {
    let e = |x| h5err(path, x);
    let mut v = [0.0; 8];
    for (k, name) in LENS_KEYS.iter().enumerate() {
        let d = file
            .dataset(&format!("lens/{name}"))
            .map_err(e)?
            .read_raw::<f64>()
            .map_err(e)?;
        v[k] = *d
            .first()
            .ok_or_else(|| Error::format(path, format!("empty lens/{name}")))?;
    }
    Ok(v)
}

/// The pillar height and index, when the file records all three attributes.
fn read_pillar_spec(file: &H5File) -> Option<PillarSpec> {
    let attr_f64 = |name: &str| {
        file.attr_string(name)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (
        attr_f64("pillar_height_um"),
        attr_f64("pillar_index_re"),
        attr_f64("pillar_index_im"),
    ) {
        (Some(height), Some(re), Some(im)) => Some(PillarSpec {
            height,
            index: C64::new(re, im),
        }),
        _ => None,
    }
}

impl LayoutFile {
    /// Read a layout file written by `metalens layout`.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let e = |x| h5err(path, x);
        let file = H5File::open(path)
            .map_err(|x| Error::format(path, format!("not an HDF5 file ({x})")))?;
        let (conventions, version, lattice) = read_provenance(&file, path)?;
        let v = read_lens_values(&file, path)?;
        let lens = Lens::new(v[0], v[1], v[3], v[4])?;
        let centers_flat = file
            .dataset("pillars/center")
            .map_err(e)?
            .read_raw::<f64>()
            .map_err(e)?;
        let radii = file
            .dataset("pillars/radius")
            .map_err(e)?
            .read_raw::<f64>()
            .map_err(e)?;
        let pairs = |name: &str| -> Result<Vec<[C64; 2]>> {
            let raw = file
                .dataset(name)
                .map_err(e)?
                .read_raw::<rust_hdf5::types::Complex64>()
                .map_err(e)?;
            Ok(raw
                .chunks_exact(2)
                .map(|c| [C64::new(c[0].re, c[0].im), C64::new(c[1].re, c[1].im)])
                .collect())
        };
        let t_target = pairs("pillars/t_target")?;
        let t_achieved = pairs("pillars/t_achieved")?;
        let centers: Vec<[f64; 2]> = centers_flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
        let n = radii.len();
        if centers.len() != n || t_target.len() != n || t_achieved.len() != n {
            return Err(Error::format(
                path,
                "pillar datasets have different lengths",
            ));
        }
        let incidence_index = file
            .attr_string("incidence_index")
            .ok()
            .and_then(|v| v.parse::<f64>().ok());
        // the lens record carries the substrate index when the file gives a usable one
        let lens = match incidence_index.filter(|n| n.is_finite() && *n > 0.0) {
            Some(n) => lens.with_incidence(n)?,
            None => lens,
        };
        let pillar = read_pillar_spec(&file);
        if !(v[5].is_finite() && v[5] > 0.0) {
            return Err(Error::format(
                path,
                format!("pitch {} µm is not a length > 0", v[5]),
            ));
        }
        let record = LayoutFile {
            lens,
            pillar,
            lattice,
            incidence_index,
            pitch: v[5],
            amplitude: v[6],
            phase_offset: v[7],
            centers,
            radii,
            t_target,
            t_achieved,
            conventions,
            version,
        };
        record.check_pillars(path)?;
        Ok(record)
    }

    /// The record of `layout` as [`write_layout`] writes it to `path` and [`LayoutFile::load`]
    /// reads it back (same numbers, same checks), without the round trip through the file.
    pub fn of_layout(layout: &Layout, path: &Path) -> Result<Self> {
        let n = layout.pillar_count() as usize;
        let mut record = LayoutFile {
            lens: Lens::new(
                layout.lens.wavelength_um,
                layout.lens.focal_length_um,
                layout.lens.n_exit,
                layout.lens.diameter_um,
            )?
            .with_incidence(layout.settings.incidence_index)?,
            lattice: layout.settings.lattice,
            pitch: layout.settings.pitch,
            amplitude: layout.amplitude,
            phase_offset: layout.phase_offset,
            centers: Vec::with_capacity(n),
            radii: Vec::with_capacity(n),
            t_target: Vec::with_capacity(n),
            t_achieved: Vec::with_capacity(n),
            incidence_index: Some(layout.settings.incidence_index),
            pillar: layout.settings.pillar,
            conventions: crate::CONVENTIONS.to_string(),
            version: crate::VERSION.to_string(),
        };
        for p in layout.pillars() {
            let c = &layout.table.cells[p.cell as usize];
            let tt = layout.target(p.x, p.y);
            record.centers.push([p.x, p.y]);
            record.radii.push(c.radius);
            record.t_target.push([tt, tt]);
            record.t_achieved.push(c.t);
        }
        record.check_pillars(path)?;
        Ok(record)
    }

    /// Every pillar finite, inside its cell and passive (a file edited by hand fails here).
    fn check_pillars(&self, path: &Path) -> Result<()> {
        let (centers, radii, t_achieved) = (&self.centers, &self.radii, &self.t_achieved);
        let n = radii.len();
        let pitch = self.pitch;
        let n_ratio = self
            .incidence_index
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(|ni| self.lens.n_exit / ni);
        for i in 0..n {
            let (c, r, t) = (centers[i], radii[i], t_achieved[i]);
            let finite = c.iter().all(|x| x.is_finite())
                && r.is_finite()
                && t.iter().all(|z| z.re.is_finite() && z.im.is_finite());
            let at = || {
                format!(
                    "pillar {i} at ({}, {}) µm, radius {r} µm, pitch {} µm",
                    c[0], c[1], pitch
                )
            };
            if !finite {
                return Err(Error::format(
                    path,
                    format!(
                        "{}: non-finite value (the file was edited or is corrupt)",
                        at()
                    ),
                ));
            }
            if !(0.0..0.5 * pitch).contains(&r) {
                return Err(Error::format(
                    path,
                    format!("{}: the radius is outside [0, pitch/2) (the file was edited or is corrupt)", at()),
                ));
            }
            // a passive cell's zeroth order carries at most the incident power (1e-3: rounding
            // of the interpolation, far below any edit that matters)
            if let Some(q) = n_ratio {
                for z in t {
                    if q * z.norm_sqr() > 1.0 + 1e-3 {
                        return Err(Error::format(
                            path,
                            format!(
                                "{}: n_exit/n_inc·|t|² = {:.4} exceeds 1, more power than a passive cell transmits (the file was edited or is corrupt)",
                                at(),
                                q * z.norm_sqr()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl LayoutFile {
    /// The lens as the 3-D FDTD solves it ([`crate::fdtd::lens`]); `pillar` overrides (or
    /// supplies, for older files) the pillar height and index.
    pub fn lens_problem(&self, pillar: Option<PillarSpec>) -> Result<LensProblem> {
        let lf = self;
        let spec = pillar.or(lf.pillar).ok_or_else(|| {
            Error::invalid(
                "layout",
                "no pillar height/index recorded",
                "layout files written before the pillar record lack them: give the pillar height and index (e.g. --pillar-height 1.0 --pillar-index 2.74) or re-run `metalens layout`",
            )
        })?;
        let n_inc = lf.incidence_index.ok_or_else(|| {
            Error::invalid(
                "layout",
                "no incidence index recorded",
                "re-run `metalens layout` (the file must record the substrate index)",
            )
        })?;
        let l = &lf.lens;
        Ok(LensProblem {
            wavelength_um: l.wavelength_um,
            na: l.numerical_aperture(),
            diameter_um: l.diameter_um,
            n_incident: n_inc,
            n_exit: l.n_exit,
            pillar_height_um: spec.height,
            pillar_index: crate::fdtd::real_index("pillar index", spec.index)?,
            pitch_um: lf.pitch,
            centers: lf.centers.clone(),
            radii: lf.radii.clone(),
            polarizations: vec![crate::nearfield::Polarization::X],
            aperture: Aperture::Opaque,
        })
    }
}
