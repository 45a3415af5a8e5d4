//! Figures of `metalens propagate`: focal-plane intensity map with the efficiency circles,
//! x and y line cuts against the ideal lens, the x–z section and the on-axis intensity.
//! Axes in µm; viridis (perceptually uniform) colour map; PNG and SVG of each.

use crate::lens::Lens;
use crate::metrics::pipeline::LensResult;
use crate::metrics::{FocusData, FocusReport};
use crate::propagate::Sections;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

const SIZE: (u32, u32) = (900, 700);

/// Colour-bar names: the fields are those of a unit-amplitude incident wave in the substrate.
const E2_LABEL: &str = "|E|² (incident |E|² = 1)";
const SZ_LABEL: &str = "Sz (|E_inc|²/η₀)";

#[allow(clippy::too_many_arguments)]
fn heat<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    xs: &[f64],
    ys: &[f64],
    q: &[f64],
    xlabel: &str,
    ylabel: &str,
    circles: &[(f64, f64, f64)],
    bar_label: &str,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let qmax = q.iter().cloned().fold(0.0, f64::max).max(1e-300);
    let (x0, x1, y0, y1) = (xs[0], xs[xs.len() - 1], ys[0], ys[ys.len() - 1]);

    // every map keeps equal x and y scales (round circles, an x–z section not stretched in
    // z): the plot area is shrunk to the data's aspect ratio. Pixels taken by the axes: 60
    // (y labels) + 24 (margins) across, 45 (x labels) + 24 + ≈ 36 (caption) down.
    let (w_avail, h_avail) = ((SIZE.0 - 130 - 84) as f64, (SIZE.1 - 105) as f64);
    let (dx, dy) = ((x1 - x0).abs().max(1e-12), (y1 - y0).abs().max(1e-12));
    let scale = (w_avail / dx).min(h_avail / dy);
    let (w_px, h_px) = ((dx * scale) as u32 + 84, (dy * scale) as u32 + 105);
    // the colour bar right beside the map
    let (main, rest) = root.split_horizontally(w_px);
    let main = main.split_vertically(h_px).0;
    let bar = rest.split_horizontally(130).0;
    let bar_bottom = SIZE.1.saturating_sub(h_px) + 57;
    let mut chart = ChartBuilder::on(&main)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(xlabel)
        .y_desc(ylabel)
        .label_style(("sans-serif", 15))
        .draw()?;
    let hx = if xs.len() > 1 {
        0.5 * (xs[1] - xs[0])
    } else {
        0.5
    };
    let hy = if ys.len() > 1 {
        0.5 * (ys[1] - ys[0])
    } else {
        0.5
    };
    chart.draw_series(ys.iter().enumerate().flat_map(|(j, &y)| {
        xs.iter().enumerate().map(move |(i, &x)| {
            let c = super::viridis(q[j * xs.len() + i] / qmax);
            Rectangle::new([(x - hx, y - hy), (x + hx, y + hy)], c.filled())
        })
    }))?;
    for &(cx, cy, r) in circles {
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|t| {
                let a = t as f64 / 200.0 * std::f64::consts::TAU;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        chart.draw_series(std::iter::once(PathElement::new(
            pts,
            WHITE.stroke_width(2),
        )))?;
    }
    super::colour_bar(&bar, 0.0, qmax, bar_label, 50, bar_bottom)
}

fn lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[(&str, &[f64], &[f64], RGBColor)],
    vline: Option<f64>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let x0 = series.iter().map(|s| s.1[0]).fold(f64::INFINITY, f64::min);
    let x1 = series
        .iter()
        .map(|s| s.1[s.1.len() - 1])
        .fold(f64::NEG_INFINITY, f64::max);
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().cloned())
        .fold(0.0, f64::max)
        .max(1e-300)
        * 1.05;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc(ylabel)
        .label_style(("sans-serif", 15))
        .draw()?;
    for &(name, x, y, c) in series {
        chart
            .draw_series(LineSeries::new(
                x.iter().cloned().zip(y.iter().cloned()),
                c.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], c.stroke_width(2)));
    }
    if let Some(v) = vline {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(v, 0.0), (v, ymax)],
            BLACK.mix(0.5).stroke_width(1),
        )))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    Ok(())
}

