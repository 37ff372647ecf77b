//! `judge problem` and `judge languages`: a package in, a table (or one
//! JSON object) out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;

use judge::limits::parse_duration;
use judge::problem::language::Languages;
use judge::problem::run::TestResult;
use judge::problem::verify::{self, Judge, SubmissionReport, TimeLimit};
use judge::problem::{self, Problem};
use judge::{IsolationLevel, Verdict};

#[derive(Debug, Args)]
pub struct ProblemArgs {
    /// The problem package: a folder with problem.yaml (Kattis) or
    /// problem.xml (Polygon).
    pub package: PathBuf,

    /// Source files of one submission (or one folder holding them). None:
    /// verify the package's own submissions.
    pub submission: Vec<PathBuf>,

    /// The submission's language, by id (see `judge languages`); default:
    /// by the files' extensions.
    #[arg(long, value_name = "ID")]
    pub language: Option<String>,

    /// Tests run at once, each on a CPU of its own [default: the CPUs].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,

    /// Run every test, also those after a rejection that the format's
    /// rules would skip.
    #[arg(long)]
    pub all: bool,

    /// CPU time per test, over the package's (or the one computed from its
    /// accepted submissions).
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub time_limit: Option<Duration>,

    /// Keep the run folder (builds, each test's output and feedback) in DIR
    /// (created; must not exist).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,

    /// full (default) or none, as for `judge run`.
    #[arg(long, value_name = "full|none", default_value = "full", value_parser = crate::cli::parse_isolation)]
    pub isolation: IsolationLevel,

    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LanguagesArgs {
    /// Also read PACKAGE's contest folder (its parent) for languages.yaml.
    #[arg(long, value_name = "PACKAGE")]
    pub package: Option<PathBuf>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("judge: {e}");
    ExitCode::from(2)
}

/// `judge problem-worker` (hidden): run tests for a `judge problem`.
pub fn worker() -> ExitCode {
    match judge::problem::worker::serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("judge problem-worker: {e}");
            ExitCode::from(2)
        }
    }
}

pub fn languages(args: LanguagesArgs) -> ExitCode {
    let package = args
        .package
        .as_deref()
        .map(|p| p.canonicalize().unwrap_or(p.to_path_buf()));
    let contest = package.as_deref().and_then(|p| p.parent());
    let langs = match Languages::load(contest) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    if args.json {
        let list: Vec<_> = langs
            .all()
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.id, "name": l.name, "extensions": l.extensions,
                    "compile": l.compile, "run": l.run,
                    "missing": l.missing_commands(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "languages": list, "read": langs.sources })
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<12} {:<22} {:<22} usable here",
        "id", "name", "extensions"
    );
    for l in langs.all() {
        let missing = l.missing_commands();
        let usable = if missing.is_empty() {
            "yes".to_string()
        } else {
            format!("no: {} not installed", missing.join(", "))
        };
        println!(
            "{:<12} {:<22} {:<22} {usable}",
            l.id,
            l.name,
            l.extensions.join(" ")
        );
    }
    println!("read: {}", langs.sources.join(", "));
    ExitCode::SUCCESS
}

/// Live progress on a terminal: tests done of total and the verdict so
/// far, on one line of stderr.
struct Progress {
    tty: bool,
    total: usize,
    /// The submission, tests done, the first rejection so far.
    state: Mutex<(String, usize, Option<Verdict>)>,
}

impl Progress {
    fn test(&self, submission: &str, _i: usize, r: &TestResult) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0 != submission {
            *s = (submission.to_string(), 0, None);
        }
        s.1 += 1;
        if s.2.is_none() && r.verdict.is_some_and(|v| v != Verdict::AC) {
            s.2 = r.verdict;
        }
        if self.tty {
            let so_far = s.2.map_or("AC".to_string(), |v| v.to_string());
            let width = 30;
            let filled = (width * s.1 / self.total.max(1)).min(width);
            eprint!(
                "\r\x1b[K{submission} [{}{}] {}/{} {so_far}",
                "#".repeat(filled),
                "-".repeat(width - filled),
                s.1,
                self.total
            );
            if s.1 >= self.total {
                eprint!("\r\x1b[K");
            }
        } else {
            eprintln!(
                "{submission} {:<24} {}",
                visible(&r.test),
                verdict_word(r.verdict)
            );
        }
        let _ = std::io::stderr().flush();
    }
}

