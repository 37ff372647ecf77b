//! The host's mount table, /proc/self/mountinfo, parsed in one place for
//! everyone who looks at it (cgroup discovery, the root template's key,
//! `judge doctor`).

use std::path::PathBuf;

/// One line of the table (proc_pid_mountinfo(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    /// The mounted directory's path within its file system.
    pub root: String,
    pub point: PathBuf,
    pub fstype: String,
    /// The file system's own options (for cgroup v1, its controllers).
    pub super_options: String,
}

pub fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            // id parent major:minor root point options [optional...] - fstype source superopts
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            if left.len() < 5 || right.len() < 3 {
                return None;
            }
            Some(Mount {
                id: left[0].parse().ok()?,
                root: unescape(left[3]),
                point: PathBuf::from(unescape(left[4])),
                fstype: right[0].to_string(),
                super_options: right[2].to_string(),
            })
        })
        .collect()
}

/// The table as it is now, read again only when the kernel says it
/// changed: mountinfo polls readable-with-priority on every change, so a
/// caller that looks at it per session pays one poll.
pub fn host() -> Vec<Mount> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    static CACHE: std::sync::Mutex<Option<(std::fs::File, Vec<Mount>)>> =
        std::sync::Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((file, mounts)) = cache.as_ref() {
        let mut p = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        if unsafe { libc::poll(&mut p, 1, 0) } == 0 {
            return mounts.clone();
        }
    }
    let mut file = match cache.take() {
        Some((f, _)) => f,
        None => match std::fs::File::open("/proc/self/mountinfo") {
            Ok(f) => f,
            Err(_) => return Vec::new(),
        },
    };
    let mut text = String::new();
    if file.rewind().is_err() || file.read_to_string(&mut text).is_err() {
        return Vec::new();
    }
    let mounts = parse(&text);
    *cache = Some((file, mounts.clone()));
    mounts
}

/// mountinfo writes space, tab, newline and backslash as \ooo.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = |c: &u8| (b'0'..=b'7').contains(c);
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(octal) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_parsed_and_unescaped() {
        let text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    45 27 0:4 net:[4026532178] /run/judge/net\\040ns rw - nsfs nsfs rw\n\
                    50 52 254:0 /x /usr/local/a\\134b ro shared:1 - ext4 /dev/vda rw,discard\n\
                    not a mount line\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        assert_eq!(
            (m[0].id, m[0].point.to_str().unwrap(), m[0].fstype.as_str()),
            (22, "/proc", "proc")
        );
        assert_eq!(
            (m[1].point.to_str().unwrap(), m[1].fstype.as_str()),
            ("/run/judge/net ns", "nsfs")
        );
        assert_eq!(
            (m[2].root.as_str(), m[2].point.to_str().unwrap()),
            ("/x", "/usr/local/a\\b")
        );
        assert_eq!(m[2].super_options, "rw,discard");
    }
}
