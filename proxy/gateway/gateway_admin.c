/*
 * gateway_admin.c: the admin API ("admin-http" protocol on the admin TLS
 * vhost; never on the staff listener, where these paths are 404).
 *
 *   GET    /healthz                         no authentication
 *   GET    /metrics                         Prometheus text format
 *   GET    /api/v1/sessions                 DELETE /api/v1/sessions/{id}
 *   GET    /api/v1/limits                   PATCH  /api/v1/limits
 *   GET    /api/v1/users                    POST   /api/v1/users
 *   DELETE /api/v1/users/{name}             PUT    /api/v1/users/{name}/password
 *   POST   /api/v1/users/{name}/lock|unlock PUT    /api/v1/users/{name}/admin
 *   POST   /api/v1/drain                    POST   /api/v1/undrain
 *   GET    /api/v1/forensics                DELETE /api/v1/forensics/{id}
 *
 * Every request is rate-limited per client address (admin_rate_per_s,
 * admin_burst: 429 rate_limited). Every request but /healthz authenticates
 * with HTTP Basic as a user with the admin role; the Argon2id check runs on
 * the password-check threads (gateway_auth.c) like a staff login's, the
 * connection waiting (its body, if any, still being read) until
 * admin_auth_done(); a full queue is 503 busy. Credentials go through the
 * staff login's path (gateway_auth.c): the same lockout, audit records
 * ("via":"admin") and metrics. Bodies are JSON of at
 * most ADMIN_BODY_MAX bytes; every error is {"error": code, "message":
 * text}. Paths, credentials, bodies and the metrics text are handled by the
 * pure functions of admin_text.c; this file holds the lws glue and applies
 * the changes. A reply is built whole, then written in HTTP_WRITEABLE.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_text.h"
#include "forensics.h"
#include "gateway_auth.h"
#include "log.h"
#include "ratelimit.h"

static struct ratelimit admin_rate;   /* admin API requests per client address */
static bool admin_rate_ready;

#define ADMIN_REALM "Basic realm=\"pixelgate admin\""
#define ADMIN_WRITE_CHUNK 16384u   /* bytes of a reply body per lws_write */
#define ADMIN_AUTH_HEADER_MAX 1600 /* Authorization: "Basic " + base64 of name:password */
#define ADMIN_LIMITS_CHANGES_MAX 1024

_Static_assert(GW_REFUSE_COUNT <= ADMIN_LABELS_MAX, "refusal reasons fit the metrics table");
_Static_assert(GW_END_COUNT <= ADMIN_LABELS_MAX, "end reasons fit the metrics table");

/* Per-connection state of "admin-http" (one request at a time, kept over keep-alive). */
struct admin_pss {
	/* the request */
	enum admin_method method;
	struct admin_target target;
	char admin[USERS_NAME_MAX + 1]; /* the authenticated administrator */
	char peer[64];                  /* client address for logs */
	bool reading_body;              /* the body is on its way (kept in body) */
	bool checking;                  /* the password check is queued or running */
	bool body_done;                 /* the whole body arrived (BODY_COMPLETION) */
	long long clen;                 /* Content-Length, -1 when absent */
	bool discarding_body;           /* answered early: the body is read and dropped */
	size_t len;
	char body[ADMIN_BODY_MAX + 1];
	/* the reply, written by admin_write() */
	bool replying;
	bool headers_sent;
	unsigned int status;
	const char *content_type;
	char *reply;                    /* malloc'd */
	size_t reply_len, reply_sent;
	int retry_after_s;              /* > 0: Retry-After header */
	bool challenge;                 /* 401: WWW-Authenticate header */
	char allow[48];                 /* 405: Allow header */
	bool close_after;               /* a body we cannot frame: close after the reply */
};

size_t admin_pss_size(void)
{
	return sizeof(struct admin_pss);
}

/* Forget the request and any reply not yet written; wipe the body. */

/* Audit an administrator's action (who, what, on what, old and new value). */
static void admin_audit(const char *admin, const char *peer, const char *action,
			const char *target, const char *old_value, const char *new_value)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "admin", admin, "action", action,
			      "target", target, "old", old_value, "new", new_value);
	audit_event("admin_action", admin, peer, "", f);
	json_decref(f);
}

static void admin_pss_reset(struct admin_pss *pss)
{
	free(pss->reply);
	OPENSSL_cleanse(pss->body, sizeof pss->body);
	memset(pss, 0, sizeof *pss);
}

/* Take text (malloc'd; NULL = out of memory) as the reply. */
static void admin_reply_text(struct admin_pss *pss, unsigned int status, const char *content_type,
			     char *text)
{
	free(pss->reply);
	pss->reply = text;
	pss->replying = text != NULL;
	pss->headers_sent = false;
	pss->status = status;
	pss->content_type = content_type;
	pss->reply_len = text != NULL ? strlen(text) : 0;
	pss->reply_sent = 0;
}

