//! One submission on every test: sessions in parallel (`jobs` workers, each
//! on a CPU of its own), results reported in the package's order, identical
//! tests run once, and no test started that the format's rules would not
//! look at (unless `all`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::build::Built;
use super::validate::{self, Feedback, Validator};
use super::{Grading, Kind, Problem, TestCase};
use crate::limits::{Limits, MIB};
use crate::responder::{ExecSpec, PluginSpec, Protocol, WasiSpec};
use crate::sandbox::cpus;
use crate::session::{CpuPlacement, IsolationLevel, ResponderChoice, Session};
use crate::verdict::{Judgement, Verdict};

/// Told each test's result (its index and the result), in order.
pub type OnTest<'a> = &'a (dyn Fn(usize, &TestResult) + Sync);

/// How to run the tests.
pub struct Options<'a> {
    pub time_limit: Duration,
    pub jobs: usize,
    /// Run every test, even those the rules would skip.
    pub all: bool,
    pub isolation: IsolationLevel,
    /// Where outputs and feedback go (one folder per test).
    pub dir: PathBuf,
    /// Keep every test's output there (`--keep`); otherwise a test gets a
    /// folder only when its validator needs one (a file system's inode
    /// churn cost more than a session here).
    pub keep: bool,
    /// Called with each test's result, in the package's order.
    pub progress: Option<OnTest<'a>>,
    /// Run the tests in worker processes started so (see worker.rs), one
    /// per job, rather than in threads of this process.
    pub workers: Option<crate::worker::WorkerCommand>,
    /// [`originals`], if already known.
    pub originals: Option<&'a [Option<usize>]>,
}

/// One test's result.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TestResult {
    pub test: String,
    pub group: String,
    /// None: skipped (the rules did not need it).
    pub verdict: Option<Verdict>,
    pub message: String,
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub memory_kib: Option<u64>,
    #[serde(flatten)]
    pub feedback: Feedback,
    /// The earlier test with the same input, answer and arguments whose
    /// result this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
    /// Passes run (multi-pass problems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passes: Option<u32>,
    /// Where the program's output is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
    /// The last pass's session report (streams cut to 1 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<serde_json::Value>,
}

impl TestResult {
    /// The judge could not judge it: JE, and why.
    fn failed(problem: &Problem, t: &TestCase, why: String) -> Self {
        let mut r = TestResult::skipped(problem, t);
        r.verdict = Some(Verdict::JE);
        r.message = why;
        r
    }

    fn skipped(problem: &Problem, t: &TestCase) -> Self {
        TestResult {
            test: t.name.clone(),
            group: problem.groups[t.group].name.clone(),
            verdict: None,
            message: "skipped".into(),
            cpu_time_ms: 0,
            wall_time_ms: 0,
            memory_kib: None,
            feedback: Feedback::default(),
            same_as: None,
            passes: None,
            output: None,
            session: None,
        }
    }
}

/// The identity of a test case: identical ones are run once.
fn identity(t: &TestCase) -> Option<[u8; 32]> {
    let mut h = Sha256::new();
    for f in [&t.input, &t.answer] {
        let bytes = std::fs::read(f).ok()?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.update(format!("{:?}\0{:?}\0{:?}", t.args, t.validator_args, t.files).as_bytes());
    Some(h.finalize().into())
}

/// For each test, the earlier identical one whose result it takes, if any.
/// Reads every test's files: computed once per problem by callers judging
/// several submissions (`Options::originals`).
pub fn originals(problem: &Problem) -> Vec<Option<usize>> {
    let mut first_of: HashMap<[u8; 32], usize> = HashMap::new();
    problem
        .tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            identity(t).and_then(|id| {
                let f = *first_of.entry(id).or_insert(i);
                (f != i).then_some(f)
            })
        })
        .collect()
}

/// Whether a rejection of test `j` lets the rules skip test `i` (i > j):
/// decided by the lowest group holding both, the one whose children they
/// are different ones of. A group that breaks on a rejection (legacy
/// `on_reject: break`, a 2025-09 pass-fail or min group, a Polygon
/// complete group) judges none of its children after a rejected one.
pub fn skippable(problem: &Problem, j: usize, i: usize) -> bool {
    if problem.kind == Kind::PassFail {
        return true;
    }
    let mut g = problem.tests[j].group;
    while !in_group(problem, problem.tests[i].group, g) {
        match problem.groups[g].parent {
            Some(p) => g = p,
            None => return false,
        }
    }
    breaks(problem, g)
}

