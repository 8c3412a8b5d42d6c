//! Small numeric helpers shared by the chart and the host protocol.
//!
//! They exist for the WebAssembly's size rather than for arithmetic:
//! `f64::clamp` checks `lo <= hi` and panics with both bounds
//! `Debug`-printed, and that one panic message links all of Rust's float
//! formatting into the bundle. Call sites whose bounds are only known at
//! run time (sanitised plot sizes, axis extents, a host's interval) clamp
//! with [`within`] instead; bounds that are constants may keep `clamp`, the
//! compiler proves those checks away.

/// `value.clamp(lo, hi)` for bounds only known at run time (NaN stays NaN).
/// Callers pass bounds they have already sanitised, so `lo <= hi` is not
/// checked.
pub fn within(value: f64, lo: f64, hi: f64) -> f64 {
    if value < lo {
        lo
    } else if value > hi {
        hi
    } else {
        value
    }
}

/// The value, if there is one and it is finite: the chart treats NaN and
/// infinities in a sample like a missing metric.
#[inline(always)]
pub fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_clamps_and_keeps_nan() {
        assert_eq!(within(-1.0, 0.0, 10.0), 0.0);
        assert_eq!(within(11.0, 0.0, 10.0), 10.0);
        assert_eq!(within(5.5, 0.0, 10.0), 5.5);
        assert!(within(f64::NAN, 0.0, 10.0).is_nan());
        assert_eq!(finite(Some(f64::INFINITY)), None);
        assert_eq!(finite(Some(f64::NAN)), None);
        assert_eq!(finite(Some(-2.0)), Some(-2.0));
    }
}
