//! The Yee grid, its fields and the leap-frog kernel (with convolutional PML).
//!
//! # Units and staggering
//! Lengths in µm, c = 1 (time in µm of light travel), ε0 = μ0 = 1, so H is in units of 1/η0.
//! Uniform cubic cells of side `dx`; cell (i, j, k) holds, at the Yee positions (in cells),
//! Ex (i+½, j, k), Ey (i, j+½, k), Ez (i, j, k+½), Hx (i, j+½, k+½), Hy (i+½, j, k+½),
//! Hz (i+½, j+½, k). Storage is x-fastest: index = (k·ny + j)·nx + i.
//!
//! # Update (one step n → n+1)
//! H^{n+½} = H^{n−½} − dt μ⁻¹ ∇×E^n (μ = 1 except on the planes of a cell's uniform layers,
//! one value per component and plane, [`Permittivity::inv_mu`]);
//! E^{n+1} = E^n + dt ε⁻¹ (∇×H^{n+½} − J^{n+½}), with the sub-pixel averaged ε⁻¹ of
//! [`super::material`]: its diagonal per E component, plus the x-y off-diagonal term on the
//! voxels of slanted side walls: Ex gains dt Σ w (∇×H)_y over the four Ey positions around
//! it, and each Ey likewise from its four Ex. The weight of a pair
//! is w = ⅛ (ε⁻¹_xy at the Ex + ε⁻¹_yx at the Ey), the same both ways, so the discrete
//! ε⁻¹ operator stays symmetric: the non-symmetric form (ε⁻¹_xy of the Ex times the plain
//! average of the four curls) diverged here after 3.6·10⁴ steps on a lens; a symmetric
//! operator is what keeps the leap-frog energy bounded (Werner & Cary, J. Comput. Phys. 226,
//! 1085 (2007)). Since ε⁻¹ does not change in time this is E = ε⁻¹ D
//! with D advanced by dt ∇×H.
//!
//! # Boundaries (per axis, low and high side)
//! Periodic; open (a CPML slab backed by a PEC wall); on the low side also a mirror plane
//! through the integer nodes (PEC: tangential E = 0 there; PMC: the tangential H one half cell
//! outside is the negative image of the one inside).
//!
//! # CPML (Roden & Gedney, Microw. Opt. Technol. Lett. 27, 334 (2000))
//! In a slab the derivative ∂u becomes (1/κ) ∂u + ψ with ψ ← b ψ + a ∂u F,
//! b = exp(−(σ/κ + α) dt), a = σ (b − 1)/(σ κ + κ² α); σ, κ graded as the cube of the depth, α
//! linearly the other way. The main kernel applies the plain derivative everywhere; a second
//! pass adds ((1/κ) − 1) ∂u F + ψ inside the slabs only, so the auxiliary ψ arrays exist only
//! there.

use rayon::prelude::*;

mod fused;

/// What bounds an axis at one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Periodic (both sides must be periodic).
    Periodic,
    /// CPML slab (the given number of cells thick, may be 0) ending on a PEC wall.
    Pml(usize),
    /// Low side only: mirror plane through the integer nodes where tangential E vanishes.
    Pec,
    /// Low side only: mirror plane through the integer nodes where tangential H vanishes.
    Pmc,
}

/// One axis of the grid.
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    pub n: usize,
    pub lo: Side,
    pub hi: Side,
}

impl Axis {
    pub fn periodic(n: usize) -> Self {
        Axis {
            n,
            lo: Side::Periodic,
            hi: Side::Periodic,
        }
    }
    fn pml_lo(&self) -> usize {
        match self.lo {
            Side::Pml(p) => p,
            _ => 0,
        }
    }
    fn pml_hi(&self) -> usize {
        match self.hi {
            Side::Pml(p) => p,
            _ => 0,
        }
    }
    /// (row scale, wrap) for the "minus one" neighbour of index 0 of an H component
    /// tangential to this axis's planes: the value used is scale · H[wrap].
    fn minus_neighbour(&self) -> (f32, usize) {
        match self.lo {
            Side::Periodic => (1.0, self.n - 1),
            Side::Pml(_) => (0.0, 0),
            Side::Pec => (1.0, 0),
            Side::Pmc => (-1.0, 0),
        }
    }
    /// (scale, index) for the "plus one" neighbour of the last index of an E component.
    fn plus_neighbour(&self) -> (f32, usize) {
        match self.hi {
            Side::Periodic => (1.0, 0),
            _ => (0.0, 0),
        }
    }
}

/// Inverse relative permittivity of one E component on one z plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlaneEps {
    /// The same value everywhere on the plane.
    Uniform(f32),
    /// A map (index into [`Permittivity::maps`]) of nx·ny values.
    Map(usize),
}

/// Inverse permittivity of the three E components, plane by plane; planes with the same map
/// share it (all planes inside one pillar layer do).
#[derive(Clone, Debug, Default)]
pub struct Permittivity {
    pub planes: [Vec<PlaneEps>; 3],
    pub maps: Vec<Vec<f32>>,
    /// The x-y off-diagonal terms: for Ex (ε⁻¹_xy at the Ex positions) and Ey (ε⁻¹_yx at the
    /// Ey positions), plane by plane, an index into `off_maps` (nx·ny values, zero away from
    /// slanted walls) or None where the plane has none.
    pub off: [Vec<Option<usize>>; 2],
    pub off_maps: Vec<Vec<f32>>,
    /// Inverse relative permeability of Hx, Hy and Hz plane by plane (plane k: Hx, Hy at
    /// z = k + ½, Hz at z = k); empty for μ = 1. Only the exact planar discretisation of
    /// laterally uniform layers sets it ([`super::material::exact_planar`]).
    pub inv_mu: [Vec<f32>; 3],
}

/// The pair weights of one plane's off-diagonal coupling, for the E nodes that have any, in
/// the neighbour order of [`Grid::off_diagonal_e`].
#[derive(Clone, Debug, Default, PartialEq)]
struct OffPlane {
    ex: Vec<OffPair>,
    ey: Vec<OffPair>,
}

/// One E node's off-diagonal coupling: its index j·nx + i, the plane indices of its four
/// neighbours of the other component (boundary images resolved) and the pair weights with
/// the images' parity (0 across an open side) folded in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OffPair {
    idx: u32,
    nbr: [u32; 4],
    w: [f32; 4],
}

