#!/usr/bin/env bash
# Issue 25: what the energy-conserving aperture model (`--aperture-model flux`, the default)
# changes against the construction before it (`tangential`, E_t = t·E_inc) on every lens whose
# full-wave (3-D FDTD) result is committed in validation/fullwave3d/runs/: the LPA and the ideal
# lens under both models, beside the FDTD numbers, and the LPA's distance from them.
#
# The layouts are regenerated exactly as validation/fullwave3d/run_lenses.sh made them (`metalens
# reproduce` of the same design files; Mk1 and Mk2 at the 200 harmonics of that time, the
# library default then), so the tangential LPA recomputed here must equal the `lpa` block of each
# run file: aperture_model.py checks it. Resumable: finished layouts and JSON documents are kept
# in out/aperture-model/.
#
#   validation/propagation/aperture_model.sh     # ~10 min on 2 cores (libraries), then ~1 min
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
BIN=target/release/metalens
OUT=out/aperture-model
mkdir -p "$OUT/json"

lay() { # design-file out-name
  [ -f "$OUT/$2/layout.h5" ] || [ -f "$OUT/$2/report.json" ] || "$BIN" reproduce "$1" --out "$OUT/$2" --quiet
}
for mk in mk1 mk2; do
  sed 's/^harmonics = 250 .*/harmonics = 200/' "designs/$mk.toml" > "$OUT/$mk-200.toml"
  grep -q '^harmonics = 200$' "$OUT/$mk-200.toml"
  lay "$OUT/$mk-200.toml" "$mk"
done
for na in 09 099; do lay "validation/fullwave3d/designs/lens5-na$na.toml" "lens5-na$na"; done
lay validation/fullwave3d/designs/pitch10.toml pitch10

prop() { # tag layout
  for model in flux tangential; do
    local j="$OUT/json/$1-$model.json"
    if [ ! -s "$j" ]; then
      "$BIN" propagate "$2" --aperture-model "$model" --polarization x --json --quiet > "$j.tmp"
      mv "$j.tmp" "$j"
    fi
  done
}
prop mk1 "$OUT/mk1/layout.h5"
prop mk2 "$OUT/mk2/layout.h5"
for na in 09 099; do prop "lens5-na$na" "$OUT/lens5-na$na/layout.h5"; done
for na in 0.90 0.99; do
  for p in 0.180 0.220 0.300 0.400; do
    prop "pitch10-na$na-p$p" "$OUT/pitch10/lenses/na$na-p$p/layout.h5"
  done
done
python3 validation/propagation/aperture_model.py > validation/propagation/aperture_model.md
echo "wrote validation/propagation/aperture_model.md"
