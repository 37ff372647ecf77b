/* Time limit exceeded: reads the input, then spins in a busy CPU loop forever. */
#include <stdio.h>

static volatile int done = 0;  /* never set: the loop below never ends */

int main(void) {
    int n;
    if (scanf("%d", &n) != 1)
        return 1;
    unsigned long spins = 0;
    while (!done)
        spins++;
    return (int)(spins & 1);
}
