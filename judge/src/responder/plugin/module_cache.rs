//! Compiled WebAssembly modules kept on disk, so that a `judge run` per
//! test (a new process each time, whose in-process cache starts empty)
//! compiles a module once, not once per test.
//!
//! Loading compiled code is trusting it: wasmtime maps it as machine code
//! and runs it in the judge, which may be root. So:
//! - the directory is reached from `/` one component at a time, each
//!   opened relative to the one before and never through a symbolic link,
//!   and every directory on the way must belong to root or to us and be
//!   writable by no one else (a sticky one like /tmp excepted), and the
//!   last must not be on FUSE, whose server chooses what owner and mode it
//!   reports. Everything
//!   afterwards is done relative to the directory's descriptor, so swapping
//!   a directory on the path after the check changes nothing;
//! - an entry is one file, holding the module's exact source and its
//!   compiled code: a hit needs the source to equal the module byte for
//!   byte, so a module crafted to collide with another's name gets nothing
//!   of it; it is written under a temporary name and renamed into place, so
//!   a reader sees a whole entry or none;
//! - any failure (no such directory, a full disk, a torn or foreign entry,
//!   code of another wasmtime) is a miss: the module is compiled as if there
//!   were no cache.

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use wasmtime::{Engine, Module};

/// Starts every entry; the version changes with the layout.
const MAGIC: &[u8; 16] = b"judge-wasm-v1\0\0\0";
/// Magic, then the source's and the code's lengths (u64, little-endian).
const HEADER_LEN: usize = MAGIC.len() + 16;
/// Temporary files start with this; ones older than [`STALE`] were left by
/// a judge that died while writing and are removed by the next writer.
const TMP_PREFIX: &str = ".tmp-";
const STALE: Duration = Duration::from_secs(3600);

/// The cache directory for one engine configuration.
pub struct Cache {
    dir: OwnedFd,
}

/// The cache for `engine`, or none. `JUDGE_CACHE_DIR` chooses the base
/// (empty: off); otherwise `/var/cache/judge` for root and
/// `$XDG_CACHE_HOME/judge` or `~/.cache/judge` for others.
pub fn open(engine: &Engine) -> Option<Cache> {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    // Compiled code fits one engine configuration and wasmtime version.
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let sub = format!("wasm-{:016x}", h.finish());
    let dir = walk(&base()?.join(sub), uid)?;
    // The last directory is ours alone: no one else may even read it.
    let st = fstat(&dir).ok()?;
    (st.st_uid == uid && st.st_mode & 0o077 == 0 && !on_fuse(&dir)).then_some(Cache { dir })
}

/// The cache's base directory (absolute), or none when it is off.
fn base() -> Option<PathBuf> {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    let base = match std::env::var_os("JUDGE_CACHE_DIR") {
        Some(d) if d.is_empty() => return None,
        Some(d) => PathBuf::from(d),
        None if uid == 0 => PathBuf::from("/var/cache/judge"),
        None => match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
            (Some(c), _) if !c.is_empty() => PathBuf::from(c).join("judge"),
            (_, Some(h)) if !h.is_empty() => PathBuf::from(h).join(".cache/judge"),
            _ => return None,
        },
    };
    Some(std::env::current_dir().ok()?.join(base))
}

/// A folder `sub` of the cache that only this user can change and read,
/// made if missing, for other kinds of cached builds (`judge problem`'s
/// validators); none when the cache is off or not safe to use.
pub fn private_dir(sub: &str) -> Option<PathBuf> {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    let path = base()?.join(sub);
    let dir = walk(&path, uid)?;
    let st = fstat(&dir).ok()?;
    (st.st_uid == uid && st.st_mode & 0o077 == 0 && !on_fuse(&dir)).then_some(path)
}

/// Open `path` from `/`, creating what is missing (mode 0700), refusing
/// symbolic links and any directory someone other than root or `uid` could
/// change.
fn walk(path: &Path, uid: u32) -> Option<OwnedFd> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut at = openat(nix::fcntl::AT_FDCWD, "/", flags, Mode::empty()).ok()?;
    for part in path.components() {
        let name = match part {
            Component::RootDir | Component::CurDir => continue,
            Component::Normal(name) => name,
            Component::ParentDir | Component::Prefix(_) => return None,
        };
        if !trusted(&fstat(&at).ok()?, uid) {
            return None;
        }
        at = match openat(&at, name, flags, Mode::empty()) {
            Err(Errno::ENOENT) => {
                match mkdirat(&at, name, Mode::from_bits_truncate(0o700)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(_) => return None,
                }
                openat(&at, name, flags, Mode::empty()).ok()?
            }
            opened => opened.ok()?,
        };
    }
    trusted(&fstat(&at).ok()?, uid).then_some(at)
}

