//! A batch program's output checked against `--answer`: the Kattis default
//! output validator's rules (`--checker diff`, the default without a
//! responder), checked only when the program ended normally.

use crate::util::*;
use std::path::PathBuf;

/// A test's files in a folder of their own: (input, answer).
fn test_files(input: &str, answer: &str) -> (String, String) {
    let d = temp_dir("checker");
    let (i, a): (PathBuf, PathBuf) = (d.join("in"), d.join("ans"));
    std::fs::write(&i, input).unwrap();
    std::fs::write(&a, answer).unwrap();
    (i.display().to_string(), a.display().to_string())
}

/// A program that prints what the shell snippet prints.
fn sh(script: &str) -> [String; 3] {
    ["/bin/sh".into(), "-c".into(), script.into()]
}

const SUM: &str = "read a b; echo $((a + b))";
const DIFFERENCE: &str = "read a b; echo $((a - b))";

/// The first-hour case: a wrong sum was AC because --answer was ignored.
#[test]
fn a_wrong_answer_is_wa_naming_where_it_differs() {
    let (input, answer) = test_files("1 2\n", "3\n");
    let v = run()
        .args(["--stdin", &input, "--answer", &answer])
        .program(sh(DIFFERENCE))
        .json();
    assert_eq!(v["verdict"], "WA", "{}", brief(&v));
    assert_eq!(v["message"], "line 1, token 1: expected 3, got -1");
    let c = &v["checker"];
    assert_eq!(c["kind"], "diff");
    assert_eq!(c["verdict"], "WA");
    assert_eq!(
        c["difference"],
        serde_json::json!({"line": 1, "column": 1, "token": 1, "expected": "3", "got": "-1"})
    );
    // The same in human mode: the summary's first line, exit status 1.
    let done = run()
        .args(["--stdin", &input, "--answer", &answer])
        .program(sh(DIFFERENCE))
        .exec();
    assert_eq!(done.status, 1);
    assert!(
        done.stderr
            .starts_with("WA: line 1, token 1: expected 3, got -1\n"),
        "{}",
        done.stderr
    );

    let v = run()
        .args(["--stdin", &input, "--answer", &answer])
        .program(sh(SUM))
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["message"], "the output matches the answer");
    assert_eq!(v["checker"]["verdict"], "AC");
    assert_eq!(v["stdout"], "3\n");
}

/// Only a program that ended normally is checked: a limit or a crash
/// keeps its verdict, and the checker says nothing.
#[test]
fn a_program_that_failed_keeps_its_verdict() {
    let (input, answer) = test_files("1 2\n", "3\n");
    for (script, limit, verdict) in [
        ("echo 3; exit 4", vec![], "RE"),
        (
            "echo 3; while :; do :; done",
            vec!["--time-limit", "0.2"],
            "TLE",
        ),
        ("echo 3; kill -SEGV $$", vec![], "RE"),
    ] {
        let v = run()
            .args(["--stdin", &input, "--answer", &answer])
            .args(limit)
            .program(sh(script))
            .json();
        assert_eq!(v["verdict"], verdict, "{script}: {}", brief(&v));
        assert_eq!(v["checker"], serde_json::Value::Null, "{script}");
    }
}

