//! Focal-spot metrics. Every quantity is named and defined here, and the definitions are
//! repeated in the JSON output (`definitions`), so a comparison can say which one it uses.
//!
//! * **Transverse intensity** I_t = |Ex|² + |Ey|²; **total intensity** I = |Ex|² + |Ey|² + |Ez|²;
//!   **axial Poynting flux** Sz = ½ Re(Ex Hy* − Ey Hx*) (H in units of 1/η0). Intensities are
//!   in units of the incident |E|² (the incident plane wave has amplitude 1).
//! * **Focal plane**: the plane of maximum on-axis total intensity (the real focus, found by a
//!   scan of `n_z` planes and a golden-section refinement), unless the design focus is asked
//!   for. **Focal shift** = focal-plane z − design focal length (negative: towards the lens).
//! * **Focal point**: the maximum of the axial flux Sz in the focal plane (refined by a
//!   parabola through the neighbouring samples). Sz is what a detector integrates and is
//!   single-peaked for every NA; the total intensity is not: as NA → 1 the |Ez|² of an x-polarised
//!   focus forms two lobes beside the axis that outshine the centre (Mk2, NA 0.99), so taking the
//!   |E|² maximum as the focus would centre everything on one lobe.
//! * **FWHM** along x and y: full width at half maximum of the *central lobe* of I_t, I and Sz
//!   along lines through the focal point, the fields evaluated exactly from the angular spectrum
//!   on a fine line (801 samples across the window), the half-maximum crossings linearly
//!   interpolated. The central lobe's maximum is found by climbing from the focal point; when it
//!   lies more than 0.05 λ from the focal point the quantity has a central dip (off-axis lobes)
//!   and its FWHM is reported as null rather than the width of a side lobe. Given in µm and in
//!   λ (vacuum wavelength).
//! * **Focusing efficiency** (k): power of Sz inside a circle of radius k·FWHM centred on the
//!   focal point, FWHM = mean of the x and y FWHM of I_t (or the user's value),
//!   divided by (a) `incident`: the power incident on the lens aperture, P_inc = ½ n_inc·π R²
//!   for a unit-amplitude plane wave in the incidence medium, or (b) `transmitted`: the power
//!   transmitted through the lens, P_t = the Sz-power of the propagating plane waves of the
//!   aperture field. The circle integral uses a fine map with 4 × 4 sub-samples per pixel on
//!   the circle's edge.
//! * **Transmission efficiency** = P_t / P_inc.
//! * **Strehl ratio** = total intensity I at the focal point ÷ the same for the ideal lens
//!   (the perfect flat lens that conserves energy, [`crate::nearfield::ApertureModel`]: exact
//!   hyperbolic phase, same aperture, same incident wave), each at its
//!   own focal plane.
//! * **Peak intensity** = maximum total intensity I anywhere in the focal-plane window (units of
//!   incident |E|²); **focal-point intensity** = I at the focal point.
//! * **Side-lobe level** = maximum of Sz outside the first minimum of its azimuthal average
//!   around the focal point, ÷ Sz at the focal point (within the evaluated window).

pub mod pipeline;

use crate::numeric::{argmax, golden_section_max, linspace};
use crate::propagate::{AngularSpectrumPlan, Fields, Sections, VectorSpectrum};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings of one focal analysis.
#[derive(Clone, Debug)]
pub struct FocusSetup {
    /// Vacuum wavelength, µm.
    pub wavelength_um: f64,
    /// Design focal length, µm.
    pub design_focal_length: f64,
    /// Design numerical aperture (n_exit sin θ), sets the search windows.
    pub na: f64,
    /// P_inc: power incident on the aperture, |E|²·µm²/η0.
    pub incident_power: f64,
    /// Circle radii in units of FWHM for the focusing efficiency (1.5 and 3 by default).
    pub efficiency_k: Vec<f64>,
    /// Use this FWHM (µm) for the circles instead of the measured transverse one.
    pub circle_fwhm: Option<f64>,
    /// z range (µm) of the on-axis scan and the sections.
    pub z_range: (f64, f64),
    /// Planes in the scan and sections.
    pub n_z: usize,
    /// Analyse at the design focal length instead of the on-axis maximum.
    pub at_design_focus: bool,
}

