#!/usr/bin/env bash
# Issue 15: how far a design's library (every valid cell) is from its solve at the largest
# harmonic count, at each count, in degrees, in |t| and as the pillar-radius error the phase error
# amounts to. Libraries go to $W (kept between runs: a finished count is skipped);
# library_radius_error.py writes the table.
#   validation/rcwa/library_radius_error.sh   # DESIGN=pitch-sweep, COUNTS="200 250 300 400 600
#     1000 1500 2000 3000": the largest is the reference; ~30 min on 2 cores (3000 alone 19 min);
#     writes library_radius_error.md
#   DESIGN=mk1 COUNTS="200 250 300 1500 2000 3000" validation/rcwa/library_radius_error.sh
#     # the Mk1 / Mk2 library (p 0.22 µm, 76 radii); writes library_radius_error_mk1.md
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${METALENS:-target/release/metalens}
DESIGN=${DESIGN:-pitch-sweep}
if [ "$DESIGN" = pitch-sweep ]; then
  W=${WORK:-target/library-radius-error}
  OUT=validation/rcwa/library_radius_error.md
else
  W=${WORK:-target/library-radius-error-$DESIGN}
  OUT=validation/rcwa/library_radius_error_$DESIGN.md
fi
mkdir -p "$W"
for N in ${COUNTS:-200 250 300 400 600 1000 1500 2000 3000}; do
  if [ ! -f "$W/lib-$N.h5" ]; then
    t0=$(date +%s.%N)
    $M library "$DESIGN" --harmonics "$N" -o "$W/lib-$N.h5" --quiet
    t1=$(date +%s.%N)
    echo "$N $(python3 -c "print($t1 - $t0)") $(cut -d' ' -f1 /proc/loadavg) ${RAYON_NUM_THREADS:-2}" >> "$W/times.txt"
  fi
done
/usr/bin/python3 validation/rcwa/library_radius_error.py "$W" "$DESIGN" > "$OUT"
cat "$OUT"
