//! Vectorial angular-spectrum propagation from the aperture plane (z = 0+) into the exit
//! medium.
//!
//! # Method
//! The transverse aperture field (Ex, Ey) from [`crate::nearfield`] is embedded, centred, in a
//! zero-padded n × n grid and transformed once: A(kx, ky) = FFT(E) ÷ n² (crate convention:
//! spectrum = forward FFT ÷ N). At a plane z > 0 each plane wave is multiplied by the transfer
//! function H = exp(i kz z), kz = √(k² − kx² − ky²), k = 2π n_exit/λ, and
//!
//! * Ez follows from transversality k·E = 0: Ez = −(kx Ax + ky Ay)/kz (|kz| floored at
//!   √(k·2π/W) for the few bins on the circle |k_t| = k, where 1/kz is singular but integrable);
//! * H (in units of 1/η0, so that a normally incident plane wave of amplitude 1 in a medium of
//!   index n carries Sz = n/2) follows from H = k × E / k0 with k0 = 2π/λ;
//! * Sz = ½ Re(Ex Hy* − Ey Hx*).
//!
//! **Band limit** (Matsushima & Shimobaba, Opt. Express 17, 19662 (2009)): with the padded
//! window width W = n·dx, frequencies with |fx| or |fy| above
//! u_lim = (n_exit/λ) / √((2z/W)² + 1) are dropped, because the sampled transfer function
//! aliases beyond it (propagating waves only: the evanescent factor does not oscillate).
//! **Evanescent components** (kx² + ky² > k²) are kept with their exact
//! decay exp(−κz) while κz ≤ [`EVANESCENT_CUTOFF`] (amplitude ≥ 1e-15) and dropped beyond; in
//! practice all of them are gone a few wavelengths from the lens.
//!
//! **Padding** is chosen by [`choose_fft_size`]: at least twice the aperture, and wide enough
//! that the band limit at the farthest plane still passes the lens's numerical aperture
//! (W ≥ 2 z_max NA / √(n² − NA²)); sizes are rounded up to FFT-friendly products of 2, 3, 5
//! and 7. A user-forced smaller grid gets a warning ([`aliasing_warning`]).
//!
//! # Planes
//! Full planes use one inverse FFT per component ([`AngularSpectrumPlan::field_at`]). Windows
//! (the focal spot at fine spacing), sections through the axis and the on-axis intensity are
//! evaluated exactly from the spectrum by separable matrix DFTs restricted to the non-zero band
//! ([`AngularSpectrumPlan::evaluate`], [`AngularSpectrumPlan::sections`]): the x–z section at
//! y = 0 only needs the column sums of the propagated spectrum, so a plane costs O(n_band²)
//! instead of an FFT.
//!
//! # Memory
//! Complex128 planes of n² × 16 bytes: the spectrum holds one plane per non-zero transverse
//! component (1 for linear polarisation on the ideal lens, 2 in general), a full-plane
//! evaluation adds one work plane. 16384² (4 GiB per plane) therefore needs 8 GiB of spectrum
//! plus 4 GiB of work plane plus the aperture field (2 × 1 GiB for an 8192² aperture): it fits
//! the 24 GiB machine. 32768² (16 GiB per plane) does not; that is the documented limit.

pub mod fft2;

use crate::nearfield::ApertureField;
use crate::{Error, Result, C64};
pub use fft2::Fft2;
use rayon::prelude::*;
use std::f64::consts::PI;

/// Evanescent components with κz above this are dropped (exp(−34.5) ≈ 1e-15).
pub const EVANESCENT_CUTOFF: f64 = 34.5;

/// Signed frequency index of FFT bin i on an n-point grid (0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1).
/// This and [`fftshift`] / [`ifftshift`] are the crate's only fftshift logic.
pub fn signed_index(i: usize, n: usize) -> isize {
    if i < n.div_ceil(2) {
        i as isize
    } else {
        i as isize - n as isize
    }
}

/// FFT bin of a signed offset (inverse of [`signed_index`]).
pub fn fft_index(offset: isize, n: usize) -> usize {
    offset.rem_euclid(n as isize) as usize
}

/// n × n array in FFT order → centred order (zero offset at index n/2 for even n).
pub fn fftshift<T: Copy>(a: &[T], n: usize) -> Vec<T> {
    let h = n / 2;
    let mut out = Vec::with_capacity(n * n);
    for j in 0..n {
        let sj = fft_index(j as isize - h as isize, n);
        for i in 0..n {
            out.push(a[sj * n + fft_index(i as isize - h as isize, n)]);
        }
    }
    out
}

