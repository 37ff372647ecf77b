#!/usr/bin/env bash
# Judge every solution of the "guess the number" example and check that each
# gets the verdict it should. Run it from anywhere; paths are taken from the
# repository root:
#
#     examples/guess-number/run.sh
#
# Exit status: 0 when every verdict is the expected one, 1 otherwise (and
# non-zero at once if the judge or a C file does not build).
#
# Needs: cargo, gcc, python3 (and, for the WASI part, clang with wasi-libc).
set -euo pipefail

cd "$(dirname "$0")/../.."
EX=examples/guess-number
JUDGE=target/release/judge

echo "building the judge (cargo build --release)..."
cargo build --release

# Compiled files go to a private temporary directory, removed on any exit,
# so that running the example leaves nothing behind in the repository.
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
for f in interactor solution wrong noflush; do
    gcc -O2 -Wall -Wextra -o "$BIN/$f" "$EX/$f.c"
done

TESTLIB=(--responder "exec:$BIN/interactor" --input "$EX/input.txt")
KATTIS=(--protocol kattis --responder "exec:python3 $EX/interactor_kattis.py" --input "$EX/input.txt")

failures=0

# report LABEL EXPECTED GOT DETAILS: one line "expected vs got", then the
# judge's own words, indented.
report() {
    local label=$1 expected=$2 got=$3 details=$4 mark=ok
    if [ "$got" != "$expected" ]; then
        mark=MISMATCH
        failures=$((failures + 1))
    fi
    printf '%-34s expected %-4s got %-4s %s\n' "$label" "$expected" "$got" "$mark"
    printf '%s\n' "$details" | sed 's/^/    /'
    echo
}

# check LABEL EXPECTED JUDGE-RUN-ARGS...: the human summary, which the judge
# prints on stderr ("VERDICT: message" then figures). Without --json the
# judge forwards the program's stdout (its guesses) to its own stdout; that
# is dropped here to keep the output short.
check() {
    local label=$1 expected=$2
    shift 2
    local summary
    # The judge exits 1 for any verdict but AC: that is data here, not an error.
    summary=$("$JUDGE" run "$@" 2>&1 >/dev/null) || true
    report "$label" "$expected" "${summary%%:*}" "$summary"
}

# check_json LABEL EXPECTED JUDGE-RUN-ARGS...: the same through --json, which
# prints exactly one JSON object on stdout (docs/result-schema.md).
check_json() {
    local label=$1 expected=$2
    shift 2
    local json got details
    json=$("$JUDGE" run --json "$@") || true
    got=$(printf '%s' "$json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["verdict"])' 2>/dev/null) || got="none"
    details=$(printf '%s' "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
for key in ("verdict", "message", "cpu_time_ms", "wall_time_ms", "memory_kib",
            "stdout_bytes", "stdin_bytes", "first_to_finish", "rule"):
    print(f"{key}: {json.dumps(r[key])}")
print("responder:", json.dumps({k: r["responder"][k] for k in ("verdict", "exit_code", "message")}))
' 2>/dev/null) || details="(no JSON object: $json)"
    report "$label" "$expected" "$got" "$details"
}

echo
echo "== testlib interactor ($EX/interactor.c)"
echo
check "solution.c (binary search)" AC "${TESTLIB[@]}" -- "$BIN/solution"
check "solution.py (binary search)" AC "${TESTLIB[@]}" --file "$EX/solution.py" -- python3 solution.py
check "wrong.c (linear search)" WA "${TESTLIB[@]}" -- "$BIN/wrong"
# A deadlock uses no CPU, so only the wall limit ends it: keep it short.
check "noflush.c (forgets fflush)" ILE --wall-limit 2 "${TESTLIB[@]}" -- "$BIN/noflush"

echo "== the same, as JSON (--json)"
echo
check_json "solution.c --json" AC "${TESTLIB[@]}" -- "$BIN/solution"

echo "== Kattis interactor ($EX/interactor_kattis.py, --protocol kattis)"
echo
check "solution.c (binary search)" AC "${KATTIS[@]}" -- "$BIN/solution"
check "wrong.c (linear search)" WA "${KATTIS[@]}" -- "$BIN/wrong"

# The same C interactors compiled unchanged to WebAssembly (WASI command
# mode): run untrusted inside the judge, no process. Needs clang with
# wasi-libc (apt install clang lld wasi-libc libclang-rt-14-dev-wasm32).
WASI_CC=(clang --target=wasm32-wasi -O2 -D_WASI_EMULATED_SIGNAL)
if echo 'int main(void){return 0;}' | "${WASI_CC[@]}" -x c - -o "$BIN/probe.wasm" 2>/dev/null; then
    for f in interactor validator_kattis; do
        "${WASI_CC[@]}" -o "$BIN/$f.wasm" "$EX/$f.c" -lwasi-emulated-signal
    done
    echo "== the C interactors compiled to wasm32-wasi (--responder wasm:)"
    echo
    check "solution.c, interactor.wasm" AC --responder "wasm:$BIN/interactor.wasm" --input "$EX/input.txt" -- "$BIN/solution"
    check "wrong.c, interactor.wasm" WA --responder "wasm:$BIN/interactor.wasm" --input "$EX/input.txt" -- "$BIN/wrong"
    check "solution.c, validator_kattis.wasm" AC --protocol kattis --responder "wasm:$BIN/validator_kattis.wasm" --input "$EX/input.txt" -- "$BIN/solution"
else
    echo "== (skipped: no clang with wasi-libc for the WASI interactors)"
    echo
fi

if [ "$failures" -eq 0 ]; then
    echo "every solution got its expected verdict"
else
    echo "$failures verdict(s) differ from the expected ones" >&2
    exit 1
fi
