//! Material specifications and n,k files: [`resolve_material`] turns the text a design file,
//! a cell file or a flag gives for a material (a preset, a complex index or the path of a
//! table) into a [`Material`]; [`load_material_file`] reads the tables: a CSV
//! (`wavelength_um,n[,k]`) or a refractiveindex.info YAML file (`tabulated nk`, `tabulated n`,
//! `formula 1` Sellmeier). The material stage itself reads no files.

use crate::material::{parse_complex, Material};
use crate::{Error, Result};
use std::path::Path;

/// The material a specification names: a preset ([`Material::preset`]: `sio2`, `srn`, `air`,
/// `vacuum`), a path to a `.csv` or `.yml`/`.yaml` n,k file ([`load_material_file`]), or a
/// complex index (`2.74`, `2.74+0.01i`; checked by [`Material::constant`]).
pub fn resolve_material(spec: &str) -> Result<Material> {
    let s = spec.trim();
    if let Some(m) = Material::preset(s) {
        return Ok(m);
    }
    if names_table_file(s) {
        return load_material_file(Path::new(s));
    }
    let n = parse_complex(s).map_err(|_| {
        Error::invalid(
            "material",
            format!("'{s}'"),
            "expected sio2, srn, air, a complex index like 2.74+0.01i, or a .csv/.yml n,k file",
        )
    })?;
    Material::constant(n)
}

/// Whether a specification names an n,k file (by its extension, any case).
fn names_table_file(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.ends_with(".csv") || lower.ends_with(".yml") || lower.ends_with(".yaml")
}

/// Load a tabulated material from a CSV (`wavelength_um,n[,k]`, `#` comments and one optional
/// header line) or a refractiveindex.info YAML file (`tabulated nk`, `tabulated n`,
/// `formula 1` Sellmeier). The material is named after the file's stem.
pub fn load_material_file(path: &Path) -> Result<Material> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "csv" {
        parse_csv(path, name, &text)
    } else {
        parse_refractiveindex_yaml(path, name, &text)
    }
}

/// The rows `wavelength_um,n[,k]` of a CSV table (also `;` or tab separated; k = 0 when
/// absent); `path` names the file in errors.
fn parse_csv(path: &Path, name: String, text: &str) -> Result<Material> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = l.split([',', ';', '\t']).map(str::trim).collect();
        let parsed: std::result::Result<Vec<f64>, _> =
            cols.iter().map(|c| c.parse::<f64>()).collect();
        match parsed {
            Ok(v) if v.len() >= 2 => rows.push((v[0], v[1], v.get(2).copied().unwrap_or(0.0))),
            _ if rows.is_empty() && i == 0 => continue, // header line
            _ => {
                return Err(Error::format(
                    path,
                    format!("line {}: expected wavelength_um,n[,k], got '{l}'", i + 1),
                ))
            }
        }
    }
    tabulated(path, name, rows)
}

/// A refractiveindex.info YAML file: the first entry of its DATA list, with `type:` and either
/// `data: |` rows (`tabulated nk`, `tabulated n`) or `coefficients:` and `wavelength_range:`
/// (`formula 1`, Sellmeier).
fn parse_refractiveindex_yaml(path: &Path, name: String, text: &str) -> Result<Material> {
    let mut kind = None;
    let mut rows = Vec::new();
    let mut coeffs = None;
    let mut range = None;
    let mut in_data = false;
    for line in text.lines() {
        let l = line.trim();
        if let Some(t) = l
            .strip_prefix("- type:")
            .or_else(|| l.strip_prefix("type:"))
        {
            if kind.is_some() {
                break; // only the first DATA block
            }
            kind = Some(t.trim().to_string());
            in_data = false;
            continue;
        }
        if l.starts_with("data:") {
            in_data = true;
            continue;
        }
        if let Some(c) = l.strip_prefix("coefficients:") {
            coeffs = Some(
                c.split_whitespace()
                    .map(|v| v.parse::<f64>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| Error::format(path, format!("bad coefficients '{c}'")))?,
            );
            in_data = false;
            continue;
        }
        if let Some(c) = l.strip_prefix("wavelength_range:") {
            let v: Vec<f64> = c
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            if v.len() == 2 {
                range = Some((v[0], v[1]));
            }
            in_data = false;
            continue;
        }
        if in_data {
            let v: std::result::Result<Vec<f64>, _> =
                l.split_whitespace().map(|c| c.parse::<f64>()).collect();
            match v {
                Ok(v) if v.len() >= 2 => rows.push((v[0], v[1], v.get(2).copied().unwrap_or(0.0))),
                _ => in_data = false,
            }
        }
    }
    match kind.as_deref() {
        Some("tabulated nk") | Some("tabulated n") => tabulated(path, name, rows),
        Some("formula 1") => sellmeier_formula_1(path, name, coeffs, range),
        Some(k) => Err(Error::format(path, format!("refractiveindex.info type '{k}' is not supported (tabulated nk, tabulated n, formula 1 are)"))),
        None => Err(Error::format(path, "no DATA type found; not a refractiveindex.info file")),
    }
}

