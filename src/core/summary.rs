//! The session summary and event log, derived from the history window.
//!
//! Time in each status: every sample's status holds from that sample until
//! the next one, but never across an outage (a gap entry, or more than
//! [`max_hold_ms`] without a sample); that time counts as "no data". The
//! event log lists every status change between consecutive samples (the raw
//! facts, not the alerting hysteresis) and downloads as CSV. The texts the
//! summary panel shows are formed here too, so the view only places them.

use crate::core::format::{format_duration, format_ms};
use crate::core::history::{Entry, History, Sample};
use crate::core::status::Status;
use crate::core::time::{format_clock, format_iso_utc};

/// Longest time one sample's status is taken to hold: 2.5 intervals, at
/// least 15 s (the same rule the chart uses to break its lines).
pub fn max_hold_ms(interval_ms: f64) -> f64 {
    (2.5 * interval_ms).max(15_000.0)
}

/// One status change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusChange {
    /// Browser time of the sample that showed the new status.
    pub at_ms: f64,
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
    /// The new sample's deviation, ms.
    pub deviation_ms: Option<f64>,
    /// The new sample's session average, ms.
    pub session_avg_ms: Option<f64>,
}

/// What the summary panel shows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Summary {
    /// Milliseconds spent in each status, in [`Status::ALL`] order.
    pub time_in_ms: [f64; 4],
    /// Milliseconds without data (polling failed).
    pub no_data_ms: f64,
    /// The sample with the largest |deviation|.
    pub worst: Option<Sample>,
    /// Status changes, oldest first.
    pub changes: Vec<StatusChange>,
}

impl Summary {
    /// Time spent in `status`.
    pub fn time_in(&self, status: Status) -> f64 {
        let index = Status::ALL.iter().position(|s| *s == status).unwrap_or(3);
        self.time_in_ms[index]
    }

    /// Share of the observed time spent in `status`, 0..=1.
    pub fn share_of(&self, status: Status) -> f64 {
        let total: f64 = self.time_in_ms.iter().sum::<f64>() + self.no_data_ms;
        if total > 0.0 {
            self.time_in(status) / total
        } else {
            0.0
        }
    }
}

/// Summarises the history up to `now_ms`.
pub fn summarise(history: &History, now_ms: f64, interval_ms: f64) -> Summary {
    let hold = max_hold_ms(interval_ms);
    let mut summary = Summary::default();
    let entries = history.entries();
    let mut previous: Option<&Sample> = None;
    for (index, entry) in entries.iter().enumerate() {
        let Entry::Sample(sample) = entry else {
            let until = entries.get(index + 1).map_or(now_ms, Entry::at_ms);
            summary.no_data_ms += (until - entry.at_ms()).max(0.0);
            // A change across an outage is still a change: keep `previous`.
            continue;
        };
        let until = entries
            .get(index + 1)
            .map_or(now_ms, Entry::at_ms)
            .max(sample.received_ms);
        let span = until - sample.received_ms;
        let held = span.min(hold);
        let status_index = Status::ALL
            .iter()
            .position(|s| *s == sample.status)
            .unwrap_or(3);
        summary.time_in_ms[status_index] += held;
        summary.no_data_ms += span - held;

        if let Some(deviation) = sample.deviation_ms {
            let worse = summary
                .worst
                .and_then(|w| w.deviation_ms)
                .is_none_or(|w| deviation.abs() > w.abs());
            if worse {
                summary.worst = Some(*sample);
            }
        }
        if let Some(before) = previous {
            if before.status != sample.status {
                summary.changes.push(StatusChange {
                    at_ms: sample.received_ms,
                    from: before.status,
                    to: sample.status,
                    deviation_ms: sample.deviation_ms,
                    session_avg_ms: sample.session_avg_ms,
                });
            }
        }
        previous = Some(sample);
    }
    summary
}

