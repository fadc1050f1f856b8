/*
 * admin_text.c: the pure parts of the admin API (see admin_text.h).
 */
#include "admin_text.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ADMIN_BIT(m) (1u << (m))

/* The {name}/ACTION endpoints under /api/v1/users/. */
static const struct {
	const char *action;
	enum admin_route route;
} admin_user_actions[] = {
	{ "password", ADMIN_ROUTE_USER_PASSWORD }, { "lock", ADMIN_ROUTE_USER_LOCK },
	{ "unlock", ADMIN_ROUTE_USER_UNLOCK },     { "admin", ADMIN_ROUTE_USER_ADMIN },
	{ "totp", ADMIN_ROUTE_USER_TOTP },
};

/* The fixed paths. */
static const struct {
	const char *path;
	enum admin_route route;
} admin_paths[] = {
	{ "/healthz", ADMIN_ROUTE_HEALTHZ },
	{ "/metrics", ADMIN_ROUTE_METRICS },
	{ "/api/v1/sessions", ADMIN_ROUTE_SESSIONS },
	{ "/api/v1/limits", ADMIN_ROUTE_LIMITS },
	{ "/api/v1/users", ADMIN_ROUTE_USERS },
	{ "/api/v1/drain", ADMIN_ROUTE_DRAIN },
	{ "/api/v1/undrain", ADMIN_ROUTE_UNDRAIN },
	{ "/api/v1/forensics", ADMIN_ROUTE_FORENSICS },
	{ "/api/v1/policies", ADMIN_ROUTE_POLICIES },
};

#define ADMIN_SESSIONS_PREFIX "/api/v1/sessions/"
#define ADMIN_USERS_PREFIX "/api/v1/users/"
#define ADMIN_FORENSICS_PREFIX "/api/v1/forensics/"

/* A session id after prefix in path: 1 (copied into t->arg) or 0. */
static int admin_id_after(const char *path, const char *prefix, struct admin_target *t)
{
	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return 0;
	const char *id = path + strlen(prefix);
	if (strlen(id) != ADMIN_SESSION_ID_LEN ||
	    strspn(id, "0123456789abcdef") != ADMIN_SESSION_ID_LEN)
		return -1;
	memcpy(t->arg, id, ADMIN_SESSION_ID_LEN + 1);
	return 1;
}

void admin_route_parse(const char *path, struct admin_target *t)
{
	memset(t, 0, sizeof *t);
	t->route = ADMIN_ROUTE_NONE;
	for (size_t i = 0; i < sizeof admin_paths / sizeof admin_paths[0]; i++) {
		if (strcmp(path, admin_paths[i].path) == 0) {
			t->route = admin_paths[i].route;
			return;
		}
	}
	int r = admin_id_after(path, ADMIN_SESSIONS_PREFIX, t);
	if (r == 0 && (r = admin_id_after(path, ADMIN_FORENSICS_PREFIX, t)) > 0) {
		t->route = ADMIN_ROUTE_FORENSIC;
		return;
	}
	if (r != 0) {
		if (r > 0)
			t->route = ADMIN_ROUTE_SESSION;
		return;
	}
	if (strncmp(path, ADMIN_USERS_PREFIX, strlen(ADMIN_USERS_PREFIX)) == 0) {
		const char *name = path + strlen(ADMIN_USERS_PREFIX);
		const char *slash = strchr(name, '/');
		size_t nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
		char buf[USERS_NAME_MAX + 1];
		if (nlen == 0 || nlen > USERS_NAME_MAX)
			return;
		memcpy(buf, name, nlen);
		buf[nlen] = '\0';
		if (!users_name_valid(buf))
			return;
		enum admin_route route = ADMIN_ROUTE_USER;
		if (slash != NULL) {
			route = ADMIN_ROUTE_NONE;
			for (size_t i = 0;
			     i < sizeof admin_user_actions / sizeof admin_user_actions[0]; i++)
				if (strcmp(slash + 1, admin_user_actions[i].action) == 0)
					route = admin_user_actions[i].route;
			if (route == ADMIN_ROUTE_NONE)
				return;
		}
		memcpy(t->arg, buf, nlen + 1);
		t->route = route;
	}
}

