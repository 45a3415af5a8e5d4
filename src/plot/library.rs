//! Figures of a phase library (PNG and SVG each):
//!
//! - `*_phase`: unwrapped phase of t and transmittance versus radius, one line per pitch;
//! - `*_maps`: 2-D maps of the wrapped phase (0..2π) and of the transmittance over
//!   radius × pitch (grey: radius does not fit or solve failed);
//! - `*_coverage`: phase coverage (fraction of 2π reached by radii with transmittance above a
//!   threshold), span of the phase unwrapped along radius, and mean transmittance versus
//!   pitch, one line per (height, wavelength).

use crate::library::PhaseLibrary;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What to plot.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// Polarisation index (0 = x, 1 = y).
    pub pol: usize,
    /// Transmittance threshold for the phase coverage (power fraction).
    pub min_transmittance: f64,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            pol: 0,
            min_transmittance: 0.5,
        }
    }
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("plotting failed: {e}")))
}

/// Render `draw` into `stem.png` and `stem.svg` (each written atomically).
macro_rules! render {
    ($stem:expr, $size:expr, $draw:ident ( $($arg:expr),* )) => {{
        let stem: &Path = $stem;
        let mut out = Vec::new();
        for ext in ["png", "svg"] {
            let path = PathBuf::from(format!("{}.{ext}", stem.display()));
            let tmp = crate::io::guard::temp_path(&path);
            {
                if ext == "png" {
                    let root = BitMapBackend::new(&tmp, $size).into_drawing_area();
                    $draw(&root, $($arg),*).map_err(|e| plot_err(&path, e))?;
                    root.present().map_err(|e| plot_err(&path, e))?;
                } else {
                    let root = SVGBackend::new(&tmp, $size).into_drawing_area();
                    $draw(&root, $($arg),*).map_err(|e| plot_err(&path, e))?;
                    root.present().map_err(|e| plot_err(&path, e))?;
                }
            }
            crate::io::guard::commit_temp(&tmp, &path)?;
            out.push(path);
        }
        out
    }};
}

fn series_color(i: usize, n: usize) -> RGBColor {
    // viridis without its lightest yellow end, which is hard to see on white
    crate::plot::viridis(if n <= 1 {
        0.0
    } else {
        0.85 * i as f64 / (n - 1) as f64
    })
}

fn finite_range(v: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v.filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo <= hi).then_some(if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    })
}