/// FWHM along x and y, µm and in wavelengths; `None` where no half-maximum crossing lies in
/// the window.
#[derive(Clone, Debug, Serialize)]
pub struct Fwhm {
    pub x_um: Option<f64>,
    pub y_um: Option<f64>,
    pub x_lambda: Option<f64>,
    pub y_lambda: Option<f64>,
}

/// FWHM of the three quantities.
#[derive(Clone, Debug, Serialize)]
pub struct FwhmSet {
    pub transverse: Fwhm,
    pub total: Fwhm,
    pub sz: Fwhm,
}

/// Line cut through the focal peak.
#[derive(Clone, Debug)]
pub struct Cut {
    /// Coordinate along the cut, µm.
    pub s: Vec<f64>,
    pub transverse: Vec<f64>,
    pub total: Vec<f64>,
    pub sz: Vec<f64>,
}

/// Data kept for the figures.
#[derive(Clone, Debug)]
pub struct FocusData {
    /// Fine focal-plane window.
    pub map: Fields,
    pub map_total: Vec<f64>,
    pub map_sz: Vec<f64>,
    pub cut_x: Cut,
    pub cut_y: Cut,
    pub sections: Sections,
}

/// Results of one focal analysis (serialised into the JSON contract).
#[derive(Clone, Debug, Serialize)]
pub struct FocusReport {
    pub focal_plane_z_um: f64,
    pub focal_shift_um: f64,
    pub design_focal_length_um: f64,
    /// Focal point (x, y) in the focal plane: the maximum of Sz, µm.
    pub peak_position_um: [f64; 2],
    pub fwhm: FwhmSet,
    /// FWHM used for the efficiency circles, µm.
    pub circle_fwhm_um: f64,
    /// The focusing efficiency in each circle (JSON: `incident_r{k}`, `transmitted_r{k}` and
    /// `radius_um_r{k}` for each k).
    pub efficiency: Efficiencies,
    pub transmission_efficiency: f64,
    pub incident_power: f64,
    pub transmitted_power: f64,
    pub peak_intensity: f64,
    /// Total intensity at the focal point (the Sz maximum).
    pub focal_point_intensity: f64,
    pub peak_intensity_transverse: f64,
    pub peak_sz: f64,
    pub side_lobe_level: Option<f64>,
    /// Filled by the caller from the ideal lens (1 for the ideal lens itself).
    pub strehl: Option<f64>,
    #[serde(skip)]
    pub data: Option<FocusData>,
}

/// Key of an efficiency entry: "r1.5", "r3".
pub fn k_key(k: f64) -> String {
    format!("r{k}")
}

/// The focusing efficiency in one circle (or, in 1-D, window) of radius k·FWHM around the
/// focal point.
#[derive(Clone, Debug, PartialEq)]
pub struct CircleEfficiency {
    /// Radius in units of the FWHM.
    pub k: f64,
    /// Radius, µm.
    pub radius_um: f64,
    /// Power in the circle ÷ power incident on the aperture.
    pub incident: f64,
    /// Power in the circle ÷ power transmitted by the lens.
    pub transmitted: f64,
    /// The two names of the JSON contract: `incident_r{k}`, `transmitted_r{k}`.
    names: [String; 2],
}

impl CircleEfficiency {
    /// The circle of radius `k`·FWHM = `radius_um` holding `power`, for an incident power
    /// `p_incident` and a transmitted power `p_transmitted`.
    pub fn new(k: f64, radius_um: f64, power: f64, p_incident: f64, p_transmitted: f64) -> Self {
        CircleEfficiency {
            k,
            radius_um,
            incident: power / p_incident,
            transmitted: power / p_transmitted,
            names: [
                format!("incident_{}", k_key(k)),
                format!("transmitted_{}", k_key(k)),
            ],
        }
    }
}

