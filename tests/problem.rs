//! `judge problem`: whole packages (Kattis legacy, 2023-07-draft, 2025-09,
//! Polygon) built in a temporary folder, judged by the real binary, with
//! exact verdicts, scores and messages.

use crate::util::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// A package under construction.
struct Pkg {
    dir: PathBuf,
}

impl Pkg {
    fn new(tag: &str) -> Pkg {
        let dir = temp_dir(tag).join("problem");
        std::fs::create_dir_all(&dir).unwrap();
        Pkg { dir }
    }

    fn file(self, rel: &str, text: &str) -> Pkg {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        self
    }

    /// A test: `data/NAME.in` and `data/NAME.ans`.
    fn test(self, name: &str, input: &str, answer: &str) -> Pkg {
        self.file(&format!("data/{name}.in"), input)
            .file(&format!("data/{name}.ans"), answer)
    }

    fn path(&self, rel: &str) -> String {
        self.dir.join(rel).display().to_string()
    }

    fn judge(&self, args: &[&str]) -> Done {
        let mut c = Command::new(judge_bin());
        c.arg("problem").arg(&self.dir).args(args);
        exec_command(c)
    }

    /// `--json` of one submission (a path inside the package).
    fn json(&self, submission: &str, extra: &[&str]) -> Value {
        let sub = self.path(submission);
        let mut args = vec![sub.as_str(), "--json"];
        args.extend(extra);
        let done = self.judge(&args);
        assert!(
            done.status == 0 || done.status == 1,
            "exit {}: {}",
            done.status,
            done.stderr
        );
        serde_json::from_str(&done.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", done.stdout, done.stderr))
    }
}

const ADD_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const SUB_PY: &str = "a, b = map(int, input().split())\nprint(a - b)\n";

/// The verdicts of the tests, in order.
fn verdicts(v: &Value) -> Vec<String> {
    v["submission"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["verdict"].as_str().unwrap_or("skipped").to_string())
        .collect()
}

fn sum_package(tag: &str, yaml: &str) -> Pkg {
    Pkg::new(tag)
        .file("problem.yaml", yaml)
        .test("sample/1", "1 2\n", "3\n")
        .test("secret/1", "10 20\n", "30\n")
        .test("secret/2", "-5 5\n", "0\n")
        .file("submissions/accepted/add.py", ADD_PY)
        .file("submissions/wrong_answer/sub.py", SUB_PY)
}

#[test]
fn each_package_form_judges_pass_fail_with_the_first_rejection_deciding() {
    for (form, yaml) in [
        ("kattis-legacy", "name: Sum\nlimits: {time_multiplier: 3}\n"),
        (
            "kattis-2023-07-draft",
            "problem_format_version: 2023-07-draft\nname: Sum\ntype: [pass-fail]\nlimits: {time_limit: 2}\n",
        ),
        (
            "kattis-2025-09",
            "problem_format_version: 2025-09\nname: Sum\ntype: pass-fail\nlimits: {time_limit: 2, memory: 128}\n",
        ),
    ] {
        let p = sum_package(form, yaml);
        let v = p.json("submissions/accepted/add.py", &[]);
        assert_eq!(v["package"]["format"], form);
        assert_eq!(v["submission"]["verdict"], "AC", "{form}: {v}");
        assert_eq!(verdicts(&v), ["AC", "AC", "AC"]);
        let v = p.json("submissions/wrong_answer/sub.py", &["-j", "1"]);
        assert_eq!(v["submission"]["verdict"], "WA");
        assert_eq!(v["submission"]["decided_by"], "sample/1");
        // Pass-fail stops at the first rejection: the rest were skipped.
        assert_eq!(verdicts(&v), ["WA", "skipped", "skipped"], "{form}");
        assert_eq!(
            v["submission"]["message"],
            "WA on sample/1: line 1, token 1: expected 3, got -1"
        );
        let v = p.json("submissions/wrong_answer/sub.py", &["--all"]);
        assert_eq!(verdicts(&v), ["WA", "WA", "WA"], "{form}");
        // Verify mode: both submissions got what their folders say.
        let done = p.judge(&[]);
        assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
        assert!(done.stdout.contains("all 2 submissions got what their folders say"));
    }
}

#[test]
fn the_time_limit_is_computed_from_the_accepted_submissions_when_absent() {
    // Legacy: ceil(slowest x time_multiplier), at least 1 s.
    let p = sum_package("tl-legacy", "name: Sum\n");
    let v = p.json("submissions/wrong_answer/sub.py", &[]);
    let tl = &v["package"]["time_limit"];
    assert_eq!(tl["source"], "computed", "{tl}");
    assert_eq!(tl["seconds"], 1.0);
    let why = tl["why"].as_str().unwrap();
    assert!(
        why.starts_with("the slowest accepted run x 5 (time_multiplier), rounded up to a second: submissions/accepted/add.py took "),
        "{why}"
    );
    // 2025-09: a multiple of time_resolution.
    let p = sum_package(
        "tl-2025",
        "problem_format_version: 2025-09\nname: Sum\nlimits: {time_resolution: 0.5}\n",
    );
    let v = p.json("submissions/accepted/add.py", &[]);
    // As problemtools: at least one step of the resolution.
    assert_eq!(v["package"]["time_limit"]["seconds"], 0.5);
    assert!(v["package"]["time_limit"]["why"]
        .as_str()
        .unwrap()
        .contains("rounded up to a multiple of 0.5 s (time_resolution)"));
    // --time-limit overrides, and says so.
    let v = p.json("submissions/accepted/add.py", &["--time-limit", "3"]);
    assert_eq!(v["package"]["time_limit"]["source"], "--time-limit");
    assert_eq!(v["package"]["time_limit"]["seconds"], 3.0);
    // No limit and no accepted submission: a usage error.
    let p = Pkg::new("tl-none")
        .file("problem.yaml", "name: Sum\n")
        .test("secret/1", "1 2\n", "3\n")
        .file("sol.py", ADD_PY);
    let done = p.judge(&[&p.path("sol.py")]);
    assert_eq!(done.status, 2);
    assert!(
        done.stderr
            .contains("no accepted submission to compute one from: give --time-limit"),
        "{}",
        done.stderr
    );
}

#[test]
fn nested_groups_inherit_validator_flags_and_files_reach_the_working_directory() {
    let p = Pkg::new("groups")
        .file("problem.yaml", "name: Root\nlimits: {time_limit: 2}\n")
        .file(
            "data/secret/loose/testdata.yaml",
            "output_validator_flags: float_tolerance 0.01\n",
        )
        .test("secret/loose/deep/1", "2\n", "1.414\n")
        .test("secret/loose/2", "2\n", "1.414\n")
        .test("secret/strict/1", "2\n", "1.414\n")
        .file(
            "sol.py",
            "import math\nprint(round(math.sqrt(int(input())), 3) + 0.001)\n",
        );
    let v = p.json("sol.py", &["--all"]);
    // The grandchild inherits the tolerance; a sibling group does not.
    assert_eq!(verdicts(&v), ["AC", "AC", "WA"], "{v}");
    let names: Vec<&str> = v["submission"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["test"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["secret/loose/2", "secret/loose/deep/1", "secret/strict/1"]
    );

    // 2025-09: output_validator_args lists, a test's own .yaml, .files/.
    let p = Pkg::new("files")
        .file(
            "problem.yaml",
            "problem_format_version: 2025-09\nname: Files\nlimits: {time_limit: 2}\n",
        )
        .file(
            "data/secret/test_group.yaml",
            "output_validator_args: [case_sensitive]\n",
        )
        .test("secret/1", "", "Hello\n")
        .file("data/secret/1.files/greeting.txt", "Hello\n")
        .test("secret/2", "", "hello\n")
        .file("data/secret/2.files/greeting.txt", "HELLO\n")
        .file("data/secret/2.yaml", "output_validator_args: []\n")
        .file("sol.py", "print(open('greeting.txt').read().strip())\n");
    let v = p.json("sol.py", &["--all"]);
    assert_eq!(verdicts(&v), ["AC", "AC"], "{v}");

    // The submission's arguments: a test's .args (shell words) or args:
    // in its .yaml.
    let p = Pkg::new("args")
        .file("problem.yaml", "name: Args\nlimits: {time_limit: 2}\n")
        .test("secret/1", "", "2 --mode a b\n")
        .file("data/secret/1.args", "--mode 'a b'\n")
        .test("secret/2", "", "1 x\n")
        .file("data/secret/2.yaml", "args: [x]\n")
        .file(
            "argv.py",
            "import sys\nprint(len(sys.argv) - 1, *sys.argv[1:])\n",
        );
    let v = p.json("argv.py", &["--all"]);
    assert_eq!(verdicts(&v), ["AC", "AC"], "{v}");
}

#[test]
fn identical_test_cases_run_once() {
    let p = Pkg::new("same")
        .file("problem.yaml", "name: Same\nlimits: {time_limit: 2}\n")
        .test("secret/a", "1 2\n", "3\n")
        .test("secret/b", "1 2\n", "3\n")
        .test("secret/c", "2 2\n", "4\n")
        .file("sol.py", ADD_PY);
    let v = p.json("sol.py", &["-j", "1"]);
    let t = &v["submission"]["tests"];
    assert_eq!(t[1]["same_as"], "secret/a", "{v}");
    assert!(t[0].get("same_as").is_none() && t[2].get("same_as").is_none());
    assert_eq!(verdicts(&v), ["AC", "AC", "AC"]);
}

/// A Kattis output validator in Python: reads the answer and the output.
const VALIDATOR_PY: &str = r#"import sys
inp, ans, fb = sys.argv[1], sys.argv[2], sys.argv[3]
want = open(ans).read().split()
got = sys.stdin.read().split()
if got == want:
    open(fb + "judgemessage.txt", "w").write("exactly right, " + " ".join(sys.argv[4:]))
    open(fb + "teammessage.txt", "w").write("well done")
    sys.exit(42)
open(fb + "judgemessage.txt", "w").write("expected %s got %s" % (want, got))
sys.exit(43)
"#;

#[test]
fn a_custom_validator_reports_its_messages_and_a_crashing_one_is_je() {
    let p = Pkg::new("validator")
        .file(
            "problem.yaml",
            "name: V\nvalidation: custom\nvalidator_flags: from-yaml\nlimits: {time_limit: 2}\n",
        )
        .file("output_validators/check/check.py", VALIDATOR_PY)
        .test("secret/1", "1 2\n", "3\n")
        .file("add.py", ADD_PY)
        .file("sub.py", SUB_PY);
    let v = p.json("add.py", &[]);
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "AC", "{v}");
    assert_eq!(t["judge_message"], "exactly right, from-yaml");
    assert_eq!(t["team_message"], "well done");
    let v = p.json("sub.py", &[]);
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "WA");
    assert_eq!(t["judge_message"], "expected ['3'] got ['-1']");

