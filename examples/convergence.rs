//! Convergence study of the unit-cell solver on the SRN reference cells
//! (../shared/validation/srn_cells.json): zeroth-order t versus harmonics for the
//! normal-vector (default) and Laurent factorisations.
//!
//! `cargo run --release --example convergence [-- MAX_HARMONICS]` writes
//! validation/rcwa/convergence.csv, convergence.md and convergence.png / .svg.

use metalens::cell::{Incidence, LatticeKind, PillarCell, Polarization};
use metalens::material::Material;
use metalens::rcwa::{solve, Factorization, Settings};
use metalens::C64;
use plotters::prelude::*;
use std::fmt::Write as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("plot") {
        return plot_from_csv();
    }
    let max: usize = arg.map(|s| s.parse()).transpose()?.unwrap_or(1200);
    // reference cells: radius, converged t, |t| and phase uncertainties
    let refs = [
        (
            0.09,
            C64::new(0.564_287_548_569_804_2, 0.197_660_393_720_816_17),
            1.34e-3,
            0.445,
        ),
        (
            0.13,
            C64::new(0.241_396_398_978_030_6, -0.499_644_026_892_378_6),
            3.84e-3,
            0.280,
        ),
        (
            0.16,
            C64::new(-0.348_947_122_701_560_86, 0.641_745_499_764_298),
            1.61e-2,
            1.714,
        ),
    ];
    let ladder: Vec<usize> = [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200]
        .into_iter()
        .filter(|&h| h <= max)
        .collect();
    let out = std::path::Path::new("validation/rcwa");
    std::fs::create_dir_all(out)?;
    let mut csv = String::from("radius_um,factorization,harmonics,t_re,t_im,abs_t,phase_deg,abs_err_vs_ref,phase_err_deg_vs_ref,energy_balance_minus_1,seconds\n");
    let mut series: Series = Vec::new();
    for (r, tref, _, _) in refs {
        let stack = PillarCell {
            lattice: LatticeKind::Square,
            pitch: 0.35,
            radius: r,
            height: 0.75,
            pillar: Material::Constant(C64::new(2.9, 0.0)),
            incidence: Material::Constant(C64::new(1.45, 0.0)),
            exit: Material::air(),
        }
        .stack()?;
        let inc = Incidence::normal(0.633, Polarization::X);
        for fact in [Factorization::NormalVector, Factorization::Laurent] {
            let mut abs_pts = Vec::new();
            let mut ph_pts = Vec::new();
            for &h in &ladder {
                let sol = solve(
                    &stack,
                    &inc,
                    &Settings {
                        harmonics: h,
                        factorization: fact,
                    },
                )?;
                let dabs = sol.t.norm() - tref.norm();
                let dph = (sol.t / tref).arg().to_degrees();
                writeln!(
                    csv,
                    "{r},{fact:?},{},{},{},{},{},{dabs:.3e},{dph:.4},{:.2e},{:.3}",
                    sol.harmonics,
                    sol.t.re,
                    sol.t.im,
                    sol.t.norm(),
                    sol.t.arg().to_degrees(),
                    sol.reflectance + sol.transmittance - 1.0,
                    sol.timings.total
                )?;
                eprintln!(
                    "r={r} {fact:?} N={} |Δ|t||={:.2e} Δφ={dph:.3}° ({:.2} s)",
                    sol.harmonics,
                    dabs.abs(),
                    sol.timings.total
                );
                abs_pts.push((sol.harmonics as f64, dabs.abs().max(1e-7)));
                ph_pts.push((sol.harmonics as f64, dph.abs().max(1e-4)));
            }
            series.push((format!("r = {r} µm, {fact:?}"), abs_pts, ph_pts));
        }
    }
    std::fs::write(out.join("convergence.csv"), &csv)?;
    // figures: |Δ|t|| and |Δφ| against harmonics, log-log
    metalens::plot::init_fonts();
    for ext in ["png", "svg"] {
        let path = out.join(format!("convergence.{ext}"));
        if ext == "png" {
            draw(
                BitMapBackend::new(&path, (1200, 500)).into_drawing_area(),
                &series,
            )?;
        } else {
            draw(
                SVGBackend::new(&path, (1200, 500)).into_drawing_area(),
                &series,
            )?;
        }
    }
    eprintln!("wrote {}", out.join("convergence.csv").display());
    Ok(())
}

/// Redraw the figures from an existing convergence.csv.
fn plot_from_csv() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::Path::new("validation/rcwa");
    let text = std::fs::read_to_string(out.join("convergence.csv"))?;
    let mut series: Series = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let name = format!("r = {} µm, {}", f[0], f[1]);
        let (h, dabs, dph): (f64, f64, f64) = (f[2].parse()?, f[7].parse()?, f[8].parse()?);
        if series.last().map(|s| s.0 != name).unwrap_or(true) {
            series.push((name.clone(), Vec::new(), Vec::new()));
        }
        let s = series.last_mut().expect("pushed above");
        s.1.push((h, dabs.abs().max(1e-7)));
        s.2.push((h, dph.abs().max(1e-4)));
    }
    metalens::plot::init_fonts();
    draw(
        BitMapBackend::new(&out.join("convergence.png"), (1200, 500)).into_drawing_area(),
        &series,
    )?;
    draw(
        SVGBackend::new(&out.join("convergence.svg"), (1200, 500)).into_drawing_area(),
        &series,
    )?;
    Ok(())
}

type Series = Vec<(String, Vec<(f64, f64)>, Vec<(f64, f64)>)>;

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    series: &Series,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(600);
    for (area, which, title) in [
        (left, 0, "| |t| − |t_ref| |"),
        (right, 1, "|arg t − arg t_ref| (degrees)"),
    ] {
        let (lo, hi) = if which == 0 {
            (1e-7, 1.0)
        } else {
            (1e-4, 100.0)
        };
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((40f64..1400f64).log_scale(), (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("harmonics")
            .x_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        for (i, (name, a, p)) in series.iter().enumerate() {
            let pts = if which == 0 { a } else { p };
            let color = Palette99::pick(i).to_rgba();
            let style = if name.contains("Laurent") {
                ShapeStyle::from(color).stroke_width(1)
            } else {
                ShapeStyle::from(color).stroke_width(3)
            };
            chart
                .draw_series(LineSeries::new(pts.clone(), style))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
