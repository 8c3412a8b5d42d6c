//! The encoder side of a stream, from OBS's own counters.
//!
//! OBS reports cumulative counters: bytes sent, frames dropped by the
//! network and frames in total for the stream output (`GetStreamStatus`);
//! frames skipped because the encoder lagged, frames the renderer missed,
//! and their totals (`GetStats`). The [`EncoderModel`] turns successive
//! samples into what the streamer can act on:
//!
//! - **output bitrate** in kbit/s, from the growth of `outputBytes` over the
//!   last [`BITRATE_WINDOW_MS`] (a single one-second step jitters with
//!   packet timing; five seconds reads steady and still follows a stall
//!   within a few seconds);
//! - **frames dropped by the network**, **skipped by encoder lag** and
//!   **missed by the renderer**, as counts and percentages over the last
//!   [`WINDOW_MS`]: a total since OBS started would hide a problem that
//!   began a minute ago behind an hour of good frames. A percentage needs at
//!   least [`MIN_FRAMES`] frames in the window, so the first sample after a
//!   start does not read 1 of 2 frames as 50 %;
//! - **congestion**, the latest value and the highest of the last
//!   [`CONGESTION_WINDOW_MS`] (OBS's own value is already smoothed, but it
//!   falls back to 0 within seconds once a stall ends);
//! - **CPU** and the rendered fps, as last reported.
//!
//! Counters go back to 0 when the stream output reconnects
//! (`OBS_WEBSOCKET_OUTPUT_RECONNECTED`) or restarts. Each series therefore
//! keeps increments, not totals: a sample below the previous one, or the
//! first sample after [`EncoderModel::reset_stream_counters`], counts from
//! 0, so a reset never reads as a negative rate or a huge jump.

use std::collections::VecDeque;

use super::protocol::{Stats, StreamStatus};

/// The window of frame counts and percentages.
pub const WINDOW_MS: f64 = 60_000.0;
/// The window of the output bitrate.
pub const BITRATE_WINDOW_MS: f64 = 5_000.0;
/// The window of the congestion peak.
pub const CONGESTION_WINDOW_MS: f64 = 10_000.0;
/// Fewest frames in the window for a percentage.
pub const MIN_FRAMES: f64 = 30.0;
/// Samples older than this do not describe the encoder any more.
pub const STALE_MS: f64 = 5_000.0;

/// One counter's growth between successive samples.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Step {
    at_ms: f64,
    elapsed_ms: f64,
    increment: f64,
}

/// A cumulative counter, kept as its increments over the window.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counter {
    last: Option<(f64, f64)>,
    reset_pending: bool,
    steps: VecDeque<Step>,
}

impl Counter {
    fn push(&mut self, at_ms: f64, value: Option<f64>) {
        let Some(value) = value else {
            return;
        };
        if let Some((last_at, last_value)) = self.last {
            if at_ms > last_at {
                let increment = if self.reset_pending || value < last_value {
                    value
                } else {
                    value - last_value
                };
                self.steps.push_back(Step {
                    at_ms,
                    elapsed_ms: at_ms - last_at,
                    increment,
                });
            }
        }
        self.reset_pending = false;
        self.last = Some((at_ms, value));
        while self
            .steps
            .front()
            .is_some_and(|step| step.at_ms <= at_ms - WINDOW_MS)
        {
            self.steps.pop_front();
        }
    }

    /// The next sample counts from 0.
    fn reset(&mut self) {
        self.reset_pending = true;
    }

    /// Growth and time covered by the steps of the last `window_ms`.
    fn over(&self, now_ms: f64, window_ms: f64) -> Option<(f64, f64)> {
        let mut sum = 0.0;
        let mut elapsed = 0.0;
        let mut any = false;
        for step in self.steps.iter().rev() {
            if step.at_ms <= now_ms - window_ms {
                break;
            }
            sum += step.increment;
            elapsed += step.elapsed_ms;
            any = true;
        }
        any.then_some((sum, elapsed))
    }
}

