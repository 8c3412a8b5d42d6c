//! The `live-stream-health` command line (native, feature `server`):
//! `serve` (the stand-in), `token` (mint a token or a monitor link),
//! `demo-backend` (stand-in + simulated streams + a real-encoder stream +
//! links, optionally serving the built widget) and, with the `testkit`
//! feature only, `test-server` (the scripted test server the widget's
//! browser tests use; not part of the shipped tool). `live-stream-health
//! <command> --help` describes each.
//!
//! **Parsing is clap's (derive).** The flags are typed where they are
//! declared: addresses are `SocketAddr`s, `--time-scale` a number in
//! (0, 10000], `--expires` a duration (`90s`, `15m`, `6h`, `7d`), scenario
//! lists are checked scenario by scenario, `--rtmp-listen` is an address or
//! `off`. A bad value is refused before anything starts, with a message
//! naming the flag, and misuse of any kind exits with code 2 (clap's usage
//! exit code, which the hand-written parser before it also used). Runtime
//! failures (a key that is not a key, a busy port, a data directory in use)
//! are one line on stderr, `live-stream-health: <why>`, and exit code 2
//! too; never a panic. The crate is built without colour and with only the
//! parts used (help, usage, error context, suggestions), so its cost in
//! compile time stays small next to tokio's and axum's.
//!
//! `--rtmp-listen` (serve, demo-backend): RTMP ingest address, or `off`.
//! Without it the stand-in takes 127.0.0.1:1935 if it is free and runs
//! without ingest otherwise (saying so on stderr), so a second demo or
//! another RTMP server on the machine does not stop the HTTP side; an
//! address given explicitly must bind.
//!
//! **Output is a contract.** Scripts and tests read what the long-running
//! commands print: `stand-in listening on <url>` first, then (demo) the
//! wall link (`wall  <link>`, every simulated stream on one screen) and the
//! scenario links, each `<label>  <link>` on one line, then the encoder
//! stream's line and its publishing instructions. Long-running commands
//! stop cleanly on SIGINT or SIGTERM; state is on disk after every change,
//! so stopping loses nothing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::background::StopSignal;
use super::demo::{self, DemoConfig};
use super::rtmp;
use super::simulate::Scenario;
use super::standin::{self, Config, RtmpListen, MAX_TIME_SCALE};
use super::token;

/// Shown after the top-level help and each command's.
const SCENARIOS_HELP: &str = "\
Scenarios: steady, jittery, congested, recovering, flapping, disconnect, or
script:<dur>@<rate|off>[~<jitter ms>],... e.g. script:30s@1.0~50,20s@0.8,10s@off
(a script: item takes the rest of the list, commas included).

--rtmp-listen: without it, RTMP ingest uses 127.0.0.1:1935 when that is free
and is off (with a note) when not; an address given explicitly must bind.
Real encoders are measured in real time at any --time-scale; only the
3-minute `unknown` timeout after they stop runs on the scaled clock.";

/// The stand-in for Mux's Live Stream Health Stats API, its token tool and
/// the demo.
#[derive(Debug, Parser)]
#[command(
    name = "live-stream-health",
    version,
    arg_required_else_help = true,
    after_help = SCENARIOS_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the stand-in Live Stream Health Stats API.
    ///
    /// Encoders publish to rtmp://127.0.0.1:1935/live/<stream key> of a
    /// stream created without `simulate` (keys: GET /video/v1/live-streams).
    #[command(after_help = SCENARIOS_HELP)]
    Serve(ServeArgs),
    /// Mint an RS256 monitor token; with --base-url print the whole link,
    /// <URL>#token=...[&endpoint=...].
    Token(TokenArgs),
    /// Run the stand-in with one simulated stream per scenario and one for a
    /// real encoder, and print a monitor link for each and how to publish
    /// to the encoder stream with ffmpeg or OBS.
    #[command(after_help = SCENARIOS_HELP)]
    DemoBackend(DemoArgs),
    /// Run the scripted test server: GET /s/<run>/<steps>/live-stream-health
    /// (test scaffolding for the widget's browser tests).
    #[cfg(feature = "testkit")]
    TestServer(TestServerArgs),
}

/// What `serve` and `demo-backend` share: the stand-in itself.
#[derive(Debug, Args)]
struct StandinArgs {
    /// Address of the HTTP API.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Where state is kept (created, mode 0700, if missing).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Simulated seconds per real second, above 0 and at most 10000.
    #[arg(long, value_name = "FACTOR", default_value = "1", value_parser = parse_time_scale)]
    time_scale: f64,
    /// RTMP ingest address, or `off` [default: 127.0.0.1:1935 if free].
    #[arg(long, value_name = "ADDR|off", value_parser = parse_rtmp_listen)]
    rtmp_listen: Option<RtmpListen>,
}

