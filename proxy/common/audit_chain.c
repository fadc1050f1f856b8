/*
 * audit_chain.c: the audit log's records and their chain (audit_chain.h).
 *
 * A record's mac is HMAC-SHA256 (OpenSSL's HMAC()) over the record without
 * "mac", serialised by jansson with JSON_COMPACT | JSON_SORT_KEYS; the line
 * is the same serialisation with "mac". A reader therefore accepts a line
 * only when it is exactly that serialisation (any other spelling of the
 * same JSON is an edit), and recomputes the mac from the parsed object.
 *
 * Everything here is a pure function over buffers: the gateway writes with
 * audit_record_make(), pixelgatectl reads files into memory and walks them
 * with audit_verify_files(). Lines are hostile input: they are capped at
 * AUDIT_LINE_MAX before parsing, NUL bytes and duplicate keys are refused,
 * and nothing from a line reaches an explanation except numbers.
 */
#include "audit_chain.h"

#include <limits.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define AUDIT_TS_LEN 24 /* "2026-11-26T03:04:05.678Z" */

/* A parsed line: the object (owned) and its chain fields (pointing into it). */
struct audit_rec {
	json_t *o;
	const char *ts;
	uint64_t seq;
	const char *prev;
	const char *mac;
};

static void audit_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

static void audit_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *audit_problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_OK:
		return "ok";
	case AUDIT_NOT_JSON:
		return "not a record";
	case AUDIT_MISSING_FIELD:
		return "missing field";
	case AUDIT_CHANGED:
		return "changed";
	case AUDIT_WRONG_KEY:
		return "wrong key";
	case AUDIT_DELETED:
		return "deleted";
	case AUDIT_INSERTED:
		return "inserted";
	case AUDIT_REORDERED:
		return "reordered";
	case AUDIT_TRUNCATED:
		return "truncated";
	}
	return "unknown";
}

/* HMAC-SHA256(key, data) as 64 lower-case hex in out. 0 or -1. */
static int audit_hmac_hex(const char *data, size_t len, const uint8_t *key, size_t keylen,
			  char out[AUDIT_MAC_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const uint8_t nokey = 0;
	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key != NULL ? key : &nokey, (int)keylen, (const unsigned char *)data,
		 len, md, &mdlen) == NULL ||
	    mdlen * 2 != AUDIT_MAC_HEX)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[AUDIT_MAC_HEX] = '\0';
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

/* Exactly AUDIT_MAC_HEX lower-case hex digits. */
static bool audit_is_mac(const char *s)
{
	size_t i;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == AUDIT_MAC_HEX;
}

/* What a record may hold besides its chain fields. */
static bool audit_is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_integer(v) || json_is_boolean(v);
}

int audit_format_ts(int64_t unix_ms, char *out, size_t outlen)
{
	struct tm tm;
	if (out == NULL || outlen < AUDIT_TS_LEN + 1 || unix_ms < 0)
		return -1;
	time_t t = (time_t)(unix_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(unix_ms % 1000));
	return 0;
}

/* n decimal digits at *p into *v, advancing *p. 0 or -1. */
static int audit_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		*v = *v * 10 + (c - '0');
	}
	*p += n;
	return 0;
}

/* The time part after the date: hh:mm[:ss[.fraction]][zone]. 0 or -1. */
static int audit_parse_clock(const char *p, struct tm *tm, struct audit_time *t, int *oh, int *om)
{
	if (audit_digits(&p, 2, &tm->tm_hour) || *p++ != ':' || audit_digits(&p, 2, &tm->tm_min))
		return -1;
	t->has_time = true;
	if (*p == ':') {
		p++;
		if (audit_digits(&p, 2, &tm->tm_sec))
			return -1;
		t->has_sec = true;
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, t->frac_digits++)
				if (t->frac_digits < 3)
					t->ms = t->ms * 10 + (*p - '0');
			if (t->frac_digits == 0 || t->frac_digits > 9)
				return -1;
			for (int d = t->frac_digits; d < 3; d++)
				t->ms *= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		t->has_zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '+' ? 1 : -1;
		t->has_zone = true;
		if (audit_digits(&p, 2, oh) || *p++ != ':' || audit_digits(&p, 2, om))
			return -1;
		*oh *= sign;
		*om *= sign;
	}
	return *p == '\0' ? 0 : -1;
}

