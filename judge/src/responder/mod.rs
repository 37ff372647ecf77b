//! The seam of the design: whatever answers the program.
//!
//! A responder receives the program's output and returns bytes for its
//! stdin; at the end it may give a [`Judgement`]. The event loop drives any
//! [`Responder`] the same way and knows nothing of the kinds behind it:
//! - [`closed`]: stdin at EOF from the start;
//! - [`file`]: a static stdin file, then EOF;
//! - [`exec`]: an external interactor process (testlib, Kattis, plain);
//! - [`plugin`]: a module in the judge's process, a native plugin or a
//!   WebAssembly module, behind one event ABI; it needs none of the
//!   descriptor hooks;
//! - [`wasi`]: a WASI command (a stdio interactor compiled to
//!   WebAssembly), run as a suspended task of the loop.

pub mod closed;
pub mod exec;
pub mod file;
pub mod plugin;
pub mod protocol;
pub mod wasi;

use std::os::fd::OwnedFd;

use mio::{Registry, Token};
use serde::Serialize;

use crate::driver::StdinPipe;
use crate::sandbox::Tree;

/// `path` opened for reading without waiting: a FIFO with no writer would
/// block an ordinary open, and the loop (or the check before a session)
/// must not wait on it. Callers decide which kinds of file they take.
pub(crate) fn open_without_waiting(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}
use crate::verdict::Judgement;

pub use exec::{ExecResponder, ExecSpec};
pub use plugin::{PluginKind, PluginSpec};
pub use protocol::Protocol;
pub use wasi::{WasiResponder, WasiSpec};

/// One of the program's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A failure of the responder itself; the session ends with JE.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ResponderError(pub String);

impl ResponderError {
    pub fn io(what: &str, e: std::io::Error) -> Self {
        ResponderError(format!("{what}: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, ResponderError>;

/// The responder's handle on the program's stdin and on the loop.
pub struct Io<'a> {
    pub(crate) stdin: &'a mut StdinPipe,
    pub(crate) registry: &'a Registry,
    pub(crate) tree: &'a mut Tree,
    pub(crate) now_ns: u64,
}

impl Io<'_> {
    /// Queue bytes for the program's stdin. Returns how many were taken:
    /// fewer than offered when the queue is full (wait for
    /// [`Responder::on_stdin_space`]), none once stdin is closed.
    pub fn send(&mut self, bytes: &[u8]) -> usize {
        self.stdin.push(bytes, self.now_ns)
    }

    /// Bytes the stdin queue takes right now.
    pub fn space(&self) -> usize {
        self.stdin.space()
    }

    /// Close the program's stdin once the queued bytes are written.
    pub fn close_stdin(&mut self) {
        self.stdin.close_when_drained();
    }

    /// The program's stdin can still take bytes (it has not closed it).
    pub fn stdin_open(&self) -> bool {
        self.stdin.is_open()
    }

    /// For responders with descriptors of their own.
    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// CLOCK_MONOTONIC, nanoseconds, at the event being handled.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// Nobody reads the program's stdin any more (it closed it, or it and
    /// everything that inherited it ended), though the loop may not have
    /// seen it yet: a system call, for rare moments such as the end of its
    /// output.
    pub fn stdin_reader_gone(&self) -> bool {
        self.stdin.reader_gone()
    }

    /// CPU time the program's tree has used so far (a read of its control
    /// group's counter, or of /proc without one).
    pub fn program_cpu_ns(&mut self) -> Option<u64> {
        self.tree.cpu_ns()
    }
}

/// How the program's main process ended, as the responder is told.
#[derive(Debug, Clone, Copy)]
pub struct ProgramExit {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The judge killed it (a limit, a verdict already given, an
    /// interruption): how it ended is not its own doing.
    pub by_judge: bool,
}

/// Standard streams for the program that a responder wires itself to
/// (the `--direct` mode of the exec kind): the driver then has no part in
/// that direction of the conversation.
pub struct DirectStdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
}

/// A judgement and the moment it was reached.
#[derive(Debug, Clone)]
pub struct Finished {
    pub judgement: Judgement,
    /// CLOCK_MONOTONIC, nanoseconds.
    pub at_ns: u64,
}

/// Everything about the responder's side that goes into the result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponderReport {
    pub kind: &'static str,
    pub verdict: Option<crate::verdict::Verdict>,
    pub message: Option<String>,
    pub points: Option<f64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub signal_name: Option<String>,
    pub cpu_time_ms: Option<u64>,
    pub wall_time_ms: Option<u64>,
    pub memory_kib: Option<u64>,
    /// Bytes it sent to the program.
    pub output_bytes: Option<u64>,
    /// Its stderr, up to its cap.
    pub stderr: Option<String>,
    /// A WebAssembly module's compiled code: `"compiled"` now, from the
    /// on-disk cache (`"disk"`) or earlier in this process (`"process"`).
    pub module: Option<&'static str>,
    /// A conversation script's steps: how far it got, what failed.
    pub script: Option<crate::script::failure::ScriptOutcome>,
}

/// What answers the program. See the module docs.
///
/// The driver calls these from one thread, in the order: `prepare`,
/// `register`, `start`, then any of the event methods until the session
/// ends, then `finish` exactly once.
pub trait Responder {
    /// A short name for reports: "closed", "file", "exec", ...
    fn kind(&self) -> &'static str;