/// Text from a package or a program, fit for a terminal: no control
/// characters (a test named with an escape sequence could rewrite the
/// screen).
fn visible(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn verdict_word(v: Option<Verdict>) -> String {
    v.map_or("skipped".into(), |v| v.to_string())
}

pub fn problem(args: ProblemArgs) -> ExitCode {
    let p = match problem::load(&args.package) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let langs = match Languages::load(
        args.package
            .canonicalize()
            .ok()
            .as_deref()
            .and_then(|p| p.parent()),
    ) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    // The run folder: kept, or removed at the end.
    let (dir, _temp) = match &args.keep {
        Some(d) => {
            if let Err(e) = std::fs::create_dir(d) {
                return usage(format!("--keep {}: {e}", d.display()));
            }
            (d.clone(), None)
        }
        None => match problem::RunFolder::new() {
            Ok(t) => (t.path().to_path_buf(), Some(t)),
            Err(e) => return usage(format!("a temporary folder: {e}")),
        },
    };
    let submission = if args.submission.is_empty() {
        None
    } else {
        let mut files = Vec::new();
        for s in &args.submission {
            match problem::submission_files(s) {
                Ok(f) => files.extend(f),
                Err(e) => return usage(e),
            }
        }
        Some(files)
    };
    let mut judge = match Judge::new(&p, &langs, dir.clone(), args.isolation) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let lang = match &submission {
        Some(files) => match judge.language(files, args.language.as_deref()) {
            Ok(l) => Some(l),
            Err(e) => return usage(e),
        },
        None => None,
    };
    if submission.is_none() && p.submissions.is_empty() {
        return usage(format!(
            "{}: no submission given, and the package has no submissions/ to verify: name one (judge problem {} SOLUTION.c)",
            args.package.display(),
            args.package.display()
        ));
    }
    let progress = Progress {
        tty: std::io::stderr().is_terminal() && !args.json,
        total: p.tests.len(),
        state: Mutex::new((String::new(), 0, None)),
    };
    let report_progress = |s: &str, i: usize, r: &TestResult| progress.test(s, i, r);
    if !args.json {
        judge.progress = Some(&report_progress);
    }
    if let Some(j) = args.jobs {
        judge.jobs = j as usize;
    }
    judge.all = args.all;
    judge.time_limit = args.time_limit;
    judge.keep = args.keep.is_some();
    // Workers as processes of this binary: see problem/worker.rs.
    if let Ok(exe) = std::env::current_exe() {
        judge.workers = Some(judge::worker::WorkerCommand {
            program: exe,
            args: vec!["problem-worker".into()],
        });
    }
    for n in &p.notes {
        eprintln!("judge: note: {n}");
    }

    match (submission, lang) {
        (Some(files), Some(lang)) => {
            let (limit, _) = match judge.time_limit() {
                Ok(x) => x,
                Err(e) => return usage(e),
            };
            let name = args
                .submission
                .iter()
                .map(|s| s.display().to_string())
                .collect::<Vec<_>>()
                .join(" ");
            let r = judge.judge(
                &name,
                &files,
                lang,
                Duration::from_secs_f64(limit.seconds),
                args.all,
            );
            if args.json {
                let json = serde_json::json!({
                    "package": verify::package_json(&p, &limit),
                    "submission": r,
                    "run_folder": args.keep,
                });
                println!("{json}");
            } else {
                print_header(&p, &limit);
                print_tests(&r);
                println!("{}", r.message);
            }
            if r.verdict == Verdict::AC {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        _ => {
            let (limit, reports) = match judge.verify() {
                Ok(x) => x,
                Err(e) => return usage(e),
            };
            let ok = reports.iter().all(|r| r.matches == Some(true));
            if args.json {
                let json = serde_json::json!({
                    "package": verify::package_json(&p, &limit),
                    "submissions": reports,
                    "all_as_expected": ok,
                    "run_folder": args.keep,
                });
                println!("{json}");
            } else {
                print_header(&p, &limit);
                print_verify(&reports);
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn print_header(p: &Problem, limit: &TimeLimit) {
    let format = serde_json::to_value(p.format).ok();
    // A computed limit says how; a given one, where from.
    let from = match limit.source.as_str() {
        "computed" => format!("computed: {}", limit.why),
        source => source.to_string(),
    };
    println!(
        "{} ({}{}), {} tests, time limit {} s ({from}), memory {} MiB",
        p.name,
        format.as_ref().and_then(|f| f.as_str()).unwrap_or(""),
        if p.interactive { ", interactive" } else { "" },
        p.tests.len(),
        limit.seconds,
        p.limits.memory / judge::limits::MIB
    );
}

fn print_tests(r: &SubmissionReport) {
    if let Some(c) = &r.compile {
        if c.verdict == Verdict::CE {
            println!("compile error ({}):\n{}", c.language, c.message);
            return;
        }
    }
    println!(
        "{:<28} {:<7} {:>8} {:>8} {:>9}  message",
        "test", "verdict", "cpu ms", "wall ms", "mem MiB"
    );
    for t in &r.tests {
        let mem = t
            .memory_kib
            .map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
        let mut msg = t
            .feedback
            .judge_message
            .clone()
            .unwrap_or_else(|| t.message.clone());
        if let Some(s) = &t.same_as {
            msg = format!("same as {s}: {msg}");
        }
        let msg = visible(msg.lines().next().unwrap_or(""))
            .chars()
            .take(80)
            .collect::<String>();
        println!(
            "{:<28} {:<7} {:>8} {:>8} {:>9}  {msg}",
            visible(&t.test),
            verdict_word(t.verdict),
            t.cpu_time_ms,
            t.wall_time_ms,
            mem
        );
    }
    if let Some(o) = &r.overall {
        for g in &o.groups {
            if let Some(s) = g.score {
                let max = g.max_score.map_or(String::new(), |m| format!(" of {m}"));
                println!("group {:<22} {:<7} score {s}{max}", g.group, g.verdict);
            }
        }
    }
}

fn print_verify(reports: &[SubmissionReport]) {
    println!("{:<52} {:<12} {:<5} ok", "submission", "expected", "got");
    for r in reports {
        let expected = r
            .expected
            .as_ref()
            .map(|v| {
                v.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .unwrap_or_default();
        let ok = if r.matches == Some(true) { "yes" } else { "NO" };
        println!(
            "{:<52} {:<12} {:<5} {ok}",
            r.submission,
            expected,
            r.verdict.to_string()
        );
        if r.matches != Some(true) {
            println!(
                "    {} (expected from {})",
                r.message,
                r.expected_from.as_deref().unwrap_or("?")
            );
        }
    }
    let bad = reports.iter().filter(|r| r.matches != Some(true)).count();
    if bad == 0 {
        println!(
            "all {} submissions got what their folders say",
            reports.len()
        );
    } else {
        println!(
            "{bad} of {} submissions did not get what their folders say",
            reports.len()
        );
    }
}
