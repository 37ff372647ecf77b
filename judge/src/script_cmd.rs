//! `judge test` (a suite of conversation scripts) and `judge record` (a
//! script written from a live session).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;

use judge::limits::{parse_duration, parse_size, Limits};
use judge::script::failure::StepFailure;
use judge::script::suite::{self, CaseResult, Defaults};
use judge::worker::WorkerCommand;
use judge::{IsolationLevel, Verdict};

/// The limits both commands take, as `judge run` names them.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// CPU time, in seconds (or 500ms) [default: 2].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, help_heading = "Limits")]
    pub time_limit: Option<Duration>,

    /// Wall-clock time [default: 3 x time limit + 1 s].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, help_heading = "Limits")]
    pub wall_limit: Option<Duration>,

    /// Memory of the whole process tree [default: 256M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub memory_limit: Option<u64>,

    /// Bytes the program may write to stdout [default: 64M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub output_limit: Option<u64>,

    /// Bytes the program may write to stderr [default: 1M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub stderr_limit: Option<u64>,

    /// Processes and threads alive at once [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4_194_304), help_heading = "Limits")]
    pub processes: Option<u64>,
}

impl LimitArgs {
    fn limits(&self) -> Result<Limits, String> {
        let mut l = Limits::default();
        if let Some(t) = self.time_limit {
            l.cpu_time = t;
            l.wall_time = Limits::wall_for(t);
        }
        if let Some(w) = self.wall_limit {
            l.wall_time = w;
        }
        if let Some(m) = self.memory_limit {
            if m < 1 << 20 {
                return Err("--memory-limit must be at least 1M".into());
            }
            l.memory = m;
        }
        if let Some(o) = self.output_limit {
            l.stdout = o;
        }
        if let Some(e) = self.stderr_limit {
            l.stderr = e;
        }
        if let Some(p) = self.processes {
            l.processes = p;
        }
        Ok(l)
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scripts, and folders searched for *.conv scripts.
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Scripts run at once [default: the CPUs].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,

    /// The program for scripts without a `run` step, as one string of
    /// shell words: --program 'python3 calc.py'.
    #[arg(long, value_name = "CMD")]
    pub program: Option<String>,

    /// Copy a file into every session's /box (as `judge run --file`).
    #[arg(long, value_name = "SRC[:DEST]")]
    pub file: Vec<String>,

    /// A terminal for every script, not only those with a `pty` step.
    #[arg(long)]
    pub pty: bool,

    /// full (default) or none, as for `judge run`.
    #[arg(long, value_name = "full|none", default_value = "full", value_parser = crate::cli::parse_isolation)]
    pub isolation: IsolationLevel,

    /// Print one JSON object with every script's result instead of the table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("judge: {e}");
    ExitCode::from(2)
}

/// `judge test`.
pub fn test(args: TestArgs) -> ExitCode {
    let defaults = match defaults(&args) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let paths = match suite::find_scripts(&args.paths) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    // Every script is read and checked before any runs.
    let mut cases = Vec::new();
    for p in &paths {
        match suite::plan(p, &defaults) {
            Ok(c) => cases.push(c),
            Err(e) => return usage(e),
        }
    }
    let jobs = args.jobs.map_or_else(
        || judge::sandbox::cpus::allowed().len().max(1),
        |j| j as usize,
    );
    let workers = std::env::current_exe().ok().map(|program| WorkerCommand {
        program,
        args: vec!["test-worker".into()],
    });
    let progress = Progress {
        tty: std::io::stderr().is_terminal() && !args.json,
        total: cases.len(),
        state: Mutex::new((0, 0)),
    };
    let results = suite::run_all(cases, &paths, &defaults, jobs, workers.as_ref(), &|r| {
        progress.one(r)
    });
    let passed = results.iter().filter(|r| r.verdict == Verdict::AC).count();
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = serde_json::json!({
            "total": results.len(),
            "passed": passed,
            "failed": results.len() - passed,
            "scripts": results,
        });
        let _ = writeln!(out, "{report}");
    } else {
        let _ = write!(out, "{}", table(&results));
        for r in results.iter().filter(|r| r.verdict != Verdict::AC) {
            let _ = write!(out, "\n{}", failure_text(r));
        }
        let n = results.len();
        let _ = writeln!(
            out,
            "\n{n} script{}: {passed} passed, {} failed",
            if n == 1 { "" } else { "s" },
            n - passed
        );
    }
    if passed == results.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn defaults(args: &TestArgs) -> Result<Defaults, String> {
    let program = args
        .program
        .as_deref()
        .map(crate::cli::split_words)
        .transpose()?
        .map(|p| {
            if p.is_empty() {
                Err("--program is empty".to_string())
            } else {
                Ok(p)
            }
        })
        .transpose()?;
    let mut files = Vec::new();
    for f in &args.file {
        let (src, dest) = match f.split_once(':') {
            Some((s, d)) => (s.to_string(), d.to_string()),
            None => {
                let name = std::path::Path::new(f)
                    .file_name()
                    .ok_or_else(|| format!("--file {f:?}: not a file name"))?;
                (f.clone(), name.to_string_lossy().into_owned())
            }
        };
        if std::fs::metadata(&src).is_err() {
            return Err(format!("--file {src}: no such file"));
        }
        files.push((PathBuf::from(src), dest));
    }
    if args.isolation == IsolationLevel::None && !files.is_empty() {
        return Err("--file needs --isolation full".into());
    }
    Ok(Defaults {
        program,
        limits: args.limits.limits()?,
        wall_given: args.limits.wall_limit.is_some(),
        files,
        terminal: args.pty.then_some((80, 24)),
        isolation: args.isolation,
    })
}

/// A live line on a terminal, a line per script otherwise (stderr).
struct Progress {
    tty: bool,
    total: usize,
    /// Done, failed.
    state: Mutex<(usize, usize)>,
}

impl Progress {
    fn one(&self, r: &CaseResult) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 += 1;
        if r.verdict != Verdict::AC {
            s.1 += 1;
        }
        if self.tty {
            eprint!(
                "\r\x1b[K[{}/{}] {} passed, {} failed  {}",
                s.0,
                self.total,
                s.0 - s.1,
                s.1,
                judge::script::matcher::visible(r.script.as_bytes())
            );
            if s.0 >= self.total {
                eprint!("\r\x1b[K");
            }
        } else {
            eprintln!(
                "{:<3} {} ({}/{} steps, {} ms)",
                r.verdict.to_string(),
                judge::script::matcher::visible(r.script.as_bytes()),
                r.steps_passed,
                r.steps_total,
                r.wall_time_ms
            );
        }
        let _ = std::io::stderr().flush();
    }
}

