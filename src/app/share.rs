//! Shared polling across tabs: the browser side of [`crate::core::share`].
//!
//! A [`Share`] is this tab's membership of one share key: a Web Lock
//! request of that name (granted to one tab at a time, in request order,
//! and released by the browser when the holding tab closes, navigates or
//! crashes) and a `BroadcastChannel` of the same name. The tab holding the
//! lock polls and posts; the others listen. Dropping the `Share` leaves:
//! it aborts a lock request still waiting, releases a lock held, closes the
//! channel and removes the listener, so it is the one cleanup for all four.
//!
//! Where the browser has no Web Locks (before Chromium 69, or a page that
//! is not a secure context, e.g. plain http on a LAN address) or no
//! `BroadcastChannel`, [`Share::join`] returns `None` and the tab polls for
//! itself, as it would alone. Storage partitioning applies: a widget framed
//! by another site shares only with frames of that same site.
//!
//! Web Locks, which web-sys has only behind its unstable-APIs flag, come
//! from the one hand-written binding in [`crate::app::web_locks`]; the
//! channel is web-sys's `BroadcastChannel`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, BroadcastChannel, MessageEvent};

use crate::app::driver::spawn;
use crate::app::web_locks::{lock_manager, LockOptions};

/// This tab's place in one share key's group; dropping it leaves the group.
pub struct Share {
    channel: BroadcastChannel,
    waiting: AbortController,
    release: Rc<RefCell<Option<Function>>>,
    _granted: Closure<dyn FnMut(JsValue) -> Promise>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Share {
    /// Joins the group for `key`: `on_message` gets every message other
    /// tabs post, `on_lead` runs once this tab holds the lock. `None` when the browser cannot share.
    pub fn join(
        key: &str,
        mut on_message: impl FnMut(String) + 'static,
        on_lead: impl FnOnce() + 'static,
    ) -> Option<Share> {
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
                // this. Leading may drop this very `Share` (and this
                // closure); wasm-bindgen frees a closure only once its last
                // call has returned, and the lock is released by `Drop`.
                lead();
            }
            holding
        });
        // `locks.request(name, options, callback)` calls `callback` once the
        // lock is granted and holds it until the promise it returns settles.
        let request = locks.request_with_options_and_callback(
            key,
            &options,
            granted.as_ref().unchecked_ref(),
        );
        let request = match request {
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
        spawn(Box::pin(async move {
            let _ = JsFuture::from(request).await;
        }));

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_message(text);
            }
        });
        let _ = channel
            .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        Some(Share {
            channel,
            waiting,
            release,
            _granted: granted,
            on_message,
        })
    }

    /// Posts to the other tabs of the group (never to this one).
    pub fn post(&self, text: &str) {
        let _ = self.channel.post_message(&JsValue::from_str(text));
    }
}

impl Drop for Share {
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
