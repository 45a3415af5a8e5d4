//! A thin wrapper over the pure-Rust `rust-hdf5` crate: atomic creation (temporary file in
//! the same folder, renamed on [`H5Writer::commit`]), units attributes, dimension scales, and
//! typed reads that check the stored datatype and shape, so a corrupt or foreign file gives a
//! one-line [`Error::Format`] instead of garbage.
//!
//! Complex numbers are stored as the compound {r: f64, i: f64}, which h5py reads as
//! complex128 without help. Booleans are the HDF5 enum {FALSE, TRUE} over u8 (h5py: bool).
//! Strings are variable-length UTF-8 (h5py: str).

use crate::io::guard::{commit_temp, temp_path};
use crate::{Error, Result, C64};
use rust_hdf5::{H5Dataset, H5File, H5Type, HBool, VarLenUnicode};
use std::path::{Path, PathBuf};

fn fmt_err(path: &Path, what: &str, e: rust_hdf5::Hdf5Error) -> Error {
    let msg = e.to_string().replace('\n', " ");
    Error::format(path, format!("{what}: {msg}"))
}

/// An HDF5 file being written; it appears at its final path only on [`commit`](Self::commit).
pub struct H5Writer {
    file: Option<H5File>,
    path: PathBuf,
    tmp: PathBuf,
}

impl H5Writer {
    /// Start writing `path` (through a temporary file in the same folder).
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "folder does not exist"),
                ));
            }
        }
        let tmp = temp_path(path);
        let file = H5File::options()
            .no_locking()
            .create(&tmp)
            .map_err(|e| fmt_err(path, "cannot create HDF5 file", e))?;
        Ok(H5Writer {
            file: Some(file),
            path: path.to_path_buf(),
            tmp,
        })
    }

    fn f(&self) -> &H5File {
        self.file.as_ref().expect("file open until commit")
    }

    fn err(&self, what: &str, e: rust_hdf5::Hdf5Error) -> Error {
        fmt_err(&self.path, what, e)
    }

    /// Root string attribute (variable-length UTF-8).
    pub fn attr_str(&self, name: &str, value: &str) -> Result<()> {
        self.f()
            .set_attr_string(name, value)
            .map_err(|e| self.err(name, e))
    }

    /// Root f64 attribute.
    pub fn attr_f64(&self, name: &str, value: f64) -> Result<()> {
        self.f()
            .set_attr_numeric(name, &value)
            .map_err(|e| self.err(name, e))
    }

    /// Root i64 attribute.
    pub fn attr_i64(&self, name: &str, value: i64) -> Result<()> {
        self.f()
            .set_attr_numeric(name, &value)
            .map_err(|e| self.err(name, e))
    }

    /// A 1-D f64 dataset marked as a dimension scale, with a `units` attribute.
    pub fn scale(&self, name: &str, values: &[f64], units: &str) -> Result<H5Dataset> {
        let ds = self.dataset(name, &[values.len()], values, units)?;
        ds.set_scale(Some(name)).map_err(|e| self.err(name, e))?;
        Ok(ds)
    }

    /// An f64 dataset of the given shape, with a `units` attribute ("" for none).
    pub fn dataset<T: H5Type>(
        &self,
        name: &str,
        shape: &[usize],
        data: &[T],
        units: &str,
    ) -> Result<H5Dataset> {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let ds = self
            .f()
            .new_dataset::<T>()
            .shape(shape)
            .create(name)
            .map_err(|e| self.err(name, e))?;
        ds.write_raw(data).map_err(|e| self.err(name, e))?;
        if !units.is_empty() {
            dataset_attr(&ds, "units", units).map_err(|e| self.err(name, e))?;
        }
        Ok(ds)
    }

    /// A complex dataset ({r, i} compound, h5py complex128).
    pub fn dataset_c64(
        &self,
        name: &str,
        shape: &[usize],
        data: &[C64],
        units: &str,
    ) -> Result<H5Dataset> {
        let raw: Vec<rust_hdf5::Complex64> = data
            .iter()
            .map(|z| rust_hdf5::Complex64 { re: z.re, im: z.im })
            .collect();
        self.dataset(name, shape, &raw, units)
    }

    /// A boolean dataset (HDF5 enum over u8; h5py bool).
    pub fn dataset_bool(&self, name: &str, shape: &[usize], data: &[bool]) -> Result<H5Dataset> {
        let raw: Vec<HBool> = data.iter().map(|&b| HBool::from(b)).collect();
        self.dataset(name, shape, &raw, "")
    }

    /// Attach 1-D scales to the axes of `ds` (one per axis, in order; `None` skips an axis).
    pub fn attach(&self, ds: &H5Dataset, scales: &[Option<&H5Dataset>]) -> Result<()> {
        for (axis, s) in scales.iter().enumerate() {
            if let Some(s) = s {
                ds.attach_scale(axis, s)
                    .map_err(|e| self.err("dimension scale", e))?;
            }
        }
        Ok(())
    }

    /// A string attribute on a dataset.
    pub fn dataset_attr(&self, ds: &H5Dataset, name: &str, value: &str) -> Result<()> {
        dataset_attr(ds, name, value).map_err(|e| self.err(name, e))
    }

    /// Close the file and move it to its final path.
    pub fn commit(mut self) -> Result<()> {
        let f = self.file.take().expect("file open until commit");
        if let Err(e) = f.close() {
            // a failed flush (disk full): no temporary file left behind
            let _ = std::fs::remove_file(&self.tmp);
            return Err(Error::io(
                &self.path,
                std::io::Error::other(format!(
                    "cannot write HDF5 file: {}",
                    e.to_string().replace('\n', " ")
                )),
            ));
        }
        commit_temp(&self.tmp, &self.path)
    }
}

