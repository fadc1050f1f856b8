/*
 * node_limits.c: the table of session limits, its text and JSON parsers
 * (config file, `limits set`, PATCH /api/v1/limits) and the overrides file
 * in the state directory.
 *
 * Everything here is a pure function over its arguments except
 * limits_save_overrides() and limits_load_overrides(), which touch the file.
 * Messages never echo raw outside bytes: a field name or a parser message
 * taken from the input is reduced to printable ASCII first, so it can go
 * into a log line or a JSON answer as it is.
 */
#include "node_limits.h"

#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ZERO_OFF: 0 turns the limit off; ZERO_VALUE: 0 is a value like any other */
#define ZERO_OFF true
#define ZERO_VALUE false
#define LIMIT(field, lo, hi, d, zero, help)                                   \
	{                                                                     \
#field, offsetof(struct limits, field), lo, hi, d, zero, help \
	}

static const struct limits_key limits_keys[] = {
	LIMIT(max_sessions, 0, 10000, 0, ZERO_OFF, "sessions on this node; 0 = no limit"),
	LIMIT(max_sessions_per_user, 1, 100, 1, ZERO_VALUE,
	      "sessions one user may hold at the same time"),
	LIMIT(idle_timeout_s, 0, 86400, 1800, ZERO_OFF,
	      "seconds without input from the viewer before the session ends; 0 = never"),
	LIMIT(max_session_s, 0, 604800, 0, ZERO_OFF,
	      "seconds a session may last in all; 0 = no limit"),
	LIMIT(reconnect_grace_s, 0, 86400, 120, ZERO_VALUE,
	      "seconds a session without a viewer stays alive for a reconnect"),
	LIMIT(max_fps, 0, 240, 0, ZERO_OFF,
	      "screen updates per second sent to one viewer; 0 = no limit"),
	LIMIT(max_kbps, 0, 10000000, 0, ZERO_OFF,
	      "kilobits per second sent to one viewer; 0 = no limit"),
	LIMIT(login_max_failures, 0, 1000, 5, ZERO_OFF,
	      "failed logins of a user or from an address before a lockout; 0 = never lock"),
	LIMIT(login_lockout_s, 1, 86400, 300, ZERO_VALUE,
	      "seconds a user or an address stays locked out"),
	LIMIT(login_rate_per_s, 0, 10000, 5, ZERO_OFF,
	      "staff logins per second from one client address, valid ones too; 0 = no limit"),
	LIMIT(login_burst, 1, 10000, 20, ZERO_VALUE,
	      "staff logins one client address may make at once before login_rate_per_s applies"),
	LIMIT(admin_rate_per_s, 0, 10000, 10, ZERO_OFF,
	      "admin API requests per second from one client address; 0 = no limit"),
	LIMIT(
	    admin_burst, 1, 10000, 60, ZERO_VALUE,
	    "admin API requests one client address may make at once before admin_rate_per_s applies"),
};

#define LIMITS_N (sizeof limits_keys / sizeof limits_keys[0])

/* Largest overrides file accepted (it holds a dozen small integers). */
#define LIMITS_FILE_MAX 65536

/* How much of an unknown field name is quoted back. */
#define LIMITS_NAME_QUOTE 64

const struct limits_key *limits_table(size_t *n)
{
	*n = LIMITS_N;
	return limits_keys;
}

static int *limits_field(struct limits *l, const struct limits_key *k)
{
	return (int *)((char *)l + k->offset);
}

static int limits_get(const struct limits *l, const struct limits_key *k)
{
	return *(const int *)((const char *)l + k->offset);
}

void limits_defaults(struct limits *l)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < LIMITS_N; i++)
		*limits_field(l, &limits_keys[i]) = limits_keys[i].def;
}

const struct limits_key *limits_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < LIMITS_N; i++)
		if (strcmp(limits_keys[i].name, name) == 0)
			return &limits_keys[i];
	return NULL;
}

/*
 * Copy at most max bytes of s into dst (dstlen bytes with the NUL), each
 * byte outside printable ASCII replaced by '?', "..." appended when cut.
 */
