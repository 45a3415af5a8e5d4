//! Figures of `metalens fullwave`: focal intensity cuts (full-wave, LPA, ideal) and the
//! near-field phase / amplitude of the full-wave solve against the LPA along x. PNG, written
//! to a temporary name and renamed.

use crate::fullwave::PolarizationResult;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

fn draw_err<E: std::fmt::Debug>(path: &Path, e: E) -> Error {
    Error::format(path, format!("drawing failed: {e:?}"))
}

fn finish(tmp: &Path, path: &Path) -> Result<()> {
    crate::io::guard::commit_temp(tmp, path)
}

/// Line series (label, colour, x, y).
type Series<'a> = (&'a str, RGBColor, &'a [f64], Vec<f64>);

fn lines(
    path: &Path,
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
) -> Result<()> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, _, xs, ys) in series {
        for (&x, &y) in xs.iter().zip(ys) {
            if y.is_finite() {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) {
        x1 = x0 + 1.0;
    }
    let pad = 0.05 * (y1 - y0).max(1e-12);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(|e| draw_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc(ylabel)
        .draw()
        .map_err(|e| draw_err(path, e))?;
    for (label, colour, xs, ys) in series {
        let c = *colour;
        chart
            .draw_series(LineSeries::new(
                xs.iter().zip(ys).map(|(&x, &y)| (x, y)),
                c.stroke_width(2),
            ))
            .map_err(|e| draw_err(path, e))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(path, e))?;
    Ok(())
}

const BLUE_: RGBColor = RGBColor(31, 119, 180);
const ORANGE_: RGBColor = RGBColor(255, 127, 14);
const GREY_: RGBColor = RGBColor(90, 90, 90);

/// Write `focal_cut_<pol>.png` and `near_field_<pol>.png` into `dir`.
pub fn plot_polarization(r: &PolarizationResult, dir: &Path) -> Result<()> {
    crate::plot::init_fonts();
    let pol = r.polarization.name();
    // focal cuts, total intensity normalised to the ideal peak, x relative to each peak
    let path = dir.join(format!("focal_cut_{pol}.png"));
    let tmp = crate::io::guard::temp_path(&path);
    {
        let root = BitMapBackend::new(&tmp, (1000, 650)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&path, e))?;
        let norm = r.ideal.peak_intensity;
        let rel = |f: &crate::fullwave::propagate1d::Focus1d| -> Vec<f64> {
            f.cut.x_um.iter().map(|x| x - f.peak_position_um).collect()
        };
        let (xf, xl, xi) = (rel(&r.fullwave), rel(&r.lpa), rel(&r.ideal));
        let sc = |v: &[f64]| v.iter().map(|y| y / norm).collect::<Vec<f64>>();
        lines(
            &path,
            &root,
            &format!(
                "{}: focal-plane total intensity (÷ ideal peak)",
                pol.to_uppercase()
            ),
            "x − x_peak (µm)",
            "I / I_ideal,peak",
            &[
                ("full-wave", BLUE_, &xf, sc(&r.fullwave.cut.total)),
                ("LPA", ORANGE_, &xl, sc(&r.lpa.cut.total)),
                ("ideal", GREY_, &xi, sc(&r.ideal.cut.total)),
            ],
        )?;
        root.present().map_err(|e| draw_err(&path, e))?;
    }
    finish(&tmp, &path)?;
    // near field
    let path = dir.join(format!("near_field_{pol}.png"));
    let tmp = crate::io::guard::temp_path(&path);
    {
        let root = BitMapBackend::new(&tmp, (1000, 900)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&path, e))?;
        let (top, bottom) = root.split_vertically(450);
        let nf = &r.near_field;
        lines(
            &path,
            &top,
            &format!(
                "{}: near-field phase error (full-wave − LPA); RMS {:.3} rad (propagating part), {:.3} rad (cell average)",
                pol.to_uppercase(),
                nf.propagating_rms_phase_error,
                nf.rms_phase_error
            ),
            "x (µm)",
            "phase error (rad)",
            &[
                ("propagating part", BLUE_, &nf.x_um, nf.propagating_phase_error.clone()),
                ("cell average (incl. evanescent)", GREY_, &nf.x_um, nf.phase_error.clone()),
            ],
        )?;
        lines(
            &path,
            &bottom,
            "near-field amplitude |F|",
            "x (µm)",
            "|F|",
            &[
                (
                    "full-wave, propagating part",
                    BLUE_,
                    &nf.x_um,
                    nf.propagating_fullwave_amplitude.clone(),
                ),
                (
                    "LPA, propagating part",
                    ORANGE_,
                    &nf.x_um,
                    nf.propagating_lpa_amplitude.clone(),
                ),
                (
                    "LPA cell value t(w)",
                    GREY_,
                    &nf.x_um,
                    nf.lpa_amplitude.clone(),
                ),
            ],
        )?;
        root.present().map_err(|e| draw_err(&path, e))?;
    }
    finish(&tmp, &path)
}
