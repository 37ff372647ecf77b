//! One of the program's output streams: counted exactly, kept up to its
//! cap, never buffered beyond it.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;

use super::forward::{Forward, Spliced};

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
    /// Where a ForwardStdout stream goes.
    pub forward: Option<Forward>,
    /// Readable data left unread (backpressure, or a batch cut short).
    pub pending: bool,
    /// epoll reported that every writer has closed the pipe: read to the
    /// end of file, there will be no further edge.
    pub hangup: bool,
    /// Not watched until this moment (CLOCK_MONOTONIC ns; 0: watched): a
    /// writer of tiny pieces that nobody reads live is read in batches
    /// (see `Driver::rest`).
    pub resting_until_ns: u64,
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
            forward: match sink {
                Sink::ForwardStdout => Forward::stdout().ok(),
                _ => None,
            },
            sink,
            pending: false,
            hangup: false,
            resting_until_ns: 0,
        }
    }

    pub fn raw_fd(&self) -> Option<i32> {
        self.fd.as_ref().map(|f| f.as_raw_fd())
    }

    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    pub fn close(&mut self) {
        self.fd = None;
    }

    /// The consumer of forwarded bytes is full: read no more for now.
    pub fn forward_blocked(&self) -> bool {
        self.forward.as_ref().is_some_and(|f| f.blocked())
    }

    /// Move bytes from the pipe straight to the judge's stdout with
    /// splice(2), never entering user space, up to the cap. `None`: use
    /// `read_into` instead (splice unsupported there, or the cap is reached
    /// and one more byte must be read to tell).
    pub fn splice_forward(&mut self) -> Option<io::Result<Read_>> {
        let fd = self.fd.as_ref()?.as_raw_fd();
        let room = self.cap.saturating_sub(self.count);
        if room == 0 {
            return None;
        }
        let forward = self.forward.as_mut()?;
        match forward.splice_from(fd, room.min(1 << 20) as usize) {
            Spliced::Moved(n) => {
                self.count += n as u64;
                Some(Ok(Read_::Data {
                    within: n,
                    over_cap: false,
                }))
            }
            Spliced::SourceEmpty => Some(Ok(Read_::WouldBlock)),
            Spliced::SourceEof => {
                self.fd = None;
                Some(Ok(Read_::Eof))
            }
            Spliced::SinkFull => {
                self.pending = true;
                Some(Ok(Read_::WouldBlock))
            }
            Spliced::Unsupported => None,
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
                // A terminal's master once the last descriptor of its
                // slave is closed: the end of its output.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => {
                    self.fd = None;
                    return Ok(Read_::Eof);
                }
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
                if let Some(f) = self.forward.as_mut() {
                    f.write(&buf[..within]);
                }
            }
            Sink::Discard => {}
        }
        Ok(Read_::Data {
            within,
            over_cap: self.count > self.cap,
        })
    }
}
