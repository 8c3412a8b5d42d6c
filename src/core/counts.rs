//! Viewer counts beside health: who is watching, read from Mux's viewer
//! counts endpoint (`GET {endpoint}/counts?token=JWT`, body
//! `{"data":[{"views":95,"viewers":94,"updated_at":"2021-09-28T18:21:19Z"}]}`)
//! with the monitor's own token.
//!
//! Design decisions a newcomer asks about:
//! - **The same rules, a schedule of its own.** [`Viewers`] drives a
//!   [`Poller`] of its own, so backoff, `Retry-After`, a 4xx stopping, the
//!   token's expiry and one request at a time are exactly health's, at the
//!   `viewers` interval (20 s by default, at least 15 s: Mux documents no
//!   refresh rate, and its own player element polls every 20 s and never
//!   faster than 15 s; see [`crate::core::params`]).
//! - **Counts never break health.** The two state machines share nothing
//!   but the token: a failed, refused or unreadable counts answer hides the
//!   figures behind a short note ([`ViewersView::note`]) and leaves health's
//!   connection state alone. A 401/403 stops counts polling only; the next
//!   token (a refresh from the host page, a new link) starts it again.
//! - **Health first.** Counts get the token only once health's first answer
//!   for it has settled (`src/app/use_counts.rs`), so the first status never
//!   waits behind a counts request.
//! - **Parsed as leniently as health** ([`parse_counts`]): extra fields are
//!   ignored; a count that is missing, null, a string, negative or not whole
//!   is unknown ("—"), never guessed; an empty `data` means the service has
//!   no counts for the stream (unknown, not an error); a body that is not
//!   JSON, has no `data` array or is over [`MAX_BODY_BYTES`](crate::core::api::MAX_BODY_BYTES) is an error.
//! - **A history a chart can read** ([`ViewerHistory`]): points of browser
//!   time, viewers and views, and gaps where counts polling failed, over the
//!   same window as the health history; a point with unknown counts is a
//!   "no data" stretch. It gives the peak for the summary and the viewers at
//!   a status change for the CSV.
//! - **Shared across tabs like health** ([`crate::core::share`]): the same
//!   messages on a lock and channel of their own ([`counts_share_key`]), so
//!   a browser with several monitors of a stream makes one set of counts
//!   requests, whichever tab polls health.

use std::collections::VecDeque;

use serde::Deserialize;

use crate::core::api::{first_data_entry, ResponseError};
use crate::core::chart::time_to_x;
use crate::core::format::push_number;
use crate::core::history::MAX_ENTRIES;
use crate::core::lenient::Lenient;
use crate::core::params::{percent_encode, Config, Endpoint, DEFAULT_VIEWERS_INTERVAL_S};
use crate::core::poll::{ConnState, Failure, Following, Next, Outcome, Poller, Rejection, Step};
use crate::core::time::{format_clock, parse_timestamp_ms};
use crate::core::token::read_claims;

/// The largest count read exactly: beyond 2^53 an `f64` skips integers.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

/// One counts answer, as read from a response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ViewerCounts {
    /// `updated_at` as Unix epoch milliseconds, when readable.
    pub updated_at_ms: Option<i64>,
    /// `viewers`: unique viewers watching now.
    pub viewers: Option<u64>,
    /// `views`: views, which one viewer may count several times.
    pub views: Option<u64>,
}

/// One element of `data`.
#[derive(Deserialize)]
struct Entry {
    viewers: Lenient<f64>,
    views: Lenient<f64>,
    updated_at: Lenient<String>,
}

/// Reads a counts response body.
pub fn parse_counts(body: &str) -> Result<ViewerCounts, ResponseError> {
    let Some(entry) = first_data_entry::<Entry>(body)? else {
        return Ok(ViewerCounts::default());
    };
    Ok(ViewerCounts {
        updated_at_ms: entry
            .updated_at
            .value()
            .as_deref()
            .and_then(parse_timestamp_ms),
        viewers: count(entry.viewers),
        views: count(entry.views),
    })
}

/// A count: a whole number from 0 up to 2^53; anything else is unknown.
fn count(value: Lenient<f64>) -> Option<u64> {
    value
        .value()
        .filter(|n| (0.0..=MAX_COUNT).contains(n) && n.fract() == 0.0)
        .map(|n| n as u64)
}

/// The lock and channel name for the counts of a stream watched through an
/// endpoint: beside health's ([`crate::core::share::share_key`]), never
/// the same, so the two groups are led independently.
pub fn counts_share_key(endpoint_base: &str, stream_id: &str) -> String {
    format!("live-stream-health:v1:counts:{endpoint_base}:{stream_id}")
}

