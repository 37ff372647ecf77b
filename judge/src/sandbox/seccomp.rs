//! The system call filter: calls that reach beyond the sandbox are refused,
//! and the judge learns which ones were tried.
//!
//! Three filters, compiled here with seccompiler and installed by the
//! program's set-up just before exec (the kernel applies the strictest
//! answer of all):
//! - the refused calls (namespaces, mounts, tracing, kernel keys, modules,
//!   io_uring, sockets and socket names, inotify, CPU affinity, ...) go to
//!   a user-space notifier: the judge records
//!   the call and answers EPERM, or kills the program, as the session says;
//!   any other architecture (int 0x80) or the x32 ABI kills the process;
//! - clone3 fails with ENOSYS (its flags live in memory a filter cannot
//!   read), so that libc falls back to clone, whose flags are checked;
//! - file locks fail with ENOLCK: a lock on a shared read-only file is a
//!   channel between sandboxes running side by side.
//!
//! The rules are seccompiler's; the one piece of BPF written here is an
//! index in front of the refused calls' chain (a binary search over their
//! numbers, see [`index_syscalls`]), which makes installing the filter
//! cheap, and the x32 guard. A test runs both programs on every call
//! number and checks that the index changes no answer.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Refused and reported.
const REFUSED: &[(i64, &str)] = &[
    (libc::SYS_ptrace, "ptrace"),
    (libc::SYS_process_vm_readv, "process_vm_readv"),
    (libc::SYS_process_vm_writev, "process_vm_writev"),
    (libc::SYS_kcmp, "kcmp"),
    (libc::SYS_mount, "mount"),
    (libc::SYS_umount2, "umount2"),
    (libc::SYS_pivot_root, "pivot_root"),
    (libc::SYS_chroot, "chroot"),
    (libc::SYS_unshare, "unshare"),
    (libc::SYS_setns, "setns"),
    (libc::SYS_open_tree, "open_tree"),
    (libc::SYS_move_mount, "move_mount"),
    (libc::SYS_fsopen, "fsopen"),
    (libc::SYS_fsconfig, "fsconfig"),
    (libc::SYS_fsmount, "fsmount"),
    (libc::SYS_fspick, "fspick"),
    (libc::SYS_mount_setattr, "mount_setattr"),
    (SYS_OPEN_TREE_ATTR, "open_tree_attr"),
    // The host's mount table, mount by mount, past what /proc shows.
    (SYS_STATMOUNT, "statmount"),
    (SYS_LISTMOUNT, "listmount"),
    (libc::SYS_kexec_load, "kexec_load"),
    (libc::SYS_kexec_file_load, "kexec_file_load"),
    (libc::SYS_reboot, "reboot"),
    (libc::SYS_swapon, "swapon"),
    (libc::SYS_swapoff, "swapoff"),
    (libc::SYS_init_module, "init_module"),
    (libc::SYS_finit_module, "finit_module"),
    (libc::SYS_delete_module, "delete_module"),
    (libc::SYS_bpf, "bpf"),
    (libc::SYS_perf_event_open, "perf_event_open"),
    (libc::SYS_keyctl, "keyctl"),
    (libc::SYS_add_key, "add_key"),
    (libc::SYS_request_key, "request_key"),
    (libc::SYS_userfaultfd, "userfaultfd"),
    (libc::SYS_io_uring_setup, "io_uring_setup"),
    (libc::SYS_io_uring_enter, "io_uring_enter"),
    (libc::SYS_io_uring_register, "io_uring_register"),
    // Linux AIO contexts come out of the machine-wide fs.aio-max-nr budget:
    // a run holding them makes the host's io_setup fail while it lasts.
    (libc::SYS_io_setup, "io_setup"),
    (libc::SYS_open_by_handle_at, "open_by_handle_at"),
    (libc::SYS_name_to_handle_at, "name_to_handle_at"),
    (libc::SYS_acct, "acct"),
    (libc::SYS_quotactl, "quotactl"),
    (libc::SYS_syslog, "syslog"),
    (libc::SYS_settimeofday, "settimeofday"),
    (libc::SYS_clock_settime, "clock_settime"),
    (libc::SYS_clock_adjtime, "clock_adjtime"),
    (libc::SYS_adjtimex, "adjtimex"),
    (libc::SYS_iopl, "iopl"),
    (libc::SYS_ioperm, "ioperm"),
    (libc::SYS_vhangup, "vhangup"),
    (libc::SYS_fanotify_init, "fanotify_init"),
    (libc::SYS_socket, "socket"),
    // A socketpair's sockets are allowed, but never a name: runs that share
    // the pinned network namespace share its abstract unix socket names.
    (libc::SYS_bind, "bind"),
    (libc::SYS_connect, "connect"),
    (libc::SYS_setsockopt, "setsockopt"),
    // A watch on a shared read-only file sees every other run open it.
    (libc::SYS_inotify_init, "inotify_init"),
    (libc::SYS_inotify_init1, "inotify_init1"),
    (libc::SYS_inotify_add_watch, "inotify_add_watch"),
    // The CPU the session was given is the only one it may use.
    (libc::SYS_sched_setaffinity, "sched_setaffinity"),
    (libc::SYS_clone, "clone"),
    // Only with certain flags (see FLAG_RULES).
    (libc::SYS_mmap, "mmap"),
    (libc::SYS_memfd_create, "memfd_create"),
    (libc::SYS_shmget, "shmget"),
    (libc::SYS_preadv2, "preadv2"),
];

