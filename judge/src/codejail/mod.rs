//! What edX's CodeJail does, on our sandbox: Python code run with a
//! dictionary of JSON globals passed in and the changed globals passed
//! back (`safe_exec`), in a named jail (an interpreter, the host folders it
//! needs shown read-only, limits and named limit overrides).
//!
//! - [`jail`]: the jails, built in and from `jails.yaml` files;
//! - this module: `safe_exec`, a caller of the session library like any
//!   other; the code runs under `wrapper.py`, which reads the code and the
//!   globals from stdin and writes the globals back filtered as CodeJail's
//!   `json_safe` filters them.

pub mod jail;

use std::path::PathBuf;

use crate::session::{ResponderChoice, Session};
use crate::verdict::Verdict;

pub use jail::{Jail, JailLimits, Jails};

/// The program each run executes: our wrapper around the caller's code.
const WRAPPER: &str = include_str!("wrapper.py");

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub code: String,
    /// The globals, a JSON object.
    pub globals: serde_json::Map<String, serde_json::Value>,
    /// Host files and folders copied into the work directory, by name.
    pub files: Vec<PathBuf>,
    /// Folders (or zip files) below the work directory added to sys.path,
    /// by their names there (CodeJail's `python_path`).
    pub python_path: Vec<String>,
    /// Named limits to use instead of the jail's (`limit_overrides_context`).
    pub limits_context: Option<String>,
}

/// How the run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The globals after the run, as the jailed interpreter wrote them
    /// (JSON as Python writes it: `NaN` stays `NaN`, as in CodeJail).
    Globals(String),
    /// The code raised, or a limit stopped it: CodeJail's
    /// `SafeExecException` message, with the status, stdout and stderr.
    Failed {
        message: String,
        status: i32,
        stdout: String,
        stderr: String,
    },
}

/// Run `exec` in `jail`.
pub fn safe_exec(jail: &Jail, exec: &Exec) -> Result<Outcome, crate::Error> {
    let limits = jail.limits_for(exec.limits_context.as_deref())?;
    // Private (mkdtemp), removed when dropped, swept if a judge was killed.
    let temp = crate::responder::exec::TempDir::new()
        .map_err(|e| crate::Error::Setup(format!("a temporary folder: {e}")))?;
    let wrapper = temp.path().join("jailed_code");
    let stdin = temp.path().join("stdin.json");
    let write = |p: &std::path::Path, bytes: &[u8]| {
        std::fs::write(p, bytes)
            .map_err(|e| crate::Error::Setup(format!("writing {}: {e}", p.display())))
    };
    write(&wrapper, WRAPPER.as_bytes())?;
    let input = serde_json::json!([exec.code, exec.globals]);
    write(&stdin, input.to_string().as_bytes())?;
    // CodeJail's command line: -E ignores PYTHON* variables, -B writes no
    // .pyc (nothing may be written by default).
    let mut args: Vec<String> = vec!["-E".into(), "-B".into(), "jailed_code".into()];
    args.extend(exec.python_path.iter().cloned());
    let mut s = Session::new(&jail.interpreter, args)
        .limits(limits)
        .responder(ResponderChoice::File(stdin.clone()))
        .file(&wrapper, "jailed_code")
        .env("TMPDIR", "/tmp");
    for (k, v) in &jail.env {
        s = s.env(k, v);
    }
    for d in &jail.dirs {
        s = s.dir(d, d, false);
    }
    for f in &exec.files {
        let name = f
            .file_name()
            .ok_or_else(|| crate::Error::Usage(format!("{}: not a file name", f.display())))?;
        if f.is_dir() {
            s = s.dir(f, PathBuf::from(crate::sandbox::WORK_DIR).join(name), false);
        } else {
            s = s.file(f, name);
        }
    }
    let r = s.run()?;
    drop(temp);
    let stdout = r.stdout.text().into_owned();
    let stderr = r.stderr.text().into_owned();
    if r.verdict == Verdict::AC {
        return Ok(Outcome::Globals(stdout.trim_end().to_string()));
    }
    let status = r.exit_code.unwrap_or(128 + r.signal.unwrap_or(0));
    let message = match r.verdict {
        // The code raised: its traceback is the message, as in CodeJail.
        Verdict::RE if r.exit_code.is_some() => format!(
            "Couldn't execute jailed code: stdout: {stdout:?}, stderr: {stderr:?} with status code: {status}"
        ),
        v => format!(
            "Couldn't execute jailed code: {v}: {} (stdout: {stdout:?}, stderr: {stderr:?})",
            r.message
        ),
    };
    Ok(Outcome::Failed {
        message,
        status,
        stdout,
        stderr,
    })
}
