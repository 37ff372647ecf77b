//! The host side of `wasi_snapshot_preview1`, as much as a stdio
//! interactor or checker needs and no more: its stdin and stdout are the
//! conversation with the program, its files are the protocol's (see
//! [`super::files`]), its clocks are virtual and its randomness is a fixed
//! stream. Sockets, links, directories of its own and signals are not
//! offered: those calls fail with an error number, as on a host that lacks
//! them; they never reach the judge's host.
//!
//! Every function is defined, so any preview1 command links. The layouts
//! (iovec, fdstat, filestat, prestat, dirent, subscription, event) are
//! preview1's, little-endian, on wasm32.

use wasmtime::{Caller, Engine, Linker};

use super::errno::{self, Errno};
use super::files::{Fd, Files, Node, OPEN_MAX, PATH_MAX};
use super::machine::{lock, Exit, Shared, Stop, Wait, WasiState, STDOUT_PENDING_MAX};
use super::memory::{off, total, Mem};
use super::time::{poll_oneoff, random, CLOCK_STEP_NS};

const MODULE: &str = "wasi_snapshot_preview1";

/// Why a call did not succeed.
pub(super) enum Fail {
    /// An error number for the module.
    Errno(Errno),
    /// A limit of the judge's: the run ends.
    Stop(String),
    /// Nothing to do until the program acts: suspend and try again.
    Wait,
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Self {
        Fail::Errno(e)
    }
}

pub(super) type Done = Result<(), Fail>;

/// Run `f` on the shared state and the module's memory.
fn with(c: &mut Caller<'_, WasiState>, f: impl FnOnce(&mut Shared, &mut Mem<'_>) -> Done) -> Done {
    let shared = c.data().shared.clone();
    let mut s = lock(&shared);
    let memory = c
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or(errno::FAULT)?;
    f(&mut s, &mut Mem(memory.data_mut(&mut *c)))
}

/// What the module gets back from a call that ended.
fn answer(r: Done) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(errno::SUCCESS as i32),
        Err(Fail::Errno(e)) => Ok(e as i32),
        Err(Fail::Stop(why)) => Err(wasmtime::Error::new(Stop(why))),
        Err(Fail::Wait) => unreachable!("a synchronous call never waits"),
    }
}

/// A future that is pending once: the fiber suspends, and the loop polls
/// the run again when there is something for the module.
struct Suspend(bool);

impl std::future::Future for Suspend {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        std::task::Poll::Pending
    }
}

/// Rights: all of preview1's, but reading and writing as opened.
const RIGHTS_ALL: u64 = (1 << 30) - 1;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;

const FILETYPE_UNKNOWN: u8 = 0;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;

/// The descriptor `fd`.
pub(super) fn fd_of(s: &mut Shared, fd: i32) -> Result<&mut Fd, Errno> {
    s.fds
        .get_mut(fd as u32 as usize)
        .and_then(Option::as_mut)
        .ok_or(errno::BADF)
}

/// The directory node behind `fd`.
fn dir_of(s: &mut Shared, fd: i32) -> Result<usize, Errno> {
    match fd_of(s, fd)? {
        Fd::Dir { node, .. } => Ok(*node),
        _ => Err(errno::NOTDIR),
    }
}

fn path_arg(m: &Mem<'_>, ptr: i32, len: i32) -> Result<Vec<u8>, Errno> {
    // Refused before the copy: a name may claim the whole memory.
    if len as u32 as usize > PATH_MAX {
        return Err(errno::NAMETOOLONG);
    }
    Ok(m.bytes(ptr as u32, len as u32)?.to_vec())
}

fn filestat(m: &mut Mem<'_>, at: i32, ino: u64, filetype: u8, size: u64) -> Done {
    let mut b = [0u8; 64];
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16] = filetype;
    b[24..32].copy_from_slice(&1u64.to_le_bytes());
    b[32..40].copy_from_slice(&size.to_le_bytes());
    Ok(m.put(at as u32, &b)?)
}

