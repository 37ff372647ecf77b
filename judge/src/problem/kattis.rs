//! The Kattis / ICPC problem package format: legacy (no
//! `problem_format_version`), `2023-07-draft` and `2025-09`.
//!
//! The draft changed over its two years; this reads what packages written
//! against any of its snapshots hold: `testdata.yaml` or `test_group.yaml`,
//! `*_flags` strings or `*_args` lists, legacy graders or `max_score` /
//! `score_aggregation`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{
    Aggregation, Expected, Format, Grading, Group, Kind, PackageError, Problem, ProblemLimits,
    ScoreMode, TestCase, TimeRule, ValidatorSpec, VerdictMode,
};
use crate::limits::MIB;
use crate::responder::{PluginKind, Protocol};
use crate::verdict::Verdict;

#[derive(Debug, Default, Deserialize)]
struct ProblemYaml {
    problem_format_version: Option<String>,
    name: Option<serde_yaml_ng::Value>,
    #[serde(rename = "type")]
    kind: Option<OneOrMany>,
    validation: Option<String>,
    validator_flags: Option<String>,
    limits: Option<LimitsYaml>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
struct LimitsYaml {
    time_limit: Option<f64>,
    time_multiplier: Option<f64>,
    time_safety_margin: Option<f64>,
    time_multipliers: Option<MultipliersYaml>,
    time_resolution: Option<f64>,
    memory: Option<u64>,
    output: Option<u64>,
    compilation_time: Option<f64>,
    compilation_memory: Option<u64>,
    validation_time: Option<f64>,
    validation_memory: Option<u64>,
    validation_output: Option<u64>,
    validation_passes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
struct MultipliersYaml {
    ac_to_time_limit: Option<f64>,
    time_limit_to_tle: Option<f64>,
}

/// `testdata.yaml` / `test_group.yaml`: every key any version defines.
/// Each is inherited from the nearest ancestor that sets it.
#[derive(Debug, Default, Clone, Deserialize)]
struct GroupYaml {
    on_reject: Option<String>,
    grading: Option<serde_yaml_ng::Value>,
    grader_flags: Option<String>,
    accept_score: Option<f64>,
    reject_score: Option<f64>,
    range: Option<String>,
    output_validator_flags: Option<String>,
    output_validator_args: Option<ArgsYaml>,
    max_score: Option<serde_yaml_ng::Value>,
    score_aggregation: Option<String>,
    require_pass: Option<OneOrMany>,
    scoring: Option<ScoringYaml>,
    args: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ScoringYaml {
    score: Option<serde_yaml_ng::Value>,
    aggregation: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ArgsYaml {
    Words(String),
    List(Vec<String>),
}

impl ArgsYaml {
    fn words(&self) -> Vec<String> {
        match self {
            ArgsYaml::Words(s) => s.split_whitespace().map(String::from).collect(),
            ArgsYaml::List(l) => l.clone(),
        }
    }
}

impl GroupYaml {
    /// `self` over `parent`, key by key.
    fn over(&self, parent: &GroupYaml) -> GroupYaml {
        macro_rules! pick {
            ($($k:ident),*) => { GroupYaml { $($k: self.$k.clone().or_else(|| parent.$k.clone()),)* } };
        }
        pick!(
            on_reject,
            grading,
            grader_flags,
            accept_score,
            reject_score,
            range,
            output_validator_flags,
            output_validator_args,
            max_score,
            score_aggregation,
            require_pass,
            scoring,
            args
        )
    }
}

/// A test's own `<name>.yaml`.
#[derive(Debug, Default, Deserialize)]
struct TestYaml {
    args: Option<Vec<String>>,
    output_validator_args: Option<ArgsYaml>,
}

fn read_yaml<T: for<'de> Deserialize<'de> + Default>(file: &Path) -> Result<T, PackageError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| PackageError::at(file, format!("cannot read it: {e}")))?;
    serde_yaml_ng::from_str::<Option<T>>(&text)
        .map(Option::unwrap_or_default)
        .map_err(|e| PackageError::yaml(file, &e))
}

pub fn load(root: &Path) -> Result<Problem, PackageError> {
    let yaml_path = ["problem.yaml", "problem.yml"]
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.exists())
        .ok_or_else(|| {
            PackageError::at(
                root,
                "no problem.yaml (a Kattis package) and no problem.xml (a Polygon package)",
            )
        })?;
    let y: ProblemYaml = read_yaml(&yaml_path)?;
    let at = |what: String| PackageError::at(&yaml_path, what);
    let format = match y.problem_format_version.as_deref() {
        None | Some("legacy") | Some("legacy-icpc") => Format::KattisLegacy,
        Some("2023-07-draft") | Some("2023-07") => Format::Kattis2023,
        Some("2025-09") => Format::Kattis2025,
        Some(v) => {
            return Err(at(format!(
                "problem_format_version {v:?} is not one this judge reads (legacy, 2023-07-draft, 2025-09)"
            )))
        }
    };
    let mut notes = Vec::new();

