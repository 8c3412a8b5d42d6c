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

/// Formats Unix seconds as an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`), e.g. for `Last-Modified`.
pub fn format_http_date(unix_secs: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `YYYY-MM-DDTHH:MM:SS`, taken apart rather than computed twice.
    let iso = format_api_time(unix_secs);
    let weekday = WEEKDAYS[unix_secs.div_euclid(86_400).rem_euclid(7) as usize];
    let (date, clock) = iso.split_once('T').unwrap_or((&iso, "00:00:00"));
    let mut fields = date.rsplitn(3, '-');
    let (day, month, year) = (fields.next(), fields.next(), fields.next());
    let month = month
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {} {month} {} {clock} GMT",
        day.unwrap_or("01"),
        year.unwrap_or("1970")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::parse_http_date_ms;

    #[test]
    fn formats_http_dates_that_read_back() {
        assert_eq!(
            format_http_date(784_111_777),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_http_date(951_782_400),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        for secs in [0, 784_111_777, 1_668_447_143, 4_102_444_800] {
            assert_eq!(
                parse_http_date_ms(&format_http_date(secs)),
                Some(secs * 1000)
            );
        }
    }

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
