//! Starting a process tree that cannot outlive its session, and measuring it.
//!
//! [`Sandbox::spawn`] clones a minimal init of ours into a new PID namespace;
//! init starts the program as pid 2 and reports its exit. Killing init kills
//! every process of the namespace, whatever they did to hide (setsid,
//! double fork), which is what makes "the whole tree dies" true.
//!
//! The sandbox knows nothing of verdicts: it starts, measures and kills.

pub mod caller;
mod cgroup;
mod child;
pub mod cpus;
pub mod identity;
pub mod keep;
pub mod mountinfo;
pub mod netns;
mod pin;
pub mod rootfs;
pub mod seccomp;
pub(crate) mod sys;

pub use cgroup::{
    pid_namespace, Host as CgroupHost, MemoryStats, Place as CgroupPlace, Version as CgroupVersion,
};
pub use child::ExitReport;
pub use rootfs::{Bind, CopyIn, RootSpec, WORK_DIR};

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use child::{Plan, Stage, FAILURE_LEN, MAX_CGROUPS, MAX_RLIMITS, REPORT_LEN};

/// Limits applied to a whole process tree by the kernel itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeLimits {
    /// Per-process CPU seconds (RLIMIT_CPU), a backstop for the loop's checks.
    pub cpu: Option<Duration>,
    pub memory_bytes: Option<u64>,
    pub max_tasks: Option<u64>,
    pub stack_bytes: Option<u64>,
    /// Largest file the tree may write (RLIMIT_FSIZE).
    pub file_bytes: Option<u64>,
    /// Open descriptors per process (RLIMIT_NOFILE).
    pub open_files: Option<u64>,
}

/// The program's jail: its own file system, network, IPC and host name,
/// an unprivileged identity without capabilities, and a system call filter.
#[derive(Debug, Clone)]
pub struct Jail {
    pub root: RootSpec,
    pub seccomp: bool,
    /// Copy the work directory out to this host directory after the run.
    pub keep_workdir: Option<PathBuf>,
}

/// How the network was taken away, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The host's network: no jail.
    Host,
    /// The pinned namespace without interfaces every run shares.
    SharedEmpty,
    /// A namespace of its own, made for this run.
    Private,
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Network::Host => "the host's",
            Network::SharedEmpty => "a shared empty namespace",
            Network::Private => "an empty namespace of its own",
        })
    }
}

/// What the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{what}: {source}")]
    Setup {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}{detail}: {source}", stage.describe())]
    Child {
        stage: Stage,
        /// Which step of the stage, when it has several.
        detail: String,
        #[source]
        source: io::Error,
    },
    #[error("planning the sandbox's file system: {0}")]
    Root(#[from] rootfs::PlanError),
    #[error(transparent)]
    Filter(#[from] seccomp::FilterError),
    /// The program could plant symlinks on the copy's way.
    #[error("{}: the work directory cannot be kept inside a folder the program may write", .0.display())]
    KeepInsideWritable(PathBuf),
}

impl SpawnError {
    /// True when a layer of the jail could not be set up on this host.
    pub fn is_isolation_error(&self) -> bool {
        match self {
            SpawnError::Child { stage, .. } => matches!(
                stage,
                Stage::Network
                    | Stage::Root
                    | Stage::Identity
                    | Stage::Capabilities
                    | Stage::Seccomp
            ),
            SpawnError::Setup { what, .. } => what.contains("namespace"),
            SpawnError::Filter(_) => true,
            SpawnError::Root(_) | SpawnError::KeepInsideWritable(_) => false,
        }
    }

    /// True when the program itself is at fault (missing, not executable,
    /// not a valid binary): a usage error, not a judge failure.
    pub fn is_program_error(&self) -> bool {
        matches!(
            self,
            SpawnError::Child {
                stage: Stage::Exec,
                ..
            }
        )
    }
}

fn setup(what: &'static str) -> impl FnOnce(io::Error) -> SpawnError {
    move |source| SpawnError::Setup { what, source }
}

/// How a resource of a tree was limited and measured, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    CgroupV1,
    CgroupV2,
    Rlimit,
    /// The judge's own reading of /proc and of the exit status.
    Proc,
    None,
}

impl From<CgroupVersion> for Mechanism {
    fn from(v: CgroupVersion) -> Self {
        match v {
            CgroupVersion::V1 => Mechanism::CgroupV1,
            CgroupVersion::V2 => Mechanism::CgroupV2,
        }
    }
}

