//! An external interactor process: testlib and Kattis interactors run
//! unchanged.
//!
//! Proxied (the default), the judge sits in the middle: the program's stdout
//! goes to the interactor's stdin and the interactor's stdout to the
//! program's stdin through the loop, so every byte is counted, capped,
//! time-stamped and can be recorded. `--direct` wires the two processes to
//! each other and leaves the judge only the clocks, for problems with
//! millions of exchanges.
//!
//! The interactor runs in a sandboxed tree of its own with limits of its
//! own; whatever goes wrong on its side is a judge error, never the program's.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::{
    DirectStdio, Finished, Io, ProgramExit, Protocol, Responder, ResponderError, ResponderReport,
    Result, Stream,
};
use crate::cpu_watch::CpuWatch;
use crate::limits::ResponderLimits;
use crate::precedence::signal_name;
use crate::sandbox::{sys, ExitReport, Sandbox, Tree, TreeLimits};
use crate::verdict::Judgement;

/// How to start the interactor.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// The command and its own arguments.
    pub argv: Vec<String>,
    pub protocol: Protocol,
    pub limits: ResponderLimits,
    /// Wire it straight to the program (`--direct`).
    pub direct: bool,
    /// The test's input file, passed to testlib and Kattis interactors.
    pub input: Option<PathBuf>,
    /// The test's answer file (Kattis' judge answer, testlib's answer).
    pub answer: Option<PathBuf>,
    /// CPUs to run it on.
    pub cpus: Option<Vec<usize>>,
    /// Words after the files (Kattis' `validator_flags`).
    pub flags: Vec<String>,
    /// Make the protocol's files (testlib's output file `tout`, Kattis'
    /// `feedback/`) in this existing folder and leave them there for the
    /// caller (a checker reads `tout`; a multi-pass run reads
    /// `feedback/nextpass.in`). Default: a temporary folder.
    pub files_dir: Option<PathBuf>,
}

const FROM: usize = 0; // its stdout
const TO: usize = 1; // its stdin
const ERR: usize = 2; // its stderr
const EXIT: usize = 3; // its exit report
const HELD: usize = 4; // --direct: our copy of the interactor's stdin read end
const HELD_PROGRAM: usize = 5; // --direct: our copy of the program's stdin read end
const PIDFD: usize = 6; // its main process, readable the moment it exits

const QUEUE_CAP: usize = 1 << 20;
const CHUNK: usize = 1 << 16;

pub struct ExecResponder {
    spec: ExecSpec,
    /// Where the protocol's files are, and the guard of a temporary one.
    workdir: Option<PathBuf>,
    _temp: Option<TempDir>,
    tree: Option<Tree>,
    first: Token,
    from: Option<File>,
    to: Option<File>,
    err: Option<File>,
    /// --direct: read ends we hold so neither side dies of SIGPIPE when the
    /// other ends first; drained once their reader has gone.
    held_program_stdin: Option<File>,
    held_own_stdin: Option<File>,
    queue: Vec<u8>,
    queue_at: usize,
    close_to_when_drained: bool,
    from_paused: bool,
    /// epoll said every writer of its stdout has closed: read to the end.
    from_hangup: bool,
    output_bytes: u64,
    stderr: Vec<u8>,
    stderr_bytes: u64,
    start_ns: u64,
    cpu: Option<CpuWatch>,
    finished: Option<Finished>,
    end: Option<ExitReport>,
    killed_for: Option<String>,
    cpu_ns: Option<u64>,
    memory_kib: Option<u64>,
    oom: bool,
    /// One read buffer for all its pipes, allocated once: zeroing a fresh
    /// one per read would cost more than the read itself.
    buf: Option<crate::read_buf::ReadBuf>,
    /// When the loop first saw it gone (see the driver's `exit_seen_ns`).
    exit_seen_ns: Option<u64>,
}

