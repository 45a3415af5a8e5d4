#!/usr/bin/env bash
# Where the lens error of the bulk dispersion correction shows: the 5 µm NA 0.9 lens at
# 30 px/µm with and without the correction, and Meep's near field at 30 px/µm when
# meep_compare.sh has left it in $WORK, each compared with the same lens at $REF_RES px/µm
# (no correction) in the angular spectrum: power and phase per band of sin θ.
#   validation/fullwave3d/dispersion/nearfield.sh      (then spectra.md here)
set -euo pipefail
cd "$(dirname "$0")/../../.."
M=${METALENS:-target/release/metalens}
W=${WORK:-target/fullwave3d-meep}
REF_RES=${REF_RES:-60}
D=validation/fullwave3d/dispersion
mkdir -p "$W"
[ -f "$W/design-lens5-na09/layout.h5" ] || $M run validation/fullwave3d/designs/lens5-na09.toml --out "$W/design-lens5-na09" --quiet
L="$W/design-lens5-na09/layout.h5"
run() { # tag resolution [flags]
  local tag=$1 res=$2; shift 2
  [ -f "$W/nf-$tag.h5" ] || $M fullwave "$L" --resolution "$res" --monitor-height 0.1 --quiet --json \
      --out "$W/fw-$tag" --save-near-field "$W/nf-$tag.h5" "$@" > "$W/fw-$tag.json"
}
run r30-corrected 30 --dispersion-correction
run r30 30
run r$REF_RES $REF_RES
files=("$W/nf-r30-corrected.h5" "$W/nf-r30.h5")
if [ -f "$W/nf_meep-lens5-na09-r30.h5" ]; then
  $M propagate --near-field "$W/nf_meep-lens5-na09-r30.h5" --layout "$L" --quiet --json \
      --save-near-field "$W/nf-meep-r30.h5" > "$W/fw-meep-r30.json"
  files+=("$W/nf-meep-r30.h5")
fi
/usr/bin/python3 $D/spectra.py "$W/nf-r$REF_RES.h5" "${files[@]}" > $D/spectra.md
cat $D/spectra.md
