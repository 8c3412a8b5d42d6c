//! The stream events the history chart marks: OBS starting and stopping
//! the stream, losing the ingest and getting it back.
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
    fn a_flapping_connection_keeps_at_most_the_bound() {
        let mut marks = StreamMarks::new();
        for i in 0..(MAX_MARKS + 50) {
            marks.push(i as f64, StreamMark::Reconnecting, 1e9);
        }
        assert_eq!(marks.len(), MAX_MARKS);
        assert_eq!(marks.between(0.0, 49.0).count(), 0);
    }
}