/* Reply with o as JSON (o is released). */
static void admin_reply_json(struct admin_pss *pss, unsigned int status, json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	admin_reply_text(pss, status, "application/json", text);
}

/* Reply {"error": code, "message": message}. */
static void admin_error(struct admin_pss *pss, unsigned int status, const char *code,
			const char *message)
{
	admin_reply_json(pss, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

/* admin_error with a printf message. */
static void admin_errorf(struct admin_pss *pss, unsigned int status, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void admin_errorf(struct admin_pss *pss, unsigned int status, const char *code,
			 const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	admin_error(pss, status, code, message);
}

/* 401 with the Basic challenge. */
static void admin_unauthorized(struct admin_pss *pss, const char *message)
{
	admin_error(pss, 401, "unauthorized", message);
	pss->challenge = true;
}

/* Reply with what the authentication refused (gateway_auth.c); 401 with the challenge. */
static void admin_refused(struct admin_pss *pss, const struct auth_answer *no)
{
	json_t *o = json_pack("{s:s, s:s}", "error", no->code, "message", no->message);
	if (o != NULL && no->retry_after_s > 0)
		json_object_set_new(o, "retry_after_s", json_integer(no->retry_after_s));
	admin_reply_json(pss, no->status, o);
	pss->retry_after_s = no->retry_after_s;
	pss->challenge = no->status == 401;
}

/* Write the reply: headers first, then the body in chunks, each when writeable. */
static int admin_write(struct lws *wsi, struct admin_pss *pss)
{
	static uint8_t buf[LWS_PRE + ADMIN_WRITE_CHUNK];
	if (!pss->replying)
		return 0;
	if (!pss->headers_sent) {
		uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
		char ra[16];
		if (lws_add_http_common_headers(wsi, pss->status, pss->content_type,
						(lws_filepos_t)pss->reply_len, &p, end) ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
						(const unsigned char *)"no-store", 8, &p, end))
			return -1;
		if (pss->retry_after_s > 0) {
			int n = snprintf(ra, sizeof ra, "%d", pss->retry_after_s);
			if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
							(const unsigned char *)ra, n, &p, end))
				return -1;
		}
		if (pss->challenge &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
						(const unsigned char *)ADMIN_REALM,
						(int)strlen(ADMIN_REALM), &p, end))
			return -1;
		if (pss->allow[0] != '\0' &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
						(const unsigned char *)pss->allow,
						(int)strlen(pss->allow), &p, end))
			return -1;
		if (pss->close_after &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
						(const unsigned char *)"close", 5, &p, end))
			return -1;
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		pss->headers_sent = true;
		lws_callback_on_writable(wsi);
		return 0;
	}
	size_t n = pss->reply_len - pss->reply_sent;
	if (n > ADMIN_WRITE_CHUNK)
		n = ADMIN_WRITE_CHUNK;
	bool last = pss->reply_sent + n == pss->reply_len;
	memcpy(buf + LWS_PRE, pss->reply + pss->reply_sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	pss->reply_sent += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	bool close_after = pss->close_after;
	admin_pss_reset(pss);
	if (close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Write next to the users file (atomically) and make it the users in force.
 * next is taken either way. 0, or -1 with a 500 reply set and nothing changed.
 */
static int admin_users_commit(struct admin_pss *pss, struct users *next)
{
	char err[512];
	if (users_save(next, gw->cfg.users_file, err, sizeof err) != 0) {
		users_free(next);
		log_error("admin %s: users file not written: %s", pss->admin, err);
		admin_errorf(pss, 500, "internal_error",
			     "the users file could not be written (%s); nothing was changed", err);
		return -1;
	}
	auth_users_install(next);
	return 0;
}

/*
 * Check the request's Basic credentials, first half: decode them, refuse a
 * locked-out user or address, and queue the password check. 1 when it is
 * queued (admin_auth_done() follows), else -1 with the reply set (401, 429
 * or 503). The password is wiped here whatever happens.
 */
static int admin_authenticate(struct lws *wsi, struct admin_pss *pss)
{
	char header[ADMIN_AUTH_HEADER_MAX], decoded[ADMIN_AUTH_HEADER_MAX];
	char user[USERS_NAME_MAX + 1], password[USERS_PASSWORD_MAX + 1];
	int rc = -1;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 0) {
		admin_unauthorized(pss, "administrator credentials are required (HTTP Basic)");
		return -1;
	}
	if (n >= (int)sizeof header ||
	    lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
		log_warn("admin API: request from %s refused: Authorization header over %d bytes",
			 pss->peer, ADMIN_AUTH_HEADER_MAX - 1);
		admin_unauthorized(pss, "the Authorization header is too long");
		return -1;
	}
	const char *token = admin_basic_token(header);
	int m = token != NULL ? lws_b64_decode_string(token, decoded, (int)sizeof decoded - 1) : -1;
	if (m < 0 || admin_basic_split(decoded, (size_t)m, user, password) != 0) {
		OPENSSL_cleanse(header, sizeof header);
		OPENSSL_cleanse(decoded, sizeof decoded);
		OPENSSL_cleanse(password, sizeof password);
		log_warn("admin API: request from %s refused: malformed Basic credentials", pss->peer);
		admin_unauthorized(pss, "only HTTP Basic credentials (user:password) are accepted");
		return -1;
	}
	OPENSSL_cleanse(header, sizeof header);
	OPENSSL_cleanse(decoded, sizeof decoded);

	struct auth_answer no;
	if (auth_begin(wsi, AUTH_FOR_ADMIN, user, pss->peer, password, &no) != 0) {
		admin_refused(pss, &no);
		goto done;
	}
	pss->checking = true;
	rc = 1;
done:
	OPENSSL_cleanse(password, sizeof password);
	return rc;
}

/* Wall-clock now in ms since 1970. */
static int64_t admin_unix_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * 200 {"status":"ok"} while the node takes logins; 503 while it refuses them
 * all ("audit_unavailable": the audit log cannot be written; "stopping"), so
 * a balancer's health check stops sending logins here.
 */
static void admin_healthz(struct admin_pss *pss)
{
	const char *status = "ok", *message = "serving";
	if (gw->stopping) {
		status = "stopping";
		message = "the gateway is shutting down";
	} else if (!gw_logins_possible()) {
		status = "audit_unavailable";
		message = "logins are refused: the audit log cannot be written";
	}
	admin_reply_json(pss, strcmp(status, "ok") == 0 ? 200 : 503,
			 json_pack("{s:s, s:s, s:b, s:b, s:I}", "status", status, "message", message,
				   "audit_available", audit_writable(), "draining", gw->draining,
				   "sessions", (json_int_t)session_count_live()));
}

static void admin_metrics(struct admin_pss *pss)
{
	struct admin_metrics m = { 0 };
	size_t live = session_count_live(), detached = session_count_detached();
	m.sessions_active = live > detached ? live - detached : 0;
	m.sessions_detached = detached;
	m.sessions_max = gw->limits.max_sessions;
	m.draining = gw->draining;
	m.logins_ok = gw->metrics.logins_ok;
	m.logins_failed = gw->metrics.logins_failed;
	for (int i = 0; i < GW_REFUSE_COUNT; i++)
		m.refusals[i] = (struct admin_counter){ gw_refusal_name((enum gw_refusal)i),
							gw->metrics.refusals[i] };
	m.n_refusals = GW_REFUSE_COUNT;
	m.bytes_out = gw->metrics.bytes_out;
	m.bytes_in = gw->metrics.bytes_in;
	m.worker_crashes = gw->metrics.worker_crashes;
	for (int i = 0; i < GW_END_COUNT; i++)
		m.ended[i] = (struct admin_counter){ gw_end_reason_name((enum gw_end_reason)i),
						     gw->metrics.sessions_ended[i] };
	m.n_ended = GW_END_COUNT;
	m.audit_available = audit_writable();
	m.input_throttled[0] = (struct admin_counter){ "keys_delayed",
						       gw->metrics.input.keys_delayed };
	m.input_throttled[1] = (struct admin_counter){ "pointer_coalesced",
						       gw->metrics.input.pointer_coalesced };
	m.input_throttled[2] = (struct admin_counter){ "fbur_demoted",
						       gw->metrics.input.fbur_demoted };
	m.n_input_throttled = 3;
	m.input_floods = gw->metrics.input_floods;
	admin_reply_text(pss, 200, "text/plain; version=0.0.4; charset=utf-8",
			 admin_metrics_text(&m));
}

/* A session's state as the API names it; NULL for one already reaped. */
static const char *admin_session_state(const struct gw_session *s)
{
	switch (s->state) {
	case GW_SESSION_STARTING:
		return "starting";
	case GW_SESSION_READY:
		return s->conn != NULL ? "active" : "detached";
	case GW_SESSION_ENDING:
		return "ending";
	case GW_SESSION_DEAD:
		break;
	}
	return NULL;
}

/* One session for GET /api/v1/sessions; NULL when out of memory. */
static json_t *admin_session_json(const struct gw_session *s, const char *state, int64_t mono_now,
				  int64_t unix_now)
{
	char started[32] = "", last[32] = "";
	if (admin_rfc3339(admin_wall_ms(s->started_ms, mono_now, unix_now), started,
			  sizeof started) != 0)
		snprintf(started, sizeof started, "1970-01-01T00:00:00Z");
	/* last_input_ms starts at started_ms: no input yet is null. */
	bool have_input = s->last_input_ms > s->started_ms &&
			  admin_rfc3339(admin_wall_ms(s->last_input_ms, mono_now, unix_now), last,
					sizeof last) == 0;
	double fps = (double)(long long)(s->fps * 10.0 + 0.5) / 10.0;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:f, s:s}", "id", s->id, "user",
			 s->user, "client", s->peer, "started", started, "last_input",
			 have_input ? json_string(last) : json_null(), "bytes_in",
			 (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out, "fps", fps,
			 "state", state);
}

