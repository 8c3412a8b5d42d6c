//! End to end with a real encoder: ffmpeg (Debian's) publishes a synthetic
//! source over RTMP to the stand-in, and the built widget in headless
//! Chromium shows the drift of that actual stream. Each test prints the
//! curve it saw (run with `--nocapture` to read it).

#![cfg(feature = "e2e")]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use live_stream_health::core::params::percent_encode;
use support::{Browser, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

/// An ffmpeg process publishing test video and a tone; killed on drop.
struct Encoder {
    child: Child,
}

impl Encoder {
    /// Publishes to `url`, reading its inputs at `rate` × real time.
    fn publish(url: &str, rate: f64) -> Result<Encoder, Error> {
        let pacing = ["-readrate".to_string(), format!("{rate}")];
        let child = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
            .args(&pacing)
            .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"])
            .args(&pacing)
            .args(["-f", "lavfi", "-i", "sine=frequency=440"])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
                "-g",
                "30",
            ])
            .args(["-c:a", "aac", "-f", "flv", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run ffmpeg (Debian package `ffmpeg`): {e}"))?;
        Ok(Encoder { child })
    }

    fn signal(&self, signal: &str) -> Result<(), Error> {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} failed").into())
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        let _ = self.signal("CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the widget shows at one moment.
#[derive(Debug, Clone, Default)]
struct Reading {
    seconds: f64,
    status: String,
    session_avg: Option<f64>,
    deviation: Option<f64>,
    trend: Option<f64>,
    warning: bool,
}

async fn read(browser: &Browser, started: Instant) -> Reading {
    let number = |v: Option<String>| v.and_then(|v| v.parse::<f64>().ok());
    Reading {
        seconds: started.elapsed().as_secs_f64(),
        status: browser.status().await,
        session_avg: number(
            browser
                .attr("[data-metric=\"session-avg\"]", "data-value")
                .await,
        ),
        deviation: number(
            browser
                .attr("[data-metric=\"deviation\"]", "data-value")
                .await,
        ),
        trend: number(
            browser
                .attr("[data-metric=\"drift-trend\"]", "data-value")
                .await,
        ),
        warning: browser
            .attr("[data-drift-warning]", "class")
            .await
            .is_some(),
    }
}

fn print_curve(name: &str, curve: &[Reading]) {
    println!("curve {name}: t(s) status session_avg(ms) deviation(ms) trend(ms/min) warning");
    let step = (curve.len() / 12).max(1);
    for reading in curve.iter().step_by(step).chain(curve.last()) {
        println!(
            "  {:6.1} {:9} {:>8} {:>8} {:>8} {}",
            reading.seconds,
            reading.status,
            reading.session_avg.map_or("-".into(), |v| v.to_string()),
            reading.deviation.map_or("-".into(), |v| v.to_string()),
            reading.trend.map_or("-".into(), |v| v.to_string()),
            reading.warning
        );
    }
}

/// Opens the monitor of a new real-encoder stream; returns its publish URL.
async fn open_monitor(stack: &Stack, browser: &Browser) -> Result<String, Error> {
    let stream = stack.standin().create_live_stream("development", None)?;
    let token = stack.token(&stream.id, Duration::from_secs(3600))?;
    let link = format!(
        "{}#token={token}&endpoint={}&interval=1",
        stack.widget.base_url(),
        percent_encode(&stack.standin().base_url())
    );
    browser.client.goto(&link).await?;
    stack
        .standin()
        .rtmp_publish_url(&stream.stream_key)
        .ok_or_else(|| "the stand-in has no RTMP ingest".into())
}

/// Samples the widget every 500 ms for `duration`, or until `stop` says so.
async fn watch(
    browser: &Browser,
    started: Instant,
    duration: Duration,
    curve: &mut Vec<Reading>,
    stop: impl Fn(&Reading) -> bool,
) -> bool {
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        let reading = read(browser, started).await;
        let done = stop(&reading);
        curve.push(reading);
        if done {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_time_stays_excellent_and_a_slow_encoder_turns_poor() -> TestResult {
    let stack = Stack::start_with("encoder-rates", 1.0)?;
    let browser = Browser::start().await?;
    let result = async {
        // At real time (-readrate 1, like -re): excellent, and it stays there.
        let url = open_monitor(&stack, &browser).await?;
        let encoder = Encoder::publish(&url, 1.0)?;
        let started = Instant::now();
        let mut curve = Vec::new();
        let live = watch(
            &browser,
            started,
            Duration::from_secs(15),
            &mut curve,
            |r| r.status == "excellent" && r.deviation.is_some(),
        )
        .await;
        assert!(live, "never excellent at real time");
        let stayed = !watch(
            &browser,
            started,
            Duration::from_secs(15),
            &mut curve,
            |r| r.status != "excellent",
        )
        .await;
        print_curve("ffmpeg -readrate 1", &curve);
        assert!(stayed, "left excellent at real time: {:?}", curve.last());
        assert!(
            !curve.iter().any(|r| r.warning),
            "a slow-drift warning at real time"
        );
        drop(encoder);

        // At 0.8 × real time: poor within 15 s.
        let url = open_monitor(&stack, &browser).await?;
        let encoder = Encoder::publish(&url, 0.8)?;
        let started = Instant::now();
        let mut curve = Vec::new();
        let poor = watch(
            &browser,
            started,
            Duration::from_secs(20),
            &mut curve,
            |r| r.status == "poor",
        )
        .await;
        print_curve("ffmpeg -readrate 0.8", &curve);
        assert!(poor, "not poor at 0.8 × real time");
        let first_sample = curve
            .iter()
            .find(|r| r.deviation.is_some())
            .map_or(0.0, |r| r.seconds);
        let poor_at = curve.last().map_or(0.0, |r| r.seconds) - first_sample;
        assert!(
            poor_at <= 15.0,
            "poor only {poor_at:.1} s after the first sample"
        );
        drop(encoder);
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slightly_slow_encoder_warns_while_its_status_looks_fine() -> TestResult {
    let stack = Stack::start_with("encoder-slow", 1.0)?;
    let browser = Browser::start().await?;
    let result = async {
        let url = open_monitor(&stack, &browser).await?;
        let encoder = Encoder::publish(&url, 0.97)?;
        let started = Instant::now();
        let mut curve = Vec::new();
        // The trend needs 90 s of data; allow for start-up and a busy machine.
        let warned = watch(
            &browser,
            started,
            Duration::from_secs(150),
            &mut curve,
            |r| r.warning,
        )
        .await;
        print_curve("ffmpeg -readrate 0.97", &curve);
        assert!(warned, "no slow-drift warning at 0.97 × real time");
        let worst = curve.iter().filter(|r| r.status == "poor").count();
        assert_eq!(worst, 0, "0.97 × real time turned poor");
        let trend = curve.last().and_then(|r| r.trend).unwrap_or(0.0);
        assert!(trend >= 200.0, "trend {trend} ms/min");
        drop(encoder);
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_encoder_goes_poor_and_back_and_a_restart_is_a_fresh_session() -> TestResult {
    // Simulated time 200× faster: the 3-minute "unknown" takes a second.
    // Real encoders are still measured in real time.
    let stack = Stack::start_with("encoder-stop", 200.0)?;
    let browser = Browser::start().await?;
    let result = async {
        let url = open_monitor(&stack, &browser).await?;
        let encoder = Encoder::publish(&url, 1.0)?;
        let started = Instant::now();
        let mut curve = Vec::new();
        let excellent = watch(
            &browser,
            started,
            Duration::from_secs(15),
            &mut curve,
            |r| r.status == "excellent" && r.deviation.is_some(),
        )
        .await;
        assert!(excellent, "never excellent");
        tokio::time::sleep(Duration::from_secs(3)).await;

        // Frozen for 3 s (SIGSTOP sends nothing, not even a close).
        encoder.signal("STOP")?;
        let poor = watch(&browser, started, Duration::from_secs(8), &mut curve, |r| {
            r.status == "poor"
        })
        .await;
        encoder.signal("CONT")?;
        assert!(poor, "a frozen encoder did not turn poor");
        let back = watch(
            &browser,
            started,
            Duration::from_secs(20),
            &mut curve,
            |r| r.status == "excellent" || r.status == "good",
        )
        .await;
        assert!(back, "did not come back after the encoder resumed");
        let session_before = curve.last().and_then(|r| r.session_avg).unwrap_or(0.0);

        // Killed and restarted: a fresh session, its average back near zero.
        drop(encoder);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let encoder = Encoder::publish(&url, 1.0)?;
        let fresh = watch(
            &browser,
            started,
            Duration::from_secs(15),
            &mut curve,
            |r| r.status == "excellent" && r.session_avg.is_some_and(|s| s.abs() < 150.0),
        )
        .await;
        assert!(
            fresh,
            "no fresh session after a restart (was {session_before} ms)"
        );

        // No publish at all: unknown once three (scaled) minutes pass.
        drop(encoder);
        let unknown = watch(
            &browser,
            started,
            Duration::from_secs(20),
            &mut curve,
            |r| r.status == "unknown",
        )
        .await;
        print_curve("ffmpeg stop 3 s, kill, restart, kill", &curve);
        assert!(unknown, "never unknown without an encoder");
        assert_eq!(browser.state().await, "live");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}
