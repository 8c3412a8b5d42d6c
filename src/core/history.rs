//! The bounded history of samples the widget keeps and draws.
//!
//! Entries are kept in arrival order in a ring bounded by the `history`
//! window (and by a hard capacity, so a clock jump cannot make it grow
//! without limit). A failed poll records a [`Entry::Gap`] so the chart never
//! draws a line across an outage. Samples are keyed by the service's
//! `updated_at`: a report whose `updated_at` did not change is the same
//! measurement seen twice and is not a new point.
//!
//! Time on the x axis is the browser's clock when the sample arrived
//! (`received_ms`), not `updated_at`: the window, gaps and "now" all live on
//! one clock, so a skewed server clock cannot push points off the chart.
//!
//! **Sequence numbers.** Every entry gets the next number of a count that
//! only grows ([`History::first_seq`] is the oldest entry's), and every
//! history (and every [`History::clear`]) gets an identity of its own
//! ([`History::id`]). A derived view kept across updates, such as the
//! summary's running totals ([`crate::core::summary::SummaryCache`]), can
//! then tell which entries left and which arrived since it last looked,
//! without the history knowing about it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::core::status::Status;

/// One health measurement as the widget received it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Browser time (Unix epoch milliseconds) when the report arrived.
    pub received_ms: f64,
    /// The service's `updated_at` (Unix epoch milliseconds), when it had a
    /// readable one.
    pub updated_at_ms: Option<i64>,
    /// `stream_drift_session_avg`, milliseconds.
    pub session_avg_ms: Option<f64>,
    /// `stream_drift_deviation_from_rolling_avg`, milliseconds.
    pub deviation_ms: Option<f64>,
    /// The resolved status.
    pub status: Status,
}

/// One entry of the history ring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry {
    /// A measurement.
    Sample(Sample),
    /// Polling failed at this browser time: the line breaks here.
    Gap {
        /// Browser time (Unix epoch milliseconds) of the failure.
        at_ms: f64,
    },
}

impl Entry {
    /// Browser time of this entry.
    pub fn at_ms(&self) -> f64 {
        match self {
            Entry::Sample(sample) => sample.received_ms,
            Entry::Gap { at_ms } => *at_ms,
        }
    }

    /// The sample, if this entry is one.
    pub fn sample(&self) -> Option<&Sample> {
        match self {
            Entry::Sample(sample) => Some(sample),
            Entry::Gap { .. } => None,
        }
    }
}

/// What [`History::push`] did with a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushResult {
    /// A new point.
    Added,
    /// Same `updated_at` as the newest sample: not a new point.
    Duplicate,
}

/// Bounded ring of history entries.
#[derive(Clone, Debug)]
pub struct History {
    entries: VecDeque<Entry>,
    /// How many of `entries` are samples, kept as entries come and go: the
    /// chart's label and `data-samples` read it on every render, and a full
    /// day is 86,400 entries to count.
    samples: usize,
    window_ms: f64,
    capacity: usize,
    /// Sequence number of the oldest entry (of the next one when empty).
    first_seq: u64,
    /// Identity of this history's contents: new at creation and at clear.
    id: u64,
}

/// Two histories are equal when they hold the same entries under the same
/// bounds, whatever their sequence numbers and identities.
impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        self.entries == other.entries
            && self.window_ms == other.window_ms
            && self.capacity == other.capacity
    }
}

/// Source of history identities.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The most entries kept whatever the window: a 24-hour window at one poll
/// per second, plus room for gap markers.
pub const MAX_ENTRIES: usize = 24 * 60 * 60 + 1024;

impl History {
    /// An empty history that keeps `window_minutes` of entries.
    pub fn new(window_minutes: u32) -> History {
        let window_minutes = window_minutes.clamp(1, 1440);
        History::with_capacity(f64::from(window_minutes) * 60_000.0, MAX_ENTRIES)
    }

    /// An empty history with an explicit window and hard capacity.
    pub fn with_capacity(window_ms: f64, capacity: usize) -> History {
        History {
            entries: VecDeque::new(),
            samples: 0,
            window_ms: window_ms.max(1.0),
            capacity: capacity.max(1),
            first_seq: 0,
            id: next_id(),
        }
    }

    /// Identity of the contents: changes when the history is cleared. A
    /// clone shares it (and its sequence numbers) until either changes.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sequence number of the oldest entry; entry `i` of [`History::entries`]
    /// has `first_seq() + i`.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Sequence number the next entry will get.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    /// The entry with sequence number `seq`, if it is still held.
    pub fn entry_at_seq(&self, seq: u64) -> Option<&Entry> {
        let offset = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.entries.get(offset)
    }

    /// The window kept, in milliseconds.
    pub fn window_ms(&self) -> f64 {
        self.window_ms
    }

    /// Changes the window; older entries go at the next push or prune.
    pub fn set_window_minutes(&mut self, window_minutes: u32) {
        self.window_ms = f64::from(window_minutes.clamp(1, 1440)) * 60_000.0;
    }

    /// Adds a sample unless it repeats the newest sample's `updated_at`.
    pub fn push(&mut self, sample: Sample) -> PushResult {
        if let Some(updated_at) = sample.updated_at_ms {
            if self.latest_sample().and_then(|s| s.updated_at_ms) == Some(updated_at) {
                return PushResult::Duplicate;
            }
        }
        self.push_entry(Entry::Sample(sample));
        PushResult::Added
    }

