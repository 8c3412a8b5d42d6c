//! The view model: what the page shows, as memos over the state and the
//! clock, provided as context by the widget for every component to read.
//!
//! [`Monitor::view`](crate::core::monitor::Monitor::view) turns the monitor into a [`View`] at a given time; the
//! memo of it recomputes when the monitor changes or the clock ticks, and
//! tells its readers only when the view really changed. Each field a
//! component shows is read through a closure or a smaller memo of its own,
//! and every text node and attribute compares before it writes, so a tick
//! that changes "Updated 4 s ago" touches that one text node.
//!
//! The drift trend and the sample count depend on the history only: their
//! memos ignore the clock. Costlier derived state (chart geometry, the
//! summary) is a memo in the component that draws it, and computes nothing
//! while that component is hidden by the layout.

use leptos::prelude::*;

use crate::app::state::WidgetState;
use crate::app::use_clock::Clock;
use crate::core::counts::{Viewers, ViewersView};
use crate::core::history::History;
use crate::core::monitor::{Role, View};
use crate::core::obs::{Diagnosis, EncoderState, EncoderView, IngestSide, ObsClient};
use crate::core::poll::ConnState;
use crate::core::status::Status;
use crate::core::trend::{self, Trend};

/// Memos of what the page shows. Cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct LiveView {
    /// Everything the page shows at the clock's time.
    pub view: Memo<View>,
    /// `data-status`: the badge, the root and the alerts follow it.
    pub status: Memo<Status>,
    /// The drift trend at the newest sample (`None` until there are 90 s
    /// of data).
    pub trend: Memo<Option<Trend>>,
    /// Samples held (`data-samples`).
    pub samples: Memo<usize>,
    /// The poll interval, which tells a late poll from an outage.
    pub interval_ms: Memo<f64>,
    /// The viewer figures, or the note that stands in for them.
    pub viewers: Memo<ViewersView>,
    /// OBS's side at the clock's time (with `obs=PORT`; otherwise off,
    /// and then it reads neither the clock nor the health view).
    pub encoder: Memo<EncoderView>,
    /// The diagnosis from both sides, while OBS gives something to judge
    /// by: changes far less often than the figures.
    pub diagnosis: Memo<Option<Diagnosis>>,
}

impl LiveView {
    /// The memos over `state` and `clock`.
    pub fn new(state: WidgetState, clock: Clock) -> LiveView {
        let WidgetState {
            monitor,
            history,
            viewers,
            obs,
            ..
        } = state;
        let view = Memo::new(move |_| {
            let now = clock.now.get();
            monitor.with(|m| m.view(now))
        });
        let trend = Memo::new(move |_| history.with(drift_trend));
        let encoder = Memo::new(move |_| {
            if obs.with(|c| c.state() == EncoderState::Off) {
                return obs.with(|c| EncoderView::of(c, IngestSide::Unavailable, 0.0));
            }
            let now = clock.now.get();
            let ingest = trend.with(|t| view.with(|v| IngestSide::from_view(v, t.as_ref())));
            obs.with(|c: &ObsClient| EncoderView::of(c, ingest, now))
        });
        LiveView {
            view,
            status: Memo::new(move |_| view.with(|v| v.status)),
            trend,
            samples: Memo::new(move |_| history.with(History::sample_count)),
            interval_ms: Memo::new(move |_| monitor.with(|m| m.poller().interval_ms())),
            viewers: Memo::new(move |_| viewers.with(Viewers::view)),
            encoder,
            diagnosis: Memo::new(move |_| {
                encoder.with(|e| e.has_diagnosis().then_some(e.diagnosis))
            }),
        }
    }

    /// `data-state` (tracked).
    pub fn state(&self) -> ConnState {
        self.view.with(|v| v.state)
    }

    /// `data-stale` (tracked).
    pub fn stale(&self) -> bool {
        self.view.with(|v| v.stale)
    }

    /// Who polls for this tab, `data-poller` (tracked).
    pub fn role(&self) -> Role {
        self.view.with(|v| v.role)
    }

    /// Whether the stream is slowly falling behind (`[data-drift-warning]`).
    pub fn falling_behind(&self) -> bool {
        self.trend.with(|t| t.is_some_and(|t| t.falling_behind))
    }
}

/// The drift trend at the newest sample.
fn drift_trend(history: &History) -> Option<Trend> {
    let at = history.latest_sample()?.received_ms;
    trend::estimate(history, at)
}
