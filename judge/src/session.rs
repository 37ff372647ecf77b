//! One session: a builder for what to run and how, and `run()`, which
//! starts the responder and the program, drives them to the end and
//! combines what happened into a [`Report`].

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::PathBuf;
use std::rc::Rc;

use crate::checker::Checker;
use crate::driver::{self, Config, ProgramIo, Sink};
use crate::error::Error;
use crate::limits::Limits;
use crate::precedence::{self, Precedence, ProgramEnd};
use crate::report::{Enforcer, Isolation, LimitReport, LimitsReport, Report};
use crate::responder::plugin::PluginResponder;
use crate::responder::{
    closed::Closed, file::FileInput, ExecResponder, ExecSpec, PluginSpec, Responder, WasiResponder,
    WasiSpec,
};
use crate::sandbox::{self, cpus, sys, Mechanism, Sandbox, TreeLimits};
use crate::transcript::Transcript;
use crate::verdict::Verdict;

/// Which responder answers the program.
pub enum ResponderChoice {
    /// stdin at end of file from the start.
    Closed,
    /// A static stdin file.
    File(PathBuf),
    /// An external interactor process.
    Exec(ExecSpec),
    /// A native plugin or a WebAssembly module, in the judge's process.
    Plugin(PluginSpec),
    /// A WASI command module: a stdio interactor compiled to WebAssembly.
    Wasi(WasiSpec),
    /// Any other implementation of the trait.
    Custom(Box<dyn Responder>),
}

/// Where the program, the responder and the loop run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CpuPlacement {
    /// One CPU for all three in an interactive session (a free one, so that
    /// parallel sessions spread out); unpinned otherwise.
    #[default]
    Auto,
    /// Unpinned.
    Any,
    /// These CPUs.
    List(Vec<usize>),
}

/// A pseudo-terminal for the program's stdin and stdout (`--pty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub cols: u16,
    pub rows: u16,
    /// stderr on the terminal too, rather than a pipe of its own.
    pub stderr: bool,
    /// The terminal echoes what is sent into the output, as a person's
    /// terminal does (off by default: a script sees what the program wrote).
    pub echo: bool,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal {
            cols: 80,
            rows: 24,
            stderr: false,
            echo: false,
        }
    }
}

/// The program's PATH, also where a jailed program's bare name is found.
pub const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How far the program is shut away from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// Its own root file system, no network, its own IPC and host name, an
    /// unprivileged user without capabilities, a system call filter.
    #[default]
    Full,
    /// Only what limits and the clean-up of the whole tree need (a PID
    /// namespace and control groups): for developer machines and trusted code.
    None,
}

/// What happens to a program making a refused system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnForbidden {
    /// The call fails with EPERM; the report lists it.
    #[default]
    Fail,
    /// The program is killed at once (RE).
    Kill,
}

/// A session under construction. See the crate docs for an example.
pub struct Session {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    limits: Limits,
    responder: ResponderChoice,
    policy: Precedence,
    cpus: CpuPlacement,
    transcript: Option<PathBuf>,
    stdout_sink: Sink,
    capture: bool,
    handle_signals: bool,
    isolation: IsolationLevel,
    on_forbidden: OnForbidden,
    files: Vec<sandbox::CopyIn>,
    dirs: Vec<sandbox::Bind>,
    keep_workdir: Option<PathBuf>,
    checker: Option<Checker>,
    terminal: Option<Terminal>,
}

