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
 * admin_burst: 429 rate_limited, counted and audited as the staff login's
 * rate limit is). Every request but /healthz authenticates with HTTP Basic
 * as a user with the admin role, through the staff login's path
 * (gateway_auth.c: the same lockout, audit records and metrics; the
 * Argon2id check on the password-check threads), the connection waiting
 * (its body, if any, still being read) until admin_auth_done(). Bodies are
 * JSON of at most ADMIN_BODY_MAX bytes; every error is {"error": code,
 * "message": text}. Paths, credentials, bodies and the metrics text are
 * handled by the pure functions of admin_text.c; this file is the lws glue
 * (the endpoints: gateway_admin.h). A reply is built whole, then written in
 * HTTP_WRITEABLE.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_admin.h"
#include "gateway_auth.h"
#include "log.h"
#include "ratelimit.h"

static struct ratelimit admin_rate; /* admin API requests per client address */
static bool admin_rate_ready;

#define ADMIN_REALM "Basic realm=\"pixelgate admin\""
#define ADMIN_WRITE_CHUNK 16384u   /* bytes of a reply body per lws_write */
#define ADMIN_AUTH_HEADER_MAX 1600 /* Authorization: "Basic " + base64 of name:password */

size_t admin_pss_size(void)
{
	return sizeof(struct admin_pss);
}

void admin_audit(const char *admin, const char *peer, const char *action, const char *target,
		 const char *old_value, const char *new_value)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "admin", admin, "action", action,
			      "target", target, "old", old_value, "new", new_value);
	audit_event("admin_action", admin, peer, "", f);
	json_decref(f);
}

/* Forget the request and any reply not yet written; wipe the body. */
static void admin_pss_reset(struct admin_pss *pss)
{
	if (pss->reply != NULL) /* it may hold an enrolment's secret */
		OPENSSL_cleanse(pss->reply, strlen(pss->reply));
	free(pss->reply);
	OPENSSL_cleanse(pss->body, sizeof pss->body);
	memset(pss, 0, sizeof *pss);
}

void admin_reply_text(struct admin_pss *pss, unsigned int status, const char *content_type,
		      char *text)
{
	if (pss->reply != NULL)
		OPENSSL_cleanse(pss->reply, strlen(pss->reply));
	free(pss->reply);
	pss->reply = text;
	pss->replying = text != NULL;
	pss->headers_sent = false;
	pss->status = status;
	pss->content_type = content_type;
	pss->reply_len = text != NULL ? strlen(text) : 0;
	pss->reply_sent = 0;
}

void admin_reply_json(struct admin_pss *pss, unsigned int status, json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	admin_reply_text(pss, status, "application/json", text);
}

void admin_error(struct admin_pss *pss, unsigned int status, const char *code, const char *message)
{
	admin_reply_json(pss, status, auth_error_json(code, message, 0));
}

void admin_errorf(struct admin_pss *pss, unsigned int status, const char *code, const char *fmt,
		  ...)
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

/* Reply with a refusal (most from gateway_auth.c); 401 with the challenge. */
static void admin_refused(struct admin_pss *pss, const struct auth_answer *no)
{
	admin_reply_json(pss, no->status,
			 auth_error_json(no->code, no->message, no->retry_after_s));
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
		log_warn("admin API: request from %s refused: malformed Basic credentials",
			 pss->peer);
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

static void admin_dispatch(struct admin_pss *pss);

/*
 * GET /metrics with "Authorization: Bearer T": 1 with the reply set (the
 * metrics when T is the token of [admin] metrics_token_file, else 401), 0
 * when the request has no bearer token (Basic goes on as for every path). A
 * wrong token counts towards no lockout: no user is named.
 */
static int admin_bearer(struct lws *wsi, struct admin_pss *pss)
{
	char header[ADMIN_AUTH_HEADER_MAX];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 0 || n >= (int)sizeof header ||
	    lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
		return 0;
	const char *token = admin_bearer_token(header);
	if (token == NULL) {
		OPENSSL_cleanse(header, sizeof header);
		return 0;
	}
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), h);
	OPENSSL_cleanse(header, sizeof header);
	if (gw->metrics_token_set && CRYPTO_memcmp(h, gw->metrics_token_sha, sizeof h) == 0) {
		admin_dispatch(pss);
		return 1;
	}
	/* Counted; audited as one record per address a minute, like rate refusals. */
	gw->metrics.refusals[GW_REFUSE_METRICS_TOKEN]++;
	auth_refusal_count(AUTH_FOR_ADMIN, "metrics_token_refused", "", pss->peer,
			   gw->metrics_token_set ? "wrong_token" : "no_token_configured");
	log_warn("admin API: /metrics from %s refused: %s", pss->peer,
		 gw->metrics_token_set
		     ? "wrong bearer token"
		     : "a bearer token, but no [admin] metrics_token_file is set");
	admin_unauthorized(pss,
			   gw->metrics_token_set
			       ? "the bearer token is not this node's metrics token"
			       : "bearer tokens are off: [admin] metrics_token_file is not set");
	return 1;
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
	case ADMIN_ROUTE_USER_TOTP:
		admin_user_totp(pss);
		break;
	case ADMIN_ROUTE_DRAIN:
	case ADMIN_ROUTE_UNDRAIN:
		admin_drain(pss, pss->target.route == ADMIN_ROUTE_DRAIN);
		break;
	case ADMIN_ROUTE_POLICIES:
		admin_policies_list(pss);
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
	if (n >= (int)sizeof buf ||
	    lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
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
		admin_refused(pss,
			      &(struct auth_answer){ 429, "rate_limited",
						     "too many requests from your address: "
						     "wait before trying again",
						     retry_s });
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
	} else if (pss->target.route == ADMIN_ROUTE_METRICS && pss->method == ADMIN_GET &&
		   admin_bearer(wsi, pss) != 0) {
		/* reply set */
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
	struct auth_identity id;
	if (auth_finish(AUTH_FOR_ADMIN, pss->peer, r, &id, &no) != 0) {
		admin_refused(pss, &no);
	} else {
		/* The password alone: the name's failed codes must still count. */
		if (!gw_totp_applies(&id))
			auth_succeeded(&id);
		snprintf(pss->admin, sizeof pss->admin, "%s", id.name);
		if (admin_route_needs_body(pss->target.route, pss->method) && pss->clen < 0)
			admin_error(pss, 411, "length_required",
				    "a Content-Length header is required");
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
		return gw_refuse_upgrade(
		    wsi, 404, "not_found",
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
