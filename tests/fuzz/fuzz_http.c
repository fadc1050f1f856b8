/*
 * fuzz_http.c: libFuzzer target for the staff listener's HTTP side,
 * proxy/gateway/gateway_http.c and the authentication path it shares with
 * the admin API, proxy/gateway/gateway_auth.c (both included here as they
 * are, so their per-process state can be reset between inputs;
 * libwebsockets, the password-check threads and the rest of the gateway are
 * gw_stubs.c, but for lws's tokenizer, which the subprotocol check uses:
 * the real libwebsockets is linked for it). It takes over where lws has parsed a request:
 * the path, the method, Content-Length, the login body in pieces, the
 * password check's answer, tickets, and the WebSocket upgrade with its
 * Upgrade value, subprotocols and ticket= argument. (Tokenizing the request
 * line, the headers and the query string is lws's, not pixelgate's code.)
 *
 * Input byte 0, the connection: bit 0 keep-alive (requests share it until
 * one closes it), bit 1 the audit log cannot be written, bit 2 the
 * password-check queue is full, bit 3 draining, bit 4 the node is full, bit
 * 5 a strict rate limit and lockout (1 login/s, burst 2, 2 failures), bit 6
 * audit_fail_open. Then requests, each a flags byte and six NUL-terminated
 * fields: path, Content-Length, Upgrade, Sec-WebSocket-Protocol, URL
 * arguments ("@0".."@9" there stand for the tickets issued so far), body.
 * Request flags: bit 0 POST, bit 1 a WebSocket upgrade, bit 2 with
 * Content-Length, bits 3..4 the body's pieces (1, 7, 100 bytes or all),
 * bit 5 the password is right, bit 6 the connection closes during the
 * password check, bit 7 31 s pass first (tickets expire). Users: yamada,
 * and suzuki, locked by an administrator.
 *
 * Invariants, each an abort():
 *  - every HTTP request gets exactly one complete answer (unless its
 *    connection closed during the password check): JSON, no-store, its
 *    length as announced; 200 {"ticket": 64 hex digits, "expires_in": 30, the
 *    clipboard_to_browser and clipboard_to_terminal booleans, clipboard_max_bytes},
 *    else {"error","message"[,"retry_after_s"]} with a known status and a
 *    Retry-After header exactly when retry_after_s is there;
 *  - 200 {"service": "pixelgate", ...} without a version for GET /, 404 for
 *    another unknown path, 400 for /rfb without an upgrade, 405 for a
 *    login that is not a POST, 411 for one without Content-Length;
 *  - a ticket only for yamada's login with the right password, after its
 *    login_ok record; 401 and a login_fail record for a wrong one, 403 for
 *    suzuki's right one;
 *  - the body (it holds the password) is wiped once the login is handled,
 *    and the kept answer (it may hold a ticket) once written; no answer and
 *    no log line holds the password; nothing of a connection's per-request
 *    data is touched after lws freed it (ASan: the stubs free it as lws does);
 *  - an upgrade is accepted exactly when Upgrade is "websocket" (any case),
 *    the path "/rfb", no subprotocol or a list naming "binary" and none of
 *    http / pg-* is offered (proto_rule(), said apart from lws's tokenizer;
 *    for lists with other characters only "accepted implies that") and the
 *    ticket is one issued, unused and not expired; then its grant is
 *    yamada's, and the ticket is
 *    used up; a refused upgrade is answered 400/401/404 and closed;
 *  - refusals counted, not audited one by one, come out as records with a
 *    count; no grant is left behind; no log line holds a control character.
 */
#include <stdio.h>

#include "gateway_http.c"
#include "gateway_auth.c"

#include "gw_stubs.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TICKETS_MAX 10

struct req {
	uint8_t flags;
	const char *uri, *cl, *upgrade, *proto, *args, *body;
};

/* Tickets issued during this input, for "@N" in URL arguments. */
static struct {
	char text[TICKET_TEXT_LEN + 1];
	int64_t issued_ms;
	bool used;
} tickets[FUZZ_TICKETS_MAX];
static size_t ntickets;

