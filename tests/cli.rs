use crate::util::*;

fn usage_error(args: &[&str]) -> String {
    let d = run()
        .args(args.iter().copied())
        .program(["/bin/true"])
        .exec();
    assert_eq!(d.status, 2, "{args:?}: stderr {}", d.stderr);
    assert_eq!(d.stdout, "");
    assert_eq!(d.stderr.lines().count(), 1, "one line, got: {}", d.stderr);
    d.stderr
}

#[test]
fn bad_flags_are_one_line_and_exit_2() {
    assert!(usage_error(&["--bogus"]).contains("--bogus"));
    assert!(usage_error(&["--time-limit", "fast"]).contains("invalid duration"));
    assert!(usage_error(&["--memory-limit", "12Q"]).contains("invalid size"));
    assert!(usage_error(&["--precedence", "ioi"]).contains("unknown precedence"));
    assert!(usage_error(&["--protocol", "x"]).contains("unknown protocol"));
    assert!(usage_error(&["--cpus", "99999"]).contains("CPU"));
    assert!(usage_error(&["--direct"]).contains("--direct needs"));
    assert!(usage_error(&["--responder", "telepathy:x"]).contains("unknown responder kind"));
    assert!(usage_error(&["--responder", "exec:'unterminated"]).contains("unterminated"));
    assert!(usage_error(&["--env", "NOEQUALS"]).contains("KEY=VALUE"));
}

#[test]
fn missing_things_are_exit_2() {
    assert!(usage_error(&["--stdin", "/nonexistent/in.txt"]).contains("/nonexistent/in.txt"));
    // A FIFO nobody writes would hold the loop (and every limit) forever.
    let fifo = temp_dir("stdin-fifo").join("in.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    assert!(usage_error(&["--stdin", fifo.to_str().unwrap()])
        .contains("a FIFO, a socket or a terminal"));
    // A terminal nobody types at, likewise.
    // SAFETY: a new pty master we own and close; ptsname_r fills our buffer.
    let (master, name) = unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0 && libc::grantpt(master) == 0 && libc::unlockpt(master) == 0);
        let mut buf = [0 as libc::c_char; 64];
        assert_eq!(libc::ptsname_r(master, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned();
        (master, name)
    };
    assert!(usage_error(&["--stdin", &name]).contains("a terminal"));
    unsafe { libc::close(master) };
    assert!(usage_error(&["--responder", "exec:/nonexistent/interactor"]).contains("not found"));
    assert!(
        usage_error(&["--responder", "exec:/bin/true", "--input", "/nonexistent/x"])
            .contains("input")
    );
    let d = run().program(["/nonexistent/program"]).exec();
    assert_eq!(d.status, 2);
    assert_eq!(d.stderr, "judge: /nonexistent/program: program not found\n");
    let dir = temp_dir("noexec");
    let f = dir.join("data.txt");
    std::fs::write(&f, "just text").unwrap();
    let d = run().program([f.to_str().unwrap()]).exec();
    assert_eq!(d.status, 2);
    assert!(d.stderr.contains("not executable"), "{}", d.stderr);
    let d = run().program(["/tmp"]).exec();
    assert_eq!(d.status, 2);
}

#[test]
fn not_a_binary_is_exit_2() {
    let dir = temp_dir("notbin");
    let f = dir.join("prog");
    std::fs::write(&f, [0x7f, b'E', b'L', b'F', 0, 0, 0]).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&f)
        .status()
        .unwrap();
    let d = run().program([f.to_str().unwrap()]).exec();
    assert_eq!(d.status, 2, "{}", d.stderr);
    assert!(d.stderr.contains("executing the program"), "{}", d.stderr);
}

