# Time limit exceeded: reads the input, then spins in a busy CPU loop forever.
import sys

data = sys.stdin.read()
spins = 0
while True:
    spins += 1