impl Session {
    /// Run `program` with `args` (not including argv[0]).
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Session {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
            limits: Limits::default(),
            responder: ResponderChoice::Closed,
            policy: Precedence::default(),
            cpus: CpuPlacement::Auto,
            transcript: None,
            stdout_sink: Sink::Capture,
            capture: true,
            handle_signals: false,
            isolation: IsolationLevel::Full,
            on_forbidden: OnForbidden::Fail,
            files: Vec::new(),
            dirs: Vec::new(),
            keep_workdir: None,
            checker: None,
            terminal: None,
        }
    }

    /// Check the program's output against an answer once it has ended
    /// normally (a WA says where it first differs). The output is then
    /// captured for the check, not forwarded.
    pub fn checker(mut self, checker: Checker) -> Self {
        self.checker = Some(checker);
        self
    }

    /// After the run, copy the work directory's regular files and folders
    /// to `dest` (created; must be empty if it exists).
    pub fn keep_workdir(mut self, dest: impl Into<PathBuf>) -> Self {
        self.keep_workdir = Some(dest.into());
        self
    }

    pub fn isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = level;
        self
    }

    pub fn on_forbidden(mut self, what: OnForbidden) -> Self {
        self.on_forbidden = what;
        self
    }

    /// Copy host file `source` into the work directory as `dest` (relative).
    pub fn file(mut self, source: impl Into<PathBuf>, dest: impl Into<PathBuf>) -> Self {
        self.files.push(sandbox::CopyIn {
            source: source.into(),
            dest: dest.into(),
        });
        self
    }

    /// Show host directory `source` at `dest` inside the sandbox.
    pub fn dir(
        mut self,
        source: impl Into<PathBuf>,
        dest: impl Into<PathBuf>,
        writable: bool,
    ) -> Self {
        self.dirs.push(sandbox::Bind {
            source: source.into(),
            dest: dest.into(),
            writable,
        });
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn responder(mut self, responder: ResponderChoice) -> Self {
        self.responder = responder;
        self
    }

    pub fn precedence(mut self, policy: Precedence) -> Self {
        self.policy = policy;
        self
    }

    pub fn cpus(mut self, placement: CpuPlacement) -> Self {
        self.cpus = placement;
        self
    }

    /// Extra environment variables for the program, on top of the clean
    /// default (PATH, HOME, LANG).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The program's working directory (default: the judge's).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Record the conversation as JSON lines in `path`.
    pub fn transcript(mut self, path: impl Into<PathBuf>) -> Self {
        self.transcript = Some(path.into());
        self
    }

    /// Write the program's stdout through to the judge's stdout as it comes
    /// instead of keeping it for the report.
    pub fn forward_stdout(mut self, yes: bool) -> Self {
        self.stdout_sink = if yes {
            Sink::ForwardStdout
        } else {
            Sink::Capture
        };
        self
    }

    /// Keep the program's stdout and stderr for the report (default: yes).
    pub fn capture(mut self, yes: bool) -> Self {
        self.capture = yes;
        self
    }

    /// End the session cleanly (JE) on SIGINT, SIGTERM or SIGHUP aimed at
    /// the judge. Blocks those signals in the calling thread for the
    /// session's duration; meant for programs whose main job is one session.
    pub fn handle_signals(mut self, yes: bool) -> Self {
        self.handle_signals = yes;
        self
    }

    /// Give the program a pseudo-terminal as its stdin and stdout, with
    /// echo and the translation of "\n" to "\r\n" off, so that what it
    /// reads is what was sent and what is read from it is what it wrote.
    pub fn terminal(mut self, terminal: Option<Terminal>) -> Self {
        self.terminal = terminal;
        self
    }

    /// Run the session to its end.
    ///
    /// `Err` means the session could not be judged: a usage error (the
    /// program or a file does not exist) or a failure to set up the sandbox.
    /// Everything the program or the responder does wrong is a verdict in
    /// the `Ok` report.
    pub fn run(mut self) -> Result<Report, Error> {
        // Two files for one place in /box: say so now, not as a failure to
        // build the sandbox.
        for (i, f) in self.files.iter().enumerate() {
            if let Some(g) = self.files[..i].iter().find(|g| g.dest == f.dest) {
                return Err(Error::Usage(format!(
                    "--file: {} and {} both go to /box/{}",
                    g.source.display(),
                    f.source.display(),
                    f.dest.display()
                )));
            }
        }
        // Read before anything starts: a missing answer is a usage error.
        let answer = match &self.checker {
            Some(c) => Some(
                {
                    let _caller = sandbox::caller::AsCaller::enter();
                    std::fs::read(c.answer())
                }
                .map_err(|e| {
                    Error::Usage(format!(
                        "cannot read the answer file {}: {e}",
                        c.answer().display()
                    ))
                })?,
            ),
            None => None,
        };
        if self.checker.is_some() {
            self.stdout_sink = Sink::Capture;
            self.capture = true;
        }
        let path = match self.isolation {
            IsolationLevel::Full => {
                sandbox::resolve_program_in(&self.program, Some(OsStr::new(SANDBOX_PATH)))
            }
            IsolationLevel::None => sandbox::resolve_program(&self.program),
        }
        .map_err(Error::Usage)?;
        let interactive = matches!(
            self.responder,
            ResponderChoice::Exec(_)
                | ResponderChoice::Plugin(_)
                | ResponderChoice::Wasi(_)
                | ResponderChoice::Custom(_)
        );
        // CPU placement for the program, the responder and this thread.
        let claim;
        let placed: Option<Vec<usize>> = match &self.cpus {
            CpuPlacement::Any => None,
            CpuPlacement::List(l) => Some(l.clone()),
            CpuPlacement::Auto if interactive => {
                claim = cpus::claim_one();
                Some(vec![claim.cpu])
            }
            CpuPlacement::Auto => None,
        };
        let mut responder: Box<dyn Responder> = match self.responder {
            ResponderChoice::Closed => Box::new(Closed),
            ResponderChoice::File(p) => Box::new(FileInput::open(&p).map_err(|e| {
                Error::Usage(format!("cannot read the stdin file {}: {e}", p.display()))
            })?),
            ResponderChoice::Exec(mut spec) => {
                let cmd = spec
                    .argv
                    .first()
                    .ok_or_else(|| Error::Usage("the responder command is empty".into()))?;
                sandbox::resolve_program(std::path::Path::new(cmd))
                    .map_err(|e| Error::Usage(format!("responder: {e}")))?;
                for (what, p) in [("input", &spec.input), ("answer", &spec.answer)] {
                    if let Some(p) = p {
                        readable(p).map_err(|e| {
                            Error::Usage(format!(
                                "cannot read the {what} file {}: {e}",
                                p.display()
                            ))
                        })?;
                    }
                }
                if spec.cpus.is_none() {
                    spec.cpus = placed.clone();
                }
                Box::new(ExecResponder::new(spec))
            }
            ResponderChoice::Plugin(spec) => {
                module_files_readable(&spec.path, &spec.input, &spec.answer)?;
                Box::new(PluginResponder::new(spec))
            }
            ResponderChoice::Wasi(spec) => {
                module_files_readable(&spec.path, &spec.input, &spec.answer)?;
                Box::new(WasiResponder::new(spec))
            }
            ResponderChoice::Custom(r) => r,
        };
        let _pin = match &placed {
            Some(c) => Some(
                cpus::ThreadPin::new(c)
                    .map_err(|e| Error::Setup(format!("pinning the judge to CPUs {c:?}: {e}")))?,
            ),
            None => None,
        };

        // A program that closes its stdin must not kill the judge.
        let _sigpipe = IgnoreSigpipe::new();
        // Opened before anything starts, so that a bad path is a usage error
        // and not a session thrown away at the end.
        let transcript = match &self.transcript {
            Some(p) => Some(Rc::new(RefCell::new(Transcript::create(p, 0).map_err(
                |e| Error::Usage(format!("cannot write the transcript {}: {e}", p.display())),
            )?))),
            None => None,
        };
        let signals = if self.handle_signals {
            Some(
                SignalGuard::new()
                    .map_err(|e| Error::Setup(format!("setting up signal handling: {e}")))?,
            )
        } else {
            None
        };

        let direct = match responder.prepare() {
            Ok(d) => d,
            Err(e) => return Err(Error::Responder(e.0)),
        };

        let pipe = || sys::pipe().map_err(|e| Error::Setup(format!("creating a pipe: {e}")));
        let (err_r, mut err_w) = pipe()?;
        let (stdin_w, stdout_r, child_stdin, child_stdout) =
            match (direct, self.terminal) {
                (Some(_), Some(_)) => return Err(Error::Usage(
                    "a terminal and a responder wired to the program directly exclude each other"
                        .into(),
                )),
                (Some(d), None) => (None, None, d.stdin, d.stdout),
                (None, Some(t)) => {
                    let pty = open_terminal(t)
                        .map_err(|e| Error::Setup(format!("opening a pseudo-terminal: {e}")))?;
                    if t.stderr {
                        err_w = pty.slave_stderr;
                    }
                    (
                        Some(pty.master_in),
                        Some(pty.master_out),
                        pty.slave_in,
                        pty.slave_out,
                    )
                }
                (None, None) => {
                    let (in_r, in_w) = pipe()?;
                    let (out_r, out_w) = pipe()?;
                    sys::set_pipe_size(&out_r, 1 << 20);
                    (Some(File::from(in_w)), Some(File::from(out_r)), in_r, out_w)
                }
            };

        // Held until the session is over: no other session gets this uid.
        let mut uid_claim = None;
        let jail = match self.isolation {
            IsolationLevel::Full => {
                // SAFETY: no preconditions.
                let (uid, gid) = match unsafe { libc::geteuid() } {
                    0 => {
                        let claim = uid_claim.insert(sandbox::identity::claim());
                        (claim.uid, claim.uid)
                    }
                    uid => (uid, unsafe { libc::getegid() }),
                };
                Some(sandbox::Jail {
                    root: sandbox::RootSpec {
                        work_bytes: self.limits.work_dir,
                        program: Some(std::path::absolute(&path).unwrap_or_else(|_| path.clone())),
                        binds: self.dirs.clone(),
                        files: self.files.clone(),
                        uid,
                        gid,
                    },
                    seccomp: true,
                    keep_workdir: self.keep_workdir.clone(),
                })
            }
            IsolationLevel::None => None,
        };
        let jailed = jail.is_some();
        let terminal = self.terminal;
        let sandbox_uid = jail.as_ref().map_or(0, |j| j.root.uid);
        let cwd = match jail {
            Some(_) => Some(PathBuf::from(sandbox::WORK_DIR)),
            None => self.cwd.clone(),
        };
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), SANDBOX_PATH.into()),
            ("LANG".into(), "C.UTF-8".into()),
            (
                "HOME".into(),
                cwd.clone()
                    .or_else(|| std::env::current_dir().ok())
                    .unwrap_or_else(|| "/".into())
                    .into_os_string(),
            ),
        ];
        for (k, v) in &self.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        let mut argv = vec![self.program.clone().into_os_string()];
        argv.extend(self.args.iter().cloned());
        let limits = self.limits;
        let tree = Sandbox::new(&path, &argv)
            .env(env)
            .cwd(cwd)
            .jail(jail)
            .limits(TreeLimits {
                cpu: Some(limits.cpu_time),
                memory_bytes: Some(limits.memory),
                max_tasks: Some(limits.processes),
                stack_bytes: Some(limits.memory),
                file_bytes: Some(limits.file_size),
                open_files: Some(limits.open_files),
            })
            .cpus(placed.clone())
            .controlling_terminal(terminal.is_some())
            .spawn(child_stdin, child_stdout, err_w)
            .map_err(|e| {
                if e.is_program_error() {
                    Error::Usage(format!("cannot run {}: {e}", path.display()))
                } else if let sandbox::SpawnError::Root(
                    sandbox::rootfs::PlanError::Source { .. }
                    | sandbox::rootfs::PlanError::Invalid { .. },
                ) = e
                {
                    Error::Usage(format!("--file/--dir: {e}"))
                } else if let sandbox::SpawnError::KeepInsideWritable(_) = e {
                    Error::Usage(format!("--keep-workdir {e}"))
                } else if e.is_isolation_error() {
                    Error::Isolation(e.to_string())
                } else {
                    Error::Setup(format!("cannot start {}: {e}", path.display()))
                }
            })?;
        let (memory_by, tasks_by, cpu_by) = (tree.memory_by, tree.tasks_by, tree.cpu_by);
        let (network, filtered) = (tree.network, tree.notifier.is_some());
        let started_ns = tree.started_ns();

        if let Some(t) = &transcript {
            t.borrow_mut().set_start(started_ns);
        }

        let parallelism = placed
            .as_ref()
            .map_or_else(|| cpus::allowed().len(), |c| c.len()) as u32;
        let sink = |s: Sink| {
            if self.capture || s == Sink::ForwardStdout {
                s
            } else {
                Sink::Discard
            }
        };
        let mut outcome = driver::drive(
            ProgramIo {
                tree,
                stdout: stdout_r,
                // On the terminal, stderr is part of stdout.
                stderr: (!terminal.is_some_and(|t| t.stderr)).then(|| File::from(err_r)),
                stdin: stdin_w,
                parallelism,
                terminal: terminal.is_some(),
            },
            responder.as_mut(),
            Config {
                limits,
                policy: self.policy,
                stdout_sink: sink(self.stdout_sink),
                stderr_sink: sink(Sink::Capture),
                signals: signals.as_ref().map(|s| s.fd),
                transcript: transcript.clone(),
                kill_on_forbidden: self.on_forbidden == OnForbidden::Kill,
            },
        )
        .map_err(|e| Error::Setup(format!("the event loop failed: {e}")))?;
        let responder_report = responder.finish();
        drop(signals);

        let finished = responder.finished().cloned();
        let mut decision = precedence::decide(
            self.policy,
            responder.judges(),
            Some(&outcome.program),
            finished.as_ref(),
        );
        if let Some(sig) = outcome.interrupted {
            decision.verdict = Verdict::JE;
            decision.message = format!(
                "the judge was interrupted by {} and stopped the session",
                precedence::signal_name(sig)
            );
            decision.rule = crate::report::RULE_INTERRUPTED.into();
        } else if let Some(f) = &outcome.failure {
            decision.verdict = Verdict::JE;
            decision.message = f.clone();
            decision.rule = "the judge or the responder failed".into();
        }
        // The output is checked only when nothing else went wrong: the
        // program ended normally, within every limit.
        let checked = match (&self.checker, &answer) {
            (Some(c), Some(answer)) if decision.verdict == Verdict::AC => {
                let r = c.check(answer, &outcome.stdout.kept);
                decision.verdict = r.verdict;
                decision.message = r.message.clone();
                decision.rule = "the program ended normally: the output checker's verdict".into();
                Some(r)
            }
            _ => None,
        };

        let (exit_code, signal) = match outcome.end {
            ProgramEnd::Exited(c) => (Some(c), None),
            ProgramEnd::Signaled(s) => (None, Some(s)),
            ProgramEnd::Killed(_) => (None, Some(libc::SIGKILL)),
        };
        let memory_kib = outcome
            .memory
            .and_then(|m| m.peak_bytes)
            .map(|b| b / 1024)
            .or(outcome.exit_report.map(|r| r.maxrss_kib));
        let memory_measured = if outcome.memory.is_some() {
            memory_by.into()
        } else {
            Enforcer::Proc
        };
        let text = |b: Vec<u8>| {
            let c = crate::report::Captured::new(b);
            let b64 = c.base64();
            (c, b64)
        };
        let (stdout, stdout_base64) = text(std::mem::take(&mut outcome.stdout.kept));
        let (stderr, stderr_base64) = text(std::mem::take(&mut outcome.stderr.kept));
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let report = Report {
            verdict: decision.verdict,
            message: decision.message,
            exit_code,
            signal,
            signal_name: signal.map(precedence::signal_name),
            cpu_time_ms: outcome.cpu_ns / 1_000_000,
            wall_time_ms: outcome.wall_ns / 1_000_000,
            memory_kib,
            stdout_bytes: outcome.stdout.bytes,
            stderr_bytes: outcome.stderr.bytes,
            stdin_bytes: outcome.stdin_bytes,
            stdout,
            stdout_base64,
            stdout_truncated: false,
            stderr,
            stderr_base64,
            stderr_truncated: false,
            program_verdict: outcome.program.failure.as_ref().map(|f| f.0),
            program_message: outcome.program.failure.as_ref().map(|f| f.1.clone()),
            responder: responder_report,
            first_to_finish: decision.first_to_finish,
            precedence: self.policy,
            rule: decision.rule,
            stdin_closed_early: outcome.stdin_closed_by_program,
            limits: LimitsReport {
                cpu_time: LimitReport {
                    limit: ms(limits.cpu_time),
                    enforced_by: vec![Enforcer::Loop, Enforcer::Rlimit],
                    measured_by: cpu_by.into(),
                },
                wall_time: LimitReport {
                    limit: ms(limits.wall_time),
                    enforced_by: vec![Enforcer::Loop],
                    measured_by: Enforcer::Loop,
                },
                memory: LimitReport {
                    limit: limits.memory,
                    enforced_by: vec![memory_by.into()],
                    measured_by: memory_measured,
                },
                stdout: LimitReport {
                    limit: limits.stdout,
                    enforced_by: vec![Enforcer::Loop],
                    measured_by: Enforcer::Loop,
                },
                stderr: LimitReport {
                    limit: limits.stderr,
                    enforced_by: vec![Enforcer::Loop],
                    measured_by: Enforcer::Loop,
                },
                processes: LimitReport {
                    limit: limits.processes,
                    enforced_by: vec![tasks_by.into()],
                    measured_by: tasks_by.into(),
                },
            },
            isolation: Isolation {
                level: self.isolation,
                file_system: jailed.then(|| {
                    "own root, read-only system directories, writable /box and /tmp".to_string()
                }),
                network,
                uid: jailed.then_some(sandbox_uid),
                capabilities_dropped: jailed,
                seccomp: filtered,
                pid_namespace: true,
                // SAFETY: no preconditions.
                user_namespace: unsafe { libc::geteuid() } != 0,
                memory: memory_by.into(),
                processes: tasks_by.into(),
                cpu_accounting: if cpu_by == Mechanism::Proc {
                    Enforcer::Proc
                } else {
                    cpu_by.into()
                },
            },
            cpus: placed,
            judge_max_rss_kib: own_max_rss_kib(),
            warnings: {
                let mut w = outcome.warnings.clone();
                match &outcome.kept {
                    Some(Err(e)) => w.push(e.clone()),
                    Some(Ok(k)) => w.extend(k.stopped.clone()),
                    None => {}
                }
                w
            },
            checker: checked,
            workdir_kept: match &outcome.kept {
                Some(Ok(k)) => Some(crate::report::KeptReport {
                    path: self.keep_workdir.clone().unwrap_or_default(),
                    files: k.files,
                    dirs: k.dirs,
                    bytes: k.bytes,
                    links: k.links,
                    skipped: k.skipped.clone(),
                    stopped: k.stopped.clone(),
                }),
                _ => None,
            },
            refused_syscalls: outcome
                .refused
                .iter()
                .map(|(name, count)| crate::report::Refused {
                    name: name.clone(),
                    count: *count,
                })
                .collect(),
        };
        let mut report = report;
        if let Some(t) = transcript {
            t.borrow_mut().event(
                sys::monotonic_ns(),
                "end",
                serde_json::json!({
                    "verdict": report.verdict,
                    "message": report.message,
                    "cpu_time_ms": report.cpu_time_ms,
                    "wall_time_ms": report.wall_time_ms,
                }),
            );
            let closed = match Rc::try_unwrap(t) {
                Ok(t) => t.into_inner().close(),
                Err(_) => Ok(()),
            };
            if let Err(e) = closed {
                let path = self.transcript.as_ref().map(|p| p.display().to_string());
                report.warnings.push(format!(
                    "the transcript {} is incomplete: {e}",
                    path.unwrap_or_default()
                ));
            }
        }
        Ok(report)
    }
}

