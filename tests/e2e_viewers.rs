//! End to end, viewer counts beside health: the built widget (`dist/`) in
//! headless Chromium against the stand-in (a simulated stream's audience)
//! and the scripted test server (counts that fail while health is fine).
//! Black box: the URL contract in, the DOM contract and the servers'
//! request counters out.
//!
//! The counts poll faster than Mux would allow (`viewers=1`, seconds),
//! which the widget accepts for a loopback endpoint only.
//!
//! Needs chromedriver on PATH and the bundle in `dist/` (or `LSH_DIST`):
//! `cargo test --features e2e --test e2e_viewers`.

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use live_stream_health::core::params::percent_encode;
use live_stream_health::server::testserver;
use serde_json::Value;
use support::{Browser, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

/// The test server's counters for a run: health's at the top level, the
/// counts' under `counts`.
async fn stats(addr: SocketAddr, run: &str) -> Result<Value, Error> {
    let url = format!("http://{addr}/s/{run}/x/stats");
    let body = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let mut response = ureq::get(&url).call().map_err(|e| e.to_string())?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())
    })
    .await??;
    Ok(serde_json::from_str(&body)?)
}

fn requests(stats: &Value) -> (u64, u64) {
    (
        stats["requests"].as_u64().unwrap_or(0),
        stats["counts"]["requests"].as_u64().unwrap_or(0),
    )
}

/// A monitor link to the test server's script `steps` of `run`.
fn scripted_link(stack: &Stack, server: SocketAddr, run: &str, steps: &str, extra: &str) -> String {
    let token = stack
        .token("stream-viewers", Duration::from_secs(3600))
        .unwrap_or_default();
    let endpoint = format!("http://{server}/s/{run}/{steps}");
    format!(
        "{}#token={token}&endpoint={}&interval=1{extra}",
        stack.widget.base_url(),
        percent_encode(&endpoint)
    )
}

/// `data-value` of a metric, as a number.
async fn metric(browser: &Browser, name: &str) -> Option<u64> {
    browser
        .attr(&format!("[data-metric=\"{name}\"]"), "data-value")
        .await
        .and_then(|v| v.parse().ok())
}

