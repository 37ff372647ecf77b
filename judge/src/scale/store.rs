//! Files as content-addressed blobs: a package or a submission is a
//! manifest (each file's path, SHA-256 and executable bit), each blob
//! stored once (SET NX), so a changed test uploads one blob. A package's
//! id is the SHA-256 of its manifest.
//!
//! Workers keep the blobs they fetched in a local cache, checked against
//! their hash, and assemble each package folder from them with hard links.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use redis::Commands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Keys;

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative, `/`-separated, no `..`.
    pub path: String,
    pub sha256: String,
    pub executable: bool,
}

/// Files by path, sorted: the same tree gives the same manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub files: Vec<Entry>,
}

impl Manifest {
    /// The manifest's own SHA-256: a package's id.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(
            serde_json::to_vec(self).expect("a manifest encodes"),
        ))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A blob: its SHA-256 and its bytes.
pub type Blob = (String, Vec<u8>);

/// Read a folder (or one file) into a manifest and its blobs. Symbolic
/// links are refused: a package is files.
pub fn read_tree(root: &Path) -> Result<(Manifest, Vec<Blob>), String> {
    let mut files = Vec::new();
    let mut blobs = Vec::new();
    let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if meta.is_file() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a file name", root.display()))?;
        add(root, name.to_string(), &mut files, &mut blobs)?;
    } else {
        walk(root, root, &mut files, &mut blobs)?;
    }
    files.sort_by(|a: &Entry, b| a.path.cmp(&b.path));
    Ok((Manifest { files }, blobs))
}

fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<Entry>,
    blobs: &mut Vec<Blob>,
) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let kind = e
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            walk(root, &path, files, blobs)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .ok()
                .and_then(|r| r.to_str())
                .ok_or_else(|| format!("{}: not a UTF-8 path", path.display()))?
                .to_string();
            add(&path, rel, files, blobs)?;
        } else {
            return Err(format!("{}: neither a file nor a folder", path.display()));
        }
    }
    Ok(())
}

fn add(
    path: &Path,
    rel: String,
    files: &mut Vec<Entry>,
    blobs: &mut Vec<Blob>,
) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .permissions()
        .mode();
    let sha = hex(&Sha256::digest(&bytes));
    files.push(Entry {
        path: rel,
        sha256: sha.clone(),
        executable: mode & 0o111 != 0,
    });
    blobs.push((sha, bytes));
    Ok(())
}

/// Store each blob Redis lacks (asked first, so that a re-upload sends
/// only what changed; SET NX, so that two uploaders store it once) and the
/// manifest; returns the manifest's id.
pub fn upload(
    con: &mut redis::Connection,
    keys: &Keys,
    manifest: &Manifest,
    blobs: &[Blob],
) -> redis::RedisResult<String> {
    upload_blobs(con, keys, blobs)?;
    let id = manifest.id();
    let json = serde_json::to_string(manifest).expect("a manifest encodes");
    let _: Option<String> = redis::cmd("SET")
        .arg(keys.package(&id))
        .arg(json)
        .arg("NX")
        .query(con)?;
    Ok(id)
}

/// Store each blob Redis lacks (asked first, then SET NX).
pub fn upload_blobs(
    con: &mut redis::Connection,
    keys: &Keys,
    blobs: &[Blob],
) -> redis::RedisResult<()> {
    for (sha, bytes) in blobs {
        let key = keys.blob(sha);
        let there: bool = con.exists(&key)?;
        if !there {
            let _: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(bytes)
                .arg("NX")
                .query(con)?;
        }
    }
    Ok(())
}

/// Why a package could not be had: Redis is away or the local cache
/// failed (this worker's trouble: the job is left for another try), or
/// the package is not there or not whole (a JE for the job, not retried).
#[derive(Debug)]
pub enum FetchError {
    Redis(redis::RedisError),
    Cache(String),
    Broken(String),
}

impl From<redis::RedisError> for FetchError {
    fn from(e: redis::RedisError) -> Self {
        FetchError::Redis(e)
    }
}

/// The worker's cache: `blobs/SHA` (checked), `trees/ID/...` (assembled
/// with hard links), `trees/ID.complete` (a whole tree; its time, when it
/// was last used). One worker per cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
    /// Trees a slot is judging now, by id: never pruned.
    in_use: Arc<Mutex<HashMap<String, usize>>>,
}

/// A tree held for a job: kept from pruning until dropped.
pub struct Tree {
    pub dir: PathBuf,
    id: String,
    in_use: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let mut u = self.in_use.lock().unwrap();
        if let Some(n) = u.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                u.remove(&self.id);
            }
        }
    }
}

