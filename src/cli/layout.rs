//! `metalens layout` (not implemented yet).

use crate::{Error, Result};

/// Arguments of `metalens layout`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `metalens layout`.
pub fn run(_args: Args) -> Result<()> {
    Err(Error::numerical(
        "cli",
        "`metalens layout` is not implemented yet",
    ))
}
