# Time limit exceeded: "thinks" in a busy CPU loop forever before its first guess.
import sys

spins = 0
while True:
    spins += 1

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
