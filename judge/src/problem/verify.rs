//! Judging submissions against a loaded problem: compile, settle the time
//! limit (computed from the accepted submissions when the package gives
//! none), run the tests, grade; and verify mode, which does that for every
//! submission of the package and compares with what its folder says.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::build::{self, BuildLimits, CompileReport};
use super::grade::{self, Overall};
use super::language::{Language, Languages};
use super::run::{self, TestResult};
use super::validate::{self, Validator};
use super::{Expected, PackageError, Problem};
use crate::limits::MIB;
use crate::session::IsolationLevel;
use crate::verdict::Verdict;

/// The CPU limit accepted submissions are run under to measure them, when
/// the time limit is still to be computed.
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// Told each test's result with the submission's name, in order.
pub type OnTest<'a> = &'a (dyn Fn(&str, usize, &TestResult) + Sync);

/// Everything judging needs besides the submission.
pub struct Judge<'a> {
    pub problem: &'a Problem,
    pub langs: &'a Languages,
    pub validator: Validator,
    pub interactor: Option<Validator>,
    /// Where each submission's run folder goes.
    pub dir: PathBuf,
    pub jobs: usize,
    pub all: bool,
    pub isolation: IsolationLevel,
    /// `--time-limit`, over the package's.
    pub time_limit: Option<Duration>,
    /// Keep each test's output in the run folder.
    pub keep: bool,
    /// Run tests in worker processes (see worker.rs) instead of threads.
    pub workers: Option<crate::worker::WorkerCommand>,
    /// Which tests repeat earlier ones, read once for every submission.
    originals: Vec<Option<usize>>,
    /// Called with each test's result as the package's order reaches it.
    pub progress: Option<OnTest<'a>>,
}

/// The time limit and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct TimeLimit {
    pub seconds: f64,
    /// "problem.yaml", "problem.xml", ".timelimit", "--time-limit" or
    /// "computed".
    pub source: String,
    pub why: String,
}

/// One submission's result.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionReport {
    pub submission: String,
    pub language: Option<String>,
    pub compile: Option<CompileReport>,
    pub verdict: Verdict,
    pub message: String,
    #[serde(flatten)]
    pub overall: Option<Overall>,
    pub tests: Vec<TestResult>,
    /// Verify mode: the verdicts it should get, why, and whether it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Vec<Verdict>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
    /// Slowest accepted test, CPU ms (for the computed time limit).
    #[serde(skip)]
    pub slowest_ms: u64,
}

