//! `judge worker`: take jobs from the streams through the consumer group,
//! judge each in a slot as `judge problem` would, and commit its result
//! once.
//!
//! Threads: one reader (this one: reads jobs while a slot is free, renews
//! the leases on the jobs it holds, reclaims jobs whose worker went
//! quiet), one thread per slot (judges), one committer (publishes results,
//! retrying until Redis takes them), one for signals. Each talks to Redis
//! on a connection of its own.
//!
//! A lease is the pending entry's idle time: renewed every lease/3 while
//! this worker still holds the entry; an entry idle past the lease is any
//! worker's to claim. An entry delivered `max_deliveries` times without a
//! result is dead-lettered with a JE result.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use redis::Value;
use serde_json::json;

use super::jobs::Job;
use super::reply::{claimed, entries, pending, Fields, Pending};
use super::scripts::{self, Committed};
use super::store::{self, Cache, FetchError};
use super::{ensure_group, now_ms, Keys};
use crate::problem::{self, language::Languages, verify};
use crate::IsolationLevel;

#[derive(Debug, Clone)]
pub struct Options {
    pub redis: String,
    pub keys: Keys,
    /// Read round-robin, so that one long queue starves no other.
    pub streams: Vec<String>,
    /// Consumer name: stable across restarts, so that a restarted worker
    /// finds its own pending jobs first. One per machine (or per worker).
    pub name: String,
    pub slots: usize,
    pub lease: Duration,
    pub max_deliveries: u64,
    pub cache: PathBuf,
    /// Bytes of blobs the cache keeps before the least recently used
    /// packages go.
    pub cache_max: u64,
    pub isolation: IsolationLevel,
}

/// A job this worker holds: renewed until committed.
#[derive(Debug, Clone)]
struct Held {
    stream_key: String,
    job_id: String,
}

/// A job taken, for a slot.
struct Taken {
    stream: String,
    entry: String,
    deliveries: u64,
    job: Result<Job, String>,
}

/// A result for the committer.
struct Done {
    stream_key: String,
    entry: String,
    job_id: String,
    result: String,
}

struct Shared {
    opts: Options,
    /// Entry id -> the job.
    held: Mutex<HashMap<String, Held>>,
    /// Jobs taken and not yet started; slots wait on `turn`.
    queue: Mutex<VecDeque<Taken>>,
    turn: Condvar,
    /// Slots judging now.
    busy: Mutex<usize>,
    freed: Condvar,
    stopping: AtomicBool,
    /// A package's time limit, once computed (from its accepted
    /// submissions, when it gives none: costly to do per job).
    time_limits: Mutex<HashMap<String, verify::TimeLimit>>,
}

/// Run until SIGTERM or SIGINT (finish the jobs held, commit, return Ok);
/// a second one ends the process at once, committing nothing (the jobs
/// are delivered again elsewhere).
pub fn run(opts: Options) -> Result<(), String> {
    let client = redis::Client::open(opts.redis.as_str()).map_err(|e| format!("--redis: {e}"))?;
    let cache =
        Cache::open(&opts.cache).map_err(|e| format!("--cache {}: {e}", opts.cache.display()))?;
    block_stop_signals();
    let shared = Arc::new(Shared {
        opts: opts.clone(),
        held: Mutex::new(HashMap::new()),
        queue: Mutex::new(VecDeque::new()),
        turn: Condvar::new(),
        busy: Mutex::new(0),
        freed: Condvar::new(),
        stopping: AtomicBool::new(false),
        time_limits: Mutex::new(HashMap::new()),
    });
    {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || wait_for_signals(&shared))
            .map_err(|e| e.to_string())?;
    }
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let committer = {
        let shared = shared.clone();
        let client = client.clone();
        std::thread::Builder::new()
            .name("committer".into())
            .spawn(move || commit_all(&shared, &client, done_rx))
            .map_err(|e| e.to_string())?
    };
    let mut slots = Vec::new();
    for i in 0..opts.slots {
        let (shared, client, cache, done) = (
            shared.clone(),
            client.clone(),
            cache.clone(),
            done_tx.clone(),
        );
        slots.push(
            std::thread::Builder::new()
                .name(format!("slot-{i}"))
                .spawn(move || slot(&shared, &client, &cache, &done))
                .map_err(|e| e.to_string())?,
        );
    }
    drop(done_tx);
    read_loop(&shared, &client);
    for s in slots {
        let _ = s.join();
    }
    let _ = committer.join();
    Ok(())
}

