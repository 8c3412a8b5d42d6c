//! The Leptos shell: the widget, its components and the hooks that connect
//! it to the browser.
//!
//! - [`state`]: the three signals everything lives in, provided as context;
//!   [`view_model`]: what the page shows, as memos over them.
//! - `use_*`: one hook per concern, each owning (and releasing in its own
//!   `on_cleanup`) every timer, listener, request and lock it creates:
//!   [`use_clock`], [`use_poller`] (requests, backoff, abort) with
//!   [`use_shared_polling`] (Web Locks and BroadcastChannel, through the
//!   one hand-written binding in [`web_locks`]), [`use_persisted_history`],
//!   [`use_chart_range`] (the full chart's remembered range),
//!   [`use_location_fragment`], [`use_alerts`] and [`use_host_messages`]
//!   (the embedding protocol).
//! - [`components`]: one component per file, reading context.
//! - [`widget`]: provides the state, starts the hooks, lays out the
//!   components.

pub mod components;
pub mod state;
pub mod use_alerts;
pub mod use_chart_range;
pub mod use_clock;
pub mod use_host_messages;
pub mod use_location_fragment;
pub mod use_persisted_history;
pub mod use_poller;
pub mod use_shared_polling;
pub mod view_model;
pub mod web_locks;
pub mod widget;

use leptos::prelude::*;

pub use state::WidgetState;
use use_location_fragment::config_from_location;
pub use widget::Widget;

/// Restricts the page's own connections to the configured endpoint with a
/// Content-Security-Policy, so no code on the page can send the token (or
/// anything) anywhere else. Set as a `<meta>` element before the first
/// request; hosts should also send the same policy as a header (README).
fn restrict_connections(endpoint_origin: &str) {
    let policy = format!(
        "connect-src {endpoint_origin}; img-src 'self' data:; object-src 'none'; \
         base-uri 'none'; form-action 'none'"
    );
    let document = document();
    let (Ok(meta), Some(head)) = (document.create_element("meta"), document.head()) else {
        return;
    };
    let _ = meta.set_attribute("http-equiv", "Content-Security-Policy");
    let _ = meta.set_attribute("content", &policy);
    let _ = head.append_child(&meta);
}

/// Mounts the widget on the page body, configured by the page's URL. The
/// mount lives as long as the page.
pub fn start() {
    // Panic messages in the console help while developing; in release
    // (panic = "abort") the page stops either way.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let (config, notices) = config_from_location();
    restrict_connections(config.endpoint.origin());
    leptos::mount::mount_to_body(move || {
        view! { <Widget state=WidgetState::new(config, notices) follow_location=true /> }
    });
}