/// Centred order → FFT order (inverse of [`fftshift`]).
pub fn ifftshift<T: Copy>(a: &[T], n: usize) -> Vec<T> {
    let h = n / 2;
    let mut out = a.to_vec();
    for j in 0..n {
        let dj = fft_index(j as isize - h as isize, n);
        for i in 0..n {
            out[dj * n + fft_index(i as isize - h as isize, n)] = a[j * n + i];
        }
    }
    out
}

/// Smallest even n ≥ `min` whose prime factors are 2, 3, 5, 7 only.
pub fn fast_size(min: usize) -> usize {
    let mut n = min.max(2);
    loop {
        if n.is_multiple_of(2) {
            let mut r = n;
            for p in [2, 3, 5, 7] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            if r == 1 {
                return n;
            }
        }
        n += 1;
    }
}

/// Check that a grid spacing samples a lens of numerical aperture `na`: the hyperbolic phase
/// reaches the local spatial frequency NA/λ at the rim, so dx ≤ λ/(2 NA) (Nyquist).
pub fn check_sampling(dx: f64, wavelength: f64, na: f64) -> Result<()> {
    let need = wavelength / (2.0 * na);
    if dx > need * (1.0 + 1e-12) {
        return Err(Error::invalid(
            "grid spacing",
            format!("{dx} µm"),
            format!("too coarse for NA {na} at λ {wavelength} µm: needs ≤ {need:.4} µm (λ/(2 NA))"),
        ));
    }
    Ok(())
}

/// Padded window width (µm) needed so that the band limit at distance `z_max` passes spatial
/// frequencies up to NA/λ: W ≥ 2 z_max NA / √(n² − NA²).
pub fn band_limited_window(na: f64, index: f64, z_max: f64) -> f64 {
    2.0 * z_max * na / (index * index - na * na).max(1e-300).sqrt()
}

/// Automatic FFT size: ≥ `min_factor` × the aperture samples m (≥ 2), ≥ the band-limited
/// window of [`band_limited_window`], rounded up by [`fast_size`].
pub fn choose_fft_size(
    m: usize,
    dx: f64,
    na: f64,
    index: f64,
    z_max: f64,
    min_factor: f64,
) -> usize {
    let by_aperture = (min_factor.max(2.0) * m as f64).ceil() as usize;
    let by_band = (band_limited_window(na, index, z_max) / dx).ceil() as usize;
    fast_size(by_aperture.max(by_band))
}

/// A warning when a user-chosen FFT size n would alias or cut the lens's spectrum: less than
/// twice the aperture (wrap-around of the diffracted field), or a band limit at `z_max` below
/// NA/λ.
#[allow(clippy::too_many_arguments)]
pub fn aliasing_warning(
    n: usize,
    m: usize,
    dx: f64,
    wavelength: f64,
    na: f64,
    index: f64,
    z_max: f64,
) -> Option<String> {
    let need = choose_fft_size(m, dx, na, index, z_max, 2.0);
    if n >= need {
        return None;
    }
    let w = n as f64 * dx;
    let na_passed = index / ((2.0 * z_max / w).powi(2) + 1.0).sqrt();
    Some(format!(
        "FFT grid {n}² is smaller than the {need}² needed (≥ 2× the {m}-sample aperture and a band limit passing NA {na} at z = {z_max:.3} µm): fields wrap around and the band limit passes only NA {:.3} at λ {wavelength} µm",
        na_passed.min(index)
    ))
}

/// Angular spectrum of the transverse field, in FFT order on the plan's n × n grid
/// (A = FFT(E) ÷ n²). A component that is identically zero is `None`.
#[derive(Clone, Debug)]
pub struct VectorSpectrum {
    pub n: usize,
    pub ax: Option<Vec<C64>>,
    pub ay: Option<Vec<C64>>,
}

/// Fields on a rectangular set of points (row-major, rows along `ys`): E (x, y, z) and H (x, y)
/// in units of 1/η0 (see module docs).
#[derive(Clone, Debug)]
pub struct Fields {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub e: [Vec<C64>; 3],
    pub h: [Vec<C64>; 2],
}

