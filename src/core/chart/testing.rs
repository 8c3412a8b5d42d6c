//! Fixtures for the chart's tests: histories, frames and readers of path
//! data, shared by the tests of every chart job.

use super::{ChartFrame, ChartGeometry};
use crate::core::history::{History, Sample};
use crate::core::status::Status;

pub const W: f64 = 600.0;
pub const H: f64 = 160.0;
pub const HOUR: f64 = 3_600_000.0;
pub const NOW: f64 = 1_700_000_000_000.0;

pub fn sample(received_ms: f64, deviation_ms: Option<f64>, session_avg_ms: Option<f64>) -> Sample {
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
pub fn history_of(count: usize, every_ms: f64, deviation: impl Fn(usize) -> f64) -> History {
    let mut history = History::with_capacity(48.0 * HOUR, 200_000);
    for i in 0..count {
        let t = NOW - (count - 1 - i) as f64 * every_ms;
        history.push(sample(t, Some(deviation(i)), Some(400.0)));
    }
    history
}

pub fn frame(window_ms: f64, interval_ms: f64) -> ChartFrame {
    ChartFrame {
        now_ms: NOW,
        window_ms,
        width: W,
        height: H,
        interval_ms,
    }
}

pub fn subpaths(path: &str) -> usize {
    path.matches('M').count()
}

pub fn points(path: &str) -> usize {
    path.matches(['M', 'L']).count()
}

/// Every (x, y) pair in a path, checking the number format on the way.
pub fn coordinates(path: &str) -> Vec<(f64, f64)> {
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

pub fn assert_inside(geometry: &ChartGeometry) {
    for series in [&geometry.deviation, &geometry.session_avg] {
        let dots = series.dots.iter().map(|p| (p.x, p.y));
        for (x, y) in coordinates(&series.path).into_iter().chain(dots) {
            assert!((0.0..=geometry.width).contains(&x), "x {x} outside plot");
            assert!((0.0..=geometry.height).contains(&y), "y {y} outside plot");
        }
    }
}
