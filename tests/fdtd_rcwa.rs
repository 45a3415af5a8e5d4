//! FDTD unit cells against the crate's RCWA (two independent methods on one cell) and against
//! the shared fmmax reference cell; the resolution study behind validation/fullwave3d/.

use metalens::cell::{LatticeKind, PillarCell, Stack};
use metalens::fdtd::cell::{solve_cell, CellPolarization};
use metalens::fdtd::FdtdSettings;
use metalens::material::Material;
use metalens::rcwa::{solve, Settings};
use metalens::C64;

/// The Mk1/Mk2 cell (designs/mk1.toml): SRN n 2.74 pillars, 1.0 µm tall, pitch 0.22 µm, fused
/// silica below, air above, λ 0.685 µm.
fn mk_cell(radius: f64) -> Stack {
    PillarCell {
        lattice: LatticeKind::Square,
        pitch: 0.22,
        radius,
        height: 1.0,
        pillar: Material::srn(),
        incidence: Material::sio2(),
        exit: Material::Constant(C64::new(1.0, 0.0)),
    }
    .stack()
    .unwrap()
}

/// Converged RCWA (the library uses 250 harmonics).
fn rcwa_t(stack: &Stack, wl: f64, harmonics: usize) -> (C64, f64, f64) {
    let inc = metalens::cell::Incidence::normal(wl, metalens::cell::Polarization::X);
    let s = solve(
        stack,
        &inc,
        &Settings {
            harmonics,
            ..Settings::default()
        },
    )
    .unwrap();
    (s.t, s.transmittance, s.reflectance)
}

fn fdtd(stack: &Stack, wl: f64, res: f64, subpixel: bool) -> metalens::fdtd::cell::CellResult {
    let s = FdtdSettings {
        resolution: res,
        subpixel,
        ..FdtdSettings::default()
    };
    solve_cell(stack, wl, CellPolarization::X, &s)
        .unwrap()
        .results[0]
        .clone()
}

/// At the lens resolution (40 px/µm, `DEFAULT_RESOLUTION`) Mk cells agree with converged RCWA
/// within 1 % in |t| (measured 0.014–0.042 % with the exact planar substrate and air; 0.45–0.58 %
/// with index scaling only; validation/fullwave3d/cell_convergence.md) and
/// R + T = 1 within 1e-3 from the fluxes (measured < 1e-5). The phase is judged as what it
/// means for a pillar: the arg t error divided by d(arg t)/dr of the RCWA is the radius error
/// the grid makes. It must stay below 1.5 nm, 1/16 of a 24 nm cell (measured 0.2 nm at r 0.05
/// and 1.0 nm at r 0.08, where arg t turns by 11°/nm, so 1.0 nm is −11°: 1.5° in degrees is met
/// at r 0.05, not at r 0.08; see the next test for the cell resolution that meets it).
#[test]
fn mk_cell_matches_rcwa_at_lens_resolution() {
    let wl = 0.685;
    let res = metalens::fdtd::DEFAULT_RESOLUTION;
    for radius in [0.05, 0.08] {
        let st = mk_cell(radius);
        let (t_ref, _, _) = rcwa_t(&st, wl, 300);
        let (t_lo, _, _) = rcwa_t(&mk_cell(radius - 0.001), wl, 300);
        let (t_hi, _, _) = rcwa_t(&mk_cell(radius + 0.001), wl, 300);
        let slope_deg_per_nm = (t_hi / t_lo).arg().to_degrees() / 2.0;
        let c = fdtd(&st, wl, res, true);
        let da = (c.t.norm() - t_ref.norm()).abs() / t_ref.norm();
        let dp = (c.t / t_ref).arg().to_degrees();
        let dr_nm = dp / slope_deg_per_nm;
        println!(
            "r {radius}: fdtd t {:.5} rcwa {:.5}: |t| rel {da:.2e} phase {dp:+.3}° ({slope_deg_per_nm:.2}°/nm: radius error {dr_nm:+.3} nm)  R+T-1 {:.2e}",
            c.t,
            t_ref,
            c.transmittance + c.reflectance - 1.0
        );
        assert!(da < 0.01, "radius {radius}: |t| off by {da}");
        assert!(
            dr_nm.abs() < 1.5,
            "radius {radius}: radius error {dr_nm} nm"
        );
        if radius == 0.05 {
            assert!(dp.abs() < 1.5, "radius {radius}: phase off by {dp}°");
        }
        assert!((c.transmittance + c.reflectance - 1.0).abs() < 1e-3);
    }
}