impl<'a> Judge<'a> {
    /// Build the problem's validator (and Polygon's interactor) once.
    /// `isolation` is that of the builds too (validators included).
    pub fn new(
        problem: &'a Problem,
        langs: &'a Languages,
        dir: PathBuf,
        isolation: IsolationLevel,
    ) -> Result<Judge<'a>, PackageError> {
        let validator = validate::prepare(&problem.validator, problem, langs, isolation)?;
        let interactor = problem
            .interactor
            .as_ref()
            .map(|i| validate::prepare(i, problem, langs, isolation))
            .transpose()?;
        Ok(Judge {
            problem,
            langs,
            validator,
            interactor,
            dir,
            jobs: crate::sandbox::cpus::allowed().len().max(1),
            all: false,
            isolation,
            time_limit: None,
            keep: false,
            workers: None,
            originals: run::originals(problem),
            progress: None,
        })
    }

    /// The language of `files`: `named` if given, else by extension.
    pub fn language(&self, files: &[PathBuf], named: Option<&str>) -> Result<&'a Language, String> {
        let lang = match named {
            Some(id) => self.langs.get(id).ok_or_else(|| {
                let ids: Vec<&str> = self.langs.all().iter().map(|l| l.id.as_str()).collect();
                format!("unknown language {id:?} (configured: {})", ids.join(", "))
            })?,
            None => self.langs.detect(files).ok_or_else(|| {
                format!(
                    "{}: no configured language has this extension (give --language)",
                    files[0].display()
                )
            })?,
        };
        let missing = lang.missing_commands();
        if !missing.is_empty() {
            return Err(format!(
                "{} needs {}, which is not installed (not found in /usr/local/bin, /usr/bin, /bin)",
                lang.name,
                missing.join(" and ")
            ));
        }
        Ok(lang)
    }

    /// Compile and run one submission under `limit`.
    pub fn judge(
        &self,
        name: &str,
        files: &[PathBuf],
        lang: &Language,
        limit: Duration,
        all: bool,
    ) -> SubmissionReport {
        let p = self.problem;
        let index = std::fs::read_dir(&self.dir).map(|d| d.count()).unwrap_or(0);
        let dir = self.dir.join(format!("{index:03}-{}", sanitize(name)));
        let mut report = SubmissionReport {
            submission: name.to_string(),
            language: Some(lang.id.clone()),
            compile: None,
            verdict: Verdict::JE,
            message: String::new(),
            overall: None,
            tests: Vec::new(),
            expected: None,
            expected_from: None,
            matches: None,
            slowest_ms: 0,
        };
        let limits = BuildLimits {
            time: p.limits.compile_time,
            memory: p.limits.compile_memory,
        };
        let memlim = (p.limits.memory / MIB).max(1);
        let built = match build::compile(
            files,
            &[],
            lang,
            &dir.join("build"),
            limits,
            memlim,
            self.isolation,
        ) {
            Ok((built, c)) => {
                report.compile = Some(c.clone());
                match built {
                    Some(b) => b,
                    None => {
                        report.verdict = Verdict::CE;
                        report.message = format!("compile error: {}", first_line(&c.message));
                        return report;
                    }
                }
            }
            Err(e) => {
                report.message = format!("the submission could not be compiled: {e}");
                return report;
            }
        };
        let progress = self
            .progress
            .map(|f| move |i: usize, r: &TestResult| f(name, i, r));
        let opts = run::Options {
            time_limit: limit,
            jobs: self.jobs,
            all,
            isolation: self.isolation,
            dir: dir.join("tests"),
            keep: self.keep,
            workers: self.workers.clone(),
            originals: Some(&self.originals),
            progress: progress
                .as_ref()
                .map(|f| f as &(dyn Fn(usize, &TestResult) + Sync)),
        };
        let tests = run::run(p, &self.validator, self.interactor.as_ref(), &built, &opts);
        let overall = grade::grade(p, &tests);
        report.slowest_ms = tests
            .iter()
            .filter(|t| t.verdict == Some(Verdict::AC) && t.same_as.is_none())
            .map(|t| t.cpu_time_ms)
            .max()
            .unwrap_or(0);
        report.verdict = overall.verdict;
        report.message = match &overall.decided_by {
            Some(t) => {
                let r = tests.iter().find(|r| &r.test == t);
                format!(
                    "{} on {t}: {}",
                    overall.verdict,
                    r.map(|r| r.message.as_str()).unwrap_or("")
                )
            }
            None => match overall.score {
                Some(s) => format!("accepted, score {s}"),
                None => "accepted".into(),
            },
        };
        report.overall = Some(overall);
        report.tests = tests;
        report
    }

    /// The time limit: `--time-limit`, the package's, or computed from
    /// the accepted submissions (whose reports are returned for reuse).
    pub fn time_limit(&self) -> Result<(TimeLimit, Vec<SubmissionReport>), String> {
        let p = self.problem;
        if let Some(t) = self.time_limit {
            return Ok((
                TimeLimit {
                    seconds: t.as_secs_f64(),
                    source: "--time-limit".into(),
                    why: "given on the command line".into(),
                },
                vec![],
            ));
        }
        if let Some(t) = p.limits.time {
            let file = if p.format.is_kattis() {
                "problem.yaml"
            } else {
                "problem.xml"
            };
            return Ok((
                TimeLimit {
                    seconds: t.as_secs_f64(),
                    source: file.into(),
                    why: format!("set in the package's {file}"),
                },
                vec![],
            ));
        }
        let accepted: Vec<&Expected> = p.submissions.iter().filter(|s| s.accepted).collect();
        if accepted.is_empty() {
            return Err(
                "the package sets no time limit and has no accepted submission to compute one from: give --time-limit".into(),
            );
        }
        let mut reports = Vec::new();
        let mut slowest = (0u64, String::new());
        for s in accepted {
            let lang = match self.language(&s.files, s.language.as_deref()) {
                Ok(l) => l,
                Err(e) => return Err(format!("{}: {e}", s.name)),
            };
            let r = self.judge(&s.name, &s.files, lang, PROBE_LIMIT, true);
            if r.verdict == Verdict::AC && r.slowest_ms >= slowest.0 {
                slowest = (r.slowest_ms, s.name.clone());
            }
            reports.push(r);
        }
        if slowest.1.is_empty() {
            return Err("no accepted submission was accepted, so no time limit can be computed: give --time-limit".into());
        }
        let t = p
            .limits
            .time_rule
            .limit_for(Duration::from_millis(slowest.0));
        Ok((
            TimeLimit {
                seconds: t.as_secs_f64(),
                source: "computed".into(),
                why: format!(
                    "{}: {} took {} ms on its slowest test",
                    p.limits.time_rule.describe(),
                    slowest.1,
                    slowest.0
                ),
            },
            reports,
        ))
    }

    /// Verify mode: every submission of the package against its folder.
    pub fn verify(&self) -> Result<(TimeLimit, Vec<SubmissionReport>), String> {
        let (limit, mut probes) = self.time_limit()?;
        let tl = Duration::from_secs_f64(limit.seconds);
        let mut out = Vec::new();
        for s in &self.problem.submissions {
            let probe = probes.iter().position(|r| r.submission == s.name);
            let mut r = match probe {
                // Measured under a higher limit, every test run: a result
                // under the final limit is the same unless a test took
                // longer than it.
                Some(i)
                    if probes[i].tests.iter().all(|t| {
                        let wall = crate::Limits::wall_for(tl).as_millis() as u64;
                        t.cpu_time_ms as f64 <= limit.seconds * 1000.0 && t.wall_time_ms <= wall
                    }) =>
                {
                    probes.remove(i)
                }
                _ => match self.language(&s.files, s.language.as_deref()) {
                    Ok(lang) => {
                        // A submission that must be too slow must be too
                        // slow by the format's margin: judged under the
                        // limit times it, it must still exceed.
                        let only_tle = s
                            .verdicts
                            .iter()
                            .all(|v| matches!(v, Verdict::TLE | Verdict::ILE));
                        let margin = match self.problem.limits.time_rule {
                            _ if !only_tle || limit.source != "computed" => 1.0,
                            super::TimeRule::Legacy { safety_margin, .. } => safety_margin,
                            super::TimeRule::Multipliers {
                                time_limit_to_tle, ..
                            } => time_limit_to_tle,
                        };
                        let mut r =
                            self.judge(&s.name, &s.files, lang, tl.mul_f64(margin), self.all);
                        if margin != 1.0 {
                            r.message = format!(
                                "{} (judged at {} s: the time limit x {margin}, the format's margin for submissions that must be too slow)",
                                r.message,
                                limit.seconds * margin
                            );
                        }
                        r
                    }
                    Err(e) => SubmissionReport {
                        submission: s.name.clone(),
                        language: None,
                        compile: None,
                        verdict: Verdict::JE,
                        message: e,
                        overall: None,
                        tests: vec![],
                        expected: None,
                        expected_from: None,
                        matches: None,
                        slowest_ms: 0,
                    },
                },
            };
            r.matches = Some(s.verdicts.contains(&r.verdict));
            r.expected = Some(s.verdicts.clone());
            r.expected_from = Some(s.why.clone());
            out.push(r);
        }
        Ok((limit, out))
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Paths of a submission given on the command line.
pub fn files_of(path: &Path) -> Result<Vec<PathBuf>, PackageError> {
    super::submission_files(path)
}

/// The package as `judge problem --json` describes it.
pub fn package_json(p: &Problem, limit: &TimeLimit) -> serde_json::Value {
    serde_json::json!({
        "path": p.root,
        "name": p.name,
        "format": p.format,
        "type": p.kind,
        "interactive": p.interactive,
        "passes": p.passes,
        "tests": p.tests.len(),
        "time_limit": limit,
        "memory_limit_mib": p.limits.memory / crate::limits::MIB,
        "notes": p.notes,
    })
}
