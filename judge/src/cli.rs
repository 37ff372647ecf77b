//! Command-line flags and their translation into a [`Session`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use judge::limits::{parse_duration, parse_size, Limits, ResponderLimits};
use judge::sandbox::cpus;
use judge::{
    Checker, CpuPlacement, ExecSpec, IsolationLevel, OnForbidden, PluginKind, PluginSpec,
    Precedence, Protocol, ResponderChoice, Session, WasiSpec,
};

/// Run an untrusted program in a sandbox, talk to it, judge it.
#[derive(Debug, Parser)]
#[command(name = "judge", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one program against one responder and print the verdict.
    ///
    /// The program runs in /box of a sandbox that shows only the system
    /// folders: copy its files in with --file (judge run --file sol.py --
    /// python3 sol.py), show folders with --dir. Feed its stdin with --stdin,
    /// check its output with --answer, or talk to it with --responder.
    ///
    /// Exit status: 0 for AC, 1 for any other verdict, 2 for a usage or
    /// configuration error.
    Run(Box<RunArgs>),
    /// Say what this host supports (namespaces, cgroups, seccomp, file
    /// systems), what `judge run` will use, and how to enable what is missing.
    Doctor,
    /// Judge sessions one after another in this process, for graders that
    /// cannot link the library: each line on stdin is a JSON array of the
    /// arguments of `judge run` (`["--time-limit", "1", "--", "./a.out"]`),
    /// answered by one line on stdout, the object `judge run --json`
    /// prints, or `{"error": "...", "exit_status": 2}` for a request that
    /// is not one. A line that is a JSON object runs CodeJail's jail_code
    /// or safe_exec in a jail (`{"safe_exec": {"code": ..., "globals_dict":
    /// ...}}`, see docs/codejail.md). Ends at the end of stdin.
    Serve(ServeArgs),
    /// Judge a submission against a whole problem package (Kattis/ICPC or
    /// Polygon): compile it, run every test in parallel, check each output
    /// with the problem's validator, and grade by the format's rules. With
    /// no submission, verify the package: judge every file in its
    /// submissions/ folders (or Polygon's tagged solutions) and check each
    /// gets the verdict its folder names.
    ///
    /// Exit status: 0 for AC (verify: every expectation met), 1 otherwise,
    /// 2 for a usage or package error.
    Problem(Box<crate::problem_cmd::ProblemArgs>),
    /// List the configured languages and whether each is usable here.
    Languages(crate::problem_cmd::LanguagesArgs),
    /// Runs tests for `judge problem` (one setup line, then test indexes
    /// on stdin; one JSON result per line on stdout).
    #[command(hide = true)]
    ProblemWorker,
    /// Run conversation scripts (*.conv) in parallel, each against the
    /// program its `run` step names (or --program), and print a table of
    /// verdicts and every failure. See docs/conversations.md.
    ///
    /// Exit status: 0 if every script passed, 1 otherwise, 2 for a usage
    /// error or a script that does not parse.
    Test(Box<crate::script_cmd::TestArgs>),
    /// Run a program in the sandbox with this terminal wired to it, and
    /// write what happened as a conversation script that replays as a
    /// test: each line typed becomes a send, the output before it an
    /// expect of its last line, the exit the exit step.
    Record(Box<crate::script_cmd::RecordArgs>),
    /// Run Python code in a named jail with JSON globals in and out, as
    /// CodeJail's safe_exec does: print the globals after the run (values
    /// that are not JSON dropped as CodeJail drops them), or, when the code
    /// raised or hit a limit, the error with its traceback and exit 1.
    Exec(Box<crate::exec_cmd::ExecArgs>),
    /// Serve codejail-service's API over HTTP (POST /api/v0/code-exec),
    /// with GET /health and, when allowed, POST /v1/run: sessions run at
    /// once up to --slots, wait up to --queue, and are answered 503 past
    /// that. Listens on loopback unless told otherwise.
    #[cfg(feature = "http")]
    Http(Box<crate::http::HttpArgs>),
    /// Put a job in a Redis stream: a submission judged against a problem
    /// package by `judge worker`s (the package and submission uploaded
    /// content-addressed; a job id enqueued once).
    #[cfg(feature = "redis")]
    Submit(Box<crate::scale_cmd::SubmitArgs>),
    /// Judge jobs from Redis streams, as `judge problem` would, one per
    /// slot; leases renewed, dead workers' jobs reclaimed, each result
    /// published once. SIGTERM: finish, commit, exit 0.
    #[cfg(feature = "redis")]
    Worker(Box<crate::scale_cmd::WorkerArgs>),
    /// Print published results as JSON lines (a job's, or all; --follow).
    #[cfg(feature = "redis")]
    Results(Box<crate::scale_cmd::ResultsArgs>),
    /// Show the streams: waiting and pending jobs per worker, dead
    /// letters, the workers seen.
    #[cfg(feature = "redis")]
    Queue(Box<crate::scale_cmd::QueueArgs>),
    /// Runs scripts for `judge test` (a setup line, then script paths on
    /// stdin; one JSON result per line on stdout).
    #[command(hide = true)]
    TestWorker,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// CPU time of all the program's processes together, in seconds (or 500ms).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_duration, help_heading = "Limits")]
    pub time_limit: Duration,

    /// Wall-clock time, in seconds [default: 3 x time limit + 1 s].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, help_heading = "Limits")]
    pub wall_limit: Option<Duration>,

    /// Memory of the whole process tree (K, M, G: powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size, help_heading = "Limits")]
    pub memory_limit: u64,

    /// Bytes the program may write to stdout; one more is OLE.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, help_heading = "Limits")]
    pub output_limit: u64,

    /// Bytes the program may write to stderr; one more is OLE.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size, help_heading = "Limits")]
    pub stderr_limit: u64,

    /// Processes and threads the program may have alive at once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4_194_304), help_heading = "Limits")]
    pub processes: u64,

    /// Largest file the program may write; writing past it is OLE.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, help_heading = "Limits")]
    pub file_size_limit: u64,

    /// Size of the program's writable file system (work directory and /tmp).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, help_heading = "Limits")]
    pub workdir_size: u64,

    /// Files the program may have open at once, per process.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(4..=1_048_576), help_heading = "Limits")]
    pub open_files: u64,

    /// full: own root file system, no network, unprivileged user, system
    /// call filter; none: limits and tree clean-up only (trusted code).
    #[arg(long, value_name = "full|none", default_value = "full", value_parser = parse_isolation, help_heading = "Sandbox")]
    pub isolation: IsolationLevel,

    /// Copy a host file into the work directory (repeatable).
    #[arg(long, value_name = "SRC[:DEST]", help_heading = "Sandbox")]
    pub file: Vec<String>,

    /// Show a host directory inside the sandbox, read-only unless :rw (repeatable).
    #[arg(long, value_name = "SRC:DEST[:rw]", help_heading = "Sandbox")]
    pub dir: Vec<String>,

    /// After the run, copy the work directory's files to DIR (created; must
    /// be empty if it exists). Symlinks, FIFOs and devices are not copied.
    #[arg(long, value_name = "DIR", help_heading = "Sandbox")]
    pub keep_workdir: Option<PathBuf>,

    /// What a refused system call does: fail (EPERM, listed in the result)
    /// or kill (RE).
    #[arg(long, value_name = "fail|kill", default_value = "fail", value_parser = parse_on_forbidden, help_heading = "Sandbox")]
    pub on_forbidden: OnForbidden,

    /// Feed this file to the program's stdin, then end of file.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "responder",
        help_heading = "Responder"
    )]
    pub stdin: Option<PathBuf>,

    /// Who answers the program: exec:'CMD ARGS' runs an interactor process;
    /// native:'FILE.so ARGS' loads a plugin; wasm:'FILE.wasm ARGS' runs a
    /// WebAssembly module (.wat text too): one of the responder ABI, or a
    /// WASI command (a stdio interactor compiled to wasm32-wasi, read by
    /// --protocol); script:FILE holds a conversation (docs/conversations.md).
    /// See docs/responder-abi.md.
    #[arg(long, value_name = "KIND:SPEC", help_heading = "Responder")]
    pub responder: Option<String>,

    /// How the interactor's exit status becomes a verdict.
    #[arg(
        long,
        value_name = "testlib|kattis|plain",
        default_value = "testlib",
        help_heading = "Responder"
    )]
    pub protocol: Protocol,

    /// The test's input file, passed to testlib and Kattis interactors.
    #[arg(long, value_name = "FILE", help_heading = "Responder")]
    pub input: Option<PathBuf>,

    /// The test's answer file: passed to testlib and Kattis interactors and
    /// modules; without a responder, the program's output is checked
    /// against it (see --checker).
    #[arg(long, value_name = "FILE", help_heading = "Responder")]
    pub answer: Option<PathBuf>,

    /// How a batch program's output is checked against --answer, once it
    /// has ended normally: 'diff [FLAGS]', the Kattis default output
    /// validator (tokens, whitespace- and case-insensitive; flags
    /// case_sensitive, space_change_sensitive, float_tolerance E,
    /// float_absolute_tolerance E, float_relative_tolerance E); or
    /// exec:'CMD ARGS', a checker process read as --protocol says (testlib:
    /// CMD input output answer; kattis: CMD input answer feedback_dir <
    /// output), with the responder limits; or native:'FILE.so ARGS' /
    /// wasm:'FILE ARGS', a checker module of the responder ABI, which feeds
    /// the program --input and judges its output as it streams; or
    /// wasm:'FILE ARGS' naming a WASI command, the checker process compiled
    /// to wasm32-wasi, run after the program as exec: is. The default with
    /// --answer and no --responder is diff.
    #[arg(long, value_name = "diff [FLAGS]|exec:CMD", help_heading = "Responder")]
    pub checker: Option<String>,

    /// Words passed to an interactor or checker process after its files
    /// (Kattis' validator_flags: validator input answer feedback_dir FLAGS).
    #[arg(long, value_name = "FLAGS", help_heading = "Responder")]
    pub validator_flags: Option<String>,

    /// Wire the interactor straight to the program: no transcript and no
    /// stream caps on that path, for problems with millions of exchanges.
    #[arg(long, help_heading = "Responder")]
    pub direct: bool,

    /// Who wins when both sides misbehave.
    #[arg(
        long,
        value_name = "kattis|testlib|cms",
        default_value = "kattis",
        help_heading = "Responder"
    )]
    pub precedence: Precedence,

    /// The interactor's CPU time, in seconds [default: the program's wall limit, at least 10 s].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, help_heading = "Responder limits")]
    pub responder_time_limit: Option<Duration>,

    /// The interactor's wall time from the start [default: the program's wall limit + 1 s].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, help_heading = "Responder limits")]
    pub responder_wall_limit: Option<Duration>,

    /// The interactor's memory.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Responder limits")]
    pub responder_memory_limit: u64,

    /// Bytes the interactor may send to the program.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size, help_heading = "Responder limits")]
    pub responder_output_limit: u64,

    /// Bytes the interactor may write to its stderr.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size, help_heading = "Responder limits")]
    pub responder_stderr_limit: u64,

    /// Processes and threads the interactor may have alive at once.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=4_194_304), help_heading = "Responder limits")]
    pub responder_processes: u64,

    /// CPUs for the program, the responder and the loop (e.g. 0 or 0-1), or
    /// "any" [default: one free CPU for interactive sessions, any otherwise].
    #[arg(long, value_name = "LIST|any", help_heading = "Placement")]
    pub cpus: Option<String>,

    /// Set an environment variable for the program (repeatable); it otherwise
    /// gets only PATH, HOME and LANG.
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Program")]
    pub env: Vec<String>,

    /// Give the program a terminal (a pseudo-terminal) as its stdin and
    /// stdout, for programs that prompt or flush only on one. Echo is off
    /// and "\n" stays "\n": what is read from it is what the program wrote.
    #[arg(long, help_heading = "Program")]
    pub pty: bool,

    /// The terminal's size, COLSxROWS.
    #[arg(long, value_name = "COLSxROWS", default_value = "80x24", value_parser = judge::script::parse::terminal_size, help_heading = "Program")]
    pub pty_size: (u16, u16),

    /// stderr on the terminal too (mixed into stdout), not a pipe apart.
    #[arg(long, help_heading = "Program")]
    pub pty_stderr: bool,

    /// The terminal echoes what is sent into the program's output, as a
    /// person's terminal does.
    #[arg(long, help_heading = "Program")]
    pub pty_echo: bool,

    /// The program's working directory.
    #[arg(long, value_name = "DIR", help_heading = "Program")]
    pub cwd: Option<PathBuf>,

    /// Print exactly one JSON object with the result on stdout.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Write every chunk of the conversation as JSON lines to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub transcript: Option<PathBuf>,

    /// At most this much of each stream goes into the JSON (the rest is
    /// counted; stdout_truncated says so); --stdout and --stderr keep all.
    #[arg(long, value_name = "SIZE", default_value = "64K", value_parser = parse_size, help_heading = "Output")]
    pub json_output_limit: u64,

    /// Save the program's whole stdout (up to --output-limit) to FILE.
    #[arg(long = "stdout", value_name = "FILE", help_heading = "Output")]
    pub stdout_file: Option<PathBuf>,

    /// Save the program's whole stderr (up to --stderr-limit) to FILE.
    #[arg(long = "stderr", value_name = "FILE", help_heading = "Output")]
    pub stderr_file: Option<PathBuf>,

    /// The program and its arguments.
    #[arg(required = true, last = true, value_name = "PROGRAM [ARGS]...")]
    pub program: Vec<OsString>,
}

