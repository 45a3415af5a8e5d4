#!/usr/bin/env bash
# Issue 11's cross-code check: one laid-out lens, the built-in 3-D FDTD (`metalens fullwave`)
# against Meep (`metalens export meep`, Debian python3-meep) at the same resolution, the same
# near-field plane (0.1 µm above the pillars), the same opaque aperture, both near fields through
# the same propagation and metrics (`metalens propagate --near-field` for Meep). Both codes run
# one after the other on the same 2 cores in the same script, timed by `date`.
# The lens: validation/nearfield/small-lens.toml (3 µm, NA 0.6, Mk1 materials, 145 pillars), or
# LENS=<design.toml> (TAG=<name> for its files).
#   validation/fullwave3d/meep_compare.sh            # RESOLUTIONS="20 30" by default
#   LENS=validation/fullwave3d/designs/lens5-na09.toml TAG=lens5-na09 RESOLUTIONS=30 validation/fullwave3d/meep_compare.sh
# METALENS_ONLY=1 reruns only metalens for resolutions already compared (after a change of
# its defaults), keeping Meep's numbers.
# MEEP_NP="1 2" times Meep serially and under `mpirun -np 2` (the OpenMPI build,
# python3-meep-openmpi) in the same run; the metrics come from the first run's near field.
# Writes validation/fullwave3d/meep/compare[-TAG]-r<res>.json and meep/compare.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${METALENS:-target/release/metalens}
W=${WORK:-target/fullwave3d-meep}
OUT=validation/fullwave3d/meep
mkdir -p "$W" "$OUT"
LENS=${LENS:-validation/nearfield/small-lens.toml}
T=${TAG:+-$TAG}
[ -f "$W/design$T/layout.h5" ] || $M run "$LENS" --out "$W/design$T" --quiet
L="$W/design$T/layout.h5"
for RES in ${RESOLUTIONS:-20 30}; do
  if [ "${METALENS_ONLY:-0}" = 1 ] && [ -f "$OUT/compare$T-r$RES.json" ]; then
    # rerun only the built-in FDTD (after a change of its defaults); Meep's numbers and wall
    # times stay those of the original run, and the file says so
    R="$T-r$RES"
    $M fullwave "$L" --resolution "$RES" --monitor-height 0.1 --out "$W/fw$R" --json --quiet > "$W/fdtd$R.json"
    python3 - "$W/fdtd$R.json" "$OUT/compare$R.json" <<'PY'
import json, sys, datetime
fd = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
b = fd["fullwave"]
doc.setdefault("metalens_fdtd_before_rerun", doc["metalens_fdtd"])
doc["metalens_fdtd"] = {"transmission_efficiency": b["transmission_efficiency"],
    **{k: v for k, v in b["efficiency"].items() if not k.startswith("radius")},
    "fwhm_x_lambda": b["fwhm"]["transverse"]["x_lambda"], "fwhm_y_lambda": b["fwhm"]["transverse"]["y_lambda"],
    "strehl": b["strehl"], "focal_shift_um": b["focal_shift_um"]}
doc["metalens_fdtd_run"] = fd["fdtd"]["runs"][0]
doc["wall_s"]["metalens_fdtd"] = fd["wall_s"]
doc["note"] = ("metalens FDTD rerun on %s with dispersion_correction=%s; Meep's numbers and wall times "
               "are those of the original run" % (datetime.date.today(), fd["fdtd"].get("dispersion_correction")))
json.dump(doc, open(sys.argv[2], "w"), indent=1)
PY
    continue
  fi
  [ -f "$OUT/compare$T-r$RES.json" ] && { echo "skip r$RES (done)"; continue; }
  R="$T-r$RES"
  $M export meep "$L" -o "$W/lens_meep$R.py" --resolution "$RES" --plane-height 0.1 >/dev/null 2>&1
  MEEP_WALL=""
  for NP in ${MEEP_NP:-1}; do
    nf="nf_meep$R.h5"; [ "$NP" = "${MEEP_NP%% *}" ] || nf="nf_meep$R-np$NP.h5"
    t0=$(date +%s.%N)
    if [ "$NP" = 1 ]; then
      ( cd "$W" && /usr/bin/python3 "lens_meep$R.py" --output "$nf" ) > "$W/meep$R-np$NP.log" 2>&1
    else
      ( cd "$W" && mpirun --allow-run-as-root --oversubscribe -np "$NP" /usr/bin/python3 "lens_meep$R.py" --output "$nf" ) > "$W/meep$R-np$NP.log" 2>&1
    fi
    t1=$(date +%s.%N)
    MEEP_WALL="$MEEP_WALL $NP:$(python3 -c "print($t1 - $t0)")"
  done
  $M propagate --near-field "$W/nf_meep$R.h5" --layout "$L" --json --quiet > "$W/meep$R.json"
  t2=$(date +%s.%N)
  $M fullwave "$L" --resolution "$RES" --monitor-height 0.1 --out "$W/fw$R" --json --quiet > "$W/fdtd$R.json"
  t3=$(date +%s.%N)
  python3 - "$W" "$R" "$MEEP_WALL" "$t2" "$t3" "$OUT/compare$R.json" "$RES" "$LENS" <<'PY'