/// Frames of one kind over the last minute.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameCount {
    /// Frames dropped, skipped or missed in the window.
    pub lost: u64,
    /// All frames in the window.
    pub total: u64,
    /// `lost / total` in percent, when the window holds at least
    /// [`MIN_FRAMES`] frames.
    pub percent: Option<f64>,
}

impl FrameCount {
    fn of(lost: &Counter, total: &Counter, now_ms: f64) -> FrameCount {
        let lost = lost.over(now_ms, WINDOW_MS).map_or(0.0, |(sum, _)| sum);
        let total = total.over(now_ms, WINDOW_MS).map_or(0.0, |(sum, _)| sum);
        FrameCount {
            lost: lost.round() as u64,
            total: total.round() as u64,
            percent: (total >= MIN_FRAMES).then(|| (lost / total * 100.0).min(100.0)),
        }
    }
}

/// What the encoder panel shows, at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncoderStats {
    /// True when both kinds of sample are recent (see [`STALE_MS`]).
    pub fresh: bool,
    /// Output bitrate over the last [`BITRATE_WINDOW_MS`], kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// Latest output congestion, 0 to 1.
    pub congestion: Option<f64>,
    /// Highest congestion of the last [`CONGESTION_WINDOW_MS`].
    pub congestion_peak: Option<f64>,
    /// Frames dropped by the network (stream output).
    pub network: FrameCount,
    /// Frames skipped because the encoder could not keep up.
    pub encoder_lag: FrameCount,
    /// Frames the renderer missed.
    pub render_lag: FrameCount,
    /// OBS's CPU use, percent of the whole machine.
    pub cpu_percent: Option<f64>,
    /// Frames rendered per second.
    pub active_fps: Option<f64>,
}

/// Successive samples of one OBS, turned into [`EncoderStats`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncoderModel {
    bytes: Counter,
    network_dropped: Counter,
    network_total: Counter,
    encoder_skipped: Counter,
    encoder_total: Counter,
    render_skipped: Counter,
    render_total: Counter,
    congestion: VecDeque<(f64, f64)>,
    cpu_percent: Option<f64>,
    active_fps: Option<f64>,
    last_status_ms: Option<f64>,
    last_stats_ms: Option<f64>,
}

impl EncoderModel {
    /// An empty model.
    pub fn new() -> EncoderModel {
        EncoderModel::default()
    }

    /// A `GetStreamStatus` answer received at `now_ms`.
    pub fn on_stream_status(&mut self, status: &StreamStatus, now_ms: f64) {
        self.bytes.push(now_ms, status.bytes);
        self.network_dropped.push(now_ms, status.dropped_frames);
        self.network_total.push(now_ms, status.total_frames);
        if let Some(congestion) = status.congestion {
            self.congestion.push_back((now_ms, congestion));
        }
        while self
            .congestion
            .front()
            .is_some_and(|(at, _)| *at <= now_ms - CONGESTION_WINDOW_MS)
        {
            self.congestion.pop_front();
        }
        self.last_status_ms = Some(now_ms);
    }

    /// A `GetStats` answer received at `now_ms`.
    pub fn on_stats(&mut self, stats: &Stats, now_ms: f64) {
        self.encoder_skipped
            .push(now_ms, stats.encoder_skipped_frames);
        self.encoder_total.push(now_ms, stats.encoder_total_frames);
        self.render_skipped
            .push(now_ms, stats.render_skipped_frames);
        self.render_total.push(now_ms, stats.render_total_frames);
        self.cpu_percent = stats.cpu_percent;
        self.active_fps = stats.active_fps;
        self.last_stats_ms = Some(now_ms);
    }

    /// The stream output restarted or reconnected: its counters start from
    /// 0 again.
    pub fn reset_stream_counters(&mut self) {
        self.bytes.reset();
        self.network_dropped.reset();
        self.network_total.reset();
    }

    /// Forgets everything (the connection to OBS ended).
    pub fn clear(&mut self) {
        *self = EncoderModel::default();
    }

    /// When the latest stream status arrived.
    pub fn last_sample_ms(&self) -> Option<f64> {
        self.last_status_ms
    }

