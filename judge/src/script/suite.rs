//! `judge test`: every script under some paths, each against the program
//! it names (or a default), with its own limits, in parallel.
//!
//! Sessions run in worker processes (`judge test-worker`), one per job,
//! for the reason `problem::worker` gives; without a worker command they
//! run in threads of this process.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::failure::StepFailure;
use super::{parse_file, Script, ScriptResponder};
use crate::limits::{parse_duration, parse_size, Limits};
use crate::session::{IsolationLevel, ResponderChoice, Session, Terminal, SANDBOX_PATH};
use crate::verdict::Verdict;
use crate::worker::{Worker, WorkerCommand};

/// What every script gets unless it says otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Defaults {
    /// `--program`: for scripts without a `run` step.
    pub program: Option<Vec<String>>,
    pub limits: Limits,
    /// The wall limit was given, not derived from the CPU limit: a
    /// script's `time` then leaves it alone.
    pub wall_given: bool,
    /// `--file`: copied into every session (source, destination).
    pub files: Vec<(PathBuf, String)>,
    /// `--pty`: a terminal for every script.
    pub terminal: Option<(u16, u16)>,
    pub isolation: IsolationLevel,
}

/// One script, ready to run.
pub struct Case {
    pub script: Script,
    pub program: Vec<String>,
    pub limits: Limits,
    pub files: Vec<(PathBuf, String)>,
    pub terminal: Option<(u16, u16)>,
    pub isolation: IsolationLevel,
    /// The script's folder, where `--isolation none` runs the program.
    pub dir: PathBuf,
}

/// One script's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    pub script: String,
    pub verdict: Verdict,
    pub message: String,
    pub steps_passed: usize,
    pub steps_total: usize,
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub memory_kib: Option<u64>,
    pub failure: Option<StepFailure>,
}

