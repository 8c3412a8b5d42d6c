//! The widget in headless Chromium, against a real HTTP server on 127.0.0.1.
//!
//! Run by `tests/run-all.sh`, which starts the scripted test server
//! (`live-stream-health test-server`) and passes its address at compile time
//! in `LSH_TEST_SERVER`. Each test mounts a fresh widget whose `endpoint`
//! points at a script of responses (`/s/{run}/{steps}`), waits for the DOM
//! contract to show the expected state, and unmounts it.

#![cfg(all(target_arch = "wasm32", feature = "csr"))]

use gloo_timers::future::TimeoutFuture;
use leptos::mount::mount_to;
use leptos::prelude::*;
use live_stream_health::app::{Widget, WidgetState};
use live_stream_health::core::chart_range::range_key;
use live_stream_health::core::history::{History, Sample};
use live_stream_health::core::status::Status;
use live_stream_health::core::{params, storage};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

const TEST_SERVER: &str = match option_env!("LSH_TEST_SERVER") {
    Some(address) => address,
    None => "http://127.0.0.1:47381",
};

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A token shaped like a real one; the test server does not verify it.
/// Each token names its own stream, so no test restores another's history
/// from `sessionStorage`.
fn token(stream: &str, expires_in_s: f64) -> String {
    token_of(&run_id(stream), expires_in_s)
}

/// A token for exactly `stream`, for tests that store or reload its state.
fn token_of(stream: &str, expires_in_s: f64) -> String {
    let exp = (js_sys::Date::now() / 1000.0 + expires_in_s).floor();
    let payload = format!(r#"{{"sub":"{stream}","aud":"live_stream_id","exp":{exp},"kid":"k1"}}"#);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        base64url(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
        base64url(payload.as_bytes())
    )
}

fn run_id(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e9) as u64)
}

fn endpoint(run: &str, steps: &str) -> String {
    params::percent_encode(&format!("{TEST_SERVER}/s/{run}/{steps}"))
}

struct Mounted {
    root: Element,
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

fn mount(fragment: &str) -> Mounted {
    let document = document();
    let host: HtmlElement = match document.create_element("div") {
        Ok(element) => element.unchecked_into(),
        Err(_) => panic!("cannot create a host element"),
    };
    if let Some(body) = document.body() {
        let _ = body.append_child(&host);
    }
    let (config, notices) = params::parse("", fragment);
    let handle = mount_to(host.clone(), move || {
        view! { <Widget state=WidgetState::new(config, notices) /> }.into_any()
    });
    Mounted {
        root: host.unchecked_into(),
        _handle: handle,
    }
}

impl Mounted {
    fn widget(&self) -> Element {
        self.find(".lsh")
    }
    fn find(&self, selector: &str) -> Element {
        match self.root.query_selector(selector) {
            Ok(Some(element)) => element,
            _ => panic!("no element matches {selector}"),
        }
    }
    fn exists(&self, selector: &str) -> bool {
        matches!(self.root.query_selector(selector), Ok(Some(_)))
    }
    fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.find(selector).get_attribute(name)
    }
    fn state(&self) -> String {
        self.widget()
            .get_attribute("data-state")
            .unwrap_or_default()
    }
    fn status(&self) -> String {
        self.widget()
            .get_attribute("data-status")
            .unwrap_or_default()
    }
    fn message(&self) -> String {
        if self.exists("[data-message]") {
            self.find("[data-message]")
                .text_content()
                .unwrap_or_default()
        } else {
            String::new()
        }
    }
    fn samples(&self) -> String {
        self.attr("svg[data-chart=\"history\"]", "data-samples")
            .unwrap_or_default()
    }

