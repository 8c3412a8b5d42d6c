//! Calendar arithmetic for the few timestamps the widget reads and writes.
//!
//! Written here rather than pulled from a date crate: the widget needs only
//! ISO 8601 `updated_at` values, HTTP dates in `Retry-After` and wall-clock
//! labels, and every kilobyte of WebAssembly is download time for a viewer.
//! All values are Unix epoch milliseconds in UTC; the browser's zone offset
//! is passed in where local labels are wanted.

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// (year, month, day) for days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn epoch_ms(date: (i64, i64, i64), clock: (i64, i64, i64), millis: i64) -> Option<i64> {
    let (year, month, day) = date;
    let (hour, minute, second) = clock;
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

// Strings are cut with `get`/`split_at_checked`, never `&text[a..b]`: a
// slice that could panic links the panic message's `char` `Debug` and
// Unicode tables into the WebAssembly (a few kilobytes), and here a bad
// cut just means an unreadable timestamp.

/// Reads an ISO 8601 date-time as the stats service sends it:
/// `2022-11-14T17:32:23`, optionally with fractional seconds and a zone
/// designator (`Z`, `+01:00`, `-0500`). No zone means UTC.
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_ascii() || text.len() < 19 {
        return None;
    }
    let (date, rest) = text.split_at_checked(10)?;
    let separator = rest.as_bytes()[0];
    if separator != b'T' && separator != b't' && separator != b' ' {
        return None;
    }
    let rest = rest.get(1..)?;
    let mut date_parts = date.split('-');
    let year = digits(date_parts.next()?)?;
    let month = digits(date_parts.next()?)?;
    let day = digits(date_parts.next()?)?;
    if date_parts.next().is_some() || date.len() != 10 {
        return None;
    }
    let (clock, mut tail) = rest.split_at_checked(8.min(rest.len()))?;
    let mut clock_parts = clock.split(':');
    let hour = digits(clock_parts.next()?)?;
    let minute = digits(clock_parts.next()?)?;
    let second = digits(clock_parts.next()?)?;
    if clock.len() != 8 {
        return None;
    }
    let mut millis = 0;
    if let Some(fraction) = tail.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        let first_three = fraction.get(..end.min(3))?;
        millis = digits(first_three)? * 10_i64.pow(3 - first_three.len() as u32);
        tail = fraction.get(end..)?;
    }
    let offset_minutes = match tail {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = zone.get(1..)?.replace(':', "");
            if zone.len() != 4 {
                return None;
            }
            let hours = digits(zone.get(..2)?)?;
            let minutes = digits(zone.get(2..)?)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 60 + minutes)
        }
    };
    let local = epoch_ms((year, month, day), (hour, minute, second), millis)?;
    Some(local - offset_minutes * 60_000)
}

/// Reads an HTTP date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date_ms(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day = digits(parts.next()?)?;
    let month_name = parts.next()?;
    let year = digits(parts.next()?)?;
    let clock = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let mut clock_parts = clock.split(':');
    let hour = digits(clock_parts.next()?)?;
    let minute = digits(clock_parts.next()?)?;
    let second = digits(clock_parts.next()?)?;
    epoch_ms((year, month, day), (hour, minute, second), 0)
}

/// Formats epoch milliseconds as `2022-11-14T17:32:23Z` (UTC).
pub fn format_iso_utc(epoch_ms: i64) -> String {
    let seconds = epoch_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Formats the wall-clock time `HH:MM:SS` of epoch milliseconds, shifted by
/// the viewer's zone (`offset_minutes` east of UTC).
pub fn format_clock(epoch_ms: f64, offset_minutes: i32) -> String {
    if !epoch_ms.is_finite() {
        return "--:--:--".into();
    }
    let seconds = (epoch_ms / 1000.0).floor() as i64 + i64::from(offset_minutes) * 60;
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_MS: i64 = 1_668_447_143_000;

    #[test]
    fn zone_designators_are_optional_and_respected() {
        let cases = [
            ("2022-11-14T17:32:23", Some(SEED_MS)),
            ("2022-11-14T17:32:23Z", Some(SEED_MS)),
            ("2022-11-14t17:32:23z", Some(SEED_MS)),
            ("2022-11-14 17:32:23", Some(SEED_MS)),
            ("2022-11-14T17:32:23.250", Some(SEED_MS + 250)),
            ("2022-11-14T17:32:23.5Z", Some(SEED_MS + 500)),
            ("2022-11-14T17:32:23.123456Z", Some(SEED_MS + 123)),
            ("2022-11-14T18:32:23+01:00", Some(SEED_MS)),
            ("2022-11-14T12:32:23-0500", Some(SEED_MS)),
            ("1970-01-01T00:00:00", Some(0)),
            ("2024-02-29T00:00:00", Some(1_709_164_800_000)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timestamp_ms(text), expected, "{text}");
        }
    }

    #[test]
    fn garbage_timestamps_are_none() {
        let cases = [
            "",
            "yesterday",
            "2022-11-14",
            "2022-13-14T17:32:23",
            "2023-02-29T17:32:23",
            "2022-11-14T24:00:00",
            "2022-11-14T17:32:23+25:00",
            "2022-11-14T17:32:23.",
            "2022-11-14T17:32:23 UTC",
            "2022-1-14T17:32:233",
            "２０２２-11-14T17:32:23",
            "+2022-11-14T17:32:23",
        ];
        for text in cases {
            assert_eq!(parse_timestamp_ms(text), None, "{text}");
        }
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date_ms("Mon, 14 Nov 2022 17:32:23 GMT"),
            Some(SEED_MS)
        );
        assert_eq!(parse_http_date_ms("Mon, 14 Nov 2022 17:32:23 PST"), None);
        assert_eq!(parse_http_date_ms("Mon, 14 Foo 2022 17:32:23 GMT"), None);
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats_utc_and_local_clock() {
        assert_eq!(format_iso_utc(SEED_MS), "2022-11-14T17:32:23Z");
        assert_eq!(format_clock(SEED_MS as f64, 0), "17:32:23");
        assert_eq!(format_clock(SEED_MS as f64, 60), "18:32:23");
        assert_eq!(format_clock(SEED_MS as f64, -18 * 60), "23:32:23");
        assert_eq!(format_clock(f64::NAN, 0), "--:--:--");
    }
}
