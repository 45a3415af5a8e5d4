//! A small pillar lens end to end by FDTD (layout file → near field → angular spectrum →
//! metrics) and the lens driver's bad-input refusals.

use metalens::cell::{Incidence, LatticeKind, PillarCell, Polarization as CellPol};
use metalens::fdtd::lens::{estimate, solve_lens};
use metalens::fdtd::FdtdSettings;
use metalens::io::layout_file::{write_layout, LayoutFile};
use metalens::layout::{plan_layout, Cell, CellTable, LayoutSettings, PillarSpec, Selection};
use metalens::lens::Lens;
use metalens::material::Material;
use metalens::metrics::pipeline::{run_field_plane_with_ideal, RunOptions};
use metalens::rcwa::{solve, Settings};
use metalens::C64;

const WL: f64 = 0.685;
const PITCH: f64 = 0.22;

/// A 3 µm NA 0.9 Mk-style lens (SRN n 2.74, h 1.0 µm, p 0.22 µm) laid out from an RCWA
/// table of 14 radii, written and read back as a layout file.
fn small_lens(dir: &std::path::Path) -> LayoutFile {
    let cells: Vec<Cell> = (0..14)
        .map(|i| {
            let radius = 0.03 + 0.005 * i as f64;
            let st = PillarCell {
                lattice: LatticeKind::Square,
                pitch: PITCH,
                radius,
                height: 1.0,
                pillar: Material::Constant(C64::new(2.74, 0.0)),
                incidence: Material::Constant(C64::new(1.45, 0.0)),
                exit: Material::Constant(C64::new(1.0, 0.0)),
            }
            .stack()
            .unwrap();
            let t = solve(
                &st,
                &Incidence::normal(WL, CellPol::X),
                &Settings {
                    harmonics: 150,
                    ..Settings::default()
                },
            )
            .unwrap()
            .t;
            Cell { radius, t: [t, t] }
        })
        .collect();
    let table = CellTable::new(cells, vec!["test".into()]).unwrap();
    let lens = Lens::from_na(WL, 0.9, 1.0, 3.0).unwrap();
    let settings = LayoutSettings {
        lattice: LatticeKind::Square,
        pitch: PITCH,
        selection: Selection::ComplexError,
        phase_offset: None,
        min_gap: 0.03,
        poor_phase_threshold: 0.5,
        fill_radius: None,
        incidence_index: 1.45,
        pillar: Some(PillarSpec {
            height: 1.0,
            index: C64::new(2.74, 0.0),
        }),
    };
    let layout = plan_layout(&lens, &settings, table, &indicatif::ProgressBar::hidden()).unwrap();
    let path = dir.join("lens.h5");
    write_layout(&layout, &path).unwrap();
    LayoutFile::load(&path).unwrap()
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-fdtd-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The lens focuses at its design focal length; every efficiency is below the ideal lens's;
/// the Poynting flux of the exported plane equals the solver's own flux. Measured (20 px/µm,
/// 44 × 44 × 53 quarter grid, 3052 steps): T 0.767 (ideal 0.879), incident_r3 0.635 (ideal
/// 0.768), transmitted_r3 0.828 (ideal 0.874), plane flux within 0.6 % of the solver's.
#[test]
fn small_lens_focuses_through_the_pipeline() {
    let dir = tmpdir("lens");
    let lf = small_lens(&dir);
    let prob = lf.lens_problem(None).unwrap();
    let s = settings();
    let est = estimate(&prob, &s).unwrap();
    let sol = solve_lens(&prob, &s, &|_| {}).unwrap();
    let f = &sol.facts[0];
    println!(
        "grid {}×{}×{} steps {} (est {}) {:.2} s {:.1} Mcells/s {:.1} MB (est {:.1} MB) {:.1} B/cell",
        f.nx, f.ny, f.nz, f.steps, est.steps, f.wall_s, f.cell_updates_per_s / 1e6,
        f.bytes as f64 / 1e6, est.bytes as f64 / 1e6, f.bytes as f64 / f.cells as f64
    );
    let fp = &sol.planes[0];
    let spec = prob.spec().unwrap();
    let (meas, ideal) = run_field_plane_with_ideal(fp, &spec, &RunOptions::default()).unwrap();
    let (m, i) = (&meas.report, &ideal.report);
    println!(
        "FDTD: T {:.4} eff {:?} fwhm {:?} strehl {:?} focal shift {:.3}",
        m.transmission_efficiency, m.efficiency, m.fwhm, m.strehl, m.focal_shift_um
    );
    println!(
        "ideal: T {:.4} eff {:?}",
        i.transmission_efficiency, i.efficiency
    );
    println!(
        "fluxes: T {:.4} R {:.4} (of the aperture's incident power)",
        sol.transmitted_flux[0] / sol.incident_power,
        sol.reflected_flux[0] / sol.incident_power
    );
    // focus within a wavelength of the design focal length (f = 0.97 µm... scaled by NA)
    assert!(
        m.focal_shift_um.abs() < WL,
        "focal shift {}",
        m.focal_shift_um
    );
    for (k, v) in &m.efficiency {
        if k.starts_with("transmitted") || k.starts_with("incident") {
            assert!(
                *v > 0.05 && *v < i.efficiency[k] + 1e-9,
                "{k}: {v} vs ideal {}",
                i.efficiency[k]
            );
        }
    }
    assert!(m.transmission_efficiency > 0.3 && m.transmission_efficiency < 1.0);
    // the plane's flux (after interpolation to the nodes) against the solver's own flux:
    // the interpolation is a low-pass of cos(kx dx/2) ≥ 0.95 at NA 0.9 and 20 px/µm
    let p_plane = fp.poynting_flux().unwrap();
    assert!(
        (p_plane - sol.transmitted_flux[0]).abs() < 0.05 * sol.transmitted_flux[0],
        "plane flux {p_plane} vs solver flux {}",
        sol.transmitted_flux[0]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_refused_with_one_line() {
    let dir = tmpdir("bad");
    let lf = small_lens(&dir);
    let ok = lf.lens_problem(None).unwrap();
    let s = FdtdSettings::default();
    let msg = |e: metalens::Error| {
        let m = e.to_string();
        assert_eq!(e.exit_code(), 2, "{m}");
        assert!(!m.contains('\n'), "{m}");
        m
    };
    // resolution too coarse for the smallest pillar (0.06 µm across: needs 8.3 px/µm)
    let coarse = FdtdSettings {
        resolution: 5.0,
        ..s.clone()
    };
    let m = msg(solve_lens(&ok, &coarse, &|_| {}).unwrap_err());
    assert!(m.contains("px/µm") && m.contains("needs"), "{m}");
    // over the memory limit: the message gives the estimate
    let small = FdtdSettings {
        memory_limit_bytes: 1 << 20,
        ..s.clone()
    };
    let m = msg(solve_lens(&ok, &small, &|_| {}).unwrap_err());
    assert!(m.contains("GB") && m.contains("resolution"), "{m}");
    // symmetry on an asymmetric layout
    let mut asym = ok.clone();
    let far = asym
        .centers
        .iter()
        .enumerate()
        .max_by(|a, b| a.1[0].partial_cmp(&b.1[0]).unwrap())
        .unwrap()
        .0;
    asym.centers.remove(far);
    asym.radii.remove(far);
    let m = msg(solve_lens(&asym, &s, &|_| {}).unwrap_err());
    assert!(m.contains("mirror"), "{m}");
    // monitor plane not above the pillar tops
    let inside = FdtdSettings {
        monitor_height_um: -0.2,
        ..s.clone()
    };
    let m = msg(solve_lens(&ok, &inside, &|_| {}).unwrap_err());
    assert!(m.contains("monitor"), "{m}");
    // a layout without the pillar record
    let mut old = lf.clone();
    old.pillar = None;
    let m = msg(old.lens_problem(None).unwrap_err());
    assert!(m.contains("pillar height"), "{m}");
    std::fs::remove_dir_all(&dir).ok();
}

fn settings() -> FdtdSettings {
    FdtdSettings {
        resolution: 20.0,
        decay: 1e-6,
        lateral_margin_um: 0.3,
        lateral_pml_um: 0.4,
        ..FdtdSettings::default()
    }
}

/// The quarter grid (PEC/PMC mirror planes) against the full grid on the same lens: relative
/// L2 difference of Ex measured 4.1e-6 (rounding of f32 fields), which checks the images of
/// the off-diagonal ε⁻¹ coupling across the mirror planes too. Run to a decay of 1e-10, which
/// also checks that the scheme stays stable over 10⁴ steps (the first, non-symmetric form of
/// the coupling diverged after 2·10⁴). About 3 minutes (the full grid is 4× the quarter):
/// `cargo test --release --test fdtd_lens -- --ignored`.
#[test]
#[ignore]
fn quarter_grid_equals_full_grid() {
    let dir = tmpdir("sym");
    let lf = small_lens(&dir);
    let prob = lf.lens_problem(None).unwrap();
    // a decay well below the default, so that the stop step (which may differ by a period
    // between the two runs) does not show in the comparison
    let s = FdtdSettings {
        decay: 1e-10,
        ..settings()
    };
    let sol = solve_lens(&prob, &s, &|_| {}).unwrap();
    // full grid without mirror planes: same near field
    let s_full = FdtdSettings {
        symmetry: false,
        ..s.clone()
    };
    let full = solve_lens(&prob, &s_full, &|_| {}).unwrap();
    let (a, b) = (&sol.planes[0], &full.planes[0]);
    let n = a.ex.len().min(b.ex.len());
    assert_eq!(a.m, b.m);
    let num: f64 = (0..n).map(|q| (a.ex[q] - b.ex[q]).norm_sqr()).sum();
    let den: f64 = (0..n).map(|q| b.ex[q].norm_sqr()).sum();
    println!(
        "quarter vs full grid: relative L2 difference of Ex {:.2e} (steps {} and {})",
        (num / den).sqrt(),
        sol.facts[0].steps,
        full.facts[0].steps
    );
    assert!((num / den).sqrt() < 1e-3);
    std::fs::remove_dir_all(&dir).ok();
}

/// Lenses run without the bulk dispersion correction (`fdtd::lens::LENS_DISPERSION_CORRECTION`):
/// on this lens the coarse grid without it lies closer to a finer grid (also without it, the
/// limit both ways converge to, validation/fullwave3d/README.md) than the coarse grid with it.
/// Measured (quarter grid, decay 1e-5): transmitted_r3 0.8396 at 20 px/µm with the
/// correction, 0.7159 without, 0.7316 at 30 px/µm without: 10.8 points off against 1.6. The
/// bound asks the ordering with a 2× margin; the reference at 30 px/µm is itself ~1 point from
/// its limit on the 5 µm NA 0.9 lens (0.446 against 0.459), far less than the gap tested.
#[test]
fn a_lens_is_closer_to_the_fine_grid_without_the_bulk_dispersion_correction() {
    let dir = tmpdir("dispersion");
    let lf = small_lens(&dir);
    let prob = lf.lens_problem(None).unwrap();
    let spec = prob.spec().unwrap();
    let r3 = |resolution: f64, dispersion_correction: bool| {
        let s = FdtdSettings {
            resolution,
            dispersion_correction,
            decay: metalens::fdtd::lens::LENS_DECAY,
            ..settings()
        };
        let sol = solve_lens(&prob, &s, &|_| {}).unwrap();
        let (meas, _) =
            run_field_plane_with_ideal(&sol.planes[0], &spec, &RunOptions::default()).unwrap();
        meas.report.efficiency["transmitted_r3"]
    };
    // what `metalens fullwave` and `reproduce --fullwave` run
    let cli = metalens::cli::fullwave3d::FullwaveOptions::at_resolution(
        40.0,
        metalens::nearfield::Polarization::X,
    );
    assert!(!cli.settings.dispersion_correction);
    let with = r3(20.0, true);
    let without = r3(20.0, false);
    let fine = r3(30.0, false);
    println!("transmitted_r3: 20 px/µm with {with:.4}, without {without:.4}; 30 without {fine:.4}");
    assert!(
        2.0 * (without - fine).abs() < (with - fine).abs(),
        "with {with}, without {without}, fine {fine}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
