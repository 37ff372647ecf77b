//! `judge problem`'s tests in worker processes (see `crate::worker` for
//! why): a worker (`judge problem-worker`) is told the problem, its built
//! submission and validators once, then runs the tests it is given by
//! index, answering each with its result.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::build::Built;
use super::run::{self, TestResult};
use super::validate::Validator;
use crate::responder::{PluginKind, Protocol};
use crate::session::IsolationLevel;
use crate::worker::{Worker, WorkerCommand};

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
    Wasi {
        path: PathBuf,
        protocol: Protocol,
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
            Validator::Wasi { path, protocol } => Wire::Wasi {
                path: path.clone(),
                protocol: *protocol,
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
            Wire::Wasi { path, protocol } => Validator::Wasi { path, protocol },
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

/// A worker for the problem's tests.
pub fn start(
    cmd: &WorkerCommand,
    problem: &super::Problem,
    validator: &Validator,
    interactor: Option<&Validator>,
    built: &Built,
    opts: &run::Options,
) -> Result<Worker, String> {
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
    Worker::start(cmd, &setup)
}

/// `judge problem-worker`: serve tests until the end of stdin.
pub fn serve() -> Result<(), String> {
    crate::worker::serve(|setup: Setup| {
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
        // One CPU for the worker's sessions, claimed once.
        let claim = crate::sandbox::cpus::claim_one();
        let built = setup.built;
        Ok(move |i: usize| -> Result<TestResult, String> {
            if i >= problem.tests.len() {
                return Err(format!("no test {i}"));
            }
            Ok(run::run_one(
                &problem,
                &validator,
                interactor.as_ref(),
                &built,
                &opts,
                i,
                claim.cpu,
            ))
        })
    })
}
