#!/usr/bin/env python3
"""Time metalens and fmmax side by side on one core, interleaved, medians of three.

Usage (from the repository root, after `cargo build --release`):

    python3 -m venv /work/venv-fmmax && /work/venv-fmmax/bin/pip install fmmax
    taskset -c 0 /work/venv-fmmax/bin/python validation/rcwa/time_vs_fmmax.py \
        [--quick] [--reps 3] [--max-harmonics 800] > validation/rcwa/time_vs_fmmax.md

Both codes run pinned to CPU 0 (this process pins itself; metalens runs under `taskset -c 0`
with RAYON_NUM_THREADS=1; XLA's intra-op threads and every BLAS are pinned to one thread).
Per case and repetition metalens and fmmax run back to back (interleaved), so a background
load hits both alike; the table gives the median of the repetitions (one run at 800
harmonics unless --reps-800 says otherwise). fmmax: Jones-direct formulation, the
permittivity sampled on a grid (fmmax has no analytic shape transforms), float64, one warm-up
call first so that JAX's per-operation compilation is not timed; metalens: the wall time of
`metalens cell --cell CASE.toml --json` (process start included, ~5 ms) and its own split
(Fourier stage / eigensolve / S-matrix or block elimination).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["XLA_FLAGS"] = (
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
os.sched_setaffinity(0, {0})

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")
import jax.numpy as jnp  # noqa: E402
import numpy as onp  # noqa: E402
from fmmax import basis, fmm, scattering  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METALENS = os.environ.get("METALENS_BIN", os.path.join(ROOT, "target", "release", "metalens"))

# The issue-15 cell: p 0.35 µm, r 0.13 µm, n 2.9 on 1.45, h 0.75 µm, λ 0.633 µm, into air.
BASE = dict(wl=0.633, pitch=0.35, n_pillar=2.9, n_inc=1.45, n_exit=1.0, height=0.75)
CASES = [
    # (label, lattice, shape, theta°, phi°, harmonics list)
    ("normal incidence, disc (two-mirror sectors)", "square", ("circle", 0.13), 0, 0, [400, 800]),
    ("oblique θ 20°, φ 30°, disc (full basis)", "square", ("circle", 0.13), 20, 30, [200, 400, 800]),
    ("oblique θ 20°, φ 0°, disc (single-mirror sectors)", "square", ("circle", 0.13), 20, 0, [400]),
    ("elliptical pillar 0.15 × 0.08 µm at 30°, normal (full basis)", "square",
     ("ellipse", (0.15, 0.08), 30.0), 0, 0, [200, 400, 800]),
    ("rectangle 0.22 × 0.12 µm at 20°, normal (full basis)", "square",
     ("rectangle", (0.22, 0.12), 20.0), 0, 0, [400]),
    ("hex lattice, disc, oblique θ 20°, φ 30° (full basis)", "hex", ("circle", 0.13), 20, 30, [400]),
]


def lattice_vectors(kind, p):
    if kind == "square":
        return (p, 0.0), (0.0, p)
    return (p, 0.0), (0.5 * p, 0.5 * 3**0.5 * p)


def cell_toml(lattice, shape, theta, phi, harmonics):
    b = BASE
    if shape[0] == "circle":
        sh = f'kind = "circle"\nradius = {shape[1]}\n'
    elif shape[0] == "ellipse":
        sh = f'kind = "ellipse"\nsemi_axes = [{shape[1][0]}, {shape[1][1]}]\nangle_deg = {shape[2]}\n'
    else:
        sh = f'kind = "rectangle"\nsize = [{shape[1][0]}, {shape[1][1]}]\nangle_deg = {shape[2]}\n'
    return f"""wavelength = {b['wl']}
