//! Judging a submission against a whole problem package, as a contest
//! judge does: compile once, run every test (in parallel), check each output
//! with the problem's validator, and combine the tests' verdicts by the
//! format's rules. Uses the session library as any caller would.
//!
//! - `kattis` and `polygon` read a package into a [`Problem`], the one
//!   model the rest works on; a package they cannot judge faithfully is
//!   refused with a [`PackageError`] naming the file;
//! - `language` is the language table; `build` compiles submissions and
//!   validators in the sandbox (validators cached by content hash);
//! - `validate` checks one output (the default validator, a Kattis
//!   validator, a testlib checker, testlib's standard checkers natively);
//! - `run` runs one submission on every test; `grade` combines the tests;
//! - `verify` judges a package's own submissions against their folders.

pub mod build;
pub mod grade;
pub mod kattis;
pub mod language;
pub mod polygon;
pub mod run;
pub mod testlib_std;
pub mod validate;
pub mod verify;
pub mod worker;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::limits::MIB;
use crate::verdict::Verdict;

/// A package that cannot be judged: exit status 2, the file named (and the
/// line, for YAML).
#[derive(Debug, Clone, PartialEq)]
pub struct PackageError(pub String);

impl std::fmt::Display for PackageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackageError {}

impl PackageError {
    pub fn at(file: &Path, what: impl std::fmt::Display) -> Self {
        PackageError(format!("{}: {what}", file.display()))
    }

    pub fn yaml(file: &Path, e: &serde_yaml_ng::Error) -> Self {
        let what = e.to_string();
        // The message ends with " at line L column C"; say it first.
        match e.location() {
            Some(l) => {
                let what = what
                    .split(" at line ")
                    .next()
                    .unwrap_or(&what)
                    .trim_end_matches(',');
                PackageError(format!(
                    "{}:{}:{}: {what}",
                    file.display(),
                    l.line(),
                    l.column()
                ))
            }
            None => PackageError::at(file, what),
        }
    }
}

/// Which format and version a package is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Kattis without `problem_format_version`.
    KattisLegacy,
    #[serde(rename = "kattis-2023-07-draft")]
    Kattis2023,
    #[serde(rename = "kattis-2025-09")]
    Kattis2025,
    Polygon,
}

impl Format {
    pub fn is_kattis(self) -> bool {
        self != Format::Polygon
    }
}

/// How the tests' results make the submission's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    PassFail,
    Scoring,
}

/// One problem, whatever format it came in.
#[derive(Debug, Clone)]
pub struct Problem {
    pub root: PathBuf,
    pub name: String,
    pub format: Format,
    pub kind: Kind,
    pub interactive: bool,
    /// Passes of a multi-pass problem (the validator's `nextpass.in`
    /// feeds the next); 1 otherwise.
    pub passes: u32,
    pub limits: ProblemLimits,
    pub validator: ValidatorSpec,
    /// Polygon: the interactor that talks to the program, before the
    /// checker reads its output file. (A Kattis interactive problem's
    /// validator is its interactor.)
    pub interactor: Option<ValidatorSpec>,
    /// Every test, in the order the format runs them.
    pub tests: Vec<TestCase>,
    /// The group tree; `groups[0]` is the root (`data`).
    pub groups: Vec<Group>,
    /// The package's own submissions and what each should get.
    pub submissions: Vec<Expected>,
    /// What was read but is not judged (the reason, one line each).
    pub notes: Vec<String>,
}

/// Limits of the problem's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemLimits {
    /// CPU time per test; none: computed from the accepted submissions.
    pub time: Option<Duration>,
    pub time_rule: TimeRule,
    pub memory: u64,
    pub output: u64,
    pub compile_time: Duration,
    pub compile_memory: u64,
    pub validation_time: Duration,
    pub validation_memory: u64,
    pub validation_output: u64,
}

