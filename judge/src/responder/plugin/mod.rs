//! In-process responders: a native plugin (a shared library) or a
//! WebAssembly module, both speaking the event ABI of [`abi`].
//!
//! [`PluginResponder`] turns the loop's events into ABI calls and the
//! replies into bytes for the program's stdin and a verdict; it enforces
//! what the ABI promises the judge (output and message caps, readable
//! replies, a verdict at the end, a CPU budget). What a call costs and how
//! memory is reached differ per kind, behind [`Guest`].

pub mod abi;
pub mod module_cache;
pub mod native;
pub mod wasm;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{
    Finished, Io, ProgramExit, Responder, ResponderError, ResponderReport, Result, Stream,
};
use crate::limits::ResponderLimits;
use crate::verdict::{Judgement, Verdict};
use abi::Reply;

/// Which loader runs the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PluginKind {
    /// A shared library loaded with dlopen: trusted, the organiser's code.
    Native,
    /// A WebAssembly module (binary or text) in wasmtime: untrusted, with
    /// memory and time capped.
    Wasm,
}

impl PluginKind {
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Native => "native",
            PluginKind::Wasm => "wasm",
        }
    }
}

/// A responder module and what it is given.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub kind: PluginKind,
    pub path: PathBuf,
    /// Words passed to `judge_new` (after the module's path).
    pub args: Vec<String>,
    /// The test's input and answer files, whose contents `judge_new` gets.
    pub input: Option<PathBuf>,
    pub answer: Option<PathBuf>,
    pub limits: ResponderLimits,
}

/// A failed call: the responder broke the contract or its limits.
pub type GuestResult<T> = std::result::Result<T, String>;

/// One loaded module with one session's state: the ABI's calls.
pub trait Guest {
    fn new_state(&mut self, args: &[u8], input: &[u8], answer: &[u8]) -> GuestResult<()>;
    fn start(&mut self) -> GuestResult<Reply<'_>>;
    fn on_output(&mut self, stream: u32, bytes: &[u8]) -> GuestResult<Reply<'_>>;
    fn on_exit(&mut self, exit_code: i32, signal: i32) -> GuestResult<Reply<'_>>;
    /// Release the state (`judge_free`); errors are of no interest any more.
    fn free(&mut self);
    /// Give up calls after `budget_ns` more of time inside them, where the
    /// kind can interrupt a call (WebAssembly can, native code cannot).
    fn set_budget(&mut self, _budget_ns: u64) {}
    /// Memory the module holds, where the kind can tell.
    fn memory_bytes(&self) -> Option<u64> {
        None
    }
    /// Where its compiled code came from, where the kind compiles.
    fn module_origin(&self) -> Option<&'static str> {
        None
    }
}

/// Bytes of replies that may wait for room in the program's stdin before
/// the program's output is left unread (backpressure). One reply may add
/// up to [`abi::REPLY_MAX`] on top, so the judge holds at most twice this.
const PENDING_MAX: usize = 64 << 20;

/// The [`Responder`] for both in-process kinds.
pub struct PluginResponder {
    spec: PluginSpec,
    guest: Option<Box<dyn Guest>>,
    /// Bytes of a reply the stdin queue could not take yet.
    pending: Vec<u8>,
    pending_at: usize,
    close_after_pending: bool,
    sent: u64,
    exit: Option<ProgramExit>,
    stdout_closed: bool,
    stderr_closed: bool,
    finished: Option<Finished>,
    /// A call failed: no more calls.
    broken: bool,
    cpu_ns: u64,
    calls: u64,
}

impl PluginResponder {
    pub fn new(spec: PluginSpec) -> Self {
        PluginResponder {
            spec,
            guest: None,
            pending: Vec::new(),
            pending_at: 0,
            close_after_pending: false,
            sent: 0,
            exit: None,
            stdout_closed: false,
            stderr_closed: false,
            finished: None,
            broken: false,
            cpu_ns: 0,
            calls: 0,
        }
    }

