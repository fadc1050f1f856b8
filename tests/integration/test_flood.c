/*
 * test_flood.c: one client against the whole node (issue 8, items 3-5).
 *
 * The real daemon on 127.0.0.1. Every test client has the address
 * 127.0.0.1, so a lockout or a rate limit one of them causes applies to
 * all of them: each test says which answer the next client must get.
 *
 *   - 10 000 login attempts without a password, over keep-alive: exactly
 *     login_max_failures login_fail records, then one login_refused_locked
 *     record per interval whose counts add up to every 429 answered; a
 *     valid user from the same (locked) address gets 429 locked; the daemon
 *     stays up; audit verify OK;
 *   - with the password-check queue full (auth_threads 1, auth_queue 1),
 *     logins arriving together get 503 busy with Retry-After at once,
 *     counted in /metrics;
 *   - valid logins are rate-limited per address (429 rate_limited with
 *     Retry-After), admin API requests too; /metrics counts each, and the
 *     audit log has one login_refused_rate record of each (the admin API's
 *     "via":"admin").
 *
 * No timed assertions: speed figures belong to bench/.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_chain.h"
#include "harness.h"

#define FL_ADMIN "fl-admin"
#define FL_FLOOD 10000

/* ---- a keep-alive TLS client ------------------------------------------------------- */

struct fl_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char buf[65536];
	size_t have; /* bytes of the next answer already read */
};

/* An answer. */
struct fl_answer {
	int status;        /* -1: the connection failed */
	int retry_after_s; /* -1 if absent */
	char error[64];    /* JSON "error", or "" */
	char body[2048];
};

static void fl_close(struct fl_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
	c->have = 0;
}

/* Connect to the staff listener (the test CA pinned); false on failure. */
static bool fl_open(struct fl_conn *c, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 };

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || SSL_CTX_load_verify_locations(c->ctx, it.ca_file, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
		goto fail;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1 ||
	    SSL_connect(c->ssl) != 1)
		goto fail;
	return true;
fail:
	fl_close(c);
	return false;
}

/* A login request for user/password (JSON built with jansson). */
static void fl_login_request(char *out, size_t outlen, const char *user, const char *password)
{
	json_t *o = json_pack("{s:s, s:s}", "user", user, "password", password);
	char *body = json_dumps(o, JSON_COMPACT);

	snprintf(out, outlen,
		 "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	free(body);
	json_decref(o);
}

/* Write request on c (no answer read). */
static bool fl_send(struct fl_conn *c, const char *request)
{
	return c->ssl != NULL && SSL_write(c->ssl, request, (int)strlen(request)) > 0;
}

/* Read one whole answer (headers + Content-Length body) from c into a. */
static bool fl_read(struct fl_conn *c, struct fl_answer *a)
{
	char *sep = NULL;
	size_t want = SIZE_MAX;

	a->status = -1;
	a->retry_after_s = -1;
	a->error[0] = '\0';
	a->body[0] = '\0';
	while (c->ssl != NULL) {
		c->buf[c->have] = '\0';
		sep = strstr(c->buf, "\r\n\r\n");
		if (sep != NULL && want == SIZE_MAX) {
			const char *cl = strcasestr(c->buf, "\r\ncontent-length:");
			if (cl == NULL || cl > sep)
				return false;
			want = (size_t)(sep + 4 - c->buf) + strtoul(cl + 17, NULL, 10);
		}
		if (want != SIZE_MAX && c->have >= want)
			break;
		if (c->have >= sizeof c->buf - 1)
			return false;
		int n = SSL_read(c->ssl, c->buf + c->have, (int)(sizeof c->buf - 1 - c->have));
		if (n <= 0)
			return false;
		c->have += (size_t)n;
	}
	if (c->ssl == NULL || sscanf(c->buf, "HTTP/1.%*d %d", &a->status) != 1)
		return false;
	const char *ra = strcasestr(c->buf, "\r\nretry-after:");
	if (ra != NULL && ra < sep)
		a->retry_after_s = atoi(ra + 14);
	size_t body_len = want - (size_t)(sep + 4 - c->buf);
	snprintf(a->body, sizeof a->body, "%.*s", (int)body_len, sep + 4);
	json_t *j = json_loads(a->body, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));
	if (e != NULL)
		snprintf(a->error, sizeof a->error, "%s", e);
	json_decref(j);
	/* Keep what follows (nothing, unless the server sent more). */
	memmove(c->buf, c->buf + want, c->have - want);
	c->have -= want;
	return true;
}