static void admin_sessions_list(struct admin_pss *pss)
{
	json_t *list = json_array();
	int64_t mono_now = gw_now_ms(), unix_now = admin_unix_now_ms();
	for (const struct gw_session *s = gw->sessions; s != NULL && list != NULL; s = s->next) {
		const char *state = admin_session_state(s);
		if (state == NULL)
			continue;
		if (json_array_append_new(list, admin_session_json(s, state, mono_now, unix_now)) !=
		    0) {
			json_decref(list);
			list = NULL;
		}
	}
	admin_reply_json(pss, 200, list != NULL ? json_pack("{s:o}", "sessions", list) : NULL);
}

static void admin_session_delete(struct admin_pss *pss)
{
	const char *id = pss->target.arg;
	struct gw_session *s = session_find_id(id);
	if (s == NULL || s->state == GW_SESSION_DEAD) {
		admin_errorf(pss, 404, "not_found", "no session %s", id);
		return;
	}
	if (s->state != GW_SESSION_ENDING) {
		log_info("admin %s ended session %s of %s", pss->admin, s->id, s->user);
		admin_audit(pss->admin, pss->peer, "end_session", s->id, "active", "ended");
		session_end(s, GW_END_ADMIN, GW_CLOSE_ADMIN, "ended by administrator");
	}
	admin_reply_json(pss, 200, json_pack("{s:s}", "ended", id));
}