impl Permittivity {
    /// Diagonal only, one uniform value per component on every plane.
    pub fn uniform(inv: f32, nz: usize) -> Self {
        Permittivity {
            planes: [0, 1, 2].map(|_| vec![PlaneEps::Uniform(inv); nz]),
            off: [vec![None; nz], vec![None; nz]],
            ..Permittivity::default()
        }
    }

    pub fn bytes(&self) -> usize {
        self.maps.iter().map(|m| m.len() * 4).sum::<usize>()
            + self.off_maps.iter().map(|m| m.len() * 4).sum::<usize>()
            + 3 * self.planes[0].len() * 8
            + 2 * self.off[0].len() * 16
            + self.inv_mu.iter().map(|m| m.len() * 4).sum::<usize>()
    }

    /// μ⁻¹ of H component `comp` on plane k (1 when unset).
    #[inline(always)]
    pub fn inv_mu(&self, comp: usize, k: usize) -> f32 {
        self.inv_mu[comp].get(k).copied().unwrap_or(1.0)
    }
}

/// CPML coefficients along one axis, at integer and half-integer node positions.
#[derive(Clone, Debug, Default)]
struct Profile {
    /// For each index i: Some((b, a, 1/κ − 1)) inside a slab.
    int: Vec<Option<(f32, f32, f32)>>,
    half: Vec<Option<(f32, f32, f32)>>,
    /// Slab-local index of each i (the same for int and half positions), or usize::MAX.
    slab: Vec<usize>,
    n_slab: usize,
}

/// Grading of the CPML.
#[derive(Clone, Copy, Debug)]
pub struct PmlParams {
    /// Polynomial order of σ and κ.
    pub order: f64,
    /// Peak κ.
    pub kappa_max: f64,
    /// Peak α (1/µm of light travel).
    pub alpha_max: f64,
    /// Refractive index used for the optimal σ (σ_opt = 0.8 (m+1)/(n dx)).
    pub index: f64,
}

fn profile(axis: &Axis, dx: f64, dt: f64, p: &PmlParams) -> Profile {
    let n = axis.n;
    let (lo, hi) = (axis.pml_lo(), axis.pml_hi());
    let sigma_max = 0.8 * (p.order + 1.0) / (p.index * dx);
    let coef = |u: f64| -> Option<(f32, f32, f32)> {
        // depth ρ ∈ (0, 1] inside a slab (u in cells)
        let rho = if lo > 0 && u < lo as f64 {
            (lo as f64 - u) / lo as f64
        } else if hi > 0 && u > (n - hi) as f64 {
            (u - (n - hi) as f64) / hi as f64
        } else {
            return None;
        };
        let rho = rho.min(1.0);
        let sigma = sigma_max * rho.powf(p.order);
        let kappa = 1.0 + (p.kappa_max - 1.0) * rho.powf(p.order);
        let alpha = p.alpha_max * (1.0 - rho);
        let b = (-(sigma / kappa + alpha) * dt).exp();
        let a = if sigma > 0.0 {
            sigma * (b - 1.0) / (sigma * kappa + kappa * kappa * alpha)
        } else {
            0.0
        };
        Some((b as f32, a as f32, (1.0 / kappa - 1.0) as f32))
    };
    let mut pr = Profile::default();
    let mut s = 0;
    for i in 0..n {
        let ci = coef(i as f64);
        let ch = coef(i as f64 + 0.5);
        pr.int.push(ci);
        pr.half.push(ch);
        if ci.is_some() || ch.is_some() {
            pr.slab.push(s);
            s += 1;
        } else {
            pr.slab.push(usize::MAX);
        }
    }
    pr.n_slab = s;
    pr
}

/// The six field components.
#[derive(Clone, Debug)]
pub struct Fields {
    pub ex: Vec<f32>,
    pub ey: Vec<f32>,
    pub ez: Vec<f32>,
    pub hx: Vec<f32>,
    pub hy: Vec<f32>,
    pub hz: Vec<f32>,
}

/// CPML auxiliaries of one axis: four ψ arrays over the slab cells (two for the H update,
/// two for the E update), each laid out plane by plane in k.
#[derive(Clone, Debug, Default)]
struct Psi {
    h1: Vec<f32>,
    h2: Vec<f32>,
    e1: Vec<f32>,
    e2: Vec<f32>,
}

/// Which implementation [`Grid::step`] runs. Both compute the same update; they differ in the
/// order in which they sweep memory, so their results agree to f32 rounding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kernel {
    /// One sweep over the z planes per step, H then E of each plane with their CPML and
    /// off-diagonal terms (the engine's kernel).
    #[default]
    Fused,
    /// The previous kernel: separate passes for H, its CPML, E, the off-diagonal terms and
    /// the E CPML ([`Grid::step_h`], [`Grid::step_e`]); kept to check the fused kernel against.
    Reference,
}

/// A grid with its fields, material and boundaries, ready to step.
pub struct Grid {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    pub ax: [Axis; 3],
    pub dx: f64,
    pub dt: f64,
    pub f: Fields,
    pub eps: Permittivity,
    prof: [Profile; 3],
    psi: [Psi; 3],
    zero_row: Vec<f32>,
    /// Per plane, an index into `off_planes`.
    off_index: Vec<Option<usize>>,
    off_planes: Vec<OffPlane>,
    /// The implementation [`Grid::step`] runs.
    pub kernel: Kernel,
    /// The x CPML runs of the fused kernel (H, E) and its off-diagonal scratch planes.
    xruns: [fused::XRuns; 2],
    scratch: Vec<fused::Scratch>,
}

impl Grid {
    /// Fields zero; `pml[a]` the grading for axis a.
    pub fn new(
        ax: [Axis; 3],
        dx: f64,
        courant: f64,
        eps: Permittivity,
        pml: [PmlParams; 3],
    ) -> Self {
        let (nx, ny, nz) = (ax[0].n, ax[1].n, ax[2].n);
        let n = nx * ny * nz;
        let dt = courant * dx;
        let prof = [0, 1, 2].map(|a| profile(&ax[a], dx, dt, &pml[a]));
        let psi = [0, 1, 2].map(|a| {
            let len = match a {
                0 => prof[0].n_slab * ny * nz,
                1 => prof[1].n_slab * nx * nz,
                _ => prof[2].n_slab * nx * ny,
            };
            Psi {
                h1: vec![0.0; len],
                h2: vec![0.0; len],
                e1: vec![0.0; len],
                e2: vec![0.0; len],
            }
        });
        let z = || vec![0f32; n];
        let (off_index, off_planes) = off_planes(&eps, &ax);
        let xruns = [
            fused::XRuns::new(&prof[0], true, nx),
            fused::XRuns::new(&prof[0], false, nx),
        ];
        Grid {
            nx,
            ny,
            nz,
            ax,
            dx,
            dt,
            f: Fields {
                ex: z(),
                ey: z(),
                ez: z(),
                hx: z(),
                hy: z(),
                hz: z(),
            },
            eps,
            prof,
            psi,
            zero_row: vec![0.0; nx],
            off_index,
            off_planes,
            kernel: Kernel::default(),
            xruns,
            scratch: Vec::new(),
        }
    }

