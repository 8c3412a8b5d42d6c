//! The session summary and event log, derived from the history window.
//!
//! Time in each status: every sample's status holds from that sample until
//! the next one, but never across an outage (a gap entry, or more than
//! [`max_hold_ms`] without a sample); that time counts as "no data". The
//! event log lists every status change between consecutive samples (the raw
//! facts, not the alerting hysteresis) and downloads as CSV. The texts the
//! summary panel shows are formed here too, so the view only places them.
//! The worst deviation is the sample with the largest finite |deviation|,
//! the earliest of equals.
//!
//! **Cost per poll.** [`summarise`] walks the whole history; at a day of
//! one-second polls that is 86,400 entries for every poll. The panel keeps
//! a [`SummaryCache`] instead, which follows the history by sequence numbers
//! and only visits the entries that arrived or left since its last call
//! (plus the changes it hands out). It lives beside the history rather than
//! inside it so the history stays a plain ring that knows nothing of its
//! readers; it rebuilds once whenever it cannot prove it is still in step.
//! Times are summed in whole microseconds in both, so the running totals
//! equal a recount exactly (a property test checks this after every step
//! of random histories).

use std::collections::VecDeque;

use crate::core::format::{format_duration, format_ms};
use crate::core::history::{Entry, History, Sample};
use crate::core::obs::Diagnosis;
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

/// Longest stretch one entry can add to a total, microseconds (about 115
/// days): with at most [`crate::core::history::MAX_ENTRIES`] entries no
/// total can overflow, whatever the clock does.
const MAX_SPAN_US: i64 = 10_000_000_000_000;

/// Milliseconds as whole microseconds, clamped to `0..=MAX_SPAN_US`.
fn micros(ms: f64) -> i64 {
    let us = (ms * 1000.0).round();
    if us.is_finite() {
        us.clamp(0.0, MAX_SPAN_US as f64) as i64
    } else {
        0
    }
}

/// What one entry adds to the totals: time in its status (`status` is
/// `None` for a gap) and time without data, microseconds. The entry holds
/// from its time until `until_ms` (the next entry's time, or "now" for the
/// newest), a sample's status at most `hold_us`.
fn contribution(at_ms: f64, status: Option<Status>, until_ms: f64, hold_us: i64) -> (i64, i64) {
    let span = micros(until_ms - at_ms);
    match status {
        None => (0, span),
        Some(_) => {
            let held = span.min(hold_us);
            (held, span - held)
        }
    }
}

fn status_index(status: Status) -> usize {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(3)
}

/// Running totals in whole microseconds, so adding and taking away are
/// exact and a running total equals a recount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    time_in_us: [i64; 4],
    no_data_us: i64,
}

impl Totals {
    fn add(&mut self, status: Option<Status>, (held, no_data): (i64, i64), sign: i64) {
        if let Some(status) = status {
            self.time_in_us[status_index(status)] += sign * held;
        }
        self.no_data_us += sign * no_data;
    }

    fn into_summary(self, worst: Option<Sample>, changes: Vec<StatusChange>) -> Summary {
        Summary {
            time_in_ms: self.time_in_us.map(|us| us as f64 / 1000.0),
            no_data_ms: self.no_data_us as f64 / 1000.0,
            worst,
            changes,
        }
    }
}

/// The entry's status, `None` for a gap.
fn entry_status(entry: &Entry) -> Option<Status> {
    entry.sample().map(|s| s.status)
}

/// The deviation a sample competes with for "worst", when it has a finite one.
fn worst_key(sample: &Sample) -> Option<f64> {
    sample.deviation_ms.filter(|d| d.is_finite()).map(f64::abs)
}

/// Summarises the history up to `now_ms`, from scratch: one pass over every
/// entry. The panel uses [`SummaryCache`], which gives the same result at a
/// cost that does not grow with the history; this is its reference.
pub fn summarise(history: &History, now_ms: f64, interval_ms: f64) -> Summary {
    let hold_us = micros(max_hold_ms(interval_ms));
    let mut totals = Totals::default();
    let mut worst: Option<(f64, Sample)> = None;
    let mut changes = Vec::new();
    let entries = history.entries();
    let mut previous: Option<&Sample> = None;
    for (index, entry) in entries.iter().enumerate() {
        let until = entries.get(index + 1).map_or(now_ms, Entry::at_ms);
        let status = entry_status(entry);
        totals.add(
            status,
            contribution(entry.at_ms(), status, until, hold_us),
            1,
        );
        // A change across an outage is still a change: a gap keeps `previous`.
        let Entry::Sample(sample) = entry else {
            continue;
        };
        if let Some(key) = worst_key(sample) {
            if worst.is_none_or(|(w, _)| key > w) {
                worst = Some((key, *sample));
            }
        }
        if let Some(before) = previous {
            if before.status != sample.status {
                changes.push(change_to(before.status, sample));
            }
        }
        previous = Some(sample);
    }
    totals.into_summary(worst.map(|(_, s)| s), changes)
}

