//! [`use_wall_alerts`]: one alert channel for a whole wall, naming the
//! stream that changed ("Poor: Camera 2").
//!
//! Each stream gets a single monitor's hysteresis (two samples confirm a
//! status, the first is a silent baseline, one "worse" per minute and one
//! "recovered" back), kept per stream by [`WallAlerts`] in the core. What
//! this hook adds is that there is **one** of everything for the wall: one
//! effect reading every stream's latest sample, one `AudioContext`, one
//! pair of gesture listeners, one title and favicon, and one text
//! ([`UseWallAlerts::announcement`]) that the wall shows in its single
//! polite live region. Sixteen tiles with an alerter each would mean
//! sixteen listeners and sixteen tones for one event.
//!
//! With `alerts=title` the tab title leads with the last change's text
//! (before any, with the worst status on the wall) and the favicon shows
//! the worst status, so a background tab says both how bad it is and
//! which stream to look at. Notifications are tagged per stream: a
//! stream's "recovered" replaces its own "worse", never another stream's.
//!
//! The announcement is made whatever `alerts=` says: it is what a screen
//! reader hears instead of every tile's badge.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::app::use_alerts::{alert_channels, Alerter, UseAlerts};
use crate::core::alerts::{wall_alert_text, AlertChannels, WallAlerts};
use crate::core::history::History;
use crate::core::status::Status;

/// One stream, as the wall's alerts read it.
#[derive(Clone, Copy)]
pub struct WallAlertSource {
    /// The wall's id for the stream.
    pub id: usize,
    /// The tile's name.
    pub label: Signal<String>,
    /// The stream's samples.
    pub history: RwSignal<History>,
    /// The status its tile shows.
    pub status: Signal<Status>,
}

/// What [`use_wall_alerts`] returns.
#[derive(Clone, Copy)]
pub struct UseWallAlerts {
    /// The prompts (sound, notifications) and what their buttons do.
    pub prompts: UseAlerts,
    /// The last change, naming its stream; empty until one.
    pub announcement: ReadSignal<String>,
}

/// Alerts on `channels` when a stream of `streams` changes, naming it.
///
/// ```ignore
/// let alerts = use_wall_alerts(config.alerts, sources);
/// view! { <p aria-live="polite">{move || alerts.announcement.get()}</p> }
/// ```
///
/// At the owner's cleanup the listeners go, the audio context is closed
/// and the title and favicon are put back.
pub fn use_wall_alerts(
    channels: AlertChannels,
    streams: Signal<Vec<WallAlertSource>>,
) -> UseWallAlerts {
    let alerter = Rc::new(RefCell::new(Alerter::new(channels)));
    let (announcement, set_announcement) = signal(String::new());
    // Each stream's latest sample seen, and the trackers.
    let seen = Rc::new(RefCell::new(Vec::<(usize, Option<f64>)>::new()));
    let trackers = Rc::new(RefCell::new(WallAlerts::new()));
    {
        let alerter = Rc::clone(&alerter);
        Effect::new(move |_| {
            let sources = streams.get();
            let mut seen = seen.borrow_mut();
            let mut trackers = trackers.borrow_mut();
            let ids: Vec<usize> = sources.iter().map(|s| s.id).collect();
            seen.retain(|(id, _)| ids.contains(id));
            trackers.retain(&ids);
            for source in &sources {
                let latest = source
                    .history
                    .with(|h| h.latest_sample().map(|s| (s.received_ms, s.status)));
                let at = latest.map(|(at, _)| at);
                match seen.iter_mut().find(|(id, _)| *id == source.id) {
                    Some((_, before)) if *before == at => continue,
                    Some((_, before)) => *before = at,
                    None => seen.push((source.id, at)),
                }
                let Some((at, status)) = latest else {
                    // History cleared: another stream behind this tile.
                    trackers.reset(source.id);
                    continue;
                };
                let Some(alert) = trackers.observe(source.id, status, at) else {
                    continue;
                };
                let label = source.label.get_untracked();
                let text = wall_alert_text(&label, alert);
                alerter
                    .borrow()
                    .signal(alert, &text, &format!("live-stream-health:{label}"));
                set_announcement.set(text);
            }
        });
    }
    if channels.title {
        let alerter = Rc::clone(&alerter);
        Effect::new(move |_| {
            let worst = streams.with(|sources| {
                sources
                    .iter()
                    .map(|s| s.status.get())
                    .max_by_key(|s| s.severity())
                    .unwrap_or(Status::Unknown)
            });
            announcement.with(|text| {
                let lead = if text.is_empty() { worst.label() } else { text };
                alerter.borrow_mut().show_in_title(lead, worst);
            });
        });
    }
    UseWallAlerts {
        prompts: alert_channels(channels, alerter),
        announcement,
    }
}
