//! WASI command mode: an interactor or checker that talks on stdin and
//! stdout (a testlib interactor, a Kattis validator), compiled unchanged to
//! `wasm32-wasi`, run untrusted in wasmtime instead of as a process.
//!
//! - its stdin is the program's stdout, its stdout the program's stdin,
//!   its stderr kept as an exec interactor's is;
//! - it is given the protocol's files, as an exec interactor is, in one
//!   preopened directory `/` that holds them and nothing else
//!   ([`files`]): testlib `M ARGS /input /tout /answer`, Kattis
//!   `M ARGS /input /answer /feedback/`, plain no files; then the
//!   validator flags;
//! - its exit status reads as `--protocol` says ([`Protocol::judge_exit`]);
//! - its memory, time and output are capped as a wasm responder's are;
//!   its clocks are virtual and its randomness a fixed stream
//!   ([`preview1`]).
//!
//! It runs on the session's loop as a suspended task ([`machine`]): no
//! thread, no process.

pub mod errno;
pub mod files;
pub mod machine;
mod memory;
pub mod preview1;
mod time;

use std::path::{Path, PathBuf};

use files::{Content, DirNode, Fd, FileNode, Files, Node};
pub use machine::WasiState;
use machine::{Ended, Machine, Shared, Wait};

use super::plugin::wasm::{self, Loaded};
use super::{Finished, Io, ProgramExit, Protocol, Responder, ResponderError, ResponderReport};
use super::{Result, Stream};
use crate::limits::ResponderLimits;
use crate::verdict::Judgement;

/// A WASI command module and what it is given.
#[derive(Debug, Clone)]
pub struct WasiSpec {
    pub path: PathBuf,
    /// Words after the module's name in its argv, before the files.
    pub args: Vec<String>,
    pub protocol: Protocol,
    /// The test's input and answer, given read-only as `/input` and
    /// `/answer` (empty files when absent).
    pub input: Option<PathBuf>,
    pub answer: Option<PathBuf>,
    /// Words after the files (Kattis' `validator_flags`).
    pub flags: Vec<String>,
    /// Copy what it wrote (testlib's `tout`, Kattis' `feedback/`) into
    /// this existing folder when it ends, as an exec interactor leaves
    /// them there.
    pub files_dir: Option<PathBuf>,
    pub limits: ResponderLimits,
}

/// Bytes of the program's output the module has not read yet, beyond
/// which the program's output is left unread (backpressure).
const STDIN_PENDING_MAX: usize = 1 << 20;

/// The protocol's files and the words that name them, for a run.
pub(crate) struct Layout {
    pub files: Files,
    pub words: Vec<String>,
    pub feedback: Option<usize>,
}

/// A read-only file: the host file at `path` (opened by the judge), or an
/// empty one.
fn test_file(path: Option<&Path>) -> std::io::Result<Node> {
    let content = match path {
        Some(p) => {
            let f = super::plugin::open_regular(p)?;
            let len = f.metadata()?.len();
            Content::Host(f, len)
        }
        None => Content::Memory(Vec::new()),
    };
    Ok(Node::File(FileNode {
        content,
        writable: false,
    }))
}

impl Layout {
    /// The files of an interactor (`output: None`) or of a checker of the
    /// program's `output` (testlib's `/output`; Kattis reads it on stdin).
    /// `feedback_from`: a host folder whose files `/feedback/` starts with,
    /// as Kattis keeps the feedback folder from one pass to the next.
    pub(crate) fn new(
        protocol: Protocol,
        input: Option<&Path>,
        answer: Option<&Path>,
        output: Option<Vec<u8>>,
        feedback_from: Option<&Path>,
        written_max: u64,
    ) -> std::result::Result<Layout, String> {
        let mut files = Files::new(written_max);
        let open = |what: &str, p: Option<&Path>| {
            test_file(p).map_err(|e| {
                format!(
                    "reading the {what} file {}: {e}",
                    p.map(|p| p.display().to_string()).unwrap_or_default()
                )
            })
        };
        let mut words = Vec::new();
        let mut feedback = None;
        let checker = output.is_some();
        match protocol {
            Protocol::Plain if !checker => {}
            Protocol::Testlib | Protocol::Plain => {
                files.add("input", open("input", input)?);
                words.push("/input".to_string());
                if let Some(out) = output {
                    files.add(
                        "output",
                        Node::File(FileNode {
                            content: Content::Memory(out),
                            writable: false,
                        }),
                    );
                    words.push("/output".into());
                } else {
                    files.add(
                        "tout",
                        Node::File(FileNode {
                            content: Content::Memory(Vec::new()),
                            writable: true,
                        }),
                    );
                    words.push("/tout".into());
                }
                files.add("answer", open("answer", answer)?);
                words.push("/answer".into());
            }
            Protocol::Kattis => {
                files.add("input", open("input", input)?);
                files.add("answer", open("answer", answer)?);
                let dir = files.add(
                    "feedback",
                    Node::Dir(DirNode {
                        entries: Default::default(),
                        writable: true,
                    }),
                );
                if let Some(from) = feedback_from {
                    seed_feedback(&mut files, dir, from)?;
                }
                feedback = Some(dir);
                words.extend(["/input".into(), "/answer".into(), "/feedback/".into()]);
            }
        }
        Ok(Layout {
            files,
            words,
            feedback,
        })
    }

