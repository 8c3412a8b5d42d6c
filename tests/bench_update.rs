//! Benchmark: the main-thread cost of one poll, at 1, 6 and 24 hours of
//! history at one poll per second, in headless Chromium
//! (wasm-bindgen-test). Prints a table; asserts only that figures were
//! produced (`tests/bench.sh` runs it in release, `tests/run-all.sh` runs a
//! smoke with a few iterations).
//!
//! For each history length the widget is mounted with the real stylesheets
//! and `history=<that many minutes>`, filled with that many hours of
//! samples a second apart (drifting values, excursions into good and poor,
//! outages), through [`Widget`], the same component the page mounts, over a
//! [`WidgetState`] the benchmark keeps a copy of (so it needs no way into
//! the widget but the state every widget is built on). Then each report
//! goes the way a poll's does: the body is parsed by [`parse_report`], the
//! monitor and the history are updated by [`Monitor::on_outcome`] (what the
//! poll driver calls when a request settles), and Leptos re-renders. Each
//! report arrives a second after the one before (the history was filled up
//! to that many seconds ago), so every update appends one sample and the
//! window lets the oldest go, as a monitor polling every second does.
//! Each update is timed with `performance.now()` from before the parse
//! until a macrotask after it, so every effect and DOM write it caused (they
//! run as microtasks) is inside; a second figure adds the style and layout
//! the browser does before it can paint (forced by reading `offsetHeight`).
//! A `PerformanceObserver` counts long tasks (over 50 ms) on the page while
//! the reports go in, including the widget's own clock ticks and saves.
//!
//! **Interleaved rounds.** The machine is shared and noisy, so every
//! configuration (history length × layout) is measured in each of
//! `LSH_UPDATE_ROUNDS` rounds, in an order that rotates from round to round,
//! and the figures are medians over all rounds; the spread of the per-round
//! medians is printed beside them. A configuration is mounted fresh in
//! every round.
//!
//! The periodic save (every 30 s and on `pagehide`: the newest 20,000
//! entries into `sessionStorage`) is timed once per configuration and
//! round, on the same main thread.
//!
//! The network is left out on purpose: the driver is idle (the monitor gets
//! its token directly, not through the driver), so only the main-thread
//! work a poll causes is measured.
//!
//! Counts come from the environment at build time: `LSH_UPDATE_ITERATIONS`
//! (updates per configuration over all rounds, default 200),
//! `LSH_UPDATE_ROUNDS` (default 5) and `LSH_UPDATE_HOURS` (history lengths,
//! default `1,6,24`).
//!
//! **The wall** (`a_wall_of_streams_each_with_a_day_of_history`, part
//! `wall` of `tests/bench.sh`): many streams on one [`Wall`], each polled
//! every 5 s with a day of history, one stream's poll at a time; it prints
//! the cost of one poll and the memory after thousands of polls per
//! stream. Its counts: `LSH_WALL_STREAMS` (default 16), `LSH_WALL_POLLS`
//! (per stream, default 2,000) and `LSH_WALL_HOURS` (default 24).

#![cfg(all(target_arch = "wasm32", feature = "csr"))]

use gloo_timers::future::TimeoutFuture;
use leptos::mount::mount_to;
use leptos::prelude::*;
use live_stream_health::app::use_persisted_history;
use live_stream_health::app::wall::Wall;
use live_stream_health::app::{Widget, WidgetState};
use live_stream_health::core::api::parse_report;
use live_stream_health::core::chart::{chart_geometry, ChartCache, ChartFrame};
use live_stream_health::core::chart_svg::{plot_width_for, PLOT_HEIGHT};
use live_stream_health::core::history::{History, Sample};
use live_stream_health::core::params::{self, Config, Layout};
use live_stream_health::core::poll::Outcome;
use live_stream_health::core::status::Status;
use live_stream_health::core::storage;
use live_stream_health::core::summary::{summarise, SummaryCache};
use live_stream_health::core::time::format_iso_utc;
use live_stream_health::core::trend;
use live_stream_health::core::wall::{WallLink, WallStream};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

