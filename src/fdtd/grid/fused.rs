//! The fused kernel ([`super::Kernel::Fused`]): one sweep over the z planes per time step.
//!
//! # Order
//! H of plane k (z = k + ½) reads E of planes k and k + 1; E of plane k reads H of planes k
//! and k − 1. Sweeping k upwards and updating H(k) and then E(k) therefore reads every value
//! at the time level the two-pass kernel reads it: E(k + 1) is still E^n when H(k) reads it,
//! and H(k − 1) is already H^{n+½} when E(k) reads it. Each value goes through the same
//! operations in the same order as in [`super::Kernel::Reference`] (main update, then the
//! off-diagonal ε⁻¹ terms, then the CPML corrections along z, x, y, then the PEC mirror), so
//! the two kernels agree bit for bit, on any number of threads (tests/fdtd_kernel.rs).
//!
//! The CPML corrections of a row follow its main update at once (the row is still in L1), and
//! the off-diagonal curls of a plane are taken while its H planes are in cache. Memory sees one
//! read and one write of each of the six components per cell and step (48 B/cell-update) plus
//! the ψ arrays in the slabs, where the two-pass kernel read the fields again for each CPML
//! axis and for the off-diagonal terms (validation/fullwave3d/roofline.md).
//!
//! # Threads
//! The planes are cut into contiguous chunks (four per thread, for balance on a shared
//! machine). A chunk's sweep would read E of the first plane of the next chunk, which that
//! chunk updates concurrently; so the last plane's H of every chunk but the last is updated
//! first, in a short parallel pass, and each chunk then sweeps its planes. A chunk writes only
//! its own planes (fields and ψ) and reads, outside them, only H of the plane below it, final
//! since the first pass.

use super::{
    apply, apply_after_first, cpml_run, Axis, Grid, InvRow, OffPlane, Permittivity, PlaneEps,
    Profile, Side,
};
use rayon::prelude::*;

/// A field (or ψ) array seen as planes, for handing disjoint planes to threads.
#[derive(Clone, Copy)]
struct Planes {
    ptr: *mut f32,
    len: usize,
    plane: usize,
}

// SAFETY: the sweep hands each plane to one thread for writing at a time (module docs);
// reads of a plane another thread writes never happen concurrently with that write.
unsafe impl Send for Planes {}
unsafe impl Sync for Planes {}

impl Planes {
    fn new(v: &mut [f32], plane: usize) -> Self {
        Planes {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            plane,
        }
    }
    /// Plane k to read. Safety: nobody writes it while the slice lives.
    #[inline(always)]
    unsafe fn at<'a>(&self, k: usize) -> &'a [f32] {
        assert!((k + 1) * self.plane <= self.len);
        std::slice::from_raw_parts(self.ptr.add(k * self.plane), self.plane)
    }
    /// Plane k to write. Safety: no other slice of it lives while this one does.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn at_mut<'a>(&self, k: usize) -> &'a mut [f32] {
        assert!((k + 1) * self.plane <= self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(k * self.plane), self.plane)
    }
}

/// The CPML along x of one row, for one kind of target (H: half positions, E: integer ones):
/// the runs of consecutive slab nodes (first i, length, first ψ index) and the coefficients
/// b, a, 1/κ − 1 as rows (0 outside the slabs).
#[derive(Clone, Debug, Default)]
pub(super) struct XRuns {
    runs: Vec<(usize, usize, usize)>,
    b: Vec<f32>,
    a: Vec<f32>,
    kinv: Vec<f32>,
}

impl XRuns {
    pub(super) fn new(p: &Profile, half: bool, nx: usize) -> Self {
        let coefs = if half { &p.half } else { &p.int };
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for i in (0..nx).filter(|&i| p.slab[i] != usize::MAX && coefs[i].is_some()) {
            match runs.last_mut() {
                Some((i0, n, s0)) if *i0 + *n == i && *s0 + *n == p.slab[i] => *n += 1,
                _ => runs.push((i, 1, p.slab[i])),
            }
        }
        let row = |f: fn((f32, f32, f32)) -> f32| coefs.iter().map(|c| c.map_or(0.0, f)).collect();
        XRuns {
            runs,
            b: row(|c| c.0),
            a: row(|c| c.1),
            kinv: row(|c| c.2),
        }
    }
}

