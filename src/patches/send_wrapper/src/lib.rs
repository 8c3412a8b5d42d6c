//! `SendWrapper`: moves a value that is not `Send` between threads, as long
//! as it is only used and dropped on the thread that created it (see
//! README.md for why this stand-in exists).

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

#[cfg(feature = "futures")]
mod futures;

/// Whether this target can run code on more than one thread.
const THREADED: bool = !cfg!(all(target_arch = "wasm32", not(target_feature = "atomics")));

/// The thread a value belongs to; nothing on single-threaded targets.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Origin(Option<std::thread::ThreadId>);

impl Origin {
    fn here() -> Origin {
        Origin(THREADED.then(|| std::thread::current().id()))
    }
}

/// A value that may be moved across threads but only used, and dropped, on
/// the thread that created it; using it elsewhere panics.
pub struct SendWrapper<T> {
    data: ManuallyDrop<T>,
    origin: Origin,
}

// SAFETY: the value is only reached through methods that check the thread.
unsafe impl<T> Send for SendWrapper<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendWrapper<T> {}

impl<T> SendWrapper<T> {
    /// Wraps `data`, which belongs to the current thread from now on.
    pub fn new(data: T) -> SendWrapper<T> {
        SendWrapper {
            data: ManuallyDrop::new(data),
            origin: Origin::here(),
        }
    }

    /// Whether the value can be used on the current thread.
    pub fn valid(&self) -> bool {
        !THREADED || self.origin == Origin::here()
    }

    /// Takes the value out. Panics on another thread.
    pub fn take(self) -> T {
        self.check("Taken");
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again.
        unsafe { ManuallyDrop::take(&mut this.data) }
    }

    fn check(&self, what: &str) {
        if !self.valid() {
            panic!("{what} SendWrapper<T> variable from a thread different to the one it has been created with.");
        }
    }
}

impl<T> Deref for SendWrapper<T> {
    type Target = T;

    /// Panics on another thread.
    fn deref(&self) -> &T {
        self.check("Dereferenced");
        &self.data
    }
}

impl<T> DerefMut for SendWrapper<T> {
    /// Panics on another thread.
    fn deref_mut(&mut self) -> &mut T {
        self.check("Dereferenced");
        &mut self.data
    }
}

impl<T> Drop for SendWrapper<T> {
    /// Panics on another thread, unless the value needs no drop (or the
    /// thread is already panicking, to avoid aborting).
    fn drop(&mut self) {
        if !std::mem::needs_drop::<T>() || self.valid() {
            // SAFETY: dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.data) };
        } else if !std::thread::panicking() {
            panic!("Dropped SendWrapper<T> variable from a thread different to the one it has been created with.");
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SendWrapper<T> {
    /// Panics on another thread.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendWrapper")
            .field("data", self.deref())
            .finish()
    }
}

impl<T: Clone> Clone for SendWrapper<T> {
    /// Panics on another thread.
    fn clone(&self) -> Self {
        SendWrapper::new(self.deref().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::SendWrapper;
    use std::rc::Rc;
    use std::thread;

    #[test]
    fn the_creating_thread_uses_and_drops_it() {
        let wrapped = SendWrapper::new(Rc::new(5));
        assert!(wrapped.valid());
        assert_eq!(**wrapped, 5);
        let copy = wrapped.clone();
        assert_eq!(*copy.take(), 5);
    }

    #[test]
    fn another_thread_may_move_but_not_use_it() {
        let wrapped = SendWrapper::new(Rc::new(5));
        let back = thread::spawn(move || {
            assert!(!wrapped.valid());
            wrapped
        })
        .join()
        .unwrap_or_else(|_| panic!("the thread panicked"));
        assert_eq!(**back, 5);
        let used = thread::spawn(move || **back).join();
        assert!(used.is_err());
    }
}
