//! [`use_counts`]: the viewer counts requests (`GET {endpoint}/counts`),
//! one at a time, on their own schedule, shared with other tabs watching
//! the same stream.
//!
//! What to do and when is decided by the pure [`Viewers`] state machine
//! (see [`crate::core::counts`]); this hook carries out its [`Next`] with
//! one timer and at most one request (with its `AbortController` and its
//! timeout), and reports each outcome back. The owner's cleanup clears the
//! timer, aborts the request and leaves the shared-polling group.
//!
//! Decisions a newcomer asks about:
//! - **Health first.** The counts get the monitor's token only once
//!   health's first answer for it has settled (the health poller has left
//!   `Connecting`), so the first status never waits behind a counts
//!   request. A token health refuses (or that expired) stops the counts
//!   too, without a request of their own. A new token (a host's refresh, a
//!   pasted link) restarts the counts when health has answered for it,
//!   which also restarts counts stopped by a 401/403.
//! - **Off means off.** With `viewers=off` (or `lsh:config` turning them
//!   off) [`Viewers`] has no request to make: the timer stops at its next
//!   firing and the request in flight is aborted at once.
//! - **Shared like health**, through [`use_shared_polling`] with the
//!   counts' own key: the tab holding the lock polls and posts each result
//!   on the group's channel; the others take those. Unlike health, a tab
//!   that can join a group makes no counts request of its own before it
//!   leads: counts are not urgent, and this keeps a browser with several
//!   monitors of one stream at one set of counts requests.
//! - The request itself is health's ([`crate::app::use_poller::request`]):
//!   `credentials: omit`, `cache: no-store`, `referrerPolicy: no-referrer`,
//!   the same body size limit.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use web_sys::AbortController;

use crate::app::use_clock::now_ms;
use crate::app::use_poller::request;
use crate::app::use_shared_polling::{
    use_shared_polling, UseSharedPolling, UseSharedPollingOptions,
};
use crate::app::web_locks::lock_manager;
use crate::core::counts::{parse_counts, Viewers};
use crate::core::monitor::Monitor;
use crate::core::poll::{ConnState, Next, Step, REQUEST_TIMEOUT_MS};
use crate::core::share::{Message, Response};

/// Polls the viewer counts for the monitor's token into `viewers`, once
/// health has answered for that token.
///
/// ```ignore
/// use_counts(state.monitor, state.viewers);
/// ```
pub fn use_counts(monitor: RwSignal<Monitor>, viewers: RwSignal<Viewers>) {
    let driver = Driver::new(viewers);
    let share_key = Memo::new(move |_| viewers.with(Viewers::share_key));
    let shared = use_shared_polling(
        share_key.into(),
        UseSharedPollingOptions {
            on_join: {
                let driver = driver.clone();
                Rc::new(move |joined| driver.on_join(joined))
            },
            on_lead: {
                let driver = driver.clone();
                Rc::new(move || driver.on_lead())
            },
            on_message: {
                let driver = driver.clone();
                Rc::new(move |message| driver.on_message(message))
            },
        },
    );
    let _ = driver.inner.shared.set(shared);

    // The token health has answered for (`None` while health's first
    // answer for a new token is awaited: the counts keep what they have;
    // no token when health refused it or it expired).
    let answered_token = Memo::new(move |_| {
        monitor.with(|m| match m.poller().state() {
            ConnState::Connecting => None,
            ConnState::TokenRejected | ConnState::TokenExpired => Some(None),
            _ => Some(m.token().map(str::to_owned)),
        })
    });
    let enabled = Memo::new(move |_| viewers.with(Viewers::enabled));
    {
        let driver = driver.clone();
        Effect::new(move |_| {
            let enabled = enabled.get();
            let Some(token) = answered_token.get() else {
                return;
            };
            untrack(|| driver.restart(token, enabled));
        });
    }
    let owned = SendWrapper::new(driver);
    on_cleanup(move || owned.shutdown());
}

struct InFlight {
    id: u64,
    controller: Option<AbortController>,
    _timeout: Timeout,
}

struct Inner {
    viewers: RwSignal<Viewers>,
    timer: RefCell<Option<Timeout>>,
    request: RefCell<Option<InFlight>>,
    request_ids: Cell<u64>,
    disposed: Cell<bool>,
    shared: OnceCell<UseSharedPolling>,
    /// The share key the sharing state below belongs to.
    share_key: RefCell<Option<String>>,
    /// The group of that key is being joined (its effect has not run).
    joining: Cell<bool>,
    /// A group of that key has been joined.
    joined: Cell<bool>,
    /// This tab holds the group's lock and polls for it.
    leading: Cell<bool>,
    /// The leader's latest shareable result and when its next request is
    /// due (browser time), for tabs that join later.
    latest: RefCell<Option<(Response, f64)>>,
}

