//! One-dimensional vectorial angular spectrum and focal metrics, in the conventions of
//! [`crate::propagate`] and [`crate::metrics`] reduced to fields that vary along x only.
//!
//! # Fields
//! The aperture field F(x) at z = 0+ (in the exit medium of index n, ε = n²) is Ey for TE and
//! hy = η₀Hy for TM. It is sampled on x_j = (j − N/2)·dx (j = 0…N−1, zero outside the
//! aperture) and transformed once, A_k = Σ_j F_j e^{−i kx_k x_j} / N (spectrum = forward FFT ÷ N).
//! Each plane wave propagates as exp(i kz z), kz = √(k² − kx²), k = 2πn/λ, k₀ = 2π/λ, and:
//!
//! * TE: Ey = A; hx = −(kz/k₀) Ey, hz = (kx/k₀) Ey; Ex = Ez = 0;
//! * TM: hy = A; Ex = kz/(k₀ε) hy, Ez = −kx/(k₀ε) hy;
//! * Sz = ½ Re(Ex hy* − Ey hx*) (H in units of 1/η₀), transverse intensity |Ex|² + |Ey|²,
//!   total |Ex|² + |Ey|² + |Ez|².
//!
//! **Band limit** (Matsushima & Shimobaba 2009, 1-D form): propagating frequencies with
//! |fx| > (n/λ)/√((2z/W)² + 1), W = N·dx, are dropped. Evanescent waves are kept with their exact
//! decay while κz ≤ [`crate::propagate::EVANESCENT_CUTOFF`].
//!
//! # Metrics (names mirror [`crate::metrics::definitions`], powers per unit length along y)
//! * focal plane: maximum of the on-axis total intensity (scan + golden section);
//! * focal point x_peak: the maximum of Sz (as in `crate::metrics`: a TM focus near NA 1 has
//!   |Ez|² lobes beside the axis that outshine its centre);
//! * FWHM of the transverse, total intensity and Sz along x through x_peak, central lobe only
//!   (null where the quantity dips at x_peak);
//! * `incident_rK` = ∫ Sz over |x − x_peak| < K·FWHM_transverse ÷ P_inc, P_inc = ½ n_sub · width;
//! * `transmitted_rK` = the same ÷ P_t (Sz power of the propagating plane waves);
//! * transmission efficiency P_t / P_inc; Strehl = total intensity at the focal point (the Sz maximum) ÷ the ideal lens's.
//!
//! # What is shared and what is not
//! The 1-D angular spectrum is legitimately its own propagation: a field varying along x only
//! has a line of plane waves (kx), evaluated directly at the points asked, not the 2-D FFT
//! plan of [`crate::propagate::AngularSpectrumPlan`] on one row. Everything with the same
//! definition as in 2-D is the shared code: the focal-plane search
//! ([`crate::numeric::golden_section_max`]), the central-lobe FWHM
//! ([`crate::metrics::fwhm_central`]), the efficiency record ([`crate::metrics::Efficiencies`],
//! [`crate::metrics::CircleEfficiency`]), the band-limit window and FFT sizes
//! ([`crate::propagate`]) and the focal-length formula (the design's [`crate::lens::Lens`]).

use super::solver1d::Polarization;
use crate::metrics::{CircleEfficiency, Efficiencies};
use crate::numeric::{argmax, golden_section_max, linspace};
use crate::propagate::{signed_index, EVANESCENT_CUTOFF};
use crate::{Error, Result, C64};
use rustfft::FftPlanner;
use serde::Serialize;
use std::f64::consts::PI;

/// The angular spectrum of a 1-D aperture field.
#[derive(Clone, Debug)]
pub struct Spectrum1d {
    pub polarization: Polarization,
    /// FFT size.
    pub n: usize,
    /// Sample spacing (µm).
    pub dx: f64,
    pub wavelength_um: f64,
    /// Real refractive index of the exit medium.
    pub index: f64,
    /// Plane-wave amplitudes in FFT order (forward FFT ÷ N, origin at sample N/2).
    pub a: Vec<C64>,
}

/// Fields on a line of points at one z.
#[derive(Clone, Debug)]
pub struct Fields1d {
    pub xs: Vec<f64>,
    /// Ex, Ey, Ez
    pub e: [Vec<C64>; 3],
    /// hx, hy, hz (units of 1/η₀)
    pub h: [Vec<C64>; 3],
}

