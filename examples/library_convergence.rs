//! Convergence of the phase library in the harmonic count, per pitch, and the cost of a
//! harmonic rule against the 200-harmonic library of before, measured in the same run.
//!
//! For a built-in design (pitch-sweep, mk1, mk2) every `STRIDE`-th radius at every pitch is
//! solved at a reference count and at each listed count, one pitch at a time; the tables give
//! per pitch and count the largest phase difference (°) and |Δt| against the reference over the
//! valid cells, with the wall time of that pitch's sweep (2 threads, or RAYON_NUM_THREADS).
//! Rules `rule:NREF:PREF:FLOOR` (N(p) = max(FLOOR, round(NREF·(p/PREF)²)), the harmonic
//! density rule) are then run as whole sweeps, and timed beside
//! - the library as it was (200 harmonics for every pitch, `Paths::FAST`, plans and height
//!   reuse),
//! - the solver before the plan (`Paths::REFERENCE`: full basis, complex, S-matrices, one
//!   solve per cell) at 200 harmonics.
//!
//! A count "passes" at 0.5° (phase) and separately at 1e-3 (|Δt|).
//!
//! `cargo run --release --example library_convergence -- [DESIGN] [STRIDE] [REF] [N1 N2 ...] [rule:NREF:PREF:FLOOR ...]`
//! (`SKIP_REFERENCE_PATH=1` leaves out the slow `Paths::REFERENCE` row.)

use metalens::cell::{Incidence, PillarCell, Polarization};
use metalens::io::design::Design;
use metalens::library::sweep::{
    rcwa_height_solver, sweep, sweep_heights, CellPoint, CellResult, HarmonicRule, SweepMaterials,
    SweepOptions, SweepSpec,
};
use metalens::library::PhaseLibrary;
use metalens::rcwa::{solve_with_paths, Paths, Settings};
use metalens::C64;

/// One solve per cell with the given paths, no plan (the solver before plans existed).
fn unplanned_solver(
    spec: &SweepSpec,
    paths: Paths,
) -> impl Fn(&CellPoint) -> metalens::Result<CellResult> + Sync {
    let SweepMaterials {
        pillar,
        substrate,
        exit,
    } = spec.materials.clone();
    let settings = Settings {
        harmonics: spec.settings.harmonics,
        ..Default::default()
    };
    let lattice = spec.settings.lattice;
    move |c: &CellPoint| {
        let stack = PillarCell {
            lattice,
            pitch: c.pitch,
            radius: c.radius,
            height: c.height,
            pillar: pillar.clone(),
            incidence: substrate.clone(),
            exit: exit.clone(),
        }
        .stack()?;
        let sx = solve_with_paths(
            &stack,
            &Incidence::normal(c.wavelength, Polarization::X),
            &settings,
            paths,
        )?;
        Ok(CellResult {
            t: [sx.jones_t[0][0], sx.jones_t[1][1]],
            transmittance: [sx.transmittance; 2],
            reflectance: [sx.reflectance; 2],
        })
    }
}

