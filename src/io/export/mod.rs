//! Script generators for full-wave solvers: a layout file → a Meep (Python), Tidy3D (Python)
//! or Lumerical (.lsf) script that builds the same lens. Text templates filled from an
//! [`ExportLens`]; no solver is linked. The Meep and Tidy3D scripts write (or convert to) the
//! near-field file of [`crate::io::nearfield_file`], which `metalens propagate --near-field`
//! reads.
//!
//! The structure every script builds (lengths in µm, z along the lens axis):
//! substrate (incidence medium) for z < 0, pillars from z = 0 to the pillar height H, exit
//! medium above; the lens surface (pillar tops, the plane distances are measured from) at
//! z = H; with `Outside::Opaque` (the LPA default) a perfect-conductor screen of two grid
//! cells at the substrate top with a hole of the lens diameter; a normally incident plane wave
//! from the substrate; the near-field plane at z = H + plane height.

pub mod lumerical;
pub mod meep;
pub mod tidy3d;

use crate::io::layout_file::LayoutFile;
use crate::layout::PillarSpec;
use crate::nearfield::Polarization;
use crate::{Error, Result, C64};

/// Everything a script needs, taken from a layout file.
#[derive(Clone, Debug)]
pub struct ExportLens {
    pub wavelength_um: f64,
    pub numerical_aperture: f64,
    pub diameter_um: f64,
    pub focal_length_um: f64,
    pub n_exit: f64,
    pub n_incident: f64,
    pub pillar: PillarSpec,
    pub pitch_um: f64,
    /// Pillar centres (µm) and radii (µm).
    pub centers: Vec<[f64; 2]>,
    pub radii: Vec<f64>,
    /// The layout is mirror symmetric about x = 0 (resp. y = 0).
    pub mirror_x: bool,
    pub mirror_y: bool,
}

/// Settings of an export.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    /// Grid points per µm (Meep resolution; Tidy3D and Lumerical mesh step 1/resolution).
    pub resolution: f64,
    /// Height of the near-field plane above the pillar tops, µm.
    pub plane_height_um: f64,
    /// Lateral margin between the lens rim and the absorbing layer, µm.
    pub margin_um: f64,
    /// Thickness of the absorbing layers (PML), µm.
    pub pml_um: f64,
    pub polarization: Polarization,
    /// Opaque screen outside the lens disc (the LPA default) or bare substrate.
    pub opaque_outside: bool,
    /// The layout file the script was made from (recorded in it).
    pub source: String,
}

impl ExportLens {
    /// From a layout file; `pillar` overrides (or supplies, for layouts written before the
    /// pillar was recorded) the pillar height and index.
    pub fn from_layout(l: &LayoutFile, pillar: Option<PillarSpec>) -> Result<Self> {
        let pillar = pillar.or(l.pillar).ok_or_else(|| {
            Error::invalid(
                "layout pillar",
                "not recorded",
                "this layout file predates the pillar record: give --pillar-height and --pillar-index",
            )
        })?;
        crate::error::check_positive("pillar height", pillar.height, "µm")?;
        crate::material::check_index("pillar index", pillar.index)?;
        let n_incident = l.incidence_index.ok_or_else(|| {
            Error::invalid(
                "layout incidence index",
                "not recorded",
                "this layout file predates the substrate record: recreate it with metalens layout",
            )
        })?;
        let key = |x: f64, y: f64, r: f64| {
            // 1e-6 µm: positions are lattice points computed in f64, mirrored exactly up to rounding
            (
                (x * 1e6).round() as i64,
                (y * 1e6).round() as i64,
                (r * 1e6).round() as i64,
            )
        };
        let set: std::collections::HashSet<(i64, i64, i64)> = l
            .centers
            .iter()
            .zip(&l.radii)
            .map(|(c, &r)| key(c[0], c[1], r))
            .collect();
        let mirrored = |sx: f64, sy: f64| {
            l.centers
                .iter()
                .zip(&l.radii)
                .all(|(c, &r)| set.contains(&key(sx * c[0], sy * c[1], r)))
        };
        Ok(ExportLens {
            wavelength_um: l.lens.wavelength_um,
            numerical_aperture: l.lens.numerical_aperture(),
            diameter_um: l.lens.diameter_um,
            focal_length_um: l.lens.focal_length_um,
            n_exit: l.lens.n_exit,
            n_incident,
            pillar,
            pitch_um: l.pitch,
            mirror_x: mirrored(-1.0, 1.0),
            mirror_y: mirrored(1.0, -1.0),
            centers: l.centers.clone(),
            radii: l.radii.clone(),
        })
    }

