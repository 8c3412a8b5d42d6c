//! [`use_host_messages`]: the iframe side of the host protocol (see
//! [`crate::core::protocol`] for the message table).
//!
//! Only with an `origin` parameter: the widget then accepts messages whose
//! `event.origin` is exactly that origin (anything else is ignored without
//! a sound), and posts only to that origin, never `*`. No message it sends
//! carries the token. Every message it sends carries the protocol version
//! (`v`); a host message of a version it does not speak is ignored like a
//! foreign one.
//!
//! Tokens from the host go through a [`TokenGate`]: the token in use again
//! is a no-op, and changes are applied at most once a second, the last one
//! winning, so a host posting tokens in a loop cannot turn into a request
//! storm. The hook owns the gate's one timer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Array, JSON};
use leptos::ev;
use leptos::html::Main;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, ResizeObserver, ResizeObserverEntry};

use crate::app::use_clock::now_ms;
use crate::core::counts::{Figures, ViewersView};
use crate::core::monitor::{Monitor, View};
use crate::core::obs::{Diagnosis, EncoderState, EncoderView, ObsSettings};
use crate::core::poll::{ConnState, Rejection};
use crate::core::protocol::{self, ConfigChange, HostMessage, StatusMessage};
use crate::core::status::Status;
use crate::core::token_gate::{Admit, TokenGate};
use crate::core::trend::Trend;

/// How long before `exp` the host is asked for a fresh token.
pub const EXPIRING_NOTICE_MS: f64 = 5.0 * 60_000.0;

/// What [`use_host_messages`] listens to and reports.
pub struct UseHostMessagesOptions {
    /// The host page's origin (`https://panel.example.com`).
    pub origin: String,
    /// The monitor: the token's expiry, the latest report's time and a
    /// rejection's HTTP status.
    pub monitor: RwSignal<Monitor>,
    /// What the page shows: `lsh:status` follows its status and state.
    pub view: Memo<View>,
    /// The drift trend: `lsh:status` follows its slow-drift warning.
    pub trend: Memo<Option<Trend>>,
    /// The viewer figures: `lsh:status` carries them and follows them.
    pub viewers: Memo<ViewersView>,
    /// OBS's side: `lsh:status` carries it and follows its state and
    /// diagnosis (not every figure: those change every second).
    pub encoder: Memo<EncoderView>,
    /// The widget's root element, whose height `lsh:resize` reports.
    pub root: NodeRef<Main>,
    /// `lsh:token` from the host, once it passes the rate limit and differs
    /// from the token in use.
    pub on_token: UnsyncCallback<String>,
    /// `lsh:config` from the host.
    pub on_config: UnsyncCallback<ConfigChange>,
    /// `lsh:obs` from the host: OBS's port and password.
    pub on_obs: UnsyncCallback<ObsSettings>,
}