/// Whether group `g` judges no child after a rejected one.
pub fn breaks(problem: &Problem, g: usize) -> bool {
    match &problem.groups[g].grading {
        Grading::Legacy {
            on_reject_continue, ..
        } => !on_reject_continue,
        // 2025-09: samples never count, and a sum keeps counting.
        Grading::Aggregate { aggregation, .. } => {
            problem.groups[g].parent.is_some() && *aggregation != super::Aggregation::Sum
        }
        Grading::Points { complete_group, .. } => *complete_group,
    }
}

/// Is group `g` `ancestor` or below it?
pub fn in_group(problem: &Problem, mut g: usize, ancestor: usize) -> bool {
    loop {
        if g == ancestor {
            return true;
        }
        match problem.groups[g].parent {
            Some(p) => g = p,
            None => return false,
        }
    }
}

/// Run `built` on every test of `problem`.
pub fn run(
    problem: &Problem,
    validator: &Validator,
    interactor: Option<&Validator>,
    built: &Built,
    opts: &Options,
) -> Vec<TestResult> {
    let n = problem.tests.len();
    let computed;
    let original: &[Option<usize>] = match opts.originals {
        Some(o) => o,
        None => {
            computed = originals(problem);
            &computed
        }
    };

    let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; n]);
    let done = Condvar::new();
    let next = AtomicUsize::new(0);
    let reported = Mutex::new(0usize);
    let rejected: Mutex<Vec<usize>> = Mutex::new(Vec::new());

    // Report finished results in order, as far as they go.
    let flush = |results: &Vec<Option<TestResult>>| {
        let mut r = reported.lock().unwrap_or_else(|e| e.into_inner());
        while *r < n {
            match &results[*r] {
                Some(t) => {
                    if let Some(p) = opts.progress {
                        p(*r, t);
                    }
                    *r += 1;
                }
                None => break,
            }
        }
    };

    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1).min(n) {
            scope.spawn(|| {
                let mut worker = None;
                let claim = match &opts.workers {
                    Some(cmd) => {
                        worker = Some(super::worker::start(
                            cmd, problem, validator, interactor, built, opts,
                        ));
                        None
                    }
                    None => Some(cpus::claim_one()),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let t = &problem.tests[i];
                    let skip = !opts.all
                        && rejected
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .iter()
                            .any(|&j| j < i && skippable(problem, j, i));
                    // The first of its kind, once it is done (a copy of a
                    // test that was skipped runs: the skip was its group's).
                    let copied = match original[i] {
                        Some(o) if !skip => {
                            let mut guard = results.lock().unwrap_or_else(|e| e.into_inner());
                            while guard[o].is_none() {
                                guard = done.wait(guard).unwrap_or_else(|e| e.into_inner());
                            }
                            guard[o]
                                .clone()
                                .filter(|r| r.verdict.is_some())
                                .map(|mut r| {
                                    r.test = t.name.clone();
                                    r.group = problem.groups[t.group].name.clone();
                                    r.same_as = Some(problem.tests[o].name.clone());
                                    r
                                })
                        }
                        _ => None,
                    };
                    let result = if skip {
                        TestResult::skipped(problem, t)
                    } else if let Some(r) = copied {
                        r
                    } else {
                        match (&claim, worker.as_mut()) {
                            (Some(c), _) => {
                                // A panic must not leave the tests waiting
                                // for this one asleep.
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    run_one(problem, validator, interactor, built, opts, i, c.cpu)
                                }))
                                .unwrap_or_else(|_| {
                                    TestResult::failed(
                                        problem,
                                        t,
                                        "the judge failed on this test (a panic)".into(),
                                    )
                                })
                            }
                            (None, Some(Ok(w))) => match w.ask::<TestResult>(&i) {
                                Ok(r) if r.test == t.name => r,
                                Ok(r) => TestResult::failed(
                                    problem,
                                    t,
                                    format!("the worker answered for {} instead", r.test),
                                ),
                                Err(e) => {
                                    // This test is lost (JE); the next gets
                                    // a new worker.
                                    if let Some(cmd) = &opts.workers {
                                        worker = Some(super::worker::start(
                                            cmd, problem, validator, interactor, built, opts,
                                        ));
                                    }
                                    TestResult::failed(problem, t, e)
                                }
                            },
                            (None, Some(Err(e))) => TestResult::failed(problem, t, e.clone()),
                            (None, None) => unreachable!("a worker or a claim"),
                        }
                    };
                    if result.verdict.is_some_and(|v| v != Verdict::AC) {
                        rejected.lock().unwrap_or_else(|e| e.into_inner()).push(i);
                    }
                    let mut guard = results.lock().unwrap_or_else(|e| e.into_inner());
                    guard[i] = Some(result);
                    done.notify_all();
                    flush(&guard);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| TestResult::skipped(problem, &problem.tests[i])))
        .collect()
}

