//! Shared harness for the end-to-end tests: a WebDriver-driven headless
//! browser, the widget's static server and a stand-in with a signing key.
//!
//! The browser is chosen by `LSH_BROWSER`: `chromium` (the default, through
//! chromedriver) or `firefox` (Firefox ESR through geckodriver), so the same
//! test code proves the widget in both engines. Each session gets a fresh
//! profile: Chromium a `--user-data-dir` of its own, Firefox the new
//! temporary profile geckodriver makes for every session. Both are kept off
//! the network (this machine reaches only package registries, and a browser
//! that phones home slows every test): Chromium by its background-networking
//! flags, Firefox by preferences (see [`firefox_capabilities`]).
//!
//! [`Chromedriver`] and [`Session`] stay Chromium-only whatever
//! `LSH_BROWSER` says: the benchmarks read heap and DOM counters and emulate
//! networks through the DevTools protocol, which only chromedriver passes
//! through.

#![allow(dead_code)] // each test binary uses a different part of it

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use live_stream_health::core::params::percent_encode;
use live_stream_health::server::standin::{self, Config, Running};
use live_stream_health::server::statics::{self, StaticServer};
use live_stream_health::server::token;
use serde_json::json;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Time scale of the stand-in: 20 simulated seconds per real second, so a
/// scenario's 30 s windows and 3-minute timeout pass in seconds.
pub const TIME_SCALE: f64 = 20.0;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

pub fn dist_dir() -> PathBuf {
    std::env::var_os("LSH_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"))
}

/// A static server of `tests/host`, whose `dock.html` is an empty page to
/// put the widget in a frame of a given size (the widget's own page cannot
/// hold frames: its policy has no `frame-src`). Returns the server and the
/// dock page's URL.
pub fn dock_page() -> Result<(StaticServer, String), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/host");
    let server = statics::spawn(&dir, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let url = format!("{}dock.html", server.base_url());
    Ok((server, url))
}

/// Opens `link` in an OBS-dock-sized frame of 300×120 px and enters it.
pub async fn open_in_dock(
    browser: &Browser,
    link: &str,
) -> Result<StaticServer, Box<dyn std::error::Error>> {
    let (dock_server, dock) = dock_page()?;
    browser.client.goto(&dock).await?;
    browser
        .client
        .execute(
            "document.body.innerHTML = '';\
             const f = document.createElement('iframe');\
             f.style.cssText = 'width:300px;height:120px;border:0;display:block';\
             f.src = arguments[0]; document.body.appendChild(f);",
            vec![json!(link)],
        )
        .await?;
    browser.client.enter_frame(0).await?;
    Ok(dock_server)
}

/// Asserts that the page scrolls in neither direction within the 300×120
/// dock and that each of `selectors` is shown whole inside it; returns the
/// parts' boxes by selector.
pub async fn assert_fits_the_dock(
    browser: &Browser,
    selectors: &[&str],
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let report = browser
        .client
        .execute(
            "const d = document.scrollingElement;\
             const out = { scrollW: d.scrollWidth, scrollH: d.scrollHeight, parts: {} };\
             for (const s of arguments[0]) {\
               const e = document.querySelector(s);\
               const r = e ? e.getBoundingClientRect() : null;\
               out.parts[s] = r && { l: r.left, t: r.top, r: r.right, b: r.bottom,\
                 clipped: e.scrollWidth > e.clientWidth + 1 };\
             }\
             return out;",
            vec![json!(selectors)],
        )
        .await?;
    assert!(
        report["scrollW"].as_f64().is_some_and(|w| w <= 300.0),
        "{report}"
    );
    assert!(
        report["scrollH"].as_f64().is_some_and(|h| h <= 120.0),
        "{report}"
    );
    for (selector, part) in report["parts"].as_object().cloned().unwrap_or_default() {
        assert!(part.is_object(), "{selector} is missing: {report}");
        let inside = part["l"].as_f64().is_some_and(|v| v >= 0.0)
            && part["t"].as_f64().is_some_and(|v| v >= 0.0)
            && part["r"].as_f64().is_some_and(|v| v <= 300.0)
            && part["b"].as_f64().is_some_and(|v| v <= 120.0)
            && part["r"].as_f64() > part["l"].as_f64()
            && part["b"].as_f64() > part["t"].as_f64();
        assert!(inside, "{selector} is outside 300x120: {report}");
    }
    Ok(report["parts"].clone())
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lsh-e2e-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The browser engine the end-to-end tests drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Debian's Chromium through chromedriver.
    Chromium,
    /// Debian's Firefox ESR through geckodriver.
    Firefox,
}

