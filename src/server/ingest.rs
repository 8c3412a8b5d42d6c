//! Timing of real encoders: turns the timestamps of an RTMP publish into
//! media time, and keeps one live stream's drift across publishes. Pure: no
//! tokio, no sockets, no clock; [`super::rtmp`] feeds it.
//!
//! **Media time** of a publish ([`MediaClock`]) is the highest timestamp seen
//! across audio and video minus the timestamp of the first real frame. The
//! rules, each from what encoders were seen to send:
//! - **Config packets carry no time.** Sequence headers (AVC/HEVC/AV1 decoder
//!   configuration, AAC AudioSpecificConfig), end-of-sequence markers, video
//!   command frames and metadata come stamped 0 by ffmpeg even when the media
//!   starts elsewhere, so they are ignored entirely: they neither pick the
//!   first timestamp nor move the clock. [`classify_video`] and
//!   [`classify_audio`] read the FLV tag header to tell them apart.
//! - **Tracks interleave.** Audio and video each rise, but an audio packet
//!   may follow a later video packet; the highest timestamp wins, so a packet
//!   from the track that lags never moves media time back.
//! - **Timestamps wrap.** RTMP timestamps are 32 bits, and ffmpeg's FLV muxer
//!   masks them to 31 bits, so a long publish wraps at 2^31 ms (24.8 days)
//!   from ffmpeg and at 2^32 ms from others. Each timestamp is placed, by
//!   serial-number arithmetic, at whichever of `raw`, `raw ± 2^31` and
//!   `raw ± 2^32` (plus the wraps already seen) lies closest to the highest
//!   timestamp so far. A large backward jump thus reads as a wrap of the
//!   matching size, and a straggler from just before a wrap, arriving after
//!   it, stays just before it. A jump of more than half a wrap period is
//!   indistinguishable from a wrap and is taken as one.
//! - **The start can be anywhere.** Only differences count, so a publish
//!   whose first frame is stamped 5 000 or 2^31 − 1 000 measures the same.
//!
//! **Drift across publishes** ([`LiveIngest`]) runs on two clocks, because the
//! stand-in's `--time-scale` speeds up simulated time while a real encoder
//! sends media in real time:
//! - wallclock elapsed, the rolling window and the 1 Hz sampling are on the
//!   **real** clock: scaling them would compare scaled seconds with real
//!   media seconds and report a drift of `(scale − 1)` s per second;
//! - `updated_at` and the 3-minute `unknown` timeout are on the **scaled**
//!   clock, like every other time the stand-in reports, so a test at a high
//!   time scale sees "no data for 3 minutes" in seconds.
//!
//! While a publish is live its latest sample never goes stale (at a time
//! scale above 180 one real second between samples is more than 3 scaled
//! minutes); once it ends, the last sample is reported until it is 3 scaled
//! minutes old. Every publish starts a new session of the drift engine and
//! takes its first sample at the moment it is accepted (drift 0, as a
//! simulated encoder's first tick), so a reconnect shows a reset session
//! average at once. A newer publish of the same stream replaces an older one
//! (see [`super::rtmp`]); samples of a replaced publish are refused.

use super::drift::{DriftEngine, Reading, Sample, STALE_AFTER_MS};

/// What an RTMP audio or video message carries, as far as timing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An audio frame.
    Audio,
    /// A video frame.
    Video,
    /// Decoder configuration, metadata, an end-of-sequence marker, a command
    /// frame or an empty message: no media time.
    Config,
}

/// The wrap periods encoders are seen to use, in ms.
const WRAP_31: i64 = 1 << 31;
const WRAP_32: i64 = 1 << 32;
/// Where a timestamp may lie relative to its raw value (plus known wraps).
/// Listed with 0 first: on a tie the plain reading wins.
const WRAP_SHIFTS: [i64; 5] = [0, WRAP_31, WRAP_32, -WRAP_31, -WRAP_32];