int audit_parse_time(const char *text, struct audit_time *t)
{
	const char *p = text;
	struct tm tm, back;
	int oh = 0, om = 0;
	time_t s;

	memset(t, 0, sizeof *t);
	memset(&tm, 0, sizeof tm);
	if (text == NULL || audit_digits(&p, 4, &tm.tm_year) || *p++ != '-' ||
	    audit_digits(&p, 2, &tm.tm_mon) || *p++ != '-' || audit_digits(&p, 2, &tm.tm_mday))
		return AUDIT_TIME_SYNTAX;
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return AUDIT_TIME_SYNTAX;
		if (audit_parse_clock(p + 1, &tm, t, &oh, &om) != 0)
			return AUDIT_TIME_SYNTAX;
	}
	int y = tm.tm_year, mo = tm.tm_mon, d = tm.tm_mday, h = tm.tm_hour, mi = tm.tm_min,
	    sec = tm.tm_sec;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 ||
	    abs(oh) > 23 || abs(om) > 59)
		return AUDIT_TIME_NO_SUCH;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (t->has_zone) {
		s = timegm(&tm);
		if (s == (time_t)-1 || gmtime_r(&s, &back) == NULL)
			return AUDIT_TIME_NO_SUCH;
	} else {
		tm.tm_isdst = -1;
		s = mktime(&tm);
		if (s == (time_t)-1 || localtime_r(&s, &back) == NULL)
			return AUDIT_TIME_NO_SUCH;
	}
	/* 2026-02-30 comes back as March; a local time skipped by DST moves too. */
	if (back.tm_year != y - 1900 || back.tm_mon != mo - 1 || back.tm_mday != d ||
	    back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
		return AUDIT_TIME_NO_SUCH;
	t->unix_s = (int64_t)s - (oh * 3600 + om * 60);
	return AUDIT_TIME_OK;
}

int audit_parse_ts(const char *ts, int64_t *unix_ms)
{
	struct audit_time t;
	/* exactly audit_format_ts()'s form: T, seconds, 3 digits of fraction, Z */
	if (ts == NULL || strlen(ts) != AUDIT_TS_LEN || ts[10] != 'T' || ts[23] != 'Z' ||
	    audit_parse_time(ts, &t) != AUDIT_TIME_OK || t.frac_digits != 3)
		return -1;
	if (unix_ms != NULL)
		*unix_ms = t.unix_s * 1000 + t.ms;
	return 0;
}

char *audit_record_make(json_t *fields, const char *ts, uint64_t seq, const char *prev,
			const uint8_t *key, size_t keylen, char mac_out[AUDIT_MAC_HEX + 1])
{
	const char *k;
	json_t *v, *rec = NULL;
	char *c = NULL, *line = NULL, mac[AUDIT_MAC_HEX + 1];

	if (!json_is_object(fields) || ts == NULL || prev == NULL || key == NULL ||
	    keylen < AUDIT_KEY_MIN || seq == 0 || seq > (uint64_t)INT64_MAX ||
	    audit_parse_ts(ts, NULL) != 0 || (prev[0] != '\0' && !audit_is_mac(prev)) ||
	    (seq == 1) != (prev[0] == '\0'))
		return NULL;
	json_object_foreach(fields, k, v) {
		if (!audit_is_scalar(v))
			return NULL;
	}
	v = json_object_get(fields, "event");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	/* A shallow copy: the values are scalars and are not modified. */
	if ((rec = json_copy(fields)) == NULL)
		return NULL;
	json_object_del(rec, "mac");
	if (json_object_set_new(rec, "ts", json_string(ts)) != 0 ||
	    json_object_set_new(rec, "seq", json_integer((json_int_t)seq)) != 0 ||
	    json_object_set_new(rec, "prev", json_string(prev)) != 0)
		goto fail;
	if ((c = json_dumps(rec, AUDIT_DUMP_FLAGS)) == NULL ||
	    audit_hmac_hex(c, strlen(c), key, keylen, mac) != 0 ||
	    json_object_set_new(rec, "mac", json_string(mac)) != 0 ||
	    (line = json_dumps(rec, AUDIT_DUMP_FLAGS)) == NULL)
		goto fail;
	if (strlen(line) > AUDIT_LINE_MAX)
		goto fail;
	if (mac_out != NULL)
		memcpy(mac_out, mac, sizeof mac);
	free(c);
	json_decref(rec);
	return line;
fail:
	free(line);
	free(c);
	json_decref(rec);
	return NULL;
}

