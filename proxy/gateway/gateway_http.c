/*
 * gateway_http.c: the staff listener's HTTP side ("http" protocol).
 *
 *   POST /api/v1/login   JSON {"user","password"[,"width","height"]}
 *                        -> 200 {"ticket","expires_in","clipboard_to_browser",
 *                                "clipboard_to_terminal","clipboard_max_bytes"}
 *                           | 400 | 401 | 403 |
 *                           429 locked, rate_limited, user_limit |
 *                           503 busy, draining, node_full, audit_unavailable
 *   GET  /rfb?ticket=T   WebSocket upgrade (subprotocol "binary" or none); the ticket
 *                        is redeemed here, before the upgrade, so a bad one
 *                        gets a 401 and never a WebSocket
 *   anything else        404
 *
 * Every answer is JSON {"error": code, "message": text} on failure.
 *
 * A login is answered in two halves. At the end of its body: rate limit
 * per client address (login_rate_per_s / login_burst), parse, then
 * auth_begin() (gateway_auth.c: lockout, and the password check queued on
 * the thread pool); the connection waits, the loop going on with everything
 * else. When the check is done, http_auth_done() (on the loop) has
 * auth_finish() judge it (the same lockout, audit records and metrics as the
 * admin API's credentials), then goes on: session limits, ticket, login_ok
 * audited before the ticket. That answer is kept in the per-request data and
 * written at HTTP_WRITEABLE. A connection that closes meanwhile cancels its
 * check.
 *
 * Refusals a client without a password can cause as often as it likes (a
 * locked-out user or address, the rate limit) are not audited one by one:
 * gateway_auth.c counts them per key and writes one record per key per
 * minute, so the audit log grows by a bounded amount whatever such a client
 * sends.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway_auth.h"
#include "log.h"
#include "login.h"
#include "ratelimit.h"

static struct ratelimit http_rate; /* staff logins per client address */
static bool http_rate_ready;

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
	json_t *o = auth_error_json(code, message, retry_after_s);
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

int gw_refuse_upgrade(struct lws *wsi, unsigned int status, const char *code, const char *message)
{
	return http_error(wsi, status, code, message, true);
}

/* Client address for logs. */
static const char *http_peer(struct lws *wsi, char *buf, size_t len)
{
	return gw_peer(wsi, buf, len); /* the PROXY header's address, if any */
}

/* Audit a login refused for a limit: limit_refused {reason}. */
static void http_audit_limit(const char *user, const char *peer, const char *reason)
{
	json_t *f = json_pack("{s:s}", "reason", reason);
	audit_event("limit_refused", user, peer, "", f);
	json_decref(f);
}

/*
 * Keep the answer to a login whose password was checked off the loop, and
 * ask for HTTP_WRITEABLE to write it (http_write_reply()).
 */
static void http_defer(struct lws *wsi, struct http_pss *pss, unsigned int status, const char *code,
		       const char *message, int retry_after_s)
{
	json_t *o = auth_error_json(code, message, retry_after_s);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	pss->status = status;
	pss->retry_after_s = retry_after_s;
	if (text == NULL || strlen(text) >= sizeof pss->reply) {
		pss->status = 500;
		pss->retry_after_s = 0;
		snprintf(pss->reply, sizeof pss->reply,
			 "{\"error\":\"internal_error\",\"message\":\"out of memory\"}");
	} else {
		memcpy(pss->reply, text, strlen(text) + 1);
	}
	free(text);
	pss->replying = true;
	lws_callback_on_writable(wsi);
}

/*
 * Write the kept answer. What the callback must return; pss is freed when
 * this returns (http_reply() completes the transaction): it copies the
 * answer out before it writes anything.
 */