static struct user users[2];
static struct lws conn;
static bool conn_open, keepalive;
static uint8_t cflags;

static void reset_http_state(void)
{
	http_rate_ready = false;
	for (size_t i = 0; i < sizeof auth_refused / sizeof auth_refused[0]; i++)
		auth_refused[i].ready = false;
	while (http_grants != NULL) {
		struct http_grant *g = http_grants;
		http_grants = g->next;
		free(g);
	}
}

static void open_conn(void)
{
	if (conn_open)
		return;
	fuzz_wsi_init(&conn, sizeof(struct http_pss), http_callback);
	conn.keepalive = keepalive;
	conn_open = true;
}

/* lws closes the connection: CLOSED_HTTP, WSI_DESTROY, the data freed. */
static void close_conn(void)
{
	if (!conn_open)
		return;
	http_callback(&conn, LWS_CALLBACK_CLOSED_HTTP, conn.user, NULL, 0);
	http_callback(&conn, LWS_CALLBACK_WSI_DESTROY, conn.user, NULL, 0);
	fuzz_wsi_free(&conn);
	conn_open = false;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The URL arguments with "@N" replaced by ticket N's text (malloc'd). */
static char *with_tickets(const char *args)
{
	char *out = malloc(strlen(args) * (TICKET_TEXT_LEN + 1) + 1);
	FUZZ_CHECK(out != NULL);
	char *o = out;
	for (const char *p = args; *p != '\0'; p++) {
		if (p[0] == '@' && p[1] >= '0' && p[1] <= '9' && (size_t)(p[1] - '0') < ntickets) {
			size_t k = (size_t)(p[1] - '0');
			memcpy(o, tickets[k].text, TICKET_TEXT_LEN);
			o += TICKET_TEXT_LEN;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* The ticket= argument as lws hands it (the first, if it fits 80 bytes), or NULL. */
static const char *ticket_arg(const char *args, char *buf)
{
	for (const char *p = args; *p != '\0';) {
		const char *e = strchr(p, '&');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n >= 7 && memcmp(p, "ticket=", 7) == 0) {
			if (n + 1 > TICKET_TEXT_LEN + 16)
				return NULL;
			memcpy(buf, p + 7, n - 7);
			buf[n - 7] = '\0';
			return buf;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	return NULL;
}

/*
 * The password a login body holds, as a secret to look for: the value of
 * "password" if it parses, else the text after "password":" (a body that
 * does not parse may still hold one). NULL when too short to look for, or
 * when it is also in what the request shows anyway.
 */
static const char *secret_of(const struct req *q, char *buf, size_t buflen)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	const char *pw = NULL;
	if (login_parse(q->body, strlen(q->body), 1, 100000, 1, 100000, &r, msg, sizeof msg) == 0) {
		snprintf(buf, buflen, "%s", r.password);
		pw = buf;
	} else {
		const char *p = strstr(q->body, "\"password\":\"");
		if (p != NULL) {
			p += 12;
			size_t n = strcspn(p, "\"\\");
			if (n >= buflen)
				n = buflen - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			pw = buf;
		}
	}
	OPENSSL_cleanse(&r, sizeof r);
	if (pw == NULL || strlen(pw) < 10)
		return NULL;
	const char *shown[] = { q->uri,  q->cl,       q->upgrade, q->proto,
				q->args, "192.0.2.1", "yamada",   "suzuki" };
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
		if (shown[i][0] != '\0' &&
		    (strstr(shown[i], pw) != NULL || strstr(pw, shown[i]) != NULL))
			return NULL;
	/* the password said twice (as the user name too, say) is not kept secret */
	const char *first = strstr(q->body, pw);
	if (first != NULL && strstr(first + 1, pw) != NULL)
		return NULL;
	return pw;
}

/* The answer written on the connection: complete and well-formed. Returns its status. */
static unsigned check_answer(json_t **out)
{
	static const unsigned statuses[] = { 200, 400, 401, 403, 404, 405, 411, 429, 500, 503 };
	FUZZ_CHECK(conn.headers_done && conn.body_final);
	FUZZ_CHECK(strcmp(conn.content_type, "application/json") == 0 && conn.no_store);
	FUZZ_CHECK(conn.body_len == conn.content_length);
	bool known = false;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		known |= statuses[i] == conn.status;
	FUZZ_CHECK(known);
	json_t *o = json_loadb(conn.body, conn.body_len, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(o));
	if (conn.status == 200 && json_object_get(o, "service") != NULL) {
		/* GET /: what answers here, and no version */
		FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "service")), "pixelgate") ==
			   0);
		FUZZ_CHECK(json_object_get(o, "version") == NULL && conn.retry_after == -1);
	} else if (conn.status == 200) {
		const char *t = json_string_value(json_object_get(o, "ticket"));
		FUZZ_CHECK(t != NULL && strlen(t) == TICKET_TEXT_LEN &&
			   strspn(t, "0123456789abcdef") == TICKET_TEXT_LEN);
		FUZZ_CHECK(json_integer_value(json_object_get(o, "expires_in")) == TICKET_TTL_S);
		/* what the session's policy lets the viewer do with the clipboard */
		FUZZ_CHECK(json_is_boolean(json_object_get(o, "clipboard_to_browser")) &&
			   json_is_boolean(json_object_get(o, "clipboard_to_terminal")) &&
			   json_integer_value(json_object_get(o, "clipboard_max_bytes")) ==
			       gw->cfg.clipboard_max_bytes);
		FUZZ_CHECK(json_object_size(o) == 5 && conn.retry_after == -1);
	} else {
		const char *code = json_string_value(json_object_get(o, "error"));
		const char *msg = json_string_value(json_object_get(o, "message"));
		FUZZ_CHECK(code != NULL && code[0] != '\0' &&
			   strspn(code, "abcdefghijklmnopqrstuvwxyz_") == strlen(code));
		FUZZ_CHECK(msg != NULL && msg[0] != '\0' && fuzz_printable(msg, strlen(msg)));
		json_t *ra = json_object_get(o, "retry_after_s");
		if (ra != NULL) {
			FUZZ_CHECK(json_is_integer(ra) && json_integer_value(ra) > 0);
			FUZZ_CHECK(conn.retry_after == json_integer_value(ra));
			FUZZ_CHECK(json_object_size(o) == 3);
		} else {
			FUZZ_CHECK(conn.retry_after == -1 && json_object_size(o) == 2);
		}
	}
	*out = o;
	return conn.status;
}

