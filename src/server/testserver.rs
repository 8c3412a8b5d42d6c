//! A scripted, deliberately misbehaving stand-in for the stats endpoint, used
//! by the widget's browser tests.
//!
//! `GET /s/{run}/{steps}/live-stream-health?token=...` answers the Nth request
//! for a given `(run, steps)` pair with step N of the comma-separated `steps`
//! list; the last step repeats forever. `{run}` is any id the caller picks so
//! that tests sharing one server never share counters. The token is not
//! checked: this server tests the widget's handling of responses, not auth.
//!
//! Steps (see [`STEP_NAMES`]):
//! - `excellent`, `good`, `poor`, `unknown`: valid bodies (session average 384
//!   ms; deviation 12, 800 and -1500 ms; `unknown` carries null numbers).
//! - `same`: the previous body of this `(run, steps)` again, byte for byte,
//!   including `updated_at` (an `excellent` body if there is no previous one).
//! - `strange` (status `marvellous`, deviation 700), `nostatus` (no status
//!   field, deviation 1200), `nulls` (null numbers, status excellent),
//!   `strnum` (numbers as strings), `empty` (`{"data":[]}`), `notarray`
//!   (`{"data":{}}`), `markup` (an HTML/JS injection attempt as the status).
//! - `html` (200, `text/html` error page), `trunc` (a complete HTTP response
//!   whose JSON body is cut in half), `huge` (about 5 MB of *valid* JSON: a
//!   `padding` string first, then a valid excellent `data` array, so a widget
//!   without a size limit parses it and one with a limit rejects it).
//! - `zoned` (`updated_at` ends in `Z`), `future` (one hour ahead),
//!   `garbage-time` (`updated_at` is `"yesterday"`).
//! - `wrongtype` (a valid excellent body sent as `text/plain`), `empty-body`
//!   (200, `application/json`, zero bytes), `nan` (`NaN` and `Infinity` as
//!   the metrics: what a careless JavaScript or Python server emits, and not
//!   JSON, so a strict parser rejects the whole body), `negative` (session
//!   average -384, deviation -12, status excellent), `hugenum` (metrics
//!   `1e308` and `-9007199254740993000`: valid JSON far outside any real
//!   drift), `markup-all` (every string, keys included, carries an HTML or
//!   script injection that would set `window.__pwned` if it ever ran).
//! - `e500`, `e502`, `e503`, `e401`, `e403`, `e404`, `e429`: JSON error bodies
//!   with that status; `e429raN` adds `Retry-After: N`.
//! - `hang`: no response for 10 minutes, ending early when the client goes away.
//! - `drip`: headers, then one body byte per second.
//! - `reset`: the connection is closed without any response.
//!
//! `updated_at` is the current UTC second plus the request index, so every
//! response carries a distinct, advancing timestamp even when a test polls
//! faster than once a second.
//!
//! `GET /s/{run}/{steps}/counts?token=...` is the viewer counts endpoint of
//! the same script: `{steps}` may carry a second list after a `~`
//! (`excellent~e500,viewers`), which `counts` plays the same way (and
//! `live-stream-health` ignores); without one, counts answer `viewers`
//! forever. Counts steps: `viewers` (the documented example, 94 viewers and
//! 95 views, `updated_at` with a `Z` and advancing like health's),
//! `nulls` (null counts), `strnum` (counts as strings), and every step
//! above that is not a health body (errors, `empty`, `notarray`, `html`,
//! `trunc`, `huge`, `hang`, `reset`, ...) as it is; a health body step
//! answers that body, in which a counts reader finds no counts.
//!
//! `GET /s/{run}/{steps}/stats` reports `{"requests":N,"max_in_flight":M,
//! "in_flight":K,"arrivals_ms":[..],"counts":{..the same for counts..}}`
//! (arrivals: when each request came, in ms after the run's first request of
//! either kind; the newest 10,000) summed over every steps list used with
//! that `run` (the `{steps}` segment of the stats path is ignored); the
//! top-level figures count `live-stream-health` requests only. A request
//! stops being in flight when its response has been written or its client
//! has gone away. `GET /health` answers `ok`.
//!
//! Every response, and the answer to an `OPTIONS` preflight on any path,
//! carries `Access-Control-Allow-Origin: *`, `Access-Control-Allow-Headers: *`,
//! `Access-Control-Expose-Headers: Retry-After` and `Cache-Control: no-store`.
//!
//! Like the stand-in, it closes a connection whose request head has not
//! arrived within [`HEAD_TIMEOUT`] and answers `503` beyond
//! [`MAX_CONNECTIONS`] (see [`super::http_accept`]).
//!
//! It speaks a minimal HTTP/1.1 directly on the socket (one request per
//! connection, `Connection: close`) instead of going through a framework:
//! `reset`, `hang` with disconnect detection, and `drip` need control that a
//! framework deliberately hides.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::background::{Background, StopSignal};
use super::body::{counts_json, error_json, health_json};
use super::http_accept::{Gate, HEAD_TIMEOUT, MAX_CONNECTIONS};
use super::utc;

