//! [`Widget`]: the live stream health widget. It provides the state to its
//! components, starts the hooks that talk to the outside world, and lays
//! the components out.
//!
//! The root element carries the DOM contract that hosts and tests rely on:
//! `data-status`, `data-state`, `data-stale`, `data-layout`, `data-theme`
//! (and `data-embedded` with an `origin`). Every part of the page is a
//! component of its own under [`crate::app::components`]; they are all
//! always there, and CSS shows those the layout wants (the compact layout
//! shows the sparkline, the full one the chart and the summary). Hidden
//! parts compute nothing: their memos look at the layout first.

use leptos::html::Main;
use leptos::prelude::*;

use crate::app::components::advice::Advice;
use crate::app::components::connection::ConnectionLine;
use crate::app::components::encoder::EncoderPanel;
use crate::app::components::history_chart::HistoryChart;
use crate::app::components::messages::Messages;
use crate::app::components::metrics::Metrics;
use crate::app::components::notices::Notices;
use crate::app::components::sparkline::Sparkline;
use crate::app::components::status_badge::StatusBadge;
use crate::app::components::summary::SummaryPanel;
use crate::app::components::viewers::ViewerFigures;
use crate::app::state::WidgetState;
use crate::app::use_alerts::use_alerts;
use crate::app::use_clock::use_clock;
use crate::app::use_counts::use_counts;
use crate::app::use_diagnosis_log::use_diagnosis_log;
use crate::app::use_host_messages::{use_host_messages, UseHostMessagesOptions};
use crate::app::use_location_fragment::use_location_fragment;
use crate::app::use_obs::use_obs;
use crate::app::use_persisted_history::use_persisted_history;
use crate::app::use_poller::use_poller;
use crate::app::view_model::LiveView;
use crate::core::history::History;
use crate::core::obs::ObsSettings;

/// How often "updated N s ago" and countdowns refresh.
const CLOCK_TICK_MS: u32 = 1000;

/// The live stream health widget over `state`.
///
/// ```ignore
/// let (config, notices) = config_from_location();
/// mount_to_body(move || view! { <Widget state=WidgetState::new(config, notices) /> });
/// ```
///
/// It polls with the state's token as soon as it is built, keeps the
/// history in `sessionStorage`, talks to the host page when an `origin` is
/// configured and raises the alerts asked for; everything it starts stops
/// when it is unmounted.
#[component]
pub fn Widget(
    /// The state to show and keep up to date. The caller may keep a copy
    /// (it is four signals) to read or feed it.
    state: WidgetState,
    /// Follow the page's URL fragment (a monitor link pasted into the same
    /// tab); off for widgets mounted with a configuration of their own.
    #[prop(default = false)]
    follow_location: bool,
) -> impl IntoView {
    let WidgetState {
        monitor,
        history,
        ui,
        viewers,
        obs,
        obs_marks,
        obs_diagnoses,
    } = state;
    let (origin, channels, obs_port) = monitor.with_untracked(|m| {
        let config = m.config();
        let obs_port = config.obs.as_ref().map(ObsSettings::port);
        (config.origin.clone(), config.alerts, obs_port)
    });
    provide_context(state);
    let clock = use_clock(CLOCK_TICK_MS);
    provide_context(clock);
    let live = LiveView::new(state, clock);
    provide_context(live);

    // The poller first: its first request is queued before anything else
    // the widget starts.
    let poller = use_poller(monitor, history);
    // The viewer counts wait for health's first answer (see use_counts).
    use_counts(monitor, viewers);
    use_persisted_history(monitor, history);
    if follow_location {
        use_location_fragment(monitor, poller.set_token);
    }
    let obs = use_obs(
        obs,
        UnsyncCallback::new(move |(at_ms, mark)| {
            let window_ms = history.with_untracked(History::window_ms);
            obs_marks.update(|marks| marks.push(at_ms, mark, window_ms));
        }),
    );
    // The CSV says which diagnosis was in effect at each status change.
    if obs_port.is_some() {
        use_diagnosis_log(live.diagnosis, history, obs_diagnoses);
    }
    let alerts = use_alerts(channels, history, live.status.into());
    let root = NodeRef::<Main>::new();
    let embedded = origin.is_some().then_some("");
    if let Some(origin) = origin {
        use_host_messages(UseHostMessagesOptions {
            origin,
            monitor,
            view: live.view,
            trend: live.trend,
            viewers: live.viewers,
            encoder: live.encoder,
            root,
            on_token: UnsyncCallback::new(move |token| poller.set_token.run(Some(token))),
            on_config: UnsyncCallback::new(move |change| state.apply(&change)),
            // The page's policy allows the link's OBS port only (see
            // core::csp): a host may bring the password, not another port.
            on_obs: UnsyncCallback::new(move |settings: ObsSettings| {
                if Some(settings.port()) == obs_port {
                    obs.set_settings.run(settings);
                }
            }),
        });
    }

    view! {
        <main
            class="lsh"
            node_ref=root
            data-status=move || live.status.get().as_str()
            data-state=move || live.state().as_str()
            data-stale=move || if live.stale() { "true" } else { "false" }
            data-layout=move || ui.with(|ui| ui.layout.as_str())
            data-theme=move || ui.with(|ui| ui.theme.as_str())
            data-embedded=embedded
        >
            <header class="lsh-head">
                <StatusBadge />
                <ConnectionLine />
            </header>
            <Metrics />
            <ViewerFigures />
            <EncoderPanel />
            <Advice alerts=alerts />
            <Messages />
            <Notices />
            <Sparkline />
            <HistoryChart />
            <SummaryPanel />
        </main>
    }
}