/// One counts answer as the widget received it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewerPoint {
    /// Browser time (Unix epoch milliseconds) when the answer arrived.
    pub at_ms: f64,
    /// The service's `updated_at`, when readable.
    pub updated_at_ms: Option<i64>,
    /// Unique viewers, when known.
    pub viewers: Option<u64>,
    /// Views, when known.
    pub views: Option<u64>,
}

/// One entry of the viewer history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ViewerEntry {
    /// A counts answer.
    Point(ViewerPoint),
    /// Counts polling failed at this browser time: a line breaks here.
    Gap {
        /// Browser time (Unix epoch milliseconds) of the failure.
        at_ms: f64,
    },
}

impl ViewerEntry {
    /// Browser time of this entry.
    pub fn at_ms(&self) -> f64 {
        match self {
            ViewerEntry::Point(point) => point.at_ms,
            ViewerEntry::Gap { at_ms } => *at_ms,
        }
    }

    /// The point, if this entry is one.
    pub fn point(&self) -> Option<&ViewerPoint> {
        match self {
            ViewerEntry::Point(point) => Some(point),
            ViewerEntry::Gap { .. } => None,
        }
    }
}

/// The viewer counts of the history window, oldest first, on the browser's
/// clock like the health history (so both share one time axis).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewerHistory {
    entries: VecDeque<ViewerEntry>,
    window_ms: f64,
}

impl ViewerHistory {
    /// An empty history that keeps `window_minutes` (1..=1440) of entries.
    pub fn new(window_minutes: u32) -> ViewerHistory {
        ViewerHistory {
            entries: VecDeque::new(),
            window_ms: f64::from(window_minutes.clamp(1, 1440)) * 60_000.0,
        }
    }

    /// Adds a point unless it repeats the newest point's `updated_at` (the
    /// same count seen twice); returns whether it was added.
    pub fn push(&mut self, point: ViewerPoint) -> bool {
        let newest = self.latest().and_then(|p| p.updated_at_ms);
        if point.updated_at_ms.is_some() && point.updated_at_ms == newest {
            return false;
        }
        self.push_entry(ViewerEntry::Point(point));
        true
    }

    /// Records that counts polling failed at `at_ms`; consecutive failures
    /// make one gap.
    pub fn mark_gap(&mut self, at_ms: f64) {
        if matches!(self.entries.back(), Some(ViewerEntry::Point(_))) {
            self.push_entry(ViewerEntry::Gap { at_ms });
        }
    }

    fn push_entry(&mut self, entry: ViewerEntry) {
        let now = entry.at_ms();
        self.entries.push_back(entry);
        self.prune(now);
    }

    /// Drops entries older than the window before `now_ms`, the oldest
    /// beyond [`MAX_ENTRIES`], and a gap left at the front.
    pub fn prune(&mut self, now_ms: f64) {
        let oldest_kept = now_ms - self.window_ms;
        while self.entries.len() > MAX_ENTRIES
            || self
                .entries
                .front()
                .is_some_and(|e| e.at_ms() < oldest_kept)
            || matches!(self.entries.front(), Some(ViewerEntry::Gap { .. }))
        {
            self.entries.pop_front();
        }
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> &VecDeque<ViewerEntry> {
        &self.entries
    }

    /// The newest point, if any.
    pub fn latest(&self) -> Option<&ViewerPoint> {
        self.entries.iter().rev().find_map(ViewerEntry::point)
    }

    /// The point with the most viewers in the window (the first to reach
    /// it), if any counted viewers.
    pub fn peak(&self) -> Option<ViewerPoint> {
        let mut peak: Option<ViewerPoint> = None;
        for point in self.entries.iter().filter_map(ViewerEntry::point) {
            let beats = match (point.viewers, peak.and_then(|p| p.viewers)) {
                (Some(viewers), Some(best)) => viewers > best,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if beats {
                peak = Some(*point);
            }
        }
        peak
    }

    /// The viewers counted at browser time `at_ms`: the newest entry at or
    /// before it, if that is a point with a count no older than `hold_ms`.
    pub fn viewers_at(&self, at_ms: f64, hold_ms: f64) -> Option<u64> {
        let after = self.entries.partition_point(|e| e.at_ms() <= at_ms);
        let point = self.entries.get(after.checked_sub(1)?)?.point()?;
        (at_ms - point.at_ms <= hold_ms)
            .then_some(point.viewers)
            .flatten()
    }

    /// Forgets everything (a different stream).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The viewer figures as the page shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Figures {
    /// Unique viewers now (`[data-metric="viewers"]`).
    pub viewers: Option<u64>,
    /// Views (`[data-metric="views"]`).
    pub views: Option<u64>,
}

/// What the page shows of the viewer counts.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ViewersView {
    /// The figures, or `None` to hide them (counts off, no token yet, or
    /// counts failing).
    pub figures: Option<Figures>,
    /// Why the figures are hidden, when the streamer should know
    /// (`[data-viewers-note]`).
    pub note: Option<String>,
}

/// The viewer counts of the stream being watched: configuration, the
/// counts poller, the latest answer and the history.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewers {
    endpoint: Endpoint,
    enabled: bool,
    poller: Poller,
    token: Option<String>,
    stream_id: Option<String>,
    latest: Option<ViewerCounts>,
    history: ViewerHistory,
}