/// Every step name the server understands (`e429raN` takes any N).
pub const STEP_NAMES: &[&str] = &[
    "excellent",
    "good",
    "poor",
    "unknown",
    "same",
    "strange",
    "nostatus",
    "nulls",
    "strnum",
    "empty",
    "notarray",
    "html",
    "trunc",
    "huge",
    "zoned",
    "future",
    "garbage-time",
    "markup",
    "wrongtype",
    "empty-body",
    "nan",
    "negative",
    "hugenum",
    "markup-all",
    "e500",
    "e502",
    "e503",
    "e401",
    "e403",
    "e404",
    "e429",
    "e429raN",
    "hang",
    "drip",
    "reset",
];

/// How long `hang` withholds the response.
const HANG_FOR: Duration = Duration::from_secs(600);
/// Target size of the `huge` body.
const HUGE_BYTES: usize = 5 * 1024 * 1024;
/// Requests whose head exceeds this are refused.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A running test server; stops when [`TestServer::shutdown`] is called or it
/// is dropped.
#[derive(Debug)]
pub struct TestServer {
    inner: Background,
}

impl TestServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr()
    }

    /// `http://ADDR` without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The endpoint URL for a run and a step list, without the token query.
    pub fn endpoint(&self, run: &str, steps: &str) -> String {
        format!("{}/s/{run}/{steps}/live-stream-health", self.base_url())
    }

    /// Stops accepting, drops open connections and joins the server thread.
    pub fn shutdown(self) -> io::Result<()> {
        self.inner.stop()
    }
}

/// Starts the test server on `addr` (port 0 picks a free port) on a
/// background thread with its own runtime.
pub fn spawn(addr: SocketAddr) -> io::Result<TestServer> {
    let inner = Background::start("test-server", addr, serve)?;
    Ok(TestServer { inner })
}

/// Serves on `listener` until `stop` resolves. Used by [`spawn`] and the CLI.
pub async fn serve(listener: TcpListener, stop: StopSignal) -> io::Result<()> {
    let state = Arc::new(State::default());
    let gate = Gate::new(MAX_CONNECTIONS);
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => {
                // Accept errors (e.g. too many open files) are transient: keep serving.
                let Ok((stream, _)) = accepted else {
                    continue;
                };
                let Some((stream, permit)) = gate.admit(stream) else {
                    continue;
                };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let _permit = permit;
                    // A broken connection is the client's business, not the server's.
                    let _ = handle_connection(stream, state).await;
                });
            }
        }
    }
}

/// Which endpoint of a script a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Health,
    Counts,
}

/// Counters shared by all connections.
#[derive(Debug, Default)]
struct State {
    /// Per `(run, steps, kind)`: requests answered so far and the last body
    /// sent.
    sequences: Mutex<HashMap<(String, String, Kind), Sequence>>,
    /// Per run: request counts and concurrency of each kind.
    runs: Mutex<HashMap<String, Run>>,
}

/// One run's counters.
#[derive(Debug, Default, Clone)]
struct Run {
    /// When the run's first request of either kind arrived.
    first: Option<std::time::Instant>,
    health: RunStats,
    counts: RunStats,
}

impl Run {
    fn of(&mut self, kind: Kind) -> &mut RunStats {
        match kind {
            Kind::Health => &mut self.health,
            Kind::Counts => &mut self.counts,
        }
    }
}

#[derive(Debug, Default)]
struct Sequence {
    served: usize,
    last_body: Option<String>,
}

#[derive(Debug, Default, Clone)]
struct RunStats {
    requests: u64,
    in_flight: u64,
    max_in_flight: u64,
    /// Arrival of each request, milliseconds after the run's first (the
    /// newest [`MAX_ARRIVALS`]).
    arrivals_ms: std::collections::VecDeque<u64>,
}