/// Builder for one sandboxed process tree.
pub struct Sandbox {
    path: PathBuf,
    argv: Vec<CString>,
    env: Vec<CString>,
    cwd: Option<PathBuf>,
    limits: TreeLimits,
    cpus: Option<Vec<usize>>,
    use_cgroup: bool,
    jail: Option<Jail>,
    terminal: bool,
}

impl Sandbox {
    /// `path` must name an executable file (see [`resolve_program`]).
    pub fn new(
        path: impl Into<PathBuf>,
        argv: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> Self {
        Sandbox {
            path: path.into(),
            argv: argv.into_iter().map(|a| cstring(a.as_ref())).collect(),
            env: Vec::new(),
            cwd: None,
            limits: TreeLimits::default(),
            cpus: None,
            use_cgroup: true,
            jail: None,
            terminal: false,
        }
    }

    /// The program's stdin is a terminal (the slave of a pseudo-terminal):
    /// it leads a session of its own with that terminal as its controlling
    /// one, so that job control, `/dev/tty` and the terminal's signals (^C)
    /// work as on a real one.
    pub fn controlling_terminal(mut self, yes: bool) -> Self {
        self.terminal = yes;
        self
    }

    /// Run the program in a jail (see [`Jail`]).
    pub fn jail(mut self, jail: Option<Jail>) -> Self {
        self.jail = jail;
        self
    }

    pub fn env(
        mut self,
        env: impl IntoIterator<Item = (impl AsRef<OsStr>, impl AsRef<OsStr>)>,
    ) -> Self {
        self.env = env
            .into_iter()
            .map(|(k, v)| {
                let mut kv = k.as_ref().as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_ref().as_bytes());
                CString::new(kv).unwrap_or_default()
            })
            .collect();
        self
    }

    pub fn cwd(mut self, dir: Option<PathBuf>) -> Self {
        self.cwd = dir;
        self
    }

