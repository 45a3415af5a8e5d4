//! Run safety shared by every command: output preflight, lock files, completion markers and
//! the Ctrl-C flag.
//!
//! - [`preflight_file`] / [`preflight_dir`]: every output path is checked before the first
//!   cell is solved (not a folder where a file is meant and the reverse, parent folder present
//!   and writable, not the same file as an input).
//! - [`Lock`]: `create_new` of a lock file holding the process id, removed on drop; a second
//!   process writing the same output refuses with the pid of the first; a stale lock (its
//!   process is gone, e.g. after `kill -9`) is taken over with a note.
//! - [`write_marker`] / [`marker_matches`]: a completion marker written last, atomically, for
//!   every reusable result; a folder is reused only when its marker is present and matches.
//! - [`install_interrupt_handler`] / [`check_interrupt`]: the first Ctrl-C sets a flag that
//!   long work checks between its work units (library cells, study lenses, stages); the
//!   command then stops with [`Error::Interrupted`] (one line: what was saved and how to
//!   resume; exit code 130) and every temporary file is removed by the normal error paths.
//!   A second Ctrl-C quits at once (exit 130).

use crate::{Error, Result};
use std::path::{Path, PathBuf};

extern "C" fn on_sigint(_: libc::c_int) {
    // only async-signal-safe calls here: an atomic swap and _exit(2). Nothing is printed:
    // the command prints its one line (what was saved, how to resume) when it stops.
    if crate::progress::set_interrupted(true) {
        unsafe { libc::_exit(130) };
    }
}

/// Install the Ctrl-C (SIGINT) handler. Called once by the `metalens` binary.
pub fn install_interrupt_handler() {
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only touches an atomic and async-signal-safe libc calls.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

pub use crate::progress::interrupted;

/// Set the interrupt flag by hand (tests).
pub fn set_interrupted(v: bool) {
    crate::progress::set_interrupted(v);
}

/// Between two work units: `Err(Interrupted)` with the message `saved()` (what was saved and
/// how to resume) when Ctrl-C was pressed.
pub fn check_interrupt(saved: impl FnOnce() -> String) -> Result<()> {
    if interrupted() {
        return Err(Error::Interrupted { message: saved() });
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    // canonical parent + file name, so that a not-yet-existing output compares too
    fn canon(p: &Path) -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let name = p.file_name()?;
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        Some(parent.join(name))
    }
    match (canon(a), canon(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Check that `dir` can take new files: create and remove a probe file.
fn probe_writable(dir: &Path) -> Result<()> {
    let d = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let probe = d.join(format!(".metalens-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(
            d,
            std::io::Error::new(e.kind(), format!("output folder is not writable ({e})")),
        )),
    }
}

/// Check an output FILE path before any work: not an existing folder, its folder exists and is
/// writable, and it is none of `inputs`.
pub fn preflight_file(out: &Path, inputs: &[&Path]) -> Result<()> {
    if out.as_os_str().is_empty() {
        return Err(Error::invalid("output", "''", "give a file name"));
    }
    if out.is_dir() {
        return Err(Error::invalid(
            "output",
            out.display(),
            "is a folder: give a file name (e.g. DIR/name.h5)",
        ));
    }
    for inp in inputs {
        if same_file(out, inp) {
            return Err(Error::invalid(
                "output",
                out.display(),
                format!(
                    "is the input file {}: choose another output name",
                    inp.display()
                ),
            ));
        }
    }
    let parent = out.parent().unwrap_or(Path::new(""));
    if !parent.as_os_str().is_empty() && !parent.is_dir() {
        return Err(Error::io(
            parent,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "output folder does not exist (create it first)",
            ),
        ));
    }
    probe_writable(parent)
}

/// Check (and create) an output FOLDER before any work: not an existing file, writable, and
/// not one of the `inputs`.
pub fn preflight_dir(out: &Path, inputs: &[&Path]) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::invalid(
            "output folder",
            out.display(),
            "is a file: give a folder name",
        ));
    }
    for inp in inputs {
        if same_file(out, inp) {
            return Err(Error::invalid(
                "output folder",
                out.display(),
                format!("is the input {}", inp.display()),
            ));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    probe_writable(out)
}

/// An exclusive claim on an output (file or folder), held while it is being written.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    owned: bool,
}

