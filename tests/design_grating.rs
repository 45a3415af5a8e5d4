//! Metagrating supercells (issue 24): two code paths one answer, energy computed from the
//! fields, the optimiser bounded and monotone, bad input refused before any solve, the
//! supercell library file round trip and resume.

use metalens::cell::{Incidence, LatticeKind, PillarCell, Polarization};
use metalens::design::grating::*;
use metalens::io::design::Design;
use metalens::io::grating_file::{read_supercell_library, write_supercell_library};
use metalens::layout::Cell;
use metalens::material::Material;
use metalens::rcwa::{solve, Settings};
use metalens::C64;
use std::f64::consts::PI;

/// Mk1's pillars (SRN n = 2.74, 1 µm tall, fused silica below, air above, pitch 0.22 µm) at a
/// coarse truncation: every test here is a comparison at equal truncation or an exact
/// identity, so it need not be converged.
fn spec(harmonics_per_pitch: usize) -> GratingSpec {
    GratingSpec {
        wavelength_um: 0.685,
        pillar: Material::srn(),
        substrate: Material::sio2(),
        exit: Material::air(),
        height_um: 1.0,
        min_gap_um: 0.03,
        radius_min_um: 0.02,
        radius_max_um: 0.095,
        pitch_um: 0.22,
        harmonics_per_pitch,
    }
}

#[test]
fn a_supercell_of_equal_pillars_is_the_unit_cell() {
    // Three equal pillars at the pitch along x: the supercell 0.66 × 0.22 µm is the square
    // unit cell 0.22 µm repeated, so (i) its zeroth order carries the unit cell's zeroth-order
    // power, and (ii) every order that is not a multiple of 3 along x, the focal order (−1, 0)
    // included, carries nothing. (i) compares two code paths (a 1-pillar square cell through
    // `solve`, a 3-pillar rectangular cell through the supercell solver); their truncations
    // are the same disc |G| ≤ G_max only approximately (different lattices' shells), hence
    // the tolerance 2e-3 on a power of ~0.9 (the truncation error of each at ~100 harmonics
    // per p × p is of that order, validation/design/supercells.md). (ii) is exact: a
    // p-periodic permittivity couples only harmonics that differ by multiples of 2π/p.
    let s = spec(100);
    let r = 0.07;
    let g = SupercellGeometry::even(0.66, 0.22, 3, r);
    let solver = SupercellSolver::with_harmonics(&s, 0.66, 300).unwrap();
    let eff = solver.efficiency(&g).unwrap();
    let cell = PillarCell {
        lattice: LatticeKind::Square,
        pitch: 0.22,
        radius: r,
        height: 1.0,
        pillar: Material::srn(),
        incidence: Material::sio2(),
        exit: Material::air(),
    };
    let stack = cell.stack().unwrap();
    for (pol, powers) in [(Polarization::Y, eff.te), (Polarization::X, eff.tm)] {
        let unit = solve(
            &stack,
            &Incidence::normal(0.685, pol),
            &Settings {
                harmonics: 100,
                ..Default::default()
            },
        )
        .unwrap();
        let t00 = unit.orders.iter().find(|o| (o.m, o.n) == (0, 0)).unwrap().t;
        // the supercell's own zeroth order, from a second solve through the public solver
        let sup = solve(
            &g.stack(&s).unwrap(),
            &Incidence::normal(0.685, pol),
            &Settings {
                harmonics: 300,
                ..Default::default()
            },
        )
        .unwrap();
        let s00 = sup.orders.iter().find(|o| (o.m, o.n) == (0, 0)).unwrap().t;
        assert!(
            (s00 - t00).abs() < 2e-3,
            "{pol:?}: supercell T00 {s00} vs unit cell {t00}"
        );
        assert!(powers.focal < 1e-9, "{pol:?}: focal order {}", powers.focal);
        assert!((powers.transmittance - s00).abs() < 1e-9 + 1e-6 * s00);
    }
}

