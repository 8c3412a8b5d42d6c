//! End to end, the `<live-stream-health>` element (`src/embed/embed.js`,
//! served with the built widget): the example host page
//! `tests/host/element.html`, on a third origin, embeds the widget with the
//! element only. Its attributes reach the widget (endpoint, layout, theme,
//! interval), its events carry the widget's messages without the token, a
//! token swap by property keeps the frame and its history, messages from
//! another frame or another origin change nothing, and removing the element
//! leaves no frame and no message listener. Real servers on 127.0.0.1: the
//! stand-in, the widget's static server, the host page's static server, a
//! token backend, and the scripted test server (exact statuses and the
//! arrival time of every request).

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use live_stream_health::core::params::percent_encode;
use live_stream_health::server::statics;
use live_stream_health::server::testserver;
use serde_json::{json, Value};
use support::{Browser, Engine, Stack, TestResult, TokenBackend};

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

/// Runs `code` in the host page with `el` bound to the element `selector`
/// and `frame` to the iframe in its shadow root (or null).
async fn on_element(browser: &Browser, selector: &str, code: &str) -> Result<Value, Error> {
    on_element_with(browser, selector, code, vec![]).await
}

/// [`on_element`] with `arguments` for the script.
async fn on_element_with(
    browser: &Browser,
    selector: &str,
    code: &str,
    arguments: Vec<Value>,
) -> Result<Value, Error> {
    let code = format!(
        "const el = document.querySelector({selector:?});\
         const frame = el && el.shadowRoot && el.shadowRoot.querySelector('iframe');\
         {code}"
    );
    Ok(browser.client.execute(&code, arguments).await?)
}

/// A property of the element `selector` (`status`, `state`, ...).
async fn property(browser: &Browser, selector: &str, name: &str) -> Value {
    on_element(
        browser,
        selector,
        &format!("return el ? el[{name:?}] : 'no element';"),
    )
    .await
    .unwrap_or(Value::Null)
}

/// Switches into the widget's frame inside the element's shadow root.
async fn enter_widget(browser: &Browser, selector: &str) -> TestResult {
    let element = browser.client.find(Locator::Css(selector)).await?;
    let frame = element
        .shadow_root()
        .await?
        .find(Locator::Css("iframe"))
        .await?;
    frame.enter_frame().await?;
    Ok(())
}

/// The host page's event log (`window.lshEvents`) of one type.
async fn events(browser: &Browser, kind: &str) -> Vec<Value> {
    let all = browser
        .client
        .execute("return window.lshEvents || [];", vec![])
        .await
        .unwrap_or(Value::Null);
    all.as_array()
        .map(|all| all.iter().filter(|e| e["type"] == kind).cloned().collect())
        .unwrap_or_default()
}