/// Draw with both backends and write `name.png` and `name.svg` atomically.
fn both(
    dir: &Path,
    name: &str,
    draw: &dyn for<'a> Fn(&DrawingArea<BitMapBackend<'a>, Shift>) -> DrawResult<BitMapBackend<'a>>,
    draw_svg: &dyn for<'a> Fn(&DrawingArea<SVGBackend<'a>, Shift>) -> DrawResult<SVGBackend<'a>>,
) -> Result<()> {
    super::init_fonts();
    let png = dir.join(format!("{name}.png"));
    let tmp = crate::io::guard::temp_path(&png);
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(&root).map_err(|e| Error::numerical("plot", format!("{name}.png: {e}")))?;
        root.present()
            .map_err(|e| Error::numerical("plot", format!("{name}.png: {e}")))
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    crate::io::guard::commit_temp(&tmp, &png)?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw_svg(&root).map_err(|e| Error::numerical("plot", format!("{name}.svg: {e}")))?;
        root.present()
            .map_err(|e| Error::numerical("plot", format!("{name}.svg: {e}")))?;
    }
    crate::io::write_atomic(&dir.join(format!("{name}.svg")), s.as_bytes())
}

/// Write the four figures for a lens (and its ideal counterpart, if given) into `dir`.
pub fn write_all(
    dir: &Path,
    spec: &Lens,
    lens: &LensResult,
    ideal: Option<&LensResult>,
) -> Result<()> {
    let rep = &lens.report;
    let d = rep
        .data
        .as_ref()
        .ok_or_else(|| Error::numerical("plot", "no focal data kept"))?;
    let ideal = ideal.map(|i| &i.report);
    write_focal_plane(dir, rep, d)?;
    write_cuts(dir, rep, d, ideal, spec.wavelength_um)?;
    write_sections(dir, &d.sections)?;
    write_on_axis(dir, rep, &d.sections, ideal)
}

/// `focal_plane` and `focal_plane_sz`: |E|² and the axial flux Sz in the focal plane with the
/// efficiency circles.
fn write_focal_plane(dir: &Path, rep: &FocusReport, d: &FocusData) -> Result<()> {
    let circles: Vec<(f64, f64, f64)> = rep
        .efficiency
        .radii_um()
        .into_iter()
        .map(|r| (rep.peak_position_um[0], rep.peak_position_um[1], r))
        .collect();
    let title = format!(
        "|E|² at z = {:.3} µm (circles: k·FWHM)",
        rep.focal_plane_z_um
    );
    both(
        dir,
        "focal_plane",
        &|r| {
            heat(
                r,
                &title,
                &d.map.xs,
                &d.map.ys,
                &d.map_total,
                "x (µm)",
                "y (µm)",
                &circles,
                E2_LABEL,
            )
        },
        &|r| {
            heat(
                r,
                &title,
                &d.map.xs,
                &d.map.ys,
                &d.map_total,
                "x (µm)",
                "y (µm)",
                &circles,
                E2_LABEL,
            )
        },
    )?;
    // the axial flux Sz, which the efficiencies integrate (single-peaked at any NA, unlike
    // |E|², whose |Ez|² lobes dominate near NA 1)
    let title_sz = format!("Sz at z = {:.3} µm (circles: k·FWHM)", rep.focal_plane_z_um);
    both(
        dir,
        "focal_plane_sz",
        &|r| {
            heat(
                r, &title_sz, &d.map.xs, &d.map.ys, &d.map_sz, "x (µm)", "y (µm)", &circles,
                SZ_LABEL,
            )
        },
        &|r| {
            heat(
                r, &title_sz, &d.map.xs, &d.map.ys, &d.map_sz, "x (µm)", "y (µm)", &circles,
                SZ_LABEL,
            )
        },
    )
}

