//! The Python module `judge.codejail`: CodeJail's API, run by the system's
//! python3 against this build's judge, through `judge serve`.

use std::process::Command;

use crate::util::*;

/// Run a Python script with the module importable and this build's judge.
fn py(script: &str) -> Done {
    let mut c = Command::new(python());
    c.arg("-c")
        .arg(script)
        .env("PYTHONPATH", repo().join("python"))
        .env("JUDGE_BIN", judge_bin())
        .env_remove("JUDGE_JAILS");
    exec_command(c)
}

fn ok(script: &str) -> String {
    let done = py(script);
    assert_eq!(
        done.status, 0,
        "stdout: {}\nstderr: {}",
        done.stdout, done.stderr
    );
    done.stdout
}

const PRELUDE: &str = "\
from judge.codejail.safe_exec import safe_exec, not_safe_exec, json_safe, SafeExecException
from judge.codejail import jail_code, safe_exec as se
def fails(code, **kw):
    try:
        safe_exec(code, {}, **kw)
    except SafeExecException as e:
        return str(e)
    return 'no exception'
";

fn script(body: &str) -> String {
    format!("{PRELUDE}{body}")
}

#[test]
fn globals_round_trip_as_codejail_filters_them() {
    let out = ok(&script(
        r#"
g = {"i": 1, "f": 2.5, "s": "é☺", "l": [1, [2, {"k": None}]], "d": {"x": {"y": True}},
     "t": (1, 2), "b": b"hi", "bad": b"\xff", "fn": len, "__builtins__": {}}
safe_exec("i += 1\nl[1].append(3)\nu = '\\u263a' * 2\ns2 = {1, 2}\nimport math\nm = math\nnan = math.nan\ndel f", g)
print(sorted((k, repr(v)) for k, v in g.items() if k != "fn"))
print(json_safe({"ok": (1, b"a"), "bad": [b"\xff"], "set": {1}, "k": object()}))
"#,
    ));
    // What CodeJail gives: the dictionary updated with what survived JSON
    // in the jail (the tuple a list, the bytes a string); what the code
    // deleted, or what never crossed (a function, bytes not UTF-8), stays
    // as the caller had it.
    assert_eq!(
        out,
        "[('__builtins__', '{}'), ('b', \"'hi'\"), ('bad', \"b'\\\\xff'\"), \
         ('d', \"{'x': {'y': True}}\"), ('f', '2.5'), ('i', '2'), \
         ('l', \"[1, [2, {'k': None}, 3]]\"), ('nan', 'nan'), ('s', \"'é☺'\"), \
         ('t', '[1, 2]'), ('u', \"'☺☺'\")]\n\
         {'ok': [1, 'a']}\n"
    );
}

/// Python's JSON crosses whole: NaN and infinities, integers past 64 bits;
/// the code sees no argv of ours.
#[test]
fn nan_big_integers_and_argv_as_in_codejail() {
    let out = ok(&script(
        r#"
g = {"big": 10**30, "nan": float("nan"), "inf": float("-inf")}
safe_exec("import sys\nkinds = [type(big).__name__, type(nan).__name__]\nbigger = big + 1\nargv = sys.argv", g,
          python_path=["python_lib.zip"], extra_files=[("python_lib.zip", b"")])
print(g["big"] == 10**30, g["bigger"] == 10**30 + 1, g["kinds"], g["inf"], g["argv"])
"#,
    ));
    assert_eq!(out, "True True ['int', 'float'] -inf ['jailed_code']\n");
}

#[test]
fn an_exception_raises_safe_exec_exception_with_codejail_message() {
    let out = ok(&script(
        r#"
print(fails("print('out')\nimport sys\nsys.stderr.write('err\\n')\ndef f():\n    raise ValueError('bad value')\nf()"))
"#,
    ));
    // The code's own prints go nowhere; stderr holds the traceback.
    assert_eq!(
        out,
        "Couldn't execute jailed code: stdout: b'', stderr: b'err\\nTraceback (most recent call last):\\n  \
         File \"/box/jailed_code\", line 59, in <module>\\n    exec(code, g_dict)\\n  \
         File \"<string>\", line 6, in <module>\\n  File \"<string>\", line 5, in f\\n\
         ValueError: bad value\\n' with status code: 1\n"
    );
}