static void limits_quote(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t n = 0, i = 0;
	if (dstlen == 0)
		return;
	for (; s[i] != '\0' && i < max && n + 1 < dstlen; i++)
		dst[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[n] = '\0';
	if (s[i] != '\0' && dstlen > 3) {
		/* Cut: say so, over the last three bytes if there is no room after. */
		size_t at = n + 3 <= dstlen - 1 ? n : dstlen - 4;
		memcpy(dst + at, "...", 4);
	}
}

/* Parse a whole decimal integer: optional '-', then digits, nothing else. */
static int limits_parse_int(const char *s, long long *out)
{
	const char *p = s;
	long long v = 0;
	int neg = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1; /* far out of every range anyway */
		v = v * 10 + (*p - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

int limits_set_text(struct limits *l, const char *name, const char *value, char *err, size_t errlen)
{
	char quoted[LIMITS_NAME_QUOTE + 4];
	const struct limits_key *k = limits_find(name);
	long long v;
	if (k == NULL) {
		limits_quote(quoted, sizeof quoted, name ? name : "", LIMITS_NAME_QUOTE);
		snprintf(err, errlen, "%s: unknown limit", quoted);
		return -1;
	}
	if (value == NULL || limits_parse_int(value, &v) != 0 || v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: must be an integer between %d and %d", k->name, k->min,
			 k->max);
		return -1;
	}
	*limits_field(l, k) = (int)v;
	return 0;
}

/* "NAME must be an integer between MIN and MAX": the API's message. */
static void limits_range_message(const struct limits_key *k, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s must be an integer between %d and %d", k->name, k->min, k->max);
}

/*
 * Apply the parsed object o to l, all or nothing. On error: field (may be
 * "") and err; returns -1.
 */
static int limits_apply_object(struct limits *l, json_t *o, char *field, size_t fieldlen, char *err,
			       size_t errlen)
{
	struct limits next = *l;
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		const struct limits_key *k = limits_find(key);
		if (k == NULL) {
			char quoted[LIMITS_NAME_QUOTE + 4];
			limits_quote(quoted, sizeof quoted, key, LIMITS_NAME_QUOTE);
			limits_quote(field, fieldlen, key, LIMITS_NAME_QUOTE);
			snprintf(err, errlen, "unknown limit \"%s\"", quoted);
			return -1;
		}
		/* json_is_integer: not true/false, not 1.0, not "5". */
		if (!json_is_integer(v) || json_integer_value(v) < k->min ||
		    json_integer_value(v) > k->max) {
			limits_quote(field, fieldlen, k->name, LIMITS_NAME_QUOTE);
			limits_range_message(k, err, errlen);
			return -1;
		}
		*limits_field(&next, k) = (int)json_integer_value(v);
	}
	*l = next;
	return 0;
}

/*
 * Parse json as an object of limits and apply it to l (all or nothing).
 * what names the input in messages ("body", or a file's path).
 */
static int limits_apply_json(struct limits *l, const char *json, size_t len, const char *what,
			     char *field, size_t fieldlen, char *err, size_t errlen)
{
	json_error_t jerr;
	char text[sizeof jerr.text];
	if (fieldlen > 0)
		field[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';
	if (json == NULL) {
		snprintf(err, errlen, "%s is empty", what);
		return -1;
	}
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		/* jansson quotes the input ("near '...'"): keep it printable. */
		limits_quote(text, sizeof text, jerr.text, sizeof text);
		snprintf(err, errlen, "%s is not valid JSON: %s (line %d, column %d)", what, text,
			 jerr.line, jerr.column);
		return -1;
	}
	int rc = -1;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s must be a JSON object of limits", what);
		goto out;
	}
	rc = limits_apply_object(l, o, field, fieldlen, err, errlen);
out:
	json_decref(o);
	return rc;
}

/* "name old->new, ..." for every limit that differs between a and b. */
static void limits_diff(const struct limits *a, const struct limits *b, char *out, size_t outlen)
{
	size_t used = 0;
	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < LIMITS_N; i++) {
		int x = limits_get(a, &limits_keys[i]), y = limits_get(b, &limits_keys[i]);
		if (x == y)
			continue;
		int n = snprintf(out + used, outlen - used, "%s%s %d->%d", used ? ", " : "",
				 limits_keys[i].name, x, y);
		if (n < 0 || (size_t)n >= outlen - used) {
			out[used] = '\0'; /* no room: whole entries only */
			return;
		}
		used += (size_t)n;
	}
}

int limits_patch_json(struct limits *l, const char *json, size_t len, char *field, size_t fieldlen,
		      char *err, size_t errlen, char *changes, size_t changeslen)
{
	struct limits next = *l;
	if (changeslen > 0)
		changes[0] = '\0';
	if (limits_apply_json(&next, json, len, "body", field, fieldlen, err, errlen) != 0)
		return -1;
	limits_diff(l, &next, changes, changeslen);
	*l = next;
	return 0;
}

/* The limits of cur that differ from base (all of them if base is NULL), as an object. */
static json_t *limits_object(const struct limits *base, const struct limits *cur)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < LIMITS_N; i++) {
		const struct limits_key *k = &limits_keys[i];
		if (base != NULL && limits_get(base, k) == limits_get(cur, k))
			continue;
		if (json_object_set_new(o, k->name, json_integer(limits_get(cur, k))) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

char *limits_to_json(const struct limits *l)
{
	json_t *o = limits_object(NULL, l);
	if (o == NULL)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int limits_save_overrides(const struct limits *base, const struct limits *cur, const char *path,
			  char *err, size_t errlen)
{
	char *text = NULL;
	int rc = -1;
	json_t *o = limits_object(base, cur);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
	} else {
		size_t n = strlen(text);
		text[n] = '\n'; /* json_dumps' NUL: the file ends with a new line */
		rc = file_write_atomic(path, text, n + 1, err, errlen);
	}
	free(text);
	json_decref(o);
	return rc;
}

int limits_load_overrides(struct limits *l, const char *path, char *err, size_t errlen)
{
	char field[LIMITS_NAME_QUOTE + 4], msg[512];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* no overrides yet */
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s: mode %04o lets group or others change the limits; run chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_size > LIMITS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, LIMITS_FILE_MAX);
		goto fail;
	}
	buf = malloc(LIMITS_FILE_MAX + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, LIMITS_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIMITS_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes", path, LIMITS_FILE_MAX);
			goto fail;
		}
	}
	struct limits next = *l;
	if (limits_apply_json(&next, buf, len, "file", field, sizeof field, msg, sizeof msg) != 0) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto fail;
	}
	*l = next;
	free(buf);
	close(fd);
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}
