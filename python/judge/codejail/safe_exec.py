"""Safe execution of untrusted Python code: CodeJail's `codejail.safe_exec`,
on judge's sandbox.

The same names, signatures and behaviour: `globals_dict` goes in as JSON
(filtered by `json_safe`), the code runs in the `python` jail, and the
dictionary is updated with the globals the code left, or
`SafeExecException` is raised with CodeJail's message (the jailed stdout
and stderr, with the traceback, and the status).
"""

import json
import logging
import os
import shutil
import sys
import tempfile

from . import jail_code, server

log = logging.getLogger("codejail")

# Set this to True to log the code and globals of every run.
LOG_ALL_CODE = False

# Set this to True to run submitted code with no sandbox at all, in this
# process. Deeply dangerous: anyone who can submit code then owns the
# computer. For local debugging only; every such run warns.
ALWAYS_BE_UNSAFE = False


class SafeExecException(Exception):
    """Python code running in the sandbox has failed: the message holds
    its stdout and stderr (with the traceback) and its status."""


def safe_exec(code, globals_dict, files=None, python_path=None,
              limit_overrides_context=None, slug=None, extra_files=None):
    """Run `code` as `exec` does, in the sandbox, with `globals_dict`.

    `files` are host files and folders shown in the work directory;
    `python_path` names folders or zip files there added to sys.path (one
    not among `extra_files` is a host path, shown too); `extra_files` are
    (name, bytes) pairs made there. Returns None; raises SafeExecException.
    """
    if ALWAYS_BE_UNSAFE:
        not_safe_exec(code, globals_dict, files=files, python_path=python_path,
                      limit_overrides_context=limit_overrides_context,
                      slug=slug, extra_files=extra_files)
        return
    if not jail_code.is_configured("python"):
        raise RuntimeError("safe_exec has not been configured for Python")
    effective = jail_code.get_effective_limits(limit_overrides_context)
    if slug:
        # The line CodeJail's jail_code logs.
        log.info(
            "Preparing to execute jailed code %r (overrides context = %r, resource limits = %r).",
            slug, limit_overrides_context, effective,
        )
    safe_globals = json_safe(globals_dict)
    if LOG_ALL_CODE:  # pragma: no cover
        log.debug("Exec: %s", code)
        log.debug("Globals: %s", json.dumps(safe_globals))
    answer = server.request("safe_exec", {
        **jail_code.which("python"),
        "code": code,
        "globals_dict": safe_globals,
        "files": [str(f) for f in files or ()],
        "python_path": [str(p) for p in python_path or ()],
        "extra_files": jail_code.encode_files(extra_files),
        "limits": jail_code.enforced(effective),
        "limit_overrides_context": limit_overrides_context,
        "slug": slug,
    })
    jail_code.raise_error(answer)
    if LOG_ALL_CODE:  # pragma: no cover
        log.debug("Answer: %s", json.dumps(answer))
    if "emsg" in answer:
        raise SafeExecException(answer["emsg"])
    globals_dict.update(answer["globals_dict"])


def json_safe(d):
    """The part of `d` that survives a trip through JSON, as CodeJail keeps
    it: values of the plain types (bytes only when UTF-8, tuples as
    lists), keys other than __builtins__, nothing whose encoding fails."""
    plain = (type(None), int, float, bytes, str, list, tuple, dict)

    def decoded(obj):
        if isinstance(obj, bytes):
            return obj.decode("utf-8")
        if isinstance(obj, (list, tuple)):
            return [decoded(i) for i in obj]
        if isinstance(obj, dict):
            return {decoded(k): decoded(v) for k, v in obj.items()}
        return obj

    kept = {}
    for k, v in d.items():
        if not isinstance(v, plain) or k == "__builtins__":
            continue
        try:
            # Unpaired surrogates encode but do not decode: try both ways.
            v = json.loads(json.dumps(decoded(v)))
            k = json.loads(json.dumps(decoded(k)))
        except Exception:  # pylint: disable=broad-except
            continue
        kept[k] = v
    return json.loads(json.dumps(kept))


def not_safe_exec(code, globals_dict, files=None, python_path=None,
                  limit_overrides_context=None, slug=None, extra_files=None):
    """`safe_exec` with no sandbox, in this process: for debugging only.

    Warns at every call. Not thread-safe (it changes the working directory
    and sys.path while the code runs); limits are not applied.
    """
    del limit_overrides_context  # No limits without a sandbox.
    # As CodeJail: a warning in the log at every call (on stderr when the
    # application has not configured logging).
    log.warning("DANGER: Executing code with `not_safe_exec` for %s", slug)
    g_dict = json_safe(globals_dict)
    here = os.getcwd()
    tmpdir = tempfile.mkdtemp(prefix="judge-unsafe-")
    original_path = sys.path
    try:
        os.chdir(tmpdir)
        for filename in files or ():
            dest = os.path.join(tmpdir, os.path.basename(filename))
            if os.path.isdir(filename):
                shutil.copytree(filename, dest)
            else:
                shutil.copyfile(filename, dest)
        for filename, contents in extra_files or ():
            with open(os.path.join(tmpdir, filename), "wb") as f:
                f.write(jail_code.as_bytes(contents))
        if python_path:
            sys.path = sys.path + [str(p) for p in python_path]
        try:
            exec(code, g_dict)  # pylint: disable=exec-used
        except Exception as e:
            # As CodeJail: the exception's class and message, no traceback
            # in the message (the original stays chained to it).
            raise SafeExecException("{0.__class__.__name__}: {0!s}".format(e))  # pylint: disable=raise-missing-from
    finally:
        sys.path = original_path
        os.chdir(here)
        shutil.rmtree(tmpdir, ignore_errors=True)
    globals_dict.update(json_safe(g_dict))
