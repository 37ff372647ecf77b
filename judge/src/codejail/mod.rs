//! What edX's CodeJail does, on our sandbox.
//!
//! - [`jail`]: the jails (an interpreter, the host folders it needs shown
//!   read-only, limits and named limit overrides), built in and from
//!   `jails.yaml` files;
//! - [`jail_code`]: CodeJail's `jail_code`, a program run in a jail with
//!   files, argv and stdin, its status, stdout and stderr returned;
//! - [`safe_exec`]: CodeJail's `safe_exec` on top of it, Python code run
//!   with a dictionary of JSON globals passed in and the changed globals
//!   passed back; the code runs under `wrapper.py`;
//! - [`requests`]: both as one-line JSON requests (`judge serve`);
//! - [`pyjson`]: JSON as Python writes it (NaN, big integers), passed as text;
//! - [`pyrepr`]: Python's `repr` of bytes, for CodeJail's exact messages.
//!
//! Callers of the session library like any other.

pub mod jail;
pub mod pyjson;
pub mod pyrepr;
pub mod requests;

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::session::{ResponderChoice, Session};
use crate::verdict::Verdict;

pub use jail::{Jail, JailLimits, Jails};

/// The program `safe_exec` runs: our wrapper around the caller's code.
const WRAPPER: &str = include_str!("wrapper.py");

/// The name the code gets in the work directory, as in CodeJail.
const CODE_FILE: &str = "jailed_code";

/// One run of `jail_code`: CodeJail's arguments.
#[derive(Debug, Clone, Default)]
pub struct JailRun {
    /// Written to `jailed_code` and run as the first argument; without it
    /// the program is one of `files`, named in `argv`.
    pub code: Option<String>,
    /// Host files and folders shown in the work directory by their names
    /// (files copied, folders shown read-only).
    pub files: Vec<PathBuf>,
    /// Files made in the work directory: a plain name and the contents.
    pub extra_files: Vec<(String, Vec<u8>)>,
    pub argv: Vec<String>,
    pub stdin: Vec<u8>,
    /// The limits, when the caller keeps them (the Python module keeps
    /// CodeJail's `LIMITS` and its overrides); otherwise the jail's.
    pub limits: Option<JailLimits>,
    /// The jail's named limits to use (`limit_overrides_context`); an
    /// unknown name means none, as in CodeJail. Unused with `limits`.
    pub limits_context: Option<String>,
    /// End the run cleanly on SIGINT, SIGTERM or SIGHUP (everything
    /// stopped and removed, [`JailResult::interrupted`] set), for a process
    /// whose job is this run: see `Session::handle_signals`.
    pub stop_on_signals: bool,
}

/// How a `jail_code` run ended, as CodeJail's `JailResult` says it, with
/// our verdict beside it.
#[derive(Debug, Clone)]
pub struct JailResult {
    /// The exit code, or minus the signal that ended it (Python's
    /// `returncode`): -9 for a limit the judge enforced by killing.
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// AC for an exit of 0, RE for another exit, or the limit that stopped it.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub message: String,
    /// Stopped by a signal to the judge (with `stop_on_signals`).
    pub interrupted: bool,
}

/// Run a program in `jail`, as CodeJail's `jail_code` does.
pub fn jail_code(jail: &Jail, run: &JailRun) -> Result<JailResult, Error> {
    let limits = match &run.limits {
        Some(l) => JailLimits::DEFAULT
            .overlaid(l)
            .session()
            .map_err(|e| Error::Usage(format!("limits: {e}")))?,
        None => jail.limits_for(run.limits_context.as_deref())?,
    };
    for (name, _) in &run.extra_files {
        if !is_plain_name(name) {
            return Err(Error::Usage(format!(
                "extra file {name:?}: a plain file name (no folders)"
            )));
        }
    }
    // Private (mkdtemp), removed when dropped, swept if a judge was killed.
    let temp = crate::responder::exec::TempDir::new()
        .map_err(|e| Error::Setup(format!("a temporary folder: {e}")))?;
    let write = |p: PathBuf, bytes: &[u8]| -> Result<PathBuf, Error> {
        std::fs::write(&p, bytes)
            .map_err(|e| Error::Setup(format!("writing {}: {e}", p.display())))?;
        Ok(p)
    };
    let stdin = write(temp.path().join(".stdin"), &run.stdin)?;
    let mut args: Vec<String> = jail.args.clone();
    if run.code.is_some() {
        args.push(CODE_FILE.into());
    }
    args.extend(run.argv.iter().cloned());
    let mut s = Session::new(&jail.interpreter, args)
        .limits(limits)
        .handle_signals(run.stop_on_signals)
        .responder(ResponderChoice::File(stdin))
        // CodeJail points TMPDIR at a folder of its work directory; the
        // sandbox's /tmp is as private.
        .env("TMPDIR", "/tmp");
    for (k, v) in &jail.env {
        s = s.env(k, v);
    }
    for d in &jail.dirs {
        s = s.dir(d, d, false);
    }
    for f in &run.files {
        s = show(s, f)?;
    }
    if let Some(code) = &run.code {
        s = s.file(
            write(temp.path().join(CODE_FILE), code.as_bytes())?,
            CODE_FILE,
        );
    }
    // Made after the code, so an extra file of the same name is refused
    // as two files for one place rather than silently replacing it.
    let extra = temp.path().join("extra");
    if !run.extra_files.is_empty() {
        std::fs::create_dir(&extra)
            .map_err(|e| Error::Setup(format!("writing {}: {e}", extra.display())))?;
    }
    for (name, bytes) in &run.extra_files {
        s = s.file(write(extra.join(name), bytes)?, name);
    }
    let r = s.run()?;
    drop(temp);
    Ok(JailResult {
        status: r.exit_code.unwrap_or(-r.signal.unwrap_or(0)),
        stdout: r.stdout.as_bytes().to_vec(),
        stderr: r.stderr.as_bytes().to_vec(),
        verdict: r.verdict,
        interrupted: r.interrupted(),
        message: r.message,
    })
}

