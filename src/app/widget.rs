//! The widget: status badge, metrics, connection state, messages and the
//! history chart, all derived from one [`View`] memo.
//!
//! The root element carries the DOM contract that hosts and tests rely on:
//! `data-status`, `data-state`, `data-stale`, `data-layout`, `data-theme`;
//! metrics are `[data-metric]` with `data-value` in milliseconds; the chart
//! is `svg[data-chart="history"]`; a message is in `[data-message]`.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::app::driver::{now_ms, Driver};
use crate::app::history_chart::HistoryChart;
use crate::app::location::follow_fragment;
use crate::core::history::History;
use crate::core::monitor::{Monitor, View};
use crate::core::params::{Config, Notice};
use crate::core::status::Status;

/// How often "updated N s ago" and countdowns refresh.
const CLOCK_TICK_MS: u32 = 1000;

/// The live stream health widget for one configuration.
#[component]
pub fn Widget(
    /// The configuration read from the URL.
    config: Config,
    /// Notices about parameters that were ignored or adjusted.
    #[prop(default = Vec::new())]
    notices: Vec<Notice>,
    /// Follow the page's URL fragment (a monitor link pasted into the same
    /// tab); off for widgets mounted with a configuration of their own.
    #[prop(default = false)]
    follow_location: bool,
) -> impl IntoView {
    let layout = config.layout;
    let theme = config.theme;
    let history = RwSignal::new(History::new(config.history_minutes));
    let monitor = RwSignal::new(Monitor::new(config, notices));
    let now = RwSignal::new(now_ms());

    let driver = Driver::new(monitor, history);
    driver.start();
    let clock = Interval::new(CLOCK_TICK_MS, move || {
        // The signal is gone once the widget is unmounted; ignore that tick.
        let _ = now.try_set(now_ms());
    });
    let fragment_listener = follow_location.then(|| follow_fragment(monitor, driver.clone()));
    let owned = SendWrapper::new((driver, clock));
    on_cleanup(move || {
        let (driver, clock) = owned.take();
        driver.shutdown();
        clock.cancel();
        if let Some(listener) = fragment_listener {
            listener.remove();
        }
    });

    let view = Memo::new(move |_| monitor.with(|m| m.view(now.get())));
    let interval_ms = Signal::derive(move || monitor.with(|m| m.poller().interval_ms()));
    let notice_items = monitor.with_untracked(|m| m.notices().to_vec());

    let status = move || view.with(|v| v.status);
    view! {
        <main
            class="lsh"
            data-status=move || status().as_str()
            data-state=move || view.with(|v| v.state.as_str())
            data-stale=move || view.with(|v| v.stale.to_string())
            data-layout=layout.as_str()
            data-theme=theme.as_str()
        >
            <header class="lsh-head">
                <div class="lsh-badge">
                    <StatusIcon status=Signal::derive(status) />
                    <span class="lsh-word" data-word role="status" aria-live="polite">
                        {move || status().label()}
                    </span>
                </div>
                <div class="lsh-conn">
                    <span class="lsh-state-text" data-state-text>
                        {move || view.with(|v| v.state_text.clone())}
                    </span>
                    <span class="lsh-updated" data-updated>
                        {move || view.with(|v| v.updated_text.clone())}
                    </span>
                    {move || view.with(|v| v.stale).then(|| view! {
                        <span class="lsh-stale-tag" data-stale-tag>"stale"</span>
                    })}
                </div>
            </header>
            <section class="lsh-metrics" aria-label="Stream drift">
                <Metric
                    name="deviation"
                    label="Deviation from 30 s average"
                    short_label="Deviation"
                    view=view
                    pick=|v: &View| (v.deviation_ms, v.deviation_text.clone())
                />
                <Metric
                    name="session-avg"
                    label="Session average drift"
                    short_label="Session avg"
                    view=view
                    pick=|v: &View| (v.session_avg_ms, v.session_avg_text.clone())
                />
            </section>
            {move || view.with(|v| v.message.clone()).map(|message| view! {
                <p class="lsh-message" data-message>{message}</p>
            })}
            {move || view.with(|v| v.expiry_text.clone()).map(|text| view! {
                <p class="lsh-expiry" data-expiry>{text}</p>
            })}
            {(!notice_items.is_empty()).then(|| view! {
                <ul class="lsh-notices" data-notices>
                    {notice_items
                        .into_iter()
                        .map(|n| view! { <li data-notice=n.param>{n.message}</li> })
                        .collect_view()}
                </ul>
            })}
            <HistoryChart history=history now_ms=now interval_ms=interval_ms />
        </main>
    }
}

/// One metric with its value in milliseconds in `data-value`.
#[component]
fn Metric(
    /// `data-metric` name.
    name: &'static str,
    /// Full label.
    label: &'static str,
    /// Label in the compact layout.
    short_label: &'static str,
    /// The view to read from.
    view: Memo<View>,
    /// Picks (value in ms, formatted text) from the view.
    pick: fn(&View) -> (Option<f64>, String),
) -> impl IntoView {
    let value = Memo::new(move |_| view.with(pick));
    view! {
        <div
            class="lsh-metric"
            data-metric=name
            data-value=move || value.with(|(ms, _)| ms.map(|ms| ms.to_string()))
        >
            <span class="lsh-metric-label lsh-long">{label}</span>
            <span class="lsh-metric-label lsh-short" aria-hidden="true">{short_label}</span>
            <span class="lsh-metric-value">{move || value.with(|(_, text)| text.clone())}</span>
        </div>
    }
}

/// A shape per status, so the status reads without colour.
#[component]
fn StatusIcon(
    /// The status to draw.
    #[prop(into)]
    status: Signal<Status>,
) -> impl IntoView {
    let shape = move || match status.get() {
        Status::Poor => "M12 2.5 23 21.5H1Z",
        Status::Good => "M4 4h16v16H4Z",
        Status::Excellent | Status::Unknown => "M12 2a10 10 0 1 0 0.01 0Z",
    };
    let mark = move || match status.get() {
        Status::Excellent => "M7 12.5l3.2 3.2L17 9",
        Status::Good => "M8 12h8",
        Status::Poor => "M12 9v5.5M12 17.6v.4",
        Status::Unknown => "M9.2 9.3a2.9 2.9 0 1 1 4 2.7c-.8.4-1.2.9-1.2 1.7v.6M12 17.4v.4",
    };
    view! {
        <svg class="lsh-icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
            <path class="lsh-icon-shape" d=shape />
            <path class="lsh-icon-mark" d=mark />
        </svg>
    }
}