/// The scale of a correction on one row: c (μ⁻¹ or ε⁻¹ uniform on the plane folded in), or c
/// and the row of an ε⁻¹ map.
#[derive(Clone, Copy)]
enum Scale<'a> {
    Uniform(f32),
    Map(f32, &'a [f32]),
}

/// ψ ← b ψ + a (hi − lo), t += scale (1/κ − 1)(hi − lo) + ψ along a row with one coefficient
/// (a z slab), as [`super::cpml`] does it.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn cpml_row(
    t: &mut [f32],
    ps: &mut [f32],
    hi: &[f32],
    lo: &[f32],
    (b, a, kinv): (f32, f32, f32),
    s: Scale<'_>,
) {
    let n = t.len();
    let (ps, hi, lo) = (&mut ps[..n], &hi[..n], &lo[..n]);
    match s {
        Scale::Uniform(u) => {
            for i in 0..n {
                let d = hi[i] - lo[i];
                ps[i] = b * ps[i] + a * d;
                t[i] += u * (kinv * d + ps[i]);
            }
        }
        Scale::Map(c, m) => {
            let m = &m[..n];
            for i in 0..n {
                let d = hi[i] - lo[i];
                ps[i] = b * ps[i] + a * d;
                t[i] += c * m[i] * (kinv * d + ps[i]);
            }
        }
    }
}

/// What the sweep reads and never writes.
struct View<'a> {
    nx: usize,
    ny: usize,
    ax: [Axis; 3],
    eps: &'a Permittivity,
    prof: &'a [Profile; 3],
    zero_row: &'a [f32],
    off_index: &'a [Option<usize>],
    off_planes: &'a [OffPlane],
}

/// The sweep's access to the grid: the read-only part, and the fields and ψ as planes.
struct Ctx<'a> {
    g: View<'a>,
    nx: usize,
    ny: usize,
    nz: usize,
    c: f32,
    ex: Planes,
    ey: Planes,
    ez: Planes,
    hx: Planes,
    hy: Planes,
    hz: Planes,
    /// ψ per axis: [h1, h2, e1, e2]; z by slab plane, x and y by grid plane.
    psi: [[Planes; 4]; 3],
    /// Whether this CPU runs the AVX2 build of the plane updates.
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

impl<'a> Ctx<'a> {
    fn new(g: &'a mut Grid) -> (Self, &'a [XRuns; 2], &'a mut [Scratch]) {
        let (nx, ny, nz) = (g.nx, g.ny, g.nz);
        let plane = nx * ny;
        let c = (g.dt / g.dx) as f32;
        // disjoint borrows of the grid's parts: the fields and ψ become raw planes, the
        // rest is read-only, the scratch planes go to the chunks
        let Grid {
            f,
            psi,
            eps,
            prof,
            ax,
            zero_row,
            off_index,
            off_planes,
            xruns,
            scratch,
            ..
        } = g;
        let (ex, ey, ez, hx, hy, hz) = (
            Planes::new(&mut f.ex, plane),
            Planes::new(&mut f.ey, plane),
            Planes::new(&mut f.ez, plane),
            Planes::new(&mut f.hx, plane),
            Planes::new(&mut f.hy, plane),
            Planes::new(&mut f.hz, plane),
        );
        let per = [ny * prof[0].n_slab, nx * prof[1].n_slab, plane];
        let psi = [0, 1, 2].map(|a| {
            let p = &mut psi[a];
            [
                Planes::new(&mut p.h1, per[a]),
                Planes::new(&mut p.h2, per[a]),
                Planes::new(&mut p.e1, per[a]),
                Planes::new(&mut p.e2, per[a]),
            ]
        });
        let view = View {
            nx,
            ny,
            ax: *ax,
            eps,
            prof,
            zero_row,
            off_index,
            off_planes,
        };
        let ctx = Ctx {
            g: view,
            nx,
            ny,
            nz,
            c,
            ex,
            ey,
            ez,
            hx,
            hy,
            hz,
            psi,
            #[cfg(target_arch = "x86_64")]
            avx2: std::arch::is_x86_feature_detected!("avx2"),
        };
        (ctx, xruns, scratch)
    }

