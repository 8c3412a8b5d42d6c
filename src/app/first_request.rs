//! The health request `index.html` starts before the module runs.
//!
//! On a slow link most of the time to the first status is the bundle's
//! download (on emulated slow 4G, 839 ms of 1,063). A few lines of inline
//! script in `index.html` start the first health request meanwhile, only
//! when the fragment carries a token shaped like a JWT and an endpoint that
//! passes the https-or-loopback rule, with the poller's request options and
//! its 10 s timeout. The script keeps `{ url, controller, response }` to
//! itself and offers it once through `window.__lshTakeFirstRequest()`.
//!
//! The app checks everything again: [`take`] hands the pending response to
//! the poller only when the script asked for exactly the URL the poller
//! would request (the URL contract and the token are read by the core, not
//! by the script), and aborts it otherwise; after the mount,
//! [`abort_unclaimed`] aborts one nobody took. Pages without the script
//! (the browser tests mount the widget directly) simply have nothing to
//! take.

use wasm_bindgen::prelude::*;
use web_sys::AbortController;

#[wasm_bindgen]
extern "C" {
    /// What the inline script of `index.html` offers.
    type EarlyRequest;

    /// The URL it requested.
    #[wasm_bindgen(method, getter)]
    fn url(this: &EarlyRequest) -> String;

    /// Aborts it.
    #[wasm_bindgen(method, getter)]
    fn controller(this: &EarlyRequest) -> AbortController;

    /// Its `fetch` promise.
    #[wasm_bindgen(method, getter)]
    fn response(this: &EarlyRequest) -> js_sys::Promise;

    /// Hands the request over once; `null` after that or when none was
    /// started. Missing (and so an error) on pages without the script.
    #[wasm_bindgen(catch, js_name = __lshTakeFirstRequest)]
    fn take_early_request() -> Result<Option<EarlyRequest>, JsValue>;
}

/// The early request, adopted.
pub struct FirstRequest {
    /// Aborts it (a token change, the owner's cleanup, the timeout).
    pub controller: AbortController,
    /// Its pending `Response`.
    pub response: js_sys::Promise,
}

/// Takes the early request (there is one at most, taken once) and returns
/// it if it asked for exactly `url`; aborts it otherwise.
pub fn take(url: &str) -> Option<FirstRequest> {
    let early = take_early_request().ok().flatten()?;
    let controller = early.controller();
    if early.url() == url {
        Some(FirstRequest {
            controller,
            response: early.response(),
        })
    } else {
        controller.abort();
        None
    }
}

/// Aborts the early request if nothing adopted it: the widget's first
/// request is made during the mount, so after the mount it never will be.
pub fn abort_unclaimed() {
    // No request URL is empty: whatever is left is aborted.
    let _ = take("");
}
