//! Acting with the file-system rights of the user who started the judge,
//! for the files a caller names (sources, answers, output files): a judge
//! installed set-uid must not open for them what they could not open.

/// The judge may run with more rights than whoever asked for the run (a
/// set-uid install): while this lives, the calling thread opens files with
/// the real user's and group's rights (setfsuid and setfsgid are per
/// thread), so every folder on the way is checked as that user would be.
/// Started by root itself, the two are the same and nothing changes.
pub struct AsCaller(Option<(libc::uid_t, libc::gid_t)>);

impl AsCaller {
    pub fn enter() -> AsCaller {
        // SAFETY: no preconditions; the fs ids change this thread only.
        unsafe {
            let (uid, euid) = (libc::getuid(), libc::geteuid());
            let (gid, egid) = (libc::getgid(), libc::getegid());
            if uid == euid && gid == egid {
                return AsCaller(None);
            }
            let old_gid = libc::setfsgid(gid) as libc::gid_t;
            let old_uid = libc::setfsuid(uid) as libc::uid_t;
            AsCaller(Some((old_uid, old_gid)))
        }
    }
}

impl Drop for AsCaller {
    fn drop(&mut self) {
        if let Some((uid, gid)) = self.0 {
            // SAFETY: as above, back to the ids this thread had.
            unsafe {
                libc::setfsuid(uid);
                libc::setfsgid(gid);
            }
        }
    }
}
