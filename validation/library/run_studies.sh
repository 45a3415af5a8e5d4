#!/bin/sh
# Real-solver studies of the phase library (not run by CI; minutes on 2 cores).
#  1. benchmark: the pitch-sweep library (100 radii x 6 pitches, harmonics 200) on 1 and
#     2 threads under /usr/bin/time -v (wall time, peak memory) -> benchmark.out
#  2. pillar-height study (harmonics 150) -> height-study.out and height-study_coverage.{png,svg}
# usage: sh validation/library/run_studies.sh   (from the repository root)
set -eu
B=target/release/metalens
V=validation/library
W=$(mktemp -d)
cargo build --release --quiet
{
  echo "# metalens library pitch-sweep -o lib.h5 --quiet --threads N  ($(date -u +%F), $(nproc) cores)"
  for n in 1 2; do
    echo "## threads $n"
    /usr/bin/time -v $B library pitch-sweep -o "$W/lib$n.h5" --quiet --threads $n 2>"$W/time$n"
    grep -E "Elapsed \(wall|Maximum resident|User time|System time|Percent of CPU" "$W/time$n"
  done
  $B library info "$W/lib2.h5"
} > $V/benchmark.out 2>&1
cp "$W/lib2.h5" "$W/pitch-sweep.h5"
$B library plot "$W/pitch-sweep.h5" --out-dir $V --min-transmittance 0.8 > /dev/null
$B library validation/library/height-study.toml -o "$W/height-study.h5" --quiet
{
  echo "# metalens library validation/library/height-study.toml (harmonics 150), coverage at T >= 0.8"
  $B library info "$W/height-study.h5" --min-transmittance 0.8
  echo
  echo "# coverage at T >= 0.5"
  $B library info "$W/height-study.h5" --min-transmittance 0.5
} > $V/height-study.out
$B library plot "$W/height-study.h5" --out-dir "$W/hs" --min-transmittance 0.8 > /dev/null
cp "$W/hs/height-study_coverage.png" "$W/hs/height-study_coverage.svg" $V/
python3 $V/h5py_roundtrip.py $B "$W/pitch-sweep.h5" > $V/h5py_roundtrip.out
echo "work files in $W"