    pub fn limits(mut self, limits: TreeLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn cpus(mut self, cpus: Option<Vec<usize>>) -> Self {
        self.cpus = cpus;
        self
    }

    /// Use no control group even where the host has one.
    pub fn without_cgroup(mut self) -> Self {
        self.use_cgroup = false;
        self
    }

    /// Start the tree with the given standard streams (the child's ends).
    pub fn spawn(
        self,
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    ) -> Result<Tree, SpawnError> {
        let host = CgroupHost::get();
        let group = if self.use_cgroup {
            cgroup::Cgroup::create(
                host,
                cgroup::Settings {
                    memory_bytes: self.limits.memory_bytes,
                    max_tasks: self.limits.max_tasks,
                },
            )
            .map_err(setup("creating the control group"))?
        } else {
            None
        };

        let memory_by = match group.as_ref().and_then(|g| g.memory_version()) {
            Some(v) => v.into(),
            None if self.limits.memory_bytes.is_some() => Mechanism::Rlimit,
            None => Mechanism::None,
        };
        let tasks_by = match group.as_ref().and_then(|g| g.pids) {
            Some(v) => v.into(),
            None if self.limits.max_tasks.is_some() => Mechanism::Rlimit,
            None => Mechanism::None,
        };
        let cpu_by = match group.as_ref().and_then(|g| g.cpu_version()) {
            Some(v) => v.into(),
            None => Mechanism::Proc,
        };

        let mut rlimits = [(
            0,
            libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            },
        ); MAX_RLIMITS];
        let wanted = rlimits_for(&self.limits, memory_by, tasks_by, strict_overcommit());
        debug_assert!(
            wanted.len() <= MAX_RLIMITS,
            "init's table of limits is too small"
        );
        for (slot, &(res, cur, max)) in rlimits.iter_mut().zip(&wanted) {
            *slot = (
                res,
                libc::rlimit {
                    rlim_cur: cur,
                    rlim_max: max,
                },
            );
        }
        let n_rlimits = wanted.len().min(MAX_RLIMITS);

        let mut cgroup_procs = [-1; MAX_CGROUPS];
        let fds = group.as_ref().map(|g| g.procs_fds()).unwrap_or_default();
        cgroup_procs[..fds.len()].copy_from_slice(&fds);

        let cpus = self.cpus.as_ref().map(|list| cpus::to_cpu_set(list));

        // SAFETY: geteuid has no preconditions.
        let rootless = unsafe { libc::geteuid() } != 0;
        let jail = self.jail.as_ref();
        if let Some((dest, j)) = jail.and_then(|j| Some((j.keep_workdir.as_ref()?, j))) {
            let writable: Vec<&Path> = j
                .root
                .binds
                .iter()
                .filter(|b| b.writable)
                .map(|b| b.source.as_path())
                .collect();
            if keep::inside_writable(dest, &writable) {
                return Err(SpawnError::KeepInsideWritable(dest.clone()));
            }
        }
        let root_plan = match jail {
            Some(j) => Some(rootfs::RootPlan::new(&j.root, !rootless)?),
            None => None,
        };
        let filters = match jail {
            Some(j) if j.seccomp => Some(seccomp::Filters::get()?),
            _ => None,
        };
        let mut network = Network::Host;
        let shared_net = match jail {
            Some(_) if !rootless => netns::shared().ok(),
            _ => None,
        };
        if jail.is_some() {
            network = if shared_net.is_some() {
                Network::SharedEmpty
            } else {
                Network::Private
            };
        }
        let mut filter_slots = [(std::ptr::null(), 0); 3];
        let mut n_filters = 0;
        if let Some(f) = &filters {
            for prog in [&f.enolck, &f.enosys, &f.notify] {
                filter_slots[n_filters] = (prog.as_ptr().cast::<libc::sock_filter>(), prog.len());
                n_filters += 1;
            }
        }

        let exec_path = root_plan
            .as_ref()
            .and_then(|p| p.program_path.clone())
            .unwrap_or_else(|| self.path.clone());
        let path = cstring(exec_path.as_os_str());
        let cwd = self.cwd.as_ref().map(|d| cstring(d.as_os_str()));
        // A program shown at /program is told so where its argv[0] named
        // its host file: `exec "$0"` and the like then find it.
        let shown_argv0 = (exec_path.as_path() == Path::new(rootfs::PROGRAM))
            .then(|| self.argv.first())
            .flatten()
            .filter(|a0| {
                let a0 = Path::new(OsStr::from_bytes(a0.as_bytes()));
                let real = |p: &Path| std::fs::canonicalize(p).ok();
                real(a0).is_some() && real(a0) == real(&self.path)
            })
            .map(|_| cstring(OsStr::new(rootfs::PROGRAM)));
        let argv: Vec<*const libc::c_char> = self
            .argv
            .iter()
            .enumerate()
            .map(|(i, a)| match (&shown_argv0, i) {
                (Some(p), 0) => p.as_ptr(),
                _ => a.as_ptr(),
            })
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let envp: Vec<*const libc::c_char> = self
            .env
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();

        let stdin = sys::above_stdio(stdin).map_err(setup("moving descriptors"))?;
        let stdout = sys::above_stdio(stdout).map_err(setup("moving descriptors"))?;
        let stderr = sys::above_stdio(stderr).map_err(setup("moving descriptors"))?;
        // Above 2 as well: the program's set-up dup2s its stdio onto 0-2, and
        // an embedding process may have closed its own.
        let above = |fd| sys::above_stdio(fd).map_err(setup("moving descriptors"));
        let (go_r, go_w) = sys::pipe().map_err(setup("creating a pipe"))?;
        let (go_r, go_w) = (above(go_r)?, above(go_w)?);
        let (report_r, report_w) =
            sys::seqpacket_pair().map_err(setup("creating a socket pair"))?;
        let report_w = above(report_w)?;
        let (exec_r, exec_w) = sys::pipe().map_err(setup("creating a pipe"))?;
        let exec_w = above(exec_w)?;

        let plan = Plan {
            path: path.as_ptr(),
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
            cwd: cwd.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            stdio: [stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()],
            cgroup_procs,
            n_cgroups: fds.len(),
            cpus,
            rlimits,
            n_rlimits,
            go: go_r.as_raw_fd(),
            go_writer: go_w.as_raw_fd(),
            report: report_w.as_raw_fd(),
            exec_status: exec_w.as_raw_fd(),
            netns: shared_net.as_ref().map_or(-1, |f| f.as_raw_fd()),
            root: root_plan.as_ref(),
            hostname: jail.is_some(),
            terminal: self.terminal,
            cgroup_ns: jail.is_some(),
            identity: match &self.jail {
                Some(j) if !rootless => Some((j.root.uid, j.root.gid)),
                _ => None,
            },
            drop_caps: jail.is_some(),
            cap_last: cap_last(),
            filters: filter_slots,
            n_filters,
            hold: jail.is_some_and(|j| j.keep_workdir.is_some()),
        };

        let mut flags = libc::CLONE_NEWPID as u64;
        if rootless {
            // A PID namespace needs CAP_SYS_ADMIN; a user namespace of our
            // own grants it without root.
            flags |= libc::CLONE_NEWUSER as u64;
        }
        if jail.is_some() {
            flags |= (libc::CLONE_NEWIPC | libc::CLONE_NEWUTS) as u64;
            // On the template init unshares a copy of the template's mount
            // namespace: a copy of the host's table would be thrown away.
            if !root_plan.as_ref().is_some_and(|p| p.enters_template()) {
                flags |= libc::CLONE_NEWNS as u64;
            }
            if network == Network::Private {
                flags |= libc::CLONE_NEWNET as u64;
            }
        }
        // SAFETY: the child branch only runs init_main, which is written for
        // the post-fork environment (see child.rs).
        let forked = match unsafe { sys::fork_with_pidfd(flags) } {
            Ok(Some(f)) => f,
            Ok(None) => unsafe { child::init_main(&plan) },
            Err(e) => return Err(setup("creating a PID namespace (clone3)")(e)),
        };
        let started_ns = sys::monotonic_ns();
        drop((go_r, report_w, exec_w, stdin, stdout, stderr));

        let tree = Tree {
            init_pid: forked.pid,
            init_pidfd: forked.pidfd,
            report: File::from(report_r),
            group,
            started_ns,
            memory_by,
            tasks_by,
            cpu_by,
            program_host_pid: None,
            program_pidfd: None,
            reaped: false,
            notifier: None,
            network: Network::Host,
            keep_to: jail.and_then(|j| j.keep_workdir.clone()),
            keep_bytes: jail.map_or(0, |j| j.root.work_bytes),
            held: None,
            stats_read: false,
        };
        if rootless {
            map_identity(forked.pid).map_err(setup("writing the user namespace's id maps"))?;
        }
        let mut go_w = File::from(go_w);
        io::Write::write_all(&mut go_w, b"g").map_err(setup("starting init"))?;
        drop(go_w);

        // EOF alone: every holder of the write end is gone, the program has
        // exec'd. Five bytes: a stage of the set-up failed with that errno.
        let mut msg = Vec::with_capacity(5);
        File::from(exec_r)
            .read_to_end(&mut msg)
            .map_err(setup("waiting for exec"))?;
        if msg.len() >= FAILURE_LEN {
            let errno = i32::from_ne_bytes(msg[1..5].try_into().unwrap());
            let step = u16::from_ne_bytes(msg[5..7].try_into().unwrap()) as usize;
            let stage = Stage::from_u8(msg[0]);
            let detail = match (stage, &root_plan) {
                (Stage::Root, Some(plan)) => format!(
                    " ({})",
                    plan.describe
                        .get(step)
                        .map_or("entering the new root", String::as_str)
                ),
                _ => String::new(),
            };
            return Err(SpawnError::Child {
                stage,
                detail,
                source: io::Error::from_raw_os_error(errno),
            });
        }
        let mut tree = tree;
        tree.network = network;
        // Init sends the program's pidfd; the program, when filtered, the
        // filter's listener. Both were sent before exec returned to us or
        // are about to be.
        let expected = 1 + usize::from(filters.is_some());
        // Both were queued before the exec status reached EOF: a missing one
        // is a failure now, not something to wait for (the program may be
        // blocked on its stdin, and nothing would ever end the wait).
        sys::set_nonblocking(&tree.report).map_err(setup("configuring the report socket"))?;
        for _ in 0..expected {
            match sys::recv_fd(&tree.report) {
                Ok(Some((sys::FD_PIDFD, pidfd))) => {
                    tree.program_host_pid = sys::pidfd_pid(&pidfd);
                    tree.program_pidfd = Some(pidfd);
                }
                Ok(Some((_, listener))) => tree.notifier = Some(seccomp::Notifier::new(listener)),
                Ok(None) => {
                    return Err(setup("receiving the program's descriptors")(
                        io::Error::other("the sandbox's init ended early"),
                    ))
                }
                Err(e) => return Err(setup("receiving the program's descriptors")(e)),
            }
        }
        Ok(tree)
    }
}