/*
 * Parse one line into r (r->o owned by the caller on AUDIT_OK): a JSON object
 * within AUDIT_LINE_MAX, no NUL, no duplicate key, with ts/seq/event/prev/mac
 * of the right form and only scalar values. AUDIT_NOT_JSON or
 * AUDIT_MISSING_FIELD with why otherwise.
 */
static enum audit_problem audit_rec_parse(const char *line, size_t len, struct audit_rec *r,
					  char *why, size_t whylen)
{
	json_error_t jerr;
	const char *k;
	json_t *v;
	const char *nul;

	memset(r, 0, sizeof *r);
	if (len > AUDIT_LINE_MAX) {
		audit_why(why, whylen, "a line of %zu bytes (at most %d)", len, AUDIT_LINE_MAX);
		return AUDIT_NOT_JSON;
	}
	if (len > 0 && (nul = memchr(line, '\0', len)) != NULL) {
		audit_why(why, whylen, "a NUL byte at column %zu", (size_t)(nul - line) + 1);
		return AUDIT_NOT_JSON;
	}
	r->o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->o == NULL) {
		audit_why(why, whylen, "not JSON (at column %d)", jerr.position + 1);
		return AUDIT_NOT_JSON;
	}
	if (!json_is_object(r->o)) {
		audit_why(why, whylen, "not a JSON object");
		goto not_json;
	}
	json_object_foreach(r->o, k, v) {
		if (!audit_is_scalar(v)) {
			audit_why(why, whylen, "a field is not a string, integer or boolean");
			goto missing;
		}
	}
	v = json_object_get(r->o, "ts");
	if (!json_is_string(v) || audit_parse_ts(json_string_value(v), NULL) != 0) {
		audit_why(why, whylen, "no \"ts\" of the form 2026-11-26T03:04:05.678Z");
		goto missing;
	}
	r->ts = json_string_value(v);
	v = json_object_get(r->o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		audit_why(why, whylen, "no \"seq\" (an integer from 1)");
		goto missing;
	}
	r->seq = (uint64_t)json_integer_value(v);
	v = json_object_get(r->o, "event");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		audit_why(why, whylen, "no \"event\" (a non-empty string)");
		goto missing;
	}
	v = json_object_get(r->o, "prev");
	if (!json_is_string(v) ||
	    (json_string_length(v) != 0 && !audit_is_mac(json_string_value(v)))) {
		audit_why(why, whylen, "no \"prev\" (\"\" or 64 lower-case hex digits)");
		goto missing;
	}
	r->prev = json_string_value(v);
	v = json_object_get(r->o, "mac");
	if (!json_is_string(v) || !audit_is_mac(json_string_value(v))) {
		audit_why(why, whylen, "no \"mac\" (64 lower-case hex digits)");
		goto missing;
	}
	r->mac = json_string_value(v);
	static const char *const strings[] = { "user", "client", "session" };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		v = json_object_get(r->o, strings[i]);
		if (v != NULL && !json_is_string(v)) {
			audit_why(why, whylen, "\"%s\" is not a string", strings[i]);
			goto missing;
		}
	}
	return AUDIT_OK;
