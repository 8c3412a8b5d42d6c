//! The health status of a stream and the rules that derive it.
//!
//! The stats service reports a status word itself; we trust it when we know
//! the word. When the word is missing or new to us, the same thresholds the
//! service documents are applied to the absolute deviation, so a stream that
//! drifts 1.2 s behind its rolling average is poor whether it lags or leads.

/// Deviation from the rolling average up to which a stream is `excellent`.
pub const EXCELLENT_MAX_MS: f64 = 500.0;
/// Deviation from the rolling average up to which a stream is `good`.
pub const GOOD_MAX_MS: f64 = 1000.0;

/// The health of a live stream, as the widget shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// |deviation| <= 500 ms.
    Excellent,
    /// 500 ms < |deviation| <= 1 s.
    Good,
    /// |deviation| > 1 s: the encoder is falling behind real time.
    Poor,
    /// No data for a few minutes, or the stream is not live.
    #[default]
    Unknown,
}

impl Status {
    /// Every status, best first.
    pub const ALL: [Status; 4] = [
        Status::Excellent,
        Status::Good,
        Status::Poor,
        Status::Unknown,
    ];

    /// The word used on the wire, in `data-status` and in CSS class names.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Excellent => "excellent",
            Status::Good => "good",
            Status::Poor => "poor",
            Status::Unknown => "unknown",
        }
    }

    /// The word shown to people (capitalised).
    pub fn label(self) -> &'static str {
        match self {
            Status::Excellent => "Excellent",
            Status::Good => "Good",
            Status::Poor => "Poor",
            Status::Unknown => "Unknown",
        }
    }

    /// Parses a status word exactly as the service sends it.
    pub fn from_wire(word: &str) -> Option<Status> {
        match word {
            "excellent" => Some(Status::Excellent),
            "good" => Some(Status::Good),
            "poor" => Some(Status::Poor),
            "unknown" => Some(Status::Unknown),
            _ => None,
        }
    }

    /// Applies the documented thresholds to a deviation in milliseconds.
    /// Exactly 500 ms is still excellent and exactly 1 s still good; a
    /// non-finite value says nothing, so it is unknown.
    pub fn from_deviation_ms(deviation_ms: f64) -> Status {
        if !deviation_ms.is_finite() {
            return Status::Unknown;
        }
        let magnitude = deviation_ms.abs();
        if magnitude <= EXCELLENT_MAX_MS {
            Status::Excellent
        } else if magnitude <= GOOD_MAX_MS {
            Status::Good
        } else {
            Status::Poor
        }
    }

    /// The status for a report: the service's word when we know it, else the
    /// thresholds on the deviation when there is one, else unknown.
    pub fn resolve(wire_word: Option<&str>, deviation_ms: Option<f64>) -> Status {
        match wire_word.and_then(Status::from_wire) {
            Some(status) => status,
            None => deviation_ms.map_or(Status::Unknown, Status::from_deviation_ms),
        }
    }

    /// Higher is worse; unknown ranks between good and poor for alerting,
    /// since it means "we cannot see the stream", not "the stream is bad".
    pub fn severity(self) -> u8 {
        match self {
            Status::Excellent => 0,
            Status::Good => 1,
            Status::Unknown => 2,
            Status::Poor => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_at_500_and_1000() {
        let cases = [
            (0.0, Status::Excellent),
            (12.0, Status::Excellent),
            (500.0, Status::Excellent),
            (500.001, Status::Good),
            (999.0, Status::Good),
            (1000.0, Status::Good),
            (1000.5, Status::Poor),
            (60_000.0, Status::Poor),
        ];
        for (deviation, expected) in cases {
            assert_eq!(
                Status::from_deviation_ms(deviation),
                expected,
                "{deviation}"
            );
        }
    }

    #[test]
    fn negative_deviations_use_their_magnitude() {
        assert_eq!(Status::from_deviation_ms(-500.0), Status::Excellent);
        assert_eq!(Status::from_deviation_ms(-501.0), Status::Good);
        assert_eq!(Status::from_deviation_ms(-1000.0), Status::Good);
        assert_eq!(Status::from_deviation_ms(-1001.0), Status::Poor);
    }

    #[test]
    fn non_finite_deviation_is_unknown() {
        assert_eq!(Status::from_deviation_ms(f64::NAN), Status::Unknown);
        assert_eq!(Status::from_deviation_ms(f64::INFINITY), Status::Unknown);
    }

    #[test]
    fn wire_words_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_wire(status.as_str()), Some(status));
        }
        assert_eq!(Status::from_wire("Excellent"), None);
        assert_eq!(Status::from_wire(""), None);
    }

    #[test]
    fn known_word_wins_over_thresholds() {
        assert_eq!(Status::resolve(Some("poor"), Some(10.0)), Status::Poor);
        assert_eq!(
            Status::resolve(Some("unknown"), Some(10.0)),
            Status::Unknown
        );
    }

    #[test]
    fn unknown_word_falls_back_to_deviation_then_unknown() {
        assert_eq!(
            Status::resolve(Some("marvellous"), Some(700.0)),
            Status::Good
        );
        assert_eq!(
            Status::resolve(Some("marvellous"), Some(-1500.0)),
            Status::Poor
        );
        assert_eq!(Status::resolve(None, Some(20.0)), Status::Excellent);
        assert_eq!(Status::resolve(Some("marvellous"), None), Status::Unknown);
        assert_eq!(Status::resolve(None, None), Status::Unknown);
    }
}