    /// Over the time budget after `what`: the responder's failure.
    fn check_budget(&self, what: &str) -> GuestResult<()> {
        let limit = self.spec.limits.cpu_time;
        if self.cpu_ns > limit.as_nanos() as u64 {
            return Err(format!(
                "{what}: spent more than {limit:?} in its calls in all"
            ));
        }
        Ok(())
    }

    fn budget_left(&self) -> u64 {
        (self.spec.limits.cpu_time.as_nanos() as u64).saturating_sub(self.cpu_ns)
    }

    /// Run one call, charge its time, and act on its reply.
    fn call(
        &mut self,
        io: &mut Io<'_>,
        what: &str,
        f: impl FnOnce(&mut dyn Guest) -> GuestResult<Reply<'_>>,
    ) -> Result<()> {
        if self.broken || self.finished.is_some() {
            return Ok(());
        }
        // Out of `self` for the call, so that its reply (which borrows the
        // guest's memory) can be sent without a copy.
        let Some(mut guest) = self.guest.take() else {
            return Ok(());
        };
        guest.set_budget(self.budget_left());
        // Time inside the call, by the monotonic clock (the vDSO; a CPU-time
        // clock would cost a system call per call): the call runs on this
        // thread from start to end, so the two differ only by preemption.
        let before = crate::sandbox::sys::monotonic_ns();
        let result = f(&mut *guest);
        let after = crate::sandbox::sys::monotonic_ns();
        self.cpu_ns += after.saturating_sub(before);
        // The reply goes out now, not when the event that led to the call
        // was read: the loop judges deadlines by this time.
        io.now_ns = after;
        self.calls += 1;
        let limits = &self.spec.limits;
        let result = result
            .map_err(|e| format!("{what}: {e}"))
            .and_then(|reply| self.check_budget(what).map(|()| reply));
        let outcome = match result {
            Err(e) => Err(e),
            Ok(reply) => check_reply(&reply, limits.output, self.sent).map(|judgement| {
                self.sent += reply.send.len() as u64;
                // In order: after what an earlier reply left waiting.
                let n = if self.pending_at < self.pending.len() {
                    0
                } else {
                    io.send(reply.send)
                };
                if self.pending_at > 0 && self.pending_at >= self.pending.len() - self.pending_at {
                    // Drop what was delivered from the front once it outweighs
                    // what waits, or the buffer keeps all that ever passed.
                    self.pending.drain(..self.pending_at);
                    self.pending_at = 0;
                }
                self.pending.extend_from_slice(&reply.send[n..]);
                (reply.flags & abi::CLOSE_STDIN != 0, judgement)
            }),
        };
        self.guest = Some(guest);
        let (close_stdin, judgement) = outcome.map_err(|e| {
            self.broken = true;
            ResponderError(e)
        })?;
        if close_stdin || judgement.is_some() {
            // A responder with a verdict has ended its side of the
            // conversation, as an interactor process does by exiting.
            self.close_after_pending = true;
        }
        if let Some(judgement) = judgement {
            self.finished = Some(Finished {
                judgement,
                at_ns: io.now_ns(),
            });
        }
        self.flush(io);
        Ok(())
    }

    fn flush(&mut self, io: &mut Io<'_>) {
        if !io.stdin_open() {
            // The program closed its stdin: what is left can never be
            // delivered, and holding it would stop us reading its output.
            self.pending.clear();
            self.pending_at = 0;
            return;
        }
        if self.pending_at < self.pending.len() {
            self.pending_at += io.send(&self.pending[self.pending_at..]);
            if self.pending_at < self.pending.len() {
                return;
            }
            self.pending.clear();
            self.pending_at = 0;
        }
        if self.close_after_pending {
            io.close_stdin();
        }
    }

    /// The program is over and every byte of its output was delivered:
    /// the responder's last word.
    fn maybe_exit(&mut self, io: &mut Io<'_>) -> Result<()> {
        let Some(exit) = self.exit else {
            return Ok(());
        };
        if !(self.stdout_closed && self.stderr_closed) || self.finished.is_some() || self.broken {
            return Ok(());
        }
        let code = exit.exit_code.unwrap_or(-1);
        let signal = exit.signal.unwrap_or(0);
        self.call(io, "judge_on_exit", |g| g.on_exit(code, signal))?;
        if self.finished.is_none() && !self.broken {
            self.broken = true;
            return Err(ResponderError(
                "judge_on_exit gave no verdict (JUDGE_CONTINUE at the program's exit)".into(),
            ));
        }
        Ok(())
    }
}

