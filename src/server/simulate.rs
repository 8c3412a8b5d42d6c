//! Simulated encoders: named scenarios and scripted segment sequences that
//! feed the [drift engine](super::drift). Pure like the engine: time comes in
//! as milliseconds, randomness from a seeded xorshift.
//!
//! A scenario is a list of segments, each `(duration, media rate, jitter,
//! connected)`. During a segment the encoder sends `rate` seconds of media per
//! second of wallclock, so drift grows by `(1 - rate) * 1000` ms per second;
//! each sample's media time is perturbed by a uniform jitter in
//! `[-jitter, +jitter]` ms (a measurement wobble: it does not accumulate).
//! An `off` segment disconnects the encoder; the next connected segment
//! reconnects it, which starts a new session. Every scenario loops, so a demo
//! keeps changing; drift is not reset at the loop point unless an `off`
//! segment reconnects the encoder.
//!
//! The rolling window turns a drift slope of `s` ms/s into a deviation of
//! about `14.5 * s` ms, which is what the named scenarios are tuned by:
//!
//! | name | script | what it shows |
//! |---|---|---|
//! | `steady` | `60s@1.0~40` | excellent throughout |
//! | `jittery` | `60s@0.95~150,60s@1.05~150` | mostly good, excellent at the turns |
//! | `congested` | `60s@1.0~40,60s@0.97~60,120s@0.9~100` | excellent, then drifting into poor |
//! | `recovering` | `120s@0.9~80,180s@1.0~40` | poor, then back to excellent |
//! | `flapping` | `30s@1.0~40,30s@0.9~60` | alternates excellent and poor |
//! | `disconnect` | `60s@1.0~40,240s@off` | connected, then gone: unknown 3 min later |
//!
//! A custom scenario is `script:` followed by comma-separated segments
//! `<duration><s|m|h>@<rate|off>[~<jitter ms>]`, e.g.
//! `script:30s@1.0~50,20s@0.8,10s@off`.
//!
//! Each encoder also has an [audience](super::audience), stepped on the
//! same ticks with what the encoder did: its viewers ramp up while it
//! plays, thin out while it is poor and drop after it disconnects.

use std::fmt;

use super::audience::{Audience, Counts};
use super::drift::{DriftEngine, Reading, SAMPLE_INTERVAL_MS};

/// The named scenarios and their scripts.
pub const NAMED_SCENARIOS: &[(&str, &str)] = &[
    ("steady", "60s@1.0~40"),
    ("jittery", "60s@0.95~150,60s@1.05~150"),
    ("congested", "60s@1.0~40,60s@0.97~60,120s@0.9~100"),
    ("recovering", "120s@0.9~80,180s@1.0~40"),
    ("flapping", "30s@1.0~40,30s@0.9~60"),
    ("disconnect", "60s@1.0~40,240s@off"),
];

/// Longest segment accepted, to keep arithmetic far from overflow.
const MAX_SEGMENT_MS: i64 = 7 * 24 * 3_600_000;
/// Largest jitter accepted, in ms.
const MAX_JITTER_MS: i64 = 60_000;
/// Largest number of segments in a script.
const MAX_SEGMENTS: usize = 100;

/// One stretch of encoder behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Length in ms of stream time (at least one sample interval).
    pub duration_ms: i64,
    /// Media seconds per wallclock second; `None` means disconnected.
    pub media_rate: Option<f64>,
    /// Amplitude of the per-sample media-time wobble, in ms.
    pub jitter_ms: i64,
}

/// A looping sequence of segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The spec it was parsed from (a name or `script:...`).
    pub spec: String,
    /// The segments, played in order and repeated.
    pub segments: Vec<Segment>,
}

/// Why a scenario spec was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Parses a scenario name (see [`NAMED_SCENARIOS`]) or a `script:` spec.
    pub fn parse(spec: &str) -> Result<Self, ScenarioError> {
        let spec = spec.trim();
        let script = match spec.strip_prefix("script:") {
            Some(script) => script,
            None => NAMED_SCENARIOS
                .iter()
                .find(|(name, _)| *name == spec)
                .map(|(_, script)| *script)
                .ok_or_else(|| {
                    let names: Vec<&str> = NAMED_SCENARIOS.iter().map(|(n, _)| *n).collect();
                    ScenarioError(format!(
                        "unknown scenario {spec:?}: use one of {} or script:<segments>",
                        names.join(", ")
                    ))
                })?,
        };
        let segments = script
            .split(',')
            .map(parse_segment)
            .collect::<Result<Vec<_>, _>>()?;
        if segments.is_empty() || segments.len() > MAX_SEGMENTS {
            return Err(ScenarioError(format!(
                "a script needs 1 to {MAX_SEGMENTS} segments"
            )));
        }
        Ok(Self {
            spec: spec.to_owned(),
            segments,
        })
    }

    fn cycle_ms(&self) -> i64 {
        self.segments.iter().map(|s| s.duration_ms).sum()
    }

    /// The segment in force `offset_ms` after the scenario started.
    fn segment_at(&self, offset_ms: i64) -> &Segment {
        let mut position = offset_ms.rem_euclid(self.cycle_ms().max(1));
        for segment in &self.segments {
            if position < segment.duration_ms {
                return segment;
            }
            position -= segment.duration_ms;
        }
        // Unreachable with a positive cycle; the last segment is a safe answer.
        &self.segments[self.segments.len() - 1]
    }
}

