//! Regenerates the tables and plots of validation/fullwave/README.md.
//!
//! ```text
//! cargo run --release --example fullwave_study -- convergence validation/fullwave
//! cargo run --release --example fullwave_study -- study validation/fullwave
//! cargo run --release --example fullwave_study -- laurent validation/fullwave
//! ```
//!
//! `convergence`: the Mk1 1-D lens (designs/fullwave-mk1.toml) at several supercell harmonics
//! and margins. `study`: NA 0.5 … 0.99 × pitch 0.22, 0.30 µm, TE and TM, 30 µm wide.
//! `laurent`: TM t0 of a grating against harmonics, Li vs Laurent. Each writes a JSON file and
//! prints a markdown table; `study` also draws study.png.

use metalens::fullwave::solver1d::{solve, Basis, Factorization, Grating, Polarization, Ridge};
use metalens::fullwave::Design1d;
use metalens::fullwave::{run_polarization, PolarizationResult, RunOptions};
use metalens::io::fullwave_design::FullwaveDesign;
use metalens::C64;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

fn schema(na: f64, pitch: f64) -> FullwaveDesign {
    let text = format!(
        "name = \"study\"\n[lens]\nna = {na}\nwidth = 30.0\npitch = {pitch}\n[supercell]\nmargin = 10.0\n"
    );
    FullwaveDesign::from_toml(&text, "study").unwrap()
}

fn design(na: f64, pitch: f64) -> Design1d {
    schema(na, pitch).design().unwrap()
}

fn row(label: &str, r: &PolarizationResult) -> (String, serde_json::Value) {
    let g = |f: &metalens::fullwave::propagate1d::Focus1d, k: &str| f.efficiency[k];
    let (fw, lpa) = (&r.fullwave, &r.lpa);
    let s = format!(
        "| {label} | {} | {:.1} | {:.2e} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} |",
        r.polarization.name(),
        r.supercell.solve_seconds,
        r.supercell.energy_error,
        g(fw, "incident_r3"),
        g(lpa, "incident_r3"),
        g(fw, "transmitted_r3"),
        g(lpa, "transmitted_r3"),
        fw.transmission_efficiency,
        lpa.transmission_efficiency,
        fw.fwhm_transverse.um.unwrap_or(f64::NAN),
        lpa.fwhm_transverse.um.unwrap_or(f64::NAN),
        fw.strehl.unwrap_or(f64::NAN),
        lpa.strehl.unwrap_or(f64::NAN),
        fw.focal_shift_um,
        lpa.focal_shift_um,
        r.near_field.propagating_rms_phase_error,
    );
    let v = serde_json::json!({
        "label": label,
        "polarization": r.polarization,
        "harmonics": r.supercell.harmonics,
        "margin_um": r.supercell.margin_um,
        "solve_seconds": r.supercell.solve_seconds,
        "energy_error": r.supercell.energy_error,
        "library_phase_coverage_rad": r.library.phase_coverage,
        "layout_rms_phase_error_rad": r.layout.rms_phase_error,
        "near_field_rms_phase_error_rad": r.near_field.rms_phase_error,
        "near_field_propagating_rms_phase_error_rad": r.near_field.propagating_rms_phase_error,
        "fullwave": fw, "lpa": lpa, "ideal": r.ideal,
        "transmission_efficiency_e_given": r.transmission_efficiency_e_given,
    });
    (s, v)
}

const HEADER: &str = "| case | pol | solve s | R+T−1 | incident_r3 FW / LPA | transmitted_r3 FW / LPA | transmission FW / LPA | FWHM µm FW / LPA | Strehl FW / LPA | focal shift µm FW / LPA | near-field RMS phase err, propagating part (rad) |\n|---|---|---|---|---|---|---|---|---|---|---|";

fn write(dir: &Path, name: &str, v: &serde_json::Value) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, serde_json::to_string_pretty(v).unwrap()).unwrap();
    std::fs::rename(&tmp, &p).unwrap();
}