/// The focusing efficiencies of one focus, one [`CircleEfficiency`] per circle. Looked up by
/// their names in the JSON contract (`incident_r1.5`, `transmitted_r3`: `eff["incident_r3"]`,
/// [`Efficiencies::get`]); iterated in the order of those names. Serialised as the JSON map
/// of the contract, with the circle radii as `radius_um_r{k}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Efficiencies {
    pub circles: Vec<CircleEfficiency>,
}

impl Efficiencies {
    /// (name, value) of every efficiency, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &f64)> {
        let mut v: Vec<(&str, &f64)> = self
            .circles
            .iter()
            .flat_map(|c| {
                [
                    (c.names[0].as_str(), &c.incident),
                    (c.names[1].as_str(), &c.transmitted),
                ]
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }
    /// The names of the efficiencies, ordered.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }
    /// The efficiency of this name (`incident_r3`), if computed.
    pub fn get(&self, name: impl AsRef<str>) -> Option<&f64> {
        let name = name.as_ref();
        self.circles.iter().find_map(|c| {
            if c.names[0] == name {
                Some(&c.incident)
            } else if c.names[1] == name {
                Some(&c.transmitted)
            } else {
                None
            }
        })
    }
    /// The circle radii (µm), in the order of their JSON names (`radius_um_r1.5`, ...).
    pub fn radii_um(&self) -> Vec<f64> {
        let mut v: Vec<(String, f64)> = self
            .circles
            .iter()
            .map(|c| (format!("radius_um_{}", k_key(c.k)), c.radius_um))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, r)| r).collect()
    }
    /// Make `p_transmitted` the transmitted power (the `transmitted` ratios were computed
    /// for `previous`).
    pub fn rescale_transmitted(&mut self, previous: f64, p_transmitted: f64) {
        for c in &mut self.circles {
            // the circle power is incident · P_inc, unchanged
            c.transmitted *= previous / p_transmitted;
        }
    }
}

impl<Q: AsRef<str>> std::ops::Index<Q> for Efficiencies {
    type Output = f64;
    fn index(&self, name: Q) -> &f64 {
        let name = name.as_ref();
        self.get(name)
            .unwrap_or_else(|| panic!("no efficiency named {name}"))
    }
}

impl<'a> IntoIterator for &'a Efficiencies {
    type Item = (&'a str, &'a f64);
    type IntoIter = std::vec::IntoIter<(&'a str, &'a f64)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter().collect::<Vec<_>>().into_iter()
    }
}

impl Serialize for Efficiencies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = BTreeMap::new();
        for c in &self.circles {
            m.insert(c.names[0].clone(), c.incident);
            m.insert(c.names[1].clone(), c.transmitted);
            m.insert(format!("radius_um_{}", k_key(c.k)), c.radius_um);
        }
        m.serialize(s)
    }
}

/// Full width at half maximum of a sampled profile (uniform or not) around its maximum,
/// half-maximum crossings linearly interpolated. `None` if a side never drops below half.
pub fn fwhm_1d(s: &[f64], v: &[f64]) -> Option<f64> {
    let ip = argmax(v)?;
    let vmax = v[ip];
    if vmax.is_nan() || vmax <= 0.0 {
        return None;
    }
    width_at_half(s, v, ip)
}

/// Width at half of `v[ip]` around the sample `ip`: the nearest crossings below half on each
/// side, linearly interpolated; `None` if a side never drops below half.
fn width_at_half(s: &[f64], v: &[f64], ip: usize) -> Option<f64> {
    let half = 0.5 * v[ip];
    let left = (0..ip).rev().find(|&i| v[i] < half).map(|i| {
        let t = (half - v[i]) / (v[i + 1] - v[i]);
        s[i] + t * (s[i + 1] - s[i])
    });
    let right = (ip + 1..v.len()).find(|&i| v[i] < half).map(|i| {
        let t = (v[i - 1] - half) / (v[i - 1] - v[i]);
        s[i - 1] + t * (s[i] - s[i - 1])
    });
    Some(right? - left?)
}

