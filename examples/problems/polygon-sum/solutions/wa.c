/* Wrong answer: subtracts b instead of adding it (right only when b is 0, which no test has). */
#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2)
        return 1;
    printf("%lld\n", a - b);
    return 0;
}
