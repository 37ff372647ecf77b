//! The event loop: one thread, one `mio::Poll`, the program's pipes, its
//! exit, the responder's descriptors and the clock.
//!
//! It knows nothing of responder kinds: it hands output to a
//! [`Responder`], writes what it returns to the program's stdin, and asks
//! the precedence policy after every round whether the verdict is settled.
//! Timers are the poll timeout, computed from the nearest deadline; nothing
//! here sleeps or polls in a loop.

mod forward;
mod output;
mod stdin;

pub use output::Sink;
pub use stdin::StdinPipe;

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::cpu_watch::CpuWatch;
use crate::limits::Limits;
use crate::precedence::{self, KillReason, Precedence, ProgramEnd, ProgramFacts, ProgramSide};
use crate::responder::{Io, ProgramExit, Responder, Stream};
use crate::sandbox::{sys::monotonic_ns, ExitReport, MemoryStats, Tree};
use crate::transcript::Transcript;
use crate::verdict::Verdict;
use output::{OutStream, Read_};

const PROGRAM_STDOUT: Token = Token(0);
const PROGRAM_STDERR: Token = Token(1);
/// A wake that moved fewer bytes than this, on a stream nobody reads live,
/// lets the stream rest for REST_NS (see `Driver::rest`).
const REST_BELOW: u64 = 4096;
const REST_NS: u64 = 1_000_000;
/// How often a conversation is looked at for a deadlock, and how long both
/// sides must stay waiting, unchanged, to be one.
const DEADLOCK_PROBE_NS: u64 = 25_000_000;
pub const BLOCKED_GRACE_NS: u64 = 50_000_000;
/// How often an ended program's open streams are read without an event.
const DRAIN_CHECK_NS: u64 = 100_000_000;
const PROGRAM_STDIN: Token = Token(2);
const PROGRAM_EXIT: Token = Token(3);
const SIGNALS: Token = Token(4);
const PROGRAM_PIDFD: Token = Token(5);
const JUDGE_STDOUT: Token = Token(6);
const SECCOMP: Token = Token(7);
/// Tokens from here on belong to the responder.
pub const RESPONDER_FIRST: Token = Token(16);
/// How many tokens a responder may use.
pub const RESPONDER_TOKENS: usize = 16;

/// One read's worth. Large reads move bulk output in few system calls.
const READ_CHUNK: usize = 1 << 20;
/// Reads from one stream before the loop looks at everything else again.
const BATCH: usize = 16;
/// Bytes a responder may queue for the program's stdin beyond what its
/// pipe holds.
pub const STDIN_QUEUE: usize = 1 << 20;

/// The program's side of the session, as the session hands it over.
pub struct ProgramIo {
    pub tree: Tree,
    /// Read ends, `None` where a responder owns the stream (`--direct`).
    pub stdout: Option<File>,
    pub stderr: Option<File>,
    /// Write end of its stdin, `None` where a responder owns it.
    pub stdin: Option<File>,
    /// How many CPUs it may run on at once (to schedule CPU checks).
    pub parallelism: u32,
    /// stdin and stdout are one pseudo-terminal (both `File`s are its
    /// master): closing stdin is sending end of file.
    pub terminal: bool,
}

/// Settings of the loop.
pub struct Config {
    pub limits: Limits,
    pub policy: Precedence,
    pub stdout_sink: Sink,
    pub stderr_sink: Sink,
    /// A signalfd to watch (SIGINT/SIGTERM aimed at the judge).
    pub signals: Option<RawFd>,
    pub transcript: Option<Rc<RefCell<Transcript>>>,
    /// Kill the program at its first refused system call (else it fails).
    pub kill_on_forbidden: bool,
}

/// What the loop saw.
pub struct Outcome {
    pub program: ProgramSide,
    pub end: ProgramEnd,
    pub exit_report: Option<ExitReport>,
    pub cpu_ns: u64,
    pub wall_ns: u64,
    pub memory: Option<MemoryStats>,
    pub stdout: StreamFigures,
    pub stderr: StreamFigures,
    pub stdin_bytes: Option<u64>,
    pub stdin_dropped: u64,
    pub stdin_closed_by_program: bool,
    /// A signal that interrupted the judge.
    pub interrupted: Option<i32>,
    /// A failure of the loop or of the responder's code.
    pub failure: Option<String>,
    /// Problems that do not change the verdict.
    pub warnings: Vec<String>,
    /// System calls refused to the program: name and count, first first.
    pub refused: Vec<(String, u64)>,
    /// The work directory copied out (`--keep-workdir`), or why not.
    pub kept: Option<Result<crate::sandbox::keep::Kept, String>>,
}

/// Figures of one output stream.
pub struct StreamFigures {
    /// `None` when the stream bypassed the judge (`--direct`).
    pub bytes: Option<u64>,
    pub kept: Vec<u8>,
}

struct Ended {
    end: ProgramEnd,
    at_ns: u64,
    report: Option<ExitReport>,
    side: ProgramSide,
    cpu_ns: u64,
    memory: Option<MemoryStats>,
}

