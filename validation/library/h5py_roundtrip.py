#!/usr/bin/env python3
"""h5py round trip of a metalens phase library (CI does not run this; output committed
beside it as h5py_roundtrip.out).

1. Runs `metalens library` with the hidden analytic stand-in solver (--test-solver), whose t
   has a closed form, and checks in numpy that every number h5py reads equals that closed form:
   complex t (compound {r, i} -> complex128), transmittance, reflectance, bool validity mask,
   dimension scales, string attributes.
2. Checks the Lumerical/Zemax export (root attribute version = "1.0", phase, amplitude).
3. Optionally (argument: a library made with the real RCWA solver) prints what h5py sees in it.

usage: python3 validation/library/h5py_roundtrip.py [target/release/metalens] [real-library.h5]
"""
import os, subprocess, sys, tempfile
import h5py
import numpy as np

exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/metalens"
real = sys.argv[2] if len(sys.argv) > 2 else None
design = """
[cell]
lattice = "square"
height = 0.7
min_gap = 0.03
[library]
pitches = [0.2, 0.25, 0.3]
radius = { start = 0.02, stop = 0.13, step = 0.01 }
heights = [0.6, 0.7]
wavelengths = [0.633, 0.685]
"""
d = tempfile.mkdtemp()
open(os.path.join(d, "d.toml"), "w").write(design)
lib = os.path.join(d, "lib.h5")
subprocess.run([exe, "library", os.path.join(d, "d.toml"), "-o", lib, "--test-solver", "--quiet"], check=True)

with h5py.File(lib, "r") as f:
    print("h5py", h5py.__version__, "numpy", np.__version__)
    print("datasets:", sorted(f.keys()))
    t = f["t"][...]
    print("t:", t.dtype, t.shape, "| transmittance:", f["transmittance"].dtype, "| valid:", f["valid"].dtype)
    assert t.dtype == np.complex128, t.dtype
    assert f["valid"].dtype == np.bool_, f["valid"].dtype
    for ax, name in enumerate(["wavelength", "height", "pitch", "radius", "polarization"]):
        scale = f["t"].dims[ax][0]
        assert scale.name == "/" + name, (ax, scale.name)
    print("dimension scales of t:", [f["t"].dims[a][0].name for a in range(5)])
    for k in ["units", "conventions", "t_definition", "t_storage", "tool_version", "design", "sweep_settings"]:
        v = f.attrs[k]
        assert isinstance(v, str), (k, type(v))
    print("root attributes:", sorted(f.attrs.keys()))
    print("conventions:", f.attrs["conventions"])
    print("harmonics:", int(f.attrs["harmonics"]), "| exit_index:", float(f.attrs["exit_index"]))
    w, h, p, r = (f[n][...] for n in ["wavelength", "height", "pitch", "radius"])
    assert f["radius"].attrs["units"] == "um"
    W, H, P, R = np.meshgrid(w, h, p, r, indexing="ij")
    # the stand-in solver's closed form (src/cli/library.rs, test_solver): SRN n = 2.74 in air
    fill = np.pi * R**2 / P**2
    neff = np.sqrt(fill * 2.74**2 + (1 - fill) * 1.0)
    T = 0.95 - 0.1 * fill
    t_expected = np.sqrt(T) * np.exp(1j * 2 * np.pi * (neff - 1.0) * H / W)
    fits = 2 * R + 0.03 <= P * (1 + 1e-12)
    valid = f["valid"][...]
    assert (valid == fits).all()
    err = np.abs(t[..., 0][fits] - t_expected[fits]).max()
    errT = np.abs(f["transmittance"][...][..., 1][fits] - T[fits]).max()
    errR = np.abs(f["reflectance"][...][..., 0][fits] - (1 - T[fits])).max()
    assert np.isnan(t[~fits]).all()
    print(f"valid cells {valid.sum()} of {valid.size}; max |t - closed form| = {err:.2e}, "
          f"max |T - closed form| = {errT:.2e}, max |R - closed form| = {errR:.2e}")
    # the Rust code and numpy evaluate the same formula: agreement to a few ulp
    assert err < 1e-14 and errT < 1e-15 and errR < 1e-15

lum = os.path.join(d, "lum.h5")
subprocess.run([exe, "library", "export", lib, "--pitch", "0.25", "--height", "0.7", "--wavelength", "0.685",
                "-o", lum], check=True, stdout=subprocess.DEVNULL)
with h5py.File(lum, "r") as g, h5py.File(lib, "r") as f:
    assert g.attrs["version"] == "1.0"
    col = f["t"][1, 1, 1, :, 0]
    ok = f["valid"][1, 1, 1, :]
    assert np.allclose(g["phase"][...], np.angle(col[ok]), rtol=0, atol=1e-15)
    assert np.allclose(g["amplitude"][...], np.abs(col[ok]), rtol=0, atol=1e-15)
    print(f"Lumerical/Zemax export: version={g.attrs['version']!r}, {len(g['phase'])} meta-atoms, "
          f"phase/amplitude equal to angle/abs of t")

if real:
    with h5py.File(real, "r") as f:
        t = f["t"][...]
        print(f"\nreal library {os.path.basename(real)}: t {t.dtype} {t.shape}, valid {int(f['valid'][...].sum())}, "
              f"harmonics {int(f.attrs['harmonics'])}, tool {f.attrs['tool_version']}")
        print("pitches:", f["pitch"][...], "heights:", f["height"][...])
        ok = f["valid"][...]
        T = f["transmittance"][...][..., 0]
        print(f"transmittance of valid cells: min {T[ok].min():.3f} max {T[ok].max():.3f}")
print("\nOK: h5py reads everything metalens writes, without help")