    // The type, and legacy `validation`.
    let mut types: Vec<String> = match &y.kind {
        None => vec![],
        Some(OneOrMany::One(s)) => s.split_whitespace().map(String::from).collect(),
        Some(OneOrMany::Many(l)) => l.clone(),
    };
    let mut custom = false;
    if let Some(v) = &y.validation {
        let mut words = v.split_whitespace();
        match words.next() {
            Some("default") => {}
            Some("custom") => custom = true,
            _ => {
                return Err(at(format!(
                    "validation {v:?}: expected default or custom ..."
                )))
            }
        }
        for w in words {
            match w {
                "interactive" | "multi-pass" | "multipass" => {
                    types.push(w.replace("multipass", "multi-pass"))
                }
                "score" => {}
                _ => return Err(at(format!("validation {v:?}: unknown word {w:?}"))),
            }
        }
    }
    let mut kind = Kind::PassFail;
    let (mut interactive, mut multipass) = (false, false);
    if types.iter().any(|t| t == "pass-fail") && types.iter().any(|t| t == "scoring") {
        return Err(at("type says both pass-fail and scoring".into()));
    }
    for t in &types {
        match t.as_str() {
            "pass-fail" => {}
            "scoring" => kind = Kind::Scoring,
            "interactive" => interactive = true,
            "multi-pass" => multipass = true,
            "submit-answer" => return Err(at("type submit-answer is not supported".into())),
            _ => return Err(at(format!("unknown type {t:?}"))),
        }
    }

    // Limits.
    let l = y.limits.unwrap_or_default();
    let mut limits = ProblemLimits::default();
    // At most a day: past that, limits are typos, and sums of them overflow.
    let secs = |v: f64, key: &str| -> Result<Duration, PackageError> {
        Duration::try_from_secs_f64(v)
            .ok()
            .filter(|d| !d.is_zero() && d.as_secs() <= 86_400)
            .ok_or_else(|| {
                at(format!(
                    "limits.{key} must be a number of seconds above 0, at most a day"
                ))
            })
    };
    let mib = |v: u64, key: &str| -> Result<u64, PackageError> {
        v.checked_mul(MIB)
            .filter(|&b| b > 0 && b <= 1 << 50)
            .ok_or_else(|| at(format!("limits.{key} must be a number of MiB above 0")))
    };
    let factor = |v: Option<f64>, default: f64, key: &str, min: f64| -> Result<f64, PackageError> {
        match v {
            None => Ok(default),
            Some(f) if f.is_finite() && f >= min && f <= 1e6 => Ok(f),
            Some(f) => Err(at(format!(
                "limits.{key} {f} must be a number from {min} to 1e6"
            ))),
        }
    };
    limits.time = l.time_limit.map(|t| secs(t, "time_limit")).transpose()?;
    if limits.time.is_none() {
        // DOMjudge's way of fixing it outside problem.yaml.
        if let Ok(t) = std::fs::read_to_string(root.join(".timelimit")) {
            let v: f64 = t.trim().parse().map_err(|_| {
                PackageError::at(&root.join(".timelimit"), "not a number of seconds")
            })?;
            limits.time = Some(secs(v, "time_limit")?);
        }
    }
    limits.time_rule = match format {
        Format::KattisLegacy => TimeRule::Legacy {
            multiplier: factor(l.time_multiplier, 5.0, "time_multiplier", 1.0)?,
            safety_margin: factor(l.time_safety_margin, 2.0, "time_safety_margin", 1.0)?,
        },
        _ => {
            let m = l.time_multipliers.unwrap_or_default();
            TimeRule::Multipliers {
                ac_to_time_limit: factor(
                    m.ac_to_time_limit,
                    2.0,
                    "time_multipliers.ac_to_time_limit",
                    1.0,
                )?,
                time_limit_to_tle: factor(
                    m.time_limit_to_tle,
                    1.5,
                    "time_multipliers.time_limit_to_tle",
                    1.0,
                )?,
                time_resolution: factor(l.time_resolution, 1.0, "time_resolution", 0.001)?,
            }
        }
    };
    if let Some(m) = l.memory {
        limits.memory = mib(m, "memory")?;
    }
    if let Some(m) = l.output {
        limits.output = mib(m, "output")?;
    }
    if let Some(t) = l.compilation_time {
        limits.compile_time = secs(t, "compilation_time")?;
    }
    if let Some(m) = l.compilation_memory {
        limits.compile_memory = mib(m, "compilation_memory")?;
    }
    if let Some(t) = l.validation_time {
        limits.validation_time = secs(t, "validation_time")?;
    }
    if let Some(m) = l.validation_memory {
        limits.validation_memory = mib(m, "validation_memory")?;
    }
    if let Some(m) = l.validation_output {
        limits.validation_output = mib(m, "validation_output")?;
    }
    let passes = if multipass {
        l.validation_passes.unwrap_or(2).clamp(2, 1000)
    } else {
        1
    };

