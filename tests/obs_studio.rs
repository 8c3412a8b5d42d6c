//! The core's obs-websocket client against a real OBS Studio 29 (Debian's,
//! under Xvfb), streaming over RTMP to the real stand-in, each test in its
//! own network namespace (see `tests/support/obs.rs`). Needs root, and
//! `obs-studio`, `xvfb` and `ffmpeg` (tests/setup.sh installs them).
//!
//! Each test prints what the client saw (run with `--nocapture`):
//! `cargo test --features e2e --test obs_studio -- --nocapture`.

#![cfg(feature = "e2e")]

#[path = "support/obs.rs"]
mod obs;

use std::path::PathBuf;
use std::time::Duration;

use live_stream_health::core::obs::client::Refusal;
use live_stream_health::core::obs::protocol;
use live_stream_health::core::obs::{Diagnosis, EncoderState, IngestSide, StreamMark};
use live_stream_health::core::status::Status;
use obs::{
    in_private_network, ingest_line, signal, temp_dir, Driver, Ingest, Network, Obs, ObsOptions,
    Standin, TestResult,
};

/// The stand-in, a stream on it, and OBS streaming to it.
struct Scene {
    dir: PathBuf,
    standin: Option<Standin>,
    obs: Obs,
    ingest: Ingest,
}

impl Scene {
    fn start(name: &str, options: ObsOptions) -> Result<Scene, obs::Error> {
        let dir = temp_dir(name)?;
        let standin = Standin::start(&dir.join("standin"))?;
        let (stream_key, jwt) = standin.new_stream()?;
        let options = ObsOptions {
            rtmp: Some((standin.rtmp_server(), stream_key)),
            start_streaming: true,
            ..options
        };
        let obs = Obs::start(&dir.join("obs"), &options)?;
        let ingest = Ingest::new(&standin, &jwt);
        Ok(Scene {
            dir,
            standin: Some(standin),
            obs,
            ingest,
        })
    }

    fn standin(&self) -> Result<&Standin, obs::Error> {
        self.standin
            .as_ref()
            .ok_or_else(|| "the stand-in is down".into())
    }

    fn finish(mut self) -> TestResult {
        let result = self.obs.stop();
        self.standin.take();
        if result.is_ok() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        result
    }
}

fn live(driver: &mut Driver, within: Duration) -> Result<f64, obs::Error> {
    driver.run_until("OBS streaming", within, |d| {
        d.state() == EncoderState::Live && d.stats().fresh
    })
}

#[test]
fn obs_not_running_reads_unreachable_and_keeps_retrying() -> TestResult {
    in_private_network(
        "obs_not_running_reads_unreachable_and_keeps_retrying",
        Network::Loopback,
        || {
            let mut client = Driver::start(None);
            client.run_for(Duration::from_millis(3_500));
            println!(
                "no OBS: state {} message {:?} after {} attempts; states {:?}",
                client.state().as_str(),
                client.client.message(),
                client.client.socket(),
                client.states
            );
            assert_eq!(client.state(), EncoderState::Unreachable);
            assert_eq!(
                client.client.message().as_deref(),
                Some("OBS not reachable on port 4455")
            );
            // Attempts at 0, 1 and 3 s (back-off 1 s, then 2 s).
            assert_eq!(client.client.socket(), 3);
            assert_eq!(
                client.diagnosis(IngestSide::DriftRising),
                Diagnosis::NoEncoderData
            );
            Ok(())
        },
    )
}

