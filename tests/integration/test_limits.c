/*
 * test_limits.c: the limits a node enforces (issue 4, integration tests 1, 2,
 * 3, 5 and 6).
 *
 * A full node refuses a new user with 503 and its reason and takes them once
 * a session ends; a user's second login attaches to their session, and an
 * additional one is refused past max_sessions_per_user; a viewer that sends no
 * input loses its session (4004, "idle") while one that does lives on; limits
 * changed through the admin API (and pixelgatectl) apply at once, are
 * validated as a whole and survive a restart; too many wrong passwords lock
 * a user out, also with the right password, until the lockout time passes.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ADMIN "l-admin"

/* Checks a refusal: status, error code, a message, and retry_after_s with the
   same Retry-After header (required if retry; else checked when present). */
static void expect_refusal(const char *what, const struct it_http *r, int status, const char *error,
			   bool retry)
{
	char msg[256];
	long long ra = it_json_int(r->body, "retry_after_s");

	IT_ASSERT(r->status == status && strcmp(r->error, error) == 0,
		  "%s: got %d \"%s\" (body %s), want %d \"%s\"", what, r->status, r->error, r->body,
		  status, error);
	IT_ASSERT(it_json_str(r->body, "message", msg, sizeof msg) && msg[0],
		  "%s: %d without a \"message\" (body %s)", what, status, r->body);
	if (!retry && ra == LLONG_MIN) {
		IT_ASSERT(r->retry_after_s == -1,
			  "%s: Retry-After %d without \"retry_after_s\" (%s)", what,
			  r->retry_after_s, r->body);
		return;
	}
	IT_ASSERT(ra > 0, "%s: no positive \"retry_after_s\" in %s", what, r->body);
	IT_ASSERT(r->retry_after_s == ra, "%s: Retry-After header %d, body says %lld (%s)", what,
		  r->retry_after_s, ra, r->body);
}

/* The id of user's session in GET /api/v1/sessions (waits up to 30 s for it). */
static void session_of(const char *user, char *id, size_t idlen)
{
	struct it_session s[16];
	double end = it_now_s() + 30;

	for (;;) {
		int n = it_sessions(ADMIN, s, 16);

		for (int i = 0; i < n && i < 16; i++)
			if (strcmp(s[i].user, user) == 0) {
				snprintf(id, idlen, "%s", s[i].id);
				return;
			}
		IT_ASSERT(it_now_s() < end, "no session of %s in GET /api/v1/sessions (%d listed)",
			  user, n);
		it_sleep_ms(300);
	}
}

/* How many sessions of user (NULL: of anyone) GET /api/v1/sessions lists,
   leaving out those already ending. */
static int sessions_of(const char *user)
{
	struct it_session s[16];
	int n = it_sessions(ADMIN, s, 16), mine = 0;

	for (int i = 0; i < n && i < 16; i++)
		mine += (!user || strcmp(s[i].user, user) == 0) &&
		    strcmp(s[i].state, "ending") != 0;
	return mine;
}

/* GET /api/v1/limits: the value of one limit. */
static long long limit_value(const char *name)
{
	struct it_http r;
	long long v;

	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /api/v1/limits: %d %s", r.status, r.body);
	v = it_json_int(r.body, name);
	IT_ASSERT(v != LLONG_MIN, "GET /api/v1/limits: no integer \"%s\" in %s", name, r.body);
	return v;
}

/* Logs user in until the login is no longer refused with 503 (up to deadline_s). */
static void login_when_room(const char *user, double deadline_s, struct it_http *r)
{
	double end = it_now_s() + deadline_s;

	for (;;) {
		it_login_http(user, it_password(user), false, r);
		if (r->status != 503 || it_now_s() >= end)
			return;
		it_sleep_ms(500);
	}
}

