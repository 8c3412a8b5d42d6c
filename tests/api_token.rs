//! The `token` and `demo-backend` commands, run as real processes against
//! the stand-in over HTTP on 127.0.0.1.
#![cfg(feature = "server")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use live_stream_health::server::standin::{self, Config, Running};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_live-stream-health");

fn data_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("lsh-cli-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn status_of(endpoint_base: &str, token: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .get(format!("{endpoint_base}/live-stream-health?token={token}"))
        .call()
        .expect("request completes");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

fn token_command(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("token")
        .args(args)
        .output()
        .expect("runs the binary")
}

fn claims_of(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut decode = || -> Value {
        let part = parts.next().expect("part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
    };
    let header = decode();
    let claims = decode();
    (header, claims)
}

struct Setup {
    server: Running,
    dir: PathBuf,
    key_id: String,
    pem: String,
    stream_id: String,
}

fn setup(name: &str) -> Setup {
    let dir = data_dir(name);
    let server = standin::spawn(Config::new(&dir)).expect("stand-in starts");
    let key = server.create_signing_key("development").expect("key");
    let stream = server
        .create_live_stream("development", Some("steady"))
        .expect("stream");
    Setup {
        server,
        dir,
        key_id: key.id.clone(),
        pem: key.private_key_pem.clone(),
        stream_id: stream.id,
    }
}

#[test]
fn token_command_mints_tokens_the_standin_accepts() {
    let s = setup("mint");
    let key_file = s.dir.join("key.pem");
    std::fs::write(&key_file, &s.pem).expect("write key");
    let from_file = format!("@{}", key_file.display());

    let output = token_command(&[
        "--key",
        &from_file,
        "--key-id",
        &s.key_id,
        "--stream",
        &s.stream_id,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let jwt = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let (header, claims) = claims_of(&jwt);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], s.key_id.as_str());
    assert_eq!(claims["kid"], s.key_id.as_str());
    assert_eq!(claims["sub"], s.stream_id.as_str());
    assert_eq!(claims["aud"], "live_stream_id");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!((exp - (now() + 24 * 3600)).abs() < 60, "default 24h");
    let (status, body) = status_of(&s.server.base_url(), &jwt);
    assert_eq!(status, 200, "{body}");

    // Base64 of the PEM, as the signing-key API returns it, plus a link.
    let encoded = STANDARD.encode(&s.pem);
    let endpoint = s.server.base_url();
    let output = token_command(&[
        "--key",
        &encoded,
        "--key-id",
        &s.key_id,
        "--stream",
        &s.stream_id,
        "--expires",
        "6h",
        "--base-url",
        "https://monitor.example/",
        "--endpoint",
        &endpoint,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let rest = link
        .strip_prefix("https://monitor.example/#token=")
        .expect("link starts with the base and the token");
    let (jwt, endpoint_param) = rest.split_once("&endpoint=").expect("endpoint param");
    let port = s.server.addr().port();
    assert_eq!(endpoint_param, format!("http%3A%2F%2F127.0.0.1%3A{port}"));
    let exp = claims_of(jwt).1["exp"].as_i64().expect("exp");
    assert!((exp - (now() + 6 * 3600)).abs() < 60, "6h");
    assert_eq!(status_of(&endpoint, jwt).0, 200);

    s.server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn token_command_fails_clearly_on_bad_input() {
    let s = setup("bad");
    let non_rsa = STANDARD.encode("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--key", "garbage!!", "--key-id", "k", "--stream", "s"],
            "key",
        ),
        (
            vec![
                "--key",
                "@/nonexistent/key.pem",
                "--key-id",
                "k",
                "--stream",
                "s",
            ],
            "key file",
        ),
        (
            vec!["--key", &non_rsa, "--key-id", "k", "--stream", "s"],
            "key",
        ),
        (
            vec![
                "--key",
                &s.pem,
                "--key-id",
                "k",
                "--stream",
                "s",
                "--expires",
                "5x",
            ],
            "duration",
        ),
        (vec!["--key", &s.pem, "--stream", "s"], "--key-id"),
        (
            vec![
                "--key",
                &s.pem,
                "--key-id",
                "k",
                "--stream",
                "s",
                "--endpoint",
                "x",
            ],
            "--base-url",
        ),
    ];
    for (args, word) in cases {
        let output = token_command(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(word), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    s.server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// Runs `demo-backend` until it has printed `count` links; returns the child,
/// the stand-in URL and the links by scenario.
fn run_demo(dir: &PathBuf, count: usize) -> (std::process::Child, String, Vec<(String, String)>) {
    let mut child = Command::new(BIN)
        .args(["demo-backend", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args([
            "--widget-base",
            "http://widget.example/",
            "--time-scale",
            "50",
            "--scenarios",
            "steady,disconnect",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("utf8");
    let base = first
        .strip_prefix("stand-in listening on ")
        .expect("listening line")
        .to_owned();
    let links = (0..count)
        .map(|_| {
            let line = lines.next().expect("a link line").expect("utf8");
            let (scenario, link) = line.split_once(char::is_whitespace).expect("two columns");
            (scenario.to_owned(), link.trim().to_owned())
        })
        .collect();
    (child, base, links)
}

fn stop(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "clean exit on SIGTERM: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "demo did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_backend_prints_working_links_and_is_idempotent() {
    let dir = data_dir("demo");
    // The wall first, then one link per stream.
    let (child, base, links) = run_demo(&dir, 3);
    assert_eq!(links[0].0, "wall");
    assert_eq!(links[1].0, "steady");
    assert_eq!(links[2].0, "disconnect");
    let wall = links[0]
        .1
        .strip_prefix("http://widget.example/#wall&")
        .expect("the wall link on the widget base");
    let mut first_tokens = Vec::new();
    for (scenario, link) in &links[1..] {
        let rest = link
            .strip_prefix("http://widget.example/#token=")
            .expect("link on the widget base");
        let (jwt, endpoint) = rest.split_once("&endpoint=").expect("endpoint param");
        assert_eq!(endpoint, base.replace(':', "%3A").replace('/', "%2F"));
        let (status, body) = status_of(&base, jwt);
        assert_eq!(status, 200, "{scenario}: {body}");
        assert!(
            wall.contains(&format!("token={jwt}&label={scenario}")),
            "{scenario} is not on the wall: {wall}"
        );
        first_tokens.push(jwt.to_owned());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("demo-signing-key.json"))
            .expect("demo key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    stop(child);

    // Same streams and key on a second run; the first run's links still work.
    let (child, base, links) = run_demo(&dir, 3);
    for ((_, link), old) in links[1..].iter().zip(&first_tokens) {
        let jwt = link
            .split("#token=")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .expect("token");
        let (new_header, new_claims) = claims_of(jwt);
        let (old_header, old_claims) = claims_of(old);
        assert_eq!(new_claims["sub"], old_claims["sub"]);
        assert_eq!(new_header["kid"], old_header["kid"]);
        assert_eq!(status_of(&base, old).0, 200);
    }
    stop(child);
    let _ = std::fs::remove_dir_all(dir);
}