/// Run the session to its end.
pub fn drive(
    program: ProgramIo,
    responder: &mut dyn Responder,
    cfg: Config,
) -> io::Result<Outcome> {
    Driver::new(program, cfg)?.run(responder)
}

struct Driver {
    poll: Poll,
    tree: Tree,
    stdout: OutStream,
    stderr: OutStream,
    stdout_direct: bool,
    stdin: StdinPipe,
    stdin_direct: bool,
    /// The program's stdin is registered for writability.
    stdin_watched: bool,
    cfg: Config,
    started_ns: u64,
    wall_deadline_ns: u64,
    cpu_watch: CpuWatch,
    last_output_ns: u64,
    /// Both sides first seen waiting for each other: when, with the
    /// program's CPU time and the responder's marker then.
    deadlock_seen: Option<(u64, u64, u64)>,
    /// The program first seen blocked reading: when, with its CPU time
    /// then, and whether the responder has been told.
    blocked_seen: Option<(u64, u64, bool)>,
    /// When to look for a deadlock next.
    next_deadlock_probe_ns: u64,
    /// Once the program has ended: when to read its open streams again
    /// whether or not an event said so (see `check_clock`).
    next_drain_ns: u64,
    blocked_reading: Option<bool>,
    running_at_wall: bool,
    /// When the loop first saw the program's main process gone (its pidfd,
    /// or end of file on its output while it was exiting). Events reach the
    /// loop in the order they happened, so these times order the two sides
    /// correctly, which init's own clock readings (taken whenever init gets
    /// to run) cannot promise.
    exit_seen_ns: Option<u64>,
    ended: Option<Ended>,
    interrupted: Option<i32>,
    failure: Option<String>,
    buf: crate::read_buf::ReadBuf,
    refused: Vec<(String, u64)>,
}

impl Driver {
    fn new(p: ProgramIo, cfg: Config) -> io::Result<Driver> {
        let poll = Poll::new()?;
        let registry = poll.registry();
        let stdout_direct = p.stdout.is_none();
        let stdin_direct = p.stdin.is_none();
        for (file, token, interest) in [
            (p.stdout.as_ref(), PROGRAM_STDOUT, Interest::READABLE),
            (p.stderr.as_ref(), PROGRAM_STDERR, Interest::READABLE),
        ] {
            if let Some(f) = file {
                crate::sandbox::sys::set_nonblocking(f)?;
                registry.register(&mut SourceFd(&f.as_raw_fd()), token, interest)?;
            }
        }
        // The program's stdin is watched only while bytes wait for room
        // (see `watch_stdin`).
        if let Some(f) = p.stdin.as_ref() {
            crate::sandbox::sys::set_nonblocking(f)?;
        }
        registry.register(
            &mut SourceFd(&p.tree.exit_fd()),
            PROGRAM_EXIT,
            Interest::READABLE,
        )?;
        if let Some(fd) = p.tree.program_pidfd() {
            registry.register(&mut SourceFd(&fd), PROGRAM_PIDFD, Interest::READABLE)?;
        }
        if let Some(fd) = cfg.signals {
            registry.register(&mut SourceFd(&fd), SIGNALS, Interest::READABLE)?;
        }
        let started_ns = p.tree.started_ns();
        let limits = cfg.limits;
        let journal = cfg.transcript.is_some();
        let stdout = OutStream::new(p.stdout, limits.stdout, cfg.stdout_sink);
        if let Some(fd) = stdout.forward.as_ref().and_then(|f| f.pollable_fd()) {
            registry.register(&mut SourceFd(&fd), JUDGE_STDOUT, Interest::WRITABLE)?;
        }
        if let Some(n) = p.tree.notifier.as_ref() {
            registry.register(&mut SourceFd(&n.raw_fd()), SECCOMP, Interest::READABLE)?;
        }
        Ok(Driver {
            stdout,
            poll,
            stderr: OutStream::new(p.stderr, limits.stderr, cfg.stderr_sink),
            stdout_direct,
            stdin: StdinPipe::new(p.stdin, STDIN_QUEUE, journal)
                .write_until(started_ns + limits.wall_time.as_nanos() as u64)
                .terminal(p.terminal),
            stdin_direct,
            stdin_watched: false,
            started_ns,
            wall_deadline_ns: started_ns + limits.wall_time.as_nanos() as u64,
            cpu_watch: CpuWatch::new(started_ns, limits.cpu_time.as_nanos() as u64, p.parallelism),
            last_output_ns: 0,
            deadlock_seen: None,
            blocked_seen: None,
            next_deadlock_probe_ns: started_ns + DEADLOCK_PROBE_NS,
            next_drain_ns: u64::MAX,
            blocked_reading: None,
            running_at_wall: false,
            exit_seen_ns: None,
            tree: p.tree,
            cfg,
            ended: None,
            interrupted: None,
            failure: None,
            buf: crate::read_buf::ReadBuf::new(READ_CHUNK),
            refused: Vec::new(),
        })
    }