    // The output validator.
    let validator = find_validator(root, format, custom || interactive || multipass)?;
    if (interactive || multipass) && validator == ValidatorSpec::Default {
        return Err(at(
            "an interactive or multi-pass problem needs an output validator (output_validator/)"
                .into(),
        ));
    }
    let problem_flags: Vec<String> = y
        .validator_flags
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();

    // The tests.
    let data = root.join("data");
    if !data.is_dir() {
        return Err(PackageError::at(
            &data,
            "missing: the tests live in data/sample and data/secret",
        ));
    }
    let mut reader = DataReader {
        format,
        problem_flags,
        groups: Vec::new(),
        tests: Vec::new(),
        notes: &mut notes,
    };
    let root_yaml = reader.group_yaml(&data)?;
    let grading = reader.grading("data", &root_yaml)?;
    reader.groups.push(Group {
        name: "data".into(),
        parent: None,
        grading,
    });
    for part in ["sample", "secret"] {
        let dir = data.join(part);
        if dir.is_dir() {
            reader.dir(&dir, part, 0, &root_yaml, true)?;
        }
    }
    for e in sorted_entries(&data)? {
        let name = e
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if e.is_dir() && name != "sample" && name != "secret" {
            reader.notes.push(format!(
                "data/{name}/ is not judged (only sample and secret are)"
            ));
        }
    }
    let (groups, tests) = (reader.groups, reader.tests);
    if tests.is_empty() {
        return Err(PackageError::at(
            &data,
            "holds no test (no .in files under sample/ or secret/)",
        ));
    }

    let name = match &y.name {
        Some(serde_yaml_ng::Value::String(s)) => s.clone(),
        Some(serde_yaml_ng::Value::Mapping(m)) => m
            .get("en")
            .or_else(|| m.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let name = if name.is_empty() {
        root.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    } else {
        name
    };
    let submissions = submissions(root, &mut notes)?;
    Ok(Problem {
        root: root.to_path_buf(),
        name,
        format,
        kind,
        interactive,
        passes,
        limits,
        validator,
        interactor: None,
        tests,
        groups,
        submissions,
        notes,
    })
}

/// The output validator: `output_validator/` (2023-07 on) or
/// `output_validators/<one>` (legacy; newer packages sometimes keep it).
/// A folder holding a single `.wasm`, `.wat` or `.so` file is a checker
/// module of our responder ABI rather than a program to build.
fn find_validator(
    root: &Path,
    format: Format,
    custom: bool,
) -> Result<ValidatorSpec, PackageError> {
    let single = root.join("output_validator");
    let legacy = root.join("output_validators");
    let source = if single.is_dir() {
        Some(single)
    } else if legacy.is_dir() {
        let entries = sorted_entries(&legacy)?;
        match entries.len() {
            0 => None,
            1 => Some(entries[0].clone()),
            _ => {
                return Err(PackageError::at(
                    &legacy,
                    "holds more than one validator; this judge runs exactly one",
                ))
            }
        }
    } else {
        None
    };
    let Some(source) = source else {
        if custom && format == Format::KattisLegacy {
            return Err(PackageError::at(
                &root.join("problem.yaml"),
                "validation is custom but output_validators/ holds no validator",
            ));
        }
        return Ok(ValidatorSpec::Default);
    };
    if format == Format::KattisLegacy && !custom {
        return Err(PackageError::at(
            &source,
            "an output validator, but problem.yaml says validation: default (say custom)",
        ));
    }
    let files = if source.is_dir() {
        sorted_entries(&source)?
    } else {
        vec![source.clone()]
    };
    if let [one] = files.as_slice() {
        let ext = one.extension().and_then(|e| e.to_str()).unwrap_or("");
        let kind = match ext {
            "wasm" | "wat" => Some(PluginKind::Wasm),
            "so" => Some(PluginKind::Native),
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok(ValidatorSpec::Module {
                kind,
                path: one.clone(),
            });
        }
    }
    Ok(ValidatorSpec::Program {
        source,
        include: Vec::new(),
        protocol: Protocol::Kattis,
        language: None,
    })
}

/// A folder's entries, sorted by name (byte order, as the format says),
/// hidden files left out.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, PackageError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PackageError::at(dir, format!("cannot read it: {e}")))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

struct DataReader<'a> {
    format: Format,
    problem_flags: Vec<String>,
    groups: Vec<Group>,
    tests: Vec<TestCase>,
    notes: &'a mut Vec<String>,
}

impl DataReader<'_> {
    /// The group file of `dir`, if any (test_group.yaml, or testdata.yaml).
    fn group_yaml(&self, dir: &Path) -> Result<GroupYaml, PackageError> {
        for name in ["test_group.yaml", "testdata.yaml"] {
            let f = dir.join(name);
            if f.exists() {
                return read_yaml(&f);
            }
        }
        Ok(GroupYaml::default())
    }

