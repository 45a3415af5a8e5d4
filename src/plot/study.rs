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

/// Where the legend goes (where the curves are not).
#[derive(Clone, Copy, Debug)]
pub enum Legend {
    UpperRight,
    LowerLeft,
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
    legend: Legend,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, panel) in areas.iter().zip(panels) {
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
                chart
                    .draw_series(DashedLineSeries::new(pts, 8, 5, c.stroke_width(2)))?
                    .label(&s.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c));
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
                    .label(&s.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c));
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .position(match legend {
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .draw()?;
    }
    Ok(())
}

/// Write `stem.png` and `stem.svg`: the panels side by side, 560 px wide each.
pub fn write_panels(
    stem: &Path,
    panels: &[Panel],
    xlabel: &str,
    ylabel: &str,
    y_range: Option<(f64, f64)>,
    legend: Legend,
) -> Result<()> {
    super::init_fonts();
    let size = (560 * panels.len().max(1) as u32, 480);
    let png = stem.with_extension("png");
    let tmp = stem.with_extension("tmp.png");
    let err = |e: String| Error::numerical("plot", format!("{}: {e}", png.display()));
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw(&root, panels, xlabel, ylabel, y_range, legend).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    crate::io::hdf5::commit_temp(&tmp, &png)?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw(&root, panels, xlabel, ylabel, y_range, legend).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    crate::io::write_atomic(&stem.with_extension("svg"), s.as_bytes())
}
