//! The chart's three scales (time across, deviation and session average
//! up) and the ticks, threshold bands and axis ranges that go with them.
//!
//! - **Two y scales.** Deviation sits on a symmetric axis around 0 whose
//!   extent is `max(1.5 s, largest |deviation| shown)` rounded up to a nice
//!   number (capped at [`MAX_DEVIATION_EXTENT_MS`]), so the 500 ms and 1 s
//!   thresholds are always visible as bands. The session average has its own
//!   nice range and its own tick labels.
//! - **Sanitised once.** A scale is built from clamped inputs (non-finite
//!   `now` falls back to the newest entry, windows and sizes are clamped,
//!   unusable ones replaced by defaults) and clamps every coordinate it
//!   returns into the plot, so the builders downstream never see NaN.
//! - **Time ticks fit the width.** About one label per
//!   [`TIME_LABEL_SPACING_PX`], on a step from a fixed list (5 s … 12 h), so
//!   labels never collide on a narrow plot.

use crate::core::history::{Entry, History};
use crate::core::num::within;
use crate::core::status::{Status, EXCELLENT_MAX_MS, GOOD_MAX_MS};

use super::blocks::BlockExtents;
use super::labels::{duration_label, signed_duration_label, time_label};

/// The smallest half-extent of the deviation axis, so the poor band is
/// always visible above the 1 s threshold.
pub const MIN_DEVIATION_EXTENT_MS: f64 = 1_500.0;
/// The largest half-extent of the deviation axis; larger values are drawn
/// clamped to the plot edge.
pub const MAX_DEVIATION_EXTENT_MS: f64 = 600_000.0;
/// Session averages beyond this magnitude are clamped before scaling.
pub const MAX_SESSION_AVG_MS: f64 = 3_600_000.0;
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

/// The time axis after sanitising its inputs.
#[derive(Clone, Copy, Debug)]
pub(super) struct TimeScale {
    pub(super) now: f64,
    window: f64,
    pub(super) width: f64,
}

impl TimeScale {
    pub(super) fn new(now_ms: f64, window_ms: f64, width: f64, history: &History) -> TimeScale {
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

    pub(super) fn from_parts(now: f64, window_ms: f64, width: f64) -> TimeScale {
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

    pub(super) fn left(&self) -> f64 {
        self.now - self.window
    }

    /// The time one plot unit (a pixel column) spans.
    pub(super) fn column_ms(&self) -> f64 {
        self.window / self.width
    }

    #[inline(always)]
    pub(super) fn x(&self, t: f64) -> f64 {
        let x = (t - self.left()) / self.window * self.width;
        if x.is_finite() {
            within(x, 0.0, self.width)
        } else {
            0.0
        }
    }

    /// Number of whole-or-partial pixel columns.
    pub(super) fn columns(&self) -> usize {
        // Width is clamped to MAX_PLOT_PX, so this cast is exact.
        (self.width.ceil() as usize).max(1)
    }

    /// Entries from the left edge on (newer ones are clamped to the right
    /// edge, since a sample may arrive between two ticks of `now`), with
    /// their position in the ring; entries with a non-finite time are skipped.
    pub(super) fn entries_in_window<'h>(
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

    /// Time labels counting back from "now", oldest (left) first.
    pub(super) fn ticks(&self) -> Vec<Tick> {
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
        let intervals = (self.width / TIME_LABEL_SPACING_PX).floor().clamp(2.0, 6.0);
        let wanted = self.window / intervals;
        let step = STEPS_MS
            .iter()
            .copied()
            .find(|s| *s >= wanted)
            .unwrap_or(STEPS_MS[STEPS_MS.len() - 1]);
        let count = ((self.window / step) + 1e-9).floor() as i64;
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
                    pos: self.x(self.now - ago),
                    value: ago,
                    label,
                }
            })
            .collect()
    }
}

/// The symmetric deviation axis.
pub(super) struct DeviationScale {
    pub(super) extent: f64,
    pub(super) height: f64,
}

impl DeviationScale {
    #[inline(always)]
    pub(super) fn y(&self, deviation_ms: f64) -> f64 {
        let half = self.height / 2.0;
        let value = within(deviation_ms, -self.extent, self.extent);
        within(half - value / self.extent * half, 0.0, self.height)
    }

