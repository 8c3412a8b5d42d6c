//! [`use_poller`]: the requests to the stats endpoint, one at a time, with
//! backoff, timeouts and aborts, shared with other tabs watching the same
//! stream.
//!
//! What to do and when is decided by the pure [`Monitor`]/[`Poller`] state
//! machine; this hook carries out its [`Next`] with one timer and at most
//! one request (a [`OneRequest`], with its `AbortController` and its
//! timeout), and reports each [`Outcome`] back. The owner's cleanup clears
//! the timer and aborts the request.
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
//! Requests go out as [`OneRequest`] sends them: `credentials: omit`,
//! `cache: no-store`, `referrerPolicy: no-referrer`, so the token travels
//! only in the URL to the configured endpoint, never in a Referer header.
//!
//! [`Poller`]: crate::core::poll::Poller
//! [`Outcome`]: crate::core::poll::Outcome

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::app::first_request;
use crate::app::one_request::OneRequest;
use crate::app::use_clock::now_ms;
use crate::app::use_shared_polling::{use_shared_polling, Group, UseSharedPollingOptions};
use crate::core::history::History;
use crate::core::monitor::{Monitor, Role};
use crate::core::poll::{Following, Next, Step};
use crate::core::share::{Message, Response};

/// What [`use_poller`] returns.
#[derive(Clone, Copy)]
pub struct UsePoller {
    /// Sets or replaces the token (from a host page, or a new link): the
    /// request in flight is dropped and polling starts again at once.
    /// History is kept when the new token is for the same stream.
    pub set_token: UnsyncCallback<Option<String>>,
}

/// How [`use_poller_with_options`] starts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UsePollerOptions {
    /// How long the configured token's first request waits (ms): a wall
    /// spreads its streams' requests over the interval this way (see
    /// [`crate::core::wall::start_offset_ms`]), and the later polls keep
    /// that phase. A token set later starts at once.
    pub start_delay_ms: f64,
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
    use_poller_with_options(monitor, history, UsePollerOptions::default())
}

/// [`use_poller`], with the configured token's first request
/// `options.start_delay_ms` later.
///
/// ```ignore
/// let options = UsePollerOptions { start_delay_ms: 1250.0 };
/// let poller = use_poller_with_options(state.monitor, state.history, options);
/// ```
pub fn use_poller_with_options(
    monitor: RwSignal<Monitor>,
    history: RwSignal<History>,
    options: UsePollerOptions,
) -> UsePoller {
    let poller = Driver::new(monitor, history);
    // The first request is queued before the group is joined (an effect,
    // which runs just after): the first status must not wait for the lock.
    poller.start(options.start_delay_ms);
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
    poller.inner.group.attach(shared);
    let owned = SendWrapper::new(poller.clone());
    on_cleanup(move || owned.shutdown());
    UsePoller {
        set_token: UnsyncCallback::new(move |token| poller.set_token(token)),
    }
}

struct Inner {
    monitor: RwSignal<Monitor>,
    history: RwSignal<History>,
    timer: RefCell<Option<Timeout>>,
    request: OneRequest,
    disposed: Cell<bool>,
    group: Group,
    /// A leader's result has arrived since joining: this tab follows.
    heard_leader: Cell<bool>,
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
                request: OneRequest::default(),
                disposed: Cell::new(false),
                group: Group::default(),
                heard_leader: Cell::new(false),
            }),
        }
    }

    /// Starts with the configured token, if any, its first request
    /// `delay_ms` later.
    fn start(&self, delay_ms: f64) {
        let now = now_ms();
        let monitor = self.inner.monitor;
        let next = self
            .inner
            .history
            .try_update(|h| {
                monitor.try_update(|m| match m.start(h, now) {
                    Next::Wake(_) if delay_ms > 0.0 => m.delay_start(delay_ms, now),
                    next => next,
                })
            })
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
    }

    fn set_token(&self, token: Option<String>) {
        let key_before = self.inner.group.key();
        self.inner.request.cancel();
        let now = now_ms();
        let monitor = self.inner.monitor;
        let next = self
            .inner
            .history
            .try_update(|h| monitor.try_update(|m| m.set_token(token, h, now)))
            .flatten();
        self.apply(next.unwrap_or(Next::Idle));
        if self.is_following() && self.inner.group.key() == key_before {
            // A new token for the same stream: ask the leader for its latest
            // result (a new group is asked when it is joined), instead of
            // showing "Connecting" until the next poll.
            self.inner.group.post(&Message::Hello);
        }
    }

    /// Clears the timer and aborts the request in flight. Idempotent.
    fn shutdown(&self) {
        self.inner.disposed.set(true);
        self.inner.timer.borrow_mut().take();
        self.inner.request.cancel();
        self.forget_group();
    }

    /// Another tab of the group leads, and this one renders its results.
    fn is_following(&self) -> bool {
        let group = &self.inner.group;
        self.inner.heard_leader.get() && !group.is_leading() && group.is_joined()
    }

    /// Forgets everything about the group this tab was in: it polls for
    /// itself until it hears from the group of its current key.
    fn forget_group(&self) {
        self.inner.heard_leader.set(false);
        self.inner.group.forget();
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
        if self.inner.group.follow_key(key) {
            self.inner.heard_leader.set(false);
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
        self.inner.heard_leader.set(false);
        self.set_role(Role::Solo);
        self.inner.group.on_join(joined);
    }

    /// The group's lock was granted: this tab polls from now on, starting
    /// when the last leader's next request was due.
    fn on_lead(&self) {
        if self.inner.disposed.get() || !self.inner.group.on_lead() {
            return;
        }
        self.set_role(Role::Leader);
        if self.inner.request.is_out() {
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
        match message {
            Message::Hello => self.inner.group.answer_hello(),
            Message::Result {
                response,
                next_in_ms,
            } if !self.inner.group.is_leading() => {
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
                Some(Following::Prove(generation)) if !self.inner.request.is_out() => {
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
        let early = first_request::take(&url);
        let driver = self.clone();
        self.inner.request.send(url, early, move |response| {
            if !driver.inner.disposed.get() {
                driver.settle(generation, response);
            }
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
        self.inner.group.share(response, next, now);
        self.apply(next);
    }
}