/// Newer than the libc crate's tables (Linux 6.8 and 6.15).
const SYS_STATMOUNT: i64 = 457;
const SYS_LISTMOUNT: i64 = 458;
const SYS_OPEN_TREE_ATTR: i64 = 467;
/// The highest call number this filter was written against (Linux 6.17's
/// file_setattr). A call above it is one this list never weighed, so it
/// fails with ENOSYS, as on an older kernel, instead of being allowed.
pub const LAST_KNOWN_SYSCALL: u32 = 469;

/// (call, argument, flag): the call is refused when the argument has the
/// flag.
const FLAG_RULES: &[(i64, u8, u64)] = &[
    // Huge pages come from a pool the memory controller never sees: a
    // program under a 32 MiB limit could take the whole pool.
    (libc::SYS_mmap, 3, libc::MAP_HUGETLB as u64),
    (libc::SYS_memfd_create, 1, libc::MFD_HUGETLB as u64),
    (libc::SYS_shmget, 2, libc::SHM_HUGETLB as u64),
    // A read that fails rather than wait tells which pages of a shared
    // read-only file are in the page cache: the host's and other runs'
    // reads of it, and a channel between runs (fadvise clears them).
    (libc::SYS_preadv2, 5, libc::RWF_NOWAIT as u64),
];

/// setsockopt options (level SOL_SOCKET) that would give a socketpair's
/// socket an abstract name of its own (autobind on send).
const NAMING_OPTIONS: &[libc::c_int] = &[
    libc::SO_PASSCRED,
    libc::SO_PASSSEC,
    76, /* SO_PASSPIDFD */
];

/// clone(2) flags that would make namespaces.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
];

/// fcntl(2) commands that take or test a lock, a lease, or watch a folder:
/// a lock or a dnotify watch on a shared read-only file or folder is a
/// channel between runs side by side (and dnotify sees the host's reads
/// too); a lease on a file the program's uid owns (rootless, a `--dir` of
/// the judge's user) tells it when the host opens that file.
const LOCK_COMMANDS: &[libc::c_int] = &[
    libc::F_NOTIFY,
    libc::F_SETLEASE,
    libc::F_GETLEASE,
    libc::F_GETLK,
    libc::F_SETLK,
    libc::F_SETLKW,
    libc::F_OFD_GETLK,
    libc::F_OFD_SETLK,
    libc::F_OFD_SETLKW,
];

/// An errno no call returns, standing for "notify" while compiling (the
/// compiler knows no user-notification action).
const NOTIFY_PLACEHOLDER: u32 = 4095;

/// The compiled filters, in the order to install them.
pub struct Filters {
    pub notify: BpfProgram,
    pub enosys: BpfProgram,
    pub enolck: BpfProgram,
}

/// Why the filters could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the system call filter: {0}")]
pub struct FilterError(String);

