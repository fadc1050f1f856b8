/*
 * ctl_format.c: pixelgatectl's tables and the admin API's answers as text
 * (ctl_format.h). Answers are hostile input: their shape is checked, their
 * text cleaned, and a missing or mistyped field of one row shows as "?"
 * rather than hiding the others.
 */
#include "ctl_format.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "audit_chain.h"
#include "node_limits.h"
#include "utf8.h"

int ctl_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Columns a character takes on a terminal: wcwidth() in the C.UTF-8 locale
 * (2 for CJK, 0 for combining marks), whatever LC_CTYPE the administrator
 * has; 1 if that locale is missing or the character has no width.
 */
static size_t ctl_char_width(uint32_t cp)
{
	static locale_t utf8_locale;
	static bool tried;
	if (cp < 0x80)
		return 1;
	if (!tried) {
		tried = true;
		utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (utf8_locale == (locale_t)0)
		return 1;
	locale_t old = uselocale(utf8_locale);
	int w = wcwidth((wchar_t)cp);
	uselocale(old);
	return w >= 0 ? (size_t)w : 1;
}

/* Display columns of s (clean UTF-8: invalid bytes count one each). */
static size_t ctl_width(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), w = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp = '?';
		size_t l = utf8_next(u + i, n - i, &cp);
		w += ctl_char_width(cp);
		i += l > 0 ? l : 1;
	}
	return w;
}

size_t ctl_clean_text(const char *s, size_t len, char *out, size_t outlen)
{
	if (outlen < 4) {
		if (outlen > 0)
			out[0] = '\0';
		return 0;
	}
	utf8_clean_text(out, outlen, s, len, "...", UTF8_CLEAN_BIDI);
	return ctl_width(out);
}

int ctl_table_init(struct ctl_table *t, size_t ncols, const char *const *headers, const bool *right)
{
	memset(t, 0, sizeof *t);
	if (ncols == 0 || ncols > CTL_TABLE_COLS_MAX)
		return -1;
	t->ncols = ncols;
	for (size_t i = 0; i < ncols; i++) {
		t->headers[i] = headers[i];
		t->right[i] = right != NULL && right[i];
	}
	return 0;
}

