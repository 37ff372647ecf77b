//! What a WASI module sees of files: one preopened directory, `/`, that
//! holds the protocol's files and nothing else. Names are looked up here,
//! never on the host: no host path is ever opened on the module's behalf,
//! so there is nothing to escape to (`..` past `/` is refused, and there
//! are no links).
//!
//! Read-only files are the test's (the host file, opened by the judge, read
//! with `pread`) or bytes in memory; what the module writes stays in memory,
//! within one byte budget, until the judge reads it (Kattis' feedback files)
//! or copies it out (testlib's `tout`, for a checker).

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::errno::{self, Errno};

/// A node of the tree.
pub enum Node {
    File(FileNode),
    Dir(DirNode),
}

pub struct FileNode {
    pub content: Content,
    pub writable: bool,
}

pub enum Content {
    /// A host file the judge opened, and its length then.
    Host(File, u64),
    Memory(Vec<u8>),
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Host(_, n) => *n,
            Content::Memory(v) => v.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct DirNode {
    pub entries: BTreeMap<Vec<u8>, usize>,
    /// The module may create, replace and remove files in it.
    pub writable: bool,
}

/// The most files a module may create (in all, removed ones too), and the
/// most descriptors it may hold open: a module that loops on `open` meets EMFILE, not the judge's
/// memory.
const CREATED_MAX: usize = 1024;
pub const OPEN_MAX: usize = 1024;
/// The longest path looked up.
pub const PATH_MAX: usize = 4096;

/// The tree. Node 0 is `/`.
pub struct Files {
    nodes: Vec<Node>,
    created: usize,
    /// Bytes held by files the module writes, and the most it may hold.
    written: u64,
    written_max: u64,
}

impl Files {
    /// An empty `/`; `written_max` bounds the bytes of every file the
    /// module writes, together.
    pub fn new(written_max: u64) -> Self {
        Files {
            nodes: vec![Node::Dir(DirNode {
                entries: BTreeMap::new(),
                writable: false,
            })],
            created: 0,
            written: 0,
            written_max,
        }
    }

    pub const ROOT: usize = 0;

    pub fn node(&self, id: usize) -> &Node {
        &self.nodes[id]
    }

    /// Add `name` under `/` (the judge's own entries, not counted against
    /// the module).
    pub fn add(&mut self, name: &str, node: Node) -> usize {
        let id = self.nodes.len();
        self.nodes.push(node);
        if let Node::Dir(d) = &mut self.nodes[Self::ROOT] {
            d.entries.insert(name.as_bytes().to_vec(), id);
        }
        id
    }

    /// The node at `path` below `dir`.
    pub fn lookup(&self, dir: usize, path: &[u8]) -> Result<usize, Errno> {
        let (parent, name) = self.parent(dir, path)?;
        match name {
            None => Ok(parent),
            Some(n) => self.child(parent, n).ok_or(errno::NOENT),
        }
    }

    fn child(&self, dir: usize, name: &[u8]) -> Option<usize> {
        match &self.nodes[dir] {
            Node::Dir(d) => d.entries.get(name).copied(),
            Node::File(_) => None,
        }
    }

    /// The directory that holds the last component of `path`, and that
    /// component (`None` when the path names `dir` itself or a parent).
    pub fn parent<'p>(
        &self,
        dir: usize,
        path: &'p [u8],
    ) -> Result<(usize, Option<&'p [u8]>), Errno> {
        if path.is_empty() {
            return Err(errno::NOENT);
        }
        if path.len() > PATH_MAX {
            return Err(errno::NAMETOOLONG);
        }
        if path[0] == b'/' {
            // Paths are relative to a descriptor in WASI.
            return Err(errno::NOTCAPABLE);
        }
        let parts: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
            .collect();
        let mut stack = vec![dir];
        for (i, part) in parts.iter().enumerate() {
            let here = *stack.last().expect("never empty");
            if !matches!(self.nodes[here], Node::Dir(_)) {
                return Err(errno::NOTDIR);
            }
            if *part == b".." {
                if stack.len() == 1 {
                    return Err(errno::NOTCAPABLE);
                }
                stack.pop();
                continue;
            }
            if i + 1 == parts.len() {
                return Ok((here, Some(part)));
            }
            stack.push(self.child(here, part).ok_or(errno::NOENT)?);
        }
        Ok((*stack.last().expect("never empty"), None))
    }