    let p = Pkg::new("validator-crash")
        .file(
            "problem.yaml",
            "problem_format_version: 2023-07-draft\nname: V\nlimits: {time_limit: 2}\n",
        )
        .file(
            "output_validator/check.py",
            "import sys\nraise ValueError('broken validator')\n",
        )
        .test("secret/1", "1 2\n", "3\n")
        .file("add.py", ADD_PY);
    let v = p.json("add.py", &[]);
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "JE", "{v}");
    let m = t["message"].as_str().unwrap();
    assert!(m.contains("ValueError: broken validator"), "{m}");
}

#[test]
fn multi_pass_feeds_nextpass_in_to_the_next_run() {
    // Pass 1: the program doubles n; the validator asks for a second pass
    // with n*10. Pass 2: it must double that too.
    let validator = r#"import sys, os
inp, ans, fb = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(open(inp).read())
got = int(sys.stdin.read())
if got != 2 * n:
    sys.exit(43)
if n < 100:
    open(fb + "nextpass.in", "w").write(str(n * 10))
sys.exit(42)
"#;
    let p = Pkg::new("multipass")
        .file(
            "problem.yaml",
            "problem_format_version: 2025-09\nname: M\ntype: multi-pass\nlimits: {time_limit: 2, validation_passes: 3}\n",
        )
        .file("output_validator/v.py", validator)
        .test("secret/1", "5\n", "\n")
        .test("secret/2", "500\n", "\n")
        .file("double.py", "print(2 * int(input()))\n")
        .file("once.py", "import os\nn = int(input())\nprint(2 * n if n < 10 else n)\n");
    let v = p.json("double.py", &[]);
    assert_eq!(v["submission"]["verdict"], "AC", "{v}");
    let t = &v["submission"]["tests"];
    // 5, then 50, then 500: three passes; 500 needs one.
    assert_eq!(t[0]["passes"], 3);
    assert_eq!(t[1]["passes"], 1);
    let v = p.json("once.py", &[]);
    assert_eq!(v["submission"]["verdict"], "WA");
    assert_eq!(v["submission"]["tests"][0]["passes"], 2);
}

