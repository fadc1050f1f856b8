/*
 * ctl_audit_text.c: pure helpers of `pixelgatectl audit` (ctl_audit_text.h):
 * time arguments, filters, record details and session summaries.
 */
#include "ctl_audit_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_chain.h"
#include "ctl_args.h"
#include "ctl_format.h"

int ctl_audit_parse_time(const char *text, int64_t *unix_ms, char *err, size_t errlen)
{
	static const char hint[] =
	    "use 2026-11-26 09:00, 2026-11-26T09:00 or RFC 3339 like 2026-11-26T00:00:00Z";
	struct audit_time t;

	if (text == NULL)
		return ctl_fail(err, errlen, "no time given (%s)", hint);
	switch (audit_parse_time(text, &t)) {
	case AUDIT_TIME_OK:
		break;
	case AUDIT_TIME_NO_SUCH:
		return ctl_fail(err, errlen, "\"%s\": no such %s", text,
				t.has_zone ? "date or time" : "date or local time");
	default:
		return ctl_fail(err, errlen, "\"%s\": not a time (%s)", text, hint);
	}
	if (t.unix_s < 0)
		return ctl_fail(err, errlen, "\"%s\": before 1970", text);
	*unix_ms = t.unix_s * 1000 + t.ms;
	return 0;
}

/* Whether name is one of the comma-separated names in list. */
static bool ctl_audit_in_list(const char *name, const char *list)
{
	size_t n = strlen(name);
	const char *p = list;
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return true;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

/* needle in haystack, ASCII case ignored; an empty needle is found everywhere. */
static bool ctl_audit_contains(const char *haystack, const char *needle)
{
	size_t n = strlen(needle), len = strlen(haystack);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(haystack + i, needle, n) == 0)
			return true;
	return false;
}

