//! Parsing of complex numbers and n,k files (CSV, refractiveindex.info YAML).

use super::Material;
use crate::{Error, Result, C64};
use std::path::Path;

/// Parse `a`, `a+bi`, `a-bi`, `bi` (also with `j`). Returns Err(()) on malformed input; the
/// caller words the error, since it knows which parameter was meant.
#[allow(clippy::result_unit_err)]
pub fn parse_complex(s: &str) -> std::result::Result<C64, ()> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err(());
    }
    let num = |t: &str| -> std::result::Result<f64, ()> {
        let v: f64 = t.parse().map_err(|_| ())?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(())
        }
    };
    if let Some(body) = s.strip_suffix('i').or_else(|| s.strip_suffix('j')) {
        // find the split between real and imaginary parts: last + or - not after an exponent 'e'
        let bytes = body.as_bytes();
        let mut split = None;
        for i in (1..bytes.len()).rev() {
            if (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
                split = Some(i);
                break;
            }
        }
        return match split {
            Some(i) => {
                let im_s = &body[i..];
                let im = if im_s == "+" || im_s == "-" {
                    num(&format!("{im_s}1"))?
                } else {
                    num(im_s)?
                };
                Ok(C64::new(num(&body[..i])?, im))
            }
            None => Ok(C64::new(
                0.0,
                if body.is_empty() { 1.0 } else { num(body)? },
            )),
        };
    }
    Ok(C64::new(num(&s)?, 0.0))
}

/// Load a tabulated material from a CSV (`wavelength_um,n[,k]`, `#` comments and one optional
/// header line) or a refractiveindex.info YAML file (`tabulated nk`, `tabulated n`,
/// `formula 1` Sellmeier).
pub fn load_file(path: &Path) -> Result<Material> {
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
        return tabulated(path, name, rows);
    }
    // refractiveindex.info YAML: a DATA list with `type:` and either `data: |` rows or
    // `coefficients:`/`wavelength_range:` for formula 1.
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
        Some("formula 1") => {
            let c = coeffs.ok_or_else(|| Error::format(path, "formula 1 without coefficients"))?;
            if c.len() < 3 || c.len() % 2 == 0 {
                return Err(Error::format(path, "formula 1 needs 1 + 2m coefficients"));
            }
            if c[0] != 0.0 {
                return Err(Error::format(path, "formula 1 with a non-zero constant term is not supported"));
            }
            let (b, cc): (Vec<f64>, Vec<f64>) = c[1..].chunks(2).map(|p| (p[0], p[1] * p[1])).unzip();
            Ok(Material::Sellmeier { name, b, c_um2: cc, range_um: range.unwrap_or((0.0, f64::INFINITY)) })
        }
        Some(k) => Err(Error::format(path, format!("refractiveindex.info type '{k}' is not supported (tabulated nk, tabulated n, formula 1 are)"))),
        None => Err(Error::format(path, "no DATA type found; not a refractiveindex.info file")),
    }
}

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

    #[test]
    fn complex_forms() {
        assert_eq!(parse_complex("2.74+0.01i"), Ok(C64::new(2.74, 0.01)));
        assert_eq!(parse_complex("1e-3-2e-2j"), Ok(C64::new(1e-3, -2e-2)));
        assert_eq!(parse_complex("1.5e+1"), Ok(C64::new(15.0, 0.0)));
        assert_eq!(parse_complex("3i"), Ok(C64::new(0.0, 3.0)));
        assert!(parse_complex("1+").is_err());
        assert!(parse_complex("inf").is_err());
    }

    #[test]
    fn csv_and_yaml_tables() {
        let dir = std::env::temp_dir().join(format!("metalens-mat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("x.csv");
        std::fs::write(&csv, "wavelength_um,n,k\n0.6,2.0,0.0\n0.7,2.2,0.02\n").unwrap();
        let m = Material::parse(csv.to_str().unwrap()).unwrap();
        let n = m.index(0.65).unwrap();
        assert!((n.re - 2.1).abs() < 1e-12 && (n.im - 0.01).abs() < 1e-12);
        assert!(m.index(0.8).is_err());
        let yml = dir.join("y.yml");
        std::fs::write(&yml, "REFERENCES: x\nDATA:\n  - type: tabulated nk\n    data: |\n        0.5 1.5 0\n        0.9 1.9 0.1\n").unwrap();
        let n = Material::parse(yml.to_str().unwrap())
            .unwrap()
            .index(0.7)
            .unwrap();
        assert!((n.re - 1.7).abs() < 1e-12 && (n.im - 0.05).abs() < 1e-12);
        let f1 = dir.join("s.yml");
        std::fs::write(&f1, "DATA:\n  - type: formula 1\n    wavelength_range: 0.21 6.7\n    coefficients: 0 0.6961663 0.0684043 0.4079426 0.1162414 0.8974794 9.896161\n").unwrap();
        let a = Material::parse(f1.to_str().unwrap())
            .unwrap()
            .index(0.633)
            .unwrap();
        let b = Material::sio2().index(0.633).unwrap();
        assert!((a - b).norm() < 1e-12);
    }
}
