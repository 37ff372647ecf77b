# Compile error: a SyntaxError (the while statement lacks its colon), found when byte-compiling.
import sys

lo, hi = 1, 1000
while lo <= hi
    mid = (lo + hi) // 2
    print(mid, flush=True)
    reply = sys.stdin.readline().strip()
    if reply == "correct":
        break
    if reply == "lower":
        hi = mid - 1
    else:
        lo = mid + 1
