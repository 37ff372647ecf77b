//! Opening a caller's `--file` and `--dir` sources.
//!
//! Their names may come from a submission (a file list, an unpacked
//! archive), so a symbolic link anywhere on the path, not only at its end,
//! could point the judge at a host file the program must never see
//! (`upload/d -> /etc`, then `upload/d/shadow`). Every component is
//! therefore resolved without following symlinks, by the kernel where it
//! can (openat2 with RESOLVE_NO_SYMLINKS, Linux 5.6) and by a walk from
//! descriptor to descriptor elsewhere; the caller gets the descriptor,
//! never a path to open again.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use super::PlanError;

/// Open `path` with `flags` (O_CLOEXEC added), refusing a symbolic link in
/// any of its components, with the file-system rights of the user who
/// started the judge.
pub fn open(path: &Path, flags: OFlag) -> Result<OwnedFd, PlanError> {
    let flags = flags | OFlag::O_CLOEXEC;
    let how = OpenHow::new()
        .flags(flags)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let _as_caller = crate::sandbox::caller::AsCaller::enter();
    match openat2(nix::fcntl::AT_FDCWD, path, how) {
        Err(nix::Error::ENOSYS) => walk(path, flags),
        other => other,
    }
    .map_err(|e| refused(path, e))
}

/// The same without openat2: each directory opened below the last with
/// O_NOFOLLOW, the last component with the caller's flags.
fn walk(path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let start = if path.is_absolute() { "/" } else { "." };
    let mut at = nix::fcntl::open(start, dir_flags, Mode::empty())?;
    let parts: Vec<Component<'_>> = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
        .collect();
    let Some((last, dirs)) = parts.split_last() else {
        return openat(at.as_fd(), ".", flags, Mode::empty());
    };
    for part in dirs {
        at = openat(at.as_fd(), part.as_os_str(), dir_flags, Mode::empty())?;
    }
    openat(
        at.as_fd(),
        last.as_os_str(),
        flags | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
}

/// What the walk's errors mean to the caller.
fn refused(path: &Path, e: nix::Error) -> PlanError {
    match e {
        // RESOLVE_NO_SYMLINKS answers ELOOP; O_NOFOLLOW on a directory
        // component answers ENOTDIR for a link.
        nix::Error::ELOOP | nix::Error::ENOTDIR if has_symlink(path) => PlanError::Invalid {
            path: path.to_path_buf(),
            why: "a symbolic link is on the path, and no component of a source may be one; \
                  name the real path",
        },
        e => super::src_err(path, io::Error::from(e)),
    }
}

fn has_symlink(path: &Path) -> bool {
    path.ancestors()
        .filter(|p| !p.as_os_str().is_empty())
        .any(|p| {
            p.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("judge-source-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Both ways (the kernel's and the walk) refuse a link anywhere on the
    /// path and open what has none.
    #[test]
    fn a_link_anywhere_on_the_path_is_refused() {
        let d = dir("links");
        std::fs::create_dir(d.join("real")).unwrap();
        std::fs::write(d.join("real/f"), "x").unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        std::os::unix::fs::symlink(d.join("real/f"), d.join("flink")).unwrap();
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW;
        assert!(open(&d.join("real/f"), flags).is_ok());
        assert!(walk(&d.join("real/f"), flags).is_ok());
        for bad in ["link/f", "flink"] {
            let e = open(&d.join(bad), flags).unwrap_err().to_string();
            assert!(e.contains("a symbolic link is on the path"), "{bad}: {e}");
            assert!(walk(&d.join(bad), flags).is_err(), "{bad}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