/// Each flag of the default validator, through the command line.
#[test]
fn every_validator_flag_is_honoured() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (flags, answer, output, verdict, message)
        ("", "Yes\n", "yes", "AC", "the output matches the answer"),
        (
            "case_sensitive",
            "Yes\n",
            "yes",
            "WA",
            "line 1, token 1: expected Yes, got yes",
        ),
        (
            "",
            "1 2\n3\n",
            "1\n2   3\n\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "space_change_sensitive",
            "1 2\n",
            "1 2",
            "WA",
            "line 1, column 4: expected a newline, got the end of the output",
        ),
        (
            "space_change_sensitive",
            "1 2\n",
            "1 2\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_tolerance 1e-6",
            "0.5\n",
            "0.5000009\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_absolute_tolerance 0.5",
            "1\n",
            "1.75\n",
            "WA",
            "line 1, token 1: expected 1, got 1.75: absolute error 7.5e-1, relative error 7.5e-1 \
             (tolerance: absolute 5e-1, relative none)",
        ),
        // At the boundary: accepted.
        (
            "float_absolute_tolerance 0.5",
            "1\n",
            "1.5\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_relative_tolerance 0.1",
            "100\n",
            "1.1e2\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_tolerance 1",
            "2 words\n",
            "2 words more\n",
            "WA",
            "line 1, token 3: the answer has ended, the output goes on with more",
        ),
        (
            "float_tolerance 1",
            "2 words more\n",
            "2 words\n",
            "WA",
            "line 2: the output ended where the answer goes on with more",
        ),
        // Exponent forms, either side.
        (
            "float_tolerance 1e-9",
            "1e3\n",
            "1000.0\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_tolerance 1e-9",
            "0.001\n",
            "1E-3\n",
            "AC",
            "the output matches the answer",
        ),
        // inf and nan are not numbers: words, compared as words.
        (
            "float_tolerance 1",
            "inf\n",
            "INF\n",
            "AC",
            "the output matches the answer",
        ),
        (
            "float_tolerance 1",
            "1\n",
            "nan\n",
            "WA",
            "line 1, token 1: expected a number (1), got nan",
        ),
        // An integer of the answer is a number only under a tolerance (as in
        // problemtools); without one it is a word.
        (
            "",
            "3\n",
            "3.0\n",
            "WA",
            "line 1, token 1: expected 3, got 3.0",
        ),
        (
            "float_absolute_tolerance 0",
            "3\n",
            "3.0\n",
            "AC",
            "the output matches the answer",
        ),
    ];
    for &(flags, answer, output, verdict, message) in cases {
        let (_, ans) = test_files("", answer);
        let v = run()
            .args(["--answer", &ans, "--checker", &format!("diff {flags}")])
            .program(["/usr/bin/printf".to_string(), "%s".into(), output.into()])
            .json();
        assert_eq!(v["verdict"], verdict, "{flags:?} {output:?}: {}", brief(&v));
        assert_eq!(v["message"], message, "{flags:?} {output:?}");
    }
}

/// Mistakes get one line and exit status 2.
#[test]
fn checker_mistakes_are_usage_errors() {
    let (input, answer) = test_files("1 2\n", "3\n");
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|x| x.to_string()).collect() };
    let responder = interactor("ac_at_eof");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            s(&["--stdin", &input, "--checker", "diff"]),
            "--checker needs --answer FILE",
        ),
        (
            s(&[
                "--stdin",
                &input,
                "--answer",
                &answer,
                "--checker",
                "diff float_tolerance",
            ]),
            "float_tolerance needs a value",
        ),
        (
            s(&[
                "--stdin",
                &input,
                "--answer",
                &answer,
                "--checker",
                "diff ignore_case",
            ]),
            "unknown flag \"ignore_case\"",
        ),
        (
            s(&["--stdin", &input, "--answer", &answer, "--checker", "cmp"]),
            "expected diff [FLAGS]",
        ),
        (
            s(&["--stdin", &input, "--answer", "/nonexistent/ans"]),
            "cannot read the answer file /nonexistent/ans",
        ),
        (
            s(&[
                "--answer",
                &answer,
                "--checker",
                "diff",
                "--responder",
                &responder,
            ]),
            "--checker is for batch programs",
        ),
    ];
    for (args, want) in cases {
        let done = run().args(args.clone()).program(sh(SUM)).exec();
        assert_eq!(done.status, 2, "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(want), "{args:?}: {}", done.stderr);
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
    }
}

