/*
 * test_policy.c: the browser policy as a user meets it (issue 9, item 4).
 *
 * The DevTools, incognito and profile shortcuts never reach the browser:
 * the session worker drops them, the gateway audits each attempt as
 * shortcut_blocked, and the screen stays exactly as it was (no window, no
 * DevTools panel). A download is denied: the page server sees the request,
 * the audit log gets download_blocked, and nothing is written anywhere under
 * the session's directory, looked at through the session's own root
 * (/proc/PID/root) so that the check holds when the session lives in a
 * mount namespace of its own.
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keysyms the tests send. */
#define PT_XK_SHIFT_L 0xffe1
#define PT_XK_CONTROL_L 0xffe3
#define PT_XK_F12 0xffc9

#define PT_EVENT_S 30 /* an event in the browser is in the audit log */

/* ---- the screen --------------------------------------------------------------- */

/* FNV-1a of the whole framebuffer: equal hashes, same picture. */
static uint64_t pt_screen_hash(struct pgc_conn *c)
{
	rfbClient *cl = pgc_rfb(c);
	const uint8_t *p = (const uint8_t *)cl->frameBuffer;
	size_t len = (size_t)cl->width * (size_t)cl->height * 4;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Presses the keys (modifiers first), then releases them in reverse order. */
static void pt_chord(struct pgc_conn *c, const uint32_t *keys, int n)
{
	for (int i = 0; i < n; i++)
		IT_ASSERT(pgc_key(c, keys[i], true) == 0, "key 0x%x down: %s", keys[i],
			  pgc_close_reason(c));
	for (int i = n - 1; i >= 0; i--)
		IT_ASSERT(pgc_key(c, keys[i], false) == 0, "key 0x%x up: %s", keys[i],
			  pgc_close_reason(c));
	it_pump_for(c, 300);
}

/* 1. DevTools, incognito and profile shortcuts: dropped, audited, nothing opens. */
IT_TEST(policy, devtools_and_incognito_shortcuts_are_dropped_and_audited)
{
	static const char *const users[] = { "p1-hana", NULL };
	static const struct {
		uint32_t keys[3];
		int n;
		const char *name;
	} chords[] = {
		{ { PT_XK_CONTROL_L, PT_XK_SHIFT_L, 'N' }, 3, "Ctrl+Shift+N" },
		{ { PT_XK_F12 }, 1, "F12" },
		{ { PT_XK_CONTROL_L, PT_XK_SHIFT_L, 'I' }, 3, "Ctrl+Shift+I" },
		{ { PT_XK_CONTROL_L, PT_XK_SHIFT_L, 'J' }, 3, "Ctrl+Shift+J" },
		/* upper case without the Shift key: the worker would add Shift itself */
		{ { PT_XK_CONTROL_L, 'C' }, 2, "Ctrl+Shift+C" },
		{ { PT_XK_CONTROL_L, PT_XK_SHIFT_L, 'm' }, 3, "Ctrl+Shift+M" },
	};
	const char *user = "p1-hana";
	struct it_rect r, after;
	struct pgc_conn *c;
	char last[512];
	uint64_t before;
	int tabs, n;

	it_start("policy_devtools_and_incognito_shortcuts_are_dropped_and_audited", users);
	c = it_open_page(user, 0, 0, &r);
	/* the page is still: the screen settles and stays */
	it_pump_for(c, 2000);
	before = pt_screen_hash(c);
	tabs = it_audit_count("new_tab", "user", user, NULL);

	for (size_t i = 0; i < sizeof chords / sizeof chords[0]; i++) {
		pt_chord(c, chords[i].keys, chords[i].n);
		json_decref(it_audit_wait(c, PT_EVENT_S, 1, &n, "shortcut_blocked", "user", user,
					  "keys", chords[i].name, NULL));
		IT_ASSERT(n == 1,
			  "%d shortcut_blocked records with keys \"%s\" (want 1; daemon log "
			  "has %d \"unknown browser event\" lines)",
			  n, chords[i].name, it_file_count(it.daemon_log, "unknown browser event"));
	}
	/* key repeat of a held F12: one record for the press, none for the repeats */
	IT_ASSERT(pgc_key(c, PT_XK_F12, true) == 0 && pgc_key(c, PT_XK_F12, true) == 0 &&
		      pgc_key(c, PT_XK_F12, true) == 0 && pgc_key(c, PT_XK_F12, false) == 0,
		  "F12 repeat: %s", pgc_close_reason(c));
	json_decref(it_audit_wait(c, PT_EVENT_S, 2, &n, "shortcut_blocked", "user", user, "keys",
				  "F12", NULL));
	IT_ASSERT(n == 2, "a held F12 gave %d shortcut_blocked records in all, want 2", n);

	/* nothing opened: no new window or tab, no DevTools panel, the same picture */
	it_pump_for(c, 3000);
	n = it_audit_count("new_tab", "user", user, NULL);
	IT_ASSERT(n == tabs, "%d new_tab records after the shortcuts, %d before", n, tabs);
	IT_ASSERT(it_find_block(c, &after) && after.x == r.x && after.y == r.y && after.w == r.w &&
		      after.h == r.h,
		  "the test page's block moved or is gone: was %dx%d at %d,%d", r.w, r.h, r.x, r.y);
	IT_ASSERT(pt_screen_hash(c) == before, "the screen changed after the blocked shortcuts");
	IT_ASSERT(it_file_count(it.daemon_log, "dropped Ctrl+Shift+N (incognito window)") == 1,
		  "the worker did not log the dropped Ctrl+Shift+N once");

	/* Ctrl and Shift were let through and released: plain typing still works */
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, "ok") == 0, "typing failed: %s", pgc_close_reason(c));
	IT_ASSERT(it_wait_last("ok", IT_REPORT_S, c, NULL, last, sizeof last),
		  "after the shortcuts the page reported \"%s\", want \"ok\" (a modifier stuck?)",
		  last);
	IT_ASSERT(!pgc_closed(c), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
}

