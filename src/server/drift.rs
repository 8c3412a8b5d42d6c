//! The drift engine: turns encoder samples into the numbers the stats API
//! reports. Pure: no tokio, no I/O, no clock. Every time is passed in as
//! milliseconds on the caller's clock (the stand-in passes simulated Unix ms).
//!
//! Definitions, per encoder connection:
//! - **stream drift** at a sample = wallclock elapsed since the encoder
//!   connected − media time elapsed since it connected, in ms. Positive drift
//!   means the encoder is falling behind real time.
//! - **session average** (`stream_drift_session_avg`) = the cumulative mean of
//!   every drift sample of the connection, rounded to whole ms. A cumulative
//!   mean (rather than an EWMA) matches "average over the session" literally
//!   and needs no tuning constant. It restarts on every new connection.
//! - **rolling average** = the mean of the samples taken in the last
//!   [`ROLLING_WINDOW_MS`] (30 s), including the current one. With 1 Hz
//!   sampling that is the latest 30 samples.
//! - **deviation** (`stream_drift_deviation_from_rolling_avg`) = current drift −
//!   rolling average, rounded to whole ms (half away from zero).
//! - **status** from |deviation|: ≤ 500 ms `excellent`, ≤ 1000 ms `good`,
//!   otherwise `poor` (so exactly 500 is excellent and exactly 1000 is good).
//!   `unknown` when no encoder has ever connected, or when the latest sample is
//!   older than [`STALE_AFTER_MS`] (3 minutes).
//!
//! Samples are taken by the caller at a fixed rate of stream time
//! ([`SAMPLE_INTERVAL_MS`], 1 Hz), independent of API requests; a request
//! reads the latest sample and `updated_at` is that sample's time. After a
//! disconnect the last sample keeps being reported (with its old
//! `updated_at`) until it goes stale. An `unknown` reading carries `now`
//! (floored to the second) as its time and no numbers: there is no sample to
//! date it by, and an advancing time lets a client tell a fresh "still
//! unknown" from a repeated response.
//!
//! Two callers feed it: simulated encoders ([`super::simulate`]) on the
//! stand-in's scaled clock, and real RTMP encoders ([`super::ingest`]) on the
//! real clock, whose samples are re-dated on the scaled clock for reporting
//! (hence [`Reading::of_sample`] and [`Reading::unknown`] as separate pieces).

use std::collections::VecDeque;

/// How often the caller samples a connected encoder, in ms of stream time.
pub const SAMPLE_INTERVAL_MS: i64 = 1_000;
/// The rolling-average window.
pub const ROLLING_WINDOW_MS: i64 = 30_000;
/// With no sample for this long the status is `unknown`.
pub const STALE_AFTER_MS: i64 = 180_000;
/// Largest |deviation| still `excellent`.
pub const EXCELLENT_MAX_DEVIATION_MS: i64 = 500;
/// Largest |deviation| still `good`.
pub const GOOD_MAX_DEVIATION_MS: i64 = 1_000;

/// The health verdict the API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// |deviation| ≤ 500 ms.
    Excellent,
    /// 500 ms < |deviation| ≤ 1000 ms.
    Good,
    /// |deviation| > 1000 ms.
    Poor,
    /// Never connected, or no data for 3 minutes.
    Unknown,
}

impl Status {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Excellent => "excellent",
            Self::Good => "good",
            Self::Poor => "poor",
            Self::Unknown => "unknown",
        }
    }

    /// The status for a deviation from the rolling average.
    pub fn from_deviation(deviation_ms: i64) -> Self {
        let magnitude = deviation_ms.unsigned_abs();
        if magnitude <= EXCELLENT_MAX_DEVIATION_MS.unsigned_abs() {
            Self::Excellent
        } else if magnitude <= GOOD_MAX_DEVIATION_MS.unsigned_abs() {
            Self::Good
        } else {
            Self::Poor
        }
    }
}

/// One computed sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken (caller's clock, ms).
    pub at_ms: i64,
    /// Stream drift at that moment.
    pub drift_ms: i64,
    /// Cumulative mean drift of the connection so far.
    pub session_avg_ms: i64,
    /// Drift minus the 30 s rolling average.
    pub deviation_ms: i64,
    /// Verdict from the deviation.
    pub status: Status,
}

