//! Lens profile, pillar placement, GDSII and HDF5 round trips, bad input.

mod layout_common;
use layout_common::*;

use metalens::cell::LatticeKind;
use metalens::io::gds::{self, GdsLibrary, GdsOptions};
use metalens::io::layout_file::{self, LayoutFile};
use metalens::layout::{plan_layout, CellTable, Layout, LayoutSettings, Selection};
use metalens::lens::{focal_length_for_na, numerical_aperture, wrap_phase, Lens};
use metalens::progress::Silent;
use metalens::C64;
use std::f64::consts::PI;

fn settings(lattice: LatticeKind, selection: Selection) -> LayoutSettings {
    LayoutSettings {
        lattice,
        pitch: PITCH,
        selection,
        phase_offset: None,
        min_gap: 0.05,
        poor_phase_threshold: 0.5,
        fill_radius: None,

        incidence_index: 1.0,
        pillar: None,
    }
}

fn lens(diameter: f64, na: f64) -> Lens {
    Lens::from_na(WAVELENGTH, na, 1.0, diameter).unwrap()
}

fn make(
    lattice: LatticeKind,
    selection: Selection,
    lib: &metalens::library::PhaseLibrary,
    step: Option<f64>,
    l: &Lens,
) -> Layout {
    let table = CellTable::from_library(lib, lattice, WAVELENGTH, None, PITCH, step).unwrap();
    plan_layout(l, &settings(lattice, selection), table, &Silent).unwrap()
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "metalens-layout-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn focal_length_and_na_are_inverse() {
    // D = 2f: the marginal ray is at 45°, NA = n sin 45° (air and immersion n = 1.5)
    assert!((numerical_aperture(20.0, 10.0, 1.0) - 0.5f64.sqrt()).abs() < 1e-14);
    assert!((numerical_aperture(20.0, 10.0, 1.5) - 1.5 * 0.5f64.sqrt()).abs() < 1e-14);
    // NA 0.9 in air, D = 1000: f = 500·√(1 − 0.81)/0.9 = 242.16 µm
    let f = focal_length_for_na(1000.0, 0.9, 1.0).unwrap();
    assert!((f - 500.0 * 0.19f64.sqrt() / 0.9).abs() < 1e-9);
    for (d, na, n) in [
        (1000.0, 0.9, 1.0),
        (50.0, 0.2, 1.0),
        (80.0, 1.3, 1.52),
        (5.0, 0.999, 1.0),
    ] {
        let f = focal_length_for_na(d, na, n).unwrap();
        // round trip to 1e-12 relative (a few roundings of atan/sin)
        assert!(
            (numerical_aperture(d, f, n) - na).abs() < 1e-12 * na,
            "{d} {na} {n}"
        );
    }
}

#[test]
fn converging_lens_phase_decreases_and_rays_meet_at_the_focus() {
    let l = lens(100.0, 0.7);
    let k = 2.0 * PI * l.n_exit / l.wavelength_um;
    let mut prev = l.phase(0.0);
    assert_eq!(prev, 0.0);
    for i in 1..=100 {
        let r = 0.5 * i as f64;
        let ph = l.phase(r);
        assert!(ph < prev, "phase must decrease with r in exp(-i omega t)");
        prev = ph;
        // independent path: the phase cancels the extra path to the focus, φ + k(√(r²+f²) − f) = 0
        let path = (r * r + l.focal_length_um * l.focal_length_um).sqrt() - l.focal_length_um;
        assert!((ph + k * path).abs() < 1e-9 * k * path, "r = {r}");
        // local plane wave exp(i(kx x + kz z)) with kx = dφ/dx (centred difference, h = 1e-4 µm,
        // error O(h²) ~ 1e-9 rad/µm): its ray from (r, 0) must reach the axis at z = f
        let h = 1e-4;
        let kx = (l.phase(r + h) - l.phase(r - h)) / (2.0 * h);
        let kz = (k * k - kx * kx).sqrt();
        let z_cross = r * kz / (-kx);
        assert!(
            (z_cross - l.focal_length_um).abs() < 1e-5 * l.focal_length_um,
            "ray from r = {r} crosses the axis at {z_cross}"
        );
    }
}

