//! Every figure the tool draws (plotters, PNG and SVG).
//!
//! Text renders with a bundled DejaVu Sans (assets/fonts, free licence in
//! DejaVu-LICENSE.txt) through plotters' ab_glyph backend: no fontconfig, freetype or
//! system fonts are needed at build or run time. Call [`init_fonts`] before drawing
//! (every plotting function in this crate does).

pub mod focal;
pub mod fullwave;
pub mod layout;
pub mod library;
pub mod study;

use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static INIT: Once = Once::new();

/// Register the bundled font as "sans-serif" (and the other generic families). Idempotent.
pub fn init_fonts() {
    INIT.call_once(|| {
        use plotters::style::FontStyle;
        for family in ["sans-serif", "serif", "monospace"] {
            for style in [
                FontStyle::Normal,
                FontStyle::Bold,
                FontStyle::Italic,
                FontStyle::Oblique,
            ] {
                // Registration can only fail for a corrupt font, which would be a build defect.
                let _ = plotters::style::register_font(family, style, FONT);
            }
        }
    });
}

/// Perceptually uniform colour map (viridis), t in [0, 1] (clamped).
pub fn viridis(t: f64) -> plotters::style::RGBColor {
    use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ViridisRGB.get_color(t as f32)
}

/// A vertical viridis colour bar from `lo` to `hi` on `area` (a strip ≈ 110 px wide right of a
/// map), its axis named `label` (quantity and unit).
pub fn colour_bar<DB: plotters::prelude::DrawingBackend>(
    area: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    lo: f64,
    hi: f64,
    label: &str,
    margin_top: u32,
    margin_bottom: u32,
) -> Result<(), plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>> {
    use plotters::prelude::*;
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let mut cb = ChartBuilder::on(area)
        .margin_top(margin_top)
        .margin_bottom(margin_bottom)
        .margin_right(8)
        .y_label_area_size(0)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_labels(6)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()?;
    let d = (hi - lo) / 100.0;
    cb.draw_series((0..100).map(|k| {
        let v = lo + k as f64 * d;
        Rectangle::new(
            [(0.0, v), (1.0, v + d)],
            viridis((k as f64 + 0.5) / 100.0).filled(),
        )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    #[test]
    fn text_renders_without_system_fonts() {
        super::init_fonts();
        let mut buf = vec![0u8; 200 * 100 * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (200, 100)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.draw(&Text::new(
                "λ = 0.685 µm",
                (10, 40),
                ("sans-serif", 20).into_font(),
            ))
            .unwrap();
            root.present().unwrap();
        }
        // some pixels must have been darkened by the glyphs
        assert!(buf.iter().any(|&b| b < 128));
    }
}
