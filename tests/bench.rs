//! Benchmarks of the built widget (`dist/`, release) in headless Chromium on
//! loopback. Prints a report; exits non-zero only when the harness itself
//! breaks (a page never goes live, a browser cannot start, a figure is
//! missing or absurd), never because of a timing. Run by `tests/bench.sh`
//! with full counts, and as a smoke (tiny counts, the defaults here) by
//! `tests/run-all.sh`: `cargo test --features e2e --test bench`.
//!
//! **Time to first status.** From navigation start to the first element with
//! `data-state="live"`, for the widget and for `tests/reference/index.html`
//! (a minimal hand-written poller: the yardstick), both against the stand-in
//! (a `steady` stream) in the same run, loads interleaved. Cold: a new
//! browser with an empty profile per load. Warm: the same browser, page
//! loaded before (`about:blank` in between, so it is a real navigation;
//! the static server answers revalidations with 304). Measured inside the
//! page: a script injected before any page script (DevTools
//! `Page.addScriptToEvaluateOnNewDocument`) records `performance.now()` when
//! a MutationObserver first sees `[data-state="live"]`. For the widget, the
//! same script and the resource timings split the time into phases: the
//! document, the bundle (.js and .wasm) fetched, the module instantiated
//! (the injected script wraps `WebAssembly.instantiate*`), the widget
//! mounted, the first health request sent and answered, and live on screen.
//!
//! **On a real network** (part `net`). The same measure under Chromium's
//! DevTools network emulation (`Network.emulateNetworkConditions` through
//! chromedriver's CDP passthrough, set before navigating): *4G* (40 ms
//! latency, 10 Mbit/s down, 5 up), *slow 4G* (150 ms, 1.6 Mbit/s, 0.75) and
//! loopback without emulation. The widget is served as a CDN serves it (the
//! static server precompresses with brotli and gzip and marks hashed assets
//! immutable), the stand-in answers from another origin, and three pages
//! are loaded interleaved: the widget, the reference, and the minimal
//! Leptos page of `tests/floor` (the framework's floor; skipped with a note
//! when `target/floor-dist` is not built). Cold: a new browser per load with
//! the HTTP cache disabled; warm: a second visit in the same browser. A
//! table per profile gives medians and p90, the ratios to the reference and
//! to the floor, the targets, and the widget's phases; the load average is
//! printed with it, since the machine may be shared.
//!
//! **Memory soak.** Thousands of poll cycles through the real app against
//! the scripted test server (every answer has a fresh `updated_at`, so each
//! is a new sample), at `interval=0.02` (allowed for loopback endpoints
//! only) with `history=1`, so the history ring is full after a minute and
//! any growth after the warm-up is a leak rather than history. Every
//! `LSH_SOAK_EVERY` cycles (counted by the server): JS heap after a forced
//! garbage collection (DevTools `HeapProfiler.collectGarbage`,
//! `Runtime.getHeapUsage`), the wasm linear memory (`memory.buffer.
//! byteLength` of the instance the page's `WebAssembly.instantiate*` call
//! returned, caught by the injected script),
//! DOM nodes and JS event listeners (`Memory.getDOMCounters`), and live
//! timers (the injected script wraps `setTimeout`/`setInterval` and their
//! `clear` functions before the page runs).
//!
//! Environment (defaults are the smoke's):
//! `LSH_BENCH_LOADS` cold and warm loads per page (3), `LSH_SOAK_CYCLES`
//! (300), `LSH_SOAK_EVERY` (100), `LSH_SOAK_WARMUP` cycles before growth is
//! measured (a quarter of the cycles, at most 5,000), `LSH_SOAK_INTERVAL`
//! seconds (0.02), `LSH_SOAK_HISTORY` minutes (1), `LSH_BENCH_PARTS`
//! (`load,soak`; `net` too on request), `LSH_BENCH_JSON` (write the figures
//! there too), `LSH_DIST` (the bundle, default `dist/`), `LSH_FLOOR_DIST`
//! (the minimal Leptos page, default `target/floor-dist`),
//! `LSH_BENCH_BASELINE_DIST` (an earlier bundle, loaded as a fourth page
//! "widget before" in part `net`, to measure a change in one run).

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use live_stream_health::core::params::percent_encode;
use live_stream_health::server::statics;
use live_stream_health::server::testserver;
use serde_json::{json, Value};
use support::{Chromedriver, Session, Stack};

type Error = Box<dyn std::error::Error>;

