use crate::util::*;
use serde_json::Value;

fn session(policy: &str, interactor_mode: &str) -> Run {
    run()
        .args(["--precedence", policy, "--responder"])
        .arg(interactor(interactor_mode))
}

fn py(code: &str) -> Vec<String> {
    vec![python(), "-c".into(), code.into()]
}

const POLICIES: [&str; 3] = ["kattis", "testlib", "cms"];

#[test]
fn guess_number_style_conversation_is_ac() {
    let v = session("kattis", "echo")
        .program(py("import sys\nfor i in range(100):\n    print(i, flush=True)\n    assert sys.stdin.readline() == f'{i}\\n'\n"))
        .json();
    // The echo interactor accepts at EOF.
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], v["stdin_bytes"]);
    assert_eq!(v["stdout_bytes"], 290);
    assert_eq!(v["responder"]["kind"], "exec");
    assert_eq!(v["responder"]["output_bytes"], 290);
}

#[test]
fn row_interactor_wa_first_then_program_tle() {
    for (policy, want) in POLICIES.iter().zip(["WA", "WA", "TLE"]) {
        let v = session(policy, "wa_first")
            .args(["--time-limit", "1"])
            .program([prog("spin")])
            .json();
        assert_eq!(v["verdict"], want, "{policy}: {}", brief(&v));
        assert_eq!(v["first_to_finish"], "responder", "{policy}");
        assert_eq!(v["responder"]["verdict"], "WA");
    }
}

#[test]
fn row_program_tle_first_then_interactor_wa_on_eof() {
    for policy in POLICIES {
        let v = session(policy, "wa_on_eof")
            .args(["--time-limit", "0.3"])
            .program([prog("spin")])
            .json();
        assert_eq!(v["verdict"], "TLE", "{policy}: {}", brief(&v));
        assert_eq!(v["first_to_finish"], "program", "{policy}");
    }
}

#[test]
fn row_program_exits_0_early_and_interactor_reads_eof() {
    for policy in POLICIES {
        let v = session(policy, "wa_on_eof").program(["/bin/true"]).json();
        assert_eq!(v["verdict"], "WA", "{policy}: {}", brief(&v));
        assert_eq!(v["message"], "wrong answer unexpected end of file");
        assert_eq!(v["first_to_finish"], "program");
        assert_eq!(v["exit_code"], 0);
    }
}

#[test]
fn row_program_exits_nonzero_early() {
    for policy in POLICIES {
        let v = session(policy, "wa_on_eof")
            .program([prog("exit_n"), "3".into()])
            .json();
        assert_eq!(v["verdict"], "RE", "{policy}: {}", brief(&v));
        assert_eq!(v["first_to_finish"], "program");
    }
}

#[test]
fn row_interactor_wa_first_then_program_sigpipe() {
    for policy in POLICIES {
        let v = session(policy, "wa_first")
            .program(py(
                "import os, signal, time\ntime.sleep(1)\nos.kill(os.getpid(), signal.SIGPIPE)",
            ))
            .json();
        assert_eq!(v["verdict"], "WA", "{policy}: {}", brief(&v));
        assert_eq!(v["first_to_finish"], "responder");
    }
}

/// The interactor accepts after one line and exits while the program still
/// writes: the program must not die of SIGPIPE for it.
#[test]
fn row_interactor_ac_first_while_program_keeps_writing() {
    let code = "import sys, time\nprint('answer', flush=True)\ntime.sleep(1)\nfor i in range(2000):\n    sys.stdout.write('x' * 1000 + '\\n')\nsys.stdout.flush()\n";
    for policy in POLICIES {
        let v = session(policy, "ac_one_line").program(py(code)).json();
        assert_eq!(v["verdict"], "AC", "{policy}: {}", brief(&v));
        assert_eq!(v["first_to_finish"], "responder");
        if policy != "testlib" {
            // kattis and cms wait for the program, which exits normally.
            assert_eq!(v["exit_code"], 0, "{policy}: {}", brief(&v));
            assert_eq!(v["signal"], Value::Null);
            assert_eq!(v["stdout_bytes"], 7 + 2000 * 1001);
        }
    }
}