    /// Bytes held by the grid (fields, permittivity, CPML auxiliaries).
    pub fn bytes(&self) -> usize {
        let fields = 6 * 4 * self.nx * self.ny * self.nz;
        let psi: usize = self
            .psi
            .iter()
            .map(|p| 4 * (p.h1.len() + p.h2.len() + p.e1.len() + p.e2.len()))
            .sum();
        let pairs: usize = self
            .off_planes
            .iter()
            .map(|p| p.ex.len() + p.ey.len())
            .sum();
        // + the pair lists and the curl planes for their gather: one pair per thread
        // (reference kernel), per chunk of planes with any (fused kernel)
        let threads = rayon::current_num_threads();
        let scratch = match (pairs > 0, self.kernel) {
            (false, _) => 0,
            (true, Kernel::Reference) => threads * 8 * self.nx * self.ny,
            (true, Kernel::Fused) => fused::scratch_bytes(self, threads),
        };
        fields + psi + self.eps.bytes() + pairs * std::mem::size_of::<OffPair>() + scratch
    }

    pub fn cells(&self) -> usize {
        self.nx * self.ny * self.nz
    }

    /// One leap-frog step: H^{n−½} → H^{n+½}, then E^n → E^{n+1} (sources are added by the
    /// caller afterwards), by [`Self::kernel`].
    pub fn step(&mut self) {
        match self.kernel {
            Kernel::Fused => fused::step(self),
            Kernel::Reference => {
                self.step_h();
                self.step_e();
            }
        }
    }

    /// H^{n−½} → H^{n+½}.
    pub fn step_h(&mut self) {
        let (nx, ny, nz) = (self.nx, self.ny, self.nz);
        let plane = nx * ny;
        let c = (self.dt / self.dx) as f32;
        let (sx, wx) = self.ax[0].plus_neighbour();
        let (sy, wy) = self.ax[1].plus_neighbour();
        let f = &mut self.f;
        let (ex, ey, ez) = (&f.ex, &f.ey, &f.ez);
        let zero = &self.zero_row;
        let mu = &self.eps;
        f.hx.par_chunks_mut(plane)
            .zip(f.hy.par_chunks_mut(plane))
            .zip(f.hz.par_chunks_mut(plane))
            .enumerate()
            .for_each(|(k, ((hxp, hyp), hzp))| {
                // dt/(μ dx) of each component on this plane (c · 1 = c exactly when μ = 1)
                let [cx_, cy_, cz_] = [0, 1, 2].map(|a| c * mu.inv_mu(a, k));
                for j in 0..ny {
                    let (jp, syj) = if j + 1 < ny { (j + 1, 1.0) } else { (wy, sy) };
                    let ex0 = row(ex, nx, ny, j, k);
                    let ey0 = row(ey, nx, ny, j, k);
                    let ez0 = row(ez, nx, ny, j, k);
                    let ex_jp = row(ex, nx, ny, jp, k);
                    let ez_jp = row(ez, nx, ny, jp, k);
                    let (ex_kp, ey_kp) = if k + 1 < nz {
                        (row(ex, nx, ny, j, k + 1), row(ey, nx, ny, j, k + 1))
                    } else {
                        (&zero[..], &zero[..])
                    };
                    let o = j * nx;
                    let hx = &mut hxp[o..o + nx];
                    let hy = &mut hyp[o..o + nx];
                    let hz = &mut hzp[o..o + nx];
                    for i in 0..nx {
                        // ∂y Ez − ∂z Ey
                        let cx = (syj * ez_jp[i] - ez0[i]) - (ey_kp[i] - ey0[i]);
                        hx[i] -= cx_ * cx;
                    }
                    // ∂z Ex − ∂x Ez and ∂x Ey − ∂y Ex; the x + 1 neighbour of the last
                    // node is the boundary image, handled apart so that the loop over the
                    // others has no branch (and vectorises)
                    let m = nx - 1;
                    let (ez1, ey1) = (&ez0[1..], &ey0[1..]);
                    let (ex0m, exkm, exjm) = (&ex0[..m], &ex_kp[..m], &ex_jp[..m]);
                    let (ez0m, ey0m) = (&ez0[..m], &ey0[..m]);
                    let (hym, hzm) = (&mut hy[..m], &mut hz[..m]);
                    for i in 0..m {
                        let cy = (exkm[i] - ex0m[i]) - (ez1[i] - ez0m[i]);
                        hym[i] -= cy_ * cy;
                        let cz = (ey1[i] - ey0m[i]) - (syj * exjm[i] - ex0m[i]);
                        hzm[i] -= cz_ * cz;
                    }
                    let cy = (ex_kp[m] - ex0[m]) - (sx * ez0[wx] - ez0[m]);
                    hy[m] -= cy_ * cy;
                    let cz = (sx * ey0[wx] - ey0[m]) - (syj * ex_jp[m] - ex0[m]);
                    hz[m] -= cz_ * cz;
                }
            });
        self.pml_h();
    }

