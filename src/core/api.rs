//! The Live Stream Health response: tolerant parsing and error classification.
//!
//! The body the service documents is
//! `{"data":[{"ingest_health":{"updated_at":..,"stream_drift_session_avg":..,
//! "stream_drift_deviation_from_rolling_avg":..,"status":..}}]}`.
//! It is read into the typed shape below, whose fields are
//! [`Lenient`], so that one odd field never
//! throws the whole report away (and without building a
//! `serde_json::Value` tree):
//! - extra fields anywhere are ignored;
//! - a metric that is missing, null, not a JSON number or not finite is
//!   `None` (shown as "—", never guessed; numbers sent as strings count as
//!   not numeric, since the service never sends them);
//! - a status word we do not know falls back to the thresholds on the
//!   deviation, else unknown (see [`Status::resolve`]);
//! - `updated_at` with or without a zone designator is read (no zone means
//!   UTC); one we cannot read is `None`, and the sample is still shown;
//! - an empty `data` array means the service has no health for the stream:
//!   an unknown report with no metrics, not an error;
//! - a body that is not JSON (an HTML error page from a proxy, a truncated
//!   body), whose `data` is not an array, or larger than [`MAX_BODY_BYTES`]
//!   is an [`ResponseError`]: the widget keeps its last good values, marks
//!   them stale and retries;
//! - only the first element of `data` is read (the service sends one per
//!   stream); when a key repeats, its first occurrence is read; nesting
//!   of any depth in ignored fields is skipped without recursion.

use serde::Deserialize;

use crate::core::lenient::{self, First, Lenient};
use crate::core::status::Status;
use crate::core::time::parse_timestamp_ms;

/// Bodies larger than this are refused before parsing. A real report is
/// about 200 bytes; 64 KiB leaves room for extra fields without letting a
/// misbehaving proxy make the widget parse megabytes every poll.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One health report for one live stream, as read from a response body.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthReport {
    /// `updated_at` as Unix epoch milliseconds, when readable.
    pub updated_at_ms: Option<i64>,
    /// `stream_drift_session_avg` in milliseconds.
    pub session_avg_ms: Option<f64>,
    /// `stream_drift_deviation_from_rolling_avg` in milliseconds.
    pub deviation_ms: Option<f64>,
    /// The resolved status.
    pub status: Status,
}

impl HealthReport {
    /// The report for "the service has no data for this stream".
    pub fn no_data() -> HealthReport {
        HealthReport {
            updated_at_ms: None,
            session_avg_ms: None,
            deviation_ms: None,
            status: Status::Unknown,
        }
    }
}

/// Why a response body could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// Larger than [`MAX_BODY_BYTES`].
    TooLarge {
        /// Size of the body received, in bytes.
        bytes: usize,
    },
    /// Not JSON at all (an HTML error page, a truncated body, nothing).
    NotJson,
    /// JSON, but not the documented shape (no `data` array).
    UnexpectedShape,
}

impl ResponseError {
    /// A short sentence for the streamer.
    pub fn describe(&self) -> String {
        match self {
            ResponseError::TooLarge { bytes } => {
                format!("The stats service sent an oversized reply ({bytes} bytes).")
            }
            ResponseError::NotJson => "The stats service sent a reply that is not JSON.".into(),
            ResponseError::UnexpectedShape => {
                "The stats service sent a reply in an unexpected shape.".into()
            }
        }
    }
}

/// The documented body, as far as the widget reads it.
#[derive(Deserialize)]
struct Body<E> {
    data: Lenient<First<E>>,
}

/// The first element of `data` in a body of the stats API's shape
/// (`{"data":[entry, ...]}`), shared by the health and counts endpoints:
/// `Ok(None)` for an empty `data`, and an error for a body over
/// [`MAX_BODY_BYTES`], one that is not JSON, or one without a `data` array.
pub fn first_data_entry<E>(body: &str) -> Result<Option<E>, ResponseError>
where
    E: for<'de> Deserialize<'de>,
{
    if body.len() > MAX_BODY_BYTES {
        return Err(ResponseError::TooLarge { bytes: body.len() });
    }
    let parsed: Option<Body<E>> = lenient::from_str(body).map_err(|_| ResponseError::NotJson)?;
    // No object at the root, or no `data` array in it.
    let First(entry) = parsed
        .and_then(|body| body.data.value())
        .ok_or(ResponseError::UnexpectedShape)?;
    Ok(entry)
}

/// One element of `data`.
#[derive(Deserialize)]
struct Entry {
    ingest_health: Lenient<IngestHealth>,
}

/// The health fields of one stream.
#[derive(Deserialize)]
struct IngestHealth {
    stream_drift_session_avg: Lenient<f64>,
    stream_drift_deviation_from_rolling_avg: Lenient<f64>,
    status: Lenient<String>,
    updated_at: Lenient<String>,
}

