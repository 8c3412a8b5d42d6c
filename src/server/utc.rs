//! UTC timestamps in the stats API's format, without a date-time dependency.
//!
//! The API writes `updated_at` as `YYYY-MM-DDTHH:MM:SS`: UTC, second
//! resolution, no zone designator. Both servers need exactly that one format
//! (and the demo needs "now" as Unix seconds); the calendar arithmetic is
//! the core's ([`crate::core::time`]), shared with the widget.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::core::time::format_iso_utc;

/// Seconds since the Unix epoch by the system clock (0 if the clock is set
/// before 1970, which no caller treats as meaningful).
pub fn now_unix_secs() -> i64 {
    now_unix_millis().div_euclid(1000)
}

/// Milliseconds since the Unix epoch by the system clock.
pub fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC, no zone designator):
/// the core's ISO formatter without its `Z`.
pub fn format_api_time(unix_secs: i64) -> String {
    let mut text = format_iso_utc(unix_secs.saturating_mul(1000));
    text.pop();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00"),
            (1_668_447_143, "2022-11-14T17:32:23"),
            (951_782_400, "2000-02-29T00:00:00"),
            (1_709_251_199, "2024-02-29T23:59:59"),
            (4_102_444_800, "2100-01-01T00:00:00"),
            (-1, "1969-12-31T23:59:59"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_api_time(secs), want, "{secs}");
        }
    }
}
