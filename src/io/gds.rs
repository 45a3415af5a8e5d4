//! GDSII stream format: a small streaming writer and a reader (for tests and checks).
//!
//! Records are `u16` length (header included) · `u8` record type · `u8` data type, big
//! endian; reals are the 8-byte excess-64 base-16 format. The writer never holds the layout
//! in memory: elements go straight to a buffered file.
//!
//! A lens is written as one cell per distinct pillar radius (a circle polygon of
//! `vertices` corners, area-preserving: its area equals π r²) and a top cell `METALENS`
//! placing them by reference (SREF, or AREF for runs of equal pillars along a row when the
//! pitch is a whole number of database units). User unit 1 µm; the database unit is
//! configurable (default 1 nm).

use crate::io::guard::temp_path;
use crate::layout::Layout;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

const HEADER: u8 = 0x00;
const BGNLIB: u8 = 0x01;
const LIBNAME: u8 = 0x02;
const UNITS: u8 = 0x03;
const ENDLIB: u8 = 0x04;
const BGNSTR: u8 = 0x05;
const STRNAME: u8 = 0x06;
const ENDSTR: u8 = 0x07;
const BOUNDARY: u8 = 0x08;
const SREF: u8 = 0x0A;
const AREF: u8 = 0x0B;
const LAYER: u8 = 0x0D;
const DATATYPE: u8 = 0x0E;
const XY: u8 = 0x10;
const ENDEL: u8 = 0x11;
const SNAME: u8 = 0x12;
const COLROW: u8 = 0x13;

const DT_NONE: u8 = 0x00;
const DT_I16: u8 = 0x02;
const DT_I32: u8 = 0x03;
const DT_REAL8: u8 = 0x05;
const DT_ASCII: u8 = 0x06;

/// Largest number of polygon corners a BOUNDARY can hold (XY record ≤ 65535 bytes, closing
/// point included).
pub const MAX_VERTICES: usize = 8190;

/// Encode a float as a GDSII 8-byte real: sign, 7-bit excess-64 base-16 exponent, 56-bit
/// mantissa in [1/16, 1).
pub fn encode_real8(value: f64) -> [u8; 8] {
    if value == 0.0 || !value.is_finite() {
        return [0; 8];
    }
    let sign = if value < 0.0 { 0x80u8 } else { 0 };
    let mut v = value.abs();
    let mut exp: i32 = 64;
    while v >= 1.0 {
        v /= 16.0;
        exp += 1;
    }
    while v < 1.0 / 16.0 {
        v *= 16.0;
        exp -= 1;
    }
    let mut mant = (v * 2f64.powi(56)).round() as u64;
    if mant >= 1u64 << 56 {
        mant >>= 4;
        exp += 1;
    }
    let mut out = [0u8; 8];
    out[0] = sign | (exp.clamp(0, 127) as u8);
    out[1..].copy_from_slice(&mant.to_be_bytes()[1..]);
    out
}

/// Decode a GDSII 8-byte real.
pub fn decode_real8(b: &[u8]) -> f64 {
    let sign = if b[0] & 0x80 != 0 { -1.0 } else { 1.0 };
    let exp = (b[0] & 0x7f) as i32 - 64;
    let mut mant = 0u64;
    for &x in &b[1..8] {
        mant = (mant << 8) | x as u64;
    }
    sign * mant as f64 / 2f64.powi(56) * 16f64.powi(exp)
}

/// Streaming GDSII writer over any `Write`.
pub struct GdsWriter<W: Write> {
    w: W,
}

impl<W: Write> GdsWriter<W> {
    /// Write the library header: HEADER 600, BGNLIB (zero dates: reproducible files),
    /// LIBNAME, UNITS (database unit `dbu_um` µm, user unit 1 µm).
    pub fn new(w: W, libname: &str, dbu_um: f64) -> std::io::Result<Self> {
        let mut g = GdsWriter { w };
        g.record(HEADER, DT_I16, &600i16.to_be_bytes())?;
        g.record(BGNLIB, DT_I16, &[0u8; 24])?;
        g.string(LIBNAME, libname)?;
        let mut units = [0u8; 16];
        units[..8].copy_from_slice(&encode_real8(dbu_um));
        units[8..].copy_from_slice(&encode_real8(dbu_um * 1e-6));
        g.record(UNITS, DT_REAL8, &units)?;
        Ok(g)
    }

