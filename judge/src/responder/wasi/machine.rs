//! One WASI command run as a task of the session's loop.
//!
//! `_start` runs on a wasmtime fiber (its `async` support): when the module
//! reads a stdin that holds nothing yet, or writes a stdout that is full,
//! the host function awaits, the fiber is suspended and [`Machine::poll`]
//! returns; the loop goes on with the program and polls again when there is
//! something for the module. No thread and no executor: the future is
//! polled with a no-op waker, by the loop's own events. A module that
//! computes is suspended at the epoch ticks too, so a long computation
//! holds the loop at most a tick at a time, and its time budget is checked
//! at each tick.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use wasmtime::{InstancePre, ResourceLimiter, Store, UpdateDeadline};

use super::files::{Fd, Files};
use crate::responder::plugin::wasm::{self, MemoryCap};
use crate::sandbox::sys::monotonic_ns;

/// The store's data: the memory cap and the state shared with the loop.
pub struct WasiState {
    cap: MemoryCap,
    pub(crate) shared: Arc<Mutex<Shared>>,
}

impl WasiState {
    /// Mirror the cap's figures where the loop can read them: the store
    /// belongs to the running future.
    fn mirror(&self) {
        let mut s = lock(&self.shared);
        s.memory_peak = self.cap.memory_peak as u64;
        s.memory_hit = self.cap.memory_hit;
    }
}

impl ResourceLimiter for WasiState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let r = self.cap.memory_growing(current, desired, maximum);
        self.mirror();
        r
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let r = self.cap.table_growing(current, desired, maximum);
        self.mirror();
        r
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        let r = self.cap.memory_grow_failed(error);
        self.mirror();
        r
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        let r = self.cap.table_grow_failed(error);
        self.mirror();
        r
    }
}

/// What the module waits for, while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Bytes (or end of file) on its stdin.
    Stdin,
    /// Room for its stdout.
    Stdout,
}

/// Everything the host functions and the loop share.
pub struct Shared {
    /// The program's output, not yet read by the module.
    pub stdin: Vec<u8>,
    pub stdin_at: usize,
    pub stdin_eof: bool,
    /// The module's output, not yet taken by the program's stdin.
    pub stdout: Vec<u8>,
    pub stdout_at: usize,
    /// Bytes it wrote to its stdout, and the most it may.
    pub stdout_bytes: u64,
    pub stdout_max: u64,
    /// The program's stdin is gone: writes fail with EPIPE.
    pub peer_gone: bool,
    /// The module closed its stdout: end of file for the program.
    pub stdout_closed: bool,
    pub stderr: Vec<u8>,
    pub stderr_bytes: u64,
    pub stderr_max: u64,
    pub waiting: Option<Wait>,
    pub files: Files,
    pub fds: Vec<Option<Fd>>,
    pub args: Vec<Vec<u8>>,
    /// The virtual clock (see `preview1::clock_time_get`) and the random
    /// stream's state.
    pub clock_ns: u64,
    pub random: u64,
    /// Time spent running, the poll under way, and the budget.
    pub spent_ns: u64,
    pub poll_started_ns: Option<u64>,
    pub budget_ns: u64,
    pub out_of_time: bool,
    pub memory_peak: u64,
    pub memory_hit: bool,
}

/// Bytes of the module's output that may wait for the program's stdin
/// before its writes wait in turn.
pub const STDOUT_PENDING_MAX: usize = 1 << 20;

impl Shared {
    pub fn new(files: Files, fds: Vec<Option<Fd>>, args: Vec<Vec<u8>>, budget_ns: u64) -> Self {
        Shared {
            stdin: Vec::new(),
            stdin_at: 0,
            stdin_eof: false,
            stdout: Vec::new(),
            stdout_at: 0,
            stdout_bytes: 0,
            stdout_max: u64::MAX,
            peer_gone: false,
            stdout_closed: false,
            stderr: Vec::new(),
            stderr_bytes: 0,
            stderr_max: u64::MAX,
            waiting: None,
            files,
            fds,
            args,
            clock_ns: 0,
            random: 0x9e37_79b9_7f4a_7c15,
            spent_ns: 0,
            poll_started_ns: None,
            budget_ns,
            out_of_time: false,
            memory_peak: 0,
            memory_hit: false,
        }
    }

    /// Bytes of stdin the module has not read.
    pub fn stdin_left(&self) -> usize {
        self.stdin.len() - self.stdin_at
    }

    /// Add the program's output to the module's stdin.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.stdin_at > 0 && self.stdin_at >= self.stdin.len() / 2 {
            self.stdin.drain(..self.stdin_at);
            self.stdin_at = 0;
        }
        self.stdin.extend_from_slice(bytes);
    }

    /// Bytes of its output waiting for the program.
    pub fn stdout_left(&self) -> &[u8] {
        &self.stdout[self.stdout_at..]
    }

    /// `n` bytes of its output were taken.
    pub fn took(&mut self, n: usize) {
        self.stdout_at += n;
        // Drop what was taken once it outweighs what waits: a program that
        // reads steadily but never all would otherwise leave the buffer
        // holding everything ever sent.
        if self.stdout_at > 0 && self.stdout_at >= self.stdout.len() - self.stdout_at {
            self.stdout.drain(..self.stdout_at);
            self.stdout_at = 0;
        }
    }

    /// Time spent by now, the poll under way included.
    fn spent_now(&self) -> u64 {
        self.spent_ns
            + self
                .poll_started_ns
                .map_or(0, |t| monotonic_ns().saturating_sub(t))
    }
}

