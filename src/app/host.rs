//! The iframe side of the host protocol (see [`crate::core::protocol`] for
//! the message table).
//!
//! Only with an `origin` parameter: the widget then accepts messages whose
//! `event.origin` is exactly that origin (anything else is ignored without a
//! sound), and posts only to that origin, never `*`. Everything this module
//! starts, the message listener, the expiry timer and the ResizeObserver, is
//! released by [`Embedding::shutdown`], which the widget calls on cleanup.
//! The effects it creates belong to the widget's owner and go with it.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Array, JSON};
use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, ResizeObserver, ResizeObserverEntry};

use crate::app::driver::{now_ms, timeout, Driver};
use crate::app::widget::{change_ui, drift_trend, LiveView, Root, Ui};
use crate::app::{effect, on_change};
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::poll::{ConnState, Rejection};
use crate::core::protocol::{self, HostMessage, StatusMessage};

/// How long before `exp` the host is asked for a fresh token.
pub const EXPIRING_NOTICE_MS: f64 = 5.0 * 60_000.0;

/// A live connection to the host page.
pub struct Embedding {
    listener: Option<WindowListenerHandle>,
    expiry_timer: Rc<RefCell<Option<Timeout>>>,
    /// The `ResizeObserver` on the root.
    resize_observer: Option<ResizeObserver>,
    _resize_callback: Option<Closure<dyn FnMut(Array)>>,
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
fn message_text(data: &JsValue) -> Option<String> {
    if let Some(text) = data.as_string() {
        return Some(text);
    }
    if data.is_object() {
        return JSON::stringify(data).ok().and_then(|s| s.as_string());
    }
    None
}

impl Embedding {
    /// Starts talking to the host page at `origin`.
    pub fn connect(
        origin: String,
        monitor: RwSignal<Monitor>,
        view: LiveView,
        history: RwSignal<History>,
        driver: Driver,
        ui: RwSignal<Ui>,
        root: Root,
    ) -> Embedding {
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
                    Ok(HostMessage::Token(token)) => driver.set_token(Some(token)),
                    Ok(HostMessage::Config(change)) => {
                        if let Some(interval_ms) = change.interval_ms {
                            monitor.update(|m| m.set_interval_ms(interval_ms));
                        }
                        change_ui(ui, &|ui| {
                            if let Some(layout) = change.layout {
                                ui.layout = layout;
                            }
                            if let Some(theme) = change.theme {
                                ui.theme = theme;
                            }
                        });
                    }
                    Err(_) => {}
                }
            })
        };

        // lsh:status on every change of status, state or the drift warning.
        let falling_behind = move || drift_trend(history).is_some_and(|t| t.falling_behind);
        {
            let origin = origin.clone();
            let key = move || (view.with(|v| (v.status, v.state)), falling_behind());
            on_change(key, move |_| {
                let trend = untrack(|| drift_trend(history));
                let (text, rejected) = view.with_untracked(|v| {
                    let updated_at_ms =
                        monitor.with_untracked(|m| m.latest().and_then(|r| r.updated_at_ms));
                    let text = protocol::status(&StatusMessage {
                        status: v.status.as_str(),
                        state: v.state.as_str(),
                        session_avg_ms: v.session_avg_ms,
                        deviation_ms: v.deviation_ms,
                        updated_at_ms,
                        drift_trend_ms_per_min: trend.map(|t| t.ms_per_min),
                        falling_behind: trend.is_some_and(|t| t.falling_behind),
                    });
                    (text, v.state == ConnState::TokenRejected)
                });
                post(&origin, &text);
                if rejected {
                    let status = monitor.with_untracked(|m| match m.poller().rejection() {
                        Some(Rejection::Http(status)) => Some(status),
                        _ => None,
                    });
                    post(&origin, &protocol::token_rejected(status));
                }
            });
        }

        // lsh:token-expiring five minutes before exp, once per token.
        let expiry_timer: Rc<RefCell<Option<Timeout>>> = Rc::new(RefCell::new(None));
        {
            let origin = origin.clone();
            let timer = Rc::clone(&expiry_timer);
            let expiry =
                move || monitor.with(|m| (m.poller().generation(), m.poller().expires_at_ms()));
            on_change(expiry, move |&(_, expires_at)| {
                timer.borrow_mut().take();
                let Some(expires_at) = expires_at else {
                    return;
                };
                let notice_in = expires_at - EXPIRING_NOTICE_MS - now_ms();
                if expires_at <= now_ms() {
                    return;
                }
                let origin = origin.clone();
                let send = move || post(&origin, &protocol::token_expiring(expires_at));
                if notice_in <= 0.0 {
                    send();
                } else {
                    let delay = notice_in.min(f64::from(i32::MAX)).ceil() as u32;
                    *timer.borrow_mut() = Some(timeout(delay, send));
                }
            });
        }

        // lsh:resize whenever the content height changes. The root is
        // observed once mounted, from an effect.
        let (resize_observer, resize_callback) = {
            let origin = origin.clone();
            let last_height = Rc::new(RefCell::new(-1.0_f64));
            let callback = Closure::<dyn FnMut(Array)>::new(move |entries: Array| {
                let Some(entry) = entries.get(0).dyn_into::<ResizeObserverEntry>().ok() else {
                    return;
                };
                let height = entry.target().get_bounding_client_rect().height().ceil();
                if (height - *last_height.borrow()).abs() >= 1.0 {
                    *last_height.borrow_mut() = height;
                    post(&origin, &protocol::resize(height));
                }
            });
            let observer = ResizeObserver::new(callback.as_ref().unchecked_ref()).ok();
            if let Some(observer) = observer.clone() {
                effect(move || {
                    if let Some(element) = root.get() {
                        observer.observe(element);
                    }
                });
            }
            (observer, Some(callback))
        };

        post(&origin, &protocol::ready());
        Embedding {
            listener: Some(listener),
            expiry_timer,
            resize_observer,
            _resize_callback: resize_callback,
        }
    }

    /// Removes the listener, cancels the timer and stops observing.
    pub fn shutdown(mut self) {
        if let Some(listener) = self.listener.take() {
            listener.remove();
        }
        self.expiry_timer.borrow_mut().take();
        if let Some(observer) = self.resize_observer.take() {
            observer.disconnect();
        }
    }
}