impl Fields {
    /// The fields from their five components in the order Ex, Ey, Ez, Hx, Hy, each on the
    /// points (xs × ys), x fastest.
    fn from_components(components: Vec<Vec<C64>>, xs: Vec<f64>, ys: Vec<f64>) -> Self {
        let mut it = components.into_iter();
        Fields {
            xs,
            ys,
            e: [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()],
            h: [it.next().unwrap(), it.next().unwrap()],
        }
    }

    /// |Ex|² + |Ey|².
    pub fn transverse_intensity(&self) -> Vec<f64> {
        (0..self.e[0].len())
            .map(|i| self.e[0][i].norm_sqr() + self.e[1][i].norm_sqr())
            .collect()
    }
    /// |Ex|² + |Ey|² + |Ez|².
    pub fn total_intensity(&self) -> Vec<f64> {
        (0..self.e[0].len())
            .map(|i| self.e[0][i].norm_sqr() + self.e[1][i].norm_sqr() + self.e[2][i].norm_sqr())
            .collect()
    }
    /// Sz = ½ Re(Ex Hy* − Ey Hx*), units |E|²/η0.
    pub fn sz(&self) -> Vec<f64> {
        (0..self.e[0].len())
            .map(|i| {
                0.5 * (self.e[0][i] * self.h[1][i].conj() - self.e[1][i] * self.h[0][i].conj()).re
            })
            .collect()
    }
}

/// x–z and y–z sections through the axis and the on-axis field, for a list of z.
#[derive(Clone, Debug)]
pub struct Sections {
    pub zs: Vec<f64>,
    /// Transverse coordinates of the x–z section (at y = 0).
    pub xs: Vec<f64>,
    /// Transverse coordinates of the y–z section (at x = 0).
    pub ys: Vec<f64>,
    /// Fields of the x–z section: one [`Fields`] row per z.
    pub xz: Vec<Fields>,
    /// Fields of the y–z section: one column per z.
    pub yz: Vec<Fields>,
    /// Total intensity |E|² on the axis (x = y = 0) per z.
    pub on_axis: Vec<f64>,
}

/// Planned angular-spectrum propagation on an n × n grid of spacing dx (µm) into a medium of
/// real index `index` at vacuum wavelength `wavelength` (µm). Make once, reuse for every plane.
pub struct AngularSpectrumPlan {
    pub n: usize,
    pub dx: f64,
    pub wavelength_um: f64,
    pub index: f64,
    fft: Fft2,
}

/// The five field components of one plane wave after propagation.
#[inline]
#[allow(clippy::too_many_arguments)]
fn wave(ax: C64, ay: C64, kx: f64, ky: f64, kz: C64, h: C64, k0: f64, kz_floor: f64) -> [C64; 5] {
    let ex = ax * h;
    let ey = ay * h;
    let ez = -(ax * kx + ay * ky) / regular_kz(kz, kz_floor) * h;
    let hx = (ez * ky - kz * ey) / k0;
    let hy = (kz * ex - ez * kx) / k0;
    [ex, ey, ez, hx, hy]
}

/// kz in the denominator of Ez = −(kx Ax + ky Ay)/kz, with its magnitude floored at
/// `kz_floor` = √(k Δk) (Δk = 2π/W, one frequency bin): a bin lying on (or within rounding of)
/// the circle |k_t| = k stands for an annulus of width Δk over which 1/kz is integrable, and its
/// average is of order 1/√(k Δk). Without the floor one grazing bin can carry an arbitrarily
/// large Ez.
#[inline]
fn regular_kz(kz: C64, kz_floor: f64) -> C64 {
    let a = kz.norm();
    if a >= kz_floor {
        kz
    } else if a > 0.0 {
        kz * (kz_floor / a)
    } else {
        C64::new(kz_floor, 0.0)
    }
}

impl AngularSpectrumPlan {
    /// Floor of |kz| in the Ez denominator, √(k·2π/W) (see `regular_kz`).
    pub fn kz_floor(&self) -> f64 {
        (self.k() * 2.0 * PI / self.window()).sqrt()
    }

