#!/usr/bin/env python3
"""The Yee grid's plane wave at normal incidence through planar layers, as a 1-D discrete model.

The time-stepped 3-D solver at one frequency is, for a normally incident plane wave on laterally
uniform layers, exactly the discrete system solved here (E at integer nodes, H at half nodes,
exp(-iwt), time differences -> Omega = 2 sin(w dt/2)/dt):
    (E[k+1] - E[k]) / mu[k+1/2] - (E[k] - E[k-1]) / mu[k-1/2] + (Omega dx)^2 eps[k] E[k] = 0
with eps[k] the arithmetic mean over [k-1/2, k+1/2] and mu[k+1/2] over [k, k+1] (tangential
fields). It reproduces the solver's slab errors (tests/fdtd_cell.rs) to three digits and was used
to find the cause of the |t| error and its cure, `fdtd::material::exact_planar`:
  none   : eps = n^2, mu = 1 (no correction)
  eps    : eps scaled for the exact wavenumber, mu = 1 (the correction of stop 19)
  exact  : every link [k, k+1] the pi network of the exact continuous segment (this stop)
Usage: /usr/bin/python3 yee1d.py > yee1d.md
"""
import numpy as np

WL, S, N_SUB, N_EXIT = 0.685, 0.5, 1.45, 1.0


def exact(layers, wl=WL):
    """The continuum t (field at the top face over the incident one at z = 0) of the layers."""
    w = 2 * np.pi / wl
    T = np.eye(2, dtype=complex)
    for n, d in layers:
        c, s = np.cos(n * w * d), np.sin(n * w * d)
        T = np.array([[c, 1j * s / n], [1j * n * s, c]]) @ T
    # [C; n3 C] = T [1 + B; n1 (1 - B)]
    a = T @ np.array([1.0, N_SUB])
    b = T @ np.array([1.0, -N_SUB])
    # C = a0 + B b0 and n3 C = a1 + B b1
    B = (N_EXIT * a[0] - a[1]) / (b[1] - N_EXIT * b[0])
    return a[0] + B * b[0]


def solve(layers, res, mode, wl=WL):
    """t (transmitted field at the top face over the incident one at z = 0) and r."""
    dx = 1.0 / res
    w = 2 * np.pi / wl
    dt = S * dx
    om2 = (2 * np.sin(w * dt / 2) / dt * dx) ** 2
    zs = [0.0]
    for _, d in layers:
        zs.append(zs[-1] + d)

    def pieces(za, zb):
        spans = [(-1e9, 0.0, N_SUB)] + [(zs[i], zs[i + 1], n) for i, (n, _) in enumerate(layers)]
        spans.append((zs[-1], 1e9, N_EXIT))
        return [(min(b, zb) - max(a, za), n) for a, b, n in spans if min(b, zb) > max(a, za)]

    def medium(n):  # (eps, mu) of one medium
        if mode == "none":
            return n * n, 1.0
        ng = S * np.sin(n * w * dx / 2) / np.sin(S * w * dx / 2)
        if mode == "eps":
            return ng * ng, 1.0
        kap = n * w * dx
        mu = np.sin(kap) / kap
        return 2 * (1 - np.cos(kap)) / (om2 * mu), mu

    def link(k):  # (1/mu, shunt at k, shunt at k+1) of [k dx, (k+1) dx]
        ps = pieces(k * dx, (k + 1) * dx)
        if mode != "exact":
            mu = sum(l * medium(n)[1] for l, n in ps) / dx
            return 1 / mu, None, None
        T = np.eye(2, dtype=complex)
        for l, n in ps:
            c, s = np.cos(n * w * l), np.sin(n * w * l)
            T = np.array([[c, 1j * s / n], [1j * n * s, c]]) @ T
        inv_mu = w * dx / T[0, 1].imag
        return inv_mu, inv_mu * (1 - T[0, 0].real) / om2, inv_mu * (1 - T[1, 1].real) / om2

    J, L = int(np.ceil(zs[-1] / dx)) + 4, 4
    links = {k: link(k) for k in range(-L - 1, J + 1)}

    def eps(k):
        if mode == "exact":
            return links[k - 1][2] + links[k][1]
        ps = pieces((k - 0.5) * dx, (k + 0.5) * dx)
        return sum(l * medium(n)[0] for l, n in ps) / dx

    e3, m3 = medium(N_EXIT)
    e1, m1 = medium(N_SUB)
    k3 = np.arccos(1 - om2 * e3 * m3 / 2)
    k1 = np.arccos(1 - om2 * e1 * m1 / 2)
    E = {J: np.exp(1j * k3 * J), J + 1: np.exp(1j * k3 * (J + 1))}
    for k in range(J, -L, -1):
        E[k - 1] = E[k] - (1 / links[k - 1][0]) * ((E[k + 1] - E[k]) * links[k][0] + om2 * eps(k) * E[k])
    M = np.array([[np.exp(1j * k1 * j), np.exp(-1j * k1 * j)] for j in (-L, -L + 1)])
    A, B = np.linalg.solve(M, [E[-L], E[-L + 1]])
    return np.exp(1j * k3 * zs[-1] / dx) / A, B / A


if __name__ == "__main__":
    print("# The Yee grid's planar layers in 1-D (yee1d.py)\n")
    print(f"Substrate {N_SUB}, exit {N_EXIT}, λ {WL} µm, Courant {S}. Errors against the Airy formula:")
    print("|Δ|t|| / Δ arg t (°).\n")
    print("| structure | px/µm | none | eps (index scaled) | exact (pi network) |")
    print("|---|---|---|---|---|")
    for name, layers in [("bare interface", []), ("slab n 2.0, 0.51 µm (the test)", [(2.0, 0.51)]),
                         ("slab n 2.0, 0.5125 µm (half-cell face at 40)", [(2.0, 0.5125)]),
                         ("slab n 2.74, 1.0 µm + n 1.45, 0.02 µm (a thin cap)", [(2.74, 1.0), (1.45, 0.02)])]:
        for res in (20, 40, 80):
            cells = []
            te = exact(layers)
            for mode in ("none", "eps", "exact"):
                t, _ = solve(layers, res, mode)
                cells.append(f"{abs(t) - abs(te):+.2e} / {np.degrees(np.angle(t / te)):+.3f}°")
            print(f"| {name} | {res} | " + " | ".join(cells) + " |")
