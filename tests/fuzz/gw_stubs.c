/*
 * gw_stubs.c: see gw_stubs.h. Links with proxy/common/config.c and
 * node_limits.c (the defaults of a fresh daemon) and support.c (the log).
 */
#include "gw_stubs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define WEAK __attribute__((weak))

/* ---- the daemon's state ---------------------------------------------------- */

static struct gateway fuzz_gw_state;
struct gateway *gw = &fuzz_gw_state;
int64_t fuzz_now_ms;

void fuzz_gw_reset(void)
{
	struct lockout *lockout = gw->lockout;
	struct ticket_store *tickets = gw->tickets;
	memset(gw, 0, sizeof *gw);
	config_defaults(&gw->cfg);
	limits_defaults(&gw->limits_base);
	gw->limits = gw->limits_base;
	gw->session_exe_fd = -1;
	gw->priv_fd = -1;
	gw->signal_fd = -1;
	/* the tables are big: kept from one input to the next, emptied */
	if (lockout == NULL)
		lockout = malloc(sizeof *lockout);
	if (tickets == NULL)
		tickets = malloc(sizeof *tickets);
	FUZZ_CHECK(lockout != NULL && tickets != NULL);
	lockout_init(lockout);
	ticket_store_init(tickets);
	gw->lockout = lockout;
	gw->tickets = tickets;
	fuzz_now_ms = 1000000;
	fuzz_audits_clear();
	fuzz_audit_rc = 0;
	fuzz_audit_up = true;
	fuzz_ncloses = fuzz_handovers = 0;
	fuzz_spawns = fuzz_kills = 0;
	fuzz_cells = false;
	fuzz_live_sessions = fuzz_user_sessions = 0;
	fuzz_suls_clear();
	memset(&fuzz_auth, 0, sizeof fuzz_auth);
	fuzz_auth_rc = 0;
	fuzz_auth_pending = 0;
}

WEAK int64_t gw_now_ms(void)
{
	return fuzz_now_ms;
}

WEAK int64_t gw_wall_ms(void)
{
	return 1767225600000 + fuzz_now_ms; /* 2026-01-01 */
}

WEAK const char *gw_peer(struct lws *wsi, char *buf, size_t len)
{
	(void)wsi;
	snprintf(buf, len, "192.0.2.1");
	return buf;
}

/* ---- gateway_audit.c ------------------------------------------------------- */

struct fuzz_audit fuzz_audits[FUZZ_AUDITS_MAX];
size_t fuzz_naudits;
int fuzz_audit_rc;
bool fuzz_audit_up = true;

void fuzz_audits_clear(void)
{
	for (size_t i = 0; i < fuzz_naudits; i++)
		json_decref(fuzz_audits[i].fields);
	fuzz_naudits = 0;
}

int fuzz_audit_find(const char *event, size_t from)
{
	for (size_t i = from; i < fuzz_naudits; i++)
		if (strcmp(fuzz_audits[i].event, event) == 0)
			return (int)i;
	return -1;
}

WEAK int audit_event(const char *event, const char *user, const char *client, const char *session,
		     json_t *fields)
{
	FUZZ_CHECK(event != NULL && user != NULL && client != NULL && session != NULL);
	FUZZ_CHECK(event[0] != '\0' && strlen(event) < sizeof fuzz_audits[0].event);
	FUZZ_CHECK(strspn(event, "abcdefghijklmnopqrstuvwxyz_") == strlen(event));
	FUZZ_CHECK(strlen(user) < sizeof fuzz_audits[0].user);
	FUZZ_CHECK(strlen(client) < sizeof fuzz_audits[0].client);
	FUZZ_CHECK(strlen(session) < sizeof fuzz_audits[0].session);
	FUZZ_CHECK(fields == NULL || json_is_object(fields));
	FUZZ_CHECK(fuzz_naudits < FUZZ_AUDITS_MAX);
	struct fuzz_audit *a = &fuzz_audits[fuzz_naudits++];
	snprintf(a->event, sizeof a->event, "%s", event);
	snprintf(a->user, sizeof a->user, "%s", user);
	snprintf(a->client, sizeof a->client, "%s", client);
	snprintf(a->session, sizeof a->session, "%s", session);
	a->fields = fields != NULL ? json_deep_copy(fields) : NULL;
	FUZZ_CHECK(fields == NULL || a->fields != NULL);
	return fuzz_audit_rc;
}

