/*
 * test_reconnect.c: a user's session outlives a connection (issue 2,
 * integration test 4).
 *
 * A second connection of the same user takes the session over (the older one
 * is closed with 4000), and a connection dropped by the client can be
 * replaced within reconnect_grace_s: both reach the same browser, which still
 * holds the text typed before. The admin API tells the two apart: a takeover
 * replaces the connection of an active session, a reconnect attaches to a
 * detached one; either way it is the same session (same id), never a new one.
 */
#include "harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Presses and releases End (caret to the end of the field), then types text. */
static void type_at_end(struct pgc_conn *c, const char *text)
{
	IT_ASSERT(pgc_key(c, IT_XK_END, true) == 0 && pgc_key(c, IT_XK_END, false) == 0,
		  "sending End failed: %s", pgc_close_reason(c));
	IT_ASSERT(pgc_type_utf8(c, text) == 0, "typing failed: %s", pgc_close_reason(c));
}

/* The one session of the world (as the admin API lists it), into *s. */
static void the_session(struct it_session *s, const char *when)
{
	struct it_session all[4];
	int n = it_sessions("t4-root", all, 4);

	IT_ASSERT(n == 1, "%s: %d sessions listed, want 1", when, n);
	*s = all[0];
}

/* Waits up to deadline_s for the one session to be in state; false if not. */
static bool wait_state(const char *state, double deadline_s, struct it_session *s)
{
	for (double end = it_now_s() + deadline_s;; it_sleep_ms(100)) {
		the_session(s, state);
		if (strcmp(s->state, state) == 0)
			return true;
		if (it_now_s() >= end)
			return false;
	}
}

IT_TEST(session, reconnect_reaches_same_browser)
{
	static const char *const users[] = { "t4-frank", NULL };
	static const char *const admins[] = { "t4-root", NULL };
	struct it_opts o = { .admins = admins };
	struct it_session s0, s;
	struct it_rect r, r2;
	struct pgc_conn *a, *b, *c;
	char last[512];
	const char *reason;
	bool ok;

	it_start_opts("session_reconnect_reaches_same_browser", users, &o);
	a = it_open_page("t4-frank", 0, 0, &r);
	IT_ASSERT(wait_state("active", 10, &s0), "the session is %s, not active", s0.state);
	it_focus_field(a, &r);
	IT_ASSERT(pgc_type_utf8(a, "abc 日本語") == 0, "typing failed: %s", pgc_close_reason(a));
	ok = it_wait_last("abc 日本語", IT_REPORT_S, a, NULL, last, sizeof last);
	IT_ASSERT(ok, "first connection: the page reported \"%s\", want \"abc 日本語\"", last);

	/* a second connection of the same user attaches; the first one is closed */
	b = it_login_connect("t4-frank", 0, 0);
	IT_ASSERT(it_wait_closed(a, IT_CLOSE_S),
		  "the older connection is still open %d s after a newer one attached", IT_CLOSE_S);
	reason = pgc_close_reason(a);
	fprintf(stderr, "[%s] older connection closed: %d \"%s\"\n", it.test_name,
		pgc_close_code(a), reason);
	IT_ASSERT(pgc_close_code(a) == 4000, "older connection closed with %d \"%s\", want 4000",
		  pgc_close_code(a), reason);
	IT_ASSERT(strstr(reason, "replaced") != NULL,
		  "older connection's close reason \"%s\" does not say it was replaced", reason);
	it_conn_free(a);
	the_session(&s, "after the takeover");
	IT_ASSERT(strcmp(s.id, s0.id) == 0 && strcmp(s.state, "active") == 0,
		  "after the takeover the session is %s (%s), want %s (active)", s.id, s.state,
		  s0.id);

	/* the new connection shows the same page at once (no new browser start)... */
	IT_ASSERT(it_wait_block(b, 30, &r2), "second connection: the test page is not shown (%s)",
		  pgc_closed(b) ? pgc_close_reason(b) : "connection open");
	/* ...and it is the same browser: the field still holds the text */
	type_at_end(b, "x");
	ok = it_wait_last("abc 日本語x", IT_REPORT_S, b, NULL, last, sizeof last);
	IT_ASSERT(ok, "second connection: the page reported \"%s\", want \"abc 日本語x\"", last);

	/* the client drops; a new login within the grace period reattaches */
	it_conn_free(b);
	/* the gateway has seen the drop: the session waits, detached, for its user */
	IT_ASSERT(wait_state("detached", IT_GRACE_S - 5, &s),
		  "the session is still %s %d s after its connection dropped", s.state,
		  IT_GRACE_S - 5);
	IT_ASSERT(strcmp(s.id, s0.id) == 0, "the detached session is %s, want %s", s.id, s0.id);
	c = it_login_connect("t4-frank", 0, 0);
	IT_ASSERT(it_wait_block(c, 30, &r2), "after a drop: the test page is not shown (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	type_at_end(c, "y");
	ok = it_wait_last("abc 日本語xy", IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after a drop and reconnect: the page reported \"%s\", want \"abc 日本語xy\"",
		  last);
	IT_ASSERT(!pgc_closed(c), "reconnected connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	the_session(&s, "after the reconnect");
	IT_ASSERT(strcmp(s.id, s0.id) == 0 && strcmp(s.state, "active") == 0,
		  "after the reconnect the session is %s (%s), want %s (active)", s.id, s.state,
		  s0.id);
}
