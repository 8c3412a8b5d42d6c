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
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use crate::app::driver::{now_ms, timeout, Driver};
use crate::app::listener::Listener;
use crate::app::widget::{change_ui, drift_trend, LiveView, Root, Ui};
use crate::app::{effect, js, on_change};
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::poll::{ConnState, Rejection};
use crate::core::protocol::{self, HostMessage, StatusMessage};

/// How long before `exp` the host is asked for a fresh token.
pub const EXPIRING_NOTICE_MS: f64 = 5.0 * 60_000.0;

/// A live connection to the host page.
pub struct Embedding {
    listener: Option<Listener>,
    expiry_timer: Rc<RefCell<Option<Timeout>>>,
    /// The `ResizeObserver` on the root.
    resize_observer: Option<JsValue>,
    _resize_callback: Option<Closure<dyn FnMut(JsValue)>>,
}

fn json() -> JsValue {
    js::get(&window(), "JSON")
}

fn post(origin: &str, text: &str) {
    let Ok(message) = js::call(&json(), "parse", &[JsValue::from_str(text)]) else {
        return;
    };
    let parent = js::get(&window(), "parent");
    if parent.is_object() {
        let _ = js::call(
            &parent,
            "postMessage",
            &[message, JsValue::from_str(origin)],
        );
    }
}

fn message_text(data: &JsValue) -> Option<String> {
    if let Some(text) = data.as_string() {
        return Some(text);
    }
    if data.is_object() {
        return js::call(&json(), "stringify", std::slice::from_ref(data))
            .ok()
            .and_then(|s| s.as_string());
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
            Listener::new(window().into(), &["message"], move |event| {
                // Only a MessageEvent has an `origin` to match.
                if js::get(&event, "origin").as_string().as_deref() != Some(origin.as_str()) {
                    return;
                }
                let Some(text) = message_text(&js::get(&event, "data")) else {
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
            let callback = Closure::<dyn FnMut(JsValue)>::new(move |entries: JsValue| {
                let target = js::get(&js::get(&entries, "0"), "target");
                // NaN without a target: never 1 px away, so nothing is sent.
                let height = js::rect(&target, "height").ceil();
                if (height - *last_height.borrow()).abs() >= 1.0 {
                    *last_height.borrow_mut() = height;
                    post(&origin, &protocol::resize(height));
                }
            });
            let observer = js::construct("ResizeObserver", &[callback.as_ref().clone()]).ok();
            if let Some(observer) = observer.clone() {
                effect(move || {
                    if let Some(element) = root.get() {
                        let _ = js::call(&observer, "observe", &[element.into()]);
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
        drop(self.listener.take());
        self.expiry_timer.borrow_mut().take();
        if let Some(observer) = self.resize_observer.take() {
            let _ = js::call(&observer, "disconnect", &[]);
        }
    }
}