    /// Records that polling failed at `at_ms`; consecutive failures make one gap.
    pub fn mark_gap(&mut self, at_ms: f64) {
        if matches!(self.entries.back(), Some(Entry::Sample(_))) {
            self.push_entry(Entry::Gap { at_ms });
        }
    }

    fn push_entry(&mut self, entry: Entry) {
        let now = entry.at_ms();
        self.samples += usize::from(entry.sample().is_some());
        self.entries.push_back(entry);
        self.prune(now);
    }

    fn pop_oldest(&mut self) {
        if let Some(entry) = self.entries.pop_front() {
            self.samples -= usize::from(entry.sample().is_some());
            self.first_seq += 1;
        }
    }

    /// Drops entries older than the window before `now_ms`, and the oldest
    /// entries beyond capacity.
    pub fn prune(&mut self, now_ms: f64) {
        let oldest_kept = now_ms - self.window_ms;
        while self.entries.len() > self.capacity {
            self.pop_oldest();
        }
        while self
            .entries
            .front()
            .is_some_and(|e| e.at_ms() < oldest_kept)
        {
            self.pop_oldest();
        }
        // A gap at the front breaks nothing: drop it.
        while matches!(self.entries.front(), Some(Entry::Gap { .. })) {
            self.pop_oldest();
        }
    }

    /// The newest sample, if any.
    pub fn latest_sample(&self) -> Option<&Sample> {
        self.entries.iter().rev().find_map(Entry::sample)
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// Number of samples held (gaps not counted).
    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything (a different stream).
    pub fn clear(&mut self) {
        self.first_seq = self.end_seq();
        self.entries.clear();
        self.samples = 0;
        self.id = next_id();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(received_ms: f64, updated_at_ms: Option<i64>) -> Sample {
        Sample {
            received_ms,
            updated_at_ms,
            session_avg_ms: Some(384.0),
            deviation_ms: Some(12.0),
            status: Status::Excellent,
        }
    }

    #[test]
    fn same_updated_at_is_not_a_new_point() {
        let mut history = History::new(60);
        assert_eq!(history.push(sample(1_000.0, Some(5))), PushResult::Added);
        assert_eq!(
            history.push(sample(6_000.0, Some(5))),
            PushResult::Duplicate
        );
        assert_eq!(history.push(sample(11_000.0, Some(6))), PushResult::Added);
        assert_eq!(history.sample_count(), 2);
    }

    #[test]
    fn samples_without_updated_at_are_always_new() {
        let mut history = History::new(60);
        history.push(sample(1_000.0, None));
        history.push(sample(2_000.0, None));
        assert_eq!(history.sample_count(), 2);
    }

    #[test]
    fn history_drops_entries_older_than_the_window() {
        let mut history = History::new(1);
        for second in 0..=120 {
            history.push(sample(second as f64 * 1000.0, Some(second)));
        }
        assert_eq!(history.sample_count(), 61);
        let oldest = history.entries().front().map(Entry::at_ms);
        assert_eq!(oldest, Some(60_000.0));
    }

    #[test]
    fn history_drops_oldest_at_capacity() {
        let mut history = History::with_capacity(1.0e12, 3);
        for second in 0..10 {
            history.push(sample(f64::from(second), Some(i64::from(second))));
        }
        assert_eq!(history.sample_count(), 3);
        assert_eq!(history.entries().front().map(Entry::at_ms), Some(7.0));
    }

    #[test]
    fn consecutive_failures_make_one_gap_and_leading_gaps_vanish() {
        let mut history = History::new(60);
        history.mark_gap(500.0);
        assert!(history.is_empty());
        history.push(sample(1_000.0, Some(1)));
        history.mark_gap(2_000.0);
        history.mark_gap(3_000.0);
        history.push(sample(4_000.0, Some(4)));
        assert_eq!(history.entries().len(), 3);
        assert!(matches!(history.entries()[1], Entry::Gap { at_ms } if at_ms == 2_000.0));
    }

    #[test]
    fn the_sample_count_follows_every_change() {
        let counted = |h: &History| h.entries().iter().filter(|e| e.sample().is_some()).count();
        let mut history = History::with_capacity(30_000.0, 20);
        let mut state = 7u32;
        for step in 0..2_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let at = f64::from(step) * 700.0;
            match state >> 28 {
                0..=2 => history.mark_gap(at),
                3 => history.prune(at + 40_000.0),
                4 if step % 50 == 0 => history.clear(),
                // Some repeat the newest `updated_at`: duplicates add nothing.
                5 => {
                    history.push(sample(at, Some(i64::from(step / 2))));
                }
                _ => {
                    history.push(sample(at, Some(i64::from(step))));
                }
            }
            assert_eq!(history.sample_count(), counted(&history), "step {step}");
        }
    }

    #[test]
    fn a_day_at_one_poll_per_second_stays_bounded() {
        let mut history = History::new(1440);
        for second in 0..(MAX_ENTRIES as i64 + 5_000) {
            history.push(sample(second as f64 * 1000.0, Some(second)));
        }
        assert!(history.entries().len() <= MAX_ENTRIES);
    }
}
