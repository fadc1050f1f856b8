/*
 * test_reconnect.c: a user's session outlives a connection (issue 2,
 * integration test 4).
 *
 * A second connection of the same user takes the session over (the older one
 * is closed with 4000), and a connection dropped by the client can be
 * replaced within reconnect_grace_s: both reach the same browser, which still
 * holds the text typed before.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* Presses and releases End (caret to the end of the field), then types text. */
static void type_at_end(struct pgc_conn *c, const char *text)
{
	IT_ASSERT(pgc_key(c, IT_XK_END, true) == 0 && pgc_key(c, IT_XK_END, false) == 0,
		  "sending End failed: %s", pgc_close_reason(c));
	IT_ASSERT(pgc_type_utf8(c, text) == 0, "typing failed: %s", pgc_close_reason(c));
}

Test(session, reconnect_reaches_same_browser, .fini = it_stop)
{
	static const char *const users[] = { "t4-frank", NULL };
	struct it_rect r, r2;
	struct pgc_conn *a, *b, *c;
	char last[512];
	const char *reason;
	bool ok;

	it_start("session_reconnect_reaches_same_browser", users);
	a = it_open_page("t4-frank", 0, 0, &r);
	it_click(a, it_page_to_screen_x(&r, PAGE_FIELD_X + PAGE_FIELD_W / 2),
		 it_page_to_screen_y(&r, PAGE_FIELD_Y + PAGE_FIELD_H / 2));
	it_pump_for(a, 500);
	IT_ASSERT(pgc_type_utf8(a, "abc 日本語") == 0, "typing failed: %s", pgc_close_reason(a));
	ok = it_wait_last("abc 日本語", IT_REPORT_S, a, NULL, last, sizeof last);
	IT_ASSERT(ok, "first connection: the page reported \"%s\", want \"abc 日本語\"", last);

	/* a second connection of the same user attaches; the first one is closed */
	b = it_login_connect("t4-frank", 0, 0);
	IT_ASSERT(it_wait_closed(a, IT_CLOSE_S),
		  "the older connection is still open %d s after a newer one attached",
		  IT_CLOSE_S);
	reason = pgc_close_reason(a);
	fprintf(stderr, "[%s] older connection closed: %d \"%s\"\n", it.test_name,
		pgc_close_code(a), reason);
	IT_ASSERT(pgc_close_code(a) == 4000, "older connection closed with %d \"%s\", want 4000",
		  pgc_close_code(a), reason);
	IT_ASSERT(strstr(reason, "replaced") != NULL,
		  "older connection's close reason \"%s\" does not say it was replaced", reason);
	it_conn_free(a);

	/* the new connection shows the same page at once (no new browser start)... */
	IT_ASSERT(it_wait_block(b, 30, &r2), "second connection: the test page is not shown (%s)",
		  pgc_closed(b) ? pgc_close_reason(b) : "connection open");
	/* ...and it is the same browser: the field still holds the text */
	type_at_end(b, "x");
	ok = it_wait_last("abc 日本語x", IT_REPORT_S, b, NULL, last, sizeof last);
	IT_ASSERT(ok, "second connection: the page reported \"%s\", want \"abc 日本語x\"", last);

	/* the client drops; a new login within the grace period reattaches */
	it_conn_free(b);
	it_sleep_ms(2000);
	c = it_login_connect("t4-frank", 0, 0);
	IT_ASSERT(it_wait_block(c, 30, &r2), "after a drop: the test page is not shown (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	type_at_end(c, "y");
	ok = it_wait_last("abc 日本語xy", IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after a drop and reconnect: the page reported \"%s\", want \"abc 日本語xy\"",
		  last);
	IT_ASSERT(!pgc_closed(c), "reconnected connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
}