    /// H^{n−½} → H^{n+½} on plane k, CPML included. Safety: the caller owns H(k) and its ψ,
    /// and nobody writes E(k), E(k + 1) meanwhile.
    unsafe fn h_plane(&self, k: usize, xr: &XRuns) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            return self.h_plane_avx2(k, xr);
        }
        self.h_plane_body(k, xr)
    }

    /// [`Self::h_plane`] compiled for AVX2 (8 f32 per instruction instead of SSE's 4; no FMA,
    /// so every product and sum is rounded as in the portable build).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn h_plane_avx2(&self, k: usize, xr: &XRuns) {
        self.h_plane_body(k, xr)
    }

    /// [`Self::e_plane`] compiled for AVX2 (as [`Self::h_plane_avx2`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn e_plane_avx2(&self, k: usize, xr: &XRuns, scratch: &mut Scratch) {
        self.e_plane_body(k, xr, scratch)
    }

    /// E^n → E^{n+1} on plane k: main update, off-diagonal terms, CPML, PEC mirrors. Safety:
    /// the caller owns E(k) and its ψ, and nobody writes H(k), H(k − 1) meanwhile.
    unsafe fn e_plane(&self, k: usize, xr: &XRuns, scratch: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            return self.e_plane_avx2(k, xr, scratch);
        }
        self.e_plane_body(k, xr, scratch)
    }

    #[inline(always)]
    unsafe fn h_plane_body(&self, k: usize, xr: &XRuns) {
        let (nx, ny, nz) = (self.nx, self.ny, self.nz);
        let g = &self.g;
        let c = self.c;
        let (sx, wx) = g.ax[0].plus_neighbour();
        let (sy, wy) = g.ax[1].plus_neighbour();
        let (hxp, hyp, hzp) = (self.hx.at_mut(k), self.hy.at_mut(k), self.hz.at_mut(k));
        let (ex, ey, ez) = (self.ex.at(k), self.ey.at(k), self.ez.at(k));
        let up = (k + 1 < nz).then(|| (self.ex.at(k + 1), self.ey.at(k + 1)));
        let zero = g.zero_row;
        let mu = [0, 1, 2].map(|a| g.eps.inv_mu(a, k));
        let [cx_, cy_, cz_] = mu.map(|m| c * m);
        // CPML z on this plane: (coefficients, ψ of Hx, ψ of Hy)
        let pz = &g.prof[2];
        let mut zc = (pz.slab[k] != usize::MAX)
            .then(|| pz.half[k])
            .flatten()
            .map(|co| {
                let s = pz.slab[k];
                (co, self.psi[2][0].at_mut(s), self.psi[2][1].at_mut(s))
            });
        let px = &g.prof[0];
        let (psx1, psx2) = if px.n_slab > 0 {
            (self.psi[0][0].at_mut(k), self.psi[0][1].at_mut(k))
        } else {
            (&mut [][..], &mut [][..])
        };
        let py = &g.prof[1];
        let (psy1, psy2) = if py.n_slab > 0 {
            (self.psi[1][0].at_mut(k), self.psi[1][1].at_mut(k))
        } else {
            (&mut [][..], &mut [][..])
        };
        let (spy, wpy) = g.ax[1].plus_neighbour();
        // the scale of each correction: c μ⁻¹ (μ⁻¹ = 1 unless set on the plane)
        let fwd = |comp: usize, c: f32| g.eps.inv_mu[comp].get(k).map_or(c, |m| c * m);
        for j in 0..ny {
            let r = j * nx;
            let (jp, syj) = if j + 1 < ny { (j + 1, 1.0) } else { (wy, sy) };
            let ex0 = &ex[r..r + nx];
            let ey0 = &ey[r..r + nx];
            let ez0 = &ez[r..r + nx];
            let ex_jp = &ex[jp * nx..(jp + 1) * nx];
            let ez_jp = &ez[jp * nx..(jp + 1) * nx];
            let (ex_kp, ey_kp) = match up {
                Some((a, b)) => (&a[r..r + nx], &b[r..r + nx]),
                None => (zero, zero),
            };
            let hx = &mut hxp[r..r + nx];
            let hy = &mut hyp[r..r + nx];
            let hz = &mut hzp[r..r + nx];
            for i in 0..nx {
                // ∂y Ez − ∂z Ey
                let cx = (syj * ez_jp[i] - ez0[i]) - (ey_kp[i] - ey0[i]);
                hx[i] -= cx_ * cx;
            }
            // ∂z Ex − ∂x Ez and ∂x Ey − ∂y Ex, the last node (boundary image) apart
            {
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
            // CPML z: Hx += c ∂z Ey, Hy −= c ∂z Ex
            if let Some((co, ps1, ps2)) = zc.as_mut() {
                cpml_row(
                    hx,
                    &mut ps1[r..r + nx],
                    ey_kp,
                    ey0,
                    *co,
                    Scale::Uniform(fwd(0, c)),
                );
                cpml_row(
                    hy,
                    &mut ps2[r..r + nx],
                    ex_kp,
                    ex0,
                    *co,
                    Scale::Uniform(fwd(1, -c)),
                );
            }
            // CPML x: Hy += c ∂x Ez, Hz −= c ∂x Ey
            if px.n_slab > 0 {
                let ns = px.n_slab;
                let (ps1, ps2) = (
                    &mut psx1[j * ns..(j + 1) * ns],
                    &mut psx2[j * ns..(j + 1) * ns],
                );
                x_row(g, px, xr, true, hy, ez0, ps1, Scale::Uniform(fwd(1, c)));
                x_row(g, px, xr, true, hz, ey0, ps2, Scale::Uniform(fwd(2, -c)));
            }
            // CPML y: Hx −= c ∂y Ez, Hz += c ∂y Ex
            let s = py.slab[j];
            if s != usize::MAX {
                if let Some(co) = py.half[j] {
                    let (rn, sn) = if j + 1 < ny { (j + 1, 1.0) } else { (wpy, spy) };
                    let (ps1, ps2) = (
                        &mut psy1[s * nx..(s + 1) * nx],
                        &mut psy2[s * nx..(s + 1) * nx],
                    );
                    y_row::<true>(
                        hx,
                        ps1,
                        ez0,
                        &ez[rn * nx..(rn + 1) * nx],
                        sn,
                        co,
                        Scale::Uniform(fwd(0, -c)),
                    );
                    y_row::<true>(
                        hz,
                        ps2,
                        ex0,
                        &ex[rn * nx..(rn + 1) * nx],
                        sn,
                        co,
                        Scale::Uniform(fwd(2, c)),
                    );
                }
            }
        }
    }

    #[inline(always)]
    unsafe fn e_plane_body(&self, k: usize, xr: &XRuns, scratch: &mut Scratch) {
        let (nx, ny) = (self.nx, self.ny);
        let g = &self.g;
        let c = self.c;
        let (sx, wx) = g.ax[0].minus_neighbour();
        let (sy, wy) = g.ax[1].minus_neighbour();
        let pec_x = g.ax[0].lo == Side::Pec;
        let pec_y = g.ax[1].lo == Side::Pec;
        let (exp, eyp, ezp) = (self.ex.at_mut(k), self.ey.at_mut(k), self.ez.at_mut(k));
        let (hx, hy, hz) = (self.hx.at(k), self.hy.at(k), self.hz.at(k));
        let down = (k > 0).then(|| (self.hx.at(k - 1), self.hy.at(k - 1)));
        let zero = g.zero_row;
        let eps = &g.eps;
        let inv = |comp: usize, j: usize| -> InvRow<'_> {
            match eps.planes[comp][k] {
                PlaneEps::Uniform(v) => InvRow::Uniform(v),
                PlaneEps::Map(m) => InvRow::Map(&eps.maps[m][j * nx..(j + 1) * nx]),
            }
        };
        // c ε⁻¹ of a correction on row j of component comp (c signed)
        let bwd = |comp: usize, c: f32, j: usize| -> Scale<'_> {
            match eps.planes[comp][k] {
                PlaneEps::Uniform(v) => Scale::Uniform(c * v),
                PlaneEps::Map(m) => Scale::Map(c, &eps.maps[m][j * nx..(j + 1) * nx]),
            }
        };
        // the off-diagonal pairs of this plane and their curls
        let off: Option<&OffPlane> = g.off_index[k].map(|p| &g.off_planes[p]);
        if off.is_some() {
            scratch.curls(g, hx, hy, hz, down);
        }
        let (mut qx, mut qy) = (0usize, 0usize);
        let pz = &g.prof[2];
        let mut zc = (pz.slab[k] != usize::MAX)
            .then(|| pz.int[k])
            .flatten()
            .map(|co| {
                let s = pz.slab[k];
                (co, self.psi[2][2].at_mut(s), self.psi[2][3].at_mut(s))
            });
        let px = &g.prof[0];
        let (psx1, psx2) = if px.n_slab > 0 {
            (self.psi[0][2].at_mut(k), self.psi[0][3].at_mut(k))
        } else {
            (&mut [][..], &mut [][..])
        };
        let py = &g.prof[1];
        let (psy1, psy2) = if py.n_slab > 0 {
            (self.psi[1][2].at_mut(k), self.psi[1][3].at_mut(k))
        } else {
            (&mut [][..], &mut [][..])
        };
        let (smy, wmy) = g.ax[1].minus_neighbour();
        for j in 0..ny {
            let r = j * nx;
            let (jm, syj) = if j > 0 { (j - 1, 1.0) } else { (wy, sy) };
            let hx0 = &hx[r..r + nx];
            let hy0 = &hy[r..r + nx];
            let hz0 = &hz[r..r + nx];
            let hx_jm = &hx[jm * nx..(jm + 1) * nx];
            let hz_jm = &hz[jm * nx..(jm + 1) * nx];
            let (hx_km, hy_km) = match down {
                Some((a, b)) => (&a[r..r + nx], &b[r..r + nx]),
                None => (zero, zero),
            };
            let ex = &mut exp[r..r + nx];
            let ey = &mut eyp[r..r + nx];
            let ez = &mut ezp[r..r + nx];
            {
                // Ex: ∂y Hz − ∂z Hy
                let curl = |i: usize| (hz0[i] - syj * hz_jm[i]) - (hy0[i] - hy_km[i]);
                if pec_y && j == 0 {
                    ex.fill(0.0);
                } else {
                    apply(ex, inv(0, j), c, curl);
                }
            }
            {
                // Ey: ∂z Hx − ∂x Hz
                let first = (hx0[0] - hx_km[0]) - (hz0[0] - sx * hz0[wx]);
                let (hx1, hxk1, hz1, hzm) = (&hx0[1..], &hx_km[1..nx], &hz0[1..], &hz0[..nx - 1]);
                let rest = |i: usize| (hx1[i] - hxk1[i]) - (hz1[i] - hzm[i]);
                apply_after_first(ey, inv(1, j), c, first, rest);
                if pec_x {
                    ey[0] = 0.0;
                }
            }
            {
                // Ez: ∂x Hy − ∂y Hx
                let first = (hy0[0] - sx * hy0[wx]) - (hx0[0] - syj * hx_jm[0]);
                let (hy1, hym, hx1, hxj1) = (&hy0[1..], &hy0[..nx - 1], &hx0[1..], &hx_jm[1..nx]);
                let rest = |i: usize| (hy1[i] - hym[i]) - (hx1[i] - syj * hxj1[i]);
                if pec_y && j == 0 {
                    ez.fill(0.0);
                } else {
                    apply_after_first(ez, inv(2, j), c, first, rest);
                    if pec_x {
                        ez[0] = 0.0;
                    }
                }
            }
            // the off-diagonal terms of this row's nodes (pairs sorted by node)
            if let Some(p) = off {
                let (cx, cy) = (&scratch.x[..], &scratch.y[..]);
                let gather = |q: &super::OffPair, from: &[f32]| -> f32 {
                    let n = q.nbr.map(|n| from[n as usize]);
                    q.w[0] * n[0] + q.w[1] * n[1] + q.w[2] * n[2] + q.w[3] * n[3]
                };
                let end = (r + nx) as u32;
                while qx < p.ex.len() && p.ex[qx].idx < end {
                    let q = &p.ex[qx];
                    ex[q.idx as usize - r] += c * gather(q, cy);
                    qx += 1;
                }
                while qy < p.ey.len() && p.ey[qy].idx < end {
                    let q = &p.ey[qy];
                    ey[q.idx as usize - r] += c * gather(q, cx);
                    qy += 1;
                }
            }
            // CPML z: Ex −= c ε⁻¹ ∂z Hy, Ey += c ε⁻¹ ∂z Hx
            if let Some((co, ps1, ps2)) = zc.as_mut() {
                cpml_row(ex, &mut ps1[r..r + nx], hy0, hy_km, *co, bwd(0, -c, j));
                cpml_row(ey, &mut ps2[r..r + nx], hx0, hx_km, *co, bwd(1, c, j));
            }
            // CPML x: Ey −= c ε⁻¹ ∂x Hz, Ez += c ε⁻¹ ∂x Hy
            if px.n_slab > 0 {
                let ns = px.n_slab;
                let (ps1, ps2) = (
                    &mut psx1[j * ns..(j + 1) * ns],
                    &mut psx2[j * ns..(j + 1) * ns],
                );
                x_row(g, px, xr, false, ey, hz0, ps1, bwd(1, -c, j));
                x_row(g, px, xr, false, ez, hy0, ps2, bwd(2, c, j));
            }
            // CPML y: Ex += c ε⁻¹ ∂y Hz, Ez −= c ε⁻¹ ∂y Hx
            let s = py.slab[j];
            if s != usize::MAX {
                if let Some(co) = py.int[j] {
                    let (rn, sn) = if j > 0 { (j - 1, 1.0) } else { (wmy, smy) };
                    let (ps1, ps2) = (
                        &mut psy1[s * nx..(s + 1) * nx],
                        &mut psy2[s * nx..(s + 1) * nx],
                    );
                    y_row::<false>(
                        ex,
                        ps1,
                        hz0,
                        &hz[rn * nx..(rn + 1) * nx],
                        sn,
                        co,
                        bwd(0, c, j),
                    );
                    y_row::<false>(
                        ez,
                        ps2,
                        hx0,
                        &hx[rn * nx..(rn + 1) * nx],
                        sn,
                        co,
                        bwd(2, -c, j),
                    );
                }
            }
            // PEC mirrors: tangential E stays zero (the corrections may have touched it)
            if pec_x {
                ey[0] = 0.0;
                ez[0] = 0.0;
            }
            if pec_y && j == 0 {
                ex.fill(0.0);
                ez.fill(0.0);
            }
        }
    }
}