#define ADMIN_FORENSICS_LIST_MAX 1000 /* kept directories listed, at most */
#define ADMIN_SUMMARY_MAX 65536       /* bytes of a summary.json read */

static int admin_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* forensics_dir/NAME/summary.json, or NULL (a copy not finished, or unreadable). */
static json_t *admin_forensic_summary(int dirfd, const char *name)
{
	char rel[CONFIG_PATH_MAX + 64], buf[ADMIN_SUMMARY_MAX];
	snprintf(rel, sizeof rel, "%s/summary.json", name);
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)sizeof buf)
		n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0)
		return NULL;
	json_t *v = json_loadb(buf, (size_t)n, 0, NULL);
	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* One kept directory for GET /api/v1/forensics. */
static json_t *admin_forensic_json(int dirfd, const char *name)
{
	const char *id = name + 8; /* after "session-" */
	json_t *sum = admin_forensic_summary(dirfd, name);
	const struct gw_session *s = session_find_id(id);
	bool copying = sum == NULL && s != NULL && s->state != GW_SESSION_DEAD;
	json_t *o = json_pack("{s:s, s:s}", "id", id, "state",
			      sum != NULL ? "complete" : copying ? "copying" : "incomplete");
	if (o == NULL || sum == NULL) {
		json_decref(sum);
		return o;
	}
	static const char *const keys[] = { "user", "what", "kept", "entries", "files",
					    "bytes", "truncated", "manifest_sha256" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(sum, keys[i]);
		if (v != NULL && (json_is_string(v) || json_is_integer(v) || json_is_boolean(v)))
			json_object_set(o, keys[i], v);
	}
	json_decref(sum);
	return o;
}