    fn has_group_yaml(dir: &Path) -> bool {
        dir.join("test_group.yaml").exists() || dir.join("testdata.yaml").exists()
    }

    /// Read `dir` (a group, or a plain folder of the group `group`).
    fn dir(
        &mut self,
        dir: &Path,
        name: &str,
        parent: usize,
        inherited: &GroupYaml,
        top: bool,
    ) -> Result<(), PackageError> {
        let own = self.group_yaml(dir)?;
        let yaml = own.over(inherited);
        // 2025-09: only sample, secret and folders with test_group.yaml are
        // groups; other folders just hold tests.
        let is_group = top || self.format != Format::Kattis2025 || Self::has_group_yaml(dir);
        let group = if is_group {
            let grading = self.grading(name, &yaml)?;
            self.groups.push(Group {
                name: name.to_string(),
                parent: Some(parent),
                grading,
            });
            self.groups.len() - 1
        } else {
            parent
        };
        let sample = name == "sample" || name.starts_with("sample/");
        let entries = sorted_entries(dir)?;
        for p in &entries {
            let file = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let kind = std::fs::symlink_metadata(p).map(|m| m.file_type());
            if kind.as_ref().is_ok_and(|k| k.is_dir()) {
                if !file.ends_with(".files") {
                    self.dir(p, &format!("{name}/{file}"), group, &yaml, false)?;
                }
                continue;
            }
            if kind.as_ref().is_ok_and(|k| k.is_symlink()) && p.is_dir() {
                return Err(PackageError::at(
                    p,
                    "a symbolic link to a folder: tests are not looked for through links",
                ));
            }
            let Some(stem) = file.strip_suffix(".in") else {
                continue;
            };
            let answer = p.with_extension("ans");
            // Regular files (or links to them): a FIFO or a device would
            // hang or flood the judge reading it.
            if !std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
                return Err(PackageError::at(p, "not a regular file"));
            }
            if !answer.exists() {
                return Err(PackageError::at(
                    p,
                    format!("has no answer file {stem}.ans beside it"),
                ));
            }
            if !std::fs::metadata(&answer).is_ok_and(|m| m.is_file()) {
                return Err(PackageError::at(&answer, "not a regular file"));
            }
            let mut args = yaml.args.clone().unwrap_or_default();
            let mut validator_args = self.problem_flags.clone();
            if let Some(a) = yaml.output_validator_args.as_ref() {
                validator_args.extend(a.words());
            } else if let Some(f) = &yaml.output_validator_flags {
                validator_args.extend(f.split_whitespace().map(String::from));
            }
            let args_file = p.with_extension("args");
            if args_file.is_file() {
                let text = std::fs::read_to_string(&args_file)
                    .map_err(|e| PackageError::at(&args_file, format!("cannot read it: {e}")))?;
                args = crate::words::split(&text).map_err(|e| PackageError::at(&args_file, e))?;
            }
            let test_yaml = p.with_extension("yaml");
            if test_yaml.is_file() {
                let t: TestYaml = read_yaml(&test_yaml)?;
                if let Some(a) = t.args {
                    args = a;
                }
                if let Some(a) = t.output_validator_args {
                    validator_args = self.problem_flags.clone();
                    validator_args.extend(a.words());
                }
            }
            let files = p.with_extension("files");
            self.tests.push(TestCase {
                name: format!("{name}/{stem}"),
                input: p.clone(),
                answer,
                args,
                validator_args,
                files: files.is_dir().then_some(files),
                group,
                sample,
                points: None,
            });
        }
        Ok(())
    }

