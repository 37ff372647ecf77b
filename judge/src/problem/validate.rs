//! Who judges a test's output, built once per problem, and how each kind is
//! asked: the default validator's rules (checker/diff.rs), a Kattis output
//! validator or a testlib checker (checker/exec.rs), testlib's standard
//! checkers (natively), or a checker module of our responder ABI.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::build::{self, BuildLimits, Tool};
use super::language::Languages;
use super::{PackageError, Problem, ValidatorSpec};
use crate::checker::{diff, exec::ExecChecker, wasi::WasiChecker};
use crate::limits::{ResponderLimits, MIB};
use crate::responder::{PluginKind, Protocol};
use crate::verdict::{Judgement, Verdict};

/// A validator ready to run.
#[derive(Debug)]
pub enum Validator {
    Default,
    Program {
        tool: Tool,
        protocol: Protocol,
    },
    Std(&'static str),
    Module {
        kind: PluginKind,
        path: PathBuf,
    },
    /// The validator program compiled to a WASI command.
    Wasi {
        path: PathBuf,
        protocol: Protocol,
    },
}

/// What a validator left besides its verdict.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Feedback {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_message: Option<String>,
    /// score.txt
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// score_multiplier.txt
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_multiplier: Option<f64>,
}

impl Feedback {
    /// Read a Kattis feedback folder.
    pub fn read(dir: &Path) -> Result<Feedback, String> {
        let text = |name: &str| {
            crate::responder::exec::read_capped(&dir.join(name), 64 * 1024)
                .map(|s| s.trim_end().to_string())
                .filter(|s| !s.is_empty())
        };
        let number = |name: &str| -> Result<Option<f64>, String> {
            match text(name) {
                None => Ok(None),
                Some(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| format!("the validator's {name} holds {s:?}, not a number")),
            }
        };
        Ok(Feedback {
            judge_message: text("judgemessage.txt"),
            team_message: text("teammessage.txt"),
            score: number("score.txt")?,
            score_multiplier: number("score_multiplier.txt")?,
        })
    }
}

/// Build what `spec` names (a failure to build is the package's: exit 2).
pub fn prepare(
    spec: &ValidatorSpec,
    problem: &Problem,
    langs: &Languages,
    isolation: crate::session::IsolationLevel,
) -> Result<Validator, PackageError> {
    Ok(match spec {
        ValidatorSpec::Default => Validator::Default,
        ValidatorSpec::TestlibStd(name) => Validator::Std(name),
        ValidatorSpec::Module {
            kind: PluginKind::Wasm,
            path,
        } if is_wasi(path)? => Validator::Wasi {
            path: path.clone(),
            protocol: Protocol::Kattis,
        },
        ValidatorSpec::Module { kind, path } => Validator::Module {
            kind: *kind,
            path: path.clone(),
        },
        ValidatorSpec::Program {
            source,
            include,
            protocol,
            language,
        } => {
            let lang = match language {
                Some(id) => Some(langs.get(id).ok_or_else(|| {
                    PackageError::at(source, format!("its language {id} is not configured"))
                })?),
                None => None,
            };
            let limits = BuildLimits {
                time: problem.limits.compile_time,
                memory: problem.limits.compile_memory,
            };
            let tool =
                build::tool(source, include, lang, langs, limits, isolation).map_err(|e| {
                    PackageError::at(source, format!("the validator does not build: {e}"))
                })?;
            Validator::Program {
                tool,
                protocol: *protocol,
            }
        }
    })
}

/// Whether the module at `path` is a WASI command (a validator program
/// compiled to wasm32-wasi) rather than a module of the event ABI.
fn is_wasi(path: &Path) -> Result<bool, PackageError> {
    use crate::responder::plugin::wasm::{kind_of, ModuleKind};
    kind_of(path)
        .map(|k| k == ModuleKind::WasiCommand)
        .map_err(|e| PackageError::at(path, format!("the validator module {e}")))
}

/// The limits of a validator process.
pub fn limits(problem: &Problem) -> ResponderLimits {
    let l = &problem.limits;
    ResponderLimits {
        cpu_time: l.validation_time,
        wall_time: l.validation_time + l.time.unwrap_or_default() * 3,
        memory: l.validation_memory,
        output: l.validation_output.max(MIB),
        stderr: MIB,
        processes: 64,
    }
}

/// Check a batch output (`output`, the program's stdout) of a test: the
/// judgement and what the validator left in `feedback` (an existing
/// folder, for validator programs).
pub fn check(
    v: &Validator,
    problem: &Problem,
    input: &Path,
    answer: &Path,
    output: &[u8],
    args: &[String],
    feedback: &Path,
) -> (Judgement, Feedback) {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    match v {
        Validator::Default => {
            let r = (|| -> Result<Judgement, String> {
                let flags = diff::Flags::parse(args.iter().map(String::as_str))?;
                Ok(match diff::compare(&read(answer)?, output, &flags) {
                    Ok(()) => Judgement::new(Verdict::AC, "the output matches the answer"),
                    Err(m) => Judgement::new(Verdict::WA, m.message),
                })
            })();
            (r.unwrap_or_else(Judgement::failed), Feedback::default())
        }
        Validator::Std(name) => {
            let r = (|| -> Result<Judgement, String> {
                Ok(super::testlib_std::check(
                    name,
                    &read(input)?,
                    output,
                    &read(answer)?,
                ))
            })();
            (r.unwrap_or_else(Judgement::failed), Feedback::default())
        }
        Validator::Program { tool, protocol } => with_feedback(
            ExecChecker {
                argv: tool.argv.clone(),
                protocol: *protocol,
                limits: limits(problem),
                input: Some(input.to_path_buf()),
                flags: args.to_vec(),
                feedback_dir: Some(feedback.to_path_buf()),
            }
            .judge(answer, output),
            feedback,
        ),
        Validator::Wasi { path, protocol } => with_feedback(
            WasiChecker {
                path: path.clone(),
                args: Vec::new(),
                protocol: *protocol,
                limits: limits(problem),
                input: Some(input.to_path_buf()),
                flags: args.to_vec(),
                feedback_dir: Some(feedback.to_path_buf()),
            }
            .judge(answer, output),
            feedback,
        ),
        Validator::Module { .. } => (
            Judgement::failed("a checker module judges as the program runs, not after"),
            Feedback::default(),
        ),
    }
}

/// A validator program's judgement with what it left in `feedback`, and,
/// for its own failure, what its stderr said.
fn with_feedback(
    (mut j, stderr): (Judgement, Option<String>),
    feedback: &Path,
) -> (Judgement, Feedback) {
    let fb = match Feedback::read(feedback) {
        Ok(f) => f,
        Err(e) => return (Judgement::failed(e), Feedback::default()),
    };
    if j.verdict == Verdict::JE {
        // What it said last, for a Python traceback; else its first line.
        let said = stderr.as_deref().and_then(|s| {
            crate::responder::protocol::python_crash(s)
                .or_else(|| s.lines().find(|l| !l.trim().is_empty()).map(String::from))
        });
        if let Some(line) = said {
            j.message = format!("{}; its stderr says: {line}", j.message);
        }
    }
    (j, fb)
}
