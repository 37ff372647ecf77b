/*
 * "Guess the number" as a responder module (ABI version 1): the same rules
 * and messages as examples/guess-number/interactor.c, the testlib
 * interactor, so that the three ways of judging the problem agree.
 *
 *   native:  gcc -shared -fPIC -O2 -I responders/include -o guess_number.so guess_number.c
 *   wasm:    clang --target=wasm32 -nostdlib -O2 -I responders/include -Wl,--no-entry
 *                  -Wl,--export-dynamic -o guess_number.wasm guess_number.c
 *
 * --input holds the hidden number. The program guesses one integer per
 * line; we answer "higher", "lower" or "correct". A guess outside
 * [1, 10^9] or a 31st guess is WA, a line that is not an integer (or the
 * program stopping before it found the number) is PE.
 *
 * Written without the C library, so that it builds for bare wasm32 too.
 */
#include "judge_responder.h"

#define MAX_QUERIES 30
#define MAX_VALUE 1000000000LL
#define LINE_MAX_BYTES 64

struct game {
    long long hidden;
    int queries;
    char line[LINE_MAX_BYTES];
    int line_len;
    char message[160];
    uint8_t out[32 * 8]; /* answers to the lines of one chunk */
    size_t out_len;
    struct judge_reply reply;
};

#ifdef __wasm__
/* One instance per session: a static state is the module's own. */
static struct game the_game;
/* Chunks (64 KiB at most) are copied here; judge_new's arguments, input and
 * answer together may be larger (--input can be 1 GiB): memory grows for them. */
static unsigned char scratch[1 << 16];
static struct game *new_game(void) { return &the_game; }
static void free_game(struct game *g) { (void)g; }
JUDGE_EXPORT void *judge_buffer(size_t len)
{
    if (len <= sizeof scratch)
        return scratch;
    size_t old_pages = __builtin_wasm_memory_grow(0, len / 65536 + 1);
    return old_pages == (size_t)-1 ? 0 : (void *)(old_pages * 65536);
}
#else
#include <stdlib.h>
/* Sessions may run side by side in one judge process: one state each. A
 * native host passes its own memory: no judge_buffer. */
static struct game *new_game(void) { return calloc(1, sizeof(struct game)); }
static void free_game(struct game *g) { free(g); }
#endif

JUDGE_EXPORT uint32_t judge_abi_version(void) { return JUDGE_ABI_VERSION; }

/* --- a few lines of what the C library would give --- */

static int append(char *dst, int at, int cap, const char *s)
{
    while (*s && at < cap - 1)
        dst[at++] = *s++;
    dst[at] = '\0';
    return at;
}

static int append_int(char *dst, int at, int cap, long long v)
{
    char digits[24];
    int n = 0;
    unsigned long long u = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0 && at < cap - 1)
        dst[at++] = '-';
    while (n && at < cap - 1)
        dst[at++] = digits[--n];
    dst[at] = '\0';
    return at;
}

/* --- replies --- */

static const struct judge_reply *say(struct game *g, const char *text)
{
    int n = 0;
    while (text[n])
        n++;
    g->reply = (struct judge_reply){ .send = (const uint8_t *)text, .send_len = (size_t)n };
    return &g->reply;
}

static const struct judge_reply *verdict(struct game *g, uint32_t v, int len)
{
    g->reply = (struct judge_reply){ .verdict = v, .message = g->message,
                                     .message_len = (size_t)len };
    return &g->reply;
}

/* --- the game --- */

static int parse_guess(const char *s, long long *value)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int negative = *s == '-';
    if (negative)
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    long long v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        if (v <= MAX_VALUE)
            v = v * 10 + (*s - '0');
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    if (*s != '\0')
        return 0;
    *value = negative ? -v : v;
    return 1;
}

/* One complete line (without its newline): an answer, a verdict, or NULL
 * for "nothing to say". */
