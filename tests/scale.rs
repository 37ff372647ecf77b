//! `judge submit`, `judge worker`, `judge results`, `judge queue` on a
//! Redis of the test's own (Debian's redis-server, append-only, on a
//! loopback port, in a temporary folder; stopped when the test ends).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A redis-server started for one test.
struct Redis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Redis {
    fn start(tag: &str) -> Redis {
        let dir = temp_dir(tag);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Redis::spawn_at(&dir, port);
        Redis { child, port, dir }
    }

    fn spawn(&self) -> Child {
        Redis::spawn_at(&self.dir, self.port)
    }

    fn spawn_at(dir: &Path, port: u16) -> Child {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-test package: the answer is the input.
fn package(tag: &str) -> (PathBuf, PathBuf) {
    let d = temp_dir(tag);
    let p = d.join("echo");
    std::fs::create_dir_all(p.join("data/secret")).unwrap();
    std::fs::write(
        p.join("problem.yaml"),
        "problem_format_version: 2023-07-draft\nname: Echo\ntype: pass-fail\nlimits:\n  time_limit: 2\n  memory: 256\n",
    )
    .unwrap();
    std::fs::write(p.join("data/secret/1.in"), "7\n").unwrap();
    std::fs::write(p.join("data/secret/1.ans"), "7\n").unwrap();
    (d, p)
}

fn submission(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

fn judge(args: &[&str]) -> Done {
    let mut c = Command::new(judge_bin());
    c.args(args);
    exec_command(c)
}

/// `judge submit` of one job to the default stream.
fn submit(r: &Redis, pkg: &Path, sub: &Path, id: &str, extra: &[&str]) -> Done {
    let mut c = Command::new(judge_bin());
    c.args(["submit", "--redis", &r.url()])
        .arg(pkg)
        .arg(sub)
        .args(["--job-id", id])
        .args(extra);
    exec_command(c)
}

fn worker(r: &Redis, name: &str, cache: &Path, extra: &[&str]) -> Child {
    Command::new(judge_bin())
        .args([
            "worker",
            "--redis",
            &r.url(),
            "--name",
            name,
            "--slots",
            "1",
            "--lease",
            "2",
        ])
        .arg("--cache")
        .arg(cache)
        .args(extra)
        .env("JUDGE_WORKER_TEST_SWITCHES", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn results(r: &Redis) -> Vec<Value> {
    let done = judge(&["results", "--redis", &r.url()]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    done.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// How many different jobs the results are for.
fn distinct_jobs(results: &[Value]) -> usize {
    let mut ids: Vec<&str> = results
        .iter()
        .map(|v| v["job"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    ids.len()
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Until a worker holds the one job queued (pending in the group).
fn wait_taken(r: &Redis) {
    wait_for("the job taken", 30, || {
        r.cli(&["XPENDING", "judge:jobs:default", "judge-workers"])
            .starts_with('1')
    });
}

fn stop(mut w: Child) -> i32 {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(w.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    w.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn jobs_are_judged_once_and_enqueued_once() {
    let r = Redis::start("scale_basic");
    let (d, p) = package("scale_basic_pkg");
    let ok = submission(&d, "ok.py", "print(input())\n");
    let wrong = submission(&d, "wrong.py", "print(8)\n");
    let url = r.url();
    let sub = |id: &str, f: &Path| submit(&r, &p, f, id, &[]);
    // A folder that is no package is refused at once, not left to a worker.
    let not_pkg = d.join("notes");
    std::fs::create_dir_all(&not_pkg).unwrap();
    std::fs::write(not_pkg.join("readme.txt"), "hello\n").unwrap();
    let refused = submit(&r, &not_pkg, &ok, "c1/none", &[]);
    assert_eq!(refused.status, 2);
    assert_eq!(
        refused.stderr,
        format!(
            "judge: {}: no problem.yaml (a Kattis package) and no problem.xml (a Polygon package)\n",
            not_pkg.display()
        )
    );
    let first = sub("c1/ok", &ok);
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("\"state\":\"queued\""),
        "{}",
        first.stdout
    );
    // The same id again: the first entry, nothing added.
    let again = sub("c1/ok", &ok);
    assert!(
        again.stdout.contains("\"state\":\"already queued\""),
        "{}",
        again.stdout
    );
    assert_eq!(sub("c1/wrong", &wrong).status, 0);
    // A full stream says so.
    let full = submit(&r, &p, &ok, "c1/late", &["--cap", "2"]);
    assert_eq!(full.status, 1);
    assert!(
        full.stdout.contains("\"state\":\"queue full\""),
        "{}",
        full.stdout
    );

    let w = worker(&r, "w1", &d.join("cache"), &[]);
    wait_for("two results", 60, || results(&r).len() == 2);
    assert_eq!(stop(w), 0);
    let mut got: Vec<(String, String, u64)> = results(&r)
        .iter()
        .map(|v| {
            (
                v["job"]["id"].as_str().unwrap().to_string(),
                v["verdict"].as_str().unwrap().to_string(),
                v["job"]["deliveries"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("c1/ok".into(), "AC".into(), 1),
            ("c1/wrong".into(), "WA".into(), 1)
        ]
    );
    let one = judge(&["results", "--redis", &url, "--job-id", "c1/wrong"]);
    let v: Value = serde_json::from_str(one.stdout.trim()).unwrap();
    assert_eq!(v["submission"]["tests"][0]["verdict"], "WA");
    assert_eq!(v["package"]["name"], "Echo");
    let q: Value = serde_json::from_str(judge(&["queue", "--redis", &url]).stdout.trim()).unwrap();
    assert_eq!(q["streams"]["default"]["pending"], 0);
    assert_eq!(q["streams"]["default"]["length"], 0);
    assert_eq!(q["dead_letters"], 0);
    assert!(q["workers"]["w1"].is_object(), "{q}");
}

/// 200 jobs over 3 workers, a random one killed (SIGKILL) mid-job 5
/// times and started again: every job has exactly one result, the killed
/// jobs were delivered again, nothing is left pending or dead, and nothing
/// of a killed worker's sessions survives.
#[test]
fn workers_killed_mid_job_lose_nothing() {
    let r = Redis::start("scale_kill");
    let (d, p) = package("scale_kill_pkg");
    // Slow enough that a kill lands mid-job.
    let ok = submission(
        &d,
        "ok.py",
        "import time\ntime.sleep(0.05)\nprint(input())\n",
    );
    for i in 0..200 {
        let done = submit(&r, &p, &ok, &format!("job-{i}"), &[]);
        assert_eq!(done.status, 0, "{}", done.stderr);
    }
    let cache = |n: usize| d.join(format!("cache-{n}"));
    let mut workers: Vec<Child> = (0..3)
        .map(|n| worker(&r, &format!("w{n}"), &cache(n), &[]))
        .collect();
    let mut killed = Vec::new();
    let mut mid_job: Vec<(String, u64)> = Vec::new();
    let mut rng = std::process::id() as usize;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(700));
        rng = rng.wrapping_mul(1103515245).wrapping_add(12345);
        let n = (rng >> 8) % 3;
        let pid = workers[n].id();
        // The jobs it holds as it dies.
        let held = r.cli(&[
            "XPENDING",
            "judge:jobs:default",
            "judge-workers",
            "-",
            "+",
            "10",
            &format!("w{n}"),
        ]);
        workers[n].kill().unwrap();
        workers[n].wait().unwrap();
        let at = now_ms();
        for entry in held.lines().step_by(4).filter(|l| !l.is_empty()) {
            let range = r.cli(&["XRANGE", "judge:jobs:default", entry, entry]);
            if let Some(job) = range.lines().nth(2) {
                let v: Value = serde_json::from_str(job).unwrap();
                mid_job.push((v["id"].as_str().unwrap().to_string(), at));
            }
        }
        killed.push(pid);
        workers[n] = worker(&r, &format!("w{n}"), &cache(n), &[]);
    }
    wait_for("200 results", 180, || {
        r.cli(&["XLEN", "judge:results"]) == "200"
    });
    for w in workers {
        assert_eq!(stop(w), 0);
    }
    let all = results(&r);
    assert_eq!(
        distinct_jobs(&all),
        200,
        "a job without a result, or with two"
    );
    assert!(
        all.iter().all(|v| v["verdict"] == "AC"),
        "{:?}",
        all.iter().find(|v| v["verdict"] != "AC")
    );
    // Each job its worker held when killed was delivered again, unless
    // its result was committed just before the kill.
    assert!(!mid_job.is_empty(), "no kill landed on a job");
    for (job, killed_at) in &mid_job {
        let v = all.iter().find(|v| v["job"]["id"] == job.as_str()).unwrap();
        let committed_before = v["job"]["finished_at_ms"].as_u64().unwrap() <= *killed_at;
        assert!(
            v["job"]["deliveries"].as_u64().unwrap() >= 2 || committed_before,
            "{job}: {v}"
        );
    }
    assert_eq!(r.cli(&["XLEN", "judge:jobs:default"]), "0");
    assert_eq!(r.cli(&["XLEN", "judge:dead"]), "0");
    // No control group named after a killed worker is left (the next
    // judge sweeps them; see the next test for their processes).
    for pid in killed {
        for ctl in ["memory", "pids", "cpuacct", "unified"] {
            let base = Path::new("/sys/fs/cgroup").join(ctl);
            let left: Vec<_> = std::fs::read_dir(&base)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("judge-") && n.split('-').nth(2) == Some(&pid.to_string())
                })
                .collect();
            assert!(left.is_empty(), "{ctl}: {left:?}");
        }
    }
}

/// A job that makes its worker die every time ends dead-lettered with a
/// JE after 3 deliveries; the other jobs finish.
#[test]
fn a_poison_job_is_dead_lettered_after_three_deliveries() {
    let r = Redis::start("scale_poison");
    let (d, p) = package("scale_poison_pkg");
    let ok = submission(&d, "ok.py", "print(input())\n");
    assert_eq!(submit(&r, &p, &ok, "poison", &["--test-crash"]).status, 0);
    for i in 0..5 {
        assert_eq!(submit(&r, &p, &ok, &format!("fine-{i}"), &[]).status, 0);
    }
    // Two workers, each started again whenever it dies.
    let mut ws: Vec<Child> = (0..2)
        .map(|n| worker(&r, &format!("p{n}"), &d.join(format!("c{n}")), &[]))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while r.cli(&["XLEN", "judge:results"]) != "6" {
        assert!(
            Instant::now() < deadline,
            "not all results: {}",
            r.cli(&["XLEN", "judge:results"])
        );
        for (n, w) in ws.iter_mut().enumerate() {
            if w.try_wait().unwrap().is_some() {
                *w = worker(&r, &format!("p{n}"), &d.join(format!("c{n}")), &[]);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for w in ws {
        stop(w);
    }
    let all = results(&r);
    let poison = all.iter().find(|v| v["job"]["id"] == "poison").unwrap();
    assert_eq!(poison["verdict"], "JE");
    assert_eq!(poison["job"]["deliveries"], 3);
    assert!(
        poison["message"]
            .as_str()
            .unwrap()
            .starts_with("delivered 3 times without a result; the last worker to take it: p"),
        "{poison}"
    );
    assert_eq!(all.iter().filter(|v| v["verdict"] == "AC").count(), 5);
    assert_eq!(r.cli(&["XLEN", "judge:dead"]), "1");
    assert_eq!(r.cli(&["XLEN", "judge:jobs:default"]), "0");
}

/// SIGTERM while judging: the job is finished and committed, exit 0.
#[test]
fn sigterm_mid_job_commits_and_exits_0() {
    let r = Redis::start("scale_term");
    let (d, p) = package("scale_term_pkg");
    let slow = submission(
        &d,
        "slow.py",
        "import time\ntime.sleep(1)\nprint(input())\n",
    );
    assert_eq!(submit(&r, &p, &slow, "slow", &[]).status, 0);
    let w = worker(&r, "t1", &d.join("cache"), &[]);
    // Taken: pending for t1.
    wait_taken(&r);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stop(w), 0);
    let all = results(&r);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["verdict"], "AC");
    assert_eq!(r.cli(&["XLEN", "judge:jobs:default"]), "0");
}

/// A package blob corrupted in Redis: the job is a JE, at once.
#[test]
fn a_corrupted_blob_is_a_je_not_a_verdict() {
    let r = Redis::start("scale_corrupt");
    let (d, p) = package("scale_corrupt_pkg");
    let ok = submission(&d, "ok.py", "print(input())\n");
    assert_eq!(submit(&r, &p, &ok, "bad", &[]).status, 0);
    // The answer file's blob: "7\n".
    let keys = r.cli(&["--scan", "--pattern", "judge:blob:*"]);
    for k in keys.lines() {
        if r.cli(&["GET", k]) == "7" {
            r.cli(&["SET", k, "8\n"]);
        }
    }
    let w = worker(&r, "c1", &d.join("cache"), &[]);
    wait_for("a result", 60, || !results(&r).is_empty());
    stop(w);
    let all = results(&r);
    assert_eq!(all[0]["verdict"], "JE", "{}", all[0]);
    assert!(
        all[0]["message"]
            .as_str()
            .unwrap()
            .contains("fails its hash check"),
        "{}",
        all[0]
    );
    assert_eq!(all[0]["job"]["deliveries"], 1);
}

/// A job longer than the lease is renewed, never taken by another worker
/// while its own lives.
#[test]
fn a_job_longer_than_the_lease_runs_once() {
    let r = Redis::start("scale_long");
    let (d, p) = package("scale_long_pkg");
    // 5 s of a 2 s lease (the package allows 2 s of CPU; sleeping costs none).
    let slow = submission(
        &d,
        "slow.py",
        "import time\ntime.sleep(5)\nprint(input())\n",
    );
    assert_eq!(
        submit(&r, &p, &slow, "long", &["--time-limit", "2"]).status,
        0
    );
    let w1 = worker(&r, "l1", &d.join("c1"), &[]);
    wait_taken(&r);
    let w2 = worker(&r, "l2", &d.join("c2"), &[]);
    wait_for("its result", 60, || !results(&r).is_empty());
    stop(w1);
    stop(w2);
    let all = results(&r);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["job"]["worker"], "l1");
    assert_eq!(all[0]["job"]["deliveries"], 1);
    assert_eq!(all[0]["verdict"], "AC", "{}", all[0]);
}

/// A worker stopped (SIGSTOP) past its lease, its job taken and finished
/// by another, publishes nothing when it resumes.
#[test]
fn a_worker_stopped_past_its_lease_publishes_nothing() {
    let r = Redis::start("scale_stop");
    let (d, p) = package("scale_stop_pkg");
    let slow = submission(
        &d,
        "slow.py",
        "import time\ntime.sleep(1.5)\nprint(input())\n",
    );
    assert_eq!(submit(&r, &p, &slow, "s", &[]).status, 0);
    let w1 = worker(&r, "s1", &d.join("c1"), &[]);
    wait_taken(&r);
    let pid = nix::unistd::Pid::from_raw(w1.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let w2 = worker(&r, "s2", &d.join("c2"), &[]);
    wait_for("the result of s2", 60, || !results(&r).is_empty());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    // Its own run of the job finishes (1.5 s) and is refused at commit.
    std::thread::sleep(Duration::from_secs(3));
    stop(w1);
    stop(w2);
    let all = results(&r);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["job"]["worker"], "s2");
    assert_eq!(all[0]["job"]["deliveries"], 2);
    assert_eq!(r.cli(&["XLEN", "judge:results"]), "1");
}

/// Redis killed (SIGKILL) mid-run and started again on its append-only
/// file: every job whose submission it acknowledged gets its result.
#[test]
fn redis_killed_and_restarted_loses_no_acknowledged_job() {
    let mut r = Redis::start("scale_redis_kill");
    let (d, p) = package("scale_redis_kill_pkg");
    let ok = submission(
        &d,
        "ok.py",
        "import time\ntime.sleep(0.05)\nprint(input())\n",
    );
    for i in 0..40 {
        let done = submit(&r, &p, &ok, &format!("r{i}"), &[]);
        assert_eq!(done.status, 0, "{}", done.stderr);
    }
    let ws: Vec<Child> = (0..2)
        .map(|n| worker(&r, &format!("r{n}"), &d.join(format!("c{n}")), &[]))
        .collect();
    wait_for("some results", 60, || {
        r.cli(&["XLEN", "judge:results"])
            .parse::<u64>()
            .unwrap_or(0)
            >= 5
    });
    r.child.kill().unwrap();
    r.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    r.child = r.spawn();
    wait_for("40 results", 120, || {
        r.cli(&["XLEN", "judge:results"]) == "40"
    });
    for w in ws {
        assert_eq!(stop(w), 0);
    }
    let all = results(&r);
    assert_eq!(distinct_jobs(&all), 40);
    assert_eq!(r.cli(&["XLEN", "judge:jobs:default"]), "0");
}

/// A network namespace joined to the host by a veth pair, removed when
/// dropped: a worker inside it reaches Redis over a link the test can cut.
struct Link {
    ns: String,
    host_end: String,
    host_ip: String,
}

impl Link {
    fn new() -> Link {
        let n = std::process::id() % 200 + 20;
        let l = Link {
            ns: format!("judgetest-{}", std::process::id()),
            host_end: format!("jt{}a", std::process::id() % 100_000),
            host_ip: format!("10.199.{n}.1"),
        };
        let peer = format!("jt{}b", std::process::id() % 100_000);
        let ip = |args: &[&str]| {
            let st = Command::new("ip").args(args).status().unwrap();
            assert!(st.success(), "ip {args:?}");
        };
        ip(&["netns", "add", &l.ns]);
        ip(&[
            "link",
            "add",
            &l.host_end,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip(&["link", "set", &peer, "netns", &l.ns]);
        ip(&[
            "addr",
            "add",
            &format!("{}/24", l.host_ip),
            "dev",
            &l.host_end,
        ]);
        ip(&["link", "set", &l.host_end, "up"]);
        ip(&[
            "netns",
            "exec",
            &l.ns,
            "ip",
            "addr",
            "add",
            &format!("10.199.{n}.2/24"),
            "dev",
            &peer,
        ]);
        ip(&["netns", "exec", &l.ns, "ip", "link", "set", &peer, "up"]);
        ip(&["netns", "exec", &l.ns, "ip", "link", "set", "lo", "up"]);
        l
    }

    fn set(&self, up: bool) {
        let st = Command::new("ip")
            .args([
                "link",
                "set",
                &self.host_end,
                if up { "up" } else { "down" },
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_end])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// A worker whose network link is cut behaves as a stopped one: its job
/// goes to another worker after the lease, and when the link comes back
/// it publishes nothing.
#[test]
fn a_worker_cut_off_the_network_is_as_a_stopped_one() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let link = Link::new();
    let mut r = Redis::start("scale_link");
    // Redis on loopback and on the host's end of the link.
    r.child.kill().unwrap();
    r.child.wait().unwrap();
    r.child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            &link.host_ip,
            "--port",
            &r.port.to_string(),
        ])
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--protected-mode",
            "no",
        ])
        .arg("--dir")
        .arg(&r.dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("redis", 10, || {
        std::net::TcpStream::connect(("127.0.0.1", r.port)).is_ok()
    });
    let (d, p) = package("scale_link_pkg");
    let slow = submission(
        &d,
        "slow.py",
        "import time\ntime.sleep(1.5)\nprint(input())\n",
    );
    assert_eq!(submit(&r, &p, &slow, "n", &[]).status, 0);
    let far = format!("redis://{}:{}", link.host_ip, r.port);
    let mut w1 = Command::new("ip")
        .args([
            "netns",
            "exec",
            &link.ns,
            judge_bin(),
            "worker",
            "--redis",
            &far,
            "--name",
            "n1",
            "--slots",
            "1",
            "--lease",
            "2",
        ])
        .arg("--cache")
        .arg(d.join("c1"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the job taken by n1", 30, || {
        r.cli(&["XPENDING", "judge:jobs:default", "judge-workers"])
            .contains("n1")
    });
    link.set(false);
    let w2 = worker(&r, "n2", &d.join("c2"), &[]);
    wait_for("the result of n2", 60, || !results(&r).is_empty());
    link.set(true);
    // n1's own run ends meanwhile; its commit, when it gets through, is
    // refused.
    std::thread::sleep(Duration::from_secs(4));
    stop(w2);
    let _ = w1.kill();
    let _ = w1.wait();
    let all = results(&r);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["job"]["worker"], "n2");
    assert_eq!(r.cli(&["XLEN", "judge:results"]), "1");
}

/// A worker's sessions die with it: SIGKILL to a worker judging a long
/// job leaves no process of that job's session.
#[test]
fn a_killed_workers_session_dies_with_it() {
    let r = Redis::start("scale_tree");
    let (d, p) = package("scale_tree_pkg");
    let tok = token("scale_tree");
    // The program's command line carries the token: python3 NAME.py.
    let long = submission(
        &d,
        &format!("{tok}.py"),
        "import time\ntime.sleep(60)\nprint(input())\n",
    );
    assert_eq!(submit(&r, &p, &long, "t", &["--time-limit", "2"]).status, 0);
    let mut w = worker(&r, "t1", &d.join("cache"), &[]);
    // The program itself (its compile check runs in a session too).
    let running = || {
        processes_with(&tok)
            .iter()
            .any(|p| !p.contains("py_compile"))
    };
    wait_for("the job's program running", 60, running);
    w.kill().unwrap();
    w.wait().unwrap();
    wait_for("the session gone with its worker", 5, || {
        processes_with(&tok).is_empty()
    });
}

/// The cache survives what a package may hold: a file named as the
/// cache's own marker does not touch the shared blobs (another package's
/// test data stays whole); a job id whose stream was deleted before it
/// ran is enqueued again, not reported "already queued".
#[test]
fn the_cache_and_the_job_ids_survive_odd_packages_and_lost_streams() {
    let r = Redis::start("scale_odd");
    let (d, p) = package("scale_odd_pkg");
    let ok = submission(&d, "ok.py", "print(input())\n");
    let odd = d.join("odd");
    std::fs::create_dir_all(odd.join("data/secret")).unwrap();
    for f in ["problem.yaml", "data/secret/1.in", "data/secret/1.ans"] {
        std::fs::copy(p.join(f), odd.join(f)).unwrap();
    }
    std::fs::write(odd.join(".complete"), "7\n").unwrap();
    let sub = |pkg: &Path, id: &str| submit(&r, pkg, &ok, id, &[]);
    // Lost before it ran: its stream deleted, the id submitted again.
    assert_eq!(sub(&p, "lost").status, 0);
    r.cli(&["DEL", "judge:jobs:default"]);
    let again = sub(&p, "lost");
    assert!(
        again.stdout.contains("\"state\":\"queued\""),
        "{}",
        again.stdout
    );
    for (pkg, id) in [(&p, "a"), (&odd, "b"), (&p, "c")] {
        assert_eq!(sub(pkg, id).status, 0);
    }
    let w = worker(&r, "o1", &d.join("cache"), &[]);
    wait_for("4 results", 60, || r.cli(&["XLEN", "judge:results"]) == "4");
    stop(w);
    for v in results(&r) {
        assert_eq!(v["verdict"], "AC", "{v}");
    }
}

/// Streams are read in turn: jobs of a second stream, enqueued behind a
/// long first one, are judged among the first, not after it.
#[test]
fn streams_are_read_round_robin() {
    let r = Redis::start("scale_fair");
    let (d, p) = package("scale_fair_pkg");
    let ok = submission(&d, "ok.py", "print(input())\n");
    for i in 0..10 {
        let done = submit(
            &r,
            &p,
            &ok,
            &format!("contest-{i}"),
            &["--stream", "contest"],
        );
        assert_eq!(done.status, 0, "{}", done.stderr);
    }
    for i in 0..2 {
        assert_eq!(
            submit(
                &r,
                &p,
                &ok,
                &format!("practice-{i}"),
                &["--stream", "practice"]
            )
            .status,
            0
        );
    }
    let w = worker(
        &r,
        "f1",
        &d.join("cache"),
        &["--stream", "contest", "--stream", "practice"],
    );
    wait_for("12 results", 60, || {
        r.cli(&["XLEN", "judge:results"]) == "12"
    });
    stop(w);
    // In commit order: both practice jobs among the first five.
    let order: Vec<String> = results(&r)
        .iter()
        .map(|v| v["job"]["id"].as_str().unwrap().to_string())
        .collect();
    let practice: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(_, id)| id.starts_with("practice"))
        .map(|(i, _)| i)
        .collect();
    assert!(practice.iter().all(|&i| i < 5), "{order:?}");
}
