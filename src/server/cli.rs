//! The `live-stream-health` command line (native, feature `server`):
//! `serve` (the stand-in), `token` (mint a token or a monitor link),
//! `demo-backend` (stand-in + simulated streams + a real-encoder stream +
//! links, optionally serving the built widget) and `test-server` (the
//! scripted test server). See [`USAGE`] for flags.
//!
//! `--rtmp-listen` (serve, demo-backend): RTMP ingest address, or `off`.
//! Without it the stand-in takes 127.0.0.1:1935 if it is free and runs
//! without ingest otherwise (saying so on stderr), so a second demo or
//! another RTMP server on the machine does not stop the HTTP side; an
//! address given explicitly must bind. The demo prints its scenario links
//! first, each `<label>  <link>` on one line, then the encoder stream's line
//! and its publishing instructions, so scripts that read the first lines
//! keep working.
//!
//! Arguments are parsed by hand: there are few subcommands with few flags, and
//! an argument-parser crate would double the tool's compile time. Every error
//! is a message and exit code 2, never a panic. Long-running commands stop
//! cleanly on SIGINT or SIGTERM; state is on disk after every change, so
//! stopping loses nothing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::background::StopSignal;
use super::demo::{self, DemoConfig};
use super::rtmp;
use super::standin::{self, Config, RtmpListen};
use super::testserver;
use super::token;