/// Split a curve at NaN values into finite segments.
fn segments(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (&a, &b) in x.iter().zip(y) {
        if b.is_finite() {
            out.last_mut().expect("non-empty").push((a, b));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn label(lib: &PhaseLibrary, iw: usize, ih: usize) -> String {
    format!("λ = {} µm, h = {} µm", lib.wavelengths[iw], lib.heights[ih])
}

fn draw_phase<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lib: &PhaseLibrary,
    iw: usize,
    ih: usize,
    pol: usize,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let np = lib.pitches.len();
    let cols: Vec<_> = (0..np).map(|ip| lib.column_at(iw, ih, ip, pol)).collect();
    let phases: Vec<Vec<f64>> = cols.iter().map(|c| c.unwrapped_phase()).collect();
    let (r0, r1) = finite_range(lib.radii.iter().copied()).unwrap_or((0.0, 1.0));
    let (p0, p1) = finite_range(phases.iter().flatten().copied()).unwrap_or((-PI, PI));
    let pol_name = if pol == 0 { "x" } else { "y" };
    let mut ch = ChartBuilder::on(&left)
        .caption(
            format!("phase of t ({pol_name}), {}", label(lib, iw, ih)),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(r0..r1, (p0 - 0.2)..(p1 + 0.2))?;
    ch.configure_mesh()
        .x_desc("radius (µm)")
        .y_desc("unwrapped phase (rad)")
        .draw()?;
    for (ip, ph) in phases.iter().enumerate() {
        let c = series_color(ip, np);
        let mut first = true;
        for seg in segments(&lib.radii, ph) {
            let s = ch.draw_series(LineSeries::new(seg, c.stroke_width(2)))?;
            if first {
                s.label(format!("pitch {} µm", lib.pitches[ip]))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                    });
                first = false;
            }
        }
    }
    ch.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;

    let mut ch = ChartBuilder::on(&right)
        .caption(format!("transmittance ({pol_name})"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(r0..r1, 0.0..1.05)?;
    ch.configure_mesh()
        .x_desc("radius (µm)")
        .y_desc("transmittance")
        .draw()?;
    for (ip, c) in cols.iter().enumerate() {
        let col = series_color(ip, np);
        let y: Vec<f64> = (0..c.radii.len())
            .map(|i| {
                if c.valid[i] {
                    c.transmittance[i]
                } else {
                    f64::NAN
                }
            })
            .collect();
        for seg in segments(&c.radii, &y) {
            ch.draw_series(LineSeries::new(seg, col.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// Band edges around sorted centres (midpoints; the outer bands as wide as their neighbour).
fn edges(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    if n == 1 {
        return vec![c[0] - 0.01, c[0] + 0.01];
    }
    let mut e = Vec::with_capacity(n + 1);
    e.push(c[0] - 0.5 * (c[1] - c[0]));
    for w in c.windows(2) {
        e.push(0.5 * (w[0] + w[1]));
    }
    e.push(c[n - 1] + 0.5 * (c[n - 1] - c[n - 2]));
    e
}

#[allow(clippy::too_many_arguments)]
fn draw_map<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lib: &PhaseLibrary,
    iw: usize,
    ih: usize,
    title: &str,
    value: &dyn Fn(usize, usize) -> f64,
    range: (f64, f64),
    _bar_label: &str,
) -> DrawResult<DB> {
    let (main, bar) = area.split_horizontally(area.dim_in_pixel().0 - 100);
    let re = edges(&lib.radii);
    let pe = edges(&lib.pitches);
    let mut ch = ChartBuilder::on(&main)
        .caption(
            format!("{title}, {}", label(lib, iw, ih)),
            ("sans-serif", 17),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(re[0]..re[re.len() - 1], pe[0]..pe[pe.len() - 1])?;
    ch.configure_mesh()
        .disable_mesh()
        .x_desc("radius (µm)")
        .y_desc("pitch (µm)")
        .draw()?;
    let grey = RGBColor(200, 200, 200);
    let mut rects = Vec::new();
    for ip in 0..lib.pitches.len() {
        for ir in 0..lib.radii.len() {
            let v = value(ip, ir);
            let color = if lib.valid[[iw, ih, ip, ir]] && v.is_finite() {
                crate::plot::viridis((v - range.0) / (range.1 - range.0))
            } else {
                grey
            };
            rects.push(Rectangle::new(
                [(re[ir], pe[ip]), (re[ir + 1], pe[ip + 1])],
                color.filled(),
            ));
        }
    }
    ch.draw_series(rects)?;
    // colour bar
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(40)
        .margin_bottom(52)
        .margin_left(4)
        .right_y_label_area_size(62)
        .build_cartesian_2d(0.0..1.0, range.0..range.1)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 13))
        .draw()?;
    let n = 64;
    cb.draw_series((0..n).map(|k| {
        let a = range.0 + (range.1 - range.0) * k as f64 / n as f64;
        let b = range.0 + (range.1 - range.0) * (k + 1) as f64 / n as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            crate::plot::viridis((k as f64 + 0.5) / n as f64).filled(),
        )
    }))?;
    Ok(())
}

fn draw_maps<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lib: &PhaseLibrary,
    iw: usize,
    ih: usize,
    pol: usize,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let phase = |ip: usize, ir: usize| lib.t[[iw, ih, ip, ir, pol]].arg().rem_euclid(2.0 * PI);
    let tr = |ip: usize, ir: usize| lib.transmittance[[iw, ih, ip, ir, pol]];
    draw_map(
        &left,
        lib,
        iw,
        ih,
        "phase of t",
        &phase,
        (0.0, 2.0 * PI),
        "phase (rad)",
    )?;
    draw_map(
        &right,
        lib,
        iw,
        ih,
        "transmittance",
        &tr,
        (0.0, 1.0),
        "transmittance",
    )?;
    Ok(())
}

/// The coverage figure: per pitch, for every (wavelength, height), the phase coverage, the span
/// of the unwrapped phase and the mean transmittance, in three panels.
fn draw_coverage<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lib: &PhaseLibrary,
    opts: &PlotOptions,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let w = root.dim_in_pixel().0 / 3;
    let (left, rest) = root.split_horizontally(w);
    let (middle, right) = rest.split_horizontally(w);
    let combos: Vec<(usize, usize)> = (0..lib.wavelengths.len())
        .flat_map(|iw| (0..lib.heights.len()).map(move |ih| (iw, ih)))
        .collect();
    let series = |value: &dyn Fn(usize, usize, usize) -> f64| -> Vec<Vec<(f64, f64)>> {
        combos
            .iter()
            .map(|&(iw, ih)| {
                (0..lib.pitches.len())
                    .map(|ip| (lib.pitches[ip], value(iw, ih, ip)))
                    .filter(|p| p.1.is_finite())
                    .collect()
            })
            .collect()
    };
    let names: Vec<String> = combos
        .iter()
        .map(|&(iw, ih)| {
            if lib.wavelengths.len() > 1 {
                format!("h = {} µm, λ = {} µm", lib.heights[ih], lib.wavelengths[iw])
            } else {
                format!("h = {} µm", lib.heights[ih])
            }
        })
        .collect();
    let coverage = series(&|iw, ih, ip| {
        lib.phase_coverage_at(iw, ih, ip, opts.pol, opts.min_transmittance) / (2.0 * PI)
    });
    let spans = series(&|iw, ih, ip| lib.phase_span_at(iw, ih, ip, opts.pol) / (2.0 * PI));
    let smax = spans.iter().flatten().map(|p| p.1).fold(1.2, f64::max);
    let trans = series(&|iw, ih, ip| lib.mean_transmittance_at(iw, ih, ip, opts.pol));
    let pe = edges(&lib.pitches);
    let x = pe[0]..pe[pe.len() - 1];
    pitch_panel(
        &left,
        &format!("phase coverage (T ≥ {})", opts.min_transmittance),
        "coverage / 2π",
        (x.clone(), 1.05),
        coverage,
        PanelExtras {
            names: Some(&names),
            unit_line: false,
        },
    )?;
    // span of the unwrapped phase, the line at one period marked
    pitch_panel(
        &middle,
        "span of the unwrapped phase",
        "phase span / 2π",
        (x.clone(), smax * 1.05),
        spans,
        PanelExtras {
            names: None,
            unit_line: true,
        },
    )?;
    // mean transmittance of the fitting radii
    pitch_panel(
        &right,
        "mean transmittance of the fitting radii",
        "mean transmittance",
        (x, 1.05),
        trans,
        PanelExtras {
            names: None,
            unit_line: false,
        },
    )
}

/// What a pitch panel draws beyond its series: a legend of series names, a line at y = 1.
struct PanelExtras<'a> {
    names: Option<&'a [String]>,
    unit_line: bool,
}

/// One panel of values against pitch: a coloured line with markers per series (one per
/// (wavelength, height)), y from 0 to `y_max`.
fn pitch_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    (x, y_max): (std::ops::Range<f64>, f64),
    series: Vec<Vec<(f64, f64)>>,
    extras: PanelExtras,
) -> DrawResult<DB> {
    let n = series.len();
    let mut ch = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x.clone(), 0.0..y_max)?;
    ch.configure_mesh()
        .x_desc("pitch (µm)")
        .y_desc(y_desc)
        .draw()?;
    if extras.unit_line {
        ch.draw_series(LineSeries::new(
            vec![(x.start, 1.0), (x.end, 1.0)],
            BLACK.stroke_width(1),
        ))?;
    }
    for (k, pts) in series.into_iter().enumerate() {
        let c = series_color(k, n);
        let line = ch.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?;
        if let Some(names) = extras.names {
            line.label(names[k].as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
            });
        }
        ch.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))?;
    }
    if extras.names.is_some() {
        ch.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    Ok(())
}

