/*
 * client_http.c: the client library's HTTPS client (client_http.h):
 * pgc_http_post, pgc_http_get, pgc_login, pgc_http_request. One
 * short-lived libwebsockets client context per call (client_tls.c), serviced
 * on the caller's thread until the answer is complete or HTTP_TIMEOUT_S
 * passed.
 */
#include "clip_text.h"
#include "client_http.h"
#include "client_tls.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request body bytes written per LWS_CALLBACK_CLIENT_HTTP_WRITEABLE. */
#define HTTP_TX_CHUNK 16384

/* One HTTP transaction; lives on the caller's stack, reached from the
   callback through lws_context_user(). */
struct http_txn {
	const struct pgc_server *srv;
	const char *method;
	const char *authorization; /* Authorization header value, or NULL */
	const char *content_type;
	const unsigned char *body;
	size_t body_len;
	size_t body_sent;
	/* Exactly one of res (login-style: fixed body buffer, truncating) and
	   resp (general: malloc'd body, capped, over the cap is an error). */
	struct pgc_login_result *res;
	struct pgc_http_response *resp;
	int *status; /* &res->http_status or &resp->status */
	char *msg;   /* res->message or resp->message */
	size_t msg_size;
	size_t used;  /* bytes in res->body */
	bool too_big; /* resp: the body passed PGC_HTTP_BODY_MAX */
	bool done;    /* answer complete, or connection gone */
	bool failed;  /* transport / TLS error (res->message says) */
	bool timed_out;
	bool gate_held; /* TLS gate, until the handshake is over */
	struct tls_verify tv;
	lws_sorted_usec_list_t sul_timeout;
};

/* sul callback: the HTTP_TIMEOUT_S deadline of a transaction passed. */
static void http_timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct http_txn *t = lws_container_of(sul, struct http_txn, sul_timeout);

	t->timed_out = true;
}

/* Appends len bytes of response body, silently truncating at the size of
   res->body minus the terminating NUL. */
static void http_body_append(struct http_txn *t, const void *in, size_t len)
{
	size_t room = sizeof(t->res->body) - 1 - t->used;

	if (len > room)
		len = room;
	memcpy(t->res->body + t->used, in, len);
	t->used += len;
	t->res->body[t->used] = '\0';
}

/* Appends len bytes to resp->body, growing it (doubling) up to
   PGC_HTTP_BODY_MAX. Returns 0, or -1 (t->too_big or t->failed set, with a
   message) to close the connection. */
static int http_resp_append(struct http_txn *t, const void *in, size_t len)
{
	struct pgc_http_response *r = t->resp;
	size_t need, cap;
	char *nb;

	if (len > PGC_HTTP_BODY_MAX - r->body_len) {
		t->too_big = true;
		pgc_set_msg(t->msg, t->msg_size, "the answer is larger than %u bytes",
			    (unsigned)PGC_HTTP_BODY_MAX);
		return -1;
	}
	need = r->body_len + len + 1;
	if (need > r->body_cap) {
		cap = r->body_cap ? r->body_cap : 4096;
		while (cap < need)
			cap *= 2; /* need <= PGC_HTTP_BODY_MAX + 1: no overflow */
		nb = realloc(r->body, cap);
		if (!nb) {
			pgc_set_msg(t->msg, t->msg_size, "out of memory for a %zu-byte answer",
				    need);
			t->failed = true;
			return -1;
		}
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, in, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Reads the Retry-After header (delta-seconds form) into resp; -1 if it is
   missing or an HTTP date. */
static void http_read_retry_after(struct http_txn *t, struct lws *wsi)
{
	char buf[32], *end;
	long v;

	t->resp->retry_after_s = -1;
	if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_RETRY_AFTER) <= 0)
		return;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end || v < 0 || v > INT_MAX)
		return;
	t->resp->retry_after_s = (int)v;
}

/* Adds Authorization (if any), and for a request with a body (any POST,
   PUT or PATCH, or a body given) Content-Type and Content-Length, and
   announces the body. Returns 0, or -1 if the headers do not fit. */
static int http_append_headers(struct http_txn *t, struct lws *wsi, unsigned char **p,
			       unsigned char *end)
{
	if (t->authorization &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
					 (const unsigned char *)t->authorization,
					 (int)strlen(t->authorization), p, end))
		return -1;
	if (strcmp(t->method, "POST") != 0 && strcmp(t->method, "PUT") != 0 &&
	    strcmp(t->method, "PATCH") != 0 && !t->body_len)
		return 0;
	if (t->content_type && *t->content_type &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)t->content_type,
					 (int)strlen(t->content_type), p, end))
		return -1;
	if (lws_add_http_header_content_length(wsi, (lws_filepos_t)t->body_len, p, end))
		return -1;
	if (t->body_len) {
		lws_client_http_body_pending(wsi, 1);
		lws_callback_on_writable(wsi);
	}
	return 0;
}

