//! Stage `plot` (see STYLE: one module per stage).
