//! [`use_alerts`]: opt-in alerts (`alerts=sound,notify,title`) for a
//! streamer who is not looking at the monitor.
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
//! The wall's alerts ([`crate::app::use_wall_alerts`]) make their signals
//! with the same [`Alerter`] and prompts ([`alert_channels`]): one tone,
//! one notification and one title for all its streams.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsValue;
use web_sys::{
    AudioContext, AudioContextState, Notification, NotificationOptions, NotificationPermission,
    OscillatorType,
};

use crate::core::alerts::{Alert, AlertChannels, AlertTracker};
use crate::core::history::History;
use crate::core::status::Status;

/// What [`use_alerts`] returns: the prompts the page shows and what their
/// buttons do.
#[derive(Clone, Copy)]
pub struct UseAlerts {
    /// Sound alerts are wanted, but the browser waits for a click or key
    /// press first.
    pub sound_locked: ReadSignal<bool>,
    /// Desktop notifications are wanted, but not yet permitted.
    pub notify_needed: ReadSignal<bool>,
    /// Allows sound (call from a user gesture).
    pub unlock_sound: UnsyncCallback<()>,
    /// Asks for notification permission (call from a click).
    pub enable_notifications: UnsyncCallback<()>,
}

/// Alerts the streamer on the `channels` they asked for, from the samples
/// in `history` and the `status` shown.
///
/// ```ignore
/// let alerts = use_alerts(config.alerts, state.history, live.status.into());
/// view! { <Show when=move || alerts.sound_locked.get()> .. </Show> }
/// ```
///
/// Every new sample goes through the alert hysteresis; a confirmed change
/// sounds a tone and/or shows a notification. With `title`, the tab title
/// and favicon follow `status`. With `sound`, the first pointer or key
/// press on the page unlocks audio. At the owner's cleanup the listeners
/// go, the audio context is closed and the title and favicon are put back.
/// With no channel, nothing is created.
pub fn use_alerts(
    channels: AlertChannels,
    history: RwSignal<History>,
    status: Signal<Status>,
) -> UseAlerts {
    let alerter = Rc::new(RefCell::new(Alerter::new(channels)));

    if channels.any() {
        // Each new sample once: the effect compares with the sample it saw.
        let on_sample = Rc::clone(&alerter);
        Effect::new(move |seen: Option<Option<(f64, Status)>>| {
            let latest = history.with(|h| h.latest_sample().map(|s| (s.received_ms, s.status)));
            if seen != Some(latest) {
                match latest {
                    Some((at, status)) => {
                        on_sample.borrow_mut().on_sample(status, at);
                    }
                    None => on_sample.borrow_mut().reset(),
                }
            }
            latest
        });
    }
    if channels.title {
        let title = Rc::clone(&alerter);
        Effect::new(move |_| {
            let status = status.get();
            title.borrow_mut().show_in_title(status.label(), status);
        });
    }
    alert_channels(channels, alerter)
}

/// The prompts for `channels` and what their buttons do, with the
/// listeners that unlock sound at the first gesture. At the owner's
/// cleanup the listeners go and `alerter` shuts down (its audio closed,
/// the title and favicon put back).
pub(crate) fn alert_channels(channels: AlertChannels, alerter: Rc<RefCell<Alerter>>) -> UseAlerts {
    let (sound_locked, set_sound_locked) = signal(channels.sound);
    let (notify_needed, set_notify_needed) =
        signal(channels.notify && notifications_need_permission());
    let unlock_sound = {
        let alerter = Rc::clone(&alerter);
        UnsyncCallback::new(move |()| {
            alerter.borrow_mut().unlock_sound();
            if sound_locked.get_untracked() {
                set_sound_locked.set(false);
            }
        })
    };
    // Browsers allow sound only after the viewer interacts with the page.
    let gestures = channels.sound.then(|| {
        [
            window_event_listener(ev::pointerdown, move |_| unlock_sound.run(())),
            window_event_listener(ev::keydown, move |_| unlock_sound.run(())),
        ]
    });
    let enable_notifications = UnsyncCallback::new(move |()| {
        request_notifications();
        set_notify_needed.set(false);
    });

    let owned = SendWrapper::new(alerter);
    on_cleanup(move || {
        for listener in gestures.into_iter().flatten() {
            listener.remove();
        }
        owned.borrow_mut().shutdown();
    });
    UseAlerts {
        sound_locked,
        notify_needed,
        unlock_sound,
        enable_notifications,
    }
}

/// Makes the alert signals for one widget, or for one wall.
pub(crate) struct Alerter {
    channels: AlertChannels,
    tracker: AlertTracker,
    /// The `AudioContext`, once a gesture allowed one.
    audio: Option<AudioContext>,
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
    pub(crate) fn new(channels: AlertChannels) -> Alerter {
        Alerter {
            channels,
            tracker: AlertTracker::new(),
            audio: None,
            original_title: document().title(),
            favicon: None,
        }
    }

