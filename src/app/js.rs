//! Browser APIs the widget uses rarely, called by name.
//!
//! The alert tone (Web Audio), desktop notifications and the CSV download
//! each touch a handful of browser methods once in a while. Bound through
//! web-sys, every method, getter and setter is its own import with its own
//! JavaScript shim in the glue (about 35 bytes gzip each, some thirty of
//! them); through these four helpers they share `Reflect.get`,
//! `Reflect.set`, `Reflect.apply` and `Reflect.construct`.
//!
//! Every call returns a `Result` or a value that may be `undefined`: a
//! browser without the API, or one that throws, is handled like any other
//! failure of these best-effort signals.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `target[key]`, `undefined` when it cannot be read.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` as a number, NaN when it is none.
pub fn number(target: &JsValue, key: &str) -> f64 {
    get(target, key).as_f64().unwrap_or(f64::NAN)
}

/// `element.getBoundingClientRect()[side]` (`"left"`, `"width"`,
/// `"height"`), NaN when it cannot be read.
pub fn rect(element: &JsValue, side: &str) -> f64 {
    call(element, "getBoundingClientRect", &[]).map_or(f64::NAN, |rect| number(&rect, side))
}

/// `target[key] = value`, ignoring a target that refuses it.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `target[method](...args)`; `Err` when it is not a function or throws.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    Reflect::apply(function(&get(target, method))?, target, &array(args))
}

/// `new window[constructor](...args)`; `Err` when there is no such
/// constructor or it throws.
pub fn construct(constructor: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let constructor = get(&leptos::prelude::window(), constructor);
    Reflect::construct(function(&constructor)?, &array(args))
}

fn function(value: &JsValue) -> Result<&Function, JsValue> {
    if value.is_function() {
        Ok(value.unchecked_ref())
    } else {
        Err(JsValue::UNDEFINED)
    }
}

/// A JavaScript array of `items`.
pub fn array(items: &[JsValue]) -> Array {
    let array = Array::new();
    for item in items {
        array.push(item);
    }
    array
}
