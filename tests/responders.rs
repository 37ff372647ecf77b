use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::util::responders::{c_native, c_wasm, example, fixture, once, rust, Target};
use crate::util::{brief, ms, prog, repo, run};

fn guess_input() -> String {
    repo()
        .join("examples/guess-number/input.txt")
        .to_string_lossy()
        .into_owned()
}

/// A C program of examples/guess-number, compiled once.
fn guess_prog(name: &'static str) -> String {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guess-number");
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    once(name, || {
        let out = dir.join(name);
        let st = Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&out)
            .arg(repo().join(format!("examples/guess-number/{name}.c")))
            .status()
            .unwrap();
        assert!(st.success(), "gcc {name}.c");
        out.to_string_lossy().into_owned()
    })
}

/// The guess-the-number interactor in each of the three kinds.
fn guess_responders() -> Vec<(&'static str, String)> {
    let src = example("guess_number.c");
    vec![
        ("exec", format!("exec:{}", guess_prog("interactor"))),
        (
            "native",
            format!("native:{}", once("guess.so", || c_native(&src))),
        ),
        (
            "wasm",
            format!("wasm:{}", once("guess.wasm", || c_wasm(&src))),
        ),
    ]
}

#[test]
fn guess_the_number_is_judged_alike_by_every_kind() {
    let sh = |script: &str| vec!["/bin/sh".to_string(), "-c".into(), script.into()];
    let solutions: Vec<(&str, Vec<String>, &str)> = vec![
        ("binary search", vec![guess_prog("solution")], "AC"),
        ("linear search: 31 queries", vec![guess_prog("wrong")], "WA"),
        ("a guess out of range", sh("echo 0; read x"), "WA"),
        ("garbage", sh("echo hello; read x"), "PE"),
        ("never flushes", vec![guess_prog("noflush")], "ILE"),
        ("exits before guessing", sh("exit 0"), "PE"),
        (
            "floods one endless line",
            sh("head -c 50000000 /dev/zero"),
            "PE",
        ),
    ];
    let kinds = guess_responders();
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (label, program, expected) in &solutions {
        for (kind, responder) in &kinds {
            let v = run()
                .args(["--responder", responder, "--input", &guess_input()])
                .args(["--wall-limit", "1"])
                .program(program.clone())
                .json();
            let got = v["verdict"].as_str().unwrap().to_string();
            table.push_str(&format!("{label:28} {kind:7} {got:4} {}\n", v["message"]));
            if got != *expected {
                wrong.push(format!(
                    "{label} / {kind}: expected {expected}, {}",
                    brief(&v)
                ));
            }
            // The interactor's own verdict is the one that fired wherever
            // the program did not fail on its own.
            if *expected != "ILE" {
                assert_eq!(
                    v["responder"]["verdict"],
                    *expected,
                    "{label} / {kind}: {}",
                    brief(&v)
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}\n{table}", wrong.join("\n"));
}

#[test]
fn native_and_wasm_builds_of_one_source_say_the_same() {
    let kinds = guess_responders();
    for program in [guess_prog("solution"), guess_prog("wrong")] {
        let results: Vec<_> = kinds[1..]
            .iter()
            .map(|(_, r)| {
                run()
                    .args(["--responder", r, "--input", &guess_input()])
                    .program([program.clone()])
                    .json()
            })
            .collect();
        for key in ["verdict", "message", "stdin_bytes", "stdout_bytes"] {
            assert_eq!(results[0][key], results[1][key], "{key}");
        }
        assert_eq!(
            results[0]["responder"]["output_bytes"],
            results[1]["responder"]["output_bytes"]
        );
    }
    let v = run()
        .args(["--responder", &kinds[2].1, "--input", &guess_input()])
        .program([guess_prog("solution")])
        .json();
    assert_eq!(v["message"], "found 123456789 in 29 queries");
    assert_eq!(v["responder"]["kind"], "wasm");
    // 29 answers: 28 of "higher\n"/"lower\n" and "correct\n".
    assert_eq!(v["stdin_bytes"], v["responder"]["output_bytes"]);
}

/// Run `program` against a hostile responder: JE, quickly, with a message
/// that names what went wrong.
fn hostile(responder: &str, extra: &[&str], says: &str) {
    let done = run()
        .args(["--responder", responder])
        .args(extra.iter().copied())
        .arg("--json")
        .program(["/bin/sh", "-c", "echo hello; read x"])
        .exec();
    let v = done.json();
    assert_eq!(v["verdict"], "JE", "{responder}: {}", brief(&v));
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(says),
        "{responder}: expected {says:?} in {msg:?}"
    );
    assert!(
        done.elapsed.as_secs() < 10,
        "{responder}: took {:?}",
        done.elapsed
    );
}

#[test]
fn hostile_wasm_modules_are_je() {
    let wat = |n: &str| format!("wasm:{}", fixture(n).display());
    hostile(
        &wat("loop.wat"),
        &["--responder-time-limit", "1"],
        "ran past the responder's time limit",
    );
    hostile(
        &wat("grow.wat"),
        &["--responder-memory-limit", "16M"],
        "exceeded the responder's memory limit of 16777216 bytes",
    );
    hostile(
        &wat("trap.wat"),
        &[],
        "trapped: wasm `unreachable` instruction executed",
    );
    hostile(
        &wat("version2.wat"),
        &[],
        "speaks responder ABI version 2, this judge speaks version 1",
    );
    hostile(
        &wat("wild_reply.wat"),
        &[],
        "lies outside the module's memory",
    );
    hostile(
        &wat("bad_verdict.wat"),
        &[],
        "the reply's verdict 99 is not one of the ABI's",
    );
    hostile(
        &wat("imports.wat"),
        &[],
        "imports wasi_snapshot_preview1::fd_write, but a responder may import nothing",
    );
    hostile(
        &wat("wasi_reactor.wat"),
        &[],
        "imports wasi_snapshot_preview1 but exports no _start: a WASI command is needed",
    );
    hostile(
        &wat("foreign_import.wat"),
        &[],
        "imports env::host_secret: a responder module imports nothing (the event ABI, version 1) or only wasi_snapshot_preview1 (a WASI command)",
    );
    hostile(
        &wat("huge_memory.wat"),
        &["--responder-memory-limit", "64M"],
        "its initial memory and tables are larger than the responder's memory limit",
    );
    hostile(
        &wat("nan_points.wat"),
        &[],
        "the reply's points (NaN) are not a finite number",
    );
    hostile(
        &wat("tables.wat"),
        &["--responder-memory-limit", "64M"],
        "exceeded the responder's memory limit of 67108864 bytes",
    );
    hostile(
        &wat("multi_memory.wat"),
        &["--responder-memory-limit", "64M"],
        "not a WebAssembly module: failed to parse WebAssembly module: multiple memories",
    );
    hostile(&wat("not_a_module.wasm"), &[], "not a WebAssembly module");
    let huge = Path::new(env!("CARGO_TARGET_TMPDIR")).join("huge.wasm");
    std::fs::write(&huge, vec![0u8; 17 << 20]).unwrap();
    hostile(
        &format!("wasm:{}", huge.display()),
        &[],
        "is over 16777216 bytes, the most a responder module may have",
    );
    // Neither read without end nor waited on.
    hostile("wasm:/dev/zero", &[], "is not a regular file");
    let fifo = Path::new(env!("CARGO_TARGET_TMPDIR")).join("module.fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    hostile(
        &format!("wasm:{}", fifo.display()),
        &[],
        "is not a regular file",
    );
    hostile(
        &wat("start_loop.wat"),
        &["--responder-time-limit", "1"],
        "cannot be instantiated: ran past the responder's time limit",
    );
}

/// A slow in-process responder is called chunk after chunk (the program's
/// reply is read again right after an answer; a flood comes in full
/// reads): the loop must still look at the clock between calls, or the
/// session would run past its wall limit.
#[test]
fn a_slow_responder_does_not_delay_the_wall_limit() {
    let slow = once("slow_echo.so", || c_native(&fixture("slow_echo.c")));
    let judged = |args: &str, program: Vec<String>| {
        run()
            .args(["--responder", &format!("native:{slow}{args}")])
            .args(["--time-limit", "5", "--wall-limit", "0.3"])
            .args(["--responder-time-limit", "10"])
            .program(program)
            .json()
    };
    // A ping-pong with a responder that takes 10 ms per answer.
    let v = judged("", vec![prog("echo_lines")]);
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    let wall = ms(&v["wall_time_ms"]);
    // One answer (10 ms) may be under way when the limit passes.
    assert!((300..=330).contains(&wall), "wall {wall} ms: {}", brief(&v));
    assert!(
        v["stdin_bytes"].as_u64().unwrap() >= 5 * 20,
        "{}",
        brief(&v)
    );
    // An answer that comes after the limit is not delivered: the program,
    // which was waiting for it, is judged as found waiting, not woken.
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .ends_with("it was waiting for input that never came"),
        "{}",
        brief(&v)
    );
    // A flood read by a responder that takes 10 ms per chunk.
    let v = judged(" sink", vec![prog("flood")]);
    let wall = ms(&v["wall_time_ms"]);
    assert!((300..=330).contains(&wall), "wall {wall} ms: {}", brief(&v));
}

#[test]
fn hostile_native_plugins_are_je() {
    let panics = once("panic.so", || {
        rust(&fixture("panic.rs"), "panics", Target::Native)
    });
    hostile(
        &format!("native:{panics}"),
        &[],
        "the responder panicked: cannot handle 6 bytes",
    );
    hostile(
        &format!("native:{panics} refuse"),
        &[],
        "the responder failed: could not start: told to refuse",
    );
    let big = once("big_reply.so", || c_native(&fixture("big_reply.c")));
    hostile(
        &format!("native:{big}"),
        &[],
        "the reply sends 104857600 bytes at once",
    );
    hostile(
        &format!("native:{}", fixture("not_a_module.wasm").display()),
        &[],
        "not a loadable shared library",
    );
}

#[test]
fn a_missing_module_is_a_usage_error() {
    for kind in ["native", "wasm"] {
        let done = run()
            .args(["--responder", &format!("{kind}:/nonexistent/module")])
            .program(["/bin/true"])
            .exec();
        assert_eq!(done.status, 2, "{kind}: {}", done.stderr);
        assert!(
            done.stderr
                .contains("cannot read the responder module /nonexistent/module"),
            "{}",
            done.stderr
        );
    }
}

/// A Python program that plays `rounds` of ping-pong with an echo.
fn ping_pong(rounds: u32) -> Vec<String> {
    vec![
        "python3".into(),
        "-c".into(),
        format!(
            "import sys\nfor i in range({rounds}):\n    print('ping', i, flush=True)\n    assert sys.stdin.readline() == 'ping %d\\n' % i\n"
        ),
    ]
}

#[test]
fn the_sdk_echo_builds_for_both_kinds() {
    let src = example("echo/src/lib.rs");
    let native = once("echo.so", || rust(&src, "echo_responder", Target::Native));
    let wasm = once("echo.wasm", || rust(&src, "echo_responder", Target::Wasm));
    // 1000 lines "ping I\n": 10 of 7 bytes, 90 of 8, 900 of 9.
    let bytes = 10 * 7 + 90 * 8 + 900 * 9;
    for r in [format!("native:{native}"), format!("wasm:{wasm}")] {
        let v = run()
            .args(["--responder", &r])
            .program(ping_pong(1000))
            .json();
        assert_eq!(v["verdict"], "AC", "{r}: {}", brief(&v));
        assert_eq!(v["message"], format!("echoed {bytes} bytes"));
        assert_eq!(v["stdin_bytes"], bytes);
        assert_eq!(v["stdout_bytes"], bytes);
    }
}

#[test]
fn the_sdk_checker_compares_tokens() {
    let src = example("checker/src/lib.rs");
    let native = once("checker.so", || {
        rust(&src, "checker_responder", Target::Native)
    });
    let wasm = once("checker.wasm", || {
        rust(&src, "checker_responder", Target::Wasm)
    });
    let dir = crate::util::temp_dir("checker");
    std::fs::write(dir.join("in"), "3 4\n").unwrap();
    std::fs::write(dir.join("ans"), "7\n12\n").unwrap();
    let (input, answer) = (dir.join("in"), dir.join("ans"));
    let sum_and_product = "a,b=map(int,input().split()); print(a+b); print(a*b)";
    let cases: [(&str, &str, &str); 4] = [
        (sum_and_product, "AC", "2 tokens match"),
        (
            "a,b=map(int,input().split()); print(a+b); print(a-b)",
            "WA",
            "token 2: expected \"12\", got \"-1\"",
        ),
        (
            "a,b=map(int,input().split()); print(a+b)",
            "WA",
            "the output ended after 1 of 2 tokens",
        ),
        (
            "print('7 12 13')",
            "WA",
            "extra output: token 3 (\"13\") after the 2 expected",
        ),
    ];
    // As a responder, and as what `--checker native:|wasm:` names.
    for (flag, r) in [
        ("--responder", format!("native:{native}")),
        ("--responder", format!("wasm:{wasm}")),
        ("--checker", format!("native:{native}")),
        ("--checker", format!("wasm:{wasm}")),
    ] {
        for (code, verdict, message) in cases {
            let v = run()
                .args([flag, &r])
                .args([
                    "--input",
                    input.to_str().unwrap(),
                    "--answer",
                    answer.to_str().unwrap(),
                ])
                .program(["python3", "-c", code])
                .json();
            assert_eq!(v["verdict"], verdict, "{flag} {r} {code}: {}", brief(&v));
            assert_eq!(v["message"], message, "{flag} {r} {code}");
            assert_eq!(v["stdin_bytes"], 4, "the checker feeds the input");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The listing that follows `<!-- worked-example: LANG -->` in
/// docs/responder-abi.md.
fn worked_example(lang: &str) -> String {
    let doc = std::fs::read_to_string(repo().join("docs/responder-abi.md")).unwrap();
    let marker = format!("<!-- worked-example: {lang} -->");
    let after = &doc[doc.find(&marker).expect("the marker is in the doc") + marker.len()..];
    let body = &after[after.find('\n').unwrap() + 1..];
    let body = &body[body.find('\n').unwrap() + 1..]; // past the opening fence
    body[..body.find("\n```").unwrap() + 1].to_string()
}

#[test]
fn the_worked_examples_of_the_abi_doc_build_and_judge() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("worked-example");
    std::fs::create_dir_all(&dir).unwrap();
    let (c_src, rust_src) = (dir.join("sum.c"), dir.join("sum.rs"));
    std::fs::write(&c_src, worked_example("c")).unwrap();
    std::fs::write(&rust_src, worked_example("rust")).unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, "3 4\n").unwrap();
    let modules = [
        format!("native:{}", c_native(&c_src)),
        format!("wasm:{}", c_wasm(&c_src)),
        format!("native:{}", rust(&rust_src, "sum", Target::Native)),
        format!("wasm:{}", rust(&rust_src, "sum", Target::Wasm)),
    ];
    let cases = [
        ("read a b; echo $((a+b))", "AC", "the sum is right"),
        ("read a b; echo $((a*b))", "WA", "the sum is wrong"),
        ("read a b; echo seven", "PE", "expected one integer"),
        ("read a b", "PE", "the program ended without answering"),
    ];
    for m in &modules {
        for (script, verdict, message) in cases {
            let v = run()
                .args(["--responder", m, "--input", input.to_str().unwrap()])
                .program(["/bin/sh", "-c", script])
                .json();
            assert_eq!(v["verdict"], verdict, "{m} {script}: {}", brief(&v));
            assert_eq!(v["message"], message, "{m} {script}");
            assert_eq!(v["stdin_bytes"], 4, "{m}: the question \"3 4\\n\"");
        }
    }
}

/// A module whose reply is still waiting for room in the program's stdin
/// when the program exits: the rest is dropped, the program's last output
/// is read, and the module's verdict at the exit counts. (It once hung the
/// session: output was left unread behind the waiting reply.)
#[test]
fn a_reply_left_waiting_at_the_programs_exit_does_not_hang() {
    let done = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("flood_then_accept.wat").display()),
        ])
        .arg("--json")
        .program(["/bin/sh", "-c", "echo bye; exit 0"])
        .exec();
    let v = done.json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "bye\n");
    assert!(done.elapsed.as_secs() < 10, "took {:?}", done.elapsed);
}

