//! Input and output: design files (TOML) and HDF5 helpers with units and convention attributes.

pub mod budget;
pub mod cell_file;
pub mod checkpoint;
pub mod design;
pub mod export;
pub mod fullwave_design;
pub mod gds;
pub mod grating_file;
pub mod guard;
pub mod hdf5;
pub mod html;
pub mod layout_file;
pub mod library_file;
pub mod material_file;
pub mod nearfield_file;

pub use design::Design;
pub use guard::write_atomic;