impl Filters {
    /// The filters, compiled once per process.
    pub fn get() -> Result<&'static Filters, FilterError> {
        static FILTERS: std::sync::OnceLock<Result<Filters, String>> = std::sync::OnceLock::new();
        FILTERS
            .get_or_init(|| Filters::new().map_err(|e| e.0))
            .as_ref()
            .map_err(|e| FilterError(e.clone()))
    }

    pub fn new() -> Result<Filters, FilterError> {
        Filters::compile(true)
    }

    /// The filters, the refused calls' with or without its index (see
    /// [`index_syscalls`]; without, for the test that compares the two).
    fn compile(indexed: bool) -> Result<Filters, FilterError> {
        let arch = TargetArch::x86_64;
        let err = |e: seccompiler::BackendError| FilterError(e.to_string());
        let conditional = |arg: u8, values: &[libc::c_int], masked: bool| {
            values
                .iter()
                .map(|&v| {
                    let op = if masked {
                        SeccompCmpOp::MaskedEq(v as u64)
                    } else {
                        SeccompCmpOp::Eq
                    };
                    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, v as u64)
                        .and_then(|c| SeccompRule::new(vec![c]))
                })
                .collect::<Result<Vec<_>, _>>()
        };

        let mut refused: BTreeMap<i64, Vec<SeccompRule>> =
            REFUSED.iter().map(|&(nr, _)| (nr, Vec::new())).collect();
        refused.insert(
            libc::SYS_clone,
            conditional(0, NAMESPACE_FLAGS, true).map_err(err)?,
        );
        let naming = NAMING_OPTIONS
            .iter()
            .map(|&opt| {
                let level = libc::SOL_SOCKET as u64;
                SeccompRule::new(vec![
                    SeccompCondition::new(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, level)?,
                    SeccompCondition::new(
                        2,
                        SeccompCmpArgLen::Dword,
                        SeccompCmpOp::Eq,
                        opt as u64,
                    )?,
                ])
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        refused.insert(libc::SYS_setsockopt, naming);
        for &(nr, arg, flag) in FLAG_RULES {
            let huge = SeccompCondition::new(
                arg,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )
            .and_then(|c| SeccompRule::new(vec![c]))
            .map_err(err)?;
            refused.insert(nr, vec![huge]);
        }
        let refused_nrs: Vec<u32> = refused.keys().map(|&nr| nr as u32).collect();
        let notify = SeccompFilter::new(
            refused,
            SeccompAction::Allow,
            SeccompAction::Errno(NOTIFY_PLACEHOLDER),
            arch,
        )
        .map_err(err)?;
        let mut notify: BpfProgram = notify.try_into().map_err(err)?;
        let placeholder = u32::from(SeccompAction::Errno(NOTIFY_PLACEHOLDER));
        for ins in notify.iter_mut() {
            if ins.code == (libc::BPF_RET | libc::BPF_K) as u16 && ins.k == placeholder {
                ins.k = libc::SECCOMP_RET_USER_NOTIF;
            }
        }
        // x32 system calls carry the architecture of x86-64 and numbers with
        // bit 30 set, which no rule above would match: kill them first.
        let x32_guard = [
            stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
            jump(
                libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
                0x4000_0000,
                0,
                1,
            ),
            stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
        ];
        notify.splice(0..0, x32_guard);
        // After the architecture check: numbers no rule was written for.
        let future_guard = [
            stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
            jump(
                libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K,
                LAST_KNOWN_SYSCALL,
                0,
                1,
            ),
            stmt(
                libc::BPF_RET | libc::BPF_K,
                libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
            ),
        ];
        notify.splice(6..6, future_guard);
        if indexed {
            index_syscalls(&mut notify, &refused_nrs)?;
        }

        let enosys = SeccompFilter::new(
            [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(err)?
        .try_into()
        .map_err(err)?;
        let enolck = SeccompFilter::new(
            [
                (libc::SYS_flock, Vec::new()),
                (
                    libc::SYS_fcntl,
                    conditional(1, LOCK_COMMANDS, false).map_err(err)?,
                ),
            ]
            .into_iter()
            .collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOLCK as u32),
            arch,
        )
        .map_err(err)?
        .try_into()
        .map_err(err)?;
        Ok(Filters {
            notify,
            enosys,
            enolck,
        })
    }
}

/// Put an index in front of the compiled chain of `prog` (after its
/// architecture check): a binary search over the sorted numbers `nrs` that
/// allows every other call at once and sends these on to the chain.
///
/// The compiler tests the number against each rule in turn, so an allowed
/// call walks the whole chain, some 120 instructions. The kernel walks it
/// too, for each of ~460 calls, when the filter is installed (to cache
/// which calls it always allows), with interrupts off: half a millisecond
/// of every session. Through the index an allowed call takes about ten.
fn index_syscalls(prog: &mut BpfProgram, nrs: &[u32]) -> Result<(), FilterError> {
    // The layout this relies on: the x32 guard (3), the compiler's
    // architecture check (3), the guard against unknown calls (3), then the
    // chain, which loads the number.
    let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let at = 9;
    let expected = prog.len() > at
        && prog[3].code == ld
        && prog[3].k == 4
        && prog[at].code == ld
        && prog[at].k == 0;
    if !expected || nrs.windows(2).any(|w| w[0] >= w[1]) {
        return Err(FilterError(
            "the compiled filter has an unexpected layout".into(),
        ));
    }
    // (instruction, jumps to the chain when true)
    type Index = Vec<(seccompiler::sock_filter, bool)>;
    fn node(nrs: &[u32], out: &mut Index) {
        if nrs.len() <= 3 {
            for &nr in nrs {
                out.push((
                    jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, nr, 0, 0),
                    true,
                ));
            }
            out.push((
                stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
                false,
            ));
            return;
        }
        let (low, high) = nrs.split_at(nrs.len() / 2);
        let split = out.len();
        out.push((
            jump(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K, high[0], 0, 0),
            false,
        ));
        node(low, out);
        // Over the lower half; the length check below keeps it in a u8.
        out[split].0.jt = (out.len() - split - 1) as u8;
        node(high, out);
    }
    let mut index: Index = vec![(stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0), false)];
    node(nrs, &mut index);
    let len = index.len();
    if len > usize::from(u8::MAX) {
        return Err(FilterError("too many refused calls to index".into()));
    }
    let index: Vec<seccompiler::sock_filter> = index
        .into_iter()
        .enumerate()
        .map(|(i, (mut ins, to_chain))| {
            if to_chain {
                // The chain starts right after the index.
                ins.jt = (len - i - 1) as u8;
            }
            ins
        })
        .collect();
    prog.splice(at..at, index);
    Ok(())
}

