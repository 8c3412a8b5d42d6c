//! A real OBS Studio for tests: isolated config, a virtual display, a
//! private network, the stand-in as a child process, and the core's
//! obs-websocket client driven over a real WebSocket.
//!
//! **Isolation.** obs-websocket 5.1 listens on `*:4455` and has no bind
//! setting, so every test runs in its own network namespace:
//! [`in_private_network`] re-runs the test binary, filtered to that one
//! test, under `unshare --net` (root is needed), and inside it brings up
//! loopback and, for the stall test, shrinks the TCP buffers (per
//! namespace, so nothing outside changes). OBS, the stand-in and the client
//! all live in there; nothing listens anywhere else, and fixed ports
//! (4455, 8787, 1935) cannot collide with another test or helper. The runs
//! are one at a time: an encoder that is meant to lag would make another
//! run's encoder lag too.
//!
//! **OBS.** [`Obs::start`] writes a fresh config (see [`ObsOptions`]):
//! `global.ini` with the `[OBSWebSocket]` section obs-websocket 5.1 reads
//! and the keys that keep the first-run wizard and the exit prompts away,
//! a simple-output x264 profile, `service.json` pointing at the stand-in's
//! RTMP ingest with a key made through its API, and a scene with a colour
//! source (or a looping clip). It starts Xvfb and
//! `obs --multi --disable-missing-files-check [--startstreaming]` with
//! `HOME`/`XDG_*` in a temporary directory, and waits for the WebSocket.
//! [`Obs::stop`] sends `StopStream` first: OBS 29 dies at once on a signal,
//! without ending its RTMP session. When OBS cannot start, the error
//! carries the tail of OBS's log.
//!
//! **The client.** [`Driver`] runs [`ObsClient`] exactly as the browser
//! shell will: one socket (tungstenite over a blocking `TcpStream`), one
//! timer, the actions carried out in order, SHA-256 from `sha2` where the
//! browser will use `crypto.subtle`.

#![allow(dead_code)] // each scenario uses a different part of it

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use live_stream_health::core::api::parse_report;
use live_stream_health::core::history::History;
use live_stream_health::core::monitor::{Monitor, View};
use live_stream_health::core::obs::auth::AuthJob;
use live_stream_health::core::obs::protocol::{self, Challenge};
use live_stream_health::core::obs::{
    diagnose, Action, Diagnosis, EncoderState, EncoderStats, IngestSide, ObsClient, ObsSettings,
    StreamMark,
};
use live_stream_health::core::params;
use live_stream_health::core::poll::{Outcome, Step};
use live_stream_health::core::trend;
use live_stream_health::server::store::Credentials;
use live_stream_health::server::token;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tungstenite::protocol::WebSocket;
use tungstenite::Message;

pub type Error = Box<dyn std::error::Error>;
pub type TestResult = Result<(), Error>;

/// obs-websocket's port inside the namespace.
pub const OBS_PORT: u16 = 4455;
/// The stand-in's HTTP port inside the namespace.
pub const STANDIN_PORT: u16 = 8787;
/// The stand-in's RTMP port inside the namespace.
pub const RTMP_PORT: u16 = 1935;

/// Set (to the test's name) in the re-run that is inside the namespace.
const INSIDE: &str = "LSH_OBS_NAMESPACE";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The network of a test's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Loopback with the default buffers.
    Loopback,
    /// Loopback with TCP buffers of 4-16 KiB, so a receiver that stops
    /// reading is felt within a second (with the defaults the kernel
    /// swallows minutes of a 500 kbit/s stream).
    SmallBuffers,
}

/// Runs `body` in a private network namespace. Outside, re-runs this test
/// (`name` must be the test function's name) in one and reports how it
/// went; inside, prepares the network and runs `body`.
pub fn in_private_network(
    name: &str,
    network: Network,
    body: impl FnOnce() -> TestResult,
) -> TestResult {
    if std::env::var_os(INSIDE).as_deref() == Some(OsStr::new(name)) {
        prepare(network)?;
        return body();
    }
    let _one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let output = Command::new("unshare")
        .arg("--net")
        .arg("--")
        .arg(std::env::current_exe()?)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, name)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run unshare (util-linux): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    println!(
        "[{name}: {:.1} s in its own network namespace]",
        started.elapsed().as_secs_f64()
    );
    if !output.status.success() {
        if stderr.contains("unshare failed") {
            return Err(format!(
                "{name}: cannot make a network namespace (`unshare --net` needs root): {}",
                stderr.trim()
            )
            .into());
        }
        return Err(format!("{name} failed inside its network namespace (output above)").into());
    }
    // libtest exits 0 when the filter matches nothing: make sure it ran.
    if !stdout.contains("test result: ok. 1 passed") {
        return Err(format!("{name} did not run inside the namespace (is the name right?)").into());
    }
    Ok(())
}