impl ExecResponder {
    pub fn new(spec: ExecSpec) -> Self {
        ExecResponder {
            spec,
            workdir: None,
            _temp: None,
            tree: None,
            first: Token(0),
            from: None,
            to: None,
            err: None,
            held_program_stdin: None,
            held_own_stdin: None,
            queue: Vec::new(),
            queue_at: 0,
            close_to_when_drained: false,
            from_paused: false,
            from_hangup: false,
            output_bytes: 0,
            stderr: Vec::new(),
            stderr_bytes: 0,
            start_ns: 0,
            cpu: None,
            finished: None,
            end: None,
            killed_for: None,
            cpu_ns: None,
            memory_kib: None,
            oom: false,
            buf: Some(crate::read_buf::ReadBuf::new(CHUNK)),
            exit_seen_ns: None,
        }
    }

    fn token(&self, i: usize) -> Token {
        Token(self.first.0 + i)
    }

    /// The interactor's command line under its protocol: the files the
    /// protocol passes come after the command the user gave (which may be
    /// `python3 interactor.py`).
    fn argv(&mut self) -> io::Result<Vec<String>> {
        let mut argv = self.spec.argv.clone();
        if self.spec.protocol == Protocol::Plain {
            return Ok(argv);
        }
        let (dir, temp) = match &self.spec.files_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = TempDir::new()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let empty = |name: &str| -> io::Result<PathBuf> {
            let p = dir.join(name);
            File::create(&p)?;
            Ok(p)
        };
        let input = match &self.spec.input {
            Some(p) => p.clone(),
            None => empty("input")?,
        };
        let answer = match &self.spec.answer {
            Some(p) => p.clone(),
            None => empty("answer")?,
        };
        let s = |p: &Path| p.to_string_lossy().into_owned();
        match self.spec.protocol {
            Protocol::Testlib => {
                // interactor <input> <output> [<answer>]
                let tout = empty("tout")?;
                argv.extend([s(&input), s(&tout), s(&answer)]);
            }
            Protocol::Kattis => {
                // validator <input> <judge_answer> <feedback_dir> [args]
                let feedback = dir.join("feedback");
                match fs::create_dir(&feedback) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                    _ => {}
                }
                argv.extend([s(&input), s(&answer), format!("{}/", s(&feedback))]);
            }
            Protocol::Plain => unreachable!(),
        }
        argv.extend(self.spec.flags.iter().cloned());
        self.workdir = Some(dir);
        self._temp = temp;
        Ok(argv)
    }

    fn spawn(&mut self) -> Result<Option<DirectStdio>> {
        let argv = self
            .argv()
            .map_err(|e| ResponderError::io("preparing the interactor's files", e))?;
        let path = crate::sandbox::resolve_program(Path::new(&argv[0])).map_err(ResponderError)?;
        let pipe = || sys::pipe().map_err(|e| ResponderError::io("creating a pipe", e));
        let (err_r, err_w) = pipe()?;
        let (its_stdin, its_stdout, direct) = if self.spec.direct {
            // A: interactor -> program; B: program -> interactor.
            let (a_r, a_w) = pipe()?;
            let (b_r, b_w) = pipe()?;
            for p in [&a_r, &b_r] {
                sys::set_pipe_size(p, 1 << 20);
            }
            let dup = |fd: &OwnedFd| {
                fd.try_clone()
                    .map(File::from)
                    .map_err(|e| ResponderError::io("duplicating a pipe", e))
            };
            self.held_program_stdin = Some(dup(&a_r)?);
            self.held_own_stdin = Some(dup(&b_r)?);
            (
                b_r,
                a_w,
                Some(DirectStdio {
                    stdin: a_r,
                    stdout: b_w,
                }),
            )
        } else {
            let (to_r, to_w) = pipe()?;
            let (from_r, from_w) = pipe()?;
            sys::set_pipe_size(&from_r, 1 << 20);
            self.to = Some(File::from(to_w));
            self.from = Some(File::from(from_r));
            (to_r, from_w, None)
        };
        self.err = Some(File::from(err_r));
        let limits = self.spec.limits;
        let tree = Sandbox::new(&path, &argv)
            .env(std::env::vars_os())
            .limits(TreeLimits {
                cpu: Some(limits.cpu_time),
                memory_bytes: Some(limits.memory),
                max_tasks: Some(limits.processes),
                stack_bytes: None,
                file_bytes: None,
                open_files: None,
            })
            .cpus(self.spec.cpus.clone())
            .spawn(its_stdin, its_stdout, err_w)
            .map_err(|e| {
                ResponderError(format!(
                    "cannot start the interactor {}: {e}",
                    path.display()
                ))
            })?;
        self.arm_clocks(tree.started_ns());
        self.tree = Some(tree);
        Ok(direct)
    }

    /// Its wall and CPU clocks count from `start_ns`.
    fn arm_clocks(&mut self, start_ns: u64) {
        self.start_ns = start_ns;
        let parallelism = self
            .spec
            .cpus
            .as_ref()
            .map_or(crate::sandbox::cpus::allowed().len(), |c| c.len());
        self.cpu = Some(CpuWatch::new(
            start_ns,
            self.spec.limits.cpu_time.as_nanos() as u64,
            parallelism as u32,
        ));
    }

    fn wall_deadline(&self) -> u64 {
        self.start_ns + self.spec.limits.wall_time.as_nanos() as u64
    }

    /// Its stdout, forwarded to the program as far as the queue allows.
    fn pump_from(&mut self, io: &mut Io<'_>) -> Result<()> {
        let mut buf = self
            .buf
            .take()
            .unwrap_or_else(|| crate::read_buf::ReadBuf::new(CHUNK));
        let r = self.pump_from_with(io, &mut buf);
        self.buf = Some(buf);
        r
    }

    fn pump_from_with(&mut self, io: &mut Io<'_>, buf: &mut [u8]) -> Result<()> {
        loop {
            let from = match self.from.as_mut() {
                Some(f) => f,
                None => return Ok(()),
            };
            let room = if io.stdin_open() { io.space() } else { CHUNK };
            if room == 0 {
                self.from_paused = true;
                return Ok(());
            }
            self.from_paused = false;
            let want = room.min(CHUNK);
            let n = match from.read(&mut buf[..want]) {
                Ok(0) => {
                    self.from = None;
                    // The interactor has said all it will say: for the
                    // question "who finished first" it finished now. The end
                    // of file we pass on below may make the program end
                    // before the interactor's own exit (interpreters close
                    // stdout while they wind down), and that end is a reply
                    // to this one, not a race with it.
                    self.exit_seen_ns.get_or_insert(io.now_ns());
                    // As a pipe would: the program reads end of file once
                    // everything the interactor wrote has been delivered.
                    io.close_stdin();
                    return Ok(());
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(ResponderError::io("reading the interactor's stdout", e)),
            };
            self.output_bytes += n as u64;
            if self.output_bytes > self.spec.limits.output {
                self.fail(
                    io.now_ns(),
                    format!(
                        "the interactor sent more than {} bytes to the program",
                        self.spec.limits.output
                    ),
                );
                return Ok(());
            }
            if io.stdin_open() {
                io.send(&buf[..n]);
            }
            // Drained: the next write raises a new edge. The writers' last
            // close raises none after the one already seen.
            if n < want && !self.from_hangup {
                return Ok(());
            }
        }
    }

    /// Its stdin: flush the queue of the program's output.
    fn pump_to(&mut self) -> Result<()> {
        while self.queue_at < self.queue.len() {
            let to = match self.to.as_mut() {
                Some(t) => t,
                None => break,
            };
            match to.write(&self.queue[self.queue_at..]) {
                Ok(n) => self.queue_at += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(_) => {
                    // It closed its stdin: whatever the program says next is
                    // not heard. Its exit will tell us why.
                    self.to = None;
                    break;
                }
            }
        }
        self.queue.clear();
        self.queue_at = 0;
        if self.close_to_when_drained {
            self.to = None;
        }
        Ok(())
    }

    fn pump_err(&mut self, now_ns: u64) -> Result<()> {
        let mut buf = self
            .buf
            .take()
            .unwrap_or_else(|| crate::read_buf::ReadBuf::new(CHUNK));
        let r = self.pump_err_with(now_ns, &mut buf);
        self.buf = Some(buf);
        r
    }

    fn pump_err_with(&mut self, now_ns: u64, buf: &mut [u8]) -> Result<()> {
        loop {
            let err = match self.err.as_mut() {
                Some(e) => e,
                None => return Ok(()),
            };
            let n = match err.read(buf) {
                Ok(0) => {
                    self.err = None;
                    return Ok(());
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(ResponderError::io("reading the interactor's stderr", e)),
            };
            let cap = self.spec.limits.stderr;
            let keep = cap.saturating_sub(self.stderr_bytes).min(n as u64) as usize;
            self.stderr.extend_from_slice(&buf[..keep]);
            self.stderr_bytes += n as u64;
            if self.stderr_bytes > cap {
                self.fail(
                    now_ns,
                    format!("the interactor wrote more than {cap} bytes to stderr"),
                );
                return Ok(());
            }
        }
    }

    /// Drain a held read end whose reader has gone. Only then may it be made
    /// non-blocking: O_NONBLOCK belongs to the open file description, which
    /// the reader shared while it lived.
    fn drain_held(file: &mut Option<File>) {
        let mut buf = [0u8; 4096];
        if let Some(f) = file.as_mut() {
            if sys::set_nonblocking(f).is_err() {
                *file = None;
                return;
            }
            loop {
                match f.read(&mut buf) {
                    Ok(0) => {
                        *file = None;
                        return;
                    }
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return,
                }
            }
        }
    }

    /// Kill it for breaking one of its limits: a judge error.
    fn fail(&mut self, now_ns: u64, why: String) {
        if self.finished.is_some() {
            return;
        }
        if let Some(t) = &self.tree {
            t.kill();
        }
        self.killed_for = Some(why.clone());
        self.finished = Some(Finished {
            judgement: Judgement::failed(why),
            at_ns: now_ns,
        });
        self.collect();
    }

    fn on_exit(&mut self, io: &mut Io<'_>) -> Result<()> {
        let report = match self.tree.as_mut().map(|t| t.try_exit()) {
            Some(Ok(Some(r))) => r,
            Some(Ok(None)) | None => return Ok(()),
            Some(Err(e)) => {
                self.fail(io.now_ns(), format!("lost the interactor: {e}"));
                return Ok(());
            }
        };
        self.end = Some(report);
        self.collect();
        // Its last words to the program still count.
        self.pump_from(io)?;
        self.pump_err(io.now_ns())?;
        if self.finished.is_some() {
            return Ok(());
        }
        let status = report.wait_status;
        let judgement = if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            let why = if sig == libc::SIGXCPU {
                "the interactor exceeded its CPU-time limit".to_string()
            } else {
                format!("the interactor was killed by signal {}", signal_name(sig))
            };
            Judgement::failed(self.with_stderr(why))
        } else {
            let code = libc::WEXITSTATUS(status);
            let (message, score) = self.protocol_message();
            self.spec.protocol.judge_exit(code, &message, score)
        };
        let judgement = if self.oom && judgement.verdict == crate::verdict::Verdict::JE {
            Judgement::failed(format!(
                "the interactor ran out of memory (limit {} KiB)",
                self.spec.limits.memory / 1024
            ))
        } else {
            judgement
        };
        self.finished = Some(Finished {
            judgement,
            at_ns: self
                .exit_seen_ns
                .map_or(report.at_ns, |seen| seen.min(report.at_ns)),
        });
        Ok(())
    }

    fn with_stderr(&self, why: String) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        match text.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(line) => format!("{why}; its stderr says: {line}"),
            None => why,
        }
    }

    /// The message the protocol designates, and a score if any.
    fn protocol_message(&self) -> (String, Option<f64>) {
        let stderr = String::from_utf8_lossy(&self.stderr).into_owned();
        if self.spec.protocol != Protocol::Kattis {
            return (stderr, None);
        }
        let feedback = match &self.workdir {
            Some(d) => d.join("feedback"),
            None => return (stderr, None),
        };
        let message = read_capped(&feedback.join("judgemessage.txt"), 64 * 1024)
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(stderr);
        let score =
            read_capped(&feedback.join("score.txt"), 1024).and_then(|s| s.trim().parse().ok());
        (message, score)
    }

    /// Reap it and read its figures.
    fn collect(&mut self) {
        if let Some(tree) = self.tree.as_mut() {
            let mem = tree.finish();
            self.oom |= mem.is_some_and(|m| m.oom_kills > 0);
            self.cpu_ns = tree
                .cpu_ns()
                .or(self.end.map(|r| (r.utime_us + r.stime_us) * 1000));
            self.memory_kib = mem
                .and_then(|m| m.peak_bytes.map(|b| b / 1024))
                .or(self.end.map(|r| r.maxrss_kib));
        }
    }
}