#[test]
fn sites_fill_the_aperture_like_a_brute_force_count() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    for (lattice, d) in [
        (LatticeKind::Square, 12.3),
        (LatticeKind::Hex, 12.3),
        (LatticeKind::Square, PITCH),
        (LatticeKind::Hex, 7.0),
    ] {
        let lib = metalens::library::PhaseLibrary {
            lattice,
            ..lib.clone()
        };
        let l = lens(d, 0.5);
        let lay = make(lattice, Selection::ComplexError, &lib, None, &l);
        // independent count: every lattice point n1·a1 + n2·a2 in a large box
        let latt = metalens::cell::Lattice::of_kind(lattice, PITCH).unwrap();
        let mut count = 0u64;
        let m = (d / PITCH) as i64 + 3;
        for n1 in -2 * m..=2 * m {
            for n2 in -m..=m {
                let x = n1 as f64 * latt.a1[0] + n2 as f64 * latt.a2[0];
                let y = n1 as f64 * latt.a1[1] + n2 as f64 * latt.a2[1];
                if x.hypot(y) <= 0.5 * d + 1e-9 * PITCH {
                    count += 1;
                }
            }
        }
        assert_eq!(lay.pillar_count(), count, "{lattice:?} D = {d}");
        assert!(lay.pillars().all(|p| p.x.hypot(p.y) <= 0.5 * d + 1e-9));
    }
}

#[test]
fn exact_synthetic_library_gives_phase_error_of_half_the_phase_step() {
    // 720 cells of |t| = 1 at phases 2πk/720: the best layout has |error| ≤ Δ/2 = 0.25°,
    // and for a target phase spread evenly over the circle RMS = Δ/√12 (uniform rounding).
    let k = 720;
    let step = 2.0 * PI / k as f64;
    for lattice in [LatticeKind::Square, LatticeKind::Hex] {
        let lib = metalens::library::PhaseLibrary {
            lattice,
            ..uniform_phase_library(lattice, k)
        };
        let lay = make(
            lattice,
            Selection::ComplexError,
            &lib,
            None,
            &lens(60.0, 0.8),
        );
        let rep = lay.report();
        assert!(
            rep.max_phase_error <= 0.5 * step + 1e-12,
            "max {} vs half step {}",
            rep.max_phase_error,
            0.5 * step
        );
        // tens of thousands of sites: RMS within 5 % of Δ/√12
        let expect = step / 12f64.sqrt();
        assert!(
            (rep.rms_phase_error - expect).abs() < 0.05 * expect,
            "rms {} vs {}",
            rep.rms_phase_error,
            expect
        );
        // |t| = 1 everywhere: the optimal common amplitude is cos of the phase error ≈ 1
        assert!((rep.amplitude - 1.0).abs() < 1e-4, "a = {}", rep.amplitude);
        assert_eq!(rep.poor_sites, 0);
    }
}

#[test]
fn exactly_interpolable_library_converges_to_zero_phase_error() {
    // t(r) piecewise linear through 1, i, −1, −i, 1: the interpolation reproduces t(r) exactly,
    // so the only error left is the radius grid: it must fall linearly with the step.
    let lib = square_polygon_library(LatticeKind::Square);
    let l = lens(30.0, 0.6);
    let mut errs = Vec::new();
    for step in [1e-4, 1e-5] {
        let lay = make(
            LatticeKind::Square,
            Selection::NearestPhase,
            &lib,
            Some(step),
            &l,
        );
        // largest phase step between neighbouring cells: nearest-phase error ≤ half of it
        let mut ph: Vec<f64> = lay.table.cells.iter().map(|c| c.t_mean().arg()).collect();
        ph.sort_by(f64::total_cmp);
        let max_step = ph
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(2.0 * PI - (ph[ph.len() - 1] - ph[0]), f64::max);
        let rep = lay.report();
        assert!(
            rep.max_phase_error <= 0.5 * max_step + 1e-12,
            "step {step}: {} > {}",
            rep.max_phase_error,
            0.5 * max_step
        );
        errs.push(rep.max_phase_error);
    }
    // dφ/dr ≤ (π/2)/0.02 µm · √2: step 1e-5 µm gives ≤ 1.2e-3 rad; ×10 finer grid → ≈ ×10 smaller
    assert!(errs[1] < 1.2e-3, "{errs:?}");
    assert!(
        errs[0] / errs[1] > 5.0,
        "error must fall with the radius step: {errs:?}"
    );
}

