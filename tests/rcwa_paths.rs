//! Every accelerated path of the RCWA (mirror sectors, real eigensolve, single-layer block
//! elimination, plan reuse across cells, layer-mode reuse across heights) against the plain
//! full-basis complex S-matrix algorithm (`Paths::REFERENCE`, the solver as it was before
//! plans), on oblique incidence, ellipses, rectangles, hex lattices, lossy pillars and a
//! two-layer stack.
//!
//! Tolerance 1e-9 absolute on amplitudes of size ≤ 1 and on powers: the paths differ only in
//! the order of floating-point operations (eigensolves of different sizes, real vs complex
//! arithmetic, an LU of a Schur complement instead of star products); rounding is ~1e-13 and
//! the mode matrices amplify it by their conditioning (~1e3 here), as in the sector test of
//! rcwa_analytic.rs.

use metalens::cell::{Incidence, Lattice, Layer, Polarization, Shape, Stack};
use metalens::material::Material;
use metalens::rcwa::{solve_with_paths, Factorization, Paths, RcwaPlan, Settings, Solution};
use metalens::C64;

const TOL: f64 = 1e-9;

fn settings(h: usize) -> Settings {
    Settings {
        harmonics: h,
        factorization: Factorization::NormalVector,
    }
}

fn cell(lattice: Lattice, shape: Shape, pillar: C64, height: f64) -> Stack {
    let mut layer = Layer::uniform(height, Material::air());
    layer.shapes.push((shape, Material::Constant(pillar)));
    Stack {
        lattice,
        incidence: Material::Constant(C64::new(1.45, 0.0)),
        layers: vec![layer],
        exit: Material::air(),
    }
}

fn incidence(theta_deg: f64, phi_deg: f64, pol: Polarization) -> Incidence {
    Incidence {
        wavelength: 0.633,
        theta: theta_deg.to_radians(),
        phi: phi_deg.to_radians(),
        polarization: pol,
    }
}

fn assert_same(a: &Solution, b: &Solution, what: &str) {
    for i in 0..2 {
        for j in 0..2 {
            let (x, y) = (a.jones_t[i][j], b.jones_t[i][j]);
            assert!((x - y).norm() < TOL, "{what}: t[{i}][{j}] {x} vs {y}");
            let (x, y) = (a.jones_r[i][j], b.jones_r[i][j]);
            assert!((x - y).norm() < TOL, "{what}: r[{i}][{j}] {x} vs {y}");
        }
    }
    assert!((a.t - b.t).norm() < TOL, "{what}: t");
    assert!((a.transmittance - b.transmittance).abs() < TOL, "{what}: T");
    assert!((a.reflectance - b.reflectance).abs() < TOL, "{what}: R");
    assert_eq!(a.orders.len(), b.orders.len(), "{what}: orders");
    for (p, q) in a.orders.iter().zip(&b.orders) {
        assert_eq!((p.m, p.n), (q.m, q.n));
        assert!(
            (p.t - q.t).abs() < TOL && (p.r - q.r).abs() < TOL,
            "{what}: order ({}, {})",
            p.m,
            p.n
        );
    }
}

/// Every combination of paths agrees with the reference.
fn check_all_paths(stack: &Stack, inc: &Incidence, h: usize, what: &str) {
    let s = settings(h);
    let reference = solve_with_paths(stack, inc, &s, Paths::REFERENCE).unwrap();
    for symmetry in [false, true] {
        for real in [false, true] {
            for direct in [false, true] {
                let p = Paths {
                    symmetry,
                    real,
                    direct,
                };
                let got = solve_with_paths(stack, inc, &s, p).unwrap();
                assert_same(&got, &reference, &format!("{what} {p:?}"));
            }
        }
    }
}

fn disc(r: f64) -> Shape {
    Shape::Circle {
        center: [0.0, 0.0],
        radius: r,
    }
}

