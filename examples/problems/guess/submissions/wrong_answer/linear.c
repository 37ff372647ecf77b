/* Wrong answer: guesses 1, 2, 3, ... in turn, so any secret above 10 needs too many guesses. */
#include <stdio.h>
#include <string.h>

int main(void) {
    char reply[32];
    for (int guess = 1; guess <= 1000; guess++) {
        printf("%d\n", guess);
        fflush(stdout);
        if (scanf("%31s", reply) != 1 || strcmp(reply, "correct") == 0)
            return 0;
    }
    return 0;
}
