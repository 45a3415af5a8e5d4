//! RCWA against closed-form results: Fresnel / Fabry–Pérot slabs, the same slab entered as a
//! patterned layer, energy conservation and reciprocity.

use metalens::cell::{Incidence, Lattice, Layer, Polarization, Shape, Stack};
use metalens::material::Material;
use metalens::rcwa::{solve, Factorization, Settings};
use metalens::C64;

/// Airy formulas for the tangential field amplitudes of a single slab (n2, d) between n1 and
/// n3, for in-plane wave vector κ = n1 sinθ (normalised). Admittances: s: η = k_z; p: η = ε/k_z
/// (h = ∓η E for the forward/backward tangential fields). Returns (t, r) for s and p.
fn airy(n1: C64, n2: C64, n3: C64, d: f64, wl: f64, kappa: f64) -> [(C64, C64); 2] {
    let k0 = 2.0 * std::f64::consts::PI / wl;
    let kz = |n: C64| {
        let s = (n * n - kappa * kappa).sqrt();
        if s.im < 0.0 {
            -s
        } else {
            s
        }
    };
    let (k1, k2, k3) = (kz(n1), kz(n2), kz(n3));
    let beta = k2 * k0 * d;
    let i = C64::new(0.0, 1.0);
    let mut out = [(C64::new(0.0, 0.0), C64::new(0.0, 0.0)); 2];
    for (pi, (e1, e2, e3)) in [(k1, k2, k3), (n1 * n1 / k1, n2 * n2 / k2, n3 * n3 / k3)]
        .into_iter()
        .enumerate()
    {
        let r12 = (e1 - e2) / (e1 + e2);
        let r23 = (e2 - e3) / (e2 + e3);
        let t12 = 2.0 * e1 / (e1 + e2);
        let t23 = 2.0 * e2 / (e2 + e3);
        let ph = (i * beta).exp();
        let den = 1.0 + r12 * r23 * ph * ph;
        out[pi] = (t12 * t23 * ph / den, (r12 + r23 * ph * ph) / den);
    }
    out
}

fn slab_stack(n1: C64, n2: C64, n3: C64, d: f64, patterned_same: bool) -> Stack {
    let mut layer = Layer::uniform(d, Material::Constant(n2));
    if patterned_same {
        // a disc of the background material: a patterned layer that happens to be uniform
        layer.shapes.push((
            Shape::Circle {
                center: [0.05, 0.0],
                radius: 0.12,
            },
            Material::Constant(n2),
        ));
    }
    Stack {
        lattice: Lattice::square(0.3).unwrap(),
        incidence: Material::Constant(n1),
        layers: vec![layer],
        exit: Material::Constant(n3),
    }
}

#[test]
fn uniform_slab_matches_airy_formula_lossless_and_lossy_oblique() {
    let wl = 0.633;
    let cases = [
        (
            C64::new(1.45, 0.0),
            C64::new(2.9, 0.0),
            C64::new(1.0, 0.0),
            0.75,
            0.0,
        ),
        (
            C64::new(1.45, 0.0),
            C64::new(2.74, 0.05),
            C64::new(1.0, 0.0),
            0.6,
            20f64.to_radians(),
        ),
        (
            C64::new(1.0, 0.0),
            C64::new(1.5, 0.01),
            C64::new(1.33, 0.0),
            1.3,
            35f64.to_radians(),
        ),
    ];
    for (n1, n2, n3, d, theta) in cases {
        for patterned in [false, true] {
            let st = slab_stack(n1, n2, n3, d, patterned);
            let inc = Incidence {
                wavelength: wl,
                theta,
                phi: 0.0,
                polarization: Polarization::X,
            };
            let sol = solve(
                &st,
                &inc,
                &Settings {
                    harmonics: 25,
                    factorization: Factorization::NormalVector,
                },
            )
            .unwrap();
            let [(ts, rs), (tp, rp)] = airy(n1, n2, n3, d, wl, n1.re * theta.sin());
            // x is p (tangential Ex) and y is s at φ = 0. Tolerance 1e-10: both are exact
            // formulas evaluated in double precision; only rounding separates them.
            let tol = 1e-10;
            assert!(
                (sol.jones_t[0][0] - tp).norm() < tol,
                "t_p {} vs {tp} (patterned={patterned})",
                sol.jones_t[0][0]
            );
            assert!(
                (sol.jones_t[1][1] - ts).norm() < tol,
                "t_s {} vs {ts}",
                sol.jones_t[1][1]
            );
            assert!(
                (sol.jones_r[0][0] - rp).norm() < tol,
                "r_p {} vs {rp}",
                sol.jones_r[0][0]
            );
            assert!(
                (sol.jones_r[1][1] - rs).norm() < tol,
                "r_s {} vs {rs}",
                sol.jones_r[1][1]
            );
            assert!(sol.jones_t[0][1].norm() < tol && sol.jones_t[1][0].norm() < tol);
            if n2.im == 0.0 {
                // lossless: R + T = 1 computed from independent fluxes
                assert!((sol.reflectance + sol.transmittance - 1.0).abs() < 1e-12);
            } else {
                assert!(sol.reflectance + sol.transmittance < 1.0 - 1e-4);
            }
        }
    }
}

