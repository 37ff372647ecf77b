/*
 * The classic interactive bug: the same binary search as solution.c, but
 * without fflush(stdout).
 *
 * stdout is a pipe, so the C library keeps the guess in its buffer (4 KiB
 * or more) instead of writing it. The program then waits for an answer to a
 * guess the interactor never received, while the interactor waits for that
 * guess: a deadlock. Neither uses CPU, so no CPU limit catches it; the wall
 * limit does, and the judge reports ILE (idleness limit exceeded) with the
 * hint "did it forget to flush?": when the limit struck, the program was
 * blocked reading its stdin and nothing had come out of it since its last
 * input (here, nothing at all). The guess is in its buffer, where the
 * judge cannot see it; that pattern is what gives it away.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    long lo = 1, hi = 1000000000;
    char reply[16];
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        printf("%ld\n", mid); /* no fflush(stdout): the bug */
        if (scanf("%15s", reply) != 1)
            return 1;
        if (strcmp(reply, "correct") == 0)
            return 0;
        if (strcmp(reply, "higher") == 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 1;
}