/// Draw every library figure next to `stem` (e.g. `out/lib` gives `out/lib_phase.png`, ...).
/// Returns the files written.
pub fn plot_library(lib: &PhaseLibrary, stem: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>> {
    crate::plot::init_fonts();
    if opts.pol > 1 {
        return Err(Error::invalid(
            "polarisation index",
            opts.pol,
            "must be 0 (x) or 1 (y)",
        ));
    }
    let base = stem
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "library".into());
    let at = |suffix: &str| stem.with_file_name(format!("{base}_{suffix}"));
    let mut out = Vec::new();
    let many = lib.wavelengths.len() * lib.heights.len() > 1;
    for iw in 0..lib.wavelengths.len() {
        for ih in 0..lib.heights.len() {
            let tag = if many {
                format!("_w{:.3}_h{:.3}", lib.wavelengths[iw], lib.heights[ih])
            } else {
                String::new()
            };
            let p = at(&format!("phase{tag}"));
            out.extend(render!(&p, (1400, 560), draw_phase(lib, iw, ih, opts.pol)));
            let p = at(&format!("maps{tag}"));
            out.extend(render!(&p, (1400, 560), draw_maps(lib, iw, ih, opts.pol)));
        }
    }
    let p = at("coverage");
    out.extend(render!(&p, (1800, 560), draw_coverage(lib, opts)));
    Ok(out)
}
