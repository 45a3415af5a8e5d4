//! Stage `io` (see STYLE: one module per stage).

pub mod gds;
pub mod layout_file;