#[test]
fn scoring_with_legacy_graders_and_2025_aggregation() {
    // Legacy: every test AC is worth accept_score; groups sum by default;
    // the root ignores the samples.
    let p = Pkg::new("score-legacy")
        .file(
            "problem.yaml",
            "name: S\ntype: scoring\nlimits: {time_limit: 2}\n",
        )
        .file(
            "data/testdata.yaml",
            "grader_flags: ignore_sample\non_reject: continue\n",
        )
        .file(
            "data/secret/testdata.yaml",
            "grader_flags: sum\non_reject: continue\naccept_score: 25\n",
        )
        .test("sample/1", "1 1\n", "2\n")
        .test("secret/1", "1 2\n", "3\n")
        .test("secret/2", "2 2\n", "4\n")
        .test("secret/3", "3 1\n", "4\n")
        .test("secret/4", "0 0\n", "0\n")
        .file(
            "half.py",
            "a, b = map(int, input().split())\nprint(a + b if a < 2 else 0)\n",
        );
    let v = p.json("half.py", &[]);
    let s = &v["submission"];
    assert_eq!(verdicts(&v), ["AC", "AC", "WA", "WA", "AC"], "{v}");
    assert_eq!(s["score"], 50.0, "{s}");
    assert_eq!(s["verdict"], "WA");

    // on_reject: a group that continues inside one that breaks (the
    // default): its own tests all count; the breaking parent judges no
    // child after the rejected one, whatever -j or --all ran.
    let p = Pkg::new("score-break")
        .file(
            "problem.yaml",
            "name: S\ntype: scoring\nlimits: {time_limit: 2}\n",
        )
        .file("data/testdata.yaml", "grader_flags: ignore_sample\n")
        .file("data/secret/a/testdata.yaml", "on_reject: continue\n")
        .test("sample/1", "1 1\n", "2\n")
        .test("secret/a/1", "3 1\n", "4\n")
        .test("secret/a/2", "1 2\n", "3\n")
        .test("secret/a/3", "1 0\n", "1\n")
        .test("secret/b/1", "1 1\n", "2\n")
        .file(
            "half.py",
            "a, b = map(int, input().split())\nprint(a + b if a < 2 else 0)\n",
        );
    for extra in [&["-j", "1"][..], &["-j", "2"], &["--all"]] {
        let v = p.json("half.py", extra);
        let s = &v["submission"];
        assert_eq!(
            &verdicts(&v)[..4],
            ["AC", "WA", "AC", "AC"],
            "{extra:?} {v}"
        );
        // secret = a (2 points, rejected); b is after a rejected child.
        assert_eq!(s["score"], 2.0, "{extra:?} {s}");
    }

    // 2025-09: secret sums its groups; each group's max_score is split
    // over its tests in a sum group, all or nothing in a pass-fail one.
    let p = Pkg::new("score-2025")
        .file(
            "problem.yaml",
            "problem_format_version: 2025-09\nname: S\ntype: scoring\nlimits: {time_limit: 2}\n",
        )
        .file(
            "data/secret/a/test_group.yaml",
            "max_score: 40\nscore_aggregation: sum\n",
        )
        .file("data/secret/b/test_group.yaml", "max_score: 60\n")
        .test("sample/1", "1 1\n", "2\n")
        .test("secret/a/1", "1 2\n", "3\n")
        .test("secret/a/2", "2 2\n", "4\n")
        .test("secret/b/1", "1 0\n", "1\n")
        .test("secret/b/2", "3 1\n", "4\n")
        .file(
            "half.py",
            "a, b = map(int, input().split())\nprint(a + b if a < 2 else 0)\n",
        );
    let v = p.json("half.py", &[]);
    let s = &v["submission"];
    assert_eq!(s["score"], 20.0, "{s}");
    assert_eq!(s["max_score"], 100.0);
    let groups: Vec<(String, f64)> = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().to_string(),
                g["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(groups.contains(&("secret/a".into(), 20.0)), "{groups:?}");
    assert!(groups.contains(&("secret/b".into(), 0.0)), "{groups:?}");
}

#[test]
fn a_compile_error_is_ce_with_the_compilers_message() {
    let p = sum_package("ce", "name: Sum\nlimits: {time_limit: 2}\n")
        .file("bad.c", "int main(void) { return x; }\n")
        .file("bad.py", "def f(:\n");
    let v = p.json("bad.c", &[]);
    let s = &v["submission"];
    assert_eq!(s["verdict"], "CE", "{s}");
    assert_eq!(s["compile"]["verdict"], "CE");
    let m = s["compile"]["message"].as_str().unwrap();
    assert!(
        m.contains("bad.c:1:25: error:") && m.contains("undeclared"),
        "{m}"
    );
    assert!(s["tests"].as_array().unwrap().is_empty());
    let done = p.judge(&[&p.path("bad.c")]);
    assert_eq!(done.status, 1);
    assert!(
        done.stdout.contains("compile error (c):"),
        "{}",
        done.stdout
    );
    let v = p.json("bad.py", &[]);
    assert_eq!(v["submission"]["verdict"], "CE");
    assert!(v["submission"]["compile"]["message"]
        .as_str()
        .unwrap()
        .contains("SyntaxError"));
}

#[test]
fn compiling_sees_only_the_submission_not_the_host_or_the_secret_data() {
    let p = sum_package("ce-secret", "name: Sum\nlimits: {time_limit: 2}\n");
    let secret = p.path("data/secret/1.ans");
    let p = p
        .file("peek.c", &format!("#include \"{secret}\"\nint main(void) {{ return 0; }}\n"))
        .file("shadow.c", "#include \"/etc/shadow\"\nint main(void) { return 0; }\n")
        .file("passwd.c", "static const char p[] = {\n#embed \"/etc/passwd\"\n};\nint main(void) { return p[0] == 'r'; }\n");
    let v = p.json("peek.c", &[]);
    let m = v["submission"]["compile"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["submission"]["verdict"], "CE");
    assert!(m.contains("No such file or directory"), "{m}");
    let v = p.json("shadow.c", &[]);
    assert_eq!(v["submission"]["verdict"], "CE");
    assert!(v["submission"]["compile"]["message"]
        .as_str()
        .unwrap()
        .contains("No such file or directory"));
    // The host's /etc/passwd is not there either: the sandbox's own names
    // only its user (and gcc 12 knows no #embed, which is CE anyway).
    let v = p.json("passwd.c", &[]);
    assert_eq!(v["submission"]["verdict"], "CE");
    let host = std::fs::read_to_string("/etc/passwd").unwrap();
    let m = v["submission"]["compile"]["message"].as_str().unwrap();
    assert!(!m.contains(host.lines().next().unwrap()), "{m}");
}

#[test]
fn a_language_whose_compiler_is_missing_is_a_usage_error_naming_it() {
    let p = sum_package("missing-lang", "name: Sum\nlimits: {time_limit: 2}\n")
        .file("sol.cob", "IDENTIFICATION DIVISION.\n");
    // The contest folder (the package's parent) adds a language.
    std::fs::write(
        p.dir.parent().unwrap().join("languages.yaml"),
        "cobol:\n  name: COBOL\n  extensions: [cob]\n  compile: cobc-not-installed -x -o {binary} {files}\n  run: \"{binary}\"\n",
    )
    .unwrap();
    let done = p.judge(&[&p.path("sol.cob")]);
    assert_eq!(done.status, 2, "{}", done.stderr);
    assert_eq!(
        done.stderr,
        "judge: COBOL needs cobc-not-installed, which is not installed (not found in /usr/local/bin, /usr/bin, /bin)\n"
    );
    let mut c = Command::new(judge_bin());
    c.args(["languages", "--package"]).arg(&p.dir);
    let done = exec_command(c);
    assert_eq!(done.status, 0);
    assert!(
        done.stdout.contains("cobol        COBOL"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("no: cobc-not-installed not installed"));
    // An unknown --language.
    let done = p.judge(&[
        &p.path("submissions/accepted/add.py"),
        "--language",
        "pascal",
    ]);
    assert_eq!(done.status, 2);
    assert!(
        done.stderr
            .starts_with("judge: unknown language \"pascal\" (configured: c, cpp, python3, java"),
        "{}",
        done.stderr
    );
}

#[test]
fn malformed_packages_are_refused_naming_the_file() {
    let cases: Vec<(Pkg, String)> = vec![
        {
            let p = Pkg::new("bad-none").test("secret/1", "1\n", "1\n");
            let want = format!("judge: {}: no problem.yaml (a Kattis package) and no problem.xml (a Polygon package)\n", p.dir.display());
            (p, want)
        },
        {
            let p = Pkg::new("bad-yaml")
                .file("problem.yaml", "name: X\nlimits: {time_limit: 1\n")
                .test("secret/1", "1\n", "1\n");
            let want = format!("judge: {}:3:1: ", p.path("problem.yaml"));
            (p, want)
        },
        {
            let p = Pkg::new("bad-type")
                .file("problem.yaml", "name: X\nlimits: {time_limit: fast}\n")
                .test("secret/1", "1\n", "1\n");
            let want = format!(
                "judge: {}:2:22: limits.time_limit: invalid type",
                p.path("problem.yaml")
            );
            (p, want)
        },
        {
            let p = Pkg::new("bad-ans")
                .file("problem.yaml", "name: X\n")
                .file("data/secret/1.in", "1\n");
            let want = format!(
                "judge: {}: has no answer file 1.ans beside it\n",
                p.path("data/secret/1.in")
            );
            (p, want)
        },
        {
            let p = Pkg::new("bad-version")
                .file("problem.yaml", "problem_format_version: 2099-01\n")
                .test("secret/1", "1\n", "1\n");
            let want = format!(
                "judge: {}: problem_format_version \"2099-01\" is not one this judge reads",
                p.path("problem.yaml")
            );
            (p, want)
        },
        {
            let p = Pkg::new("bad-validator")
                .file(
                    "problem.yaml",
                    "problem_format_version: 2025-09\nname: X\nlimits: {time_limit: 1}\n",
                )
                .file(
                    "output_validator/v.c",
                    "int main(void) { return undefined_thing; }\n",
                )
                .test("secret/1", "1\n", "1\n");
            let want = format!(
                "judge: {}: the validator does not build: it does not compile:",
                p.path("output_validator")
            );
            (p, want)
        },
    ];
    let fifo = Pkg::new("bad-fifo")
        .file("problem.yaml", "name: X\n")
        .file("data/secret/1.ans", "1\n");
    let c = std::ffi::CString::new(fifo.path("data/secret/1.in")).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let want = format!(
        "judge: {}: not a regular file\n",
        fifo.path("data/secret/1.in")
    );
    let mut cases = cases;
    cases.push((fifo, want));
    for (p, want) in cases {
        std::fs::write(p.dir.join("sol.py"), ADD_PY).unwrap();
        let done = p.judge(&[&p.path("sol.py")]);
        assert_eq!(done.status, 2, "{}", done.stderr);
        assert!(
            done.stderr.starts_with(&want),
            "want {want:?}\ngot  {:?}",
            done.stderr
        );
        assert!(done.stdout.is_empty());
    }
}

#[test]
fn verify_mode_shows_a_mislabelled_submission_and_exits_1() {
    let p = sum_package("verify", "name: Sum\nlimits: {time_limit: 2}\n")
        .file("submissions/accepted/wrong.py", SUB_PY)
        .file(
            "submissions/time_limit_exceeded/tagged.py",
            "# @EXPECTED_RESULTS@: WRONG-ANSWER\nprint(0)\n",
        );
    let done = p.judge(&[]);
    assert_eq!(done.status, 1, "{}", done.stderr);
    let lines: Vec<&str> = done.stdout.lines().collect();
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{}", done.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("submissions/accepted/wrong.py"),
        ["submissions/accepted/wrong.py", "AC", "WA", "NO"]
    );
    assert_eq!(
        row("submissions/accepted/add.py"),
        ["submissions/accepted/add.py", "AC", "AC", "yes"]
    );
    assert_eq!(
        row("submissions/time_limit_exceeded/tagged.py"),
        [
            "submissions/time_limit_exceeded/tagged.py",
            "WA|PE",
            "WA",
            "yes"
        ]
    );
    assert!(
        done.stdout
            .contains("1 of 4 submissions did not get what their folders say"),
        "{}",
        done.stdout
    );
    let v: Value = serde_json::from_str(&p.judge(&["--json"]).stdout).unwrap();
    assert_eq!(v["all_as_expected"], false);
}

#[test]
fn an_interactive_kattis_problem_runs_its_validator_on_the_programs_pipes() {
    let validator = r#"import sys
secret = int(open(sys.argv[1]).read())
fb = sys.argv[3]
for guesses in range(1, 11):
    line = sys.stdin.readline()
    if not line:
        open(fb + "judgemessage.txt", "w").write("no answer")
        sys.exit(43)
    g = int(line)
    if g == secret:
        print("correct", flush=True)
        open(fb + "judgemessage.txt", "w").write("found in %d" % guesses)
        sys.exit(42)
    print("higher" if g < secret else "lower", flush=True)
open(fb + "judgemessage.txt", "w").write("too many guesses")
sys.exit(43)
"#;
    let search = "lo, hi = 1, 1000\nwhile True:\n    m = (lo + hi) // 2\n    print(m, flush=True)\n    r = input()\n    if r == 'correct': break\n    if r == 'higher': lo = m + 1\n    else: hi = m - 1\n";
    let p = Pkg::new("interactive")
        .file("problem.yaml", "problem_format_version: 2025-09\nname: G\ntype: interactive\nlimits: {time_limit: 2}\n")
        .file("output_validator/v.py", validator)
        .test("secret/1", "1\n", "")
        .test("secret/2", "700\n", "")
        .file("search.py", search)
        .file("one.py", "print(1, flush=True)\n");
    let v = p.json("search.py", &[]);
    assert_eq!(v["package"]["interactive"], true);
    assert_eq!(verdicts(&v), ["AC", "AC"], "{v}");
    assert_eq!(v["submission"]["tests"][0]["judge_message"], "found in 9");
    let v = p.json("one.py", &["--all"]);
    assert_eq!(verdicts(&v), ["AC", "WA"], "{v}");
    assert_eq!(v["submission"]["tests"][1]["judge_message"], "no answer");
}

/// A checker in C with testlib's exit codes (0 OK, 1 WA, 7 points), no
/// testlib.h: `check input output answer`.
const CHECK_C: &str = r#"#include <stdio.h>
int main(int argc, char **argv) {
    FILE *o = fopen(argv[2], "r"), *a = fopen(argv[3], "r");
    long x, y;
    if (fscanf(a, "%ld", &y) != 1) return 3;
    if (fscanf(o, "%ld", &x) != 1) { fprintf(stderr, "no number"); return 2; }
    if (x == y) { fprintf(stderr, "ok %ld", x); return 0; }
    fprintf(stderr, "wrong: %ld instead of %ld", x, y);
    return 1;
}
"#;

fn polygon(tag: &str, checker: &str, groups: bool) -> Pkg {
    let tests = if groups {
        "<tests><test method=\"manual\" sample=\"true\" group=\"samples\"/><test method=\"manual\" group=\"g1\" points=\"30\"/><test method=\"manual\" group=\"g1\" points=\"30\"/><test method=\"manual\" group=\"g2\"/></tests>\
         <groups><group name=\"samples\" points-policy=\"each-test\"/><group name=\"g1\" points-policy=\"each-test\"/><group name=\"g2\" points=\"40\" points-policy=\"complete-group\"><dependencies><dependency group=\"g1\"/></dependencies></group></groups>"
    } else {
        "<tests><test method=\"manual\" sample=\"true\"/><test method=\"manual\"/><test method=\"manual\"/><test method=\"manual\"/></tests>"
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<problem revision=\"3\" short-name=\"{tag}\">\n<judging input-file=\"\" output-file=\"\"><testset name=\"tests\"><time-limit>2000</time-limit><memory-limit>268435456</memory-limit><test-count>4</test-count><input-path-pattern>tests/%02d</input-path-pattern><answer-path-pattern>tests/%02d.a</answer-path-pattern>{tests}</testset></judging>\n<assets>{checker}<solutions><solution tag=\"main\"><source path=\"solutions/add.py\" type=\"python.3\"/></solution><solution tag=\"wrong-answer\"><source path=\"solutions/sub.py\" type=\"python.3\"/></solution></solutions></assets>\n</problem>\n"
    );
    Pkg::new(tag)
        .file("problem.xml", &xml)
        .file("tests/01", "1 1\n")
        .file("tests/01.a", "2\n")
        .file("tests/02", "1 2\n")
        .file("tests/02.a", "3\n")
        .file("tests/03", "5 5\n")
        .file("tests/03.a", "10\n")
        .file("tests/04", "0 7\n")
        .file("tests/04.a", "7\n")
        .file("solutions/add.py", ADD_PY)
        .file("solutions/sub.py", SUB_PY)
        .file("files/check.c", CHECK_C)
}

#[test]
fn polygon_packages_with_standard_and_own_checkers_and_points() {
    let p = polygon(
        "poly-std",
        "<checker name=\"std::ncmp.cpp\" type=\"testlib\"/>",
        false,
    );
    let done = p.judge(&[]);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    let v = p.json("solutions/sub.py", &[]);
    assert_eq!(v["package"]["format"], "polygon");
    assert_eq!(v["submission"]["verdict"], "WA");
    let m = v["submission"]["tests"][0]["message"].as_str().unwrap();
    assert!(
        m.starts_with("wrong answer 1st numbers differ - expected: '2', found: '0'"),
        "{m}"
    );

    let p = polygon(
        "poly-own",
        "<checker type=\"testlib\"><source path=\"files/check.c\" type=\"c.gcc\"/></checker>",
        true,
    );
    let v = p.json("solutions/add.py", &[]);
    assert_eq!(v["submission"]["verdict"], "AC", "{v}");
    assert_eq!(v["submission"]["score"], 100.0);
    assert_eq!(v["submission"]["tests"][1]["message"], "ok 3");
    // Half right: the first group's points per test; the second group
    // depends on the first, so it is worth nothing.
    let p = p.file(
        "half.py",
        "a, b = map(int, input().split())\nprint(a + b if a != 5 else 0)\n",
    );
    let v = p.json("half.py", &["--all"]);
    assert_eq!(verdicts(&v), ["AC", "AC", "WA", "AC"], "{v}");
    assert_eq!(v["submission"]["score"], 30.0, "{v}");
    assert_eq!(
        v["submission"]["tests"][2]["message"],
        "wrong: 0 instead of 10"
    );

    // What is not supported is refused, naming it.
    let p = polygon(
        "poly-bad",
        "<checker name=\"std::ncmp.cpp\" type=\"testlib\"/>",
        false,
    );
    let xml = std::fs::read_to_string(p.dir.join("problem.xml"))
        .unwrap()
        .replace("input-file=\"\"", "input-file=\"input.txt\"");
    let p = p.file("problem.xml", &xml);
    let done = p.judge(&[&p.path("solutions/add.py")]);
    assert_eq!(done.status, 2);
    assert!(done.stderr.contains("problem.xml:3: input-file: reading or writing files instead of stdin/stdout is not supported"), "{}", done.stderr);
}

#[test]
fn the_example_packages_verify() {
    for name in ["guess", "hypot", "polygon-sum"] {
        let mut c = Command::new(judge_bin());
        c.arg("problem")
            .arg(repo().join("examples/problems").join(name));
        let done = exec_command(c);
        assert_eq!(done.status, 0, "{name}:\n{}\n{}", done.stdout, done.stderr);
        assert!(done.stdout.contains("got what their folders say"));
    }
}

#[test]
fn a_checker_module_in_output_validator_replaces_the_validator_program() {
    use crate::util::responders::{example, once, rust, Target};
    let wasm = once("checker.wasm", || {
        rust(
            &example("checker/src/lib.rs"),
            "checker_responder",
            Target::Wasm,
        )
    });
    let p = Pkg::new("module")
        .file(
            "problem.yaml",
            "problem_format_version: 2025-09\nname: M\nlimits: {time_limit: 2}\n",
        )
        .test("secret/1", "3 4\n", "7\n12\n")
        .file(
            "both.py",
            "a, b = map(int, input().split())\nprint(a + b)\nprint(a * b)\n",
        )
        .file("sum.py", "a, b = map(int, input().split())\nprint(a + b)\n");
    std::fs::create_dir_all(p.dir.join("output_validator")).unwrap();
    std::fs::copy(&wasm, p.dir.join("output_validator/checker.wasm")).unwrap();
    let v = p.json("both.py", &[]);
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "AC", "{v}");
    assert_eq!(t["session"]["responder"]["kind"], "wasm");
    let v = p.json("sum.py", &[]);
    let t = &v["submission"]["tests"][0];
    assert_eq!(t["verdict"], "WA", "{v}");
    assert_eq!(t["message"], "the output ended after 1 of 2 tokens");
}