impl Engine {
    /// The engine named by `LSH_BROWSER` (`chromium` when unset or empty).
    pub fn from_env() -> Result<Engine, String> {
        let wanted = std::env::var("LSH_BROWSER").unwrap_or_default();
        match wanted.trim().to_ascii_lowercase().as_str() {
            "" | "chromium" | "chrome" => Ok(Engine::Chromium),
            "firefox" | "firefox-esr" => Ok(Engine::Firefox),
            other => Err(format!(
                "LSH_BROWSER={other:?} is not a browser the tests know: use chromium or firefox"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }

    /// The WebDriver server for this engine, listening on `port`.
    fn driver_command(self, port: u16) -> Command {
        match self {
            Engine::Chromium => {
                let mut command = Command::new("chromedriver");
                command.arg(format!("--port={port}"));
                command
            }
            Engine::Firefox => {
                // Marionette (geckodriver to Firefox) takes a port the system
                // picks by default, so parallel test binaries never meet; the
                // WebDriver BiDi port is only opened when a session asks for it.
                let mut command = Command::new("geckodriver");
                command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
                command
            }
        }
    }

    /// How many times the browser sends one GET whose connection is
    /// closed before any response, before the page sees a network error.
    /// Firefox retries such a request by itself up to
    /// `network.http.request.max-attempts` times in all (10, its default,
    /// pinned in [`firefox_capabilities`]); Chromium retries only on a
    /// reused connection, and the test servers close every connection.
    pub fn attempts_per_reset(self) -> u32 {
        match self {
            Engine::Chromium => 1,
            Engine::Firefox => FIREFOX_REQUEST_ATTEMPTS,
        }
    }

    fn driver_name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromedriver",
            Engine::Firefox => "geckodriver",
        }
    }
}

/// A WebDriver server (chromedriver or geckodriver) and one headless
/// browser session.
pub struct Browser {
    driver: Child,
    pub client: Client,
    pub engine: Engine,
    /// Chromium's profile directory, removed on close (geckodriver removes
    /// Firefox's own).
    profile: Option<PathBuf>,
}

/// Starts `engine`'s WebDriver server on a free port and waits until it
/// listens. A server that exits instead (its port was taken in the
/// meantime by another test binary) is started again on another port.
async fn spawn_driver(engine: Engine) -> Result<(Child, u16), Box<dyn std::error::Error>> {
    let name = engine.driver_name();
    for _ in 0..3 {
        let port = free_port();
        let mut driver = engine
            .driver_command(port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {name} (is it installed? tests/setup.sh installs it): {e}")
            })?;
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut exited = false;
        loop {
            if let Ok(Some(_)) = driver.try_wait() {
                exited = true;
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                stop_driver(&mut driver);
                return Err(format!("{name} did not listen within 20 s").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Listening, unless it was another process on that port and ours is
        // about to fail to bind: look once more.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if !exited && matches!(driver.try_wait(), Ok(None)) {
            return Ok((driver, port));
        }
        let _ = driver.wait();
    }
    Err(format!("{name} exited at start three times").into())
}

/// Starts chromedriver on a free port and waits until it listens.
async fn spawn_chromedriver() -> Result<(Child, u16), Box<dyn std::error::Error>> {
    spawn_driver(Engine::Chromium).await
}

/// The arguments of a headless Chromium with the profile directory
/// `profile`, plus any `extra_args`.
fn chromium_capabilities(
    profile: &Path,
    extra_args: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1000,800".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(extra_args.iter().map(|a| a.to_string()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
    capabilities
}

/// The Firefox binary: `LSH_FIREFOX`, else `firefox-esr` or `firefox` on
/// PATH (Debian's `firefox` is a shell wrapper around `firefox-esr`).
fn firefox_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("LSH_FIREFOX").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["firefox-esr", "firefox"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err("no firefox-esr or firefox on PATH (Debian package firefox-esr; tests/setup.sh installs it), and LSH_FIREFOX is not set".into())
}

/// Firefox's own default for `network.http.request.max-attempts`.
const FIREFOX_REQUEST_ATTEMPTS: u32 = 10;

/// A headless Firefox kept off the network. geckodriver starts it with a
/// new temporary profile holding these preferences on top of its own
/// (which already turn off updates, telemetry uploads and safe browsing).
fn firefox_capabilities() -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let prefs = json!({
        // No captive-portal or connectivity probes, no update checks, no
        // data-submission policy prompt: each would try the closed network.
        "network.captive-portal-service.enabled": false,
        "network.connectivity-service.enabled": false,
        "app.update.enabled": false,
        "app.update.auto": false,
        "datareporting.policy.dataSubmissionEnabled": false,
        "datareporting.healthreport.uploadEnabled": false,
        "toolkit.telemetry.enabled": false,
        "browser.shell.checkDefaultBrowser": false,
        "browser.startup.homepage_override.mstone": "ignore",
        "browser.newtabpage.enabled": false,
        "browser.region.update.enabled": false,
        "browser.search.update": false,
        "extensions.update.enabled": false,
        "extensions.getAddons.cache.enabled": false,
        "media.gmp-manager.updateEnabled": false,
        "network.dns.disablePrefetch": true,
        "network.prefetch-next": false,
        "network.http.speculative-parallel-limit": 0,
        // The tests compare rendering in both engines: no smooth scrolling.
        "general.smoothScroll": false,
        // Firefox's default, pinned: the fault matrix counts on it.
        "network.http.request.max-attempts": FIREFOX_REQUEST_ATTEMPTS,
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("firefox"));
    capabilities.insert(
        "moz:firefoxOptions".into(),
        json!({
            "binary": firefox_binary()?,
            "args": ["-headless"],
            "prefs": prefs,
            "log": { "level": "error" },
        }),
    );
    Ok(capabilities)
}

/// A new headless Chromium session with a fresh profile directory (so
/// nothing is cached), plus any `extra_args`.
async fn new_session(
    port: u16,
    profile: &Path,
    extra_args: &[&str],
) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(ClientBuilder::new(HttpConnector::new())
        .capabilities(chromium_capabilities(profile, extra_args))
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?)
}

impl Browser {
    /// A new browser session of the engine `LSH_BROWSER` names, with a
    /// fresh profile, its window 1000×800.
    pub async fn start() -> Result<Browser, Box<dyn std::error::Error>> {
        Browser::start_engine(Engine::from_env()?).await
    }

