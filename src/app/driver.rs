//! The poll driver: the only code that touches timers and the network.
//!
//! It owns one timer, at most one request (with its `AbortController` and
//! its timeout) and nothing else; [`Driver::shutdown`] releases all of them
//! and the widget registers it as the owner's cleanup. What the timer and
//! the request do is decided by the pure [`Monitor`]/[`Poller`]
//! state machine; this file only carries out [`Next`] and reports
//! [`Outcome`]s.
//!
//! Requests go out with `credentials: omit`, `cache: no-store` and
//! `referrerPolicy: no-referrer`: the token travels only in the URL to the
//! configured endpoint, and never in a Referer header anywhere.
//!
//! [`Poller`]: crate::core::poll::Poller

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::Request;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use web_sys::{
    AbortController, AbortSignal, ReferrerPolicy, RequestCache, RequestCredentials, RequestMode,
};

use crate::core::api::{parse_report, parse_retry_after_ms, ResponseError, MAX_BODY_BYTES};
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::poll::{Next, Outcome, Step, REQUEST_TIMEOUT_MS};

/// A one-shot timer; dropping it cancels it. Every timeout of the app goes
/// through here: gloo's `Timeout::new` is compiled once per closure type,
/// behind one boxed type it is compiled once.
pub fn timeout(delay_ms: u32, callback: impl FnOnce() + 'static) -> Timeout {
    let callback: Box<dyn FnOnce()> = Box::new(callback);
    Timeout::new(delay_ms, callback)
}

/// Browser time, Unix epoch milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

struct InFlight {
    id: u64,
    controller: Option<AbortController>,
    _timeout: Timeout,
}

struct Inner {
    monitor: RwSignal<Monitor>,
    history: RwSignal<History>,
    timer: RefCell<Option<Timeout>>,
    request: RefCell<Option<InFlight>>,
    request_ids: Cell<u64>,
    disposed: Cell<bool>,
}

/// Drives one [`Monitor`]: schedules polls and runs requests.
#[derive(Clone)]
pub struct Driver {
    inner: Rc<Inner>,
}

impl Driver {
    /// A driver for the monitor and history signals.
    pub fn new(monitor: RwSignal<Monitor>, history: RwSignal<History>) -> Driver {
        Driver {
            inner: Rc::new(Inner {
                monitor,
                history,
                timer: RefCell::new(None),
                request: RefCell::new(None),
                request_ids: Cell::new(0),
                disposed: Cell::new(false),
            }),
        }
    }

    /// Starts with the configured token, if any.
    pub fn start(&self) {
        let now = now_ms();
        let history = self.inner.history;
        let next = history
            .try_update(|h| self.inner.monitor.try_update(|m| m.start(h, now)))
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
    }

    /// Sets or replaces the token (from a host page, or a new link).
    pub fn set_token(&self, token: Option<String>) {
        self.cancel_request();
        let now = now_ms();
        let history = self.inner.history;
        let next = history
            .try_update(|h| {
                self.inner
                    .monitor
                    .try_update(|m| m.set_token(token, h, now))
            })
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
    }

    /// Releases the timer and aborts the request in flight. Idempotent.
    pub fn shutdown(&self) {
        self.inner.disposed.set(true);
        self.inner.timer.borrow_mut().take();
        self.cancel_request();
    }

    fn cancel_request(&self) {
        let in_flight = self.inner.request.borrow_mut().take();
        if let Some(InFlight {
            controller: Some(controller),
            ..
        }) = in_flight
        {
            controller.abort();
        }
    }

    fn apply(&self, next: Next) {
        // Dropping a gloo Timeout clears it: there is only ever one timer.
        self.inner.timer.borrow_mut().take();
        if self.inner.disposed.get() {
            return;
        }
        if let Next::Wake(delay_ms) = next {
            if delay_ms <= 0.0 {
                // Due now (a new token): no timer, so the first request goes
                // out before the browser's first render instead of after it.
                self.fire();
                return;
            }
            let driver = self.clone();
            let delay = delay_ms.clamp(0.0, f64::from(i32::MAX)).ceil() as u32;
            *self.inner.timer.borrow_mut() = Some(timeout(delay, move || driver.fire()));
        }
    }

