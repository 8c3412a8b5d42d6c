//! Benchmark: the main-thread cost of one poll at full history, in headless
//! Chromium (wasm-bindgen-test). Prints figures; asserts only that they were
//! produced (`tests/bench.sh` runs it in release, `tests/run-all.sh` runs a
//! smoke with a few iterations).
//!
//! The widget is mounted with the real stylesheets over a history of a full
//! day at one poll per second (`history=1440`, 86,400 samples: drifting
//! values, excursions into good and poor, and outages), through
//! [`Widget`], the same component the page mounts, over a [`WidgetState`]
//! the benchmark keeps a copy of (so it needs no way into the widget but
//! the state every widget is built on). Then each report
//! goes the way a poll's does: the body is parsed by [`parse_report`], the
//! monitor and the history are updated by [`Monitor::on_outcome`] (what the
//! poll driver calls when a request settles), and Leptos re-renders. Each
//! update is timed with `performance.now()` from before the parse until a
//! macrotask after it, so every effect and DOM write it caused (they run as
//! microtasks) is inside; a second figure adds the style and layout the
//! browser does before it can paint (forced by reading `offsetHeight`). A
//! `PerformanceObserver` counts long tasks (over 50 ms) on the page while the
//! reports go in, including the widget's own clock ticks and saves.
//!
//! The network is left out on purpose: the driver is idle (the monitor gets
//! its token directly, not through the driver), so only the main-thread
//! work a poll causes is measured. Both layouts are measured.
//!
//! Counts come from the environment at build time: `LSH_UPDATE_ITERATIONS`
//! (default 200) and `LSH_UPDATE_SAMPLES` (default 86,400).

#![cfg(all(target_arch = "wasm32", feature = "csr"))]

use gloo_timers::future::TimeoutFuture;
use leptos::mount::mount_to;
use leptos::prelude::*;
use live_stream_health::app::use_persisted_history;
use live_stream_health::app::{Widget, WidgetState};
use live_stream_health::core::api::parse_report;
use live_stream_health::core::chart::{chart_geometry, ChartFrame};
use live_stream_health::core::chart_svg::{
    plot_markup, plot_width_for, PLOT_HEIGHT, SPARK_HEIGHT, SPARK_WIDTH,
};
use live_stream_health::core::history::{History, Sample};
use live_stream_health::core::params::{self, Layout};
use live_stream_health::core::poll::Outcome;
use live_stream_health::core::status::Status;
use live_stream_health::core::summary::{change_line, listed_changes, share_line, summarise};
use live_stream_health::core::time::format_iso_utc;
use live_stream_health::core::trend;
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

fn history_samples() -> usize {
    count(option_env!("LSH_UPDATE_SAMPLES"), 86_400)
}

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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

struct Figures {
    layout: &'static str,
    samples: usize,
    first_render_ms: f64,
    update_ms: Vec<f64>,
    with_layout_ms: Vec<f64>,
    yield_ms: Vec<f64>,
    long_tasks: Vec<f64>,
    save_ms: f64,
    breakdown: Vec<(&'static str, f64)>,
}

fn line(name: &str, values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    format!(
        "{name:<26} n={:<4} median={:>7.2} ms  p95={:>7.2} ms  max={:>7.2} ms",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.95),
        sorted.last().copied().unwrap_or(f64::NAN),
    )
}

