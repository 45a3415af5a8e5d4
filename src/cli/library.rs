//! `metalens library` (not implemented yet).

use crate::{Error, Result};

/// Arguments of `metalens library`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `metalens library`.
pub fn run(_args: Args) -> Result<()> {
    Err(Error::numerical(
        "cli",
        "`metalens library` is not implemented yet",
    ))
}