/* One request and its answer on c, reconnecting once if the server closed c. */
static void fl_exchange(struct fl_conn *c, const char *request, struct fl_answer *a)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->ssl == NULL && !fl_open(c, it.port))
			break;
		if (fl_send(c, request) && fl_read(c, a))
			return;
		fl_close(c);
	}
	a->status = -1;
}

/* ---- the audit log ------------------------------------------------------------------ */

/* `pixelgatectl audit verify` over the log: exit status, output in out. */
static int fl_verify(char *out, size_t outlen)
{
	return it_run(out, outlen, "'%s/pixelgatectl' audit verify --dir '%s' --key-file '%s'",
		      PIXELGATE_BUILD_DIR, it.audit_dir, it.audit_key);
}

/* The value of series in GET /metrics (as the admin); fails the test if unreadable. */
static double fl_metric(const char *series)
{
	struct it_http r;

	it_admin("GET", "/metrics", FL_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /metrics: %d %s", r.status, r.body);
	return it_metric(r.body, series);
}

/* ---- the tests ----------------------------------------------------------------------- */

IT_TEST(flood, unauthenticated_flood_writes_a_bounded_audit_log, .timeout = 900)
{
	static const char *const users[] = { "fl-a", NULL };
	static const char *const admins[] = { FL_ADMIN, NULL };
	/* No rate limit: every attempt reaches the lockout, the worst case for the log. */
	static const struct it_opts opts = { .admins = admins,
					     .extra_conf = "login_rate_per_s = 0\n" };
	static char request[1024];
	struct fl_conn c = { .fd = -1 };
	struct fl_answer a;
	int n401 = 0, n429 = 0, reconnects = 0;
	char name[64], out[4096];

	it_start_opts("flood_unauthenticated", users, &opts);
	double t0 = it_now_s();
	IT_ASSERT(fl_open(&c, it.port), "TLS connection to the staff listener failed");
	for (int i = 0; i < FL_FLOOD; i++) {
		/* A new name each time: names must not multiply the records either. */
		snprintf(name, sizeof name, "flood-%d", i);
		fl_login_request(request, sizeof request, name, "not-the-password");
		bool was_open = c.ssl != NULL;
		fl_exchange(&c, request, &a);
		if (!was_open || c.ssl == NULL)
			reconnects++;
		if (a.status == 401 && strcmp(a.error, "invalid_credentials") == 0) {
			n401++;
		} else if (a.status == 429 && strcmp(a.error, "locked") == 0) {
			IT_ASSERT(a.retry_after_s >= 1 && a.retry_after_s <= 300,
				  "attempt %d: 429 locked with Retry-After %d (want 1..300)", i,
				  a.retry_after_s);
			n429++;
		} else {
			IT_ASSERT(false,
				  "attempt %d: %d \"%s\" %s (want 401 invalid_credentials or "
				  "429 locked)",
				  i, a.status, a.error, a.body);
		}
	}
	fl_close(&c);
	double flood_s = it_now_s() - t0;
	fprintf(stderr, "[%s] %d attempts in %.1f s: %d x 401, %d x 429 locked, %d reconnects\n",
		it.test_name, FL_FLOOD, flood_s, n401, n429, reconnects);
	/* login_max_failures (5) failures lock the address for login_lockout_s (300 s). */
	IT_ASSERT(n401 == 5, "%d x 401 invalid_credentials, want exactly login_max_failures 5",
		  n401);

	/* A valid user from the same address: the address is locked, the answer is 429 locked. */
	struct it_http r;
	it_login_http("fl-a", it_password("fl-a"), false, &r);
	IT_ASSERT(r.status == 429 && strcmp(r.error, "locked") == 0 && r.retry_after_s >= 1 &&
		      r.retry_after_s <= 300,
		  "valid login from the locked address: %d \"%s\" Retry-After %d (want 429 locked, "
		  "1..300)",
		  r.status, r.error, r.retry_after_s);
	n429++;
	/* The daemon is up and serves the admin side (healthz needs no password). */
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /healthz after the flood: %d %s", r.status, r.body);

	/* Stop: the counted refusals are written at shutdown. */
	int st = it_stop_daemon(IT_DAEMON_STOP_S);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %d", st);
	double elapsed_s = it_now_s() - t0;

	size_t bytes = 0;
	json_t *recs = it_audit_records(&bytes);
	size_t n = json_array_size(recs);
	long long fails = 0, aggregates = 0, counted = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_array_get(recs, i);
		const char *ev = it_rec_str(rec, "event");
		if (strcmp(ev, "login_fail") == 0) {
			IT_ASSERT(strcmp(it_rec_str(rec, "reason"), "invalid_credentials") == 0,
				  "login_fail with reason %s", it_rec_str(rec, "reason"));
			fails++;
		} else if (strcmp(ev, "login_refused_locked") == 0) {
			int64_t first, last;
			const char *client = it_rec_str(rec, "client");
			IT_ASSERT((strcmp(client, "127.0.0.1") == 0 ||
				   strcmp(client, "::ffff:127.0.0.1") == 0) &&
				      strcmp(it_rec_str(rec, "user"), "") == 0 &&
				      strcmp(it_rec_str(rec, "reason"), "locked_out") == 0,
				  "aggregate record: client \"%s\" user \"%s\" reason \"%s\" (want "
				  "127.0.0.1, \"\", locked_out)",
				  client, it_rec_str(rec, "user"), it_rec_str(rec, "reason"));
			IT_ASSERT(audit_parse_ts(it_rec_str(rec, "first"), &first) == 0 &&
				      audit_parse_ts(it_rec_str(rec, "last"), &last) == 0 &&
				      first <= last,
				  "aggregate record: first \"%s\" last \"%s\" (want RFC 3339 times, "
				  "first <= last)",
				  it_rec_str(rec, "first"), it_rec_str(rec, "last"));
			IT_ASSERT(it_rec_int(rec, "count") >= 1, "aggregate count %lld",
				  it_rec_int(rec, "count"));
			aggregates++;
			counted += it_rec_int(rec, "count");
		} else {
			IT_ASSERT(false, "unexpected record %s in the log", ev);
		}
	}
	fprintf(stderr,
		"[%s] audit log: %zu records, %zu bytes: %lld login_fail, %lld "
		"login_refused_locked counting %lld refusals (%.0f s)\n",
		it.test_name, n, bytes, fails, aggregates, counted, elapsed_s);
	json_decref(recs);
	IT_ASSERT(fails == n401, "%lld login_fail records, want one per 401 (%d)", fails, n401);
	IT_ASSERT(counted == n429, "the aggregate records count %lld refusals, %d were answered",
		  counted, n429);
	/* One per started minute of the run, plus the one written at shutdown. */
	long long bound = (long long)(elapsed_s / 60.0) + 2;
	IT_ASSERT(aggregates >= 1 && aggregates <= bound,
		  "%lld login_refused_locked records, want 1..%lld", aggregates, bound);
	IT_ASSERT(n <= 5 + (size_t)bound, "%zu records for %d attempts", n, FL_FLOOD + 1);
	int rc = fl_verify(out, sizeof out);
	IT_ASSERT(rc == 0 && strncmp(out, "OK", 2) == 0, "audit verify: exit %d: %s", rc, out);
	rc = it_run(out, sizeof out,
		    "'%s/pixelgatectl' audit query --dir '%s' --event "
		    "login_refused_locked --json",
		    PIXELGATE_BUILD_DIR, it.audit_dir);
	IT_ASSERT(rc == 0 && strstr(out, "login_refused_locked") != NULL,
		  "audit query --event login_refused_locked: exit %d: %.500s", rc, out);
}

