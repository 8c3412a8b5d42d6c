//! [`Metrics`]: deviation, session average and the session average's trend.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::markup;

/// The three metrics, `[data-metric]` with `data-value` in milliseconds.
#[component]
pub fn Metrics() -> impl IntoView {
    let live = expect_context::<LiveView>();
    let metrics = move || {
        let trend = live.trend.get();
        live.view.with(|v| markup::metrics(v, trend.as_ref()))
    };
    view! { <section class="lsh-metrics" aria-label="Stream drift" inner_html=metrics></section> }
}
