# Time limit exceeded: walks from 0 to a + b one step at a time (up to 2 * 10^9 steps).
a, b = map(int, input().split())
target = a + b
step = 1 if target >= 0 else -1
total = 0
while total != target:
    total += step
print(total)
