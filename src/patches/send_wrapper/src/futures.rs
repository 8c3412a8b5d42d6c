//! `Future` and `Stream` for wrapped values (feature `futures`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::SendWrapper;

impl<F: Future> Future for SendWrapper<F> {
    type Output = F::Output;

    /// Panics on another thread.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.check("Polled");
        // SAFETY: the value is pinned with its wrapper and never moved out
        // of it while pinned (`take` needs the wrapper by value).
        unsafe { self.map_unchecked_mut(|this| &mut *this.data) }.poll(cx)
    }
}

impl<S: Stream> Stream for SendWrapper<S> {
    type Item = S::Item;

    /// Panics on another thread.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.check("Polled");
        // SAFETY: as for `poll`.
        unsafe { self.map_unchecked_mut(|this| &mut *this.data) }.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        std::ops::Deref::deref(self).size_hint()
    }
}
