//! Optical materials: `Material::index(wavelength_um)` → complex refractive index n + ik
//! (Im n ≥ 0 is loss under exp(−iωt)).
//!
//! Models: a constant index, a tabulated n,k (linear interpolation, an error outside the
//! table), and the Sellmeier formula. This module reads no files: the n,k tables and
//! refractiveindex.info formulas come from `crate::io::material_file`, which also turns a
//! material specification (preset | complex index | file path) into a [`Material`]. Presets:
//!
//! - `sio2`: fused silica, Sellmeier coefficients of I. H. Malitson, "Interspecimen comparison
//!   of the refractive index of fused silica", JOSA 55, 1205 (1965), valid 0.21–3.71 µm
//!   (n = 1.4570 at 0.633 µm, 1.4553 at 0.685 µm).
//! - `srn`: silicon-rich nitride, a constant n = 2.74, k = 0: the value at 0.685 µm reported by
//!   the reference study's group for their PECVD SRN (Opt. Mater. Express 9, 1200 (2019)).
//!   No dispersion data are published with it, so the preset is only meaningful near 0.685 µm;
//!   give a tabulated file or `--pillar-index` for other wavelengths. Loss is a parameter
//!   (`2.74+0.01i`), zero by default.
//! - `air` / `vacuum`: n = 1.

use crate::{Error, Result, C64};

mod parse;
pub use parse::parse_complex;

/// An optical material.
#[derive(Clone, Debug, PartialEq)]
pub enum Material {
    /// Wavelength-independent complex refractive index.
    Constant(C64),
    /// Tabulated n and k against wavelength (µm, ascending), linearly interpolated.
    Tabulated {
        name: String,
        wavelength_um: Vec<f64>,
        n: Vec<f64>,
        k: Vec<f64>,
    },
    /// Sellmeier formula n² = 1 + Σ B_i λ² / (λ² − C_i), λ and √C_i in µm, valid in [min, max] µm.
    Sellmeier {
        name: String,
        b: Vec<f64>,
        c_um2: Vec<f64>,
        range_um: (f64, f64),
    },
}

impl Material {
    /// Fused silica (Malitson 1965).
    pub fn sio2() -> Self {
        Material::Sellmeier {
            name: "SiO2 (Malitson 1965)".into(),
            b: vec![0.696_166_3, 0.407_942_6, 0.897_479_4],
            c_um2: vec![
                0.068_404_3_f64.powi(2),
                0.116_241_4_f64.powi(2),
                9.896_161_f64.powi(2),
            ],
            range_um: (0.21, 3.71),
        }
    }

    /// Silicon-rich nitride, n = 2.74 (see the module docs for the source and its limits).
    pub fn srn() -> Self {
        Material::Constant(C64::new(2.74, 0.0))
    }

    /// Vacuum / air, n = 1.
    pub fn air() -> Self {
        Material::Constant(C64::new(1.0, 0.0))
    }

    /// A constant index, checked: finite, Re n > 0, Im n ≥ 0.
    pub fn constant(n: C64) -> Result<Self> {
        check_index("refractive index", n)?;
        Ok(Material::Constant(n))
    }

