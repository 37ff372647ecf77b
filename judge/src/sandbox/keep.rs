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
    let src = openat(
        root.as_fd(),
        work_dir.trim_start_matches('/'),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
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
            let sub_src = openat(
                dir.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            let sub_dst = openat(
                dst.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
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
            kept.bytes += io::copy(&mut File::from(from), &mut File::from(to))?;
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
