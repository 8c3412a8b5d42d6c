//! The history chart as SVG markup: the layout of the chart around its plot,
//! the plot's content (bands, grid, series, gaps, axes, status strip) and
//! the hover cursor, each as one string.
//!
//! [`crate::core::chart`] computes the geometry; this module writes it out.
//! The shell puts each string into its `<g>` with one `inner_html`, instead
//! of building an element per rect, line and label through Leptos; the
//! chart's drawing is the one place where the shell sets markup.
//!
//! Why markup, not a Leptos view per element:
//! - **Nothing to keep.** The plot is redrawn whenever its time axis moves
//!   a column or a sample arrives, and then everything slides left: every
//!   path, rect and label changes, so keyed diffing of a dozen element
//!   lists would buy nothing. Nothing in the drawing holds focus or state
//!   (the SVG element around it does, and stays); one string per redraw is
//!   also a few hundred bytes of WebAssembly instead of a dozen reactive
//!   lists.
//! - **Testable.** The markup is a pure function of the geometry, checked
//!   natively with `cargo test`.
//! - **Safe by construction.** The markup holds only numbers formatted here
//!   (at most one decimal, never an exponent), fixed class names and words
//!   chosen by this crate; every piece of text still goes through
//!   [`crate::core::markup::escape`], so nothing from a response can become
//!   markup.
//!
//! Everything the chart draws keeps its classes and `data-*` hooks
//! (`data-series`, `data-gap`, `data-timeline`, `data-hover`, …): CSS and
//! tests target those, not the element structure.

use crate::core::chart::{hover_readout, time_to_x, ChartGeometry, HoverReadout, MAX_PLOT_PX};
use crate::core::format::push_number;
use crate::core::history::Sample;
use crate::core::markup::escape;

/// Layout width used until the element has been measured.
pub const DEFAULT_VIEW_WIDTH: f64 = 640.0;
/// Room left of the plot for the deviation labels.
pub const MARGIN_LEFT: f64 = 56.0;
/// Room right of the plot for the session-average labels.
pub const MARGIN_RIGHT: f64 = 56.0;
/// Room above the plot.
pub const MARGIN_TOP: f64 = 8.0;
/// Height of the plot area.
pub const PLOT_HEIGHT: f64 = 160.0;
/// The narrowest plot drawn.
pub const MIN_PLOT_WIDTH: f64 = 40.0;
const STRIP_GAP: f64 = 6.0;
const STRIP_HEIGHT: f64 = 8.0;
/// Baseline of the time labels below the strip.
const TIME_LABEL_OFFSET: f64 = 14.0;
/// Height of the whole drawing (viewBox units).
pub const VIEW_HEIGHT: f64 =
    MARGIN_TOP + PLOT_HEIGHT + STRIP_GAP + STRIP_HEIGHT + TIME_LABEL_OFFSET + 8.0;
/// The transform that puts plot coordinates inside the margins
/// (`translate(MARGIN_LEFT MARGIN_TOP)`).
pub const PLOT_TRANSFORM: &str = "translate(56 8)";
const DOT_RADIUS: f64 = 2.5;
const SHADE_HEIGHT: f64 = PLOT_HEIGHT + STRIP_GAP + STRIP_HEIGHT;
const TOOLTIP_WIDTH: f64 = 184.0;
const TOOLTIP_OFFSET: f64 = 10.0;

/// The `viewBox` for a drawing `view_width` units wide.
pub fn view_box(view_width: f64) -> String {
    let mut out = String::from("0 0 ");
    push_number(&mut out, view_width);
    out.push(' ');
    push_number(&mut out, VIEW_HEIGHT);
    out
}

/// The view width for a measured element width in CSS pixels: rounded and
/// clamped, or `None` for unusable readings (a detached or hidden element
/// measures 0).
pub fn view_width_for(measured_px: f64) -> Option<f64> {
    let width = measured_px.round();
    (width.is_finite() && width > 0.0)
        .then(|| width.clamp(MARGIN_LEFT + MARGIN_RIGHT + MIN_PLOT_WIDTH, MAX_PLOT_PX))
}

