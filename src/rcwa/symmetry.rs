//! Mirror-symmetry sectors at normal incidence.
//!
//! When the structure is symmetric under x → −x and y → −y (about a common centre) and the
//! light arrives at normal incidence, the fields split into four independent sectors labelled
//! by the mirror eigenvalues (s_x, s_y) ∈ {±1}². A mirror g acts on the E-field harmonics as
//! (T E)(G) = R_E(g) E(gG) and on h = Z₀H (a pseudovector) with R_H(g) = det(R) R_E(g); the
//! sector basis is the image of the projector Σ_g χ(g) T(g) on the unit vectors. P maps the h
//! sector to the E sector and Q back, so the eigenproblem splits exactly: each sector is about
//! a quarter of the full size and its eigensolve ~64× cheaper. An x-polarised plane wave lives
//! in sector (−1, +1), a y-polarised one in (+1, −1).

use super::harmonics::Harmonics;
use crate::cell::{Lattice, Shape, Stack};
use std::collections::HashMap;

/// A reduced basis: columns of B_E (for E) and B_H (for h) as sparse (row, value) lists over
/// the full 2N plane-wave basis ordered [Ex_0 … Ex_{N−1}, Ey_0 … Ey_{N−1}].
#[derive(Clone, Debug)]
pub struct Basis {
    pub e: Vec<Vec<(usize, f64)>>,
    pub h: Vec<Vec<(usize, f64)>>,
}

impl Basis {
    /// The full plane-wave basis of 2N vectors.
    pub fn full(n: usize) -> Self {
        let cols: Vec<Vec<(usize, f64)>> = (0..2 * n).map(|i| vec![(i, 1.0)]).collect();
        Basis {
            e: cols.clone(),
            h: cols,
        }
    }
    pub fn dim(&self) -> usize {
        self.e.len()
    }
    /// Coordinates of a full-basis vector in this (orthonormal) basis: B_Eᵀ x.
    pub fn project(&self, x: &[crate::C64]) -> Vec<crate::C64> {
        self.e
            .iter()
            .map(|c| c.iter().map(|&(i, v)| x[i] * v).sum())
            .collect()
    }
    /// Back to the full basis: B_E y.
    pub fn expand(&self, y: &[crate::C64], rows: usize) -> Vec<crate::C64> {
        let mut x = vec![crate::C64::new(0.0, 0.0); rows];
        for (c, &yc) in self.e.iter().zip(y) {
            for &(i, v) in c {
                x[i] += yc * v;
            }
        }
        x
    }
}

/// Permutations of the harmonics under the mirrors x → −x and y → −y, if the harmonic set is
/// closed under them.
pub fn mirror_permutations(lattice: &Lattice, h: &Harmonics) -> Option<[Vec<usize>; 2]> {
    let index: HashMap<(i32, i32), usize> =
        h.mn.iter().enumerate().map(|(i, &mn)| (mn, i)).collect();
    let tp = 2.0 * std::f64::consts::PI;
    let to_mn = |g: [f64; 2]| -> Option<(i32, i32)> {
        let m = (g[0] * lattice.a1[0] + g[1] * lattice.a1[1]) / tp;
        let n = (g[0] * lattice.a2[0] + g[1] * lattice.a2[1]) / tp;
        let (mr, nr) = (m.round(), n.round());
        if (m - mr).abs() > 1e-6 || (n - nr).abs() > 1e-6 {
            return None;
        }
        Some((mr as i32, nr as i32))
    };
    let mut px = Vec::with_capacity(h.len());
    let mut py = Vec::with_capacity(h.len());
    for g in &h.g {
        px.push(*index.get(&to_mn([-g[0], g[1]])?)?);
        py.push(*index.get(&to_mn([g[0], -g[1]])?)?);
    }
    Some([px, py])
}

/// Sparse orthonormal columns over the N harmonics (row, value).
pub type Columns = Vec<Vec<(usize, f64)>>;

