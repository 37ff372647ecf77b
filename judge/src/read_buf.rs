//! A page-aligned read buffer.
//!
//! Where the kernel copies pipe data into matters: on some CPUs (Zen 3 among
//! them) `copy_to_user` into a destination a few bytes past a page boundary
//! runs several times slower than into an aligned one, and a plain `Vec`
//! from the allocator starts 16 bytes into its page. Measured on the
//! benchmark machine: 0.83 GiB/s unaligned against 1.6 GiB/s aligned.
//!
//! The buffer is an anonymous mapping of its own, not a zeroed `Vec`: a
//! `Vec` of a megabyte comes from the heap, which calloc must clear, and
//! right after the sandbox's init was forked those heap pages are shared
//! copy-on-write, so the clearing copied each page first (a fifth of a
//! library session's time for /bin/true, in a profile). A fresh mapping is
//! zero already, page-aligned, and its pages are touched only as data
//! arrives.

use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// `len` bytes starting on a page boundary.
pub struct ReadBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping belongs to this value alone, like a Vec's storage.
unsafe impl Send for ReadBuf {}

impl ReadBuf {
    pub fn new(len: usize) -> Self {
        // SAFETY: a new private anonymous mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len.max(1),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        match NonNull::new(p.cast::<u8>()) {
            Some(ptr) if p != libc::MAP_FAILED => ReadBuf { ptr, len },
            _ => std::alloc::handle_alloc_error(
                std::alloc::Layout::array::<u8>(len.max(1)).expect("a buffer size"),
            ),
        }
    }
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len.max(1)) };
    }
}

impl Deref for ReadBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for ReadBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn starts_on_a_page() {
        let b = super::ReadBuf::new(1 << 20);
        assert_eq!(b.as_ptr() as usize % 4096, 0);
        assert!(b.iter().all(|&x| x == 0));
        assert_eq!(b.len(), 1 << 20);
    }
}
