use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

use crate::util::*;

/// A `judge serve` with a watchdog: killed if the test is still talking to
/// it after the harness's hang limit.
struct Server {
    child: Child,
    requests: Option<ChildStdin>,
    answers: BufReader<ChildStdout>,
    _watch: std::sync::mpsc::Sender<()>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(judge_bin())
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn judge serve");
        let (tx, rx) = std::sync::mpsc::channel();
        let pid = child.id();
        std::thread::spawn(move || watchdog(pid, rx));
        Server {
            requests: child.stdin.take(),
            answers: BufReader::new(child.stdout.take().unwrap()),
            child,
            _watch: tx,
        }
    }

    fn send(&mut self, line: impl AsRef<[u8]>) {
        let w = self.requests.as_mut().unwrap();
        w.write_all(line.as_ref()).unwrap();
        w.write_all(b"\n").unwrap();
        w.flush().unwrap();
    }

    fn answer(&mut self) -> Value {
        let mut line = String::new();
        self.answers.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "one whole line per answer: {line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    fn judge(&mut self, args: &[&str]) -> Value {
        self.send(serde_json::to_string(args).unwrap());
        self.answer()
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// Close its stdin and return its exit status.
    fn finish(mut self) -> i32 {
        drop(self.requests.take());
        let mut rest = String::new();
        self.answers.read_line(&mut rest).unwrap();
        assert_eq!(rest, "", "nothing after the last answer");
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

#[test]
fn serve_answers_every_request_in_order() {
    let mut s = Server::start();
    let v = s.judge(&["--", &prog("exit_n"), "0", "hello"]);
    assert_eq!(
        (v["verdict"].as_str(), v["stdout"].as_str()),
        (Some("AC"), Some("hello\n"))
    );
    let v = s.judge(&["--time-limit", "0.2", "--", &prog("spin")]);
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    let v = s.judge(&["--", &prog("exit_n"), "3"]);
    assert_eq!(
        (v["verdict"].as_str(), v["exit_code"].as_i64()),
        (Some("RE"), Some(3))
    );
    let input = temp_dir("serve").join("in.txt");
    std::fs::write(&input, "a b\n").unwrap();
    let v = s.judge(&["--stdin", input.to_str().unwrap(), "--", "/bin/cat"]);
    assert_eq!(v["stdout"], "a b\n", "{}", brief(&v));
    let v = s.judge(&[
        "--responder",
        &interactor("wa_after_one_line"),
        "--",
        "/bin/sh",
        "-c",
        "echo guess; read x",
    ]);
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));

    // Requests that are not sessions get an error, and the server goes on.
    let v = s.judge(&["--bogus", "--", "/bin/true"]);
    assert_eq!(v["exit_status"], 2);
    assert!(v["error"].as_str().unwrap().contains("--bogus"), "{v}");
    let v = s.judge(&["--", "/nonexistent/program"]);
    assert_eq!(v["exit_status"], 2);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/program"),
        "{v}"
    );
    // The program's output must not reach the answers.
    let v = s.judge(&["--stdout", "/dev/stdout", "--", "/bin/echo", "{}"]);
    assert_eq!(v["exit_status"], 2, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("--stdout /dev/stdout"),
        "{v}"
    );
    s.send("{\"not\": \"an array\"}");
    assert!(s.answer()["error"].as_str().unwrap().contains("JSON array"));
    // An empty line is answered too: a grader counting lines stays in step.
    s.send("");
    assert_eq!(
        s.answer(),
        serde_json::json!({
            "error": "an empty request: each line is a JSON array of the arguments of judge run",
            "exit_status": 2
        })
    );
    let v = s.judge(&["--responder", "wasm:/dev/zero", "--", "/bin/true"]);
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    s.send(b"[\"\xff\"]");
    assert!(s.answer()["error"].as_str().unwrap().contains("JSON array"));
    s.send("a".repeat((128 << 20) + 10));
    assert!(s.answer()["error"]
        .as_str()
        .unwrap()
        .contains("at most 134217728 bytes"));
    // Its own stdin and stdout carry the requests and answers: a request
    // may neither read the one nor write the other.
    for (flag, file) in [("--stdin", "/dev/stdin"), ("--transcript", "/dev/stdout")] {
        let v = s.judge(&[flag, file, "--", "/bin/true"]);
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("the server's own stdin or stdout"),
            "{v}"
        );
    }
    assert_eq!(s.judge(&["--", "/bin/true"])["verdict"], "AC");

    // A long-lived judge keeps nothing of its sessions: descriptors and
    // memory stay where they were after the first few.
    for _ in 0..10 {
        assert_eq!(s.judge(&["--", "/bin/true"])["verdict"], "AC");
    }
    let (fds, rss) = (
        s.open_fds(),
        s.judge(&["--", "/bin/true"])["judge_max_rss_kib"].clone(),
    );
    for _ in 0..100 {
        assert_eq!(s.judge(&["--", "/bin/true"])["verdict"], "AC");
    }
    assert_eq!(s.open_fds(), fds, "descriptors leaked");
    let grown = ms(&s.judge(&["--", "/bin/true"])["judge_max_rss_kib"]) as i64 - ms(&rss) as i64;
    assert!(
        grown < 1024,
        "the server grew by {grown} KiB over 100 sessions"
    );
    // Compiled modules are kept, but not all of them (each holds a
    // descriptor and its code).
    let dir = temp_dir("serve-modules");
    let module = |s: &mut Server, i: usize| {
        let path = dir.join(format!("m{i}.wat"));
        std::fs::write(&path, crate::responders::verdict_module(1)).unwrap();
        let v = s.judge(&[
            "--responder",
            &format!("wasm:{}", path.display()),
            "--",
            "/bin/true",
        ]);
        assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    };
    (0..20).for_each(|i| module(&mut s, i));
    let fds = s.open_fds();
    (20..60).for_each(|i| module(&mut s, i));
    assert_eq!(s.open_fds(), fds, "descriptors grow with the modules seen");
    assert_eq!(s.finish(), 0);
}

/// SIGTERM while a session runs: the session is stopped and answered as
/// JE, nothing of it survives, and the server ends.
#[test]
fn serve_stops_when_told_to() {
    let mut s = Server::start();
    assert_eq!(s.judge(&["--", "/bin/true"])["verdict"], "AC");
    let tok = token("serve-term");
    s.send(
        serde_json::to_string(&[
            "--wall-limit",
            "60",
            "--",
            "/bin/sh",
            "-c",
            &format!("sleep 100 & sleep 100; : {tok}"),
        ])
        .unwrap(),
    );
    let t = std::time::Instant::now();
    while processes_with(&tok).is_empty() {
        assert!(t.elapsed().as_secs() < 20, "the session never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: signalling the server we spawned and have not reaped.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let v = s.answer();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(v["rule"], "the judge was interrupted", "{}", brief(&v));
    assert_eq!(s.finish(), 1);
    assert_eq!(processes_with(&tok), Vec::<String>::new());
}