    /// E^n → E^{n+1} (sources are added by the caller afterwards).
    pub fn step_e(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        let plane = nx * ny;
        let c = (self.dt / self.dx) as f32;
        let (sx, wx) = self.ax[0].minus_neighbour();
        let (sy, wy) = self.ax[1].minus_neighbour();
        let pec_x = self.ax[0].lo == Side::Pec;
        let pec_y = self.ax[1].lo == Side::Pec;
        let f = &mut self.f;
        let (hx, hy, hz) = (&f.hx, &f.hy, &f.hz);
        let zero = &self.zero_row;
        let eps = &self.eps;
        f.ex.par_chunks_mut(plane)
            .zip(f.ey.par_chunks_mut(plane))
            .zip(f.ez.par_chunks_mut(plane))
            .enumerate()
            .for_each(|(k, ((exp, eyp), ezp))| {
                let inv = |comp: usize, j: usize| -> InvRow<'_> {
                    match eps.planes[comp][k] {
                        PlaneEps::Uniform(v) => InvRow::Uniform(v),
                        PlaneEps::Map(m) => InvRow::Map(&eps.maps[m][j * nx..(j + 1) * nx]),
                    }
                };
                for j in 0..ny {
                    let (jm, syj) = if j > 0 { (j - 1, 1.0) } else { (wy, sy) };
                    let hx0 = row(hx, nx, ny, j, k);
                    let hy0 = row(hy, nx, ny, j, k);
                    let hz0 = row(hz, nx, ny, j, k);
                    let hx_jm = row(hx, nx, ny, jm, k);
                    let hz_jm = row(hz, nx, ny, jm, k);
                    let (hx_km, hy_km) = if k > 0 {
                        (row(hx, nx, ny, j, k - 1), row(hy, nx, ny, j, k - 1))
                    } else {
                        (&zero[..], &zero[..])
                    };
                    let o = j * nx;
                    {
                        // Ex: ∂y Hz − ∂z Hy
                        let e = &mut exp[o..o + nx];
                        let skip = pec_y && j == 0;
                        let curl = |i: usize| (hz0[i] - syj * hz_jm[i]) - (hy0[i] - hy_km[i]);
                        if skip {
                            e.fill(0.0);
                        } else {
                            apply(e, inv(0, j), c, curl);
                        }
                    }
                    {
                        // Ey: ∂z Hx − ∂x Hz
                        let e = &mut eyp[o..o + nx];
                        let first = (hx0[0] - hx_km[0]) - (hz0[0] - sx * hz0[wx]);
                        let (hx1, hxk1, hz1, hzm) =
                            (&hx0[1..], &hx_km[1..nx], &hz0[1..], &hz0[..nx - 1]);
                        let rest = |i: usize| (hx1[i] - hxk1[i]) - (hz1[i] - hzm[i]);
                        apply_after_first(e, inv(1, j), c, first, rest);
                        if pec_x {
                            e[0] = 0.0;
                        }
                    }
                    {
                        // Ez: ∂x Hy − ∂y Hx
                        let e = &mut ezp[o..o + nx];
                        let first = (hy0[0] - sx * hy0[wx]) - (hx0[0] - syj * hx_jm[0]);
                        let (hy1, hym, hx1, hxj1) =
                            (&hy0[1..], &hy0[..nx - 1], &hx0[1..], &hx_jm[1..nx]);
                        let rest = |i: usize| (hy1[i] - hym[i]) - (hx1[i] - syj * hxj1[i]);
                        if pec_y && j == 0 {
                            e.fill(0.0);
                        } else {
                            apply_after_first(e, inv(2, j), c, first, rest);
                            if pec_x {
                                e[0] = 0.0;
                            }
                        }
                    }
                }
            });
        self.off_diagonal_e();
        self.pml_e();
    }

    /// The x-y off-diagonal ε⁻¹ terms (see the module docs): Ex (i+½, j) += c Σ w (curl H)_y
    /// over the Ey positions (i, j−½), (i+1, j−½), (i, j+½), (i+1, j+½), and Ey (i, j+½) += c Σ w
    /// (curl H)_x over the Ex positions (i−½, j), (i+½, j), (i−½, j+1), (i+½, j+1). Neighbours
    /// across a boundary follow its images: periodic wrap, or a mirror plane's parity (the
    /// normal E component half a cell outside a mirror plane has the parity of the tangential
    /// H there, hence the `minus_neighbour` scale). Walls never reach a CPML (a lens keeps a
    /// free margin before it, a unit cell has none), so the plain curl is the right one.
    fn off_diagonal_e(&mut self) {
        if self.off_planes.is_empty() {
            return;
        }
        let (nx, ny) = (self.nx, self.ny);
        let plane = nx * ny;
        let c = (self.dt / self.dx) as f32;
        let (smx, wmx) = self.ax[0].minus_neighbour();
        let (smy, wmy) = self.ax[1].minus_neighbour();
        let f = &mut self.f;
        let (hx, hy, hz) = (&f.hx, &f.hy, &f.hz);
        let zero = &self.zero_row;
        let (index, planes) = (&self.off_index, &self.off_planes);
        // Per plane: the two curls on the whole plane first (branch-free rows, the same
        // differences as the main update), then the pairs gather from them through their
        // precomputed neighbour indices, boundary images folded into the weights.
        f.ex.par_chunks_mut(plane)
            .zip(f.ey.par_chunks_mut(plane))
            .enumerate()
            .for_each_init(
                || (vec![0f32; plane], vec![0f32; plane]),
                |(curl_x, curl_y), (k, (exp, eyp))| {
                    let Some(p) = index[k] else { return };
                    let p = &planes[p];
                    for j in 0..ny {
                        let jm = if j > 0 { j - 1 } else { wmy };
                        let sy = if j > 0 { 1.0 } else { smy };
                        let hx0 = row(hx, nx, ny, j, k);
                        let hy0 = row(hy, nx, ny, j, k);
                        let hz0 = row(hz, nx, ny, j, k);
                        let hz_jm = row(hz, nx, ny, jm, k);
                        let (hx_km, hy_km) = if k > 0 {
                            (row(hx, nx, ny, j, k - 1), row(hy, nx, ny, j, k - 1))
                        } else {
                            (&zero[..], &zero[..])
                        };
                        let o = j * nx;
                        // (curl H)_x at Ex (i+½, j): ∂y Hz − ∂z Hy
                        let cx = &mut curl_x[o..o + nx];
                        for i in 0..nx {
                            cx[i] = (hz0[i] - sy * hz_jm[i]) - (hy0[i] - hy_km[i]);
                        }
                        // (curl H)_y at Ey (i, j+½): ∂z Hx − ∂x Hz
                        let cy = &mut curl_y[o..o + nx];
                        cy[0] = (hx0[0] - hx_km[0]) - (hz0[0] - smx * hz0[wmx]);
                        let (hx1, hxk1, hz1, hzm) =
                            (&hx0[1..], &hx_km[1..nx], &hz0[1..], &hz0[..nx - 1]);
                        for (i, v) in cy[1..].iter_mut().enumerate() {
                            *v = (hx1[i] - hxk1[i]) - (hz1[i] - hzm[i]);
                        }
                    }
                    let gather = |q: &OffPair, from: &[f32]| -> f32 {
                        let n = q.nbr.map(|n| from[n as usize]);
                        q.w[0] * n[0] + q.w[1] * n[1] + q.w[2] * n[2] + q.w[3] * n[3]
                    };
                    for q in &p.ex {
                        exp[q.idx as usize] += c * gather(q, curl_y);
                    }
                    for q in &p.ey {
                        eyp[q.idx as usize] += c * gather(q, curl_x);
                    }
                },
            );
    }

    /// CPML corrections of the H update.
    fn pml_h(&mut self) {
        let c = (self.dt / self.dx) as f32;
        let g = GridView {
            nx: self.nx,
            ny: self.ny,
            nz: self.nz,
            ax: self.ax,
        };
        let f = &mut self.f;
        let mu = [0, 1, 2].map(|a| &self.eps.inv_mu[a][..]);
        // axis z: Hx += c ∂z Ey, Hy −= c ∂z Ex (half positions in z)
        if self.prof[2].n_slab > 0 {
            let p = &self.prof[2];
            let ps = &mut self.psi[2];
            correct_z(
                &g,
                p,
                true,
                &mut f.hx,
                &f.ey,
                &mut ps.h1,
                c,
                Deriv::Forward(mu[0]),
            );
            correct_z(
                &g,
                p,
                true,
                &mut f.hy,
                &f.ex,
                &mut ps.h2,
                -c,
                Deriv::Forward(mu[1]),
            );
        }
        // axis x: Hy += c ∂x Ez, Hz −= c ∂x Ey
        if self.prof[0].n_slab > 0 {
            let p = &self.prof[0];
            let ps = &mut self.psi[0];
            correct_x(
                &g,
                p,
                true,
                &mut f.hy,
                &f.ez,
                &mut ps.h1,
                c,
                Deriv::Forward(mu[1]),
            );
            correct_x(
                &g,
                p,
                true,
                &mut f.hz,
                &f.ey,
                &mut ps.h2,
                -c,
                Deriv::Forward(mu[2]),
            );
        }
        // axis y: Hx −= c ∂y Ez, Hz += c ∂y Ex
        if self.prof[1].n_slab > 0 {
            let p = &self.prof[1];
            let ps = &mut self.psi[1];
            correct_y(
                &g,
                p,
                true,
                &mut f.hx,
                &f.ez,
                &mut ps.h1,
                -c,
                Deriv::Forward(mu[0]),
            );
            correct_y(
                &g,
                p,
                true,
                &mut f.hz,
                &f.ex,
                &mut ps.h2,
                c,
                Deriv::Forward(mu[2]),
            );
        }
    }

    /// CPML corrections of the E update (scaled by ε⁻¹ of the component).
    fn pml_e(&mut self) {
        let c = (self.dt / self.dx) as f32;
        let g = GridView {
            nx: self.nx,
            ny: self.ny,
            nz: self.nz,
            ax: self.ax,
        };
        let f = &mut self.f;
        let eps = &self.eps;
        // axis z: Ex −= c ε⁻¹ ∂z Hy, Ey += c ε⁻¹ ∂z Hx (integer positions in z)
        if self.prof[2].n_slab > 0 {
            let p = &self.prof[2];
            let ps = &mut self.psi[2];
            correct_z(
                &g,
                p,
                false,
                &mut f.ex,
                &f.hy,
                &mut ps.e1,
                -c,
                Deriv::Backward(eps, 0),
            );
            correct_z(
                &g,
                p,
                false,
                &mut f.ey,
                &f.hx,
                &mut ps.e2,
                c,
                Deriv::Backward(eps, 1),
            );
        }
        // axis x: Ey −= c ε⁻¹ ∂x Hz, Ez += c ε⁻¹ ∂x Hy
        if self.prof[0].n_slab > 0 {
            let p = &self.prof[0];
            let ps = &mut self.psi[0];
            correct_x(
                &g,
                p,
                false,
                &mut f.ey,
                &f.hz,
                &mut ps.e1,
                -c,
                Deriv::Backward(eps, 1),
            );
            correct_x(
                &g,
                p,
                false,
                &mut f.ez,
                &f.hy,
                &mut ps.e2,
                c,
                Deriv::Backward(eps, 2),
            );
        }
        // axis y: Ex += c ε⁻¹ ∂y Hz, Ez −= c ε⁻¹ ∂y Hx
        if self.prof[1].n_slab > 0 {
            let p = &self.prof[1];
            let ps = &mut self.psi[1];
            correct_y(
                &g,
                p,
                false,
                &mut f.ex,
                &f.hz,
                &mut ps.e1,
                c,
                Deriv::Backward(eps, 0),
            );
            correct_y(
                &g,
                p,
                false,
                &mut f.ez,
                &f.hx,
                &mut ps.e2,
                -c,
                Deriv::Backward(eps, 2),
            );
        }
        self.enforce_pec();
    }

    /// Tangential E on a PEC mirror plane stays zero (the CPML passes may have touched it).
    fn enforce_pec(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        if self.ax[0].lo == Side::Pec {
            for r in 0..ny * self.nz {
                self.f.ey[r * nx] = 0.0;
                self.f.ez[r * nx] = 0.0;
            }
        }
        if self.ax[1].lo == Side::Pec {
            for k in 0..self.nz {
                let o = k * nx * ny;
                self.f.ex[o..o + nx].fill(0.0);
                self.f.ez[o..o + nx].fill(0.0);
            }
        }
    }

    /// Inverse permittivity of component `comp` at (i, j, k).
    pub fn inv_eps(&self, comp: usize, i: usize, j: usize, k: usize) -> f32 {
        inv_at(&self.eps, comp, self.nx, i, j, k)
    }
}

