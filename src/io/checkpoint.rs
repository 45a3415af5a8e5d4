//! The checkpoint file of a library sweep: the file implementation of
//! [`crate::library::Checkpoint`].
//!
//! One JSON line per finished cell (bit-exact f64), appended and flushed as the cell finishes,
//! after a header line naming the sweep settings (their fingerprint) and the shard. A line cut
//! short by a crash or Ctrl-C ends the reading, so the checkpoint is always valid; a checkpoint
//! of other settings is refused. Restarting rewrites it atomically ([`crate::io::write_atomic`])
//! with the resumed cells.

use crate::library::sweep::{CellResult, Checkpoint, Shard};
use crate::{Error, Result, C64};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Serialize, Deserialize)]
struct CkptHeader {
    metalens_checkpoint: u32,
    settings: String,
    shard: Option<Shard>,
}

/// One checkpoint line: flat index, t as [re_x, im_x, re_y, im_y], T and R per polarisation.
#[derive(Serialize, Deserialize)]
struct CkptCell {
    i: usize,
    t: [f64; 4],
    tr: [f64; 2],
    rf: [f64; 2],
}

impl CkptCell {
    fn new(i: usize, r: &CellResult) -> Self {
        CkptCell {
            i,
            t: [r.t[0].re, r.t[0].im, r.t[1].re, r.t[1].im],
            tr: r.transmittance,
            rf: r.reflectance,
        }
    }
    fn result(&self) -> CellResult {
        CellResult {
            t: [
                C64::new(self.t[0], self.t[1]),
                C64::new(self.t[2], self.t[3]),
            ],
            transmittance: self.tr,
            reflectance: self.rf,
        }
    }
}

/// A sweep's checkpoint in a file (conventionally `OUT.h5.ckpt` beside the library).
#[derive(Debug)]
pub struct CheckpointFile {
    path: PathBuf,
    /// Open for appending once started.
    file: Mutex<Option<std::fs::File>>,
}

impl CheckpointFile {
    /// The checkpoint at `path` (nothing is read or written until the sweep asks).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CheckpointFile {
            path: path.into(),
            file: Mutex::new(None),
        }
    }

    /// [`CheckpointFile::new`] as the shared journal [`crate::library::SweepOptions`] takes.
    pub fn shared(path: impl Into<PathBuf>) -> Arc<dyn Checkpoint> {
        Arc::new(Self::new(path))
    }
}

impl Checkpoint for CheckpointFile {
    /// A missing file gives no cells; a cut-off last line is ignored.
    fn resume(
        &self,
        fingerprint: &str,
        shard: Option<Shard>,
        cell_count: usize,
    ) -> Result<Vec<(usize, CellResult)>> {
        let path = &self.path;
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut lines = std::io::BufReader::new(f).lines();
        let header = match lines.next() {
            None => return Ok(Vec::new()),
            Some(l) => l.map_err(|e| Error::io(path, e))?,
        };
        let h: CkptHeader = match serde_json::from_str(&header) {
            Ok(h) => h,
            // A header cut short by a crash right at the start: nothing was saved yet.
            Err(_) if lines.next().is_none() => return Ok(Vec::new()),
            Err(_) => {
                return Err(Error::format(
                    path,
                    "not a metalens checkpoint; delete it or choose another output",
                ))
            }
        };
        if h.settings != fingerprint || h.shard != shard {
            return Err(Error::format(
                path,
                "checkpoint of a sweep with other settings (or shard); delete it to start afresh, or rerun with the original settings",
            ));
        }
        let mut cells = Vec::new();
        for line in lines {
            let Ok(line) = line else { break };
            match serde_json::from_str::<CkptCell>(&line) {
                Ok(c) if c.i < cell_count => cells.push((c.i, c.result())),
                _ => break, // a line cut short by an interruption: everything before it is good
            }
        }
        Ok(cells)
    }

    /// Rewrite the file with a header and the given cells (atomically), then keep it open for
    /// appending.
    fn start(
        &self,
        fingerprint: &str,
        shard: Option<Shard>,
        cells: &[(usize, CellResult)],
    ) -> Result<()> {
        let mut text = serde_json::to_string(&CkptHeader {
            metalens_checkpoint: 1,
            settings: fingerprint.to_string(),
            shard,
        })
        .expect("header");
        text.push('\n');
        for &(i, r) in cells {
            text.push_str(&serde_json::to_string(&CkptCell::new(i, &r)).expect("cell"));
            text.push('\n');
        }
        crate::io::write_atomic(&self.path, text.as_bytes())?;
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        *self.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        Ok(())
    }

    fn append(&self, index: usize, cell: &CellResult) -> Result<()> {
        let mut line = serde_json::to_string(&CkptCell::new(index, cell)).expect("cell");
        line.push('\n');
        let mut g = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = g.as_mut() else {
            return Err(Error::io(
                &self.path,
                std::io::Error::other("checkpoint appended to before it was started"),
            ));
        };
        // one write call per line; flushed so that a kill keeps it
        f.write_all(line.as_bytes())
            .and_then(|_| f.flush())
            .map_err(|e| Error::io(&self.path, e))
    }

    fn discard(&self) {
        *self.file.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let _ = std::fs::remove_file(&self.path);
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Whether a library checkpoint holds at least one solved cell (a header-only or empty
/// checkpoint saves nothing and is removed on exit).
pub fn checkpoint_has_cells(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count() > 1)
        .unwrap_or(false)
}

/// The checkpoint file of incidence (iθ, iφ) of a sweep whose checkpoint is `base`: `base`
/// itself for a sweep of one incidence (as before angle axes existed), else
/// `base.theta<θ>-phi<φ>`, so that every incidence resumes on its own.
pub fn incidence_checkpoint(
    base: &Path,
    spec: &crate::library::sweep::SweepSettings,
    itheta: usize,
    iphi: usize,
) -> PathBuf {
    if spec.angle_count() == 1 {
        return base.to_path_buf();
    }
    PathBuf::from(format!(
        "{}.theta{}-phi{}",
        base.display(),
        spec.incidence_theta_deg[itheta],
        spec.incidence_phi_deg[iphi]
    ))
}