static const char *ctl_audit_str(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool ctl_audit_match(const struct ctl_audit_filter *f, const json_t *rec)
{
	const char *s;
	int64_t ms;
	if (!json_is_object(rec))
		return false;
	if (f->user != NULL &&
	    ((s = ctl_audit_str(rec, "user")) == NULL || strcmp(s, f->user) != 0))
		return false;
	if (f->session != NULL &&
	    ((s = ctl_audit_str(rec, "session")) == NULL || strcmp(s, f->session) != 0))
		return false;
	if (f->event != NULL &&
	    ((s = ctl_audit_str(rec, "event")) == NULL || !ctl_audit_in_list(s, f->event)))
		return false;
	if (f->url_contains != NULL &&
	    ((s = ctl_audit_str(rec, "url")) == NULL || !ctl_audit_contains(s, f->url_contains)))
		return false;
	if (f->since_set || f->until_set) {
		if (audit_parse_ts(ctl_audit_str(rec, "ts"), &ms) != 0)
			return false;
		if (f->since_set && ms < f->since_ms)
			return false;
		if (f->until_set && ms >= f->until_ms)
			return false;
	}
	return true;
}

/* Fields that are columns or chain, never details. */
static bool ctl_audit_is_column(const char *key)
{
	static const char *const cols[] = { "ts",     "seq",     "event", "user",
					    "client", "session", "prev",  "mac" };
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (strcmp(key, cols[i]) == 0)
			return true;
	return false;
}

/* Append "key=value" for one field to out (used so far: *used). */
static void ctl_audit_append(char *out, size_t outlen, size_t *used, const char *key,
			     const json_t *v)
{
	char val[64];
	const char *text = val;
	if (json_is_string(v))
		text = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(val, sizeof val, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(val, sizeof val, "%s", json_is_true(v) ? "true" : "false");
	else
		return;
	if (*used >= outlen)
		return;
	int n = snprintf(out + *used, outlen - *used, "%s%s=%s", *used > 0 ? " " : "", key, text);
	if (n < 0)
		return;
	*used += (size_t)n < outlen - *used ? (size_t)n : outlen - *used - 1;
}

void ctl_audit_details(const json_t *rec, char *out, size_t outlen)
{
	static const char *const first[] = { "url", "title", "filename", "reason", "what" };
	size_t used = 0;
	const char *key;
	json_t *v;
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (!json_is_object(rec))
		return;
	for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
		if ((v = json_object_get(rec, first[i])) != NULL)
			ctl_audit_append(out, outlen, &used, first[i], v);
	/* the rest by name */
	const char **keys = malloc(json_object_size(rec) * sizeof *keys + 1);
	size_t n = 0;
	if (keys == NULL)
		return;
	json_object_foreach((json_t *)rec, key, v) {
		bool seen = ctl_audit_is_column(key);
		for (size_t i = 0; i < sizeof first / sizeof first[0] && !seen; i++)
			seen = strcmp(key, first[i]) == 0;
		if (!seen)
			keys[n++] = key;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			const char *tmp = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		ctl_audit_append(out, outlen, &used, keys[i], json_object_get(rec, keys[i]));
	free(keys);
}

void ctl_audit_local(const char *ts, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (ts == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	if (ctl_local_time(ts, out, outlen) != 0)
		snprintf(out, outlen, "%s", ts);
}

/* A string field for a table cell: NULL (shown "-") when missing or empty. */
static const char *ctl_audit_cell(const json_t *rec, const char *key)
{
	const char *s = ctl_audit_str(rec, key);
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int ctl_audit_print_records(json_t *const *recs, size_t n, FILE *out)
{
	static const char *const headers[] = { "TIME",    "USER",  "CLIENT",
					       "SESSION", "EVENT", "DETAILS" };
	static const bool right[] = { false, false, false, false, false, false };
	struct ctl_table t;
	char when[64], details[1024];
	int rc = -1;
	if (ctl_table_init(&t, 6, headers, right) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ctl_audit_local(ctl_audit_str(recs[i], "ts"), when, sizeof when);
		ctl_audit_details(recs[i], details, sizeof details);
		const char *row[] = { when,
				      ctl_audit_cell(recs[i], "user"),
				      ctl_audit_cell(recs[i], "client"),
				      ctl_audit_cell(recs[i], "session"),
				      ctl_audit_cell(recs[i], "event"),
				      details[0] != '\0' ? details : NULL };
		if (ctl_table_add(&t, row) != 0)
			goto done;
	}
	rc = ctl_table_print(&t, out);
done:
	ctl_table_free(&t);
	return rc;
}

void ctl_audit_sessions_init(struct ctl_audit_sessions *s)
{
	memset(s, 0, sizeof *s);
}

/* Replace *dst with a copy of src (when src is a non-empty string). */
static void ctl_audit_set(char **dst, const char *src)
{
	char *copy;
	if (src == NULL || src[0] == '\0' || (copy = strdup(src)) == NULL)
		return;
	free(*dst);
	*dst = copy;
}

int ctl_audit_sessions_add(struct ctl_audit_sessions *s, const json_t *rec)
{
	const char *id = ctl_audit_str(rec, "session");
	const char *event = ctl_audit_str(rec, "event");
	struct ctl_audit_session *x;
	json_t *pos;
	int64_t ms = -1;

	if (id == NULL || id[0] == '\0' || event == NULL)
		return 0;
	if (s->index == NULL && (s->index = json_object()) == NULL)
		return -1;
	pos = json_object_get(s->index, id);
	if (pos != NULL) {
		x = &s->v[json_integer_value(pos)];
	} else {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct ctl_audit_session *v;
			if (cap > SIZE_MAX / sizeof *v ||
			    (v = realloc(s->v, cap * sizeof *v)) == NULL)
				return -1;
			s->v = v;
			s->cap = cap;
		}
		x = &s->v[s->n];
		memset(x, 0, sizeof *x);
		x->start_ms = x->end_ms = x->duration_s = -1;
		if ((x->id = strdup(id)) == NULL ||
		    json_object_set_new(s->index, id, json_integer((json_int_t)s->n)) != 0) {
			free(x->id);
			return -1;
		}
		s->n++;
	}
	if (audit_parse_ts(ctl_audit_str(rec, "ts"), &ms) != 0)
		ms = -1;
	if (x->user == NULL)
		ctl_audit_set(&x->user, ctl_audit_str(rec, "user"));
	if (strcmp(event, "session_start") == 0) {
		x->listed = true;
		x->start_ms = ms;
		ctl_audit_set(&x->user, ctl_audit_str(rec, "user"));
		ctl_audit_set(&x->client, ctl_audit_str(rec, "client"));
	} else if (strcmp(event, "session_end") == 0) {
		const json_t *d = json_object_get(rec, "duration_s");
		x->listed = true;
		x->end_ms = ms;
		ctl_audit_set(&x->end_reason, ctl_audit_str(rec, "reason"));
		if (json_is_integer(d) && json_integer_value(d) >= 0)
			x->duration_s = json_integer_value(d);
		if (x->client == NULL)
			ctl_audit_set(&x->client, ctl_audit_str(rec, "client"));
	} else if (strcmp(event, "navigate") == 0) {
		x->pages++;
	} else if (strcmp(event, "download_blocked") == 0 ||
		   strcmp(event, "file_dialog_blocked") == 0 ||
		   strcmp(event, "protocol_violation") == 0) {
		x->blocked++;
	}
	if (x->duration_s < 0 && x->start_ms >= 0 && x->end_ms >= x->start_ms)
		x->duration_s = (x->end_ms - x->start_ms) / 1000;
	return 0;
}

bool ctl_audit_session_match(const struct ctl_audit_session *x, const struct ctl_audit_filter *f)
{
	if (!x->listed)
		return false;
	if (f->user != NULL && (x->user == NULL || strcmp(x->user, f->user) != 0))
		return false;
	if (f->until_set && x->start_ms >= 0 && x->start_ms >= f->until_ms)
		return false;
	if (f->until_set && x->start_ms < 0 && x->end_ms >= 0 && x->end_ms >= f->until_ms &&
	    x->duration_s >= 0 && x->end_ms - x->duration_s * 1000 >= f->until_ms)
		return false;
	if (f->since_set && x->end_ms >= 0 && x->end_ms < f->since_ms)
		return false;
	return true;
}

void ctl_audit_duration(int64_t s, char *out, size_t outlen)
{
	if (s < 0) {
		snprintf(out, outlen, "-");
		return;
	}
	snprintf(out, outlen, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
}

/* ms as local time "2026-11-26 12:04:05", or "-" when unknown. */
static void ctl_audit_local_ms(int64_t ms, char *out, size_t outlen)
{
	char ts[40];
	if (ms < 0 || audit_format_ts(ms, ts, sizeof ts) != 0) {
		snprintf(out, outlen, "-");
		return;
	}
	ctl_audit_local(ts, out, outlen);
}

/* The session as one JSON object (times as in the log, UTC). */
static json_t *ctl_audit_session_json(const struct ctl_audit_session *x)
{
	char start[40] = "", end[40] = "";
	if (x->start_ms >= 0)
		audit_format_ts(x->start_ms, start, sizeof start);
	if (x->end_ms >= 0)
		audit_format_ts(x->end_ms, end, sizeof end);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:s?}", "session", x->id,
			      "user", x->user != NULL ? x->user : "", "client",
			      x->client != NULL ? x->client : "", "start", start[0] ? start : NULL,
			      "end", end[0] ? end : NULL, "pages", (json_int_t)x->pages, "blocked",
			      (json_int_t)x->blocked, "end_reason", x->end_reason);
	if (o == NULL)
		return NULL;
	if (x->duration_s >= 0)
		json_object_set_new(o, "duration_s", json_integer(x->duration_s));
	else
		json_object_set_new(o, "duration_s", json_null());
	if (start[0] == '\0')
		json_object_set_new(o, "start", json_null());
	if (end[0] == '\0')
		json_object_set_new(o, "end", json_null());
	return o;
}

int ctl_audit_print_sessions(const struct ctl_audit_sessions *s, const struct ctl_audit_filter *f,
			     bool json, FILE *out)
{
	static const char *const headers[] = { "SESSION", "USER",     "CLIENT", "START",
					       "END",     "DURATION", "PAGES",  "BLOCKED" };
	static const bool right[] = { false, false, false, false, false, true, true, true };
	struct ctl_table t;
	int rc = -1;
	if (json) {
		for (size_t i = 0; i < s->n; i++) {
			if (!ctl_audit_session_match(&s->v[i], f))
				continue;
			json_t *o = ctl_audit_session_json(&s->v[i]);
			if (o == NULL || json_dumpf(o, out, JSON_COMPACT | JSON_SORT_KEYS) != 0) {
				json_decref(o);
				return -1;
			}
			json_decref(o);
			fputc('\n', out);
		}
		return ferror(out) ? -1 : 0;
	}
	if (ctl_table_init(&t, 8, headers, right) != 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct ctl_audit_session *x = &s->v[i];
		char start[64], end[64], dur[32], pages[24], blocked[24];
		if (!ctl_audit_session_match(x, f))
			continue;
		ctl_audit_local_ms(x->start_ms, start, sizeof start);
		if (x->end_ms >= 0)
			ctl_audit_local_ms(x->end_ms, end, sizeof end);
		else
			snprintf(end, sizeof end, "open");
		ctl_audit_duration(x->duration_s, dur, sizeof dur);
		snprintf(pages, sizeof pages, "%" PRIu64, x->pages);
		snprintf(blocked, sizeof blocked, "%" PRIu64, x->blocked);
		const char *row[] = { x->id, x->user, x->client, start, end, dur, pages, blocked };
		if (ctl_table_add(&t, row) != 0)
			goto done;
	}
	rc = ctl_table_print(&t, out);
done:
	ctl_table_free(&t);
	return rc;
}

void ctl_audit_sessions_free(struct ctl_audit_sessions *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].id);
		free(s->v[i].user);
		free(s->v[i].client);
		free(s->v[i].end_reason);
	}
	free(s->v);
	json_decref(s->index);
	memset(s, 0, sizeof *s);
}