/// refractiveindex.info `formula 1`: n² − 1 = C0 + Σ B_i λ² / (λ² − C_i²), coefficients
/// `C0 B1 C1 B2 C2 …` (only C0 = 0 is supported), valid over `range` (µm; unbounded when the
/// file gives none).
fn sellmeier_formula_1(
    path: &Path,
    name: String,
    coeffs: Option<Vec<f64>>,
    range: Option<(f64, f64)>,
) -> Result<Material> {
    let c = coeffs.ok_or_else(|| Error::format(path, "formula 1 without coefficients"))?;
    if c.len() < 3 || c.len() % 2 == 0 {
        return Err(Error::format(path, "formula 1 needs 1 + 2m coefficients"));
    }
    if c[0] != 0.0 {
        return Err(Error::format(
            path,
            "formula 1 with a non-zero constant term is not supported",
        ));
    }
    let (b, c_um2): (Vec<f64>, Vec<f64>) = c[1..].chunks(2).map(|p| (p[0], p[1] * p[1])).unzip();
    Ok(Material::Sellmeier {
        name,
        b,
        c_um2,
        range_um: range.unwrap_or((0.0, f64::INFINITY)),
    })
}

/// A [`Material::Tabulated`] of `(wavelength_um, n, k)` rows, sorted by wavelength; refused
/// with fewer than two rows, a repeated wavelength, or a row with wavelength ≤ 0, n ≤ 0 or
/// k < 0.
fn tabulated(path: &Path, name: String, mut rows: Vec<(f64, f64, f64)>) -> Result<Material> {
    if rows.len() < 2 {
        return Err(Error::format(
            path,
            "a table needs at least two wavelengths",
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::format(
                path,
                format!("wavelength {} µm appears twice", w[0].0),
            ));
        }
    }
    for r in &rows {
        let ok = r.0.is_finite() && r.0 > 0.0 && r.1 > 0.0 && r.2 >= 0.0;
        if !ok {
            return Err(Error::format(
                path,
                format!(
                    "row {} {} {}: need wavelength > 0, n > 0, k >= 0",
                    r.0, r.1, r.2
                ),
            ));
        }
    }
    Ok(Material::Tabulated {
        name,
        wavelength_um: rows.iter().map(|r| r.0).collect(),
        n: rows.iter().map(|r| r.1).collect(),
        k: rows.iter().map(|r| r.2).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::C64;

    #[test]
    fn presets_and_complex_specs_parse() {
        assert_eq!(
            resolve_material("srn").unwrap().index(0.685).unwrap(),
            C64::new(2.74, 0.0)
        );
        assert_eq!(
            resolve_material("2.74+0.01i").unwrap().index(0.6).unwrap(),
            C64::new(2.74, 0.01)
        );
        assert!(resolve_material("2.74-0.01i")
            .unwrap_err()
            .to_string()
            .contains(">= 0"));
        assert!(resolve_material("2.7x").is_err());
        assert!(resolve_material("nan").is_err());
        // a table that is not there: the error names the path
        let e = resolve_material("/nonexistent/metalens-n-k.csv").unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/metalens-n-k.csv"),
            "{e}"
        );
    }

    #[test]
    fn csv_and_yaml_tables() {
        let dir = std::env::temp_dir().join(format!("metalens-mat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("x.csv");
        std::fs::write(&csv, "wavelength_um,n,k\n0.6,2.0,0.0\n0.7,2.2,0.02\n").unwrap();
        let m = resolve_material(csv.to_str().unwrap()).unwrap();
        let n = m.index(0.65).unwrap();
        assert!((n.re - 2.1).abs() < 1e-12 && (n.im - 0.01).abs() < 1e-12);
        assert!(m.index(0.8).is_err());
        let yml = dir.join("y.yml");
        std::fs::write(&yml, "REFERENCES: x\nDATA:\n  - type: tabulated nk\n    data: |\n        0.5 1.5 0\n        0.9 1.9 0.1\n").unwrap();
        let n = resolve_material(yml.to_str().unwrap())
            .unwrap()
            .index(0.7)
            .unwrap();
        assert!((n.re - 1.7).abs() < 1e-12 && (n.im - 0.05).abs() < 1e-12);
        let f1 = dir.join("s.yml");
        std::fs::write(&f1, "DATA:\n  - type: formula 1\n    wavelength_range: 0.21 6.7\n    coefficients: 0 0.6961663 0.0684043 0.4079426 0.1162414 0.8974794 9.896161\n").unwrap();
        let a = resolve_material(f1.to_str().unwrap())
            .unwrap()
            .index(0.633)
            .unwrap();
        let b = Material::sio2().index(0.633).unwrap();
        assert!((a - b).norm() < 1e-12);
    }
}
