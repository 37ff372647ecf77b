//! What runs between clone and exec: our minimal init (pid 1 of the new PID
//! namespace) and the program's own set-up, as one ordered checklist.
//!
//! Everything here runs in a forked copy of a possibly multi-threaded
//! process (init), or in a clone sharing init's memory until exec (the
//! program's set-up), so it only makes async-signal-safe system calls on
//! data prepared beforehand by the parent: no allocation, no locks, no
//! panics.

use super::rootfs::{self, RootPlan};
use super::seccomp;
use super::sys::{monotonic_ns, send_fd, FD_PIDFD, FD_SECCOMP};

/// Steps of the program's set-up, reported to the parent when one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Init = 1,
    Session = 2,
    Cgroup = 3,
    Affinity = 4,
    Rlimits = 5,
    Chdir = 6,
    Stdio = 7,
    Signals = 8,
    Exec = 9,
    Network = 10,
    Root = 11,
    Identity = 12,
    Capabilities = 13,
    Seccomp = 14,
}

impl Stage {
    pub fn from_u8(v: u8) -> Stage {
        match v {
            1 => Stage::Init,
            2 => Stage::Session,
            3 => Stage::Cgroup,
            4 => Stage::Affinity,
            5 => Stage::Rlimits,
            6 => Stage::Chdir,
            7 => Stage::Stdio,
            8 => Stage::Signals,
            10 => Stage::Network,
            11 => Stage::Root,
            12 => Stage::Identity,
            13 => Stage::Capabilities,
            14 => Stage::Seccomp,
            _ => Stage::Exec,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stage::Init => "starting the sandbox's init",
            Stage::Session => "leaving the judge's process group",
            Stage::Cgroup => "joining the control group",
            Stage::Affinity => "setting the CPU affinity",
            Stage::Rlimits => "setting resource limits",
            Stage::Chdir => "entering the working directory",
            Stage::Stdio => "wiring standard streams",
            Stage::Signals => "resetting signal handlers",
            Stage::Exec => "executing the program",
            Stage::Network => "entering the network namespace",
            Stage::Root => "building the sandbox's file system",
            Stage::Identity => "switching to the sandbox's user",
            Stage::Capabilities => "dropping capabilities",
            Stage::Seccomp => "installing the system call filter",
        }
    }
}

pub const MAX_CGROUPS: usize = 4;
pub const MAX_RLIMITS: usize = 10;

/// Everything the child needs, as raw values prepared by the parent.
pub struct Plan<'a> {
    pub path: *const libc::c_char,
    pub argv: *const *const libc::c_char,
    pub envp: *const *const libc::c_char,
    pub cwd: *const libc::c_char,
    pub stdio: [i32; 3],
    pub cgroup_procs: [i32; MAX_CGROUPS],
    pub n_cgroups: usize,
    pub cpus: Option<libc::cpu_set_t>,
    pub rlimits: [(libc::__rlimit_resource_t, libc::rlimit); MAX_RLIMITS],
    pub n_rlimits: usize,
    /// Read end: one byte from the parent means "go", EOF means "give up".
    pub go: i32,
    /// The write end of the same pipe, which init inherits and must close
    /// for EOF to reach it should the judge die before saying "go".
    pub go_writer: i32,
    /// Init's end of a SOCK_SEQPACKET pair: first the program's pidfd,
    /// then the exit report of the program.
    pub report: i32,
    /// Write end, close-on-exec: (stage, errno, step) if the set-up fails;
    /// EOF alone tells the parent that exec succeeded.
    pub exec_status: i32,
    /// The shared network namespace to enter, or -1.
    pub netns: i32,
    /// The new root to build and enter, if any.
    pub root: Option<&'a RootPlan>,
    /// A UTS namespace of its own: name it.
    pub hostname: bool,
    /// stdin is a terminal to take as the controlling one, in a session
    /// of the program's own.
    pub terminal: bool,
    /// Unshare a cgroup namespace once in the cgroups: the program then
    /// sees its cgroups as "/", not the host's path (which names the judge).
    pub cgroup_ns: bool,
    /// Become this (uid, gid) before exec (the judge is root).
    pub identity: Option<(u32, u32)>,
    /// Drop every capability, set no_new_privs; `cap_last` is the highest
    /// capability number the kernel knows.
    pub drop_caps: bool,
    pub cap_last: i32,
    /// Filters to install last, in order; the last one reports refusals
    /// through a listener sent to the judge.
    pub filters: [(*const libc::sock_filter, usize); 3],
    pub n_filters: usize,
    /// Keep the namespaces alive after the program's exit (for copying its
    /// work directory out): see [`init_main`].
    pub hold: bool,
}