    /// Waits until the widget's `data-state` is `state` (at most `ms`).
    async fn wait_state(&self, state: &str, ms: u32) {
        let mut waited = 0;
        while self.state() != state {
            if waited >= ms {
                panic!(
                    "state stayed {:?}, wanted {state:?}; message: {}",
                    self.state(),
                    self.message()
                );
            }
            TimeoutFuture::new(25).await;
            waited += 25;
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

async fn server_stats(run: &str) -> serde_json::Value {
    let url = format!("{TEST_SERVER}/s/{run}/x/stats");
    match gloo_net::http::Request::get(&url).send().await {
        Ok(response) => match response.text().await {
            Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
            Err(_) => panic!("stats body unreadable"),
        },
        Err(_) => panic!("test server unreachable at {TEST_SERVER}: is it running?"),
    }
}

async fn requests(run: &str) -> u64 {
    server_stats(run).await["requests"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[wasm_bindgen_test]
async fn without_a_token_it_waits_and_says_so() {
    let widget = mount("");
    assert_eq!(widget.state(), "waiting-token");
    assert_eq!(widget.status(), "unknown");
    assert!(widget.message().contains("Waiting for a token"));
    assert_eq!(
        widget.attr("[data-metric=\"deviation\"]", "data-value"),
        None
    );
    assert_eq!(widget.samples(), "0");
}

#[wasm_bindgen_test]
async fn each_status_reaches_the_dom_contract() {
    let cases = [
        ("excellent", Some("12"), Some("384"), "12 ms"),
        ("good", Some("800"), Some("384"), "800 ms"),
        ("poor", Some("-1500"), Some("384"), "\u{2212}1.5 s"),
        ("unknown", None, None, "\u{2014}"),
    ];
    for (status, deviation, session, deviation_text) in cases {
        let run = run_id(status);
        let widget = mount(&format!(
            "token={}&endpoint={}",
            token("stream-a", 3600.0 * 5.0),
            endpoint(&run, status)
        ));
        widget.wait_state("live", 5000).await;
        assert_eq!(widget.status(), status);
        assert_eq!(
            widget
                .attr("[data-metric=\"deviation\"]", "data-value")
                .as_deref(),
            deviation
        );
        assert_eq!(
            widget
                .attr("[data-metric=\"session-avg\"]", "data-value")
                .as_deref(),
            session
        );
        let text = widget
            .find("[data-metric=\"deviation\"] .lsh-metric-value")
            .text_content();
        assert_eq!(text.as_deref(), Some(deviation_text));
        assert_eq!(
            widget
                .find("[data-word]")
                .text_content()
                .map(|t| t.to_lowercase())
                .as_deref(),
            Some(status)
        );
        assert_eq!(widget.samples(), "1");
        assert_eq!(widget.attr(".lsh", "data-stale").as_deref(), Some("false"));
    }
}

#[wasm_bindgen_test]
async fn failures_keep_the_last_values_marked_stale_then_recover() {
    let run = run_id("flaky");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("stream-b", 3600.0),
        endpoint(&run, "poor,e503,e503,good")
    ));
    widget.wait_state("live", 5000).await;
    assert_eq!(widget.status(), "poor");
    widget.wait_state("retrying", 3000).await;
    assert_eq!(widget.status(), "poor", "last good status stays on screen");
    assert_eq!(widget.attr(".lsh", "data-stale").as_deref(), Some("true"));
    assert_eq!(
        widget
            .attr("[data-metric=\"deviation\"]", "data-value")
            .as_deref(),
        Some("-1500")
    );
    assert!(
        widget.message().contains("HTTP 503"),
        "{}",
        widget.message()
    );
    assert!(widget
        .find("[data-state-text]")
        .text_content()
        .unwrap_or_default()
        .starts_with("Retrying"));
    // Two backoffs (1-2 s, then 2-4 s) and the widget is live again.
    widget.wait_state("live", 9000).await;
    assert_eq!(widget.status(), "good");
    assert_eq!(widget.attr(".lsh", "data-stale").as_deref(), Some("false"));
    assert_eq!(widget.samples(), "2");
}

#[wasm_bindgen_test]
async fn a_rejected_token_stops_polling_and_explains() {
    for (step, code) in [("e401", "401"), ("e403", "403"), ("e404", "404")] {
        let run = run_id(step);
        let widget = mount(&format!(
            "token={}&endpoint={}&interval=1",
            token("stream-c", 3600.0),
            endpoint(&run, step)
        ));
        widget.wait_state("token-rejected", 5000).await;
        assert_eq!(widget.status(), "unknown");
        assert!(
            widget.message().contains(&format!("HTTP {code}")),
            "{}",
            widget.message()
        );
        assert!(widget.message().contains("new monitor link"));
        TimeoutFuture::new(2500).await;
        assert_eq!(requests(&run).await, 1, "no polling after a rejection");
    }
}

#[wasm_bindgen_test]
async fn a_malformed_token_is_refused_before_any_request() {
    let run = run_id("malformed");
    let widget = mount(&format!(
        "token=not-a-jwt&endpoint={}",
        endpoint(&run, "excellent")
    ));
    assert_eq!(widget.state(), "token-rejected");
    assert!(
        widget.message().contains("malformed"),
        "{}",
        widget.message()
    );
    TimeoutFuture::new(500).await;
    assert_eq!(requests(&run).await, 0);
}

#[wasm_bindgen_test]
async fn an_expired_link_says_so_and_a_live_one_stops_at_exp() {
    let run = run_id("expired");
    let widget = mount(&format!(
        "token={}&endpoint={}",
        token("s", -10.0),
        endpoint(&run, "excellent")
    ));
    assert_eq!(widget.state(), "token-expired");
    assert!(widget.message().contains("expired"));
    drop(widget);

    let run = run_id("expiring");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("s", 3.0),
        endpoint(&run, "excellent")
    ));
    widget.wait_state("live", 3000).await;
    assert!(
        widget.exists("[data-expiry]"),
        "time left shows under an hour"
    );
    assert!(widget
        .find("[data-expiry]")
        .text_content()
        .unwrap_or_default()
        .contains("expires in"));
    widget.wait_state("token-expired", 5000).await;
    assert!(widget.message().contains("This monitor link has expired"));
    let after_expiry = requests(&run).await;
    TimeoutFuture::new(1500).await;
    assert_eq!(
        requests(&run).await,
        after_expiry,
        "no polling after expiry"
    );
}

#[wasm_bindgen_test]
async fn too_many_requests_waits_for_retry_after() {
    let run = run_id("slowdown");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("s", 3600.0),
        endpoint(&run, "e429ra3,excellent")
    ));
    widget.wait_state("retrying", 3000).await;
    assert!(
        widget.message().contains("slow down"),
        "{}",
        widget.message()
    );
    TimeoutFuture::new(2000).await;
    assert_eq!(requests(&run).await, 1, "still waiting for Retry-After");
    widget.wait_state("live", 3000).await;
}

