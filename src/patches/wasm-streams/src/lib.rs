//! The part of the `wasm-streams` API that server_fn's browser client uses,
//! without JavaScript-exported classes (see README.md for why).

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use js_sys::{Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{ReadableStreamDefaultController, ReadableStreamDefaultReader, UnderlyingSource};

/// Readable streams.
pub mod readable {
    pub use super::{IntoStream, ReadableStream};

    /// The raw JavaScript types.
    pub mod sys {
        pub use web_sys::ReadableStream;
    }
}

/// A JavaScript `ReadableStream`.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    /// Wraps a JavaScript stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        ReadableStream { raw }
    }

    /// The JavaScript stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A JavaScript stream that yields the chunks of `stream`; an `Err`
    /// errors the JavaScript stream.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let stream = Rc::new(RefCell::new(Box::pin(stream)));
        let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
            move |controller: ReadableStreamDefaultController| {
                let stream = Rc::clone(&stream);
                future_to_promise(async move {
                    let next = poll_fn(|cx| stream.borrow_mut().as_mut().poll_next(cx)).await;
                    match next {
                        Some(Ok(chunk)) => controller.enqueue_with_chunk(&chunk)?,
                        Some(Err(error)) => return Err(error),
                        None => controller.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let source = UnderlyingSource::new();
        source.set_pull(pull.as_ref().unchecked_ref());
        // The stream owns its source from here on; the closure lives as long
        // as the page, like the real crate's exported source object.
        pull.forget();
        match web_sys::ReadableStream::new_with_underlying_source(&source) {
            Ok(raw) => ReadableStream { raw },
            Err(error) => wasm_bindgen::throw_val(error),
        }
    }

    /// A Rust stream of the chunks, read with a default reader.
    pub fn into_stream(self) -> IntoStream<'static> {
        let reader = self
            .raw
            .get_reader()
            .unchecked_into::<ReadableStreamDefaultReader>();
        IntoStream {
            reader: Some(reader),
            pending: None,
            _borrow: std::marker::PhantomData,
        }
    }
}

/// The chunks of a JavaScript stream as a Rust [`Stream`]. Dropping it
/// cancels the JavaScript stream.
pub struct IntoStream<'reader> {
    reader: Option<ReadableStreamDefaultReader>,
    pending: Option<JsFuture>,
    _borrow: std::marker::PhantomData<&'reader ()>,
}

impl Stream for IntoStream<'_> {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(reader) = self.reader.clone() else {
            return Poll::Ready(None);
        };
        let pending = self
            .pending
            .get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.pending = None;
        let result = match result {
            Ok(result) => result,
            Err(error) => {
                self.reader = None;
                return Poll::Ready(Some(Err(error)));
            }
        };
        let done = Reflect::get(&result, &JsValue::from_str("done"))
            .map(|done| done.is_truthy())
            .unwrap_or(true);
        if done {
            if let Some(reader) = self.reader.take() {
                reader.release_lock();
            }
            return Poll::Ready(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value")).unwrap_or_default();
        Poll::Ready(Some(Ok(value)))
    }
}

impl Drop for IntoStream<'_> {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.cancel();
        }
    }
}
