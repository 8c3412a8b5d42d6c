//! Chart geometry: the history ring turned into SVG path strings, bands,
//! ticks, a status strip and gap rectangles, in plot coordinates.
//!
//! Everything here is plain arithmetic on [`History`]; the Leptos component
//! only places the results. Coordinates are plot units with the origin at the
//! top left: `x` runs from `now − window` (0) to `now` (`width`), `y` from the
//! top (0) to the bottom (`height`). The component sizes the plot to the
//! element's real width, so one unit is one CSS pixel.
//!
//! Design decisions:
//! - **Two y scales.** Deviation sits on a symmetric axis around 0 whose
//!   extent is `max(1.5 s, largest |deviation| shown)` rounded up to a nice
//!   number (capped at [`MAX_DEVIATION_EXTENT_MS`]), so the 500 ms and 1 s
//!   thresholds are always visible as bands. The session average has its own
//!   nice range and its own tick labels.
//! - **Never a line across an outage.** A series breaks (a new `M`) at an
//!   [`Entry::Gap`], at a sample whose value is missing or not finite, and
//!   when two consecutive samples are more than
//!   `max(2.5 × interval, 15 s)` apart. Those stretches become gap rectangles
//!   and are absent from the status strip.
//! - **Reduce to the pixels we have.** Points are bucketed per pixel column;
//!   a column keeps the first, lowest, highest and last point of each
//!   continuous piece, in time order, so a one-sample spike survives any
//!   zoom. If several pieces start and end inside one column (outages shorter
//!   than a pixel), the ones in the middle collapse into a vertical min–max
//!   mark at that column. Output is therefore O(width), not O(samples).
//! - **A lone point is a dot.** A piece of exactly one sample cannot be a
//!   line; it is reported in [`SeriesGeometry::dots`] for the shell to draw
//!   as a circle.
//! - **Status strip, step-before.** A sample's status describes the period
//!   since the previous poll, so it covers `[previous sample, sample]` (or
//!   one interval before it after a break). Equal neighbours merge; if the
//!   strip would still hold more segments than pixel columns, it is
//!   rasterised per column keeping the worst status (by
//!   [`Status::severity`]), so a poor blip is never averaged away.
//! - **Inputs are clamped, never trusted.** Non-finite or non-positive sizes
//!   give an empty geometry; a non-finite `now` falls back to the newest
//!   entry; windows, intervals and values are clamped into sane ranges, and
//!   every coordinate is clamped into the plot. Numbers in path strings have
//!   at most one decimal and never an exponent.
//! - **Labels.** Tooltip values use [`format_ms`], the same units as the live
//!   readout; axis labels drop a trailing `.0` ("1 s") and time ticks use one
//!   unit per axis ("60 min ago" … "10 min ago", "now").

use crate::core::format::{format_ms, push_integer};
use crate::core::history::{Entry, History, Sample};
use crate::core::status::{Status, EXCELLENT_MAX_MS, GOOD_MAX_MS};

/// The smallest half-extent of the deviation axis, so the poor band is
/// always visible above the 1 s threshold.
pub const MIN_DEVIATION_EXTENT_MS: f64 = 1_500.0;
/// The largest half-extent of the deviation axis; larger values are drawn
/// clamped to the plot edge.
pub const MAX_DEVIATION_EXTENT_MS: f64 = 600_000.0;
/// Session averages beyond this magnitude are clamped before scaling.
pub const MAX_SESSION_AVG_MS: f64 = 3_600_000.0;
/// Consecutive samples further apart than this (or than
/// [`BREAK_INTERVALS`] poll intervals, whichever is larger) are not joined.
pub const MIN_BREAK_MS: f64 = 15_000.0;
/// How many poll intervals of silence break a line.
pub const BREAK_INTERVALS: f64 = 2.5;
/// How far (plot units) a pointer may be from a sample and still pick it.
pub const HOVER_TOLERANCE_PX: f64 = 12.0;
/// The largest plot width or height accepted; larger values are clamped.
pub const MAX_PLOT_PX: f64 = 8_192.0;
/// The window used when the given one is not a positive finite number.
pub const DEFAULT_WINDOW_MS: f64 = 60.0 * 60_000.0;
/// The poll interval assumed when the given one is not usable.
pub const DEFAULT_INTERVAL_MS: f64 = 5_000.0;

const MIN_WINDOW_MS: f64 = 1_000.0;
const MAX_WINDOW_MS: f64 = 48.0 * 3_600_000.0;
const MIN_INTERVAL_MS: f64 = 100.0;
const MAX_INTERVAL_MS: f64 = 3_600_000.0;
/// The room one time label needs ("50 min ago" at a small font).
const TIME_LABEL_SPACING_PX: f64 = 90.0;
/// The narrowest session-average range, so a flat line sits mid-plot.
const MIN_SESSION_SPAN_MS: f64 = 100.0;

/// What to draw and at what size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartFrame {
    /// Browser time (Unix epoch ms) at the right edge of the plot.
    pub now_ms: f64,
    /// How much time the plot spans; the left edge is `now_ms − window_ms`.
    pub window_ms: f64,
    /// Plot width in viewBox units (the component uses CSS pixels).
    pub width: f64,
    /// Plot height in viewBox units.
    pub height: f64,
    /// The expected poll interval, to tell a late poll from an outage.
    pub interval_ms: f64,
}

/// A point in plot coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal position, 0 at the left edge.
    pub x: f64,
    /// Vertical position, 0 at the top.
    pub y: f64,
}

/// One drawn series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesGeometry {
    /// SVG path data (`M`/`L` commands); empty when there is nothing to join.
    pub path: String,
    /// Lone samples that have no neighbour to join: draw them as circles.
    pub dots: Vec<Point>,
}

/// A horizontal band of the deviation axis coloured by the status it means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// The status a deviation inside this band earns.
    pub status: Status,
    /// Top edge.
    pub y: f64,
    /// Height (never negative).
    pub height: f64,
}

/// An axis tick: where it sits and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Position along the axis (y for value axes, x for the time axis).
    pub pos: f64,
    /// The value at the tick: milliseconds, or milliseconds ago for time.
    pub value: f64,
    /// The label in human units ("500 ms", "1.5 s", "10 min ago").
    pub label: String,
}

/// One stretch of the status strip under the plot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineSegment {
    /// Left edge.
    pub x: f64,
    /// Width (never negative).
    pub width: f64,
    /// The status over this stretch.
    pub status: Status,
}

/// Why nothing is drawn over a stretch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapKind {
    /// No report arrived: polling failed or stopped, or came too late.
    Outage,
    /// Reports arrived but carried no deviation (the stream was not measurable).
    NoData,
}

impl GapKind {
    /// The word used in CSS class names and `data-gap`.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Outage => "outage",
            GapKind::NoData => "no-data",
        }
    }
}

/// A stretch to shade because there is no line over it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GapRect {
    /// Left edge.
    pub x: f64,
    /// Width; at least one unit so a short outage stays visible.
    pub width: f64,
    /// Why there is no data.
    pub kind: GapKind,
}

/// Everything the chart draws, in plot coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartGeometry {
    /// Plot width after clamping (0 when the input was unusable).
    pub width: f64,
    /// Plot height after clamping (0 when the input was unusable).
    pub height: f64,
    /// Deviation from the rolling average, on the symmetric axis.
    pub deviation: SeriesGeometry,
    /// Session average drift, on its own axis.
    pub session_avg: SeriesGeometry,
    /// Half-extent of the deviation axis: it spans `±deviation_extent_ms`.
    pub deviation_extent_ms: f64,
    /// The session-average axis range `(bottom, top)` in milliseconds.
    pub session_avg_range_ms: (f64, f64),
    /// Where a deviation of 0 sits.
    pub zero_y: f64,
    /// Threshold bands, top to bottom: poor, good, excellent, good, poor.
    pub bands: Vec<Band>,
    /// Labels for the deviation axis, top to bottom.
    pub deviation_ticks: Vec<Tick>,
    /// Labels for the session-average axis, top to bottom.
    pub session_avg_ticks: Vec<Tick>,
    /// Time labels, oldest (left) first; the last is "now".
    pub time_ticks: Vec<Tick>,
    /// The status strip, left to right.
    pub timeline: Vec<TimelineSegment>,
    /// Outages and stretches without data, left to right.
    pub gaps: Vec<GapRect>,
    /// Samples inside the window.
    pub samples_shown: usize,
}