/// The CPML along x on one row: target t (a row), the source row, ψ of the row (slab-local).
/// As [`super::correct_x`] for one row.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn x_row(
    g: &View<'_>,
    p: &Profile,
    xr: &XRuns,
    half: bool,
    t: &mut [f32],
    row: &[f32],
    ps: &mut [f32],
    s: Scale<'_>,
) {
    let nx = g.nx;
    let (sm, wm) = g.ax[0].minus_neighbour();
    let (sp, wp) = g.ax[0].plus_neighbour();
    let coefs = if half { &p.half } else { &p.int };
    let (uni, inv, c) = match s {
        Scale::Uniform(u) => (u, None, 0.0),
        Scale::Map(c, m) => (0.0, Some(m), c),
    };
    for &(i0, n, s0) in &xr.runs {
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
                [&xr.b[lo_i..hi_i], &xr.a[lo_i..hi_i], &xr.kinv[lo_i..hi_i]],
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
            let inc = super::cpml(coefs[i], &mut ps[s0 + i - i0], dv);
            t[i] += inv.map_or(uni, |m| c * m[i]) * inc;
        }
    }
}

/// The CPML along y on one row of a slab: ∂y = sn·next − here (H, `HALF`) or here − sn·next
/// (E). Written out without a closure: as one, it was not inlined into the AVX2 build.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
fn y_row<const HALF: bool>(
    t: &mut [f32],
    ps: &mut [f32],
    here: &[f32],
    next: &[f32],
    sn: f32,
    (b, a, kinv): (f32, f32, f32),
    s: Scale<'_>,
) {
    let n = t.len();
    let (ps, here, next) = (&mut ps[..n], &here[..n], &next[..n]);
    match s {
        Scale::Uniform(u) => {
            for i in 0..n {
                let d = if HALF {
                    sn * next[i] - here[i]
                } else {
                    here[i] - sn * next[i]
                };
                ps[i] = b * ps[i] + a * d;
                t[i] += u * (kinv * d + ps[i]);
            }
        }
        Scale::Map(c, m) => {
            let m = &m[..n];
            for i in 0..n {
                let d = if HALF {
                    sn * next[i] - here[i]
                } else {
                    here[i] - sn * next[i]
                };
                ps[i] = b * ps[i] + a * d;
                t[i] += c * m[i] * (kinv * d + ps[i]);
            }
        }
    }
}

