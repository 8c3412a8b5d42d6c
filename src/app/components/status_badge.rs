//! [`StatusBadge`]: the status as colour, shape and word.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::markup::status_icon;

/// The badge: an icon whose shape reads without colour (its two paths
/// change their `d`, the elements stay), and the status word in a
/// `role="status"` live region (`[data-word]`), so a change is announced
/// to screen readers. A wall's tiles pass `live=false`: sixteen live
/// regions would talk over each other, and the wall announces changes
/// itself, naming the stream.
#[component]
pub fn StatusBadge(
    /// Whether the status word is a live region.
    #[prop(default = true)]
    live: bool,
) -> impl IntoView {
    let status = expect_context::<LiveView>().status;
    let [shape, mark] = [0, 1].map(|part| move || status_icon(status.get())[part]);
    view! {
        <div class="lsh-badge">
            <svg
                class="lsh-icon"
                viewBox="0 0 24 24"
                width="24"
                height="24"
                aria-hidden="true"
                focusable="false"
            >
                <path class="lsh-icon-shape" d=shape />
                <path class="lsh-icon-mark" d=mark />
            </svg>
            <span
                class="lsh-word"
                data-word
                role=live.then_some("status")
                aria-live=live.then_some("polite")
            >
                {move || status.get().label()}
            </span>
        </div>
    }
}
