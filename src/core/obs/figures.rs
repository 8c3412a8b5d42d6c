//! What the Encoder panel shows: OBS's figures as labelled texts and the
//! machine-readable values behind them, like the drift metrics of
//! [`crate::core::markup::Metric`].
//!
//! Each figure is a `[data-metric]` whose `data-value` is the plain number
//! (bitrate in kbit/s, congestion from 0 to 1, frame losses and CPU in
//! percent) and whose text is what a streamer reads (`512 kb/s`,
//! `12 (0.7 %)`). Frame losses also carry their count over the last minute
//! (`data-count`): a percentage needs [`super::encoder::MIN_FRAMES`]
//! frames, a count is there from the first. Numbers are written with
//! [`crate::core::format`]'s integer arithmetic, so no float formatting
//! reaches the WebAssembly.

use crate::core::format::{push_integer, push_number};

use super::encoder::{EncoderStats, FrameCount};

/// One figure of the Encoder panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderMetric {
    /// Output bitrate over the last five seconds, kbit/s.
    Bitrate,
    /// Output congestion, 0 (the network keeps up) to 1 (nothing gets out).
    Congestion,
    /// Frames dropped by the network over the last minute.
    NetworkDrops,
    /// Frames skipped because the encoder could not keep up, last minute.
    EncoderSkips,
    /// Frames the renderer missed, last minute.
    RenderLag,
    /// OBS's CPU use, percent of the machine.
    Cpu,
}

impl EncoderMetric {
    /// Every figure, in the panel's order.
    pub const ALL: [EncoderMetric; 6] = [
        EncoderMetric::Bitrate,
        EncoderMetric::Congestion,
        EncoderMetric::NetworkDrops,
        EncoderMetric::EncoderSkips,
        EncoderMetric::RenderLag,
        EncoderMetric::Cpu,
    ];

    /// The `data-metric` value.
    pub fn as_str(self) -> &'static str {
        match self {
            EncoderMetric::Bitrate => "obs-bitrate",
            EncoderMetric::Congestion => "obs-congestion",
            EncoderMetric::NetworkDrops => "obs-network-drops",
            EncoderMetric::EncoderSkips => "obs-encoder-skips",
            EncoderMetric::RenderLag => "obs-render-lag",
            EncoderMetric::Cpu => "obs-cpu",
        }
    }

    /// The label a streamer reads.
    pub fn label(self) -> &'static str {
        match self {
            EncoderMetric::Bitrate => "Bitrate",
            EncoderMetric::Congestion => "Congestion",
            EncoderMetric::NetworkDrops => "Dropped (network)",
            EncoderMetric::EncoderSkips => "Skipped (encoder)",
            EncoderMetric::RenderLag => "Missed (render)",
            EncoderMetric::Cpu => "CPU",
        }
    }

    /// The figure's value and text in `stats`.
    pub fn figure(self, stats: &EncoderStats) -> Figure {
        let frames = |count: &FrameCount| Figure {
            value: count.percent,
            count: Some(count.lost),
            text: frames_text(count),
        };
        match self {
            EncoderMetric::Bitrate => Figure::plain(stats.bitrate_kbps, |out, kbps| {
                push_integer(out, kbps.round() as i64);
                out.push_str(" kb/s");
            }),
            EncoderMetric::Congestion => Figure::plain(stats.congestion, |out, c| {
                push_integer(out, (c * 100.0).round() as i64);
                out.push_str(" %");
            }),
            EncoderMetric::NetworkDrops => frames(&stats.network),
            EncoderMetric::EncoderSkips => frames(&stats.encoder_lag),
            EncoderMetric::RenderLag => frames(&stats.render_lag),
            EncoderMetric::Cpu => Figure::plain(stats.cpu_percent, |out, cpu| {
                push_number(out, cpu);
                out.push_str(" %");
            }),
        }
    }
}

/// A figure: the number for `data-value`, a count for `data-count` when it
/// has one, and the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The plain number (`None`: not known yet).
    pub value: Option<f64>,
    /// Frames lost over the last minute, for frame figures.
    pub count: Option<u64>,
    /// What the panel shows.
    pub text: String,
}

impl Figure {
    fn plain(value: Option<f64>, write: impl Fn(&mut String, f64)) -> Figure {
        let value = value.filter(|v| v.is_finite());
        let mut text = String::new();
        match value {
            Some(v) => write(&mut text, v),
            None => text.push('\u{2014}'),
        }
        Figure {
            value,
            count: None,
            text,
        }
    }
}

/// `12 (0.7 %)`, or just the count while the minute holds too few frames.
fn frames_text(count: &FrameCount) -> String {
    let mut text = String::new();
    push_integer(&mut text, i64::try_from(count.lost).unwrap_or(i64::MAX));
    if let Some(percent) = count.percent {
        text.push_str(" (");
        push_number(&mut text, percent);
        text.push_str(" %)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> EncoderStats {
        EncoderStats {
            fresh: true,
            bitrate_kbps: Some(511.6),
            congestion: Some(0.004),
            congestion_peak: Some(0.9),
            network: FrameCount {
                lost: 12,
                total: 1800,
                percent: Some(0.6667),
            },
            encoder_lag: FrameCount {
                lost: 3,
                total: 20,
                percent: None,
            },
            render_lag: FrameCount::default(),
            cpu_percent: Some(17.46),
            active_fps: Some(30.0),
        }
    }

    #[test]
    fn figures_read_as_streamers_expect_with_plain_values_behind() {
        let stats = stats();
        let cases: [(EncoderMetric, Option<f64>, Option<u64>, &str); 6] = [
            (EncoderMetric::Bitrate, Some(511.6), None, "512 kb/s"),
            (EncoderMetric::Congestion, Some(0.004), None, "0 %"),
            (
                EncoderMetric::NetworkDrops,
                Some(0.6667),
                Some(12),
                "12 (0.7 %)",
            ),
            (EncoderMetric::EncoderSkips, None, Some(3), "3"),
            (EncoderMetric::RenderLag, None, Some(0), "0"),
            (EncoderMetric::Cpu, Some(17.46), None, "17.5 %"),
        ];
        for (metric, value, count, text) in cases {
            let figure = metric.figure(&stats);
            assert_eq!(figure.value, value, "{metric:?}");
            assert_eq!(figure.count, count, "{metric:?}");
            assert_eq!(figure.text, text, "{metric:?}");
        }
    }

    #[test]
    fn unknown_figures_read_as_a_dash() {
        let empty = EncoderStats::default();
        for metric in [
            EncoderMetric::Bitrate,
            EncoderMetric::Congestion,
            EncoderMetric::Cpu,
        ] {
            let figure = metric.figure(&empty);
            assert_eq!(figure.value, None);
            assert_eq!(figure.text, "\u{2014}");
        }
        let nan = EncoderStats {
            bitrate_kbps: Some(f64::NAN),
            ..EncoderStats::default()
        };
        assert_eq!(EncoderMetric::Bitrate.figure(&nan).value, None);
    }

    #[test]
    fn metric_names_are_distinct_from_the_drift_metrics() {
        let names: Vec<&str> = EncoderMetric::ALL.iter().map(|m| m.as_str()).collect();
        for name in &names {
            assert!(name.starts_with("obs-"), "{name}");
            assert_eq!(names.iter().filter(|n| *n == name).count(), 1);
        }
    }
}
