//! `judge http`: codejail-service's API, driven by a real HTTP client
//! (Python's http.client).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A `judge http` on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::start_in(args, &std::env::temp_dir())
    }

    /// With `tmp` as its TMPDIR (and its workers').
    fn start_in(args: &[&str], tmp: &std::path::Path) -> Server {
        let mut child = Command::new(judge_bin())
            .args(["http", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server { child, port }
    }

    /// Run a Python client script with `PORT` defined and the helpers below.
    fn client(&self, body: &str) -> String {
        let script = format!("PORT = {}\n{CLIENT}{body}", self.port);
        let out = Command::new(python())
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn health(&self) -> serde_json::Value {
        let out = self.client("print(get('/health')[1])");
        serde_json::from_str(out.trim()).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client's helpers: a form post (urlencoded, or multipart when files
/// are given), a GET, each returning (status, body).
const CLIENT: &str = r#"
import http.client, json, threading, urllib.parse, uuid
def post(path, body, content_type):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    c.request("POST", path, body=body, headers={"Content-Type": content_type})
    r = c.getresponse()
    out = (r.status, r.read().decode(), r.getheader("Content-Type"), r.getheader("Retry-After"))
    c.close()
    return out
def code_exec(payload, files=(), raw=None):
    fields = {"payload": payload if isinstance(payload, str) else json.dumps(payload)} if raw is None else raw
    if not files:
        return post("/api/v0/code-exec", urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")
    b = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v)).encode())
    for name, data in files:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n" % (b, name, name)).encode() + data + b"\r\n")
    parts.append(("--%s--\r\n" % b).encode())
    return post("/api/v0/code-exec", b"".join(parts), "multipart/form-data; boundary=" + b)
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    out = (r.status, r.read().decode())
    c.close()
    return out
"#;

/// A jails file whose `python` has room for slow code.
fn slow_jails(tag: &str) -> String {
    let d = temp_dir(tag);
    let f = d.join("jails.yaml");
    std::fs::write(
        &f,
        "python:\n  interpreter: /usr/bin/python3\n  limits: {CPU: 5, REALTIME: 60}\n",
    )
    .unwrap();
    f.to_string_lossy().into_owned()
}

#[test]
fn every_response_shape() {
    let s = Server::start(&[]);
    let out = s.client(
        r#"
import io, zipfile
print(code_exec({"code": "x = a + 1\nimport math\nn = math.nan\ndel a", "globals_dict": {"a": 1, "k": [1]}}))
# Python's JSON both ways (NaN, big integers); __builtins__ given is
# dropped before the code runs, as codejail-service's json_safe drops it.
print(code_exec({"code": "m = n * 2\nb = big + 1\nprint('no NameError')", "globals_dict":
                 {"n": float("nan"), "big": 10**30, "__builtins__": {}}})[:2])
st, body = code_exec({"code": "x = 1\n1/0", "globals_dict": {"a": 1}, "slug": "p1", "python_path": None,
                      "limit_overrides_context": None})[:2]
print(st, sorted(json.loads(body)))
print(json.loads(body)["globals_dict"])
print(json.loads(body)["emsg"])
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("zipped.py", "def f():\n    return 'from the zip'\n")
print(code_exec({"code": "import zipped\nv = zipped.f()", "globals_dict": {}, "python_path": ["python_lib.zip"]},
                files=[("python_lib.zip", buf.getvalue())])[:2])
# 13 MiB: past what one worker line held before (16 MiB, once in base64).
big = b"z" * (13 << 20)
print(code_exec({"code": "import os\nn = os.path.getsize('python_lib.zip')", "globals_dict": {}},
                files=[("python_lib.zip", big)])[:2])
print(code_exec({"code": "with open('python_lib.zip', 'rb') as f:\n    v = f.read().decode()", "globals_dict": {}},
                files=[("python_lib.zip", b"first"), ("python_lib.zip", b"last wins")])[:2])
print(get("/health"))
print(get("/nope"), get("/api/v0/code-exec")[0], post("/health", "", "text/plain")[0])
print(get("/v1/run")[0], post("/v1/run", "[]", "application/json")[:2])
"#,
    );
    // Success: the caller's globals updated with the jail's (NaN as
    // Python writes it; what the code deleted stays). Failure: the globals
    // as given and CodeJail's message.
    assert_eq!(
        out,
        "(200, '{\"globals_dict\": {\"a\": 1, \"k\": [1], \"x\": 2, \"n\": NaN}}', 'application/json', None)\n\
         (200, '{\"globals_dict\": {\"n\": NaN, \"big\": 1000000000000000000000000000000, \"__builtins__\": {}, \
         \"m\": NaN, \"b\": 1000000000000000000000000000001}}')\n\
         200 ['emsg', 'globals_dict']\n\
         {'a': 1}\n\
         Couldn't execute jailed code: stdout: b'', stderr: b'Traceback (most recent call last):\\n  \
         File \"/box/jailed_code\", line 59, in <module>\\n    exec(code, g_dict)\\n  File \"<string>\", line 2, in <module>\\n\
         ZeroDivisionError: division by zero\\n' with status code: 1\n\
         (200, '{\"globals_dict\": {\"v\": \"from the zip\"}}')\n\
         (200, '{\"globals_dict\": {\"n\": 13631488}}')\n\
         (200, '{\"globals_dict\": {\"v\": \"last wins\"}}')\n\
         (200, '{\"queue\":128,\"running\":0,\"slots\":2,\"status\":\"ok\",\"waiting\":0}')\n\
         (404, '{\"error\":\"no endpoint /nope\"}') 405 405\n\
         405 (404, '{\"error\":\"POST /v1/run is off: start judge http with --allow-run to serve it\"}')\n"
    );
}

#[test]
fn schema_errors_and_refusals_are_400_with_codejail_service_messages() {
    let s = Server::start(&[]);
    let out = s.client(
        r#"
def show(r):
    print(r[0], json.loads(r[1])["error"])
show(code_exec(None, raw={"other": "1"}))
show(code_exec("{not json"))
show(code_exec([1]))
show(code_exec({"globals_dict": {}}))
show(code_exec({"code": "x = 1"}))
show(code_exec({"code": 1, "globals_dict": {}}))
show(code_exec({"code": "", "globals_dict": []}))
show(code_exec({"code": "", "globals_dict": {}, "python_path": "lib"}))
show(code_exec({"code": "", "globals_dict": {}, "slug": 5}))
show(code_exec({"code": "", "globals_dict": {}, "limit_overrides_context": ["a"]}))
show(code_exec({"code": "", "globals_dict": {}, "unsafely": "yes"}))
show(code_exec({"code": 1, "globals_dict": 2}))
show(code_exec({"code": "", "globals_dict": {}, "python_path": ["python_lib.zip", 3, None]}))
show(code_exec({"code": "", "globals_dict": {}, "unsafely": 1, "slug": 2}))
show(code_exec({"code": "", "globals_dict": {}, "python_path": ["/etc"]}))
show(code_exec({"code": "", "globals_dict": {}, "python_path": ["python_lib.zip"]}))
show(code_exec({"code": "", "globals_dict": {}}, files=[("../evil", b"x")]))
show(code_exec({"code": "", "globals_dict": {}, "unsafely": True}))
show(post("/api/v0/code-exec", "payload={}", "text/plain"))
show(post("/api/v0/code-exec", "--b\r\nbroken", "multipart/form-data; boundary=b"))
"#,
    );
    assert_eq!(
        out,
        "400 Missing 'payload' parameter in POST body\n\
         400 Unable to parse payload JSON: key must be a string at line 1 column 2\n\
         400 Payload JSON did not match schema at path $: [1] is not of type 'object'\n\
         400 Payload JSON did not match schema at path $: 'code' is a required property\n\
         400 Payload JSON did not match schema at path $: 'globals_dict' is a required property\n\
         400 Payload JSON did not match schema at path $.code: 1 is not of type 'string'\n\
         400 Payload JSON did not match schema at path $.globals_dict: [] is not of type 'object'\n\
         400 Payload JSON did not match schema at path $.python_path: 'lib' is not valid under any of the given schemas\n\
         400 Payload JSON did not match schema at path $.slug: 5 is not valid under any of the given schemas\n\
         400 Payload JSON did not match schema at path $.limit_overrides_context: ['a'] is not valid under any of the given schemas\n\
         400 Payload JSON did not match schema at path $.unsafely: 'yes' is not of type 'boolean'\n\
         400 Payload JSON did not match schema at path $.globals_dict: 2 is not of type 'object'\n\
         400 Payload JSON did not match schema at path $.python_path[2]: None is not of type 'string'\n\
         400 Payload JSON did not match schema at path $.unsafely: 1 is not of type 'boolean'\n\
         400 Only allowed entry in 'python_path' is 'python_lib.zip'\n\
         400 'python_path' names 'python_lib.zip', but no file of that name was uploaded\n\
         400 Only allowed name for uploaded file is 'python_lib.zip'\n\
         400 Refusing codejail execution with unsafely=true\n\
         415 Unsupported media type \"text/plain\" in request.\n\
         400 Multipart form parse error - a part without the end of its headers\n"
    );
}

#[test]
fn fifty_concurrent_requests_are_all_answered_correctly() {
    let s = Server::start(&[]);
    let out = s.client(
        r#"
results = {}
def one(i):
    results[i] = code_exec({"code": "y = x * x", "globals_dict": {"x": i}})[:2]
ts = [threading.Thread(target=one, args=(i,)) for i in range(50)]
for t in ts: t.start()
for t in ts: t.join()
bad = [(i, r) for i, r in results.items() if r != (200, '{"globals_dict": {"x": %d, "y": %d}}' % (i, i * i))]
print(len(results), bad)
"#,
    );
    assert_eq!(out, "50 []\n");
    assert_eq!(s.health()["running"], 0);
}

#[test]
fn a_burst_past_the_queue_is_answered_503_and_nothing_is_lost() {
    let jails = slow_jails("http_burst");
    let s = Server::start(&["--slots", "1", "--queue", "2", "--jails", &jails]);
    let out = s.client(
        r#"
results = {}
def one(i):
    results[i] = code_exec({"code": "import time\ntime.sleep(1.5)\ny = x", "globals_dict": {"x": i}})
ts = [threading.Thread(target=one, args=(i,)) for i in range(10)]
for t in ts: t.start()
for t in ts: t.join()
ok = [i for i, r in results.items() if r[:2] == (200, '{"globals_dict": {"x": %d, "y": %d}}' % (i, i))]
busy = [r for r in results.values() if r[0] == 503]
print(len(results), len(ok), len(busy), set(r[3] for r in busy), set(r[1] for r in busy))
"#,
    );
    // One runs, two wait, seven are told to come back: each of the ten
    // has one of the two answers.
    assert_eq!(
        out,
        "10 3 7 {'1'} {'{\"error\":\"busy: 1 sessions running (of 1 at once) and 2 waiting (of 2); try again shortly\"}'}\n"
    );
}

#[test]
fn a_client_that_hangs_up_leaves_nothing_running() {
    let jails = slow_jails("http_hangup");
    let tmp = temp_dir("http_hangup_tmp");
    let s = Server::start_in(&["--slots", "1", "--jails", &jails], &tmp);
    let running = token("http_running");
    let waiting = token("http_waiting");
    // Two clients: one running a long session (a sleep whose command line
    // carries a token), one waiting behind it; both hang up.
    let code = |t: &str| {
        format!("import subprocess\nsubprocess.run(['/bin/sh', '-c', 'sleep 50; : {t}'])")
    };
    let script = format!(
        r#"
import socket, time
def send(code):
    body = urllib.parse.urlencode({{"payload": json.dumps({{"code": code, "globals_dict": {{}}}})}})
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(("POST /api/v0/code-exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    return s
a = send({a:?})
deadline = time.time() + 20
while json.loads(get("/health")[1])["running"] != 1 and time.time() < deadline: time.sleep(0.05)
b = send({b:?})
while json.loads(get("/health")[1])["waiting"] != 1 and time.time() < deadline: time.sleep(0.05)
print(json.loads(get("/health")[1]))
a.close()
b.close()
"#,
        a = code(&running),
        b = code(&waiting)
    );
    let out = s.client(&script);
    assert_eq!(
        out,
        "{'queue': 128, 'running': 1, 'slots': 1, 'status': 'ok', 'waiting': 1}\n"
    );
    // Within the worker's grace: the session stopped, nobody waiting, no
    // process of either left.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = s.health();
        let left = processes_with(&running);
        if h["running"] == 0 && h["waiting"] == 0 && left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still there: {h} {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(processes_with(&waiting).is_empty());
    // The stopped session's folder (the code, the globals) is gone too.
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // The server still answers.
    let out = s.client(r#"print(code_exec({"code": "z = 3", "globals_dict": {}})[:2])"#);
    assert_eq!(out, "(200, '{\"globals_dict\": {\"z\": 3}}')\n");
}

#[test]
fn v1_run_when_allowed_answers_as_judge_serve() {
    let s = Server::start(&["--allow-run"]);
    let out = s.client(
        r#"
st, body = post("/v1/run", json.dumps(["--", "/bin/echo", "hi"]), "application/json")[:2]
r = json.loads(body)
print(st, r["verdict"], repr(r["stdout"]))
print(post("/v1/run", json.dumps(["--no-such-flag"]), "application/json")[:2])
print(post("/v1/run", "{}", "application/json")[0])
"#,
    );
    assert_eq!(
        out,
        "200 AC 'hi\\n'\n\
         (400, '{\"error\":\"unexpected argument \\'--no-such-flag\\' found\"}')\n\
         400\n"
    );
}

#[test]
fn a_bad_listen_address_or_jails_file_is_a_usage_error() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let mut c = Command::new(judge_bin());
    c.args(["http", "--listen", &addr]);
    let done = exec_command(c);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        format!("judge: --listen {addr}: Address already in use (os error 98)\n")
    );
    let mut c = Command::new(judge_bin());
    c.args(["http", "--jails", "/nonexistent/jails.yaml"]);
    let done = exec_command(c);
    assert_eq!(done.status, 2);
    assert_eq!(
        done.stderr,
        "judge: /nonexistent/jails.yaml: cannot read it: No such file or directory (os error 2)\n"
    );
}
