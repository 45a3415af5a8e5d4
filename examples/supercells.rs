//! Metagrating supercells of a design (issue 24): the sweep over deflection angle into a
//! resumable HDF5 supercell library, its table (optimised vs LPA staircase, TE/TM), the
//! harmonic convergence of one supercell, and the pillar-count comparison.
//!
//! ```text
//! cargo run --release --example supercells -- sweep DESIGN OUT.h5 ANGLE_DEG...   # resumable
//! cargo run --release --example supercells -- table OUT.h5                      # markdown
//! cargo run --release --example supercells -- convergence DESIGN OUT.h5 ANGLE_DEG DENSITY...
//! cargo run --release --example supercells -- count DESIGN ANGLE_DEG...         # floor vs ceil
//! ```
//!
//! The unit-cell table the LPA staircases come from is the design's phase library (its radii
//! at the lens pitch, its harmonics), swept in-process at the start (~10 s).
//! Single-threaded linear algebra (faer), cells of the phase library on the rayon pool.

use metalens::design::grating::{
    design_supercell, grating_period, pillar_count, sweep_supercells, GratingOptions, GratingSpec,
    PillarCount, SupercellLibrary, SupercellSolver,
};
use metalens::io::design::Design;
use metalens::io::grating_file::{read_supercell_library, write_supercell_library};
use metalens::layout::{Cell, CellTable};
use metalens::library::sweep::{rcwa_cell_solver, sweep, SweepOptions, SweepSpec};
use metalens::progress::Progress;
use std::path::Path;
use std::time::Instant;

/// One line per finished angle on stderr.
struct Lines;
impl Progress for Lines {
    fn inc(&self, _n: u64) {
        eprintln!("  angle done");
    }
}

fn unit_cells(d: &Design) -> metalens::Result<Vec<Cell>> {
    let spec = SweepSpec::from_design(d)?;
    let report = sweep(&spec, rcwa_cell_solver(&spec)?, &SweepOptions::default())?;
    let pitch = match &d.lens {
        Some(l) => l.pitch,
        None => d.pitches()?[0],
    };
    Ok(CellTable::from_library(
        &report.library,
        d.cell.lattice,
        d.source.wavelength,
        Some(d.cell.height),
        pitch,
        None,
    )?
    .cells)
}

fn load(design: &str) -> metalens::Result<(Design, String, GratingSpec)> {
    let (d, text) = Design::resolve(Path::new(design))?;
    let spec = GratingSpec::from_design(&d)?;
    Ok((d, text, spec))
}

fn angles(args: &[String]) -> Vec<f64> {
    args.iter().filter_map(|a| a.parse().ok()).collect()
}

