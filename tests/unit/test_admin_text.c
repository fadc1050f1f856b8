/*
 * test_admin_text.c: the pure parts of the admin API. Paths name exactly
 * the documented endpoints (anything else is a 404, never a user or session
 * the path did not name); Basic credentials are split as RFC 7617 says and
 * refused when malformed; request bodies accept exactly their fields; times
 * are RFC 3339 UTC; /metrics is the Prometheus text format; the agent-check
 * answer follows capacity and drain.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_text.h"

/* One path and what it must name. */
struct route_case {
	const char *path;
	enum admin_route route;
	const char *arg;
};

static const struct route_case routes[] = {
	{ "/healthz", ADMIN_ROUTE_HEALTHZ, "" },
	{ "/metrics", ADMIN_ROUTE_METRICS, "" },
	{ "/api/v1/sessions", ADMIN_ROUTE_SESSIONS, "" },
	{ "/api/v1/sessions/0123456789abcdef", ADMIN_ROUTE_SESSION, "0123456789abcdef" },
	{ "/api/v1/limits", ADMIN_ROUTE_LIMITS, "" },
	{ "/api/v1/users", ADMIN_ROUTE_USERS, "" },
	{ "/api/v1/users/tanaka", ADMIN_ROUTE_USER, "tanaka" },
	{ "/api/v1/users/t.tanaka@city.example", ADMIN_ROUTE_USER, "t.tanaka@city.example" },
	{ "/api/v1/users/tanaka/password", ADMIN_ROUTE_USER_PASSWORD, "tanaka" },
	{ "/api/v1/users/tanaka/lock", ADMIN_ROUTE_USER_LOCK, "tanaka" },
	{ "/api/v1/users/tanaka/unlock", ADMIN_ROUTE_USER_UNLOCK, "tanaka" },
	{ "/api/v1/users/tanaka/admin", ADMIN_ROUTE_USER_ADMIN, "tanaka" },
	{ "/api/v1/users/tanaka/totp", ADMIN_ROUTE_USER_TOTP, "tanaka" },
	{ "/api/v1/policies", ADMIN_ROUTE_POLICIES, "" },
	/* A user may be called like an action. */
	{ "/api/v1/users/lock", ADMIN_ROUTE_USER, "lock" },
	{ "/api/v1/users/admin/admin", ADMIN_ROUTE_USER_ADMIN, "admin" },
	{ "/api/v1/drain", ADMIN_ROUTE_DRAIN, "" },
	{ "/api/v1/undrain", ADMIN_ROUTE_UNDRAIN, "" },
	{ "/api/v1/forensics", ADMIN_ROUTE_FORENSICS, "" },
	{ "/api/v1/forensics/0123456789abcdef", ADMIN_ROUTE_FORENSIC, "0123456789abcdef" },
	{ "/api/v1/users/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  ADMIN_ROUTE_USER, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	/* Everything else: no such path. */
	{ "", ADMIN_ROUTE_NONE, "" },
	{ "/", ADMIN_ROUTE_NONE, "" },
	{ "/healthz/", ADMIN_ROUTE_NONE, "" },
	{ "/HEALTHZ", ADMIN_ROUTE_NONE, "" },
	{ "/metrics/x", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/login", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/0123456789ABCDEF", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/0123456789abcde", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/0123456789abcdef0", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/0123456789abcdeg", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/0123456789abcdef/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/sessions/../users", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/forensics/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/forensics/session-0123456789abcdef", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/forensics/0123456789abcdef/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/forensics/../../etc/passwd", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/forensics/0123456789ABCDEF", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users//lock", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka/delete", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka/lock/", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka/lock/x", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka/Lock", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/ta naka", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/ta%20naka", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/tanaka:x", ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/users/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/lock",
	  ADMIN_ROUTE_NONE, "" },
	{ "/api/v1/limitsx", ADMIN_ROUTE_NONE, "" },
	{ "/api/v2/limits", ADMIN_ROUTE_NONE, "" },
	{ "api/v1/limits", ADMIN_ROUTE_NONE, "" },
};

Test(admin_text, paths_name_exactly_the_endpoints)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct admin_target t;
		memset(&t, 'x', sizeof t);
		admin_route_parse(routes[i].path, &t);
		cr_assert_eq(t.route, routes[i].route, "\"%s\": route %d", routes[i].path, t.route);
		cr_assert_str_eq(t.arg, routes[i].arg, "\"%s\"", routes[i].path);
	}
}

