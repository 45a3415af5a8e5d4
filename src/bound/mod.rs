//! The perfect flat lens as a bound: what a lossless, reflection-free flat lens of a given NA
//! focuses under each efficiency definition, against its diameter, in 3-D (a round lens,
//! [`crate::metrics::pipeline::run_ideal`]) and in 2-D (a cylindrical lens, the 1-D pipeline's
//! [`crate::fullwave::ideal_focus`]), both under the energy-conserving
//! [`ApertureModel::Flux`]; and the sentence that says which definitions reach a target
//! (the reference study's 75 % at NA 0.9 and 42 % at NA 0.99).
//!
//! The bound depends on the size: a hard aperture edge diffracts part of the rim's light onto
//! and beyond the light line, a share that falls as the aperture grows, and the focal spot's
//! circles K·FWHM hold a size-dependent part of the focused power.

use crate::fullwave::solver1d::Polarization as Polarization1d;
use crate::lens::Lens;
use crate::metrics::pipeline::{run_ideal, RunOptions};
use crate::nearfield::{ApertureModel, Polarization};
use crate::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the perfect flat lens's hard edge costs: its transmission P_t/P_inc (P_inc on the
/// sampled disc) and, computed independently of P_t from the other side of the spectrum, the
/// share of the flux-density field F = √(n_inc/n)·e^{iφ} on the disc (|F|² is the local power
/// density of [`ApertureModel::Flux`], so its Parseval sum is the incident power) that lies
/// beyond the light line |k_t| ≥ n k0: the light the edge throws into evanescent waves.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EdgeLoss {
    pub transmission: f64,
    pub evanescent_share: f64,
}

/// [`EdgeLoss`] of the x-polarised perfect flat lens `lens` on a λ/(4 n_exit) grid, the FFT
/// twice the aperture.
pub fn edge_loss(lens: &Lens) -> Result<EdgeLoss> {
    use crate::metrics::pipeline::ideal_nearfield;
    use crate::propagate::{choose_fft_size, AngularSpectrumPlan};
    let dx = lens.wavelength_um / (4.0 * lens.n_exit);
    let field = |aperture_model| {
        let opts = RunOptions {
            aperture_model,
            ..RunOptions::default()
        };
        ideal_nearfield(lens, dx, &opts)
    };
    let nf = field(ApertureModel::Flux)?;
    let n = choose_fft_size(nf.m, dx, lens.na, lens.n_exit, 0.0, 2.0);
    let plan = AngularSpectrumPlan::new(n, dx, lens.wavelength_um, lens.n_exit)?;
    let p_t = plan.propagating_power(&plan.spectrum(&nf.field(Polarization::X))?);
    // F is the tangential model's field: uniform amplitude, exact phase
    let sp = plan.spectrum(&field(ApertureModel::Tangential)?.field(Polarization::X))?;
    let a = sp.ax.as_deref().unwrap_or_default();
    let k = plan.k();
    let (mut total, mut evanescent) = (0.0, 0.0);
    for j in 0..n {
        for i in 0..n {
            let p = a[j * n + i].norm_sqr();
            total += p;
            if plan.kx(i).hypot(plan.kx(j)) >= k {
                evanescent += p;
            }
        }
    }
    // P_inc on the sampled disc, ½ n Σ|F|² dx² (Parseval: Σ|F|² = n² Σ|A|²); the disc of
    // samples differs from π R² by 0.5 % at 10 µm, as much as the edge loss at NA 0.5
    let p_local = 0.5 * lens.n_exit * dx * dx * (n * n) as f64 * total;
    Ok(EdgeLoss {
        transmission: p_t / p_local,
        evanescent_share: evanescent / total,
    })
}

/// Geometry of a perfect lens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Geometry {
    /// A round lens (3-D), x-polarised.
    Round,
    /// A cylindrical lens (2-D) of the same NA and width, TE (E along the invariant axis).
    CylindricalTe,
    /// The same, TM.
    CylindricalTm,
}

impl Geometry {
    /// Name for tables and the report: "3-D (round, x-pol.)", "2-D (cylindrical, TE)", ….
    pub fn label(self) -> &'static str {
        match self {
            Geometry::Round => "3-D (round, x-pol.)",
            Geometry::CylindricalTe => "2-D (cylindrical, TE)",
            Geometry::CylindricalTm => "2-D (cylindrical, TM)",
        }
    }
}

/// One perfect lens evaluated.
#[derive(Clone, Debug, Serialize)]
pub struct BoundPoint {
    pub geometry: Geometry,
    pub diameter_um: f64,
    /// Every efficiency by its name (`incident_r3`, …).
    pub efficiency: BTreeMap<String, f64>,
    /// P_t / P_inc.
    pub transmission: f64,
}

