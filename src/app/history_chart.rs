//! The history chart: deviation and session average over the history
//! window, threshold bands, a status strip, outage shading and a hover /
//! keyboard cursor with a tooltip.
//!
//! All geometry comes from [`crate::core::chart`] and all markup from
//! [`crate::core::chart_svg`]; this file only measures, places and listens.
//! The plot and the cursor are each one string set with `inner_html` on a
//! `<g>` (see `chart_svg` for why): the SVG element itself stays a Leptos
//! element, so its listeners, focus and attributes survive every redraw.
//!
//! Design decisions:
//! - **One viewBox unit is one CSS pixel.** The SVG's viewBox width follows
//!   the element's measured width (on mount and on window resize) and its
//!   height is fixed, so lines and labels keep their size at any width and
//!   the core reduces points to the pixel columns that really exist. No
//!   `preserveAspectRatio="none"`: text is never stretched. Before the first
//!   measurement the chart lays out at [`DEFAULT_VIEW_WIDTH`] and scales
//!   uniformly (CSS `height: auto`).
//! - **Geometry is computed by the plot's binding** (an
//!   [`app::bind`](crate::app::bind)) over the signals, read with `.with()`,
//!   so the history ring is borrowed, never cloned, on each update; the
//!   plot's markup is written only when the geometry changes, and the
//!   cursor follows through a counter signal. Everything else is plain
//!   closures over the signals, which keeps Leptos's per-type code (a memo
//!   included) out of the WebAssembly.
//! - **Pointer mapping uses the SVG's bounding box**, and the drawing group
//!   is `pointer-events="none"`, so every pointer event lands on the SVG
//!   itself whatever is drawn under the cursor.
//! - The SVG's pointer, key and blur events are `on:` handlers; the
//!   window's `resize` is a `window_event_listener` removed on cleanup.
//! - **The cursor remembers a sample, not a position**, so it stays on the
//!   same measurement as new samples shift the chart left, and disappears
//!   when that sample leaves the window.
//! - **Accessible:** the SVG is focusable (`tabindex="0"`) with `role="img"`
//!   and a summary `aria-label`; ←/→ step between samples, Home/End jump to
//!   the oldest/newest, Escape hides the cursor, and the readout is repeated
//!   in a visually hidden `aria-live` paragraph.
//! - Colours come from the `--lsh-*` custom properties through classes keyed
//!   by [`Status::as_str`](crate::core::status::Status::as_str) (see
//!   `style/chart.css`).

use std::cell::RefCell;
use std::rc::Rc;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::widget::Ui;
use crate::app::{bind, bound, effect, html, put, text, Put};
use crate::core::chart::{chart_geometry, sample_at, step_sample, ChartFrame, ChartGeometry};
use crate::core::chart_svg::{
    aria_label, hover_mark, hover_markup, plot_markup, plot_width_for, plot_x_from_client, spoken,
    view_box, view_width_for, DEFAULT_VIEW_WIDTH, PLOT_HEIGHT, PLOT_TRANSFORM,
};
use crate::core::history::{History, Sample};
use crate::core::monitor::Monitor;