    fn fire(&self) {
        self.inner.timer.borrow_mut().take();
        if self.inner.disposed.get() {
            return;
        }
        let now = now_ms();
        match self.inner.monitor.try_update(|m| m.on_timer(now)) {
            Some(Step::Fetch(generation)) => self.fetch(generation),
            Some(Step::Stop) | None => {}
        }
    }

    fn fetch(&self, generation: u64) {
        let Some(url) = self
            .inner
            .monitor
            .try_with_untracked(|m| m.request_url())
            .flatten()
        else {
            return;
        };
        self.cancel_request();
        let id = self.inner.request_ids.get() + 1;
        self.inner.request_ids.set(id);
        let controller = AbortController::new().ok();
        let signal = controller.as_ref().map(AbortController::signal);
        let timed_out = Rc::new(Cell::new(false));
        let timeout = {
            let controller = controller.clone();
            let timed_out = Rc::clone(&timed_out);
            timeout(REQUEST_TIMEOUT_MS as u32, move || {
                timed_out.set(true);
                if let Some(controller) = controller {
                    controller.abort();
                }
            })
        };
        *self.inner.request.borrow_mut() = Some(InFlight {
            id,
            controller,
            _timeout: timeout,
        });
        let driver = self.clone();
        leptos::task::spawn_local(async move {
            let result = request(&url, signal.as_ref()).await;
            let mine = driver
                .inner
                .request
                .borrow()
                .as_ref()
                .is_some_and(|r| r.id == id);
            if !mine || driver.inner.disposed.get() {
                // Cancelled: the token changed or the widget went away.
                return;
            }
            // Aborting a settled fetch is a no-op; for a body we refused
            // unread (oversized), it stops the download.
            if let Some(InFlight {
                controller: Some(controller),
                ..
            }) = driver.inner.request.borrow_mut().take()
            {
                controller.abort();
            }
            let outcome = match result {
                Some(outcome) => outcome,
                None if timed_out.get() => Outcome::Timeout,
                None => return,
            };
            driver.settle(generation, outcome);
        });
    }

    fn settle(&self, generation: u64, outcome: Outcome) {
        let now = now_ms();
        let jitter = js_sys::Math::random();
        let monitor = self.inner.monitor;
        let next = self
            .inner
            .history
            .try_update(|h| {
                monitor.try_update(|m| m.on_outcome(generation, &outcome, h, now, jitter))
            })
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
    }
}

/// One request. `None` means it was aborted (by its timeout or a cleanup).
async fn request(url: &str, signal: Option<&AbortSignal>) -> Option<Outcome> {
    let aborted = || signal.is_some_and(AbortSignal::aborted);
    let response = Request::get(url)
        .abort_signal(signal)
        .mode(RequestMode::Cors)
        .credentials(RequestCredentials::Omit)
        .cache(RequestCache::NoStore)
        .referrer_policy(ReferrerPolicy::NoReferrer)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(_) if aborted() => return None,
        Err(_) => return Some(Outcome::Network),
    };
    let status = response.status();
    if !(200..300).contains(&status) {
        let retry_after_ms = response
            .headers()
            .get("retry-after")
            .and_then(|value| parse_retry_after_ms(&value, now_ms()));
        return Some(Outcome::Http {
            status,
            retry_after_ms,
        });
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(bytes) = declared.filter(|b| *b > MAX_BODY_BYTES) {
        return Some(Outcome::BadBody(ResponseError::TooLarge { bytes }));
    }
    match response.text().await {
        Ok(body) => Some(match parse_report(&body) {
            Ok(report) => Outcome::Report(report),
            Err(error) => Outcome::BadBody(error),
        }),
        Err(_) if aborted() => None,
        Err(_) => Some(Outcome::Network),
    }
}