#[test]
fn row_interactor_crash_is_je() {
    for policy in POLICIES {
        let v = session(policy, "crash")
            .program([prog("sleeper"), "0.5".into()])
            .json();
        assert_eq!(v["verdict"], "JE", "{policy}: {}", brief(&v));
        assert_eq!(v["message"], "the interactor was killed by signal SIGSEGV");
    }
}

/// A Python interactor that raises exits with 1, which testlib reads as
/// WA: its traceback makes it the interactor's crash (JE), never the
/// program's fault. And one run without --input is warned about.
#[test]
fn an_interactor_traceback_is_je() {
    let dir = temp_dir("traceback");
    let interactor = dir.join("interactor.py");
    std::fs::write(
        &interactor,
        "import sys\nline = input()\nprint(int(line) // 0)\n",
    )
    .unwrap();
    let responder = format!("exec:{} {}", python(), interactor.display());
    let v = run()
        .args(["--responder", &responder])
        .program(["/bin/echo", "4"])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor crashed (a Python traceback, exit code 1): ZeroDivisionError: integer division or modulo by zero"
    );
    assert_eq!(v["responder"]["exit_code"], 1);
    let d = run()
        .args(["--responder", &responder])
        .program(["/bin/echo", "4"])
        .exec();
    assert!(
        d.stderr
            .starts_with("judge: warning: no --input given; the interactor gets an empty file\n"),
        "{}",
        d.stderr
    );
}

/// Both sides wait for each other: ILE, with the hint that the program
/// wrote nothing since it was last given input.
#[test]
fn row_deadlock_is_ile_with_flush_hint() {
    // Writes its guess without flushing, then waits for the reply.
    let noflush = "import sys\nsys.stdout.write('5\\n')\nsys.stdin.readline()\n";
    for policy in POLICIES {
        let v = session(policy, "read_block")
            .args(["--wall-limit", "0.5"])
            .program(py(noflush))
            .json();
        assert_eq!(v["verdict"], "ILE", "{policy}: {}", brief(&v));
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.contains("waiting for input") && msg.contains("did it forget to flush?"),
            "{msg}"
        );
    }
}

/// A deadlock ends at once: a program that forgot to flush and an
/// interactor waiting for its guess, with a 10 s wall limit, are ILE in
/// well under half a second, with the forgot-to-flush hint. What only
/// looks like one is left alone: a program asleep in a sleep, in a select
/// with a timeout, or reading in one thread while another computes.
#[test]
fn a_deadlock_ends_at_once_and_only_a_deadlock() {
    let noflush = "import sys\nsys.stdout.write('5\\n')\nsys.stdin.readline()\n";
    for policy in POLICIES {
        let done = session(policy, "ac_one_line")
            .args(["--wall-limit", "10", "--json"])
            .program(py(noflush))
            .exec();
        let v = done.json();
        assert_eq!(v["verdict"], "ILE", "{policy}: {}", brief(&v));
        assert!(
            done.elapsed.as_secs_f64() < 0.5,
            "{policy}: {:?}",
            done.elapsed
        );
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.starts_with("the program and the interactor were each waiting for the other")
                && msg.ends_with("did it forget to flush?"),
            "{msg}"
        );
    }
    // Asleep in a sleep: ILE only at the wall limit.
    let v = session("kattis", "ac_one_line")
        .args(["--wall-limit", "0.6"])
        .program(["/bin/sleep", "5"])
        .json();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    assert!(ms(&v["wall_time_ms"]) >= 600, "{}", brief(&v));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("the program was still running after the wall-time limit of 600 ms"),
        "{}",
        brief(&v)
    );
    // A select with a timeout, then an answer: AC.
    let v = session("kattis", "ac_one_line")
        .program(py(
            "import select, sys\nselect.select([sys.stdin], [], [], 0.4)\nprint(7, flush=True)\n",
        ))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    // Reading in the main thread while another computes or sleeps, then
    // answers; or while a child process does.
    for wait in [
        "t = time.time()\n    while time.time() - t < 0.4: pass",
        "time.sleep(0.4)",
    ] {
        let threads = format!(
            "import sys, threading, time\ndef work():\n    {wait}\n    print(7, flush=True)\n\
             threading.Thread(target=work).start()\nsys.stdin.readline()\n"
        );
        let v = session("kattis", "ac_one_line")
            .args(["--cpus", "any"])
            .program(py(&threads))
            .json();
        assert_eq!(v["verdict"], "AC", "{wait}: {}", brief(&v));
    }
    let v = session("kattis", "ac_one_line")
        .program(["/bin/sh", "-c", "(sleep 0.4; echo 7) & read x; exit 0"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    // Or while an orphan (adopted by the sandbox's init) does.
    let v = session("kattis", "ac_one_line")
        .program(["/bin/sh", "-c", "( (sleep 0.4; echo 7) & ); read x; exit 0"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
}

#[test]
fn interactor_hang_is_je_in_bounded_time() {
    let d = session("kattis", "hang")
        .args(["--responder-wall-limit", "1", "--json"])
        .program(["/bin/true"])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor did not finish within its wall-time limit of 1000 ms"
    );
    assert!(d.elapsed.as_secs_f64() < 3.0, "took {:?}", d.elapsed);
}

#[test]
fn interactor_cpu_hog_is_je() {
    let v = run()
        .args([
            "--responder",
            &format!("exec:{}", prog("spin")),
            "--responder-time-limit",
            "0.3",
        ])
        .program([prog("sleeper"), "2".into()])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor used more than its CPU-time limit of 300 ms"
    );
}

#[test]
fn interactor_flood_is_je() {
    let d = session("kattis", "flood")
        .args(["--responder-output-limit", "8M", "--json"])
        .program(["/bin/sh", "-c", "cat > /dev/null"])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor sent more than 8388608 bytes to the program"
    );
    assert!(
        judge_rss_growth(&v) < 8 * 1024,
        "the judge grew by {} KiB",
        judge_rss_growth(&v)
    );
}