/// SIGTERM and SIGINT are taken by the signal thread alone.
fn block_stop_signals() {
    // SAFETY: sigset manipulation on local plain data.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn wait_for_signals(shared: &Shared) {
    // SAFETY: as above; sigwait fills `sig`.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        let mut sig = 0;
        let mut seen = 0;
        while libc::sigwait(&set, &mut sig) == 0 {
            seen += 1;
            if seen == 1 {
                eprintln!("judge worker: stopping: finishing the jobs held (again to stop now)");
                shared.stopping.store(true, Ordering::SeqCst);
                shared.turn.notify_all();
                shared.freed.notify_all();
            } else {
                eprintln!("judge worker: stopping now; the jobs held will be delivered again");
                // The sessions die with this process (their init's
                // parent-death signal).
                libc::_exit(1);
            }
        }
    }
}

/// A connection, retried with backoff while Redis is away; None when
/// stopping meanwhile.
fn connect(shared: &Shared, client: &redis::Client) -> Option<redis::Connection> {
    let mut wait = Duration::from_millis(50);
    loop {
        match open(client) {
            Ok(c) => return Some(c),
            Err(e) => {
                eprintln!("judge worker: redis: {e}; again in {} ms", wait.as_millis());
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
                if shared.stopping.load(Ordering::SeqCst) && shared.held.lock().unwrap().is_empty()
                {
                    return None;
                }
            }
        }
    }
}

/// How long one call to Redis may take before its connection is dropped
/// and made again: a link that went silent (no reset) must not hold a
/// thread forever. Blocking reads add their own wait.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A connection whose calls time out.
fn open(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let c = client.get_connection_with_timeout(CALL_TIMEOUT)?;
    c.set_read_timeout(Some(CALL_TIMEOUT))?;
    c.set_write_timeout(Some(CALL_TIMEOUT))?;
    Ok(c)
}

