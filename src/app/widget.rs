//! The widget: status badge, metrics, connection state, messages and the
//! history chart, all derived from one [`View`] (see [`LiveView`]).
//!
//! The root element carries the DOM contract that hosts and tests rely on:
//! `data-status`, `data-state`, `data-stale`, `data-layout`, `data-theme`;
//! metrics are `[data-metric]` with `data-value` in milliseconds; the chart
//! is `svg[data-chart="history"]`; a message is in `[data-message]`.
//!
//! Shaped for a small WebAssembly bundle (every kilobyte is download time
//! for a streamer about to go live):
//! - every text, attribute and markup that changes is written by an
//!   [`app::bind`](crate::app::bind) binding (`use:bound`), one boxed
//!   closure type and one render effect for all of them; several
//!   attributes of one element share a binding;
//! - few reactive types: every signal, memo and derived signal of another
//!   value type is its own copy of Leptos's graph code (the four string
//!   memos and the three derived signals this widget once had cost 3.8 KB
//!   gzip), so values computed from signals are plain closures read by the
//!   binding that shows them;
//! - parts that are only ever replaced whole (the status icon, the
//!   connection line, the three metrics, the extras, the notices read once
//!   from the URL) are markup from [`crate::core::markup`], set with
//!   `inner_html` on an element that stays (moving the metrics and the
//!   connection line there saved 2.6 KB gzip);
//! - no `AnyView` and no `.into_any()`: type erasure measured larger than
//!   the few concrete view types here.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::app::alerting::{notifications_need_permission, request_notifications, Alerter};
use crate::app::driver::{interval, now_ms, Driver};
use crate::app::history_chart::HistoryChart;
use crate::app::host::Embedding;
use crate::app::location::follow_fragment;
use crate::app::persist::Persistence;
use crate::app::summary_panel::{download_csv, summary_panel};
use crate::app::{bind, bound, effect, html, on_change, put, text, Put};
use crate::core::chart::{chart_geometry, ChartFrame};
use crate::core::chart_svg::{sparkline_markup, SPARK_HEIGHT, SPARK_WIDTH};
use crate::core::history::History;
use crate::core::markup::{self, notice_items, status_icon, Extras};
use crate::core::monitor::{Monitor, View};
use crate::core::params::{Config, Layout, Notice, Theme};
use crate::core::trend::{self, Trend};

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
    let history = RwSignal::new(History::new(config.history_minutes));
    let monitor = RwSignal::new(Monitor::new(config, notices));
    widget_with(monitor, history, follow_location)
}