/// The scalar parity bases of the two mirrors over the N harmonics, in the order
/// (s_x, s_y) = (+, +), (+, −), (−, +), (−, −): column Σ_g χ(g) e_{g(G)} per orbit, normalised. A
/// Toeplitz matrix of a function even in x and y ([[ε]], [[1/ε]], [[n_x²]], [[n_y²]]) is block
/// diagonal in them; one odd in both ([[n_x n_y]]) maps parity q to 3 − q. So a layer's Fourier
/// stage splits into four problems of ~N/4 (see `layer_matrices`).
pub fn scalar_parity_bases(perms: &[Vec<usize>; 2]) -> [Columns; 4] {
    let n = perms[0].len();
    let pxy: Vec<usize> = (0..n).map(|i| perms[1][perms[0][i]]).collect();
    let id: Vec<usize> = (0..n).collect();
    [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)].map(|(sx, sy)| {
        let elems: [(&[usize], f64); 4] = [
            (&id, 1.0),
            (&perms[0], sx),
            (&perms[1], sy),
            (&pxy, sx * sy),
        ];
        let mut seen = vec![false; n];
        let mut cols = Vec::new();
        for g0 in 0..n {
            if seen[g0] {
                continue;
            }
            for (p, _) in &elems {
                seen[p[g0]] = true;
            }
            cols.extend(orbit_column(elems.iter().map(|(p, chi)| (p[g0], *chi))));
        }
        cols
    })
}

/// One column of a symmetry-adapted basis: the terms (row, value) of a projected unit vector with
/// equal rows summed, zeros dropped, normalised and sorted by row; None when the projection
/// vanishes.
fn orbit_column(terms: impl IntoIterator<Item = (usize, f64)>) -> Option<Vec<(usize, f64)>> {
    let mut acc: Vec<(usize, f64)> = Vec::new();
    for (row, val) in terms {
        match acc.iter_mut().find(|e| e.0 == row) {
            Some(e) => e.1 += val,
            None => acc.push((row, val)),
        }
    }
    acc.retain(|e| e.1.abs() > 1e-12);
    if acc.is_empty() {
        return None;
    }
    let norm = acc.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
    acc.iter_mut().for_each(|e| e.1 /= norm);
    acc.sort_by_key(|e| e.0);
    Some(acc)
}

/// One element of a mirror group acting on the harmonics: permutation, character χ(g),
/// diagonal of R_E(g) and of R_H(g) = det R · R_E(g).
type Element<'a> = (&'a [usize], f64, [f64; 2], [f64; 2]);

/// The sector basis (s_x, s_y) from the mirror permutations.
pub fn sector(perms: &[Vec<usize>; 2], sx: f64, sy: f64) -> Basis {
    let n = perms[0].len();
    let id: Vec<usize> = (0..n).collect();
    let pxy: Vec<usize> = (0..n).map(|i| perms[1][perms[0][i]]).collect();
    let elems: [Element; 4] = [
        (&id, 1.0, [1.0, 1.0], [1.0, 1.0]),
        (&perms[0], sx, [-1.0, 1.0], [1.0, -1.0]),
        (&perms[1], sy, [1.0, -1.0], [-1.0, 1.0]),
        (&pxy, sx * sy, [-1.0, -1.0], [-1.0, -1.0]),
    ];
    group_basis(&elems, n)
}

/// The sector of eigenvalue `s` of the single mirror along `axis` (0: x → −x, 1: y → −y),
/// given that mirror's permutation of the harmonics. At oblique incidence with the plane of
/// incidence along x (φ = 0) the mirror y → −y keeps k_∥ and splits the problem in two halves
/// of about N each (the p-like x-polarised input lives in s = +1, the s-like y input in −1);
/// with the plane along y (φ = 90°) the mirror x → −x does the same.
pub fn single_sector(perm: &[usize], axis: usize, s: f64) -> Basis {
    let n = perm.len();
    let id: Vec<usize> = (0..n).collect();
    let (re, rh) = if axis == 0 {
        ([-1.0, 1.0], [1.0, -1.0])
    } else {
        ([1.0, -1.0], [-1.0, 1.0])
    };
    let elems: [Element; 2] = [(&id, 1.0, [1.0, 1.0], [1.0, 1.0]), (perm, s, re, rh)];
    group_basis(&elems, n)
}

/// The image of the projector Σ_g χ(g) T(g) on the unit vectors, for E and for h.
fn group_basis(elems: &[Element], n: usize) -> Basis {
    let build = |use_h: bool| -> Vec<Vec<(usize, f64)>> {
        let mut seen = vec![false; n];
        let mut cols = Vec::new();
        for g0 in 0..n {
            if seen[g0] {
                continue;
            }
            for (p, ..) in elems {
                seen[p[g0]] = true;
            }
            for comp in 0..2 {
                cols.extend(orbit_column(elems.iter().map(|(p, chi, re, rh)| {
                    let r = if use_h { rh[comp] } else { re[comp] };
                    (comp * n + p[g0], chi * r)
                })));
            }
        }
        cols
    };
    Basis {
        e: build(false),
        h: build(true),
    }
}