/* Writes the next piece of the request body (LWS_WRITE_HTTP_FINAL for the
   last one). Returns 0, or -1 to close on a write error. */
static int http_write_body(struct http_txn *t, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + HTTP_TX_CHUNK];
	size_t left = t->body_len - t->body_sent, n;
	bool last;

	if (!left)
		return 0;
	n = left > HTTP_TX_CHUNK ? HTTP_TX_CHUNK : left;
	last = n == left;
	memcpy(buf + LWS_PRE, t->body + t->body_sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
	    (int)n) {
		pgc_secure_zero(buf + LWS_PRE, n);
		pgc_set_msg(t->msg, t->msg_size, "writing the request body failed");
		t->failed = true;
		return -1;
	}
	pgc_secure_zero(buf + LWS_PRE, n); /* a login body holds a password */
	t->body_sent += n;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

/* lws callback of the HTTP client protocol. */
static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct http_txn *t = lws_context_user(lws_get_context(wsi));
	char detail[200];

	if (!t)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		pgc_lws_in_to_str(in, len, detail, sizeof(detail));
		pgc_tls_describe_error(t->srv, &t->tv, detail, t->msg, t->msg_size);
		t->failed = true;
		t->done = true;
		pgc_tls_gate_leave(&t->gate_held);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		pgc_tls_note_verify(&t->tv, user, len);
		break;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		*t->status = (int)lws_http_client_http_response(wsi);
		if (t->resp)
			http_read_retry_after(t, wsi);
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		pgc_tls_gate_leave(&t->gate_held);
		return http_append_headers(t, wsi, (unsigned char **)in,
					   *(unsigned char **)in + len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return http_write_body(t, wsi);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 4096];
		char *px = buf + LWS_PRE;
		int lenx = (int)sizeof(buf) - LWS_PRE;

		if (lws_http_client_read(wsi, &px, &lenx) < 0)
			return -1;
		break;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (t->resp)
			return http_resp_append(t, in, len);
		http_body_append(t, in, len);
		break;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		t->done = true;
		break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!t->done && !*t->status && !t->failed) {
			pgc_set_msg(t->msg, t->msg_size,
				    "connection closed before an HTTP answer arrived");
			t->failed = true;
		} else if (!t->done && t->resp && !t->failed && !t->too_big) {
			/* a status line but the body was cut short */
			pgc_set_msg(t->msg, t->msg_size,
				    "connection closed in the middle of the HTTP answer");
			t->failed = true;
		}
		t->done = true;
		break;
	default:
		break;
	}
	return 0;
}

/* Fills the JSON fields of res from its body (status decides which). */
static void http_parse_json(struct pgc_login_result *res, size_t used)
{
	json_error_t jerr;
	json_t *root = json_loadb(res->body, used, 0, &jerr);

	if (!json_is_object(root)) {
		if (res->http_status != 200)
			pgc_set_msg(res->message, sizeof(res->message), "HTTP %d (no JSON body)",
				    res->http_status);
		json_decref(root);
		return;
	}
	if (res->http_status == 200) {
		const char *ticket = json_string_value(json_object_get(root, "ticket"));
		json_t *exp = json_object_get(root, "expires_in");

		if (ticket && strlen(ticket) < sizeof(res->ticket))
			memcpy(res->ticket, ticket, strlen(ticket) + 1);
		if (json_is_integer(exp)) {
			json_int_t v = json_integer_value(exp);

			res->expires_in_s = v < 0 ? 0 : v > INT_MAX ? INT_MAX : (int)v;
		}
		res->clipboard_to_browser = json_is_true(
		    json_object_get(root, "clipboard_to_browser"));
		res->clipboard_to_terminal = json_is_true(
		    json_object_get(root, "clipboard_to_terminal"));
		json_t *cap = json_object_get(root, "clipboard_max_bytes");
		if (json_is_integer(cap) && json_integer_value(cap) > 0)
			res->clipboard_max_bytes = json_integer_value(cap) > CLIP_TEXT_MAX
			    ? CLIP_TEXT_MAX
			    : (unsigned)json_integer_value(cap);
	} else {
		const char *e = json_string_value(json_object_get(root, "error"));
		const char *m = json_string_value(json_object_get(root, "message"));

		if (e)
			pgc_set_msg(res->error, sizeof(res->error), "%s", e);
		if (m)
			pgc_set_msg(res->message, sizeof(res->message), "%s", m);
		else
			pgc_set_msg(res->message, sizeof(res->message), "HTTP %d",
				    res->http_status);
	}
	json_decref(root);
}