static const char *error_code(json_t *o)
{
	return json_string_value(json_object_get(o, "error"));
}

/* A login's answer: what it must be given what the harness knows. */
static void check_login(const struct req *q, unsigned status, json_t *answer, size_t audits_before,
			bool checked, bool ok)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	bool parsed = login_parse(q->body, strlen(q->body), CONFIG_MIN_WIDTH, gw->cfg.max_width,
				  CONFIG_MIN_HEIGHT, gw->cfg.max_height, &r, msg, sizeof msg) == 0;
	bool yamada = parsed && !r.bad_user_name && strcmp(r.user, "yamada") == 0;
	bool suzuki = parsed && !r.bad_user_name && strcmp(r.user, "suzuki") == 0;
	OPENSSL_cleanse(&r, sizeof r);
	int login_ok = fuzz_audit_find("login_ok", audits_before);
	if (status == 200) {
		FUZZ_CHECK(checked && ok && yamada);
		FUZZ_CHECK(login_ok >= 0 && strcmp(fuzz_audits[login_ok].user, "yamada") == 0);
		if (ntickets < FUZZ_TICKETS_MAX) {
			const char *t = json_string_value(json_object_get(answer, "ticket"));
			memcpy(tickets[ntickets].text, t, TICKET_TEXT_LEN + 1);
			tickets[ntickets].issued_ms = fuzz_now_ms;
			tickets[ntickets].used = false;
			ntickets++;
		}
	} else {
		FUZZ_CHECK(login_ok < 0);
	}
	int fail = fuzz_audit_find("login_fail", audits_before);
	if (status == 401) {
		FUZZ_CHECK(checked && (!ok || !(yamada || suzuki)));
		FUZZ_CHECK(strcmp(error_code(answer), "invalid_credentials") == 0 && fail >= 0);
	}
	if (status == 403) {
		FUZZ_CHECK(checked && ok && suzuki && fail >= 0);
		FUZZ_CHECK(strcmp(error_code(answer), "account_locked") == 0);
	}
	if (checked && status != 200 && status != 401 && status != 403)
		FUZZ_CHECK(strcmp(error_code(answer), "user_limit") == 0 ||
			   strcmp(error_code(answer), "draining") == 0 ||
			   strcmp(error_code(answer), "node_full") == 0 ||
			   strcmp(error_code(answer), "audit_unavailable") == 0);
}

