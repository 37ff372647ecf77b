//! Checking a batch program's output against the test's answer, once the
//! program has ended normally (exit 0 within every limit; any other
//! verdict stays as it is). Uses the session library as any caller would:
//! the session captures the output, a checker judges it.
//!
//! Kinds: `diff`, the Kattis default output validator's rules (diff.rs);
//! `exec`, a checker process of testlib's or Kattis' kind (exec.rs);
//! `wasi`, the same checker compiled to a WASI command (wasi.rs).

pub mod diff;
pub mod exec;
pub mod wasi;

use std::path::PathBuf;

use serde::Serialize;

use crate::verdict::{Judgement, Verdict};

/// Who checks the output, against which answer.
#[derive(Debug, Clone)]
pub enum Checker {
    /// The default output validator's rules, with its flags.
    Diff { answer: PathBuf, flags: diff::Flags },
    /// A checker process.
    Exec {
        answer: PathBuf,
        checker: exec::ExecChecker,
    },
    /// A checker compiled to a WASI command.
    Wasi {
        answer: PathBuf,
        checker: wasi::WasiChecker,
    },
}

impl Checker {
    pub fn answer(&self) -> &std::path::Path {
        match self {
            Checker::Diff { answer, .. }
            | Checker::Exec { answer, .. }
            | Checker::Wasi { answer, .. } => answer,
        }
    }

    /// Judge `output` against the answer's bytes.
    pub fn check(&self, answer: &[u8], output: &[u8]) -> CheckerReport {
        match self {
            Checker::Diff { flags, .. } => match diff::compare(answer, output, flags) {
                Ok(()) => CheckerReport {
                    kind: "diff",
                    verdict: Verdict::AC,
                    message: "the output matches the answer".into(),
                    points: None,
                    stderr: None,
                    difference: None,
                },
                Err(m) => CheckerReport {
                    kind: "diff",
                    verdict: Verdict::WA,
                    message: m.message.clone(),
                    points: None,
                    stderr: None,
                    difference: Some(m),
                },
            },
            Checker::Wasi { answer, checker } => {
                CheckerReport::of_program("wasi", checker.judge(answer, output))
            }
            Checker::Exec { answer, checker } => {
                CheckerReport::of_program("exec", checker.judge(answer, output))
            }
        }
    }
}

impl CheckerReport {
    /// The report of a checker program (a process or a WASI command): its
    /// judgement and its stderr.
    fn of_program(kind: &'static str, (j, stderr): (Judgement, Option<String>)) -> Self {
        CheckerReport {
            kind,
            verdict: j.verdict,
            message: j.message,
            points: j.points,
            stderr,
            difference: None,
        }
    }
}

/// What the checker said, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CheckerReport {
    /// "diff", "exec" or "wasi".
    pub kind: &'static str,
    pub verdict: Verdict,
    pub message: String,
    /// A score, where the checker's protocol gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    /// A checker's stderr (exec and wasi).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Where the output first differs from the answer (diff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<diff::Mismatch>,
}
