//! `metalens library` with the RCWA replaced by an analytic stand-in, for the tests of the
//! command line that must not depend on (or wait for) the solver: interrupted and resumed
//! sweeps, bad input, locks.
//!
//! The shipped binary has no test flag. Instead the test binary re-executes itself as a child
//! that runs the same command-line entry, [`metalens::cli::library::run_with_solver`], with
//! [`stand_in`] injected: [`command`] starts it (the child is this file's `child` test, which
//! does nothing unless [`ARGS_VAR`] is set). The child accepts the argv of `metalens` and two
//! flags of its own, `--test-solver` (use the stand-in) and `--test-solver-delay-ms N` (each
//! cell takes N ms, interruptible like a long solve).

#![allow(dead_code)]

use clap::Parser;
use metalens::cli::library::{run, run_with_solver, Args, CellSolver};
use metalens::library::{CellPoint, CellResult, SweepSpec};
use metalens::{Error, Result, C64};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

/// The child's argv (unit-separator joined); its presence makes `child` run the CLI.
pub const ARGS_VAR: &str = "METALENS_FAKE_CLI_ARGS";
const SEP: char = '\u{1f}';

/// Analytic stand-in (no physics claim): the pillar layer as an effective medium of index
/// n_eff² = f n_p² + (1 − f) n_exit² (f the filling fraction),
/// t = √T exp(i 2π (n_eff − n_exit) h / λ), T = 0.95 − 0.1 f, R = 1 − T; each cell takes
/// `delay_ms` (interruptible by Ctrl-C, like a long solve).
pub fn stand_in(delay_ms: u64) -> CellSolver {
    CellSolver(Arc::new(move |spec: &SweepSpec, c: &CellPoint| {
        let t0 = std::time::Instant::now();
        while t0.elapsed().as_millis() < delay_ms as u128 {
            if metalens::progress::interrupted() {
                return Err(Error::Interrupted {
                    message: String::new(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let (np, ne) = (&spec.materials.pillar, &spec.materials.exit);
        let area = metalens::cell::Lattice::of_kind(spec.settings.lattice, c.pitch)?.area();
        let f = std::f64::consts::PI * c.radius * c.radius / area;
        let (n_p, n_e) = (np.index(c.wavelength)?.re, ne.index(c.wavelength)?.re);
        let n_eff = (f * n_p * n_p + (1.0 - f) * n_e * n_e).sqrt();
        let tr = 0.95 - 0.1 * f;
        let t = C64::from_polar(
            tr.sqrt(),
            2.0 * std::f64::consts::PI * (n_eff - n_e) * c.height / c.wavelength,
        );
        Ok(CellResult {
            t: [t, t],
            transmittance: [tr, tr],
            reflectance: [1.0 - tr, 1.0 - tr],
        })
    }))
}

/// `metalens ARGS` run by the child (this test binary re-executed).
pub fn command(args: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut c = Command::new(exe);
    c.args([
        "--exact",
        "fake_cli::child",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(ARGS_VAR, args.join(&SEP.to_string()));
    c
}

/// Run `metalens ARGS` in `dir` through the child and collect its output (the test
/// harness's own "running 1 test" line removed from stdout).
pub fn output(args: &[&str], dir: &Path) -> Output {
    let mut o = command(args).current_dir(dir).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let trimmed = text.trim_start_matches('\n');
    let rest = trimmed.strip_prefix("running 1 test\n").unwrap_or(trimmed);
    o.stdout = rest.as_bytes().to_vec();
    o
}

#[derive(Parser)]
#[command(name = "metalens")]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    Library(Args),
}

/// The child: `metalens library …` with the stand-in when `--test-solver` is given; exits
/// with the CLI's exit code (one line on stderr for an error, as the binary's `main`).
#[test]
fn child() {
    let Ok(joined) = std::env::var(ARGS_VAR) else {
        return;
    };
    let mut argv: Vec<String> = joined.split(SEP).map(String::from).collect();
    let mut solver = None;
    let mut delay_ms = 0;
    if let Some(i) = argv.iter().position(|a| a == "--test-solver-delay-ms") {
        delay_ms = argv[i + 1].parse().expect("--test-solver-delay-ms N");
        argv.drain(i..i + 2);
    }
    if let Some(i) = argv.iter().position(|a| a == "--test-solver") {
        argv.remove(i);
        solver = Some(stand_in(delay_ms));
    }
    let cli = Cli::parse_from(std::iter::once("metalens".to_string()).chain(argv));
    metalens::io::guard::install_interrupt_handler();
    let Sub::Library(args) = cli.command;
    let result: Result<()> = match solver {
        Some(s) => run_with_solver(args, s),
        None => run(args),
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

/// `sh -c "PREFIX; exec <child> ARGS"`: the child run by a shell that sets limits first.
pub fn in_shell(prefix: &str, args: &[&str]) -> Command {
    let child = command(args);
    let line: Vec<String> = std::iter::once(child.get_program())
        .chain(child.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let mut c = Command::new("sh");
    c.args(["-c", &format!("{prefix}; exec {}", line.join(" "))])
        .env(ARGS_VAR, args.join(&SEP.to_string()));
    c
}
