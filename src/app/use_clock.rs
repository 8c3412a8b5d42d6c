//! [`use_clock`]: the browser's time as a signal, for "updated 4 s ago",
//! countdowns and the chart's time axis.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

/// The browser's clock, as [`use_clock`] keeps it. Provided as context by
/// the widget.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Browser time, Unix epoch milliseconds; changes every tick.
    pub now: ReadSignal<f64>,
}

/// Browser time, Unix epoch milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A signal of the browser's time, refreshed every `period_ms`.
///
/// ```ignore
/// let clock = use_clock(1000);
/// view! { <span>{move || format_age(clock.now.get())}</span> }
/// ```
///
/// It reads the time once at once, then on a `setInterval` of `period_ms`;
/// the interval is cleared when the calling owner is cleaned up.
pub fn use_clock(period_ms: u32) -> Clock {
    let (now, set_now) = signal(now_ms());
    let ticks = Interval::new(period_ms, move || set_now.set(now_ms()));
    let ticks = SendWrapper::new(ticks);
    on_cleanup(move || drop(ticks.take()));
    Clock { now }
}
