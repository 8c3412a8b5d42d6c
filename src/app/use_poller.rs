//! [`use_poller`]: the requests to the stats endpoint, one at a time, with
//! backoff, timeouts and aborts, shared with other tabs watching the same
//! stream.
//!
//! What to do and when is decided by the pure [`Monitor`]/[`Poller`] state
//! machine; this hook carries out its [`Next`] with one timer and at most
//! one request (with its `AbortController` and its timeout), and reports
//! each [`Outcome`] back. The owner's cleanup clears the timer and aborts
//! the request.
//!
//! Several tabs watching the same stream share one poller (see
//! [`crate::core::share`] and [`use_shared_polling`]): only the tab holding
//! the group's lock makes requests; it posts each result, and the others
//! feed those into their own monitor as if they had made the request, once
//! their own token is proven by a request of their own (and again every
//! five minutes, see [`crate::core::poll`]). Until
//! a leader is heard from (or the lock is granted) a tab polls for itself:
//! the browser takes tens of milliseconds to grant even a free lock, and
//! the first status must not wait for it.
//!
//! **The first request may already be out.** `index.html` starts it while
//! the module downloads (see [`crate::app::first_request`]). The first
//! request this hook makes takes it (once) and adopts the pending response
//! only when its URL is exactly the one the monitor would request: same
//! endpoint, same token, so same stream. Anything else is aborted and the
//! hook sends its own. The adopted request is then owned like any other:
//! its controller is aborted by a token change or the owner's cleanup, and
//! the hook's timeout applies on top of the script's own (the same 10 s).
//!
//! Requests go out with `credentials: omit`, `cache: no-store` and
//! `referrerPolicy: no-referrer`: the token travels only in the URL to the
//! configured endpoint, and never in a Referer header anywhere.
//!
//! [`Poller`]: crate::core::poll::Poller
//! [`Outcome`]: crate::core::poll::Outcome

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use gloo_net::http::Request;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use web_sys::{
    AbortController, AbortSignal, ReferrerPolicy, RequestCache, RequestCredentials, RequestMode,
};

use crate::app::first_request;
use crate::app::use_clock::now_ms;
use crate::app::use_shared_polling::{
    use_shared_polling, UseSharedPolling, UseSharedPollingOptions,
};
use crate::core::api::{parse_retry_after_ms, MAX_BODY_BYTES};
use crate::core::history::History;
use crate::core::monitor::{Monitor, Role};
use crate::core::poll::{Following, Next, Step, REQUEST_TIMEOUT_MS};
use crate::core::share::{Message, Response};

/// What [`use_poller`] returns.
#[derive(Clone, Copy)]
pub struct UsePoller {
    /// Sets or replaces the token (from a host page, or a new link): the
    /// request in flight is dropped and polling starts again at once.
    /// History is kept when the new token is for the same stream.
    pub set_token: UnsyncCallback<Option<String>>,
}

/// Polls the endpoint for the monitor's token and records every outcome
/// in the monitor and the history.
///
/// ```ignore
/// let poller = use_poller(state.monitor, state.history);
/// poller.set_token.run(Some(token));
/// ```
///
/// The configured token's first request is started by this call (it leaves
/// as soon as the caller's synchronous work is done, ahead of any effect
/// created after it), with no timer in between. After that, one request at a time: the next is
/// scheduled when the previous one settles, as the monitor says. While
/// another tab of this browser polls the same stream, this one makes no
/// requests and renders that tab's results. Everything stops at the
/// owner's cleanup: the timer is cleared, the request aborted, the
/// shared-polling group left.
pub fn use_poller(monitor: RwSignal<Monitor>, history: RwSignal<History>) -> UsePoller {
    let poller = Driver::new(monitor, history);
    // The first request is queued before the group is joined (an effect,
    // which runs just after): the first status must not wait for the lock.
    poller.start();
    let share_key = Memo::new(move |_| monitor.with(Monitor::share_key));
    let shared = use_shared_polling(
        share_key.into(),
        UseSharedPollingOptions {
            on_join: {
                let poller = poller.clone();
                Rc::new(move |joined| poller.on_join(joined))
            },
            on_lead: {
                let poller = poller.clone();
                Rc::new(move || poller.on_lead())
            },
            on_message: {
                let poller = poller.clone();
                Rc::new(move |message| poller.on_message(message))
            },
        },
    );
    let _ = poller.inner.shared.set(shared);
    let owned = SendWrapper::new(poller.clone());
    on_cleanup(move || owned.shutdown());
    UsePoller {
        set_token: UnsyncCallback::new(move |token| poller.set_token(token)),
    }
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
    shared: OnceCell<UseSharedPolling>,
    /// The share key the sharing state below belongs to.
    share_key: RefCell<Option<String>>,
    /// A group of that key has been joined.
    joined: Cell<bool>,
    /// This tab holds the group's lock and polls for it.
    leading: Cell<bool>,
    /// A leader's result has arrived since joining: this tab follows.
    heard_leader: Cell<bool>,
    /// The leader's latest shareable result and when its next request is
    /// due (browser time), for tabs that join later.
    latest: RefCell<Option<(Response, f64)>>,
}