missing:
	json_decref(r->o);
	r->o = NULL;
	return AUDIT_MISSING_FIELD;
not_json:
	json_decref(r->o);
	r->o = NULL;
	return AUDIT_NOT_JSON;
}

/* 1 if r's mac is the HMAC of r without "mac" under key, 0 if not, -1 on error. */
static int audit_rec_mac_matches(const struct audit_rec *r, const uint8_t *key, size_t keylen)
{
	char mac[AUDIT_MAC_HEX + 1], *c;
	json_t *copy = json_copy(r->o);
	int rc = -1;
	if (copy == NULL)
		return -1;
	json_object_del(copy, "mac");
	c = json_dumps(copy, AUDIT_DUMP_FLAGS);
	json_decref(copy);
	if (c == NULL)
		return -1;
	if (audit_hmac_hex(c, strlen(c), key, keylen, mac) == 0)
		rc = CRYPTO_memcmp(mac, r->mac, AUDIT_MAC_HEX) == 0;
	free(c);
	return rc;
}

/* Whether line is exactly the writer's serialisation of r. */
static bool audit_rec_canonical(const struct audit_rec *r, const char *line, size_t len)
{
	char *s = json_dumps(r->o, AUDIT_DUMP_FLAGS);
	bool same = s != NULL && strlen(s) == len && memcmp(s, line, len) == 0;
	free(s);
	return same;
}

bool audit_mac_ok(const char *line, size_t len, const uint8_t *key, size_t keylen)
{
	struct audit_rec r;
	bool ok;
	if (line == NULL || audit_rec_parse(line, len, &r, NULL, 0) != AUDIT_OK)
		return false;
	ok = audit_rec_mac_matches(&r, key, keylen) == 1 && audit_rec_canonical(&r, line, len);
	json_decref(r.o);
	return ok;
}

void audit_verify_init(struct audit_verify *v)
{
	memset(v, 0, sizeof *v);
}

enum audit_problem audit_verify_line(struct audit_verify *v, const char *line, size_t len,
				     bool complete, const uint8_t *key, size_t keylen, char *why,
				     size_t whylen)
{
	struct audit_rec r;
	enum audit_problem p;
	int m;

	audit_why(why, whylen, "%s", "");
	if (!complete) {
		audit_why(why, whylen, "the last line ends without a newline after %zu bytes", len);
		return AUDIT_TRUNCATED;
	}
	if (line == NULL && len > 0)
		return AUDIT_NOT_JSON;
	if ((p = audit_rec_parse(line != NULL ? line : "", len, &r, why, whylen)) != AUDIT_OK)
		return p;
	m = audit_rec_mac_matches(&r, key, keylen);
	if (m != 1) {
		p = v->any_mac_ok ? AUDIT_CHANGED : AUDIT_WRONG_KEY;
		if (p == AUDIT_WRONG_KEY)
			audit_why(why, whylen,
				  "the first record (seq %" PRIu64
				  ") does not verify with this key",
				  r.seq);
		else
			audit_why(why, whylen, "the mac does not match the record's content");
		goto done;
	}
	v->any_mac_ok = true;
	if (!audit_rec_canonical(&r, line, len)) {
		audit_why(why, whylen, "the text was altered (not as the gateway wrote it)");
		p = AUDIT_CHANGED;
		goto done;
	}
	if (v->records == 0) {
		/* The walk may start anywhere; seq 1 (and only it) starts the chain. */
		if ((r.seq == 1) != (r.prev[0] == '\0')) {
			audit_why(why, whylen, "seq %" PRIu64 " with %s prev", r.seq,
				  r.seq == 1 ? "a" : "an empty");
			p = AUDIT_INSERTED;
			goto done;
		}
	} else if (r.seq == v->last_seq + 1) {
		if (strcmp(r.prev, v->last_mac) != 0) {
			audit_why(why, whylen,
				  "seq %" PRIu64 " verifies but does not chain to seq %" PRIu64,
				  r.seq, v->last_seq);
			p = AUDIT_INSERTED;
			goto done;
		}
	} else if (r.seq == v->last_seq) {
		audit_why(why, whylen, "seq %" PRIu64 " repeats", r.seq);
		p = AUDIT_INSERTED;
		goto done;
	} else if (r.seq < v->last_seq) {
		audit_why(why, whylen, "seq %" PRIu64 " follows seq %" PRIu64, r.seq, v->last_seq);
		p = AUDIT_REORDERED;
		goto done;
	} else {
		uint64_t gap = r.seq - v->last_seq - 1;
		audit_why(why, whylen,
			  "seq %" PRIu64 " follows seq %" PRIu64 ": %" PRIu64 " record%s missing",
			  r.seq, v->last_seq, gap, gap == 1 ? "" : "s");
		p = AUDIT_DELETED;
		goto done;
	}
	if (v->records == 0)
		snprintf(v->first_ts, sizeof v->first_ts, "%s", r.ts);
	snprintf(v->last_ts, sizeof v->last_ts, "%s", r.ts);
	memcpy(v->last_mac, r.mac, AUDIT_MAC_HEX + 1);
	v->last_seq = r.seq;
	v->records++;
	p = AUDIT_OK;
done:
	json_decref(r.o);
	return p;
}

