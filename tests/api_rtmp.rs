//! Real encoders against the stand-in's RTMP ingest: ffmpeg (Debian package
//! `ffmpeg`, 5.1) publishes a synthetic source to an in-process stand-in and
//! the stats endpoint is polled over HTTP, as the widget does.
//!
//! Every test has its own stand-in, stream and ffmpeg, so the harness may
//! run them in parallel. Each prints the curve it saw (one line per second:
//! session average, deviation, status); `cargo test --features server --test
//! api_rtmp -- --nocapture` shows them.
//!
//! Pacing: `-re` publishes in real time; `-readrate R` sends R seconds of
//! media per second, so drift grows by (1 − R) s per second and the 30 s
//! rolling window turns that into a deviation of about 14.5 × (1 − R) s once
//! full (less before). Real encoders are measured in real time whatever the
//! time scale; only the 3-minute `unknown` timeout runs on the scaled clock.
#![cfg(feature = "server")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use live_stream_health::server::rtmp::NO_DATA_TIMEOUT;
use live_stream_health::server::standin::{self, Config, NewSigningKey, Running};
use live_stream_health::server::store::LiveStream;
use live_stream_health::server::token;
use serde_json::Value;

/// How often the endpoint is polled: well inside the 1 s sampling period,
/// so no sample (a brief `poor`, say) goes unseen.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// One stand-in with a signing key, in its own data directory.
struct Harness {
    server: Running,
    key: NewSigningKey,
    dir: PathBuf,
}

