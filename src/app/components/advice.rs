//! [`Advice`]: the slow-drift warning, the advice for the status or state,
//! and the buttons that enable alerts.

use leptos::prelude::*;

use crate::app::use_alerts::UseAlerts;
use crate::app::view_model::LiveView;
use crate::core::advice::SLOW_DRIFT;
use crate::core::obs::Diagnosis;

/// `.lsh-extras`: `[data-drift-warning]` while the stream is slowly falling
/// behind, `[data-advice]` (what the status or state means and what to
/// do, followed, when the link reads OBS and OBS gives something to judge
/// by, by the diagnosis from both sides, whose value is the advice's
/// `data-diagnosis`), and, while an alert channel waits for the viewer, its button in
/// `[data-alerts]`. A button stays the same element (and keeps focus)
/// while the rest changes.
#[component]
pub fn Advice(
    /// The alert prompts and what their buttons do.
    alerts: UseAlerts,
) -> impl IntoView {
    let live = expect_context::<LiveView>();
    let UseAlerts {
        sound_locked,
        notify_needed,
        unlock_sound,
        enable_notifications,
    } = alerts;
    view! {
        <div class="lsh-extras">
            <Show when=move || live.falling_behind()>
                <p class="lsh-warning" data-drift-warning role="alert">
                    {SLOW_DRIFT}
                </p>
            </Show>
            <p
                class="lsh-advice"
                data-advice
                data-diagnosis=move || live.diagnosis.get().map(Diagnosis::as_str)
            >
                {move || live.view.with(|v| v.advice)}
                {move || {
                    live.diagnosis
                        .get()
                        .map(|d| view! { " " <span class="lsh-diagnosis">{d.sentence()}</span> })
                }}
            </p>
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
        </div>
    }
}