/// Largest phase difference (°) and |Δt| of the x transmission against the reference, over the
/// cells valid in both; with the cell count and the worst cell (pitch, radius).
fn compare(lib: &PhaseLibrary, lib_ref: &PhaseLibrary) -> (usize, f64, f64, (f64, f64)) {
    let (mut dphi, mut dt, mut worst, mut cells) = (0.0f64, 0.0f64, (0.0, 0.0), 0);
    for (idx, &v) in lib.valid.indexed_iter() {
        if !(v && lib_ref.valid.get(idx).copied().unwrap_or(false)) {
            continue;
        }
        cells += 1;
        let (iw, ih, ip, ir) = idx;
        let a: C64 = lib.t[[iw, ih, ip, ir, 0]];
        let b: C64 = lib_ref.t[[iw, ih, ip, ir, 0]];
        let ph = (a / b).arg().to_degrees().abs();
        if ph > dphi {
            worst = (lib.pitches[ip], lib.radii[ir]);
        }
        dphi = dphi.max(ph);
        dt = dt.max((a - b).norm());
    }
    (cells, dphi, dt, worst)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let design = args
        .first()
        .cloned()
        .unwrap_or_else(|| "pitch-sweep".into());
    let stride: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let reference: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mut counts: Vec<usize> = args.iter().skip(3).filter_map(|a| a.parse().ok()).collect();
    let rules: Vec<HarmonicRule> = args
        .iter()
        .filter_map(|a| a.strip_prefix("rule:"))
        .map(|r| {
            let v: Vec<&str> = r.split(':').collect();
            HarmonicRule {
                reference_harmonics: v[0].parse().unwrap(),
                reference_pitch: v[1].parse().unwrap(),
                floor: v[2].parse().unwrap(),
            }
        })
        .collect();
    if counts.is_empty() {
        counts = vec![200, 300, 400, 500, 600, 800];
    }
    let skip_reference_path = std::env::var("SKIP_REFERENCE_PATH").is_ok();
    let (d, _) = Design::builtin(&design).unwrap();
    let mut spec = SweepSpec::from_design(&d).unwrap();
    spec.settings.harmonic_rule = None;
    spec.settings.radii = spec
        .settings
        .radii
        .iter()
        .copied()
        .step_by(stride)
        .collect();
    let run = |s: &SweepSpec| {
        let rep =
            sweep_heights(s, rcwa_height_solver(s).unwrap(), &SweepOptions::default()).unwrap();
        (rep.library, rep.elapsed_s)
    };
    let at = |pitches: Vec<f64>, h: usize| {
        let mut s = spec.clone();
        // radii below half the largest pitch (a prefix of the radius axis: indices agree)
        let half = 0.5 * pitches.iter().cloned().fold(0.0, f64::max);
        s.settings.radii.retain(|&r| r < half);
        s.settings.pitches = pitches;
        s.settings.harmonics = h;
        s
    };
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    println!(
        "Design {design}: {} pitches × {} radii (every {stride}th), {} wavelength(s), {} height(s); reference {reference} harmonics; load average at start {}.\n",
        spec.settings.pitches.len(),
        spec.settings.radii.len(),
        spec.settings.wavelengths.len(),
        spec.settings.heights.len(),
        load()
    );

    // the reference, one pitch at a time (each pitch's cells are its own sweep)
    let mut refs = Vec::new();
    for &p in &spec.settings.pitches {
        let (lib, secs) = run(&at(vec![p], reference));
        refs.push((lib, secs));
    }
    println!("Per pitch: max abs Δ arg t (°) / max abs Δt against {reference} harmonics / sweep wall time of that pitch (s).\n");
    let mut head = "| harmonics |".to_string();
    let mut rule_line = "|---|".to_string();
    for (i, &p) in spec.settings.pitches.iter().enumerate() {
        let cells = refs[i].0.valid_count();
        head.push_str(&format!(" p {p} µm ({cells} cells) |"));
        rule_line.push_str("---|");
    }
    println!("{head}\n{rule_line}");
    let mut row = format!("| {reference} (reference) |");
    for (_, secs) in &refs {
        row.push_str(&format!(" 0 / 0 / {secs:.1} |"));
    }
    println!("{row}");
    for &h in &counts {
        let mut row = format!("| {h} |");
        for (i, &p) in spec.settings.pitches.iter().enumerate() {
            let s = at(vec![p], h);
            match rcwa_height_solver(&s).and_then(|solver| {
                metalens::library::sweep::sweep_heights(&s, solver, &SweepOptions::default())
            }) {
                Ok(rep) => {
                    let (_, dphi, dt, _) = compare(&rep.library, &refs[i].0);
                    row.push_str(&format!(" {dphi:.3} / {dt:.1e} / {:.2} |", rep.elapsed_s));
                }
                Err(_) => row.push_str(" too few |"),
            }
        }
        println!("{row}");
    }

    // whole sweeps: the rules and the library of before, in the same run
    let mut whole_ref = PhaseLibrary::empty(
        spec.settings.wavelengths.clone(),
        spec.settings.heights.clone(),
        spec.settings.pitches.clone(),
        spec.settings.radii.clone(),
        spec.settings.lattice,
        1.0,
        reference,
    );
    for (ip, (lib, _)) in refs.iter().enumerate() {
        for ((iw, ih, _, ir), &v) in lib.valid.indexed_iter() {
            whole_ref.valid[[iw, ih, ip, ir]] = v;
            for pol in 0..2 {
                whole_ref.t[[iw, ih, ip, ir, pol]] = lib.t[[iw, ih, 0, ir, pol]];
            }
        }
    }
    println!(
        "\nWhole sweeps against {reference} harmonics (load average before this table {}).\n",
        load()
    );
    println!("| sweep | harmonics per pitch | cells | max abs Δ arg t (°) | max abs Δt | worst cell (pitch, radius µm) | ≤ 0.5° | ≤ 1e-3 | wall time (s) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let print = |name: &str, per_pitch: String, lib: &PhaseLibrary, secs: f64| {
        let (cells, dphi, dt, worst) = compare(lib, &whole_ref);
        println!(
            "| {name} | {per_pitch} | {cells} | {dphi:.3} | {dt:.1e} | {:.2}, {:.4} | {} | {} | {secs:.1} |",
            worst.0,
            worst.1,
            if dphi <= 0.5 { "yes" } else { "no" },
            if dt <= 1e-3 { "yes" } else { "no" },
        );
    };
    let base = at(spec.settings.pitches.clone(), 200);
    let (lib200, t200) = run(&base);
    print(
        "library before (200, FAST paths)",
        "200".into(),
        &lib200,
        t200,
    );
    for rule in &rules {
        let mut s = base.clone();
        s.settings.harmonic_rule = Some(*rule);
        let (lib, secs) = run(&s);
        let per: Vec<String> = s
            .settings
            .pitches
            .iter()
            .map(|&p| format!("{}", rule.harmonics_at(p)))
            .collect();
        print(
            &format!(
                "rule {}·(p/{})², floor {}",
                rule.reference_harmonics, rule.reference_pitch, rule.floor
            ),
            per.join(", "),
            &lib,
            secs,
        );
    }
    if !skip_reference_path {
        let rep = sweep(
            &base,
            unplanned_solver(&base, Paths::REFERENCE),
            &SweepOptions::default(),
        )
        .unwrap();
        print(
            "200, Paths::REFERENCE (the solver before the plan)",
            "200".into(),
            &rep.library,
            rep.elapsed_s,
        );
    }
    // the library again at the end: the load may have changed during the run
    let (_, t200b) = run(&base);
    print(
        "library before (200, FAST paths), again",
        "200".into(),
        &lib200,
        t200b,
    );
    println!("\nLoad average at the end {}.", load());
}
