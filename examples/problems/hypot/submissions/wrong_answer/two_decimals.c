/* Wrong answer: prints only 2 decimals, too few for small lengths such as sqrt(2) = 1.41421... */
#include <math.h>
#include <stdio.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1)
        return 1;
    for (int i = 0; i < n; i++) {
        double a, b;
        if (scanf("%lf %lf", &a, &b) != 2)
            return 1;
        printf("%.2f\n", sqrt(a * a + b * b));
    }
    return 0;
}