json_t *audit_record_parse(const char *line, size_t len)
{
	struct audit_rec r;
	if (line == NULL || audit_rec_parse(line, len, &r, NULL, 0) != AUDIT_OK)
		return NULL;
	return r.o;
}

int audit_head_parse(const char *text, size_t len, struct audit_head *h)
{
	struct audit_rec r;
	char buf[128];
	memset(h, 0, sizeof *h);
	if (text == NULL)
		return -1;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[0] == '{') {
		if (audit_rec_parse(text, len, &r, NULL, 0) != AUDIT_OK)
			return -1;
		h->seq = r.seq;
		memcpy(h->mac, r.mac, AUDIT_MAC_HEX + 1);
		json_decref(r.o);
		return 0;
	}
	if (len == 0 || len >= sizeof buf || memchr(text, '\0', len) != NULL)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	const char *sp = strchr(buf, ' ');
	if (sp == NULL || sp == buf || sp - buf > 19)
		return -1;
	uint64_t seq = 0;
	for (const char *p = buf; p < sp; p++) {
		if (*p < '0' || *p > '9' || seq > (UINT64_MAX - 9) / 10)
			return -1;
		seq = seq * 10 + (uint64_t)(*p - '0');
	}
	if (seq == 0 || seq > (uint64_t)INT64_MAX || !audit_is_mac(sp + 1))
		return -1;
	h->seq = seq;
	memcpy(h->mac, sp + 1, AUDIT_MAC_HEX + 1);
	return 0;
}

/* A position in the lines of a walk. */
struct audit_cursor {
	const struct audit_file *files;
	size_t nfiles;
	size_t file;
	size_t off;
	uint64_t line;
};

/* One line of a walk. */
struct audit_line {
	const char *p;
	size_t len;
	bool complete; /* a newline ended it */
	size_t file;
	uint64_t line;
};

/* The next line at c into l, advancing c. false at the end of the last file. */
static bool audit_cursor_next(struct audit_cursor *c, struct audit_line *l)
{
	while (c->file < c->nfiles) {
		const struct audit_file *f = &c->files[c->file];
		if (f->data == NULL || c->off >= f->len) {
			c->file++;
			c->off = 0;
			c->line = 0;
			continue;
		}
		const char *s = f->data + c->off;
		size_t rest = f->len - c->off;
		const char *nl = memchr(s, '\n', rest);
		l->p = s;
		l->len = nl != NULL ? (size_t)(nl - s) : rest;
		l->complete = nl != NULL;
		c->off += l->len + (nl != NULL);
		l->file = c->file;
		l->line = ++c->line;
		return true;
	}
	return false;
}

