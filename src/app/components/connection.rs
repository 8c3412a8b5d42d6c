//! [`ConnectionLine`]: the connection state, the data's age, a stale tag
//! and who polls for this tab.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::monitor::Role;

/// What a follower's "shared" tag says on hover.
const SHARED_TITLE: &str =
    "Another tab or dock showing this stream fetches the data and shares it with this one";

/// The connection line: `[data-state-text]` ("Live", "Retrying in 8 s"),
/// `[data-updated]` ("Updated 4 s ago"), `[data-stale-tag]` while the
/// values are old, and `[data-poller]`: `leader`, `follower` (which reads
/// "shared", or a streamer would wonder why this tab's network panel stays
/// quiet) or `solo`.
#[component]
pub fn ConnectionLine() -> impl IntoView {
    let live = expect_context::<LiveView>();
    let view = live.view;
    let following = move || live.role() == Role::Follower;
    view! {
        <div class="lsh-conn">
            <span class="lsh-state-text" data-state-text>
                {move || view.with(|v| v.state_text.clone())}
            </span>
            <span class="lsh-updated" data-updated>
                {move || view.with(|v| v.updated_text.clone()).unwrap_or_default()}
            </span>
            <Show when=move || live.stale()>
                <span class="lsh-stale-tag" data-stale-tag>
                    "stale"
                </span>
            </Show>
            <span
                class="lsh-poller"
                data-poller=move || live.role().as_str()
                title=move || following().then_some(SHARED_TITLE)
            >
                {move || if following() { "shared" } else { "" }}
            </span>
        </div>
    }
}
