/*
 * fuzz_limits.c: libFuzzer target for proxy/common/node_limits.c, the parser
 * of PATCH /api/v1/limits bodies (and of `limits set KEY=VALUE` text).
 *
 * Input byte 0 picks the size of the caller's field/err/changes buffers
 * (to exercise truncation), byte 1 the limit the text parser is given; the
 * rest is the body. Invariants, each an abort() when broken:
 *  - a refused body changes no limit; its message is non-empty;
 *  - an accepted body leaves every limit within its bounds, and "changes" is
 *    empty exactly when nothing changed (with room enough to say it);
 *  - field, err and changes are NUL-terminated within their buffers and
 *    printable ASCII (they go into logs and JSON answers as they are);
 *  - small buffers give the same verdict and the same limits as large ones;
 *  - limits_to_json() of the result parses back as a PATCH changing nothing;
 *  - limits_set_text() accepts the body as text only if it is in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node_limits.h"

#define BIG 1024

/* Terminated within len and printable ASCII; else abort. */
static void check_text(const char *s, size_t len)
{
	const char *end = memchr(s, '\0', len);
	if (len > 0 && end == NULL)
		abort();
	for (const char *p = s; p < end; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

static void check_bounds(const struct limits *l)
{
	size_t n;
	const struct limits_key *t = limits_table(&n);
	for (size_t i = 0; i < n; i++) {
		int v = *(const int *)((const char *)l + t[i].offset);
		if (v < t[i].min || v > t[i].max)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 0, 1, 2, 4, 8, 16, 40, 80 };
	if (size < 2)
		return 0;
	size_t small = sizes[data[0] % (sizeof sizes / sizeof sizes[0])];
	size_t key = data[1];
	const char *body = (const char *)data + 2;
	size_t len = size - 2;

	struct limits before, big_l, small_l;
	limits_defaults(&before);
	if (data[0] & 0x80) {
		before.max_sessions = 3;
		before.max_fps = 240;
	}
	big_l = small_l = before;

	char field[BIG], err[BIG], changes[BIG];
	memset(field, 0xff, sizeof field);
	memset(err, 0xff, sizeof err);
	memset(changes, 0xff, sizeof changes);
	int rc = limits_patch_json(&big_l, body, len, field, sizeof field, err, sizeof err, changes,
				   sizeof changes);
	check_text(field, sizeof field);
	check_text(err, sizeof err);
	check_text(changes, sizeof changes);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		if (memcmp(&big_l, &before, sizeof before) != 0 || err[0] == '\0' ||
		    changes[0] != '\0')
			abort();
	} else {
		check_bounds(&big_l);
		int same = memcmp(&big_l, &before, sizeof before) == 0;
		if (same != (changes[0] == '\0'))
			abort();
	}

	/* The same call with small buffers: same verdict, same limits. */
	char *sf = malloc(small ? small : 1), *se = malloc(small ? small : 1),
	     *sc = malloc(small ? small : 1);
	if (sf == NULL || se == NULL || sc == NULL)
		abort();
	memset(sf, 0xff, small ? small : 1);
	memset(se, 0xff, small ? small : 1);
	memset(sc, 0xff, small ? small : 1);
	int rc2 = limits_patch_json(&small_l, body, len, sf, small, se, small, sc, small);
	if (rc2 != rc || memcmp(&small_l, &big_l, sizeof big_l) != 0)
		abort();
	if (small > 0) {
		check_text(sf, small);
		check_text(se, small);
		check_text(sc, small);
	}
	free(sf);
	free(se);
	free(sc);

	/* Round trip through the GET answer. */
	char *json = limits_to_json(&big_l);
	if (json == NULL)
		abort();
	struct limits again = big_l;
	if (limits_patch_json(&again, json, strlen(json), field, sizeof field, err, sizeof err,
			      changes, sizeof changes) != 0 ||
	    changes[0] != '\0' || memcmp(&again, &big_l, sizeof again) != 0)
		abort();
	free(json);

	/* The same bytes as `limits set NAME=VALUE` text. */
	size_t n;
	const struct limits_key *t = limits_table(&n);
	char *text = malloc(len + 1);
	if (text == NULL)
		abort();
	memcpy(text, body, len);
	text[len] = '\0';
	struct limits tl = before;
	const char *name = key < n ? t[key].name : text; /* else: the bytes as a name */
	rc = limits_set_text(&tl, name, text, err, sizeof err);
	check_text(err, sizeof err);
	if (rc == 0)
		check_bounds(&tl);
	else if (memcmp(&tl, &before, sizeof tl) != 0)
		abort();
	free(text);
	return 0;
}