    /// Plan for an n × n grid (n even ≥ 2).
    pub fn new(n: usize, dx: f64, wavelength: f64, index: f64) -> Result<Self> {
        crate::error::check_positive("grid spacing", dx, "µm")?;
        crate::error::check_positive("wavelength", wavelength, "µm")?;
        crate::error::check_positive("exit index", index, "")?;
        if n < 2 || !n.is_multiple_of(2) {
            return Err(Error::invalid(
                "FFT grid size",
                n,
                "must be even and at least 2",
            ));
        }
        if (n as f64) * (n as f64) * 16.0 > 20.0 * 1024f64.powi(3) {
            return Err(Error::invalid(
                "FFT grid size",
                n,
                "one complex plane would exceed 20 GiB; the limit on a 24 GiB machine is 16384",
            ));
        }
        Ok(AngularSpectrumPlan {
            n,
            dx,
            wavelength_um: wavelength,
            index,
            fft: Fft2::new(n),
        })
    }

    /// Wavenumber in the exit medium, rad/µm.
    pub fn k(&self) -> f64 {
        2.0 * PI * self.index / self.wavelength_um
    }
    /// Vacuum wavenumber, rad/µm.
    pub fn k0(&self) -> f64 {
        2.0 * PI / self.wavelength_um
    }
    /// Padded window width W = n·dx, µm.
    pub fn window(&self) -> f64 {
        self.n as f64 * self.dx
    }
    /// Angular spatial frequency of FFT bin i, rad/µm.
    pub fn kx(&self, i: usize) -> f64 {
        2.0 * PI * signed_index(i, self.n) as f64 / self.window()
    }
    /// Band limit per axis at distance z, rad/µm (Matsushima & Shimobaba 2009, in the medium).
    pub fn band_limit(&self, z: f64) -> f64 {
        self.k() / ((2.0 * z / self.window()).powi(2) + 1.0).sqrt()
    }

    /// Transfer function H(kx, ky, z) with the band limit and the evanescent cut-off, and kz.
    #[inline]
    fn transfer(&self, kx: f64, ky: f64, z: f64, klim: f64) -> Option<(C64, C64)> {
        let k = self.k();
        let q = k * k - kx * kx - ky * ky;
        if q >= 0.0 {
            // the band limit guards against aliasing of the oscillating exp(i kz z); the
            // evanescent factor does not oscillate and is kept up to the cut-off
            if kx.abs() > klim || ky.abs() > klim {
                return None;
            }
            let kz = q.sqrt();
            Some((C64::new(kz, 0.0), C64::from_polar(1.0, kz * z)))
        } else {
            let kappa = (-q).sqrt();
            if kappa * z > EVANESCENT_CUTOFF {
                None
            } else {
                Some((C64::new(0.0, kappa), C64::new((-kappa * z).exp(), 0.0)))
            }
        }
    }

    /// Spectrum of an aperture field: embed centred, forward FFT, ÷ n².
    pub fn spectrum(&self, field: &ApertureField) -> Result<VectorSpectrum> {
        if field.m > self.n {
            return Err(Error::invalid(
                "FFT grid size",
                self.n,
                format!("must be at least the aperture's {} samples", field.m),
            ));
        }
        if (field.dx - self.dx).abs() > 1e-12 * self.dx {
            return Err(Error::invalid(
                "grid spacing",
                format!("{} µm", field.dx),
                format!("must equal the plan's {} µm", self.dx),
            ));
        }
        let n = self.n;
        let norm = 1.0 / (n as f64 * n as f64);
        let one = |src: &Option<Vec<C64>>| -> Option<Vec<C64>> {
            let src = src.as_ref()?;
            let m = field.m;
            let mut buf = vec![C64::new(0.0, 0.0); n * n];
            buf.par_chunks_mut(n).enumerate().for_each(|(dj, row)| {
                let j = signed_index(dj, n) + (m / 2) as isize;
                if j < 0 || j as usize >= m {
                    return;
                }
                let srow = &src[j as usize * m..(j as usize + 1) * m];
                for (i, v) in srow.iter().enumerate() {
                    row[fft_index(i as isize - (m / 2) as isize, n)] = *v;
                }
            });
            self.fft.forward(&mut buf);
            buf.par_iter_mut().for_each(|v| *v *= norm);
            Some(buf)
        };
        let ax = one(&field.ex);
        let ay = one(&field.ey);
        Ok(VectorSpectrum { n, ax, ay })
    }