incidence_medium = "{b['n_inc']}"
exit_medium = "{b['n_exit']}"
theta_deg = {theta}
phi_deg = {phi}
polarization = "x"
harmonics = {harmonics}
[lattice]
kind = "{lattice}"
pitch = {b['pitch']}
[[layers]]
thickness = {b['height']}
background = "{b['n_exit']}"
[[layers.shapes]]
center = [0.0, 0.0]
material = "{b['n_pillar']}"
{sh}"""


def run_metalens(path):
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    t0 = time.perf_counter()
    out = subprocess.run(
        ["taskset", "-c", "0", METALENS, "cell", "--cell", path, "--json"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    wall = time.perf_counter() - t0
    d = json.loads(out)
    return wall, d


def fmmax_setup(lattice, shape, theta, phi, harmonics):
    b = BASE
    a1, a2 = lattice_vectors(lattice, b["pitch"])
    lat = basis.LatticeVectors(u=jnp.asarray(a1), v=jnp.asarray(a2))
    expansion = basis.generate_expansion(lat, approximate_num_terms=harmonics,
                                         truncation=basis.Truncation.CIRCULAR)
    # The smallest power-of-two grid with at least twice fmmax's minimum for the expansion
    # (64 at 400 harmonics): fmmax's Jones-direct tangent field costs a Newton step whose
    # Hessian is built on this grid, so a small grid is the choice most favourable to fmmax.
    nmin = max(basis.min_array_shape_for_expansion(expansion))
    grid = max(64, 1 << (2 * nmin - 1).bit_length())
    # sample the shape on the grid (fractional coordinates centred on the pillar)
    u = (onp.arange(grid) + 0.5) / grid - 0.5
    uu, vv = onp.meshgrid(u, u, indexing="ij")
    x = uu * a1[0] + vv * a2[0]
    y = uu * a1[1] + vv * a2[1]
    if shape[0] == "circle":
        inside = x**2 + y**2 <= shape[1] ** 2
    else:
        c, s = onp.cos(onp.radians(shape[2])), onp.sin(onp.radians(shape[2]))
        xr, yr = c * x + s * y, -s * x + c * y
        if shape[0] == "ellipse":
            inside = (xr / shape[1][0]) ** 2 + (yr / shape[1][1]) ** 2 <= 1.0
        else:
            inside = (abs(xr) <= shape[1][0] / 2) & (abs(yr) <= shape[1][1] / 2)
    eps_layer = jnp.asarray(onp.where(inside, b["n_pillar"] ** 2, b["n_exit"] ** 2) + 0j)
    eps_inc = jnp.full((1, 1), b["n_inc"] ** 2 + 0j)
    eps_exit = jnp.full((1, 1), b["n_exit"] ** 2 + 0j)
    kpar = basis.plane_wave_in_plane_wavevector(
        wavelength=jnp.asarray(b["wl"]), polar_angle=jnp.asarray(onp.radians(theta)),
        azimuthal_angle=jnp.asarray(onp.radians(phi)), permittivity=jnp.asarray(b["n_inc"] ** 2))

    def run():
        solves = [
            fmm.eigensolve_isotropic_media(
                wavelength=jnp.asarray(b["wl"]), in_plane_wavevector=kpar,
                primitive_lattice_vectors=lat, permittivity=p, expansion=expansion,
                formulation=fmm.Formulation.JONES_DIRECT)
            for p in (eps_inc, eps_layer, eps_exit)
        ]
        s = scattering.stack_s_matrix(
            solves, [jnp.asarray(0.0), jnp.asarray(b["height"]), jnp.asarray(0.0)])
        s.s21.block_until_ready()
        return s

    return run, expansion.num_terms, grid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--reps-800", type=int, default=1)
    ap.add_argument("--max-harmonics", type=int, default=800)
    ap.add_argument("--quick", action="store_true", help="only 200 and 400 harmonics, one rep")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.max_harmonics = 1, 400
    rows = []
    tmp = tempfile.mkdtemp(prefix="metalens-vs-fmmax-")
    for label, lattice, shape, theta, phi, hs in CASES:
        for h in hs:
            if h > args.max_harmonics:
                continue
            path = os.path.join(tmp, "cell.toml")
            with open(path, "w") as f:
                f.write(cell_toml(lattice, shape, theta, phi, h))
            run, n_fmmax, grid = fmmax_setup(lattice, shape, theta, phi, h)
            run()  # warm-up: JAX compiles each operation once
            reps = args.reps_800 if h >= 800 else args.reps
            ours, theirs, split, n_ours = [], [], None, None
            for _ in range(reps):
                wall, d = run_metalens(path)
                ours.append(wall)
                split, n_ours = d["timings"], d["harmonics"]
                t0 = time.perf_counter()
                run()
                theirs.append(time.perf_counter() - t0)
            m, f_ = statistics.median(ours), statistics.median(theirs)
            rows.append((label, h, n_ours, n_fmmax, m, split, f_, grid, reps))
            print(f"{label} {h}: metalens {m:.3f} s, fmmax {f_:.3f} s, {f_ / m:.1f}x",
                  file=sys.stderr, flush=True)
    print("# metalens vs fmmax on one core\n")
    print(f"Generated by `validation/rcwa/time_vs_fmmax.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"fmmax {__import__('fmmax').__version__}, jax {jax.__version__}; CPU 0 only, interleaved, "
          f"median of {args.reps} (of {args.reps_800} at 800 harmonics). Cell: p {BASE['pitch']} µm, "
          f"n {BASE['n_pillar']} on {BASE['n_inc']}, h {BASE['height']} µm, λ {BASE['wl']} µm, into air, x input.\n")
    print("| path | harmonics (metalens / fmmax) | metalens (s) | Fourier / eigen / S-matrix (s) | fmmax (s) | fmmax grid | ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, h, n_ours, n_fmmax, m, split, f_, grid, reps in rows:
        sp = f"{split['fourier']:.3f} / {split['eigen']:.3f} / {split['smatrix']:.3f}"
        print(f"| {label} | {n_ours} / {n_fmmax} | {m:.3f} | {sp} | {f_:.3f} | {grid}² | {f_ / m:.1f}× |")
    print("\nfmmax samples the permittivity on a grid (side: the smallest power of two ≥ 2 × its minimum"
          " for the expansion, at least 64; a larger grid makes fmmax slower); metalens uses analytic"
          " transforms. Ratio = fmmax / metalens wall time.")


if __name__ == "__main__":
    main()