#[test]
fn oblique_disc_square_and_hex() {
    let sq = cell(
        Lattice::square(0.35).unwrap(),
        disc(0.13),
        C64::new(2.9, 0.0),
        0.75,
    );
    for (th, ph) in [(20.0, 30.0), (20.0, 0.0), (15.0, 90.0)] {
        for pol in [Polarization::S, Polarization::P] {
            check_all_paths(
                &sq,
                &incidence(th, ph, pol),
                80,
                &format!("square θ{th} φ{ph}"),
            );
        }
    }
    let hex = cell(
        Lattice::hexagonal(0.35).unwrap(),
        disc(0.12),
        C64::new(2.9, 0.0),
        0.6,
    );
    check_all_paths(
        &hex,
        &incidence(20.0, 30.0, Polarization::X),
        80,
        "hex θ20 φ30",
    );
    check_all_paths(
        &hex,
        &incidence(20.0, 90.0, Polarization::Y),
        80,
        "hex θ20 φ90",
    );
    // Normal incidence: two mirrors, so the Fourier stage runs in the four parity blocks. The
    // symmetry paths are compared with the reference to rounding. Without the sectors, the real
    // eigensolve of the full basis meets the C4 / C6 cell's degenerate mode pairs (split only
    // by rounding) and lands 1e-5 from the complex one (measured 1.5e-5 in t on the square
    // cell): a known limit of that combination, which no solve of the crate takes (at normal
    // incidence a symmetric cell always gets the sectors), held to 1e-4 here.
    let s = settings(80);
    for (lat, name) in [(&sq, "square"), (&hex, "hex")] {
        for pol in [Polarization::X, Polarization::Y] {
            let inc = incidence(0.0, 0.0, pol);
            let reference = solve_with_paths(lat, &inc, &s, Paths::REFERENCE).unwrap();
            for real in [false, true] {
                for direct in [false, true] {
                    let got = solve_with_paths(
                        lat,
                        &inc,
                        &s,
                        Paths {
                            symmetry: true,
                            real,
                            direct,
                        },
                    )
                    .unwrap();
                    assert_same(
                        &got,
                        &reference,
                        &format!("{name} normal {pol:?} real {real} direct {direct}"),
                    );
                }
            }
            let full_real = solve_with_paths(
                lat,
                &inc,
                &s,
                Paths {
                    symmetry: false,
                    real: true,
                    direct: true,
                },
            )
            .unwrap();
            assert!(
                (full_real.t - reference.t).norm() < 1e-4,
                "{name}: {} vs {}",
                full_real.t,
                reference.t
            );
        }
    }
}

/// Layer modes for x input alone (the library's path): the same x solution as with both
/// inputs, to the bit; a polarisation that needs y is refused, not answered with zeros.
#[test]
fn x_only_layer_modes() {
    let lat = Lattice::square(0.35).unwrap();
    let s = settings(100);
    let inc = incidence(0.0, 0.0, Polarization::X);
    let st = cell(lat.clone(), disc(0.12), C64::new(2.9, 0.0), 0.75);
    let plan = RcwaPlan::new(&lat, &s, &inc, &st.incidence, &st.exit).unwrap();
    let both = plan
        .solve_modes(&plan.layer_modes(&st).unwrap(), None)
        .unwrap();
    let x_only = plan.layer_modes_for(&st, [true, false]).unwrap();
    let got = plan.solve_modes(&x_only, None).unwrap();
    assert_eq!(got.jones_t[0][0], both.jones_t[0][0]);
    assert_eq!(got.transmittance, both.transmittance);
    for pol in [Polarization::Y, Polarization::S, Polarization::P] {
        assert!(
            plan.solve_modes_for(&x_only, None, &[pol]).is_err(),
            "{pol:?}"
        );
    }
}

