/* Memory limit exceeded: allocates and touches 1 GiB, 16 MiB at a time, before its first guess. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (16 << 20)
#define CHUNKS 64 /* 64 x 16 MiB = 1 GiB */

static char *chunks[CHUNKS];

int main(void) {
    for (int i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc(CHUNK);
        if (!chunks[i])
            return 1;
        memset(chunks[i], i + 1, CHUNK);  /* touch every page */
    }
    /* Read the memory back, so that the compiler cannot drop it: 64 + 436, a guess of 500. */
    printf("%d\n", chunks[CHUNKS - 1][0] + 436);
    fflush(stdout);
    return 0;
}
