#!/usr/bin/env bash
# Full-wave (3-D FDTD) runs of the lens studies of issue 11; each job writes runs/<tag>.json
# (the `metalens fullwave LAYOUT.h5 --json` document) and is skipped when that file exists,
# so an interrupted study resumes. Layouts come from `metalens reproduce` of designs/*.toml
# (and designs/mk1.toml, mk2.toml at the repository root) into $OUT (default out/fullwave3d).
#
#   validation/fullwave3d/run_lenses.sh resolution   # 5 µm NA 0.9 / 0.99 at 30, 40, 60 px/µm
#   validation/fullwave3d/run_lenses.sh mk           # Mk1, Mk2 (20 µm) at $MK_RES (30) px/µm
#   validation/fullwave3d/run_lenses.sh pitch        # 10 µm, NA 0.9 / 0.99, pitches 0.18–0.40, $PITCH_RES (30) px/µm
#   validation/fullwave3d/run_lenses.sh lens10       # 10 µm, NA 0.9 / 0.99, pitch 0.22 at $RESOLUTIONS (40 60) px/µm
#                                                    # (its 30 px/µm point is the pitch study's p 0.220 run)
# NAS="09" or NAS="0.90" restricts the NA of resolution / lens10.
# then validation/fullwave3d/tabulate.py writes lenses.md from runs/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${METALENS:-target/release/metalens}
OUT=${OUT:-out/fullwave3d}
RUNS=validation/fullwave3d/runs
mkdir -p "$RUNS" "$OUT"

layout() { # design-file out-name -> reproduces once, echoes nothing
  [ -f "$OUT/$2/.complete" ] || [ -f "$OUT/$2/report.json" ] || "$BIN" reproduce "$1" --out "$OUT/$2" --quiet
}

job() { # tag layout.h5 resolution [extra args]
  local tag=$1 lay=$2 res=$3; shift 3
  if [ -f "$RUNS/$tag.json" ]; then echo "skip $tag (done)"; return; fi
  echo "run  $tag ($(date -u +%H:%M))"
  "$BIN" fullwave "$lay" --resolution "$res" --out "$OUT/fw-$tag" --json --quiet "$@" > "$RUNS/.$tag.json.tmp"
  mv "$RUNS/.$tag.json.tmp" "$RUNS/$tag.json"
}

case "${1:-}" in
  resolution)
    for na in ${NAS:-09 099}; do
      layout validation/fullwave3d/designs/lens5-na$na.toml lens5-na$na
      for res in ${RESOLUTIONS:-30 40 60}; do
        job lens5-na$na-r$res "$OUT/lens5-na$na/layout.h5" "$res"
      done
    done ;;
  mk)
    for mk in mk1 mk2; do
      layout designs/$mk.toml $mk
      job $mk-r${MK_RES:-30} "$OUT/$mk/layout.h5" "${MK_RES:-30}" --save-near-field "$OUT/fw-$mk-nf.h5"
    done ;;
  pitch)
    layout validation/fullwave3d/designs/pitch10.toml pitch10
    for na in 0.90 0.99; do
      for p in 0.180 0.220 0.300 0.400; do
        job pitch10-na$na-p$p "$OUT/pitch10/lenses/na$na-p$p/layout.h5" "${PITCH_RES:-30}"
      done
    done ;;
  lens10)
    layout validation/fullwave3d/designs/pitch10.toml pitch10
    for na in ${NAS:-0.90 0.99}; do
      for res in ${RESOLUTIONS:-40 60}; do
        job lens10-na$na-r$res "$OUT/pitch10/lenses/na$na-p0.220/layout.h5" "$res"
      done
    done ;;
  *) echo "usage: $0 resolution|mk|pitch|lens10" >&2; exit 2 ;;
esac
