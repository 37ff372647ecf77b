//! WASI command modules: `--responder wasm:FILE ARGS` of a module that
//! exports `_start` and imports `wasi_snapshot_preview1`. Stdio
//! interactors in C, built with gcc as exec interactors and with clang for
//! wasm32-wasi from the same source, must be judged alike; hostile modules
//! end in JE within their limits; the module sees only its own files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::util::responders::{c_wasi, once};
use crate::util::{brief, repo, run, temp_dir};

fn guess(file: &str) -> PathBuf {
    repo().join("examples/guess-number").join(file)
}

fn guess_input() -> String {
    guess("input.txt").to_string_lossy().into_owned()
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/wasi").join(name)
}

/// A WASI fixture, built once.
fn wasi(name: &str) -> String {
    c_wasi(&fixture(&format!("{name}.c")))
}

/// `src` built natively with gcc, once per run, as `key` (unique among
/// every test's `once` keys).
fn gcc(key: &'static str, src: &Path) -> String {
    once(key, || {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-native");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(src.file_stem().unwrap());
        let o = Command::new("gcc")
            .args(["-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&out)
            .arg(src)
            .output()
            .expect("gcc");
        assert!(
            o.status.success(),
            "gcc {}: {}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        out.to_string_lossy().into_owned()
    })
}

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

/// One line of `text` that starts with `prefix`, or a panic showing it all.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

/// Interactors of one source, run natively (exec) and as a WASI module
/// (wasm), must give the same verdict and the same message: testlib's
/// interactor.c and the Kattis validator_kattis.c, each under its protocol,
/// for the solutions of `guess_the_number_is_judged_alike_by_every_kind`.
#[test]
fn testlib_and_kattis_interactors_in_c_judge_alike_native_and_wasi() {
    // (label, program, verdict under testlib, under kattis)
    let solutions: Vec<(&str, Vec<String>, &str, &str)> = vec![
        (
            "binary search",
            vec![gcc("wasi-native/solution", &guess("solution.c"))],
            "AC",
            "AC",
        ),
        (
            "linear search: 31 queries",
            vec![gcc("wasi-native/wrong", &guess("wrong.c"))],
            "WA",
            "WA",
        ),
        ("a guess out of range", sh("echo 0; read x"), "WA", "WA"),
        ("garbage", sh("echo hello; read x"), "PE", "WA"),
        (
            "never flushes",
            vec![gcc("wasi-native/noflush", &guess("noflush.c"))],
            "ILE",
            "ILE",
        ),
        ("exits before guessing", sh("exit 0"), "PE", "WA"),
        (
            "floods one endless line",
            sh("head -c 50000000 /dev/zero"),
            "PE",
            "WA",
        ),
    ];
    let interactors = [
        (
            "testlib",
            gcc("wasi-native/interactor", &guess("interactor.c")),
            c_wasi(&guess("interactor.c")),
        ),
        (
            "kattis",
            gcc("wasi-native/validator_kattis", &guess("validator_kattis.c")),
            c_wasi(&guess("validator_kattis.c")),
        ),
    ];
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (protocol, native, module) in &interactors {
        for (label, program, testlib, kattis) in &solutions {
            let expected = if *protocol == "testlib" {
                testlib
            } else {
                kattis
            };
            let judged = |responder: String| {
                run()
                    .args(["--responder", &responder, "--protocol", protocol])
                    .args(["--input", &guess_input(), "--wall-limit", "1"])
                    .program(program.clone())
                    .json()
            };
            let pair = [
                ("exec", judged(format!("exec:{native}"))),
                ("wasi", judged(format!("wasm:{module}"))),
            ];
            for (kind, v) in &pair {
                let got = v["verdict"].as_str().unwrap_or("?");
                table.push_str(&format!(
                    "{protocol:8} {label:26} {kind:5} {got:4} {}\n",
                    v["message"]
                ));
                if got != *expected {
                    wrong.push(format!(
                        "{protocol} / {label} / {kind}: expected {expected}, {}",
                        brief(v)
                    ));
                }
                // The interactor's own verdict is the one that fired
                // wherever the program did not fail on its own.
                if *expected != "ILE" && v["responder"]["verdict"] != **expected {
                    wrong.push(format!(
                        "{protocol} / {label} / {kind}: the responder's verdict is not {expected}: {}",
                        brief(v)
                    ));
                }
                if v["responder"]["kind"] != *kind {
                    wrong.push(format!(
                        "{protocol} / {label} / {kind}: responder.kind is {}",
                        v["responder"]["kind"]
                    ));
                }
            }
            let (n, w) = (&pair[0].1, &pair[1].1);
            for key in ["verdict", "message"] {
                if without_timings(&n[key]) != without_timings(&w[key]) {
                    wrong.push(format!(
                        "{protocol} / {label}: the {key} differs: exec {}, wasi {}",
                        n[key], w[key]
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}\n\n{table}", wrong.join("\n"));
}

/// A message without the figures of the judge's own timing, which no two
/// runs share: "(ended after 77 ms, 1 ms of CPU)" of an ILE.
fn without_timings(v: &Value) -> String {
    let s = v.as_str().unwrap_or_default();
    match s.find("(ended after ") {
        Some(at) => match s[at..].find(')') {
            Some(len) => format!("{}(ended after …){}", &s[..at], &s[at + len + 1..]),
            None => s.to_string(),
        },
        None => s.to_string(),
    }
}

/// What a run of a hostile module ended with, and how long it took.
fn hostile(spec: &str, extra: &[&str], program: Vec<String>) -> (Value, Duration) {
    let done = run()
        .args(["--responder", &format!("wasm:{spec}")])
        .args(extra.iter().copied())
        .arg("--json")
        .program(program)
        .exec();
    let v = done.json();
    assert_eq!(v["responder"]["kind"], "wasi", "{spec}: {}", brief(&v));
    (v, done.elapsed)
}

/// How long a hostile module's run may take: its limits (1 s of CPU at
/// most here) and some slack for a loaded machine, well under the 7 s
/// default wall limit that would otherwise end it.
const QUICK: Duration = Duration::from_secs(5);

/// A hostile module ends in JE, with a message that says why, quickly.
fn je_quickly(spec: &str, extra: &[&str], program: Vec<String>, says: &str) -> Value {
    let (v, elapsed) = hostile(spec, extra, program);
    assert_eq!(v["verdict"], "JE", "{spec}: {}", brief(&v));
    assert_eq!(v["responder"]["verdict"], "JE", "{spec}: {}", brief(&v));
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains(says), "{spec}: expected {says:?} in {msg:?}");
    assert!(elapsed < QUICK, "{spec}: took {elapsed:?}: {}", brief(&v));
    v
}

#[test]
fn a_wasi_module_that_spins_is_stopped_by_its_time_limit() {
    let v = je_quickly(
        &wasi("loop"),
        &["--responder-time-limit", "1"],
        sh("echo hello; read x"),
        "time limit",
    );
    // It got its line before it began to spin.
    assert_eq!(v["stdout_bytes"], 6, "{}", brief(&v));
}

#[test]
fn a_wasi_module_that_allocates_without_end_is_stopped_by_its_memory_limit() {
    let v = je_quickly(
        &wasi("memory_bomb"),
        &["--responder-memory-limit", "64M"],
        sh("echo hello; read x"),
        "memory limit",
    );
    // Stopped, not merely refused (malloc's NULL would let it say "ok").
    let stderr = v["responder"]["stderr"].as_str().unwrap_or("");
    assert!(!stderr.contains("malloc said no"), "{}", brief(&v));
}

#[test]
fn a_wasi_module_that_floods_the_program_is_stopped_by_its_output_limit() {
    let v = je_quickly(
        &wasi("flood"),
        &["--responder-output-limit", "1M"],
        sh("cat > /dev/null"),
        "more than 1048576 bytes",
    );
    // The program is given no more than the limit.
    let got = v["stdin_bytes"].as_u64().unwrap();
    assert!(got <= 1 << 20, "{got} bytes: {}", brief(&v));
}

#[test]
fn a_wasi_module_that_floods_its_stderr_is_stopped_by_its_stderr_limit() {
    je_quickly(
        &format!("{} stderr", wasi("flood")),
        &["--responder-stderr-limit", "64K"],
        sh("cat > /dev/null"),
        "more than 65536 bytes to stderr",
    );
}

#[test]
fn a_wasi_module_that_traps_is_je() {
    je_quickly(
        &wasi("trap"),
        &[],
        sh("echo hello; read x"),
        "`unreachable`",
    );
}

/// The module's one preopened directory holds its own files and nothing
/// else: every way out (absolute paths, `..` through the libc and through
/// raw `path_open`, symlinks made among its writable files) fails, and not
/// one byte of the host reaches the program. Under testlib, exit 3 (FAIL)
/// is JE; under kattis, so is any exit but 42 and 43.
#[test]
fn a_wasi_module_cannot_read_outside_its_files() {
    let attempts = [
        "open(\"/etc/passwd\"): ",
        "open(\"../../etc/passwd\"): ",
        "open(\"/proc/self/environ\"): ",
        "path_open(3, \"../etc/passwd\"): ",
        "path_open(3, \"../etc/passwd\", follow): ",
        "path_open(3, \"/etc/passwd\"): ",
        "path_open(3, \"input/../../etc/passwd\"): ",
        "symlink(\"/etc/passwd\", \"/feedback/passwd\"): ",
        "symlink(\"../../../../../../etc/passwd\", \"/feedback/up\"): ",
        "symlink(\"/etc/passwd\", \"/tout.link\"): ",
    ];
    for protocol in ["testlib", "kattis"] {
        let (v, elapsed) = hostile(
            &wasi("escape"),
            &["--protocol", protocol, "--input", &guess_input()],
            sh("cat"),
        );
        assert_eq!(v["verdict"], "JE", "{protocol}: {}", brief(&v));
        let stderr = v["responder"]["stderr"].as_str().unwrap();
        assert!(
            line(stderr, "FAIL ").ends_with("failed; /input reads \"123456789\""),
            "{protocol}: {stderr}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("attempts to read outside failed"),
            "{protocol}: {}",
            brief(&v)
        );
        assert!(!stderr.contains("OPENED"), "{protocol}: {stderr}");
        for prefix in attempts {
            line(stderr, prefix);
        }
        // Nothing of the host's, as the contract says for this one.
        assert_eq!(
            line(stderr, attempts[0]),
            "open(\"/etc/passwd\"): ENOENT",
            "{protocol}"
        );
        assert_eq!(v["stdin_bytes"], 0, "{protocol}: {}", brief(&v));
        assert_eq!(
            v["responder"]["output_bytes"],
            0,
            "{protocol}: {}",
            brief(&v)
        );
        assert!(elapsed < QUICK, "{protocol}: took {elapsed:?}");
    }
}

/// argv is the module's name, the spec's words, the protocol's files, then
/// --validator-flags; the root holds just those files, /input and /answer
/// read-only, /tout writable; no environment; clocks and random bytes the
/// same on every run.
#[test]
fn a_wasi_module_gets_its_arguments_files_and_nothing_of_the_host() {
    let dir = temp_dir("wasi-args");
    let answer = dir.join("answer.txt");
    std::fs::write(&answer, "the answer\n").unwrap();
    let module = wasi("args");
    let judged = |protocol: &str, code: &str, answer: Option<&Path>| {
        let mut r = run()
            .args(["--responder", &format!("wasm:{module} {code} 'two words'")])
            .args(["--protocol", protocol, "--input", &guess_input()])
            .args(["--validator-flags", "f1 f2"]);
        if let Some(a) = answer {
            r = r.args(["--answer", a.to_str().unwrap()]);
        }
        // Reads to the end (the module's exit) and exits 0.
        let v = r.program(sh("cat > /dev/null")).json();
        assert_eq!(v["responder"]["kind"], "wasi", "{}", brief(&v));
        v
    };
    let argv = |v: &Value| -> Vec<String> {
        let stderr = v["responder"]["stderr"].as_str().unwrap();
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("argv["))
            .map(|l| {
                let value = &l[l.find(" = \"").unwrap() + 4..];
                value[..value.len() - 1].to_string()
            })
            .collect()
    };
    let stderr = |v: &Value| v["responder"]["stderr"].as_str().unwrap().to_string();

    let v = judged("testlib", "0", None);
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let a = argv(&v);
    assert!(a[0].ends_with("args.wasi.wasm"), "{a:?}");
    assert_eq!(
        a[1..],
        ["0", "two words", "/input", "/tout", "/answer", "f1", "f2"],
        "{}",
        stderr(&v)
    );
    let s = stderr(&v);
    assert_eq!(line(&s, "root:"), "root: answer input tout", "{s}");
    assert_eq!(line(&s, "read /input:"), "read /input: \"123456789\"");
    assert_eq!(line(&s, "read /answer:"), "read /answer: \"\"", "{s}");
    assert_ne!(line(&s, "write /input:"), "write /input: ok", "{s}");
    assert_eq!(line(&s, "write /tout:"), "write /tout: ok", "{s}");
    assert_eq!(line(&s, "read /tout:"), "read /tout: \"written\"", "{s}");
    assert_eq!(line(&s, "environment:"), "environment: 0 variables");
    let mono: Vec<u64> = line(&s, "monotonic:")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(mono[0] < 1_000_000_000, "{s}");
    assert_eq!(mono[1], mono[0] + 1000, "1 µs per read: {s}");
    assert_eq!(line(&s, "realtime:"), "realtime: 0 s", "{s}");
    assert_ne!(line(&s, "random:"), "random: 0000000000000000", "{s}");
    // Nothing depends on the host or the moment: a second run says the same.
    let again = judged("testlib", "0", None);
    assert_eq!(stderr(&again), s);

    let v = judged("kattis", "42", Some(&answer));
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let s = stderr(&v);
    assert_eq!(
        argv(&v)[1..],
        [
            "42",
            "two words",
            "/input",
            "/answer",
            "/feedback/",
            "f1",
            "f2"
        ],
        "{s}"
    );
    assert_eq!(line(&s, "root:"), "root: answer feedback input", "{s}");
    assert_eq!(line(&s, "read /answer:"), "read /answer: \"the answer\"");
    assert_ne!(line(&s, "write /input:"), "write /input: ok", "{s}");

    let v = judged("plain", "0", None);
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(
        argv(&v)[1..],
        ["0", "two words", "f1", "f2"],
        "{}",
        stderr(&v)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A write after the program has gone fails with EPIPE (SIGPIPE does not
/// exist in WASI): never taken without end, never a hang or a crash. Mostly
/// the first late write fails already (the judge looks whether anybody
/// still reads the program's stdin when its output ends); when the kernel
/// has not yet released the exiting program's stdin at that moment, what
/// the module writes before the loop handles the exit is taken, at most
/// the two queues' worth (1 MiB each), as a pipe takes writes until its
/// reader is gone.
#[test]
fn a_wasi_modules_write_after_the_program_ended_is_epipe() {
    let module = wasi("epipe");
    let mut first = 0;
    for _ in 0..10 {
        let v = run()
            .args(["--responder", &format!("wasm:{module}")])
            .program(sh("echo hi"))
            .json();
        let message = v["message"].as_str().unwrap_or_default().to_string();
        if message == "ok read 3 bytes, then the late write failed with EPIPE" {
            first += 1;
            assert_eq!(v["verdict"], "AC", "{}", brief(&v));
            continue;
        }
        let taken: u32 = message
            .strip_prefix("wrong answer read 3 bytes, then ")
            .and_then(|m| m.strip_suffix(" late writes of 4 KiB were taken, then EPIPE"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", brief(&v)));
        assert!(taken <= 512, "{}", brief(&v));
    }
    assert!(first > 0, "the first late write never failed in 10 runs");
}

/// 1 MiB through a module that echoes it upper-cased, checked byte for
/// byte by the program: nothing lost, duplicated or reordered, natively
/// and as WASI.
#[test]
fn a_wasi_modules_output_stays_complete_and_in_order() {
    // Sends from a thread while the main one reads, then closes its stdout
    // (the module's end of file, where it exits).
    let check = "import os, sys, threading\n\
        data = bytes(10 if i % 61 == 60 else 97 + (i * 7 + i // 997) % 26 for i in range(1 << 20))\n\
        def send():\n    sys.stdout.buffer.write(data)\n    sys.stdout.buffer.flush()\n    os.close(1)\n\
        t = threading.Thread(target=send)\nt.start()\n\
        got = sys.stdin.buffer.read()\nt.join()\n\
        if got != data.upper():\n\
        \x20   at = next((i for i, (a, b) in enumerate(zip(got, data.upper())) if a != b), min(len(got), len(data)))\n\
        \x20   sys.exit(f'{len(got)} bytes back, the first wrong at {at}')\n";
    let native = gcc("wasi-native/upper", &fixture("upper.c"));
    for responder in [format!("exec:{native}"), format!("wasm:{}", wasi("upper"))] {
        let v = run()
            .args(["--responder", &responder, "--protocol", "plain"])
            .program(["python3", "-c", check])
            .json();
        assert_eq!(v["verdict"], "AC", "{responder}: {}", brief(&v));
        assert_eq!(v["stdout_bytes"], 1 << 20, "{responder}");
        assert_eq!(v["stdin_bytes"], 1 << 20, "{responder}");
        assert_eq!(v["responder"]["output_bytes"], 1 << 20, "{responder}");
    }
}

/// A module that computes does not hold the program past its own limits:
/// the loop gets a turn at every tick the module runs, so the program that
/// waits for an answer is judged at its wall limit while the module is
/// still busy (and stopped with it).
#[test]
fn a_computing_module_leaves_the_program_judged_at_its_own_limit() {
    let started = std::time::Instant::now();
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("loop"))])
        .args(["--responder-time-limit", "20", "--wall-limit", "1"])
        .program(sh("echo go; read x"))
        .json();
    let took = started.elapsed();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    let wall = v["wall_time_ms"].as_u64().unwrap();
    assert!((1000..1500).contains(&wall), "{}", brief(&v));
    // The module ran all the while: it was not starved either.
    assert!(
        v["responder"]["cpu_time_ms"].as_u64().unwrap() >= 800,
        "{}",
        brief(&v)
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// The same checker source, run after the program natively
/// (`--checker exec:`) and as a WASI command (`--checker wasm:`), gives
/// the same verdict, message and score, under testlib and Kattis.
#[test]
fn checkers_in_c_judge_alike_native_and_wasi() {
    let dir = temp_dir("wasi-checkers");
    let answer = dir.join("answer");
    std::fs::write(&answer, "3\n5\n8\n").unwrap();
    let outputs = [
        ("right", "3 5 8\n", "AC"),
        ("wrong", "3 5 9\n", "WA"),
        ("short", "3 5\n", "WA"),
        ("longer", "3 5 8 13\n", "WA"),
        ("garbage", "3 x 8\n", "PE"),
    ];
    for (source, protocol) in [("checker_testlib", "testlib"), ("checker_kattis", "kattis")] {
        let native = gcc(
            if protocol == "testlib" {
                "wasi-native/checker_testlib"
            } else {
                "wasi-native/checker_kattis"
            },
            &fixture(&format!("{source}.c")),
        );
        let module = wasi(source);
        for (label, output, verdict) in outputs {
            // Kattis knows no presentation error.
            let verdict = if protocol == "kattis" && verdict == "PE" {
                "WA"
            } else {
                verdict
            };
            let judged = |checker: String| {
                run()
                    .args(["--protocol", protocol, "--checker", &checker])
                    .args(["--answer", answer.to_str().unwrap()])
                    .program(["printf", output])
                    .json()
            };
            let (n, w) = (
                judged(format!("exec:{native}")),
                judged(format!("wasm:{module}")),
            );
            for key in ["verdict", "message"] {
                assert_eq!(
                    n[key],
                    w[key],
                    "{protocol} {label} {key}: {}\n{}",
                    brief(&n),
                    brief(&w)
                );
            }
            assert_eq!(w["verdict"], verdict, "{protocol} {label}: {}", brief(&w));
            assert_eq!(w["checker"]["kind"], "wasi");
            assert_eq!(
                n["checker"]["points"], w["checker"]["points"],
                "{protocol} {label}"
            );
        }
    }
    // The Kattis validator's score.txt is the points.
    let v = run()
        .args([
            "--protocol",
            "kattis",
            "--checker",
            &format!("wasm:{}", wasi("checker_kattis")),
        ])
        .args(["--answer", answer.to_str().unwrap()])
        .program(["printf", "3 5 8\n"])
        .json();
    assert_eq!(v["checker"]["points"], 3.0, "{}", brief(&v));
    assert_eq!(v["message"], "all 3 numbers match");
    let _ = std::fs::remove_dir_all(dir);
}

/// A package whose output_validator/ holds its validator compiled to a
/// WASI command (the example "guess" with validator.c built for
/// wasm32-wasi) judges each submission as the package with the C source
/// does: the same verdict and message on every test.
#[test]
fn a_package_with_its_validator_compiled_to_wasi_judges_as_the_source() {
    let from = repo().join("examples/problems/guess");
    let pkg = temp_dir("wasi-package").join("guess");
    let copy = Command::new("cp")
        .arg("-r")
        .arg(&from)
        .arg(&pkg)
        .status()
        .unwrap();
    assert!(copy.success());
    let module = c_wasi(&from.join("output_validator/validator.c"));
    std::fs::remove_file(pkg.join("output_validator/validator.c")).unwrap();
    std::fs::copy(&module, pkg.join("output_validator/validator.wasm")).unwrap();
    let judged = |package: &Path, submission: &str| -> Value {
        let mut c = Command::new(crate::util::judge_bin());
        c.arg("problem")
            .arg(package)
            .arg(package.join("submissions").join(submission))
            .arg("--json");
        let done = crate::util::exec_command(c);
        serde_json::from_str(&done.stdout)
            .unwrap_or_else(|e| panic!("{submission}: {e}: {}", done.stderr))
    };
    let tests = |v: &Value| -> Vec<(Value, Value)> {
        v["submission"]["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["verdict"].clone(), t["message"].clone()))
            .collect()
    };
    for (submission, verdict) in [
        ("accepted/bsearch.c", "AC"),
        ("wrong_answer/linear.c", "WA"),
        ("wrong_answer/words.py", "WA"),
        ("run_time_error/null.c", "RE"),
    ] {
        let (native, wasi) = (judged(&from, submission), judged(&pkg, submission));
        assert_eq!(
            wasi["submission"]["verdict"], verdict,
            "{submission}: {wasi}"
        );
        // Tests run in parallel: which ones a first failure leaves skipped
        // is a race, the same with either validator. Those both judged
        // must agree.
        for (n, w) in tests(&native).iter().zip(tests(&wasi).iter()) {
            if !n.0.is_null() && !w.0.is_null() {
                assert_eq!(n, w, "{submission}");
            }
        }
        let first = &wasi["submission"]["tests"][0];
        assert_eq!(
            first["session"]["responder"]["kind"], "wasi",
            "{submission}"
        );
    }
    let _ = std::fs::remove_dir_all(pkg.parent().unwrap());
}

/// File calls that name more than the byte budget get an error number;
/// they never overflow it (a panic) nor make the judge copy what the module
/// names (64 iovecs of its whole memory in one write).
#[test]
fn file_writes_past_the_budget_are_enospc_and_cost_the_judge_nothing() {
    let wat = |name: &str| fixture(name).to_string_lossy().into_owned();
    let v = run()
        .args(["--protocol", "kattis"])
        .args([
            "--responder",
            &format!("wasm:{}", wat("set_size_overflow.wat")),
        ])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["responder"]["exit_code"], 42 + 51, "{}", brief(&v));
    let v = run()
        .args(["--responder-output-limit", "1M"])
        .args([
            "--responder",
            &format!("wasm:{}", wat("gather_amplified.wat")),
        ])
        .program(sh("read x"))
        .json();
    // The write is cut at the budget (1 MiB written, success), and the
    // judge held no copy of the gigabyte named.
    assert_eq!(v["responder"]["exit_code"], 0, "{}", brief(&v));
    let rss = v["judge_max_rss_kib"].as_u64().unwrap();
    assert!(
        rss < 128 * 1024,
        "the judge grew to {rss} KiB: {}",
        brief(&v)
    );
}

/// Its exit status is a process's: the low byte of the code.
#[test]
fn a_wasi_modules_exit_code_is_read_as_a_processes_status() {
    let wat = |name: &str| format!("wasm:{}", fixture(name).display());
    let v = run()
        .args(["--protocol", "kattis", "--responder", &wat("exit_298.wat")])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["responder"]["exit_code"], 42);
    let v = run()
        .args(["--responder", &wat("exit_minus_1.wat")])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor exited with code 255, which testlib does not define"
    );
}

/// Its wall clock runs from the session's start, as an exec interactor's:
/// a module that computes past --responder-wall-limit is JE then, not at
/// its (longer) time limit.
#[test]
fn a_wasi_module_is_held_to_its_wall_limit() {
    let started = std::time::Instant::now();
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("loop"))])
        .args([
            "--responder-wall-limit",
            "1",
            "--responder-time-limit",
            "20",
        ])
        .args(["--wall-limit", "5"])
        .program(sh("echo go; read x"))
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor did not finish within its wall-time limit of 1000 ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// A program the judge kills (its wall limit here) keeps its own verdict:
/// the module, which would only react to the kill (a write that fails, a
/// FAIL), is not run again, as an interactor process's late answer would
/// not count either.
#[test]
fn a_program_killed_by_the_judge_keeps_its_verdict_over_the_modules_reaction() {
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("flood"))])
        .args(["--wall-limit", "1"])
        .program(["/bin/sleep", "100"])
        .json();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
}

/// A program that reads steadily but slower than the module writes: the
/// judge holds at most the 1 MiB queue of the module's output, not
/// everything it ever sent. Its growth from 2 MiB sent to 32 MiB sent (to
/// the output limit) stays far below the 30 MiB more it would keep.
#[test]
fn a_slow_reader_does_not_make_the_judge_keep_what_it_read() {
    let slow = "import os, time\nwhile os.read(0, 65536):\n    time.sleep(0.0005)\n";
    let rss = |limit: &str| {
        let v = run()
            .args(["--responder", &format!("wasm:{}", wasi("flood"))])
            .args(["--responder-output-limit", limit, "--wall-limit", "30"])
            .program(["python3", "-c", slow])
            .json();
        assert!(
            v["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("the interactor sent more than"),
            "{}",
            brief(&v)
        );
        v["judge_max_rss_kib"].as_u64().unwrap() as i64
    };
    let (small, big) = (rss("2M"), rss("32M"));
    assert!(
        big - small < 12 * 1024,
        "the judge grew from {small} KiB to {big} KiB"
    );
}

/// A WASI command has a process's stack depth (8 MiB of wasm stack on its
/// own fiber), not the 512 KiB an ABI call on the caller's thread gets.
#[test]
fn a_wasi_module_recurses_as_deep_as_a_process() {
    let v = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("deep_recursion.wat").display()),
        ])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
}

/// `poll` with a timeout of 0 looks and goes on: it does not wait for the
/// input (the program here speaks only once the module has).
#[test]
fn a_poll_with_no_timeout_does_not_wait() {
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("poll_first"))])
        .program(sh("read x; echo ok"))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "ok the look did not wait");
}