/// What the API reports at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The sample's time, or `now` floored to the second when `unknown`.
    pub updated_at_ms: i64,
    /// `None` when unknown.
    pub session_avg_ms: Option<i64>,
    /// `None` when unknown.
    pub deviation_ms: Option<i64>,
    /// The verdict.
    pub status: Status,
}

/// State of one encoder connection.
#[derive(Debug, Clone)]
struct Connection {
    connected_at_ms: i64,
    drift_sum: i128,
    drift_count: u64,
    /// `(at_ms, drift_ms)` of the samples inside the rolling window.
    window: VecDeque<(i64, i64)>,
    window_sum: i128,
}

/// Drift bookkeeping for one live stream.
#[derive(Debug, Clone, Default)]
pub struct DriftEngine {
    connection: Option<Connection>,
    latest: Option<Sample>,
}

impl DriftEngine {
    /// An engine for a stream whose encoder has never connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// An encoder connected at `at_ms`: starts a new session, dropping the old
    /// session average and rolling window.
    pub fn connect(&mut self, at_ms: i64) {
        self.connection = Some(Connection {
            connected_at_ms: at_ms,
            drift_sum: 0,
            drift_count: 0,
            window: VecDeque::new(),
            window_sum: 0,
        });
    }

    /// The encoder went away. The latest sample stays readable until stale.
    pub fn disconnect(&mut self) {
        self.connection = None;
    }

    /// Whether an encoder is connected.
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Records a sample at `at_ms` given the media time the encoder has sent
    /// since it connected. Returns `None` when no encoder is connected.
    pub fn record(&mut self, at_ms: i64, media_elapsed_ms: i64) -> Option<Sample> {
        let connection = self.connection.as_mut()?;
        let drift_ms = (at_ms - connection.connected_at_ms) - media_elapsed_ms;

        connection.drift_sum += i128::from(drift_ms);
        connection.drift_count += 1;
        connection.window.push_back((at_ms, drift_ms));
        connection.window_sum += i128::from(drift_ms);
        while let Some(&(oldest_at, oldest_drift)) = connection.window.front() {
            if oldest_at > at_ms - ROLLING_WINDOW_MS {
                break;
            }
            connection.window.pop_front();
            connection.window_sum -= i128::from(oldest_drift);
        }

        let session_avg_ms = rounded_mean(connection.drift_sum, connection.drift_count);
        // The window always holds at least the sample just pushed.
        let window_len = u64::try_from(connection.window.len()).unwrap_or(u64::MAX);
        let rolling = connection.window_sum as f64 / window_len as f64;
        let deviation_ms = round_half_away(drift_ms as f64 - rolling);
        let sample = Sample {
            at_ms,
            drift_ms,
            session_avg_ms,
            deviation_ms,
            status: Status::from_deviation(deviation_ms),
        };
        self.latest = Some(sample);
        Some(sample)
    }

    /// The latest sample, if any.
    pub fn latest(&self) -> Option<Sample> {
        self.latest
    }

    /// What the API reports at `now_ms`.
    pub fn reading(&self, now_ms: i64) -> Reading {
        match self.latest {
            Some(sample) if now_ms - sample.at_ms <= STALE_AFTER_MS => Reading::of_sample(&sample),
            _ => Reading::unknown(now_ms),
        }
    }
}

impl Reading {
    /// Reports `sample`, dated by its own time.
    pub fn of_sample(sample: &Sample) -> Self {
        Self {
            updated_at_ms: sample.at_ms,
            session_avg_ms: Some(sample.session_avg_ms),
            deviation_ms: Some(sample.deviation_ms),
            status: sample.status,
        }
    }

    /// Reports `unknown` at `now_ms`, floored to the second.
    pub fn unknown(now_ms: i64) -> Self {
        Self {
            updated_at_ms: now_ms.div_euclid(1000) * 1000,
            session_avg_ms: None,
            deviation_ms: None,
            status: Status::Unknown,
        }
    }
}

fn rounded_mean(sum: i128, count: u64) -> i64 {
    if count == 0 {
        return 0;
    }
    round_half_away(sum as f64 / count as f64)
}

