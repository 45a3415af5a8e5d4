//! Convergence of the phase library in the harmonic count, and its cost.
//!
//! For a built-in design (default pitch-sweep; mk1 and mk2 share its cell) every `STRIDE`-th
//! radius at every pitch is solved at each harmonic count and at a reference count; the table
//! gives, over every valid cell, the largest phase difference (°) and the largest |Δt| against
//! the reference, and the wall time of the sweep (2 threads, or RAYON_NUM_THREADS). A count
//! "passes" when every cell is within 0.5° and 1e-3 of the reference. The last rows time the
//! solver as it was before the plan (sectors, complex eigensolve, S-matrices; one solve per
//! cell) at 200 harmonics, the previous library default.
//!
//! `cargo run --release --example library_convergence -- [DESIGN] [STRIDE] [REF] [N1 N2 ...]`

use metalens::cell::{Incidence, PillarCell, Polarization};
use metalens::io::design::Design;
use metalens::library::sweep::{
    rcwa_height_solver, sweep, sweep_heights, CellPoint, CellResult, SweepOptions, SweepSpec,
};
use metalens::material::Material;
use metalens::rcwa::{solve_with_paths, Paths, Settings};
use metalens::C64;

fn old_solver(spec: &SweepSpec) -> impl Fn(&CellPoint) -> metalens::Result<CellResult> + Sync {
    let pillar = Material::parse(&spec.pillar).unwrap();
    let substrate = Material::parse(&spec.substrate).unwrap();
    let exit = Material::parse(&spec.exit).unwrap();
    let settings = Settings {
        harmonics: spec.harmonics,
        ..Default::default()
    };
    let lattice = spec.lattice;
    let before = Paths {
        symmetry: true,
        real: false,
        direct: false,
    };
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
            before,
        )?;
        Ok(CellResult {
            t: [sx.jones_t[0][0], sx.jones_t[1][1]],
            transmittance: [sx.transmittance; 2],
            reflectance: [sx.reflectance; 2],
        })
    }
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
    if counts.is_empty() {
        counts = vec![200, 300, 400, 500, 600, 800];
    }
    let (d, _) = Design::builtin(&design).unwrap();
    let mut spec = SweepSpec::from_design(&d).unwrap();
    spec.radii = spec.radii.iter().copied().step_by(stride).collect();
    let run = |h: usize| {
        let mut s = spec.clone();
        s.harmonics = h;
        let rep = sweep_heights(
            &s,
            rcwa_height_solver(&s).unwrap(),
            &SweepOptions::default(),
        )
        .unwrap();
        (rep.library, rep.elapsed_s)
    };
    let (lib_ref, t_ref) = run(reference);
    println!(
        "Design {design}: {} pitches × {} radii (every {stride}th), {} wavelength(s), {} height(s); reference {} harmonics ({:.1} s).\n",
        spec.pitches.len(),
        spec.radii.len(),
        spec.wavelengths.len(),
        spec.heights.len(),
        reference,
        t_ref
    );
    println!("| harmonics | cells | max abs Δ arg t (°) | max abs Δt | worst cell (pitch, radius µm) | passes 0.5° and 1e-3 | sweep wall time (s) |");
    println!("|---|---|---|---|---|---|---|");
    let compare = |lib: &metalens::library::PhaseLibrary| {
        let (mut dphi, mut dt, mut worst, mut cells) = (0.0f64, 0.0f64, (0.0, 0.0), 0);
        for ((idx, &v), &vr) in lib.valid.indexed_iter().zip(lib_ref.valid.iter()) {
            if !(v && vr) {
                continue;
            }
            cells += 1;
            let (iw, ih, ip, ir) = idx;
            let a: C64 = lib.t[[iw, ih, ip, ir, 0]];
            let b: C64 = lib_ref.t[[iw, ih, ip, ir, 0]];
            let ph = (a / b).arg().to_degrees().abs();
            let dd = (a - b).norm();
            if ph > dphi {
                worst = (lib.pitches[ip], lib.radii[ir]);
            }
            dphi = dphi.max(ph);
            dt = dt.max(dd);
        }
        (cells, dphi, dt, worst)
    };
    for &h in &counts {
        let (lib, secs) = run(h);
        let (cells, dphi, dt, worst) = compare(&lib);
        println!(
            "| {h} (kept {}) | {cells} | {dphi:.3} | {dt:.1e} | {:.2}, {:.4} | {} | {secs:.1} |",
            lib.harmonics,
            worst.0,
            worst.1,
            if dphi <= 0.5 && dt <= 1e-3 {
                "yes"
            } else {
                "no"
            },
        );
    }
    let mut s = spec.clone();
    s.harmonics = 200;
    let rep = sweep(&s, old_solver(&s), &SweepOptions::default()).unwrap();
    let (cells, dphi, dt, _) = compare(&rep.library);
    println!(
        "| 200, solver before the plan | {cells} | {dphi:.3} | {dt:.1e} | | | {:.1} |",
        rep.elapsed_s
    );
}