impl Viewers {
    /// Viewer counts as `config` asks (`viewers`), waiting for a token.
    pub fn new(config: &Config) -> Viewers {
        let default_ms = f64::from(DEFAULT_VIEWERS_INTERVAL_S) * 1000.0;
        Viewers {
            endpoint: config.endpoint.clone(),
            enabled: config.viewers_interval_ms.is_some(),
            poller: Poller::new(config.viewers_interval_ms.unwrap_or(default_ms)),
            token: None,
            stream_id: None,
            latest: None,
            history: ViewerHistory::new(config.history_minutes),
        }
    }

    /// Whether counts are wanted at all (`viewers` is not `off`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Turns counts on or off (a host's `lsh:config`). Off, nothing is
    /// requested from now on; either way the change takes full effect at
    /// the next [`Viewers::restart`], which the shell makes at once.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// (Re)starts counts for `token`, at once when counts are on. The
    /// history is kept when the token is for the same stream.
    pub fn restart(&mut self, token: Option<String>, now_ms: f64) -> Next {
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let claims = token.as_deref().map(read_claims);
        let stream_id = claims
            .as_ref()
            .and_then(|c| c.as_ref().ok())
            .and_then(|c| c.stream_id.clone());
        if stream_id.is_none() || stream_id != self.stream_id {
            self.history.clear();
            self.latest = None;
        }
        self.stream_id = stream_id;
        self.token = token;
        let next = self
            .poller
            .set_token(claims.filter(|_| self.enabled), now_ms);
        // Counts start once health has answered for this token, and
        // health proves it (and proves it again) in every tab: a tab that
        // follows another's counts needs no request of its own for that.
        self.poller.trust_proof_elsewhere();
        next
    }

    /// The counts poller.
    pub fn poller(&self) -> &Poller {
        &self.poller
    }

    /// The latest usable answer.
    pub fn latest(&self) -> Option<&ViewerCounts> {
        self.latest.as_ref()
    }

    /// The viewer history of the window.
    pub fn history(&self) -> &ViewerHistory {
        &self.history
    }

    /// The URL for the next request, while counts are on and there is a
    /// token.
    pub fn request_url(&self) -> Option<String> {
        let token = self.token.as_deref().filter(|_| self.enabled)?;
        Some(format!(
            "{}/counts?token={}",
            self.endpoint.base(),
            percent_encode(token)
        ))
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now_ms: f64) -> Step {
        if !self.enabled {
            return Step::Stop;
        }
        self.poller.on_timer(now_ms)
    }

    /// A counts request settled.
    pub fn on_outcome(
        &mut self,
        generation: u64,
        outcome: &Outcome<ViewerCounts>,
        now_ms: f64,
        jitter: f64,
    ) -> Next {
        let current = generation == self.poller.generation() && self.poller.state().is_polling();
        let next = self.poller.on_outcome(generation, outcome, now_ms, jitter);
        if current {
            self.record(outcome, now_ms);
        }
        next
    }

    /// Another tab's counts request settled (shared polling).
    pub fn on_shared(
        &mut self,
        outcome: &Outcome<ViewerCounts>,
        next_in_ms: f64,
        now_ms: f64,
    ) -> Next {
        if !self.poller.state().is_polling() {
            return Next::Idle;
        }
        let next = self.poller.on_shared(outcome, next_in_ms, now_ms);
        self.record(outcome, now_ms);
        next
    }

    /// The timer fired while another tab polls the counts.
    pub fn on_timer_following(&mut self, now_ms: f64) -> Next {
        match self.poller.on_timer_following(now_ms) {
            Following::Wait(next) => next,
            // Never asked for: health proves the token (see `restart`).
            Following::Prove(_) => Next::Idle,
        }
    }

    /// The shared-polling key of these counts, while they are polled.
    pub fn share_key(&self) -> Option<String> {
        if !self.poller.state().is_polling() {
            return None;
        }
        let stream_id = self.stream_id.as_deref()?;
        Some(counts_share_key(self.endpoint.base(), stream_id))
    }