/// The history chart. Renders `<svg data-chart="history">` with
/// `data-samples`, a `data-timeline` strip and, while a sample is under the
/// cursor, a `data-hover` group.
#[component]
pub fn HistoryChart(
    /// The history ring to draw; its window sets the time axis.
    history: RwSignal<History>,
    /// Its poll interval tells a late poll from an outage.
    monitor: RwSignal<Monitor>,
    /// Browser time (Unix epoch ms) at the right edge of the chart.
    now_ms: RwSignal<f64>,
    /// The chart is hidden in the compact layout: then nothing is laid out,
    /// since at a day of history that is the costliest part of an update.
    ui: RwSignal<Ui>,
) -> impl IntoView {
    let svg_ref: SvgRef = Rc::default();
    let view_width = RwSignal::new(DEFAULT_VIEW_WIDTH);
    let hovered = RwSignal::new(None::<Sample>);

    let plot_width = move || plot_width_for(view_width.get());
    // The geometry is computed by the plot's binding, which keeps it here
    // for the cursor and counts its changes in `redrawn` so the cursor
    // follows (a memo would bring Leptos's memo code for this one value).
    let geometry: Rc<RefCell<Option<ChartGeometry>>> = Rc::default();
    let redrawn = RwSignal::new(0.0_f64);
    let plot = {
        let geometry = Rc::clone(&geometry);
        let mut last = None;
        bind(move |group| {
            let next = if ui.with(|ui| ui.is_full()) {
                let interval_ms = monitor.with(|m| m.poller().interval_ms());
                let (now_ms, width) = (now_ms.get(), plot_width());
                history.with(|h| {
                    let frame = ChartFrame {
                        now_ms,
                        window_ms: h.window_ms(),
                        width,
                        height: PLOT_HEIGHT,
                        interval_ms,
                    };
                    Some(chart_geometry(h, &frame))
                })
            } else {
                None
            };
            if *geometry.borrow() == next {
                return;
            }
            let markup = next.as_ref().map(plot_markup).unwrap_or_default();
            *geometry.borrow_mut() = next;
            put(group, Put::Html, markup, &mut last);
            redrawn.set(redrawn.get_untracked() + 1.0);
        })
    };
    let hover = move || {
        let sample = hovered.get()?;
        let now = now_ms.get();
        let window = history.with(History::window_ms);
        redrawn.track();
        let clock = clock_time(sample.received_ms);
        let geometry = geometry.borrow();
        hover_mark(
            &sample,
            now,
            window,
            plot_width(),
            geometry.as_ref()?,
            clock,
        )
    };

    let on_pointer = {
        let svg_ref = Rc::clone(&svg_ref);
        move |event: web_sys::PointerEvent| {
            let Some(svg) = mounted_svg(&svg_ref) else {
                return;
            };
            let rect = svg.get_bounding_client_rect();
            let plot_x = plot_x_from_client(
                f64::from(event.client_x()),
                rect.left(),
                rect.width(),
                view_width.get_untracked(),
            );
            let found = history.with_untracked(|h| {
                sample_at(
                    h,
                    now_ms.get_untracked(),
                    h.window_ms(),
                    untrack(plot_width),
                    plot_x,
                )
            });
            hovered.set(found);
        }
    };
    let on_key = move |event: web_sys::KeyboardEvent| {
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
        let next = history
            .with_untracked(|h| step_sample(h, now_ms.get_untracked(), h.window_ms(), from, steps));
        hovered.set(next);
    };

    // Once mounted, measure the width, then again on every window resize.
    {
        let svg_ref = Rc::clone(&svg_ref);
        effect(move || {
            if let Some(svg) = mounted_svg(&svg_ref) {
                measure(&svg, view_width);
            }
        });
    }
    let resize = {
        let svg_ref = Rc::clone(&svg_ref);
        window_event_listener(ev::resize, move |_| {
            if let Some(svg) = mounted_svg(&svg_ref) {
                measure(&svg, view_width);
            }
        })
    };
    on_cleanup(move || resize.remove());

    // The SVG's own attributes: one binding, which also keeps the element
    // for the listeners and the measurement.
    let svg_attributes = {
        let mut last: [Option<String>; 3] = Default::default();
        bind(move |svg| {
            let _ = svg_ref.set(svg.clone());
            let (count, window_ms) = history.with(|h| (h.sample_count(), h.window_ms()));
            let values = [
                count.to_string(),
                aria_label(window_ms, count),
                view_box(view_width.get()),
            ];
            for ((name, value), last) in SVG_ATTRIBUTES.iter().zip(values).zip(&mut last) {
                put(svg, Put::Attr(name), value, last);
            }
        })
    };
    let cursor = {
        let hover = hover.clone();
        html(move || hover_markup(hover().as_ref(), plot_width()))
    };
    let readout = text(move || hover().as_ref().map(spoken).unwrap_or_default());

    view! {
        <div class="lsh-chart">
            <svg
                class="lsh-chart__svg"
                data-chart="history"
                use:bound=svg_attributes
                role="img"
                aria-keyshortcuts="ArrowLeft ArrowRight Home End Escape"
                tabindex="0"
                on:pointermove=on_pointer.clone()
                on:pointerdown=on_pointer
                on:pointerleave=move |_| hovered.set(None)
                on:blur=move |_| hovered.set(None)
                on:keydown=on_key
            >
                <g transform=PLOT_TRANSFORM pointer-events="none" use:bound=plot></g>
                <g transform=PLOT_TRANSFORM pointer-events="none" use:bound=cursor></g>
            </svg>
            <p class="lsh-chart__legend" aria-hidden="true">
                <span class="lsh-chart__key lsh-chart__key--deviation">"Deviation (left axis)"</span>
                <span class="lsh-chart__key lsh-chart__key--session-avg">"Session average (right axis)"</span>
            </p>
            <p class="lsh-chart__live" aria-live="polite" use:bound=readout></p>
        </div>
    }
}

/// The SVG attributes that change, in the order they are written.
const SVG_ATTRIBUTES: [&str; 3] = ["data-samples", "aria-label", "viewBox"];

/// The SVG element once the view has built it.
fn mounted_svg(svg_ref: &SvgRef) -> Option<web_sys::Element> {
    svg_ref.get().cloned()
}

/// Where the SVG element is kept once built.
type SvgRef = Rc<std::cell::OnceCell<web_sys::Element>>;

/// Reads the SVG's rendered width into `view_width`, ignoring unusable
/// readings.
fn measure(svg: &web_sys::Element, view_width: RwSignal<f64>) {
    if let Some(width) = view_width_for(svg.get_bounding_client_rect().width()) {
        if view_width.get_untracked() != width {
            view_width.set(width);
        }
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
