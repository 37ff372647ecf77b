//! Helpers shared by the integration tests: run the real `judge` binary,
//! parse its JSON result, build C fixtures once per test run.

#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod responders;

pub fn judge_bin() -> &'static str {
    static CLEAN: std::sync::Once = std::sync::Once::new();
    // Whatever the harness that started `cargo test` left open (a terminal
    // multiplexer, an IDE, a CI agent) would be inherited by every judge
    // we start and change its descriptor table from one machine to the
    // next: a fresh CI machine leaves nothing. Start every judge as CI does.
    CLEAN.call_once(|| {
        // SAFETY: marks descriptors close-on-exec; nothing is closed.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                !0u32,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
    });
    // JUDGE_BIN runs the tests against another build (an older commit's,
    // to see a new row fail there).
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("JUDGE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_judge").to_string())
    })
}

/// The repository root (tests/ lives there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixture(rel: &str) -> String {
    repo()
        .join("tests/fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// The modes interactor as an exec responder spec.
pub fn interactor(mode: &str) -> String {
    format!("exec:python3 {} {mode}", fixture("interactors/modes.py"))
}

/// Compile every tests/fixtures/programs/*.c once per run; returns the path
/// of the binary built from NAME.c.
pub fn prog(name: &str) -> String {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
        std::fs::create_dir_all(&out).unwrap();
        let src = repo().join("tests/fixtures/programs");
        for entry in std::fs::read_dir(&src).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "c") {
                let bin = out.join(p.file_stem().unwrap());
                let st = Command::new("gcc")
                    .args(["-O2", "-pthread", "-o"])
                    .arg(&bin)
                    .arg(&p)
                    .status()
                    .expect("gcc must be installed to build the test fixtures");
                assert!(st.success(), "gcc failed on {}", p.display());
            }
        }
        // Readable and executable by the unprivileged test user as well.
        let _ = Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(&out)
            .status();
        out
    });
    dir.join(name).to_string_lossy().into_owned()
}

/// A `judge run` invocation under construction.
pub struct Run {
    args: Vec<String>,
    program: Vec<String>,
    envs: Vec<(String, String)>,
}

pub fn run() -> Run {
    Run {
        args: vec!["run".into()],
        program: Vec::new(),
        envs: Vec::new(),
    }
}

/// What one judge invocation produced.
pub struct Done {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub pid: u32,
}

impl Done {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "judge did not print one JSON object ({e}); exit {}\nstdout: {}\nstderr: {}",
                self.status, self.stdout, self.stderr
            )
        })
    }
}

impl Run {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, a: I) -> Self {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Show the compiled fixtures inside the sandbox at their host path,
    /// for programs that start them (a shell running a fixture).
    pub fn with_fixtures(self) -> Self {
        let d = fixtures_dir();
        self.args(["--dir".to_string(), format!("{d}:{d}")])
    }

    /// Show a host directory inside the sandbox at its host path, writable.
    pub fn with_dir_rw(self, dir: &Path) -> Self {
        let d = dir.to_string_lossy().into_owned();
        self.args(["--dir".to_string(), format!("{d}:{d}:rw")])
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    pub fn program<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.program = p.into_iter().map(Into::into).collect();
        self
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(judge_bin());
        c.args(&self.args).arg("--").args(&self.program);
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    /// Run with --json and return the parsed result.
    pub fn json(self) -> Value {
        let done = self.arg("--json").exec();
        let v = done.json();
        let code = if v["verdict"] == "AC" { 0 } else { 1 };
        assert_eq!(done.status, code, "exit status vs verdict: {}", brief(&v));
        v
    }

    /// Run as is; returns everything about the invocation.
    pub fn exec(self) -> Done {
        exec_command(self.command())
    }
}

/// Spawn and collect everything.
pub fn exec_command(mut c: Command) -> Done {
    use std::io::Read;
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = c.spawn().expect("spawn judge");
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || watchdog(pid, done_rx));
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).unwrap();
    let stderr = t.join().unwrap();
    let status = child.wait().unwrap().into_raw();
    drop(done_tx);
    let hung = watchdog.join().unwrap();
    assert!(
        !hung,
        "the judge hung and was killed by the test's watchdog"
    );
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Done {
        status,
        stdout,
        stderr,
        elapsed: start.elapsed(),
        pid,
    }
}

/// No judge invocation in the tests needs this long; one that does has hung.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// Kills a judge that outlives [`HANG_LIMIT`], after writing where it was
/// stuck straight to fd 2 (past the harness's capture, so that a CI log
/// shows it). Returns whether it had to.
pub fn watchdog(pid: u32, done: std::sync::mpsc::Receiver<()>) -> bool {
    if done.recv_timeout(HANG_LIMIT) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
        return false;
    }
    let read =
        |what: &str| std::fs::read_to_string(format!("/proc/{pid}/{what}")).unwrap_or_default();
    let mut fds = String::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let target = std::fs::read_link(e.path()).unwrap_or_default();
        fds += &format!(
            "  fd {} -> {}\n",
            e.file_name().to_string_lossy(),
            target.display()
        );
    }
    let note = format!(
        "\n=== judge {pid} hung for {HANG_LIMIT:?}; wchan {}\n{}{}=== killing it\n",
        read("wchan"),
        read("stack"),
        fds
    );
    // SAFETY: writing a valid buffer to fd 2; signalling a pid we spawned
    // and have not reaped yet.
    unsafe {
        libc::write(2, note.as_ptr().cast(), note.len());
        libc::kill(pid as i32, libc::SIGKILL);
    }
    true
}

