/*
 * test_churn.c: the gateway under the load pattern of real use (issue 8).
 *
 * Several users at once, each over and over: log in, connect, read large
 * updates (the churn page redraws a full-window canvas of noise every
 * 40 ms), then leave, either cleanly (the client closes) or abruptly (the
 * client process is killed while updates are in flight, so the kernel resets
 * the connection), and log in again at once, while the old connection is
 * still being torn down.
 *
 *   churn/...    the ASan build of the gateway: it must stay up, every login
 *                and connect must work, and its fd count and RSS must be flat
 *                between the end of the warm-up and the end of the run
 *   memcheck/... the same pattern, plus the HTTP and admin paths that hand
 *                memory to libwebsockets and OpenSSL (refusals, admin
 *                replies, an administrator ending a session), with the
 *                gateway under valgrind memcheck: 0 errors, or the test fails
 *                with valgrind's report. ASan cannot see a write that
 *                libcrypto makes into memory libwebsockets freed; valgrind
 *                can (that is how the gateway corrupted its heap on every
 *                login, issue 8).
 *
 * Each viewer life runs in a child process (fork): killing it is the most
 * abrupt close a client can make.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CHURN_W 1024
#define CHURN_H 700

/* Exit statuses of a viewer child. */
enum churn_exit {
	CHURN_OK = 0,
	CHURN_LOGIN_FAILED = 2,
	CHURN_CONNECT_FAILED = 3,
	CHURN_CLOSED_EARLY = 4,
};

/*
 * One viewer life in a child process: log in as user, connect, read updates
 * for life_ms, then close cleanly and exit 0 (clean), or keep reading until
 * the parent kills it (!clean). Returns the child's pid.
 */
static pid_t churn_viewer(const char *user, int life_ms, bool clean)
{
	const char *password = it_password(user);
	pid_t pid = fork();

	IT_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid != 0)
		return pid;
	/* the child: no Criterion, no harness asserts; the exit status says it all */
	struct pgc_login_result res;
	char err[256];
	int status = 0;

	memset(&res, 0, sizeof res);
	if (pgc_login(&it.srv, user, password, CHURN_W, CHURN_H, &res) != 0 ||
	    res.ticket[0] == '\0') {
		fprintf(stderr, "churn child %s: login: HTTP %d %s %s\n", user, res.http_status,
			res.error, res.message);
		_exit(CHURN_LOGIN_FAILED);
	}
	struct pgc_conn *c = pgc_connect(&it.srv, res.ticket, err, sizeof err, &status);
	if (c == NULL) {
		fprintf(stderr, "churn child %s: connect: %s (HTTP %d)\n", user, err, status);
		_exit(CHURN_CONNECT_FAILED);
	}
	double end = it_now_s() + (clean ? life_ms / 1000.0 : 600.0);
	int moves = 0;
	while (it_now_s() < end) {
		if (pgc_pump(c, 50) < 0) {
			/* a newer connection of the same user may take over: not ours here */
			fprintf(stderr, "churn child %s: closed early: %s\n", user,
				pgc_close_reason(c));
			_exit(CHURN_CLOSED_EARLY);
		}
		/* input as a person gives it, so the session is not idle */
		pgc_pointer(c, 400 + (moves % 50), 300 + (moves % 30), 0);
		moves++;
	}
	pgc_free(c);
	_exit(CHURN_OK);
}

/*
 * cycles rounds: every user's viewer lives 300..1500 ms at once; in a round
 * half of them are killed mid-stream, the other half close cleanly; the
 * next round starts as soon as the last one is gone. Fails the test if a
 * child could not log in or connect, or was closed by the gateway.
 */
