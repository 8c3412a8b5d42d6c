//! The Web Locks API (`navigator.locks`), typed by hand.
//!
//! web-sys has `LockManager` only behind its `web_sys_unstable_apis` cfg
//! flag, which would have to be set for the whole build (and changes other
//! bindings with it). Shared polling needs one call of it, so this file
//! declares exactly that call, typed, in one `extern "C"` block: the
//! `locks` getter of `Navigator`, `LockManager.request(name, options,
//! callback)`, and the `signal` member of its options. It is the only
//! hand-written binding of the app.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Navigator};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`: grants named locks to one holder at a time, in
    /// request order, across the tabs and workers of one origin (and
    /// storage partition).
    #[wasm_bindgen(extends = Object)]
    pub type LockManager;

    /// `Navigator`, seen with its `locks` member.
    #[wasm_bindgen(extends = Navigator)]
    type NavigatorWithLocks;

    /// `navigator.locks`, absent (`None`) where the browser has no Web
    /// Locks or the page is not a secure context.
    #[wasm_bindgen(method, getter, js_name = locks)]
    fn locks(this: &NavigatorWithLocks) -> Option<LockManager>;

    /// `locks.request(name, options, callback)`: calls `callback` once the
    /// lock is granted and holds the lock until the promise `callback`
    /// returns settles. The returned promise settles when the lock is
    /// released, or rejects (an `AbortError`) when `options.signal`
    /// aborts a request still waiting. `Err` when the call itself throws.
    #[wasm_bindgen(method, catch, js_name = request)]
    pub fn request_with_options_and_callback(
        this: &LockManager,
        name: &str,
        options: &LockOptions,
        callback: &Function,
    ) -> Result<Promise, JsValue>;

    /// The options of [`LockManager::request_with_options_and_callback`]
    /// (a `LockOptions` dictionary).
    #[wasm_bindgen(extends = Object)]
    pub type LockOptions;

    /// `options.signal`: aborting it withdraws a request still waiting.
    #[wasm_bindgen(method, setter, js_name = signal)]
    fn set_signal(this: &LockOptions, signal: &AbortSignal);
}

impl LockOptions {
    /// Options whose `signal` withdraws the request while it waits.
    pub fn with_signal(signal: &AbortSignal) -> LockOptions {
        let options: LockOptions = Object::new().unchecked_into();
        options.set_signal(signal);
        options
    }
}

/// This browser's lock manager, when it has Web Locks.
pub fn lock_manager() -> Option<LockManager> {
    let navigator: NavigatorWithLocks = web_sys::window()?.navigator().unchecked_into();
    navigator.locks()
}
