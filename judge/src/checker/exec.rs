//! A checker process: the organiser's program that reads the test's files
//! and the program's output and says AC or WA, as testlib checkers and
//! Kattis output validators do. It runs after the program, as a session of
//! its own (no jail, as interactors: it needs the test's files) with the
//! responder limits, and its exit status means what an interactor's
//! means under the same protocol.
//!
//! - testlib: `CMD ARGS input output answer FLAGS`, message on stderr;
//! - Kattis: `CMD ARGS input answer feedback_dir/ FLAGS < output`, message
//!   in `feedback_dir/judgemessage.txt`;
//! - plain: `CMD ARGS input output answer FLAGS`, exit 0 AC, anything else
//!   WA.
//!
//! FLAGS are `--validator-flags`, Kattis' `validator_flags`.

use std::path::{Path, PathBuf};

use crate::limits::{Limits, ResponderLimits};
use crate::responder::exec::{read_capped, TempDir};
use crate::responder::Protocol;
use crate::session::{IsolationLevel, ResponderChoice, Session};
use crate::verdict::{Judgement, Verdict};

/// A checker process and how to read it.
#[derive(Debug, Clone)]
pub struct ExecChecker {
    /// The command and its own arguments (the files come after them).
    pub argv: Vec<String>,
    pub protocol: Protocol,
    pub limits: ResponderLimits,
    /// The test's input; an empty file when there is none.
    pub input: Option<PathBuf>,
    /// Words after the files (Kattis' `validator_flags`).
    pub flags: Vec<String>,
    /// Kattis: use this existing folder as the feedback folder and leave
    /// what the checker writes there (`teammessage.txt`, `nextpass.in`)
    /// for the caller. Default: a temporary one.
    pub feedback_dir: Option<PathBuf>,
}

impl ExecChecker {
    /// Run it on `output`, the program's stdout, against `answer`: its
    /// judgement and its stderr.
    pub fn judge(&self, answer: &Path, output: &[u8]) -> (Judgement, Option<String>) {
        match self.run(answer, output) {
            Ok(j) => j,
            Err(e) => (
                Judgement::failed(format!("the checker could not be run: {e}")),
                None,
            ),
        }
    }

    fn run(&self, answer: &Path, output: &[u8]) -> Result<(Judgement, Option<String>), String> {
        let dir = TempDir::new().map_err(|e| format!("a temporary directory: {e}"))?;
        let file = |name: &str, bytes: &[u8]| -> Result<PathBuf, String> {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).map_err(|e| format!("writing {}: {e}", p.display()))?;
            Ok(p)
        };
        let output_file = file("output", output)?;
        let input = match &self.input {
            Some(p) => p.clone(),
            None => file("input", b"")?,
        };
        let feedback = match &self.feedback_dir {
            Some(d) => d.clone(),
            None => dir.path().join("feedback"),
        };
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let (program, own) = self
            .argv
            .split_first()
            .ok_or("the checker command is empty")?;
        let mut args: Vec<String> = own.to_vec();
        let stdin = match self.protocol {
            Protocol::Kattis => {
                if self.feedback_dir.is_none() {
                    std::fs::create_dir(&feedback)
                        .map_err(|e| format!("the feedback folder: {e}"))?;
                }
                args.extend([s(&input), s(answer), format!("{}/", s(&feedback))]);
                ResponderChoice::File(output_file)
            }
            Protocol::Testlib | Protocol::Plain => {
                args.extend([s(&input), s(&output_file), s(answer)]);
                ResponderChoice::Closed
            }
        };
        args.extend(self.flags.iter().cloned());
        let l = &self.limits;
        let report = Session::new(program, args)
            .isolation(IsolationLevel::None)
            .limits(Limits {
                cpu_time: l.cpu_time,
                wall_time: l.wall_time,
                memory: l.memory,
                stdout: l.output,
                stderr: l.stderr,
                processes: l.processes,
                ..Limits::default()
            })
            .responder(stdin)
            .run()
            .map_err(|e| e.to_string())?;
        let stderr = Some(report.stderr.text().into_owned());
        if let Some(v) = report.program_verdict {
            let why = match v {
                Verdict::RE => report.program_message.unwrap_or_default(),
                _ => format!("{v}: {}", report.program_message.unwrap_or_default()),
            };
            // A crash is the checker's; an exit code is its answer.
            if report.exit_code.is_none() || v != Verdict::RE {
                return Ok((
                    Judgement::failed(format!("the checker failed ({why})")),
                    stderr,
                ));
            }
        }
        let code = report.exit_code.unwrap_or(0);
        let (message, score) = match self.protocol {
            Protocol::Kattis => (
                read_capped(&feedback.join("judgemessage.txt"), 64 * 1024).unwrap_or_default(),
                read_capped(&feedback.join("score.txt"), 1024).and_then(|s| s.trim().parse().ok()),
            ),
            _ => (report.stderr.text().into_owned(), None),
        };
        Ok((
            self.protocol
                .judge_exit_of("checker", code, &message, score),
            stderr,
        ))
    }
}