    fn record(&mut self, outcome: &Outcome<ViewerCounts>, now_ms: f64) {
        match (outcome, self.poller.state()) {
            (Outcome::Report(counts), ConnState::Live) => {
                self.history.push(ViewerPoint {
                    at_ms: now_ms,
                    updated_at_ms: counts.updated_at_ms,
                    viewers: counts.viewers,
                    views: counts.views,
                });
                self.latest = Some(*counts);
            }
            (_, ConnState::Retrying) => self.history.mark_gap(now_ms),
            _ => {}
        }
        self.history.prune(now_ms);
    }

    /// What to show: the figures while counts come in (unknown ones as
    /// "—"), a note instead while they fail or were refused, nothing while
    /// counts are off or there is no usable token (health says why).
    pub fn view(&self) -> ViewersView {
        if !self.enabled {
            return ViewersView::default();
        }
        let figures = |latest: Option<&ViewerCounts>| Figures {
            viewers: latest.and_then(|c| c.viewers),
            views: latest.and_then(|c| c.views),
        };
        match self.poller.state() {
            ConnState::Connecting | ConnState::Live => ViewersView {
                figures: Some(figures(self.latest.as_ref())),
                note: None,
            },
            ConnState::Retrying => ViewersView {
                figures: None,
                note: Some(format!(
                    "Viewer counts unavailable ({}); retrying.",
                    failure_words(self.poller.last_failure())
                )),
            },
            ConnState::TokenRejected => ViewersView {
                figures: None,
                note: match self.poller.rejection() {
                    Some(Rejection::Http(status)) => Some(format!(
                        "Viewer counts are not available with this link (HTTP {status})."
                    )),
                    // A token that cannot be read: health's message says so.
                    _ => None,
                },
            },
            ConnState::WaitingToken | ConnState::TokenExpired => ViewersView::default(),
        }
    }
}

/// A failure in a few words, for the note.
fn failure_words(failure: Option<&Failure>) -> String {
    match failure {
        Some(Failure::Network) | None => "no connection".into(),
        Some(Failure::Timeout) => "no answer in time".into(),
        Some(Failure::Http(429)) => "asked to slow down".into(),
        Some(Failure::Http(status)) => format!("HTTP {status}"),
        Some(Failure::BadBody(_)) => "unreadable reply".into(),
    }
}

/// A count as shown: `94`, `12,345`.
pub fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The summary's peak line: "Peak 1,204 viewers at 14:03:21", in the
/// browser's time zone (`offset_minutes` east of UTC).
pub fn peak_line(peak: Option<&ViewerPoint>, offset_minutes: i32) -> String {
    match peak.and_then(|p| p.viewers.map(|viewers| (p.at_ms, viewers))) {
        Some((at, viewers)) => format!(
            "Peak {} {} at {}",
            format_count(viewers),
            if viewers == 1 { "viewer" } else { "viewers" },
            format_clock(at, offset_minutes)
        ),
        None => "No viewer count yet".to_owned(),
    }
}