    /// Create an empty file `name` in `dir`, which must be writable.
    pub fn create(&mut self, dir: usize, name: &[u8]) -> Result<usize, Errno> {
        let Node::Dir(d) = &self.nodes[dir] else {
            return Err(errno::NOTDIR);
        };
        if !d.writable {
            return Err(errno::ACCES);
        }
        if self.created >= CREATED_MAX {
            return Err(errno::NOSPC);
        }
        self.created += 1;
        let id = self.nodes.len();
        self.nodes.push(Node::File(FileNode {
            content: Content::Memory(Vec::new()),
            writable: true,
        }));
        if let Node::Dir(d) = &mut self.nodes[dir] {
            d.entries.insert(name.to_vec(), id);
        }
        Ok(id)
    }

    /// A file the module finds in the writable `dir` from its start (a
    /// feedback file an earlier pass left), counted as written.
    pub fn seed(&mut self, dir: usize, name: &[u8], bytes: &[u8]) -> Result<(), Errno> {
        let id = self.create(dir, name)?;
        self.write_at(id, 0, bytes).map(|_| ())
    }

    /// Remove the file `name` from the writable `dir`.
    pub fn unlink(&mut self, dir: usize, name: &[u8]) -> Result<(), Errno> {
        let id = self.child(dir, name).ok_or(errno::NOENT)?;
        let Node::Dir(d) = &self.nodes[dir] else {
            return Err(errno::NOTDIR);
        };
        if !d.writable {
            return Err(errno::ACCES);
        }
        if matches!(self.nodes[id], Node::Dir(_)) {
            return Err(errno::ISDIR);
        }
        if let Node::Dir(d) = &mut self.nodes[dir] {
            d.entries.remove(name);
        }
        // Its node stays (an open descriptor still reads and writes it, as
        // on a host), and so do its bytes in the budget and its place among
        // the files created: a create-and-remove loop ends at ENOSPC
        // instead of growing the table without end.
        Ok(())
    }

    /// Move `from` in `from_dir` to `to` in `to_dir`, both writable,
    /// replacing a file there.
    pub fn rename(
        &mut self,
        from_dir: usize,
        from: &[u8],
        to_dir: usize,
        to: &[u8],
    ) -> Result<(), Errno> {
        let id = self.child(from_dir, from).ok_or(errno::NOENT)?;
        for dir in [from_dir, to_dir] {
            match &self.nodes[dir] {
                Node::Dir(d) if d.writable => {}
                Node::Dir(_) => return Err(errno::ACCES),
                Node::File(_) => return Err(errno::NOTDIR),
            }
        }
        if matches!(self.nodes[id], Node::Dir(_))
            || self
                .child(to_dir, to)
                .is_some_and(|t| matches!(self.nodes[t], Node::Dir(_)))
        {
            return Err(errno::ISDIR);
        }
        if let Node::Dir(d) = &mut self.nodes[from_dir] {
            d.entries.remove(from);
        }
        if let Node::Dir(d) = &mut self.nodes[to_dir] {
            d.entries.insert(to.to_vec(), id);
        }
        Ok(())
    }

