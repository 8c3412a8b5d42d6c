//! The Leptos shell: the widget, its components and the hooks that connect
//! it to the browser.
//!
//! - [`state`]: the four signals everything lives in, provided as context;
//!   [`view_model`]: what the page shows, as memos over them.
//! - `use_*`: one hook per concern, each owning (and releasing in its own
//!   `on_cleanup`) every timer, listener, request and lock it creates:
//!   [`use_clock`], [`use_poller`] (requests, backoff, abort) and
//!   [`use_counts`] (the viewer counts, on their own schedule), both
//!   carrying their requests with [`one_request`] and sharing them through
//!   [`use_shared_polling`] (Web Locks and BroadcastChannel, through the
//!   one hand-written binding in [`web_locks`]), [`use_persisted_history`],
//!   [`use_chart_range`] (the full chart's remembered range),
//!   [`use_location_fragment`], [`use_alerts`] (and [`use_wall_alerts`],
//!   the wall's one channel), [`use_host_messages`]
//!   (the embedding protocol), [`use_obs`] (the WebSocket to OBS) and
//!   [`use_diagnosis_log`] (when the diagnosis changed, for the CSV).
//! - [`components`]: one component per file, reading context.
//! - [`widget`]: provides the state, starts the hooks, lays out the
//!   components.
//! - [`wall`]: many streams on one screen (`#wall`), one state and one set
//!   of hooks per stream, each tile made of the widget's components.

pub mod components;
pub mod first_request;
pub mod one_request;
pub mod state;
pub mod use_alerts;
pub mod use_chart_range;
pub mod use_clock;
pub mod use_counts;
pub mod use_diagnosis_log;
pub mod use_host_messages;
pub mod use_location_fragment;
pub mod use_obs;
pub mod use_persisted_history;
pub mod use_poller;
pub mod use_shared_polling;
pub mod use_wall_alerts;
pub mod use_wall_messages;
pub mod view_model;
pub mod wall;
pub mod web_locks;
pub mod widget;

use leptos::prelude::*;

use crate::core::csp::page_policy;
use crate::core::params::Config;

pub use state::WidgetState;
use use_location_fragment::config_from_location;
use wall::Wall;
pub use widget::Widget;

/// Restricts what the page may load and where it may connect with the
/// Content-Security-Policy of [`page_policy`]: nothing but the bundle
/// itself, the configured endpoint and, with `obs=PORT`, that one loopback
/// WebSocket, so no code on the page can send the token (or anything)
/// anywhere else. Set as a `<meta>` element before the first request;
/// hosts should also send it as a header (README).
fn restrict_page(config: &Config) {
    let policy = page_policy(config);
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
    restrict_page(&config);
    let fragment = window().location().hash().unwrap_or_default();
    let fragment = fragment.strip_prefix('#').unwrap_or(&fragment);
    if crate::core::wall::is_wall(fragment) {
        // The wall: the link's shared parameters, one token per stream.
        let (link, wall_notices) = crate::core::wall::parse(fragment);
        let notices = notices
            .into_iter()
            .filter(|notice| notice.param != "token")
            .chain(wall_notices)
            .collect();
        leptos::mount::mount_to_body(move || view! { <Wall config link notices /> });
    } else {
        leptos::mount::mount_to_body(move || {
            view! { <Widget state=WidgetState::new(config, notices) follow_location=true /> }
        });
    }
    // The poller's first request adopted the one index.html started if it
    // asked for the same URL; one it did not ask for (no valid token, say)
    // is stopped here.
    first_request::abort_unclaimed();
}
