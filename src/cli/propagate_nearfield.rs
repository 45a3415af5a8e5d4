//! `metalens propagate --near-field FILE.h5 [--layout LAYOUT.h5]` and `--save-near-field`:
//! a near field from a file (this tool's, Meep's, Tidy3D's) through the same propagation and
//! metrics, with the layout's LPA result and the ideal lens beside it.

use super::propagate::{document, layout_near_field, layout_spec, options, summary, Args};
use crate::io::nearfield_file::{LensInfo, NearFieldFile};
use crate::lens::Lens;
use crate::metrics::pipeline::{run_designed, run_field_plane_with_ideal};
use crate::nearfield::{FieldPlane, NearField, Polarization};
use crate::{Error, Result};
use std::path::Path;

/// Write the LPA (or ideal) near field `nf` for polarisation `pol` as a near-field file at the
/// lens surface.
pub fn save(
    path: &Path,
    nf: &NearField,
    spec: &Lens,
    pol: Polarization,
    source: &str,
) -> Result<()> {
    let fp = FieldPlane::from_transmission(nf, pol, spec.wavelength_um, spec.n_exit);
    NearFieldFile::from_plane(&fp, spec.n_incident, Some(lens_info(spec)), source).write(path)
}

fn lens_info(spec: &Lens) -> LensInfo {
    LensInfo {
        numerical_aperture: spec.na,
        diameter_um: spec.diameter_um,
    }
}

/// Run `propagate --near-field`.
pub fn run(args: &Args, path: &Path) -> Result<()> {
    if args.ideal {
        return Err(Error::invalid(
            "arguments",
            "--near-field and --ideal",
            "give one of them (--near-field already sets the ideal lens beside the file's)",
        ));
    }
    if args.dx_um.is_some() {
        return Err(Error::invalid(
            "--dx",
            format!("{} µm", args.dx_um.unwrap_or_default()),
            "the near-field file fixes the grid spacing; drop --dx",
        ));
    }
    let layout_path = match (&args.layout_flag, &args.layout) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid(
                "layout",
                format!("{} and {}", a.display(), b.display()),
                "give one layout file",
            ))
        }
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.clone(),
    };
    let file = NearFieldFile::read(path)?;
    let layout = match &layout_path {
        Some(p) => Some(crate::io::layout_file::LayoutFile::load(p)?),
        None => None,
    };
    let spec = near_field_lens_spec(args, path, &file, layout.as_ref())?;
    let iw = check_file_fits_lens(&file, &spec, path)?;
    let opts = options(args, &spec)?;
    let (fp, resampling) = file.plane(iw, path)?;
    if !args.quiet {
        eprintln!("{}", resampling.describe());
    }
    let notes = resampling_notes(&resampling);
    if let Some(out) = &args.save_near_field {
        NearFieldFile::from_plane(
            &fp,
            spec.n_incident,
            Some(lens_info(&spec)),
            &format!("{} on the centred grid", path.display()),
        )
        .write(out)?;
    }
    let (mut measured, ideal) = run_field_plane_with_ideal(&fp, &spec, &opts)?;
    measured.warnings.extend(notes);
    let lpa = match &layout {
        Some(l) => {
            let o = crate::metrics::pipeline::RunOptions {
                polarization: fp.polarization,
                ..opts.clone()
            };
            let nf = layout_near_field(args.dx_um, l, &spec, &o)?;
            Some(run_designed(&nf, &spec, &o)?.0)
        }
        None => None,
    };
    for w in measured.warnings.iter().chain(&ideal.warnings) {
        eprintln!("warning: {w}");
    }
    let mut doc = document(
        "near field",
        &spec,
        fp.polarization,
        &measured,
        Some(&ideal),
        &[],
    );
    if let serde_json::Value::Object(d) = &mut doc {
        d.insert(
            "near_field".into(),
            serde_json::json!({
                "file": path.display().to_string(),
                "source": file.source,
                "plane_height_um": fp.z_um,
                "poynting_flux": fp.poynting_flux(),
                "resampling": resampling,
            }),
        );
        if let Some(l) = &lpa {
            d.insert(
                "lpa".into(),
                serde_json::to_value(&l.report).unwrap_or(serde_json::Value::Null),
            );
        }
    }
    let text =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::numerical("cli", e.to_string()))?;
    if let Some(dir) = &args.out {
        super::propagate::write_focus(dir, &text, &spec, &measured, Some(&ideal))?;
    }
    if args.json {
        println!("{text}");
    } else if !args.quiet {
        summary(&spec, &measured);
        if let Some(l) = &lpa {
            println!("local periodic approximation of the layout:");
            summary(&spec, l);
        }
        println!("ideal lens of the same NA, diameter and grid:");
        summary(&spec, &ideal);
    }
    Ok(())
}