/// Runs in every page before its own scripts: records when the page first
/// shows `data-state="live"`, when the module was instantiated, and keeps count
/// of live timers.
const PROBE: &str = r#"(() => {
  const probe = { live: null, compiled: null, mounted: null, memory: null };
  window.__lshProbe = probe;
  const seeLive = () => {
    if (probe.mounted === null && document.querySelector(".lsh")) {
      probe.mounted = performance.now();
    }
    if (probe.live === null && document.querySelector('[data-state="live"]')) {
      probe.live = performance.now();
    }
  };
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then((result) => {
        if (probe.compiled === null) probe.compiled = performance.now();
        // instantiateStreaming and instantiate(bytes) give { module,
        // instance }, instantiate(module) the instance itself.
        const instance = result && (result.instance || result);
        if (instance && instance.exports && instance.exports.memory) {
          probe.memory = instance.exports.memory;
        }
        return result;
      });
    };
  }
  new MutationObserver(seeLive).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"],
  });
  const timeouts = new Set();
  const intervals = new Set();
  const setT = window.setTimeout, clearT = window.clearTimeout;
  const setI = window.setInterval, clearI = window.clearInterval;
  window.setTimeout = function (handler, delay, ...rest) {
    let id = 0;
    const run = function (...args) {
      timeouts.delete(id);
      return typeof handler === "function" ? handler.apply(this, args) : undefined;
    };
    id = setT.call(window, run, delay, ...rest);
    timeouts.add(id);
    return id;
  };
  window.clearTimeout = function (id) { timeouts.delete(id); return clearT.call(window, id); };
  window.setInterval = function (...args) {
    const id = setI.apply(window, args);
    intervals.add(id);
    return id;
  };
  window.clearInterval = function (id) { intervals.delete(id); return clearI.call(window, id); };
  probe.timers = () => ({ timeouts: timeouts.size, intervals: intervals.size });
})();"#;

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(default)
}

fn env_count(name: &str, default: usize) -> usize {
    env_number(name, default as f64) as usize
}

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// Order statistics of a list of figures.
#[derive(Clone, Copy, Debug)]
struct Stats {
    n: usize,
    median: f64,
    p90: f64,
    min: f64,
    max: f64,
}

fn stats(values: &[f64]) -> Option<Stats> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at =
        |p: f64| sorted[((p * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)];
    Some(Stats {
        n: sorted.len(),
        median: at(0.5),
        p90: at(0.9),
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    })
}

fn stats_json(values: &[f64]) -> Value {
    match stats(values) {
        Some(s) => {
            json!({ "n": s.n, "median": s.median, "p90": s.p90, "min": s.min, "max": s.max })
        }
        None => Value::Null,
    }
}

fn stats_line(name: &str, values: &[f64]) -> String {
    match stats(values) {
        Some(s) => format!(
            "  {name:<28} median {:>7.1} ms   p90 {:>7.1}   min {:>7.1}   max {:>7.1}   (n={})",
            s.median, s.p90, s.min, s.max, s.n
        ),
        None => format!("  {name:<28} no figures"),
    }
}

// ---------------------------------------------------------------------------
// Time to first status

/// One load of a page, as seen from inside it.
#[derive(Clone, Debug, Default)]
struct Load {
    live_ms: f64,
    /// Widget phases (ms since navigation start), when known.
    document_ms: Option<f64>,
    bundle_ms: Option<f64>,
    compiled_ms: Option<f64>,
    mounted_ms: Option<f64>,
    request_start_ms: Option<f64>,
    request_end_ms: Option<f64>,
    /// Bytes over the wire for the .wasm (0 or a header's worth when cached).
    wasm_transfer: Option<f64>,
}

async fn inject_probe(session: &Session) -> Result<(), Error> {
    session
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": PROBE }),
        )
        .await?;
    Ok(())
}