fn node_stat(files: &Files, id: usize) -> (u8, u64) {
    match files.node(id) {
        Node::Dir(_) => (FILETYPE_DIRECTORY, 0),
        Node::File(_) => (FILETYPE_REGULAR_FILE, files.len(id)),
    }
}

fn fd_read(s: &mut Shared, m: &mut Mem<'_>, fd: i32, iovs: i32, n: i32, out: i32) -> Done {
    let iovs = m.iovecs(iovs as u32, n as u32)?;
    let want = total(&iovs);
    let got = match fd_of(s, fd)? {
        Fd::Stdin => {
            if want > 0 && s.stdin_left() == 0 && !s.stdin_eof {
                s.waiting = Some(Wait::Stdin);
                return Err(Fail::Wait);
            }
            let n = want.min(s.stdin_left());
            m.scatter(&iovs, &s.stdin[s.stdin_at..s.stdin_at + n])?;
            s.stdin_at += n;
            n
        }
        Fd::File {
            node,
            pos,
            read: true,
            ..
        } => {
            let (node, at) = (*node, *pos);
            let n = read_file(&s.files, m, &iovs, node, at)?;
            if let Fd::File { pos, .. } = fd_of(s, fd)? {
                *pos += n as u64;
            }
            n
        }
        Fd::Dir { .. } => return Err(errno::ISDIR.into()),
        _ => return Err(errno::BADF.into()),
    };
    Ok(m.put_u32(out as u32, got as u32)?)
}

fn fd_write(s: &mut Shared, m: &mut Mem<'_>, fd: i32, iovs: i32, n: i32, out: i32) -> Done {
    let iovs = m.iovecs(iovs as u32, n as u32)?;
    let want = total(&iovs);
    let wrote = match fd_of(s, fd)? {
        Fd::Stdout => {
            if s.peer_gone {
                return Err(errno::PIPE.into());
            }
            let room = STDOUT_PENDING_MAX.saturating_sub(s.stdout_left().len());
            if want > 0 && room == 0 {
                s.waiting = Some(Wait::Stdout);
                return Err(Fail::Wait);
            }
            let bytes = m.gather(&iovs, room)?;
            if s.stdout_bytes + bytes.len() as u64 > s.stdout_max {
                return Err(Fail::Stop(format!(
                    "sent more than {} bytes to the program",
                    s.stdout_max
                )));
            }
            s.stdout_bytes += bytes.len() as u64;
            s.stdout.extend_from_slice(&bytes);
            bytes.len()
        }
        Fd::Stderr => {
            let keep = s.stderr_max.saturating_sub(s.stderr_bytes) as usize;
            let bytes = m.gather(&iovs, keep.min(want))?;
            s.stderr.extend_from_slice(&bytes);
            s.stderr_bytes += want as u64;
            if s.stderr_bytes > s.stderr_max {
                return Err(Fail::Stop(format!(
                    "wrote more than {} bytes to stderr",
                    s.stderr_max
                )));
            }
            want
        }
        Fd::File {
            node,
            pos,
            write: true,
            append,
            ..
        } => {
            let (node, at, append) = (*node, *pos, *append);
            let at = if append { s.files.len(node) } else { at };
            let n = write_file(s, m, &iovs, node, at)?;
            if let Fd::File { pos, .. } = fd_of(s, fd)? {
                *pos = at + n as u64;
            }
            n
        }
        Fd::Dir { .. } => return Err(errno::ISDIR.into()),
        _ => return Err(errno::BADF.into()),
    };
    Ok(m.put_u32(out as u32, wrote as u32)?)
}