/* Records can be written, or audit_fail_open lets logins go on without. */
WEAK bool audit_available(void)
{
	return fuzz_audit_up || gw->cfg.audit_fail_open;
}

WEAK void audit_sync(void)
{
}

/* ---- gateway_auth.c -------------------------------------------------------- */

struct fuzz_auth fuzz_auth;
int fuzz_auth_rc;
size_t fuzz_auth_pending;

WEAK int auth_submit(struct lws *wsi, enum auth_for kind, const char *user, const char *hash,
		     bool directory, const char *tag, const char *password)
{
	FUZZ_CHECK(kind == AUTH_FOR_STAFF || kind == AUTH_FOR_ADMIN);
	FUZZ_CHECK(!directory || hash == NULL); /* a directory check has no hash */
	if (fuzz_auth_rc != 0)
		return fuzz_auth_rc;
	memset(&fuzz_auth, 0, sizeof fuzz_auth);
	fuzz_auth.submitted = true;
	fuzz_auth.wsi = wsi;
	FUZZ_CHECK(strlen(user) <= USERS_NAME_MAX);
	FUZZ_CHECK(strlen(password) <= USERS_PASSWORD_MAX);
	FUZZ_CHECK(strlen(tag) < sizeof fuzz_auth.tag);
	strcpy(fuzz_auth.user, user);
	strcpy(fuzz_auth.password, password);
	strcpy(fuzz_auth.tag, tag);
	fuzz_auth.had_hash = hash != NULL;
	if (hash != NULL) {
		FUZZ_CHECK(strlen(hash) < sizeof fuzz_auth.hash);
		strcpy(fuzz_auth.hash, hash);
	}
	return 0;
}

/* gateway_totp.c: no second factor in the fuzzed worlds */
WEAK int auth_second_factor(const struct auth_identity *id, const char *peer, const char *otp,
			    bool *checked, struct auth_answer *out)
{
	(void)peer;
	(void)out;
	FUZZ_CHECK(id != NULL && id->name[0] != '\0');
	FUZZ_CHECK(strlen(otp) <= LOGIN_OTP_DIGITS);
	*checked = false;
	return 0;
}

WEAK void auth_cancel(struct lws *wsi)
{
	if (fuzz_auth.wsi == wsi)
		fuzz_auth.submitted = false;
}

WEAK size_t auth_pending(const char *tag)
{
	(void)tag;
	return fuzz_auth_pending;
}

WEAK void auth_poll(void)
{
}

/* ---- gateway_priv.c, gateway_relay.c, gateway_record.c, gateway_session.c -- */

unsigned fuzz_spawns, fuzz_kills;
bool fuzz_cells;

WEAK bool priv_cells(void)
{
	return fuzz_cells;
}

WEAK int priv_spawn(const char *id, int policy)
{
	(void)id;
	FUZZ_CHECK(policy >= 0 && policy <= CONFIG_GROUPS_MAX);
	fuzz_spawns++;
	return 0;
}

WEAK void priv_kill(const char *id)
{
	(void)id;
	fuzz_kills++;
}

WEAK void priv_keep(const char *id, const char *user, const char *what)
{
	FUZZ_CHECK(id != NULL && user != NULL && what != NULL);
	fuzz_kills++;
}

struct fuzz_close fuzz_closes[FUZZ_CLOSES_MAX];
size_t fuzz_ncloses, fuzz_handovers;

WEAK void relay_close(struct gw_conn *conn, int code, const char *reason)
{
	FUZZ_CHECK(conn != NULL && reason != NULL);
	FUZZ_CHECK(fuzz_ncloses < FUZZ_CLOSES_MAX);
	struct fuzz_close *c = &fuzz_closes[fuzz_ncloses++];
	c->conn = conn;
	c->code = code;
	FUZZ_CHECK(strlen(reason) < sizeof c->reason);
	strcpy(c->reason, reason);
}

WEAK void relay_hand_over(struct gw_conn *conn)
{
	FUZZ_CHECK(conn != NULL);
	fuzz_handovers++;
}

WEAK void record_close(struct gw_conn *conn)
{
	(void)conn;
}

size_t fuzz_live_sessions, fuzz_user_sessions;

WEAK size_t session_count_live(void)
{
	return fuzz_live_sessions;
}

WEAK size_t session_count_user(const char *user)
{
	(void)user;
	return fuzz_user_sessions;
}

