//! The raw system calls the sandbox needs that neither `std` nor `nix` wraps
//! the way we need them (clone3 with a pidfd, waitid on a pidfd, pipe sizes).
//!
//! Everything here is a thin, documented wrapper; callers decide policy.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Turn a `-1`-on-error libc return into an `io::Result`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: the caller of the macro passes arguments valid for `$fn`.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 { Err(std::io::Error::last_os_error()) } else { Ok(res) }
    }};
}

/// `struct clone_args` of clone3(2), declared here so we do not depend on a
/// particular libc crate version exporting it.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// A forked child: in the parent, its pid and a pidfd that refers to it.
pub struct Forked {
    pub pid: libc::pid_t,
    pub pidfd: OwnedFd,
}

/// clone3(CLONE_PIDFD | `flags`) as a fork: returns `None` in the child.
///
/// # Safety
/// The child runs in a copy of this process that may have been
/// multi-threaded: until it execs or exits it may only call
/// async-signal-safe functions (no allocation, no locks, no panics).
pub unsafe fn fork_with_pidfd(flags: u64) -> io::Result<Option<Forked>> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut RawFd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    let ret = libc::syscall(
        libc::SYS_clone3,
        &mut args as *mut CloneArgs,
        std::mem::size_of::<CloneArgs>(),
    );
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(Forked {
            pid: pid as libc::pid_t,
            pidfd: OwnedFd::from_raw_fd(pidfd),
        })),
    }
}

/// Tags of the descriptors sent over the report socket.
pub const FD_PIDFD: u8 = b'p';
pub const FD_SECCOMP: u8 = b's';

/// Room for one descriptor's control message, aligned for cmsghdr.
#[repr(C, align(8))]
struct CmsgBuf([u8; 32]);

/// Send one byte and a descriptor over a unix socket. Async-signal-safe.
///
/// # Safety
/// `sock` and `fd` must be open descriptors.
pub unsafe fn send_fd(sock: RawFd, fd: RawFd, tag: u8) -> isize {
    let mut byte = [tag];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = CmsgBuf([0; 32]);
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
    let cmsg = libc::CMSG_FIRSTHDR(&msg);
    (*cmsg).cmsg_level = libc::SOL_SOCKET;
    (*cmsg).cmsg_type = libc::SCM_RIGHTS;
    (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
    std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
    libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL)
}

/// Receive what [`send_fd`] sent (blocking). `Ok(None)`: the peer closed
/// without sending one.
pub fn recv_fd(sock: &impl AsRawFd) -> io::Result<Option<(u8, OwnedFd)>> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = CmsgBuf([0; 32]);
    // SAFETY: msghdr is plain data; the pointers stay valid for the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len();
    let n = loop {
        // SAFETY: as above.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break n;
    };
    if n == -1 {
        return Err(io::Error::last_os_error());
    }
    if n == 0 {
        return Ok(None);
    }
    // SAFETY: the kernel filled the control buffer; CMSG_* walk it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Ok(None);
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
        Ok(Some((byte[0], OwnedFd::from_raw_fd(fd))))
    }
}

/// A SOCK_SEQPACKET socket pair, close-on-exec: messages keep their bounds.
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    syscall!(socketpair(
        libc::AF_UNIX,
        libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
        0,
        fds.as_mut_ptr()
    ))?;
    // SAFETY: fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether a pidfd's process has exited (poll for POLLIN, no waiting).
pub fn pidfd_exited(pidfd: &impl AsRawFd) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, 0) == 1 && p.revents & libc::POLLIN != 0 }
}

/// The pid (in our namespace) a pidfd refers to, from /proc/self/fdinfo.
pub fn pidfd_pid(pidfd: &impl AsRawFd) -> Option<libc::pid_t> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|&p: &libc::pid_t| p > 0)
}

/// waitid(P_PIDFD): reap the process if it has exited (`nohang`) or wait
/// for it. True once reaped.
pub fn reap_pidfd(pidfd: &OwnedFd, nohang: bool) -> io::Result<bool> {
    loop {
        // SAFETY: siginfo_t is plain data; zeroed is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | if nohang { libc::WNOHANG } else { 0 };
        // SAFETY: valid pointer to a siginfo_t we own.
        let r = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                flags,
            )
        };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: waitid filled the siginfo; si_pid 0 means "not yet" with WNOHANG.
        let pid = unsafe { info.si_pid() };
        return Ok(pid != 0);
    }
}

/// pidfd_send_signal(2). ESRCH (already gone) is not an error.
pub fn pidfd_kill(pidfd: &OwnedFd, signal: i32) -> io::Result<()> {
    // SAFETY: plain system call on a descriptor we own.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            return Err(e);
        }
    }
    Ok(())
}

/// A pipe with O_CLOEXEC on both ends; `(read, write)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC))?;
    // SAFETY: pipe2 just returned two fresh descriptors that nobody else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Grow a pipe's buffer (best effort: the kernel caps unprivileged users at
/// /proc/sys/fs/pipe-max-size). Larger pipes mean fewer wake-ups per byte.
pub fn set_pipe_size(fd: &impl AsRawFd, size: usize) {
    // SAFETY: fcntl on a descriptor we own; failure is harmless.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size as libc::c_int) };
}

/// Put a descriptor in non-blocking mode.
pub fn set_nonblocking(fd: &impl AsRawFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    let flags = syscall!(fcntl(fd, libc::F_GETFL))?;
    syscall!(fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    Ok(())
}

/// Move a descriptor to a number >= 3 so that dup2 onto 0, 1, 2 in a child
/// can never clobber another descriptor the child still needs.
pub fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let new = syscall!(fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// CLOCK_MONOTONIC in nanoseconds; async-signal-safe (vDSO or syscall).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Bytes waiting in the pipe `fd` is an end of (either end), if it can be
/// told.
pub fn pipe_bytes(fd: i32) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    (unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } == 0).then_some(n.max(0) as usize)
}
