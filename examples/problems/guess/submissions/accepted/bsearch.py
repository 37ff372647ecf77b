# Accepted: binary search over [1, 1000], at most 10 guesses, flushing after each.
import sys

lo, hi = 1, 1000
while lo <= hi:
    mid = (lo + hi) // 2
    print(mid, flush=True)
    reply = sys.stdin.readline().strip()
    if reply == "correct" or not reply:
        break
    if reply == "lower":
        hi = mid - 1
    else:
        lo = mid + 1