    /// The threshold bands, top to bottom: poor, good, excellent, good, poor.
    pub(super) fn bands(&self) -> Vec<Band> {
        let band = |status, top_ms: f64, bottom_ms: f64| {
            let (y0, y1) = (self.y(top_ms), self.y(bottom_ms));
            Band {
                status,
                y: y0,
                height: (y1 - y0).max(0.0),
            }
        };
        let e = self.extent;
        vec![
            band(Status::Poor, e, GOOD_MAX_MS),
            band(Status::Good, GOOD_MAX_MS, EXCELLENT_MAX_MS),
            band(Status::Excellent, EXCELLENT_MAX_MS, -EXCELLENT_MAX_MS),
            band(Status::Good, -EXCELLENT_MAX_MS, -GOOD_MAX_MS),
            band(Status::Poor, -GOOD_MAX_MS, -e),
        ]
    }

    /// Signed labels on nice steps, top to bottom, symmetric about 0.
    pub(super) fn ticks(&self) -> Vec<Tick> {
        let step = nice_step(self.extent / 3.0);
        let per_side = ((self.extent / step) + 1e-9).floor() as i64;
        (-per_side..=per_side)
            .rev()
            .map(|k| {
                let value = k as f64 * step;
                Tick {
                    pos: self.y(value),
                    value,
                    label: signed_duration_label(value),
                }
            })
            .collect()
    }
}

/// A plain linear axis, `lo` at the bottom and `hi` at the top.
pub(super) struct LinearScale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) height: f64,
}

impl LinearScale {
    #[inline(always)]
    pub(super) fn y(&self, value_ms: f64) -> f64 {
        let span = self.hi - self.lo;
        let fraction = (value_ms - self.lo) / span;
        if fraction.is_finite() {
            within(self.height - fraction * self.height, 0.0, self.height)
        } else {
            self.height / 2.0
        }
    }

    /// Labels on nice steps from `hi` (top) down to `lo`.
    pub(super) fn ticks(&self) -> Vec<Tick> {
        let step = nice_step((self.hi - self.lo) / 3.0);
        let count = (((self.hi - self.lo) / step).round() as i64).clamp(0, 20);
        (0..=count)
            .rev()
            .map(|k| {
                let value = self.lo + k as f64 * step;
                Tick {
                    pos: self.y(value),
                    value,
                    label: duration_label(value),
                }
            })
            .collect()
    }
}

/// What the window holds, needed before anything can be scaled.
pub(super) struct Extents {
    pub(super) samples: usize,
    max_abs_deviation: f64,
    session_min: Option<f64>,
    session_max: Option<f64>,
}

impl Extents {
    /// The extents of the blocks drawn.
    pub(super) fn of_blocks<'b>(blocks: impl Iterator<Item = &'b BlockExtents>) -> Extents {
        let mut extents = Extents {
            samples: 0,
            max_abs_deviation: 0.0,
            session_min: None,
            session_max: None,
        };
        for block in blocks {
            extents.samples += block.samples;
            extents.max_abs_deviation = extents.max_abs_deviation.max(block.max_abs_deviation);
            let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
                (Some(a), Some(b)) => Some(f(a, b)),
                (a, b) => a.or(b),
            };
            extents.session_min = pick(extents.session_min, block.session_min, f64::min);
            extents.session_max = pick(extents.session_max, block.session_max, f64::max);
        }
        extents
    }

    /// The deviation axis that shows every deviation in the window: at
    /// least ±[`MIN_DEVIATION_EXTENT_MS`], rounded up to a nice number, at
    /// most ±[`MAX_DEVIATION_EXTENT_MS`].
    pub(super) fn deviation_scale(&self, height: f64) -> DeviationScale {
        let extent = nice_ceil(self.max_abs_deviation.max(MIN_DEVIATION_EXTENT_MS))
            .min(MAX_DEVIATION_EXTENT_MS);
        DeviationScale { extent, height }
    }

    /// The session-average axis for the averages in the window.
    pub(super) fn session_avg_scale(&self, height: f64) -> LinearScale {
        let (lo, hi) = session_range(self.session_min, self.session_max);
        LinearScale { lo, hi, height }
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

pub(super) fn clamp_size(size: f64) -> f64 {
    if size.is_finite() && size > 0.0 {
        size.min(MAX_PLOT_PX)
    } else {
        0.0
    }
}

pub(super) fn sanitize_interval(interval_ms: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::chart::testing::*;
    use crate::core::chart::{chart_geometry, ChartFrame};

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
}
