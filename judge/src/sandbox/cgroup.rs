//! Control groups: find what this host offers (v1, v2 or a hybrid of both),
//! make one group per sandboxed tree, read its figures, remove it.
//!
//! The three resources we want are looked up one by one, because a hybrid
//! host (systemd's "hybrid" layout) can hand `memory` to v1 and `cpu.stat`
//! to v2 at the same time:
//! - memory: limit, peak, and whether the OOM killer fired;
//! - pids: the number of tasks;
//! - cpu accounting: the CPU time of every process of the tree, alive or dead.
//!
//! Groups are created below the cgroup the judge itself runs in, which is
//! what delegation (systemd `Delegate=yes`, rootless setups) grants.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Which cgroup version serves a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

/// Where one resource lives: the version and the directory of the judge's
/// own group in that hierarchy (new groups are made below it).
#[derive(Debug, Clone)]
pub struct Place {
    pub version: Version,
    pub base: PathBuf,
}

/// What this host offers, found once per process.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub memory: Option<Place>,
    pub pids: Option<Place>,
    pub cpu: Option<Place>,
    /// Why a resource is missing, for diagnostics and error messages.
    pub notes: Vec<String>,
}

impl Host {
    /// The cgroup layout of this host, detected on first use.
    pub fn get() -> &'static Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(detect)
    }
}

struct Mount {
    root: String,
    point: PathBuf,
    v2: bool,
    controllers: Vec<String>,
}

fn detect() -> Host {
    let mut host = Host::default();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mounts = parse_mounts(&mountinfo);

    // Our own path in each hierarchy: "ID:controllers:path".
    let mut v1_paths: Vec<(Vec<String>, String)> = Vec::new();
    let mut v2_path: Option<String> = None;
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => continue,
        };
        if ctrls.is_empty() {
            v2_path = Some(path.to_string());
        } else {
            v1_paths.push((ctrls.split(',').map(str::to_string).collect(), path.into()));
        }
    }

    // JUDGE_CGROUP_ROOT names a delegated v2 group to work in (for example
    // one made by `systemd-run --scope -p Delegate=yes`).
    let v2_base = match std::env::var_os("JUDGE_CGROUP_ROOT") {
        Some(root) => Some(PathBuf::from(root)),
        None => v2_path.as_ref().and_then(|p| {
            let m = mounts.iter().find(|m| m.v2)?;
            Some(join_under(m, p))
        }),
    };
    let v2_available: Vec<String> = v2_base
        .as_ref()
        .and_then(|b| fs::read_to_string(b.join("cgroup.controllers")).ok())
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();

    let v1_base = |ctrl: &str| -> Option<PathBuf> {
        let m = mounts
            .iter()
            .find(|m| !m.v2 && m.controllers.iter().any(|c| c == ctrl))?;
        let (_, p) = v1_paths.iter().find(|(c, _)| c.iter().any(|c| c == ctrl))?;
        Some(join_under(m, p))
    };

    for (name, v1_name) in [("memory", "memory"), ("pids", "pids"), ("cpu", "cpuacct")] {
        let place = if let (Some(base), true) = (&v2_base, v2_available.iter().any(|c| c == name)) {
            match enable_v2(base, name) {
                Ok(()) => Some(Place {
                    version: Version::V2,
                    base: base.clone(),
                }),
                Err(e) => {
                    host.notes.push(format!(
                        "cgroup v2 controller {name} is available at {} but cannot be delegated: {e}",
                        base.display()
                    ));
                    None
                }
            }
        } else {
            None
        };
        let place = place.or_else(|| {
            v1_base(v1_name).map(|base| Place {
                version: Version::V1,
                base,
            })
        });
        // Every v2 group has cpu.stat, with or without the cpu controller.
        let place = place.or_else(|| {
            (name == "cpu")
                .then(|| v2_base.clone())
                .flatten()
                .map(|base| Place {
                    version: Version::V2,
                    base,
                })
        });
        let place = place.filter(|p| match writable(&p.base) {
            Ok(()) => true,
            Err(e) => {
                host.notes.push(format!(
                    "cgroup {name} ({:?}) at {} is not writable by this user: {e}",
                    p.version,
                    p.base.display()
                ));
                false
            }
        });
        if place.is_none() && !host.notes.iter().any(|n| n.contains(name)) {
            host.notes
                .push(format!("no cgroup hierarchy offers {name}"));
        }
        if let Some(p) = &place {
            sweep_stale(&p.base);
        }
        match name {
            "memory" => host.memory = place,
            "pids" => host.pids = place,
            _ => host.cpu = place,
        }
    }
    host
}

