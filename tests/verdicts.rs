use crate::util::*;

#[test]
fn ac_with_exact_output_and_figures() {
    let v = run()
        .program([prog("exit_n"), "0".into(), "hello".into(), "world".into()])
        .json();
    assert_eq!(v["verdict"], "AC");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["signal"], serde_json::Value::Null);
    assert_eq!(v["stdout"], "hello\nworld\n");
    assert_eq!(v["stdout_bytes"], 12);
    assert_eq!(v["stderr_bytes"], 0);
    assert_eq!(v["stdin_bytes"], 0);
    assert!(ms(&v["cpu_time_ms"]) < 50, "{}", brief(&v));
    assert!(ms(&v["wall_time_ms"]) < 1000, "{}", brief(&v));
    assert!(v["memory_kib"].as_u64().unwrap() > 0);
}

#[test]
fn stdout_and_stderr_are_kept_apart() {
    let v = run()
        .program([
            "/bin/sh",
            "-c",
            "echo out; echo err >&2; echo out2; echo err2 >&2",
        ])
        .json();
    assert_eq!(v["stdout"], "out\nout2\n");
    assert_eq!(v["stderr"], "err\nerr2\n");
    assert_eq!(v["stderr_bytes"], 9);
}

#[test]
fn stdin_file_is_fed_and_counted() {
    let dir = temp_dir("stdin");
    let input = dir.join("in.txt");
    std::fs::write(&input, "line one\nline two\n").unwrap();
    let v = run()
        .args(["--stdin", input.to_str().unwrap()])
        .program(["/bin/cat"])
        .json();
    assert_eq!(v["verdict"], "AC");
    assert_eq!(v["stdout"], "line one\nline two\n");
    assert_eq!(v["stdin_bytes"], 18);
}

#[test]
fn large_stdin_file_streams_with_bounded_memory() {
    let dir = temp_dir("bigstdin");
    let input = dir.join("in.bin");
    std::fs::write(&input, vec![b'a'; 50 << 20]).unwrap();
    let d = run()
        .args(["--stdin", input.to_str().unwrap(), "--json"])
        .program(["/bin/sh", "-c", "wc -c"])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "AC");
    assert_eq!(v["stdout"], "52428800\n");
    assert_eq!(v["stdin_bytes"], 52428800u64);
    assert!(
        judge_rss_growth(&v) < 8 * 1024,
        "the judge grew by {} KiB",
        judge_rss_growth(&v)
    );
}

#[test]
fn re_on_nonzero_exit() {
    let v = run().program([prog("exit_n"), "3".into()]).json();
    assert_eq!(v["verdict"], "RE");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["message"], "the program exited with code 3");
}

/// The program is pid 2, not pid 1: a signal it raises at itself is seen.
#[test]
fn re_on_raised_sigsegv() {
    let v = run().program([prog("raise")]).json();
    assert_eq!(v["verdict"], "RE");
    assert_eq!(v["exit_code"], serde_json::Value::Null);
    assert_eq!(v["signal"], 11);
    assert_eq!(v["signal_name"], "SIGSEGV");
    assert_eq!(v["message"], "the program was killed by signal SIGSEGV");
}

#[test]
fn re_on_abort() {
    let v = run().program([prog("raise"), "6".into()]).json();
    assert_eq!(v["verdict"], "RE");
    assert_eq!(v["signal_name"], "SIGABRT");
}

#[test]
fn tle_on_spin() {
    let v = run()
        .args(["--time-limit", "0.5"])
        .program([prog("spin")])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    let cpu = ms(&v["cpu_time_ms"]);
    assert!((500..=560).contains(&cpu), "cpu {cpu} ms");
    assert_eq!(v["signal_name"], "SIGKILL");
    assert_eq!(v["limits"]["cpu_time"]["limit"], 500);
}

#[test]
fn ile_on_sleep() {
    let v = run()
        .args(["--time-limit", "1", "--wall-limit", "0.4"])
        .program([prog("sleeper")])
        .json();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    let wall = ms(&v["wall_time_ms"]);
    assert!((400..=450).contains(&wall), "wall {wall} ms");
    assert!(ms(&v["cpu_time_ms"]) < 20);
    assert!(
        v["message"].as_str().unwrap().contains("waiting"),
        "{}",
        brief(&v)
    );
}

