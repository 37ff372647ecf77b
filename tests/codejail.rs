use std::process::{Command, Stdio};

use crate::util::*;

fn exec(args: &[&str]) -> Done {
    let mut c = Command::new(judge_bin());
    c.arg("exec").args(args).stdin(Stdio::null());
    exec_command(c)
}

#[test]
fn globals_go_in_and_come_back_as_codejail_filters_them() {
    let code = "x = a + 1\ns = 'é' * 2\nt = (1, [2, 3])\nf = len\nb = b'hi'\nbad = b'\\xff'\n\
                n = {'k': [1, {2}]}\nd = {'deep': {'list': [None, True, 1.5]}}\nimport math\nq = math.nan";
    let done = exec(&["--code", code, "--globals", r#"{"a": 41, "u": "\u263a"}"#]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    // Tuples become lists, UTF-8 bytes strings, and what JSON cannot hold
    // (a function, a set inside a list, bytes that are not UTF-8, the
    // imported module) is dropped with its key; NaN stays, as Python
    // writes it.
    assert_eq!(
        done.stdout,
        "{\"a\": 41, \"u\": \"\\u263a\", \"x\": 42, \"s\": \"\\u00e9\\u00e9\", \"t\": [1, [2, 3]], \
         \"b\": \"hi\", \"d\": {\"deep\": {\"list\": [null, true, 1.5]}}, \"q\": NaN}\n"
    );
}

#[test]
fn an_exception_is_an_error_with_its_traceback() {
    let done = exec(&["--code", "def f():\n    return 1 / 0\nf()"]);
    assert_eq!(done.status, 1);
    assert!(done.stdout.is_empty());
    // CodeJail's message to the byte: stdout and stderr as Python's
    // bytes.
    assert!(
        done.stderr
            .starts_with("Couldn't execute jailed code: stdout: b'', stderr: b'Traceback"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .ends_with("ZeroDivisionError: division by zero\\n' with status code: 1\n"),
        "{}",
        done.stderr
    );
    // What the code printed is not mixed into the globals.
    let done = exec(&["--code", "print('noise'); x = 1"]);
    assert_eq!(done.stdout, "{\"x\": 1}\n");
}

#[test]
fn files_and_python_path_are_in_the_work_directory() {
    let d = temp_dir("codejail_files");
    std::fs::write(d.join("data.txt"), "7\n").unwrap();
    std::fs::create_dir(d.join("lib")).unwrap();
    std::fs::write(d.join("lib/helper.py"), "def twice(x):\n    return 2 * x\n").unwrap();
    let data = d.join("data.txt").to_string_lossy().into_owned();
    let lib = d.join("lib").to_string_lossy().into_owned();
    let done = exec(&[
        "--code",
        "import helper\nwith open('data.txt') as f:\n    v = helper.twice(int(f.read()))\ndel f",
        "--file",
        &data,
        "--file",
        &lib,
        "--python-path",
        "lib",
    ]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.stdout, "{\"v\": 14}\n");
}

#[test]
fn limits_and_their_override_contexts() {
    let d = temp_dir("codejail_jails");
    let jails = d.join("jails.yaml");
    std::fs::write(
        &jails,
        "tight:\n  interpreter: /usr/bin/python3\n  limits: {CPU: 0.5, REALTIME: 2}\n  \
         overrides:\n    long: {CPU: 5, REALTIME: 10}\n",
    )
    .unwrap();
    let jails = jails.to_string_lossy().into_owned();
    let spin =
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 1: pass\ndone = 1";
    let done = exec(&["tight", "--jails", &jails, "--code", spin]);
    assert_eq!(done.status, 1);
    // CodeJail's message (-9: killed), then which limit.
    assert!(
        done.stderr.starts_with(
            "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: -9\n\
             judge: TLE: the program used"
        ),
        "{}",
        done.stderr
    );
    let done = exec(&[
        "tight",
        "--jails",
        &jails,
        "--limits-context",
        "long",
        "--code",
        spin,
    ]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(
        done.stdout.trim_end().rsplit_once(", ").unwrap().1,
        "\"done\": 1}"
    );
    // An unknown context means the jail's own limits, as in CodeJail.
    let done = exec(&[
        "tight",
        "--jails",
        &jails,
        "--limits-context",
        "nope",
        "--code",
        spin,
    ]);
    assert_eq!(done.status, 1);
}

#[test]
fn the_sandbox_denies_what_codejail_users_rely_on() {
    // No network.
    let done = exec(&[
        "--code",
        "import socket\nsocket.create_connection(('127.0.0.1', 80))",
    ]);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr
            .contains("PermissionError: [Errno 1] Operation not permitted"),
        "{}",
        done.stderr
    );
    // Nothing written by default (FSIZE 0): Python ignores SIGXFSZ, so
    // the write fails with EFBIG.
    let done = exec(&["--code", "with open('x', 'w') as f:\n    f.write('a' * 10)"]);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr.contains("OSError: [Errno 27] File too large"),
        "{}",
        done.stderr
    );
    // Other users' files and the host's secrets are not there to read.
    let done = exec(&["--code", "open('/etc/shadow').read()"]);
    assert_eq!(done.status, 1);
    assert!(done.stderr.contains("FileNotFoundError"), "{}", done.stderr);
    // A fork bomb is contained by NPROC (15).
    let done = exec(&["--code", "import os\nwhile True:\n    os.fork()"]);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr.contains("BlockingIOError") || done.stderr.contains("OSError"),
        "{}",
        done.stderr
    );
}

#[test]
fn mistakes_are_usage_errors() {
    let done = exec(&["nope", "--code", "x = 1"]);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        "judge: no jail named \"nope\": known are python\n"
    );
    let done = exec(&["--code", "x = 1", "--globals", "[1]"]);
    assert_eq!(done.status, 2);
    assert_eq!(done.stderr, "judge: the globals must be a JSON object\n");
    let d = temp_dir("codejail_bad");
    let jails = d.join("jails.yaml");
    std::fs::write(
        &jails,
        "py:\n  interpreter: /usr/bin/python3\n  limits: {CPUS: 1}\n",
    )
    .unwrap();
    let done = exec(&["py", "--jails", jails.to_str().unwrap(), "--code", "x = 1"]);
    assert_eq!(done.status, 2);
    assert!(
        done.stderr
            .starts_with(&format!("judge: {}: line 3 column", jails.display())),
        "{}",
        done.stderr
    );
}