/* The answer given at LWS_CALLBACK_HTTP, before any body. */
static void check_route(const struct req *q, bool post, unsigned status, json_t *answer)
{
	bool login = strcmp(q->uri, "/api/v1/login") == 0;
	bool has_cl = (q->flags & 4) != 0 && q->cl[0] != '\0' && strlen(q->cl) < 64;
	if (!login && strcmp(q->uri, "/") == 0 && !post)
		FUZZ_CHECK(status == 200 && json_object_get(answer, "service") != NULL);
	else if (!login && strcmp(q->uri, "/rfb") != 0)
		FUZZ_CHECK(status == 404 && strcmp(error_code(answer), "not_found") == 0);
	else if (!login)
		FUZZ_CHECK(status == 400);
	else if (!post)
		FUZZ_CHECK(status == 405);
	else if (!has_cl)
		FUZZ_CHECK(status == 411);
}

static void http_request(const struct req *q)
{
	bool post = (q->flags & 1) != 0;
	static const size_t pieces[] = { 1, 7, 100, SIZE_MAX };
	size_t piece = pieces[(q->flags >> 3) & 3];
	conn.hdr[post ? WSI_TOKEN_POST_URI : WSI_TOKEN_GET_URI] = q->uri;
	if (q->flags & 4)
		conn.hdr[WSI_TOKEN_HTTP_CONTENT_LENGTH] = q->cl;
	size_t audits_before = fuzz_naudits;
	memset(&fuzz_auth, 0, sizeof fuzz_auth);
	char secret[USERS_PASSWORD_MAX + 1];
	fuzz_log_secret = secret_of(q, secret, sizeof secret);

	int rc = http_callback(&conn, LWS_CALLBACK_HTTP, conn.user, (void *)q->uri, strlen(q->uri));
	bool at_route = conn.body_final;
	struct http_pss *pss = conn.user;
	if (rc == 0 && !conn.body_final && !pss->checking) {
		/* waiting for the login's body */
		FUZZ_CHECK(pss->is_login);
		size_t len = strlen(q->body);
		for (size_t off = 0; off < len && rc == 0;) {
			size_t n = len - off < piece ? len - off : piece;
			rc = http_callback(&conn, LWS_CALLBACK_HTTP_BODY, conn.user,
					   (void *)(q->body + off), n);
			off += n;
		}
		FUZZ_CHECK(rc == 0);
		rc = http_callback(&conn, LWS_CALLBACK_HTTP_BODY_COMPLETION, conn.user, NULL, 0);
	}
	bool checked = false, ok = (q->flags & 0x20) != 0;
	pss = conn.user;
	if (rc == 0 && !conn.body_final) {
		/* the password is being checked: the body is gone already */
		FUZZ_CHECK(pss->checking && fuzz_auth.submitted && fuzz_auth.wsi == &conn);
		FUZZ_CHECK(all_zero(pss->body, sizeof pss->body) && pss->len == 0);
		if (q->flags & 0x40) {
			close_conn(); /* its check's answer never comes */
			FUZZ_CHECK(!fuzz_auth.submitted);
			fuzz_log_secret = NULL;
			return;
		}
		struct auth_result r;
		memset(&r, 0, sizeof r);
		snprintf(r.user, sizeof r.user, "%s", fuzz_auth.user);
		snprintf(r.hash, sizeof r.hash, "%s",
			 fuzz_auth.had_hash ? fuzz_auth.hash : "dummy");
		r.ok = ok && fuzz_auth.had_hash;
		checked = true;
		http_auth_done(&conn, &r);
		FUZZ_CHECK(!pss->checking && pss->replying && conn.writeable_asked);
		rc = http_callback(&conn, LWS_CALLBACK_HTTP_WRITEABLE, conn.user, NULL, 0);
	}
	json_t *answer;
	unsigned status = check_answer(&answer);
	if (at_route)
		check_route(q, post, status, answer);
	else
		check_login(q, status, answer, audits_before, checked, ok && fuzz_auth.had_hash);
	if (fuzz_log_secret != NULL)
		FUZZ_CHECK(memmem(conn.body, conn.body_len, fuzz_log_secret,
				  strlen(fuzz_log_secret)) == NULL);
	json_decref(answer);
	fuzz_log_secret = NULL;
	if (rc != 0) {
		/* not kept alive: the data lives until the close; nothing secret in it */
		pss = conn.user;
		FUZZ_CHECK(all_zero(pss->body, sizeof pss->body) && !pss->replying);
		FUZZ_CHECK(all_zero(pss->reply, sizeof pss->reply));
		close_conn();
	} else {
		FUZZ_CHECK(keepalive);
	}
}

