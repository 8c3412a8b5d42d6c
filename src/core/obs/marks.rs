//! The stream events the history chart marks (OBS starting and stopping
//! the stream, losing the ingest and getting it back), and the
//! [`DiagnosisLog`] the CSV reads.
//!
//! They are kept apart from the health [`History`](crate::core::history::History)
//! because they come from another source on another clock (the moment the
//! OBS event arrived, not a stats answer), and a history persisted for a
//! stream should not change shape because OBS was read in one tab and not
//! in another. They are pruned to the same window as the history, and
//! bounded: a flapping connection cannot grow them without limit.

use std::collections::VecDeque;

use crate::core::chart::time_to_x;

use super::client::StreamMark;
use super::diagnosis::Diagnosis;

/// Most marks kept, whatever the window: one event a second for ten
/// minutes. A chart cannot show more marks than that apart anyway.
pub const MAX_MARKS: usize = 600;

/// One mark: what happened, and when (browser time, Unix epoch ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimedMark {
    /// When the event arrived.
    pub at_ms: f64,
    /// What happened.
    pub mark: StreamMark,
}

/// A mark placed on the history chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartMark {
    /// Its position in the plot, 0 at the left edge.
    pub x: f64,
    /// When it happened.
    pub at_ms: f64,
    /// What happened.
    pub mark: StreamMark,
}

/// The marks of the history window, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamMarks {
    marks: VecDeque<TimedMark>,
}

impl StreamMarks {
    /// No marks.
    pub fn new() -> StreamMarks {
        StreamMarks::default()
    }

    /// Adds a mark, and drops those older than `window_ms` before it and
    /// the oldest beyond [`MAX_MARKS`]. A mark earlier than the newest one
    /// (the clock went back) is kept in order.
    pub fn push(&mut self, at_ms: f64, mark: StreamMark, window_ms: f64) {
        let at = self.marks.partition_point(|m| m.at_ms <= at_ms);
        self.marks.insert(at, TimedMark { at_ms, mark });
        let newest = self.marks.back().map_or(at_ms, |m| m.at_ms);
        while self
            .marks
            .front()
            .is_some_and(|m| m.at_ms < newest - window_ms)
            || self.marks.len() > MAX_MARKS
        {
            self.marks.pop_front();
        }
    }

    /// The marks between `from_ms` and `to_ms`, inclusive, oldest first.
    pub fn between(&self, from_ms: f64, to_ms: f64) -> impl Iterator<Item = &TimedMark> {
        self.marks
            .iter()
            .filter(move |m| m.at_ms >= from_ms && m.at_ms <= to_ms)
    }

    /// The marks a chart `width` wide whose right edge is `now_ms` and
    /// that spans `window_ms` shows, with their `x`, oldest first.
    pub fn on_chart(&self, now_ms: f64, window_ms: f64, width: f64) -> Vec<ChartMark> {
        self.between(now_ms - window_ms, now_ms)
            .map(|m| ChartMark {
                x: time_to_x(now_ms, window_ms, width, m.at_ms),
                at_ms: m.at_ms,
                mark: m.mark,
            })
            .collect()
    }

    /// How many marks are held.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

/// When the diagnosis from both sides changed, so the CSV can say which
/// one was in effect at each status change. Same window and bound as the
/// marks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagnosisLog {
    changes: VecDeque<(f64, Option<Diagnosis>)>,
}

impl DiagnosisLog {
    /// An empty log.
    pub fn new() -> DiagnosisLog {
        DiagnosisLog::default()
    }

    /// Records the diagnosis at `at_ms` (`None`: nothing to judge by) if
    /// it differs from the last one, and drops what the window and
    /// [`MAX_MARKS`] leave out. Times are kept in order as they come:
    /// callers record at the browser's time, which moves forward.
    pub fn record(&mut self, at_ms: f64, diagnosis: Option<Diagnosis>, window_ms: f64) {
        if self.changes.back().map(|(_, d)| *d) == Some(diagnosis) {
            return;
        }
        if self.changes.is_empty() && diagnosis.is_none() {
            return;
        }
        self.changes.push_back((at_ms, diagnosis));
        // Keep the newest change older than the window: it is still in
        // effect at the window's start.
        while self.changes.len() > MAX_MARKS
            || self
                .changes
                .get(1)
                .is_some_and(|(at, _)| *at < at_ms - window_ms)
        {
            self.changes.pop_front();
        }
    }

