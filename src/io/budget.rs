//! Size estimates of the heavy jobs, used to refuse a job beyond the machine before any work,
//! with its estimate and what would bring it in range.
//!
//! Calibration (measured with `/usr/bin/time -f %M` on the 2-core reference machine, default
//! `metalens cell`, normal-vector factorisation): N = 213 harmonics 21 MB and 0.29 s,
//! N = 805: 196 MB, 6.2 s; N = 1605: 626 MB, 41 s; N = 3205: 2.45 GB, 362 s. Memory grows as
//! N² (≈ 240 bytes per N², the 2N × 2N complex matrices of the eigenproblem and the
//! S-matrices), time as N³ (dense eigensolve, ≈ 1.1e-8 s per N³). The estimates below take
//! 250 bytes · N² + 20 MB and 1.1e-8 s · N³: within ≈ 20 % of the measurements above N = 800.

use crate::{Error, Result};

/// Bytes of one RCWA unit-cell solve with `harmonics` Fourier harmonics.
pub fn rcwa_bytes(harmonics: usize) -> f64 {
    let n = harmonics as f64;
    250.0 * n * n + 20e6
}

/// Seconds of one RCWA unit-cell solve (one core).
pub fn rcwa_seconds(harmonics: usize) -> f64 {
    let n = harmonics as f64;
    (1.1e-8 * n * n * n).max(0.01)
}

/// Physical memory of this machine (bytes), from /proc/meminfo; 24 GiB when unknown.
/// `METALENS_MEMORY_GB` overrides it (tests, shared machines).
pub fn machine_bytes() -> f64 {
    if let Some(gb) = std::env::var("METALENS_MEMORY_GB")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|g| g.is_finite() && *g > 0.0)
    {
        return gb * 1024f64.powi(3);
    }
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let l = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            l.split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
                .map(|kb| kb * 1024.0)
        })
        .unwrap_or(24.0 * 1024f64.powi(3))
}

/// The share of the machine's memory a job may plan to use.
const USABLE: f64 = 0.8;

/// Human rendering of a byte count.
pub fn bytes(b: f64) -> String {
    let gib = 1024f64.powi(3);
    if b >= 1024.0 * gib {
        format!("{:.1} TiB", b / (1024.0 * gib))
    } else if b >= gib {
        format!("{:.1} GiB", b / gib)
    } else {
        format!("{:.0} MiB", b / 1024f64.powi(2))
    }
}

/// Human rendering of a duration.
pub fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 3.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < 2.0 * 365.0 * 86400.0 {
        format!("{:.0} days", s / 86400.0)
    } else {
        format!("{:.0} years", s / (365.0 * 86400.0))
    }
}

/// Largest harmonic count whose solve fits `per_solve` bytes.
fn max_harmonics(per_solve: f64) -> usize {
    (((per_solve - 20e6).max(0.0) / 250.0).sqrt()) as usize
}

/// Refuse one unit-cell solve beyond the machine (the `cell` command).
pub fn check_cell(harmonics: usize) -> Result<()> {
    let need = rcwa_bytes(harmonics);
    let have = USABLE * machine_bytes();
    if need > have {
        return Err(Error::invalid(
            "harmonics",
            harmonics,
            format!(
                "the solve needs about {} of memory and {} on one core; this machine has {}: use at most about {} harmonics",
                bytes(need),
                duration(rcwa_seconds(harmonics)),
                bytes(machine_bytes()),
                max_harmonics(have)
            ),
        ));
    }
    Ok(())
}

/// Estimate of a library sweep: (bytes, seconds) for `cells` cells at `harmonics` with
/// `solves_per_cell` solves each, on `threads` threads.
pub fn library_estimate(
    cells: f64,
    harmonics: usize,
    solves_per_cell: f64,
    threads: usize,
) -> (f64, f64) {
    // per cell in memory: t (2 complex), T, R (2 each), valid, computed, the checkpoint line
    // and the result list while collecting: ≈ 300 bytes
    let b = threads as f64 * rcwa_bytes(harmonics) + 300.0 * cells;
    let s = cells * solves_per_cell * rcwa_seconds(harmonics) / threads.max(1) as f64;
    (b, s)
}

