//! `metalens propagate` (not implemented yet).

use crate::{Error, Result};

/// Arguments of `metalens propagate`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `metalens propagate`.
pub fn run(_args: Args) -> Result<()> {
    Err(Error::numerical(
        "cli",
        "`metalens propagate` is not implemented yet",
    ))
}