/// Talks to the host page that embeds the widget.
///
/// ```ignore
/// use_host_messages(UseHostMessagesOptions { origin, monitor, view, trend, viewers, root, on_token, on_config, on_obs });
/// ```
///
/// Posts `lsh:ready` at once; `lsh:status` now and on every change of
/// status, state, the slow-drift warning or the viewer figures shown (the
/// counts change at most once per viewer-count poll, 15 s at the fastest,
/// so a host hears at most four more a minute; a count hidden by a counts
/// failure is `null`), with `lsh:token-rejected` when
/// the state becomes token-rejected); `lsh:token-expiring` five minutes
/// before the token's `exp`; `lsh:resize` whenever the root's height
/// changes. Hands `lsh:token`, `lsh:config` and `lsh:obs` from the host's
/// origin to the callbacks (tokens rate-limited, see the module doc). The owner's
/// cleanup removes the message listener, cancels the expiry and token
/// timers and stops observing the root.
pub fn use_host_messages(options: UseHostMessagesOptions) {
    let UseHostMessagesOptions {
        origin,
        monitor,
        view,
        trend,
        viewers,
        encoder,
        root,
        on_token,
        on_config,
        on_obs,
    } = options;

    let gate = TokenGate::new();
    let token_timer: Rc<RefCell<Option<Timeout>>> = Rc::default();
    let offer_token = {
        let gate = Rc::new(RefCell::new(gate));
        let timer = Rc::clone(&token_timer);
        Rc::new(move |token: String| {
            let admit = monitor
                .try_with_untracked(|m| gate.borrow_mut().offer(&token, m.token(), now_ms()))
                .unwrap_or(Admit::Ignore);
            admit_token(admit, &gate, &timer, monitor, on_token);
        })
    };

    let listener = {
        let origin = origin.clone();
        window_event_listener(ev::message, move |event: MessageEvent| {
            if event.origin() != origin {
                return;
            }
            let Some(text) = message_text(&event.data()) else {
                return;
            };
            match protocol::parse_host_message(&text) {
                Ok(HostMessage::Token(token)) => offer_token(token),
                Ok(HostMessage::Config(change)) => on_config.run(change),
                Ok(HostMessage::Obs(settings)) => on_obs.run(settings),
                Err(_) => {}
            }
        })
    };

    // lsh:status on every change of status, state, the drift warning or
    // the viewer figures: the effect compares with what it reported last.
    {
        let origin = origin.clone();
        Effect::new(move |reported: Option<Reported>| {
            let (status, state) = view.with(|v| (v.status, v.state));
            let falling_behind = trend.with(|t| t.is_some_and(|t| t.falling_behind));
            let figures = viewers.with(|v| v.figures);
            let obs = encoder.with(|e| (e.state, e.diagnosis));
            let now = (status, state, falling_behind, figures, obs);
            if reported != Some(now) {
                // lsh:token-rejected once, as the state becomes rejected.
                let newly_rejected = state == ConnState::TokenRejected
                    && reported.is_none_or(|(_, before, _, _, _)| before != state);
                untrack(|| {
                    let sent = Reporting {
                        monitor,
                        view,
                        trend,
                        encoder,
                    };
                    post_status(&origin, sent, figures, newly_rejected);
                });
            }
            now
        });
    }

    // lsh:token-expiring five minutes before exp, once per token.
    let expiry_timer: Rc<RefCell<Option<Timeout>>> = Rc::default();
    {
        let origin = origin.clone();
        let timer = Rc::clone(&expiry_timer);
        Effect::new(move |scheduled| {
            let token = monitor.with(|m| (m.poller().generation(), m.poller().expires_at_ms()));
            if scheduled == Some(token) {
                return token;
            }
            timer.borrow_mut().take();
            let (_, Some(expires_at)) = token else {
                return token;
            };
            if expires_at <= now_ms() {
                return token;
            }
            let origin = origin.clone();
            let send = move || post(&origin, &protocol::token_expiring(expires_at));
            let notice_in = expires_at - EXPIRING_NOTICE_MS - now_ms();
            if notice_in <= 0.0 {
                send();
            } else {
                let delay = notice_in.min(f64::from(i32::MAX)).ceil() as u32;
                *timer.borrow_mut() = Some(Timeout::new(delay, send));
            }
            token
        });
    }

    // lsh:resize whenever the content height changes, observed once the
    // root is mounted.
    let resized = {
        let origin = origin.clone();
        let last_height = Cell::new(-1.0_f64);
        Closure::<dyn FnMut(Array)>::new(move |entries: Array| {
            let Ok(entry) = entries.get(0).dyn_into::<ResizeObserverEntry>() else {
                return;
            };
            let height = entry.target().get_bounding_client_rect().height().ceil();
            if (height - last_height.get()).abs() >= 1.0 {
                last_height.set(height);
                post(&origin, &protocol::resize(height));
            }
        })
    };
    let observer = ResizeObserver::new(resized.as_ref().unchecked_ref()).ok();
    if let Some(observer) = observer.clone() {
        Effect::new(move |_| {
            if let Some(element) = root.get() {
                observer.observe(&element);
            }
        });
    }

    post(&origin, &protocol::ready());
    let owned = SendWrapper::new((expiry_timer, token_timer, observer, resized));
    on_cleanup(move || {
        listener.remove();
        let (expiry_timer, token_timer, observer, resized) = owned.take();
        expiry_timer.borrow_mut().take();
        token_timer.borrow_mut().take();
        if let Some(observer) = observer {
            observer.disconnect();
        }
        drop(resized);
    });
}