impl Harness {
    fn start(name: &str, time_scale: f64) -> Self {
        assert!(
            Command::new("ffmpeg")
                .arg("-version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "these tests need ffmpeg on PATH (Debian package `ffmpeg`)"
        );
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lsh-rtmp-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = Config::new(&dir);
        config.time_scale = time_scale;
        let server = standin::spawn(config).expect("stand-in starts");
        let key = server.create_signing_key("development").expect("key");
        Self { server, key, dir }
    }

    /// A new stream for a real encoder and a token for it.
    fn stream(&self) -> (LiveStream, String) {
        let stream = self
            .server
            .create_live_stream("development", None)
            .expect("stream");
        (stream.clone(), self.token_for(&stream))
    }

    fn token_for(&self, stream: &LiveStream) -> String {
        token::mint(
            &self.key.private_key_pem,
            &self.key.id,
            &stream.id,
            Duration::from_secs(3600),
        )
        .expect("mint")
    }

    fn publish_url(&self, stream_key: &str) -> String {
        self.server
            .rtmp_publish_url(stream_key)
            .expect("RTMP ingest is on")
    }

    /// Starts ffmpeg publishing the test source to `stream_key`.
    fn publish(&self, stream_key: &str, pace: Pace, extra: &[&str]) -> Encoder {
        Encoder::start(&self.publish_url(stream_key), pace, extra, &self.dir)
    }

    /// One poll of the stats endpoint.
    fn health(&self, jwt: &str) -> Health {
        let mut response = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent()
            .get(format!("{}?token={jwt}", self.server.endpoint()))
            .call()
            .expect("the endpoint answers");
        assert_eq!(response.status().as_u16(), 200);
        let body = response.body_mut().read_to_string().expect("body");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        let ingest = &json["data"][0]["ingest_health"];
        Health {
            status: ingest["status"].as_str().unwrap_or("missing").to_owned(),
            session_avg: ingest["stream_drift_session_avg"].as_i64(),
            deviation: ingest["stream_drift_deviation_from_rolling_avg"].as_i64(),
            updated_at: ingest["updated_at"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How fast ffmpeg reads its (synthetic) input.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// `-re`: real time.
    Realtime,
    /// `-readrate R`: R seconds of media per second.
    Readrate(f64),
}

/// An ffmpeg publishing; killed on drop, so a failing test leaves none.
struct Encoder {
    child: Child,
    log: PathBuf,
}

impl Encoder {
    fn start(url: &str, pace: Pace, extra: &[&str], dir: &Path) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let log = dir.join(format!(
            "ffmpeg-{}.log",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let pacing: Vec<String> = match pace {
            Pace::Realtime => vec!["-re".to_owned()],
            Pace::Readrate(rate) => vec!["-readrate".to_owned(), rate.to_string()],
        };
        let mut command = Command::new("ffmpeg");
        command.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
        // Pacing is an input option: it goes before each input.
        command.args(&pacing);
        command.args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"]);
        command.args(&pacing);
        command.args(["-f", "lavfi", "-i", "sine=frequency=440"]);
        command.args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "30",
            "-c:a",
            "aac",
        ]);
        command.args(extra);
        command.args(["-f", "flv", url]);
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("ffmpeg starts");
        Self { child, log }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits up to `limit` for ffmpeg to exit.
    fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too; on an exited one it is a no-op.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reading of the endpoint.
#[derive(Debug, Clone, PartialEq)]
struct Health {
    status: String,
    session_avg: Option<i64>,
    deviation: Option<i64>,
    updated_at: String,
}

/// A reading and when (since the watch began) it was taken.
#[derive(Debug, Clone)]
struct Seen {
    at: Duration,
    health: Health,
}

/// The readings of one stream over time.
struct Curve {
    name: String,
    started: Instant,
    seen: Vec<Seen>,
}

impl Curve {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            started: Instant::now(),
            seen: Vec::new(),
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Polls for `duration`; returns what was seen in that stretch.
    fn watch(&mut self, harness: &Harness, jwt: &str, duration: Duration) -> Vec<Health> {
        let until = Instant::now() + duration;
        let first = self.seen.len();
        while Instant::now() < until {
            self.poll(harness, jwt);
            std::thread::sleep(POLL_EVERY);
        }
        self.seen[first..]
            .iter()
            .map(|s| s.health.clone())
            .collect()
    }

    /// Polls until `done` holds (returning that reading) or `limit` passes.
    fn until(
        &mut self,
        harness: &Harness,
        jwt: &str,
        limit: Duration,
        done: impl Fn(&Health) -> bool,
    ) -> Option<Health> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            let health = self.poll(harness, jwt);
            if done(&health) {
                return Some(health);
            }
            std::thread::sleep(POLL_EVERY);
        }
        None
    }

    fn poll(&mut self, harness: &Harness, jwt: &str) -> Health {
        let health = harness.health(jwt);
        self.seen.push(Seen {
            at: self.started.elapsed(),
            health: health.clone(),
        });
        health
    }

    /// One line per new `updated_at` (per sample), for the record.
    fn table(&self) -> String {
        let mut out = format!("curve {}:\n", self.name);
        let mut last = String::new();
        for seen in &self.seen {
            if seen.health.updated_at == last {
                continue;
            }
            last.clone_from(&seen.health.updated_at);
            let number = |n: Option<i64>| n.map_or("null".to_owned(), |n| n.to_string());
            let _ = writeln!(
                out,
                "  t={:5.1}s  session_avg={:>6}  deviation={:>6}  {}",
                seen.at.as_secs_f64(),
                number(seen.health.session_avg),
                number(seen.health.deviation),
                seen.health.status
            );
        }
        out
    }

    fn print(&self) {
        println!("{}", self.table());
    }
}

fn is(status: &str) -> impl Fn(&Health) -> bool + '_ {
    move |health| health.status == status
}

/// Waits until the stand-in has (or no longer has) an encoder on `stream`.
fn wait_active(harness: &Harness, stream: &LiveStream, active: bool, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if harness.server.is_active(&stream.id) == active {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn realtime_publish_is_excellent_throughout_and_after_a_graceful_stop() {
    let harness = Harness::start("realtime", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -re (then SIGINT)");
    assert_eq!(harness.health(&jwt).status, "unknown", "before any publish");
    let mut encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    assert!(
        curve
            .until(&harness, &jwt, Duration::from_secs(5), is("excellent"))
            .is_some(),
        "no reading after the publish: {}",
        encoder.log()
    );
    let run = curve.watch(&harness, &jwt, Duration::from_secs(20));
    assert!(
        run.iter().all(|h| h.status == "excellent"),
        "{}",
        curve.table()
    );
    assert!(run
        .iter()
        .all(|h| h.session_avg.is_some_and(|avg| avg.abs() < 500)));

    // A graceful stop flushes the encoders; the sample at the close is not
    // taken, so the last reading stays excellent.
    encoder.signal("INT");
    let status = encoder.wait_for_exit(Duration::from_secs(10));
    assert!(status.is_some(), "ffmpeg stops on SIGINT");
    assert!(wait_active(
        &harness,
        &stream,
        false,
        Duration::from_secs(5)
    ));
    let after = curve.watch(&harness, &jwt, Duration::from_secs(2));
    curve.print();
    assert!(
        after.iter().all(|h| h.status == "excellent"),
        "{}",
        curve.table()
    );
}

#[test]
fn readrate_0_8_turns_poor_within_15_seconds() {
    let harness = Harness::start("readrate-0.8", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -readrate 0.8");
    let encoder = harness.publish(&stream.stream_key, Pace::Readrate(0.8), &[]);
    let poor = curve.until(&harness, &jwt, Duration::from_secs(15), is("poor"));
    curve.print();
    let poor = poor.unwrap_or_else(|| panic!("not poor in 15 s: {}", encoder.log()));
    assert!(poor.deviation.is_some_and(|d| d > 1000), "{poor:?}");
    // It got there through good: the deviation grows with the window.
    assert!(curve.seen.iter().any(|s| s.health.status == "good"));
}

#[test]
fn readrate_0_97_stays_good_or_better_while_the_session_average_grows() {
    let harness = Harness::start("readrate-0.97", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -readrate 0.97");
    let encoder = harness.publish(&stream.stream_key, Pace::Readrate(0.97), &[]);
    assert!(
        curve
            .until(&harness, &jwt, Duration::from_secs(5), is("excellent"))
            .is_some(),
        "{}",
        encoder.log()
    );
    let mut averages = Vec::new();
    for _ in 0..4 {
        let stretch = curve.watch(&harness, &jwt, Duration::from_secs(10));
        assert!(
            stretch
                .iter()
                .all(|h| h.status == "excellent" || h.status == "good"),
            "{}",
            curve.table()
        );
        averages.push(stretch.last().and_then(|h| h.session_avg).unwrap_or(0));
    }
    curve.print();
    println!("session averages every 10 s: {averages:?}");
    // 30 ms of drift per second: the mean of a linear ramp grows ~15 ms/s.
    assert!(
        averages.windows(2).all(|w| w[1] > w[0] + 50),
        "{averages:?}"
    );
    assert!(averages[3] > 400, "{averages:?}");
}

#[test]
fn a_frozen_encoder_turns_poor_then_recovers() {
    let harness = Harness::start("sigstop", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -re, SIGSTOP 3 s, SIGCONT");
    let encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    let steady = curve.watch(&harness, &jwt, Duration::from_secs(8));
    assert!(
        steady.iter().any(|h| h.status == "excellent"),
        "{}",
        encoder.log()
    );
    encoder.signal("STOP");
    let frozen_at = curve.elapsed();
    let frozen = curve.watch(&harness, &jwt, Duration::from_secs(3));
    encoder.signal("CONT");
    // The last frozen sample may only be read just after the thaw.
    let thawed = curve.watch(&harness, &jwt, Duration::from_secs(1));
    assert!(
        frozen.iter().chain(&thawed).any(|h| h.status == "poor"),
        "{}",
        curve.table()
    );
    // ffmpeg catches up at once (-re paces by the wallclock since it
    // started), so drift falls back and the status with it.
    let back = curve.until(&harness, &jwt, Duration::from_secs(6), |h| {
        h.status == "excellent" || h.status == "good"
    });
    let settled = curve.until(&harness, &jwt, Duration::from_secs(10), is("excellent"));
    let after = curve.watch(&harness, &jwt, Duration::from_secs(3));
    curve.print();
    println!("frozen at t={:.1}s", frozen_at.as_secs_f64());
    assert!(back.is_some(), "{}", curve.table());
    assert!(settled.is_some(), "{}", curve.table());
    assert!(
        after
            .iter()
            .all(|h| h.status == "excellent" || h.status == "good"),
        "{}",
        curve.table()
    );
    assert!(harness.server.is_active(&stream.id), "3 s is no timeout");
}

#[test]
fn a_restarted_encoder_starts_a_fresh_session() {
    let harness = Harness::start("restart", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -readrate 0.8, SIGKILL, ffmpeg -re");
    let mut first = harness.publish(&stream.stream_key, Pace::Readrate(0.8), &[]);
    curve.watch(&harness, &jwt, Duration::from_secs(8));
    let before = harness.health(&jwt);
    assert!(
        before.session_avg.is_some_and(|avg| avg > 400),
        "{}",
        curve.table()
    );
    first.signal("KILL");
    assert!(first.wait_for_exit(Duration::from_secs(5)).is_some());
    assert!(
        wait_active(&harness, &stream, false, Duration::from_secs(5)),
        "a killed encoder's connection ends"
    );
    // Its last reading stays until it is 3 minutes old.
    assert!(harness
        .health(&jwt)
        .session_avg
        .is_some_and(|avg| avg > 400));
    let _second = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    assert!(wait_active(&harness, &stream, true, Duration::from_secs(5)));
    let fresh = curve.watch(&harness, &jwt, Duration::from_secs(4));
    curve.print();
    let last = fresh.last().cloned().expect("readings");
    assert!(
        last.session_avg.is_some_and(|avg| avg.abs() < 300),
        "{}",
        curve.table()
    );
    assert_eq!(last.status, "excellent", "{}", curve.table());
}

#[test]
fn three_scaled_minutes_without_a_publish_turn_unknown() {
    // At 200x one real second between samples is 200 scaled seconds, more
    // than the 3 minutes: a live publish must not flicker to unknown.
    let harness = Harness::start("unknown", 200.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("time scale 200: ffmpeg -re for 5 s, SIGKILL");
    assert_eq!(harness.health(&jwt).status, "unknown");
    let mut encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    assert!(curve
        .until(&harness, &jwt, Duration::from_secs(5), is("excellent"))
        .is_some());
    let live = curve.watch(&harness, &jwt, Duration::from_secs(5));
    assert!(
        live.iter().all(|h| h.status == "excellent"),
        "{}",
        curve.table()
    );
    encoder.signal("KILL");
    // 3 scaled minutes are 0.9 s here.
    let unknown = curve.until(&harness, &jwt, Duration::from_secs(5), is("unknown"));
    curve.print();
    let unknown = unknown.expect("unknown after 3 scaled minutes");
    assert_eq!(unknown.session_avg, None);
    assert_eq!(unknown.deviation, None);
    let _ = encoder.wait_for_exit(Duration::from_secs(5));
}

#[test]
fn ffmpeg_timestamps_wrapping_at_2_pow_31_do_not_disturb_the_drift() {
    let harness = Harness::start("wrap", 1.0);
    let (stream, jwt) = harness.stream();
    // 2^31 ms is 2147483.648 s: this offset wraps about 3.6 s in.
    let mut curve = Curve::new("ffmpeg -re -output_ts_offset 2147480 (wraps at ~3.6 s)");
    let encoder = harness.publish(
        &stream.stream_key,
        Pace::Realtime,
        &["-output_ts_offset", "2147480"],
    );
    assert!(curve
        .until(&harness, &jwt, Duration::from_secs(5), is("excellent"))
        .is_some());
    let run = curve.watch(&harness, &jwt, Duration::from_secs(9));
    curve.print();
    assert!(
        run.iter().all(|h| h.status == "excellent"),
        "{}\n{}",
        curve.table(),
        encoder.log()
    );
    assert!(run
        .iter()
        .all(|h| h.session_avg.is_some_and(|avg| avg.abs() < 500)));
}

#[test]
fn publishes_that_name_no_real_stream_are_refused() {
    let harness = Harness::start("refused", 1.0);
    let (stream, jwt) = harness.stream();
    let simulated = harness
        .server
        .create_live_stream("development", Some("steady"))
        .expect("simulated stream");
    let addr = harness.server.rtmp_addr().expect("RTMP ingest is on");
    let urls = [
        format!("rtmp://{addr}/live/no-such-key"),
        format!("rtmp://{addr}/live/{}", &stream.stream_key[..20]),
        format!("rtmp://{addr}/other/{}", stream.stream_key),
        format!("rtmp://{addr}/live/{}", simulated.stream_key),
    ];
    let mut encoders: Vec<Encoder> = urls
        .iter()
        .map(|url| Encoder::start(url, Pace::Realtime, &[], &harness.dir))
        .collect();
    for (url, encoder) in urls.iter().zip(&mut encoders) {
        let status = encoder.wait_for_exit(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| !s.success()),
            "{url}: {status:?} {}",
            encoder.log()
        );
    }
    assert_eq!(harness.health(&jwt).status, "unknown");
    assert!(!harness.server.is_active(&stream.id));
}

#[test]
fn a_stream_created_over_the_api_takes_a_publish_with_its_key() {
    let harness = Harness::start("api-stream", 1.0);
    let admin = harness.server.bootstrap().expect("bootstrap").clone();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let list = || -> Value {
        let mut response = agent
            .get(format!(
                "{}/video/v1/live-streams",
                harness.server.base_url()
            ))
            .header("Authorization", admin.basic_auth_header())
            .call()
            .expect("lists");
        serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("JSON")
    };
    let mut created = agent
        .post(format!(
            "{}/video/v1/live-streams",
            harness.server.base_url()
        ))
        .header("Authorization", admin.basic_auth_header())
        .header("Content-Type", "application/json")
        .send(r#"{"passthrough":"studio A"}"#)
        .expect("creates");
    assert_eq!(created.status().as_u16(), 201);
    let body: Value =
        serde_json::from_str(&created.body_mut().read_to_string().expect("body")).expect("JSON");
    let data = &body["data"];
    assert_eq!(data["passthrough"], "studio A");
    let key = data["stream_key"]
        .as_str()
        .expect("a stream key")
        .to_owned();
    let id = data["id"].as_str().expect("an id").to_owned();
    let stream = harness
        .server
        .live_streams("development")
        .expect("streams")
        .into_iter()
        .find(|s| s.id == id)
        .expect("stored");
    assert_eq!(stream.stream_key, key, "persisted as returned");
    let jwt = harness.token_for(&stream);

    let encoder = harness.publish(&key, Pace::Realtime, &[]);
    let mut curve = Curve::new("API-created stream, ffmpeg -re");
    let live = curve.until(&harness, &jwt, Duration::from_secs(5), is("excellent"));
    assert!(live.is_some(), "{}", encoder.log());
    let active = list()["data"]
        .as_array()
        .and_then(|streams| streams.iter().find(|s| s["id"] == id.as_str()).cloned())
        .expect("listed");
    assert_eq!(active["status"], "active");
    drop(encoder);
    assert!(wait_active(
        &harness,
        &stream,
        false,
        Duration::from_secs(5)
    ));
}

#[test]
fn a_frozen_encoder_is_dropped_after_the_no_data_timeout() {
    let harness = Harness::start("timeout", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -re, SIGSTOP until the no-data timeout");
    let mut encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    curve.watch(&harness, &jwt, Duration::from_secs(3));
    assert!(harness.server.is_active(&stream.id), "{}", encoder.log());
    encoder.signal("STOP");
    let stopped = Instant::now();
    let still = wait_active(
        &harness,
        &stream,
        false,
        NO_DATA_TIMEOUT - Duration::from_secs(2),
    );
    assert!(!still, "dropped before the timeout");
    assert!(
        wait_active(&harness, &stream, false, Duration::from_secs(5)),
        "still active {:.1} s after SIGSTOP",
        stopped.elapsed().as_secs_f64()
    );
    let dropped_after = stopped.elapsed();
    // The frozen encoder really was behind, and that verdict stays.
    let last = curve.watch(&harness, &jwt, Duration::from_secs(1));
    curve.print();
    println!("dropped {:.1} s after SIGSTOP", dropped_after.as_secs_f64());
    assert!(last.iter().all(|h| h.status == "poor"), "{}", curve.table());
    // Woken up, ffmpeg finds its connection gone.
    encoder.signal("CONT");
    let status = encoder.wait_for_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|s| !s.success()), "{status:?}");
}

#[test]
fn a_second_publish_of_the_same_key_replaces_the_first() {
    let harness = Harness::start("replace", 1.0);
    let (stream, jwt) = harness.stream();
    let mut curve = Curve::new("ffmpeg -readrate 0.8, then a second ffmpeg -re on the same key");
    let mut first = harness.publish(&stream.stream_key, Pace::Readrate(0.8), &[]);
    curve.watch(&harness, &jwt, Duration::from_secs(6));
    let second = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    let status = first.wait_for_exit(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| !s.success()),
        "the replaced encoder is disconnected: {status:?}"
    );
    let fresh = curve.watch(&harness, &jwt, Duration::from_secs(3));
    curve.print();
    assert!(harness.server.is_active(&stream.id), "{}", second.log());
    let last = fresh.last().cloned().expect("readings");
    assert!(
        last.session_avg.is_some_and(|avg| avg.abs() < 300),
        "{}",
        curve.table()
    );
}

#[test]
fn idle_sockets_never_lock_a_real_encoder_out() {
    use live_stream_health::server::rtmp::{HANDSHAKE_WITHIN, MAX_PENDING};
    use std::io::Read as _;
    use std::net::TcpStream;

    let harness = Harness::start("crowd", 1.0);
    let (stream, jwt) = harness.stream();
    let rtmp = harness.server.rtmp_addr().expect("RTMP ingest is on");
    // More idle sockets than any limit, opened before the encoder: none of
    // them ever sends a byte.
    let idle: Vec<TcpStream> = (0..MAX_PENDING + 40)
        .map(|_| TcpStream::connect(rtmp).expect("connect"))
        .collect();
    let opened = Instant::now();
    let mut curve = Curve::new("ffmpeg -re behind 72 idle sockets");
    let encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    let live = curve.until(&harness, &jwt, Duration::from_secs(10), |h| {
        h.deviation.is_some()
    });
    curve.print();
    assert!(live.is_some(), "no samples: {}", encoder.log());
    assert!(harness.server.is_active(&stream.id), "{}", encoder.log());

    // The idle sockets are closed by the stand-in: the oldest to make room,
    // the rest once the handshake deadline passes.
    let mut last = idle.last().expect("sockets").try_clone().expect("clone");
    last.set_read_timeout(Some(HANDSHAKE_WITHIN + Duration::from_secs(3)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let read = last.read(&mut byte);
    assert!(
        matches!(read, Ok(0)),
        "an idle socket is closed within {HANDSHAKE_WITHIN:?}: {read:?} after {:.1} s",
        opened.elapsed().as_secs_f64()
    );
    assert!(harness.server.is_active(&stream.id), "{}", encoder.log());
    drop(idle);
}

/// One poll of the viewer counts endpoint: (viewers, views).
fn viewer_counts(harness: &Harness, jwt: &str) -> (u64, u64) {
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
        .get(format!("{}?token={jwt}", harness.server.counts_endpoint()))
        .call()
        .expect("the counts endpoint answers");
    assert_eq!(response.status().as_u16(), 200);
    let body = response.body_mut().read_to_string().expect("body");
    let json: Value = serde_json::from_str(&body).expect("JSON");
    let entry = &json["data"][0];
    (
        entry["viewers"].as_u64().expect("viewers"),
        entry["views"].as_u64().expect("views"),
    )
}

#[test]
fn a_real_encoders_audience_follows_its_publish() {
    // 10x: the audience's 30 s ramp takes 3 s, its minute of leaving 6 s.
    let harness = Harness::start("audience", 10.0);
    let (stream, jwt) = harness.stream();
    assert_eq!(viewer_counts(&harness, &jwt), (0, 0), "before any publish");
    let mut encoder = harness.publish(&stream.stream_key, Pace::Realtime, &[]);
    assert!(
        wait_active(&harness, &stream, true, Duration::from_secs(10)),
        "{}",
        encoder.log()
    );
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        seen.push(viewer_counts(&harness, &jwt));
        std::thread::sleep(POLL_EVERY);
    }
    let (peak, views) = seen[seen.len() - 1];
    assert!(
        peak >= 20 && peak > seen[0].0,
        "no ramp while publishing: {seen:?}"
    );
    assert!(views >= peak, "{seen:?}");

    encoder.signal("INT");
    assert!(encoder.wait_for_exit(Duration::from_secs(10)).is_some());
    assert!(wait_active(
        &harness,
        &stream,
        false,
        Duration::from_secs(5)
    ));
    let until = Instant::now() + Duration::from_secs(10);
    let mut after = Vec::new();
    while Instant::now() < until && after.last().is_none_or(|c: &(u64, u64)| c.0 > 0) {
        after.push(viewer_counts(&harness, &jwt));
        std::thread::sleep(POLL_EVERY);
    }
    assert_eq!(
        after.last().map(|c| c.0),
        Some(0),
        "viewers stayed after the encoder left: {after:?}"
    );
    assert!(
        after.iter().all(|c| c.1 >= views),
        "views went down: {after:?}"
    );
}
