//! The program's file system: a new root that shows only what programs need
//! to run, read-only, plus one writable, size-limited work area (/box, its
//! cwd, with /tmp and /dev/shm).
//!
//! The parent turns a [`RootSpec`] into a [`RootPlan`]: a flat list of
//! steps (mkdir, mount, mknod, symlink, write, copy) with every path and
//! every bind source resolved beforehand. Init replays the list between
//! clone and the program's start, where nothing may allocate (replay.rs).
//!
//! A root comes in one of two ways:
//! - **On the template** (root, the common case): the read-only part was
//!   built once and pinned (template.rs). Init copies every per-run bind
//!   source while it still sees the host (open_tree), enters the template
//!   and unshares a copy of it, mounts the work area's tmpfs and binds its
//!   three parts, mounts /proc, and moves the copied sources into place.
//! - **Built per run** (rootless, or `--dir` destinations outside the work
//!   area, which the read-only template has no mount point for): init
//!   mounts a staging tmpfs, replays the whole plan there and pivots into
//!   it, detaching the host's root. It opens every bind source (O_PATH)
//!   before it mounts the staging file system, and binds through
//!   /proc/self/fd: the staging mount then cannot hide a source, and the
//!   sources belong to init's own mount namespace, as bind mounts require.
//!
//! Init keeps the sources' descriptors where the kernel puts them: a number
//! chosen in advance could land on one init still needs, since the parent
//! opens more after planning and inherits whatever its own parent left open.

mod layout;
mod replay;
mod source;
pub mod template;

pub use layout::Layout;
pub use replay::enter;

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::OFlag;

use super::identity;
use template::Template;