/// Write the iovecs' bytes to file `node` at `at`, straight from the
/// module's memory, as far as the byte budget lets the file grow (the
/// same iovec may be named a thousand times: nothing is gathered first).
/// How many were written; ENOSPC when none could be.
fn write_file(
    s: &mut Shared,
    m: &Mem<'_>,
    iovs: &[(u32, u32)],
    node: usize,
    mut at: u64,
) -> Result<usize, Errno> {
    let mut done = 0;
    for &(p, l) in iovs {
        let bytes = m.bytes(p, l)?;
        let room = s.files.room_at(node, at);
        let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if take == 0 && !bytes.is_empty() {
            return if done == 0 {
                Err(errno::NOSPC)
            } else {
                Ok(done)
            };
        }
        s.files.write_at(node, at, &bytes[..take])?;
        at += take as u64;
        done += take;
        if take < bytes.len() {
            break;
        }
    }
    Ok(done)
}

/// Read file `node` at `at` into the iovecs: no more than the file holds
/// there, 16 MiB at a time. How many bytes.
fn read_file(
    files: &Files,
    m: &mut Mem<'_>,
    iovs: &[(u32, u32)],
    node: usize,
    at: u64,
) -> Result<usize, Errno> {
    let left = files.len(node).saturating_sub(at);
    let size = total(iovs)
        .min(usize::try_from(left).unwrap_or(usize::MAX))
        .min(1 << 24);
    let mut buf = vec![0u8; size];
    let n = files.read_at(node, at, &mut buf)?;
    m.scatter(iovs, &buf[..n])?;
    Ok(n)
}

/// The file behind `fd` for a read or write at an offset: open for it, and
/// a file (a stream cannot seek).
fn positioned_file(s: &mut Shared, fd: i32, write: bool) -> Result<usize, Errno> {
    match fd_of(s, fd)? {
        Fd::File {
            node,
            read,
            write: w,
            ..
        } if (write && *w) || (!write && *read) => Ok(*node),
        Fd::File { .. } => Err(errno::BADF),
        Fd::Dir { .. } => Err(errno::ISDIR),
        _ => Err(errno::SPIPE),
    }
}

fn fd_pread(
    s: &mut Shared,
    m: &mut Mem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    at: i64,
    out: i32,
) -> Done {
    let iovs = m.iovecs(iovs as u32, n as u32)?;
    let node = positioned_file(s, fd, false)?;
    let got = read_file(&s.files, m, &iovs, node, at as u64)?;
    Ok(m.put_u32(out as u32, got as u32)?)
}

fn fd_pwrite(
    s: &mut Shared,
    m: &mut Mem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    at: i64,
    out: i32,
) -> Done {
    let iovs = m.iovecs(iovs as u32, n as u32)?;
    let node = positioned_file(s, fd, true)?;
    let n = write_file(s, m, &iovs, node, at as u64)?;
    Ok(m.put_u32(out as u32, n as u32)?)
}

fn fd_seek(s: &mut Shared, m: &mut Mem<'_>, fd: i32, offset: i64, whence: i32, out: i32) -> Done {
    let len = match fd_of(s, fd)? {
        Fd::File { node, .. } => {
            let node = *node;
            s.files.len(node)
        }
        Fd::Dir { .. } => return Err(errno::BADF.into()),
        _ => return Err(errno::SPIPE.into()),
    };
    let Fd::File { pos, .. } = fd_of(s, fd)? else {
        unreachable!("a file, matched above");
    };
    let base = match whence {
        0 => 0,
        1 => *pos as i64,
        2 => len as i64,
        _ => return Err(errno::INVAL.into()),
    };
    let new = base
        .checked_add(offset)
        .filter(|&n| n >= 0)
        .ok_or(errno::INVAL)?;
    *pos = new as u64;
    Ok(m.put_u64(out as u32, new as u64)?)
}

fn fd_close(s: &mut Shared, fd: i32) -> Done {
    let slot = s
        .fds
        .get_mut(fd as u32 as usize)
        .filter(|f| f.is_some())
        .ok_or(errno::BADF)?;
    if matches!(slot.take(), Some(Fd::Stdout)) {
        s.stdout_closed = true;
    }
    Ok(())
}