    /// Call from a user gesture: creates or resumes the audio context.
    fn unlock_sound(&mut self) {
        if !self.channels.sound {
            return;
        }
        if self.audio.is_none() {
            // `Err` without Web Audio: sound alerts stay off.
            self.audio = AudioContext::new().ok();
        }
        if let Some(audio) = &self.audio {
            let _ = audio.resume();
        }
    }

    /// Feeds a new sample's status; signals when the tracker says so.
    fn on_sample(&mut self, status: Status, now_ms: f64) -> Option<Alert> {
        let alert = self.tracker.observe(status, now_ms)?;
        let title = match alert {
            Alert::Worse { to, .. } => format!("Stream health: {}", to.label()),
            Alert::Recovered { to } => format!("Stream health recovered: {}", to.label()),
        };
        self.signal(alert, &title, "live-stream-health");
        Some(alert)
    }

    /// Sounds the tone and shows a notification titled `title` (one per
    /// `tag`: a new one replaces the last), on the channels asked for.
    pub(crate) fn signal(&self, alert: Alert, title: &str, tag: &str) {
        if self.channels.sound {
            self.tone(matches!(alert, Alert::Worse { .. }));
        }
        if self.channels.notify {
            notify(alert, title, tag);
        }
    }

    /// Forgets the alert history (another stream).
    fn reset(&mut self) {
        self.tracker.reset();
    }

    /// Leads the tab title with `lead`; the favicon shows `status`.
    pub(crate) fn show_in_title(&mut self, lead: &str, status: Status) {
        if !self.channels.title {
            return;
        }
        let title = format!("{lead} \u{b7} {}", self.original_title);
        document().set_title(&title);
        if self.favicon.is_none() {
            let Ok(link) = document().create_element("link") else {
                return;
            };
            let _ = link.set_attribute("rel", "icon");
            if let Some(head) = document().head() {
                let _ = head.append_child(&link);
            }
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
        let start = audio.current_time();
        for (i, frequency) in notes.into_iter().enumerate() {
            let at = start + 0.18 * i as f64;
            if note(audio, frequency, at).is_err() {
                return;
            }
        }
    }

    /// Closes the audio context and restores the title and favicon.
    fn shutdown(&mut self) {
        if let Some(audio) = self.audio.take() {
            let _ = audio.close();
        }
        if self.channels.title {
            document().set_title(&self.original_title);
        }
        if let Some(link) = self.favicon.take() {
            link.remove();
        }
    }
}

/// One note of the tone: a sine at `frequency` Hz from `at` (seconds on
/// the context's clock), with a short attack and release so it does not
/// click.
fn note(audio: &AudioContext, frequency: f32, at: f64) -> Result<(), JsValue> {
    let oscillator = audio.create_oscillator()?;
    let gain = audio.create_gain()?;
    oscillator.set_type(OscillatorType::Sine);
    oscillator.frequency().set_value(frequency);
    let envelope = gain.gain();
    envelope.set_value_at_time(0.0, at)?;
    envelope.linear_ramp_to_value_at_time(0.25, at + 0.02)?;
    envelope.linear_ramp_to_value_at_time(0.0, at + 0.16)?;
    oscillator.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&audio.destination())?;
    oscillator.start_with_when(at)?;
    oscillator.stop_with_when(at + 0.17)?;
    Ok(())
}

/// Whether an audio context plays.
fn is_running(audio: &AudioContext) -> bool {
    audio.state() == AudioContextState::Running
}

/// Whether this browser has the Notifications API. web-sys reads
/// `Notification.permission` without a guard, which throws where the
/// interface is missing, so every use asks this first.
fn has_notifications() -> bool {
    js_sys::Object::has_own(&window(), &JsValue::from_str("Notification"))
}

/// The notification permission; `None` without the Notifications API.
fn notification_permission() -> Option<NotificationPermission> {
    has_notifications().then(Notification::permission)
}

/// Whether desktop notifications still need the viewer's permission.
fn notifications_need_permission() -> bool {
    notification_permission() == Some(NotificationPermission::Default)
}

/// Asks for notification permission (call from a click).
fn request_notifications() {
    if has_notifications() {
        let _ = Notification::request_permission();
    }
}

/// A desktop notification titled `title`, with the advice for the new
/// status as its body.
fn notify(alert: Alert, title: &str, tag: &str) {
    if notification_permission() != Some(NotificationPermission::Granted) {
        return;
    }
    let to = match alert {
        Alert::Worse { to, .. } | Alert::Recovered { to } => to,
    };
    let options = NotificationOptions::new();
    options.set_body(crate::core::advice::for_status(to));
    options.set_tag(tag);
    let _ = Notification::new_with_options(title, &options);
}