    fn record(&mut self, kind: u8, dt: u8, data: &[u8]) -> std::io::Result<()> {
        let len = 4 + data.len();
        if len > u16::MAX as usize {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "GDSII record longer than 65535 bytes",
            ));
        }
        self.w.write_all(&(len as u16).to_be_bytes())?;
        self.w.write_all(&[kind, dt])?;
        self.w.write_all(data)
    }

    fn string(&mut self, kind: u8, s: &str) -> std::io::Result<()> {
        let mut b = s.as_bytes().to_vec();
        if b.len() % 2 == 1 {
            b.push(0);
        }
        self.record(kind, DT_ASCII, &b)
    }

    fn xy(&mut self, pts: &[[i32; 2]]) -> std::io::Result<()> {
        let mut b = Vec::with_capacity(8 * pts.len());
        for p in pts {
            b.extend_from_slice(&p[0].to_be_bytes());
            b.extend_from_slice(&p[1].to_be_bytes());
        }
        self.record(XY, DT_I32, &b)
    }

    /// Start a structure (cell).
    pub fn begin_structure(&mut self, name: &str) -> std::io::Result<()> {
        self.record(BGNSTR, DT_I16, &[0u8; 24])?;
        self.string(STRNAME, name)
    }

    /// End the current structure.
    pub fn end_structure(&mut self) -> std::io::Result<()> {
        self.record(ENDSTR, DT_NONE, &[])
    }

    /// A closed polygon (the closing point is added here). Corners in database units.
    pub fn boundary(
        &mut self,
        layer: i16,
        datatype: i16,
        corners: &[[i32; 2]],
    ) -> std::io::Result<()> {
        self.record(BOUNDARY, DT_NONE, &[])?;
        self.record(LAYER, DT_I16, &layer.to_be_bytes())?;
        self.record(DATATYPE, DT_I16, &datatype.to_be_bytes())?;
        let mut pts = corners.to_vec();
        pts.push(corners[0]);
        self.xy(&pts)?;
        self.record(ENDEL, DT_NONE, &[])
    }

    /// A reference to structure `name` at `origin` (database units).
    pub fn sref(&mut self, name: &str, origin: [i32; 2]) -> std::io::Result<()> {
        self.record(SREF, DT_NONE, &[])?;
        self.string(SNAME, name)?;
        self.xy(&[origin])?;
        self.record(ENDEL, DT_NONE, &[])
    }

    /// An array reference: `cols` × `rows` copies, column step `col_step`, row step `row_step`.
    pub fn aref(
        &mut self,
        name: &str,
        origin: [i32; 2],
        cols: i16,
        rows: i16,
        col_step: [i32; 2],
        row_step: [i32; 2],
    ) -> std::io::Result<()> {
        self.record(AREF, DT_NONE, &[])?;
        self.string(SNAME, name)?;
        let mut cr = [0u8; 4];
        cr[..2].copy_from_slice(&cols.to_be_bytes());
        cr[2..].copy_from_slice(&rows.to_be_bytes());
        self.record(COLROW, DT_I16, &cr)?;
        let p2 = [
            origin[0] + cols as i32 * col_step[0],
            origin[1] + cols as i32 * col_step[1],
        ];
        let p3 = [
            origin[0] + rows as i32 * row_step[0],
            origin[1] + rows as i32 * row_step[1],
        ];
        self.xy(&[origin, p2, p3])?;
        self.record(ENDEL, DT_NONE, &[])
    }

    /// Write ENDLIB and return the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.record(ENDLIB, DT_NONE, &[])?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Corners of a regular polygon with the area of a circle of radius `radius` (µm), centred on
