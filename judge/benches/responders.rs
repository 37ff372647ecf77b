//! What an in-process responder costs, against physical baselines measured
//! in the same run.
//!
//! `cargo bench -p judge --bench responders` prints:
//!
//! 1. Line ping-pong (the client of benches/fixtures/pp_client.c writes
//!    "i\n" and reads it back), pinned to one CPU, unpinned, and in the
//!    default (auto-pinned) placement: two processes on direct pipes (the
//!    client and pp_server.c), the judge with the exec responder
//!    (pp_server.c), and the judge with the same echo as a native plugin
//!    and as a WebAssembly module (fixtures/echo_responder.c, built with gcc
//!    and with clang for bare wasm32), and the judge with pp_server.c
//!    itself compiled unchanged to a WASI command (clang wasm32-wasi).
//! 2. WebAssembly instantiation per session once the module is compiled,
//!    and the compilation itself, in this process through the library.
//!
//! Every figure is the median of BENCH_REPS (5) repetitions, interleaved;
//! min and max beside it. Knobs: BENCH_ROUNDS (100000, pinned and default),
//! BENCH_UNPINNED_ROUNDS (20000), BENCH_CPU (0), BENCH_INSTANCES (2000).

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
const BENCHES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
const TARGET_TMP: &str = env!("CARGO_TARGET_TMPDIR");

#[derive(Clone, Copy, PartialEq, Debug)]
enum Via {
    Pipes,
    Exec,
    Native,
    Wasm,
    Wasi,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Place {
    Pinned,
    Any,
    Default,
}

struct Fixtures {
    client: PathBuf,
    server: PathBuf,
    native: PathBuf,
    wasm: PathBuf,
    wasi: PathBuf,
}

fn build(out: &Path, cmd: &mut Command) -> PathBuf {
    let st = cmd
        .status()
        .unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program()));
    assert!(st.success(), "{cmd:?}: {st}");
    out.to_path_buf()
}

fn fixtures() -> Fixtures {
    let dir = Path::new(TARGET_TMP).join("bench-responders");
    std::fs::create_dir_all(&dir).unwrap();
    let src = |n: &str| Path::new(BENCHES).join("fixtures").join(n);
    let include = Path::new(BENCHES).join("../../responders/include");
    let gcc = |name: &str| {
        let out = dir.join(name);
        build(
            &out,
            Command::new("gcc")
                .args(["-O2", "-Wall", "-o"])
                .arg(&out)
                .arg(src(&format!("{name}.c"))),
        )
    };
    let native = dir.join("echo_responder.so");
    let wasm = dir.join("echo_responder.wasm");
    let wasi = dir.join("pp_server.wasi.wasm");
    Fixtures {
        client: gcc("pp_client"),
        server: gcc("pp_server"),
        native: build(
            &native,
            Command::new("gcc")
                .args(["-shared", "-fPIC", "-O2", "-Wall", "-I"])
                .arg(&include)
                .arg("-o")
                .arg(&native)
                .arg(src("echo_responder.c")),
        ),
        wasm: build(
            &wasm,
            Command::new("clang")
                .args(["--target=wasm32", "-nostdlib", "-O2", "-I"])
                .arg(&include)
                .args(["-Wl,--no-entry", "-Wl,--export-dynamic", "-o"])
                .arg(&wasm)
                .arg(src("echo_responder.c")),
        ),
        wasi: build(
            &wasi,
            Command::new("clang")
                .args(["--target=wasm32-wasi", "-O2", "-Wl,--strip-all", "-o"])
                .arg(&wasi)
                .arg(src("pp_server.c")),
        ),
    }
}

struct Case {
    via: Via,
    place: Place,
    rounds: u64,
    /// Microseconds per round from spawn to reaped.
    us: Vec<f64>,
    /// The same over the program's wall time in the judge's report.
    in_session: Vec<f64>,
}

