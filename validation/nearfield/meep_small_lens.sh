#!/usr/bin/env bash
# The Meep cross-check of issue 13: the 3 µm NA 0.6 lens of small-lens.toml (Mk1 materials)
# laid out by the engine, exported to Meep, run serially and with 2 MPI processes, and the
# near field propagated by `metalens propagate --near-field` beside the LPA and the ideal lens.
# Needs python3-meep-openmpi, python3-h5py, openmpi-bin. About 2 min serial on an idle 2-core
# machine at 20 points per µm. Outputs in validation/nearfield/meep_small_lens/ (the near-field
# files are left in target/).
set -euo pipefail
cd "$(dirname "$0")/../.."
M=target/release/metalens
RES=${RES:-20}
W=target/nearfield-meep
OUT=validation/nearfield/meep_small_lens
mkdir -p "$W" "$OUT"
$M run validation/nearfield/small-lens.toml --out "$W/design" --quiet
$M export meep "$W/design/layout.h5" -o "$W/lens_meep.py" --resolution "$RES"
( cd "$W" && time /usr/bin/python3 lens_meep.py --output nf_serial.h5 ) > "$OUT/serial.log" 2>&1
( cd "$W" && time mpirun --allow-run-as-root --oversubscribe -np 2 /usr/bin/python3 lens_meep.py --output nf_mpi.h5 ) > "$OUT/mpi.log" 2>&1 || echo "MPI run failed (see $OUT/mpi.log)"
$M propagate --near-field "$W/nf_serial.h5" --layout "$W/design/layout.h5" --json --quiet > "$OUT/propagate_meep.json"
/usr/bin/python3 - "$W" "$OUT" <<'PY'
import json, sys, h5py, numpy as np
w, out = sys.argv[1], sys.argv[2]
res = {}
try:
    a, b = h5py.File(w + "/nf_serial.h5"), h5py.File(w + "/nf_mpi.h5")
    for k in ("Ex", "Ey", "Hx", "Hy"):
        res[k] = float(np.abs(a[k][()] - b[k][()]).max() / np.abs(a[k][()]).max())
except Exception as e:
    res["error"] = str(e)
json.dump({"serial_vs_mpi_max_relative_difference": res}, open(out + "/serial_vs_mpi.json", "w"), indent=1)
print(res)
PY