/// The timer and the request of one monitor.
#[derive(Clone)]
struct Driver {
    inner: Rc<Inner>,
}

impl Driver {
    fn new(monitor: RwSignal<Monitor>, history: RwSignal<History>) -> Driver {
        Driver {
            inner: Rc::new(Inner {
                monitor,
                history,
                timer: RefCell::new(None),
                request: RefCell::new(None),
                request_ids: Cell::new(0),
                disposed: Cell::new(false),
                shared: OnceCell::new(),
                share_key: RefCell::new(None),
                joined: Cell::new(false),
                leading: Cell::new(false),
                heard_leader: Cell::new(false),
                latest: RefCell::new(None),
            }),
        }
    }

    /// Starts with the configured token, if any.
    fn start(&self) {
        let now = now_ms();
        let monitor = self.inner.monitor;
        let next = self
            .inner
            .history
            .try_update(|h| monitor.try_update(|m| m.start(h, now)))
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
    }

    fn set_token(&self, token: Option<String>) {
        let key_before = self.inner.share_key.borrow().clone();
        self.cancel_request();
        let now = now_ms();
        let monitor = self.inner.monitor;
        let next = self
            .inner
            .history
            .try_update(|h| monitor.try_update(|m| m.set_token(token, h, now)))
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
        if self.is_following() && *self.inner.share_key.borrow() == key_before {
            // A new token for the same stream: ask the leader for its latest
            // result (a new group is asked when it is joined), instead of
            // showing "Connecting" until the next poll.
            self.post(&Message::Hello);
        }
    }

    /// Clears the timer and aborts the request in flight. Idempotent.
    fn shutdown(&self) {
        self.inner.disposed.set(true);
        self.inner.timer.borrow_mut().take();
        self.cancel_request();
        self.forget_group();
    }

    /// Another tab of the group leads, and this one renders its results.
    fn is_following(&self) -> bool {
        self.inner.heard_leader.get() && !self.inner.leading.get() && self.inner.joined.get()
    }

    fn post(&self, message: &Message) {
        if !self.inner.joined.get() {
            return;
        }
        if let Some(shared) = self.inner.shared.get() {
            shared.post(message);
        }
    }

    /// Forgets everything about the group this tab was in: it polls for
    /// itself until it hears from the group of its current key.
    fn forget_group(&self) {
        self.inner.joined.set(false);
        self.inner.leading.set(false);
        self.inner.heard_leader.set(false);
        self.inner.latest.borrow_mut().take();
    }

    /// Keeps the sharing state in step with what the monitor watches: when
    /// the share key changes (another stream, or polling stopped), the old
    /// group's leader is no longer this tab's source, at once; the group of
    /// the new key is joined by [`use_shared_polling`] just after.
    fn sync_share_key(&self) {
        let key = self
            .inner
            .monitor
            .try_with_untracked(Monitor::share_key)
            .flatten();
        if *self.inner.share_key.borrow() != key {
            self.inner.share_key.replace(key);
            self.forget_group();
            self.set_role(Role::Solo);
        }
    }