/* The options of `audit`, value options first. */
static const struct option ctl_audit_longopts[] = {
	{ "key-file", required_argument, NULL, 'v' },
	{ "dir", required_argument, NULL, 'v' },
	{ "head", required_argument, NULL, 'v' },
	{ "user", required_argument, NULL, 'v' },
	{ "since", required_argument, NULL, 'v' },
	{ "until", required_argument, NULL, 'v' },
	{ "event", required_argument, NULL, 'v' },
	{ "url-contains", required_argument, NULL, 'v' },
	{ "session", required_argument, NULL, 'v' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
#define CTL_AUDIT_NOPTS 9 /* value options */

/* Which subcommands take each value option above, in its order. */
enum {
	CTL_AUDIT_ON_VERIFY = 1 << CTL_AUDIT_VERIFY,
	CTL_AUDIT_ON_QUERY = 1 << CTL_AUDIT_QUERY,
	CTL_AUDIT_ON_QS = 1 << CTL_AUDIT_QUERY | 1 << CTL_AUDIT_SESSIONS,
};
static const int ctl_audit_opt_on[CTL_AUDIT_NOPTS] = {
	CTL_AUDIT_ON_VERIFY,                   /* --key-file */
	CTL_AUDIT_ON_VERIFY | CTL_AUDIT_ON_QS, /* --dir */
	CTL_AUDIT_ON_VERIFY,                   /* --head */
	CTL_AUDIT_ON_QS,                       /* --user */
	CTL_AUDIT_ON_QS,                       /* --since */
	CTL_AUDIT_ON_QS,                       /* --until */
	CTL_AUDIT_ON_QUERY,                    /* --event */
	CTL_AUDIT_ON_QUERY,                    /* --url-contains */
	CTL_AUDIT_ON_QUERY,                    /* --session */
};

int ctl_audit_args_parse(int argc, char *const *argv, struct ctl_audit_args *a, char *err,
			 size_t errlen)
{
	const char *vals[CTL_AUDIT_NOPTS] = { 0 };
	const char *pos0 = NULL, *sub = NULL;
	bool json = false;
	int rc = -1, c;

	memset(a, 0, sizeof *a);
	if (argc < 1 || (a->files = calloc((size_t)argc, sizeof *a->files)) == NULL)
		return ctl_fail(err, errlen, "out of memory");
	optind = 0;
	while ((c = ctl_getopt(argc, argv, "-:h", ctl_audit_longopts, vals, err, errlen)) != -1) {
		if (c == '?')
			goto fail;
		if (c == 'h') {
			rc = 1;
			goto fail;
		}
		json |= c == 'j';
		if (c != 1)
			continue;
		if (pos0 == NULL)
			pos0 = optarg;
		else if (sub == NULL)
			sub = optarg;
		else
			a->files[a->nfiles++] = optarg;
	}
	if (pos0 == NULL || strcmp(pos0, "audit") != 0) {
		ctl_fail(err, errlen, "not an audit command");
		goto fail;
	}
	if (sub == NULL) {
		ctl_fail(err, errlen, "audit: missing verify, query or sessions");
		goto fail;
	}
	if (strcmp(sub, "verify") == 0)
		a->cmd = CTL_AUDIT_VERIFY;
	else if (strcmp(sub, "query") == 0)
		a->cmd = CTL_AUDIT_QUERY;
	else if (strcmp(sub, "sessions") == 0)
		a->cmd = CTL_AUDIT_SESSIONS;
	else {
		ctl_fail(err, errlen, "unknown audit command \"%s\" (verify, query, sessions)",
			 sub);
		goto fail;
	}
	for (size_t k = 0; k < CTL_AUDIT_NOPTS; k++)
		if (vals[k] != NULL && !(ctl_audit_opt_on[k] & (1 << a->cmd))) {
			int on = ctl_audit_opt_on[k];
			ctl_fail(err, errlen, "--%s only goes with audit %s",
				 ctl_audit_longopts[k].name,
				 on == CTL_AUDIT_ON_VERIFY   ? "verify"
				     : on == CTL_AUDIT_ON_QS ? "query or audit sessions"
							     : "query");
			goto fail;
		}
	if (json && a->cmd == CTL_AUDIT_VERIFY) {
		ctl_fail(err, errlen, "--json only goes with audit query or audit sessions");
		goto fail;
	}
	if (vals[1] != NULL && a->nfiles > 0) {
		ctl_fail(err, errlen, "give --dir D or FILES, not both");
		goto fail;
	}
	a->key_file = vals[0] != NULL ? vals[0] : CTL_AUDIT_KEY_FILE;
	a->dir = vals[1] != NULL ? vals[1] : (a->nfiles == 0 ? CTL_AUDIT_DIR : NULL);
	a->head = vals[2];
	a->filter.user = vals[3];
	a->filter.event = vals[6];
	a->filter.url_contains = vals[7];
	a->filter.session = vals[8];
	a->json = json;
	char terr[256];
	if (vals[4] != NULL) {
		if (ctl_audit_parse_time(vals[4], &a->filter.since_ms, terr, sizeof terr) != 0) {
			ctl_fail(err, errlen, "--since: %s", terr);
			goto fail;
		}
		a->filter.since_set = true;
	}
	if (vals[5] != NULL) {
		if (ctl_audit_parse_time(vals[5], &a->filter.until_ms, terr, sizeof terr) != 0) {
			ctl_fail(err, errlen, "--until: %s", terr);
			goto fail;
		}
		a->filter.until_set = true;
	}
	if (a->filter.since_set && a->filter.until_set &&
	    a->filter.since_ms >= a->filter.until_ms) {
		ctl_fail(err, errlen, "--since must be before --until");
		goto fail;
	}
	return 0;
fail:
	free(a->files);
	a->files = NULL;
	a->nfiles = 0;
	return rc;
}