fn mirror_shape(s: &Shape, axis: usize, c: [f64; 2]) -> Shape {
    let mut m = s.clone();
    match &mut m {
        Shape::Circle { center, .. } => center[axis] = 2.0 * c[axis] - center[axis],
        Shape::Ellipse { center, angle, .. } | Shape::Rectangle { center, angle, .. } => {
            center[axis] = 2.0 * c[axis] - center[axis];
            *angle = -*angle;
        }
    }
    m
}

fn same_modulo_lattice(l: &Lattice, a: &Shape, b: &Shape) -> bool {
    let (ca, cb) = (a.center(), b.center());
    let (b1, b2) = l.reciprocal();
    let d = [ca[0] - cb[0], ca[1] - cb[1]];
    let tp = 2.0 * std::f64::consts::PI;
    let u = (d[0] * b1[0] + d[1] * b1[1]) / tp;
    let v = (d[0] * b2[0] + d[1] * b2[1]) / tp;
    if (u - u.round()).abs() > 1e-9 || (v - v.round()).abs() > 1e-9 {
        return false;
    }
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1e-300);
    let same_angle = |x: f64, y: f64| {
        ((x - y) % std::f64::consts::PI).abs() < 1e-12
            || (((x - y) % std::f64::consts::PI).abs() - std::f64::consts::PI).abs() < 1e-12
    };
    match (a, b) {
        (Shape::Circle { radius: r1, .. }, Shape::Circle { radius: r2, .. }) => close(*r1, *r2),
        (
            Shape::Ellipse {
                semi_axes: s1,
                angle: a1,
                ..
            },
            Shape::Ellipse {
                semi_axes: s2,
                angle: a2,
                ..
            },
        )
        | (
            Shape::Rectangle {
                size: s1,
                angle: a1,
                ..
            },
            Shape::Rectangle {
                size: s2,
                angle: a2,
                ..
            },
        ) => close(s1[0], s2[0]) && close(s1[1], s2[1]) && same_angle(*a1, *a2),
        _ => false,
    }
}

/// Candidate symmetry centres: the origin and the centre of the first shape.
fn centre_candidates(stack: &Stack) -> Vec<[f64; 2]> {
    let mut candidates = vec![[0.0, 0.0]];
    if let Some(l) = stack.layers.iter().find(|l| !l.shapes.is_empty()) {
        candidates.push(l.shapes[0].0.center());
    }
    candidates
}

/// Whether every patterned layer maps onto itself under `op` (a shape to its image about c).
fn invariant(stack: &Stack, c: [f64; 2], op: &dyn Fn(&Shape, [f64; 2]) -> Shape) -> bool {
    stack
        .layers
        .iter()
        .filter(|l| !l.shapes.is_empty())
        .all(|layer| {
            layer.shapes.iter().all(|(s, mat)| {
                let m = op(s, c);
                layer
                    .shapes
                    .iter()
                    .any(|(s2, mat2)| mat2 == mat && same_modulo_lattice(&stack.lattice, &m, s2))
            })
        })
}

/// A centre about which every patterned layer is symmetric under the mirrors along every
/// axis in `axes` (0: x → −x, 1: y → −y), if any (candidates: the origin and the centre of
/// the first shape).
pub fn mirror_centre_for(stack: &Stack, axes: &[usize]) -> Option<[f64; 2]> {
    centre_candidates(stack).into_iter().find(|&c| {
        axes.iter()
            .all(|&axis| invariant(stack, c, &|s, c| mirror_shape(s, axis, c)))
    })
}

/// A centre about which every patterned layer is symmetric under both mirrors, if any.
pub fn mirror_centre(stack: &Stack) -> Option<[f64; 2]> {
    mirror_centre_for(stack, &[0, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_partition_the_full_space() {
        for lat in [
            Lattice::square(1.0).unwrap(),
            Lattice::hexagonal(1.0).unwrap(),
        ] {
            let h = Harmonics::circular(&lat, 60);
            let perms = mirror_permutations(&lat, &h).expect("symmetric lattice");
            let mut total = 0;
            for (sx, sy) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                let b = sector(&perms, sx, sy);
                assert_eq!(b.e.len(), b.h.len());
                total += b.dim();
            }
            assert_eq!(total, 2 * h.len());
        }
    }
}