/// script, verdict, steps passed of total, time, memory.
fn table(results: &[CaseResult]) -> String {
    let names: Vec<String> = results
        .iter()
        .map(|r| judge::script::matcher::visible(r.script.as_bytes()))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let steps: Vec<String> = results
        .iter()
        .map(|r| format!("{}/{}", r.steps_passed, r.steps_total))
        .collect();
    let sw = steps.iter().map(String::len).max().unwrap_or(5).max(5);
    let mut s = format!(
        "{:<width$}  verdict  {:>sw$}      time     memory\n",
        "script", "steps"
    );
    for ((r, name), steps) in results.iter().zip(&names).zip(&steps) {
        let mem = r
            .memory_kib
            .map_or("-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        s.push_str(&format!(
            "{name:<width$}  {:<7}  {steps:>sw$}  {:>7} ms  {:>9}\n",
            r.verdict.to_string(),
            r.wall_time_ms,
            mem
        ));
    }
    s
}

/// A failed script's message, as `judge run` shows it.
fn failure_text(r: &CaseResult) -> String {
    match &r.failure {
        Some(f) => StepFailure::render(f, r.verdict, &r.script, Some(&r.message)),
        None => format!("{:<3} {}: {}\n", r.verdict.to_string(), r.script, r.message),
    }
}

