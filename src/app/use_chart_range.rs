//! [`use_chart_range`]: the range the full chart shows, chosen with its
//! buttons and remembered per stream in `sessionStorage` (see
//! [`crate::core::chart_range`] for the spans and the key).
//!
//! The choice is written when the user makes it, not on `pagehide` like the
//! history: it is one short value, and nothing is written for a stream
//! whose range was never chosen. Storage that is missing or full leaves the
//! choice working for this page only.

use leptos::prelude::*;
use web_sys::Storage;

use crate::core::chart_range::{range_key, Range};
use crate::core::monitor::Monitor;

/// The chosen range and how to change it. Cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct ChartRange {
    chosen: RwSignal<Range>,
    monitor: RwSignal<Monitor>,
}

impl ChartRange {
    /// The chosen range (tracked); the caller falls back to "all" when it
    /// is not offered ([`Range::or_all`]).
    pub fn get(&self) -> Range {
        self.chosen.get()
    }

    /// Chooses `range` and remembers it for the stream being watched.
    pub fn choose(&self, range: Range) {
        self.chosen.set(range);
        let stream = self
            .monitor
            .with_untracked(|m| m.stream_id().map(range_key));
        if let (Some(key), Some(storage)) = (stream, session_storage()) {
            // Over quota or refused: the choice holds for this page.
            let _ = storage.set_item(&key, range.as_str());
        }
    }
}

/// The range of the stream being watched: "all" until a stream's token
/// arrives, then that stream's remembered choice, if any.
///
/// ```ignore
/// let range = use_chart_range(state.monitor);
/// ```
pub fn use_chart_range(monitor: RwSignal<Monitor>) -> ChartRange {
    let chosen = RwSignal::new(Range::default());
    // When the stream changes: the effect compares with the last one.
    Effect::new(move |watched: Option<Option<String>>| {
        let stream = monitor.with(|m| m.stream_id().map(str::to_owned));
        if watched.as_ref() != Some(&stream) {
            chosen.set(stream.as_deref().and_then(restore).unwrap_or_default());
        }
        stream
    });
    ChartRange { chosen, monitor }
}

/// `sessionStorage`; `None` where the browser refuses it.
fn session_storage() -> Option<Storage> {
    window().session_storage().ok().flatten()
}

/// The remembered range of `stream_id`; anything unreadable is none.
fn restore(stream_id: &str) -> Option<Range> {
    let text = session_storage()?.get_item(&range_key(stream_id)).ok()??;
    Range::parse(&text)
}