/// The plot's width inside a view of `view_width`.
pub fn plot_width_for(view_width: f64) -> f64 {
    (view_width - MARGIN_LEFT - MARGIN_RIGHT).max(MIN_PLOT_WIDTH)
}

/// Converts a pointer's client x into plot units. A zero or non-finite box
/// width gives NaN, which [`crate::core::chart::sample_at`] treats as
/// "nothing here".
pub fn plot_x_from_client(client_x: f64, box_left: f64, box_width: f64, view_width: f64) -> f64 {
    if !(box_width.is_finite() && box_width > 0.0) {
        return f64::NAN;
    }
    (client_x - box_left) * (view_width / box_width) - MARGIN_LEFT
}

/// The time at the right edge of a chart `width` units wide over
/// `window_ms`: `now_ms` rounded up to the next whole pixel column.
///
/// One column of a day-long chart is about 100 s, of an hour-long one
/// about 7 s: drawn at the real time, every clock tick would shift the
/// whole chart by a fraction of a pixel and recompute it over the full
/// history for nothing the eye can see. Drawn at this time, the chart (and
/// its hit-testing) only moves when the axis really moves by a column, or
/// when a sample arrives. The right edge is never behind `now_ms`, so the
/// newest sample is always inside the window. Unusable inputs give
/// `now_ms` back unchanged.
pub fn axis_now(now_ms: f64, window_ms: f64, width: f64) -> f64 {
    let column_ms = window_ms / width;
    if !(now_ms.is_finite() && column_ms.is_finite() && column_ms > 0.0) {
        return now_ms;
    }
    (now_ms / column_ms).ceil() * column_ms
}

/// The SVG's `aria-label`: what it shows and how to read it.
pub fn aria_label(window_ms: f64, samples: usize) -> String {
    format!(
        "Stream drift over the last {}: deviation from the rolling average and session \
         average, {samples} samples. Use the left and right arrow keys to read samples.",
        window_label(window_ms)
    )
}

