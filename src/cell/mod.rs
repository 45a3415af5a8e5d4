//! Unit cells: a lattice, a stack of layers between two half-spaces, and the shapes that
//! pattern each layer. Geometry only; no solving here (see [`crate::rcwa`]).
//!
//! Lengths in µm. The lattice vectors a1, a2 span the cell; a shape's centre is given in
//! Cartesian coordinates relative to the cell origin (the centre of the cell is a natural
//! origin: the pattern is periodic, so any point works).

use crate::error::{check_non_negative, check_positive};
use crate::material::Material;
use crate::{Error, Result};

/// A 2-D Bravais lattice given by two lattice vectors (µm).
#[derive(Clone, Debug, PartialEq)]
pub struct Lattice {
    pub a1: [f64; 2],
    pub a2: [f64; 2],
}

/// The named lattices of the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatticeKind {
    Square,
    Hex,
}

impl Lattice {
    /// Square lattice of pitch p: a1 = (p, 0), a2 = (0, p).
    pub fn square(pitch: f64) -> Result<Self> {
        check_positive("pitch", pitch, "µm")?;
        Ok(Lattice {
            a1: [pitch, 0.0],
            a2: [0.0, pitch],
        })
    }
    /// Rectangular lattice: a1 = (px, 0), a2 = (0, py).
    pub fn rectangular(px: f64, py: f64) -> Result<Self> {
        check_positive("pitch x", px, "µm")?;
        check_positive("pitch y", py, "µm")?;
        Ok(Lattice {
            a1: [px, 0.0],
            a2: [0.0, py],
        })
    }
    /// Hexagonal lattice of pitch p (nearest-neighbour distance): a1 = (p, 0),
    /// a2 = (p/2, p√3/2).
    pub fn hexagonal(pitch: f64) -> Result<Self> {
        check_positive("pitch", pitch, "µm")?;
        Ok(Lattice {
            a1: [pitch, 0.0],
            a2: [0.5 * pitch, 0.5 * 3f64.sqrt() * pitch],
        })
    }
    /// The named lattice of a given pitch.
    pub fn of_kind(kind: LatticeKind, pitch: f64) -> Result<Self> {
        match kind {
            LatticeKind::Square => Self::square(pitch),
            LatticeKind::Hex => Self::hexagonal(pitch),
        }
    }
    /// General lattice; the vectors must be finite and not parallel.
    pub fn new(a1: [f64; 2], a2: [f64; 2]) -> Result<Self> {
        let l = Lattice { a1, a2 };
        let ok = a1.iter().chain(a2.iter()).all(|v| v.is_finite());
        if !ok || l.area() <= 1e-12 * (norm(a1) * norm(a2)).max(1e-300) {
            return Err(Error::invalid(
                "lattice",
                format!("a1 = {a1:?}, a2 = {a2:?}"),
                "vectors must be finite, non-zero and not parallel",
            ));
        }
        Ok(l)
    }
    /// Cell area |a1 × a2| (µm²).
    pub fn area(&self) -> f64 {
        (self.a1[0] * self.a2[1] - self.a1[1] * self.a2[0]).abs()
    }
    /// Reciprocal vectors b1, b2 with a_i · b_j = 2π δ_ij (rad/µm).
    pub fn reciprocal(&self) -> ([f64; 2], [f64; 2]) {
        let det = self.a1[0] * self.a2[1] - self.a1[1] * self.a2[0];
        let s = 2.0 * std::f64::consts::PI / det;
        (
            [self.a2[1] * s, -self.a2[0] * s],
            [-self.a1[1] * s, self.a1[0] * s],
        )
    }
    /// Shortest distance between lattice points (µm), i.e. the pitch of a square or hex lattice.
    pub fn min_period(&self) -> f64 {
        shortest(self.a1, self.a2)
    }
    /// Spacing of the densest rows of lattice points (µm): 2π / |G| of the shortest reciprocal
    /// vector, the period the first diffraction orders see (p for a square lattice, p √3/2
    /// for a hexagonal one).
    pub fn row_spacing(&self) -> f64 {
        let (b1, b2) = self.reciprocal();
        2.0 * std::f64::consts::PI / shortest(b1, b2)
    }
}