unsigned int admin_route_methods(enum admin_route route)
{
	switch (route) {
	case ADMIN_ROUTE_HEALTHZ:
	case ADMIN_ROUTE_METRICS:
	case ADMIN_ROUTE_SESSIONS:
	case ADMIN_ROUTE_FORENSICS:
	case ADMIN_ROUTE_POLICIES:
		return ADMIN_BIT(ADMIN_GET);
	case ADMIN_ROUTE_SESSION:
	case ADMIN_ROUTE_USER:
	case ADMIN_ROUTE_FORENSIC:
		return ADMIN_BIT(ADMIN_DELETE);
	case ADMIN_ROUTE_LIMITS:
		return ADMIN_BIT(ADMIN_GET) | ADMIN_BIT(ADMIN_PATCH);
	case ADMIN_ROUTE_USER_TOTP:
		return ADMIN_BIT(ADMIN_GET) | ADMIN_BIT(ADMIN_POST) | ADMIN_BIT(ADMIN_DELETE);
	case ADMIN_ROUTE_USERS:
		return ADMIN_BIT(ADMIN_GET) | ADMIN_BIT(ADMIN_POST);
	case ADMIN_ROUTE_USER_PASSWORD:
	case ADMIN_ROUTE_USER_ADMIN:
		return ADMIN_BIT(ADMIN_PUT);
	case ADMIN_ROUTE_USER_LOCK:
	case ADMIN_ROUTE_USER_UNLOCK:
	case ADMIN_ROUTE_DRAIN:
	case ADMIN_ROUTE_UNDRAIN:
		return ADMIN_BIT(ADMIN_POST);
	case ADMIN_ROUTE_NONE:
		break;
	}
	return 0;
}

void admin_allow_text(unsigned int methods, char *out, size_t outlen)
{
	static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	size_t used = 0;
	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(methods & ADMIN_BIT(i)))
			continue;
		int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= outlen - used) {
			out[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

bool admin_route_needs_body(enum admin_route route, enum admin_method method)
{
	return (route == ADMIN_ROUTE_USERS && method == ADMIN_POST) ||
	    (route == ADMIN_ROUTE_USER_PASSWORD && method == ADMIN_PUT) ||
	    (route == ADMIN_ROUTE_USER_ADMIN && method == ADMIN_PUT) ||
	    (route == ADMIN_ROUTE_LIMITS && method == ADMIN_PATCH);
}

static char *admin_scheme_token(char *header, const char *scheme)
{
	size_t sl = strlen(scheme);
	char *p = header;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, scheme, sl) != 0 || (p[sl] != ' ' && p[sl] != '\t'))
		return NULL;
	p += sl;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	return n > 0 ? p : NULL;
}

char *admin_basic_token(char *header)
{
	return admin_scheme_token(header, "Basic");
}

char *admin_bearer_token(char *header)
{
	return admin_scheme_token(header, "Bearer");
}

int admin_token_parse(const char *text, size_t len, char *out, size_t outlen, char *err,
		      size_t errlen)
{
	size_t n = 0;
	while (n < len && text[n] > ' ' && text[n] < 0x7f)
		n++;
	size_t rest = len - n;
	bool ends_ok = rest == 0 || (rest == 1 && text[n] == '\n') ||
	    (rest == 2 && text[n] == '\r' && text[n + 1] == '\n');
	if (!ends_ok) {
		snprintf(err, errlen,
			 "the token must be one word of printable ASCII (byte %zu is 0x%02x)",
			 n + 1, (unsigned char)text[n]);
		return -1;
	}
	if (n < ADMIN_TOKEN_MIN || n > ADMIN_TOKEN_MAX || n >= outlen) {
		snprintf(err, errlen, "the token has %zu characters; %d to %d are allowed", n,
			 ADMIN_TOKEN_MIN, ADMIN_TOKEN_MAX);
		return -1;
	}
	memcpy(out, text, n);
	out[n] = '\0';
	return 0;
}