/// Check a reply against the ABI and the limits; its verdict, if any.
fn check_reply(
    r: &Reply<'_>,
    output_limit: u64,
    sent: u64,
) -> std::result::Result<Option<Judgement>, String> {
    if r.send.len() > abi::REPLY_MAX {
        return Err(format!(
            "the reply sends {} bytes at once; the ABI allows {} per reply",
            r.send.len(),
            abi::REPLY_MAX
        ));
    }
    if sent + r.send.len() as u64 > output_limit {
        return Err(format!(
            "the reply sends {} bytes, past the responder's output limit of {output_limit} bytes ({sent} sent before)",
            r.send.len()
        ));
    }
    let verdict = match r.verdict {
        abi::CONTINUE => None,
        abi::AC => Some(Verdict::AC),
        abi::WA => Some(Verdict::WA),
        abi::PE => Some(Verdict::PE),
        abi::FAIL => Some(Verdict::JE),
        v => {
            return Err(format!(
                "the reply's verdict {v} is not one of the ABI's (0-4)"
            ))
        }
    };
    if r.flags & !(abi::CLOSE_STDIN | abi::POINTS) != 0 {
        return Err(format!(
            "the reply's flags {:#x} are not the ABI's",
            r.flags
        ));
    }
    if r.flags & abi::POINTS != 0 && !r.points.is_finite() {
        return Err(format!(
            "the reply's points ({}) are not a finite number",
            r.points
        ));
    }
    Ok(verdict.map(|v| {
        let cut = &r.message[..r.message.len().min(abi::MESSAGE_MAX)];
        let mut message = String::from_utf8_lossy(cut).trim().to_string();
        if message.is_empty() {
            message = match v {
                Verdict::AC => "the responder accepted the output".into(),
                Verdict::JE => "the responder failed".into(),
                _ => "the responder rejected the output".into(),
            };
        } else if v == Verdict::JE {
            message = format!("the responder failed: {message}");
        }
        let points = (r.flags & abi::POINTS != 0).then_some(r.points);
        Judgement {
            verdict: v,
            message,
            points,
        }
    }))
}

fn read_file(what: &str, path: &Option<PathBuf>) -> Result<Vec<u8>> {
    let Some(p) = path else {
        return Ok(Vec::new());
    };
    let read = |p: &Path| {
        let mut bytes = Vec::new();
        open_regular(p)?
            .take(TEST_FILE_MAX + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > TEST_FILE_MAX {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("is over {TEST_FILE_MAX} bytes, the most a responder is given"),
            ));
        }
        Ok::<_, std::io::Error>(bytes)
    };
    read(p).map_err(|e| ResponderError(format!("reading the {what} file {}: {e}", p.display())))
}

/// The largest input or answer file handed to a module: it is read whole
/// into the judge's memory (and, for WebAssembly, copied into the module's).
const TEST_FILE_MAX: u64 = 1 << 30;

/// `path` opened for reading if it is a regular file. A device would be
/// read without end and a FIFO waited on: neither is a module or a test.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<File> {
    let file = super::open_without_waiting(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is not a regular file",
        ));
    }
    Ok(file)
}