    /// A new browser session of `engine`, with a fresh profile.
    pub async fn start_engine(engine: Engine) -> Result<Browser, Box<dyn std::error::Error>> {
        let (mut driver, port) = spawn_driver(engine).await?;
        let url = format!("http://127.0.0.1:{port}");
        let (profile, session) = match engine {
            Engine::Chromium => {
                let profile = temp_dir("profile");
                let session = new_session(port, &profile, &[]).await;
                (Some(profile), session)
            }
            Engine::Firefox => {
                let session = match firefox_capabilities() {
                    Ok(capabilities) => ClientBuilder::new(HttpConnector::new())
                        .capabilities(capabilities)
                        .connect(&url)
                        .await
                        .map_err(|e| e.into()),
                    Err(e) => Err(e.into()),
                };
                (None, session)
            }
        };
        let client = match session {
            Ok(client) => client,
            Err(e) => {
                stop_driver(&mut driver);
                return Err(format!("cannot open a {} session: {e}", engine.name()).into());
            }
        };
        // Chromium takes its size from --window-size; Firefox is sized here.
        if engine == Engine::Firefox {
            client.set_window_size(1000, 800).await?;
        }
        Ok(Browser {
            driver,
            client,
            engine,
            profile,
        })
    }

    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        match self.client.find(Locator::Css(selector)).await {
            Ok(element) => element.attr(name).await.ok().flatten(),
            Err(_) => None,
        }
    }