#[test]
fn authentication_the_right_password_signs_in_and_a_wrong_one_is_refused() -> TestResult {
    in_private_network(
        "authentication_the_right_password_signs_in_and_a_wrong_one_is_refused",
        Network::Loopback,
        || {
            let dir = temp_dir("auth")?;
            let password = "a long and secret obs password";
            let obs = Obs::start(
                &dir,
                &ObsOptions {
                    password: Some(password.into()),
                    ..ObsOptions::default()
                },
            )?;

            let mut right = Driver::start(Some(password));
            let took =
                right.run_until("signed in, not streaming", Duration::from_secs(5), |d| {
                    d.state() == EncoderState::Stopped && d.stats().fresh
                })?;
            println!(
                "right password: {} after {took:.2} s (obs-websocket {})",
                right.state().as_str(),
                right.client.obs_websocket_version().unwrap_or("?")
            );
            println!("  {}", right.line());
            assert_eq!(right.diagnosis(IngestSide::NoData), Diagnosis::NotStreaming);

            let mut wrong = Driver::start(Some("not the password"));
            let took = wrong.run_until("refused", Duration::from_secs(5), |d| {
                d.state() == EncoderState::Refused
            })?;
            wrong.run_for(Duration::from_secs(2));
            println!(
                "wrong password: {} after {took:.2} s, close codes {:?}, message {:?}, sockets opened {}",
                wrong.state().as_str(),
                wrong.closes,
                wrong.client.message(),
                wrong.client.socket()
            );
            assert_eq!(wrong.closes.first().map(|(_, code)| *code), Some(4009));
            assert_eq!(wrong.client.refusal(), Some(Refusal::WrongPassword));
            assert_eq!(
                wrong.client.message().as_deref(),
                Some("OBS refused the password")
            );
            assert_eq!(
                wrong.client.socket(),
                1,
                "a refused password is not retried"
            );

            let mut none = Driver::start(None);
            none.run_until("refused", Duration::from_secs(5), |d| {
                d.state() == EncoderState::Refused
            })?;
            println!("no password: {:?}", none.client.message());
            assert_eq!(none.client.refusal(), Some(Refusal::PasswordNeeded));

            // The right client was never disturbed.
            right.run_for(Duration::from_secs(1));
            assert_eq!(right.state(), EncoderState::Stopped);
            obs.stop()?;
            let _ = std::fs::remove_dir_all(&dir);
            Ok(())
        },
    )
}

#[test]
fn obs_closed_and_reopened_is_found_again() -> TestResult {
    in_private_network(
        "obs_closed_and_reopened_is_found_again",
        Network::Loopback,
        || {
            let dir = temp_dir("reopen")?;
            let obs = Obs::start(&dir, &ObsOptions::default())?;
            let mut client = Driver::start(None);
            client.run_until("connected", Duration::from_secs(5), |d| {
                d.state() == EncoderState::Stopped
            })?;
            obs.stop()?;
            let closed_at = client.seconds();
            let took = client.run_until("unreachable", Duration::from_secs(5), |d| {
                d.state() == EncoderState::Unreachable
            })?;
            println!(
                "OBS closed: {} after {took:.2} s (close codes {:?})",
                client.state().as_str(),
                client.closes
            );
            let obs = Obs::start(&dir, &ObsOptions::default())?;
            let reopened_at = client.seconds();
            client.run_until("connected again", Duration::from_secs(20), |d| {
                d.state() == EncoderState::Stopped
            })?;
            println!(
                "OBS reopened {:.1} s after it closed; the client was back {:.1} s later, \
                 after {} attempts; states {:?}",
                reopened_at - closed_at,
                client.seconds() - reopened_at,
                client.client.socket() - 1,
                client.states
            );
            assert_eq!(client.client.failures(), 0);
            obs.stop()?;
            let _ = std::fs::remove_dir_all(&dir);
            Ok(())
        },
    )
}

