//! `jail_code` and `safe_exec` as one-line JSON requests, for callers in
//! another process: the Python module `judge.codejail` through `judge
//! serve`. Bytes travel as base64; an answer's stdout and stderr as text,
//! with a `*_base64` field beside when they are not UTF-8, as in reports.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{pyjson, Exec, Jail, JailLimits, JailRun, Jails};
use crate::error::Error;

/// One request: exactly one of its kinds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Request<'a> {
    JailCode(JailCodeRequest),
    #[serde(borrow)]
    SafeExec(SafeExecRequest<'a>),
    /// The names of the known jails (`{"jails": {}}`).
    Jails {},
}

/// Which jail: a name, and the command line CodeJail's `configure` gave
/// it, if it did (the interpreter and its arguments: then the jail is
/// that, whatever the jails files say).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Which {
    #[serde(default = "python")]
    pub command: String,
    pub cmdline_start: Option<Vec<String>>,
}

fn python() -> String {
    "python".into()
}

/// A file made in the work directory: its name and base64 contents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFile {
    pub name: String,
    pub base64: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JailCodeRequest {
    #[serde(flatten)]
    pub which: Which,
    pub code: Option<String>,
    #[serde(default)]
    pub files: Vec<PathBuf>,
    #[serde(default)]
    pub extra_files: Vec<ExtraFile>,
    #[serde(default)]
    pub argv: Vec<String>,
    /// Text, as CodeJail's `stdin` (sent as UTF-8).
    #[serde(default)]
    pub stdin: String,
    pub limits: Option<JailLimits>,
    pub limit_overrides_context: Option<String>,
    /// For the caller's logs; unused here.
    pub slug: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeExecRequest<'a> {
    #[serde(flatten)]
    pub which: Which,
    pub code: String,
    /// Borrowed as written: Python's JSON, NaN and all (see `pyjson`).
    #[serde(borrow)]
    pub globals_dict: &'a RawValue,
    #[serde(default)]
    pub files: Vec<PathBuf>,
    #[serde(default)]
    pub python_path: Vec<PathBuf>,
    #[serde(default)]
    pub extra_files: Vec<ExtraFile>,
    pub limits: Option<JailLimits>,
    pub limit_overrides_context: Option<String>,
    pub slug: Option<String>,
    /// As `Exec::keep_deleted`.
    #[serde(default)]
    pub keep_deleted: bool,
}

/// The answer to one request line.
pub struct Answer {
    /// One line of JSON (without the newline). A request that cannot be
    /// run is `{"error": ..., "exit_status": 2}`, as `judge serve` answers
    /// any; one the sandbox could not judge is `{"error": ..., "verdict":
    /// "JE"}`.
    pub line: String,
    /// A signal to the judge stopped the run (answered, cleaned up): the
    /// server is to stop too.
    pub interrupted: bool,
}

/// Answer one request line. Runs stop cleanly on SIGINT, SIGTERM and
/// SIGHUP: the caller is a server whose job is its runs.
pub fn answer(jails: &Result<Jails, String>, line: &[u8]) -> Answer {
    let mut interrupted = false;
    let line = match run(jails, line, &mut interrupted) {
        Ok(a) => a,
        Err(e @ (Error::Usage(_) | Error::Isolation(_))) => {
            serde_json::json!({ "error": e.to_string(), "exit_status": 2 }).to_string()
        }
        Err(e) => serde_json::json!({ "error": e.to_string(), "verdict": "JE" }).to_string(),
    };
    Answer { line, interrupted }
}

fn run(
    jails: &Result<Jails, String>,
    line: &[u8],
    interrupted: &mut bool,
) -> Result<String, Error> {
    let line = std::str::from_utf8(line)
        .map_err(|e| Error::Usage(format!("a request is UTF-8 text: {e}")))?;
    let clean = pyjson::sanitized(line);
    let request: Request = serde_json::from_str(&clean).map_err(|e| {
        Error::Usage(format!(
            "a request is a JSON array of the arguments of judge run, or an object asking for \
                 jail_code, safe_exec or jails: {e}"
        ))
    })?;
    let jails = jails.as_ref().map_err(|e| Error::Usage(e.clone()))?;
    match request {
        Request::Jails {} => {
            let names: Vec<&str> = jails.all().iter().map(|j| j.name.as_str()).collect();
            Ok(serde_json::json!({ "jails": names }).to_string())
        }
        Request::JailCode(r) => {
            let jail = jail_of(jails, &r.which)?;
            let run = JailRun {
                code: r.code,
                files: r.files,
                extra_files: decoded(r.extra_files)?,
                argv: r.argv,
                stdin: r.stdin.into_bytes(),
                limits: r.limits,
                limits_context: r.limit_overrides_context,
                stop_on_signals: true,
            };
            let done = super::jail_code(&jail, &run)?;
            *interrupted = done.interrupted;
            let mut a = serde_json::json!({
                "status": done.status,
                "stdout": String::from_utf8_lossy(&done.stdout),
                "stderr": String::from_utf8_lossy(&done.stderr),
                "verdict": done.verdict,
                "message": done.message,
            });
            for (key, bytes) in [
                ("stdout_base64", &done.stdout),
                ("stderr_base64", &done.stderr),
            ] {
                if std::str::from_utf8(bytes).is_err() {
                    a[key] = crate::transcript::base64(bytes).into();
                }
            }
            Ok(a.to_string())
        }
        Request::SafeExec(r) => {
            let jail = jail_of(jails, &r.which)?;
            let exec = Exec {
                code: r.code,
                globals: pyjson::original(r.globals_dict, &clean, line).to_string(),
                files: r.files,
                python_path: r.python_path,
                extra_files: decoded(r.extra_files)?,
                limits: r.limits,
                limits_context: r.limit_overrides_context,
                keep_deleted: r.keep_deleted,
                stop_on_signals: true,
            };
            let outcome = super::safe_exec(&jail, &exec)?;
            if let super::Outcome::Failed { run, .. } = &outcome {
                *interrupted = run.interrupted;
            }
            Ok(super::answer_json(&exec, &outcome))
        }
    }
}

fn jail_of(jails: &Jails, which: &Which) -> Result<Jail, Error> {
    if let Some(cmdline) = &which.cmdline_start {
        let (interpreter, args) = cmdline
            .split_first()
            .ok_or_else(|| Error::Usage("cmdline_start is empty".into()))?;
        let mut jail = Jail::configured(&which.command, Path::new(interpreter));
        jail.args = args.to_vec();
        return Ok(jail);
    }
    jails.get(&which.command).cloned().ok_or_else(|| {
        let names: Vec<&str> = jails.all().iter().map(|j| j.name.as_str()).collect();
        Error::Usage(format!(
            "jail_code needs to be configured for {:?}: known are {}",
            which.command,
            names.join(", ")
        ))
    })
}

fn decoded(files: Vec<ExtraFile>) -> Result<Vec<(String, Vec<u8>)>, Error> {
    files
        .into_iter()
        .map(|f| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&f.base64)
                .map_err(|e| Error::Usage(format!("extra file {:?}: its base64: {e}", f.name)))?;
            Ok((f.name, bytes))
        })
        .collect()
}