/// At the cell resolution (80 px/µm, `CELL_RESOLUTION`, the default of `metalens cell --solver
/// fdtd`) the steepest Mk cell, r 0.08 (arg t turns by 11°/nm there), agrees with converged RCWA
/// within 1 % in |t| and the 1.5° in phase (measured 0.009 % and −1.16°; every library
/// radius 0.03–0.09 is within 1.46°, cell_convergence.md), and R + T = 1 within 1e-3.
#[test]
fn steepest_mk_cell_within_1p5_degrees_at_cell_resolution() {
    let wl = 0.685;
    let st = mk_cell(0.08);
    let (t_ref, _, _) = rcwa_t(&st, wl, 300);
    let c = fdtd(&st, wl, metalens::fdtd::CELL_RESOLUTION, true);
    let da = (c.t.norm() - t_ref.norm()).abs() / t_ref.norm();
    let dp = (c.t / t_ref).arg().to_degrees();
    println!("r 0.08 at the cell resolution: |t| rel {da:.2e} phase {dp:+.3}°");
    assert!(da < 0.01, "|t| off by {da}");
    assert!(dp.abs() < 1.5, "phase off by {dp}°");
    assert!((c.transmittance + c.reflectance - 1.0).abs() < 1e-3);
}

/// One cell of ../shared/validation/srn_cells.json (fmmax, ~800 harmonics, grid-extrapolated):
/// p 0.35, r 0.09, n 2.9, h 0.75, λ 0.633 → t = 0.56429 + 0.19766i (± 1.3e-3 in |t|, 0.44°).
/// The cell sits on a sharp resonance: the RCWA's arg t turns by 28°/nm of radius there and
/// |t| by 0.08/nm (0.31 at r 0.089, 0.65 at r 0.091), so degrees and |t| say little about a
/// grid; the error is judged, as for the Mk cells, as the radius error it amounts to. Measured
/// (2026-12-02): 80 px/µm −12.3° and −5 % in |t|, i.e. −0.44 nm of radius, 1/28 of a 12.5 nm
/// cell (40 px/µm: −43°, 60: −24°, second order). Bound: 1 nm at the cell resolution.
#[test]
#[ignore]
fn shared_reference_cell_p035_r009() {
    let cell = |radius: f64| {
        PillarCell {
            lattice: LatticeKind::Square,
            pitch: 0.35,
            radius,
            height: 0.75,
            pillar: Material::Constant(C64::new(2.9, 0.0)),
            incidence: Material::Constant(C64::new(1.45, 0.0)),
            exit: Material::Constant(C64::new(1.0, 0.0)),
        }
        .stack()
        .unwrap()
    };
    let st = cell(0.09);
    let t_ref = C64::new(0.5642875485698042, 0.19766039372081617);
    let (t_rcwa, _, _) = rcwa_t(&st, 0.633, 400);
    let (t_lo, _, _) = rcwa_t(&cell(0.089), 0.633, 400);
    let (t_hi, _, _) = rcwa_t(&cell(0.091), 0.633, 400);
    let slope_deg_per_nm = (t_hi / t_lo).arg().to_degrees() / 2.0;
    println!("crate RCWA t {t_rcwa:.5}; d(arg t)/dr {slope_deg_per_nm:.1}°/nm");
    for res in [40.0, 60.0, metalens::fdtd::CELL_RESOLUTION] {
        let c = fdtd(&st, 0.633, res, true);
        let c2 = fdtd(&st, 0.633, res, false);
        let dp = (c.t / t_ref).arg().to_degrees();
        println!(
            "res {res}: fdtd {:.5} staircase {:.5} R+T-1 {:.1e}: |t| rel {:+.2e}, phase {dp:+.2}°, radius error {:+.3} nm",
            c.t,
            c2.t,
            c.transmittance + c.reflectance - 1.0,
            (c.t.norm() - t_ref.norm()) / t_ref.norm(),
            dp / slope_deg_per_nm
        );
        if res == metalens::fdtd::CELL_RESOLUTION {
            assert!((dp / slope_deg_per_nm).abs() < 1.0);
            assert!((c.transmittance + c.reflectance - 1.0).abs() < 1e-3);
        }
    }
}