/// Waits until `check` holds, polling every 100 ms.
async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {within:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_stream_shows_its_viewers_views_and_peak() -> TestResult {
    let stack = Stack::start("viewers")?;
    let browser = Browser::start().await?;
    let result = async {
        let stream = stack.stream("steady")?;
        let link = stack.link(&stack.token(&stream, Duration::from_secs(3600))?);
        browser.client.goto(&format!("{link}&viewers=1")).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        // The audience ramps up on the stand-in's scaled clock.
        eventually("viewers counted", Duration::from_secs(15), || async {
            metric(&browser, "viewers").await.is_some_and(|v| v > 0)
        })
        .await?;
        let viewers = metric(&browser, "viewers").await.unwrap_or(0);
        let views = metric(&browser, "views").await.unwrap_or(0);
        assert!(views >= viewers, "{views} views for {viewers} viewers");
        let text = browser
            .text("[data-metric=\"viewers\"] .lsh-metric-value")
            .await;
        assert!(
            text.chars().all(|c| c.is_ascii_digit() || c == ','),
            "{text:?}"
        );
        assert_eq!(browser.text("[data-viewers-note]").await, "");
        // The peak of the window, in the summary.
        eventually("a peak", Duration::from_secs(5), || async {
            browser
                .attr("[data-peak-viewers]", "data-peak-viewers")
                .await
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|peak| peak >= viewers)
        })
        .await?;
        assert!(browser
            .text("[data-peak-viewers]")
            .await
            .starts_with("Peak "));
        // Both layouts show them (a fresh load: a link that differs only in
        // its fragment would not reload the page).
        browser.client.goto("about:blank").await?;
        browser
            .client
            .goto(&format!("{link}&viewers=1&layout=compact"))
            .await?;
        browser
            .wait_for("layout", "compact", Duration::from_secs(10))
            .await?;
        eventually(
            "viewers shown in compact",
            Duration::from_secs(15),
            || async {
                let shown = browser
                    .client
                    .execute(
                        "const e = document.querySelector('[data-metric=\"viewers\"]');\
                     return !!e && e.getClientRects().length > 0 && Number(e.dataset.value) > 0;",
                        vec![],
                    )
                    .await;
                shown.is_ok_and(|v| v == serde_json::json!(true))
            },
        )
        .await?;
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_counts_leave_health_alone() -> TestResult {
    let stack = Stack::start("viewers-faults")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        // (counts steps, the note's words, whether counts stop)
        let cases = [
            ("e500", "HTTP 500", false),
            ("html", "unreadable reply", false),
            ("e403", "HTTP 403", true),
            ("e401", "HTTP 401", true),
        ];
        for (index, (steps, words, stops)) in cases.into_iter().enumerate() {
            let run = format!("viewers-faults-{}-{index}", std::process::id());
            let link = scripted_link(
                &stack,
                server.addr(),
                &run,
                &format!("excellent~{steps}"),
                "&viewers=0.2",
            );
            browser.client.goto(&link).await?;
            eventually(
                &format!("{steps}: a note"),
                Duration::from_secs(10),
                || async { browser.text("[data-viewers-note]").await.contains(words) },
            )
            .await?;
            assert_eq!(metric(&browser, "viewers").await, None, "{steps}");
            assert!(
                browser
                    .attr("[data-metric=\"viewers\"]", "class")
                    .await
                    .is_none(),
                "{steps}: figures still shown"
            );
            assert_eq!(browser.state().await, "live", "{steps}");
            assert_eq!(browser.status().await, "excellent", "{steps}");
            let (health_before, counts_before) = requests(&stats(server.addr(), &run).await?);
            tokio::time::sleep(Duration::from_secs(3)).await;
            let (health_after, counts_after) = requests(&stats(server.addr(), &run).await?);
            assert!(
                health_after >= health_before + 2,
                "{steps}: health polling slowed: {health_before} → {health_after}"
            );
            assert_eq!(browser.state().await, "live", "{steps}");
            if stops {
                assert_eq!(counts_before, 1, "{steps}: one refused request");
                assert_eq!(counts_after, 1, "{steps}: counts kept polling");
            } else {
                assert!(counts_after > counts_before, "{steps}: counts gave up");
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_off_makes_no_counts_request() -> TestResult {
    let stack = Stack::start("viewers-off")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        let run = format!("viewers-off-{}", std::process::id());
        let link = scripted_link(&stack, server.addr(), &run, "excellent", "&viewers=off");
        browser.client.goto(&link).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (health, counts) = requests(&stats(server.addr(), &run).await?);
        assert!(health >= 3, "health polled {health} times");
        assert_eq!(counts, 0, "viewers=off made counts requests");
        assert!(browser
            .attr("[data-metric=\"viewers\"]", "class")
            .await
            .is_none());
        assert!(browser.attr("[data-viewers-note]", "class").await.is_none());
        assert!(browser.attr("[data-peak-viewers]", "class").await.is_none());
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_of_one_stream_share_one_set_of_counts_requests() -> TestResult {
    let stack = Stack::start("viewers-share")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let browser = Browser::start().await?;
    let result = async {
        let run = format!("viewers-share-{}", std::process::id());
        let link = scripted_link(&stack, server.addr(), &run, "excellent", "&viewers=1");
        let first = browser.client.window().await?;
        browser.client.goto(&link).await?;
        let second = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(second.clone()).await?;
        browser.client.goto(&link).await?;
        for tab in [&first, &second] {
            browser.client.switch_to_window(tab.clone()).await?;
            eventually("viewers in every tab", Duration::from_secs(10), || async {
                metric(&browser, "viewers").await == Some(94)
            })
            .await?;
        }
        // Health's first request left before the first counts request.
        let stats_now = stats(server.addr(), &run).await?;
        let first_health = stats_now["arrivals_ms"][0].as_u64().unwrap_or(u64::MAX);
        let first_counts = stats_now["counts"]["arrivals_ms"][0].as_u64().unwrap_or(0);
        assert!(
            first_health <= first_counts,
            "counts went first: {first_counts} ms before health's {first_health} ms"
        );
        // One tab polling counts every second makes about one a second.
        let window_s = 6;
        let (_, before) = requests(&stats(server.addr(), &run).await?);
        tokio::time::sleep(Duration::from_secs(window_s)).await;
        let (_, after) = requests(&stats(server.addr(), &run).await?);
        let made = after - before;
        assert!(
            made <= window_s + 2,
            "two tabs made {made} counts requests in {window_s} s; one tab makes {window_s}"
        );
        assert!(
            made >= window_s - 2,
            "counts polling stalled: {made} in {window_s} s"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}
