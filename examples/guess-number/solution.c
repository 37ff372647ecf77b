/*
 * Correct: binary search over [1, 10^9]. Each answer halves the interval,
 * so ceil(log2(10^9)) = 30 guesses always suffice.
 *
 * Every guess is followed by fflush(stdout): stdout is a pipe here, not a
 * terminal, so the C library buffers it fully and nothing would reach the
 * interactor until the buffer filled (see noflush.c).
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    long lo = 1, hi = 1000000000;
    char reply[16];
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        printf("%ld\n", mid);
        fflush(stdout);
        if (scanf("%15s", reply) != 1)
            return 1;
        if (strcmp(reply, "correct") == 0)
            return 0;
        if (strcmp(reply, "higher") == 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 1; /* the interactor contradicted itself */
}