/// A module that sends more than the stdin queue holds before the program
/// has read anything, to a program that writes everything it reads: the
/// program's output must keep being read while the reply waits, or both
/// sides block forever (it was ILE).
#[test]
fn a_program_echoing_a_large_reply_is_read_while_the_reply_waits() {
    let v = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("flood_then_accept.wat").display()),
        ])
        .args(["--json-output-limit", "10M"])
        .program(["/bin/sh", "-c", "head -c 10485760 | tr '\\000' x"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdin_bytes"], 10 << 20);
    assert_eq!(v["stdout_bytes"], 10 << 20);
    // The bytes sent are the module's memory from address 0: zeros but for
    // two of its data bytes (the reply's 0xa0 and the verdict's 0x01).
    let out = v["stdout"].as_str().unwrap();
    assert_eq!(out.bytes().filter(|&b| b == b'x').count(), (10 << 20) - 2);
}

/// A module whose verdict at the program's exit is `verdict` (1 AC, 2 WA).
pub fn verdict_module(verdict: u8) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "judge_abi_version") (result i32) (i32.const 1))
  (func (export "judge_buffer") (param i32) (result i32) (i32.const 4096))
  (func (export "judge_new") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 1))
  (func (export "judge_start") (param i32) (result i32) (i32.const 0))
  (func (export "judge_on_output") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (func (export "judge_on_exit") (param i32 i32 i32) (result i32) (i32.const 2048))
  (func (export "judge_free") (param i32))
  (data (i32.const 2064) "\{verdict:02x}\00\00\00"))"#
    )
}