#[test]
fn jail_code_takes_stdin_argv_files_folders_and_extra_files() {
    let d = temp_dir("codejail_py_files");
    std::fs::write(d.join("data.txt"), "host file\n").unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::write(d.join("folder/inner.txt"), "in a folder\n").unwrap();
    let out = ok(&script(&format!(
        r#"
code = """
import sys
print(sys.argv[1:])
print(sys.stdin.read())
print(open('data.txt').read(), end='')
print(open('folder/inner.txt').read(), end='')
print(open('extra.bin', 'rb').read())
sys.stderr.write('to stderr')
sys.exit(3)
"""
r = jail_code.jail_code("python", code, files=["{d}/data.txt", "{d}/folder"],
                        extra_files=[("extra.bin", b"\x00\xff")], argv=["a b", "c"], stdin="é in")
print(r.status, repr(r.stdout), repr(r.stderr))
# A program among the files, named in argv, without code.
open("{d}/prog.py", "w").write("print('from a file')")
r = jail_code.jail_code("python", files=["{d}/prog.py"], argv=["prog.py"])
print(r.status, repr(r.stdout))
"#,
        d = d.display()
    )));
    assert_eq!(
        out,
        "3 b\"['a b', 'c']\\n\\xc3\\xa9 in\\nhost file\\nin a folder\\nb'\\\\x00\\\\xff'\\n\" b'to stderr'\n\
         0 b'from a file\\n'\n"
    );
}

#[test]
fn python_path_from_the_host_and_from_an_extra_zip() {
    let d = temp_dir("codejail_py_path");
    std::fs::create_dir(d.join("lib")).unwrap();
    std::fs::write(d.join("lib/helper.py"), "def twice(x):\n    return 2 * x\n").unwrap();
    let out = ok(&script(&format!(
        r#"
import io, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("zipped.py", "def thrice(x):\n    return 3 * x\n")
g = {{}}
safe_exec("import helper, zipped\nv = helper.twice(5) + zipped.thrice(1)", g,
          python_path=["{d}/lib", "python_lib.zip"], extra_files=[("python_lib.zip", buf.getvalue())])
print(g)
"#,
        d = d.display()
    )));
    assert_eq!(out, "{'v': 13}\n");
}

#[test]
fn every_limit_and_its_override_context() {
    let out = ok(&script(
        r#"
spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.5: pass"
nap = "import time\ntime.sleep(1.5)"
eat = "a = 'x' * (300 << 20)\ndel a"
write = "with open('/tmp/f', 'w') as f:\n    f.write('x' * 2000)"
spawn = "import subprocess\nps = [subprocess.Popen(['sleep', '1']) for _ in range(8)]"
def status(code, ctx=None):
    try:
        safe_exec(code, {}, limit_overrides_context=ctx)
        return "ok"
    except SafeExecException as e:
        return str(e).rsplit(" ", 1)[1] if "MemoryError" not in str(e) and "Errno" not in str(e) else str(e).split("\\n")[-2]
print("defaults", status(spin), status(nap), status(write))
jail_code.set_limit("VMEM", 128 << 20)
jail_code.set_limit("NPROC", 4)
print("set", status(eat), status(spawn))
for name, value in [("CPU", 5), ("REALTIME", 5), ("VMEM", 0), ("FSIZE", 4096), ("NPROC", 0)]:
    jail_code.override_limit(name, value, "big")
print("big", status(spin, "big"), status(nap, "big"), status(eat, "big"), status(write, "big"), status(spawn, "big"))
print("unknown context", status(spin, "nope"))
print(jail_code.get_effective_limits("big"))
jail_code.override_limit("PROXY", 1, "big")
print(jail_code.get_effective_limits("big")["PROXY"])
"#,
    ));
    // CPU, REALTIME and VMEM kill (-9: VMEM is the jail's memory, not
    // an address-space limit that would raise MemoryError); FSIZE 0 fails
    // the write (EFBIG); NPROC fails the fork. The context lifts each.
    assert_eq!(
        out,
        "defaults -9 -9 OSError: [Errno 27] File too large\n\
         set -9 BlockingIOError: [Errno 11] Resource temporarily unavailable\n\
         big ok ok ok ok ok\n\
         unknown context -9\n\
         {'CPU': 5, 'REALTIME': 5, 'VMEM': 0, 'FSIZE': 4096, 'NPROC': 0, 'PROXY': None}\n\
         None\n"
    );
}

