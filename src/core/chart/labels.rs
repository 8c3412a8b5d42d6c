//! Axis and tooltip labels: durations in human units, written with the
//! integer-only number writer.
//!
//! - Axis labels drop a trailing `.0` ("1 s", not "1.0 s") and read
//!   "384 ms", "1.5 s", "10 min", "2 h"; the deviation axis signs positive
//!   values ("+500 ms": behind the rolling average).
//! - Time ticks use one unit for the whole axis, chosen by the tick step, so
//!   "90 min ago" never sits beside "1 h ago".
//! - Tooltip values use [`crate::core::format::format_ms`], the same units as
//!   the live readout; only the tooltip's age ("2 min 5 s ago") is here.
//!
//! Nothing here formats an `f64` with `{}`: see [`crate::core::format`] for
//! why float formatting stays out of the WebAssembly.

use crate::core::format::push_number;

/// `value` with at most one decimal, trailing `.0` dropped.
fn one_decimal(value: f64) -> String {
    let mut out = String::new();
    push_number(&mut out, value);
    out
}

/// An axis label in human units: "384 ms", "1.5 s", "10 min", "2 h".
/// Unlike [`format_ms`](crate::core::format::format_ms) (the live readout, always one decimal in seconds),
/// whole values drop the decimal, so the axis reads "1 s", not "1.0 s".
pub(super) fn duration_label(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".to_owned();
    }
    let sign = if ms < 0.0 && ms.abs().round() > 0.0 {
        "−"
    } else {
        ""
    };
    let abs = ms.abs();
    let body = if abs.round() < 1_000.0 {
        format!("{} ms", abs.round() as u64)
    } else if abs < 60_000.0 {
        format!("{} s", one_decimal(abs / 1_000.0))
    } else if abs < 3_600_000.0 {
        format!("{} min", one_decimal(abs / 60_000.0))
    } else {
        format!("{} h", one_decimal(abs / 3_600_000.0))
    };
    format!("{sign}{body}")
}

/// A time-axis label in one unit for the whole axis, chosen by the tick
/// step, so "90 min" never sits beside "1 h".
pub(super) fn time_label(ago_ms: f64, step_ms: f64) -> String {
    if step_ms < 60_000.0 {
        format!("{} s", one_decimal(ago_ms / 1_000.0))
    } else if step_ms < 3_600_000.0 {
        format!("{} min", one_decimal(ago_ms / 60_000.0))
    } else {
        format!("{} h", one_decimal(ago_ms / 3_600_000.0))
    }
}

/// Like [`duration_label`], with "+" on positive values: deviation reads
/// as ahead of or behind the rolling average.
pub(super) fn signed_duration_label(ms: f64) -> String {
    if ms.is_finite() && ms.round() > 0.0 {
        format!("+{}", duration_label(ms))
    } else {
        duration_label(ms)
    }
}

/// Elapsed time for the tooltip: "just now", "12 s ago", "2 min 5 s ago",
/// "1 h 4 min ago".
pub(super) fn elapsed_label(ms: f64) -> String {
    let seconds = (ms / 1_000.0).floor();
    if !seconds.is_finite() || seconds < 1.0 {
        return "just now".to_owned();
    }
    let seconds = seconds.min(1e9) as u64;
    let (hours, minutes, secs) = (seconds / 3_600, seconds % 3_600 / 60, seconds % 60);
    if hours > 0 {
        format!("{hours} h {minutes} min ago")
    } else if minutes > 0 {
        format!("{minutes} min {secs} s ago")
    } else {
        format!("{secs} s ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_labels_pick_human_units() {
        let cases = [
            (0.0, "0 ms"),
            (384.0, "384 ms"),
            (999.6, "1 s"),
            (1_000.0, "1 s"),
            (1_500.0, "1.5 s"),
            (600_000.0, "10 min"),
            (5_400_000.0, "1.5 h"),
            (-500.0, "−500 ms"),
        ];
        for (ms, expected) in cases {
            assert_eq!(duration_label(ms), expected, "{ms}");
        }
        assert_eq!(signed_duration_label(-0.2), "0 ms");
        assert_eq!(duration_label(f64::NAN), "–");
    }
}
