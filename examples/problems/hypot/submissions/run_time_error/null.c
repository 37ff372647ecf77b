/* Run-time error: writes through a NULL pointer (SIGSEGV). */
#include <stddef.h>

int main(void) {
    volatile int *volatile p = NULL;  /* volatile: the compiler must really do the write */
    *p = 42;
    return 0;
}
