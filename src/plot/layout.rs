//! Layout figures: pillar map (whole lens, or a radius raster plus a zoomed subset of circles
//! for large lenses), target versus achieved phase along a radius, phase error map.

use crate::layout::{Layout, Pillar};
use crate::lens::wrap_phase;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Lenses with at most this many pillars are drawn pillar by pillar.
pub const MAX_DRAWN_PILLARS: u64 = 20_000;
/// Raster size (pixels per side) of the overview and error maps.
const RASTER: usize = 400;

fn perr<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::io(path, std::io::Error::other(e.to_string()))
}

fn suffixed(stem: &Path, s: &str) -> PathBuf {
    let mut o = stem.as_os_str().to_os_string();
    o.push(s);
    PathBuf::from(o)
}

/// Draw every figure beside `stem`: `_pillars.png`, `_pillars_zoom.png`, `_phase.png`,
/// `_phase_error.png`.
pub fn plot_all(layout: &Layout, stem: &Path) -> Result<()> {
    super::init_fonts();
    let rmax = 0.5 * layout.lens.diameter_um;
    if layout.pillar_count() <= MAX_DRAWN_PILLARS {
        pillar_map(
            layout,
            &suffixed(stem, "_pillars.png"),
            [-rmax, rmax, -rmax, rmax],
            "pillar map",
        )?;
    } else {
        raster_map(
            layout,
            &suffixed(stem, "_pillars.png"),
            "pillar radius (µm), mean per pixel",
            |_, p| layout.table.cells[p.cell as usize].radius,
        )?;
    }
    // zoom: a window of 30 pitches at the rim on the +x axis, where the phase changes fastest
    let w = (30.0 * layout.settings.pitch).min(rmax);
    let x1 = rmax + layout.settings.pitch;
    pillar_map(
        layout,
        &suffixed(stem, "_pillars_zoom.png"),
        [x1 - w, x1, -0.5 * w, 0.5 * w],
        "pillars at the rim (+x)",
    )?;
    phase_cut(layout, &suffixed(stem, "_phase.png"))?;
    raster_map(
        layout,
        &suffixed(stem, "_phase_error.png"),
        "|phase error| (rad), mean per pixel",
        |l, p| l.phase_error(p).abs(),
    )?;
    Ok(())
}

/// Circles of every pillar inside `window` = [x0, x1, y0, y1] (µm), coloured by radius.
pub fn pillar_map(layout: &Layout, path: &Path, window: [f64; 4], title: &str) -> Result<()> {
    super::init_fonts();
    let e = perr(path);
    let (px, py) = (800u32, 800u32);
    let full = BitMapBackend::new(path, (px + 130, py)).into_drawing_area();
    full.fill(&WHITE).map_err(&e)?;
    let (root, bar) = full.split_horizontally(px);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(window[0]..window[1], window[2]..window[3])
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("x (µm)")
        .y_desc("y (µm)")
        .disable_mesh()
        .draw()
        .map_err(&e)?;
    let rmin = layout.table.cells.first().map(|c| c.radius).unwrap_or(0.0);
    let rmx = layout.table.cells.last().map(|c| c.radius).unwrap_or(1.0);
    super::colour_bar(&bar, rmin, rmx, "pillar radius (µm)", 40, 50).map_err(&e)?;
    let scale = (px as f64 - 70.0) / (window[1] - window[0]);
    let m = layout.settings.pitch;
    let shown = layout
        .rows
        .iter()
        .filter(|r| r.y >= window[2] - m && r.y <= window[3] + m)
        .flat_map(|row| {
            row.cells.iter().enumerate().map(move |(i, &c)| Pillar {
                x: row.x(i, layout.settings.pitch),
                y: row.y,
                cell: c,
            })
        })
        .filter(|p| p.x >= window[0] - m && p.x <= window[1] + m);
    chart
        .draw_series(shown.map(|p| {
            let r = layout.table.cells[p.cell as usize].radius;
            let col = super::viridis((r - rmin) / (rmx - rmin).max(1e-12));
            Circle::new(
                (p.x, p.y),
                ((r * scale).round() as i32).max(1),
                col.filled(),
            )
        }))
        .map_err(&e)?;
    // aperture outline
    let rmax = 0.5 * layout.lens.diameter_um;
    chart
        .draw_series(
            (0..7200)
                .map(|k| {
                    let a = k as f64 / 7200.0 * std::f64::consts::TAU;
                    (rmax * a.cos(), rmax * a.sin())
                })
                .filter(|&(x, y)| {
                    x >= window[0] && x <= window[1] && y >= window[2] && y <= window[3]
                })
                .map(|p| Pixel::new(p, RED)),
        )
        .map_err(&e)?;
    full.present().map_err(&e)?;
    Ok(())
}

