//! Stage `lens` (see STYLE: one module per stage).