/// Carries out what the token gate decided: hands the token on, or sets
/// the one timer after which the waiting token gets its turn.
fn admit_token(
    admit: Admit,
    gate: &Rc<RefCell<TokenGate>>,
    timer: &Rc<RefCell<Option<Timeout>>>,
    monitor: RwSignal<Monitor>,
    on_token: UnsyncCallback<String>,
) {
    match admit {
        Admit::Ignore => {}
        Admit::Apply(token) => {
            timer.borrow_mut().take();
            on_token.run(token);
        }
        Admit::Hold { wake_in_ms } => {
            let delay = wake_in_ms.clamp(0.0, f64::from(i32::MAX)).ceil() as u32;
            let fired = {
                let gate = Rc::clone(gate);
                let timer = Rc::clone(timer);
                move || {
                    let admit = monitor
                        .try_with_untracked(|m| gate.borrow_mut().on_timer(m.token(), now_ms()))
                        .unwrap_or(Admit::Ignore);
                    admit_token(admit, &gate, &timer, monitor, on_token);
                }
            };
            *timer.borrow_mut() = Some(Timeout::new(delay, fired));
        }
    }
}

/// What `lsh:status` last reported: it is posted again when any of it
/// changes.
type Reported = (
    Status,
    ConnState,
    bool,
    Option<Figures>,
    (EncoderState, Diagnosis),
);

/// Where `lsh:status` reads what it reports.
#[derive(Clone, Copy)]
struct Reporting {
    monitor: RwSignal<Monitor>,
    view: Memo<View>,
    trend: Memo<Option<Trend>>,
    encoder: Memo<EncoderView>,
}

/// Posts `lsh:status` for what the page shows now, and
/// `lsh:token-rejected` along with it when the state has just become
/// token-rejected (once per rejection, whatever else changes after).
fn post_status(origin: &str, from: Reporting, figures: Option<Figures>, newly_rejected: bool) {
    let Reporting {
        monitor,
        view,
        trend,
        encoder,
    } = from;
    let trend = trend.get_untracked();
    let encoder = encoder.get_untracked();
    let updated_at_ms = monitor.with_untracked(|m| m.latest().and_then(|r| r.updated_at_ms));
    let text = view.with_untracked(|v| {
        protocol::status(&StatusMessage {
            status: v.status.as_str(),
            state: v.state.as_str(),
            session_avg_ms: v.session_avg_ms,
            deviation_ms: v.deviation_ms,
            updated_at_ms,
            drift_trend_ms_per_min: trend.map(|t| t.ms_per_min),
            falling_behind: trend.is_some_and(|t| t.falling_behind),
            viewers: figures.and_then(|f| f.viewers),
            views: figures.and_then(|f| f.views),
            encoder: Some(&encoder),
        })
    });
    post(origin, &text);
    if newly_rejected {
        let status = monitor.with_untracked(|m| match m.poller().rejection() {
            Some(Rejection::Http(status)) => Some(status),
            _ => None,
        });
        post(origin, &protocol::token_rejected(status));
    }
}

/// Posts `text` (a JSON message from [`protocol`]) to the host page as an
/// object, to `origin` only.
fn post(origin: &str, text: &str) {
    let Ok(message) = JSON::parse(text) else {
        return;
    };
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(&message, origin);
    }
}

/// The message as JSON text: hosts post objects (or, some, strings).
pub(crate) fn message_text(data: &JsValue) -> Option<String> {
    if let Some(text) = data.as_string() {
        return Some(text);
    }
    if data.is_object() {
        return JSON::stringify(data).ok().and_then(|s| s.as_string());
    }
    None
}