/// One test, all its passes.
pub(crate) fn run_one(
    problem: &Problem,
    validator: &Validator,
    interactor: Option<&Validator>,
    built: &Built,
    opts: &Options,
    i: usize,
    cpu: usize,
) -> TestResult {
    let t = &problem.tests[i];
    let dir = opts
        .dir
        .join(format!("{i:04}-{}", t.name.replace('/', "_")));
    let mut result = TestResult::skipped(problem, t);
    result.message.clear();
    let fail = |mut r: TestResult, why: String| {
        r.verdict = Some(Verdict::JE);
        r.message = why;
        r
    };
    let feedback = dir.join("feedback");
    let needs_dir = opts.keep
        || problem.interactive
        || problem.passes > 1
        || opts.isolation == IsolationLevel::None
        || matches!(
            validator,
            Validator::Program { .. } | Validator::Wasi { .. }
        );
    if needs_dir {
        if let Err(e) = std::fs::create_dir_all(&feedback) {
            return fail(result, format!("{}: {e}", feedback.display()));
        }
    }
    let mut input = t.input.clone();
    let mut pass = 1;
    loop {
        let output = dir.join(if problem.passes > 1 {
            format!("output.{pass}")
        } else {
            "output".into()
        });
        let (judgement, report) = match pass_once(
            problem, validator, interactor, built, opts, t, &input, &output, &dir, cpu,
        ) {
            Ok(x) => x,
            Err(e) => return fail(result, e),
        };
        result.cpu_time_ms = result.cpu_time_ms.max(report.cpu_time_ms);
        result.wall_time_ms = result.wall_time_ms.max(report.wall_time_ms);
        result.memory_kib = result.memory_kib.max(report.memory_kib);
        if opts.keep {
            result.output = Some(output);
        }
        let mut report = report;
        report.limit_json_streams(1024);
        result.session = serde_json::to_value(&report).ok();
        result.verdict = Some(judgement.verdict);
        result.message = judgement.message;
        let kattis_files = problem.format.is_kattis()
            && matches!(
                validator,
                Validator::Program {
                    protocol: Protocol::Kattis,
                    ..
                } | Validator::Wasi {
                    protocol: Protocol::Kattis,
                    ..
                }
            );
        if kattis_files {
            match Feedback::read(&feedback) {
                Ok(f) => result.feedback = f,
                Err(e) => return fail(result, e),
            }
        }
        if judgement.points.is_some() && result.feedback.score.is_none() {
            result.feedback.score = judgement.points;
        }
        if problem.passes > 1 {
            result.passes = Some(pass);
            let next = feedback.join("nextpass.in");
            if next.exists()
                && !matches!(judgement.verdict, Verdict::AC | Verdict::WA | Verdict::PE)
            {
                // The program failed (RE, TLE, ...) after the validator
                // had asked for more: its failure is the verdict.
                let _ = std::fs::remove_file(&next);
            } else if next.exists() {
                if judgement.verdict != Verdict::AC {
                    return fail(
                        result,
                        "the validator wrote nextpass.in without accepting (exit 42)".into(),
                    );
                }
                if pass == problem.passes {
                    return fail(
                        result,
                        format!(
                            "the validator asked for pass {} of at most {} (validation_passes)",
                            pass + 1,
                            problem.passes
                        ),
                    );
                }
                pass += 1;
                input = dir.join(format!("input.{pass}"));
                if let Err(e) = std::fs::rename(&next, &input) {
                    return fail(result, format!("moving nextpass.in: {e}"));
                }
                continue;
            }
        }
        return result;
    }
}