int ctl_table_add(struct ctl_table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(char *) / t->ncols)
			return -1;
		char **nc = realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (nc == NULL)
			return -1;
		t->cells = nc;
		t->cap = cap;
	}
	char **dst = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *v = row[i] != NULL ? row[i] : "-";
		char buf[CTL_CELL_MAX];
		ctl_clean_text(v, strlen(v), buf, sizeof buf);
		dst[i] = strdup(buf);
		if (dst[i] == NULL) {
			while (i-- > 0)
				free(dst[i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

/* Print one row of cells (header or data) padded to widths. */
static void ctl_table_row(const struct ctl_table *t, const char *const *cells, const size_t *widths,
			  FILE *out)
{
	for (size_t i = 0; i < t->ncols; i++) {
		size_t w = ctl_width(cells[i]);
		size_t pad = widths[i] > w ? widths[i] - w : 0;
		bool last = i + 1 == t->ncols;
		if (i > 0)
			fputs("  ", out);
		if (t->right[i])
			fprintf(out, "%*s%s", (int)pad, "", cells[i]);
		else
			fprintf(out, "%s%*s", cells[i], last ? 0 : (int)pad, "");
	}
	fputc('\n', out);
}

int ctl_table_print(const struct ctl_table *t, FILE *out)
{
	size_t widths[CTL_TABLE_COLS_MAX];
	for (size_t i = 0; i < t->ncols; i++) {
		widths[i] = ctl_width(t->headers[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = ctl_width(t->cells[r * t->ncols + i]);
			if (w > widths[i])
				widths[i] = w;
		}
	}
	ctl_table_row(t, t->headers, widths, out);
	for (size_t r = 0; r < t->nrows; r++)
		ctl_table_row(t, (const char *const *)(t->cells + r * t->ncols), widths, out);
	return ferror(out) ? -1 : 0;
}

void ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

int ctl_local_time(const char *text, char *out, size_t outlen)
{
	struct audit_time at;
	struct tm tm;
	if (audit_parse_time(text, &at) != AUDIT_TIME_OK || !at.has_sec || !at.has_zone)
		return -1;
	time_t t = (time_t)at.unix_s;
	if (localtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -1;
	return 0;
}

void ctl_human_bytes(uint64_t n, char *out, size_t outlen)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (n < 1024) {
		snprintf(out, outlen, "%" PRIu64 " B", n);
		return;
	}
	double v = (double)n;
	size_t u = 0;
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024.0;
		u++;
	}
	if (v < 9.95)
		snprintf(out, outlen, "%.1f %s", v, units[u]);
	else
		snprintf(out, outlen, "%.0f %s", v, units[u]);
}

/* Parse an answer that must be a JSON object. NULL + err if it is not. */
static json_t *ctl_load_object(const char *json, size_t len, const char *what, char *err,
			       size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	if (root == NULL) {
		char text[128];
		ctl_clean_text(jerr.text, strlen(jerr.text), text, sizeof text);
		ctl_fail(err, errlen, "the answer to %s is not JSON (%s at byte %d)", what, text,
			 jerr.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		ctl_fail(err, errlen, "the answer to %s is not a JSON object", what);
		return NULL;
	}
	return root;
}

/* A string member as text (cleaned later by the table); "?" if not a string. */
static const char *ctl_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "?";
}

/* An integer member >= 0 as bytes for people, "?" if it is not one. */
static void ctl_bytes_cell(const json_t *o, const char *key, char *out, size_t outlen)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		snprintf(out, outlen, "?");
	else
		ctl_human_bytes((uint64_t)json_integer_value(v), out, outlen);
}

/* A time member as local time; "-" for null, the raw text if it is no time. */
static const char *ctl_time_cell(const json_t *o, const char *key, char *buf, size_t buflen)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_null(v))
		return "-";
	if (!json_is_string(v))
		return "?";
	if (ctl_local_time(json_string_value(v), buf, buflen) != 0)
		return json_string_value(v);
	return buf;
}

/* A session's id: a string, or an integer shown in decimal. */
static const char *ctl_id_cell(const json_t *o, char *buf, size_t buflen)
{
	const json_t *v = json_object_get(o, "id");
	if (json_is_integer(v)) {
		snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return ctl_str(o, "id");
}

/* Scratch space for one row's formatted cells. */
struct ctl_cells {
	char buf[CTL_TABLE_COLS_MAX][64];
};

/* One kind of list the admin API answers with, as a table. */
struct ctl_list_spec {
	const char *what;  /* "GET /api/v1/sessions" */
	const char *key;   /* its list member: "sessions" */
	const char *item;  /* "session", in messages */
	const char *empty; /* printed for an empty list */
	size_t ncols;
	const char *const *headers;
	const bool *right;
	/* fill row[0 .. ncols) for the object o (cells: scratch) */
	void (*row)(const json_t *o, struct ctl_cells *cells, const char **row);
	/* after the table, from the whole answer (may be NULL) */
	void (*footer)(const json_t *root, FILE *out);
};

static int ctl_print_list(const struct ctl_list_spec *spec, const char *json, size_t len, FILE *out,
			  char *err, size_t errlen)
{
	struct ctl_table t;
	int rc = -1;
	json_t *root = ctl_load_object(json, len, spec->what, err, errlen);
	if (root == NULL)
		return -1;
	json_t *list = json_object_get(root, spec->key);
	if (!json_is_array(list)) {
		json_decref(root);
		return ctl_fail(err, errlen, "the answer to %s has no \"%s\" list", spec->what,
				spec->key);
	}
	ctl_table_init(&t, spec->ncols, spec->headers, spec->right);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		struct ctl_cells cells;
		const char *row[CTL_TABLE_COLS_MAX];
		if (!json_is_object(o)) {
			ctl_fail(err, errlen, "%s %zu of the list is not a JSON object", spec->item,
				 i + 1);
			goto done;
		}
		spec->row(o, &cells, row);
		if (ctl_table_add(&t, row) != 0) {
			ctl_fail(err, errlen, "out of memory");
			goto done;
		}
	}
	if (t.nrows == 0)
		fprintf(out, "%s\n", spec->empty);
	else if (ctl_table_print(&t, out) != 0) {
		ctl_fail(err, errlen, "write error");
		goto done;
	}
	if (spec->footer != NULL)
		spec->footer(root, out);
	rc = ferror(out) ? ctl_fail(err, errlen, "write error") : 0;
done:
	ctl_table_free(&t);
	json_decref(root);
	return rc;
}