/// A `judge run` per test compiles a module once: later processes load it
/// from the on-disk cache, a changed module is compiled again (and judged
/// as it now is), and a cache directory others could write is not used.
#[test]
fn compiled_modules_are_kept_on_disk_across_runs() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache");
    let _ = std::fs::remove_dir_all(&base);
    let (cache, module) = (base.join("cache"), base.join("m.wat"));
    std::fs::create_dir_all(&base).unwrap();
    let judged = |cache: &Path| {
        let v = run()
            .env("JUDGE_CACHE_DIR", cache.to_str().unwrap())
            .args(["--responder", &format!("wasm:{}", module.display())])
            .program(["/bin/true"])
            .arg("--json")
            .exec()
            .json();
        (
            v["verdict"].as_str().unwrap().to_string(),
            v["responder"]["module"].as_str().unwrap().to_string(),
        )
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    std::fs::write(&module, verdict_module(1)).unwrap();
    assert_eq!(judged(&cache), pair("AC", "compiled"));
    assert_eq!(judged(&cache), pair("AC", "disk"));
    assert_eq!(judged(&cache), pair("AC", "disk"));
    std::fs::write(&module, verdict_module(2)).unwrap();
    assert_eq!(judged(&cache), pair("WA", "compiled"));
    assert_eq!(judged(&cache), pair("WA", "disk"));
    // The first version's entry is still there, and still matches it.
    std::fs::write(&module, verdict_module(1)).unwrap();
    assert_eq!(judged(&cache), pair("AC", "disk"));

    // The cache's one directory (for this engine).
    let sub = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // The one entry of the current module (there are two: versions 1 and 2).
    let entry = || {
        let source = std::fs::read(&module).unwrap();
        std::fs::read_dir(&sub)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let bytes = std::fs::read(p).unwrap();
                bytes.len() > 32 + source.len() && bytes[32..32 + source.len()] == source[..]
            })
            .expect("an entry holding the module's source")
    };
    // Temporary files a judge killed while writing left behind go once
    // they are an hour old; a younger one may be another judge's at work.
    let (stale, fresh) = (sub.join(".tmp-1-0"), sub.join(".tmp-2-0"));
    std::fs::write(&stale, "torn").unwrap();
    std::fs::write(&fresh, "being written").unwrap();
    assert!(Command::new("touch")
        .args(["-d", "2 hours ago"])
        .arg(&stale)
        .status()
        .unwrap()
        .success());
    // A stored source that differs from the module's (a hash collision,
    // planted or not) is a miss, whatever the code beside it.
    let planted = entry();
    let mut bytes = std::fs::read(&planted).unwrap();
    let last = 32 + std::fs::read(&module).unwrap().len() - 2;
    bytes[last] ^= 1;
    std::fs::write(&planted, &bytes).unwrap();
    assert_eq!(judged(&cache), pair("AC", "compiled"));
    assert_eq!(judged(&cache), pair("AC", "disk"));
    assert!(
        !stale.exists() && fresh.exists(),
        "only the stale temporary goes"
    );
    std::fs::remove_file(&fresh).unwrap();
    // A torn entry (a judge killed while writing, a full disk) is a miss.
    let torn = entry();
    let len = std::fs::metadata(&torn).unwrap().len();
    std::fs::File::options()
        .write(true)
        .open(&torn)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    assert_eq!(judged(&cache), pair("AC", "compiled"));
    assert_eq!(judged(&cache), pair("AC", "disk"));

    // Directories someone else could change are not used, nor written.
    let refused = |dir: &Path, why: &str| {
        assert_eq!(judged(dir), pair("AC", "compiled"), "{why}");
        assert_eq!(judged(dir), pair("AC", "compiled"), "{why}");
    };
    let chmod = |mode: &str, dir: &Path| {
        assert!(Command::new("chmod")
            .arg(mode)
            .arg(dir)
            .status()
            .unwrap()
            .success());
    };
    let open = base.join("open");
    std::fs::create_dir_all(&open).unwrap();
    chmod("0777", &open);
    refused(&open, "a world-writable directory");
    refused(&open.join("below"), "below a world-writable directory");
    assert_eq!(
        std::fs::read_dir(&open).unwrap().count(),
        0,
        "nothing written"
    );
    let sticky = base.join("sticky");
    std::fs::create_dir_all(&sticky).unwrap();
    chmod("1777", &sticky);
    assert_eq!(
        judged(&sticky.join("c")),
        pair("AC", "compiled"),
        "like /tmp"
    );
    assert_eq!(judged(&sticky.join("c")), pair("AC", "disk"), "like /tmp");
    let real = base.join("real");
    std::fs::create_dir_all(&real).unwrap();
    chmod("0700", &real);
    let link = base.join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    refused(&link, "a symbolic link");
    refused(&link.join("below"), "below a symbolic link");
    assert_eq!(
        std::fs::read_dir(&real).unwrap().count(),
        0,
        "nothing written"
    );
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let foreign = base.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        chmod("0755", &foreign);
        assert!(Command::new("chown")
            .arg("65534:65534")
            .arg(&foreign)
            .status()
            .unwrap()
            .success());
        refused(&foreign, "another user's directory");
        assert_eq!(
            std::fs::read_dir(&foreign).unwrap().count(),
            0,
            "nothing written"
        );
    }
    assert_eq!(judged(Path::new("")), pair("AC", "compiled"));
}

