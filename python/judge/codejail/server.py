"""Long-lived `judge serve` processes, one per call in flight.

A call takes an idle server or starts one, writes one request line and
reads one answer line. Servers are kept for the next calls, so a call pays
for a sandbox and never for starting the judge. Threads each get their own
server; a process that forks drops the servers it inherited (their pipes
belong to its parent).
"""

import atexit
import json
import os
import shutil
import subprocess
import sysconfig
import threading

# Where the judge binary is: this variable, then the one installed with the
# package, then PATH.
BINARY_ENV = "JUDGE_BIN"
# A jails.yaml laid over the built-in jails and ~/.config/judge/jails.yaml.
JAILS_ENV = "JUDGE_JAILS"

_lock = threading.Lock()
_idle = []
_owner = os.getpid()


def binary():
    """The judge binary to start, or RuntimeError saying where it looked."""
    named = os.environ.get(BINARY_ENV)
    if named:
        return named
    here = os.path.join(sysconfig.get_path("scripts"), "judge")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("judge")
    if found:
        return found
    raise RuntimeError(
        "judge.codejail: no judge binary: set %s, or pip install the package "
        "(it installs one), or put judge on PATH" % BINARY_ENV
    )


class _Server:
    def __init__(self):
        argv = [binary(), "serve"]
        jails = os.environ.get(JAILS_ENV)
        if jails:
            argv += ["--jails", jails]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )

    def ask(self, line):
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise EOFError("the judge server ended")
        return answer

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()


def _take():
    global _owner
    with _lock:
        if os.getpid() != _owner:
            # Forked: the servers are the parent's.
            _idle.clear()
            _owner = os.getpid()
        if _idle:
            return _idle.pop()
    return _Server()


def _give_back(server):
    with _lock:
        if os.getpid() == _owner and len(_idle) < (os.cpu_count() or 1) * 2:
            _idle.append(server)
            return
    server.close()


def request(kind, body):
    """Send `{kind: body}` to a server and return its answer, a dict.

    A server found dead (killed while idle) is replaced once; the request
    is idempotent, a run in a fresh sandbox.
    """
    line = (json.dumps({kind: body}) + "\n").encode("utf-8")
    for attempt in (1, 2):
        server = _take()
        try:
            answer = server.ask(line)
        except (OSError, EOFError):
            server.proc.kill()
            server.proc.wait()
            if attempt == 2:
                raise RuntimeError("judge.codejail: the judge server ended without answering")
            continue
        _give_back(server)
        # Python's json reads NaN and Infinity, as CodeJail's globals hold.
        return json.loads(answer)


@atexit.register
def _close_all():
    with _lock:
        servers = list(_idle) if os.getpid() == _owner else []
        _idle.clear()
    for s in servers:
        s.close()


def known_jails():
    """The names of the jails the judge knows (built in and jails.yaml)."""
    return request("jails", {})["jails"]