impl Default for ProblemLimits {
    fn default() -> Self {
        ProblemLimits {
            time: None,
            time_rule: TimeRule::Legacy {
                multiplier: 5.0,
                safety_margin: 2.0,
            },
            memory: 2048 * MIB,
            output: 8 * MIB,
            compile_time: Duration::from_secs(60),
            compile_memory: 2048 * MIB,
            validation_time: Duration::from_secs(60),
            validation_memory: 2048 * MIB,
            validation_output: 8 * MIB,
        }
    }
}

/// How a time limit is derived from the slowest accepted run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum TimeRule {
    /// Legacy: ceil(slowest x time_multiplier) seconds, at least 1.
    Legacy { multiplier: f64, safety_margin: f64 },
    /// 2023-07-draft and 2025-09: the smallest multiple of
    /// `time_resolution` at least slowest x ac_to_time_limit.
    Multipliers {
        ac_to_time_limit: f64,
        time_limit_to_tle: f64,
        time_resolution: f64,
    },
}

impl TimeRule {
    /// The limit for a slowest accepted run of `slowest`.
    pub fn limit_for(self, slowest: Duration) -> Duration {
        let t = slowest.as_secs_f64();
        let secs = match self {
            TimeRule::Legacy { multiplier, .. } => (t * multiplier).ceil().max(1.0),
            TimeRule::Multipliers {
                ac_to_time_limit,
                time_resolution: r,
                ..
            } => ((t * ac_to_time_limit / r).ceil().max(1.0)) * r,
        };
        Duration::from_secs_f64(secs)
    }

    pub fn describe(self) -> String {
        match self {
            TimeRule::Legacy { multiplier, .. } => {
                format!("the slowest accepted run x {multiplier} (time_multiplier), rounded up to a second")
            }
            TimeRule::Multipliers {
                ac_to_time_limit,
                time_resolution,
                ..
            } => format!(
                "the slowest accepted run x {ac_to_time_limit} (ac_to_time_limit), rounded up to a multiple of {time_resolution} s (time_resolution)"
            ),
        }
    }
}

/// Who checks an output, as the package names it.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatorSpec {
    /// The Kattis default output validator (diff.rs), with the tests' flags.
    Default,
    /// A program built from source: a Kattis output validator, a testlib
    /// checker or interactor.
    Program {
        /// The file or folder holding its source.
        source: PathBuf,
        /// Headers and other files the build may include (testlib.h).
        include: Vec<PathBuf>,
        protocol: crate::responder::Protocol,
        /// The source's language, where the package names it.
        language: Option<String>,
    },
    /// One of testlib's standard checkers, judged natively.
    TestlibStd(&'static str),
    /// A checker module of our responder ABI.
    Module {
        kind: crate::responder::PluginKind,
        path: PathBuf,
    },
}

/// One test case.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// Its path below `data/` without the extension (`secret/small/01`), or
    /// Polygon's number.
    pub name: String,
    pub input: PathBuf,
    pub answer: PathBuf,
    /// The submission's command-line arguments (`args:` of `<test>.yaml`).
    pub args: Vec<String>,
    /// Words after the validator's files (`output_validator_args`).
    pub validator_args: Vec<String>,
    /// A folder whose files are copied into the working directory.
    pub files: Option<PathBuf>,
    /// The group it belongs to (index into `Problem::groups`).
    pub group: usize,
    pub sample: bool,
    /// Polygon: points for passing it.
    pub points: Option<f64>,
}

/// A test group and its grading rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `data`, `sample`, `secret`, `secret/group1`, ...
    pub name: String,
    pub parent: Option<usize>,
    pub grading: Grading,
}