/// A program killed at its limit while the module left a megabyte of its
/// output unread: the session ends with the program's verdict at once,
/// not when the module (which is not run again) reaches its wall limit.
#[test]
fn a_killed_programs_unread_output_does_not_hold_the_session() {
    let started = std::time::Instant::now();
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("flood"))])
        .args(["--wall-limit", "1", "--responder-wall-limit", "10"])
        .program(sh("head -c 5000000 /dev/zero; sleep 100"))
        .json();
    assert_ne!(v["verdict"], "JE", "{}", brief(&v));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}: {}",
        started.elapsed(),
        brief(&v)
    );
}

/// Kattis multi-pass with the validator compiled to WASI: its feedback
/// folder lasts from one pass to the next, as the format says (the
/// validator counts its passes in a file of its own there).
#[test]
fn a_wasi_validator_keeps_its_feedback_folder_across_passes() {
    let pkg = temp_dir("wasi-multipass").join("problem");
    let write = |rel: &str, text: &str| {
        let p = pkg.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "problem.yaml",
        "problem_format_version: 2025-09\nname: M\ntype: multi-pass\nlimits: {time_limit: 2, validation_passes: 3}\n",
    );
    write("data/secret/1.in", "5\n");
    write("data/secret/1.ans", "\n");
    write("double.py", "print(2 * int(input()))\n");
    std::fs::create_dir_all(pkg.join("output_validator")).unwrap();
    std::fs::copy(
        wasi("multipass"),
        pkg.join("output_validator/multipass.wasm"),
    )
    .unwrap();
    let mut c = Command::new(crate::util::judge_bin());
    c.arg("problem")
        .arg(&pkg)
        .arg(pkg.join("double.py"))
        .arg("--json");
    let done = crate::util::exec_command(c);
    let v: Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", done.stdout, done.stderr));
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "AC", "{v}");
    assert_eq!(t["passes"], 3, "{v}");
    // Counted 1, 2, 3: the count of pass 1 was there in passes 2 and 3.
    assert_eq!(t["message"], "3 passes", "{v}");
    let _ = std::fs::remove_dir_all(pkg.parent().unwrap());
}

/// The mistakes an organiser makes first get words they can act on: a
/// native build passed as a module says how to build for WebAssembly, and
/// a crash says what it usually is in C.
#[test]
fn a_native_build_or_a_crash_is_explained_in_the_organisers_terms() {
    let native = gcc("wasi-native/trap", &fixture("trap.c"));
    let v = run()
        .args(["--responder", &format!("wasm:{native}")])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("is a native executable (ELF), not a WebAssembly module: build it with clang --target=wasm32-wasi"),
        "{}",
        brief(&v)
    );
    let v = run()
        .args(["--responder", &format!("wasm:{}", wasi("trap"))])
        .program(sh("echo hello; read x"))
        .json();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("(abort(), a failed assert or a Rust panic)"),
        "{}",
        brief(&v)
    );
}