fn change_to(from: Status, sample: &Sample) -> StatusChange {
    StatusChange {
        at_ms: sample.received_ms,
        from,
        to: sample.status,
        deviation_ms: sample.deviation_ms,
        session_avg_ms: sample.session_avg_ms,
    }
}

/// What the cache remembers of one history entry: enough to take its
/// contribution away again once it leaves.
#[derive(Clone, Copy, Debug)]
struct Seen {
    at_ms: f64,
    status: Option<Status>,
}

/// The summary kept up to date as the history changes, so a poll costs the
/// entries that arrived and left since the last call, not the whole window.
///
/// It lives beside the history (the panel owns one), not inside it: it
/// follows the history by sequence numbers ([`History::first_seq`],
/// [`History::end_seq`]) and rebuilds once when the history is another one
/// or was cleared ([`History::id`]), when the poll interval (and so the
/// longest hold) changed, or when what it saw no longer matches.
/// - Time totals: every entry but the newest has a final contribution (it
///   holds until the next entry); the newest one's is added per call, up to
///   "now". Totals are whole microseconds, so taking an entry away undoes
///   adding it exactly.
/// - Worst deviation: a queue of candidates with falling |deviation| (the
///   largest of any window suffix), so the oldest leaving costs O(1).
/// - Changes: a queue of the changes whose earlier sample is still held.
#[derive(Clone, Debug, Default)]
pub struct SummaryCache {
    /// The history followed, and the longest hold (µs) the totals use.
    key: Option<(u64, i64)>,
    /// Sequence number of `seen[0]`.
    first_seq: u64,
    seen: VecDeque<Seen>,
    /// Final contributions of every seen entry but the newest.
    totals: Totals,
    /// (sequence number, |deviation|, sample), |deviation| falling.
    worst: VecDeque<(u64, f64, Sample)>,
    /// (sequence number of the earlier sample, the change).
    changes: VecDeque<(u64, StatusChange)>,
    /// The newest sample seen: its sequence number and status.
    last_sample: Option<(u64, Status)>,
}

impl SummaryCache {
    /// The same as [`summarise`]`(history, now_ms, interval_ms)`.
    pub fn summarise(&mut self, history: &History, now_ms: f64, interval_ms: f64) -> Summary {
        let hold_us = micros(max_hold_ms(interval_ms));
        self.sync(history, hold_us);
        let mut totals = self.totals;
        if let Some(newest) = self.seen.back() {
            totals.add(
                newest.status,
                contribution(newest.at_ms, newest.status, now_ms, hold_us),
                1,
            );
        }
        let worst = self.worst.front().map(|(_, _, sample)| *sample);
        let changes = self.changes.iter().map(|(_, change)| *change).collect();
        totals.into_summary(worst, changes)
    }

    /// The same as [`summarise_to_newest`].
    pub fn summarise_to_newest(&mut self, history: &History, interval_ms: f64) -> Summary {
        let end = history.entries().back().map_or(0.0, Entry::at_ms);
        self.summarise(history, end, interval_ms)
    }

    fn end_seq(&self) -> u64 {
        self.first_seq + self.seen.len() as u64
    }

    /// True when what was seen is still what the history holds.
    fn follows(&self, history: &History, hold_us: i64) -> bool {
        if self.key != Some((history.id(), hold_us)) || self.end_seq() > history.end_seq() {
            return false;
        }
        // The newest entry seen, if still held, must be the same one.
        match (self.seen.back(), self.end_seq().checked_sub(1)) {
            (Some(seen), Some(seq)) => history.entry_at_seq(seq).is_none_or(|entry| {
                entry.at_ms().to_bits() == seen.at_ms.to_bits()
                    && entry_status(entry) == seen.status
            }),
            _ => true,
        }
    }

