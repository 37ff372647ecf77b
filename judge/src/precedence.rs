//! Who wins when both sides misbehave: the program's own outcome, the
//! responder's judgement, and the policy that combines them.
//!
//! Pure functions over facts gathered by the driver; docs/verdicts.md has
//! the same rules as tables, and the tests below check every row.

use serde::Serialize;

use crate::responder::Finished;
use crate::sandbox::MemoryStats;
use crate::verdict::Verdict;

/// The policy for combining the program's outcome with the responder's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precedence {
    /// problemtools and DOMjudge: an interactor that finishes first with a
    /// rejection wins; otherwise the program's TLE, then its RE, then the
    /// interactor's verdict.
    #[default]
    Kattis,
    /// Codeforces: whichever side finishes first decides; a limit the
    /// program exceeds counts as finishing at that moment.
    Testlib,
    /// CMS: any failure of the program wins over the interactor.
    Cms,
}

impl std::str::FromStr for Precedence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "kattis" => Ok(Precedence::Kattis),
            "testlib" => Ok(Precedence::Testlib),
            "cms" => Ok(Precedence::Cms),
            _ => Err(format!(
                "unknown precedence {s:?}: expected kattis, testlib or cms"
            )),
        }
    }
}

/// Why the judge killed the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KillReason {
    CpuLimit,
    WallLimit,
    StdoutLimit,
    StderrLimit,
    /// The verdict was decided while it still ran.
    Decided,
    /// The judge itself was told to stop (SIGINT, SIGTERM).
    Interrupted,
    /// The judge or the responder failed.
    JudgeFailure,
    /// It made a system call the sandbox refuses (and the session kills
    /// for that).
    Forbidden,
    /// It and the responder were each asleep waiting for the other, with
    /// nothing on its way between them: nothing could ever happen again.
    Deadlock,
}

/// How the program's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramEnd {
    Exited(i32),
    Signaled(i32),
    Killed(KillReason),
}

/// Everything known about the program when it ended.
#[derive(Debug, Clone)]
pub struct ProgramFacts {
    pub end: ProgramEnd,
    pub cpu_ns: u64,
    pub cpu_limit_ns: u64,
    pub wall_limit_ns: u64,
    /// From its start to its end.
    pub wall_ns: u64,
    pub memory: Option<MemoryStats>,
    pub memory_limit: u64,
    pub stdout_limit: u64,
    pub stderr_limit: u64,
    /// The responder had already ended when the program did.
    pub responder_ended_first: bool,
    /// It wrote nothing since it was last given input (or at all).
    pub waiting_after_input: bool,
    /// When the wall limit struck, it was blocked reading its stdin.
    pub blocked_reading: Option<bool>,
    /// When the wall limit struck, it was running (on a CPU or waiting for
    /// one), not sleeping: it was computing on a machine too busy to give
    /// it the CPU time it wanted.
    pub running_at_wall: bool,
    /// Peak memory from the exit status when no cgroup measured it.
    pub maxrss_kib: Option<u64>,
    /// The first system call refused to it, by name.
    pub forbidden: Option<String>,
    /// The responder decides what its exit code or signal means.
    pub exit_judged: bool,
}

