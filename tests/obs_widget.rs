//! The built widget in headless Chromium reading a real OBS Studio 29
//! (Debian's, under Xvfb) that streams over RTMP to the real stand-in:
//! everything in one private network namespace per test (see
//! `tests/support/obs.rs`), so obs-websocket's `*:4455` reaches nothing
//! else and the page reaches OBS at `ws://127.0.0.1:4455` as a streamer's
//! dock does. Needs root, the built widget (`trunk build --release`),
//! `obs-studio`, `xvfb`, `ffmpeg`, chromium and chromedriver.
//!
//! Assertions read the DOM contract: `[data-encoder]`, the encoder's
//! `[data-metric]`s and their `data-value`, `[data-advice]`'s
//! `data-diagnosis`, the root's `data-status`. Each test prints what the
//! widget showed (`--nocapture`).

#![cfg(feature = "e2e")]

mod support;

#[path = "support/obs.rs"]
mod obs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use live_stream_health::core::params::percent_encode;
use live_stream_health::server::statics::{self, StaticServer};
use obs::{in_private_network, signal, temp_dir, Network, Obs, ObsOptions, Standin, OBS_PORT};
use support::{dist_dir, Browser};

type Error = Box<dyn std::error::Error>;
type TestResult = Result<(), Error>;

/// The stand-in, a stream on it, OBS (streaming to it, or not running),
/// and the built widget served on loopback.
struct Scene {
    dir: PathBuf,
    standin: Option<Standin>,
    standin_url: String,
    obs: Option<Obs>,
    widget: StaticServer,
    jwt: String,
}

impl Scene {
    fn start(name: &str, options: Option<ObsOptions>) -> Result<Scene, Error> {
        let dist = dist_dir();
        if !dist.join("index.html").is_file() {
            return Err(format!(
                "{} has no built widget: run `trunk build --release` first",
                dist.display()
            )
            .into());
        }
        let dir = temp_dir(name)?;
        let standin = Standin::start(&dir.join("standin"))?;
        let (stream_key, jwt) = standin.new_stream()?;
        let obs = match options {
            Some(options) => {
                let options = ObsOptions {
                    rtmp: Some((standin.rtmp_server(), stream_key)),
                    start_streaming: true,
                    ..options
                };
                Some(Obs::start(&dir.join("obs"), &options)?)
            }
            None => None,
        };
        let widget = statics::spawn(&dist, ([127, 0, 0, 1], 0).into())?;
        Ok(Scene {
            dir,
            standin_url: standin.base_url(),
            standin: Some(standin),
            obs,
            widget,
            jwt,
        })
    }

    /// The monitor link with `obs=4455` and, if given, `obspw`.
    fn link(&self, password: Option<&str>) -> String {
        let password = password.map_or(String::new(), |p| format!("&obspw={}", percent_encode(p)));
        format!(
            "{}#token={}&endpoint={}&interval=1&obs={OBS_PORT}{password}",
            self.widget.base_url(),
            self.jwt,
            percent_encode(&self.standin_url),
        )
    }

    fn standin(&self) -> Result<&Standin, Error> {
        self.standin
            .as_ref()
            .ok_or_else(|| "the stand-in is down".into())
    }

    fn finish(mut self) -> TestResult {
        let result = self.obs.take().map_or(Ok(()), Obs::stop);
        self.standin.take();
        if result.is_ok() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        result
    }
}

/// What the Encoder panel and the advice show.
#[derive(Debug, Default)]
struct Panel {
    encoder: String,
    line: String,
    bitrate: Option<f64>,
    congestion: Option<f64>,
    network_drops: Option<f64>,
    encoder_skips: Option<f64>,
    cpu: Option<f64>,
    diagnosis: Option<String>,
    status: String,
}

async fn panel(browser: &Browser) -> Panel {
    let value = |metric: &str| {
        let selector = format!("[data-encoder] [data-metric=\"{metric}\"]");
        async move {
            browser
                .attr(&selector, "data-value")
                .await
                .and_then(|v| v.parse::<f64>().ok())
        }
    };
    Panel {
        encoder: browser
            .attr("[data-encoder]", "data-encoder")
            .await
            .unwrap_or_default(),
        line: browser.text("[data-encoder-message]").await,
        bitrate: value("obs-bitrate").await,
        congestion: value("obs-congestion").await,
        network_drops: value("obs-network-drops").await,
        encoder_skips: value("obs-encoder-skips").await,
        cpu: value("obs-cpu").await,
        diagnosis: browser.attr("[data-advice]", "data-diagnosis").await,
        status: browser.status().await,
    }
}