    /// The figures at `now_ms`.
    pub fn stats(&self, now_ms: f64) -> EncoderStats {
        let recent = |at: Option<f64>| at.is_some_and(|at| now_ms - at <= STALE_MS);
        let bitrate_kbps = self
            .bytes
            .over(now_ms, BITRATE_WINDOW_MS)
            .filter(|(_, elapsed)| *elapsed > 0.0)
            .map(|(bytes, elapsed)| bytes * 8.0 / elapsed);
        EncoderStats {
            fresh: recent(self.last_status_ms) && recent(self.last_stats_ms),
            bitrate_kbps,
            congestion: self.congestion.back().map(|(_, c)| *c),
            congestion_peak: self
                .congestion
                .iter()
                .filter(|(at, _)| *at > now_ms - CONGESTION_WINDOW_MS)
                .map(|(_, c)| *c)
                .reduce(f64::max),
            network: FrameCount::of(&self.network_dropped, &self.network_total, now_ms),
            encoder_lag: FrameCount::of(&self.encoder_skipped, &self.encoder_total, now_ms),
            render_lag: FrameCount::of(&self.render_skipped, &self.render_total, now_ms),
            cpu_percent: self.cpu_percent,
            active_fps: self.active_fps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(bytes: f64, dropped: f64, total: f64, congestion: f64) -> StreamStatus {
        StreamStatus {
            active: Some(true),
            reconnecting: Some(false),
            congestion: Some(congestion),
            bytes: Some(bytes),
            dropped_frames: Some(dropped),
            total_frames: Some(total),
            duration_ms: None,
        }
    }

    fn stats(skipped: f64, total: f64, cpu: f64) -> Stats {
        Stats {
            cpu_percent: Some(cpu),
            active_fps: Some(30.0),
            average_render_ms: Some(1.0),
            render_skipped_frames: Some(0.0),
            render_total_frames: Some(total),
            encoder_skipped_frames: Some(skipped),
            encoder_total_frames: Some(total),
        }
    }

    /// `seconds` of a steady 500 kbit/s stream at 30 fps, one sample a
    /// second, from `start_s`, counters starting at `bytes0`/`frames0`.
    fn steady(model: &mut EncoderModel, start_s: u32, seconds: u32, bytes0: f64, frames0: f64) {
        for s in 0..=seconds {
            let t = f64::from(start_s + s) * 1000.0;
            let bytes = bytes0 + f64::from(s) * 62_500.0;
            let frames = frames0 + f64::from(s) * 30.0;
            model.on_stream_status(&status(bytes, 0.0, frames, 0.0), t);
            model.on_stats(&stats(0.0, frames, 17.0), t);
        }
    }

    #[test]
    fn bitrate_comes_from_byte_growth_over_time() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 10, 0.0, 0.0);
        let now = stats_at(&model, 10);
        assert_eq!(now.bitrate_kbps, Some(500.0));
        assert!(now.fresh);
        assert_eq!(now.network.percent, Some(0.0));
        assert_eq!(now.cpu_percent, Some(17.0));
    }

    fn stats_at(model: &EncoderModel, second: u32) -> EncoderStats {
        model.stats(f64::from(second) * 1000.0)
    }

    #[test]
    fn one_sample_gives_no_rate_and_no_percentage() {
        let mut model = EncoderModel::new();
        model.on_stream_status(&status(1000.0, 0.0, 10.0, 0.0), 0.0);
        let now = model.stats(0.0);
        assert_eq!(now.bitrate_kbps, None);
        assert_eq!(now.network, FrameCount::default());
        assert!(!now.fresh, "no GetStats yet");
    }