impl ChartGeometry {
    /// Where a deviation (ms) sits on this chart's deviation axis, clamped
    /// into the plot; for markers such as the hover dot. Non-finite gives
    /// the zero line.
    pub fn deviation_y(&self, deviation_ms: f64) -> f64 {
        let value = if deviation_ms.is_finite() {
            deviation_ms
        } else {
            0.0
        };
        DeviationScale {
            extent: self.deviation_extent_ms,
            height: self.height,
        }
        .y(value)
    }

    /// Where a session average (ms) sits on this chart's session-average
    /// axis, clamped into the plot. Non-finite gives mid-height.
    pub fn session_avg_y(&self, session_avg_ms: f64) -> f64 {
        let (lo, hi) = self.session_avg_range_ms;
        LinearScale {
            lo,
            hi,
            height: self.height,
        }
        .y(session_avg_ms)
    }
}

/// Lays out `history` for the plot described by `frame`.
pub fn chart_geometry(history: &History, frame: &ChartFrame) -> ChartGeometry {
    let scale = TimeScale::new(frame.now_ms, frame.window_ms, frame.width, history);
    let height = clamp_size(frame.height);
    let interval = sanitize_interval(frame.interval_ms);
    let break_ms = (BREAK_INTERVALS * interval).max(MIN_BREAK_MS);

    let extents = Extents::scan(history, &scale);
    let deviation_extent_ms = nice_ceil(extents.max_abs_deviation.max(MIN_DEVIATION_EXTENT_MS))
        .min(MAX_DEVIATION_EXTENT_MS);
    let session_avg_range_ms = session_range(extents.session_min, extents.session_max);
    let dev_scale = DeviationScale {
        extent: deviation_extent_ms,
        height,
    };
    let avg_scale = LinearScale {
        lo: session_avg_range_ms.0,
        hi: session_avg_range_ms.1,
        height,
    };

    let mut geometry = ChartGeometry {
        width: scale.width,
        height,
        deviation: SeriesGeometry::default(),
        session_avg: SeriesGeometry::default(),
        deviation_extent_ms,
        session_avg_range_ms,
        zero_y: dev_scale.y(0.0),
        bands: bands(&dev_scale),
        deviation_ticks: deviation_ticks(&dev_scale),
        session_avg_ticks: session_avg_ticks(&avg_scale),
        time_ticks: time_ticks(&scale),
        timeline: Vec::new(),
        gaps: Vec::new(),
        samples_shown: extents.samples,
    };
    if scale.width <= 0.0 || height <= 0.0 {
        return geometry;
    }

    let columns = scale.columns();
    let mut deviation = SeriesBuilder::default();
    let mut session_avg = SeriesBuilder::default();
    let mut strip = StripBuilder::new(columns, scale.width);
    let mut gaps = GapBuilder::default();

    // The newest sample still joinable to the next one.
    let mut previous: Option<f64> = None;
    // Its x: the start of the next sample's stretch when they join.
    let mut previous_x = 0.0;
    // Start of an outage that has not yet been closed by a sample.
    let mut outage_since: Option<f64> = None;
    let mut ended_with_gap = false;

    for (index, entry) in scale.entries_in_window(history) {
        match entry {
            Entry::Gap { at_ms } => {
                deviation.brk();
                session_avg.brk();
                if let Some(last) = previous.take() {
                    outage_since = Some(last);
                } else if outage_since.is_none() {
                    outage_since = Some(*at_ms);
                }
                ended_with_gap = true;
            }
            Entry::Sample(sample) => {
                ended_with_gap = false;
                let t = sample.received_ms;
                let continuous = previous.is_some_and(|p| t >= p && t - p <= break_ms);
                let start = if continuous {
                    previous.unwrap_or(t)
                } else {
                    deviation.brk();
                    session_avg.brk();
                    let since = outage_since.take().or(previous);
                    let start = match since {
                        Some(since) if since <= t => (t - interval).max(since),
                        _ => t - interval,
                    };
                    if let Some(since) = since {
                        if start > since {
                            gaps.add(scale.x(since), scale.x(start), GapKind::Outage);
                        }
                    }
                    start
                };
                outage_since = None;

                let x0 = if continuous {
                    previous_x
                } else {
                    scale.x(start)
                };
                let x1 = scale.x(t);
                let column = scale.column(x1, columns);
                match finite(sample.deviation_ms) {
                    Some(value) => {
                        strip.add(x0, x1, sample.status);
                        deviation.push(column, index, x1, dev_scale.y(value));
                    }
                    None => {
                        gaps.add(x0, x1, GapKind::NoData);
                        deviation.brk();
                    }
                }
                match finite(sample.session_avg_ms) {
                    Some(value) => session_avg.push(column, index, x1, avg_scale.y(value)),
                    None => session_avg.brk(),
                }
                previous = Some(t);
                previous_x = x1;
            }
        }
    }

    // The right edge: an outage still going on, or data gone stale.
    let since = previous.or(outage_since);
    if let Some(since) = since {
        let stale = scale.now - since > break_ms;
        if (ended_with_gap || stale) && scale.now > since {
            gaps.add(scale.x(since), scale.width, GapKind::Outage);
        }
    }

    geometry.deviation = deviation.finish();
    geometry.session_avg = session_avg.finish();
    geometry.timeline = strip.finish();
    geometry.gaps = gaps.finish(scale.width);
    geometry
}

/// The sample nearest to `x_px` (plot units), if one lies within
/// [`HOVER_TOLERANCE_PX`]. Used for the hover tooltip; invalid input gives
/// `None`.
pub fn sample_at(
    history: &History,
    now_ms: f64,
    window_ms: f64,
    width: f64,
    x_px: f64,
) -> Option<Sample> {
    if !x_px.is_finite() {
        return None;
    }
    let scale = TimeScale::new(now_ms, window_ms, width, history);
    if scale.width <= 0.0 {
        return None;
    }
    let mut best: Option<(f64, &Sample)> = None;
    for (_, entry) in scale.entries_in_window(history) {
        if let Entry::Sample(sample) = entry {
            let distance = (scale.x(sample.received_ms) - x_px).abs();
            // `<=` so that, between equals, the newer sample wins.
            if best.is_none_or(|(d, _)| distance <= d) {
                best = Some((distance, sample));
            }
        }
    }
    best.filter(|(d, _)| *d <= HOVER_TOLERANCE_PX)
        .map(|(_, s)| *s)
}

/// The sample `steps` places away from the one received at `from_ms`
/// (negative is older), clamped to the first and last sample in the window.
/// A `from_ms` that matches no sample exactly starts from the sample nearest
/// in time. With no cursor yet (`from_ms` is `None` or not finite), the
/// cursor enters from just past the newest sample, so the first step in
/// either direction lands on the newest. Used by the keyboard cursor.
pub fn step_sample(
    history: &History,
    now_ms: f64,
    window_ms: f64,
    from_ms: Option<f64>,
    steps: isize,
) -> Option<Sample> {
    // The width does not matter for membership in the window.
    let scale = TimeScale::new(now_ms, window_ms, 1.0, history);
    let samples = || {
        scale
            .entries_in_window(history)
            .filter_map(|(_, e)| e.sample())
    };
    let count = samples().count();
    let last = count.checked_sub(1)?;
    let (current, steps) = match from_ms.filter(|f| f.is_finite()) {
        // Entering: one step of either sign reaches the newest sample.
        None => (last, if steps < 0 { steps + 1 } else { 0 }),
        Some(from) => {
            let mut nearest = (f64::INFINITY, last);
            for (position, sample) in samples().enumerate() {
                let distance = (sample.received_ms - from).abs();
                if distance < nearest.0 {
                    nearest = (distance, position);
                }
            }
            (nearest.1, steps)
        }
    };
    let target = if steps < 0 {
        current.saturating_sub(steps.unsigned_abs())
    } else {
        current.saturating_add(steps.unsigned_abs()).min(last)
    };
    samples().nth(target).copied()
}