#[test]
fn interactor_stderr_flood_is_je() {
    let v = session("kattis", "flood_stderr")
        .args(["--responder-stderr-limit", "64K"])
        .program([prog("sleeper"), "1".into()])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the interactor wrote more than 65536 bytes to stderr"
    );
}

#[test]
fn interactor_memory_hog_is_je() {
    let v = run()
        .args([
            "--responder",
            &format!("exec:{} 500", prog("alloc")),
            "--responder-memory-limit",
            "64M",
            "--protocol",
            "plain",
        ])
        .program([prog("sleeper"), "2".into()])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
}

/// The program never reads while the interactor writes 64 MiB: the judge's
/// memory stays bounded (backpressure), and the sleeper is ILE.
#[test]
fn program_that_never_reads_while_interactor_writes_a_lot() {
    let d = run()
        .args([
            "--responder",
            &format!("{} 64", interactor("write_mib")),
            "--wall-limit",
            "1",
            "--json",
        ])
        .program([prog("sleeper")])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    assert!(
        judge_rss_growth(&v) < 8 * 1024,
        "the judge grew by {} KiB",
        judge_rss_growth(&v)
    );
    // At most its pipe (1 MiB) and our queue (1 MiB) were filled.
    assert!(
        v["stdin_bytes"].as_u64().unwrap() <= 2 << 20,
        "{}",
        brief(&v)
    );
}

#[test]
fn testlib_points_and_messages() {
    let dir = temp_dir("points");
    let script = dir.join("points.py");
    std::fs::write(&script, "import sys\nsys.stdin.read()\nprint('points 0.5 half of it', file=sys.stderr)\nsys.exit(7)\n").unwrap();
    let v = run()
        .args(["--responder", &format!("exec:python3 {}", script.display())])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["responder"]["points"], 0.5);
}

#[test]
fn testlib_interactor_gets_input_output_answer_files() {
    let dir = temp_dir("files");
    let input = dir.join("in.txt");
    let answer = dir.join("ans.txt");
    std::fs::write(&input, "42\n").unwrap();
    std::fs::write(&answer, "answer\n").unwrap();
    let script = dir.join("args.py");
    std::fs::write(
        &script,
        "import sys\nn = open(sys.argv[1]).read().strip()\nopen(sys.argv[2], 'w').write('out')\na = open(sys.argv[3]).read().strip()\nprint(n, flush=True)\ngot = sys.stdin.readline().strip()\nif got == a:\n    print('ok', file=sys.stderr); sys.exit(0)\nprint('wrong answer ' + got, file=sys.stderr); sys.exit(1)\n",
    )
    .unwrap();
    let v = run()
        .args(["--responder", &format!("exec:python3 {}", script.display())])
        .args(["--input", input.to_str().unwrap(), "--answer", answer.to_str().unwrap()])
        .program(py("import sys\nn = sys.stdin.readline().strip()\nprint('answer' if n == '42' else 'no', flush=True)"))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
}