/// A host file or folder in the work directory under its own name: a
/// file copied, a folder shown read-only (CodeJail copies both; nothing
/// may be written by default anyway).
fn show(s: Session, path: &Path) -> Result<Session, Error> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{}: not a file name", path.display())))?;
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(if meta.is_dir() {
        s.dir(path, Path::new(crate::sandbox::WORK_DIR).join(name), false)
    } else {
        s.file(path, name)
    })
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// One run of `safe_exec`: CodeJail's arguments.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub code: String,
    /// The globals: a JSON object as Python's `json` writes it (see
    /// [`pyjson`]), passed to the jail as it is.
    pub globals: String,
    /// Host files and folders shown in the work directory by name.
    pub files: Vec<PathBuf>,
    /// Folders or zip files added to `sys.path` by their names in the work
    /// directory; one whose name is not among the files and extra files is
    /// a host path shown there too, as in CodeJail.
    pub python_path: Vec<PathBuf>,
    pub extra_files: Vec<(String, Vec<u8>)>,
    pub limits: Option<JailLimits>,
    pub limits_context: Option<String>,
    /// The globals come back laid over those given, as the caller's
    /// dictionary is after CodeJail's `globals_dict.update(...)`: a global
    /// the code deleted keeps its given value. Without it, only what the
    /// jailed code left (CodeJail's stdout itself).
    pub keep_deleted: bool,
    /// As [`JailRun::stop_on_signals`].
    pub stop_on_signals: bool,
}

/// How a `safe_exec` run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The globals after the run, as the jailed interpreter wrote them:
    /// a JSON object as Python writes it (`NaN` stays `NaN`, as in
    /// CodeJail).
    Globals(String),
    /// The code raised, a limit stopped it, or it wrote something else
    /// than the globals: CodeJail's `SafeExecException` message, with the
    /// run itself.
    Failed { message: String, run: JailResult },
}

/// Run Python code in `jail`, as CodeJail's `safe_exec` does.
pub fn safe_exec(jail: &Jail, exec: &Exec) -> Result<Outcome, Error> {
    if !pyjson::is_object(&exec.globals) {
        return Err(Error::Usage("the globals must be a JSON object".into()));
    }
    // A name already given (an extra file, as in CodeJail, or one of the
    // files) is not shown twice.
    let given: Vec<&std::ffi::OsStr> = exec
        .extra_files
        .iter()
        .map(|(n, _)| std::ffi::OsStr::new(n.as_str()))
        .chain(exec.files.iter().filter_map(|f| f.file_name()))
        .collect();
    let mut files = exec.files.clone();
    let mut path_names = Vec::new();
    for p in &exec.python_path {
        let base = p
            .file_name()
            .and_then(|b| b.to_str())
            .ok_or_else(|| Error::Usage(format!("python_path {}: not a name", p.display())))?;
        if !given.contains(&std::ffi::OsStr::new(base)) {
            files.push(p.clone());
        }
        path_names.push(base.to_string());
    }
    // Written by hand around the globals' own text: re-encoding them would
    // lose NaN and integers past 64 bits.
    let stdin = format!(
        "[{}, {}, {}, {}]",
        serde_json::Value::from(exec.code.as_str()),
        exec.globals,
        exec.keep_deleted,
        serde_json::Value::from(path_names),
    );
    let run = JailRun {
        code: Some(WRAPPER.into()),
        files,
        extra_files: exec.extra_files.clone(),
        argv: Vec::new(),
        stdin: stdin.into_bytes(),
        limits: exec.limits,
        limits_context: exec.limits_context.clone(),
        stop_on_signals: exec.stop_on_signals,
    };
    let r = jail_code(jail, &run)?;
    if r.status == 0 {
        if let Some(globals) = std::str::from_utf8(&r.stdout)
            .ok()
            .map(str::trim_end)
            .filter(|t| pyjson::is_object(t))
        {
            return Ok(Outcome::Globals(globals.to_string()));
        }
    }
    Ok(Outcome::Failed {
        message: failure_message(&r),
        run: r,
    })
}

/// The answer of codejail-service's `POST /api/v0/code-exec`: the globals
/// after the run, or those given and the error message.
pub fn answer_json(exec: &Exec, outcome: &Outcome) -> String {
    match outcome {
        // Written as Python wrote it (NaN stays), not re-encoded.
        Outcome::Globals(text) => format!("{{\"globals_dict\": {text}}}"),
        Outcome::Failed { message, .. } => format!(
            "{{\"emsg\": {}, \"globals_dict\": {}}}",
            serde_json::Value::from(message.as_str()),
            exec.globals
        ),
    }
}

/// CodeJail's `SafeExecException` message, to the byte; for code that
/// exited 0 but wrote over the globals on stdout, codejail-service's.
pub fn failure_message(r: &JailResult) -> String {
    if r.status == 0 {
        return "Sandboxed code produced corrupted stdout.".into();
    }
    format!(
        "Couldn't execute jailed code: stdout: {}, stderr: {} with status code: {}",
        pyrepr::bytes(&r.stdout),
        pyrepr::bytes(&r.stderr),
        r.status
    )
}
