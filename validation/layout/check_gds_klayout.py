"""Read a GDSII file written by `metalens` with KLayout's Python package and compare every
pillar with the expected list (CSV: x_um, y_um, radius_um).

    pip install klayout
    cargo build --release && cargo run --release --example layout_validation   # writes out/lens_d40_hex.*
    python3 validation/layout/check_gds_klayout.py validation/layout/out/lens_d40_hex.gds \
        validation/layout/out/lens_d40_hex_pillars.csv

Checks: the number of placed pillars (arrays expanded), each position (within half a
database unit) and each radius (from the polygon area, r = sqrt(A/pi), within one database
unit), one layer of pillars, the aperture outline.
"""
import csv
import math
import sys

import klayout.db as db


def main(gds_path, csv_path):
    layout = db.Layout()
    layout.read(gds_path)
    dbu = layout.dbu
    top = layout.top_cell()
    print(f"KLayout {db.__version__ if hasattr(db, '__version__') else ''}: top cell {top.name}, dbu {dbu} um")
    layers = {(li.layer, li.datatype) for li in layout.layer_infos()}
    print("layers:", sorted(layers))

    # radius of each child cell from its polygon area
    radius_of = {}
    for ci in top.each_child_cell():
        cell = layout.cell(ci)
        area = 0
        for li in layout.layer_indexes():
            for shape in cell.shapes(li).each():
                if shape.is_polygon():
                    area += shape.polygon.area()
        radius_of[ci] = math.sqrt(area / math.pi) * dbu

    placed = []
    for inst in top.each_inst():
        ca = inst.cell_array if hasattr(inst, "cell_array") else inst.cell_inst
        r = radius_of[inst.cell_index]
        na, nb = (max(ca.na, 1), max(ca.nb, 1)) if ca.is_regular_array() else (1, 1)
        for ia in range(na):
            for ib in range(nb):
                x = ca.trans.disp.x + ia * ca.a.x + ib * ca.b.x
                y = ca.trans.disp.y + ia * ca.a.y + ib * ca.b.y
                placed.append((x * dbu, y * dbu, r))

    expected = []
    with open(csv_path) as f:
        for row in csv.DictReader(f):
            expected.append((float(row["x_um"]), float(row["y_um"]), float(row["radius_um"])))

    print(f"placed pillars (arrays expanded): {len(placed)}, expected: {len(expected)}")
    assert len(placed) == len(expected), "pillar count differs"
    key = lambda p: (round(p[1] / dbu), round(p[0] / dbu))
    placed.sort(key=key)
    expected.sort(key=key)
    max_dpos = 0.0
    max_dr = 0.0
    for (x, y, r), (ex, ey, er) in zip(placed, expected):
        max_dpos = max(max_dpos, abs(x - ex), abs(y - ey))
        max_dr = max(max_dr, abs(r - er))
    print(f"max position difference: {max_dpos * 1e3:.4f} nm (tolerance: half a dbu = {dbu * 500:.1f} nm)")
    print(f"max radius difference: {max_dr * 1e3:.4f} nm (tolerance: one dbu = {dbu * 1e3:.1f} nm)")
    assert max_dpos <= 0.5 * dbu + 1e-9
    assert max_dr <= dbu
    # outline: one polygon on layer 2 of the top cell, area of the aperture
    li2 = layout.find_layer(2, 0)
    if li2 is not None:
        areas = [s.polygon.area() * dbu * dbu for s in top.shapes(li2).each() if s.is_polygon()]
        print(f"aperture outline polygons on layer 2: {len(areas)}, radius from area {math.sqrt(areas[0] / math.pi):.4f} um")
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