#[test]
fn a_polygon_interactor_talks_then_the_checker_reads_its_output_file() {
    // testlib's way: interactor input tout answer; 0 OK, 1 WA; what it
    // writes to tout is the "output" the checker judges.
    let interactor = r#"import sys
secret = int(open(sys.argv[1]).read())
tout = open(sys.argv[2], "w")
for _ in range(10):
    line = sys.stdin.readline()
    if not line:
        break
    g = int(line)
    if g == secret:
        print("correct", flush=True)
        tout.write("found\n")
        sys.exit(0)
    print("higher" if g < secret else "lower", flush=True)
sys.stderr.write("not found")
sys.exit(1)
"#;
    let xml = "<?xml version=\"1.0\"?>\n<problem short-name=\"inter\">\n<judging><testset name=\"tests\"><time-limit>2000</time-limit><memory-limit>268435456</memory-limit><test-count>2</test-count><input-path-pattern>tests/%02d</input-path-pattern><answer-path-pattern>tests/%02d.a</answer-path-pattern><tests><test method=\"manual\"/><test method=\"manual\"/></tests></testset></judging>\n<assets><checker name=\"std::wcmp.cpp\" type=\"testlib\"/><interactor><source path=\"files/interactor.py\" type=\"python.3\"/></interactor></assets>\n</problem>\n";
    let search = "lo, hi = 1, 1000\nwhile True:\n    m = (lo + hi) // 2\n    print(m, flush=True)\n    r = input()\n    if r == 'correct': break\n    if r == 'higher': lo = m + 1\n    else: hi = m - 1\n";
    let p = Pkg::new("poly-inter")
        .file("problem.xml", xml)
        .file("files/interactor.py", interactor)
        .file("tests/01", "1\n")
        .file("tests/01.a", "found\n")
        .file("tests/02", "999\n")
        .file("tests/02.a", "found\n")
        .file("search.py", search)
        .file("one.py", "print(1, flush=True)\n");
    let v = p.json("search.py", &[]);
    assert_eq!(v["package"]["interactive"], true);
    assert_eq!(verdicts(&v), ["AC", "AC"], "{v}");
    assert!(
        v["submission"]["tests"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("ok"),
        "{v}"
    );
    let v = p.json("one.py", &["--all"]);
    assert_eq!(verdicts(&v), ["AC", "WA"], "{v}");
    assert_eq!(v["submission"]["tests"][1]["message"], "not found");
}

#[test]
fn links_resolve_for_the_package_and_are_refused_inside_a_submission() {
    let p = sum_package("links", "name: Sum\nlimits: {time_limit: 1}\n").file(
        "submissions/time_limit_exceeded/sleeps.py",
        "import time\ntime.sleep(100)\n",
    );
    // The package through a link: judged as its real path (a sleeper in
    // time_limit_exceeded/ is ILE, which the format calls too slow).
    let link = p.dir.parent().unwrap().join("via-link");
    std::os::unix::fs::symlink(&p.dir, &link).unwrap();
    let mut c = Command::new(judge_bin());
    c.arg("problem").arg(&link);
    let done = exec_command(c);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    assert!(done.stdout.contains("TLE|ILE"), "{}", done.stdout);
    // A link inside a submission folder: a usage error naming it.
    let sub = p.dir.join("twofiles");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("add.py"), ADD_PY).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", sub.join("z.py")).unwrap();
    let done = p.judge(&[sub.to_str().unwrap()]);
    assert_eq!(done.status, 2, "{}", done.stderr);
    assert_eq!(
        done.stderr,
        format!(
            "judge: {}: a symbolic link in a submission: give the file itself\n",
            sub.join("z.py").display()
        )
    );
    // Contradictory types, and Polygon limits out of range, are refused.
    let p = sum_package("both-types", "name: Sum\ntype: [pass-fail, scoring]\n");
    let done = p.judge(&[&p.path("submissions/accepted/add.py")]);
    assert_eq!(done.status, 2);
    assert!(
        done.stderr
            .ends_with("problem.yaml: type says both pass-fail and scoring\n"),
        "{}",
        done.stderr
    );
    let p = polygon(
        "poly-zero",
        "<checker name=\"std::ncmp.cpp\" type=\"testlib\"/>",
        false,
    );
    let xml = std::fs::read_to_string(p.dir.join("problem.xml"))
        .unwrap()
        .replace("<time-limit>2000", "<time-limit>0");
    let p = p.file("problem.xml", &xml);
    let done = p.judge(&[&p.path("solutions/add.py")]);
    assert_eq!(done.status, 2);
    assert!(
        done.stderr
            .contains("<time-limit> 0 ms: from 1 ms to a day"),
        "{}",
        done.stderr
    );
}