/// Target (wrapped) and achieved phase of the pillars in the row nearest y = 0, x ≥ 0.
pub fn phase_cut(layout: &Layout, path: &Path) -> Result<()> {
    super::init_fonts();
    let e = perr(path);
    let Some(row) = layout
        .rows
        .iter()
        .min_by(|a, b| a.y.abs().total_cmp(&b.y.abs()))
    else {
        return Ok(());
    };
    let p = layout.settings.pitch;
    let pts: Vec<(f64, f64, f64)> = row
        .cells
        .iter()
        .enumerate()
        .map(|(i, &c)| Pillar {
            x: row.x(i, p),
            y: row.y,
            cell: c,
        })
        .filter(|q| q.x >= -1e-9)
        .map(|q| {
            let target = wrap_phase(layout.lens.phase(q.x.hypot(q.y)) + layout.phase_offset);
            let achieved = layout.table.cells[q.cell as usize].t_mean().arg();
            (q.x, target, achieved)
        })
        .collect();
    let xmax = pts.last().map(|v| v.0).unwrap_or(1.0).max(p);
    let root = BitMapBackend::new(path, (1000, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("phase along +x (row y = {:.3} µm)", row.y),
            ("sans-serif", 22),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, -3.3..3.3)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("x (µm)")
        .y_desc("phase (rad)")
        .draw()
        .map_err(&e)?;
    // the target is drawn as a dense wrapped curve, broken at the 2π jumps
    let n = 4000.max(pts.len() * 4);
    let mut seg: Vec<(f64, f64)> = Vec::new();
    let mut segs = Vec::new();
    for k in 0..=n {
        let x = xmax * k as f64 / n as f64;
        let ph = wrap_phase(layout.lens.phase(x.hypot(row.y)) + layout.phase_offset);
        if let Some(&(_, last)) = seg.last() {
            if (ph - last).abs() > std::f64::consts::PI {
                segs.push(std::mem::take(&mut seg));
            }
        }
        seg.push((x, ph));
    }
    segs.push(seg);
    for (i, s) in segs.into_iter().enumerate() {
        let series = chart
            .draw_series(LineSeries::new(s, BLUE.stroke_width(2)))
            .map_err(&e)?;
        if i == 0 {
            series
                .label("target")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        }
    }
    chart
        .draw_series(
            pts.iter()
                .map(|&(x, _, a)| Circle::new((x, a), 3, RED.filled())),
        )
        .map_err(&e)?
        .label("achieved (pillars)")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, RED.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// A raster over the aperture: per pixel the mean of `value` over its pillars, viridis, with
/// the colour range in the title.
pub fn raster_map(
    layout: &Layout,
    path: &Path,
    title: &str,
    value: impl Fn(&Layout, &Pillar) -> f64 + Sync,
) -> Result<()> {
    super::init_fonts();
    let e = perr(path);
    let rmax = 0.5 * layout.lens.diameter_um + 0.5 * layout.settings.pitch;
    let sites_across = (2.0 * rmax / layout.settings.pitch).ceil() as usize;
    // pixels at least 1.5 pitches wide, so that every pixel holds a site on either lattice
    let n = RASTER.min((sites_across as f64 / 1.5).floor().max(1.0) as usize);
    let mut sum = vec![0.0; n * n];
    let mut count = vec![0u32; n * n];
    for p in layout.pillars() {
        let ix = (((p.x + rmax) / (2.0 * rmax) * n as f64) as usize).min(n - 1);
        let iy = (((p.y + rmax) / (2.0 * rmax) * n as f64) as usize).min(n - 1);
        let v = value(layout, &p);
        if v.is_finite() {
            sum[iy * n + ix] += v;
            count[iy * n + ix] += 1;
        }
    }
    let grid: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();
    let (lo, hi) = grid
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1e-12))
    } else {
        (0.0, 1.0)
    };
    let full = BitMapBackend::new(path, (930, 800)).into_drawing_area();
    full.fill(&WHITE).map_err(&e)?;
    let (root, bar) = full.split_horizontally(800);
    let quantity = title.split(',').next().unwrap_or(title);
    super::colour_bar(&bar, lo, hi, quantity, 40, 50).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title}: {lo:.4} (dark) to {hi:.4} (yellow)"),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-rmax..rmax, -rmax..rmax)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("x (µm)")
        .y_desc("y (µm)")
        .disable_mesh()
        .draw()
        .map_err(&e)?;
    let d = 2.0 * rmax / n as f64;
    chart
        .draw_series((0..n * n).filter(|&k| grid[k].is_finite()).map(|k| {
            let (ix, iy) = (k % n, k / n);
            let x0 = -rmax + ix as f64 * d;
            let y0 = -rmax + iy as f64 * d;
            Rectangle::new(
                [(x0, y0), (x0 + d, y0 + d)],
                super::viridis((grid[k] - lo) / (hi - lo)).filled(),
            )
        }))
        .map_err(&e)?;
    full.present().map_err(&e)?;
    Ok(())
}