/// The program's own outcome: `None` when it did nothing wrong.
pub fn program_failure(f: &ProgramFacts) -> Option<(Verdict, String)> {
    use KillReason::*;
    let ms = |ns: u64| ns / 1_000_000;
    let over_cpu = f.cpu_ns > f.cpu_limit_ns;
    let tle = || {
        // Killed just past the limit, whole milliseconds would read as no
        // excess at all ("1000 ms, over the limit of 1000 ms").
        let used = if ms(f.cpu_ns) > ms(f.cpu_limit_ns) {
            ms(f.cpu_ns).to_string()
        } else {
            format!("{:.3}", f.cpu_ns as f64 / 1e6)
        };
        (
            Verdict::TLE,
            format!(
                "the program used {used} ms of CPU time, over the limit of {} ms",
                ms(f.cpu_limit_ns)
            ),
        )
    };
    let abnormal = !matches!(f.end, ProgramEnd::Exited(0) | ProgramEnd::Killed(Decided));
    let mem_hit = match f.memory {
        // A peak over the limit can only mean the limit was lifted from
        // inside (a root program rewriting its own cgroup): MLE all the same.
        Some(m) => {
            m.oom_kills > 0
                || (abnormal && m.limit_hits > 0)
                || m.peak_bytes.is_some_and(|p| p > f.memory_limit)
        }
        // No memory cgroup (RLIMIT_AS): an abnormal end whose measured peak
        // came within 5% of the limit is the best evidence there is.
        None => {
            abnormal
                && f.maxrss_kib
                    .is_some_and(|k| k * 1024 >= f.memory_limit / 20 * 19)
        }
    };
    let mle = || {
        let peak = f
            .memory
            .and_then(|m| m.peak_bytes)
            .or(f.maxrss_kib.map(|k| k * 1024))
            .unwrap_or(f.memory_limit);
        (
            Verdict::MLE,
            format!(
                "the program needed more than its memory limit of {} KiB (peak {} KiB)",
                f.memory_limit / 1024,
                peak / 1024
            ),
        )
    };
    match f.end {
        ProgramEnd::Killed(StdoutLimit) => Some((
            Verdict::OLE,
            format!(
                "the program wrote more than {} bytes to stdout",
                f.stdout_limit
            ),
        )),
        ProgramEnd::Killed(StderrLimit) => Some((
            Verdict::OLE,
            format!(
                "the program wrote more than {} bytes to stderr",
                f.stderr_limit
            ),
        )),
        _ if over_cpu => Some(tle()),
        ProgramEnd::Killed(CpuLimit) => Some(tle()),
        ProgramEnd::Signaled(libc::SIGXCPU) => Some(tle()),
        ProgramEnd::Signaled(libc::SIGXFSZ) => Some((
            Verdict::OLE,
            "the program wrote a file larger than it may".to_string(),
        )),
        _ if mem_hit => Some(mle()),
        ProgramEnd::Killed(WallLimit) if f.running_at_wall => Some((
            Verdict::TLE,
            format!(
                "the program was still computing when the wall-time limit of {} ms passed, having had only {} ms of CPU: the machine is too busy for this limit",
                ms(f.wall_limit_ns),
                ms(f.cpu_ns)
            ),
        )),
        ProgramEnd::Killed(WallLimit) => Some((
            Verdict::ILE,
            format!(
                "the program was still running after the wall-time limit of {} ms, using only {} ms of CPU: {}",
                ms(f.wall_limit_ns),
                ms(f.cpu_ns),
                match (f.blocked_reading, f.waiting_after_input) {
                    (Some(true), true) => "it was waiting for input, having written nothing since it last received some; did it forget to flush?",
                    (Some(true), false) => "it was waiting for input that never came",
                    _ => "it was waiting, not computing",
                }
            ),
        )),
        ProgramEnd::Killed(Deadlock) => Some((
            Verdict::ILE,
            format!(
                "the program and the interactor were each waiting for the other, with nothing on \
                 its way between them (ended after {} ms, {} ms of CPU): {}",
                ms(f.wall_ns),
                ms(f.cpu_ns),
                if f.waiting_after_input {
                    "it was waiting for input, having written nothing since it last received some; did it forget to flush?"
                } else {
                    "it was waiting for input that never came"
                }
            ),
        )),
        ProgramEnd::Killed(Forbidden) => Some((
            Verdict::RE,
            format!(
                "the program made a system call the sandbox forbids ({})",
                f.forbidden.as_deref().unwrap_or("unknown")
            ),
        )),
        ProgramEnd::Signaled(libc::SIGSYS) => Some((
            Verdict::RE,
            "the program was killed by SIGSYS: it made a system call of another ABI (int 0x80 or x32), which the sandbox forbids".to_string(),
        )),
        ProgramEnd::Killed(_) => None,
        ProgramEnd::Exited(0) => None,
        ProgramEnd::Exited(_) | ProgramEnd::Signaled(_) if f.exit_judged => None,
        ProgramEnd::Exited(c) => Some((Verdict::RE, format!("the program exited with code {c}"))),
        // Writing to a responder that has gone is the responder's doing.
        ProgramEnd::Signaled(libc::SIGPIPE) if f.responder_ended_first => None,
        ProgramEnd::Signaled(s) => Some((
            Verdict::RE,
            format!("the program was killed by signal {}", signal_name(s)),
        )),
    }
}

