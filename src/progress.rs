//! Progress of a long stage, reported through a small trait that the command line implements
//! with a progress bar ([`crate::cli::progress`]), and the interrupt flag a stage polls (set
//! by the command line's Ctrl-C handler, [`crate::io::guard::install_interrupt_handler`]);
//! the stages themselves know nothing of terminals and signals.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether the run was interrupted (Ctrl-C): long loops stop at the next unit of work.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Set the interrupt flag; returns its previous value (async-signal-safe: one atomic swap).
pub fn set_interrupted(v: bool) -> bool {
    INTERRUPTED.swap(v, Ordering::SeqCst)
}

/// Told how much of a stage's work is done. Every method defaults to doing nothing. Calls
/// come from worker threads (a sweep reports from rayon's pool), hence `Sync`.
pub trait Progress: Sync {
    /// The total amount of work (rows, cells, planes).
    fn set_len(&self, _len: u64) {}
    /// `n` more units done.
    fn inc(&self, _n: u64) {}
    /// `pos` units done so far.
    fn set_position(&self, _pos: u64) {}
    /// A short note beside the count.
    fn set_message(&self, _message: String) {}
    /// The stage is over (a bar clears itself).
    fn finish(&self) {}
}

/// Nothing shown.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}

/// A progress sink that options records can hold: cloned cheaply, silent by default.
#[derive(Clone, Default)]
pub struct Shared(Option<Arc<dyn Progress + Send>>);

impl Shared {
    /// Report to `p`.
    pub fn new(p: impl Progress + Send + 'static) -> Self {
        Shared(Some(Arc::new(p)))
    }
    /// The sink (silent when none was given).
    pub fn get(&self) -> &dyn Progress {
        match &self.0 {
            Some(p) => p.as_ref(),
            None => &Silent,
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Shared(progress)"
        } else {
            "Shared(silent)"
        })
    }
}