import json, sys
w, r, meep_wall, t2, t3, out, res, lens = sys.argv[1:]
meep = json.load(open(f"{w}/meep{r}.json"))
fd = json.load(open(f"{w}/fdtd{r}.json"))
def pick(b):
    return {"transmission_efficiency": b["transmission_efficiency"],
            **{k: v for k, v in b["efficiency"].items() if not k.startswith("radius")},
            "fwhm_x_lambda": b["fwhm"]["transverse"]["x_lambda"],
            "fwhm_y_lambda": b["fwhm"]["transverse"]["y_lambda"],
            "strehl": b["strehl"], "focal_shift_um": b["focal_shift_um"]}
doc = {"resolution_px_per_um": float(res), "lens_design": lens,
       "na": fd["fullwave"]["lens"]["na"], "diameter_um": fd["fullwave"]["lens"]["diameter_um"],
       "meep": pick(meep), "metalens_fdtd": pick(fd["fullwave"]), "lpa": pick(fd["lpa"]),
       "ideal": pick(fd["ideal"]),
       "wall_s": {**{("meep_serial" if np == "1" else f"meep_mpi{np}"): float(t)
                     for np, t in (x.split(":") for x in meep_wall.split())},
                  "metalens_fdtd": float(t3) - float(t2)},
       "metalens_fdtd_run": fd["fdtd"]["runs"][0]}
json.dump(doc, open(out, "w"), indent=1)
print(json.dumps(doc, indent=1))
PY
done
python3 - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = [json.load(open(p)) for p in sorted(glob.glob(out + "/compare*-r*.json"))]
md = ["# The built-in 3-D FDTD against Meep on laid-out lenses", "",
      "Generated by `validation/fullwave3d/meep_compare.sh`. Same layout, resolution, plane "
      "(0.1 µm above the pillars), opaque aperture; both near fields through the same "
      "propagation and metrics.", ""]
for d in rows:
    r = d["resolution_px_per_um"]
    lens = d.get("lens_design", "validation/nearfield/small-lens.toml")
    md += [f"## {lens} at {r:.0f} px/µm", "", "| | metalens FDTD | Meep | FDTD − Meep | LPA | ideal |", "|---|---|---|---|---|---|"]
    for k in d["meep"]:
        a, b = d["metalens_fdtd"][k], d["meep"][k]
        md.append(f"| {k} | {a:.4f} | {b:.4f} | {a - b:+.4f} | {d['lpa'][k]:.4f} | {d['ideal'][k]:.4f} |")
    ws = d["wall_s"]
    meeps = ", ".join(f"Meep ({'serial' if k == 'meep_serial' else k[5:].replace('mpi', '') + ' MPI processes'}) "
                      f"{v:.0f} s (ratio {v / ws['metalens_fdtd']:.1f}×)"
                      for k, v in ws.items() if k.startswith("meep"))
    run = d.get("metalens_fdtd_run", {})
    rate = f", {run['cell_updates_per_s'] / 1e6:.0f} M cell-updates/s" if "cell_updates_per_s" in run else ""
    if "note" in d:
        md += ["", f"*{d['note']}.* Before: " + ", ".join(
            f"{k} {v:.4f}" for k, v in d["metalens_fdtd_before_rerun"].items() if k in ("transmitted_r3", "incident_r3", "strehl"))]
    when = "on the same 2 cores, one after the other"
    if "note" in d:
        when = "(Meep in the original run, metalens in the rerun: not timed together)"
    md += ["", f"Wall time {when}: {meeps}; metalens "
           f"{ws['metalens_fdtd']:.0f} s on 2 threads{rate} (Meep's time includes its normalisation "
           "run and Python start-up).", ""]
open(out + "/compare.md", "w").write("\n".join(md))
print("\n".join(md))
PY