/// Arrival times (ms) of the widget's requests to one scripted run.
fn arrivals(stats_url: &str) -> Result<Vec<f64>, Error> {
    let text = ureq::get(stats_url).call()?.body_mut().read_to_string()?;
    let body: Value = serde_json::from_str(&text)?;
    Ok(body["arrivals_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default())
}

/// The number of `message` listeners on the host page's window, from the
/// DevTools protocol (`DOMDebugger.getEventListeners`), in Chromium.
async fn window_message_listeners(browser: &Browser) -> Result<Option<usize>, Error> {
    if browser.engine != Engine::Chromium {
        return Ok(None);
    }
    let window = browser
        .cdp("Runtime.evaluate", json!({ "expression": "window" }))
        .await?;
    let id = window["result"]["objectId"]
        .as_str()
        .ok_or("no object id for window")?
        .to_owned();
    let listeners = browser
        .cdp("DOMDebugger.getEventListeners", json!({ "objectId": id }))
        .await?;
    Ok(Some(
        listeners["listeners"]
            .as_array()
            .map(|l| l.iter().filter(|l| l["type"] == "message").count())
            .unwrap_or(0),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_element_carries_attributes_events_and_token_swaps() -> TestResult {
    let stack = Stack::start("element")?;
    // Tokens live 5 min 12 s: the widget asks for a fresh one
    // (tokenexpiring, five minutes before expiry) after about 12 s.
    let backend = TokenBackend::start(
        stack.key_pem.clone(),
        stack.key_id.clone(),
        Duration::from_secs(5 * 60 + 12),
    )
    .await?;
    let host = statics::spawn(&host_dir(), SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let stream = stack.stream("steady")?;
    let browser = Browser::start().await?;
    let result = async {
        let page = format!(
            "{}element.html?widget={}&endpoint={}&backend={}&stream={stream}&interval=1",
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
        wait_until("the host to hear live/excellent", Duration::from_secs(20), || async {
            pill("data-state").await == "live" && pill("data-status").await == "excellent"
        })
        .await?;
        assert_eq!(property(&browser, "#health", "status").await, "excellent");
        assert_eq!(property(&browser, "#health", "state").await, "live");

        // The frame: the page's origin, the attributes, no token anywhere
        // the page can read (it was set as a property).
        let frame = on_element(
            &browser,
            "#health",
            "window.__firstFrame = frame;\
             return { src: frame.src, title: frame.title, referrer: frame.referrerPolicy,\
                      height: frame.getBoundingClientRect().height, frames: el.shadowRoot.querySelectorAll('iframe').length,\
                      token: el.token, tokenAttr: el.getAttribute('token') };",
        )
        .await?;
        let src = frame["src"].as_str().unwrap_or_default();
        let fragment = src.split_once('#').map(|(_, f)| f).unwrap_or_default();
        for part in [
            format!("origin={}", percent_encode(host.base_url().trim_end_matches('/'))),
            "layout=compact".into(),
            "interval=1".into(),
            format!("endpoint={}", percent_encode(&stack.standin().base_url())),
        ] {
            assert!(fragment.contains(&part), "{part} not in the fragment of {src}");
        }
        assert!(!src.contains("token") && !src.contains("eyJ"), "a token in the frame's URL: {src}");
        assert!(src.starts_with(&stack.widget.base_url()), "{src}");
        assert_eq!(frame["frames"], 1);
        assert_eq!(frame["referrer"], "no-referrer");
        assert!(frame["title"].as_str().is_some_and(|t| !t.is_empty()), "{frame}");
        assert_eq!(frame["token"], Value::Null, "a token set as a property reads back: {frame}");
        assert_eq!(frame["tokenAttr"], Value::Null);
        // The compact layout fills its frame (150 px until told otherwise);
        // the full layout below is taller, and the frame follows it.
        assert_eq!(frame["height"], 150.0, "{frame}");
        // The events: one ready, statuses with their fields, never a token.
        assert_eq!(events(&browser, "ready").await.len(), 1);
        let statuses = events(&browser, "statuschange").await;
        let last = statuses.last().cloned().unwrap_or_default();
        assert_eq!(last["detail"]["status"], "excellent", "{last}");
        assert_eq!(last["detail"]["state"], "live", "{last}");
        assert!(last["detail"]["deviationMs"].is_i64(), "{last}");
        assert!(last["detail"]["updatedAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{last}");

        enter_widget(&browser, "#health").await?;
        browser.wait_for("layout", "compact", Duration::from_secs(5)).await?;
        wait_until("five samples", Duration::from_secs(15), || async { browser.samples().await >= 5 }).await?;
        browser.client.enter_parent_frame().await?;

        // tokenexpiring: the page sets a fresh token as a property.
        wait_until("a token refresh", Duration::from_secs(30), || async {
            browser.attr("#refreshes", "data-refreshes").await.as_deref() == Some("1")
        })
        .await?;
        let expiring = events(&browser, "tokenexpiring").await;
        assert!(
            expiring.first().is_some_and(|e| e["detail"]["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z'))),
            "{expiring:?}"
        );

        // A swap by property, as the page does, now with a token that lives
        // an hour (so no more refreshes disturb the pace measured below):
        // same frame, history kept, still live.
        enter_widget(&browser, "#health").await?;
        let before = browser.samples().await;
        browser.client.enter_parent_frame().await?;
        let long_lived = stack.token(&stream, Duration::from_secs(3600))?;
        browser
            .client
            .execute("document.querySelector('#health').token = arguments[0];", vec![json!(long_lived)])
            .await?;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        enter_widget(&browser, "#health").await?;
        browser.wait_for("state", "live", Duration::from_secs(5)).await?;
        let after = browser.samples().await;
        assert!(after > before, "history did not go on across the token swap: {before} then {after}");
        browser.client.enter_parent_frame().await?;
        let same = on_element(&browser, "#health", "return frame === window.__firstFrame;").await?;
        assert_eq!(same, true, "a token swap reloaded the frame");
        assert_eq!(events(&browser, "ready").await.len(), 1, "a token swap reloaded the widget");
        let all = browser.client.execute("return JSON.stringify(window.lshEvents);", vec![]).await?;
        assert!(!all.to_string().contains("eyJ"), "a token leaked into an event: {all}");

        // layout and theme change at run time, in the same frame.
        on_element(&browser, "#health", "el.layout = 'full'; el.setAttribute('theme', 'dark'); return 1;").await?;
        enter_widget(&browser, "#health").await?;
        browser.wait_for("layout", "full", Duration::from_secs(5)).await?;
        browser.wait_for("theme", "dark", Duration::from_secs(5)).await?;
        browser.client.enter_parent_frame().await?;
        let same = on_element(&browser, "#health", "return frame === window.__firstFrame;").await?;
        assert_eq!(same, true, "a layout or theme change reloaded the frame");
        // lsh:resize: the element grows to the full layout's content...
        let frame_height = || async {
            on_element(&browser, "#health", "return frame.getBoundingClientRect().height;")
                .await
                .ok()
                .and_then(|h| h.as_f64())
                .unwrap_or(0.0)
        };
        wait_until("the frame to follow the full layout", Duration::from_secs(5), || async {
            let height = frame_height().await;
            height > 250.0 && height < 3000.0
        })
        .await?;
        // ...unless the page's stylesheet gives the element a height.
        on_element(
            &browser,
            "#health",
            "const dock = document.createElement('style'); dock.id = 'dock';\
             dock.textContent = '#health { height: 120px }'; document.head.append(dock); return 1;",
        )
        .await?;
        wait_until("the page's height to win", Duration::from_secs(5), || async {
            frame_height().await == 120.0
        })
        .await?;
        on_element(&browser, "#health", "document.getElementById('dock').remove(); return 1;").await?;
        wait_until("the content height again", Duration::from_secs(5), || async {
            frame_height().await > 250.0
        })
        .await?;
        // Back to the default by removing the attribute.
        on_element(&browser, "#health", "el.removeAttribute('layout'); return 1;").await?;
        enter_widget(&browser, "#health").await?;
        browser.wait_for("layout", "full", Duration::from_secs(5)).await?;
        browser.client.enter_parent_frame().await?;
        on_element(&browser, "#health", "el.layout = 'compact'; return 1;").await?;
        enter_widget(&browser, "#health").await?;
        browser.wait_for("layout", "compact", Duration::from_secs(5)).await?;
        browser.client.enter_parent_frame().await?;

        // Another endpoint reloads the frame; the token set as a property
        // follows into the new frame (posted, not in its URL).
        let run = format!("element-{}", std::process::id());
        let endpoint = format!("{}/s/{run}/poor", scripted.base_url());
        let stats = format!("{}/s/{run}/poor/stats", scripted.base_url());
        on_element(&browser, "#health", &format!("el.endpoint = {endpoint:?}; return 1;")).await?;
        wait_until("the host to hear poor", Duration::from_secs(15), || async {
            pill("data-status").await == "poor"
        })
        .await?;
        assert_eq!(property(&browser, "#health", "status").await, "poor");
        assert_eq!(events(&browser, "ready").await.len(), 2, "the endpoint did not reload the frame");
        let src = on_element(&browser, "#health", "return frame.src;").await?;
        assert!(!src.to_string().contains("token"), "{src}");

        // interval=1, then 3 by lsh:config: the scripted server sees the
        // requests' pace change.
        wait_until("four requests", Duration::from_secs(10), || async {
            arrivals(&stats).is_ok_and(|a| a.len() >= 4)
        })
        .await?;
        on_element(&browser, "#health", "el.interval = '3'; return 1;").await?;
        // The request already scheduled goes out at the old pace.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let from = arrivals(&stats)?.len();
        tokio::time::sleep(Duration::from_millis(7500)).await;
        let all = arrivals(&stats)?;
        let gaps = |a: &[f64]| a.windows(2).map(|w| w[1] - w[0]).collect::<Vec<f64>>();
        let early = gaps(&all[..from.min(4)]);
        let late = gaps(&all[from.saturating_sub(1)..]);
        assert!(early.iter().all(|g| *g < 2000.0), "interval=1 gaps {early:?}");
        assert!(!late.is_empty() && late.iter().all(|g| *g > 2500.0), "interval=3 gaps {late:?}");
        let same = on_element(&browser, "#health", "return el.shadowRoot.querySelectorAll('iframe').length;").await?;
        assert_eq!(same, 1);
        assert_eq!(events(&browser, "ready").await.len(), 2, "an interval change reloaded the frame");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_element_hears_only_its_own_frame_and_cleans_up_when_removed() -> TestResult {
    let stack = Stack::start("element-own")?;
    let host = statics::spawn(&host_dir(), SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let scripted = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(3600))?;
    let browser = Browser::start().await?;
    let result = async {
        // The example page without a token backend: its element waits.
        let page = format!(
            "{}element.html?widget={}&endpoint={}&interval=1",
            host.base_url(),
            percent_encode(&stack.widget.base_url()),
            percent_encode(&stack.standin().base_url()),
        );
        browser.client.goto(&page).await?;
        wait_until("the element's frame", Duration::from_secs(10), || async {
            on_element(&browser, "#health", "return !!frame;").await.is_ok_and(|v| v == true)
        })
        .await?;
        if let Some(count) = window_message_listeners(&browser).await? {
            assert_eq!(count, 1, "one element, one window listener");
        }

        // Removed: no frame, no listener, no status.
        let gone = on_element(
            &browser,
            "#health",
            "el.remove();\
             return { frames: el.shadowRoot.querySelectorAll('iframe').length, status: el.status };",
        )
        .await?;
        assert_eq!(gone, json!({ "frames": 0, "status": null }));
        if let Some(count) = window_message_listeners(&browser).await? {
            assert_eq!(count, 0, "the removed element left its window listener");
        }

        // From here every message listener on the window is counted, and
        // the script is included a second time (harmless).
        let setup = browser
            .client
            .execute(
                "window.__errors = [];\
                 window.addEventListener('error', e => window.__errors.push(String(e.message)));\
                 const listeners = window.__listeners = new Set();\
                 const add = window.addEventListener, remove = window.removeEventListener;\
                 window.addEventListener = function (type, f, o) {\
                   if (type === 'message') listeners.add(f); return add.call(this, type, f, o); };\
                 window.removeEventListener = function (type, f, o) {\
                   if (type === 'message') listeners.delete(f); return remove.call(this, type, f, o); };\
                 const defined = customElements.get('live-stream-health');\
                 const again = document.createElement('script');\
                 again.src = document.querySelector('script[src$=\"embed.js\"]').src;\
                 again.onload = () => { window.__again = customElements.get('live-stream-health') === defined; };\
                 document.head.append(again);\
                 const probe = document.createElement('live-stream-health');\
                 probe.id = 'probe';\
                 probe.setAttribute('endpoint', arguments[1]);\
                 probe.setAttribute('interval', '1');\
                 probe.setAttribute('token', arguments[0]);\
                 window.__statuses = [];\
                 probe.addEventListener('statuschange', e => window.__statuses.push(e.detail.status));\
                 document.querySelector('aside').append(probe);\
                 return listeners.size;",
                vec![json!(token), json!(stack.standin().base_url())],
            )
            .await?;
        assert_eq!(setup, 1, "one element, one listener");
        wait_until("the probe to be excellent", Duration::from_secs(15), || async {
            property(&browser, "#probe", "status").await == "excellent"
        })
        .await?;
        // A token attribute rides in the fragment, never the query string.
        let src = on_element(&browser, "#probe", "return frame.src;").await?;
        let src = src.as_str().unwrap_or_default();
        let (address, fragment) = src.split_once('#').unwrap_or((src, ""));
        assert!(fragment.contains(&format!("token={token}")), "{src}");
        assert!(!address.contains("token"), "{src}");
        assert_eq!(browser.client.execute("return window.__again;", vec![]).await?, true);

        // Another frame of the widget's origin (a real widget watching a
        // poor stream, talking to this page) and this page itself post
        // lsh:status; the element hears neither.
        let foreign = format!(
            "{}#token={token}&endpoint={}&interval=1&origin={}",
            stack.widget.base_url(),
            percent_encode(&format!("{}/s/foreign-{}/poor", scripted.base_url(), std::process::id())),
            percent_encode(host.base_url().trim_end_matches('/')),
        );
        browser
            .client
            .execute(
                "const f = document.createElement('iframe');\
                 f.id = 'foreign'; f.src = arguments[0];\
                 document.querySelector('aside').append(f);\
                 window.postMessage({ type: 'lsh:status', v: 1, status: 'poor', state: 'live' }, '*');\
                 window.postMessage({ type: 'lsh:ready', v: 1 }, '*');",
                vec![json!(foreign)],
            )
            .await?;
        browser.client.find(Locator::Css("#foreign")).await?.enter_frame().await?;
        browser.wait_for("status", "poor", Duration::from_secs(15)).await?;
        browser.client.enter_parent_frame().await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(property(&browser, "#probe", "status").await, "excellent");
        let statuses = browser.client.execute("return window.__statuses;", vec![]).await?;
        assert!(!statuses.to_string().contains("poor"), "the element heard another frame: {statuses}");

        // Removed: no frame, no listener; added again: a fresh frame that
        // reports again; removed again: nothing left.
        let removed = on_element(
            &browser,
            "#probe",
            "window.__probe = el; el.remove();\
             return { frames: el.shadowRoot.querySelectorAll('iframe').length,\
                      listeners: window.__listeners.size, status: el.status };",
        )
        .await?;
        assert_eq!(removed, json!({ "frames": 0, "listeners": 0, "status": null }));
        let added = browser
            .client
            .execute(
                "document.querySelector('aside').append(window.__probe);\
                 return { frames: window.__probe.shadowRoot.querySelectorAll('iframe').length,\
                          listeners: window.__listeners.size };",
                vec![],
            )
            .await?;
        assert_eq!(added, json!({ "frames": 1, "listeners": 1 }));
        wait_until("the re-added probe to report", Duration::from_secs(15), || async {
            property(&browser, "#probe", "status").await == "excellent"
        })
        .await?;
        // A token the service refuses (a stream it does not know): the
        // token attribute is handed over without a reload, and the refusal
        // comes out as tokenrejected with the HTTP status.
        let unknown = stack.token("no-such-stream", Duration::from_secs(3600))?;
        on_element_with(
            &browser,
            "#probe",
            "window.__rejected = [];\
             el.addEventListener('tokenrejected', e => window.__rejected.push(e.detail));\
             el.setAttribute('token', arguments[0]); return 1;",
            vec![json!(unknown)],
        )
        .await?;
        wait_until("tokenrejected", Duration::from_secs(10), || async {
            browser
                .client
                .execute("return window.__rejected.length;", vec![])
                .await
                .is_ok_and(|n| n == 1)
        })
        .await?;
        let rejected = browser.client.execute("return window.__rejected;", vec![]).await?;
        assert_eq!(rejected, json!([{ "httpStatus": 404 }]));
        assert_eq!(property(&browser, "#probe", "state").await, "token-rejected");

        let removed = on_element(
            &browser,
            "#probe",
            "el.remove(); document.querySelector('#foreign').remove();\
             return { frames: el.shadowRoot.querySelectorAll('iframe').length,\
                      listeners: window.__listeners.size };",
        )
        .await?;
        assert_eq!(removed, json!({ "frames": 0, "listeners": 0 }));

        // Properties set before the element was upgraded (as frameworks
        // do): an element made in a document without the definition takes
        // them over when it joins this one.
        let early = browser
            .client
            .execute(
                "const early = document.implementation.createHTMLDocument('')\
                   .createElement('live-stream-health');\
                 early.id = 'early'; early.token = arguments[0];\
                 early.endpoint = arguments[1]; early.interval = '1';\
                 const own = Object.keys(early).sort().join();\
                 document.querySelector('aside').append(early);\
                 return { own, after: Object.keys(early).join(), token: early.token,\
                          endpoint: early.getAttribute('endpoint') };",
                vec![json!(token), json!(stack.standin().base_url())],
            )
            .await?;
        assert!(early["token"].is_null(), "a token set as a property reads back");
        assert_eq!(early["own"], "endpoint,interval,token");
        assert_eq!(early["after"], "", "properties not taken over on upgrade");
        assert_eq!(early["endpoint"], stack.standin().base_url().as_str());
        wait_until("the early element to be excellent", Duration::from_secs(15), || async {
            property(&browser, "#early", "status").await == "excellent"
        })
        .await?;
        let src = on_element(&browser, "#early", "const src = frame.src; el.remove(); return src;").await?;
        assert!(!src.to_string().contains("token"), "a property token in the URL: {src}");
        let listeners = browser.client.execute("return window.__listeners.size;", vec![]).await?;
        assert_eq!(listeners, 0);
        let errors = browser.client.execute("return window.__errors;", vec![]).await?;
        assert_eq!(errors, json!([]), "the page threw");
        if let Some(count) = window_message_listeners(&browser).await? {
            assert_eq!(count, 0, "listeners left after removal");
        }
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}
