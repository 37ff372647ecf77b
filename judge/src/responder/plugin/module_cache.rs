//! Compiled WebAssembly modules kept on disk, so that a `judge run` per
//! test (a new process each time, whose in-process cache starts empty)
//! compiles a module once, not once per test.
//!
//! An entry is the module's exact source bytes beside the compiled code,
//! under a name derived from a hash of the source: a hit needs the stored
//! source to equal the module byte for byte, so a module crafted to collide
//! with another's hash gets nothing of it. Loading compiled code is trusting
//! it (wasmtime maps it as machine code), so the cache lives in a directory
//! only the judge's user can write, and entries are written whole and then
//! renamed into place, never changed where they lie. Any failure (no such
//! directory, a full disk, a code blob of another wasmtime) is a miss: the
//! module is compiled as if there were no cache.

use std::collections::hash_map::DefaultHasher;
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

/// Where entries for `engine` live: a directory owned by this user and
/// writable by nobody else, or none (no cache). `JUDGE_CACHE_DIR` chooses
/// the base (empty: off); otherwise `/var/cache/judge` for root and
/// `$XDG_CACHE_HOME/judge` or `~/.cache/judge` for others.
pub fn dir(engine: &Engine) -> Option<PathBuf> {
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
    // Compiled code fits one engine configuration and wasmtime version.
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let dir = base.join(format!("wasm-{:016x}", h.finish()));
    let mkdir = |d: &Path| fs::DirBuilder::new().recursive(true).mode(0o700).create(d);
    let _ = mkdir(&base);
    private(&base, uid).then_some(())?;
    let _ = mkdir(&dir);
    private(&dir, uid).then_some(dir)
}

/// A real directory (not a symlink to one) of `uid`, writable by it alone.
fn private(dir: &Path, uid: u32) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o022 == 0)
}

fn names(dir: &Path, source: &[u8]) -> (PathBuf, PathBuf) {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    let stem = format!("{:016x}-{}", h.finish(), source.len());
    (
        dir.join(format!("{stem}.source")),
        dir.join(format!("{stem}.compiled")),
    )
}

fn read(path: &Path) -> Option<Vec<u8>> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The compiled module for `source`, if the cache holds it.
pub fn load(engine: &Engine, dir: &Path, source: &[u8]) -> Option<Module> {
    let (src, bin) = names(dir, source);
    if read(&src)? != source {
        return None;
    }
    let code = read(&bin)?;
    // SAFETY: the code was written by `store` of a judge of this user, in a
    // directory no one else can write, for an engine of the same
    // compatibility hash; wasmtime still checks its header and refuses a
    // blob of another version or configuration.
    unsafe { Module::deserialize(engine, code) }.ok()
}

/// Keep `module`, compiled from `source`, for the next process.
pub fn store(dir: &Path, source: &[u8], module: &Module) {
    let Ok(code) = module.serialize() else {
        return;
    };
    let (src, bin) = names(dir, source);
    // The source last: a reader that finds it finds the code too.
    let _ = write_whole(&bin, &code).and_then(|()| write_whole(&src, source));
}

/// Write to a fresh temporary name and rename it into place: readers see
/// the old entry or the whole new one, never a part.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut f: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(bytes)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