/// The mirror-symmetry sectors are an exact block decomposition: they must reproduce the
/// full-basis solve to rounding (1e-9 relative: the eigensolves differ in size, so rounding
/// differs at the ~1e-12 level, amplified by the conditioning of the mode matrices).
#[test]
fn symmetry_sectors_agree_with_full_basis() {
    use metalens::cell::{LatticeKind, PillarCell};
    use metalens::rcwa::solve_with_symmetry;
    for (lattice, r) in [(LatticeKind::Square, 0.11), (LatticeKind::Hex, 0.09)] {
        let st = PillarCell {
            lattice,
            pitch: 0.3,
            radius: r,
            height: 0.7,
            pillar: Material::Constant(C64::new(2.74, 0.02)),
            incidence: Material::sio2(),
            exit: Material::air(),
        }
        .stack()
        .unwrap();
        for pol in [Polarization::X, Polarization::Y] {
            let inc = Incidence::normal(0.685, pol);
            let s = Settings {
                harmonics: 60,
                factorization: Factorization::NormalVector,
            };
            let a = solve_with_symmetry(&st, &inc, &s, true).unwrap();
            let b = solve_with_symmetry(&st, &inc, &s, false).unwrap();
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        (a.jones_t[i][j] - b.jones_t[i][j]).norm() < 1e-9,
                        "{lattice:?} t[{i}][{j}] {} vs {}",
                        a.jones_t[i][j],
                        b.jones_t[i][j]
                    );
                    assert!((a.jones_r[i][j] - b.jones_r[i][j]).norm() < 1e-9);
                }
            }
            assert!((a.transmittance - b.transmittance).abs() < 1e-9);
        }
    }
}

/// Reciprocity: for a lossless or lossy (but reciprocal) grating, the zeroth-order
/// transmission from (θ, φ) in s→s equals that of the reversed problem. We use the simplest
/// exact consequence: a structure with a horizontal mirror plane (symmetric slab stack in
/// air) gives the same zeroth-order t for light from below and above, and for any stack the
/// energy balance holds per polarisation at oblique incidence.
#[test]
fn reciprocity_and_energy_at_oblique_incidence() {
    let pillar = Material::Constant(C64::new(2.0, 0.0));
    let mk = |flip: bool| {
        let mut a = Layer::uniform(0.3, Material::air());
        a.shapes.push((
            Shape::Circle {
                center: [0.0, 0.0],
                radius: 0.15,
            },
            pillar.clone(),
        ));
        let mut b = Layer::uniform(0.2, Material::air());
        b.shapes.push((
            Shape::Rectangle {
                center: [0.05, 0.0],
                size: [0.3, 0.2],
                angle: 0.3,
            },
            pillar.clone(),
        ));
        let layers = if flip { vec![b, a] } else { vec![a, b] };
        Stack {
            lattice: Lattice::square(0.5).unwrap(),
            incidence: Material::air(),
            layers,
            exit: Material::air(),
        }
    };
    // Reciprocity (Lorentz) for the zeroth order in a symmetric environment: t_ss(k∥) from
    // below equals t_ss(−k∥) from above; flipping the stack upside down and mirroring the
    // azimuth (φ → φ + π) realises "from above" with the same code path.
    let s = Settings {
        harmonics: 60,
        factorization: Factorization::NormalVector,
    };
    let th = 25f64.to_radians();
    let fwd = solve(
        &mk(false),
        &Incidence {
            wavelength: 0.8,
            theta: th,
            phi: 0.4,
            polarization: Polarization::S,
        },
        &s,
    )
    .unwrap();
    // upside-down structure: z → −z maps (x, y) → (x, y); light from above at k∥ reversed
    let back = solve(
        &mk(true),
        &Incidence {
            wavelength: 0.8,
            theta: th,
            phi: 0.4 + std::f64::consts::PI,
            polarization: Polarization::S,
        },
        &s,
    )
    .unwrap();
    assert!((fwd.transmittance + fwd.reflectance - 1.0).abs() < 1e-9);
    assert!((back.transmittance + back.reflectance - 1.0).abs() < 1e-9);
    // Lorentz reciprocity: the Jones matrix of the reversed problem is the transpose, so the
    // co-polarised t_ss amplitudes agree (cross terms swap); 1e-9 as above.
    let (a, b) = (fwd.jones_t[0][0], back.jones_t[0][0]);
    assert!((a - b).norm() < 1e-9, "t_ss {a} vs {b}");
    assert!(
        (fwd.jones_t[1][1] - back.jones_t[1][1]).norm() < 1e-9,
        "t_pp"
    );
    assert!(
        (fwd.jones_t[0][1] - back.jones_t[1][0]).norm() < 1e-9,
        "t_sp vs t_ps"
    );
}

