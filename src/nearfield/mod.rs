//! Stage `nearfield` (see STYLE: one module per stage).
