//! [`use_counts`]: the viewer counts requests (`GET {endpoint}/counts`),
//! one at a time, on their own schedule, shared with other tabs watching
//! the same stream.
//!
//! What to do and when is decided by the pure [`Viewers`] state machine
//! (see [`crate::core::counts`]); this hook carries out its [`Next`] with
//! one timer and at most one request (a [`OneRequest`], with its
//! `AbortController` and its timeout), and reports each outcome back. The
//! owner's cleanup clears the timer, aborts the request and leaves the
//! shared-polling group.
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
//! - The request carrier and the group bookkeeping are health's too
//!   ([`OneRequest`]: `credentials: omit`, `cache: no-store`,
//!   `referrerPolicy: no-referrer`, the same body size limit and timeout;
//!   [`Group`]: leading, and answering a `Hello` with the latest result).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::app::one_request::OneRequest;
use crate::app::use_clock::now_ms;
use crate::app::use_shared_polling::{use_shared_polling, Group, UseSharedPollingOptions};
use crate::app::web_locks::lock_manager;
use crate::core::counts::{parse_counts, Viewers};
use crate::core::monitor::Monitor;
use crate::core::poll::{ConnState, Next, Step};
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
    driver.inner.group.attach(shared);

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

struct Inner {
    viewers: RwSignal<Viewers>,
    timer: RefCell<Option<Timeout>>,
    request: OneRequest,
    disposed: Cell<bool>,
    group: Group,
    /// The group of the current share key is being joined (its effect has
    /// not run).
    joining: Cell<bool>,
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
                request: OneRequest::default(),
                disposed: Cell::new(false),
                group: Group::default(),
                joining: Cell::new(false),
            }),
        }
    }

    /// (Re)starts the counts for `token`, or stops them.
    fn restart(&self, token: Option<String>, enabled: bool) {
        self.inner.request.cancel();
        let now = now_ms();
        let next = self.inner.viewers.try_update(|v| {
            v.set_enabled(enabled);
            v.restart(token, now)
        });
        self.apply(next.unwrap_or(Next::Idle));
        if self.is_following() {
            // The leader's latest result, instead of "—" until its next poll.
            self.inner.group.post(&Message::Hello);
        }
    }

    /// Clears the timer and aborts the request in flight. Idempotent.
    fn shutdown(&self) {
        self.inner.disposed.set(true);
        self.inner.timer.borrow_mut().take();
        self.inner.request.cancel();
        self.inner.group.forget();
    }

    /// In a group whose lock another tab holds (or not yet known to be
    /// free): that tab polls.
    fn is_following(&self) -> bool {
        let group = &self.inner.group;
        !group.is_leading() && (group.is_joined() || self.inner.joining.get())
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
        let has_key = key.is_some();
        if self.inner.group.follow_key(key) {
            self.inner.joining.set(has_key && lock_manager().is_some());
        }
    }

    /// A group was joined, or none could be (no Web Locks, or no key).
    fn on_join(&self, joined: bool) {
        if self.inner.disposed.get() {
            return;
        }
        self.inner.joining.set(false);
        self.inner.group.on_join(joined);
        if !joined {
            // Polling alone, from when the counts are due.
            self.wake_when_due();
        }
    }

    /// The group's lock was granted: this tab polls from now on.
    fn on_lead(&self) {
        if self.inner.disposed.get() || !self.inner.group.on_lead() {
            return;
        }
        if !self.inner.request.is_out() {
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
        match message {
            Message::Hello => self.inner.group.answer_hello(),
            Message::Result {
                response,
                next_in_ms,
            } if !self.inner.group.is_leading() => {
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
        let driver = self.clone();
        self.inner.request.send(url, None, move |response| {
            if !driver.inner.disposed.get() {
                driver.settle(generation, response);
            }
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
        self.inner.group.share(response, next, now);
        self.apply(next);
    }
}