static void ctl_session_row(const json_t *s, struct ctl_cells *c, const char **row)
{
	const json_t *f = json_object_get(s, "fps");
	if (json_is_integer(f))
		snprintf(c->buf[7], sizeof c->buf[7], "%" JSON_INTEGER_FORMAT,
			 json_integer_value(f));
	else if (json_is_real(f))
		snprintf(c->buf[7], sizeof c->buf[7], "%.1f", json_real_value(f));
	else
		snprintf(c->buf[7], sizeof c->buf[7], "?");
	ctl_bytes_cell(s, "bytes_in", c->buf[5], sizeof c->buf[5]);
	ctl_bytes_cell(s, "bytes_out", c->buf[6], sizeof c->buf[6]);
	row[0] = ctl_id_cell(s, c->buf[0], sizeof c->buf[0]);
	row[1] = ctl_str(s, "user");
	row[2] = ctl_str(s, "client");
	row[3] = ctl_time_cell(s, "started", c->buf[3], sizeof c->buf[3]);
	row[4] = ctl_time_cell(s, "last_input", c->buf[4], sizeof c->buf[4]);
	row[5] = c->buf[5];
	row[6] = c->buf[6];
	row[7] = c->buf[7];
	row[8] = ctl_str(s, "state");
}

int ctl_print_sessions(const char *json, size_t len, FILE *out, char *err, size_t errlen)
{
	static const char *const headers[] = { "ID", "USER", "CLIENT", "STARTED", "LAST-INPUT",
					       "IN", "OUT",  "FPS",    "STATE" };
	static const bool right[] = { false, false, false, false, false, true, true, true, false };
	static const struct ctl_list_spec spec = {
		"GET /api/v1/sessions", "sessions", "session", "no sessions", 9, headers, right,
		ctl_session_row,        NULL
	};
	return ctl_print_list(&spec, json, len, out, err, errlen);
}

static void ctl_forensic_row(const json_t *f, struct ctl_cells *c, const char **row)
{
	bool complete = strcmp(ctl_str(f, "state"), "complete") == 0;
	const json_t *n = json_object_get(f, "files");
	if (json_is_integer(n))
		snprintf(c->buf[3], sizeof c->buf[3], "%" JSON_INTEGER_FORMAT,
			 json_integer_value(n));
	else
		snprintf(c->buf[3], sizeof c->buf[3], "-");
	if (complete)
		ctl_bytes_cell(f, "bytes", c->buf[4], sizeof c->buf[4]);
	else
		snprintf(c->buf[4], sizeof c->buf[4], "-");
	row[0] = ctl_id_cell(f, c->buf[0], sizeof c->buf[0]);
	row[1] = complete ? ctl_str(f, "user") : "-";
	row[2] = complete ? ctl_time_cell(f, "kept", c->buf[2], sizeof c->buf[2]) : "-";
	row[3] = c->buf[3];
	row[4] = c->buf[4];
	row[5] = ctl_str(f, "state");
	row[6] = complete ? ctl_str(f, "what") : "-";
}

static void ctl_forensics_more(const json_t *root, FILE *out)
{
	if (json_is_true(json_object_get(root, "more")))
		fputs("(more kept directories than one answer lists: remove some)\n", out);
}