/// Every process on the host whose command line contains `token`.
pub fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(token) {
                found.push(format!("{name}: {cmd}"));
            }
        }
    }
    found
}

/// A unique token for this test process and call.
pub fn token(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "judgetest-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn ms(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A fresh empty directory under the target dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(token(tag));
    std::fs::create_dir_all(&d).unwrap();
    // Writable by the sandbox's own user when a test shows it inside.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// The directory of the compiled C fixtures.
pub fn fixtures_dir() -> String {
    let any = prog("exit_n");
    Path::new(&any)
        .parent()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The judge's own peak RSS as it reports it (VmHWM of its process).
/// How much more memory the judge held at its peak in this session than
/// in an idle one (`/bin/true`), in KiB. The idle figure, some 15 MiB for
/// a debug build, moves with the binary's size; the growth is what a
/// session's data costs.
pub fn judge_rss_growth(v: &Value) -> i64 {
    static IDLE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let idle = *IDLE.get_or_init(|| {
        let v = run().program(["/bin/true"]).json();
        v["judge_max_rss_kib"].as_i64().unwrap()
    });
    v["judge_max_rss_kib"].as_i64().unwrap() - idle
}

/// The system's python3: programs run with a clean PATH, where version
/// manager shims (pyenv) would not find their own configuration.
pub fn python() -> String {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3".into()
    } else {
        "python3".into()
    }
}

/// A virtualenv of the system's python in `dir/venv`, without pip, with a
/// library the system's python lacks: `coursetools.grade(x)` is `x * 10`.
/// (The system's python: a venv of a python outside the system folders,
/// pyenv's, is shown at /program in the sandbox and would not find its
/// pyvenv.cfg.)
pub fn course_venv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let st = Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success());
    let site = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    std::fs::write(
        site.join("coursetools.py"),
        "def grade(x):\n    return x * 10\n",
    )
    .unwrap();
    venv
}

/// The result without the captured streams, for assertion messages.
pub fn brief(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["stdout", "stderr", "stdout_base64", "stderr_base64"] {
        if let Some(s) = v.get(k).and_then(|s| s.as_str()) {
            if s.len() > 200 {
                v[k] = Value::from(format!("<{} bytes>", s.len()));
            }
        }
    }
    v
}

/// Prints the process group, session and controlling terminal (fields 5
/// to 7 of /proc/self/stat) of a process of the program.
pub const TERMINAL_PROBE: &str = "cut -d' ' -f5-7 /proc/self/stat";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// A pty, as an interactive shell has.
    Plain,
    /// The same in exclusive mode (TIOCEXCL): only root may open it again.
    Exclusive,
    /// The same, with /dev/tty covered by /dev/null in a mount namespace of
    /// the judge's own.
    DevTtyMasked,
}

/// Start `cmd` as the leader of a new session whose controlling terminal
/// is a fresh pty.
/// In a child before exec: a mount namespace of its own, nothing in it
/// propagating back to the host's. False (errno set) on failure.
///
/// # Safety
/// Async-signal-safe calls only, for `pre_exec`.
unsafe fn private_mount_namespace() -> bool {
    let none = std::ptr::null::<libc::c_char>();
    libc::unshare(libc::CLONE_NEWNS) == 0
        && libc::mount(
            none,
            c"/".as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) == 0
}

/// Start `cmd` in a private mount namespace with a fresh tmpfs mounted at
/// each of `points` (host paths that exist): a host mount nested where the
/// sandbox shows a folder, which nothing outside the test ever sees.
pub fn with_mounts_below(cmd: &mut Command, points: &[&Path]) {
    use std::os::unix::process::CommandExt;
    let points: Vec<std::ffi::CString> = points
        .iter()
        .map(|p| std::ffi::CString::new(p.to_str().unwrap()).unwrap())
        .collect();
    // SAFETY: the closure makes async-signal-safe calls only, on strings
    // made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let none = std::ptr::null::<libc::c_char>();
            if !private_mount_namespace() {
                return Err(std::io::Error::last_os_error());
            }
            for p in &points {
                if libc::mount(
                    c"nested".as_ptr(),
                    p.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    none.cast(),
                ) == -1
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

pub fn with_terminal(cmd: &mut Command, terminal: Terminal) {
    use std::os::unix::process::CommandExt;
    // SAFETY: plain libc calls on descriptors this function owns; the
    // pre_exec closure makes async-signal-safe calls only.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0 && libc::grantpt(master) == 0 && libc::unlockpt(master) == 0);
        let name = std::ffi::CStr::from_ptr(libc::ptsname(master)).to_owned();
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(slave >= 0);
        if terminal == Terminal::Exclusive {
            assert_eq!(libc::ioctl(slave, libc::TIOCEXCL), 0);
        }
        // The master stays open (leaked) so the terminal does not hang up.
        cmd.pre_exec(move || {
            let err = || Err(std::io::Error::last_os_error());
            if libc::setsid() == -1 || libc::ioctl(slave, libc::TIOCSCTTY, 0) == -1 {
                return err();
            }
            if terminal == Terminal::DevTtyMasked {
                let none = std::ptr::null::<libc::c_char>();
                if !private_mount_namespace()
                    || libc::mount(
                        c"/dev/null".as_ptr(),
                        c"/dev/tty".as_ptr(),
                        none,
                        libc::MS_BIND,
                        std::ptr::null(),
                    ) == -1
                {
                    return err();
                }
            }
            Ok(())
        });
    }
}