fn convergence(dir: &Path) {
    let d = FullwaveDesign::load(Path::new("designs/fullwave-mk1.toml"))
        .unwrap()
        .0
        .design()
        .unwrap();
    let mut all = vec![];
    println!("### Harmonics (margin 10 µm, period 49.92 µm)\n\n{HEADER}");
    for pol in [Polarization::Te, Polarization::Tm] {
        for m in [300usize, 600, 832, 1200] {
            let o = RunOptions {
                harmonics: Some(m),
                ..Default::default()
            };
            let r = run_polarization(&d, pol, &o, &|_| {}).unwrap();
            let (s, v) = row(&format!("M = {m}"), &r);
            println!("{s}");
            all.push(v);
        }
    }
    println!(
        "\n### Margin (harmonics auto: 1 sample across the narrowest 0.03 µm feature)\n\n{HEADER}"
    );
    for pol in [Polarization::Te, Polarization::Tm] {
        for margin in [2.1, 5.0, 10.0, 15.0] {
            let o = RunOptions {
                margin: Some(margin),
                ..Default::default()
            };
            let r = run_polarization(&d, pol, &o, &|_| {}).unwrap();
            let (s, v) = row(
                &format!("margin {margin} µm (M = {})", r.supercell.harmonics),
                &r,
            );
            println!("{s}");
            all.push(v);
        }
    }
    write(dir, "convergence.json", &serde_json::Value::Array(all));
    plot_convergence(dir);
}

fn laurent(dir: &Path) {
    let g = Grating {
        period: 0.3,
        height: 1.0,
        ridges: vec![Ridge {
            center: 0.0,
            width: 0.15,
        }],
        eps_ridge: C64::new(2.74f64.powi(2), 0.0),
        eps_substrate: C64::new(1.455f64.powi(2), 0.0),
        eps_exit: C64::new(1.0, 0.0),
    };
    let lam = 0.685;
    let reference = solve(
        &g,
        lam,
        800,
        Polarization::Tm,
        Basis::Even,
        Factorization::Li,
    )
    .unwrap()
    .t0;
    println!("TM grating, period 0.30 µm, ridge 0.15 µm, h 1.0 µm; reference Li M = 800: t0 = {reference:.6}\n");
    println!("| M | abs(t0 − ref) Li | abs(t0 − ref) Laurent |\n|---|---|---|");
    let mut v = vec![];
    for m in [5usize, 10, 20, 40, 80, 160, 320] {
        let li = solve(&g, lam, m, Polarization::Tm, Basis::Even, Factorization::Li)
            .unwrap()
            .t0;
        let la = solve(
            &g,
            lam,
            m,
            Polarization::Tm,
            Basis::Even,
            Factorization::Laurent,
        )
        .unwrap()
        .t0;
        let (a, b) = ((li - reference).norm(), (la - reference).norm());
        println!("| {m} | {a:.2e} | {b:.2e} |");
        v.push(serde_json::json!({"harmonics": m, "li_error": a, "laurent_error": b}));
    }
    write(dir, "laurent.json", &serde_json::Value::Array(v));
}