/// Length of the shortest non-zero vector i a + j b, |i|, |j| ≤ 2 (enough for the reduced bases
/// of the square, rectangular and hexagonal lattices).
fn shortest(a: [f64; 2], b: [f64; 2]) -> f64 {
    translations(a, b, 2)
        .map(norm)
        .fold(f64::INFINITY, f64::min)
}

/// The non-zero translations i a + j b with |i|, |j| ≤ `reach`.
fn translations(a: [f64; 2], b: [f64; 2], reach: i32) -> impl Iterator<Item = [f64; 2]> {
    (-reach..=reach)
        .flat_map(move |i| (-reach..=reach).map(move |j| (i, j)))
        .filter(|&ij| ij != (0, 0))
        .map(move |(i, j)| {
            [
                i as f64 * a[0] + j as f64 * b[0],
                i as f64 * a[1] + j as f64 * b[1],
            ]
        })
}

pub(crate) fn norm(v: [f64; 2]) -> f64 {
    v[0].hypot(v[1])
}

/// A shape patterning a layer. Angles in radians, counter-clockwise from +x.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Circle {
        center: [f64; 2],
        radius: f64,
    },
    Ellipse {
        center: [f64; 2],
        semi_axes: [f64; 2],
        angle: f64,
    },
    Rectangle {
        center: [f64; 2],
        size: [f64; 2],
        angle: f64,
    },
}

impl Shape {
    /// Centre (µm).
    pub fn center(&self) -> [f64; 2] {
        match self {
            Shape::Circle { center, .. }
            | Shape::Ellipse { center, .. }
            | Shape::Rectangle { center, .. } => *center,
        }
    }
    /// Area (µm²).
    pub fn area(&self) -> f64 {
        match self {
            Shape::Circle { radius, .. } => std::f64::consts::PI * radius * radius,
            Shape::Ellipse { semi_axes, .. } => std::f64::consts::PI * semi_axes[0] * semi_axes[1],
            Shape::Rectangle { size, .. } => size[0] * size[1],
        }
    }
    /// Radius of the smallest circle around the centre that holds the shape (µm).
    pub fn bounding_radius(&self) -> f64 {
        match self {
            Shape::Circle { radius, .. } => *radius,
            Shape::Ellipse { semi_axes, .. } => semi_axes[0].max(semi_axes[1]),
            Shape::Rectangle { size, .. } => 0.5 * size[0].hypot(size[1]),
        }
    }
    /// Whether the point (relative to the cell origin, not wrapped) lies inside the shape.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        let c = self.center();
        let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
        match self {
            Shape::Circle { radius, .. } => dx * dx + dy * dy <= radius * radius,
            Shape::Ellipse {
                semi_axes, angle, ..
            } => {
                let (u, v) = rotate(dx, dy, -angle);
                (u / semi_axes[0]).powi(2) + (v / semi_axes[1]).powi(2) <= 1.0
            }
            Shape::Rectangle { size, angle, .. } => {
                let (u, v) = rotate(dx, dy, -angle);
                u.abs() <= 0.5 * size[0] && v.abs() <= 0.5 * size[1]
            }
        }
    }
    fn validate(&self) -> Result<()> {
        for v in self.center() {
            if !v.is_finite() {
                return Err(Error::invalid(
                    "shape centre",
                    format!("{:?}", self.center()),
                    "must be finite",
                ));
            }
        }
        match self {
            Shape::Circle { radius, .. } => check_positive("radius", *radius, "µm"),
            Shape::Ellipse {
                semi_axes, angle, ..
            } => {
                check_positive("ellipse semi-axis", semi_axes[0], "µm")?;
                check_positive("ellipse semi-axis", semi_axes[1], "µm")?;
                if !angle.is_finite() {
                    return Err(Error::invalid("ellipse angle", angle, "must be finite"));
                }
                Ok(())
            }
            Shape::Rectangle { size, angle, .. } => {
                check_positive("rectangle width", size[0], "µm")?;
                check_positive("rectangle height", size[1], "µm")?;
                if !angle.is_finite() {
                    return Err(Error::invalid("rectangle angle", angle, "must be finite"));
                }
                Ok(())
            }
        }
    }
}