impl RunStats {
    fn json(&self) -> serde_json::Value {
        json!({
            "requests": self.requests,
            "max_in_flight": self.max_in_flight,
            "in_flight": self.in_flight,
            "arrivals_ms": self.arrivals_ms,
        })
    }
}

/// Arrival times kept per run.
const MAX_ARRIVALS: usize = 10_000;

impl State {
    fn stats(&self, run: &str) -> Run {
        lock(&self.runs).get(run).cloned().unwrap_or_default()
    }

    /// Counts a request as started; the guard counts it finished when dropped.
    fn begin(self: &Arc<Self>, run: &str, kind: Kind) -> InFlight {
        let mut runs = lock(&self.runs);
        let run_stats = runs.entry(run.to_owned()).or_default();
        let now = std::time::Instant::now();
        let first = *run_stats.first.get_or_insert(now);
        let stats = run_stats.of(kind);
        stats.requests += 1;
        if stats.arrivals_ms.len() == MAX_ARRIVALS {
            stats.arrivals_ms.pop_front();
        }
        let since_first = now.duration_since(first).as_millis();
        stats
            .arrivals_ms
            .push_back(u64::try_from(since_first).unwrap_or(u64::MAX));
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        InFlight {
            state: Arc::clone(self),
            run: run.to_owned(),
            kind,
        }
    }

    /// Claims the next index in a sequence and returns the previous body.
    fn next_index(&self, run: &str, steps: &str, kind: Kind) -> (usize, Option<String>) {
        let mut sequences = lock(&self.sequences);
        let sequence = sequences
            .entry((run.to_owned(), steps.to_owned(), kind))
            .or_default();
        let index = sequence.served;
        sequence.served += 1;
        (index, sequence.last_body.clone())
    }

    fn remember_body(&self, run: &str, steps: &str, kind: Kind, body: &str) {
        let mut sequences = lock(&self.sequences);
        if let Some(sequence) = sequences.get_mut(&(run.to_owned(), steps.to_owned(), kind)) {
            sequence.last_body = Some(body.to_owned());
        }
    }
}

/// Locks a mutex, recovering the data if another connection panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decrements the run's in-flight count when the request ends, however it ends
/// (response written, client gone, task cancelled at shutdown).
struct InFlight {
    state: Arc<State>,
    run: String,
    kind: Kind,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(run) = lock(&self.state.runs).get_mut(&self.run) {
            let stats = run.of(self.kind);
            stats.in_flight = stats.in_flight.saturating_sub(1);
        }
    }
}

/// What to do with one request.
enum Action {
    Respond(Response),
    Hang,
    Drip(String),
    Reset,
}

struct Response {
    status: u16,
    content_type: &'static str,
    extra_headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "application/json",
            extra_headers: Vec::new(),
            body: body.into_bytes(),
        }
    }

    fn error(status: u16, kind: &str, message: &str) -> Self {
        Self::json(status, error_json(kind, message))
    }
}

async fn handle_connection(mut stream: TcpStream, state: Arc<State>) -> io::Result<()> {
    // A head that does not arrive in time: closed without an answer.
    let Ok(head) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await else {
        return Ok(());
    };
    let Some(head) = head? else {
        let response = Response::error(431, "invalid_request", "request head too large");
        return write_response(&mut stream, &response).await;
    };
    let Some((method, target)) = parse_request_line(&head) else {
        let response = Response::error(400, "invalid_request", "malformed request line");
        return write_response(&mut stream, &response).await;
    };
    let path = target.split('?').next().unwrap_or_default();

    if method == "OPTIONS" {
        return write_preflight(&mut stream).await;
    }
    if method != "GET" {
        let response = Response::error(405, "invalid_request", "only GET is supported");
        return write_response(&mut stream, &response).await;
    }

    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["health"] => {
            let response = Response {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                extra_headers: Vec::new(),
                body: b"ok\n".to_vec(),
            };
            write_response(&mut stream, &response).await
        }
        ["s", run, _steps, "stats"] => {
            let stats = state.stats(run);
            let mut body = stats.health.json();
            body["counts"] = stats.counts.json();
            write_response(&mut stream, &Response::json(200, body.to_string())).await
        }
        ["s", run, steps, endpoint @ ("live-stream-health" | "counts")] => {
            let kind = if *endpoint == "counts" {
                Kind::Counts
            } else {
                Kind::Health
            };
            let _in_flight = state.begin(run, kind);
            let (index, previous) = state.next_index(run, steps, kind);
            let (health_steps, counts_steps) = match steps.split_once('~') {
                Some((health, counts)) => (health, counts),
                None => (*steps, "viewers"),
            };
            let action = match kind {
                Kind::Health => pick_step(health_steps, index)
                    .map(|step| render_step(step, index, previous.as_deref())),
                Kind::Counts => pick_step(counts_steps, index)
                    .map(|step| render_counts_step(step, index, previous.as_deref())),
            };
            let action = action.unwrap_or_else(|| {
                Action::Respond(Response::error(
                    400,
                    "invalid_parameters",
                    "the step list is empty",
                ))
            });
            if let Action::Respond(response) = &action {
                if response.status == 200 && response.content_type == "application/json" {
                    if let Ok(body) = std::str::from_utf8(&response.body) {
                        state.remember_body(run, steps, kind, body);
                    }
                }
            }
            perform(&mut stream, action).await
        }
        _ => {
            let response = Response::error(404, "not_found", "no such path on the test server");
            write_response(&mut stream, &response).await
        }
    }
}