/// `judge test-worker` (hidden): run scripts for a `judge test`.
pub fn test_worker() -> ExitCode {
    match suite::serve_worker() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("judge test-worker: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Where to write the script.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,

    /// Give the program a terminal, as `judge run --pty`.
    #[arg(long)]
    pub pty: bool,

    /// Copy a file into the sandbox's /box (as `judge run --file`); the
    /// script names it in a `file` step.
    #[arg(long, value_name = "SRC")]
    pub file: Vec<PathBuf>,

    /// full (default) or none, as for `judge run`.
    #[arg(long, value_name = "full|none", default_value = "full", value_parser = crate::cli::parse_isolation)]
    pub isolation: IsolationLevel,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// The program and its arguments.
    #[arg(required = true, last = true, value_name = "PROGRAM [ARGS]...")]
    pub program: Vec<String>,
}

/// `judge record`.
pub fn record(args: RecordArgs) -> ExitCode {
    use judge::script::record::{Recorder, Recording};
    use std::cell::RefCell;
    use std::rc::Rc;

    let mut limits = match args.limits.limits() {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    // A person types at their own pace: an hour unless told otherwise.
    if args.limits.wall_limit.is_none() {
        limits.wall_time = Duration::from_secs(3600);
    }
    let script_dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if !script_dir.is_dir() {
        return usage(format!("-o {}: no such folder", args.output.display()));
    }
    if args.output.is_dir() {
        return usage(format!("-o {}: is a folder", args.output.display()));
    }
    if args.isolation == IsolationLevel::None && !args.file.is_empty() {
        return usage("--file needs --isolation full");
    }
    let (program, rest) = args.program.split_first().expect("clap requires a program");
    let mut session = judge::Session::new(program, rest)
        .limits(limits)
        .isolation(args.isolation)
        .forward_stdout(false)
        .capture(false)
        .handle_signals(true)
        .terminal(args.pty.then(judge::session::Terminal::default));
    for f in &args.file {
        let Some(name) = f.file_name() else {
            return usage(format!("--file {}: not a file name", f.display()));
        };
        if std::fs::metadata(f).is_err() {
            return usage(format!("--file {}: no such file", f.display()));
        }
        session = session.file(f, name.to_string_lossy().into_owned());
    }
    let lim = &args.limits;
    let mut named = Vec::new();
    if let Some(t) = lim.time_limit {
        named.push(("time", format!("{}ms", t.as_millis())));
    }
    if let Some(t) = lim.wall_limit {
        named.push(("wall", format!("{}ms", t.as_millis())));
    }
    for (k, v) in [
        ("memory", lim.memory_limit),
        ("output", lim.output_limit),
        ("stderr", lim.stderr_limit),
    ] {
        if let Some(v) = v {
            // In bytes: a size in K would round.
            named.push((k, v.to_string()));
        }
    }
    if let Some(p) = lim.processes {
        named.push(("processes", p.to_string()));
    }
    let head =
        judge::script::record::header(&args.output, &args.program, &args.file, args.pty, &named);
    let recording = Rc::new(RefCell::new(Recording::default()));
    let recorder = Recorder::new(0, recording.clone());
    let report = match session
        .responder(judge::ResponderChoice::Custom(Box::new(recorder)))
        .run()
    {
        Ok(r) => r,
        Err(e @ (judge::Error::Usage(_) | judge::Error::Isolation(_))) => return usage(e),
        Err(e) => {
            eprintln!("judge: JE: {e}");
            return ExitCode::from(1);
        }
    };
    let steps = std::mem::take(&mut recording.borrow_mut().steps);
    let mut text = head.join("\n");
    text.push_str("\n\n");
    for s in &steps {
        text.push_str(s);
        text.push('\n');
    }
    if let Err(e) = std::fs::write(&args.output, &text) {
        return usage(format!("-o {}: {e}", args.output.display()));
    }
    eprintln!(
        "judge: recorded {} steps to {} ({}: {})",
        steps.iter().filter(|s| !s.starts_with('#')).count(),
        args.output.display(),
        report.verdict,
        report.message
    );
    ExitCode::SUCCESS
}
