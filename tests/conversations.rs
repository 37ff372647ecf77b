use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

/// The example calculator (examples/conversations/calc.py).
fn calc() -> String {
    repo()
        .join("examples/conversations/calc.py")
        .to_string_lossy()
        .into_owned()
}

/// A script written to a fresh file.
fn script(tag: &str, text: &str) -> PathBuf {
    let p = temp_dir(tag).join(format!("{tag}.conv"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `judge run --responder script:FILE` against the calculator.
fn talk(script: &Path) -> Run {
    run()
        .args([
            "--responder".to_string(),
            format!("script:{}", script.display()),
        ])
        .args(["--file".to_string(), calc()])
        .program([python(), "calc.py".into()])
}

fn failure(v: &Value) -> &Value {
    &v["responder"]["script"]["failure"]
}

#[test]
fn literal_and_regex_expects_with_a_capture_reused_pass() {
    let s = script(
        "conv_pass",
        "expect \"> \"\nsend \"6 * 7\"\nexpect /= (?<answer>\\d+)\\n/\nexpect \"> \"\n\
         send \"let twice = ${answer} * 2\"\nexpect \"twice = 84\\n\"\nsend \"quit\"\nexpect \"bye\"\nexpect exit 0\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(
        v["message"],
        format!("all 9 steps of {} passed", s.display())
    );
    let o = &v["responder"]["script"];
    assert_eq!(o["steps_passed"], 9);
    assert_eq!(o["steps_total"], 9);
    assert_eq!(o["failure"], Value::Null);
    assert_eq!(v["responder"]["kind"], "script");
    // What the script sent, byte for byte.
    assert_eq!(v["stdin_bytes"], 6 + 19 + 5);
}

#[test]
fn stderr_is_expected_apart_from_stdout() {
    let s = script(
        "conv_stderr",
        "expect \"> \"\nsend \"1 / 0\"\nexpect stderr \"error: division by zero\"\n\
         send \"x\"\nexpect stderr /error: (?<why>.*)\\n/\nexpect \"> \"\nsend \"quit\"\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));

    // The same text expected on stdout is never there.
    let s = script(
        "conv_stderr_on_stdout",
        "expect \"> \"\nsend \"1 / 0\"\nexpect \"division by zero\" within 5s\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    let f = failure(&v);
    assert_eq!(f["line"], 3);
    assert_eq!(f["step"], "expect \"division by zero\" within 5s");
    assert_eq!(f["expected"], "\"division by zero\" on stdout");
    assert_eq!(f["reason"], "waiting_for_input");
    assert_eq!(f["received"]["stdout"], "> ");
    assert_eq!(f["received"]["stderr"], "error: division by zero\\n");
    assert_eq!(f["received"]["stderr_bytes"], 24);
    assert_eq!(
        v["message"],
        format!(
            "{}:3: expect \"division by zero\" within 5s: the program is waiting for input \
             (blocked reading its stdin) while this step waits for \"division by zero\" on stdout",
            s.display()
        )
    );
}

#[test]
fn close_then_expect_bye() {
    let s = script(
        "conv_close",
        "expect \"> \"\nclose\nexpect \"bye\\n\"\nexpect eof\nexpect exit 0\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["responder"]["script"]["steps_passed"], 5);
}

#[test]
fn exit_codes_and_signals_are_the_script_s_to_judge() {
    // An exit code the script asks for is right.
    let s = script(
        "conv_exit3",
        "expect \"> \"\nsend \"exit 3\"\nexpect exit 3\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["exit_code"], 3);

    // Another one is WA, saying which.
    let s = script(
        "conv_exit4",
        "expect \"> \"\nsend \"exit 4\"\nexpect exit 3\n",
    );
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    assert_eq!(failure(&v)["reason"], "wrong_exit");
    assert_eq!(
        failure(&v)["message"],
        "the program exited with code 4, not as expected"
    );
    assert_eq!(failure(&v)["expected"], "exit code 3");

    // The implicit end expects exit code 0: another code is a crash, RE.
    let s = script("conv_exit_implicit", "expect \"> \"\nsend \"exit 4\"\n");
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    assert_eq!(
        failure(&v)["step"],
        "expect exit 0 (at the end of the script)"
    );

    // A signal the script expects.
    let s = script("conv_segv", "expect signal SEGV\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .program([prog("raise")])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["signal_name"], "SIGSEGV");

    // A crash where an exit code was expected: RE too.
    let s = script("conv_segv_not_exit", "expect exit 3\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .program([prog("raise")])
        .json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    assert_eq!(
        failure(&v)["message"],
        "the program was killed by SIGSEGV, not as expected"
    );

    // A crash where the script waited for an answer: RE, the step named.
    let s = script("conv_crash", "expect \"ready\"\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .program([prog("raise")])
        .json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    assert_eq!(failure(&v)["line"], 1);
    assert_eq!(failure(&v)["reason"], "program_ended");
    assert_eq!(
        failure(&v)["message"],
        "the program was killed by SIGSEGV before writing it to stdout"
    );
}

#[test]
fn a_step_times_out_at_its_own_time_not_the_wall_limit() {
    // The program computes (sleeps) without reading: only the step's time
    // can end the wait.
    let s = script("conv_within", "timeout 5s\nexpect \"never\" within 300ms\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .args(["--wall-limit", "20"])
        .program([prog("sleeper")])
        .json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    let f = failure(&v);
    assert_eq!(f["line"], 2);
    assert_eq!(f["reason"], "timeout");
    let waited = ms(&f["waited_ms"]);
    assert!((300..1000).contains(&waited), "{waited} ms");
    assert!(ms(&v["wall_time_ms"]) < 2000, "{}", brief(&v));
    assert_eq!(
        f["message"],
        format!("timed out after {waited} ms (0 ms of CPU) waiting for \"never\" on stdout")
    );
    // The verdict's message names the line and the step as written.
    assert_eq!(
        v["message"],
        format!(
            "{}:2: expect \"never\" within 300ms: {}",
            s.display(),
            f["message"].as_str().unwrap()
        )
    );
}

#[test]
fn a_program_that_exits_while_a_step_waits_fails_it_at_once() {
    let s = script("conv_exits", "expect \"never\" within 30s\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .program(["/bin/sh", "-c", "echo almost"])
        .json();
    // Exit code 0: no crash, a wrong answer.
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    let f = failure(&v);
    assert_eq!(f["reason"], "program_ended");
    assert_eq!(
        f["message"],
        "the program exited with code 0 before writing it to stdout"
    );
    assert_eq!(f["received"]["stdout"], "almost\\n");
    assert!(ms(&v["wall_time_ms"]) < 2000, "{}", brief(&v));
}

#[test]
fn a_program_blocked_reading_while_a_step_waits_fails_it_at_once() {
    let s = script(
        "conv_blocked",
        "expect \"> \"\nsend \"1 + 2\"\nexpect \"= 4\" within 30s\n",
    );
    let done = talk(&s).exec();
    assert_eq!(done.status, 1, "{}", done.stderr);
    assert!(done.elapsed.as_secs() < 5, "{:?}", done.elapsed);
    let want = format!(
        "WA  {}:3: expect \"= 4\" within 30s\n    the program is waiting for input (blocked reading its stdin) \
         while this step waits for \"= 4\" on stdout\n    unread stdout (6 bytes): \"= 3\\n> \"\n  cpu ",
        s.display()
    );
    assert!(done.stderr.starts_with(&want), "{}", done.stderr);
}

#[test]
fn a_flood_while_a_step_waits_is_ole_and_the_judge_stays_small() {
    let s = script("conv_flood", "expect \"never\" within 60s\n");
    let v = run()
        .args(["--responder".to_string(), format!("script:{}", s.display())])
        .args(["--output-limit", "64M", "--wall-limit", "60"])
        .program([prog("flood"), "1".into(), "1000000000".into()])
        .json();
    assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], 64 * 1024 * 1024 + 1);
    let f = failure(&v);
    assert_eq!(f["reason"], "session_ended");
    assert_eq!(f["received"]["stdout_bytes"], 64 * 1024 * 1024);
    // Matching held a window, not the output: a few MiB over an idle run.
    let growth = judge_rss_growth(&v);
    assert!(growth < 16 * 1024, "the judge grew by {growth} KiB");
}

#[test]
fn a_program_that_prompts_only_on_a_terminal_passes_with_pty() {
    let s = script(
        "conv_pty",
        "expect /calc 1.0.*\\n/\nexpect \"[0 names] > \"\nsend \"let a = 2\"\nexpect \"a = 2\\n[1 names] > \"\nclose\nexpect \"bye\"\n",
    );
    let v = talk(&s).arg("--pty").json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let v = talk(&s).json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    assert_eq!(failure(&v)["line"], 1);
    assert_eq!(failure(&v)["reason"], "waiting_for_input");
    assert_eq!(failure(&v)["received"]["stdout"], "> ");
    // stderr on the terminal cannot be expected apart.
    let s = script("conv_pty_stderr", "expect stderr \"x\"\n");
    let done = talk(&s).args(["--pty", "--pty-stderr"]).exec();
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        format!(
            "judge: {}: expects stderr, which --pty-stderr mixes into stdout\n",
            s.display()
        )
    );
}

#[test]
fn pty_for_any_session() {
    let v = run()
        .args(["--pty", "--pty-size", "100x30"])
        .program([
            "/bin/sh",
            "-c",
            "test -t 0 && test -t 1 && ! test -t 2 && stty size && echo to-stderr >&2",
        ])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "30 100\n");
    assert_eq!(v["stderr"], "to-stderr\n");
    let v = run()
        .args(["--pty", "--pty-stderr"])
        .program(["/bin/sh", "-c", "test -t 2 && echo to-stderr >&2"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "to-stderr\n");
    // A stdin file through the terminal, its end an end of file.
    let input = temp_dir("pty_stdin").join("in");
    std::fs::write(&input, "one\ntwo").unwrap();
    let v = run()
        .args(["--pty", "--stdin", input.to_str().unwrap()])
        .program([prog("echo_lines")])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "one\ntwo");
}

#[test]
fn a_script_that_does_not_parse_is_a_usage_error_before_anything_runs() {
    let cases = [
        ("expect \"> \"\nsend \"x", "2:6: unterminated string: no closing \""),
        ("expect \"> \"\nsned \"x\"", "2:1: unknown step \"sned\": expected expect, send, send-raw, close, timeout, run, limits, pty or file"),
        ("send \"${who}\"", "1:6: unknown capture ${who}: no earlier expect /.../ has a group (?<who>...)"),
        ("expect /a(/", "1:8: invalid regular expression: unclosed group"),
        ("expect \"x\" within 3 days", "1:12: unexpected text after the pattern (within DURATION goes last)"),
        ("[{\"line\": 2, \"send\": 5}]", "2:1: send takes a string"),
        ("[{\"line\": 3, \"send\": \"x\", \"within\": \"1s\"}]", "3:1: unknown key \"within\" for send"),
        ("[{\"send\": \"x\"}]", "1:1: step 1: needs \"line\": N"),
        ("send \"x\"\nrun ./a.out", "2:1: run, limits, pty and file must come before the first step"),
        ("run a\nrun b", "2:1: a second run step"),
        ("file calc.py ../x", "1:14: \"../x\": a place in /box is a relative path without .."),
        ("limits memory=1K", "1:8: memory=1K: a memory limit is at least 1M"),
        ("expect exit 0\nsend \"x\"", "2:1: nothing can follow the program's exit"),
        ("close\nclose", "2:1: stdin is already closed"),
        ("expect signal SEGV within", "1:20: within takes a duration (300ms, 2s)"),
        ("pty 80by24", "1:5: invalid terminal size \"80by24\": expected COLSxROWS, such as 80x24"),
    ];
    // Only a regular file is a script: a FIFO would be waited on forever.
    let fifo = temp_dir("conv_fifo").join("f.conv");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a path string we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for args in [
        vec![
            "run".to_string(),
            "--responder".into(),
            format!("script:{}", fifo.display()),
            "--".into(),
            "/bin/true".into(),
        ],
        vec!["test".to_string(), fifo.display().to_string()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let done = judge_cmd(&args);
        assert_eq!(done.status, 2, "{args:?}");
        assert_eq!(
            done.stderr,
            format!("judge: {}: not a regular file\n", fifo.display())
        );
    }
    for (text, want) in cases {
        let s = script("conv_bad", text);
        let done = run()
            .args(["--responder".to_string(), format!("script:{}", s.display())])
            .program([prog("sleeper")])
            .exec();
        assert_eq!(done.status, 2, "{text}: {}", done.stderr);
        assert_eq!(
            done.stderr,
            format!("judge: {}:{want}\n", s.display()),
            "{text}"
        );
    }
}

/// A folder of scripts for `judge test`, the calculator beside them.
fn suite_dir(tag: &str, scripts: &[(&str, &str)]) -> PathBuf {
    let d = temp_dir(tag);
    std::fs::copy(calc(), d.join("calc.py")).unwrap();
    for (name, text) in scripts {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn judge_cmd(args: &[&str]) -> Done {
    let mut c = std::process::Command::new(judge_bin());
    c.args(args).stdin(std::process::Stdio::null());
    exec_command(c)
}

const PASSING: &str =
    "file calc.py\nrun python3 calc.py\nexpect \"> \"\nsend \"2 + 3\"\nexpect \"= 5\"\n";
const FAILING: &str =
    "file calc.py\nrun python3 calc.py\nexpect \"> \"\nsend \"2 + 3\"\nexpect \"= 6\" within 5s\n";

#[test]
fn judge_test_runs_a_folder_and_reports_each_script() {
    // A script's file steps are its folder's.
    let up = |s: &str| s.replace("file calc.py", "file ../calc.py");
    let (pass_text, fail_text) = (up(PASSING), up(FAILING));
    let d = suite_dir(
        "suite_mixed",
        &[
            ("a/pass.conv", &pass_text),
            ("b/fail.conv", &fail_text),
            ("notes.txt", "not a script"),
        ],
    );
    let dir = d.to_string_lossy().into_owned();
    let done = judge_cmd(&["test", "-j", "2", &dir]);
    assert_eq!(done.status, 1, "{}{}", done.stdout, done.stderr);
    let pass = format!("{dir}/a/pass.conv");
    let fail = format!("{dir}/b/fail.conv");
    let lines: Vec<&str> = done.stdout.lines().collect();
    assert!(lines[0].starts_with("script"), "{}", done.stdout);
    assert!(
        lines[1].starts_with(&pass) && lines[1].contains(" AC ") && lines[1].contains(" 5/5 "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&fail) && lines[2].contains(" WA ") && lines[2].contains(" 2/5 "),
        "{}",
        lines[2]
    );
    assert!(
        done.stdout.contains(&format!(
            "WA  {fail}:5: expect \"= 6\" within 5s\n    the program is waiting for input"
        )),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.ends_with("2 scripts: 1 passed, 1 failed\n"),
        "{}",
        done.stdout
    );
    // Plain progress lines, stdout not being a terminal.
    assert!(
        done.stderr.contains(&format!("AC  {pass} (5/5 steps, ")),
        "{}",
        done.stderr
    );

    let done = judge_cmd(&["test", "--json", &dir]);
    assert_eq!(done.status, 1);
    let v = done.json();
    assert_eq!(v["total"], 2);
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["scripts"][0]["script"], pass);
    assert_eq!(v["scripts"][0]["verdict"], "AC");
    assert_eq!(v["scripts"][1]["verdict"], "WA");
    assert_eq!(v["scripts"][1]["steps_passed"], 2);
    assert_eq!(v["scripts"][1]["failure"]["line"], 5);
    assert_eq!(v["scripts"][1]["failure"]["reason"], "waiting_for_input");
    assert_eq!(v["scripts"][1]["failure"]["received"]["stdout"], "= 5\\n> ");

    // Only the passing one: exit 0.
    let done = judge_cmd(&["test", &pass]);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    assert!(
        done.stdout.ends_with("1 script: 1 passed, 0 failed\n"),
        "{}",
        done.stdout
    );
}

#[test]
fn judge_test_finds_every_mistake_before_running_anything() {
    let d = suite_dir(
        "suite_bad",
        &[
            ("ok.conv", PASSING),
            (
                "bad.conv",
                "file calc.py\nrun python3 calc.py\nexpect \"> \" within\n",
            ),
        ],
    );
    let dir = d.to_string_lossy().into_owned();
    let done = judge_cmd(&["test", &dir]);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        format!("judge: {dir}/bad.conv:3:13: within takes a duration (300ms, 2s)\n")
    );
    assert_eq!(done.stdout, "");

    let d = suite_dir("suite_noprog", &[("x.conv", "expect \"> \"\n")]);
    let x = format!("{}/x.conv", d.display());
    let done = judge_cmd(&["test", &x]);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        format!("judge: {x}: names no program: add a `run CMD ARGS` step at its top or give --program\n")
    );
    // --program serves scripts without a run step, the files with --file.
    let calc_py = format!("{}/calc.py", d.display());
    let done = judge_cmd(&[
        "test",
        "--program",
        "python3 calc.py",
        "--file",
        &calc_py,
        &x,
    ]);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);

    let done = judge_cmd(&["test", "/nonexistent/suite"]);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        "judge: /nonexistent/suite: No such file or directory (os error 2)\n"
    );
}

#[test]
fn json_form_scripts_run_like_the_line_form() {
    let d = suite_dir(
        "suite_json",
        &[(
            "j.conv",
            r#"[{"line": 1, "file": "calc.py"}, {"line": 2, "run": ["python3", "calc.py"]},
                {"line": 3, "expect": "> "}, {"line": 4, "send": "let n = 4"},
                {"line": 5, "expect_regex": "n = (?<n>\\d)"}, {"line": 6, "send": "${n} * ${n}"},
                {"line": 7, "expect": "= 16", "within": "1s"}, {"line": 8, "send": "exit 2"},
                {"line": 9, "expect_exit": 2}]"#,
        )],
    );
    let done = judge_cmd(&["test", "--json", &format!("{}/j.conv", d.display())]);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    assert_eq!(done.json()["scripts"][0]["steps_passed"], 7);
}

#[test]
fn a_recorded_session_replays_as_a_passing_test() {
    let d = temp_dir("record");
    std::fs::copy(calc(), d.join("calc.py")).unwrap();
    let out = d.join("calc.conv");
    let mut c = std::process::Command::new(judge_bin());
    c.current_dir(&d)
        .args([
            "record",
            "-o",
            out.to_str().unwrap(),
            "--file",
            "calc.py",
            "--",
            "python3",
            "calc.py",
        ])
        .stdin(std::process::Stdio::piped());
    use std::io::Write;
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    // Typed ahead, all at once: each line still lands after its prompt.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"6 * 7\n1 / 0\nlet y = 2\nquit\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The user saw the conversation.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "> = 42\n> > y = 2\n> bye\n"
    );
    let script = std::fs::read_to_string(&out).unwrap();
    let steps: Vec<&str> = script
        .lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(
        steps,
        [
            "expect \"> \"",
            "send \"6 * 7\"",
            "expect \"> \"",
            "send \"1 / 0\"",
            "expect \"> \"",
            "expect stderr \"error: division by zero\"",
            "send \"let y = 2\"",
            "expect \"> \"",
            "send \"quit\"",
            "expect \"bye\"",
            "expect exit 0",
        ]
    );
    assert!(
        script.contains("\nfile \"calc.py\"\nrun python3 calc.py\n"),
        "{script}"
    );
    let done = judge_cmd(&["test", out.to_str().unwrap()]);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    assert!(done.stdout.contains(" AC "), "{}", done.stdout);
}