/// Two planes of curls (of H at the Ex and the Ey positions) for the off-diagonal terms, one
/// per chunk of planes that holds any.
#[derive(Clone, Debug, Default)]
pub(super) struct Scratch {
    x: Vec<f32>,
    y: Vec<f32>,
}

impl Scratch {
    /// (curl H)_x at Ex and (curl H)_y at Ey over plane k, as [`super::Grid::off_diagonal_e`]
    /// takes them.
    #[inline(always)]
    fn curls(
        &mut self,
        g: &View<'_>,
        hx: &[f32],
        hy: &[f32],
        hz: &[f32],
        down: Option<(&[f32], &[f32])>,
    ) {
        let (nx, ny) = (g.nx, g.ny);
        if self.x.len() != nx * ny {
            self.x = vec![0.0; nx * ny];
            self.y = vec![0.0; nx * ny];
        }
        let (smx, wmx) = g.ax[0].minus_neighbour();
        let (smy, wmy) = g.ax[1].minus_neighbour();
        let zero = g.zero_row;
        for j in 0..ny {
            let jm = if j > 0 { j - 1 } else { wmy };
            let sy = if j > 0 { 1.0 } else { smy };
            let r = j * nx;
            let hx0 = &hx[r..r + nx];
            let hy0 = &hy[r..r + nx];
            let hz0 = &hz[r..r + nx];
            let hz_jm = &hz[jm * nx..(jm + 1) * nx];
            let (hx_km, hy_km) = match down {
                Some((a, b)) => (&a[r..r + nx], &b[r..r + nx]),
                None => (zero, zero),
            };
            let cx = &mut self.x[r..r + nx];
            for i in 0..nx {
                cx[i] = (hz0[i] - sy * hz_jm[i]) - (hy0[i] - hy_km[i]);
            }
            let cy = &mut self.y[r..r + nx];
            cy[0] = (hx0[0] - hx_km[0]) - (hz0[0] - smx * hz0[wmx]);
            let (hx1, hxk1, hz1, hzm) = (&hx0[1..], &hx_km[1..nx], &hz0[1..], &hz0[..nx - 1]);
            for (i, v) in cy[1..].iter_mut().enumerate() {
                *v = (hx1[i] - hxk1[i]) - (hz1[i] - hzm[i]);
            }
        }
    }
}