impl RunArgs {
    /// Flags that are allowed but probably not what was meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let plain = self.protocol == Protocol::Plain;
        let exec = self
            .responder
            .as_deref()
            .is_some_and(|r| r.starts_with("exec:"));
        let script = self
            .responder
            .as_deref()
            .is_some_and(|r| r.starts_with("script:"));
        // Under plain, an interactor process or WASI command gets no files.
        let wasi = self
            .responder
            .as_deref()
            .and_then(|r| r.strip_prefix("wasm:"))
            .is_some_and(names_wasi_command);
        if self.responder.is_some() && self.input.is_none() && !(plain && (exec || wasi)) && !script
        {
            w.push("no --input given; the interactor gets an empty file".into());
        }
        // A script's session steps are `judge test`'s: say which are not
        // taken here.
        if let Some(path) = self
            .responder
            .as_deref()
            .and_then(|r| r.strip_prefix("script:"))
        {
            if let Ok(script) = judge::script::parse_file(std::path::Path::new(path)) {
                if script.header.pty.is_some() && !self.pty {
                    w.push(format!(
                        "{path} asks for a terminal (pty), which judge run gives only with --pty"
                    ));
                }
                if !script.header.limits.is_empty() {
                    w.push(format!(
                        "{path} names limits, which judge run takes from its own flags"
                    ));
                }
            }
        }
        if exec && plain && self.answer.is_some() {
            w.push("--answer is not passed to a --protocol plain interactor".into());
        }
        // Every checker but diff gets --input.
        let checker_reads_input = self
            .checker
            .as_deref()
            .is_some_and(|c| c.starts_with("exec:") || self.checker_module().is_some());
        if let (Some(input), None, None, false) = (
            &self.input,
            &self.responder,
            &self.stdin,
            checker_reads_input,
        ) {
            w.push(format!(
                "--input {} goes to interactors and modules, and there is none: the program's \
                 stdin is empty; --stdin {} feeds it",
                input.display(),
                input.display()
            ));
        }
        w
    }

    /// The session these flags describe; `Err` is a usage error.
    pub fn session(&self) -> Result<Session, String> {
        let cpu = self.time_limit;
        let limits = Limits {
            cpu_time: cpu,
            wall_time: self.wall_limit.unwrap_or_else(|| Limits::wall_for(cpu)),
            memory: self.memory_limit,
            stdout: self.output_limit,
            stderr: self.stderr_limit,
            processes: self.processes,
            file_size: self.file_size_limit,
            work_dir: self.workdir_size,
            open_files: self.open_files,
        };
        if limits.memory < 1024 * 1024 {
            return Err("--memory-limit must be at least 1M".into());
        }
        let responder = match (&self.stdin, &self.responder, self.checker_module()) {
            (None, None, Some(spec)) => {
                if self.answer.is_none() {
                    return Err("--checker needs --answer FILE".into());
                }
                self.responder_choice("--checker", spec, &limits)?
            }
            (_, _, Some(_)) => {
                return Err("--checker native:/wasm: feeds the program --input itself: \
                     not with --stdin or --responder"
                    .into())
            }
            (Some(f), None, None) => ResponderChoice::File(f.clone()),
            (None, Some(spec), None) => self.responder_choice("--responder", spec, &limits)?,
            (None, None, None) => ResponderChoice::Closed,
            (Some(_), Some(_), None) => unreachable!("clap rejects --stdin with --responder"),
        };
        if self.direct && !matches!(responder, ResponderChoice::Exec(_)) {
            return Err("--direct needs --responder exec:...".into());
        }
        if self.direct && self.pty {
            return Err(
                "--pty and --direct exclude each other: the terminal is the judge's".into(),
            );
        }
        if !self.pty && (self.pty_stderr || self.pty_echo || self.pty_size != (80, 24)) {
            return Err("--pty-size, --pty-stderr and --pty-echo need --pty".into());
        }
        let placement = match self.cpus.as_deref() {
            None => CpuPlacement::Auto,
            Some("any") => CpuPlacement::Any,
            Some(list) => CpuPlacement::List(cpus::parse_list(list)?),
        };
        let (program, args) = self.program.split_first().expect("clap requires a program");
        if program.is_empty() {
            return Err("the program name is empty".into());
        }
        for (flag, file) in [
            ("--stdin", &self.stdin),
            ("--input", &self.input),
            ("--answer", &self.answer),
        ] {
            if let Some(f) = file {
                if f.is_dir() {
                    return Err(format!("{flag} {}: is a directory", f.display()));
                }
            }
        }
        let checker = self.checker(&responder)?;
        let mut session = Session::new(program, args.iter().cloned())
            .limits(limits)
            .responder(responder)
            .precedence(self.precedence)
            .cpus(placement)
            .handle_signals(true)
            .terminal(self.pty.then_some(judge::session::Terminal {
                cols: self.pty_size.0,
                rows: self.pty_size.1,
                stderr: self.pty_stderr,
                echo: self.pty_echo,
            }));
        // A script reads the program's output itself and shows what matters
        // when a step fails; it is kept whole only for --stdout/--stderr (a
        // flood held to show it in --json would cost the judge its cap).
        let script = self
            .responder
            .as_deref()
            .is_some_and(|r| r.starts_with("script:"));
        session = if script {
            session
                .forward_stdout(false)
                .capture(self.stdout_file.is_some() || self.stderr_file.is_some())
        } else {
            session.forward_stdout(!self.json && self.stdout_file.is_none())
        };
        for kv in &self.env {
            let (k, v) = kv
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("invalid --env {kv:?}: expected KEY=VALUE"))?;
            session = session.env(k, v);
        }
        session = session
            .isolation(self.isolation)
            .on_forbidden(self.on_forbidden);
        if self.isolation == IsolationLevel::None
            && !(self.file.is_empty() && self.dir.is_empty() && self.keep_workdir.is_none())
        {
            return Err("--file, --dir and --keep-workdir need --isolation full".into());
        }
        if let Some(k) = &self.keep_workdir {
            if k.exists() && std::fs::read_dir(k).map_or(true, |mut d| d.next().is_some()) {
                return Err(format!(
                    "--keep-workdir {}: exists and is not an empty directory",
                    k.display()
                ));
            }
            session = session.keep_workdir(k);
        }
        for f in &self.file {
            let (src, dest) = match f.split_once(':') {
                Some((s, d)) => (s, d.to_string()),
                None => {
                    let name = std::path::Path::new(f)
                        .file_name()
                        .ok_or_else(|| format!("--file {f:?}: not a file name"))?;
                    (f.as_str(), name.to_string_lossy().into_owned())
                }
            };
            if std::fs::symlink_metadata(src).is_err() {
                return Err(format!("--file {src}: no such file"));
            }
            session = session.file(src, dest);
        }
        for d in &self.dir {
            let mut parts = d.splitn(3, ':');
            let (src, dest, mode) = (parts.next(), parts.next(), parts.next());
            let (Some(src), Some(dest)) = (src, dest) else {
                return Err(format!("invalid --dir {d:?}: expected SRC:DEST[:rw]"));
            };
            let writable = match mode {
                None | Some("ro") => false,
                Some("rw") => true,
                Some(m) => return Err(format!("invalid --dir {d:?}: mode {m:?} is not rw or ro")),
            };
            if !std::path::Path::new(src).is_dir() {
                return Err(format!("--dir {src}: not a directory"));
            }
            session = session.dir(src, dest, writable);
        }
        if let Some(dir) = &self.cwd {
            if self.isolation == IsolationLevel::Full {
                return Err(
                    "--cwd needs --isolation none (the sandbox's work directory is /box)".into(),
                );
            }
            if !dir.is_dir() {
                return Err(format!("--cwd {}: not a directory", dir.display()));
            }
            session = session.cwd(dir);
        }
        if let Some(t) = &self.transcript {
            session = session.transcript(t);
        }
        if let Some(c) = checker {
            session = session.checker(c);
        }
        Ok(session)
    }

    /// The output checker: --checker, or diff where --answer is given and
    /// no responder would read it.
    /// `--checker native:|wasm:`: a checker module of the responder ABI,
    /// which is the session's responder (it feeds the program --input and
    /// judges its output as it streams), not an output checker.
    fn checker_module(&self) -> Option<&str> {
        self.checker.as_deref().filter(|c| {
            c.starts_with("native:")
                || c.strip_prefix("wasm:")
                    .is_some_and(|m| !names_wasi_command(m))
        })
    }

    fn checker(&self, responder: &ResponderChoice) -> Result<Option<Checker>, String> {
        if self.checker_module().is_some() {
            return Ok(None); // the responder (see `session`)
        }
        let batch = matches!(
            responder,
            ResponderChoice::Closed | ResponderChoice::File(_)
        );
        let spec = match (&self.checker, &self.answer, batch) {
            (Some(_), _, false) => {
                return Err(
                    "--checker is for batch programs: with --responder, the responder judges \
                     (it gets --answer)"
                        .into(),
                )
            }
            (Some(_), None, true) => return Err("--checker needs --answer FILE".into()),
            (Some(spec), Some(_), true) => spec.as_str(),
            (None, Some(_), true) => "diff",
            (None, _, _) => return Ok(None),
        };
        let answer = self.answer.clone().expect("an answer, checked above");
        if let Some(cmd) = spec.strip_prefix("exec:") {
            let argv = split_words(cmd)?;
            let Some(program) = argv.first() else {
                return Err("--checker exec: needs a command".into());
            };
            judge::sandbox::resolve_program(std::path::Path::new(program))
                .map_err(|e| format!("--checker {e}"))?;
            return Ok(Some(Checker::Exec {
                answer,
                checker: judge::checker::exec::ExecChecker {
                    argv,
                    protocol: self.protocol,
                    limits: self.checker_limits(),
                    input: self.input.clone(),
                    flags: self.validator_flags()?,
                    feedback_dir: None,
                },
            }));
        }
        if let Some(module) = spec.strip_prefix("wasm:") {
            let words = split_words(module)?;
            let (path, args) = words.split_first().expect("a WASI checker has a path");
            return Ok(Some(Checker::Wasi {
                answer,
                checker: judge::checker::wasi::WasiChecker {
                    path: path.into(),
                    args: args.to_vec(),
                    protocol: self.protocol,
                    limits: self.checker_limits(),
                    input: self.input.clone(),
                    flags: self.validator_flags()?,
                    feedback_dir: None,
                },
            }));
        }
        let words = split_words(spec)?;
        match words.split_first() {
            Some((kind, flags)) if kind == "diff" => Ok(Some(Checker::Diff {
                answer,
                flags: judge::checker::diff::Flags::parse(flags.iter().map(String::as_str))
                    .map_err(|e| format!("--checker {spec:?}: {e}"))?,
            })),
            _ => Err(format!(
                "unknown --checker {spec:?}: expected diff [FLAGS], exec:'CMD ARGS', native:'FILE.so ARGS' or wasm:'FILE ARGS'"
            )),
        }
    }

    /// A checker run after the program (exec: or a WASI command) gets the
    /// responder limits, following the program's time limit.
    fn checker_limits(&self) -> ResponderLimits {
        self.responder_limits(&judge::Limits {
            cpu_time: self.time_limit,
            wall_time: self
                .wall_limit
                .unwrap_or_else(|| judge::Limits::wall_for(self.time_limit)),
            ..judge::Limits::default()
        })
    }

    /// What `flag` (--responder, or --checker for a module) names.
    fn responder_choice(
        &self,
        flag: &str,
        spec: &str,
        limits: &Limits,
    ) -> Result<ResponderChoice, String> {
        const EXPECTED: &str =
            "expected exec:'CMD ARGS', native:'FILE.so ARGS', wasm:'FILE ARGS' or script:FILE";
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| format!("invalid {flag} {spec:?}: {EXPECTED}"))?;
        let plugin = match kind {
            "exec" => None,
            "native" => Some(PluginKind::Native),
            "wasm" => Some(PluginKind::Wasm),
            "script" => {
                let path = PathBuf::from(rest);
                let script = judge::script::parse_file(&path).map_err(|e| e.to_string())?;
                if self.pty_stderr && script.reads_stderr() {
                    return Err(format!(
                        "{}: expects stderr, which --pty-stderr mixes into stdout",
                        path.display()
                    ));
                }
                return Ok(ResponderChoice::Custom(Box::new(
                    judge::script::ScriptResponder::new(script),
                )));
            }
            _ => return Err(format!("unknown responder kind {kind:?}: {EXPECTED}")),
        };
        let argv = split_words(rest)?;
        let Some((first, args)) = argv.split_first() else {
            return Err(format!("{flag} {kind}: needs a command or a file"));
        };
        let limits = self.responder_limits(limits);
        Ok(match plugin {
            None => ResponderChoice::Exec(ExecSpec {
                argv,
                protocol: self.protocol,
                limits,
                direct: self.direct,
                input: self.input.clone(),
                answer: self.answer.clone(),
                cpus: None,
                flags: self.validator_flags()?,
                files_dir: None,
            }),
            Some(PluginKind::Wasm) if is_wasi_command(first) => ResponderChoice::Wasi(WasiSpec {
                path: first.into(),
                args: args.to_vec(),
                protocol: self.protocol,
                input: self.input.clone(),
                answer: self.answer.clone(),
                flags: self.validator_flags()?,
                files_dir: None,
                limits,
            }),
            Some(kind) => ResponderChoice::Plugin(PluginSpec {
                kind,
                path: first.into(),
                args: args.to_vec(),
                input: self.input.clone(),
                answer: self.answer.clone(),
                limits,
            }),
        })
    }

    fn validator_flags(&self) -> Result<Vec<String>, String> {
        self.validator_flags
            .as_deref()
            .map_or(Ok(Vec::new()), split_words)
    }

    fn responder_limits(&self, limits: &Limits) -> ResponderLimits {
        let mut rl = ResponderLimits::following(limits);
        if let Some(t) = self.responder_time_limit {
            rl.cpu_time = t;
        }
        if let Some(t) = self.responder_wall_limit {
            rl.wall_time = t;
        }
        rl.memory = self.responder_memory_limit;
        rl.output = self.responder_output_limit;
        rl.stderr = self.responder_stderr_limit;
        rl.processes = self.responder_processes;
        rl
    }
}