#[test]
fn ellipses_and_rectangles() {
    let lat = Lattice::square(0.35).unwrap();
    let shapes = [
        // off-centre and rotated: no mirror, not centrosymmetric about the origin (complex
        // full basis, block elimination)
        Shape::Ellipse {
            center: [0.03, -0.02],
            semi_axes: [0.15, 0.08],
            angle: 30f64.to_radians(),
        },
        // centred and rotated: no mirror, the real eigensolve
        Shape::Ellipse {
            center: [0.0, 0.0],
            semi_axes: [0.15, 0.08],
            angle: 30f64.to_radians(),
        },
        // along the axes: two mirrors at normal incidence, one at φ = 0
        Shape::Ellipse {
            center: [0.0, 0.0],
            semi_axes: [0.15, 0.08],
            angle: 0.0,
        },
        Shape::Rectangle {
            center: [0.0, 0.0],
            size: [0.22, 0.12],
            angle: 20f64.to_radians(),
        },
    ];
    for (k, sh) in shapes.iter().enumerate() {
        let st = cell(lat.clone(), sh.clone(), C64::new(2.9, 0.0), 0.7);
        check_all_paths(
            &st,
            &incidence(0.0, 0.0, Polarization::X),
            70,
            &format!("shape {k} normal"),
        );
        check_all_paths(
            &st,
            &incidence(25.0, 0.0, Polarization::Y),
            70,
            &format!("shape {k} θ25 φ0"),
        );
    }
}

#[test]
fn lossy_pillar_and_two_layer_stack() {
    let lat = Lattice::square(0.35).unwrap();
    // lossy: complex arithmetic, but the block elimination still applies
    let lossy = cell(lat.clone(), disc(0.12), C64::new(2.74, 0.05), 0.6);
    check_all_paths(&lossy, &incidence(20.0, 30.0, Polarization::P), 70, "lossy");
    // two patterned layers: S-matrices with the real eigensolve, and the sectors at φ = 0
    let mut two = cell(lat, disc(0.12), C64::new(2.9, 0.0), 0.4);
    let mut top = Layer::uniform(0.2, Material::air());
    top.shapes.push((
        Shape::Rectangle {
            center: [0.0, 0.0],
            size: [0.2, 0.1],
            angle: 0.0,
        },
        Material::Constant(C64::new(2.0, 0.0)),
    ));
    two.layers.push(top);
    check_all_paths(
        &two,
        &incidence(20.0, 0.0, Polarization::S),
        70,
        "two layers φ0",
    );
    check_all_paths(
        &two,
        &incidence(20.0, 40.0, Polarization::S),
        70,
        "two layers φ40",
    );
}

/// One plan serves many cells; layer modes computed once serve every height.
#[test]
fn plan_reuse_across_cells_and_heights() {
    let lat = Lattice::square(0.35).unwrap();
    let s = settings(100);
    for inc in [
        incidence(0.0, 0.0, Polarization::X),
        incidence(20.0, 30.0, Polarization::X),
    ] {
        let proto = cell(lat.clone(), disc(0.1), C64::new(2.9, 0.0), 0.75);
        let plan = RcwaPlan::new(&lat, &s, &inc, &proto.incidence, &proto.exit).unwrap();
        for r in [0.05, 0.1, 0.14] {
            let st = cell(lat.clone(), disc(r), C64::new(2.9, 0.0), 0.75);
            let modes = plan.layer_modes(&st).unwrap();
            for h in [0.3, 0.75, 1.2] {
                let fresh = cell(lat.clone(), disc(r), C64::new(2.9, 0.0), h);
                let want = solve_with_paths(&fresh, &inc, &s, Paths::REFERENCE).unwrap();
                let got = plan.solve_modes(&modes, Some(&[h])).unwrap();
                assert_same(&got, &want, &format!("r {r} h {h} θ {}", inc.theta));
                // energy: lossless, so R + T = 1 to rounding
                assert!((got.transmittance + got.reflectance - 1.0).abs() < 1e-9);
            }
            // the plan refuses a stack of another lattice
            let other = cell(
                Lattice::square(0.4).unwrap(),
                disc(r),
                C64::new(2.9, 0.0),
                0.75,
            );
            assert!(plan.solve(&other).is_err());
        }
    }
}