pub(crate) fn rotate(x: f64, y: f64, a: f64) -> (f64, f64) {
    let (s, c) = a.sin_cos();
    (c * x - s * y, s * x + c * y)
}

/// One layer of the stack: a background material with shapes of other materials in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Thickness (µm), ≥ 0.
    pub thickness: f64,
    pub background: Material,
    pub shapes: Vec<(Shape, Material)>,
}

impl Layer {
    /// A uniform layer.
    pub fn uniform(thickness: f64, material: Material) -> Self {
        Layer {
            thickness,
            background: material,
            shapes: Vec::new(),
        }
    }
}

/// A periodic structure: semi-infinite incidence medium (below, z < 0), layers stacked
/// towards +z, semi-infinite exit medium (above).
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub lattice: Lattice,
    pub incidence: Material,
    pub layers: Vec<Layer>,
    pub exit: Material,
}

impl Stack {
    /// Check the geometry: positive thicknesses, shapes inside one cell without overlapping
    /// their own periodic images or each other.
    pub fn validate(&self) -> Result<()> {
        for (li, layer) in self.layers.iter().enumerate() {
            check_non_negative(
                &format!("thickness of layer {}", li + 1),
                layer.thickness,
                "µm",
            )?;
            for (s, _) in &layer.shapes {
                s.validate()?;
            }
            let period = self.lattice.min_period();
            for (i, (s, _)) in layer.shapes.iter().enumerate() {
                // A shape must not touch its own periodic image: for a circle, r < pitch/2.
                let r = s.bounding_radius();
                let clearance = self_image_clearance(&self.lattice, s);
                if clearance <= 0.0 {
                    let rule = match s {
                        Shape::Circle { .. } => format!(
                            "must be below half the pitch ({:.4} µm) so pillars do not touch their neighbours",
                            0.5 * period
                        ),
                        _ => format!("the shape overlaps its periodic images (lattice period {period:.4} µm)"),
                    };
                    return Err(Error::invalid(
                        if matches!(s, Shape::Circle { .. }) {
                            "radius"
                        } else {
                            "shape size"
                        },
                        format!("{r:.4} µm"),
                        rule,
                    ));
                }
                for (s2, _) in layer.shapes.iter().skip(i + 1) {
                    if shapes_overlap(&self.lattice, s, s2) {
                        return Err(Error::invalid(
                            "shapes",
                            format!("{s:?} and {s2:?}"),
                            "shapes in one layer must not overlap (also across cell boundaries)",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Minimum over the 8 nearest lattice translations of (distance of images − extent); > 0 when
/// the shape does not touch its own images. Exact for circles; sampled for other shapes.
fn self_image_clearance(l: &Lattice, s: &Shape) -> f64 {
    translations(l.a1, l.a2, 1)
        .map(|t| match s {
            Shape::Circle { radius, .. } => norm(t) - 2.0 * radius,
            _ => {
                let mut shifted = s.clone();
                shift(&mut shifted, t);
                if sampled_overlap(s, &shifted) {
                    -1.0
                } else {
                    1.0
                }
            }
        })
        .fold(f64::INFINITY, f64::min)
}

fn shift(s: &mut Shape, t: [f64; 2]) {
    match s {
        Shape::Circle { center, .. }
        | Shape::Ellipse { center, .. }
        | Shape::Rectangle { center, .. } => {
            center[0] += t[0];
            center[1] += t[1];
        }
    }
}

/// Whether s2 (or any of its images) overlaps s1.
fn shapes_overlap(l: &Lattice, s1: &Shape, s2: &Shape) -> bool {
    for i in -1i32..=1 {
        for j in -1i32..=1 {
            let t = [
                i as f64 * l.a1[0] + j as f64 * l.a2[0],
                i as f64 * l.a1[1] + j as f64 * l.a2[1],
            ];
            let mut moved = s2.clone();
            shift(&mut moved, t);
            let (c1, c2) = (s1.center(), moved.center());
            let d = norm([c1[0] - c2[0], c1[1] - c2[1]]);
            if d >= s1.bounding_radius() + moved.bounding_radius() {
                continue;
            }
            if let (Shape::Circle { radius: r1, .. }, Shape::Circle { radius: r2, .. }) =
                (s1, &moved)
            {
                if d < r1 + r2 {
                    return true;
                }
                continue;
            }
            if sampled_overlap(s1, &moved) {
                return true;
            }
        }
    }
    false
}

/// Overlap test by sampling the boundary region of the smaller shape (strict interior overlap;
/// touching edges, as in a checkerboard, are allowed).
fn sampled_overlap(a: &Shape, b: &Shape) -> bool {
    let n = 96;
    let c = a.center();
    let r = a.bounding_radius();
    for i in 0..n {
        for j in 0..n {
            let p = [
                c[0] + r * (2.0 * (i as f64 + 0.5) / n as f64 - 1.0),
                c[1] + r * (2.0 * (j as f64 + 0.5) / n as f64 - 1.0),
            ];
            if a.contains(p) && b.contains(p) {
                // require a margin so that shared edges do not count
                let e = 1e-9 * r.max(1e-12);
                let inner = |s: &Shape| {
                    s.contains([p[0] + e, p[1]])
                        && s.contains([p[0] - e, p[1]])
                        && s.contains([p[0], p[1] + e])
                        && s.contains([p[0], p[1] - e])
                };
                if inner(a) && inner(b) {
                    return true;
                }
            }
        }
    }
    false
}

/// Polarisation of the incident plane wave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Polarization {
    /// Tangential E along x (Ex = 1, Ey = 0).
    X,
    /// Tangential E along y.
    Y,
    /// s (TE): E perpendicular to the plane of incidence.
    S,
    /// p (TM): E in the plane of incidence.
    P,
    /// Jones vector (Ex, Ey) of tangential components.
    Jones(crate::C64, crate::C64),
}

impl std::str::FromStr for Polarization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "x" => Ok(Polarization::X),
            "y" => Ok(Polarization::Y),
            "s" | "te" => Ok(Polarization::S),
            "p" | "tm" => Ok(Polarization::P),
            other => {
                // Jones vector "a,b" with complex entries
                let parts: Vec<&str> = other.split(',').collect();
                if parts.len() == 2 {
                    if let (Ok(a), Ok(b)) = (
                        crate::material::parse_complex(parts[0]),
                        crate::material::parse_complex(parts[1]),
                    ) {
                        if a.norm() + b.norm() > 0.0 {
                            return Ok(Polarization::Jones(a, b));
                        }
                    }
                }
                Err(Error::invalid(
                    "polarization",
                    format!("'{s}'"),
                    "expected x, y, s, p, or a Jones vector 'Ex,Ey' such as '1,1i'",
                ))
            }
        }
    }
}

/// The incident plane wave (from the incidence medium, travelling towards +z).
#[derive(Clone, Debug, PartialEq)]
pub struct Incidence {
    /// Vacuum wavelength (µm).
    pub wavelength: f64,
    /// Polar angle from +z in the incidence medium (radians), 0 ≤ θ < π/2.
    pub theta: f64,
    /// Azimuth of the plane of incidence from +x (radians).
    pub phi: f64,
    pub polarization: Polarization,
}

impl Incidence {
    /// Normal incidence at `wavelength` (µm) with the given polarisation.
    pub fn normal(wavelength: f64, polarization: Polarization) -> Self {
        Incidence {
            wavelength,
            theta: 0.0,
            phi: 0.0,
            polarization,
        }
    }
    pub fn validate(&self) -> Result<()> {
        check_positive("wavelength", self.wavelength, "µm")?;
        if !(self.theta.is_finite() && self.theta >= 0.0 && self.theta < 0.5 * std::f64::consts::PI)
        {
            return Err(Error::invalid(
                "theta",
                format!("{}°", self.theta.to_degrees()),
                "must be in [0°, 90°)",
            ));
        }
        if !self.phi.is_finite() {
            return Err(Error::invalid(
                "phi",
                format!("{}°", self.phi.to_degrees()),
                "must be finite",
            ));
        }
        Ok(())
    }
}

/// The everyday cell: one cylindrical pillar of height h centred in a square or hexagonal
/// cell, on a substrate (incidence side) with the exit medium above and around it.
#[derive(Clone, Debug, PartialEq)]
pub struct PillarCell {
    pub lattice: LatticeKind,
    pub pitch: f64,
    pub radius: f64,
    pub height: f64,
    pub pillar: Material,
    pub incidence: Material,
    pub exit: Material,
}

impl PillarCell {
    /// The stack: incidence half-space | pillar layer (pillar in exit-medium background) | exit.
    /// A radius of zero gives a uniform layer of the exit medium.
    pub fn stack(&self) -> Result<Stack> {
        check_positive("pitch", self.pitch, "µm")?;
        check_non_negative("radius", self.radius, "µm")?;
        check_positive("height", self.height, "µm")?;
        if self.radius >= 0.5 * self.pitch {
            return Err(Error::invalid(
                "radius",
                format!("{} µm", self.radius),
                format!("must be below half the pitch ({} µm)", 0.5 * self.pitch),
            ));
        }
        let lattice = Lattice::of_kind(self.lattice, self.pitch)?;
        let mut layer = Layer::uniform(self.height, self.exit.clone());
        if self.radius > 0.0 {
            layer.shapes.push((
                Shape::Circle {
                    center: [0.0, 0.0],
                    radius: self.radius,
                },
                self.pillar.clone(),
            ));
        }
        let stack = Stack {
            lattice,
            incidence: self.incidence.clone(),
            layers: vec![layer],
            exit: self.exit.clone(),
        };
        stack.validate()?;
        Ok(stack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_vectors_are_dual() {
        for l in [
            Lattice::square(0.3).unwrap(),
            Lattice::hexagonal(2.0).unwrap(),
            Lattice::new([1.0, 0.2], [0.3, 0.9]).unwrap(),
        ] {
            let (b1, b2) = l.reciprocal();
            let dot = |a: [f64; 2], b: [f64; 2]| a[0] * b[0] + a[1] * b[1];
            let tp = 2.0 * std::f64::consts::PI;
            assert!((dot(l.a1, b1) - tp).abs() < 1e-12 && dot(l.a1, b2).abs() < 1e-12);
            assert!((dot(l.a2, b2) - tp).abs() < 1e-12 && dot(l.a2, b1).abs() < 1e-12);
        }
        assert!((Lattice::hexagonal(2.0).unwrap().min_period() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn radius_beyond_half_pitch_is_refused() {
        let cell = PillarCell {
            lattice: LatticeKind::Square,
            pitch: 0.4,
            radius: 0.21,
            height: 0.6,
            pillar: Material::srn(),
            incidence: Material::sio2(),
            exit: Material::air(),
        };
        let e = cell.stack().unwrap_err().to_string();
        assert!(e.contains("0.21") && e.contains("0.2 µm"), "{e}");
    }

    #[test]
    fn checkerboard_squares_may_touch_but_not_overlap() {
        let lat = Lattice::square(2.5).unwrap();
        let mut layer = Layer::uniform(1.0, Material::air());
        let m = Material::Constant(crate::C64::new(1.5, 0.0));
        layer.shapes.push((
            Shape::Rectangle {
                center: [0.625, 0.625],
                size: [1.25, 1.25],
                angle: 0.0,
            },
            m.clone(),
        ));
        layer.shapes.push((
            Shape::Rectangle {
                center: [1.875, 1.875],
                size: [1.25, 1.25],
                angle: 0.0,
            },
            m.clone(),
        ));
        let st = Stack {
            lattice: lat.clone(),
            incidence: Material::air(),
            layers: vec![layer.clone()],
            exit: Material::air(),
        };
        st.validate().unwrap();
        layer.shapes.push((
            Shape::Circle {
                center: [0.6, 0.6],
                radius: 0.1,
            },
            m,
        ));
        let st = Stack {
            lattice: lat,
            incidence: Material::air(),
            layers: vec![layer],
            exit: Material::air(),
        };
        assert!(st.validate().is_err());
    }
}