/// FWHM of the lobe of `v` that contains the sample `i0` (the focal point): climb from `i0` to
/// the lobe's maximum; if that maximum is more than `max_shift` (in units of `s`) from `s[i0]`
/// the profile has a dip at the focal point and the result is `None`; otherwise the width at
/// half that maximum, crossings linearly interpolated (`None` if a side never drops below half).
pub fn fwhm_central(s: &[f64], v: &[f64], i0: usize, max_shift: f64) -> Option<f64> {
    if i0 >= v.len() || v[i0].is_nan() || v[i0] <= 0.0 {
        return None;
    }
    let mut ip = i0;
    loop {
        if ip + 1 < v.len() && v[ip + 1] > v[ip] {
            ip += 1;
        } else if ip > 0 && v[ip - 1] > v[ip] {
            ip -= 1;
        } else {
            break;
        }
    }
    if (s[ip] - s[i0]).abs() > max_shift {
        return None;
    }
    width_at_half(s, v, ip)
}

/// ∫ q dA over a disc (centre cx, cy; radius r) of a map sampled on the uniform grid xs × ys
/// (row-major, rows along y): pixels wholly inside count fully, edge pixels by the fraction of
/// 4 × 4 sub-samples inside.
pub fn disc_integral(xs: &[f64], ys: &[f64], q: &[f64], cx: f64, cy: f64, r: f64) -> f64 {
    let dx = (xs[xs.len() - 1] - xs[0]) / (xs.len() - 1) as f64;
    let dy = (ys[ys.len() - 1] - ys[0]) / (ys.len() - 1) as f64;
    let diag = 0.5 * (dx * dx + dy * dy).sqrt();
    let mut s = 0.0;
    for (j, &y) in ys.iter().enumerate() {
        for (i, &x) in xs.iter().enumerate() {
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
            let frac = if d + diag <= r {
                1.0
            } else if d - diag > r {
                0.0
            } else {
                let mut c = 0;
                for a in 0..4 {
                    for b in 0..4 {
                        let sx = x + (a as f64 - 1.5) / 4.0 * dx;
                        let sy = y + (b as f64 - 1.5) / 4.0 * dy;
                        if (sx - cx).powi(2) + (sy - cy).powi(2) <= r * r {
                            c += 1;
                        }
                    }
                }
                c as f64 / 16.0
            };
            s += frac * q[j * xs.len() + i];
        }
    }
    s * dx * dy
}