/// The contiguous chunks of planes of a sweep on `threads` threads.
fn chunks(nz: usize, threads: usize) -> Vec<(usize, usize)> {
    let n = if threads <= 1 {
        1
    } else {
        (4 * threads).min(nz / 4).max(1)
    };
    (0..n).map(|t| (t * nz / n, (t + 1) * nz / n)).collect()
}

/// Bytes of the off-diagonal scratch planes on `threads` threads: two planes for every chunk
/// that holds a plane with off-diagonal terms.
pub(super) fn scratch_bytes(g: &Grid, threads: usize) -> usize {
    let n = chunks(g.nz, threads)
        .iter()
        .filter(|&&(a, b)| (a..b).any(|k| g.off_index[k].is_some()))
        .count();
    n * 8 * g.nx * g.ny
}

/// One fused step (module docs).
pub(super) fn step(g: &mut Grid) {
    let bounds = chunks(g.nz, rayon::current_num_threads());
    let last = bounds.len() - 1;
    if g.scratch.len() != bounds.len() {
        g.scratch = vec![Scratch::default(); bounds.len()];
    }
    let (ctx, xruns, scratch) = Ctx::new(g);
    let [xh, xe] = xruns;
    // SAFETY (both passes): see the module docs; chunk t writes only planes [a, b) of the
    // fields and ψ (first pass: only H(b − 1)), and reads outside them H(a − 1), which only
    // the first pass writes, and (first pass) E(b), which nobody writes during it.
    bounds[..last]
        .par_iter()
        .for_each(|&(_, b)| unsafe { ctx.h_plane(b - 1, xh) });
    bounds
        .par_iter()
        .zip(scratch.par_iter_mut())
        .enumerate()
        .for_each(|(t, (&(a, b), sc))| {
            for k in a..b {
                if t == last || k + 1 < b {
                    unsafe { ctx.h_plane(k, xh) };
                }
                unsafe { ctx.e_plane(k, xe, sc) };
            }
        });
}