/// Reads the panel until `done` holds, printing a line a second.
async fn until(
    browser: &Browser,
    what: &str,
    within: Duration,
    done: impl Fn(&Panel) -> bool,
) -> Result<Panel, Error> {
    let started = Instant::now();
    let mut printed = 0.0;
    loop {
        let now = panel(browser).await;
        let seconds = started.elapsed().as_secs_f64();
        if seconds - printed >= 1.0 || done(&now) {
            println!("  {seconds:5.1} s {now:?}");
            printed = seconds;
        }
        if done(&now) {
            return Ok(now);
        }
        if started.elapsed() > within {
            return Err(format!("{what}: not within {within:?}; last {now:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[test]
fn a_streaming_obs_reads_live_with_its_password_kept_to_itself() -> TestResult {
    in_private_network(
        "a_streaming_obs_reads_live_with_its_password_kept_to_itself",
        Network::Loopback,
        || {
            let password = "a long and secret obs password";
            let scene = Scene::start(
                "obs_widget_live",
                Some(ObsOptions {
                    password: Some(password.into()),
                    ..ObsOptions::default()
                }),
            )?;
            let result = runtime()?.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(Some(password))).await?;
                    let seen = until(&browser, "OBS live, bitrate known", Duration::from_secs(45), |p| {
                        p.encoder == "live" && p.bitrate.is_some_and(|b| b > 0.0)
                    })
                    .await?;
                    assert_eq!(seen.line, "OBS is streaming");
                    let healthy = until(&browser, "health excellent, 10 s of OBS figures", Duration::from_secs(60), |p| {
                        p.status == "excellent" && p.diagnosis.as_deref() == Some("all-clear")
                    })
                    .await?;
                    let bitrate = healthy.bitrate.unwrap_or_default();
                    // 500 kbit/s of video, 64 of audio, and the framing.
                    assert!(
                        (400.0..=750.0).contains(&bitrate),
                        "bitrate {bitrate} kb/s for a 500 kb/s profile"
                    );
                    assert_eq!(healthy.network_drops.unwrap_or(0.0), 0.0);
                    assert!(healthy.congestion.unwrap_or(0.0) < 0.2);
                    // The password is in the fragment only: not in storage,
                    // not in the page's markup, not in any address the page
                    // requested (the stats polls, the bundle, the socket).
                    let kept = browser
                        .client
                        .execute(
                            "return JSON.stringify(Object.assign({}, sessionStorage)) + \
                             JSON.stringify(Object.assign({}, localStorage)) + \
                             document.documentElement.outerHTML + \
                             performance.getEntriesByType('resource').map(e => e.name).join(' ')",
                            vec![],
                        )
                        .await?;
                    let kept = kept.as_str().unwrap_or_default().to_string();
                    for form in ["secret obs", "secret%20obs", "secret+obs"] {
                        assert!(!kept.contains(form), "the password is in the page: {form}");
                    }
                    assert!(kept.contains("live-stream-health?token="), "the polls are listed");
                    assert!(!kept.is_empty());
                    println!(
                        "live: bitrate {bitrate:.0} kb/s, congestion {:?}, drops {:?} %, skips {:?} %, cpu {:?} %",
                        healthy.congestion, healthy.network_drops, healthy.encoder_skips, healthy.cpu
                    );
                    // In a 300x120 OBS dock: OBS's one line, and the
                    // sparkline keeps its room (the figures wait for 200 px).
                    let _dock = support::open_in_dock(
                        &browser,
                        &format!("{}&layout=compact", scene.link(Some(password))),
                    )
                    .await?;
                    until(&browser, "OBS live in the 120 px dock", Duration::from_secs(30), |p| {
                        p.encoder == "live" && p.status == "excellent"
                    })
                    .await?;
                    let parts = support::assert_fits_the_dock(
                        &browser,
                        &[".lsh-badge", "[data-metric=\"deviation\"]", "[data-encoder-message]", "svg[data-chart]"],
                    )
                    .await?;
                    let spark = &parts["svg[data-chart]"];
                    let height = spark["b"].as_f64().unwrap_or(0.0) - spark["t"].as_f64().unwrap_or(0.0);
                    assert!(height >= 16.0, "the sparkline is squeezed: {parts}");
                    browser.client.enter_parent_frame().await?;
                    if let Some(path) = std::env::var_os("LSH_OBS_SCREENSHOT") {
                        dock_screenshot(&browser, &scene.link(Some(password)), path.as_ref()).await?;
                    }
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}

/// With `LSH_OBS_SCREENSHOT=FILE.png`: the README's picture of a dock
/// (compact layout, 420x640) reading this OBS, taken once the sparkline
/// has some history.
async fn dock_screenshot(browser: &Browser, link: &str, path: &std::path::Path) -> TestResult {
    browser.client.set_window_size(420, 640).await?;
    browser
        .client
        .goto(&format!("{link}&layout=compact"))
        .await?;
    until(browser, "live in the dock", Duration::from_secs(30), |p| {
        p.encoder == "live" && p.bitrate.is_some() && p.status == "excellent"
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(12)).await;
    std::fs::write(path, browser.client.screenshot().await?)?;
    println!("dock screenshot: {}", path.display());
    Ok(())
}

#[test]
fn a_wrong_password_reads_refused_in_one_line_and_health_goes_on() -> TestResult {
    in_private_network(
        "a_wrong_password_reads_refused_in_one_line_and_health_goes_on",
        Network::Loopback,
        || {
            let scene = Scene::start(
                "obs_widget_refused",
                Some(ObsOptions {
                    password: Some("the right one".into()),
                    ..ObsOptions::default()
                }),
            )?;
            let result = runtime()?.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(Some("not it"))).await?;
                    let refused = until(&browser, "refused", Duration::from_secs(30), |p| {
                        p.encoder == "refused"
                    })
                    .await?;
                    assert_eq!(refused.line, "OBS refused the password");
                    assert_eq!(refused.bitrate, None, "no figures while refused");
                    let healthy =
                        until(&browser, "health excellent", Duration::from_secs(60), |p| {
                            p.status == "excellent"
                        })
                        .await?;
                    assert_eq!(healthy.encoder, "refused");
                    assert_eq!(healthy.diagnosis, None);
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}

#[test]
fn obs_not_running_reads_unreachable_in_one_line_and_health_goes_on() -> TestResult {
    in_private_network(
        "obs_not_running_reads_unreachable_in_one_line_and_health_goes_on",
        Network::Loopback,
        || {
            let scene = Scene::start("obs_widget_unreachable", None)?;
            let result = runtime()?.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(None)).await?;
                    let unreachable =
                        until(&browser, "unreachable", Duration::from_secs(30), |p| {
                            p.encoder == "unreachable"
                        })
                        .await?;
                    assert_eq!(
                        unreachable.line,
                        format!("OBS not reachable on port {OBS_PORT}")
                    );
                    // Health with no stream publishing: the stand-in says
                    // what it says, and the widget is live.
                    browser
                        .wait_for("state", "live", Duration::from_secs(30))
                        .await?;
                    let still = panel(&browser).await;
                    assert_eq!(still.encoder, "unreachable");
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}

/// How many `line[data-mark=...]` the chart holds.
async fn marks(browser: &Browser, mark: &str) -> usize {
    browser
        .client
        .find_all(fantoccini::Locator::Css(&format!(
            "svg[data-chart=\"history\"] line[data-mark=\"{mark}\"]"
        )))
        .await
        .map_or(0, |found| found.len())
}

#[test]
fn a_stalled_ingest_reads_congestion_and_the_diagnosis_names_the_network() -> TestResult {
    in_private_network(
        "a_stalled_ingest_reads_congestion_and_the_diagnosis_names_the_network",
        Network::SmallBuffers,
        || {
            let scene = Scene::start("obs_widget_stall", Some(ObsOptions::default()))?;
            let result = runtime()?.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(None)).await?;
                    let before = until(&browser, "all clear, bitrate known", Duration::from_secs(60), |p| {
                        p.diagnosis.as_deref() == Some("all-clear") && p.bitrate.is_some()
                    })
                    .await?;
                    signal(scene.standin()?.pid(), "STOP")?;
                    println!("ingest stopped (SIGSTOP)");
                    until(&browser, "slow network", Duration::from_secs(20), |p| {
                        p.diagnosis.as_deref() == Some("slow-network")
                    })
                    .await?;
                    let advice = browser.text("[data-advice]").await;
                    assert!(advice.contains("lower the bitrate"), "{advice}");
                    // The panel's figures are read one by one, so they may
                    // trail the diagnosis (the peak of the last ten seconds)
                    // by a reading; OBS reports congestion first and its
                    // dropped frames a second or two later.
                    let stalled = until(&browser, "congestion and network drops", Duration::from_secs(15), |p| {
                        p.congestion.is_some_and(|c| c > 0.2)
                            && p.network_drops.is_some_and(|d| d > 1.0)
                    })
                    .await?;
                    assert_eq!(stalled.diagnosis.as_deref(), Some("slow-network"));
                    assert_eq!(stalled.encoder, "live");
                    signal(scene.standin()?.pid(), "CONT")?;
                    println!(
                        "stall: before {:?} kb/s; stalled bitrate {:?} kb/s, congestion {:?}, network drops {:?} %, encoder skips {:?} %, health {}",
                        before.bitrate, stalled.bitrate, stalled.congestion, stalled.network_drops, stalled.encoder_skips, stalled.status
                    );
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}

#[test]
fn an_encoder_that_cannot_keep_up_reads_skips_and_the_diagnosis_names_the_computer() -> TestResult {
    in_private_network(
        "an_encoder_that_cannot_keep_up_reads_skips_and_the_diagnosis_names_the_computer",
        Network::Loopback,
        || {
            // Moving noise through x264's slowest preset: a few frames a
            // second here (as in obs_studio.rs), so OBS skips frames for
            // encoder lag.
            let scene = Scene::start(
                "obs_widget_lag",
                Some(ObsOptions {
                    preset: "placebo",
                    x264_options: "rc-lookahead=10 bframes=3",
                    moving: true,
                    ..ObsOptions::default()
                }),
            )?;
            let result = runtime()?.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(None)).await?;
                    until(&browser, "live", Duration::from_secs(45), |p| p.encoder == "live").await?;
                    let lagging = until(&browser, "slow computer", Duration::from_secs(45), |p| {
                        p.diagnosis.as_deref() == Some("slow-computer")
                            && p.encoder_skips.is_some_and(|s| s > 1.0)
                    })
                    .await?;
                    let advice = browser.text("[data-advice]").await;
                    assert!(advice.contains("faster preset"), "{advice}");
                    println!(
                        "lag: bitrate {:?} kb/s, encoder skips {:?} %, network drops {:?} %, congestion {:?}, cpu {:?} %, health {}",
                        lagging.bitrate, lagging.encoder_skips, lagging.network_drops, lagging.congestion, lagging.cpu, lagging.status
                    );
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}

#[test]
fn the_ingest_killed_and_restarted_reads_reconnecting_then_live_marked_on_the_chart() -> TestResult
{
    in_private_network(
        "the_ingest_killed_and_restarted_reads_reconnecting_then_live_marked_on_the_chart",
        Network::Loopback,
        || {
            let mut scene = Scene::start("obs_widget_restart", Some(ObsOptions::default()))?;
            let runtime = runtime()?;
            let result = runtime.block_on(async {
                let browser = Browser::start().await?;
                let outcome = async {
                    browser.client.goto(&scene.link(None)).await?;
                    until(&browser, "live", Duration::from_secs(45), |p| {
                        p.encoder == "live" && p.bitrate.is_some()
                    })
                    .await?;
                    let data_dir = scene.dir.join("standin");
                    if let Some(standin) = scene.standin.take() {
                        standin.kill();
                    }
                    println!("ingest killed");
                    let during = until(&browser, "reconnecting", Duration::from_secs(10), |p| {
                        p.encoder == "reconnecting"
                    })
                    .await?;
                    assert_eq!(during.line, "OBS lost the ingest and is reconnecting");
                    until(
                        &browser,
                        "diagnosis obs-reconnecting",
                        Duration::from_secs(5),
                        |p| p.diagnosis.as_deref() == Some("obs-reconnecting"),
                    )
                    .await?;
                    scene.standin = Some(Standin::start(&data_dir)?);
                    println!("ingest back");
                    until(&browser, "live again", Duration::from_secs(30), |p| {
                        p.encoder == "live"
                    })
                    .await?;
                    // The chart's right edge follows the widget's clock (a
                    // tick a second): a mark newer than the last tick is
                    // drawn at the next one.
                    let started = Instant::now();
                    let (lost, back) = loop {
                        let seen = (
                            marks(&browser, "reconnecting").await,
                            marks(&browser, "reconnected").await,
                        );
                        if seen == (1, 1) || started.elapsed() > Duration::from_secs(10) {
                            break seen;
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    };
                    println!(
                        "chart marks after {:.1} s: reconnecting {lost}, reconnected {back}",
                        started.elapsed().as_secs_f64()
                    );
                    assert_eq!((lost, back), (1, 1));
                    Ok::<(), Error>(())
                }
                .await;
                browser.close().await;
                outcome
            });
            let finished = scene.finish();
            result.and(finished)
        },
    )
}