/// One run of the program and its judgement.
#[allow(clippy::too_many_arguments)]
fn pass_once(
    problem: &Problem,
    validator: &Validator,
    interactor: Option<&Validator>,
    built: &Built,
    opts: &Options,
    t: &TestCase,
    input: &Path,
    output: &Path,
    dir: &Path,
    cpu: usize,
) -> Result<(Judgement, crate::Report), String> {
    let tl = opts.time_limit;
    let out_limit = problem.limits.output;
    let mut args = built.args.clone();
    args.extend(t.args.iter().cloned());
    let mut s = Session::new(&built.program, args)
        .isolation(opts.isolation)
        .cpus(CpuPlacement::List(vec![cpu]))
        .limits(Limits {
            cpu_time: tl,
            wall_time: Limits::wall_for(tl),
            memory: problem.limits.memory,
            stdout: out_limit,
            stderr: out_limit.min(8 * MIB),
            file_size: out_limit.max(MIB),
            work_dir: 64 * MIB + built.bytes,
            ..Limits::default()
        });
    let mut files: Vec<(PathBuf, PathBuf)> = built.files.clone();
    if let Some(extra) = &t.files {
        files.extend(super::files_below(extra).map_err(|e| format!("{}: {e}", extra.display()))?);
    }
    if opts.isolation == IsolationLevel::None {
        // No work directory of its own: one per test, in the run folder.
        let work = dir.join("work");
        for (host, rel) in &files {
            let to = work.join(rel);
            std::fs::create_dir_all(to.parent().unwrap_or(&work))
                .and_then(|_| std::fs::copy(host, &to))
                .map_err(|e| format!("{}: {e}", to.display()))?;
        }
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        s = s.cwd(work);
    } else {
        for (host, rel) in files {
            s = s.file(host, rel);
        }
    }
    for (k, v) in &built.env {
        s = s.env(k, v);
    }
    let vlimits = validate::limits(problem);
    // Who talks to the program.
    let talker = if problem.interactive {
        interactor.or(Some(validator))
    } else {
        None
    };
    let mut checked_by_module = false;
    s = match (talker, validator) {
        (Some(Validator::Program { tool, protocol }), _) => {
            s.responder(ResponderChoice::Exec(ExecSpec {
                argv: tool.argv.clone(),
                protocol: *protocol,
                limits: vlimits,
                direct: false,
                input: Some(input.to_path_buf()),
                answer: Some(t.answer.clone()),
                cpus: None,
                flags: if interactor.is_some() {
                    vec![]
                } else {
                    t.validator_args.clone()
                },
                files_dir: Some(dir.to_path_buf()),
            }))
        }
        (Some(Validator::Wasi { path, protocol }), _) => {
            s.responder(ResponderChoice::Wasi(WasiSpec {
                path: path.clone(),
                args: Vec::new(),
                protocol: *protocol,
                input: Some(input.to_path_buf()),
                answer: Some(t.answer.clone()),
                flags: if interactor.is_some() {
                    vec![]
                } else {
                    t.validator_args.clone()
                },
                files_dir: Some(dir.to_path_buf()),
                limits: vlimits,
            }))
        }
        (Some(Validator::Module { kind, path }), _) | (None, Validator::Module { kind, path }) => {
            checked_by_module = true;
            s.responder(ResponderChoice::Plugin(PluginSpec {
                kind: *kind,
                path: path.clone(),
                args: t.validator_args.clone(),
                input: Some(input.to_path_buf()),
                answer: Some(t.answer.clone()),
                limits: vlimits,
            }))
        }
        (Some(_), _) => {
            return Err("an interactive problem needs a validator program or module".into())
        }
        (None, _) => s.responder(ResponderChoice::File(input.to_path_buf())),
    };
    let report = s.run().map_err(|e| e.to_string())?;
    if opts.keep && std::fs::write(output, report.stdout.as_bytes()).is_err() {
        return Err(format!("cannot write {}", output.display()));
    }
    let mut j = Judgement {
        verdict: report.verdict,
        message: report.message.clone(),
        points: report.responder.points,
    };
    if let Some(text) = &built.memory_error {
        // Failed (or was stopped once the validator had rejected it) after
        // saying it ran out of memory.
        let failed = report.verdict != Verdict::AC && report.program_verdict != Some(Verdict::AC);
        if failed && report.stderr.text().contains(text.as_str()) {
            j = Judgement::new(
                Verdict::MLE,
                format!("the program ran out of memory ({text})"),
            );
            return Ok((j, report));
        }
    }
    if report.verdict != Verdict::AC || checked_by_module {
        return Ok((j, report));
    }
    if problem.interactive {
        // Polygon: the checker reads what the interactor wrote.
        if interactor.is_some() {
            let tout = match std::fs::read(dir.join("tout")) {
                Ok(t) => t,
                Err(e) => return Err(format!("the interactor's output file: {e}")),
            };
            let (cj, _) = validate::check(
                validator,
                problem,
                input,
                &t.answer,
                &tout,
                &[],
                &dir.join("feedback"),
            );
            j = cj;
        }
        return Ok((j, report));
    }
    let (cj, _) = validate::check(
        validator,
        problem,
        input,
        &t.answer,
        report.stdout.as_bytes(),
        &t.validator_args,
        &dir.join("feedback"),
    );
    Ok((cj, report))
}