/// The complex amplitudes of the diffracted orders (`OrderPower::t_field`, issue 24: the phase a
/// metagrating supercell gives its focal order) against the order powers, two paths: the
/// plane-wave flux of each transmitted order from its tangential field,
/// (k_z/k0)·(|Ex|² + |Ey|² + |Ez|²)/n_inc with Ez = −(kx Ex + ky Ey)/kz, equals the order's
/// power from the engine's
/// admittance blocks (relative 1e-9: rounding of a 400-harmonic solve). A three-pillar
/// supercell of one grating period (0.76 × 0.22 µm, SRN on glass into air), both
/// polarisations; the zeroth order's amplitude is the solution's co- and cross-polarised t.
#[test]
fn order_amplitudes_carry_the_order_powers() {
    let (wl, n_inc, n_exit) = (0.685, 1.4553, 1.0);
    let lattice = Lattice::rectangular(0.76, 0.22).unwrap();
    let pillar = Material::Constant(C64::new(2.74, 0.0));
    let shapes: Vec<(Shape, Material)> = [(0.127, 0.04), (0.38, 0.07), (0.633, 0.09)]
        .iter()
        .map(|&(x, r)| {
            (
                Shape::Circle {
                    center: [x, 0.11],
                    radius: r,
                },
                pillar.clone(),
            )
        })
        .collect();
    let st = Stack {
        lattice,
        incidence: Material::Constant(C64::new(n_inc, 0.0)),
        exit: Material::Constant(C64::new(n_exit, 0.0)),
        layers: vec![Layer {
            thickness: 1.0,
            background: Material::air(),
            shapes,
        }],
    };
    for pol in [Polarization::X, Polarization::Y] {
        let s = Settings {
            harmonics: 400,
            factorization: Factorization::NormalVector,
        };
        let sol = solve(&st, &Incidence::normal(wl, pol), &s).unwrap();
        let mut seen = 0;
        for o in sol.orders.iter().filter(|o| o.t > 0.0) {
            let kz = (n_exit * n_exit - o.kx * o.kx - o.ky * o.ky).sqrt();
            let [ex, ey] = o.t_field;
            let ez = -(ex * o.kx + ey * o.ky) / kz;
            let p = kz * (ex.norm_sqr() + ey.norm_sqr() + ez.norm_sqr()) / n_inc;
            assert!(
                (p / o.t - 1.0).abs() < 1e-9,
                "{pol:?} order ({}, {}): {p} from the amplitudes vs {}",
                o.m,
                o.n,
                o.t
            );
            seen += 1;
            if (o.m, o.n) == (0, 0) {
                let (co, cross) = match pol {
                    Polarization::X => (ex, ey),
                    _ => (ey, ex),
                };
                assert!((co - sol.t).norm() < 1e-12 && (cross - sol.t_cross).norm() < 1e-9);
            }
        }
        // a 0.76 µm period in air at 0.685 µm: orders 0 and ±1 propagate
        assert_eq!(seen, 3, "{pol:?}");
    }
}
