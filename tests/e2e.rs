//! End to end: the built widget (`dist/`, from `trunk build --release`) in
//! headless Chromium, served from one port, polling the real stand-in on
//! another (so CORS is real), with real RS256 tokens. Black box: the tests
//! drive the URL contract and read the DOM contract (`data-*` attributes).
//!
//! Needs chromedriver on PATH and the bundle in `dist/` (or `LSH_DIST`);
//! `tests/run-all.sh` provides both and runs `cargo test --features e2e --test e2e`.

#![cfg(feature = "e2e")]

mod support;

use std::time::{Duration, Instant};

use live_stream_health::server::standin::{self, Config};
use live_stream_health::server::token;
use serde_json::json;
use support::{Browser, Stack, TestResult, TIME_SCALE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_reaches_its_colour() -> TestResult {
    let stack = Stack::start("scenarios")?;
    let browser = Browser::start().await?;
    let result = async {
        // steady: excellent, and it stays there.
        stack.open_scenario(&browser, "steady").await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        browser
            .wait_for("status", "excellent", Duration::from_secs(10))
            .await?;
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(browser.status().await, "excellent", "steady left excellent");
        }
        assert!(browser
            .attr("[data-metric=\"deviation\"]", "data-value")
            .await
            .is_some());

        // jittery: good.
        stack.open_scenario(&browser, "jittery").await?;
        browser
            .wait_for("status", "good", Duration::from_secs(20))
            .await?;

        // congested: excellent first, then drifts into poor.
        stack.open_scenario(&browser, "congested").await?;
        browser
            .wait_for("status", "excellent", Duration::from_secs(10))
            .await?;
        browser
            .wait_for("status", "poor", Duration::from_secs(20))
            .await?;

        // recovering: poor, then back to excellent.
        stack.open_scenario(&browser, "recovering").await?;
        browser
            .wait_for("status", "poor", Duration::from_secs(15))
            .await?;
        browser
            .wait_for("status", "excellent", Duration::from_secs(25))
            .await?;

        // flapping: leaves excellent and comes back, more than once.
        stack.open_scenario(&browser, "flapping").await?;
        let mut changes = 0;
        let mut last = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while changes < 3 && Instant::now() < deadline {
            let status = browser.status().await;
            if status != last && !status.is_empty() {
                changes += 1;
                last = status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(changes >= 3, "flapping changed status only {changes} times");

        // disconnect: unknown once the encoder has been gone 3 minutes.
        stack.open_scenario(&browser, "disconnect").await?;
        browser
            .wait_for("status", "excellent", Duration::from_secs(10))
            .await?;
        browser
            .wait_for("status", "unknown", Duration::from_secs(25))
            .await?;
        assert_eq!(browser.state().await, "live");
        assert_eq!(
            browser
                .attr("[data-metric=\"deviation\"]", "data-value")
                .await,
            None
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_and_expired_tokens_show_their_states() -> TestResult {
    let stack = Stack::start("tokens")?;
    let browser = Browser::start().await?;
    let result = async {
        let stream = stack.stream("steady")?;

        // A signature that does not match: one character of it changed.
        let good = stack.token(&stream, Duration::from_secs(3600))?;
        let (signed, signature) = good.rsplit_once('.').ok_or("token without signature")?;
        let mut forged: Vec<char> = signature.chars().collect();
        let middle = forged.len() / 2;
        forged[middle] = if forged[middle] == 'A' { 'B' } else { 'A' };
        let forged = format!("{signed}.{}", forged.into_iter().collect::<String>());
        browser.client.goto(&stack.link(&forged)).await?;
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(10))
            .await?;
        assert!(browser.text("[data-message]").await.contains("HTTP 401"));

        // The right key, the wrong audience.
        let header = jsonwebtoken::Header {
            kid: Some(stack.key_id.clone()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256)
        };
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            + 3600;
        let claims = json!({ "sub": stream, "aud": "video_id", "exp": exp, "kid": stack.key_id });
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(stack.key_pem.as_bytes())?;
        let wrong_aud = jsonwebtoken::encode(&header, &claims, &key)?;
        browser.client.goto(&stack.link(&wrong_aud)).await?;
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(10))
            .await?;
        assert!(browser.text("[data-message]").await.contains("HTTP 403"));

        // A key deleted after the token was minted.
        let doomed = stack.standin().create_signing_key("development")?;
        let orphan = token::mint(
            &doomed.private_key_pem,
            &doomed.id,
            &stream,
            Duration::from_secs(3600),
        )?;
        browser.client.goto(&stack.link(&orphan)).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        assert_eq!(
            stack.api("DELETE", &format!("/system/v1/signing-keys/{}", doomed.id))?,
            204
        );
        browser
            .wait_for("state", "token-rejected", Duration::from_secs(10))
            .await?;
        assert!(browser.text("[data-message]").await.contains("HTTP 401"));

        // A short-lived token: live, the countdown, then expired.
        let short = stack.token(&stream, Duration::from_secs(6))?;
        browser.client.goto(&stack.link(&short)).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        assert!(browser.text("[data-expiry]").await.contains("expires in"));
        browser
            .wait_for("state", "token-expired", Duration::from_secs(12))
            .await?;
        assert!(browser
            .text("[data-message]")
            .await
            .contains("This monitor link has expired"));
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_stand_in_is_survived_with_history_and_a_gap() -> TestResult {
    let mut stack = Stack::start("restart")?;
    let browser = Browser::start().await?;
    let result = async {
        let stream = stack.stream("steady")?;
        let link = stack.link(&stack.token(&stream, Duration::from_secs(3600))?);
        browser.client.goto(&link).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser.samples().await < 3 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let before = browser.samples().await;
        assert!(before >= 3, "only {before} samples before the restart");

        let addr = stack.standin().addr();
        if let Some(running) = stack.standin.take() {
            running.shutdown()?;
        }
        browser
            .wait_for("state", "retrying", Duration::from_secs(10))
            .await?;
        assert_eq!(
            browser.attr(".lsh", "data-stale").await.as_deref(),
            Some("true")
        );
        assert_eq!(
            browser.status().await,
            "excellent",
            "last values stay on screen"
        );

        let mut config = Config::new(&stack.data_dir);
        config.listen = addr;
        config.time_scale = TIME_SCALE;
        stack.standin = Some(standin::spawn(config)?);
        // Backoff after two or three failures is at most 8 s.
        browser
            .wait_for("state", "live", Duration::from_secs(20))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while browser.samples().await <= before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            browser.samples().await > before,
            "history was lost or stopped growing"
        );
        // A stream's first answers may have no data yet (a "no-data" gap);
        // the outage must be there as well.
        assert_eq!(
            browser
                .attr("[data-gap=\"outage\"]", "data-gap")
                .await
                .as_deref(),
            Some("outage"),
            "the outage is drawn as a gap"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_requests_and_preflights_work_from_the_widget_page() -> TestResult {
    let stack = Stack::start("cors")?;
    let browser = Browser::start().await?;
    let result = async {
        let stream = stack.stream("steady")?;
        let token = stack.token(&stream, Duration::from_secs(3600))?;
        browser.client.goto(&stack.link(&token)).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        assert_ne!(stack.widget.base_url(), stack.standin().base_url());
        // A custom header makes the browser send a preflight first.
        let script = r#"
            const [url, done] = arguments;
            fetch(url, { headers: { "X-Monitor-Probe": "1" }, referrerPolicy: "no-referrer" })
              .then(r => r.json().then(body => done({ status: r.status, body })))
              .catch(e => done({ error: String(e) }));
        "#;
        let url = format!(
            "{}/live-stream-health?token={token}",
            stack.standin().base_url()
        );
        let answer = browser
            .client
            .execute_async(script, vec![json!(url)])
            .await?;
        assert_eq!(answer["status"], json!(200), "{answer}");
        assert!(
            answer["body"]["data"][0]["ingest_health"]["status"].is_string(),
            "{answer}"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    browser.close().await;
    result
}

/// A token shaped like a monitor token, for the test server (which does not
/// verify signatures).
fn unsigned_token(stream: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = live_stream_health::server::utc::now_unix_secs() + 3600;
    let claims = json!({ "sub": stream, "aud": "live_stream_id", "exp": exp });
    format!(
        "{}.{}.c2ln",
        engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(claims.to_string())
    )
}

/// How many requests the test server has answered for a run's script.
fn requests_answered(stats_url: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let body = ureq::get(stats_url).call()?.body_mut().read_to_string()?;
    let stats: serde_json::Value = serde_json::from_str(&body)?;
    Ok(stats["requests"].as_u64().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_request_leaves_before_the_module_arrives_and_only_once() -> TestResult {
    use live_stream_health::core::params::percent_encode;
    use live_stream_health::server::testserver;

    let stack = Stack::start("first-request")?;
    let server = testserver::spawn(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let run = format!("first-{}", std::process::id());
    let endpoint = format!("{}/s/{run}/excellent", server.base_url());
    let link = format!(
        "{}#token={}&endpoint={}&interval=60",
        stack.widget.base_url(),
        unsigned_token(&run),
        percent_encode(&endpoint)
    );
    let browser = Browser::start().await?;
    let result = async {
        browser.client.goto(&link).await?;
        browser
            .wait_for("state", "live", Duration::from_secs(10))
            .await?;
        // The page's own record of when each resource was fetched.
        let timings = browser
            .client
            .execute(
                "const all = performance.getEntriesByType('resource');\
                 const find = (s) => all.find((e) => e.name.split('?')[0].endsWith(s));\
                 const request = find('/live-stream-health'), wasm = find('.wasm');\
                 return { request: request ? request.startTime : null,\
                          wasm: wasm ? wasm.responseEnd : null,\
                          requests: all.filter((e) => e.name.includes('/live-stream-health?')).length };",
                vec![],
            )
            .await?;
        let started = timings["request"].as_f64().ok_or("no health request seen")?;
        let wasm_done = timings["wasm"].as_f64().ok_or("no .wasm seen")?;
        assert!(
            started < wasm_done,
            "the first request should leave while the module downloads: {timings}"
        );
        // Adopted, not repeated: one request reached the endpoint.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(requests_answered(&format!("{endpoint}/stats"))?, 1);
        assert_eq!(timings["requests"], json!(1), "{timings}");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    browser.close().await;
    let _ = server.shutdown();
    result
}