    fn io<'a>(poll: &'a Poll, stdin: &'a mut StdinPipe, tree: &'a mut Tree, now_ns: u64) -> Io<'a> {
        Io {
            stdin,
            registry: poll.registry(),
            tree,
            now_ns,
        }
    }

    fn run(mut self, responder: &mut dyn Responder) -> io::Result<Outcome> {
        responder
            .register(self.poll.registry(), RESPONDER_FIRST)
            .map_err(|e| io::Error::other(e.0))?;
        self.tell(monotonic_ns(), |io| responder.start(io));

        let mut events = Events::with_capacity(64);
        loop {
            self.resume_stdout(responder);
            if self.settled(responder) {
                break;
            }
            self.watch_stdin();
            let timeout = self.timeout(responder);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                // Read where an arm needs it: a reading per event would be
                // a good share of the loop's own cost per ping-pong round.
                let now = monotonic_ns;
                match event.token() {
                    PROGRAM_STDOUT => {
                        self.stdout.hangup |= event.is_read_closed() || event.is_error();
                        self.read_stream(Stream::Stdout, responder)
                    }
                    PROGRAM_STDERR => {
                        self.stderr.hangup |= event.is_read_closed() || event.is_error();
                        self.read_stream(Stream::Stderr, responder)
                    }
                    PROGRAM_STDIN => {
                        let now = now();
                        if self.stdin.on_writable(now) {
                            let r = responder.on_stdin_space(&mut Self::io(
                                &self.poll,
                                &mut self.stdin,
                                &mut self.tree,
                                now,
                            ));
                            self.note(r);
                        }
                    }
                    PROGRAM_EXIT => self.on_program_exit(responder),
                    PROGRAM_PIDFD => {
                        self.exit_seen_ns.get_or_insert_with(now);
                        if let Some(fd) = self.tree.program_pidfd() {
                            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                        }
                    }
                    SIGNALS => self.on_signal(),
                    SECCOMP => self.on_refusals(responder),
                    JUDGE_STDOUT => {
                        if let Some(f) = self.stdout.forward.as_mut() {
                            f.flush();
                        }
                    }
                    token => {
                        let closed = event.is_read_closed() || event.is_error();
                        let r = responder.on_ready(
                            token,
                            closed,
                            &mut Self::io(&self.poll, &mut self.stdin, &mut self.tree, now()),
                        );
                        self.note(r);
                    }
                }
                self.flush_journal();
            }
            self.check_clock(responder);
        }
        self.finish(responder)
    }

    /// Watch the program's stdin for room only while bytes wait for it.
    /// Watched all the time, every read the program makes would wake our
    /// epoll for nothing (in a ping-pong, once per round); registering
    /// reports a pipe that already has room at once, so no edge is lost.
    fn watch_stdin(&mut self) {
        // A terminal's stdin is one of two descriptors of its master: its
        // close leaves the other open, and so its registration in place.
        if let Some(f) = self.stdin.take_retired() {
            if self.stdin_watched {
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&f.as_raw_fd()));
            }
            self.stdin_watched = false;
        }
        let fd = self.stdin.raw_fd();
        let want = fd.is_some() && self.stdin.queued() > 0;
        if want == self.stdin_watched {
            return;
        }
        let registry = self.poll.registry();
        match fd {
            // Closing the descriptor removed it from the epoll set.
            None => self.stdin_watched = false,
            Some(fd) => {
                let mut src = SourceFd(&fd);
                let r = if want {
                    registry.register(&mut src, PROGRAM_STDIN, Interest::WRITABLE)
                } else {
                    registry.deregister(&mut src)
                };
                match r {
                    Ok(()) => self.stdin_watched = want,
                    Err(e) if self.failure.is_none() => {
                        self.failure = Some(format!("watching the program's stdin: {e}"));
                    }
                    Err(_) => {}
                }
            }
        }
    }

    /// The verdict is settled, or nothing more can happen.
    fn settled(&mut self, responder: &dyn Responder) -> bool {
        if self.interrupted.is_some() || self.failure.is_some() {
            return true;
        }
        let program = self
            .ended
            .as_ref()
            // Output still in the pipes belongs to the conversation: the
            // program is over for the policy only once it is read.
            .filter(|_| !self.stdout.is_open() && !self.stderr.is_open())
            .map(|e| &e.side);
        // The responder finished talking before the program ended: its
        // verdict may be the one that counts, so wait for it (its own
        // limits bound the wait).
        if let Some(p) = program {
            if responder.finished().is_none() && responder.ended_at().is_some_and(|t| t <= p.at_ns)
            {
                return false;
            }
        }
        precedence::should_stop(
            self.cfg.policy,
            responder.judges(),
            program,
            responder.finished(),
        )
    }

    fn timeout(&self, responder: &dyn Responder) -> Option<Duration> {
        if self.ready_to_read(responder) {
            return Some(Duration::ZERO);
        }
        let next = self.next_deadline_ns(responder);
        if next == u64::MAX {
            return None;
        }
        // Round up to whole milliseconds' worth of precision is not needed:
        // epoll_pwait2 is not used by mio, so this is ms resolution anyway.
        Some(Duration::from_nanos(next.saturating_sub(monotonic_ns())))
    }

    /// The nearest moment the clock must be looked at (`u64::MAX`: none).
    fn next_deadline_ns(&self, responder: &dyn Responder) -> u64 {
        let mut next = u64::MAX;
        if self.ended.is_none() {
            next = next
                .min(self.wall_deadline_ns)
                .min(self.cpu_watch.next_ns());
            if responder.wants_output() {
                next = next.min(self.next_deadlock_probe_ns);
            }
        }
        if let Some(d) = responder.deadline() {
            next = next.min(d);
        }
        if self.ended.is_some() && (self.stdout.is_open() || self.stderr.is_open()) {
            next = next.min(self.next_drain_ns);
        }
        for out in [&self.stdout, &self.stderr] {
            // A rest ends with the program (its pipes are drained then) or
            // with the stream.
            if out.resting_until_ns != 0 && out.is_open() && self.ended.is_none() {
                next = next.min(out.resting_until_ns);
            }
        }
        next
    }

    /// Call the responder with an `Io` for this moment, note a failure,
    /// and journal what it sent.
    fn tell(&mut self, now: u64, call: impl FnOnce(&mut Io<'_>) -> crate::responder::Result<()>) {
        let r = call(&mut Self::io(
            &self.poll,
            &mut self.stdin,
            &mut self.tree,
            now,
        ));
        self.note(r);
        self.flush_journal();
    }

    fn note(&mut self, r: crate::responder::Result<()>) {
        if let Err(e) = r {
            if self.failure.is_none() {
                self.failure = Some(format!("the responder failed: {e}"));
            }
        }
    }

    fn out(&mut self, stream: Stream) -> &mut OutStream {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    fn read_stream(&mut self, stream: Stream, responder: &mut dyn Responder) {
        let before = self.out(stream).count;
        self.read_now(stream, responder);
        let moved = self.out(stream).count - before;
        // Nothing moved: an idle pipe stays watched (it costs no wake-up).
        if moved > 0
            && moved < REST_BELOW
            && !responder.wants_output()
            && self.cfg.transcript.is_none()
            && self.ended.is_none()
        {
            self.rest(stream);
        }
    }

    /// Stop watching a stream for a moment. A program writing one byte at
    /// a time would otherwise wake the loop for each byte, and the judge
    /// would spend about as much CPU as the program (measured: 1.5 s for
    /// 2,000,000 writes taking the program 1.8 s). Where nobody reads the
    /// bytes live (no responder looks at them, no transcript times them),
    /// the pipe (1 MiB) holds them until the loop comes back: the judge
    /// wakes at most once per REST_NS for such a writer. Output caps still
    /// hold (the bytes are counted when read), and the program's exit ends
    /// every rest at once.
    fn rest(&mut self, stream: Stream) {
        let out = self.out(stream);
        if !out.is_open() || out.pending || out.hangup || out.resting_until_ns != 0 {
            return;
        }
        let Some(fd) = out.raw_fd() else { return };
        if self.poll.registry().deregister(&mut SourceFd(&fd)).is_ok() {
            let out = self.out(stream);
            out.resting_until_ns = monotonic_ns() + REST_NS;
            out.pending = true;
        }
    }

    /// Watch a resting stream again once its moment is over (or the
    /// program has ended); false while it still rests.
    fn wake(&mut self, stream: Stream) -> bool {
        let ended = self.ended.is_some();
        let token = match stream {
            Stream::Stdout => PROGRAM_STDOUT,
            Stream::Stderr => PROGRAM_STDERR,
        };
        let out = self.out(stream);
        if out.resting_until_ns == 0 {
            return true;
        }
        if !ended && monotonic_ns() < out.resting_until_ns {
            return false;
        }
        out.resting_until_ns = 0;
        if let Some(fd) = out.raw_fd() {
            // Registered again, a pipe that holds data raises an edge at once.
            let _ = self
                .poll
                .registry()
                .register(&mut SourceFd(&fd), token, Interest::READABLE);
        }
        true
    }

    fn resting(&self, out: &OutStream) -> bool {
        out.resting_until_ns != 0 && self.ended.is_none()
    }

    fn read_now(&mut self, stream: Stream, responder: &mut dyn Responder) {
        let wants = responder.wants_output();
        // A writer as fast as we are could keep us here forever, deaf to
        // the clock and the other side: after a batch, come back later.
        for _ in 0..BATCH {
            let out = match stream {
                Stream::Stdout => &mut self.stdout,
                Stream::Stderr => &mut self.stderr,
            };
            if !out.is_open() {
                return;
            }
            // Backpressure: leave stdout unread while the responder is full.
            if wants && stream == Stream::Stdout && !responder.accepts_output() {
                out.pending = true;
                return;
            }
            out.pending = false;
            // Our own stdout is full: wait until it takes more. Once the
            // program has ended, what is left in its pipe (at most the
            // pipe's size) is read regardless and queued for the final drain.
            if out.forward_blocked() && self.ended.is_none() {
                out.pending = true;
                return;
            }
            // Nobody looks at the bytes: let the kernel move them.
            if !wants && self.cfg.transcript.is_none() {
                match out.splice_forward() {
                    Some(Ok(Read_::Data { .. })) => {
                        self.last_output_ns = monotonic_ns();
                        continue;
                    }
                    Some(Ok(Read_::WouldBlock)) => return,
                    Some(Ok(Read_::Eof)) => {
                        self.stream_closed(stream, responder);
                        return;
                    }
                    Some(Err(e)) => {
                        self.failure = Some(format!("forwarding the program's {stream:?}: {e}"));
                        return;
                    }
                    None => {}
                }
            }
            let len = if wants {
                self.buf.len().min(responder.output_chunk_max())
            } else {
                self.buf.len()
            };
            let r = out.read_into(&mut self.buf[..len]);
            let now = monotonic_ns();
            match r {
                Ok(Read_::Data { within, over_cap }) => {
                    self.last_output_ns = now;
                    if let Some(t) = &self.cfg.transcript {
                        let cpu = self.tree.cpu_ns();
                        let name = match stream {
                            Stream::Stdout => "stdout",
                            Stream::Stderr => "stderr",
                        };
                        t.borrow_mut().chunk(now, cpu, name, &self.buf[..within]);
                    }
                    let written_before = self.stdin.written;
                    // The clock as the responder last read it: an
                    // in-process one reads it after each call it makes.
                    let mut after = now;
                    if wants && within > 0 {
                        let mut io = Self::io(&self.poll, &mut self.stdin, &mut self.tree, now);
                        let r = responder.on_output(stream, &self.buf[..within], &mut io);
                        after = io.now_ns;
                        self.note(r);
                        self.flush_journal();
                    }
                    if over_cap {
                        // Kill before closing our end: closing first would
                        // let the program die of SIGPIPE instead. The stream
                        // reads as closed from now on (see OutStream).
                        let reason = match stream {
                            Stream::Stdout => KillReason::StdoutLimit,
                            Stream::Stderr => KillReason::StderrLimit,
                        };
                        self.kill_program(reason, responder);
                        // It may have exited on its own just before, or have
                        // ended earlier with this still in the pipe: the
                        // bytes over the cap decide all the same.
                        self.over_cap(stream);
                        match stream {
                            Stream::Stdout => self.stdout.close(),
                            Stream::Stderr => self.stderr.close(),
                        }
                        self.stream_closed(stream, responder);
                        return;
                    }
                    // A short read drained the pipe: every later write raises
                    // a new edge, so there is no need to read to EAGAIN.
                    // Not so for the writers' last close: if its edge came
                    // with this event, no other will follow, and the end of
                    // file must be read now.
                    let hangup = match stream {
                        Stream::Stdout => self.stdout.hangup,
                        Stream::Stderr => self.stderr.hangup,
                    };
                    // A slow responder called chunk after chunk must not
                    // keep the loop from its clock: past a deadline, the
                    // rest waits until the clock has been looked at.
                    if wants && within > 0 && after >= self.next_deadline_ns(responder) {
                        match stream {
                            Stream::Stdout => self.stdout.pending = true,
                            Stream::Stderr => self.stderr.pending = true,
                        }
                        return;
                    }
                    // Except when the responder just answered into the
                    // program's stdin (an in-process responder): a program
                    // on our CPU ran as soon as that write woke it, and has
                    // likely replied already; reading now saves the wait
                    // (a third of the judge's system calls per round).
                    let answered = self.stdin.written > written_before;
                    if within < len / 2 && !hangup && !answered {
                        return;
                    }
                }
                Ok(Read_::WouldBlock) => return,
                Ok(Read_::Eof) => {
                    self.stream_closed(stream, responder);
                    return;
                }
                Err(e) => {
                    self.failure = Some(format!("reading the program's {stream:?}: {e}"));
                    return;
                }
            }
        }
        match stream {
            Stream::Stdout => self.stdout.pending = true,
            Stream::Stderr => self.stderr.pending = true,
        }
    }

    /// The program wrote past a stream's cap: OLE, whatever its exit.
    fn over_cap(&mut self, stream: Stream) {
        let (name, cap) = match stream {
            Stream::Stdout => ("stdout", self.cfg.limits.stdout),
            Stream::Stderr => ("stderr", self.cfg.limits.stderr),
        };
        if let Some(e) = self.ended.as_mut() {
            if e.side.failure.as_ref().is_none_or(|f| f.0 != Verdict::OLE) {
                e.side.failure = Some((
                    Verdict::OLE,
                    format!("the program wrote more than {cap} bytes to {name}"),
                ));
            }
        }
    }

    fn stream_closed(&mut self, stream: Stream, responder: &mut dyn Responder) {
        let now = monotonic_ns();
        // End of file because the program is exiting (not a close()): it
        // ended now, before anything the responder does in reply.
        if self.ended.is_none() && self.exit_seen_ns.is_none() && self.tree.program_exiting() {
            self.exit_seen_ns = Some(now);
        }
        if responder.wants_output() {
            let r = responder.on_output_closed(
                stream,
                &mut Self::io(&self.poll, &mut self.stdin, &mut self.tree, now),
            );
            self.note(r);
        }
    }

    /// Data left unread under backpressure is read once there is room.
    fn resume_stdout(&mut self, responder: &mut dyn Responder) {
        let stdout_awake = !self.stdout.pending || self.wake(Stream::Stdout);
        let stderr_awake = !self.stderr.pending || self.wake(Stream::Stderr);
        if self.stdout.pending
            && stdout_awake
            && responder.accepts_output()
            && (!self.stdout.forward_blocked() || self.ended.is_some())
        {
            self.read_stream(Stream::Stdout, responder);
        }
        if self.stderr.pending && stderr_awake {
            self.read_stream(Stream::Stderr, responder);
        }
    }

    /// Data is known to wait in a pipe that we may read now.
    fn ready_to_read(&self, responder: &dyn Responder) -> bool {
        (self.stdout.pending
            && !self.resting(&self.stdout)
            && self.stdout.is_open()
            && responder.accepts_output()
            && (!self.stdout.forward_blocked() || self.ended.is_some()))
            || (self.stderr.pending && !self.resting(&self.stderr) && self.stderr.is_open())
    }

    fn on_program_exit(&mut self, responder: &mut dyn Responder) {
        if self.ended.is_some() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&self.tree.exit_fd()));
            return;
        }
        match self.tree.try_exit() {
            Ok(None) => {}
            Ok(Some(report)) => {
                let status = report.wait_status;
                let end = if libc::WIFSIGNALED(status) {
                    ProgramEnd::Signaled(libc::WTERMSIG(status))
                } else {
                    ProgramEnd::Exited(libc::WEXITSTATUS(status))
                };
                self.program_ended(end, report.at_ns, Some(report), responder);
            }
            Err(e) => {
                // Init died without reporting: only an outside kill does that.
                self.failure = Some(format!("lost the program: {e}"));
                self.program_ended(
                    ProgramEnd::Killed(KillReason::JudgeFailure),
                    monotonic_ns(),
                    None,
                    responder,
                );
            }
        }
    }

    fn kill_program(&mut self, reason: KillReason, responder: &mut dyn Responder) {
        if self.ended.is_some() {
            return;
        }
        // It may have ended on its own a moment ago: its own exit wins. When
        // its pidfd says so but init has not reported yet, wait for init.
        let report = if self.tree.program_exited() || self.exit_seen_ns.is_some() {
            self.tree.wait_exit(200)
        } else {
            self.tree.try_exit()
        };
        if let Ok(Some(report)) = report {
            let status = report.wait_status;
            let end = if libc::WIFSIGNALED(status) {
                ProgramEnd::Signaled(libc::WTERMSIG(status))
            } else {
                ProgramEnd::Exited(libc::WEXITSTATUS(status))
            };
            self.program_ended(end, report.at_ns, Some(report), responder);
            return;
        }
        let now = monotonic_ns();
        self.tree.kill();
        self.program_ended(ProgramEnd::Killed(reason), now, None, responder);
    }

    fn program_ended(
        &mut self,
        end: ProgramEnd,
        at_ns: u64,
        report: Option<ExitReport>,
        responder: &mut dyn Responder,
    ) {
        // After finish() every process of the tree is gone, so the pipes
        // below reach EOF once what is in them has been read.
        // Without a cgroup, the last look at the live tree is the best
        // figure for what gets killed below; init's report covers the dead.
        let live_cpu = self.tree.cpu_ns();
        let memory = self.tree.finish();
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&self.tree.exit_fd()));
        let cpu_ns = self.tree.cpu_ns().unwrap_or_else(|| {
            let reaped = report.map_or(0, |r| (r.utime_us + r.stime_us) * 1000);
            live_cpu.unwrap_or(0).max(reaped)
        });
        if !self.stdin_direct {
            self.stdin.abandon();
        }
        let limits = &self.cfg.limits;
        let facts = ProgramFacts {
            end,
            cpu_ns,
            cpu_limit_ns: limits.cpu_time.as_nanos() as u64,
            wall_limit_ns: limits.wall_time.as_nanos() as u64,
            wall_ns: at_ns.saturating_sub(self.started_ns),
            memory,
            memory_limit: limits.memory,
            stdout_limit: limits.stdout,
            stderr_limit: limits.stderr,
            responder_ended_first: responder.finished().is_some_and(|f| f.at_ns <= at_ns),
            waiting_after_input: self.stdin.last_write_ns >= self.last_output_ns,
            blocked_reading: self.blocked_reading,
            running_at_wall: self.running_at_wall,
            maxrss_kib: report.map(|r| r.maxrss_kib),
            forbidden: self.refused.first().map(|(n, _)| n.clone()),
            exit_judged: responder.judges_exit(),
        };
        let side = ProgramSide {
            failure: precedence::program_failure(&facts),
            at_ns: self.exit_seen_ns.map_or(at_ns, |seen| seen.min(at_ns)),
        };
        if let Some(t) = &self.cfg.transcript {
            let (code, sig) = match end {
                ProgramEnd::Exited(c) => (Some(c), None),
                ProgramEnd::Signaled(s) => (None, Some(s)),
                ProgramEnd::Killed(_) => (None, Some(libc::SIGKILL)),
            };
            t.borrow_mut().event(
                at_ns,
                "program_exit",
                serde_json::json!({
                    "exit_code": code,
                    "signal": sig,
                    "signal_name": sig.map(precedence::signal_name),
                    "cpu_ms": (cpu_ns as f64 / 1e3).round() / 1e3,
                }),
            );
        }
        self.next_drain_ns = monotonic_ns() + DRAIN_CHECK_NS;
        self.ended = Some(Ended {
            end,
            at_ns,
            report,
            side,
            cpu_ns,
            memory,
        });
        let exit = match end {
            ProgramEnd::Exited(c) => ProgramExit {
                exit_code: Some(c),
                signal: None,
                by_judge: false,
            },
            ProgramEnd::Signaled(s) => ProgramExit {
                exit_code: None,
                signal: Some(s),
                by_judge: false,
            },
            ProgramEnd::Killed(_) => ProgramExit {
                exit_code: None,
                signal: Some(libc::SIGKILL),
                by_judge: true,
            },
        };
        let r = responder.on_program_exit(
            exit,
            &mut Self::io(&self.poll, &mut self.stdin, &mut self.tree, at_ns),
        );
        self.note(r);
        // Drain what the program left in its pipes now that no writer is
        // left: to the end of file, which no later event would announce.
        self.stdout.hangup = true;
        self.stderr.hangup = true;
        self.read_stream(Stream::Stdout, responder);
        self.read_stream(Stream::Stderr, responder);
    }

    fn check_clock(&mut self, responder: &mut dyn Responder) {
        let now = monotonic_ns();

        if self.ended.is_none() {
            if now >= self.cpu_watch.next_ns() {
                let used = self.tree.cpu_ns().unwrap_or(0);
                if self.cpu_watch.exceeded(now, used) {
                    self.kill_program(KillReason::CpuLimit, responder);
                }
            }
            if self.ended.is_none() && now >= self.next_deadlock_probe_ns {
                self.next_deadlock_probe_ns = now + DEADLOCK_PROBE_NS;
                if responder.wants_output() {
                    self.look_for_deadlock(now, responder);
                }
            }
            if self.ended.is_none() && now >= self.wall_deadline_ns {
                let limit = self.cfg.limits.cpu_time.as_nanos() as u64;
                let used = self.tree.cpu_ns().unwrap_or(0);
                let reason = if used > limit {
                    KillReason::CpuLimit
                } else {
                    self.blocked_reading = self.tree.blocked_reading_stdin();
                    self.running_at_wall = self.tree.program_state() == Some('R');
                    KillReason::WallLimit
                };
                self.kill_program(reason, responder);
            }
        }
        // The tree is gone, so its pipes hold a finite rest and then end of
        // file; read them on a timer too. Under parallel sessions an end of
        // file was once never reported (a session waited forever with no
        // process left; not reproduced since): a lost edge now costs a
        // short wait, never a hang.
        if self.ended.is_some() && now >= self.next_drain_ns {
            self.next_drain_ns = now + DRAIN_CHECK_NS;
            for stream in [Stream::Stdout, Stream::Stderr] {
                if self.out(stream).is_open() {
                    self.out(stream).pending = true;
                }
            }
        }
        if responder.deadline().is_some_and(|d| now >= d) {
            self.tell(now, |io| responder.on_deadline(io));
        }
    }

    /// Tell the responder when the program has been blocked reading its
    /// stdin for BLOCKED_GRACE_NS (it may judge then), and end a
    /// conversation in which nothing can ever happen again: the program so
    /// blocked, the responder waiting for it likewise, neither using any
    /// CPU, for BLOCKED_GRACE_NS. A forgotten flush then costs milliseconds,
    /// not the wall limit (which stays as the backstop).
    fn look_for_deadlock(&mut self, now: u64, responder: &mut dyn Responder) {
        let Some(cpu) = self.program_blocked() else {
            self.blocked_seen = None;
            self.deadlock_seen = None;
            return;
        };
        match self.blocked_seen {
            Some((since, seen_cpu, told)) if seen_cpu == cpu => {
                if !told && now - since >= BLOCKED_GRACE_NS {
                    self.blocked_seen = Some((since, cpu, true));
                    self.tell(now, |io| responder.on_program_blocked(io));
                    if responder.finished().is_some() || self.stdin.queued() > 0 {
                        return;
                    }
                }
            }
            _ => self.blocked_seen = Some((now, cpu, false)),
        }
        let Some(marker) = responder.waiting_for_program() else {
            self.deadlock_seen = None;
            return;
        };
        match self.deadlock_seen {
            Some((since, seen_cpu, seen_marker)) if (seen_cpu, seen_marker) == (cpu, marker) => {
                if now - since >= BLOCKED_GRACE_NS {
                    self.blocked_reading = Some(true);
                    self.kill_program(KillReason::Deadlock, responder);
                }
            }
            _ => self.deadlock_seen = Some((now, cpu, marker)),
        }
    }

    /// The program's CPU time while it is asleep reading its stdin with
    /// nothing between it and the responder.
    fn program_blocked(&mut self) -> Option<u64> {
        use crate::sandbox::sys::pipe_bytes;
        if self.stdin.queued() > 0 || self.stdout.pending || self.stderr.pending {
            return None;
        }
        let empty = |fd: Option<i32>| fd.and_then(pipe_bytes) == Some(0);
        // A terminal's master answers FIONREAD for the program's output, not
        // for its input; and closed, a terminal can still be read from
        // again (end of file is a character), where a closed pipe reads as
        // end of file for good and can never block.
        let stdin_quiet = if self.stdin.is_terminal() {
            true
        } else {
            empty(self.stdin.raw_fd())
        };
        let stderr_quiet = self
            .stderr
            .raw_fd()
            .is_none_or(|fd| pipe_bytes(fd) == Some(0));
        if !stdin_quiet || !empty(self.stdout.raw_fd()) || !stderr_quiet {
            return None;
        }
        if self.tree.asleep_reading_stdin() != Some(true) {
            return None;
        }
        self.tree.cpu_ns()
    }

    /// The program tried system calls the filter refuses: each was
    /// answered EPERM; note them, and kill it if the session says so.
    fn on_refusals(&mut self, responder: &mut dyn Responder) {
        let kill = self.cfg.kill_on_forbidden;
        let refusals = match self.tree.notifier.as_ref().map(|n| n.refuse_pending(!kill)) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                self.failure = Some(format!(
                    "reading the system call filter's notifications: {e}"
                ));
                return;
            }
            None => return,
        };
        for r in &refusals {
            let name = crate::sandbox::seccomp::name(r.nr);
            match self.refused.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => self.refused.push((name, 1)),
            }
        }
        if self.cfg.kill_on_forbidden && !refusals.is_empty() {
            self.kill_program(KillReason::Forbidden, responder);
        }
    }

    fn on_signal(&mut self) {
        let fd = match self.cfg.signals {
            Some(fd) => fd,
            None => return,
        };
        // SAFETY: signalfd_siginfo is plain data; read fills it.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let n = unsafe {
            libc::read(
                fd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            )
        };
        if n > 0 {
            self.interrupted = Some(info.ssi_signo as i32);
        }
    }

    fn flush_journal(&mut self) {
        let t = match &self.cfg.transcript {
            Some(t) => t.clone(),
            None => return,
        };
        let chunks = self.stdin.take_journal();
        if chunks.is_empty() {
            return;
        }
        let now = monotonic_ns();
        let cpu = self.tree.cpu_ns();
        let mut t = t.borrow_mut();
        for c in chunks {
            t.chunk(now, cpu, "stdin", &c);
        }
    }

    fn finish(mut self, responder: &mut dyn Responder) -> io::Result<Outcome> {
        if self.ended.is_none() {
            let reason = if self.interrupted.is_some() {
                KillReason::Interrupted
            } else if self.failure.is_some() {
                KillReason::JudgeFailure
            } else {
                KillReason::Decided
            };
            self.kill_program(reason, responder);
        }
        let mut warnings = Vec::new();
        if let Some(f) = self.stdout.forward.as_mut() {
            // The program's output is ours to deliver; a consumer that takes
            // nothing for this long gets a warning, not a hung judge.
            let lost = f.drain(self.cfg.limits.wall_time.as_millis() as u64);
            if lost > 0 {
                warnings.push(format!(
                    "the judge's stdout did not take the last {lost} bytes of the program's output"
                ));
            }
        }
        let ended = self.ended.take().expect("the program has ended");
        let wall_ns = ended
            .side
            .at_ns
            .min(ended.at_ns)
            .saturating_sub(self.started_ns);
        Ok(Outcome {
            program: ended.side,
            end: ended.end,
            exit_report: ended.report,
            cpu_ns: ended.cpu_ns,
            wall_ns,
            memory: ended.memory,
            stdout: StreamFigures {
                bytes: (!self.stdout_direct).then_some(self.stdout.count),
                kept: std::mem::take(&mut self.stdout.kept),
            },
            stderr: StreamFigures {
                bytes: Some(self.stderr.count),
                kept: std::mem::take(&mut self.stderr.kept),
            },
            stdin_bytes: (!self.stdin_direct).then_some(self.stdin.written),
            stdin_dropped: self.stdin.dropped,
            stdin_closed_by_program: self.stdin.broken,
            interrupted: self.interrupted,
            failure: self.failure.take(),
            warnings,
            refused: std::mem::take(&mut self.refused),
            kept: self.tree.keep_workdir(),
        })
    }
}