    pub async fn state(&self) -> String {
        self.attr(".lsh", "data-state").await.unwrap_or_default()
    }

    pub async fn status(&self) -> String {
        self.attr(".lsh", "data-status").await.unwrap_or_default()
    }

    pub async fn samples(&self) -> u64 {
        self.attr("svg[data-chart=\"history\"]", "data-samples")
            .await
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    pub async fn text(&self, selector: &str) -> String {
        match self.client.find(Locator::Css(selector)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until `data-<attr>` on the widget root equals `value`.
    pub async fn wait_for(&self, attr: &str, value: &str, within: Duration) -> TestResult {
        let deadline = Instant::now() + within;
        loop {
            let now = self
                .attr(".lsh", &format!("data-{attr}"))
                .await
                .unwrap_or_default();
            if now == value {
                return Ok(());
            }
            if Instant::now() > deadline {
                let message = self.text("[data-message]").await;
                return Err(format!(
                    "{attr} stayed {now:?}, wanted {value:?} within {within:?}; message: {message:?}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver, as
    /// [`Session::cdp`] does; an error in Firefox.
    pub async fn cdp(
        &self,
        command: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        if self.engine != Engine::Chromium {
            return Err("the DevTools protocol is Chromium's only".into());
        }
        let command = CdpCommand {
            command: command.to_owned(),
            params,
        };
        Ok(self.client.issue_cmd(command).await?)
    }

    /// Ends the session, then (on drop) the WebDriver server.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// One chromedriver for many sessions: the benchmarks open a fresh browser
/// (a new session with a new profile) for every cold load. Chromium only:
/// the benchmarks need the DevTools protocol ([`Session::cdp`]).
pub struct Chromedriver {
    driver: Child,
    port: u16,
}

impl Chromedriver {
    pub async fn start() -> Result<Chromedriver, Box<dyn std::error::Error>> {
        let (driver, port) = spawn_chromedriver().await?;
        Ok(Chromedriver { driver, port })
    }

    /// A new browser with an empty profile and `extra_args`. Close it with
    /// [`Session::close`].
    pub async fn session(
        &self,
        extra_args: &[&str],
    ) -> Result<Session, Box<dyn std::error::Error>> {
        let profile = temp_dir("profile");
        let client = new_session(self.port, &profile, extra_args).await?;
        Ok(Session { client, profile })
    }
}

/// A test that panics before [`Browser::close`] (a failed `assert!`) still
/// stops its WebDriver server and the browser it started, instead of
/// leaving both running after the test binary has exited.
impl Drop for Browser {
    fn drop(&mut self) {
        stop_driver(&mut self.driver);
        if let Some(profile) = self.profile.take() {
            let _ = std::fs::remove_dir_all(profile);
        }
    }
}

/// Stops a WebDriver server together with the browser it launched, its
/// direct child (a browser outlives a killed server otherwise; its own
/// helper processes end with it).
fn stop_driver(driver: &mut Child) {
    let _ = Command::new("pkill")
        .args(["-KILL", "-P", &driver.id().to_string()])
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        stop_driver(&mut self.driver);
    }
}

/// One browser of a [`Chromedriver`].
pub struct Session {
    pub client: Client,
    profile: PathBuf,
}

impl Session {
    /// Sends a Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`) and returns its result.
    pub async fn cdp(
        &self,
        command: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let command = CdpCommand {
            command: command.to_owned(),
            params,
        };
        Ok(self.client.issue_cmd(command).await?)
    }

    /// Quits the browser and removes its profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// chromedriver's passthrough to the DevTools Protocol, as a WebDriver
/// extension command.
#[derive(Debug)]
struct CdpCommand {
    command: String,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The widget's static server and a stand-in with a signing key.
pub struct Stack {
    pub standin: Option<Running>,
    pub widget: StaticServer,
    pub data_dir: PathBuf,
    pub key_id: String,
    pub key_pem: String,
}

impl Stack {
    pub fn start(name: &str) -> Result<Stack, Box<dyn std::error::Error>> {
        Stack::start_with(name, TIME_SCALE)
    }

    /// A stack whose stand-in runs simulated time `time_scale` times faster.
    pub fn start_with(name: &str, time_scale: f64) -> Result<Stack, Box<dyn std::error::Error>> {
        let dist = dist_dir();
        if !dist.join("index.html").is_file() {
            return Err(format!(
                "{} has no built widget: run `trunk build --release` first",
                dist.display()
            )
            .into());
        }
        let widget = statics::spawn(&dist, SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let data_dir = temp_dir(name);
        let mut config = Config::new(&data_dir);
        config.time_scale = time_scale;
        let standin = standin::spawn(config)?;
        let key = standin.create_signing_key("development")?;
        Ok(Stack {
            standin: Some(standin),
            widget,
            data_dir,
            key_id: key.id,
            key_pem: key.private_key_pem,
        })
    }

    pub fn standin(&self) -> &Running {
        match &self.standin {
            Some(running) => running,
            None => panic!("the stand-in is stopped"),
        }
    }

    pub fn stream(&self, scenario: &str) -> Result<String, Box<dyn std::error::Error>> {
        Ok(self
            .standin()
            .create_live_stream("development", Some(scenario))?
            .id)
    }

    pub fn token(
        &self,
        stream: &str,
        valid_for: Duration,
    ) -> Result<String, Box<dyn std::error::Error>> {
        Ok(token::mint(&self.key_pem, &self.key_id, stream, valid_for)?)
    }

    /// Creates a stream running `scenario`, opens its monitor in `browser`
    /// (valid for an hour) and returns the stream id.
    pub async fn open_scenario(
        &self,
        browser: &Browser,
        scenario: &str,
    ) -> Result<String, Box<dyn std::error::Error>> {
        let stream = self.stream(scenario)?;
        let link = self.link(&self.token(&stream, Duration::from_secs(3600))?);
        browser.client.goto(&link).await?;
        Ok(stream)
    }

    /// The monitor link for a token, polling once a second.
    pub fn link(&self, token: &str) -> String {
        format!(
            "{}#token={token}&endpoint={}&interval=1",
            self.widget.base_url(),
            percent_encode(&self.standin().base_url())
        )
    }

    pub fn api(&self, method: &str, path: &str) -> Result<u16, Box<dyn std::error::Error>> {
        let credentials = self
            .standin()
            .bootstrap()
            .ok_or("the stand-in has no bootstrap access token")?;
        let url = format!("{}{path}", self.standin().base_url());
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let response = match method {
            "DELETE" => agent
                .delete(&url)
                .header("Authorization", &credentials.basic_auth_header())
                .call()?,
            _ => agent
                .get(&url)
                .header("Authorization", &credentials.basic_auth_header())
                .call()?,
        };
        Ok(response.status().as_u16())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(running) = self.standin.take() {
            let _ = running.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The platform's backend: `GET /token?stream=ID` mints a monitor token that
/// lives `ttl` seconds.
pub struct TokenBackend {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    stream: String,
}

impl TokenBackend {
    pub async fn start(
        key_pem: String,
        key_id: String,
        ttl: Duration,
    ) -> Result<TokenBackend, Box<dyn std::error::Error>> {
        let state = Arc::new((key_pem, key_id, ttl));
        let app = Router::new()
            .route(
                "/token",
                get(
                    |State(state): State<Arc<(String, String, Duration)>>,
                     Query(q): Query<TokenQuery>| async move {
                        let (pem, kid, ttl) = &*state;
                        let body = match token::mint(pem, kid, &q.stream, *ttl) {
                            Ok(token) => json!({ "token": token }).to_string(),
                            Err(e) => json!({ "error": e.to_string() }).to_string(),
                        };
                        (
                            [
                                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                                (header::CONTENT_TYPE, "application/json"),
                            ],
                            body,
                        )
                            .into_response()
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TokenBackend { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/token", self.addr)
    }
}

impl Drop for TokenBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}