static const struct judge_reply *judge_line(struct game *g)
{
    char *m = g->message;
    int cap = sizeof g->message, n;
    g->queries++;
    long long guess;
    int ok = parse_guess(g->line, &guess);
    int len = g->line_len;
    while (len > 0 && g->line[len - 1] == '\r')
        g->line[--len] = '\0';
    if (!ok) {
        n = append(m, 0, cap, "expected a guess (an integer), got \"");
        n = append(m, n, cap, g->line);
        n = append(m, n, cap, "\"");
        return verdict(g, JUDGE_PE, n);
    }
    if (guess < 1 || guess > MAX_VALUE) {
        n = append(m, 0, cap, "guess \"");
        n = append(m, n, cap, g->line);
        n = append(m, n, cap, "\" is outside [1, 1000000000]");
        return verdict(g, JUDGE_WA, n);
    }
    if (g->queries > MAX_QUERIES) {
        n = append(m, 0, cap, "too many queries: guess number ");
        n = append_int(m, n, cap, g->queries);
        n = append(m, n, cap, " (");
        n = append_int(m, n, cap, guess);
        n = append(m, n, cap, "), only 30 are allowed");
        return verdict(g, JUDGE_WA, n);
    }
    if (guess == g->hidden) {
        n = append(m, 0, cap, "found ");
        n = append_int(m, n, cap, g->hidden);
        n = append(m, n, cap, " in ");
        n = append_int(m, n, cap, g->queries);
        n = append(m, n, cap, " queries");
        g->reply = (struct judge_reply){ .send = (const uint8_t *)"correct\n", .send_len = 8,
                                         .verdict = JUDGE_AC, .message = m,
                                         .message_len = (size_t)n };
        return &g->reply;
    }
    return say(g, guess < g->hidden ? "higher\n" : "lower\n");
}

JUDGE_EXPORT void *judge_new(const uint8_t *args, size_t args_len, const uint8_t *input,
                             size_t input_len, const uint8_t *answer, size_t answer_len)
{
    (void)args, (void)args_len, (void)answer, (void)answer_len;
    long long hidden = 0;
    size_t i = 0;
    while (i < input_len && (input[i] == ' ' || input[i] == '\n' || input[i] == '\t'))
        i++;
    size_t start = i;
    for (; i < input_len && input[i] >= '0' && input[i] <= '9' && hidden <= MAX_VALUE; i++)
        hidden = hidden * 10 + (input[i] - '0');
    if (i == start || hidden < 1 || hidden > MAX_VALUE)
        return 0; /* a bad test is our failure, not the program's */
    struct game *g = new_game();
    if (!g)
        return 0;
    g->hidden = hidden;
    g->queries = 0;
    g->line_len = 0;
    return g;
}

JUDGE_EXPORT const struct judge_reply *judge_start(void *state)
{
    (void)state;
    return 0; /* the program speaks first */
}

JUDGE_EXPORT const struct judge_reply *judge_on_output(void *state, uint32_t stream,
                                                       const uint8_t *bytes, size_t len)
{
    struct game *g = state;
    if (stream != JUDGE_STDOUT)
        return 0;
    /* A chunk may hold part of a line or several lines: answer every
     * complete one, in order, in one reply, and stop at a verdict. */
    g->out_len = 0;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] != '\n') {
            if (g->line_len >= LINE_MAX_BYTES - 2) {
                int n = append(g->message, 0, sizeof g->message,
                               "a line of more than 62 bytes is not a guess");
                return verdict(g, JUDGE_PE, n);
            }
            g->line[g->line_len++] = (char)bytes[i];
            continue;
        }
        g->line[g->line_len] = '\0';
        const struct judge_reply *r = judge_line(g);
        g->line_len = 0;
        for (size_t k = 0; k < r->send_len && g->out_len < sizeof g->out; k++)
            g->out[g->out_len++] = r->send[k];
        if (r->verdict != JUDGE_CONTINUE)
            break;
    }
    g->reply.send = g->out;
    g->reply.send_len = g->out_len;
    return &g->reply;
}

JUDGE_EXPORT const struct judge_reply *judge_on_exit(void *state, int32_t exit_code,
                                                     int32_t signal)
{
    struct game *g = state;
    (void)exit_code, (void)signal;
    int n = append(g->message, 0, sizeof g->message, "unexpected end of file after ");
    n = append_int(g->message, n, sizeof g->message, g->queries);
    n = append(g->message, n, sizeof g->message,
               " queries: the program stopped guessing before it found the number");
    return verdict(g, JUDGE_PE, n);
}

JUDGE_EXPORT void judge_free(void *state) { free_game(state); }