/// The resource limits of a tree: (resource, soft, hard).
fn rlimits_for(
    limits: &TreeLimits,
    memory_by: Mechanism,
    tasks_by: Mechanism,
    strict_overcommit: bool,
) -> Vec<(libc::__rlimit_resource_t, u64, u64)> {
    // 1, not 0: the kernel takes 1 as "no core dump" for a pipe
    // core_pattern as well (a handler such as systemd-coredump or apport,
    // run as root on the program's memory), where 0 is ignored; 1 byte
    // is below any dump a file could hold, so no file is written either.
    let mut out = vec![(libc::RLIMIT_CORE, 1, 1)];
    if let Some(cpu) = limits.cpu {
        // Whole seconds, rounded up, plus one: the loop measures the tree
        // to the millisecond and should always be first; this is the
        // backstop should the loop be unable to look.
        let secs = cpu.as_secs() + u64::from(cpu.subsec_nanos() > 0) + 1;
        out.push((libc::RLIMIT_CPU, secs, secs + 1));
    }
    if let Some(stack) = limits.stack_bytes {
        out.push((libc::RLIMIT_STACK, stack, stack));
    }
    if let Some(n) = limits.file_bytes {
        out.push((libc::RLIMIT_FSIZE, n, n));
    }
    if let Some(n) = limits.open_files {
        out.push((libc::RLIMIT_NOFILE, n, n));
    }
    // Where overcommit is strict (vm.overcommit_memory = 2), a reservation
    // the program never touches takes the machine-wide commit charge, which
    // the memory controller does not see: the address space bounds it too.
    if memory_by == Mechanism::Rlimit || (strict_overcommit && limits.memory_bytes.is_some()) {
        let m = limits.memory_bytes.unwrap_or(u64::MAX);
        out.push((libc::RLIMIT_AS, m, m));
    }
    if tasks_by == Mechanism::Rlimit {
        let n = limits.max_tasks.unwrap_or(u64::MAX);
        out.push((libc::RLIMIT_NPROC, n, n));
    }
    out
}