fn count(value: Option<&str>, default: usize) -> usize {
    value.and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn iterations() -> usize {
    count(option_env!("LSH_UPDATE_ITERATIONS"), 200).max(1)
}

fn rounds() -> usize {
    count(option_env!("LSH_UPDATE_ROUNDS"), 5).clamp(1, iterations())
}

/// Updates measured per configuration in one round.
fn per_round() -> usize {
    iterations().div_ceil(rounds())
}

/// History lengths in hours (1 to 24).
fn hours() -> Vec<usize> {
    let listed: Vec<usize> = option_env!("LSH_UPDATE_HOURS")
        .unwrap_or("1,6,24")
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .map(|h: usize| h.clamp(1, 24))
        .collect();
    if listed.is_empty() {
        vec![1, 6, 24]
    } else {
        listed
    }
}

/// Updates before the measured ones in each round (not timed).
const WARM_UP: usize = 3;

/// A small deterministic generator (xorshift), so every run draws the same day.
struct Draw(u64);

impl Draw {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Drift of a plausible stream at second `t` of the day: a session average
/// that wanders slowly, a deviation with noise, a congested stretch every
/// 40 minutes (good, then poor for a minute) and single spikes.
fn drift_at(t: usize, draw: &mut Draw) -> (f64, f64) {
    let tf = t as f64;
    let session_avg = 380.0 + 60.0 * (tf / 5400.0).sin() + 10.0 * (tf / 300.0).sin();
    let noise = (draw.unit() - 0.5) * 120.0;
    let deviation = match t % 2400 {
        600..=659 => 700.0 + noise,
        660..=719 => -1400.0 + noise,
        _ if draw.unit() < 0.002 => 1100.0,
        _ => noise,
    };
    (session_avg, deviation)
}

fn body(updated_at_ms: i64, session_avg: f64, deviation: f64) -> String {
    let mut updated_at = format_iso_utc(updated_at_ms);
    updated_at.pop(); // the API writes UTC without the `Z`
    let status = Status::from_deviation_ms(deviation).as_str();
    format!(
        r#"{{"data":[{{"ingest_health":{{"updated_at":"{updated_at}","stream_drift_session_avg":{},"stream_drift_deviation_from_rolling_avg":{},"status":"{status}"}}}}]}}"#,
        session_avg.round(),
        deviation.round()
    )
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// An unsigned token shaped like a monitor token: the widget reads `sub`
/// and `exp` without verifying (nothing is requested here).
fn token(stream: &str) -> String {
    let exp = (js_sys::Date::now() / 1000.0).floor() + 6.0 * 3600.0;
    let claims = format!(r#"{{"sub":"{stream}","aud":"live_stream_id","exp":{exp}}}"#);
    format!(
        "{}.{}.c2ln",
        base64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        base64url(claims.as_bytes())
    )
}

fn performance_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Yields to the event loop once: resolves in a later macrotask, after every
/// microtask (Leptos effects and DOM writes) queued before it.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let channel = web_sys::MessageChannel::new();
        if let Ok(channel) = channel {
            let resolve = resolve.clone();
            let on_message = wasm_bindgen::closure::Closure::once_into_js(move || {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            });
            channel
                .port1()
                .set_onmessage(Some(on_message.unchecked_ref()));
            let _ = channel.port2().post_message(&wasm_bindgen::JsValue::NULL);
        } else {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn install_long_task_observer() {
    let _ = js_sys::eval(
        "window.__lshLongTasks = [];
         window.__lshObserver = new PerformanceObserver((list) => {
           for (const entry of list.getEntries()) window.__lshLongTasks.push(entry.duration);
         });
         window.__lshObserver.observe({ type: 'longtask' });",
    );
}

/// Durations of the long tasks seen since the observer was installed.
fn take_long_tasks() -> Vec<f64> {
    let value = js_sys::eval(
        "(() => { const seen = window.__lshObserver.takeRecords().map(e => e.duration);
           window.__lshObserver.disconnect();
           return window.__lshLongTasks.concat(seen); })()",
    );
    value
        .ok()
        .map(|v| js_sys::Array::from(&v))
        .map(|a| a.iter().filter_map(|d| d.as_f64()).collect())
        .unwrap_or_default()
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn median(values: &[f64]) -> f64 {
    percentile(&sorted(values), 0.5)
}

/// One history length in one layout.
#[derive(Clone, Copy)]
struct Setup {
    hours: usize,
    layout: Layout,
}

/// What one configuration measured over all rounds.
#[derive(Default)]
struct Figures {
    samples: usize,
    first_render_ms: Vec<f64>,
    update_ms: Vec<f64>,
    with_layout_ms: Vec<f64>,
    yield_ms: Vec<f64>,
    round_medians: Vec<f64>,
    save_ms: Vec<f64>,
    long_tasks: Vec<f64>,
}

fn mount_host(layout: Layout) -> HtmlElement {
    let document = document();
    let host: HtmlElement = match document.create_element("div") {
        Ok(element) => element.unchecked_into(),
        Err(_) => panic!("cannot create a host element"),
    };
    // A monitor tab or an OBS dock.
    let size = match layout {
        Layout::Full => "width:1000px",
        Layout::Compact => "width:300px;height:120px;overflow:hidden",
    };
    let _ = host.set_attribute("style", size);
    if let Some(body) = document.body() {
        let _ = body.append_child(&host);
    }
    host
}

fn add_stylesheets() {
    let document = document();
    let Ok(style) = document.create_element("style") else {
        return;
    };
    style.set_text_content(Some(concat!(
        include_str!("../style/main.css"),
        include_str!("../style/chart.css")
    )));
    if let Some(head) = document.head() {
        let _ = head.append_child(&style);
    }
}

/// Fills `history` with `seconds` of samples one second apart, ending at
/// `end_ms`, with an outage of 45 s every two hours.
fn fill(history: &mut History, seconds: usize, end_ms: f64, draw: &mut Draw) {
    let mut outage_until = 0;
    for i in 0..seconds {
        let at = end_ms - ((seconds - 1 - i) as f64) * 1000.0;
        if i < outage_until {
            continue;
        }
        if i % 7200 == 3600 {
            history.mark_gap(at);
            outage_until = i + 45;
            continue;
        }
        let (session_avg, deviation) = drift_at(i, draw);
        history.push(Sample {
            received_ms: at,
            updated_at_ms: Some(at as i64),
            session_avg_ms: Some(session_avg),
            deviation_ms: Some(deviation),
            status: Status::from_deviation_ms(deviation),
        });
    }
}

/// One round of one configuration: mount, fill, feed `per_round()`
/// reports, time the save, unmount.
async fn measure_round(setup: Setup, figures: &mut Figures) {
    let stream = format!("bench-{}", (js_sys::Math::random() * 1e9) as u64);
    let minutes = setup.hours * 60;
    let fragment = format!(
        "endpoint=http%3A%2F%2F127.0.0.1%3A9&interval=1&history={minutes}&viewers=off&layout={}&theme=light",
        setup.layout.as_str()
    );
    let (config, notices) = params::parse("", &fragment);
    let host = mount_host(setup.layout);
    // The state lives under an owner of the benchmark's, which keeps a
    // copy to feed it; the widget is mounted under that owner.
    let owner = Owner::new();
    let state = owner.with(|| WidgetState::new(config, notices));
    let handle = owner.with(|| mount_to(host.clone(), move || view! { <Widget state=state /> }));
    let WidgetState {
        monitor, history, ..
    } = state;
    next_task().await;

    // The token goes to the monitor directly: the driver stays idle, so no
    // request competes with the measurement.
    let now = js_sys::Date::now();
    history.update(|h| {
        monitor.update(|m| {
            let _ = m.set_token(Some(token(&stream)), h, now);
        })
    });
    // The history ends as many seconds ago as there are reports to come,
    // which then arrive a second apart, never ahead of the clock.
    let reports = WARM_UP + per_round();
    let seconds = setup.hours * 3600;
    let end = now - (reports as f64 + 1.0) * 1000.0;
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let started = performance_now();
    history.update(|h| fill(h, seconds, end, &mut draw));
    next_task().await;
    figures.first_render_ms.push(performance_now() - started);
    figures.samples = history.with_untracked(History::sample_count);
    TimeoutFuture::new(100).await;

    let generation = monitor.with_untracked(|m| m.poller().generation());
    let mut round = Vec::new();
    install_long_task_observer();
    for i in 0..reports {
        let at = end + (i as f64 + 1.0) * 1000.0;
        let (session_avg, deviation) = drift_at(seconds + i, &mut draw);
        let text = body(at as i64, session_avg, deviation);

        let t0 = performance_now();
        let outcome = match parse_report(&text) {
            Ok(report) => Outcome::Report(report),
            Err(error) => panic!("the benchmark body did not parse: {error:?}"),
        };
        history.update(|h| {
            monitor.update(|m| {
                let _ = m.on_outcome(generation, &outcome, h, at, 0.5);
            })
        });
        next_task().await;
        let t1 = performance_now();
        let _ = host.offset_height();
        let t2 = performance_now();
        if i >= WARM_UP {
            round.push(t1 - t0);
            figures.update_ms.push(t1 - t0);
            figures.with_layout_ms.push(t2 - t0);
        }

        // The same yield with nothing to do, for its own cost.
        let t3 = performance_now();
        next_task().await;
        figures.yield_ms.push(performance_now() - t3);
        // Idle time between polls.
        TimeoutFuture::new(10).await;
    }
    figures.round_medians.push(median(&round));
    figures.long_tasks.extend(take_long_tasks());
    let state = host
        .query_selector(".lsh")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("data-state"));
    assert_eq!(state.as_deref(), Some("live"), "the widget did not go live");

    // The periodic save (every 30 s and on pagehide) at this history.
    let t = performance_now();
    use_persisted_history::save(monitor, history);
    figures.save_ms.push(performance_now() - t);

    drop(handle);
    drop(owner);
    host.remove();
    // Nothing of this round's stream stays in storage for the next.
    if let Some(storage) = window().session_storage().ok().flatten() {
        let _ = storage.remove_item(&storage::history_key(&stream));
    }
    TimeoutFuture::new(50).await;
}

fn print_table(setups: &[Setup], figures: &[Figures]) {
    let mut out = format!(
        "LSH-BENCH update: {} rounds, {} updates per configuration, medians over all rounds (ms)\n",
        rounds(),
        per_round() * rounds()
    );
    out.push_str(
        "  | history | samples | layout  | median | p95   | max   | round medians | + style/layout | save  | first render | long tasks |\n",
    );
    out.push_str(
        "  |---------|---------|---------|--------|-------|-------|---------------|----------------|-------|--------------|------------|\n",
    );
    for (setup, f) in setups.iter().zip(figures) {
        let updates = sorted(&f.update_ms);
        let rounds = sorted(&f.round_medians);
        out.push_str(&format!(
            "  | {:>2} h    | {:>7} | {:<7} | {:>6.2} | {:>5.2} | {:>5.1} | {:>5.2} to {:<5.2} | {:>14.2} | {:>5.1} | {:>12.0} | {:>10} |\n",
            setup.hours,
            f.samples,
            setup.layout.as_str(),
            percentile(&updates, 0.5),
            percentile(&updates, 0.95),
            updates.last().copied().unwrap_or(f64::NAN),
            rounds.first().copied().unwrap_or(f64::NAN),
            rounds.last().copied().unwrap_or(f64::NAN),
            median(&f.with_layout_ms),
            median(&f.save_ms),
            median(&f.first_render_ms),
            f.long_tasks.len(),
        ));
    }
    let yields: Vec<f64> = figures.iter().flat_map(|f| f.yield_ms.clone()).collect();
    out.push_str(&format!(
        "  empty yield (the timing's own overhead): median {:.2} ms\n",
        median(&yields)
    ));
    for layout in [Layout::Full, Layout::Compact] {
        let of = |h: usize| {
            setups
                .iter()
                .zip(figures)
                .find(|(s, _)| s.hours == h && s.layout == layout)
                .map(|(_, f)| median(&f.update_ms))
        };
        if let (Some(shortest), Some(longest)) = (
            of(*hours().iter().min().unwrap_or(&1)),
            of(*hours().iter().max().unwrap_or(&24)),
        ) {
            out.push_str(&format!(
                "  {}: longest history / shortest: {:.2}x\n",
                layout.as_str(),
                longest / shortest
            ));
        }
    }
    let long: Vec<String> = figures
        .iter()
        .flat_map(|f| f.long_tasks.iter().map(|d| format!("{d:.0}")))
        .collect();
    out.push_str(&format!(
        "  long tasks (>50 ms) while updating: {} [{}]",
        long.len(),
        long.join(", ")
    ));
    console_log!("{out}");
}

/// The pure pieces a poll's render runs at the longest history, each timed
/// alone (median of a few calls), to show where the time goes.
fn next_at_of(history: &History) -> f64 {
    history.entries().back().map_or(0.0, |e| e.at_ms())
}

fn print_breakdown(hours: usize) {
    const RUNS: usize = 15;
    let time = |work: &mut dyn FnMut()| {
        let runs: Vec<f64> = (0..RUNS)
            .map(|_| {
                let t = performance_now();
                work();
                performance_now() - t
            })
            .collect();
        median(&runs)
    };
    fn bb<T>(value: T) {
        std::hint::black_box(value);
    }
    let now = js_sys::Date::now();
    let mut history = History::new((hours * 60) as u32);
    fill(&mut history, hours * 3600, now - 1000.0, &mut Draw(7));
    let frame = ChartFrame {
        now_ms: now,
        window_ms: history.window_ms(),
        width: plot_width_for(1000.0),
        height: PLOT_HEIGHT,
        interval_ms: 1000.0,
    };
    // One more sample into a history whose chart and summary are kept.
    let mut kept_history = history.clone();
    let mut chart = ChartCache::default();
    let mut summary = SummaryCache::default();
    let _ = chart.geometry(&kept_history, &frame);
    let _ = summary.summarise_to_newest(&kept_history, 1000.0);
    let mut next_at = now;
    let mut one_more = |work: &mut dyn FnMut(&History)| {
        next_at += 1000.0;
        kept_history.push(Sample {
            received_ms: next_at,
            updated_at_ms: Some(next_at as i64),
            session_avg_ms: Some(400.0),
            deviation_ms: Some(12.0),
            status: Status::Excellent,
        });
        let t = performance_now();
        work(&kept_history);
        performance_now() - t
    };
    let kept_chart = median(
        &(0..RUNS)
            .map(|_| {
                one_more(&mut |h| {
                    let frame = ChartFrame {
                        now_ms: next_at_of(h),
                        ..frame
                    };
                    bb(chart.geometry(h, &frame))
                })
            })
            .collect::<Vec<_>>(),
    );
    let kept_summary = median(
        &(0..RUNS)
            .map(|_| one_more(&mut |h| bb(summary.summarise_to_newest(h, 1000.0))))
            .collect::<Vec<_>>(),
    );
    let pieces = [
        ("chart geometry, kept (one new sample)", kept_chart),
        ("summary, kept (one new sample)", kept_summary),
        ("trend", time(&mut || bb(trend::estimate(&history, now)))),
        (
            "chart geometry from scratch",
            time(&mut || bb(chart_geometry(&history, &frame))),
        ),
        (
            "summary from scratch",
            time(&mut || bb(summarise(&history, now, 1000.0))),
        ),
        (
            "save: encode 20,000 entries",
            time(&mut || bb(storage::encode(&history))),
        ),
    ];
    let pieces: Vec<String> = pieces
        .iter()
        .map(|(name, ms)| format!("{name} {ms:.2}"))
        .collect();
    console_log!(
        "  pieces alone at {hours} h (median ms): {}",
        pieces.join(", ")
    );
}

#[wasm_bindgen_test]
async fn one_update_at_1_6_and_24_hours_of_history() {
    add_stylesheets();
    let setups: Vec<Setup> = hours()
        .into_iter()
        .flat_map(|hours| {
            [Layout::Full, Layout::Compact]
                .into_iter()
                .map(move |layout| Setup { hours, layout })
        })
        .collect();
    let mut figures: Vec<Figures> = setups.iter().map(|_| Figures::default()).collect();
    for round in 0..rounds() {
        // Rotate the order, so no configuration always runs first or last.
        for k in 0..setups.len() {
            let index = (k + round) % setups.len();
            measure_round(setups[index], &mut figures[index]).await;
        }
    }
    print_table(&setups, &figures);
    print_breakdown(*hours().iter().max().unwrap_or(&24));
    for (setup, f) in setups.iter().zip(&figures) {
        assert_eq!(f.update_ms.len(), per_round() * rounds());
        assert!(f.update_ms.iter().all(|t| t.is_finite() && *t >= 0.0));
        assert!(f.samples + 1000 >= setup.hours * 3600 * 98 / 100);
    }
}

// ---------------------------------------------------------------------------
// The wall: many streams at once

/// Streams on the wall (1 to 16, default 16).
fn wall_streams() -> usize {
    count(option_env!("LSH_WALL_STREAMS"), 16).clamp(1, 16)
}

/// Polls per stream (default 2,000).
fn wall_polls() -> usize {
    count(option_env!("LSH_WALL_POLLS"), 2000).max(1)
}

/// Hours of history per stream (1 to 24, default 24).
fn wall_hours() -> usize {
    count(option_env!("LSH_WALL_HOURS"), 24).clamp(1, 24)
}

/// The wall's poll interval.
const WALL_INTERVAL_S: usize = 5;

/// The JS heap in use, after a collection when the page may force one
/// (`--js-flags=--expose-gc`): exact with `--enable-precise-memory-info`,
/// else Chromium rounds it. `None` outside Chromium.
fn js_heap_bytes() -> Option<f64> {
    js_sys::eval(
        "(() => { if (typeof gc === 'function') gc();
           return performance.memory ? performance.memory.usedJSHeapSize : null; })()",
    )
    .ok()
    .and_then(|v| v.as_f64())
}

/// The WebAssembly linear memory (it only grows).
fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
        .into()
}