impl Responder for PluginResponder {
    fn kind(&self) -> &'static str {
        self.spec.kind.name()
    }

    /// Load the module and make the session's state before the program
    /// starts: a module that cannot be loaded is JE at once.
    fn prepare(&mut self) -> Result<Option<super::DirectStdio>> {
        let input = read_file("input", &self.spec.input)?;
        let answer = read_file("answer", &self.spec.answer)?;
        let load = |e: String| {
            ResponderError(format!(
                "{} responder {}: {e}",
                self.spec.kind.name(),
                self.spec.path.display()
            ))
        };
        // Loading runs the module's code too (a wasm start function,
        // judge_abi_version, a native library's constructors): charged to
        // its budget like its calls. Compiling is not: it is ours, and
        // done once per process.
        let now = crate::sandbox::sys::monotonic_ns;
        let (mut guest, before): (Box<dyn Guest>, u64) = match self.spec.kind {
            PluginKind::Native => {
                let before = now();
                let g = native::NativeGuest::load(&self.spec.path).map_err(load)?;
                (Box::new(g), before)
            }
            PluginKind::Wasm => {
                let module = wasm::compiled(&self.spec.path).map_err(load)?;
                let before = now();
                let g = wasm::WasmGuest::load(module, &self.spec.limits).map_err(load)?;
                (Box::new(g), before)
            }
        };
        self.cpu_ns += now().saturating_sub(before);
        self.check_budget("loading").map_err(load)?;
        guest.set_budget(self.budget_left());
        let before = now();
        let made = guest.new_state(&abi::args_block(&self.spec.args), &input, &answer);
        self.cpu_ns += now().saturating_sub(before);
        made.map_err(|e| load(format!("judge_new: {e}")))?;
        self.check_budget("judge_new").map_err(load)?;
        self.guest = Some(guest);
        Ok(None)
    }

    fn wants_output(&self) -> bool {
        true
    }

    /// While less than [`PENDING_MAX`] waits for the program's stdin. A
    /// reply cannot be taken back, and stopping to read the program at the
    /// first byte that waits deadlocks every program that writes before it
    /// reads (a checker feeding 10 MiB to `cat`); never stopping would let
    /// a program that does not read, and a module that answers every byte,
    /// grow the judge up to the responder's output limit.
    fn output_chunk_max(&self) -> usize {
        abi::CHUNK_MAX
    }

    fn accepts_output(&self) -> bool {
        self.pending.len() - self.pending_at < PENDING_MAX
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.call(io, "judge_start", |g| g.start())
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], io: &mut Io<'_>) -> Result<()> {
        let s = match stream {
            Stream::Stdout => abi::STDOUT,
            Stream::Stderr => abi::STDERR,
        };
        for piece in bytes.chunks(abi::CHUNK_MAX) {
            self.call(io, "judge_on_output", |g| g.on_output(s, piece))?;
        }
        Ok(())
    }

    fn on_output_closed(&mut self, stream: Stream, io: &mut Io<'_>) -> Result<()> {
        match stream {
            Stream::Stdout => self.stdout_closed = true,
            Stream::Stderr => self.stderr_closed = true,
        }
        self.maybe_exit(io)
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.flush(io);
        Ok(())
    }

    fn on_program_exit(&mut self, exit: ProgramExit, io: &mut Io<'_>) -> Result<()> {
        // Its stdin is gone: what waited for room can never be delivered.
        self.flush(io);
        self.exit = Some(exit);
        self.maybe_exit(io)
    }

    /// A module runs only when called: with no reply waiting for room, it
    /// can do nothing until the program writes.
    fn waiting_for_program(&mut self) -> Option<u64> {
        (self.finished.is_none() && self.pending_at >= self.pending.len()).then_some(0)
    }

    fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    fn finish(&mut self) -> ResponderReport {
        let memory_kib = self
            .guest
            .as_ref()
            .and_then(|g| g.memory_bytes())
            .map(|b| b / 1024);
        let module = self.guest.as_ref().and_then(|g| g.module_origin());
        // Also after a failed call, as the ABI promises: a native module
        // may hold what only its judge_free releases (a wasm instance goes
        // with its store anyway, and gets what is left of its budget).
        if let Some(mut g) = self.guest.take() {
            g.set_budget(self.budget_left());
            g.free();
        }
        let j = self.finished.as_ref().map(|f| &f.judgement);
        ResponderReport {
            kind: self.kind(),
            verdict: j.map(|j| j.verdict),
            message: j.map(|j| j.message.clone()),
            points: j.and_then(|j| j.points),
            cpu_time_ms: Some(self.cpu_ns / 1_000_000),
            memory_kib,
            output_bytes: Some(self.sent),
            module,
            ..Default::default()
        }
    }
}
