//! End to end, shared polling across tabs: several tabs of one browser
//! showing the same stream make the requests of one tab, and when the
//! polling tab closes another takes over without a longer gap.
//!
//! The built widget runs in headless Chromium (one profile, so the tabs
//! share Web Locks and BroadcastChannel, as a streamer's browser does),
//! against the scripted test server on 127.0.0.1, which counts requests and
//! records when each arrived. Tabs poll once a second (`interval=1`).
//!
//! What it measures and asserts:
//! - requests per minute with 1, 3 and 10 tabs open, each over a window of
//!   `LSH_SHARE_WINDOW_S` seconds (10 by default; the benchmark run uses
//!   60): every count must stay what one tab makes (within one request per
//!   ten seconds of scheduling slack);
//! - every tab shows the stream live, exactly one says `data-poller="leader"`
//!   and the others `follower`;
//! - hand-over: the leading tab is closed, three times over; the longest gap
//!   between two requests reaching the server around each close must stay
//!   within one interval plus 500 ms (a request's own latency and timer
//!   slack on two shared cores), and a new leader must be shown.
//!
//! - navigation: the polling tab goes to another site (into the
//!   back/forward cache, frozen but not closed); the other tab must take
//!   over within the same bound, and the page coming back must follow
//!   (one tab's requests, one leader).
//!
//! Tab counts can be changed with `LSH_SHARE_TABS` (e.g. `1,3,10`).

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use live_stream_health::core::params::percent_encode;
use live_stream_health::server::testserver;
use live_stream_health::server::token;
use serde_json::Value;
use support::{Browser, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

const INTERVAL_MS: u64 = 1000;
/// Latency and timer slack allowed on top of one interval for a hand-over.
const HANDOVER_SLACK_MS: u64 = 500;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn tab_counts() -> Vec<usize> {
    std::env::var("LSH_SHARE_TABS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 3, 10])
}

/// The test server's counters for a run.
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

fn arrivals(stats: &Value) -> Vec<u64> {
    stats["arrivals_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// What each open tab shows: (state, status, poller role).
async fn survey(
    browser: &Browser,
    tabs: &[WindowHandle],
) -> Result<Vec<(String, String, String)>, Error> {
    let mut seen = Vec::new();
    for tab in tabs {
        browser.client.switch_to_window(tab.clone()).await?;
        seen.push((
            browser.state().await,
            browser.status().await,
            browser
                .attr("[data-poller]", "data-poller")
                .await
                .unwrap_or_default(),
        ));
    }
    Ok(seen)
}

/// Waits until every tab is live and exactly one leads; returns its index.
async fn settled(browser: &Browser, tabs: &[WindowHandle]) -> Result<usize, Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = survey(browser, tabs).await?;
        let leaders: Vec<usize> = seen
            .iter()
            .enumerate()
            .filter(|(_, (_, _, role))| role == "leader")
            .map(|(i, _)| i)
            .collect();
        let all_live = seen
            .iter()
            .all(|(state, status, _)| state == "live" && status == "excellent");
        let rest_follow = seen
            .iter()
            .filter(|(_, _, role)| role != "leader")
            .all(|(_, _, role)| role == "follower");
        if all_live && rest_follow && leaders.len() == 1 {
            return Ok(leaders[0]);
        }
        if Instant::now() > deadline {
            return Err(format!("tabs did not settle on one leader: {seen:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_of_one_stream_share_one_poller() -> TestResult {
    let window_s = env_number("LSH_SHARE_WINDOW_S", 10).max(2);
    let stack = Stack::start("share")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let token = stack.token("stream-share", Duration::from_secs(3600))?;
    let run = format!("share-{}", std::process::id());
    let endpoint = format!("{}/s/{run}/excellent", server.base_url());
    let link = format!(
        "{}#token={token}&endpoint={}&interval=1",
        stack.widget.base_url(),
        percent_encode(&endpoint)
    );
    let browser = Browser::start().await?;
    let outcome = measure(&browser, server.addr(), &run, &link, window_s).await;
    browser.close().await;
    outcome
}

async fn measure(
    browser: &Browser,
    addr: SocketAddr,
    run: &str,
    link: &str,
    window_s: u64,
) -> TestResult {
    let mut tabs = vec![browser.client.window().await?];
    browser.client.goto(link).await?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for count in tab_counts() {
        while tabs.len() < count {
            let tab = browser.client.new_window(true).await?.handle;
            browser.client.switch_to_window(tab.clone()).await?;
            browser.client.goto(link).await?;
            tabs.push(tab);
        }
        settled(browser, &tabs).await?;
        let before = stats(addr, run).await?["requests"].as_u64().unwrap_or(0);
        tokio::time::sleep(Duration::from_secs(window_s)).await;
        let after = stats(addr, run).await?["requests"].as_u64().unwrap_or(0);
        let made = after - before;
        let per_minute = made as f64 * 60.0 / window_s as f64;
        settled(browser, &tabs).await?;
        rows.push(format!(
            "| {count} | {made} in {window_s} s | {per_minute:.1} |"
        ));
        // One tab polling once a second makes one request per second,
        // give or take one per ten seconds of timer and request slack.
        let expected = window_s as f64 * 1000.0 / INTERVAL_MS as f64;
        let slack = (window_s as f64 / 10.0).ceil() + 1.0;
        if (made as f64 - expected).abs() > slack {
            problems.push(format!(
                "{count} tabs made {made} requests in {window_s} s, one tab makes {expected}"
            ));
        }
    }

    // Hand-over: close the leading tab, three times.
    let mut gaps = Vec::new();
    for _ in 0..3 {
        if tabs.len() < 2 {
            break;
        }
        let leader = settled(browser, &tabs).await?;
        let before = arrivals(&stats(addr, run).await?);
        browser
            .client
            .switch_to_window(tabs[leader].clone())
            .await?;
        browser.client.close_window().await?;
        tabs.remove(leader);
        browser.client.switch_to_window(tabs[0].clone()).await?;
        tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
        settled(browser, &tabs).await?;
        let after = arrivals(&stats(addr, run).await?);
        // From the last request the old leader made to the new leader's
        // second: the gap the close could have widened.
        let from = before.len().saturating_sub(1);
        let gap = after
            .get(from..)
            .unwrap_or_default()
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(u64::MAX);
        gaps.push(gap);
        if gap > INTERVAL_MS + HANDOVER_SLACK_MS {
            problems.push(format!(
                "hand-over to {} tabs left a {gap} ms gap between requests",
                tabs.len()
            ));
        }
    }

    println!("\n| tabs open | requests | per minute |\n|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
    let stats = stats(addr, run).await?;
    let mut steady: Vec<u64> = arrivals(&stats).windows(2).map(|w| w[1] - w[0]).collect();
    steady.sort_unstable();
    let median = steady.get(steady.len() / 2).copied().unwrap_or(0);
    println!(
        "gap between requests (interval {INTERVAL_MS} ms): median {median} ms over the run; \
         at each hand-over {gaps:?} ms"
    );
    if stats["max_in_flight"].as_u64() != Some(1) {
        problems.push(format!("more than one request in flight: {stats}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// The polling tab navigates to another site: the page goes into the
/// back/forward cache, where it is frozen but not closed. Another tab must
/// take over within the hand-over bound, and the page coming back (history
/// back) must rejoin the group as a follower: requests stay one tab's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_tab_that_navigates_away_hands_over_and_rejoins() -> TestResult {
    let stack = Stack::start("share-nav")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let token = stack.token("stream-share-nav", Duration::from_secs(3600))?;
    let run = format!("share-nav-{}", std::process::id());
    let endpoint = format!("{}/s/{run}/excellent", server.base_url());
    let link = format!(
        "{}#token={token}&endpoint={}&interval=1",
        stack.widget.base_url(),
        percent_encode(&endpoint)
    );
    // Another origin: the test server's own health page.
    let elsewhere = format!("{}/health", server.base_url());
    let browser = Browser::start().await?;
    let outcome = async {
        let mut tabs = vec![browser.client.window().await?];
        browser.client.goto(&link).await?;
        let tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(tab.clone()).await?;
        browser.client.goto(&link).await?;
        tabs.push(tab);
        let leader = settled(&browser, &tabs).await?;
        let follower = 1 - leader;

        browser
            .client
            .switch_to_window(tabs[leader].clone())
            .await?;
        browser
            .client
            .execute(
                "window.__restored = false;\
                 addEventListener('pageshow', e => { window.__restored = e.persisted; });",
                vec![],
            )
            .await?;
        let before = arrivals(&stats(server.addr(), &run).await?);
        browser.client.goto(&elsewhere).await?;
        browser
            .client
            .switch_to_window(tabs[follower].clone())
            .await?;
        tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
        let role = browser
            .attr("[data-poller]", "data-poller")
            .await
            .unwrap_or_default();
        let state = browser.state().await;
        let after = arrivals(&stats(server.addr(), &run).await?);
        let from = before.len().saturating_sub(1);
        let gap = after
            .get(from..)
            .unwrap_or_default()
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(u64::MAX);
        println!(
            "hand-over on navigation: {gap} ms gap; the other tab is {role}, {state}; \
             {} requests since",
            after.len() - from
        );
        assert_eq!(role, "leader", "the other tab did not take over");
        assert_eq!(state, "live");
        assert!(
            gap <= INTERVAL_MS + HANDOVER_SLACK_MS,
            "navigating away left a {gap} ms gap between requests"
        );

        // Back: the page returns from the back/forward cache and follows.
        browser
            .client
            .switch_to_window(tabs[leader].clone())
            .await?;
        browser.client.back().await?;
        let restored = browser
            .client
            .execute("return window.__restored;", vec![])
            .await?;
        println!("page restored from the back/forward cache: {restored}");
        settled(&browser, &tabs).await?;
        let window_s = 5;
        let before = stats(server.addr(), &run).await?["requests"]
            .as_u64()
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_secs(window_s)).await;
        let after = stats(server.addr(), &run).await?["requests"]
            .as_u64()
            .unwrap_or(0);
        let made = after - before;
        let seen = survey(&browser, &tabs).await?;
        println!("after coming back: {made} requests in {window_s} s; tabs {seen:?}");
        assert!(
            made <= window_s + 1,
            "{made} requests in {window_s} s with the page back: two tabs poll"
        );
        let leaders = seen.iter().filter(|(_, _, role)| role == "leader").count();
        assert_eq!(leaders, 1, "{seen:?}");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    outcome
}

/// A follower proves its own token with the real stand-in: a forged token
/// (the stream's, with a signature of nobody's key) is rejected and never
/// shows a sample from the leader; a token whose signing key is deleted
/// is rejected within one proof period (`proof=3`, the loopback test aid)
/// while the leader, whose key stays, goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_proves_its_own_token() -> TestResult {
    let stack = Stack::start("share-proof")?;
    let stream = stack.stream("steady")?;
    let valid = stack.token(&stream, Duration::from_secs(3600))?;
    let link = |token: &str| format!("{}&proof=3", stack.link(token));
    let browser = Browser::start().await?;
    let outcome = async {
        let mut tabs = vec![browser.client.window().await?];
        browser.client.goto(&link(&valid)).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;

        // A forged token for the same stream: the same header and claims,
        // another signature.
        let cut = valid.rfind('.').ok_or("a token without a signature")?;
        let forged = format!("{}.{}", &valid[..cut], "A".repeat(valid.len() - cut - 1));
        let tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(tab.clone()).await?;
        browser.client.goto(&link(&forged)).await?;
        tabs.push(tab);
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(10))
            .await?;
        // The leader's results go on arriving; none may show here.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let forged_samples = browser.samples().await;
        let forged_state = browser.state().await;
        println!("forged follower: {forged_state}, {forged_samples} samples");
        assert_eq!(forged_state, "token-rejected");
        assert_eq!(
            forged_samples, 0,
            "a forged token showed the leader's samples"
        );
        browser.client.close_window().await?;
        tabs.pop();
        browser.client.switch_to_window(tabs[0].clone()).await?;

        // A follower whose link is replaced, in its own address bar, by
        // one with the forged token: it must prove that token before it
        // shows anything more.
        let tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(tab.clone()).await?;
        browser.client.goto(&link(&valid)).await?;
        tabs.push(tab);
        settled(&browser, &tabs).await?;
        browser.client.switch_to_window(tabs[1].clone()).await?;
        let forged_link = link(&forged);
        let fragment = forged_link
            .split_once('#')
            .map(|(_, f)| f)
            .unwrap_or_default();
        let before = browser
            .client
            .execute(
                "const n = document.querySelector('svg[data-chart=\"history\"]').dataset.samples;\
                 location.hash = arguments[0]; return Number(n);",
                vec![serde_json::json!(fragment)],
            )
            .await?
            .as_u64()
            .unwrap_or(0);
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(5))
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = browser.samples().await;
        println!("follower switched to a forged token: {before} samples before, {after} after");
        assert_eq!(
            after, before,
            "the forged token showed the leader's samples"
        );
        assert_eq!(browser.state().await, "token-rejected");
        browser.client.close_window().await?;
        tabs.pop();
        browser.client.switch_to_window(tabs[0].clone()).await?;

        // A token of a second signing key, which is then deleted.
        let key = stack.standin().create_signing_key("development")?;
        let doomed = token::mint(
            &key.private_key_pem,
            &key.id,
            &stream,
            Duration::from_secs(3600),
        )?;
        let tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(tab.clone()).await?;
        browser.client.goto(&link(&doomed)).await?;
        tabs.push(tab);
        settled(&browser, &tabs).await?;
        browser.client.switch_to_window(tabs[1].clone()).await?;
        let role = browser
            .attr("[data-poller]", "data-poller")
            .await
            .unwrap_or_default();
        assert_eq!(role, "follower");
        let status = stack.api("DELETE", &format!("/system/v1/signing-keys/{}", key.id))?;
        assert!(
            (200..300).contains(&status),
            "deleting the key answered {status}"
        );
        let deleted = Instant::now();
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(3 + 3))
            .await?;
        println!(
            "follower rejected {} ms after its key was deleted",
            deleted.elapsed().as_millis()
        );
        browser.client.switch_to_window(tabs[0].clone()).await?;
        assert_eq!(
            browser.state().await,
            "live",
            "the leader's own token is still good"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    outcome
}
