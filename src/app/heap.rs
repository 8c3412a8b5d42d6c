//! The browser build's memory allocator: power-of-two size classes with a
//! free list each, carved from pages that only ever grow.
//!
//! The widget allocates the same few shapes over and over (markup strings,
//! the history ring, signal nodes), so blocks freed by one redraw are taken
//! again by the next, and memory stays at the peak of each class. The
//! general-purpose allocator std brings for wasm32 (dlmalloc) splits,
//! merges and bins chunks; none of that pays off here, and it measured
//! 0.8 KB gzip larger than this file.
//!
//! Every block of class `k` is `2^k` bytes and aligned to `2^k` (to 64 KiB
//! for larger classes), so any layout whose size and alignment fit the
//! class can reuse any free block of it. Single-threaded: the browser build
//! has no threads.

use std::alloc::{GlobalAlloc, Layout};
use std::arch::wasm32::memory_grow;
use std::cell::UnsafeCell;
use std::ptr::null_mut;

const PAGE: usize = 65_536;
/// The smallest block, 16 bytes (class 4).
const MIN_CLASS: u32 = 4;
const CLASSES: usize = usize::BITS as usize;

struct State {
    /// Next unused byte of the carved area (0 before the first block).
    next: usize,
    /// End of the memory obtained so far.
    end: usize,
    /// Head of each class's free list (the link is the block's first word).
    free: [usize; CLASSES],
}

/// The allocator; see the module documentation.
pub struct Heap(UnsafeCell<State>);

// SAFETY: the browser build is single-threaded.
unsafe impl Sync for Heap {}

impl Heap {
    /// An empty heap; memory is taken from the browser on first use.
    pub const fn new() -> Heap {
        Heap(UnsafeCell::new(State {
            next: 0,
            end: 0,
            free: [0; CLASSES],
        }))
    }
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

fn class_of(layout: &Layout) -> u32 {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    usize::BITS - (size - 1).leading_zeros()
}

impl State {
    unsafe fn push(&mut self, class: u32, block: usize) {
        *(block as *mut usize) = self.free[class as usize];
        self.free[class as usize] = block;
    }

    unsafe fn take(&mut self, class: u32) -> *mut u8 {
        let head = self.free[class as usize];
        if head != 0 {
            self.free[class as usize] = *(head as *const usize);
            return head as *mut u8;
        }
        let size = 1usize << class;
        let align = size.min(PAGE);
        loop {
            // Align by handing the gap to smaller classes, so nothing is lost.
            while self.next & (align - 1) != 0 {
                let piece = self.next & self.next.wrapping_neg();
                self.push(piece.trailing_zeros(), self.next);
                self.next += piece;
            }
            let Some(block_end) = self.next.checked_add(size) else {
                return null_mut();
            };
            if block_end <= self.end {
                let block = self.next;
                self.next = block_end;
                return block as *mut u8;
            }
            let pages = (block_end - self.end).div_ceil(PAGE);
            let first = memory_grow(0, pages);
            if first == usize::MAX {
                return null_mut();
            }
            if first * PAGE != self.end {
                // Someone else grew the memory in between (std keeps a few
                // things in its own allocator): continue from the new pages.
                self.next = first * PAGE;
            }
            self.end = (first + pages) * PAGE;
        }
    }
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        (*self.0.get()).take(class_of(&layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        (*self.0.get()).push(class_of(&layout), ptr as usize);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if class_of(&new_layout) == class_of(&layout) {
            return ptr;
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}
