//! Where the widget's state lives, and how components reach it.
//!
//! Everything the widget knows is in seven signals, a [`WidgetState`]:
//! - the [`Monitor`] (configuration, poller, latest report, who polls);
//! - the [`Viewers`] (the viewer counts: their poller, latest answer and
//!   history), beside the monitor so a counts failure never touches it;
//! - the [`History`] ring (up to a day of samples, so it is borrowed with
//!   `.with()`, never cloned);
//! - the [`Ui`]: how the page is arranged, which a host page may change;
//! - the [`ObsClient`] (with `obs=PORT`: OBS's side of the stream, the
//!   connection to it and its figures), the [`StreamMarks`] it left on
//!   the chart and the [`DiagnosisLog`] the CSV reads, beside the monitor
//!   for the same reason as the viewers.
//!
//! Whoever mounts the widget creates the state ([`WidgetState::new`]) and
//! hands it to [`Widget`](crate::app::widget::Widget), which provides it as
//! context once; components read it with `expect_context::<WidgetState>()`.
//! A caller that keeps a copy can feed the state itself: the update-cost
//! benchmark fills the history with a day of samples and feeds reports
//! the way a poll does, with no other way into the widget.
//!
//! Values derived from the state (what the page shows at the clock's time,
//! the drift trend, the sample count) are memos in
//! [`LiveView`](crate::app::view_model::LiveView), provided next to it.

use leptos::prelude::*;

use crate::core::counts::Viewers;
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::obs::{DiagnosisLog, ObsClient, StreamMarks};
use crate::core::params::{Config, Layout, Notice, Theme};
use crate::core::protocol::ConfigChange;

/// The widget's state: seven signals, cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct WidgetState {
    /// Configuration, poller, latest report and who polls.
    pub monitor: RwSignal<Monitor>,
    /// The viewer counts.
    pub viewers: RwSignal<Viewers>,
    /// The samples and gaps of the history window.
    pub history: RwSignal<History>,
    /// The page's arrangement.
    pub ui: RwSignal<Ui>,
    /// OBS's side of the stream (off without `obs=PORT`).
    pub obs: RwSignal<ObsClient>,
    /// OBS's stream events, for the chart.
    pub obs_marks: RwSignal<StreamMarks>,
    /// When the diagnosis from both sides changed, for the CSV.
    pub obs_diagnoses: RwSignal<DiagnosisLog>,
}

impl WidgetState {
    /// The state for a configuration and the notices about its parameters,
    /// before any token is used (the widget starts polling when mounted).
    /// Call it under the owner that mounts the widget, so the signals are
    /// released with it.
    pub fn new(config: Config, notices: Vec<Notice>) -> WidgetState {
        let ui = Ui {
            layout: config.layout,
            theme: config.theme,
        };
        WidgetState {
            history: RwSignal::new(History::new(config.history_minutes)),
            viewers: RwSignal::new(Viewers::new(&config)),
            obs: RwSignal::new(ObsClient::new(config.obs.clone())),
            obs_marks: RwSignal::new(StreamMarks::new()),
            obs_diagnoses: RwSignal::new(DiagnosisLog::new()),
            monitor: RwSignal::new(Monitor::new(config, notices)),
            ui: RwSignal::new(ui),
        }
    }
}

impl WidgetState {
    /// Applies a host's `lsh:config`: a new poll interval, layout or
    /// theme, or viewer counts on or off (the counts hook restarts them).
    /// Readers hear of the arrangement only when it changed.
    pub fn apply(&self, change: &ConfigChange) {
        if let Some(interval_ms) = change.interval_ms {
            self.monitor.update(|m| m.set_interval_ms(interval_ms));
        }
        if let Some(on) = change.viewers {
            self.viewers.maybe_update(|v| {
                let changed = v.enabled() != on;
                v.set_enabled(on);
                changed
            });
        }
        self.ui.maybe_update(|ui| {
            let before = *ui;
            ui.layout = change.layout.unwrap_or(ui.layout);
            ui.theme = change.theme.unwrap_or(ui.theme);
            *ui != before
        });
    }
}

/// How the page is arranged; the host page may change both at run time
/// (`lsh:config`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ui {
    /// `data-layout`.
    pub layout: Layout,
    /// `data-theme`.
    pub theme: Theme,
}

impl Ui {
    /// Whether the full layout (chart and summary) shows.
    pub fn is_full(&self) -> bool {
        self.layout == Layout::Full
    }

    /// Whether the compact layout (sparkline) shows.
    pub fn is_compact(&self) -> bool {
        self.layout == Layout::Compact
    }
}