#[test]
fn selection_equals_brute_force_search() {
    // a library with varying amplitude and scrambled phases (fixed LCG seed)
    let mut s = 12345u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let cells: Vec<(f64, C64)> = (0..40)
        .map(|k| {
            (
                0.05 + 0.0025 * k as f64,
                C64::from_polar(0.3 + 0.7 * rnd(), 2.0 * PI * rnd()),
            )
        })
        .collect();
    let lib = library(LatticeKind::Hex, &cells);
    for sel in [Selection::ComplexError, Selection::NearestPhase] {
        let lay = make(LatticeKind::Hex, sel, &lib, Some(0.0005), &lens(25.0, 0.9));
        let a = lay.amplitude;
        let cost = |c: &metalens::layout::Cell, th: f64| -> f64 {
            let rot = C64::from_polar(1.0, -th);
            match sel {
                Selection::ComplexError => {
                    (c.t[0] * rot - a).norm_sqr() + (c.t[1] * rot - a).norm_sqr()
                }
                Selection::NearestPhase => wrap_phase(c.t_mean().arg() - th).abs(),
            }
        };
        let mut n = 0;
        for p in lay.pillars() {
            let th = wrap_phase(lay.lens.phase(p.x.hypot(p.y)) + lay.phase_offset);
            let best = lay
                .table
                .cells
                .iter()
                .map(|c| cost(c, th))
                .fold(f64::INFINITY, f64::min);
            let chosen = cost(&lay.table.cells[p.cell as usize], th);
            // equal up to rounding of the two evaluation orders (1e-12 of the cost scale)
            assert!(
                chosen <= best + 1e-12 * (1.0 + best),
                "{sel:?} at ({}, {}): {chosen} > {best}",
                p.x,
                p.y
            );
            n += 1;
        }
        assert!(n > 5000);
    }
}

#[test]
fn complex_error_selection_beats_nearest_phase_when_amplitude_varies() {
    // bright cells every 30°, dim cells (|t| = 0.1) half-way between: nearest phase takes the
    // dim ones for targets near them, the complex error prefers a bright cell 15° away.
    let mut cells = Vec::new();
    for k in 0..12 {
        cells.push((
            0.05 + 0.01 * k as f64,
            C64::from_polar(1.0, PI / 6.0 * k as f64),
        ));
        cells.push((
            0.055 + 0.01 * k as f64,
            C64::from_polar(0.1, PI / 6.0 * (k as f64 + 0.5)),
        ));
    }
    let lib = library(LatticeKind::Square, &cells);
    let l = lens(30.0, 0.7);
    let ce = make(LatticeKind::Square, Selection::ComplexError, &lib, None, &l).report();
    let np = make(LatticeKind::Square, Selection::NearestPhase, &lib, None, &l).report();
    assert!(
        ce.rms_complex_error < 0.7 * np.rms_complex_error,
        "complex {} vs nearest {}",
        ce.rms_complex_error,
        np.rms_complex_error
    );
    assert!(np.rms_phase_error < ce.rms_phase_error);
}

#[test]
fn fixed_offset_is_used_and_auto_offset_is_no_worse() {
    let lib = uniform_phase_library(LatticeKind::Square, 8);
    let l = lens(20.0, 0.5);
    let auto = make(LatticeKind::Square, Selection::ComplexError, &lib, None, &l);
    let table =
        CellTable::from_library(&lib, LatticeKind::Square, WAVELENGTH, None, PITCH, None).unwrap();
    let mut s = settings(LatticeKind::Square, Selection::ComplexError);
    s.phase_offset = Some(0.2);
    let fixed = plan_layout(&l, &s, table, &Silent).unwrap();
    assert_eq!(fixed.phase_offset, 0.2);
    assert!(auto.report().rms_complex_error <= fixed.report().rms_complex_error + 1e-12);
}

