//! The widget: status badge, metrics, connection state, messages and the
//! history chart, all derived from one [`View`] memo.
//!
//! The root element carries the DOM contract that hosts and tests rely on:
//! `data-status`, `data-state`, `data-stale`, `data-layout`, `data-theme`;
//! metrics are `[data-metric]` with `data-value` in milliseconds; the chart
//! is `svg[data-chart="history"]`; a message is in `[data-message]`.
//!
//! Shaped for a small WebAssembly bundle (every kilobyte is download time
//! for a streamer about to go live):
//! - every text and attribute is a `Signal` made by `derive` from the one
//!   memo and a plain `fn` picking the field, so Leptos's rendering code is
//!   instantiated once per value type, not once per closure;
//! - parts that are only ever replaced whole (the status icon, the notices
//!   read once from the URL) are markup from [`crate::core::markup`], set
//!   with `inner_html`;
//! - no `AnyView` and no `.into_any()`: type erasure measured larger than
//!   the few concrete view types here.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::app::driver::{now_ms, Driver};
use crate::app::history_chart::HistoryChart;
use crate::app::location::follow_fragment;
use crate::core::format::format_value;
use crate::core::history::History;
use crate::core::markup::{notice_items, status_icon};
use crate::core::monitor::{Monitor, View};
use crate::core::params::{Config, Notice};

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
    let owned = SendWrapper::new((driver, clock, fragment_listener));
    on_cleanup(move || {
        let (driver, clock, fragment_listener) = owned.take();
        driver.shutdown();
        clock.cancel();
        drop(fragment_listener);
    });

    let view = Memo::new(move |_| monitor.with(|m| m.view(now.get())));
    let interval_ms = Signal::derive(move || monitor.with(|m| m.poller().interval_ms()));
    let notices = monitor.with_untracked(|m| notice_items(m.notices()));

    let text = |pick| derive(view, pick);
    view! {
        <main
            class="lsh"
            data-status=text(|v| v.status.as_str().into())
            data-state=text(|v| v.state.as_str().into())
            data-stale=text(|v| v.stale.to_string())
            data-layout=layout.as_str()
            data-theme=theme.as_str()
        >
            <header class="lsh-head">
                <div class="lsh-badge">
                    // A shape per status, so the status reads without colour.
                    <svg
                        class="lsh-icon"
                        viewBox="0 0 24 24"
                        width="24"
                        height="24"
                        aria-hidden="true"
                        focusable="false"
                        inner_html=text(|v| status_icon(v.status))
                    ></svg>
                    <span class="lsh-word" data-word role="status" aria-live="polite">
                        {text(|v| v.status.label().into())}
                    </span>
                </div>
                <div class="lsh-conn">
                    <span class="lsh-state-text" data-state-text>
                        {text(|v| v.state_text.clone())}
                    </span>
                    <span class="lsh-updated" data-updated>
                        {derive(view, |v| v.updated_text.clone())}
                    </span>
                    {optional(view, |v| v.stale.then(|| "stale".into()), |text| view! {
                        <span class="lsh-stale-tag" data-stale-tag>{text}</span>
                    })}
                </div>
            </header>
            <section class="lsh-metrics" aria-label="Stream drift">
                {metric(
                    view,
                    ["deviation", "Deviation from 30 s average", "Deviation"],
                    |v| v.deviation_ms.map(format_value),
                    |v| v.deviation_text.clone(),
                )}
                {metric(
                    view,
                    ["session-avg", "Session average drift", "Session avg"],
                    |v| v.session_avg_ms.map(format_value),
                    |v| v.session_avg_text.clone(),
                )}
            </section>
            {optional(view, |v| v.message.clone(), |message| view! {
                <p class="lsh-message" data-message>{message}</p>
            })}
            {optional(view, |v| v.expiry_text.clone(), |text| view! {
                <p class="lsh-expiry" data-expiry>{text}</p>
            })}
            {(!notices.is_empty()).then(|| view! {
                <ul class="lsh-notices" data-notices inner_html=notices></ul>
            })}
            <HistoryChart history=history now_ms=now interval_ms=interval_ms />
        </main>
    }
}

/// A value derived from the view. Every text and attribute of the widget
/// goes through this one function, so they share one closure type and
/// Leptos's rendering code is compiled once for all of them instead of once
/// per field (each `move ||` in a view is its own monomorphized effect).
fn derive<T>(view: Memo<View>, pick: fn(&View) -> T) -> Signal<T>
where
    T: Send + Sync + 'static,
{
    Signal::derive(move || view.with(pick))
}

/// An element that exists only while `pick` gives it text (`[data-message]`
/// is absent, not empty, when there is no message). Deliberately not an
/// `AnyView`: type erasure brings its own code per view type, and measured
/// larger than these three small instantiations (`.into_any()` on the
/// components cost 5 KB gzip).
fn optional<V: IntoView + 'static>(
    view: Memo<View>,
    pick: fn(&View) -> Option<String>,
    element: fn(String) -> V,
) -> impl IntoView {
    move || view.with(pick).map(element)
}

/// One metric: `[data-metric]` with its value in milliseconds in
/// `data-value` (absent when unknown), the full and the compact label, and
/// the formatted value. `names` is `[data-metric, label, short label]`.
fn metric(
    view: Memo<View>,
    [name, label, short_label]: [&'static str; 3],
    value: fn(&View) -> Option<String>,
    text: fn(&View) -> String,
) -> impl IntoView {
    view! {
        <div class="lsh-metric" data-metric=name data-value=derive(view, value)>
            <span class="lsh-metric-label lsh-long">{label}</span>
            <span class="lsh-metric-label lsh-short" aria-hidden="true">{short_label}</span>
            <span class="lsh-metric-value">{derive(view, text)}</span>
        </div>
    }
}