    /// The shared state of a run: argv is the module's file name, `args`,
    /// the files' names, `flags`.
    pub(crate) fn shared(
        self,
        module: &Path,
        args: &[String],
        flags: &[String],
        limits: &ResponderLimits,
    ) -> Shared {
        let name = module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "module.wasm".into());
        let argv = std::iter::once(name)
            .chain(args.iter().cloned())
            .chain(self.words)
            .chain(flags.iter().cloned())
            .map(String::into_bytes)
            .collect();
        let mut fds = vec![Some(Fd::Stdin), Some(Fd::Stdout), Some(Fd::Stderr)];
        if self.files.len(Files::ROOT) > 0 {
            fds.push(Some(Fd::Dir {
                node: Files::ROOT,
                preopen: Some("/"),
            }));
        }
        let mut s = Shared::new(self.files, fds, argv, limits.cpu_time.as_nanos() as u64);
        s.stdout_max = limits.output;
        s.stderr_max = limits.stderr;
        s
    }
}

/// The regular files of the host folder `from` (absent: none), into the
/// module's feedback folder `dir`.
fn seed_feedback(files: &mut Files, dir: usize, from: &Path) -> std::result::Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let bytes =
            std::fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
        files
            .seed(dir, e.file_name().as_bytes(), &bytes)
            .map_err(|_| {
                format!(
                    "{}: the feedback folder holds more than the responder's output limit",
                    from.display()
                )
            })?;
    }
    Ok(())
}

/// Compile (or find compiled) the WASI command at `path` and set up its run.
pub(crate) fn machine(
    path: &Path,
    shared: Shared,
    limits: &ResponderLimits,
) -> std::result::Result<(Machine, wasm::Origin), String> {
    let wasm::Compiled(loaded, origin) = wasm::compiled(path)?;
    let Loaded::Wasi(pre) = loaded else {
        return Err("is a module of the event ABI, not a WASI command".into());
    };
    Ok((Machine::new(pre, shared, limits.memory), origin))
}

/// Its message under `protocol` (Kattis' judgemessage.txt, else its
/// stderr) and score.
pub(crate) fn protocol_message(protocol: Protocol, s: &Shared) -> (String, Option<f64>) {
    let stderr = String::from_utf8_lossy(&s.stderr).into_owned();
    if protocol != Protocol::Kattis {
        return (stderr, None);
    }
    let text = |name: &str| {
        s.files
            .memory_file(&format!("feedback/{name}"))
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(64 * 1024)]).into_owned())
    };
    let message = text("judgemessage.txt")
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(stderr);
    let score = text("score.txt").and_then(|t| t.trim().parse().ok());
    (message, score)
}

/// Copy what it wrote into `dir`, as an exec interactor leaves it there:
/// `tout`, and `feedback/`'s files.
pub(crate) fn leave_files(s: &Shared, feedback: Option<usize>, dir: &Path) -> std::io::Result<()> {
    if let Some(tout) = s.files.memory_file("tout") {
        std::fs::write(dir.join("tout"), tout)?;
    }
    match feedback {
        Some(fb) => leave_feedback(s, fb, &dir.join("feedback")),
        None => Ok(()),
    }
}

/// Copy the files of its feedback folder (node `fb`) into the host folder
/// `to`.
pub(crate) fn leave_feedback(s: &Shared, fb: usize, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::create_dir_all(to)?;
    for (name, bytes) in s.files.files_in(fb) {
        std::fs::write(to.join(std::ffi::OsStr::from_bytes(name)), bytes)?;
    }
    Ok(())
}

/// The judgement for a run that ended, `who` naming it in messages.
pub(crate) fn judgement(who: &str, protocol: Protocol, end: &Ended, s: &Shared) -> Judgement {
    match end {
        Ended::Exit(code) => {
            let (message, score) = protocol_message(protocol, s);
            protocol.judge_exit_of(who, *code, &message, score)
        }
        Ended::Failed(why) => {
            let why = format!("the {who} {why}");
            let text = String::from_utf8_lossy(&s.stderr);
            Judgement::failed(match text.lines().map(str::trim).find(|l| !l.is_empty()) {
                Some(line) => format!("{why}; its stderr says: {line}"),
                None => why,
            })
        }
    }
}

