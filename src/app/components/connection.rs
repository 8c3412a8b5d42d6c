//! [`ConnectionLine`]: the connection state, the data's age, a stale tag
//! and who polls for this tab.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::markup;

/// The connection line.
#[component]
pub fn ConnectionLine() -> impl IntoView {
    let view = expect_context::<LiveView>().view;
    view! { <div class="lsh-conn" inner_html=move || view.with(markup::connection)></div> }
}
