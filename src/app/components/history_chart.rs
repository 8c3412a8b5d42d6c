//! [`HistoryChart`]: deviation and session average over the history
//! window, threshold bands, a status strip, outage shading and a hover /
//! keyboard cursor with a tooltip.
//!
//! All geometry comes from [`crate::core::chart`] and all drawing from
//! [`crate::core::chart_svg`]; this component measures, places and listens.
//! It owns a [`ChartCache`], so a poll redraws from per-column blocks kept
//! across updates instead of revisiting every sample in the window.
//! The plot and the cursor are each one string set with `inner_html` on a
//! `<g>` (see `chart_svg` for why): the SVG element itself is a Leptos
//! element with reactive attributes and `on:` handlers, so its focus, its
//! listeners and its attributes survive every redraw.
//!
//! Design decisions:
//! - **Memos in a chain, so a clock tick costs nothing.** The span shown
//!   ([`Range::span_ms`]: the chosen range, or the data fitted in whole
//!   5-minute steps) changes only when the range or a step does. The time
//!   at the right edge is the clock rounded up to a whole pixel column of
//!   that span ([`axis_now`]); the geometry memo depends on it, the
//!   history, the plot's width and the poll interval, and is recomputed
//!   only when one of them really changes. The plot's markup is rewritten
//!   only when the geometry differs.
//! - **Range buttons** above the plot (`[data-range]`, `aria-pressed` on
//!   the chosen one) choose the span; ←/→/Home/End among them choose the
//!   neighbouring range and move the focus with it, like a radio group.
//!   The choice is remembered per stream ([`use_chart_range`]). Ranges
//!   longer than the kept history are not offered.
//! - **One viewBox unit is one CSS pixel.** The viewBox width follows the
//!   element's measured width (once mounted, and on window resize) and its
//!   height is fixed, so lines and labels keep their size at any width and
//!   the core reduces points to the pixel columns that really exist. No
//!   `preserveAspectRatio="none"`: text is never stretched. Before the first
//!   measurement the chart lays out at [`DEFAULT_VIEW_WIDTH`] and scales
//!   uniformly (CSS `height: auto`).
//! - **Hidden, it computes nothing.** In the compact layout the geometry
//!   memo returns `None` without reading the history: at a day of history
//!   the chart is the costliest part of an update.
//! - **Pointer mapping uses the SVG's bounding box**, and the drawing group
//!   is `pointer-events="none"`, so every pointer event lands on the SVG
//!   itself whatever is drawn under the cursor.
//! - **The cursor remembers a sample, not a position**, so it stays on the
//!   same measurement as new samples shift the chart left, and disappears
//!   when that sample leaves the window.
//! - **Accessible:** the SVG is focusable (`tabindex="0"`) with `role="img"`
//!   and a summary `aria-label`; ←/→ step between samples, Home/End jump to
//!   the oldest/newest, Escape hides the cursor, and the readout is repeated
//!   in a visually hidden `aria-live` paragraph.
//! - **OBS's stream events** (start, stop, lost ingest, back) are vertical
//!   lines across the plot, `line[data-mark]` with a `<title>`, placed on
//!   the same time axis from [`crate::core::obs::marks`]. They are a view of
//!   their own rather than part of the plot's string: a few elements that
//!   change only when a mark arrives or the axis moves.
//! - Colours come from the `--lsh-*` custom properties through classes keyed
//!   by [`Status::as_str`](crate::core::status::Status::as_str) (see
//!   `style/chart.css`).

use leptos::ev;
use leptos::prelude::*;
use leptos::svg::Svg;
use wasm_bindgen::JsValue;

use crate::app::state::{Ui, WidgetState};
use crate::app::use_chart_range::use_chart_range;
use crate::app::use_clock::Clock;
use crate::app::view_model::LiveView;
use crate::core::chart::{sample_at, step_sample, ChartCache, ChartFrame};
use crate::core::chart_range::Range;
use crate::core::chart_svg::{
    aria_label, axis_now, hover_mark, hover_markup, plot_markup, plot_width_for,
    plot_x_from_client, spoken, view_box, view_width_for, DEFAULT_VIEW_WIDTH, PLOT_HEIGHT,
    PLOT_TRANSFORM,
};
use crate::core::counts::{viewers_path, Viewers};
use crate::core::format::format_value;
use crate::core::history::{History, Sample};

