#!/usr/bin/env python3
"""The ideal lens's analytic near field written with h5py on a grid unlike the engine's, read
by `metalens propagate --near-field` (resampled: zero padding + band-limited Fourier shift) and
compared with `metalens propagate --ideal` (the engine's own ideal lens on its own grid).

Issue 13's bar: every metric within 1 %. Needs numpy and h5py (Debian: python3-numpy
python3-h5py) and a built binary (cargo build --release). Writes ideal_foreign_grid.json
(both documents' numbers and the relative differences) beside this script.

    python3 validation/nearfield/ideal_foreign_grid.py [path/to/metalens]
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "metalens")
CONVENTIONS = ("lengths in micrometres; time dependence exp(-i omega t); forward wave exp(+i kz z) "
               "with Im kz >= 0; loss Im n > 0; lens phase phi(r) = -(2 pi n_exit / lambda)(sqrt(r^2+f^2)-f); "
               "spectrum = forward FFT / N")

WAVELENGTH, NA, DIAMETER, N_EXIT, N_INC = 0.633, 0.8, 20.0, 1.0, 1.45
R = 0.5 * DIAMETER
F = R * np.sqrt(N_EXIT ** 2 - NA ** 2) / NA
# the foreign grid: spacing 0.0917 µm (the engine's ideal lens uses λ/4 = 0.158 µm), an odd
# count along x and a different even count along y, first sample off the lattice by a fraction
DX = 0.0917
X = -10.31 + DX * np.arange(227)
Y = -10.12 + DX * np.arange(222)


def field():
    xx, yy = np.meshgrid(X, Y)  # rows along y
    r = np.hypot(xx, yy)
    phase = -(2 * np.pi * N_EXIT / WAVELENGTH) * (np.sqrt(r ** 2 + F ** 2) - F)
    amp = np.sqrt(N_INC / N_EXIT)  # the engine's ideal lens: transmittance 1 at normal incidence
    return np.where(r <= R, amp * np.exp(1j * phase), 0.0)


def write(path):
    with h5py.File(path, "w") as f:
        f.attrs["kind"] = "metalens near field"
        f.attrs["format_version"] = "1"
        f.attrs["conventions"] = CONVENTIONS
        f.attrs["units"] = "lengths in micrometres; E in units of the incident amplitude"
        f.attrs["polarization"] = "x"
        f.attrs["source"] = "validation/nearfield/ideal_foreign_grid.py (h5py, analytic ideal lens)"
        for name, v in (("x", X), ("y", Y), ("wavelength", [WAVELENGTH])):
            f.create_dataset(name, data=np.asarray(v, dtype=np.float64)).attrs["units"] = "um"
        ex = field()
        f.create_dataset("Ex", data=ex[None].astype(np.complex128))
        f.create_dataset("Ey", data=np.zeros_like(ex)[None].astype(np.complex128))
        f.create_dataset("plane_height", data=[0.0]).attrs["units"] = "um"
        f.create_dataset("medium_index", data=[N_EXIT])
        f.create_dataset("incident_index", data=[N_INC])
        f.create_dataset("incident_amplitude", data=[1.0])
        f.create_dataset("lens_numerical_aperture", data=[NA])
        f.create_dataset("lens_diameter", data=[DIAMETER]).attrs["units"] = "um"


def run(args):
    out = subprocess.run([BIN, "propagate", *args, "--json", "--quiet", "--planes", "150"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ideal_foreign.h5")
        write(path)
        nf = run(["--near-field", path])
    ideal = run(["--ideal", "--na", str(NA), "--diameter", str(DIAMETER), "--wavelength", str(WAVELENGTH),
                 "--n-incident", str(N_INC)])
    rows = {}
    pick = lambda d: {
        "focal_plane_z_um": d["focal_plane_z_um"],
        "fwhm_transverse_x_um": d["fwhm"]["transverse"]["x_um"],
        "fwhm_transverse_y_um": d["fwhm"]["transverse"]["y_um"],
        "transmission_efficiency": d["transmission_efficiency"],
        "peak_intensity": d["peak_intensity"],
        **{"efficiency_" + k: v for k, v in d["efficiency"].items() if not k.startswith("radius")},
    }
    a, b = pick(nf), pick(ideal)
    worst = 0.0
    for k in b:
        rel = abs(a[k] - b[k]) / abs(b[k])
        worst = max(worst, rel)
        rows[k] = {"near_field_file": a[k], "engine_ideal": b[k], "relative_difference": rel}
        print("%-32s %12.6g %12.6g %10.2e" % (k, a[k], b[k], rel))
    print("resampling:", json.dumps(nf["near_field"]["resampling"]))
    print("worst relative difference %.2e (bar: 1e-2)" % worst)
    with open(os.path.join(HERE, "ideal_foreign_grid.json"), "w") as f:
        json.dump({"lens": {"wavelength_um": WAVELENGTH, "na": NA, "diameter_um": DIAMETER, "n_incident": N_INC},
                   "file_grid": {"dx_um": DX, "nx": len(X), "ny": len(Y), "x0_um": X[0], "y0_um": Y[0]},
                   "engine_grid": ideal["grid"], "near_field_grid": nf["grid"],
                   "resampling": nf["near_field"]["resampling"], "metrics": rows,
                   "worst_relative_difference": worst}, f, indent=1)
    sys.exit(0 if worst < 1e-2 else 1)


if __name__ == "__main__":
    main()