fn fd_renumber(s: &mut Shared, from: i32, to: i32) -> Done {
    fd_of(s, from)?;
    fd_of(s, to)?;
    if from == to {
        return Ok(());
    }
    let moved = s.fds[from as u32 as usize].take();
    if matches!(
        s.fds[to as u32 as usize].replace(moved.expect("checked")),
        Some(Fd::Stdout)
    ) {
        s.stdout_closed = true;
    }
    Ok(())
}

fn fd_fdstat_get(s: &mut Shared, m: &mut Mem<'_>, fd: i32, out: i32) -> Done {
    // Standard streams are pipes, not terminals: a C library buffers its
    // stdout fully, as it would natively under an exec interactor.
    let (filetype, flags, base, inheriting) = match fd_of(s, fd)? {
        Fd::Stdin => (FILETYPE_UNKNOWN, 0u16, RIGHT_FD_READ, 0),
        Fd::Stdout | Fd::Stderr => (FILETYPE_UNKNOWN, 0, RIGHT_FD_WRITE, 0),
        Fd::Dir { .. } => (FILETYPE_DIRECTORY, 0, RIGHTS_ALL, RIGHTS_ALL),
        Fd::File {
            read,
            write,
            append,
            ..
        } => {
            let mut rights = RIGHTS_ALL & !(RIGHT_FD_READ | RIGHT_FD_WRITE);
            if *read {
                rights |= RIGHT_FD_READ;
            }
            if *write {
                rights |= RIGHT_FD_WRITE;
            }
            (FILETYPE_REGULAR_FILE, u16::from(*append), rights, 0)
        }
    };
    let mut b = [0u8; 24];
    b[0] = filetype;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&base.to_le_bytes());
    b[16..24].copy_from_slice(&inheriting.to_le_bytes());
    Ok(m.put(out as u32, &b)?)
}

fn fd_filestat_get(s: &mut Shared, m: &mut Mem<'_>, fd: i32, out: i32) -> Done {
    let (ino, filetype, size) = match fd_of(s, fd)? {
        Fd::Stdin | Fd::Stdout | Fd::Stderr => (0, FILETYPE_UNKNOWN, 0),
        Fd::Dir { node, .. } | Fd::File { node, .. } => {
            let node = *node;
            let (t, size) = node_stat(&s.files, node);
            (node as u64 + 1, t, size)
        }
    };
    filestat(m, out, ino, filetype, size)
}

fn fd_prestat_get(s: &mut Shared, m: &mut Mem<'_>, fd: i32, out: i32) -> Done {
    match fd_of(s, fd)? {
        Fd::Dir {
            preopen: Some(name),
            ..
        } => {
            let mut b = [0u8; 8];
            b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
            Ok(m.put(out as u32, &b)?)
        }
        _ => Err(errno::BADF.into()),
    }
}

fn fd_prestat_dir_name(s: &mut Shared, m: &mut Mem<'_>, fd: i32, at: i32, len: i32) -> Done {
    match fd_of(s, fd)? {
        Fd::Dir {
            preopen: Some(name),
            ..
        } => {
            if (len as u32 as usize) < name.len() {
                return Err(errno::NAMETOOLONG.into());
            }
            Ok(m.put(at as u32, name.as_bytes())?)
        }
        _ => Err(errno::BADF.into()),
    }
}

