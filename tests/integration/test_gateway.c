/*
 * test_gateway.c: what the gateway answers to bad input (issue 2,
 * integration test 5).
 *
 * Hostile or broken HTTP requests get their exact status and error code; a
 * client that sends an RFB message outside the allow-list loses its
 * connection (4001) while another user's session keeps running.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* POSTs body to /api/v1/login as JSON and checks status and error code. */
static void expect_login_error(const char *what, const char *body, size_t len, int status,
			       const char *error)
{
	struct pgc_login_result res;
	int rc;

	memset(&res, 0, sizeof res);
	rc = pgc_http_post(&it.srv, "/api/v1/login", "application/json", body, len, &res);
	IT_ASSERT(rc == 0, "%s: no HTTP answer: %s", what, res.message);
	IT_ASSERT(res.http_status == status && strcmp(res.error, error) == 0,
		  "%s: got %d \"%s\" (body %s), want %d \"%s\"", what, res.http_status, res.error,
		  res.body, status, error);
	IT_ASSERT(res.message[0] != '\0', "%s: %d without a \"message\" (body %s)", what,
		  res.http_status, res.body);
}

/* GETs path and checks status and error code. */
static void expect_get_error(const char *what, const char *path, int status, const char *error)
{
	struct pgc_login_result res;
	int rc;

	memset(&res, 0, sizeof res);
	rc = pgc_http_get(&it.srv, path, &res);
	IT_ASSERT(rc == 0, "%s: no HTTP answer: %s", what, res.message);
	IT_ASSERT(res.http_status == status && strcmp(res.error, error) == 0,
		  "%s: GET %s got %d \"%s\" (body %s), want %d \"%s\"", what, path, res.http_status,
		  res.error, res.body, status, error);
}

/* Sends a WebSocket upgrade for path and checks status and error code. */
static void expect_upgrade_error(const char *what, const char *path, int status, const char *error)
{
	char body[1024], err[64];
	int st = it_ws_upgrade(path, body, sizeof body, err, sizeof err);

	IT_ASSERT(st == status && strcmp(err, error) == 0,
		  "%s: WebSocket upgrade of %s got %d \"%s\" (body %s), want %d \"%s\"", what, path,
		  st, err, body, status, error);
}

/* Tries to open the WebSocket with ticket and expects a refusal with status. */
static void expect_ws_refused(const char *what, const char *ticket, int status)
{
	char err[512];
	int st = 0;
	struct pgc_conn *c = pgc_connect(&it.srv, ticket, err, sizeof err, &st);

	if (c) {
		pgc_free(c);
		IT_ASSERT(0, "%s: the WebSocket opened", what);
	}
	IT_ASSERT(st == status, "%s: refused with HTTP status %d (%s), want %d", what, st, err,
		  status);
}