/// Whether this host commits memory strictly (vm.overcommit_memory = 2).
pub fn strict_overcommit() -> bool {
    std::fs::read_to_string("/proc/sys/vm/overcommit_memory").is_ok_and(|s| s.trim() == "2")
}

/// The highest capability number this kernel knows (read once).
fn cap_last() -> i32 {
    static LAST: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

fn map_identity(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    std::fs::write(format!("/proc/{pid}/setgroups"), "deny")?;
    std::fs::write(format!("/proc/{pid}/uid_map"), format!("{uid} {uid} 1"))?;
    std::fs::write(format!("/proc/{pid}/gid_map"), format!("{gid} {gid} 1"))?;
    Ok(())
}

fn cstring(s: &OsStr) -> CString {
    // Interior NULs cannot be passed to exec at all; the CLI rejects them
    // before we get here, and a library caller gets an empty argument.
    CString::new(s.as_bytes()).unwrap_or_default()
}

/// A running sandboxed tree: init (outside our reach only through its pidfd)
/// and, below it, the program.
pub struct Tree {
    init_pid: libc::pid_t,
    init_pidfd: OwnedFd,
    report: File,
    group: Option<cgroup::Cgroup>,
    started_ns: u64,
    pub memory_by: Mechanism,
    pub tasks_by: Mechanism,
    pub cpu_by: Mechanism,
    program_host_pid: Option<libc::pid_t>,
    /// Readable the moment the program's main process exits.
    program_pidfd: Option<OwnedFd>,
    reaped: bool,
    /// Where the system calls refused to the program are reported.
    pub notifier: Option<seccomp::Notifier>,
    pub network: Network,
    /// Where to copy the work directory when the tree finishes (hold mode);
    /// taken once the copy is made.
    keep_to: Option<PathBuf>,
    /// What the copy may write: the work area's size.
    keep_bytes: u64,
    /// Init's hand-over of the held namespace (hold mode), once asked.
    held: Option<Result<(), String>>,
    /// The memory figures were handed out (by the first `finish`).
    stats_read: bool,
}

impl Tree {
    /// Readable when init has reported the program's exit (or died).
    pub fn exit_fd(&self) -> i32 {
        self.report.as_raw_fd()
    }

    /// A pidfd of the program's main process: readable as soon as it exits,
    /// before init has even been scheduled to reap it.
    pub fn program_pidfd(&self) -> Option<i32> {
        self.program_pidfd.as_ref().map(|f| f.as_raw_fd())
    }

    /// The program's main process has exited or is exiting (PF_EXITING is
    /// set at the very start of exit, before its descriptors are closed: so
    /// an end of file on its stdout can be told apart from a close()).
    pub fn program_exiting(&self) -> bool {
        if self.program_exited() {
            return true;
        }
        const PF_EXITING: u64 = 0x4;
        let pid = match self.program_host_pid {
            Some(p) => p,
            None => return false,
        };
        // A main thread that called pthread_exit is PF_EXITING too while
        // the other threads run on: only the last thread's exit counts.
        proc_stat(pid)
            .and_then(|f| {
                // Fields 9 (flags) and 20 (num_threads) of stat(5).
                let flags: u64 = f.get(6)?.parse().ok()?;
                let threads: u64 = f.get(17)?.parse().ok()?;
                Some(flags & PF_EXITING != 0 && threads <= 1)
            })
            .unwrap_or(false)
    }

    /// The program's main process (all its threads) has exited: its pidfd
    /// says so.
    pub fn program_exited(&self) -> bool {
        self.program_pidfd.as_ref().is_some_and(sys::pidfd_exited)
    }

    /// CLOCK_MONOTONIC when the program was started.
    pub fn started_ns(&self) -> u64 {
        self.started_ns
    }

    /// The program's exit, if init has reported it. `Err` only when init is
    /// gone without a report (killed from outside).
    pub fn try_exit(&mut self) -> io::Result<Option<ExitReport>> {
        let mut buf = [0u8; REPORT_LEN];
        match self.report.read(&mut buf) {
            Ok(REPORT_LEN) => Ok(Some(ExitReport::decode(&buf))),
            Ok(0) => Err(io::Error::other(
                "the sandbox's init ended without a report",
            )),
            Ok(_) => Err(io::Error::other("the sandbox's init sent a short report")),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// CPU time of the whole tree so far, in nanoseconds: from the cgroup
    /// where there is one, else from /proc: every live process below init,
    /// plus what init has reaped.
    pub fn cpu_ns(&mut self) -> Option<u64> {
        if let Some(ns) = self.group.as_mut().and_then(|g| g.cpu_ns()) {
            return Some(ns);
        }
        if self.reaped {
            return None;
        }
        proc_tree_cpu_ns(self.init_pid)
    }

    /// Whether the program's main process is blocked reading its stdin
    /// (None when that cannot be seen).
    pub fn blocked_reading_stdin(&mut self) -> Option<bool> {
        self.stdin_wait().map(|w| w != StdinWait::No)
    }

    /// Whether the whole tree is one process of one thread asleep in a
    /// read of its stdin: only input can wake it. (A read has no timeout, a
    /// poll may; another thread or process could still write.)
    pub fn asleep_reading_stdin(&self) -> Option<bool> {
        if self.stdin_wait()? != StdinWait::Reading {
            return Some(false);
        }
        let pid = self.program_host_pid?;
        // Field 20 of stat(5): its threads.
        let threads: u64 = proc_stat(pid)?.get(17)?.parse().ok()?;
        let children =
            |p: libc::pid_t| std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).ok();
        // Init's only child (an orphan it adopted could still write), with
        // none of its own.
        let init = self.init_pid;
        let alone = children(init)?
            .split_whitespace()
            .eq([pid.to_string().as_str()]);
        Some(threads == 1 && alone && children(pid)?.trim().is_empty())
    }

    fn stdin_wait(&self) -> Option<StdinWait> {
        let pid = self.program_host_pid?;
        let s = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
        let mut f = s.split_whitespace();
        let nr: i64 = f.next()?.parse().ok()?;
        let fd = f
            .next()
            .and_then(|a| i64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
        let reading = [
            libc::SYS_read,
            libc::SYS_readv,
            libc::SYS_pread64,
            libc::SYS_preadv,
        ];
        let polling = [
            libc::SYS_poll,
            libc::SYS_ppoll,
            libc::SYS_select,
            libc::SYS_pselect6,
            libc::SYS_epoll_wait,
            libc::SYS_epoll_pwait,
        ];
        Some(if reading.contains(&nr) && fd == Some(0) {
            StdinWait::Reading
        } else if polling.contains(&nr) {
            StdinWait::Polling
        } else {
            StdinWait::No
        })
    }

    /// The scheduler state of the program's main process ('R' running,
    /// 'S' sleeping, ...), if it can be seen.
    pub fn program_state(&self) -> Option<char> {
        proc_stat(self.program_host_pid?)?.first()?.chars().next()
    }

    /// Wait up to `timeout_ms` for init's report: for when the pidfd already
    /// says the program has exited and only init's word is missing.
    pub fn wait_exit(&mut self, timeout_ms: i32) -> io::Result<Option<ExitReport>> {
        let mut p = libc::pollfd {
            fd: self.report.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, timeout_ms) };
        self.try_exit()
    }

    /// Kill every process of the tree. Idempotent. In hold mode init is
    /// spared (it kills the rest), so the work directory can be copied out.
    pub fn kill(&self) {
        if !self.reaped {
            let signal = if self.keep_to.is_some() {
                libc::SIGUSR1
            } else {
                libc::SIGKILL
            };
            let _ = sys::pidfd_kill(&self.init_pidfd, signal);
        }
    }

    /// Kill what is left and wait until nothing of the tree remains; returns
    /// the memory figures of the cgroup, if there was one (on the first call
    /// only: later calls, such as the one in `Drop`, do not read them again).
    ///
    /// In hold mode (`--keep-workdir`) init outlives this: it has ended
    /// every other process and keeps the work directory for
    /// [`Tree::keep_workdir`], which the session calls once its loop is
    /// over, so that copying never delays the conversation's clocks.
    pub fn finish(&mut self) -> Option<MemoryStats> {
        if self.keep_to.is_some() && self.held.is_none() && !self.reaped {
            self.kill();
            self.held = Some(self.wait_held().map_err(|e| e.to_string()));
        }
        if self.keep_to.is_none() {
            self.end();
        }
        if self.stats_read {
            return None;
        }
        self.stats_read = true;
        self.group.as_ref().and_then(|g| g.memory_stats())
    }

    /// Copy the held work directory out (hold mode), then end the tree.
    /// What the copy did, once; `None` when there was nothing to keep.
    pub fn keep_workdir(&mut self) -> Option<Result<keep::Kept, String>> {
        let kept = self.keep_to.clone().map(|dest| {
            self.finish();
            let r = match self.held.take() {
                Some(Ok(())) => keep::copy_out(
                    self.init_pid,
                    WORK_DIR,
                    &dest,
                    keep::Budget {
                        bytes: self.keep_bytes,
                        deadline: std::time::Instant::now() + keep::TIME_BUDGET,
                    },
                )
                .map_err(|e| format!("copying the work directory to {}: {e}", dest.display())),
                Some(Err(e)) => Err(format!("the work directory could not be kept: {e}")),
                None => Err("the work directory could not be kept: the tree was gone".into()),
            };
            // Once: the hold is over, and a later kill is a SIGKILL.
            self.keep_to = None;
            r
        });
        self.end();
        kept
    }

    /// Kill init and reap it: the kernel has then killed and reaped every
    /// process of its namespace.
    fn end(&mut self) {
        self.kill();
        if !self.reaped {
            let _ = sys::reap_pidfd(&self.init_pidfd, false);
            self.reaped = true;
        }
    }

    /// Wait (briefly) for init to say it holds an empty namespace.
    fn wait_held(&mut self) -> io::Result<()> {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(io::Error::other(
                    "init did not hand the namespace over in time",
                ));
            }
            let mut p = libc::pollfd {
                fd: self.report.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, left.as_millis().max(1) as i32) };
            let mut buf = [0u8; REPORT_LEN];
            match self.report.read(&mut buf) {
                // The exit report, not read by the loop when it killed first.
                Ok(REPORT_LEN) => continue,
                Ok(1) if buf[0] == child::HELD => return Ok(()),
                Ok(0) => return Err(io::Error::other("init ended")),
                Ok(_) => return Err(io::Error::other("unexpected message from init")),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub fn has_cgroup(&self) -> bool {
        self.group.is_some()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.finish();
        // A session that ended early never asked for its copy: make it now,
        // as --keep-workdir promised, and end the tree.
        self.keep_workdir();
    }
}

/// Where a process waits, as far as its stdin is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StdinWait {
    /// In a read of fd 0: no timeout, only input ends it.
    Reading,
    /// In poll, select or epoll (perhaps for stdin, perhaps with a timeout).
    Polling,
    No,
}

/// The fields of /proc/PID/stat after the command (which may hold spaces
/// and parentheses): index 0 is field 3 of stat(5), the state.
fn proc_stat(pid: libc::pid_t) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.get(s.rfind(')')? + 2..)?;
    Some(rest.split(' ').map(str::to_string).collect())
}

