# Accepted: math.hypot, printed in Python's shortest exact form.
import math
import sys

data = sys.stdin.read().split()
n = int(data[0])
out = []
for i in range(n):
    a, b = int(data[1 + 2 * i]), int(data[2 + 2 * i])
    out.append(repr(math.hypot(a, b)))
print("\n".join(out))
