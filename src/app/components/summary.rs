//! [`SummaryPanel`]: the session summary (full layout): time in each
//! status over the window, the worst deviation and when, the event log
//! ([`EventList`]) and a CSV download of it.
//!
//! Content and CSV come from [`crate::core::summary`]; the summary is a
//! memo over the history, computed only while the full layout shows it,
//! through a [`SummaryCache`] the panel owns, so a poll costs the entries
//! that arrived and left, not the whole window.

use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::app::components::event_list::EventList;
use crate::app::components::viewers::PeakViewers;
use crate::app::state::{Ui, WidgetState};
use crate::app::view_model::LiveView;
use crate::core::obs::{Diagnosis, EncoderState};
use crate::core::status::Status;
use crate::core::summary::{
    changes_csv_with_obs, share_line, share_percent, worst_line, worst_value, SummaryCache,
};

/// The summary panel: `[data-summary]` with one `[data-share]` per status
/// (a static list of the four statuses whose texts follow the summary),
/// `[data-worst]` (the worst deviation in ms, empty before there is one),
/// the event log and `[data-action="download-csv"]`.
#[component]
pub fn SummaryPanel() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let live = expect_context::<LiveView>();
    let offset_minutes = zone_offset_minutes();
    let cache = StoredValue::new(SummaryCache::default());
    let summary = Memo::new(move |_| {
        if !state.ui.with(Ui::is_full) {
            return None;
        }
        let interval = live.interval_ms.get();
        state
            .history
            .with(|h| cache.try_update_value(|cache| cache.summarise_to_newest(h, interval)))
    });
    let download = move |_| {
        let interval = live.interval_ms.get_untracked();
        let changes = state.history.with_untracked(|h| {
            cache.try_update_value(|cache| cache.summarise_to_newest(h, interval).changes)
        });
        let Some(changes) = changes else {
            return;
        };
        // A count stands for its moment until the one after next was due.
        let reads_obs = state.obs.with_untracked(|c| c.state() != EncoderState::Off);
        let csv = state.viewers.with_untracked(|v| {
            let hold_ms = 2.0 * v.poller().interval_ms();
            let viewers_at = |at| v.history().viewers_at(at, hold_ms);
            state.obs_diagnoses.with_untracked(|log| {
                let obs_at = |at| log.at(at);
                let obs_at: Option<&dyn Fn(f64) -> Option<Diagnosis>> =
                    reads_obs.then_some(&obs_at);
                changes_csv_with_obs(&changes, viewers_at, obs_at)
            })
        });
        let _ = save_file("stream-health-events.csv", "text/csv;charset=utf-8", &csv);
    };
    view! {
        <section class="lsh-summary" data-summary aria-label="Session summary">
            <div>
                <ul class="lsh-shares">
                    {Status::ALL.map(|status| view! {
                        <li data-share=status.as_str()>
                            <span
                                class="lsh-share-bar"
                                style:--lsh-share=move || {
                                    let percent = summary
                                        .with(|s| s.as_ref().map_or(0, |s| share_percent(s, status)));
                                    format!("{percent}%")
                                }
                            ></span>
                            {move || {
                                summary
                                    .with(|s| s.as_ref().map(|s| share_line(s, status)))
                                    .unwrap_or_default()
                            }}
                        </li>
                    })}
                </ul>
                <p
                    class="lsh-worst"
                    data-worst=move || {
                        summary
                            .with(|s| s.as_ref().and_then(worst_value))
                            .map(|ms| ms.to_string())
                            .unwrap_or_default()
                    }
                >
                    {move || {
                        summary
                            .with(|s| s.as_ref().map(|s| worst_line(s, offset_minutes)))
                            .unwrap_or_default()
                    }}
                </p>
                <PeakViewers offset_minutes=offset_minutes />
                <EventList summary=summary offset_minutes=offset_minutes />
            </div>
            <button
                type="button"
                class="lsh-button"
                data-action="download-csv"
                data-download-csv
                on:click=download
            >
                "Download CSV"
            </button>
        </section>
    }
}

/// The browser's UTC offset now, in minutes east of UTC.
fn zone_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
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