/// utime, stime, cutime, cstime of one process, in clock ticks.
fn proc_times(pid: libc::pid_t) -> Option<[u64; 4]> {
    let f = proc_stat(pid)?;
    // Fields 14..17 of stat(5), i.e. 11..14 after the command.
    let mut t = [0u64; 4];
    for (i, v) in f.get(11..15)?.iter().enumerate() {
        t[i] = v.parse().ok()?;
    }
    Some(t)
}

/// CPU time of a tree without a cgroup: each live process's own time and
/// what it reaped, plus what init reaped (each dead process is counted in
/// exactly one reaper). Processes that die between two readings may be
/// missed by one reading, never counted twice.
fn proc_tree_cpu_ns(init: libc::pid_t) -> Option<u64> {
    let mut ticks = {
        let t = proc_times(init)?;
        t[2] + t[3]
    };
    let mut stack = vec![init];
    let mut seen = 0;
    while let Some(pid) = stack.pop() {
        seen += 1;
        if seen > 100_000 {
            break;
        }
        let tasks = match std::fs::read_dir(format!("/proc/{pid}/task")) {
            Ok(t) => t,
            Err(_) => continue,
        };
        for task in tasks.flatten() {
            if let Ok(c) = std::fs::read_to_string(task.path().join("children")) {
                for child in c.split_whitespace().filter_map(|p| p.parse().ok()) {
                    if let Some(t) = proc_times(child) {
                        ticks += t.iter().sum::<u64>();
                    }
                    stack.push(child);
                }
            }
        }
    }
    // SAFETY: no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Some(ticks * 1_000_000_000 / hz.max(1))
}