/// What init sends, after the exit report, once it holds an empty
/// namespace for the judge to look into.
pub const HELD: u8 = b'h';

/// Init's answer to SIGUSR1 from the judge in hold mode: end every other
/// process of the namespace (the kernel spares init itself).
extern "C" fn kill_the_rest(_: libc::c_int) {
    // SAFETY: kill is async-signal-safe.
    unsafe { libc::kill(-1, libc::SIGKILL) };
}

/// Size of a set-up failure message: stage, errno, step.
pub const FAILURE_LEN: usize = 7;

/// Size of the report init writes when the program ends (below PIPE_BUF,
/// so the write is atomic).
pub const REPORT_LEN: usize = 40;

/// The exit of the program's main process, as init saw it.
#[derive(Debug, Clone, Copy)]
pub struct ExitReport {
    /// The raw wait status.
    pub wait_status: i32,
    pub utime_us: u64,
    pub stime_us: u64,
    pub maxrss_kib: u64,
    /// CLOCK_MONOTONIC when init reaped it.
    pub at_ns: u64,
}

impl ExitReport {
    pub fn decode(b: &[u8; REPORT_LEN]) -> ExitReport {
        let u = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().unwrap());
        ExitReport {
            wait_status: i32::from_ne_bytes(b[0..4].try_into().unwrap()),
            utime_us: u(8),
            stime_us: u(16),
            maxrss_kib: u(24),
            at_ns: u(32),
        }
    }

    fn encode(&self) -> [u8; REPORT_LEN] {
        let mut b = [0u8; REPORT_LEN];
        b[0..4].copy_from_slice(&self.wait_status.to_ne_bytes());
        b[8..16].copy_from_slice(&self.utime_us.to_ne_bytes());
        b[16..24].copy_from_slice(&self.stime_us.to_ne_bytes());
        b[24..32].copy_from_slice(&self.maxrss_kib.to_ne_bytes());
        b[32..40].copy_from_slice(&self.at_ns.to_ne_bytes());
        b
    }
}

