/* Run-time error: makes one guess, then writes through a NULL pointer (SIGSEGV). */
#include <stdio.h>

int main(void) {
    char reply[32];
    printf("500\n");
    fflush(stdout);
    if (scanf("%31s", reply) != 1)
        return 0;
    volatile int *volatile p = NULL;  /* volatile: the compiler must really do the write */
    *p = 42;
    return 0;
}
