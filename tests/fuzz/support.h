/*
 * support.h: what the fuzz targets that compile a daemon's own .c files
 * share (support.c): the log functions of proxy/common/log.h, which
 * format every line (so a bad format argument is found) and then drop it,
 * and FUZZ_CHECK, an invariant that aborts with its place and text.
 *
 * Set FUZZ_LOG=1 in the environment to see the lines on stderr.
 */
#ifndef PIXELGATE_FUZZ_SUPPORT_H
#define PIXELGATE_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#define FUZZ_CHECK(cond)                                      \
	do {                                                  \
		if (!(cond))                                  \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

/* Print "file:line: invariant failed: what" and abort(). */
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/*
 * Whether a log line must be one line of text: no byte below 0x20 but TAB,
 * no DEL. On for the gateway's files (its log is the host's journal, where a
 * newline from a client would forge a line); the worker's lines reach the
 * journal through the privileged parent, which prefixes and cleans each one.
 */
extern bool fuzz_log_one_line;

/* A secret no log line may hold (a password), or NULL. */
extern const char *fuzz_log_secret;

/* Lines formatted since the start (all levels). */
extern unsigned long fuzz_log_lines;

/* True if s[0 .. len) holds no byte below 0x20 and no DEL. */
bool fuzz_printable(const char *s, size_t len);

/* True if s[0 .. len) is valid UTF-8 (no overlong form, no surrogate, <= U+10FFFF). */
bool fuzz_utf8_valid(const char *s, size_t len);

#endif