/* No running session to take over: the login's own policy is the session's. */
WEAK struct gw_session *session_find_user(const char *user)
{
	(void)user;
	return NULL;
}

WEAK bool session_uid_free(void)
{
	return true;
}

WEAK size_t pool_count(void)
{
	return 0;
}

/* ---- libwebsockets: timers ------------------------------------------------- */

#define FUZZ_SULS_MAX 64
static lws_sorted_usec_list_t *fuzz_suls[FUZZ_SULS_MAX];
static size_t fuzz_nsuls;

void lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb,
		      lws_usec_t us)
{
	(void)ctx;
	(void)tsi;
	FUZZ_CHECK(sul != NULL && cb != NULL && us >= 0);
	sul->cb = cb;
	sul->us = us;
	if (fuzz_sul_pending(sul))
		return;
	FUZZ_CHECK(fuzz_nsuls < FUZZ_SULS_MAX);
	fuzz_suls[fuzz_nsuls++] = sul;
}

void lws_sul_cancel(lws_sorted_usec_list_t *sul)
{
	for (size_t i = 0; i < fuzz_nsuls; i++)
		if (fuzz_suls[i] == sul) {
			fuzz_suls[i] = fuzz_suls[--fuzz_nsuls];
			return;
		}
}

size_t fuzz_suls_pending(void)
{
	return fuzz_nsuls;
}

bool fuzz_sul_pending(const lws_sorted_usec_list_t *sul)
{
	for (size_t i = 0; i < fuzz_nsuls; i++)
		if (fuzz_suls[i] == sul)
			return true;
	return false;
}

void fuzz_suls_clear(void)
{
	fuzz_nsuls = 0;
}

/* ---- libwebsockets: connections ------------------------------------------- */

void fuzz_wsi_answer_reset(struct lws *wsi)
{
	wsi->writeable_asked = false;
	wsi->status = 0;
	wsi->headers_done = false;
	wsi->content_type[0] = '\0';
	wsi->content_length = 0;
	wsi->retry_after = -1;
	wsi->no_store = false;
	wsi->body_len = 0;
	wsi->body_final = false;
}

void fuzz_wsi_init(struct lws *wsi, size_t user_size,
		   int (*callback)(struct lws *, enum lws_callback_reasons, void *, void *, size_t))
{
	memset(wsi, 0, sizeof *wsi);
	wsi->user_size = user_size;
	wsi->callback = callback;
	if (user_size > 0) {
		wsi->user = calloc(1, user_size);
		FUZZ_CHECK(wsi->user != NULL);
	}
	fuzz_wsi_answer_reset(wsi);
}

void fuzz_wsi_free(struct lws *wsi)
{
	free(wsi->user);
	wsi->user = NULL;
}

void *lws_get_opaque_user_data(const struct lws *wsi)
{
	return wsi->opaque;
}

void lws_set_opaque_user_data(struct lws *wsi, void *data)
{
	wsi->opaque = data;
}

void *lws_wsi_user(struct lws *wsi)
{
	return wsi->user;
}

void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
	(void)reason;
	if (secs == LWS_TO_KILL_ASYNC || secs == LWS_TO_KILL_SYNC)
		wsi->timeout_set = true;
}

/* The control socket adopted into the loop: one fake connection per session. */
struct lws *lws_adopt_descriptor_vhost_via_info(const lws_adopt_desc_t *info)
{
	FUZZ_CHECK(info->type == LWS_ADOPT_RAW_FILE_DESC && info->fd.filefd >= 0);
	struct lws *wsi = calloc(1, sizeof *wsi);
	FUZZ_CHECK(wsi != NULL);
	wsi->opaque = info->opaque;
	return wsi;
}

int lws_callback_on_writable(struct lws *wsi)
{
	wsi->writeable_asked = true;
	return 1;
}

int lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			    size_t len)
{
	(void)wsi;
	(void)reason;
	(void)user;
	(void)in;
	(void)len;
	return 0;
}

int lws_hdr_total_length(struct lws *wsi, enum lws_token_indexes h)
{
	FUZZ_CHECK((int)h >= 0 && h < WSI_TOKEN_COUNT);
	return wsi->hdr[h] != NULL ? (int)strlen(wsi->hdr[h]) : 0;
}