/// The descriptors of one pseudo-terminal for a session.
struct Pty {
    /// The master twice: the driver writes the program's stdin to one and
    /// reads its output from the other.
    master_in: File,
    master_out: File,
    slave_in: std::os::fd::OwnedFd,
    slave_out: std::os::fd::OwnedFd,
    slave_stderr: std::os::fd::OwnedFd,
}

fn open_terminal(t: Terminal) -> nix::Result<Pty> {
    use nix::fcntl::OFlag;
    use nix::sys::termios::{self, LocalFlags, OutputFlags, SetArg};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // Every descriptor close-on-exec from its first moment: a process
    // started meanwhile on another thread (an interactor) must not inherit
    // the slave, or the master would never see its end.
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let name = nix::pty::ptsname_r(&master)?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let size = libc::winsize {
        ws_row: t.rows,
        ws_col: t.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) } == -1 {
        return Err(nix::Error::last());
    }
    let mut tio = termios::tcgetattr(&slave)?;
    // What is sent is not echoed back into the output a script reads, and
    // the output is the bytes the program wrote.
    if !t.echo {
        tio.local_flags
            .remove(LocalFlags::ECHO | LocalFlags::ECHONL | LocalFlags::ECHOE | LocalFlags::ECHOK);
    }
    tio.output_flags.remove(OutputFlags::ONLCR);
    termios::tcsetattr(&slave, SetArg::TCSANOW, &tio)?;
    let dup = |fd: std::os::fd::RawFd| -> nix::Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we own.
        let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if n < 0 {
            return Err(nix::Error::last());
        }
        Ok(unsafe { OwnedFd::from_raw_fd(n) })
    };
    let master_in = dup(master.as_raw_fd())?;
    // SAFETY: into_raw_fd hands over the descriptor, owned from here on.
    let master_out = unsafe { OwnedFd::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(master)) };
    Ok(Pty {
        master_in: File::from(master_in),
        master_out: File::from(master_out),
        slave_out: dup(slave.as_raw_fd())?,
        slave_stderr: dup(slave.as_raw_fd())?,
        slave_in: slave,
    })
}

