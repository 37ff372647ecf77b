#!/usr/bin/env python3
"""Interactor for "guess the number", following the Kattis output-validator
convention (problemtools, DOMjudge):

    interactor_kattis.py INPUT ANSWER FEEDBACK_DIR [ARGS...]

INPUT holds the hidden number; ANSWER (the judge's answer file) is not
needed here. It talks to the program on stdin/stdout, writes its one-line
message to FEEDBACK_DIR/judgemessage.txt and exits 42 (accepted) or 43
(wrong answer). Kattis has no separate presentation error: anything that is
not a valid guess is a wrong answer. Any other exit status, or a crash, is
the interactor's own failure, which the judge reports as JE.

The conversation is the same as interactor.c's: the program guesses, one
integer per line, and gets one answer per guess: "higher", "lower" or
"correct". At most 30 guesses.
"""
import os
import signal
import sys

AC, WA = 42, 43
MAX_QUERIES = 30
MAX_VALUE = 10**9


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit("usage: interactor_kattis.py INPUT ANSWER FEEDBACK_DIR")
    input_file, _answer_file, feedback_dir = sys.argv[1:4]

    def finish(code: int, message: str) -> None:
        with open(os.path.join(feedback_dir, "judgemessage.txt"), "w") as f:
            f.write(message + "\n")
        sys.exit(code)

    with open(input_file) as f:
        hidden = int(f.read().split()[0])  # a bad input file raises: JE

    # A program that has already ended must not kill us with SIGPIPE (that
    # would be our crash, a JE): let writes fail and the next read see EOF.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def send(line: str) -> None:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # Nobody reads any more. Point stdout at /dev/null so that the
            # flush at interpreter exit does not fail too, which would make
            # Python exit with status 120 instead of our 42 or 43.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())

    queries = 0
    while True:
        line = sys.stdin.readline()
        if not line:
            finish(WA, f"unexpected end of file after {queries} queries")
        queries += 1
        text = line.strip()
        if not (text.isascii() and text.isdigit()):
            finish(WA, f"expected a guess (an integer), got {text[:40]!r}")
        # Compare lengths first: int() of thousands of digits is slow, and
        # Python refuses beyond 4300 of them (which would be our crash, a JE).
        guess = int(text) if len(text) <= 10 else MAX_VALUE + 1
        if not 1 <= guess <= MAX_VALUE:
            finish(WA, f"guess {text[:40]} is outside [1, {MAX_VALUE}]")
        if queries > MAX_QUERIES:
            finish(WA, f"too many queries: guess number {queries} ({guess}), "
                       f"only {MAX_QUERIES} are allowed")
        if guess == hidden:
            send("correct")
            finish(AC, f"found {hidden} in {queries} queries")
        send("higher" if guess < hidden else "lower")


if __name__ == "__main__":
    main()
