//! `--keep-workdir`: copy the program's work directory out after the run.
//!
//! The directory was written by the program, so everything in it is hostile:
//! symlinks planted where a file is expected, FIFOs that would block a
//! reader, device nodes, names with newlines, trees deep enough to exhaust a
//! recursive walker. The walk therefore opens every entry relative to its
//! parent's descriptor with O_NOFOLLOW (never by path), checks the opened
//! descriptor's type, copies only regular files and directories, and creates
//! its copies with O_EXCL|O_NOFOLLOW below a destination it made itself,
//! with plain modes (no set-id bits). The tree is read through init's root
//! (/proc/PID/root) while init holds the mount namespace alive.
//!
//! What the program wrote must not cost the host more than the run could
//! hold: further names of a file (hard links, free on tmpfs, up to 65,531
//! of one file) become hard links in the copy, not copies, and the copy
//! stops, with a warning, past a budget of bytes and of time.
//!
//! The destination itself is made folder by folder below descriptors, no
//! component a symlink: a program that can write near it (a shared `rw`
//! folder) could otherwise plant a link that sends root's copy anywhere.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};
use std::time::Instant;

use nix::dir::Dir;
use nix::fcntl::AtFlags;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, mkdirat, Mode, SFlag};
use nix::unistd::linkat;

/// Copy the data of a regular file, keeping its holes: a program can make
/// a file of 64 MiB that takes no room at all (truncate), thousands of
/// times over; copied byte by byte that would fill the host's disk.
/// The bytes of data copied are taken from the budget.
fn copy_data(from: &File, to: &File, budget: &mut Budget) -> io::Result<Result<(), Stop>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let size = from.metadata()?.len();
    let src = from.as_raw_fd();
    let mut buf = vec![0u8; 1 << 16];
    let mut at: i64 = 0;
    while (at as u64) < size {
        // SAFETY: lseek on a descriptor we own.
        let data = unsafe { libc::lseek(src, at, libc::SEEK_DATA) };
        if data < 0 {
            break; // ENXIO: only a hole is left
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(src, data, libc::SEEK_HOLE) };
        let end = if hole < 0 { size as i64 } else { hole };
        // pread/pwrite: copy_file_range refuses to cross file systems here.
        let mut off = data;
        while off < end {
            if let Err(stop) = budget.spend(0) {
                return Ok(Err(stop));
            }
            let want = buf.len().min((end - off) as usize);
            let n = from.read_at(&mut buf[..want], off as u64)?;
            if n == 0 {
                break;
            }
            if let Err(stop) = budget.spend(n as u64) {
                return Ok(Err(stop));
            }
            to.write_all_at(&buf[..n], off as u64)?;
            off += n as i64;
        }
        at = end;
    }
    // The tail hole, if any, by length alone.
    to.set_len(size)?;
    Ok(Ok(()))
}

/// What each file and folder of the copy is charged besides its data: a
/// block of the host's file system (65,536 empty folders cost no room on
/// the run's tmpfs, but 256 MiB on ext4).
const ENTRY_COST: u64 = 4096;
/// What each further name (a hard link) is charged: a directory entry.
const LINK_COST: u64 = 256;
/// Entries named in `skipped` at most (each name at most MAX_NAME
/// characters); the rest are counted.
const MAX_SKIPPED: usize = 100;
const MAX_NAME: usize = 300;

/// How long a copy may take: a program's files are seconds of disk
/// writes at most, and a `judge serve` queue waits behind the copy.
pub const TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// What the copy may cost the host.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Bytes of data written (a run's work area holds at most its size,
    /// so that is the natural budget).
    pub bytes: u64,
    /// When the copy must be over.
    pub deadline: Instant,
}

/// Why a copy stopped before the end.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Bytes,
    Time,
}

impl Budget {
    fn spend(&mut self, bytes: u64) -> Result<(), Stop> {
        if Instant::now() >= self.deadline {
            return Err(Stop::Time);
        }
        match self.bytes.checked_sub(bytes) {
            Some(left) => {
                self.bytes = left;
                Ok(())
            }
            None => Err(Stop::Bytes),
        }
    }
}

/// Deeper than this is not copied (and reported).
const MAX_DEPTH: usize = 64;

/// What was copied out.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Further names of files already copied, made hard links.
    pub links: u64,
    /// Entries left behind, with why (a symlink, a FIFO, too deep, ...).
    pub skipped: Vec<String>,
    /// Why the copy stopped before the end (a budget ran out), if it did.
    pub stopped: Option<String>,
}

