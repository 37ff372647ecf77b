# Runs inside the jail, as the interpreter's script: the code and its
# globals arrive on stdin as one JSON array; the globals after the run
# leave on stdout, filtered as CodeJail's json_safe filters them (and laid
# over the globals given, when asked: a caller's dictionary updated with
# them keeps what the code deleted). The code's
# own prints are dropped, so they cannot corrupt that JSON by accident.
import json
import sys


class _Discard:
    def write(self, *args, **kwargs):
        pass

    def flush(self, *args, **kwargs):
        pass


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


# At module level, as CodeJail's own wrapper: a traceback shows the same
# frames ("<module>", then "exec(code, g_dict)").
code, given, keep_deleted, python_path = json.load(sys.stdin)
# CodeJail sends the globals through json_safe (dropping __builtins__);
# the given ones stay as they came, for a caller's dictionary to keep.
g_dict = json_safe(given)
if not keep_deleted:
    given = {}
for p in python_path:
    sys.path.append(p)
sys.stdout = _Discard()
exec(code, g_dict)
given.update(json_safe(g_dict))
json.dump(given, sys.__stdout__)
