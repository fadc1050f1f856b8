/*
 * gateway_http.c: the staff listener's HTTP side ("http" protocol).
 *
 *   POST /api/v1/login   JSON {"user","password"[,"width","height"]}
 *                        -> 200 {"ticket","expires_in"} | 400 | 401
 *   GET  /rfb?ticket=T   WebSocket upgrade (subprotocol "binary"); the ticket
 *                        is redeemed here, before the upgrade, so a bad one
 *                        gets a 401 and never a WebSocket
 *   anything else        404
 *
 * Every answer is JSON {"error": code, "message": text} on failure.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway.h"
#include "log.h"
#include "login.h"

/*
 * Grants of confirmed upgrades, waiting for the WebSocket to be established
 * on the same wsi (the per-session data changes with the protocol, so they
 * are kept here, keyed by wsi).
 */
struct http_grant {
	struct http_grant *next;
	struct lws *wsi;
	int64_t created_ms;
	struct ticket_grant grant;
};
static struct http_grant *http_grants;

struct ticket_grant *http_take_grant(struct lws *wsi)
{
	for (struct http_grant **pp = &http_grants; *pp != NULL; pp = &(*pp)->next) {
		struct http_grant *g = *pp;
		if (g->wsi == wsi) {
			*pp = g->next;
			struct ticket_grant *out = malloc(sizeof *out);
			if (out != NULL)
				*out = g->grant;
			free(g);
			return out;
		}
	}
	return NULL;
}

void http_drop_grant(struct lws *wsi)
{
	free(http_take_grant(wsi));
}