/// The event log as CSV (RFC 4180; UTC times; values in milliseconds),
/// with the viewers counted at each change (`viewers_at`, e.g.
/// [`crate::core::counts::ViewerHistory::viewers_at`]; empty when unknown).
pub fn changes_csv(changes: &[StatusChange], viewers_at: impl Fn(f64) -> Option<u64>) -> String {
    let mut csv = String::from("time_utc,from,to,deviation_ms,session_avg_ms,viewers\r\n");
    for change in changes {
        let number = |v: Option<f64>| v.map_or(String::new(), |v| format!("{}", v.round() as i64));
        let viewers = viewers_at(change.at_ms).map_or(String::new(), |v| v.to_string());
        csv.push_str(&format!(
            "{},{},{},{},{},{viewers}\r\n",
            format_iso_utc(change.at_ms as i64),
            change.from.as_str(),
            change.to.as_str(),
            number(change.deviation_ms),
            number(change.session_avg_ms),
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: f64, status: Status, deviation: f64) -> Sample {
        Sample {
            received_ms: at_s * 1000.0,
            updated_at_ms: Some((at_s * 1000.0) as i64),
            session_avg_ms: Some(100.0),
            deviation_ms: Some(deviation),
            status,
        }
    }

    fn history(samples: &[Sample]) -> History {
        let mut history = History::new(60);
        for s in samples {
            history.push(*s);
        }
        history
    }

    #[test]
    fn empty_history_summarises_to_nothing() {
        let summary = summarise(&History::new(60), 0.0, 5000.0);
        assert_eq!(summary, Summary::default());
        assert_eq!(summary.share_of(Status::Poor), 0.0);
    }

    #[test]
    fn time_in_each_status_follows_the_samples() {
        let h = history(&[
            sample(0.0, Status::Excellent, 10.0),
            sample(5.0, Status::Excellent, 20.0),
            sample(10.0, Status::Poor, -1500.0),
            sample(15.0, Status::Good, 700.0),
        ]);
        let summary = summarise(&h, 20_000.0, 5000.0);
        assert_eq!(summary.time_in(Status::Excellent), 10_000.0);
        assert_eq!(summary.time_in(Status::Poor), 5000.0);
        assert_eq!(summary.time_in(Status::Good), 5000.0);
        assert_eq!(summary.share_of(Status::Excellent), 0.5);
        assert_eq!(summary.worst.map(|w| w.deviation_ms), Some(Some(-1500.0)));
        let changes: Vec<(Status, Status)> =
            summary.changes.iter().map(|c| (c.from, c.to)).collect();
        assert_eq!(
            changes,
            vec![
                (Status::Excellent, Status::Poor),
                (Status::Poor, Status::Good)
            ]
        );
    }

    #[test]
    fn outages_count_as_no_data_and_do_not_make_changes() {
        let mut h = history(&[sample(0.0, Status::Excellent, 1.0)]);
        h.mark_gap(5000.0);
        h.push(sample(65.0, Status::Excellent, 1.0));
        let summary = summarise(&h, 70_000.0, 5000.0);
        assert_eq!(summary.time_in(Status::Excellent), 10_000.0);
        assert_eq!(summary.no_data_ms, 60_000.0);
        assert!(summary.changes.is_empty());
        // A silent stretch without a gap entry is capped the same way.
        let h = history(&[
            sample(0.0, Status::Good, 600.0),
            sample(100.0, Status::Good, 600.0),
        ]);
        let summary = summarise(&h, 100_000.0, 5000.0);
        assert_eq!(summary.time_in(Status::Good), 15_000.0);
        assert_eq!(summary.no_data_ms, 85_000.0);
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_change() {
        let h = history(&[
            sample(1_668_447_143.0, Status::Excellent, 12.0),
            sample(1_668_447_148.0, Status::Poor, 1234.4),
        ]);
        let summary = summarise(&h, 1_668_447_150_000.0, 5000.0);
        assert_eq!(
            changes_csv(&summary.changes, |_| None),
            "time_utc,from,to,deviation_ms,session_avg_ms,viewers\r\n\
             2022-11-14T17:32:28Z,excellent,poor,1234,100,\r\n"
        );
        let watched = changes_csv(&summary.changes, |at| {
            (at == 1_668_447_148_000.0).then_some(1204)
        });
        assert!(watched.ends_with(",poor,1234,100,1204\r\n"), "{watched}");
        let unknown = StatusChange {
            at_ms: 0.0,
            from: Status::Good,
            to: Status::Unknown,
            deviation_ms: None,
            session_avg_ms: None,
        };
        assert!(
            changes_csv(&[unknown], |_| None).ends_with("1970-01-01T00:00:00Z,good,unknown,,,\r\n")
        );
    }
}

/// Most changes listed on screen (the CSV has them all).
pub const LISTED_CHANGES: usize = 50;

/// Summarises the history up to its newest entry, so the summary changes
/// with the history, not with the clock.
pub fn summarise_to_newest(history: &History, interval_ms: f64) -> Summary {
    let end = history.entries().back().map_or(0.0, Entry::at_ms);
    summarise(history, end, interval_ms)
}

/// The share of time in `status`, in whole percent.
pub fn share_percent(summary: &Summary, status: Status) -> u32 {
    (summary.share_of(status) * 100.0).round() as u32
}

/// One line of the time-in-status list: "Poor 5 s (33%)".
pub fn share_line(summary: &Summary, status: Status) -> String {
    format!(
        "{} {} ({}%)",
        status.label(),
        format_duration(summary.time_in(status) / 1000.0),
        share_percent(summary, status)
    )
}

/// The worst deviation in whole milliseconds (`data-worst`), when one was
/// measured.
pub fn worst_value(summary: &Summary) -> Option<i64> {
    worst(summary).map(|(_, deviation)| deviation.round() as i64)
}

/// "Worst deviation −1.5 s at 14:03:21", in the browser's time zone
/// (`offset_minutes` east of UTC).
pub fn worst_line(summary: &Summary, offset_minutes: i32) -> String {
    match worst(summary) {
        Some((at, deviation)) => format!(
            "Worst deviation {} at {}",
            format_ms(deviation),
            format_clock(at, offset_minutes)
        ),
        None => "No deviation measured yet".to_owned(),
    }
}

fn worst(summary: &Summary) -> Option<(f64, f64)> {
    summary
        .worst
        .and_then(|w| w.deviation_ms.map(|d| (w.received_ms, d)))
}

/// The changes listed on screen: the newest [`LISTED_CHANGES`], newest
/// first.
pub fn listed_changes(summary: &Summary) -> Vec<StatusChange> {
    summary
        .changes
        .iter()
        .rev()
        .take(LISTED_CHANGES)
        .copied()
        .collect()
}

/// One line of the event log: "14:03:21 Excellent → Poor −1.5 s".
pub fn change_line(change: &StatusChange, offset_minutes: i32) -> String {
    let deviation = change.deviation_ms.map(format_ms).unwrap_or_default();
    format!(
        "{} {} \u{2192} {} {deviation}",
        format_clock(change.at_ms, offset_minutes),
        change.from.label(),
        change.to.label(),
    )
}

#[cfg(test)]
mod view_tests {
    use super::*;
    use crate::core::history::Sample;

    fn history_of(points: &[(f64, Status, f64)]) -> History {
        let mut history = History::new(60);
        for &(at, status, deviation) in points {
            history.push(Sample {
                received_ms: at,
                updated_at_ms: Some(at as i64),
                session_avg_ms: Some(1.0),
                deviation_ms: Some(deviation),
                status,
            });
        }
        history
    }

    #[test]
    fn the_panel_reads_shares_worst_and_changes() {
        let history = history_of(&[
            (0.0, Status::Excellent, 10.0),
            (5000.0, Status::Poor, -1500.0),
            (10_000.0, Status::Good, 700.0),
        ]);
        let summary = summarise(&history, 15_000.0, 5000.0);
        assert_eq!(share_line(&summary, Status::Poor), "Poor 5 s (33%)");
        assert_eq!(share_percent(&summary, Status::Good), 33);
        assert_eq!(worst_value(&summary), Some(-1500));
        assert_eq!(
            worst_line(&summary, 0),
            "Worst deviation \u{2212}1.5 s at 00:00:05"
        );
        let listed = listed_changes(&summary);
        let lines: Vec<String> = listed.iter().map(|c| change_line(c, 0)).collect();
        assert_eq!(
            lines,
            [
                "00:00:10 Poor \u{2192} Good 700 ms",
                "00:00:05 Excellent \u{2192} Poor \u{2212}1.5 s"
            ],
            "newest first"
        );
        assert_eq!(
            change_line(&listed[0], 60),
            "01:00:10 Poor \u{2192} Good 700 ms"
        );
    }

    #[test]
    fn an_empty_history_says_so() {
        let summary = summarise_to_newest(&History::new(60), 5000.0);
        assert_eq!(worst_value(&summary), None);
        assert_eq!(worst_line(&summary, 0), "No deviation measured yet");
        assert_eq!(
            share_line(&summary, Status::Excellent),
            "Excellent 0 s (0%)"
        );
        assert!(listed_changes(&summary).is_empty());
    }

    #[test]
    fn the_list_stops_at_fifty_newest_changes() {
        let points: Vec<(f64, Status, f64)> = (0..120)
            .map(|i| {
                let status = if i % 2 == 0 {
                    Status::Excellent
                } else {
                    Status::Poor
                };
                (f64::from(i) * 1000.0, status, 0.0)
            })
            .collect();
        let summary = summarise_to_newest(&history_of(&points), 1000.0);
        assert_eq!(summary.changes.len(), 119);
        let listed = listed_changes(&summary);
        assert_eq!(listed.len(), LISTED_CHANGES);
        assert_eq!(listed[0].at_ms, 119_000.0);
    }
}