fn parse_mounts(mountinfo: &str) -> Vec<Mount> {
    super::mountinfo::parse(mountinfo)
        .into_iter()
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .map(|m| Mount {
            v2: m.fstype == "cgroup2",
            controllers: m.super_options.split(',').map(str::to_string).collect(),
            root: m.root,
            point: m.point,
        })
        .collect()
}

/// The directory of cgroup `path` inside mount `m` (whose root may itself be
/// a sub-group, as inside containers).
fn join_under(m: &Mount, path: &str) -> PathBuf {
    let rel = path.strip_prefix(m.root.as_str()).unwrap_or(path);
    m.point.join(rel.trim_start_matches('/'))
}

fn writable(dir: &Path) -> io::Result<()> {
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).map_err(io::Error::from)
}

/// Make `ctrl` available to groups below `base`.
///
/// A v2 group that holds processes cannot also hand controllers to children
/// ("no internal processes"), except the root group. When the only process
/// in `base` is the judge itself, it moves into a leaf of its own below
/// `base` and tries again; when others share the group, moving them is not
/// ours to do, and the error says how to give the judge a group of its own.
fn enable_v2(base: &Path, ctrl: &str) -> io::Result<()> {
    let current = fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
    if current.split_whitespace().any(|c| c == ctrl) {
        return Ok(());
    }
    let enable = || {
        OpenOptions::new()
            .write(true)
            .open(base.join("cgroup.subtree_control"))?
            .write_all(format!("+{ctrl}").as_bytes())
    };
    match enable() {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            let procs = fs::read_to_string(base.join("cgroup.procs")).unwrap_or_default();
            let me = std::process::id().to_string();
            if procs.split_whitespace().any(|p| p != me) {
                return Err(io::Error::new(
                    e.kind(),
                    "other processes share this cgroup; start the judge in a delegated cgroup \
                     of its own (systemd-run --scope -p Delegate=yes) or set JUDGE_CGROUP_ROOT",
                ));
            }
            let leaf = base.join(format!("judge-supervisor-{}-{me}", pid_namespace()));
            match fs::create_dir(&leaf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            fs::write(leaf.join("cgroup.procs"), &me)?;
            enable()
        }
        r => r,
    }
}

/// Remove the empty groups of judges that are gone: a judge killed with
/// SIGKILL cannot remove its own, so the next one does.
fn sweep_stale(base: &Path) {
    // Names carry our PID namespace: a judge in another one would look dead
    // from here, so its groups are never ours to sweep.
    let ns = pid_namespace();
    let ours = [format!("judge-supervisor-{ns}-"), format!("judge-{ns}-")];
    let entries = match fs::read_dir(base) {
        Ok(e) => e,
        Err(_) => return,
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let pid = ours
            .iter()
            .find_map(|p| name.strip_prefix(p.as_str()))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        let alive = match pid {
            Some(pid) => Path::new(&format!("/proc/{pid}")).exists(),
            None => continue,
        };
        if !alive {
            // Fails harmlessly if something still runs in it.
            let _ = fs::remove_dir(e.path());
        }
    }
}

/// When the pools of gone PID namespaces were last looked for: at most
/// once per POOL_IDLE_BEFORE_RECLAIM on a host (a look reads every
/// process's namespace, too much for every session).
const RECLAIM_STAMP: &str = "/run/judge/pools-reclaimed";

/// Pooled groups are named after the judge's PID namespace: those of a
/// namespace that is gone (a judge in a container per job) stay behind for
/// good unless someone removes them. (Namespace inodes are reused, so a
/// new namespace may well find a pool of its name already there.)
fn maybe_reclaim_dead_pools(host: &Host, lock_place: &Place) {
    let due = age(Path::new(RECLAIM_STAMP)).is_none_or(|a| a >= POOL_IDLE_BEFORE_RECLAIM);
    if !due {
        return;
    }
    // Stamped first: judges starting together do not all look.
    let stamped = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(RECLAIM_STAMP)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    if stamped.is_ok() {
        reclaim_dead_pools(host, lock_place);
    }
}

