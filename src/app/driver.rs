//! The poll driver: the only code that touches timers and the network.
//!
//! It owns one timer, at most one request (with its `AbortController` and
//! its timeout) and nothing else; [`Driver::shutdown`] releases all of them
//! and the widget registers it as the owner's cleanup. What the timer and
//! the request do is decided by the pure [`Monitor`]/[`Poller`]
//! state machine; this file only carries out [`Next`] and reports
//! [`Outcome`]s.
//!
//! Several tabs watching the same stream share one poller (see
//! [`crate::core::share`]): the driver joins the group for its share key
//! whenever its monitor polls, and only the tab holding the group's lock
//! makes requests; it posts each result, the others feed those into their
//! own monitor as if they had made the request. The driver also owns that
//! membership (a [`Share`]), and [`Driver::shutdown`] leaves the group.
//!
//! Requests go out with `credentials: omit`, `cache: no-store` and
//! `referrerPolicy: no-referrer`: the token travels only in the URL to the
//! configured endpoint, and never in a Referer header anywhere.
//!
//! [`Poller`]: crate::core::poll::Poller

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::Request;
use gloo_timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use web_sys::{
    AbortController, AbortSignal, ReferrerPolicy, RequestCache, RequestCredentials, RequestMode,
};

use crate::app::share::Share;
use crate::core::api::{parse_retry_after_ms, MAX_BODY_BYTES};
use crate::core::history::History;
use crate::core::monitor::{Monitor, Role};
use crate::core::poll::{Next, Step, REQUEST_TIMEOUT_MS};
use crate::core::share::{decode, encode, Message, Response};

/// A one-shot timer; dropping it cancels it. Every timeout of the app goes
/// through here: gloo's `Timeout::new` is compiled once per closure type,
/// behind one boxed type it is compiled once.
pub fn timeout(delay_ms: u32, callback: impl FnOnce() + 'static) -> Timeout {
    timeout_boxed(delay_ms, Box::new(callback))
}

#[inline(never)]
fn timeout_boxed(delay_ms: u32, callback: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(delay_ms, callback)
}

/// A repeating timer; dropping it (or `cancel`) stops it. Boxed like
/// [`timeout`], so gloo's `Interval::new` is compiled once.
pub fn interval(period_ms: u32, callback: impl FnMut() + 'static) -> Interval {
    interval_boxed(period_ms, Box::new(callback))
}

#[inline(never)]
fn interval_boxed(period_ms: u32, callback: Box<dyn FnMut()>) -> Interval {
    Interval::new(period_ms, callback)
}