/// Where time `t_ms` falls on a plot `width` wide whose right edge is
/// `now_ms`, clamped into `[0, width]`. A non-finite `now_ms` puts `t_ms`
/// at the right edge; a non-finite `t_ms` gives 0.
pub fn time_to_x(now_ms: f64, window_ms: f64, width: f64, t_ms: f64) -> f64 {
    let now = if now_ms.is_finite() { now_ms } else { t_ms };
    let scale = TimeScale::from_parts(now, window_ms, width);
    if t_ms.is_finite() {
        scale.x(t_ms)
    } else {
        0.0
    }
}

/// The text of the hover tooltip for one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverReadout {
    /// How long ago the sample arrived ("just now", "2 min 5 s ago").
    pub when: String,
    /// Signed deviation ("+384 ms", "−1.2 s") or "no data".
    pub deviation: String,
    /// Session average ("384 ms") or "no data".
    pub session_avg: String,
    /// The sample's status.
    pub status: Status,
}

/// Formats `sample` for the tooltip, relative to `now_ms`.
pub fn hover_readout(sample: &Sample, now_ms: f64) -> HoverReadout {
    let elapsed = if now_ms.is_finite() && sample.received_ms.is_finite() {
        (now_ms - sample.received_ms).max(0.0)
    } else {
        0.0
    };
    HoverReadout {
        when: elapsed_label(elapsed),
        deviation: finite(sample.deviation_ms).map_or_else(
            || "no data".to_owned(),
            |ms| {
                // Same units as the live readout, with "+" for behind.
                let plus = if ms.round() > 0.0 { "+" } else { "" };
                format!("{plus}{}", format_ms(ms))
            },
        ),
        session_avg: finite(sample.session_avg_ms).map_or_else(|| "no data".to_owned(), format_ms),
        status: sample.status,
    }
}

// ---------------------------------------------------------------------------
// Scales

/// The time axis after sanitising its inputs.
#[derive(Clone, Copy, Debug)]
struct TimeScale {
    now: f64,
    window: f64,
    width: f64,
}

impl TimeScale {
    fn new(now_ms: f64, window_ms: f64, width: f64, history: &History) -> TimeScale {
        let now = if now_ms.is_finite() {
            now_ms
        } else {
            history
                .entries()
                .iter()
                .rev()
                .map(Entry::at_ms)
                .find(|t| t.is_finite())
                .unwrap_or(0.0)
        };
        TimeScale::from_parts(now, window_ms, width)
    }

    fn from_parts(now: f64, window_ms: f64, width: f64) -> TimeScale {
        let window = if window_ms.is_finite() && window_ms > 0.0 {
            window_ms.clamp(MIN_WINDOW_MS, MAX_WINDOW_MS)
        } else {
            DEFAULT_WINDOW_MS
        };
        TimeScale {
            now,
            window,
            width: clamp_size(width),
        }
    }

    fn left(&self) -> f64 {
        self.now - self.window
    }

    #[inline(always)]
    fn x(&self, t: f64) -> f64 {
        let x = (t - self.left()) / self.window * self.width;
        if x.is_finite() {
            within(x, 0.0, self.width)
        } else {
            0.0
        }
    }

    /// Number of whole-or-partial pixel columns.
    fn columns(&self) -> usize {
        // Width is clamped to MAX_PLOT_PX, so this cast is exact.
        (self.width.ceil() as usize).max(1)
    }

    #[inline(always)]
    fn column(&self, x: f64, columns: usize) -> usize {
        (x.floor().max(0.0) as usize).min(columns - 1)
    }

    /// Entries from the left edge on (newer ones are clamped to the right
    /// edge, since a sample may arrive between two ticks of `now`), with
    /// their position in the ring; entries with a non-finite time are skipped.
    fn entries_in_window<'h>(
        &self,
        history: &'h History,
    ) -> impl Iterator<Item = (usize, &'h Entry)> + 'h {
        let left = self.left();
        history
            .entries()
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.at_ms().is_finite() && e.at_ms() >= left)
    }
}

/// The symmetric deviation axis.
struct DeviationScale {
    extent: f64,
    height: f64,
}

impl DeviationScale {
    #[inline(always)]
    fn y(&self, deviation_ms: f64) -> f64 {
        let half = self.height / 2.0;
        let value = within(deviation_ms, -self.extent, self.extent);
        within(half - value / self.extent * half, 0.0, self.height)
    }
}

/// A plain linear axis, `lo` at the bottom and `hi` at the top.
struct LinearScale {
    lo: f64,
    hi: f64,
    height: f64,
}

impl LinearScale {
    #[inline(always)]
    fn y(&self, value_ms: f64) -> f64 {
        let span = self.hi - self.lo;
        let fraction = (value_ms - self.lo) / span;
        if fraction.is_finite() {
            within(self.height - fraction * self.height, 0.0, self.height)
        } else {
            self.height / 2.0
        }
    }
}

/// What the window holds, needed before anything can be scaled.
struct Extents {
    samples: usize,
    max_abs_deviation: f64,
    session_min: Option<f64>,
    session_max: Option<f64>,
}

impl Extents {
    fn scan(history: &History, scale: &TimeScale) -> Extents {
        let mut extents = Extents {
            samples: 0,
            max_abs_deviation: 0.0,
            session_min: None,
            session_max: None,
        };
        for (_, entry) in scale.entries_in_window(history) {
            let Some(sample) = entry.sample() else {
                continue;
            };
            extents.samples += 1;
            if let Some(deviation) = finite(sample.deviation_ms) {
                extents.max_abs_deviation = extents.max_abs_deviation.max(deviation.abs());
            }
            if let Some(avg) = finite(sample.session_avg_ms) {
                let avg = avg.clamp(-MAX_SESSION_AVG_MS, MAX_SESSION_AVG_MS);
                extents.session_min = Some(extents.session_min.map_or(avg, |m| m.min(avg)));
                extents.session_max = Some(extents.session_max.map_or(avg, |m| m.max(avg)));
            }
        }
        extents
    }
}

fn session_range(min: Option<f64>, max: Option<f64>) -> (f64, f64) {
    let (mut lo, mut hi) = match (min, max) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => (0.0, 1_000.0),
    };
    if hi - lo < MIN_SESSION_SPAN_MS {
        let centre = (lo + hi) / 2.0;
        lo = centre - MIN_SESSION_SPAN_MS / 2.0;
        hi = centre + MIN_SESSION_SPAN_MS / 2.0;
        // A flat non-negative series should not invent negative drift.
        if min.is_some_and(|m| m >= 0.0) && lo < 0.0 {
            hi -= lo;
            lo = 0.0;
        }
    }
    let step = nice_step((hi - lo) / 3.0);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

fn bands(scale: &DeviationScale) -> Vec<Band> {
    let band = |status, top_ms: f64, bottom_ms: f64| {
        let (y0, y1) = (scale.y(top_ms), scale.y(bottom_ms));
        Band {
            status,
            y: y0,
            height: (y1 - y0).max(0.0),
        }
    };
    let e = scale.extent;
    vec![
        band(Status::Poor, e, GOOD_MAX_MS),
        band(Status::Good, GOOD_MAX_MS, EXCELLENT_MAX_MS),
        band(Status::Excellent, EXCELLENT_MAX_MS, -EXCELLENT_MAX_MS),
        band(Status::Good, -EXCELLENT_MAX_MS, -GOOD_MAX_MS),
        band(Status::Poor, -GOOD_MAX_MS, -e),
    ]
}

fn deviation_ticks(scale: &DeviationScale) -> Vec<Tick> {
    let step = nice_step(scale.extent / 3.0);
    let per_side = ((scale.extent / step) + 1e-9).floor() as i64;
    (-per_side..=per_side)
        .rev()
        .map(|k| {
            let value = k as f64 * step;
            Tick {
                pos: scale.y(value),
                value,
                label: signed_duration_label(value),
            }
        })
        .collect()
}

