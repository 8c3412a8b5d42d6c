//! "Is it me, my network, or the platform?": one answer from both sides of
//! the stream.
//!
//! The stats service sees the ingest (drift, status); OBS sees the sending
//! side (congestion, frames dropped by the network, frames skipped by an
//! encoder that cannot keep up, CPU, reconnects). Each side alone is
//! ambiguous: rising drift may come from a slow upload, a slow computer or
//! the platform, and congestion in OBS says nothing about the platform.
//! [`diagnose`] joins them, in this order (the first that applies wins):
//!
//! 1. OBS not connected, or its figures older than
//!    [`super::encoder::STALE_MS`]: [`Diagnosis::NoEncoderData`].
//! 2. OBS reconnecting: [`Diagnosis::ObsReconnecting`]. This also explains
//!    an `unknown` or stale ingest: nothing reaches it meanwhile.
//! 3. OBS not streaming (stopped, or still starting):
//!    [`Diagnosis::NotStreaming`].
//! 4. Encoder-lag skips above [`ENCODER_SKIP_MAX_PERCENT`] of the last
//!    minute's frames: [`Diagnosis::SlowComputer`]. Checked before the
//!    network because an encoder that cannot keep up is a cause on the
//!    streamer's side that no network change fixes, and its skips are
//!    counted by OBS only for that reason.
//! 5. Congestion above [`CONGESTION_MAX`] in the last ten seconds, or
//!    network drops above [`NETWORK_DROP_MAX_PERCENT`] of the last minute's
//!    frames: [`Diagnosis::SlowNetwork`], whatever the ingest says (frames
//!    dropped before they leave never show up as drift, and drift that rises
//!    with them has its cause right there).
//! 6. CPU above [`CPU_MAX_PERCENT`]: [`Diagnosis::SlowComputer`]. Weaker
//!    evidence than skips (a busy machine may still keep up), so it comes
//!    after the network.
//! 7. OBS's frame counts not known yet (fewer than
//!    [`super::encoder::MIN_FRAMES`] frames in the last minute: the first
//!    seconds of a stream, or just after a reconnect, which resets them):
//!    [`Diagnosis::NoEncoderData`]. "OBS sends everything in time" needs
//!    those counts; without them a slow encoder read as the platform's
//!    fault until its first skips were counted.
//! 8. OBS clean while the ingest's drift rises (good or poor, or the
//!    slow-drift warning) or the service has no fresh data for a stream OBS
//!    is sending: [`Diagnosis::PathOrPlatform`].
//! 9. Otherwise [`Diagnosis::AllClear`].
//!
//! Thresholds, and why:
//! - [`CONGESTION_MAX`] 0.2: OBS's congestion is the smoothed fill of its
//!   send buffer, 0 when the network keeps up and 1 when nothing gets out;
//!   a healthy upload stays at 0 with short blips, while a fifth of the
//!   buffer held back means the upload is falling behind the bitrate. The
//!   peak of the last ten seconds is used so the verdict does not flicker
//!   each second, and a burst that just ended still explains the drift it
//!   caused.
//! - [`NETWORK_DROP_MAX_PERCENT`] and [`ENCODER_SKIP_MAX_PERCENT`] 1 %: at
//!   30 fps, 18 frames a minute, a visible stutter every few seconds; below
//!   that, drops are rare enough to come from a single hiccup. OBS's stats
//!   dock also starts to colour dropped frames from a few tenths of a
//!   percent, so 1 % is a plain "this is happening".
//! - [`CPU_MAX_PERCENT`] 90 %: OBS's `cpuUsage` is its share of the whole
//!   machine; at 90 % a software encoder has no headroom left and starts
//!   skipping at the next busy scene.

use crate::core::monitor::View;
use crate::core::poll::ConnState;
use crate::core::status::Status;
use crate::core::trend::Trend;

use super::client::{EncoderState, ObsClient};
use super::encoder::EncoderStats;

/// Congestion above this (over the last ten seconds) names the network.
pub const CONGESTION_MAX: f64 = 0.2;
/// Frames dropped by the network above this share of the last minute.
pub const NETWORK_DROP_MAX_PERCENT: f64 = 1.0;
/// Frames skipped by encoder lag above this share of the last minute.
pub const ENCODER_SKIP_MAX_PERCENT: f64 = 1.0;
/// OBS's CPU use above this names the computer.
pub const CPU_MAX_PERCENT: f64 = 90.0;

