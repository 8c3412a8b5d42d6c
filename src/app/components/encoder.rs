//! [`EncoderPanel`]: OBS's side of the stream, in both layouts.
//!
//! With `obs=PORT` in the link, the panel says in one line where the
//! connection to OBS stands (`OBS not reachable on port 4455`, `OBS refused
//! the password`, `OBS is streaming`) and, once OBS answers, shows its
//! figures (see [`crate::core::obs::figures`]). Without `obs` it is hidden
//! and computes nothing: the encoder memo does not read the clock then.
//! Whatever OBS does, the health figures above are not touched: they come
//! from another signal.

use leptos::prelude::*;

use crate::app::view_model::LiveView;
use crate::core::format::format_value;
use crate::core::obs::{EncoderMetric, EncoderState};

/// `[data-encoder]` (`off`, `connecting`, `unreachable`, `refused`,
/// `starting`, `live`, `reconnecting`, `stopped`), with the line in
/// `[data-encoder-message]` and, while OBS is connected, the figures as
/// `[data-metric]`s with `data-value` (absent while unknown) and, for
/// frame losses over the last minute, `data-count`.
#[component]
pub fn EncoderPanel() -> impl IntoView {
    let live = expect_context::<LiveView>();
    let encoder = live.encoder;
    let state = Memo::new(move |_| encoder.with(|e| e.state));
    let connected = move || {
        matches!(
            state.get(),
            EncoderState::Starting
                | EncoderState::Live
                | EncoderState::Reconnecting
                | EncoderState::Stopped
        )
    };
    let figure = move |metric: EncoderMetric| {
        let figure = Memo::new(move |_| encoder.with(|e| metric.figure(&e.stats)));
        view! {
            <div
                class="lsh-metric"
                data-metric=metric.as_str()
                data-value=move || figure.with(|f| f.value.map(format_value))
                data-count=move || figure.with(|f| f.count.map(|c| c.to_string()))
            >
                <span class="lsh-metric-label">{metric.label()}</span>
                <span class="lsh-metric-value">{move || figure.with(|f| f.text.clone())}</span>
            </div>
        }
    };
    view! {
        <section
            class="lsh-encoder"
            data-encoder=move || state.get().as_str()
            hidden=move || state.get() == EncoderState::Off
            aria-label="Encoder (OBS)"
        >
            <p class="lsh-encoder-line" data-encoder-message>
                {move || encoder.with(|e| e.message.clone())}
            </p>
            <Show when=connected>
                <div class="lsh-metrics lsh-encoder-figures">
                    {EncoderMetric::ALL.map(figure)}
                </div>
            </Show>
        </section>
    }
}
