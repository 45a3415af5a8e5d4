"""Summarise validation/rcwa/convergence.csv as markdown (run after the convergence example)."""
import csv, cmath, math, collections
rows = list(csv.DictReader(open("validation/rcwa/convergence.csv")))
by = collections.defaultdict(list)
for r in rows:
    by[(float(r["radius_um"]), r["factorization"])].append(r)
print("| radius (µm) | factorisation | harmonics | abs(Δ abs t) vs ref | Δ arg t vs ref (°) | Δ vs own 1200 (abs t, °) | time (s) |")
print("|---|---|---|---|---|---|---|")
need = {}
for (rad, fac), rs in sorted(by.items()):
    last = rs[-1]
    tl = complex(float(last["t_re"]), float(last["t_im"]))
    ok_from = None
    for r in rs:
        t = complex(float(r["t_re"]), float(r["t_im"]))
        dself = (abs(abs(t) - abs(tl)), math.degrees(cmath.phase(t / tl)))
        print(f"| {rad} | {fac} | {r['harmonics']} | {float(r['abs_err_vs_ref']):.1e} | {float(r['phase_err_deg_vs_ref']):+.3f} | {dself[0]:.1e}, {dself[1]:+.3f} | {float(r['seconds']):.2f} |")
    for i, r in enumerate(rs):
        if all(abs(float(x["abs_err_vs_ref"])) <= 1e-3 and abs(float(x["phase_err_deg_vs_ref"])) <= 0.5 for x in rs[i:]):
            ok_from = r["harmonics"]
            break
    need[(rad, fac)] = ok_from
print()
print("Harmonics from which every larger truncation stays within 1e-3 in abs t and 0.5° in arg t of the reference:")
for k, v in sorted(need.items()):
    print(f"- r = {k[0]} µm, {k[1]}: {v if v else 'not reached by 1200'}")