/// Side-lobe level of a map (see module docs); `None` if the azimuthal average has no minimum
/// inside the window.
pub fn side_lobe_level(
    xs: &[f64],
    ys: &[f64],
    q: &[f64],
    cx: f64,
    cy: f64,
    centre: f64,
) -> Option<f64> {
    let dx = (xs[xs.len() - 1] - xs[0]) / (xs.len() - 1) as f64;
    let rmax = (xs[xs.len() - 1] - cx)
        .min(cx - xs[0])
        .min(ys[ys.len() - 1] - cy)
        .min(cy - ys[0]);
    let nbins = (rmax / dx).floor() as usize;
    if nbins < 4 {
        return None;
    }
    let mut sum = vec![0.0; nbins];
    let mut cnt = vec![0usize; nbins];
    for (j, &y) in ys.iter().enumerate() {
        for (i, &x) in xs.iter().enumerate() {
            let v = q[j * xs.len() + i];
            let b = (((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / dx).floor() as usize;
            if b < nbins {
                sum[b] += v;
                cnt[b] += 1;
            }
        }
    }
    let avg: Vec<f64> = sum
        .iter()
        .zip(&cnt)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();
    let first_min = (1..nbins - 1).find(|&b| avg[b] <= avg[b - 1] && avg[b] < avg[b + 1])?;
    let rmin = (first_min as f64 + 0.5) * dx;
    let mut lobe: f64 = 0.0;
    for (j, &y) in ys.iter().enumerate() {
        for (i, &x) in xs.iter().enumerate() {
            if ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() > rmin {
                lobe = lobe.max(q[j * xs.len() + i]);
            }
        }
    }
    if centre.is_nan() || centre <= 0.0 {
        return None;
    }
    Some(lobe / centre)
}

fn parabolic_offset(ym: f64, y0: f64, yp: f64) -> f64 {
    let den = ym - 2.0 * y0 + yp;
    if den.abs() > 0.0 {
        (0.5 * (ym - yp) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// Analyse the focus of a propagated lens field (see module docs for each quantity).
pub fn analyse(
    plan: &AngularSpectrumPlan,
    spec: &VectorSpectrum,
    setup: &FocusSetup,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<FocusReport> {
    check_setup(setup)?;
    let lambda = setup.wavelength_um;
    let (z0, z1) = setup.z_range;
    let fwhm_est = 0.5145 * lambda / setup.na;
    let kmax = setup.efficiency_k.iter().cloned().fold(3.0, f64::max);
    // the largest circle must fit the propagated window (half of it: the field is periodic
    // beyond), checked before the scan with the diffraction-limited FWHM and after it with the
    // measured one
    let fits = |fwhm: f64, what: &str| -> Result<()> {
        let (r, w) = (kmax * fwhm, 0.5 * plan.window());
        if r * 1.05 > w {
            return Err(Error::invalid(
                "efficiency radius factor",
                kmax,
                format!(
                    "a circle of {kmax} × FWHM ({what} {fwhm:.3} µm) = {r:.2} µm does not fit the focal window ±{w:.2} µm; at most {:.1}",
                    w / (1.05 * fwhm)
                ),
            ));
        }
        Ok(())
    };
    fits(setup.circle_fwhm.unwrap_or(fwhm_est), "estimated")?;

    // 1. on-axis scan and sections
    let zs = linspace(z0, z1, setup.n_z);
    let half_sec = 10.0 * fwhm_est;
    let sec_x = linspace(-half_sec, half_sec, 201);
    let sections = plan.sections(spec, &zs, &sec_x, &sec_x, progress)?;
    let focal_z = if setup.at_design_focus {
        setup.design_focal_length
    } else {
        search_focal_plane(plan, spec, &zs, &sections.on_axis, z0)?
    };

    // 2. focal-plane map, growing the window until the largest circle fits
    let mut half = 1.15 * kmax * fwhm_est;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let plane = FocalPlane::sample(plan, spec, focal_z, half, lambda)?;
        let circle_fwhm = match setup.circle_fwhm.or(plane.mean_transverse_fwhm()) {
            Some(v) => v,
            None if attempt < 4 => {
                half *= 2.0;
                continue;
            }
            None => return Err(Error::numerical("metrics", format!("no half-maximum crossing within ±{half:.3} µm of the focal peak: the lens does not form a focus at z = {focal_z:.3} µm"))),
        };
        fits(circle_fwhm, "measured")?;
        let [px, py] = plane.peak;
        let need = kmax * circle_fwhm * 1.05 + px.abs().max(py.abs());
        if need > half && attempt < 4 {
            half = need * 1.1;
            continue;
        }
        return Ok(plane.report(plan, spec, setup, focal_z, circle_fwhm, sections));
    }
}

/// Refuse a z range, plane count or efficiency radius [`analyse`] cannot use.
fn check_setup(setup: &FocusSetup) -> Result<()> {
    let (z0, z1) = setup.z_range;
    if !(z0 > 0.0 && z1 > z0) {
        return Err(Error::invalid(
            "z range",
            format!("{z0}..{z1} µm"),
            "must satisfy 0 < start < end (planes behind the lens are not propagated)",
        ));
    }
    if setup.n_z < 3 {
        return Err(Error::invalid(
            "number of planes",
            setup.n_z,
            "must be at least 3",
        ));
    }
    for &k in &setup.efficiency_k {
        if !(k.is_finite() && k > 0.0) {
            return Err(Error::invalid(
                "efficiency radius factor",
                k,
                "must be a finite number > 0",
            ));
        }
    }
    Ok(())
}

/// The focal plane: the maximum of the on-axis intensity, refined by a golden-section search
/// (30 iterations) over one scan step either side of the best of the scan planes `zs`
/// (`on_axis` their intensities), not below half the scan start `z0` (µm).
fn search_focal_plane(
    plan: &AngularSpectrumPlan,
    spec: &VectorSpectrum,
    zs: &[f64],
    on_axis: &[f64],
    z0: f64,
) -> Result<f64> {
    let imax = argmax(on_axis).expect("a non-empty scan");
    let dz = zs[1] - zs[0];
    // an evaluation error (none is expected for z > 0) scores −∞ and is raised below
    let mut failure = None;
    let search = golden_section_max(
        |z| match plan.on_axis_intensity(spec, z) {
            Ok(v) => v,
            Err(e) => {
                failure.get_or_insert(e);
                f64::NEG_INFINITY
            }
        },
        |v| *v,
        (zs[imax] - dz).max(z0 * 0.5),
        zs[imax] + dz,
        30,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(0.5 * (search.bracket.0 + search.bracket.1))
}

/// One sampling of the focal plane over the window ±`half` µm: the map, the focal point (the
/// Sz maximum, parabola-refined) and the fine cuts through it with their FWHM.
struct FocalPlane {
    /// Map axis (µm), the same along x and y.
    grid: Vec<f64>,
    map: Fields,
    total: Vec<f64>,
    sz: Vec<f64>,
    /// Focal point (x, y), µm.
    peak: [f64; 2],
    cut_x: Cut,
    cut_y: Cut,
    /// Index of the focal point on the cuts (their middle sample).
    i0: usize,
    fwhm: FwhmSet,
}

impl FocalPlane {
    /// Samples across the map (each axis) and along each cut (odd: the focal point is the
    /// middle sample).
    const MAP_SAMPLES: usize = 161;
    const CUT_SAMPLES: usize = 801;

    fn sample(
        plan: &AngularSpectrumPlan,
        spec: &VectorSpectrum,
        focal_z: f64,
        half: f64,
        lambda: f64,
    ) -> Result<Self> {
        let npts = Self::MAP_SAMPLES;
        let grid = linspace(-half, half, npts);
        let map = plan.evaluate(spec, focal_z, &grid, &grid)?;
        let total = map.total_intensity();
        let sz = map.sz();
        let ip = argmax(&sz).expect("a non-empty map");
        let (pj, pi) = (ip / npts, ip % npts);
        let d = grid[1] - grid[0];
        let mut px = grid[pi];
        let mut py = grid[pj];
        if pi > 0 && pi + 1 < npts {
            px += d * parabolic_offset(sz[ip - 1], sz[ip], sz[ip + 1]);
        }
        if pj > 0 && pj + 1 < npts {
            py += d * parabolic_offset(sz[ip - npts], sz[ip], sz[ip + npts]);
        }
        // fine cuts through the peak
        let nline = Self::CUT_SAMPLES;
        let line = linspace(-half, half, nline);
        let lx: Vec<f64> = line.iter().map(|s| px + s).collect();
        let ly: Vec<f64> = line.iter().map(|s| py + s).collect();
        let fx = plan.evaluate(spec, focal_z, &lx, &[py])?;
        let fy = plan.evaluate(spec, focal_z, &[px], &ly)?;
        let cut = |f: &Fields| Cut {
            s: line.clone(),
            transverse: f.transverse_intensity(),
            total: f.total_intensity(),
            sz: f.sz(),
        };
        let (cx, cy) = (cut(&fx), cut(&fy));
        let i0 = nline / 2;
        let fwhm = cut_fwhm(&line, &cx, &cy, i0, lambda);
        Ok(FocalPlane {
            grid,
            map,
            total,
            sz,
            peak: [px, py],
            cut_x: cx,
            cut_y: cy,
            i0,
            fwhm,
        })
    }

    /// Mean of the x and y transverse FWHM (µm), when both are measured.
    fn mean_transverse_fwhm(&self) -> Option<f64> {
        match (self.fwhm.transverse.x_um, self.fwhm.transverse.y_um) {
            (Some(a), Some(b)) => Some(0.5 * (a + b)),
            _ => None,
        }
    }

    /// The report of this plane at `focal_z`, the efficiency circles k · `circle_fwhm`.
    fn report(
        self,
        plan: &AngularSpectrumPlan,
        spec: &VectorSpectrum,
        setup: &FocusSetup,
        focal_z: f64,
        circle_fwhm: f64,
        sections: Sections,
    ) -> FocusReport {
        let [px, py] = self.peak;
        let (grid, sz) = (&self.grid, &self.sz);
        let p_t = plan.propagating_power(spec);
        let mut eff = Efficiencies::default();
        for &k in &setup.efficiency_k {
            let r = k * circle_fwhm;
            let p = disc_integral(grid, grid, sz, px, py, r);
            eff.circles
                .push(CircleEfficiency::new(k, r, p, setup.incident_power, p_t));
        }
        let sll = side_lobe_level(grid, grid, sz, px, py, self.cut_x.sz[self.i0]);
        let focal_point_intensity = self.cut_x.total[self.i0];
        let trans = self.map.transverse_intensity();
        let peak = self.total.iter().cloned().fold(0.0, f64::max);
        FocusReport {
            focal_plane_z_um: focal_z,
            focal_shift_um: focal_z - setup.design_focal_length,
            design_focal_length_um: setup.design_focal_length,
            peak_position_um: [px, py],
            fwhm: self.fwhm,
            circle_fwhm_um: circle_fwhm,
            efficiency: eff,
            transmission_efficiency: p_t / setup.incident_power,
            incident_power: setup.incident_power,
            transmitted_power: p_t,
            peak_intensity: peak,
            focal_point_intensity,
            peak_intensity_transverse: trans.iter().cloned().fold(0.0, f64::max),
            peak_sz: sz.iter().cloned().fold(f64::MIN, f64::max),
            side_lobe_level: sll,
            strehl: None,
            data: Some(FocusData {
                map: self.map,
                map_total: self.total,
                map_sz: self.sz,
                cut_x: self.cut_x,
                cut_y: self.cut_y,
                sections,
            }),
        }
    }
}

/// FWHM of the three quantities along the cuts `cx` (x) and `cy` (y) on the axis `line`,
/// central lobe through sample `i0` (a lobe more than 0.05 λ from it: none).
fn cut_fwhm(line: &[f64], cx: &Cut, cy: &Cut, i0: usize, lambda: f64) -> FwhmSet {
    let shift = 0.05 * lambda;
    let fw = |a: &[f64], b: &[f64]| {
        let x = fwhm_central(line, a, i0, shift);
        let y = fwhm_central(line, b, i0, shift);
        Fwhm {
            x_um: x,
            y_um: y,
            x_lambda: x.map(|v| v / lambda),
            y_lambda: y.map(|v| v / lambda),
        }
    };
    FwhmSet {
        transverse: fw(&cx.transverse, &cy.transverse),
        total: fw(&cx.total, &cy.total),
        sz: fw(&cx.sz, &cy.sz),
    }
}

/// Definitions of every reported quantity, for the JSON output.
pub fn definitions() -> BTreeMap<&'static str, &'static str> {
    let mut d = BTreeMap::new();
    d.insert("transverse", "|Ex|^2+|Ey|^2 (units of the incident |E|^2)");
    d.insert(
        "total",
        "|Ex|^2+|Ey|^2+|Ez|^2 (units of the incident |E|^2)",
    );
    d.insert(
        "sz",
        "axial Poynting flux 0.5 Re(Ex Hy* - Ey Hx*), H in units of 1/eta0",
    );
    d.insert("focal_plane_z_um", "plane of maximum on-axis total intensity (scan + golden-section refinement), or the design focus if requested");
    d.insert("focal_shift_um", "focal_plane_z_um - design focal length");
    d.insert("focal_point", "peak_position_um: the maximum of Sz in the focal plane (single-peaked at any NA; |E|^2 can be two-lobed near NA 1)");
    d.insert("fwhm", "full width at half maximum of the central lobe along x and y through the focal point, exact fields on a fine line, linear interpolation of the half-maximum crossings; null when the quantity has a dip at the focal point (its lobe maximum lies > 0.05 lambda away)");
    d.insert("efficiency.incident_rK", "power of Sz within a circle of radius K*FWHM (mean x/y FWHM of the transverse intensity unless set) around the focal peak / power incident on the lens aperture (0.5 n_inc pi R^2, unit-amplitude plane wave)");
    d.insert("efficiency.transmitted_rK", "power of Sz within the same circle / power transmitted through the lens (Sz power of the propagating plane waves of the aperture field)");
    d.insert(
        "transmission_efficiency",
        "power transmitted through the lens / power incident on the lens aperture",
    );
    d.insert("strehl", "total intensity at the focal point / the same for the ideal lens (the perfect flat lens that conserves energy: exact hyperbolic phase, the incident power sent on from every point of the aperture towards the focus, s and p split at the local deflection; same aperture and incident wave), each at its own focal plane");
    d.insert(
        "peak_intensity",
        "maximum total intensity in the focal plane (units of the incident |E|^2)",
    );
    d.insert(
        "focal_point_intensity",
        "total intensity at the focal point (units of the incident |E|^2)",
    );
    d.insert("side_lobe_level", "maximum Sz outside the first minimum of its azimuthal average around the focal point / Sz at the focal point");
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fwhm_of_a_gaussian() {
        // exp(-x^2/(2 s^2)) has FWHM 2 sqrt(2 ln 2) s; on a 0.01 s grid linear interpolation
        // errs by O(h^2) ~ 1e-5 relative
        let s: Vec<f64> = (0..2001).map(|i| -10.0 + i as f64 * 0.01).collect();
        let v: Vec<f64> = s.iter().map(|x| (-x * x / 2.0).exp()).collect();
        let w = fwhm_1d(&s, &v).unwrap();
        assert!((w / (2.0 * (2.0 * 2f64.ln()).sqrt()) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn central_fwhm_measures_the_lobe_at_the_focal_point_or_refuses() {
        let s: Vec<f64> = (0..2001).map(|i| -10.0 + i as f64 * 0.01).collect();
        let g = |x: f64, c: f64| (-(x - c) * (x - c) / 2.0).exp();
        let w0 = 2.0 * (2.0 * 2f64.ln()).sqrt();
        // a single lobe slightly off the focal point (0.02 < max_shift 0.1): its own width
        let v: Vec<f64> = s.iter().map(|&x| g(x, 0.02)).collect();
        let w = fwhm_central(&s, &v, 1000, 0.1).unwrap();
        assert!((w / w0 - 1.0).abs() < 1e-4, "{w}");
        // two lobes at ±1.5 with a dip at the focal point (the |E|^2 of an x-polarised focus
        // at NA → 1): no width, rather than the width of one lobe
        let v: Vec<f64> = s.iter().map(|&x| g(x, -1.5) + g(x, 1.5)).collect();
        assert_eq!(fwhm_central(&s, &v, 1000, 0.1), None);
        // a brighter side lobe elsewhere does not move the measurement off the central lobe
        let v: Vec<f64> = s.iter().map(|&x| g(x, 0.0) + 2.0 * g(x, 6.0)).collect();
        let w = fwhm_central(&s, &v, 1000, 0.1).unwrap();
        assert!((w / w0 - 1.0).abs() < 1e-3, "{w}");
        assert!(fwhm_1d(&s, &v).unwrap() > 0.0); // (fwhm_1d would measure the side lobe)
    }

    #[test]
    fn disc_of_ones_has_area_pi_r2() {
        let g = linspace(-2.0, 2.0, 201);
        let q = vec![1.0; 201 * 201];
        let a = disc_integral(&g, &g, &q, 0.1, -0.2, 1.3);
        // edge pixels resolved to 1/16: error ~ perimeter * h / 16 / area ~ 1e-3
        assert!(
            (a / (std::f64::consts::PI * 1.69) - 1.0).abs() < 2e-3,
            "{a}"
        );
    }
}