/// The perfect flat lens of numerical aperture `na` at `wavelength_um`, lit from a medium of
/// index `n_incident` and focusing into `n_exit`, at each diameter (µm), round and
/// cylindrical; efficiency circles of `efficiency_k` FWHM; `n_z` planes in the focal scan.
/// The diameters run one after the other, each solver parallel inside (rayon); a refused lens
/// (an NA at or above `n_exit`) fails before any work.
pub fn perfect_lens_bounds(
    wavelength_um: f64,
    na: f64,
    n_incident: f64,
    n_exit: f64,
    diameters_um: &[f64],
    efficiency_k: &[f64],
    n_z: usize,
) -> Result<Vec<BoundPoint>> {
    let lenses: Vec<Lens> = diameters_um
        .iter()
        .map(|&d| Lens::from_na(wavelength_um, na, n_exit, d)?.with_incidence(n_incident))
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for l in &lenses {
        let opts = RunOptions {
            polarization: Polarization::X,
            efficiency_k: efficiency_k.to_vec(),
            n_z,
            aperture_model: ApertureModel::Flux,
            ..RunOptions::default()
        };
        let r = run_ideal(l, &opts)?.report;
        out.push(BoundPoint {
            geometry: Geometry::Round,
            diameter_um: l.diameter_um,
            efficiency: r
                .efficiency
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            transmission: r.transmission_efficiency,
        });
        for (g, pol) in [
            (Geometry::CylindricalTe, Polarization1d::Te),
            (Geometry::CylindricalTm, Polarization1d::Tm),
        ] {
            let f = crate::fullwave::ideal_focus(l, pol, ApertureModel::Flux, efficiency_k, n_z)?;
            out.push(BoundPoint {
                geometry: g,
                diameter_um: l.diameter_um,
                efficiency: f
                    .efficiency
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
                transmission: f.transmission_efficiency,
            });
        }
    }
    Ok(out)
}

/// The paragraph of a report: under which definitions the perfect flat lens of this NA
/// reaches `target` (a fraction), at the design's diameter `design_diameter_um` and over the
/// diameters of `points`, round and cylindrical; if under none, the normalisation that would.
/// `study` names the target ("the study's 75 % (NA 0.9)").
pub fn reach_paragraph(
    points: &[BoundPoint],
    target: f64,
    design_diameter_um: f64,
    study: &str,
) -> String {
    let pct = |v: f64| format!("{:.1} %", 100.0 * v);
    let mut s = format!(
        "**Can a perfect flat lens reach {study}?** The bound is the energy-conserving flat lens of the same NA (lossless, reflection-free, exact phase; `metalens::bound`), which no design can beat under the `incident_*` definitions. "
    );
    let names: Vec<String> = points
        .first()
        .map(|p| p.efficiency.keys().cloned().collect())
        .unwrap_or_default();
    let (lo, hi) = points.iter().fold((f64::INFINITY, 0.0f64), |a, p| {
        (a.0.min(p.diameter_um), a.1.max(p.diameter_um))
    });
    let mut reached = Vec::new();
    let mut at_size = Vec::new();
    for g in [
        Geometry::Round,
        Geometry::CylindricalTe,
        Geometry::CylindricalTm,
    ] {
        let pts: Vec<&BoundPoint> = points.iter().filter(|p| p.geometry == g).collect();
        let Some(at_design) = pts.iter().min_by(|a, b| {
            (a.diameter_um - design_diameter_um)
                .abs()
                .total_cmp(&(b.diameter_um - design_diameter_um).abs())
        }) else {
            continue;
        };
        let values: Vec<String> = names
            .iter()
            .map(|n| {
                format!(
                    "`{n}` {}",
                    pct(at_design.efficiency.get(n).copied().unwrap_or(f64::NAN))
                )
            })
            .collect();
        at_size.push(format!(
            "{} transmission {}, {}",
            g.label(),
            pct(at_design.transmission),
            values.join(", ")
        ));
        for n in &names {
            let ds: Vec<f64> = pts
                .iter()
                .filter(|p| p.efficiency.get(n).is_some_and(|v| *v >= target))
                .map(|p| p.diameter_um)
                .collect();
            if let (Some(a), Some(b)) = (ds.first(), ds.last()) {
                let at = if a == b {
                    format!("{a} µm")
                } else {
                    format!("{a}–{b} µm")
                };
                reached.push(format!("`{n}` {} at {at}", g.label()));
            }
        }
    }
    s += &format!(
        "At {design_diameter_um} µm it focuses: {}. ",
        at_size.join("; ")
    );
    if reached.is_empty() {
        let best = points
            .iter()
            .flat_map(|p| p.efficiency.values().map(move |v| (*v, p)))
            .fold(0.0, |a: f64, (v, _)| a.max(v));
        s += &format!(
            "Over {lo}–{hi} µm no definition the engine computes lets even a perfect lens of this NA reach {study} (the best is {}): the study's number can only hold for a normalisation by less than the light the lens receives, for example the power in the focal spot over the power collected by an imaging objective of lower NA than the lens (which misses the steepest rays), or over the power inside a wider circle; the study does not state which it used.\n\n",
            pct(best)
        );
    } else {
        s += &format!(
            "Over {lo}–{hi} µm a perfect lens of this NA reaches {study} only under {}; under every other definition and size not even a perfect lens does.\n\n",
            reached.join(", ")
        );
    }
    s
}
