//! [`use_persisted_history`]: the history survives a reload (see
//! [`crate::core::storage`] for the format and the key).
//!
//! Storage can be missing (privacy modes) or full (several OBS docks share
//! one quota): then the widget keeps working without it.

use gloo_timers::callback::Interval;
use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use web_sys::Storage;

use crate::app::use_clock::now_ms;
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::storage;

/// How often the history is written while the page is open.
pub const SAVE_EVERY_MS: u32 = 30_000;

/// Keeps the history of the stream being watched in `sessionStorage`.
///
/// ```ignore
/// use_persisted_history(state.monitor, state.history);
/// ```
///
/// When a stream's token arrives and the ring is still empty, the stored
/// history of that stream is restored. The history is written on
/// `pagehide` (reload, closing a dock, leaving the page), every
/// [`SAVE_EVERY_MS`] in case the page is killed without one, and once more
/// at the owner's cleanup, which also removes the listener and the timer.
pub fn use_persisted_history(monitor: RwSignal<Monitor>, history: RwSignal<History>) {
    // When the stream changes: the effect compares with the last one.
    Effect::new(move |watched: Option<Option<String>>| {
        let stream = monitor.with(|m| m.stream_id().map(str::to_owned));
        if let Some(id) = stream
            .as_deref()
            .filter(|_| watched.as_ref() != Some(&stream))
        {
            if history.with_untracked(|h| h.sample_count() == 0) {
                restore(id, history);
            }
        }
        stream
    });
    let pagehide = window_event_listener(ev::pagehide, move |_| save(monitor, history));
    let timer = SendWrapper::new(Interval::new(SAVE_EVERY_MS, move || save(monitor, history)));
    on_cleanup(move || {
        save(monitor, history);
        pagehide.remove();
        drop(timer.take());
    });
}

/// `sessionStorage`; `None` where the browser refuses it (reading it
/// throws in some privacy modes and sandboxed frames).
fn session_storage() -> Option<Storage> {
    window().session_storage().ok().flatten()
}

/// Restores the stored history of `stream_id` into `history`; returns how
/// many entries came back.
pub fn restore(stream_id: &str, history: RwSignal<History>) -> usize {
    let Some(text) =
        session_storage().and_then(|s| s.get_item(&storage::history_key(stream_id)).ok().flatten())
    else {
        return 0;
    };
    history
        .try_update(|h| storage::restore(&text, h, now_ms()))
        .unwrap_or(0)
}

/// Writes the history of the stream being watched.
pub fn save(monitor: RwSignal<Monitor>, history: RwSignal<History>) {
    let Some(stream_id) = monitor
        .try_with_untracked(|m| m.stream_id().map(str::to_owned))
        .flatten()
    else {
        return;
    };
    let Some(text) = history
        .try_with_untracked(|h| (!h.is_empty()).then(|| storage::encode(h)))
        .flatten()
    else {
        return;
    };
    if let Some(storage) = session_storage() {
        let key = storage::history_key(&stream_id);
        if storage.set_item(&key, &text).is_err() {
            // Over quota: a stale copy would be worse than none.
            let _ = storage.remove_item(&key);
        }
    }
}