/*
 * Performs one blocking HTTP request into res (login style) or resp
 * (general); exactly one of them is non-NULL and has been cleared by the
 * caller. Returns 0 when a complete HTTP answer arrived (any status), -1 on
 * a transport/TLS error, a timeout or (resp) an answer over the cap; the
 * message member says which.
 */
static int http_run(const struct pgc_server *srv, const char *method, const char *path,
		    const char *authorization, const char *content_type, const void *body,
		    size_t body_len, struct pgc_login_result *res, struct pgc_http_response *resp)
{
	static const struct lws_protocols protocols[] = { { "pgc-http", http_cb, 0, 0, 0, NULL, 0 },
							  { NULL, NULL, 0, 0, 0, NULL, 0 } };
	struct lws_client_connect_info i;
	struct lws_context *ctx;
	SSL_CTX *ssl_ctx;
	struct http_txn t;

	memset(&t, 0, sizeof(t));
	t.res = res;
	t.resp = resp;
	t.status = res ? &res->http_status : &resp->status;
	t.msg = res ? res->message : resp->message;
	t.msg_size = res ? sizeof(res->message) : sizeof(resp->message);
	pgc_tls_init();
	if (pgc_check_server(srv, t.msg, t.msg_size))
		return -1;
	if (!path || path[0] != '/' || (body_len && !body)) {
		pgc_set_msg(t.msg, t.msg_size, "invalid request path or body");
		return -1;
	}
	if (authorization && strpbrk(authorization, "\r\n")) {
		pgc_set_msg(t.msg, t.msg_size, "invalid Authorization header value");
		return -1;
	}
	t.srv = srv;
	t.method = method;
	t.authorization = authorization;
	t.content_type = content_type;
	t.body = body;
	t.body_len = body_len;

	if (pgc_tls_gate_enter(pgc_clock_ms() + (int64_t)HTTP_TIMEOUT_S * 1000, &t.gate_held)) {
		pgc_set_msg(t.msg, t.msg_size,
			    "timed out waiting for another connection's TLS handshake");
		return -1;
	}
	ctx = pgc_lws_context_new(srv, protocols, &t, &ssl_ctx, t.msg, t.msg_size);
	if (!ctx) {
		pgc_tls_gate_leave(&t.gate_held);
		return -1;
	}
	lws_sul_schedule(ctx, 0, &t.sul_timeout, http_timeout_cb,
			 (lws_usec_t)HTTP_TIMEOUT_S * LWS_US_PER_SEC);

	memset(&i, 0, sizeof(i));
	i.context = ctx;
	i.address = srv->host;
	i.port = srv->port;
	i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	i.path = path;
	i.host = srv->host;
	i.method = method;
	i.protocol = protocols[0].name;
	i.alpn = "http/1.1";
	if (!lws_client_connect_via_info(&i) && !t.failed) {
		pgc_set_msg(t.msg, t.msg_size, "cannot start a connection to %s:%d", srv->host,
			    srv->port);
		t.failed = true;
		t.done = true;
	}
	while (!t.done && !t.timed_out)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_sul_cancel(&t.sul_timeout);
	pgc_lws_context_free(ctx, ssl_ctx);
	pgc_tls_gate_leave(&t.gate_held);

	if (!t.done && !t.failed && !t.too_big) {
		if (*t.status)
			pgc_set_msg(t.msg, t.msg_size,
				    "timed out after %d s reading the HTTP answer", HTTP_TIMEOUT_S);
		else
			pgc_set_msg(t.msg, t.msg_size, "timed out after %d s waiting for %s:%d",
				    HTTP_TIMEOUT_S, srv->host, srv->port);
		*t.status = 0;
		return -1;
	}
	if (t.too_big)
		return -1; /* the status stays: the server did answer */
	if (t.failed && (resp || !*t.status))
		return -1;
	if (!*t.status) {
		pgc_set_msg(t.msg, t.msg_size, "no HTTP answer");
		return -1;
	}
	if (res)
		http_parse_json(res, t.used);
	return 0;
}

