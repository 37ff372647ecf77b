//! What the host offers of the directories and files every root shows,
//! looked at without following links: the input of a root's plan, and the
//! key of the template built from it (see template.rs).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{src_err, PlanError};

/// Directories of the host shown read-only when they exist (symlinks, as on
/// merged-/usr systems, are recreated as symlinks).
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// The pieces of /etc that dynamic binaries and interpreters look at.
const ETC_PIECES: &[&str] = &["/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"];
/// Folders of /etc named so are shown too: Debian's JDKs keep their
/// configuration there (`/etc/java-17-openjdk`, symlinked from the JDK's
/// `conf/`), and a JVM refuses to start without it.
const ETC_FOLDERS: &[(&str, &str)] = &[("java-", "-openjdk")];

/// One shown path as the host has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Shown by a bind mount: which file it is, so that a replaced one
    /// (ldconfig renames a new /etc/ld.so.cache into place) is noticed.
    Bind { dev: u64, ino: u64 },
    /// Recreated as a symlink with this target.
    Link(PathBuf),
}

/// The shown paths of this host, in order; missing ones are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub system: Vec<(PathBuf, Entry)>,
    pub etc: Vec<(PathBuf, Entry)>,
    /// Mounts at or below a bound path, as (mount id, mount point): a
    /// template shows them as they were when it was built, so a mount
    /// made or removed there since must give a new key.
    pub submounts: Vec<(u64, PathBuf)>,
}

impl Layout {
    pub fn probe() -> Result<Layout, PlanError> {
        let mut layout = Layout::probe_at(Path::new("/"))?;
        let bound: Vec<&PathBuf> = layout
            .system
            .iter()
            .chain(&layout.etc)
            .filter(|(_, e)| matches!(e, Entry::Bind { .. }))
            .map(|(p, _)| p)
            .collect();
        let submounts = crate::sandbox::mountinfo::host()
            .into_iter()
            .filter(|m| bound.iter().any(|b| m.point.starts_with(b)))
            .map(|m| (m.id, m.point))
            .collect();
        layout.submounts = submounts;
        Ok(layout)
    }

    /// The layout of the tree below `root` (a test's fake host); the paths
    /// recorded are those inside it.
    fn probe_at(root: &Path) -> Result<Layout, PlanError> {
        let look = |path: &str, dirs_only: bool| -> Result<Option<Entry>, PlanError> {
            let host = root.join(path.trim_start_matches('/'));
            let meta = match std::fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(src_err(&host, e)),
            };
            Ok(if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&host).map_err(|e| src_err(&host, e))?;
                Some(Entry::Link(target))
            } else if meta.is_dir() || !dirs_only {
                Some(Entry::Bind {
                    dev: meta.dev(),
                    ino: meta.ino(),
                })
            } else {
                None
            })
        };
        let mut layout = Layout {
            system: Vec::new(),
            etc: Vec::new(),
            submounts: Vec::new(),
        };
        for dir in SYSTEM_DIRS {
            if let Some(e) = look(dir, true)? {
                layout.system.push((PathBuf::from(dir), e));
            }
        }
        for piece in ETC_PIECES {
            if let Some(e) = look(piece, false)? {
                layout.etc.push((PathBuf::from(piece), e));
            }
        }
        let mut folders: Vec<String> = std::fs::read_dir(root.join("etc"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| {
                        ETC_FOLDERS
                            .iter()
                            .any(|(a, b)| n.starts_with(a) && n.ends_with(b))
                    })
                    .collect()
            })
            .unwrap_or_default();
        folders.sort();
        for name in folders {
            let path = format!("/etc/{name}");
            if let Some(e) = look(&path, true)? {
                layout.etc.push((PathBuf::from(path), e));
            }
        }
        Ok(layout)
    }

    /// Whether `path` (inside the root) lies in a shown system directory,
    /// directly or through one of the recreated links.
    pub fn shows(&self, path: &Path) -> bool {
        self.system.iter().any(|(d, _)| path.starts_with(d))
    }

    /// A name for what a template built from this layout holds: every
    /// entry, plus `extra` (the format of the template's own files). FNV-1a,
    /// stable across builds, so that judges of one version share templates.
    pub fn key(&self, extra: &[u64]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            // A separator, so that ("ab", "c") and ("a", "bc") differ.
            h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        };
        for x in extra {
            eat(&x.to_le_bytes());
        }
        use std::os::unix::ffi::OsStrExt;
        for (path, entry) in self.system.iter().chain(&self.etc) {
            eat(path.as_os_str().as_bytes());
            match entry {
                Entry::Bind { dev, ino } => {
                    eat(b"bind");
                    eat(&dev.to_le_bytes());
                    eat(&ino.to_le_bytes());
                }
                Entry::Link(target) => {
                    eat(b"link");
                    eat(target.as_os_str().as_bytes());
                }
            }
        }
        for (id, point) in &self.submounts {
            eat(b"mount");
            eat(&id.to_le_bytes());
            eat(point.as_os_str().as_bytes());
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_host() -> PathBuf {
        let root = std::env::temp_dir().join(format!(
            "judge-layout-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::create_dir_all(root.join("etc/alternatives")).unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        std::fs::write(root.join("etc/ld.so.cache"), "old").unwrap();
        // A file where a system directory would be is not shown.
        std::fs::write(root.join("lib32"), "").unwrap();
        root
    }

    #[test]
    fn the_layout_records_binds_links_and_skips_the_rest() {
        let root = fake_host();
        let l = Layout::probe_at(&root).unwrap();
        let names: Vec<_> = l.system.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(names, ["/usr", "/bin"]);
        assert_eq!(l.system[1].1, Entry::Link(PathBuf::from("usr/bin")));
        let etc: Vec<_> = l.etc.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(etc, ["/etc/ld.so.cache", "/etc/alternatives"]);
        assert!(l.shows(Path::new("/bin/sh")) && l.shows(Path::new("/usr")));
        assert!(!l.shows(Path::new("/usrx/a")) && !l.shows(Path::new("/etc/ld.so.cache")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_mount_below_a_bound_directory_changes_the_key() {
        let root = fake_host();
        let mut l = Layout::probe_at(&root).unwrap();
        let first = l.key(&[1]);
        l.submounts.push((77, PathBuf::from("/usr/local/share")));
        let second = l.key(&[1]);
        assert_ne!(first, second);
        l.submounts[0].0 = 78;
        assert_ne!(second, l.key(&[1]), "the same point mounted again");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_replaced_file_or_link_changes_the_key() {
        let root = fake_host();
        let key = |root: &Path| Layout::probe_at(root).unwrap().key(&[1]);
        let first = key(&root);
        assert_eq!(first, key(&root), "the same host, the same key");
        assert_ne!(first, Layout::probe_at(&root).unwrap().key(&[2]));

        // As ldconfig does: a new file renamed over the old one.
        std::fs::write(root.join("etc/ld.so.cache.new"), "new").unwrap();
        std::fs::rename(
            root.join("etc/ld.so.cache.new"),
            root.join("etc/ld.so.cache"),
        )
        .unwrap();
        let second = key(&root);
        assert_ne!(first, second);

        std::fs::remove_file(root.join("bin")).unwrap();
        std::os::unix::fs::symlink("usr/sbin", root.join("bin")).unwrap();
        assert_ne!(second, key(&root));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