impl Fields1d {
    pub fn transverse_intensity(&self) -> Vec<f64> {
        (0..self.xs.len())
            .map(|i| self.e[0][i].norm_sqr() + self.e[1][i].norm_sqr())
            .collect()
    }
    pub fn total_intensity(&self) -> Vec<f64> {
        (0..self.xs.len())
            .map(|i| self.e[0][i].norm_sqr() + self.e[1][i].norm_sqr() + self.e[2][i].norm_sqr())
            .collect()
    }
    pub fn sz(&self) -> Vec<f64> {
        (0..self.xs.len())
            .map(|i| {
                0.5 * (self.e[0][i] * self.h[1][i].conj() - self.e[1][i] * self.h[0][i].conj()).re
            })
            .collect()
    }
}

impl Spectrum1d {
    /// Sample `field(x)` on x_j = (j − n/2)·dx inside |x| ≤ half_width (zero outside) and
    /// transform. `n` must be even.
    pub fn from_aperture(
        polarization: Polarization,
        field: &dyn Fn(f64) -> C64,
        half_width: f64,
        n: usize,
        dx: f64,
        wavelength: f64,
        index: f64,
    ) -> Result<Self> {
        crate::error::check_positive("grid spacing", dx, "µm")?;
        if n < 2 || !n.is_multiple_of(2) {
            return Err(Error::invalid("FFT size", n, "must be even and >= 2"));
        }
        let mut buf: Vec<C64> = (0..n)
            .map(|j| {
                let x = (j as f64 - (n / 2) as f64) * dx;
                if x.abs() <= half_width * (1.0 + 1e-12) {
                    field(x)
                } else {
                    C64::new(0.0, 0.0)
                }
            })
            .collect();
        let fft = FftPlanner::new().plan_fft_forward(n);
        fft.process(&mut buf);
        let inv_n = 1.0 / n as f64;
        // origin at sample n/2: multiply by e^{+i kx (n/2) dx} = (−1)^k
        for (k, v) in buf.iter_mut().enumerate() {
            let s = if signed_index(k, n) % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            *v *= s * inv_n;
        }
        Ok(Spectrum1d {
            polarization,
            n,
            dx,
            wavelength_um: wavelength,
            index,
            a: buf,
        })
    }

    pub fn window(&self) -> f64 {
        self.n as f64 * self.dx
    }
    pub fn k0(&self) -> f64 {
        2.0 * PI / self.wavelength_um
    }
    pub fn k(&self) -> f64 {
        self.k0() * self.index
    }
    pub fn kx(&self, i: usize) -> f64 {
        2.0 * PI * signed_index(i, self.n) as f64 / self.window()
    }

    /// Sz power (per unit y length, |E|²·µm/η₀) of the propagating plane waves.
    pub fn propagating_power(&self) -> f64 {
        let (k, k0, eps) = (self.k(), self.k0(), self.index * self.index);
        let w = self.window();
        (0..self.n)
            .map(|i| {
                let kx = self.kx(i);
                if kx.abs() >= k {
                    return 0.0;
                }
                let kz = (k * k - kx * kx).sqrt();
                let f = match self.polarization {
                    Polarization::Te => kz / k0,
                    Polarization::Tm => kz / (k0 * eps),
                };
                0.5 * f * self.a[i].norm_sqr() * w
            })
            .sum()
    }

    /// The transmitted power if the sampled field were the transverse E of a TM wave (Ex given,
    /// hy = (k₀ε/kz) Ex per plane wave, as the 2-D pipeline treats its aperture E):
    /// W Σ ½ (k₀ε/kz)|A|² over the propagating waves, kz floored at √(k·2π/W) like
    /// [`crate::propagate`]. Used only to compare the two LPA conventions.
    pub fn power_if_tm_e_given(&self) -> f64 {
        let (k, k0, eps) = (self.k(), self.k0(), self.index * self.index);
        let w = self.window();
        let floor = (k * 2.0 * PI / w).sqrt();
        (0..self.n)
            .map(|i| {
                let kx = self.kx(i);
                if kx.abs() >= k {
                    return 0.0;
                }
                let kz = (k * k - kx * kx).sqrt().max(floor);
                0.5 * k0 * eps / kz * self.a[i].norm_sqr() * w
            })
            .sum()
    }