    /// The preset called `name` (any case, surrounding blanks ignored): `sio2` (also
    /// `silica`, `glass`, `fused-silica`), `srn`, `air` / `vacuum`; None for any other name.
    pub fn preset(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sio2" | "silica" | "glass" | "fused-silica" => Some(Material::sio2()),
            "srn" => Some(Material::srn()),
            "air" | "vacuum" => Some(Material::air()),
            _ => None,
        }
    }

    /// A short human-readable name.
    pub fn name(&self) -> String {
        match self {
            Material::Constant(n) => format_complex(*n),
            Material::Tabulated { name, .. } | Material::Sellmeier { name, .. } => name.clone(),
        }
    }

    /// Complex refractive index at `wavelength_um`.
    pub fn index(&self, wavelength_um: f64) -> Result<C64> {
        crate::error::check_positive("wavelength", wavelength_um, "µm")?;
        let n = match self {
            Material::Constant(n) => *n,
            Material::Tabulated {
                name,
                wavelength_um: w,
                n,
                k,
            } => {
                let (lo, hi) = (w[0], w[w.len() - 1]);
                if wavelength_um < lo || wavelength_um > hi {
                    return Err(Error::invalid(
                        "wavelength",
                        format!("{wavelength_um} µm"),
                        format!("outside the table of {name} ({lo}–{hi} µm)"),
                    ));
                }
                let i = w
                    .partition_point(|&x| x <= wavelength_um)
                    .clamp(1, w.len() - 1);
                let s = (wavelength_um - w[i - 1]) / (w[i] - w[i - 1]);
                C64::new(
                    n[i - 1] + s * (n[i] - n[i - 1]),
                    k[i - 1] + s * (k[i] - k[i - 1]),
                )
            }
            Material::Sellmeier {
                name,
                b,
                c_um2,
                range_um,
            } => {
                if wavelength_um < range_um.0 || wavelength_um > range_um.1 {
                    return Err(Error::invalid(
                        "wavelength",
                        format!("{wavelength_um} µm"),
                        format!(
                            "outside the validity range of {name} ({}–{} µm)",
                            range_um.0, range_um.1
                        ),
                    ));
                }
                let l2 = wavelength_um * wavelength_um;
                let n2 = 1.0
                    + b.iter()
                        .zip(c_um2)
                        .map(|(b, c)| b * l2 / (l2 - c))
                        .sum::<f64>();
                C64::new(n2.sqrt(), 0.0)
            }
        };
        check_index(&format!("refractive index of {}", self.name()), n)?;
        Ok(n)
    }

    /// Relative permittivity ε = n² at `wavelength_um`.
    pub fn permittivity(&self, wavelength_um: f64) -> Result<C64> {
        let n = self.index(wavelength_um)?;
        Ok(n * n)
    }
}

/// A complex refractive index must be finite with Re n > 0 and Im n ≥ 0 (no gain).
pub fn check_index(name: &str, n: C64) -> Result<()> {
    if !n.re.is_finite() || !n.im.is_finite() {
        return Err(Error::invalid(name, format_complex(n), "must be finite"));
    }
    if n.re <= 0.0 {
        return Err(Error::invalid(
            name,
            format_complex(n),
            "real part must be > 0",
        ));
    }
    if n.im < 0.0 {
        return Err(Error::invalid(
            name,
            format_complex(n),
            "imaginary part must be >= 0 (loss is Im n > 0 under exp(-i omega t); gain is not supported)",
        ));
    }
    Ok(())
}

/// Render a complex number as `a+bi`.
pub fn format_complex(z: C64) -> String {
    if z.im == 0.0 {
        format!("{}", z.re)
    } else if z.im < 0.0 {
        format!("{}-{}i", z.re, -z.im)
    } else {
        format!("{}+{}i", z.re, z.im)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silica_matches_malitson_table() {
        // Malitson (1965) Table: n = 1.45702 at 0.6328 µm; the formula reproduces the
        // measured points to ~1e-5, so that is the tolerance.
        let n = Material::sio2().index(0.6328).unwrap();
        assert!((n.re - 1.45702).abs() < 2e-5, "{n}");
    }

    #[test]
    fn presets_by_name() {
        assert_eq!(Material::preset(" SRN "), Some(Material::srn()));
        assert_eq!(Material::preset("fused-silica"), Some(Material::sio2()));
        assert_eq!(Material::preset("vacuum"), Some(Material::air()));
        assert_eq!(Material::preset("2.74"), None);
        assert_eq!(Material::preset("srn.csv"), None);
    }

    #[test]
    fn sellmeier_refuses_outside_range() {
        let e = Material::sio2().index(5.0).unwrap_err().to_string();
        assert!(e.contains("5 µm") && e.contains("0.21"), "{e}");
    }
}
