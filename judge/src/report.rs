//! The result of a session, serialized as `judge run --json` prints it.
//! docs/result-schema.md describes every field.

use serde::Serialize;

use crate::precedence::{Precedence, Side};
use crate::responder::ResponderReport;
use crate::sandbox::Mechanism;
use crate::verdict::Verdict;

/// The rule of a session the judge stopped because it got SIGINT, SIGTERM
/// or SIGHUP.
pub const RULE_INTERRUPTED: &str = "the judge was interrupted";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// One sentence: why this verdict.
    pub message: String,
    /// The exit code of the program's main process; null if a signal ended it.
    pub exit_code: Option<i32>,
    /// The signal that ended it; null if it exited.
    pub signal: Option<i32>,
    pub signal_name: Option<String>,
    /// CPU time of all its processes.
    pub cpu_time_ms: u64,
    /// From start until its main process ended (or was killed).
    pub wall_time_ms: u64,
    /// Peak memory of its tree; null where nothing could measure it.
    pub memory_kib: Option<u64>,
    /// Bytes it wrote to stdout (null with `--direct`, which bypasses the judge).
    pub stdout_bytes: Option<u64>,
    pub stderr_bytes: Option<u64>,
    /// Bytes written into its stdin (null with `--direct`).
    pub stdin_bytes: Option<u64>,
    /// Its stdout and stderr up to their caps (UTF-8, invalid bytes replaced;
    /// the exact bytes are in the `*_base64` field when they are not UTF-8).
    pub stdout: Captured,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_base64: Option<Base64>,
    /// Only the first bytes of stdout are in the JSON (see
    /// [`Report::limit_json_streams`]); `stdout_bytes` counts them all.
    pub stdout_truncated: bool,
    pub stderr: Captured,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_base64: Option<Base64>,
    pub stderr_truncated: bool,
    /// The program's own outcome before the responder's judgement was
    /// combined with it: null when it did nothing wrong.
    pub program_verdict: Option<Verdict>,
    pub program_message: Option<String>,
    /// The responder's side: its verdict, message and raw figures.
    pub responder: ResponderReport,
    /// Who ended first: "program", "responder", or null.
    pub first_to_finish: Option<Side>,
    pub precedence: Precedence,
    /// The rule of the precedence policy that decided.
    pub rule: String,
    /// The program closed its stdin while bytes were still being sent.
    pub stdin_closed_early: bool,
    pub limits: LimitsReport,
    pub isolation: Isolation,
    /// The CPUs the program, responder and loop were placed on; null if unpinned.
    pub cpus: Option<Vec<usize>>,
    /// Peak memory of the judge process itself.
    pub judge_max_rss_kib: u64,
    /// Problems that did not affect the verdict (a transcript that could
    /// not be written completely, say).
    pub warnings: Vec<String>,
    /// System calls the sandbox refused to the program, with counts.
    pub refused_syscalls: Vec<Refused>,
    /// The work directory as copied out (`--keep-workdir`); a copy that
    /// failed is in `warnings`.
    pub workdir_kept: Option<KeptReport>,
    /// What the output checker said (`--checker`, or `--answer` without a
    /// responder); null without one, or when the program did not end
    /// normally and its output was not checked.
    pub checker: Option<crate::checker::CheckerReport>,
}

/// What `--keep-workdir` copied.
#[derive(Debug, Clone, Serialize)]
pub struct KeptReport {
    pub path: std::path::PathBuf,
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Further names of files already copied, made hard links in the copy.
    pub links: u64,
    /// Entries not copied (symlinks, FIFOs, devices, too deep), with why.
    pub skipped: Vec<String>,
    /// The copy stopped at its budget (bytes or time) before the end: why.
    /// Also among the warnings.
    pub stopped: Option<String>,
}

/// One refused system call.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub name: String,
    pub count: u64,
}

/// Each limit, and what enforced and measured it.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsReport {
    pub cpu_time: LimitReport,
    pub wall_time: LimitReport,
    pub memory: LimitReport,
    pub stdout: LimitReport,
    pub stderr: LimitReport,
    pub processes: LimitReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct LimitReport {
    /// Milliseconds for times, bytes for sizes, a count for processes.
    pub limit: u64,
    pub enforced_by: Vec<Enforcer>,
    pub measured_by: Enforcer,
}

/// A mechanism that enforces or measures a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcer {
    CgroupV1,
    CgroupV2,
    Rlimit,
    /// The event loop's own clock or byte count.
    Loop,
    /// The exit status (rusage) or /proc.
    Proc,
    None,
}

impl From<Mechanism> for Enforcer {
    fn from(m: Mechanism) -> Self {
        match m {
            Mechanism::CgroupV1 => Enforcer::CgroupV1,
            Mechanism::CgroupV2 => Enforcer::CgroupV2,
            Mechanism::Rlimit => Enforcer::Rlimit,
            Mechanism::Proc => Enforcer::Proc,
            Mechanism::None => Enforcer::None,
        }
    }
}