    /// Before the program starts. A responder that wires itself straight to
    /// the program returns the program's stdin and stdout here.
    fn prepare(&mut self) -> Result<Option<DirectStdio>> {
        Ok(None)
    }

    /// Register descriptors of its own with tokens from `first` upwards
    /// (at most [`crate::driver::RESPONDER_TOKENS`] of them).
    fn register(&mut self, _registry: &Registry, _first: Token) -> Result<()> {
        Ok(())
    }

    /// Whether this responder gives a verdict at all. A passive one (a
    /// stdin file) leaves the verdict to the program's own outcome.
    fn judges(&self) -> bool {
        true
    }

    /// Whether this responder decides what the program's exit means: then
    /// a nonzero exit code or a death by signal is no failure of the
    /// program by itself (limits and forbidden system calls still are),
    /// and the responder's verdict says whether it was expected.
    fn judges_exit(&self) -> bool {
        false
    }

    /// Whether the program's output should be passed to `on_output`.
    fn wants_output(&self) -> bool {
        false
    }

    /// The most output one `on_output` call takes: the driver reads no more
    /// at once, and looks at its clock between calls. A responder that
    /// spends time on each byte says how much it handles per call, so that
    /// a big read cannot carry the session past its deadlines.
    fn output_chunk_max(&self) -> usize {
        usize::MAX
    }

    /// Backpressure: false while the responder cannot take more output; the
    /// driver then stops reading the program's stdout.
    fn accepts_output(&self) -> bool {
        true
    }

    /// The session starts: the program is running.
    fn start(&mut self, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The program wrote `bytes` on `stream`.
    fn on_output(&mut self, _stream: Stream, _bytes: &[u8], _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The program's `stream` reached end of file.
    fn on_output_closed(&mut self, _stream: Stream, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The program's stdin queue has room again.
    fn on_stdin_space(&mut self, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// One of the descriptors it registered is ready. `closed`: the event
    /// also reported that the other end is closed (hang-up or error);
    /// readiness is edge-triggered, so no further event will come for that
    /// descriptor and it must be read to end of file now.
    fn on_ready(&mut self, _token: Token, _closed: bool, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The program's main process has ended.
    fn on_program_exit(&mut self, _exit: ProgramExit, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The next moment at which `on_deadline` must be called, if any.
    fn deadline(&self) -> Option<u64> {
        None
    }

    /// Its deadline has passed (its own limits, typically).
    fn on_deadline(&mut self, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// The program has been asleep reading its stdin, with nothing on its
    /// way to it and nothing unread from it, for a moment
    /// ([`crate::driver::BLOCKED_GRACE_NS`]): only input can wake it. Called
    /// once per such wait, and only for responders that want output. A
    /// responder that has nothing to send may judge now; one that stays
    /// waiting too (see `waiting_for_program`) ends the session in ILE.
    fn on_program_blocked(&mut self, _io: &mut Io<'_>) -> Result<()> {
        Ok(())
    }

    /// For telling a deadlock from a wait: `Some(marker)` while it can make
    /// no progress until the program writes (nothing it sent is still on
    /// its way, its own process, if any, is asleep in a read of its stdin),
    /// the marker changing whenever it does any work (its CPU time). `None`
    /// while it is not waiting so, or cannot tell.
    fn waiting_for_program(&mut self) -> Option<u64> {
        None
    }

    /// Its judgement, once it has one.
    fn finished(&self) -> Option<&Finished>;

    /// When it ended its side of the conversation, if it has, even before
    /// its judgement is known (an interactor whose output has ended but
    /// whose exit status is not in yet). The session waits for the
    /// judgement of a responder that ended before the program did.
    fn ended_at(&self) -> Option<u64> {
        self.finished().map(|f| f.at_ns)
    }

    /// End of session: stop whatever still runs and report.
    fn finish(&mut self) -> ResponderReport;
}