/// A SHA-256 in hex, as ids and blob names are: never a path.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Cache {
    pub fn open(root: &Path) -> std::io::Result<Cache> {
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(root.join("trees"))?;
        // Half-assembled trees of a worker that died.
        for e in std::fs::read_dir(root.join("trees"))?.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Ok(Cache {
            root: root.to_path_buf(),
            in_use: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn marker(&self, id: &str) -> PathBuf {
        // Beside the tree, not in it: a package may hold any file name,
        // and a file in the tree is a hard link to a shared blob.
        self.root.join("trees").join(format!("{id}.complete"))
    }

    /// The folder of the manifest `id`, assembled if needed (every blob
    /// fetched unless cached, checked against its hash) and held from
    /// pruning while the returned `Tree` lives.
    pub fn tree(
        &self,
        con: &mut redis::Connection,
        keys: &Keys,
        id: &str,
        manifest: &Manifest,
    ) -> Result<Tree, FetchError> {
        if !is_sha256(id) {
            return Err(FetchError::Broken(format!("{id:?} is not a package id")));
        }
        *self
            .in_use
            .lock()
            .unwrap()
            .entry(id.to_string())
            .or_default() += 1;
        let tree = Tree {
            dir: self.root.join("trees").join(id),
            id: id.to_string(),
            in_use: self.in_use.clone(),
        };
        let marker = self.marker(id);
        if marker.exists() {
            // Touched: the least recently used trees go first.
            let _ = std::fs::File::open(&marker)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(tree);
        }
        let partial = self.root.join("trees").join(format!(".{id}.{}", unique()));
        let assembled = self.assemble(con, keys, manifest, &partial);
        if let Err(e) = assembled {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        // Another slot may have assembled it meanwhile: either is whole.
        if std::fs::rename(&partial, &tree.dir).is_err() {
            let _ = std::fs::remove_dir_all(&partial);
        }
        // Made after the tree is in place, and only then trusted.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker);
        if !tree.dir.is_dir() || !marker.exists() {
            return Err(FetchError::Cache(format!(
                "the cache: {} is not whole",
                tree.dir.display()
            )));
        }
        Ok(tree)
    }

    fn assemble(
        &self,
        con: &mut redis::Connection,
        keys: &Keys,
        manifest: &Manifest,
        partial: &Path,
    ) -> Result<(), FetchError> {
        let io = |e: std::io::Error| {
            FetchError::Cache(format!("the cache ({}): {e}", partial.display()))
        };
        std::fs::create_dir_all(partial).map_err(io)?;
        for f in &manifest.files {
            if f.path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
                || f.path.starts_with('/')
            {
                return Err(FetchError::Broken(format!(
                    "a path that leaves the package: {:?}",
                    f.path
                )));
            }
            let blob = self.blob(con, keys, &f.sha256, f.executable)?;
            let dest = partial.join(&f.path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::hard_link(&blob, &dest).map_err(|e| {
                FetchError::Cache(format!(
                    "the cache: linking {} at {}: {e}",
                    blob.display(),
                    dest.display()
                ))
            })?;
        }
        Ok(())
    }

    /// A blob's cached file (read-only, executable or not), fetched and
    /// checked if missing.
    fn blob(
        &self,
        con: &mut redis::Connection,
        keys: &Keys,
        sha: &str,
        executable: bool,
    ) -> Result<PathBuf, FetchError> {
        if !is_sha256(sha) {
            return Err(FetchError::Broken(format!("{sha:?} is not a SHA-256")));
        }
        let path = self.root.join("blobs").join(if executable {
            format!("{sha}.x")
        } else {
            sha.to_string()
        });
        if path.exists() {
            return Ok(path);
        }
        let bytes: Option<Vec<u8>> = con.get(keys.blob(sha))?;
        let bytes = bytes.ok_or_else(|| FetchError::Broken(format!("blob {sha} is missing")))?;
        let got = hex(&Sha256::digest(&bytes));
        if got != sha {
            return Err(FetchError::Broken(format!(
                "blob {sha} fails its hash check (its bytes hash to {got})"
            )));
        }
        let io = |e: std::io::Error| FetchError::Cache(format!("the cache: {e}"));
        let tmp = path.with_extension(format!("tmp{}", unique()));
        std::fs::write(&tmp, &bytes).map_err(io)?;
        let mode = if executable { 0o555 } else { 0o444 };
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).map_err(io)?;
        // Linked in, never renamed over: another slot may be linking the
        // blob already in place, and a file renamed over mid-link (its
        // last name gone) fails that link with ENOENT.
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(path),
            Err(e) => Err(io(e)),
        }
    }

    /// Remove the least recently used trees not in use (and the blobs no
    /// tree links any more) until the cache holds at most `max` bytes of
    /// blobs.
    pub fn prune(&self, max: u64) {
        use std::os::unix::fs::MetadataExt;
        let blobs = self.root.join("blobs");
        let size = || -> u64 {
            std::fs::read_dir(&blobs)
                .map(|d| {
                    d.flatten()
                        .filter_map(|e| e.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0)
        };
        if size() <= max {
            return;
        }
        let mut trees: Vec<(std::time::SystemTime, String)> =
            std::fs::read_dir(self.root.join("trees"))
                .map(|d| {
                    d.flatten()
                        .filter_map(|e| {
                            let name = e.file_name().to_string_lossy().into_owned();
                            let id = name.strip_suffix(".complete")?.to_string();
                            Some((e.metadata().ok()?.modified().ok()?, id))
                        })
                        .collect()
                })
                .unwrap_or_default();
        trees.sort();
        for (_, id) in trees {
            if size() <= max {
                break;
            }
            if self.in_use.lock().unwrap().contains_key(&id) {
                continue;
            }
            // The marker first: a tree without one is never used.
            let _ = std::fs::remove_file(self.marker(&id));
            let _ = std::fs::remove_dir_all(self.root.join("trees").join(&id));
            // A blob whose only name left is its cache file.
            for e in std::fs::read_dir(&blobs).into_iter().flatten().flatten() {
                if e.metadata().is_ok_and(|m| m.nlink() == 1) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// A name part no other thread or process of this cache uses at once:
/// slots assemble the same package side by side.
fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Read the manifest stored under `key`.
pub fn manifest(con: &mut redis::Connection, key: &str) -> Result<Manifest, FetchError> {
    let text: Option<String> = con.get(key)?;
    let text = text.ok_or_else(|| FetchError::Broken(format!("{key} is missing")))?;
    serde_json::from_str(&text).map_err(|e| FetchError::Broken(format!("{key}: {e}")))
}