    /// The aperture field low-pass filtered to the propagating waves (|kx| < k) at z = 0, on
    /// the points `xs`: the part of the near field that can reach the focus.
    pub fn propagating_field(&self, xs: &[f64]) -> Vec<C64> {
        let k = self.k();
        let act: Vec<(f64, C64)> = (0..self.n)
            .filter(|&i| self.kx(i).abs() < k)
            .map(|i| (self.kx(i), self.a[i]))
            .collect();
        xs.iter()
            .map(|&x| {
                act.iter()
                    .map(|&(kx, a)| a * C64::from_polar(1.0, kx * x))
                    .sum()
            })
            .collect()
    }

    /// ∫ |F|² dx over the window from the spectrum (Parseval: W Σ |A|²).
    pub fn norm_sqr_integral(&self) -> f64 {
        self.window() * self.a.iter().map(|v| v.norm_sqr()).sum::<f64>()
    }

    /// Active plane waves at z: (kx, kz, A·exp(i kz z)).
    fn active(&self, z: f64) -> Vec<(f64, C64, C64)> {
        let (k, w) = (self.k(), self.window());
        let u_lim = (self.index / self.wavelength_um) / ((2.0 * z / w).powi(2) + 1.0).sqrt();
        let mut out = Vec::new();
        for i in 0..self.n {
            let a = self.a[i];
            if a == C64::new(0.0, 0.0) {
                continue;
            }
            let kx = self.kx(i);
            if kx.abs() < k {
                if kx.abs() / (2.0 * PI) > u_lim {
                    continue;
                }
                let kz = (k * k - kx * kx).sqrt();
                out.push((kx, C64::new(kz, 0.0), a * C64::from_polar(1.0, kz * z)));
            } else {
                let kappa = (kx * kx - k * k).sqrt();
                if kappa * z > EVANESCENT_CUTOFF {
                    continue;
                }
                out.push((kx, C64::new(0.0, kappa), a * (-kappa * z).exp()));
            }
        }
        out
    }

    /// Fields at height z on the points `xs`.
    pub fn fields(&self, z: f64, xs: &[f64]) -> Fields1d {
        let act = self.active(z);
        let (k0, eps) = (self.k0(), self.index * self.index);
        let zero = C64::new(0.0, 0.0);
        let n = xs.len();
        let mut e = [vec![zero; n], vec![zero; n], vec![zero; n]];
        let mut h = [vec![zero; n], vec![zero; n], vec![zero; n]];
        for (p, &x) in xs.iter().enumerate() {
            let mut s = [zero; 3];
            for &(kx, kz, a) in &act {
                let v = a * C64::from_polar(1.0, kx * x);
                s[0] += v;
                s[1] += v * kz;
                s[2] += v * kx;
            }
            match self.polarization {
                Polarization::Te => {
                    e[1][p] = s[0];
                    h[0][p] = -s[1] / k0;
                    h[2][p] = s[2] / k0;
                }
                Polarization::Tm => {
                    h[1][p] = s[0];
                    e[0][p] = s[1] / (k0 * eps);
                    e[2][p] = -s[2] / (k0 * eps);
                }
            }
        }
        Fields1d {
            xs: xs.to_vec(),
            e,
            h,
        }
    }

    /// Total intensity on the axis x = 0 at z.
    pub fn on_axis_total(&self, z: f64) -> f64 {
        self.fields(z, &[0.0]).total_intensity()[0]
    }
}

/// Settings of a 1-D focal analysis.
#[derive(Clone, Debug)]
pub struct FocusSetup1d {
    pub wavelength_um: f64,
    pub design_focal_length: f64,
    pub na: f64,
    /// P_inc = ½ n_sub · width (per unit y length).
    pub incident_power: f64,
    pub efficiency_k: Vec<f64>,
    pub z_range: (f64, f64),
    pub n_z: usize,
    /// Analyse at the design focal length instead of the on-axis maximum.
    pub at_design_focus: bool,
}

