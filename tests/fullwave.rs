//! Physics and CLI tests of the 1-D full-wave check (`metalens fullwave`).

use metalens::fullwave::propagate1d::{analyse, FocusSetup1d, Spectrum1d};
use metalens::fullwave::solver1d::{solve, Basis, Factorization, Grating, Polarization, Ridge};
use metalens::fullwave::Design1d;
use metalens::fullwave::{run_polarization, supercell, RunOptions};
use metalens::io::fullwave_design::FullwaveDesign;
use metalens::C64;
use std::f64::consts::PI;

const LAMBDA: f64 = 0.685;
const N_SUB: f64 = 1.455;
const N_RIDGE: f64 = 2.74;

fn c(x: f64) -> C64 {
    C64::new(x, 0.0)
}

fn grating(period: f64, ridges: Vec<Ridge>) -> Grating {
    Grating {
        period,
        height: 0.83,
        ridges,
        eps_ridge: c(N_RIDGE * N_RIDGE),
        eps_substrate: c(N_SUB * N_SUB),
        eps_exit: c(1.0),
    }
}

/// Fabry–Pérot E-field transmission and reflection of a slab n2 (thickness h) between n1 and n3
/// at normal incidence (exp(−iωt), forward exp(+ikz)).
fn fabry_perot(n1: f64, n2: f64, n3: f64, h: f64) -> (C64, C64) {
    let r12 = (n1 - n2) / (n1 + n2);
    let r23 = (n2 - n3) / (n2 + n3);
    let t12 = 2.0 * n1 / (n1 + n2);
    let t23 = 2.0 * n2 / (n2 + n3);
    let ph = C64::from_polar(1.0, 2.0 * PI / LAMBDA * n2 * h);
    let den = c(1.0) + ph * ph * (r12 * r23);
    (ph * (t12 * t23) / den, (c(r12) + ph * ph * r23) / den)
}

#[test]
fn fullwave_fresnel_and_fabry_perot() {
    // empty layer (a bare glass/air interface) and a full slab (ridge width = period): the
    // patterned code path must give the analytic result to rounding (1e-10; the matrices are
    // diagonal up to sinc zeros of ~1e-17)
    for pol in [Polarization::Te, Polarization::Tm] {
        for basis in [Basis::Full, Basis::Even] {
            for (ridges, n2) in [
                (vec![], 1.0),
                (
                    vec![Ridge {
                        center: 0.0,
                        width: 0.4,
                    }],
                    N_RIDGE,
                ),
            ] {
                let g = grating(0.4, ridges);
                let s = solve(&g, LAMBDA, 8, pol, basis, Factorization::Li).unwrap();
                let (t, r) = fabry_perot(N_SUB, n2, 1.0, g.height);
                println!(
                    "fresnel {pol:?} {basis:?} n2 {n2}: |t0 - t| = {:.2e}, R+T-1 = {:.2e}",
                    (s.t0 - t).norm(),
                    s.transmittance + s.reflectance - 1.0
                );
                assert!(
                    (s.t0 - t).norm() < 1e-10,
                    "{pol:?} {basis:?} n2 {n2}: t0 {} vs {t}",
                    s.t0
                );
                // power: T = n3/n1 |t|², R = |r|²
                let tt = t.norm_sqr() / N_SUB;
                assert!((s.transmittance - tt).abs() < 1e-10);
                assert!((s.reflectance - r.norm_sqr()).abs() < 1e-10);
                // the reflected order's F: Ey ratio r for TE; hy ratio −r for TM (Ex = −(q/ε) hy
                // for a backward wave)
                let r0 = s.r[s.index(0)];
                let r_e = match pol {
                    Polarization::Te => r0,
                    Polarization::Tm => -r0,
                };
                assert!((r_e - r).norm() < 1e-10, "{pol:?}: r {r_e} vs {r}");
            }
        }
    }
}

