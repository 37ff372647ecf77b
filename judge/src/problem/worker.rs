//! Tests run in worker processes rather than threads. Every session forks
//! the judge; forked from a process whose other threads are busy, each
//! write those threads make to a page the child still shares costs a
//! copy and a TLB shootdown on their CPUs. Two single-threaded workers
//! judged 200 tiny tests in 0.34-0.43 s where two threads of one process
//! took 0.62 s. A worker is the judge's own binary (`judge
//! problem-worker`): one setup line of JSON on its stdin, then a test
//! index per line, each answered by one line of JSON, the test's result.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::build::Built;
use super::run::{self, TestResult};
use super::validate::Validator;
use crate::responder::{PluginKind, Protocol};
use crate::session::IsolationLevel;

/// How a worker is started: a program and its arguments.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// A validator as a worker is told of it (built already).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Wire {
    Default,
    Program {
        argv: Vec<String>,
        protocol: Protocol,
    },
    Std(String),
    Module {
        kind: PluginKind,
        path: PathBuf,
    },
}

impl Wire {
    fn of(v: &Validator) -> Wire {
        match v {
            Validator::Default => Wire::Default,
            Validator::Program { tool, protocol } => Wire::Program {
                argv: tool.argv.clone(),
                protocol: *protocol,
            },
            Validator::Std(name) => Wire::Std(name.to_string()),
            Validator::Module { kind, path } => Wire::Module {
                kind: *kind,
                path: path.clone(),
            },
        }
    }

    fn validator(self) -> Result<Validator, String> {
        Ok(match self {
            Wire::Default => Validator::Default,
            Wire::Program { argv, protocol } => Validator::Program {
                tool: super::build::Tool { argv, _temp: None },
                protocol,
            },
            Wire::Std(name) => Validator::Std(
                super::testlib_std::known(&name).ok_or(format!("unknown checker {name}"))?,
            ),
            Wire::Module { kind, path } => Validator::Module { kind, path },
        })
    }
}

/// Everything a worker needs to run any test of the problem.
#[derive(Debug, Serialize, Deserialize)]
struct Setup {
    package: PathBuf,
    built: Built,
    validator: Wire,
    interactor: Option<Wire>,
    time_limit_ms: u64,
    isolation: IsolationLevel,
    keep: bool,
    dir: PathBuf,
}

/// A running worker, as the parent sees it.
pub struct Worker {
    child: Child,
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl Worker {
    pub fn start(
        cmd: &WorkerCommand,
        problem: &super::Problem,
        validator: &Validator,
        interactor: Option<&Validator>,
        built: &Built,
        opts: &run::Options,
    ) -> Result<Worker, String> {
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting a worker ({}): {e}", cmd.program.display()))?;
        let (Some(mut to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("a worker without pipes".into());
        };
        let setup = Setup {
            package: problem.root.clone(),
            built: built.clone(),
            validator: Wire::of(validator),
            interactor: interactor.map(Wire::of),
            time_limit_ms: opts.time_limit.as_millis() as u64,
            isolation: opts.isolation,
            keep: opts.keep,
            dir: opts.dir.clone(),
        };
        let line = serde_json::to_string(&setup).map_err(|e| e.to_string())?;
        writeln!(to, "{line}").map_err(|e| format!("talking to a worker: {e}"))?;
        Ok(Worker {
            child,
            to: Some(to),
            from: BufReader::new(from),
        })
    }

    /// Run test `i` there.
    pub fn run(&mut self, i: usize) -> Result<TestResult, String> {
        let to = self.to.as_mut().ok_or("the worker is closed")?;
        writeln!(to, "{i}").map_err(|e| format!("the worker is gone: {e}"))?;
        let mut line = String::new();
        match self.from.read_line(&mut line) {
            Ok(0) | Err(_) => Err("the worker process died".into()),
            Ok(_) => serde_json::from_str(&line).map_err(|e| format!("a worker's answer: {e}")),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The end of its stdin ends it, between tests.
        drop(self.to.take());
        let _ = self.child.wait();
    }
}

/// `judge problem-worker`: serve tests until the end of stdin.
pub fn serve() -> Result<(), String> {
    // Killed with the judge that started it, not left finishing its test
    // while the next judge sweeps the run folder it writes to.
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    if std::os::unix::process::parent_id() == 1 {
        return Err("started without a parent".into());
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let setup: Setup = match lines.next() {
        Some(Ok(l)) => serde_json::from_str(&l).map_err(|e| format!("the setup line: {e}"))?,
        _ => return Err("no setup line".into()),
    };
    let problem = super::load(&setup.package).map_err(|e| e.to_string())?;
    let validator = setup.validator.validator()?;
    let interactor = setup.interactor.map(Wire::validator).transpose()?;
    let opts = run::Options {
        time_limit: Duration::from_millis(setup.time_limit_ms),
        jobs: 1,
        all: true,
        isolation: setup.isolation,
        dir: setup.dir,
        keep: setup.keep,
        progress: None,
        workers: None,
        originals: None,
    };
    let claim = crate::sandbox::cpus::claim_one();
    let mut out = std::io::stdout().lock();
    for line in lines {
        let line = line.map_err(|e| e.to_string())?;
        let i: usize = line
            .trim()
            .parse()
            .map_err(|_| format!("not a test index: {line}"))?;
        if i >= problem.tests.len() {
            return Err(format!("no test {i}"));
        }
        let r = run::run_one(
            &problem,
            &validator,
            interactor.as_ref(),
            &setup.built,
            &opts,
            i,
            claim.cpu,
        );
        let json = serde_json::to_string(&r).map_err(|e| e.to_string())?;
        writeln!(out, "{json}")
            .and_then(|_| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