// ---- What docs/responder-abi.md promises, sentence by sentence (issue 15).

/// "A WebAssembly module must also export its linear memory, named memory."
#[test]
fn a_wasm_module_must_export_its_memory() {
    hostile(
        &format!("wasm:{}", fixture("no_memory.wat").display()),
        &[],
        "exports no memory named \"memory\"",
    );
}

/// "A native plugin need not export judge_buffer."
#[test]
fn a_native_plugin_without_judge_buffer_is_accepted() {
    let so = once("no_buffer.so", || c_native(&fixture("no_buffer.c")));
    let v = run()
        .args(["--responder", &format!("native:{so}")])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "no buffer needed");
}

/// "The first buffer holds the arguments, the input and the answer
/// together: n can be as large as --input" (here 1 MB, which a fixed 64 KiB
/// buffer could not take), and "NULL from judge_buffer is JE, naming n".
#[test]
fn judge_buffer_takes_the_whole_input_and_null_is_je() {
    let dir = crate::util::temp_dir("abi-buffer");
    let input = dir.join("input");
    std::fs::write(&input, vec![b'x'; 1_000_000]).unwrap();
    let input = input.to_string_lossy().into_owned();
    let v = run()
        .args([
            "--responder",
            &format!("wasm:{} a b", fixture("feed_input.wat").display()),
        ])
        .args(["--input", &input])
        .program(["/usr/bin/wc", "-c"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "fed");
    assert_eq!(v["stdout"], "1000000\n");
    let done = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("null_buffer.wat").display()),
        ])
        .args(["--input", &input, "--json"])
        .program(["/bin/cat"])
        .exec();
    let v = done.json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    // args ("" here, no words), input and answer: 0 + 1,000,000 + 0 bytes.
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("judge_buffer(1000000) returned 0x0"), "{m}");
}