/// One ping-pong run: seconds from spawn to reaped, and the program's wall
/// time in milliseconds as the judge reported it.
fn run_once(fx: &Fixtures, via: Via, place: Place, rounds: u64, cpu: usize) -> (f64, Option<f64>) {
    let n = rounds.to_string();
    if via == Via::Pipes {
        let t = Instant::now();
        let (to_server_r, to_server_w) = pipe();
        let (to_client_r, to_client_w) = pipe();
        let mut server = Command::new(&fx.server);
        server.stdin(to_server_r).stdout(to_client_w);
        let mut client = Command::new(&fx.client);
        client.arg(&n).stdin(to_client_r).stdout(to_server_w);
        if place == Place::Pinned {
            pin_to(&mut server, cpu);
            pin_to(&mut client, cpu);
        }
        let mut s = server.spawn().unwrap();
        let mut c = client.spawn().unwrap();
        drop((server, client));
        assert!(c.wait().unwrap().success() && s.wait().unwrap().success());
        return (t.elapsed().as_secs_f64(), None);
    }
    let responder = match via {
        Via::Exec => format!("exec:{}", fx.server.display()),
        Via::Native => format!("native:{}", fx.native.display()),
        Via::Wasm => format!("wasm:{}", fx.wasm.display()),
        Via::Wasi => format!("wasm:{}", fx.wasi.display()),
        Via::Pipes => unreachable!(),
    };
    let mut c = Command::new(JUDGE);
    c.args([
        "run",
        "--json",
        "--protocol",
        "plain",
        "--wall-limit",
        "120",
    ]);
    c.args([
        "--responder-time-limit",
        "120",
        "--responder-wall-limit",
        "121",
    ]);
    match place {
        Place::Pinned => {
            c.args(["--cpus", &cpu.to_string()]);
        }
        Place::Any => {
            c.args(["--cpus", "any"]);
        }
        Place::Default => {}
    }
    c.args(["--responder", &responder, "--"])
        .arg(&fx.client)
        .arg(&n)
        .stdin(Stdio::null());
    let t = Instant::now();
    let out = c.output().expect("spawning the judge");
    let secs = t.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["verdict"], "AC", "{via:?} {place:?}: {}", v["message"]);
    (secs, v["wall_time_ms"].as_f64())
}

fn ping_pong(fx: &Fixtures, reps: usize, cpu: usize, any: &str) -> Vec<(String, bool)> {
    let rounds = env_num("BENCH_ROUNDS", 100_000).max(1);
    let unpinned = env_num("BENCH_UNPINNED_ROUNDS", 20_000).max(1);
    println!();
    println!(
        "== 1. Line ping-pong: {rounds} rounds pinned and default, {unpinned} unpinned, x {reps} reps =="
    );
    let mut cases = Vec::new();
    for via in [Via::Pipes, Via::Exec, Via::Native, Via::Wasm, Via::Wasi] {
        for place in [Place::Pinned, Place::Any, Place::Default] {
            if via == Via::Pipes && place == Place::Default {
                continue;
            }
            cases.push(Case {
                via,
                place,
                rounds: if place == Place::Any {
                    unpinned
                } else {
                    rounds
                },
                us: Vec::new(),
                in_session: Vec::new(),
            });
        }
    }
    for c in &cases {
        run_once(fx, c.via, c.place, 1000, cpu); // warm-up and a check
    }
    for _ in 0..reps {
        for c in cases.iter_mut() {
            let (secs, wall_ms) = run_once(fx, c.via, c.place, c.rounds, cpu);
            c.us.push(secs * 1e6 / c.rounds as f64);
            if let Some(ms) = wall_ms {
                c.in_session.push(ms * 1e3 / c.rounds as f64);
            }
        }
    }
    let find = |via: Via, place: Place| {
        cases
            .iter()
            .find(|c| c.via == via && c.place == place)
            .unwrap()
    };
    let base = median(&find(Via::Pipes, Place::Pinned).us);
    let base_any = median(&find(Via::Pipes, Place::Any).us);
    println!(
        "  {:<34} {:<28} {:>22} {:>9} {:>10} {:>11}",
        "figure", "placement", "us/round [min..max]", "in-sess.", "vs pinned", "vs unpinned"
    );
    for c in &cases {
        let name = match c.via {
            Via::Pipes => "direct pipes (no judge)".to_string(),
            v => format!(
                "judge, {} responder",
                match v {
                    Via::Exec => "exec",
                    Via::Native => "native",
                    Via::Wasi => "WASI command",
                    _ => "wasm",
                }
            ),
        };
        let place = match c.place {
            Place::Pinned => format!("--cpus {cpu} (all on CPU {cpu})"),
            Place::Any => format!("--cpus any: {any}"),
            Place::Default => "default (auto: one CPU)".to_string(),
        };
        let m = median(&c.us);
        println!(
            "  {:<34} {:<28} {:>22} {:>9} {:>10} {:>11}",
            name,
            place,
            format!("{} {}", fmt2(m), spread(&c.us, fmt2)),
            if c.in_session.is_empty() {
                "-".into()
            } else {
                fmt2(median(&c.in_session))
            },
            format!("{:.2}x", m / base),
            if c.place == Place::Any {
                format!("{:.2}x", m / base_any)
            } else {
                "-".into()
            }
        );
    }
    println!("  (us/round: spawn to reaped, set-up included; in-sess.: the program's wall time in the report)");
    let exec = median(&find(Via::Exec, Place::Pinned).us);
    // The ratio within each repetition, whose runs follow each other
    // closely: steadier than a ratio of medians when the machine drifts
    // between repetitions. Shown beside the target, which stays on the
    // medians.
    let paired = |a: &Case, b: &Case| {
        let r: Vec<f64> = a.us.iter().zip(&b.us).map(|(x, y)| x / y).collect();
        format!(
            "paired per repetition: {:.2}x {}",
            median(&r),
            spread(&r, |x| format!("{x:.2}"))
        )
    };
    let mut targets = Vec::new();
    for (via, max) in [(Via::Native, 1.25), (Via::Wasm, 1.5)] {
        let case = find(via, Place::Pinned);
        let m = median(&case.us);
        let name = format!("{via:?}").to_lowercase();
        targets.push((
            format!(
                "{name}, pinned: {:.2}x of pinned pipes (target <= {max}x; {})",
                m / base,
                paired(case, find(Via::Pipes, Place::Pinned))
            ),
            m / base <= max,
        ));
        targets.push((
            format!(
                "{name}, pinned: {:.2}x of the exec responder (target <= 0.5x; {})",
                m / exec,
                paired(case, find(Via::Exec, Place::Pinned))
            ),
            m / exec <= 0.5,
        ));
    }
    // WASI command mode has no target of its own: where it stands between
    // the exec interactor it replaces and the bare-ABI module.
    let wasi = find(Via::Wasi, Place::Pinned);
    println!(
        "  WASI command, pinned: {:.2}x of pinned pipes, {:.2}x of the exec responder ({}), {:.2}x of the bare-ABI wasm module ({})",
        median(&wasi.us) / base,
        median(&wasi.us) / exec,
        paired(wasi, find(Via::Exec, Place::Pinned)),
        median(&wasi.us) / median(&find(Via::Wasm, Place::Pinned).us),
        paired(wasi, find(Via::Wasm, Place::Pinned)),
    );
    targets
}

