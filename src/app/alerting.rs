//! Opt-in alerts (`alerts=sound,notify,title`) for a streamer who is not
//! looking at the monitor.
//!
//! When to alert is decided by [`AlertTracker`] in the core (a change to
//! worse that persists, one "recovered" back, a cooldown); this file only
//! makes the signals:
//! - `sound`: a short Web Audio tone, two falling notes for worse and two
//!   rising for recovered (no audio file to download). Browsers only let a
//!   page make sound after the viewer interacts with it, so the widget shows
//!   an "Enable sound alerts" button until the first click or key press.
//! - `notify`: a desktop notification, after permission (asked from a
//!   button: browsers ignore permission prompts that no click asked for).
//!   One tag for all of them, so a new one replaces the last.
//! - `title`: the tab title leads with the current status word and the
//!   favicon takes its colour and shape, so a background tab shows it.
//!
//! [`Alerter::shutdown`] closes the audio context and puts the title and
//! favicon back.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::{append_to_head, js};

use crate::core::alerts::{Alert, AlertChannels, AlertTracker};
use crate::core::status::Status;

/// Makes the alert signals for one widget.
pub struct Alerter {
    channels: AlertChannels,
    tracker: AlertTracker,
    /// The `AudioContext`, once a gesture allowed one.
    audio: Option<JsValue>,
    original_title: String,
    favicon: Option<web_sys::Element>,
}

fn favicon_href(status: Status) -> String {
    // Fixed colours: a favicon cannot follow the page's custom properties.
    let (colour, shape) = match status {
        Status::Excellent => ("%230b7a36", "<circle cx='8' cy='8' r='7'/>"),
        Status::Good => (
            "%23c98a00",
            "<rect x='1.5' y='1.5' width='13' height='13'/>",
        ),
        Status::Poor => ("%23c4161c", "<path d='M8 0.5 15.5 15H0.5Z'/>"),
        Status::Unknown => ("%23808a96", "<circle cx='8' cy='8' r='7'/>"),
    };
    format!(
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><g fill='{colour}'>{shape}</g></svg>"
    )
}

impl Alerter {
    /// An alerter for the channels the streamer asked for.
    pub fn new(channels: AlertChannels) -> Alerter {
        Alerter {
            channels,
            tracker: AlertTracker::new(),
            audio: None,
            original_title: js::get(&document(), "title")
                .as_string()
                .unwrap_or_default(),
            favicon: None,
        }
    }

    /// The channels in use.
    pub fn channels(&self) -> AlertChannels {
        self.channels
    }

    /// True while sound is wanted but the browser has not allowed it yet.
    pub fn sound_locked(&self) -> bool {
        self.channels.sound && self.audio.as_ref().is_none_or(|audio| !is_running(audio))
    }

    /// Call from a user gesture: creates or resumes the audio context.
    pub fn unlock_sound(&mut self) {
        if !self.channels.sound {
            return;
        }
        if self.audio.is_none() {
            self.audio = js::construct("AudioContext", &[]).ok();
        }
        if let Some(audio) = &self.audio {
            let _ = js::call(audio, "resume", &[]);
        }
    }

    /// Feeds a new sample's status; signals when the tracker says so.
    pub fn on_sample(&mut self, status: Status, now_ms: f64) -> Option<Alert> {
        let alert = self.tracker.observe(status, now_ms)?;
        if self.channels.sound {
            self.tone(matches!(alert, Alert::Worse { .. }));
        }
        if self.channels.notify {
            notify(alert);
        }
        Some(alert)
    }

    /// Forgets the alert history (another stream).
    pub fn reset(&mut self) {
        self.tracker.reset();
    }

