# Area-weighted focal-order efficiency of the swept zones of Mk1 / Mk2 (20 µm, NA 0.9 / 0.99):
# the lens area at deflection θ, 2πr dr with r = f tan θ, weights the supercell (or LPA
# staircase) efficiency interpolated linearly in θ between the swept angles; only the part of
# the aperture at θ >= the first swept angle counts (its fraction is printed).
import math, sys
rows = []
for line in open(sys.argv[1]):
    c = [x.strip().strip('*') for x in line.split('|')[1:-1]]
    if len(c) > 10 and c[0].replace('.', '').isdigit():
        rows.append((float(c[0]), float(c[6]), float(c[9])))
def interp(t, k):
    for a, b in zip(rows, rows[1:]):
        if a[0] <= t <= b[0]:
            s = (t - a[0]) / (b[0] - a[0]); return a[k] + s * (b[k] - a[k])
    return rows[-1][k] if t >= rows[-1][0] else None
print("| lens | rim θ | aperture fraction at θ ≥ %g° | LPA staircase, area-weighted | optimised supercells, area-weighted |" % rows[0][0])
print("|---|---|---|---|---|")
for name, na in (("Mk1, NA 0.9", 0.9), ("Mk2, NA 0.99", 0.99)):
    R = 10.0; f = R / math.tan(math.asin(na)); t0 = math.radians(rows[0][0])
    r0 = f * math.tan(t0); n = 4000; acc = [0.0, 0.0]; area = 0.0
    for i in range(n):
        r = r0 + (R - r0) * (i + 0.5) / n; th = math.degrees(math.atan(r / f)); w = r
        area += w
        for j, k in enumerate((1, 2)): acc[j] += w * interp(th, k)
    print("| %s | %.1f° | %.3f | %.3f | %.3f |" % (name, math.degrees(math.asin(na)), 1 - (r0 / R) ** 2, acc[0] / area, acc[1] / area))