/// A clap error in one line, with what to do about it where we can tell:
/// a program given without `--`, a misspelt flag.
pub fn first_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    if e.kind() == ErrorKind::UnknownArgument {
        if let Some(arg) = context(ContextKind::InvalidArg) {
            if let Some(similar) = context(ContextKind::SuggestedArg) {
                return format!("unknown flag '{arg}'; did you mean '{similar}'?");
            }
            if !arg.starts_with('-') {
                return format!(
                    "unexpected argument '{arg}': put the program after --: \
                     judge run [FLAGS] -- {arg}"
                );
            }
        }
    }
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or("error: invalid arguments");
    line.trim_start_matches("error: ").to_string()
}

pub use judge::words::split as split_words;

pub fn parse_isolation(s: &str) -> Result<IsolationLevel, String> {
    match s {
        "full" => Ok(IsolationLevel::Full),
        "none" => Ok(IsolationLevel::None),
        _ => Err("expected full or none".into()),
    }
}

fn parse_on_forbidden(s: &str) -> Result<OnForbidden, String> {
    match s {
        "fail" => Ok(OnForbidden::Fail),
        "kill" => Ok(OnForbidden::Kill),
        _ => Err("expected fail or kill".into()),
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A jails.yaml laid over the built-in jails and
    /// ~/.config/judge/jails.yaml, for jail_code and safe_exec requests.
    #[arg(long, value_name = "FILE")]
    pub jails: Option<PathBuf>,
}

/// `wasm:'FILE ARGS'` names a WASI command (with --checker: a checker run
/// after the program, as exec: is), not a module of the event ABI.
fn names_wasi_command(spec: &str) -> bool {
    split_words(spec)
        .ok()
        .and_then(|w| w.first().cloned())
        .is_some_and(|path| is_wasi_command(&path))
}

/// Whether the module at `path` is a WASI command rather than a module of
/// the event ABI. A module that is neither (or no module) goes the ABI's
/// way, which says why it cannot run.
fn is_wasi_command(path: &str) -> bool {
    use judge::responder::plugin::wasm::{kind_of, ModuleKind};
    kind_of(std::path::Path::new(path)) == Ok(ModuleKind::WasiCommand)
}