/// Body of our init, pid 1 of the new PID namespace. Never returns.
///
/// It starts the program as pid 2 and reaps every orphan that the kernel
/// reparents to it. When the program's main process ends, init writes the
/// exit report and exits; the kernel then kills whatever the program left
/// behind in the namespace, daemons included.
///
/// # Safety
/// Only to be called in the child of a clone, see the module docs.
pub unsafe fn init_main(plan: &Plan<'_>) -> ! {
    // If the judge dies, so does init, and with it the whole namespace.
    libc::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        0,
        0,
        0,
    );
    // The embedding process may ignore SIGCHLD (init's wait4 would lose
    // the program's status) or block SIGUSR1 (hold mode's kill signal):
    // init starts from a clean state, whatever it inherited.
    libc::signal(libc::SIGCHLD, libc::SIG_DFL);
    let mut unblock: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut unblock);
    libc::sigaddset(&mut unblock, libc::SIGUSR1);
    libc::sigaddset(&mut unblock, libc::SIGCHLD);
    libc::sigprocmask(libc::SIG_UNBLOCK, &unblock, std::ptr::null_mut());
    libc::close(plan.go_writer);
    let mut go = 0u8;
    if read_exact(plan.go, std::slice::from_mut(&mut go)) != 1 {
        libc::_exit(1);
    }
    libc::close(plan.go);

    // Off the judge's terminal and out of its process group, so that the
    // tree can neither use the terminal nor get its job-control signals (a
    // Ctrl-C is the judge's to handle). Not a session of its own: setsid
    // would also give the tree its own scheduler autogroup, and waking a
    // task of another group costs a ping-pong round about 10%. A process
    // that is not a session leader cannot take a terminal again, and the
    // program inherits both from init. Dropped before the new root (whose
    // /dev/tty would open only a terminal the program leads, under --pty).
    // Where the terminal cannot be dropped that
    // way (no /dev/tty node, a terminal in exclusive mode, a failed
    // ioctl), a session of its own after all: never a terminal kept.
    let tty = libc::open(
        c"/dev/tty".as_ptr(),
        libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
    );
    let detached = if tty >= 0 {
        let ok = libc::ioctl(tty, libc::TIOCNOTTY) == 0;
        libc::close(tty);
        ok
    } else {
        // ENXIO: there is no controlling terminal to drop.
        *libc::__errno_location() == libc::ENXIO
    };
    let grouped = if detached {
        libc::setpgid(0, 0)
    } else {
        libc::setsid()
    };
    if grouped == -1 {
        fail(plan.exec_status, Stage::Session, 0);
    }

    if plan.netns >= 0 && libc::setns(plan.netns, libc::CLONE_NEWNET) != 0 {
        fail(plan.exec_status, Stage::Network, 0);
    }
    if let Some(root) = plan.root {
        if let Some(step) = rootfs::enter(root) {
            fail(plan.exec_status, Stage::Root, step as u16);
        }
    }
    if plan.hostname {
        libc::sethostname(c"judge".as_ptr(), 5);
    }
    if plan.hold {
        // The program resets every disposition before exec, so this stays
        // init's own.
        libc::signal(
            libc::SIGUSR1,
            kill_the_rest as *const () as libc::sighandler_t,
        );
    }

    // The program is started as posix_spawn starts one: sharing init's
    // memory on a stack of its own, init suspended until it has exec'd.
    // A fork would copy init's page tables (a copy of the judge's) only for
    // exec to throw them away: that copy and its teardown were about a
    // tenth of a session.
    // With a guard page below it: an overflow faults instead of writing
    // over whatever init has mapped there.
    let stack = libc::mmap(
        std::ptr::null_mut(),
        PROGRAM_STACK + GUARD,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
        -1,
        0,
    );
    if stack == libc::MAP_FAILED || libc::mprotect(stack, GUARD, libc::PROT_NONE) != 0 {
        fail(plan.exec_status, Stage::Init, 2);
    }
    let mut pidfd = -1;
    let pid = libc::clone(
        program_entry,
        stack.cast::<u8>().add(GUARD + PROGRAM_STACK).cast(),
        libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD,
        (plan as *const Plan<'_>).cast_mut().cast(),
        &mut pidfd as *mut libc::c_int,
    );
    if pid < 0 {
        fail(plan.exec_status, Stage::Init, 0);
    }
    libc::munmap(stack, PROGRAM_STACK + GUARD);
    // The judge learns of the program's exit the moment it happens through
    // this pidfd, without waiting for init to be scheduled and report.
    if send_fd(plan.report, pidfd, FD_PIDFD) != 1 {
        // The program is already running: it must not outlive the failure.
        libc::kill(pid, libc::SIGKILL);
        fail(plan.exec_status, Stage::Init, 1);
    }
    libc::close(pidfd);

    // Keep only the report pipe: the program's stdio must reach EOF when the
    // program closes it, so init may hold no copy.
    let keep = plan.report as libc::c_uint;
    if keep > 0 {
        libc::syscall(libc::SYS_close_range, 0, keep - 1, 0);
    }
    libc::syscall(libc::SYS_close_range, keep + 1, !0u32, 0);

    loop {
        let mut status = 0;
        let mut ru: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(-1, &mut status, libc::__WALL, &mut ru);
        if r > 0 && libc::WIFSTOPPED(status) {
            // A child that asked to be traced (PTRACE_TRACEME) made us its
            // tracer; let it go on, untraced, with the signal it stopped on.
            libc::ptrace(libc::PTRACE_DETACH, r, 0, libc::WSTOPSIG(status));
            continue;
        }
        if r == pid {
            let at_ns = monotonic_ns();
            // Everything init has reaped: the program (with what it reaped
            // itself) and every orphan that was reparented to init.
            let mut all: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_CHILDREN, &mut all);
            let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
            let report = ExitReport {
                wait_status: status,
                utime_us: us(all.ru_utime),
                stime_us: us(all.ru_stime),
                maxrss_kib: ru.ru_maxrss as u64,
                at_ns,
            }
            .encode();
            libc::write(plan.report, report.as_ptr().cast(), report.len());
            if plan.hold {
                hold(plan.report);
            }
            libc::_exit(0);
        }
        if r == -1 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(2);
        }
    }
}

/// Hold mode, after the program's exit: end and reap everything else, tell
/// the judge, and wait for its SIGKILL (or the judge's death) with the
/// mount namespace, and so the work directory, still in place.
unsafe fn hold(report: i32) -> ! {
    libc::kill(-1, libc::SIGKILL);
    loop {
        let r = libc::wait4(-1, std::ptr::null_mut(), libc::__WALL, std::ptr::null_mut());
        if r == -1 && *libc::__errno_location() != libc::EINTR {
            break;
        }
    }
    libc::write(report, [HELD].as_ptr().cast(), 1);
    loop {
        libc::pause();
    }
}

/// The stack the program's set-up runs on, until exec replaces it.
const PROGRAM_STACK: usize = 256 << 10;
/// Unmapped below that stack (at least a page on every Linux target).
const GUARD: usize = 64 << 10;