    fn sync(&mut self, history: &History, hold_us: i64) {
        if !self.follows(history, hold_us) {
            *self = SummaryCache {
                key: Some((history.id(), hold_us)),
                first_seq: history.first_seq(),
                ..SummaryCache::default()
            };
        }
        let first = history.first_seq();
        // Entries that left, oldest first.
        while self.first_seq < first {
            let Some(gone) = self.seen.pop_front() else {
                break;
            };
            if let Some(next) = self.seen.front() {
                let part = contribution(gone.at_ms, gone.status, next.at_ms, hold_us);
                self.totals.add(gone.status, part, -1);
            }
            self.first_seq += 1;
        }
        if self.seen.is_empty() {
            self.first_seq = self.first_seq.max(first);
        }
        while self.worst.front().is_some_and(|(seq, _, _)| *seq < first) {
            self.worst.pop_front();
        }
        while self.changes.front().is_some_and(|(seq, _)| *seq < first) {
            self.changes.pop_front();
        }
        if self.last_sample.is_some_and(|(seq, _)| seq < first) {
            self.last_sample = None;
        }
        // Entries that arrived.
        for seq in self.end_seq()..history.end_seq() {
            let Some(entry) = history.entry_at_seq(seq) else {
                break;
            };
            self.arrive(seq, entry, hold_us);
        }
    }

    fn arrive(&mut self, seq: u64, entry: &Entry, hold_us: i64) {
        let status = entry_status(entry);
        if let Some(before) = self.seen.back() {
            let part = contribution(before.at_ms, before.status, entry.at_ms(), hold_us);
            self.totals.add(before.status, part, 1);
        }
        self.seen.push_back(Seen {
            at_ms: entry.at_ms(),
            status,
        });
        let Entry::Sample(sample) = entry else {
            return;
        };
        if let Some(key) = worst_key(sample) {
            while self.worst.back().is_some_and(|(_, w, _)| *w < key) {
                self.worst.pop_back();
            }
            self.worst.push_back((seq, key, *sample));
        }
        if let Some((before_seq, before)) = self.last_sample {
            if before != sample.status {
                self.changes
                    .push_back((before_seq, change_to(before, sample)));
            }
        }
        self.last_sample = Some((seq, sample.status));
    }
}

/// The event log as CSV (RFC 4180; UTC times; values in milliseconds),
/// with the viewers counted at each change (`viewers_at`, e.g.
/// [`crate::core::counts::ViewerHistory::viewers_at`]; empty when unknown).
pub fn changes_csv(changes: &[StatusChange], viewers_at: impl Fn(f64) -> Option<u64>) -> String {
    changes_csv_with_obs(changes, viewers_at, None)
}

