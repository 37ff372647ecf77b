//! Namespaces pinned under /run/judge by a bind mount of their nsfs file
//! (as `ip netns add` does), so that every run can enter one made once:
//! opening a pin, and the lock its maker holds.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The namespace of type `nstype` (a CLONE_NEW* flag) pinned at `path`;
/// `None` when nothing is there or something else is. The open neither
/// follows a symlink nor waits (a FIFO planted there would block it
/// forever): the type check refuses what is not a namespace.
pub fn open(path: &Path, nstype: libc::c_int) -> io::Result<Option<File>> {
    let f = match File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(e) => return Err(e),
    };
    // SAFETY: NS_GET_NSTYPE takes no argument; it fails on anything that is
    // not a namespace (the empty file before the bind mount, say).
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    let t = unsafe { libc::ioctl(f.as_raw_fd(), NS_GET_NSTYPE) };
    Ok((t == nstype).then_some(f))
}

/// Hold the lock file `path` (made with its directory if missing), so that
/// one judge at a time makes a pin; released when the file is dropped.
pub fn lock(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: flock on a descriptor we own; released when it is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lock)
}

/// Pin the namespace whose nsfs file is `source` (a /proc path) at
/// `target`. Whatever is at `target` is not a pin (the caller looked with
/// [`open`] under the lock): a mount of something else, a file or a
/// directory left there, so it goes first.
pub fn bind(source: &Path, target: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (source_c, target_c) = (c(source)?, c(target)?);
    // SAFETY: a valid path; detaching whatever is mounted there.
    unsafe { libc::umount2(target_c.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) };
    // The judge's own state directory: debris at its path goes, whatever it holds.
    let _ = std::fs::remove_file(target).or_else(|_| std::fs::remove_dir_all(target));
    File::options()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(target)?;
    // SAFETY: valid C strings; a bind mount of a namespace file.
    let r = unsafe {
        libc::mount(
            source_c.as_ptr(),
            target_c.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    if r != 0 {
        let e = io::Error::last_os_error();
        let _ = std::fs::remove_file(target);
        return Err(e);
    }
    Ok(())
}