fn prepare(network: Network) -> TestResult {
    run("ip", &["link", "set", "lo", "up"])?;
    if network == Network::SmallBuffers {
        for (file, value) in [
            ("/proc/sys/net/ipv4/tcp_rmem", "4096 8192 16384"),
            ("/proc/sys/net/ipv4/tcp_wmem", "4096 8192 16384"),
        ] {
            std::fs::write(file, value).map_err(|e| format!("cannot write {file}: {e}"))?;
        }
    }
    if TcpStream::connect(("127.0.0.1", OBS_PORT)).is_ok() {
        return Err(format!("port {OBS_PORT} is taken inside a fresh namespace").into());
    }
    Ok(())
}

fn run(program: &str, args: &[&str]) -> TestResult {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into())
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> Result<PathBuf, Error> {
    let dir = std::env::temp_dir().join(format!("lsh-obs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Sends a signal by name (`STOP`, `CONT`, `KILL`) to a process.
pub fn signal(pid: u32, name: &str) -> TestResult {
    run("kill", &[&format!("-{name}"), &pid.to_string()])
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

// --- the stand-in, as a child process ---------------------------------------

/// `live-stream-health serve` in a child process, so a test can stop
/// (SIGSTOP), resume and kill it like a real ingest that hangs or dies.
pub struct Standin {
    child: Child,
    data_dir: PathBuf,
    log: PathBuf,
}

impl Standin {
    /// Starts the stand-in on the fixed ports with `data_dir` (kept across
    /// restarts: streams, keys and tokens survive) and waits for it.
    pub fn start(data_dir: &Path) -> Result<Standin, Error> {
        std::fs::create_dir_all(data_dir)?;
        let log = data_dir.with_extension("log");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = Command::new(env!("CARGO_BIN_EXE_live-stream-health"))
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{STANDIN_PORT}")])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--rtmp-listen", &format!("127.0.0.1:{RTMP_PORT}")])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start the stand-in: {e}"))?;
        let mut standin = Standin {
            child,
            data_dir: data_dir.to_path_buf(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while http_get(
            &format!("{}/health", standin.base_url()),
            Duration::from_secs(1),
        )
        .is_err()
        {
            if Instant::now() > deadline || standin.child.try_wait()?.is_some() {
                return Err(format!(
                    "the stand-in did not answer within 15 s; its log:\n{}",
                    std::fs::read_to_string(&standin.log).unwrap_or_default()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(standin)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{STANDIN_PORT}")
    }

    pub fn rtmp_server(&self) -> String {
        format!("rtmp://127.0.0.1:{RTMP_PORT}/live")
    }

    /// Kills it at once (no goodbye to OBS: the connection just drops).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The bootstrap access token of its data directory.
    fn credentials(&self) -> Result<Credentials, Error> {
        let bytes = std::fs::read(self.data_dir.join("bootstrap.json"))?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    fn api_post(&self, path: &str) -> Result<Value, Error> {
        let mut response = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent()
            .post(format!("{}{path}", self.base_url()))
            .header("Authorization", &self.credentials()?.basic_auth_header())
            .header("Content-Type", "application/json")
            .send("{}")?;
        Ok(serde_json::from_str(
            &response.body_mut().read_to_string()?,
        )?)
    }

    /// A stream for a real encoder, created through the API, with a token
    /// to read its health: (stream key, token).
    pub fn new_stream(&self) -> Result<(String, String), Error> {
        let key = self.api_post("/system/v1/signing-keys")?;
        let key_id = key["data"]["id"].as_str().ok_or("no signing key id")?;
        let pem = token::read_key(key["data"]["private_key"].as_str().ok_or("no key")?)?;
        let stream = self.api_post("/video/v1/live-streams")?;
        let id = stream["data"]["id"].as_str().ok_or("no stream id")?;
        let stream_key = stream["data"]["stream_key"].as_str().ok_or("no key")?;
        let jwt = token::mint(&pem, key_id, id, Duration::from_secs(3600))?;
        Ok((stream_key.to_string(), jwt))
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = signal(self.child.id(), "CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(url: &str, timeout: Duration) -> Result<String, Error> {
    let mut response = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
        .get(url)
        .call()?;
    Ok(response.body_mut().read_to_string()?)
}

// --- the ingest side, as the widget sees it --------------------------------

/// The widget's own model polling the stand-in: the ingest side of the
/// diagnosis, read exactly as the monitor reads it.
pub struct Ingest {
    monitor: Monitor,
    history: History,
    url: String,
}

impl Ingest {
    pub fn new(standin: &Standin, jwt: &str) -> Ingest {
        let fragment = format!(
            "token={jwt}&endpoint={}&interval=1",
            params::percent_encode(&standin.base_url())
        );
        let (config, notices) = params::parse("", &fragment);
        let mut monitor = Monitor::new(config, notices);
        let mut history = History::new(60);
        monitor.start(&mut history, epoch_ms());
        let url = monitor.request_url().unwrap_or_default();
        Ingest {
            monitor,
            history,
            url,
        }
    }

    /// One poll of the stats endpoint (2 s timeout: a stopped stand-in
    /// accepts the connection and never answers).
    pub fn poll(&mut self) -> View {
        let Step::Fetch(generation) = self.monitor.on_timer(epoch_ms()) else {
            return self.view();
        };
        let outcome = match http_get(&self.url, Duration::from_secs(2)) {
            Ok(body) => match parse_report(&body) {
                Ok(report) => Outcome::Report(report),
                Err(error) => Outcome::BadBody(error),
            },
            Err(_) => Outcome::Timeout,
        };
        self.monitor
            .on_outcome(generation, &outcome, &mut self.history, epoch_ms(), 0.5);
        self.view()
    }

    pub fn view(&self) -> View {
        self.monitor.view(epoch_ms())
    }

    pub fn side(&self) -> IngestSide {
        let now = epoch_ms();
        IngestSide::from_view(
            &self.monitor.view(now),
            trend::estimate(&self.history, now).as_ref(),
        )
    }
}

// --- OBS ---------------------------------------------------------------------

/// What to put in OBS's config.
#[derive(Clone, Debug)]
pub struct ObsOptions {
    /// Canvas and output size.
    pub width: u32,
    pub height: u32,
    /// x264 preset (`veryfast`, ..., `placebo`).
    pub preset: &'static str,
    /// Extra x264 options, space-separated `key=value`.
    pub x264_options: &'static str,
    /// Video bitrate, kbit/s.
    pub video_kbps: u32,
    /// obs-websocket password; none means no authentication.
    pub password: Option<String>,
    /// RTMP server and stream key; none leaves the service unset.
    pub rtmp: Option<(String, String)>,
    /// `--startstreaming`.
    pub start_streaming: bool,
    /// A looping clip of moving noise instead of a flat colour.
    pub moving: bool,
}

impl Default for ObsOptions {
    fn default() -> ObsOptions {
        ObsOptions {
            width: 320,
            height: 180,
            preset: "veryfast",
            x264_options: "",
            video_kbps: 500,
            password: None,
            rtmp: None,
            start_streaming: false,
            moving: false,
        }
    }
}

/// A running OBS on a virtual display.
pub struct Obs {
    xvfb: Child,
    obs: Child,
    dir: PathBuf,
    password: Option<String>,
    stopped: bool,
}

impl Obs {
    /// Writes the config under `dir`, starts Xvfb and OBS, and waits until
    /// obs-websocket says `Hello`.
    pub fn start(dir: &Path, options: &ObsOptions) -> Result<Obs, Error> {
        let home = dir.join("home");
        let runtime = dir.join("run");
        std::fs::create_dir_all(&runtime)?;
        set_private(&runtime)?;
        write_config(&home.join(".config/obs-studio"), dir, options)?;

        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x720x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("xvfb.log"))?)
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (Debian package `xvfb`): {e}"))?;
        let display = match xvfb.stdout.take() {
            Some(out) => {
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line)?;
                line.trim().to_string()
            }
            None => String::new(),
        };
        if display.is_empty() {
            let _ = xvfb.kill();
            let _ = xvfb.wait();
            return Err(format!(
                "Xvfb gave no display number: {}",
                std::fs::read_to_string(dir.join("xvfb.log")).unwrap_or_default()
            )
            .into());
        }

        let mut command = Command::new("obs");
        command
            .args(["--multi", "--disable-missing-files-check"])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("DISPLAY", format!(":{display}"))
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("obs.out"))?)
            .stderr(std::fs::File::create(dir.join("obs.err"))?);
        if options.start_streaming {
            command.arg("--startstreaming");
        }
        let obs = match command.spawn() {
            Ok(obs) => obs,
            Err(e) => {
                let _ = xvfb.kill();
                let _ = xvfb.wait();
                return Err(format!("cannot start obs (Debian package `obs-studio`): {e}").into());
            }
        };
        let mut obs = Obs {
            xvfb,
            obs,
            dir: dir.to_path_buf(),
            password: options.password.clone(),
            stopped: false,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = obs.obs.try_wait()? {
                return Err(format!(
                    "OBS exited ({status}) before its WebSocket answered; {}",
                    obs.log_tail()
                )
                .into());
            }
            if let Ok(control) = obs.control() {
                control.close();
                return Ok(obs);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "OBS's WebSocket did not answer within 30 s; {}",
                    obs.log_tail()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of OBS's log and of its stderr.
    pub fn log_tail(&self) -> String {
        let logs = self.dir.join("home/.config/obs-studio/logs");
        let newest = std::fs::read_dir(&logs).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        });
        let tail = |path: &Path, lines: usize| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        };
        format!(
            "OBS log ({}):\n{}\nOBS stderr:\n{}",
            newest
                .as_ref()
                .map_or("none".into(), |p| p.display().to_string()),
            newest.as_ref().map_or(String::new(), |p| tail(p, 40)),
            tail(&self.dir.join("obs.err"), 15)
        )
    }

    /// A control connection (the harness's, not the client under test).
    pub fn control(&self) -> Result<Control, Error> {
        Control::connect(self.password.as_deref())
    }

    /// Ends the stream over the WebSocket, waits until the output is off,
    /// then ends OBS and the display.
    pub fn stop(mut self) -> TestResult {
        let result = self.stop_stream();
        self.stopped = true;
        self.end();
        result
    }

    fn stop_stream(&self) -> TestResult {
        let mut control = self.control()?;
        let status = control.request(protocol::request_type::GET_STREAM_STATUS)?;
        if status["outputActive"] == Value::Bool(true) {
            let started = Instant::now();
            control.request(protocol::request_type::STOP_STREAM)?;
            // An encoder that lags has frames to flush first.
            while control.request(protocol::request_type::GET_STREAM_STATUS)?["outputActive"]
                == Value::Bool(true)
            {
                if started.elapsed() > Duration::from_secs(20) {
                    return Err("OBS did not stop streaming within 20 s".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            println!(
                "[OBS stopped streaming in {:.1} s]",
                started.elapsed().as_secs_f64()
            );
        }
        control.close();
        Ok(())
    }

    fn end(&mut self) {
        let _ = self.obs.kill();
        let _ = self.obs.wait();
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

impl Drop for Obs {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.stop_stream();
            self.end();
        }
    }
}

fn set_private(dir: &Path) -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn write_config(config: &Path, dir: &Path, options: &ObsOptions) -> TestResult {
    let profile = config.join("basic/profiles/lsh");
    let scenes = config.join("basic/scenes");
    std::fs::create_dir_all(&profile)?;
    std::fs::create_dir_all(&scenes)?;
    let (auth_required, password) = match &options.password {
        Some(password) => ("true", password.as_str()),
        None => ("false", ""),
    };
    // LastVersion with FirstRun=true keeps the auto-configuration wizard
    // away; [OBSWebSocket] is where obs-websocket 5.1 (OBS 29) reads its
    // settings (plugin_config/obs-websocket/config.json only from 5.3).
    std::fs::write(
        config.join("global.ini"),
        format!(
            "[General]\nFirstRun=true\nLastVersion=486539266\nConfirmOnExit=false\n\
             WarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n\n\
             [Basic]\nProfile=lsh\nProfileDir=lsh\nSceneCollection=lsh\nSceneCollectionFile=lsh\n\n\
             [BasicWindow]\nPreviewEnabled=false\n\n\
             [OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={OBS_PORT}\n\
             AlertsEnabled=false\nAuthRequired={auth_required}\nServerPassword={password}\n"
        ),
    )?;
    let (w, h) = (options.width, options.height);
    // Simple output applies the preset and x264 options only with
    // UseAdvanced ("Enable Advanced Encoder Settings").
    std::fs::write(
        profile.join("basic.ini"),
        format!(
            "[General]\nName=lsh\n\n\
             [Output]\nMode=Simple\nReconnect=true\nRetryDelay=2\nMaxRetries=20\n\n\
             [SimpleOutput]\nVBitrate={}\nABitrate=64\nStreamEncoder=x264\n\
             UseAdvanced=true\nPreset={}\nx264Settings={}\n\n\
             [Video]\nBaseCX={w}\nBaseCY={h}\nOutputCX={w}\nOutputCY={h}\nFPSType=0\nFPSCommon=30\n",
            options.video_kbps, options.preset, options.x264_options
        ),
    )?;
    if let Some((server, key)) = &options.rtmp {
        let service = serde_json::json!({
            "type": "rtmp_custom",
            "settings": {"server": server, "key": key, "use_auth": false, "bwtest": false}
        });
        std::fs::write(profile.join("service.json"), service.to_string())?;
    }
    let source = if options.moving {
        let clip = dir.join("noise.mkv");
        make_noise_clip(&clip, w, h)?;
        serde_json::json!({
            "id": "ffmpeg_source", "versioned_id": "ffmpeg_source", "name": "Picture",
            "settings": {"is_local_file": true, "local_file": clip, "looping": true,
                         "restart_on_activate": true}
        })
    } else {
        serde_json::json!({
            "id": "color_source", "versioned_id": "color_source_v3", "name": "Picture",
            "settings": {"color": 4_281_545_523u32, "width": w, "height": h}
        })
    };
    let collection = serde_json::json!({
        "name": "lsh",
        "current_scene": "Scene",
        "current_program_scene": "Scene",
        "scene_order": [{"name": "Scene"}],
        "sources": [
            {"id": "scene", "versioned_id": "scene", "name": "Scene",
             "settings": {"id_counter": 1, "items": [
                 {"name": "Picture", "id": 1, "visible": true,
                  "pos": {"x": 0, "y": 0}, "scale": {"x": 1, "y": 1}}]}},
            source
        ]
    });
    std::fs::write(scenes.join("lsh.json"), collection.to_string())?;
    Ok(())
}

/// Two seconds of full-frame noise: every frame new, nothing for the
/// encoder to predict, decoded cheaply (intra-only, fast preset).
fn make_noise_clip(path: &Path, width: u32, height: u32) -> TestResult {
    run(
        "ffmpeg",
        &[
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={width}x{height}:rate=30"),
            "-vf",
            "noise=alls=60:allf=t+u",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "30",
            &path.to_string_lossy(),
        ],
    )
}

// --- WebSockets --------------------------------------------------------------

type Socket = WebSocket<TcpStream>;

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Opens `ws://127.0.0.1:PORT` with a short read timeout.
fn open_socket(url: &str, port: u16) -> Result<Socket, Error> {
    let stream = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )?;
    stream.set_nodelay(true)?;
    let (socket, _) = tungstenite::client(url, stream).map_err(|e| format!("handshake: {e}"))?;
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(20)))?;
    Ok(socket)
}

fn is_timeout(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e)
        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// The harness's own connection to OBS, for StartStream/StopStream and
/// checks; blocking, request by request.
pub struct Control {
    socket: Socket,
    next_id: u64,
}

impl Control {
    fn connect(password: Option<&str>) -> Result<Control, Error> {
        let mut socket = open_socket(&format!("ws://127.0.0.1:{OBS_PORT}"), OBS_PORT)?;
        let hello = read_json(&mut socket, Duration::from_secs(3))?;
        let challenge = &hello["d"]["authentication"];
        let auth = match (challenge.is_object(), password) {
            (false, _) => None,
            (true, Some(password)) => Some(
                AuthJob::new(
                    password,
                    &Challenge {
                        challenge: challenge["challenge"].as_str().unwrap_or_default().into(),
                        salt: challenge["salt"].as_str().unwrap_or_default().into(),
                    },
                )
                .compute(sha256),
            ),
            (true, None) => return Err("OBS wants a password".into()),
        };
        socket.send(Message::text(protocol::identify(auth.as_deref())))?;
        loop {
            if read_json(&mut socket, Duration::from_secs(3))?["op"] == 2 {
                return Ok(Control { socket, next_id: 0 });
            }
        }
    }

    /// Sends a request and returns its `responseData`.
    pub fn request(&mut self, request_type: &str) -> Result<Value, Error> {
        self.next_id += 1;
        let id = format!("harness-{}", self.next_id);
        self.socket
            .send(Message::text(protocol::request(request_type, &id)))?;
        loop {
            let message = read_json(&mut self.socket, Duration::from_secs(5))?;
            if message["op"] == 7 && message["d"]["requestId"] == id.as_str() {
                if message["d"]["requestStatus"]["result"] != Value::Bool(true) {
                    return Err(format!("{request_type} failed: {}", message["d"]).into());
                }
                return Ok(message["d"]["responseData"].clone());
            }
        }
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

fn read_json(socket: &mut Socket, within: Duration) -> Result<Value, Error> {
    let deadline = Instant::now() + within;
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => return Ok(serde_json::from_str(text.as_str())?),
            Ok(Message::Close(frame)) => return Err(format!("OBS closed: {frame:?}").into()),
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e.into()),
        }
        if Instant::now() > deadline {
            return Err("no message from OBS in time".into());
        }
    }
}

/// The core's [`ObsClient`], run the way the browser shell will run it.
pub struct Driver {
    pub client: ObsClient,
    socket: Option<(u64, Socket)>,
    wake_at: Option<Instant>,
    epoch: Instant,
    /// Marks asked for, with the time since the driver started (s).
    pub marks: Vec<(f64, StreamMark)>,
    /// Every change of `data-encoder`, with the time (s).
    pub states: Vec<(f64, EncoderState)>,
    /// Close codes seen, with the time (s).
    pub closes: Vec<(f64, u16)>,
}

impl Driver {
    /// A client for OBS on [`OBS_PORT`], started.
    pub fn start(password: Option<&str>) -> Driver {
        let mut driver = Driver {
            client: ObsClient::new(Some(ObsSettings::new(OBS_PORT, password))),
            socket: None,
            wake_at: None,
            epoch: Instant::now(),
            marks: Vec::new(),
            states: Vec::new(),
            closes: Vec::new(),
        };
        let actions = driver.client.start(driver.now_ms());
        driver.apply(actions);
        driver
    }

    /// Time since start, ms (the client's clock).
    pub fn now_ms(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64() * 1000.0
    }

    pub fn seconds(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    pub fn state(&self) -> EncoderState {
        self.client.state()
    }

    pub fn stats(&self) -> EncoderStats {
        self.client.stats(self.now_ms())
    }

    pub fn diagnosis(&self, ingest: IngestSide) -> Diagnosis {
        diagnose(ingest, self.state(), &self.stats())
    }

    fn apply(&mut self, actions: Vec<Action>) {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            let more = match action {
                Action::Connect { socket, url } => {
                    self.socket = None;
                    match open_socket(&url, OBS_PORT) {
                        Ok(ws) => {
                            self.socket = Some((socket, ws));
                            self.client.on_open(socket)
                        }
                        Err(_) => self.client.on_closed(
                            socket,
                            protocol::close_code::ABNORMAL,
                            self.now_ms(),
                        ),
                    }
                }
                Action::Send { socket, text } => match &mut self.socket {
                    Some((id, ws)) if *id == socket => match ws.send(Message::text(text)) {
                        Ok(()) => Vec::new(),
                        Err(_) => {
                            self.socket = None;
                            self.client.on_closed(
                                socket,
                                protocol::close_code::ABNORMAL,
                                self.now_ms(),
                            )
                        }
                    },
                    _ => Vec::new(),
                },
                Action::Authenticate { socket, job } => {
                    let authentication = job.compute(sha256);
                    self.client.on_authentication(socket, &authentication)
                }
                Action::Close { socket } => {
                    if let Some((id, mut ws)) = self.socket.take() {
                        if id == socket {
                            let _ = ws.close(None);
                            let _ = ws.flush();
                        } else {
                            self.socket = Some((id, ws));
                        }
                    }
                    Vec::new()
                }
                Action::Wake(ms) => {
                    self.wake_at =
                        Some(Instant::now() + Duration::from_secs_f64(ms.max(0.0) / 1000.0));
                    Vec::new()
                }
                Action::Mark(mark) => {
                    self.marks.push((self.seconds(), mark));
                    Vec::new()
                }
            };
            queue.extend(more);
        }
        let state = self.client.state();
        if self.states.last().map(|(_, s)| *s) != Some(state) {
            self.states.push((self.seconds(), state));
        }
    }

    /// One turn: a message, a close, or the timer (waits at most ~20 ms).
    fn turn(&mut self) {
        if self.wake_at.is_some_and(|at| Instant::now() >= at) {
            self.wake_at = None;
            let actions = self.client.on_timer(self.now_ms());
            self.apply(actions);
            return;
        }
        let Some((socket, ws)) = &mut self.socket else {
            std::thread::sleep(Duration::from_millis(10));
            return;
        };
        let socket = *socket;
        let actions = match ws.read() {
            Ok(Message::Text(text)) => {
                let text = text.as_str().to_string();
                self.client.on_text(socket, &text, self.now_ms())
            }
            Ok(Message::Close(frame)) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                self.closes.push((self.seconds(), code));
                self.socket = None;
                self.client.on_closed(socket, code, self.now_ms())
            }
            Ok(_) => Vec::new(),
            Err(e) if is_timeout(&e) => Vec::new(),
            Err(_) => {
                self.closes
                    .push((self.seconds(), protocol::close_code::ABNORMAL));
                self.socket = None;
                self.client
                    .on_closed(socket, protocol::close_code::ABNORMAL, self.now_ms())
            }
        };
        self.apply(actions);
    }

    /// Runs for `duration`.
    pub fn run_for(&mut self, duration: Duration) {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            self.turn();
        }
    }

    /// Runs until `done` holds, or fails after `within` saying what was
    /// awaited.
    pub fn run_until(
        &mut self,
        what: &str,
        within: Duration,
        done: impl Fn(&Driver) -> bool,
    ) -> Result<f64, Error> {
        let started = Instant::now();
        let until = started + within;
        while !done(self) {
            if Instant::now() > until {
                return Err(format!(
                    "waited {within:?} for {what}; state {:?}, message {:?}, states {:?}",
                    self.state(),
                    self.client.message(),
                    self.states
                )
                .into());
            }
            self.turn();
        }
        Ok(started.elapsed().as_secs_f64())
    }

    /// A line of what the client sees now.
    pub fn line(&self) -> String {
        let s = self.stats();
        let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}%"));
        format!(
            "{:5.1}s {:12} {:>6} kbps congestion {:>4} (peak {:>4}) net-drops {}/{} {:>6} enc-lag {}/{} {:>6} render-lag {}/{} cpu {:>5}% fps {}",
            self.seconds(),
            self.state().as_str(),
            opt(s.bitrate_kbps, 0),
            opt(s.congestion, 2),
            opt(s.congestion_peak, 2),
            s.network.lost,
            s.network.total,
            pct(s.network.percent),
            s.encoder_lag.lost,
            s.encoder_lag.total,
            pct(s.encoder_lag.percent),
            s.render_lag.lost,
            s.render_lag.total,
            opt(s.cpu_percent, 1),
            opt(s.active_fps, 0),
        )
    }
}

/// A line of what the widget's model reads from the stand-in.
pub fn ingest_line(view: &View) -> String {
    format!(
        "ingest: state {} status {} deviation {} session avg {} stale {}",
        view.state.as_str(),
        view.status.as_str(),
        view.deviation_text,
        view.session_avg_text,
        view.stale
    )
}
