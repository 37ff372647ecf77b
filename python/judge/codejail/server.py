"""Long-lived `judge serve` processes, one per call in flight.

A call takes an idle server or starts one, writes one request line and
reads one answer line. Servers are kept for the next calls, so a call pays
for a sandbox and never for starting the judge. Threads each get their own
server. A forked child starts afresh: the servers it inherited are its
parent's, and their pipes are closed in the child at once.
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

# How long a server closed between calls gets to end before it is killed.
_CLOSE_GRACE = 5

_lock = threading.Lock()
_idle = []


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
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
            )
        except OSError as e:
            raise RuntimeError("judge.codejail: cannot start %s: %s" % (argv[0], e)) from e

    def ask(self, line):
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise EOFError("the judge server ended")
        return answer

    def close(self):
        """End it between calls: the end of its input ends it."""
        try:
            self.proc.stdin.close()
            self.proc.wait(_CLOSE_GRACE)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def kill(self):
        """Stop it now, a session with it, and reap it."""
        self.proc.kill()
        self.proc.wait()

    def forget(self):
        """In a forked child: let go of the parent's server without touching
        the process (it is the parent's to end)."""
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        # The child is not the process's parent: nothing to reap here.
        self.proc.returncode = 0


def _after_fork_in_child():
    global _lock
    # The lock may have been held by another thread of the parent at the
    # fork: the child gets a fresh one.
    _lock = threading.Lock()
    for s in _idle:
        s.forget()
    _idle.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _take():
    with _lock:
        if _idle:
            return _idle.pop()
    return _Server()


def _give_back(server):
    with _lock:
        if len(_idle) < (os.cpu_count() or 1) * 2:
            _idle.append(server)
            return
    server.close()


def request(kind, body):
    """Send `{kind: body}` to a server and return its answer, a dict.

    A server found dead (killed while idle) is replaced once: the request
    is idempotent, a run in a fresh sandbox. Anything that interrupts a
    call (KeyboardInterrupt, a task's time limit) stops its server, and
    with it the session.
    """
    line = (json.dumps({kind: body}) + "\n").encode("utf-8")
    for attempt in (1, 2):
        server = _take()
        try:
            answer = server.ask(line)
        except (OSError, EOFError):
            server.kill()
            if attempt == 2:
                raise RuntimeError("judge.codejail: the judge server ended without answering")
            continue
        except BaseException:
            server.kill()
            raise
        _give_back(server)
        # Python's json reads NaN and Infinity, as CodeJail's globals hold.
        return json.loads(answer)
    raise AssertionError("unreachable")


@atexit.register
def _close_all():
    with _lock:
        servers = list(_idle)
        _idle.clear()
    for s in servers:
        s.close()