/// `<duration><unit>@<rate|off>[~<jitter>]`.
fn parse_segment(text: &str) -> Result<Segment, ScenarioError> {
    let bad = |why: &str| ScenarioError(format!("bad segment {text:?}: {why}"));
    let (duration, rest) = text
        .trim()
        .split_once('@')
        .ok_or_else(|| bad("expected <duration>@<rate|off>[~<jitter ms>]"))?;
    let duration_ms =
        parse_duration_ms(duration).ok_or_else(|| bad("duration like 30s, 2m or 1h"))?;
    if !(SAMPLE_INTERVAL_MS..=MAX_SEGMENT_MS).contains(&duration_ms) {
        return Err(bad("duration must be between 1s and 7 days"));
    }
    let (rate, jitter) = match rest.split_once('~') {
        Some((rate, jitter)) => (rate, Some(jitter)),
        None => (rest, None),
    };
    let media_rate = if rate == "off" {
        None
    } else {
        let rate: f64 = rate.parse().map_err(|_| bad("rate is a number or off"))?;
        if !(0.0..=10.0).contains(&rate) {
            return Err(bad("rate must be between 0 and 10"));
        }
        Some(rate)
    };
    let jitter_ms = match jitter {
        Some(jitter) => jitter
            .parse::<i64>()
            .ok()
            .filter(|j| (0..=MAX_JITTER_MS).contains(j))
            .ok_or_else(|| bad("jitter is whole ms between 0 and 60000"))?,
        None => 0,
    };
    Ok(Segment {
        duration_ms,
        media_rate,
        jitter_ms,
    })
}

/// `30s`, `2m`, `1h` (whole numbers) to ms.
fn parse_duration_ms(text: &str) -> Option<i64> {
    let unit_ms = match text.chars().last()? {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        _ => return None,
    };
    let number: i64 = text[..text.len() - 1].parse().ok()?;
    number.checked_mul(unit_ms)
}