/// Read, renew, reclaim, until stopping and nothing is held.
fn read_loop(shared: &Shared, client: &redis::Client) {
    let opts = &shared.opts;
    let mut con = None::<redis::Connection>;
    let mut next_tick = Instant::now();
    let mut next_stream = 0;
    // First this worker's own pending entries (a restart after a crash).
    let mut own_first = true;
    let mut groups_lost = false;
    loop {
        if shared.stopping.load(Ordering::SeqCst) && shared.held.lock().unwrap().is_empty() {
            shared.turn.notify_all();
            return;
        }
        let c = match &mut con {
            Some(c) => c,
            None => match connect(shared, client) {
                Some(c) => con.insert(c),
                None => {
                    shared.turn.notify_all();
                    return;
                }
            },
        };
        let step = (|| -> redis::RedisResult<()> {
            if own_first {
                for s in &opts.streams {
                    ensure_group(c, &opts.keys, s)?;
                }
                for s in &opts.streams {
                    reclaim_own(shared, c, s)?;
                }
                own_first = false;
            }
            if groups_lost {
                for s in &opts.streams {
                    ensure_group(c, &opts.keys, s)?;
                }
                groups_lost = false;
            }
            if Instant::now() >= next_tick {
                tick(shared, c)?;
                next_tick = Instant::now() + opts.lease / 3;
            }
            if shared.stopping.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
                return Ok(());
            }
            let free = free_slots(shared);
            if free == 0 {
                // Until a slot frees or the next renewal is due.
                let busy = shared.busy.lock().unwrap();
                let wait = next_tick.saturating_duration_since(Instant::now());
                let _ = shared.freed.wait_timeout(busy, wait);
                return Ok(());
            }
            // Each stream in turn, without waiting; then wait on all.
            for k in 0..opts.streams.len() {
                let s = &opts.streams[(next_stream + k) % opts.streams.len()];
                let got = read(c, shared, std::slice::from_ref(s), free, None)?;
                if got > 0 {
                    next_stream = (next_stream + k + 1) % opts.streams.len();
                    return Ok(());
                }
            }
            let wait = next_tick
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(500));
            read(c, shared, &opts.streams, 1, Some(wait))?;
            Ok(())
        })();
        if let Err(e) = step {
            if e.code() == Some("NOGROUP") {
                // A group (or a stream) was deleted: made again from the
                // start of the stream, nothing skipped. Only that: this
                // worker's other entries are still its own.
                groups_lost = true;
            } else {
                eprintln!("judge worker: redis: {e}");
                con = None;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn free_slots(shared: &Shared) -> usize {
    let busy = *shared.busy.lock().unwrap();
    let queued = shared.queue.lock().unwrap().len();
    shared.opts.slots.saturating_sub(busy + queued)
}

/// XREADGROUP new entries (">") of `streams`, at most `count` each;
/// waiting up to `block` if given. Returns how many were taken.
fn read(
    c: &mut redis::Connection,
    shared: &Shared,
    streams: &[String],
    count: usize,
    block: Option<Duration>,
) -> redis::RedisResult<usize> {
    let opts = &shared.opts;
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(opts.keys.group())
        .arg(&opts.name)
        .arg("COUNT")
        .arg(count);
    if let Some(b) = block {
        cmd.arg("BLOCK").arg(b.as_millis() as u64);
        c.set_read_timeout(Some(b + Duration::from_secs(5)))?;
    }
    cmd.arg("STREAMS");
    for s in streams {
        cmd.arg(opts.keys.stream(s));
    }
    for _ in streams {
        cmd.arg(">");
    }
    let v: redis::RedisResult<Value> = cmd.query(c);
    if block.is_some() {
        c.set_read_timeout(Some(CALL_TIMEOUT))?;
    }
    let v = v?;
    let mut n = 0;
    for (key, entry, fields) in entries(&v) {
        let stream = stream_name(&opts.keys, &key);
        take(shared, c, stream, entry, fields)?;
        n += 1;
    }
    Ok(n)
}

/// Hold an entry and queue it for a slot, with its delivery count.
fn take(
    shared: &Shared,
    c: &mut redis::Connection,
    stream: String,
    entry: String,
    fields: Fields,
) -> redis::RedisResult<()> {
    let key = shared.opts.keys.stream(&stream);
    let deliveries = pending_of(c, &shared.opts.keys, &key, &entry)?.map_or(1, |p| p.deliveries);
    let job = match fields.as_ref().and_then(|f| f.get("job")) {
        Some(text) => {
            serde_json::from_str::<Job>(text).map_err(|e| format!("the job is not one: {e}"))
        }
        None => Err("the entry holds no job".to_string()),
    };
    let job_id = job
        .as_ref()
        .map_or_else(|_| format!("entry {entry}"), |j| j.id.clone());
    shared.held.lock().unwrap().insert(
        entry.clone(),
        Held {
            stream_key: key,
            job_id,
        },
    );
    shared.queue.lock().unwrap().push_back(Taken {
        stream,
        entry,
        deliveries,
        job,
    });
    shared.turn.notify_one();
    Ok(())
}

/// Every lease/3: renew the leases held, say this worker is alive,
/// reclaim entries idle past the lease (dead-lettering those delivered
/// too often).
fn tick(shared: &Shared, c: &mut redis::Connection) -> redis::RedisResult<()> {
    let opts = &shared.opts;
    let held: Vec<(String, Held)> = shared
        .held
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (entry, h) in held {
        if !scripts::renew(c, &opts.keys, &h.stream_key, &opts.name, &entry)? {
            // Taken by another worker (this one was thought dead): its
            // result will not be published; stop renewing.
            eprintln!(
                "judge worker: lost the lease on {} (job {})",
                entry, h.job_id
            );
            shared.held.lock().unwrap().remove(&entry);
        }
    }
    let _: () = redis::cmd("ZADD")
        .arg(opts.keys.workers())
        .arg(now_ms())
        .arg(&opts.name)
        .query(c)?;
    if shared.stopping.load(Ordering::SeqCst) {
        return Ok(());
    }
    let lease_ms = opts.lease.as_millis() as u64;
    for s in &opts.streams {
        let key = opts.keys.stream(s);
        let v: Value = redis::cmd("XPENDING")
            .arg(&key)
            .arg(opts.keys.group())
            .arg("IDLE")
            .arg(lease_ms)
            .arg("-")
            .arg("+")
            .arg(64)
            .query(c)?;
        for p in pending(&v) {
            if p.deliveries >= opts.max_deliveries {
                dead_letter(shared, c, s, &p, lease_ms)?;
                continue;
            }
            if free_slots(shared) == 0 {
                continue;
            }
            let v: Value = redis::cmd("XCLAIM")
                .arg(&key)
                .arg(opts.keys.group())
                .arg(&opts.name)
                .arg(lease_ms)
                .arg(&p.entry)
                .query(c)?;
            for (entry, fields) in claimed(&v) {
                take(shared, c, s.clone(), entry, fields)?;
            }
        }
    }
    Ok(())
}

/// At start: the entries this worker's name held when it died, claimed
/// again (a new delivery, counted) or, delivered too often, dead-lettered.
fn reclaim_own(shared: &Shared, c: &mut redis::Connection, stream: &str) -> redis::RedisResult<()> {
    let opts = &shared.opts;
    let key = opts.keys.stream(stream);
    let v: Value = redis::cmd("XPENDING")
        .arg(&key)
        .arg(opts.keys.group())
        .arg("-")
        .arg("+")
        .arg(10_000)
        .arg(&opts.name)
        .query(c)?;
    for p in pending(&v) {
        if shared.held.lock().unwrap().contains_key(&p.entry) {
            continue;
        }
        if p.deliveries >= opts.max_deliveries {
            dead_letter(shared, c, stream, &p, 0)?;
            continue;
        }
        let v: Value = redis::cmd("XCLAIM")
            .arg(&key)
            .arg(opts.keys.group())
            .arg(&opts.name)
            .arg(0)
            .arg(&p.entry)
            .query(c)?;
        for (entry, fields) in claimed(&v) {
            take(shared, c, stream.to_string(), entry, fields)?;
        }
    }
    Ok(())
}

/// Give up on an entry delivered too often: a JE result naming the last
/// worker that took it, the entry in the dead letters.
fn dead_letter(
    shared: &Shared,
    c: &mut redis::Connection,
    stream: &str,
    p: &Pending,
    idle_ms: u64,
) -> redis::RedisResult<()> {
    let opts = &shared.opts;
    let key = opts.keys.stream(stream);
    let job_id = job_id_of(c, &key, &p.entry)?;
    let last: Option<String> = redis::cmd("GET").arg(opts.keys.attempt(&job_id)).query(c)?;
    let result = json!({
        "job": { "id": job_id, "stream": stream, "deliveries": p.deliveries, "dead_letter": true },
        "verdict": "JE",
        "message": format!(
            "delivered {} times without a result; the last worker to take it: {}",
            p.deliveries,
            last.as_deref().unwrap_or("unknown")
        ),
    });
    scripts::dead_letter(
        c,
        &opts.keys,
        &key,
        &p.entry,
        idle_ms,
        &job_id,
        &result.to_string(),
    )?;
    Ok(())
}

/// The job id of an entry (its job's id), or the entry's own id.
fn job_id_of(c: &mut redis::Connection, key: &str, entry: &str) -> redis::RedisResult<String> {
    let v: Value = redis::cmd("XRANGE")
        .arg(key)
        .arg(entry)
        .arg(entry)
        .query(c)?;
    Ok(claimed(&v)
        .into_iter()
        .next()
        .and_then(|(_, f)| f?.get("job").cloned())
        .and_then(|j| serde_json::from_str::<Job>(&j).ok())
        .map_or_else(|| format!("entry {entry}"), |j| j.id))
}

/// One slot: judge the jobs queued for it, one at a time.
fn slot(shared: &Shared, client: &redis::Client, cache: &Cache, done: &mpsc::Sender<Done>) {
    let mut con = None::<redis::Connection>;
    loop {
        let taken = {
            let mut q = shared.queue.lock().unwrap();
            loop {
                if let Some(t) = q.pop_front() {
                    *shared.busy.lock().unwrap() += 1;
                    break t;
                }
                if shared.stopping.load(Ordering::SeqCst) && shared.held.lock().unwrap().is_empty()
                {
                    return;
                }
                q = shared
                    .turn
                    .wait_timeout(q, Duration::from_millis(200))
                    .unwrap()
                    .0;
            }
        };
        let stream_key = shared.opts.keys.stream(&taken.stream);
        let entry = taken.entry.clone();
        let job_id = shared
            .held
            .lock()
            .unwrap()
            .get(&entry)
            .map(|h| h.job_id.clone());
        let outcome = judge_job(shared, client, &mut con, cache, taken);
        *shared.busy.lock().unwrap() -= 1;
        shared.freed.notify_all();
        match (outcome, job_id) {
            (Some(result), Some(job_id)) => {
                let _ = done.send(Done {
                    stream_key,
                    entry,
                    job_id,
                    result,
                });
            }
            // Redis went away mid-fetch: not judged; the lease lapses
            // and the job is delivered again.
            _ => {
                shared.held.lock().unwrap().remove(&entry);
            }
        }
    }
}

/// Judge one job: its result as JSON, or None when this worker could not
/// (its cache kept failing, or it is stopping while Redis is away): the
/// job is then left to be delivered again.
fn judge_job(
    shared: &Shared,
    client: &redis::Client,
    con: &mut Option<redis::Connection>,
    cache: &Cache,
    t: Taken,
) -> Option<String> {
    let opts = &shared.opts;
    let started = now_ms();
    let job = match &t.job {
        Ok(j) => j.clone(),
        Err(e) => {
            let id = format!("entry {}", t.entry);
            return Some(result(
                &id,
                &t,
                opts,
                None,
                started,
                json!({ "verdict": "JE", "message": e }),
            ));
        }
    };
    if job.test_crash && std::env::var_os("JUDGE_WORKER_TEST_SWITCHES").is_some_and(|v| v == "1") {
        if let Some(c) = connection(shared, client, con) {
            record_attempt(c, opts, &job.id, started);
        }
        eprintln!("judge worker: test switch: dying on job {}", job.id);
        std::process::abort();
    }
    // Redis away or the cache failing is this worker's trouble, not the
    // job's: tried again here (Redis for as long as it takes, the cache
    // three times) rather than spending one of the job's deliveries.
    let mut cache_tries = 0;
    let (package, sub) = loop {
        let c = connection(shared, client, con)?;
        record_attempt(c, opts, &job.id, started);
        let fetched = store::manifest(c, &opts.keys.package(&job.package)).and_then(|m| {
            let package = cache.tree(c, &opts.keys, &job.package, &m)?;
            let sub = cache.tree(c, &opts.keys, &job.submission.id(), &job.submission)?;
            Ok((package, sub))
        });
        match fetched {
            Ok(x) => break x,
            Err(FetchError::Broken(e)) => {
                let verdict =
                    json!({ "verdict": "JE", "message": format!("the job's files: {e}") });
                return Some(result(&job.id, &t, opts, Some(&job), started, verdict));
            }
            Err(FetchError::Redis(e)) => {
                eprintln!("judge worker: redis, fetching job {}: {e}", job.id);
                *con = None;
            }
            Err(FetchError::Cache(e)) => {
                eprintln!("judge worker: job {}: {e}", job.id);
                cache_tries += 1;
                if cache_tries == 3 {
                    return None;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    };
    let report = judge_package(
        &package.dir,
        &sub.dir,
        &job,
        opts.isolation,
        &shared.time_limits,
    );
    drop((package, sub));
    cache.prune(opts.cache_max);
    Some(result(&job.id, &t, opts, Some(&job), started, report))
}

/// A slot's connection, made (with backoff) if it has none; None only when
/// the worker is stopping and Redis stays away.
fn connection<'c>(
    shared: &Shared,
    client: &redis::Client,
    con: &'c mut Option<redis::Connection>,
) -> Option<&'c mut redis::Connection> {
    if con.is_none() {
        *con = Some(connect(shared, client)?);
    }
    con.as_mut()
}

/// Who took a job last, for its dead letter if it never finishes.
fn record_attempt(c: &mut redis::Connection, opts: &Options, job: &str, started: u64) {
    let _: redis::RedisResult<()> = redis::cmd("SET")
        .arg(opts.keys.attempt(job))
        .arg(format!("{} at {}", opts.name, started))
        .arg("EX")
        .arg(7 * 86_400)
        .query(c);
}

/// A result: the job's facts, then the verdict's (`judge problem --json`'s
/// object, or a JE with its message).
fn result(
    id: &str,
    t: &Taken,
    opts: &Options,
    job: Option<&Job>,
    started: u64,
    verdict: serde_json::Value,
) -> String {
    let mut r = json!({
        "job": {
            "id": id, "stream": t.stream, "worker": opts.name, "deliveries": t.deliveries,
            "queued_at_ms": job.map(|j| j.queued_at_ms), "started_at_ms": started, "finished_at_ms": now_ms(),
        },
    });
    if let (Some(r), serde_json::Value::Object(more)) = (r.as_object_mut(), verdict) {
        r.extend(more);
    }
    r.to_string()
}

/// `judge problem --json PACKAGE SUBMISSION` in-process.
fn judge_package(
    package: &std::path::Path,
    sub: &std::path::Path,
    job: &Job,
    isolation: IsolationLevel,
    time_limits: &Mutex<HashMap<String, verify::TimeLimit>>,
) -> serde_json::Value {
    let je = |m: String| json!({ "verdict": "JE", "message": m });
    let p = match problem::load(package) {
        Ok(p) => p,
        Err(e) => return je(format!("the package: {e}")),
    };
    let langs = match Languages::load(None) {
        Ok(l) => l,
        Err(e) => return je(format!("the languages: {e}")),
    };
    let folder = match problem::RunFolder::new() {
        Ok(f) => f,
        Err(e) => return je(format!("a run folder: {e}")),
    };
    let files: Vec<PathBuf> = job
        .submission
        .files
        .iter()
        .map(|f| sub.join(&f.path))
        .collect();
    let mut judge = match verify::Judge::new(&p, &langs, folder.path().to_path_buf(), isolation) {
        Ok(j) => j,
        Err(e) => return je(format!("the package: {e}")),
    };
    // One slot, one CPU: the tests run one after another.
    judge.jobs = 1;
    judge.all = job.all;
    judge.time_limit = job.time_limit.map(Duration::from_secs_f64);
    let lang = match judge.language(&files, job.language.as_deref()) {
        Ok(l) => l,
        Err(e) => return json!({ "verdict": "CE", "message": e }),
    };
    let known = job
        .time_limit
        .is_none()
        .then(|| time_limits.lock().unwrap().get(&job.package).cloned())
        .flatten();
    let limit = match known {
        Some(l) => l,
        None => match judge.time_limit() {
            Ok((l, _)) => {
                if job.time_limit.is_none() {
                    time_limits
                        .lock()
                        .unwrap()
                        .insert(job.package.clone(), l.clone());
                }
                l
            }
            Err(e) => return je(format!("the time limit: {e}")),
        },
    };
    let name: Vec<&str> = job
        .submission
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let r = judge.judge(
        &name.join(" "),
        &files,
        lang,
        Duration::from_secs_f64(limit.seconds),
        job.all,
    );
    json!({
        "verdict": r.verdict,
        "package": verify::package_json(&p, &limit),
        "submission": r,
    })
}

/// Publish each result, retrying until Redis takes it (across a restart
/// of Redis): a result is never dropped while this process lives.
fn commit_all(shared: &Shared, client: &redis::Client, done: mpsc::Receiver<Done>) {
    let mut con = None::<redis::Connection>;
    for d in done {
        let mut wait = Duration::from_millis(50);
        let mut permanent = 0;
        loop {
            let c = match &mut con {
                Some(c) => c,
                None => match open(client) {
                    Ok(c) => con.insert(c),
                    Err(e) => {
                        eprintln!(
                            "judge worker: redis: {e}; result of {} kept, again in {} ms",
                            d.job_id,
                            wait.as_millis()
                        );
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(2));
                        continue;
                    }
                },
            };
            match scripts::commit(
                c,
                &shared.opts.keys,
                &d.stream_key,
                &shared.opts.name,
                &d.entry,
                &d.job_id,
                &d.result,
            ) {
                Ok(Committed::Lost) => {
                    eprintln!(
                        "judge worker: job {}: this worker no longer holds it (its lease ran out); its result here is dropped",
                        d.job_id
                    );
                    break;
                }
                Ok(_) => break,
                // An error of Redis itself (out of memory, a key of the
                // wrong type), not of the link: tried a few times, then the
                // job is let go, to be delivered again.
                Err(e)
                    if !e.is_io_error() && !e.is_timeout() && !e.is_connection_dropped() && {
                        permanent += 1;
                        permanent >= 5
                    } =>
                {
                    eprintln!(
                        "judge worker: redis: {e}; giving up on committing job {}",
                        d.job_id
                    );
                    break;
                }
                Err(e) => {
                    eprintln!(
                        "judge worker: redis: {e}; result of {} kept, again in {} ms",
                        d.job_id,
                        wait.as_millis()
                    );
                    con = None;
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
        shared.held.lock().unwrap().remove(&d.entry);
    }
}

fn pending_of(
    c: &mut redis::Connection,
    keys: &Keys,
    key: &str,
    entry: &str,
) -> redis::RedisResult<Option<Pending>> {
    let v: Value = redis::cmd("XPENDING")
        .arg(key)
        .arg(keys.group())
        .arg(entry)
        .arg(entry)
        .arg(1)
        .query(c)?;
    Ok(pending(&v).into_iter().next())
}

fn stream_name(keys: &Keys, key: &str) -> String {
    key.strip_prefix(&format!("{}:jobs:", keys.prefix))
        .unwrap_or(key)
        .to_string()
}