#[wasm_bindgen_test]
async fn odd_bodies_have_defined_outcomes() {
    // (steps, expected state, expected status, deviation data-value)
    let cases = [
        ("strange", "live", "good", Some("700")),
        ("nostatus", "live", "poor", Some("1200")),
        ("nulls", "live", "excellent", None),
        ("strnum", "live", "excellent", None),
        ("empty", "live", "unknown", None),
        ("zoned", "live", "excellent", Some("12")),
        ("garbage-time", "live", "excellent", Some("12")),
        ("markup", "live", "excellent", Some("12")),
        ("html", "retrying", "unknown", None),
        ("trunc", "retrying", "unknown", None),
        ("notarray", "retrying", "unknown", None),
        ("huge", "retrying", "unknown", None),
    ];
    for (steps, state, status, deviation) in cases {
        let run = run_id(steps);
        let widget = mount(&format!(
            "token={}&endpoint={}",
            token("s", 3600.0),
            endpoint(&run, steps)
        ));
        widget.wait_state(state, 8000).await;
        assert_eq!(widget.status(), status, "{steps}");
        assert_eq!(
            widget
                .attr("[data-metric=\"deviation\"]", "data-value")
                .as_deref(),
            deviation,
            "{steps}"
        );
        assert!(
            !widget.exists("img"),
            "{steps}: markup from the payload became an element"
        );
    }
}

#[wasm_bindgen_test]
async fn a_repeated_updated_at_is_not_a_new_point() {
    let run = run_id("same");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("s", 3600.0),
        endpoint(&run, "excellent,same,same,same")
    ));
    widget.wait_state("live", 3000).await;
    let mut waited = 0;
    while requests(&run).await < 4 && waited < 6000 {
        TimeoutFuture::new(200).await;
        waited += 200;
    }
    assert_eq!(widget.samples(), "1");
}