/// What the stats service says about the ingest, as far as the diagnosis
/// cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestSide {
    /// Excellent, and not slowly falling behind.
    Healthy,
    /// Good or poor, or slowly falling behind.
    DriftRising,
    /// The service answers, but has no fresh data (unknown, or stale).
    NoData,
    /// The monitor has no answer from the service (no token, retrying,
    /// refused): only OBS can speak.
    Unavailable,
}

impl IngestSide {
    /// Reads the monitor's view and drift trend.
    pub fn from_view(view: &View, trend: Option<&Trend>) -> IngestSide {
        if view.state != ConnState::Live {
            return IngestSide::Unavailable;
        }
        if view.stale || view.status == Status::Unknown {
            return IngestSide::NoData;
        }
        let falling_behind = trend.is_some_and(|t| t.falling_behind);
        match view.status {
            Status::Good | Status::Poor => IngestSide::DriftRising,
            _ if falling_behind => IngestSide::DriftRising,
            _ => IngestSide::Healthy,
        }
    }
}

/// The verdict, with a sentence for the streamer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    /// Nothing from OBS to judge by.
    NoEncoderData,
    /// OBS lost the ingest and is reconnecting.
    ObsReconnecting,
    /// OBS is not streaming.
    NotStreaming,
    /// The upload cannot carry the stream.
    SlowNetwork,
    /// The computer cannot encode in real time.
    SlowComputer,
    /// OBS sends cleanly; the trouble is further along.
    PathOrPlatform,
    /// Both sides look healthy.
    AllClear,
}

impl Diagnosis {
    /// A `data-diagnosis` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Diagnosis::NoEncoderData => "no-encoder-data",
            Diagnosis::ObsReconnecting => "obs-reconnecting",
            Diagnosis::NotStreaming => "obs-not-streaming",
            Diagnosis::SlowNetwork => "slow-network",
            Diagnosis::SlowComputer => "slow-computer",
            Diagnosis::PathOrPlatform => "path-or-platform",
            Diagnosis::AllClear => "all-clear",
        }
    }

    /// What it means and what to do, in a sentence.
    pub fn sentence(self) -> &'static str {
        match self {
            Diagnosis::NoEncoderData => "No encoder data from OBS.",
            Diagnosis::ObsReconnecting => {
                "OBS lost its connection to the ingest and is reconnecting: nothing reaches \
                 the platform until it is back."
            }
            Diagnosis::NotStreaming => "OBS is not streaming: start streaming in OBS.",
            Diagnosis::SlowNetwork => {
                "The network between you and the ingest is too slow: lower the bitrate."
            }
            Diagnosis::SlowComputer => {
                "Your computer cannot encode fast enough: use a faster preset or a lower \
                 resolution."
            }
            Diagnosis::PathOrPlatform => {
                "OBS sends everything in time, so the trouble is on the way to the platform \
                 or at the platform, not on your side."
            }
            Diagnosis::AllClear => "OBS and the ingest both look healthy.",
        }
    }
}

/// OBS's side as the page shows it at one moment: the Encoder panel, the
/// diagnosis under the advice, and `lsh:status`'s `encoder` object.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderView {
    /// The `data-encoder` value.
    pub state: EncoderState,
    /// The panel's one line (`None` when OBS is not read).
    pub message: Option<String>,
    /// The figures.
    pub stats: EncoderStats,
    /// The verdict from both sides.
    pub diagnosis: Diagnosis,
}

impl EncoderView {
    /// What `client` shows at `now_ms`, judged with the ingest side.
    pub fn of(client: &ObsClient, ingest: IngestSide, now_ms: f64) -> EncoderView {
        let state = client.state();
        let stats = client.stats(now_ms);
        EncoderView {
            state,
            message: client.message(),
            diagnosis: diagnose(ingest, state, &stats),
            stats,
        }
    }

    /// Whether the diagnosis has something to say (OBS is read and its
    /// figures are recent).
    pub fn has_diagnosis(&self) -> bool {
        self.diagnosis != Diagnosis::NoEncoderData
    }
}

