//! One listener type for every DOM event the app handles itself.
//!
//! Leptos's `on:` attributes and `window_event_listener` are generic over
//! the event and the handler: each use is its own monomorphized copy of the
//! attach, delegate and cleanup code. A [`Listener`] is one
//! `Closure<dyn FnMut(Event)>` registered for a few event names of one
//! target; the handler looks at `event.type_()` when it serves several.
//! Measured on this widget, moving the chart's five `on:` handlers and the
//! resize listener here saved about 5 KB gzip of WebAssembly.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

/// A handler registered for `events` on `target`; dropping it removes it.
/// Not `Send` (it holds a JS closure): owners keep it in a `SendWrapper`
/// and drop it on cleanup.
pub struct Listener {
    target: EventTarget,
    events: &'static [&'static str],
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Starts calling `handle` for each of `events` on `target`.
    pub fn new(
        target: EventTarget,
        events: &'static [&'static str],
        handle: impl FnMut(Event) + 'static,
    ) -> Listener {
        Listener::new_boxed(target, events, Box::new(handle))
    }

    /// [`Listener::new`] past the boxing, compiled once.
    #[inline(never)]
    fn new_boxed(
        target: EventTarget,
        events: &'static [&'static str],
        handle: Box<dyn FnMut(Event)>,
    ) -> Listener {
        let callback = Closure::wrap(handle);
        for name in events {
            let _ =
                target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        }
        Listener {
            target,
            events,
            callback,
        }
    }
}

impl Listener {
    /// Removes the handler now (dropping it does the same).
    pub fn remove(self) {
        drop(self);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        for name in self.events {
            let _ = self
                .target
                .remove_event_listener_with_callback(name, self.callback.as_ref().unchecked_ref());
        }
    }
}