/// The pair weights w = ⅛ (ε⁻¹_xy(Ex) + ε⁻¹_yx(Ey)) of every plane with off-diagonal terms.
/// A neighbour across a boundary takes its image's value: periodic wrap; a mirror plane
/// flips the sign (ε⁻¹_xy ∝ n̂x n̂y is odd under either mirror); a CPML side has none. A pair
/// with a PEC voxel (ε⁻¹ = 0 on the opaque screen) has none either: its row of the ε⁻¹
/// operator must stay zero, or the operator is no longer positive definite and the run
/// diverges (it did, after ~2·10⁴ steps, where pillars met the aperture rim).
fn off_planes(eps: &Permittivity, ax: &[Axis; 3]) -> (Vec<Option<usize>>, Vec<OffPlane>) {
    let (nx, ny, nz) = (ax[0].n, ax[1].n, ax[2].n);
    let mut index = vec![None; nz];
    let mut planes: Vec<OffPlane> = Vec::new();
    if eps.off_maps.is_empty() {
        return (index, planes);
    }
    let image = |a: &Axis, lo: bool| -> (f32, usize) {
        match (lo, if lo { a.lo } else { a.hi }) {
            (true, Side::Periodic) => (1.0, a.n - 1),
            (false, Side::Periodic) => (1.0, 0),
            (true, Side::Pec | Side::Pmc) => (-1.0, 0),
            _ => (0.0, 0),
        }
    };
    let ((sxl, wxl), (sxh, wxh)) = (image(&ax[0], true), image(&ax[0], false));
    let ((syl, wyl), (syh, wyh)) = (image(&ax[1], true), image(&ax[1], false));
    // where the kernel reads the curl of a neighbour outside the plane: (parity, index)
    let ((smx, wmx), (spx, wpx)) = (ax[0].minus_neighbour(), ax[0].plus_neighbour());
    let ((smy, wmy), (spy, wpy)) = (ax[1].minus_neighbour(), ax[1].plus_neighbour());
    // the Ey node (i, j), i in 0..=nx, j in -1..ny, and the Ex node (i, j), i in -1..nx,
    // j in 0..=ny
    let ey_node = |i: usize, j: isize| -> (f32, u32) {
        let (s1, i) = if i == nx { (spx, wpx) } else { (1.0, i) };
        let (s2, j) = if j < 0 { (smy, wmy) } else { (1.0, j as usize) };
        (s1 * s2, (j * nx + i) as u32)
    };
    let ex_node = |i: isize, j: usize| -> (f32, u32) {
        let (s1, i) = if i < 0 { (smx, wmx) } else { (1.0, i as usize) };
        let (s2, j) = if j == ny { (spy, wpy) } else { (1.0, j) };
        (s1 * s2, (j * nx + i) as u32)
    };
    let pair = |idx: usize, nodes: [(f32, u32); 4], w: [f32; 4]| OffPair {
        idx: idx as u32,
        nbr: nodes.map(|(_, n)| n),
        w: [0, 1, 2, 3].map(|n| nodes[n].0 * w[n]),
    };
    // (the Ex and Ey maps of a plane, its OffPlane)
    type Key = (Option<usize>, Option<usize>);
    let mut cache: Vec<(Key, usize)> = Vec::new();
    for (k, slot) in index.iter_mut().enumerate() {
        let key = (eps.off[0][k], eps.off[1][k]);
        if key == (None, None) {
            continue;
        }
        if let Some(&(_, p)) = cache.iter().find(|(c, _)| *c == key) {
            *slot = Some(p);
            continue;
        }
        let zero = vec![0f32; nx * ny];
        let a = key.0.map_or(&zero, |m| &eps.off_maps[m]);
        let b = key.1.map_or(&zero, |m| &eps.off_maps[m]);
        // ε⁻¹_xy at Ex (i, j), i in -1..nx, j in 0..=ny
        let a_at = |i: isize, j: usize| -> f32 {
            let (mut s, mut i, mut j) = (1.0, i, j);
            if i < 0 {
                s *= sxl;
                i = wxl as isize;
            }
            if j == ny {
                s *= syh;
                j = wyh;
            }
            s * a[j * nx + i as usize]
        };
        // ε⁻¹_yx at Ey (i, j), i in 0..=nx, j in -1..ny
        let b_at = |i: usize, j: isize| -> f32 {
            let (mut s, mut i, mut j) = (1.0, i, j);
            if i == nx {
                s *= sxh;
                i = wxh;
            }
            if j < 0 {
                s *= syl;
                j = wyl as isize;
            }
            s * b[j as usize * nx + i]
        };
        // a PEC voxel (ε⁻¹ = 0: the opaque screen) couples to nothing
        let diag = |comp: usize, i: usize, j: usize| match eps.planes[comp][k] {
            PlaneEps::Uniform(v) => v,
            PlaneEps::Map(m) => eps.maps[m][j * nx + i],
        };
        let mut p = OffPlane::default();
        for j in 0..ny {
            for i in 0..nx {
                let (ii, jj) = (i as isize, j as isize);
                let ax_ = a[j * nx + i];
                let w = [
                    b_at(i, jj - 1),
                    b_at(i + 1, jj - 1),
                    b_at(i, jj),
                    b_at(i + 1, jj),
                ]
                .map(|bv| 0.125 * (ax_ + bv));
                let ey_pec = [
                    (i, j.wrapping_sub(1)),
                    (i + 1, j.wrapping_sub(1)),
                    (i, j),
                    (i + 1, j),
                ]
                .map(|(u, v)| u < nx && v < ny && diag(1, u, v) == 0.0);
                let w = if diag(0, i, j) == 0.0 {
                    [0.0; 4]
                } else {
                    [0, 1, 2, 3].map(|n| if ey_pec[n] { 0.0 } else { w[n] })
                };
                let nodes = [
                    ey_node(i, jj - 1),
                    ey_node(i + 1, jj - 1),
                    ey_node(i, jj),
                    ey_node(i + 1, jj),
                ];
                let q = pair(j * nx + i, nodes, w);
                if q.w.iter().any(|&v| v != 0.0) {
                    p.ex.push(q);
                }
                let by_ = b[j * nx + i];
                let w = [
                    a_at(ii - 1, j),
                    a_at(ii, j),
                    a_at(ii - 1, j + 1),
                    a_at(ii, j + 1),
                ]
                .map(|av| 0.125 * (by_ + av));
                let ex_pec = [
                    (i.wrapping_sub(1), j),
                    (i, j),
                    (i.wrapping_sub(1), j + 1),
                    (i, j + 1),
                ]
                .map(|(u, v)| u < nx && v < ny && diag(0, u, v) == 0.0);
                let w = if diag(1, i, j) == 0.0 {
                    [0.0; 4]
                } else {
                    [0, 1, 2, 3].map(|n| if ex_pec[n] { 0.0 } else { w[n] })
                };
                let nodes = [
                    ex_node(ii - 1, j),
                    ex_node(ii, j),
                    ex_node(ii - 1, j + 1),
                    ex_node(ii, j + 1),
                ];
                let q = pair(j * nx + i, nodes, w);
                if q.w.iter().any(|&v| v != 0.0) {
                    p.ey.push(q);
                }
            }
        }
        planes.push(p);
        cache.push((key, planes.len() - 1));
        *slot = Some(planes.len() - 1);
    }
    (index, planes)
}

