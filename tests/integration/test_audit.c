/*
 * test_audit.c: the audit log security staff rely on (issue 5, integration
 * tests).
 *
 * The real daemon writes the log (audit-*.jsonl in it.audit_dir, keyed with
 * it.audit_key); the tests read the files as an auditor would, and run the
 * real `pixelgatectl audit`. A login, a click on a link and a typed URL give
 * navigate records with exactly those URLs; a download click gives
 * download_blocked; a session left past its grace time ends with reason
 * "grace"; logins are recorded before they are answered; one changed byte
 * or a wrong key is caught by `audit verify`; a full disk stops new logins
 * (503 audit_unavailable) until there is room again, while an existing
 * session goes on.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Keysyms sent to the browser. */
#define AT_XK_CONTROL_L 0xffe3
#define AT_XK_RETURN 0xff0d

#define AT_EVENT_S 30 /* an event in the browser is in the log */

/* ---- reading the log ---------------------------------------------------------- */

/* Occurrences of needle in the log's lines as written (recs from it_audit_records()). */
static int at_log_count(const json_t *recs, const char *needle)
{
	size_t i;
	json_t *r;
	int count = 0;

	json_array_foreach(recs, i, r)
		for (const char *p = it_rec_str(r, "_line"); (p = strstr(p, needle)) != NULL;
		     p += strlen(needle))
			count++;
	return count;
}

/* Prints the log (recs, or NULL: as it is now) to stderr, one line per record
   (shortened), for a failure. */
static void at_print(const json_t *recs)
{
	json_t *now = recs ? NULL : it_audit_records(NULL);
	size_t i;
	json_t *r;

	if (now)
		recs = now;
	fprintf(stderr, "--- the audit log (%zu records in %s) ---\n", json_array_size(recs),
		it.audit_dir);
	json_array_foreach(recs, i, r)
		fprintf(stderr, "%.400s\n", it_rec_str(r, "_line"));
	fprintf(stderr, "--- end of the audit log ---\n");
	json_decref(now);
}

/* IT_ASSERT, printing the log (recs, or NULL: read now) first when it fails. */
#define AT_ASSERT(recs, cond, ...)            \
	do {                                  \
		if (!(cond))                  \
			at_print(recs);       \
		IT_ASSERT(cond, __VA_ARGS__); \
	} while (0)

/* True if client is the test's own address, 127.0.0.1 (the gateway may spell it
   IPv4-mapped, as the admin API does). */
static bool at_local_client(const char *client)
{
	return strcmp(client, "127.0.0.1") == 0 || strcmp(client, "::ffff:127.0.0.1") == 0;
}