/// The resolution floor of the comparison: a "lens" of identical ridges (a finite grating of
/// 136 ridges in the supercell, harmonics auto) against the library's own t for that width.
/// The centre cell must reproduce the library (its neighbours are identical); the difference is
/// what the supercell's coarser harmonic resolution costs.
fn floor(dir: &Path) {
    use metalens::fullwave::grating_library;
    // optional: "floor DIR SAMPLES RIDGES" (samples per narrowest feature, ridge count)
    let samples: Option<f64> = std::env::args().nth(3).map(|s| s.parse().unwrap());
    let ridges: Option<usize> = std::env::args().nth(4).map(|s| s.parse().unwrap());
    let mut v = vec![];
    println!("| pitch µm | pol | width µm | M | abs(F_centre / F_library) | phase diff (rad) |\n|---|---|---|---|---|---|");
    for p in [0.22, 0.30] {
        let d = schema(0.9, p);
        let typed = d.design().unwrap();
        let (es, ee) = (typed.eps_substrate, typed.eps_exit);
        let (n_sub, n_exit) = (es.sqrt().re, ee.sqrt().re);
        for pol in [Polarization::Te, Polarization::Tm] {
            let lib = grating_library(&typed, p, 1.0, pol).unwrap();
            let nw = lib.widths.len();
            for iw in [0, nw / 2, nw - 1] {
                let w = lib.widths[iw];
                let mut d = d.clone();
                let count = ridges.unwrap_or(d.ridge_count());
                d.lens.width = count as f64 * p + 1e-9;
                if ridges.is_some() {
                    d.supercell.margin = 2.1;
                }
                let g = Grating {
                    period: d.period(),
                    height: 1.0,
                    ridges: (0..count)
                        .map(|j| Ridge {
                            center: (j as f64 - 0.5 * (count as f64 - 1.0)) * p,
                            width: w,
                        })
                        .collect(),
                    eps_ridge: C64::new(2.74f64.powi(2), 0.0),
                    eps_substrate: es,
                    eps_exit: ee,
                };
                let m = match samples {
                    Some(sm) => d.harmonics_for(sm),
                    None => d.supercell_harmonics().unwrap(),
                };
                let s = solve(&g, 0.685, m, pol, Basis::Even, Factorization::Li).unwrap();
                // centre cell (x = ±p/2 around the ridge at 0 when count is odd, else a cell
                // centred at p/2)
                let xc = if count % 2 == 1 { 0.0 } else { 0.5 * p };
                let mut avg = C64::new(0.0, 0.0);
                for (i, ti) in s.t.iter().enumerate() {
                    let kx = 2.0 * std::f64::consts::PI * (i as f64 - m as f64) / s.period;
                    let u = 0.5 * kx * p;
                    let sinc = if u == 0.0 { 1.0 } else { u.sin() / u };
                    avg += ti * C64::from_polar(sinc, kx * xc);
                }
                let (fw, lpa) = match pol {
                    Polarization::Te => (avg, lib.t[iw]),
                    Polarization::Tm => (avg * n_sub, lib.t[iw] * n_exit),
                };
                let r = fw / lpa;
                println!(
                    "| {p} | {} | {w:.4} | {m} | {:.4} | {:.4} |",
                    pol.name(),
                    r.norm(),
                    r.arg()
                );
                v.push(serde_json::json!({"pitch_um": p, "polarization": pol, "width_um": w, "harmonics": m, "amplitude_ratio": r.norm(), "phase_difference_rad": r.arg()}));
            }
        }
    }
    let name = match (samples, ridges) {
        (Some(sm), Some(r)) => format!("floor-{sm}-{r}.json"),
        _ => "floor.json".into(),
    };
    write(dir, &name, &serde_json::Value::Array(v));
}

fn study(dir: &Path) {
    let nas = [0.5, 0.7, 0.9, 0.95, 0.99];
    let pitches: Vec<f64> = std::env::args()
        .nth(3)
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![0.22, 0.30]);
    let mut all = vec![];
    println!("{HEADER}");
    for &p in &pitches {
        for &na in &nas {
            let d = design(na, p);
            for pol in [Polarization::Te, Polarization::Tm] {
                let r = run_polarization(&d, pol, &RunOptions::default(), &|_| {}).unwrap();
                let (s, mut v) = row(&format!("NA {na}, pitch {p}"), &r);
                v["na"] = na.into();
                v["pitch_um"] = p.into();
                println!("{s}");
                all.push(v);
                write(dir, "study.json", &serde_json::Value::Array(all.clone()));
            }
        }
    }
    plot_study(dir, &all);
}