/// [`changes_csv`] with, when the link reads OBS (`obs_at` given), a last
/// column `obs_diagnosis`: the diagnosis from both sides in effect at each
/// change (a `data-diagnosis` value, e.g. `slow-network`; empty while OBS
/// gave nothing to judge by). Without OBS the CSV keeps its columns.
pub fn changes_csv_with_obs(
    changes: &[StatusChange],
    viewers_at: impl Fn(f64) -> Option<u64>,
    obs_at: Option<&dyn Fn(f64) -> Option<Diagnosis>>,
) -> String {
    let mut csv = String::from("time_utc,from,to,deviation_ms,session_avg_ms,viewers");
    csv.push_str(if obs_at.is_some() {
        ",obs_diagnosis\r\n"
    } else {
        "\r\n"
    });
    for change in changes {
        let number = |v: Option<f64>| v.map_or(String::new(), |v| format!("{}", v.round() as i64));
        let viewers = viewers_at(change.at_ms).map_or(String::new(), |v| v.to_string());
        let obs = match obs_at {
            Some(obs_at) => {
                let diagnosis = obs_at(change.at_ms).map_or("", Diagnosis::as_str);
                format!(",{diagnosis}")
            }
            None => String::new(),
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{viewers}{obs}\r\n",
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

    #[test]
    fn with_obs_the_csv_carries_the_diagnosis_at_each_change() {
        let h = history(&[
            sample(1_668_447_143.0, Status::Excellent, 12.0),
            sample(1_668_447_148.0, Status::Poor, 1234.4),
            sample(1_668_447_153.0, Status::Excellent, 20.0),
        ]);
        let summary = summarise(&h, 1_668_447_160_000.0, 5000.0);
        let obs_at = |at: f64| (at < 1_668_447_150_000.0).then_some(Diagnosis::SlowNetwork);
        let csv = changes_csv_with_obs(&summary.changes, |_| None, Some(&obs_at));
        assert_eq!(
            csv,
            "time_utc,from,to,deviation_ms,session_avg_ms,viewers,obs_diagnosis\r\n\
             2022-11-14T17:32:28Z,excellent,poor,1234,100,,slow-network\r\n\
             2022-11-14T17:32:33Z,poor,excellent,20,100,,\r\n"
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

#[cfg(test)]
mod cache_tests {
    use super::*;

    /// A small seeded generator (xorshift), so every run replays the same
    /// histories and a failure names its seed.
    struct Draw(u64);

    impl Draw {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    const SEEDS: u64 = 300;
    const STEPS: usize = 400;

    /// After every step of a random history (polls a second or so apart
    /// with drifting values, ties for the worst, missing deviations,
    /// outages, repeated reports, clock jumps both ways, window changes,
    /// pruning, clears, interval changes, and several steps between two
    /// looks), the running summary equals the one counted from scratch.
    #[test]
    fn the_running_summary_equals_a_recount_after_every_step() {
        for seed in 1..=SEEDS {
            let mut draw = Draw(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let window_ms = [20_000.0, 60_000.0, 300_000.0][draw.below(3) as usize];
            let capacity = [8, 50, 1_000][draw.below(3) as usize];
            let mut history = History::with_capacity(window_ms, capacity);
            let mut cache = SummaryCache::default();
            let mut now = 1_700_000_000_000.0 + draw.below(1_000) as f64 * 0.37;
            let mut interval = 1000.0;
            let mut updated_at = 0i64;
            for step in 0..STEPS {
                match draw.below(100) {
                    0..=69 => {
                        now += 1000.0 + (draw.unit() - 0.5) * 300.0;
                        updated_at += 1 - i64::from(draw.below(10) == 0);
                        let deviation = match draw.below(10) {
                            0 => None,
                            1 => Some(1_100.0),
                            2 => Some(-1_100.0),
                            _ => Some(((draw.unit() - 0.5) * 3_000.0).round()),
                        };
                        history.push(Sample {
                            received_ms: now,
                            updated_at_ms: Some(updated_at),
                            session_avg_ms: Some(400.0),
                            deviation_ms: deviation,
                            status: Status::ALL[draw.below(4) as usize],
                        });
                    }
                    70..=79 => {
                        now += 1000.0 + draw.unit() * 40_000.0;
                        history.mark_gap(now);
                    }
                    80..=84 => now += draw.unit() * 120_000.0,
                    85..=87 => now -= draw.unit() * 90_000.0,
                    88..=90 => history.prune(now + draw.unit() * 30_000.0),
                    91 => history.set_window_minutes(1 + draw.below(3) as u32),
                    92 if draw.below(4) == 0 => history.clear(),
                    93 => interval = [1000.0, 2000.0, 10_000.0][draw.below(3) as usize],
                    _ => {}
                }
                // Sometimes several steps go by before the next look.
                if draw.below(3) == 0 {
                    continue;
                }
                let at = now + draw.unit() * 5_000.0;
                let expected = summarise(&history, at, interval);
                let running = cache.summarise(&history, at, interval);
                assert_eq!(running, expected, "seed {seed}, step {step}");
                assert_eq!(
                    cache.summarise_to_newest(&history, interval),
                    summarise_to_newest(&history, interval),
                    "seed {seed}, step {step}, to newest"
                );
            }
        }
    }

    #[test]
    fn another_history_or_a_cleared_one_is_not_mistaken_for_the_same() {
        let sample = |at: f64, status: Status| Sample {
            received_ms: at,
            updated_at_ms: None,
            session_avg_ms: None,
            deviation_ms: Some(at / 1000.0),
            status,
        };
        let mut first = History::new(60);
        first.push(sample(1_000.0, Status::Good));
        first.push(sample(2_000.0, Status::Poor));
        let mut cache = SummaryCache::default();
        assert_eq!(cache.summarise_to_newest(&first, 1000.0).changes.len(), 1);
        // Same sequence numbers, other contents.
        let mut second = History::new(60);
        second.push(sample(1_000.0, Status::Good));
        second.push(sample(2_000.0, Status::Good));
        assert!(cache
            .summarise_to_newest(&second, 1000.0)
            .changes
            .is_empty());
        first.clear();
        first.push(sample(5_000.0, Status::Excellent));
        assert_eq!(
            cache.summarise_to_newest(&first, 1000.0),
            summarise_to_newest(&first, 1000.0)
        );
    }
}
