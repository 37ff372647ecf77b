//! The program's file system: a new root that shows only what programs need
//! to run, read-only, plus one writable, size-limited work directory.
//!
//! The parent turns a [`RootSpec`] into a [`RootPlan`]: a flat list of
//! steps (mkdir, mount, mknod, symlink, write, copy) with every path and
//! every bind source resolved beforehand. Init replays the list between
//! clone and fork, where nothing may allocate, then pivots into the result.
//! Init opens every bind source (O_PATH) before it mounts the staging file
//! system, and binds through /proc/self/fd: the staging mount then cannot
//! hide a source, and the sources belong to init's own mount namespace, as
//! bind mounts require. Init keeps the descriptors where the kernel puts
//! them: a number chosen in advance could land on one init still needs,
//! since the parent opens more after planning and inherits whatever its
//! own parent left open.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// The program's working directory (and HOME) inside the new root.
pub const WORK_DIR: &str = "/box";
/// Where init assembles the new root before pivoting into it (a directory
/// that exists on every host; mounting over it affects only the sandbox's
/// private mount namespace).
const STAGE: &str = "/tmp";

/// Directories of the host shown read-only when they exist (symlinks, as on
/// merged-/usr systems, are recreated as symlinks).
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// The pieces of /etc that dynamic binaries and interpreters look at.
const ETC_PIECES: &[&str] = &["/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"];
/// Bind sources one root may have (init keeps their descriptors in a table
/// on its stack, as it may not allocate).
pub const MAX_SOURCES: usize = 128;
/// Character devices of /dev: name, major, minor.
const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
];

/// A host directory (or file) shown inside the sandbox.
#[derive(Debug, Clone)]
pub struct Bind {
    pub source: PathBuf,
    pub dest: PathBuf,
    pub writable: bool,
}

/// A host file copied into the work directory before the run.
#[derive(Debug, Clone)]
pub struct CopyIn {
    pub source: PathBuf,
    /// Relative to the work directory.
    pub dest: PathBuf,
}

/// What the new root holds beyond the system directories.
#[derive(Debug, Clone, Default)]
pub struct RootSpec {
    /// Size of the writable file system (the work directory and /tmp).
    pub work_bytes: u64,
    /// The program's own executable, shown read-only at its own path when
    /// it lies outside the system directories.
    pub program: Option<PathBuf>,
    pub binds: Vec<Bind>,
    pub files: Vec<CopyIn>,
    /// Owner of the work directory and of the copied files.
    pub uid: u32,
    pub gid: u32,
}

