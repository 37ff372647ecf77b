//! One of the program's output streams: counted exactly, kept up to its
//! cap, never buffered beyond it.

use std::fs::File;
use std::io::{self, Read, Write};

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
        }
    }

    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    pub fn close(&mut self) {
        self.fd = None;
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