/// Reads a response body.
pub fn parse_report(body: &str) -> Result<HealthReport, ResponseError> {
    let entry: Option<Entry> = first_data_entry(body)?;
    let Some(health) = entry.and_then(|entry| entry.ingest_health.value()) else {
        return Ok(HealthReport::no_data());
    };
    let metric = |value: Lenient<f64>| value.value().filter(|v| v.is_finite());
    let deviation_ms = metric(health.stream_drift_deviation_from_rolling_avg);
    Ok(HealthReport {
        updated_at_ms: health
            .updated_at
            .value()
            .as_deref()
            .and_then(parse_timestamp_ms),
        session_avg_ms: metric(health.stream_drift_session_avg),
        deviation_ms,
        status: Status::resolve(health.status.value().as_deref(), deviation_ms),
    })
}

/// Reads an HTTP `Retry-After` value: delay seconds, or an HTTP date
/// (compared with `now_ms`). Returns the wait in milliseconds.
pub fn parse_retry_after_ms(value: &str, now_ms: f64) -> Option<f64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds as f64 * 1000.0);
    }
    crate::core::time::parse_http_date_ms(value).map(|at| (at as f64 - now_ms).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{"data":[{"ingest_health":{"updated_at":"2022-11-14T17:32:23","stream_drift_session_avg":384,"stream_drift_deviation_from_rolling_avg":12,"status":"excellent"}}]}"#;

    fn report(body: &str) -> HealthReport {
        match parse_report(body) {
            Ok(report) => report,
            Err(error) => panic!("{body}: {error:?}"),
        }
    }

    #[test]
    fn the_documented_example_parses() {
        let parsed = report(SEED);
        assert_eq!(parsed.status, Status::Excellent);
        assert_eq!(parsed.session_avg_ms, Some(384.0));
        assert_eq!(parsed.deviation_ms, Some(12.0));
        assert_eq!(parsed.updated_at_ms, Some(1_668_447_143_000));
    }

    #[test]
    fn extra_fields_are_ignored() {
        let body = r#"{"data":[{"id":"x","ingest_health":{"updated_at":"2022-11-14T17:32:23Z","stream_drift_session_avg":1,"stream_drift_deviation_from_rolling_avg":-700,"status":"good","new_metric":[1,2]}}],"total":1}"#;
        let parsed = report(body);
        assert_eq!(parsed.status, Status::Good);
        assert_eq!(parsed.deviation_ms, Some(-700.0));
        assert_eq!(parsed.updated_at_ms, Some(1_668_447_143_000));
    }

    #[test]
    fn missing_null_and_non_numeric_metrics_are_none() {
        let cases = [
            r#"{"data":[{"ingest_health":{"status":"poor"}}]}"#,
            r#"{"data":[{"ingest_health":{"status":"poor","stream_drift_session_avg":null,"stream_drift_deviation_from_rolling_avg":null}}]}"#,
            r#"{"data":[{"ingest_health":{"status":"poor","stream_drift_session_avg":"384","stream_drift_deviation_from_rolling_avg":true}}]}"#,
            r#"{"data":[{"ingest_health":{"status":"poor","stream_drift_session_avg":{},"stream_drift_deviation_from_rolling_avg":[]}}]}"#,
        ];
        for body in cases {
            let parsed = report(body);
            assert_eq!(parsed.session_avg_ms, None, "{body}");
            assert_eq!(parsed.deviation_ms, None, "{body}");
            assert_eq!(parsed.status, Status::Poor, "{body}");
        }
    }

    #[test]
    fn huge_and_negative_numbers_are_kept() {
        let body = r#"{"data":[{"ingest_health":{"stream_drift_session_avg":-5e15,"stream_drift_deviation_from_rolling_avg":1e300}}]}"#;
        let parsed = report(body);
        assert_eq!(parsed.session_avg_ms, Some(-5e15));
        assert_eq!(parsed.status, Status::Poor);
    }

    #[test]
    fn unknown_status_word_uses_thresholds_or_unknown() {
        let with_deviation = r#"{"data":[{"ingest_health":{"status":"marvellous","stream_drift_deviation_from_rolling_avg":700}}]}"#;
        assert_eq!(report(with_deviation).status, Status::Good);
        let without = r#"{"data":[{"ingest_health":{"status":"marvellous"}}]}"#;
        assert_eq!(report(without).status, Status::Unknown);
        let markup = r#"{"data":[{"ingest_health":{"status":"<img src=x onerror=alert(1)>","stream_drift_deviation_from_rolling_avg":1}}]}"#;
        assert_eq!(report(markup).status, Status::Excellent);
        let not_a_string = r#"{"data":[{"ingest_health":{"status":5,"stream_drift_deviation_from_rolling_avg":1200}}]}"#;
        assert_eq!(report(not_a_string).status, Status::Poor);
    }

    #[test]
    fn empty_data_means_no_data_not_an_error() {
        assert_eq!(report(r#"{"data":[]}"#), HealthReport::no_data());
        assert_eq!(report(r#"{"data":[{}]}"#), HealthReport::no_data());
        assert_eq!(
            report(r#"{"data":[{"ingest_health":null}]}"#),
            HealthReport::no_data()
        );
    }

    #[test]
    fn wrong_shapes_and_non_json_are_errors() {
        let cases = [
            (
                "<html><body>502 Bad Gateway</body></html>",
                ResponseError::NotJson,
            ),
            ("", ResponseError::NotJson),
            (
                r#"{"data":[{"ingest_health":{"status":"exce"#,
                ResponseError::NotJson,
            ),
            (r#"{"data":{}}"#, ResponseError::UnexpectedShape),
            (r#"{"error":"nope"}"#, ResponseError::UnexpectedShape),
            ("[1,2]", ResponseError::UnexpectedShape),
            ("null", ResponseError::UnexpectedShape),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_report(body), Err(expected), "{body}");
        }
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!(
            "{{\"pad\":\"{}\",{}",
            "x".repeat(MAX_BODY_BYTES),
            &SEED[1..]
        );
        assert!(matches!(
            parse_report(&body),
            Err(ResponseError::TooLarge { .. })
        ));
    }

    #[test]
    fn garbage_updated_at_keeps_the_sample() {
        let body = r#"{"data":[{"ingest_health":{"updated_at":"yesterday","status":"good","stream_drift_deviation_from_rolling_avg":600}}]}"#;
        let parsed = report(body);
        assert_eq!(parsed.updated_at_ms, None);
        assert_eq!(parsed.status, Status::Good);
    }

    #[test]
    fn only_the_first_report_and_the_first_of_repeated_keys_are_read() {
        let body = r#"{"data":[{"ingest_health":{"status":"good","status":"poor","stream_drift_deviation_from_rolling_avg":600,"stream_drift_deviation_from_rolling_avg":"x"}},{"ingest_health":{"status":"poor"}}]}"#;
        let parsed = report(body);
        assert_eq!(parsed.status, Status::Good);
        assert_eq!(parsed.deviation_ms, Some(600.0));
        // A repeated `data` is skipped too, whatever it holds.
        let repeated = r#"{"data":[{"ingest_health":{"status":"excellent"}}],"data":{}}"#;
        assert_eq!(report(repeated).status, Status::Excellent);
    }

    #[test]
    fn odd_first_entries_mean_no_data() {
        for body in [
            r#"{"data":[5,{"ingest_health":{"status":"poor"}}]}"#,
            r#"{"data":[[{"ingest_health":{"status":"poor"}}]]}"#,
            r#"{"data":[{"ingest_health":[{"status":"poor"}]}]}"#,
            r#"{"data":[{"ingest_health":"poor"}]}"#,
        ] {
            assert_eq!(report(body), HealthReport::no_data(), "{body}");
        }
    }

    #[test]
    fn deep_or_huge_values_in_ignored_fields_are_skipped() {
        let depth = 30_000;
        let deep = format!(
            "{{\"x\":{}{},{}",
            "[".repeat(depth),
            "]".repeat(depth),
            &SEED[1..]
        );
        assert!(deep.len() < MAX_BODY_BYTES);
        assert_eq!(report(&deep).status, Status::Excellent);
        let huge_number = format!("{{\"x\":1e400,{}", &SEED[1..]);
        assert_eq!(report(&huge_number).status, Status::Excellent);
        // Unclosed, it is not JSON, however deep.
        assert_eq!(
            parse_report(&"[".repeat(depth)),
            Err(ResponseError::NotJson)
        );
    }

    #[test]
    fn non_finite_numbers_are_not_json_and_their_names_are_not_numbers() {
        for body in [
            r#"{"data":[{"ingest_health":{"stream_drift_session_avg":NaN}}]}"#,
            r#"{"data":[{"ingest_health":{"stream_drift_session_avg":Infinity}}]}"#,
            r#"{"data":[{"ingest_health":{"stream_drift_session_avg":1e400}}]}"#,
        ] {
            assert_eq!(parse_report(body), Err(ResponseError::NotJson), "{body}");
        }
        let named = r#"{"data":[{"ingest_health":{"stream_drift_session_avg":"NaN","stream_drift_deviation_from_rolling_avg":"Infinity","status":"good"}}]}"#;
        let parsed = report(named);
        assert_eq!((parsed.session_avg_ms, parsed.deviation_ms), (None, None));
        assert_eq!(parsed.status, Status::Good);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after_ms("3", 0.0), Some(3000.0));
        assert_eq!(parse_retry_after_ms(" 120 ", 0.0), Some(120_000.0));
        let now = 1_668_447_143_000.0;
        assert_eq!(
            parse_retry_after_ms("Mon, 14 Nov 2022 17:32:33 GMT", now),
            Some(10_000.0)
        );
        assert_eq!(
            parse_retry_after_ms("Mon, 14 Nov 2022 17:00:00 GMT", now),
            Some(0.0)
        );
        assert_eq!(parse_retry_after_ms("soon", now), None);
        assert_eq!(parse_retry_after_ms("-1", now), None);
    }
}