#[test]
fn min_gap_is_pitch_minus_neighbour_radii() {
    let lib = uniform_phase_library(LatticeKind::Hex, 16);
    let lay = make(
        LatticeKind::Hex,
        Selection::ComplexError,
        &lib,
        None,
        &lens(15.0, 0.8),
    );
    let rep = lay.report();
    // brute force over all pairs closer than 1.01 pitch
    let pts: Vec<(f64, f64, f64)> = lay
        .pillars()
        .map(|p| (p.x, p.y, lay.table.cells[p.cell as usize].radius))
        .collect();
    let mut best = f64::INFINITY;
    for i in 0..pts.len() {
        for j in i + 1..pts.len() {
            let d = (pts[i].0 - pts[j].0).hypot(pts[i].1 - pts[j].1);
            if d < 1.01 * PITCH {
                best = best.min(d - pts[i].2 - pts[j].2);
            }
        }
    }
    assert!(
        (rep.min_gap - best).abs() < 1e-12,
        "{} vs {}",
        rep.min_gap,
        best
    );
}

fn flatten(lib: &GdsLibrary) -> (Vec<[i32; 2]>, Vec<f64>) {
    let top = lib.structure("METALENS").expect("top cell");
    let mut pos = Vec::new();
    let mut radii = Vec::new();
    for r in &top.refs {
        let cell = lib.structure(&r.name).expect("referenced cell exists");
        assert_eq!(cell.boundaries.len(), 1);
        let area = cell.boundaries[0].area() * lib.dbu_um * lib.dbu_um;
        let radius = (area / PI).sqrt();
        for p in r.positions() {
            pos.push(p);
            radii.push(radius);
        }
    }
    (pos, radii)
}