impl StandinArgs {
    fn config(&self) -> Config {
        let mut config = Config::new(&self.data_dir);
        config.listen = self.listen;
        config.time_scale = self.time_scale;
        config.rtmp_listen = self
            .rtmp_listen
            .unwrap_or(RtmpListen::IfFree(SocketAddr::from((
                [127, 0, 0, 1],
                rtmp::DEFAULT_PORT,
            ))));
        config
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    standin: StandinArgs,
    /// Scenarios that must each have a simulated stream (comma-separated).
    #[arg(long, value_name = "LIST", value_parser = parse_scenarios)]
    simulate: Option<Scenarios>,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The signing key: base64 of a PEM (as the signing-key API returns it),
    /// a PEM, or @FILE.
    // A PEM given inline starts with `-----BEGIN`: a value, not a flag.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    key: String,
    /// The signing key's id (the token's `kid`).
    #[arg(long, value_name = "ID")]
    key_id: String,
    /// The live stream id (the token's `sub`).
    #[arg(long, value_name = "LIVE_STREAM_ID")]
    stream: String,
    /// How long the token is valid: 90s, 15m, 6h, 7d.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    expires: Duration,
    /// Print a monitor link on this widget URL instead of the bare token.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The stats endpoint the link points the widget at.
    #[arg(long, value_name = "URL", requires = "base_url")]
    endpoint: Option<String>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    standin: StandinArgs,
    /// Where the widget is served; links are <URL>#token=...
    /// [default: the --serve-dir server, else http://127.0.0.1:8080/].
    #[arg(long, value_name = "URL")]
    widget_base: Option<String>,
    /// Scenarios to create streams for (comma-separated) [default: all].
    #[arg(long, value_name = "LIST", value_parser = parse_scenarios)]
    scenarios: Option<Scenarios>,
    /// Lifetime of the printed links' tokens: 90s, 15m, 6h, 7d.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    expires: Duration,
    /// Serve this directory (the built widget) as well.
    #[arg(long, value_name = "DIST")]
    serve_dir: Option<PathBuf>,
    /// Where to serve --serve-dir [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", requires = "serve_dir")]
    widget_listen: Option<SocketAddr>,
}

#[cfg(feature = "testkit")]
#[derive(Debug, Args)]
struct TestServerArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:47381")]
    listen: SocketAddr,
}

/// A checked, comma-separated scenario list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scenarios(Vec<String>);

const DEFAULT_DATA_DIR: &str = "standin-data";

/// `--time-scale`: a number above 0 and at most [`MAX_TIME_SCALE`].
fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if scale > 0.0 && scale <= MAX_TIME_SCALE {
        Ok(scale)
    } else {
        Err(format!("must be above 0 and at most {MAX_TIME_SCALE}"))
    }
}

/// `--rtmp-listen ADDR|off`.
fn parse_rtmp_listen(text: &str) -> Result<RtmpListen, String> {
    if text == "off" {
        return Ok(RtmpListen::Off);
    }
    text.parse()
        .map(RtmpListen::On)
        .map_err(|_| format!("{text:?} is neither an address like 127.0.0.1:1935 nor `off`"))
}

/// `--expires`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    token::parse_duration(text).map_err(|e| e.to_string())
}

/// A comma-separated list; a `script:` spec may itself contain commas, so a
/// `script:` item takes the rest of the list. Every item must be a scenario.
fn parse_scenarios(text: &str) -> Result<Scenarios, String> {
    let mut items = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.trim_start().starts_with("script:") {
            items.push(rest.trim().to_owned());
            break;
        }
        let (item, tail) = rest.split_once(',').unwrap_or((rest, ""));
        if !item.trim().is_empty() {
            items.push(item.trim().to_owned());
        }
        rest = tail;
    }
    for item in &items {
        Scenario::parse(item).map_err(|e| e.to_string())?;
    }
    Ok(Scenarios(items))
}

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
    // Usage errors exit here with code 2; --help and --version with 0.
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("live-stream-health: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(args) => {
            let mut config = args.standin.config();
            config.simulate = args.simulate.map(|s| s.0).unwrap_or_default();
            run_serve(config)
        }
        Command::Token(args) => {
            println!("{}", token_output(&args)?);
            Ok(())
        }
        Command::DemoBackend(args) => {
            let mut config = DemoConfig::new(&args.standin.data_dir);
            config.standin = args.standin.config();
            if let Some(scenarios) = args.scenarios {
                config.scenarios = scenarios.0;
            }
            config.valid_for = args.expires;
            config.widget_base = args.widget_base;
            config.serve_dir = args.serve_dir;
            if let Some(addr) = args.widget_listen {
                config.widget_listen = addr;
            }
            run_demo(config)
        }
        #[cfg(feature = "testkit")]
        Command::TestServer(args) => run_test_server(args.listen),
    }
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