/// Navigates to `url` and waits for the page to report it went live.
async fn load(session: &Session, url: &str) -> Result<Load, Error> {
    session.client.goto(url).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = session
            .client
            .execute(
                "const p = window.__lshProbe; if (!p || p.live === null) return null;\
                 const nav = performance.getEntriesByType('navigation')[0];\
                 const res = performance.getEntriesByType('resource').map(e => ({\
                   name: e.name.split('?')[0].split('/').pop(), start: e.startTime,\
                   end: e.responseEnd, transfer: e.transferSize }));\
                 return { live: p.live, compiled: p.compiled, mounted: p.mounted,\
                   document: nav ? nav.responseEnd : null, resources: res };",
                vec![],
            )
            .await?;
        if !seen.is_null() {
            return Ok(read_load(&seen));
        }
        if Instant::now() > deadline {
            let state = session
                .client
                .execute(
                    "const e = document.querySelector('[data-state]');\
                     return e ? e.getAttribute('data-state') : 'no element';",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            return Err(format!("{url} did not go live within 20 s (state {state})").into());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn read_load(seen: &Value) -> Load {
    let resources = seen["resources"].as_array().cloned().unwrap_or_default();
    let find = |suffix: &str| {
        resources
            .iter()
            .find(|r| r["name"].as_str().is_some_and(|n| n.ends_with(suffix)))
    };
    let bundle_ms = [find(".js"), find(".wasm")]
        .iter()
        .map(|r| r.and_then(|r| r["end"].as_f64()))
        .collect::<Option<Vec<f64>>>()
        .map(|ends| ends.into_iter().fold(0.0, f64::max));
    let request = find("live-stream-health");
    Load {
        live_ms: seen["live"].as_f64().unwrap_or(f64::NAN),
        document_ms: seen["document"].as_f64(),
        bundle_ms,
        compiled_ms: seen["compiled"].as_f64(),
        mounted_ms: seen["mounted"].as_f64(),
        request_start_ms: request.and_then(|r| r["start"].as_f64()),
        request_end_ms: request.and_then(|r| r["end"].as_f64()),
        wasm_transfer: find(".wasm").and_then(|r| r["transfer"].as_f64()),
    }
}

#[derive(Default)]
struct LoadSeries {
    cold: Vec<Load>,
    warm: Vec<Load>,
}

fn lives(loads: &[Load]) -> Vec<f64> {
    loads.iter().map(|l| l.live_ms).collect()
}

/// Where the widget's time goes, phase by phase (medians of each phase's
/// own duration).
fn phases(loads: &[Load]) -> Vec<(&'static str, Vec<f64>)> {
    let diff = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    let pick = |f: &dyn Fn(&Load) -> f64| loads.iter().map(f).collect::<Vec<f64>>();
    let widget = |l: &Load, value: f64| {
        if l.bundle_ms.is_some() {
            value
        } else {
            f64::NAN
        }
    };
    vec![
        (
            "document (html)",
            pick(&|l| l.document_ms.unwrap_or(f64::NAN)),
        ),
        (
            "request sent after html",
            pick(&|l| {
                if l.bundle_ms.is_some() {
                    f64::NAN
                } else {
                    diff(l.document_ms, l.request_start_ms)
                }
            }),
        ),
        (
            "bundle fetched after html",
            pick(&|l| diff(l.document_ms, l.bundle_ms)),
        ),
        (
            "instantiated after bundle",
            pick(&|l| widget(l, diff(l.bundle_ms, l.compiled_ms))),
        ),
        (
            "mounted after instantiated",
            pick(&|l| widget(l, diff(l.compiled_ms, l.mounted_ms))),
        ),
        (
            "request sent after mount",
            pick(&|l| widget(l, diff(l.mounted_ms, l.request_start_ms))),
        ),
        (
            "request answered",
            pick(&|l| diff(l.request_start_ms, l.request_end_ms)),
        ),
        (
            "live after answer",
            pick(&|l| diff(l.request_end_ms, Some(l.live_ms))),
        ),
        (
            "wasm bytes over the wire",
            pick(&|l| l.wasm_transfer.unwrap_or(f64::NAN)),
        ),
    ]
}

async fn time_to_first_status(driver: &Chromedriver, loads: usize) -> Result<Value, Error> {
    let stack = Stack::start("bench-load")?;
    let reference = statics::spawn(&reference_dir(), SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(6 * 3600))?;
    let fragment = format!(
        "token={token}&endpoint={}&interval=5",
        percent_encode(&stack.standin().base_url())
    );
    let pages = [
        ("widget", format!("{}#{fragment}", stack.widget.base_url())),
        ("reference", format!("{}#{fragment}", reference.base_url())),
    ];
    let mut widget = LoadSeries::default();
    let mut yardstick = LoadSeries::default();

    // Cold: a new browser per load; the two pages alternate, and which goes
    // first alternates too.
    for round in 0..loads {
        for k in 0..2 {
            let which = (round + k) % 2;
            let session = driver.session(&[]).await?;
            let result = async {
                inject_probe(&session).await?;
                load(&session, &pages[which].1).await
            }
            .await;
            session.close().await;
            let series = if which == 0 {
                &mut widget
            } else {
                &mut yardstick
            };
            series.cold.push(result?);
        }
    }

    // Warm: one browser per page, each page loaded once before measuring.
    let sessions = [driver.session(&[]).await?, driver.session(&[]).await?];
    let result = async {
        for (session, (_, url)) in sessions.iter().zip(&pages) {
            inject_probe(session).await?;
            load(session, url).await?;
        }
        for round in 0..loads {
            for k in 0..2 {
                let which = (round + k) % 2;
                let session = &sessions[which];
                session.client.goto("about:blank").await?;
                let measured = load(session, &pages[which].1).await?;
                let series = if which == 0 {
                    &mut widget
                } else {
                    &mut yardstick
                };
                series.warm.push(measured);
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    for session in sessions {
        session.close().await;
    }
    result?;
    let _ = reference.shutdown();

    // The report.
    let ratio = |a: &[Load], b: &[Load]| match (stats(&lives(a)), stats(&lives(b))) {
        (Some(a), Some(b)) if b.median > 0.0 => a.median / b.median,
        _ => f64::NAN,
    };
    let cold_ratio = ratio(&widget.cold, &yardstick.cold);
    let warm_ratio = ratio(&widget.warm, &yardstick.warm);
    println!("\nTime to first status: navigation start to data-state=\"live\" (in-page clock)");
    println!("{}", stats_line("widget, cold", &lives(&widget.cold)));
    println!("{}", stats_line("reference, cold", &lives(&yardstick.cold)));
    println!("{}", stats_line("widget, warm", &lives(&widget.warm)));
    println!("{}", stats_line("reference, warm", &lives(&yardstick.warm)));
    println!(
        "  widget / reference (medians): cold {cold_ratio:.2}x, warm {warm_ratio:.2}x   \
         (target: cold within 1.5x: {})",
        if cold_ratio <= 1.5 { "met" } else { "NOT met" }
    );
    let all = [
        ("widget", "cold", &widget.cold),
        ("widget", "warm", &widget.warm),
        ("reference", "cold", &yardstick.cold),
        ("reference", "warm", &yardstick.warm),
    ];
    for (page, name, series) in all {
        println!("  {page} phases, {name} (each phase's own duration):");
        for (phase, values) in phases(series) {
            if values.iter().all(|v| v.is_nan()) {
                continue;
            }
            let line = stats_line(phase, &values);
            if phase.starts_with("wasm bytes") {
                println!("  {}", line.replace(" ms", " B "));
            } else {
                println!("  {line}");
            }
        }
    }

    for (name, series) in [
        ("widget cold", &widget.cold),
        ("widget warm", &widget.warm),
        ("reference cold", &yardstick.cold),
        ("reference warm", &yardstick.warm),
    ] {
        let sane = series.len() == loads
            && series
                .iter()
                .all(|l| l.live_ms.is_finite() && l.live_ms > 0.0 && l.live_ms < 20_000.0);
        if !sane {
            return Err(format!("{name}: missing or absurd figures").into());
        }
    }
    let phase_json = |loads: &[Load]| {
        phases(loads)
            .into_iter()
            .map(|(name, values)| (name.to_owned(), stats_json(&values)))
            .collect::<serde_json::Map<String, Value>>()
    };
    Ok(json!({
        "loads": loads,
        "widget": { "cold": stats_json(&lives(&widget.cold)), "warm": stats_json(&lives(&widget.warm)),
                    "phases_cold": phase_json(&widget.cold), "phases_warm": phase_json(&widget.warm) },
        "reference": { "cold": stats_json(&lives(&yardstick.cold)), "warm": stats_json(&lives(&yardstick.warm)) },
        "ratio": { "cold": cold_ratio, "warm": warm_ratio },
    }))
}

// ---------------------------------------------------------------------------
// Time to first status on a real network

/// A network profile: Chromium's DevTools throttling, or none (loopback).
struct Profile {
    name: &'static str,
    /// Round-trip latency added to every request, ms; download and upload,
    /// bytes per second.
    link: Option<(f64, f64, f64)>,
}

const PROFILES: [Profile; 3] = [
    Profile {
        name: "loopback",
        link: None,
    },
    Profile {
        name: "4G",
        link: Some((40.0, 10e6 / 8.0, 5e6 / 8.0)),
    },
    Profile {
        name: "slow 4G",
        link: Some((150.0, 1.6e6 / 8.0, 0.75e6 / 8.0)),
    },
];

fn floor_dir() -> PathBuf {
    std::env::var_os("LSH_FLOOR_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/floor-dist"))
}

/// Sets the link for everything this tab loads from now on, and whether its
/// HTTP cache may be used.
async fn emulate(session: &Session, profile: &Profile, cache: bool) -> Result<(), Error> {
    session.cdp("Network.enable", json!({})).await?;
    session
        .cdp(
            "Network.setCacheDisabled",
            json!({ "cacheDisabled": !cache }),
        )
        .await?;
    if let Some((latency, down, up)) = profile.link {
        session
            .cdp(
                "Network.emulateNetworkConditions",
                json!({ "offline": false, "latency": latency,
                        "downloadThroughput": down, "uploadThroughput": up }),
            )
            .await?;
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Time to first status per network profile: the widget served as a CDN
/// serves it (precompressed, hashed assets immutable; see
/// `src/server/statics.rs`), the stand-in on another origin, the
/// hand-written reference and the minimal Leptos page (`tests/floor`, when
/// built) loaded interleaved, cold (a new browser, HTTP cache disabled) and
/// warm (the same browser, second visit, HTTP cache on).
async fn network(driver: &Chromedriver, loads: usize) -> Result<Value, Error> {
    let stack = Stack::start("bench-net")?;
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let reference = statics::spawn(&reference_dir(), any)?;
    let floor = if floor_dir().join("index.html").is_file() {
        Some(statics::spawn(&floor_dir(), any)?)
    } else {
        println!(
            "\n(no minimal Leptos page: build it with `trunk build --release \
             tests/floor/index.html --dist target/floor-dist`)"
        );
        None
    };
    let stream = stack.stream("steady")?;
    let token = stack.token(&stream, Duration::from_secs(6 * 3600))?;
    let fragment = format!(
        "token={token}&endpoint={}&interval=5",
        percent_encode(&stack.standin().base_url())
    );
    let mut pages = vec![
        ("widget", format!("{}#{fragment}", stack.widget.base_url())),
        ("reference", format!("{}#{fragment}", reference.base_url())),
    ];
    if let Some(floor) = &floor {
        pages.push(("leptos floor", format!("{}#{fragment}", floor.base_url())));
    }
    // An earlier build of the widget, to measure a change A/B in one run.
    let baseline = match std::env::var_os("LSH_BENCH_BASELINE_DIST") {
        Some(dir) => Some(statics::spawn(&PathBuf::from(dir), any)?),
        None => None,
    };
    if let Some(baseline) = &baseline {
        pages.push((
            "widget before",
            format!("{}#{fragment}", baseline.base_url()),
        ));
    }
    // The static servers compress in the background at start: one load of
    // each page first, so no measured load waits for brotli.
    for (_, url) in &pages {
        let session = driver.session(&[]).await?;
        let result = async {
            inject_probe(&session).await?;
            load(&session, url).await
        }
        .await;
        session.close().await;
        result?;
    }
    let load_before = load_average();
    let mut report = serde_json::Map::new();
    let mut tables = Vec::new();
    for profile in &PROFILES {
        let mut series: Vec<LoadSeries> = pages.iter().map(|_| LoadSeries::default()).collect();
        // Cold: a new browser per load, cache disabled; pages alternate and
        // which goes first rotates.
        for round in 0..loads {
            for k in 0..pages.len() {
                let which = (round + k) % pages.len();
                let session = driver.session(&[]).await?;
                let result = async {
                    emulate(&session, profile, false).await?;
                    inject_probe(&session).await?;
                    load(&session, &pages[which].1).await
                }
                .await;
                session.close().await;
                series[which].cold.push(result?);
            }
        }
        // Warm: one browser per page, the page visited once before.
        let mut sessions = Vec::new();
        for _ in &pages {
            sessions.push(driver.session(&[]).await?);
        }
        let result = async {
            for (session, (_, url)) in sessions.iter().zip(&pages) {
                emulate(session, profile, true).await?;
                inject_probe(session).await?;
                load(session, url).await?;
            }
            for round in 0..loads {
                for k in 0..pages.len() {
                    let which = (round + k) % pages.len();
                    let session = &sessions[which];
                    session.client.goto("about:blank").await?;
                    let measured = load(session, &pages[which].1).await?;
                    series[which].warm.push(measured);
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        for session in sessions {
            session.close().await;
        }
        result?;
        for ((name, _), s) in pages.iter().zip(&series) {
            let sane = |loads_seen: &[Load]| {
                loads_seen.len() == loads
                    && loads_seen
                        .iter()
                        .all(|l| l.live_ms.is_finite() && l.live_ms > 0.0 && l.live_ms < 20_000.0)
            };
            if !sane(&s.cold) || !sane(&s.warm) {
                return Err(format!("{}: {name}: missing or absurd figures", profile.name).into());
            }
        }
        tables.push(network_table(profile, &pages, &series));
        let mut json_pages = serde_json::Map::new();
        for ((name, _), s) in pages.iter().zip(&series) {
            let phase_json = |loads: &[Load]| {
                phases(loads)
                    .into_iter()
                    .map(|(phase, values)| (phase.to_owned(), stats_json(&values)))
                    .collect::<serde_json::Map<String, Value>>()
            };
            json_pages.insert(
                (*name).to_owned(),
                json!({ "cold": stats_json(&lives(&s.cold)), "warm": stats_json(&lives(&s.warm)),
                        "phases_cold": phase_json(&s.cold), "phases_warm": phase_json(&s.warm) }),
            );
        }
        report.insert(profile.name.to_owned(), Value::Object(json_pages));
    }
    let load_after = load_average();
    println!(
        "\nTime to first status on emulated networks (Chromium DevTools throttling; widget \
         precompressed and immutable-cached, endpoint on another origin; {loads} loads per page, \
         interleaved; load average {load_before} before, {load_after} after)"
    );
    for table in &tables {
        println!("{table}");
    }
    let _ = reference.shutdown();
    for server in [floor, baseline].into_iter().flatten() {
        let _ = server.shutdown();
    }
    report.insert("loads".into(), json!(loads));
    report.insert("load_average".into(), json!([load_before, load_after]));
    Ok(Value::Object(report))
}

/// One profile's table: each page's median and p90, cold and warm, its
/// ratios to the reference and to the minimal Leptos page, the targets, and
/// the widget's phases.
fn network_table(profile: &Profile, pages: &[(&str, String)], series: &[LoadSeries]) -> String {
    use std::fmt::Write as _;
    let median = |loads: &[Load]| stats(&lives(loads)).map_or(f64::NAN, |s| s.median);
    let p90 = |loads: &[Load]| stats(&lives(loads)).map_or(f64::NAN, |s| s.p90);
    let index = |name: &str| pages.iter().position(|(n, _)| *n == name);
    let ratio = |a: &[Load], b: Option<usize>| match b {
        Some(b) => format!("{:.2}x", median(a) / median(&series[b].cold)),
        None => "-".into(),
    };
    let warm_ratio = |a: &[Load], b: Option<usize>| match b {
        Some(b) => format!("{:.2}x", median(a) / median(&series[b].warm)),
        None => "-".into(),
    };
    let reference = index("reference");
    let floor = index("leptos floor");
    let mut out = String::new();
    let link = match profile.link {
        Some((latency, down, up)) => format!(
            "{latency:.0} ms latency, {:.1} Mbit/s down, {:.2} up",
            down * 8.0 / 1e6,
            up * 8.0 / 1e6
        ),
        None => "no emulation".into(),
    };
    let _ = writeln!(out, "\n  {} ({link}), ms:", profile.name);
    let _ = writeln!(
        out,
        "  {:<14} {:>8} {:>8} {:>8} {:>8}   {:>9} {:>9}   {:>9} {:>9}",
        "page",
        "cold med",
        "cold p90",
        "warm med",
        "warm p90",
        "cold/ref",
        "cold/flr",
        "warm/ref",
        "warm/flr"
    );
    for ((name, _), s) in pages.iter().zip(series) {
        let _ = writeln!(
            out,
            "  {:<14} {:>8.0} {:>8.0} {:>8.0} {:>8.0}   {:>9} {:>9}   {:>9} {:>9}",
            name,
            median(&s.cold),
            p90(&s.cold),
            median(&s.warm),
            p90(&s.warm),
            ratio(&s.cold, reference),
            ratio(&s.cold, floor),
            warm_ratio(&s.warm, reference),
            warm_ratio(&s.warm, floor),
        );
    }
    if let Some(widget) = index("widget") {
        let w = &series[widget];
        let verdict = |value: f64, target: f64| {
            if value <= target {
                format!("{value:.2}x <= {target}x met")
            } else {
                format!("{value:.2}x > {target}x NOT met")
            }
        };
        let mut targets = Vec::new();
        if let Some(r) = reference {
            let cold = median(&w.cold) / median(&series[r].cold);
            match profile.name {
                "loopback" => {
                    targets.push(format!("cold/ref {}", verdict(cold, 1.5)));
                    let warm = median(&w.warm) / median(&series[r].warm);
                    targets.push(format!("warm/ref {}", verdict(warm, 1.5)));
                }
                "4G" => targets.push(format!("cold/ref {}", verdict(cold, 2.0))),
                _ => {}
            }
        }
        if let Some(f) = floor {
            let cold = median(&w.cold) / median(&series[f].cold);
            targets.push(format!("cold/floor {}", verdict(cold, 1.25)));
        }
        if !targets.is_empty() {
            let _ = writeln!(out, "  targets: {}", targets.join("; "));
        }
        for (name, loads) in [("cold", &w.cold), ("warm", &w.warm)] {
            let _ = writeln!(
                out,
                "  widget phases, {name} (medians of each phase's own duration):"
            );
            for (phase, values) in phases(loads) {
                if values.iter().all(|v| v.is_nan()) {
                    continue;
                }
                let line = stats_line(phase, &values);
                if phase.starts_with("wasm bytes") {
                    let _ = writeln!(out, "  {}", line.replace(" ms", " B "));
                } else {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Memory soak

#[derive(Clone, Debug)]
struct MemorySample {
    cycles: u64,
    js_heap: f64,
    wasm_memory: f64,
    nodes: f64,
    listeners: f64,
    timers: f64,
    samples_held: f64,
}

async fn memory_sample(session: &Session, cycles: u64) -> Result<MemorySample, Error> {
    session
        .cdp("HeapProfiler.collectGarbage", json!({}))
        .await?;
    let heap = session.cdp("Runtime.getHeapUsage", json!({})).await?;
    let dom = session.cdp("Memory.getDOMCounters", json!({})).await?;
    let page = session
        .client
        .execute(
            "const p = window.__lshProbe;\
             const t = p && p.timers ? p.timers() : null;\
             const svg = document.querySelector('[data-samples]');\
             return {\
               wasm: p && p.memory ? p.memory.buffer.byteLength : null,\
               timers: t ? t.timeouts + t.intervals : null,\
               samples: svg ? Number(svg.getAttribute('data-samples')) : null,\
               state: (document.querySelector('.lsh') || {}).dataset?.state };",
            vec![],
        )
        .await?;
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    Ok(MemorySample {
        cycles,
        js_heap: number(&heap["usedSize"]),
        wasm_memory: number(&page["wasm"]),
        nodes: number(&dom["nodes"]),
        listeners: number(&dom["jsEventListeners"]),
        timers: number(&page["timers"]),
        samples_held: number(&page["samples"]),
    })
}

async fn requests_so_far(stats_url: &str) -> Result<u64, Error> {
    let url = stats_url.to_owned();
    let body = tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
    })
    .await??;
    let stats: Value = serde_json::from_str(&body)?;
    Ok(stats["requests"].as_u64().unwrap_or(0))
}

struct Curve<'a> {
    name: &'a str,
    unit: &'a str,
    scale: f64,
    pick: fn(&MemorySample) -> f64,
}

async fn soak(driver: &Chromedriver) -> Result<Value, Error> {
    let cycles = env_count("LSH_SOAK_CYCLES", 300).max(2) as u64;
    let every = env_count("LSH_SOAK_EVERY", 100).max(1) as u64;
    let warmup = env_count("LSH_SOAK_WARMUP", (cycles as usize / 4).min(5_000)) as u64;
    let interval = env_number("LSH_SOAK_INTERVAL", 0.02);
    let history = env_count("LSH_SOAK_HISTORY", 1).max(1);

    let dist = support::dist_dir();
    let widget = statics::spawn(&dist, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let run = format!("soak-{}", std::process::id());
    let endpoint = format!("{}/s/{run}/excellent", server.base_url());
    let stats_url = format!("{endpoint}/stats");
    // A token shaped like a monitor token; the test server does not verify it.
    let token = unsigned_token(&run);
    let url = format!(
        "{}#token={token}&endpoint={}&interval={interval}&history={history}",
        widget.base_url(),
        percent_encode(&endpoint)
    );

    let session = driver.session(&["--enable-precise-memory-info"]).await?;
    let started = Instant::now();
    let result = async {
        inject_probe(&session).await?;
        load(&session, &url).await?;
        let mut samples = vec![memory_sample(&session, requests_so_far(&stats_url).await?).await?];
        let mut next = every;
        // A cycle takes the interval plus a request and a render; allow ten
        // times that before calling the soak stuck.
        let stuck_after = Duration::from_secs_f64((interval + 0.05) * 10.0 * every as f64 + 30.0);
        while next <= cycles {
            let deadline = Instant::now() + stuck_after;
            let mut done = requests_so_far(&stats_url).await?;
            while done < next {
                if Instant::now() > deadline {
                    return Err(format!("the soak stalled at {done} cycles").into());
                }
                let left = (next - done) as f64 * (interval + 0.003);
                tokio::time::sleep(Duration::from_secs_f64(left.clamp(0.02, 1.0))).await;
                done = requests_so_far(&stats_url).await?;
            }
            samples.push(memory_sample(&session, done).await?);
            next += every;
        }
        let state = session
            .client
            .execute(
                "return document.querySelector('.lsh').dataset.state;",
                vec![],
            )
            .await?;
        Ok::<(Vec<MemorySample>, Value), Error>((samples, state))
    }
    .await;
    session.close().await;
    let _ = server.shutdown();
    let _ = widget.shutdown();
    let (samples, state) = result?;
    let elapsed = started.elapsed().as_secs_f64();
    let done = samples.last().map_or(0, |s| s.cycles);

    let curves = [
        Curve {
            name: "JS heap (after GC)",
            unit: "KB",
            scale: 1024.0,
            pick: |s| s.js_heap,
        },
        Curve {
            name: "wasm linear memory",
            unit: "KB",
            scale: 1024.0,
            pick: |s| s.wasm_memory,
        },
        Curve {
            name: "DOM nodes",
            unit: "",
            scale: 1.0,
            pick: |s| s.nodes,
        },
        Curve {
            name: "JS event listeners",
            unit: "",
            scale: 1.0,
            pick: |s| s.listeners,
        },
        Curve {
            name: "live timers",
            unit: "",
            scale: 1.0,
            pick: |s| s.timers,
        },
        Curve {
            name: "samples held",
            unit: "",
            scale: 1.0,
            pick: |s| s.samples_held,
        },
    ];
    let after_warmup: Vec<&MemorySample> = samples.iter().filter(|s| s.cycles >= warmup).collect();
    let base = after_warmup.first().copied().unwrap_or(&samples[0]);
    let end = samples.last().unwrap_or(base);
    println!(
        "\nMemory soak: {done} poll cycles in {elapsed:.0} s ({:.1} cycles/s), interval={interval} s, \
         history={history} min, sampled every {every} cycles; growth is measured from cycle {} \
         (warm-up {warmup})",
        done as f64 / elapsed.max(1e-9),
        base.cycles
    );
    println!(
        "  {:<20} {:>12} {:>12} {:>12} {:>12} {:>14}",
        "curve", "start", "peak", "end", "at warm-up", "growth after"
    );
    let mut curves_json = serde_json::Map::new();
    for curve in &curves {
        let values: Vec<f64> = samples.iter().map(curve.pick).collect();
        let peak = values.iter().copied().fold(f64::NAN, f64::max);
        let show = |v: f64| format!("{:.1}{}", v / curve.scale, curve.unit);
        let growth = (curve.pick)(end) - (curve.pick)(base);
        println!(
            "  {:<20} {:>12} {:>12} {:>12} {:>12} {:>14}",
            curve.name,
            show(values[0]),
            show(peak),
            show((curve.pick)(end)),
            show((curve.pick)(base)),
            show(growth)
        );
        let points: Vec<Value> = samples
            .iter()
            .map(|s| json!([s.cycles, (curve.pick)(s)]))
            .collect();
        curves_json.insert(
            curve.name.to_owned(),
            json!({ "start": values[0], "peak": peak, "end": (curve.pick)(end),
                    "at_warmup": (curve.pick)(base), "growth": growth, "points": points }),
        );
    }
    let memory_growth = (end.js_heap - base.js_heap) + (end.wasm_memory - base.wasm_memory);
    println!(
        "  target: growth after warm-up under 1 MB (JS heap + wasm: {:.1} KB): {}; \
         no growth in timers ({:+}) or listeners ({:+}): {}",
        memory_growth / 1024.0,
        if memory_growth < 1024.0 * 1024.0 {
            "met"
        } else {
            "NOT met"
        },
        end.timers - base.timers,
        end.listeners - base.listeners,
        if end.timers <= base.timers && end.listeners <= base.listeners {
            "met"
        } else {
            "NOT met"
        },
    );

    // Sanity: the harness worked.
    if done < cycles {
        return Err(format!("the soak ran {done} of {cycles} cycles").into());
    }
    if state != json!("live") {
        return Err(format!("the widget ended the soak {state}, not live").into());
    }
    let all_present = samples.iter().all(|s| {
        [s.js_heap, s.wasm_memory, s.nodes, s.listeners, s.timers]
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0)
    });
    if !all_present {
        return Err("a memory figure was missing".into());
    }
    // A leak of timers or listeners is a broken cleanup, not a slow machine.
    if end.timers > base.timers.max(samples[0].timers) + 1.0 {
        return Err(format!("live timers grew: {} -> {}", base.timers, end.timers).into());
    }
    Ok(json!({
        "cycles": done, "seconds": elapsed, "interval_s": interval, "history_min": history,
        "every": every, "warmup": warmup, "growth_bytes": memory_growth, "curves": curves_json,
    }))
}

fn unsigned_token(stream: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = live_stream_health::server::utc::now_unix_secs() + 6 * 3600;
    let claims = json!({ "sub": stream, "aud": "live_stream_id", "exp": exp });
    format!(
        "{}.{}.c2ln",
        engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(claims.to_string())
    )
}

// ---------------------------------------------------------------------------

async fn run() -> Result<(), Error> {
    let parts = std::env::var("LSH_BENCH_PARTS").unwrap_or_else(|_| "load,soak".into());
    let loads = env_count("LSH_BENCH_LOADS", 3).max(1);
    let driver = Chromedriver::start().await?;
    let mut report = serde_json::Map::new();
    if parts.split(',').any(|p| p.trim() == "load") {
        report.insert(
            "time_to_first_status".into(),
            time_to_first_status(&driver, loads).await?,
        );
    }
    if parts.split(',').any(|p| p.trim() == "net") {
        report.insert("network".into(), network(&driver, loads).await?);
    }
    if parts.split(',').any(|p| p.trim() == "soak") {
        report.insert("soak".into(), soak(&driver).await?);
    }
    if let Ok(path) = std::env::var("LSH_BENCH_JSON") {
        std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(report))?)?;
        println!("\nfigures written to {path}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bench: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: the harness broke: {error}");
            ExitCode::FAILURE
        }
    }
}
