/*
 * Interactor for "guess the number", following testlib's conventions
 * without testlib.h, so that it shows exactly what the judge relies on.
 *
 *   interactor INPUT OUTPUT [ANSWER]
 *
 * INPUT holds the hidden number. The interactor talks to the program on its
 * stdin (the program's guesses) and stdout (our answers), writes how many
 * queries were used to OUTPUT (where testlib interactors leave a record for
 * a checker), and ends with one line on stderr and an exit code, as testlib
 * does:
 *
 *   0  "ok ..."                   accepted
 *   1  "wrong answer ..."         the program broke the rules
 *   2  "wrong output format ..."  it wrote something that is not a guess, or
 *                                 stopped talking (unexpected end of file)
 *   3  "FAIL ..."                 our own fault (bad INPUT): a judge error
 *
 * Protocol: the program speaks first. For each line it writes (an integer
 * guess in [1, 10^9]) we answer "higher" (the hidden number is greater than
 * the guess), "lower" or "correct". A guess out of range, or a 31st guess,
 * is a wrong answer; a line that is not an integer is a format error (PE).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OK = 0, WA = 1, PE = 2, FAIL = 3 };

#define MAX_QUERIES 30
#define MAX_VALUE 1000000000LL

static FILE *out_file; /* OUTPUT: testlib's "tout" */

/* Like testlib's quitf: one line on stderr, then the exit code. */
static void quit(int code, const char *fmt, ...)
{
    static const char *const prefix[] = {
        [OK] = "ok", [WA] = "wrong answer", [PE] = "wrong output format", [FAIL] = "FAIL",
    };
    va_list ap;
    fprintf(stderr, "%s ", prefix[code]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (out_file)
        fclose(out_file);
    exit(code);
}

/*
 * Read one line of the program's output into buf. Returns 0 at end of file.
 * A line longer than the buffer is garbage, not a guess: PE.
 */
static int read_line(char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return 0;
    size_t n = strlen(buf);
    if (n == size - 1 && buf[n - 1] != '\n')
        quit(PE, "a line of more than %zu bytes is not a guess", size - 2);
    return 1;
}

/*
 * Parse a guess: optional spaces, an optional minus sign, decimal digits,
 * optional spaces. A well-formed integer out of range is a wrong answer, not
 * a format error, as with testlib's readInt(1, 1000000000).
 */
static int parse_guess(const char *s, long long *value)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int negative = *s == '-';
    if (negative)
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    long long v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        /* Once past the range, stop accumulating: it stays out of range
         * and cannot overflow. */
        if (v <= MAX_VALUE)
            v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    if (*s != '\0')
        return 0;
    *value = negative ? -v : v;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        quit(FAIL, "usage: %s INPUT OUTPUT [ANSWER]", argv[0]);

    FILE *in = fopen(argv[1], "r");
    if (!in)
        quit(FAIL, "cannot open the input file %s: %s", argv[1], strerror(errno));
    long long hidden;
    if (fscanf(in, "%lld", &hidden) != 1 || hidden < 1 || hidden > MAX_VALUE)
        quit(FAIL, "the input file must hold one integer in [1, %lld]", MAX_VALUE);
    fclose(in);

    out_file = fopen(argv[2], "w");
    if (!out_file)
        quit(FAIL, "cannot open the output file %s: %s", argv[2], strerror(errno));

    /*
     * The program may have ended already (it crashed, or gave up): writing
     * to a pipe nobody reads must not kill us with SIGPIPE, which the judge
     * would have to report as our crash. The write fails with EPIPE instead
     * and the next read reports end of file, which is the program's fault.
     */
    signal(SIGPIPE, SIG_IGN);

    char line[64];
    for (int queries = 1;; queries++) {
        if (!read_line(line, sizeof line))
            quit(PE, "unexpected end of file after %d queries: the program stopped "
                     "guessing before it found the number", queries - 1);
        long long guess;
        int well_formed = parse_guess(line, &guess);
        line[strcspn(line, "\r\n")] = '\0'; /* for the messages */
        if (!well_formed)
            quit(PE, "expected a guess (an integer), got \"%s\"", line);
        if (guess < 1 || guess > MAX_VALUE)
            quit(WA, "guess \"%s\" is outside [1, %lld]", line, MAX_VALUE);
        if (queries > MAX_QUERIES)
            quit(WA, "too many queries: guess number %d (%lld), only %d are allowed",
                 queries, guess, MAX_QUERIES);
        if (guess == hidden) {
            printf("correct\n");
            fflush(stdout);
            fprintf(out_file, "%d\n", queries);
            quit(OK, "found %lld in %d queries", hidden, queries);
        }
        printf(guess < hidden ? "higher\n" : "lower\n");
        fflush(stdout);
    }
}