Test(admin_text, methods_and_allow_header)
{
	char allow[64];
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_LIMITS), allow, sizeof allow);
	cr_assert_str_eq(allow, "GET, PATCH");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_USERS), allow, sizeof allow);
	cr_assert_str_eq(allow, "GET, POST");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_SESSION), allow, sizeof allow);
	cr_assert_str_eq(allow, "DELETE");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_FORENSIC), allow, sizeof allow);
	cr_assert_str_eq(allow, "DELETE");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_FORENSICS), allow, sizeof allow);
	cr_assert_str_eq(allow, "GET");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_USER_PASSWORD), allow, sizeof allow);
	cr_assert_str_eq(allow, "PUT");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_DRAIN), allow, sizeof allow);
	cr_assert_str_eq(allow, "POST");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_HEALTHZ), allow, sizeof allow);
	cr_assert_str_eq(allow, "GET");
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_NONE), allow, sizeof allow);
	cr_assert_str_eq(allow, "");
	/* Too small a buffer: whole names only. */
	admin_allow_text(admin_route_methods(ADMIN_ROUTE_LIMITS), allow, 6);
	cr_assert_str_eq(allow, "GET");
	/* Nothing but the documented methods; never HEAD/OPTIONS. */
	cr_assert_eq(admin_route_methods(ADMIN_ROUTE_METRICS) & (1u << ADMIN_METHOD_OTHER), 0);
	cr_assert_eq(admin_route_methods(ADMIN_ROUTE_SESSIONS) & (1u << ADMIN_DELETE), 0);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_LIMITS, ADMIN_PATCH), true);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_LIMITS, ADMIN_GET), false);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_USERS, ADMIN_POST), true);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_USER_LOCK, ADMIN_POST), false);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_USER_ADMIN, ADMIN_PUT), true);
	cr_assert_eq(admin_route_needs_body(ADMIN_ROUTE_USER_PASSWORD, ADMIN_PUT), true);
}

