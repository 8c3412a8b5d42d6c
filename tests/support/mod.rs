//! Shared harness for the end-to-end tests: a chromedriver-driven headless
//! Chromium, the widget's static server and a stand-in with a signing key.

#![allow(dead_code)] // each test binary uses a different part of it

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lsh-e2e-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A chromedriver process and one headless Chromium session.
pub struct Browser {
    driver: Child,
    pub client: Client,
}

/// Starts chromedriver on a free port and waits until it listens.
async fn spawn_chromedriver() -> Result<(Child, u16), Box<dyn std::error::Error>> {
    let port = free_port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start chromedriver (is it installed?): {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = driver.kill();
            let _ = driver.wait();
            return Err("chromedriver did not listen within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((driver, port))
}

/// A new headless Chromium session with a fresh profile directory (so
/// nothing is cached), plus any `extra_args`.
async fn new_session(
    port: u16,
    profile: &std::path::Path,
    extra_args: &[&str],
) -> Result<Client, Box<dyn std::error::Error>> {
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
    Ok(ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?)
}

impl Browser {
    pub async fn start() -> Result<Browser, Box<dyn std::error::Error>> {
        let (driver, port) = spawn_chromedriver().await?;
        let client = new_session(port, &temp_dir("profile"), &[]).await?;
        Ok(Browser { driver, client })
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

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One chromedriver for many sessions: the benchmarks open a fresh browser
/// (a new session with a new profile) for every cold load.
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

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
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
