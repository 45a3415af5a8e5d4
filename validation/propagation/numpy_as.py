"""Reference: vectorial angular spectrum with numpy + scipy.fft (2 workers), the same work as
benches/propagate.rs `PROP_ONESHOT=plane:N`: an NA 0.9 ideal lens (rcp, both transverse
components) of N/2 samples at lambda/4, zero-padded to N x N, forward FFTs of Ex and Ey,
band-limited transfer function, Ez from transversality, 3 inverse FFTs, crop to N/2.
complex128 throughout, like the Rust code.

    python3 validation/propagation/numpy_as.py plane 4096
    python3 validation/propagation/numpy_as.py xz 4096     # 200 planes, full inverse FFTs
    /usr/bin/time -v python3 ... for the peak memory
"""
import sys
import time

import numpy as np
import scipy.fft as sfft

LAM = 0.633
WORKERS = 2


def aperture(m):
    dx = LAM / 4
    r = (m // 2 - 1) * dx
    f = r * np.sqrt(1 - 0.81) / 0.9
    x = (np.arange(m) - m // 2) * dx
    X, Y = np.meshgrid(x, x)
    R = np.hypot(X, Y)
    t = np.where(R <= r, np.exp(-1j * 2 * np.pi / LAM * (np.sqrt(R**2 + f**2) - f)), 0)
    s = np.sqrt(0.5)
    return t * s, t * (-1j * s), dx, f


def plan(n, dx):
    k = 2 * np.pi / LAM
    kx = 2 * np.pi * sfft.fftfreq(n, dx)
    KX, KY = np.meshgrid(kx, kx)
    return k, KX, KY


def spectrum(e, n):
    m = e.shape[0]
    buf = np.zeros((n, n), complex)
    buf[:m, :m] = e
    buf = np.roll(buf, (-(m // 2), -(m // 2)), axis=(0, 1))
    return sfft.fft2(buf, workers=WORKERS, overwrite_x=True, norm="forward")  # spectrum = FFT / N


def transfer(k, KX, KY, z, n, dx):
    w = n * dx
    klim = k / np.sqrt((2 * z / w) ** 2 + 1)
    q = k * k - KX**2 - KY**2
    kz = np.sqrt(q.astype(complex))
    h = np.exp(1j * kz * z)
    h[(q >= 0) & ((np.abs(KX) > klim) | (np.abs(KY) > klim))] = 0
    h[(q < 0) & (np.abs(kz) * z > 34.5)] = 0
    kzr = np.where(np.abs(kz) < np.sqrt(k * 2 * np.pi / w), np.sqrt(k * 2 * np.pi / w), kz)
    return h, kzr


def one_plane(n, ex, ey, dx, z):
    k, KX, KY = plan(n, dx)
    ax = spectrum(ex, n)
    ay = spectrum(ey, n)
    h, kz = transfer(k, KX, KY, z, n, dx)
    out = []
    for a in (ax * h, ay * h, -(KX * ax + KY * ay) / kz * h):
        f = sfft.ifft2(a, workers=WORKERS, overwrite_x=True, norm="forward")  # field = inverse FFT, no factor
        f = np.fft.fftshift(f)[n // 2 - n // 4 : n // 2 + n // 4, n // 2 - n // 4 : n // 2 + n // 4]
        out.append(f.copy())
    return out


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    ex, ey, dx, f = aperture(n // 2)
    t = time.perf_counter()
    if kind == "plane":
        out = one_plane(n, ex, ey, dx, f)
        print(f"numpy plane {n}: {time.perf_counter() - t:.3f} s (|Ex|, |Ez| at the focus {abs(out[0][n // 4, n // 4]):.4f}, {abs(out[2][n // 4, n // 4]):.3e})")
    elif kind == "xz":
        k, KX, KY = plan(n, dx)
        ax = spectrum(ex, n)
        ay = spectrum(ey, n)
        line = []
        for z in f * (0.5 + np.arange(200) / 199):
            h, kz = transfer(k, KX, KY, z, n, dx)
            row = []
            for a in (ax * h, ay * h, -(KX * ax + KY * ay) / kz * h):
                row.append(sfft.ifft2(a, workers=WORKERS, overwrite_x=True, norm="forward")[0, :].copy())
            line.append(row)
        print(f"numpy xz 200 planes {n}: {time.perf_counter() - t:.3f} s")
    else:
        raise SystemExit("usage: numpy_as.py plane|xz N")


if __name__ == "__main__":
    main()
