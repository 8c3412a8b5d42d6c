//! End to end, the embedding and the streamer's experience: the example host
//! page (`tests/host/index.html`) embeds the built widget from another
//! origin and talks to it with postMessage; history survives a reload; the
//! event log downloads as CSV; the title alert; the compact layout at
//! 300×120. Real servers on 127.0.0.1 throughout: the stand-in, the widget's
//! static server, the host page's static server, a token backend playing the
//! platform's part, and the scripted test server for exact status sequences.

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use live_stream_health::core::history::{History, Sample};
use live_stream_health::core::params::percent_encode;
use live_stream_health::core::status::Status;
use live_stream_health::core::storage;
use live_stream_health::server::statics;
use live_stream_health::server::testserver;
use serde_json::{json, Value};
use support::{Browser, Stack, TestResult, TokenBackend};

type Error = Box<dyn std::error::Error>;

fn host_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/host")
}

async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        if Instant::now() > deadline {
            return Err(format!("timed out after {within:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn script(browser: &Browser, code: &str) -> Result<Value, Error> {
    Ok(browser.client.execute(code, vec![]).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_page_hands_over_tokens_and_hears_the_status() -> TestResult {
    let stack = Stack::start("host")?;
    // The token expires 5 min 12 s from minting, so the widget asks for a
    // fresh one ("lsh:token-expiring", five minutes before) after ~12 s.
    let backend = TokenBackend::start(
        stack.key_pem.clone(),
        stack.key_id.clone(),
        Duration::from_secs(5 * 60 + 12),
    )
    .await?;
    let host = statics::spawn(&host_dir(), SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let stream = stack.stream("steady")?;
    let browser = Browser::start().await?;
    let result = async {
        let page = format!(
            "{}?widget={}&endpoint={}&backend={}&stream={stream}&interval=1",
            host.base_url(),
            percent_encode(&stack.widget.base_url()),
            percent_encode(&stack.standin().base_url()),
            percent_encode(&backend.url()),
        );
        assert_ne!(host.base_url(), stack.widget.base_url(), "host and widget share an origin");
        browser.client.goto(&page).await?;
        let pill = |name: &'static str| {
            let browser = &browser;
            async move { browser.attr("#host-status", name).await.unwrap_or_default() }
        };
        wait_until("the host to hear live/excellent", Duration::from_secs(15), || async {
            pill("data-state").await == "live" && pill("data-status").await == "excellent"
        })
        .await?;

        // The widget asks for a fresh token in time; the host sends one.
        wait_until("a token refresh", Duration::from_secs(30), || async {
            browser.attr("#refreshes", "data-refreshes").await.as_deref() == Some("1")
        })
        .await?;

        browser.client.enter_frame(0).await?;
        browser.wait_for("state", "live", Duration::from_secs(10)).await?;
        let samples_after_swap = browser.samples().await;
        assert!(samples_after_swap >= 5, "history was not kept across the token swap ({samples_after_swap})");
        browser.client.enter_parent_frame().await?;

        let messages = script(&browser, "return window.lshMessages;").await?;
        let kinds: Vec<&str> = messages
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["type"].as_str()).collect())
            .unwrap_or_default();
        for kind in ["lsh:ready", "lsh:status", "lsh:token-expiring", "lsh:resize"] {
            assert!(kinds.contains(&kind), "no {kind} among {kinds:?}");
        }
        assert_eq!(kinds.iter().filter(|k| **k == "lsh:ready").count(), 1);
        let all = messages.to_string();
        assert!(!all.contains("eyJ"), "a token leaked into a message: {all}");
        let status = messages
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["type"] == "lsh:status"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(status["status"], "excellent", "{status}");
        assert!(status["deviationMs"].is_i64() && status["sessionAvgMs"].is_i64(), "{status}");
        assert!(status["updatedAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{status}");
        // Who is watching rides along (the stand-in's steady audience).
        let (viewers, views) = (status["viewers"].as_u64(), status["views"].as_u64());
        assert!(viewers.is_some_and(|v| v > 0) && views >= viewers, "{status}");

        // The host sized the iframe to the widget's content.
        let height: f64 = browser
            .attr("#health", "data-height")
            .await
            .and_then(|h| h.parse().ok())
            .unwrap_or(0.0);
        assert!(height > 60.0 && height < 2000.0, "resize height {height}");

        // lsh:config changes layout and theme at run time.
        script(
            &browser,
            "const f = document.getElementById('health');\
             f.contentWindow.postMessage({type: 'lsh:config', layout: 'full', theme: 'dark'}, new URL(f.src).origin);\
             return true;",
        )
        .await?;
        browser.client.enter_frame(0).await?;
        browser.wait_for("layout", "full", Duration::from_secs(5)).await?;
        browser.wait_for("theme", "dark", Duration::from_secs(5)).await?;
        browser.client.enter_parent_frame().await?;

        // lsh:config turns the viewer counts off: the figures go, and the
        // host hears a status without them.
        script(
            &browser,
            "const f = document.getElementById('health');\
             f.contentWindow.postMessage({type: 'lsh:config', viewers: 'off'}, new URL(f.src).origin);\
             return true;",
        )
        .await?;
        wait_until("a status without viewers", Duration::from_secs(5), || async {
            script(
                &browser,
                "const s = window.lshMessages.filter(m => m.type === 'lsh:status').pop();\
                 return s.viewers === null && s.views === null;",
            )
            .await
            .is_ok_and(|v| v == json!(true))
        })
        .await?;
        browser.client.enter_frame(0).await?;
        assert_eq!(browser.attr("[data-metric=\"viewers\"]", "class").await, None);
        browser.client.enter_parent_frame().await?;
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_another_origin_are_ignored() -> TestResult {
    let stack = Stack::start("origin")?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(3600))?;
    let browser = Browser::start().await?;
    let result = async {
        // The widget expects its host at another origin; this page's own
        // messages (and anyone else's) must change nothing.
        let link = format!(
            "{}#origin={}&endpoint={}",
            stack.widget.base_url(),
            percent_encode("https://panel.example.com"),
            percent_encode(&stack.standin().base_url())
        );
        browser.client.goto(&link).await?;
        browser.wait_for("state", "waiting-token", Duration::from_secs(10)).await?;
        browser
            .client
            .execute(
                "window.__errors = [];\
                 window.addEventListener('error', e => window.__errors.push(String(e.message)));\
                 window.postMessage({type: 'lsh:token', token: arguments[0]}, '*');\
                 window.postMessage('{\"type\":\"lsh:token\",\"token\":\"' + arguments[0] + '\"}', '*');\
                 window.postMessage({type: 'lsh:config', layout: 'compact'}, '*');\
                 window.postMessage(null, '*'); window.postMessage(42, '*');",
                vec![json!(token)],
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(browser.state().await, "waiting-token");
        assert_eq!(browser.attr(".lsh", "data-layout").await.as_deref(), Some("full"));
        let errors = script(&browser, "return window.__errors;").await?;
        assert_eq!(errors, json!([]), "messages made the page throw");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_a_reload_and_the_event_log_downloads_as_csv() -> TestResult {
    let stack = Stack::start("reload")?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        // A stream that goes excellent, poor, good, then stays good.
        let endpoint = format!(
            "{}/s/reload-{}/excellent,excellent,poor,poor,good",
            scripted.base_url(),
            std::process::id()
        );
        let token = stack.token("stream-reload", Duration::from_secs(3600))?;
        let link = format!(
            "{}#token={token}&endpoint={}&interval=1",
            stack.widget.base_url(),
            percent_encode(&endpoint)
        );
        browser.client.goto(&link).await?;
        browser.wait_for("status", "good", Duration::from_secs(15)).await?;
        wait_until("six samples", Duration::from_secs(10), || async { browser.samples().await >= 6 }).await?;

        // The CSV: capture the blob the download link is made from.
        let csv = browser
            .client
            .execute_async(
                "const done = arguments[0];\
                 const original = URL.createObjectURL;\
                 URL.createObjectURL = (blob) => { blob.text().then(done); return original(blob); };\
                 document.querySelector('[data-download-csv]').click();",
                vec![],
            )
            .await?;
        let csv = csv.as_str().unwrap_or_default().to_string();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some("time_utc,from,to,deviation_ms,session_avg_ms,viewers"),
            "{csv}"
        );
        // The viewers counted at each change (the test server's 94), or
        // empty before the first count.
        assert!(
            lines[1..].iter().all(|l| l.ends_with(",94") || l.ends_with(",384,")),
            "{csv}"
        );
        assert!(lines.get(1).is_some_and(|l| l.contains(",excellent,poor,-1500,384")), "{csv}");
        assert!(lines.get(2).is_some_and(|l| l.contains(",poor,good,800,384")), "{csv}");
        assert_eq!(lines.len(), 3, "{csv}");
        let listed = browser.client.find_all(Locator::Css("[data-events] li")).await?.len();
        assert_eq!(listed, 2);

        let before = browser.samples().await;
        browser.client.refresh().await?;
        // At the first answer after the reload, the old samples are back: a
        // fresh widget would hold one or two.
        browser.wait_for("state", "live", Duration::from_secs(10)).await?;
        let after = browser.samples().await;
        assert!(after >= before, "{after} samples after the reload, {before} before");
        let keys = script(&browser, "return Object.keys(sessionStorage);").await?;
        assert_eq!(
            keys,
            json!(["live-stream-health:v1:history:stream-reload"]),
            "storage is namespaced by app and stream"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_title_alert_leads_with_the_status_word() -> TestResult {
    let stack = Stack::start("title")?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        let endpoint = format!(
            "{}/s/title-{}/excellent,excellent,poor",
            scripted.base_url(),
            std::process::id()
        );
        let token = stack.token("stream-title", Duration::from_secs(3600))?;
        let link = format!(
            "{}#token={token}&endpoint={}&interval=1&alerts=title",
            stack.widget.base_url(),
            percent_encode(&endpoint)
        );
        browser.client.goto(&link).await?;
        browser
            .wait_for("status", "excellent", Duration::from_secs(10))
            .await?;
        assert!(browser
            .client
            .title()
            .await?
            .starts_with("Excellent \u{b7} "));
        browser
            .wait_for("status", "poor", Duration::from_secs(10))
            .await?;
        wait_until("the title to say poor", Duration::from_secs(3), || async {
            browser
                .client
                .title()
                .await
                .is_ok_and(|t| t.starts_with("Poor \u{b7} "))
        })
        .await?;
        let icon = script(
            &browser,
            "const l = document.querySelector('link[rel=icon]'); return l && l.href;",
        )
        .await?;
        assert!(
            icon.as_str()
                .is_some_and(|h| h.starts_with("data:image/svg+xml")),
            "{icon}"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compact_layout_fits_300_by_120_without_clipping() -> TestResult {
    let stack = Stack::start("compact")?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(3600))?;
    let browser = Browser::start().await?;
    let result = async {
        let link = format!(
            "{}#token={token}&endpoint={}&interval=1&layout=compact",
            stack.widget.base_url(),
            percent_encode(&stack.standin().base_url())
        );
        let _dock = support::open_in_dock(&browser, &link).await?;
        browser.wait_for("state", "live", Duration::from_secs(10)).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let parts = support::assert_fits_the_dock(
            &browser,
            &[".lsh-badge", "[data-word]", "[data-metric=\"deviation\"]", "svg[data-chart]"],
        )
        .await?;
        for (selector, part) in parts.as_object().cloned().unwrap_or_default() {
            assert_eq!(part["clipped"], json!(false), "{selector} is clipped: {part}");
        }
        // The label the compact layout shows is the one screen readers read.
        let labels = script(
            &browser,
            "const m = document.querySelector('[data-metric=\"deviation\"]');\
             return [...m.querySelectorAll('.lsh-metric-label')]\
               .filter(e => e.getClientRects().length > 0)\
               .map(e => ({text: e.textContent.trim(), hidden: !!e.closest('[aria-hidden=\"true\"]')}));",
        )
        .await?;
        assert_eq!(
            labels,
            json!([{ "text": "Deviation", "hidden": false }]),
            "the shown label is not exposed to screen readers"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// A stream that has been falling behind for three minutes, with its
/// viewer counts in and its link in its last hour: the warning keeps to
/// one line and the sparkline keeps its room in a 300×120 dock (the viewer
/// figures and the expiry countdown wait for a taller one).
/// The three minutes come from the history the widget itself stored in
/// `sessionStorage`, written before the stream's token arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_falling_behind_warning_leaves_the_compact_dock_its_sparkline() -> TestResult {
    let stack = Stack::start("compact-warning")?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(3600))?;
    let endpoint = percent_encode(&stack.standin().base_url());
    // The stream's session average now: the stored history climbs to just
    // under it, so the first live sample continues the climb.
    let health = format!(
        "{}/live-stream-health?token={token}",
        stack.standin().base_url()
    );
    let body: Value = tokio::task::spawn_blocking(move || -> Result<Value, String> {
        let mut response = ureq::get(&health).call().map_err(|e| e.to_string())?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    })
    .await??;
    let now_avg = body["data"][0]["ingest_health"]["stream_drift_session_avg"]
        .as_f64()
        .ok_or("no session average")?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as f64;
    let mut history = History::new(60);
    for step in 0..=60 {
        let age_ms = 180_000.0 - f64::from(step) * 3_000.0;
        history.push(Sample {
            received_ms: now_ms - age_ms,
            updated_at_ms: Some((now_ms - age_ms) as i64),
            // 400 ms a minute, twice the warning's threshold.
            session_avg_ms: Some(now_avg - 100.0 - age_ms / 60_000.0 * 400.0),
            deviation_ms: Some(120.0),
            status: Status::Excellent,
        });
    }
    let browser = Browser::start().await?;
    let result = async {
        // Without a token first: nothing is polled or stored yet.
        let waiting = format!(
            "{}#endpoint={endpoint}&interval=1&layout=compact",
            stack.widget.base_url()
        );
        let _dock = support::open_in_dock(&browser, &waiting).await?;
        browser.wait_for("state", "waiting-token", Duration::from_secs(10)).await?;
        browser
            .client
            .execute(
                "sessionStorage.setItem(arguments[0], arguments[1]);\
                 location.hash = arguments[2];",
                vec![
                    json!(storage::history_key(&stream)),
                    json!(storage::encode(&history)),
                    json!(format!("token={token}&endpoint={endpoint}&interval=1&layout=compact")),
                ],
            )
            .await?;
        browser.wait_for("state", "live", Duration::from_secs(10)).await?;
        wait_until("the warning and the viewer counts", Duration::from_secs(20), || async {
            script(
                &browser,
                "return !!document.querySelector('[data-drift-warning]')\
                   && !!document.querySelector('[data-metric=\"viewers\"][data-value]');",
            )
            .await
            .is_ok_and(|shown| shown == json!(true))
        })
        .await?;
        let parts = support::assert_fits_the_dock(
            &browser,
            &[".lsh-badge", "[data-metric=\"deviation\"]", "[data-drift-warning]", "svg[data-chart]"],
        )
        .await?;
        let spark = &parts["svg[data-chart]"];
        let spark_height = spark["b"].as_f64().unwrap_or(0.0) - spark["t"].as_f64().unwrap_or(0.0);
        assert!(spark_height >= 16.0, "the sparkline is squeezed: {parts}");
        let warning = &parts["[data-drift-warning]"];
        let warning_height =
            warning["b"].as_f64().unwrap_or(0.0) - warning["t"].as_f64().unwrap_or(0.0);
        assert!(warning_height < 24.0, "the warning takes more than a line: {parts}");
        let viewers_shown = script(
            &browser,
            "return document.querySelector('[data-metric=\"viewers\"]').getClientRects().length > 0;",
        )
        .await?;
        assert_eq!(viewers_shown, json!(false), "viewer figures shown at 120 px");
        let expiry_shown = script(
            &browser,
            "const e = document.querySelector('[data-expiry]');\
             return !!e && e.getClientRects().length > 0;",
        )
        .await?;
        assert_eq!(expiry_shown, json!(false), "expiry countdown shown at 120 px");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// The scripted test server's request count for a run.
async fn requests_made(server: &testserver::TestServer, run: &str) -> Result<u64, Error> {
    let url = format!("{}/s/{run}/x/stats", server.base_url());
    let body = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let mut response = ureq::get(&url).call().map_err(|e| e.to_string())?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())
    })
    .await??;
    let stats: Value = serde_json::from_str(&body)?;
    stats["requests"]
        .as_u64()
        .ok_or_else(|| format!("no request count in {stats}").into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_host_tokens_makes_at_most_one_request_a_second() -> TestResult {
    let stack = Stack::start("flood")?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        let run = format!("flood-{}", std::process::id());
        let endpoint = format!("{}/s/{run}/excellent", scripted.base_url());
        // The page is its own host: messages it posts to itself come from
        // the configured origin. A minute's interval keeps polling out of
        // the counts: every request here comes from a token change.
        let widget = stack.widget.base_url();
        let origin = widget.trim_end_matches('/');
        let link = format!(
            "{widget}#origin={}&endpoint={}&interval=60",
            percent_encode(origin),
            percent_encode(&endpoint)
        );
        let token = stack.token("stream-flood", Duration::from_secs(3600))?;
        browser.client.goto(&link).await?;
        browser.wait_for("state", "waiting-token", Duration::from_secs(10)).await?;
        let flood = "const [token, count, last] = arguments;\
                     for (let i = 0; i < count; i++) {\
                       window.postMessage({type: 'lsh:token', token: token + i.toString(36)}, location.origin);\
                     }\
                     if (last) window.postMessage({type: 'lsh:token', token: last}, location.origin);\
                     return true;";

        // 2,000 different tokens for the stream, as fast as a page can post.
        browser.client.execute(flood, vec![json!(token), json!(2000), Value::Null]).await?;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let after_flood = requests_made(&scripted, &run).await?;
        println!("2,000 different lsh:token messages: {after_flood} requests in 4 s");
        assert!(after_flood <= 3, "{after_flood} requests after 2,000 token messages");
        assert!(after_flood >= 1, "no request after the tokens");
        assert_eq!(browser.state().await, "live");

        // The token in use, 2,000 times over: no cancel, no request.
        let last = format!("{token}{}", radix36(1999));
        browser
            .client
            .execute(
                "for (let i = 0; i < 2000; i++) window.postMessage({type: 'lsh:token', token: arguments[0]}, location.origin);\
                 return true;",
                vec![json!(last)],
            )
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after_repeats = requests_made(&scripted, &run).await?;
        println!("2,000 repeats of the token in use: {} requests", after_repeats - after_flood);
        assert_eq!(after_repeats, after_flood, "the token in use, sent again, made requests");
        assert_eq!(browser.state().await, "live");

        // The last token wins: a flood ending with a token that cannot be
        // read leaves the widget rejecting it, after one request at most.
        browser
            .client
            .execute(flood, vec![json!(token), json!(300), json!("not-a-token")])
            .await?;
        browser.wait_for("state", "token-rejected", Duration::from_secs(4)).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(browser.state().await, "token-rejected");
        let after_last = requests_made(&scripted, &run).await?;
        assert!(
            after_last - after_repeats <= 1,
            "{} requests for a flood ending with a bad token",
            after_last - after_repeats
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// `n` in base 36, as JavaScript's `n.toString(36)` writes it.
fn radix36(mut n: u32) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A server on another origin that counts every connection made to it:
/// whatever reaches it got past the page's policy.
struct Recorder {
    addr: SocketAddr,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Result<Recorder, Error> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, log) = (Arc::clone(&connections), Arc::clone(&seen));
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut head = vec![0u8; 2048];
                    let read = socket.read(&mut head).await.unwrap_or(0);
                    let line = String::from_utf8_lossy(&head[..read]);
                    if let (Ok(mut log), Some(first)) = (log.lock(), line.lines().next()) {
                        log.push(first.to_string());
                    }
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        Ok(Recorder {
            addr,
            connections,
            seen,
            task,
        })
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_policy_blocks_every_channel_to_another_origin() -> TestResult {
    let stack = Stack::start("csp")?;
    let recorder = Recorder::start().await?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(3600))?;
    let browser = Browser::start().await?;
    let result = async {
        browser.client.goto(&stack.link(&token)).await?;
        browser.wait_for("state", "live", Duration::from_secs(10)).await?;
        // Script in the page tries every way out it has, one at a time.
        browser
            .client
            .execute(
                "window.__seen = [];\
                 document.addEventListener('securitypolicyviolation', e => window.__seen.push(e.effectiveDirective));",
                vec![],
            )
            .await?;
        let attempt = "const [channel, url, ws] = arguments;\
            const add = (tag, props, parent) => { const e = document.createElement(tag); Object.assign(e, props); (parent || document.head).append(e); return e; };\
            const attempts = {\
              script: () => add('script', {src: url + 'script'}),\
              stylesheet: () => add('link', {rel: 'stylesheet', href: url + 'stylesheet'}),\
              prefetch: () => add('link', {rel: 'prefetch', href: url + 'prefetch'}),\
              font: () => new FontFace('probe', 'url(' + url + 'font)').load(),\
              audio: () => new Audio(url + 'audio').play(),\
              iframe: () => add('iframe', {src: url + 'iframe'}, document.body),\
              img: () => { new Image().src = url + 'img'; },\
              fetch: () => fetch(url + 'fetch'),\
              xhr: () => { const x = new XMLHttpRequest(); x.open('GET', url + 'xhr'); x.send(); },\
              websocket: () => new WebSocket(ws),\
              form: () => add('form', {action: url + 'form', method: 'post'}, document.body).submit(),\
              base: () => add('base', {href: url}),\
            };\
            try { const p = attempts[channel](); if (p && p.catch) p.catch(() => {}); } catch (_) {}\
            return true;";
        let url = format!("http://{}/", recorder.addr);
        let ws = format!("ws://{}/", recorder.addr);
        let mut leaks = Vec::new();
        for channel in [
            "script", "stylesheet", "prefetch", "font", "audio", "iframe", "img", "fetch", "xhr",
            "websocket", "form", "base",
        ] {
            let before = recorder.connections();
            browser.client.execute(attempt, vec![json!(channel), json!(url), json!(ws)]).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            if recorder.connections() != before {
                leaks.push(channel);
            }
        }
        let seen = script(&browser, "return window.__seen;").await?;
        let directives: Vec<&str> =
            seen.as_array().map(|s| s.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let reached = recorder.seen.lock().map(|s| s.clone()).unwrap_or_default();
        println!(
            "violations: {directives:?}; channels that connected: {leaks:?}; requests: {reached:?}"
        );
        assert!(reached.is_empty(), "requests reached another origin: {reached:?}");
        // Chromium opens a connection for a frame's navigation before it
        // checks frame-src, and then sends nothing on it: no byte of the
        // page leaves. Every other channel must not even connect.
        let connected: Vec<&str> = leaks.into_iter().filter(|c| *c != "iframe").collect();
        assert!(connected.is_empty(), "{connected:?} connected to another origin");
        for directive in [
            "script-src-elem",
            "style-src-elem",
            "font-src",
            "media-src",
            "frame-src",
            "img-src",
            "connect-src",
            "form-action",
            "base-uri",
        ] {
            assert!(directives.contains(&directive), "no {directive} violation among {directives:?}");
        }
        // The widget itself goes on.
        assert_eq!(browser.state().await, "live");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_needs_nothing_its_policy_refuses() -> TestResult {
    let stack = Stack::start("csp-clean")?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let driver = support::Chromedriver::start().await?;
    let mut problems = Vec::new();
    for layout in ["full", "compact"] {
        let session = driver.session(&[]).await?;
        let result = async {
            // Installed before any script of the page runs.
            session
                .cdp(
                    "Page.addScriptToEvaluateOnNewDocument",
                    json!({ "source": "window.__violations = [];\
                        document.addEventListener('securitypolicyviolation',\
                          e => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));" }),
                )
                .await?;
            let run = format!("csp-{layout}-{}", std::process::id());
            let endpoint = format!("{}/s/{run}/excellent,excellent,poor", scripted.base_url());
            let token = stack.token("stream-csp", Duration::from_secs(3600))?;
            let link = format!(
                "{}#token={token}&endpoint={}&interval=1&layout={layout}&alerts=title,sound,notify",
                stack.widget.base_url(),
                percent_encode(&endpoint)
            );
            session.client.goto(&link).await?;
            // A gesture, so the sound alert may play; then a status change
            // raises every alert (title, favicon, tone, notification).
            if let Ok(body) = session.client.find(Locator::Css("body")).await {
                let _ = body.click().await;
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let status = session
                    .client
                    .execute("const e = document.querySelector('.lsh'); return e && e.dataset.status;", vec![])
                    .await?;
                if status == json!("poor") {
                    break;
                }
                if Instant::now() > deadline {
                    return Err::<Value, Error>(format!("{layout}: never poor ({status})").into());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(session.client.execute("return window.__violations;", vec![]).await?)
        }
        .await;
        session.close().await;
        let violations = result?;
        println!("{layout}: violations {violations}");
        if violations != json!([]) {
            problems.push(format!("{layout}: {violations}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}
