"""Correct: binary search over [1, 10^9], in Python.

print(..., flush=True) matters for the same reason as fflush in C: stdout is
a pipe, so Python buffers it and the interactor would never see the guess.
"""
import sys


def main() -> int:
    lo, hi = 1, 10**9
    while lo <= hi:
        mid = (lo + hi) // 2
        print(mid, flush=True)
        reply = sys.stdin.readline().strip()
        if reply == "correct":
            return 0
        if reply == "higher":
            lo = mid + 1
        elif reply == "lower":
            hi = mid - 1
        else:
            return 1  # end of file or an answer we do not understand
    return 1


if __name__ == "__main__":
    sys.exit(main())