pub fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// `proc_exit`: unwinds the module's stack as an error.
#[derive(Debug)]
pub struct Exit(pub i32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// A limit of the judge's broken inside a host function: the run ends with
/// this message.
#[derive(Debug)]
pub struct Stop(pub String);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

/// How the run ended.
#[derive(Debug, Clone)]
pub enum Ended {
    /// `_start` returned (0) or `proc_exit` was called.
    Exit(i32),
    /// A trap, or one of the judge's limits: the responder's failure.
    Failed(String),
}

type Run = Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send>>;

/// A running module.
pub struct Machine {
    run: Option<Run>,
    shared: Arc<Mutex<Shared>>,
    ended: Option<Ended>,
    memory_max: u64,
    cpu_limit_ms: u128,
}

impl Machine {
    /// Set up a run of `pre` with `shared`; nothing runs before the first
    /// [`Machine::poll`].
    pub fn new(pre: InstancePre<WasiState>, shared: Shared, memory_max: u64) -> Machine {
        let cpu_limit_ms = u128::from(shared.budget_ns / 1_000_000);
        let shared = Arc::new(Mutex::new(shared));
        let engine = pre.module().engine().clone();
        let mut store = Store::new(
            &engine,
            WasiState {
                cap: MemoryCap::new(memory_max),
                shared: shared.clone(),
            },
        );
        store.limiter(|s| s as &mut dyn ResourceLimiter);
        // At every tick: out of budget ends it; otherwise, once it has run
        // a tick, it yields, so that the loop is never held longer.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            let mut s = lock(&ctx.data().shared);
            if s.spent_now() > s.budget_ns {
                s.out_of_time = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            // A tick that passed while it waited for input finds it just
            // resumed: it runs on rather than giving the loop a turn for
            // nothing.
            let slice = monotonic_ns().saturating_sub(s.poll_started_ns.unwrap_or(0));
            if slice < wasm::TICK.as_nanos() as u64 {
                return Ok(UpdateDeadline::Continue(1));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let run = async move {
            let instance = pre.instantiate_async(&mut store).await?;
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
            start.call_async(&mut store, ()).await
        };
        Machine {
            run: Some(Box::pin(run)),
            shared,
            ended: None,
            memory_max,
            cpu_limit_ms,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// Run it until it waits for I/O, yields at a tick or ends.
    pub fn poll(&mut self) -> Option<&Ended> {
        let Some(run) = self.run.as_mut() else {
            return self.ended.as_ref();
        };
        {
            let mut s = lock(&self.shared);
            s.waiting = None;
            s.poll_started_ns = Some(monotonic_ns());
        }
        let polled = run.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        let over = {
            let mut s = lock(&self.shared);
            s.spent_ns = s.spent_now();
            s.poll_started_ns = None;
            s.spent_ns > s.budget_ns
        };
        match polled {
            Poll::Pending if over => {
                // Over its budget between two ticks, and now waiting: it
                // does not get to run again.
                self.run = None;
                lock(&self.shared).out_of_time = true;
                self.ended = Some(Ended::Failed(self.out_of_time()));
            }
            Poll::Pending => {}
            Poll::Ready(r) => {
                self.run = None;
                self.ended = Some(self.classify(r));
            }
        }
        self.ended.as_ref()
    }

    /// It can run now: it neither waits for I/O nor has ended.
    pub fn runnable(&self) -> bool {
        self.run.is_some() && lock(&self.shared).waiting.is_none()
    }

    pub fn ended(&self) -> Option<&Ended> {
        self.ended.as_ref()
    }

    /// Stop it where it is (the session is over).
    pub fn stop(&mut self) {
        self.run = None;
    }

    fn out_of_time(&self) -> String {
        format!(
            "ran past the responder's time limit of {} ms",
            self.cpu_limit_ms
        )
    }

    fn classify(&self, r: wasmtime::Result<()>) -> Ended {
        let Err(e) = r else {
            return Ended::Exit(0);
        };
        if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
            return Ended::Exit(*code);
        }
        if let Some(Stop(why)) = e.downcast_ref::<Stop>() {
            return Ended::Failed(why.clone());
        }
        let s = lock(&self.shared);
        if s.memory_hit {
            return Ended::Failed(format!(
                "exceeded the responder's memory limit of {} bytes",
                self.memory_max
            ));
        }
        if s.out_of_time {
            drop(s);
            return Ended::Failed(self.out_of_time());
        }
        let why = wasm::trap_message(&e);
        if why.starts_with("trapped") {
            Ended::Failed(why)
        } else {
            Ended::Failed(format!("cannot be run: {why}"))
        }
    }
}
