//! [`AlertPrompts`]: the buttons an alert channel needs from the viewer
//! before it can work (sound waits for a gesture, notifications for a
//! permission). Shown by the monitor's advice and by the wall.

use leptos::prelude::*;

use crate::app::use_alerts::UseAlerts;

/// `[data-alerts]` while an alert channel waits for the viewer, with its
/// button (`data-action="enable-sound"`, `"enable-notifications"`). A
/// button stays the same element (and keeps focus) while the rest changes.
#[component]
pub fn AlertPrompts(
    /// The alert prompts and what their buttons do.
    alerts: UseAlerts,
) -> impl IntoView {
    let UseAlerts {
        sound_locked,
        notify_needed,
        unlock_sound,
        enable_notifications,
    } = alerts;
    view! {
        <Show when=move || sound_locked.get() || notify_needed.get()>
            <div class="lsh-alerts" data-alerts>
                <Show when=move || sound_locked.get()>
                    <button
                        type="button"
                        class="lsh-button"
                        data-action="enable-sound"
                        on:click=move |_| unlock_sound.run(())
                    >
                        "Enable sound alerts"
                    </button>
                </Show>
                <Show when=move || notify_needed.get()>
                    <button
                        type="button"
                        class="lsh-button"
                        data-action="enable-notifications"
                        on:click=move |_| enable_notifications.run(())
                    >
                        "Enable desktop notifications"
                    </button>
                </Show>
            </div>
        </Show>
    }
}