    /// Lateral size of the simulated region without the absorbing layers, µm (square).
    pub fn inner_width(&self, s: &ExportSettings) -> f64 {
        let extent = self
            .centers
            .iter()
            .zip(&self.radii)
            .map(|(c, r)| c[0].abs().max(c[1].abs()) + r)
            .fold(0.5 * self.diameter_um, f64::max);
        2.0 * (extent + s.margin_um)
    }
}

/// A float with enough digits to round-trip (Rust's shortest representation).
pub(crate) fn num(v: f64) -> String {
    format!("{v:?}")
}

/// Complex index as "re+imj" for Python.
pub(crate) fn py_complex(z: C64) -> String {
    format!("complex({}, {})", num(z.re), num(z.im))
}

/// The pillar centres and radii as two numpy arrays (`CENTERS` [N, 2], `RADII` [N]), µm.
pub(crate) fn py_pillars(lens: &ExportLens) -> String {
    let mut centers = String::new();
    let mut radii = String::new();
    for (k, (c, r)) in lens.centers.iter().zip(&lens.radii).enumerate() {
        centers.push_str(&format!("{}, {}, ", num(c[0]), num(c[1])));
        radii.push_str(&format!("{}, ", num(*r)));
        if k % 4 == 3 {
            centers.push_str("\n    ");
        }
        if k % 8 == 7 {
            radii.push_str("\n    ");
        }
    }
    format!(
        "CENTERS = np.array([\n    {centers}]).reshape(-1, 2)\nRADII = np.array([\n    {radii}])\n"
    )
}

/// The Python writer of the near-field file (h5py), shared by the Meep and Tidy3D scripts; it
/// uses the script's constants CONVENTIONS, POLARIZATION, WAVELENGTH, N_EXIT, N_INCIDENT,
/// NUMERICAL_APERTURE, DIAMETER.
pub(crate) const PY_WRITE_NEAR_FIELD: &str = r#"

def write_near_field(path, x, y, fields, plane_height, version, source):
    """Write the metalens near-field file (docs/near-field-format.md): fields maps Ex, Ey, Hx,
    Hy to 2-D arrays [y, x] for a unit-amplitude incident wave (H as eta0 * H)."""
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["kind"] = "metalens near field"
        f.attrs["format_version"] = "1"
        f.attrs["conventions"] = CONVENTIONS
        f.attrs["units"] = "lengths in micrometres; E in units of the incident plane-wave amplitude; H in units of 1/eta0"
        f.attrs["polarization"] = POLARIZATION
        f.attrs["version"] = version
        f.attrs["source"] = source
        for name, v in (("x", x), ("y", y), ("wavelength", np.array([WAVELENGTH]))):
            f.create_dataset(name, data=np.asarray(v, dtype=np.float64)).attrs["units"] = "um"
        for name in ("Ex", "Ey", "Hx", "Hy"):
            f.create_dataset(name, data=np.asarray(fields[name])[None, :, :].astype(np.complex128))
        f.create_dataset("plane_height", data=np.array([plane_height])).attrs["units"] = "um"
        f.create_dataset("medium_index", data=np.array([N_EXIT]))
        f.create_dataset("incident_index", data=np.array([N_INCIDENT]))
        f.create_dataset("incident_amplitude", data=np.array([1.0]))
        f.create_dataset("lens_numerical_aperture", data=np.array([NUMERICAL_APERTURE]))
        f.create_dataset("lens_diameter", data=np.array([DIAMETER])).attrs["units"] = "um"
    os.replace(tmp, path)
"#;

/// Check the settings.
pub fn check_settings(s: &ExportSettings) -> Result<()> {
    crate::error::check_positive("resolution", s.resolution, "points per µm")?;
    crate::error::check_non_negative("plane height", s.plane_height_um, "µm")?;
    crate::error::check_non_negative("margin", s.margin_um, "µm")?;
    crate::error::check_positive("PML thickness", s.pml_um, "µm")?;
    if !matches!(s.polarization, Polarization::X | Polarization::Y) {
        return Err(Error::invalid(
            "polarization",
            s.polarization.name(),
            "must be x or y for an export (circular: run x and y and combine)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_through_text() {
        for v in [0.1, 1.0 / 3.0, -2.5e-7, 685.0] {
            assert_eq!(num(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(py_complex(C64::new(2.74, 0.0)), "complex(2.74, 0.0)");
    }
}
