/*
 * support.c: see support.h. Replaces proxy/common/log.c in the
 * fuzz targets that compile a daemon's own files.
 */
#include "support.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool fuzz_log_one_line;
const char *fuzz_log_secret;
unsigned long fuzz_log_lines;

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	abort();
}

bool fuzz_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

bool fuzz_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

void log_init(const char *procname, enum log_level min_level)
{
	(void)procname;
	(void)min_level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };
	static int show = -1;
	char line[2048];
	FUZZ_CHECK(level >= LOG_LEVEL_DEBUG && level <= LOG_LEVEL_ERROR);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	FUZZ_CHECK(n >= 0);
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	fuzz_log_lines++;
	if (fuzz_log_one_line) {
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)line[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				fprintf(stderr, "log line with byte 0x%02x at %zu: %.200s\n", ch, i,
					line);
				FUZZ_CHECK(!"a log line holds a control character");
			}
		}
	}
	if (fuzz_log_secret != NULL && strstr(line, fuzz_log_secret) != NULL) {
		fprintf(stderr, "log line with the secret: %.200s\n", line);
		FUZZ_CHECK(!"a log line holds a password");
	}
	if (show < 0) {
		const char *env = getenv("FUZZ_LOG");
		show = env != NULL && strcmp(env, "1") == 0;
	}
	if (show)
		fprintf(stderr, "log %s: %s\n", names[level], line);
}

#define FUZZ_LOG_FN(name, level)          \
	void name(const char *fmt, ...)   \
	{                                 \
		va_list ap;               \
		va_start(ap, fmt);        \
		log_vmsg(level, fmt, ap); \
		va_end(ap);               \
	}
FUZZ_LOG_FN(log_debug, LOG_LEVEL_DEBUG)
FUZZ_LOG_FN(log_info, LOG_LEVEL_INFO)
FUZZ_LOG_FN(log_warn, LOG_LEVEL_WARN)
FUZZ_LOG_FN(log_error, LOG_LEVEL_ERROR)

/* fatal() is for start-up and broken invariants: reached from fuzz input, a finding. */
void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
