//! Chart geometry: the history ring turned into SVG path strings, bands,
//! ticks, a status strip and gap rectangles, in plot coordinates.
//!
//! Everything here is plain arithmetic on [`History`]; the shell only places
//! the results ([`crate::core::chart_svg`] writes them out as markup).
//! Coordinates are plot units with the origin at the top left: `x` runs from
//! `now − window` (0) to `now` (`width`), `y` from the top (0) to the bottom
//! (`height`). The component sizes the plot to the element's real width, so
//! one unit is one CSS pixel.
//!
//! This file holds what to draw ([`ChartFrame`]), everything drawn
//! ([`ChartGeometry`]) and [`chart_geometry`], the one pass over the ring
//! that decides where lines break and feeds each builder. The jobs are one
//! file each, and depend only downwards (labels ← scale ← hit):
//! - `blocks`: the per-column reduction of the history, kept across
//!   updates by [`ChartCache`] so a poll costs O(columns), not O(samples);
//! - `scale`: the time, deviation and session-average scales, ticks, bands;
//! - `series`: per-pixel-column reduction of a series into path data;
//! - `strip`: the status strip and the gap rectangles;
//! - `hit`: hit-testing for the hover tooltip and the keyboard cursor;
//! - `labels`: durations and ages in human units for axes and tooltip.
//!
//! Decisions that span the jobs:
//! - **Never a line across an outage.** A series breaks (a new `M`) at an
//!   [`Entry::Gap`], at a sample whose value is missing or not finite, and
//!   when two consecutive samples are more than
//!   `max(2.5 × interval, 15 s)` apart. Those stretches become gap rectangles
//!   and are absent from the status strip.
//! - **Inputs are clamped, never trusted.** Non-finite or non-positive sizes
//!   give an empty geometry; a non-finite `now` falls back to the newest
//!   entry; windows, intervals and values are clamped into sane ranges, and
//!   every coordinate is clamped into the plot. Numbers in path strings have
//!   at most one decimal and never an exponent.

mod blocks;
mod hit;
mod labels;
mod scale;
mod series;
mod strip;
#[cfg(test)]
mod testing;

use crate::core::history::History;

use blocks::{Block, PassState, Reducer, Step};
use scale::{clamp_size, sanitize_interval, DeviationScale, Extents, LinearScale, TimeScale};
use series::SeriesBuilder;
use strip::{GapBuilder, StripBuilder};

pub use blocks::ChartCache;
pub use hit::{hover_readout, sample_at, step_sample, time_to_x, HoverReadout, HOVER_TOLERANCE_PX};
pub use scale::{
    Band, Tick, DEFAULT_INTERVAL_MS, DEFAULT_WINDOW_MS, MAX_DEVIATION_EXTENT_MS, MAX_PLOT_PX,
    MAX_SESSION_AVG_MS, MIN_DEVIATION_EXTENT_MS,
};
pub use series::{Point, SeriesGeometry};
pub use strip::{GapKind, GapRect, TimelineSegment};

/// Consecutive samples further apart than this (or than
/// [`BREAK_INTERVALS`] poll intervals, whichever is larger) are not joined.
pub const MIN_BREAK_MS: f64 = 15_000.0;
/// How many poll intervals of silence break a line.
pub const BREAK_INTERVALS: f64 = 2.5;

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

/// Lays out `history` for the plot described by `frame`, from scratch: the
/// window's entries are reduced to per-column blocks ([`blocks`]) and drawn.
/// [`ChartCache::geometry`] gives the same result keeping the blocks across
/// updates.
pub fn chart_geometry(history: &History, frame: &ChartFrame) -> ChartGeometry {
    let scale = TimeScale::new(frame.now_ms, frame.window_ms, frame.width, history);
    let (column_ms, interval) = blocks::reduction_of(&scale, frame);
    let mut reducer = Reducer::new(column_ms, interval);
    let first = history.first_seq();
    for (index, entry) in scale.entries_in_window(history) {
        reducer.entry(first + index as u64, entry);
    }
    let blocks: Vec<&Block> = reducer.blocks.iter().collect();
    render(&scale, frame, &blocks, &reducer.state)
}

/// Draws reduced blocks on the axes of the moment; `end` is the pass's
/// state after the newest entry.
fn render(
    scale: &TimeScale,
    frame: &ChartFrame,
    blocks: &[&Block],
    end: &PassState,
) -> ChartGeometry {
    let height = clamp_size(frame.height);
    let interval = sanitize_interval(frame.interval_ms);
    let break_ms = (BREAK_INTERVALS * interval).max(MIN_BREAK_MS);

    let extents = Extents::of_blocks(blocks.iter().map(|b| &b.extents));
    let dev_scale = extents.deviation_scale(height);
    let avg_scale = extents.session_avg_scale(height);

    let mut geometry = ChartGeometry {
        width: scale.width,
        height,
        deviation: SeriesGeometry::default(),
        session_avg: SeriesGeometry::default(),
        deviation_extent_ms: dev_scale.extent,
        session_avg_range_ms: (avg_scale.lo, avg_scale.hi),
        zero_y: dev_scale.y(0.0),
        bands: dev_scale.bands(),
        deviation_ticks: dev_scale.ticks(),
        session_avg_ticks: avg_scale.ticks(),
        time_ticks: scale.ticks(),
        timeline: Vec::new(),
        gaps: Vec::new(),
        samples_shown: extents.samples,
    };
    if scale.width <= 0.0 || height <= 0.0 {
        return geometry;
    }

    let mut deviation = SeriesBuilder::default();
    let mut session_avg = SeriesBuilder::default();
    let mut strip = StripBuilder::new(scale.columns(), scale.width);
    let mut gaps = GapBuilder::default();
    let replay =
        |builder: &mut SeriesBuilder, column: usize, steps: &[Step], y: &dyn Fn(f64) -> f64| {
            for step in steps {
                match step {
                    Step::Break => builder.brk(),
                    Step::Run(run) => {
                        for point in run.points() {
                            builder.push(column, point.seq, scale.x(point.t), y(point.value));
                        }
                    }
                }
            }
        };
    for (column, block) in blocks.iter().enumerate() {
        // Blocks are told apart by their place: neighbours never share a column.
        for &(from, to, kind) in &block.gaps {
            gaps.add(scale.x(from), scale.x(to), kind);
        }
        for &(from, to, status) in &block.strip {
            strip.add(scale.x(from), scale.x(to), status);
        }
        replay(&mut deviation, column, &block.deviation.steps, &|v| {
            dev_scale.y(v)
        });
        replay(&mut session_avg, column, &block.session_avg.steps, &|v| {
            avg_scale.y(v)
        });
    }

    // The right edge: an outage still going on, or data gone stale.
    let since = end.previous.or(end.outage_since);
    if let Some(since) = since {
        let stale = scale.now - since > break_ms;
        if (end.ended_with_gap || stale) && scale.now > since {
            gaps.add(scale.x(since), scale.width, GapKind::Outage);
        }
    }

    geometry.deviation = deviation.finish();
    geometry.session_avg = session_avg.finish();
    geometry.timeline = strip.finish();
    geometry.gaps = gaps.finish(scale.width);
    geometry
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::core::format::push_number;
    use crate::core::status::Status;

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
}
