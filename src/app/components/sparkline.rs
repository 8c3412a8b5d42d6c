//! [`Sparkline`]: the compact layout's chart, `svg[data-chart="sparkline"]`:
//! threshold bands, gaps and the deviation line, no text.
//!
//! The drawing is one string from [`crate::core::chart_svg`], set on the
//! SVG with `inner_html` (see there why); the SVG element itself stays.
//! Like the full chart it owns a [`ChartCache`] of its own, at its width.
//! It shows the last five minutes ([`sparkline_span_ms`]), whatever the
//! full chart's range: a glance at the dock answers "how is it going now",
//! and a fixed span never rebuilds its cache.

use leptos::prelude::*;

use crate::app::state::{Ui, WidgetState};
use crate::app::use_clock::Clock;
use crate::app::view_model::LiveView;
use crate::core::chart::{ChartCache, ChartFrame};
use crate::core::chart_range::sparkline_span_ms;
use crate::core::chart_svg::{axis_now, sparkline_markup, SPARK_HEIGHT, SPARK_WIDTH};

/// The sparkline over the last five minutes, drawn in a
/// `SPARK_WIDTH` × `SPARK_HEIGHT` viewBox that CSS stretches to the room the
/// dock leaves. It draws only in the compact layout (the full layout shows
/// the chart and hides this); otherwise its geometry is not computed.
#[component]
pub fn Sparkline() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let clock = expect_context::<Clock>();
    let live = expect_context::<LiveView>();
    let (history, ui) = (state.history, state.ui);

    let window_ms = Memo::new(move |_| history.with(|h| sparkline_span_ms(h.window_ms())));
    let axis = Memo::new(move |_| axis_now(clock.now.get(), window_ms.get(), SPARK_WIDTH));
    // The chart's per-column reduction, kept across updates.
    let cache = StoredValue::new(ChartCache::default());
    let geometry = Memo::new(move |_| {
        if !ui.with(Ui::is_compact) {
            return None;
        }
        let frame = ChartFrame {
            now_ms: axis.get(),
            window_ms: window_ms.get(),
            width: SPARK_WIDTH,
            height: SPARK_HEIGHT,
            interval_ms: live.interval_ms.get(),
        };
        history.with(|h| cache.try_update_value(|cache| cache.geometry(h, &frame)))
    });
    let drawing = move || geometry.with(|g| g.as_ref().map(sparkline_markup).unwrap_or_default());
    view! {
        <svg
            class="lsh-spark"
            data-chart="sparkline"
            data-samples=move || live.samples.get().to_string()
            viewBox="0 0 300 40"
            preserveAspectRatio="none"
            role="img"
            aria-label="Deviation over the last 5 minutes"
            inner_html=drawing
        ></svg>
    }
}
