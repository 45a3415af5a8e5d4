//! The `metalens` command line: parse, call into the library, map errors to exit codes.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "metalens",
    version,
    about = "Design engine for high-NA SRN-pillar metalenses (micrometres, exp(-i omega t))"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve one periodic unit cell with RCWA and print t, r and the diffraction orders.
    Cell(metalens::cli::cell::Args),
    /// Sweep pillar radius x pitch (x height x wavelength) into an HDF5 phase library.
    Library(metalens::cli::library::Args),
    /// Place pillars for a target lens from a phase library; export HDF5 and GDSII.
    Layout(metalens::cli::layout::Args),
    /// Propagate a layout (or an ideal lens) to the focus and measure the spot.
    Propagate(metalens::cli::propagate::Args),
    /// Library → layout → propagation → metrics and a report, for a built-in design (mk1, mk2,
    /// pitch-sweep) or a design file.
    Reproduce(metalens::cli::reproduce::Args),
    /// Same as `reproduce`, for any design file: `metalens run DESIGN.toml`.
    Run(metalens::cli::reproduce::Args),
    /// Full-wave check of the local periodic approximation: a 1-D lens by supercell RCWA, or a
    /// laid-out 2-D pillar lens (layout file) by the built-in 3-D FDTD.
    Fullwave(metalens::cli::fullwave::Args),
    /// A Meep, Tidy3D or Lumerical script for a laid-out lens.
    Export(metalens::cli::export::Args),
}

fn main() {
    let cli = Cli::parse();
    metalens::io::guard::install_interrupt_handler();
    let result = match cli.command {
        Command::Cell(a) => metalens::cli::cell::run(a),
        Command::Library(a) => metalens::cli::library::run(a),
        Command::Layout(a) => metalens::cli::layout::run(a),
        Command::Propagate(a) => metalens::cli::propagate::run(a),
        Command::Reproduce(a) | Command::Run(a) => metalens::cli::reproduce::run(a),
        Command::Fullwave(a) => metalens::cli::fullwave::run(a),
        Command::Export(a) => metalens::cli::export::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
