//! clap subcommands, one file each. Each exposes `Args` and `run(Args) -> Result<()>`.

pub mod cell;
pub mod export;
pub mod fullwave;
pub mod fullwave3d;
pub mod layout;
pub mod library;
pub mod progress;
pub mod propagate;
pub mod propagate_nearfield;
pub mod reproduce;
pub mod values;