IT_TEST(limits, max_sessions)
{
	static const char *const users[] = { "l1-a", "l1-b", "l1-c", "l1-d", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins, .extra_conf = "max_sessions = 2\n" };
	struct pgc_conn *a, *b, *b2, *c, *d;
	struct it_rect r1;
	struct it_http r, rd;
	char id[128], ticket[128], err[512], path[256];
	int st, live;

	it_start_opts("limits_max_sessions", users, &opts);
	a = it_open_page("l1-a", 0, 0, &r1);
	b = it_open_page("l1-b", 0, 0, &r1);

	/* a third user: the node is full */
	it_login_http("l1-c", it_password("l1-c"), false, &r);
	expect_refusal("third user on a full node", &r, 503, "node_full", true);
	fprintf(stderr, "[%s] third user refused: %d %s (Retry-After %d)\n", it.test_name, r.status,
		r.body, r.retry_after_s);

	/* a user who holds a session still gets back to it on a full node */
	b2 = it_login_connect("l1-b", 0, 0);
	IT_ASSERT(it_wait_closed(b, IT_CLOSE_S), "b's older connection still open after %d s",
		  IT_CLOSE_S);
	IT_ASSERT(pgc_close_code(b) == 4000,
		  "b's older connection closed with %d \"%s\", want 4000", pgc_close_code(b),
		  pgc_close_reason(b));
	IT_ASSERT(it_wait_block(b2, 30, &r1), "b's reattached connection shows no page (%s)",
		  pgc_closed(b2) ? pgc_close_reason(b2) : "open");

	/* one session ends: the third user gets in */
	session_of("l1-a", id, sizeof id);
	snprintf(path, sizeof path, "/api/v1/sessions/%s", id);
	it_admin("DELETE", path, ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "DELETE %s: %d %s", path, r.status, r.body);
	IT_ASSERT(it_wait_closed(a, IT_CLOSE_S), "a's connection still open %d s after DELETE",
		  IT_CLOSE_S);
	login_when_room("l1-c", 60, &r);
	IT_ASSERT(r.status == 200, "third user after a session ended: %d %s", r.status, r.body);
	IT_ASSERT(it_json_str(r.body, "ticket", ticket, sizeof ticket), "no ticket in %s", r.body);

	/* room for one: a fourth user's login got a ticket too, but only one of
	   the two gets a session */
	it_login_http("l1-d", it_password("l1-d"), false, &rd);
	if (rd.status == 200) {
		char dticket[128];

		IT_ASSERT(it_json_str(rd.body, "ticket", dticket, sizeof dticket),
			  "no ticket in %s", rd.body);
		c = it_connect_ticket(ticket, err, sizeof err, &st);
		IT_ASSERT(c != NULL, "third user's connect failed: %s (HTTP %d)", err, st);
		d = it_connect_ticket(dticket, err, sizeof err, &st);
		if (d != NULL) {
			IT_ASSERT(it_wait_closed(d, IT_CLOSE_S),
				  "a third session was started on a node with max_sessions 2 "
				  "(fourth user's connection still open after %d s)",
				  IT_CLOSE_S);
			fprintf(stderr, "[%s] fourth user's connection closed: %d \"%s\"\n",
				it.test_name, pgc_close_code(d), pgc_close_reason(d));
			IT_ASSERT(pgc_close_code(d) == 4003,
				  "fourth user's connection closed with %d \"%s\", want 4003",
				  pgc_close_code(d), pgc_close_reason(d));
		} else {
			fprintf(stderr, "[%s] fourth user's connect refused: %s (HTTP %d)\n",
				it.test_name, err, st);
		}
	} else {
		expect_refusal("fourth user while the third holds a ticket", &rd, 503, "node_full",
			       true);
		c = it_connect_ticket(ticket, err, sizeof err, &st);
		IT_ASSERT(c != NULL, "third user's connect failed: %s (HTTP %d)", err, st);
	}
	IT_ASSERT(it_wait_block(c, IT_FIRST_PAGE_S, &r1), "third user's page not shown (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "open");
	live = sessions_of(NULL);
	IT_ASSERT(live == 2, "%d sessions (not ending) listed with max_sessions 2, want 2", live);
	IT_ASSERT(!pgc_closed(b2), "b's connection was closed: %d %s", pgc_close_code(b2),
		  pgc_close_reason(b2));
}

IT_TEST(limits, per_user_and_attach)
{
	static const char *const users[] = { "l2-a", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	struct pgc_conn *a1, *a2, *a3, *a4, *a5;
	struct it_rect r1;
	struct it_http r, r2;
	char id1[128], id2[128], ticket[128], ticket2[128], err[512];
	int st;

	it_start_opts("limits_per_user_and_attach", users, &opts);
	IT_ASSERT(limit_value("max_sessions_per_user") == 1,
		  "max_sessions_per_user default %lld, "
		  "want 1",
		  limit_value("max_sessions_per_user"));
	a1 = it_open_page("l2-a", 0, 0, &r1);
	session_of("l2-a", id1, sizeof id1);

	/* a second login of the same user attaches to the session */
	a2 = it_login_connect("l2-a", 0, 0);
	IT_ASSERT(it_wait_closed(a1, IT_CLOSE_S), "older connection still open after %d s",
		  IT_CLOSE_S);
	IT_ASSERT(pgc_close_code(a1) == 4000, "older connection closed with %d \"%s\", want 4000",
		  pgc_close_code(a1), pgc_close_reason(a1));
	IT_ASSERT(it_wait_block(a2, 30, &r1), "attached connection shows no page (%s)",
		  pgc_closed(a2) ? pgc_close_reason(a2) : "open");
	IT_ASSERT(sessions_of("l2-a") == 1, "%d sessions of l2-a listed after a reattach, want 1",
		  sessions_of("l2-a"));
	session_of("l2-a", id2, sizeof id2);
	IT_ASSERT(strcmp(id1, id2) == 0, "the reattach changed the session id: %s -> %s", id1, id2);

	/* an additional session is refused at max_sessions_per_user 1 */
	it_login_http("l2-a", it_password("l2-a"), true, &r);
	expect_refusal("\"new_session\": true at the per-user limit", &r, 429, "user_limit", false);
	fprintf(stderr, "[%s] additional session refused: %d %s\n", it.test_name, r.status, r.body);
	IT_ASSERT(!pgc_closed(a2), "the refused login closed the user's connection: %d %s",
		  pgc_close_code(a2), pgc_close_reason(a2));

	/* with max_sessions_per_user 2 it starts a second session; a third is refused */
	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"max_sessions_per_user\": 2}", &r);
	IT_ASSERT(r.status == 200, "PATCH max_sessions_per_user 2: %d %s", r.status, r.body);
	it_login_http("l2-a", it_password("l2-a"), true, &r);
	IT_ASSERT(r.status == 200, "\"new_session\": true under the limit: %d %s", r.status,
		  r.body);
	IT_ASSERT(it_json_str(r.body, "ticket", ticket, sizeof ticket), "no ticket in %s", r.body);
	a3 = it_connect_ticket(ticket, err, sizeof err, &st);
	IT_ASSERT(a3 != NULL, "connect of the additional session failed: %s (HTTP %d)", err, st);
	IT_ASSERT(it_wait_block(a3, IT_FIRST_PAGE_S, &r1), "additional session shows no page (%s)",
		  pgc_closed(a3) ? pgc_close_reason(a3) : "open");
	IT_ASSERT(!pgc_closed(a2), "the additional session closed the first one's viewer: %d %s",
		  pgc_close_code(a2), pgc_close_reason(a2));
	IT_ASSERT(sessions_of("l2-a") == 2, "%d sessions of l2-a listed, want 2",
		  sessions_of("l2-a"));
	it_login_http("l2-a", it_password("l2-a"), true, &r);
	expect_refusal("\"new_session\": true at max_sessions_per_user 2", &r, 429, "user_limit",
		       false);

	/* room for one more: two tickets for additional sessions, only one gets it,
	   and the other is told (and counted) as over the per-user limit */
	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"max_sessions_per_user\": 3}", &r);
	IT_ASSERT(r.status == 200, "PATCH max_sessions_per_user 3: %d %s", r.status, r.body);
	it_login_http("l2-a", it_password("l2-a"), true, &r);
	IT_ASSERT(r.status == 200 && it_json_str(r.body, "ticket", ticket, sizeof ticket),
		  "third session's login: %d %s", r.status, r.body);
	it_login_http("l2-a", it_password("l2-a"), true, &r2);
	IT_ASSERT(r2.status == 200 && it_json_str(r2.body, "ticket", ticket2, sizeof ticket2),
		  "fourth session's login (before the third connects): %d %s", r2.status, r2.body);
	a4 = it_connect_ticket(ticket, err, sizeof err, &st);
	IT_ASSERT(a4 != NULL, "connect of the third session failed: %s (HTTP %d)", err, st);
	a5 = it_connect_ticket(ticket2, err, sizeof err, &st);
	if (a5 != NULL) {
		IT_ASSERT(it_wait_closed(a5, IT_CLOSE_S),
			  "a fourth session of l2-a runs with max_sessions_per_user 3");
		snprintf(err, sizeof err, "%d %s", pgc_close_code(a5), pgc_close_reason(a5));
	}
	fprintf(stderr, "[%s] fourth session refused at connect: %s\n", it.test_name, err);
	IT_ASSERT(strstr(err, "4003") != NULL, "fourth session: \"%s\", want 4003", err);
	IT_ASSERT(strstr(err, "no session free on this server") == NULL,
		  "a session refused by the per-user limit is told the server is full: \"%s\"",
		  err);
	it_admin("GET", "/metrics", ADMIN, NULL, &r);
	IT_ASSERT(it_metric(r.body, "pixelgate_refusals_total{reason=\"node_full\"}") == 0 &&
		      it_metric(r.body, "pixelgate_refusals_total{reason=\"user_limit\"}") == 3,
		  "refusals: node_full %g, user_limit %g; want 0 and 3 (three refused by the "
		  "per-user limit, none by a full node)",
		  it_metric(r.body, "pixelgate_refusals_total{reason=\"node_full\"}"),
		  it_metric(r.body, "pixelgate_refusals_total{reason=\"user_limit\"}"));
}