/// The [`Responder`] for a WASI command.
pub struct WasiResponder {
    spec: WasiSpec,
    machine: Option<Machine>,
    feedback: Option<usize>,
    origin: Option<wasm::Origin>,
    finished: Option<Finished>,
    end: Option<Ended>,
    /// Bytes delivered to the program's stdin.
    sent: u64,
    stdin_closed: bool,
    /// The program has exited: nobody reads what the module writes.
    program_gone: bool,
    /// The judge killed the program (a limit, a verdict): the module is
    /// not run again, as an interactor process's answer to that would
    /// come too late to count.
    program_killed: bool,
    /// Its wall clock counts from the session's start.
    start_ns: u64,
}

impl WasiResponder {
    pub fn new(spec: WasiSpec) -> Self {
        WasiResponder {
            spec,
            machine: None,
            feedback: None,
            origin: None,
            finished: None,
            end: None,
            sent: 0,
            stdin_closed: false,
            program_gone: false,
            program_killed: false,
            start_ns: 0,
        }
    }

    /// Let it run until it waits, yields or ends, passing what it writes
    /// on; again while what it waits for is there.
    fn step(&mut self, io: &mut Io<'_>) {
        if self.machine.is_none() || self.program_killed {
            return;
        }
        // What it finds when it resumes: room made, or the program gone.
        self.flush(io);
        loop {
            let m = self.machine.as_mut().expect("checked above");
            m.poll();
            io.now_ns = crate::sandbox::sys::monotonic_ns();
            let room = self.flush(io);
            let m = self.machine.as_ref().expect("checked above");
            let s = m.lock();
            let again = s.waiting == Some(Wait::Stdout) && (room || s.peer_gone);
            drop(s);
            if !again || m.ended().is_some() {
                break;
            }
        }
        let ended = self.machine.as_ref().and_then(|m| m.ended().cloned());
        if let (None, Some(end)) = (&self.end, ended) {
            self.conclude(end, io.now_ns());
        }
    }

    /// Pass its output to the program's stdin; close that once it has
    /// closed its stdout or ended. Whether the program can take more.
    fn flush(&mut self, io: &mut Io<'_>) -> bool {
        let Some(m) = self.machine.as_ref() else {
            return false;
        };
        let ended = m.ended().is_some();
        let mut s = m.lock();
        if self.program_gone || !io.stdin_open() {
            // As a write to a pipe nobody reads: EPIPE from now on.
            s.peer_gone = true;
            s.stdout.clear();
            s.stdout_at = 0;
            return false;
        }
        let n = io.send(s.stdout_left());
        s.took(n);
        self.sent += n as u64;
        if !io.stdin_open() {
            // The send met a closed pipe: EPIPE for the module from now.
            s.peer_gone = true;
            s.stdout.clear();
            s.stdout_at = 0;
            return false;
        }
        if (ended || s.stdout_closed) && s.stdout_left().is_empty() && !self.stdin_closed {
            self.stdin_closed = true;
            io.close_stdin();
        }
        io.space() > 0
    }

    /// Its wall clock, as an exec interactor's, counts from the session's
    /// start.
    fn wall_deadline(&self) -> u64 {
        self.start_ns + self.spec.limits.wall_time.as_nanos() as u64
    }

    fn conclude(&mut self, end: Ended, now_ns: u64) {
        let Some(m) = self.machine.as_ref() else {
            return;
        };
        let s = m.lock();
        let judgement = judgement("interactor", self.spec.protocol, &end, &s);
        let judgement = match &self.spec.files_dir {
            Some(dir) => match leave_files(&s, self.feedback, dir) {
                Ok(()) => judgement,
                Err(e) => Judgement::failed(format!(
                    "cannot leave the interactor's files in {}: {e}",
                    dir.display()
                )),
            },
            None => judgement,
        };
        drop(s);
        self.end = Some(end);
        self.finished = Some(Finished {
            judgement,
            at_ns: now_ns,
        });
    }
}