Test(admin_text, basic_token)
{
	struct {
		const char *header, *token;
	} cases[] = {
		{ "Basic cm9vdDpwYXNz", "cm9vdDpwYXNz" },
		{ "basic cm9vdDpwYXNz", "cm9vdDpwYXNz" },
		{ "BASIC   cm9vdDpwYXNz  ", "cm9vdDpwYXNz" },
		{ "  Basic\tcm9vdDpwYXNz", "cm9vdDpwYXNz" },
		{ "Basic", NULL },
		{ "Basic ", NULL },
		{ "Basic    ", NULL },
		{ "Basiccm9vdDpwYXNz", NULL },
		{ "Bearer cm9vdDpwYXNz", NULL },
		{ "Digest username=\"root\"", NULL },
		{ "", NULL },
		{ "cm9vdDpwYXNz", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", cases[i].header);
		const char *t = admin_basic_token(buf);
		if (cases[i].token == NULL)
			cr_assert_null(t, "\"%s\" gave \"%s\"", cases[i].header, t);
		else
			cr_assert(t != NULL && strcmp(t, cases[i].token) == 0, "\"%s\"",
				  cases[i].header);
	}
}

Test(admin_text, basic_split)
{
	char user[USERS_NAME_MAX + 1], pw[USERS_PASSWORD_MAX + 1];
	cr_assert_eq(admin_basic_split("root:Kanri-Pass-99", 18, user, pw), 0);
	cr_assert_str_eq(user, "root");
	cr_assert_str_eq(pw, "Kanri-Pass-99");
	/* The user ends at the first colon; the password may hold more. */
	cr_assert_eq(admin_basic_split("root:a:b:c", 10, user, pw), 0);
	cr_assert_str_eq(user, "root");
	cr_assert_str_eq(pw, "a:b:c");
	/* Empty password: split (and then refused by the password check). */
	cr_assert_eq(admin_basic_split("root:", 5, user, pw), 0);
	cr_assert_str_eq(pw, "");
	/* A name that cannot exist is "" (verified against nothing). */
	cr_assert_eq(admin_basic_split(":secret-pass", 12, user, pw), 0);
	cr_assert_str_eq(user, "");
	cr_assert_eq(admin_basic_split("ta naka:secret-pass", 19, user, pw), 0);
	cr_assert_str_eq(user, "");
	cr_assert_str_eq(pw, "secret-pass");
	char longname[200];
	memset(longname, 'a', 65);
	memcpy(longname + 65, ":secret-pass", 13);
	cr_assert_eq(admin_basic_split(longname, strlen(longname), user, pw), 0);
	cr_assert_str_eq(user, "");
	/* Malformed: no colon, a NUL byte, an over-long password. */
	cr_assert_eq(admin_basic_split("rootpass", 8, user, pw), -1);
	cr_assert_eq(admin_basic_split("", 0, user, pw), -1);
	cr_assert_eq(admin_basic_split("root:pa\0ss", 10, user, pw), -1);
	cr_assert_eq(admin_basic_split("ro\0ot:pass", 10, user, pw), -1);
	static char big[USERS_PASSWORD_MAX + 16];
	memcpy(big, "root:", 5);
	memset(big + 5, 'p', USERS_PASSWORD_MAX + 1);
	cr_assert_eq(admin_basic_split(big, 5 + USERS_PASSWORD_MAX + 1, user, pw), -1);
	cr_assert_str_eq(pw, "");
	cr_assert_eq(admin_basic_split(big, 5 + USERS_PASSWORD_MAX, user, pw), 0);
	cr_assert_eq(strlen(pw), USERS_PASSWORD_MAX);
}

/* One body and the message it must be refused with ("" = accepted). */
struct body_case {
	const char *body;
	const char *error;
};

static const struct body_case new_user_cases[] = {
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\"}", "" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\",\"admin\":true}", "" },
	{ "", "a JSON object is required as the request body" },
	{ "[]", "the request body must be a JSON object" },
	{ "\"tanaka\"", "the request body must be a JSON object" },
	{ "{\"name\":\"tanaka\",", "the request body is not valid JSON (line 1, column 17)" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\",\"name\":\"root\"}",
	  "the request body repeats a field" },
	{ "{\"password\":\"Sakura-2024!\"}", "\"name\" is required" },
	{ "{\"name\":5,\"password\":\"Sakura-2024!\"}", "\"name\" must be a string" },
	{ "{\"name\":\"ta naka\",\"password\":\"Sakura-2024!\"}",
	  "invalid user name \"ta naka\" (1-64 of A-Z a-z 0-9 . _ @ -)" },
	{ "{\"name\":\"\",\"password\":\"Sakura-2024!\"}",
	  "invalid user name \"\" (1-64 of A-Z a-z 0-9 . _ @ -)" },
	{ "{\"name\":\"tanaka\"}", "\"password\" is required" },
	{ "{\"name\":\"tanaka\",\"password\":null}", "\"password\" must be a string" },
	{ "{\"name\":\"tanaka\",\"password\":\"short\"}", "password must be 8 to 1024 bytes" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\",\"admin\":\"yes\"}",
	  "\"admin\" must be true or false" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\",\"admin\":1}",
	  "\"admin\" must be true or false" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\",\"role\":\"admin\"}",
	  "unknown field \"role\"" },
	{ "{\"name\":\"tanaka\",\"password\":\"Sakura-2024!\\u0000x\"}",
	  "the request body is not valid JSON (line 1, column 49)" },
};

Test(admin_text, new_user_body)
{
	for (size_t i = 0; i < sizeof new_user_cases / sizeof new_user_cases[0]; i++) {
		char name[USERS_NAME_MAX + 1], pw[USERS_PASSWORD_MAX + 1], err[256] = "";
		bool admin = true;
		const struct body_case *c = &new_user_cases[i];
		int rc = admin_parse_new_user(c->body, strlen(c->body), name, pw, &admin, err,
					      sizeof err);
		if (c->error[0] == '\0') {
			cr_assert_eq(rc, 0, "case %zu: %s", i, err);
			cr_assert_str_eq(name, "tanaka");
			cr_assert_str_eq(pw, "Sakura-2024!");
			cr_assert_eq(admin, strstr(c->body, "true") != NULL, "case %zu", i);
		} else {
			cr_assert_eq(rc, -1, "case %zu accepted", i);
			cr_assert_str_eq(err, c->error, "case %zu", i);
			cr_assert_str_eq(pw, "", "case %zu: no password left behind", i);
		}
	}
}

