//! What the views draw that is not a rule of the domain: the shapes of the
//! status icon, the three metrics with their labels, values and texts,
//! and HTML escaping for the one part of the page written as markup (the
//! chart's drawing, see [`crate::core::chart_svg`]).
//!
//! Everything else the page shows is built by the Leptos views in
//! `src/app/components`, whose text nodes and attributes need no escaping.

use crate::core::format::format_ms;
use crate::core::monitor::View;
use crate::core::status::Status;
use crate::core::trend::Trend;

/// Writes `text` with `&`, `<`, `>` and `"` escaped, safe both as element
/// content and inside a double-quoted attribute.
pub fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The two paths of the 24×24 status icon, `[shape, mark]`: a shape per
/// status, so the status reads without colour (circle, square, triangle),
/// and a mark inside it (tick, bar, exclamation, question mark).
pub fn status_icon(status: Status) -> [&'static str; 2] {
    let shape = match status {
        Status::Poor => "M12 2.5 23 21.5H1Z",
        Status::Good => "M4 4h16v16H4Z",
        Status::Excellent | Status::Unknown => "M12 2a10 10 0 1 0 0.01 0Z",
    };
    let mark = match status {
        Status::Excellent => "M7 12.5l3.2 3.2L17 9",
        Status::Good => "M8 12h8",
        Status::Poor => "M12 9v5.5M12 17.6v.4",
        Status::Unknown => "M9.2 9.3a2.9 2.9 0 1 1 4 2.7c-.8.4-1.2.9-1.2 1.7v.6M12 17.4v.4",
    };
    [shape, mark]
}

/// One of the metrics the page shows, `[data-metric]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Deviation of the drift from its 30-second rolling average.
    Deviation,
    /// The session's average drift.
    SessionAvg,
    /// How fast the session average grows, per minute.
    DriftTrend,
}

impl Metric {
    /// Every metric, in the order shown.
    pub const ALL: [Metric; 3] = [Metric::Deviation, Metric::SessionAvg, Metric::DriftTrend];

    /// The `data-metric` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Deviation => "deviation",
            Metric::SessionAvg => "session-avg",
            Metric::DriftTrend => "drift-trend",
        }
    }

    /// The label in the full layout.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Deviation => "Deviation from 30 s average",
            Metric::SessionAvg => "Session average drift",
            Metric::DriftTrend => "Session average trend",
        }
    }

    /// The label in the compact layout.
    pub fn short_label(self) -> &'static str {
        match self {
            Metric::Deviation => "Deviation",
            Metric::SessionAvg => "Session avg",
            Metric::DriftTrend => "Trend",
        }
    }

    /// The `data-value` in milliseconds (per minute for the trend, whole);
    /// `None` when unknown.
    pub fn value(self, view: &View, trend: Option<&Trend>) -> Option<f64> {
        match self {
            Metric::Deviation => view.deviation_ms,
            Metric::SessionAvg => view.session_avg_ms,
            Metric::DriftTrend => trend.map(|t| t.ms_per_min.round()),
        }
    }

    /// The value as shown ("384 ms", "+120 ms /min", an em dash when
    /// unknown).
    pub fn text(self, view: &View, trend: Option<&Trend>) -> String {
        match self {
            Metric::Deviation => view.deviation_text.clone(),
            Metric::SessionAvg => view.session_avg_text.clone(),
            Metric::DriftTrend => trend_text(trend),
        }
    }
}

/// The drift trend as shown: "+120 ms /min", or an em dash when unknown.
pub fn trend_text(trend: Option<&Trend>) -> String {
    match trend {
        Some(Trend { ms_per_min, .. }) => {
            let sign = if *ms_per_min >= 0.5 { "+" } else { "" };
            format!("{sign}{} /min", format_ms(*ms_per_min))
        }
        None => "\u{2014}".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        let mut out = String::new();
        escape(&mut out, r#"<img src=x onerror="a&b">"#);
        assert_eq!(out, "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;");
    }

    #[test]
    fn each_status_has_its_own_icon() {
        let icons: Vec<[&str; 2]> = Status::ALL.into_iter().map(status_icon).collect();
        for (i, icon) in icons.iter().enumerate() {
            assert!(icons[i + 1..].iter().all(|other| other != icon));
        }
        assert_eq!(status_icon(Status::Poor)[0], "M12 2.5 23 21.5H1Z");
    }

    #[test]
    fn the_trend_reads_signed_and_rounds_its_value() {
        let trend = Trend {
            ms_per_min: 912.4,
            falling_behind: true,
        };
        assert_eq!(trend_text(Some(&trend)), "+912 ms /min");
        let flat = Trend {
            ms_per_min: -0.2,
            falling_behind: false,
        };
        assert_eq!(trend_text(Some(&flat)), "0 ms /min");
        assert_eq!(trend_text(None), "\u{2014}");
    }

    #[test]
    fn metrics_carry_values_only_when_known() {
        use crate::core::monitor::Monitor;
        use crate::core::params::parse;
        let (config, notices) = parse("", "");
        let view = Monitor::new(config, notices).view(0.0);
        for metric in Metric::ALL {
            assert_eq!(metric.value(&view, None), None, "{metric:?}");
            assert_eq!(metric.text(&view, None), "\u{2014}", "{metric:?}");
        }
        let mut known = view.clone();
        known.deviation_ms = Some(-1500.0);
        known.deviation_text = "\u{2212}1.5 s".into();
        let trend = Trend {
            ms_per_min: 912.4,
            falling_behind: true,
        };
        assert_eq!(Metric::Deviation.value(&known, None), Some(-1500.0));
        assert_eq!(Metric::Deviation.text(&known, None), "\u{2212}1.5 s");
        assert_eq!(Metric::DriftTrend.value(&known, Some(&trend)), Some(912.0));
        assert_eq!(
            Metric::DriftTrend.text(&known, Some(&trend)),
            "+912 ms /min"
        );
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(names, ["deviation", "session-avg", "drift-trend"]);
    }
}