IT_TEST(limits, idle_timeout)
{
	static const char *const users[] = { "l3-idle", "l3-busy", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins,
					     .extra_conf = "idle_timeout_s = 5\n" };
	struct pgc_conn *idle, *busy;
	struct it_http r;
	struct it_rect r1;
	double t_idle, t_busy, closed_at = 0, next_move = 0, end;
	int moves = 0;

	it_start_opts("limits_idle_timeout", users, &opts);
	t_idle = it_now_s();
	idle = it_login_connect("l3-idle", 0, 0);
	busy = it_login_connect("l3-busy", 0, 0);
	t_busy = it_now_s();

	/* the busy viewer moves the pointer every second; the idle one sends nothing */
	end = it_now_s() + 120;
	while (it_now_s() < end) {
		if (it_now_s() >= next_move) {
			IT_ASSERT(pgc_pointer(busy, 10 + moves % 50, 10 + moves % 30, 0) == 0,
				  "busy viewer: pointer move %d failed after %.1f s: %d %s", moves,
				  it_now_s() - t_busy, pgc_close_code(busy),
				  pgc_close_reason(busy));
			moves++;
			next_move = it_now_s() + 1.0;
		}
		if (!pgc_closed(idle))
			pgc_pump(idle, 100);
		else if (closed_at == 0)
			closed_at = it_now_s();
		pgc_pump(busy, 100);
		IT_ASSERT(!pgc_closed(busy),
			  "the viewer that moves the pointer every second lost its session after "
			  "%.1f s: %d \"%s\"",
			  it_now_s() - t_busy, pgc_close_code(busy), pgc_close_reason(busy));
		if (closed_at && it_now_s() - t_busy >= 15)
			break;
	}
	IT_ASSERT(closed_at, "the idle viewer is still connected after %.0f s (idle_timeout_s 5)",
		  it_now_s() - t_idle);
	fprintf(stderr, "[%s] idle viewer closed after %.1f s: %d \"%s\"\n", it.test_name,
		closed_at - t_idle, pgc_close_code(idle), pgc_close_reason(idle));
	IT_ASSERT(pgc_close_code(idle) == 4004, "idle viewer closed with %d \"%s\", want 4004",
		  pgc_close_code(idle), pgc_close_reason(idle));
	IT_ASSERT(strstr(pgc_close_reason(idle), "idle") != NULL,
		  "idle viewer's close reason \"%s\" does not say \"idle\"",
		  pgc_close_reason(idle));
	IT_ASSERT(closed_at - t_idle >= 4.5,
		  "idle viewer closed %.1f s after its login, before "
		  "idle_timeout_s 5",
		  closed_at - t_idle);

	/* the busy session still works, and the idle one is gone (not detached) */
	IT_ASSERT(it_wait_block(busy, IT_FIRST_PAGE_S, &r1), "busy viewer shows no page (%s)",
		  pgc_closed(busy) ? pgc_close_reason(busy) : "open");
	IT_ASSERT(sessions_of("l3-idle") == 0,
		  "the idle session is listed, not ending, after "
		  "its viewer was told it ended");
	end = it_now_s() + 30;
	for (;;) {
		it_admin("GET", "/metrics", ADMIN, NULL, &r);
		IT_ASSERT(r.status == 200, "GET /metrics: %d %s", r.status, r.body);
		if (it_metric(r.body, "pixelgate_sessions_ended_total{reason=\"idle\"}") == 1)
			break;
		IT_ASSERT(it_now_s() < end,
			  "pixelgate_sessions_ended_total{reason=\"idle\"} is %g 30 s after "
			  "the idle session ended, want 1",
			  it_metric(r.body, "pixelgate_sessions_ended_total{reason=\"idle\"}"));
		it_sleep_ms(500);
	}
	IT_ASSERT(it_metric(r.body, "pixelgate_sessions{state=\"active\"}") == 1,
		  "pixelgate_sessions{state=\"active\"} is %g with one busy session, want 1",
		  it_metric(r.body, "pixelgate_sessions{state=\"active\"}"));
}