fn run() -> metalens::Result<()> {
    faer::set_global_parallelism(faer::Par::Seq);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("");
    match cmd {
        "sweep" => {
            let (d, text, spec) = load(&args[1])?;
            let out = Path::new(&args[2]);
            let angles = angles(&args[3..]);
            let opts = GratingOptions::default();
            metalens::design::grating::check_angles(&spec, &angles, &opts)?;
            let t0 = Instant::now();
            let cells = unit_cells(&d)?;
            eprintln!(
                "unit cells: {} radii in {:.1} s",
                cells.len(),
                t0.elapsed().as_secs_f64()
            );
            let resume = if out.exists() {
                let lib = read_supercell_library(out)?;
                eprintln!(
                    "resuming {}: {} of {} angles done",
                    out.display(),
                    lib.designs.iter().flatten().count(),
                    lib.designs.len()
                );
                Some(lib)
            } else {
                None
            };
            let mut last = Instant::now();
            let mut save = |lib: &SupercellLibrary| {
                let i = lib
                    .designs
                    .iter()
                    .rposition(|d| d.is_some())
                    .unwrap_or_default();
                if let Some(Some(dz)) = lib.designs.get(i) {
                    eprintln!(
                        "θ {:5.1}°  Λ {:.4} µm  N {}  harm {}  LPA ½(TE+TM) {:.4}  opt {:.4}  ({} solves, {:.0} s)",
                        lib.deflection_deg[i],
                        dz.period_um,
                        dz.optimised.len(),
                        dz.harmonics,
                        dz.lpa_efficiency.mean(),
                        dz.efficiency.mean(),
                        dz.evaluations,
                        last.elapsed().as_secs_f64()
                    );
                }
                last = Instant::now();
                write_supercell_library(out, lib, &spec, &text)
            };
            let lib = sweep_supercells(&spec, &angles, &cells, &opts, resume, &Lines, &mut save)?;
            eprintln!(
                "complete: {} angles in {:.0} s",
                lib.designs.len(),
                t0.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "table" => {
            let lib = read_supercell_library(Path::new(&args[1]))?;
            println!("| θ (°) | Λ (µm) | N | harmonics | LPA TE | LPA TM | LPA ½(TE+TM) | opt TE | opt TM | opt ½(TE+TM) | gain (points) | max \\|1−R−T\\| | solves | optimised radii (µm) | centres x (µm) |");
            println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (a, d) in lib.deflection_deg.iter().zip(&lib.designs) {
                let Some(d) = d else {
                    println!("| {a} | (not computed) |||||||||||||");
                    continue;
                };
                let drift = [d.lpa_efficiency, d.efficiency]
                    .iter()
                    .flat_map(|e| [e.te.absorption.abs(), e.tm.absorption.abs()])
                    .fold(0.0, f64::max);
                let list = |v: &[f64]| {
                    v.iter()
                        .map(|x| format!("{x:.3}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                println!(
                    "| {a} | {:.4} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | **{:.3}** | {:+.1} | {:.0e} | {} | {} | {} |",
                    d.period_um,
                    d.optimised.len(),
                    d.harmonics,
                    d.lpa_efficiency.te.focal,
                    d.lpa_efficiency.tm.focal,
                    d.lpa_efficiency.mean(),
                    d.efficiency.te.focal,
                    d.efficiency.tm.focal,
                    d.efficiency.mean(),
                    100.0 * (d.efficiency.mean() - d.lpa_efficiency.mean()),
                    drift,
                    d.evaluations,
                    list(&d.optimised.radius_um),
                    list(&d.optimised.x_um),
                );
            }
            Ok(())
        }
        "convergence" => {
            let (_, _, spec) = load(&args[1])?;
            let lib = read_supercell_library(Path::new(&args[2]))?;
            let angle: f64 = args[3].parse().expect("angle in degrees");
            let i = lib
                .deflection_deg
                .iter()
                .position(|&a| (a - angle).abs() < 1e-9)
                .expect("angle in the library");
            let d = lib.designs[i].clone().expect("angle computed");
            println!("Supercell θ = {angle}°, Λ = {:.4} µm, N = {} (the optimised geometry and its LPA staircase), harmonics per p × p of area → total harmonics:\n", d.period_um, d.optimised.len());
            println!("| per p × p | harmonics | LPA TE | LPA TM | opt TE | opt TM | opt ½(TE+TM) | max \\|1−R−T\\| | s per solve |");
            println!("|---|---|---|---|---|---|---|---|---|");
            for dens in angles(&args[4..]) {
                let s = SupercellSolver::with_density(&spec, d.period_um, dens as usize)?;
                let t = Instant::now();
                let lpa = s.efficiency(&d.lpa)?;
                let opt = s.efficiency(&d.optimised)?;
                let per = t.elapsed().as_secs_f64() / 2.0;
                let drift = [lpa, opt]
                    .iter()
                    .flat_map(|e| [e.te.absorption.abs(), e.tm.absorption.abs()])
                    .fold(0.0, f64::max);
                println!(
                    "| {dens} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {drift:.0e} | {per:.1} |",
                    s.harmonics(),
                    lpa.te.focal,
                    lpa.tm.focal,
                    opt.te.focal,
                    opt.tm.focal,
                    opt.mean()
                );
            }
            Ok(())
        }
        "count" => {
            let (d, _, spec) = load(&args[1])?;
            let cells = unit_cells(&d)?;
            println!("| θ (°) | Λ (µm) | rule | N | spacing (µm) | LPA ½(TE+TM) | opt ½(TE+TM) | opt TE | opt TM | solves |");
            println!("|---|---|---|---|---|---|---|---|---|---|");
            for a in angles(&args[2..]) {
                for rule in [PillarCount::Floor, PillarCount::Ceil] {
                    let opts = GratingOptions {
                        pillar_count: rule,
                        ..Default::default()
                    };
                    let period = grating_period(&spec, a.to_radians())?;
                    let n = pillar_count(&spec, period, rule)?;
                    let r = design_supercell(
                        &spec,
                        a.to_radians(),
                        &cells,
                        &opts,
                        &metalens::progress::Silent,
                    )?;
                    println!(
                        "| {a} | {period:.4} | {rule:?} | {n} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
                        period / n as f64,
                        r.lpa_efficiency.mean(),
                        r.efficiency.mean(),
                        r.efficiency.te.focal,
                        r.efficiency.tm.focal,
                        r.evaluations
                    );
                }
            }
            Ok(())
        }
        _ => {
            eprintln!("usage: supercells sweep|table|convergence|count ... (see the file's docs)");
            std::process::exit(2);
        }
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