/// Where a mount goes.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// A path inside the new root, mounted at its staging path.
    Inside(&'a str),
    /// A path of the host (the root, the stage itself).
    Host(&'a str),
}

/// One step for init. Pointers refer to strings owned by the plan.
#[derive(Clone, Copy)]
pub enum Step {
    /// Open the next bind source (O_PATH) into init's table of sources.
    Open {
        path: *const libc::c_char,
    },
    Mkdir {
        path: *const libc::c_char,
        mode: libc::mode_t,
    },
    /// An empty file to bind a file onto.
    Touch {
        path: *const libc::c_char,
    },
    Mount {
        source: *const libc::c_char,
        /// Bind from this entry of init's table of sources instead.
        from_source: Option<usize>,
        target: *const libc::c_char,
        fstype: *const libc::c_char,
        flags: libc::c_ulong,
        data: *const libc::c_char,
    },
    Mknod {
        path: *const libc::c_char,
        dev: libc::dev_t,
    },
    Symlink {
        target: *const libc::c_char,
        path: *const libc::c_char,
    },
    Write {
        path: *const libc::c_char,
        bytes: *const u8,
        len: usize,
    },
    Copy {
        from: i32,
        path: *const libc::c_char,
        mode: libc::mode_t,
    },
    Chown {
        path: *const libc::c_char,
    },
}

/// The steps and everything they point into.
pub struct RootPlan {
    pub steps: Vec<Step>,
    /// What each step does, for an error message naming the one that failed.
    pub describe: Vec<String>,
    pub stage: CString,
    pub work_dir: CString,
    /// The path to execute inside (the program as given, or its real path
    /// where only that shows).
    pub program_path: Option<PathBuf>,
    pub uid: u32,
    pub gid: u32,
    strings: Vec<CString>,
    blobs: Vec<Vec<u8>>,
    /// Open files to copy in.
    fds: Vec<OwnedFd>,
    /// Bind sources opened so far.
    sources: usize,
    /// Steps that open sources: they run before everything else.
    opens: Vec<Step>,
    /// Directories already made, relative to the root.
    made: Vec<PathBuf>,
}

/// Why a root could not be planned (before anything was started).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{}: {source}", path.display())]
    Source {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {why}", path.display())]
    Invalid { path: PathBuf, why: &'static str },
}

impl RootPlan {
    /// Plan the root for `spec`. `privileged`: the judge is root in the
    /// initial user namespace (device nodes can be made, not only bound).
    pub fn new(spec: &RootSpec, privileged: bool) -> Result<RootPlan, PlanError> {
        let mut p = RootPlan {
            steps: Vec::new(),
            describe: Vec::new(),
            stage: CString::new(STAGE).unwrap(),
            work_dir: CString::new(WORK_DIR).unwrap(),
            program_path: None,
            uid: spec.uid,
            gid: spec.gid,
            strings: Vec::new(),
            blobs: Vec::new(),
            fds: Vec::new(),
            made: Vec::new(),
            sources: 0,
            opens: Vec::new(),
        };
        // Nothing mounted here may propagate back to the host.
        p.mount(
            None,
            Target::Host("/"),
            None,
            libc::MS_REC | libc::MS_PRIVATE,
            None,
            "making / private",
        );
        let size = format!(
            "size={},nr_inodes=65536,mode=0755",
            spec.work_bytes.max(4096)
        );
        let dev_flag = if privileged { 0 } else { libc::MS_NODEV };
        p.mount(
            Some("judge"),
            Target::Host(STAGE),
            Some("tmpfs"),
            libc::MS_NOSUID | dev_flag,
            Some(&size),
            "mounting the new root (tmpfs)",
        );

        let mut shown: Vec<PathBuf> = Vec::new();
        let mut linked: Vec<PathBuf> = Vec::new();
        for dir in SYSTEM_DIRS {
            let path = Path::new(dir);
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(path).map_err(|e| src_err(path, e))?;
                    p.symlink(&target, path);
                    linked.push(path.to_path_buf());
                }
                Ok(m) if m.is_dir() => {
                    p.bind(path, path, false)?;
                    shown.push(path.to_path_buf());
                }
                _ => {}
            }
        }

        p.mkdir_all(Path::new("/etc"), 0o755);
        for piece in ETC_PIECES {
            let path = Path::new(piece);
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(path).map_err(|e| src_err(path, e))?;
                    p.symlink(&target, path);
                }
                Ok(_) => p.bind(path, path, false)?,
                Err(_) => {}
            }
        }
        let (uid, gid) = (spec.uid, spec.gid);
        p.write(
            "/etc/passwd",
            format!(
                "root:x:0:0:root:/root:/bin/sh\njudge:x:{uid}:{gid}:judge:{WORK_DIR}:/bin/sh\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            ),
        );
        p.write(
            "/etc/group",
            format!("root:x:0:\njudge:x:{gid}:\nnogroup:x:65534:\n"),
        );
        p.write("/etc/hostname", "judge\n".to_string());
        p.write("/etc/hosts", "127.0.0.1 localhost judge\n".to_string());

        p.mkdir_all(Path::new("/proc"), 0o555);
        // Processes of other users are invisible: init (a fork of the judge,
        // whose command line it still carries) runs as root when the judge
        // does, the program as its own user.
        p.mount(
            Some("proc"),
            Target::Inside("/proc"),
            Some("proc"),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            Some("hidepid=invisible"),
            "mounting /proc",
        );

        p.mkdir_all(Path::new("/dev"), 0o755);
        for &(name, major, minor) in DEVICES {
            let path = PathBuf::from("/dev").join(name);
            if privileged {
                p.mknod(&path, libc::makedev(major, minor));
            } else {
                p.bind(&path, &path, true)?;
            }
        }
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            p.symlink(Path::new(target), &Path::new("/dev").join(name));
        }

        p.mkdir_all(Path::new("/tmp"), 0o1777);
        // POSIX semaphores and shared memory (Python's multiprocessing) live
        // here; like /tmp it is part of this run's file system only.
        p.mkdir_all(Path::new("/dev/shm"), 0o1777);
        p.mkdir_all(Path::new(WORK_DIR), 0o755);
        p.chown(Path::new(WORK_DIR));

        if let Some(program) = &spec.program {
            // Through symlinks such as /bin -> usr/bin it may already show.
            let real = std::fs::canonicalize(program).map_err(|e| src_err(program, e))?;
            let visible = |p: &Path| {
                shown.iter().chain(&linked).any(|d| p.starts_with(d))
                    || spec.binds.iter().any(|b| p.starts_with(&b.dest))
            };
            p.program_path = Some(if visible(&real) && visible(program) {
                program.clone()
            } else if visible(&real) {
                real
            } else {
                // The file itself, at its real path (a symlink's own path
                // may be taken inside, by /tmp say).
                p.bind(&real, &real, false)?;
                real
            });
        }
        for b in &spec.binds {
            if !b.dest.is_absolute() || b.dest.components().any(|c| c == Component::ParentDir) {
                return Err(PlanError::Invalid {
                    path: b.dest.clone(),
                    why: "a destination inside the sandbox must be an absolute path without '..'",
                });
            }
            if b.dest.parent().is_none() {
                return Err(PlanError::Invalid {
                    path: b.dest.clone(),
                    why: "the sandbox's root itself cannot be replaced",
                });
            }
            p.bind(&b.source, &b.dest, b.writable)?;
        }
        for f in &spec.files {
            p.copy_in(&f.source, &f.dest)?;
        }
        let opens = std::mem::take(&mut p.opens);
        let n = opens.len();
        p.steps.splice(0..0, opens);
        p.describe
            .splice(0..0, (0..n).map(|_| "opening a source to show".to_string()));
        Ok(p)
    }

    fn cstr(&mut self, s: impl AsRef<[u8]>) -> *const libc::c_char {
        let c = CString::new(s.as_ref()).unwrap_or_default();
        let ptr = c.as_ptr();
        // The CString's heap buffer does not move when the Vec grows.
        self.strings.push(c);
        ptr
    }

    /// The staging path of `path` (an absolute path inside the sandbox).
    fn staged(&mut self, path: &Path) -> *const libc::c_char {
        let mut s = STAGE.as_bytes().to_vec();
        s.extend_from_slice(path.as_os_str().as_bytes());
        self.cstr(s)
    }

    fn push(&mut self, step: Step, what: String) {
        self.steps.push(step);
        self.describe.push(what);
    }

    /// A mount at `target`: a path inside the new root (staged), or one
    /// of the host's (the root, the stage itself).
    fn mount(
        &mut self,
        source: Option<&str>,
        target: Target<'_>,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
        what: &str,
    ) {
        let target = match target {
            Target::Inside(t) => self.staged(Path::new(t)),
            Target::Host(t) => self.cstr(t),
        };
        let source = source.map_or(std::ptr::null(), |s| self.cstr(s));
        let fstype = fstype.map_or(std::ptr::null(), |s| self.cstr(s));
        let data = data.map_or(std::ptr::null(), |s| self.cstr(s));
        self.push(
            Step::Mount {
                source,
                from_source: None,
                target,
                fstype,
                flags,
                data,
            },
            what.to_string(),
        );
    }

    fn mkdir_all(&mut self, path: &Path, mode: libc::mode_t) {
        let mut at = PathBuf::from("/");
        for c in path.components().skip(1) {
            at.push(c);
            if self.made.contains(&at) {
                continue;
            }
            self.made.push(at.clone());
            let p = self.staged(&at);
            // Directories on the way get 0755; the last one the mode asked.
            let m = if at == path { mode } else { 0o755 };
            self.push(
                Step::Mkdir { path: p, mode: m },
                format!("creating {}", at.display()),
            );
        }
    }

    fn symlink(&mut self, target: &Path, path: &Path) {
        if let Some(parent) = path.parent() {
            self.mkdir_all(parent, 0o755);
        }
        let t = self.cstr(target.as_os_str().as_bytes());
        let p = self.staged(path);
        self.push(
            Step::Symlink { target: t, path: p },
            format!("linking {} to {}", path.display(), target.display()),
        );
    }

    fn mknod(&mut self, path: &Path, dev: libc::dev_t) {
        let p = self.staged(path);
        self.push(
            Step::Mknod { path: p, dev },
            format!("creating {}", path.display()),
        );
    }

    fn write(&mut self, path: &str, contents: String) {
        let bytes = contents.into_bytes();
        let (ptr, len) = (bytes.as_ptr(), bytes.len());
        self.blobs.push(bytes);
        let p = self.staged(Path::new(path));
        self.push(
            Step::Write {
                path: p,
                bytes: ptr,
                len,
            },
            format!("writing {path}"),
        );
    }

    fn chown(&mut self, path: &Path) {
        let p = self.staged(path);
        self.push(
            Step::Chown { path: p },
            format!("giving {} to the program's user", path.display()),
        );
    }

    /// Show host `source` at `dest`, read-only unless `writable`.
    fn bind(&mut self, source: &Path, dest: &Path, writable: bool) -> Result<(), PlanError> {
        let meta = std::fs::metadata(source).map_err(|e| src_err(source, e))?;
        if self.sources == MAX_SOURCES {
            return Err(PlanError::Invalid {
                path: dest.to_path_buf(),
                why: "too many host directories and files to show",
            });
        }
        let index = self.sources;
        self.sources += 1;
        let path = self.cstr(source.as_os_str().as_bytes());
        self.opens.push(Step::Open { path });
        if meta.is_dir() {
            self.mkdir_all(dest, 0o755);
        } else {
            if let Some(parent) = dest.parent() {
                self.mkdir_all(parent, 0o755);
            }
            let p = self.staged(dest);
            self.push(
                Step::Touch { path: p },
                format!("creating {}", dest.display()),
            );
        }
        let what = format!("showing {} at {}", source.display(), dest.display());
        let dest_s = dest.to_string_lossy().into_owned();
        self.mount(
            None,
            Target::Inside(&dest_s),
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            &what,
        );
        if let Some(Step::Mount { from_source, .. }) = self.steps.last_mut() {
            *from_source = Some(index);
        }
        if !writable {
            // A remount must repeat the flags the kernel locked on the source
            // mount (nosuid, nodev, noexec, atime) or, in a user namespace,
            // it is refused.
            let locked = mount_flags(source).unwrap_or(0);
            self.mount(
                None,
                Target::Inside(&dest_s),
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | locked,
                None,
                &format!("making {} read-only", dest.display()),
            );
        }
        Ok(())
    }

    fn copy_in(&mut self, source: &Path, dest: &Path) -> Result<(), PlanError> {
        if dest.is_absolute() || dest.components().any(|c| c == Component::ParentDir) {
            return Err(PlanError::Invalid {
                path: dest.to_path_buf(),
                why: "a file's destination must be relative to the work directory, without '..'",
            });
        }
        // Not following a final symlink (a file list from a submission may
        // point at /etc/shadow), and not blocking on a FIFO: the type is
        // checked on the opened descriptor before anything is read.
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(source)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => PlanError::Invalid {
                    path: source.to_path_buf(),
                    why: "a symbolic link; name the file itself",
                },
                _ => src_err(source, e),
            })?;
        let meta = file.metadata().map_err(|e| src_err(source, e))?;
        if !meta.file_type().is_file() {
            return Err(PlanError::Invalid {
                path: source.to_path_buf(),
                why: "only regular files can be copied in",
            });
        }
        // Reads block again (a regular file never waits anyway).
        // SAFETY: F_SETFL on a descriptor we own.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETFL, 0) };
        let inside = Path::new(WORK_DIR).join(dest);
        if let Some(parent) = inside.parent() {
            self.mkdir_all(parent, 0o755);
            self.chown(parent);
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o755;
        let fd = OwnedFd::from(file);
        let from = fd.as_raw_fd();
        self.fds.push(fd);
        let p = self.staged(&inside);
        self.push(
            Step::Copy {
                from,
                path: p,
                mode,
            },
            format!("copying {} to {}", source.display(), inside.display()),
        );
        Ok(())
    }
}