static void admin_forensics_list(struct admin_pss *pss)
{
	DIR *d = opendir(gw->cfg.forensics_dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			admin_reply_json(pss, 200, json_pack("{s:[]}", "forensics"));
			return;
		}
		admin_errorf(pss, 500, "forensics_unreadable", "forensics_dir %s: %s",
			     gw->cfg.forensics_dir, strerror(errno));
		return;
	}
	char *names[ADMIN_FORENSICS_LIST_MAX];
	size_t n = 0;
	bool more = false;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!forensics_name_ok(e->d_name))
			continue;
		if (n == ADMIN_FORENSICS_LIST_MAX) {
			more = true;
			break;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	qsort(names, n, sizeof names[0], admin_name_cmp);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		if (list != NULL && json_array_append_new(list, admin_forensic_json(dirfd(d), names[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
		free(names[i]);
	}
	closedir(d);
	admin_reply_json(pss, 200,
			 list != NULL ? json_pack("{s:o, s:b}", "forensics", list, "more", more) : NULL);
}

static void admin_forensic_delete(struct admin_pss *pss)
{
	const char *id = pss->target.arg;
	char dir[CONFIG_PATH_MAX + 32];
	struct stat st;
	snprintf(dir, sizeof dir, "%s/session-%.16s", gw->cfg.forensics_dir, id);
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		admin_errorf(pss, 404, "not_found", "no kept directory of session %s", id);
		return;
	}
	const struct gw_session *s = session_find_id(id);
	if (s != NULL && s->state != GW_SESSION_DEAD) {
		admin_errorf(pss, 409, "copying",
			     "session %s is still ending: its directory is being copied", id);
		return;
	}
	json_t *sum = admin_forensic_summary(AT_FDCWD, dir);
	const char *sha = json_string_value(json_object_get(sum, "manifest_sha256"));
	char old[80];
	snprintf(old, sizeof old, "%s", sha != NULL ? sha : "incomplete");
	json_decref(sum);
	session_remove_dir(dir);
	if (lstat(dir, &st) == 0) {
		admin_errorf(pss, 500, "remove_failed",
			     "session-%s could not be removed entirely (the gateway's log says why)",
			     id);
		return;
	}
	log_info("admin %s removed the kept directory of session %s", pss->admin, id);
	admin_audit(pss->admin, pss->peer, "remove_forensics", id, old, "removed");
	admin_reply_json(pss, 200, json_pack("{s:s}", "removed", id));
}

/* GET /api/v1/limits, and the reply of a PATCH. */
static void admin_limits_reply(struct admin_pss *pss)
{
	admin_reply_text(pss, 200, "application/json", limits_to_json(&gw->limits));
}

static void admin_limits_patch(struct admin_pss *pss)
{
	struct limits next = gw->limits;
	char field[64] = "", err[512] = "", changes[ADMIN_LIMITS_CHANGES_MAX] = "";
	if (pss->len == 0) {
		admin_error(pss, 400, "bad_request",
			    "a JSON object of limits is required as the request body");
		return;
	}
	if (limits_patch_json(&next, pss->body, pss->len, field, sizeof field, err, sizeof err,
			      changes, sizeof changes) != 0) {
		log_warn("admin %s: limits not changed: %s", pss->admin, err);
		if (field[0] != '\0')
			admin_reply_json(pss, 400,
					 json_pack("{s:s, s:s, s:s}", "error", "invalid_limit",
						   "field", field, "message", err));
		else
			admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (changes[0] != '\0') {
		/* Persist first: a change that would not survive a restart is not made. */
		if (limits_save_overrides(&gw->limits_base, &next, gw->limits_path, err,
					  sizeof err) != 0) {
			log_error("admin %s: limits not changed: %s", pss->admin, err);
			admin_errorf(pss, 500, "internal_error",
				     "the limits could not be saved (%s); nothing was changed", err);
			return;
		}
		gw->limits = next;
		session_limits_changed();
		log_info("admin %s changed limits: %s", pss->admin, changes);
		/* changes reads "name old->new, ...": both values are in it */
		admin_audit(pss->admin, pss->peer, "set_limits", "limits", "", changes);
	}
	admin_limits_reply(pss);
}

/* {"name", "role", "locked"} */
static json_t *admin_user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:b}", "name", u->name, "role", u->admin ? "admin" : "staff",
			 "locked", u->locked);
}

