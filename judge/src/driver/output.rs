//! One of the program's output streams: counted exactly, kept up to its
//! cap, never buffered beyond it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

/// Where the kept bytes of a stream go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Kept in memory, up to the cap, for the result.
    Capture,
    /// Written through to the judge's own stdout as they arrive.
    ForwardStdout,
    /// Counted only.
    Discard,
}

pub struct OutStream {
    fd: Option<File>,
    pub cap: u64,
    /// Bytes read from the pipe, including any beyond the cap.
    pub count: u64,
    pub kept: Vec<u8>,
    sink: Sink,
    /// Readable data left unread because the responder was not accepting.
    pub pending: bool,
    splice_failed: bool,
    /// Some bytes went by splice and are not in `kept`.
    pub spliced: bool,
}

/// What one read produced.
pub enum Read_ {
    /// Bytes within the cap (possibly fewer than read, when the cap was crossed).
    Data {
        within: usize,
        over_cap: bool,
    },
    WouldBlock,
    Eof,
}

impl OutStream {
    pub fn new(fd: Option<File>, cap: u64, sink: Sink) -> Self {
        OutStream {
            fd,
            cap,
            count: 0,
            kept: Vec::new(),
            sink,
            pending: false,
            splice_failed: false,
            spliced: false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    pub fn close(&mut self) {
        self.fd = None;
    }

    /// Whether the bytes can go straight from the pipe to the judge's
    /// stdout with splice(2), never entering user space: only when nobody
    /// needs to see them.
    pub fn can_splice(&self) -> bool {
        self.sink == Sink::ForwardStdout && !self.splice_failed
    }

    /// Move up to the cap from the pipe to the judge's stdout (fd 1) without
    /// copying. `Data { within: 0, .. }` means: fall back to `read_into`
    /// (the cap is reached and one more byte must be read to tell, or fd 1
    /// does not support splice).
    pub fn splice_to_stdout(&mut self) -> io::Result<Read_> {
        let fd = match self.fd.as_ref() {
            Some(f) => f.as_raw_fd(),
            None => return Ok(Read_::Eof),
        };
        let room = self.cap.saturating_sub(self.count);
        if room == 0 {
            return Ok(Read_::Data {
                within: 0,
                over_cap: false,
            });
        }
        let len = room.min(1 << 20) as usize;
        loop {
            // SAFETY: both descriptors are open; null offsets mean "current".
            let n = unsafe {
                libc::splice(
                    fd,
                    std::ptr::null_mut(),
                    1,
                    std::ptr::null_mut(),
                    len,
                    libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
                )
            };
            if n >= 0 {
                if n == 0 {
                    self.fd = None;
                    return Ok(Read_::Eof);
                }
                self.count += n as u64;
                self.spliced = true;
                return Ok(Read_::Data {
                    within: n as usize,
                    over_cap: false,
                });
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(Read_::WouldBlock),
                _ => {
                    // fd 1 is a terminal or something else splice cannot
                    // write to: copy through user space from now on.
                    self.splice_failed = true;
                    return Ok(Read_::Data {
                        within: 0,
                        over_cap: false,
                    });
                }
            }
        }
    }

    /// Read once into `buf`. The bytes within the cap are `buf[..within]`.
    pub fn read_into(&mut self, buf: &mut [u8]) -> io::Result<Read_> {
        if self.count > self.cap {
            // Over the cap: the rest is not wanted, not even to count it.
            self.fd = None;
        }
        let fd = match self.fd.as_mut() {
            Some(f) => f,
            None => return Ok(Read_::Eof),
        };
        // Never read (much) past the cap: one byte over is enough to know.
        let room = self.cap.saturating_sub(self.count).saturating_add(1);
        let len = buf.len().min(room.min(usize::MAX as u64) as usize);
        let n = loop {
            match fd.read(&mut buf[..len]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Read_::WouldBlock),
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.fd = None;
            return Ok(Read_::Eof);
        }
        let before = self.count;
        self.count += n as u64;
        let within = (self.cap.saturating_sub(before)).min(n as u64) as usize;
        match self.sink {
            Sink::Capture => self.kept.extend_from_slice(&buf[..within]),
            Sink::ForwardStdout => {
                // Best effort: a closed or full stdout of ours must not stop
                // the judging.
                let _ = io::stdout().lock().write_all(&buf[..within]);
            }
            Sink::Discard => {}
        }
        Ok(Read_::Data {
            within,
            over_cap: self.count > self.cap,
        })
    }
}