    /// Shows the current status in the tab title and favicon.
    pub fn show_in_title(&mut self, status: Status) {
        if !self.channels.title {
            return;
        }
        let title = format!("{} \u{b7} {}", status.label(), self.original_title);
        js::set(&document(), "title", &JsValue::from_str(&title));
        if self.favicon.is_none() {
            let Ok(link) = document().create_element("link") else {
                return;
            };
            let _ = link.set_attribute("rel", "icon");
            append_to_head(&link);
            self.favicon = Some(link);
        }
        if let Some(link) = &self.favicon {
            let _ = link.set_attribute("href", &favicon_href(status));
        }
    }

    fn tone(&self, worse: bool) {
        let Some(audio) = &self.audio else {
            return;
        };
        if !is_running(audio) {
            return;
        }
        let notes: [f32; 2] = if worse {
            [880.0, 587.33]
        } else {
            [587.33, 880.0]
        };
        let number = JsValue::from_f64;
        let start = js::get(audio, "currentTime").as_f64().unwrap_or(0.0);
        for (i, frequency) in notes.into_iter().enumerate() {
            let at = start + 0.18 * i as f64;
            let (Ok(oscillator), Ok(gain)) = (
                js::call(audio, "createOscillator", &[]),
                js::call(audio, "createGain", &[]),
            ) else {
                return;
            };
            js::set(&oscillator, "type", &JsValue::from_str("sine"));
            js::set(
                &js::get(&oscillator, "frequency"),
                "value",
                &number(f64::from(frequency)),
            );
            let envelope = js::get(&gain, "gain");
            let _ = js::call(&envelope, "setValueAtTime", &[number(0.0), number(at)]);
            let ramp = "linearRampToValueAtTime";
            let _ = js::call(&envelope, ramp, &[number(0.25), number(at + 0.02)]);
            let _ = js::call(&envelope, ramp, &[number(0.0), number(at + 0.16)]);
            let _ = js::call(&oscillator, "connect", std::slice::from_ref(&gain));
            let _ = js::call(&gain, "connect", &[js::get(audio, "destination")]);
            let _ = js::call(&oscillator, "start", &[number(at)]);
            let _ = js::call(&oscillator, "stop", &[number(at + 0.17)]);
        }
    }

    /// Closes the audio context and restores the title and favicon.
    pub fn shutdown(&mut self) {
        if let Some(audio) = self.audio.take() {
            let _ = js::call(&audio, "close", &[]);
        }
        if self.channels.title {
            js::set(
                &document(),
                "title",
                &JsValue::from_str(&self.original_title),
            );
        }
        if let Some(link) = self.favicon.take() {
            link.remove();
        }
    }
}

/// Whether an audio context plays (`state` is `"running"`).
fn is_running(audio: &JsValue) -> bool {
    js::get(audio, "state").as_string().as_deref() == Some("running")
}

/// `Notification.permission`: `"default"` (not asked yet), `"granted"` or
/// `"denied"`; `None` without the Notifications API.
fn notification_permission() -> Option<String> {
    js::get(&js::get(&window(), "Notification"), "permission").as_string()
}

/// Whether desktop notifications still need the viewer's permission.
pub fn notifications_need_permission() -> bool {
    notification_permission().as_deref() == Some("default")
}

/// Asks for notification permission (call from a click).
pub fn request_notifications() {
    let _ = js::call(
        &js::get(&window(), "Notification"),
        "requestPermission",
        &[],
    );
}

fn notify(alert: Alert) {
    if notification_permission().as_deref() != Some("granted") {
        return;
    }
    let (title, body) = match alert {
        Alert::Worse { to, .. } => (
            format!("Stream health: {}", to.label()),
            crate::core::advice::for_status(to),
        ),
        Alert::Recovered { to } => (
            format!("Stream health recovered: {}", to.label()),
            crate::core::advice::for_status(to),
        ),
    };
    let options = js_sys::Object::new();
    js::set(&options, "body", &JsValue::from_str(body));
    js::set(&options, "tag", &JsValue::from_str("live-stream-health"));
    let _ = js::construct("Notification", &[JsValue::from_str(&title), options.into()]);
}
