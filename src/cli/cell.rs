//! `metalens cell`.

use crate::Result;

/// Arguments of `metalens cell`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `metalens cell`.
pub fn run(_args: Args) -> Result<()> {
    Err(crate::Error::numerical("cli", "not implemented yet"))
}
