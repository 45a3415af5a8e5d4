//! Line plots of a design study (quantities versus pitch), one panel per NA, PNG and SVG.

use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One curve of a panel.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    /// Index into the palette (same quantity, same colour in every panel).
    pub colour: usize,
    /// Dashed: a reference (the ideal lens); solid with markers: the computed lens.
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title and its curves.
#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    xlabel: &str,
    ylabel: &str,
    y_range: Option<(f64, f64)>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (whole, panel) in areas.iter().zip(panels) {
        let (w, h) = whole.dim_in_pixel();
        let rows = legend_rows(panel);
        let (area, key) = whole.split_vertically(h - (LEGEND_ROW * rows + 16).min(h / 2));
        // the legend: two columns, dashed entries drawn dashed
        for (i, s) in panel.series.iter().enumerate() {
            let c = PALETTE[s.colour % PALETTE.len()];
            let x = 20 + (i % 2) as i32 * (w as i32 / 2);
            let y = 8 + (i / 2) as i32 * LEGEND_ROW as i32;
            if s.dashed {
                for k in 0..3 {
                    key.draw(&PathElement::new(
                        vec![(x + 10 * k, y), (x + 10 * k + 6, y)],
                        c.stroke_width(2),
                    ))?;
                }
            } else {
                key.draw(&PathElement::new(
                    vec![(x, y), (x + 26, y)],
                    c.stroke_width(2),
                ))?;
                key.draw(&Circle::new((x + 13, y), 4, c.filled()))?;
            }
            key.draw(&Text::new(
                s.label.clone(),
                (x + 34, y - 7),
                ("sans-serif", 13).into_font(),
            ))?;
        }
        let area = &area;
        let all: Vec<(f64, f64)> = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let (mut x0, mut x1) = all
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        if x0 >= x1 {
            x0 -= 0.5;
            x1 += 0.5;
        }
        let pad = 0.04 * (x1 - x0);
        let (y0, y1) = y_range.unwrap_or_else(|| {
            let (a, b) = all
                .iter()
                .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
            let m = 0.08 * (b - a).max(1e-3);
            (a - m, b + m)
        });
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0 - pad..x1 + pad, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(ylabel)
            .label_style(("sans-serif", 14))
            .draw()?;
        for s in &panel.series {
            let c = PALETTE[s.colour % PALETTE.len()];
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            if s.dashed {
                chart.draw_series(DashedLineSeries::new(pts, 8, 6, c.stroke_width(2)))?;
            } else {
                chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?;
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
            }
        }
    }
    Ok(())
}

/// Height (px) of one legend row.
const LEGEND_ROW: u32 = 18;

/// Legend rows of a panel (two entries per row).
fn legend_rows(p: &Panel) -> u32 {
    p.series.len().div_ceil(2) as u32
}

/// Write `stem.png` and `stem.svg`: the panels side by side, 560 px wide each.
pub fn write_panels(
    stem: &Path,
    panels: &[Panel],
    xlabel: &str,
    ylabel: &str,
    y_range: Option<(f64, f64)>,
) -> Result<()> {
    super::init_fonts();
    let rows = panels.iter().map(legend_rows).max().unwrap_or(0);
    let size = (
        560 * panels.len().max(1) as u32,
        480 + LEGEND_ROW * rows + 16,
    );
    let png = stem.with_extension("png");
    let tmp = crate::io::guard::temp_path(&png);
    let err = |e: String| Error::numerical("plot", format!("{}: {e}", png.display()));
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw(&root, panels, xlabel, ylabel, y_range).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    crate::io::guard::commit_temp(&tmp, &png)?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw(&root, panels, xlabel, ylabel, y_range).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    crate::io::write_atomic(&stem.with_extension("svg"), s.as_bytes())
}
