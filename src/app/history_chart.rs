//! The history chart: deviation and session average over the history
//! window, threshold bands, a status strip, outage shading and a hover /
//! keyboard cursor with a tooltip.
//!
//! All geometry comes from [`crate::core::chart`]; this file only measures,
//! places and listens.
//!
//! Design decisions:
//! - **One viewBox unit is one CSS pixel.** The SVG's viewBox width follows
//!   the element's measured width (on mount and on window resize) and its
//!   height is fixed, so lines and labels keep their size at any width and
//!   the core reduces points to the pixel columns that really exist. No
//!   `preserveAspectRatio="none"`: text is never stretched. Before the first
//!   measurement the chart lays out at [`DEFAULT_VIEW_WIDTH`] and scales
//!   uniformly (CSS `height: auto`).
//! - **Geometry is a `Memo`** over the signals, read with `.with()`, so the
//!   history ring is borrowed, never cloned, on each update.
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
//! - Colours come from the `--lsh-*` custom properties through classes keyed
//!   by [`Status::as_str`](crate::core::status::Status::as_str) (see
//!   `style/chart.css`).

use leptos::ev;
use leptos::prelude::*;
use leptos::svg::Svg;

use crate::core::chart::{
    chart_geometry, hover_readout, sample_at, step_sample, time_to_x, ChartFrame, ChartGeometry,
    HoverReadout, MAX_PLOT_PX,
};
use crate::core::history::{History, Sample};

/// Layout width used until the element has been measured.
pub const DEFAULT_VIEW_WIDTH: f64 = 640.0;
/// Room left of the plot for the deviation labels.
const MARGIN_LEFT: f64 = 56.0;
/// Room right of the plot for the session-average labels.
const MARGIN_RIGHT: f64 = 56.0;
const MARGIN_TOP: f64 = 8.0;
const PLOT_HEIGHT: f64 = 160.0;
const MIN_PLOT_WIDTH: f64 = 40.0;
const STRIP_GAP: f64 = 6.0;
const STRIP_HEIGHT: f64 = 8.0;
/// Baseline of the time labels below the strip.
const TIME_LABEL_OFFSET: f64 = 14.0;
const VIEW_HEIGHT: f64 =
    MARGIN_TOP + PLOT_HEIGHT + STRIP_GAP + STRIP_HEIGHT + TIME_LABEL_OFFSET + 8.0;
const DOT_RADIUS: f64 = 2.5;
const TOOLTIP_WIDTH: f64 = 184.0;
const TOOLTIP_HEIGHT: f64 = 58.0;
const TOOLTIP_OFFSET: f64 = 10.0;

/// Where the cursor is drawn, derived from the remembered sample.
#[derive(Clone, Debug, PartialEq)]
struct HoverMark {
    x: f64,
    deviation_y: Option<f64>,
    session_avg_y: Option<f64>,
    /// Local wall-clock time the sample arrived ("14:03:21").
    clock: String,
    readout: HoverReadout,
}

