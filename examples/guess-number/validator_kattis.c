/*
 * Interactive output validator for "guess the number" in the Kattis
 * convention (problemtools, DOMjudge), in portable C: interactor_kattis.py's
 * rules and messages, as one source that builds natively and for WASI.
 *
 *   validator_kattis INPUT ANSWER FEEDBACK_DIR [ARGS...]
 *
 * INPUT holds the hidden number; ANSWER is not needed here. It talks to the
 * program on stdin (the program's guesses) and stdout (our answers), writes
 * its one-line message to FEEDBACK_DIR/judgemessage.txt and exits
 *
 *   42  accepted
 *   43  wrong answer: anything that is not a valid guess (Kattis has no
 *       separate presentation error), a guess out of [1, 10^9], a 31st
 *       guess, or end of file before the number was found
 *
 * Any other exit status (1 here: bad arguments or INPUT, an unwritable
 * FEEDBACK_DIR) is our own failure, which the judge reports as JE.
 *
 * Native:  gcc -O2 -Wall -Wextra -Werror validator_kattis.c -o validator_kattis
 * WASI:    clang --target=wasm32-wasi -O2 -D_WASI_EMULATED_SIGNAL \
 *              -lwasi-emulated-signal validator_kattis.c -o validator_kattis.wasm
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { AC = 42, WA = 43, FAILED = 1 };

#define MAX_QUERIES 30
#define MAX_VALUE 1000000000LL
/* Messages quote at most this much of a line, as the Python one's text[:40]. */
#define QUOTED 40

static const char *feedback_dir;

/* Our own failure: a reason on stderr, an exit status that is neither 42
 * nor 43. */
static void fail(const char *what, const char *path)
{
    fprintf(stderr, "validator_kattis: %s %s: %s\n", what, path, strerror(errno));
    exit(FAILED);
}

/* The verdict: the message goes to judgemessage.txt, where Kattis tools
 * look for it, and nowhere else. */
static void finish(int code, const char *message)
{
    char path[4096];
    size_t n = strlen(feedback_dir);
    snprintf(path, sizeof path, "%s%sjudgemessage.txt", feedback_dir,
             n > 0 && feedback_dir[n - 1] == '/' ? "" : "/");
    FILE *f = fopen(path, "w");
    if (!f)
        fail("cannot open", path);
    fprintf(f, "%s\n", message);
    if (fclose(f) != 0)
        fail("cannot write", path);
    exit(code);
}

static void send(const char *line)
{
    /* A program that has stopped reading makes this fail (EPIPE, SIGPIPE
     * being ignored): nothing to do, the next read sees end of file and
     * that is the program's fault, not ours. */
    printf("%s\n", line);
    fflush(stdout);
}

/* Python's str.strip() and str.isdigit() on ASCII: the same line gets the
 * same verdict and message as from interactor_kattis.py. */
static int is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Python's repr() of an ASCII string; other bytes as \xNN. */
static void quote(char *out, const char *s, size_t n)
{
    char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    *out++ = q;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == (unsigned char)q)
            out += sprintf(out, "\\%c", c);
        else if (c == '\t')
            out += sprintf(out, "\\t");
        else if (c == '\n')
            out += sprintf(out, "\\n");
        else if (c == '\r')
            out += sprintf(out, "\\r");
        else if (c < 0x20 || c >= 0x7f)
            out += sprintf(out, "\\x%02x", c);
        else
            *out++ = (char)c;
    }
    *out++ = q;
    *out = '\0';
}

/*
 * One line, stripped, judged as it streams in: a line has no length limit
 * (the Python one reads it whole), but all we keep of it is its first
 * QUOTED bytes, its length and whether it is all digits. Returns 0 at end
 * of file before any byte.
 */
struct line {
    char head[QUOTED]; /* the first bytes after leading spaces */
    size_t len;        /* of the stripped line */
    int digits;        /* all of it is 0-9 (and it is not empty) */
};

static int read_line(struct line *l)
{
    size_t seen = 0; /* bytes after leading spaces, trailing ones included */
    int any = 0, c;
    l->len = 0;
    l->digits = 1;
    while ((c = getchar()) != EOF && c != '\n') {
        any = 1;
        if (seen == 0 && is_space(c))
            continue;
        if (seen < QUOTED)
            l->head[seen] = (char)c;
        seen++;
        if (is_space(c))
            continue;
        /* Spaces inside the line are part of it, and not digits. */
        if (l->len != seen - 1 || !isdigit(c))
            l->digits = 0;
        l->len = seen;
        /* Not a guess, and all the message will quote is known: no need to
         * read the rest of an endless line. */
        if (!l->digits && l->len >= QUOTED)
            return 1;
    }
    if (l->len == 0)
        l->digits = 0;
    return any || c == '\n';
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s INPUT ANSWER FEEDBACK_DIR\n", argv[0]);
        return FAILED;
    }
    feedback_dir = argv[3];

    FILE *in = fopen(argv[1], "r");
    if (!in)
        fail("cannot open the input file", argv[1]);
    long long hidden;
    if (fscanf(in, "%lld", &hidden) != 1 || hidden < 1 || hidden > MAX_VALUE) {
        fprintf(stderr, "validator_kattis: the input file %s must hold one integer in [1, %lld]\n",
                argv[1], MAX_VALUE);
        return FAILED;
    }
    fclose(in);

    /* A program that has already ended must not kill us with SIGPIPE (that
     * would be our crash, a JE): let writes fail and the next read see EOF. */
    signal(SIGPIPE, SIG_IGN);

    char message[256], text[4 * QUOTED + 3];
    struct line line;
    for (int queries = 0;;) {
        if (!read_line(&line)) {
            snprintf(message, sizeof message, "unexpected end of file after %d queries", queries);
            finish(WA, message);
        }
        queries++;
        size_t shown = line.len < QUOTED ? line.len : QUOTED;
        if (!line.digits) {
            quote(text, line.head, shown);
            snprintf(message, sizeof message, "expected a guess (an integer), got %s", text);
            finish(WA, message);
        }
        /* More than 10 digits is out of range whatever they are (leading
         * zeros included), as in the Python one. */
        long long guess = MAX_VALUE + 1;
        if (line.len <= 10) {
            guess = 0;
            for (size_t i = 0; i < line.len; i++)
                guess = guess * 10 + (line.head[i] - '0');
        }
        if (guess < 1 || guess > MAX_VALUE) {
            snprintf(message, sizeof message, "guess %.*s is outside [1, %lld]", (int)shown,
                     line.head, MAX_VALUE);
            finish(WA, message);
        }
        if (queries > MAX_QUERIES) {
            snprintf(message, sizeof message,
                     "too many queries: guess number %d (%lld), only %d are allowed", queries,
                     guess, MAX_QUERIES);
            finish(WA, message);
        }
        if (guess == hidden) {
            send("correct");
            snprintf(message, sizeof message, "found %lld in %d queries", hidden, queries);
            finish(AC, message);
        }
        send(guess < hidden ? "higher" : "lower");
    }
}
