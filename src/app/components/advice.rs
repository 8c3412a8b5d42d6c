//! [`Advice`]: the slow-drift warning, the advice for the status or state,
//! and the buttons that enable alerts.

use leptos::prelude::*;

use crate::app::components::alert_prompts::AlertPrompts;
use crate::app::use_alerts::UseAlerts;
use crate::app::view_model::LiveView;
use crate::core::advice::SLOW_DRIFT;
use crate::core::obs::Diagnosis;

/// `.lsh-extras`: `[data-drift-warning]` while the stream is slowly falling
/// behind, `[data-advice]` (what the status or state means and what to
/// do, followed, when the link reads OBS and OBS gives something to judge
/// by, by the diagnosis from both sides, whose value is the advice's
/// `data-diagnosis`), and, while an alert channel waits for the viewer, its button in
/// `[data-alerts]` ([`AlertPrompts`]).
#[component]
pub fn Advice(
    /// The alert prompts and what their buttons do.
    alerts: UseAlerts,
) -> impl IntoView {
    let live = expect_context::<LiveView>();
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
            <AlertPrompts alerts />
        </div>
    }
}