/// The program's side as the policy sees it.
#[derive(Debug, Clone)]
pub struct ProgramSide {
    pub failure: Option<(Verdict, String)>,
    /// CLOCK_MONOTONIC when it ended (or exceeded a limit).
    pub at_ns: u64,
}

/// Which side ended first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Program,
    Responder,
}

/// The final word.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub message: String,
    /// The rule that fired, in words.
    pub rule: String,
    pub first_to_finish: Option<Side>,
}

fn first(program: Option<&ProgramSide>, responder: Option<&Finished>) -> Option<Side> {
    match (program, responder) {
        (Some(p), Some(r)) => Some(if r.at_ns < p.at_ns {
            Side::Responder
        } else {
            Side::Program
        }),
        (Some(_), None) => Some(Side::Program),
        (None, Some(_)) => Some(Side::Responder),
        (None, None) => None,
    }
}

/// Whether the verdict is settled and the session can end now.
pub fn should_stop(
    policy: Precedence,
    judges: bool,
    program: Option<&ProgramSide>,
    responder: Option<&Finished>,
) -> bool {
    if responder.is_some_and(|r| r.judgement.verdict == Verdict::JE) {
        return true;
    }
    if !judges {
        return program.is_some();
    }
    if program.is_some() && responder.is_some() {
        return true;
    }
    let program_failed = program.is_some_and(|p| p.failure.is_some());
    let rejected = responder.is_some_and(|r| r.judgement.verdict != Verdict::AC);
    match policy {
        Precedence::Kattis => program_failed || (program.is_none() && rejected),
        Precedence::Testlib => program_failed || responder.is_some(),
        Precedence::Cms => program_failed,
    }
}

/// Combine both sides under `policy`.
pub fn decide(
    policy: Precedence,
    judges: bool,
    program: Option<&ProgramSide>,
    responder: Option<&Finished>,
) -> Decision {
    let first_to_finish = first(program, responder);
    let d = |verdict: Verdict, message: &str, rule: &str| Decision {
        verdict,
        message: message.to_string(),
        rule: rule.to_string(),
        first_to_finish,
    };
    if let Some(r) = responder.filter(|r| r.judgement.verdict == Verdict::JE) {
        return d(
            Verdict::JE,
            &r.judgement.message,
            "the responder failed: judge error, whatever the program did",
        );
    }
    let failure = program.and_then(|p| p.failure.as_ref());
    if !judges {
        return match failure {
            Some((v, m)) => d(*v, m, "no responder verdict: the program's own outcome"),
            None if program.is_some() => d(
                Verdict::AC,
                "the program ran to completion and exited with code 0",
                "no responder verdict: the program's own outcome",
            ),
            None => d(
                Verdict::JE,
                "the program's outcome is unknown",
                "no outcome",
            ),
        };
    }
    let responder_first = first_to_finish == Some(Side::Responder);
    let from_responder = |rule: &str| match responder {
        Some(r) => d(r.judgement.verdict, &r.judgement.message, rule),
        None => d(
            Verdict::JE,
            "the responder gave no verdict",
            "the session ended before the responder judged",
        ),
    };
    match policy {
        Precedence::Kattis => {
            if let Some(r) =
                responder.filter(|r| responder_first && r.judgement.verdict != Verdict::AC)
            {
                d(
                    r.judgement.verdict,
                    &r.judgement.message,
                    "kattis: the interactor finished first and rejected; that wins over the program's later outcome",
                )
            } else if let Some((v, m)) = failure {
                d(
                    *v,
                    m,
                    "kattis: the program failed (TLE, then RE, before the interactor's verdict)",
                )
            } else {
                from_responder("kattis: the program ended normally; the interactor's verdict")
            }
        }
        Precedence::Testlib => {
            if responder_first {
                from_responder("testlib: the interactor finished first and decides")
            } else if let Some((v, m)) = failure {
                d(
                    *v,
                    m,
                    "testlib: the program finished first, failing, and that decides",
                )
            } else {
                from_responder("testlib: the program ended normally; the interactor's verdict")
            }
        }
        Precedence::Cms => {
            if let Some((v, m)) = failure {
                d(
                    *v,
                    m,
                    "cms: a failure of the program wins over the interactor",
                )
            } else {
                from_responder("cms: the program ended normally; the interactor's verdict")
            }
        }
    }
}