/// Find `program` as a shell would (a name without a slash is looked up in
/// PATH) and check that it is an executable file.
pub fn resolve_program(program: &Path) -> Result<PathBuf, String> {
    resolve_program_in(program, std::env::var_os("PATH").as_deref())
}

/// As [`resolve_program`], searching `path` (a PATH value) for bare names:
/// a jailed program's names are looked up where the jail looks.
pub fn resolve_program_in(program: &Path, path: Option<&OsStr>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = if program.as_os_str().as_bytes().contains(&b'/') {
        vec![program.to_path_buf()]
    } else {
        path.map(|p| std::env::split_paths(p).map(|d| d.join(program)).collect())
            .unwrap_or_default()
    };
    for c in &candidates {
        if let Ok(meta) = std::fs::metadata(c) {
            if meta.is_dir() {
                return Err(format!("{} is a directory", c.display()));
            }
            if nix::unistd::access(c.as_path(), nix::unistd::AccessFlags::X_OK).is_ok() {
                return Ok(c.clone());
            }
            return Err(format!("{} is not executable", c.display()));
        }
    }
    Err(format!("{}: program not found", program.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(
        rl: &[(libc::__rlimit_resource_t, u64, u64)],
        res: libc::__rlimit_resource_t,
    ) -> Option<(u64, u64)> {
        rl.iter().find(|r| r.0 == res).map(|r| (r.1, r.2))
    }

    /// Under strict overcommit the address space is bounded by the memory
    /// limit as well as the cgroup bounds what is touched; otherwise only
    /// where no cgroup measures memory.
    #[test]
    fn strict_overcommit_adds_an_address_space_bound() {
        let limits = TreeLimits {
            memory_bytes: Some(64 << 20),
            ..TreeLimits::default()
        };
        let cg = Mechanism::CgroupV1;
        let rl = rlimits_for(&limits, cg, cg, false);
        assert_eq!(limit(&rl, libc::RLIMIT_AS), None);
        let rl = rlimits_for(&limits, cg, cg, true);
        assert_eq!(limit(&rl, libc::RLIMIT_AS), Some((64 << 20, 64 << 20)));
        let rl = rlimits_for(&limits, Mechanism::Rlimit, cg, false);
        assert_eq!(limit(&rl, libc::RLIMIT_AS), Some((64 << 20, 64 << 20)));
        // No memory limit asked: nothing to bound it by.
        let rl = rlimits_for(&TreeLimits::default(), cg, cg, true);
        assert_eq!(limit(&rl, libc::RLIMIT_AS), None);
    }

    /// Core dumps are off for pipe handlers too: 1, never 0.
    #[test]
    fn core_dumps_are_off_even_for_pipe_handlers() {
        let rl = rlimits_for(
            &TreeLimits::default(),
            Mechanism::None,
            Mechanism::None,
            false,
        );
        assert_eq!(limit(&rl, libc::RLIMIT_CORE), Some((1, 1)));
        assert!(rl.len() <= MAX_RLIMITS);
    }
}