/// Runs a task on the page's event loop. Every task of the app goes
/// through here, boxed, so the executor is compiled once.
pub fn spawn(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    leptos::task::spawn_local(task);
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
    share: RefCell<Option<Share>>,
    /// The share key last joined (or tried: where the browser cannot share,
    /// the same key is not tried again at every poll).
    share_key: RefCell<Option<String>>,
    /// Which membership the lock was granted to (each join gets a number).
    joins: Cell<u64>,
    leading: Cell<u64>,
    /// A leader's result has arrived since joining: this tab follows.
    heard_leader: Cell<bool>,
    /// The leader's latest shareable result and when its next request is
    /// due (browser time), for tabs that join later.
    latest: RefCell<Option<(Response, f64)>>,
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
                share: RefCell::new(None),
                share_key: RefCell::new(None),
                joins: Cell::new(0),
                leading: Cell::new(0),
                heard_leader: Cell::new(false),
                latest: RefCell::new(None),
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
        let joins = self.inner.joins.get();
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
        if self.is_following() && self.inner.joins.get() == joins {
            // A new token for the same stream: ask the leader for its latest
            // result (a new membership asks when it joins), instead of
            // showing "Connecting" until the next poll.
            self.post(&Message::Hello);
        }
    }

    /// Releases the timer, aborts the request in flight and leaves the
    /// shared-polling group. Idempotent.
    pub fn shutdown(&self) {
        self.inner.disposed.set(true);
        self.inner.timer.borrow_mut().take();
        self.cancel_request();
        self.leave();
    }

    /// Another tab of the group leads, and this one renders its results.
    /// Until a leader is heard from (or the lock is granted) a tab that
    /// joined polls for itself: the browser takes tens of milliseconds to
    /// grant even a free lock, and the first status must not wait for it.
    fn is_following(&self) -> bool {
        self.inner.heard_leader.get()
            && self.inner.leading.get() == 0
            && self.inner.share.borrow().is_some()
    }

    fn post(&self, message: &Message) {
        if let (Some(share), Some(text)) = (self.inner.share.borrow().as_ref(), encode(message)) {
            share.post(&text);
        }
    }

    fn leave(&self) {
        self.inner.leading.set(0);
        self.inner.heard_leader.set(false);
        self.inner.latest.borrow_mut().take();
        // Dropped outside the borrow: leaving may run browser callbacks.
        let share = self.inner.share.borrow_mut().take();
        drop(share);
    }

    /// Keeps the group membership in line with what the monitor watches:
    /// the group of its share key while it polls, none otherwise.
    fn sync_share(&self) {
        let wanted = self
            .inner
            .monitor
            .try_with_untracked(Monitor::share_key)
            .flatten();
        if *self.inner.share_key.borrow() == wanted {
            return;
        }
        self.leave();
        self.inner.share_key.replace(wanted.clone());
        let joined = wanted.and_then(|key| {
            let join = self.inner.joins.get() + 1;
            self.inner.joins.set(join);
            let (on_message, on_lead) = (self.clone(), self.clone());
            Share::join(
                &key,
                move |text| on_message.on_message(&text),
                move || on_lead.on_lead(join),
            )
        });
        let joined_now = joined.is_some();
        *self.inner.share.borrow_mut() = joined;
        self.set_role(Role::Solo);
        if joined_now {
            self.post(&Message::Hello);
        }
    }

    fn set_role(&self, role: Role) {
        let monitor = self.inner.monitor;
        if monitor.try_with_untracked(Monitor::role) != Some(role) {
            monitor.try_update(|m| m.set_role(role));
        }
    }

    /// The group's lock was granted: this tab polls from now on, starting
    /// when the last leader's next request was due.
    fn on_lead(&self, join: u64) {
        if self.inner.disposed.get() || self.inner.joins.get() != join {
            return;
        }
        if self.inner.share.borrow().is_none() {
            return;
        }
        self.inner.leading.set(join);
        self.set_role(Role::Leader);
        if self.inner.request.borrow().is_some() {
            // This tab's own first request is out; its answer schedules the
            // next one, and is shared.
            return;
        }
        let now = now_ms();
        let due = self
            .inner
            .monitor
            .try_with_untracked(|m| m.poller().due_in_ms(now))
            .flatten();
        if let Some(due) = due {
            self.apply(Next::Wake(due));
        }
    }

    /// A message from another tab of the group.
    fn on_message(&self, text: &str) {
        if self.inner.disposed.get() {
            return;
        }
        let leading = self.inner.leading.get() != 0;
        match decode(text) {
            Ok(Message::Hello) if leading => {
                let latest = self.inner.latest.borrow().clone();
                if let Some((response, next_at)) = latest {
                    self.post(&Message::Result {
                        response,
                        next_in_ms: next_at - now_ms(),
                    });
                }
            }
            Ok(Message::Result {
                response,
                next_in_ms,
            }) if !leading => {
                self.inner.heard_leader.set(true);
                self.set_role(Role::Follower);
                let now = now_ms();
                let outcome = response.outcome();
                let monitor = self.inner.monitor;
                let next = self
                    .inner
                    .history
                    .try_update(|h| {
                        monitor.try_update(|m| m.on_shared(&outcome, next_in_ms, h, now))
                    })
                    .flatten();
                self.apply(next.unwrap_or(Next::Idle));
            }
            _ => {}
        }
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
        self.sync_share();
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
        if self.is_following() {
            let next = self.inner.monitor.try_update(|m| m.on_timer_following(now));
            self.apply(next.unwrap_or(Next::Idle));
            return;
        }
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
        spawn(Box::pin(async move {
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
            let response = match result {
                Some(response) => response,
                None if timed_out.get() => Response::Timeout,
                None => return,
            };
            driver.settle(generation, response);
        }));
    }

    fn settle(&self, generation: u64, response: Response) {
        let now = now_ms();
        let jitter = js_sys::Math::random();
        let monitor = self.inner.monitor;
        let outcome = response.outcome();
        let next = self
            .inner
            .history
            .try_update(|h| {
                monitor.try_update(|m| m.on_outcome(generation, &outcome, h, now, jitter))
            })
            .flatten()
            .unwrap_or(Next::Idle);
        if self.inner.leading.get() != 0 && response.is_shareable() {
            let next_in_ms = match next {
                Next::Wake(delay) => delay,
                Next::Idle => 0.0,
            };
            let message = Message::Result {
                response,
                next_in_ms,
            };
            self.post(&message);
            if let Message::Result { response, .. } = message {
                *self.inner.latest.borrow_mut() = Some((response, now + next_in_ms));
            }
        }
        self.apply(next);
    }
}

/// One request. `None` means it was aborted (by its timeout or a cleanup).
async fn request(url: &str, signal: Option<&AbortSignal>) -> Option<Response> {
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
        Err(_) => return Some(Response::Network),
    };
    let status = response.status();
    if !(200..300).contains(&status) {
        let retry_after_ms = response
            .headers()
            .get("retry-after")
            .and_then(|value| parse_retry_after_ms(&value, now_ms()));
        return Some(Response::Http {
            status,
            retry_after_ms,
        });
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(bytes) = declared.filter(|b| *b > MAX_BODY_BYTES) {
        return Some(Response::TooLarge { bytes });
    }
    match response.text().await {
        Ok(body) => Some(Response::Body(body)),
        Err(_) if aborted() => None,
        Err(_) => Some(Response::Network),
    }
}