/* ---- the session's files --------------------------------------------------------- */

/* Parent pid of pid from /proc/PID/status, or -1. */
static pid_t pt_parent(pid_t pid)
{
	char path[64], line[256];
	pid_t ppid = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "PPid:", 5) == 0)
			ppid = (pid_t)atoi(line + 5);
	if (f != NULL)
		fclose(f);
	return ppid;
}

/*
 * The session's main Chromium process (not a zygote or renderer); dir gets
 * the session's directory: its --user-data-dir is <dir>/home/profile.
 */
static pid_t pt_find_browser(char *dir, size_t dirlen)
{
	char needle[400], cmd[4096];
	pid_t pids[256], found = 0;
	int n;

	snprintf(needle, sizeof needle, "--user-data-dir=%s/", it.runtime_dir);
	n = it_find_procs(needle, pids, 256);
	for (int i = 0; i < n && i < 256; i++)
		if (!it_proc_has_arg(pids[i], "--type=")) {
			IT_ASSERT(found == 0, "two main browser processes: %d and %d", (int)found,
				  (int)pids[i]);
			found = pids[i];
		}
	IT_ASSERT(found > 0, "no Chromium with --user-data-dir under %s", it.runtime_dir);
	it_proc_cmdline(found, cmd, sizeof cmd);
	const char *udd = strstr(cmd, "--user-data-dir=");
	IT_ASSERT(udd != NULL, "no --user-data-dir in \"%s\"", cmd);
	udd += strlen("--user-data-dir=");
	size_t len = strcspn(udd, " ");
	const char *tail = "/home/profile";
	IT_ASSERT(len > strlen(tail) && len < dirlen &&
		      strncmp(udd + len - strlen(tail), tail, strlen(tail)) == 0,
		  "--user-data-dir \"%.*s\" is not <session dir>%s", (int)len, udd, tail);
	snprintf(dir, dirlen, "%.*s", (int)(len - strlen(tail)), udd);
	return found;
}