    /// The grading rules of group `name` from its (inherited) yaml.
    fn grading(&mut self, name: &str, y: &GroupYaml) -> Result<Grading, PackageError> {
        let new_keys =
            y.max_score.is_some() || y.score_aggregation.is_some() || y.scoring.is_some();
        if self.format == Format::Kattis2025 || (self.format == Format::Kattis2023 && new_keys) {
            let in_secret = name == "secret";
            let max_value = y
                .max_score
                .clone()
                .or_else(|| y.scoring.as_ref().and_then(|s| s.score.clone()));
            let max_score = match max_value {
                Some(serde_yaml_ng::Value::String(s)) if s == "unbounded" => None,
                Some(v) => Some(v.as_f64().ok_or_else(|| {
                    PackageError(format!(
                        "group {name}: max_score must be a number or unbounded"
                    ))
                })?),
                None if in_secret => Some(100.0),
                None => None,
            };
            let agg = y
                .score_aggregation
                .clone()
                .or_else(|| y.scoring.as_ref().and_then(|s| s.aggregation.clone()));
            let aggregation = match agg.as_deref() {
                Some("sum") => Aggregation::Sum,
                Some("min") => Aggregation::Min,
                Some("pass-fail") => Aggregation::PassFail,
                None if in_secret => Aggregation::Sum,
                None => Aggregation::PassFail,
                Some(o) => {
                    return Err(PackageError(format!(
                        "group {name}: score_aggregation {o:?} (expected pass-fail, sum or min)"
                    )))
                }
            };
            let require_pass = match &y.require_pass {
                None => vec![],
                Some(OneOrMany::One(s)) => vec![s.clone()],
                Some(OneOrMany::Many(l)) => l.clone(),
            };
            return Ok(Grading::Aggregate {
                max_score,
                aggregation,
                require_pass,
            });
        }
        let mut verdict = VerdictMode::WorstError;
        let mut score = ScoreMode::Sum;
        let (mut ignore_sample, mut any) = (false, false);
        for f in y.grader_flags.as_deref().unwrap_or("").split_whitespace() {
            match f {
                "worst_error" => verdict = VerdictMode::WorstError,
                "first_error" => verdict = VerdictMode::FirstError,
                "always_accept" => verdict = VerdictMode::AlwaysAccept,
                "sum" => score = ScoreMode::Sum,
                "avg" => score = ScoreMode::Avg,
                "min" => score = ScoreMode::Min,
                "max" => score = ScoreMode::Max,
                "ignore_sample" => ignore_sample = true,
                "accept_if_any_accepted" => any = true,
                _ => {
                    return Err(PackageError(format!(
                        "group {name}: unknown grader flag {f:?}"
                    )))
                }
            }
        }
        if y.grading
            .as_ref()
            .is_some_and(|g| g.as_str() == Some("custom"))
        {
            return Err(PackageError(format!(
                "group {name}: grading: custom (a grader program) is not supported"
            )));
        }
        let range = match &y.range {
            None => (f64::NEG_INFINITY, f64::INFINITY),
            Some(r) => {
                let v: Vec<f64> = r
                    .split_whitespace()
                    .map(|w| w.trim_start_matches('+').parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        PackageError(format!("group {name}: range {r:?} is not two numbers"))
                    })?;
                match v[..] {
                    [a, b] => (a, b),
                    _ => {
                        return Err(PackageError(format!(
                            "group {name}: range {r:?} is not two numbers"
                        )))
                    }
                }
            }
        };
        let on_reject_continue = match y.on_reject.as_deref() {
            None | Some("break") => false,
            Some("continue") => true,
            Some(o) => {
                return Err(PackageError(format!(
                    "group {name}: on_reject {o:?} (expected break or continue)"
                )))
            }
        };
        Ok(Grading::Legacy {
            on_reject_continue,
            verdict,
            score,
            ignore_sample: ignore_sample && name == "data",
            accept_if_any_accepted: any,
            accept_score: y.accept_score.unwrap_or(1.0),
            reject_score: y.reject_score.unwrap_or(0.0),
            range,
        })
    }
}