#[test]
fn energy_is_conserved_lossless_and_absorbed_lossy() {
    // R and T are sums over the orders' Poynting fluxes, never 1 − the other: lossless
    // pillars conserve energy to rounding (symmetrised normal-vector factorisation); lossy
    // ones (k = 0.05) absorb a positive fraction that 1 − R − T measures.
    let s = spec(60);
    let period = grating_period(&s, 60f64.to_radians()).unwrap();
    let mut g = SupercellGeometry::even(period, 0.22, 3, 0.05);
    g.radius_um = vec![0.04, 0.065, 0.09];
    let e = SupercellSolver::new(&s, period)
        .unwrap()
        .efficiency(&g)
        .unwrap();
    for p in [e.te, e.tm] {
        assert!(p.absorption.abs() < 1e-9, "{p:?}");
        assert!(p.focal > 0.0 && p.focal < p.transmittance);
    }
    let lossy = GratingSpec {
        pillar: Material::constant(C64::new(2.74, 0.05)).unwrap(),
        ..s.clone()
    };
    let e = SupercellSolver::new(&lossy, period)
        .unwrap()
        .efficiency(&g)
        .unwrap();
    for p in [e.te, e.tm] {
        assert!(p.absorption > 1e-3, "{p:?}");
    }
}

/// Synthetic unit cells with t = 0.9 exp(−80 i r): phase linear in radius, 6 rad over the
/// design's radii.
fn ramp_cells() -> Vec<Cell> {
    (0..=75)
        .map(|i| {
            let r = 0.02 + 0.001 * i as f64;
            let t = C64::from_polar(0.9, -80.0 * r);
            Cell {
                radius: r,
                t: [t, t],
            }
        })
        .collect()
}

#[test]
fn the_lpa_staircase_descends_the_phase_ramp_within_bounds() {
    // t = 0.9 exp(−80 i r) covers 6 rad over the radii: the staircase of 4 pillars must step
    // the phase down by ~2π/4 per pillar along +x (the lens phase decreases outwards), i.e.
    // the radius up by (π/2)/80 µm, modulo the wrap (0.3 rad: the 0.28 rad the radii do not
    // cover falls on one step), and stay within the bounds.
    let s = spec(60);
    let period = 0.9;
    let g = lpa_staircase(&s, period, 4, &ramp_cells()).unwrap();
    g.check_bounds(&s).unwrap();
    for j in 0..4 {
        let a = g.radius_um[j];
        let b = g.radius_um[(j + 1) % 4];
        let dphi = -80.0 * (b - a);
        let wrapped = (dphi + PI).rem_euclid(2.0 * PI) - PI;
        assert!(
            (wrapped + PI / 2.0).abs() < 0.3,
            "step {j}: {wrapped} rad ({a} → {b} µm)"
        );
    }
}

#[test]
fn the_optimiser_never_returns_worse_and_respects_the_bounds() {
    let s = spec(60);
    let theta = 70f64.to_radians();
    let period = grating_period(&s, theta).unwrap();
    let n = pillar_count(&s, period, PillarCount::Floor).unwrap();
    assert_eq!(n, 3, "Λ = {period} µm");
    let start = lpa_staircase(&s, period, n, &ramp_cells()).unwrap();
    let solver = SupercellSolver::new(&s, period).unwrap();
    let settings = OptimiserSettings {
        max_evaluations: 14,
        restarts: 0,
        random_starts: 4,
        refine: 2,
        ..Default::default()
    };
    let opt = optimise(&solver, &start, &settings, &metalens::progress::Silent).unwrap();
    assert!(opt.efficiency.mean() >= opt.start_efficiency.mean());
    assert!(opt.evaluations <= settings.max_evaluations + 1);
    opt.geometry.check_bounds(&s).unwrap();
    assert!(opt.geometry.min_gap_um() >= s.min_gap_um - 1e-9);
    for &r in &opt.geometry.radius_um {
        assert!((s.radius_min_um - 1e-12..=s.radius_cap_um() + 1e-12).contains(&r));
    }
    // the start's efficiency is the one the solver gives it (the same RCWA, same plan)
    let again = solver.efficiency(&start).unwrap();
    assert!((again.mean() - opt.start_efficiency.mean()).abs() < 1e-12);
    // a geometry beyond the bounds is refused, one line naming the value
    let mut bad = start.clone();
    bad.radius_um[0] = 0.11;
    let e = solver.efficiency(&bad).unwrap_err().to_string();
    assert!(e.contains("0.11") && !e.contains('\n'), "{e}");
}