#[inline(always)]
fn row(a: &[f32], nx: usize, ny: usize, j: usize, k: usize) -> &[f32] {
    let o = (k * ny + j) * nx;
    &a[o..o + nx]
}

fn inv_at(eps: &Permittivity, comp: usize, nx: usize, i: usize, j: usize, k: usize) -> f32 {
    match eps.planes[comp][k] {
        PlaneEps::Uniform(v) => v,
        PlaneEps::Map(m) => eps.maps[m][j * nx + i],
    }
}

#[derive(Clone, Copy)]
struct GridView {
    nx: usize,
    ny: usize,
    nz: usize,
    ax: [Axis; 3],
}

/// Difference used by a correction: forward (E → H, target at half positions along the axis)
/// or backward (H → E, target at integer positions, scaled by the component's ε⁻¹).
#[derive(Clone, Copy)]
enum Deriv<'a> {
    /// An H target, with its μ⁻¹ plane by plane (empty: μ = 1).
    Forward(&'a [f32]),
    Backward(&'a Permittivity, usize),
}

/// ε⁻¹ of one row of an E component: uniform or a map row.
enum InvRow<'a> {
    Uniform(f32),
    Map(&'a [f32]),
}

#[inline(always)]
fn apply(e: &mut [f32], inv: InvRow<'_>, c: f32, curl: impl Fn(usize) -> f32) {
    match inv {
        InvRow::Uniform(v) => {
            let cv = c * v;
            for (i, ei) in e.iter_mut().enumerate() {
                *ei += cv * curl(i);
            }
        }
        InvRow::Map(m) => {
            let m = &m[..e.len()];
            for (i, ei) in e.iter_mut().enumerate() {
                *ei += c * m[i] * curl(i);
            }
        }
    }
}

/// [`apply`] for a row whose first curl value (the one reaching across the low x boundary)
/// is given apart, `rest(i)` being the curl at i + 1: no branch in the loop.
#[inline(always)]
fn apply_after_first(
    e: &mut [f32],
    inv: InvRow<'_>,
    c: f32,
    first: f32,
    rest: impl Fn(usize) -> f32,
) {
    let (e0, e1) = e
        .split_first_mut()
        .expect("a grid row has at least one node");
    match inv {
        InvRow::Uniform(v) => {
            *e0 += c * v * first;
            apply(e1, InvRow::Uniform(v), c, rest);
        }
        InvRow::Map(m) => {
            *e0 += c * m[0] * first;
            apply(e1, InvRow::Map(&m[1..]), c, rest);
        }
    }
}

/// The scale of a CPML correction along row (j, k): c for an H target; for an E target c ε⁻¹,
/// as (c ε⁻¹ when uniform on the plane, else c with the row of the map).
#[inline(always)]
fn row_scale<'a>(d: Deriv<'a>, c: f32, k: usize, j: usize, nx: usize) -> (f32, Option<&'a [f32]>) {
    match d {
        Deriv::Forward(mu) => (mu.get(k).map_or(c, |m| c * m), None),
        Deriv::Backward(eps, comp) => match eps.planes[comp][k] {
            PlaneEps::Uniform(v) => (c * v, None),
            PlaneEps::Map(m) => (c, Some(&eps.maps[m][j * nx..(j + 1) * nx])),
        },
    }
}

