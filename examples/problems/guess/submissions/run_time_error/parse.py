# Run-time error: makes one guess, then reads the reply as a number (ValueError on "lower").
import sys

print(500, flush=True)
secret_hint = int(sys.stdin.readline())