impl Drop for H5Writer {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            let _ = f.close();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn dataset_attr(ds: &H5Dataset, name: &str, value: &str) -> rust_hdf5::Result<()> {
    let a = ds.new_attr::<VarLenUnicode>().shape(()).create(name)?;
    a.write_string(value)
}

/// An HDF5 file opened for reading, with checked typed reads.
pub struct H5Reader {
    file: H5File,
    path: PathBuf,
}

impl H5Reader {
    /// Open `path`; a missing file is an I/O error, a file that is not HDF5 a format error.
    pub fn open(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::format(path, "is a folder, not an HDF5 file"));
        }
        let file = H5File::options()
            .no_locking()
            .open(path)
            .map_err(|e| fmt_err(path, "not a readable HDF5 file", e))?;
        Ok(H5Reader {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The path opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of the root attributes.
    pub fn attr_names(&self) -> Vec<String> {
        self.file.attr_names().unwrap_or_default()
    }

    /// A root string attribute; a missing one is a format error naming it.
    pub fn attr_string(&self, name: &str) -> Result<String> {
        self.file.attr_string(name).map_err(|_| {
            Error::format(
                &self.path,
                format!("missing or unreadable root attribute '{name}'"),
            )
        })
    }

    /// A root string attribute, or None when absent.
    pub fn attr_string_opt(&self, name: &str) -> Option<String> {
        self.file.attr_string(name).ok()
    }

    /// A string attribute of a dataset, or None when the dataset or the attribute is absent.
    pub fn dataset_attr_string(&self, dataset: &str, name: &str) -> Option<String> {
        self.file
            .dataset(dataset)
            .ok()?
            .attr(name)
            .ok()?
            .read_string()
            .ok()
    }

    /// Whether a dataset exists.
    pub fn has(&self, name: &str) -> bool {
        self.file.dataset(name).is_ok()
    }

    fn open_ds<T: H5Type>(
        &self,
        name: &str,
        shape: Option<&[usize]>,
    ) -> Result<(H5Dataset, Vec<usize>)> {
        let ds = self
            .file
            .dataset(name)
            .map_err(|_| Error::format(&self.path, format!("missing dataset '{name}'")))?;
        let dt = ds.datatype().map_err(|e| fmt_err(&self.path, name, e))?;
        if dt != T::hdf5_type() {
            return Err(Error::format(
                &self.path,
                format!("dataset '{name}' has an unexpected datatype"),
            ));
        }
        let s = ds.shape();
        if let Some(want) = shape {
            if s != want {
                return Err(Error::format(
                    &self.path,
                    format!("dataset '{name}' has shape {s:?}, expected {want:?}"),
                ));
            }
        }
        Ok((ds, s))
    }

    /// Read a dataset of type T, checking its datatype and (when given) its shape.
    pub fn read<T: H5Type>(
        &self,
        name: &str,
        shape: Option<&[usize]>,
    ) -> Result<(Vec<T>, Vec<usize>)> {
        let (ds, s) = self.open_ds::<T>(name, shape)?;
        let v = ds
            .read_raw::<T>()
            .map_err(|e| fmt_err(&self.path, name, e))?;
        if v.len() != s.iter().product::<usize>() {
            return Err(Error::format(
                &self.path,
                format!("dataset '{name}' is truncated"),
            ));
        }
        Ok((v, s))
    }

    /// Read an f64 dataset.
    pub fn f64(&self, name: &str, shape: Option<&[usize]>) -> Result<(Vec<f64>, Vec<usize>)> {
        self.read::<f64>(name, shape)
    }

    /// Read a complex dataset ({r, i} compound).
    pub fn c64(&self, name: &str, shape: Option<&[usize]>) -> Result<(Vec<C64>, Vec<usize>)> {
        let (v, s) = self.read::<rust_hdf5::Complex64>(name, shape)?;
        Ok((v.into_iter().map(|z| C64::new(z.re, z.im)).collect(), s))
    }

    /// Read a boolean dataset.
    pub fn bool(&self, name: &str, shape: Option<&[usize]>) -> Result<(Vec<bool>, Vec<usize>)> {
        let (v, s) = self.read::<HBool>(name, shape)?;
        Ok((v.into_iter().map(bool::from).collect(), s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_checks() {
        let dir = std::env::temp_dir().join(format!("metalens-h5-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.h5");
        let w = H5Writer::create(&p).unwrap();
        assert!(!p.exists(), "file must appear only on commit");
        w.attr_str("units", "µm").unwrap();
        let x = w.scale("x", &[0.1, 0.2, 0.3], "um").unwrap();
        let z = [
            C64::new(1.0, -2.0),
            C64::new(0.5, 0.25),
            C64::new(-1.0, 0.0),
        ];
        let ds = w.dataset_c64("t", &[3], &z, "").unwrap();
        w.attach(&ds, &[Some(&x)]).unwrap();
        w.dataset_bool("valid", &[3], &[true, false, true]).unwrap();
        w.commit().unwrap();
        let r = H5Reader::open(&p).unwrap();
        assert_eq!(r.attr_string("units").unwrap(), "µm");
        assert_eq!(r.c64("t", Some(&[3])).unwrap().0, z.to_vec());
        assert_eq!(r.bool("valid", None).unwrap().0, vec![true, false, true]);
        assert_eq!(r.f64("x", None).unwrap().0, vec![0.1, 0.2, 0.3]);
        // wrong type and wrong shape are format errors (exit code 2)
        assert_eq!(r.f64("t", None).unwrap_err().exit_code(), 2);
        assert_eq!(r.c64("t", Some(&[4])).unwrap_err().exit_code(), 2);
        assert!(r
            .attr_string("nope")
            .unwrap_err()
            .to_string()
            .contains("nope"));
        // not HDF5 at all
        let q = dir.join("b.h5");
        std::fs::write(&q, b"this is not hdf5").unwrap();
        assert_eq!(H5Reader::open(&q).err().unwrap().exit_code(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
