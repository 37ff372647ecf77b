"""Run code in a jail: CodeJail's `codejail.jail_code`, on judge's sandbox.

The same names, signatures and behaviour. What differs, on purpose:
- `python` is configured from the start (the system's python3), and jails
  named in judge's jails.yaml are configured too;
- `configure`'s `user` is accepted and unused: every run already has an
  identity of its own in the sandbox;
- the `PROXY` limit is kept and unused: no proxy process is needed;
- a run killed at a limit has status -9 (CodeJail: -24 for the CPU limit).
"""

import base64
import logging
import os

from . import server

log = logging.getLogger("codejail")

# The command name -> how to run it, as CodeJail keeps it.
COMMANDS = {}

# The limits a run gets unless changed, CodeJail's defaults and meanings:
# CPU and REALTIME in seconds, VMEM (memory) and FSIZE (largest file
# written) in bytes, NPROC processes and threads; 0 means no limit, except
# for FSIZE, where it means nothing may be written.
DEFAULT_LIMITS = {
    "CPU": 1,
    "REALTIME": 1,
    "VMEM": 0,
    "FSIZE": 0,
    "NPROC": 15,
    "PROXY": None,
}

LIMITS = DEFAULT_LIMITS.copy()

# limit_overrides_context -> {limit name: value}.
LIMIT_OVERRIDES = {}

# The limits the judge enforces; the others (PROXY, or any other name) are
# kept, as CodeJail keeps them, and unused.
_ENFORCED = ("CPU", "REALTIME", "VMEM", "FSIZE", "NPROC")


def configure(command, bin_path, user=None):
    """Make `command` run `bin_path` (a Python gets `-E -B`, as in CodeJail).

    A virtualenv's interpreter brings its virtualenv, shown read-only.
    """
    argv = [bin_path]
    if command == "python":
        argv.extend(["-E", "-B"])
    COMMANDS[command] = {"cmdline_start": argv, "user": user}


def is_configured(command):
    """Can `jail_code` run `command`? Configured here, or a jail the judge
    knows (asked once per process)."""
    return command in COMMANDS or command in _known_jails()


_jails = {}


def _known_jails():
    """The names of the jails the judge knows (built in and jails.yaml)."""
    pid = os.getpid()
    if pid not in _jails:
        answer = server.request("jails", {})
        raise_error(answer)
        _jails.clear()
        _jails[pid] = answer["jails"]
    return _jails[pid]


def set_limit(limit_name, value):
    """Set a limit for every later run (see DEFAULT_LIMITS)."""
    LIMITS[limit_name] = value


def get_effective_limits(overrides_context=None):
    """LIMITS with the overrides of `overrides_context`, if it has any."""
    overrides = LIMIT_OVERRIDES.get(overrides_context, {}) if overrides_context else {}
    return {**LIMITS, **overrides}


def override_limit(limit_name, value, limit_overrides_context):
    """Change a limit only for runs in `limit_overrides_context`.

    PROXY cannot differ between runs: such an override is refused with an
    error in the log, as in CodeJail.
    """
    if limit_name == "PROXY" and LIMITS["PROXY"] != value:
        log.error(
            "Tried to override value of PROXY to %s. Overriding PROXY on a "
            "per-context basis is not permitted. Will use globally-configured "
            "value instead: %s.",
            value,
            LIMITS["PROXY"],
        )
        return
    LIMIT_OVERRIDES.setdefault(limit_overrides_context, {})[limit_name] = value


class JailResult:
    """What a run gave: `status`, `stdout` and `stderr` (bytes)."""

    def __init__(self):
        self.stdout = self.stderr = self.status = None


def jail_code(command, code=None, files=None, extra_files=None, argv=None,
              stdin=None, limit_overrides_context=None, slug=None):
    """Run `code` (or a program among `files`, named in `argv`) in a jail.

    `files` are host paths shown in the work directory by name;
    `extra_files` are (name, bytes) pairs made there; `stdin` is a str.
    Returns a JailResult.
    """
    if not is_configured(command):
        # The exception CodeJail raises.
        raise Exception("jail_code needs to be configured for %r" % command)  # pylint: disable=broad-exception-raised
    effective = get_effective_limits(limit_overrides_context)
    if slug:
        log.info(
            "Preparing to execute jailed code %r (overrides context = %r, resource limits = %r).",
            slug, limit_overrides_context, effective,
        )
    answer = server.request("jail_code", {
        **which(command),
        "code": code or None,
        "files": [str(f) for f in files or ()],
        "extra_files": encode_files(extra_files),
        "argv": list(argv or ()),
        "stdin": stdin or "",
        "limits": enforced(effective),
        "limit_overrides_context": limit_overrides_context,
        "slug": slug,
    })
    raise_error(answer)
    result = JailResult()
    result.status = answer["status"]
    result.stdout = _bytes(answer, "stdout")
    result.stderr = _bytes(answer, "stderr")
    return result


def which(command):
    """The jail a request names: the command line `configure` gave, or the
    judge's jail of that name."""
    configured = COMMANDS.get(command)
    if configured:
        return {"command": command, "cmdline_start": configured["cmdline_start"]}
    return {"command": command}


def enforced(limits):
    """The limits the judge enforces, as a request carries them."""
    return {name: limits[name] or 0 for name in _ENFORCED if name in limits}


def encode_files(extra_files):
    """Extra files as a request carries them."""
    return [
        {"name": name, "base64": base64.b64encode(as_bytes(content)).decode("ascii")}
        for name, content in extra_files or ()
    ]


def as_bytes(content):
    """An extra file's contents as bytes (CodeJail takes bytes; a str is
    written as UTF-8)."""
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _bytes(answer, stream):
    exact = answer.get(stream + "_base64")
    return base64.b64decode(exact) if exact is not None else answer[stream].encode("utf-8")


def raise_error(answer):
    """The judge refused the request or could not run it: raise, as
    CodeJail raises when its sandbox cannot run."""
    if "error" in answer:
        raise Exception("judge: " + answer["error"])  # pylint: disable=broad-exception-raised