/// The history chart. Renders `<svg data-chart="history">` with
/// `data-samples`, a `data-timeline` strip and, while a sample is under the
/// cursor, a `data-hover` group.
#[component]
pub fn HistoryChart(
    /// The history ring to draw; its window sets the time axis.
    #[prop(into)]
    history: Signal<History>,
    /// Browser time (Unix epoch ms) at the right edge of the chart.
    #[prop(into)]
    now_ms: Signal<f64>,
    /// The current poll interval in ms, to tell a late poll from an outage.
    #[prop(into)]
    interval_ms: Signal<f64>,
) -> impl IntoView {
    let svg_ref = NodeRef::<Svg>::new();
    let view_width = RwSignal::new(DEFAULT_VIEW_WIDTH);
    let hovered = RwSignal::new(None::<Sample>);

    // Follow the element's width: once mounted, then on every window resize.
    Effect::new(move |_| {
        if let Some(svg) = svg_ref.get() {
            measure(&svg, view_width);
        }
    });
    let resize = window_event_listener(ev::resize, move |_| {
        if let Some(svg) = svg_ref.get_untracked() {
            measure(&svg, view_width);
        }
    });
    on_cleanup(move || resize.remove());

    let plot_width = Memo::new(move |_| plot_width_for(view_width.get()));
    let geometry = Memo::new(move |_| {
        let (now_ms, interval_ms, width) = (now_ms.get(), interval_ms.get(), plot_width.get());
        history.with(|h| {
            let frame = ChartFrame {
                now_ms,
                window_ms: h.window_ms(),
                width,
                height: PLOT_HEIGHT,
                interval_ms,
            };
            chart_geometry(h, &frame)
        })
    });
    let sample_count = Memo::new(move |_| history.with(History::sample_count));
    let aria_label = Memo::new(move |_| {
        let window = history.with(History::window_ms);
        format!(
            "Stream drift over the last {}: deviation from the rolling average and session \
             average, {} samples. Use the left and right arrow keys to read samples.",
            window_label(window),
            sample_count.get()
        )
    });
    let hover = Memo::new(move |_| {
        let sample = hovered.get()?;
        let now = now_ms.get();
        let window = history.with(History::window_ms);
        hover_mark(&sample, now, window, plot_width.get(), &geometry.read())
    });

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
        let found = history.with_untracked(|h| {
            sample_at(
                h,
                now_ms.get_untracked(),
                h.window_ms(),
                plot_width.get_untracked(),
                plot_x,
            )
        });
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
        let next = history
            .with_untracked(|h| step_sample(h, now_ms.get_untracked(), h.window_ms(), from, steps));
        hovered.set(next);
    };

    let view_box = move || format!("0 0 {} {VIEW_HEIGHT}", view_width.get());
    let plot_transform = format!("translate({MARGIN_LEFT} {MARGIN_TOP})");
    let strip_y = PLOT_HEIGHT + STRIP_GAP;
    let shade_height = PLOT_HEIGHT + STRIP_GAP + STRIP_HEIGHT;
    let time_label_y = strip_y + STRIP_HEIGHT + TIME_LABEL_OFFSET;

    view! {
        <div class="lsh-chart">
            <svg
                node_ref=svg_ref
                class="lsh-chart__svg"
                data-chart="history"
                data-samples=move || sample_count.get()
                role="img"
                aria-label=move || aria_label.get()
                aria-keyshortcuts="ArrowLeft ArrowRight Home End Escape"
                tabindex="0"
                viewBox=view_box
                on:pointermove=on_pointer
                on:pointerdown=on_pointer
                on:pointerleave=move |_| hovered.set(None)
                on:keydown=on_key
                on:blur=move |_| hovered.set(None)
            >
                <g transform=plot_transform pointer-events="none">
                    <g class="lsh-chart__bands">
                        {move || geometry.with(|g| g.bands.iter().map(|band| view! {
                            <rect
                                class=format!("lsh-chart__band lsh-chart__band--{}", band.status.as_str())
                                x="0"
                                y=px(band.y)
                                width=px(g.width)
                                height=px(band.height)
                            />
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__grid">
                        {move || geometry.with(|g| g.deviation_ticks.iter().map(|tick| view! {
                            <line x1="0" x2=px(g.width) y1=px(tick.pos) y2=px(tick.pos) />
                        }).collect_view())}
                    </g>
                    <line
                        class="lsh-chart__zero"
                        x1="0"
                        x2=move || px(geometry.with(|g| g.width))
                        y1=move || px(geometry.with(|g| g.zero_y))
                        y2=move || px(geometry.with(|g| g.zero_y))
                    />
                    <g class="lsh-chart__gaps">
                        {move || geometry.with(|g| g.gaps.iter().map(|gap| view! {
                            <rect
                                class=format!("lsh-chart__gap lsh-chart__gap--{}", gap.kind.as_str())
                                data-gap=gap.kind.as_str()
                                x=px(gap.x)
                                y="0"
                                width=px(gap.width)
                                height=shade_height
                            />
                        }).collect_view())}
                    </g>
                    <path
                        class="lsh-chart__line lsh-chart__line--session-avg"
                        data-series="session-avg"
                        d=move || geometry.with(|g| g.session_avg.path.clone())
                    />
                    <path
                        class="lsh-chart__line lsh-chart__line--deviation"
                        data-series="deviation"
                        d=move || geometry.with(|g| g.deviation.path.clone())
                    />
                    <g class="lsh-chart__dots lsh-chart__dots--session-avg">
                        {move || geometry.with(|g| g.session_avg.dots.iter().map(|dot| view! {
                            <circle cx=px(dot.x) cy=px(dot.y) r=DOT_RADIUS />
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__dots lsh-chart__dots--deviation">
                        {move || geometry.with(|g| g.deviation.dots.iter().map(|dot| view! {
                            <circle cx=px(dot.x) cy=px(dot.y) r=DOT_RADIUS />
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__axis lsh-chart__axis--deviation" text-anchor="end">
                        {move || geometry.with(|g| g.deviation_ticks.iter().map(|tick| view! {
                            <text x="-6" y=px(tick.pos) dy="0.32em">{tick.label.clone()}</text>
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__axis lsh-chart__axis--session-avg" text-anchor="start">
                        {move || geometry.with(|g| g.session_avg_ticks.iter().map(|tick| view! {
                            <text x=px(g.width + 6.0) y=px(tick.pos) dy="0.32em">
                                {tick.label.clone()}
                            </text>
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__timeline" data-timeline transform=format!("translate(0 {strip_y})")>
                        <rect
                            class="lsh-chart__track"
                            x="0"
                            y="0"
                            width=move || px(geometry.with(|g| g.width))
                            height=STRIP_HEIGHT
                        />
                        {move || geometry.with(|g| g.timeline.iter().map(|segment| view! {
                            <rect
                                class=format!("lsh-chart__segment lsh-chart__segment--{}", segment.status.as_str())
                                data-status=segment.status.as_str()
                                x=px(segment.x)
                                y="0"
                                width=px(segment.width)
                                height=STRIP_HEIGHT
                            />
                        }).collect_view())}
                    </g>
                    <g class="lsh-chart__axis lsh-chart__axis--time" text-anchor="middle">
                        {move || geometry.with(|g| g.time_ticks.iter().map(|tick| view! {
                            <text x=px(tick.pos) y=time_label_y>{tick.label.clone()}</text>
                        }).collect_view())}
                    </g>
                    {move || hover.get().map(|mark| hover_view(mark, plot_width.get()))}
                </g>
            </svg>
            <p class="lsh-chart__legend" aria-hidden="true">
                <span class="lsh-chart__key lsh-chart__key--deviation">"Deviation (left axis)"</span>
                <span class="lsh-chart__key lsh-chart__key--session-avg">"Session average (right axis)"</span>
            </p>
            <p class="lsh-chart__live" aria-live="polite">
                {move || hover.with(|mark| mark.as_ref().map(spoken))}
            </p>
        </div>
    }
}

/// The cursor: a vertical rule, markers on both series and the tooltip.
fn hover_view(mark: HoverMark, plot_width: f64) -> impl IntoView {
    let tip_x = tooltip_x(mark.x, plot_width);
    let status = mark.readout.status;
    let heading = format!("{} ({})", mark.clock, mark.readout.when);
    let HoverReadout {
        deviation,
        session_avg,
        ..
    } = mark.readout;
    view! {
        <g class="lsh-chart__hover" data-hover data-status=status.as_str()>
            <line
                class="lsh-chart__rule"
                x1=px(mark.x)
                x2=px(mark.x)
                y1="0"
                y2=PLOT_HEIGHT + STRIP_GAP + STRIP_HEIGHT
            />
            {mark.session_avg_y.map(|y| view! {
                <circle class="lsh-chart__marker lsh-chart__marker--session-avg" cx=px(mark.x) cy=px(y) r="4" />
            })}
            {mark.deviation_y.map(|y| view! {
                <circle class="lsh-chart__marker lsh-chart__marker--deviation" cx=px(mark.x) cy=px(y) r="4" />
            })}
            <g class="lsh-chart__tooltip" transform=format!("translate({} 4)", px(tip_x))>
                <rect class=format!("lsh-chart__tip lsh-chart__tip--{}", status.as_str())
                    width=TOOLTIP_WIDTH height=TOOLTIP_HEIGHT rx="4" />
                <text x="8" y="16" class="lsh-chart__tip-when" data-hover-when>{heading}</text>
                <text x="8" y="33" data-hover-deviation>{format!("Deviation {deviation}")}</text>
                <text x="8" y="50" data-hover-session-avg>{format!("Session avg {session_avg}")}</text>
            </g>
        </g>
    }
}

/// Reads the SVG's rendered width into `view_width`, ignoring unusable
/// readings (a detached or hidden element measures 0).
fn measure(svg: &web_sys::SvgElement, view_width: RwSignal<f64>) {
    let width = svg.get_bounding_client_rect().width().round();
    if width.is_finite() && width > 0.0 {
        let width = width.clamp(MARGIN_LEFT + MARGIN_RIGHT + MIN_PLOT_WIDTH, MAX_PLOT_PX);
        if view_width.get_untracked() != width {
            view_width.set(width);
        }
    }
}

/// The plot's width inside a view of `view_width`.
fn plot_width_for(view_width: f64) -> f64 {
    (view_width - MARGIN_LEFT - MARGIN_RIGHT).max(MIN_PLOT_WIDTH)
}

/// Converts a pointer's client x into plot units. A zero or non-finite box
/// width gives NaN, which [`sample_at`] treats as "nothing here".
fn plot_x_from_client(client_x: f64, box_left: f64, box_width: f64, view_width: f64) -> f64 {
    if !(box_width.is_finite() && box_width > 0.0) {
        return f64::NAN;
    }
    (client_x - box_left) * (view_width / box_width) - MARGIN_LEFT
}

/// The cursor for `sample`, or `None` once it has left the window.
fn hover_mark(
    sample: &Sample,
    now_ms: f64,
    window_ms: f64,
    plot_width: f64,
    geometry: &ChartGeometry,
) -> Option<HoverMark> {
    let left = now_ms - window_ms;
    if sample.received_ms.is_nan() || left.is_nan() || sample.received_ms < left {
        return None;
    }
    let finite = |value: Option<f64>| value.filter(|v| v.is_finite());
    Some(HoverMark {
        x: time_to_x(now_ms, window_ms, plot_width, sample.received_ms),
        deviation_y: finite(sample.deviation_ms).map(|v| geometry.deviation_y(v)),
        session_avg_y: finite(sample.session_avg_ms).map(|v| geometry.session_avg_y(v)),
        clock: clock_time(sample.received_ms),
        readout: hover_readout(sample, now_ms),
    })
}

/// The tooltip's left edge (plot units): right of the rule, or left of it
/// when it would run past the right margin.
fn tooltip_x(rule_x: f64, plot_width: f64) -> f64 {
    let right = rule_x + TOOLTIP_OFFSET;
    if right + TOOLTIP_WIDTH <= plot_width + MARGIN_RIGHT {
        right
    } else {
        (rule_x - TOOLTIP_OFFSET - TOOLTIP_WIDTH).max(-MARGIN_LEFT)
    }
}

/// The readout as one sentence for screen readers.
fn spoken(mark: &HoverMark) -> String {
    let readout = &mark.readout;
    format!(
        "{}, {}: {}, deviation {}, session average {}",
        mark.clock,
        readout.when,
        readout.status.label(),
        readout.deviation,
        readout.session_avg
    )
}

/// The browser-local time of day of `ms` (Unix epoch), "14:03:21"; the
/// time zone is the browser's, which only `Date` knows.
fn clock_time(ms: f64) -> String {
    if !ms.is_finite() {
        return "--:--:--".to_owned();
    }
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// "60 min" up to two hours, whole hours beyond.
fn window_label(window_ms: f64) -> String {
    let minutes = (window_ms / 60_000.0).round().clamp(0.0, 1e6);
    if minutes >= 120.0 && minutes % 60.0 == 0.0 {
        format!("{} h", minutes / 60.0)
    } else {
        format!("{minutes} min")
    }
}

/// Rounds an attribute value to 0.1 unit, to keep the DOM small.
fn px(value: f64) -> f64 {
    if value.is_finite() {
        (value * 10.0).round() / 10.0
    } else {
        0.0
    }
}
