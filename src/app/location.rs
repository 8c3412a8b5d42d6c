//! Following the page's URL fragment while the monitor is open.
//!
//! A streamer who pastes a fresh monitor link into the tab they already have
//! open changes only the fragment, which the browser treats as the same
//! document: nothing reloads. The widget listens for `hashchange`: when only
//! the token differs it swaps the token in place (history is kept when the
//! stream is the same), and any other change of settings reloads the page so
//! the new link is applied as a whole.

use leptos::ev;
use leptos::prelude::*;

use crate::app::config_from_location;
use crate::app::driver::Driver;
use crate::core::monitor::Monitor;

/// Starts following the fragment; removing the returned listener stops it.
pub fn follow_fragment(monitor: RwSignal<Monitor>, driver: Driver) -> WindowListenerHandle {
    window_event_listener(ev::hashchange, move |_| {
        let (config, _) = config_from_location();
        let only_token_changed = monitor
            .try_with_untracked(|m| {
                let mut current = m.config().clone();
                current.token.clone_from(&config.token);
                current == config
            })
            .unwrap_or(false);
        if only_token_changed {
            driver.set_token(config.token);
        } else {
            // Other settings changed: apply the new link as a whole.
            let _ = window().location().reload();
        }
    })
}