int admin_basic_split(const char *decoded, size_t len, char user[USERS_NAME_MAX + 1],
		      char password[USERS_PASSWORD_MAX + 1])
{
	user[0] = '\0';
	password[0] = '\0';
	if (memchr(decoded, '\0', len) != NULL)
		return -1;
	const char *colon = memchr(decoded, ':', len);
	if (colon == NULL)
		return -1;
	size_t ulen = (size_t)(colon - decoded), plen = len - ulen - 1;
	if (plen > USERS_PASSWORD_MAX)
		return -1;
	memcpy(password, colon + 1, plen);
	password[plen] = '\0';
	if (ulen >= 1 && ulen <= USERS_NAME_MAX) {
		memcpy(user, decoded, ulen);
		user[ulen] = '\0';
		if (!users_name_valid(user))
			user[0] = '\0';
	}
	return 0;
}

/* Parse body as a JSON object; NULL with err set if it is not one. */
static json_t *admin_parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "a JSON object is required as the request body");
		return NULL;
	}
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (o == NULL) {
		/* Not jerr.text: it may quote the body, password included. */
		if (json_error_code(&jerr) == json_error_duplicate_key)
			snprintf(err, errlen, "the request body repeats a field");
		else
			snprintf(err, errlen,
				 "the request body is not valid JSON (line %d, column %d)",
				 jerr.line, jerr.column);
		OPENSSL_cleanse(&jerr, sizeof jerr);
		return NULL;
	}
	OPENSSL_cleanse(&jerr, sizeof jerr);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the request body must be a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Wipe the text of a JSON string in place (jansson's copy of a password). */
static void admin_json_wipe(json_t *s)
{
	if (json_is_string(s))
		OPENSSL_cleanse((char *)json_string_value(s), json_string_length(s));
}

/* Refuse fields of o other than the NULL-terminated names. 0 or -1 + err. */
static int admin_only_fields(json_t *o, const char *const *names, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		bool known = false;
		for (size_t i = 0; names[i] != NULL; i++)
			known = known || strcmp(key, names[i]) == 0;
		if (!known) {
			snprintf(err, errlen, "unknown field \"%.40s\"", key);
			return -1;
		}
	}
	return 0;
}

/* Copy o's "password" into password (8..USERS_PASSWORD_MAX bytes). 0 or -1 + err. */
static int admin_take_password(json_t *o, char password[USERS_PASSWORD_MAX + 1], char *err,
			       size_t errlen)
{
	json_t *v = json_object_get(o, "password");
	if (v == NULL) {
		snprintf(err, errlen, "\"password\" is required");
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"password\" must be a string");
		return -1;
	}
	size_t n = json_string_length(v);
	if (n < 8 || n > USERS_PASSWORD_MAX) {
		snprintf(err, errlen, "password must be 8 to %d bytes", USERS_PASSWORD_MAX);
		return -1;
	}
	if (memchr(json_string_value(v), '\0', n) != NULL) {
		snprintf(err, errlen, "password must not contain NUL characters");
		return -1;
	}
	memcpy(password, json_string_value(v), n);
	password[n] = '\0';
	return 0;
}

/* Copy o's boolean "admin" into *admin; absent: *admin unchanged unless required. */
static int admin_take_admin(json_t *o, bool required, bool *admin, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "admin");
	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(err, errlen, "\"admin\" is required (true or false)");
		return -1;
	}
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "\"admin\" must be true or false");
		return -1;
	}
	*admin = json_is_true(v);
	return 0;
}