#[test]
fn streaming_normally_reads_live_near_500_kbps_with_nothing_dropped() -> TestResult {
    in_private_network(
        "streaming_normally_reads_live_near_500_kbps_with_nothing_dropped",
        Network::Loopback,
        || {
            let mut scene = Scene::start("normal", ObsOptions::default())?;
            let mut client = Driver::start(None);
            let took = live(&mut client, Duration::from_secs(10))?;
            println!("live {took:.1} s after the client started");
            for _ in 0..3 {
                client.run_for(Duration::from_secs(2));
                println!("  {}", client.line());
            }
            let view = scene.ingest.poll();
            println!("  {}", ingest_line(&view));
            let stats = client.stats();
            let diagnosis = client.diagnosis(scene.ingest.side());
            println!(
                "  diagnosis: {} ({})",
                diagnosis.as_str(),
                diagnosis.sentence()
            );

            let kbps = stats.bitrate_kbps.unwrap_or_default();
            // 500 kbit/s of video, 64 of audio, and the FLV/RTMP framing.
            assert!((450.0..=700.0).contains(&kbps), "bitrate {kbps} kbit/s");
            assert_eq!(stats.network.lost, 0, "{:?}", stats.network);
            assert!(stats.network.total > 90, "{:?}", stats.network);
            assert_eq!(stats.congestion_peak, Some(0.0));
            assert!(
                stats.encoder_lag.percent.is_some_and(|p| p <= 1.0),
                "{:?}",
                stats.encoder_lag
            );
            assert_eq!(view.status, Status::Excellent);
            assert_eq!(diagnosis, Diagnosis::AllClear);
            // The client may join as OBS starts the stream: at most that.
            assert!(
                client.marks.iter().all(|(_, m)| *m == StreamMark::Started),
                "{:?}",
                client.marks
            );
            scene.finish()
        },
    )
}

#[test]
fn a_stalled_ingest_shows_congestion_and_network_drops() -> TestResult {
    in_private_network(
        "a_stalled_ingest_shows_congestion_and_network_drops",
        Network::SmallBuffers,
        || {
            let mut scene = Scene::start("stall", ObsOptions::default())?;
            let mut client = Driver::start(None);
            live(&mut client, Duration::from_secs(10))?;
            client.run_for(Duration::from_secs(3));
            println!("before the stall:\n  {}", client.line());
            println!("  {}", ingest_line(&scene.ingest.poll()));
            assert_eq!(client.stats().network.lost, 0);

            signal(scene.standin()?.pid(), "STOP")?;
            println!("ingest stopped (SIGSTOP):");
            let took = client.run_until(
                "congestion and network drops",
                Duration::from_secs(10),
                |d| {
                    let s = d.stats();
                    s.congestion_peak.is_some_and(|c| c > 0.2)
                        && s.network.percent.is_some_and(|p| p > 1.0)
                },
            )?;
            println!("  congested and dropping {took:.1} s after the stop");
            for _ in 0..3 {
                client.run_for(Duration::from_secs(1));
                println!("  {}", client.line());
            }
            // The stats service is as stuck as the ingest: no answer.
            let view = scene.ingest.poll();
            println!("  {}", ingest_line(&view));
            let during = client.diagnosis(scene.ingest.side());
            println!("  diagnosis: {} ({})", during.as_str(), during.sentence());
            assert_eq!(during, Diagnosis::SlowNetwork);

            signal(scene.standin()?.pid(), "CONT")?;
            println!("ingest resumed (SIGCONT):");
            for _ in 0..2 {
                client.run_for(Duration::from_secs(1));
                println!("  {}", client.line());
            }
            let view = scene.ingest.poll();
            println!("  {}", ingest_line(&view));
            let after = client.diagnosis(scene.ingest.side());
            println!("  diagnosis: {} ({})", after.as_str(), after.sentence());
            assert_eq!(after, Diagnosis::SlowNetwork, "drops of the last minute");
            scene.finish()
        },
    )
}

