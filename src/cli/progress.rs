//! Progress bars (indicatif) for the stages' [`Progress`] reports; drawn only on a terminal.

use crate::progress::{Progress, Shared};
use std::io::IsTerminal;
use std::sync::Mutex;

impl Progress for indicatif::ProgressBar {
    fn set_len(&self, len: u64) {
        self.set_length(len);
    }
    fn inc(&self, n: u64) {
        indicatif::ProgressBar::inc(self, n);
    }
    fn set_position(&self, pos: u64) {
        indicatif::ProgressBar::set_position(self, pos);
    }
    fn set_message(&self, message: String) {
        indicatif::ProgressBar::set_message(self, message);
    }
    fn finish(&self) {
        self.finish_and_clear();
    }
}

/// Whether bars are drawn: not quiet and stderr a terminal.
pub fn visible(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A bar drawn with `template` (indicatif syntax; None: indicatif's default) when `show`,
/// hidden otherwise.
pub fn bar(show: bool, template: Option<&str>) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(0);
    if let Some(t) = template {
        b.set_style(
            indicatif::ProgressStyle::with_template(t)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
    b
}

/// A fresh bar for every stage that reports (each `set_len` starts one, `finish` clears it).
struct Bars {
    template: Option<String>,
    current: Mutex<Option<indicatif::ProgressBar>>,
}

impl Bars {
    fn with<R>(&self, f: impl FnOnce(&indicatif::ProgressBar) -> R) -> Option<R> {
        let g = self.current.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().map(f)
    }
}

impl Progress for Bars {
    fn set_len(&self, len: u64) {
        let b = bar(true, self.template.as_deref());
        b.set_length(len);
        let mut g = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = g.replace(b) {
            old.finish_and_clear();
        }
    }
    fn inc(&self, n: u64) {
        self.with(|b| b.inc(n));
    }
    fn set_position(&self, pos: u64) {
        self.with(|b| b.set_position(pos));
    }
    fn set_message(&self, message: String) {
        self.with(|b| b.set_message(message));
    }
    fn finish(&self) {
        let mut g = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = g.take() {
            b.finish_and_clear();
        }
    }
}

/// A progress sink for options records: bars with `template` (None: indicatif's default
/// style) when `show`, silence otherwise.
pub fn shared(show: bool, template: Option<&str>) -> Shared {
    if show {
        Shared::new(Bars {
            template: template.map(str::to_string),
            current: Mutex::new(None),
        })
    } else {
        Shared::default()
    }
}