/// Classifies the payload of an RTMP video message (an FLV video tag body).
///
/// Byte 0 holds the frame type (high nibble) and codec (low nibble). With the
/// enhanced-RTMP bit (0x80) set, the low nibble is a packet type instead:
/// sequence start (0), end (2), metadata (4) and MPEG-2 TS sequence start (5)
/// are configuration. For AVC and HEVC in legacy form, byte 1 is the packet
/// type: 0 is the sequence header, 2 the end of sequence. Frame type 5 is a
/// video info/command frame.
pub fn classify_video(payload: &[u8]) -> MediaKind {
    let Some(&first) = payload.first() else {
        return MediaKind::Config;
    };
    let frame_type = (first >> 4) & 0x07;
    if frame_type == 5 {
        return MediaKind::Config;
    }
    if first & 0x80 != 0 {
        return match first & 0x0F {
            0 | 2 | 4 | 5 => MediaKind::Config,
            _ => MediaKind::Video,
        };
    }
    let codec = first & 0x0F;
    // 7 = AVC, 12 = HEVC in the legacy (non-enhanced) FLV extension.
    if codec == 7 || codec == 12 {
        return match payload.get(1) {
            Some(1) => MediaKind::Video,
            _ => MediaKind::Config,
        };
    }
    if payload.len() < 2 {
        return MediaKind::Config;
    }
    MediaKind::Video
}

/// Classifies the payload of an RTMP audio message (an FLV audio tag body).
///
/// Byte 0's high nibble is the sound format. For AAC (10), byte 1 is the
/// packet type: 0 is the AudioSpecificConfig, 1 a raw frame. For the
/// enhanced-RTMP audio header (format 9) the low nibble is the packet type:
/// sequence start (0), sequence end (2) and multichannel config (4) are
/// configuration.
pub fn classify_audio(payload: &[u8]) -> MediaKind {
    let Some(&first) = payload.first() else {
        return MediaKind::Config;
    };
    match first >> 4 {
        10 => match payload.get(1) {
            Some(1) => MediaKind::Audio,
            _ => MediaKind::Config,
        },
        9 => match first & 0x0F {
            0 | 2 | 4 => MediaKind::Config,
            _ => MediaKind::Audio,
        },
        _ if payload.len() < 2 => MediaKind::Config,
        _ => MediaKind::Audio,
    }
}

/// Media time of one publish, from its message timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaClock {
    /// Unwrapped timestamp of the first audio or video frame.
    first: Option<i64>,
    /// Highest unwrapped timestamp so far (equals `first` at the start).
    highest: i64,
    /// Wraps seen so far, added to every raw timestamp.
    wrapped: i64,
}

impl MediaClock {
    /// A clock that has seen no frame yet (media time 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one message's timestamp (ms) and kind; returns the media time
    /// sent so far, in ms. Configuration messages leave the clock as it is.
    pub fn observe(&mut self, timestamp: u32, kind: MediaKind) -> i64 {
        if kind == MediaKind::Config {
            return self.media_ms();
        }
        let plain = i64::from(timestamp) + self.wrapped;
        match self.first {
            None => {
                self.first = Some(plain);
                self.highest = plain;
            }
            Some(_) => {
                let placed = self.place(plain);
                self.highest = self.highest.max(placed);
            }
        }
        self.media_ms()
    }

    /// Puts a timestamp on the unwrapped timeline next to `highest`.
    fn place(&mut self, plain: i64) -> i64 {
        let highest = self.highest;
        let shift = WRAP_SHIFTS
            .into_iter()
            .min_by_key(|shift| (plain + shift - highest).unsigned_abs())
            .unwrap_or(0);
        if shift > 0 {
            // A forward wrap: later timestamps continue from the new period.
            // (A negative shift is a straggler from before a wrap.)
            self.wrapped += shift;
        }
        plain + shift
    }

    /// Media time sent so far, in ms (0 before the first frame).
    pub fn media_ms(&self) -> i64 {
        self.first.map_or(0, |first| self.highest - first)
    }

    /// Whether an audio or video frame has arrived.
    pub fn has_started(&self) -> bool {
        self.first.is_some()
    }
}

/// Drift bookkeeping of one live stream fed by real encoders, across their
/// publishes. Real-clock and scaled-clock times are both passed in, in Unix
/// ms (see the module docs for which clock does what).
#[derive(Debug, Clone, Default)]
pub struct LiveIngest {
    /// Sessions and the rolling window, on the real clock.
    engine: DriftEngine,
    /// The publish currently feeding the engine.
    session: Option<u64>,
    /// The latest sample, stamped with the scaled time it was taken at.
    latest: Option<Sample>,
}

