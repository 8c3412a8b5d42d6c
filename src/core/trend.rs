//! The drift trend: catching a stream that falls behind slowly while its
//! status still says excellent.
//!
//! With a 30 s rolling window, a constant drift rate r (seconds of drift per
//! second) settles the deviation near 14.5 × r, so an encoder losing 0.03 s
//! every second stays `excellent` forever while its drift grows by almost two
//! seconds a minute. The session average does not hide it: it is the mean
//! drift over the connection, so it keeps climbing (at about half the drift
//! rate for a drift that started at connect).
//!
//! The trend is the least-squares slope of the session average over the last
//! [`WINDOW_MS`] of the current session, in milliseconds per minute. A
//! session restart (the average falls back by more than [`RESET_DROP_MS`])
//! starts the fit again. The "slowly falling behind" warning needs the slope
//! to be at least [`WARN_MS_PER_MIN`] over the whole window *and* in each of
//! its halves, over at least [`MIN_SPAN_MS`] of data: a stream that falls
//! behind for a minute and catches up the next (jitter) does not warn.

use crate::core::history::{Entry, History};

/// How far back the trend looks.
pub const WINDOW_MS: f64 = 180_000.0;
/// The least data the trend needs.
pub const MIN_SPAN_MS: f64 = 90_000.0;
/// The fewest samples the trend needs.
pub const MIN_SAMPLES: usize = 6;
/// Slope of the session average from which the warning shows.
pub const WARN_MS_PER_MIN: f64 = 200.0;
/// A fall of the session average this large means a new session.
pub const RESET_DROP_MS: f64 = 1_000.0;

/// The estimated trend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Slope of the session average, ms per minute.
    pub ms_per_min: f64,
    /// True when the stream is steadily falling behind.
    pub falling_behind: bool,
}

/// Estimates the trend at `now_ms` from the history, if there is enough data.
pub fn estimate(history: &History, now_ms: f64) -> Option<Trend> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for entry in history.entries().iter().rev() {
        let Entry::Sample(sample) = entry else {
            continue;
        };
        if sample.received_ms < now_ms - WINDOW_MS {
            break;
        }
        let Some(average) = sample.session_avg_ms else {
            continue;
        };
        if let Some(&(_, later)) = points.last() {
            // Walking backwards: an older value far above a newer one means
            // the session restarted in between; keep only the newer session.
            if average - later > RESET_DROP_MS {
                break;
            }
        }
        points.push((sample.received_ms, average));
    }
    points.reverse();
    if points.len() < MIN_SAMPLES {
        return None;
    }
    let span = points[points.len() - 1].0 - points[0].0;
    if span < MIN_SPAN_MS {
        return None;
    }
    let slope = slope_per_min(&points)?;
    let middle = points[0].0 + span / 2.0;
    let split = points.partition_point(|(t, _)| *t < middle);
    let (first, second) = points.split_at(split);
    let halves_agree = [first, second].into_iter().all(|half| {
        half.len() >= MIN_SAMPLES / 2 && slope_per_min(half).is_some_and(|s| s >= WARN_MS_PER_MIN)
    });
    Some(Trend {
        ms_per_min: slope,
        falling_behind: slope >= WARN_MS_PER_MIN && halves_agree,
    })
}

/// Least-squares slope of (ms, value) points, per minute.
fn slope_per_min(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let origin = points[0].0;
    let mean_t = points.iter().map(|(t, _)| t - origin).sum::<f64>() / n;
    let mean_v = points.iter().map(|(_, v)| v).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (t, v) in points {
        let dt = t - origin - mean_t;
        covariance += dt * (v - mean_v);
        variance += dt * dt;
    }
    if variance <= 0.0 {
        return None;
    }
    let slope = covariance / variance * 60_000.0;
    slope.is_finite().then_some(slope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::history::Sample;
    use crate::core::status::Status;

    /// A history of one sample every `step_s` for `seconds`, with the
    /// session average given by `average(t_seconds)`.
    fn history(seconds: u32, step_s: u32, average: impl Fn(f64) -> f64) -> History {
        let mut history = History::new(60);
        for t in (0..=seconds).step_by(step_s as usize) {
            let t = f64::from(t);
            history.push(Sample {
                received_ms: t * 1000.0,
                updated_at_ms: Some((t * 1000.0) as i64),
                session_avg_ms: Some(average(t)),
                deviation_ms: Some(400.0),
                status: Status::Excellent,
            });
        }
        history
    }

    #[test]
    fn not_enough_data_means_no_trend() {
        assert_eq!(estimate(&History::new(60), 0.0), None);
        let short = history(60, 5, |t| t * 15.0);
        assert_eq!(estimate(&short, 60_000.0), None);
    }

    #[test]
    fn a_steady_stream_has_a_flat_trend() {
        let steady = history(300, 5, |t| 384.0 + (t * 0.7).sin() * 30.0);
        let trend = estimate(&steady, 300_000.0);
        assert!(
            trend.is_some_and(|t| t.ms_per_min.abs() < 50.0 && !t.falling_behind),
            "{trend:?}"
        );
    }

    #[test]
    fn losing_30ms_a_second_warns_although_the_status_is_excellent() {
        // Drift grows 30 ms/s from connect; its running mean grows 15 ms/s.
        let slow = history(300, 5, |t| 15.0 * t);
        let trend = estimate(&slow, 300_000.0);
        assert!(
            trend.is_some_and(|t| (t.ms_per_min - 900.0).abs() < 1.0 && t.falling_behind),
            "{trend:?}"
        );
    }

    #[test]
    fn falling_behind_then_catching_up_does_not_warn() {
        let jittery = history(300, 5, |t| {
            let phase = t % 120.0;
            if phase < 60.0 {
                phase * 25.0
            } else {
                (120.0 - phase) * 25.0
            }
        });
        let trend = estimate(&jittery, 300_000.0);
        assert!(trend.is_some_and(|t| !t.falling_behind), "{trend:?}");
    }

    #[test]
    fn a_new_session_restarts_the_fit() {
        // Five minutes of growth, then a reconnect resets the average to ~0.
        let mut h = history(300, 5, |t| 15.0 * t);
        for t in (305..=330).step_by(5) {
            h.push(Sample {
                received_ms: f64::from(t) * 1000.0,
                updated_at_ms: Some(i64::from(t) * 1000),
                session_avg_ms: Some(5.0),
                deviation_ms: Some(0.0),
                status: Status::Excellent,
            });
        }
        assert_eq!(
            estimate(&h, 330_000.0),
            None,
            "too little data since the reset"
        );
    }
}