#[wasm_bindgen_test]
async fn one_request_at_a_time_even_when_the_body_drips() {
    let run = run_id("drip");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("s", 3600.0),
        endpoint(&run, "drip")
    ));
    // The drip never completes within the request timeout (10 s): the widget
    // aborts it, shows retrying, and never opens a second request meanwhile.
    widget.wait_state("retrying", 13_000).await;
    assert!(
        widget.message().contains("did not answer in time"),
        "{}",
        widget.message()
    );
    let stats = server_stats(&run).await;
    assert_eq!(stats["max_in_flight"].as_u64(), Some(1), "{stats}");
}

#[wasm_bindgen_test]
async fn unmounting_stops_every_timer_and_request() {
    let run = run_id("cleanup");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token("s", 3600.0),
        endpoint(&run, "excellent")
    ));
    widget.wait_state("live", 3000).await;
    drop(widget);
    TimeoutFuture::new(300).await;
    let after = requests(&run).await;
    TimeoutFuture::new(2500).await;
    assert_eq!(
        requests(&run).await,
        after,
        "an unmounted widget kept polling"
    );
}

#[wasm_bindgen_test]
async fn invalid_parameters_show_a_notice_and_still_work() {
    let run = run_id("notice");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=banana&layout=huge",
        token("s", 3600.0),
        endpoint(&run, "good")
    ));
    widget.wait_state("live", 3000).await;
    assert!(widget.exists("[data-notice=\"interval\"]"));
    assert!(widget.exists("[data-notice=\"layout\"]"));
    assert_eq!(widget.attr(".lsh", "data-layout").as_deref(), Some("full"));
}

#[wasm_bindgen_test]
async fn without_obs_the_encoder_panel_is_off_and_hidden() {
    let run = run_id("obs-off");
    let widget = mount(&format!(
        "token={}&endpoint={}",
        token("s", 3600.0),
        endpoint(&run, "excellent")
    ));
    widget.wait_state("live", 3000).await;
    assert_eq!(
        widget.attr("[data-encoder]", "data-encoder").as_deref(),
        Some("off")
    );
    assert!(widget.attr("[data-encoder]", "hidden").is_some());
    assert!(!widget.exists("[data-metric=\"obs-bitrate\"]"));
    assert_eq!(widget.attr("[data-advice]", "data-diagnosis"), None);
}

#[wasm_bindgen_test]
async fn obs_not_reachable_reads_one_line_and_health_goes_on() {
    let run = run_id("obs-unreachable");
    // Port 9 (discard): nothing listens there on a test machine.
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1&obs=9&obspw=secret",
        token("s", 3600.0),
        endpoint(&run, "excellent")
    ));
    widget.wait_state("live", 3000).await;
    let mut waited = 0;
    while widget.attr("[data-encoder]", "data-encoder").as_deref() != Some("unreachable") {
        assert!(
            waited < 3000,
            "data-encoder stayed {:?}",
            widget.attr("[data-encoder]", "data-encoder")
        );
        TimeoutFuture::new(25).await;
        waited += 25;
    }
    assert_eq!(
        widget
            .find("[data-encoder-message]")
            .text_content()
            .as_deref(),
        Some("OBS not reachable on port 9")
    );
    assert!(widget.attr("[data-encoder]", "hidden").is_none());
    assert!(!widget.exists("[data-metric=\"obs-bitrate\"]"));
    assert_eq!(widget.attr("[data-advice]", "data-diagnosis"), None);
    assert_eq!(widget.status(), "excellent");
    assert_eq!(widget.state(), "live");
}

/// A script of `polls` answers whose status (and so every value shown)
/// changes at each answer.
fn changing_statuses(polls: usize) -> String {
    let cycle = ["excellent", "poor", "good", "poor", "good", "excellent"];
    (0..polls)
        .map(|i| cycle[i % cycle.len()])
        .collect::<Vec<_>>()
        .join(",")
}