    /// Power carried through any plane z > 0 by the propagating plane waves (no band limit):
    /// P = W² Σ ½ (kz/k0) (|Ax|² + |Ay|² + |Az|²), units |E|²·µm²/η0. This is the power
    /// transmitted by the lens; evanescent components carry none.
    pub fn propagating_power(&self, spec: &VectorSpectrum) -> f64 {
        let n = self.n;
        let k = self.k();
        let k0 = self.k0();
        let kzf = self.kz_floor();
        let w2 = self.window().powi(2);
        let zero = C64::new(0.0, 0.0);
        let sum: f64 = (0..n)
            .into_par_iter()
            .map(|j| {
                let ky = self.kx(j);
                let mut s = 0.0;
                for i in 0..n {
                    let kx = self.kx(i);
                    let q = k * k - kx * kx - ky * ky;
                    if q <= 0.0 {
                        continue;
                    }
                    let kz = q.sqrt();
                    let ax = spec.ax.as_ref().map_or(zero, |a| a[j * n + i]);
                    let ay = spec.ay.as_ref().map_or(zero, |a| a[j * n + i]);
                    let az = -(ax * kx + ay * ky) / regular_kz(C64::new(kz, 0.0), kzf);
                    s += 0.5 * kz / k0 * (ax.norm_sqr() + ay.norm_sqr() + az.norm_sqr());
                }
                s
            })
            .sum();
        sum * w2
    }

    /// Full plane at distance z by inverse FFTs (one work plane), cropped to the centred
    /// `crop` × `crop` samples (crop even, ≤ n). Returns E and H.
    pub fn field_at(&self, spec: &VectorSpectrum, z: f64, crop: usize) -> Result<Fields> {
        self.field_at_components(spec, z, crop, true)
    }

    /// As [`AngularSpectrumPlan::field_at`]; with `with_h` false only E is computed (three
    /// inverse FFTs instead of five) and the H vectors are empty.
    pub fn field_at_components(
        &self,
        spec: &VectorSpectrum,
        z: f64,
        crop: usize,
        with_h: bool,
    ) -> Result<Fields> {
        check_z(z)?;
        let n = self.n;
        let crop = crop.min(n) & !1;
        let klim = self.band_limit(z);
        let k0 = self.k0();
        let kzf = self.kz_floor();
        let zero = C64::new(0.0, 0.0);
        let mut work = vec![zero; n * n];
        let mut out: Vec<Vec<C64>> = Vec::with_capacity(5);
        let kxs: Vec<f64> = (0..n).map(|i| self.kx(i)).collect();
        for c in 0..if with_h { 5 } else { 3 } {
            let zeros = vec![zero; n];
            let kxs = &kxs;
            work.par_chunks_mut(n).enumerate().for_each(|(j, row)| {
                let ky = kxs[j];
                let ra = spec
                    .ax
                    .as_ref()
                    .map_or(&zeros[..], |a| &a[j * n..(j + 1) * n]);
                let rb = spec
                    .ay
                    .as_ref()
                    .map_or(&zeros[..], |a| &a[j * n..(j + 1) * n]);
                for (i, v) in row.iter_mut().enumerate() {
                    let kx = kxs[i];
                    *v = match self.transfer(kx, ky, z, klim) {
                        None => zero,
                        Some((kz, h)) => {
                            let (ax, ay) = (ra[i], rb[i]);
                            match c {
                                0 => ax * h,
                                1 => ay * h,
                                2 => -(ax * kx + ay * ky) / regular_kz(kz, kzf) * h,
                                _ => wave(ax, ay, kx, ky, kz, h, k0, kzf)[c],
                            }
                        }
                    };
                }
            });
            self.fft.inverse(&mut work);
            let mut o = Vec::with_capacity(crop * crop);
            for j in 0..crop {
                let sj = fft_index(j as isize - (crop / 2) as isize, n);
                for i in 0..crop {
                    o.push(work[sj * n + fft_index(i as isize - (crop / 2) as isize, n)]);
                }
            }
            out.push(o);
        }
        let xs: Vec<f64> = (0..crop)
            .map(|i| (i as f64 - (crop / 2) as f64) * self.dx)
            .collect();
        let mut it = out.into_iter();
        let e = [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()];
        let h = [it.next().unwrap_or_default(), it.next().unwrap_or_default()];
        Ok(Fields {
            xs: xs.clone(),
            ys: xs,
            e,
            h,
        })
    }