#[test]
fn fullwave_supercell_folds_the_grating_orders() {
    // five periods of a 0.5 µm grating in one 2.5 µm supercell with 5× the harmonics: the
    // Toeplitz matrices couple only orders that differ by multiples of 5, so supercell order 5m
    // equals grating order m and every other order vanishes (to rounding, 1e-9)
    let p = 0.5;
    let k = 5usize;
    let mg = 12usize;
    let g = grating(
        p,
        vec![Ridge {
            center: 0.0,
            width: 0.21,
        }],
    );
    let sc = grating(
        k as f64 * p,
        (0..k)
            .map(|j| Ridge {
                center: (j as f64 - 2.0) * p,
                width: 0.21,
            })
            .collect(),
    );
    for pol in [Polarization::Te, Polarization::Tm] {
        let a = solve(&g, LAMBDA, mg, pol, Basis::Full, Factorization::Li).unwrap();
        for basis in [Basis::Full, Basis::Even] {
            let b = solve(&sc, LAMBDA, k * mg, pol, basis, Factorization::Li).unwrap();
            let mut err: f64 = 0.0;
            for m in -((k * mg) as i64)..=(k * mg) as i64 {
                let (tb, rb) = (b.t[b.index(m)], b.r[b.index(m)]);
                if m % k as i64 == 0 {
                    let mm = m / k as i64;
                    err = err.max((tb - a.t[a.index(mm)]).norm());
                    err = err.max((rb - a.r[a.index(mm)]).norm());
                } else {
                    err = err.max(tb.norm()).max(rb.norm());
                }
            }
            println!("folding {pol:?} {basis:?}: max order error {err:.2e}");
            assert!(err < 1e-9, "{pol:?} {basis:?}: {err}");
            assert!((b.transmittance - a.transmittance).abs() < 1e-9);
        }
    }
}

fn small_design(extra: &str) -> Design1d {
    let text = format!(
        "name = \"t\"\n[lens]\nna = 0.7\nwidth = 6.0\npitch = 0.3\n[ridges]\nwidths = 41\nlibrary_harmonics = 30\n[supercell]\nmargin = 2.1\n{extra}"
    );
    FullwaveDesign::from_toml(&text, "test")
        .and_then(|d| d.design())
        .unwrap()
}

#[test]
fn fullwave_lens_supercell_conserves_energy_and_loss_breaks_it() {
    // R + T from the orders (never assigned) is 1 to 1e-9 in the lossless supercell of a lens;
    // with an absorbing ridge it must fall below 1 by a visible amount
    let d = small_design("");
    for pol in [Polarization::Te, Polarization::Tm] {
        let r = run_polarization(&d, pol, &RunOptions::default(), &|_| {}).unwrap();
        println!("energy {pol:?}: R+T-1 = {:.2e}", r.supercell.energy_error);
        assert!(
            r.supercell.energy_error.abs() < 1e-9,
            "{pol:?}: {}",
            r.supercell.energy_error
        );
        assert!(r.library.energy_error < 1e-9);
        // the layout is symmetric and uses only library widths
        let n = r.layout.widths.len();
        for j in 0..n {
            assert_eq!(r.layout.widths[j], r.layout.widths[n - 1 - j]);
        }
        // so its supercell has even Fourier coefficients, as the even-sector solve assumes
        let g = supercell(&d, &r.layout, r.supercell.period_um, d.ridge_height_um);
        assert!(g.is_symmetric(r.supercell.harmonics));
    }
    let mut g = grating(
        2.0,
        vec![
            Ridge {
                center: -0.5,
                width: 0.2,
            },
            Ridge {
                center: 0.5,
                width: 0.2,
            },
        ],
    );
    g.eps_ridge = C64::new(2.74, 0.05).powi(2);
    let s = solve(
        &g,
        LAMBDA,
        40,
        Polarization::Tm,
        Basis::Even,
        Factorization::Li,
    )
    .unwrap();
    assert!(1.0 - s.transmittance - s.reflectance > 1e-3);
}

#[test]
fn fullwave_tm_li_converges_faster_than_laurent() {
    // TM t0 of a high-contrast grating against a 300-harmonic Li reference: at 15 and 30
    // harmonics Li's inverse rule must be closer than Laurent's rule (the known slow TM
    // convergence of Laurent's rule, Li JOSA A 13, 1870 (1996)); the full study is in
    // validation/fullwave
    let g = grating(
        0.5,
        vec![Ridge {
            center: 0.0,
            width: 0.23,
        }],
    );
    let reference = solve(
        &g,
        LAMBDA,
        300,
        Polarization::Tm,
        Basis::Even,
        Factorization::Li,
    )
    .unwrap()
    .t0;
    for m in [15, 30] {
        let li = solve(
            &g,
            LAMBDA,
            m,
            Polarization::Tm,
            Basis::Even,
            Factorization::Li,
        )
        .unwrap();
        let la = solve(
            &g,
            LAMBDA,
            m,
            Polarization::Tm,
            Basis::Even,
            Factorization::Laurent,
        )
        .unwrap();
        let (eli, ela) = ((li.t0 - reference).norm(), (la.t0 - reference).norm());
        println!("TM M {m}: Li {eli:.2e}, Laurent {ela:.2e}");
        assert!(eli < 0.5 * ela, "M {m}: Li {eli:.2e}, Laurent {ela:.2e}");
    }
}

