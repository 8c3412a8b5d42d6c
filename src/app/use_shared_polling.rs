//! [`use_shared_polling`]: one poller per stream per browser, the browser
//! side of [`crate::core::share`].
//!
//! Tabs, docks and frames of one browser that watch the same stream through
//! the same endpoint have the same share key. For the current key, this
//! hook keeps this tab's *membership* of that key's group: a Web Lock
//! request of that name (granted to one tab at a time, in request order,
//! and released by the browser when the holding tab closes, navigates or
//! crashes) and a `BroadcastChannel` of the same name. The tab holding the
//! lock polls and posts its results; the others listen. What to do with
//! the lock and the messages is the poller's business
//! ([`crate::app::use_poller`]); this hook only owns the browser resources.
//!
//! Where the browser has no Web Locks (before Chromium 69, or a page that
//! is not a secure context, e.g. plain http on a LAN address) or no
//! `BroadcastChannel`, there is no membership and the tab polls for
//! itself, as it would alone. Storage partitioning applies: a widget framed
//! by another site shares only with frames of that same site.
//!
//! A page going into the back/forward cache is not closed: it keeps its
//! lock and channel, frozen, and the other tabs would keep following a
//! leader that no longer polls. So the membership is left on `pagehide`
//! (the lock goes to the next tab at once, as when the tab closes) and
//! taken up again on `pageshow` when the page comes back; a page that comes
//! back asks the group first and follows its leader, if it has one.
//!
//! Web Locks, which web-sys has only behind its unstable-APIs flag, come
//! from the one hand-written binding in [`crate::app::web_locks`].
//!
//! Both pollers (health and viewer counts) keep the same few facts about
//! their group: whether one is joined, whether this tab leads it, and the
//! latest result it shared, which answers a `Hello` from a tab joining
//! later. That bookkeeping is [`Group`], a plain struct the poller owns
//! beside the membership; when to poll, and what to do with a leader's
//! result, stay with each poller.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, BroadcastChannel, MessageEvent};

use crate::app::use_clock::now_ms;
use crate::app::web_locks::{lock_manager, LockOptions};
use crate::core::poll::Next;
use crate::core::share::{decode, encode, Message, Response};

/// What the group tells this tab; see [`use_shared_polling`].
pub struct UseSharedPollingOptions {
    /// A membership began (`true`: the tab joined a group and other tabs
    /// may answer it) or ended without a new one (`false`).
    pub on_join: Rc<dyn Fn(bool)>,
    /// The lock of the current group was granted: this tab polls for the
    /// group from now on.
    pub on_lead: Rc<dyn Fn()>,
    /// Another tab of the current group posted a message.
    pub on_message: Rc<dyn Fn(Message)>,
}

/// What [`use_shared_polling`] returns.
#[derive(Clone)]
pub struct UseSharedPolling {
    memberships: Memberships,
}