/// The judge's own peak RSS. /proc's VmHWM rather than getrusage: after
/// exec, getrusage's maxrss still counts the parent's memory at fork time.
fn own_max_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// SIGPIPE ignored for the session (writing to a program that closed its
/// stdin must be an EPIPE, not the judge's death), restored afterwards.
struct IgnoreSigpipe;

/// Sessions running now in this process, and the SIGPIPE disposition the
/// first of them found: the disposition is process-wide, so it is set by the
/// first session and restored by the last, not by each.
static SIGPIPE_USERS: std::sync::Mutex<(usize, libc::sighandler_t)> =
    std::sync::Mutex::new((0, libc::SIG_DFL));

impl IgnoreSigpipe {
    fn new() -> Self {
        let mut users = SIGPIPE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        if users.0 == 0 {
            // SAFETY: setting a disposition has no memory-safety preconditions.
            users.1 = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        }
        users.0 += 1;
        IgnoreSigpipe
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        let mut users = SIGPIPE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        users.0 -= 1;
        if users.0 == 0 && users.1 != libc::SIG_ERR {
            // SAFETY: restores the disposition saved by the first session.
            unsafe { libc::signal(libc::SIGPIPE, users.1) };
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP delivered through a signalfd the loop watches,
/// for the duration of the session.
struct SignalGuard {
    fd: i32,
    old: libc::sigset_t,
}

impl SignalGuard {
    fn new() -> std::io::Result<Self> {
        // SAFETY: sigset manipulation on local plain data; signalfd returns
        // a descriptor we own and close in Drop.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, s);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd == -1 {
                let e = std::io::Error::last_os_error();
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
                return Err(e);
            }
            Ok(SignalGuard { fd, old })
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor and restoring the saved mask.
        unsafe {
            libc::close(self.fd);
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// A responder module and the test's files can be read: a usage error
/// before anything runs, not a JE after.
fn module_files_readable(
    module: &std::path::Path,
    input: &Option<std::path::PathBuf>,
    answer: &Option<std::path::PathBuf>,
) -> Result<(), Error> {
    for (what, p) in [
        ("responder module", Some(module)),
        ("input", input.as_deref()),
        ("answer", answer.as_deref()),
    ] {
        if let Some(p) = p {
            readable(p).map_err(|e| {
                Error::Usage(format!("cannot read the {what} {}: {e}", p.display()))
            })?;
        }
    }
    Ok(())
}

/// Whether `path` can be opened for reading, without waiting on a FIFO.
fn readable(path: &std::path::Path) -> std::io::Result<()> {
    crate::responder::open_without_waiting(path).map(drop)
}