static int http_write_reply(struct lws *wsi, struct http_pss *pss)
{
	char json[sizeof pss->reply];
	unsigned int status = pss->status;
	int retry_after_s = pss->retry_after_s;
	memcpy(json, pss->reply, sizeof json);
	/* The answer may hold a ticket: wipe pss's copy before pss can be freed. */
	OPENSSL_cleanse(pss->reply, sizeof pss->reply);
	pss->replying = false;
	pss = NULL; /* freed by lws_http_transaction_completed() in http_reply() */
	int rc = http_reply(wsi, status, json, false, retry_after_s);
	OPENSSL_cleanse(json, sizeof json);
	return rc;
}

/* Handle a complete login body: checks before the password, then queue the check. */
static int http_login(struct lws *wsi, struct http_pss *pss)
{
	char peer[64];
	http_peer(wsi, peer, sizeof peer);
	/* Requests per address, valid logins too: the cheapest check first. */
	if (!http_rate_ready) {
		ratelimit_init(&http_rate);
		http_rate_ready = true;
	}
	int64_t wait_ms = ratelimit_take(&http_rate, peer, gw->limits.login_rate_per_s,
					 gw->limits.login_burst, gw_now_ms());
	if (wait_ms > 0) {
		OPENSSL_cleanse(pss->body, sizeof pss->body);
		pss->len = 0;
		pss = NULL;
		int retry_s = ratelimit_retry_after_s(wait_ms);
		gw->metrics.refusals[GW_REFUSE_RATE_LIMITED]++;
		if (auth_refusal_count(AUTH_FOR_STAFF, "login_refused_rate", "", peer,
				       "rate_limited"))
			log_warn("logins from %s refused: over login_rate_per_s %d (burst %d); "
				 "further refusals are counted, audited once a minute",
				 peer, gw->limits.login_rate_per_s, gw->limits.login_burst);
		return http_error_retry(
		    wsi, 429, "rate_limited",
		    "too many logins from your address: wait before trying again", false, retry_s);
	}
	if (pss->too_big) {
		OPENSSL_cleanse(pss->body, sizeof pss->body);
		log_warn("login from %s refused: body over %d bytes", peer, GW_LOGIN_BODY_MAX);
		return http_error(wsi, 400, "bad_request", "request body is over 4096 bytes",
				  false);
	}
	struct login_request req;
	char msg[LOGIN_MESSAGE_LEN];
	int prc = login_parse(pss->body, pss->len, CONFIG_MIN_WIDTH, gw->cfg.max_width,
			      CONFIG_MIN_HEIGHT, gw->cfg.max_height, &req, msg, sizeof msg);
	/* The body holds the password: wipe it now, before any answer can free pss. */
	OPENSSL_cleanse(pss->body, sizeof pss->body);
	pss->len = 0;
	if (prc != 0) {
		OPENSSL_cleanse(&req, sizeof req);
		log_warn("login from %s refused: %s", peer, msg);
		return http_error(wsi, 400, "bad_request", msg, false);
	}
	/* Fail closed: without an audit trail nobody logs in (unless audit_fail_open). */
	if (!audit_available()) {
		OPENSSL_cleanse(&req, sizeof req);
		log_error("login from %s refused: the audit log cannot be written", peer);
		return http_error_retry(wsi, 503, "audit_unavailable",
					"logins are suspended because the audit log cannot be "
					"written; the administrator has been told",
					false, 60);
	}
	/* A copy: req is wiped (with the password) before the answers below. */
	char name[USERS_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", req.bad_user_name ? "" : req.user);
	struct auth_answer no;
	int arc = auth_begin(wsi, AUTH_FOR_STAFF, name, peer, req.password, &no);
	if (arc != 0) {
		OPENSSL_cleanse(&req, sizeof req);
		return http_error_retry(wsi, no.status, no.code, no.message, false,
					no.retry_after_s);
	}
	/* Wait for http_auth_done(); keep what it needs, never the password. */
	pss->checking = true;
	snprintf(pss->user, sizeof pss->user, "%s", name);
	pss->width = req.width;
	pss->height = req.height;
	pss->new_session = req.new_session != 0;
	memcpy(pss->otp, req.otp, sizeof pss->otp);
	snprintf(pss->peer, sizeof pss->peer, "%s", peer);
	OPENSSL_cleanse(&req, sizeof req);
	return 0;
}

/* A login refused by session_admit(): counted, audited, logged and answered. */
static void http_refuse_admission(struct lws *wsi, struct http_pss *pss, const char *user,
				  enum gw_admit admit, int policy)
{
	static const struct {
		unsigned int status;
		const char *code, *message;
		int retry_after_s;
	} answers[] = {
		[GW_ADMIT_USER_LIMIT] = { 429, "user_limit",
					  "you already have the largest number of sessions "
					  "allowed; close one or log in without new_session to "
					  "take it over",
					  60 },
		[GW_ADMIT_DRAINING] = { 503, "draining",
					"this server is being taken out of service; try again "
					"shortly",
					60 },
		[GW_ADMIT_NODE_FULL] = { 503, "node_full",
					 "all sessions on this server are in use; try again later",
					 30 },
		[GW_ADMIT_NO_UID] = { 503, "node_full",
				      "all sessions on this server are in use; try again later",
				      30 },
	};
	gw->metrics.refusals[gw_admit_refusal(admit)]++;
	http_audit_limit(user, pss->peer, answers[admit].code);
	switch (admit) {
	case GW_ADMIT_USER_LIMIT:
		log_warn("login of %s from %s refused: already %zu sessions (max_sessions_per_user "
			 "%d)",
			 user, pss->peer, session_count_user(user),
			 policy_max_sessions_per_user(policy));
		break;
	case GW_ADMIT_DRAINING:
		log_warn("login of %s from %s refused: node draining", user, pss->peer);
		break;
	case GW_ADMIT_NODE_FULL:
		log_warn("login of %s from %s refused: node full (%zu sessions, max_sessions %d)",
			 user, pss->peer, session_count_live(), gw->limits.max_sessions);
		break;
	case GW_ADMIT_NO_UID:
	case GW_ADMIT_OK:
		log_warn("login of %s from %s refused: node full (all %d session uids are in use; "
			 "session_uid_count %d)",
			 user, pss->peer, gw->cfg.session_uid_count, gw->cfg.session_uid_count);
		break;
	}
	http_defer(wsi, pss, answers[admit].status, answers[admit].code, answers[admit].message,
		   answers[admit].retry_after_s);
}

/*
 * The password check of wsi's login is done (on the loop, from auth_poll()):
 * go on with the login as before the check was moved off the loop, and keep
 * the answer for HTTP_WRITEABLE. Nothing here can complete the transaction
 * or close the connection, so pss stays valid throughout.
 */
void http_auth_done(struct lws *wsi, const struct auth_result *r)
{
	struct http_pss *pss = lws_wsi_user(wsi);
	if (pss == NULL || !pss->checking)
		return; /* not a login waiting for a check any more */
	pss->checking = false;
	const char *peer = pss->peer;
	struct auth_answer no;
	struct auth_identity id;
	bool mfa = false;
	int frc = auth_finish(AUTH_FOR_STAFF, peer, r, &id, &no);
	if (frc == 0)
		frc = auth_second_factor(&id, peer, pss->otp, &mfa, &no);
	OPENSSL_cleanse(pss->otp, sizeof pss->otp);
	if (frc != 0) {
		http_defer(wsi, pss, no.status, no.code, no.message, no.retry_after_s);
		return;
	}
	auth_succeeded(&id);
	/* Would this login start a session, and is there room for it? */
	bool starts_session = session_count_user(id.name) == 0 || pss->new_session;
	int policy = policy_of_groups(id.policy_groups);
	enum gw_admit admit = starts_session ? session_admit(id.name, pss->new_session, policy)
					     : GW_ADMIT_OK;
	if (admit != GW_ADMIT_OK) {
		http_refuse_admission(wsi, pss, id.name, admit, policy);
		return;
	}
	struct ticket_grant grant = { 0 };
	snprintf(grant.user, sizeof grant.user, "%s", id.name);
	grant.width = pss->width ? pss->width : gw->cfg.default_width;
	grant.height = pss->height ? pss->height : gw->cfg.default_height;
	grant.new_session = pss->new_session;
	grant.policy = policy;
	char ticket[TICKET_TEXT_LEN + 1];
	ticket_expire(gw->tickets, gw_now_ms());
	if (ticket_issue(gw->tickets, &grant, gw_now_ms(), ticket) != 0) {
		log_error("login of %s from %s: could not issue a ticket", id.name, peer);
		http_defer(wsi, pss, 500, "internal_error", "could not issue a ticket", 0);
		return;
	}
	/* The record is written before the ticket is handed out. */
	json_t *f = json_pack("{s:i, s:i, s:b}", "width", grant.width, "height", grant.height,
			      "new_session", grant.new_session);
	if (f != NULL && id.directory)
		json_object_set_new(f, "dn", json_string(id.dn));
	if (f != NULL && mfa)
		json_object_set_new(f, "mfa", json_string("totp"));
	if (f != NULL && policy > 0)
		json_object_set_new(f, "policy", json_string(policy_name(policy)));
	int arc = audit_event("login_ok", id.name, peer, "", f);
	json_decref(f);
	if (arc != 0 && !gw->cfg.audit_fail_open) {
		ticket_redeem(gw->tickets, ticket, gw_now_ms(), &grant); /* void the ticket */
		OPENSSL_cleanse(ticket, sizeof ticket);
		log_error("login of %s from %s refused: the audit log cannot be written", id.name,
			  peer);
		http_defer(wsi, pss, 503, "audit_unavailable",
			   "logins are suspended because the audit log cannot be "
			   "written; the administrator has been told",
			   60);
		return;
	}
	gw->metrics.logins_ok++;
	log_info("login ok: user %s from %s (screen %dx%d)", id.name, peer, grant.width,
		 grant.height);
	pss->status = 200;
	pss->retry_after_s = 0;
	/* what the viewer may offer (the relay applies the same rule: a running
	   session keeps its own policy) */
	const struct gw_session *running = grant.new_session ? NULL : session_find_user(id.name);
	int session_policy = running != NULL ? running->policy : policy;
	snprintf(pss->reply, sizeof pss->reply,
		 "{\"ticket\":\"%s\",\"expires_in\":%d,\"clipboard_to_browser\":%s,"
		 "\"clipboard_to_terminal\":%s,\"clipboard_max_bytes\":%d}",
		 ticket, TICKET_TTL_S,
		 policy_clipboard_to_browser(session_policy) ? "true" : "false",
		 policy_clipboard_to_terminal(session_policy) ? "true" : "false",
		 gw->cfg.clipboard_max_bytes);
	OPENSSL_cleanse(ticket, sizeof ticket);
	pss->replying = true;
	lws_callback_on_writable(wsi);
}

/*
 * Does a Sec-WebSocket-Protocol list (comma separated, RFC 6455) name
 * "binary", and none of the vhost's internal protocols? lws binds the first
 * name it knows, so "pg-priv, binary" would bind the upgrade to another
 * protocol's callback.
 */
static bool http_lists_binary(const char *list)
{
	bool binary = false;
	struct lws_tokenize ts;
	lws_tokenize_init(&ts, list,
			  LWS_TOKENIZE_F_COMMA_SEP_LIST | LWS_TOKENIZE_F_MINUS_NONTERM |
			      LWS_TOKENIZE_F_DOT_NONTERM | LWS_TOKENIZE_F_RFC7230_DELIMS);
	ts.len = strlen(list);
	for (;;) {
		lws_tokenize_elem e = lws_tokenize(&ts);
		if (e == LWS_TOKZE_TOKEN && ts.token_len == 6 && memcmp(ts.token, "binary", 6) == 0)
			binary = true;
		else if (e == LWS_TOKZE_TOKEN &&
			 ((ts.token_len == 4 && strncasecmp(ts.token, "http", 4) == 0) ||
			  (ts.token_len >= 3 && strncasecmp(ts.token, "pg-", 3) == 0)))
			return false;
		if (e == LWS_TOKZE_ENDED)
			return binary;
		if (e < 0)
			return false;
	}
}

/*
 * Decide on a WebSocket upgrade. On success the ticket's grant waits in
 * http_grants for the "binary" protocol's ESTABLISHED (http_take_grant()).
 */
static int http_confirm_upgrade(struct lws *wsi, const char *upgrade)
{
	char peer[64], uri[256], proto[128], arg[TICKET_TEXT_LEN + 16];
	http_peer(wsi, peer, sizeof peer);
	if (upgrade == NULL || strcasecmp(upgrade, "websocket") != 0)
		return http_error(wsi, 400, "bad_request", "only WebSocket upgrades are served",
				  true);
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, "/rfb") != 0) {
		log_warn("upgrade from %s refused: no such path", peer);
		return http_error(wsi, 404, "not_found", "no such path", true);
	}
	/*
	 * No subprotocol at all is taken as "binary" (noVNC, websockify's
	 * clients); a list that names others but not "binary" is refused.
	 */
	int plen = lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0 &&
	    (plen <= 0 || !http_lists_binary(proto))) {
		log_warn("upgrade from %s refused: subprotocol \"binary\" not offered", peer);
		return http_error(wsi, 400, "bad_request",
				  "the WebSocket subprotocol must be \"binary\" or none", true);
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
					  "/rfb is a WebSocket endpoint (Upgrade: websocket)",
					  false);
		/* Whoever opens the address in a browser learns what answers (no version). */
		if (strcmp(uri, "/") == 0 && !post)
			return http_reply(
			    wsi, 200,
			    "{\"service\":\"pixelgate\",\"what\":\"screen-transfer isolation "
			    "gateway: connect with pixelgate-viewer (or an RFB-over-WebSocket client "
			    "such as noVNC)\",\"login\":\"POST /api/v1/login\",\"session\":\"GET "
			    "/rfb?ticket=T, a WebSocket (subprotocol binary or none)\"}",
			    false, 0);
		return http_error(wsi, 404, "not_found", "no such path", false);
	}

	case LWS_CALLBACK_HTTP_BODY:
		if (!pss->is_login || pss->checking)
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
		if (!pss->is_login || pss->checking)
			return -1;
		/*
		 * http_login() wipes the body itself before it answers: the answer
		 * may complete the transaction, and lws_http_transaction_completed()
		 * frees pss. Nothing of pss may be touched after it returns.
		 * It returns 0 with pss->checking set when the password check
		 * was queued: the answer comes at HTTP_WRITEABLE.
		 */
		return http_login(wsi, pss);

	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss == NULL || !pss->replying)
			break;
		/* pss is freed when this returns: nothing of it after. */
		return http_write_reply(wsi, pss);

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* lws_cancel_service(): a password check may be done (fake wsi, no pss). */
		auth_poll();
		return 0;

	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		/* A login still being checked: its result must never reach this wsi. */
		auth_cancel(wsi);
		if (pss != NULL) {
			OPENSSL_cleanse(pss->body, sizeof pss->body);
			OPENSSL_cleanse(pss->reply, sizeof pss->reply);
			OPENSSL_cleanse(pss->otp, sizeof pss->otp);
			pss->checking = false;
			pss->replying = false;
		}
		break;

	case LWS_CALLBACK_WSI_DESTROY:
		auth_cancel(wsi);
		/* An upgrade that was confirmed but never established. */
		http_drop_grant(wsi);
		break;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