static void admin_users_list(struct admin_pss *pss)
{
	gw_users_refresh();
	json_t *list = json_array();
	for (size_t i = 0; i < gw->users.n && list != NULL; i++) {
		if (json_array_append_new(list, admin_user_json(&gw->users.v[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	admin_reply_json(pss, 200, list != NULL ? json_pack("{s:o}", "users", list) : NULL);
}

/* The user the path names, from a fresh users file; NULL with 404 set. */
static const struct user *admin_target_user(struct admin_pss *pss)
{
	gw_users_refresh();
	const struct user *u = users_find(&gw->users, pss->target.arg);
	if (u == NULL)
		admin_errorf(pss, 404, "not_found", "no user \"%s\"", pss->target.arg);
	return u;
}

/* A copy of the users to change; -1 with 500 set. */
static int admin_users_copy(struct admin_pss *pss, struct users *next)
{
	if (users_copy(next, &gw->users) == 0)
		return 0;
	admin_error(pss, 500, "internal_error", "out of memory");
	return -1;
}

static void admin_user_add(struct admin_pss *pss)
{
	char name[USERS_NAME_MAX + 1], password[USERS_PASSWORD_MAX + 1], err[256];
	bool admin;
	struct users next;
	if (admin_parse_new_user(pss->body, pss->len, name, password, &admin, err, sizeof err) !=
	    0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	gw_users_refresh();
	if (users_find(&gw->users, name) != NULL) {
		admin_errorf(pss, 409, "exists", "user \"%s\" already exists", name);
		goto done;
	}
	if (admin_users_copy(pss, &next) != 0)
		goto done;
	if (users_set(&next, name, admin, password, err, sizeof err) != 0) {
		users_free(&next);
		admin_error(pss, 400, "bad_request", err);
		goto done;
	}
	if (admin_users_commit(pss, &next) != 0)
		goto done;
	log_info("admin %s added user %s (%s)", pss->admin, name, admin ? "admin" : "staff");
	admin_audit(pss->admin, pss->peer, "add_user", name, "", admin ? "admin" : "staff");
	admin_reply_json(pss, 201, admin_user_json(users_find(&gw->users, name)));
done:
	OPENSSL_cleanse(password, sizeof password);
}

static void admin_user_delete(struct admin_pss *pss)
{
	struct users next;
	if (admin_target_user(pss) == NULL)
		return;
	if (strcmp(pss->target.arg, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot delete your own account");
		return;
	}
	if (admin_users_copy(pss, &next) != 0)
		return;
	users_del(&next, pss->target.arg);
	if (admin_users_commit(pss, &next) != 0)
		return;
	log_info("admin %s deleted user %s", pss->admin, pss->target.arg);
	admin_audit(pss->admin, pss->peer, "delete_user", pss->target.arg, "exists", "deleted");
	admin_reply_json(pss, 200, json_pack("{s:s}", "deleted", pss->target.arg));
}

static void admin_user_password(struct admin_pss *pss)
{
	char password[USERS_PASSWORD_MAX + 1], err[256];
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	bool admin = u->admin;
	if (admin_parse_password(pss->body, pss->len, password, err, sizeof err) != 0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (admin_users_copy(pss, &next) != 0)
		goto done;
	if (users_set(&next, pss->target.arg, admin, password, err, sizeof err) != 0) {
		users_free(&next);
		admin_error(pss, 400, "bad_request", err);
		goto done;
	}
	if (admin_users_commit(pss, &next) != 0)
		goto done;
	log_info("admin %s changed the password of %s", pss->admin, pss->target.arg);
	admin_audit(pss->admin, pss->peer, "set_password", pss->target.arg, "", "(changed)");
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
done:
	OPENSSL_cleanse(password, sizeof password);
}

static void admin_user_lock(struct admin_pss *pss, bool lock)
{
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	if (lock && strcmp(u->name, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot lock your own account");
		return;
	}
	if (u->locked != lock) {
		if (admin_users_copy(pss, &next) != 0)
			return;
		users_set_locked(&next, pss->target.arg, lock);
		if (admin_users_commit(pss, &next) != 0)
			return;
		log_info("admin %s %s user %s", pss->admin, lock ? "locked" : "unlocked",
			 pss->target.arg);
		admin_audit(pss->admin, pss->peer, lock ? "lock_user" : "unlock_user",
			    pss->target.arg, lock ? "unlocked" : "locked", lock ? "locked" : "unlocked");
	}
	if (!lock) {
		/* A fresh start: failed logins before the unlock no longer count. */
		auth_forget_failures(pss->target.arg);
	}
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
}

static void admin_user_role(struct admin_pss *pss)
{
	char err[256];
	bool admin;
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	if (admin_parse_admin_flag(pss->body, pss->len, &admin, err, sizeof err) != 0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (!admin && strcmp(u->name, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot remove your own admin role");
		return;
	}
	if (u->admin != admin) {
		if (admin_users_copy(pss, &next) != 0)
			return;
		users_find(&next, pss->target.arg)->admin = admin;
		if (admin_users_commit(pss, &next) != 0)
			return;
		log_info("admin %s %s the admin role %s user %s", pss->admin,
			 admin ? "gave" : "took", admin ? "to" : "from", pss->target.arg);
		admin_audit(pss->admin, pss->peer, "set_admin_role", pss->target.arg,
			    admin ? "staff" : "admin", admin ? "admin" : "staff");
	}
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
}

static void admin_drain(struct admin_pss *pss, bool drain)
{
	if (gw->draining != drain)
		log_info("admin %s %s: %s", pss->admin, drain ? "drains the node" : "undrains the node",
			 drain ? "no new sessions, existing ones go on" : "new sessions are accepted");
	if (gw->draining != drain)
		admin_audit(pss->admin, pss->peer, drain ? "drain" : "undrain", "node",
			    gw->draining ? "draining" : "serving", drain ? "draining" : "serving");
	gw->draining = drain;
	admin_reply_json(pss, 200, json_pack("{s:b}", "draining", drain));
}

/* Answer an authenticated request whose body (if any) has arrived. */
static void admin_dispatch(struct admin_pss *pss)
{
	bool get = pss->method == ADMIN_GET;
	switch (pss->target.route) {
	case ADMIN_ROUTE_HEALTHZ:
		admin_healthz(pss);
		break;
	case ADMIN_ROUTE_METRICS:
		admin_metrics(pss);
		break;
	case ADMIN_ROUTE_SESSIONS:
		admin_sessions_list(pss);
		break;
	case ADMIN_ROUTE_SESSION:
		admin_session_delete(pss);
		break;
	case ADMIN_ROUTE_LIMITS:
		if (get)
			admin_limits_reply(pss);
		else
			admin_limits_patch(pss);
		break;
	case ADMIN_ROUTE_USERS:
		if (get)
			admin_users_list(pss);
		else
			admin_user_add(pss);
		break;
	case ADMIN_ROUTE_USER:
		admin_user_delete(pss);
		break;
	case ADMIN_ROUTE_USER_PASSWORD:
		admin_user_password(pss);
		break;
	case ADMIN_ROUTE_USER_LOCK:
	case ADMIN_ROUTE_USER_UNLOCK:
		admin_user_lock(pss, pss->target.route == ADMIN_ROUTE_USER_LOCK);
		break;
	case ADMIN_ROUTE_USER_ADMIN:
		admin_user_role(pss);
		break;
	case ADMIN_ROUTE_DRAIN:
	case ADMIN_ROUTE_UNDRAIN:
		admin_drain(pss, pss->target.route == ADMIN_ROUTE_DRAIN);
		break;
	case ADMIN_ROUTE_FORENSICS:
		admin_forensics_list(pss);
		break;
	case ADMIN_ROUTE_FORENSIC:
		admin_forensic_delete(pss);
		break;
	case ADMIN_ROUTE_NONE:
		admin_error(pss, 404, "not_found", "no such path");
		break;
	}
}

static enum admin_method admin_method_of(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
		return ADMIN_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
		return ADMIN_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0)
		return ADMIN_PUT;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0)
		return ADMIN_PATCH;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0)
		return ADMIN_DELETE;
	return ADMIN_METHOD_OTHER;
}

/* The request's Content-Length: 0 and *len (-1 when absent), or -1 when malformed. */
static int admin_content_length(struct lws *wsi, long long *len)
{
	char buf[24];
	*len = -1;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return 0;
	if (n >= (int)sizeof buf || lws_hdr_copy(wsi, buf, sizeof buf,
						 WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return -1;
	if (strspn(buf, "0123456789") != strlen(buf) || strlen(buf) > 18)
		return -1;
	*len = strtoll(buf, NULL, 10);
	return 0;
}

/*
 * A request's headers are in: route it, authenticate it, and either answer
 * now or wait for its body. 0, or -1 to close the connection.
 */
static int admin_begin(struct lws *wsi, struct admin_pss *pss, const char *uri)
{
	gw_peer(wsi, pss->peer, sizeof pss->peer);
	if (!admin_rate_ready) {
		ratelimit_init(&admin_rate);
		admin_rate_ready = true;
	}
	int64_t wait_ms = ratelimit_take(&admin_rate, pss->peer, gw->limits.admin_rate_per_s,
					 gw->limits.admin_burst, gw_now_ms());
	pss->method = admin_method_of(wsi);
	admin_route_parse(uri, &pss->target);
	long long clen;
	bool bad_length = admin_content_length(wsi, &clen) != 0;
	pss->clen = clen;
	/* A body we cannot frame: answer, then close. */
	pss->close_after = bad_length ||
			   lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	unsigned int methods = admin_route_methods(pss->target.route);

	if (wait_ms > 0) {
		int retry_s = ratelimit_retry_after_s(wait_ms);
		gw->metrics.refusals[GW_REFUSE_ADMIN_RATE_LIMITED]++;
		/* Counted and audited as the staff login's rate limit is (gateway_auth.c). */
		if (auth_refusal_count(AUTH_FOR_ADMIN, "login_refused_rate", "", pss->peer,
				       "rate_limited"))
			log_warn("admin API: requests from %s refused: over admin_rate_per_s %d "
				 "(burst %d); further refusals are counted, audited once a minute",
				 pss->peer, gw->limits.admin_rate_per_s, gw->limits.admin_burst);
		admin_reply_json(pss, 429,
				 json_pack("{s:s, s:s, s:i}", "error", "rate_limited", "message",
					   "too many requests from your address: wait before "
					   "trying again",
					   "retry_after_s", retry_s));
		pss->retry_after_s = retry_s;
	} else if (pss->target.route == ADMIN_ROUTE_NONE) {
		admin_error(pss, 404, "not_found", "no such path");
	} else if (!(methods & (1u << pss->method))) {
		admin_allow_text(methods, pss->allow, sizeof pss->allow);
		admin_errorf(pss, 405, "method_not_allowed", "use %s for %s", pss->allow, uri);
	} else if (bad_length) {
		admin_error(pss, 400, "bad_request", "the Content-Length header is not a number");
	} else if (clen > ADMIN_BODY_MAX) {
		log_warn("admin API: request from %s refused: body of %lld bytes", pss->peer, clen);
		admin_errorf(pss, 400, "bad_request", "the request body is over %d bytes",
			     ADMIN_BODY_MAX);
	} else if (pss->target.route != ADMIN_ROUTE_HEALTHZ) {
		if (admin_authenticate(wsi, pss) > 0) {
			/* Checked off the loop: admin_auth_done() goes on; the body is kept meanwhile. */
			pss->reading_body = clen > 0;
			return 0;
		}
		/* reply set */
	} else if (admin_route_needs_body(pss->target.route, pss->method) && clen < 0) {
		admin_error(pss, 411, "length_required", "a Content-Length header is required");
	} else if (clen > 0) {
		pss->reading_body = true;
		return 0; /* admin_dispatch() at HTTP_BODY_COMPLETION */
	} else {
		admin_dispatch(pss);
	}
	if (!pss->replying)
		return -1;
	if (clen > 0 && !pss->close_after) {
		/*
		 * Answered before the body: read it to the end first (lws does
		 * not write while a body is coming, and closing with unread
		 * bytes would reset the connection under the reply).
		 */
		pss->discarding_body = true;
		return 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * wsi's password check is done (on the loop, from auth_poll()): finish the
 * authentication and go on as admin_begin() does after it. Only
 * lws_callback_on_writable() or an asynchronous close here: nothing that
 * could free pss while it is used.
 */
void admin_auth_done(struct lws *wsi, const struct auth_result *r)
{
	struct admin_pss *pss = lws_wsi_user(wsi);
	if (pss == NULL || !pss->checking)
		return;
	pss->checking = false;
	struct auth_answer no;
	const struct user *u = auth_finish(AUTH_FOR_ADMIN, pss->peer, r, &no);
	if (u == NULL) {
		admin_refused(pss, &no);
	} else {
		snprintf(pss->admin, sizeof pss->admin, "%s", u->name);
		if (admin_route_needs_body(pss->target.route, pss->method) && pss->clen < 0)
			admin_error(pss, 411, "length_required", "a Content-Length header is required");
		else if (pss->clen > 0 && !pss->body_done)
			return; /* admin_dispatch() at HTTP_BODY_COMPLETION */
		else
			admin_dispatch(pss);
		OPENSSL_cleanse(pss->body, sizeof pss->body);
	}
	if (!pss->replying) {
		/* Out of memory for the reply: close, asynchronously (pss stays valid here). */
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	if (pss->clen > 0 && !pss->body_done && !pss->close_after) {
		/* Refused before the whole body came: read it to the end, then answer. */
		pss->reading_body = false;
		pss->discarding_body = true;
		OPENSSL_cleanse(pss->body, sizeof pss->body);
		return;
	}
	lws_callback_on_writable(wsi);
}

int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct admin_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
		/* without this lws hangs up on an upgrade here without an answer */
		char peer[64];

		log_warn("admin API: WebSocket upgrade from %s refused: the admin API serves none",
			 gw_peer(wsi, peer, sizeof peer));
		return gw_refuse_upgrade(wsi, 404, "not_found",
					 "the admin API serves no WebSocket (use the staff listener)");
	}

	case LWS_CALLBACK_HTTP:
		admin_pss_reset(pss);
		return admin_begin(wsi, pss, in != NULL ? in : "");

	case LWS_CALLBACK_HTTP_BODY:
		/* lws delivers an empty body for a POST with Content-Length: 0 */
		if (pss->discarding_body || len == 0)
			return 0;
		if (!pss->reading_body)
			return -1;
		if (len > ADMIN_BODY_MAX - pss->len)
			return -1; /* more than its Content-Length promised */
		memcpy(pss->body + pss->len, in, len);
		pss->len += len;
		pss->body[pss->len] = '\0';
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (pss->discarding_body) {
			pss->discarding_body = false;
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (!pss->reading_body)
			return 0; /* a POST with Content-Length: 0, answered already */
		pss->reading_body = false;
		pss->body_done = true;
		if (pss->checking)
			return 0; /* admin_auth_done() dispatches */
		admin_dispatch(pss);
		OPENSSL_cleanse(pss->body, sizeof pss->body);
		if (!pss->replying)
			return -1;
		lws_callback_on_writable(wsi);
		return 0;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		return admin_write(wsi, pss);

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* lws_cancel_service(): a password check may be done (fake wsi, no pss). */
		auth_poll();
		return 0;

	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		/* A check still queued or running must never reach this wsi. */
		auth_cancel(wsi);
		if (pss != NULL)
			admin_pss_reset(pss);
		break;

	case LWS_CALLBACK_WSI_DESTROY:
		auth_cancel(wsi);
		break;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