#[test]
fn an_encoder_that_cannot_keep_up_shows_encoder_lag() -> TestResult {
    in_private_network(
        "an_encoder_that_cannot_keep_up_shows_encoder_lag",
        Network::Loopback,
        || {
            // Full-frame noise through x264's slowest preset: a few frames a
            // second on this kind of machine, while the small canvas keeps
            // rendering cheap. A short lookahead and few B-frames keep the
            // frames queued in the encoder (flushed when the stream stops)
            // few.
            let options = ObsOptions {
                preset: "placebo",
                x264_options: "rc-lookahead=10 bframes=3",
                moving: true,
                ..ObsOptions::default()
            };
            let mut scene = Scene::start("lag", options)?;
            let mut client = Driver::start(None);
            live(&mut client, Duration::from_secs(20))?;
            let took = client.run_until("encoder-lag skips", Duration::from_secs(15), |d| {
                d.stats().encoder_lag.percent.is_some_and(|p| p > 1.0)
            })?;
            println!("x264 placebo on noise: skipping {took:.1} s after live");
            for _ in 0..3 {
                client.run_for(Duration::from_secs(1));
                println!("  {}", client.line());
            }
            let view = scene.ingest.poll();
            println!("  {}", ingest_line(&view));
            let diagnosis = client.diagnosis(scene.ingest.side());
            println!(
                "  diagnosis: {} ({})",
                diagnosis.as_str(),
                diagnosis.sentence()
            );
            assert_eq!(diagnosis, Diagnosis::SlowComputer);
            scene.finish()
        },
    )
}

#[test]
fn the_ingest_killed_and_restarted_reads_reconnecting_then_live() -> TestResult {
    in_private_network(
        "the_ingest_killed_and_restarted_reads_reconnecting_then_live",
        Network::Loopback,
        || {
            let mut scene = Scene::start("restart", ObsOptions::default())?;
            let mut client = Driver::start(None);
            live(&mut client, Duration::from_secs(10))?;
            client.run_for(Duration::from_secs(2));
            println!("before:\n  {}", client.line());

            let data_dir = scene.dir.join("standin");
            let killed_at = client.seconds();
            if let Some(standin) = scene.standin.take() {
                standin.kill();
            }
            let took = client.run_until("reconnecting", Duration::from_secs(5), |d| {
                d.state() == EncoderState::Reconnecting
            })?;
            println!("ingest killed: reconnecting after {took:.2} s");
            println!("  {}", client.line());
            println!("  {}", ingest_line(&scene.ingest.poll()));
            let during = client.diagnosis(scene.ingest.side());
            println!("  diagnosis: {} ({})", during.as_str(), during.sentence());
            assert_eq!(during, Diagnosis::ObsReconnecting);
            let mut control = scene.obs.control()?;
            let status = control.request(protocol::request_type::GET_STREAM_STATUS)?;
            control.close();
            println!(
                "  GetStreamStatus meanwhile: outputActive {} outputReconnecting {}",
                status["outputActive"], status["outputReconnecting"]
            );
            client.run_for(Duration::from_secs(1));
            assert_eq!(client.state(), EncoderState::Reconnecting);

            scene.standin = Some(Standin::start(&data_dir)?);
            let back_at = client.seconds();
            client.run_until("live again", Duration::from_secs(20), |d| {
                d.state() == EncoderState::Live
            })?;
            // OBS retries 2 s after the failure, then 3, 4.5, 6.75 s...
            let reconnected_at = client
                .marks
                .iter()
                .find(|(_, m)| *m == StreamMark::Reconnected)
                .map_or(f64::NAN, |(at, _)| *at);
            println!(
                "ingest back {:.1} s after the kill: OBS reconnected {:.1} s after the kill",
                back_at - killed_at,
                reconnected_at - killed_at
            );
            client.run_for(Duration::from_secs(5));
            println!("  {}", client.line());
            println!("  {}", ingest_line(&scene.ingest.poll()));
            println!("  marks: {:?}", client.marks);
            // A client that joined as OBS started may have marked that too.
            let marks: Vec<StreamMark> = client
                .marks
                .iter()
                .map(|(_, m)| *m)
                .filter(|m| *m != StreamMark::Started)
                .collect();
            assert_eq!(
                marks,
                vec![StreamMark::Reconnecting, StreamMark::Reconnected]
            );
            // The counters restarted at 0: a sane rate again (x264 ramps up
            // after a reconnect as after a start), and no phantom drops.
            let stats = client.stats();
            assert!(
                stats
                    .bitrate_kbps
                    .is_some_and(|k| (200.0..=700.0).contains(&k)),
                "{stats:?}"
            );
            assert_eq!(stats.network.lost, 0, "{stats:?}");
            scene.finish()
        },
    )
}
