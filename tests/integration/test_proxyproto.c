/*
 * test_proxyproto.c: PROXY protocol v2 on the staff listener and the
 * per-address connection cap, as a balancer, a terminal and an attacker see
 * them.
 *
 * A client on 127.0.0.1 plays the balancer: it sends a PROXY v2 header
 * naming a documentation address (192.0.2.x; it only appears inside the
 * header, every packet goes to 127.0.0.1), then speaks TLS itself (OpenSSL
 * on its own socket, the test CA pinned). With proxy_trusted = 127.0.0.1
 * its login is audited and logged with the header's address, and the
 * session the admin API lists has it too; from an untrusted address, without
 * a header, or with a header that never completes, the connection is closed
 * (the last one after the deadline), counted in /metrics, and the daemon
 * goes on serving. With max_connections_per_address, the connection over
 * the cap is closed before TLS while the others still get answers, a slot
 * freed is usable again, and the refusal is counted; with PROXY protocol
 * the cap counts the header's address, not the balancer's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define PP_ADMIN "pp-admin"
#define PP_USER "pp-yamada"
#define PP_CLIENT "192.0.2.10" /* TEST-NET-1: only ever inside a header */
#define PP_HEADER_DEADLINE_S 5 /* ACCEPT_HEADER_DEADLINE_MS in gateway_accept.c */

/* A test client's connection: our own socket, TLS on it once asked. */
struct pp_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

/* TCP to the staff listener from bind_addr (NULL: the default, 127.0.0.1). */
static void pp_connect(struct pp_conn *c, const char *bind_addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)it.port) };
	struct timeval tv = { .tv_sec = 15 };

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	IT_ASSERT(c->fd >= 0, "socket: %s", strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (bind_addr != NULL) {
		struct sockaddr_in b = { .sin_family = AF_INET };

		IT_ASSERT(inet_pton(AF_INET, bind_addr, &b.sin_addr) == 1, "%s", bind_addr);
		IT_ASSERT(bind(c->fd, (struct sockaddr *)&b, sizeof b) == 0, "bind %s: %s",
			  bind_addr, strerror(errno));
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	IT_ASSERT(connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0, "connect 127.0.0.1:%d: %s",
		  it.port, strerror(errno));
}

static void pp_close(struct pp_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* A PROXY v2 header: TCP over IPv4 from src:sport to 127.0.0.1:it.port. */
static size_t pp_header(uint8_t *out, const char *src, uint16_t sport)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = 0x21; /* version 2, PROXY */
	out[13] = 0x11; /* AF_INET, STREAM */
	out[14] = 0;
	out[15] = 12;
	IT_ASSERT(inet_pton(AF_INET, src, out + 16) == 1, "%s", src);
	IT_ASSERT(inet_pton(AF_INET, "127.0.0.1", out + 20) == 1, "dst");
	out[24] = (uint8_t)(sport >> 8);
	out[25] = (uint8_t)sport;
	out[26] = (uint8_t)(it.port >> 8);
	out[27] = (uint8_t)it.port;
	return 28;
}

/* Sends bytes; a failure shows later as a refused TLS handshake (the gateway may
   have closed a refused connection already). */
static void pp_send(struct pp_conn *c, const void *buf, size_t len)
{
	if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		fprintf(stderr, "[%s] send: %s\n", it.test_name, strerror(errno));
}

static void pp_send_header(struct pp_conn *c, const char *src)
{
	uint8_t h[28];

	pp_send(c, h, pp_header(h, src, 40000));
}

/* TLS on c (test CA pinned, name 127.0.0.1). False if the gateway closed instead. */
static bool pp_tls(struct pp_conn *c)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	IT_ASSERT(c->ctx != NULL && SSL_CTX_load_verify_locations(c->ctx, it.ca_file, NULL) == 1,
		  "cannot load the test CA %s", it.ca_file);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	c->ssl = SSL_new(c->ctx);
	IT_ASSERT(c->ssl != NULL && SSL_set_fd(c->ssl, c->fd) == 1 &&
		      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") == 1,
		  "SSL setup");
	bool ok = SSL_connect(c->ssl) == 1;
	ERR_clear_error();
	return ok;
}