fn megabytes(bytes: Option<f64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.1} MB", b / 1e6))
}

/// Fills `history` with `hours` of samples `WALL_INTERVAL_S` apart,
/// ending at `end_ms`.
fn fill_every_interval(history: &mut History, hours: usize, end_ms: f64, draw: &mut Draw) {
    let count = hours * 3600 / WALL_INTERVAL_S;
    for i in 0..count {
        let at = end_ms - ((count - 1 - i) * WALL_INTERVAL_S * 1000) as f64;
        let (session_avg, deviation) = drift_at(i * WALL_INTERVAL_S, draw);
        history.push(Sample {
            received_ms: at,
            updated_at_ms: Some(at as i64),
            session_avg_ms: Some(session_avg),
            deviation_ms: Some(deviation),
            status: Status::from_deviation_ms(deviation),
        });
    }
}

/// The wall with `LSH_WALL_STREAMS` streams (16) at a 5 s interval, each
/// with `LSH_WALL_HOURS` (24) of history, mounted through [`Wall`] with
/// states the benchmark built and keeps (its `prepared` streams: no
/// poller, so no request competes with the measurement). Then
/// `LSH_WALL_POLLS` (2,000) reports per stream go in the way a poll's do,
/// the streams taking turns (stream 1's poll k, stream 2's poll k, ...).
/// Each update is timed from before the parse until a macrotask after it,
/// as above. The memory (JS heap and wasm linear memory) is read before
/// anything, once the histories are full (before and after mounting the
/// wall), and after the last poll.
///
/// Each report arrives at the time it goes in (so every tile is fresh and
/// draws its newest samples, as on a live wall) and says it was updated
/// 5 s after that stream's last (so every report is a new sample, not a
/// repeat). The polls come far faster than every 5 s, so the figures lean
/// high: no sample leaves the day's window (each history ends with all of
/// its polls' samples, 2,000 more than a day at 5 s), and the last
/// minutes hold more samples than they would live (the trend reads them
/// all). The wasm memory is the most it ever held: linear memory never
/// shrinks.
#[wasm_bindgen_test]
async fn a_wall_of_streams_each_with_a_day_of_history() {
    add_stylesheets();
    let streams = wall_streams();
    let polls = wall_polls();
    let hours = wall_hours();
    let fragment = format!(
        "endpoint=http%3A%2F%2F127.0.0.1%3A9&interval={WALL_INTERVAL_S}&history={}&viewers=off&theme=light",
        hours * 60
    );
    let (config, _) = params::parse("", &fragment);
    let heap_before = js_heap_bytes();
    let wasm_before = wasm_memory_bytes();

    let host = mount_host(Layout::Full);
    let _ = host.set_attribute("style", "width:1600px");
    let owner = Owner::new();
    let now = js_sys::Date::now();
    // The histories end one interval before the first poll.
    let end = now - (WALL_INTERVAL_S * 1000) as f64;
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let started = performance_now();
    let prepared: Vec<(WallStream, WidgetState)> = (0..streams)
        .map(|i| {
            let stream = format!("wall-bench-{i}-{}", (js_sys::Math::random() * 1e9) as u64);
            let token = token(&stream);
            let state = owner.with(|| {
                WidgetState::new(
                    Config {
                        layout: Layout::Compact,
                        ..config.clone()
                    },
                    Vec::new(),
                )
            });
            state.history.update(|h| {
                state.monitor.update(|m| {
                    let _ = m.set_token(Some(token.clone()), h, now);
                });
                fill_every_interval(h, hours, end, &mut draw);
            });
            let label = Some(format!("Camera {}", i + 1));
            (WallStream { token, label }, state)
        })
        .collect();
    let states: Vec<WidgetState> = prepared.iter().map(|(_, state)| *state).collect();
    let heap_filled = js_heap_bytes();
    let wasm_filled = wasm_memory_bytes();
    let link = WallLink::default();
    let handle = owner.with(|| {
        mount_to(host.clone(), move || {
            view! { <Wall config link notices=Vec::new() prepared /> }
        })
    });
    next_task().await;
    let first_render_ms = performance_now() - started;
    let samples = states[0].history.with_untracked(History::sample_count);
    TimeoutFuture::new(100).await;
    let heap_full = js_heap_bytes();
    let wasm_full = wasm_memory_bytes();

    let generations: Vec<u64> = states
        .iter()
        .map(|s| s.monitor.with_untracked(|m| m.poller().generation()))
        .collect();
    let mut update_ms = Vec::with_capacity(polls * streams);
    install_long_task_observer();
    for k in 0..polls {
        for (state, generation) in states.iter().zip(&generations) {
            let (session_avg, deviation) = drift_at((samples + k) * WALL_INTERVAL_S, &mut draw);
            let at = js_sys::Date::now();
            let updated_at = end + ((k + 1) * WALL_INTERVAL_S * 1000) as f64;
            let text = body(updated_at as i64, session_avg, deviation);
            let t0 = performance_now();
            let outcome = match parse_report(&text) {
                Ok(report) => Outcome::Report(report),
                Err(error) => panic!("the benchmark body did not parse: {error:?}"),
            };
            state.history.update(|h| {
                state.monitor.update(|m| {
                    let _ = m.on_outcome(*generation, &outcome, h, at, 0.5);
                })
            });
            next_task().await;
            // The first round warms up.
            if k > 0 || polls == 1 {
                update_ms.push(performance_now() - t0);
            }
        }
    }
    let long_tasks = take_long_tasks();
    TimeoutFuture::new(100).await;
    let heap_after = js_heap_bytes();
    let wasm_after = wasm_memory_bytes();
    let samples_after = states[0].history.with_untracked(History::sample_count);
    let tiles = host
        .query_selector_all(".lsh-tile[data-state=\"live\"]")
        .map_or(0, |tiles| tiles.length() as usize);

    let updates = sorted(&update_ms);
    console_log!(
        "LSH-BENCH wall: {streams} streams, interval {WALL_INTERVAL_S} s, {hours} h of history \
         ({samples} samples per stream), {polls} polls per stream\n  \
         update per poll (ms): median {:.2}, p95 {:.2}, max {:.1} over {} polls; \
         long tasks (>50 ms): {}\n  \
         first render with full histories: {first_render_ms:.0} ms\n  \
         memory | JS heap | wasm memory\n  \
         before anything | {} | {}\n  \
         histories full, wall not mounted | {} | {}\n  \
         histories full, wall mounted | {} | {}\n  \
         after {polls} polls per stream ({samples_after} samples per stream) | {} | {}",
        percentile(&updates, 0.5),
        percentile(&updates, 0.95),
        updates.last().copied().unwrap_or(f64::NAN),
        updates.len(),
        long_tasks.len(),
        megabytes(heap_before),
        megabytes(Some(wasm_before)),
        megabytes(heap_filled),
        megabytes(Some(wasm_filled)),
        megabytes(heap_full),
        megabytes(Some(wasm_full)),
        megabytes(heap_after),
        megabytes(Some(wasm_after)),
    );

    drop(handle);
    drop(owner);
    host.remove();
    assert_eq!(tiles, streams, "every tile went live");
    assert!(update_ms.iter().all(|t| t.is_finite() && *t >= 0.0));
}
