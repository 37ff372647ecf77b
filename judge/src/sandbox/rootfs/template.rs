//! The read-only part of every root, built once and entered by each run.
//!
//! Built per run, a root meant copying the host's mount table into the new
//! namespace, making some twenty mounts, pivoting and detaching the host's:
//! about half a millisecond of a session, and as much again for the kernel
//! to tear the bigger namespace down. That part is the same for every run of
//! a host, so it is built once, in a mount namespace of its own that holds
//! nothing of the host's (made by the same plan, pivot_root and detach), and
//! pinned by a bind mount at `/run/judge/root-<key>`, as the network
//! namespace is. A run enters it, unshares a copy (a handful of mounts) and
//! adds its own writable area, /proc and binds: see `RootPlan::on_template`.
//!
//! The key hashes what the template shows (each path's kind, device and
//! inode, each link's target, the mounts at or below the bound paths) and
//! the format of its own files, so a file the host replaced or a mount
//! made or removed under /usr gives a new key and a new template; older
//! templates of the same format are unmounted when a new one is pinned
//! (runs that entered one keep their copy). Whatever else is found at the
//! pin's path is replaced, never waited on. Only root can pin a namespace
//! on the host; without root every run builds its root.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::layout::Layout;
use super::RootPlan;

const DIR: &str = "/run/judge";
const LOCK: &str = "/run/judge/root.lock";
/// Pins are named `root-f<format>-<key>`: a judge unpins stale templates
/// of its own format only, not those of another version running beside it.
const PREFIX: &str = "root-";
/// After a template could not be built or pinned, runs build their root
/// per run for this long before trying again (not a failed build per run).
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// A pinned template, open; the descriptor keeps it alive for runs that
/// are about to enter it even if a newer one replaces the pin.
#[derive(Debug)]
pub struct Template {
    ns: File,
    pub key: u64,
}

impl Template {
    pub fn fd(&self) -> i32 {
        self.ns.as_raw_fd()
    }

    pub fn path(&self) -> PathBuf {
        path(self.key)
    }
}

/// Where the template of `key` is pinned.
pub fn path(key: u64) -> PathBuf {
    PathBuf::from(format!("{DIR}/{}{key:016x}", own_prefix()))
}

fn own_prefix() -> String {
    format!("{PREFIX}f{}-", super::TEMPLATE_FORMAT)
}

/// Whether the template of `key` is pinned (a mount namespace is there).
pub fn pinned(key: u64) -> bool {
    open_existing(key).is_ok_and(|t| t.is_some())
}

/// The template for `layout` (whose key is `key`), from this process's
/// cache, from its pin, or built and pinned now.
pub fn get(layout: &Layout, key: u64) -> io::Result<Arc<Template>> {
    static CURRENT: Mutex<Option<Arc<Template>>> = Mutex::new(None);
    static FAILED: Mutex<Option<(u64, std::time::Instant)>> = Mutex::new(None);
    let mut current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = current.as_ref().filter(|t| t.key == key) {
        return Ok(t.clone());
    }
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, at)) = *failed {
        if k == key && at.elapsed() < RETRY_AFTER {
            return Err(io::Error::other(
                "the root template could not be made a moment ago",
            ));
        }
    }
    match open_or_build(layout, key) {
        Ok(t) => {
            let t = Arc::new(t);
            *current = Some(t.clone());
            *failed = None;
            Ok(t)
        }
        Err(e) => {
            *failed = Some((key, std::time::Instant::now()));
            Err(e)
        }
    }
}

/// Whether this kernel can move a mount into another namespace's tree
/// (open_tree and move_mount, Linux 5.2) and set attributes through a
/// tree of mounts (mount_setattr, 5.12): runs on the template bind the
/// program and `--dir` folders that way.
pub fn supported() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        // An invalid descriptor: EBADF where the call exists. Copies of
        // the caller's folders get their attributes (read-only through
        // every mount below) with mount_setattr (5.12) before they are
        // attached, so the template needs both.
        let exists = |nr: libc::c_long| {
            // SAFETY: each call fails on the descriptor before touching anything.
            let r =
                unsafe { libc::syscall(nr, -1, c"".as_ptr(), libc::AT_EMPTY_PATH as u32, 0, 0) };
            r == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
        };
        exists(libc::SYS_open_tree) && exists(libc::SYS_mount_setattr)
    })
}