fn token_output(args: &TokenArgs) -> Result<String, String> {
    let pem = token::read_key(&args.key).map_err(|e| e.to_string())?;
    let jwt =
        token::mint(&pem, &args.key_id, &args.stream, args.expires).map_err(|e| e.to_string())?;
    Ok(match &args.base_url {
        Some(base) => token::monitor_link(base, &jwt, args.endpoint.as_deref()),
        None => jwt,
    })
}

/// The label of the demo's wall link.
const WALL_LABEL: &str = "wall";

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
    let width = width.max(demo::ENCODER_LABEL.len()).max(WALL_LABEL.len());
    // Every simulated stream on one screen, above the per-stream links.
    if !demo.links.is_empty() {
        say!("{:width$}  {}", WALL_LABEL, demo.wall_link);
    }
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

#[cfg(feature = "testkit")]
fn run_test_server(listen: SocketAddr) -> Result<(), String> {
    use super::testserver;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(async {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn scenario_lists_keep_scripts_whole_and_check_every_item() {
        assert_eq!(
            parse_scenarios("steady, jittery,,congested"),
            Ok(Scenarios(vec![
                "steady".to_owned(),
                "jittery".to_owned(),
                "congested".to_owned()
            ]))
        );
        assert_eq!(
            parse_scenarios("steady,script:10s@1.0,5s@off"),
            Ok(Scenarios(vec![
                "steady".to_owned(),
                "script:10s@1.0,5s@off".to_owned()
            ]))
        );
        let error = parse_scenarios("steady,bogus").expect_err("unknown scenario");
        assert!(error.contains("bogus"), "{error}");
        assert!(parse_scenarios("script:nonsense").is_err());
    }

    #[test]
    fn typed_values_are_checked() {
        assert_eq!(parse_time_scale("20"), Ok(20.0));
        assert!(parse_time_scale("0").is_err());
        assert!(parse_time_scale("-1").is_err());
        assert!(parse_time_scale("1e9").is_err());
        assert!(parse_time_scale("fast").is_err());
        assert!(parse_time_scale("NaN").is_err());
        assert_eq!(parse_rtmp_listen("off"), Ok(RtmpListen::Off));
        assert_eq!(
            parse_rtmp_listen("127.0.0.1:1936"),
            Ok(RtmpListen::On(SocketAddr::from(([127, 0, 0, 1], 1936))))
        );
        assert!(parse_rtmp_listen("OFF").is_err());
        assert!(parse_rtmp_listen("1936").is_err());
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let cli = Cli::try_parse_from(["live-stream-health", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("serve");
        };
        let config = args.standin.config();
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 8787)));
        assert_eq!(config.data_dir, PathBuf::from("standin-data"));
        assert_eq!(config.time_scale, 1.0);
        assert_eq!(
            config.rtmp_listen,
            RtmpListen::IfFree(SocketAddr::from(([127, 0, 0, 1], 1935)))
        );
        assert!(args.simulate.is_none());

        let cli = Cli::try_parse_from([
            "live-stream-health",
            "demo-backend",
            "--serve-dir=dist",
            "--rtmp-listen",
            "off",
        ])
        .expect("parses");
        let Command::DemoBackend(args) = cli.command else {
            panic!("demo-backend");
        };
        assert_eq!(args.expires, token::DEFAULT_VALIDITY);
        assert_eq!(args.widget_listen, None);
        assert_eq!(args.standin.rtmp_listen, Some(RtmpListen::Off));
    }

    #[test]
    fn misuse_is_a_usage_error() {
        use clap::error::ErrorKind;
        let parse = |args: &[&str]| {
            let mut argv = vec!["live-stream-health"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.kind())
        };
        assert_eq!(
            parse(&["demo-backend", "--widget-listen", "127.0.0.1:9"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            parse(&[
                "token",
                "--key",
                "k",
                "--key-id",
                "i",
                "--stream",
                "s",
                "--endpoint",
                "e"
            ]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            parse(&["serve", "--listen", "a", "--listen", "b"]),
            Err(ErrorKind::ValueValidation)
        );
        assert_eq!(
            parse(&[
                "serve",
                "--listen",
                "127.0.0.1:1",
                "--listen",
                "127.0.0.1:2"
            ]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            parse(&["serve", "--bogus"]),
            Err(ErrorKind::UnknownArgument)
        );
        assert_eq!(parse(&["launch"]), Err(ErrorKind::InvalidSubcommand));
    }
}
