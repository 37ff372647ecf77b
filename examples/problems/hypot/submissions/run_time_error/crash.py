# Run-time error: reads both numbers of a line with one int() call (ValueError).
import sys

n = int(sys.stdin.readline())
a = int(sys.stdin.readline())