/* A whole line that is a record with a matching mac, parsed into r (caller frees r->o). */
static bool audit_line_verified(const struct audit_line *l, const uint8_t *key, size_t keylen,
				struct audit_rec *r)
{
	if (!l->complete || audit_rec_parse(l->p, l->len, r, NULL, 0) != AUDIT_OK)
		return false;
	if (audit_rec_mac_matches(r, key, keylen) == 1)
		return true;
	json_decref(r->o);
	r->o = NULL;
	return false;
}

/* The seq a line claims, verified or not; 0 if none. */
static uint64_t audit_line_seq(const struct audit_line *l)
{
	uint64_t seq = 0;
	if (!l->complete || l->len > AUDIT_LINE_MAX || memchr(l->p, '\0', l->len) != NULL)
		return 0;
	json_t *o = json_loadb(l->p, l->len, JSON_REJECT_DUPLICATES, NULL);
	json_t *s = json_object_get(o, "seq");
	if (json_is_integer(s) && json_integer_value(s) > 0)
		seq = (uint64_t)json_integer_value(s);
	json_decref(o);
	return seq;
}

/*
 * Search the lines from c on for a verified record: with mac `mac` (when not
 * NULL), or with seq `seq` chaining to prev. Skips the line at (skip_file,
 * skip_line). The found line's position in *found.
 */
static bool audit_find(struct audit_cursor c, const char *mac, uint64_t seq, const char *prev,
		       size_t skip_file, uint64_t skip_line, const uint8_t *key, size_t keylen,
		       struct audit_line *found)
{
	struct audit_line l;
	struct audit_rec r;
	while (audit_cursor_next(&c, &l)) {
		if (l.file == skip_file && l.line == skip_line)
			continue;
		if (!audit_line_verified(&l, key, keylen, &r))
			continue;
		bool hit = mac != NULL ? strcmp(r.mac, mac) == 0
				       : r.seq == seq && strcmp(r.prev, prev) == 0;
		json_decref(r.o);
		if (hit) {
			*found = l;
			return true;
		}
	}
	return false;
}

static const char *audit_file_name(const struct audit_file *files, size_t i)
{
	return files[i].name != NULL ? files[i].name : "(input)";
}

/*
 * Refine the first problem p found at line l (cursor `after` just past it,
 * `start` at the first line of the walk), per audit_verify_files().
 */
