//! End to end, the accessibility audit: axe-core run inside the built
//! widget, in every layout, theme and state a streamer can meet, against
//! the WCAG 2.0 and 2.1 A and AA rules. Zero violations is the bar.
//!
//! What is audited: the full layout in a 1000×800 window and the compact
//! layout in two iframes, a small OBS dock (300×120) and a taller one
//! (320×260, where the advice and buttons come back), each in the light and
//! the dark theme, in each of these states: live with each status
//! (excellent, good, poor, unknown), waiting for a token (with a parameter
//! notice), token rejected (HTTP 401), link expired after being live, and
//! retrying after a 503 with the last values shown stale. The live states
//! carry the alert buttons (`alerts=sound,notify`) and a chart with a few
//! samples; in the poor state the event log is opened and the chart's
//! keyboard cursor put on the newest sample, so its readout is audited too.
//! The widget polls the scripted test server (`src/server/testserver.rs`),
//! which answers each state's sequence.
//!
//! axe-core is not part of the repository: `tests/setup.sh` installs it
//! from npm into a cache and exports `LSH_AXE`, the path of `axe.min.js`.
//! The script is evaluated in the widget's document (inside the iframe for
//! the compact dock) through WebDriver, then `axe.run` with the tags
//! `wcag2a`, `wcag2aa`, `wcag21a`, `wcag21aa`. Every violation is printed
//! (rule id, impact, target selectors, axe's summary of what fails) and the
//! test fails if there is one. Runs in the browser `LSH_BROWSER` names.

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use live_stream_health::core::params::percent_encode;
use live_stream_health::server::testserver::{self, TestServer};
use serde_json::{json, Value};
use support::{Browser, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

/// The WCAG levels audited, as axe-core tags.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// A state to audit and how to reach it.
#[derive(Clone, Copy, Debug)]
struct State {
    name: &'static str,
    /// The test server's steps; `None` for no token at all.
    steps: Option<&'static str>,
    /// Seconds the token lives (an hour unless the state is about expiry).
    token_s: u64,
    /// `data-state` to wait for.
    state: &'static str,
    /// `data-status` to wait for, if it matters.
    status: Option<&'static str>,
    /// More URL parameters.
    extra: &'static str,
    /// Open the event log and put the chart's cursor on a sample first.
    explore: bool,
}

const fn live(name: &'static str, steps: &'static str, status: &'static str) -> State {
    State {
        name,
        steps: Some(steps),
        token_s: 3600,
        state: "live",
        status: Some(status),
        extra: "&alerts=sound,notify",
        explore: false,
    }
}

const STATES: [State; 8] = [
    live("live, excellent", "excellent", "excellent"),
    live("live, good", "good", "good"),
    // A change of status, so the event log has an entry.
    State {
        explore: true,
        ..live("live, poor", "excellent,poor", "poor")
    },
    live("live, unknown", "unknown", "unknown"),
    State {
        name: "waiting for a token",
        steps: None,
        token_s: 0,
        state: "waiting-token",
        status: None,
        // An out-of-range value, so the notice list shows too.
        extra: "&history=0",
        explore: false,
    },
    State {
        name: "token rejected",
        steps: Some("e401"),
        token_s: 3600,
        state: "token-rejected",
        status: None,
        extra: "",
        explore: false,
    },
    State {
        name: "link expired",
        steps: Some("excellent"),
        token_s: 3,
        state: "token-expired",
        status: None,
        extra: "",
        explore: false,
    },
    State {
        name: "retrying",
        steps: Some("excellent,e503"),
        token_s: 3600,
        state: "retrying",
        status: Some("excellent"),
        extra: "",
        explore: false,
    },
];

/// A layout and theme, and where the widget is shown for it.
#[derive(Clone, Copy, Debug)]
struct Look {
    layout: &'static str,
    theme: &'static str,
    /// The iframe the widget is shown in (width, height), or the window.
    dock: Option<(u32, u32)>,
}

/// One violation of one rule in one audited view.
#[derive(Debug)]
struct Violation {
    look: String,
    state: &'static str,
    rule: String,
    impact: String,
    help: String,
    nodes: Vec<(String, String)>,
}

fn axe_path() -> PathBuf {
    std::env::var_os("LSH_AXE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir);
            cache.join("live-stream-health/axe/node_modules/axe-core/axe.min.js")
        })
}