/// The widget around state its caller holds: everything [`Widget`] does,
/// with the monitor and history signals created outside, so a caller can
/// mount it over a history it built (the update-cost benchmark mounts it
/// over a full day of samples and feeds reports the way a poll does).
pub fn widget_with(
    monitor: RwSignal<Monitor>,
    history: RwSignal<History>,
    follow_location: bool,
) -> impl IntoView {
    let (layout, theme, origin, channels) = monitor.with_untracked(|m| {
        let config = m.config();
        (
            config.layout,
            config.theme,
            config.origin.clone(),
            config.alerts,
        )
    });
    let ui = RwSignal::new(Ui {
        layout,
        theme,
        sound_locked: channels.sound,
        notify_needed: channels.notify && notifications_need_permission(),
    });
    let embedded_flag = origin.is_some().then_some("");
    let now = RwSignal::new(now_ms());
    let root: Root = Rc::default();

    let driver = Driver::new(monitor, history);
    let persistence = Persistence::start(monitor, history);
    driver.start();
    let clock = interval(CLOCK_TICK_MS, move || {
        // The signal is gone once the widget is unmounted; ignore that tick.
        let _ = now.try_set(now_ms());
    });
    let fragment_listener = follow_location.then(|| follow_fragment(monitor, driver.clone()));

    let view = LiveView { monitor, now };
    let interval_ms = move || monitor.with(|m| m.poller().interval_ms());
    let notices = monitor.with_untracked(|m| notice_items(m.notices()));
    let trend = move || drift_trend(history);

    let embedding = origin.map(|origin| {
        Embedding::connect(
            origin,
            monitor,
            view,
            history,
            driver.clone(),
            ui,
            Rc::clone(&root),
        )
    });

    // Alerts: every new sample goes through the hysteresis; the title
    // follows the status shown.
    let alerter = Rc::new(RefCell::new(Alerter::new(channels)));
    if channels.any() {
        let on_sample = Rc::clone(&alerter);
        on_change(
            move || history.with(|h| h.latest_sample().map(|s| (s.received_ms as i64, s.status))),
            move |latest| match *latest {
                Some((at, status)) => {
                    on_sample.borrow_mut().on_sample(status, at as f64);
                }
                None => on_sample.borrow_mut().reset(),
            },
        );
        let title = Rc::clone(&alerter);
        effect(move || title.borrow_mut().show_in_title(view.with(|v| v.status)));
    }
    // Browsers allow sound only after the viewer interacts with the page.
    let unlock = channels.sound.then(|| {
        let unlock = {
            let alerter = Rc::clone(&alerter);
            move || {
                alerter.borrow_mut().unlock_sound();
                change_ui(ui, &|ui| ui.sound_locked = false);
            }
        };
        let on_key = unlock.clone();
        [
            window_event_listener(ev::pointerdown, move |_| unlock()),
            window_event_listener(ev::keydown, move |_| on_key()),
        ]
    });
    // One click listener for every button of the widget (`data-action`).
    let clicked_root = Rc::clone(&root);
    let actions = window_event_listener(ev::click, move |event| {
        let Some(target) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let Some(button) = target.closest("[data-action]").ok().flatten() else {
            return;
        };
        let button: Element = button;
        let inside = clicked_root
            .get()
            .is_some_and(|root| root.contains(Some(button.as_ref())));
        if !inside {
            return;
        }
        let action = button.get_attribute("data-action");
        match action.as_deref() {
            Some("download-csv") => {
                download_csv(history, untrack(interval_ms));
            }
            Some("enable-notifications") => {
                request_notifications();
                change_ui(ui, &|ui| ui.notify_needed = false);
            }
            _ => {}
        }
    });

    let owned = SendWrapper::new((
        driver,
        clock,
        fragment_listener,
        persistence,
        embedding,
        alerter,
        (unlock, actions),
    ));
    on_cleanup(move || {
        let (driver, clock, fragment_listener, persistence, embedding, alerter, listeners) =
            owned.take();
        driver.shutdown();
        clock.cancel();
        if let Some(listener) = fragment_listener {
            listener.remove();
        }
        persistence.shutdown(monitor, history);
        if let Some(embedding) = embedding {
            embedding.shutdown();
        }
        alerter.borrow_mut().shutdown();
        let (unlock, actions) = listeners;
        for listener in unlock.into_iter().flatten() {
            listener.remove();
        }
        actions.remove();
    });

    let metrics = move || {
        let trend = trend();
        view.with(|v| markup::metrics(v, trend.as_ref()))
    };
    let extras = move || {
        markup::extras(&Extras {
            advice: view.with(|v| v.advice),
            falling_behind: trend().is_some_and(|t| t.falling_behind),
            sound_locked: ui.with(|ui| ui.sound_locked),
            notify_needed: ui.with(|ui| ui.notify_needed),
        })
    };

    // The root's attributes: one binding for the five that change.
    let root_attributes = {
        let root = Rc::clone(&root);
        let mut last: [Option<String>; 5] = Default::default();
        bind(move |element| {
            let _ = root.set(element.clone());
            let (status, state, stale) = view.with(|v| (v.status, v.state, v.stale));
            let values = [
                status.as_str(),
                state.as_str(),
                if stale { "true" } else { "false" },
                ui.with(|ui| ui.layout.as_str()),
                ui.with(|ui| ui.theme.as_str()),
            ];
            for ((name, value), last) in ROOT_ATTRIBUTES.iter().zip(values).zip(&mut last) {
                put(element, Put::Attr(name), value.to_owned(), last);
            }
        })
    };
    // The compact layout shows the sparkline, the full one the chart and
    // the summary; both are always there and CSS shows one (one view type
    // instead of two conditional ones keeps the WebAssembly smaller). The
    // sparkline only draws while compact, the chart and the summary only
    // while full.
    let spark = {
        let (mut samples, mut markup) = (None, None);
        bind(move |element| {
            let count = history.with(|h| h.sample_count().to_string());
            put(element, Put::Attr("data-samples"), count, &mut samples);
            let sparkline = if ui.with(|ui| ui.layout) == Layout::Compact {
                let (now_ms, interval_ms) = (now.get(), interval_ms());
                history.with(|h| {
                    let frame = ChartFrame {
                        now_ms,
                        window_ms: h.window_ms(),
                        width: SPARK_WIDTH,
                        height: SPARK_HEIGHT,
                        interval_ms,
                    };
                    sparkline_markup(&chart_geometry(h, &frame))
                })
            } else {
                String::new()
            };
            put(element, Put::Html, sparkline, &mut markup);
        })
    };
    let embedded = embedded_flag;
    view! {
        <main class="lsh" use:bound=root_attributes data-embedded=embedded>
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
                        use:bound=html(move || view.with(|v| status_icon(v.status)))
                    ></svg>
                    <span
                        class="lsh-word"
                        data-word
                        role="status"
                        aria-live="polite"
                        use:bound=text(move || view.with(|v| v.status.label().to_owned()))
                    ></span>
                </div>
                <div class="lsh-conn" use:bound=html(move || view.with(markup::connection))></div>
            </header>
            <section
                class="lsh-metrics"
                aria-label="Stream drift"
                use:bound=html(metrics)
            ></section>
            <div class="lsh-extras" use:bound=html(extras)></div>
            {optional(view, |v| v.message.clone(), |message| view! {
                <p class="lsh-message" data-message>{message}</p>
            })}
            {optional(view, |v| v.expiry_text.clone(), |text| view! {
                <p class="lsh-expiry" data-expiry>{text}</p>
            })}
            {(!notices.is_empty()).then(|| view! {
                <ul class="lsh-notices" data-notices use:bound=html(move || notices.clone())></ul>
            })}
            <svg
                class="lsh-spark"
                data-chart="sparkline"
                use:bound=spark
                viewBox="0 0 300 40"
                preserveAspectRatio="none"
                role="img"
                aria-label="Deviation over the history window"
            ></svg>
            <HistoryChart history=history monitor=monitor now_ms=now ui=ui />
            {summary_panel(history, monitor, ui)}
        </main>
    }
}