/// One ψ update and field correction: returns the increment to add.
#[inline(always)]
fn cpml(coef: Option<(f32, f32, f32)>, psi: &mut f32, d: f32) -> f32 {
    match coef {
        Some((b, a, kinv)) => {
            *psi = b * *psi + a * d;
            kinv * d + *psi
        }
        None => 0.0,
    }
}

#[allow(clippy::too_many_arguments)]
fn correct_z(
    g: &GridView,
    p: &Profile,
    half: bool,
    target: &mut [f32],
    src: &[f32],
    psi: &mut [f32],
    c: f32,
    d: Deriv<'_>,
) {
    let (nx, ny, nz) = (g.nx, g.ny, g.nz);
    let plane = nx * ny;
    let coefs = if half { &p.half } else { &p.int };
    let zero_row = vec![0f32; nx];
    let zero = &zero_row[..];
    let ks: Vec<usize> = (0..nz).filter(|&k| p.slab[k] != usize::MAX).collect();
    // psi planes are in slab order; split target by plane
    let mut targets: Vec<(usize, &mut [f32])> = target
        .chunks_mut(plane)
        .enumerate()
        .filter(|(k, _)| p.slab[*k] != usize::MAX)
        .collect();
    let mut psis: Vec<&mut [f32]> = psi.chunks_mut(plane).collect();
    debug_assert_eq!(ks.len(), psis.len());
    targets
        .par_iter_mut()
        .zip(psis.par_iter_mut())
        .for_each(|((k, t), ps)| {
            let k = *k;
            let coef = coefs[k];
            if coef.is_none() {
                return;
            }
            let o = k * plane;
            for j in 0..ny {
                let r = j * nx;
                let (uni, inv) = row_scale(d, c, k, j, nx);
                // the row of the source at k and its neighbour along z (zero beyond the
                // PEC wall that ends the slab); ∂z is up − here (half) or here − down
                let here = &src[o + r..o + r + nx];
                let beyond = if half { k + 1 < nz } else { k > 0 };
                let other = match (beyond, half) {
                    (false, _) => zero,
                    (true, true) => &src[o + plane + r..o + plane + r + nx],
                    (true, false) => &src[o - plane + r..o - plane + r + nx],
                };
                let (lo, hi) = if half { (here, other) } else { (other, here) };
                let (t, ps) = (&mut t[r..r + nx], &mut ps[r..r + nx]);
                match inv {
                    Some(m) => {
                        for i in 0..nx {
                            t[i] += c * m[i] * cpml(coef, &mut ps[i], hi[i] - lo[i]);
                        }
                    }
                    None => {
                        for i in 0..nx {
                            t[i] += uni * cpml(coef, &mut ps[i], hi[i] - lo[i]);
                        }
                    }
                }
            }
        });
}