    #[test]
    fn a_frozen_output_reads_zero_kbps() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 10, 0.0, 0.0);
        for s in 11..=16 {
            let t = f64::from(s) * 1000.0;
            model.on_stream_status(
                &status(
                    625_000.0,
                    f64::from(s - 10) * 30.0,
                    300.0 + f64::from(s - 10) * 30.0,
                    1.0,
                ),
                t,
            );
        }
        let now = stats_at(&model, 16);
        assert_eq!(now.bitrate_kbps, Some(0.0));
        assert_eq!(now.congestion, Some(1.0));
        assert_eq!(now.network.lost, 180);
        assert_eq!(now.network.total, 480);
        assert_eq!(now.network.percent, Some(37.5));
    }

    #[test]
    fn counters_that_restart_after_a_reconnect_count_from_zero() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 20, 0.0, 0.0);
        // Reconnected: the stream output's counters start again from 0.
        model.reset_stream_counters();
        steady(&mut model, 21, 4, 0.0, 0.0);
        let now = stats_at(&model, 25);
        // 0 bytes at 21 s (the sample right after the reset), then 62.5 kB/s.
        let kbps = now.bitrate_kbps.unwrap_or_default();
        assert!((390.0..=500.0).contains(&kbps), "{kbps}");
        assert_eq!(now.network.total, 20 * 30 + 4 * 30);
        assert_eq!(now.network.lost, 0);
    }

    #[test]
    fn a_counter_going_backwards_without_notice_is_a_reset_too() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 5, 10_000_000.0, 9_000.0);
        // The output restarted between 5 s and 6 s, unannounced.
        steady(&mut model, 6, 2, 0.0, 0.0);
        let now = stats_at(&model, 8);
        // 62.5 kB in each second of (3 s, 8 s] but the one with the reset.
        assert_eq!(now.bitrate_kbps, Some(400.0));
        assert_eq!(now.network.total, 5 * 30 + 2 * 30);
    }

    #[test]
    fn percentages_cover_the_last_minute_only() {
        let mut model = EncoderModel::new();
        // A burst of encoder lag in the first ten seconds...
        for s in 0..=10u32 {
            let t = f64::from(s) * 1000.0;
            model.on_stats(&stats(f64::from(s) * 6.0, f64::from(s) * 30.0, 95.0), t);
        }
        assert_eq!(stats_at(&model, 10).encoder_lag.percent, Some(20.0));
        // ...then clean frames for a minute and a half.
        for s in 11..=100u32 {
            let t = f64::from(s) * 1000.0;
            model.on_stats(&stats(60.0, f64::from(s) * 30.0, 20.0), t);
        }
        let now = stats_at(&model, 100);
        assert_eq!(now.encoder_lag.lost, 0);
        assert_eq!(now.encoder_lag.percent, Some(0.0));
        assert_eq!(now.cpu_percent, Some(20.0));
    }

    #[test]
    fn too_few_frames_give_a_count_but_no_percentage() {
        let mut model = EncoderModel::new();
        model.on_stats(&stats(0.0, 0.0, 5.0), 0.0);
        model.on_stats(&stats(1.0, 2.0, 5.0), 1000.0);
        let now = model.stats(1000.0);
        assert_eq!(now.encoder_lag.lost, 1);
        assert_eq!(now.encoder_lag.total, 2);
        assert_eq!(now.encoder_lag.percent, None);
    }

    #[test]
    fn congestion_peak_remembers_the_last_ten_seconds() {
        let mut model = EncoderModel::new();
        model.on_stream_status(&status(0.0, 0.0, 0.0, 0.9), 0.0);
        for s in 1..=9 {
            model.on_stream_status(&status(0.0, 0.0, 0.0, 0.0), f64::from(s) * 1000.0);
        }
        let now = model.stats(9000.0);
        assert_eq!(now.congestion, Some(0.0));
        assert_eq!(now.congestion_peak, Some(0.9));
        model.on_stream_status(&status(0.0, 0.0, 0.0, 0.0), 10_000.0);
        assert_eq!(model.stats(10_000.0).congestion_peak, Some(0.0));
    }

    #[test]
    fn old_samples_are_not_fresh() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 3, 0.0, 0.0);
        assert!(model.stats(3000.0 + STALE_MS).fresh);
        assert!(!model.stats(3001.0 + STALE_MS).fresh);
    }

    #[test]
    fn missing_values_leave_the_series_alone() {
        let mut model = EncoderModel::new();
        steady(&mut model, 0, 5, 0.0, 0.0);
        model.on_stream_status(&StreamStatus::default(), 6000.0);
        steady(&mut model, 7, 0, 7.0 * 62_500.0, 210.0);
        let now = stats_at(&model, 7);
        assert_eq!(now.bitrate_kbps, Some(500.0));
    }
}