fn axe_source() -> Result<String, Error> {
    let path = axe_path();
    std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read axe-core at {} ({e}): run tests/setup.sh, which installs it, or set LSH_AXE",
            path.display()
        )
        .into()
    })
}

/// Runs axe in the current document (or frame) and returns its violations
/// as `[{id, impact, help, nodes: [{target, summary}]}]`.
const RUN_AXE: &str = r#"
const [tags, done] = arguments;
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((result) => done(result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(' '), summary: n.failureSummary || '' })),
  }))))
  .catch((e) => done({ error: String(e) }));
"#;

async fn audit(browser: &Browser, axe: &str) -> Result<Value, Error> {
    // Evaluated as a function body: axe-core sets `window.axe` itself.
    let loaded = browser
        .client
        .execute(&format!("{axe}\nreturn typeof window.axe;"), vec![])
        .await?;
    if loaded != json!("object") {
        return Err(format!("axe-core did not load in the page ({loaded})").into());
    }
    let found = browser
        .client
        .execute_async(RUN_AXE, vec![json!(TAGS)])
        .await?;
    if let Some(error) = found.get("error") {
        return Err(format!("axe.run failed: {error}").into());
    }
    Ok(found)
}

/// The monitor link for `state` in `look`, polling once a second.
fn link(
    stack: &Stack,
    server: &TestServer,
    look: Look,
    state: State,
    run: &str,
) -> Result<String, Error> {
    let mut link = format!(
        "{}#layout={}&theme={}&interval=1{}",
        stack.widget.base_url(),
        look.layout,
        look.theme,
        state.extra
    );
    if let Some(steps) = state.steps {
        let endpoint = format!("{}/s/{run}/{steps}", server.base_url());
        let token = stack.token("stream-a11y", Duration::from_secs(state.token_s))?;
        link.push_str(&format!(
            "&token={token}&endpoint={}",
            percent_encode(&endpoint)
        ));
    }
    Ok(link)
}

/// Opens `link` in the window or in an iframe of the look's dock size, and
/// leaves the browser's context in the widget's document.
async fn open(browser: &Browser, look: Look, link: &str) -> TestResult {
    browser.client.enter_parent_frame().await?;
    match look.dock {
        None => browser.client.goto(link).await?,
        Some((width, height)) => {
            // A page that holds nothing but the dock.
            let (_dock, dock) = support::dock_page()?;
            browser.client.goto(&dock).await?;
            browser
                .client
                .execute(
                    "const [src, w, h] = arguments;\
                     document.body.innerHTML = '';\
                     const f = document.createElement('iframe');\
                     f.title = 'Live stream health';\
                     f.style.cssText = `width:${w}px;height:${h}px;border:0;display:block`;\
                     f.src = src; document.body.appendChild(f);",
                    vec![json!(link), json!(width), json!(height)],
                )
                .await?;
            browser.client.enter_frame(0).await?;
        }
    }
    Ok(())
}

