//! The judge's integration tests: one binary, real programs (C compiled with
//! gcc at test time, shell, python3), exact verdicts and figures.

mod util;

/// Batch answers checked: the default output validator's rules.
mod checker;
/// Nothing survives a session: processes, cgroups, temp dirs.
mod cleanup;
/// Flags, exit statuses, the JSON result and the transcript.
mod cli;
/// `judge exec`: CodeJail's safe_exec on our sandbox.
mod codejail;
/// `judge http`: codejail-service's API over HTTP.
#[cfg(feature = "http")]
mod codejail_http;
/// The Python module `judge.codejail`: CodeJail's API, through `judge serve`.
mod codejail_python;
/// Conversation scripts, the terminal mode, `judge record` and `judge test`.
mod conversations;
/// The hostile corpus: attacks on the sandbox and what each gets.
mod hostile;
/// Interactors: protocols, precedence policies, misbehaving interactors.
mod interactive;
/// CPU, wall, memory, output and process limits, with their figures.
mod limits;
/// `judge problem`: Kattis and Polygon packages, graders, verify mode.
mod problem;
/// Native plugins and WebAssembly modules: the ABI, the SDK, hostile modules.
mod responders;
/// The program's root: the template every run enters, what a run adds.
mod root;
/// The unprivileged path: the judge run by an ordinary user.
mod rootless;
/// Judging on many machines: `judge submit`, `worker`, `results`, `queue`.
#[cfg(feature = "redis")]
mod scale;
/// `judge serve`: sessions one after another in one process.
mod serve;
/// One test per verdict the program can earn on its own.
mod verdicts;
/// WASI command modules: stdio interactors compiled to WebAssembly, run unchanged.
mod wasi;
