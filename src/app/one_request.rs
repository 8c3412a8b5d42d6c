//! [`OneRequest`]: at most one request to the endpoint at a time, with its
//! `AbortController` and its timeout; the request carrier of both pollers,
//! health ([`crate::app::use_poller`]) and viewer counts
//! ([`crate::app::use_counts`]).
//!
//! Decisions a newcomer asks about:
//! - **A plain struct, owned by the hook.** Each hook keeps one
//!   [`OneRequest`] beside its timer and cancels it in its own cleanup;
//!   what to request and what to do with the answer stay in the hook.
//!   Dropping a [`OneRequest`] cancels too, so a request never outlives
//!   its owner.
//! - **Sending cancels.** A new request aborts the one in flight, and an
//!   answer reaches its callback only while its request is still the
//!   current one: a request cancelled (a new token, the widget going away)
//!   is never answered, even if its response was already on its way.
//! - **A timeout is an answer.** After [`REQUEST_TIMEOUT_MS`] the request
//!   is aborted and the callback gets [`Response::Timeout`]; an abort by
//!   [`OneRequest::cancel`] gets no answer at all.
//! - Requests go out with `credentials: omit`, `cache: no-store` and
//!   `referrerPolicy: no-referrer`: the token travels only in the URL to the
//!   configured endpoint, and never in a Referer header anywhere. A body
//!   declared larger than [`MAX_BODY_BYTES`] is refused unread.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::Request;
use gloo_timers::callback::Timeout;
use web_sys::{
    AbortController, AbortSignal, ReferrerPolicy, RequestCache, RequestCredentials, RequestMode,
};

use crate::app::first_request::FirstRequest;
use crate::app::use_clock::now_ms;
use crate::core::api::{parse_retry_after_ms, MAX_BODY_BYTES};
use crate::core::poll::REQUEST_TIMEOUT_MS;
use crate::core::share::Response;

/// At most one request in flight; see the module docs.
///
/// ```ignore
/// let request = OneRequest::default();
/// request.send(url, move |response| settle(response));
/// request.cancel(); // aborted, and never answered
/// ```
#[derive(Default)]
pub struct OneRequest {
    slot: Rc<Slot>,
}

#[derive(Default)]
struct Slot {
    in_flight: RefCell<Option<InFlight>>,
    ids: Cell<u64>,
}

struct InFlight {
    id: u64,
    controller: Option<AbortController>,
    _timeout: Timeout,
}

impl OneRequest {
    /// A request is out and not yet answered.
    pub fn is_out(&self) -> bool {
        self.slot.in_flight.borrow().is_some()
    }

    /// Aborts the request in flight, if any; it will not be answered.
    /// Idempotent.
    pub fn cancel(&self) {
        self.slot.cancel();
    }

    /// Sends `GET url` in place of any request in flight (which is
    /// aborted), or adopts `early`, the same request already out (see
    /// [`crate::app::first_request`]); `on_response` gets its answer,
    /// unless it is cancelled first.
    pub fn send(
        &self,
        url: String,
        early: Option<FirstRequest>,
        on_response: impl FnOnce(Response) + 'static,
    ) {
        self.cancel();
        let id = self.slot.ids.get() + 1;
        self.slot.ids.set(id);
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
        *self.slot.in_flight.borrow_mut() = Some(InFlight {
            id,
            controller,
            _timeout: timeout,
        });
        let slot = Rc::clone(&self.slot);
        leptos::task::spawn_local(async move {
            let result = request(&url, signal.as_ref(), early).await;
            let current = slot.in_flight.borrow().as_ref().is_some_and(|r| r.id == id);
            if !current {
                // Cancelled, or replaced by a newer request.
                return;
            }
            // Aborting a settled fetch is a no-op; for a body we refused
            // unread (oversized), it stops the download.
            slot.cancel();
            let response = match result {
                Some(response) => response,
                None if timed_out.get() => Response::Timeout,
                None => return,
            };
            on_response(response);
        });
    }
}

impl Drop for OneRequest {
    fn drop(&mut self) {
        self.slot.cancel();
    }
}

impl Slot {
    fn cancel(&self) {
        let in_flight = self.in_flight.borrow_mut().take();
        if let Some(InFlight {
            controller: Some(controller),
            ..
        }) = in_flight
        {
            controller.abort();
        }
    }
}

/// One request, or the adoption of the one `index.html` started (`early`,
/// see [`crate::app::first_request`]). `None` means it was aborted (by its
/// timeout or a cleanup).
async fn request(
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