/// "args are split into words as a shell would: quotes and backslashes,
/// no expansions; each word followed by a NUL byte."
#[test]
fn args_are_shell_words_each_followed_by_nul() {
    let spec = format!(
        r#"wasm:{} one "two words" it\'s '$HOME' """#,
        fixture("say_args.wat").display()
    );
    let v = run()
        .args(["--responder", &spec])
        .program(["/bin/sh", "-c", "tr '\\0' '|'"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "one|two words|it's|$HOME||");
}

/// "A verdict from judge_start is honoured: the session ends with it."
#[test]
fn a_verdict_from_judge_start_ends_the_session() {
    let v = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("start_verdict.wat").display()),
        ])
        .program(["/bin/cat"])
        .json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    assert_eq!(v["message"], "refused at once");
    assert_eq!(v["responder"]["verdict"], "WA");
    // As after any verdict: the program is not waited for.
    assert_eq!(v["stdout_bytes"], 0);
}

/// "judge_on_exit may send bytes with its verdict; the program is gone,
/// so they are dropped, and the verdict stands."
#[test]
fn send_with_the_verdict_of_judge_on_exit_is_allowed_and_dropped() {
    let v = run()
        .args([
            "--responder",
            &format!("wasm:{}", fixture("exit_send.wat").display()),
        ])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "sent late");
    assert_eq!(v["stdin_bytes"], 0);
}

/// "clang -O2 emits calls to memset and memcpy on bare wasm32; define them
/// (hidden) in the module": without them the link fails on memset, with
/// them the module loads (they are not exports) and runs.
#[test]
fn bare_wasm32_needs_its_own_memset_and_the_fix_works() {
    let src = fixture("zeroes.c");
    let out = crate::util::temp_dir("abi-memset").join("z.wasm");
    let o = std::process::Command::new("clang")
        .args(["--target=wasm32", "-nostdlib", "-O2", "-DNO_MEMFUNCS", "-I"])
        .arg(crate::util::repo().join("responders/include"))
        .args(["-Wl,--no-entry", "-Wl,--export-dynamic", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .expect("clang");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("undefined symbol: memset"));
    let wasm = once("zeroes.wasm", || c_wasm(&src));
    let v = run()
        .args(["--responder", &format!("wasm:{wasm}")])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "4096 zeroes");
}