/*
 * The subprotocol rule, said independently of lws's tokenizer: split at
 * commas, trim spaces and tabs. 1: every element is a plain token, one is
 * "binary" and none is "http" or "pg-..." (must be accepted); 0: no element
 * is "binary", or one is http/pg-... (must be refused); -1: elements with
 * other characters, where only "accepted implies 1's conditions" is checked.
 */
static int proto_rule(const char *list, bool *names_binary, bool *names_internal)
{
	bool plain = true;
	*names_binary = *names_internal = false;
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 6 && memcmp(p, "binary", 6) == 0)
			*names_binary = true;
		if ((n == 4 && strncasecmp(p, "http", 4) == 0) ||
		    (n >= 3 && strncasecmp(p, "pg-", 3) == 0))
			*names_internal = true;
		for (size_t i = 0; i < n; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
			      (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '.' ||
			      p[i] == '_'))
				plain = false;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (!*names_binary || *names_internal)
		return plain ? 0 : -1;
	return plain ? 1 : -1;
}

static void upgrade_request(const struct req *q)
{
	conn.hdr[WSI_TOKEN_GET_URI] = q->uri;
	if (q->proto[0] != '\0')
		conn.hdr[WSI_TOKEN_PROTOCOL] = q->proto;
	char *args = with_tickets(q->args);
	conn.args = args;
	const char *up = q->upgrade[0] != '\0' ? q->upgrade : NULL;

	/* Whether it must be accepted, and with which ticket. */
	char tbuf[TICKET_TEXT_LEN + 16];
	const char *t = ticket_arg(args, tbuf);
	int which = -1;
	for (size_t i = 0; t != NULL && i < ntickets; i++)
		if (strcmp(t, tickets[i].text) == 0 && !tickets[i].used &&
		    fuzz_now_ms < tickets[i].issued_ms + TICKET_TTL_S * 1000)
			which = (int)i;
	/* no subprotocol at all is taken as binary (noVNC, websockify's clients) */
	bool binary, internal;
	int rule = q->proto[0] == '\0' ? 1
	    : strlen(q->proto) >= 128  ? 0
				       : proto_rule(q->proto, &binary, &internal);
	bool others = up != NULL && strcasecmp(up, "websocket") == 0 &&
	    strcmp(q->uri, "/rfb") == 0 && which >= 0;

	int tx = conn.transactions;
	int rc = http_callback(&conn, LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, conn.user, (void *)up, 0);
	FUZZ_CHECK(rc == 0 || rc == 1);
	if (rule >= 0)
		FUZZ_CHECK((rc == 0) == (others && rule == 1));
	else if (rc == 0)
		FUZZ_CHECK(others && binary && !internal);
	if (rc == 0) {
		FUZZ_CHECK(conn.status == 0); /* no HTTP answer: lws answers 101 */
		tickets[which].used = true;
		struct ticket_grant *g = http_take_grant(&conn);
		FUZZ_CHECK(g != NULL && strcmp(g->user, "yamada") == 0);
		FUZZ_CHECK(http_take_grant(&conn) == NULL);
		free(g);
		/* the WebSocket takes the connection over (the relay's protocol) */
		http_callback(&conn, LWS_CALLBACK_HTTP_DROP_PROTOCOL, conn.user, NULL, 0);
		http_callback(&conn, LWS_CALLBACK_WSI_DESTROY, NULL, NULL, 0);
		fuzz_wsi_free(&conn);
		conn_open = false;
	} else {
		json_t *answer;
		unsigned status = check_answer(&answer);
		FUZZ_CHECK(status == 400 || status == 401 || status == 404);
		FUZZ_CHECK(conn.transactions == tx); /* the refusal closes the connection */
		json_decref(answer);
		close_conn();
	}
	free(args);
}

