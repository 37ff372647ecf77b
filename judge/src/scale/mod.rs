//! Judging on many machines: jobs on Redis Streams, workers that take
//! them through a consumer group, results committed once. Built with the
//! `redis` feature.
//!
//! - [`store`]: packages and submissions as content-addressed blobs, and
//!   the worker's local cache of them;
//! - [`jobs`]: a job, and putting one in a stream (`judge submit`);
//! - [`scripts`]: the Lua scripts that make each step atomic (enqueue,
//!   renew a lease, commit a result, dead-letter a job);
//! - [`worker`]: `judge worker`: slots, leases, reclaiming, committing;
//! - [`status`]: results and the queue as an operator reads them;
//! - [`reply`]: the stream commands' replies, read.
//!
//! The keys, all under one prefix (`judge` by default):
//! `P:blob:SHA` the bytes of a file; `P:package:ID` a package's manifest
//! (ID is the SHA-256 of the manifest); `P:jobs:STREAM` a job stream, read
//! by the consumer group `P-workers`; `P:jobid:JOB` the stream entry of a
//! job id (enqueueing twice returns the first); `P:result:JOB` the result;
//! `P:results` a stream of the job ids with a result, in commit order;
//! `P:dead` the dead letters; `P:attempt:JOB` the last worker to take a
//! job; `P:workers` the workers, by when each was last seen.

pub mod jobs;
pub mod reply;
pub mod scripts;
pub mod status;
pub mod store;
pub mod worker;

/// The names of the keys under a prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    pub prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_string(),
        }
    }
    pub fn blob(&self, sha: &str) -> String {
        format!("{}:blob:{sha}", self.prefix)
    }
    pub fn package(&self, id: &str) -> String {
        format!("{}:package:{id}", self.prefix)
    }
    pub fn stream(&self, name: &str) -> String {
        format!("{}:jobs:{name}", self.prefix)
    }
    pub fn group(&self) -> String {
        format!("{}-workers", self.prefix)
    }
    pub fn job_id(&self, job: &str) -> String {
        format!("{}:jobid:{job}", self.prefix)
    }
    pub fn result(&self, job: &str) -> String {
        format!("{}:result:{job}", self.prefix)
    }
    pub fn results(&self) -> String {
        format!("{}:results", self.prefix)
    }
    pub fn dead(&self) -> String {
        format!("{}:dead", self.prefix)
    }
    pub fn attempt(&self, job: &str) -> String {
        format!("{}:attempt:{job}", self.prefix)
    }
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }
}

/// Milliseconds since the epoch, as the results carry times.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Make the consumer group of a stream (and the stream), if missing.
pub fn ensure_group(
    con: &mut redis::Connection,
    keys: &Keys,
    stream: &str,
) -> redis::RedisResult<()> {
    let made: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(keys.stream(stream))
        .arg(keys.group())
        .arg("0")
        .arg("MKSTREAM")
        .query(con);
    match made {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}