#[test]
fn help_lists_defaults() {
    let out = std::process::Command::new(judge_bin())
        .args(["run", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "[default: 2]",
        "[default: 256M]",
        "[default: 64M]",
        "[default: 1M]",
        "[default: 64]",
        "3 x time limit + 1 s",
        "[default: kattis]",
    ] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
}

#[test]
fn human_mode_prints_stdout_and_a_summary() {
    let d = run()
        .program([prog("exit_n"), "0".into(), "hi".into()])
        .exec();
    assert_eq!(d.status, 0);
    assert_eq!(d.stdout, "hi\n");
    assert!(d.stderr.starts_with("AC: "), "{}", d.stderr);
    let d = run().program([prog("exit_n"), "4".into()]).exec();
    assert_eq!(d.status, 1);
    assert!(d.stderr.starts_with("RE: "), "{}", d.stderr);
}

#[test]
fn json_has_the_contract_fields() {
    let v = run().program(["/bin/true"]).json();
    for key in [
        "verdict",
        "exit_code",
        "signal",
        "cpu_time_ms",
        "wall_time_ms",
        "memory_kib",
        "stdout_bytes",
        "stderr_bytes",
        "stdin_bytes",
        "message",
        "responder",
        "isolation",
        "stdout",
        "stderr",
        "limits",
        "first_to_finish",
        "precedence",
        "rule",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    for limit in [
        "cpu_time",
        "wall_time",
        "memory",
        "stdout",
        "stderr",
        "processes",
    ] {
        let l = &v["limits"][limit];
        assert!(
            l["enforced_by"].is_array() && l["measured_by"].is_string(),
            "{limit}: {l}"
        );
    }
}

#[test]
fn environment_is_clean_unless_passed() {
    let v = run()
        .env("JUDGE_SECRET", "leak")
        .args(["--env", "MINE=yes"])
        .program(["/usr/bin/env"])
        .json();
    let env = v["stdout"].as_str().unwrap();
    assert!(!env.contains("JUDGE_SECRET"), "{env}");
    assert!(env.contains("MINE=yes\n"), "{env}");
    assert!(env.contains("PATH="), "{env}");
}

#[test]
fn transcript_records_the_conversation() {
    let dir = temp_dir("transcript");
    let t = dir.join("t.jsonl");
    let v = run()
        .args(["--transcript", t.to_str().unwrap(), "--responder", &interactor("echo")])
        .program([python().as_str(), "-c", "import sys\nprint('ping', flush=True)\nassert sys.stdin.readline() == 'ping\\n'\nprint('bye', flush=True)\nassert sys.stdin.readline() == 'bye\\n'"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&t)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let chunks: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l.get("stream").is_some())
        .map(|l| {
            (
                l["stream"].as_str().unwrap().to_string(),
                l["data"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        chunks,
        [
            ("stdout".into(), "ping\n".into()),
            ("stdin".into(), "ping\n".into()),
            ("stdout".into(), "bye\n".into()),
            ("stdin".into(), "bye\n".into())
        ]
    );
    // Chunks are stamped as the loop handles them, so their times go
    // forward; an event such as program_exit carries the time it happened
    // (init's reap), which may precede chunks drained after it
    // (docs/result-schema.md).
    let mut last_t = 0.0;
    for l in lines.iter().filter(|l| l.get("stream").is_some()) {
        let t = l["t_ms"].as_f64().unwrap();
        assert!(t >= last_t, "time goes forward");
        last_t = t;
    }
    let end = lines.last().unwrap();
    assert_eq!(end["event"], "end");
    assert_eq!(end["verdict"], "AC");
    assert!(lines
        .iter()
        .any(|l| l["event"] == "program_exit" && l["exit_code"] == 0));
    assert!(lines
        .iter()
        .filter(|l| l.get("stream").is_some())
        .all(|l| l["cpu_ms"].is_number()));
}

/// Without --json the program's stdout goes through to ours byte for byte
/// (by splice where it can), and no further than the cap.
#[test]
fn human_mode_forwards_exactly_up_to_the_cap() {
    let d = run()
        .program([prog("flood"), "1".into(), "5000000".into()])
        .exec();
    assert_eq!(d.status, 0, "{}", d.stderr);
    assert_eq!(d.stdout.len(), 5_000_000);
    assert!(d.stdout.bytes().all(|b| b == b'x'));
    let d = run()
        .args(["--output-limit", "1M"])
        .program([prog("flood"), "1".into()])
        .exec();
    assert_eq!(d.status, 1);
    assert_eq!(d.stdout.len(), 1 << 20);
    assert!(d.stderr.starts_with("OLE: "), "{}", d.stderr);
}

/// The consumer of the judge's stdout is slow to start: the program fills
/// both pipes and exits with output left in its own. What is left is read
/// to the end after its exit (no further event announces that end), then
/// delivered once the consumer reads.
#[test]
fn output_left_behind_a_slow_consumer_is_delivered_in_full() {
    use std::io::Read;
    for _ in 0..4 {
        let mut cmd = run()
            .program([prog("flood"), "1".into(), "1310720".into()])
            .command();
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let pid = child.id();
        let watchdog = std::thread::spawn(move || watchdog(pid, rx));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        drop(done);
        assert!(!watchdog.join().unwrap(), "the judge hung");
        assert_eq!(status.code(), Some(0), "{err}");
        assert_eq!(out.len(), 1310720, "{err}");
    }
}

/// Whoever reads the judge's stdout may stop reading: the judge still ends
/// in bounded time (the program feels the backpressure and idles), and says
/// what it could not deliver.
#[test]
fn a_stalled_consumer_of_our_stdout_cannot_hang_the_judge() {
    use std::process::Stdio;
    let mut cmd = run()
        .args(["--wall-limit", "1"])
        .program([prog("flood"), "1".into()])
        .command();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    let _unread = child.stdout.take(); // held open, never read
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.starts_with("ILE: "), "{err}");
    assert!(
        err.contains("warning: the judge's stdout did not take"),
        "{err}"
    );
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

#[test]
fn odd_values_are_usage_errors() {
    assert!(usage_error(&["--cpus", "0-18446744073709551615"]).contains("CPU list"));
    assert!(usage_error(&["--processes", "5000000"]).contains("--processes"));
    assert!(usage_error(&["--time-limit", "1e-10"]).contains("at least 1 ms"));
    assert!(usage_error(&["--stdin", "/tmp"]).contains("is a directory"));
    assert!(
        usage_error(&["--responder", "exec:/bin/true", "--input", "/tmp"])
            .contains("is a directory")
    );
    let d = run().program([""]).exec();
    assert_eq!(d.status, 2);
    assert_eq!(d.stderr, "judge: the program name is empty\n");
    let out = std::process::Command::new(judge_bin()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no arguments is a usage error");
}

/// `judge doctor` reports this host truthfully, ending with a real jailed run.
#[test]
fn doctor_reports_and_probes() {
    let out = std::process::Command::new(judge_bin())
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for label in [
        "user namespaces",
        "cgroups",
        "seccomp",
        "file systems",
        "network",
        "root",
        "probe",
        "huge pages",
        "overcommit",
        "core dumps",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    // Words, not the names of the code.
    assert!(!text.contains("SharedEmpty"), "{text}");
    // As root the root template is named, and after the probe it exists.
    if unsafe { libc::geteuid() } == 0 {
        let at = text.find("/run/judge/root-").expect("the template's pin");
        let pin: String = text[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ':')
            .collect();
        assert!(std::path::Path::new(&pin).exists(), "{pin}:\n{text}");
    }
    assert!(
        text.contains("/bin/true ran in full isolation: AC"),
        "{text}"
    );
}

/// Sandbox flags that cannot work are one line and exit 2.
#[test]
fn bad_sandbox_flags_are_usage_errors() {
    for args in [
        vec!["--dir", "/nonexistent-dir:/x"],
        vec!["--dir", "/tmp"],
        vec!["--dir", "/tmp:relative"],
        vec!["--file", "/nonexistent-file"],
        vec!["--file", "/etc/hostname:../escape"],
        vec!["--isolation", "none", "--file", "/etc/hostname"],
        vec!["--isolation", "partial"],
        vec!["--on-forbidden", "ignore"],
    ] {
        let d = run().args(args.clone()).program(["/bin/true"]).exec();
        assert_eq!(d.status, 2, "{args:?}: {}", d.stderr);
        assert_eq!(d.stderr.lines().count(), 1, "{args:?}: {}", d.stderr);
        assert!(d.stderr.starts_with("judge: "), "{args:?}: {}", d.stderr);
    }
}

/// The mistakes of a first hour each get the line that says what to do.
#[test]
fn common_mistakes_say_what_to_do() {
    // The program given without `--`.
    let d = exec_command({
        let mut c = std::process::Command::new(judge_bin());
        c.args(["run", "./sum"]);
        c
    });
    assert_eq!(d.status, 2);
    assert_eq!(
        d.stderr,
        "judge: unexpected argument './sum': put the program after --: judge run [FLAGS] -- ./sum\n"
    );
    assert_eq!(
        usage_error(&["--time-limt", "1"]),
        "judge: unknown flag '--time-limt'; did you mean '--time-limit'?\n"
    );
    assert_eq!(
        usage_error(&["--time-limit", "0"]),
        "judge: invalid value '0' for '--time-limit <SECS>': \"0\" is too short: a time is at least 1 ms\n"
    );
    assert_eq!(
        usage_error(&["--file", "nofile.py"]),
        "judge: --file nofile.py: no such file\n"
    );
    // --input without anyone to read it: judged all the same, with a warning.
    let dir = temp_dir("input-warning");
    let input = dir.join("in1.txt");
    std::fs::write(&input, "1 2\n").unwrap();
    let i = input.to_str().unwrap();
    let d = run().args(["--input", i]).program(["/bin/cat"]).exec();
    assert_eq!(d.status, 0, "{}", d.stderr);
    assert!(
        d.stderr.starts_with(&format!(
            "judge: warning: --input {i} goes to interactors and modules, and there is none: \
             the program's stdin is empty; --stdin {i} feeds it\n"
        )),
        "{}",
        d.stderr
    );
    // The help's first paragraph says where the program runs and how files get in.
    let out = std::process::Command::new(judge_bin())
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let first = help.split("\n\n").nth(1).unwrap_or_default();
    assert!(first.contains("/box") && first.contains("--file"), "{help}");
}

/// Without --json a failure shows its cause: the last lines of the
/// program's stderr (and a responder's, for its JE), and a hint where the
/// program could not open a file that lies beside the judge but was not
/// copied in.
#[test]
fn a_failure_shows_its_cause() {
    let dir = temp_dir("cause");
    std::fs::write(dir.join("sum.py"), "print(1 + 2)\n").unwrap();
    let mut cmd = run().program([python(), "sum.py".into()]).command();
    cmd.current_dir(&dir);
    let d = exec_command(cmd);
    assert_eq!(d.status, 1);
    let lines: Vec<&str> = d.stderr.lines().collect();
    assert_eq!(lines[0], "RE: the program exited with code 2");
    assert_eq!(
        &lines[2..],
        [
            "  the program's stderr, last lines:",
            &format!(
                "    | {}: can't open file '/box/sum.py': [Errno 2] No such file or directory",
                python()
            ),
            "  hint: sum.py is here but not in the sandbox: did you forget --file sum.py?",
        ],
        "{}",
        d.stderr
    );
    // A file in a folder: the hint names where it must land.
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.py"), "print(3)\n").unwrap();
    let mut cmd = run().program([python(), "src/main.py".into()]).command();
    cmd.current_dir(&dir);
    let d = exec_command(cmd);
    assert!(
        d.stderr.ends_with(
            "  hint: src/main.py is here but not in the sandbox: did you forget --file src/main.py:src/main.py?\n"
        ),
        "{}",
        d.stderr
    );
    // Copied in, it runs; an AC shows no stderr.
    let mut cmd = run()
        .args(["--file", "sum.py"])
        .program([python(), "sum.py".into()])
        .command();
    cmd.current_dir(&dir);
    let d = exec_command(cmd);
    assert_eq!(d.status, 0, "{}", d.stderr);
    assert_eq!(d.stdout, "3\n");
    assert_eq!(d.stderr.lines().count(), 2, "{}", d.stderr);
    // Only the last five lines, each cut at 200 characters.
    let script = format!(
        "for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; echo {} >&2; exit 3",
        "x".repeat(300)
    );
    let d = run().program(["/bin/sh", "-c", &script]).exec();
    let tail: Vec<&str> = d.stderr.lines().skip(3).collect();
    assert_eq!(tail.len(), 5, "{}", d.stderr);
    assert_eq!(tail[0], "    | line4");
    assert_eq!(tail[4], format!("    | {}...", "x".repeat(200)));
    // A responder's JE shows its stderr too.
    let d = run()
        .args([
            "--responder",
            &interactor("no_such_mode"),
            "--input",
            "/dev/null",
        ])
        .program(["/bin/cat"])
        .exec();
    assert!(d.stderr.starts_with("JE: "), "{}", d.stderr);
    assert!(
        d.stderr
            .ends_with("  the responder's stderr, last lines:\n    | unknown mode no_such_mode\n"),
        "{}",
        d.stderr
    );
}

/// A program the judge stopped because the responder had decided is not
/// said to have crashed of a SIGKILL.
#[test]
fn a_program_stopped_after_the_verdict_is_not_a_crash() {
    let d = run()
        .args([
            "--responder",
            &interactor("wa_first"),
            "--input",
            "/dev/null",
        ])
        .program([prog("sleeper"), "5".into()])
        .exec();
    assert_eq!(d.status, 1);
    let second = d.stderr.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        second.ends_with(", stopped by the judge after the responder's verdict"),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains("SIGKILL"), "{}", d.stderr);
    // Nor one stopped at a limit the judge watches.
    let d = run()
        .args(["--time-limit", "0.2"])
        .program([prog("spin")])
        .exec();
    let second = d.stderr.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        second.ends_with(", stopped by the judge at the limit"),
        "{}",
        d.stderr
    );
}

/// --json carries at most --json-output-limit (64 KiB) of each stream, and
/// says so; --stdout and --stderr save them whole (up to their caps).
#[test]
fn large_outputs_are_cut_in_json_and_saved_whole_to_files() {
    let dir = temp_dir("big-output");
    let (out, err) = (dir.join("out.bin"), dir.join("err.txt"));
    let d = run()
        .args(["--json", "--stdout", out.to_str().unwrap()])
        .args(["--stderr", err.to_str().unwrap()])
        .program(["/bin/sh", "-c", "head -c 33554432 /dev/zero; echo oops >&2"])
        .exec();
    // Each zero byte is six characters of JSON: 32 MiB would be 200 MB.
    assert!(d.stdout.len() < 1 << 20, "{} bytes of JSON", d.stdout.len());
    let v = d.json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], 32 << 20);
    assert_eq!(v["stdout"].as_str().unwrap().len(), 64 << 10);
    assert_eq!(v["stdout_truncated"], true);
    assert_eq!(v["stderr"], "oops\n");
    assert_eq!(v["stderr_truncated"], false);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 32 << 20);
    assert_eq!(std::fs::read_to_string(&err).unwrap(), "oops\n");
    // The cut never splits a character: 'é' is two bytes.
    let v = run()
        .args(["--json-output-limit", "2"])
        .program(["/usr/bin/printf", "h\u{e9}llo"])
        .json();
    assert_eq!(v["stdout"], "h");
    assert_eq!(v["stdout_truncated"], true);
    assert_eq!(v.get("stdout_base64"), None);
    // Invalid bytes within the part shown are carried in base64 as before.
    let v = run()
        .args(["--json-output-limit", "3"])
        .program(["/usr/bin/printf", "a\\377bcdef"])
        .json();
    assert_eq!(v["stdout"], "a\u{fffd}b");
    assert_eq!(v["stdout_base64"], "Yf9i");
}

/// The first hour's start: the README says where the binary is and how to
/// install it, and the example's script shows cargo's progress (a quiet
/// first build looked like a hang for minutes).
#[test]
fn the_readme_gets_a_newcomer_started() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for needle in [
        "examples/guess-number/run.sh",
        "target/release/judge",
        "cargo install --path judge",
        "cargo test --workspace",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
    let script = std::fs::read_to_string(repo().join("examples/guess-number/run.sh")).unwrap();
    let build = script
        .lines()
        .find(|l| l.trim_start().starts_with("cargo build"))
        .expect("run.sh builds the judge");
    assert!(
        !build.contains("-q"),
        "the build shows its progress: {build}"
    );
    // The binary the README names runs and says what it is.
    let out = std::process::Command::new(judge_bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("judge "));
}
