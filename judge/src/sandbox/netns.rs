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
use std::path::Path;

/// Where the shared namespace is pinned.
pub const PATH: &str = "/run/judge/netns";
const LOCK: &str = "/run/judge/netns.lock";

/// Open the shared namespace, making it on first use.
pub fn shared() -> io::Result<File> {
    if let Some(f) = open_existing()? {
        return Ok(f);
    }
    let _lock = super::pin::lock(Path::new(LOCK))?;
    if let Some(f) = open_existing()? {
        return Ok(f);
    }
    make()?;
    open_existing()?.ok_or_else(|| io::Error::other("the pinned network namespace vanished"))
}

/// The pinned namespace, if `PATH` holds one.
fn open_existing() -> io::Result<Option<File>> {
    super::pin::open(Path::new(PATH), libc::CLONE_NEWNET)
}

/// Make a namespace in a thread of its own (network namespaces belong to
/// threads) and pin it.
fn make() -> io::Result<()> {
    std::thread::spawn(|| -> io::Result<()> {
        // SAFETY: affects this short-lived thread only.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        super::pin::bind(Path::new("/proc/thread-self/ns/net"), Path::new(PATH))
    })
    .join()
    .map_err(|_| io::Error::other("the thread making the network namespace panicked"))?
}