impl Mounted {
    fn sample_count(&self) -> usize {
        self.samples().parse().unwrap_or(0)
    }

    /// Waits until `more` samples beyond `from` are held (at most `ms`).
    async fn wait_samples(&self, at_least: usize, ms: u32) {
        let mut waited = 0;
        while self.sample_count() < at_least {
            if waited >= ms {
                panic!(
                    "{} samples after {ms} ms, wanted {at_least}; message: {}",
                    self.sample_count(),
                    self.message()
                );
            }
            TimeoutFuture::new(25).await;
            waited += 25;
        }
    }

    fn html(&self, selector: &str) -> HtmlElement {
        self.find(selector).unchecked_into()
    }
}

/// The element that has keyboard focus.
fn focused() -> Option<Element> {
    document().active_element()
}

#[wasm_bindgen_test]
async fn the_event_list_stays_open_with_focus_inside_while_statuses_change() {
    let run = run_id("events");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=0.2",
        token("events", 3600.0),
        endpoint(&run, &changing_statuses(40))
    ));
    widget.wait_state("live", 5000).await;
    widget.wait_samples(2, 5000).await;
    let details: web_sys::HtmlDetailsElement = widget.find("details.lsh-events").unchecked_into();
    details.set_open(true);
    let summary = widget.html("details.lsh-events summary");
    let _ = summary.focus();
    assert_eq!(
        focused().as_ref(),
        Some(summary.as_ref()),
        "the list took focus"
    );

    let from = widget.sample_count();
    widget.wait_samples(from + 10, 10_000).await;
    assert!(details.open(), "the event list snapped shut at a poll");
    assert_eq!(
        focused().as_ref(),
        Some(summary.as_ref()),
        "keyboard focus left the event list"
    );
    let listed = widget
        .root
        .query_selector_all("[data-events] li[data-event]")
        .map(|list| list.length())
        .unwrap_or(0);
    assert!(listed >= 10, "{listed} status changes listed");
}

#[wasm_bindgen_test]
async fn focused_controls_keep_focus_across_updates() {
    let run = run_id("focus");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=0.2&alerts=notify",
        token("focus", 3600.0),
        endpoint(&run, &changing_statuses(60))
    ));
    widget.wait_state("live", 5000).await;
    widget.wait_samples(2, 5000).await;

    let mut controls = vec!["[data-download-csv]", "svg[data-chart=\"history\"]"];
    // Offered while the browser has not been asked for notifications.
    if widget.exists("[data-action=\"enable-notifications\"]") {
        controls.push("[data-action=\"enable-notifications\"]");
    } else {
        console_log!("notifications are not askable in this browser; that button is not checked");
    }
    for selector in controls {
        let control = widget.html(selector);
        let _ = control.focus();
        assert_eq!(
            focused().as_ref(),
            Some(control.as_ref()),
            "{selector} took focus"
        );
        if selector.starts_with("svg") {
            // The keyboard cursor: onto the newest sample, then one back.
            for key in ["ArrowLeft", "ArrowLeft"] {
                let init = web_sys::KeyboardEventInit::new();
                init.set_key(key);
                init.set_bubbles(true);
                if let Ok(event) =
                    web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init)
                {
                    let _ = control.dispatch_event(&event);
                }
            }
            // The cursor is drawn by the next render.
            TimeoutFuture::new(100).await;
            assert!(
                widget.exists("[data-hover]"),
                "the keyboard cursor shows a sample"
            );
        }
        let from = widget.sample_count();
        widget.wait_samples(from + 5, 10_000).await;
        let still = widget.html(selector);
        assert_eq!(still, control, "{selector} was replaced by an update");
        assert_eq!(
            focused().as_ref(),
            Some(control.as_ref()),
            "{selector} lost focus at an update"
        );
        if selector.starts_with("svg") {
            assert!(widget.exists("[data-hover]"), "the cursor left its sample");
        }
    }
}