/* PATCH /api/v1/limits with body; expects 400 invalid_limit naming field (in
   the message too if named). */
static void expect_bad_patch(const char *body, const char *field, bool named)
{
	struct it_http r;
	char got[64] = "", msg[256] = "";

	it_admin("PATCH", "/api/v1/limits", ADMIN, body, &r);
	it_json_str(r.body, "field", got, sizeof got);
	it_json_str(r.body, "message", msg, sizeof msg);
	IT_ASSERT(r.status == 400 && strcmp(r.error, "invalid_limit") == 0 &&
		      strcmp(got, field) == 0,
		  "PATCH %s: got %d \"%s\" field \"%s\" (%s), want 400 \"invalid_limit\" field "
		  "\"%s\"",
		  body, r.status, r.error, got, r.body, field);
	IT_ASSERT(!named || strstr(msg, field) != NULL, "PATCH %s: message \"%s\" does not name %s",
		  body, msg, field);
}

IT_TEST(limits, set_at_runtime_persists)
{
	static const char *const users[] = { "l5-a", "l5-b", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	char pwfile[400], out[4096], ctl[1400];
	struct it_http r;
	struct it_rect r1;
	int rc;

	it_start_opts("limits_set_at_runtime_persists", users, &opts);
	IT_ASSERT(limit_value("max_sessions") == 0, "max_sessions default %lld, want 0",
		  limit_value("max_sessions"));

	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"max_sessions\": 1}", &r);
	IT_ASSERT(r.status == 200, "PATCH max_sessions 1: %d %s", r.status, r.body);
	IT_ASSERT(it_json_int(r.body, "max_sessions") == 1 &&
		      it_json_int(r.body, "max_sessions_per_user") == 1,
		  "PATCH answer is not all limits after the change: %s", r.body);
	IT_ASSERT(it_file_count(it.daemon_log, "changed limits") == 1,
		  "the daemon log has %d \"changed limits\" lines after one change, want 1",
		  it_file_count(it.daemon_log, "changed limits"));

	/* applies to the next login at once */
	it_open_page("l5-a", 0, 0, &r1);
	it_login_http("l5-b", it_password("l5-b"), false, &r);
	expect_refusal("second user with max_sessions 1", &r, 503, "node_full", true);

	/* invalid values: refused with the field, nothing applied */
	expect_bad_patch("{\"max_sessions\": -1}", "max_sessions", true);
	IT_ASSERT(limit_value("max_sessions") == 1, "max_sessions %lld after a refused PATCH",
		  limit_value("max_sessions"));
	expect_bad_patch("{\"max_sessions\": 3, \"idle_timeout_s\": \"x\"}", "idle_timeout_s",
			 true);
	IT_ASSERT(limit_value("max_sessions") == 1,
		  "max_sessions %lld after a PATCH with one bad field (partially applied)",
		  limit_value("max_sessions"));
	expect_bad_patch("{\"max_sessions\": 3, \"no_such_limit\": 1}", "no_such_limit", false);
	expect_bad_patch("{\"max_sessions\": 1.5}", "max_sessions", true);
	expect_bad_patch("{\"max_sessions_per_user\": 0}", "max_sessions_per_user", true);
	IT_ASSERT(limit_value("max_sessions") == 1 && limit_value("max_sessions_per_user") == 1,
		  "limits changed by refused PATCHes: max_sessions %lld, "
		  "max_sessions_per_user %lld",
		  limit_value("max_sessions"), limit_value("max_sessions_per_user"));
	IT_ASSERT(it_file_count(it.daemon_log, "changed limits") == 1,
		  "refused PATCHes were logged as changes (%d \"changed limits\" lines)",
		  it_file_count(it.daemon_log, "changed limits"));

	/* a restart keeps the change */
	it_restart_daemon();
	IT_ASSERT(limit_value("max_sessions") == 1, "max_sessions %lld after a restart, want 1",
		  limit_value("max_sessions"));
	it_open_page("l5-a", 0, 0, &r1);
	it_login_http("l5-b", it_password("l5-b"), false, &r);
	expect_refusal("second user with max_sessions 1 after a restart", &r, 503, "node_full",
		       true);

	/* pixelgatectl limits set */
	snprintf(pwfile, sizeof pwfile, "%s/admin.pw", it.dir);
	it_write_file(pwfile, it_password(ADMIN), 0600);
	snprintf(ctl, sizeof ctl,
		 "%s/pixelgatectl --server https://127.0.0.1:%d --ca %s --user %s "
		 "--password-file %s",
		 PIXELGATE_BUILD_DIR, it.admin_port, it.ca_file, ADMIN, pwfile);
	rc = it_run(out, sizeof out, "%s limits set max_sessions=2", ctl);
	fprintf(stderr, "[%s] pixelgatectl limits set max_sessions=2: exit %d: %s\n", it.test_name,
		rc, out);
	IT_ASSERT(rc == 0, "pixelgatectl limits set max_sessions=2 exited %d: %s", rc, out);
	IT_ASSERT(limit_value("max_sessions") == 2, "max_sessions %lld after pixelgatectl set 2",
		  limit_value("max_sessions"));
	login_when_room("l5-b", 5, &r);
	IT_ASSERT(r.status == 200, "second user with max_sessions 2: %d %s", r.status, r.body);

	rc = it_run(out, sizeof out, "%s limits set max_sessions=-5", ctl);
	fprintf(stderr, "[%s] pixelgatectl limits set max_sessions=-5: exit %d: %s\n", it.test_name,
		rc, out);
	IT_ASSERT(rc == 1, "pixelgatectl limits set max_sessions=-5 exited %d, want 1: %s", rc,
		  out);
	IT_ASSERT(strstr(out, "max_sessions") != NULL,
		  "pixelgatectl's refusal does not name max_sessions: %s", out);
	IT_ASSERT(limit_value("max_sessions") == 2, "max_sessions %lld after a refused set",
		  limit_value("max_sessions"));

	rc = it_run(out, sizeof out, "%s --json limits", ctl);
	IT_ASSERT(rc == 0 && it_json_int(out, "max_sessions") == 2,
		  "pixelgatectl --json limits: exit %d: %s", rc, out);
	/* a wrong password is refused (exit 1); an unreachable server is exit 2 */
	it_write_file(pwfile, "not-the-password", 0600);
	rc = it_run(out, sizeof out, "%s limits", ctl);
	IT_ASSERT(rc == 1, "pixelgatectl with a wrong password exited %d, want 1: %s", rc, out);
	rc = it_run(out, sizeof out,
		    "%s/pixelgatectl --server https://127.0.0.1:%d --ca %s --user %s "
		    "--password-file %s limits",
		    PIXELGATE_BUILD_DIR, it.page_port, it.ca_file, ADMIN, pwfile);
	IT_ASSERT(rc == 3, "pixelgatectl against a port without TLS exited %d, want 3: %s", rc,
		  out);

	/* pixelgate -n checks the saved overrides too: a bad one is named */
	rc = it_run(out, sizeof out, "%s/pixelgate -n -c %s", PIXELGATE_BUILD_DIR, it.conf_file);
	IT_ASSERT(rc == 0 && strstr(out, "configuration OK"), "pixelgate -n: exit %d: %s", rc, out);
	snprintf(pwfile, sizeof pwfile, "%s/limits.json", it.state_dir);
	it_write_file(pwfile, "{\"max_sessions\": -3}", 0600);
	rc = it_run(out, sizeof out, "%s/pixelgate -n -c %s", PIXELGATE_BUILD_DIR, it.conf_file);
	fprintf(stderr, "[%s] pixelgate -n with a bad limits.json: exit %d: %s\n", it.test_name, rc,
		out);
	IT_ASSERT(rc != 0 && strstr(out, "limits.json") && strstr(out, "max_sessions"),
		  "pixelgate -n with max_sessions -3 in limits.json: exit %d (want not 0, naming "
		  "the file and the limit): %s",
		  rc, out);
}