    /// Read from file `id` at `offset` into `buf`.
    pub fn read_at(&self, id: usize, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let Node::File(f) = &self.nodes[id] else {
            return Err(errno::ISDIR);
        };
        match &f.content {
            Content::Host(file, len) => {
                let want = (*len).saturating_sub(offset).min(buf.len() as u64) as usize;
                let mut done = 0;
                while done < want {
                    match file.read_at(&mut buf[done..want], offset + done as u64) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => return Err(errno::IO),
                    }
                }
                Ok(done)
            }
            Content::Memory(v) => {
                let start = (offset.min(v.len() as u64)) as usize;
                let n = (v.len() - start).min(buf.len());
                buf[..n].copy_from_slice(&v[start..start + n]);
                Ok(n)
            }
        }
    }

    /// Write `bytes` to file `id` at `offset`, within the byte budget.
    pub fn write_at(&mut self, id: usize, offset: u64, bytes: &[u8]) -> Result<usize, Errno> {
        let end = offset.checked_add(bytes.len() as u64).ok_or(errno::FBIG)?;
        self.resize_for(id, end.max(self.len(id)))?;
        let Node::File(FileNode {
            content: Content::Memory(v),
            ..
        }) = &mut self.nodes[id]
        else {
            unreachable!("resize_for checked it");
        };
        v[offset as usize..end as usize].copy_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Set the size of the writable file `id`.
    pub fn set_len(&mut self, id: usize, len: u64) -> Result<(), Errno> {
        self.resize_for(id, len)
    }

    fn resize_for(&mut self, id: usize, len: u64) -> Result<(), Errno> {
        let now = self.len(id);
        let Node::File(f) = &mut self.nodes[id] else {
            return Err(errno::ISDIR);
        };
        let Content::Memory(v) = &mut f.content else {
            return Err(errno::BADF);
        };
        if !f.writable {
            return Err(errno::BADF);
        }
        if len > now {
            let more = len - now;
            if self.written.saturating_add(more) > self.written_max {
                return Err(errno::NOSPC);
            }
            // The judge's own memory: a failed allocation is the module's
            // ENOSPC, never the judge's abort.
            v.try_reserve_exact((len - now) as usize)
                .map_err(|_| errno::NOSPC)?;
            self.written += more;
            v.resize(len as usize, 0);
        } else {
            self.written -= now - len;
            v.truncate(len as usize);
            // What it gave back leaves the judge too, or a file grown and
            // cut again and again would hold the budget many times over.
            v.shrink_to_fit();
        }
        Ok(())
    }

    /// The most bytes a write at `offset` of file `id` may bring, within
    /// the byte budget: what to copy out of the module before writing.
    pub fn room_at(&self, id: usize, offset: u64) -> u64 {
        let left = self.written_max.saturating_sub(self.written);
        self.len(id).saturating_add(left).saturating_sub(offset)
    }

    pub fn len(&self, id: usize) -> u64 {
        match &self.nodes[id] {
            Node::File(f) => f.content.len(),
            Node::Dir(d) => d.entries.len() as u64,
        }
    }

    /// The bytes of the in-memory file at `path` (from `/`), if there is one.
    pub fn memory_file(&self, path: &str) -> Option<&[u8]> {
        let id = self.lookup(Self::ROOT, path.as_bytes()).ok()?;
        match &self.nodes[id] {
            Node::File(FileNode {
                content: Content::Memory(v),
                ..
            }) => Some(v),
            _ => None,
        }
    }

    /// The files in memory below `dir`, by name (one level: the protocol's
    /// folders are flat).
    pub fn files_in(&self, dir: usize) -> Vec<(&[u8], &[u8])> {
        let Node::Dir(d) = &self.nodes[dir] else {
            return Vec::new();
        };
        d.entries
            .iter()
            .filter_map(|(name, &id)| match &self.nodes[id] {
                Node::File(FileNode {
                    content: Content::Memory(v),
                    ..
                }) => Some((name.as_slice(), v.as_slice())),
                _ => None,
            })
            .collect()
    }
}

/// An open descriptor of the module's.
pub enum Fd {
    Stdin,
    Stdout,
    Stderr,
    Dir {
        node: usize,
        /// The name a preopened directory is announced under.
        preopen: Option<&'static str>,
    },
    File {
        node: usize,
        pos: u64,
        read: bool,
        write: bool,
        append: bool,
    },
}