#[wasm_bindgen_test]
async fn text_changes_replace_no_element_of_the_badge_metrics_or_summary() {
    let run = run_id("nodes");
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=0.2",
        token("nodes", 3600.0),
        endpoint(&run, &changing_statuses(40))
    ));
    widget.wait_state("live", 5000).await;
    widget.wait_samples(2, 5000).await;
    // Record, under each root, the element nodes removed and how many
    // text changes there were.
    let installed = js_sys::eval(
        "window.__lshRemoved = []; window.__lshTextChanges = 0;
         window.__lshObservers = ['.lsh-badge', '.lsh-metrics', '[data-summary]'].map((selector) => {
           const observer = new MutationObserver((records) => {
             for (const record of records) {
               if (record.type === 'characterData') window.__lshTextChanges++;
               for (const node of record.removedNodes) {
                 if (node.nodeType === Node.ELEMENT_NODE) {
                   window.__lshRemoved.push(selector + ' > ' + node.outerHTML.slice(0, 80));
                 } else {
                   window.__lshTextChanges++;
                 }
               }
             }
           });
           observer.observe(document.querySelector(selector),
             { childList: true, subtree: true, characterData: true });
           return observer;
         });
         true",
    );
    assert!(installed.is_ok(), "the observers could not be installed");
    let from = widget.sample_count();
    widget.wait_samples(from + 6, 10_000).await;
    let report = js_sys::eval(
        "window.__lshObservers.forEach((o) => o.disconnect());
         JSON.stringify({ removed: window.__lshRemoved, text: window.__lshTextChanges })",
    )
    .ok()
    .and_then(|v| v.as_string())
    .unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap_or_default();
    assert!(
        report["text"].as_u64().is_some_and(|n| n > 0),
        "nothing changed, so nothing was checked: {report}"
    );
    assert_eq!(
        report["removed"],
        serde_json::json!([]),
        "elements were rebuilt for a text change"
    );
}

#[wasm_bindgen_test]
async fn clock_ticks_between_pixel_columns_do_not_redraw_the_chart() {
    // Three samples a second apart, then the same answer again and again:
    // no new sample, so only the clock moves. An hour over the chart's
    // ~530 columns is about 7 s a column.
    // The stored history fills the hour, so the chart shows the whole
    // window (a fresh one would be fitted to 5 minutes, a column a
    // fraction of a second).
    let run = run_id("ticks");
    let stream = run_id("ticks");
    let stored = store_history(&stream, 3_590.0, 5.0);
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token_of(&stream, 3600.0),
        endpoint(&run, "excellent,excellent,excellent,same")
    ));
    widget.wait_samples(stored + 3, 8000).await;
    assert_eq!(
        widget
            .attr(HISTORY_SVG, "aria-label")
            .map(|l| l.contains("last 60 min")),
        Some(true)
    );
    let observed = js_sys::eval(
        "window.__lshRedraws = 0;
         window.__lshPlotObserver = new MutationObserver((records) => {
           window.__lshRedraws += records.filter((r) => r.type === 'childList').length;
         });
         window.__lshPlotObserver.observe(
           document.querySelector('svg[data-chart=\"history\"] > g'), { childList: true });
         true",
    );
    assert!(observed.is_ok(), "the observer could not be installed");
    // Three clock ticks and three polls.
    TimeoutFuture::new(3500).await;
    let redraws = js_sys::eval("window.__lshPlotObserver.disconnect(); window.__lshRedraws")
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN);
    assert_eq!(widget.sample_count(), stored + 3, "a new sample arrived");
    assert!(
        redraws <= 1.0,
        "the plot was redrawn {redraws} times in 3.5 s without a new sample"
    );
}

const HISTORY_SVG: &str = "svg[data-chart=\"history\"]";

/// Stores a history for `stream` as a reload would find it: a sample every
/// `every_s` seconds from `age_s` seconds ago until a second ago. Returns
/// how many samples it holds.
fn store_history(stream: &str, age_s: f64, every_s: f64) -> usize {
    let now = js_sys::Date::now();
    let mut history = History::new(1_440);
    let mut at = now - age_s * 1_000.0;
    while at < now - 1_000.0 {
        history.push(Sample {
            received_ms: at,
            updated_at_ms: Some(at as i64),
            session_avg_ms: Some(400.0),
            deviation_ms: Some(10.0),
            status: Status::Excellent,
        });
        at += every_s * 1_000.0;
    }
    let stored = window()
        .session_storage()
        .ok()
        .flatten()
        .map(|s| s.set_item(&storage::history_key(stream), &storage::encode(&history)));
    assert!(
        matches!(stored, Some(Ok(()))),
        "sessionStorage refused the history"
    );
    history.sample_count()
}

