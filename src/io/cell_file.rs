//! The `--cell FILE.toml` format: any lattice, media and layers.
//!
//! ```toml
//! wavelength = 1.0            # µm
//! incidence_medium = "1.0"    # material spec: preset (sio2, srn, air), complex index, or n,k file
//! exit_medium = "2.25"
//! theta_deg = 0.0             # optional
//! phi_deg = 0.0               # optional
//! polarization = "x"          # optional: x, y, s, p or "Ex,Ey"
//! harmonics = 300             # optional
//!
//! [lattice]                   # either kind + pitch, or a1 + a2
//! a1 = [2.5, 0.0]
//! a2 = [0.0, 2.5]
//!
//! [[layers]]
//! thickness = 1.0
//! background = "1.0"
//! [[layers.shapes]]
//! kind = "rectangle"          # circle (radius), ellipse (semi_axes, angle_deg), rectangle (size, angle_deg)
//! center = [0.625, 0.625]
//! size = [1.25, 1.25]
//! material = "1.5"
//! ```
//! Unknown keys are errors.

use crate::cell::{Incidence, Lattice, LatticeKind, Layer, Polarization, Shape, Stack};
use crate::io::material_file::resolve_material;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCell {
    wavelength: f64,
    incidence_medium: String,
    exit_medium: String,
    #[serde(default)]
    theta_deg: f64,
    #[serde(default)]
    phi_deg: f64,
    #[serde(default)]
    polarization: Option<String>,
    #[serde(default)]
    harmonics: Option<usize>,
    lattice: RawLattice,
    #[serde(default)]
    layers: Vec<RawLayer>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawLattice {
    kind: Option<LatticeKind>,
    pitch: Option<f64>,
    a1: Option<[f64; 2]>,
    a2: Option<[f64; 2]>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    thickness: f64,
    background: String,
    #[serde(default)]
    shapes: Vec<RawShape>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawShape {
    kind: String,
    center: [f64; 2],
    radius: Option<f64>,
    semi_axes: Option<[f64; 2]>,
    size: Option<[f64; 2]>,
    #[serde(default)]
    angle_deg: f64,
    material: String,
}

/// A parsed cell file.
#[derive(Clone, Debug)]
pub struct CellFile {
    pub stack: Stack,
    pub incidence: Incidence,
    pub harmonics: Option<usize>,
}

/// Read and validate a cell TOML file.
pub fn load_cell_file(path: &Path) -> Result<CellFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_cell(&text, &path.display().to_string())
}

pub(crate) fn parse_cell(text: &str, origin: &str) -> Result<CellFile> {
    let raw: RawCell = toml::from_str(text).map_err(|e| Error::Parse {
        path: origin.to_string(),
        message: e.message().to_string(),
    })?;
    let lattice = match (
        &raw.lattice.kind,
        raw.lattice.pitch,
        raw.lattice.a1,
        raw.lattice.a2,
    ) {
        (Some(k), Some(p), None, None) => Lattice::of_kind(*k, p)?,
        (None, None, Some(a1), Some(a2)) => Lattice::new(a1, a2)?,
        _ => {
            return Err(Error::Parse {
                path: origin.to_string(),
                message: "[lattice] needs either kind + pitch or a1 + a2".into(),
            })
        }
    };
    let mut layers = Vec::new();
    for l in raw.layers {
        let mut layer = Layer::uniform(l.thickness, resolve_material(&l.background)?);
        for s in l.shapes {
            let angle = s.angle_deg.to_radians();
            let shape = match (s.kind.as_str(), s.radius, s.semi_axes, s.size) {
                ("circle", Some(radius), None, None) => Shape::Circle {
                    center: s.center,
                    radius,
                },
                ("ellipse", None, Some(semi_axes), None) => Shape::Ellipse {
                    center: s.center,
                    semi_axes,
                    angle,
                },
                ("rectangle", None, None, Some(size)) => Shape::Rectangle {
                    center: s.center,
                    size,
                    angle,
                },
                (k, ..) => {
                    return Err(Error::Parse {
                        path: origin.to_string(),
                        message: format!(
                        "shape kind '{k}': circle takes radius, ellipse semi_axes, rectangle size"
                    ),
                    })
                }
            };
            layer.shapes.push((shape, resolve_material(&s.material)?));
        }
        layers.push(layer);
    }
    let stack = Stack {
        lattice,
        incidence: resolve_material(&raw.incidence_medium)?,
        layers,
        exit: resolve_material(&raw.exit_medium)?,
    };
    stack.validate()?;
    let polarization: Polarization = raw.polarization.as_deref().unwrap_or("x").parse()?;
    let incidence = Incidence {
        wavelength: raw.wavelength,
        theta: raw.theta_deg.to_radians(),
        phi: raw.phi_deg.to_radians(),
        polarization,
    };
    incidence.validate()?;
    Ok(CellFile {
        stack,
        incidence,
        harmonics: raw.harmonics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
wavelength = 1.0
incidence_medium = "1.0"
exit_medium = "1.5"
[lattice]
kind = "hex"
pitch = 2.0
[[layers]]
thickness = 1.0
background = "1.0"
[[layers.shapes]]
kind = "circle"
center = [0.0, 0.0]
radius = 0.5
material = "1.6"
"#;

    #[test]
    fn parses_a_hex_cell() {
        let c = parse_cell(GOOD, "t").unwrap();
        assert_eq!(c.stack.layers[0].shapes.len(), 1);
        assert!((c.stack.lattice.a2[1] - 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let e = parse_cell(
            &GOOD.replace("radius = 0.5", "radius = 0.5\ncolour = 1"),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("colour"), "{e}");
    }
}