/// Instantiation per session of a compiled module, through the library.
fn instantiation(fx: &Fixtures) -> Vec<(String, bool)> {
    use judge::responder::plugin::wasm::{compiled, WasmGuest};
    let n = env_num("BENCH_INSTANCES", 2000).max(1) as usize;
    println!();
    println!("== 2. WebAssembly: compile once, instantiate per session ({n} instances) ==");
    let limits = judge::ResponderLimits::following(&judge::Limits::default());
    let t = Instant::now();
    let load = || WasmGuest::load(compiled(&fx.wasm)?, &limits);
    drop(load().expect("loading the echo module"));
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    for _ in 0..n {
        drop(load().expect("instantiating"));
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("  first load (compile + instantiate): {compile_ms:.1} ms");
    println!(
        "  instantiation once compiled (cache hit, store, instance, version check): {us:.1} us"
    );
    vec![(
        format!("wasm instantiation per session: {us:.1} us (target < 1000 us)"),
        us < 1000.0,
    )]
}

fn main() {
    let reps = env_num("BENCH_REPS", 5).max(1) as usize;
    let cpu = env_num("BENCH_CPU", 0) as usize;
    let allowed = allowed_cpus();
    assert!(
        allowed.contains(&cpu),
        "BENCH_CPU={cpu} not among {allowed:?}"
    );
    let any = format!("CPUs {}", cpu_list(&allowed));
    let fx = fixtures();
    println!("judge responder benchmark");
    println!("  judge:   {JUDGE}");
    println!("  machine: {}", machine());
    let mut targets = ping_pong(&fx, reps, cpu, &any);
    targets.extend(instantiation(&fx));
    println!();
    println!("== Targets ==");
    for (what, ok) in &targets {
        println!("  {} {what}", if *ok { "PASS" } else { "MISS" });
    }
}