impl Mounted {
    /// The `data-range` of the history chart.
    fn range(&self) -> String {
        self.attr(HISTORY_SVG, "data-range").unwrap_or_default()
    }

    /// Waits until the history chart's `data-range` is `range` (the DOM
    /// follows a choice at the next reactive flush).
    async fn wait_range(&self, range: &str) {
        for _ in 0..40 {
            if self.range() == range {
                return;
            }
            TimeoutFuture::new(25).await;
        }
        assert_eq!(self.range(), range);
    }

    /// Which range buttons are shown, and which one is pressed.
    fn ranges(&self) -> (Vec<String>, Vec<String>) {
        let (mut shown, mut pressed) = (Vec::new(), Vec::new());
        let buttons = self.root.query_selector_all("button[data-range]").ok();
        for i in 0..buttons.as_ref().map_or(0, |b| b.length()) {
            let Some(button) = buttons
                .as_ref()
                .and_then(|b| b.item(i))
                .map(|n| n.unchecked_into::<HtmlElement>())
            else {
                continue;
            };
            let name = button.get_attribute("data-range").unwrap_or_default();
            if button.get_attribute("aria-pressed").as_deref() == Some("true") {
                pressed.push(name.clone());
            }
            if !button.hidden() {
                shown.push(name);
            }
        }
        (shown, pressed)
    }

    /// The deviation line's leftmost and rightmost x in the chart `svg`,
    /// and the plot's width (a threshold band spans it).
    fn deviation_extent(&self, svg: &str) -> (f64, f64, f64) {
        let d = self
            .attr(&format!("{svg} .lsh-chart__line--deviation"), "d")
            .unwrap_or_default();
        let numbers: Vec<f64> = d
            .split(['M', 'L', ' ', ','])
            .filter_map(|n| n.parse().ok())
            .collect();
        let xs = numbers.iter().step_by(2);
        let left = xs.clone().copied().fold(f64::INFINITY, f64::min);
        let right = xs.copied().fold(f64::NEG_INFINITY, f64::max);
        let width = self
            .attr(&format!("{svg} .lsh-chart__band"), "width")
            .and_then(|w| w.parse().ok())
            .unwrap_or(f64::NAN);
        (left, right, width)
    }

    /// Sends a key press to `selector`, as the keyboard would.
    fn press(&self, selector: &str, key: &str) {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init);
        let Ok(event) = event else {
            panic!("cannot create a keydown event");
        };
        let _ = self.find(selector).dispatch_event(&event);
    }
}

#[wasm_bindgen_test]
async fn a_fresh_monitor_fits_its_data_instead_of_squeezing_it_right() {
    // Four minutes of history in a 60-minute window: fitted, the chart
    // spans 5 minutes and the line most of the plot; over the whole hour
    // it would be the rightmost fifteenth.
    let stream = run_id("fresh");
    let stored = store_history(&stream, 240.0, 1.0);
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1",
        token_of(&stream, 3600.0),
        endpoint(&run_id("fresh"), "excellent,same")
    ));
    widget.wait_samples(stored + 1, 8000).await;
    let (left, right, width) = widget.deviation_extent(HISTORY_SVG);
    assert!(width > 100.0, "plot width {width}");
    assert!(
        right - left > 0.7 * width,
        "the line spans {left}..{right} of a {width} wide plot"
    );
    assert!(
        right > 0.95 * width,
        "the newest sample is not at the right edge: {right}"
    );
    assert!(widget
        .attr(HISTORY_SVG, "aria-label")
        .is_some_and(|label| label.contains("last 5 min")));
    widget.wait_range("all").await;
    let (shown, pressed) = widget.ranges();
    assert_eq!(shown, ["5m", "30m", "1h", "all"]);
    assert_eq!(pressed, ["all"]);
}