/// the origin, in database units. The circumradius is r·√(2π/(N sin(2π/N))).
pub fn circle_polygon(radius: f64, vertices: usize, dbu_um: f64) -> Vec<[i32; 2]> {
    let n = vertices as f64;
    let rc =
        radius * (2.0 * std::f64::consts::PI / (n * (2.0 * std::f64::consts::PI / n).sin())).sqrt();
    (0..vertices)
        .map(|k| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / n;
            [
                (rc * a.cos() / dbu_um).round() as i32,
                (rc * a.sin() / dbu_um).round() as i32,
            ]
        })
        .collect()
}

/// Options of the GDSII export.
#[derive(Clone, Debug)]
pub struct GdsOptions {
    /// Corners per circle (3..=8190).
    pub vertices: usize,
    /// Database unit (µm).
    pub dbu_um: f64,
    pub pillar_layer: i16,
    pub pillar_datatype: i16,
    /// Layer of the aperture outline (a filled disc polygon), if any.
    pub outline_layer: Option<i16>,
    /// Use AREF for runs of equal pillars along a row (when the pitch is a whole number of
    /// database units).
    pub arrays: bool,
}

impl Default for GdsOptions {
    fn default() -> Self {
        GdsOptions {
            vertices: 64,
            dbu_um: 0.001,
            pillar_layer: 1,
            pillar_datatype: 0,
            outline_layer: None,
            arrays: true,
        }
    }
}

impl GdsOptions {
    /// Check the options.
    pub fn validate(&self) -> Result<()> {
        if !(3..=MAX_VERTICES).contains(&self.vertices) {
            return Err(Error::invalid(
                "gds vertices",
                self.vertices,
                format!("must be in [3, {MAX_VERTICES}]"),
            ));
        }
        if !self.dbu_um.is_finite() || self.dbu_um <= 0.0 || self.dbu_um > 0.1 {
            return Err(Error::invalid(
                "gds database unit",
                format!("{} µm", self.dbu_um),
                "must be in (0, 0.1] µm",
            ));
        }
        for (name, l) in [
            ("gds pillar layer", Some(self.pillar_layer)),
            ("gds outline layer", self.outline_layer),
        ] {
            if let Some(l) = l {
                if !(0..=255).contains(&l) {
                    return Err(Error::invalid(name, l, "must be in [0, 255]"));
                }
            }
        }
        Ok(())
    }
}

/// What was written.
#[derive(Clone, Debug)]
pub struct GdsStats {
    pub pillars: u64,
    pub cells: usize,
    pub srefs: u64,
    pub arefs: u64,
    pub bytes: u64,
}

/// Name of the cell of a pillar of radius `radius_db` database units (short: every SREF
/// repeats it).
pub fn cell_name(radius_db: i64) -> String {
    format!("R{radius_db}")
}

/// Write `layout` as GDSII to `path` (atomically, streaming).
pub fn write_layout(layout: &Layout, path: &Path, opts: &GdsOptions) -> Result<GdsStats> {
    opts.validate()?;
    let dbu = opts.dbu_um;
    let extent = 0.5 * layout.lens.diameter_um + layout.settings.pitch;
    if extent / dbu > i32::MAX as f64 / 2.0 {
        return Err(Error::invalid(
            "gds database unit",
            format!("{dbu} µm"),
            format!(
                "too small for a {} µm lens (coordinates overflow 32 bits)",
                layout.lens.diameter_um
            ),
        ));
    }
    let (names, radius_db) = pillar_cells(layout, dbu);
    let cell_of: Vec<&str> = radius_db
        .iter()
        .map(|r| names.get(r).map(|s| s.as_str()).unwrap_or(""))
        .collect();

    let tmp = temp_path(path);
    let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = (|| -> std::io::Result<GdsStats> {
        let mut g = GdsWriter::new(BufWriter::with_capacity(1 << 20, file), "METALENS", dbu)?;
        for (&r, name) in &names {
            g.begin_structure(name)?;
            g.boundary(
                opts.pillar_layer,
                opts.pillar_datatype,
                &circle_polygon(r as f64 * dbu, opts.vertices, dbu),
            )?;
            g.end_structure()?;
        }
        let mut stats = GdsStats {
            pillars: 0,
            cells: names.len(),
            srefs: 0,
            arefs: 0,
            bytes: 0,
        };
        write_lens_structure(&mut g, layout, opts, &cell_of, &mut stats)?;
        let w = g.finish()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(stats)
    })();
    match result {
        Ok(mut stats) => {
            crate::io::guard::commit_temp(&tmp, path)?;
            stats.bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            Ok(stats)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::io(path, e))
        }
    }
}