impl LiveIngest {
    /// A stream no encoder has published to yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publish `session` was accepted: starts a new drift session (dropping
    /// any previous one) and records its first sample (drift 0).
    pub fn begin(&mut self, session: u64, real_ms: i64, scaled_ms: i64) {
        self.engine.connect(real_ms);
        self.session = Some(session);
        self.record(session, real_ms, scaled_ms, 0);
    }

    /// Records a sample of publish `session`: the media time it has sent
    /// since it was accepted. Returns false, recording nothing, when that
    /// publish is no longer the stream's current one.
    pub fn record(&mut self, session: u64, real_ms: i64, scaled_ms: i64, media_ms: i64) -> bool {
        if self.session != Some(session) {
            return false;
        }
        match self.engine.record(real_ms, media_ms) {
            Some(sample) => {
                self.latest = Some(Sample {
                    at_ms: scaled_ms,
                    ..sample
                });
                true
            }
            None => false,
        }
    }

    /// Publish `session` ended. Returns false when it was not the current
    /// publish (a newer one replaced it), which is then left alone.
    pub fn end(&mut self, session: u64) -> bool {
        if self.session != Some(session) {
            return false;
        }
        self.session = None;
        self.engine.disconnect();
        true
    }

    /// The publish feeding the stream, if any.
    pub fn current_session(&self) -> Option<u64> {
        self.session
    }

    /// Whether an encoder is publishing.
    pub fn is_live(&self) -> bool {
        self.session.is_some()
    }

