//! The steps that must be atomic, as Lua scripts run by Redis: between
//! two workers, and between a worker and a caller, each step either
//! happens whole or not at all.

use std::sync::OnceLock;

use redis::Script;

use super::jobs::{Enqueued, Job};
use super::Keys;

/// Enqueue a job unless its id was enqueued before (return the first
/// entry) or the stream is full. The id's key is set with the entry, so
/// a retried submit never adds a second entry; but an id whose entry is
/// gone without a result (its stream deleted) is enqueued again.
const ENQUEUE: &str = r#"
local first = redis.call('GET', KEYS[1])
if first then
  if redis.call('EXISTS', KEYS[3]) == 1 or #redis.call('XRANGE', KEYS[2], first, first) == 1 then
    return {0, first}
  end
end
if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[2]) then return {2, ''} end
local id = redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
redis.call('SET', KEYS[1], id)
return {1, id}
"#;

/// Whether `consumer` holds `entry`: the pending entry's owner.
const OWNER: &str = r#"
local function owns(stream, group, entry, consumer)
  local p = redis.call('XPENDING', stream, group, entry, entry, 1)
  return #p == 1 and p[1][2] == consumer
end
"#;

/// Renew a lease: reset the entry's idle time (XCLAIM JUSTID counts no
/// delivery), only while this worker still holds it. 0: lost.
const RENEW: &str = r#"
if not owns(KEYS[1], ARGV[1], ARGV[3], ARGV[2]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"#;

/// Commit a result: only while this worker holds the entry (a worker
/// thought dead, whose job another took, publishes nothing); the result
/// stored only if none is (the first wins), announced on the results
/// stream, the entry acknowledged and deleted. 0: not ours any more,
/// 1: published, 2: a result was there already (acknowledged anyway).
const COMMIT: &str = r#"
if not owns(KEYS[1], ARGV[1], ARGV[3], ARGV[2]) then return 0 end
local stored = redis.call('SET', KEYS[2], ARGV[5], 'NX')
if stored then redis.call('XADD', KEYS[3], '*', 'job', ARGV[4]) end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if stored then return 1 else return 2 end
"#;

/// Dead-letter an entry still idle past the lease: a JE result (unless one
/// is stored), announced, the entry copied to the dead letters,
/// acknowledged and deleted. 0: it moved meanwhile (taken or done).
const DEAD_LETTER: &str = r#"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[2], ARGV[2], 1)
if #p == 0 then return 0 end
local stored = redis.call('SET', KEYS[2], ARGV[5], 'NX')
if stored then redis.call('XADD', KEYS[3], '*', 'job', ARGV[4]) end
redis.call('XADD', KEYS[4], '*', 'job', ARGV[4], 'stream', KEYS[1], 'entry', ARGV[2], 'deliveries', p[1][4])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
"#;

fn script(cell: &'static OnceLock<Script>, body: &str, with_owner: bool) -> &'static Script {
    cell.get_or_init(|| {
        if with_owner {
            Script::new(&format!("{OWNER}{body}"))
        } else {
            Script::new(body)
        }
    })
}

pub fn enqueue(
    con: &mut redis::Connection,
    keys: &Keys,
    stream: &str,
    job: &Job,
    cap: u64,
) -> redis::RedisResult<Enqueued> {
    static S: OnceLock<Script> = OnceLock::new();
    let json = serde_json::to_string(job).expect("a job encodes");
    let (kind, entry): (i64, String) = script(&S, ENQUEUE, false)
        .key(keys.job_id(&job.id))
        .key(keys.stream(stream))
        .key(keys.result(&job.id))
        .arg(json)
        .arg(cap)
        .invoke(con)?;
    Ok(match kind {
        0 => Enqueued::Already(entry),
        1 => Enqueued::Added(entry),
        _ => Enqueued::Full,
    })
}

/// Renew the lease on `entry`; false when another worker holds it now.
pub fn renew(
    con: &mut redis::Connection,
    keys: &Keys,
    stream_key: &str,
    consumer: &str,
    entry: &str,
) -> redis::RedisResult<bool> {
    static S: OnceLock<Script> = OnceLock::new();
    let r: i64 = script(&S, RENEW, true)
        .key(stream_key)
        .arg(keys.group())
        .arg(consumer)
        .arg(entry)
        .invoke(con)?;
    Ok(r == 1)
}

/// How a commit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Another worker holds the entry now: nothing was published.
    Lost,
    Published,
    /// A result was stored before; this one was dropped.
    AlreadyThere,
}

pub fn commit(
    con: &mut redis::Connection,
    keys: &Keys,
    stream_key: &str,
    consumer: &str,
    entry: &str,
    job_id: &str,
    result: &str,
) -> redis::RedisResult<Committed> {
    static S: OnceLock<Script> = OnceLock::new();
    let r: i64 = script(&S, COMMIT, true)
        .key(stream_key)
        .key(keys.result(job_id))
        .key(keys.results())
        .arg(keys.group())
        .arg(consumer)
        .arg(entry)
        .arg(job_id)
        .arg(result)
        .invoke(con)?;
    Ok(match r {
        0 => Committed::Lost,
        1 => Committed::Published,
        _ => Committed::AlreadyThere,
    })
}

/// Dead-letter `entry` if it is still idle for `idle_ms`; false if it moved.
pub fn dead_letter(
    con: &mut redis::Connection,
    keys: &Keys,
    stream_key: &str,
    entry: &str,
    idle_ms: u64,
    job_id: &str,
    result: &str,
) -> redis::RedisResult<bool> {
    static S: OnceLock<Script> = OnceLock::new();
    let r: i64 = script(&S, DEAD_LETTER, false)
        .key(stream_key)
        .key(keys.result(job_id))
        .key(keys.results())
        .key(keys.dead())
        .arg(keys.group())
        .arg(entry)
        .arg(idle_ms)
        .arg(job_id)
        .arg(result)
        .invoke(con)?;
    Ok(r == 1)
}