impl Responder for WasiResponder {
    fn kind(&self) -> &'static str {
        "wasi"
    }

    /// Compile it and lay out its files before the program starts: a
    /// module that cannot run is JE at once.
    fn prepare(&mut self) -> Result<Option<super::DirectStdio>> {
        let spec = &self.spec;
        let fail =
            |e: String| ResponderError(format!("wasi responder {}: {e}", spec.path.display()));
        let layout = Layout::new(
            spec.protocol,
            spec.input.as_deref(),
            spec.answer.as_deref(),
            None,
            spec.files_dir
                .as_ref()
                .map(|d| d.join("feedback"))
                .as_deref(),
            spec.limits.output,
        )
        .map_err(fail)?;
        self.feedback = layout.feedback;
        let shared = layout.shared(&spec.path, &spec.args, &spec.flags, &spec.limits);
        let (m, origin) = machine(&spec.path, shared, &spec.limits).map_err(fail)?;
        self.machine = Some(m);
        self.origin = Some(origin);
        Ok(None)
    }

    fn wants_output(&self) -> bool {
        true
    }

    /// Backpressure while it runs; none once the program is gone (what is
    /// left is a pipe's worth, to be read to its end) or it has ended.
    fn accepts_output(&self) -> bool {
        match &self.machine {
            Some(m) if m.ended().is_none() && !self.program_gone => {
                m.lock().stdin_left() < STDIN_PENDING_MAX
            }
            _ => true,
        }
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.start_ns = io.now_ns();
        self.step(io);
        Ok(())
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], io: &mut Io<'_>) -> Result<()> {
        let Some(m) = &self.machine else {
            return Ok(());
        };
        // After a kill the module is not run again: what the program left
        // is read (to its end of file) and dropped.
        if stream != Stream::Stdout || m.ended().is_some() || self.program_killed {
            return Ok(());
        }
        m.lock().feed(bytes);
        self.step(io);
        Ok(())
    }

    fn on_output_closed(&mut self, stream: Stream, io: &mut Io<'_>) -> Result<()> {
        if stream == Stream::Stdout {
            if let Some(m) = &self.machine {
                m.lock().stdin_eof = true;
            }
            // An exit and the end of its output come together; whichever
            // the loop handles first, the module that reads the end of
            // file must find the program's stdin unread, as it would with
            // a pipe (an exiting process closes its stdin before its
            // stdout).
            self.program_gone |= io.stdin_reader_gone();
            self.step(io);
        }
        Ok(())
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.step(io);
        Ok(())
    }

    fn on_program_exit(&mut self, exit: ProgramExit, io: &mut Io<'_>) -> Result<()> {
        self.program_gone = true;
        self.program_killed = exit.by_judge;
        self.step(io);
        Ok(())
    }

    /// Now, while it can run (it yielded at a tick): the loop gives the
    /// program its turn between two slices of the module's. Else its wall
    /// limit, as an exec interactor's.
    fn deadline(&self) -> Option<u64> {
        let m = self.machine.as_ref()?;
        if self.finished.is_some() || m.ended().is_some() {
            return None;
        }
        if m.runnable() && !self.program_killed {
            return Some(0);
        }
        Some(self.wall_deadline())
    }

    fn on_deadline(&mut self, io: &mut Io<'_>) -> Result<()> {
        if self.finished.is_none() && io.now_ns() >= self.wall_deadline() {
            if let Some(m) = self.machine.as_mut() {
                m.stop();
            }
            let ms = self.spec.limits.wall_time.as_millis();
            self.conclude(
                Ended::Failed(format!(
                    "did not finish within its wall-time limit of {ms} ms"
                )),
                io.now_ns(),
            );
            // As an interactor killed: the program reads end of file.
            if !self.stdin_closed {
                self.stdin_closed = true;
                io.close_stdin();
            }
            return Ok(());
        }
        if self.machine.as_ref().is_some_and(|m| m.runnable()) {
            self.step(io);
        }
        Ok(())
    }

    fn waiting_for_program(&mut self) -> Option<u64> {
        let m = self.machine.as_ref()?;
        if m.ended().is_some() {
            return None;
        }
        let s = m.lock();
        let idle =
            s.waiting == Some(Wait::Stdin) && s.stdin_left() == 0 && s.stdout_left().is_empty();
        idle.then_some(s.spent_ns)
    }

    fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    fn finish(&mut self) -> ResponderReport {
        let mut report = ResponderReport {
            kind: self.kind(),
            output_bytes: Some(self.sent),
            module: self.origin.map(|o| o.name()),
            ..Default::default()
        };
        if let Some(m) = self.machine.as_mut() {
            m.stop();
            let s = m.lock();
            report.cpu_time_ms = Some(s.spent_ns / 1_000_000);
            report.memory_kib = Some(s.memory_peak / 1024);
            report.stderr = Some(String::from_utf8_lossy(&s.stderr).into_owned());
        }
        if let Some(Ended::Exit(code)) = self.end {
            report.exit_code = Some(code);
        }
        if let Some(f) = &self.finished {
            report.verdict = Some(f.judgement.verdict);
            report.message = Some(f.judgement.message.clone());
            report.points = f.judgement.points;
        }
        report
    }
}