/// The walk's state: the destination's root (for hard links by relative
/// path), the names already given to each multiply linked file, the budget.
struct Walk<'a> {
    root: &'a OwnedFd,
    first_name: HashMap<(u64, u64), CString>,
    budget: Budget,
    kept: Kept,
    /// Entries left behind past MAX_SKIPPED.
    more_skipped: u64,
}

impl Walk<'_> {
    /// Note an entry left behind, boundedly: a program can make 65,000
    /// symlinks with 16 KB paths.
    fn skip(&mut self, what: String) {
        if self.kept.skipped.len() >= MAX_SKIPPED {
            self.more_skipped += 1;
            return;
        }
        let mut s: String = what.chars().take(MAX_NAME).collect();
        if s.len() < what.len() {
            s.push_str("...");
        }
        self.kept.skipped.push(s);
    }
}

/// Copy `work_dir` (an absolute path inside the sandbox) of the tree whose
/// init is `init_pid` into `dest`, which must not exist or be empty, within
/// `budget`.
pub fn copy_out(
    init_pid: libc::pid_t,
    work_dir: &str,
    dest: &Path,
    budget: Budget,
) -> io::Result<Kept> {
    let root = File::open(format!("/proc/{init_pid}/root"))?;
    let src = open_dir_at(root.as_fd(), work_dir.trim_start_matches('/'))?;
    let dst = make_destination(dest)?;
    let mut w = Walk {
        root: &dst,
        first_name: HashMap::new(),
        budget,
        kept: Kept::default(),
        more_skipped: 0,
    };
    let stopped = walk(src, &dst, b"", 0, &mut w);
    if w.more_skipped > 0 {
        let more = w.more_skipped;
        w.kept
            .skipped
            .push(format!("... and {more} more entries not copied"));
    }
    if let Err(stop) = stopped? {
        w.kept.stopped = Some(match stop {
            Stop::Bytes => format!(
                "the copy of the work directory stopped at its budget of {} bytes \
                 (--workdir-size; each file and folder counts {ENTRY_COST} bytes besides its \
                 data); what follows was not copied",
                budget.bytes
            ),
            Stop::Time => "the copy of the work directory stopped at its time budget; \
                           what follows was not copied"
                .to_string(),
        });
    }
    Ok(w.kept)
}

/// Open (making what is missing) the destination folder by folder, each
/// below the last one's descriptor and never through a symlink; the last
/// must be new or empty.
fn make_destination(dest: &Path) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let start = if dest.is_absolute() { "/" } else { "." };
    let mut at = nix::fcntl::open(start, flags, Mode::empty())?;
    let mut made_last = false;
    for part in dest.components() {
        let name = match part {
            Component::RootDir | Component::CurDir => continue,
            Component::ParentDir => {
                return Err(io::Error::other(format!(
                    "{}: '..' in the destination",
                    dest.display()
                )))
            }
            Component::Normal(n) => n,
            Component::Prefix(_) => continue,
        };
        made_last = match mkdirat(at.as_fd(), name, Mode::from_bits_truncate(0o755)) {
            Ok(()) => true,
            Err(nix::Error::EEXIST) => false,
            Err(e) => return Err(e.into()),
        };
        at = openat(at.as_fd(), name, flags, Mode::empty()).map_err(|e| match e {
            nix::Error::ELOOP | nix::Error::ENOTDIR => io::Error::other(format!(
                "{}: a symbolic link or a file is on the path, and the destination is made \
                 only through real folders",
                dest.display()
            )),
            e => e.into(),
        })?;
    }
    if !made_last {
        // Links to earlier copies are made by path below the destination
        // (see `walk`): nobody but the judge's user may be able to rename
        // what is in it, so a folder that was there must be its own.
        let st = fstat(&at)?;
        // SAFETY: no preconditions.
        let me = unsafe { libc::geteuid() };
        if st.st_uid != me || st.st_mode & 0o022 != 0 {
            return Err(io::Error::other(format!(
                "{} exists and is not the judge's user's own folder, writable by it alone",
                dest.display()
            )));
        }
        let mut d = Dir::from_fd(nix::unistd::dup(&at)?)?;
        let entries = d
            .iter()
            .filter_map(Result::ok)
            .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
            .count();
        if entries > 0 {
            return Err(io::Error::other(format!(
                "{} exists and is not empty",
                dest.display()
            )));
        }
    }
    Ok(at)
}

