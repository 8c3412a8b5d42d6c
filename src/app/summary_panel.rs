//! The session summary and event log: time in each status over the window,
//! the worst deviation and when, the list of status changes, and a CSV
//! download of that list. Content and CSV come from
//! [`crate::core::summary`]; this file places the markup and makes the
//! download (the button is handled by the widget's one click listener,
//! `data-action="download-csv"`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::memo;
use crate::core::history::History;
use crate::core::summary::{changes_csv, render_html, summarise, Summary};

fn zone_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
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
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&csv));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(anchor) = document().create_element("a") {
        if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() {
            anchor.set_href(&url);
            anchor.set_download("stream-health-events.csv");
            anchor.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The summary panel (full layout). While `drawn` is false (the compact
/// layout hides the panel) its content is not computed.
pub fn summary_panel(
    history: RwSignal<History>,
    interval_ms: Signal<f64>,
    drawn: Signal<bool>,
) -> impl IntoView {
    let offset = zone_offset_minutes();
    let markup = memo(move || {
        if !drawn.get() {
            return String::new();
        }
        let interval = interval_ms.get();
        history.with(|h| render_html(&summary_of(h, interval), offset))
    });
    view! {
        <section class="lsh-summary" data-summary aria-label="Session summary">
            <div inner_html=markup></div>
            <button type="button" class="lsh-button" data-action="download-csv" data-download-csv>
                "Download CSV"
            </button>
        </section>
    }
}
