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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
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

/* Keeps audit-*.jsonl names. */
static int at_is_log(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return strncmp(e->d_name, "audit-", 6) == 0 && n > 12 &&
	    strcmp(e->d_name + n - 6, ".jsonl") == 0;
}

/* The path of the newest (last by name) audit file into path; false if none. */
static bool at_newest_file(char *path, size_t len)
{
	struct dirent **names = NULL;
	int n = scandir(it.audit_dir, &names, at_is_log, alphasort);

	if (n > 0)
		snprintf(path, len, "%s/%s", it.audit_dir, names[n - 1]->d_name);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n > 0;
}

/*
 * Every record of the log, in file-name and line order: a JSON array of the
 * parsed lines (each with "_line", the text as written, added). A line that
 * is not a JSON object fails the test.
 */
static json_t *at_records(void)
{
	struct dirent **names = NULL;
	int n = scandir(it.audit_dir, &names, at_is_log, alphasort);
	json_t *all = json_array();

	IT_ASSERT(n >= 0, "scandir %s: %s", it.audit_dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[640], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		long lineno = 0;
		FILE *f;

		snprintf(path, sizeof path, "%s/%s", it.audit_dir, names[i]->d_name);
		free(names[i]);
		f = fopen(path, "r");
		IT_ASSERT(f != NULL, "open %s: %s", path, strerror(errno));
		while ((len = getline(&line, &cap, f)) > 0) {
			json_t *rec;

			lineno++;
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			rec = json_loadb(line, (size_t)len, 0, NULL);
			IT_ASSERT(json_is_object(rec), "%s:%ld is not a JSON object: %.300s", path,
				  lineno, line);
			json_object_set_new(rec, "_line", json_stringn(line, (size_t)len));
			json_array_append_new(all, rec);
		}
		free(line);
		fclose(f);
	}
	free(names);
	return all;
}

static const char *at_str(const json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "";
}

static long long at_int(const json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : LLONG_MIN;
}

/* Occurrences of needle in the audit files (as bytes). */
static int at_log_count(const char *needle)
{
	struct dirent **names = NULL;
	int n = scandir(it.audit_dir, &names, at_is_log, alphasort), count = 0;

	for (int i = 0; i < n; i++) {
		char path[640];

		snprintf(path, sizeof path, "%s/%s", it.audit_dir, names[i]->d_name);
		count += it_file_count(path, needle);
		free(names[i]);
	}
	free(names);
	return count;
}

/* Prints the log (one line per record, shortened) to stderr, for a failure. */
static void at_print(const json_t *recs)
{
	size_t i;
	json_t *r;

	fprintf(stderr, "--- the audit log (%zu records in %s) ---\n", json_array_size(recs),
		it.audit_dir);
	json_array_foreach(recs, i, r)
		fprintf(stderr, "%.400s\n", at_str(r, "_line"));
	fprintf(stderr, "--- end of the audit log ---\n");
}

/* IT_ASSERT, printing the log first when it fails. */
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

/* True if rec is event (NULL: any) of user (NULL: anyone). */
static bool at_is(const json_t *rec, const char *event, const char *user)
{
	return (!event || strcmp(at_str(rec, "event"), event) == 0) &&
	    (!user || strcmp(at_str(rec, "user"), user) == 0);
}

/* The first record of event and user (NULL: any) whose key has value (key NULL: any); NULL if none. */
static json_t *at_find(json_t *recs, const char *event, const char *user, const char *key,
		       const char *value)
{
	size_t i;
	json_t *r;

	json_array_foreach(recs, i, r)
		if (at_is(r, event, user) && (!key || strcmp(at_str(r, key), value) == 0))
			return r;
	return NULL;
}

/* How many records of event and user (NULL: any). */
static int at_count(json_t *recs, const char *event, const char *user)
{
	size_t i;
	json_t *r;
	int n = 0;

	json_array_foreach(recs, i, r)
		n += at_is(r, event, user);
	return n;
}

/*
 * Waits (pumping c, which may be NULL) until the log has a record of event
 * and user whose key has value (key NULL: any), or deadline_s passed.
 * Returns the whole log (the caller json_decref()s it); *found the record
 * or NULL.
 */