#[test]
fn kattis_protocol_with_feedback_dir() {
    let dir = temp_dir("kattis");
    let script = dir.join("validator.py");
    std::fs::write(
        &script,
        "import sys, os\ninp, ans, fb = sys.argv[1:4]\nline = sys.stdin.readline().strip()\nok = line == 'hello'\nopen(os.path.join(fb, 'judgemessage.txt'), 'w').write('said ' + line + '\\n')\nsys.exit(42 if ok else 43)\n",
    )
    .unwrap();
    for (say, want) in [("hello", "AC"), ("bye", "WA")] {
        let v = run()
            .args([
                "--protocol",
                "kattis",
                "--responder",
                &format!("exec:python3 {}", script.display()),
            ])
            .program(["/bin/echo", say])
            .json();
        assert_eq!(v["verdict"], want, "{}", brief(&v));
        assert_eq!(v["responder"]["message"], format!("said {say}"));
    }
}

#[test]
fn kattis_protocol_unexpected_exit_is_je() {
    let v = run()
        .args(["--protocol", "kattis", "--responder", "exec:/bin/true"])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
}

#[test]
fn plain_protocol() {
    for (code, want) in [("0", "AC"), ("5", "WA")] {
        let v = run()
            .args([
                "--protocol",
                "plain",
                "--responder",
                &format!("exec:{} {code}", prog("exit_n")),
            ])
            .program(["/bin/true"])
            .json();
        assert_eq!(v["verdict"], want, "{}", brief(&v));
    }
}

#[test]
fn direct_mode_conversation() {
    let v = run()
        .args(["--direct", "--protocol", "plain", "--responder", &format!("exec:{}", prog("echo_lines"))])
        .program(py("import sys\nfor i in range(1000):\n    print(i, flush=True)\n    assert sys.stdin.readline() == f'{i}\\n'\n"))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], Value::Null);
    assert_eq!(v["stdin_bytes"], Value::Null);
}

/// --direct: the interactor accepts and leaves while the program writes on;
/// the judge holds the pipe so the program does not die of SIGPIPE.
#[test]
fn direct_mode_interactor_leaves_first() {
    let code = "import sys, time\nprint('answer', flush=True)\ntime.sleep(1)\nfor i in range(2000):\n    sys.stdout.write('x' * 1000 + '\\n')\nsys.stdout.flush()\n";
    let v = session("kattis", "ac_one_line")
        .arg("--direct")
        .program(py(code))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["exit_code"], 0);
}

#[test]
fn interactive_sessions_are_pinned_to_one_cpu_by_default() {
    let v = session("kattis", "ac_at_eof").program(["/bin/true"]).json();
    assert_eq!(v["cpus"].as_array().unwrap().len(), 1, "{}", brief(&v));
    let v = session("kattis", "ac_at_eof")
        .args(["--cpus", "any"])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["cpus"], Value::Null);
    let v = run().program(["/bin/true"]).json();
    assert_eq!(v["cpus"], Value::Null, "batch sessions stay unpinned");
}

#[test]
fn pe_from_a_testlib_interactor() {
    let v = session("kattis", "pe_at_eof")
        .program(["/bin/echo", "abc"])
        .json();
    assert_eq!(v["verdict"], "PE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "wrong output format expected an integer, found 'abc'"
    );
    assert_eq!(v["responder"]["exit_code"], 2);
}