/// `cut_x` and `cut_y`: |E|² along x and y through the focal point against the ideal lens
/// (normalised to the ideal peak if given), at `lam` µm.
fn write_cuts(
    dir: &Path,
    rep: &FocusReport,
    d: &FocusData,
    ideal: Option<&FocusReport>,
    lam: f64,
) -> Result<()> {
    let norm = ideal.map_or(rep.peak_intensity, |i| i.peak_intensity);
    let sc = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x / norm).collect() };
    let (cx, cy) = (sc(&d.cut_x.total), sc(&d.cut_y.total));
    let mut ideal_cuts = None;
    if let Some(i) = ideal {
        if let Some(di) = &i.data {
            ideal_cuts = Some((
                di.cut_x.s.clone(),
                sc(&di.cut_x.total),
                di.cut_y.s.clone(),
                sc(&di.cut_y.total),
            ));
        }
    }
    let draw_cuts = |which: usize| {
        let mut series: Vec<(&str, &[f64], &[f64], RGBColor)> = vec![if which == 0 {
            ("lens, x cut", &d.cut_x.s[..], &cx[..], BLUE)
        } else {
            ("lens, y cut", &d.cut_y.s[..], &cy[..], BLUE)
        }];
        if let Some((sx, ix, sy, iy)) = &ideal_cuts {
            series.push(if which == 0 {
                ("ideal lens, x cut", &sx[..], &ix[..], RED)
            } else {
                ("ideal lens, y cut", &sy[..], &iy[..], RED)
            });
        }
        series
            .iter()
            .map(|(a, b, c, e)| (a.to_string(), b.to_vec(), c.to_vec(), *e))
            .collect::<Vec<_>>()
    };
    for (which, name, axis) in [(0usize, "cut_x", "x"), (1, "cut_y", "y")] {
        let owned = draw_cuts(which);
        let series: Vec<(&str, &[f64], &[f64], RGBColor)> = owned
            .iter()
            .map(|(a, b, c, e)| (a.as_str(), &b[..], &c[..], *e))
            .collect();
        let t = format!("|E|² along {axis} through the focus (÷ ideal peak), λ = {lam} µm");
        let xl = format!("{axis} − focal point (µm)");
        both(
            dir,
            name,
            &|r| lines(r, &t, &xl, "relative intensity", &series, None),
            &|r| lines(r, &t, &xl, "relative intensity", &series, None),
        )?;
    }
    Ok(())
}

/// `xz_section` and `yz_section`: |E|² in the x–z plane (y = 0) and the y–z plane (x = 0).
fn write_sections(dir: &Path, s: &Sections) -> Result<()> {
    let nz = s.zs.len();
    let nx = s.xs.len();
    // q[j * nz + i] with rows along x and columns along z
    let mut q = vec![0.0; nz * nx];
    for (iz, f) in s.xz.iter().enumerate() {
        let tot = f.total_intensity();
        for ix in 0..nx {
            q[ix * nz + iz] = tot[ix];
        }
    }
    let t = "|E|² in the x–z plane (y = 0)".to_string();
    both(
        dir,
        "xz_section",
        &|r| heat(r, &t, &s.zs, &s.xs, &q, "z (µm)", "x (µm)", &[], E2_LABEL),
        &|r| heat(r, &t, &s.zs, &s.xs, &q, "z (µm)", "x (µm)", &[], E2_LABEL),
    )?;
    // y–z section (for x polarisation the plane without |Ez|² lobes)
    let ny = s.ys.len();
    let mut q = vec![0.0; nz * ny];
    for (iz, f) in s.yz.iter().enumerate() {
        let tot = f.total_intensity();
        for iy in 0..ny.min(tot.len()) {
            q[iy * nz + iz] = tot[iy];
        }
    }
    let t = "|E|² in the y–z plane (x = 0)".to_string();
    both(
        dir,
        "yz_section",
        &|r| heat(r, &t, &s.zs, &s.ys, &q, "z (µm)", "y (µm)", &[], E2_LABEL),
        &|r| heat(r, &t, &s.zs, &s.ys, &q, "z (µm)", "y (µm)", &[], E2_LABEL),
    )
}

/// `on_axis`: the on-axis |E|² of the lens (sections `s`) and the ideal lens, the design
/// focus marked.
fn write_on_axis(
    dir: &Path,
    rep: &FocusReport,
    s: &Sections,
    ideal: Option<&FocusReport>,
) -> Result<()> {
    let mut series: Vec<(&str, &[f64], &[f64], RGBColor)> =
        vec![("lens", &s.zs[..], &s.on_axis[..], BLUE)];
    if let Some(i) = ideal {
        if let Some(di) = &i.data {
            series.push((
                "ideal lens",
                &di.sections.zs[..],
                &di.sections.on_axis[..],
                RED,
            ));
        }
    }
    let t = format!(
        "on-axis |E|² (design focus {:.3} µm marked)",
        rep.design_focal_length_um
    );
    let f = rep.design_focal_length_um;
    both(
        dir,
        "on_axis",
        &|r| lines(r, &t, "z (µm)", "|E|² / incident", &series, Some(f)),
        &|r| lines(r, &t, "z (µm)", "|E|² / incident", &series, Some(f)),
    )?;
    Ok(())
}