fn stmt(code: u32, k: u32) -> seccompiler::sock_filter {
    seccompiler::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> seccompiler::sock_filter {
    seccompiler::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// The name of a refused call, for the report.
pub fn name(nr: i32) -> String {
    REFUSED
        .iter()
        .find(|&&(n, _)| n == nr as i64)
        .map_or_else(|| format!("syscall {nr}"), |&(_, name)| name.to_string())
}

/// Install one filter on the calling thread; returns the listener
/// descriptor (`listen`) or 0, -1 on error. Async-signal-safe.
///
/// # Safety
/// `prog` must stay valid for the call.
pub unsafe fn install(prog: &[libc::sock_filter], listen: bool) -> i32 {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    let flags = if listen {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    libc::syscall(
        libc::SYS_seccomp,
        libc::SECCOMP_SET_MODE_FILTER,
        flags,
        &fprog as *const libc::sock_fprog,
    ) as i32
}

/// The judge's end of the notifier: the calls the program tried.
pub struct Notifier {
    fd: OwnedFd,
}

/// One refused call.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    pub nr: i32,
    /// The caller, as a pid of the host (0 if it is not visible there).
    pub pid: u32,
}

impl Notifier {
    pub fn new(fd: OwnedFd) -> Notifier {
        Notifier { fd }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Take every pending notification; answer each with EPERM when
    /// `answer`, else leave the caller blocked (to be killed).
    pub fn refuse_pending(&self, answer: bool) -> io::Result<Vec<Refusal>> {
        let mut out = Vec::new();
        loop {
            let mut p = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd. A receive blocks when nothing is
            // pending, so look first.
            if unsafe { libc::poll(&mut p, 1, 0) } <= 0 || p.revents & libc::POLLIN == 0 {
                return Ok(out);
            }
            // SAFETY: the kernel fills the zeroed structure.
            let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
            if unsafe {
                libc::ioctl(
                    self.fd.as_raw_fd(),
                    libc::SECCOMP_IOCTL_NOTIF_RECV,
                    &mut req,
                )
            } != 0
            {
                let e = io::Error::last_os_error();
                // ENOENT: the caller died before we looked.
                if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::EINTR)) {
                    continue;
                }
                return Err(e);
            }
            out.push(Refusal {
                nr: req.data.nr,
                pid: req.pid,
            });
            if !answer {
                continue;
            }
            let mut resp = libc::seccomp_notif_resp {
                id: req.id,
                val: 0,
                error: -libc::EPERM,
                flags: 0,
            };
            // SAFETY: a valid response for the id just received; ENOENT
            // (the caller is gone) needs no answer.
            unsafe {
                libc::ioctl(
                    self.fd.as_raw_fd(),
                    libc::SECCOMP_IOCTL_NOTIF_SEND,
                    &mut resp,
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::{BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP};
    use libc::{BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W};

    /// Run a classic BPF program on a seccomp_data (as 32-bit words: nr,
    /// arch, instruction pointer, six arguments); the instructions the
    /// filters use only. Returns the action and how many instructions ran.
    fn run(prog: &[seccompiler::sock_filter], data: &[u32; 16]) -> (u32, usize) {
        let (mut a, mut pc, mut steps) = (0u32, 0usize, 0usize);
        loop {
            let ins = &prog[pc];
            pc += 1;
            steps += 1;
            let (jt, jf) = (usize::from(ins.jt), usize::from(ins.jf));
            let code = u32::from(ins.code);
            match code {
                c if c == BPF_LD | BPF_W | BPF_ABS => a = data[(ins.k / 4) as usize],
                c if c == BPF_ALU | BPF_AND | BPF_K => a &= ins.k,
                c if c == BPF_JMP | BPF_JA => pc += ins.k as usize,
                c if c == BPF_JMP | BPF_JEQ | BPF_K => pc += if a == ins.k { jt } else { jf },
                c if c == BPF_JMP | BPF_JGT | BPF_K => pc += if a > ins.k { jt } else { jf },
                c if c == BPF_JMP | BPF_JGE | BPF_K => pc += if a >= ins.k { jt } else { jf },
                c if c == BPF_JMP | BPF_JSET | BPF_K => pc += if a & ins.k != 0 { jt } else { jf },
                c if c == BPF_RET | BPF_K => return (ins.k, steps),
                _ => panic!("opcode {code:#x} at {}", pc - 1),
            }
        }
    }

    /// The index changes no answer: every call number (and the x32 range),
    /// both architectures, the argument patterns the rules look at.
    #[test]
    fn the_index_gives_the_chains_answer_for_every_call() {
        let plain = Filters::compile(false).unwrap().notify;
        let indexed = Filters::compile(true).unwrap().notify;
        assert!(indexed.len() > plain.len());
        let mut args: Vec<[u32; 12]> = vec![[0; 12]];
        for &flag in NAMESPACE_FLAGS {
            let mut a = [0; 12];
            a[0] = flag as u32 | libc::SIGCHLD as u32;
            args.push(a);
        }
        for &opt in NAMING_OPTIONS {
            let mut a = [0; 12];
            (a[2], a[4]) = (libc::SOL_SOCKET as u32, opt as u32);
            args.push(a);
        }
        for &(_, arg, flag) in FLAG_RULES {
            let mut a = [0; 12];
            a[usize::from(arg) * 2] = flag as u32 | 0x22;
            args.push(a);
        }
        let numbers = (0..1100).chain(0x4000_0000..0x4000_0200);
        let mut allowed_steps = 0;
        for nr in numbers {
            for arch in [
                0xc000_003e_u32, /* x86-64 */
                0x4000_0003,     /* i386 */
            ] {
                for a in &args {
                    let mut data = [0u32; 16];
                    (data[0], data[1]) = (nr, arch);
                    data[4..].copy_from_slice(a);
                    let (want, _) = run(&plain, &data);
                    let (got, steps) = run(&indexed, &data);
                    assert_eq!(got, want, "nr {nr}, arch {arch:#x}, args {a:?}");
                    let listed = REFUSED.iter().any(|&(n, _)| n as u32 == nr);
                    if got == libc::SECCOMP_RET_ALLOW && !listed {
                        allowed_steps = allowed_steps.max(steps);
                    }
                }
            }
        }
        let mount = [
            libc::SYS_mount as u32,
            0xc000_003e,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        assert_eq!(run(&indexed, &mount).0, libc::SECCOMP_RET_USER_NOTIF);
        let call = |nr: i64, arg: usize, value: u32| {
            let mut data = [0u32; 16];
            (data[0], data[1]) = (nr as u32, 0xc000_003e);
            data[4 + arg * 2] = value;
            run(&indexed, &data).0
        };
        let allow = libc::SECCOMP_RET_ALLOW;
        let notify = libc::SECCOMP_RET_USER_NOTIF;
        // Huge pages are refused, ordinary mappings are not.
        let (private_anon, huge) = (0x22, libc::MAP_HUGETLB as u32);
        assert_eq!(call(libc::SYS_mmap, 3, private_anon), allow);
        assert_eq!(call(libc::SYS_mmap, 3, private_anon | huge), notify);
        assert_eq!(call(libc::SYS_memfd_create, 1, libc::MFD_CLOEXEC), allow);
        assert_eq!(call(libc::SYS_memfd_create, 1, libc::MFD_HUGETLB), notify);
        assert_eq!(call(libc::SYS_shmget, 2, 0o600), allow);
        assert_eq!(
            call(libc::SYS_shmget, 2, 0o600 | libc::SHM_HUGETLB as u32),
            notify
        );
        // A number past the last known call fails as on an older kernel.
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(call(i64::from(LAST_KNOWN_SYSCALL), 0, 0), allow);
        assert_eq!(call(i64::from(LAST_KNOWN_SYSCALL) + 1, 0, 0), enosys);
        assert_eq!(call(1000, 0, 0), enosys);
        // Calls the rules never look at: the ones the kernel caches.
        assert!(
            allowed_steps <= 16,
            "an unlisted call ran {allowed_steps} instructions"
        );
    }
}
