//! The program's stdin: a bounded queue in front of a non-blocking pipe.

use std::fs::File;
use std::io::{self, Write};

/// Bytes for the program's stdin wait here while its pipe is full. The
/// queue is bounded: a responder that produces faster than the program reads
/// is told so (`push` takes fewer bytes) and must wait for room.
pub struct StdinPipe {
    fd: Option<File>,
    queue: Vec<u8>,
    at: usize,
    cap: usize,
    close_requested: bool,
    /// Bytes written into the program's stdin pipe.
    pub written: u64,
    /// Bytes the responder sent that the program never received because it
    /// closed its stdin (EPIPE) or ended first.
    pub dropped: u64,
    /// The program closed its end (EPIPE on write).
    pub broken: bool,
    /// Chunks written since the driver last looked, for the transcript.
    journal: Option<Vec<Vec<u8>>>,
    /// CLOCK_MONOTONIC of the last successful write, as the loop's clock
    /// read it for the event that wrote (a reading per write would cost a
    /// ping-pong round more than the precision is worth).
    pub last_write_ns: u64,
    /// From this moment on nothing more is written: the program's wall
    /// limit has passed, and a program woken by a late answer would look
    /// busy to the check that tells a waiting program (ILE) from one
    /// starved of CPU (TLE). What comes later waits in the queue.
    write_until_ns: u64,
    /// A terminal's master, not a pipe: closing means sending end of file.
    terminal: bool,
    /// The last byte written ended a line (or none was written).
    line_start: bool,
    /// A terminal's descriptor once closed, kept until the driver has taken
    /// it out of its epoll set (see `Driver::watch_stdin`).
    retired: Option<File>,
}

impl StdinPipe {
    /// `fd` is the non-blocking write end, or `None` when the driver does
    /// not own the program's stdin (a responder wired it directly).
    pub fn new(fd: Option<File>, cap: usize, journal: bool) -> Self {
        StdinPipe {
            fd,
            queue: Vec::new(),
            at: 0,
            cap,
            close_requested: false,
            written: 0,
            dropped: 0,
            broken: false,
            journal: journal.then(Vec::new),
            last_write_ns: 0,
            write_until_ns: u64::MAX,
            terminal: false,
            line_start: true,
            retired: None,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// A closed terminal descriptor to deregister before it is dropped.
    pub fn take_retired(&mut self) -> Option<File> {
        self.retired.take()
    }

    /// Drop the descriptor (a terminal's is kept for `take_retired`).
    fn close_fd(&mut self) {
        let fd = self.fd.take();
        if self.terminal {
            self.retired = fd;
        }
    }

    /// The descriptor is a terminal's master (see `close_when_drained`).
    pub fn terminal(self, yes: bool) -> Self {
        StdinPipe {
            terminal: yes,
            ..self
        }
    }

    /// Write nothing from `deadline_ns` on (see `write_until_ns`).
    pub fn write_until(self, deadline_ns: u64) -> Self {
        StdinPipe {
            write_until_ns: deadline_ns,
            ..self
        }
    }

    pub fn is_open(&self) -> bool {
        self.fd.is_some() && !self.close_requested
    }

    /// Nobody holds the pipe's read end any more (the program and whatever
    /// inherited its stdin are gone), though no write has failed yet: a
    /// poll, a system call, for rare moments. A terminal is never "gone".
    pub fn reader_gone(&self) -> bool {
        use std::os::fd::AsRawFd;
        let Some(fd) = self.fd.as_ref().filter(|_| !self.terminal) else {
            return self.broken;
        };
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut p, 1, 0) };
        self.broken || (ready == 1 && p.revents & libc::POLLERR != 0)
    }

    pub fn queued(&self) -> usize {
        self.queue.len() - self.at
    }

    pub fn space(&self) -> usize {
        if !self.is_open() {
            return 0;
        }
        self.cap.saturating_sub(self.queued())
    }

    /// Take up to `space()` bytes; write at once what the pipe accepts.
    /// `now_ns`: the loop's clock for this event.
    pub fn push(&mut self, bytes: &[u8], now_ns: u64) -> usize {
        if !self.is_open() {
            return 0;
        }
        let mut taken = 0;
        if self.queued() == 0 {
            taken = self.write_now(bytes, now_ns);
            if self.fd.is_none() {
                return bytes.len(); // EPIPE: accepted and dropped
            }
        }
        let rest = &bytes[taken..];
        let n = rest.len().min(self.space());
        if n > 0 {
            // Drop what was written from the front once it outweighs what
            // waits: the queue stays within twice its cap, and each byte
            // is moved at most once on average. (Left in place, it grew by
            // everything that ever passed through while the pipe was never
            // emptied, some 15 MiB per 200 MiB streamed.)
            if self.at > 0 && self.at >= self.queued() {
                self.queue.drain(..self.at);
                self.at = 0;
            }
            self.queue.extend_from_slice(&rest[..n]);
        }
        taken + n
    }

