/* Time limit exceeded: "thinks" in a busy CPU loop forever before its first guess. */
#include <stdio.h>
#include <string.h>

static volatile int ready = 0;  /* never set: the loop below never ends */

int main(void) {
    unsigned long spins = 0;
    while (!ready)
        spins++;

    int lo = 1, hi = 1000;
    char reply[32];
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        printf("%d\n", mid);
        fflush(stdout);
        if (scanf("%31s", reply) != 1 || strcmp(reply, "correct") == 0)
            return 0;
        if (strcmp(reply, "lower") == 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return (int)(spins & 1);
}