/*
 * One HTTP/1.1 request over c's TLS (keep-alive); the answer's status (-1
 * when the connection failed) and body.
 */
static int pp_request(struct pp_conn *c, const char *request, char *body, size_t bodylen)
{
	static char buf[16384];
	size_t got = 0, want = SIZE_MAX;
	int status = -1;

	body[0] = '\0';
	if (SSL_write(c->ssl, request, (int)strlen(request)) <= 0) {
		ERR_clear_error();
		return -1;
	}
	while (got < sizeof buf - 1 && got < want) {
		int n = SSL_read(c->ssl, buf + got, (int)(sizeof buf - 1 - got));
		char *sep;

		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		sep = strstr(buf, "\r\n\r\n");
		if (sep != NULL && want == SIZE_MAX) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");

			if (cl != NULL && cl < sep)
				want = (size_t)(sep + 4 - buf) + strtoul(cl + 17, NULL, 10);
			else if (strncmp(buf + 9, "101", 3) == 0)
				want = (size_t)(sep + 4 - buf);
		}
	}
	ERR_clear_error();
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	const char *sep = strstr(buf, "\r\n\r\n");
	snprintf(body, bodylen, "%s", sep != NULL ? sep + 4 : "");
	return status;
}

/* POST /api/v1/login for user over c. */
static int pp_login(struct pp_conn *c, const char *user, char *body, size_t bodylen)
{
	char json[256], req[1024];

	snprintf(json, sizeof json, "{\"user\":\"%s\",\"password\":\"%s\"}", user,
		 it_password(user));
	snprintf(req, sizeof req,
		 "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 it.port, strlen(json), json);
	return pp_request(c, req, body, bodylen);
}

/* A small request any connection gets an answer to (404, keep-alive). */
static int pp_ping(struct pp_conn *c)
{
	char body[512], req[256];

	snprintf(req, sizeof req, "GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		 it.port);
	return pp_request(c, req, body, sizeof body);
}

/* Waits until the gateway closes c's socket; true if it did within timeout_s. */
static bool pp_wait_closed(struct pp_conn *c, double timeout_s)
{
	double end = it_now_s() + timeout_s;

	while (it_now_s() < end) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		char b[256];

		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(c->fd, b, sizeof b, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
		/* a TLS alert or other bytes: keep reading until the end */
	}
	return false;
}

/* The refusals counter of reason in /metrics. */
static double pp_refusals(const char *reason)
{
	struct it_http r;
	char series[128];

	it_admin("GET", "/metrics", PP_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /metrics: %d %s", r.status, r.body);
	snprintf(series, sizeof series, "pixelgate_refusals_total{reason=\"%s\"}", reason);
	double v = it_metric(r.body, series);
	IT_ASSERT(v >= 0, "/metrics has no %s:\n%s", series, r.body);
	return v;
}

/* The admin API still answers: the daemon is alive and serving. */
static void pp_assert_serving(void)
{
	struct it_http r;

	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /healthz: %d %s", r.status, r.body);
}

static void pp_start(const char *name, const char *extra)
{
	static const char *const users[] = { PP_USER, NULL };
	static const char *const admins[] = { PP_ADMIN, NULL };
	struct it_opts o = { .admins = admins, .extra_conf = extra };

	it_start_opts(name, users, &o);
}

IT_TEST(proxyproto, trusted_header_gives_the_real_client_address)
{
	struct pp_conn c;
	char body[2048], ticket[128], req[1024];
	struct it_session s[4];
	int status;

	pp_start("proxyproto_trusted",
		 "[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.1\n");
	pp_connect(&c, NULL);
	pp_send_header(&c, PP_CLIENT);
	IT_ASSERT(pp_tls(&c), "TLS after a trusted PROXY header failed");
	status = pp_login(&c, PP_USER, body, sizeof body);
	IT_ASSERT(status == 200, "login through the balancer: %d %s", status, body);
	IT_ASSERT(it_json_str(body, "ticket", ticket, sizeof ticket), "no ticket in %s", body);

	/* The audit record and the log name the terminal, not the balancer. */
	IT_ASSERT(it_audit_count("login_ok", "client", PP_CLIENT, NULL) == 1,
		  "no login_ok record with client " PP_CLIENT " (%d login_ok in all)",
		  it_audit_count("login_ok", NULL));
	IT_ASSERT(it_audit_count("login_ok", NULL) == 1, "more than one login_ok");
	IT_ASSERT(it_file_count(it.daemon_log, "login ok: user " PP_USER " from " PP_CLIENT) == 1,
		  "the daemon log does not show the login from " PP_CLIENT);

	/* The same connection upgrades; the session keeps the header's address. */
	snprintf(req, sizeof req,
		 "GET /rfb?ticket=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n",
		 ticket, it.port);
	status = pp_request(&c, req, body, sizeof body);
	IT_ASSERT(status == 101, "WebSocket upgrade through the balancer: %d %s", status, body);
	double end = it_now_s() + 20;
	int n = 0;

	while ((n = it_sessions(PP_ADMIN, s, 4)) < 1 && it_now_s() < end)
		it_sleep_ms(200);
	IT_ASSERT(n == 1, "the admin API lists %d sessions, want 1", n);
	IT_ASSERT(strcmp(s[0].client, PP_CLIENT) == 0, "the session's client is \"%s\", want %s",
		  s[0].client, PP_CLIENT);
	pp_close(&c);
	pp_assert_serving();
}

IT_TEST(proxyproto, untrusted_balancer_is_refused_and_the_daemon_goes_on)
{
	struct pp_conn c;
	char body[2048];

	pp_start("proxyproto_untrusted",
		 "[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.2\n");
	double before = pp_refusals("proxy_untrusted");

	/* From 127.0.0.1, not in the list: closed, however good the header. */
	pp_connect(&c, "127.0.0.1");
	pp_send_header(&c, PP_CLIENT);
	IT_ASSERT(!pp_tls(&c), "TLS succeeded from an untrusted balancer");
	IT_ASSERT(pp_wait_closed(&c, IT_CLOSE_S), "the untrusted connection stays open");
	pp_close(&c);
	IT_ASSERT(it_audit_count("login_ok", NULL) == 0, "a login happened");
	IT_ASSERT(pp_refusals("proxy_untrusted") == before + 1, "proxy_untrusted not counted once");
	IT_ASSERT(it_file_count(it.daemon_log,
				"staff connection from 127.0.0.1 refused: proxy_protocol is on "
				"and 127.0.0.1 is not in proxy_trusted") >= 1,
		  "the refusal is not in the daemon log");

	/* The trusted balancer (127.0.0.2, still loopback) is served. */
	pp_connect(&c, "127.0.0.2");
	pp_send_header(&c, PP_CLIENT);
	IT_ASSERT(pp_tls(&c), "TLS from the trusted balancer failed");
	int status = pp_login(&c, PP_USER, body, sizeof body);
	IT_ASSERT(status == 200, "login through the trusted balancer: %d %s", status, body);
	IT_ASSERT(it_audit_count("login_ok", "client", PP_CLIENT, NULL) == 1,
		  "login_ok lacks " PP_CLIENT);
	pp_close(&c);
	pp_assert_serving();
}

IT_TEST(proxyproto, connection_without_a_header_is_closed)
{
	struct pp_conn c;
	char body[256], err[64];

	pp_start("proxyproto_no_header",
		 "[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.1\n");
	double before = pp_refusals("proxy_header");

	/* TLS straight away, as a terminal bypassing the balancer would. */
	IT_ASSERT(it_https_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", body, sizeof body, err,
			       sizeof err) == -1,
		  "a connection without a PROXY header was answered: %s", body);
	/* Plain HTTP: closed without an answer. */
	pp_connect(&c, NULL);
	pp_send(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	IT_ASSERT(pp_wait_closed(&c, IT_CLOSE_S), "plain HTTP without a header stays open");
	pp_close(&c);
	/* A header over the cap: closed at once. */
	pp_connect(&c, NULL);
	uint8_t h[28];
	pp_header(h, PP_CLIENT, 1);
	h[14] = 0xff;
	h[15] = 0xff;
	pp_send(&c, h, 16);
	double t0 = it_now_s();
	IT_ASSERT(pp_wait_closed(&c, IT_CLOSE_S), "an over-long header stays open");
	IT_ASSERT(it_now_s() - t0 < PP_HEADER_DEADLINE_S - 1,
		  "an over-long header was closed only after %.1f s", it_now_s() - t0);
	pp_close(&c);
	IT_ASSERT(pp_refusals("proxy_header") >= before + 3, "proxy_header refusals: %g, before %g",
		  pp_refusals("proxy_header"), before);
	IT_ASSERT(it_file_count(it.daemon_log,
				"no PROXY protocol header (a TLS handshake came "
				"first)") >= 1,
		  "the TLS-without-header refusal is not in the daemon log");
	IT_ASSERT(it_file_count(it.daemon_log, "over the cap of 536") >= 1,
		  "the over-long header refusal is not in the daemon log");
	IT_ASSERT(it_audit_count("login_ok", NULL) == 0, "a login happened");
	pp_assert_serving();
}

IT_TEST(proxyproto, header_that_never_completes_is_closed_at_the_deadline)
{
	struct pp_conn c, good;
	char body[2048];

	pp_start("proxyproto_deadline",
		 "[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.1\n");
	uint8_t h[28];
	pp_header(h, PP_CLIENT, 1);
	pp_connect(&c, NULL);
	pp_send(&c, h, 20); /* the fixed part and 4 of 12 address bytes */
	double t0 = it_now_s();

	/* Meanwhile a complete connection is served at once: nothing waits on the slow one. */
	pp_connect(&good, NULL);
	pp_send_header(&good, "192.0.2.11");
	IT_ASSERT(pp_tls(&good), "TLS beside a stalled header failed");
	IT_ASSERT(pp_login(&good, PP_USER, body, sizeof body) == 200, "login: %s", body);
	pp_close(&good);

	IT_ASSERT(pp_wait_closed(&c, PP_HEADER_DEADLINE_S + IT_CLOSE_S),
		  "an incomplete header stays open");
	double waited = it_now_s() - t0;
	fprintf(stderr, "[%s] incomplete header closed after %.1f s\n", it.test_name, waited);
	IT_ASSERT(waited >= PP_HEADER_DEADLINE_S - 1, "closed after %.1f s, before the deadline",
		  waited);
	pp_close(&c);
	IT_ASSERT(it_file_count(it.daemon_log, "no complete PROXY protocol v2 header within") >= 1,
		  "the deadline is not in the daemon log");
	IT_ASSERT(it_audit_count("login_ok", "client", "192.0.2.11", NULL) == 1,
		  "the good login is not audited");
	pp_assert_serving();
}

/* Opens n TLS connections that each got an answer (held open, keep-alive). */
static void pp_open_answered(struct pp_conn *c, int n, const char *header_src)
{
	for (int i = 0; i < n; i++) {
		pp_connect(&c[i], NULL);
		if (header_src != NULL)
			pp_send_header(&c[i], header_src);
		IT_ASSERT(pp_tls(&c[i]), "connection %d of %d: TLS failed", i + 1, n);
		IT_ASSERT(pp_ping(&c[i]) == 404, "connection %d of %d: no answer", i + 1, n);
	}
}

/* The connection over the cap is closed before TLS. */
static void pp_assert_refused(const char *header_src)
{
	struct pp_conn x;

	pp_connect(&x, NULL);
	if (header_src != NULL)
		pp_send_header(&x, header_src);
	IT_ASSERT(!pp_tls(&x), "the connection over the cap got TLS");
	IT_ASSERT(pp_wait_closed(&x, IT_CLOSE_S), "the connection over the cap stays open");
	pp_close(&x);
}

/* A new connection is served again once one is closed (the count went down). */
static void pp_assert_slot_freed(const char *header_src)
{
	double end = it_now_s() + 10;
	struct pp_conn y;
	bool ok = false;

	while (!ok && it_now_s() < end) {
		pp_connect(&y, NULL);
		if (header_src != NULL)
			pp_send_header(&y, header_src);
		ok = pp_tls(&y) && pp_ping(&y) == 404;
		pp_close(&y);
		if (!ok)
			it_sleep_ms(200);
	}
	IT_ASSERT(ok, "no connection is accepted after one of the capped ones closed");
}

#define PP_CAP 4

IT_TEST(proxyproto, connections_per_address_are_capped)
{
	struct pp_conn c[PP_CAP];
	char extra[128];

	snprintf(extra, sizeof extra, "[server]\nmax_connections_per_address = %d\n", PP_CAP);
	pp_start("proxyproto_cap", extra);
	double before = pp_refusals("address_connections");

	pp_open_answered(c, PP_CAP, NULL);
	pp_assert_refused(NULL);
	pp_assert_refused(NULL);
	/* The others still get answers. */
	for (int i = 0; i < PP_CAP; i++)
		IT_ASSERT(pp_ping(&c[i]) == 404, "connection %d lost its answers", i + 1);
	IT_ASSERT(pp_refusals("address_connections") == before + 2,
		  "address_connections: %g, want %g", pp_refusals("address_connections"),
		  before + 2);
	/* Logged once per address per interval, not per connection. */
	IT_ASSERT(it_file_count(it.daemon_log,
				"staff connection from 127.0.0.1 refused: it "
				"already has 4 connections") == 1,
		  "the cap refusal is not logged exactly once");
	/* The admin listener counts apart: it still answers. */
	pp_assert_serving();
	pp_close(&c[0]);
	pp_assert_slot_freed(NULL);
	for (int i = 1; i < PP_CAP; i++)
		pp_close(&c[i]);
}

IT_TEST(proxyproto, the_cap_counts_the_address_the_header_names)
{
	struct pp_conn c[PP_CAP], other;
	char extra[256];

	snprintf(extra, sizeof extra,
		 "[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.1\n"
		 "max_connections_per_address = %d\n",
		 PP_CAP);
	pp_start("proxyproto_cap_header", extra);
	double before = pp_refusals("address_connections");

	pp_open_answered(c, PP_CAP, "192.0.2.20");
	pp_assert_refused("192.0.2.20");
	/* Another terminal behind the same balancer is not affected. */
	pp_connect(&other, NULL);
	pp_send_header(&other, "192.0.2.21");
	IT_ASSERT(pp_tls(&other) && pp_ping(&other) == 404,
		  "another client address behind the balancer was refused");
	pp_close(&other);
	for (int i = 0; i < PP_CAP; i++)
		IT_ASSERT(pp_ping(&c[i]) == 404, "connection %d lost its answers", i + 1);
	IT_ASSERT(pp_refusals("address_connections") == before + 1,
		  "address_connections: %g, want %g", pp_refusals("address_connections"),
		  before + 1);
	IT_ASSERT(it_file_count(it.daemon_log, "staff connection from 192.0.2.20 refused") == 1,
		  "the cap refusal does not name the header's address once");
	pp_close(&c[0]);
	pp_assert_slot_freed("192.0.2.20");
	for (int i = 1; i < PP_CAP; i++)
		pp_close(&c[i]);
}