#[allow(clippy::too_many_arguments)]
fn correct_x(
    g: &GridView,
    p: &Profile,
    half: bool,
    target: &mut [f32],
    src: &[f32],
    psi: &mut [f32],
    c: f32,
    d: Deriv<'_>,
) {
    let (nx, ny) = (g.nx, g.ny);
    let plane = nx * ny;
    let ns = p.n_slab;
    let (sm, wm) = g.ax[0].minus_neighbour();
    let (sp, wp) = g.ax[0].plus_neighbour();
    let coefs = if half { &p.half } else { &p.int };
    // the runs of consecutive x indices inside a slab with a coefficient (their ψ indices are
    // consecutive too): (first i, length, first ψ index); the coefficients as plain rows
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for i in (0..nx).filter(|&i| p.slab[i] != usize::MAX && coefs[i].is_some()) {
        match runs.last_mut() {
            Some((i0, n, s0)) if *i0 + *n == i && *s0 + *n == p.slab[i] => *n += 1,
            _ => runs.push((i, 1, p.slab[i])),
        }
    }
    let coef_row = |f: fn((f32, f32, f32)) -> f32| -> Vec<f32> {
        coefs.iter().map(|c| c.map_or(0.0, f)).collect()
    };
    let (cb, ca, ck) = (coef_row(|c| c.0), coef_row(|c| c.1), coef_row(|c| c.2));
    target
        .par_chunks_mut(plane)
        .zip(psi.par_chunks_mut(ny * ns))
        .enumerate()
        .for_each(|(k, (t, ps))| {
            for j in 0..ny {
                let row = &src[k * plane + j * nx..k * plane + (j + 1) * nx];
                let (uni, inv) = row_scale(d, c, k, j, nx);
                let (t, ps) = (&mut t[j * nx..(j + 1) * nx], &mut ps[j * ns..(j + 1) * ns]);
                for &(i0, n, s0) in &runs {
                    // ∂x = row[i+1] − row[i] (half) or row[i] − row[i−1]; the node whose
                    // neighbour is the boundary image is done apart, the rest as slices
                    let (lo_i, hi_i) = if half {
                        (i0, (i0 + n).min(nx - 1))
                    } else {
                        (i0.max(1), i0 + n)
                    };
                    if lo_i < hi_i {
                        let (fwd, here) = if half {
                            (&row[lo_i + 1..hi_i + 1], &row[lo_i..hi_i])
                        } else {
                            (&row[lo_i..hi_i], &row[lo_i - 1..hi_i - 1])
                        };
                        cpml_run(
                            &mut t[lo_i..hi_i],
                            &mut ps[s0 + lo_i - i0..s0 + hi_i - i0],
                            fwd,
                            here,
                            [&cb[lo_i..hi_i], &ca[lo_i..hi_i], &ck[lo_i..hi_i]],
                            inv.map(|m| &m[lo_i..hi_i]),
                            uni,
                            c,
                        );
                    }
                    let edge = if half {
                        (i0 + n == nx).then(|| (nx - 1, sp * row[wp] - row[nx - 1]))
                    } else {
                        (i0 == 0).then(|| (0, row[0] - sm * row[wm]))
                    };
                    if let Some((i, dv)) = edge {
                        let inc = cpml(coefs[i], &mut ps[s0 + i - i0], dv);
                        t[i] += inv.map_or(uni, |m| c * m[i]) * inc;
                    }
                }
            }
        });
}

/// The CPML correction along a run of nodes with per-node coefficients [b, a, 1/κ − 1]:
/// ψ ← b ψ + a (hi − lo), t += scale (ψ + (1/κ − 1)(hi − lo)), scale = c ε⁻¹ from the map row
/// or the uniform `uni`. All slices have the run's length. (Index loops: the ψ update is a
/// closure over six slices of one index, re-sliced to n so the bounds checks go.)
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
fn cpml_run(
    t: &mut [f32],
    ps: &mut [f32],
    hi: &[f32],
    lo: &[f32],
    [b, a, kinv]: [&[f32]; 3],
    inv: Option<&[f32]>,
    uni: f32,
    c: f32,
) {
    let n = t.len();
    let (ps, hi, lo, b, a, kinv) = (
        &mut ps[..n],
        &hi[..n],
        &lo[..n],
        &b[..n],
        &a[..n],
        &kinv[..n],
    );
    let mut inc = |i: usize| {
        let dv = hi[i] - lo[i];
        ps[i] = b[i] * ps[i] + a[i] * dv;
        kinv[i] * dv + ps[i]
    };
    match inv {
        Some(m) => {
            let m = &m[..n];
            for i in 0..n {
                t[i] += c * m[i] * inc(i);
            }
        }
        None => {
            for i in 0..n {
                t[i] += uni * inc(i);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn correct_y(
    g: &GridView,
    p: &Profile,
    half: bool,
    target: &mut [f32],
    src: &[f32],
    psi: &mut [f32],
    c: f32,
    d: Deriv<'_>,
) {
    let (nx, ny) = (g.nx, g.ny);
    let plane = nx * ny;
    let ns = p.n_slab;
    let (sm, wm) = g.ax[1].minus_neighbour();
    let (sp, wp) = g.ax[1].plus_neighbour();
    let coefs = if half { &p.half } else { &p.int };
    target
        .par_chunks_mut(plane)
        .zip(psi.par_chunks_mut(ns * nx))
        .enumerate()
        .for_each(|(k, (t, ps))| {
            let o = k * plane;
            for j in 0..ny {
                let s = p.slab[j];
                if s == usize::MAX || coefs[j].is_none() {
                    continue;
                }
                let coef = coefs[j];
                let r = o + j * nx;
                let (rn, sn) = if half {
                    if j + 1 < ny {
                        (o + (j + 1) * nx, 1.0)
                    } else {
                        (o + wp * nx, sp)
                    }
                } else if j > 0 {
                    (o + (j - 1) * nx, 1.0)
                } else {
                    (o + wm * nx, sm)
                };
                let (uni, inv) = row_scale(d, c, k, j, nx);
                let (here, next) = (&src[r..r + nx], &src[rn..rn + nx]);
                let (t, ps) = (&mut t[j * nx..(j + 1) * nx], &mut ps[s * nx..(s + 1) * nx]);
                let dv = |i: usize| {
                    if half {
                        sn * next[i] - here[i]
                    } else {
                        here[i] - sn * next[i]
                    }
                };
                match inv {
                    Some(m) => {
                        for i in 0..nx {
                            t[i] += c * m[i] * cpml(coef, &mut ps[i], dv(i));
                        }
                    }
                    None => {
                        for i in 0..nx {
                            t[i] += uni * cpml(coef, &mut ps[i], dv(i));
                        }
                    }
                }
            }
        });
}
