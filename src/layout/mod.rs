//! Stage `layout` (see STYLE: one module per stage).
