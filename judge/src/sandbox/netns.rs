//! A network namespace without network, made once and entered by every run.
//!
//! A new network namespace costs about a millisecond to make and as much
//! again, later, to tear down: more than the rest of a session. A namespace
//! whose only interface is a loopback that is down has nothing to share, so
//! one serves every run: it is pinned by a bind mount at [`PATH`] (as
//! `ip netns add` does) and entered with setns(2). Sockets cannot be
//! created inside the sandbox at all (see seccomp.rs), which also closes
//! abstract unix sockets as a channel between runs sharing it.
//!
//! Only root can pin a namespace on the host; without root each run makes
//! its own (CLONE_NEWNET), which is as private and slower.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Where the shared namespace is pinned.
pub const PATH: &str = "/run/judge/netns";
const LOCK: &str = "/run/judge/netns.lock";

/// Open the shared namespace, making it on first use.
pub fn shared() -> io::Result<File> {
    if let Some(f) = open_existing()? {
        return Ok(f);
    }
    std::fs::create_dir_all("/run/judge")?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)?;
    // SAFETY: flock on a descriptor we own; released when it is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if let Some(f) = open_existing()? {
        return Ok(f);
    }
    make()?;
    open_existing()?.ok_or_else(|| io::Error::other("the pinned network namespace vanished"))
}

/// Open a pinned namespace file without waiting: anything else planted at
/// the path (a FIFO would block the open forever) is then refused by the
/// type check, not waited on.
pub(crate) fn open_pin(path: impl AsRef<Path>) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// The pinned namespace, if `PATH` holds one.
fn open_existing() -> io::Result<Option<File>> {
    let f = match open_pin(PATH) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // SAFETY: NS_GET_NSTYPE takes no argument; it fails on anything that is
    // not a namespace (an empty file before the bind mount, say).
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    let t = unsafe { libc::ioctl(f.as_raw_fd(), NS_GET_NSTYPE) };
    Ok((t == libc::CLONE_NEWNET).then_some(f))
}

/// Make a namespace in a thread of its own (network namespaces belong to
/// threads) and pin it.
fn make() -> io::Result<()> {
    if !Path::new(PATH).exists() {
        File::create(PATH)?;
    }
    std::thread::spawn(|| -> io::Result<()> {
        // SAFETY: affects this short-lived thread only.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let source = c"/proc/thread-self/ns/net";
        let target = c"/run/judge/netns";
        // SAFETY: valid C strings; a bind mount of a namespace file.
        if unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })
    .join()
    .map_err(|_| io::Error::other("the thread making the network namespace panicked"))?
}