int admin_parse_new_user(const char *body, size_t len, char name[USERS_NAME_MAX + 1],
			 char password[USERS_PASSWORD_MAX + 1], bool *admin, char *err,
			 size_t errlen)
{
	static const char *const fields[] = { "name", "password", "admin", NULL };
	int rc = -1;
	name[0] = '\0';
	password[0] = '\0';
	*admin = false;
	json_t *o = admin_parse_object(body, len, err, errlen);
	if (o == NULL)
		return -1;
	if (admin_only_fields(o, fields, err, errlen) != 0)
		goto done;
	json_t *n = json_object_get(o, "name");
	if (n == NULL) {
		snprintf(err, errlen, "\"name\" is required");
		goto done;
	}
	if (!json_is_string(n)) {
		snprintf(err, errlen, "\"name\" must be a string");
		goto done;
	}
	const char *s = json_string_value(n);
	if (json_string_length(n) > USERS_NAME_MAX || strlen(s) != json_string_length(n) ||
	    !users_name_valid(s)) {
		snprintf(err, errlen, "invalid user name \"%.80s\" (1-%d of A-Z a-z 0-9 . _ @ -)",
			 s, USERS_NAME_MAX);
		goto done;
	}
	memcpy(name, s, json_string_length(n) + 1);
	if (admin_take_password(o, password, err, errlen) != 0 ||
	    admin_take_admin(o, false, admin, err, errlen) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		OPENSSL_cleanse(password, USERS_PASSWORD_MAX + 1);
	admin_json_wipe(json_object_get(o, "password"));
	json_decref(o);
	return rc;
}

int admin_parse_password(const char *body, size_t len, char password[USERS_PASSWORD_MAX + 1],
			 char *err, size_t errlen)
{
	static const char *const fields[] = { "password", NULL };
	password[0] = '\0';
	json_t *o = admin_parse_object(body, len, err, errlen);
	if (o == NULL)
		return -1;
	int rc = admin_only_fields(o, fields, err, errlen) == 0 &&
		admin_take_password(o, password, err, errlen) == 0
	    ? 0
	    : -1;
	if (rc != 0)
		OPENSSL_cleanse(password, USERS_PASSWORD_MAX + 1);
	admin_json_wipe(json_object_get(o, "password"));
	json_decref(o);
	return rc;
}

int admin_parse_admin_flag(const char *body, size_t len, bool *admin, char *err, size_t errlen)
{
	static const char *const fields[] = { "admin", NULL };
	json_t *o = admin_parse_object(body, len, err, errlen);
	if (o == NULL)
		return -1;
	int rc = admin_only_fields(o, fields, err, errlen) == 0 &&
		admin_take_admin(o, true, admin, err, errlen) == 0
	    ? 0
	    : -1;
	json_decref(o);
	return rc;
}

int admin_rfc3339(int64_t unix_ms, char *out, size_t outlen)
{
	/* Floor division: -1 ms is 1969-12-31T23:59:59Z. */
	int64_t secs = unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0);
	time_t t = (time_t)secs;
	struct tm tm;
	if ((int64_t)t != secs || gmtime_r(&t, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int64_t admin_wall_ms(int64_t mono_ms, int64_t mono_now_ms, int64_t unix_now_ms)
{
	return unix_now_ms - (mono_now_ms - mono_ms);
}

/* Write a label value with the exposition format's escapes (\\, \", \n). */
static void admin_label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* # HELP and # TYPE of one family. */
static void admin_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family of labelled counters. */
static void admin_labelled(FILE *f, const char *name, const char *label,
			   const struct admin_counter *v, size_t n)
{
	for (size_t i = 0; i < n && i < ADMIN_LABELS_MAX; i++) {
		fprintf(f, "%s{%s=\"", name, label);
		admin_label_value(f, v[i].label != NULL ? v[i].label : "");
		fprintf(f, "\"} %" PRIu64 "\n", v[i].value);
	}
}

char *admin_metrics_text(const struct admin_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return NULL;
	admin_family(f, "pixelgate_sessions", "gauge",
		     "Sessions on this node by state (active: a viewer is attached; detached: "
		     "waiting for its viewer to come back).");
	fprintf(f, "pixelgate_sessions{state=\"active\"} %" PRIu64 "\n", m->sessions_active);
	fprintf(f, "pixelgate_sessions{state=\"detached\"} %" PRIu64 "\n", m->sessions_detached);
	admin_family(f, "pixelgate_sessions_max", "gauge",
		     "The max_sessions limit in force (0 = no limit).");
	fprintf(f, "pixelgate_sessions_max %d\n", m->sessions_max);
	admin_family(f, "pixelgate_draining", "gauge",
		     "1 while the node is draining (no new sessions), else 0.");
	fprintf(f, "pixelgate_draining %d\n", m->draining ? 1 : 0);
	admin_family(f, "pixelgate_logins_total", "counter", "Staff logins by result.");
	fprintf(f, "pixelgate_logins_total{result=\"ok\"} %" PRIu64 "\n", m->logins_ok);
	fprintf(f, "pixelgate_logins_total{result=\"failed\"} %" PRIu64 "\n", m->logins_failed);
	admin_family(f, "pixelgate_refusals_total", "counter",
		     "Logins refused before a session was given, by reason.");
	admin_labelled(f, "pixelgate_refusals_total", "reason", m->refusals, m->n_refusals);
	admin_family(f, "pixelgate_viewer_sent_bytes_total", "counter", "Bytes sent to viewers.");
	fprintf(f, "pixelgate_viewer_sent_bytes_total %" PRIu64 "\n", m->bytes_out);
	admin_family(f, "pixelgate_viewer_received_bytes_total", "counter",
		     "Bytes received from viewers.");
	fprintf(f, "pixelgate_viewer_received_bytes_total %" PRIu64 "\n", m->bytes_in);
	admin_family(f, "pixelgate_worker_crashes_total", "counter",
		     "Session workers that died without saying why.");
	fprintf(f, "pixelgate_worker_crashes_total %" PRIu64 "\n", m->worker_crashes);
	admin_family(f, "pixelgate_sessions_ended_total", "counter", "Sessions ended, by reason.");
	admin_labelled(f, "pixelgate_sessions_ended_total", "reason", m->ended, m->n_ended);
	admin_family(f, "pixelgate_audit_available", "gauge",
		     "1 while audit records can be written; 0 while they cannot (logins are then "
		     "refused with 503 audit_unavailable unless audit_fail_open).");
	fprintf(f, "pixelgate_audit_available %d\n", m->audit_available ? 1 : 0);
	admin_family(f, "pixelgate_audit_records_total", "counter",
		     "Audit records written since the start.");
	fprintf(f, "pixelgate_audit_records_total %" PRIu64 "\n", m->audit_records);
	admin_family(f, "pixelgate_audit_records_lost_total", "counter",
		     "Audit records that could not be written (each is also a log line).");
	fprintf(f, "pixelgate_audit_records_lost_total %" PRIu64 "\n", m->audit_lost);
	admin_family(f, "pixelgate_tls_certificate_expiry_timestamp_seconds", "gauge",
		     "When the certificate the listeners serve stops being valid (Unix time).");
	fprintf(f, "pixelgate_tls_certificate_expiry_timestamp_seconds %" PRId64 "\n",
		m->cert_not_after);
	admin_family(f, "pixelgate_reloads_total", "counter",
		     "SIGHUP reloads by result (refused: the running configuration was kept).");
	fprintf(f, "pixelgate_reloads_total{result=\"ok\"} %" PRIu64 "\n", m->reloads_ok);
	fprintf(f, "pixelgate_reloads_total{result=\"refused\"} %" PRIu64 "\n", m->reloads_refused);
	admin_family(f, "pixelgate_input_throttled_total", "counter",
		     "Viewer input held to the input budget, by kind (keys_delayed: reading "
		     "paused for the key rate; pointer_coalesced: motion replaced by a later "
		     "position; fbur_demoted: full update requests made incremental).");
	admin_labelled(f, "pixelgate_input_throttled_total", "kind", m->input_throttled,
		       m->n_input_throttled);
	admin_family(f, "pixelgate_input_floods_total", "counter",
		     "Viewers closed with 4001 after 30 s far over the input budget.");
	fprintf(f, "pixelgate_input_floods_total %" PRIu64 "\n", m->input_floods);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void admin_agent_text(bool logins_possible, bool draining, int max_sessions, size_t sessions,
		      char *out, size_t outlen)
{
	if (!logins_possible) {
		snprintf(out, outlen, "down\n");
		return;
	}
	/* Every answer names the operational state and, but for "down", the
	   administrative one: HAProxy keeps a state the agent set until the
	   agent sets another ("drain" after "down" leaves the node down, "up
	   75%" after "drain" leaves it drained). Full is "drain", not "down":
	   terminals that stick to the node (their sessions) still reach it. */
	if (draining || (max_sessions > 0 && sessions >= (size_t)max_sessions)) {
		snprintf(out, outlen, "up drain\n");
		return;
	}
	if (max_sessions <= 0) {
		snprintf(out, outlen, "up ready 100%%\n");
		return;
	}
	uint64_t free_pct = ((uint64_t)max_sessions - sessions) * 100u / (uint64_t)max_sessions;
	if (free_pct == 0)
		free_pct = 1; /* room is left: "0%" would give the node weight 0 */
	snprintf(out, outlen, "up ready %" PRIu64 "%%\n", free_pct);
}