/* Milliseconds since the epoch of an RFC 3339 "YYYY-MM-DDTHH:MM:SS.mmmZ"; -1 if not that. */
static long long at_ts_ms(const char *ts)
{
	struct tm tm = { 0 };
	int ms = -1, used = 0;

	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 ||
	    used != 24 || ts[used] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/*
 * What every record must have: ts (RFC 3339 UTC with milliseconds), seq 1, 2,
 * 3, ... without a gap, event, user, client, session (strings), prev the mac
 * of the record before ("" for the first) and a 64-hex mac.
 */
static void at_check_shape(json_t *recs)
{
	const char *prev = "";
	size_t i;
	json_t *r;

	json_array_foreach(recs, i, r) {
		static const char *const strs[] = { "ts",      "event", "user", "client",
						    "session", "prev",  "mac" };
		const char *mac = it_rec_str(r, "mac");

		for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
			AT_ASSERT(recs, json_is_string(json_object_get(r, strs[k])),
				  "record %zu has no string \"%s\": %.300s", i + 1, strs[k],
				  it_rec_str(r, "_line"));
		AT_ASSERT(recs, at_ts_ms(it_rec_str(r, "ts")) > 0,
			  "record %zu: ts \"%s\" is not RFC 3339 UTC with milliseconds", i + 1,
			  it_rec_str(r, "ts"));
		AT_ASSERT(recs, it_rec_int(r, "seq") == (long long)i + 1,
			  "record %zu has seq %lld, want %zu", i + 1, it_rec_int(r, "seq"), i + 1);
		AT_ASSERT(recs, strcmp(it_rec_str(r, "prev"), prev) == 0,
			  "record %zu: prev \"%s\" is not the mac of the record before (\"%s\")",
			  i + 1, it_rec_str(r, "prev"), prev);
		AT_ASSERT(recs, strlen(mac) == 64 && strspn(mac, "0123456789abcdef") == 64,
			  "record %zu: mac \"%s\" is not 64 lower-case hex digits", i + 1, mac);
		prev = mac;
	}
}

/* ---- pixelgatectl audit ------------------------------------------------------------ */

/* `pixelgatectl audit verify --dir it.audit_dir --key-file key`; its exit status, output in out. */
static int at_verify(const char *key, char *out, size_t outlen)
{
	return it_run(out, outlen, "'%s/pixelgatectl' audit verify --dir '%s' --key-file '%s'",
		      PIXELGATE_BUILD_DIR, it.audit_dir, key);
}

/* Asserts that `audit verify` says OK over exactly the records the log holds now. */
static void at_expect_verify_ok(void)
{
	char out[4096], want[64];
	json_t *before = it_audit_records(NULL);
	size_t n0 = json_array_size(before);
	int rc = at_verify(it.audit_key, out, sizeof out);
	json_t *after = it_audit_records(NULL);
	size_t n1 = json_array_size(after);
	bool counted = false;

	fprintf(stderr, "[%s] audit verify: exit %d: %s", it.test_name, rc, out);
	for (size_t n = n0; n <= n1 && !counted; n++) {
		snprintf(want, sizeof want, "OK, %zu record%s, ", n, n == 1 ? "" : "s");
		counted = strncmp(out, want, strlen(want)) == 0;
	}
	AT_ASSERT(after, rc == 0 && counted,
		  "pixelgatectl audit verify over the daemon's log: exit %d, \"%s\"; want exit 0 "
		  "and \"OK, %zu records, ...\"",
		  rc, out, n1);
	json_decref(before);
	json_decref(after);
}

/* ---- the browser -------------------------------------------------------------------- */

/* A count from the page server's /stats ("page2", "downloads", ...); -1 if unknown. */
static int at_page_stat(const char *name)
{
	char body[512];
	json_t *j;
	int n;

	if (it_page_get("/stats", body, sizeof body) != 200)
		return -1;
	j = json_loads(body, 0, NULL);
	n = json_is_integer(json_object_get(j, name))
	    ? (int)json_integer_value(json_object_get(j, name))
	    : -1;
	json_decref(j);
	return n;
}

/* Pumps c until the page server's count name reaches want or deadline_s passed. */
static bool at_wait_stat(struct pgc_conn *c, const char *name, int want, double deadline_s)
{
	double end = it_now_s() + deadline_s;

	while (at_page_stat(name) < want && it_now_s() < end && !pgc_closed(c))
		it_pump_for(c, 200);
	return at_page_stat(name) >= want;
}

static void at_key(struct pgc_conn *c, uint32_t keysym, bool down)
{
	IT_ASSERT(pgc_key(c, keysym, down) == 0, "key 0x%x %s failed: %s", keysym,
		  down ? "down" : "up", pgc_close_reason(c));
	it_pump_for(c, 60);
}

/* The user's session id from its session_start record (waits for it). */
static void at_session_of(struct pgc_conn *c, const char *user, char *id, size_t idlen)
{
	json_t *start = it_audit_wait(c, AT_EVENT_S, 1, NULL, "session_start", "user", user, NULL);

	AT_ASSERT(NULL, start != NULL, "no session_start record of %s within %d s", user,
		  AT_EVENT_S);
	snprintf(id, idlen, "%s", it_rec_str(start, "session"));
	AT_ASSERT(NULL, id[0] != '\0', "session_start of %s without a session id: %s", user,
		  it_rec_str(start, "_line"));
	json_decref(start);
}

/* ---- 1. navigation ------------------------------------------------------------------- */

/* A login, a click on a link and a typed URL: navigate records with exactly those URLs. */
IT_TEST(audit, navigation_recorded)
{
	static const char *const users[] = { "a1-akiko", NULL };
	const char *user = "a1-akiko";
	char home[128], page2[128], page3[128], sid[128];
	const char *want[3] = { home, page2, page3 };
	const char *want_title[3] = { "pixelgate test page", "pixelgate test page 2",
				      "pixelgate test page 3" };
	json_t *recs, *found, *login, *start, *r;
	struct pgc_conn *c;
	struct it_rect b;
	int nav = 0;
	size_t i;

	it_start("audit_navigation_recorded", users);
	snprintf(home, sizeof home, "http://127.0.0.1:%d/page.html", it.page_port);
	snprintf(page2, sizeof page2, "http://127.0.0.1:%d/page2.html", it.page_port);
	snprintf(page3, sizeof page3, "http://127.0.0.1:%d/page3.html", it.page_port);
	c = it_open_page(user, 0, 0, &b);
	at_session_of(c, user, sid, sizeof sid);
	found = it_audit_wait(c, AT_EVENT_S, 1, NULL, "navigate", "user", user, "url", home, NULL);
	AT_ASSERT(NULL, found != NULL, "no navigate record of the home page %s within %d s", home,
		  AT_EVENT_S);
	json_decref(found);

	/* a click on the test page's link to page 2 */
	it_click(c, it_page_to_screen_x(&b, PAGE_P2_X + PAGE_P2_W / 2),
		 it_page_to_screen_y(&b, PAGE_P2_Y + PAGE_P2_H / 2));
	IT_ASSERT(at_wait_stat(c, "page2", 1, AT_EVENT_S),
		  "the browser never requested /page2.html after its link was clicked");
	found = it_audit_wait(c, AT_EVENT_S, 1, NULL, "navigate", "user", user, "url", page2, NULL);
	AT_ASSERT(NULL, found != NULL, "no navigate record of %s within %d s of the click", page2,
		  AT_EVENT_S);
	json_decref(found);

	/* a URL typed into the address bar: Ctrl+L, the URL, Return */
	it_pump_for(c, 1000);
	at_key(c, AT_XK_CONTROL_L, true);
	at_key(c, 'l', true);
	at_key(c, 'l', false);
	at_key(c, AT_XK_CONTROL_L, false);
	it_pump_for(c, 500);
	IT_ASSERT(pgc_type_utf8(c, page3) == 0, "typing the URL failed: %s", pgc_close_reason(c));
	it_pump_for(c, 300);
	at_key(c, AT_XK_RETURN, true);
	at_key(c, AT_XK_RETURN, false);
	IT_ASSERT(at_wait_stat(c, "page3", 1, AT_EVENT_S),
		  "the browser never requested %s after it was typed into the address bar", page3);
	found = it_audit_wait(c, AT_EVENT_S, 1, NULL, "navigate", "user", user, "url", page3, NULL);
	AT_ASSERT(NULL, found != NULL, "no navigate record of the typed URL %s within %d s", page3,
		  AT_EVENT_S);
	json_decref(found);

	/* late duplicates or strays would show up by now */
	IT_ASSERT(it_pump_for(c, 3000), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	recs = it_audit_records(NULL);
	at_check_shape(recs);

	/* login_ok, then session_start for the same user and client */
	login = it_audit_match(recs, NULL, "login_ok", "user", user, NULL);
	start = it_audit_match(recs, NULL, "session_start", "user", user, NULL);
	AT_ASSERT(recs, login && start, "login_ok %s, session_start %s",
		  login ? "found" : "missing", start ? "found" : "missing");
	AT_ASSERT(recs, it_rec_int(login, "seq") < it_rec_int(start, "seq"),
		  "login_ok (seq %lld) is not before session_start (seq %lld)",
		  it_rec_int(login, "seq"), it_rec_int(start, "seq"));
	AT_ASSERT(recs,
		  at_local_client(it_rec_str(login, "client")) &&
		      at_local_client(it_rec_str(start, "client")),
		  "client of login_ok \"%s\", of session_start \"%s\", want \"127.0.0.1\"",
		  it_rec_str(login, "client"), it_rec_str(start, "client"));
	AT_ASSERT(recs, it_rec_int(start, "width") == 1280 && it_rec_int(start, "height") == 800,
		  "session_start says %lldx%lld, want the default 1280x800: %s",
		  it_rec_int(start, "width"), it_rec_int(start, "height"),
		  it_rec_str(start, "_line"));

	/* exactly the three pages, in order, all of this session */
	json_array_foreach(recs, i, r) {
		if (strcmp(it_rec_str(r, "event"), "navigate") != 0)
			continue;
		AT_ASSERT(recs, nav < 3, "more than 3 navigate records; the 4th: %s",
			  it_rec_str(r, "_line"));
		AT_ASSERT(recs, strcmp(it_rec_str(r, "url"), want[nav]) == 0,
			  "navigate record %d has url \"%s\", want \"%s\"", nav + 1,
			  it_rec_str(r, "url"), want[nav]);
		AT_ASSERT(recs,
			  strcmp(it_rec_str(r, "user"), user) == 0 &&
			      strcmp(it_rec_str(r, "session"), sid) == 0 &&
			      at_local_client(it_rec_str(r, "client")),
			  "navigate record %d is of user \"%s\", session \"%s\", client \"%s\"; "
			  "want %s, %s, 127.0.0.1",
			  nav + 1, it_rec_str(r, "user"), it_rec_str(r, "session"),
			  it_rec_str(r, "client"), user, sid);
		AT_ASSERT(recs, it_rec_int(r, "seq") > it_rec_int(start, "seq"),
			  "navigate %s (seq %lld) before session_start (seq %lld)",
			  it_rec_str(r, "url"), it_rec_int(r, "seq"), it_rec_int(start, "seq"));
		nav++;
	}
	AT_ASSERT(recs, nav == 3, "%d navigate records, want 3 (%s, %s, %s)", nav, home, page2,
		  page3);
	json_decref(recs);
	at_expect_verify_ok();

	/* the titles, which staff read alongside the URLs */
	recs = it_audit_records(NULL);
	nav = 0;
	json_array_foreach(recs, i, r)
		if (strcmp(it_rec_str(r, "event"), "navigate") == 0 && nav < 3) {
			AT_ASSERT(recs, strcmp(it_rec_str(r, "title"), want_title[nav]) == 0,
				  "navigate %s has title \"%s\", want the page's title \"%s\"",
				  it_rec_str(r, "url"), it_rec_str(r, "title"), want_title[nav]);
			nav++;
		}
	json_decref(recs);
}

/* ---- 2. a blocked download --------------------------------------------------------------- */

/* A click on the download link: a download_blocked record with its URL and file name. */
IT_TEST(audit, download_blocked)
{
	static const char *const users[] = { "a2-benji", NULL };
	const char *user = "a2-benji";
	char url[128], sid[128], out[8192], line[8192];
	json_t *recs, *found, *r;
	struct pgc_conn *c;
	struct it_rect b;
	size_t i;
	int rc, n;

	it_start("audit_download_blocked", users);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/download.bin", it.page_port);
	c = it_open_page(user, 0, 0, &b);
	at_session_of(c, user, sid, sizeof sid);
	it_click(c, it_page_to_screen_x(&b, PAGE_LINK_X + PAGE_LINK_W / 2),
		 it_page_to_screen_y(&b, PAGE_LINK_Y + PAGE_LINK_H / 2));
	IT_ASSERT(at_wait_stat(c, "downloads", 1, AT_EVENT_S),
		  "the browser never requested /download.bin after the link was clicked");
	found = it_audit_wait(c, AT_EVENT_S, 1, NULL, "download_blocked", "user", user, NULL);
	AT_ASSERT(NULL, found != NULL, "no download_blocked record within %d s of the click",
		  AT_EVENT_S);
	json_decref(found);
	IT_ASSERT(it_pump_for(c, 3000), "connection closed after the download: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));

	recs = it_audit_records(NULL);
	at_check_shape(recs);
	it_audit_match(recs, &n, "download_blocked", NULL);
	AT_ASSERT(recs, n == 1, "%d download_blocked records for one click, want 1", n);
	found = it_audit_match(recs, NULL, "download_blocked", "user", user, NULL);
	AT_ASSERT(recs, strcmp(it_rec_str(found, "url"), url) == 0,
		  "download_blocked url \"%s\", want \"%s\"", it_rec_str(found, "url"), url);
	AT_ASSERT(recs, strcmp(it_rec_str(found, "filename"), PAGE_DOWNLOAD_NAME) == 0,
		  "download_blocked filename \"%s\", want the suggested \"%s\"",
		  it_rec_str(found, "filename"), PAGE_DOWNLOAD_NAME);
	AT_ASSERT(recs,
		  strcmp(it_rec_str(found, "session"), sid) == 0 &&
		      at_local_client(it_rec_str(found, "client")),
		  "download_blocked of session \"%s\", client \"%s\"; want %s, 127.0.0.1",
		  it_rec_str(found, "session"), it_rec_str(found, "client"), sid);
	/* a download is not a page visited */
	json_array_foreach(recs, i, r)
		AT_ASSERT(recs,
			  strcmp(it_rec_str(r, "event"), "navigate") != 0 ||
			      !strstr(it_rec_str(r, "url"), "download"),
			  "the download was recorded as a navigation: %s", it_rec_str(r, "_line"));
	snprintf(line, sizeof line, "%s\n", it_rec_str(found, "_line"));

	/* audit query finds exactly that record, as written */
	rc = it_run(out, sizeof out,
		    "'%s/pixelgatectl' audit query --dir '%s' --user '%s' --event download_blocked "
		    "--json",
		    PIXELGATE_BUILD_DIR, it.audit_dir, user);
	AT_ASSERT(recs, rc == 0 && strcmp(out, line) == 0,
		  "audit query --user %s --event download_blocked --json: exit %d, \"%s\"; want "
		  "exit 0 and the record's line \"%s\"",
		  user, rc, out, line);
	json_decref(recs);
	at_expect_verify_ok();
}

/* ---- 3. the end of a session ------------------------------------------------------------- */

/* The client leaves, reconnect_grace_s passes: session_end with reason "grace". */
IT_TEST(audit, session_end)
{
	static const char *const users[] = { "a3-chika", NULL };
	const char *user = "a3-chika";
	struct it_opts o = { .extra_conf = "[limits]\nreconnect_grace_s = 2\n" };
	char sid[128], out[8192], *row_text;
	json_t *recs, *end, *detach, *j, *row = NULL;
	struct pgc_conn *c;
	struct it_rect b;
	double t_login, t_left;
	long long gap_ms;
	bool row_ok;
	int rc;

	it_start_opts("audit_session_end", users, &o);
	t_login = it_now_s();
	c = it_open_page(user, 0, 0, &b);
	at_session_of(c, user, sid, sizeof sid);
	it_pump_for(c, 1000);
	it_conn_free(c);
	t_left = it_now_s();

	end = it_audit_wait(NULL, 2 + AT_EVENT_S, 1, NULL, "session_end", "user", user, NULL);
	AT_ASSERT(NULL, end != NULL,
		  "no session_end record within %d s of the client leaving "
		  "(reconnect_grace_s = 2)",
		  2 + AT_EVENT_S);
	fprintf(stderr, "[%s] session_end %.1f s after the client left: %s\n", it.test_name,
		it_now_s() - t_left, it_rec_str(end, "_line"));
	recs = it_audit_records(NULL);
	at_check_shape(recs);
	detach = it_audit_match(recs, NULL, "session_detach", "user", user, NULL);
	AT_ASSERT(recs, detach != NULL && it_rec_int(detach, "seq") < it_rec_int(end, "seq"),
		  "no session_detach record before session_end");
	AT_ASSERT(recs,
		  strcmp(it_rec_str(end, "session"), sid) == 0 &&
		      strcmp(it_rec_str(detach, "session"), sid) == 0,
		  "session_detach of \"%s\", session_end of \"%s\", want %s",
		  it_rec_str(detach, "session"), it_rec_str(end, "session"), sid);
	AT_ASSERT(recs, strcmp(it_rec_str(end, "reason"), "grace") == 0,
		  "session_end reason \"%s\", want \"grace\"", it_rec_str(end, "reason"));
	AT_ASSERT(recs, json_is_string(json_object_get(end, "detail")),
		  "session_end without a \"detail\" string");
	AT_ASSERT(recs,
		  it_rec_int(end, "duration_s") >= 0 &&
		      it_rec_int(end, "duration_s") <= (long long)(it_now_s() - t_login) + 1,
		  "session_end duration_s %lld, want 0..%.0f (the time since the login)",
		  it_rec_int(end, "duration_s"), it_now_s() - t_login + 1);
	AT_ASSERT(recs, it_rec_int(end, "bytes_out") > 0, "session_end bytes_out %lld, want > 0",
		  it_rec_int(end, "bytes_out"));
	AT_ASSERT(recs, it_rec_int(end, "bytes_in") >= 0, "session_end bytes_in %lld, want >= 0",
		  it_rec_int(end, "bytes_in"));
	gap_ms = at_ts_ms(it_rec_str(end, "ts")) - at_ts_ms(it_rec_str(detach, "ts"));
	AT_ASSERT(recs, gap_ms >= 1900,
		  "session_end %lld ms after session_detach, want the grace time of 2 s", gap_ms);
	json_decref(end);
	json_decref(recs);
	at_expect_verify_ok();

	/* audit sessions lists it, ended */
	rc = it_run(out, sizeof out, "'%s/pixelgatectl' audit sessions --dir '%s' --json",
		    PIXELGATE_BUILD_DIR, it.audit_dir);
	IT_ASSERT(rc == 0, "audit sessions --json: exit %d: %s", rc, out);
	for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
		j = json_loads(p, 0, NULL);
		if (strcmp(it_rec_str(j, "session"), sid) == 0) {
			json_decref(row);
			row = j;
		} else {
			json_decref(j);
		}
	}
	IT_ASSERT(row != NULL, "audit sessions --json does not list session %s", sid);
	row_ok = strcmp(it_rec_str(row, "user"), user) == 0 &&
	    at_local_client(it_rec_str(row, "client")) &&
	    json_is_string(json_object_get(row, "start")) &&
	    json_is_string(json_object_get(row, "end")) &&
	    strcmp(it_rec_str(row, "end_reason"), "grace") == 0 &&
	    it_rec_int(row, "duration_s") >= 0 && it_rec_int(row, "pages") >= 1;
	row_text = json_dumps(row, JSON_COMPACT);
	json_decref(row);
	if (!row_ok)
		fprintf(stderr, "*** audit sessions --json: %s\n", row_text);
	IT_ASSERT(row_ok,
		  "audit sessions lists session %s as %s; want user %s, client 127.0.0.1, a start "
		  "and an end, end_reason grace, duration_s >= 0, pages >= 1",
		  sid, row_text ? row_text : "?", user);
	free(row_text);
	rc = it_run(out, sizeof out, "'%s/pixelgatectl' audit sessions --dir '%s'",
		    PIXELGATE_BUILD_DIR, it.audit_dir);
	IT_ASSERT(rc == 0 && strstr(out, sid) && strstr(out, user),
		  "audit sessions: exit %d, does not list %s of %s: %s", rc, sid, user, out);
}

/* ---- 4. logins ---------------------------------------------------------------------------- */

/* A wrong password is recorded as login_fail; a login is recorded before it is answered. */
IT_TEST(audit, login_records)
{
	static const char *const users[] = { "a4-daiki", NULL };
	const char *user = "a4-daiki";
	const char *wrong = "not-the-password-Xy9";
	struct pgc_login_result res;
	struct it_http h;
	json_t *recs, *r;
	int fails, oks;

	it_start("audit_login_records", users);
	IT_ASSERT(it_login_http(user, wrong, false, &h) == 401 &&
		      strcmp(h.error, "invalid_credentials") == 0,
		  "wrong password: %d \"%s\" (%s), want 401 invalid_credentials", h.status, h.error,
		  h.body);
	/* the answer came: the record is there already */
	recs = it_audit_records(NULL);
	r = it_audit_match(recs, &fails, "login_fail", "user", user, NULL);
	AT_ASSERT(recs, fails == 1, "%d login_fail records of %s when the 401 arrived, want 1",
		  fails, user);
	AT_ASSERT(recs,
		  strcmp(it_rec_str(r, "reason"), "invalid_credentials") == 0 &&
		      at_local_client(it_rec_str(r, "client")) &&
		      strcmp(it_rec_str(r, "session"), "") == 0,
		  "login_fail: reason \"%s\", client \"%s\", session \"%s\"; want "
		  "invalid_credentials, 127.0.0.1, \"\"",
		  it_rec_str(r, "reason"), it_rec_str(r, "client"), it_rec_str(r, "session"));
	it_audit_match(recs, &oks, "login_ok", NULL);
	AT_ASSERT(recs, oks == 0, "a login_ok for a wrong password");
	json_decref(recs);

	/* each successful login is in the file when pgc_login() returns */
	for (int k = 1; k <= 3; k++) {
		memset(&res, 0, sizeof res);
		IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0 &&
			      res.http_status == 200 && res.ticket[0],
			  "login %d: HTTP %d \"%s\" %s", k, res.http_status, res.error, res.body);
		recs = it_audit_records(NULL);
		it_audit_match(recs, &oks, "login_ok", "user", user, NULL);
		AT_ASSERT(recs, oks == k,
			  "%d login_ok records of %s right after login %d was answered, want %d",
			  oks, user, k, k);
		json_decref(recs);
	}
	recs = it_audit_records(NULL);
	at_check_shape(recs);
	it_audit_match(recs, &fails, "login_fail", NULL);
	AT_ASSERT(recs, fails == 1, "%d login_fail records, want 1", fails);
	r = it_audit_match(recs, NULL, "login_ok", "user", user, NULL);
	AT_ASSERT(recs, at_local_client(it_rec_str(r, "client")),
		  "login_ok client \"%s\", want 127.0.0.1", it_rec_str(r, "client"));
	/* no password in the log, right or wrong */
	AT_ASSERT(recs,
		  at_log_count(recs, wrong) == 0 && at_log_count(recs, it_password(user)) == 0,
		  "a password is in the audit log (wrong one %d times, right one %d times)",
		  at_log_count(recs, wrong), at_log_count(recs, it_password(user)));
	json_decref(recs);
	at_expect_verify_ok();
}

/* ---- 5. tampering --------------------------------------------------------------------- */

/* One changed byte of the daemon's own log, and a wrong key, are caught by audit verify. */
IT_TEST(audit, tamper_detected)
{
	static const char *const users[] = { "a5-emiko", NULL };
	const char *user = "a5-emiko";
	char path[640], out[4096], want[800], other_key[400], *text = NULL, *line2, *at;
	struct it_http h;
	json_t *recs;
	size_t len = 0;
	off_t off;
	FILE *f;
	int fd, rc;

	it_start("audit_tamper_detected", users);
	IT_ASSERT(it_login_http(user, it_password(user), false, &h) == 200, "login: %d %s",
		  h.status, h.body);
	IT_ASSERT(it_login_http(user, "wrong-password-Qq1", false, &h) == 401, "wrong login: %d %s",
		  h.status, h.body);
	IT_ASSERT(it_login_http(user, it_password(user), false, &h) == 200, "login: %d %s",
		  h.status, h.body);
	recs = it_audit_records(NULL);
	at_check_shape(recs);
	AT_ASSERT(recs, json_array_size(recs) == 3,
		  "%zu records, want 3 (login_ok, login_fail, "
		  "login_ok)",
		  json_array_size(recs));
	json_decref(recs);
	at_expect_verify_ok();

	/* change one byte of record 2 (its user name) in the daemon's file */
	IT_ASSERT(it_audit_files(path, sizeof path) > 0, "no audit file in %s", it.audit_dir);
	f = fopen(path, "r");
	IT_ASSERT(f != NULL, "open %s: %s", path, strerror(errno));
	text = calloc(1, 1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	line2 = strchr(text, '\n');
	IT_ASSERT(line2 && strchr(line2 + 1, '\n'), "%s has fewer than 2 lines (%zu bytes)", path,
		  len);
	line2++;
	at = strstr(line2, "\"user\":\"a5-emiko\"");
	IT_ASSERT(at && at < strchr(line2, '\n'), "line 2 of %s has no \"user\":\"%s\": %.300s",
		  path, user, line2);
	off = (off_t)(at - text) + (off_t)strlen("\"user\":\"a");
	IT_ASSERT(text[off] == '5', "byte %lld of %s is '%c', want '5'", (long long)off, path,
		  text[off]);
	fd = open(path, O_WRONLY);
	IT_ASSERT(fd >= 0 && pwrite(fd, "6", 1, off) == 1, "writing %s: %s", path, strerror(errno));
	close(fd);
	rc = at_verify(it.audit_key, out, sizeof out);
	fprintf(stderr, "[%s] after the edit, audit verify: exit %d: %s", it.test_name, rc, out);
	snprintf(want, sizeof want, "%s:2: seq 2: changed", path);
	IT_ASSERT(rc == 1 && strstr(out, want),
		  "audit verify after one byte of record 2 was changed: exit %d, \"%s\"; want exit "
		  "1 and \"%s\"",
		  rc, out, want);

	/* put it back: OK again */
	fd = open(path, O_WRONLY);
	IT_ASSERT(fd >= 0 && pwrite(fd, "5", 1, off) == 1, "writing %s: %s", path, strerror(errno));
	close(fd);
	at_expect_verify_ok();

	/* another key */
	snprintf(other_key, sizeof other_key, "%s/other.key", it.dir);
	IT_ASSERT(it_run(out, sizeof out, "head -c 32 /dev/urandom > '%s' && chmod 600 '%s'",
			 other_key, other_key) == 0,
		  "making %s: %s", other_key, out);
	rc = at_verify(other_key, out, sizeof out);
	fprintf(stderr, "[%s] with another key, audit verify: exit %d: %s", it.test_name, rc, out);
	IT_ASSERT(rc == 1 && strstr(out, "wrong key"),
		  "audit verify with another key: exit %d, \"%s\"; want exit 1 and \"wrong key\"",
		  rc, out);
	free(text);
}

/* ---- 6. no audit log, no logins ----------------------------------------------------------- */

static char at_mnt[128]; /* the small tmpfs holding the audit log ("" if none) */
static bool at_mounted;

/* Teardown hook of the full-disk test: the tmpfs goes (lazily: the daemon may
   still hold the file open). */
static void at_unmount_tmpfs(char *problems, size_t len)
{
	(void)problems;
	(void)len;
	if (at_mounted && umount2(at_mnt, MNT_DETACH) != 0)
		fprintf(stderr, "*** umount %s: %s\n", at_mnt, strerror(errno));
	at_mounted = false;
	if (at_mnt[0] && rmdir(at_mnt) != 0)
		fprintf(stderr, "*** rmdir %s: %s\n", at_mnt, strerror(errno));
	at_mnt[0] = '\0';
}

/*
 * The audit log's file system fills up: new logins get 503 audit_unavailable
 * and the daemon's log says why, an existing session goes on; once there is
 * room again logins work within seconds, and the chain goes on intact.
 */
IT_TEST(audit, unavailable_fails_closed)
{
	static const char *const users[] = { "a6-fumi", "a6-goro", NULL };
	const char *user = "a6-fumi", *other = "a6-goro";
	struct it_opts o = { 0 };
	char filler[200], probe[200], out[2048], last[256], file[640];
	json_t *recs, *found, *resumed, *tail;
	struct pgc_conn *c;
	struct it_rect b;
	struct it_http h;
	struct stat st;
	int fd, ok_after = 0, tries = 0;
	ssize_t w;
	double t0;

	snprintf(at_mnt, sizeof at_mnt, "/tmp/pixelgate-it-audit.XXXXXX");
	IT_ASSERT(mkdtemp(at_mnt) != NULL, "mkdtemp: %s", strerror(errno));
	if (mount("tmpfs", at_mnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=16k,mode=0700") != 0) {
		char why[300];

		snprintf(why, sizeof why,
			 "cannot mount a 16 KiB tmpfs for the audit log (%s; the test needs root "
			 "and CAP_SYS_ADMIN): the full-disk case is not tested",
			 strerror(errno));
		rmdir(at_mnt);
		at_mnt[0] = '\0';
		it_skip(why);
		return;
	}
	at_mounted = true;
	it_at_stop(at_unmount_tmpfs);
	o.audit_dir = at_mnt;
	it_start_opts("audit_unavailable_fails_closed", users, &o);

	/* a session that is running when the disk fills */
	c = it_open_page(user, 0, 0, &b);
	found = it_audit_wait(c, AT_EVENT_S, 1, NULL, "navigate", "user", user, NULL);
	AT_ASSERT(NULL, found != NULL, "no navigate record of %s within %d s", user, AT_EVENT_S);
	json_decref(found);
	it_pump_for(c, 1000);

	/* fill the file system */
	snprintf(filler, sizeof filler, "%s/filler", at_mnt);
	it_run(out, sizeof out, "LC_ALL=C dd if=/dev/zero of='%s' bs=1024", filler);
	IT_ASSERT(strstr(out, "No space left on device"), "dd did not fill %s: %s", at_mnt, out);
	snprintf(probe, sizeof probe, "%s/probe", at_mnt);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	w = fd >= 0 ? write(fd, "x", 1) : -1;
	IT_ASSERT(w < 0 && errno == ENOSPC, "%s is not full: a 1-byte write gave %zd (%s)", at_mnt,
		  w, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(probe);
	IT_ASSERT(it_audit_files(file, sizeof file) > 0 && stat(file, &st) == 0,
		  "no audit file in %s", at_mnt);
	fprintf(stderr,
		"[%s] %s full; the audit file has %lld bytes (%lld left in its last page)\n",
		it.test_name, at_mnt, (long long)st.st_size,
		(long long)(4095 - (st.st_size + 4095) % 4096));

	/* new logins: at most what fits in the file's last page, then 503 audit_unavailable */
	for (tries = 0; tries < 20; tries++) {
		it_login_http(other, it_password(other), false, &h);
		if (h.status != 200)
			break;
		ok_after++;
	}
	IT_ASSERT(h.status == 503 && strcmp(h.error, "audit_unavailable") == 0,
		  "with the audit log's disk full, %d of %d logins succeeded, the last answer "
		  "was %d \"%s\" (%s); want 503 audit_unavailable once the file's last page "
		  "is used up",
		  ok_after, tries < 20 ? tries + 1 : tries, h.status, h.error, h.body);
	fprintf(stderr, "[%s] %d logins fitted in the file's last page; then %d %s: %s\n",
		it.test_name, ok_after, h.status, h.error, h.body);
	IT_ASSERT(it_login_http(other, it_password(other), false, &h) == 503 &&
		      strcmp(h.error, "audit_unavailable") == 0,
		  "the next login got %d \"%s\" (%s); want 503 audit_unavailable", h.status,
		  h.error, h.body);
	IT_ASSERT(it_login_http(user, it_password(user), false, &h) == 503 &&
		      strcmp(h.error, "audit_unavailable") == 0,
		  "a login of %s (who has a session) got %d \"%s\" (%s); want 503 audit_unavailable",
		  user, h.status, h.error, h.body);
	IT_ASSERT(it_file_count(it.daemon_log, "audit log cannot be written") >= 1 &&
		      it_file_count(it.daemon_log, "No space left on device") >= 1,
		  "the daemon's log does not say that the audit log cannot be written because the "
		  "disk is full (\"audit log cannot be written\" %d times, \"No space left on "
		  "device\" %d times)",
		  it_file_count(it.daemon_log, "audit log cannot be written"),
		  it_file_count(it.daemon_log, "No space left on device"));

	/* the running session goes on */
	it_focus_field(c, &b);
	IT_ASSERT(pgc_type_utf8(c, "still here") == 0, "typing failed: %s", pgc_close_reason(c));
	IT_ASSERT(it_wait_last("still here", IT_REPORT_S, c, NULL, last, sizeof last),
		  "while the audit log cannot be written, the running session's page got \"%s\", "
		  "want \"still here\" (%s)",
		  last, pgc_closed(c) ? pgc_close_reason(c) : "connection open");

	/* room again: logins work again within seconds */
	IT_ASSERT(unlink(filler) == 0, "rm %s: %s", filler, strerror(errno));
	t0 = it_now_s();
	do {
		it_login_http(other, it_password(other), false, &h);
		if (h.status == 200)
			break;
		it_pump_for(c, 500);
	} while (it_now_s() - t0 < 15);
	IT_ASSERT(h.status == 200,
		  "%.0f s after the disk had room again, a login still got %d "
		  "\"%s\" (%s)",
		  it_now_s() - t0, h.status, h.error, h.body);
	fprintf(stderr, "[%s] logins work again %.1f s after the filler was removed\n",
		it.test_name, it_now_s() - t0);

	/* the gap is in the chain, and the chain is intact */
	recs = it_audit_records(NULL);
	at_check_shape(recs);
	resumed = it_audit_match(recs, NULL, "audit_resumed", NULL);
	AT_ASSERT(recs, resumed != NULL && it_rec_int(resumed, "lost") >= 1,
		  "no audit_resumed record with lost >= 1 after the log was writable again");
	tail = json_array_get(recs, json_array_size(recs) - 1);
	AT_ASSERT(recs,
		  it_rec_int(tail, "seq") > it_rec_int(resumed, "seq") &&
		      strcmp(it_rec_str(tail, "event"), "login_ok") == 0 &&
		      strcmp(it_rec_str(tail, "user"), other) == 0,
		  "the last record is not the login_ok of %s after audit_resumed", other);
	fprintf(stderr, "[%s] %s\n", it.test_name, it_rec_str(resumed, "_line"));
	json_decref(recs);
	at_expect_verify_ok();
	IT_ASSERT(!pgc_closed(c), "the running session was closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
}

/* ---- 7. restart and rotation ---------------------------------------------------------- */

/* While the daemon is stopped: make its newest audit file look a past day's. */
static void at_age_log(void)
{
	char path[600], aged[700];
	IT_ASSERT(it_audit_files(path, sizeof path) > 0, "no audit file in %s", it.audit_dir);
	snprintf(aged, sizeof aged, "%s/audit-20200101-001.jsonl", it.audit_dir);
	IT_ASSERT(rename(path, aged) == 0, "rename %s: %s", path, strerror(errno));
	fprintf(stderr, "[%s] renamed %s to %s\n", it.test_name, path, aged);
}

/*
 * A restart goes on with the same chain, and so does the daily rotation: the
 * log of "2020-01-01" is continued in today's new file, and verify is OK over
 * both files, with seq running on without a gap.
 */
IT_TEST(audit, chain_continues_over_restart_and_rotation)
{
	static const char *const users[] = { "a7-emi", NULL };
	const char *user = "a7-emi";
	struct pgc_login_result res;
	json_t *recs;
	int oks;

	it_start("audit_chain_continues_over_restart_and_rotation", users);
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 1: HTTP %d %s", res.http_status, res.body);
	it_restart_daemon();
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 2 (after a restart): HTTP %d %s", res.http_status, res.body);
	recs = it_audit_records(NULL);
	it_audit_match(recs, &oks, "login_ok", "user", user, NULL);
	AT_ASSERT(recs, oks == 2, "%d login_ok records after a restart, want 2 in one chain", oks);
	json_decref(recs);
	at_expect_verify_ok();

	/* the next start finds a past day's file: the chain goes on in a new file */
	it_restart_daemon_with(at_age_log);
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 3 (after the rotation): HTTP %d %s", res.http_status, res.body);
	int nfiles = it_audit_files(NULL, 0);
	IT_ASSERT(nfiles == 2, "%d audit files after the daily rotation, want 2", nfiles);
	recs = it_audit_records(NULL);
	at_check_shape(recs);
	it_audit_match(recs, &oks, "login_ok", "user", user, NULL);
	AT_ASSERT(recs, oks == 3, "%d login_ok records over both files, want 3", oks);
	json_decref(recs);
	at_expect_verify_ok();
}