/// One GDS cell per distinct radius in database units `dbu` (µm), only for cells the layout
/// uses: the cell names by radius, and every library cell's radius in database units.
fn pillar_cells(layout: &Layout, dbu: f64) -> (BTreeMap<i64, String>, Vec<i64>) {
    let mut used = vec![false; layout.table.cells.len()];
    for row in &layout.rows {
        for &k in &row.cells {
            used[k as usize] = true;
        }
    }
    let radius_db: Vec<i64> = layout
        .table
        .cells
        .iter()
        .map(|c| (c.radius / dbu).round() as i64)
        .collect();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    for (k, &u) in used.iter().enumerate() {
        if u {
            names
                .entry(radius_db[k])
                .or_insert_with(|| cell_name(radius_db[k]));
        }
    }
    (names, radius_db)
}

/// The top structure METALENS: the optional outline, then every row of pillars as references
/// to their cells (`cell_of`: the GDS cell of each library cell), runs of one cell as AREFs
/// when the pitch and the rows' starts fall on the database grid.
fn write_lens_structure<W: Write>(
    g: &mut GdsWriter<W>,
    layout: &Layout,
    opts: &GdsOptions,
    cell_of: &[&str],
    stats: &mut GdsStats,
) -> std::io::Result<()> {
    let dbu = opts.dbu_um;
    g.begin_structure("METALENS")?;
    if let Some(layer) = opts.outline_layer {
        let n = opts.vertices.clamp(720, MAX_VERTICES);
        g.boundary(
            layer,
            0,
            &circle_polygon(0.5 * layout.lens.diameter_um, n, dbu),
        )?;
    }
    let pitch_db = layout.settings.pitch / dbu;
    let arrays = opts.arrays
        && (pitch_db - pitch_db.round()).abs() < 1e-6
        && (layout
            .rows
            .first()
            .map(|r| (r.x0 / dbu - (r.x0 / dbu).round()).abs() < 1e-6)
            .unwrap_or(true));
    let pitch_i = pitch_db.round() as i32;
    for row in &layout.rows {
        let y = (row.y / dbu).round() as i32;
        let x0 = (row.x0 / dbu).round() as i32;
        let n = row.cells.len();
        let mut i = 0;
        while i < n {
            let k = row.cells[i];
            let mut j = i + 1;
            if arrays {
                while j < n && row.cells[j] == k && j - i < i16::MAX as usize {
                    j += 1;
                }
            }
            let name = cell_of[k as usize];
            if j - i >= 2 {
                g.aref(
                    name,
                    [x0 + i as i32 * pitch_i, y],
                    (j - i) as i16,
                    1,
                    [pitch_i, 0],
                    [0, pitch_i],
                )?;
                stats.arefs += 1;
            } else {
                let x = (row.x(i, layout.settings.pitch) / dbu).round() as i32;
                g.sref(name, [x, y])?;
                stats.srefs += 1;
            }
            stats.pillars += (j - i) as u64;
            i = j;
        }
    }
    g.end_structure()
}

/// A polygon read back.
#[derive(Clone, Debug, PartialEq)]
pub struct GdsBoundary {
    pub layer: i16,
    pub datatype: i16,
    /// Corners in database units, closing point included.
    pub points: Vec<[i32; 2]>,
}

impl GdsBoundary {
    /// Area (database units²), shoelace formula.
    pub fn area(&self) -> f64 {
        let p = &self.points;
        let mut s = 0.0;
        for k in 0..p.len().saturating_sub(1) {
            s += p[k][0] as f64 * p[k + 1][1] as f64 - p[k + 1][0] as f64 * p[k][1] as f64;
        }
        0.5 * s.abs()
    }
}

