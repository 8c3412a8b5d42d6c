//! [`use_location_fragment`]: a monitor link pasted into the open tab takes
//! effect at once.
//!
//! A streamer who pastes a fresh monitor link into the tab they already
//! have open changes only the fragment, which the browser treats as the
//! same document: nothing reloads by itself.

use leptos::ev;
use leptos::prelude::*;

use crate::core::monitor::Monitor;
use crate::core::params::{self, Config, Notice};

/// Reads the configuration from the page's URL: the query string and the
/// fragment (the fragment wins where both carry a key).
pub fn config_from_location() -> (Config, Vec<Notice>) {
    let location = window().location();
    let query = location.search().unwrap_or_default();
    let fragment = location.hash().unwrap_or_default();
    params::parse(
        query.strip_prefix('?').unwrap_or(&query),
        fragment.strip_prefix('#').unwrap_or(&fragment),
    )
}

/// Follows the page's URL fragment while the owner lives.
///
/// ```ignore
/// use_location_fragment(state.monitor, poller.set_token);
/// ```
///
/// On `hashchange`, when only the token differs from what `monitor` is
/// configured with, `on_token` gets the new one (the widget keeps the
/// history when the stream is the same); any other change of settings
/// reloads the page so the new link is applied as a whole. The listener is
/// removed at the owner's cleanup.
pub fn use_location_fragment(monitor: RwSignal<Monitor>, on_token: UnsyncCallback<Option<String>>) {
    let listener = window_event_listener(ev::hashchange, move |_| {
        let (config, _) = config_from_location();
        let only_token_changed = monitor
            .try_with_untracked(|m| {
                let mut current = m.config().clone();
                current.token.clone_from(&config.token);
                current == config
            })
            .unwrap_or(false);
        if only_token_changed {
            on_token.run(config.token);
        } else {
            // Other settings changed: apply the new link as a whole.
            let _ = window().location().reload();
        }
    });
    on_cleanup(move || listener.remove());
}
