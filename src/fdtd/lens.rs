//! Whole pillar lenses (to be filled).
