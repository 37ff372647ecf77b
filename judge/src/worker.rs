//! Worker processes for callers that run many sessions at once (`judge
//! problem`, `judge test`): sessions run in processes rather than threads.
//! Every session forks the judge; forked from a process whose other
//! threads are busy, each write those threads make to a page the child
//! still shares costs a copy and a TLB shootdown on their CPUs (two
//! single-threaded workers judged 200 tiny tests in 0.34-0.43 s where two
//! threads of one process took 0.62 s).
//!
//! The channel: one line of JSON (the setup) on the worker's stdin, then
//! one line per request, each answered by one line on its stdout. The end
//! of its stdin ends it, between requests.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{de::DeserializeOwned, Serialize};

/// How a worker is started: a program and its arguments (the judge's own
/// binary and a hidden subcommand).
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// A running worker, as the parent sees it.
pub struct Worker {
    child: Child,
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl Worker {
    pub fn start(cmd: &WorkerCommand, setup: &impl Serialize) -> Result<Worker, String> {
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting a worker ({}): {e}", cmd.program.display()))?;
        let (Some(to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("a worker without pipes".into());
        };
        let mut w = Worker {
            child,
            to: Some(to),
            from: BufReader::new(from),
        };
        w.send(setup)
            .map_err(|e| format!("talking to a worker: {e}"))?;
        Ok(w)
    }

    fn send(&mut self, value: &impl Serialize) -> Result<(), String> {
        let to = self.to.as_mut().ok_or("the worker is closed")?;
        let line = serde_json::to_string(value).map_err(|e| e.to_string())?;
        writeln!(to, "{line}").map_err(|e| format!("the worker is gone: {e}"))
    }

    /// One request, its answer.
    pub fn ask<A: DeserializeOwned>(&mut self, request: &impl Serialize) -> Result<A, String> {
        self.send(request)?;
        let mut line = String::new();
        match self.from.read_line(&mut line) {
            Ok(0) | Err(_) => Err("the worker process died".into()),
            Ok(_) => serde_json::from_str(&line).map_err(|e| format!("a worker's answer: {e}")),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The end of its stdin ends it, between requests.
        drop(self.to.take());
        let _ = self.child.wait();
    }
}

/// The worker's side: read the setup, make a handler of it with `init`,
/// and answer each request with it until the end of stdin.
pub fn serve<S, Q, A, H>(init: impl FnOnce(S) -> Result<H, String>) -> Result<(), String>
where
    S: DeserializeOwned,
    Q: DeserializeOwned,
    A: Serialize,
    H: FnMut(Q) -> Result<A, String>,
{
    // Killed with the judge that started it, not left running a session
    // while the next judge sweeps the folders it writes to.
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    if std::os::unix::process::parent_id() == 1 {
        return Err("started without a parent".into());
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let setup: S = match lines.next() {
        Some(Ok(l)) => serde_json::from_str(&l).map_err(|e| format!("the setup line: {e}"))?,
        _ => return Err("no setup line".into()),
    };
    let mut handle = init(setup)?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let line = line.map_err(|e| e.to_string())?;
        let request: Q =
            serde_json::from_str(&line).map_err(|e| format!("not a request: {e}: {line}"))?;
        let json = serde_json::to_string(&handle(request)?).map_err(|e| e.to_string())?;
        writeln!(out, "{json}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
