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
    pub stdout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_base64: Option<String>,
    pub stderr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_base64: Option<String>,
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