/// The package's own submissions, by folder, with DOMjudge's
/// `@EXPECTED_RESULTS@:` comments taking precedence.
fn submissions(root: &Path, notes: &mut Vec<String>) -> Result<Vec<Expected>, PackageError> {
    let dir = root.join("submissions");
    if !dir.is_dir() {
        return Ok(vec![]);
    }
    if dir.join("submissions.yaml").exists() {
        notes.push(
            "submissions/submissions.yaml is not read: each folder's default rule applies".into(),
        );
    }
    let mut out = Vec::new();
    for folder in sorted_entries(&dir)? {
        if !folder.is_dir() {
            continue;
        }
        let fname = folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let verdicts = match folder_verdicts(&fname) {
            Some(v) => v,
            None => {
                notes.push(format!(
                    "submissions/{fname}/ is not a folder this judge knows; not judged"
                ));
                continue;
            }
        };
        for entry in sorted_entries(&folder)? {
            let files = super::submission_files(&entry)?;
            let rel = entry
                .strip_prefix(root)
                .unwrap_or(&entry)
                .display()
                .to_string();
            let (verdicts, why) = match expected_results(&files)? {
                Some(v) => (v, "its @EXPECTED_RESULTS@ comment".to_string()),
                None => (verdicts.clone(), format!("the folder {fname}/")),
            };
            out.push(Expected {
                name: rel,
                files,
                language: None,
                verdicts,
                why,
                accepted: fname == "accepted",
            });
        }
    }
    Ok(out)
}

/// The verdicts a submissions/ folder allows as the final one.
pub fn folder_verdicts(name: &str) -> Option<Vec<Verdict>> {
    use Verdict::*;
    Some(match name {
        "accepted" | "partially_accepted" => vec![AC],
        "wrong_answer" => vec![WA, PE],
        // The format has no ILE: a program that waits past the wall limit
        // is too slow all the same.
        "time_limit_exceeded" => vec![TLE, ILE],
        // The format has no MLE: running out of memory is a run-time error.
        "run_time_error" => vec![RE, MLE],
        "memory_limit_exceeded" => vec![MLE],
        "output_limit_exceeded" => vec![OLE],
        "compile_error" | "compiler_error" => vec![CE],
        "rejected" => vec![WA, PE, TLE, ILE, RE, MLE, OLE, CE],
        "brute_force" => vec![AC, TLE, ILE, RE, MLE],
        _ => return None,
    })
}

/// DOMjudge's `@EXPECTED_RESULTS@: CORRECT, TIMELIMIT` in a source file.
fn expected_results(files: &[PathBuf]) -> Result<Option<Vec<Verdict>>, PackageError> {
    const TAG: &str = "@EXPECTED_RESULTS@:";
    let mut found = None;
    for f in files {
        let Ok(text) = std::fs::read(f) else { continue };
        let text = String::from_utf8_lossy(&text);
        let Some(i) = text.to_ascii_uppercase().find(TAG) else {
            continue;
        };
        let line = text[i + TAG.len()..].lines().next().unwrap_or("");
        let mut v = Vec::new();
        for word in line
            .split(',')
            .map(|w| w.trim().to_ascii_uppercase().replace('_', "-"))
        {
            let w = word.trim_end_matches("*/").trim();
            v.extend(match w {
                "CORRECT" | "ACCEPTED" => vec![Verdict::AC],
                "WRONG-ANSWER" | "NO-OUTPUT" => vec![Verdict::WA, Verdict::PE],
                "TIMELIMIT" | "TIME-LIMIT-EXCEEDED" => vec![Verdict::TLE, Verdict::ILE],
                "RUN-ERROR" | "RUN-TIME-ERROR" => vec![Verdict::RE, Verdict::MLE],
                "MEMORY-LIMIT" => vec![Verdict::MLE],
                "OUTPUT-LIMIT" => vec![Verdict::OLE],
                "COMPILER-ERROR" => vec![Verdict::CE],
                "" => vec![],
                other => {
                    return Err(PackageError::at(
                        f,
                        format!("@EXPECTED_RESULTS@: unknown result {other:?}"),
                    ))
                }
            });
        }
        found = Some(v);
    }
    Ok(found)
}
