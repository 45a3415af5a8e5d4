//! Stage `io` (see STYLE: one module per stage).