/// A pooled group's directory, opened to hold its lock.
fn open_dir(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(dir)
}

/// Take the lock of a pooled group without waiting; held until `dir` is
/// closed.
fn try_lock(dir: &File) -> bool {
    // SAFETY: flock on a descriptor we own.
    unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// How long ago `path` was last modified.
fn age(path: &Path) -> Option<std::time::Duration> {
    fs::metadata(path).ok()?.modified().ok()?.elapsed().ok()
}

/// How long a pool of a namespace that looks gone must have been unused
/// before it is removed.
const POOL_IDLE_BEFORE_RECLAIM: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the pooled groups of PID namespaces that no process is in any
/// more (idle: unused for an hour, no judge holds their lock, nothing runs
/// in them).
fn reclaim_dead_pools(host: &Host, lock_place: &Place) {
    let living: std::collections::HashSet<u64> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            use std::os::unix::fs::MetadataExt;
            fs::metadata(e.path().join("ns/pid")).ok().map(|m| m.ino())
        })
        .collect();
    if living.is_empty() {
        return; // cannot see: remove nothing
    }
    let Ok(entries) = fs::read_dir(&lock_place.base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ns = name
            .strip_prefix("judge-pool-")
            .and_then(|r| r.split('-').next())
            .and_then(|n| n.parse::<u64>().ok());
        if ns.is_none_or(|ns| living.contains(&ns)) {
            continue;
        }
        // A judge in a container sees only its own processes: a sibling's
        // pool would look dead too. One used within the hour is left alone.
        if age(&e.path()).is_none_or(|a| a < POOL_IDLE_BEFORE_RECLAIM) {
            continue;
        }
        let Ok(lock) = open_dir(&e.path()) else {
            continue;
        };
        if !try_lock(&lock) {
            continue;
        }
        // Each hierarchy's group; one that is not empty stays (rmdir fails).
        for place in [&host.memory, &host.pids, &host.cpu].into_iter().flatten() {
            if place.base != lock_place.base {
                let _ = fs::remove_dir(place.base.join(&name));
            }
        }
        let _ = fs::remove_dir(e.path());
    }
}

/// The inode of our PID namespace: with the pid, it names a judge uniquely
/// across containers that share a cgroup hierarchy.
pub fn pid_namespace() -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self/ns/pid").map_or(0, |m| m.ino())
}

/// Limits to write into a new group.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub memory_bytes: Option<u64>,
    pub max_tasks: Option<u64>,
}

/// Groups kept for reuse, per PID namespace. Making and removing a group
/// costs about a third of a millisecond per hierarchy, so the v1 pids and
/// CPU-accounting groups (whose only counter, cpuacct.usage, can be reset)
/// of a finished tree are kept and the next session claims them. Memory
/// groups are always fresh: a reused one would still be charged with the
/// page cache its last tree read, and reclaiming that (force_empty) costs
/// as much as a new group.
const POOL_SLOTS: usize = 16;