fn src_err(path: &Path, source: io::Error) -> PlanError {
    PlanError::Source {
        path: path.to_path_buf(),
        source,
    }
}

/// The per-mount flags of the mount `path` lies on, as mount(2) flags.
fn mount_flags(path: &Path) -> Option<libc::c_ulong> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a valid path and a zeroed out-structure.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let f = st.f_flag;
    let mut m = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f & st_flag != 0 {
            m |= ms_flag;
        }
    }
    Some(m)
}

/// Replay the plan and pivot into the new root; returns the index of the
/// step that failed (errno set), or `None` when the program's root is ready.
///
/// # Safety
/// Runs in init between clone and fork: async-signal-safe calls only, on
/// the plan prepared by the parent.
pub unsafe fn enter(plan: &RootPlan) -> Option<usize> {
    let mut sources = [-1i32; MAX_SOURCES];
    let mut opened = 0;
    for (i, step) in plan.steps.iter().enumerate() {
        let ok = match *step {
            Step::Open { path } => {
                let fd = libc::open(path, libc::O_PATH | libc::O_CLOEXEC);
                sources[opened] = fd;
                opened += 1;
                fd >= 0
            }
            Step::Mkdir { path, mode } => {
                libc::mkdir(path, mode) == 0 && libc::chmod(path, mode) == 0
            }
            Step::Touch { path } => {
                let fd = libc::open(
                    path,
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                fd >= 0 && libc::close(fd) == 0
            }
            Step::Mount {
                source,
                from_source,
                target,
                fstype,
                flags,
                data,
            } => {
                let mut via = FdPath::default();
                let source = match from_source {
                    Some(k) => via.of(sources[k]),
                    None => source,
                };
                libc::mount(source, target, fstype, flags, data.cast()) == 0
            }
            Step::Mknod { path, dev } => {
                libc::mknod(path, libc::S_IFCHR | 0o666, dev) == 0 && libc::chmod(path, 0o666) == 0
            }
            Step::Symlink { target, path } => libc::symlink(target, path) == 0,
            Step::Write { path, bytes, len } => {
                let fd = libc::open(
                    path,
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                fd >= 0 && write_all(fd, bytes, len) && libc::close(fd) == 0
            }
            Step::Copy { from, path, mode } => copy(from, path, mode, plan.uid, plan.gid),
            Step::Chown { path } => libc::chown(path, plan.uid, plan.gid) == 0,
        };
        if !ok {
            return Some(i);
        }
    }
    for &fd in &sources[..opened] {
        libc::close(fd);
    }
    // pivot_root(".", ".") stacks the old root on top of the new one, so it
    // needs no directory of its own; detaching it leaves only the new root.
    if libc::chdir(plan.stage.as_ptr()) != 0
        || libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0
        || libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0
        || libc::chdir(c"/".as_ptr()) != 0
    {
        return Some(plan.steps.len());
    }
    None
}

/// "/proc/self/fd/N", formatted without allocating.
#[derive(Default)]
struct FdPath {
    buf: [u8; 32],
}

impl FdPath {
    fn of(&mut self, fd: i32) -> *const libc::c_char {
        const PREFIX: &[u8] = b"/proc/self/fd/";
        self.buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = [0u8; 10];
        let mut n = fd.max(0) as u32;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits[..len].iter().rev().enumerate() {
            self.buf[PREFIX.len() + i] = *d;
        }
        self.buf[PREFIX.len() + len] = 0;
        self.buf.as_ptr().cast()
    }
}

unsafe fn write_all(fd: i32, mut bytes: *const u8, mut len: usize) -> bool {
    while len > 0 {
        let n = libc::write(fd, bytes.cast(), len);
        if n <= 0 {
            if n == -1 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return false;
        }
        bytes = bytes.add(n as usize);
        len -= n as usize;
    }
    true
}

unsafe fn copy(
    from: i32,
    path: *const libc::c_char,
    mode: libc::mode_t,
    uid: u32,
    gid: u32,
) -> bool {
    let to = libc::open(
        path,
        libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        mode,
    );
    if to < 0 {
        return false;
    }
    let mut buf = [0u8; 16384];
    let mut ok = true;
    loop {
        let n = libc::read(from, buf.as_mut_ptr().cast(), buf.len());
        if n == 0 {
            break;
        }
        if n < 0 {
            if *libc::__errno_location() == libc::EINTR {
                continue;
            }
            ok = false;
            break;
        }
        if !write_all(to, buf.as_ptr(), n as usize) {
            ok = false;
            break;
        }
    }
    ok = ok && libc::fchown(to, uid, gid) == 0 && libc::fchmod(to, mode) == 0;
    libc::close(to) == 0 && ok
}

#[cfg(test)]
mod tests {
    use super::FdPath;
    use std::ffi::CStr;

    #[test]
    fn fd_paths_are_formatted_without_allocating() {
        for (fd, want) in [
            (0, "/proc/self/fd/0"),
            (7, "/proc/self/fd/7"),
            (10, "/proc/self/fd/10"),
            (2147483647, "/proc/self/fd/2147483647"),
        ] {
            let mut p = FdPath::default();
            // SAFETY: `of` returns a NUL-terminated string inside `p`.
            let got = unsafe { CStr::from_ptr(p.of(fd)) };
            assert_eq!(got.to_str().unwrap(), want);
        }
    }
}