static void churn_rounds(const char *const *users, int nusers, int cycles, int first_cycle)
{
	for (int cycle = first_cycle; cycle < first_cycle + cycles; cycle++) {
		pid_t pids[8];
		bool clean[8];
		int life_ms[8];
		double t0 = it_now_s();

		for (int u = 0; u < nusers; u++) {
			clean[u] = (cycle + u) % 2 == 0;
			life_ms[u] = 300 + (cycle * 397 + u * 211) % 1200;
			pids[u] = churn_viewer(users[u], life_ms[u], clean[u]);
		}
		for (int u = 0; u < nusers; u++) {
			int status = 0;

			if (!clean[u]) {
				/* connected and reading by then (login + handshake done) */
				double at = t0 + 2.0 + life_ms[u] / 1000.0;

				while (it_now_s() < at && waitpid(pids[u], &status, WNOHANG) == 0)
					it_sleep_ms(20);
				kill(pids[u], SIGKILL);
			}
			IT_ASSERT(waitpid(pids[u], &status, 0) == pids[u], "waitpid: %s",
				  strerror(errno));
			if (clean[u])
				IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == CHURN_OK,
					  "round %d, %s (clean close): child %s %d (2 login failed, "
					  "3 connect failed, 4 closed by the gateway)",
					  cycle, users[u], WIFEXITED(status) ? "exit" : "signal",
					  WIFEXITED(status) ? WEXITSTATUS(status)
							    : WTERMSIG(status));
			else
				IT_ASSERT(
				    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
				    "round %d, %s (killed mid-stream): child ended by itself "
				    "(%s %d: 2 login failed, 3 connect failed, 4 closed by the "
				    "gateway)",
				    cycle, users[u], WIFEXITED(status) ? "exit" : "signal",
				    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
	}
}

/* Every user's session still shows its page through a fresh connection. */
static void churn_check_pages(const char *const *users, int nusers)
{
	for (int u = 0; u < nusers; u++) {
		struct it_rect block;
		struct pgc_conn *c = it_open_page(users[u], CHURN_W, CHURN_H, &block);

		it_conn_free(c);
	}
}

IT_TEST(churn, reconnecting_users_leave_the_gateway_flat, .timeout = 900)
{
	static const char *const users[] = { "chiba", "gifu", "nara", NULL };
	const int nusers = 3;
	struct it_opts o = { .home_path = "/churn.html" };

	it_start_opts("churn_flat", users, &o);
	/* warm-up: each user's session started, then two rounds */
	churn_check_pages(users, nusers);
	churn_rounds(users, nusers, 2, 0);
	it_sleep_ms(2000);
	int fds0 = it_fd_count(it_net_pid());
	long rss0 = it_rss_kib(it_net_pid());
	IT_ASSERT(fds0 > 0 && rss0 > 0, "cannot read the gateway's fds or RSS");

	churn_rounds(users, nusers, 10, 2);
	it_sleep_ms(2000); /* closes settle: TLS shutdown, lws timeouts */
	churn_check_pages(users, nusers);
	it_sleep_ms(2000);
	int fds1 = it_fd_count(it_net_pid());
	long rss1 = it_rss_kib(it_net_pid());
	fprintf(stderr,
		"[churn] gateway after warm-up: %d fds, %ld KiB RSS; after 30 more viewer "
		"lives (half killed mid-stream): %d fds, %ld KiB RSS\n",
		fds0, rss0, fds1, rss1);
	IT_ASSERT(fds1 >= 0 && fds1 <= fds0 + 2,
		  "the gateway's descriptors grew from %d to %d over 30 connections", fds0, fds1);
	/* 30 leaked relay buffers would be ~40 MiB; ASan's quarantine is 16 MiB */
	IT_ASSERT(rss1 >= 0 && rss1 <= rss0 + 24 * 1024,
		  "the gateway's RSS grew from %ld to %ld KiB over 30 connections", rss0, rss1);
}

/* A raw HTTP request to the staff listener; returns the status. */
static int churn_raw(const char *request, char *error, size_t errlen)
{
	char body[2048];

	return it_https_raw(request, body, sizeof body, error, errlen);
}

IT_TEST(memcheck, gateway_has_no_invalid_reads_or_writes, .timeout = 1200)
{
	static const char *const users[] = { "kobe", "sakai", NULL };
	static const char *const admins[] = { "root", NULL };
	struct it_opts o = { .home_path = "/churn.html", .admins = admins, .memcheck = true };
	struct it_http r;
	char error[64];

	it_start_opts("memcheck", users, &o);
	/* logins, connects, clean and abrupt closes with big updates in flight */
	churn_check_pages(users, 2);
	churn_rounds(users, 2, 4, 0);

	/* refusals: wrong password, bad JSON, too big, wrong method, bad ticket */
	IT_ASSERT(it_login_http("kobe", "wrong password", false, &r) == 401, "got %d %s", r.status,
		  r.body);
	IT_ASSERT(churn_raw("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
			    "application/json\r\nContent-Length: 5\r\n\r\n{\"a\":",
			    error, sizeof error) == 400,
		  "bad JSON: %s", error);
	{
		static char big[6000];
		char req[7000];

		memset(big, 'a', sizeof big - 1);
		snprintf(req, sizeof req,
			 "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(big), big);
		IT_ASSERT(churn_raw(req, error, sizeof error) == 400, "big body: %s", error);
	}
	IT_ASSERT(churn_raw("GET /api/v1/login HTTP/1.1\r\nHost: x\r\n\r\n", error, sizeof error) ==
		      405,
		  "GET login: %s", error);
	{
		char body[512];

		IT_ASSERT(it_ws_upgrade("/rfb?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					body, sizeof body, error, sizeof error) == 401,
			  "bad ticket: %s", error);
	}

	/* the admin API: listing, metrics, health, bad credentials, ending a session */
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "root", NULL, &r) == 200, "%s", r.body);
	IT_ASSERT(it_admin("GET", "/metrics", "root", NULL, &r) == 200, "%s", r.body);
	IT_ASSERT(it_admin("GET", "/healthz", NULL, NULL, &r) == 200, "%s", r.body);
	IT_ASSERT(it_http(&it.admin_srv, "GET", "/api/v1/sessions", "root", "nope", NULL, &r) ==
		      401,
		  "%s", r.body);
	struct it_session s[4];
	int n = it_sessions("root", s, 4);
	IT_ASSERT(n == 2, "expected the 2 sessions, got %d", n);
	{
		char path[200];

		snprintf(path, sizeof path, "/api/v1/sessions/%s", s[0].id);
		IT_ASSERT(it_admin("DELETE", path, "root", NULL, &r) == 200, "%s", r.body);
	}
	/* the kept-directories endpoints (after the sessions: each admin request's
	   Argon2id check is slow under valgrind, and they wait only the grace time) */
	IT_ASSERT(it_admin("GET", "/api/v1/forensics", "root", NULL, &r) == 200, "%s", r.body);
	IT_ASSERT(it_admin("DELETE", "/api/v1/forensics/0123456789abcdef", "root", NULL, &r) == 404,
		  "%s", r.body);
	/* and a viewer of the ended user's new session, killed mid-stream once more */
	churn_rounds(users, 2, 1, 4);

	int status = it_stop_daemon(180);
	char out[8192];
	it_run(out, sizeof out,
	       "grep -E 'ERROR SUMMARY|Invalid|uninitialised|at 0x|by 0x' '%s' "
	       "| head -n 60",
	       it.memcheck_log);
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the gateway under valgrind ended with %s %d (99: memcheck found errors):\n%s",
		  WIFEXITED(status) ? "exit status" : "signal",
		  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
	/* two summaries: the privileged parent's and the network process's (a
	   cell's child of the parent runs under valgrind only until its exec) */
	int summaries = it_file_count(it.memcheck_log, "ERROR SUMMARY:");
	IT_ASSERT(summaries >= 2 &&
		      it_file_count(it.memcheck_log, "ERROR SUMMARY: 0 errors") == summaries,
		  "valgrind's log has %d summaries, not all \"ERROR SUMMARY: 0 errors\":\n%s",
		  summaries, out);
	IT_ASSERT(it_file_count(it.memcheck_log, "Invalid ") == 0 &&
		      it_file_count(it.memcheck_log, "uninitialised") == 0 &&
		      it_file_count(it.memcheck_log, "unaddressable") == 0,
		  "valgrind reports errors (also in a cell before its exec):\n%s", out);
	fprintf(stderr, "[memcheck] %s", out);
}