/// `configure` on a virtualenv's python: its libraries come along.
#[test]
fn a_virtualenv_configured_brings_its_library() {
    let d = temp_dir("codejail_py_venv");
    let venv = course_venv(&d);
    let out = ok(&script(&format!(
        r#"
print("ModuleNotFoundError: No module named \\'coursetools\\'" in fails("import coursetools"))
jail_code.configure("python", "{v}/bin/python", user="sandbox")
g = {{}}
safe_exec("import coursetools, sys\ng = coursetools.grade(4)\np = sys.prefix", g)
print(g)
"#,
        v = venv.display()
    )));
    assert_eq!(
        out,
        format!(
            "True\n\
             {{'g': 40, 'p': '{}'}}\n",
            venv.display()
        )
    );
}

#[test]
fn the_unsafe_mode_runs_in_this_process_and_warns() {
    let done = py(&script(
        r#"
import os
se.ALWAYS_BE_UNSAFE = True
g = {"a": 1}
safe_exec("import os\npid = os.getpid()\nb = a + 1", g)
print(g["pid"] == os.getpid(), g["b"])
try:
    safe_exec("1/0", {})
except SafeExecException as e:
    print(e)
"#,
    ));
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.stdout, "True 2\nZeroDivisionError: division by zero\n");
    assert_eq!(
        done.stderr
            .matches("DANGER: Executing code with `not_safe_exec` for None\n")
            .count(),
        2,
        "{}",
        done.stderr
    );
}

#[test]
fn the_sandbox_denies_what_codejail_users_rely_on() {
    // A host file any user may read, outside what the sandbox shows.
    let d = temp_dir("codejail_py_deny");
    std::fs::write(d.join("secret"), "s3cret").unwrap();
    let out = ok(&script(&format!(
        r#"
def last(code):
    # The line before the end of the traceback, as Python's repr has it.
    return fails(code).split("\\n")[-2].replace("\\'", "'")
print(last("import socket\nsocket.create_connection(('127.0.0.1', 80))"))
print(last("open('/new', 'w')"))
print(last("open('/usr/new', 'w')"))
print(last("open('{d}/secret').read()"))
print(last("open('/etc/shadow').read()"))
# Every forked copy raises too, their tracebacks interleaved on one stderr.
print("BlockingIOError" in fails("import os\nwhile True:\n    os.fork()"))
jail_code.set_limit("VMEM", 256 << 20)
print(fails("a = []\nwhile True: a.append(' ' * (1 << 20))").rsplit(" ", 1)[1])
jail_code.set_limit("VMEM", 0)
print(fails("while True: pass").rsplit(" ", 1)[1])
"#,
        d = d.display()
    )));
    assert_eq!(
        out,
        format!(
            "PermissionError: [Errno 1] Operation not permitted\n\
             OSError: [Errno 30] Read-only file system: '/new'\n\
             OSError: [Errno 30] Read-only file system: '/usr/new'\n\
             FileNotFoundError: [Errno 2] No such file or directory: '{}/secret'\n\
             FileNotFoundError: [Errno 2] No such file or directory: '/etc/shadow'\n\
             True\n\
             -9\n\
             -9\n",
            d.display()
        )
    );
}

#[test]
fn threads_each_get_a_server_and_a_fork_starts_afresh() {
    let out = ok(&script(
        r#"
import os, threading
results = {}
def one(i):
    g = {"i": i}
    safe_exec("j = i * i", g)
    results[i] = g["j"]
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(results.items()) == [(i, i * i) for i in range(8)])
from judge.codejail import server
import time
held = len(server._idle)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # The parent's servers are let go of here, their pipes closed...
    os.close(w)
    g = {}
    safe_exec("x = 7", g)
    os.read(r, 1)
    os._exit(0 if g == {"x": 7} and len(server._idle) == 1 else 1)
os.close(r)
# ... so that the parent can end them while the child lives on (had the
# child kept their pipes, each would wait out its close grace, 5 s).
t = time.monotonic()
server._close_all()
print(held > 0, time.monotonic() - t < 4)
os.write(w, b"x")
print(os.waitpid(pid, 0)[1])
g = {}
safe_exec("y = 8", g)
print(g)
"#,
    ));
    assert_eq!(out, "True\nTrue True\n0\n{'y': 8}\n");
}