/// The help text.
pub const USAGE: &str = "\
usage:
  live-stream-health serve [--listen 127.0.0.1:8787] [--data-dir DIR]
        [--time-scale 1] [--simulate steady,jittery,...|script:...]
        [--rtmp-listen 127.0.0.1:1935|off]
      Run the stand-in Live Stream Health Stats API (state in DIR,
      default ./standin-data). Encoders publish to
      rtmp://127.0.0.1:1935/live/<stream key> of a stream created without
      `simulate` (keys: GET /video/v1/live-streams).
  live-stream-health token --key <base64 PEM | PEM | @key.pem> --key-id ID
        --stream LIVE_STREAM_ID [--expires 24h] [--base-url URL] [--endpoint URL]
      Mint an RS256 token; with --base-url print <URL>#token=...[&endpoint=...].
  live-stream-health demo-backend [--listen 127.0.0.1:8787] [--data-dir DIR]
        [--widget-base http://127.0.0.1:8080/] [--time-scale 1]
        [--scenarios steady,jittery,...] [--expires 24h]
        [--serve-dir DIST [--widget-listen 127.0.0.1:8080]]
        [--rtmp-listen 127.0.0.1:1935|off]
      Run the stand-in with one simulated stream per scenario and one for a
      real encoder; print a monitor link for each, and how to publish to the
      encoder stream with ffmpeg or OBS.
  live-stream-health test-server [--listen 127.0.0.1:47381]
      Run the scripted test server: GET /s/<run>/<steps>/live-stream-health.

Scenarios: steady, jittery, congested, recovering, flapping, disconnect, or
script:<dur>@<rate|off>[~<jitter ms>],... e.g. script:30s@1.0~50,20s@0.8,10s@off

--rtmp-listen: without it, RTMP ingest uses 127.0.0.1:1935 when that is free
and is off (with a note) when not; an address given explicitly must bind.
Real encoders are measured in real time at any --time-scale; only the
3-minute `unknown` timeout after they stop runs on the scaled clock.
";

const DEFAULT_DATA_DIR: &str = "standin-data";

/// `println!` for the long-running commands' informational output: a reader
/// of stdout that goes away (a script that took the first lines and closed
/// the pipe) must not bring the server down, so write errors are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("live-stream-health: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("missing command\n{USAGE}"));
    };
    match command.as_str() {
        "serve" => {
            let flags = Flags::parse(
                rest,
                &[
                    "--listen",
                    "--data-dir",
                    "--time-scale",
                    "--simulate",
                    "--rtmp-listen",
                ],
            )?;
            let mut config = Config::new(flags.path("--data-dir"));
            config.listen = flags.addr("--listen", "127.0.0.1:8787")?;
            config.time_scale = flags.time_scale()?;
            config.simulate = flags.list("--simulate");
            config.rtmp_listen = flags.rtmp_listen()?;
            run_serve(config)
        }
        "token" => {
            let flags = Flags::parse(
                rest,
                &[
                    "--key",
                    "--key-id",
                    "--stream",
                    "--expires",
                    "--base-url",
                    "--endpoint",
                ],
            )?;
            println!("{}", token_output(&flags)?);
            Ok(())
        }
        "demo-backend" => {
            let flags = Flags::parse(
                rest,
                &[
                    "--listen",
                    "--data-dir",
                    "--widget-base",
                    "--time-scale",
                    "--scenarios",
                    "--expires",
                    "--serve-dir",
                    "--widget-listen",
                    "--rtmp-listen",
                ],
            )?;
            let mut config = DemoConfig::new(flags.path("--data-dir"));
            config.standin.listen = flags.addr("--listen", "127.0.0.1:8787")?;
            config.standin.time_scale = flags.time_scale()?;
            config.standin.rtmp_listen = flags.rtmp_listen()?;
            if flags.get("--scenarios").is_some() {
                config.scenarios = flags.list("--scenarios");
            }
            if let Some(expires) = flags.get("--expires") {
                config.valid_for = token::parse_duration(expires).map_err(|e| e.to_string())?;
            }
            config.widget_base = flags.get("--widget-base").map(str::to_owned);
            config.serve_dir = flags.get("--serve-dir").map(PathBuf::from);
            config.widget_listen = flags.addr("--widget-listen", "127.0.0.1:8080")?;
            if flags.get("--widget-listen").is_some() && config.serve_dir.is_none() {
                return Err("--widget-listen needs --serve-dir".to_owned());
            }
            run_demo(config)
        }
        "test-server" => {
            let flags = Flags::parse(rest, &["--listen"])?;
            let listen = flags.addr("--listen", "127.0.0.1:47381")?;
            run_test_server(listen)
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_termination() -> Result<(), String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(async { StopSignal::on_termination().wait().await });
    Ok(())
}

fn run_serve(config: Config) -> Result<(), String> {
    let data_dir = config.data_dir.clone();
    let running = standin::spawn(config).map_err(|e| format!("cannot start: {e}"))?;
    say!("stand-in listening on {}", running.base_url());
    say!("endpoint: {}?token=<JWT>", running.endpoint());
    match running.bootstrap() {
        Some(credentials) if running.bootstrapped_now() => say!(
            "created access token (System + Video, development): {}\n  also in {}",
            credentials.pair(),
            data_dir.join("bootstrap.json").display()
        ),
        _ => say!(
            "access token: see {}",
            data_dir.join("bootstrap.json").display()
        ),
    }
    for stream in running.simulated_streams() {
        say!(
            "simulated stream {}  {}",
            stream.id,
            stream.simulate.as_deref().unwrap_or_default()
        );
    }
    match (running.rtmp_server_url(), running.rtmp_unavailable()) {
        (Some(server), _) => {
            say!("RTMP ingest: {server}/<stream key> (streams created without \"simulate\")")
        }
        (None, Some(why)) => eprintln!("RTMP ingest off: {why} (see --rtmp-listen)"),
        (None, None) => say!("RTMP ingest off"),
    }
    wait_for_termination()?;
    eprintln!("stopping");
    running.shutdown().map_err(|e| e.to_string())
}

fn token_output(flags: &Flags) -> Result<String, String> {
    let key_input = flags.required("--key")?;
    let key_id = flags.required("--key-id")?;
    let stream = flags.required("--stream")?;
    let valid_for = match flags.get("--expires") {
        Some(text) => token::parse_duration(text).map_err(|e| e.to_string())?,
        None => token::DEFAULT_VALIDITY,
    };
    let pem = token::read_key(key_input).map_err(|e| e.to_string())?;
    let jwt = token::mint(&pem, key_id, stream, valid_for).map_err(|e| e.to_string())?;
    match (flags.get("--base-url"), flags.get("--endpoint")) {
        (Some(base), endpoint) => Ok(token::monitor_link(base, &jwt, endpoint)),
        (None, Some(_)) => Err("--endpoint needs --base-url".to_owned()),
        (None, None) => Ok(jwt),
    }
}

fn run_demo(config: DemoConfig) -> Result<(), String> {
    let demo = demo::start(config).map_err(|e| format!("cannot start the demo: {e}"))?;
    say!("stand-in listening on {}", demo.running.base_url());
    if let Some(statics) = demo.static_server() {
        say!("widget served at {}", statics.base_url());
    }
    let width = demo
        .links
        .iter()
        .map(|l| l.scenario.len())
        .max()
        .unwrap_or(0);
    let width = width.max(demo::ENCODER_LABEL.len());
    for link in &demo.links {
        say!("{:width$}  {}", link.scenario, link.link);
    }
    // After the scenario links, which scripts read line by line.
    match &demo.encoder {
        Some(encoder) => {
            say!("{:width$}  {}", demo::ENCODER_LABEL, encoder.link);
            say!();
            say!("Publish a test source to the encoder stream with ffmpeg:");
            say!("  {}", encoder.ffmpeg_command);
            say!("or from OBS (Settings > Stream, Service: Custom...):");
            say!("  Server      {}", encoder.rtmp_server);
            say!("  Stream Key  {}", encoder.stream_key);
        }
        None => eprintln!(
            "RTMP ingest off ({}): no encoder stream",
            demo.running
                .rtmp_unavailable()
                .unwrap_or("--rtmp-listen off")
        ),
    }
    wait_for_termination()?;
    eprintln!("stopping");
    demo.shutdown().map_err(|e| e.to_string())
}

fn run_test_server(listen: SocketAddr) -> Result<(), String> {
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("test server listening on http://{addr}/s/<run>/<steps>/live-stream-health");
        testserver::serve(listener, StopSignal::on_termination())
            .await
            .map_err(|e| format!("test server failed: {e}"))
    })
}

