//! [`Metrics`]: deviation, session average and the session average's trend.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::format::format_value;
use crate::core::markup::Metric;

/// The three metrics, each `[data-metric]` with `data-value` in
/// milliseconds (absent when unknown) and the formatted value as the text
/// of `.lsh-metric-value`. Labels, values and texts come from
/// [`Metric`]; a new value changes one attribute and one text node.
#[component]
pub fn Metrics() -> impl IntoView {
    let live = expect_context::<LiveView>();
    let (view, trend) = (live.view, live.trend);
    let metric = move |metric: Metric| {
        let value = move || {
            let value = trend.with(|t| view.with(|v| metric.value(v, t.as_ref())));
            value.map(format_value)
        };
        let text = move || trend.with(|t| view.with(|v| metric.text(v, t.as_ref())));
        view! {
            <div
                class="lsh-metric"
                class:lsh-trend=metric == Metric::DriftTrend
                data-metric=metric.as_str()
                data-value=value
            >
                <span class="lsh-metric-label lsh-long">{metric.label()}</span>
                // Each layout hides the other label with display:none,
                // which also takes it out of the accessibility tree: the
                // label on screen is the one read.
                <span class="lsh-metric-label lsh-short">{metric.short_label()}</span>
                <span class="lsh-metric-value">{text}</span>
            </div>
        }
    };
    view! {
        <section class="lsh-metrics" aria-label="Stream drift">
            {Metric::ALL.map(metric)}
        </section>
    }
}
