//! The judge's own stdout as a destination that never blocks the loop.
//!
//! Without `--json` the program's stdout is passed through as it comes. A
//! consumer that stops reading (`judge run ... | sleep 1000`) must not stall
//! the judge: a blocked write would leave the clocks unwatched. So writes
//! are non-blocking and what does not fit waits in a small queue, with
//! backpressure on the program, until epoll says the consumer has room.
//!
//! O_NONBLOCK belongs to the open file description, which a terminal or a
//! pipe shares with the shell and other processes; setting it on fd 1 would
//! change their behaviour. Pipes and terminals are therefore reopened
//! through /proc/self/fd/1 into a description of our own. Regular files and
//! /dev/null never block and are used as they are (reopening a file would
//! lose O_APPEND and the offset).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

pub struct Forward {
    file: File,
    /// Bytes accepted from the program but not yet taken by the consumer.
    queue: Vec<u8>,
    at: usize,
    /// splice(2) into it works (no user-space copy).
    splice_ok: bool,
    /// It can block, and epoll can watch it (pipes, terminals); regular
    /// files and /dev/null can do neither.
    pollable: bool,
    /// Writing failed for good (closed pipe): bytes are dropped from now on,
    /// the program is still judged.
    broken: bool,
    /// The last splice found the consumer full; cleared when epoll says it
    /// has room again.
    sink_full: bool,
}

/// What a splice attempt did.
pub enum Spliced {
    Moved(usize),
    SourceEmpty,
    SourceEof,
    /// The consumer is full: wait for it to be writable.
    SinkFull,
    /// Splice cannot write here: copy through user space instead.
    Unsupported,
}

impl Forward {
    /// The judge's stdout, prepared as described in the module docs.
    pub fn stdout() -> io::Result<Forward> {
        // SAFETY: fd 1 stays open for the life of the process; ManuallyDrop
        // keeps this borrowed File from closing it.
        let one = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
        let kind = one.metadata()?.file_type();
        let private = kind.is_fifo() || kind.is_char_device() && !is_dev_null(&one);
        let file = if private {
            OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open("/proc/self/fd/1")
                .or_else(|_| one.try_clone())?
        } else {
            one.try_clone()?
        };
        if kind.is_fifo() {
            // Fewer, larger hand-overs to the consumer (best effort; the pipe
            // is shared with it, and a larger one harms nobody).
            crate::sandbox::sys::set_pipe_size(&file, 1 << 20);
        }
        Ok(Forward {
            pollable: private,
            splice_ok: kind.is_fifo() || kind.is_file() || kind.is_char_device(),
            file,
            queue: Vec::new(),
            at: 0,
            broken: false,
            sink_full: false,
        })
    }

    /// The descriptor to watch for room, if it can block at all.
    pub fn pollable_fd(&self) -> Option<RawFd> {
        self.pollable.then(|| self.file.as_raw_fd())
    }

    /// Bytes are waiting for the consumer: take no more from the program.
    pub fn blocked(&self) -> bool {
        self.at < self.queue.len() || self.sink_full
    }

    /// Write what the consumer takes now; queue the rest.
    pub fn write(&mut self, bytes: &[u8]) {
        if self.broken {
            return;
        }
        if self.blocked() {
            self.queue.extend_from_slice(bytes);
            return;
        }
        let n = self.write_now(bytes);
        self.queue.clear();
        self.at = 0;
        self.queue.extend_from_slice(&bytes[n..]);
    }

    /// The consumer has room: flush the queue. True once it is empty.
    pub fn flush(&mut self) -> bool {
        self.sink_full = false;
        if self.blocked() {
            let queue = std::mem::take(&mut self.queue);
            let n = self.write_now(&queue[self.at..]);
            self.queue = queue;
            self.at += n;
            if self.at == self.queue.len() {
                self.queue.clear();
                self.at = 0;
            }
        }
        !self.blocked()
    }

    /// At the end of the session: give the consumer up to `timeout_ms` to
    /// take what is queued. Returns the bytes it did not take.
    pub fn drain(&mut self, timeout_ms: u64) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms);
        while !self.flush() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let mut p = libc::pollfd {
                fd: self.file.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, left.as_millis().max(1) as i32) };
        }
        self.queue.len() - self.at
    }

    fn write_now(&mut self, bytes: &[u8]) -> usize {
        let mut done = 0;
        while done < bytes.len() && !self.broken {
            match self.file.write(&bytes[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.broken = true;
                    self.queue.clear();
                    self.at = 0;
                    return bytes.len();
                }
            }
        }
        done
    }

    /// Move up to `len` bytes from `source` (a pipe) to the consumer.
    pub fn splice_from(&mut self, source: RawFd, len: usize) -> Spliced {
        if !self.splice_ok || self.blocked() || self.broken {
            return Spliced::Unsupported;
        }
        // splice's EAGAIN cannot tell an empty source from a full consumer.
        // Only we write to the consumer, so its room can only grow: if it
        // has room now, a later EAGAIN means the source is empty. If it has
        // none, it is full, and epoll will say when that changes.
        if self.pollable && !writable(self.file.as_raw_fd()) {
            self.sink_full = true;
            return Spliced::SinkFull;
        }
        loop {
            // SAFETY: both descriptors are open; null offsets mean "current".
            let n = unsafe {
                libc::splice(
                    source,
                    std::ptr::null_mut(),
                    self.file.as_raw_fd(),
                    std::ptr::null_mut(),
                    len,
                    libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
                )
            };
            if n > 0 {
                return Spliced::Moved(n as usize);
            }
            if n == 0 {
                return Spliced::SourceEof;
            }
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Spliced::SourceEmpty,
                _ => {
                    self.splice_ok = false;
                    return Spliced::Unsupported;
                }
            }
        }
    }
}

/// Room in a pipe or terminal for at least one more write.
fn writable(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    unsafe { libc::poll(&mut p, 1, 0) == 1 && p.revents & libc::POLLOUT != 0 }
}

fn is_dev_null(f: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata("/dev/null")) {
        (Ok(a), Ok(b)) => a.rdev() == b.rdev(),
        _ => false,
    }
}