/// "SIGSEGV", "SIGKILL", ... or "signal N".
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSTKFLT => "SIGSTKFLT",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Judgement;

    fn prog(failure: Option<Verdict>, at_ns: u64) -> ProgramSide {
        ProgramSide {
            failure: failure.map(|v| (v, format!("program {v}"))),
            at_ns,
        }
    }

    fn resp(v: Verdict, at_ns: u64) -> Finished {
        Finished {
            judgement: Judgement::new(v, format!("interactor {v}")),
            at_ns,
        }
    }

    use Precedence::*;
    use Verdict::*;

    /// (policy, program failure and time, responder verdict and time) -> verdict
    type Row = (
        Precedence,
        Option<(Option<Verdict>, u64)>,
        Option<(Verdict, u64)>,
        Verdict,
    );

    #[test]
    fn table() {
        #[rustfmt::skip]
        let rows: &[Row] = &[
            // interactor WA first, program TLE later
            (Kattis,  Some((Some(TLE), 2)), Some((WA, 1)), WA),
            (Testlib, Some((Some(TLE), 2)), Some((WA, 1)), WA),
            (Cms,     Some((Some(TLE), 2)), Some((WA, 1)), TLE),
            // program TLE first, interactor WA on EOF later
            (Kattis,  Some((Some(TLE), 1)), Some((WA, 2)), TLE),
            (Testlib, Some((Some(TLE), 1)), Some((WA, 2)), TLE),
            (Cms,     Some((Some(TLE), 1)), Some((WA, 2)), TLE),
            // program exits 0 early, interactor WA on EOF
            (Kattis,  Some((None, 1)), Some((WA, 2)), WA),
            (Testlib, Some((None, 1)), Some((WA, 2)), WA),
            (Cms,     Some((None, 1)), Some((WA, 2)), WA),
            // program RE early, the interactor then rejects
            (Kattis,  Some((Some(RE), 1)), Some((WA, 2)), RE),
            (Testlib, Some((Some(RE), 1)), Some((WA, 2)), RE),
            (Cms,     Some((Some(RE), 1)), Some((WA, 2)), RE),
            // interactor AC first, program RE afterwards
            (Kattis,  Some((Some(RE), 2)), Some((AC, 1)), RE),
            (Testlib, Some((Some(RE), 2)), Some((AC, 1)), AC),
            (Cms,     Some((Some(RE), 2)), Some((AC, 1)), RE),
            // interactor crash: judge error always
            (Kattis,  Some((Some(TLE), 1)), Some((JE, 2)), JE),
            (Testlib, Some((Some(RE), 1)), Some((JE, 2)), JE),
            (Cms,     Some((None, 2)), Some((JE, 1)), JE),
            // both fine
            (Kattis,  Some((None, 1)), Some((AC, 2)), AC),
            (Testlib, Some((None, 2)), Some((AC, 1)), AC),
            (Cms,     Some((None, 1)), Some((AC, 2)), AC),
            // the program failed and the session stopped before the interactor judged
            (Kattis,  Some((Some(TLE), 1)), None, TLE),
        ];
        for (i, (policy, p, r, want)) in rows.iter().enumerate() {
            let p = p.map(|(f, t)| prog(f, t));
            let r = r.map(|(v, t)| resp(v, t));
            let got = decide(*policy, true, p.as_ref(), r.as_ref());
            assert_eq!(
                got.verdict, *want,
                "row {i}: {policy:?} gave {:?} ({})",
                got.verdict, got.rule
            );
        }
    }

    #[test]
    fn stop_rules() {
        // Kattis waits for the program after an accepting interactor...
        assert!(!should_stop(Kattis, true, None, Some(&resp(AC, 1))));
        // ...but not after a rejecting one.
        assert!(should_stop(Kattis, true, None, Some(&resp(WA, 1))));
        assert!(should_stop(Testlib, true, None, Some(&resp(AC, 1))));
        assert!(!should_stop(Cms, true, None, Some(&resp(WA, 1))));
        // A normal exit waits for the interactor in every policy.
        for p in [Kattis, Testlib, Cms] {
            assert!(!should_stop(p, true, Some(&prog(None, 1)), None));
            assert!(should_stop(p, true, Some(&prog(Some(TLE), 1)), None));
        }
        assert!(should_stop(Kattis, false, Some(&prog(None, 1)), None));
    }

    fn facts(end: ProgramEnd) -> ProgramFacts {
        ProgramFacts {
            end,
            cpu_ns: 1_000_000,
            cpu_limit_ns: 1_000_000_000,
            wall_limit_ns: 3_000_000_000,
            wall_ns: 40_000_000,
            memory: None,
            memory_limit: 64 << 20,
            stdout_limit: 100,
            stderr_limit: 100,
            responder_ended_first: false,
            waiting_after_input: false,
            blocked_reading: None,
            running_at_wall: false,
            maxrss_kib: None,
            forbidden: None,
            exit_judged: false,
        }
    }

    #[test]
    fn a_tle_just_past_the_limit_shows_the_excess() {
        let mut f = facts(ProgramEnd::Killed(KillReason::CpuLimit));
        f.cpu_ns = 1_000_412_000;
        assert_eq!(
            program_failure(&f).unwrap(),
            (
                TLE,
                "the program used 1000.412 ms of CPU time, over the limit of 1000 ms".into()
            )
        );
        f.cpu_ns = 1_003_000_000;
        assert_eq!(
            program_failure(&f).unwrap().1,
            "the program used 1003 ms of CPU time, over the limit of 1000 ms"
        );
    }

    #[test]
    fn program_outcomes() {
        assert_eq!(program_failure(&facts(ProgramEnd::Exited(0))), None);
        assert_eq!(
            program_failure(&facts(ProgramEnd::Exited(3))).unwrap().0,
            RE
        );
        assert_eq!(
            program_failure(&facts(ProgramEnd::Signaled(libc::SIGSEGV)))
                .unwrap()
                .1,
            "the program was killed by signal SIGSEGV"
        );
        assert_eq!(
            program_failure(&facts(ProgramEnd::Killed(KillReason::WallLimit)))
                .unwrap()
                .0,
            ILE
        );
        let mut f = facts(ProgramEnd::Killed(KillReason::WallLimit));
        f.cpu_ns = 2_000_000_000;
        assert_eq!(program_failure(&f).unwrap().0, TLE);
        assert_eq!(
            program_failure(&facts(ProgramEnd::Killed(KillReason::StdoutLimit)))
                .unwrap()
                .0,
            OLE
        );
        let mut f = facts(ProgramEnd::Signaled(libc::SIGPIPE));
        assert_eq!(program_failure(&f).unwrap().0, RE);
        f.responder_ended_first = true;
        assert_eq!(program_failure(&f), None);
        let mut f = facts(ProgramEnd::Signaled(libc::SIGKILL));
        f.memory = Some(MemoryStats {
            peak_bytes: Some(64 << 20),
            limit_hits: 3,
            oom_kills: 1,
        });
        assert_eq!(program_failure(&f).unwrap().0, MLE);
        // Hitting the limit and recovering (page cache reclaimed) is no MLE.
        let mut f = facts(ProgramEnd::Exited(0));
        f.memory = Some(MemoryStats {
            peak_bytes: Some(64 << 20),
            limit_hits: 3,
            oom_kills: 0,
        });
        assert_eq!(program_failure(&f), None);
    }
}
