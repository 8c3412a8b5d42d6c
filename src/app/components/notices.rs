//! [`Notices`]: parameters of the URL that were ignored or adjusted.

use leptos::prelude::*;

use crate::app::state::WidgetState;
use crate::core::markup::notice_items;

/// `[data-notices]`, when there are any.
#[component]
pub fn Notices() -> impl IntoView {
    let monitor = expect_context::<WidgetState>().monitor;
    let items = monitor.with_untracked(|m| notice_items(m.notices()));
    (!items.is_empty()).then(|| {
        view! { <ul class="lsh-notices" data-notices inner_html=items></ul> }
    })
}