    fn set_role(&self, role: Role) {
        let monitor = self.inner.monitor;
        if monitor.try_with_untracked(Monitor::role) != Some(role) {
            monitor.try_update(|m| m.set_role(role));
        }
    }

    /// A group was joined (or left without a new one).
    fn on_join(&self, joined: bool) {
        if self.inner.disposed.get() {
            return;
        }
        self.forget_group();
        self.inner.joined.set(joined);
        self.set_role(Role::Solo);
        if joined {
            self.post(&Message::Hello);
        }
    }

    /// The group's lock was granted: this tab polls from now on, starting
    /// when the last leader's next request was due.
    fn on_lead(&self) {
        if self.inner.disposed.get() || !self.inner.joined.get() {
            return;
        }
        self.inner.leading.set(true);
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
    fn on_message(&self, message: Message) {
        if self.inner.disposed.get() {
            return;
        }
        let leading = self.inner.leading.get();
        match message {
            Message::Hello if leading => {
                let latest = self.inner.latest.borrow().clone();
                if let Some((response, next_at)) = latest {
                    self.post(&Message::Result {
                        response,
                        next_in_ms: next_at - now_ms(),
                    });
                }
            }
            Message::Result {
                response,
                next_in_ms,
            } if !leading => {
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
        self.sync_share_key();
        if let Next::Wake(delay_ms) = next {
            if delay_ms <= 0.0 {
                // Due now (a new token): no timer, so the first request goes
                // out before the browser's first render instead of after it.
                self.fire();
                return;
            }
            let driver = self.clone();
            let delay = delay_ms.clamp(0.0, f64::from(i32::MAX)).ceil() as u32;
            *self.inner.timer.borrow_mut() = Some(Timeout::new(delay, move || driver.fire()));
        }
    }

    fn fire(&self) {
        self.inner.timer.borrow_mut().take();
        if self.inner.disposed.get() {
            return;
        }
        let now = now_ms();
        if self.is_following() {
            match self.inner.monitor.try_update(|m| m.on_timer_following(now)) {
                // A request of this tab's own is the proof: one already
                // out will do, and its answer sets the timer again.
                Some(Following::Prove(generation)) if self.inner.request.borrow().is_none() => {
                    self.fetch(generation);
                }
                Some(Following::Wait(next)) => self.apply(next),
                Some(Following::Prove(_)) | None => {}
            }
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
        let early = first_request::take(&url);
        let controller = match &early {
            Some(early) => Some(early.controller.clone()),
            None => AbortController::new().ok(),
        };
        let early = early.map(|early| early.response);
        let signal = controller.as_ref().map(AbortController::signal);
        let timed_out = Rc::new(Cell::new(false));
        let timeout = {
            let controller = controller.clone();
            let timed_out = Rc::clone(&timed_out);
            Timeout::new(REQUEST_TIMEOUT_MS as u32, move || {
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
            let result = request(&url, signal.as_ref(), early).await;
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
            driver.cancel_request();
            let response = match result {
                Some(response) => response,
                None if timed_out.get() => Response::Timeout,
                None => return,
            };
            driver.settle(generation, response);
        });
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
        if self.inner.leading.get() && response.is_shareable() {
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

/// One request, or the adoption of the one `index.html` started (`early`,
/// see [`crate::app::first_request`]). `None` means it was aborted (by its
/// timeout or a cleanup).
pub(crate) async fn request(
    url: &str,
    signal: Option<&AbortSignal>,
    early: Option<js_sys::Promise>,
) -> Option<Response> {
    use wasm_bindgen::JsCast;

    let aborted = || signal.is_some_and(AbortSignal::aborted);
    let response = match early {
        Some(pending) => wasm_bindgen_futures::JsFuture::from(pending)
            .await
            .ok()
            .and_then(|value| value.dyn_into::<web_sys::Response>().ok())
            .map(gloo_net::http::Response::from)
            .ok_or(()),
        None => Request::get(url)
            .abort_signal(signal)
            .mode(RequestMode::Cors)
            .credentials(RequestCredentials::Omit)
            .cache(RequestCache::NoStore)
            .referrer_policy(ReferrerPolicy::NoReferrer)
            .send()
            .await
            .map_err(|_| ()),
    };
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