/// FWHM of one quantity, µm and in λ.
#[derive(Clone, Debug, Serialize)]
pub struct Width {
    pub um: Option<f64>,
    pub lambda: Option<f64>,
}

/// A line cut through the focal peak.
#[derive(Clone, Debug, Serialize)]
pub struct Cut1d {
    pub x_um: Vec<f64>,
    pub transverse: Vec<f64>,
    pub total: Vec<f64>,
    pub sz: Vec<f64>,
}

/// The focal report of one 1-D lens field.
#[derive(Clone, Debug, Serialize)]
pub struct Focus1d {
    pub focal_plane_z_um: f64,
    pub focal_shift_um: f64,
    pub design_focal_length_um: f64,
    pub peak_position_um: f64,
    pub fwhm_transverse: Width,
    pub fwhm_total: Width,
    pub fwhm_sz: Width,
    pub efficiency: Efficiencies,
    pub transmission_efficiency: f64,
    pub incident_power: f64,
    pub transmitted_power: f64,
    pub peak_intensity: f64,
    /// Total intensity at the focal point (the Sz maximum).
    pub focal_point_intensity: f64,
    pub strehl: Option<f64>,
    /// Strehl with both peaks divided by their own transmitted power P_t: the focusing
    /// quality free of the amplitude (|t| ≈ 1.2 for glass → air) of the lens.
    pub strehl_power_normalised: Option<f64>,
    pub cut: Cut1d,
}

fn simpson(ys: &[f64], h: f64) -> f64 {
    let n = ys.len();
    debug_assert!(n % 2 == 1);
    let mut s = ys[0] + ys[n - 1];
    for (i, y) in ys.iter().enumerate().take(n - 1).skip(1) {
        s += if i % 2 == 1 { 4.0 * y } else { 2.0 * y };
    }
    s * h / 3.0
}

/// The focal plane: the maximum of the on-axis total intensity over the scan of
/// `setup.n_z` planes, refined by a golden-section search (40 iterations) over one scan step
/// either side, not below half the scan start.
fn search_focal_plane(spec: &Spectrum1d, setup: &FocusSetup1d) -> f64 {
    let (z0, z1) = setup.z_range;
    let zs = linspace(z0, z1, setup.n_z);
    let on: Vec<f64> = zs.iter().map(|&z| spec.on_axis_total(z)).collect();
    let imax = argmax(&on).expect("n_z ≥ 2 planes");
    let dz = zs[1] - zs[0];
    let search = golden_section_max(
        |z| spec.on_axis_total(z),
        |v| *v,
        (zs[imax] - dz).max(0.5 * z0),
        zs[imax] + dz,
        40,
    );
    0.5 * (search.bracket.0 + search.bracket.1)
}

/// The sample of the Sz maximum on the line `xs` and the focal point x (µm), refined by a
/// parabola through the neighbouring samples (within half a sample).
fn sz_peak(xs: &[f64], sz: &[f64]) -> (usize, f64) {
    let ip = argmax(sz).expect("a non-empty line");
    let h = xs[1] - xs[0];
    let mut xp = xs[ip];
    if ip > 0 && ip + 1 < xs.len() {
        let (ym, y0, yp) = (sz[ip - 1], sz[ip], sz[ip + 1]);
        let den = ym - 2.0 * y0 + yp;
        if den.abs() > 0.0 {
            xp += h * (0.5 * (ym - yp) / den).clamp(-0.5, 0.5);
        }
    }
    (ip, xp)
}

/// Focusing efficiencies of a slit focus: Sz integrated (Simpson, 2001 points) over
/// x_p ± k · `circle` µm for every k of the setup, of the incident and the transmitted power
/// `p_t`.
fn slit_efficiencies(
    spec: &Spectrum1d,
    setup: &FocusSetup1d,
    focal_z: f64,
    xp: f64,
    circle: f64,
    p_t: f64,
) -> Efficiencies {
    let mut eff = Efficiencies::default();
    for &k in &setup.efficiency_k {
        let r = k * circle;
        let pts = linspace(xp - r, xp + r, 2001);
        let s = spec.fields(focal_z, &pts).sz();
        let p = simpson(&s, pts[1] - pts[0]);
        eff.circles
            .push(CircleEfficiency::new(k, r, p, setup.incident_power, p_t));
    }
    eff
}