int ctl_print_forensics(const char *json, size_t len, FILE *out, char *err, size_t errlen)
{
	static const char *const headers[] = { "ID",    "USER",  "KEPT", "FILES",
					       "BYTES", "STATE", "WHAT" };
	static const bool right[] = { false, false, false, true, true, false, false };
	static const struct ctl_list_spec spec = { "GET /api/v1/forensics",
						   "forensics",
						   "entry",
						   "no kept session directories",
						   7,
						   headers,
						   right,
						   ctl_forensic_row,
						   ctl_forensics_more };
	return ctl_print_list(&spec, json, len, out, err, errlen);
}

static void ctl_user_row(const json_t *u, struct ctl_cells *c, const char **row)
{
	(void)c;
	const json_t *l = json_object_get(u, "locked");
	row[0] = ctl_str(u, "name");
	row[1] = ctl_str(u, "role");
	row[2] = json_is_boolean(l) ? (json_is_true(l) ? "yes" : "no") : "?";
}

int ctl_print_users(const char *json, size_t len, FILE *out, char *err, size_t errlen)
{
	static const char *const headers[] = { "NAME", "ROLE", "LOCKED" };
	static const bool right[] = { false, false, false };
	static const struct ctl_list_spec spec = {
		"GET /api/v1/users", "users", "user", "no users", 3, headers, right,
		ctl_user_row,        NULL
	};
	return ctl_print_list(&spec, json, len, out, err, errlen);
}

static void ctl_policy_row(const json_t *p, struct ctl_cells *c, const char **row)
{
	const char *name = ctl_str(p, "name");
	const json_t *clip = json_object_get(p, "clipboard_to_browser");
	snprintf(c->buf[0], sizeof c->buf[0], "%s", name[0] ? name : "(node)");
	snprintf(c->buf[1], sizeof c->buf[1], "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(p, "max_sessions_per_user")));
	json_int_t idle = json_integer_value(json_object_get(p, "idle_timeout_s"));
	snprintf(c->buf[2], sizeof c->buf[2], idle > 0 ? "%" JSON_INTEGER_FORMAT : "off", idle);
	row[0] = c->buf[0];
	row[1] = c->buf[1];
	row[2] = c->buf[2];
	/* which ways clipboard text may cross: into the browser, out to the terminal */
	const json_t *out = json_object_get(p, "clipboard_to_terminal");
	if (!json_is_boolean(clip))
		row[3] = "?";
	else if (json_is_true(clip))
		row[3] = json_is_true(out) ? "both" : "in";
	else
		row[3] = json_is_true(out) ? "out" : "off";
	row[4] = ctl_str(p, "recording");
	row[5] = ctl_str(p, "home_page");
	row[6] = ctl_str(p, "url_allowlist")[0] ? ctl_str(p, "url_allowlist") : "-";
	row[7] = ctl_str(p, "url_blocklist")[0] ? ctl_str(p, "url_blocklist") : "-";
}

int ctl_print_policies(const char *json, size_t len, FILE *out, char *err, size_t errlen)
{
	static const char *const headers[] = { "GROUP",     "SESSIONS",  "IDLE-S", "CLIPBOARD",
					       "RECORDING", "HOME-PAGE", "ALLOW",  "BLOCK" };
	static const bool right[] = { false, true, true, false, false, false, false, false };
	static const struct ctl_list_spec spec = {
		"GET /api/v1/policies", "policies", "policy", "no policies", 8, headers, right,
		ctl_policy_row,         NULL
	};
	return ctl_print_list(&spec, json, len, out, err, errlen);
}

/* Add the row of limit name with value v (any JSON) to t. 0 or -1. */
static int ctl_limit_row(struct ctl_table *t, const char *name, const json_t *v)
{
	char val[64];
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		const struct limits_key *k = limits_find(name);
		bool off = n == 0 && k != NULL && k->zero_off;
		snprintf(val, sizeof val, "%" JSON_INTEGER_FORMAT "%s", n, off ? " (off)" : "");
	} else {
		snprintf(val, sizeof val, "?");
	}
	const char *row[] = { name, val };
	return ctl_table_add(t, row);
}