/// The lock file of `target`: `DIR/.NAME.lock` beside a file, `DIR/.metalens.lock` inside a
/// folder.
pub fn lock_path(target: &Path) -> PathBuf {
    if target.is_dir() {
        return target.join(".metalens.lock");
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    target.with_file_name(format!(".{name}.lock"))
}

fn pid_alive(pid: i32) -> bool {
    // signal 0: existence check; EPERM means it exists but belongs to someone else
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

impl Lock {
    /// Claim `target` (an output file or folder). Refuses when another live process holds it.
    pub fn acquire(target: &Path) -> Result<Lock> {
        let path = lock_path(target);
        let me = std::process::id() as i32;
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(format!("{me}\n").as_bytes())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(Lock { path, owned: true });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid: i32 = text.trim().parse().unwrap_or(0);
                    if pid == me {
                        // the same process again (a stage of `reproduce`): already held
                        return Ok(Lock { path, owned: false });
                    }
                    if pid_alive(pid) {
                        return Err(Error::invalid(
                            "output",
                            target.display(),
                            format!(
                                "is being written by another metalens process (pid {pid}; lock file {}): wait for it to finish, or remove the lock file if that process is not metalens",
                                path.display()
                            ),
                        ));
                    }
                    eprintln!(
                        "note: taking over the stale lock {} (its process {} is gone)",
                        path.display(),
                        if pid > 0 { pid.to_string() } else { "?".into() }
                    );
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::io(
            &path,
            std::io::Error::other("cannot create the lock file"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Name of the completion marker inside a result folder.
pub const MARKER: &str = ".complete";

/// Write the completion marker of `dir` (last, atomically): the tool version and `identity`
/// (everything the result depends on).
pub fn write_marker(dir: &Path, identity: &str) -> Result<()> {
    let text = format!("metalens {}\n{identity}", crate::VERSION);
    crate::io::write_atomic(&dir.join(MARKER), text.as_bytes())
}

/// Whether `dir` holds a complete result for `identity` (marker present and matching).
pub fn marker_matches(dir: &Path, identity: &str) -> bool {
    std::fs::read_to_string(dir.join(MARKER)).ok().as_deref()
        == Some(format!("metalens {}\n{identity}", crate::VERSION).as_str())
}

/// Remove the completion marker of `dir` (before its result is rewritten).
pub fn clear_marker(dir: &Path) -> Result<()> {
    match std::fs::remove_file(dir.join(MARKER)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir.join(MARKER), e)),
    }
}

// ------------------------------------------------------------------------------------------
// atomic writes: the one temporary-file rule of the crate

/// The temporary sibling of `path` used for atomic writes.
pub fn temp_path(path: &Path) -> PathBuf {
    // keep the extension: some writers (image encoders) choose the format from it
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let name = match path.extension() {
        Some(ext) => format!(
            ".{stem}.tmp{}.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.tmp{}", std::process::id()),
    };
    path.with_file_name(name)
}

/// Rename `tmp` onto `path` (atomic on one file system).
pub fn commit_temp(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::io(path, e)
    })
}

/// Write bytes to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    // a failed write (disk full) leaves nothing behind: neither the temporary file nor a
    // half-written result where a rerun could trust it
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    commit_temp(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_refuses_a_live_holder_and_takes_over_a_stale_one() {
        let dir = std::env::temp_dir().join(format!("metalens-guard-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("x.h5");
        // pid 1 is alive on every Unix: a live holder
        std::fs::write(lock_path(&target), "1\n").unwrap();
        let e = Lock::acquire(&target).unwrap_err();
        assert!(e.to_string().contains("pid 1"), "{e}");
        // a pid far above pid_max: gone
        std::fs::write(lock_path(&target), "2147483000\n").unwrap();
        let l = Lock::acquire(&target).unwrap();
        assert!(lock_path(&target).exists());
        drop(l);
        assert!(!lock_path(&target).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