/// The history chart (full layout). Renders the range buttons
/// (`button[data-range]`) and `<svg data-chart="history">` with
/// `data-range`, `data-samples`, a `data-timeline` strip and, while a
/// sample is under the cursor, a `data-hover` group.
#[component]
pub fn HistoryChart() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let clock = expect_context::<Clock>();
    let live = expect_context::<LiveView>();
    let (history, ui) = (state.history, state.ui);

    let svg_ref = NodeRef::<Svg>::new();
    let view_width = RwSignal::new(DEFAULT_VIEW_WIDTH);
    let hovered = RwSignal::new(None::<Sample>);

    let plot_width = Memo::new(move |_| plot_width_for(view_width.get()));
    let chosen = use_chart_range(state.monitor);
    let kept_ms = Memo::new(move |_| history.with(History::window_ms));
    // The range in effect: the chosen one, or "all" when it is not offered.
    let range = Memo::new(move |_| chosen.get().or_all(kept_ms.get()));
    // The span shown; named `window_ms` like the frame's field.
    let window_ms = Memo::new(move |_| {
        let (range, now) = (range.get(), clock.now.get());
        history.with(|h| range.span_ms(h, now))
    });
    let axis = Memo::new(move |_| axis_now(clock.now.get(), window_ms.get(), plot_width.get()));
    // The chart's per-column reduction, kept across updates.
    let cache = StoredValue::new(ChartCache::default());
    let geometry = Memo::new(move |_| {
        if !ui.with(Ui::is_full) {
            return None;
        }
        let frame = ChartFrame {
            now_ms: axis.get(),
            window_ms: window_ms.get(),
            width: plot_width.get(),
            height: PLOT_HEIGHT,
            interval_ms: live.interval_ms.get(),
        };
        history.with(|h| cache.try_update_value(|cache| cache.geometry(h, &frame)))
    });
    let cursor = Memo::new(move |_| {
        let sample = hovered.get()?;
        geometry.with(|geometry| {
            hover_mark(
                &sample,
                axis.get(),
                clock.now.get(),
                window_ms.get(),
                plot_width.get(),
                geometry.as_ref()?,
                clock_time(sample.received_ms),
            )
        })
    });

    // Who was watching, on a scale of its own (`path[data-series="viewers"]`).
    let viewers = state.viewers;
    let viewers_on = Memo::new(move |_| viewers.with(Viewers::enabled));
    let viewers_line = Memo::new(move |_| {
        if !ui.with(Ui::is_full) || !viewers_on.get() {
            return String::new();
        }
        let (now, window, width) = (axis.get(), window_ms.get(), plot_width.get());
        viewers.with(|v| {
            let break_ms = 2.5 * v.poller().interval_ms();
            viewers_path(v.history(), now, window, width, PLOT_HEIGHT, break_ms)
        })
    });

    // OBS's stream events on the same time axis.
    let obs_marks = state.obs_marks;
    let marks = Memo::new(move |_| {
        if !ui.with(Ui::is_full) {
            return Vec::new();
        }
        let (now, window, width) = (axis.get(), window_ms.get(), plot_width.get());
        obs_marks.with(|m| m.on_chart(now, window, width))
    });
    let mark_lines = move || {
        marks
            .get()
            .into_iter()
            .map(|m| {
                let x = format_value(m.x);
                let title = format!("{} at {}", m.mark.label(), clock_time(m.at_ms));
                view! {
                    <line
                        class="lsh-chart__mark"
                        data-mark=m.mark.as_str()
                        x1=x.clone()
                        x2=x
                        y1="0"
                        y2=format_value(PLOT_HEIGHT)
                    >
                        <title>{title}</title>
                    </line>
                }
            })
            .collect_view()
    };

    let plot = move || geometry.with(|g| g.as_ref().map(plot_markup).unwrap_or_default());
    let cursor_drawing = move || cursor.with(|mark| hover_markup(mark.as_ref(), plot_width.get()));
    let readout = move || cursor.with(|mark| mark.as_ref().map(spoken).unwrap_or_default());

    let on_pointer = move |event: ev::PointerEvent| {
        let Some(svg) = svg_ref.get_untracked() else {
            return;
        };
        let rect = svg.get_bounding_client_rect();
        let plot_x = plot_x_from_client(
            f64::from(event.client_x()),
            rect.left(),
            rect.width(),
            view_width.get_untracked(),
        );
        let (axis, width) = (axis.get_untracked(), plot_width.get_untracked());
        let span = window_ms.get_untracked();
        let found = history.with_untracked(|h| sample_at(h, axis, span, width, plot_x));
        hovered.set(found);
    };
    let on_key = move |event: ev::KeyboardEvent| {
        if event.alt_key() || event.ctrl_key() || event.meta_key() {
            return;
        }
        let steps = match event.key().as_str() {
            "ArrowLeft" => -1,
            "ArrowRight" => 1,
            "Home" => isize::MIN,
            "End" => isize::MAX,
            "Escape" => {
                hovered.set(None);
                return;
            }
            _ => return,
        };
        event.prevent_default();
        let from = hovered.get_untracked().map(|s| s.received_ms);
        let (axis, span) = (axis.get_untracked(), window_ms.get_untracked());
        let next = history.with_untracked(|h| step_sample(h, axis, span, from, steps));
        hovered.set(next);
    };

    // Measure once mounted, then again on every window resize.
    let measure = move || {
        if let Some(svg) = svg_ref.get_untracked() {
            if let Some(width) = view_width_for(svg.get_bounding_client_rect().width()) {
                if view_width.get_untracked() != width {
                    view_width.set(width);
                }
            }
        }
    };
    Effect::new(move |_| {
        if svg_ref.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let button_refs = Range::EVERY.map(|_| NodeRef::<leptos::html::Button>::new());
    let on_range_key = move |event: ev::KeyboardEvent| {
        if event.alt_key() || event.ctrl_key() || event.meta_key() {
            return;
        }
        let kept = kept_ms.get_untracked();
        let offered: Vec<usize> = (0..Range::EVERY.len())
            .filter(|&i| Range::EVERY[i].offered(kept))
            .collect();
        let at = offered
            .iter()
            .position(|&i| Range::EVERY[i] == range.get_untracked())
            .unwrap_or(0);
        let last = offered.len().saturating_sub(1);
        let to = match event.key().as_str() {
            "ArrowLeft" | "ArrowUp" => at.saturating_sub(1),
            "ArrowRight" | "ArrowDown" => (at + 1).min(last),
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        event.prevent_default();
        if let Some(&index) = offered.get(to) {
            chosen.choose(Range::EVERY[index]);
            if let Some(button) = button_refs[index].get_untracked() {
                let _ = button.focus();
            }
        }
    };
    let buttons = Range::EVERY
        .into_iter()
        .zip(button_refs)
        .map(|(option, node_ref)| {
            view! {
                <button
                    node_ref=node_ref
                    type="button"
                    class="lsh-chart__range"
                    data-range=option.as_str()
                    aria-pressed=move || (range.get() == option).to_string()
                    hidden=move || !option.offered(kept_ms.get())
                    on:click=move |_| chosen.choose(option)
                >
                    {option.label()}
                </button>
            }
        })
        .collect_view();

    view! {
        <div class="lsh-chart">
            <div
                class="lsh-chart__ranges"
                role="group"
                aria-label="Chart range"
                on:keydown=on_range_key
            >
                {buttons}
            </div>
            <svg
                node_ref=svg_ref
                class="lsh-chart__svg"
                data-chart="history"
                data-range=move || range.get().as_str()
                data-samples=move || live.samples.get().to_string()
                aria-label=move || aria_label(window_ms.get(), live.samples.get())
                viewBox=move || view_box(view_width.get())
                role="img"
                aria-keyshortcuts="ArrowLeft ArrowRight Home End Escape"
                tabindex="0"
                on:pointermove=on_pointer
                on:pointerdown=on_pointer
                on:pointerleave=move |_| hovered.set(None)
                on:blur=move |_| hovered.set(None)
                on:keydown=on_key
            >
                <g transform=PLOT_TRANSFORM pointer-events="none" inner_html=plot></g>
                <g transform=PLOT_TRANSFORM pointer-events="none">
                    <path
                        class="lsh-chart__line lsh-chart__line--viewers"
                        data-series="viewers"
                        d=move || viewers_line.get()
                    ></path>
                </g>
                <g transform=PLOT_TRANSFORM pointer-events="none" data-marks>
                    {mark_lines}
                </g>
                <g transform=PLOT_TRANSFORM pointer-events="none" inner_html=cursor_drawing></g>
            </svg>
            <p class="lsh-chart__legend" aria-hidden="true">
                <span class="lsh-chart__key lsh-chart__key--deviation">"Deviation (left axis)"</span>
                <span class="lsh-chart__key lsh-chart__key--session-avg">"Session average (right axis)"</span>
                {move || viewers_on.get().then(|| view! {
                    <span class="lsh-chart__key lsh-chart__key--viewers">"Viewers (own scale)"</span>
                })}
            </p>
            <p class="lsh-chart__live" aria-live="polite">{readout}</p>
        </div>
    }
}

/// The browser-local time of day of `ms` (Unix epoch), "14:03:21"; the
/// time zone is the browser's, which only `Date` knows.
fn clock_time(ms: f64) -> String {
    if !ms.is_finite() {
        return "--:--:--".to_owned();
    }
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}