IT_TEST(flood, full_password_queue_answers_busy_at_once, .timeout = 300)
{
	static const char *const users[] = { "fl-b", NULL };
	static const char *const admins[] = { FL_ADMIN, NULL };
	/* One thread, one waiting check: the third login arriving together is busy. */
	static const struct it_opts opts = {
		.admins = admins,
		.extra_conf = "login_rate_per_s = 0\n[server]\nauth_threads = 1\nauth_queue = 1\n"
	};
	enum { N = 8 };
	static struct fl_conn c[N];
	static char request[1024];
	struct fl_answer a;
	int ok = 0, busy = 0;

	it_start_opts("flood_busy", users, &opts);
	double busy_before = fl_metric("pixelgate_refusals_total{reason=\"busy\"}");
	IT_ASSERT(busy_before == 0, "busy refusals before the test: %g", busy_before);
	for (int i = 0; i < N; i++)
		IT_ASSERT(fl_open(&c[i], it.port), "TLS connection %d failed", i);
	/* All requests first, then the answers: they arrive at the gateway together. */
	fl_login_request(request, sizeof request, "fl-b", it_password("fl-b"));
	for (int i = 0; i < N; i++)
		IT_ASSERT(fl_send(&c[i], request), "sending login %d failed", i);
	for (int i = 0; i < N; i++) {
		IT_ASSERT(fl_read(&c[i], &a), "no answer to login %d", i);
		if (a.status == 200) {
			ok++;
		} else {
			IT_ASSERT(a.status == 503 && strcmp(a.error, "busy") == 0 &&
				      a.retry_after_s == 1 && strstr(a.body, "\"retry_after_s\":1"),
				  "login %d: %d \"%s\" Retry-After %d %s (want 200, or 503 busy with "
				  "Retry-After 1)",
				  i, a.status, a.error, a.retry_after_s, a.body);
			busy++;
		}
		fl_close(&c[i]);
	}
	fprintf(stderr, "[%s] %d logins at once: %d x 200, %d x 503 busy\n", it.test_name, N, ok,
		busy);
	IT_ASSERT(ok >= 1 && ok <= N - 1 && busy >= 1,
		  "%d x 200 and %d x 503 busy: want some of each with a queue of 1", ok, busy);
	double m = fl_metric("pixelgate_refusals_total{reason=\"busy\"}");
	IT_ASSERT(m == busy, "pixelgate_refusals_total{reason=\"busy\"} %g, want %d", m, busy);
	m = fl_metric("pixelgate_logins_total{result=\"ok\"}");
	IT_ASSERT(m == ok, "pixelgate_logins_total{result=\"ok\"} %g, want %d", m, ok);
	/* Once the queue drained, a login goes through again. */
	struct it_http r;
	it_login_http("fl-b", it_password("fl-b"), false, &r);
	IT_ASSERT(r.status == 200, "login after the burst: %d %s", r.status, r.body);
}