/// "60 min" up to two hours, whole hours beyond.
fn window_label(window_ms: f64) -> String {
    // Saturating float-to-int cast: NaN is 0, huge values are capped.
    let minutes = ((window_ms / 60_000.0).round() as u64).min(1_000_000);
    if minutes >= 120 && minutes.is_multiple_of(60) {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

/// A small writer for SVG elements: `el` opens a tag, the attribute methods
/// add to it, `end`/`open` close the start tag.
struct Markup(String);

impl Markup {
    fn el(&mut self, tag: &str) {
        self.0.push('<');
        self.0.push_str(tag);
    }

    /// ` class="base base--modifier"`, the BEM pair every status-keyed or
    /// series-keyed class here follows.
    fn class_pair(&mut self, base: &str, modifier: &str) {
        self.0.push_str(" class=\"");
        self.0.push_str(base);
        self.0.push(' ');
        self.0.push_str(base);
        self.0.push_str("--");
        escape(&mut self.0, modifier);
        self.0.push('"');
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.0.push(' ');
        self.0.push_str(name);
        self.0.push_str("=\"");
        escape(&mut self.0, value);
        self.0.push('"');
    }

    fn num(&mut self, name: &str, value: f64) {
        self.0.push(' ');
        self.0.push_str(name);
        self.0.push_str("=\"");
        push_number(&mut self.0, value);
        self.0.push('"');
    }

    /// A `<rect>` with its box; the caller adds attributes, then `end`.
    fn rect(&mut self, x: f64, y: f64, width: f64, height: f64) {
        self.el("rect");
        self.num("x", x);
        self.num("y", y);
        self.num("width", width);
        self.num("height", height);
    }

    /// A horizontal `<line>` across the plot at `y`.
    fn hline(&mut self, width: f64, y: f64) {
        self.el("line");
        self.num("x1", 0.0);
        self.num("x2", width);
        self.num("y1", y);
        self.num("y2", y);
    }

    /// A `<text>` element at (x, y) holding `text`, closed.
    fn text(&mut self, x: f64, y: f64, extra: &str, text: &str) {
        self.el("text");
        self.num("x", x);
        self.num("y", y);
        self.0.push_str(extra);
        self.open();
        escape(&mut self.0, text);
        self.close("text");
    }

    /// Closes an empty element.
    fn end(&mut self) {
        self.0.push_str("/>");
    }

    /// Closes a start tag whose content follows.
    fn open(&mut self) {
        self.0.push('>');
    }

    fn close(&mut self, tag: &str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
    }

    /// `<g class="…">` with content to follow.
    fn group(&mut self, class: &str) {
        self.el("g");
        self.attr("class", class);
    }
}

/// The plot's content, in plot coordinates (the shell wraps it in a group
/// with [`PLOT_TRANSFORM`]): threshold bands, grid, zero line, gaps, both
/// series with their lone dots, both value axes, the status strip
/// (`data-timeline`) and the time axis, in painting order.
pub fn plot_markup(g: &ChartGeometry) -> String {
    let mut m = Markup(String::with_capacity(2048 + 64 * g.timeline.len()));
    let width = g.width;

    m.group("lsh-chart__bands");
    m.open();
    for band in &g.bands {
        m.rect(0.0, band.y, width, band.height);
        m.class_pair("lsh-chart__band", band.status.as_str());
        m.end();
    }
    m.close("g");

    m.group("lsh-chart__grid");
    m.open();
    for tick in &g.deviation_ticks {
        m.hline(width, tick.pos);
        m.end();
    }
    m.close("g");

    m.hline(width, g.zero_y);
    m.attr("class", "lsh-chart__zero");
    m.end();

    m.group("lsh-chart__gaps");
    m.open();
    for gap in &g.gaps {
        m.rect(gap.x, 0.0, gap.width, SHADE_HEIGHT);
        m.class_pair("lsh-chart__gap", gap.kind.as_str());
        m.attr("data-gap", gap.kind.as_str());
        m.end();
    }
    m.close("g");

    for (name, series) in [("session-avg", &g.session_avg), ("deviation", &g.deviation)] {
        m.el("path");
        m.class_pair("lsh-chart__line", name);
        m.attr("data-series", name);
        m.attr("d", &series.path);
        m.end();
    }
    for (name, series) in [("session-avg", &g.session_avg), ("deviation", &g.deviation)] {
        m.el("g");
        m.class_pair("lsh-chart__dots", name);
        m.open();
        for dot in &series.dots {
            m.el("circle");
            m.num("cx", dot.x);
            m.num("cy", dot.y);
            m.num("r", DOT_RADIUS);
            m.end();
        }
        m.close("g");
    }

    m.el("g");
    m.class_pair("lsh-chart__axis", "deviation");
    m.attr("text-anchor", "end");
    m.open();
    for tick in &g.deviation_ticks {
        m.text(-6.0, tick.pos, " dy=\"0.32em\"", &tick.label);
    }
    m.close("g");

    m.el("g");
    m.class_pair("lsh-chart__axis", "session-avg");
    m.attr("text-anchor", "start");
    m.open();
    for tick in &g.session_avg_ticks {
        m.text(width + 6.0, tick.pos, " dy=\"0.32em\"", &tick.label);
    }
    m.close("g");

    let strip_y = PLOT_HEIGHT + STRIP_GAP;
    m.group("lsh-chart__timeline");
    m.0.push_str(" data-timeline=\"\" transform=\"translate(0 ");
    push_number(&mut m.0, strip_y);
    m.0.push_str(")\"");
    m.open();
    m.rect(0.0, 0.0, width, STRIP_HEIGHT);
    m.attr("class", "lsh-chart__track");
    m.end();
    for segment in &g.timeline {
        m.rect(segment.x, 0.0, segment.width, STRIP_HEIGHT);
        m.class_pair("lsh-chart__segment", segment.status.as_str());
        m.attr("data-status", segment.status.as_str());
        m.end();
    }
    m.close("g");

    m.el("g");
    m.class_pair("lsh-chart__axis", "time");
    m.attr("text-anchor", "middle");
    m.open();
    let label_y = strip_y + STRIP_HEIGHT + TIME_LABEL_OFFSET;
    for tick in &g.time_ticks {
        m.text(tick.pos, label_y, "", &tick.label);
    }
    m.close("g");
    m.0
}

/// Width of the compact layout's sparkline, in viewBox units.
pub const SPARK_WIDTH: f64 = 300.0;
/// Height of the sparkline, in viewBox units.
pub const SPARK_HEIGHT: f64 = 40.0;

/// The compact layout's sparkline: threshold bands, gaps and the deviation
/// line, no text. Drawn in a `SPARK_WIDTH` × `SPARK_HEIGHT` viewBox that the
/// shell stretches to whatever room the dock leaves (no text to distort;
/// the line keeps its width with `vector-effect: non-scaling-stroke`).
pub fn sparkline_markup(g: &ChartGeometry) -> String {
    let mut m = Markup(String::with_capacity(512 + 16 * g.gaps.len()));
    for band in &g.bands {
        m.rect(0.0, band.y, g.width, band.height);
        m.class_pair("lsh-chart__band", band.status.as_str());
        m.end();
    }
    for gap in &g.gaps {
        m.rect(gap.x, 0.0, gap.width, g.height);
        m.class_pair("lsh-chart__gap", gap.kind.as_str());
        m.attr("data-gap", gap.kind.as_str());
        m.end();
    }
    m.el("path");
    m.class_pair("lsh-chart__line", "deviation");
    m.attr("data-series", "deviation");
    m.attr("d", &g.deviation.path);
    m.end();
    for dot in &g.deviation.dots {
        m.el("circle");
        m.attr("class", "lsh-spark__dot");
        m.num("cx", dot.x);
        m.num("cy", dot.y);
        m.num("r", 1.5);
        m.end();
    }
    m.0
}

/// Where the cursor is drawn, derived from the remembered sample.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverMark {
    /// The rule's x (plot units).
    pub x: f64,
    /// The deviation marker's y, when the sample has a deviation.
    pub deviation_y: Option<f64>,
    /// The session-average marker's y, when the sample has one.
    pub session_avg_y: Option<f64>,
    /// Local wall-clock time the sample arrived ("14:03:21").
    pub clock: String,
    /// The tooltip's text.
    pub readout: HoverReadout,
}

/// The cursor for `sample`, or `None` once it has left the window.
/// `axis_ms` is the time at the chart's right edge (see [`axis_now`]),
/// `now_ms` the clock for "2 min ago"; `clock` is the sample's local time
/// of day, which only the browser knows.
pub fn hover_mark(
    sample: &Sample,
    axis_ms: f64,
    now_ms: f64,
    window_ms: f64,
    plot_width: f64,
    geometry: &ChartGeometry,
    clock: String,
) -> Option<HoverMark> {
    let left = axis_ms - window_ms;
    if sample.received_ms.is_nan() || left.is_nan() || sample.received_ms < left {
        return None;
    }
    let finite = |value: Option<f64>| value.filter(|v| v.is_finite());
    Some(HoverMark {
        x: time_to_x(axis_ms, window_ms, plot_width, sample.received_ms),
        deviation_y: finite(sample.deviation_ms).map(|v| geometry.deviation_y(v)),
        session_avg_y: finite(sample.session_avg_ms).map(|v| geometry.session_avg_y(v)),
        clock,
        readout: hover_readout(sample, now_ms),
    })
}

/// The tooltip's left edge (plot units): right of the rule, or left of it
/// when it would run past the right margin.
fn tooltip_x(rule_x: f64, plot_width: f64) -> f64 {
    let right = rule_x + TOOLTIP_OFFSET;
    if right + TOOLTIP_WIDTH <= plot_width + MARGIN_RIGHT {
        right
    } else {
        (rule_x - TOOLTIP_OFFSET - TOOLTIP_WIDTH).max(-MARGIN_LEFT)
    }
}

/// The cursor in plot coordinates: a vertical rule, markers on both series
/// and the tooltip, in `<g data-hover data-status="…">`. Empty without a
/// mark.
pub fn hover_markup(mark: Option<&HoverMark>, plot_width: f64) -> String {
    let Some(mark) = mark else {
        return String::new();
    };
    let status = mark.readout.status.as_str();
    let mut m = Markup(String::with_capacity(768));
    m.group("lsh-chart__hover");
    m.attr("data-hover", "");
    m.attr("data-status", status);
    m.open();
    m.el("line");
    m.attr("class", "lsh-chart__rule");
    m.num("x1", mark.x);
    m.num("x2", mark.x);
    m.num("y1", 0.0);
    m.num("y2", SHADE_HEIGHT);
    m.end();
    for (name, y) in [
        ("session-avg", mark.session_avg_y),
        ("deviation", mark.deviation_y),
    ] {
        if let Some(y) = y {
            m.el("circle");
            m.class_pair("lsh-chart__marker", name);
            m.num("cx", mark.x);
            m.num("cy", y);
            m.attr("r", "4");
            m.end();
        }
    }
    m.group("lsh-chart__tooltip");
    m.0.push_str(" transform=\"translate(");
    push_number(&mut m.0, tooltip_x(mark.x, plot_width));
    m.0.push_str(" 4)\"");
    m.open();
    m.el("rect");
    m.class_pair("lsh-chart__tip", status);
    m.0.push_str(" width=\"184\" height=\"58\" rx=\"4\"");
    m.end();
    let readout = &mark.readout;
    let heading = format!("{} ({})", mark.clock, readout.when);
    m.text(
        8.0,
        16.0,
        " class=\"lsh-chart__tip-when\" data-hover-when=\"\"",
        &heading,
    );
    let deviation = format!("Deviation {}", readout.deviation);
    m.text(8.0, 33.0, " data-hover-deviation=\"\"", &deviation);
    let session_avg = format!("Session avg {}", readout.session_avg);
    m.text(8.0, 50.0, " data-hover-session-avg=\"\"", &session_avg);
    m.close("g");
    m.close("g");
    m.0
}

/// The readout as one sentence for screen readers.
pub fn spoken(mark: &HoverMark) -> String {
    let readout = &mark.readout;
    format!(
        "{}, {}: {}, deviation {}, session average {}",
        mark.clock,
        readout.when,
        readout.status.label(),
        readout.deviation,
        readout.session_avg
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::chart::{chart_geometry, ChartFrame};
    use crate::core::history::History;
    use crate::core::status::Status;

    const NOW: f64 = 1_700_000_000_000.0;
    const HOUR: f64 = 3_600_000.0;

    fn sample(received_ms: f64, deviation_ms: Option<f64>) -> Sample {
        Sample {
            received_ms,
            updated_at_ms: None,
            session_avg_ms: Some(384.0),
            deviation_ms,
            status: deviation_ms.map_or(Status::Unknown, Status::from_deviation_ms),
        }
    }

    fn geometry_of(history: &History) -> ChartGeometry {
        chart_geometry(
            history,
            &ChartFrame {
                now_ms: NOW,
                window_ms: HOUR,
                width: 600.0,
                height: PLOT_HEIGHT,
                interval_ms: 5_000.0,
            },
        )
    }

    /// Every start tag with its name, in order.
    fn tags(markup: &str) -> Vec<&str> {
        markup
            .split('<')
            .skip(1)
            .filter(|t| !t.starts_with('/'))
            .map(|t| t.split([' ', '>', '/']).next().unwrap_or(""))
            .collect()
    }

    #[test]
    fn layout_constants_agree() {
        assert_eq!(VIEW_HEIGHT, 204.0);
        assert_eq!(PLOT_TRANSFORM, "translate(56 8)");
        assert_eq!(view_box(640.0), "0 0 640 204");
        assert_eq!(view_box(DEFAULT_VIEW_WIDTH), "0 0 640 204");
    }

    #[test]
    fn measured_widths_are_rounded_clamped_or_ignored() {
        assert_eq!(view_width_for(640.4), Some(640.0));
        assert_eq!(view_width_for(20.0), Some(152.0));
        assert_eq!(view_width_for(1e9), Some(MAX_PLOT_PX));
        assert_eq!(view_width_for(0.0), None);
        assert_eq!(view_width_for(f64::NAN), None);
        assert_eq!(plot_width_for(640.0), 528.0);
        assert_eq!(plot_width_for(100.0), MIN_PLOT_WIDTH);
    }

    #[test]
    fn pointer_positions_map_to_plot_units() {
        // A 640-unit view drawn 320 px wide: one pixel is two units.
        assert_eq!(plot_x_from_client(100.0, 10.0, 320.0, 640.0), 124.0);
        assert!(plot_x_from_client(100.0, 10.0, 0.0, 640.0).is_nan());
        assert!(plot_x_from_client(100.0, 10.0, f64::NAN, 640.0).is_nan());
    }

    #[test]
    fn the_axis_moves_by_whole_columns_and_never_lags_the_clock() {
        // An hour over 600 columns: 6 s a column.
        let at = 1_700_000_001_000.0;
        let axis = axis_now(at, HOUR, 600.0);
        assert!(axis >= at && axis - at < 6_000.0, "{axis}");
        // Every tick within one column draws at the same time.
        for tick in 0..5 {
            let now = axis - 5_500.0 + f64::from(tick) * 1_000.0;
            assert_eq!(axis_now(now, HOUR, 600.0), axis, "tick {tick}");
        }
        assert_eq!(axis_now(axis + 1.0, HOUR, 600.0), axis + 6_000.0);
        // A day over 888 columns moves about every 97 s.
        let day = 24.0 * HOUR;
        assert_eq!(
            axis_now(at, day, 888.0),
            axis_now(at + 60_000.0, day, 888.0)
        );
        for (window, width) in [(HOUR, 0.0), (f64::NAN, 600.0), (-HOUR, 600.0)] {
            assert_eq!(axis_now(at, window, width), at);
        }
        assert!(axis_now(f64::NAN, HOUR, 600.0).is_nan());
    }

    #[test]
    fn aria_label_names_the_window_and_count() {
        let label = aria_label(HOUR, 3);
        assert!(
            label.starts_with("Stream drift over the last 60 min:"),
            "{label}"
        );
        assert!(label.contains(", 3 samples."), "{label}");
        assert!(aria_label(24.0 * HOUR, 0).contains("last 24 h:"));
        assert!(aria_label(90.0 * 60_000.0, 0).contains("last 90 min:"));
        assert!(aria_label(f64::NAN, 0).contains("last 0 min:"));
    }

    #[test]
    fn plot_markup_draws_every_part_in_order() {
        let mut history = History::with_capacity(HOUR, 100);
        history.push(sample(NOW - 10_000.0, Some(100.0)));
        history.push(sample(NOW - 5_000.0, Some(1_500.0)));
        history.mark_gap(NOW - 2_000.0);
        let geometry = geometry_of(&history);
        let markup = plot_markup(&geometry);
        assert_eq!(
            markup
                .matches("class=\"lsh-chart__band lsh-chart__band--")
                .count(),
            5
        );
        assert!(markup.contains("class=\"lsh-chart__band lsh-chart__band--excellent\""));
        assert!(markup.contains("data-series=\"deviation\" d=\"M"));
        assert!(markup.contains("data-series=\"session-avg\" d=\"M"));
        assert!(markup.contains("data-gap=\"outage\""));
        assert!(markup.contains("data-timeline=\"\""));
        assert!(markup.contains("data-status=\"poor\""));
        assert!(markup.contains(">+1.5 s</text>"));
        assert!(markup.contains(">now</text>"));
        let order: Vec<&str> = tags(&markup)
            .into_iter()
            .filter(|t| *t == "g" || *t == "path")
            .collect();
        assert_eq!(
            order,
            ["g", "g", "g", "path", "path", "g", "g", "g", "g", "g", "g"]
        );
    }

    #[test]
    fn plot_markup_is_balanced_and_numbers_are_short() {
        let mut history = History::with_capacity(HOUR, 1_000);
        for i in 0..300 {
            let value = (f64::from(i) * 37.77).sin() * 2_000.0;
            history.push(sample(NOW - f64::from(299 - i) * 3_333.3, Some(value)));
        }
        let markup = plot_markup(&geometry_of(&history));
        let opened = tags(&markup).len();
        let closed = markup.matches("/>").count() + markup.matches("</").count();
        assert_eq!(opened, closed, "every element is closed");
        for value in markup.split('"').skip(1).step_by(2) {
            if value.starts_with(|c: char| c.is_ascii_digit() || c == '-') && value != "0.32em" {
                assert!(!value.contains(['e', 'E']), "{value}");
                let decimals = value.split('.').nth(1).map_or(0, str::len);
                assert!(decimals <= 1, "{value}");
            }
        }
    }

    #[test]
    fn empty_geometry_still_draws_axes() {
        let markup = plot_markup(&geometry_of(&History::new(60)));
        assert!(markup.contains("data-series=\"deviation\" d=\"\""));
        assert!(markup.contains(">60 min ago</text>"));
        assert!(!markup.contains("<circle"));
    }

    #[test]
    fn hover_markup_shows_the_readout() {
        let mut history = History::with_capacity(HOUR, 100);
        let hovered = sample(NOW - 125_000.0, Some(-1_234.0));
        history.push(hovered);
        let geometry = geometry_of(&history);
        let mark = hover_mark(
            &hovered,
            NOW,
            NOW,
            HOUR,
            600.0,
            &geometry,
            "14:03:21".into(),
        );
        let Some(mark) = mark else {
            panic!("the sample is in the window");
        };
        let markup = hover_markup(Some(&mark), 600.0);
        assert!(markup
            .starts_with("<g class=\"lsh-chart__hover\" data-hover=\"\" data-status=\"poor\">"));
        assert!(markup.contains(">14:03:21 (2 min 5 s ago)</text>"));
        assert!(markup.contains(">Deviation −1.2 s</text>"));
        assert!(markup.contains(">Session avg 384 ms</text>"));
        assert_eq!(markup.matches("<circle").count(), 2);
        assert_eq!(
            spoken(&mark),
            "14:03:21, 2 min 5 s ago: Poor, deviation −1.2 s, session average 384 ms"
        );
        assert_eq!(hover_markup(None, 600.0), "");
    }

    #[test]
    fn hover_text_is_escaped() {
        let mut history = History::with_capacity(HOUR, 100);
        let hovered = sample(NOW, None);
        history.push(hovered);
        let geometry = geometry_of(&history);
        let mark = hover_mark(&hovered, NOW, NOW, HOUR, 600.0, &geometry, "<b>".into());
        let markup = hover_markup(mark.as_ref(), 600.0);
        assert!(markup.contains("&lt;b&gt; (just now)"), "{markup}");
        assert!(!markup.contains("<b>"));
        assert_eq!(markup.matches("<circle").count(), 1, "no deviation marker");
    }

    #[test]
    fn the_cursor_leaves_with_its_sample_and_the_tooltip_stays_inside() {
        let geometry = geometry_of(&History::new(60));
        let old = sample(NOW - 2.0 * HOUR, Some(1.0));
        assert_eq!(
            hover_mark(&old, NOW, NOW, HOUR, 600.0, &geometry, String::new()),
            None
        );
        assert_eq!(tooltip_x(100.0, 600.0), 110.0);
        assert_eq!(tooltip_x(600.0, 600.0), 406.0);
        assert_eq!(tooltip_x(100.0, 40.0), -56.0);
    }

    #[test]
    fn the_sparkline_has_bands_and_the_deviation_line_but_no_text() {
        use crate::core::chart::{chart_geometry, ChartFrame};
        use crate::core::history::{History, Sample};
        use crate::core::status::Status;
        let mut history = History::new(10);
        for second in 0..30 {
            history.push(Sample {
                received_ms: f64::from(second) * 5000.0,
                updated_at_ms: Some(i64::from(second)),
                session_avg_ms: Some(10.0),
                deviation_ms: Some(f64::from(second) * 50.0),
                status: Status::Excellent,
            });
        }
        let frame = ChartFrame {
            now_ms: 150_000.0,
            window_ms: history.window_ms(),
            width: SPARK_WIDTH,
            height: SPARK_HEIGHT,
            interval_ms: 5000.0,
        };
        let markup = sparkline_markup(&chart_geometry(&history, &frame));
        assert_eq!(markup.matches("<rect").count(), 5, "{markup}");
        assert!(markup.contains("data-series=\"deviation\""));
        assert!(!markup.contains("<text"));
        assert!(!markup.contains("session-avg"));
    }
}
