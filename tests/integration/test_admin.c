/*
 * test_admin.c: the admin API and the agent-check (issue 4, integration
 * tests 4, 7 and 8).
 *
 * An administrator ends a session and its viewer is told so (4006, "ended by
 * administrator"); the admin API takes only an admin's credentials, is not
 * reachable on the staff listener, and its /metrics counts what the test
 * did; users are managed through it (add, lock, password, role, delete);
 * the HAProxy agent-check answers "up ready" with the free capacity, "up
 * drain" while draining (new users refused, existing ones reattach) and when
 * full (test_cluster.c shows what HAProxy makes of it).
 */
#include "harness.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ADMIN "a-admin"

/* The sessions of user in GET /api/v1/sessions: how many, the first one in *out. */
static int find_session(const char *user, struct it_session *out)
{
	struct it_session s[16];
	int n = it_sessions(ADMIN, s, 16), found = 0;

	for (int i = 0; i < n && i < 16; i++)
		if (strcmp(s[i].user, user) == 0 && found++ == 0)
			*out = s[i];
	return found;
}

/* GET /metrics as the admin into r (200 and the Prometheus content). */
static void get_metrics(struct it_http *r)
{
	it_admin("GET", "/metrics", ADMIN, NULL, r);
	IT_ASSERT(r->status == 200, "GET /metrics: %d %s", r->status, r->body);
}

/* Checks one series of /metrics text. */
static void expect_metric(const char *text, const char *series, double want)
{
	double got = it_metric(text, series);

	IT_ASSERT(got == want, "%s is %g, want %g; /metrics:\n%s", series, got, want, text);
}