fn open_or_build(layout: &Layout, key: u64) -> io::Result<Template> {
    if let Some(t) = open_existing(key)? {
        return Ok(t);
    }
    let _lock = crate::sandbox::pin::lock(Path::new(LOCK))?;
    if let Some(t) = open_existing(key)? {
        return Ok(t);
    }
    // The kernel refuses to pin a mount namespace in one whose id is not
    // lower (a loop guard). Since Linux 6.18 namespace ids come from
    // per-CPU batches, so a template made on one CPU can get a lower id
    // than the judge's own namespace (in a container, say) made on
    // another: then the template is made again on each CPU in turn, the
    // one that made the judge's namespace giving a higher id.
    let mut refused = None;
    let cpus = crate::sandbox::cpus::allowed();
    for cpu in std::iter::once(None).chain(cpus.into_iter().map(Some)) {
        let ns = build(layout, cpu)?;
        match pin(&ns, key) {
            Ok(()) => {
                unpin_others(key);
                return open_existing(key)?
                    .ok_or_else(|| io::Error::other("the pinned root template vanished"));
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => refused = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(refused.unwrap_or_else(|| io::Error::other("the root template could not be pinned")))
}

/// The template pinned for `key`, if its path holds a mount namespace.
fn open_existing(key: u64) -> io::Result<Option<Template>> {
    let ns = crate::sandbox::pin::open(&path(key), libc::CLONE_NEWNS)?;
    Ok(ns.map(|ns| Template { ns, key }))
}

/// Build the template in a thread of its own (a thread may leave the
/// process's mount namespace alone), on `cpu` if given; returns the new
/// namespace.
fn build(layout: &Layout, cpu: Option<usize>) -> io::Result<OwnedFd> {
    let layout = layout.clone();
    std::thread::spawn(move || -> io::Result<OwnedFd> {
        if let Some(cpu) = cpu {
            let set = crate::sandbox::cpus::to_cpu_set(&[cpu]);
            // SAFETY: this thread's own affinity, a valid set.
            unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
        }
        // SAFETY: unsharing the mount namespace (and with it the file
        // system context) of this short-lived thread only.
        if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // Taken now: once the thread has pivoted, /proc is out of its sight.
        let ns = File::open("/proc/thread-self/ns/mnt")?;
        let plan = RootPlan::template(&layout).map_err(io::Error::other)?;
        // SAFETY: the plan was made for this replay; the thread is ours.
        if let Some(step) = unsafe { super::replay::enter(&plan) } {
            let e = io::Error::last_os_error();
            let what = plan
                .describe
                .get(step)
                .map_or("entering it", String::as_str);
            return Err(io::Error::new(
                e.kind(),
                format!("building the root template ({what}): {e}"),
            ));
        }
        Ok(OwnedFd::from(ns))
    })
    .join()
    .map_err(|_| io::Error::other("the thread building the root template panicked"))?
}

/// Bind the namespace `ns` at the template's path.
fn pin(ns: &OwnedFd, key: u64) -> io::Result<()> {
    let source = PathBuf::from(format!("/proc/self/fd/{}", ns.as_raw_fd()));
    crate::sandbox::pin::bind(&source, &path(key))
}

/// Unpin this format's templates of other keys (the host changed under
/// them).
fn unpin_others(key: u64) {
    let keep = path(key);
    let Ok(dir) = std::fs::read_dir(DIR) else {
        return;
    };
    for entry in dir.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // Also the unversioned names of the first templates.
        let unversioned = name.starts_with(PREFIX) && !name.starts_with(&format!("{PREFIX}f"));
        let ours = name.starts_with(&own_prefix()) || unversioned;
        if !ours || p == keep {
            continue;
        }
        if let Ok(c) = std::ffi::CString::new(p.to_string_lossy().as_bytes()) {
            // SAFETY: a valid path; detaching a pin of ours.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = std::fs::remove_file(&p);
    }
}
