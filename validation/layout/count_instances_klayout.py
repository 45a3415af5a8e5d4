"""Read a large metalens GDSII file with KLayout's Python package and count the placed
pillars (arrays expanded) per cell, with the read time and the bounding box.

    cargo bench --bench layout -- --keep /tmp/bigl      # writes /tmp/bigl/lens.gds
    python3 validation/layout/count_instances_klayout.py /tmp/bigl/lens.gds [expected_count]
"""
import sys
import time

import klayout.db as db

t0 = time.time()
layout = db.Layout()
layout.read(sys.argv[1])
t_read = time.time() - t0
top = layout.top_cell()
t1 = time.time()
count = 0
cells = set()
for inst in top.each_inst():
    ca = inst.cell_inst
    count += ca.na * ca.nb if ca.is_regular_array() else 1
    cells.add(inst.cell_index)
t_count = time.time() - t1
bbox = top.dbbox()
print(f"KLayout read {sys.argv[1]} in {t_read:.1f} s; counted instances in {t_count:.1f} s")
print(f"top cell {top.name}: {count} pillars placed, {len(cells)} distinct pillar cells, dbu {layout.dbu} um")
print(f"bounding box: {bbox} (um)")
if len(sys.argv) > 2:
    assert count == int(sys.argv[2]), f"expected {sys.argv[2]} pillars"
    print("count OK")
