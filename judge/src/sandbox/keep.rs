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

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::dir::Dir;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, mkdirat, Mode, SFlag};

/// Copy the data of a regular file, keeping its holes: a program can make
/// a file of 64 MiB that takes no room at all (truncate), thousands of
/// times over; copied byte by byte that would fill the host's disk.
/// Returns the bytes of data copied.
fn copy_data(from: &File, to: &File) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let size = from.metadata()?.len();
    let src = from.as_raw_fd();
    let mut buf = vec![0u8; 1 << 16];
    let mut copied = 0;
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
            let want = buf.len().min((end - off) as usize);
            let n = from.read_at(&mut buf[..want], off as u64)?;
            if n == 0 {
                break;
            }
            to.write_all_at(&buf[..n], off as u64)?;
            off += n as i64;
            copied += n as u64;
        }
        at = end;
    }
    // The tail hole, if any, by length alone.
    to.set_len(size)?;
    Ok(copied)
}

/// Deeper than this is not copied (and reported).
const MAX_DEPTH: usize = 64;

/// What was copied out.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Entries left behind, with why (a symlink, a FIFO, too deep, ...).
    pub skipped: Vec<String>,
}

/// Copy `work_dir` (an absolute path inside the sandbox) of the tree whose
/// init is `init_pid` into `dest`, which must not exist or be empty.
pub fn copy_out(init_pid: libc::pid_t, work_dir: &str, dest: &Path) -> io::Result<Kept> {
    let root = File::open(format!("/proc/{init_pid}/root"))?;
    let src = open_dir_at(root.as_fd(), work_dir.trim_start_matches('/'))?;
    match std::fs::create_dir(dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if std::fs::read_dir(dest)?.next().is_some() {
                return Err(io::Error::other(format!(
                    "{} exists and is not empty",
                    dest.display()
                )));
            }
        }
        Err(e) => return Err(e),
    }
    let dst = nix::fcntl::open(
        dest,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut kept = Kept::default();
    walk(src, &dst, "", 0, &mut kept)?;
    Ok(kept)
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

fn walk(src: OwnedFd, dst: &OwnedFd, at: &str, depth: usize, kept: &mut Kept) -> io::Result<()> {
    let mut dir = Dir::from_fd(src)?;
    let names: Vec<std::ffi::CString> = dir
        .iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let shown = format!("{at}{}", name.to_string_lossy());
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
                kept.skipped.push(format!("{shown}: {e}"));
                continue;
            }
        };
        let kind = SFlag::from_bits_truncate(fstat(&probe)?.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFDIR {
            if depth + 1 >= MAX_DEPTH {
                kept.skipped
                    .push(format!("{shown}/: deeper than {MAX_DEPTH} levels"));
                continue;
            }
            mkdirat(
                dst.as_fd(),
                name.as_c_str(),
                Mode::from_bits_truncate(0o755),
            )?;
            let sub_src = open_dir_at(dir.as_fd(), name.as_c_str())?;
            let sub_dst = open_dir_at(dst.as_fd(), name.as_c_str())?;
            kept.dirs += 1;
            walk(sub_src, &sub_dst, &format!("{shown}/"), depth + 1, kept)?;
        } else if kind == SFlag::S_IFREG {
            let from = openat(
                dir.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            // Swapped for something else since the probe: leave it.
            if SFlag::from_bits_truncate(fstat(&from)?.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                kept.skipped
                    .push(format!("{shown}: changed while being copied"));
                continue;
            }
            let to = openat(
                dst.as_fd(),
                name.as_c_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o644),
            )?;
            kept.bytes += copy_data(&File::from(from), &File::from(to))?;
            kept.files += 1;
        } else {
            let what = match kind {
                SFlag::S_IFLNK => "a symbolic link",
                SFlag::S_IFIFO => "a FIFO",
                SFlag::S_IFSOCK => "a socket",
                SFlag::S_IFCHR | SFlag::S_IFBLK => "a device",
                _ => "not a regular file",
            };
            kept.skipped.push(format!("{shown}: {what}, not copied"));
        }
    }
    Ok(())
}