#[wasm_bindgen_test]
async fn a_range_button_changes_the_span_and_the_choice_survives_a_reload() {
    let stream = run_id("range");
    let fragment = format!(
        "token={}&endpoint={}",
        token_of(&stream, 3600.0),
        endpoint(&run_id("range"), "excellent")
    );
    {
        let widget = mount(&fragment);
        widget.wait_samples(1, 8000).await;
        widget.wait_range("all").await;
        widget.html("button[data-range=\"30m\"]").click();
        widget.wait_range("30m").await;
        assert_eq!(widget.ranges().1, ["30m"]);
        assert!(widget
            .attr(HISTORY_SVG, "aria-label")
            .is_some_and(|label| label.contains("last 30 min")));
    }
    let remembered = window()
        .session_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(&range_key(&stream)).ok().flatten());
    assert_eq!(remembered.as_deref(), Some("30m"));
    // The page again, for the same stream: the same range.
    let widget = mount(&fragment);
    widget.wait_samples(1, 8000).await;
    widget.wait_range("30m").await;
    assert_eq!(widget.ranges().1, ["30m"]);
    // Another stream keeps its own.
    let other = mount(&format!(
        "token={}&endpoint={}",
        token("range-other", 3600.0),
        endpoint(&run_id("range"), "excellent")
    ));
    other.wait_samples(1, 8000).await;
    other.wait_range("all").await;
}

#[wasm_bindgen_test]
async fn the_range_buttons_work_from_the_keyboard_and_offer_only_kept_ranges() {
    let widget = mount(&format!(
        "token={}&endpoint={}",
        token("keys", 3600.0),
        endpoint(&run_id("keys"), "excellent")
    ));
    widget.wait_samples(1, 8000).await;
    let _ = widget.html("button[data-range=\"all\"]").focus();
    widget.press("button[data-range=\"all\"]", "ArrowLeft");
    widget.wait_range("1h").await;
    let focus = focused().and_then(|e| e.get_attribute("data-range"));
    assert_eq!(focus.as_deref(), Some("1h"), "the focus follows the choice");
    widget.press("button[data-range=\"1h\"]", "Home");
    widget.wait_range("5m").await;
    widget.press("button[data-range=\"5m\"]", "ArrowLeft");
    widget.wait_range("5m").await;
    widget.press("button[data-range=\"5m\"]", "End");
    widget.wait_range("all").await;
    assert_eq!(widget.ranges().1, ["all"]);
    drop(widget);

    // Twenty minutes kept: 30 min and 1 h are not offered, and the keys
    // skip them.
    let widget = mount(&format!(
        "token={}&endpoint={}&history=20",
        token("keys", 3600.0),
        endpoint(&run_id("keys"), "excellent")
    ));
    widget.wait_samples(1, 8000).await;
    assert_eq!(widget.ranges().0, ["5m", "all"]);
    widget.press("button[data-range=\"all\"]", "ArrowLeft");
    widget.wait_range("5m").await;
    widget.press("button[data-range=\"5m\"]", "ArrowRight");
    widget.wait_range("all").await;
}

#[wasm_bindgen_test]
async fn the_compact_sparkline_shows_the_last_five_minutes() {
    // Half an hour of history: the sparkline's line fills it from the left
    // edge; over the whole hour it would start half-way.
    let stream = run_id("spark");
    let stored = store_history(&stream, 1_800.0, 2.0);
    let widget = mount(&format!(
        "token={}&endpoint={}&interval=1&layout=compact",
        token_of(&stream, 3600.0),
        endpoint(&run_id("spark"), "excellent,same")
    ));
    widget.wait_samples(stored + 1, 8000).await;
    let (left, right, width) = widget.deviation_extent("svg[data-chart=\"sparkline\"]");
    assert!(width > 0.0, "sparkline width {width}");
    assert!(
        left < 0.02 * width && right > 0.98 * width,
        "the line spans {left}..{right} of a {width} wide sparkline"
    );
}
