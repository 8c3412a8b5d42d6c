//! Human units for the numbers the widget shows.
//!
//! Streamers read drift in milliseconds below a second and in seconds with
//! one decimal above (`384 ms`, `1.2 s`); ages and countdowns read in the
//! largest unit that keeps them short (`4 s`, `3 min`, `1 h 05 min`).

/// The minus sign used for negative values (U+2212 reads better than `-`).
const MINUS: char = '\u{2212}';

/// Formats a drift in milliseconds: `384 ms`, `-12 ms`, `1.2 s`, `75 s`,
/// `12 min`. Non-finite values format as an em dash.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "\u{2014}".into();
    }
    let sign = if ms < 0.0 && ms.abs() >= 0.5 {
        MINUS.to_string()
    } else {
        String::new()
    };
    let magnitude = ms.abs();
    if magnitude < 999.5 {
        format!("{sign}{} ms", magnitude.round() as u64)
    } else if magnitude < 9_950.0 {
        format!("{sign}{:.1} s", magnitude / 1000.0)
    } else if magnitude < 99_500.0 {
        format!("{sign}{} s", (magnitude / 1000.0).round() as u64)
    } else if magnitude < 1.0e15 {
        format!("{sign}{} min", (magnitude / 60_000.0).round() as u64)
    } else {
        format!("{sign}\u{221e}")
    }
}

/// Formats a duration in whole seconds for "updated 4 s ago" and countdowns:
/// `0 s`, `59 s`, `3 min`, `1 h 05 min`, `2 d 3 h`.
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "0 s".into();
    }
    let seconds = seconds.floor() as u64;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min", seconds / 60),
        3600..=86_399 => format!("{} h {:02} min", seconds / 3600, seconds / 60 % 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_reads_in_ms_then_seconds() {
        let cases = [
            (0.0, "0 ms"),
            (384.0, "384 ms"),
            (12.4, "12 ms"),
            (-12.0, "\u{2212}12 ms"),
            (-0.2, "0 ms"),
            (999.0, "999 ms"),
            (999.6, "1.0 s"),
            (1200.0, "1.2 s"),
            (-1500.0, "\u{2212}1.5 s"),
            (9_940.0, "9.9 s"),
            (12_345.0, "12 s"),
            (600_000.0, "10 min"),
            (1e300, "\u{221e}"),
            (f64::NAN, "\u{2014}"),
        ];
        for (ms, expected) in cases {
            assert_eq!(format_ms(ms), expected, "{ms}");
        }
    }

    #[test]
    fn durations_read_in_the_largest_short_unit() {
        let cases = [
            (-3.0, "0 s"),
            (0.4, "0 s"),
            (4.9, "4 s"),
            (59.0, "59 s"),
            (60.0, "1 min"),
            (3599.0, "59 min"),
            (3900.0, "1 h 05 min"),
            (90_000.0, "1 d 1 h"),
            (f64::INFINITY, "0 s"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(format_duration(seconds), expected, "{seconds}");
        }
    }
}