/// The isolation actually used for the program.
#[derive(Debug, Clone, Serialize)]
pub struct Isolation {
    pub level: crate::session::IsolationLevel,
    /// What the program saw of the file system (`None`: the host's).
    pub file_system: Option<String>,
    pub network: crate::sandbox::Network,
    /// The user it ran as (`None`: the judge's own, unchanged).
    pub uid: Option<u32>,
    /// Every capability dropped, no_new_privs set.
    pub capabilities_dropped: bool,
    /// The system call filter was installed.
    pub seccomp: bool,
    /// The program ran below an init of ours in a PID namespace of its own.
    pub pid_namespace: bool,
    /// A user namespace was needed (the judge is not root).
    pub user_namespace: bool,
    pub memory: Enforcer,
    pub processes: Enforcer,
    pub cpu_accounting: Enforcer,
}

impl Report {
    /// The judge stopped the session because it was told to stop.
    pub fn interrupted(&self) -> bool {
        self.rule == RULE_INTERRUPTED
    }
}

impl Report {
    /// Put at most `bytes` of each stream into the JSON (the report keeps
    /// them whole): a grader that wants the verdict of a program that wrote
    /// 32 MiB of zero bytes would otherwise read a 200 MB object.
    pub fn limit_json_streams(&mut self, bytes: usize) {
        self.stdout = self.stdout.limited(bytes);
        self.stdout_base64 = self.stdout.base64();
        self.stdout_truncated = self.stdout.truncated();
        self.stderr = self.stderr.limited(bytes);
        self.stderr_base64 = self.stderr.base64();
        self.stderr_truncated = self.stderr.truncated();
    }
}

/// A stream as the program wrote it, up to its cap. In JSON it is text,
/// each invalid UTF-8 sequence replaced by U+FFFD as `String::from_utf8_lossy`
/// does, written piece by piece as it is encoded: 64 MiB of invalid bytes
/// would otherwise become a 192 MiB string, then a 277 MiB JSON string,
/// all in the judge's memory at once.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    bytes: std::sync::Arc<Vec<u8>>,
    /// How much of it the JSON shows (all, unless limited).
    shown: usize,
}

impl Captured {
    pub fn new(bytes: Vec<u8>) -> Captured {
        let shown = bytes.len();
        Captured {
            bytes: std::sync::Arc::new(bytes),
            shown,
        }
    }

    /// All the bytes, whatever the JSON shows.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The same stream, its JSON showing at most `max` bytes, cut before a
    /// character's first byte.
    pub fn limited(&self, max: usize) -> Captured {
        let mut shown = self.bytes.len().min(max);
        // Back to a character's first byte (at most three steps: a UTF-8
        // character has at most three continuation bytes).
        for _ in 0..3 {
            if shown == 0 || shown >= self.bytes.len() || self.bytes[shown] & 0xC0 != 0x80 {
                break;
            }
            shown -= 1;
        }
        Captured {
            bytes: self.bytes.clone(),
            shown,
        }
    }

    /// The JSON shows less than all of it.
    pub fn truncated(&self) -> bool {
        self.shown < self.bytes.len()
    }

    fn shown(&self) -> &[u8] {
        &self.bytes[..self.shown]
    }

    /// The text, invalid sequences replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.bytes).is_ok()
    }

    /// The exact bytes the JSON shows, in base64, where its text cannot
    /// carry them.
    pub fn base64(&self) -> Option<Base64> {
        std::str::from_utf8(self.shown()).is_err().then(|| Base64 {
            bytes: self.bytes.clone(),
            len: self.shown,
        })
    }
}

impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for chunk in self.shown().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Captured {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The bytes of a [`Captured`] stream in base64, encoded as it is written.
#[derive(Debug, Clone)]
pub struct Base64 {
    bytes: std::sync::Arc<Vec<u8>>,
    len: usize,
}

impl std::fmt::Display for Base64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole groups of three bytes per piece: padding only at the end.
        for piece in self.bytes[..self.len].chunks(3 << 12) {
            f.write_str(&crate::transcript::base64(piece))?;
        }
        Ok(())
    }
}

impl Serialize for Base64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed text and base64 are what the whole-string conversions
    /// give, for valid, invalid and cut-off UTF-8 alike.
    #[test]
    fn captured_streams_serialize_as_the_whole_strings_would() {
        let mut long = vec![b'a'; 20_000];
        long.extend_from_slice(&[0xff, 0xe2, 0x82, b'x', 0xe2, 0x82, 0xac, 0xf0, 0x9f]);
        for bytes in [b"".to_vec(), b"plain\n".to_vec(), vec![0xff; 5], long] {
            let c = Captured::new(bytes.clone());
            let json = serde_json::to_string(&c).unwrap();
            let want = serde_json::to_string(&String::from_utf8_lossy(&bytes)).unwrap();
            assert_eq!(json, want);
            match c.base64() {
                Some(b) => {
                    let want = serde_json::to_string(&crate::transcript::base64(&bytes)).unwrap();
                    assert_eq!(serde_json::to_string(&b).unwrap(), want);
                }
                None => assert!(std::str::from_utf8(&bytes).is_ok()),
            }
        }
    }
}
