/*
 * The classic interactive bug: the same binary search as solution.c, but
 * without fflush(stdout).
 *
 * stdout is a pipe, so the C library keeps the guess in its buffer (4 KiB
 * or more) instead of writing it. The program then waits for an answer to a
 * guess the interactor never received, while the interactor waits for that
 * guess: a deadlock. Neither uses CPU, so no CPU limit catches it; the wall
 * limit does, and the judge reports ILE (idleness limit exceeded) with the
 * hint "did it forget to flush?", because the program had received input
 * (the query limit), written nothing since, and was blocked reading.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    int limit;
    if (scanf("%d", &limit) != 1)
        return 1;
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