Test(admin_text, parse_errors_do_not_quote_the_password)
{
	char name[USERS_NAME_MAX + 1], pw[USERS_PASSWORD_MAX + 1], err[256] = "";
	bool admin;
	const char *body = "{\"name\":\"tanaka\",\"password\":\"Secret-Horse-7\" x}";
	cr_assert_eq(admin_parse_new_user(body, strlen(body), name, pw, &admin, err, sizeof err),
		     -1);
	cr_assert_null(strstr(err, "Secret"), "%s", err);
	const char *body2 = "{\"password\":Secret-Horse-7}";
	cr_assert_eq(admin_parse_password(body2, strlen(body2), pw, err, sizeof err), -1);
	cr_assert_null(strstr(err, "Secret"), "%s", err);
}

Test(admin_text, password_body)
{
	char pw[USERS_PASSWORD_MAX + 1], err[256] = "";
	const char *ok = "{\"password\":\"Momiji-2024!\"}";
	cr_assert_eq(admin_parse_password(ok, strlen(ok), pw, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(pw, "Momiji-2024!");
	static const struct body_case bad[] = {
		{ "{}", "\"password\" is required" },
		{ "{\"password\":\"Momiji-2024!\",\"admin\":true}", "unknown field \"admin\"" },
		{ "{\"password\":12345678}", "\"password\" must be a string" },
		{ "{\"password\":\"1234567\"}", "password must be 8 to 1024 bytes" },
		{ "null", "the request body must be a JSON object" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(admin_parse_password(bad[i].body, strlen(bad[i].body), pw, err,
						  sizeof err),
			     -1, "case %zu", i);
		cr_assert_str_eq(err, bad[i].error, "case %zu", i);
	}
	/* 1024 bytes is the most. */
	static char body[USERS_PASSWORD_MAX + 64];
	int n = snprintf(body, sizeof body, "{\"password\":\"");
	memset(body + n, 'p', USERS_PASSWORD_MAX);
	strcpy(body + n + USERS_PASSWORD_MAX, "\"}");
	cr_assert_eq(admin_parse_password(body, strlen(body), pw, err, sizeof err), 0, "%s", err);
	cr_assert_eq(strlen(pw), USERS_PASSWORD_MAX);
	memset(body + n, 'p', USERS_PASSWORD_MAX + 1);
	strcpy(body + n + USERS_PASSWORD_MAX + 1, "\"}");
	cr_assert_eq(admin_parse_password(body, strlen(body), pw, err, sizeof err), -1);
	cr_assert_str_eq(err, "password must be 8 to 1024 bytes");
}

Test(admin_text, admin_flag_body)
{
	bool admin = false;
	char err[256] = "";
	cr_assert_eq(admin_parse_admin_flag("{\"admin\":true}", 14, &admin, err, sizeof err), 0);
	cr_assert_eq(admin, true);
	cr_assert_eq(admin_parse_admin_flag("{\"admin\":false}", 15, &admin, err, sizeof err), 0);
	cr_assert_eq(admin, false);
	static const struct body_case bad[] = {
		{ "{}", "\"admin\" is required (true or false)" },
		{ "{\"admin\":\"on\"}", "\"admin\" must be true or false" },
		{ "{\"admin\":0}", "\"admin\" must be true or false" },
		{ "{\"admin\":true,\"locked\":true}", "unknown field \"locked\"" },
		{ "{\"admin\":true,\"admin\":false}", "the request body repeats a field" },
		{ "true", "the request body must be a JSON object" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(admin_parse_admin_flag(bad[i].body, strlen(bad[i].body), &admin, err,
						    sizeof err),
			     -1, "case %zu", i);
		cr_assert_str_eq(err, bad[i].error, "case %zu", i);
	}
}

Test(admin_text, rfc3339)
{
	char out[32];
	cr_assert_eq(admin_rfc3339(0, out, sizeof out), 0);
	cr_assert_str_eq(out, "1970-01-01T00:00:00Z");
	cr_assert_eq(admin_rfc3339(1714566896789, out, sizeof out), 0);
	cr_assert_str_eq(out, "2024-05-01T12:34:56Z");
	cr_assert_eq(admin_rfc3339(951782400000 - 1, out, sizeof out), 0);
	cr_assert_str_eq(out, "2000-02-28T23:59:59Z");
	cr_assert_eq(admin_rfc3339(951782400000 + 86400000, out, sizeof out), 0);
	cr_assert_str_eq(out, "2000-03-01T00:00:00Z", "leap day");
	cr_assert_eq(admin_rfc3339(-1, out, sizeof out), 0);
	cr_assert_str_eq(out, "1969-12-31T23:59:59Z");
	/* Too small a buffer, absurd times. */
	cr_assert_eq(admin_rfc3339(0, out, 20), -1);
	cr_assert_eq(admin_rfc3339(0, out, 21), 0);
	cr_assert_eq(admin_rfc3339(INT64_MAX, out, sizeof out), -1);
	cr_assert_eq(admin_rfc3339(INT64_MIN, out, sizeof out), -1);
	/* A session started 90 s ago by the monotonic clock. */
	cr_assert_eq(admin_wall_ms(10000, 100000, 1714566896789), 1714566806789);
}

Test(admin_text, metrics_text_format)
{
	struct admin_metrics m = { 0 };
	m.sessions_active = 3;
	m.sessions_detached = 1;
	m.sessions_max = 40;
	m.draining = true;
	m.logins_ok = 7;
	m.logins_failed = 2;
	m.refusals[0] = (struct admin_counter){ "node_full", 5 };
	m.refusals[1] = (struct admin_counter){ "lo\"c\\k\ned", 1 };
	m.n_refusals = 2;
	m.bytes_out = 18446744073709551615u;
	m.bytes_in = 12;
	m.worker_crashes = 0;
	m.ended[0] = (struct admin_counter){ "admin", 4 };
	m.n_ended = 1;
	char *t = admin_metrics_text(&m);
	cr_assert_not_null(t);
	static const char *const want[] = {
		"# TYPE pixelgate_sessions gauge\n",
		"\npixelgate_sessions{state=\"active\"} 3\n",
		"\npixelgate_sessions{state=\"detached\"} 1\n",
		"# TYPE pixelgate_sessions_max gauge\npixelgate_sessions_max 40\n",
		"# TYPE pixelgate_draining gauge\npixelgate_draining 1\n",
		"# TYPE pixelgate_logins_total counter\n",
		"\npixelgate_logins_total{result=\"ok\"} 7\n",
		"\npixelgate_logins_total{result=\"failed\"} 2\n",
		"# TYPE pixelgate_refusals_total counter\n",
		"\npixelgate_refusals_total{reason=\"node_full\"} 5\n",
		"\npixelgate_refusals_total{reason=\"lo\\\"c\\\\k\\ned\"} 1\n",
		"\npixelgate_viewer_sent_bytes_total 18446744073709551615\n",
		"\npixelgate_viewer_received_bytes_total 12\n",
		"\npixelgate_worker_crashes_total 0\n",
		"# TYPE pixelgate_sessions_ended_total counter\n",
		"\npixelgate_sessions_ended_total{reason=\"admin\"} 4\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_not_null(strstr(t, want[i]), "missing %s in:\n%s", want[i], t);
	/* Every family has HELP then TYPE; every line ends with \n; no blank lines. */
	static const char *const families[] = {
		"pixelgate_sessions",
		"pixelgate_sessions_max",
		"pixelgate_draining",
		"pixelgate_logins_total",
		"pixelgate_refusals_total",
		"pixelgate_viewer_sent_bytes_total",
		"pixelgate_viewer_received_bytes_total",
		"pixelgate_worker_crashes_total",
		"pixelgate_sessions_ended_total",
	};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		char help[96], type[96];
		snprintf(help, sizeof help, "# HELP %s ", families[i]);
		snprintf(type, sizeof type, "# TYPE %s ", families[i]);
		const char *h = strstr(t, help), *ty = strstr(t, type);
		cr_assert(h != NULL && ty != NULL && h < ty, "%s", families[i]);
	}
	size_t len = strlen(t);
	cr_assert_eq(t[len - 1], '\n');
	cr_assert_null(strstr(t, "\n\n"));
	free(t);
}

Test(admin_text, agent_check_answer)
{
	struct {
		bool draining;
		int max;
		size_t sessions;
		const char *want;
	} cases[] = {
		{ false, 4, 1, "up ready 75%\n" },
		{ false, 4, 0, "up ready 100%\n" },
		{ false, 4, 3, "up ready 25%\n" },
		{ false, 4, 4, "up drain\n" },
		{ false, 4, 9, "up drain\n" },
		{ false, 3, 1, "up ready 66%\n" },
		{ false, 0, 0, "up ready 100%\n" },
		{ false, 0, 500, "up ready 100%\n" },
		{ true, 4, 1, "up drain\n" },
		{ true, 4, 4, "up drain\n" },
		{ true, 0, 0, "up drain\n" },
		{ false, 1000, 999, "up ready 1%\n" },
		{ false, 2147483647, 1, "up ready 99%\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[32];
		admin_agent_text(true, cases[i].draining, cases[i].max, cases[i].sessions, out,
				 sizeof out);
		cr_assert_str_eq(out, cases[i].want, "case %zu", i);
		/* logins refused (audit log unwritable): down, whatever else holds */
		admin_agent_text(false, cases[i].draining, cases[i].max, cases[i].sessions, out,
				 sizeof out);
		cr_assert_str_eq(out, "down\n", "case %zu without logins", i);
	}
}

Test(admin_text, bearer_token_is_taken_only_from_the_bearer_scheme)
{
	char a[] = "  bearer   abcdefghijklmnop-_.~+/=  ";
	cr_assert_str_eq(admin_bearer_token(a), "abcdefghijklmnop-_.~+/=");
	char b[] = "Basic dXNlcjpwdw==";
	cr_assert_null(admin_bearer_token(b));
	char c[] = "Bearer";
	cr_assert_null(admin_bearer_token(c));
	char d[] = "Bearerx token";
	cr_assert_null(admin_bearer_token(d));
	char e[] = "Bearer dXNlcjpwdw==";
	cr_assert_null(admin_basic_token(e));
}

Test(admin_text, a_metrics_token_file_holds_one_word_of_16_to_256_characters)
{
	char out[ADMIN_TOKEN_MAX + 1], err[128];
	static const struct {
		const char *text;
		const char *want; /* NULL: refused */
	} cases[] = {
		{ "0123456789abcdef", "0123456789abcdef" },
		{ "0123456789abcdef\n", "0123456789abcdef" },
		{ "0123456789abcdef\r\n", "0123456789abcdef" },
		{ "0123456789abcde\n", NULL },        /* 15 */
		{ "0123456789abcdef\n\n", NULL },     /* two newlines */
		{ "01234567 89abcdefgh\n", NULL },    /* a space */
		{ "0123456789abcdef\tx", NULL },      /* a tab */
		{ "\n0123456789abcdef", NULL },       /* leading newline */
		{ "0123456789abcdef\xc3\xa9", NULL }, /* not ASCII */
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = admin_token_parse(cases[i].text, strlen(cases[i].text), out, sizeof out,
					   err, sizeof err);
		if (cases[i].want != NULL) {
			cr_assert_eq(rc, 0, "case %zu refused: %s", i, err);
			cr_assert_str_eq(out, cases[i].want, "case %zu", i);
		} else {
			cr_assert_eq(rc, -1, "case %zu accepted", i);
			cr_assert_neq(err[0], '\0', "case %zu: no reason", i);
		}
	}
	char big[ADMIN_TOKEN_MAX + 2];
	memset(big, 'x', sizeof big);
	cr_assert_eq(admin_token_parse(big, ADMIN_TOKEN_MAX, out, sizeof out, err, sizeof err), 0);
	cr_assert_eq(strlen(out), ADMIN_TOKEN_MAX);
	cr_assert_eq(admin_token_parse(big, ADMIN_TOKEN_MAX + 1, out, sizeof out, err, sizeof err),
		     -1);
	cr_assert_not_null(strstr(err, "257 characters"), "%s", err);
}