IT_TEST(flood, valid_logins_and_admin_requests_are_rate_limited, .timeout = 300)
{
	static const char *const users[] = { "fl-c", NULL };
	static const char *const admins[] = { FL_ADMIN, NULL };
	static const struct it_opts opts = {
		.admins = admins,
		.extra_conf = "login_rate_per_s = 1\nlogin_burst = 3\nadmin_rate_per_s = 1\n"
			      "admin_burst = 4\n"
	};
	static char request[1024];
	struct fl_conn c = { .fd = -1 };
	struct fl_answer a;
	int ok = 0, limited = 0;

	it_start_opts("flood_rate", users, &opts);
	fl_login_request(request, sizeof request, "fl-c", it_password("fl-c"));
	double t0 = it_now_s();
	/* Valid logins back to back until the first refusal, then two more. */
	for (int i = 0; i < 40 && limited < 3; i++) {
		fl_exchange(&c, request, &a);
		if (a.status == 200 && limited == 0) {
			ok++;
			continue;
		}
		IT_ASSERT(a.status == 429 && strcmp(a.error, "rate_limited") == 0 &&
			      a.retry_after_s == 1,
			  "valid login %d: %d \"%s\" Retry-After %d %s (want 429 rate_limited, "
			  "Retry-After 1)",
			  i, a.status, a.error, a.retry_after_s, a.body);
		limited++;
	}
	double spent_s = it_now_s() - t0;
	fl_close(&c);
	fprintf(stderr, "[%s] %d valid logins, then %d x 429 rate_limited (%.2f s)\n", it.test_name,
		ok, limited, spent_s);
	/* The burst (3), plus at most one login per second spent. */
	IT_ASSERT(limited == 3 && ok >= 3 && ok <= 3 + (int)spent_s + 1,
		  "%d valid logins before 429 rate_limited in %.2f s (want 3 + at most 1/s)", ok,
		  spent_s);

	/* Admin API: /healthz needs no password and is limited all the same. */
	struct it_http r;
	int admin_ok = 0, admin_limited = 0;
	for (int i = 0; i < 20 && admin_limited == 0; i++) {
		it_admin("GET", "/healthz", NULL, NULL, &r);
		if (r.status == 200) {
			admin_ok++;
			continue;
		}
		IT_ASSERT(r.status == 429 && strcmp(r.error, "rate_limited") == 0 &&
			      r.retry_after_s >= 1,
			  "admin request %d: %d \"%s\" Retry-After %d (want 429 rate_limited)", i,
			  r.status, r.error, r.retry_after_s);
		admin_limited++;
	}
	IT_ASSERT(admin_limited == 1 && admin_ok >= 4,
		  "%d admin requests before 429 rate_limited (want the burst of 4 at least)",
		  admin_ok);
	/* Wait for tokens: the metrics request itself must pass. */
	it_sleep_ms(2200);
	double m = fl_metric("pixelgate_refusals_total{reason=\"rate_limited\"}");
	IT_ASSERT(m == limited, "pixelgate_refusals_total{reason=\"rate_limited\"} %g, want %d", m,
		  limited);
	it_sleep_ms(1100);
	m = fl_metric("pixelgate_refusals_total{reason=\"admin_rate_limited\"}");
	IT_ASSERT(m == admin_limited,
		  "pixelgate_refusals_total{reason=\"admin_rate_limited\"} %g, want %d", m,
		  admin_limited);
	m = fl_metric("pixelgate_logins_total{result=\"ok\"}");
	IT_ASSERT(m == ok, "pixelgate_logins_total{result=\"ok\"} %g, want %d", m, ok);

	/* The refusals are in the log as one counted record, written at shutdown. */
	int st = it_stop_daemon(IT_DAEMON_STOP_S);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %d", st);
	size_t bytes = 0;
	json_t *recs = it_audit_records(&bytes);
	long long rate_records = 0, rate_counted = 0, oks = 0;
	long long admin_records = 0, admin_counted = 0;
	for (size_t i = 0; i < json_array_size(recs); i++) {
		json_t *rec = json_array_get(recs, i);
		if (strcmp(it_rec_str(rec, "event"), "login_refused_rate") == 0) {
			/* the admin API's are counted apart, and say so */
			bool admin = strcmp(it_rec_str(rec, "via"), "admin") == 0;
			IT_ASSERT(admin || json_object_get(rec, "via") == NULL,
				  "login_refused_rate via \"%s\" (want none, or \"admin\")",
				  it_rec_str(rec, "via"));
			*(admin ? &admin_records : &rate_records) += 1;
			*(admin ? &admin_counted : &rate_counted) += it_rec_int(rec, "count");
			IT_ASSERT(strcmp(it_rec_str(rec, "reason"), "rate_limited") == 0,
				  "login_refused_rate reason %s", it_rec_str(rec, "reason"));
		} else if (strcmp(it_rec_str(rec, "event"), "login_ok") == 0) {
			oks++;
		}
	}
	json_decref(recs);
	IT_ASSERT(rate_records == 1 && rate_counted == limited && oks == ok,
		  "%lld login_refused_rate records counting %lld (want 1 counting %d), %lld "
		  "login_ok (want %d)",
		  rate_records, rate_counted, limited, oks, ok);
	IT_ASSERT(admin_records == 1 && admin_counted == admin_limited,
		  "%lld login_refused_rate records via admin counting %lld (want 1 counting %d)",
		  admin_records, admin_counted, admin_limited);
}