/* Write a complete JSON response; returns what the callback must return. */
static int http_reply(struct lws *wsi, unsigned int status, const char *json, bool upgrade_refusal,
		      int retry_after_s)
{
	uint8_t buf[LWS_PRE + 1024];
	uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	size_t len = strlen(json);
	if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)len, &p,
					end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (retry_after_s > 0) {
		char ra[16];
		int n = snprintf(ra, sizeof ra, "%d", retry_after_s);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
						(const unsigned char *)ra, n, &p, end))
			return -1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	uint8_t body[LWS_PRE + 1024];
	if (len > sizeof body - LWS_PRE)
		return -1;
	memcpy(body + LWS_PRE, json, len);
	if (lws_write(wsi, body + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
		return -1;
	if (upgrade_refusal)
		return 1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Reply with {"error": code, "message": message[, "retry_after_s": n]} (and a
 * Retry-After header when retry_after_s > 0).
 */
static int http_error_retry(struct lws *wsi, unsigned int status, const char *code,
			    const char *message, bool upgrade_refusal, int retry_after_s)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
	if (o != NULL && retry_after_s > 0)
		json_object_set_new(o, "retry_after_s", json_integer(retry_after_s));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = text ? http_reply(wsi, status, text, upgrade_refusal, retry_after_s) : -1;
	free(text);
	json_decref(o);
	return rc;
}

static int http_error(struct lws *wsi, unsigned int status, const char *code, const char *message,
		      bool upgrade_refusal)
{
	return http_error_retry(wsi, status, code, message, upgrade_refusal, 0);
}

/* Client address for logs. */
static const char *http_peer(struct lws *wsi, char *buf, size_t len)
{
	return gw_peer(wsi, buf, len); /* the PROXY header's address, if any */
}

/* Reload the users file if it changed since we last read it (pixelgatectl edits it). */
void gw_users_refresh(void)
{
	struct stat st;
	if (stat(gw->cfg.users_file, &st) != 0) {
		log_warn("users file %s: %s (keeping the users loaded before)", gw->cfg.users_file,
			 strerror(errno));
		return;
	}
	if (st.st_ino == gw->users_ino && st.st_size == gw->users_size &&
	    st.st_mtim.tv_sec == gw->users_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == gw->users_mtime.tv_nsec)
		return;
	char err[256];
	struct users fresh = { 0 };
	if (config_check_secret_file(gw->cfg.users_file, err, sizeof err) != 0 ||
	    users_load(&fresh, gw->cfg.users_file, false, err, sizeof err) != 0) {
		log_error("users file not reloaded: %s (keeping the users loaded before)", err);
		users_free(&fresh);
		return;
	}
	users_free(&gw->users);
	gw->users = fresh;
	gw->users_ino = st.st_ino;
	gw->users_size = st.st_size;
	gw->users_mtime = st.st_mtim;
	log_info("users file %s loaded: %zu users", gw->cfg.users_file, fresh.n);
}

/* Audit a refused or failed login: login_fail or limit_refused with its reason. */
static void http_audit_refusal(const char *event, const char *user, const char *peer,
			       const char *reason)
{
	json_t *f = json_pack("{s:s}", "reason", reason);
	audit_event(event, user, peer, "", f);
	json_decref(f);
}

/* An administrator locked the account (users file). */
static bool http_user_locked(const struct user *u)
{
	return u->locked;
}

/* Lockout keys of a login: one for the user name, one for the client address. */
static void http_lockout_keys(const char *user, const char *peer, char *user_key, char *addr_key)
{
	snprintf(user_key, LOCKOUT_KEY_MAX, "user:%.80s", user);
	snprintf(addr_key, LOCKOUT_KEY_MAX, "addr:%.80s", peer);
}

/* Handle a complete login body. */
static int http_login(struct lws *wsi, struct http_pss *pss)
{
	char peer[64];
	http_peer(wsi, peer, sizeof peer);
	if (pss->too_big) {
		OPENSSL_cleanse(pss->body, sizeof pss->body);
		log_warn("login from %s refused: body over %d bytes", peer, GW_LOGIN_BODY_MAX);
		return http_error(wsi, 400, "bad_request", "request body is over 4096 bytes", false);
	}
	struct login_request req;
	char msg[LOGIN_MESSAGE_LEN];
	int prc = login_parse(pss->body, pss->len, CONFIG_MIN_WIDTH, gw->cfg.max_width,
			      CONFIG_MIN_HEIGHT, gw->cfg.max_height, &req, msg, sizeof msg);
	/* The body holds the password: wipe it now, before any answer can free pss. */
	OPENSSL_cleanse(pss->body, sizeof pss->body);
	pss->len = 0;
	pss = NULL;
	if (prc != 0) {
		OPENSSL_cleanse(&req, sizeof req);
		log_warn("login from %s refused: %s", peer, msg);
		return http_error(wsi, 400, "bad_request", msg, false);
	}
	/* Fail closed: without an audit trail nobody logs in (unless audit_fail_open). */
	if (!audit_available()) {
		OPENSSL_cleanse(req.password, sizeof req.password);
		log_error("login from %s refused: the audit log cannot be written", peer);
		return http_error_retry(wsi, 503, "audit_unavailable",
					"logins are suspended because the audit log cannot be "
					"written; the administrator has been told",
					false, 60);
	}
	gw_users_refresh();
	/* Locked out (too many failures for this user or this address): no password check. */
	char user_key[LOCKOUT_KEY_MAX], addr_key[LOCKOUT_KEY_MAX];
	http_lockout_keys(req.bad_user_name ? "" : req.user, peer, user_key, addr_key);
	int64_t now = gw_now_ms();
	int locked_s = lockout_remaining_s(gw->lockout, user_key, now);
	int addr_locked_s = lockout_remaining_s(gw->lockout, addr_key, now);
	if (addr_locked_s > locked_s)
		locked_s = addr_locked_s;
	if (locked_s > 0) {
		OPENSSL_cleanse(req.password, sizeof req.password);
		gw->metrics.refusals[GW_REFUSE_LOCKED]++;
		http_audit_refusal("login_fail", req.bad_user_name ? "" : req.user, peer, "locked_out");
		log_warn("login of \"%s\" from %s refused: locked out for %d s more",
			 req.bad_user_name ? "(invalid name)" : req.user, peer, locked_s);
		return http_error_retry(wsi, 429, "locked",
					"too many failed logins: wait before trying again", false,
					locked_s);
	}
	/*
	 * Argon2id runs on the event loop (~tens of ms). Acceptable at one
	 * node's login rate; a worker thread is the next step if it is not.
	 */
	const struct user *u = users_authenticate(&gw->users, req.bad_user_name ? "" : req.user,
						  req.password);
	OPENSSL_cleanse(req.password, sizeof req.password);
	if (u == NULL) {
		gw->metrics.logins_failed++;
		int lu = lockout_fail(gw->lockout, user_key, gw->limits.login_max_failures,
				      gw->limits.login_lockout_s, now);
		int la = lockout_fail(gw->lockout, addr_key, gw->limits.login_max_failures,
				      gw->limits.login_lockout_s, now);
		log_warn("login failed for user \"%s\" from %s%s", req.bad_user_name ? "(invalid name)" : req.user,
			 peer, (lu || la) ? ": now locked out" : "");
		http_audit_refusal("login_fail", req.bad_user_name ? "" : req.user, peer,
				   "invalid_credentials");
		return http_error(wsi, 401, "invalid_credentials", "wrong user name or password",
				  false);
	}
	/* Only the user's count: one valid account must not reset an address's count. */
	lockout_success(gw->lockout, user_key);
	if (http_user_locked(u)) {
		log_warn("login of %s from %s refused: account locked by an administrator", u->name,
			 peer);
		http_audit_refusal("login_fail", u->name, peer, "account_locked");
		return http_error(wsi, 403, "account_locked",
				  "this account is locked; ask your administrator", false);
	}
	/* Would this login start a session, and is there room for it? */
	size_t mine = session_count_user(u->name);
	bool starts_session = mine == 0 || req.new_session;
	if (req.new_session && mine >= (size_t)gw->limits.max_sessions_per_user) {
		gw->metrics.refusals[GW_REFUSE_USER_LIMIT]++;
		http_audit_refusal("limit_refused", u->name, peer, "user_limit");
		log_warn("login of %s from %s refused: already %zu sessions (max_sessions_per_user %d)",
			 u->name, peer, mine, gw->limits.max_sessions_per_user);
		return http_error_retry(wsi, 429, "user_limit",
					"you already have the largest number of sessions allowed; "
					"close one or log in without new_session to take it over",
					false, 60);
	}
	if (starts_session && gw->draining) {
		gw->metrics.refusals[GW_REFUSE_DRAINING]++;
		http_audit_refusal("limit_refused", u->name, peer, "draining");
		log_warn("login of %s from %s refused: node draining", u->name, peer);
		return http_error_retry(wsi, 503, "draining",
					"this server is being taken out of service; try again shortly",
					false, 60);
	}
	if (starts_session && gw->limits.max_sessions > 0 &&
	    session_count_live() >= (size_t)gw->limits.max_sessions) {
		gw->metrics.refusals[GW_REFUSE_NODE_FULL]++;
		http_audit_refusal("limit_refused", u->name, peer, "node_full");
		log_warn("login of %s from %s refused: node full (%zu sessions, max_sessions %d)",
			 u->name, peer, session_count_live(), gw->limits.max_sessions);
		return http_error_retry(wsi, 503, "node_full",
					"all sessions on this server are in use; try again later",
					false, 30);
	}
	gw->metrics.logins_ok++;
	struct ticket_grant grant = { 0 };
	snprintf(grant.user, sizeof grant.user, "%s", u->name);
	grant.width = req.width ? req.width : gw->cfg.default_width;
	grant.height = req.height ? req.height : gw->cfg.default_height;
	grant.new_session = req.new_session != 0;
	char ticket[TICKET_TEXT_LEN + 1];
	ticket_expire(gw->tickets, gw_now_ms());
	if (ticket_issue(gw->tickets, &grant, gw_now_ms(), ticket) != 0) {
		log_error("login of %s from %s: could not issue a ticket", u->name, peer);
		return http_error(wsi, 500, "internal_error", "could not issue a ticket", false);
	}
	/* The record is written before the ticket is handed out. */
	json_t *f = json_pack("{s:i, s:i, s:b}", "width", grant.width, "height", grant.height,
			      "new_session", grant.new_session);
	int arc = audit_event("login_ok", u->name, peer, "", f);
	json_decref(f);
	if (arc != 0 && !gw->cfg.audit_fail_open) {
		ticket_redeem(gw->tickets, ticket, gw_now_ms(), &grant); /* void the ticket */
		OPENSSL_cleanse(ticket, sizeof ticket);
		log_error("login of %s from %s refused: the audit log cannot be written", u->name,
			  peer);
		return http_error_retry(wsi, 503, "audit_unavailable",
					"logins are suspended because the audit log cannot be "
					"written; the administrator has been told",
					false, 60);
	}
	log_info("login ok: user %s from %s (screen %dx%d)", u->name, peer, grant.width,
		 grant.height);
	char json[160];
	snprintf(json, sizeof json, "{\"ticket\":\"%s\",\"expires_in\":%d}", ticket, TICKET_TTL_S);
	OPENSSL_cleanse(ticket, sizeof ticket);
	return http_reply(wsi, 200, json, false, 0);
}

/*
 * Decide on a WebSocket upgrade. On success the ticket's grant waits in
 * http_grants for the "binary" protocol's ESTABLISHED (http_take_grant()).
 */
static int http_confirm_upgrade(struct lws *wsi, const char *upgrade)
{
	char peer[64], uri[256], proto[128], arg[TICKET_TEXT_LEN + 16];
	http_peer(wsi, peer, sizeof peer);
	if (upgrade == NULL || strcmp(upgrade, "websocket") != 0)
		return http_error(wsi, 400, "bad_request", "only WebSocket upgrades are served", true);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/rfb") != 0) {
		log_warn("upgrade from %s refused: no such path", peer);
		return http_error(wsi, 404, "not_found", "no such path", true);
	}
	if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 ||
	    strstr(proto, "binary") == NULL) {
		log_warn("upgrade from %s refused: subprotocol \"binary\" not offered", peer);
		return http_error(wsi, 400, "bad_request",
				  "the WebSocket subprotocol \"binary\" is required", true);
	}
	const char *ticket = lws_get_urlarg_by_name(wsi, "ticket=", arg, (int)sizeof arg);
	struct http_grant *g = calloc(1, sizeof *g);
	if (g == NULL)
		return -1;
	if (ticket == NULL || strlen(ticket) != TICKET_TEXT_LEN ||
	    ticket_redeem(gw->tickets, ticket, gw_now_ms(), &g->grant) != 0) {
		free(g);
		log_warn("upgrade from %s refused: %s ticket", peer,
			 ticket == NULL ? "missing" : "invalid, expired or reused");
		return http_error(wsi, 401, "invalid_ticket",
				  ticket == NULL ? "a ticket is required: log in first"
						 : "the ticket is invalid, expired or already used",
				  true);
	}
	http_drop_grant(wsi); /* cannot happen: one upgrade per wsi */
	/* A handshake takes milliseconds; drop grants whose wsi never showed up. */
	for (struct http_grant **pp = &http_grants; *pp != NULL;) {
		struct http_grant *old = *pp;
		if (gw_now_ms() - old->created_ms > 60000) {
			*pp = old->next;
			free(old);
		} else {
			pp = &old->next;
		}
	}
	g->wsi = wsi;
	g->created_ms = gw_now_ms();
	g->next = http_grants;
	http_grants = g;
	return 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct http_pss *pss = user;
	char buf[64];

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return http_confirm_upgrade(wsi, in);

	case LWS_CALLBACK_HTTP: {
		const char *uri = in ? in : "";
		bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		memset(pss, 0, sizeof *pss);
		if (strcmp(uri, "/api/v1/login") == 0) {
			if (!post)
				return http_error(wsi, 405, "method_not_allowed",
						  "use POST for /api/v1/login", false);
			if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
				return http_error(wsi, 411, "length_required",
						  "a Content-Length header is required", false);
			pss->is_login = true;
			if (strtoull(buf, NULL, 10) == 0)
				return http_login(wsi, pss);
			return 0; /* wait for the body */
		}
		if (strcmp(uri, "/rfb") == 0)
			return http_error(wsi, 400, "bad_request",
					  "/rfb is a WebSocket endpoint (Upgrade: websocket)", false);
		return http_error(wsi, 404, "not_found", "no such path", false);
	}

	case LWS_CALLBACK_HTTP_BODY:
		if (!pss->is_login)
			return -1;
		if (pss->too_big || pss->len + len > GW_LOGIN_BODY_MAX) {
			pss->too_big = true; /* keep reading and discarding to answer properly */
			return 0;
		}
		memcpy(pss->body + pss->len, in, len);
		pss->len += len;
		pss->body[pss->len] = '\0';
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!pss->is_login)
			return -1;
		/*
		 * http_login() wipes the body itself before it answers: the answer
		 * may complete the transaction, and lws_http_transaction_completed()
		 * frees pss. Nothing of pss may be touched after it returns.
		 */
		return http_login(wsi, pss);

	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss != NULL)
			OPENSSL_cleanse(pss->body, sizeof pss->body);
		break;

	case LWS_CALLBACK_WSI_DESTROY:
		/* An upgrade that was confirmed but never established. */
		http_drop_grant(wsi);
		break;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
