/*
 * Wrong: a linear search, 1, 2, 3, ... It flushes and follows the protocol,
 * but it needs as many guesses as the hidden number, so the interactor
 * stops it at the 31st guess with "wrong answer too many queries".
 *
 * After that the interactor has exited and this program is still waiting
 * for an answer; under the default (kattis) precedence the interactor's
 * early rejection wins; the program, reading end of file, exits 1.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char reply[16];
    for (long guess = 1;; guess++) {
        printf("%ld\n", guess);
        fflush(stdout);
        if (scanf("%15s", reply) != 1)
            return 1;
        if (strcmp(reply, "correct") == 0)
            return 0;
    }
}