static json_t *at_wait(struct pgc_conn *c, double deadline_s, const char *event, const char *user,
		       const char *key, const char *value, json_t **found)
{
	double end = it_now_s() + deadline_s;

	for (;;) {
		json_t *recs = at_records();

		*found = at_find(recs, event, user, key, value);
		if (*found || it_now_s() >= end)
			return recs;
		json_decref(recs);
		if (c && !pgc_closed(c))
			it_pump_for(c, 250);
		else
			it_sleep_ms(250);
	}
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
		const char *mac = at_str(r, "mac");

		for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
			AT_ASSERT(recs, json_is_string(json_object_get(r, strs[k])),
				  "record %zu has no string \"%s\": %.300s", i + 1, strs[k],
				  at_str(r, "_line"));
		AT_ASSERT(recs, at_ts_ms(at_str(r, "ts")) > 0,
			  "record %zu: ts \"%s\" is not RFC 3339 UTC with milliseconds", i + 1,
			  at_str(r, "ts"));
		AT_ASSERT(recs, at_int(r, "seq") == (long long)i + 1,
			  "record %zu has seq %lld, want %zu", i + 1, at_int(r, "seq"), i + 1);
		AT_ASSERT(recs, strcmp(at_str(r, "prev"), prev) == 0,
			  "record %zu: prev \"%s\" is not the mac of the record before (\"%s\")",
			  i + 1, at_str(r, "prev"), prev);
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
	json_t *before = at_records();
	size_t n0 = json_array_size(before);
	int rc = at_verify(it.audit_key, out, sizeof out);
	json_t *after = at_records();
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
	json_t *start, *recs = at_wait(c, AT_EVENT_S, "session_start", user, NULL, NULL, &start);

	AT_ASSERT(recs, start != NULL, "no session_start record of %s within %d s", user,
		  AT_EVENT_S);
	snprintf(id, idlen, "%s", at_str(start, "session"));
	AT_ASSERT(recs, id[0] != '\0', "session_start of %s without a session id: %s", user,
		  at_str(start, "_line"));
	json_decref(recs);
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
	recs = at_wait(c, AT_EVENT_S, "navigate", user, "url", home, &found);
	AT_ASSERT(recs, found != NULL, "no navigate record of the home page %s within %d s", home,
		  AT_EVENT_S);
	json_decref(recs);

	/* a click on the test page's link to page 2 */
	it_click(c, it_page_to_screen_x(&b, PAGE_P2_X + PAGE_P2_W / 2),
		 it_page_to_screen_y(&b, PAGE_P2_Y + PAGE_P2_H / 2));
	IT_ASSERT(at_wait_stat(c, "page2", 1, AT_EVENT_S),
		  "the browser never requested /page2.html after its link was clicked");
	recs = at_wait(c, AT_EVENT_S, "navigate", user, "url", page2, &found);
	AT_ASSERT(recs, found != NULL, "no navigate record of %s within %d s of the click", page2,
		  AT_EVENT_S);
	json_decref(recs);

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
	recs = at_wait(c, AT_EVENT_S, "navigate", user, "url", page3, &found);
	AT_ASSERT(recs, found != NULL, "no navigate record of the typed URL %s within %d s", page3,
		  AT_EVENT_S);
	json_decref(recs);

	/* late duplicates or strays would show up by now */
	IT_ASSERT(it_pump_for(c, 3000), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	recs = at_records();
	at_check_shape(recs);

	/* login_ok, then session_start for the same user and client */
	login = at_find(recs, "login_ok", user, NULL, NULL);
	start = at_find(recs, "session_start", user, NULL, NULL);
	AT_ASSERT(recs, login && start, "login_ok %s, session_start %s",
		  login ? "found" : "missing", start ? "found" : "missing");
	AT_ASSERT(recs, at_int(login, "seq") < at_int(start, "seq"),
		  "login_ok (seq %lld) is not before session_start (seq %lld)",
		  at_int(login, "seq"), at_int(start, "seq"));
	AT_ASSERT(recs,
		  at_local_client(at_str(login, "client")) &&
		      at_local_client(at_str(start, "client")),
		  "client of login_ok \"%s\", of session_start \"%s\", want \"127.0.0.1\"",
		  at_str(login, "client"), at_str(start, "client"));
	AT_ASSERT(recs, at_int(start, "width") == 1280 && at_int(start, "height") == 800,
		  "session_start says %lldx%lld, want the default 1280x800: %s",
		  at_int(start, "width"), at_int(start, "height"), at_str(start, "_line"));

	/* exactly the three pages, in order, all of this session */
	json_array_foreach(recs, i, r) {
		if (!at_is(r, "navigate", NULL))
			continue;
		AT_ASSERT(recs, nav < 3, "more than 3 navigate records; the 4th: %s",
			  at_str(r, "_line"));
		AT_ASSERT(recs, strcmp(at_str(r, "url"), want[nav]) == 0,
			  "navigate record %d has url \"%s\", want \"%s\"", nav + 1,
			  at_str(r, "url"), want[nav]);
		AT_ASSERT(recs,
			  strcmp(at_str(r, "user"), user) == 0 &&
			      strcmp(at_str(r, "session"), sid) == 0 &&
			      at_local_client(at_str(r, "client")),
			  "navigate record %d is of user \"%s\", session \"%s\", client \"%s\"; "
			  "want %s, %s, 127.0.0.1",
			  nav + 1, at_str(r, "user"), at_str(r, "session"), at_str(r, "client"),
			  user, sid);
		AT_ASSERT(recs, at_int(r, "seq") > at_int(start, "seq"),
			  "navigate %s (seq %lld) before session_start (seq %lld)",
			  at_str(r, "url"), at_int(r, "seq"), at_int(start, "seq"));
		nav++;
	}
	AT_ASSERT(recs, nav == 3, "%d navigate records, want 3 (%s, %s, %s)", nav, home, page2,
		  page3);
	json_decref(recs);
	at_expect_verify_ok();

	/* the titles, which staff read alongside the URLs */
	recs = at_records();
	nav = 0;
	json_array_foreach(recs, i, r)
		if (at_is(r, "navigate", NULL) && nav < 3) {
			AT_ASSERT(recs, strcmp(at_str(r, "title"), want_title[nav]) == 0,
				  "navigate %s has title \"%s\", want the page's title \"%s\"",
				  at_str(r, "url"), at_str(r, "title"), want_title[nav]);
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
	int rc;

	it_start("audit_download_blocked", users);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/download.bin", it.page_port);
	c = it_open_page(user, 0, 0, &b);
	at_session_of(c, user, sid, sizeof sid);
	it_click(c, it_page_to_screen_x(&b, PAGE_LINK_X + PAGE_LINK_W / 2),
		 it_page_to_screen_y(&b, PAGE_LINK_Y + PAGE_LINK_H / 2));
	IT_ASSERT(at_wait_stat(c, "downloads", 1, AT_EVENT_S),
		  "the browser never requested /download.bin after the link was clicked");
	recs = at_wait(c, AT_EVENT_S, "download_blocked", user, NULL, NULL, &found);
	AT_ASSERT(recs, found != NULL, "no download_blocked record within %d s of the click",
		  AT_EVENT_S);
	json_decref(recs);
	IT_ASSERT(it_pump_for(c, 3000), "connection closed after the download: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));

	recs = at_records();
	at_check_shape(recs);
	AT_ASSERT(recs, at_count(recs, "download_blocked", NULL) == 1,
		  "%d download_blocked records for one click, want 1",
		  at_count(recs, "download_blocked", NULL));
	found = at_find(recs, "download_blocked", user, NULL, NULL);
	AT_ASSERT(recs, strcmp(at_str(found, "url"), url) == 0,
		  "download_blocked url \"%s\", want \"%s\"", at_str(found, "url"), url);
	AT_ASSERT(recs, strcmp(at_str(found, "filename"), PAGE_DOWNLOAD_NAME) == 0,
		  "download_blocked filename \"%s\", want the suggested \"%s\"",
		  at_str(found, "filename"), PAGE_DOWNLOAD_NAME);
	AT_ASSERT(recs,
		  strcmp(at_str(found, "session"), sid) == 0 &&
		      at_local_client(at_str(found, "client")),
		  "download_blocked of session \"%s\", client \"%s\"; want %s, 127.0.0.1",
		  at_str(found, "session"), at_str(found, "client"), sid);
	/* a download is not a page visited */
	json_array_foreach(recs, i, r)
		AT_ASSERT(recs,
			  !at_is(r, "navigate", NULL) || !strstr(at_str(r, "url"), "download"),
			  "the download was recorded as a navigation: %s", at_str(r, "_line"));
	snprintf(line, sizeof line, "%s\n", at_str(found, "_line"));

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

	recs = at_wait(NULL, 2 + AT_EVENT_S, "session_end", user, NULL, NULL, &end);
	AT_ASSERT(recs, end != NULL,
		  "no session_end record within %d s of the client leaving "
		  "(reconnect_grace_s = 2)",
		  2 + AT_EVENT_S);
	fprintf(stderr, "[%s] session_end %.1f s after the client left: %s\n", it.test_name,
		it_now_s() - t_left, at_str(end, "_line"));
	at_check_shape(recs);
	detach = at_find(recs, "session_detach", user, NULL, NULL);
	AT_ASSERT(recs, detach != NULL && at_int(detach, "seq") < at_int(end, "seq"),
		  "no session_detach record before session_end");
	AT_ASSERT(recs,
		  strcmp(at_str(end, "session"), sid) == 0 &&
		      strcmp(at_str(detach, "session"), sid) == 0,
		  "session_detach of \"%s\", session_end of \"%s\", want %s",
		  at_str(detach, "session"), at_str(end, "session"), sid);
	AT_ASSERT(recs, strcmp(at_str(end, "reason"), "grace") == 0,
		  "session_end reason \"%s\", want \"grace\"", at_str(end, "reason"));
	AT_ASSERT(recs, json_is_string(json_object_get(end, "detail")),
		  "session_end without a \"detail\" string");
	AT_ASSERT(recs,
		  at_int(end, "duration_s") >= 0 &&
		      at_int(end, "duration_s") <= (long long)(it_now_s() - t_login) + 1,
		  "session_end duration_s %lld, want 0..%.0f (the time since the login)",
		  at_int(end, "duration_s"), it_now_s() - t_login + 1);
	AT_ASSERT(recs, at_int(end, "bytes_out") > 0, "session_end bytes_out %lld, want > 0",
		  at_int(end, "bytes_out"));
	AT_ASSERT(recs, at_int(end, "bytes_in") >= 0, "session_end bytes_in %lld, want >= 0",
		  at_int(end, "bytes_in"));
	gap_ms = at_ts_ms(at_str(end, "ts")) - at_ts_ms(at_str(detach, "ts"));
	AT_ASSERT(recs, gap_ms >= 1900,
		  "session_end %lld ms after session_detach, want the grace time of 2 s", gap_ms);
	json_decref(recs);
	at_expect_verify_ok();

	/* audit sessions lists it, ended */
	rc = it_run(out, sizeof out, "'%s/pixelgatectl' audit sessions --dir '%s' --json",
		    PIXELGATE_BUILD_DIR, it.audit_dir);
	IT_ASSERT(rc == 0, "audit sessions --json: exit %d: %s", rc, out);
	for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
		j = json_loads(p, 0, NULL);
		if (strcmp(at_str(j, "session"), sid) == 0) {
			json_decref(row);
			row = j;
		} else {
			json_decref(j);
		}
	}
	IT_ASSERT(row != NULL, "audit sessions --json does not list session %s", sid);
	row_ok = strcmp(at_str(row, "user"), user) == 0 && at_local_client(at_str(row, "client")) &&
	    json_is_string(json_object_get(row, "start")) &&
	    json_is_string(json_object_get(row, "end")) &&
	    strcmp(at_str(row, "end_reason"), "grace") == 0 && at_int(row, "duration_s") >= 0 &&
	    at_int(row, "pages") >= 1;
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
	recs = at_records();
	AT_ASSERT(recs, at_count(recs, "login_fail", user) == 1,
		  "%d login_fail records of %s when the 401 arrived, want 1",
		  at_count(recs, "login_fail", user), user);
	r = at_find(recs, "login_fail", user, NULL, NULL);
	AT_ASSERT(recs,
		  strcmp(at_str(r, "reason"), "invalid_credentials") == 0 &&
		      at_local_client(at_str(r, "client")) && strcmp(at_str(r, "session"), "") == 0,
		  "login_fail: reason \"%s\", client \"%s\", session \"%s\"; want "
		  "invalid_credentials, 127.0.0.1, \"\"",
		  at_str(r, "reason"), at_str(r, "client"), at_str(r, "session"));
	AT_ASSERT(recs, at_count(recs, "login_ok", NULL) == 0, "a login_ok for a wrong password");
	json_decref(recs);

	/* each successful login is in the file when pgc_login() returns */
	for (int k = 1; k <= 3; k++) {
		memset(&res, 0, sizeof res);
		IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0 &&
			      res.http_status == 200 && res.ticket[0],
			  "login %d: HTTP %d \"%s\" %s", k, res.http_status, res.error, res.body);
		recs = at_records();
		oks = at_count(recs, "login_ok", user);
		AT_ASSERT(recs, oks == k,
			  "%d login_ok records of %s right after login %d was answered, want %d",
			  oks, user, k, k);
		json_decref(recs);
	}
	recs = at_records();
	at_check_shape(recs);
	fails = at_count(recs, "login_fail", NULL);
	AT_ASSERT(recs, fails == 1, "%d login_fail records, want 1", fails);
	r = at_find(recs, "login_ok", user, NULL, NULL);
	AT_ASSERT(recs, at_local_client(at_str(r, "client")),
		  "login_ok client \"%s\", want 127.0.0.1", at_str(r, "client"));
	/* no password in the log, right or wrong */
	AT_ASSERT(recs, at_log_count(wrong) == 0 && at_log_count(it_password(user)) == 0,
		  "a password is in the audit log (wrong one %d times, right one %d times)",
		  at_log_count(wrong), at_log_count(it_password(user)));
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
	recs = at_records();
	at_check_shape(recs);
	AT_ASSERT(recs, json_array_size(recs) == 3,
		  "%zu records, want 3 (login_ok, login_fail, "
		  "login_ok)",
		  json_array_size(recs));
	json_decref(recs);
	at_expect_verify_ok();

	/* change one byte of record 2 (its user name) in the daemon's file */
	IT_ASSERT(at_newest_file(path, sizeof path), "no audit file in %s", it.audit_dir);
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
	json_t *recs, *found, *resumed;
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
	recs = at_wait(c, AT_EVENT_S, "navigate", user, NULL, NULL, &found);
	AT_ASSERT(recs, found != NULL, "no navigate record of %s within %d s", user, AT_EVENT_S);
	json_decref(recs);
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
	IT_ASSERT(at_newest_file(file, sizeof file) && stat(file, &st) == 0, "no audit file in %s",
		  at_mnt);
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
	recs = at_records();
	at_check_shape(recs);
	resumed = at_find(recs, "audit_resumed", NULL, NULL, NULL);
	AT_ASSERT(recs, resumed != NULL && at_int(resumed, "lost") >= 1,
		  "no audit_resumed record with lost >= 1 after the log was writable again");
	AT_ASSERT(recs,
		  at_int(json_array_get(recs, json_array_size(recs) - 1), "seq") >
			  at_int(resumed, "seq") &&
		      at_is(json_array_get(recs, json_array_size(recs) - 1), "login_ok", other),
		  "the last record is not the login_ok of %s after audit_resumed", other);
	fprintf(stderr, "[%s] %s\n", it.test_name, at_str(resumed, "_line"));
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
	IT_ASSERT(at_newest_file(path, sizeof path), "no audit file in %s", it.audit_dir);
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

	it_start("audit_chain_continues_over_restart_and_rotation", users);
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 1: HTTP %d %s", res.http_status, res.body);
	it_restart_daemon();
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 2 (after a restart): HTTP %d %s", res.http_status, res.body);
	recs = at_records();
	AT_ASSERT(recs, at_count(recs, "login_ok", user) == 2,
		  "%d login_ok records after a restart, want 2 in one chain",
		  at_count(recs, "login_ok", user));
	json_decref(recs);
	at_expect_verify_ok();

	/* the next start finds a past day's file: the chain goes on in a new file */
	it_restart_daemon_with(at_age_log);
	IT_ASSERT(pgc_login(&it.srv, user, it_password(user), 0, 0, &res) == 0,
		  "login 3 (after the rotation): HTTP %d %s", res.http_status, res.body);
	struct dirent **names = NULL;
	int nfiles = scandir(it.audit_dir, &names, at_is_log, alphasort);
	for (int i = 0; i < nfiles; i++)
		free(names[i]);
	free(names);
	IT_ASSERT(nfiles == 2, "%d audit files after the daily rotation, want 2", nfiles);
	recs = at_records();
	at_check_shape(recs);
	AT_ASSERT(recs, at_count(recs, "login_ok", user) == 3,
		  "%d login_ok records over both files, want 3", at_count(recs, "login_ok", user));
	json_decref(recs);
	at_expect_verify_ok();
}