fn report(f: &Figures) {
    let over_50: Vec<String> = f.long_tasks.iter().map(|d| format!("{d:.0}")).collect();
    console_log!(
        "LSH-BENCH update layout={} samples={} first_render_ms={:.1} save_ms={:.1}\n  {}\n  {}\n  {}\n  long tasks (>50 ms) while updating: {} [{}]",
        f.layout,
        f.samples,
        f.first_render_ms,
        f.save_ms,
        line("update + render", &f.update_ms),
        line("  + style and layout", &f.with_layout_ms),
        line("empty yield (overhead)", &f.yield_ms),
        f.long_tasks.len(),
        over_50.join(", ")
    );
    let pieces: Vec<String> = f
        .breakdown
        .iter()
        .map(|(name, ms)| format!("{name} {ms:.2}"))
        .collect();
    console_log!("  pieces alone (median ms): {}", pieces.join(", "));
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

async fn measure(layout: Layout) -> Figures {
    let stream = format!("bench-{}", (js_sys::Math::random() * 1e9) as u64);
    let fragment = format!(
        "endpoint=http%3A%2F%2F127.0.0.1%3A9&interval=1&history=1440&viewers=off&layout={}&theme=light",
        layout.as_str()
    );
    let (config, notices) = params::parse("", &fragment);
    let host = mount_host(layout);
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
    // A day at one poll per second, ending a second ago, with outages.
    let samples = history_samples();
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let started = performance_now();
    history.update(|h| {
        let mut outage_until = 0;
        for i in 0..samples {
            let at = now - ((samples - i) as f64) * 1000.0;
            if i < outage_until {
                continue;
            }
            if i % 7200 == 3600 {
                // An outage of 45 s every two hours.
                h.mark_gap(at);
                outage_until = i + 45;
                continue;
            }
            let (session_avg, deviation) = drift_at(i, &mut draw);
            h.push(Sample {
                received_ms: at,
                updated_at_ms: Some(at as i64),
                session_avg_ms: Some(session_avg),
                deviation_ms: Some(deviation),
                status: Status::from_deviation_ms(deviation),
            });
        }
    });
    next_task().await;
    let first_render_ms = performance_now() - started;
    let held = history.with_untracked(History::sample_count);
    TimeoutFuture::new(200).await;

    let generation = monitor.with_untracked(|m| m.poller().generation());
    let mut update_ms = Vec::new();
    let mut with_layout_ms = Vec::new();
    let mut yield_ms = Vec::new();
    install_long_task_observer();
    for i in 0..iterations() {
        let now = js_sys::Date::now();
        let (session_avg, deviation) = drift_at(samples + i, &mut draw);
        let text = body(now as i64, session_avg, deviation);

        let t0 = performance_now();
        let outcome = match parse_report(&text) {
            Ok(report) => Outcome::Report(report),
            Err(error) => panic!("the benchmark body did not parse: {error:?}"),
        };
        history.update(|h| {
            monitor.update(|m| {
                let _ = m.on_outcome(generation, &outcome, h, now, 0.5);
            })
        });
        next_task().await;
        let t1 = performance_now();
        let _ = host.offset_height();
        let t2 = performance_now();
        update_ms.push(t1 - t0);
        with_layout_ms.push(t2 - t0);

        // The same yield with nothing to do, for its own cost.
        let t3 = performance_now();
        next_task().await;
        yield_ms.push(performance_now() - t3);
        // Idle time between polls, as on a page polling every second.
        TimeoutFuture::new(10).await;
    }
    let long_tasks = take_long_tasks();
    let state = host
        .query_selector(".lsh")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("data-state"));
    assert_eq!(state.as_deref(), Some("live"), "the widget did not go live");

    let breakdown = breakdown(history, layout);

    // The periodic save (every 30 s and on pagehide) at full history.
    let t = performance_now();
    use_persisted_history::save(monitor, history);
    let save_ms = performance_now() - t;

    drop(handle);
    drop(owner);
    host.remove();
    Figures {
        layout: layout.as_str(),
        samples: held,
        first_render_ms,
        update_ms,
        with_layout_ms,
        yield_ms,
        long_tasks,
        save_ms,
        breakdown,
    }
}

/// The pure pieces a poll's render runs at full history, each timed alone
/// (median of a few calls), to show where the update's time goes.
fn breakdown(history: RwSignal<History>, layout: Layout) -> Vec<(&'static str, f64)> {
    const RUNS: usize = 15;
    let time = |work: &mut dyn FnMut()| {
        let mut runs: Vec<f64> = (0..RUNS)
            .map(|_| {
                let t = performance_now();
                work();
                performance_now() - t
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        percentile(&runs, 0.5)
    };
    // Keeps each result alive, so no piece is optimised away.
    fn bb<T>(value: T) {
        std::hint::black_box(value);
    }
    let now = js_sys::Date::now();
    history.with_untracked(|h| {
        let (width, height) = match layout {
            Layout::Full => (plot_width_for(1000.0), PLOT_HEIGHT),
            Layout::Compact => (SPARK_WIDTH, SPARK_HEIGHT),
        };
        let frame = ChartFrame {
            now_ms: now,
            window_ms: h.window_ms(),
            width,
            height,
            interval_ms: 1000.0,
        };
        let geometry = chart_geometry(h, &frame);
        vec![
            (
                "chart geometry",
                time(&mut || bb(chart_geometry(h, &frame))),
            ),
            ("chart markup", time(&mut || bb(plot_markup(&geometry)))),
            ("summary", time(&mut || bb(summarise(h, now, 1000.0)))),
            (
                "summary and its text",
                time(&mut || {
                    let summary = summarise(h, now, 1000.0);
                    let shares: Vec<String> = Status::ALL
                        .iter()
                        .map(|s| share_line(&summary, *s))
                        .collect();
                    let changes: Vec<String> = listed_changes(&summary)
                        .iter()
                        .map(|c| change_line(c, 0))
                        .collect();
                    bb((shares, changes))
                }),
            ),
            ("sample count", time(&mut || bb(h.sample_count()))),
            ("trend", time(&mut || bb(trend::estimate(h, now)))),
        ]
    })
}

#[wasm_bindgen_test]
async fn one_update_at_full_history() {
    add_stylesheets();
    for layout in [Layout::Full, Layout::Compact] {
        let figures = measure(layout).await;
        report(&figures);
        assert_eq!(figures.update_ms.len(), iterations());
        assert!(figures.update_ms.iter().all(|t| t.is_finite() && *t >= 0.0));
        assert!(figures.samples + 1000 >= history_samples().min(86_400));
    }
}