    /// FFT bins that can be non-zero at distance z (|kx| within the evanescent cut-off; same for
    /// both axes), with their kx.
    fn band(&self, z: f64) -> Vec<(usize, f64)> {
        let kev = if z > 0.0 {
            (self.k().powi(2) + (EVANESCENT_CUTOFF / z).powi(2)).sqrt()
        } else {
            f64::INFINITY
        };
        (0..self.n)
            .map(|i| (i, self.kx(i)))
            .filter(|&(_, kx)| kx.abs() <= kev)
            .collect()
    }

    /// Exact fields at the points (xs × ys) of the plane z (µm), from the spectrum by separable
    /// matrix DFTs over the non-zero band. Cost ≈ 5·n_band²·min(|xs|, |ys|).
    pub fn evaluate(
        &self,
        spec: &VectorSpectrum,
        z: f64,
        xs: &[f64],
        ys: &[f64],
    ) -> Result<Fields> {
        check_z(z)?;
        let n = self.n;
        let band = self.band(z);
        let nb = band.len();
        let klim = self.band_limit(z);
        let k0 = self.k0();
        let kzf = self.kz_floor();
        let zero = C64::new(0.0, 0.0);
        let (nxo, nyo) = (xs.len(), ys.len());
        let phase = |pts: &[f64]| -> Vec<C64> {
            let mut m = Vec::with_capacity(nb * pts.len());
            for &(_, kx) in &band {
                for &x in pts {
                    m.push(C64::from_polar(1.0, kx * x));
                }
            }
            m
        };
        let px = phase(xs);
        let py = phase(ys);
        // the propagated plane waves of band row b (ky = band[b]) → 5 × nb values
        let row_waves = |b: usize, buf: &mut Vec<[C64; 5]>| {
            let (j, ky) = band[b];
            buf.clear();
            for &(i, kx) in &band {
                let w = match self.transfer(kx, ky, z, klim) {
                    None => [zero; 5],
                    Some((kz, h)) => {
                        let ax = spec.ax.as_ref().map_or(zero, |a| a[j * n + i]);
                        let ay = spec.ay.as_ref().map_or(zero, |a| a[j * n + i]);
                        wave(ax, ay, kx, ky, kz, h, k0, kzf)
                    }
                };
                buf.push(w);
            }
        };
        let comps = if nyo <= nxo {
            sum_y_first(nb, &px, &py, nxo, nyo, &row_waves)
        } else {
            sum_x_first(nb, &px, &py, nxo, nyo, &row_waves)
        };
        Ok(Fields::from_components(comps, xs.to_vec(), ys.to_vec()))
    }