IT_TEST(limits, lockout)
{
	static const char *const users[] = { "l6-a", "l6-b", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = {
		.admins = admins, .extra_conf = "login_max_failures = 3\nlogin_lockout_s = 5\n"
	};
	struct it_http r;
	double t_locked;

	it_start_opts("limits_lockout", users, &opts);
	for (int i = 1; i <= 3; i++) {
		it_login_http("l6-a", "wrong-password", false, &r);
		IT_ASSERT(r.status == 401 && strcmp(r.error, "invalid_credentials") == 0,
			  "wrong password %d: got %d \"%s\" (%s), want 401", i, r.status, r.error,
			  r.body);
	}
	t_locked = it_now_s();

	/* locked: the right password is refused too */
	it_login_http("l6-a", it_password("l6-a"), false, &r);
	expect_refusal("right password during the lockout", &r, 429, "locked", true);
	fprintf(stderr, "[%s] locked out: %d %s (Retry-After %d)\n", it.test_name, r.status, r.body,
		r.retry_after_s);
	IT_ASSERT(r.retry_after_s <= 5, "Retry-After %d, more than login_lockout_s 5",
		  r.retry_after_s);
	it_login_http("l6-a", "wrong-password", false, &r);
	expect_refusal("wrong password during the lockout", &r, 429, "locked", true);

	/* it lifts after login_lockout_s */
	if (t_locked + 6 > it_now_s())
		it_sleep_ms((int)((t_locked + 6 - it_now_s()) * 1000));
	it_login_http("l6-a", it_password("l6-a"), false, &r);
	IT_ASSERT(r.status == 200, "right password 6 s after the lockout: %d %s", r.status, r.body);

	/* the address counts too: failures spread over users lock the address */
	it_login_http("l6-nobody1", "x", false, &r);
	IT_ASSERT(r.status == 401, "unknown user: %d %s", r.status, r.body);
	it_login_http("l6-nobody2", "x", false, &r);
	IT_ASSERT(r.status == 401, "unknown user: %d %s", r.status, r.body);
	it_login_http("l6-b", "wrong-password", false, &r);
	IT_ASSERT(r.status == 401, "wrong password of l6-b: %d %s", r.status, r.body);
	it_login_http("l6-a", it_password("l6-a"), false, &r);
	expect_refusal("right password of another user from a locked-out address", &r, 429,
		       "locked", true);
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	expect_refusal("admin API from a locked-out address", &r, 429, "locked", true);
	it_sleep_ms(6000);
	it_login_http("l6-b", it_password("l6-b"), false, &r);
	IT_ASSERT(r.status == 200, "right password after the address lockout: %d %s", r.status,
		  r.body);

	/* failed admin API logins count towards the same lockout */
	for (int i = 1; i <= 3; i++) {
		it_http(&it.admin_srv, "GET", "/api/v1/limits", ADMIN, "wrong-password", NULL, &r);
		IT_ASSERT(r.status == 401, "admin API, wrong password %d: %d %s", i, r.status,
			  r.body);
	}
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	expect_refusal("admin API, right password during the lockout", &r, 429, "locked", true);
	it_login_http(ADMIN, it_password(ADMIN), false, &r);
	expect_refusal("staff login of the admin during the admin API lockout", &r, 429, "locked",
		       true);
	it_login_http("l6-b", it_password("l6-b"), false, &r);
	expect_refusal("staff login from the address the admin API locked", &r, 429, "locked",
		       true);
	it_sleep_ms(6000);
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "admin API after the lockout: %d %s", r.status, r.body);
}

