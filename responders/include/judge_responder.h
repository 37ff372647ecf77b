/*
 * judge responder ABI, version 1.
 *
 * A responder answers the program under test: the judge hands it every
 * chunk of the program's output and writes what it replies to the
 * program's stdin; at the end it gives a verdict. The same source builds
 * two ways:
 *
 *   native plugin:  gcc -shared -fPIC -O2 -o guess.so guess.c
 *                   judge run --responder native:./guess.so -- ./solution
 *   WebAssembly:    clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry
 *                         -Wl,--export-dynamic -o guess.wasm guess.c
 *                   judge run --responder wasm:./guess.wasm -- ./solution
 *
 * The module exports the functions below and imports nothing; a
 * WebAssembly module also exports its linear memory, named "memory" (the
 * linker does so by default). The judge calls them from one thread, one
 * session at a time per state:
 *
 *   judge_abi_version()            checked at load: must be JUDGE_ABI_VERSION
 *   state = judge_new(...)         once per session (NULL: the responder failed)
 *   judge_start(state)             once, before any of the program's output
 *                                  is delivered (it may be running already);
 *                                  a verdict here ends the session
 *   judge_on_output(state, ...)    for each chunk, until a reply has a verdict
 *   judge_on_exit(state, ...)      once the program has exited and all its
 *                                  output was delivered (unless a verdict came
 *                                  earlier); must give a verdict (bytes it
 *                                  sends too are dropped: nobody reads them)
 *   judge_free(state)              always, last (also after a failed call)
 *
 * Every call returns a reply (NULL means "nothing to say"). Its memory
 * belongs to the responder and must stay valid until the next call (the
 * judge reads it before anything else happens, so a reply may also point
 * into the bytes the call was given: an echo sends them back as they are). Output
 * chunks are cut wherever the pipe delivered them, and at JUDGE_CHUNK_MAX
 * bytes: a line may arrive in pieces, or several lines in one chunk.
 *
 * WebAssembly hosts cannot pass their own pointers: they ask for memory with
 * judge_buffer(n) (one region of at least n bytes, which the responder may
 * reuse for the next call) and copy the arguments of judge_new (args, input
 * and answer, in that order, in one region: n is their lengths summed, as
 * large as --input, up to 1 GiB) and each chunk (at most JUDGE_CHUNK_MAX)
 * into it. NULL (no region that large) ends the session with JE. A native
 * host passes its own memory and never calls judge_buffer, so a native
 * plugin need not define it. Either way, the bytes are valid only during
 * the call: copy what you keep.
 *
 * A responder cannot learn that the program stopped reading its stdin: what
 * it sends is queued, and dropped when the program ends.
 *
 * Bare wasm32 (no C library): clang -O2 turns fill and copy loops into calls
 * to memset and memcpy; define them in the module, hidden (see
 * docs/responder-abi.md), or the link fails.
 *
 * Limits (see docs/responder-abi.md): the bytes a responder sends in all
 * count against --responder-output-limit, and one reply sends at most 64 MiB;
 * a reply's message is cut at 4 KiB;
 * a WebAssembly responder has --responder-memory-limit of linear memory and
 * --responder-time-limit of time inside its calls, and past either the
 * session ends with JE. A reply the judge cannot read (an unknown verdict,
 * a pointer outside the module's memory) is JE too.
 */
#ifndef JUDGE_RESPONDER_H
#define JUDGE_RESPONDER_H

#include <stddef.h>
#include <stdint.h>

#define JUDGE_ABI_VERSION 1u

/* The largest chunk judge_on_output receives. */
#define JUDGE_CHUNK_MAX 65536u

/* Which of the program's streams a chunk came from. */
#define JUDGE_STDOUT 1u
#define JUDGE_STDERR 2u

/* A reply's verdict. CONTINUE: no verdict yet, keep talking. */
#define JUDGE_CONTINUE 0u
#define JUDGE_AC 1u /* accepted */
#define JUDGE_WA 2u /* wrong answer */
#define JUDGE_PE 3u /* presentation error: output not in the expected format */
#define JUDGE_FAIL 4u /* the responder itself failed (JE, never the program's fault) */

/* Reply flags. */
#define JUDGE_CLOSE_STDIN 1u /* close the program's stdin after `send` */
#define JUDGE_POINTS 2u /* `points` holds a score (with JUDGE_AC) */

struct judge_reply {
    const uint8_t *send; /* bytes for the program's stdin */
    size_t send_len;
    const char *message; /* one sentence: why (UTF-8, not NUL-terminated) */
    size_t message_len;
    uint32_t verdict; /* JUDGE_CONTINUE, JUDGE_AC, ... */
    uint32_t flags; /* JUDGE_CLOSE_STDIN | JUDGE_POINTS */
    double points;
};

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)
#define JUDGE_EXPORT __attribute__((visibility("default"), used))
#else
#define JUDGE_EXPORT __attribute__((visibility("default")))
#endif

JUDGE_EXPORT uint32_t judge_abi_version(void);

/* WebAssembly only; a native plugin need not define it. */
JUDGE_EXPORT void *judge_buffer(size_t len);

/* `args`: the words after the module's path in --responder (split as a POSIX
 * shell splits them: quotes and backslashes, no expansions), each followed
 * by a NUL byte. `input` and `answer`: the contents of --input and --answer
 * (empty when not given). */
JUDGE_EXPORT void *judge_new(const uint8_t *args, size_t args_len,
                             const uint8_t *input, size_t input_len,
                             const uint8_t *answer, size_t answer_len);

JUDGE_EXPORT const struct judge_reply *judge_start(void *state);

/* `stream`: JUDGE_STDOUT or JUDGE_STDERR. */
JUDGE_EXPORT const struct judge_reply *judge_on_output(void *state, uint32_t stream,
                                                       const uint8_t *bytes, size_t len);

/* `exit_code`: the program's exit status, or -1 when a signal ended it
 * (`signal` is then its number, else 0). */
JUDGE_EXPORT const struct judge_reply *judge_on_exit(void *state, int32_t exit_code,
                                                     int32_t signal);

JUDGE_EXPORT void judge_free(void *state);

#ifdef __cplusplus
}
#endif

#endif