/* lws: the whole header and its NUL must fit, else -1; an absent header copies "". */
int lws_hdr_copy(struct lws *wsi, char *dest, int len, enum lws_token_indexes h)
{
	FUZZ_CHECK((int)h >= 0 && h < WSI_TOKEN_COUNT && len > 0);
	const char *v = wsi->hdr[h] != NULL ? wsi->hdr[h] : "";
	size_t n = strlen(v);
	if (n + 1 > (size_t)len)
		return -1;
	memcpy(dest, v, n + 1);
	return (int)n;
}

/*
 * lws: the first argument starting with name, copied whole ("name=value")
 * when it fits with its NUL; a pointer just after name, or NULL.
 */
const char *lws_get_urlarg_by_name(struct lws *wsi, const char *name, char *buf, int len)
{
	size_t nl = strlen(name);
	for (const char *p = wsi->args; p != NULL && *p != '\0';) {
		const char *e = strchr(p, '&');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n >= nl && memcmp(p, name, nl) == 0) {
			if (n + 1 > (size_t)len)
				return NULL;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return buf + nl;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	return NULL;
}

int lws_add_http_common_headers(struct lws *wsi, unsigned int code, const char *content_type,
				lws_filepos_t content_len, unsigned char **p, unsigned char *end)
{
	FUZZ_CHECK(wsi->status == 0 && !wsi->headers_done && *p < end);
	FUZZ_CHECK(code >= 100 && code <= 599);
	wsi->status = code;
	FUZZ_CHECK(strlen(content_type) < sizeof wsi->content_type);
	strcpy(wsi->content_type, content_type);
	wsi->content_length = content_len;
	return 0;
}

int lws_add_http_header_by_name(struct lws *wsi, const unsigned char *name,
				const unsigned char *value, int length, unsigned char **p,
				unsigned char *end)
{
	FUZZ_CHECK(wsi->status != 0 && !wsi->headers_done && *p < end);
	FUZZ_CHECK(length >= 0 && memchr(value, '\0', (size_t)length) == NULL);
	FUZZ_CHECK(fuzz_printable((const char *)value, (size_t)length));
	if (strcmp((const char *)name, "cache-control:") == 0) {
		FUZZ_CHECK(length == 8 && memcmp(value, "no-store", 8) == 0);
		wsi->no_store = true;
	} else if (strcmp((const char *)name, "retry-after:") == 0) {
		char ra[16];
		FUZZ_CHECK(length > 0 && (size_t)length < sizeof ra);
		memcpy(ra, value, (size_t)length);
		ra[length] = '\0';
		FUZZ_CHECK(strspn(ra, "0123456789") == (size_t)length);
		wsi->retry_after = atoi(ra);
	} else {
		FUZZ_CHECK(!"an unexpected header");
	}
	return 0;
}

int lws_finalize_write_http_header(struct lws *wsi, unsigned char *start, unsigned char **p,
				   unsigned char *end)
{
	FUZZ_CHECK(wsi->status != 0 && !wsi->headers_done && start <= *p && *p < end);
	wsi->headers_done = true;
	return 0;
}

int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol protocol)
{
	FUZZ_CHECK(wsi->headers_done && !wsi->body_final);
	FUZZ_CHECK(protocol == LWS_WRITE_HTTP || protocol == LWS_WRITE_HTTP_FINAL);
	FUZZ_CHECK(wsi->body_len + len <= sizeof wsi->body);
	memcpy(wsi->body + wsi->body_len, buf, len);
	wsi->body_len += len;
	wsi->body_final = protocol == LWS_WRITE_HTTP_FINAL;
	return (int)len;
}

/*
 * lws 4.1: on a keep-alive connection, the protocol is bound anew: the old
 * per-session data gets HTTP_DROP_PROTOCOL, is freed, and fresh zeroed data
 * takes its place (lws_bind_protocol()). Else 1: the connection closes.
 */
int lws_http_transaction_completed(struct lws *wsi)
{
	FUZZ_CHECK(wsi->headers_done && wsi->body_final);
	FUZZ_CHECK(wsi->body_len == wsi->content_length);
	wsi->transactions++;
	if (!wsi->keepalive)
		return 1;
	wsi->callback(wsi, LWS_CALLBACK_HTTP_DROP_PROTOCOL, wsi->user, NULL, 0);
	free(wsi->user);
	wsi->user = calloc(1, wsi->user_size);
	FUZZ_CHECK(wsi->user != NULL);
	return 0;
}