#[test]
fn fullwave_ideal_slit_focus_matches_sinc_squared() {
    // low-NA ideal 1-D lens at its design focal plane: the field is the Fourier transform of
    // the aperture, sinc(π D x/(λ f)), whose intensity FWHM is 0.88589 λ f / D; non-paraxial
    // corrections are O(NA²) ≈ 1e-2 relative at NA 0.1, so 1.5 % tolerance
    let d = 30.0;
    let na: f64 = 0.1;
    let f = 0.5 * d * (1.0 / (na * na) - 1.0).sqrt();
    let k = 2.0 * PI / LAMBDA;
    let field = move |x: f64| C64::from_polar(1.0, -k * ((x * x + f * f).sqrt() - f));
    let dx = 0.05;
    let spec = Spectrum1d::from_aperture(Polarization::Te, &field, 0.5 * d, 8192, dx, LAMBDA, 1.0)
        .unwrap();
    let setup = FocusSetup1d {
        wavelength_um: LAMBDA,
        design_focal_length: f,
        na,
        incident_power: 0.5 * d,
        efficiency_k: vec![1.0, 3.0],
        z_range: (0.5 * f, 1.5 * f),
        n_z: 51,
        at_design_focus: true,
    };
    let r = analyse(&spec, &setup).unwrap();
    let expect = 0.885_89 * LAMBDA * f / d;
    let got = r.fwhm_transverse.um.unwrap();
    println!(
        "slit FWHM {got:.5} vs {expect:.5} ({:.2e} rel), transmission {:.4}",
        got / expect - 1.0,
        r.transmission_efficiency
    );
    assert!((got / expect - 1.0).abs() < 0.015, "{got} vs {expect}");
    // Parseval: ∫|F|² = number of aperture samples × dx (|F| = 1)
    let samples = (d / dx).round() + 1.0;
    assert!((spec.norm_sqr_integral() / (samples * dx) - 1.0).abs() < 1e-12);
    // the transmitted power of a unit TE field at low NA is ½·D to O(λ/D) (edge diffraction)
    assert!((r.transmission_efficiency - 1.0).abs() < 0.02);
}

// ---------- bad input through the binary ----------

fn run_bin(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn bad_design(name: &str, text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("metalens-fullwave-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    let out = dir.join(format!("out-{name}"));
    run_bin(&[
        "fullwave",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

const GOOD: &str = "[lens]\nna = 0.7\nwidth = 6.0\npitch = 0.3\n[supercell]\nmargin = 2.1\n";

fn assert_bad(code: i32, err: &str, words: &[&str]) {
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for w in words {
        assert!(err.contains(w), "'{w}' missing in: {err}");
    }
}

/// A 2-D pillar design goes to the 3-D FDTD (`reproduce --fullwave`, tests/fullwave3d_cli.rs);
/// options of the 1-D supercell or of layout files are refused with it, before any stage runs.
#[test]
fn fullwave_refuses_1d_options_with_a_2d_design() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/designs/mk1.toml");
    let (code, err) = run_bin(&["fullwave", path, "--pol", "te", "--quiet"]);
    assert_bad(code, &err, &["--pol", "2-D design", "LAYOUT.h5"]);
}

#[test]
fn fullwave_rejects_a_small_margin() {
    let (code, err) = bad_design("margin", &GOOD.replace("margin = 2.1", "margin = 1.0"));
    assert_bad(code, &err, &["supercell.margin", "1 µm", "3 wavelengths"]);
}

#[test]
fn fullwave_rejects_too_few_harmonics() {
    let (code, err) = bad_design("harm", &format!("{GOOD}harmonics = 50\n"));
    assert_bad(
        code,
        &err,
        &["supercell.harmonics", "50", "narrowest ridge or gap"],
    );
}

#[test]
fn fullwave_rejects_bad_lens_values() {
    let (code, err) = bad_design("na", &GOOD.replace("na = 0.7", "na = 1.0"));
    assert_bad(code, &err, &["lens.na", "(0, 1)"]);
    let (code, err) = bad_design("neg", &GOOD.replace("width = 6.0", "width = -6.0"));
    assert_bad(code, &err, &["lens.width", "-6"]);
    let (code, err) = bad_design("nan", &format!("[source]\nwavelength = nan\n{GOOD}"));
    assert_bad(code, &err, &["wavelength", "NaN"]);
    let (code, err) = bad_design(
        "unknown",
        &GOOD.replace("pitch = 0.3", "pitch = 0.3\npich = 1"),
    );
    assert_bad(code, &err, &["pich"]);
    let (code, err) = bad_design("pol", GOOD);
    assert_eq!(code, 0, "{err}");
}