/// Where the program's clone starts: on its own stack, in init's memory
/// (init is suspended meanwhile), with `arg` pointing at init's plan.
extern "C" fn program_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the plan init passed to clone, alive while init
    // waits for this process to exec or exit.
    unsafe { program_main(&*arg.cast::<Plan<'_>>()) }
}

/// The program's set-up, in order, then exec. Never returns. It runs in
/// init's memory: it may change no state init reads afterwards (errno
/// aside), and leaves by exec or `fail`.
unsafe fn program_main(plan: &Plan<'_>) -> ! {
    let st = plan.exec_status;

    // Join the tree's control groups ("0" means the calling process) before
    // anything else runs, so that every byte and every fork is accounted.
    for &fd in &plan.cgroup_procs[..plan.n_cgroups] {
        if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
            fail(st, Stage::Cgroup, 0);
        }
    }
    if plan.cgroup_ns && libc::unshare(libc::CLONE_NEWCGROUP) != 0 {
        fail(st, Stage::Cgroup, 1);
    }
    if let Some(set) = &plan.cpus {
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) == -1 {
            fail(st, Stage::Affinity, 0);
        }
    }
    // RLIMIT_NOFILE waits until the filters are installed: the listener
    // they create takes a descriptor above every one inherited from the
    // judge, which a low limit would refuse.
    for (resource, limit) in &plan.rlimits[..plan.n_rlimits] {
        if *resource != libc::RLIMIT_NOFILE && libc::setrlimit(*resource, limit) == -1 {
            fail(st, Stage::Rlimits, 0);
        }
    }
    if !plan.cwd.is_null() && libc::chdir(plan.cwd) == -1 {
        fail(st, Stage::Chdir, 0);
    }
    for (target, &fd) in plan.stdio.iter().enumerate() {
        // The parent moved every descriptor the child uses above 2, so this
        // cannot clobber one.
        if libc::dup2(fd, target as i32) == -1 {
            fail(st, Stage::Stdio, 0);
        }
    }
    if plan.terminal && (libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1) {
        fail(st, Stage::Stdio, 1);
    }
    // The judge ignores SIGPIPE and may block signals for its own signalfd;
    // both would be inherited across exec and change the program's behaviour.
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) == -1 {
        fail(st, Stage::Signals, 0);
    }
    for sig in 1..libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    if plan.drop_caps {
        // The bounding set first: dropping from it needs CAP_SETPCAP, which
        // the change of user below takes away.
        for cap in 0..=plan.cap_last {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) != 0 {
                fail(st, Stage::Capabilities, cap as u16);
            }
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    if let Some((uid, gid)) = plan.identity {
        // Raw system calls, not glibc's wrappers: those broadcast the change
        // to every thread glibc believes the process has (its list is a
        // copy of the judge's), waiting on threads that do not exist here.
        if libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) != 0
            || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
            || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
        {
            fail(st, Stage::Identity, 0);
        }
    }
    if plan.drop_caps {
        if !clear_capabilities() {
            fail(st, Stage::Capabilities, 0);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail(st, Stage::Capabilities, 0);
        }
    }
    for (i, &(prog, len)) in plan.filters[..plan.n_filters].iter().enumerate() {
        let last = i + 1 == plan.n_filters;
        let r = seccomp::install(std::slice::from_raw_parts(prog, len), last);
        if r < 0 {
            fail(st, Stage::Seccomp, i as u16);
        }
        if last {
            if send_fd(plan.report, r, FD_SECCOMP) != 1 {
                fail(st, Stage::Seccomp, i as u16);
            }
            libc::close(r);
        }
    }
    libc::close(plan.report);
    for (resource, limit) in &plan.rlimits[..plan.n_rlimits] {
        if *resource == libc::RLIMIT_NOFILE && libc::setrlimit(*resource, limit) == -1 {
            fail(st, Stage::Rlimits, 0);
        }
    }
    // Nothing of the judge leaks into the program but fds 0, 1, 2.
    libc::syscall(libc::SYS_close_range, 3, !0u32, libc::CLOSE_RANGE_CLOEXEC);
    libc::execve(plan.path, plan.argv, plan.envp);
    fail(st, Stage::Exec, 0);
}

/// Empty the permitted, effective and inheritable sets.
unsafe fn clear_capabilities() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) == 0
}

unsafe fn fail(fd: i32, stage: Stage, step: u16) -> ! {
    let errno = *libc::__errno_location();
    let mut msg = [0u8; FAILURE_LEN];
    msg[0] = stage as u8;
    msg[1..5].copy_from_slice(&errno.to_ne_bytes());
    msg[5..7].copy_from_slice(&step.to_ne_bytes());
    libc::write(fd, msg.as_ptr().cast(), msg.len());
    libc::_exit(127);
}

unsafe fn read_exact(fd: i32, buf: &mut [u8]) -> isize {
    loop {
        let r = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        if r == -1 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        return r;
    }
}