/// Whether `dir` lies on a FUSE file system, the one kind an ordinary
/// user can mount where the judge looks (on a directory of their own in
/// /tmp, say), and which reports whatever owner and mode its server likes.
fn on_fuse(dir: &OwnedFd) -> bool {
    use nix::sys::statfs::{fstatfs, FUSE_SUPER_MAGIC};
    fstatfs(dir).map_or(true, |fs| fs.filesystem_type() == FUSE_SUPER_MAGIC)
}

/// A directory only root or `uid` can change entries of.
fn trusted(st: &FileStat, uid: u32) -> bool {
    let sticky = st.st_mode & libc::S_ISVTX != 0;
    (st.st_uid == 0 || st.st_uid == uid) && (st.st_mode & 0o022 == 0 || sticky)
}

fn entry_name(source: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    format!("{:016x}-{}", h.finish(), source.len())
}

impl Cache {
    /// The compiled module for `source`, if the cache holds it.
    pub fn load(&self, engine: &Engine, source: &[u8]) -> Option<Module> {
        let fd = openat(
            &self.dir,
            entry_name(source).as_str(),
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let st = fstat(&fd).ok()?;
        // SAFETY: no preconditions.
        let ours = st.st_uid == unsafe { libc::geteuid() } && st.st_mode & 0o022 == 0;
        if !ours || SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return None;
        }
        let mut file = File::from(fd);
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header).ok()?;
        let (magic, lens) = header.split_at(MAGIC.len());
        let source_len = u64::from_le_bytes(lens[..8].try_into().ok()?);
        let code_len = u64::from_le_bytes(lens[8..].try_into().ok()?);
        let whole = (HEADER_LEN as u64)
            .checked_add(source_len)?
            .checked_add(code_len)?;
        if magic != MAGIC || source_len != source.len() as u64 || st.st_size as u64 != whole {
            return None;
        }
        let mut stored = vec![0u8; source.len()];
        file.read_exact(&mut stored).ok()?;
        if stored != source {
            return None;
        }
        let mut code = Vec::with_capacity(usize::try_from(code_len).ok()?);
        file.take(code_len).read_to_end(&mut code).ok()?;
        if code.len() as u64 != code_len {
            return None;
        }
        // SAFETY: the code was written by `store` of a judge of this user,
        // into a directory no one else can change, for an engine of the
        // same compatibility hash, and its source matched; wasmtime still
        // checks its header and refuses code of another version or
        // configuration.
        unsafe { Module::deserialize(engine, code) }.ok()
    }

    /// Keep `module`, compiled from `source`, for the next process.
    pub fn store(&self, source: &[u8], module: &Module) {
        let Ok(code) = module.serialize() else {
            return;
        };
        let mut entry = Vec::with_capacity(HEADER_LEN + source.len() + code.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(&(source.len() as u64).to_le_bytes());
        entry.extend_from_slice(&(code.len() as u64).to_le_bytes());
        entry.extend_from_slice(source);
        entry.extend_from_slice(&code);
        self.remove_stale();
        let _ = self.write_whole(&entry_name(source), &entry);
    }

    /// Write to a fresh temporary name and rename it into place.
    fn write_whole(&self, name: &str, bytes: &[u8]) -> nix::Result<()> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let tmp = format!(
            "{TMP_PREFIX}{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let fd = openat(
            &self.dir,
            tmp.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )?;
        let written = File::from(fd)
            .write_all(bytes)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
            .and_then(|()| renameat(&self.dir, tmp.as_str(), &self.dir, name));
        if written.is_err() {
            let _ = unlinkat(&self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        written
    }

    /// Remove temporary files a judge killed while writing left behind.
    fn remove_stale(&self) {
        let Ok(mut dir) = Dir::openat(
            &self.dir,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        let cutoff = SystemTime::now()
            .checked_sub(STALE)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let stale: Vec<_> = dir
            .iter()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_owned())
            .filter(|n| n.as_bytes().starts_with(TMP_PREFIX.as_bytes()))
            .collect();
        for name in stale {
            let old = fstatat(dir.as_fd(), name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .is_ok_and(|st| st.st_mtime < cutoff);
            if old {
                let _ = unlinkat(&self.dir, name.as_c_str(), UnlinkatFlags::NoRemoveDir);
            }
        }
    }
}