/// The root attributes that change, in the order they are written.
const ROOT_ATTRIBUTES: [&str; 5] = [
    "data-status",
    "data-state",
    "data-stale",
    "data-layout",
    "data-theme",
];

/// The drift trend at the newest sample (tracked: it changes with the
/// history, not with the clock). Computed where it is read rather than kept
/// in a memo: it looks at a few minutes of samples, and a memo of another
/// value type is another copy of Leptos's code.
pub fn drift_trend(history: RwSignal<History>) -> Option<Trend> {
    history.with(|h| {
        h.latest_sample()
            .map(|s| s.received_ms)
            .and_then(|at| trend::estimate(h, at))
    })
}

/// The page's own state besides the monitor: its arrangement and the
/// buttons it offers. One signal for all of it: a signal of another value
/// type is another copy of Leptos's code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ui {
    /// `data-layout`; a host may change it.
    pub layout: Layout,
    /// `data-theme`; a host may change it.
    pub theme: Theme,
    /// Sound alerts wait for a first click or key press.
    pub sound_locked: bool,
    /// Notifications wait for the viewer's permission.
    pub notify_needed: bool,
}

impl Ui {
    /// Whether the full layout (chart and summary) shows.
    pub fn is_full(self) -> bool {
        self.layout == Layout::Full
    }
}

/// Changes `ui`, telling its readers only when something did change.
pub fn change_ui(ui: RwSignal<Ui>, change: &dyn Fn(&mut Ui)) {
    ui.try_maybe_update(|current| {
        let before = *current;
        change(current);
        (*current != before, ())
    });
}

/// What the widget shows, computed from the monitor and the clock where it
/// is read (tracked). Not a memo: the view changes with the clock every
/// second anyway, its readers compare what they write, and a memo of it was
/// the last user of Leptos's memo code.
#[derive(Clone, Copy)]
pub struct LiveView {
    monitor: RwSignal<Monitor>,
    now: RwSignal<f64>,
}

impl LiveView {
    /// Reads the current view (tracked).
    pub fn with<U>(self, read: impl FnOnce(&View) -> U) -> U {
        read(&self.current())
    }

    /// Reads the current view without tracking.
    pub fn with_untracked<U>(self, read: impl FnOnce(&View) -> U) -> U {
        read(&untrack(|| self.current()))
    }

    #[inline(never)]
    fn current(self) -> View {
        let now = self.now.get();
        self.monitor.with(|m| m.view(now))
    }
}

/// Where the root element is kept once built.
pub type Root = Rc<std::cell::OnceCell<web_sys::Element>>;

/// An element that exists only while `pick` gives it text (`[data-message]`
/// is absent, not empty, when there is no message). Deliberately not an
/// `AnyView`: type erasure brings its own code per view type, and measured
/// larger than these three small instantiations (`.into_any()` on the
/// components cost 5 KB gzip).
fn optional<V: IntoView + 'static>(
    view: LiveView,
    pick: fn(&View) -> Option<String>,
    element: fn(String) -> V,
) -> impl IntoView {
    move || view.with(pick).map(element)
}