    /// The diagnosis in effect at `at_ms`.
    pub fn at(&self, at_ms: f64) -> Option<Diagnosis> {
        self.changes
            .iter()
            .rev()
            .find(|(at, _)| *at <= at_ms)
            .and_then(|(_, d)| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_stay_in_time_order_within_the_window() {
        let mut marks = StreamMarks::new();
        marks.push(1_000.0, StreamMark::Started, 60_000.0);
        marks.push(5_000.0, StreamMark::Reconnecting, 60_000.0);
        marks.push(3_000.0, StreamMark::Stopped, 60_000.0);
        let order: Vec<f64> = marks.between(0.0, f64::MAX).map(|m| m.at_ms).collect();
        assert_eq!(order, vec![1_000.0, 3_000.0, 5_000.0]);
        marks.push(62_000.0, StreamMark::Reconnected, 60_000.0);
        let kept: Vec<StreamMark> = marks.between(0.0, f64::MAX).map(|m| m.mark).collect();
        assert_eq!(
            kept,
            vec![
                StreamMark::Stopped,
                StreamMark::Reconnecting,
                StreamMark::Reconnected
            ]
        );
        assert_eq!(marks.between(2_000.0, 5_000.0).count(), 2);
    }

    #[test]
    fn marks_are_placed_on_the_chart_s_time_axis_and_outside_ones_left_out() {
        let mut marks = StreamMarks::new();
        marks.push(9_000.0, StreamMark::Started, 600_000.0);
        marks.push(40_000.0, StreamMark::Reconnecting, 600_000.0);
        marks.push(70_000.0, StreamMark::Reconnected, 600_000.0);
        // A minute on 600 px ending at 70 s: 9 s is just out, 40 s mid-way.
        let placed = marks.on_chart(70_000.0, 60_000.0, 600.0);
        let seen: Vec<(f64, StreamMark)> = placed.iter().map(|m| (m.x, m.mark)).collect();
        assert_eq!(
            seen,
            vec![
                (300.0, StreamMark::Reconnecting),
                (600.0, StreamMark::Reconnected)
            ]
        );
        assert!(marks.on_chart(5_000.0, 1_000.0, 600.0).is_empty());
    }

    #[test]
    fn the_diagnosis_log_answers_what_was_in_effect_when() {
        let mut log = DiagnosisLog::new();
        log.record(0.0, None, 60_000.0);
        log.record(1_000.0, Some(Diagnosis::AllClear), 60_000.0);
        log.record(2_000.0, Some(Diagnosis::AllClear), 60_000.0);
        log.record(5_000.0, Some(Diagnosis::SlowNetwork), 60_000.0);
        log.record(9_000.0, None, 60_000.0);
        let cases = [
            (500.0, None),
            (1_000.0, Some(Diagnosis::AllClear)),
            (4_999.0, Some(Diagnosis::AllClear)),
            (5_000.0, Some(Diagnosis::SlowNetwork)),
            (8_000.0, Some(Diagnosis::SlowNetwork)),
            (9_500.0, None),
        ];
        for (at, expected) in cases {
            assert_eq!(log.at(at), expected, "{at}");
        }
        // Past the window, the change in effect at its start stays.
        log.record(100_000.0, Some(Diagnosis::SlowComputer), 60_000.0);
        assert_eq!(log.at(50_000.0), None);
        assert_eq!(log.at(100_000.0), Some(Diagnosis::SlowComputer));
        assert_eq!(log.changes.len(), 2);
    }

    #[test]
    fn a_flapping_connection_keeps_at_most_the_bound() {
        let mut marks = StreamMarks::new();
        for i in 0..(MAX_MARKS + 50) {
            marks.push(i as f64, StreamMark::Reconnecting, 1e9);
        }
        assert_eq!(marks.len(), MAX_MARKS);
        assert_eq!(marks.between(0.0, 49.0).count(), 0);
    }
}