/// A checker process of each kind, read as its protocol says; its failure
/// is a JE (never the program's fault), with its stderr in the summary.
#[test]
fn checker_processes_of_testlib_and_kattis_kind() {
    let (input, answer) = test_files("1 2\n", "3\n");
    let dir = temp_dir("checker-processes");
    let testlib = dir.join("testlib.py");
    std::fs::write(
        &testlib,
        "import sys\ninp, out, ans = sys.argv[1:4]\n\
         got, want = open(out).read().split(), open(ans).read().split()\n\
         if got == want:\n    print('ok 1 number', file=sys.stderr); sys.exit(0)\n\
         print(f'wrong answer expected {want[0]}, found {got[0]}', file=sys.stderr); sys.exit(1)\n",
    )
    .unwrap();
    let kattis = dir.join("kattis.py");
    std::fs::write(
        &kattis,
        "import sys\ninp, ans, fb = sys.argv[1:4]\n\
         got, want = sys.stdin.read().split(), open(ans).read().split()\n\
         open(fb + 'judgemessage.txt', 'w').write('input ' + open(inp).read().strip() + '\\n')\n\
         sys.exit(42 if got == want else 43)\n",
    )
    .unwrap();
    let py = python();
    let cases = [
        (
            vec![],
            format!("exec:{py} {}", testlib.display()),
            SUM,
            "AC",
            "ok 1 number",
        ),
        (
            vec![],
            format!("exec:{py} {}", testlib.display()),
            DIFFERENCE,
            "WA",
            "wrong answer expected 3, found -1",
        ),
        (
            vec!["--protocol", "kattis", "--input", &input],
            format!("exec:{py} {}", kattis.display()),
            SUM,
            "AC",
            "input 1 2",
        ),
        (
            vec!["--protocol", "kattis", "--input", &input],
            format!("exec:{py} {}", kattis.display()),
            DIFFERENCE,
            "WA",
            "input 1 2",
        ),
    ];
    for (extra, checker, program, verdict, message) in cases {
        let v = run()
            .args([
                "--stdin",
                &input,
                "--answer",
                &answer,
                "--checker",
                &checker,
            ])
            .args(extra.clone())
            .program(sh(program))
            .json();
        assert_eq!(v["verdict"], verdict, "{checker} {extra:?}: {}", brief(&v));
        assert_eq!(v["message"], message, "{checker} {extra:?}");
        assert_eq!(v["checker"]["kind"], "exec");
    }
    // Kattis validators read their flags after the files.
    let flags = dir.join("flags.py");
    std::fs::write(
        &flags,
        "import sys\nopen(sys.argv[3] + 'judgemessage.txt', 'w').write(' '.join(sys.argv[4:]))\nsys.exit(42)\n",
    )
    .unwrap();
    let v = run()
        .args([
            "--stdin",
            &input,
            "--answer",
            &answer,
            "--protocol",
            "kattis",
        ])
        .args(["--checker", &format!("exec:{py} {}", flags.display())])
        .args(["--validator-flags", "float_tolerance 1e-6"])
        .program(sh(SUM))
        .json();
    assert_eq!(v["message"], "float_tolerance 1e-6", "{}", brief(&v));
    // A checker that raises: JE, with its traceback in the summary.
    let d = run()
        .args(["--stdin", &input, "--answer", &answer])
        .args(["--checker", &format!("exec:{py} -c 'import sys; 1/0'")])
        .program(sh(SUM))
        .exec();
    assert_eq!(d.status, 1);
    assert!(
        d.stderr.starts_with("JE: the checker crashed (a Python traceback, exit code 1): ZeroDivisionError: division by zero\n"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("  the checker's stderr, last lines:\n"),
        "{}",
        d.stderr
    );
    // One that hangs: JE at its own wall limit.
    let v = run()
        .args([
            "--stdin",
            &input,
            "--answer",
            &answer,
            "--responder-wall-limit",
            "0.5",
        ])
        .args(["--checker", "exec:/bin/sh -c 'sleep 10'"])
        .program(sh(SUM))
        .json();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("the checker failed (ILE"),
        "{}",
        brief(&v)
    );
}

/// Numbers compared as words (no tolerance) get a hint in the summary.
#[test]
fn a_wa_between_numbers_without_a_tolerance_says_how_to_allow_one() {
    let (_, answer) = test_files("", "0.3333333\n");
    let d = run()
        .args(["--answer", &answer])
        .program(["/usr/bin/printf", "0.3333333333333333\n"])
        .exec();
    assert_eq!(d.status, 1);
    assert!(
        d.stderr
            .starts_with("WA: line 1, token 1: expected 0.3333333, got 0.3333333333333333\n"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.ends_with(
            "  hint: without a tolerance numbers are compared as words; \
             --checker 'diff float_tolerance 1e-6' accepts a small difference\n"
        ),
        "{}",
        d.stderr
    );
    // Words differing: no such hint.
    let (_, answer) = test_files("", "yes\n");
    let d = run()
        .args(["--answer", &answer])
        .program(["/bin/echo", "no"])
        .exec();
    assert!(!d.stderr.contains("hint"), "{}", d.stderr);
}
