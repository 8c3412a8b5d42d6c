//! The session summary and event log: time in each status over the window,
//! the worst deviation and when, the list of status changes, and a CSV
//! download of that list. Content and CSV come from
//! [`crate::core::summary`]; this file places the markup and makes the
//! download (the button is handled by the widget's one click listener,
//! `data-action="download-csv"`).

use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::app::widget::Ui;
use crate::app::{bound, html};
use crate::core::history::History;
use crate::core::monitor::Monitor;
use crate::core::summary::{changes_csv, render_html, summarise, Summary};

/// The browser's UTC offset now, in minutes east of UTC.
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
    let _ = save_file("stream-health-events.csv", "text/csv;charset=utf-8", &csv);
}

/// Hands `text` to the browser as a download named `name`: a Blob behind
/// an object URL, clicked through a detached link, then revoked.
fn save_file(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = Array::of1(&JsValue::from_str(text));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let anchor: HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    Url::revoke_object_url(&url)
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
