/* Compile error: a syntax error (a missing closing brace). */
#include <math.h>
#include <stdio.h>

int main(void) {
    double a = 3, b = 4;
    if (a >= 0 && b >= 0) {
        printf("%.10f\n", sqrt(a * a + b * b));
    return 0;
}
