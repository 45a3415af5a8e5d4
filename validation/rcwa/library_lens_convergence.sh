#!/usr/bin/env bash
# Issue 15: what the library's harmonic count does to the answer the library is for. The whole
# pitch-sweep study (12 lenses: 6 pitches x NA 0.9, 0.99) is run from libraries at each count;
# library_lens_convergence.py compares every lens's efficiencies, FWHM and Strehl with those of
# the largest count and writes library_lens_convergence.md.
#   validation/rcwa/library_lens_convergence.sh   # COUNTS="200 250 1500": ~5 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${METALENS:-target/release/metalens}
W=${WORK:-target/library-lens-convergence}
mkdir -p "$W"
for N in ${COUNTS:-200 250 1500}; do
  if [ ! -f "$W/out$N/report.json" ]; then
    sed "s/^harmonics = [0-9]*/harmonics = $N/; s/^name = .*/name = \"pitch-sweep-$N\"/" \
      designs/pitch-sweep.toml > "$W/pitch-sweep-$N.toml"
    $M run "$W/pitch-sweep-$N.toml" --out "$W/out$N" --quiet
  fi
done
/usr/bin/python3 validation/rcwa/library_lens_convergence.py "$W" > validation/rcwa/library_lens_convergence.md
cat validation/rcwa/library_lens_convergence.md