/// Joins both sides (see the module documentation for the rules).
pub fn diagnose(ingest: IngestSide, encoder: EncoderState, stats: &EncoderStats) -> Diagnosis {
    match encoder {
        EncoderState::Off
        | EncoderState::Connecting
        | EncoderState::Unreachable
        | EncoderState::Refused => return Diagnosis::NoEncoderData,
        EncoderState::Reconnecting => return Diagnosis::ObsReconnecting,
        EncoderState::Starting | EncoderState::Stopped => return Diagnosis::NotStreaming,
        EncoderState::Live => {}
    }
    if !stats.fresh {
        return Diagnosis::NoEncoderData;
    }
    let above = |value: Option<f64>, limit: f64| value.is_some_and(|v| v > limit);
    if above(stats.encoder_lag.percent, ENCODER_SKIP_MAX_PERCENT) {
        return Diagnosis::SlowComputer;
    }
    if above(stats.congestion_peak, CONGESTION_MAX)
        || above(stats.network.percent, NETWORK_DROP_MAX_PERCENT)
    {
        return Diagnosis::SlowNetwork;
    }
    if above(stats.cpu_percent, CPU_MAX_PERCENT) {
        return Diagnosis::SlowComputer;
    }
    if stats.network.percent.is_none() || stats.encoder_lag.percent.is_none() {
        return Diagnosis::NoEncoderData;
    }
    match ingest {
        IngestSide::DriftRising | IngestSide::NoData => Diagnosis::PathOrPlatform,
        IngestSide::Healthy | IngestSide::Unavailable => Diagnosis::AllClear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::obs::encoder::FrameCount;

    fn frames(percent: f64) -> FrameCount {
        FrameCount {
            lost: (percent * 18.0).round() as u64,
            total: 1800,
            percent: Some(percent),
        }
    }

    /// Clean figures of a live OBS.
    fn clean() -> EncoderStats {
        EncoderStats {
            fresh: true,
            bitrate_kbps: Some(500.0),
            congestion: Some(0.0),
            congestion_peak: Some(0.0),
            network: frames(0.0),
            encoder_lag: frames(0.0),
            render_lag: frames(0.0),
            cpu_percent: Some(18.0),
            active_fps: Some(30.0),
        }
    }

    fn with(change: impl Fn(&mut EncoderStats)) -> EncoderStats {
        let mut stats = clean();
        change(&mut stats);
        stats
    }

    #[test]
    fn the_encoder_view_of_a_client_off_unreachable_and_live() {
        use crate::core::obs::{ObsClient, ObsSettings};
        let off = EncoderView::of(&ObsClient::new(None), IngestSide::DriftRising, 0.0);
        assert_eq!(off.state, EncoderState::Off);
        assert_eq!(off.message, None);
        assert!(!off.has_diagnosis());

        let mut client = ObsClient::new(Some(ObsSettings::new(4455, Some("pw"))));
        client.start(0.0);
        client.on_closed(1, 1006, 10.0);
        let unreachable = EncoderView::of(&client, IngestSide::DriftRising, 20.0);
        assert_eq!(unreachable.state, EncoderState::Unreachable);
        assert_eq!(
            unreachable.message.as_deref(),
            Some("OBS not reachable on port 4455")
        );
        assert_eq!(unreachable.diagnosis, Diagnosis::NoEncoderData);

        let mut client = ObsClient::new(Some(ObsSettings::new(4455, None)));
        client.start(0.0);
        client.on_open(1);
        client.on_text(1, r#"{"op":0,"d":{"rpcVersion":1}}"#, 10.0);
        client.on_text(1, r#"{"op":2,"d":{"negotiatedRpcVersion":1}}"#, 20.0);
        let event = r#"{"op":5,"d":{"eventType":"StreamStateChanged","eventIntent":64,"eventData":{"outputActive":true,"outputState":"OBS_WEBSOCKET_OUTPUT_RECONNECTING"}}}"#;
        client.on_text(1, event, 30.0);
        let reconnecting = EncoderView::of(&client, IngestSide::NoData, 40.0);
        assert_eq!(reconnecting.state, EncoderState::Reconnecting);
        assert_eq!(reconnecting.diagnosis, Diagnosis::ObsReconnecting);
        assert!(reconnecting.has_diagnosis());
    }

    #[test]
    fn the_rules_in_order() {
        use Diagnosis::*;
        use EncoderState as E;
        use IngestSide as I;
        let congested = with(|s| s.congestion_peak = Some(0.9));
        let dropping = with(|s| s.network = frames(3.0));
        let lagging = with(|s| s.encoder_lag = frames(5.0));
        let busy = with(|s| s.cpu_percent = Some(97.0));
        let stale = with(|s| s.fresh = false);
        let cases: Vec<(&str, I, E, EncoderStats, Diagnosis)> = vec![
            (
                "no obs parameter",
                I::DriftRising,
                E::Off,
                clean(),
                NoEncoderData,
            ),
            (
                "obs unreachable",
                I::DriftRising,
                E::Unreachable,
                clean(),
                NoEncoderData,
            ),
            (
                "password refused",
                I::Healthy,
                E::Refused,
                clean(),
                NoEncoderData,
            ),
            (
                "still connecting",
                I::Healthy,
                E::Connecting,
                clean(),
                NoEncoderData,
            ),
            (
                "obs figures stale",
                I::DriftRising,
                E::Live,
                stale,
                NoEncoderData,
            ),
            (
                "reconnect explains unknown",
                I::NoData,
                E::Reconnecting,
                clean(),
                ObsReconnecting,
            ),
            (
                "reconnect explains stale",
                I::NoData,
                E::Reconnecting,
                dropping.clone(),
                ObsReconnecting,
            ),
            (
                "reconnect, ingest fine",
                I::Healthy,
                E::Reconnecting,
                clean(),
                ObsReconnecting,
            ),
            ("stopped", I::NoData, E::Stopped, clean(), NotStreaming),
            ("starting", I::NoData, E::Starting, clean(), NotStreaming),
            (
                "drift with congestion",
                I::DriftRising,
                E::Live,
                congested.clone(),
                SlowNetwork,
            ),
            (
                "drift with drops",
                I::DriftRising,
                E::Live,
                dropping.clone(),
                SlowNetwork,
            ),
            (
                "drops, ingest still fine",
                I::Healthy,
                E::Live,
                dropping.clone(),
                SlowNetwork,
            ),
            (
                "congestion, no ingest answer",
                I::Unavailable,
                E::Live,
                congested,
                SlowNetwork,
            ),
            (
                "drift with encoder lag",
                I::DriftRising,
                E::Live,
                lagging.clone(),
                SlowComputer,
            ),
            (
                "encoder lag, ingest fine",
                I::Healthy,
                E::Live,
                lagging,
                SlowComputer,
            ),
            (
                "cpu high",
                I::DriftRising,
                E::Live,
                busy.clone(),
                SlowComputer,
            ),
            (
                "clean obs, drift rising",
                I::DriftRising,
                E::Live,
                clean(),
                PathOrPlatform,
            ),
            (
                "clean obs, no ingest data",
                I::NoData,
                E::Live,
                clean(),
                PathOrPlatform,
            ),
            (
                "clean obs, ingest healthy",
                I::Healthy,
                E::Live,
                clean(),
                AllClear,
            ),
            (
                "clean obs, no ingest answer",
                I::Unavailable,
                E::Live,
                clean(),
                AllClear,
            ),
        ];
        for (name, ingest, encoder, stats, expected) in cases {
            assert_eq!(diagnose(ingest, encoder, &stats), expected, "{name}");
        }
    }

    #[test]
    fn no_verdict_on_obs_before_its_frame_counts_are_known() {
        // The first seconds of a stream, or just after a reconnect (which
        // resets OBS's counters): under 30 frames in the window.
        let unknown = FrameCount {
            lost: 0,
            total: 12,
            percent: None,
        };
        let early = with(|s| {
            s.network = unknown;
            s.encoder_lag = unknown;
        });
        for ingest in [
            IngestSide::DriftRising,
            IngestSide::NoData,
            IngestSide::Healthy,
        ] {
            assert_eq!(
                diagnose(ingest, EncoderState::Live, &early),
                Diagnosis::NoEncoderData,
                "{ingest:?}"
            );
        }
        let no_skips_yet = with(|s| s.encoder_lag = unknown);
        assert_eq!(
            diagnose(IngestSide::DriftRising, EncoderState::Live, &no_skips_yet),
            Diagnosis::NoEncoderData
        );
        // What OBS already shows still speaks.
        let congested_early = with(|s| {
            s.encoder_lag = unknown;
            s.congestion_peak = Some(0.9);
        });
        assert_eq!(
            diagnose(
                IngestSide::DriftRising,
                EncoderState::Live,
                &congested_early
            ),
            Diagnosis::SlowNetwork
        );
    }

    #[test]
    fn encoder_lag_outranks_the_network_and_the_network_outranks_cpu() {
        let both = with(|s| {
            s.encoder_lag = frames(2.0);
            s.network = frames(2.0);
        });
        assert_eq!(
            diagnose(IngestSide::DriftRising, EncoderState::Live, &both),
            Diagnosis::SlowComputer
        );
        let busy_and_congested = with(|s| {
            s.cpu_percent = Some(95.0);
            s.congestion_peak = Some(0.5);
        });
        assert_eq!(
            diagnose(
                IngestSide::DriftRising,
                EncoderState::Live,
                &busy_and_congested
            ),
            Diagnosis::SlowNetwork
        );
    }

    #[test]
    fn thresholds_are_exclusive() {
        let at_limits = with(|s| {
            s.congestion_peak = Some(CONGESTION_MAX);
            s.network = frames(NETWORK_DROP_MAX_PERCENT);
            s.encoder_lag = frames(ENCODER_SKIP_MAX_PERCENT);
            s.cpu_percent = Some(CPU_MAX_PERCENT);
        });
        assert_eq!(
            diagnose(IngestSide::Healthy, EncoderState::Live, &at_limits),
            Diagnosis::AllClear
        );
    }

    #[test]
    fn every_verdict_has_a_distinct_word_and_a_sentence() {
        let all = [
            Diagnosis::NoEncoderData,
            Diagnosis::ObsReconnecting,
            Diagnosis::NotStreaming,
            Diagnosis::SlowNetwork,
            Diagnosis::SlowComputer,
            Diagnosis::PathOrPlatform,
            Diagnosis::AllClear,
        ];
        let mut words: Vec<&str> = all.iter().map(|d| d.as_str()).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), all.len());
        assert!(all.iter().all(|d| d.sentence().ends_with('.')));
        assert_eq!(
            Diagnosis::SlowNetwork.sentence(),
            "The network between you and the ingest is too slow: lower the bitrate."
        );
        assert_eq!(
            Diagnosis::SlowComputer.sentence(),
            "Your computer cannot encode fast enough: use a faster preset or a lower resolution."
        );
    }

    mod from_view {
        use super::*;
        use crate::core::monitor::{Role, View};

        fn view(state: ConnState, status: Status, stale: bool) -> View {
            View {
                status,
                state,
                session_avg_ms: None,
                deviation_ms: None,
                session_avg_text: String::new(),
                deviation_text: String::new(),
                updated_text: None,
                stale,
                state_text: String::new(),
                message: None,
                expiry_text: None,
                advice: "",
                role: Role::Solo,
            }
        }

        #[test]
        fn reads_the_ingest_side_from_the_monitor() {
            let falling = Trend {
                ms_per_min: 400.0,
                falling_behind: true,
            };
            let flat = Trend {
                ms_per_min: 10.0,
                falling_behind: false,
            };
            let cases = [
                (
                    ConnState::Live,
                    Status::Excellent,
                    false,
                    None,
                    IngestSide::Healthy,
                ),
                (
                    ConnState::Live,
                    Status::Excellent,
                    false,
                    Some(flat),
                    IngestSide::Healthy,
                ),
                (
                    ConnState::Live,
                    Status::Excellent,
                    false,
                    Some(falling),
                    IngestSide::DriftRising,
                ),
                (
                    ConnState::Live,
                    Status::Good,
                    false,
                    None,
                    IngestSide::DriftRising,
                ),
                (
                    ConnState::Live,
                    Status::Poor,
                    false,
                    None,
                    IngestSide::DriftRising,
                ),
                (
                    ConnState::Live,
                    Status::Unknown,
                    false,
                    None,
                    IngestSide::NoData,
                ),
                (
                    ConnState::Live,
                    Status::Excellent,
                    true,
                    None,
                    IngestSide::NoData,
                ),
                (
                    ConnState::Retrying,
                    Status::Poor,
                    true,
                    None,
                    IngestSide::Unavailable,
                ),
                (
                    ConnState::Connecting,
                    Status::Unknown,
                    false,
                    None,
                    IngestSide::Unavailable,
                ),
                (
                    ConnState::WaitingToken,
                    Status::Unknown,
                    false,
                    None,
                    IngestSide::Unavailable,
                ),
                (
                    ConnState::TokenRejected,
                    Status::Unknown,
                    false,
                    None,
                    IngestSide::Unavailable,
                ),
                (
                    ConnState::TokenExpired,
                    Status::Unknown,
                    false,
                    None,
                    IngestSide::Unavailable,
                ),
            ];
            for (state, status, stale, trend, expected) in cases {
                assert_eq!(
                    IngestSide::from_view(&view(state, status, stale), trend.as_ref()),
                    expected,
                    "{state:?} {status:?} stale={stale} {trend:?}"
                );
            }
        }
    }
}
