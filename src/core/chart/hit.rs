//! Hit-testing: which sample the pointer or the keyboard cursor is on, and
//! what the tooltip says about it.
//!
//! The shell knows a pointer position in plot units or a cursor position in
//! time; these functions answer with a [`Sample`] from the same window the
//! geometry drew (same sanitised time scale, so a sample under the pointer
//! is the one drawn there). Invalid input (NaN positions, unusable sizes)
//! gives `None`, never a panic.

use crate::core::format::format_ms;
use crate::core::history::{Entry, History, Sample};
use crate::core::num::finite;
use crate::core::status::Status;

use super::labels::elapsed_label;
use super::scale::TimeScale;

/// How far (plot units) a pointer may be from a sample and still pick it.
pub const HOVER_TOLERANCE_PX: f64 = 12.0;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::chart::testing::*;

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
}
