# Wrong answer: writes "guess 500" instead of just the number.
import sys

lo, hi = 1, 1000
while lo <= hi:
    mid = (lo + hi) // 2
    print("guess", mid, flush=True)
    reply = sys.stdin.readline().strip()
    if reply == "correct" or not reply:
        break
    if reply == "lower":
        hi = mid - 1
    else:
        lo = mid + 1
