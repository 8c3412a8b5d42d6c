//! When to alert a streamer: on a change to worse that persists, with one
//! "recovered" signal back, never a storm when the status flaps.
//!
//! A status counts once it has been seen in [`CONFIRM_SAMPLES`] consecutive
//! samples; a single odd sample changes nothing. A confirmed change to a
//! worse status (by [`Status::severity`]: excellent < good < unknown < poor)
//! alerts, at most once per [`COOLDOWN_MS`]; while an alert stands, the first
//! confirmed return to the status before it (or better) sends one
//! "recovered". The first confirmed status after start sets the baseline
//! silently: a streamer opening the monitor sees the status already.
//!
//! The tab title (`alerts=title`) is not an alert: it always shows the
//! current status word.
//!
//! A wall keeps one tracker per stream ([`WallAlerts`]) and names the
//! stream in what it says ([`wall_alert_text`]).

use crate::core::status::Status;

/// Consecutive samples a new status needs before it counts.
pub const CONFIRM_SAMPLES: u32 = 2;
/// Shortest time between two "worse" alerts.
pub const COOLDOWN_MS: f64 = 60_000.0;

/// What to signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alert {
    /// The stream got worse and stayed worse.
    Worse {
        /// The confirmed status before.
        from: Status,
        /// The new confirmed status.
        to: Status,
    },
    /// The stream is back to where it was before the last alert, or better.
    Recovered {
        /// The new confirmed status.
        to: Status,
    },
}

/// Which alerts the streamer asked for (`alerts=sound,notify,title`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AlertChannels {
    /// A short tone.
    pub sound: bool,
    /// A desktop notification (after permission).
    pub notify: bool,
    /// The status word leads the tab title, and a coloured favicon.
    pub title: bool,
}

impl AlertChannels {
    /// True when any channel is on.
    pub fn any(&self) -> bool {
        self.sound || self.notify || self.title
    }
}

/// Hysteresis over the stream of samples.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AlertTracker {
    confirmed: Option<Status>,
    candidate: Option<(Status, u32)>,
    /// The confirmed status before the standing alert, while one stands.
    alert_baseline: Option<Status>,
    last_worse_ms: Option<f64>,
}

impl AlertTracker {
    /// A tracker with no baseline yet.
    pub fn new() -> AlertTracker {
        AlertTracker::default()
    }

    /// The confirmed status, once there is one.
    pub fn confirmed(&self) -> Option<Status> {
        self.confirmed
    }

    /// Feeds one new sample's status at `now_ms`.
    pub fn observe(&mut self, status: Status, now_ms: f64) -> Option<Alert> {
        if Some(status) == self.confirmed {
            self.candidate = None;
            return None;
        }
        let seen = match self.candidate {
            Some((candidate, count)) if candidate == status => count + 1,
            _ => 1,
        };
        if seen < CONFIRM_SAMPLES {
            self.candidate = Some((status, seen));
            return None;
        }
        self.candidate = None;
        // The first confirmed status is the silent baseline.
        let previous = self.confirmed.replace(status)?;
        if status.severity() > previous.severity() {
            let cooled = self
                .last_worse_ms
                .is_none_or(|at| now_ms - at >= COOLDOWN_MS);
            if self.alert_baseline.is_some() {
                // Worse again while an alert stands (good, then poor).
                if cooled {
                    self.last_worse_ms = Some(now_ms);
                    return Some(Alert::Worse {
                        from: previous,
                        to: status,
                    });
                }
                return None;
            }
            if cooled {
                // Only a signalled "worse" earns a "recovered" later.
                self.alert_baseline = Some(previous);
                self.last_worse_ms = Some(now_ms);
                return Some(Alert::Worse {
                    from: previous,
                    to: status,
                });
            }
            return None;
        }
        match self.alert_baseline {
            Some(baseline) if status.severity() <= baseline.severity() => {
                self.alert_baseline = None;
                Some(Alert::Recovered { to: status })
            }
            _ => None,
        }
    }

    /// Forgets everything (a different stream).
    pub fn reset(&mut self) {
        *self = AlertTracker::default();
    }
}

/// A wall's alerts: one [`AlertTracker`] per stream, so each stream gets
/// the hysteresis, baseline and cooldown of a single monitor, and one
/// channel says which stream changed ([`wall_alert_text`]). Streams are
/// known by the wall's id for them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WallAlerts {
    trackers: Vec<(usize, AlertTracker)>,
}

impl WallAlerts {
    /// No stream seen yet.
    pub fn new() -> WallAlerts {
        WallAlerts::default()
    }

    /// Feeds one new sample of the stream `stream`.
    pub fn observe(&mut self, stream: usize, status: Status, now_ms: f64) -> Option<Alert> {
        let at = match self.trackers.iter().position(|(id, _)| *id == stream) {
            Some(at) => at,
            None => {
                self.trackers.push((stream, AlertTracker::new()));
                self.trackers.len() - 1
            }
        };
        self.trackers[at].1.observe(status, now_ms)
    }

    /// Forgets one stream's alert history (it watches another stream now).
    pub fn reset(&mut self, stream: usize) {
        self.trackers.retain(|(id, _)| *id != stream);
    }

    /// Forgets the streams that left the wall.
    pub fn retain(&mut self, streams: &[usize]) {
        self.trackers.retain(|(id, _)| streams.contains(id));
    }
}