fn plot_study(dir: &Path, all: &[serde_json::Value]) {
    metalens::plot::init_fonts();
    let path = dir.join("study.png");
    let tmp = dir.join("study.tmp.png");
    {
        let root = BitMapBackend::new(&tmp, (1400, 1000)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let areas = root.split_evenly((2, 2));
        let panels = [
            ("te", "incident_r3"),
            ("tm", "incident_r3"),
            ("te", "transmitted_r3"),
            ("tm", "transmitted_r3"),
        ];
        let pitches: Vec<f64> = {
            let mut v: Vec<f64> = all
                .iter()
                .map(|r| r["pitch_um"].as_f64().unwrap())
                .collect();
            v.dedup();
            v.sort_by(|a, b| a.total_cmp(b));
            v.dedup();
            v
        };
        let colours = [
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
            RGBColor(44, 160, 44),
        ];
        for (area, (pol, key)) in areas.iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!(
                        "{} {key}: full-wave (solid) vs LPA (dashed)",
                        pol.to_uppercase()
                    ),
                    ("sans-serif", 18),
                )
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(50)
                .build_cartesian_2d(0.45..1.0, 0.0..1.0)
                .unwrap();
            chart
                .configure_mesh()
                .x_desc("NA")
                .y_desc(key)
                .draw()
                .unwrap();
            for (ip, &p) in pitches.iter().enumerate() {
                let c = colours[ip % 3];
                let pts = |which: &str| -> Vec<(f64, f64)> {
                    all.iter()
                        .filter(|r| r["polarization"] == pol && r["pitch_um"].as_f64() == Some(p))
                        .map(|r| {
                            (
                                r["na"].as_f64().unwrap(),
                                r[which]["efficiency"][key].as_f64().unwrap(),
                            )
                        })
                        .collect()
                };
                chart
                    .draw_series(LineSeries::new(pts("fullwave"), c.stroke_width(2)))
                    .unwrap()
                    .label(format!("pitch {p} µm"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(DashedLineSeries::new(pts("lpa"), 6, 4, c.stroke_width(2)))
                    .unwrap();
                chart
                    .draw_series(
                        pts("fullwave")
                            .into_iter()
                            .map(|q| Circle::new(q, 4, c.filled())),
                    )
                    .unwrap();
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .unwrap();
        }
        root.present().unwrap();
    }
    std::fs::rename(&tmp, &path).unwrap();
}

/// convergence.png: incident_r3 and transmitted_r3 of the full-wave Mk1 lens against the
/// harmonics M and the margin (from convergence.json).
fn plot_convergence(dir: &Path) {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("convergence.json")).unwrap())
            .unwrap();
    metalens::plot::init_fonts();
    let path = dir.join("convergence.png");
    let tmp = dir.join("convergence.tmp.png");
    {
        let root = BitMapBackend::new(&tmp, (1400, 550)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let areas = root.split_evenly((1, 2));
        let by_m: Vec<&serde_json::Value> = all
            .iter()
            .filter(|r| r["label"].as_str().unwrap().starts_with("M ="))
            .collect();
        let by_margin: Vec<&serde_json::Value> = all
            .iter()
            .filter(|r| r["label"].as_str().unwrap().starts_with("margin"))
            .collect();
        for (area, (rows, xkey, xlabel)) in areas.iter().zip([
            (&by_m, "harmonics", "harmonics M (margin 10 µm)"),
            (&by_margin, "margin_um", "margin µm (M auto)"),
        ]) {
            let xs: Vec<f64> = rows.iter().map(|r| r[xkey].as_f64().unwrap()).collect();
            let (x0, x1) = (
                xs.iter().cloned().fold(f64::MAX, f64::min),
                xs.iter().cloned().fold(f64::MIN, f64::max),
            );
            let mut chart = ChartBuilder::on(area)
                .caption(format!("Mk1 1-D full-wave vs {xlabel}"), ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(50)
                .build_cartesian_2d(x0 * 0.9..x1 * 1.05, 0.4..0.8)
                .unwrap();
            chart
                .configure_mesh()
                .x_desc(xlabel)
                .y_desc("efficiency")
                .draw()
                .unwrap();
            let colours = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];
            for (ip, pol) in ["te", "tm"].iter().enumerate() {
                for (key, dashed) in [("incident_r3", false), ("transmitted_r3", true)] {
                    let pts: Vec<(f64, f64)> = rows
                        .iter()
                        .filter(|r| r["polarization"] == *pol)
                        .map(|r| {
                            (
                                r[xkey].as_f64().unwrap(),
                                r["fullwave"]["efficiency"][key].as_f64().unwrap(),
                            )
                        })
                        .collect();
                    let c = colours[ip];
                    if dashed {
                        chart
                            .draw_series(DashedLineSeries::new(
                                pts.clone(),
                                6,
                                4,
                                c.stroke_width(2),
                            ))
                            .unwrap();
                    } else {
                        chart
                            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                            .unwrap()
                            .label(format!(
                                "{pol}: incident_r3 (solid), transmitted_r3 (dashed)"
                            ))
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                            });
                    }
                    chart
                        .draw_series(pts.into_iter().map(|q| Circle::new(q, 4, c.filled())))
                        .unwrap();
                }
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .unwrap();
        }
        root.present().unwrap();
    }
    std::fs::rename(&tmp, &path).unwrap();
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "study".into());
    let dir = PathBuf::from(
        std::env::args()
            .nth(2)
            .unwrap_or_else(|| "validation/fullwave".into()),
    );
    match mode.as_str() {
        "convergence" => convergence(&dir),
        "laurent" => laurent(&dir),
        "floor" => floor(&dir),
        "plot-convergence" => plot_convergence(&dir),
        "study" => study(&dir),
        "plot" => {
            let v: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(dir.join("study.json")).unwrap())
                    .unwrap();
            plot_study(&dir, &v)
        }
        _ => eprintln!("modes: convergence | study | laurent | plot"),
    }
}
