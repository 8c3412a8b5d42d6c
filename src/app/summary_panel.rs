//! The session summary and event log: time in each status over the window,
//! the worst deviation and when, the list of status changes, and a CSV
//! download of that list. Content and CSV come from
//! [`crate::core::summary`]; this file places the markup and makes the
//! download (the button is handled by the widget's one click listener,
//! `data-action="download-csv"`).

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::widget::Ui;
use crate::app::{bound, html, js};
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::summary::{changes_csv, render_html, summarise, Summary};

fn zone_offset_minutes() -> i32 {
    let offset = js::construct("Date", &[])
        .and_then(|date| js::call(&date, "getTimezoneOffset", &[]))
        .ok()
        .and_then(|minutes| minutes.as_f64())
        .unwrap_or(0.0);
    -(offset as i32)
}

fn summary_of(history: &History, interval_ms: f64) -> Summary {
    // Up to the newest entry, so it changes with the history, not the clock.
    let end = history.entries().back().map_or(0.0, |e| e.at_ms());
    summarise(history, end, interval_ms)
}

/// Downloads the event log as `stream-health-events.csv`.
pub fn download_csv(history: RwSignal<History>, interval_ms: f64) {
    let Some(csv) =
        history.try_with_untracked(|h| changes_csv(&summary_of(h, interval_ms).changes))
    else {
        return;
    };
    let options = js_sys::Object::new();
    js::set(
        &options,
        "type",
        &JsValue::from_str("text/csv;charset=utf-8"),
    );
    let parts = js::array(&[JsValue::from_str(&csv)]);
    let Ok(blob) = js::construct("Blob", &[parts.into(), options.into()]) else {
        return;
    };
    let url_api = js::get(&window(), "URL");
    let Ok(url) = js::call(&url_api, "createObjectURL", &[blob]) else {
        return;
    };
    if let Ok(anchor) = document().create_element("a") {
        js::set(&anchor, "href", &url);
        js::set(
            &anchor,
            "download",
            &JsValue::from_str("stream-health-events.csv"),
        );
        let _ = js::call(&anchor, "click", &[]);
    }
    let _ = js::call(&url_api, "revokeObjectURL", &[url]);
}

/// The summary panel (full layout). While the layout is compact (which
/// hides the panel) its content is not computed.
pub fn summary_panel(
    history: RwSignal<History>,
    monitor: RwSignal<Monitor>,
    ui: RwSignal<Ui>,
) -> impl IntoView {
    let offset = zone_offset_minutes();
    let markup = move || {
        if !ui.with(|ui| ui.is_full()) {
            return String::new();
        }
        let interval = monitor.with(|m| m.poller().interval_ms());
        history.with(|h| render_html(&summary_of(h, interval), offset))
    };
    view! {
        <section class="lsh-summary" data-summary aria-label="Session summary">
            <div use:bound=html(markup)></div>
            <button type="button" class="lsh-button" data-action="download-csv" data-download-csv>
                "Download CSV"
            </button>
        </section>
    }
}