IT_TEST(gateway, bad_requests_get_exact_errors)
{
	static const char *const users[] = { "t5-grace", NULL };
	struct pgc_login_result wrong_pw, unknown, res;
	char big[6000], path[700];
	struct pgc_conn *c;
	char err[512];
	size_t n;
	int st = 0;

	it_start("gateway_bad_requests_get_exact_errors", users);

	/* wrong password and unknown user: the same 401, byte for byte */
	memset(&wrong_pw, 0, sizeof wrong_pw);
	memset(&unknown, 0, sizeof unknown);
	IT_ASSERT(pgc_login(&it.srv, "t5-grace", "not-the-password", 0, 0, &wrong_pw) != 0,
		  "login with a wrong password succeeded");
	IT_ASSERT(wrong_pw.http_status == 401 && strcmp(wrong_pw.error, "invalid_credentials") == 0,
		  "wrong password: got %d \"%s\" (%s), want 401 \"invalid_credentials\"",
		  wrong_pw.http_status, wrong_pw.error, wrong_pw.body);
	IT_ASSERT(wrong_pw.message[0] != '\0', "wrong password: no message (body %s)",
		  wrong_pw.body);
	IT_ASSERT(pgc_login(&it.srv, "t5-nobody", "whatever", 0, 0, &unknown) != 0,
		  "login as an unknown user succeeded");
	IT_ASSERT(unknown.http_status == 401 && strcmp(unknown.error, "invalid_credentials") == 0,
		  "unknown user: got %d \"%s\" (%s), want 401 \"invalid_credentials\"",
		  unknown.http_status, unknown.error, unknown.body);
	IT_ASSERT(strcmp(unknown.body, wrong_pw.body) == 0,
		  "unknown user and wrong password answer differently: \"%s\" vs \"%s\"",
		  unknown.body, wrong_pw.body);

	/* malformed login bodies */
	expect_login_error("truncated JSON", "{\"user\": \"t5-grace\", \"password\": ",
			   strlen("{\"user\": \"t5-grace\", \"password\": "), 400, "bad_request");
	expect_login_error("not JSON", "user=t5-grace&password=x", 24, 400, "bad_request");
	expect_login_error("empty body", "", 0, 400, "bad_request");
	expect_login_error("JSON array", "[\"t5-grace\", \"x\"]", 17, 400, "bad_request");
	expect_login_error("missing password", "{\"user\": \"t5-grace\"}", 20, 400, "bad_request");
	expect_login_error("missing user", "{\"password\": \"x\"}", 17, 400, "bad_request");
	expect_login_error("user not a string", "{\"user\": 5, \"password\": \"x\"}", 29, 400,
			   "bad_request");
	n = (size_t)snprintf(big, sizeof big, "{\"user\": \"t5-grace\", \"password\": \"%s",
			     it_password("t5-grace"));
	memset(big + n, 'a', 5000 - n);
	memcpy(big + 4998, "\"}", 2);
	expect_login_error("body over 4 KiB", big, 5000, 400, "bad_request");

	/* paths */
	expect_get_error("wrong path", "/nope", 404, "not_found");
	expect_get_error("wrong API path", "/api/v1/logout", 404, "not_found");
	expect_upgrade_error("missing ticket", "/rfb", 401, "invalid_ticket");
	expect_upgrade_error("empty ticket", "/rfb?ticket=", 401, "invalid_ticket");
	expect_upgrade_error("unknown ticket",
			     "/rfb?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401,
			     "invalid_ticket");
	expect_upgrade_error("upgrade on a wrong path", "/vnc?ticket=AAAA", 404, "not_found");
	expect_ws_refused("WebSocket with an unknown ticket",
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401);

	/* a ticket works once, then never again */
	memset(&res, 0, sizeof res);
	IT_ASSERT(pgc_login(&it.srv, "t5-grace", it_password("t5-grace"), 0, 0, &res) == 0,
		  "login failed: %d %s %s", res.http_status, res.error, res.message);
	IT_ASSERT(res.expires_in_s == 30, "ticket expires_in %d, want 30", res.expires_in_s);
	IT_ASSERT(strlen(res.ticket) >= 43, "ticket \"%s\" is shorter than 256 bits", res.ticket);
	c = pgc_connect(&it.srv, res.ticket, err, sizeof err, &st);
	IT_ASSERT(c != NULL, "first use of a fresh ticket failed: %s (HTTP %d)", err, st);
	expect_ws_refused("reused ticket", res.ticket, 401);
	snprintf(path, sizeof path, "/rfb?ticket=%s", res.ticket);
	expect_upgrade_error("reused ticket (raw upgrade)", path, 401, "invalid_ticket");
	IT_ASSERT(!pgc_closed(c), "the first connection was closed by the reuse attempt: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));
	pgc_free(c);
}

IT_TEST(gateway, forbidden_rfb_message_closes_only_that_connection)
{
	static const char *const users[] = { "t5-good", "t5-evil", NULL };
	/* type 7: a TightVNC/UltraVNC file-transfer message, not on the allow-list */
	static const uint8_t file_transfer[] = { 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct it_rect rg, re;
	struct pgc_conn *good, *evil;
	const char *reason;
	char last[512];
	uint64_t frames;
	double end;
	bool ok;

	it_start("gateway_forbidden_rfb_message_closes_only_that_connection", users);
	good = it_open_page("t5-good", 0, 0, &rg);
	evil = it_open_page("t5-evil", 0, 0, &re);

	IT_ASSERT(pgc_send_raw(evil, file_transfer, sizeof file_transfer) == 0,
		  "cannot send the forbidden message: %s", pgc_close_reason(evil));
	IT_ASSERT(it_wait_closed(evil, IT_CLOSE_S),
		  "a client that sent RFB type 7 is still connected after %d s", IT_CLOSE_S);
	reason = pgc_close_reason(evil);
	fprintf(stderr, "[%s] evil connection closed: %d \"%s\"\n", it.test_name,
		pgc_close_code(evil), reason);
	IT_ASSERT(pgc_close_code(evil) == 4001, "closed with %d \"%s\", want 4001",
		  pgc_close_code(evil), reason);
	IT_ASSERT(strncmp(reason, "protocol violation", 18) == 0,
		  "close reason \"%s\", want \"protocol violation: ...\"", reason);

	/* the other session keeps going: input in, frames out */
	IT_ASSERT(!pgc_closed(good), "the well-behaved connection was closed too: %d %s",
		  pgc_close_code(good), pgc_close_reason(good));
	frames = pgc_frames(good);
	it_focus_field(good, &rg);
	IT_ASSERT(pgc_type_utf8(good, "still here") == 0, "typing failed: %s",
		  pgc_close_reason(good));
	ok = it_wait_last("still here", IT_REPORT_S, good, NULL, last, sizeof last);
	IT_ASSERT(ok, "well-behaved session: the page reported \"%s\", want \"still here\" (%s)",
		  last, pgc_closed(good) ? pgc_close_reason(good) : "connection open");
	end = it_now_s() + 20;
	while (pgc_frames(good) == frames && it_now_s() < end && !pgc_closed(good))
		pgc_pump(good, 200);
	IT_ASSERT(pgc_frames(good) > frames,
		  "the well-behaved session got no frame after the other was cut off (%s)",
		  pgc_closed(good) ? pgc_close_reason(good) : "connection open");
}
