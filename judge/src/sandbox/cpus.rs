//! CPU placement.
//!
//! On a small virtual machine a wake-up on another CPU costs tens of
//! microseconds, which dominates a line ping-pong between a program and its
//! interactor. Putting the program, the responder and the loop on one CPU
//! makes every hand-over a cheap local switch. Parallel sessions take
//! different CPUs by holding an advisory lock per CPU for their lifetime.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// The CPUs this thread may run on.
pub fn allowed() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == -1 {
            return (0..num_cpus()).collect();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

fn num_cpus() -> usize {
    // SAFETY: no preconditions.
    (unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }).max(1) as usize
}

pub fn to_cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: zeroed is the empty set; CPU_SET only sets bits in range.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            if c < libc::CPU_SETSIZE as usize {
                libc::CPU_SET(c, &mut set);
            }
        }
        set
    }
}

/// Parse "0", "0,2", "0-3,6".
pub fn parse_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let bad = || format!("invalid CPU list {s:?}: expected e.g. 0 or 0,2 or 0-3");
        if let Some((a, b)) = part.split_once('-') {
            let a: usize = a.parse().map_err(|_| bad())?;
            let b: usize = b.parse().map_err(|_| bad())?;
            if a > b || b >= libc::CPU_SETSIZE as usize {
                return Err(bad());
            }
            out.extend(a..=b);
        } else {
            out.push(part.parse().map_err(|_| bad())?);
        }
    }
    let allowed = allowed();
    if let Some(c) = out.iter().find(|c| !allowed.contains(c)) {
        return Err(format!(
            "CPU {c} is not available to this process (allowed: {allowed:?})"
        ));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A CPU claimed for one session; the claim ends when this is dropped.
#[derive(Debug)]
pub struct Claim {
    pub cpu: usize,
    _lock: Option<File>,
}

/// Claim one CPU that no other session on this machine holds, if any is
/// free; else share the one picked by our pid.
pub fn claim_one() -> Claim {
    let cpus = allowed();
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    let start = std::process::id() as usize % cpus.len().max(1);
    let dir = lock_dir(uid);
    for i in 0..dir.as_ref().map_or(0, |_| cpus.len()) {
        let dir = dir.as_ref().expect("checked by the loop's bound");
        let cpu = cpus[(start + i) % cpus.len()];
        if let Ok(file) = try_lock(dir.join(format!("cpu{cpu}"))) {
            return Claim {
                cpu,
                _lock: Some(file),
            };
        }
    }
    Claim {
        cpu: cpus.get(start).copied().unwrap_or(0),
        _lock: None,
    }
}

/// Where the claims of `uid` live: a directory only it can write, or none
/// (then claims are not coordinated). A predictable name in a shared /tmp
/// could be planted by another user, with FIFOs that block the open or
/// locks held forever.
fn lock_dir(uid: u32) -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let dir = if uid == 0 {
        PathBuf::from("/run/judge/cpus")
    } else {
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d).join("judge-cpus"),
            _ => std::env::temp_dir().join(format!("judge-cpu-locks-{uid}")),
        }
    };
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    let m = std::fs::symlink_metadata(&dir).ok()?;
    (m.is_dir() && m.uid() == uid && m.mode() & 0o022 == 0).then_some(dir)
}

/// An exclusive, non-blocking flock on the regular file `path` (created if
/// missing); never waits, on the lock or on the open.
pub(crate) fn try_lock(path: PathBuf) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// Pins the calling thread to `cpus` until dropped, then restores its mask.
pub struct ThreadPin {
    old: libc::cpu_set_t,
}

impl ThreadPin {
    pub fn new(cpus: &[usize]) -> io::Result<ThreadPin> {
        // SAFETY: plain data in and out of the kernel.
        unsafe {
            let mut old: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old);
            let set = to_cpu_set(cpus);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(ThreadPin { old })
        }
    }
}

impl Drop for ThreadPin {
    fn drop(&mut self) {
        // SAFETY: restores the mask we read in `new`.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &self.old) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(parse_list("0").unwrap(), vec![0]);
        assert!(parse_list("x").is_err());
        assert!(parse_list("3-1").is_err());
        assert!(parse_list("100000").is_err());
    }
}