/* Walks <pid's root>/dir for the download; fails the test on a leak. */
static void pt_check_no_download(pid_t pid, const char *what, const char *dir)
{
	char root[1024];

	snprintf(root, sizeof root, "/proc/%d/root%s", (int)pid, dir);
	struct it_download_walk walk;

	memset(&walk, 0, sizeof walk);
	IT_ASSERT(it_walk_for_download(root, &walk), "cannot walk %s (%s): %s", root, what,
		  strerror(errno));
	IT_ASSERT(walk.files > 0, "no file at all under %s (%s): is it the session's directory?",
		  root, what);
	fprintf(stderr, "[%s] %d files under %s (%s), checked for the download\n", it.test_name,
		walk.files, root, what);
	IT_ASSERT(walk.bad == 0, "the download was written under %s (%d of %d files):%s", root,
		  walk.bad, walk.files, walk.report);
}

/* Number of /download.bin requests the page server saw. */
static int pt_page_downloads(void)
{
	char body[256];
	const char *p;

	if (it_page_get("/stats", body, sizeof body) != 200)
		return -1;
	p = strstr(body, "\"downloads\":");
	return p ? atoi(p + strlen("\"downloads\":")) : -1;
}

/* 2. a download is denied: audited, and not one byte of it in the session's files. */
IT_TEST(policy, download_is_denied_audited_and_not_on_disk)
{
	static const char *const users[] = { "p2-kaito", NULL };
	const char *user = "p2-kaito";
	char dir[512], cmd[1024];
	struct it_rect r;
	struct pgc_conn *c;
	pid_t browser, worker;
	double end;
	int n;

	it_start("policy_download_is_denied_audited_and_not_on_disk", users);
	c = it_open_page(user, 0, 0, &r);
	IT_ASSERT(it_file_count(it.daemon_log, "the browser accepted download denial") >= 1,
		  "the worker did not wait for the browser's answer to its download denial");
	it_click(c, it_page_to_screen_x(&r, PAGE_LINK_X + PAGE_LINK_W / 2),
		 it_page_to_screen_y(&r, PAGE_LINK_Y + PAGE_LINK_H / 2));
	end = it_now_s() + 30;
	while (pt_page_downloads() < 1 && it_now_s() < end)
		it_pump_for(c, 200);
	IT_ASSERT(pt_page_downloads() >= 1,
		  "the browser never requested /download.bin after the link was clicked");
	json_decref(it_audit_wait(c, PT_EVENT_S, 1, &n, "download_blocked", "user", user,
				  "filename", PAGE_DOWNLOAD_NAME, NULL));
	IT_ASSERT(n == 1, "%d download_blocked records for %s, want 1", n, PAGE_DOWNLOAD_NAME);
	/* give a download every chance to be written */
	IT_ASSERT(it_pump_for(c, 5000), "connection closed after the download: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));

	browser = pt_find_browser(dir, sizeof dir);
	pt_check_no_download(browser, "the browser's root", dir);
	worker = pt_parent(browser);
	IT_ASSERT(worker > 0, "no parent of the browser %d", (int)browser);
	it_proc_cmdline(worker, cmd, sizeof cmd);
	IT_ASSERT(strstr(cmd, "pixelgate-session") != NULL,
		  "the browser's parent %d is \"%s\", not the session worker", (int)worker, cmd);
	pt_check_no_download(worker, "the worker's root", dir);
	IT_ASSERT(!pgc_closed(c), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
}

/* ---- a browser that refuses or ignores the download denial ----------------------- */

/*
 * A stand-in for Chromium, in Python: it speaks CDP on fds 3 and 4 as
 * Chromium does with --remote-debugging-pipe and answers what its mode says.
 * refuse: an error for the default download denial; silent: no answer at
 * all; context: everything accepted, then (after PT_FAKE_CONTEXT_S) a tab
 * in a second browser context whose download denial it refuses.
 */
static const char pt_fake_browser[] =
    "#!/usr/bin/python3\n"
    "# written by tests/integration/test_policy.c: a fake Chromium on the CDP pipe\n"
    "import json, os, sys, threading, time\n"
    "mode = sys.argv[0].rsplit('-', 1)[1]\n"
    "lock = threading.Lock()\n"
    "def send(o):\n"
    "    with lock:\n"
    "        os.write(4, json.dumps(o).encode() + b'\\0')\n"
    "def tab(ctx, tid):\n"
    "    send({'method': 'Target.targetCreated', 'params': {'targetInfo': {\n"
    "        'targetId': tid, 'type': 'page', 'title': '', 'url': 'about:blank',\n"
    "        'attached': False, 'browserContextId': ctx}}})\n"
    "def later():\n"
    "    time.sleep(float(os.environ.get('PT_DELAY', '%d')))\n"
    "    tab('FAKECONTEXT2', 'FAKETAB2')\n"
    "buf = b''\n"
    "while True:\n"
    "    d = os.read(3, 65536)\n"
    "    if not d:\n"
    "        break\n"
    "    buf += d\n"
    "    while b'\\0' in buf:\n"
    "        m, buf = buf.split(b'\\0', 1)\n"
    "        msg = json.loads(m)\n"
    "        method, ident = msg.get('method'), msg.get('id')\n"
    "        ctx = msg.get('params', {}).get('browserContextId')\n"
    "        if mode == 'silent':\n"
    "            continue\n"
    "        if method == 'Browser.setDownloadBehavior' and (\n"
    "                (mode == 'refuse' and ctx is None) or\n"
    "                (mode == 'context' and ctx == 'FAKECONTEXT2')):\n"
    "            send({'id': ident, 'error': {'code': -32000,\n"
    "                  'message': 'refused by the fake browser'}})\n"
    "        else:\n"
    "            send({'id': ident, 'result': {}})\n"
    "        if method == 'Target.setDiscoverTargets' and mode == 'context':\n"
    "            tab('FAKECONTEXT1', 'FAKETAB1')\n"
    "            threading.Thread(target=later, daemon=True).start()\n";

#define PT_FAKE_CONTEXT_S 8 /* the fake opens its second context this long after start */

static char pt_fake_path[512];

/* Teardown hook: the fake browser's file removed. */
static void pt_fake_remove(char *problems, size_t len)
{
	(void)problems;
	(void)len;
	if (pt_fake_path[0] != '\0')
		unlink(pt_fake_path);
	pt_fake_path[0] = '\0';
}

/*
 * Writes the fake browser for mode under /usr/local/lib (a session's cell
 * sees only /usr, /etc and its own tmpfs of the host's tree) and starts the
 * world with it as [session] chromium_path.
 */
static void pt_start_with_fake(const char *test_name, const char *const *users, const char *mode)
{
	static char conf[800];
	char text[sizeof pt_fake_browser + 16];
	struct it_opts o = { 0 };

	it_at_stop(pt_fake_remove);
	/* under /usr: the one tree a cell sees of the host's (read-only) */
	snprintf(pt_fake_path, sizeof pt_fake_path,
		 "/usr/local/lib/pixelgate-test-fake-chromium-%d-%s", (int)getpid(), mode);
	snprintf(text, sizeof text, pt_fake_browser, PT_FAKE_CONTEXT_S);
	it_write_file(pt_fake_path, text, 0755);
	snprintf(conf, sizeof conf, "[session]\nchromium_path = %s\n", pt_fake_path);
	o.extra_conf = conf;
	it_start_opts(test_name, users, &o);
}

/*
 * Logs in as user and connects; returns how the connection ended: its
 * close reason (or the refusal's error) in why, after at most deadline_s.
 */
static void pt_connect_until_closed(const char *user, double deadline_s, char *why, size_t whylen)
{
	struct it_http h;
	char ticket[256], err[256];
	struct pgc_conn *c;
	int status;

	IT_ASSERT(it_login_http(user, it_password(user), false, &h) == 200, "login of %s: %d %s",
		  user, h.status, h.body);
	IT_ASSERT(it_json_str(h.body, "ticket", ticket, sizeof ticket), "no ticket in %s", h.body);
	c = it_connect_ticket(ticket, err, sizeof err, &status);
	if (c == NULL) {
		snprintf(why, whylen, "%s", err);
	} else {
		IT_ASSERT(it_wait_closed(c, deadline_s), "%s still connected after %.0f s", user,
			  deadline_s);
		snprintf(why, whylen, "%d %s", pgc_close_code(c), pgc_close_reason(c));
	}
	fprintf(stderr, "[%s] %s: %s\n", it.test_name, user, why);
}

/* 3. the browser refuses the download denial: the session does not start. */
IT_TEST(policy, session_does_not_start_when_the_browser_refuses_download_denial)
{
	static const char *const users[] = { "p3-ren", NULL };
	/* a fixed text: the browser's own words reach the log, never the terminal */
	const char *want = "session failed to start: the browser refused to deny downloads";
	const char *words = "refused by the fake browser";
	char why[512];

	pt_start_with_fake("policy_session_does_not_start_when_the_browser_refuses_download_denial",
			   users, "refuse");
	pt_connect_until_closed("p3-ren", IT_CLOSE_S, why, sizeof why);
	IT_ASSERT(strstr(why, want) != NULL, "the connection ended with \"%s\", want \"%s\"", why,
		  want);
	IT_ASSERT(strstr(why, words) == NULL, "the browser's words reached the viewer: \"%s\"",
		  why);
	IT_ASSERT(it_file_count(it.daemon_log, words) > 0,
		  "the gateway's log does not keep the browser's words \"%s\"", words);
	IT_ASSERT(it_file_count(it.daemon_log, "session ready") == 0,
		  "the worker said it was ready although the download denial was refused");
}

/* 4. the browser never answers: the session does not start, after the worker's 10 s. */
IT_TEST(policy, session_does_not_start_when_the_browser_does_not_answer)
{
	static const char *const users[] = { "p4-sora", NULL };
	const char *want = "session failed to start: the browser did not confirm that downloads "
			   "are denied";
	char why[512];
	double t0;

	pt_start_with_fake("policy_session_does_not_start_when_the_browser_does_not_answer", users,
			   "silent");
	t0 = it_now_s();
	pt_connect_until_closed("p4-sora", IT_CLOSE_S, why, sizeof why);
	IT_ASSERT(strstr(why, want) != NULL, "the connection ended with \"%s\", want \"%s\"", why,
		  want);
	IT_ASSERT(it_now_s() - t0 >= 9.0, "the session failed after %.1f s, before the 10 s wait",
		  it_now_s() - t0);
}

/* 5. a browser context whose downloads cannot be denied ends the session. */
IT_TEST(policy, a_browser_context_that_refuses_download_denial_ends_the_session)
{
	static const char *const users[] = { "p5-yui", NULL };
	const char *want = "session ended: the browser refused to deny downloads";
	char why[512];

	pt_start_with_fake("policy_a_browser_context_that_refuses_download_denial_ends_the_session",
			   users, "context");
	pt_connect_until_closed("p5-yui", PT_FAKE_CONTEXT_S + IT_CLOSE_S, why, sizeof why);
	IT_ASSERT(strstr(why, want) != NULL, "the connection ended with \"%s\", want \"%s\"", why,
		  want);
	IT_ASSERT(strstr(why, "fake browser") == NULL,
		  "the browser's words reached the viewer: \"%s\"", why);
	IT_ASSERT(it_file_count(it.daemon_log, "browser context FAKECONTEXT1: denying") == 1 &&
		      it_file_count(it.daemon_log, "browser context FAKECONTEXT2: denying") == 1,
		  "the worker did not deny downloads once in each of the two contexts");
}
