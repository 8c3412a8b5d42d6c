//! [`Advice`]: the slow-drift warning, the advice and the alert prompts.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::use_alerts::UseAlerts;
use crate::app::view_model::LiveView;
use crate::core::markup::{self, Extras};

/// The extras below the metrics.
#[component]
pub fn Advice(
    /// The alert prompts and what their buttons do.
    alerts: UseAlerts,
) -> impl IntoView {
    let live = expect_context::<LiveView>();
    let extras = move || {
        markup::extras(&Extras {
            advice: live.view.with(|v| v.advice),
            falling_behind: live.falling_behind(),
            sound_locked: alerts.sound_locked.get(),
            notify_needed: alerts.notify_needed.get(),
        })
    };
    let on_click = move |event: ev::MouseEvent| {
        let action = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("[data-action]").ok().flatten())
            .and_then(|b| b.get_attribute("data-action"));
        match action.as_deref() {
            Some("enable-sound") => alerts.unlock_sound.run(()),
            Some("enable-notifications") => alerts.enable_notifications.run(()),
            _ => {}
        }
    };
    view! { <div class="lsh-extras" inner_html=extras on:click=on_click></div> }
}
