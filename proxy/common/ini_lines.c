/*
 * ini_lines.c: libinih fed by one reader that counts and checks lines
 * (ini_lines.h).
 */
#include "ini_lines.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <string.h>

static void ini_vfail(struct ini_lines *r, int line, const char *fmt, va_list ap)
{
	char msg[384];
	if (r->failed)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	snprintf(r->err, r->errlen, "%s:%d: %s", r->name, line, msg);
	r->failed = true;
	r->fail_line = line;
}

void ini_fail(struct ini_lines *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ini_vfail(r, r->lineno, fmt, ap);
	va_end(ap);
}

void ini_fail_at(struct ini_lines *r, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ini_vfail(r, line, fmt, ap);
	va_end(ap);
}

/* The next byte of the text, or EOF (a read error in r->read_error). */
static int ini_getc(struct ini_lines *r)
{
	if (r->f == NULL)
		return r->pos < r->len ? (unsigned char)r->text[r->pos++] : EOF;
	errno = 0;
	int ch = getc(r->f);
	if (ch == EOF && ferror(r->f))
		r->read_error = errno ? errno : EIO;
	return ch;
}

/* What is wrong with the n bytes of line s (with its "\n", if any), or NULL. */
static const char *ini_line_bytes(const char *s, size_t n)
{
	size_t end = n;
	if (end > 0 && s[end - 1] == '\n')
		end--;
	if (end > 0 && s[end - 1] == '\r')
		end--;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\0')
			return "NUL byte in the line";
		if (i < end && ((ch < 0x20 && ch != '\t') || ch == 0x7f))
			return "control character in the line";
	}
	return NULL;
}

/* A section header: nothing after it but a comment, and the only section there
   is if the file has one. (libinih reports a header without its ']'.) */
static void ini_check_section(struct ini_lines *r, const char *s, size_t n)
{
	const char *end = s + n;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s != '[')
		return;
	r->last_key[0] = '\0';
	const char *close = memchr(s, ']', (size_t)(end - s));
	if (close == NULL)
		return;
	size_t sl = (size_t)(close - s - 1);
	const char *after = close + 1;
	while (after < end && (*after == ' ' || *after == '\t' || *after == '\r' || *after == '\n'))
		after++;
	if (after < end && *after != ';' && *after != '#')
		ini_fail(r, "text after the section header [%.*s]", (int)(sl > 64 ? 64 : sl), s + 1);
	else if (r->only_section != NULL &&
		 (sl != strlen(r->only_section) || memcmp(s + 1, r->only_section, sl) != 0))
		ini_fail(r, "unknown section [%.*s]; the only section is [%s]",
			 (int)(sl > 64 ? 64 : sl), s + 1, r->only_section);
}

/* libinih's reader (fgets' contract): one whole line into str (num bytes with the NUL). */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_lines *r = stream;
	size_t n = 0;
	r->max_line = num;
	if (r->failed || r->too_long || r->read_error || num < 2)
		return NULL;
	if (r->f == NULL && r->pos == 0 && r->len >= 3 && memcmp(r->text, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3; /* a UTF-8 byte order mark (Windows Notepad) */
	for (;;) {
		int ch = ini_getc(r);
		if (ch == EOF)
			break;
		if (n == (size_t)num - 1) {
			/* no room left and the line goes on */
			r->too_long = true;
			r->lineno++;
			return NULL;
		}
		str[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (r->read_error || n == 0)
		return NULL;
	str[n] = '\0';
	r->lineno++;
	const char *bad = ini_line_bytes(str, n);
	if (bad != NULL) {
		ini_fail(r, "%s", bad);
		return NULL;
	}
	r->indented = str[0] == ' ' || str[0] == '\t';
	ini_check_section(r, str, n);
	return str;
}

struct ini_call {
	struct ini_lines *r;
	ini_lines_fn fn;
};

static int ini_lines_handle(struct ini_call *c, const char *section, const char *key, const char *value)
{
	struct ini_lines *r = c->r;
	if (r->failed)
		return 0;
	/* libinih hands an indented line over as more of the value above */
	if (r->indented && r->last_key[0] != '\0' && strcmp(key, r->last_key) == 0) {
		ini_fail(r,
			 "the line starts with a space, so it would continue the value of %s "
			 "above; remove the spaces",
			 key);
		return 0;
	}
	snprintf(r->last_key, sizeof r->last_key, "%s", key);
	c->fn(r, section, key, value);
	return !r->failed;
}

/* libinih's handler, whichever signature this build of the library uses. */
#if INI_HANDLER_LINENO
static int ini_lines_handler(void *user, const char *section, const char *key, const char *value,
		       int lineno)
{
	(void)lineno; /* equals the reader's count, which every build has */
	return ini_lines_handle(user, section, key, value);
}
#else
static int ini_lines_handler(void *user, const char *section, const char *key, const char *value)
{
	return ini_lines_handle(user, section, key, value);
}
#endif

int ini_lines_parse(struct ini_lines *r, ini_lines_fn fn)
{
	struct ini_call call = { r, fn };
	int rc = ini_parse_stream(ini_read_line, r, ini_lines_handler, &call);
	if (rc > 0 && (!r->failed || rc < r->fail_line)) {
		snprintf(r->err, r->errlen, "%s:%d: syntax error (expected %s)", r->name, rc,
			 r->syntax != NULL ? r->syntax : "[section] or key = value");
		return -1;
	}
	if (r->failed)
		return -1;
	if (r->read_error) {
		snprintf(r->err, r->errlen, "%s:%d: cannot read: %s", r->name, r->lineno + 1,
			 strerror(r->read_error));
		return -1;
	}
	if (r->too_long) {
		ini_fail(r, "line too long (at most %d characters)", r->max_line - 2);
		return -1;
	}
	if (rc < 0) {
		snprintf(r->err, r->errlen, "%s: out of memory while parsing", r->name);
		return -1;
	}
	return 0;
}