/// The viewers line of the history chart, as SVG path data in the chart's
/// plot coordinates: `x` from `now − window` (0) to `now` (`width`), as
/// [`crate::core::chart::time_to_x`] places the health lines; `y` on a
/// scale of its own, 0 viewers at the bottom and the window's peak a tenth
/// below the top (viewers and milliseconds share no axis). The line breaks
/// at a gap, at an unknown count and across a silence longer than
/// `break_ms`; points outside the window are left out.
pub fn viewers_path(
    history: &ViewerHistory,
    now_ms: f64,
    window_ms: f64,
    width: f64,
    height: f64,
    break_ms: f64,
) -> String {
    let oldest = now_ms - window_ms;
    let in_window = |at: f64| at >= oldest && at <= now_ms;
    let top = history
        .entries()
        .iter()
        .filter_map(ViewerEntry::point)
        .filter(|p| in_window(p.at_ms))
        .filter_map(|p| p.viewers)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut path = String::new();
    let mut previous: Option<f64> = None;
    for entry in history.entries() {
        let point = match entry {
            ViewerEntry::Point(point) if in_window(point.at_ms) => point,
            _ => {
                previous = None;
                continue;
            }
        };
        let Some(viewers) = point.viewers else {
            previous = None;
            continue;
        };
        let joined = previous.is_some_and(|at| point.at_ms - at <= break_ms);
        path.push(if joined { 'L' } else { 'M' });
        push_number(&mut path, time_to_x(now_ms, window_ms, width, point.at_ms));
        path.push(' ');
        push_number(&mut path, height - viewers as f64 / top * height * 0.9);
        previous = Some(point.at_ms);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::MAX_BODY_BYTES;
    use crate::core::params::parse;
    use crate::core::token::tests::token_with;

    const DOCUMENTED: &str =
        r#"{"data":[{"views":95,"viewers":94,"updated_at":"2021-09-28T18:21:19Z"}]}"#;
    const T: i64 = 1_632_853_279_000;

    fn counts(body: &str) -> ViewerCounts {
        match parse_counts(body) {
            Ok(counts) => counts,
            Err(error) => panic!("{body}: {error:?}"),
        }
    }

    #[test]
    fn the_documented_example_parses() {
        assert_eq!(
            counts(DOCUMENTED),
            ViewerCounts {
                updated_at_ms: Some(T),
                viewers: Some(94),
                views: Some(95),
            }
        );
        // Without a zone, like the health endpoint's times: UTC.
        let zoneless = DOCUMENTED.replace("19Z", "19");
        assert_eq!(counts(&zoneless).updated_at_ms, Some(T));
    }

    #[test]
    fn extra_fields_are_ignored_and_only_the_first_entry_is_read() {
        let body = r#"{"total_row_count":2,"data":[{"id":"x","views":7,"viewers":5,"peak":[1,{}],"updated_at":"2021-09-28T18:21:19Z"},{"views":1,"viewers":1}],"timeframe":[1,2]}"#;
        let read = counts(body);
        assert_eq!((read.viewers, read.views), (Some(5), Some(7)));
    }

    #[test]
    fn odd_counts_are_unknown_never_guessed() {
        let cases = [
            r#"{"data":[{"updated_at":"2021-09-28T18:21:19Z"}]}"#,
            r#"{"data":[{"viewers":null,"views":null}]}"#,
            r#"{"data":[{"viewers":"94","views":"95"}]}"#,
            r#"{"data":[{"viewers":-1,"views":-5}]}"#,
            r#"{"data":[{"viewers":94.5,"views":0.1}]}"#,
            r#"{"data":[{"viewers":1e300,"views":true}]}"#,
            r#"{"data":[{"viewers":{},"views":[]}]}"#,
        ];
        for body in cases {
            let read = counts(body);
            assert_eq!((read.viewers, read.views), (None, None), "{body}");
        }
        // Zero is a count, and so is a whole number written as a float.
        let read = counts(r#"{"data":[{"viewers":0,"views":12.0}]}"#);
        assert_eq!((read.viewers, read.views), (Some(0), Some(12)));
    }

    #[test]
    fn empty_data_means_unknown_not_an_error() {
        for body in [
            r#"{"data":[]}"#,
            r#"{"data":[5]}"#,
            r#"{"data":[[{"viewers":1}]]}"#,
        ] {
            assert_eq!(counts(body), ViewerCounts::default(), "{body}");
        }
        let garbage_time = counts(r#"{"data":[{"viewers":3,"updated_at":"yesterday"}]}"#);
        assert_eq!(garbage_time.updated_at_ms, None);
        assert_eq!(garbage_time.viewers, Some(3));
    }

    #[test]
    fn wrong_shapes_non_json_and_oversized_bodies_are_errors() {
        let cases = [
            ("<html>502 Bad Gateway</html>", ResponseError::NotJson),
            ("", ResponseError::NotJson),
            (r#"{"data":[{"viewers":9"#, ResponseError::NotJson),
            (r#"{"data":[{"viewers":NaN}]}"#, ResponseError::NotJson),
            (r#"{"data":{"viewers":9}}"#, ResponseError::UnexpectedShape),
            (
                r#"{"error":{"type":"not_found"}}"#,
                ResponseError::UnexpectedShape,
            ),
            ("[1]", ResponseError::UnexpectedShape),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_counts(body), Err(expected), "{body}");
        }
        let huge = format!(
            "{{\"pad\":\"{}\",{}",
            "x".repeat(MAX_BODY_BYTES),
            &DOCUMENTED[1..]
        );
        assert!(matches!(
            parse_counts(&huge),
            Err(ResponseError::TooLarge { .. })
        ));
    }

    fn point(at_s: f64, viewers: Option<u64>) -> ViewerPoint {
        ViewerPoint {
            at_ms: at_s * 1000.0,
            updated_at_ms: Some((at_s * 1000.0) as i64),
            viewers,
            views: viewers.map(|v| v + 1),
        }
    }

    #[test]
    fn the_history_keeps_new_counts_and_gaps_within_its_window() {
        let mut history = ViewerHistory::new(1);
        assert!(history.push(point(0.0, Some(10))));
        let repeated = ViewerPoint {
            at_ms: 20_000.0,
            ..point(0.0, Some(10))
        };
        assert!(
            !history.push(repeated),
            "the same updated_at is no new point"
        );
        history.mark_gap(20_000.0);
        history.mark_gap(40_000.0);
        assert!(history.push(point(60.0, Some(12))));
        assert_eq!(history.entries().len(), 3, "one gap for two failures");
        assert!(history.push(point(100.0, None)));
        // The window is a minute: the first point and then the gap left.
        let times: Vec<f64> = history.entries().iter().map(ViewerEntry::at_ms).collect();
        assert_eq!(times, [60_000.0, 100_000.0]);
        assert_eq!(history.latest().map(|p| p.viewers), Some(None));
        history.clear();
        assert!(history.entries().is_empty());
    }

    #[test]
    fn the_peak_is_the_first_point_with_the_most_viewers() {
        let mut history = ViewerHistory::new(60);
        assert_eq!(history.peak(), None);
        history.push(point(0.0, None));
        assert_eq!(history.peak(), None, "an unknown count is no peak");
        for (at, viewers) in [(20.0, 5), (40.0, 9), (60.0, 9), (80.0, 3)] {
            history.push(point(at, Some(viewers)));
        }
        assert_eq!(history.peak(), Some(point(40.0, Some(9))));
        assert_eq!(
            peak_line(history.peak().as_ref(), 0),
            "Peak 9 viewers at 00:00:40"
        );
        assert_eq!(
            peak_line(Some(&point(3600.0, Some(1))), 90),
            "Peak 1 viewer at 02:30:00"
        );
        assert_eq!(peak_line(None, 0), "No viewer count yet");
    }

    #[test]
    fn viewers_at_a_time_come_from_the_newest_fresh_point_before_it() {
        let mut history = ViewerHistory::new(60);
        history.push(point(10.0, Some(4)));
        history.push(point(30.0, Some(6)));
        history.mark_gap(50_000.0);
        history.push(point(90.0, None));
        let hold = 50_000.0;
        assert_eq!(history.viewers_at(5_000.0, hold), None, "before any count");
        assert_eq!(history.viewers_at(10_000.0, hold), Some(4));
        assert_eq!(history.viewers_at(29_999.0, hold), Some(4));
        assert_eq!(history.viewers_at(45_000.0, hold), Some(6));
        assert_eq!(history.viewers_at(60_000.0, hold), None, "during an outage");
        assert_eq!(history.viewers_at(95_000.0, hold), None, "an unknown count");
        let mut quiet = ViewerHistory::new(60);
        quiet.push(point(0.0, Some(4)));
        assert_eq!(quiet.viewers_at(50_000.0, hold), Some(4));
        assert_eq!(quiet.viewers_at(50_001.0, hold), None, "too old to say");
    }

    #[test]
    fn the_viewers_line_has_its_own_scale_and_breaks_where_counts_do() {
        let mut history = ViewerHistory::new(60);
        history.push(point(0.0, Some(5)));
        history.push(point(20.0, Some(10)));
        history.push(point(40.0, Some(5)));
        history.mark_gap(60.0);
        history.push(point(80.0, Some(0)));
        history.push(point(100.0, None));
        history.push(point(120.0, Some(10)));
        history.push(point(400.0, Some(10)));
        // 500 s over 500 units, 100 high: the peak (10) at y 10, 0 at 100.
        let path = viewers_path(&history, 500_000.0, 500_000.0, 500.0, 100.0, 50_000.0);
        assert_eq!(path, "M0 55L20 10L40 55M80 100M120 10M400 10");
        // Out of the window: left out, and the scale follows what is left.
        let later = viewers_path(&history, 530_000.0, 500_000.0, 500.0, 100.0, 50_000.0);
        assert_eq!(later, "M10 55M50 100M90 10M370 10");
        let early = viewers_path(&history, 100_000.0, 70_000.0, 70.0, 100.0, 50_000.0);
        assert_eq!(early, "M10 10M50 100", "the peak of what is left is 5");
        assert_eq!(
            viewers_path(
                &ViewerHistory::new(60),
                0.0,
                60_000.0,
                500.0,
                100.0,
                50_000.0
            ),
            ""
        );
        // Nobody watching is a line along the bottom.
        let mut empty_room = ViewerHistory::new(60);
        empty_room.push(point(0.0, Some(0)));
        empty_room.push(point(20.0, Some(0)));
        assert_eq!(
            viewers_path(&empty_room, 20_000.0, 20_000.0, 100.0, 100.0, 50_000.0),
            "M0 100L100 100"
        );
    }

    #[test]
    fn counts_read_with_thousands_separated() {
        let cases = [
            (0, "0"),
            (94, "94"),
            (999, "999"),
            (1000, "1,000"),
            (12_345, "12,345"),
            (1_234_567, "1,234,567"),
        ];
        for (count, text) in cases {
            assert_eq!(format_count(count), text);
        }
    }

    fn viewers(fragment: &str) -> Viewers {
        let (config, _) = parse("", fragment);
        Viewers::new(&config)
    }

    fn answer(viewers: u64, views: u64, updated_at_ms: i64) -> Outcome<ViewerCounts> {
        Outcome::Report(ViewerCounts {
            updated_at_ms: Some(updated_at_ms),
            viewers: Some(viewers),
            views: Some(views),
        })
    }

    fn http(status: u16) -> Outcome<ViewerCounts> {
        Outcome::Http {
            status,
            retry_after_ms: None,
        }
    }

    #[test]
    fn counts_are_polled_with_the_token_every_twenty_seconds_by_default() {
        let mut counts = viewers("endpoint=http%3A%2F%2F127.0.0.1%3A9%2Fbase");
        assert_eq!(
            counts.view(),
            ViewersView::default(),
            "no token, nothing shown"
        );
        assert_eq!(
            counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0),
            Next::Wake(0.0)
        );
        assert!(counts
            .request_url()
            .is_some_and(|url| url.starts_with("http://127.0.0.1:9/base/counts?token=")));
        assert_eq!(
            counts.view().figures,
            Some(Figures::default()),
            "shown as —"
        );
        assert_eq!(counts.on_timer(0.0), Step::Fetch(1));
        // On the polling grid: one interval after the request was due.
        assert_eq!(
            counts.on_outcome(1, &answer(94, 95, T), 100.0, 0.5),
            Next::Wake(19_900.0)
        );
        let view = counts.view();
        assert_eq!(
            view.figures,
            Some(Figures {
                viewers: Some(94),
                views: Some(95)
            })
        );
        assert_eq!(view.note, None);
        assert_eq!(counts.history().entries().len(), 1);
        assert_eq!(
            counts.share_key().as_deref(),
            Some("live-stream-health:v1:counts:http://127.0.0.1:9/base:s")
        );
        // An interval of its own.
        let mut slower = viewers("viewers=60");
        slower.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0);
        slower.on_timer(0.0);
        assert_eq!(
            slower.on_outcome(1, &answer(1, 1, T), 0.0, 0.5),
            Next::Wake(60_000.0)
        );
    }

    #[test]
    fn off_means_no_request_at_all() {
        let mut counts = viewers("viewers=off");
        assert!(!counts.enabled());
        assert_eq!(
            counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0),
            Next::Idle
        );
        assert_eq!(counts.request_url(), None);
        assert_eq!(counts.on_timer(0.0), Step::Stop);
        assert_eq!(counts.share_key(), None);
        assert_eq!(counts.view(), ViewersView::default());
        // A host turns them on: the next restart polls at once.
        counts.set_enabled(true);
        assert_eq!(
            counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0),
            Next::Wake(0.0)
        );
        assert_eq!(counts.on_timer(0.0), Step::Fetch(2));
        // And off again: whatever was scheduled makes no request.
        counts.set_enabled(false);
        assert_eq!(counts.on_timer(10.0), Step::Stop);
        assert_eq!(counts.request_url(), None);
        assert_eq!(
            counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 20.0),
            Next::Idle
        );
        assert_eq!(counts.view(), ViewersView::default());
    }

    #[test]
    fn failures_hide_the_figures_behind_a_note_and_back_off_like_health() {
        let mut counts = viewers("");
        counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0);
        counts.on_timer(0.0);
        counts.on_outcome(1, &answer(94, 95, T), 0.0, 0.5);
        let failures = [
            (http(500), "Viewer counts unavailable (HTTP 500); retrying."),
            (
                Outcome::BadBody(ResponseError::NotJson),
                "Viewer counts unavailable (unreadable reply); retrying.",
            ),
            (
                Outcome::Network,
                "Viewer counts unavailable (no connection); retrying.",
            ),
            (
                Outcome::Timeout,
                "Viewer counts unavailable (no answer in time); retrying.",
            ),
        ];
        for (n, (failure, note)) in failures.iter().enumerate() {
            counts.on_timer(0.0);
            let next = counts.on_outcome(1, failure, 1000.0, 1.0);
            assert_eq!(
                next,
                Next::Wake(crate::core::poll::backoff_ms(n as u32 + 1, 1.0))
            );
            assert_eq!(counts.view().figures, None);
            assert_eq!(counts.view().note.as_deref(), Some(*note));
        }
        let slow_down = Outcome::Http {
            status: 429,
            retry_after_ms: Some(40_000.0),
        };
        assert_eq!(
            counts.on_outcome(1, &slow_down, 1000.0, 0.5),
            Next::Wake(40_000.0)
        );
        assert!(matches!(
            counts.history().entries().back(),
            Some(ViewerEntry::Gap { .. })
        ));
        // Back at the first good answer.
        counts.on_outcome(1, &answer(80, 120, T + 60_000), 2000.0, 0.5);
        assert_eq!(counts.view().figures.and_then(|f| f.viewers), Some(80));
        assert_eq!(counts.view().note, None);
    }

    #[test]
    fn a_refused_token_stops_counts_until_the_next_token() {
        for status in [401, 403, 404] {
            let mut counts = viewers("");
            counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0);
            counts.on_timer(0.0);
            counts.on_outcome(1, &answer(94, 95, T), 0.0, 0.5);
            assert_eq!(counts.on_outcome(1, &http(status), 100.0, 0.5), Next::Idle);
            let view = counts.view();
            assert_eq!(view.figures, None);
            assert_eq!(
                view.note,
                Some(format!(
                    "Viewer counts are not available with this link (HTTP {status})."
                ))
            );
            assert_eq!(counts.on_timer(30_000.0), Step::Stop);
            assert_eq!(counts.share_key(), None);
            // A refreshed token for the same stream: polling again, history kept.
            let refreshed = token_with(r#"{"sub":"s","exp":9999999999}"#);
            assert_eq!(counts.restart(Some(refreshed), 40_000.0), Next::Wake(0.0));
            assert_eq!(counts.view().note, None);
            assert_eq!(counts.history().entries().len(), 1);
        }
        // A token the browser cannot read: health explains, counts stay quiet.
        let mut counts = viewers("");
        assert_eq!(counts.restart(Some("not a token".into()), 0.0), Next::Idle);
        assert_eq!(counts.view(), ViewersView::default());
        // An expired one: the same.
        assert_eq!(
            counts.restart(Some(token_with(r#"{"sub":"s","exp":1}"#)), 5000.0),
            Next::Idle
        );
        assert_eq!(counts.view(), ViewersView::default());
    }

    #[test]
    fn unknown_counts_show_as_unknown_and_break_no_line() {
        let mut counts = viewers("");
        counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0);
        counts.on_timer(0.0);
        counts.on_outcome(1, &Outcome::Report(ViewerCounts::default()), 0.0, 0.5);
        assert_eq!(counts.view().figures, Some(Figures::default()));
        assert_eq!(counts.history().latest().map(|p| p.viewers), Some(None));
    }

    #[test]
    fn another_stream_starts_another_history() {
        let mut counts = viewers("");
        counts.restart(Some(token_with(r#"{"sub":"a"}"#)), 0.0);
        counts.on_timer(0.0);
        counts.on_outcome(1, &answer(5, 6, T), 0.0, 0.5);
        counts.restart(Some(token_with(r#"{"sub":"b"}"#)), 10.0);
        assert!(counts.history().entries().is_empty());
        assert_eq!(counts.latest(), None);
        assert!(counts.share_key().is_some_and(|key| key.ends_with(":b")));
    }

    #[test]
    fn a_follower_takes_the_leaders_counts_and_pace() {
        let mut counts = viewers("");
        counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 0.0);
        assert_eq!(
            counts.on_shared(&answer(7, 8, T), 15_000.0, 100.0),
            Next::Wake(15_000.0)
        );
        assert_eq!(counts.view().figures.and_then(|f| f.views), Some(8));
        assert_eq!(
            counts.on_shared(&http(503), 4000.0, 200.0),
            Next::Wake(4000.0)
        );
        assert!(counts.view().note.is_some_and(|n| n.contains("HTTP 503")));
        assert_eq!(counts.on_timer_following(4200.0), Next::Idle);
        // Off: shared answers no longer move it.
        counts.set_enabled(false);
        counts.restart(Some(token_with(r#"{"sub":"s"}"#)), 5000.0);
        assert_eq!(
            counts.on_shared(&answer(9, 9, T + 1), 15_000.0, 5100.0),
            Next::Idle
        );
        assert_eq!(counts.view(), ViewersView::default());
    }

    #[test]
    fn counts_and_health_never_share_a_key() {
        let health = crate::core::share::share_key("https://stats.mux.com", "s");
        assert_ne!(counts_share_key("https://stats.mux.com", "s"), health);
    }
}
