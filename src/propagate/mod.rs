//! Stage `propagate` (see STYLE: one module per stage).