/// How a group combines its children (tests and subgroups, in order).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rules", rename_all = "kebab-case")]
pub enum Grading {
    /// Legacy and early-draft graders (testdata.yaml).
    Legacy {
        on_reject_continue: bool,
        verdict: VerdictMode,
        score: ScoreMode,
        ignore_sample: bool,
        accept_if_any_accepted: bool,
        accept_score: f64,
        reject_score: f64,
        range: (f64, f64),
    },
    /// 2025-09 (test_group.yaml): `max_score` (none: unbounded),
    /// `score_aggregation`, `require_pass`.
    Aggregate {
        max_score: Option<f64>,
        aggregation: Aggregation,
        require_pass: Vec<String>,
    },
    /// Polygon: points per test or for the complete group, and the groups
    /// that must pass first.
    Points {
        complete_group: bool,
        points: Option<f64>,
        dependencies: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictMode {
    WorstError,
    FirstError,
    AlwaysAccept,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMode {
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    PassFail,
    Sum,
    Min,
}

/// One of the package's own submissions and the verdicts it may get.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Relative to the package (`submissions/accepted/sol.c`).
    pub name: String,
    /// Its files (one, or a folder's).
    pub files: Vec<PathBuf>,
    /// The language the package names, if it does (Polygon).
    pub language: Option<String>,
    /// The verdicts that meet the expectation.
    pub verdicts: Vec<Verdict>,
    /// Where the expectation comes from (the folder, a tag, a comment).
    pub why: String,
    /// Whether its time counts toward a computed time limit.
    pub accepted: bool,
}

/// The regular files below `dir` (sorted, links not followed), each with
/// its path relative to `dir`.
pub(crate) fn files_below(dir: &Path) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let t = e.file_type()?;
            if t.is_dir() {
                walk(&e.path(), &rel.join(e.file_name()), out)?;
            } else if t.is_file() {
                out.push((e.path(), rel.join(e.file_name())));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    Ok(out)
}

/// A dot file (`.DS_Store`, `.gitignore`): never part of a program.
pub fn hidden(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// The files of a submission given as a path: the file, or a folder's
/// regular files (sorted, dot files left out).
pub fn submission_files(path: &Path) -> Result<Vec<PathBuf>, PackageError> {
    // The sandbox copies files in by paths free of links: resolve the one
    // given, and refuse links inside a folder (one to /etc/shadow would be
    // read as the judge).
    let path = &path
        .canonicalize()
        .map_err(|e| PackageError::at(path, format!("cannot read it: {e}")))?;
    let meta = std::fs::metadata(path)
        .map_err(|e| PackageError::at(path, format!("cannot read it: {e}")))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| PackageError::at(path, format!("cannot read it: {e}")))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !hidden(p))
        .collect();
    files.sort();
    if let Some(link) = files.iter().find(|f| f.is_symlink()) {
        return Err(PackageError::at(
            link,
            "a symbolic link in a submission: give the file itself",
        ));
    }
    if files.is_empty() {
        return Err(PackageError::at(
            path,
            "the submission folder holds no file",
        ));
    }
    Ok(files)
}

/// A temporary run folder, removed when dropped; those of judges that died
/// (killed mid-run) are removed by the next one.
pub struct RunFolder(crate::responder::exec::TempDir);

impl RunFolder {
    pub fn new() -> std::io::Result<RunFolder> {
        crate::responder::exec::TempDir::new().map(RunFolder)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Read a package: Polygon if it has problem.xml, Kattis otherwise.
pub fn load(root: &Path) -> Result<Problem, PackageError> {
    let meta = std::fs::metadata(root)
        .map_err(|e| PackageError::at(root, format!("cannot read the package: {e}")))?;
    // Its real path: the sandbox refuses sources reached through links.
    let root = &root
        .canonicalize()
        .map_err(|e| PackageError::at(root, format!("cannot read the package: {e}")))?;
    if !meta.is_dir() {
        return Err(PackageError::at(
            root,
            "not a folder: a problem package is a folder (unpack a zip first)",
        ));
    }
    if root.join("problem.xml").is_file() && !root.join("problem.yaml").exists() {
        polygon::load(root)
    } else {
        kattis::load(root)
    }
}
