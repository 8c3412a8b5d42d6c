//! [`ViewerFigures`]: who is watching, beside the drift metrics (both
//! layouts), and [`PeakViewers`]: the peak of the window, in the summary.
//!
//! Both read [`LiveView::viewers`] and
//! [`WidgetState::viewers`](crate::app::state::WidgetState); the figures
//! come from [`crate::core::counts`]. While counts fail, the figures give
//! way to a short note, so a stale count never passes for a live one; with
//! `viewers=off` neither shows.

use leptos::prelude::*;

use crate::app::state::{Ui, WidgetState};
use crate::app::view_model::LiveView;
use crate::core::counts::{format_count, peak_line, Figures};

/// `[data-metric="viewers"]` and `[data-metric="views"]`, each with
/// `data-value` (absent while unknown, shown as "—"), like the drift
/// metrics; absent while the counts are off, not started or failing. While
/// they fail or are refused, `[data-viewers-note]` says so instead.
#[component]
pub fn ViewerFigures() -> impl IntoView {
    let live = expect_context::<LiveView>();
    let view = live.viewers;
    let shown = Memo::new(move |_| view.with(|v| v.figures.is_some()));
    let figure =
        move |name: &'static str, label: &'static str, pick: fn(&Figures) -> Option<u64>| {
            let value = move || view.with(|v| v.figures.as_ref().and_then(pick));
            view! {
                <div
                    class="lsh-metric"
                    data-metric=name
                    data-value=move || value().map(|count| count.to_string())
                >
                    <span class="lsh-metric-label">{label}</span>
                    <span class="lsh-metric-value">
                        {move || value().map_or_else(|| "—".to_owned(), format_count)}
                    </span>
                </div>
            }
        };
    view! {
        {move || {
            shown
                .get()
                .then(|| {
                    view! {
                        <section class="lsh-metrics lsh-viewers" aria-label="Audience">
                            {figure("viewers", "Viewers", |f| f.viewers)}
                            {figure("views", "Views", |f| f.views)}
                        </section>
                    }
                })
        }}
        {move || {
            view.with(|v| v.note.clone())
                .map(|note| view! { <p class="lsh-viewers-note" data-viewers-note>{note}</p> })
        }}
    }
}

/// `[data-peak-viewers]` (the peak count, empty before there is one): the
/// most viewers counted in the window and when, while counts are on.
#[component]
pub fn PeakViewers(
    /// The browser's UTC offset, minutes east.
    offset_minutes: i32,
) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let peak = Memo::new(move |_| {
        if !state.ui.with(Ui::is_full) {
            return None;
        }
        state
            .viewers
            .with(|v| v.enabled().then(|| v.history().peak()))
    });
    move || {
        peak.get().map(|peak| {
            let count = peak
                .and_then(|p| p.viewers)
                .map(|v| v.to_string())
                .unwrap_or_default();
            view! {
                <p class="lsh-peak" data-peak-viewers=count>
                    {peak_line(peak.as_ref(), offset_minutes)}
                </p>
            }
        })
    }
}