/// Whether `dest` lies inside one of the folders the program may write
/// (`writable`, host paths): the program could plant links on its way.
pub fn inside_writable(dest: &Path, writable: &[&Path]) -> bool {
    // The nearest existing ancestor, resolved: the rest is yet to be made.
    let abs = std::path::absolute(dest).unwrap_or_else(|_| dest.to_path_buf());
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    let real = loop {
        if let Ok(r) = std::fs::canonicalize(existing) {
            break r;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    let full = rest.iter().rev().fold(real, |p, n| p.join(n));
    writable
        .iter()
        .filter_map(|w| std::fs::canonicalize(w).ok())
        .any(|w| full.starts_with(&w))
}

/// A directory below `at`, never through a symlink.
fn open_dir_at<P: ?Sized + nix::NixPath>(
    at: std::os::fd::BorrowedFd<'_>,
    name: &P,
) -> nix::Result<OwnedFd> {
    openat(
        at,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn walk(
    src: OwnedFd,
    dst: &OwnedFd,
    // The folder's path below the destination, with a final '/' (bytes:
    // names need not be UTF-8).
    at: &[u8],
    depth: usize,
    w: &mut Walk<'_>,
) -> io::Result<Result<(), Stop>> {
    let mut dir = Dir::from_fd(src)?;
    let names: Vec<CString> = dir
        .iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        if let Err(stop) = w.budget.spend(0) {
            return Ok(Err(stop));
        }
        let mut rel = at.to_vec();
        rel.extend_from_slice(name.as_bytes());
        let shown = String::from_utf8_lossy(&rel).into_owned();
        // O_PATH opens anything without side effects (a FIFO does not
        // block, a device is not opened); the type is read from it.
        let probe = match openat(
            dir.as_fd(),
            name.as_c_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                w.skip(format!("{shown}: {e}"));
                continue;
            }
        };
        let st = fstat(&probe)?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFDIR {
            if depth + 1 >= MAX_DEPTH {
                w.skip(format!("{shown}/: deeper than {MAX_DEPTH} levels"));
                continue;
            }
            if let Err(stop) = w.budget.spend(ENTRY_COST) {
                return Ok(Err(stop));
            }
            mkdirat(
                dst.as_fd(),
                name.as_c_str(),
                Mode::from_bits_truncate(0o755),
            )?;
            let sub_src = open_dir_at(dir.as_fd(), name.as_c_str())?;
            let sub_dst = open_dir_at(dst.as_fd(), name.as_c_str())?;
            w.kept.dirs += 1;
            rel.push(b'/');
            if let Err(stop) = walk(sub_src, &sub_dst, &rel, depth + 1, w)? {
                return Ok(Err(stop));
            }
        } else if kind == SFlag::S_IFREG {
            let id = (st.st_dev, st.st_ino);
            if st.st_nlink > 1 {
                if let Some(first) = w.first_name.get(&id) {
                    // Another name of a file already copied: a link, cheap.
                    if let Err(stop) = w.budget.spend(LINK_COST) {
                        return Ok(Err(stop));
                    }
                    match linkat(
                        w.root.as_fd(),
                        first.as_c_str(),
                        dst.as_fd(),
                        name.as_c_str(),
                        AtFlags::empty(),
                    ) {
                        Ok(()) => w.kept.links += 1,
                        Err(e) => {
                            let what = format!(
                                "{shown}: another name of {}, not linked: {e}",
                                first.to_string_lossy()
                            );
                            w.skip(what);
                        }
                    }
                    continue;
                }
            }
            let from = openat(
                dir.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            // Swapped for something else since the probe: leave it.
            let now = fstat(&from)?;
            if SFlag::from_bits_truncate(now.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG
                || (now.st_dev, now.st_ino) != id
            {
                w.skip(format!("{shown}: changed while being copied"));
                continue;
            }
            if let Err(stop) = w.budget.spend(ENTRY_COST) {
                return Ok(Err(stop));
            }
            let to = openat(
                dst.as_fd(),
                name.as_c_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )?;
            // Its permission bits as the program left them (an executable
            // stays one), but never set-id and never writable by others.
            nix::sys::stat::fchmod(&to, Mode::from_bits_truncate(st.st_mode & 0o755))?;
            let before = w.budget.bytes;
            let copied = copy_data(&File::from(from), &File::from(to), &mut w.budget)?;
            w.kept.bytes += before - w.budget.bytes;
            if let Err(stop) = copied {
                w.skip(format!("{shown}: copied in part"));
                return Ok(Err(stop));
            }
            w.kept.files += 1;
            if st.st_nlink > 1 {
                // Names hold no NUL: they came from a directory.
                w.first_name
                    .insert(id, CString::new(rel).unwrap_or_default());
            }
        } else {
            let what = match kind {
                SFlag::S_IFLNK => "a symbolic link",
                SFlag::S_IFIFO => "a FIFO",
                SFlag::S_IFSOCK => "a socket",
                SFlag::S_IFCHR | SFlag::S_IFBLK => "a device",
                _ => "not a regular file",
            };
            w.skip(format!("{shown}: {what}, not copied"));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tree(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("judge-keep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("src/sub")).unwrap();
        std::fs::write(d.join("src/a"), vec![b'a'; 3 << 20]).unwrap();
        std::fs::write(d.join("src/sub/b"), vec![b'b'; 3 << 20]).unwrap();
        d
    }

    fn copy(d: &Path, budget: Budget) -> Kept {
        // Our own root stands for init's: the same walk, on a host folder.
        let src = d.join("src");
        copy_out(
            std::process::id() as i32,
            src.to_str().unwrap(),
            &d.join("out"),
            budget,
        )
        .unwrap()
    }

    /// Past its budget of bytes the copy stops and says so; every file
    /// and folder counts a block besides its data.
    #[test]
    fn the_copy_stops_at_its_byte_budget() {
        let d = tree("bytes");
        let far = Instant::now() + Duration::from_secs(60);
        let kept = copy(
            &d,
            Budget {
                bytes: 4 << 20,
                deadline: far,
            },
        );
        let charged = kept.bytes + (kept.files + kept.dirs) * ENTRY_COST;
        assert!(charged <= 4 << 20 && kept.bytes < 4 << 20, "{kept:?}");
        assert!(
            kept.stopped
                .as_deref()
                .unwrap()
                .contains("stopped at its budget of 4194304 bytes"),
            "{kept:?}"
        );
        // Two files and a folder: their data and three blocks.
        let whole = copy(
            &tree("bytes-whole"),
            Budget {
                bytes: (6 << 20) + 3 * ENTRY_COST,
                deadline: far,
            },
        );
        assert_eq!(
            (whole.bytes, whole.files, whole.dirs, whole.stopped),
            (6 << 20, 2, 1, None)
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Empty folders take no room on the run's tmpfs but a block each on
    /// the host: they count against the budget; and the list of what was
    /// left behind is bounded however much was.
    #[test]
    fn folders_count_and_the_skipped_list_is_bounded() {
        let d = std::env::temp_dir().join(format!("judge-keep-many-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("src")).unwrap();
        for i in 0..300 {
            std::fs::create_dir(d.join(format!("src/d{i}"))).unwrap();
            std::os::unix::fs::symlink("/etc", d.join(format!("src/l{i}"))).unwrap();
        }
        let kept = copy(
            &d,
            Budget {
                bytes: 16 * ENTRY_COST,
                deadline: Instant::now() + Duration::from_secs(60),
            },
        );
        assert_eq!(kept.dirs, 16, "{kept:?}");
        assert!(kept.stopped.is_some());
        assert!(
            kept.skipped.len() <= MAX_SKIPPED + 1,
            "{}",
            kept.skipped.len()
        );
        let all = copy(
            &{
                let _ = std::fs::remove_dir_all(d.join("out"));
                d.clone()
            },
            Budget {
                bytes: u64::MAX / 2,
                deadline: Instant::now() + Duration::from_secs(60),
            },
        );
        assert_eq!(all.dirs, 300);
        assert_eq!(all.skipped.len(), MAX_SKIPPED + 1);
        assert_eq!(
            all.skipped[MAX_SKIPPED],
            "... and 200 more entries not copied"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Past its time the copy stops before the next entry.
    #[test]
    fn the_copy_stops_at_its_time_budget() {
        let d = tree("time");
        let kept = copy(
            &d,
            Budget {
                bytes: u64::MAX / 2,
                deadline: Instant::now(),
            },
        );
        assert_eq!((kept.bytes, kept.files), (0, 0));
        assert!(
            kept.stopped.as_deref().unwrap().contains("time budget"),
            "{kept:?}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