/// Analyse the focus of a 1-D lens spectrum.
pub fn analyse(spec: &Spectrum1d, setup: &FocusSetup1d) -> Result<Focus1d> {
    let lambda = setup.wavelength_um;
    let (z0, z1) = setup.z_range;
    if !(z0 > 0.0 && z1 > z0) || setup.n_z < 3 {
        return Err(Error::invalid(
            "z range",
            format!("{z0}..{z1} µm ({} planes)", setup.n_z),
            "must satisfy 0 < start < end with at least 3 planes",
        ));
    }
    let focal_z = if setup.at_design_focus {
        setup.design_focal_length
    } else {
        search_focal_plane(spec, setup)
    };
    let kmax = setup.efficiency_k.iter().cloned().fold(3.0, f64::max);
    // 1-D (slit) focus: FWHM of sinc² ≈ 0.443 λ/NA
    let fwhm_est = 0.443 * lambda / setup.na;
    let mut half = 1.3 * kmax * fwhm_est;
    for attempt in 0..5 {
        let xs = linspace(-half, half, 1601);
        let f = spec.fields(focal_z, &xs);
        let total = f.total_intensity();
        let peak = total.iter().cloned().fold(0.0, f64::max);
        // the focal point is the maximum of Sz, as in the 2-D metrics (crate::metrics): the
        // total intensity of a TM focus carries |Ez|² lobes beside the axis near NA 1
        let sz = f.sz();
        let (ip, xp) = sz_peak(&xs, &sz);
        let line: Vec<f64> = xs.iter().map(|x| x - xp).collect();
        let trans = f.transverse_intensity();
        let fw = |v: &[f64]| {
            let w = crate::metrics::fwhm_central(&line, v, ip, 0.05 * lambda);
            Width {
                um: w,
                lambda: w.map(|v| v / lambda),
            }
        };
        let (wt, wtot, wsz) = (fw(&trans), fw(&total), fw(&sz));
        let Some(circle) = wt.um else {
            if attempt < 4 {
                half *= 2.0;
                continue;
            }
            return Err(Error::numerical(
                "fullwave metrics",
                format!("no half-maximum crossing within ±{half:.3} µm of the focal peak at z = {focal_z:.3} µm"),
            ));
        };
        if kmax * circle * 1.05 + xp.abs() > half && attempt < 4 {
            half = (kmax * circle * 1.05 + xp.abs()) * 1.2;
            continue;
        }
        let p_t = spec.propagating_power();
        let eff = slit_efficiencies(spec, setup, focal_z, xp, circle, p_t);
        return Ok(Focus1d {
            focal_plane_z_um: focal_z,
            focal_shift_um: focal_z - setup.design_focal_length,
            design_focal_length_um: setup.design_focal_length,
            peak_position_um: xp,
            fwhm_transverse: wt,
            fwhm_total: wtot,
            fwhm_sz: wsz,
            efficiency: eff,
            transmission_efficiency: p_t / setup.incident_power,
            incident_power: setup.incident_power,
            transmitted_power: p_t,
            peak_intensity: peak,
            focal_point_intensity: total[ip],
            strehl: None,
            strehl_power_normalised: None,
            cut: Cut1d {
                x_um: xs,
                transverse: trans,
                total,
                sz,
            },
        });
    }
    unreachable!("the loop returns on its last attempt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseval_and_plane_wave_power() {
        // a uniform TE field of amplitude 1 over width D: ∫|F|² = D (to the sampling of the
        // edges, exact here since the edges fall on samples), and the propagating power is
        // ½ n D up to the diffracted (evanescent) fraction of the edges, ~λ/D
        let dx = 0.05;
        let s = Spectrum1d::from_aperture(
            Polarization::Te,
            &|_| C64::new(1.0, 0.0),
            10.0,
            4096,
            dx,
            0.685,
            1.0,
        )
        .unwrap();
        let samples = (2.0 * 10.0 / dx).round() + 1.0;
        assert!((s.norm_sqr_integral() / (samples * dx) - 1.0).abs() < 1e-12);
        let p = s.propagating_power();
        assert!((p / (0.5 * samples * dx) - 1.0).abs() < 0.02, "{p}");
    }
}
