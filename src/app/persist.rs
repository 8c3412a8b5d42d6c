//! Keeping the history across a reload (see [`crate::core::storage`] for
//! the format and the key).
//!
//! The history is restored when a stream's token arrives and the ring is
//! still empty, and written on `pagehide` (reload, closing a dock, leaving
//! the page) and every [`SAVE_EVERY_MS`] in case the page is killed without
//! one. Storage can be missing (privacy modes) or full (several OBS docks
//! share one quota): then the widget keeps working without it.
//! [`Persistence::shutdown`] removes the listener and the timer.

use gloo_timers::callback::Interval;
use leptos::ev;
use leptos::prelude::*;
use web_sys::Storage;

use crate::app::driver::{interval, now_ms};
use crate::app::on_change;
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::storage;

/// How often the history is written while the page is open.
pub const SAVE_EVERY_MS: u32 = 30_000;

/// `sessionStorage`; `None` where the browser refuses it (reading it
/// throws in some privacy modes and sandboxed frames).
fn session_storage() -> Option<Storage> {
    window().session_storage().ok().flatten()
}

/// Restores the stored history of `stream_id` into `history`.
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

/// Saving on `pagehide` and on a timer, for one widget.
pub struct Persistence {
    pagehide: Option<WindowListenerHandle>,
    timer: Option<Interval>,
}

impl Persistence {
    /// Starts restoring and saving for the monitor's stream.
    pub fn start(monitor: RwSignal<Monitor>, history: RwSignal<History>) -> Persistence {
        on_change(
            move || monitor.with(|m| m.stream_id().map(str::to_owned)),
            move |stream| {
                if let Some(id) = stream {
                    if history.with_untracked(|h| h.sample_count() == 0) {
                        restore(id, history);
                    }
                }
            },
        );
        let pagehide = window_event_listener(ev::pagehide, move |_| save(monitor, history));
        let timer = interval(SAVE_EVERY_MS, move || save(monitor, history));
        Persistence {
            pagehide: Some(pagehide),
            timer: Some(timer),
        }
    }

    /// Stops saving (after one last write).
    pub fn shutdown(mut self, monitor: RwSignal<Monitor>, history: RwSignal<History>) {
        save(monitor, history);
        if let Some(pagehide) = self.pagehide.take() {
            pagehide.remove();
        }
        if let Some(timer) = self.timer.take() {
            timer.cancel();
        }
    }
}