int ctl_print_limits(const char *json, size_t len, FILE *out, char *err, size_t errlen)
{
	static const char *const headers[] = { "NAME", "VALUE" };
	static const bool right[] = { false, false };
	size_t nknown;
	const struct limits_key *known = limits_table(&nknown);
	struct ctl_table t;
	int rc = -1;
	json_t *root = ctl_load_object(json, len, "GET /api/v1/limits", err, errlen);
	if (root == NULL)
		return -1;
	ctl_table_init(&t, 2, headers, right);
	/* the table's order (node_limits.c), then what a newer server adds */
	for (size_t i = 0; i < nknown; i++) {
		json_t *v = json_object_get(root, known[i].name);
		if (v != NULL && ctl_limit_row(&t, known[i].name, v) != 0)
			goto oom;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (limits_find(key) == NULL && ctl_limit_row(&t, key, v) != 0)
			goto oom;
	}
	if (t.nrows == 0) {
		ctl_fail(err, errlen, "the answer to GET /api/v1/limits holds no limits");
		goto done;
	}
	if (ctl_table_print(&t, out) != 0) {
		ctl_fail(err, errlen, "write error");
		goto done;
	}
	rc = 0;
	goto done;
oom:
	ctl_fail(err, errlen, "out of memory");
done:
	ctl_table_free(&t);
	json_decref(root);
	return rc;
}

/* An integer member, or -1 if missing, mistyped or out of int's range. */
static long long ctl_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
		return -1;
	return json_integer_value(v);
}

int ctl_print_status(const char *server, const char *health, size_t health_len, const char *limits,
		     size_t limits_len, const char *sessions, size_t sessions_len, FILE *out,
		     char *err, size_t errlen)
{
	json_t *h = NULL, *l = NULL, *s = NULL;
	int rc = -1;
	char srv[CTL_CELL_MAX], st[64];
	if ((h = ctl_load_object(health, health_len, "GET /healthz", err, errlen)) == NULL ||
	    (l = ctl_load_object(limits, limits_len, "GET /api/v1/limits", err, errlen)) == NULL ||
	    (s = ctl_load_object(sessions, sessions_len, "GET /api/v1/sessions", err, errlen)) ==
		NULL)
		goto done;
	json_t *list = json_object_get(s, "sessions");
	if (!json_is_array(list)) {
		ctl_fail(err, errlen,
			 "the answer to GET /api/v1/sessions has no \"sessions\" list");
		goto done;
	}
	size_t n_active = 0, n_detached = 0, n_other = 0, i;
	json_t *e;
	json_array_foreach(list, i, e) {
		const char *state = json_string_value(json_object_get(e, "state"));
		if (state != NULL && strcmp(state, "active") == 0)
			n_active++;
		else if (state != NULL && strcmp(state, "detached") == 0)
			n_detached++;
		else
			n_other++;
	}
	ctl_clean_text(server, strlen(server), srv, sizeof srv);
	ctl_clean_text(ctl_str(h, "status"), strlen(ctl_str(h, "status")), st, sizeof st);
	json_t *dr = json_object_get(h, "draining");
	long long max = ctl_int(l, "max_sessions"), per_user = ctl_int(l, "max_sessions_per_user");
	size_t total = json_array_size(list);

	fprintf(out, "server:    %s (%s)\n", srv, st);
	if (!json_is_boolean(dr))
		fprintf(out, "state:     ? (no \"draining\" in the answer)\n");
	else if (json_is_true(dr))
		fprintf(out, "state:     draining: no new sessions; existing ones go on\n");
	else if (max > 0 && total >= (size_t)max)
		fprintf(out, "state:     full: new sessions are refused\n");
	else
		fprintf(out, "state:     accepting new sessions\n");
	fprintf(out, "sessions:  %zu", total);
	if (max > 0)
		fprintf(out, " of at most %lld", max);
	else if (max == 0)
		fprintf(out, " (no limit)");
	fprintf(out, ": %zu active, %zu detached", n_active, n_detached);
	if (n_other > 0)
		fprintf(out, ", %zu starting or ending", n_other);
	fputc('\n', out);
	if (per_user >= 0)
		fprintf(out, "per user:  %lld session%s at most\n", per_user,
			per_user == 1 ? "" : "s");
	if (ferror(out)) {
		ctl_fail(err, errlen, "write error");
		goto done;
	}
	rc = 0;
done:
	json_decref(h);
	json_decref(l);
	json_decref(s);
	return rc;
}