/// One group per sandboxed process tree, in each hierarchy that serves us.
#[derive(Debug)]
pub struct Cgroup {
    /// The claim on a pooled set of groups: a lock on the first pooled
    /// directory, held (never read) until this value is dropped. `None`: no
    /// group of this tree is pooled.
    _pool_lock: Option<File>,
    /// Each directory, and whether it is pooled (kept when dropped).
    dirs: Vec<(PathBuf, bool)>,
    /// cgroup.procs of each hierarchy, opened so the child can join with one
    /// write("0") before exec, without allocating.
    procs: Vec<OwnedFd>,
    memory: Option<(Version, PathBuf)>,
    cpu: Option<(Version, File)>,
    pub pids: Option<Version>,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl Cgroup {
    /// Create the groups with `settings` applied. Returns `None` when the host
    /// offers no cgroup at all.
    pub fn create(host: &Host, settings: Settings) -> io::Result<Option<Cgroup>> {
        let fresh = format!(
            "judge-{}-{}-{}",
            pid_namespace(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        // JUDGE_CGROUP_POOL=0 turns reuse off (fresh groups, removed after).
        let pooling = std::env::var_os("JUDGE_CGROUP_POOL").is_none_or(|v| v != "0");
        let lock_place = [&host.pids, &host.cpu]
            .into_iter()
            .flatten()
            .find(|p| p.version == Version::V1);
        if let (true, Some(place)) = (pooling, lock_place) {
            maybe_reclaim_dead_pools(host, place);
            for slot in 0..POOL_SLOTS {
                let name = format!("judge-pool-{}-{slot}", pid_namespace());
                if let Some(lock) = Self::claim(host, place, &name)? {
                    return Self::make(host, settings, &fresh, Some((name, lock)));
                }
            }
        }
        Self::make(host, settings, &fresh, None)
    }

    /// Claim the pooled groups called `name` if no other judge holds them
    /// and they are empty: returns the lock that holds the claim.
    fn claim(host: &Host, lock_place: &Place, name: &str) -> io::Result<Option<File>> {
        let dir = lock_place.base.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let lock = match open_dir(&dir) {
            Ok(f) => f,
            // Reclaimed by another judge just now: the next slot.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !try_lock(&lock) {
            return Ok(None);
        }
        // Still the group at that name (not one removed and made again
        // while we locked it, which another judge could then lock too).
        {
            use std::os::unix::fs::MetadataExt;
            let same = match (lock.metadata(), fs::metadata(&dir)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                return Ok(None);
            }
        }
        // Stamped as used: a pool idle for long is one to reclaim.
        // SAFETY: futimens on a descriptor we own; NULL means now.
        unsafe { libc::futimens(lock.as_raw_fd(), std::ptr::null()) };
        // Ours now. Something still inside (a task that outlived its judge
        // would be a bug elsewhere) rules the slot out.
        for place in [&host.pids, &host.cpu].into_iter().flatten() {
            let procs = fs::read_to_string(place.base.join(name).join("cgroup.procs"));
            if procs.is_ok_and(|p| !p.trim().is_empty()) {
                return Ok(None);
            }
        }
        Ok(Some(lock))
    }

    /// Make (or, for pooled ones, reuse) the groups and apply `settings`.
    fn make(
        host: &Host,
        settings: Settings,
        fresh: &str,
        pool: Option<(String, File)>,
    ) -> io::Result<Option<Cgroup>> {
        let (pool_name, pool_lock) = match pool {
            Some((n, l)) => (Some(n), Some(l)),
            None => (None, None),
        };
        let mut cg = Cgroup {
            _pool_lock: pool_lock,
            dirs: Vec::new(),
            procs: Vec::new(),
            memory: None,
            cpu: None,
            pids: None,
        };
        let places = [
            ("memory", &host.memory),
            ("pids", &host.pids),
            ("cpu", &host.cpu),
        ];
        for (what, place) in places {
            let place = match place {
                Some(p) => p,
                None => continue,
            };
            let pooled = what != "memory" && place.version == Version::V1 && pool_name.is_some();
            let name = if pooled {
                pool_name.as_deref().unwrap()
            } else {
                fresh
            };
            let dir = place.base.join(name);
            if !cg.dirs.iter().any(|(d, _)| *d == dir) {
                match fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if pooled && e.kind() == io::ErrorKind::AlreadyExists => {}
                    // A fresh name taken: left by a judge that was killed
                    // and whose pid this process now has (names carry the
                    // pid, and the sweep takes a live pid for a live judge).
                    // Empty, it goes; in use, it is not ours to take.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        fs::remove_dir(&dir).map_err(|_| e)?;
                        fs::create_dir(&dir)?;
                    }
                    Err(e) => return Err(e),
                }
                cg.dirs.push((dir.clone(), pooled));
                let procs = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(dir.join("cgroup.procs"))?;
                cg.procs.push(procs.into());
            }
            match what {
                "memory" => {
                    if let Some(bytes) = settings.memory_bytes {
                        match place.version {
                            Version::V1 => {
                                write(&dir, "memory.limit_in_bytes", bytes)?;
                                // Swap would let a program exceed its limit unseen.
                                let _ = write(&dir, "memory.memsw.limit_in_bytes", bytes);
                            }
                            Version::V2 => {
                                write(&dir, "memory.max", bytes)?;
                                let _ = write(&dir, "memory.swap.max", 0);
                            }
                        }
                    }
                    cg.memory = Some((place.version, dir));
                }
                "pids" => {
                    if let Some(n) = settings.max_tasks {
                        write(&dir, "pids.max", n)?;
                    }
                    cg.pids = Some(place.version);
                }
                _ => {
                    let file = match place.version {
                        Version::V1 => {
                            if pooled {
                                // Restarts from 0 when 0 is written to it.
                                write(&dir, "cpuacct.usage", 0)?;
                            }
                            "cpuacct.usage"
                        }
                        Version::V2 => "cpu.stat",
                    };
                    cg.cpu = Some((place.version, File::open(dir.join(file))?));
                }
            }
        }
        if cg.dirs.is_empty() {
            return Ok(None);
        }
        Ok(Some(cg))
    }

    /// Raw descriptors of each hierarchy's cgroup.procs, for the child.
    pub fn procs_fds(&self) -> Vec<i32> {
        self.procs.iter().map(|f| f.as_raw_fd()).collect()
    }

    pub fn memory_version(&self) -> Option<Version> {
        self.memory.as_ref().map(|m| m.0)
    }

    pub fn cpu_version(&self) -> Option<Version> {
        self.cpu.as_ref().map(|c| c.0)
    }

    /// CPU time of every task that ever ran in the group, in nanoseconds.
    pub fn cpu_ns(&mut self) -> Option<u64> {
        let (version, file) = self.cpu.as_mut()?;
        let mut buf = [0u8; 512];
        file.seek(SeekFrom::Start(0)).ok()?;
        let n = file.read(&mut buf).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        match version {
            Version::V1 => text.trim().parse().ok(),
            Version::V2 => text
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|us| us * 1000),
        }
    }

