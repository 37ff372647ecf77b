/* Compile error: a syntax error (a missing closing parenthesis). */
#include <stdio.h>

int main(void) {
    printf("%d\n", 500;
    fflush(stdout);
    return 0;
}