    /// x–z section (y = 0, points `xs`), y–z section (x = 0, points `ys`) and on-axis total
    /// intensity for every z in `zs`: one pass over the band per plane (column sums for the
    /// x–z line, row sums for the y–z line). `progress` is called after each plane.
    pub fn sections(
        &self,
        spec: &VectorSpectrum,
        zs: &[f64],
        xs: &[f64],
        ys: &[f64],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Sections> {
        for &z in zs {
            check_z(z)?;
        }
        let mut xz = Vec::with_capacity(zs.len());
        let mut yz = Vec::with_capacity(zs.len());
        let mut on_axis = Vec::with_capacity(zs.len());
        // one band for all planes (the widest, at the nearest plane; `transfer` drops what the
        // farther planes do not need) and the phase factors of both lines, computed once
        let zmin = zs.iter().cloned().fold(f64::INFINITY, f64::min);
        let band = self.band(zmin);
        let nb = band.len();
        let phases = |pts: &[f64]| -> Vec<C64> {
            let mut m = Vec::with_capacity(nb * pts.len());
            for &x in pts {
                for &(_, kx) in &band {
                    m.push(C64::from_polar(1.0, kx * x));
                }
            }
            m
        };
        let (px, py) = (phases(xs), phases(ys));
        for (iz, &z) in zs.iter().enumerate() {
            let (colsum, rowsum) = self.band_sums(spec, &band, z);
            let lx = line_components(xs.len(), nb, &px, &|c, b| colsum[c * nb + b]);
            let ly = line_components(ys.len(), nb, &py, &|c, b| rowsum[b][c]);
            let axis: [C64; 3] =
                [0, 1, 2].map(|c| (0..nb).map(|b| colsum[c * nb + b]).sum::<C64>());
            on_axis.push(axis.iter().map(|v| v.norm_sqr()).sum());
            xz.push(Fields::from_components(lx, xs.to_vec(), vec![0.0]));
            yz.push(Fields::from_components(ly, vec![0.0], ys.to_vec()));
            progress(iz + 1);
        }
        Ok(Sections {
            zs: zs.to_vec(),
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            xz,
            yz,
            on_axis,
        })
    }

    /// One pass over the band at plane z: per band column the sum over the rows (the x–z
    /// line's spectrum at y = 0), and per band row the sum over the columns (the y–z line's at
    /// x = 0), of the five components of every plane wave.
    fn band_sums(
        &self,
        spec: &VectorSpectrum,
        band: &[(usize, f64)],
        z: f64,
    ) -> (Vec<C64>, Vec<[C64; 5]>) {
        let n = self.n;
        let nb = band.len();
        let k0 = self.k0();
        let kzf = self.kz_floor();
        let zero = C64::new(0.0, 0.0);
        let klim = self.band_limit(z);
        let min_len = (nb / (4 * rayon::current_num_threads())).max(1);
        // per row: row sums (→ y–z line) and accumulated column sums (→ x–z line)
        let (colsum, rowsums) = (0..nb)
            .into_par_iter()
            .with_min_len(min_len)
            .fold(
                || (vec![zero; 5 * nb], Vec::new()),
                |(mut col, mut rows), by| {
                    let (j, ky) = band[by];
                    let mut rs = [zero; 5];
                    for (bx, &(i, kx)) in band.iter().enumerate() {
                        if let Some((kz, h)) = self.transfer(kx, ky, z, klim) {
                            let ax = spec.ax.as_ref().map_or(zero, |a| a[j * n + i]);
                            let ay = spec.ay.as_ref().map_or(zero, |a| a[j * n + i]);
                            let w = wave(ax, ay, kx, ky, kz, h, k0, kzf);
                            for c in 0..5 {
                                col[c * nb + bx] += w[c];
                                rs[c] += w[c];
                            }
                        }
                    }
                    rows.push((by, rs));
                    (col, rows)
                },
            )
            .reduce(
                || (vec![zero; 5 * nb], Vec::new()),
                |(mut a, mut ra), (b, rb)| {
                    a.iter_mut().zip(b.iter()).for_each(|(x, y)| *x += y);
                    ra.extend(rb);
                    (a, ra)
                },
            );
        let mut rowsum = vec![[zero; 5]; nb];
        for (by, rs) in rowsums {
            rowsum[by] = rs;
        }
        (colsum, rowsum)
    }

    /// Total intensity |E|² on the axis at z (one band pass).
    pub fn on_axis_intensity(&self, spec: &VectorSpectrum, z: f64) -> Result<f64> {
        let f = self.evaluate(spec, z, &[0.0], &[0.0])?;
        Ok(f.total_intensity()[0])
    }
}

/// The five components on the `np` points of a line: Σ_b get(c, b) · ph[p · nb + b] for each
/// component c and point p (`ph`: phase factors, point major).
fn line_components(
    np: usize,
    nb: usize,
    ph: &[C64],
    get: &dyn Fn(usize, usize) -> C64,
) -> Vec<Vec<C64>> {
    (0..5)
        .map(|c| {
            let g: Vec<C64> = (0..nb).map(|b| get(c, b)).collect();
            (0..np)
                .into_par_iter()
                .map(|p| {
                    g.iter()
                        .zip(&ph[p * nb..(p + 1) * nb])
                        .map(|(a, b)| a * b)
                        .sum::<C64>()
                })
                .collect()
        })
        .collect()
}

/// The plane waves of band row `by` (ky = band[by]) of a plane, written into the buffer: the
/// five components (Ex, Ey, Ez, Hx, Hy) of every band column.
type RowWaves<'a> = dyn Fn(usize, &mut Vec<[C64; 5]>) + Sync + 'a;

/// The five field components on the points (xs × ys) from the band's plane waves, summed over
/// the band rows first: C[c][yo][bx] = Σ_by py[by][yo] v_c(bx, by), then over the columns with
/// px. `px`, `py`: phase factors exp(i k x), band major ([b · |xs| + xo]). Cheaper when
/// |ys| ≤ |xs|.
fn sum_y_first(
    nb: usize,
    px: &[C64],
    py: &[C64],
    nxo: usize,
    nyo: usize,
    row_waves: &RowWaves,
) -> Vec<Vec<C64>> {
    let zero = C64::new(0.0, 0.0);
    let mut comps: Vec<Vec<C64>> = vec![vec![zero; nxo * nyo]; 5];
    // y first: C[c][yo][bx] = Σ_by py[by][yo] v_c(bx, by)
    let min_len = (nb / (4 * rayon::current_num_threads())).max(1);
    let acc = (0..nb)
        .into_par_iter()
        .with_min_len(min_len)
        .fold(
            || (vec![zero; 5 * nyo * nb], Vec::with_capacity(nb)),
            |(mut acc, mut buf), by| {
                row_waves(by, &mut buf);
                for yo in 0..nyo {
                    let p = py[by * nyo + yo];
                    for c in 0..5 {
                        let dst = &mut acc[(c * nyo + yo) * nb..(c * nyo + yo + 1) * nb];
                        for (d, w) in dst.iter_mut().zip(buf.iter()) {
                            *d += p * w[c];
                        }
                    }
                }
                (acc, buf)
            },
        )
        .map(|(a, _)| a)
        .reduce(
            || vec![zero; 5 * nyo * nb],
            |mut a, b| {
                a.iter_mut().zip(b.iter()).for_each(|(x, y)| *x += y);
                a
            },
        );
    comps.par_iter_mut().enumerate().for_each(|(c, out)| {
        for yo in 0..nyo {
            let crow = &acc[(c * nyo + yo) * nb..(c * nyo + yo + 1) * nb];
            for xo in 0..nxo {
                let mut s = zero;
                for bx in 0..nb {
                    s += crow[bx] * px[bx * nxo + xo];
                }
                out[yo * nxo + xo] = s;
            }
        }
    });
    comps
}

/// [`sum_y_first`] the other way round: D[by][c][xo] = Σ_bx v_c(bx, by) px[bx][xo] first,
/// then over the rows with py. Cheaper when |xs| < |ys|.
fn sum_x_first(
    nb: usize,
    px: &[C64],
    py: &[C64],
    nxo: usize,
    nyo: usize,
    row_waves: &RowWaves,
) -> Vec<Vec<C64>> {
    let zero = C64::new(0.0, 0.0);
    let mut comps: Vec<Vec<C64>> = vec![vec![zero; nxo * nyo]; 5];
    // x first: D[by][c][xo] = Σ_bx v_c(bx, by) px[bx][xo]
    let d: Vec<Vec<C64>> = (0..nb)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(nb),
            |buf, by| {
                row_waves(by, buf);
                let mut drow = vec![zero; 5 * nxo];
                for (bx, w) in buf.iter().enumerate() {
                    for xo in 0..nxo {
                        let p = px[bx * nxo + xo];
                        for c in 0..5 {
                            drow[c * nxo + xo] += w[c] * p;
                        }
                    }
                }
                drow
            },
        )
        .collect();
    comps.par_iter_mut().enumerate().for_each(|(c, out)| {
        for yo in 0..nyo {
            for xo in 0..nxo {
                let mut s = zero;
                for by in 0..nb {
                    s += py[by * nyo + yo] * d[by][c * nxo + xo];
                }
                out[yo * nxo + xo] = s;
            }
        }
    });
    comps
}

fn check_z(z: f64) -> Result<()> {
    if !z.is_finite() || z < 0.0 {
        return Err(Error::invalid(
            "plane z",
            format!("{z} µm"),
            "must be ≥ 0 (planes behind the lens, z < 0, are not propagated)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_helpers_are_inverse() {
        for n in [4usize, 6] {
            let a: Vec<usize> = (0..n * n).collect();
            assert_eq!(ifftshift(&fftshift(&a, n), n), a);
            // the zero-offset element moves to the centre
            assert_eq!(fftshift(&a, n)[(n / 2) * n + n / 2], 0);
        }
        assert_eq!(signed_index(3, 6), -3);
        assert_eq!(signed_index(2, 5), 2);
        assert_eq!(fft_index(-1, 8), 7);
        assert_eq!(fast_size(1025), 1050);
    }

    #[test]
    fn coarse_grid_names_needed_spacing() {
        let e = check_sampling(0.5, 0.633, 0.9).unwrap_err().to_string();
        assert!(e.contains("0.3517"), "{e}");
        assert_eq!(crate::Error::invalid("a", 1, "b").exit_code(), 2);
    }
}