/// `--name value` pairs, each allowed at most once, only from a known set.
struct Flags {
    values: Vec<(String, String)>,
}

impl Flags {
    fn parse(args: &[String], allowed: &[&str]) -> Result<Self, String> {
        let mut values: Vec<(String, String)> = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            if !allowed.contains(&name) {
                return Err(format!("unexpected argument {name:?}"));
            }
            if values.iter().any(|(seen, _)| seen == name) {
                return Err(format!("{name} given twice"));
            }
            let value = match inline {
                Some(value) => value,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?,
            };
            values.push((name.to_owned(), value));
        }
        Ok(Self { values })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(seen, _)| seen == name)
            .map(|(_, value)| value.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("{name} is required"))
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(self.get(name).unwrap_or(DEFAULT_DATA_DIR))
    }

    /// A comma-separated list; a `script:` spec may itself contain commas,
    /// so a `script:` item takes the rest of the list.
    fn list(&self, name: &str) -> Vec<String> {
        let text = self.get(name).unwrap_or_default();
        let mut items = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if rest.starts_with("script:") {
                items.push(rest.to_owned());
                break;
            }
            let (item, tail) = rest.split_once(',').unwrap_or((rest, ""));
            if !item.trim().is_empty() {
                items.push(item.trim().to_owned());
            }
            rest = tail;
        }
        items
    }

    fn time_scale(&self) -> Result<f64, String> {
        match self.get("--time-scale") {
            None => Ok(1.0),
            Some(text) => text
                .parse()
                .map_err(|_| format!("--time-scale: {text:?} is not a number")),
        }
    }

    /// `--rtmp-listen ADDR|off`; without it, 127.0.0.1:1935 if free.
    fn rtmp_listen(&self) -> Result<RtmpListen, String> {
        match self.get("--rtmp-listen") {
            None => Ok(RtmpListen::IfFree(SocketAddr::from((
                [127, 0, 0, 1],
                rtmp::DEFAULT_PORT,
            )))),
            Some("off") => Ok(RtmpListen::Off),
            Some(_) => Ok(RtmpListen::On(
                self.addr("--rtmp-listen", "127.0.0.1:1935")?,
            )),
        }
    }

    fn addr(&self, name: &str, default: &str) -> Result<SocketAddr, String> {
        let text = self.get(name).unwrap_or(default);
        text.parse()
            .map_err(|_| format!("{name}: {text:?} is not an address like 127.0.0.1:8787"))
    }
}