/// Refuse a library sweep beyond the machine; returns the estimate (bytes, seconds).
pub fn check_library(
    cells: usize,
    harmonics: usize,
    solves_per_cell: f64,
    threads: usize,
) -> Result<(f64, f64)> {
    let (b, s) = library_estimate(cells as f64, harmonics, solves_per_cell, threads);
    let have = USABLE * machine_bytes();
    if b > have || cells > 50_000_000 {
        let per_thread = (have - 300.0 * cells as f64) / threads.max(1) as f64;
        let advice = if threads as f64 * rcwa_bytes(harmonics) > 0.5 * have {
            format!(
                "lower the harmonics to about {} or use fewer threads (--threads)",
                max_harmonics(per_thread.max(0.0))
            )
        } else {
            format!(
                "sweep fewer radii or pitches (at most about {} cells fit), or split it with --shard k/n",
                (((have - threads as f64 * rcwa_bytes(harmonics)) / 300.0).max(0.0) as usize)
                    .min(50_000_000)
            )
        };
        return Err(Error::invalid(
            "library sweep",
            format!("{cells} cells at {harmonics} harmonics"),
            format!(
                "needs about {} of memory and {} on {threads} threads; this machine has {}: {advice}",
                bytes(b),
                duration(s),
                bytes(machine_bytes())
            ),
        ));
    }
    Ok((b, s))
}

/// Estimate of one lens (layout + propagation): (bytes, pillars, FFT size) for a lens of
/// `diameter` µm at `pitch` µm sampled at `samples_per_pitch`, padded ≥ `padding`×.
pub fn lens_estimate(
    diameter: f64,
    pitch: f64,
    samples_per_pitch: usize,
    padding: f64,
) -> (f64, f64, usize) {
    let pillars = std::f64::consts::FRAC_PI_4 * (diameter / pitch).powi(2);
    let m = (diameter / pitch).ceil() * samples_per_pitch as f64;
    let n = (padding * m).ceil().max(1.0);
    let n_fft = n.log2().ceil().exp2().max(n) as usize;
    // layout: ≈ 200 bytes per pillar (centres, t, radius, GDS records); near field: two
    // complex m² maps; propagation: ≈ 8 complex n² arrays (two spectra, five field
    // components, FFT scratch)
    let b = 200.0 * pillars + 2.0 * 16.0 * m * m + 8.0 * 16.0 * (n_fft as f64).powi(2);
    (b, pillars, n_fft)
}

/// Refuse a lens beyond the machine; returns (bytes, pillars, FFT size).
pub fn check_lens(
    diameter: f64,
    pitch: f64,
    samples_per_pitch: usize,
    padding: f64,
) -> Result<(f64, f64, usize)> {
    let (b, pillars, n_fft) = lens_estimate(diameter, pitch, samples_per_pitch, padding);
    let have = USABLE * machine_bytes();
    if b > have {
        let scale = (have / b).sqrt();
        return Err(Error::invalid(
            "lens diameter",
            format!("{diameter} µm"),
            format!(
                "{:.3e} pillars and a {n_fft}² FFT grid need about {} of memory; this machine has {}: use a diameter below about {:.0} µm",
                pillars,
                bytes(b),
                bytes(machine_bytes()),
                diameter * scale
            ),
        ));
    }
    Ok((b, pillars, n_fft))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_match_the_calibration() {
        // measured: N = 1605 → 626 MB, N = 3205 → 2.45 GB (module doc); within 20 %
        for (n, m) in [(1605usize, 626e6), (3205, 2.45e9)] {
            let e = rcwa_bytes(n);
            assert!((e / m - 1.0).abs() < 0.2, "{n}: {e} vs {m}");
        }
        assert!(check_cell(100_000).is_err());
        assert!(check_cell(200).is_ok());
    }
}