    /// Memory figures once the tree has ended.
    pub fn memory_stats(&self) -> Option<MemoryStats> {
        let (version, dir) = self.memory.as_ref()?;
        let num = |f: &str| -> Option<u64> {
            fs::read_to_string(dir.join(f))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        };
        let field = |f: &str, key: &str| -> Option<u64> {
            fs::read_to_string(dir.join(f)).ok().and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix(key).map(|v| v.trim().parse().ok()))
                    .flatten()
            })
        };
        Some(match version {
            Version::V1 => MemoryStats {
                peak_bytes: num("memory.max_usage_in_bytes"),
                limit_hits: num("memory.failcnt").unwrap_or(0),
                oom_kills: field("memory.oom_control", "oom_kill ").unwrap_or(0),
            },
            Version::V2 => MemoryStats {
                peak_bytes: num("memory.peak"),
                limit_hits: field("memory.events", "max ").unwrap_or(0),
                oom_kills: field("memory.events", "oom_kill ").unwrap_or(0),
            },
        })
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.procs.clear();
        self.cpu = None;
        // Pooled groups stay for the next session (the lock goes with this
        // value); the others go.
        for (dir, _) in self.dirs.iter().filter(|(_, pooled)| !pooled) {
            // The tree has been reaped before we get here, but the kernel
            // may take a moment to release the last task's accounting, so a
            // handful of retries with a short pause are allowed here (and
            // only here: this is teardown, not the event loop).
            for attempt in 0..50 {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < 49 => {
                        std::thread::sleep(std::time::Duration::from_micros(200 << attempt.min(6)))
                    }
                    Err(_) => break,
                }
            }
        }
    }
}

/// The memory accounting of a finished tree.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStats {
    pub peak_bytes: Option<u64>,
    /// How often the tree hit its limit (v1 failcnt, v2 memory.events max).
    pub limit_hits: u64,
    /// How many of its processes the OOM killer ended.
    pub oom_kills: u64,
}

fn write(dir: &Path, file: &str, value: impl std::fmt::Display) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .open(dir.join(file))?
        .write_all(value.to_string().as_bytes())
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("writing {}: {e}", dir.join(file).display()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hybrid_mountinfo() {
        let info = "\
35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
37 25 0:32 /sub /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";
        let m = parse_mounts(info);
        assert_eq!(m.len(), 3);
        assert!(m[0].v2);
        assert_eq!(m[1].controllers, vec!["rw", "memory"]);
        assert_eq!(
            join_under(&m[2], "/sub/judge"),
            PathBuf::from("/sys/fs/cgroup/pids/judge")
        );
    }
}
