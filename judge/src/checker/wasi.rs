//! A checker that is a WASI command: the same testlib checker or Kattis
//! output validator as [`super::exec`], compiled to `wasm32-wasi` and run
//! untrusted in wasmtime after the program, with the responder limits.
//!
//! - testlib and plain: `M ARGS /input /output /answer FLAGS`, stdin empty;
//! - Kattis: `M ARGS /input /answer /feedback/ FLAGS`, the program's
//!   output on stdin.
//!
//! Its stdout goes nowhere. Nothing waits on the program here, so the run
//! is polled straight to its end; its time budget bounds it.

use std::path::{Path, PathBuf};

use crate::limits::ResponderLimits;
use crate::responder::wasi::{self, machine::Ended, Layout};
use crate::responder::Protocol;
use crate::verdict::Judgement;

/// A WASI checker and how to read it.
#[derive(Debug, Clone)]
pub struct WasiChecker {
    pub path: PathBuf,
    /// Words after its name, before the files.
    pub args: Vec<String>,
    pub protocol: Protocol,
    pub limits: ResponderLimits,
    /// The test's input; an empty file when there is none.
    pub input: Option<PathBuf>,
    /// Words after the files (Kattis' `validator_flags`).
    pub flags: Vec<String>,
    /// Kattis: leave what it writes in `feedback/` here, for the caller.
    pub feedback_dir: Option<PathBuf>,
}

impl WasiChecker {
    /// Run it on `output`, the program's stdout, against `answer`: its
    /// judgement and its stderr.
    pub fn judge(&self, answer: &Path, output: &[u8]) -> (Judgement, Option<String>) {
        match self.run(answer, output) {
            Ok(j) => j,
            Err(e) => (
                Judgement::failed(format!(
                    "the checker {} cannot be run: {e}",
                    self.path.display()
                )),
                None,
            ),
        }
    }

    fn run(&self, answer: &Path, output: &[u8]) -> Result<(Judgement, Option<String>), String> {
        let kattis = self.protocol == Protocol::Kattis;
        // Kattis reads the output on stdin; the others as /output.
        let as_file = if kattis { Vec::new() } else { output.to_vec() };
        let layout = Layout::new(
            self.protocol,
            self.input.as_deref(),
            Some(answer),
            Some(as_file),
            self.feedback_dir.as_deref(),
            self.limits.output,
        )?;
        let feedback = layout.feedback;
        let mut shared = layout.shared(&self.path, &self.args, &self.flags, &self.limits);
        // Its stdout goes nowhere: dropped at every turn, never a limit.
        shared.stdout_max = u64::MAX;
        if kattis {
            shared.feed(output);
        }
        shared.stdin_eof = true;
        let (mut m, _) = wasi::machine(&self.path, shared, &self.limits)?;
        let end = loop {
            if let Some(end) = m.poll() {
                break end.clone();
            }
            // It yielded at a tick, or its stdout is full: nobody reads it.
            let mut s = m.lock();
            s.stdout.clear();
            s.stdout_at = 0;
        };
        let s = m.lock();
        let stderr = Some(String::from_utf8_lossy(&s.stderr).into_owned());
        if let (Some(dir), Some(fb), Ended::Exit(_)) = (&self.feedback_dir, feedback, &end) {
            wasi::leave_feedback(&s, fb, dir)
                .map_err(|e| format!("leaving its files in {}: {e}", dir.display()))?;
        }
        Ok((wasi::judgement("checker", self.protocol, &end, &s), stderr))
    }
}