/// The lens a near-field file is analysed as: the layout's (checked against `--wavelength`),
/// else the flags, else the file's lens datasets.
fn near_field_lens_spec(
    args: &Args,
    path: &Path,
    file: &NearFieldFile,
    layout: Option<&crate::io::layout_file::LayoutFile>,
) -> Result<Lens> {
    let spec = match layout {
        Some(l) => {
            let s = layout_spec(args, l)?;
            if let Some(w) = args.wavelength_um {
                if (w - s.wavelength_um).abs() > 1e-6 * s.wavelength_um {
                    return Err(Error::invalid(
                        "--wavelength",
                        format!("{w} µm"),
                        format!("the layout is for {} µm", s.wavelength_um),
                    ));
                }
            }
            s
        }
        None => {
            let pick = |flag: Option<f64>, from_file: Option<f64>, name: &str| {
                flag.or(from_file).ok_or_else(|| {
                    Error::invalid(
                        name,
                        "missing",
                        format!(
                            "{} records no lens: give {name} or --layout",
                            path.display()
                        ),
                    )
                })
            };
            let iw = file.wavelength_index(args.wavelength_um, path)?;
            let na = pick(args.na, file.lens.map(|l| l.numerical_aperture), "--na")?;
            let diameter = pick(
                args.diameter_um,
                file.lens.map(|l| l.diameter_um),
                "--diameter",
            )?;
            Lens::from_na(file.wavelengths_um[iw], na, file.medium_index, diameter)?
                .with_incidence(file.incident_index)?
        }
    };
    Ok(spec)
}

/// The file holds the lens's wavelength (its index is returned), its exit medium, and a grid
/// fine enough for its NA (refused before resampling and propagating).
fn check_file_fits_lens(file: &NearFieldFile, spec: &Lens, path: &Path) -> Result<usize> {
    let iw = match file.wavelength_index(Some(spec.wavelength_um), path) {
        Ok(i) => i,
        Err(_) => {
            return Err(Error::invalid(
                format!("{}: wavelength", path.display()),
                format!("{:?} µm", file.wavelengths_um),
                format!(
                    "does not include the layout's wavelength {} µm",
                    spec.wavelength_um
                ),
            ))
        }
    };
    if (file.medium_index - spec.n_exit).abs() > 1e-6 * spec.n_exit {
        return Err(Error::invalid(
            format!("{}: medium_index", path.display()),
            file.medium_index,
            format!("must equal the lens's exit index {}", spec.n_exit),
        ));
    }
    // refuse a grid too coarse for the NA before resampling and propagating
    let dx = file.spacing(path)?;
    let need = spec.wavelength_um / (2.0 * spec.na);
    if dx > need * (1.0 + 1e-12) {
        return Err(Error::invalid(
            format!("{}: grid spacing", path.display()),
            format!("{dx} µm"),
            format!(
                "too coarse for NA {} at λ {} µm: needs ≤ {need:.4} µm (λ/(2 NA))",
                spec.na, spec.wavelength_um
            ),
        ));
    }
    Ok(iw)
}

/// Warnings about the resampling of the file's field onto the propagation grid.
fn resampling_notes(resampling: &crate::io::nearfield_file::Resampling) -> Vec<String> {
    let mut notes = Vec::new();
    if resampling.error_estimate > 1e-2 {
        notes.push(format!(
            "resampling error estimate {:.2e} exceeds 1e-2: the file's field has content near its Nyquist frequency or runs off its grid",
            resampling.error_estimate
        ));
    }
    if resampling.edge_power_fraction > 1e-3 {
        notes.push(format!(
            "{:.2e} of |E|² lies on the file's outermost samples: the field is cut at the file's edge (the propagation takes zero outside)",
            resampling.edge_power_fraction
        ));
    }
    notes
}
