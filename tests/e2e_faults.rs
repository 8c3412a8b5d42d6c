//! End to end, the fault matrix: the built widget in headless Chromium against
//! the scripted test server (`src/server/testserver.rs`), one case per way a
//! stats endpoint (or what sits in front of it) can misbehave. Each case's
//! script is `excellent`, the fault `n` times, then `good` forever, polled
//! once a second (`interval=1`).
//!
//! For every case the test records and asserts:
//! - what the widget shows once the fault has been answered (`data-state`,
//!   `data-status`, `data-stale`, the message), against the case's
//!   expectation: transport and body failures keep the last values, stale,
//!   and retry; odd but well-formed bodies stay live;
//! - that it stays responsive: each WebDriver `execute` round trip (a DOM
//!   query and `performance.now()`) during the fault, and the page's own timer
//!   lag (a 50 ms `setInterval`), stay under 100 ms (both measured while the
//!   fault is in effect; the two cores are shared, so a stall from another
//!   process shows up here too);
//! - one request at a time: the server's `max_in_flight` for the run is 1;
//! - that nothing from a payload ran: `window.__pwned` stays undefined,
//!   `alert` is never called, and no `img` or `script` element is added;
//! - recovery: from the moment the last fault has been answered (the good
//!   answer is available) until `data-state="live"` with the good body's
//!   deviation (800 ms) on screen. That includes the backoff the failures
//!   earned, so the bound is the backoff ceiling after `n` failures
//!   (`2 s × 2^(n-1)`, or `Retry-After`) plus one interval; and from the
//!   moment the good request reaches the server, the widget must be live
//!   again within one interval.
//!
//! `nan` (`NaN`/`Infinity` as numbers) is not JSON, so the widget treats it
//! like any unusable body: stale values and retry, rather than guessing which
//! fields were meant. `wrongtype` (valid JSON as `text/plain`) is accepted:
//! the widget reads the body, not the label.
//!
//! The cases run in two browser sessions at once (two queues), to keep the
//! file at about a minute and a half on two cores; `hang` and `drip` wait
//! out the widget's 10 s request timeout.
//!
//! Runs in the browser `LSH_BROWSER` names. A connection closed before any
//! response is retried by Firefox itself (up to 10 attempts of one GET)
//! before the page sees an error, so in Firefox the `reset` case resets ten
//! connections for each failure the widget is meant to see
//! ([`support::Engine::attempts_per_reset`]).

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use live_stream_health::core::params::percent_encode;
use live_stream_health::server::testserver::{self, TestServer};
use serde_json::Value;
use support::{Browser, Engine, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

/// Polling interval the widget is given, in seconds.
const INTERVAL_S: f64 = 1.0;
/// The widget aborts a request after this long (README "How it polls").
const REQUEST_TIMEOUT_S: f64 = 10.0;
/// Responsiveness budget for a WebDriver round trip and for timer lag.
const RESPONSIVE_MS: f64 = 100.0;
/// Scheduling slack on top of every time bound (two browsers, two cores).
const SLACK_S: f64 = 0.5;

/// What the widget should show while a fault is in effect.
#[derive(Clone, Copy, Debug)]
enum Shows {
    /// Last values kept, marked stale, retrying with backoff.
    Retrying,
    /// A usable report: live, not stale, with this status and deviation.
    Live {
        status: &'static str,
        deviation: Deviation,
    },
}

/// The deviation's `data-value` while a `Live` fault is shown.
#[derive(Clone, Copy, Debug)]
enum Deviation {
    Any,
    Absent,
    Is(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct Case {
    /// Name in the table.
    name: &'static str,
    /// The test server step.
    fault: &'static str,
    /// How many times it is answered before `good`.
    times: u32,
    shows: Shows,
    /// `Retry-After` the fault carries, seconds.
    retry_after_s: Option<f64>,
    /// Server answers per failure the widget sees: more than one where the
    /// browser retries the fault on its own.
    answers: u32,
}

const fn retrying(name: &'static str, fault: &'static str, times: u32) -> Case {
    Case {
        name,
        fault,
        times,
        shows: Shows::Retrying,
        retry_after_s: None,
        answers: 1,
    }
}

const fn live(
    name: &'static str,
    fault: &'static str,
    status: &'static str,
    deviation: Deviation,
) -> Case {
    Case {
        name,
        fault,
        times: 2,
        shows: Shows::Live { status, deviation },
        retry_after_s: None,
        answers: 1,
    }
}

fn cases() -> Vec<Case> {
    vec![
        retrying("headers never come", "hang", 1),
        retrying("body drips", "drip", 1),
        retrying("connection reset", "reset", 2),
        retrying("500", "e500", 2),
        retrying("502", "e502", 2),
        retrying("503", "e503", 2),
        retrying("429 without Retry-After", "e429", 2),
        Case {
            retry_after_s: Some(2.0),
            ..retrying("429 with Retry-After: 2", "e429ra2", 2)
        },
        retrying("HTML error page", "html", 2),
        retrying("truncated JSON", "trunc", 2),
        retrying("5 MB body", "huge", 2),
        retrying("empty body", "empty-body", 2),
        retrying("NaN, Infinity (not JSON)", "nan", 2),
        retrying("data not an array", "notarray", 2),
        live(
            "wrong content type",
            "wrongtype",
            "excellent",
            Deviation::Is("12"),
        ),
        live(
            "numbers as strings",
            "strnum",
            "excellent",
            Deviation::Absent,
        ),
        live("null numbers", "nulls", "excellent", Deviation::Absent),
        live(
            "negative values",
            "negative",
            "excellent",
            Deviation::Is("-12"),
        ),
        live("huge values", "hugenum", "excellent", Deviation::Any),
        live(
            "markup in status",
            "markup",
            "excellent",
            Deviation::Is("12"),
        ),
        live(
            "markup/script in every string",
            "markup-all",
            "excellent",
            Deviation::Is("12"),
        ),
        live(
            "updated_at 1 h in the future",
            "future",
            "excellent",
            Deviation::Is("12"),
        ),
        live(
            "updated_at garbage",
            "garbage-time",
            "excellent",
            Deviation::Is("12"),
        ),
        live("data empty", "empty", "unknown", Deviation::Absent),
    ]
}

impl Case {
    /// The case as `engine` needs it served.
    fn in_engine(self, engine: Engine) -> Case {
        let answers = match self.fault {
            "reset" => engine.attempts_per_reset(),
            _ => 1,
        };
        Case { answers, ..self }
    }

    /// How many times the server answers with the fault.
    fn server_faults(&self) -> u32 {
        self.times * self.answers
    }

    fn steps(&self) -> String {
        let faults = vec![self.fault; self.server_faults() as usize].join(",");
        format!("excellent,{faults},good")
    }

    /// The steps as the table shows them, a long run of one fault counted.
    fn steps_label(&self) -> String {
        match self.server_faults() {
            n if n > 3 => format!("excellent,{}×{n},good", self.fault),
            _ => self.steps(),
        }
    }

    /// Longest wait the widget may schedule after the last fault.
    fn wait_ceiling_s(&self) -> f64 {
        match (self.shows, self.retry_after_s) {
            (_, Some(seconds)) => seconds,
            (Shows::Live { .. }, None) => INTERVAL_S,
            (Shows::Retrying, None) => (2.0 * 2f64.powi(self.times as i32 - 1)).min(60.0),
        }
    }

    /// Longest the whole case may take before the good answer is on screen.
    fn deadline(&self) -> Duration {
        let per_fault = match self.fault {
            "hang" | "drip" => REQUEST_TIMEOUT_S,
            _ => 1.0,
        };
        let backoff: f64 = (1..=self.times)
            .map(|n| (2.0 * 2f64.powi(n as i32 - 1)).min(60.0))
            .sum();
        Duration::from_secs_f64(10.0 + f64::from(self.times) * per_fault + backoff)
    }
}

/// The run's counters on the test server, as they were at `at_ms`.
#[derive(Clone, Copy, Debug, Default)]
struct ServerSide {
    requests: u64,
    in_flight: u64,
    max_in_flight: u64,
    /// Epoch ms when the last fault had been answered (good answer available).
    available_ms: Option<f64>,
    /// Epoch ms when the first good request reached the server.
    good_requested_ms: Option<f64>,
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Watches a run's stats every 10 ms on a thread of its own, so the moments
/// the fault ends and the good request arrives are known to within that.
struct StatsWatch {
    shared: Arc<Mutex<ServerSide>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StatsWatch {
    fn start(addr: SocketAddr, run: String, faults: u64) -> StatsWatch {
        let shared = Arc::new(Mutex::new(ServerSide::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::spawn(move || {
                let url = format!("http://{addr}/s/{run}/x/stats");
                while !stop.load(Ordering::Relaxed) {
                    if let Some(stats) = fetch_stats(&url) {
                        let now = epoch_ms();
                        let mut side = shared.lock().unwrap_or_else(|e| e.into_inner());
                        side.requests = stats.0;
                        side.in_flight = stats.1;
                        side.max_in_flight = stats.2;
                        // Request 1 is `excellent`, 2..=faults+1 the faults.
                        if side.available_ms.is_none()
                            && ((side.requests == faults + 1 && side.in_flight == 0)
                                || side.requests > faults + 1)
                        {
                            side.available_ms = Some(now);
                        }
                        if side.good_requested_ms.is_none() && side.requests > faults + 1 {
                            side.good_requested_ms = Some(now);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        StatsWatch {
            shared,
            stop,
            thread: Some(thread),
        }
    }

    fn now(&self) -> ServerSide {
        *self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for StatsWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `(requests, in_flight, max_in_flight)`.
fn fetch_stats(url: &str) -> Option<(u64, u64, u64)> {
    let body = ureq::get(url)
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let stats: Value = serde_json::from_str(&body).ok()?;
    let field = |name: &str| stats.get(name).and_then(Value::as_u64);
    Some((
        field("requests")?,
        field("in_flight")?,
        field("max_in_flight")?,
    ))
}

/// Installed in the page after load: the script traps, a timer-lag meter and
/// the moment the good answer is on screen.
const INSTRUMENT: &str = r#"
window.__lsh = { lag: 0, recovered: null, injected: null };
window.alert = () => { window.__pwned = 'alert'; };
let expected = performance.now() + 50;
setInterval(() => {
  const now = performance.now();
  window.__lsh.lag = Math.max(window.__lsh.lag, now - expected);
  expected = now + 50;
}, 50);
const check = () => {
  const root = document.querySelector('.lsh');
  const deviation = document.querySelector('[data-metric="deviation"]');
  if (window.__lsh.recovered === null && root && root.dataset.state === 'live'
      && deviation && deviation.getAttribute('data-value') === '800') {
    window.__lsh.recovered = Date.now();
  }
};
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType === 1 && (node.matches('img, script')
          || node.querySelector('img, script'))) {
        window.__lsh.injected = node.outerHTML.slice(0, 80);
      }
    }
  }
  check();
}).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
setInterval(check, 20);
"#;

const SNAPSHOT: &str = r#"
const root = document.querySelector('.lsh');
const deviation = document.querySelector('[data-metric="deviation"]');
const message = document.querySelector('[data-message]');
return {
  state: root ? root.dataset.state : null,
  status: root ? root.dataset.status : null,
  stale: root ? root.dataset.stale : null,
  deviation: deviation ? deviation.getAttribute('data-value') : null,
  message: message ? message.textContent.trim() : '',
  lag: (() => { const lag = window.__lsh.lag; window.__lsh.lag = 0; return lag; })(),
};
"#;

/// What the widget showed at one moment.
#[derive(Clone, Debug, Default)]
struct Snapshot {
    state: String,
    status: String,
    stale: String,
    deviation: Option<String>,
    message: String,
}

impl Snapshot {
    fn from(value: &Value) -> Snapshot {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Snapshot {
            state: text("state"),
            status: text("status"),
            stale: text("stale"),
            deviation: value
                .get("deviation")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: text("message"),
        }
    }

    fn describe(&self) -> String {
        let mut message: String = self.message.chars().take(60).collect();
        if self.message.chars().count() > 60 {
            message.push('…');
        }
        let stale = if self.stale == "true" { " stale" } else { "" };
        let deviation = self.deviation.as_deref().unwrap_or("—");
        format!(
            "{}/{}{stale}, dev {deviation}, \"{}\"",
            self.state,
            self.status,
            message.replace('|', "\\|")
        )
    }
}

/// One row of the matrix.
#[derive(Debug)]
struct Row {
    case: Case,
    shows: Snapshot,
    max_round_trip_ms: f64,
    max_lag_ms: f64,
    max_in_flight: u64,
    script_ran: Option<String>,
    recovery_s: Option<f64>,
    after_request_s: Option<f64>,
    problems: Vec<String>,
}

async fn run_case(
    browser: &Browser,
    stack: &Stack,
    server: &TestServer,
    token: &str,
    case: Case,
) -> Result<Row, Error> {
    let run = format!("{}-{}", case.fault, std::process::id());
    let endpoint = format!("{}/s/{run}/{}", server.base_url(), case.steps());
    let link = format!(
        "{}#token={token}&endpoint={}&interval=1",
        stack.widget.base_url(),
        percent_encode(&endpoint)
    );
    // A fresh document per case: no widget, history or timer carries over.
    browser.client.goto("about:blank").await?;
    let watch = StatsWatch::start(server.addr(), run, u64::from(case.server_faults()));
    browser.client.goto(&link).await?;
    browser.client.execute(INSTRUMENT, vec![]).await?;

    let started = Instant::now();
    let mut shows: Option<Snapshot> = None;
    let mut last_in_fault = Snapshot::default();
    let mut max_round_trip_ms: f64 = 0.0;
    // Timer lag since the previous snapshot, counted while the fault is on.
    let mut max_lag_ms: f64 = 0.0;
    let mut recovered: Option<f64> = None;
    while started.elapsed() < case.deadline() {
        let before = watch.now();
        let asked = Instant::now();
        let value = browser.client.execute(SNAPSHOT, vec![]).await?;
        let round_trip_ms = asked.elapsed().as_secs_f64() * 1000.0;
        let snapshot = Snapshot::from(&value);
        // The good body's deviation (800) marks a snapshot taken after the
        // fault, even when the good request beat the stats thread's 10 ms poll.
        let in_fault = before.requests >= 2
            && before.good_requested_ms.is_none()
            && snapshot.deviation.as_deref() != Some("800");
        if in_fault {
            max_round_trip_ms = max_round_trip_ms.max(round_trip_ms);
            max_lag_ms = max_lag_ms.max(value.get("lag").and_then(Value::as_f64).unwrap_or(0.0));
            last_in_fault = snapshot.clone();
            // Settled: the last fault was answered a moment ago and the
            // widget is waiting for its next poll.
            if before
                .available_ms
                .is_some_and(|at| epoch_ms() - at >= 300.0)
            {
                shows = Some(snapshot);
            }
        }
        let page = browser
            .client
            .execute("return window.__lsh.recovered;", vec![])
            .await?;
        if let Some(at) = page.as_f64() {
            recovered = Some(at);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let traps = browser
        .client
        .execute(
            "return { pwned: window.__pwned === undefined ? null : String(window.__pwned),\
             injected: window.__lsh.injected,\
             imgs: document.querySelectorAll('img').length };",
            vec![],
        )
        .await?;
    // Let the stats thread see the last request settle.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let server_side = watch.now();
    drop(watch);

    let script_ran = [
        traps
            .get("pwned")
            .and_then(Value::as_str)
            .map(|p| format!("__pwned={p}")),
        traps
            .get("injected")
            .and_then(Value::as_str)
            .map(|i| format!("injected {i}")),
        traps
            .get("imgs")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .map(|n| format!("{n} img")),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| format!("{a}; {b}"));
    let recovery_s = recovered
        .zip(server_side.available_ms)
        .map(|(live, available)| (live - available) / 1000.0);
    let after_request_s = recovered
        .zip(server_side.good_requested_ms)
        .map(|(live, requested)| (live - requested) / 1000.0);
    let mut row = Row {
        case,
        shows: shows.unwrap_or(last_in_fault),
        max_round_trip_ms,
        max_lag_ms,
        max_in_flight: server_side.max_in_flight,
        script_ran,
        recovery_s,
        after_request_s,
        problems: Vec::new(),
    };
    row.problems = judge(&row);
    Ok(row)
}

/// Every expectation the row breaks.
fn judge(row: &Row) -> Vec<String> {
    let mut problems = Vec::new();
    let shows = &row.shows;
    match row.case.shows {
        Shows::Retrying => {
            if shows.state != "retrying" || shows.stale != "true" || shows.status != "excellent" {
                problems.push(format!(
                    "wanted retrying/excellent stale (last values kept), saw {}",
                    shows.describe()
                ));
            }
            if shows.message.is_empty() {
                problems.push("no message while retrying".to_owned());
            }
        }
        Shows::Live { status, deviation } => {
            let deviation_ok = match deviation {
                Deviation::Any => true,
                Deviation::Absent => shows.deviation.is_none(),
                Deviation::Is(value) => shows.deviation.as_deref() == Some(value),
            };
            if shows.state != "live"
                || shows.stale != "false"
                || shows.status != status
                || !deviation_ok
            {
                problems.push(format!(
                    "wanted live/{status} dev {deviation:?}, saw {}",
                    shows.describe()
                ));
            }
        }
    }
    if row.max_round_trip_ms >= RESPONSIVE_MS {
        problems.push(format!(
            "an execute round trip took {:.0} ms",
            row.max_round_trip_ms
        ));
    }
    if row.max_lag_ms.is_nan() || row.max_lag_ms >= RESPONSIVE_MS {
        problems.push(format!("page timers lagged {:.0} ms", row.max_lag_ms));
    }
    if row.max_in_flight != 1 {
        problems.push(format!("max in flight {}", row.max_in_flight));
    }
    if let Some(ran) = &row.script_ran {
        problems.push(format!("payload ran: {ran}"));
    }
    let bound = row.case.wait_ceiling_s() + INTERVAL_S + SLACK_S;
    match (row.recovery_s, row.after_request_s) {
        (Some(recovery), Some(after)) => {
            if recovery > bound {
                problems.push(format!("recovered in {recovery:.2} s, bound {bound:.1} s"));
            }
            if after > INTERVAL_S {
                problems.push(format!(
                    "live {after:.2} s after the good request, more than one interval"
                ));
            }
        }
        _ => problems.push("never showed the good answer".to_owned()),
    }
    problems
}

async fn run_queue(
    browser: &Browser,
    stack: &Stack,
    server: &TestServer,
    token: &str,
    queue: Vec<Case>,
) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for case in queue {
        let row = run_case(browser, stack, server, token, case).await?;
        eprintln!(
            "{}: {} (recovery {:?} s)",
            case.name,
            row.shows.describe(),
            row.recovery_s
        );
        rows.push(row);
    }
    Ok(rows)
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| case | steps | shows | responsive (round trip / timer lag ms) | max in flight | script ran | recovery s (after good request s) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let seconds = |s: Option<f64>| s.map_or("—".to_owned(), |s| format!("{s:.2}"));
        out.push_str(&format!(
            "| {} | `{}` | {} | {:.0} / {:.0} | {} | {} | {} ({}) |\n",
            row.case.name,
            row.case.steps_label(),
            row.shows.describe(),
            row.max_round_trip_ms,
            row.max_lag_ms,
            row.max_in_flight,
            row.script_ran.as_deref().unwrap_or("no"),
            seconds(row.recovery_s),
            seconds(row.after_request_s),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_survived_and_recovered_from() -> TestResult {
    let started = Instant::now();
    let stack = Stack::start("faults")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let token = stack.token("stream-faults", Duration::from_secs(3600))?;
    let (first, second) = tokio::join!(Browser::start(), Browser::start());
    let (first, second) = match (first, second) {
        (Ok(first), Ok(second)) => (first, second),
        (first, second) => {
            for browser in [first, second].into_iter().flatten() {
                browser.close().await;
            }
            return Err("cannot start two browser sessions".into());
        }
    };

    // The two slow cases (10 s timeouts) head the two queues; the rest alternate.
    let engine = first.engine;
    let mut queues = (Vec::new(), Vec::new());
    for (index, case) in cases().into_iter().map(|c| c.in_engine(engine)).enumerate() {
        if index % 2 == 0 {
            queues.0.push(case);
        } else {
            queues.1.push(case);
        }
    }
    let (a, b) = tokio::join!(
        run_queue(&first, &stack, &server, &token, queues.0),
        run_queue(&second, &stack, &server, &token, queues.1),
    );
    first.close().await;
    second.close().await;
    let mut rows = a?;
    rows.extend(b?);
    let order: Vec<&str> = cases().iter().map(|c| c.name).collect();
    rows.sort_by_key(|row| order.iter().position(|name| *name == row.case.name));

    println!("\n{}", table(&rows));
    println!(
        "fault matrix in {}: {} cases in {:.0} s",
        engine.name(),
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    let failures: Vec<String> = rows
        .iter()
        .filter(|row| !row.problems.is_empty())
        .map(|row| format!("{}: {}", row.case.name, row.problems.join("; ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