#[test]
fn mistakes_raise_as_codejail_raises() {
    let out = ok(&script(
        r#"
try:
    jail_code.jail_code("ruby", "puts 1")
except Exception as e:
    print(type(e).__name__, e)
print(jail_code.is_configured("python"), jail_code.is_configured("ruby"))
"#,
    ));
    assert_eq!(
        out,
        "Exception jail_code needs to be configured for 'ruby'\nTrue False\n"
    );
    // A jails file that does not parse: said, not a KeyError.
    let d = temp_dir("codejail_py_badjails");
    std::fs::write(d.join("jails.yaml"), "python: [\n").unwrap();
    let mut c = Command::new(python());
    c.arg("-c")
        .arg(script("print(jail_code.is_configured('python'))"))
        .env("PYTHONPATH", repo().join("python"))
        .env("JUDGE_BIN", judge_bin())
        .env("JUDGE_JAILS", d.join("jails.yaml"));
    let done = exec_command(c);
    assert_eq!(done.status, 1);
    assert!(
        done.stderr.contains(&format!(
            "Exception: judge: {}: line 1 column 9",
            d.join("jails.yaml").display()
        )),
        "{}",
        done.stderr
    );
}

/// `pip install ./python` gives the module and the judge binary beside it:
/// the module finds its binary with nothing set. (The binary of this
/// build is installed, JUDGE_PREBUILT; a cargo build inside the test run
/// would wait on the lock of the build that runs it.)
#[test]
fn pip_install_gives_the_module_and_its_binary() {
    let d = temp_dir("codejail_pip");
    let venv = d.join("venv");
    // The system's setuptools builds it: no index, no network.
    let st = Command::new(python())
        .args(["-m", "venv", "--system-site-packages"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--no-build-isolation", "--no-index"])
        .arg(repo().join("python"))
        .env("JUDGE_PREBUILT", judge_bin())
        .env_remove("JUDGE_BIN")
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(
            "from judge.codejail.safe_exec import safe_exec\n\
             from judge.codejail import server\n\
             g = {'a': 2}\n\
             safe_exec('b = a ** 10', g)\n\
             print(server.binary(), g)",
        )
        .env_remove("JUDGE_BIN")
        .env_remove("PYTHONPATH")
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}/bin/judge {{'a': 2, 'b': 1024}}\n", venv.display()),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `json_safe` is written twice: in the module, for the caller's side,
/// and in the wrapper that runs inside the jail (which cannot import the
/// module). The two must stay one text.
#[test]
fn json_safe_is_the_same_on_both_sides() {
    let function = |rel: &str| {
        let text = std::fs::read_to_string(repo().join(rel)).unwrap();
        let start = text.find("def json_safe(d):").expect("json_safe");
        let body = &text[start..];
        // To the next line that starts at column 0.
        let end = body
            .match_indices('\n')
            .map(|(i, _)| i)
            .find(|&i| body[i + 1..].starts_with(|c: char| !c.is_whitespace()))
            .unwrap_or(body.len());
        body[..end].to_string()
    };
    assert_eq!(
        function("judge/src/codejail/wrapper.py"),
        function("python/judge/codejail/safe_exec.py")
    );
}

/// Django's `settings.CODE_JAIL`, applied as CodeJail's middleware applies
/// it (the part that needs no Django).
#[test]
fn django_settings_are_applied_as_codejail_applies_them() {
    let out = ok(&script(
        r#"
from judge.codejail.django_integration_utils import apply_django_settings
apply_django_settings({"python_bin": "/usr/bin/python3", "user": "sandbox",
                       "limits": {"CPU": 3, "NPROC": 20}, "limit_overrides": {"slow": {"REALTIME": 9}}})
print(jail_code.COMMANDS["python"], jail_code.get_effective_limits("slow"))
g = {}
safe_exec("n = 1", g, limit_overrides_context="slow")
print(g)
"#,
    ));
    assert_eq!(
        out,
        "{'cmdline_start': ['/usr/bin/python3', '-E', '-B'], 'user': 'sandbox'} \
         {'CPU': 3, 'REALTIME': 9, 'VMEM': 0, 'FSIZE': 0, 'NPROC': 20, 'PROXY': None}\n\
         {'n': 1}\n"
    );
}