/// A jail whose interpreter is a virtualenv holding a library the system's
/// Python lacks: the venv is shown read-only at its own path.
#[test]
fn a_jail_on_a_virtualenv_sees_its_libraries() {
    let d = temp_dir("codejail_venv");
    let venv = course_venv(&d);
    let jails = d.join("jails.yaml");
    std::fs::write(
        &jails,
        format!(
            "course:\n  interpreter: {v}/bin/python\n  dirs: [{v}]\n  limits: {{VMEM: 67108864}}\n",
            v = venv.display()
        ),
    )
    .unwrap();
    let jails = jails.to_string_lossy().into_owned();
    let done = exec(&[
        "course",
        "--jails",
        &jails,
        "--code",
        "import coursetools\ng = coursetools.grade(4)",
    ]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.stdout, "{\"g\": 40}\n");
    // The system's python has no such library.
    let done = exec(&["--code", "import coursetools"]);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr.contains("ModuleNotFoundError"),
        "{}",
        done.stderr
    );
    // VMEM caps memory: 200 MiB under a 64 MiB limit.
    let done = exec(&[
        "course",
        "--jails",
        &jails,
        "--code",
        "a = 'x' * (200 << 20)",
    ]);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr.contains("with status code: -9\njudge: MLE: ")
            || done.stderr.contains("MemoryError"),
        "{}",
        done.stderr
    );
}
