//! Markup the shell sets with `inner_html`: HTML escaping, the status icon
//! and the list of parameter notices.
//!
//! Parts of the page that are only ever replaced whole (the icon for a
//! status, the notices read once from the URL, the chart in
//! [`crate::core::chart_svg`]) are written here as strings instead of
//! Leptos views: each distinct view type costs its own copy of Leptos's
//! build and update code in the WebAssembly, a string costs nothing more.
//! Anything textual goes through [`escape`] (notices repeat parts of the
//! URL, which anyone can write), so markup can only come from this module.

use crate::core::format::{format_ms, format_value};
use crate::core::monitor::{Role, View};
use crate::core::params::Notice;
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

/// The inside of the 24×24 status icon: a shape per status, so the status
/// reads without colour (circle, square, triangle), and a mark inside it.
pub fn status_icon(status: Status) -> String {
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
    format!("<path class=\"lsh-icon-shape\" d=\"{shape}\"/><path class=\"lsh-icon-mark\" d=\"{mark}\"/>")
}

/// The items of the notices list: `<li data-notice="param">message</li>`.
pub fn notice_items(notices: &[Notice]) -> String {
    let mut out = String::new();
    for notice in notices {
        out.push_str("<li data-notice=\"");
        escape(&mut out, &notice.param);
        out.push_str("\">");
        escape(&mut out, &notice.message);
        out.push_str("</li>");
    }
    out
}

/// One metric: `[data-metric]` with its value in milliseconds in
/// `data-value` (absent when unknown), the full and the compact label, and
/// the formatted value. `names` is `[class, data-metric, label, short label]`.
fn metric(out: &mut String, names: [&str; 4], value_ms: Option<f64>, text: &str) {
    let [class, name, label, short] = names;
    out.push_str("<div class=\"");
    out.push_str(class);
    out.push_str("\" data-metric=\"");
    out.push_str(name);
    out.push('"');
    if let Some(value) = value_ms {
        out.push_str(" data-value=\"");
        out.push_str(&format_value(value));
        out.push('"');
    }
    out.push_str("><span class=\"lsh-metric-label lsh-long\">");
    out.push_str(label);
    out.push_str("</span><span class=\"lsh-metric-label lsh-short\" aria-hidden=\"true\">");
    out.push_str(short);
    out.push_str("</span><span class=\"lsh-metric-value\">");
    escape(out, text);
    out.push_str("</span></div>");
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

/// The metrics: deviation, session average and the session average's
/// trend (its value rounded to whole ms per minute).
pub fn metrics(view: &View, trend: Option<&Trend>) -> String {
    let mut out = String::new();
    metric(
        &mut out,
        [
            "lsh-metric",
            "deviation",
            "Deviation from 30 s average",
            "Deviation",
        ],
        view.deviation_ms,
        &view.deviation_text,
    );
    metric(
        &mut out,
        [
            "lsh-metric",
            "session-avg",
            "Session average drift",
            "Session avg",
        ],
        view.session_avg_ms,
        &view.session_avg_text,
    );
    metric(
        &mut out,
        [
            "lsh-metric lsh-trend",
            "drift-trend",
            "Session average trend",
            "Trend",
        ],
        trend.map(|t| t.ms_per_min.round()),
        &trend_text(trend),
    );
    out
}

/// The connection line: state, "updated N s ago" and, while the values
/// are old, a "stale" tag.
pub fn connection(view: &View) -> String {
    let mut out = String::from("<span class=\"lsh-state-text\" data-state-text>");
    escape(&mut out, &view.state_text);
    out.push_str("</span><span class=\"lsh-updated\" data-updated>");
    if let Some(text) = &view.updated_text {
        escape(&mut out, text);
    }
    out.push_str("</span>");
    if view.stale {
        out.push_str("<span class=\"lsh-stale-tag\" data-stale-tag>stale</span>");
    }
    // Who polls for this tab (`data-poller`); a follower says so, or a
    // streamer would wonder why this tab's network panel stays quiet.
    out.push_str("<span class=\"lsh-poller\" data-poller=\"");
    out.push_str(view.role.as_str());
    if view.role == Role::Follower {
        out.push_str(
            "\" title=\"Another tab or dock showing this stream fetches the data and shares \
             it with this one\">shared",
        );
    } else {
        out.push_str("\">");
    }
    out.push_str("</span>");
    out
}

/// What the extras area below the metrics shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extras {
    /// The advice for the current status or state.
    pub advice: &'static str,
    /// The drift keeps growing although the status may look fine.
    pub falling_behind: bool,
    /// Sound alerts are wanted but the browser needs a click first.
    pub sound_locked: bool,
    /// Desktop notifications are wanted but not yet permitted.
    pub notify_needed: bool,
}