/* Performs one blocking HTTP request; the contract of pgc_http_post(). */
static int http_request(const struct pgc_server *srv, const char *method, const char *path,
			const char *content_type, const void *body, size_t body_len,
			struct pgc_login_result *res)
{
	if (!res)
		return -1;
	memset(res, 0, sizeof(*res));
	return http_run(srv, method, path, NULL, content_type, body, body_len, res, NULL);
}

int pgc_http_request(const struct pgc_server *srv, const char *method, const char *path,
		     const char *authorization, const char *content_type, const void *body,
		     size_t body_len, struct pgc_http_response *res)
{
	int rc;

	if (!res)
		return -1;
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (!method || !*method || strpbrk(method, " \r\n")) {
		pgc_set_msg(res->message, sizeof(res->message), "invalid HTTP method");
		return -1;
	}
	rc = http_run(srv, method, path, authorization, content_type, body, body_len, NULL, res);
	if (rc) {
		pgc_http_response_free(res); /* a partial body is no answer */
		return -1;
	}
	if (!res->body) {
		/* an empty body still reads as "" */
		res->body = calloc(1, 1);
		if (!res->body) {
			pgc_set_msg(res->message, sizeof(res->message), "out of memory");
			return -1;
		}
		res->body_cap = 1;
	}
	return rc;
}

void pgc_http_response_free(struct pgc_http_response *res)
{
	if (!res)
		return;
	if (res->body)
		pgc_secure_zero(res->body, res->body_cap);
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	res->body_cap = 0;
}

int pgc_http_post(const struct pgc_server *srv, const char *path, const char *content_type,
		  const void *body, size_t body_len, struct pgc_login_result *res)
{
	return http_request(srv, "POST", path, content_type, body, body_len, res);
}

int pgc_http_get(const struct pgc_server *srv, const char *path, struct pgc_login_result *res)
{
	return http_request(srv, "GET", path, NULL, NULL, 0, res);
}

/* Overwrites the text of string member key of object o (a password)
   before o is freed. NULL o or a missing member is fine. */
static void json_wipe_member(json_t *o, const char *key)
{
	json_t *s = o ? json_object_get(o, key) : NULL;
	/* jansson keeps the value in its own heap copy and does not wipe it
	   when freeing; the object is ours, so writing to it is fine */
	char *v = (char *)json_string_value(s);

	if (v)
		pgc_secure_zero(v, json_string_length(s));
}

int pgc_login(const struct pgc_server *srv, const char *user, const char *password, int width,
	      int height, struct pgc_login_result *res)
{
	return pgc_login_otp(srv, user, password, NULL, width, height, res);
}

int pgc_login_otp(const struct pgc_server *srv, const char *user, const char *password,
		  const char *otp, int width, int height, struct pgc_login_result *res)
{
	json_t *o;
	char *body;
	int rc;

	if (!res)
		return -1;
	if (!user || !password) {
		memset(res, 0, sizeof(*res));
		pgc_set_msg(res->message, sizeof(res->message), "user and password are required");
		return -1;
	}
	o = json_object();
	if (!o || json_object_set_new(o, "user", json_string(user)) ||
	    json_object_set_new(o, "password", json_string(password)) ||
	    (width && json_object_set_new(o, "width", json_integer(width))) ||
	    (height && json_object_set_new(o, "height", json_integer(height))) ||
	    (otp && otp[0] && json_object_set_new(o, "otp", json_string(otp)))) {
		/* json_string() returns NULL for invalid UTF-8 */
		json_wipe_member(o, "password");
		json_decref(o);
		memset(res, 0, sizeof(*res));
		pgc_set_msg(res->message, sizeof(res->message),
			    "cannot encode the login request (user/password not UTF-8?)");
		return -1;
	}
	body = json_dumps(o, JSON_COMPACT);
	json_wipe_member(o, "password");
	json_wipe_member(o, "otp");
	json_decref(o);
	if (!body) {
		memset(res, 0, sizeof(*res));
		pgc_set_msg(res->message, sizeof(res->message), "out of memory");
		return -1;
	}
	rc = pgc_http_post(srv, "/api/v1/login", "application/json", body, strlen(body), res);
	pgc_secure_zero(body, strlen(body)); /* it holds the password */
	free(body);
	if (rc)
		return -1;
	if (res->http_status != 200)
		return -1;
	if (!res->ticket[0]) {
		pgc_set_msg(res->message, sizeof(res->message),
			    "login answer has no usable \"ticket\"");
		return -1;
	}
	return 0;
}