static enum audit_problem audit_refine(enum audit_problem p, const struct audit_line *l,
				       struct audit_cursor start, struct audit_cursor after,
				       const struct audit_verify *v, const uint8_t *key,
				       size_t keylen, char *why, size_t whylen)
{
	struct audit_rec r;
	struct audit_line other, next;
	uint64_t want_seq = v->records == 0 ? 1 : v->last_seq + 1;
	const char *want_prev = v->records == 0 ? "" : v->last_mac;

	if (p == AUDIT_WRONG_KEY || p == AUDIT_CHANGED) {
		struct audit_cursor c = after;
		bool has_next = audit_cursor_next(&c, &next);
		if (has_next && audit_line_verified(&next, key, keylen, &r)) {
			bool chains = r.seq == want_seq && strcmp(r.prev, want_prev) == 0;
			json_decref(r.o);
			if (chains) {
				audit_why(why, whylen,
					  "a record that does not verify, and the next one chains "
					  "as seq %" PRIu64 ": a forged record was put in",
					  want_seq);
				return AUDIT_INSERTED;
			}
			if (p == AUDIT_WRONG_KEY) {
				audit_why(why, whylen,
					  "the mac does not match the record's content (the next "
					  "record verifies, so the key is right)");
				return AUDIT_CHANGED;
			}
			return p;
		}
		if (p == AUDIT_WRONG_KEY) {
			struct audit_rec nr;
			bool next_is_record = has_next && next.complete &&
			    audit_rec_parse(next.p, next.len, &nr, NULL, 0) == AUDIT_OK;
			if (next_is_record)
				json_decref(nr.o);
			if (!has_next) {
				audit_why(why, whylen,
					  "the only record does not verify with this key (the key "
					  "is wrong, or the record was changed)");
				return AUDIT_WRONG_KEY;
			}
			if (next_is_record) {
				audit_why(why, whylen,
					  "neither the first record nor the next verifies with "
					  "this key");
				return AUDIT_WRONG_KEY;
			}
			audit_why(why, whylen,
				  "the first record does not verify with this key and the next "
				  "line is not a record");
			return AUDIT_CHANGED;
		}
		return p;
	}
	if (p != AUDIT_DELETED && p != AUDIT_INSERTED && p != AUDIT_REORDERED)
		return p;
	if (!audit_line_verified(l, key, keylen, &r))
		return p;
	/* The same record twice: a copy was put in. */
	if (audit_find(start, r.mac, 0, NULL, l->file, l->line, key, keylen, &other)) {
		audit_why(why, whylen, "seq %" PRIu64 " is a copy of the record at %s:%" PRIu64,
			  r.seq, audit_file_name(start.files, other.file), other.line);
		json_decref(r.o);
		return AUDIT_INSERTED;
	}
	if (p == AUDIT_DELETED &&
	    audit_find(after, NULL, want_seq, want_prev, SIZE_MAX, 0, key, keylen, &other)) {
		audit_why(why, whylen,
			  "seq %" PRIu64 " comes before seq %" PRIu64 ", which is at %s:%" PRIu64,
			  r.seq, want_seq, audit_file_name(start.files, other.file), other.line);
		json_decref(r.o);
		return AUDIT_REORDERED;
	}
	json_decref(r.o);
	return p;
}

enum audit_problem audit_verify_files(const struct audit_file *files, size_t nfiles,
				      const uint8_t *key, size_t keylen, bool from_start,
				      const struct audit_head *head, struct audit_verify *v,
				      struct audit_where *where, char *why, size_t whylen)
{
	struct audit_cursor start = { .files = files, .nfiles = files != NULL ? nfiles : 0 };
	struct audit_cursor c = start;
	struct audit_line l;
	enum audit_problem p;

	audit_verify_init(v);
	memset(where, 0, sizeof *where);
	audit_why(why, whylen, "%s", "");
	while (audit_cursor_next(&c, &l)) {
		where->file = l.file;
		where->line = l.line;
		where->seq = audit_line_seq(&l);
		if (from_start && v->records == 0 && l.complete) {
			struct audit_rec r;
			if (audit_line_verified(&l, key, keylen, &r)) {
				uint64_t seq = r.seq;
				json_decref(r.o);
				if (seq != 1) {
					audit_why(why, whylen,
						  "the first record is seq %" PRIu64 ": %" PRIu64
						  " record%s missing before it",
						  seq, seq - 1, seq == 2 ? "" : "s");
					return audit_refine(AUDIT_DELETED, &l, start, c, v, key,
							    keylen, why, whylen);
				}
			}
		}
		p = audit_verify_line(v, l.p, l.len, l.complete, key, keylen, why, whylen);
		if (p != AUDIT_OK)
			return audit_refine(p, &l, start, c, v, key, keylen, why, whylen);
		if (head != NULL && v->last_seq == head->seq &&
		    strcmp(v->last_mac, head->mac) != 0) {
			audit_why(why, whylen,
				  "seq %" PRIu64 " is not the record the head names: the log was "
				  "rewritten",
				  v->last_seq);
			return AUDIT_CHANGED;
		}
	}
	if (head != NULL && v->last_seq < head->seq) {
		uint64_t gap = head->seq - v->last_seq;
		audit_why(why, whylen,
			  "the log ends at seq %" PRIu64 " but the head is seq %" PRIu64
			  ": %" PRIu64 " record%s missing at the end",
			  v->last_seq, head->seq, gap, gap == 1 ? "" : "s");
		return AUDIT_TRUNCATED;
	}
	return AUDIT_OK;
}
