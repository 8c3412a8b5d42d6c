//! [`Messages`]: the sentence for the streamer (`[data-message]`) and the
//! link's expiry countdown (`[data-expiry]`), each present only while it
//! has something to say.

use leptos::prelude::*;

use crate::app::view_model::LiveView;

/// `[data-message]` and `[data-expiry]`. Each paragraph stays the same
/// element while its text changes (a retry countdown, the minutes left),
/// and is absent, not empty, when there is nothing to say.
#[component]
pub fn Messages() -> impl IntoView {
    let view = expect_context::<LiveView>().view;
    let message = move || view.with(|v| v.message.clone()).unwrap_or_default();
    let expiry = move || view.with(|v| v.expiry_text.clone()).unwrap_or_default();
    view! {
        <Show when=move || view.with(|v| v.message.is_some())>
            <p class="lsh-message" data-message>{message}</p>
        </Show>
        <Show when=move || view.with(|v| v.expiry_text.is_some())>
            <p class="lsh-expiry" data-expiry>{expiry}</p>
        </Show>
    }
}
