//! FDTD unit cells against closed forms (Fresnel / Fabry–Pérot) and the crate's RCWA.

use metalens::cell::{Lattice, Layer, Stack};
use metalens::fdtd::cell::{solve_cell, CellPolarization};
use metalens::fdtd::FdtdSettings;
use metalens::material::Material;
use metalens::C64;

/// Airy formula at normal incidence for the slab (n2, d) between n1 and n3: (t, r) with the
/// crate's definition (fields at the slab's bottom and top surfaces, exp(−iωt)).
fn airy(n1: f64, n2: f64, n3: f64, d: f64, wl: f64) -> (C64, C64) {
    let k0 = 2.0 * std::f64::consts::PI / wl;
    let r12 = (n1 - n2) / (n1 + n2);
    let r23 = (n2 - n3) / (n2 + n3);
    let t12 = 2.0 * n1 / (n1 + n2);
    let t23 = 2.0 * n2 / (n2 + n3);
    let ph = C64::from_polar(1.0, n2 * k0 * d);
    let den = 1.0 + r12 * r23 * ph * ph;
    (t12 * t23 * ph / den, (r12 + r23 * ph * ph) / den)
}

fn slab(n1: f64, n2: f64, n3: f64, d: f64) -> Stack {
    Stack {
        lattice: Lattice::square(0.1).unwrap(),
        incidence: Material::Constant(C64::new(n1, 0.0)),
        layers: vec![Layer::uniform(d, Material::Constant(C64::new(n2, 0.0)))],
        exit: Material::Constant(C64::new(n3, 0.0)),
    }
}

fn settings(res: f64) -> FdtdSettings {
    FdtdSettings {
        resolution: res,
        ..FdtdSettings::default()
    }
}

/// One slab run at `res` with the given settings: per wavelength (|Δ|t||, |Δ arg t| in degrees,
/// |Δr|) against the Airy formula, after checking energy and the flux against the amplitude.
fn slab_errors(res: f64, wls: &[f64], correction: bool) -> Vec<(f64, f64, f64)> {
    let (n1, n2, n3, d) = (1.45, 2.0, 1.0, 0.51);
    let s = FdtdSettings {
        wavelengths: wls.to_vec(),
        dispersion_correction: correction,
        ..settings(res)
    };
    let sol = solve_cell(&slab(n1, n2, n3, d), wls[0], CellPolarization::X, &s).unwrap();
    sol.results
        .iter()
        .map(|c| {
            let (t_ex, r_ex) = airy(n1, n2, n3, d, c.wavelength_um);
            let dt_abs = (c.t.norm() - t_ex.norm()).abs();
            let dphi = (c.t / t_ex).arg().to_degrees().abs();
            let dr = (c.r - r_ex).norm();
            println!(
                "res {res} correction {correction} λ {:.4}: |dt| {dt_abs:.2e} dphi {dphi:.4}° |dr| {dr:.2e} T {:.6} R {:.6} R+T-1 {:.2e}",
                c.wavelength_um, c.transmittance, c.reflectance, c.transmittance + c.reflectance - 1.0
            );
            // energy: R and T are summed independently from the fluxes; what is left is the
            // CPML reflection and the DFT truncation, each ~1e-5
            assert!((c.transmittance + c.reflectance - 1.0).abs() < 1e-4);
            // T from the fluxes against the field amplitude n3/n1 |t|² (independent paths):
            // they differ by the grid's O(dx²) admittances of the staggered E(k)·H(k+½)
            // pairing, ≤ 1 % at 40 px/µm
            let rel = (c.transmittance - n3 / n1 * c.t.norm_sqr()).abs() / c.transmittance;
            assert!(rel < 0.02 * (40.0 / res) * (40.0 / res), "T vs |t|²: {rel}");
            assert!(c.t_cross.norm() < 1e-6);
            (dt_abs, dphi, dr)
        })
        .collect()
}

/// A uniform slab (n 2.0, 0.51 µm: its top face between grid planes; periodic sides, normal
/// incidence) against the Airy formula.
///
/// With the default dispersion correction the uniform layers are discretised exactly at the
/// pulse's centre ([`metalens::fdtd::material::exact_planar`]): measured |Δ|t|| 3.6e-6 and
/// 0.000° at 40 px/µm, the floor of CPML reflection, DFT truncation and f32 fields; the bound
/// 1e-4 is the 2e-3 with room for that floor only. Off the centre (ω ± 10 % from the
/// same pulse) the error is O(dx²) again, so those wavelengths check the convergence: measured
/// 1.8e-3 and 0.99° / 0.77° at 40 px/µm, 4.3e-4 and 0.24° / 0.19° at 80; bounded by the issue's
/// 2e-3 in |t|, 1.5° in phase (the bulk phase error grows with |ω − ω0|; 0.5° holds at the
/// design wavelength, the centre) and a fall ≥ 3× from 40 to 80. Without the
/// correction the plain Yee grid's second-order fall (measured 5.8e-3 → 7.3e-4, 5.0° → 1.2°,
/// validation/fullwave3d/README.md §1) is checked too.
#[test]
fn slab_matches_fabry_perot_and_conserves_energy() {
    let wl = 0.685;
    // ω_c (1 ± 0.1): the pulse is centred on the design wavelength
    let wls = [wl, wl / 1.1, wl / 0.9];
    let e40 = slab_errors(40.0, &wls, true);
    let e80 = slab_errors(80.0, &wls, true);
    assert!(
        e40[0].0 < 1e-4 && e40[0].1 < 0.01 && e40[0].2 < 1e-4,
        "{:?}",
        e40[0]
    );
    for f in 1..3 {
        assert!(
            e40[f].0 < 2e-3 && e40[f].1 < 1.5,
            "off-centre at 40: {:?}",
            e40[f]
        );
        assert!(
            e80[f].0 < e40[f].0 / 3.0 && e80[f].1 < e40[f].1 / 3.0,
            "order: {:?} {:?}",
            e40[f],
            e80[f]
        );
        assert!(
            e80[f].2 < e40[f].2 / 3.0,
            "r order: {:?} {:?}",
            e40[f],
            e80[f]
        );
    }
    let (p40, p80) = (
        slab_errors(40.0, &[wl], false),
        slab_errors(80.0, &[wl], false),
    );
    assert!(
        p80[0].0 < p40[0].0 / 3.0 && p80[0].1 < p40[0].1 / 3.0,
        "{p40:?} {p80:?}"
    );
}

#[test]
#[ignore]
fn probe_interface() {
    let wl = 0.685;
    for (n2, d) in [(1.0, 0.5), (1.45, 0.5), (2.0, 0.5), (2.0, 0.5125)] {
        for res in [20.0, 40.0, 80.0] {
            let (t_ex, r_ex) = airy(1.45, n2, 1.0, d, wl);
            let sol = solve_cell(
                &slab(1.45, n2, 1.0, d),
                wl,
                CellPolarization::X,
                &settings(res),
            )
            .unwrap();
            let c = &sol.results[0];
            println!("n2 {n2} d {d} res {res}: |t| err {:+.3e} phase {:+.3}°  |r| err {:+.3e} R {:.5} ({:.5})",
                c.t.norm() - t_ex.norm(), (c.t / t_ex).arg().to_degrees(), c.r.norm() - r_ex.norm(), c.reflectance, r_ex.norm_sqr());
        }
    }
}