/// Waits until the widget shows `state` (and its status, and for live
/// states at least two samples, so the chart and sparkline have a line).
async fn reach(browser: &Browser, state: State) -> TestResult {
    let within = Duration::from_secs(15);
    browser.wait_for("state", state.state, within).await?;
    if let Some(status) = state.status {
        browser.wait_for("status", status, within).await?;
    }
    if state.state == "live" {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let samples = browser
                .attr("svg[data-chart=\"sparkline\"]", "data-samples")
                .await
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            if samples >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Opens the event log and moves the chart's keyboard cursor to the newest
/// sample, as a streamer exploring the history would (no-ops where the
/// layout hides them).
const EXPLORE: &str = r#"
const events = document.querySelector('details.lsh-events');
if (events) events.open = true;
const chart = document.querySelector('svg[data-chart="history"]');
if (chart && chart.getClientRects().length) {
  chart.focus();
  chart.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
}
return true;
"#;

async fn audit_look(
    browser: &Browser,
    stack: &Stack,
    server: &TestServer,
    axe: &str,
    look: Look,
) -> Result<Vec<Violation>, Error> {
    let name = match look.dock {
        Some((width, height)) => format!("{} {width}×{height}/{}", look.layout, look.theme),
        None => format!("{}/{}", look.layout, look.theme),
    };
    let mut violations = Vec::new();
    for (index, state) in STATES.into_iter().enumerate() {
        // A run of the test server per view: no two share counters.
        let (width, height) = look.dock.unwrap_or((0, 0));
        let run = format!(
            "a11y-{}-{width}x{height}-{}-{}-{index}",
            look.layout,
            look.theme,
            std::process::id()
        );
        open(browser, look, &link(stack, server, look, state, &run)?).await?;
        reach(browser, state)
            .await
            .map_err(|e| format!("{name}, {}: {e}", state.name))?;
        if state.explore {
            browser.client.execute(EXPLORE, vec![]).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let found = audit(browser, axe).await?;
        let count = found.as_array().map_or(0, Vec::len);
        eprintln!("{name}, {}: {count} violation(s)", state.name);
        for v in found.as_array().cloned().unwrap_or_default() {
            let text = |field: &str| v[field].as_str().unwrap_or_default().to_owned();
            violations.push(Violation {
                look: name.clone(),
                state: state.name,
                rule: text("id"),
                impact: text("impact"),
                help: text("help"),
                nodes: v["nodes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|n| {
                        (
                            n["target"].as_str().unwrap_or_default().to_owned(),
                            n["summary"]
                                .as_str()
                                .unwrap_or_default()
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                    })
                    .collect(),
            });
        }
    }
    browser.client.enter_parent_frame().await?;
    Ok(violations)
}

async fn audit_looks(
    browser: &Browser,
    stack: &Stack,
    server: &TestServer,
    axe: &str,
    looks: Vec<Look>,
) -> Result<Vec<Violation>, Error> {
    let mut all = Vec::new();
    for look in looks {
        all.extend(audit_look(browser, stack, server, axe, look).await?);
    }
    Ok(all)
}

fn report(violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        out.push_str(&format!(
            "\n[{}] {} ({}) in {}, {}\n",
            v.impact, v.rule, v.help, v.look, v.state
        ));
        for (target, summary) in &v.nodes {
            out.push_str(&format!("    {target}\n        {summary}\n"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layout_theme_and_state_passes_wcag_21_aa() -> TestResult {
    let axe = axe_source()?;
    let stack = Stack::start("a11y")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let (first, second) = tokio::join!(Browser::start(), Browser::start());
    let (first, second) = match (first, second) {
        (Ok(first), Ok(second)) => (first, second),
        (first, second) => {
            let mut errors = Vec::new();
            for browser in [first, second] {
                match browser {
                    Ok(browser) => browser.close().await,
                    Err(e) => errors.push(e.to_string()),
                }
            }
            return Err(format!("cannot start two browser sessions: {}", errors.join("; ")).into());
        }
    };
    let engine = first.engine.name();
    // Every look, shared out between two queues that run side by side, one
    // browser each.
    let mut queues = (Vec::new(), Vec::new());
    let docks = [None, Some((300, 120)), Some((320, 260))];
    for (index, (dock, theme)) in docks
        .into_iter()
        .flat_map(|dock| ["light", "dark"].map(|theme| (dock, theme)))
        .enumerate()
    {
        let layout = if dock.is_some() { "compact" } else { "full" };
        let look = Look {
            layout,
            theme,
            dock,
        };
        if index % 2 == 0 {
            queues.0.push(look);
        } else {
            queues.1.push(look);
        }
    }
    let views = (queues.0.len() + queues.1.len()) * STATES.len();
    let (a, b) = tokio::join!(
        audit_looks(&first, &stack, &server, &axe, queues.0),
        audit_looks(&second, &stack, &server, &axe, queues.1),
    );
    first.close().await;
    second.close().await;
    let mut violations = a?;
    violations.extend(b?);
    println!(
        "accessibility audit in {engine}: {} views, {} violation(s)",
        views,
        violations.len()
    );
    assert!(
        violations.is_empty(),
        "axe-core ({}) found WCAG 2.1 A/AA violations in {engine}:{}",
        TAGS.join(", "),
        report(&violations)
    );
    Ok(())
}
