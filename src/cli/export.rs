//! `metalens export meep|tidy3d|lumerical LAYOUT.h5 -o FILE`: a full-wave solver script for a
//! laid-out lens (see [`crate::io::export`]).

use crate::io::export::{self, ExportLens, ExportSettings};
use crate::layout::PillarSpec;
use crate::nearfield::Polarization;
use crate::{Error, Result};
use std::path::PathBuf;

/// The solver a script is written for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Meep (Python; serial or MPI), writes the near-field file itself.
    Meep,
    /// Tidy3D (Python): builds the Simulation; converts its monitor data to the near-field file.
    Tidy3d,
    /// Lumerical FDTD (.lsf): the geometry, source and monitor.
    Lumerical,
}

/// Arguments of `metalens export`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Solver: meep, tidy3d or lumerical.
    pub target: Target,
    /// Layout file (HDF5) written by `metalens layout`.
    pub layout: PathBuf,
    /// Script to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Grid points per µm (Meep resolution, rounded to an integer; the uniform mesh step is
    /// 1/N µm in Tidy3D and Lumerical).
    #[arg(long, default_value_t = 25.0)]
    pub resolution: f64,
    /// Height of the near-field plane above the pillar tops, µm.
    #[arg(long = "plane-height", default_value_t = 0.1)]
    pub plane_height_um: f64,
    /// Lateral margin between the outermost pillar and the absorbing layer, µm.
    #[arg(long = "margin", default_value_t = 1.0)]
    pub margin_um: f64,
    /// Thickness of the absorbing layers (PML), µm.
    #[arg(long = "pml", default_value_t = 0.5)]
    pub pml_um: f64,
    /// Incident polarisation: x or y.
    #[arg(long, default_value = "x")]
    pub polarization: String,
    /// Region outside the lens: opaque (a metal screen, as the LPA default) or bare.
    #[arg(long, default_value = "opaque")]
    pub outside: String,
    /// Pillar height, µm (for layouts that do not record it; overrides the file).
    #[arg(long = "pillar-height")]
    pub pillar_height_um: Option<f64>,
    /// Pillar index at the wavelength (2.74, 2.74+0.01i, srn, an n,k file); with --pillar-height.
    #[arg(long = "pillar-index")]
    pub pillar_index: Option<String>,
}

/// Run `metalens export`.
pub fn run(args: Args) -> Result<()> {
    let polarization = Polarization::parse(&args.polarization)?;
    let opaque_outside = match args.outside.as_str() {
        "opaque" => true,
        "bare" => false,
        o => return Err(Error::invalid("outside", o, "must be opaque or bare")),
    };
    let settings = ExportSettings {
        resolution: args.resolution,
        plane_height_um: args.plane_height_um,
        margin_um: args.margin_um,
        pml_um: args.pml_um,
        polarization,
        opaque_outside,
        source: args.layout.display().to_string(),
    };
    export::check_settings(&settings)?;
    let layout = crate::io::layout_file::LayoutFile::load(&args.layout)?;
    let pillar = match (args.pillar_height_um, &args.pillar_index) {
        (Some(height), Some(index)) => Some(PillarSpec {
            height,
            index: crate::io::material_file::resolve_material(index)?
                .index(layout.lens.wavelength_um)?,
        }),
        (None, None) => None,
        _ => {
            return Err(Error::invalid(
                "pillar",
                "one of --pillar-height, --pillar-index",
                "give both or neither",
            ))
        }
    };
    let lens = ExportLens::from_layout(&layout, pillar)?;
    let text = match args.target {
        Target::Meep => export::meep::script(&lens, &settings),
        Target::Tidy3d => export::tidy3d::script(&lens, &settings),
        Target::Lumerical => export::lumerical::script(&lens, &settings),
    };
    crate::io::write_atomic(&args.output, text.as_bytes())?;
    eprintln!(
        "wrote {} ({:?}, {} pillars, mirror symmetry x {} y {}, resolution {} /µm)",
        args.output.display(),
        args.target,
        lens.radii.len(),
        lens.mirror_x,
        lens.mirror_y,
        args.resolution
    );
    Ok(())
}