/// The extras area: the slow-drift warning, the advice, and the buttons
/// that enable sound and notifications (handled by the widget's click
/// listener through `data-action`).
pub fn extras(extras: &Extras) -> String {
    let mut out = String::new();
    if extras.falling_behind {
        out.push_str("<p class=\"lsh-warning\" data-drift-warning role=\"alert\">");
        escape(&mut out, crate::core::advice::SLOW_DRIFT);
        out.push_str("</p>");
    }
    out.push_str("<p class=\"lsh-advice\" data-advice>");
    escape(&mut out, extras.advice);
    out.push_str("</p>");
    if extras.sound_locked || extras.notify_needed {
        out.push_str("<div class=\"lsh-alerts\" data-alerts>");
        if extras.sound_locked {
            out.push_str("<button type=\"button\" class=\"lsh-button\" data-action=\"enable-sound\">Enable sound alerts</button>");
        }
        if extras.notify_needed {
            out.push_str("<button type=\"button\" class=\"lsh-button\" data-action=\"enable-notifications\">Enable desktop notifications</button>");
        }
        out.push_str("</div>");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn extras_show_warning_advice_and_buttons_only_when_needed() {
        let plain = super::Extras {
            advice: "Nothing to do.",
            falling_behind: false,
            sound_locked: false,
            notify_needed: false,
        };
        assert_eq!(
            super::extras(&plain),
            "<p class=\"lsh-advice\" data-advice>Nothing to do.</p>"
        );
        let all = super::Extras {
            falling_behind: true,
            sound_locked: true,
            notify_needed: true,
            ..plain
        };
        let html = super::extras(&all);
        assert!(html.starts_with("<p class=\"lsh-warning\" data-drift-warning"));
        assert!(html.contains("data-action=\"enable-sound\""));
        assert!(html.contains("data-action=\"enable-notifications\""));
    }

    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        let mut out = String::new();
        escape(&mut out, r#"<img src=x onerror="a&b">"#);
        assert_eq!(out, "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;");
    }

    #[test]
    fn each_status_has_its_own_icon() {
        let icons: Vec<String> = Status::ALL.into_iter().map(status_icon).collect();
        for (i, icon) in icons.iter().enumerate() {
            assert_eq!(icon.matches("<path ").count(), 2);
            assert!(icons[i + 1..].iter().all(|other| other != icon));
        }
        assert!(status_icon(Status::Poor).contains("d=\"M12 2.5 23 21.5H1Z\""));
    }

    #[test]
    fn notices_are_listed_escaped() {
        let notices = [
            Notice {
                param: "interval".into(),
                message: "Ignored interval: not a number. Using 5 s.".into(),
            },
            Notice {
                param: "al\"erts".into(),
                message: "Ignored alerts: <script>".into(),
            },
        ];
        assert_eq!(
            notice_items(&notices),
            "<li data-notice=\"interval\">Ignored interval: not a number. Using 5 s.</li>\
             <li data-notice=\"al&quot;erts\">Ignored alerts: &lt;script&gt;</li>"
        );
        assert_eq!(notice_items(&[]), "");
    }

    #[test]
    fn metrics_carry_values_only_when_known() {
        use crate::core::monitor::Monitor;
        use crate::core::params::parse;
        use crate::core::trend::Trend;
        let (config, notices) = parse("", "");
        let view = Monitor::new(config, notices).view(0.0);
        let html = metrics(&view, None);
        assert_eq!(html.matches("data-metric=").count(), 3, "{html}");
        assert!(
            !html.contains("data-value"),
            "unknown values must be absent: {html}"
        );
        let trend = Trend {
            ms_per_min: 912.4,
            falling_behind: true,
        };
        let mut known = view.clone();
        known.deviation_ms = Some(-1500.0);
        known.deviation_text = "\u{2212}1.5 s".into();
        let html = metrics(&known, Some(&trend));
        assert!(
            html.contains("data-metric=\"deviation\" data-value=\"-1500\""),
            "{html}"
        );
        assert!(
            html.contains("data-metric=\"drift-trend\" data-value=\"912\""),
            "{html}"
        );
        assert!(html.contains("+912 ms /min"), "{html}");
        assert_eq!(trend_text(None), "\u{2014}");
    }

    #[test]
    fn the_connection_line_shows_state_age_and_staleness() {
        use crate::core::monitor::Monitor;
        use crate::core::params::parse;
        let (config, notices) = parse("", "");
        let mut view = Monitor::new(config, notices).view(0.0);
        let html = connection(&view);
        assert!(
            html.contains("data-state-text>Waiting for a token</span>"),
            "{html}"
        );
        assert!(!html.contains("data-stale-tag"));
        view.stale = true;
        view.state_text = "<b>".into();
        let html = connection(&view);
        assert!(html.contains("data-stale-tag>stale"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
    }

    #[test]
    fn the_connection_line_says_who_polls() {
        use crate::core::monitor::Monitor;
        use crate::core::params::parse;
        let (config, notices) = parse("", "");
        let mut view = Monitor::new(config, notices).view(0.0);
        assert!(connection(&view).contains("data-poller=\"solo\"></span>"));
        view.role = Role::Leader;
        assert!(connection(&view).contains("data-poller=\"leader\"></span>"));
        view.role = Role::Follower;
        let html = connection(&view);
        assert!(html.contains("data-poller=\"follower\""), "{html}");
        assert!(html.contains(">shared</span>"), "{html}");
    }
}
