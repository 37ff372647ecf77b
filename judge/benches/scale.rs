//! Judging on many machines, against the same jobs judged locally, in the
//! same run.
//!
//! `cargo bench -p judge --features redis --bench scale` prints:
//!
//! 1. CPU-bound jobs (a Python submission spinning 50 ms on a one-test
//!    package): a local loop of `judge problem --json`, one job after
//!    another (the baseline), then 1 and 2 `judge worker`s of one slot;
//! 2. jobs that sleep 0.2 s: one worker with 1, 2, 4 and 8 slots
//!    (dispatch scaling past the cores);
//! 3. the latency the queue adds to a job, one job at a time: from its
//!    enqueue to its result being visible, minus its judging (p50, p99);
//! 4. a worker killed (SIGKILL) while judging: the time from the kill to
//!    the job's result, published by another worker (lease 2 s);
//! 5. Redis alone, no judging: jobs per second through enqueue, a
//!    group read and the commit script, with `appendfsync always` and
//!    `everysec`.
//!
//! Knobs: BENCH_JOBS (500; section 5 runs 10 times as many), BENCH_SLEEP_JOBS (64).

mod common;
use common::*;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use judge::scale::jobs::Job;
use judge::scale::store::Manifest;
use judge::scale::{scripts, Keys};