/// A structure reference read back (SREF: cols = rows = 1).
#[derive(Clone, Debug, PartialEq)]
pub struct GdsRef {
    pub name: String,
    pub origin: [i32; 2],
    pub cols: i32,
    pub rows: i32,
    pub col_step: [i32; 2],
    pub row_step: [i32; 2],
}

impl GdsRef {
    /// Every placement of the reference (database units).
    pub fn positions(&self) -> impl Iterator<Item = [i32; 2]> + '_ {
        (0..self.rows).flat_map(move |r| {
            (0..self.cols).map(move |c| {
                [
                    self.origin[0] + c * self.col_step[0] + r * self.row_step[0],
                    self.origin[1] + c * self.col_step[1] + r * self.row_step[1],
                ]
            })
        })
    }
}

/// A structure read back.
#[derive(Clone, Debug, Default)]
pub struct GdsStructure {
    pub name: String,
    pub boundaries: Vec<GdsBoundary>,
    pub refs: Vec<GdsRef>,
}

/// A GDSII library read back (the subset this crate writes: BOUNDARY, SREF, AREF).
#[derive(Clone, Debug)]
pub struct GdsLibrary {
    pub name: String,
    /// Database unit in user units (µm).
    pub dbu_um: f64,
    pub structures: Vec<GdsStructure>,
}

impl GdsLibrary {
    /// Read a GDSII file.
    pub fn read(path: &Path) -> Result<Self> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| Error::io(path, e))?;
        Self::parse(&bytes).map_err(|m| Error::format(path, format!("not a valid GDSII file: {m}")))
    }

    /// Parse GDSII bytes.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut pos = 0;
        let mut lib = GdsLibrary {
            name: String::new(),
            dbu_um: 0.0,
            structures: Vec::new(),
        };
        let mut cur: Option<GdsStructure> = None;
        let mut elem = Element::default();
        let mut ended = false;
        while pos + 4 <= bytes.len() {
            let len = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as usize;
            let kind = bytes[pos + 2];
            if len < 4 || pos + len > bytes.len() {
                return Err(format!("bad record length {len} at byte {pos}"));
            }
            let data = &bytes[pos + 4..pos + len];
            pos += len;
            match kind {
                HEADER | BGNLIB => {}
                LIBNAME => lib.name = ascii(data),
                UNITS => {
                    if data.len() < 16 {
                        return Err("short UNITS record".into());
                    }
                    lib.dbu_um = decode_real8(&data[..8]);
                }
                BGNSTR => cur = Some(GdsStructure::default()),
                STRNAME => {
                    if let Some(s) = cur.as_mut() {
                        s.name = ascii(data)
                    }
                }
                ENDSTR => {
                    let s = cur.take().ok_or("ENDSTR outside a structure")?;
                    lib.structures.push(s);
                }
                ENDEL => {
                    let s = cur.as_mut().ok_or("element outside a structure")?;
                    elem.finish(s)?;
                }
                ENDLIB => {
                    ended = true;
                    break;
                }
                _ => elem.record(kind, data)?,
            }
        }
        if !ended {
            return Err("missing ENDLIB".into());
        }
        Ok(lib)
    }

    /// The structure of a given name.
    pub fn structure(&self, name: &str) -> Option<&GdsStructure> {
        self.structures.iter().find(|s| s.name == name)
    }
}

/// The element being read: its kind (BOUNDARY, SREF or AREF) and the records seen so far.
struct Element {
    kind: Option<u8>,
    layer: i16,
    datatype: i16,
    sname: String,
    colrow: (i32, i32),
    xy: Vec<[i32; 2]>,
}

impl Default for Element {
    fn default() -> Self {
        Element {
            kind: None,
            layer: 0,
            datatype: 0,
            sname: String::new(),
            colrow: (1, 1),
            xy: Vec::new(),
        }
    }
}