/// The program closes its stdin while the interactor still writes: EPIPE is
/// recorded, the session goes on.
#[test]
fn program_closing_its_stdin_is_recorded_not_fatal() {
    let v = run()
        .args(["--responder", &format!("{} 4", interactor("write_mib"))])
        .program(["/bin/sh", "-c", "exec 0<&-; sleep 1"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdin_closed_early"], true, "{}", brief(&v));
    assert_eq!(v["exit_code"], 0);
}

/// The program exits with an error and the interactor, reading end of file,
/// then rejects: the program ended first, whatever the scheduler does with
/// the two inits. Repeated, since a wrong order shows only now and then.
#[test]
fn program_exit_is_ordered_before_the_reply_it_causes() {
    for policy in POLICIES {
        for _ in 0..15 {
            let v = run()
                .args([
                    "--precedence",
                    policy,
                    "--responder",
                    &format!("exec:{}", prog("read_to_eof_exit")),
                ])
                .program([prog("exit_n"), "3".into()])
                .json();
            assert_eq!(v["verdict"], "RE", "{policy}: {}", brief(&v));
            assert_eq!(v["first_to_finish"], "program", "{policy}");
        }
    }
}

/// When the interactor closes its stdout, the program reads end of file
/// (as with a pipe), so a program waiting for more input ends instead of
/// idling to the wall limit.
#[test]
fn interactor_leaving_gives_the_program_eof() {
    let v = session("cms", "wa_first")
        .args(["--wall-limit", "5"])
        .program(["/bin/sh", "-c", "cat > /dev/null; read x; exit 0"])
        .json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    assert!(ms(&v["wall_time_ms"]) < 2000, "{}", brief(&v));
}

/// --direct: what the interactor wrote before leaving still reaches the
/// program, even when the program writes again afterwards.
#[test]
fn direct_mode_keeps_the_interactors_last_words() {
    let dir = temp_dir("direct-last");
    let script = dir.join("say_x.py");
    std::fs::write(&script, "import sys\nprint('x', flush=True)\nsys.exit(0)\n").unwrap();
    let v = run()
        .args(["--direct", "--protocol", "plain", "--responder", &format!("exec:{} {}", python(), script.display())])
        .program(py("import sys, time\ntime.sleep(0.5)\nprint('late', flush=True)\nassert sys.stdin.readline() == 'x\\n'\n"))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["exit_code"], 0);
}

/// A Kattis feedback file that is a FIFO (planted, or a broken validator)
/// is not read, and cannot hang the judge.
#[test]
fn kattis_feedback_fifo_cannot_hang_the_judge() {
    let dir = temp_dir("kfifo");
    let script = dir.join("fifo.py");
    std::fs::write(
        &script,
        "import os, sys\nos.mkfifo(os.path.join(sys.argv[3], 'judgemessage.txt'))\nos.mkfifo(os.path.join(sys.argv[3], 'score.txt'))\nsys.stdin.read()\nsys.exit(42)\n",
    )
    .unwrap();
    let d = run()
        .args([
            "--protocol",
            "kattis",
            "--responder",
            &format!("exec:python3 {}", script.display()),
            "--json",
        ])
        .program(["/bin/true"])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert!(d.elapsed.as_secs() < 10);
}

/// Exit codes testlib does not define are the interactor's failure: a shell
/// that could not find its command (127) must not become points.
#[test]
fn undefined_testlib_exit_codes_are_je() {
    let v = run()
        .args(["--responder", "exec:sh -c 'nonexistent_checker_cmd_xyz'"])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(v["responder"]["points"], Value::Null);
}

/// The program ends while the interactor's output to it is paused: the
/// interactor is drained so it can still give its verdict.
#[test]
fn interactor_paused_when_the_program_ends_still_judges() {
    let dir = temp_dir("paused");
    let script = dir.join("flood_then_judge.py");
    std::fs::write(
        &script,
        "import sys\nsys.stdout.write('z' * (8 << 20))\nsys.stdout.flush()\nsys.stdin.read()\nprint('ok done', file=sys.stderr)\nsys.exit(0)\n",
    )
    .unwrap();
    let v = run()
        .args([
            "--responder",
            &format!("exec:python3 {}", script.display()),
            "--responder-wall-limit",
            "5",
        ])
        .program([prog("sleeper"), "0.3".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "ok done");
}

/// The interactor rejects and leaves; the program, reading end of file,
/// exits with 1. The interactor finished first (its output ended before the program's
/// reaction to it): WA under kattis and testlib, RE under cms. Repeated,
/// since the two exits race in the scheduler.
#[test]
fn interactor_rejecting_then_program_failing_on_eof() {
    let code = "import sys\nprint(1, flush=True)\nif not sys.stdin.readline():\n    sys.exit(1)\n";
    for (policy, want) in POLICIES.iter().zip(["WA", "WA", "RE"]) {
        for _ in 0..5 {
            let v = session(policy, "wa_after_one_line")
                .program(py(code))
                .json();
            assert_eq!(v["verdict"], want, "{policy}: {}", brief(&v));
            assert_eq!(v["first_to_finish"], "responder", "{policy}");
        }
    }
}