/// The resolution study (about 2 minutes): |t| and arg t errors against converged RCWA for
/// radii across the Mk library at 20, 30, 40, 60, 80 px/µm, with sub-pixel averaging and with
/// staircasing; writes validation/fullwave3d/cell_convergence.{json,md}.
#[test]
#[ignore]
fn cell_convergence_study() {
    let wl = 0.685;
    let radii = [0.03, 0.05, 0.07, 0.08, 0.09];
    let resolutions = [20.0, 30.0, 40.0, 60.0, 80.0, 120.0];
    let mut rows = Vec::new();
    let mut md = format!(
        "# FDTD unit cells against converged RCWA (Mk cell: p 0.22, h 1.0, SRN n 2.74 on SiO2, air, λ 0.685 µm)\n\n\
         Generated by `cargo test --release --test fdtd_rcwa -- --ignored cell_convergence_study`\n\
         ({} rayon thread(s): the s column is the wall time of one cell run on them).\n\
         Default settings: the dispersion correction on (substrate and air discretised exactly at the\n\
         centre frequency by `fdtd::material::exact_planar`, the pillar layer's indices scaled).\n\
         Resolution is the requested one; the grid uses pitch / round(pitch × resolution).\n\n\
         The last column expresses the phase error as an error of the pillar radius: arg t error\n\
         divided by d(arg t)/dr of the RCWA (central difference over ±1 nm).\n\n\
         | radius µm | px/µm (effective) | method | \\|t\\| rel. error | arg t error ° | R+T−1 | steps | s | equivalent δr nm |\n|---|---|---|---|---|---|---|---|---|\n",
        rayon::current_num_threads()
    );
    for &radius in &radii {
        let st = mk_cell(radius);
        let (t_ref, t_rcwa, r_rcwa) = rcwa_t(&st, wl, 600);
        let (t_lo, _, _) = rcwa_t(&mk_cell(radius - 0.001), wl, 600);
        let (t_hi, _, _) = rcwa_t(&mk_cell(radius + 0.001), wl, 600);
        let dphase_dr_deg_per_nm = (t_hi / t_lo).arg().to_degrees() / 2.0;
        for &res in &resolutions {
            // staircasing only where it shows the trend (it is the comparison, not the method)
            let methods: &[bool] = if res == 40.0 || res == 80.0 {
                &[true, false]
            } else {
                &[true]
            };
            for &subpixel in methods {
                let s = FdtdSettings {
                    resolution: res,
                    subpixel,
                    ..FdtdSettings::default()
                };
                let sol = solve_cell(&st, wl, CellPolarization::X, &s).unwrap();
                let c = &sol.results[0];
                let da = (c.t.norm() - t_ref.norm()) / t_ref.norm();
                let dp = (c.t / t_ref).arg().to_degrees();
                let method = if subpixel { "sub-pixel" } else { "staircase" };
                let dr_nm = dp / dphase_dr_deg_per_nm;
                md.push_str(&format!(
                    "| {radius} | {res} ({:.2}) | {method} | {da:+.2e} | {dp:+.3} | {:+.1e} | {} | {:.2} | {dr_nm:+.3} |\n",
                    sol.resolution_effective,
                    c.transmittance + c.reflectance - 1.0,
                    sol.facts.steps,
                    sol.facts.wall_s
                ));
                rows.push(serde_json::json!({
                    "radius_um": radius, "resolution": res,
                    "resolution_effective": sol.resolution_effective, "method": method,
                    "t_fdtd": [c.t.re, c.t.im], "t_rcwa": [t_ref.re, t_ref.im],
                    "abs_t_rel_error": da, "phase_error_deg": dp,
                    "transmittance": c.transmittance, "reflectance": c.reflectance,
                    "transmittance_rcwa": t_rcwa, "reflectance_rcwa": r_rcwa,
                    "steps": sol.facts.steps, "wall_s": sol.facts.wall_s,
                    "dphase_dr_deg_per_nm": dphase_dr_deg_per_nm, "equivalent_radius_error_nm": dr_nm,
                }));
                println!("{}", md.lines().last().unwrap());
            }
        }
    }
    // observed order between 40 and 80 px/µm (sub-pixel), per radius
    md.push_str("\nObserved order p from the errors e at 40 and 80 px/µm (e ∝ dx^p), sub-pixel averaging (with a sign change in between the ratio means little):\n\n");
    for &radius in &radii {
        let pick = |res: f64, key: &str| {
            rows.iter()
                .find(|r| {
                    r["radius_um"] == radius && r["resolution"] == res && r["method"] == "sub-pixel"
                })
                .map(|r| r[key].as_f64().unwrap().abs())
                .unwrap()
        };
        let pa = (pick(40.0, "abs_t_rel_error") / pick(80.0, "abs_t_rel_error")).log2();
        let pp = (pick(40.0, "phase_error_deg") / pick(80.0, "phase_error_deg")).log2();
        md.push_str(&format!(
            "- r {radius}: |t| order {pa:.2}, phase order {pp:.2}\n"
        ));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/fullwave3d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cell_convergence.md"), md).unwrap();
    std::fs::write(
        dir.join("cell_convergence.json"),
        serde_json::to_string_pretty(&serde_json::json!({"rows": rows})).unwrap(),
    )
    .unwrap();
}