/// A small deterministic generator (xorshift64*) for jitter.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Zero is the one state xorshift never leaves.
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[-amplitude, amplitude]`.
    fn symmetric(&mut self, amplitude: i64) -> i64 {
        if amplitude <= 0 {
            return 0;
        }
        let span = u64::try_from(amplitude).unwrap_or(0) * 2 + 1;
        i64::try_from(self.next() % span).unwrap_or(0) - amplitude
    }
}

/// A stable seed from a text (FNV-1a), so a stream's jitter is reproducible.
pub fn seed_from(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An encoder playing a scenario into its own drift engine.
#[derive(Debug, Clone)]
pub struct SimulatedEncoder {
    scenario: Scenario,
    started_at_ms: i64,
    /// Index of the next sample tick (tick k happens at start + k * interval).
    next_tick: i64,
    /// Media time sent since the current connection began, in ms.
    media_elapsed_ms: f64,
    rng: XorShift,
    engine: DriftEngine,
    audience: Audience,
}

impl SimulatedEncoder {
    /// An encoder that starts its scenario at `started_at_ms`.
    pub fn new(scenario: Scenario, started_at_ms: i64, seed: u64) -> Self {
        Self {
            scenario,
            started_at_ms,
            next_tick: 0,
            media_elapsed_ms: 0.0,
            rng: XorShift::new(seed),
            engine: DriftEngine::new(),
            audience: Audience::new(seed, started_at_ms),
        }
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Whether the encoder is connected as of the last processed tick.
    pub fn is_connected(&self) -> bool {
        self.engine.is_connected()
    }

    /// Processes every sample tick up to and including `now_ms`.
    pub fn advance_to(&mut self, now_ms: i64) {
        loop {
            let offset = self.next_tick * SAMPLE_INTERVAL_MS;
            let at = self.started_at_ms + offset;
            if at > now_ms {
                return;
            }
            let segment = self.scenario.segment_at(offset).clone();
            match segment.media_rate {
                Some(rate) => {
                    if !self.engine.is_connected() {
                        self.engine.connect(at);
                        self.media_elapsed_ms = 0.0;
                    }
                    let jitter = self.rng.symmetric(segment.jitter_ms);
                    // Media time is whole ms on the wire; the float only
                    // accumulates rates like 0.97 without rounding drift.
                    let media = self.media_elapsed_ms.round() as i64 + jitter;
                    self.engine.record(at, media);
                    self.media_elapsed_ms += rate * SAMPLE_INTERVAL_MS as f64;
                }
                None => self.engine.disconnect(),
            }
            let playing = self
                .engine
                .is_connected()
                .then(|| self.engine.reading(at).status);
            self.audience.step(at, playing);
            self.next_tick += 1;
        }
    }

    /// What the API reports at `now_ms` (call [`Self::advance_to`] first).
    pub fn reading(&self, now_ms: i64) -> Reading {
        self.engine.reading(now_ms)
    }

    /// What the counts endpoint reports (call [`Self::advance_to`] first).
    pub fn counts(&self) -> Counts {
        self.audience.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::super::drift::Status;
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    /// Statuses at every second over `seconds` of stream time.
    fn statuses(spec: &str, seconds: i64) -> Vec<Status> {
        let scenario = Scenario::parse(spec).expect("valid scenario");
        let mut encoder = SimulatedEncoder::new(scenario, T0, seed_from(spec));
        (0..seconds)
            .map(|s| {
                let now = T0 + s * 1000;
                encoder.advance_to(now);
                encoder.reading(now).status
            })
            .collect()
    }

    fn share(statuses: &[Status], status: Status) -> f64 {
        statuses.iter().filter(|s| **s == status).count() as f64 / statuses.len() as f64
    }

    #[test]
    fn parses_compact_scripts() {
        let scenario = Scenario::parse("script:30s@1.0~50,20s@0.8,10s@off").expect("valid");
        assert_eq!(
            scenario.segments,
            vec![
                Segment {
                    duration_ms: 30_000,
                    media_rate: Some(1.0),
                    jitter_ms: 50
                },
                Segment {
                    duration_ms: 20_000,
                    media_rate: Some(0.8),
                    jitter_ms: 0
                },
                Segment {
                    duration_ms: 10_000,
                    media_rate: None,
                    jitter_ms: 0
                },
            ]
        );
    }

    #[test]
    fn rejects_bad_scripts_with_a_reason() {
        for spec in [
            "script:",
            "script:30@1.0",
            "script:30s",
            "script:30s@fast",
            "script:30s@1.0~-5",
            "script:0s@1.0",
            "script:99999999999999999h@1",
            "nonsense",
        ] {
            assert!(Scenario::parse(spec).is_err(), "{spec}");
        }
    }

    #[test]
    fn every_named_scenario_parses() {
        for (name, _) in NAMED_SCENARIOS {
            assert!(Scenario::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn steady_is_always_excellent() {
        let run = statuses("steady", 600);
        assert!(run.iter().all(|s| *s == Status::Excellent), "{run:?}");
    }

    #[test]
    fn jittery_is_mostly_good() {
        let run = statuses("jittery", 800);
        assert!(share(&run, Status::Good) > 0.5, "{run:?}");
        assert!(share(&run, Status::Poor) < 0.1, "{run:?}");
    }

    #[test]
    fn congested_drifts_into_poor() {
        let run = statuses("congested", 240);
        assert!(run[..60].iter().all(|s| *s == Status::Excellent), "{run:?}");
        assert!(run[150..240].iter().all(|s| *s == Status::Poor), "{run:?}");
    }

    #[test]
    fn recovering_goes_from_poor_back_to_excellent() {
        let run = statuses("recovering", 300);
        assert!(run[30..120].iter().all(|s| *s == Status::Poor), "{run:?}");
        assert!(
            run[160..300].iter().all(|s| *s == Status::Excellent),
            "{run:?}"
        );
    }

    #[test]
    fn flapping_alternates() {
        let run = statuses("flapping", 240);
        let changes = run.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(changes >= 6, "{run:?}");
        assert!(share(&run, Status::Excellent) > 0.2, "{run:?}");
        assert!(share(&run, Status::Poor) > 0.1, "{run:?}");
    }

    #[test]
    fn disconnect_turns_unknown_three_minutes_after_the_encoder_leaves() {
        let run = statuses("disconnect", 300);
        assert!(
            run[..240].iter().all(|s| *s == Status::Excellent),
            "{run:?}"
        );
        assert!(
            run[241..300].iter().all(|s| *s == Status::Unknown),
            "{run:?}"
        );
    }

    #[test]
    fn the_audience_follows_the_encoder_timeline() {
        let spec = "disconnect";
        let scenario = Scenario::parse(spec).expect("valid scenario");
        let mut encoder = SimulatedEncoder::new(scenario, T0, seed_from(spec));
        let mut viewers = Vec::new();
        for second in 0..300 {
            encoder.advance_to(T0 + second * 1000);
            viewers.push(encoder.counts().viewers);
        }
        // Up while connected (the first minute), gone within a minute of
        // the disconnect.
        assert!(viewers[59] > viewers[5] && viewers[59] > 20, "{viewers:?}");
        assert_eq!(viewers[125], 0, "{viewers:?}");
        assert_eq!(encoder.counts().updated_at_ms, T0 + 299_000);
    }

    #[test]
    fn same_seed_same_readings() {
        let a = statuses("jittery", 200);
        let b = statuses("jittery", 200);
        assert_eq!(a, b);
    }

    #[test]
    fn jitter_stays_within_its_amplitude() {
        let mut rng = XorShift::new(7);
        for _ in 0..10_000 {
            let value = rng.symmetric(150);
            assert!((-150..=150).contains(&value));
        }
    }
}
