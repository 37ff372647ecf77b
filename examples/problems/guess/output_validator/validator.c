/*
 * Interactive output validator for "Guess the Number" (Kattis convention).
 *
 *     validator input_file answer_file feedback_dir/ [args...]
 *
 * input_file holds the secret number. Our stdin is the program's stdout and
 * our stdout is the program's stdin. Exit 42 accepts, 43 rejects, with a
 * one-line reason in feedback_dir/judgemessage.txt. Anything else (exit 1)
 * is the validator's own failure, a judge error.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOWEST 1
#define HIGHEST 1000
#define MAX_GUESSES 10

#define ACCEPT 42
#define REJECT 43

static char message_path[4096];

/* Write the judge message and exit with the given code. */
static void finish(int code, const char *format, ...) {
    FILE *f = fopen(message_path, "w");
    if (f) {
        va_list args;
        va_start(args, format);
        vfprintf(f, format, args);
        va_end(args);
        fputc('\n', f);
        fclose(f);
    }
    exit(code);
}

/* Send one line to the program. Returns 0, or -1 if it has gone (EPIPE). */
static int reply(const char *word) {
    if (printf("%s\n", word) < 0 || fflush(stdout) != 0)
        return -1;
    return 0;
}

/* Parse a whole line as one integer (surrounding spaces allowed): 0 if it is
 * one, -1 if it is not, -2 if it is one too large for a long. */
static int parse_guess(const char *line, long *value) {
    char *end;
    errno = 0;
    *value = strtol(line, &end, 10);
    if (end == line)
        return -1;
    int overflow = errno == ERANGE;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end != '\0')
        return -1;
    return overflow ? -2 : 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s input_file answer_file feedback_dir [args...]\n", argv[0]);
        return 1;
    }
    /* A program that has quit must cost us an EPIPE, not our life. */
    signal(SIGPIPE, SIG_IGN);

    size_t dir_len = strlen(argv[3]);
    const char *slash = (dir_len > 0 && argv[3][dir_len - 1] == '/') ? "" : "/";
    if (snprintf(message_path, sizeof message_path, "%s%sjudgemessage.txt", argv[3], slash)
        >= (int)sizeof message_path) {
        fprintf(stderr, "feedback directory path too long\n");
        return 1;
    }

    FILE *input = fopen(argv[1], "r");
    long secret;
    if (!input || fscanf(input, "%ld", &secret) != 1 || secret < LOWEST || secret > HIGHEST) {
        fprintf(stderr, "cannot read a secret number in [%d, %d] from %s\n", LOWEST, HIGHEST, argv[1]);
        return 1;
    }
    fclose(input);

    char line[256];
    for (int guesses = 1;; guesses++) {
        if (!fgets(line, sizeof line, stdin))
            finish(REJECT, "the program ended after %d guesses without finding the number", guesses - 1);
        if (!strchr(line, '\n') && !feof(stdin))
            finish(REJECT, "guess %d: line too long", guesses);

        long guess;
        int parsed = parse_guess(line, &guess);
        line[strcspn(line, "\r\n")] = '\0';
        if (parsed == -1)
            finish(REJECT, "guess %d: \"%.40s\" is not an integer", guesses, line);
        if (parsed == -2)
            finish(REJECT, "guess %d: %.40s is outside [%d, %d]", guesses, line, LOWEST, HIGHEST);
        if (guess < LOWEST || guess > HIGHEST)
            finish(REJECT, "guess %d: %ld is outside [%d, %d]", guesses, guess, LOWEST, HIGHEST);
        if (guesses > MAX_GUESSES)
            finish(REJECT, "more than %d guesses", MAX_GUESSES);

        if (guess == secret) {
            /* The number is found: a program that leaves without reading
             * this last reply is still right, so a failed write is ignored. */
            reply("correct");
            int c;
            while ((c = getchar()) != EOF)
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
                    finish(REJECT, "the program wrote more after \"correct\"");
            finish(ACCEPT, "guessed %ld in %d guesses", secret, guesses);
        }
        if (reply(guess > secret ? "lower" : "higher") != 0)
            finish(REJECT, "the program quit after guess %d without finding the number", guesses);
    }
}