fn session_avg_ticks(scale: &LinearScale) -> Vec<Tick> {
    let step = nice_step((scale.hi - scale.lo) / 3.0);
    let count = (((scale.hi - scale.lo) / step).round() as i64).clamp(0, 20);
    (0..=count)
        .rev()
        .map(|k| {
            let value = scale.lo + k as f64 * step;
            Tick {
                pos: scale.y(value),
                value,
                label: duration_label(value),
            }
        })
        .collect()
}

fn time_ticks(scale: &TimeScale) -> Vec<Tick> {
    const STEPS_MS: [f64; 16] = [
        5_000.0,
        10_000.0,
        15_000.0,
        30_000.0,
        60_000.0,
        120_000.0,
        300_000.0,
        600_000.0,
        900_000.0,
        1_800_000.0,
        3_600_000.0,
        7_200_000.0,
        10_800_000.0,
        14_400_000.0,
        21_600_000.0,
        43_200_000.0,
    ];
    // About one label per 90 units, so "50 min ago" labels never collide
    // on a narrow plot; between 2 and 6 intervals.
    let intervals = (scale.width / TIME_LABEL_SPACING_PX)
        .floor()
        .clamp(2.0, 6.0);
    let wanted = scale.window / intervals;
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|s| *s >= wanted)
        .unwrap_or(STEPS_MS[STEPS_MS.len() - 1]);
    let count = ((scale.window / step) + 1e-9).floor() as i64;
    (0..=count)
        .rev()
        .map(|k| {
            let ago = k as f64 * step;
            let label = if k == 0 {
                "now".to_owned()
            } else {
                format!("{} ago", time_label(ago, step))
            };
            Tick {
                pos: scale.x(scale.now - ago),
                value: ago,
                label,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Series reduction

/// A point with its position in the ring, to restore time order.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    index: usize,
    x: f64,
    y: f64,
}

/// One continuous run of a series inside one pixel column.
#[derive(Clone, Copy, Debug)]
struct Piece {
    first: Ranked,
    low: Ranked,
    high: Ranked,
    last: Ranked,
    count: usize,
    /// Continues a run from the column before (drawn with `L`, not `M`).
    joined_left: bool,
}

impl Piece {
    fn new(point: Ranked, joined_left: bool) -> Piece {
        Piece {
            first: point,
            low: point,
            high: point,
            last: point,
            count: 1,
            joined_left,
        }
    }

    fn add(&mut self, point: Ranked) {
        // y grows downwards: the visually lowest point has the largest y.
        if point.y > self.low.y {
            self.low = point;
        }
        if point.y < self.high.y {
            self.high = point;
        }
        self.last = point;
        self.count += 1;
    }

    /// The kept points in time order, without repeats.
    fn ordered(&self) -> impl Iterator<Item = Ranked> {
        let mut points = [self.first, self.low, self.high, self.last];
        points.sort_by_key(|p| p.index);
        let mut previous = None;
        points.into_iter().filter(move |p| {
            let fresh = previous != Some(p.index);
            previous = Some(p.index);
            fresh
        })
    }
}

/// Pieces that started and ended inside one column, between the first and
/// the last piece: drawn as one vertical mark.
#[derive(Clone, Copy, Debug)]
struct Envelope {
    x: f64,
    top: f64,
    bottom: f64,
}

/// Builds one series' path, one pixel column at a time.
#[derive(Default)]
struct SeriesBuilder {
    path: String,
    dots: Vec<Point>,
    column: Option<usize>,
    head: Option<Piece>,
    middle: Option<Envelope>,
    tail: Option<Piece>,
    /// The newest piece still accepts points (no break since).
    open: bool,
}

impl SeriesBuilder {
    /// Ends the current run: the next point starts a new subpath.
    fn brk(&mut self) {
        self.open = false;
    }

    fn push(&mut self, column: usize, index: usize, x: f64, y: f64) {
        let point = Ranked { index, x, y };
        if self.column != Some(column) {
            let joined = self.open && self.column.is_some();
            self.flush(joined);
            self.column = Some(column);
            self.head = Some(Piece::new(point, joined));
        } else if self.open {
            if let Some(piece) = self.tail.as_mut().or(self.head.as_mut()) {
                piece.add(point);
            }
        } else {
            self.start_piece(point);
        }
        self.open = true;
    }

    /// A new run inside the current column.
    fn start_piece(&mut self, point: Ranked) {
        let piece = Piece::new(point, false);
        if self.head.is_none() {
            self.head = Some(piece);
            return;
        }
        if let Some(previous) = self.tail.replace(piece) {
            let envelope = self.middle.get_or_insert(Envelope {
                x: previous.first.x,
                top: previous.high.y,
                bottom: previous.low.y,
            });
            envelope.top = envelope.top.min(previous.high.y);
            envelope.bottom = envelope.bottom.max(previous.low.y);
        }
    }

    /// Writes out the current column; `continues` says whether its last
    /// piece joins the first point of the next column.
    fn flush(&mut self, continues: bool) {
        let head = self.head.take();
        let middle = self.middle.take();
        let tail = self.tail.take();
        let only_head = middle.is_none() && tail.is_none();
        if let Some(head) = head {
            self.emit_piece(&head, only_head && continues);
        }
        if let Some(envelope) = middle {
            if envelope.bottom - envelope.top < 0.05 {
                self.dots.push(Point {
                    x: envelope.x,
                    y: envelope.top,
                });
            } else {
                self.command('M', envelope.x, envelope.top);
                self.command('L', envelope.x, envelope.bottom);
            }
        }
        if let Some(tail) = tail {
            self.emit_piece(&tail, continues);
        }
    }

    fn emit_piece(&mut self, piece: &Piece, joined_right: bool) {
        if piece.count == 1 && !piece.joined_left && !joined_right {
            self.dots.push(Point {
                x: piece.first.x,
                y: piece.first.y,
            });
            return;
        }
        for (n, point) in piece.ordered().enumerate() {
            let command = if n == 0 && !piece.joined_left {
                'M'
            } else {
                'L'
            };
            self.command(command, point.x, point.y);
        }
    }

    fn command(&mut self, command: char, x: f64, y: f64) {
        self.path.push(command);
        push_number(&mut self.path, x);
        self.path.push(' ');
        push_number(&mut self.path, y);
    }

    fn finish(mut self) -> SeriesGeometry {
        self.flush(false);
        SeriesGeometry {
            path: self.path,
            dots: self.dots,
        }
    }
}

// ---------------------------------------------------------------------------
// Status strip and gaps

/// Builds the status strip: exact merged segments while they fit in the
/// pixel columns, the worst status per column once they do not.
struct StripBuilder {
    exact: Option<Vec<TimelineSegment>>,
    raster: Vec<Option<Status>>,
    width: f64,
}

impl StripBuilder {
    fn new(columns: usize, width: f64) -> StripBuilder {
        StripBuilder {
            exact: Some(Vec::new()),
            raster: vec![None; columns],
            width,
        }
    }

    fn add(&mut self, x0: f64, x1: f64, status: Status) {
        if x1 <= x0 {
            return;
        }
        let Some(exact) = self.exact.as_mut() else {
            self.paint(x0, x1, status);
            return;
        };
        match exact.last_mut() {
            Some(last) if last.status == status && (x0 - (last.x + last.width)).abs() < 1e-6 => {
                last.width = x1 - last.x;
            }
            _ => exact.push(TimelineSegment {
                x: x0,
                width: x1 - x0,
                status,
            }),
        }
        if exact.len() > self.raster.len() {
            let segments = std::mem::take(exact);
            self.exact = None;
            for segment in segments {
                self.paint(segment.x, segment.x + segment.width, segment.status);
            }
        }
    }

    /// Marks every column the stretch overlaps with the worse status.
    fn paint(&mut self, x0: f64, x1: f64, status: Status) {
        let columns = self.raster.len();
        let first = (x0.floor().max(0.0) as usize).min(columns);
        let end = (x1.ceil().max(0.0) as usize).min(columns);
        for cell in &mut self.raster[first..end] {
            if cell.is_none_or(|current| status.severity() > current.severity()) {
                *cell = Some(status);
            }
        }
    }

    fn finish(self) -> Vec<TimelineSegment> {
        if let Some(exact) = self.exact {
            return exact;
        }
        let mut segments: Vec<TimelineSegment> = Vec::new();
        for (column, cell) in self.raster.iter().enumerate() {
            let Some(status) = *cell else { continue };
            let x = column as f64;
            let right = (x + 1.0).min(self.width);
            match segments.last_mut() {
                Some(last) if last.status == status && (last.x + last.width - x).abs() < 1e-9 => {
                    last.width = right - last.x;
                }
                _ => segments.push(TimelineSegment {
                    x,
                    width: right - x,
                    status,
                }),
            }
        }
        segments
    }
}

/// Collects gap stretches, merging those that touch.
#[derive(Default)]
struct GapBuilder {
    gaps: Vec<GapRect>,
}

impl GapBuilder {
    fn add(&mut self, x0: f64, x1: f64, kind: GapKind) {
        if x1 < x0 {
            return;
        }
        if let Some(last) = self.gaps.last_mut() {
            let right = last.x + last.width;
            let touches = x0 - right <= 0.5;
            // Different kinds stay apart unless one is too thin to see, which
            // keeps the list O(width) even when the two alternate.
            let thin = last.width < 1.0 || x1 - x0 < 1.0;
            if touches && (last.kind == kind || thin) {
                if kind == GapKind::Outage {
                    last.kind = GapKind::Outage;
                }
                last.width = x1.max(right) - last.x;
                return;
            }
        }
        self.gaps.push(GapRect {
            x: x0,
            width: x1 - x0,
            kind,
        });
    }

    /// Widens thin gaps to one unit, kept inside the plot.
    fn finish(self, width: f64) -> Vec<GapRect> {
        let mut gaps = self.gaps;
        for gap in &mut gaps {
            if gap.width < 1.0 {
                gap.width = 1.0_f64.min(width);
                gap.x = gap.x.min(width - gap.width).max(0.0);
            }
        }
        gaps
    }
}

// ---------------------------------------------------------------------------
// Numbers and labels

/// `value.clamp(lo, hi)` for bounds only known at run time (NaN stays NaN).
/// `f64::clamp` checks `lo <= hi` and panics with the bounds `Debug`-printed,
/// which alone links all of Rust's float formatting into the WebAssembly;
/// the bounds here are sanitised sizes, so the check is not needed.
pub(crate) fn within(value: f64, lo: f64, hi: f64) -> f64 {
    if value < lo {
        lo
    } else if value > hi {
        hi
    } else {
        value
    }
}

#[inline(always)]
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

fn clamp_size(size: f64) -> f64 {
    if size.is_finite() && size > 0.0 {
        size.min(MAX_PLOT_PX)
    } else {
        0.0
    }
}

fn sanitize_interval(interval_ms: f64) -> f64 {
    if interval_ms.is_finite() && interval_ms > 0.0 {
        interval_ms.clamp(MIN_INTERVAL_MS, MAX_INTERVAL_MS)
    } else {
        DEFAULT_INTERVAL_MS
    }
}

/// The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ that is ≥ `value`.
fn nice_ceil(value: f64) -> f64 {
    const MANTISSAS: [f64; 10] = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
    nice(value, &MANTISSAS)
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ that is ≥ `value`: tick spacing.
fn nice_step(value: f64) -> f64 {
    const MANTISSAS: [f64; 5] = [1.0, 2.0, 2.5, 5.0, 10.0];
    nice(value, &MANTISSAS)
}

fn nice(value: f64, mantissas: &[f64]) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powi(value.log10().floor() as i32);
    mantissas
        .iter()
        .map(|m| m * magnitude)
        .find(|candidate| *candidate >= value * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Appends `value` rounded to one decimal, without an exponent or `-0`;
/// integer arithmetic only, so no float formatting code reaches the
/// WebAssembly. Non-finite values write `0`.
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

/// `value` with at most one decimal, trailing `.0` dropped.
fn one_decimal(value: f64) -> String {
    let mut out = String::new();
    push_number(&mut out, value);
    out
}

/// An axis label in human units: "384 ms", "1.5 s", "10 min", "2 h".
/// Unlike [`format_ms`] (the live readout, always one decimal in seconds),
/// whole values drop the decimal, so the axis reads "1 s", not "1.0 s".
fn duration_label(ms: f64) -> String {
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
fn time_label(ago_ms: f64, step_ms: f64) -> String {
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
fn signed_duration_label(ms: f64) -> String {
    if ms.is_finite() && ms.round() > 0.0 {
        format!("+{}", duration_label(ms))
    } else {
        duration_label(ms)
    }
}

/// Elapsed time for the tooltip: "just now", "12 s ago", "2 min 5 s ago",
/// "1 h 4 min ago".
fn elapsed_label(ms: f64) -> String {
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

    const W: f64 = 600.0;
    const H: f64 = 160.0;
    const HOUR: f64 = 3_600_000.0;
    const NOW: f64 = 1_700_000_000_000.0;

    fn sample(received_ms: f64, deviation_ms: Option<f64>, session_avg_ms: Option<f64>) -> Sample {
        Sample {
            received_ms,
            updated_at_ms: None,
            session_avg_ms,
            deviation_ms,
            status: deviation_ms.map_or(Status::Unknown, Status::from_deviation_ms),
        }
    }

    /// A history of samples every `every_ms` ending at NOW, with deviation
    /// from `deviation(i)` and a constant session average.
    fn history_of(count: usize, every_ms: f64, deviation: impl Fn(usize) -> f64) -> History {
        let mut history = History::with_capacity(48.0 * HOUR, 200_000);
        for i in 0..count {
            let t = NOW - (count - 1 - i) as f64 * every_ms;
            history.push(sample(t, Some(deviation(i)), Some(400.0)));
        }
        history
    }

    fn frame(window_ms: f64, interval_ms: f64) -> ChartFrame {
        ChartFrame {
            now_ms: NOW,
            window_ms,
            width: W,
            height: H,
            interval_ms,
        }
    }

    fn subpaths(path: &str) -> usize {
        path.matches('M').count()
    }

    fn points(path: &str) -> usize {
        path.matches(['M', 'L']).count()
    }

    /// Every (x, y) pair in a path, checking the number format on the way.
    fn coordinates(path: &str) -> Vec<(f64, f64)> {
        path.split(['M', 'L'])
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let mut parts = pair.split(' ');
                let mut number = || {
                    let text = parts.next().unwrap_or("");
                    assert!(!text.contains(['e', 'E']), "exponent in {text:?}");
                    let decimals = text.split('.').nth(1).map_or(0, str::len);
                    assert!(decimals <= 1, "more than one decimal in {text:?}");
                    text.parse::<f64>().unwrap_or(f64::NAN)
                };
                (number(), number())
            })
            .collect()
    }

    fn assert_inside(geometry: &ChartGeometry) {
        for series in [&geometry.deviation, &geometry.session_avg] {
            let dots = series.dots.iter().map(|p| (p.x, p.y));
            for (x, y) in coordinates(&series.path).into_iter().chain(dots) {
                assert!((0.0..=geometry.width).contains(&x), "x {x} outside plot");
                assert!((0.0..=geometry.height).contains(&y), "y {y} outside plot");
            }
        }
    }

    #[test]
    fn empty_history_draws_no_series_but_keeps_axes() {
        let geometry = chart_geometry(&History::new(60), &frame(HOUR, 5_000.0));
        assert!(geometry.deviation.path.is_empty() && geometry.deviation.dots.is_empty());
        assert!(geometry.session_avg.path.is_empty() && geometry.session_avg.dots.is_empty());
        assert!(geometry.timeline.is_empty() && geometry.gaps.is_empty());
        assert_eq!(geometry.samples_shown, 0);
        assert_eq!(geometry.deviation_extent_ms, MIN_DEVIATION_EXTENT_MS);
        assert_eq!(geometry.bands.len(), 5);
        assert!(!geometry.time_ticks.is_empty());
    }

    #[test]
    fn single_sample_is_a_dot_not_a_path() {
        let history = history_of(1, 5_000.0, |_| 120.0);
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        assert!(geometry.deviation.path.is_empty());
        assert_eq!(geometry.deviation.dots.len(), 1);
        assert_eq!(geometry.session_avg.dots.len(), 1);
        assert_eq!(geometry.deviation.dots[0].x, W);
        assert_eq!(geometry.timeline.len(), 1);
        assert_eq!(geometry.timeline[0].status, Status::Excellent);
        assert_eq!(geometry.samples_shown, 1);
    }

    #[test]
    fn close_samples_join_into_one_line() {
        let history = history_of(10, 5_000.0, |i| i as f64 * 10.0);
        let geometry = chart_geometry(&history, &frame(60_000.0, 5_000.0));
        assert_eq!(subpaths(&geometry.deviation.path), 1);
        assert_eq!(points(&geometry.deviation.path), 10);
        assert!(geometry.deviation.dots.is_empty());
        assert!(geometry.gaps.is_empty());
        assert_inside(&geometry);
    }

    #[test]
    fn all_equal_samples_draw_a_flat_line_with_a_usable_scale() {
        let history = history_of(20, 5_000.0, |_| 250.0);
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        let ys: Vec<f64> = coordinates(&geometry.deviation.path)
            .iter()
            .map(|p| p.1)
            .collect();
        assert!(ys.windows(2).all(|w| w[0] == w[1]));
        let (lo, hi) = geometry.session_avg_range_ms;
        assert!(lo < 400.0 && 400.0 < hi, "range {lo}..{hi}");
        assert!(lo >= 0.0);
        assert!(geometry.session_avg_ticks.len() >= 2);
        let avg_ys: Vec<f64> = coordinates(&geometry.session_avg.path)
            .iter()
            .map(|p| p.1)
            .collect();
        assert!(avg_ys.iter().all(|y| *y > 0.0 && *y < H));
    }

    #[test]
    fn gap_entry_breaks_the_line_and_shades_the_outage() {
        let mut history = History::with_capacity(HOUR, 1_000);
        for i in 0..5 {
            history.push(sample(
                NOW - 100_000.0 + i as f64 * 5_000.0,
                Some(10.0),
                Some(400.0),
            ));
        }
        history.mark_gap(NOW - 75_000.0);
        for i in 0..5 {
            history.push(sample(
                NOW - 60_000.0 + i as f64 * 5_000.0,
                Some(10.0),
                Some(400.0),
            ));
        }
        let geometry = chart_geometry(&history, &frame(120_000.0, 5_000.0));
        assert_eq!(subpaths(&geometry.deviation.path), 2);
        assert_eq!(subpaths(&geometry.session_avg.path), 2);
        assert_eq!(geometry.gaps.len(), 2, "{:?}", geometry.gaps);
        let outage = geometry.gaps[0];
        assert_eq!(outage.kind, GapKind::Outage);
        // From the last sample before the failure to one interval before the next.
        let x = |t: f64| (t - (NOW - 120_000.0)) / 120_000.0 * W;
        assert!((outage.x - x(NOW - 80_000.0)).abs() < 1e-9);
        assert!((outage.x + outage.width - x(NOW - 65_000.0)).abs() < 1e-9);
        // The newest sample is 40 s old: stale data is an outage too.
        assert_eq!(geometry.gaps[1].kind, GapKind::Outage);
        assert!((geometry.gaps[1].x + geometry.gaps[1].width - W).abs() < 1e-9);
        // Nothing of the strip lies inside the outage.
        for segment in &geometry.timeline {
            assert!(
                segment.x + segment.width <= outage.x + 1e-9
                    || segment.x >= outage.x + outage.width - 1e-9
            );
        }
    }

    #[test]
    fn silence_longer_than_the_break_threshold_breaks_the_line() {
        // interval 5 s: threshold is max(12.5 s, 15 s) = 15 s.
        let cases = [
            (15_000.0, 5_000.0, 1),
            (15_001.0, 5_000.0, 2),
            (25_000.0, 10_000.0, 1),
            (25_001.0, 10_000.0, 2),
        ];
        for (spacing, interval, expected) in cases {
            let mut history = History::with_capacity(HOUR, 1_000);
            for t in [
                NOW - 2.0 * spacing,
                NOW - spacing,
                NOW - spacing + 1_000.0,
                NOW,
            ] {
                history.push(sample(t, Some(100.0), Some(400.0)));
            }
            // Make the first pair a lone dot or a line depending on the threshold.
            let geometry = chart_geometry(&history, &frame(HOUR, interval));
            let runs = subpaths(&geometry.deviation.path) + geometry.deviation.dots.len();
            assert_eq!(runs, expected, "spacing {spacing} interval {interval}");
            assert_eq!(geometry.gaps.is_empty(), expected == 1, "spacing {spacing}");
        }
    }

    #[test]
    fn missing_deviation_breaks_only_that_series_and_leaves_a_no_data_gap() {
        let mut history = History::with_capacity(HOUR, 1_000);
        for i in 0..9 {
            let deviation = if (3..6).contains(&i) {
                None
            } else {
                Some(50.0)
            };
            history.push(sample(
                NOW - 40_000.0 + i as f64 * 5_000.0,
                deviation,
                Some(400.0),
            ));
        }
        let geometry = chart_geometry(&history, &frame(60_000.0, 5_000.0));
        assert_eq!(subpaths(&geometry.deviation.path), 2);
        assert_eq!(subpaths(&geometry.session_avg.path), 1);
        assert_eq!(geometry.gaps.len(), 1);
        assert_eq!(geometry.gaps[0].kind, GapKind::NoData);
        assert!(geometry
            .timeline
            .iter()
            .all(|s| s.status == Status::Excellent));
        assert_eq!(geometry.timeline.len(), 2);
    }

    #[test]
    fn non_finite_values_count_as_missing() {
        let mut history = History::with_capacity(HOUR, 1_000);
        history.push(sample(NOW - 10_000.0, Some(10.0), Some(f64::NAN)));
        history.push(sample(NOW - 5_000.0, Some(f64::INFINITY), Some(400.0)));
        history.push(sample(NOW, Some(f64::NEG_INFINITY), Some(f64::INFINITY)));
        let geometry = chart_geometry(&history, &frame(60_000.0, 5_000.0));
        assert_eq!(geometry.deviation_extent_ms, MIN_DEVIATION_EXTENT_MS);
        assert_eq!(geometry.deviation.dots.len(), 1);
        assert_eq!(geometry.session_avg.dots.len(), 1);
        assert_inside(&geometry);
    }

    #[test]
    fn deviation_extent_rounds_up_to_a_nice_number() {
        let cases = [
            (0.0, 1_500.0),
            (1_400.0, 1_500.0),
            (1_600.0, 2_000.0),
            (-12_345.0, 15_000.0),
            (2_500.0, 2_500.0),
            (1e12, MAX_DEVIATION_EXTENT_MS),
        ];
        for (largest, expected) in cases {
            let history = history_of(3, 5_000.0, |i| if i == 1 { largest } else { 0.0 });
            let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
            assert_eq!(geometry.deviation_extent_ms, expected, "largest {largest}");
            assert_inside(&geometry);
        }
    }

    #[test]
    fn values_beyond_the_axis_are_clamped_into_the_plot() {
        let history = history_of(4, 5_000.0, |i| [1e15, -1e15, 3e6, -3e6][i]);
        let mut history = history;
        history.push(sample(NOW + 1.0, Some(0.0), Some(-1e300)));
        history.push(sample(NOW + 2.0, Some(0.0), Some(1e300)));
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        assert_inside(&geometry);
        let ys: Vec<f64> = coordinates(&geometry.deviation.path)
            .iter()
            .map(|p| p.1)
            .collect();
        assert!(ys.contains(&0.0) && ys.contains(&H));
    }

    #[test]
    fn negative_deviation_is_drawn_below_zero() {
        let history = history_of(2, 5_000.0, |i| if i == 0 { 750.0 } else { -750.0 });
        let geometry = chart_geometry(&history, &frame(60_000.0, 5_000.0));
        let points = coordinates(&geometry.deviation.path);
        assert_eq!(geometry.zero_y, H / 2.0);
        assert!(points[0].1 < geometry.zero_y);
        assert!(points[1].1 > geometry.zero_y);
        assert!(
            (points[0].1 + points[1].1 - H).abs() < 0.11,
            "symmetric about zero"
        );
    }

    #[test]
    fn marker_positions_follow_the_axes_and_stay_inside() {
        let history = history_of(2, 5_000.0, |i| if i == 0 { 300.0 } else { -300.0 });
        let geometry = chart_geometry(&history, &frame(60_000.0, 5_000.0));
        let path = coordinates(&geometry.deviation.path);
        assert!((geometry.deviation_y(300.0) - path[0].1).abs() < 0.06);
        assert!((geometry.deviation_y(-300.0) - path[1].1).abs() < 0.06);
        assert_eq!(geometry.deviation_y(f64::NAN), geometry.zero_y);
        assert_eq!(geometry.deviation_y(1e300), 0.0);
        assert_eq!(geometry.deviation_y(f64::NEG_INFINITY), geometry.zero_y);
        let avg = geometry.session_avg_y(400.0);
        assert!(avg > 0.0 && avg < H);
        assert_eq!(geometry.session_avg_y(f64::NAN), H / 2.0);
        assert_eq!(geometry.session_avg_y(-1e300), H);
    }

    #[test]
    fn bands_cover_the_plot_symmetrically() {
        let geometry = chart_geometry(&History::new(60), &frame(HOUR, 5_000.0));
        let statuses: Vec<Status> = geometry.bands.iter().map(|b| b.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Poor,
                Status::Good,
                Status::Excellent,
                Status::Good,
                Status::Poor
            ]
        );
        let total: f64 = geometry.bands.iter().map(|b| b.height).sum();
        assert!((total - H).abs() < 1e-9);
        let excellent = geometry.bands[2];
        assert!((excellent.y + excellent.height / 2.0 - H / 2.0).abs() < 1e-9);
        // ±500 ms of a ±1.5 s axis is a third of the height.
        assert!((excellent.height - H / 3.0).abs() < 1e-9);
        assert!((geometry.bands[0].height - geometry.bands[4].height).abs() < 1e-9);
    }

    #[test]
    fn deviation_ticks_read_in_human_units() {
        let geometry = chart_geometry(&History::new(60), &frame(HOUR, 5_000.0));
        let labels: Vec<&str> = geometry
            .deviation_ticks
            .iter()
            .map(|t| t.label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "+1.5 s",
                "+1 s",
                "+500 ms",
                "0 ms",
                "−500 ms",
                "−1 s",
                "−1.5 s"
            ]
        );
        assert_eq!(geometry.deviation_ticks[0].pos, 0.0);
        assert_eq!(geometry.deviation_ticks[3].pos, H / 2.0);
    }

    #[test]
    fn session_average_has_its_own_ticks() {
        let mut history = History::with_capacity(HOUR, 100);
        history.push(sample(NOW - 5_000.0, Some(0.0), Some(380.0)));
        history.push(sample(NOW, Some(0.0), Some(1_230.0)));
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        let (lo, hi) = geometry.session_avg_range_ms;
        assert!(lo <= 380.0 && hi >= 1_230.0);
        let first = &geometry.session_avg_ticks[0];
        let last = &geometry.session_avg_ticks[geometry.session_avg_ticks.len() - 1];
        assert_eq!((first.value, first.pos), (hi, 0.0));
        assert_eq!((last.value, last.pos), (lo, H));
        assert!(geometry
            .session_avg_ticks
            .iter()
            .any(|t| t.label.ends_with(" s")));
    }

    #[test]
    fn time_ticks_count_minutes_back_from_now() {
        let geometry = chart_geometry(&History::new(60), &frame(HOUR, 5_000.0));
        let labels: Vec<&str> = geometry
            .time_ticks
            .iter()
            .map(|t| t.label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "60 min ago",
                "50 min ago",
                "40 min ago",
                "30 min ago",
                "20 min ago",
                "10 min ago",
                "now"
            ]
        );
        assert_eq!(geometry.time_ticks[0].pos, 0.0);
        assert_eq!(geometry.time_ticks[6].pos, W);
        let day = chart_geometry(&History::new(60), &frame(24.0 * HOUR, 5_000.0));
        assert_eq!(
            day.time_ticks.first().map(|t| t.label.as_str()),
            Some("24 h ago")
        );
        assert!(day.time_ticks.len() <= 8);
    }

    #[test]
    fn narrow_plots_get_fewer_time_labels() {
        let narrow = chart_geometry(
            &History::new(60),
            &ChartFrame {
                width: 250.0,
                ..frame(HOUR, 5_000.0)
            },
        );
        let labels: Vec<&str> = narrow.time_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["60 min ago", "30 min ago", "now"]);
        for pair in narrow.time_ticks.windows(2) {
            assert!(pair[1].pos - pair[0].pos >= TIME_LABEL_SPACING_PX);
        }
    }

    #[test]
    fn timeline_merges_neighbouring_equal_statuses() {
        let history = history_of(20, 5_000.0, |i| if i < 10 { 100.0 } else { 1_500.0 });
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        let statuses: Vec<Status> = geometry.timeline.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [Status::Excellent, Status::Poor]);
        let (first, second) = (geometry.timeline[0], geometry.timeline[1]);
        assert!(
            (first.x + first.width - second.x).abs() < 1e-9,
            "contiguous"
        );
        assert!((second.x + second.width - W).abs() < 1e-9, "ends at now");
    }

    #[test]
    fn flapping_status_is_rasterised_and_keeps_the_worst() {
        // 1 s polls for an hour, alternating excellent/poor: 3,600 changes on 600 px.
        let history = history_of(3_600, 1_000.0, |i| if i % 2 == 0 { 0.0 } else { 2_000.0 });
        let geometry = chart_geometry(&history, &frame(HOUR, 1_000.0));
        assert!(geometry.timeline.len() <= W as usize);
        assert!(geometry.timeline.iter().all(|s| s.status == Status::Poor));
        for segment in &geometry.timeline {
            assert!(segment.width > 0.0 && segment.x >= 0.0 && segment.x + segment.width <= W);
        }
    }

    #[test]
    fn a_day_at_one_sample_per_second_reduces_to_the_pixels() {
        let spike_at = 50_000;
        let history = history_of(86_400, 1_000.0, |i| {
            if i == spike_at {
                5_000.0
            } else {
                ((i % 97) as f64 - 48.0) * 5.0
            }
        });
        let geometry = chart_geometry(&history, &frame(24.0 * HOUR, 1_000.0));
        assert_eq!(geometry.samples_shown, 86_400);
        let drawn = points(&geometry.deviation.path) + geometry.deviation.dots.len();
        assert!(drawn <= 4 * W as usize, "{drawn} points for {W} px");
        assert_eq!(subpaths(&geometry.deviation.path), 1);
        // The one-second spike sets the axis and reaches the top edge.
        assert_eq!(geometry.deviation_extent_ms, 5_000.0);
        assert!(coordinates(&geometry.deviation.path)
            .iter()
            .any(|p| p.1 == 0.0));
        assert!(geometry.timeline.iter().any(|s| s.status == Status::Poor));
        assert_inside(&geometry);
    }

    #[test]
    fn sub_pixel_outages_stay_bounded_and_never_join_across() {
        // Every other poll fails for a day: 43,200 outages on 600 px.
        let mut history = History::with_capacity(48.0 * HOUR, 200_000);
        for i in 0..86_400_u32 {
            let t = NOW - f64::from(86_399 - i) * 1_000.0;
            if i % 2 == 0 {
                history.push(sample(t, Some(f64::from(i % 50)), Some(400.0)));
            } else {
                history.mark_gap(t);
            }
        }
        let geometry = chart_geometry(&history, &frame(24.0 * HOUR, 1_000.0));
        let drawn = points(&geometry.deviation.path) + geometry.deviation.dots.len();
        assert!(drawn <= 10 * W as usize, "{drawn} points");
        assert!(
            geometry.gaps.len() <= 2 * W as usize,
            "{} gaps",
            geometry.gaps.len()
        );
        assert!(geometry.timeline.len() <= W as usize);
        // Every sample stands alone between two failures, so no subpath may
        // leave its pixel column: nothing is joined across an outage.
        let runs: Vec<&str> = geometry
            .deviation
            .path
            .split('M')
            .filter(|s| !s.is_empty())
            .collect();
        assert!(!runs.is_empty());
        for run in runs {
            let xs: Vec<f64> = coordinates(&format!("M{run}"))
                .iter()
                .map(|p| p.0)
                .collect();
            assert!(
                xs.iter().all(|x| x.floor() == xs[0].floor()),
                "run spans columns: {xs:?}"
            );
        }
        assert_inside(&geometry);
    }

    #[test]
    fn unusable_sizes_give_an_empty_geometry() {
        let history = history_of(10, 5_000.0, |_| 10.0);
        for (width, height) in [
            (f64::NAN, H),
            (f64::INFINITY, H),
            (0.0, H),
            (-5.0, H),
            (W, f64::NAN),
            (W, f64::NEG_INFINITY),
        ] {
            let geometry = chart_geometry(
                &history,
                &ChartFrame {
                    width,
                    height,
                    ..frame(HOUR, 5_000.0)
                },
            );
            assert!(geometry.deviation.path.is_empty(), "{width}x{height}");
            assert!(geometry.deviation.dots.is_empty() && geometry.timeline.is_empty());
            assert_eq!(geometry.samples_shown, 10);
        }
        let huge = chart_geometry(
            &history,
            &ChartFrame {
                width: 1e300,
                ..frame(HOUR, 5_000.0)
            },
        );
        assert_eq!(huge.width, MAX_PLOT_PX);
        assert_inside(&huge);
    }

    #[test]
    fn unusable_now_window_and_interval_fall_back() {
        let history = history_of(10, 5_000.0, |_| 10.0);
        let odd = ChartFrame {
            now_ms: f64::NAN,
            window_ms: f64::INFINITY,
            width: W,
            height: H,
            interval_ms: -1.0,
        };
        let geometry = chart_geometry(&history, &odd);
        assert_eq!(geometry.samples_shown, 10);
        assert_eq!(subpaths(&geometry.deviation.path), 1);
        assert_eq!(
            geometry.time_ticks.first().map(|t| t.value),
            Some(DEFAULT_WINDOW_MS)
        );
        assert_inside(&geometry);
    }

    #[test]
    fn samples_older_than_the_window_are_left_out_and_newer_ones_clamped() {
        let mut history = History::with_capacity(48.0 * HOUR, 100);
        history.push(sample(NOW - 2.0 * HOUR, Some(10.0), Some(400.0)));
        history.push(sample(NOW - 1_000.0, Some(10.0), Some(400.0)));
        history.push(sample(NOW + 3_000.0, Some(10.0), Some(400.0)));
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        assert_eq!(geometry.samples_shown, 2);
        let xs: Vec<f64> = coordinates(&geometry.deviation.path)
            .iter()
            .map(|p| p.0)
            .collect();
        assert!(xs.iter().all(|x| *x <= W && *x > W - 1.0), "{xs:?}");
    }

    #[test]
    fn path_numbers_have_at_most_one_decimal_and_no_exponent() {
        let mut out = String::new();
        for value in [0.0, -0.04, 1.25, 12.34, -7.96, 1e-12, 123_456.78, f64::NAN] {
            out.clear();
            push_number(&mut out, value);
            assert!(!out.contains(['e', 'E']), "{out}");
            assert!(out.split('.').nth(1).is_none_or(|d| d.len() == 1), "{out}");
            assert_ne!(out, "-0");
        }
        out.clear();
        push_number(&mut out, 12.34);
        assert_eq!(out, "12.3");
        let history = history_of(37, 3_333.3, |i| i as f64 * 37.77);
        let geometry = chart_geometry(
            &history,
            &ChartFrame {
                width: 333.3,
                height: 99.9,
                ..frame(HOUR, 3_333.3)
            },
        );
        assert!(!coordinates(&geometry.deviation.path).is_empty());
    }

    #[test]
    fn hover_picks_the_nearest_sample_within_tolerance() {
        let history = history_of(3, 20_000.0, |i| i as f64 * 100.0);
        // 10 min window on 600 px: samples sit at x = 560, 580 and 600.
        let window = 600_000.0;
        let at = |x| sample_at(&history, NOW, window, W, x).map(|s| s.received_ms);
        assert_eq!(at(W), Some(NOW));
        assert_eq!(at(W - 18.0), Some(NOW - 20_000.0));
        assert_eq!(at(W - 55.0), None, "15 px from the nearest");
        assert_eq!(at(W - 10.0), Some(NOW), "a tie goes to the newer");
        assert_eq!(at(f64::NAN), None);
        assert_eq!(sample_at(&history, NOW, window, f64::NAN, W), None);
        assert_eq!(sample_at(&History::new(60), NOW, window, W, W), None);
    }

    #[test]
    fn keyboard_steps_move_between_samples_and_stop_at_the_ends() {
        let history = history_of(5, 5_000.0, |_| 0.0);
        let step = |from: Option<f64>, steps| {
            step_sample(&history, NOW, HOUR, from, steps).map(|s| s.received_ms)
        };
        assert_eq!(step(None, -1), Some(NOW));
        assert_eq!(step(None, 1), Some(NOW));
        assert_eq!(step(None, -2), Some(NOW - 5_000.0));
        assert_eq!(step(Some(f64::NAN), isize::MIN), Some(NOW - 20_000.0));
        assert_eq!(step(Some(NOW - 10_000.0), 1), Some(NOW - 5_000.0));
        assert_eq!(step(Some(NOW - 10_000.0), -1), Some(NOW - 15_000.0));
        assert_eq!(step(Some(NOW - 20_000.0), -1), Some(NOW - 20_000.0));
        assert_eq!(step(Some(NOW - 9_000.0), 0), Some(NOW - 10_000.0));
        assert_eq!(step(Some(NOW), isize::MIN), Some(NOW - 20_000.0));
        assert_eq!(step(Some(NOW - 20_000.0), isize::MAX), Some(NOW));
        assert_eq!(step_sample(&History::new(60), NOW, HOUR, None, 1), None);
    }

    #[test]
    fn time_to_x_clamps_into_the_plot() {
        assert_eq!(time_to_x(NOW, HOUR, W, NOW), W);
        assert_eq!(time_to_x(NOW, HOUR, W, NOW - HOUR / 2.0), W / 2.0);
        assert_eq!(time_to_x(NOW, HOUR, W, NOW - 2.0 * HOUR), 0.0);
        assert_eq!(time_to_x(NOW, HOUR, W, NOW + HOUR), W);
        assert_eq!(time_to_x(NOW, HOUR, W, f64::NAN), 0.0);
        assert_eq!(time_to_x(f64::NAN, HOUR, W, NOW), W);
        assert_eq!(time_to_x(NOW, HOUR, f64::INFINITY, NOW), 0.0);
    }

    #[test]
    fn hover_readout_formats_the_sample() {
        let readout = hover_readout(&sample(NOW - 125_000.0, Some(-1_234.0), Some(384.0)), NOW);
        assert_eq!(readout.when, "2 min 5 s ago");
        assert_eq!(readout.deviation, "−1.2 s");
        assert_eq!(readout.session_avg, "384 ms");
        assert_eq!(readout.status, Status::Poor);
        let empty = hover_readout(&sample(NOW, None, None), f64::NAN);
        assert_eq!(
            (
                empty.when.as_str(),
                empty.deviation.as_str(),
                empty.session_avg.as_str()
            ),
            ("just now", "no data", "no data")
        );
        assert_eq!(
            hover_readout(&sample(NOW - 3_725_000.0, Some(12.0), None), NOW).when,
            "1 h 2 min ago"
        );
        assert_eq!(
            hover_readout(&sample(NOW, Some(12.0), None), NOW).deviation,
            "+12 ms"
        );
    }

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