#[test]
fn mle_on_allocation() {
    let v = run()
        .args(["--memory-limit", "64M"])
        .program([prog("alloc"), "200".into()])
        .json();
    assert_eq!(v["verdict"], "MLE", "{}", brief(&v));
    let kib = ms(&v["memory_kib"]);
    assert!((60 * 1024..=64 * 1024).contains(&kib), "memory {kib} KiB");
}

#[test]
fn mle_in_a_child_process() {
    let v = run()
        .args(["--memory-limit", "64M"])
        .program([prog("alloc"), "200".into(), "child".into()])
        .json();
    assert_eq!(v["verdict"], "MLE", "{}", brief(&v));
}

#[test]
fn within_memory_limit_is_ac() {
    let v = run()
        .args(["--memory-limit", "64M"])
        .program([prog("alloc"), "30".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let kib = ms(&v["memory_kib"]);
    assert!((30 * 1024..=40 * 1024).contains(&kib), "memory {kib} KiB");
}

#[test]
fn ole_on_stdout_flood_with_exact_count_and_small_judge() {
    let d = run()
        .args([
            "--output-limit",
            "1M",
            "--json",
            "--json-output-limit",
            "1M",
        ])
        .program([prog("flood"), "1".into(), "1000000000".into()])
        .exec();
    let v = d.json();
    assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    // The judge reads at most one byte past the cap.
    assert_eq!(v["stdout_bytes"], 1048577);
    assert_eq!(v["stdout"].as_str().unwrap().len(), 1048576);
    assert_eq!(
        v["message"],
        "the program wrote more than 1048576 bytes to stdout"
    );
    assert!(
        judge_rss_growth(&v) < 4 * 1024,
        "the judge grew by {} KiB",
        judge_rss_growth(&v)
    );
}

#[test]
fn ole_on_stderr_flood() {
    let v = run()
        .args(["--stderr-limit", "64K"])
        .program([prog("flood"), "2".into()])
        .json();
    assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    assert_eq!(v["stderr_bytes"], 65537);
    assert_eq!(
        v["message"],
        "the program wrote more than 65536 bytes to stderr"
    );
}

#[test]
fn exactly_at_the_output_cap_is_fine() {
    let v = run()
        .args(["--output-limit", "1M"])
        .program([prog("flood"), "1".into(), "1048576".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], 1048576);
}

/// The program writes one byte over the cap and exits at once: the byte
/// decides (OLE), not the race between its exit and our read.
#[test]
fn one_byte_over_the_cap_is_ole_even_when_exiting_at_once() {
    for _ in 0..10 {
        let v = run()
            .args(["--output-limit", "1000"])
            .program([prog("flood"), "1".into(), "1001".into()])
            .json();
        assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    }
}

/// A writer of single bytes, read in batches where nobody reads it live
/// (see `Driver::rest`): every byte is there, and the cap holds to the
/// byte, on stdout and on stderr, whether it ends or is stopped.
#[test]
fn one_byte_writes_are_all_read_and_capped_exactly() {
    let v = run()
        .args(["--json-output-limit", "1M"])
        .program([prog("flood"), "1".into(), "200000".into(), "1".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], 200000);
    assert_eq!(v["stdout"], "x".repeat(200000).as_str());
    for (fd, flag, field) in [
        ("1", "--output-limit", "stdout"),
        ("2", "--stderr-limit", "stderr"),
    ] {
        let v = run()
            .args([flag, "5000"])
            .program([prog("flood"), fd.into(), "-1".into(), "1".into()])
            .json();
        assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
        assert_eq!(v[format!("{field}_bytes")], 5001, "{}", brief(&v));
        assert_eq!(v[field].as_str().unwrap().len(), 5000);
    }
}

/// PTRACE_TRACEME makes init the tracer; init lets it go, and the stop is
/// not mistaken for an exit.
#[test]
fn ptrace_stop_is_not_an_exit() {
    let v = run().program([prog("traceme")]).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["exit_code"], 0);
}

/// The main thread leaves with pthread_exit while another thread goes on:
/// limits still strike on time.
#[test]
fn main_thread_exit_does_not_delay_limits() {
    let v = run()
        .args(["--wall-limit", "0.5"])
        .program([prog("leader_exits")])
        .json();
    assert_eq!(v["verdict"], "ILE", "{}", brief(&v));
    assert!(ms(&v["wall_time_ms"]) < 700, "{}", brief(&v));
    let v = run()
        .args(["--time-limit", "0.5"])
        .program([prog("leader_exits"), "spin".into()])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    assert!(ms(&v["cpu_time_ms"]) < 700, "{}", brief(&v));
}