fn fd_readdir(
    s: &mut Shared,
    m: &mut Mem<'_>,
    fd: i32,
    buf: i32,
    len: i32,
    cookie: i64,
    out: i32,
) -> Done {
    let Fd::Dir { node, .. } = fd_of(s, fd)? else {
        return Err(errno::NOTDIR.into());
    };
    let node = *node;
    let Node::Dir(d) = s.files.node(node) else {
        return Err(errno::NOTDIR.into());
    };
    let mut entries: Vec<(Vec<u8>, u64, u8)> = vec![
        (b".".to_vec(), node as u64 + 1, FILETYPE_DIRECTORY),
        (b"..".to_vec(), node as u64 + 1, FILETYPE_DIRECTORY),
    ];
    for (name, &id) in &d.entries {
        let (t, _) = node_stat(&s.files, id);
        entries.push((name.clone(), id as u64 + 1, t));
    }
    // Entries one after another, the last cut at the end of the buffer.
    let mut bytes = Vec::new();
    for (i, (name, ino, t)) in entries.iter().enumerate().skip(cookie.max(0) as usize) {
        let mut head = [0u8; 24];
        head[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        head[8..16].copy_from_slice(&ino.to_le_bytes());
        head[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        head[20] = *t;
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(name);
        if bytes.len() >= len as u32 as usize {
            break;
        }
    }
    bytes.truncate(len as u32 as usize);
    m.put(buf as u32, &bytes)?;
    Ok(m.put_u32(out as u32, bytes.len() as u32)?)
}

#[allow(clippy::too_many_arguments)]
fn path_open(
    s: &mut Shared,
    m: &mut Mem<'_>,
    dirfd: i32,
    path: i32,
    path_len: i32,
    oflags: i32,
    rights: i64,
    fdflags: i32,
    out: i32,
) -> Done {
    const CREAT: i32 = 1;
    const DIRECTORY: i32 = 2;
    const EXCL: i32 = 4;
    const TRUNC: i32 = 8;
    let dir = dir_of(s, dirfd)?;
    let path = path_arg(m, path, path_len)?;
    let rights = rights as u64;
    let (read, write) = (rights & RIGHT_FD_READ != 0, rights & RIGHT_FD_WRITE != 0);
    // What can fail without a trace fails before a file is created.
    if oflags & CREAT != 0 && oflags & DIRECTORY != 0 {
        return Err(errno::INVAL.into());
    }
    let free = s.fds.iter().position(Option::is_none);
    if free.is_none() && s.fds.len() >= OPEN_MAX {
        return Err(errno::MFILE.into());
    }
    let (parent, name) = s.files.parent(dir, &path)?;
    let node = match name {
        None => parent,
        Some(n) => match s.files.lookup(parent, n) {
            Ok(_) if oflags & CREAT != 0 && oflags & EXCL != 0 => return Err(errno::EXIST.into()),
            Ok(id) => id,
            Err(errno::NOENT) if oflags & CREAT != 0 => s.files.create(parent, n)?,
            Err(e) => return Err(e.into()),
        },
    };
    let fd = match s.files.node(node) {
        Node::Dir(_) => {
            if write || oflags & TRUNC != 0 {
                return Err(errno::ISDIR.into());
            }
            Fd::Dir {
                node,
                preopen: None,
            }
        }
        Node::File(f) => {
            if oflags & DIRECTORY != 0 {
                return Err(errno::NOTDIR.into());
            }
            if (write || oflags & TRUNC != 0) && !f.writable {
                return Err(errno::ACCES.into());
            }
            if oflags & TRUNC != 0 {
                s.files.set_len(node, 0)?;
            }
            Fd::File {
                node,
                pos: 0,
                read,
                write,
                append: fdflags & 1 != 0,
            }
        }
    };
    let n = match free {
        Some(i) => {
            s.fds[i] = Some(fd);
            i
        }
        None => {
            s.fds.push(Some(fd));
            s.fds.len() - 1
        }
    };
    Ok(m.put_u32(out as u32, n as u32)?)
}

fn args_sizes(s: &mut Shared, m: &mut Mem<'_>, count: i32, size: i32) -> Done {
    let bytes: usize = s.args.iter().map(|a| a.len() + 1).sum();
    m.put_u32(count as u32, s.args.len() as u32)?;
    Ok(m.put_u32(size as u32, bytes as u32)?)
}

fn args_get(s: &mut Shared, m: &mut Mem<'_>, argv: i32, buf: i32) -> Done {
    let mut at = buf as u32;
    for (i, a) in s.args.iter().enumerate() {
        m.put_u32(off(argv as u32, 4 * i as u32)?, at)?;
        m.put(at, a)?;
        m.put(off(at, a.len() as u32)?, &[0])?;
        at = off(at, a.len() as u32 + 1)?;
    }
    Ok(())
}

/// The linker with every preview1 function.
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<WasiState>> {
    type C<'a> = Caller<'a, WasiState>;
    type R = wasmtime::Result<i32>;
    let mut l = Linker::new(engine);
    macro_rules! sync {
        ($name:literal, |$s:ident, $m:ident $(, $a:ident : $t:ty)*| $body:expr) => {
            l.func_wrap(MODULE, $name, |mut caller: C<'_> $(, $a: $t)*| -> R {
                answer(with(&mut caller, |$s, $m| {
                    let _ = (&$s, &$m);
                    $body
                }))
            })?;
        };
    }
    // The calls that may wait for the program: fd_read, fd_write and
    // poll_oneoff suspend the fiber until the loop has news.
    macro_rules! waiting {
        ($name:literal, $f:ident, ($($a:ident),*)) => {
            l.func_wrap_async(MODULE, $name, |mut c: C<'_>, ($($a,)*): waiting!(@types $($a),*)| {
                Box::new(async move {
                    loop {
                        match with(&mut c, |s, m| $f(s, m, $($a),*)) {
                            Err(Fail::Wait) => Suspend(false).await,
                            r => return answer(r),
                        }
                    }
                })
            })?;
        };
        (@types $($a:ident),*) => { ($(waiting!(@i32 $a),)*) };
        (@i32 $a:ident) => { i32 };
    }
    waiting!("fd_read", fd_read, (fd, iovs, n, out));
    waiting!("fd_write", fd_write, (fd, iovs, n, out));
    waiting!("poll_oneoff", poll_oneoff, (subs, events, n, out));

    sync!("args_sizes_get", |s, m, count: i32, size: i32| args_sizes(
        s, m, count, size
    ));
    sync!("args_get", |s, m, argv: i32, buf: i32| args_get(
        s, m, argv, buf
    ));
    sync!("environ_sizes_get", |s, m, count: i32, size: i32| {
        m.put_u32(count as u32, 0)?;
        Ok(m.put_u32(size as u32, 0)?)
    });
    sync!("environ_get", |s, m, _environ: i32, _buf: i32| Ok(()));
    sync!("clock_res_get", |s, m, id: i32, out: i32| {
        if !(0..=3).contains(&id) {
            return Err(errno::INVAL.into());
        }
        Ok(m.put_u64(out as u32, CLOCK_STEP_NS)?)
    });
    sync!("clock_time_get", |s,
                             m,
                             id: i32,
                             _precision: i64,
                             out: i32| {
        if !(0..=3).contains(&id) {
            return Err(errno::INVAL.into());
        }
        m.put_u64(out as u32, s.clock_ns)?;
        s.clock_ns = s.clock_ns.saturating_add(CLOCK_STEP_NS);
        Ok(())
    });
    sync!("random_get", |s, m, buf: i32, len: i32| random(
        s, m, buf, len
    ));
    sync!("fd_advise", |s, m, fd: i32, _o: i64, _l: i64, _a: i32| {
        fd_of(s, fd)?;
        Ok(())
    });
    sync!("fd_allocate", |s, m, fd: i32, _o: i64, _l: i64| {
        fd_of(s, fd)?;
        Err(errno::NOTSUP.into())
    });
    sync!("fd_close", |s, m, fd: i32| fd_close(s, fd));
    sync!("fd_datasync", |s, m, fd: i32| {
        fd_of(s, fd)?;
        Ok(())
    });
    sync!("fd_sync", |s, m, fd: i32| {
        fd_of(s, fd)?;
        Ok(())
    });
    sync!("fd_fdstat_get", |s, m, fd: i32, out: i32| fd_fdstat_get(
        s, m, fd, out
    ));
    sync!("fd_fdstat_set_flags", |s, m, fd: i32, flags: i32| {
        if let Fd::File { append, .. } = fd_of(s, fd)? {
            *append = flags & 1 != 0;
        }
        Ok(())
    });
    sync!("fd_fdstat_set_rights", |s, m, fd: i32, _b: i64, _i: i64| {
        fd_of(s, fd)?;
        Ok(())
    });
    sync!(
        "fd_filestat_get",
        |s, m, fd: i32, out: i32| fd_filestat_get(s, m, fd, out)
    );
    sync!("fd_filestat_set_size", |s, m, fd: i32, size: i64| {
        match fd_of(s, fd)? {
            Fd::File {
                node, write: true, ..
            } => {
                let node = *node;
                Ok(s.files.set_len(node, size as u64)?)
            }
            _ => Err(errno::BADF.into()),
        }
    });
    sync!(
        "fd_filestat_set_times",
        |s, m, fd: i32, _a: i64, _m: i64, _f: i32| {
            fd_of(s, fd)?;
            Ok(())
        }
    );
    sync!("fd_pread", |s,
                       m,
                       fd: i32,
                       iovs: i32,
                       n: i32,
                       at: i64,
                       out: i32| {
        fd_pread(s, m, fd, iovs, n, at, out)
    });
    sync!("fd_pwrite", |s,
                        m,
                        fd: i32,
                        iovs: i32,
                        n: i32,
                        at: i64,
                        out: i32| {
        fd_pwrite(s, m, fd, iovs, n, at, out)
    });
    sync!("fd_prestat_get", |s, m, fd: i32, out: i32| fd_prestat_get(
        s, m, fd, out
    ));
    sync!("fd_prestat_dir_name", |s, m, fd: i32, at: i32, len: i32| {
        fd_prestat_dir_name(s, m, fd, at, len)
    });
    sync!("fd_readdir", |s,
                         m,
                         fd: i32,
                         buf: i32,
                         len: i32,
                         cookie: i64,
                         out: i32| {
        fd_readdir(s, m, fd, buf, len, cookie, out)
    });
    sync!("fd_renumber", |s, m, from: i32, to: i32| fd_renumber(
        s, from, to
    ));
    sync!("fd_seek", |s,
                      m,
                      fd: i32,
                      offset: i64,
                      whence: i32,
                      out: i32| {
        fd_seek(s, m, fd, offset, whence, out)
    });
    sync!("fd_tell", |s, m, fd: i32, out: i32| fd_seek(
        s, m, fd, 0, 1, out
    ));
    sync!(
        "path_create_directory",
        |s, m, fd: i32, p: i32, len: i32| {
            let dir = dir_of(s, fd)?;
            let path = path_arg(m, p, len)?;
            match s.files.lookup(dir, &path) {
                Ok(_) => Err(errno::EXIST.into()),
                Err(errno::NOENT) => Err(errno::ACCES.into()),
                Err(e) => Err(e.into()),
            }
        }
    );
    sync!(
        "path_filestat_get",
        |s, m, fd: i32, _flags: i32, p: i32, len: i32, out: i32| {
            let dir = dir_of(s, fd)?;
            let path = path_arg(m, p, len)?;
            let id = s.files.lookup(dir, &path)?;
            let (t, size) = node_stat(&s.files, id);
            filestat(m, out, id as u64 + 1, t, size)
        }
    );
    sync!(
        "path_filestat_set_times",
        |s, m, fd: i32, _fl: i32, p: i32, len: i32, _a: i64, _m: i64, _f: i32| {
            let dir = dir_of(s, fd)?;
            let path = path_arg(m, p, len)?;
            s.files.lookup(dir, &path)?;
            Ok(())
        }
    );
    sync!("path_link", |s,
                        m,
                        _a: i32,
                        _b: i32,
                        _c: i32,
                        _d: i32,
                        _e: i32,
                        _f: i32,
                        _g: i32| {
        Err(errno::NOTSUP.into())
    });
    sync!("path_open", |s,
                        m,
                        fd: i32,
                        _dirflags: i32,
                        p: i32,
                        len: i32,
                        oflags: i32,
                        base: i64,
                        _inh: i64,
                        fdflags: i32,
                        out: i32| {
        path_open(s, m, fd, p, len, oflags, base, fdflags, out)
    });
    sync!("path_readlink", |s,
                            m,
                            fd: i32,
                            p: i32,
                            len: i32,
                            _b: i32,
                            _bl: i32,
                            _out: i32| {
        let dir = dir_of(s, fd)?;
        let path = path_arg(m, p, len)?;
        s.files.lookup(dir, &path)?;
        Err(errno::INVAL.into())
    });
    sync!(
        "path_remove_directory",
        |s, m, fd: i32, p: i32, len: i32| {
            let dir = dir_of(s, fd)?;
            let path = path_arg(m, p, len)?;
            match s.files.node(s.files.lookup(dir, &path)?) {
                Node::Dir(d) if !d.entries.is_empty() => Err(errno::NOTEMPTY.into()),
                Node::Dir(_) => Err(errno::ACCES.into()),
                Node::File(_) => Err(errno::NOTDIR.into()),
            }
        }
    );
    sync!("path_rename", |s,
                          m,
                          fd: i32,
                          p: i32,
                          len: i32,
                          fd2: i32,
                          p2: i32,
                          len2: i32| {
        let (from_dir, to_dir) = (dir_of(s, fd)?, dir_of(s, fd2)?);
        let (from, to) = (path_arg(m, p, len)?, path_arg(m, p2, len2)?);
        let (fp, fname) = s.files.parent(from_dir, &from)?;
        let (tp, tname) = s.files.parent(to_dir, &to)?;
        match (fname, tname) {
            (Some(f), Some(t)) => Ok(s.files.rename(fp, f, tp, t)?),
            _ => Err(errno::ACCES.into()),
        }
    });
    sync!("path_symlink", |s,
                           m,
                           _a: i32,
                           _b: i32,
                           _c: i32,
                           _d: i32,
                           _e: i32| {
        Err(errno::NOTSUP.into())
    });
    sync!("path_unlink_file", |s, m, fd: i32, p: i32, len: i32| {
        let dir = dir_of(s, fd)?;
        let path = path_arg(m, p, len)?;
        match s.files.parent(dir, &path)? {
            (parent, Some(name)) => Ok(s.files.unlink(parent, name)?),
            (_, None) => Err(errno::ISDIR.into()),
        }
    });
    l.func_wrap(
        MODULE,
        "proc_exit",
        // A process's exit status keeps the code's low byte: exit(256) is
        // 0, exit(-1) is 255, and so here.
        |_: C<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(Exit(code & 0xff)))
        },
    )?;
    sync!("proc_raise", |s, m, _sig: i32| Err(errno::NOSYS.into()));
    sync!("sched_yield", |s, m| Ok(()));
    sync!("sock_accept", |s, m, _fd: i32, _f: i32, _out: i32| Err(
        errno::NOTSOCK.into()
    ));
    sync!("sock_recv", |s,
                        m,
                        _fd: i32,
                        _a: i32,
                        _b: i32,
                        _c: i32,
                        _d: i32,
                        _e: i32| {
        Err(errno::NOTSOCK.into())
    });
    sync!("sock_send", |s,
                        m,
                        _fd: i32,
                        _a: i32,
                        _b: i32,
                        _c: i32,
                        _d: i32| {
        Err(errno::NOTSOCK.into())
    });
    sync!("sock_shutdown", |s, m, _fd: i32, _how: i32| Err(
        errno::NOTSOCK.into()
    ));
    Ok(l)
}