    /// The pipe became writable: flush what is queued. Returns true if room
    /// was made in the queue.
    pub fn on_writable(&mut self, now_ns: u64) -> bool {
        if self.queued() == 0 {
            self.maybe_close();
            return false;
        }
        let pending = std::mem::take(&mut self.queue);
        let n = self.write_now(&pending[self.at..], now_ns);
        self.queue = pending;
        self.at += n;
        if self.at == self.queue.len() {
            self.queue.clear();
            self.at = 0;
        }
        self.maybe_close();
        // A broken pipe makes room too: nothing more will wait in it.
        n > 0 || self.broken
    }

    /// Close once the queue is drained. On a terminal, whose master stays
    /// open for the program's output, that is the end-of-file character
    /// (^D) at the start of a line: after a partial line, one ^D only hands
    /// the line over, and a second one is the end of file.
    pub fn close_when_drained(&mut self) {
        if self.terminal && self.is_open() {
            let line_start = if self.queued() > 0 {
                self.queue.last() == Some(&b'\n')
            } else {
                self.line_start
            };
            let eof: &[u8] = if line_start { b"\x04" } else { b"\x04\x04" };
            // Room is not checked: two bytes beyond the cap are harmless.
            let taken = if self.queued() == 0 {
                self.write_now(eof, self.last_write_ns)
            } else {
                0
            };
            self.queue.extend_from_slice(&eof[taken..]);
        }
        self.close_requested = true;
        self.maybe_close();
    }

    /// Close now, dropping what is queued (the program has ended).
    pub fn abandon(&mut self) {
        self.dropped += self.queued() as u64;
        self.queue.clear();
        self.at = 0;
        self.close_fd();
    }

    pub fn take_journal(&mut self) -> Vec<Vec<u8>> {
        self.journal
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn maybe_close(&mut self) {
        if self.close_requested && self.queued() == 0 {
            self.close_fd();
        }
    }

    fn write_now(&mut self, bytes: &[u8], now_ns: u64) -> usize {
        let fd = match self.fd.as_mut() {
            Some(f) => f,
            None => return 0,
        };
        if now_ns >= self.write_until_ns {
            return 0;
        }
        let mut done = 0;
        while done < bytes.len() {
            match fd.write(&bytes[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    // EPIPE: the program closed its stdin. Recorded, not fatal.
                    self.broken = true;
                    self.dropped += (bytes.len() - done + self.queued()) as u64;
                    self.queue.clear();
                    self.at = 0;
                    self.close_fd();
                    break;
                }
            }
        }
        if done > 0 {
            self.line_start = bytes[done - 1] == b'\n';
            self.written += done as u64;
            self.last_write_ns = now_ns;
            if let Some(j) = self.journal.as_mut() {
                j.push(bytes[..done].to_vec());
            }
        }
        done
    }

    pub fn raw_fd(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.fd.as_ref().map(|f| f.as_raw_fd())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    /// A reader that always leaves some bytes behind never empties the
    /// queue; what it took must still leave the judge's memory.
    #[test]
    fn the_queue_stays_bounded_while_never_emptied() {
        let mut fds = [0; 2];
        // SAFETY: a fresh pipe; both ends are owned by the Files below.
        assert_eq!(
            unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
            0
        );
        let (mut reader, writer) =
            unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        let cap = 16384;
        let mut q = StdinPipe::new(Some(writer), cap, false);
        let chunk = [7u8; 1000];
        // More than a page, so that the pipe takes some (it frees whole
        // pages), and less than the queue holds.
        let mut buf = vec![0u8; 5000];
        let mut total = 0;
        while total < 64 << 20 {
            while q.space() > 0 {
                total += q.push(&chunk[..chunk.len().min(q.space())], 0);
            }
            // The pipe is full and the queue too: the program reads less
            // than was queued, the pipe takes it, and the rest waits.
            let n = reader.read(&mut buf).unwrap();
            assert!(n > 0);
            q.on_writable(0);
            assert!(q.queued() > 0);
            assert!(
                q.queue.capacity() <= 3 * cap,
                "{} bytes held",
                q.queue.capacity()
            );
        }
    }
}
