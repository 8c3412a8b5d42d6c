//! [`EventList`]: the status changes of the window, newest first.

use leptos::prelude::*;

use crate::core::summary::{change_line, listed_changes, Summary};

/// "Status changes (N)": a `<details>` with `[data-events]`, one
/// `li[data-event="<new status>"]` per change (the newest
/// [`LISTED_CHANGES`](crate::core::summary::LISTED_CHANGES)). Keyed by
/// time, so a new change adds one item and the list, its open state and
/// the focus inside it stay as they are.
#[component]
pub fn EventList(
    /// The summary whose changes are listed (`None` while hidden).
    summary: Memo<Option<Summary>>,
    /// The browser's UTC offset, minutes east, for the times shown.
    offset_minutes: i32,
) -> impl IntoView {
    let count = move || summary.with(|s| s.as_ref().map_or(0, |s| s.changes.len()));
    let listed = move || summary.with(|s| s.as_ref().map(listed_changes).unwrap_or_default());
    view! {
        <details class="lsh-events">
            <summary>"Status changes (" {count} ")"</summary>
            <ol data-events>
                <For each=listed key=|change| change.at_ms.to_bits() let:change>
                    <li data-event=change.to.as_str()>{change_line(&change, offset_minutes)}</li>
                </For>
            </ol>
        </details>
    }
}