    /// What the API reports at scaled time `now_ms`.
    pub fn reading(&self, now_ms: i64) -> Reading {
        match self.latest {
            Some(sample) if self.is_live() || now_ms - sample.at_ms <= STALE_AFTER_MS => {
                Reading::of_sample(&sample)
            }
            _ => Reading::unknown(now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::drift::Status;
    use super::*;

    use MediaKind::{Audio, Config, Video};

    /// Feeds `(timestamp, kind)` pairs and returns the media time after each.
    fn media_after(packets: &[(u32, MediaKind)]) -> Vec<i64> {
        let mut clock = MediaClock::new();
        packets
            .iter()
            .map(|&(timestamp, kind)| clock.observe(timestamp, kind))
            .collect()
    }

    /// An ffmpeg-like publish: config packets at 0, then frames every
    /// `step` ms from `start`, audio and video alternating with audio
    /// 10 ms behind.
    fn interleaved_from(start: u32, frames: u32, step: u32) -> Vec<(u32, MediaKind)> {
        let mut packets = vec![(0, Config), (0, Config), (0, Config)];
        for n in 0..frames {
            let video = start.wrapping_add(n * step);
            packets.push((video, Video));
            packets.push((video.wrapping_sub(10), Audio));
        }
        packets
    }

    #[test]
    fn media_time_is_zero_before_the_first_frame() {
        let mut clock = MediaClock::new();
        assert_eq!(clock.media_ms(), 0);
        assert!(!clock.has_started());
        assert_eq!(clock.observe(12_345, Config), 0);
        assert!(!clock.has_started());
    }

    #[test]
    fn zero_stamped_sequence_headers_do_not_pick_the_first_timestamp() {
        // Headers at 0, media from 5000: media time counts from 5000.
        let media = media_after(&[
            (0, Config),
            (0, Config),
            (5_000, Video),
            (5_023, Audio),
            (5_033, Video),
            (0, Config),
        ]);
        assert_eq!(media, vec![0, 0, 0, 23, 33, 33]);
    }

    #[test]
    fn offset_start_measures_only_differences() {
        for start in [0, 5_000, 3_600_000, (1 << 31) - 2_000, u32::MAX - 2_000] {
            let media = media_after(&interleaved_from(start, 31, 100));
            assert_eq!(media.last().copied(), Some(3_000), "start {start}");
        }
    }

    #[test]
    fn interleaved_tracks_never_move_media_time_back() {
        let media = media_after(&[
            (1_000, Video),
            (990, Audio),
            (1_033, Video),
            (1_013, Audio),
            (1_036, Audio),
            (1_066, Video),
            (1_059, Audio),
        ]);
        assert_eq!(media, vec![0, 0, 33, 33, 36, 66, 66]);
    }

    #[test]
    fn ffmpeg_wrap_at_two_to_the_31_continues_the_timeline() {
        // ffmpeg masks FLV timestamps to 31 bits.
        let before = (1u32 << 31) - 1_000;
        let mut clock = MediaClock::new();
        clock.observe(before, Video);
        clock.observe(before + 900, Audio);
        assert_eq!(clock.observe(20, Video), 1_020);
        // A straggler from before the wrap does not move media time.
        assert_eq!(clock.observe(before + 950, Audio), 1_020);
        assert_eq!(clock.observe(60, Audio), 1_060);
        // 24.8 days later (in steps short of half a period), the next wrap
        // of the same size continues the timeline too.
        for raw in [1 << 29, 1 << 30, 3 << 29, (1 << 31) - 10] {
            clock.observe(raw, Video);
        }
        assert_eq!(clock.media_ms(), (1 << 31) + 990);
        assert_eq!(clock.observe(5, Video), (1 << 31) + 1_005);
    }

    #[test]
    fn wrap_at_two_to_the_32_continues_the_timeline() {
        let before = u32::MAX - 999;
        let mut clock = MediaClock::new();
        clock.observe(before, Video);
        assert_eq!(clock.observe(before + 999, Audio), 999);
        assert_eq!(clock.observe(0, Video), 1_000);
        assert_eq!(clock.observe(before + 990, Audio), 1_000);
        assert_eq!(clock.observe(500, Video), 1_500);
    }

    #[test]
    fn crossing_two_to_the_31_without_wrapping_is_not_a_wrap() {
        // An encoder that wraps at 2^32 passes 2^31 like any other value.
        let mut clock = MediaClock::new();
        clock.observe((1 << 31) - 500, Video);
        assert_eq!(clock.observe((1 << 31) + 500, Video), 1_000);
    }

    #[test]
    fn interleaved_publish_across_a_wrap_counts_every_millisecond() {
        for start in [(1u32 << 31) - 1_500, u32::MAX - 1_500] {
            let mut packets = interleaved_from(start, 31, 100);
            if start < 1 << 31 {
                // ffmpeg's 31-bit mask.
                for packet in &mut packets {
                    packet.0 &= 0x7FFF_FFFF;
                }
            }
            let media = media_after(&packets);
            assert_eq!(media.last().copied(), Some(3_000), "start {start}");
            assert!(media.windows(2).all(|w| w[1] >= w[0]), "start {start}");
        }
    }

    #[test]
    fn classifies_ffmpeg_flv_tags() {
        // AVC: keyframe sequence header, keyframe NALU, inter frame NALU, end.
        assert_eq!(classify_video(&[0x17, 0, 0, 0, 0]), Config);
        assert_eq!(classify_video(&[0x17, 1, 0, 0, 0, 0x65]), Video);
        assert_eq!(classify_video(&[0x27, 1, 0, 0, 0, 0x41]), Video);
        assert_eq!(classify_video(&[0x17, 2, 0, 0, 0]), Config);
        // Video command frame, empty message.
        assert_eq!(classify_video(&[0x57, 0]), Config);
        assert_eq!(classify_video(&[]), Config);
        // Enhanced RTMP (HEVC/AV1): sequence start, coded frames, metadata.
        assert_eq!(classify_video(&[0x90, b'h', b'v', b'c', b'1']), Config);
        assert_eq!(classify_video(&[0x91, b'h', b'v', b'c', b'1', 0]), Video);
        assert_eq!(classify_video(&[0x93, b'a', b'v', b'0', b'1']), Video);
        assert_eq!(classify_video(&[0x94, b'a', b'v', b'0', b'1']), Config);
        // Legacy codecs with a body are frames.
        assert_eq!(classify_video(&[0x22, 0xAB]), Video);
        // AAC: AudioSpecificConfig, raw frame.
        assert_eq!(classify_audio(&[0xAF, 0, 0x12, 0x10]), Config);
        assert_eq!(classify_audio(&[0xAF, 1, 0x21]), Audio);
        assert_eq!(classify_audio(&[0xAF]), Config);
        // MP3, enhanced audio sequence start and coded frames.
        assert_eq!(classify_audio(&[0x2F, 0xFF]), Audio);
        assert_eq!(classify_audio(&[0x90, b'O', b'p', b'u', b's']), Config);
        assert_eq!(classify_audio(&[0x91, b'O', b'p', b'u', b's', 0]), Audio);
        assert_eq!(classify_audio(&[]), Config);
    }

    const REAL: i64 = 1_700_000_000_000;

    #[test]
    fn a_publish_is_sampled_on_the_real_clock_and_dated_on_the_scaled_one() {
        let mut ingest = LiveIngest::new();
        // At time scale 100 each real second is 100 scaled seconds.
        let scaled = |real_s: i64| REAL + real_s * 100_000;
        ingest.begin(1, REAL, scaled(0));
        assert!(ingest.is_live());
        for second in 1..=10 {
            // 900 ms of media per real second: drift grows 100 ms per second.
            assert!(ingest.record(1, REAL + second * 1_000, scaled(second), second * 900));
        }
        let reading = ingest.reading(scaled(10));
        assert_eq!(reading.updated_at_ms, scaled(10));
        // Drifts 0..=1000 by 100: mean 500, deviation 1000 - 500.
        assert_eq!(reading.session_avg_ms, Some(500));
        assert_eq!(reading.deviation_ms, Some(500));
        assert_eq!(reading.status, Status::Excellent);
    }

    #[test]
    fn a_live_publish_never_goes_stale_between_samples() {
        let mut ingest = LiveIngest::new();
        ingest.begin(1, REAL, REAL);
        // Ten scaled minutes later, still publishing (a very high time scale).
        assert_eq!(ingest.reading(REAL + 600_000).status, Status::Excellent);
        assert!(ingest.end(1));
        assert_eq!(ingest.reading(REAL + 600_000).status, Status::Unknown);
    }

    #[test]
    fn an_ended_publish_is_reported_until_three_scaled_minutes_pass() {
        let mut ingest = LiveIngest::new();
        assert_eq!(ingest.reading(REAL).status, Status::Unknown);
        ingest.begin(1, REAL, REAL);
        ingest.record(1, REAL + 1_000, REAL + 1_000, 1_000);
        ingest.end(1);
        assert!(!ingest.is_live());
        let last = ingest.reading(REAL + 1_000 + STALE_AFTER_MS);
        assert_eq!(last.status, Status::Excellent);
        assert_eq!(last.updated_at_ms, REAL + 1_000);
        let gone = ingest.reading(REAL + 1_001 + STALE_AFTER_MS);
        assert_eq!(gone.status, Status::Unknown);
        assert_eq!(gone.session_avg_ms, None);
    }

    #[test]
    fn a_new_publish_starts_a_fresh_session() {
        let mut ingest = LiveIngest::new();
        ingest.begin(1, REAL, REAL);
        for second in 1..=20 {
            ingest.record(
                1,
                REAL + second * 1_000,
                REAL + second * 1_000,
                second * 800,
            );
        }
        let before = ingest.reading(REAL + 20_000);
        assert!(before.session_avg_ms.is_some_and(|avg| avg > 1_000));
        ingest.end(1);
        ingest.begin(2, REAL + 30_000, REAL + 30_000);
        let after = ingest.reading(REAL + 30_000);
        assert_eq!(after.session_avg_ms, Some(0));
        assert_eq!(after.deviation_ms, Some(0));
        assert_eq!(after.updated_at_ms, REAL + 30_000);
    }

    #[test]
    fn a_replaced_publish_can_neither_record_nor_end_the_new_one() {
        let mut ingest = LiveIngest::new();
        ingest.begin(1, REAL, REAL);
        ingest.begin(2, REAL + 500, REAL + 500);
        assert_eq!(ingest.current_session(), Some(2));
        assert!(!ingest.record(1, REAL + 1_000, REAL + 1_000, 0));
        assert!(!ingest.end(1));
        assert!(ingest.is_live());
        assert!(ingest.record(2, REAL + 1_500, REAL + 1_500, 1_000));
        assert!(ingest.end(2));
        assert!(!ingest.record(2, REAL + 2_500, REAL + 2_500, 2_000));
    }
}
