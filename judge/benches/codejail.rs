//! CodeJail on the judge, against the floor measured in the same run: a
//! bare `python3 -E -B -c CODE` of the same code (fork, exec and the
//! interpreter's start, nothing else).
//!
//! `cargo bench -p judge --features http --bench codejail` prints:
//!
//! 1. `safe_exec` of `x = a + 1` with `{"a": 41}` through the Python
//!    module (its pool of `judge serve` processes), one call after
//!    another, against bare runs one after another;
//! 2. `judge http` (`--slots` = the CPUs), code-exec requests from 2 and
//!    8 concurrent clients on kept-alive connections: requests per second
//!    and p50/p99 latency, against bare runs 2 and 8 at a time.
//!
//! Every figure is the median of BENCH_REPS (3) repetitions, min and max
//! beside it. Knobs: BENCH_CALLS (200 per measurement).

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
const BENCHES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
const PYTHON: &str = "/usr/bin/python3";

#[derive(Clone, Copy, Default)]
struct Figures {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn client(args: &[String]) -> Figures {
    let repo = Path::new(BENCHES).join("../..");
    let out = Command::new(PYTHON)
        .arg(Path::new(BENCHES).join("fixtures/codejail_client.py"))
        .args(args)
        .env("PYTHONPATH", repo.join("python"))
        .env("JUDGE_BIN", JUDGE)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3");
    assert!(out.status.success(), "the client failed: {args:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the client's figures");
    let f = |k: &str| v[k].as_f64().unwrap();
    Figures {
        per_s: f("per_s"),
        p50_ms: f("p50_ms"),
        p99_ms: f("p99_ms"),
    }
}

/// A `judge http` on a free loopback port, killed when dropped.
struct Server(Child, u16);

impl Server {
    fn start(slots: usize) -> Server {
        let mut child = Command::new(JUDGE)
            .args(["http", "--listen", "127.0.0.1:0", "--slots"])
            .arg(slots.to_string())
            .stderr(Stdio::piped())
            .spawn()
            .expect("judge http");
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server(child, port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The median of each figure over the repetitions, with their spreads.
struct Row {
    per_s: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

impl Row {
    fn of(runs: &[Figures]) -> Row {
        Row {
            per_s: runs.iter().map(|f| f.per_s).collect(),
            p50: runs.iter().map(|f| f.p50_ms).collect(),
            p99: runs.iter().map(|f| f.p99_ms).collect(),
        }
    }

    fn print(&self, name: &str, floor: &Row) {
        println!(
            "| {name} | {} {} | {} {} | {} | {} {} | {:.2}x |",
            fmt1(median(&self.per_s)),
            spread(&self.per_s, fmt1),
            fmt2(median(&self.p50)),
            spread(&self.p50, fmt2),
            format_ratio(median(&self.p50) / median(&floor.p50)),
            fmt2(median(&self.p99)),
            spread(&self.p99, fmt2),
            median(&floor.per_s) / median(&self.per_s),
        );
    }
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

fn format_ratio(x: f64) -> String {
    format!("{x:.2}x")
}

fn main() {
    let reps = env_num("BENCH_REPS", 3) as usize;
    let calls = env_num("BENCH_CALLS", 200).to_string();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("# codejail bench: {}", machine());
    println!("# {reps} repetitions of {calls} calls each; median [min..max]");
    let header =
        "| row | per s | p50 ms | p50 x floor | p99 ms | time x floor |\n|---|---|---|---|---|---|";

    println!();
    println!("== 1. safe_exec, one call after another ==");
    println!("{header}");
    let mut floor = Vec::new();
    let mut module = Vec::new();
    for _ in 0..reps {
        floor.push(client(&["floor".into(), calls.clone(), "1".into()]));
        module.push(client(&["module".into(), calls.clone()]));
    }
    let floor1 = Row::of(&floor);
    floor1.print("bare `python3 -E -B -c CODE`", &floor1);
    Row::of(&module).print("`safe_exec` through judge.codejail", &floor1);

    println!();
    println!("== 2. judge http (--slots {cpus}), concurrent clients ==");
    println!("{header}");
    for conc in [2usize, 8] {
        let mut floor = Vec::new();
        let mut http = Vec::new();
        for _ in 0..reps {
            floor.push(client(&["floor".into(), calls.clone(), conc.to_string()]));
            let server = Server::start(cpus);
            http.push(client(&[
                "http".into(),
                server.1.to_string(),
                calls.clone(),
                conc.to_string(),
            ]));
        }
        let f = Row::of(&floor);
        f.print(&format!("bare `python3 -c`, {conc} at a time"), &f);
        Row::of(&http).print(&format!("`judge http`, {conc} clients"), &f);
    }
}