#[test]
fn gdsii_reads_back_with_the_right_count_positions_and_radii() {
    let lib = uniform_phase_library(LatticeKind::Hex, 24);
    let lay = make(
        LatticeKind::Hex,
        Selection::ComplexError,
        &lib,
        None,
        &lens(20.0, 0.9),
    );
    let dir = tmpdir("gds");
    for arrays in [true, false] {
        let path = dir.join(format!("lens{arrays}.gds"));
        let opts = GdsOptions {
            vertices: 128,
            dbu_um: 0.001,
            outline_layer: Some(2),
            arrays,
            ..GdsOptions::default()
        };
        let stats = gds::write_layout(&lay, &path, &opts).unwrap();
        let back = GdsLibrary::read(&path).unwrap();
        assert!((back.dbu_um - 0.001).abs() < 1e-15);
        let (pos, radii) = flatten(&back);
        assert_eq!(pos.len() as u64, lay.pillar_count());
        assert_eq!(stats.pillars, lay.pillar_count());
        if arrays {
            assert!(stats.arefs > 0);
        }
        // same order as the layout: row by row, x ascending
        for ((p, r), q) in pos.iter().zip(&radii).zip(lay.pillars()) {
            // positions rounded to the database unit: within dbu/2 (plus float slack)
            assert!(
                (p[0] as f64 * 1e-3 - q.x).abs() <= 0.5e-3 + 1e-9
                    && (p[1] as f64 * 1e-3 - q.y).abs() <= 0.5e-3 + 1e-9
            );
            // area-preserving polygon with corners rounded to 1 nm: radius from area within
            // ~dbu (rounding 128 corners by ≤ 0.5 nm each changes r by well under 1 nm)
            let want = lay.table.cells[q.cell as usize].radius;
            assert!((r - want).abs() < 1e-3, "radius {r} vs {want}");
        }
        let top = back.structure("METALENS").unwrap();
        assert_eq!(top.boundaries.len(), 1);
        assert_eq!(top.boundaries[0].layer, 2);
        let outline_r = (top.boundaries[0].area() * 1e-6 / PI).sqrt();
        assert!((outline_r - 10.0).abs() < 1e-3);
        // one cell per distinct radius used
        let used: std::collections::BTreeSet<i64> = lay
            .pillars()
            .map(|q| (lay.table.cells[q.cell as usize].radius / 1e-3).round() as i64)
            .collect();
        assert_eq!(back.structures.len(), used.len() + 1);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn layout_hdf5_round_trip() {
    let lib = uniform_phase_library(LatticeKind::Square, 24);
    let lay = make(
        LatticeKind::Square,
        Selection::ComplexError,
        &lib,
        Some(0.001),
        &lens(12.0, 0.6),
    );
    let dir = tmpdir("h5");
    let path = dir.join("lens.h5");
    layout_file::write_layout(&lay, &path).unwrap();
    let back = LayoutFile::load(&path).unwrap();
    assert_eq!(back.radii.len() as u64, lay.pillar_count());
    assert_eq!(back.conventions, metalens::CONVENTIONS);
    assert_eq!(back.version, metalens::VERSION);
    assert_eq!(back.lattice, LatticeKind::Square);
    assert_eq!(back.lens, lay.lens);
    assert_eq!(back.phase_offset, lay.phase_offset);
    for (i, p) in lay.pillars().enumerate() {
        let c = &lay.table.cells[p.cell as usize];
        assert_eq!(back.centers[i], [p.x, p.y]);
        assert_eq!(back.radii[i], c.radius);
        assert_eq!(back.t_achieved[i], c.t);
        let t = lay.target(p.x, p.y);
        assert_eq!(back.t_target[i], [t, t]);
    }
    // a foreign file is refused with a one-line message, exit code 2
    let foreign = dir.join("foreign.h5");
    std::fs::write(&foreign, b"not hdf5 at all").unwrap();
    let e = LayoutFile::load(&foreign).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(!e.to_string().contains('\n'));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fill_pillars_cover_the_bounding_square_and_stay_out_of_the_statistics() {
    let lib = uniform_phase_library(LatticeKind::Square, 36);
    let l = lens(9.0, 0.6);
    // a fixed offset: with 36 evenly spaced phases the optimal offset is degenerate (period
    // 10°), and rows starting at other lattice indices move positions by an ulp, enough to
    // pick another of the equivalent optima
    let mut s = settings(LatticeKind::Square, Selection::ComplexError);
    s.phase_offset = Some(0.3);
    let table =
        CellTable::from_library(&lib, LatticeKind::Square, WAVELENGTH, None, PITCH, None).unwrap();
    let empty = plan_layout(&l, &s, table.clone(), &Silent).unwrap();
    s.fill_radius = Some(0.1);
    let filled = plan_layout(&l, &s, table, &Silent).unwrap();
    // square lattice with a site at the centre: (2·floor(4.5/0.3) + 1)² sites in the square
    let side = 2 * (4.5f64 / PITCH + 1e-9).floor() as u64 + 1;
    assert_eq!(filled.pillar_count(), side * side);
    let fill_cell = filled
        .table
        .cells
        .iter()
        .enumerate()
        .min_by(|a, b| {
            (a.1.radius - 0.1)
                .abs()
                .total_cmp(&(b.1.radius - 0.1).abs())
        })
        .unwrap()
        .0;
    for p in filled.pillars() {
        if !filled.is_inside(&p) {
            assert_eq!(p.cell as usize, fill_cell);
            assert_eq!(filled.target(p.x, p.y), C64::new(0.0, 0.0));
        }
    }
    let (re, rf) = (empty.report(), filled.report());
    assert_eq!(rf.pillars, side * side);
    assert_eq!(rf.fill_pillars, side * side - re.pillars);
    // the aperture is laid out identically: same statistics
    // (positions of the two layouts agree to an ulp: statistics to 1e-12 relative)
    assert!(
        (rf.amplitude - re.amplitude).abs() < 1e-12 * re.amplitude,
        "{} {} {} {}",
        rf.amplitude,
        re.amplitude,
        rf.pillars - rf.fill_pillars,
        re.pillars
    );
    assert!((rf.rms_phase_error - re.rms_phase_error).abs() < 1e-12 * re.rms_phase_error);
    assert!((rf.max_phase_error - re.max_phase_error).abs() < 1e-12 * re.max_phase_error);
}
