//! The program's user: one of its own per running session.
//!
//! Runs that shared one uid could reach each other through everything the
//! kernel keeps per user: inotify instances and watches, pipe buffer
//! quotas, RLIMIT_NPROC, message queues. As root the judge therefore gives
//! each running session a uid of its own from a range (as isolate gives
//! each box one), claimed with a lock file under /run/judge/uids, so that
//! sessions running side by side never share one; a finished session's uid
//! is free again. Without root the program keeps the judge's own uid
//! (mapped to itself), the only one a user namespace can map unaided.

use std::fs::File;
use std::path::Path;

/// The first uid (and gid) given to programs; see [`claim`].
pub const FIRST_UID: u32 = 60000;
/// How many sessions may hold a uid of their own at once; more share the
/// last one.
pub const UIDS: u32 = 256;
const LOCKS: &str = "/run/judge/uids";

/// A uid held for one session; free again when dropped.
#[derive(Debug)]
pub struct UidClaim {
    pub uid: u32,
    _lock: Option<File>,
}

/// A uid no other running session of this machine holds, if one is free.
pub fn claim() -> UidClaim {
    let _ = std::fs::create_dir_all(LOCKS);
    let start = std::process::id() % UIDS;
    for i in 0..UIDS {
        let n = (start + i) % UIDS;
        if let Ok(lock) = super::cpus::try_lock(Path::new(LOCKS).join(n.to_string())) {
            return UidClaim {
                uid: FIRST_UID + n,
                _lock: Some(lock),
            };
        }
    }
    UidClaim {
        uid: FIRST_UID + UIDS - 1,
        _lock: None,
    }
}
