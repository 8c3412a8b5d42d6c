//! Human units for the numbers the widget shows.
//!
//! Streamers read drift in milliseconds below a second and in seconds with
//! one decimal above (`384 ms`, `1.2 s`); ages and countdowns read in the
//! largest unit that keeps them short (`4 s`, `3 min`, `1 h 05 min`).
//!
//! Every number is written with integer arithmetic: Rust's float formatting
//! (`{}` or `{:.1}` on an `f64`) brings tens of kilobytes of WebAssembly
//! (Grisu, Dragon4 and their tables), more than the rest of the core.
//! Rounding is half away from zero on the value itself, so 1250 ms reads
//! `1.3 s`.

/// The minus sign used for negative values (U+2212 reads better than `-`).
const MINUS: char = '\u{2212}';

/// Appends a whole number in decimal. Written by hand rather than with
/// `write!`: the history chart and the stored history write tens of
/// thousands of them, and this is several times faster than going through
/// `core::fmt`.
pub fn push_integer(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut magnitude = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 || start == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Appends `value` rounded to one decimal, without an exponent or `-0`;
/// integer arithmetic only, so no float formatting code reaches the
/// WebAssembly. Non-finite values write `0`. The chart's path data and axis
/// labels are written with it.
pub fn push_number(out: &mut String, value: f64) {
    let tenths = (value * 10.0).round();
    let tenths = if tenths.is_finite() {
        tenths.clamp(-1e12, 1e12) as i64
    } else {
        0
    };
    if tenths < 0 {
        out.push('-');
    }
    let magnitude = tenths.unsigned_abs();
    push_integer(out, (magnitude / 10) as i64);
    if magnitude % 10 != 0 {
        out.push('.');
        out.push(char::from(b'0' + (magnitude % 10) as u8));
    }
}

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
        let tenths = (magnitude / 100.0).round() as u64;
        format!("{sign}{}.{} s", tenths / 10, tenths % 10)
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

/// Writes a value for a machine-readable attribute such as `data-value`:
/// a plain decimal (`12`, `-1500`, `12.5`) rounded to three decimals, with
/// no exponent, no trailing zeros and no `-0`. From 2^53 on every `f64` is
/// a whole number, and it is written out in full. Non-finite values give an
/// empty string.
pub fn format_value(value: f64) -> String {
    let mut out = String::new();
    if !value.is_finite() {
        return out;
    }
    let magnitude = value.abs();
    if magnitude < 9_007_199_254_740_992.0 {
        // Below 2^53, thousandths fit in a u64 with room to spare.
        let thousandths = (magnitude * 1000.0).round() as u64;
        if value < 0.0 && thousandths != 0 {
            out.push('-');
        }
        out.push_str(&(thousandths / 1000).to_string());
        let mut fraction = thousandths % 1000;
        if fraction != 0 {
            let mut digits = 3;
            while fraction.is_multiple_of(10) {
                fraction /= 10;
                digits -= 1;
            }
            out.push_str(&format!(".{fraction:0digits$}"));
        }
    } else {
        if value < 0.0 {
            out.push('-');
        }
        push_whole(&mut out, magnitude);
    }
    out
}

/// Writes a whole, finite, non-negative `f64` exactly, digit for digit.
fn push_whole(out: &mut String, whole: f64) {
    const LIMB: u64 = 1_000_000_000;
    let bits = whole.to_bits();
    // whole = mantissa × 2^shift, with shift ≥ 0 for whole numbers ≥ 2^52.
    let shift = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    if shift <= 10 {
        // Fits in a u64 (mantissa < 2^53, so the product is < 2^64).
        out.push_str(&(mantissa << shift.max(0)).to_string());
        return;
    }
    // Base 10^9 limbs, least significant first, doubled `shift` times.
    let mut limbs = vec![
        mantissa % LIMB,
        mantissa / LIMB % LIMB,
        mantissa / (LIMB * LIMB),
    ];
    for _ in 0..shift {
        let mut carry = 0;
        for limb in &mut limbs {
            let doubled = *limb * 2 + carry;
            *limb = doubled % LIMB;
            carry = doubled / LIMB;
        }
        if carry != 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut rest = limbs.iter().rev();
    if let Some(top) = rest.next() {
        out.push_str(&top.to_string());
    }
    for limb in rest {
        out.push_str(&format!("{limb:09}"));
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn whole_numbers_are_written_like_display() {
        for value in [
            0,
            7,
            -7,
            10,
            99,
            100,
            -1_000_001,
            1_700_000_000_000,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = String::from("x");
            push_integer(&mut out, value);
            assert_eq!(out, format!("x{value}"));
        }
    }

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
            (1_250.0, "1.3 s"),
            (-1_449.0, "\u{2212}1.4 s"),
            (1_450.0, "1.5 s"),
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

    #[test]
    fn values_are_plain_decimals() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (-0.0001, "0"),
            (12.0, "12"),
            (-1500.0, "-1500"),
            (384.0, "384"),
            (12.5, "12.5"),
            (0.125, "0.125"),
            (-7.05, "-7.05"),
            (1.0e-7, "0"),
            (1_234_567.891_5, "1234567.892"),
            (-5e15, "-5000000000000000"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (1.8e19, "18000000000000000000"),
            (f64::MAX, "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368"),
            (f64::NAN, ""),
            (f64::INFINITY, ""),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(value), expected, "{value}");
        }
        // Whole numbers read back as the same f64.
        for value in [1e17, 1e21, 1e300, -5e15, 123_456_789_012.0] {
            assert_eq!(format_value(value).parse::<f64>().ok(), Some(value));
        }
    }
}