const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
const TARGET_TMP: &str = env!("CARGO_TARGET_TMPDIR");

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &Path, fsync: &str) -> Redis {
        std::fs::create_dir_all(dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--appendonly", "yes", "--appendfsync", fsync, "--save", ""])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(Duration::from_millis(10));
        }
        Redis { child, port }
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
    fn con(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn package(dir: &Path) -> PathBuf {
    let p = dir.join("echo");
    std::fs::create_dir_all(p.join("data/secret")).unwrap();
    std::fs::write(
        p.join("problem.yaml"),
        "problem_format_version: 2023-07-draft\nname: Echo\ntype: pass-fail\nlimits:\n  time_limit: 5\n  memory: 256\n",
    )
    .unwrap();
    std::fs::write(p.join("data/secret/1.in"), "7\n").unwrap();
    std::fs::write(p.join("data/secret/1.ans"), "7\n").unwrap();
    p
}

fn submit(r: &Redis, pkg: &Path, sub: &Path, id: &str) {
    let st = Command::new(JUDGE)
        .args(["submit", "--redis", &r.url()])
        .arg(pkg)
        .arg(sub)
        .args(["--job-id", id])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

fn worker(r: &Redis, name: &str, slots: usize, cache: &Path, lease: &str) -> Child {
    Command::new(JUDGE)
        .args([
            "worker",
            "--redis",
            &r.url(),
            "--name",
            name,
            "--slots",
            &slots.to_string(),
            "--lease",
            lease,
        ])
        .arg("--cache")
        .arg(cache)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn results(r: &Redis) -> u64 {
    redis::cmd("XLEN")
        .arg("judge:results")
        .query(&mut r.con())
        .unwrap()
}

fn wait_results(r: &Redis, n: u64) {
    while results(r) < n {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stop(mut w: Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(w.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = w.wait();
}

/// Enqueue `n` jobs of `sub`, then time `workers` workers of `slots` each
/// until every result is in: seconds.
fn through_workers(
    dir: &Path,
    pkg: &Path,
    sub: &Path,
    n: usize,
    workers: usize,
    slots: usize,
) -> f64 {
    let r = Redis::start(&dir.join(format!("redis-{workers}-{slots}")), "always");
    for i in 0..n {
        submit(&r, pkg, sub, &format!("j{i}"));
    }
    // Caches warmed by a first job, not timed.
    let t = Instant::now();
    let ws: Vec<Child> = (0..workers)
        .map(|w| {
            worker(
                &r,
                &format!("w{w}"),
                slots,
                &dir.join(format!("cache-{w}")),
                "10",
            )
        })
        .collect();
    wait_results(&r, n as u64);
    let secs = t.elapsed().as_secs_f64();
    for w in ws {
        stop(w);
    }
    secs
}

fn main() {
    let n = env_num("BENCH_JOBS", 500) as usize;
    let n_sleep = env_num("BENCH_SLEEP_JOBS", 64) as usize;
    let dir = Path::new(TARGET_TMP).join("bench-scale");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pkg = package(&dir);
    let spin = dir.join("spin.py");
    std::fs::write(&spin, "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.05: pass\nprint(input())\n").unwrap();
    let nap = dir.join("nap.py");
    std::fs::write(&nap, "import time\ntime.sleep(0.2)\nprint(input())\n").unwrap();
    println!("# scale bench: {}", machine());

    println!();
    println!("== 1. {n} CPU-bound jobs (50 ms of CPU each) ==");
    println!("| row | s | jobs/s | x local loop |\n|---|---|---|---|");
    let t = Instant::now();
    for _ in 0..n {
        let st = Command::new(JUDGE)
            .args(["problem", "--json"])
            .arg(&pkg)
            .arg(&spin)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.code() == Some(0));
    }
    let local = t.elapsed().as_secs_f64();
    let row = |name: &str, s: f64| {
        println!(
            "| {name} | {s:.2} | {:.1} | {:.2}x |",
            n as f64 / s,
            s / local
        )
    };
    row("local loop of `judge problem --json`", local);
    row(
        "1 worker, 1 slot",
        through_workers(&dir.join("cpu1"), &pkg, &spin, n, 1, 1),
    );
    row(
        "2 workers, 1 slot each",
        through_workers(&dir.join("cpu2"), &pkg, &spin, n, 2, 1),
    );

    println!();
    println!("== 2. {n_sleep} jobs sleeping 0.2 s: one worker, more slots ==");
    println!("| slots | s | jobs/s | x 1 slot | ideal s |\n|---|---|---|---|---|");
    let mut one = 0.0;
    for slots in [1usize, 2, 4, 8] {
        let s = through_workers(
            &dir.join(format!("nap{slots}")),
            &pkg,
            &nap,
            n_sleep,
            1,
            slots,
        );
        if slots == 1 {
            one = s;
        }
        println!(
            "| {slots} | {s:.2} | {:.1} | {:.2}x | {:.2} |",
            n_sleep as f64 / s,
            one / s,
            n_sleep as f64 * 0.2 / slots as f64
        );
    }

    println!();
    println!("== 3. The queue's own latency, one job at a time (1 worker, 1 slot) ==");
    let r = Redis::start(&dir.join("latency"), "always");
    let w = worker(&r, "lat", 1, &dir.join("cache-lat"), "10");
    let fast = dir.join("fast.py");
    std::fs::write(&fast, "print(input())\n").unwrap();
    let mut added = Vec::new();
    let mut con = r.con();
    for i in 0..60 {
        let id = format!("l{i}");
        submit(&r, &pkg, &fast, &id);
        let result: String = loop {
            let got: Option<String> = redis::cmd("GET")
                .arg(format!("judge:result:{id}"))
                .query(&mut con)
                .unwrap();
            if let Some(g) = got {
                break g;
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        let seen = judge::scale::now_ms();
        let v: serde_json::Value = serde_json::from_str(&result).unwrap();
        let j = &v["job"];
        let ms = |k: &str| j[k].as_u64().unwrap() as f64;
        if i >= 10 {
            // Enqueue to visible, minus the judging.
            added.push(
                seen as f64 - ms("queued_at_ms") - (ms("finished_at_ms") - ms("started_at_ms")),
            );
        }
    }
    stop(w);
    added.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| added[((added.len() as f64 - 1.0) * q) as usize];
    println!(
        "added latency over 50 jobs: p50 {:.1} ms, p99 {:.1} ms (1 ms resolution)",
        at(0.5),
        at(0.99)
    );

    println!();
    println!("== 4. A worker killed while judging (lease 2 s) ==");
    let r = Redis::start(&dir.join("kill"), "always");
    let long = dir.join("long.py");
    std::fs::write(&long, "import time\ntime.sleep(0.5)\nprint(input())\n").unwrap();
    let mut times = Vec::new();
    for i in 0..3 {
        let mut a = worker(&r, &format!("ka{i}"), 1, &dir.join("cache-ka"), "2");
        submit(&r, &pkg, &long, &format!("k{i}"));
        let mut con = r.con();
        while !redis::cmd("XPENDING")
            .arg("judge:jobs:default")
            .arg("judge-workers")
            .query::<redis::Value>(&mut con)
            .map(|v| format!("{v:?}").contains(&format!("ka{i}")))
            .unwrap_or(false)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let b = worker(&r, &format!("kb{i}"), 1, &dir.join("cache-kb"), "2");
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        a.kill().unwrap();
        a.wait().unwrap();
        wait_results(&r, i + 1);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        stop(b);
    }
    println!(
        "kill to result: {} ms (median of 3, {}; the job takes 0.5 s, the lease 2 s, reclaiming looks every lease/3)",
        fmt1(median(&times)),
        spread(&times, fmt1)
    );

    println!();
    println!("== 5. Redis alone: enqueue, read, commit per job, no judging ==");
    for fsync in ["always", "everysec"] {
        let r = Redis::start(&dir.join(format!("sat-{fsync}")), fsync);
        let mut con = r.con();
        let keys = Keys::new("judge");
        judge::scale::ensure_group(&mut con, &keys, "default").unwrap();
        let m = n * 10;
        let t = Instant::now();
        for i in 0..m {
            let job = Job {
                id: format!("s{i}"),
                package: "p".into(),
                submission: Manifest { files: Vec::new() },
                language: None,
                time_limit: None,
                all: false,
                queued_at_ms: 0,
                test_crash: false,
            };
            scripts::enqueue(&mut con, &keys, "default", &job, 1_000_000).unwrap();
            let v: redis::Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg("judge-workers")
                .arg("b")
                .arg("COUNT")
                .arg(1)
                .arg("STREAMS")
                .arg("judge:jobs:default")
                .arg(">")
                .query(&mut con)
                .unwrap();
            let id = first_entry(&v).expect("the job just enqueued");
            scripts::commit(
                &mut con,
                &keys,
                "judge:jobs:default",
                "b",
                &id,
                &job.id,
                "{}",
            )
            .unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "appendfsync {fsync}: {m} jobs in {s:.2} s, {:.0} jobs/s (one client, one connection)",
            m as f64 / s
        );
    }
}

/// The first entry id of an XREADGROUP reply.
fn first_entry(v: &redis::Value) -> Option<String> {
    use redis::Value::{Array, BulkString};
    let Array(streams) = v else { return None };
    let Array(pair) = streams.first()? else {
        return None;
    };
    let Array(entries) = pair.get(1)? else {
        return None;
    };
    let Array(entry) = entries.first()? else {
        return None;
    };
    let BulkString(id) = entry.first()? else {
        return None;
    };
    Some(String::from_utf8_lossy(id).into_owned())
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}
