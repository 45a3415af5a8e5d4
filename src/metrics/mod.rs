//! Stage `metrics` (see STYLE: one module per stage).
