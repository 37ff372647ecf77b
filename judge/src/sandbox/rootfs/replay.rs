//! Replaying a root's plan, in init: between clone and the program's start,
//! where nothing may allocate, lock or panic.

use super::{RootPlan, Step, MAX_SOURCES};

/// struct mount_attr of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Open `path` (O_PATH) following no symlink on the way; before openat2
/// (Linux 5.6) the judge's own check, made just before, stands alone and
/// only the last component is opened without following.
unsafe fn open_no_symlinks(path: *const libc::c_char) -> i32 {
    /// struct open_how of openat2(2).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
    };
    let fd = libc::syscall(
        libc::SYS_openat2,
        libc::AT_FDCWD,
        path,
        &how as *const OpenHow,
        std::mem::size_of::<OpenHow>(),
    ) as i32;
    if fd < 0 && *libc::__errno_location() == libc::ENOSYS {
        return libc::open(path, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    fd
}

/// Whether `fd` is the file (device, inode) `id`; errno ESTALE if not.
unsafe fn same_file(fd: i32, id: (u64, u64)) -> bool {
    let mut st: libc::stat = std::mem::zeroed();
    if libc::fstat(fd, &mut st) != 0 {
        return false;
    }
    if (st.st_dev, st.st_ino) != id {
        *libc::__errno_location() = libc::ESTALE;
        return false;
    }
    true
}

/// Add `attrs` to the mount at `path` (below `dirfd`) and every mount
/// under it. Ok(false): this kernel has no mount_setattr.
unsafe fn set_attrs(
    dirfd: i32,
    path: *const libc::c_char,
    flags: u32,
    attrs: u64,
    propagation: u64,
) -> Result<bool, ()> {
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    let r = libc::syscall(
        libc::SYS_mount_setattr,
        dirfd,
        path,
        flags | libc::AT_RECURSIVE as u32,
        &attr as *const MountAttr,
        std::mem::size_of::<MountAttr>(),
    );
    match r {
        0 => Ok(true),
        _ if *libc::__errno_location() == libc::ENOSYS => Ok(false),
        _ => Err(()),
    }
}

/// Replay the plan and enter the new root (pivoting into a root built here,
/// or already in the template's); returns the index of the step that
/// failed (errno set), or `None` when the program's root is ready.
///
/// # Safety
/// Runs in init between clone and fork: async-signal-safe calls only, on
/// the plan prepared by the parent.
pub unsafe fn enter(plan: &RootPlan) -> Option<usize> {
    let mut sources = [-1i32; MAX_SOURCES];
    let mut opened = 0;
    for (i, step) in plan.steps.iter().enumerate() {
        let ok = match *step {
            Step::Open {
                path,
                no_symlinks,
                expect,
            } => {
                let fd = if no_symlinks {
                    open_no_symlinks(path)
                } else {
                    libc::open(path, libc::O_PATH | libc::O_CLOEXEC)
                };
                sources[opened] = fd;
                opened += 1;
                fd >= 0 && expect.is_none_or(|id| same_file(fd, id))
            }
            Step::Clone { path, fd, attrs } => {
                // A detached copy of the host's mount, made while init still
                // sees the host: moved into the new root after entering it.
                // Its attributes are set on the copy, which nothing can
                // reach yet (the template is used only where mount_setattr
                // exists).
                let (dirfd, path, empty) = if fd >= 0 {
                    (fd, c"".as_ptr(), libc::AT_EMPTY_PATH as u32)
                } else {
                    (libc::AT_FDCWD, path, 0)
                };
                let copy = libc::syscall(
                    libc::SYS_open_tree,
                    dirfd,
                    path,
                    libc::OPEN_TREE_CLONE
                        | libc::OPEN_TREE_CLOEXEC
                        | libc::AT_RECURSIVE as u32
                        | empty,
                ) as i32;
                sources[opened] = copy;
                opened += 1;
                copy >= 0
                    && (attrs == 0
                        || set_attrs(
                            copy,
                            c"".as_ptr(),
                            libc::AT_EMPTY_PATH as u32,
                            attrs,
                            // A copy of a shared host mount is in its peer
                            // group: private before it is attached, so no
                            // host mount event reaches it in between.
                            libc::MS_PRIVATE,
                        ) == Ok(true))
            }
            Step::Enter { ns } => {
                // Entering the template shares it; the copy unshared at once
                // is this run's own, and every change goes there.
                libc::setns(ns, libc::CLONE_NEWNS) == 0 && libc::unshare(libc::CLONE_NEWNS) == 0
            }
            Step::Attach {
                from_source,
                target,
            } => {
                // A copy of a shared host mount joins its peer group: made
                // private, so that nothing mounted here reaches the host.
                libc::syscall(
                    libc::SYS_move_mount,
                    sources[from_source],
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    target,
                    libc::MOVE_MOUNT_F_EMPTY_PATH,
                ) == 0
                    && libc::mount(
                        std::ptr::null(),
                        target,
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ) == 0
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
            Step::Attrs {
                target,
                attrs,
                fallback,
            } => match set_attrs(libc::AT_FDCWD, target, 0, attrs, 0) {
                Ok(true) => true,
                Ok(false) => {
                    fallback == 0
                        || libc::mount(
                            std::ptr::null(),
                            target,
                            std::ptr::null(),
                            fallback,
                            std::ptr::null(),
                        ) == 0
                }
                Err(()) => false,
            },
        };
        if !ok {
            // The template is built in a thread of the judge, where open
            // sources would leak (and keep their mounts alive); the caller
            // reads errno, so it is kept across the closes.
            let errno = *libc::__errno_location();
            close_all(&sources[..opened]);
            *libc::__errno_location() = errno;
            return Some(i);
        }
    }
    close_all(&sources[..opened]);
    if !plan.pivot {
        return (libc::chdir(c"/".as_ptr()) != 0).then_some(plan.steps.len());
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

unsafe fn close_all(fds: &[i32]) {
    for &fd in fds {
        if fd >= 0 {
            libc::close(fd);
        }
    }
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