/// The program's working directory (and HOME) inside the new root.
pub const WORK_DIR: &str = "/box";
/// Where a program that no shown directory holds is shown (read-only, the
/// file alone): a fixed path needs no mount point made per run.
pub const PROGRAM: &str = "/program";
/// Where init assembles a root built per run before pivoting into it (a
/// directory that exists on every host; mounting over it affects only the
/// sandbox's private mount namespace). On the template, where the work
/// area's tmpfs is mounted before its parts are bound into place.
const STAGE: &str = "/tmp";
/// The template's own files (passwd, group, devices, mount points): bump
/// when they change, so that a pinned template of the old kind is not used.
const TEMPLATE_FORMAT: u64 = 3;
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
    // Opens the opener's controlling terminal: the `--pty` terminal for a
    // program given one (`getpass`, `ssh`-style prompts); ENXIO for every
    // other, which has none.
    ("tty", 5, 0),
];
/// Files of /proc a program reads as empty.
const MASKED_PROC: &[&str] = &["/proc/cmdline", "/proc/sys/kernel/random/boot_id"];
/// Parts of the work area's tmpfs, and where each is shown (the work
/// directory first: its owner is the program's user).
const AREA: &[(&str, &str, libc::mode_t)] = &[
    ("box", WORK_DIR, 0o755),
    ("shm", "/dev/shm", 0o1777),
    ("tmp", "/tmp", 0o1777),
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
    /// Size of the writable file system (the work directory, /tmp and
    /// /dev/shm together).
    pub work_bytes: u64,
    /// The program's own executable: where no shown directory holds it, the
    /// file is shown read-only at [`PROGRAM`].
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
    /// A path as init sees it when the step runs (the host's root, the
    /// stage itself; on the template, the root's own paths).
    Here(&'a str),
}

/// Who /etc/passwd and /etc/group name.
#[derive(Clone, Copy)]
enum Accounts {
    /// This run's user alone.
    One { uid: u32, gid: u32 },
    /// Every uid a run may be given (the template serves them all).
    Pool,
}

/// One step for init. Pointers refer to strings owned by the plan.
#[derive(Clone, Copy)]
pub enum Step {
    /// Open the next bind source (O_PATH) into init's table of sources;
    /// a caller's source (`no_symlinks`) as the judge checked it, with no
    /// symlink on the path. (Init opens it again, by path: a bind mount
    /// needs a source of its own mount namespace, which the judge's
    /// descriptor is not.)
    Open {
        path: *const libc::c_char,
        no_symlinks: bool,
        /// The (device, inode) the judge found there; init refuses
        /// anything else (a path swapped since).
        expect: Option<(u64, u64)>,
    },
    /// Copy the next bind source's mount (open_tree) into the table, from
    /// `path` or from the descriptor `fd` (>= 0), as `Open`; its copy then
    /// gets `attrs`, through every mount below it too.
    Clone {
        path: *const libc::c_char,
        fd: i32,
        attrs: u64,
    },
    /// Enter the template namespace and unshare a copy of it.
    Enter {
        ns: i32,
    },
    /// Move a copied source (see `Clone`) onto `target`.
    Attach {
        from_source: usize,
        target: *const libc::c_char,
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
    /// Set mount attributes (MOUNT_ATTR_*) on `target` and every mount
    /// below it; where the kernel has no mount_setattr (before 5.12),
    /// remount the top one with `fallback` instead.
    Attrs {
        target: *const libc::c_char,
        attrs: u64,
        fallback: libc::c_ulong,
    },
}

/// MOUNT_ATTR_* of mount_setattr(2).
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;

/// How a bound host path is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Read-only, no set-id, no devices: through every mount below it.
    ReadOnly,
    /// Writable (a caller's `rw` folder), but no set-id or devices below.
    Writable,
    /// A device node bound as it is (rootless /dev).
    Device,
}

impl Shown {
    fn attrs(self) -> u64 {
        match self {
            Shown::ReadOnly => MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            Shown::Writable => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            Shown::Device => 0,
        }
    }
}

/// The steps and everything they point into.
pub struct RootPlan {
    pub steps: Vec<Step>,
    /// What each step does, for an error message naming the one that failed.
    pub describe: Vec<String>,
    /// Prepended to every path inside the root while the steps run: the
    /// stage (built per run), or nothing (on the template).
    prefix: &'static str,
    /// The stage, as init's final chdir and pivot_root take it.
    stage: CString,
    /// Pivot into the stage at the end (built per run).
    pivot: bool,
    /// The template entered (held open until init has entered it).
    template: Option<Arc<Template>>,
    /// The path to execute inside (the program as given, its real path
    /// where only that shows, or [`PROGRAM`]).
    pub program_path: Option<PathBuf>,
    pub uid: u32,
    pub gid: u32,
    strings: Vec<CString>,
    blobs: Vec<Vec<u8>>,
    /// Open files to copy in.
    fds: Vec<OwnedFd>,
    /// Bind sources taken so far.
    sources: usize,
    /// Steps that take sources: they run before everything else.
    opens: Vec<Step>,
    /// Paths already there, relative to the root.
    made: Vec<PathBuf>,
    /// Where `--dir` folders are shown.
    bound: Vec<PathBuf>,
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
    #[error("the root template: {0}")]
    Template(#[source] io::Error),
}

impl RootPlan {
    /// Plan the root for `spec`. `privileged`: the judge is root in the
    /// initial user namespace (device nodes can be made, not only bound,
    /// and namespaces pinned). On the template where it can be, else built
    /// per run: both show the same tree.
    pub fn new(spec: &RootSpec, privileged: bool) -> Result<RootPlan, PlanError> {
        check_binds(spec)?;
        let layout = Layout::probe()?;
        if privileged && fits_template(spec) && template::supported() {
            // A template that cannot be made (a read-only /run, say) only
            // costs speed: the root is built per run instead.
            if let Ok(t) = template::get(&layout, template_key(&layout)) {
                return RootPlan::on_template(spec, &layout, t);
            }
        }
        RootPlan::built(spec, &layout, privileged)
    }

    /// Plan the root on the template, which must serve `spec` (see
    /// [`RootPlan::new`]); for measuring one way against the other.
    pub fn templated(spec: &RootSpec) -> Result<RootPlan, PlanError> {
        check_binds(spec)?;
        if !fits_template(spec) {
            return Err(PlanError::Template(io::Error::other(
                "a destination lies outside the work area",
            )));
        }
        let layout = Layout::probe()?;
        let t = template::get(&layout, template_key(&layout)).map_err(PlanError::Template)?;
        RootPlan::on_template(spec, &layout, t)
    }

    /// Plan a root built per run, whatever the template could do.
    pub fn built_per_run(spec: &RootSpec, privileged: bool) -> Result<RootPlan, PlanError> {
        check_binds(spec)?;
        RootPlan::built(spec, &Layout::probe()?, privileged)
    }

    /// Where this host's template is pinned (or would be), and whether it
    /// is there now; the reason where roots are built per run.
    pub fn template_pin(privileged: bool) -> Result<(PathBuf, bool), &'static str> {
        if !privileged {
            return Err("only root can pin the read-only template");
        }
        if !template::supported() {
            return Err("this kernel cannot move mounts between namespaces or set attributes through a tree of mounts (open_tree, mount_setattr: Linux 5.12)");
        }
        let layout = Layout::probe().map_err(|_| "the system directories cannot be looked at")?;
        let key = template_key(&layout);
        Ok((template::path(key), template::pinned(key)))
    }

    /// Whether init enters the template (and so needs no mount namespace
    /// from clone: it unshares a copy of the template's instead).
    pub fn enters_template(&self) -> bool {
        self.template.is_some()
    }

    fn empty(prefix: &'static str, spec_uid: u32, spec_gid: u32) -> RootPlan {
        RootPlan {
            steps: Vec::new(),
            describe: Vec::new(),
            prefix,
            stage: CString::new(STAGE).unwrap(),
            pivot: !prefix.is_empty(),
            template: None,
            program_path: None,
            uid: spec_uid,
            gid: spec_gid,
            strings: Vec::new(),
            blobs: Vec::new(),
            fds: Vec::new(),
            made: Vec::new(),
            bound: Vec::new(),
            sources: 0,
            opens: Vec::new(),
        }
    }

    fn built(spec: &RootSpec, layout: &Layout, privileged: bool) -> Result<RootPlan, PlanError> {
        let mut p = RootPlan::empty(STAGE, spec.uid, spec.gid);
        let dev_flag = if privileged { 0 } else { libc::MS_NODEV };
        p.stage(
            libc::MS_NOSUID | dev_flag,
            &work_area_options(spec),
            "mounting the new root (tmpfs)",
        );
        p.system(
            layout,
            privileged,
            Accounts::One {
                uid: spec.uid,
                gid: spec.gid,
            },
        )?;
        p.chown(Path::new(WORK_DIR));
        p.proc();
        p.per_run(spec, layout)?;
        Ok(p)
    }

    /// The template's plan: the system part, the accounts of every uid a
    /// run may get, empty mount points, and the whole made read-only.
    fn template(layout: &Layout) -> Result<RootPlan, PlanError> {
        let mut p = RootPlan::empty(STAGE, 0, 0);
        p.stage(
            libc::MS_NOSUID,
            "size=1m,nr_inodes=4096,mode=0755",
            "mounting the template's root (tmpfs)",
        );
        p.system(layout, true, Accounts::Pool)?;
        let program = p.staged(Path::new(PROGRAM));
        p.push(Step::Touch { path: program }, format!("creating {PROGRAM}"));
        // The file system itself, not only this mount: no copy of it can
        // be made writable again.
        p.mount(
            None,
            Target::Here(STAGE),
            None,
            libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID,
            None,
            "making the template read-only",
        );
        p.hoist_opens();
        Ok(p)
    }

    fn on_template(
        spec: &RootSpec,
        layout: &Layout,
        t: Arc<Template>,
    ) -> Result<RootPlan, PlanError> {
        let mut p = RootPlan::empty("", spec.uid, spec.gid);
        p.push(
            Step::Enter { ns: t.fd() },
            format!("entering the root template {}", t.path().display()),
        );
        p.template = Some(t);
        for dir in [
            "/", "/etc", "/dev", "/proc", WORK_DIR, "/tmp", "/dev/shm", PROGRAM,
        ] {
            p.made.push(PathBuf::from(dir));
        }
        p.mount(
            Some("judge"),
            Target::Here(STAGE),
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some(&work_area_options(spec)),
            "mounting the work area (tmpfs)",
        );
        for &(part, _, mode) in AREA {
            let at = format!("{STAGE}/{part}");
            let path = p.cstr(&at);
            p.push(Step::Mkdir { path, mode }, format!("creating {at}"));
        }
        let work = p.cstr(format!("{STAGE}/{}", AREA[0].0));
        p.push(
            Step::Chown { path: work },
            "giving the work directory to the program's user".into(),
        );
        // /tmp last: until then the tmpfs's parts are reached through it.
        for &(part, shown, _) in AREA {
            let from = format!("{STAGE}/{part}");
            p.mount(
                Some(&from),
                Target::Here(shown),
                None,
                libc::MS_BIND,
                None,
                &format!("showing the work area's {part} at {shown}"),
            );
        }
        p.proc();
        p.per_run(spec, layout)?;
        Ok(p)
    }

    /// Where a root is assembled before init pivots into it: the mount
    /// table made private (nothing mounted here may propagate back to the
    /// host), then a tmpfs on the stage.
    fn stage(&mut self, flags: libc::c_ulong, options: &str, what: &str) {
        self.mount(
            None,
            Target::Here("/"),
            None,
            libc::MS_REC | libc::MS_PRIVATE,
            None,
            "making / private",
        );
        self.mount(
            Some("judge"),
            Target::Here(STAGE),
            Some("tmpfs"),
            flags,
            Some(options),
            what,
        );
    }

    /// The shown system directories, /etc, /dev and the empty directories
    /// every root has.
    fn system(
        &mut self,
        layout: &Layout,
        privileged: bool,
        accounts: Accounts,
    ) -> Result<(), PlanError> {
        for (path, entry) in &layout.system {
            match entry {
                layout::Entry::Link(target) => self.symlink(target, path),
                layout::Entry::Bind { .. } => self.bind(path, path, Shown::ReadOnly, false)?,
            }
        }
        self.mkdir_all(Path::new("/etc"), 0o755);
        for (path, entry) in &layout.etc {
            match entry {
                layout::Entry::Link(target) => self.symlink(target, path),
                layout::Entry::Bind { .. } => self.bind(path, path, Shown::ReadOnly, false)?,
            }
        }
        let (passwd, group) = accounts_files(accounts);
        self.write("/etc/passwd", passwd);
        self.write("/etc/group", group);
        self.write("/etc/hostname", "judge\n".to_string());
        self.write("/etc/hosts", "127.0.0.1 localhost judge\n".to_string());

        self.mkdir_all(Path::new("/proc"), 0o555);
        self.mkdir_all(Path::new("/dev"), 0o755);
        for &(name, major, minor) in DEVICES {
            let path = PathBuf::from("/dev").join(name);
            if privileged {
                self.mknod(&path, libc::makedev(major, minor));
            } else {
                self.bind(&path, &path, Shown::Device, false)?;
            }
        }
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            self.symlink(Path::new(target), &Path::new("/dev").join(name));
        }
        // POSIX semaphores and shared memory (Python's multiprocessing) live
        // in /dev/shm; like /tmp it is part of this run's file system only.
        for &(_, shown, mode) in AREA.iter().rev() {
            self.mkdir_all(Path::new(shown), mode);
        }
        Ok(())
    }

    /// A fresh /proc of the run's PID namespace.
    fn proc(&mut self) {
        // Processes of other users are invisible: init (a fork of the judge,
        // whose command line it still carries) runs as root when the judge
        // does, the program as its own user.
        self.mount(
            Some("proc"),
            Target::Inside("/proc"),
            Some("proc"),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            Some("hidepid=invisible"),
            "mounting /proc",
        );
        // What the host booted with and its boot id are the host's, and
        // the same for every run: read as empty files.
        for hidden in MASKED_PROC {
            let from = self.staged(Path::new("/dev/null"));
            let target = self.staged(Path::new(hidden));
            self.push(
                Step::Mount {
                    source: from,
                    from_source: None,
                    target,
                    fstype: std::ptr::null(),
                    flags: libc::MS_BIND,
                    data: std::ptr::null(),
                },
                format!("hiding {hidden}"),
            );
        }
    }

    /// What each run has of its own: the program, the `--dir` folders and
    /// the copied files.
    fn per_run(&mut self, spec: &RootSpec, layout: &Layout) -> Result<(), PlanError> {
        if let Some(program) = &spec.program {
            // Through symlinks such as /bin -> usr/bin it may already show.
            let real = std::fs::canonicalize(program).map_err(|e| src_err(program, e))?;
            let visible =
                |p: &Path| layout.shows(p) || spec.binds.iter().any(|b| p.starts_with(&b.dest));
            self.program_path = Some(if visible(&real) && visible(program) {
                program.clone()
            } else if visible(&real) {
                real
            } else {
                self.bind(&real, Path::new(PROGRAM), Shown::ReadOnly, false)?;
                PathBuf::from(PROGRAM)
            });
        }
        for b in &spec.binds {
            let shown = if b.writable {
                Shown::Writable
            } else {
                Shown::ReadOnly
            };
            self.bind(&b.source, &b.dest, shown, true)?;
            self.bound.push(b.dest.clone());
        }
        for f in &spec.files {
            self.copy_in(&f.source, &f.dest)?;
        }
        self.hoist_opens();
        Ok(())
    }

    /// Sources are taken before anything else runs (before the stage
    /// could hide them, before the template hides the host).
    fn hoist_opens(&mut self) {
        let opens = std::mem::take(&mut self.opens);
        let n = opens.len();
        self.steps.splice(0..0, opens);
        self.describe
            .splice(0..0, (0..n).map(|_| "taking a source to show".to_string()));
    }

    fn cstr(&mut self, s: impl AsRef<[u8]>) -> *const libc::c_char {
        let c = CString::new(s.as_ref()).unwrap_or_default();
        let ptr = c.as_ptr();
        // The CString's heap buffer does not move when the Vec grows.
        self.strings.push(c);
        ptr
    }

    /// The path of `path` (inside the root) as init sees it.
    fn staged(&mut self, path: &Path) -> *const libc::c_char {
        let mut s = self.prefix.as_bytes().to_vec();
        s.extend_from_slice(path.as_os_str().as_bytes());
        self.cstr(s)
    }

    fn push(&mut self, step: Step, what: String) {
        self.steps.push(step);
        self.describe.push(what);
    }

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
            Target::Here(t) => self.cstr(t),
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

    /// Show host `source` at `dest`, as `shown` says. A source of the
    /// caller's (`--dir`) is opened here, without following symlinks; the
    /// system's are opened by init.
    fn bind(
        &mut self,
        source: &Path,
        dest: &Path,
        shown: Shown,
        callers: bool,
    ) -> Result<(), PlanError> {
        let (fd, is_dir, expect) = if callers {
            let fd = source::open(source, OFlag::O_PATH)?;
            let st = nix::sys::stat::fstat(&fd).map_err(|e| src_err(source, e.into()))?;
            let raw = fd.as_raw_fd();
            self.fds.push(fd);
            let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
            (raw, is_dir, Some((st.st_dev, st.st_ino)))
        } else {
            let meta = std::fs::metadata(source).map_err(|e| src_err(source, e))?;
            (-1, meta.is_dir(), None)
        };
        if self.sources == MAX_SOURCES {
            return Err(PlanError::Invalid {
                path: dest.to_path_buf(),
                why: "too many host directories and files to show",
            });
        }
        let index = self.sources;
        self.sources += 1;
        let path = self.cstr(source.as_os_str().as_bytes());
        let on_template = self.template.is_some();
        self.opens.push(if on_template {
            Step::Clone {
                path,
                fd,
                attrs: shown.attrs(),
            }
        } else {
            Step::Open {
                path,
                no_symlinks: callers,
                expect,
            }
        });
        if is_dir {
            self.mkdir_all(dest, 0o755);
        } else if !self.made.iter().any(|m| m == dest) {
            if let Some(parent) = dest.parent() {
                self.mkdir_all(parent, 0o755);
            }
            self.made.push(dest.to_path_buf());
            let p = self.staged(dest);
            self.push(
                Step::Touch { path: p },
                format!("creating {}", dest.display()),
            );
        }
        let what = format!("showing {} at {}", source.display(), dest.display());
        let dest_s = dest.to_string_lossy().into_owned();
        if on_template {
            // The copy got its attributes before it was moved in.
            let target = self.staged(dest);
            self.push(
                Step::Attach {
                    from_source: index,
                    target,
                },
                what,
            );
            return Ok(());
        }
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
        if shown != Shown::Device {
            // The bind is recursive, so the attributes must be too: a host
            // mount below the source would otherwise stay writable. The old
            // way (top only) must repeat the flags the kernel locked on the
            // source mount (nosuid, nodev, noexec, atime) or, in a user
            // namespace, it is refused.
            let locked = mount_flags(source).unwrap_or(0);
            let fallback = match shown {
                Shown::ReadOnly => {
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | locked
                }
                _ => 0,
            };
            let target = self.staged(dest);
            self.push(
                Step::Attrs {
                    target,
                    attrs: shown.attrs(),
                    fallback,
                },
                format!(
                    "making {} and the mounts below it {}",
                    dest.display(),
                    match shown {
                        Shown::ReadOnly => "read-only",
                        _ => "nosuid and nodev",
                    }
                ),
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
        // "" and "." name the work directory itself, which is not a file.
        if dest.components().all(|c| c == Component::CurDir) {
            return Err(PlanError::Invalid {
                path: source.to_path_buf(),
                why: "the destination must name a file in the work directory (SRC:NAME)",
            });
        }
        // Following no symlink on the way (a file list from a submission
        // may point at /etc/shadow, or through a folder linked to /etc), and
        // not blocking on a FIFO: the type is checked on the opened
        // descriptor before anything is read.
        let file = File::from(source::open(
            source,
            OFlag::O_RDONLY | OFlag::O_NOCTTY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK,
        )?);
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
            // A folder shown from the host keeps its owner: giving it to the
            // run's uid would hand a host directory to the next run given it.
            if !self.bound.iter().any(|b| parent.starts_with(b)) {
                self.chown(parent);
            }
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

/// Destinations inside the sandbox must be absolute, free of '..', and
/// not the root itself.
fn check_binds(spec: &RootSpec) -> Result<(), PlanError> {
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
    }
    Ok(())
}

/// The template is read-only: mount points can be made per run only in
/// the work area. And a folder holding a pinned namespace (`/run`, which
/// holds the template's own pin) cannot be moved into a namespace made
/// after it (the kernel refuses the loop); built per run, the copy of the
/// host's table leaves such pins out.
fn fits_template(spec: &RootSpec) -> bool {
    let in_area = |b: &Bind| AREA.iter().any(|&(_, shown, _)| b.dest.starts_with(shown));
    spec.binds
        .iter()
        .all(|b| in_area(b) && !holds_namespace_pins(&b.source))
}

fn holds_namespace_pins(source: &Path) -> bool {
    let real = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    crate::sandbox::mountinfo::host()
        .iter()
        .any(|m| m.fstype == "nsfs" && m.point.starts_with(&real))
}

fn template_key(layout: &Layout) -> u64 {
    layout.key(&[
        TEMPLATE_FORMAT,
        u64::from(identity::FIRST_UID),
        u64::from(identity::UIDS),
    ])
}

fn work_area_options(spec: &RootSpec) -> String {
    format!(
        "size={},nr_inodes=65536,mode=0755",
        spec.work_bytes.max(4096)
    )
}

/// /etc/passwd and /etc/group. A pool names every uid a run may be given
/// "judge", each with its own group, so that one template serves them all.
fn accounts_files(accounts: Accounts) -> (String, String) {
    let ids: Vec<(u32, u32)> = match accounts {
        Accounts::One { uid, gid } => vec![(uid, gid)],
        Accounts::Pool => (identity::FIRST_UID..identity::FIRST_UID + identity::UIDS)
            .map(|id| (id, id))
            .collect(),
    };
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/sh\n");
    let mut group = String::from("root:x:0:\n");
    for (uid, gid) in ids {
        passwd.push_str(&format!("judge:x:{uid}:{gid}:judge:{WORK_DIR}:/bin/sh\n"));
        group.push_str(&format!("judge:x:{gid}:\n"));
    }
    passwd.push_str("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    group.push_str("nogroup:x:65534:\n");
    (passwd, group)
}

pub(super) fn src_err(path: &Path, source: io::Error) -> PlanError {
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