IT_TEST(admin, ends_session)
{
	static const char *const users[] = { "a4-eve", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	struct it_session s, s2;
	struct pgc_conn *c, *c2;
	struct it_http r;
	struct it_rect r1;
	char path[256], ended[128];
	double end;
	int n;

	it_start_opts("admin_ends_session", users, &opts);
	c = it_open_page("a4-eve", 0, 0, &r1);

	/* the session as the API lists it */
	IT_ASSERT(find_session("a4-eve", &s) == 1,
		  "GET /api/v1/sessions does not list exactly one "
		  "session of a4-eve");
	fprintf(stderr,
		"[%s] session %s of %s from %s, started %s, state %s, %lld bytes in, "
		"%lld out\n",
		it.test_name, s.id, s.user, s.client, s.started, s.state, s.bytes_in, s.bytes_out);
	IT_ASSERT(s.id[0] && strcmp(s.state, "active") == 0,
		  "session %s listed with state \"%s\", want \"active\"", s.id, s.state);
	IT_ASSERT(strstr(s.client, "127.0.0.1") != NULL, "client \"%s\", want 127.0.0.1", s.client);
	IT_ASSERT(strlen(s.started) >= 20 && s.started[4] == '-' && s.started[10] == 'T',
		  "started \"%s\" is not RFC 3339", s.started);
	IT_ASSERT(s.bytes_out > 0, "bytes_out %lld after the page was shown", s.bytes_out);
	IT_ASSERT(s.last_input[0] == '\0', "last_input \"%s\" before any input", s.last_input);
	IT_ASSERT(pgc_pointer(c, 5, 5, 0) == 0, "pointer move: %s", pgc_close_reason(c));
	it_pump_for(c, 500);
	IT_ASSERT(find_session("a4-eve", &s) == 1 && strlen(s.last_input) >= 20 &&
		      s.last_input[10] == 'T',
		  "last_input \"%s\" after a pointer move, want an RFC 3339 time", s.last_input);

	/* an unknown id */
	it_admin("DELETE", "/api/v1/sessions/no-such-session", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 404 && strcmp(r.error, "not_found") == 0,
		  "DELETE of an unknown session: %d \"%s\" (%s), want 404 \"not_found\"", r.status,
		  r.error, r.body);
	IT_ASSERT(!pgc_closed(c), "DELETE of an unknown session closed the viewer: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));

	/* the admin ends it: the viewer is told why */
	snprintf(path, sizeof path, "/api/v1/sessions/%s", s.id);
	it_admin("DELETE", path, ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "DELETE %s: %d %s", path, r.status, r.body);
	IT_ASSERT(it_json_str(r.body, "ended", ended, sizeof ended) && strcmp(ended, s.id) == 0,
		  "DELETE %s answered %s, want {\"ended\":\"%s\"}", path, r.body, s.id);
	IT_ASSERT(it_wait_closed(c, IT_CLOSE_S), "the viewer is still connected %d s after DELETE",
		  IT_CLOSE_S);
	fprintf(stderr, "[%s] viewer closed: %d \"%s\"\n", it.test_name, pgc_close_code(c),
		pgc_close_reason(c));
	IT_ASSERT(pgc_close_code(c) == 4006, "viewer closed with %d \"%s\", want 4006",
		  pgc_close_code(c), pgc_close_reason(c));
	IT_ASSERT(strstr(pgc_close_reason(c), "ended by administrator") != NULL,
		  "close reason \"%s\" does not say \"ended by administrator\"",
		  pgc_close_reason(c));

	/* it is gone from the list, and not kept for a reconnect */
	end = it_now_s() + 30;
	while ((n = find_session("a4-eve", &s2)) != 0 && it_now_s() < end)
		it_sleep_ms(300);
	IT_ASSERT(n == 0, "the ended session is still listed 30 s later (state %s)", s2.state);
	get_metrics(&r);
	expect_metric(r.body, "pixelgate_sessions_ended_total{reason=\"admin\"}", 1);
	expect_metric(r.body, "pixelgate_sessions{state=\"active\"}", 0);
	it_admin("DELETE", path, ADMIN, NULL, &r);
	IT_ASSERT(r.status == 404, "second DELETE of %s: %d %s, want 404", path, r.status, r.body);
	c2 = it_open_page("a4-eve", 0, 0, &r1);
	IT_ASSERT(find_session("a4-eve", &s2) == 1 && strcmp(s2.id, s.id) != 0,
		  "after an administrator ended session %s, a new login got session %s", s.id,
		  s2.id);
	IT_ASSERT(!pgc_closed(c2), "the new session's viewer was closed: %d %s", pgc_close_code(c2),
		  pgc_close_reason(c2));
}

/* GET path on the staff listener, with the admin's credentials: 404 not_found. */
static void expect_staff_404(const char *method, const char *path, const char *json)
{
	struct it_http r;

	it_http(&it.srv, method, path, ADMIN, it_password(ADMIN), json, &r);
	IT_ASSERT(r.status == 404 && strcmp(r.error, "not_found") == 0,
		  "%s %s on the staff listener: %d \"%s\" (%s), want 404 \"not_found\"", method,
		  path, r.status, r.error, r.body);
}

IT_TEST(admin, auth_and_metrics)
{
	static const char *const users[] = { "a7-staff", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	/* no token, not base64, no colon ("abc"), another scheme, no user (":password") */
	static const char *const bad_auth[] = { "Basic",      "Basic !!!!",         "Basic YWJj",
						"Bearer abc", "Basic OnBhc3N3b3Jk", NULL };
	static const char *const staff_404[] = { "/api/v1/sessions", "/api/v1/limits",
						 "/api/v1/users",    "/metrics",
						 "/healthz",         NULL };
	char req[1024], head[2048], body[2048], err[64], status[32];
	struct it_http r;
	struct it_rect r1;
	int st;

	it_start_opts("admin_auth_and_metrics", users, &opts);

	/* what the test does: one login and session, one wrong password */
	it_open_page("a7-staff", 0, 0, &r1);
	it_login_http("a7-staff", "wrong-password", false, &r);
	IT_ASSERT(r.status == 401, "wrong password: %d %s", r.status, r.body);

	/* /healthz: no credentials needed */
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /healthz without credentials: %d %s", r.status, r.body);
	IT_ASSERT(it_json_str(r.body, "status", status, sizeof status) &&
		      strcmp(status, "ok") == 0 && it_json_bool(r.body, "draining") == 0 &&
		      it_json_int(r.body, "sessions") == 1,
		  "GET /healthz: %s, want status ok, draining false, 1 session", r.body);

	/* /metrics counts it */
	get_metrics(&r);
	fprintf(stderr, "[%s] /metrics:\n%s\n", it.test_name, r.body);
	IT_ASSERT(strstr(r.body, "pixelgate_sessions{state=\"active\"}") &&
		      strstr(r.body, "pixelgate_logins_total{result=\"ok\"}"),
		  "/metrics lacks the sessions or logins series:\n%s", r.body);
	IT_ASSERT(strstr(r.body, "# TYPE pixelgate_logins_total counter") &&
		      strstr(r.body, "# HELP pixelgate_logins_total "),
		  "/metrics lacks # HELP / # TYPE of pixelgate_logins_total:\n%s", r.body);
	expect_metric(r.body, "pixelgate_sessions{state=\"active\"}", 1);
	expect_metric(r.body, "pixelgate_sessions{state=\"detached\"}", 0);
	expect_metric(r.body, "pixelgate_logins_total{result=\"ok\"}", 1);
	expect_metric(r.body, "pixelgate_logins_total{result=\"failed\"}", 1);
	expect_metric(r.body, "pixelgate_refusals_total{reason=\"node_full\"}", 0);
	expect_metric(r.body, "pixelgate_draining", 0);
	expect_metric(r.body, "pixelgate_worker_crashes_total", 0);
	IT_ASSERT(it_metric(r.body, "pixelgate_viewer_sent_bytes_total") > 0,
		  "pixelgate_viewer_sent_bytes_total is %g after a page was shown",
		  it_metric(r.body, "pixelgate_viewer_sent_bytes_total"));

	/* a staff user is not an admin; no or wrong credentials are 401 */
	it_admin("GET", "/api/v1/sessions", "a7-staff", NULL, &r);
	IT_ASSERT(r.status == 403 && strcmp(r.error, "forbidden") == 0,
		  "staff user on the admin API: %d \"%s\" (%s), want 403 \"forbidden\"", r.status,
		  r.error, r.body);
	it_admin("PATCH", "/api/v1/limits", "a7-staff", "{\"max_sessions\": 1}", &r);
	IT_ASSERT(r.status == 403, "staff user's PATCH /api/v1/limits: %d %s, want 403", r.status,
		  r.body);
	it_admin("GET", "/metrics", "a7-staff", NULL, &r);
	IT_ASSERT(r.status == 403, "staff user's GET /metrics: %d %s, want 403", r.status, r.body);
	it_admin("GET", "/api/v1/sessions", NULL, NULL, &r);
	IT_ASSERT(r.status == 401 && strcmp(r.error, "unauthorized") == 0,
		  "no credentials: %d \"%s\" (%s), want 401 \"unauthorized\"", r.status, r.error,
		  r.body);
	it_admin("GET", "/metrics", NULL, NULL, &r);
	IT_ASSERT(r.status == 401, "GET /metrics without credentials: %d %s, want 401", r.status,
		  r.body);
	it_http(&it.admin_srv, "GET", "/api/v1/sessions", ADMIN, "wrong-password", NULL, &r);
	IT_ASSERT(r.status == 401 && strcmp(r.error, "unauthorized") == 0,
		  "admin with a wrong password: %d \"%s\" (%s), want 401", r.status, r.error,
		  r.body);
	snprintf(req, sizeof req,
		 "GET /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
		 it.admin_port);
	st = it_https_raw_port(it.admin_port, req, head, sizeof head, body, sizeof body, err,
			       sizeof err);
	IT_ASSERT(st == 401 && strcasestr(head, "\r\nWWW-Authenticate: Basic realm=") != NULL,
		  "no credentials (raw): %d without WWW-Authenticate: Basic:\n%s\n\n%s", st, head,
		  body);
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "admin's GET /api/v1/limits: %d %s", r.status, r.body);

	/* hostile requests on the admin listener */
	for (int i = 0; bad_auth[i]; i++) {
		snprintf(req, sizeof req,
			 "GET /api/v1/limits HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			 "Authorization: %s\r\nConnection: close\r\n\r\n",
			 it.admin_port, bad_auth[i]);
		st = it_https_raw_port(it.admin_port, req, head, sizeof head, body, sizeof body,
				       err, sizeof err);
		IT_ASSERT(st == 401 && strcmp(err, "unauthorized") == 0,
			  "Authorization: %s: %d \"%s\" (%s), want 401 \"unauthorized\"",
			  bad_auth[i], st, err, body);
	}
	{
		static char big[20000];

		memset(big, ' ', sizeof big - 1);
		big[0] = '{';
		big[sizeof big - 2] = '}';
		it_admin("PATCH", "/api/v1/limits", ADMIN, big, &r);
		IT_ASSERT(r.status == 400 && strcmp(r.error, "bad_request") == 0,
			  "PATCH with a 20 kB body: %d \"%s\", want 400 \"bad_request\"", r.status,
			  r.error);
	}
	it_admin("PATCH", "/api/v1/limits", ADMIN, "[1, 2]", &r);
	IT_ASSERT(r.status == 400, "PATCH with a JSON array: %d %s, want 400", r.status, r.body);
	it_admin("PATCH", "/api/v1/limits", ADMIN, "{\"max_sessions\": 1", &r);
	IT_ASSERT(r.status == 400, "PATCH with truncated JSON: %d %s, want 400", r.status, r.body);
	it_admin("DELETE", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 405, "DELETE /api/v1/limits: %d %s, want 405", r.status, r.body);
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(it_json_int(r.body, "max_sessions") == 0,
		  "hostile PATCHes changed max_sessions: %s", r.body);

	/* the admin listener is not a staff listener: no login, no /rfb */
	snprintf(body, sizeof body, "{\"user\": \"a7-staff\", \"password\": \"%s\"}",
		 it_password("a7-staff"));
	it_http(&it.admin_srv, "POST", "/api/v1/login", NULL, NULL, body, &r);
	IT_ASSERT(r.status == 404, "POST /api/v1/login on the admin listener: %d %s, want 404",
		  r.status, r.body);
	snprintf(req, sizeof req,
		 "GET /rfb?ticket=AAAA HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n",
		 it.admin_port);
	st = it_https_raw_port(it.admin_port, req, head, sizeof head, body, sizeof body, err,
			       sizeof err);
	IT_ASSERT(st == 404 && strstr(body, "\"not_found\""),
		  "WebSocket upgrade of /rfb on the admin listener: %d (want 404 not_found; -1: "
		  "no HTTP answer) %s\n%s%s",
		  st, err, head, body);
	fprintf(stderr, "[%s] /rfb upgrade on the admin listener: %d %s\n", it.test_name, st, body);

	/* the staff listener has no admin paths, with or without credentials */
	for (int i = 0; staff_404[i]; i++) {
		expect_staff_404("GET", staff_404[i], NULL);
		it_http(&it.srv, "GET", staff_404[i], NULL, NULL, NULL, &r);
		IT_ASSERT(r.status == 404,
			  "GET %s on the staff listener without credentials: %d %s", staff_404[i],
			  r.status, r.body);
	}
	expect_staff_404("PATCH", "/api/v1/limits", "{\"max_sessions\": 1}");
	expect_staff_404("DELETE", "/api/v1/sessions/x", NULL);
	expect_staff_404("POST", "/api/v1/drain", NULL);
	it_admin("GET", "/api/v1/limits", ADMIN, NULL, &r);
	IT_ASSERT(it_json_int(r.body, "max_sessions") == 0,
		  "a request on the staff listener changed max_sessions: %s", r.body);
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(it_json_bool(r.body, "draining") == 0,
		  "a request on the staff listener drained the node: %s", r.body);
}

/* Polls the agent-check until it answers want (up to deadline_s). */
static void expect_agent(const char *want, double deadline_s)
{
	double end = it_now_s() + deadline_s;
	char line[128];

	for (;;) {
		it_agent_check(line, sizeof line);
		if (strcmp(line, want) == 0)
			return;
		IT_ASSERT(it_now_s() < end, "agent-check answers \"%s\", want \"%s\"", line, want);
		it_sleep_ms(300);
	}
}

IT_TEST(admin, agent_check)
{
	static const char *const users[] = { "a8-a", "a8-b", "a8-c", "a8-d", "a8-e", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins,
					     .extra_conf = "max_sessions = 4\n",
					     .agent_check = true };
	struct pgc_conn *a, *a2;
	struct it_http r;
	struct it_rect r1;
	char line[128];

	it_start_opts("admin_agent_check", users, &opts);
	IT_ASSERT(it_agent_check(line, sizeof line), "agent-check sent no line (\"%s\")", line);
	IT_ASSERT(strcmp(line, "up ready 100%") == 0,
		  "agent-check with no sessions: \"%s\", want "
		  "\"up ready 100%%\"",
		  line);

	a = it_open_page("a8-a", 0, 0, &r1);
	expect_agent("up ready 75%", 10);

	/* draining: new users refused, an existing one reattaches */
	it_admin("POST", "/api/v1/drain", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200 && it_json_bool(r.body, "draining") == 1,
		  "POST /api/v1/drain: %d %s", r.status, r.body);
	expect_agent("up drain", 10);
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(it_json_bool(r.body, "draining") == 1, "/healthz while draining: %s", r.body);
	it_login_http("a8-b", it_password("a8-b"), false, &r);
	IT_ASSERT(r.status == 503 && strcmp(r.error, "draining") == 0,
		  "new user while draining: %d \"%s\" (%s), want 503 \"draining\"", r.status,
		  r.error, r.body);
	IT_ASSERT(it_json_int(r.body, "retry_after_s") > 0 &&
		      r.retry_after_s == it_json_int(r.body, "retry_after_s"),
		  "draining refusal: Retry-After %d, body %s", r.retry_after_s, r.body);
	a2 = it_login_connect("a8-a", 0, 0);
	IT_ASSERT(it_wait_closed(a, IT_CLOSE_S), "older connection still open after a reattach");
	IT_ASSERT(it_wait_block(a2, 30, &r1), "reattach while draining shows no page (%s)",
		  pgc_closed(a2) ? pgc_close_reason(a2) : "open");
	IT_ASSERT(!pgc_closed(a2), "reattached connection closed while draining: %d %s",
		  pgc_close_code(a2), pgc_close_reason(a2));

	/* undrain; fill the node: drained (only its own terminals come) */
	it_admin("POST", "/api/v1/undrain", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200 && it_json_bool(r.body, "draining") == 0,
		  "POST /api/v1/undrain: %d %s", r.status, r.body);
	expect_agent("up ready 75%", 10);
	it_login_connect("a8-b", 0, 0);
	expect_agent("up ready 50%", 30);
	it_login_connect("a8-c", 0, 0);
	expect_agent("up ready 25%", 30);
	it_login_connect("a8-d", 0, 0);
	expect_agent("up drain", 30);
	it_login_http("a8-e", it_password("a8-e"), false, &r);
	IT_ASSERT(r.status == 503 && strcmp(r.error, "node_full") == 0,
		  "fifth user with max_sessions 4: %d \"%s\" (%s), want 503 \"node_full\"",
		  r.status, r.error, r.body);

	get_metrics(&r);
	expect_metric(r.body, "pixelgate_refusals_total{reason=\"draining\"}", 1);
	expect_metric(r.body, "pixelgate_refusals_total{reason=\"node_full\"}", 1);
	expect_metric(r.body, "pixelgate_sessions_max", 4);
	expect_metric(r.body, "pixelgate_logins_total{result=\"ok\"}", 5);
}

/* The entry of name in GET /api/v1/users: 1 with role and locked filled, 0 if absent. */
static int find_user(const char *name, char *role, size_t rolelen, int *locked)
{
	struct it_http r;
	json_t *j, *arr, *e;
	size_t i;
	int found = 0;

	it_admin("GET", "/api/v1/users", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /api/v1/users: %d %s", r.status, r.body);
	j = json_loads(r.body, 0, NULL);
	arr = json_object_get(j, "users");
	if (!json_is_array(arr)) {
		json_decref(j);
		IT_ASSERT(0, "GET /api/v1/users: no \"users\" array in %s", r.body);
	}
	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *ro = json_string_value(json_object_get(e, "role"));

		if (n && strcmp(n, name) == 0) {
			found = 1;
			snprintf(role, rolelen, "%s", ro ? ro : "");
			*locked = json_is_boolean(json_object_get(e, "locked"))
			    ? json_is_true(json_object_get(e, "locked"))
			    : -1;
		}
	}
	json_decref(j);
	return found;
}

/* A staff login of user with password: its status. */
static int login_status(const char *user, const char *password)
{
	struct it_http r;

	return it_login_http(user, password, false, &r);
}

IT_TEST(admin, users)
{
	static const char *const users[] = { "a9-staff", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins };
	static const char new_pw[] = "a9-new-Pw-1234!", new_pw2[] = "a9-other-Pw-5678!";
	char role[32], users_file[400], body[256];
	struct it_http r;
	struct stat st;
	int locked;

	it_start_opts("admin_users", users, &opts);
	snprintf(users_file, sizeof users_file, "%s/users", it.dir);
	IT_ASSERT(find_user(ADMIN, role, sizeof role, &locked) && strcmp(role, "admin") == 0 &&
		      locked == 0,
		  "%s listed with role \"%s\", locked %d", ADMIN, role, locked);
	IT_ASSERT(find_user("a9-staff", role, sizeof role, &locked) && strcmp(role, "staff") == 0,
		  "a9-staff listed with role \"%s\"", role);

	/* add */
	snprintf(body, sizeof body,
		 "{\"name\": \"a9-new\", \"password\": \"%s\", \"admin\": false}", new_pw);
	it_admin("POST", "/api/v1/users", ADMIN, body, &r);
	IT_ASSERT(r.status == 201, "POST /api/v1/users: %d %s, want 201", r.status, r.body);
	IT_ASSERT(find_user("a9-new", role, sizeof role, &locked) && strcmp(role, "staff") == 0,
		  "the new user is not listed as staff (role \"%s\")", role);
	IT_ASSERT(it_file_count(users_file, "a9-new:") == 1,
		  "the users file has no line of a9-new");
	IT_ASSERT(stat(users_file, &st) == 0 && (st.st_mode & 077) == 0,
		  "users file mode %04o after the API wrote it", (unsigned)(st.st_mode & 07777));
	IT_ASSERT(it_file_count(users_file, new_pw) == 0, "the password is in the users file");
	IT_ASSERT(it_file_count(it.daemon_log, new_pw) == 0, "the password is in the daemon log");
	IT_ASSERT(login_status("a9-new", new_pw) == 200, "the new user cannot log in");
	it_admin("POST", "/api/v1/users", ADMIN, body, &r);
	IT_ASSERT(r.status == 409 && strcmp(r.error, "exists") == 0,
		  "adding a9-new again: %d \"%s\" (%s), want 409 \"exists\"", r.status, r.error,
		  r.body);
	it_admin("POST", "/api/v1/users", ADMIN,
		 "{\"name\": \"bad name!\", \"password\": \"a-long-password-1\", \"admin\": false}",
		 &r);
	IT_ASSERT(r.status == 400, "adding \"bad name!\": %d %s, want 400", r.status, r.body);

	/* lock: refused with 403 account_locked (a wrong password stays 401) */
	it_admin("POST", "/api/v1/users/a9-new/lock", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "lock a9-new: %d %s", r.status, r.body);
	IT_ASSERT(find_user("a9-new", role, sizeof role, &locked) && locked == 1,
		  "a9-new listed with locked %d after the lock", locked);
	it_login_http("a9-new", new_pw, false, &r);
	IT_ASSERT(r.status == 403 && strcmp(r.error, "account_locked") == 0,
		  "locked user's login: %d \"%s\" (%s), want 403 \"account_locked\"", r.status,
		  r.error, r.body);
	IT_ASSERT(login_status("a9-new", "wrong-password") == 401,
		  "locked user with a wrong password: not 401");
	it_admin("POST", "/api/v1/users/a9-new/unlock", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "unlock a9-new: %d %s", r.status, r.body);
	IT_ASSERT(login_status("a9-new", new_pw) == 200, "unlocked user cannot log in");

	/* password */
	snprintf(body, sizeof body, "{\"password\": \"%s\"}", new_pw2);
	it_admin("PUT", "/api/v1/users/a9-new/password", ADMIN, body, &r);
	IT_ASSERT(r.status == 200, "PUT password: %d %s", r.status, r.body);
	IT_ASSERT(login_status("a9-new", new_pw) == 401, "the old password still works");
	IT_ASSERT(login_status("a9-new", new_pw2) == 200, "the new password does not work");

	/* admin role */
	it_http(&it.admin_srv, "GET", "/api/v1/sessions", "a9-new", new_pw2, NULL, &r);
	IT_ASSERT(r.status == 403, "staff a9-new on the admin API: %d, want 403", r.status);
	it_admin("PUT", "/api/v1/users/a9-new/admin", ADMIN, "{\"admin\": true}", &r);
	IT_ASSERT(r.status == 200, "PUT admin true: %d %s", r.status, r.body);
	it_http(&it.admin_srv, "GET", "/api/v1/sessions", "a9-new", new_pw2, NULL, &r);
	IT_ASSERT(r.status == 200, "a9-new made admin on the admin API: %d %s", r.status, r.body);
	it_admin("PUT", "/api/v1/users/a9-new/admin", ADMIN, "{\"admin\": false}", &r);
	IT_ASSERT(r.status == 200, "PUT admin false: %d %s", r.status, r.body);
	it_http(&it.admin_srv, "GET", "/api/v1/sessions", "a9-new", new_pw2, NULL, &r);
	IT_ASSERT(r.status == 403, "a9-new after its admin role was taken: %d, want 403", r.status);

	/* delete */
	it_admin("DELETE", "/api/v1/users/" ADMIN, ADMIN, NULL, &r);
	IT_ASSERT(r.status == 409, "an admin deleting themself: %d %s, want 409", r.status, r.body);
	it_admin("DELETE", "/api/v1/users/a9-new", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "DELETE a9-new: %d %s", r.status, r.body);
	IT_ASSERT(!find_user("a9-new", role, sizeof role, &locked), "a9-new still listed");
	IT_ASSERT(login_status("a9-new", new_pw2) == 401, "a deleted user can still log in");
	it_admin("DELETE", "/api/v1/users/a9-new", ADMIN, NULL, &r);
	IT_ASSERT(r.status == 404, "DELETE of a deleted user: %d %s, want 404", r.status, r.body);
	IT_ASSERT(login_status("a9-staff", it_password("a9-staff")) == 200,
		  "the other staff user cannot log in after the changes");
}

IT_TEST(admin, pixelgatectl)
{
	static const char *const users[] = { "a10-ann", NULL };
	static const char *const admins[] = { ADMIN, NULL };
	static const struct it_opts opts = { .admins = admins, .agent_check = true };
	char pwfile[400], conf[400], ctl[1200], out[8192], line[64];
	struct it_session s;
	struct pgc_conn *c;
	struct it_rect r1;
	struct it_http r;
	int rc;

	it_start_opts("admin_pixelgatectl", users, &opts);
	it_ctl_config(ADMIN, conf, sizeof conf, pwfile, sizeof pwfile);
	snprintf(ctl, sizeof ctl, "%s/pixelgatectl --config %s", PIXELGATE_BUILD_DIR, conf);

	c = it_open_page("a10-ann", 0, 0, &r1);
	IT_ASSERT(find_session("a10-ann", &s) == 1, "no session of a10-ann listed");

	/* sessions: the table names the user and the id; --json is the API's JSON */
	rc = it_run(out, sizeof out, "%s sessions", ctl);
	fprintf(stderr, "[%s] pixelgatectl sessions: exit %d:\n%s\n", it.test_name, rc, out);
	IT_ASSERT(rc == 0 && strstr(out, "a10-ann") && strstr(out, s.id),
		  "pixelgatectl sessions: exit %d, want 0 and a row with a10-ann and %s:\n%s", rc,
		  s.id, out);
	rc = it_run(out, sizeof out, "%s --json sessions", ctl);
	IT_ASSERT(rc == 0 && out[0] == '{' && strstr(out, "\"sessions\"") && strstr(out, s.id),
		  "pixelgatectl --json sessions: exit %d:\n%s", rc, out);

	/* status: what the running server says (one active session, accepting) */
	rc = it_run(out, sizeof out, "%s status", ctl);
	fprintf(stderr, "[%s] pixelgatectl status: exit %d:\n%s\n", it.test_name, rc, out);
	IT_ASSERT(rc == 0 && strstr(out, "(ok)") && strstr(out, "accepting new sessions") &&
		      strstr(out, "sessions:  1 ") && strstr(out, "1 active, 0 detached"),
		  "pixelgatectl status: exit %d, want 0, the server ok, accepting and 1 active "
		  "session:\n%s",
		  rc, out);

	/* drain / undrain */
	rc = it_run(out, sizeof out, "%s drain", ctl);
	IT_ASSERT(rc == 0, "pixelgatectl drain: exit %d:\n%s", rc, out);
	rc = it_run(out, sizeof out, "%s status", ctl);
	IT_ASSERT(rc == 0 && strstr(out, "accepting new sessions") == NULL &&
		      strstr(out, "drain") != NULL,
		  "pixelgatectl status after drain: exit %d, want a draining node:\n%s", rc, out);
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(it_json_bool(r.body, "draining") == 1, "after pixelgatectl drain: %s", r.body);
	IT_ASSERT(it_agent_check(line, sizeof line) && strcmp(line, "up drain") == 0,
		  "agent-check after pixelgatectl drain: \"%s\"", line);
	rc = it_run(out, sizeof out, "%s undrain", ctl);
	IT_ASSERT(rc == 0, "pixelgatectl undrain: exit %d:\n%s", rc, out);
	it_admin("GET", "/healthz", NULL, NULL, &r);
	IT_ASSERT(it_json_bool(r.body, "draining") == 0, "after pixelgatectl undrain: %s", r.body);

	/* users */
	rc = it_run(out, sizeof out, "%s users", ctl);
	IT_ASSERT(rc == 0 && strstr(out, "a10-ann") && strstr(out, ADMIN),
		  "pixelgatectl users: exit %d:\n%s", rc, out);
	rc = it_run(out, sizeof out, "%s users lock a10-nobody", ctl);
	IT_ASSERT(rc == 1, "pixelgatectl users lock of an unknown user: exit %d, want 1:\n%s", rc,
		  out);

	/* sessions kill */
	rc = it_run(out, sizeof out, "%s sessions kill no-such-session", ctl);
	IT_ASSERT(rc == 1, "pixelgatectl sessions kill of an unknown id: exit %d, want 1:\n%s", rc,
		  out);
	IT_ASSERT(!pgc_closed(c), "killing an unknown id closed the viewer: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));
	rc = it_run(out, sizeof out, "%s sessions kill %s", ctl, s.id);
	IT_ASSERT(rc == 0, "pixelgatectl sessions kill %s: exit %d:\n%s", s.id, rc, out);
	IT_ASSERT(it_wait_closed(c, IT_CLOSE_S), "viewer still connected after sessions kill");
	IT_ASSERT(pgc_close_code(c) == 4006 &&
		      strstr(pgc_close_reason(c), "ended by administrator") != NULL,
		  "viewer closed with %d \"%s\" after sessions kill, want 4006", pgc_close_code(c),
		  pgc_close_reason(c));

	/* a password file others can read is refused before anything is sent */
	IT_ASSERT(chmod(pwfile, 0644) == 0, "chmod: %s", strerror(errno));
	rc = it_run(out, sizeof out, "%s limits", ctl);
	IT_ASSERT(rc != 0 && strstr(out, pwfile) != NULL,
		  "pixelgatectl with a world-readable password file: exit %d (want not 0, naming "
		  "the file):\n%s",
		  rc, out);
	IT_ASSERT(chmod(pwfile, 0600) == 0, "chmod: %s", strerror(errno));
	/* flags override the config file: a wrong server is unreachable (3) */
	rc = it_run(out, sizeof out, "%s --server https://127.0.0.1:%d limits", ctl, it.agent_port);
	IT_ASSERT(rc == 3, "pixelgatectl against the agent-check port: exit %d, want 3:\n%s", rc,
		  out);
	/* a usage error is 2, whatever the command */
	rc = it_run(out, sizeof out, "%s limits set 2>&1", ctl);
	IT_ASSERT(rc == 2, "pixelgatectl limits set without KEY=VALUE: exit %d, want 2:\n%s", rc,
		  out);
	rc = it_run(out, sizeof out, "%s local-user frobnicate x 2>&1", ctl);
	IT_ASSERT(rc == 2, "pixelgatectl local-user frobnicate: exit %d, want 2:\n%s", rc, out);
	rc = it_run(out, sizeof out, "%s audit verify --no-such-option 2>&1", ctl);
	IT_ASSERT(rc == 2, "pixelgatectl audit with a bad option: exit %d, want 2:\n%s", rc, out);
}

#define MT_TOKEN "pg-metrics-3f9c2a7e5b1d4c6a8e0f"

/* it_opts.before_daemon: the token file (the gateway's, 0600) and [admin] metrics_token_file. */
static void mt_world(void)
{
	char path[400], text[600];
	snprintf(path, sizeof path, "%s/metrics.token", it.dir);
	it_write_file(path, MT_TOKEN "\n", 0600);
	it_give(path);
	snprintf(text, sizeof text, "[admin]\nmetrics_token_file = %s\n", path);
	FILE *f = fopen(it.conf_file, "a");
	IT_ASSERT(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "%s: %s", it.conf_file,
		  strerror(errno));
}

/* GET path on the admin listener with an Authorization header value ("" = none). */
static int mt_get(const char *path, const char *auth, char *body, size_t bodylen)
{
	char req[512], head[2048], error[64];
	snprintf(req, sizeof req,
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sConnection: close\r\n\r\n", path,
		 auth[0] ? "Authorization: " : "", auth, auth[0] ? "\r\n" : "");
	return it_https_raw_port(it.admin_port, req, head, sizeof head, body, bodylen, error,
				 sizeof error);
}

IT_TEST(admin, metrics_with_the_bearer_token)
{
	static const char *const users[] = { "mt-user", NULL };
	static const char *const admins[] = { "mt-admin", NULL };
	struct it_opts o = { .admins = admins,
			     .extra_conf = "[limits]\nlogin_max_failures = 3\n",
			     .before_daemon = mt_world };
	static char body[65536];

	it_start_opts("admin_metrics_bearer", users, &o);
	struct it_http r;
	IT_ASSERT(it_login_http("mt-user", it_password("mt-user"), false, &r) == 200, "login: %d",
		  r.status);
	IT_ASSERT(mt_get("/metrics", "Bearer " MT_TOKEN, body, sizeof body) == 200, "metrics: %s",
		  body);
	double expiry = it_metric(body, "pixelgate_tls_certificate_expiry_timestamp_seconds");
	double now = (double)time(NULL);
	/* the test certificate is made for 3 days */
	IT_ASSERT(expiry > now + 2 * 86400 && expiry < now + 4 * 86400,
		  "certificate expiry %.0f, now %.0f", expiry, now);
	IT_ASSERT(it_metric(body, "pixelgate_audit_records_total") >= 1, "audit records: %g",
		  it_metric(body, "pixelgate_audit_records_total"));
	IT_ASSERT(it_metric(body, "pixelgate_audit_records_lost_total") == 0, "audit lost: %g",
		  it_metric(body, "pixelgate_audit_records_lost_total"));

	/* Wrong tokens (more than login_max_failures): 401 each, nobody is locked out. */
	for (int i = 0; i < 5; i++)
		IT_ASSERT(mt_get("/metrics", "Bearer pg-metrics-wrong-token-000000", body,
				 sizeof body) == 401,
			  "a wrong token: %s", body);
	IT_ASSERT(strstr(body, "not this node's metrics token") != NULL, "%s", body);
	IT_ASSERT(mt_get("/metrics", "", body, sizeof body) == 401, "no credentials: %s", body);
	IT_ASSERT(it_admin("GET", "/metrics", "mt-admin", NULL, &r) == 200,
		  "the admin after the wrong tokens: %d %s", r.status, r.body);

	/* The token opens /metrics only. */
	IT_ASSERT(mt_get("/api/v1/users", "Bearer " MT_TOKEN, body, sizeof body) == 401,
		  "the metrics token opened /api/v1/users: %s", body);
	IT_ASSERT(mt_get("/api/v1/sessions", "Bearer " MT_TOKEN, body, sizeof body) == 401,
		  "the metrics token opened /api/v1/sessions: %s", body);
	IT_ASSERT(it_file_count(it.daemon_log, "wrong bearer token") == 5, "log lines: %d",
		  it_file_count(it.daemon_log, "wrong bearer token"));
}
