//! Which span of time the charts show: the range buttons of the full chart,
//! the chart fitted to its data while the history fills, and the compact
//! sparkline's last five minutes.
//!
//! Design decisions:
//! - **"All" fits the data.** A freshly opened monitor has a minute of
//!   samples in a history window of an hour; drawn over the whole window
//!   they would be a sliver at the right edge. So "all kept history" (the
//!   default) spans the age of the oldest entry, never less than
//!   [`MIN_SPAN_MS`] and never more than the history window: once the
//!   window has filled it is the window. A history shorter than
//!   [`MIN_SPAN_MS`] (`history=1`) is shown whole.
//! - **The sparkline shows the last five minutes** ([`sparkline_span_ms`]),
//!   whatever the full chart's range, or the whole history when it is
//!   shorter.
//! - **The fitted span grows in steps.** The chart's per-column blocks
//!   ([`crate::core::chart::ChartCache`]) are keyed by the column span, so
//!   every change of span rebuilds them once. A span that followed the
//!   oldest sample's age to the millisecond would rebuild them at every
//!   poll; rounded up to whole [`FIT_STEP_MS`] it rebuilds once per step.
//! - **Fixed ranges are fixed.** 5 min, 30 min and 1 h span exactly that,
//!   even before that much data exists: the user asked for that scale.
//!   Ranges longer than the kept history are not offered
//!   ([`Range::offered`]); a remembered choice that is no longer offered
//!   (a shorter `history` parameter) falls back to "all".
//! - **Remembered per stream** in `sessionStorage` next to the history,
//!   under [`range_key`]; the value is [`Range::as_str`], and anything else
//!   read back is ignored.

use crate::core::history::History;

/// One minute in milliseconds.
const MINUTE_MS: f64 = 60_000.0;
/// The narrowest span the charts show, and the sparkline's span.
pub const MIN_SPAN_MS: f64 = 5.0 * MINUTE_MS;
/// The fitted span is a whole number of these.
pub const FIT_STEP_MS: f64 = 5.0 * MINUTE_MS;
/// Prefix of the range keys, beside the history's
/// ([`crate::core::storage::KEY_PREFIX`]).
pub const RANGE_KEY_PREFIX: &str = "live-stream-health:v1:range:";
/// The longest stream id used in a key, as for the history's key.
const MAX_ID_CHARS: usize = 128;

/// A span the user can choose with the range buttons (`data-range`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Range {
    /// The last 5 minutes.
    FiveMinutes,
    /// The last 30 minutes.
    ThirtyMinutes,
    /// The last hour.
    Hour,
    /// All the kept history, fitted to the data while it fills.
    #[default]
    All,
}

impl Range {
    /// Every range, in the order of the buttons.
    pub const EVERY: [Range; 4] = [
        Range::FiveMinutes,
        Range::ThirtyMinutes,
        Range::Hour,
        Range::All,
    ];

    /// The `data-range` value and the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::FiveMinutes => "5m",
            Range::ThirtyMinutes => "30m",
            Range::Hour => "1h",
            Range::All => "all",
        }
    }

    /// The stored form back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Range> {
        Range::EVERY.into_iter().find(|r| r.as_str() == text)
    }

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Range::FiveMinutes => "5 min",
            Range::ThirtyMinutes => "30 min",
            Range::Hour => "1 h",
            Range::All => "All",
        }
    }

    /// The fixed span, `None` for "all".
    fn fixed_ms(self) -> Option<f64> {
        match self {
            Range::FiveMinutes => Some(5.0 * MINUTE_MS),
            Range::ThirtyMinutes => Some(30.0 * MINUTE_MS),
            Range::Hour => Some(60.0 * MINUTE_MS),
            Range::All => None,
        }
    }

    /// Whether the button is offered when the history keeps `kept_ms`:
    /// a range longer than the kept history would show nothing more.
    pub fn offered(self, kept_ms: f64) -> bool {
        self.fixed_ms().is_none_or(|span| span <= kept_ms)
    }

    /// The range in effect: `self`, or "all" when it is not offered.
    pub fn or_all(self, kept_ms: f64) -> Range {
        if self.offered(kept_ms) {
            self
        } else {
            Range::All
        }
    }

    /// The span the chart shows for this range at `now_ms` (Unix epoch ms).
    pub fn span_ms(self, history: &History, now_ms: f64) -> f64 {
        let kept = history.window_ms();
        match self.or_all(kept).fixed_ms() {
            Some(span) => span,
            None => fitted_span_ms(history.entries().front().map(|e| e.at_ms()), now_ms, kept),
        }
    }
}