#[test]
fn unreachable_deflections_are_refused_before_any_solve() {
    // NA ≥ n_exit: sin θ ≥ 1, no grating deflects that far
    let e = deflection_for_na(1.0, 1.0).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("numerical aperture 1") && m.contains("n_exit = 1"),
        "{m}"
    );
    assert_eq!(e.exit_code(), 2);
    assert!(!m.contains('\n'));
    assert!((deflection_for_na(0.9, 1.0).unwrap() - 0.9f64.asin()).abs() < 1e-15);
    let s = spec(60);
    for bad in [0.0, 90.0, 95.0, f64::NAN] {
        let m = grating_period(&s, f64::to_radians(bad))
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("deflection angle") && m.contains("(0°, 90°)"),
            "{m}"
        );
    }
    // 3°: a 13 µm period, ~59 pillars: refused with the range, before the unit cells are
    // even looked at (an empty table would fail later)
    let t = std::time::Instant::now();
    let m = design_supercell(
        &s,
        3f64.to_radians(),
        &[],
        &GratingOptions::default(),
        &metalens::progress::Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(m.contains("2 to 12 pillars") && m.contains("13.08"), "{m}");
    assert!(t.elapsed().as_secs_f64() < 1.0);
    let m = check_angles(&s, &[40.0, 30.0], &GratingOptions::default())
        .unwrap_err()
        .to_string();
    assert!(m.contains("ascending"), "{m}");
}

#[test]
fn the_spec_comes_from_the_design_record() {
    let (d, _) = Design::builtin("mk2").unwrap();
    let s = GratingSpec::from_design(&d).unwrap();
    assert_eq!(s.pitch_um, 0.22);
    assert_eq!((s.radius_min_um, s.radius_max_um), (0.02, 0.095));
    assert_eq!(
        (s.height_um, s.min_gap_um, s.wavelength_um),
        (1.0, 0.03, 0.685)
    );
    assert_eq!(s.exit_index().unwrap(), 1.0);
    // NA 0.99 at the rim: 81.9°, Λ = 0.692 µm, three pillars at 0.231 µm
    let theta = deflection_for_na(0.99, s.exit_index().unwrap()).unwrap();
    let period = grating_period(&s, theta).unwrap();
    assert!((period - 0.685 / 0.99).abs() < 1e-12);
    assert_eq!(pillar_count(&s, period, PillarCount::Floor).unwrap(), 3);
    assert_eq!(pillar_count(&s, period, PillarCount::Ceil).unwrap(), 4);
}

fn fake_design(theta_deg: f64, mean: f64) -> SupercellDesign {
    let s = spec(60);
    let period = grating_period(&s, theta_deg.to_radians()).unwrap();
    let g = SupercellGeometry::even(period, 0.22, 3, 0.05);
    let p = |f: f64| PolarisedPowers {
        focal: f,
        transmittance: 0.9,
        reflectance: 0.1,
        absorption: 0.0,
    };
    SupercellDesign {
        deflection_rad: theta_deg.to_radians(),
        period_um: period,
        harmonics: 123,
        lpa: g.clone(),
        lpa_efficiency: FocalEfficiency {
            te: p(0.3),
            tm: p(0.2),
        },
        optimised: g,
        efficiency: FocalEfficiency {
            te: p(mean),
            tm: p(mean),
        },
        evaluations: 7,
        search_lpa_mean: 0.25,
        search_mean: mean,
    }
}

#[test]
fn the_library_file_round_trips_and_resumes_only_its_own_sweep() {
    let dir = std::env::temp_dir().join(format!("metalens-grating-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cells.h5");
    let s = spec(60);
    let opts = GratingOptions::default();
    let cells = ramp_cells();
    let angles = vec![50.0, 70.0];
    let lib = SupercellLibrary {
        identity: library_identity(&s, &opts, &cells),
        deflection_deg: angles.clone(),
        designs: vec![Some(fake_design(50.0, 0.6)), Some(fake_design(70.0, 0.5))],
    };
    write_supercell_library(&path, &lib, &s, "name = \"t\"").unwrap();
    let back = read_supercell_library(&path).unwrap();
    assert_eq!(back, lib);
    // a finished library resumes without a single solve or save
    let mut saves = 0;
    let again = sweep_supercells(
        &s,
        &angles,
        &cells,
        &opts,
        Some(back.clone()),
        &metalens::progress::Silent,
        &mut |_| {
            saves += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((again, saves), (lib.clone(), 0));
    // another design's library is refused, one line
    let other = GratingSpec {
        height_um: 0.9,
        ..s.clone()
    };
    let m = sweep_supercells(
        &other,
        &angles,
        &cells,
        &opts,
        Some(back),
        &metalens::progress::Silent,
        &mut |_| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(m.contains("another design") && !m.contains('\n'), "{m}");
    // an unfinished library is marked so and reads back its missing angle as None
    let partial = SupercellLibrary {
        designs: vec![Some(fake_design(50.0, 0.6)), None],
        ..lib
    };
    write_supercell_library(&path, &partial, &s, "").unwrap();
    assert_eq!(read_supercell_library(&path).unwrap(), partial);
    let _ = std::fs::remove_dir_all(&dir);
}
