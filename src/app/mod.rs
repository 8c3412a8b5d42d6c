//! The Leptos shell: components and browser glue. It reads signals and calls
//! the core; every timer, request and listener created here is released by
//! the owner that created it (see [`driver`]).

pub mod alerting;
pub mod driver;
pub mod history_chart;
pub mod host;
pub mod location;
pub mod persist;
pub mod share;
pub mod summary_panel;
pub mod web_locks;
pub mod widget;

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use web_sys::Element;

use crate::core::params;
pub use widget::Widget;

/// Runs `sync` once and again whenever a signal it read changes, for as
/// long as the current owner lives.
///
/// Every effect of the app goes through here: `Effect::new` compiles its
/// whole scheduling loop once per closure type, so each `Effect::new(move
/// |_| ..)` was its own 1 to 2.5 KB copy; behind one boxed closure type
/// there is one copy.
pub fn effect(sync: impl FnMut() + 'static) {
    effect_boxed(Box::new(sync));
}

/// [`effect`] past the boxing: not inlined, so `Effect::new` is in the
/// WebAssembly once rather than at every call site.
#[inline(never)]
fn effect_boxed(mut sync: Box<dyn FnMut()>) {
    Effect::new(move |_| sync());
}

/// Runs `act` with what `watch` gives, once now and again whenever that
/// value changes, for as long as the current owner lives. Signals read in
/// `watch` are tracked; `act` should read untracked.
///
/// It stands for a `Memo` read by an `Effect`: a memo compiles its
/// recompute-and-compare machinery once per value type (about 1 KB each),
/// while this is one more closure behind [`effect`].
pub fn on_change<K: PartialEq + 'static>(
    watch: impl Fn() -> K + 'static,
    mut act: impl FnMut(&K) + 'static,
) {
    let mut last = None;
    effect(move || {
        let value = watch();
        if last.as_ref() != Some(&value) {
            act(&value);
            last = Some(value);
        }
    });
}

/// One piece of the DOM that the app keeps in line with signals by hand,
/// attached to its element with `use:bound=..` in a view.
///
/// Leptos instantiates its attribute, text and markup bindings per value
/// type and per attribute; these bindings share one boxed closure type and
/// one render effect, so each costs only its own body. Like Leptos's
/// bindings, the first write happens while the element is built (the
/// widget's first render already carries every value) and later ones when
/// a signal read changes.
#[derive(Clone)]
pub struct Bind(Rc<Cell<Option<BindFn>>>);

type BindFn = Box<dyn FnMut(&Element)>;

/// A binding that runs `sync` with its element.
pub fn bind(sync: impl FnMut(&Element) + 'static) -> Bind {
    bind_boxed(Box::new(sync))
}

#[inline(never)]
fn bind_boxed(sync: BindFn) -> Bind {
    Bind(Rc::new(Cell::new(Some(sync))))
}

/// Keeps the element's markup equal to what `markup` gives.
pub fn html(markup: impl Fn() -> String + 'static) -> Bind {
    let markup: Box<dyn Fn() -> String> = Box::new(markup);
    let mut last = None;
    bind(move |element| put(element, Put::Html, markup(), &mut last))
}

/// Keeps the element's text equal to what `text` gives.
pub fn text(text: impl Fn() -> String + 'static) -> Bind {
    let text: Box<dyn Fn() -> String> = Box::new(text);
    let mut last = None;
    bind(move |element| put(element, Put::Text, text(), &mut last))
}

/// The directive behind `use:bound=..`: runs the binding with the element
/// just created, then again whenever a signal it read changes, until the
/// owner is cleaned up.
pub fn bound(element: Element, bind: Bind) {
    if let Some(mut sync) = bind.0.take() {
        let effect = RenderEffect::new(move |_| sync(&element));
        let effect = SendWrapper::new(effect);
        on_cleanup(move || drop(effect.take()));
    }
}

/// What [`put`] writes.
#[derive(Clone, Copy)]
pub enum Put<'a> {
    /// An attribute of that name.
    Attr(&'a str),
    /// The inner HTML.
    Html,
    /// The text content.
    Text,
}

/// Writes `value` into the element unless it is what was written last, so
/// a binding that re-runs for another reason leaves the DOM alone.
pub fn put(element: &Element, what: Put<'_>, value: String, last: &mut Option<String>) {
    if last.as_ref() == Some(&value) {
        return;
    }
    match what {
        Put::Attr(name) => {
            let _ = element.set_attribute(name, &value);
        }
        Put::Html => element.set_inner_html(&value),
        Put::Text => element.set_text_content(Some(&value)),
    }
    *last = Some(value);
}

/// Reads the configuration from the page's URL.
pub fn config_from_location() -> (params::Config, Vec<params::Notice>) {
    let location = window().location();
    let query = location.search().unwrap_or_default();
    let fragment = location.hash().unwrap_or_default();
    params::parse(
        query.strip_prefix('?').unwrap_or(&query),
        fragment.strip_prefix('#').unwrap_or(&fragment),
    )
}

/// Restricts the page's own connections to the configured endpoint with a
/// Content-Security-Policy, so no code on the page can send the token (or
/// anything) anywhere else. Set as a `<meta>` element before the first
/// request; hosts should also send the same policy as a header (README).
fn restrict_connections(endpoint_origin: &str) {
    let policy = format!(
        "connect-src {endpoint_origin}; img-src 'self' data:; object-src 'none'; \
         base-uri 'none'; form-action 'none'"
    );
    let document = document();
    let Ok(meta) = document.create_element("meta") else {
        return;
    };
    let _ = meta.set_attribute("http-equiv", "Content-Security-Policy");
    let _ = meta.set_attribute("content", &policy);
    append_to_head(&meta);
}

/// Adds `element` at the end of the document's `<head>`, if it has one.
pub fn append_to_head(element: &Element) {
    if let Some(head) = document().head() {
        let _ = head.append_child(element);
    }
}

/// Mounts the widget on the page body. The mount lives as long as the page.
pub fn start() {
    // Panic messages in the console help while developing; in release
    // (panic = "abort") the hook and the message formatting it keeps cost
    // about 1.3 KB gzip for a page that stops either way.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let (config, notices) = config_from_location();
    restrict_connections(config.endpoint.origin());
    leptos::mount::mount_to_body(
        move || view! { <Widget config=config notices=notices follow_location=true /> },
    );
}