/// Step `index` of the comma-separated list, the last one repeating.
fn pick_step(steps: &str, index: usize) -> Option<&str> {
    let steps: Vec<&str> = steps.split(',').filter(|s| !s.is_empty()).collect();
    steps.get(index).or(steps.last()).copied()
}

fn render_step(step: &str, index: usize, previous: Option<&str>) -> Action {
    let offset = i64::try_from(index).unwrap_or(i64::MAX / 2);
    let now = utc::now_unix_secs().saturating_add(offset);
    let updated_at = utc::format_api_time(now);
    let ok = |body: String| Action::Respond(Response::json(200, body));
    match step {
        "excellent" => ok(health_json(&updated_at, Some(384), Some(12), "excellent")),
        "good" => ok(health_json(&updated_at, Some(384), Some(800), "good")),
        "poor" => ok(health_json(&updated_at, Some(384), Some(-1500), "poor")),
        "unknown" => ok(health_json(&updated_at, None, None, "unknown")),
        "same" => ok(previous.map_or_else(
            || health_json(&updated_at, Some(384), Some(12), "excellent"),
            str::to_owned,
        )),
        "strange" => ok(health_json(&updated_at, Some(384), Some(700), "marvellous")),
        "nostatus" => ok(json!({"data": [{"ingest_health": {
            "updated_at": updated_at,
            "stream_drift_session_avg": 384,
            "stream_drift_deviation_from_rolling_avg": 1200,
        }}]})
        .to_string()),
        "nulls" => ok(health_json(&updated_at, None, None, "excellent")),
        "strnum" => ok(json!({"data": [{"ingest_health": {
            "updated_at": updated_at,
            "stream_drift_session_avg": "384",
            "stream_drift_deviation_from_rolling_avg": "12",
            "status": "excellent",
        }}]})
        .to_string()),
        "empty" => ok(r#"{"data":[]}"#.to_owned()),
        "notarray" => ok(r#"{"data":{}}"#.to_owned()),
        "markup" => ok(health_json(
            &updated_at,
            Some(384),
            Some(12),
            "<img src=x onerror=alert(1)>",
        )),
        "zoned" => ok(health_json(
            &format!("{updated_at}Z"),
            Some(384),
            Some(12),
            "excellent",
        )),
        "future" => ok(health_json(
            &utc::format_api_time(now + 3600),
            Some(384),
            Some(12),
            "excellent",
        )),
        "garbage-time" => ok(health_json("yesterday", Some(384), Some(12), "excellent")),
        "wrongtype" => Action::Respond(Response {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            extra_headers: Vec::new(),
            body: health_json(&updated_at, Some(384), Some(12), "excellent").into_bytes(),
        }),
        "empty-body" => ok(String::new()),
        "nan" => ok(format!(
            r#"{{"data":[{{"ingest_health":{{"updated_at":"{updated_at}","stream_drift_session_avg":NaN,"stream_drift_deviation_from_rolling_avg":Infinity,"status":"excellent"}}}}]}}"#
        )),
        "negative" => ok(health_json(&updated_at, Some(-384), Some(-12), "excellent")),
        "hugenum" => ok(format!(
            r#"{{"data":[{{"ingest_health":{{"updated_at":"{updated_at}","stream_drift_session_avg":1e308,"stream_drift_deviation_from_rolling_avg":-9007199254740993000,"status":"excellent"}}}}]}}"#
        )),
        "markup-all" => {
            let pwn = "<img src=x onerror=window.__pwned=1>";
            let script = "<script>window.__pwned=1</script>";
            ok(json!({
                "data": [{
                    "ingest_health": {
                        "updated_at": format!("{updated_at}{script}"),
                        "stream_drift_session_avg": 384,
                        "stream_drift_deviation_from_rolling_avg": 12,
                        "status": pwn,
                        "message": format!("{pwn}{script}"),
                    },
                    pwn: script,
                }],
                "error": {"type": pwn, "messages": [script]},
            })
            .to_string())
        }
        "html" => Action::Respond(Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            extra_headers: Vec::new(),
            body: b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p></body></html>\n"
                .to_vec(),
        }),
        "trunc" => {
            let full = health_json(&updated_at, Some(384), Some(12), "excellent");
            let half = full.len() / 2;
            Action::Respond(Response {
                status: 200,
                content_type: "application/json",
                extra_headers: Vec::new(),
                body: full.as_bytes()[..half].to_vec(),
            })
        }
        "huge" => {
            let data = json!([{"ingest_health": {
                "updated_at": updated_at,
                "stream_drift_session_avg": 384,
                "stream_drift_deviation_from_rolling_avg": 12,
                "status": "excellent",
            }}]);
            let padding = "x".repeat(HUGE_BYTES);
            ok(format!(r#"{{"padding":"{padding}","data":{data}}}"#))
        }
        "hang" => Action::Hang,
        "drip" => Action::Drip(health_json(&updated_at, Some(384), Some(12), "excellent")),
        "reset" => Action::Reset,
        other => render_error_step(other).unwrap_or_else(|| {
            Action::Respond(Response::error(
                400,
                "invalid_parameters",
                &format!("unknown step {other:?}"),
            ))
        }),
    }
}

/// A step of a counts list: the counts bodies, else the step as
/// [`render_step`] plays it.
fn render_counts_step(step: &str, index: usize, previous: Option<&str>) -> Action {
    let offset = i64::try_from(index).unwrap_or(i64::MAX / 2);
    let now = utc::now_unix_secs().saturating_add(offset);
    let updated_at = format!("{}Z", utc::format_api_time(now));
    let ok = |body: String| Action::Respond(Response::json(200, body));
    match step {
        "viewers" => ok(counts_json(&updated_at, 95, 94)),
        "nulls" => ok(
            json!({"data": [{"views": null, "viewers": null, "updated_at": updated_at}]})
                .to_string(),
        ),
        "strnum" => ok(
            json!({"data": [{"views": "95", "viewers": "94", "updated_at": updated_at}]})
                .to_string(),
        ),
        other => render_step(other, index, previous),
    }
}

/// `eNNN` and `e429raN` steps.
fn render_error_step(step: &str) -> Option<Action> {
    let (status, kind, message) = match step {
        "e500" => (500, "internal_error", "internal server error"),
        "e502" => (502, "bad_gateway", "bad gateway"),
        "e503" => (503, "service_unavailable", "service unavailable"),
        "e401" => (401, "unauthorized", "token is invalid or expired"),
        "e403" => (403, "forbidden", "token is not allowed to read this stream"),
        "e404" => (404, "not_found", "live stream not found"),
        "e429" => (429, "too_many_requests", "rate limit exceeded"),
        _ => {
            let seconds: u64 = step.strip_prefix("e429ra")?.parse().ok()?;
            let mut response = Response::error(429, "too_many_requests", "rate limit exceeded");
            response
                .extra_headers
                .push(("Retry-After", seconds.to_string()));
            return Some(Action::Respond(response));
        }
    };
    Some(Action::Respond(Response::error(status, kind, message)))
}

async fn perform(stream: &mut TcpStream, action: Action) -> io::Result<()> {
    match action {
        Action::Respond(response) => write_response(stream, &response).await,
        Action::Reset => {
            // Dropping the socket closes it with no bytes written; an RST
            // follows if the client still sends anything.
            Ok(())
        }
        Action::Hang => {
            tokio::select! {
                _ = tokio::time::sleep(HANG_FOR) => {}
                _ = wait_for_close(stream) => {}
            }
            Ok(())
        }
        Action::Drip(body) => {
            let head = response_head(200, "application/json", &[], body.len());
            stream.write_all(head.as_bytes()).await?;
            stream.flush().await?;
            for byte in body.as_bytes() {
                stream.write_all(std::slice::from_ref(byte)).await?;
                stream.flush().await?;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = wait_for_close(stream) => return Ok(()),
                }
            }
            stream.shutdown().await
        }
    }
}

/// Resolves when the peer closes its side (or the socket fails). Bytes the
/// client sends meanwhile are discarded.
async fn wait_for_close(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Reads up to the blank line ending the request head. `None` if it is too
/// large; an error if the client disconnects first.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_head_end(&buffer) {
            return Ok(Some(String::from_utf8_lossy(&buffer[..end]).into_owned()));
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
    }
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n")
}

/// `(method, target)` from the first line of a request head.
fn parse_request_line(head: &str) -> Option<(&str, &str)> {
    let mut parts = head.lines().next()?.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    parts
        .next()?
        .starts_with("HTTP/")
        .then_some((method, target))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

const COMMON_HEADERS: &str = "Access-Control-Allow-Origin: *\r\n\
Access-Control-Allow-Headers: *\r\n\
Access-Control-Expose-Headers: Retry-After\r\n\
Cache-Control: no-store\r\n\
Connection: close\r\n";

fn response_head(
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, String)],
    content_length: usize,
) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\n{COMMON_HEADERS}Content-Type: {content_type}\r\nContent-Length: {content_length}\r\n",
        reason(status)
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

async fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    let head = response_head(
        response.status,
        response.content_type,
        &response.extra_headers,
        response.body.len(),
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

async fn write_preflight(stream: &mut TcpStream) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 204 No Content\r\n{COMMON_HEADERS}\
Access-Control-Allow-Methods: GET, OPTIONS\r\nAccess-Control-Max-Age: 600\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_step_repeats_forever() {
        assert_eq!(pick_step("good,poor", 0), Some("good"));
        assert_eq!(pick_step("good,poor", 1), Some("poor"));
        assert_eq!(pick_step("good,poor", 7), Some("poor"));
        assert_eq!(pick_step("", 0), None);
    }

    #[test]
    fn retry_after_step_carries_its_seconds() {
        let Some(Action::Respond(response)) = render_error_step("e429ra3") else {
            panic!("e429ra3 should respond");
        };
        assert_eq!(response.status, 429);
        assert_eq!(
            response.extra_headers,
            vec![("Retry-After", "3".to_owned())]
        );
        assert!(render_error_step("e429raX").is_none());
    }

    #[test]
    fn every_documented_step_is_understood() {
        for name in STEP_NAMES {
            let step = name.replace("raN", "ra2");
            if let Action::Respond(response) = render_step(&step, 0, None) {
                assert!(
                    !(response.status == 400 && response.body.starts_with(b"{\"error\"")),
                    "{step} is not understood"
                );
            }
        }
    }

    #[test]
    fn nan_is_not_json_and_the_other_odd_numbers_are() {
        let body = |step| match render_step(step, 0, None) {
            Action::Respond(response) => String::from_utf8(response.body).unwrap_or_default(),
            _ => String::new(),
        };
        assert!(serde_json::from_str::<serde_json::Value>(&body("nan")).is_err());
        for step in ["hugenum", "negative", "markup-all", "wrongtype"] {
            assert!(
                serde_json::from_str::<serde_json::Value>(&body(step)).is_ok(),
                "{step}"
            );
        }
        assert!(body("empty-body").is_empty());
    }

    #[test]
    fn counts_steps_answer_counts_and_fall_back_to_the_shared_steps() {
        let body = |step| match render_counts_step(step, 0, None) {
            Action::Respond(response) => (
                response.status,
                String::from_utf8(response.body).unwrap_or_default(),
            ),
            _ => (0, String::new()),
        };
        let (status, viewers) = body("viewers");
        assert_eq!(status, 200);
        assert!(viewers.starts_with(r#"{"data":[{"views":95,"viewers":94,"updated_at":""#));
        assert!(viewers.ends_with(r#"Z"}]}"#), "{viewers}");
        assert!(body("nulls").1.contains(r#""viewers":null"#));
        assert_eq!(body("e403").0, 403);
        assert_eq!(body("e500").0, 500);
        assert!(body("html").1.contains("Bad Gateway"));
    }

    #[test]
    fn request_line_needs_method_target_and_version() {
        assert_eq!(
            parse_request_line("GET /health HTTP/1.1\r\nHost: x"),
            Some(("GET", "/health"))
        );
        assert_eq!(parse_request_line("GET /health"), None);
    }
}