impl UseSharedPolling {
    /// Posts to the other tabs of the current group (never to this one);
    /// nothing without a group.
    pub fn post(&self, message: &Message) {
        if let (Some(membership), Some(text)) =
            (self.memberships.current.borrow().as_ref(), encode(message))
        {
            let _ = membership.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

/// A poller's side of its shared-polling group: the membership (once
/// [`Group::attach`]ed) and what the poller knows about the group.
///
/// ```ignore
/// let group = Group::default();
/// group.attach(use_shared_polling(key, options)); // callbacks call on_join..
/// group.share(response, next, now); // when this tab leads
/// ```
#[derive(Default)]
pub struct Group {
    shared: OnceCell<UseSharedPolling>,
    /// The share key the state below belongs to.
    key: RefCell<Option<String>>,
    /// A group of that key has been joined.
    joined: Cell<bool>,
    /// This tab holds the group's lock and polls for it.
    leading: Cell<bool>,
    /// The latest shareable result this tab posted as leader, and when its
    /// next request is due (browser time), for tabs that join later.
    latest: RefCell<Option<(Response, f64)>>,
}

impl Group {
    /// The membership the messages go through.
    pub fn attach(&self, shared: UseSharedPolling) {
        let _ = self.shared.set(shared);
    }

    /// The share key the group state belongs to.
    pub fn key(&self) -> Option<String> {
        self.key.borrow().clone()
    }

    /// A group of the current key has been joined.
    pub fn is_joined(&self) -> bool {
        self.joined.get()
    }

    /// This tab holds the group's lock and polls for it.
    pub fn is_leading(&self) -> bool {
        self.leading.get()
    }

    /// Posts to the other tabs of the group; nothing before joining one.
    pub fn post(&self, message: &Message) {
        if !self.joined.get() {
            return;
        }
        if let Some(shared) = self.shared.get() {
            shared.post(message);
        }
    }

    /// Forgets everything about the group: not joined, not leading, no
    /// result to answer with.
    pub fn forget(&self) {
        self.joined.set(false);
        self.leading.set(false);
        self.latest.borrow_mut().take();
    }

    /// Follows the poller's share key: a new key forgets the old group at
    /// once (its group is joined by [`use_shared_polling`] just after).
    /// `true` when the key changed.
    pub fn follow_key(&self, key: Option<String>) -> bool {
        if *self.key.borrow() == key {
            return false;
        }
        self.key.replace(key);
        self.forget();
        true
    }

    /// A membership began (`joined`) or ended without a new one: starts
    /// afresh, and asks a joined group for its leader's latest result.
    pub fn on_join(&self, joined: bool) {
        self.forget();
        self.joined.set(joined);
        self.post(&Message::Hello);
    }

    /// The group's lock was granted: this tab leads. `false` (and nothing
    /// changes) when no group is joined.
    pub fn on_lead(&self) -> bool {
        if !self.joined.get() {
            return false;
        }
        self.leading.set(true);
        true
    }

    /// Answers another tab's `Hello` with the latest result, when leading.
    pub fn answer_hello(&self) {
        if !self.leading.get() {
            return;
        }
        let latest = self.latest.borrow().clone();
        if let Some((response, next_at)) = latest {
            self.post(&Message::Result {
                response,
                next_in_ms: next_at - now_ms(),
            });
        }
    }

    /// Shares this tab's own result (settled at `now`, with its poller's
    /// `next` step) with the group, when leading and the result is
    /// shareable, and keeps it for tabs that join later.
    pub fn share(&self, response: Response, next: Next, now: f64) {
        if !self.leading.get() || !response.is_shareable() {
            return;
        }
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
            *self.latest.borrow_mut() = Some((response, now + next_in_ms));
        }
    }
}

/// Joins the shared-polling group of `key` whenever it changes: leaves the
/// previous group, then joins the new one (none for `None`).
///
/// ```ignore
/// let shared = use_shared_polling(share_key.into(), UseSharedPollingOptions {
///     on_join: Rc::new(|joined| ..),
///     on_lead: Rc::new(|| ..),      // poll from now on
///     on_message: Rc::new(|message| ..),
/// });
/// shared.post(&Message::Hello);
/// ```
///
/// The membership follows `key` from an effect, so the first join happens
/// just after the caller's first render. Callbacks of a membership that
/// has been left are never called. Leaving aborts a lock request still
/// waiting, releases a lock held, removes the message listener and closes
/// the channel. The page leaves on `pagehide` and joins again on
/// `pageshow` (back/forward cache). The owner's cleanup leaves too, and
/// removes the page listeners.
pub fn use_shared_polling(
    key: Signal<Option<String>>,
    options: UseSharedPollingOptions,
) -> UseSharedPolling {
    let memberships = Memberships::default();
    let options = Rc::new(options);
    // False from `pagehide` until `pageshow`: the page is going away, or
    // frozen in the back/forward cache.
    let shown = RwSignal::new(true);
    let hidden = window_event_listener_untyped("pagehide", move |_| shown.set(false));
    let reshown = window_event_listener_untyped("pageshow", move |_| {
        if !shown.get_untracked() {
            shown.set(true);
        }
    });
    {
        let memberships = memberships.clone();
        Effect::new(move |_| {
            let key = key.get().filter(|_| shown.get());
            // Left before joining anew, and dropped outside the borrow:
            // leaving may run browser callbacks.
            let left = memberships.current.borrow_mut().take();
            drop(left);
            let joined = key.and_then(|key| memberships.join(&key, &options));
            let is_member = joined.is_some();
            *memberships.current.borrow_mut() = joined;
            untrack(|| (options.on_join)(is_member));
        });
    }
    let on_cleanup_memberships = SendWrapper::new(memberships.clone());
    on_cleanup(move || {
        hidden.remove();
        reshown.remove();
        let left = on_cleanup_memberships.current.borrow_mut().take();
        drop(left);
    });
    UseSharedPolling { memberships }
}

/// This tab's memberships: the current one, and a count of joins so the
/// callbacks of an old one can tell they are stale.
#[derive(Clone, Default)]
struct Memberships {
    current: Rc<RefCell<Option<Membership>>>,
    joins: Rc<Cell<u64>>,
}

impl Memberships {
    /// Joins `key`'s group; `None` when the browser cannot share.
    fn join(&self, key: &str, options: &Rc<UseSharedPollingOptions>) -> Option<Membership> {
        let join = self.joins.get() + 1;
        self.joins.set(join);
        let on_lead = {
            let (joins, options) = (Rc::clone(&self.joins), Rc::clone(options));
            move || {
                if joins.get() == join {
                    (options.on_lead)();
                }
            }
        };
        let on_message = {
            let (joins, options) = (Rc::clone(&self.joins), Rc::clone(options));
            move |text: String| {
                if joins.get() != join {
                    return;
                }
                if let Ok(message) = decode(&text) {
                    (options.on_message)(message);
                }
            }
        };
        Membership::join(key, on_message, on_lead)
    }
}

/// One membership of one group; dropping it leaves the group.
struct Membership {
    channel: BroadcastChannel,
    waiting: AbortController,
    release: Rc<RefCell<Option<Function>>>,
    _granted: Closure<dyn FnMut(JsValue) -> Promise>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Membership {
    fn join(
        key: &str,
        mut on_message: impl FnMut(String) + 'static,
        on_lead: impl FnOnce() + 'static,
    ) -> Option<Membership> {
        let locks = lock_manager()?;
        let channel = BroadcastChannel::new(key).ok()?;
        let waiting = AbortController::new().ok()?;
        let options = LockOptions::with_signal(&waiting.signal());

        let release = Rc::new(RefCell::new(None::<Function>));
        let held = Rc::clone(&release);
        let mut on_lead = Some(on_lead);
        let granted = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
            // The lock is held until this promise resolves, which only
            // `Drop` does (or the browser, when the tab goes away).
            let holding = Promise::new(&mut |resolve, _reject| {
                *held.borrow_mut() = Some(resolve);
            });
            if let Some(lead) = on_lead.take() {
                // Straight away: the first request of a lone tab waits for
                // this.
                lead();
            }
            holding
        });
        let request = match locks.request_with_options_and_callback(
            key,
            &options,
            granted.as_ref().unchecked_ref(),
        ) {
            Ok(request) => request,
            Err(_) => {
                // No lock manager after all: this tab polls alone.
                channel.close();
                return None;
            }
        };
        // It settles when the lock is released, or rejects with an
        // AbortError when `Drop` withdraws a request still waiting; both
        // are expected, and awaiting here keeps the rejection handled.
        leptos::task::spawn_local(async move {
            let _ = JsFuture::from(request).await;
        });

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_message(text);
            }
        });
        let _ = channel
            .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        Some(Membership {
            channel,
            waiting,
            release,
            _granted: granted,
            on_message,
        })
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.waiting.abort();
        if let Some(resolve) = self.release.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
        let _ = self.channel.remove_event_listener_with_callback(
            "message",
            self.on_message.as_ref().unchecked_ref(),
        );
        self.channel.close();
    }
}
