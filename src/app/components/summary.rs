//! [`SummaryPanel`]: the session summary and event log.

use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::app::state::{Ui, WidgetState};
use crate::app::view_model::LiveView;
use crate::core::history::History;
use crate::core::summary::{changes_csv, render_html, summarise, Summary};

fn summary_of(history: &History, interval_ms: f64) -> Summary {
    let end = history.entries().back().map_or(0.0, |e| e.at_ms());
    summarise(history, end, interval_ms)
}

/// The summary panel (full layout).
#[component]
pub fn SummaryPanel() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let live = expect_context::<LiveView>();
    let offset = zone_offset_minutes();
    let markup = move || {
        if !state.ui.with(Ui::is_full) {
            return String::new();
        }
        let interval = live.interval_ms.get();
        state
            .history
            .with(|h| render_html(&summary_of(h, interval), offset))
    };
    let download = move |_| {
        let interval = live.interval_ms.get_untracked();
        let csv = state
            .history
            .with_untracked(|h| changes_csv(&summary_of(h, interval).changes));
        let _ = save_file("stream-health-events.csv", "text/csv;charset=utf-8", &csv);
    };
    view! {
        <section class="lsh-summary" data-summary aria-label="Session summary">
            <div inner_html=markup></div>
            <button type="button" class="lsh-button" data-action="download-csv" data-download-csv on:click=download>
                "Download CSV"
            </button>
        </section>
    }
}

/// The browser's UTC offset now, in minutes east of UTC.
fn zone_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// Hands `text` to the browser as a download named `name`.
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
