/*
 * ini_lines.h: how every INI file of pixelgate is read (pixelgate.conf,
 * viewer.conf, pixelgatectl.conf): libinih, fed by one reader of ours.
 *
 * The reader counts lines (Debian's libinih passes no line number to the
 * handler), hands over whole lines only (a line longer than the parser's
 * buffer is an error, not a value and a second "line" made of its tail),
 * refuses a NUL byte or a control character other than a tab (and a CR
 * before the line's end) with its line, refuses an indented line that
 * libinih would take as the continuation of the value above, and text after
 * a section header, and, given the one section a file may have, refuses
 * another at its header's line. The
 * first error wins, as "name:line: message"; libinih reads on after a
 * syntax error, so whichever came first is reported.
 */
#ifndef PIXELGATE_INI_LINES_H
#define PIXELGATE_INI_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ini_lines;

/* One key = value in section ("" before any header). 0 to go on; after
   ini_fail() the parse fails whatever is returned. */
typedef int (*ini_lines_fn)(struct ini_lines *r, const char *section, const char *key,
			    const char *value);

struct ini_lines {
	/* set by the caller */
	const char *name;         /* the file, in messages */
	char *err;                /* "name:line: message" */
	size_t errlen;
	FILE *f;                  /* the text: a stream ... */
	const char *text;         /* ... or len bytes (a UTF-8 BOM first is skipped) */
	size_t len;
	const char *only_section; /* the one section allowed, or NULL (the handler checks) */
	const char *syntax;       /* what a line should be, e.g. "[viewer] or key = value" */
	void *user;               /* the caller's own state */
	/* the reader's */
	size_t pos;
	int lineno;    /* the line last handed over, 1-based */
	int max_line;  /* libinih's buffer, bytes with the NUL */
	int read_error;
	bool too_long;
	bool indented; /* the current line starts with a space or tab */
	char last_key[64]; /* the key of the last key line in this section, "" if none */
	bool failed;
	int fail_line;
};

/* Record "name:line: message" at the current line unless an error is there already. */
void ini_fail(struct ini_lines *r, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
/* The same at line. */
void ini_fail_at(struct ini_lines *r, int line, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

/* Parse r's text through fn. 0, or -1 with r->err set. */
int ini_lines_parse(struct ini_lines *r, ini_lines_fn fn);

#endif