char *ctl_status_json(const char *health, size_t health_len, const char *limits, size_t limits_len,
		      const char *sessions, size_t sessions_len, char *err, size_t errlen)
{
	json_t *h = NULL, *l = NULL, *s = NULL, *all = NULL;
	char *text = NULL;
	if ((h = ctl_load_object(health, health_len, "GET /healthz", err, errlen)) == NULL ||
	    (l = ctl_load_object(limits, limits_len, "GET /api/v1/limits", err, errlen)) == NULL ||
	    (s = ctl_load_object(sessions, sessions_len, "GET /api/v1/sessions", err, errlen)) ==
		NULL)
		goto done;
	all = json_object();
	if (all == NULL || json_object_set(all, "health", h) != 0 ||
	    json_object_set(all, "limits", l) != 0 ||
	    json_object_set(all, "sessions",
			    json_object_get(s, "sessions") != NULL ? json_object_get(s, "sessions")
								   : json_null()) != 0) {
		ctl_fail(err, errlen, "out of memory");
		goto done;
	}
	text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		ctl_fail(err, errlen, "out of memory");
done:
	json_decref(h);
	json_decref(l);
	json_decref(s);
	json_decref(all);
	return text;
}

void ctl_describe_refusal(int status, int retry_after_s, const char *body, size_t len, char *out,
			  size_t outlen)
{
	char code[96] = "", msg[512] = "", field[96] = "", retry[48] = "";
	json_error_t jerr;
	json_t *root = len > 0 ? json_loadb(body, len, 0, &jerr) : NULL;

	if (json_is_object(root)) {
		const char *e = json_string_value(json_object_get(root, "error"));
		const char *m = json_string_value(json_object_get(root, "message"));
		const char *f = json_string_value(json_object_get(root, "field"));
		json_t *ra = json_object_get(root, "retry_after_s");
		if (e != NULL) {
			code[0] = ' ';
			ctl_clean_text(e, strlen(e), code + 1, sizeof code - 1);
		}
		if (m != NULL) {
			memcpy(msg, ": ", 3);
			ctl_clean_text(m, strlen(m), msg + 2, sizeof msg - 2);
		}
		if (f != NULL) {
			char ff[64];
			ctl_clean_text(f, strlen(f), ff, sizeof ff);
			snprintf(field, sizeof field, " (field %s)", ff);
		}
		if (retry_after_s < 0 && json_is_integer(ra) && json_integer_value(ra) >= 0 &&
		    json_integer_value(ra) <= INT_MAX)
			retry_after_s = (int)json_integer_value(ra);
		if (e == NULL && m == NULL)
			snprintf(msg, sizeof msg, " (no \"error\" or \"message\" in the answer)");
	} else if (len == 0) {
		snprintf(msg, sizeof msg, " (empty answer)");
	} else {
		char quoted[128];
		ctl_clean_text(body, len, quoted, sizeof quoted);
		snprintf(msg, sizeof msg, " (the answer is not JSON: \"%s\")", quoted);
	}
	json_decref(root);
	if (retry_after_s >= 0)
		snprintf(retry, sizeof retry, "; retry after %d s", retry_after_s);
	snprintf(out, outlen, "HTTP %d%s%s%s%s", status, code, msg, field, retry);
}