impl Element {
    /// Take one record of an element (others, such as PATH, TEXT or properties, are ignored).
    fn record(&mut self, kind: u8, data: &[u8]) -> std::result::Result<(), String> {
        match kind {
            BOUNDARY | SREF | AREF => {
                self.kind = Some(kind);
                self.colrow = (1, 1);
                self.xy.clear();
            }
            LAYER => self.layer = *be_i16s(data).first().ok_or("empty LAYER")?,
            DATATYPE => self.datatype = *be_i16s(data).first().ok_or("empty DATATYPE")?,
            SNAME => self.sname = ascii(data),
            COLROW => {
                let v = be_i16s(data);
                if v.len() < 2 {
                    return Err("short COLROW".into());
                }
                self.colrow = (v[0] as i32, v[1] as i32);
            }
            XY => {
                self.xy = data
                    .chunks_exact(8)
                    .map(|c| {
                        [
                            i32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                            i32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                        ]
                    })
                    .collect()
            }
            _ => {}
        }
        Ok(())
    }

    /// ENDEL: add the element to the structure `s`.
    fn finish(&mut self, s: &mut GdsStructure) -> std::result::Result<(), String> {
        let xy = &self.xy;
        match self.kind.take() {
            Some(BOUNDARY) => s.boundaries.push(GdsBoundary {
                layer: self.layer,
                datatype: self.datatype,
                points: xy.clone(),
            }),
            Some(SREF) => {
                let o = *xy.first().ok_or("SREF without XY")?;
                s.refs.push(GdsRef {
                    name: self.sname.clone(),
                    origin: o,
                    cols: 1,
                    rows: 1,
                    col_step: [0, 0],
                    row_step: [0, 0],
                })
            }
            Some(AREF) => {
                if xy.len() < 3 || self.colrow.0 < 1 || self.colrow.1 < 1 {
                    return Err("AREF needs 3 points and positive COLROW".into());
                }
                let (c, r) = self.colrow;
                s.refs.push(GdsRef {
                    name: self.sname.clone(),
                    origin: xy[0],
                    cols: c,
                    rows: r,
                    col_step: [(xy[1][0] - xy[0][0]) / c, (xy[1][1] - xy[0][1]) / c],
                    row_step: [(xy[2][0] - xy[0][0]) / r, (xy[2][1] - xy[0][1]) / r],
                })
            }
            _ => {}
        }
        Ok(())
    }
}

/// Big-endian 16-bit integers of a record.
fn be_i16s(d: &[u8]) -> Vec<i16> {
    d.chunks_exact(2)
        .map(|c| i16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// The ASCII string of a record (NUL padding removed).
fn ascii(d: &[u8]) -> String {
    String::from_utf8_lossy(d)
        .trim_end_matches('\0')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real8_round_trip() {
        for v in [1e-3, 1e-9, 0.5, 1.0, 16.0, 123.456, -2.5e-7] {
            let d = decode_real8(&encode_real8(v));
            // 56-bit mantissa with up to 3 leading zero bits: relative error < 2^-52
            assert!((d - v).abs() <= 4.0 * f64::EPSILON * v.abs(), "{v} -> {d}");
        }
        // 1e-3 = 0x4189374BC6A7EF9D.. × 16^-2 / 2^56 (exponent byte 0x3E): rounded to 56 bits
        // the mantissa ends in ..A7F0; many writers truncate to ..A7EF, which decodes within
        // one unit of the last place
        assert_eq!(
            encode_real8(1e-3),
            [0x3E, 0x41, 0x89, 0x37, 0x4B, 0xC6, 0xA7, 0xF0]
        );
        let truncated = decode_real8(&[0x3E, 0x41, 0x89, 0x37, 0x4B, 0xC6, 0xA7, 0xEF]);
        assert!((truncated - 1e-3).abs() < 1e-3 * 2f64.powi(-50));
    }

    #[test]
    fn polygon_area_matches_the_circle() {
        let r = 0.1;
        let dbu = 1e-4;
        let poly = GdsBoundary {
            layer: 1,
            datatype: 0,
            points: {
                let mut p = circle_polygon(r, 64, dbu);
                p.push(p[0]);
                p
            },
        };
        let area = poly.area() * dbu * dbu;
        let exact = std::f64::consts::PI * r * r;
        // rounding each corner to 1e-4 µm changes the area by at most ~ perimeter·dbu/2
        assert!(
            (area - exact).abs() < 2.0 * std::f64::consts::PI * r * dbu,
            "{area} vs {exact}"
        );
    }
}