/// The span that fits data whose oldest entry is at `oldest_ms`: its age
/// rounded up to whole [`FIT_STEP_MS`], at least [`MIN_SPAN_MS`], at most
/// `kept_ms` (the history window) when that is shorter. No data, a clock that went back or a
/// non-finite time give the narrowest span.
pub fn fitted_span_ms(oldest_ms: Option<f64>, now_ms: f64, kept_ms: f64) -> f64 {
    let age = oldest_ms.map_or(0.0, |oldest| now_ms - oldest);
    let steps = if age.is_finite() && age > 0.0 {
        (age / FIT_STEP_MS).ceil()
    } else {
        1.0
    };
    let fitted = (steps * FIT_STEP_MS).max(MIN_SPAN_MS);
    if kept_ms.is_finite() && kept_ms > 0.0 {
        fitted.min(kept_ms)
    } else {
        fitted
    }
}

/// The compact sparkline's span: the last [`MIN_SPAN_MS`], or the whole
/// history window (`kept_ms`) when that is shorter.
pub fn sparkline_span_ms(kept_ms: f64) -> f64 {
    if kept_ms.is_finite() && kept_ms > 0.0 {
        MIN_SPAN_MS.min(kept_ms)
    } else {
        MIN_SPAN_MS
    }
}

/// The `sessionStorage` key for a stream's chosen range, next to its
/// history's.
pub fn range_key(stream_id: &str) -> String {
    let id: String = stream_id.chars().take(MAX_ID_CHARS).collect();
    format!("{RANGE_KEY_PREFIX}{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::history::Sample;
    use crate::core::status::Status;
    use crate::core::storage::history_key;

    const HOUR: f64 = 60.0 * MINUTE_MS;

    fn history_from(oldest_ms: f64, window_minutes: u32) -> History {
        let mut history = History::new(window_minutes);
        history.push(Sample {
            received_ms: oldest_ms,
            updated_at_ms: None,
            session_avg_ms: Some(400.0),
            deviation_ms: Some(10.0),
            status: Status::Excellent,
        });
        history
    }

    #[test]
    fn the_stored_form_round_trips_and_nothing_else_parses() {
        for range in Range::EVERY {
            assert_eq!(Range::parse(range.as_str()), Some(range));
        }
        for junk in ["", "5", "1H", "all ", "24h", "<script>"] {
            assert_eq!(Range::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_fresh_history_is_fitted_in_five_minute_steps() {
        let now = 1_000_000_000.0;
        let kept = HOUR;
        assert_eq!(fitted_span_ms(None, now, kept), MIN_SPAN_MS);
        assert_eq!(fitted_span_ms(Some(now - 60_000.0), now, kept), MIN_SPAN_MS);
        assert_eq!(
            fitted_span_ms(Some(now - 300_000.0), now, kept),
            MIN_SPAN_MS
        );
        assert_eq!(
            fitted_span_ms(Some(now - 300_001.0), now, kept),
            2.0 * MIN_SPAN_MS
        );
        assert_eq!(
            fitted_span_ms(Some(now - 17.0 * MINUTE_MS), now, kept),
            20.0 * MINUTE_MS
        );
        // Filled: the window, never more.
        assert_eq!(fitted_span_ms(Some(now - 2.0 * HOUR), now, kept), HOUR);
        // A clock that went back, or unusable times.
        assert_eq!(fitted_span_ms(Some(now + 5_000.0), now, kept), MIN_SPAN_MS);
        assert_eq!(fitted_span_ms(Some(f64::NAN), now, kept), MIN_SPAN_MS);
        assert_eq!(fitted_span_ms(Some(now), f64::INFINITY, kept), MIN_SPAN_MS);
        assert_eq!(fitted_span_ms(Some(now - HOUR), now, f64::NAN), HOUR);
        // A history shorter than the narrowest span is shown whole.
        assert_eq!(
            fitted_span_ms(Some(now - 30_000.0), now, MINUTE_MS),
            MINUTE_MS
        );
    }

    #[test]
    fn the_sparkline_shows_five_minutes_or_all_of_a_shorter_history() {
        assert_eq!(sparkline_span_ms(HOUR), MIN_SPAN_MS);
        assert_eq!(sparkline_span_ms(1_440.0 * MINUTE_MS), MIN_SPAN_MS);
        assert_eq!(sparkline_span_ms(MINUTE_MS), MINUTE_MS);
        assert_eq!(sparkline_span_ms(f64::NAN), MIN_SPAN_MS);
        assert_eq!(sparkline_span_ms(-1.0), MIN_SPAN_MS);
    }

    #[test]
    fn the_fitted_span_changes_only_when_the_data_crosses_a_step() {
        // A poll a second for 20 minutes: the span (and so the chart's
        // blocks) changes 3 times, not 1,200.
        let start = 1_000_000_000.0;
        let mut changes = 0;
        let mut last = fitted_span_ms(Some(start), start, HOUR);
        for second in 1..=1_200 {
            let span = fitted_span_ms(Some(start), start + f64::from(second) * 1_000.0, HOUR);
            changes += usize::from(span != last);
            last = span;
        }
        assert_eq!(changes, 3);
        assert_eq!(last, 20.0 * MINUTE_MS);
    }

    #[test]
    fn ranges_longer_than_the_kept_history_are_not_offered() {
        let offered = |minutes: f64| -> Vec<&str> {
            Range::EVERY
                .into_iter()
                .filter(|r| r.offered(minutes * MINUTE_MS))
                .map(Range::as_str)
                .collect()
        };
        assert_eq!(offered(60.0), ["5m", "30m", "1h", "all"]);
        assert_eq!(offered(1_440.0), ["5m", "30m", "1h", "all"]);
        assert_eq!(offered(45.0), ["5m", "30m", "all"]);
        assert_eq!(offered(2.0), ["all"]);
        assert_eq!(Range::Hour.or_all(10.0 * MINUTE_MS), Range::All);
        assert_eq!(
            Range::FiveMinutes.or_all(10.0 * MINUTE_MS),
            Range::FiveMinutes
        );
    }

    #[test]
    fn fixed_ranges_span_exactly_their_time_and_all_fits() {
        let now = 1_000_000_000.0;
        let history = history_from(now - 90_000.0, 60);
        assert_eq!(Range::FiveMinutes.span_ms(&history, now), 5.0 * MINUTE_MS);
        assert_eq!(
            Range::ThirtyMinutes.span_ms(&history, now),
            30.0 * MINUTE_MS
        );
        assert_eq!(Range::Hour.span_ms(&history, now), HOUR);
        assert_eq!(Range::All.span_ms(&history, now), MIN_SPAN_MS);
        // A day kept, 3 h of it filled: "all" shows the 3 h.
        let day = history_from(now - 3.0 * HOUR + 1.0, 1_440);
        assert_eq!(Range::All.span_ms(&day, now), 3.0 * HOUR);
        // Not offered: "all".
        let short = history_from(now - 90_000.0, 10);
        assert_eq!(Range::Hour.span_ms(&short, now), MIN_SPAN_MS);
    }

    #[test]
    fn the_key_sits_next_to_the_history_key() {
        assert_eq!(range_key("abc"), "live-stream-health:v1:range:abc");
        assert_eq!(
            history_key("abc").replace("history", "range"),
            range_key("abc")
        );
        assert_eq!(
            range_key(&"x".repeat(500)).chars().count(),
            "live-stream-health:v1:range:".len() + 128
        );
    }
}