/// The scripts named: files as they are, folders searched for `*.conv`
/// (sorted, dot files and folders skipped).
pub fn find_scripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out).map_err(|e| e.to_string())?;
            if out.len() == before {
                return Err(format!("{}: no *.conv scripts in this folder", p.display()));
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(named)?
        .collect::<Result<_, _>>()
        .map_err(named)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let p = e.path();
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "conv") {
            // A link that leads nowhere is a mistake worth naming.
            let meta = std::fs::metadata(&p)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
            if meta.is_file() {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Read a script and settle what it runs against; every mistake (the
/// script's, a missing program or file) is found here, before anything
/// runs.
pub fn plan(path: &Path, d: &Defaults) -> Result<Case, String> {
    let script = parse_file(path).map_err(|e| e.to_string())?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let here = |what: &str| format!("{}: {what}", path.display());
    let at = |line: u32, what: &str| format!("{}:{line}:1: {what}", path.display());
    let program = match (&script.header.run, &d.program) {
        (Some((run, _)), _) => {
            let mut argv = run.clone();
            // A path is the script's folder's; a bare name is found on PATH.
            if argv[0].contains('/') && !argv[0].starts_with('/') && dir != Path::new(".") {
                let rel = Path::new(&argv[0]);
                argv[0] = dir
                    .join(rel.strip_prefix(".").unwrap_or(rel))
                    .to_string_lossy()
                    .into_owned();
            }
            argv
        }
        (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(here(
                "names no program: add a `run CMD ARGS` step at its top or give --program",
            ))
        }
    };
    let search = match d.isolation {
        IsolationLevel::Full => Some(std::ffi::OsStr::new(SANDBOX_PATH)),
        IsolationLevel::None => None,
    };
    crate::sandbox::resolve_program_in(Path::new(&program[0]), search).map_err(|e| {
        // The error names the program already.
        let why = format!("cannot run it: {e}");
        match &script.header.run {
            Some((_, line)) => at(*line, &why),
            None => format!("--program: {why}"),
        }
    })?;
    let mut limits = d.limits;
    for (k, v) in &script.header.limits {
        // Checked by the parser.
        match k.as_str() {
            "time" => {
                limits.cpu_time = parse_duration(v)?;
                if !d.wall_given {
                    limits.wall_time = Limits::wall_for(limits.cpu_time);
                }
            }
            "wall" => limits.wall_time = parse_duration(v)?,
            "memory" => limits.memory = parse_size(v)?,
            "output" => limits.stdout = parse_size(v)?,
            "stderr" => limits.stderr = parse_size(v)?,
            "processes" => limits.processes = v.parse().map_err(|_| here("bad processes"))?,
            _ => return Err(here(&format!("unknown limit {k}"))),
        }
    }
    if limits.memory < 1 << 20 {
        return Err(here("a memory limit is at least 1M"));
    }
    let mut files = d.files.clone();
    for (f, dest, line) in &script.header.files {
        let src = dir.join(f);
        let meta = std::fs::metadata(&src)
            .map_err(|e| at(*line, &format!("file {}: {e}", f.display())))?;
        if !meta.is_file() {
            return Err(at(
                *line,
                &format!("file {}: not a regular file", f.display()),
            ));
        }
        // Where `--file` would put it: DEST, or its own name.
        let dest = dest.clone().unwrap_or_else(|| {
            f.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        });
        // The same file twice (a --file the script names too) is copied
        // once; two files for one place are a mistake.
        match files.iter().find(|(_, d)| *d == dest) {
            Some((other, _)) if same_file(other, &src) => {}
            Some((other, _)) => {
                return Err(at(
                    *line,
                    &format!(
                        "file {}: /box/{dest} is already {}",
                        f.display(),
                        other.display()
                    ),
                ))
            }
            None => files.push((src, dest)),
        }
    }
    if d.isolation == IsolationLevel::None && !files.is_empty() {
        return Err(here("file steps and --file need --isolation full"));
    }
    Ok(Case {
        terminal: script.header.pty.or(d.terminal),
        script,
        program,
        limits,
        files,
        isolation: d.isolation,
        dir,
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

impl Case {
    pub fn session(self) -> Session {
        let (program, args) = self.program.split_first().expect("a program");
        let mut s = Session::new(program, args)
            .limits(self.limits)
            .isolation(self.isolation)
            .terminal(self.terminal.map(|(cols, rows)| Terminal {
                cols,
                rows,
                ..Terminal::default()
            }))
            .forward_stdout(false)
            .capture(false)
            .responder(ResponderChoice::Custom(Box::new(ScriptResponder::new(
                self.script,
            ))));
        for (src, dest) in self.files {
            s = s.file(src, dest);
        }
        if self.isolation == IsolationLevel::None {
            s = s.cwd(self.dir);
        }
        s
    }

    /// Run it here.
    pub fn run(self) -> CaseResult {
        let name = self.script.path.display().to_string();
        let total = self.script.steps.len();
        match self.session().run() {
            Ok(r) => {
                let outcome = r.responder.script.as_ref();
                CaseResult {
                    script: name,
                    verdict: r.verdict,
                    message: r.message.clone(),
                    steps_passed: outcome.map_or(0, |o| o.steps_passed),
                    steps_total: total,
                    cpu_time_ms: r.cpu_time_ms,
                    wall_time_ms: r.wall_time_ms,
                    memory_kib: r.memory_kib,
                    failure: outcome.and_then(|o| o.failure.clone()),
                }
            }
            Err(e) => CaseResult::failed(name, total, e.to_string()),
        }
    }
}

impl CaseResult {
    fn failed(script: String, steps_total: usize, why: String) -> CaseResult {
        CaseResult {
            script,
            verdict: Verdict::JE,
            message: format!("the session could not be judged: {why}"),
            steps_passed: 0,
            steps_total,
            cpu_time_ms: 0,
            wall_time_ms: 0,
            memory_kib: None,
            failure: None,
        }
    }
}

/// Run every case, `jobs` at a time, in workers when a command is given.
/// `progress` hears of each result as it comes; the results are returned
/// in the order of `cases`.
pub fn run_all(
    cases: Vec<Case>,
    paths: &[PathBuf],
    defaults: &Defaults,
    jobs: usize,
    workers: Option<&WorkerCommand>,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let n = cases.len();
    let names: Vec<String> = cases
        .iter()
        .map(|c| c.script.path.display().to_string())
        .collect();
    let totals: Vec<usize> = cases.iter().map(|c| c.script.steps.len()).collect();
    let cases: Vec<Mutex<Option<Case>>> = cases.into_iter().map(|c| Mutex::new(Some(c))).collect();
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; n]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| {
                let mut worker = workers.map(|w| Worker::start(w, defaults));
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let case = cases[i].lock().unwrap_or_else(|e| e.into_inner()).take();
                    let result = match (worker.as_mut(), case) {
                        (Some(Ok(w)), _) => match w.ask::<CaseResult>(&path_bytes(&paths[i])) {
                            Ok(r) => r,
                            Err(e) => {
                                // Lost with its worker (JE); the next gets a new one.
                                worker = workers.map(|w| Worker::start(w, defaults));
                                CaseResult::failed(names[i].clone(), totals[i], e)
                            }
                        },
                        (Some(Err(e)), _) => {
                            CaseResult::failed(names[i].clone(), totals[i], e.clone())
                        }
                        (None, Some(case)) => {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case.run()))
                                .unwrap_or_else(|_| {
                                    CaseResult::failed(
                                        names[i].clone(),
                                        totals[i],
                                        "the judge panicked".into(),
                                    )
                                })
                        }
                        (None, None) => unreachable!("each case is taken once"),
                    };
                    progress(&result);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| CaseResult::failed(names[i].clone(), totals[i], "not run".into()))
        })
        .collect()
}

/// A path as a worker is told of it: bytes, since a file name need not be
/// UTF-8.
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

/// `judge test-worker`: the defaults once, then a script path per request,
/// each answered with its result.
pub fn serve_worker() -> Result<(), String> {
    crate::worker::serve(|defaults: Defaults| {
        Ok(move |bytes: Vec<u8>| -> Result<CaseResult, String> {
            use std::os::unix::ffi::OsStrExt;
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
            Ok(match plan(&path, &defaults) {
                Ok(case) => case.run(),
                Err(e) => CaseResult::failed(path.display().to_string(), 0, e),
            })
        })
    })
}