/* The next NUL-terminated field of the request, or "" past the end. */
static const char *field(char **p, char *end)
{
	if (*p >= end)
		return "";
	const char *f = *p;
	*p += strlen(f) + 1;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_log_one_line = true;
	fuzz_gw_reset();
	reset_http_state();
	ntickets = 0;
	cflags = data[0];
	keepalive = (cflags & 1) != 0;
	snprintf(gw->cfg.users_file, sizeof gw->cfg.users_file, "/nonexistent/pixelgate-fuzz");
	memset(users, 0, sizeof users);
	snprintf(users[0].name, sizeof users[0].name, "yamada");
	snprintf(users[0].hash, sizeof users[0].hash, "$argon2id$v=19$fake-yamada");
	snprintf(users[1].name, sizeof users[1].name, "suzuki");
	snprintf(users[1].hash, sizeof users[1].hash, "$argon2id$v=19$fake-suzuki");
	users[1].locked = true;
	gw->users.v = users;
	gw->users.n = 2;
	if (cflags & 2) {
		fuzz_audit_up = false;
		fuzz_audit_rc = -1;
	}
	if (cflags & 4)
		fuzz_auth_rc = -1;
	gw->draining = (cflags & 8) != 0;
	if (cflags & 16) {
		gw->limits.max_sessions = 1;
		fuzz_live_sessions = 1;
	}
	if (cflags & 32) {
		gw->limits.login_rate_per_s = 1;
		gw->limits.login_burst = 2;
		gw->limits.login_max_failures = 2;
	}
	gw->cfg.audit_fail_open = (cflags & 64) != 0;

	char *copy = malloc(size);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	char *p = copy, *end = copy + size - 1;
	while (p < end) {
		struct req q;
		q.flags = (uint8_t)*p++;
		q.uri = field(&p, end);
		q.cl = field(&p, end);
		q.upgrade = field(&p, end);
		q.proto = field(&p, end);
		q.args = field(&p, end);
		q.body = field(&p, end);
		if (q.flags & 0x80)
			fuzz_now_ms += 31000;
		else
			fuzz_now_ms += 10;
		open_conn();
		fuzz_wsi_answer_reset(&conn);
		memset(conn.hdr, 0, sizeof conn.hdr);
		conn.args = NULL;
		if (q.flags & 2)
			upgrade_request(&q);
		else
			http_request(&q);
	}
	close_conn();
	free(copy);

	/* Refusals counted and not audited one by one: records with a count. */
	size_t before = fuzz_naudits;
	auth_refusals_flush_all();
	for (size_t i = before; i < fuzz_naudits; i++) {
		const struct fuzz_audit *a = &fuzz_audits[i];
		FUZZ_CHECK(strcmp(a->event, "login_refused_locked") == 0 ||
			   strcmp(a->event, "login_refused_rate") == 0);
		json_t *count = json_object_get(a->fields, "count");
		FUZZ_CHECK(json_is_integer(count) && json_integer_value(count) >= 1);
	}
	FUZZ_CHECK(http_grants == NULL);
	fuzz_audits_clear();
	return 0;
}