/// What a wall says (title, notification, screen readers) when the stream
/// named `label` changes: `Poor: Camera 2`, or `Excellent again: Camera 2`.
pub fn wall_alert_text(label: &str, alert: Alert) -> String {
    match alert {
        Alert::Worse { to, .. } => format!("{}: {label}", to.label()),
        Alert::Recovered { to } => format!("{} again: {label}", to.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Excellent as E, Good as G, Poor as P, Unknown as U};

    #[test]
    fn a_wall_tracks_each_stream_on_its_own() {
        let mut wall = WallAlerts::new();
        let mut alerts = Vec::new();
        // Stream 1 flips every sample (never confirmed); stream 2 goes
        // from excellent to poor and stays there.
        let one = [E, P, E, P, E, P];
        let two = [E, E, P, P, P, P];
        for (i, (a, b)) in one.iter().zip(two.iter()).enumerate() {
            let now = i as f64 * 1000.0;
            alerts.extend(wall.observe(1, *a, now).map(|x| (1, x)));
            alerts.extend(wall.observe(2, *b, now).map(|x| (2, x)));
        }
        assert_eq!(alerts, vec![(2, Alert::Worse { from: E, to: P })]);
        // A reset stream sets a new baseline silently.
        wall.reset(2);
        assert_eq!(wall.observe(2, G, 9000.0), None);
        assert_eq!(wall.observe(2, G, 10_000.0), None);
        wall.retain(&[1]);
        assert_eq!(wall, {
            let mut only = WallAlerts::new();
            for (i, s) in one.iter().enumerate() {
                only.observe(1, *s, i as f64 * 1000.0);
            }
            only
        });
    }

    #[test]
    fn the_wall_names_the_stream_that_changed() {
        let worse = Alert::Worse { from: E, to: P };
        assert_eq!(wall_alert_text("Camera 2", worse), "Poor: Camera 2");
        let back = Alert::Recovered { to: E };
        assert_eq!(
            wall_alert_text("Camera 2", back),
            "Excellent again: Camera 2"
        );
    }

    fn run(statuses: &[Status], step_ms: f64) -> Vec<(usize, Alert)> {
        let mut tracker = AlertTracker::new();
        statuses
            .iter()
            .enumerate()
            .filter_map(|(i, s)| tracker.observe(*s, i as f64 * step_ms).map(|a| (i, a)))
            .collect()
    }

    #[test]
    fn the_first_status_sets_the_baseline_silently() {
        assert!(run(&[P, P, P, P], 5000.0).is_empty());
    }

    #[test]
    fn a_worse_status_alerts_once_it_persists() {
        let alerts = run(&[E, E, P, P, P, P], 5000.0);
        assert_eq!(alerts, vec![(3, Alert::Worse { from: E, to: P })]);
    }

    #[test]
    fn a_single_bad_sample_is_not_an_alert() {
        assert!(run(&[E, E, P, E, E, G, E, E], 5000.0).is_empty());
    }

    #[test]
    fn flapping_every_sample_never_alerts() {
        let flapping: Vec<Status> = (0..200).map(|i| if i % 2 == 0 { E } else { P }).collect();
        assert!(run(&flapping, 1000.0).is_empty());
    }

    #[test]
    fn recovery_is_signalled_once() {
        let alerts = run(&[E, E, P, P, G, G, E, E, E], 5000.0);
        assert_eq!(
            alerts,
            vec![
                (3, Alert::Worse { from: E, to: P }),
                (7, Alert::Recovered { to: E })
            ]
        );
    }

    #[test]
    fn recovering_to_the_baseline_is_enough() {
        let alerts = run(&[G, G, P, P, G, G], 5000.0);
        assert_eq!(
            alerts,
            vec![
                (3, Alert::Worse { from: G, to: P }),
                (5, Alert::Recovered { to: G })
            ]
        );
    }

    #[test]
    fn getting_worse_step_by_step_alerts_each_step_after_the_cooldown() {
        let alerts = run(&[E, E, G, G, P, P], 60_000.0);
        assert_eq!(
            alerts,
            vec![
                (3, Alert::Worse { from: E, to: G }),
                (5, Alert::Worse { from: G, to: P })
            ]
        );
        let fast = run(&[E, E, G, G, P, P], 5000.0);
        assert_eq!(fast, vec![(3, Alert::Worse { from: E, to: G })]);
    }

    #[test]
    fn slow_flapping_is_rate_limited_by_the_cooldown() {
        let pattern: Vec<Status> = (0..60)
            .map(|i| if (i / 2) % 2 == 0 { E } else { P })
            .collect();
        let worse = run(&pattern, 5000.0)
            .into_iter()
            .filter(|(_, a)| matches!(a, Alert::Worse { .. }))
            .count();
        // 60 samples of 5 s = 300 s: at most one "worse" per minute, and
        // never a "recovered" that no "worse" announced.
        assert!(worse <= 5, "{worse} alerts in five minutes");
        let mut standing = false;
        for (_, alert) in run(&pattern, 5000.0) {
            match alert {
                Alert::Worse { .. } => standing = true,
                Alert::Recovered { .. } => {
                    assert!(standing, "recovered without a worse");
                    standing = false;
                }
            }
        }
    }

    #[test]
    fn losing_the_stream_alerts_too() {
        assert_eq!(
            run(&[E, E, U, U], 5000.0),
            vec![(3, Alert::Worse { from: E, to: U })]
        );
    }
}
