//! [`use_wall_messages`]: a host page replaces the wall's streams with
//! `lsh:streams`.
//!
//! A control panel that embeds the wall knows its streams better than a
//! link does (streams start and end during a show, tokens are refreshed),
//! so it sends the whole set; the wall keeps what stays (state, history,
//! poller) and starts or stops the rest. The message is read by
//! [`parse_streams_message`] in the core; here only the origin is checked,
//! as for the single monitor's messages: from any other origin a message
//! is dropped unread.

use leptos::ev;
use leptos::prelude::*;
use web_sys::MessageEvent;

use crate::app::use_host_messages::message_text;
use crate::core::wall::{parse_streams_message, WallStream};

/// Hands each `lsh:streams` from `origin` to `on_streams`, while the owner
/// lives.
///
/// ```ignore
/// use_wall_messages(origin, UnsyncCallback::new(move |list| streams.replace(&list)));
/// ```
///
/// Other messages, and `lsh:streams` that cannot be used (see
/// [`parse_streams_message`]), change nothing. The window listener is
/// removed at the owner's cleanup.
pub fn use_wall_messages(origin: String, on_streams: UnsyncCallback<Vec<WallStream>>) {
    let listener = window_event_listener(ev::message, move |event: MessageEvent| {
        if event.origin() != origin {
            return;
        }
        let Some(text) = message_text(&event.data()) else {
            return;
        };
        if let Ok(streams) = parse_streams_message(&text) {
            on_streams.run(streams);
        }
    });
    on_cleanup(move || listener.remove());
}