/// The timer and the request of the viewer counts.
#[derive(Clone)]
struct Driver {
    inner: Rc<Inner>,
}

impl Driver {
    fn new(viewers: RwSignal<Viewers>) -> Driver {
        Driver {
            inner: Rc::new(Inner {
                viewers,
                timer: RefCell::new(None),
                request: RefCell::new(None),
                request_ids: Cell::new(0),
                disposed: Cell::new(false),
                shared: OnceCell::new(),
                share_key: RefCell::new(None),
                joining: Cell::new(false),
                joined: Cell::new(false),
                leading: Cell::new(false),
                latest: RefCell::new(None),
            }),
        }
    }

    /// (Re)starts the counts for `token`, or stops them.
    fn restart(&self, token: Option<String>, enabled: bool) {
        self.cancel_request();
        let now = now_ms();
        let next = self.inner.viewers.try_update(|v| {
            v.set_enabled(enabled);
            v.restart(token, now)
        });
        self.apply(next.unwrap_or(Next::Idle));
        if self.is_following() {
            // The leader's latest result, instead of "—" until its next poll.
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

    /// In a group whose lock another tab holds (or not yet known to be
    /// free): that tab polls.
    fn is_following(&self) -> bool {
        !self.inner.leading.get() && (self.inner.joined.get() || self.inner.joining.get())
    }

    fn post(&self, message: &Message) {
        if !self.inner.joined.get() {
            return;
        }
        if let Some(shared) = self.inner.shared.get() {
            shared.post(message);
        }
    }

    fn forget_group(&self) {
        self.inner.joined.set(false);
        self.inner.leading.set(false);
        self.inner.latest.borrow_mut().take();
    }

    /// Keeps the sharing state in step with the counts' share key; a new
    /// key is joined by [`use_shared_polling`] just after, and until then
    /// this tab waits when the browser can share at all.
    fn sync_share_key(&self) {
        let key = self
            .inner
            .viewers
            .try_with_untracked(Viewers::share_key)
            .flatten();
        if *self.inner.share_key.borrow() != key {
            self.inner
                .joining
                .set(key.is_some() && lock_manager().is_some());
            self.inner.share_key.replace(key);
            self.forget_group();
        }
    }

    /// A group was joined, or none could be (no Web Locks, or no key).
    fn on_join(&self, joined: bool) {
        if self.inner.disposed.get() {
            return;
        }
        self.forget_group();
        self.inner.joining.set(false);
        self.inner.joined.set(joined);
        if joined {
            self.post(&Message::Hello);
        } else {
            // Polling alone, from when the counts are due.
            self.wake_when_due();
        }
    }

    /// The group's lock was granted: this tab polls from now on.
    fn on_lead(&self) {
        if self.inner.disposed.get() || !self.inner.joined.get() {
            return;
        }
        self.inner.leading.set(true);
        if self.inner.request.borrow().is_none() {
            self.wake_when_due();
        }
    }

    fn wake_when_due(&self) {
        let now = now_ms();
        let due = self
            .inner
            .viewers
            .try_with_untracked(|v| v.poller().due_in_ms(now))
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
                let outcome = response.outcome_with(parse_counts);
                let now = now_ms();
                let next = self
                    .inner
                    .viewers
                    .try_update(|v| v.on_shared(&outcome, next_in_ms, now));
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
            let next = self.inner.viewers.try_update(|v| v.on_timer_following(now));
            self.apply(next.unwrap_or(Next::Idle));
            return;
        }
        match self.inner.viewers.try_update(|v| v.on_timer(now)) {
            Some(Step::Fetch(generation)) => self.fetch(generation),
            Some(Step::Stop) | None => {}
        }
    }

    fn fetch(&self, generation: u64) {
        let Some(url) = self
            .inner
            .viewers
            .try_with_untracked(Viewers::request_url)
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
            let result = request(&url, signal.as_ref(), None).await;
            let mine = driver
                .inner
                .request
                .borrow()
                .as_ref()
                .is_some_and(|r| r.id == id);
            if !mine || driver.inner.disposed.get() {
                return;
            }
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
        let outcome = response.outcome_with(parse_counts);
        let next = self
            .inner
            .viewers
            .try_update(|v| v.on_outcome(generation, &outcome, now, jitter))
            .unwrap_or(Next::Idle);
        if self.inner.leading.get() && response.is_shareable() {
            let next_in_ms = match next {
                Next::Wake(delay) => delay,
                Next::Idle => 0.0,
            };
            self.post(&Message::Result {
                response: response.clone(),
                next_in_ms,
            });
            *self.inner.latest.borrow_mut() = Some((response, now + next_in_ms));
        }
        self.apply(next);
    }
}