IT_TEST(limits, session_time_limits)
{
	static const char *const users[] = { "l7-a", "l7-b", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	struct pgc_conn *a, *b;
	struct it_http r;
	struct it_rect r1;
	double t_patch, t_b, next_move = 0;
	int moves = 0;

	it_start_opts("limits_session_time_limits", users, &opts);

	/* a shorter idle_timeout_s applies to a running session */
	a = it_open_page("l7-a", 0, 0, &r1);
	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"idle_timeout_s\": 3}", &r);
	IT_ASSERT(r.status == 200, "PATCH idle_timeout_s 3: %d %s", r.status, r.body);
	t_patch = it_now_s();
	IT_ASSERT(it_wait_closed(a, 30),
		  "a running session without input is still connected 30 s after idle_timeout_s "
		  "was set to 3");
	fprintf(stderr, "[%s] running idle session closed %.1f s after the PATCH: %d \"%s\"\n",
		it.test_name, it_now_s() - t_patch, pgc_close_code(a), pgc_close_reason(a));
	IT_ASSERT(pgc_close_code(a) == 4004 && strstr(pgc_close_reason(a), "idle"),
		  "closed with %d \"%s\", want 4004 \"...idle...\"", pgc_close_code(a),
		  pgc_close_reason(a));

	/* max_session_s: input does not extend it */
	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"idle_timeout_s\": 0, \"max_session_s\": 6}",
		 &r);
	IT_ASSERT(r.status == 200, "PATCH max_session_s 6: %d %s", r.status, r.body);
	t_b = it_now_s();
	b = it_login_connect("l7-b", 0, 0);
	while (!pgc_closed(b) && it_now_s() < t_b + 60) {
		if (it_now_s() >= next_move) {
			pgc_pointer(b, 20 + moves % 40, 20, 0);
			moves++;
			next_move = it_now_s() + 1.0;
		}
		pgc_pump(b, 100);
	}
	IT_ASSERT(pgc_closed(b), "a session is still connected 60 s into max_session_s 6");
	fprintf(stderr, "[%s] busy session closed after %.1f s: %d \"%s\"\n", it.test_name,
		it_now_s() - t_b, pgc_close_code(b), pgc_close_reason(b));
	IT_ASSERT(pgc_close_code(b) == 4005 && strstr(pgc_close_reason(b), "maximum session time"),
		  "closed with %d \"%s\", want 4005 \"...maximum session time...\"",
		  pgc_close_code(b), pgc_close_reason(b));
	IT_ASSERT(it_now_s() - t_b >= 5.5, "closed %.1f s after its login, before max_session_s 6",
		  it_now_s() - t_b);
}
