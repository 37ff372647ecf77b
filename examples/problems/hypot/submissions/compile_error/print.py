# Compile error: Python 2's print statement, a SyntaxError in Python 3, found when byte-compiling.
import math
import sys

data = sys.stdin.read().split()
for i in range(int(data[0])):
    print "%.10f" % math.hypot(int(data[1 + 2 * i]), int(data[2 + 2 * i]))