/// Rounds half away from zero and saturates at the `i64` range.
fn round_half_away(value: f64) -> i64 {
    // `as` from f64 saturates, which is the behaviour wanted for absurd drift.
    value.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_668_447_143_000;

    #[test]
    fn status_thresholds_are_inclusive() {
        let cases = [
            (0, Status::Excellent),
            (500, Status::Excellent),
            (-500, Status::Excellent),
            (501, Status::Good),
            (1000, Status::Good),
            (-1000, Status::Good),
            (1001, Status::Poor),
            (-1500, Status::Poor),
            (i64::MIN, Status::Poor),
        ];
        for (deviation, want) in cases {
            assert_eq!(Status::from_deviation(deviation), want, "{deviation}");
        }
    }

    #[test]
    fn never_connected_is_unknown_with_no_numbers() {
        let engine = DriftEngine::new();
        let reading = engine.reading(T0 + 1_234);
        assert_eq!(reading.status, Status::Unknown);
        assert_eq!(reading.session_avg_ms, None);
        assert_eq!(reading.deviation_ms, None);
        assert_eq!(reading.updated_at_ms, T0 + 1_000);
    }

    #[test]
    fn drift_is_wallclock_minus_media_time_since_connect() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        let sample = engine.record(T0 + 10_000, 9_700).expect("connected");
        assert_eq!(sample.drift_ms, 300);
    }

    #[test]
    fn recording_needs_a_connection() {
        let mut engine = DriftEngine::new();
        assert_eq!(engine.record(T0, 0), None);
    }

    #[test]
    fn constant_drift_has_zero_deviation_and_is_excellent() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        for second in 0..60 {
            engine.record(T0 + second * 1000, second * 1000 - 384);
        }
        let reading = engine.reading(T0 + 59_000);
        assert_eq!(reading.session_avg_ms, Some(384));
        assert_eq!(reading.deviation_ms, Some(0));
        assert_eq!(reading.status, Status::Excellent);
        assert_eq!(reading.updated_at_ms, T0 + 59_000);
    }

    #[test]
    fn session_average_is_the_cumulative_mean() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        // Drifts 0, 100, 200, 300 -> mean 150.
        for (i, drift) in [0, 100, 200, 300].into_iter().enumerate() {
            let at = i as i64 * 1000;
            engine.record(T0 + at, at - drift);
        }
        assert_eq!(engine.latest().map(|s| s.session_avg_ms), Some(150));
    }

    #[test]
    fn rolling_window_keeps_only_the_last_30_seconds() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        // 60 s of drift 0, then one sample of drift 3000: the window of 30
        // samples is 29 zeros and the 3000, mean 100, deviation 2900.
        for second in 0..60 {
            engine.record(T0 + second * 1000, second * 1000);
        }
        let sample = engine.record(T0 + 60_000, 57_000).expect("connected");
        assert_eq!(sample.drift_ms, 3000);
        assert_eq!(sample.deviation_ms, 2900);
        assert_eq!(sample.status, Status::Poor);
        // The session mean covers all 61 samples.
        assert_eq!(sample.session_avg_ms, 49);
    }

    #[test]
    fn a_new_connection_resets_the_session() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        for second in 0..10 {
            engine.record(T0 + second * 1000, second * 1000 - 5000);
        }
        engine.disconnect();
        engine.connect(T0 + 20_000);
        let sample = engine.record(T0 + 20_000, 0).expect("connected");
        assert_eq!(sample.drift_ms, 0);
        assert_eq!(sample.session_avg_ms, 0);
        assert_eq!(sample.deviation_ms, 0);
    }

    #[test]
    fn disconnected_stream_reports_last_sample_until_three_minutes_pass() {
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        engine.record(T0, 0);
        engine.disconnect();
        assert!(!engine.is_connected());
        let fresh = engine.reading(T0 + STALE_AFTER_MS);
        assert_eq!(fresh.status, Status::Excellent);
        assert_eq!(fresh.updated_at_ms, T0);
        let stale = engine.reading(T0 + STALE_AFTER_MS + 1);
        assert_eq!(stale.status, Status::Unknown);
        assert_eq!(stale.deviation_ms, None);
    }

    #[test]
    fn linear_drift_growth_deviates_by_half_the_window() {
        // Drift growing 100 ms per second: the window mean lags the current
        // value by 14.5 s * 100 ms = 1450 ms once the window is full.
        let mut engine = DriftEngine::new();
        engine.connect(T0);
        let mut last = None;
        for second in 0..40 {
            last = engine.record(T0 + second * 1000, second * 900);
        }
        let sample = last.expect("connected");
        assert_eq!(sample.deviation_ms, 1450);
        assert_eq!(sample.status, Status::Poor);
    }
}