impl Responder for ExecResponder {
    fn kind(&self) -> &'static str {
        "exec"
    }

    fn prepare(&mut self) -> Result<Option<DirectStdio>> {
        self.spawn()
    }

    fn register(&mut self, registry: &Registry, first: Token) -> Result<()> {
        self.first = first;
        let reg = |fd: i32, t: Token, i: Interest| {
            registry
                .register(&mut SourceFd(&fd), t, i)
                .map_err(|e| ResponderError::io("registering the interactor", e))
        };
        for (file, i, interest) in [
            (self.from.as_ref(), FROM, Interest::READABLE),
            (self.to.as_ref(), TO, Interest::WRITABLE),
            (self.err.as_ref(), ERR, Interest::READABLE),
        ] {
            if let Some(f) = file {
                sys::set_nonblocking(f).map_err(|e| ResponderError::io("configuring a pipe", e))?;
                reg(f.as_raw_fd(), self.token(i), interest)?;
            }
        }
        if let Some(t) = &self.tree {
            reg(t.exit_fd(), self.token(EXIT), Interest::READABLE)?;
            if let Some(fd) = t.program_pidfd() {
                reg(fd, self.token(PIDFD), Interest::READABLE)?;
            }
        }
        Ok(())
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        // Its clocks count from the session's start (the program's), not
        // from its own spawn, so a slow start of the program on a busy
        // machine is not taken out of the interactor's allowance.
        self.arm_clocks(io.now_ns());
        Ok(())
    }

    fn wants_output(&self) -> bool {
        self.finished.is_none() && self.to.is_some()
    }

    fn accepts_output(&self) -> bool {
        self.queue.len() - self.queue_at < QUEUE_CAP
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], _io: &mut Io<'_>) -> Result<()> {
        if stream != Stream::Stdout || self.to.is_none() {
            return Ok(());
        }
        if self.queue_at == self.queue.len() {
            // Fast path: straight into its pipe.
            let to = self.to.as_mut().expect("checked above");
            let mut done = 0;
            while done < bytes.len() {
                match to.write(&bytes[done..]) {
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        self.to = None;
                        return Ok(());
                    }
                }
            }
            self.queue.clear();
            self.queue_at = 0;
            self.queue.extend_from_slice(&bytes[done..]);
        } else {
            self.queue.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn on_output_closed(&mut self, stream: Stream, _io: &mut Io<'_>) -> Result<()> {
        if stream == Stream::Stdout {
            // The program said all it will say: end of file for the interactor.
            self.close_to_when_drained = true;
            if self.queue_at == self.queue.len() {
                self.to = None;
            }
        }
        Ok(())
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        if self.from_paused {
            self.pump_from(io)?;
        }
        Ok(())
    }

    fn on_ready(&mut self, token: Token, closed: bool, io: &mut Io<'_>) -> Result<()> {
        match token.0 - self.first.0 {
            FROM => {
                self.from_hangup |= closed;
                self.pump_from(io)
            }
            TO => self.pump_to(),
            ERR => self.pump_err(io.now_ns()),
            EXIT => {
                let r = self.on_exit(io);
                if self.spec.direct {
                    // Its stdin's writer (the program) may still write: keep
                    // the pipe from filling so the program never blocks or
                    // dies of SIGPIPE because the interactor left first.
                    if let Some(f) = &self.held_own_stdin {
                        let _ = io.registry().register(
                            &mut SourceFd(&f.as_raw_fd()),
                            self.token(HELD),
                            Interest::READABLE,
                        );
                    }
                    Self::drain_held(&mut self.held_own_stdin);
                }
                r
            }
            // Each held end is registered only once its reader is gone;
            // drain that one alone (the other may still have a live reader).
            HELD => {
                Self::drain_held(&mut self.held_own_stdin);
                Ok(())
            }
            HELD_PROGRAM => {
                Self::drain_held(&mut self.held_program_stdin);
                Ok(())
            }
            PIDFD => {
                self.exit_seen_ns.get_or_insert(io.now_ns());
                if let Some(fd) = self.tree.as_ref().and_then(|t| t.program_pidfd()) {
                    let _ = io.registry().deregister(&mut SourceFd(&fd));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn on_program_exit(&mut self, _exit: ProgramExit, io: &mut Io<'_>) -> Result<()> {
        if !self.spec.direct {
            // Its output may be paused for a program that is gone: drain it
            // (discarding) so it can get on with its verdict.
            self.pump_from(io)?;
        }
        if self.spec.direct {
            if let Some(f) = &self.held_program_stdin {
                let _ = io.registry().register(
                    &mut SourceFd(&f.as_raw_fd()),
                    self.token(HELD_PROGRAM),
                    Interest::READABLE,
                );
            }
            Self::drain_held(&mut self.held_program_stdin);
        }
        Ok(())
    }

    fn deadline(&self) -> Option<u64> {
        if self.finished.is_some() || self.tree.is_none() {
            return None;
        }
        let cpu = self.cpu.map_or(u64::MAX, |c| c.next_ns());
        Some(self.wall_deadline().min(cpu))
    }

    fn on_deadline(&mut self, io: &mut Io<'_>) -> Result<()> {
        let now = io.now_ns();
        if now >= self.wall_deadline() {
            let ms = self.spec.limits.wall_time.as_millis();
            self.fail(
                now,
                format!("the interactor did not finish within its wall-time limit of {ms} ms"),
            );
            return Ok(());
        }
        let used = self.tree.as_mut().and_then(|t| t.cpu_ns()).unwrap_or(0);
        if let Some(w) = self.cpu.as_mut() {
            if now >= w.next_ns() && w.exceeded(now, used) {
                let ms = self.spec.limits.cpu_time.as_millis();
                self.fail(
                    now,
                    format!("the interactor used more than its CPU-time limit of {ms} ms"),
                );
            }
        }
        Ok(())
    }

    fn waiting_for_program(&mut self) -> Option<u64> {
        use crate::sandbox::sys::pipe_bytes;
        use std::os::fd::AsRawFd;
        if self.finished.is_some() || self.spec.direct || self.from_paused {
            return None;
        }
        // Nothing on its way in either direction: its queue and its stdin
        // pipe drained, its stdout pipe read.
        let queued = self.queue.len() - self.queue_at;
        let to = pipe_bytes(self.to.as_ref()?.as_raw_fd())?;
        let from = pipe_bytes(self.from.as_ref()?.as_raw_fd())?;
        if queued > 0 || to > 0 || from > 0 {
            return None;
        }
        let tree = self.tree.as_mut()?;
        if tree.asleep_reading_stdin() != Some(true) {
            return None;
        }
        tree.cpu_ns()
    }

    fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    fn ended_at(&self) -> Option<u64> {
        self.finished
            .as_ref()
            .map(|f| f.at_ns)
            .or(self.exit_seen_ns)
    }

    fn finish(&mut self) -> ResponderReport {
        if self.end.is_none() && self.killed_for.is_none() {
            if let Some(t) = &self.tree {
                t.kill();
            }
        }
        self.collect();
        let (exit_code, signal) = match self.end.map(|r| r.wait_status) {
            Some(s) if libc::WIFSIGNALED(s) => (None, Some(libc::WTERMSIG(s))),
            Some(s) => (Some(libc::WEXITSTATUS(s)), None),
            None => (None, Some(libc::SIGKILL)),
        };
        let wall = self
            .end
            .map(|r| r.at_ns)
            .or(self.finished.as_ref().map(|f| f.at_ns))
            .unwrap_or_else(sys::monotonic_ns)
            .saturating_sub(self.start_ns);
        let j = self.finished.as_ref().map(|f| &f.judgement);
        let report = ResponderReport {
            kind: self.kind(),
            verdict: j.map(|j| j.verdict),
            message: j.map(|j| j.message.clone()),
            points: j.and_then(|j| j.points),
            exit_code,
            signal,
            signal_name: signal.map(signal_name),
            cpu_time_ms: self.cpu_ns.map(|n| n / 1_000_000),
            wall_time_ms: Some(wall / 1_000_000),
            memory_kib: self.memory_kib,
            output_bytes: (!self.spec.direct).then_some(self.output_bytes),
            stderr: Some(String::from_utf8_lossy(&self.stderr).into_owned()),
            module: None,
            script: None,
        };
        self.tree = None;
        self.workdir = None;
        self._temp = None;
        report
    }
}

/// Read a file the interactor wrote, at most `cap` bytes. Whoever could
/// write to the directory may have planted a symlink or a FIFO there:
/// O_NOFOLLOW refuses the first, O_NONBLOCK keeps the open of the second
/// from waiting forever, and only a regular file is read.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Option<String> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut s = Vec::new();
    f.take(cap).read_to_end(&mut s).ok()?;
    Some(String::from_utf8_lossy(&s).into_owned())
}

/// A private temporary directory, removed when dropped.
pub(crate) struct TempDir(PathBuf);

/// Prefix of our temp dirs: the PID namespace and pid of the judge, so a
/// later judge can remove those of one that was killed.
fn temp_prefix() -> String {
    format!("judge-session-{}-", crate::sandbox::pid_namespace())
}

impl TempDir {
    pub(crate) fn new() -> io::Result<TempDir> {
        sweep_stale_temp_dirs();
        // mkdtemp replaces the six trailing Xs of the template.
        let template = std::env::temp_dir().join(format!(
            "{}{}-{}",
            temp_prefix(),
            std::process::id(),
            "X".repeat(6)
        ));
        let dir = nix::unistd::mkdtemp(&template).map_err(io::Error::from)?;
        Ok(TempDir(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove_tree(&self.0);
    }
}

/// remove_dir_all, and if something in the tree was made unwritable (the
/// program may reach the directory until it runs in a mount namespace of
/// its own), make it writable and try again.
fn remove_tree(dir: &Path) {
    if fs::remove_dir_all(dir).is_ok() {
        return;
    }
    fn unlock(p: &Path) {
        use std::os::unix::fs::PermissionsExt;
        // symlink_metadata: never follow a planted link out of the tree.
        if let Ok(m) = fs::symlink_metadata(p) {
            if m.is_dir() {
                let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o700));
                if let Ok(rd) = fs::read_dir(p) {
                    for e in rd.flatten() {
                        unlock(&e.path());
                    }
                }
            }
        }
    }
    unlock(dir);
    let _ = fs::remove_dir_all(dir);
}

/// Remove the temp dirs of judges of our PID namespace that are gone.
fn sweep_stale_temp_dirs() {
    let prefix = temp_prefix();
    let entries = match fs::read_dir(std::env::temp_dir()) {
        Ok(e) => e,
        Err(_) => return,
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                remove_tree(&e.path());
            }
        }
    }
}
