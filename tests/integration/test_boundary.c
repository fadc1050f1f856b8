/*
 * test_boundary.c: the boundary holds when the browser side turns hostile
 * (issue 10, "Done when" item 2).
 *
 * The sessions run pixelgate-session-inject, a test-only build of the worker
 * (proxy/session/session_inject.c; the production pixelgate-session has
 * none of it) that writes a hostile message into the viewer's real RFB
 * stream, at a message boundary, when its browser goes to a URL ending in
 * #pixelgate-inject-<kind>. The viewer triggers it as a user would, typing
 * the URL into the address bar; everything else is the real product (the
 * daemon, the cell, Xvfb, Chromium, squid). One test per kind, each with a
 * fresh world:
 *  - cuttext:  ServerCutText with a marker text (the clipboard is off);
 *  - encoding: a FramebufferUpdate with an RRE rectangle of marker pixels,
 *              an encoding the viewer never asked for (and the gateway
 *              never allows);
 *  - outside:  a Raw rectangle half past the framebuffer's right edge;
 *  - resize:   a DesktopSize of 16384x16384.
 * Each test asserts what the staff member and the security staff would see:
 * the viewer is closed with 4007 and "session ended for your safety", the
 * audit log has a server_protocol_violation record naming what was refused
 * and a session_end record with reason protocol_violation, the session is
 * gone (no worker process, not in the admin API, counted in
 * pixelgate_sessions_ended_total{reason="protocol_violation"}), and the
 * viewer never received the bad bytes.
 *
 * How "never received" is observed. The client core keeps no copy of the
 * stream; two things on the viewer's side would react to the bad bytes:
 *  - the client core's own guard (issue 10, item 3: the same parser as the
 *    gateway's, in front of libvncclient) closes the connection with its own reason, "the
 *    server sent data this viewer refuses: ...", when a bad byte reaches
 *    it: a close with that reason means the bytes got through the gateway;
 *  - behind it, the viewer's RFB decoder (libvncclient, watched through
 *    hooks set on pgc_rfb(c)) acts on each injected message in a way the
 *    test can see, should the guard ever let one through:
 *     - ServerCutText: libvncclient hands the text to GotXCutText (hooked:
 *       any call counts, the marker is looked for);
 *     - RRE: libvncclient decodes it (every encoding it has, asked for or
 *       not) into the framebuffer and calls GotFrameBufferUpdate (hooked:
 *       every updated rectangle is searched for the marker pixel, whose
 *       padding byte the real screen never sets; any rectangle past the
 *       edge counts too);
 *     - the out-of-bounds Raw rectangle: libvncclient refuses it itself
 *       ("Rect too large") and drops the connection, so the viewer's close
 *       would be its own "RFB error: ..." with code 0;
 *     - DesktopSize: libvncclient calls MallocFrameBuffer with the new size
 *       (hooked: any size other than the session's counts; the hook refuses
 *       it rather than allocate 1 GiB).
 * The gateway may pass the 4-byte FramebufferUpdate header before it
 * refuses the rectangle header (it checks each field once whole): that
 * header alone carries nothing, and libvncclient then waits for a rectangle
 * that never comes until the close.
 *
 * With the gateway's check disabled (relay_check_down() passing what it
 * refuses), every test here fails: the viewer's guard closes with its own
 * reason and the audit log has no record; with the guard taken out of the
 * client core as well, the decoder hooks see the bytes (the marker text,
 * the marker pixels, "Rect too large", a 16384x16384 framebuffer).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Constants the injecting worker uses (no libvncserver types in there). */
#include "../../proxy/session/session_inject.h"

#define BD_ADMIN "bd-admin"
#define BD_CLOSE_S 60 /* from the navigation to the close: URL typed, page loaded, injected */
#define BD_EVENT_S 30 /* a record in the audit log, the session gone */
#define BD_WIDTH 1024
#define BD_HEIGHT 768

/* ---- what the viewer's decoder saw (hooks on its libvncclient) ---------------- */

static struct {
	int width, height;      /* the session's framebuffer */
	int cut_texts;          /* ServerCutText messages decoded */
	bool cut_marker;        /* ... one of them with INJECT_CUT_TEXT */
	int marker_rects;       /* updated rectangles holding an injected pixel */
	int outside_rects;      /* updated rectangles past the framebuffer's edge */
	int resizes;            /* framebuffer (re)allocations to another size */
	int resize_w, resize_h; /* the last such size */
	void (*got_update)(rfbClient *, int, int, int, int);
	rfbBool (*malloc_fb)(rfbClient *);
	void (*got_cut)(rfbClient *, const char *, int);
} bd;

static void bd_got_cut(rfbClient *cl, const char *text, int len)
{
	bd.cut_texts++;
	if (len > 0 && memmem(text, (size_t)len, INJECT_CUT_TEXT, strlen(INJECT_CUT_TEXT)))
		bd.cut_marker = true;
	if (bd.got_cut)
		bd.got_cut(cl, text, len);
}

/* True if the rectangle (inside the framebuffer) has a pixel of INJECT_PIXEL_BYTES. */
static bool bd_has_marker(rfbClient *cl, int x, int y, int w, int h)
{
	static const uint8_t pixel[] = INJECT_PIXEL_BYTES;
	const uint8_t *fb = cl->frameBuffer;

	for (int row = y; row < y + h; row++)
		for (int col = x; col < x + w; col++)
			if (memcmp(fb + ((size_t)row * (size_t)cl->width + (size_t)col) * 4, pixel,
				   4) == 0)
				return true;
	return false;
}

static void bd_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	if (x < 0 || y < 0 || w < 0 || h < 0 || x + w > cl->width || y + h > cl->height)
		bd.outside_rects++;
	else if (bd_has_marker(cl, x, y, w, h))
		bd.marker_rects++;
	if (bd.got_update)
		bd.got_update(cl, x, y, w, h);
}

static rfbBool bd_malloc_fb(rfbClient *cl)
{
	if (cl->width != bd.width || cl->height != bd.height) {
		bd.resizes++;
		bd.resize_w = cl->width;
		bd.resize_h = cl->height;
		return FALSE; /* a real viewer would now allocate width * height * 4 */
	}
	return bd.malloc_fb(cl);
}

/*
 * Hooks the viewer's libvncclient (between pumps: the test's thread is the
 * one that drives it). The pixel search needs the 32-bit format the client
 * core asks for.
 */
static void bd_watch(struct pgc_conn *c)
{
	rfbClient *cl = pgc_rfb(c);

	IT_ASSERT(cl != NULL && cl->frameBuffer != NULL, "no framebuffer");
	IT_ASSERT(cl->format.bitsPerPixel == 32, "the viewer's pixel format has %d bits, want 32",
		  cl->format.bitsPerPixel);
	bd.width = cl->width;
	bd.height = cl->height;
	bd.got_update = cl->GotFrameBufferUpdate;
	bd.malloc_fb = cl->MallocFrameBuffer;
	bd.got_cut = cl->GotXCutText;
	cl->GotFrameBufferUpdate = bd_got_update;
	cl->MallocFrameBuffer = bd_malloc_fb;
	cl->GotXCutText = bd_got_cut;
	/* what was on screen before the injection holds no marker either */
	IT_ASSERT(!bd_has_marker(cl, 0, 0, cl->width, cl->height),
		  "the screen has the marker pixel before anything was injected");
}

/* ---- the test ------------------------------------------------------------------ */

static void bd_key(struct pgc_conn *c, uint32_t keysym, bool down)
{
	IT_ASSERT(pgc_key(c, keysym, down) == 0, "key 0x%x %s failed: %s", keysym,
		  down ? "down" : "up", pgc_close_reason(c));
	it_pump_for(c, 60);
}

/*
 * it_goto(), except that the connection may close as soon as Return goes
 * down: Chromium navigates on the press, and the injection follows within
 * milliseconds, so the release finds the viewer closed (not an error here).
 */
static void bd_goto(struct pgc_conn *c, const char *url)
{
	it_pump_for(c, 500);
	bd_key(c, 0xffe3, true); /* Control_L */
	bd_key(c, 'l', true);
	bd_key(c, 'l', false);
	bd_key(c, 0xffe3, false);
	it_pump_for(c, 500);
	IT_ASSERT(pgc_type_utf8(c, url) == 0, "typing %s failed: %s", url, pgc_close_reason(c));
	it_pump_for(c, 300);
	bd_key(c, 0xff0d, true); /* Return */
	(void)pgc_key(c, 0xff0d, false);
}

/* Sessions of user in the admin API. */
static int bd_sessions_of(const char *user)
{
	struct it_session s[16];
	int n = it_sessions(BD_ADMIN, s, 16), found = 0;

	for (int i = 0; i < n && i < 16; i++)
		found += strcmp(s[i].user, user) == 0;
	return found;
}

static double bd_ended_metric(void)
{
	struct it_http r;

	it_admin("GET", "/metrics", BD_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /metrics: %d %s", r.status, r.body);
	return it_metric(r.body, "pixelgate_sessions_ended_total{reason=\"protocol_violation\"}");
}

/* The manifest entry for path, or NULL. */
static json_t *bd_entry(json_t *manifest, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(manifest, "entries"), i, e)
		if (strcmp(it_rec_str(e, "path"), path) == 0)
			return e;
	return NULL;
}

/* The SHA-256 of file path in hex (out: 65 bytes). */
static void bd_sha256_file(const char *path, char *out)
{
	unsigned char d[32];
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	IT_ASSERT(f != NULL && md != NULL, "%s: %s", path, strerror(errno));
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	fclose(f);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/*
 * The session's directory was kept for security staff: forensics_kept in the
 * audit log, forensics_dir/session-<id> owner-only and the gateway user's,
 * what the hostile worker left in it copied or listed (the link not
 * followed, the FIFO not opened), the Xvfb screen as it was, listed by the
 * admin API (and pixelgatectl when with_ctl), then removed by an
 * administrator (audited), and gone.
 */
static void bd_check_kept(const char *user, const char *want_what, bool with_ctl)
{
	int n;
	json_t *rec = it_audit_wait(NULL, BD_EVENT_S, 1, &n, "forensics_kept", "user", user, NULL);
	if (rec == NULL) {
		json_t *failed = it_audit_find(NULL, "forensics_failed", "user", user, NULL);
		IT_ASSERT(failed == NULL, "forensics_failed: %s", it_rec_str(failed, "error"));
	}
	IT_ASSERT(rec != NULL, "no forensics_kept record of %s within %d s", user, BD_EVENT_S);
	IT_ASSERT(n == 1, "%d forensics_kept records of %s, want 1", n, user);
	char id[32], dir[700], path[800], sha[65], aud_sha[65];
	snprintf(id, sizeof id, "%s", it_rec_str(rec, "session"));
	snprintf(aud_sha, sizeof aud_sha, "%s", it_rec_str(rec, "manifest_sha256"));
	snprintf(dir, sizeof dir, "%s/forensics/session-%s", it.dir, id);
	fprintf(stderr, "[%s] audit: forensics_kept dir=%s files=%lld bytes=%lld truncated=%s\n",
		it.test_name, it_rec_str(rec, "dir"),
		(long long)json_integer_value(json_object_get(rec, "files")),
		(long long)json_integer_value(json_object_get(rec, "bytes")),
		json_is_true(json_object_get(rec, "truncated")) ? "yes" : "no");
	IT_ASSERT(strcmp(it_rec_str(rec, "dir"), dir) == 0, "forensics_kept names %s, want %s",
		  it_rec_str(rec, "dir"), dir);
	json_decref(rec);
	json_t *end = it_audit_find(NULL, "session_end", "user", user, NULL);
	IT_ASSERT(end != NULL && strcmp(it_rec_str(end, "forensics"), dir + strlen(dir) - 24) == 0,
		  "session_end does not name the kept directory (\"%s\")",
		  it_rec_str(end, "forensics"));
	json_decref(end);

	/* owner-only, the gateway's user's */
	struct stat st;
	struct passwd *gwu = getpwnam(IT_GATEWAY_USER);
	IT_ASSERT(gwu != NULL && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode), "%s: %s", dir,
		  strerror(errno));
	IT_ASSERT((st.st_mode & 07777) == 0700 && st.st_uid == gwu->pw_uid,
		  "%s has mode %o and owner %u, want 0700 and %s", dir, st.st_mode & 07777,
		  (unsigned)st.st_uid, IT_GATEWAY_USER);

	/* the manifest: what the worker left, and the screen */
	json_error_t je;
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_t *m = json_load_file(path, 0, &je);
	IT_ASSERT(m != NULL, "%s: %s", path, je.text);
	bd_sha256_file(path, sha);
	IT_ASSERT(strcmp(sha, aud_sha) == 0, "manifest.json's SHA-256 is %s, the audit says %s",
		  sha, aud_sha);
	json_t *e = bd_entry(m, INJECT_EVIDENCE_FILE);
	IT_ASSERT(e != NULL && strcmp(it_rec_str(e, "type"), "file") == 0,
		  "the manifest does not list the file the worker left");
	snprintf(path, sizeof path, "%s/%s", dir, it_rec_str(e, "stored"));
	char got[128] = "";
	FILE *f = fopen(path, "r");
	IT_ASSERT(f != NULL, "%s: %s", path, strerror(errno));
	size_t gl = fread(got, 1, sizeof got - 1, f);
	got[gl] = '\0';
	fclose(f);
	IT_ASSERT(strcmp(got, INJECT_EVIDENCE_TEXT) == 0, "the kept copy of %s holds \"%s\"",
		  INJECT_EVIDENCE_FILE, got);
	IT_ASSERT(lstat(path, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_uid == gwu->pw_uid,
		  "%s: mode %o owner %u, want 0600 %s", path, st.st_mode & 07777,
		  (unsigned)st.st_uid, IT_GATEWAY_USER);
	e = bd_entry(m, INJECT_ESCAPE_LINK);
	IT_ASSERT(e != NULL && strcmp(it_rec_str(e, "type"), "symlink") == 0 &&
		      strcmp(it_rec_str(e, "target"), INJECT_ESCAPE_TARGET) == 0 &&
		      json_object_get(e, "stored") == NULL,
		  "the link out of the directory is not listed as a link (or was followed)");
	e = bd_entry(m, INJECT_FIFO);
	IT_ASSERT(e != NULL && strcmp(it_rec_str(e, "type"), "fifo") == 0 &&
		      json_object_get(e, "stored") == NULL,
		  "the FIFO is not listed as one");
	e = bd_entry(m, "fb/Xvfb_screen0");
	IT_ASSERT(e != NULL && json_integer_value(json_object_get(e, "copied")) > 1024 * 768 * 4,
		  "the kept copy has not the screen (fb/Xvfb_screen0) as the session was killed");
	json_decref(m);
	snprintf(path, sizeof path, "%s/summary.json", dir);
	json_t *sum = json_load_file(path, 0, &je);
	IT_ASSERT(sum != NULL && strcmp(it_rec_str(sum, "user"), user) == 0 &&
		      strstr(it_rec_str(sum, "what"), want_what) != NULL,
		  "%s: user \"%s\" what \"%s\"", path, it_rec_str(sum, "user"),
		  it_rec_str(sum, "what"));
	json_decref(sum);

	/* the admin API lists it */
	struct it_http r;
	it_admin("GET", "/api/v1/forensics", BD_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200 && strstr(r.body, id) != NULL &&
		      strstr(r.body, "\"complete\"") != NULL,
		  "GET /api/v1/forensics: %d %s", r.status, r.body);
	char ctl[1200], out[4096], pwfile[700];
	if (with_ctl) {
		snprintf(pwfile, sizeof pwfile, "%s/admin.pw", it.dir);
		it_write_file(pwfile, it_password(BD_ADMIN), 0600);
		snprintf(ctl, sizeof ctl,
			 "%s/pixelgatectl --server https://127.0.0.1:%d --ca %s --user %s "
			 "--password-file %s",
			 PIXELGATE_BUILD_DIR, it.admin_port, it.ca_file, BD_ADMIN, pwfile);
		int rc = it_run(out, sizeof out, "%s forensics", ctl);
		fprintf(stderr, "[%s] pixelgatectl forensics: exit %d:\n%s", it.test_name, rc, out);
		IT_ASSERT(rc == 0 && strstr(out, id) != NULL && strstr(out, user) != NULL &&
			      strstr(out, "complete") != NULL,
			  "pixelgatectl forensics: exit %d: %s", rc, out);
		rc = it_run(out, sizeof out, "%s forensics del %s", ctl, id);
		IT_ASSERT(rc == 0, "pixelgatectl forensics del %s: exit %d: %s", id, rc, out);
	} else {
		snprintf(path, sizeof path, "/api/v1/forensics/%s", id);
		it_admin("DELETE", path, BD_ADMIN, NULL, &r);
		IT_ASSERT(r.status == 200, "DELETE %s: %d %s", path, r.status, r.body);
	}
	IT_ASSERT(lstat(dir, &st) != 0 && errno == ENOENT, "%s is still there after its removal",
		  dir);
	snprintf(path, sizeof path, "/api/v1/forensics/%s", id);
	it_admin("DELETE", path, BD_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 404, "a second DELETE %s: %d %s, want 404", path, r.status, r.body);
	/* audited: an admin_action remove_forensics naming the session */
	json_t *removed = it_audit_wait(NULL, BD_EVENT_S, 1, NULL, "admin_action", "action",
					"remove_forensics", "target", id, NULL);
	IT_ASSERT(removed != NULL, "no admin_action remove_forensics record for %s", id);
	json_decref(removed);
}

/*
 * One world, one session, one injection of kind; the gateway must refuse it
 * with an audit record whose "what" contains want_what.
 */
/* What must become of the session's directory. */
enum bd_keep {
	BD_KEEP_API, /* kept; listed and removed through the admin API */
	BD_KEEP_CTL, /* kept; listed and removed with pixelgatectl */
	BD_NOT_KEPT, /* the worker mounted something over it: refused */
};

/*
 * The worker put /usr over its directory (in namespaces of its own) before
 * it misbehaved: nothing is copied, forensics_failed says why.
 */
static void bd_check_not_kept(const char *user)
{
	IT_ASSERT(it_file_count(it.daemon_log,
				"TEST BUILD: mounted /usr over the session's "
				"directory") == 1,
		  "the worker could not mount over its directory (see the daemon log): the test "
		  "does not test what it says");
	json_t *rec = it_audit_wait(NULL, BD_EVENT_S, 1, NULL, "forensics_failed", "user", user,
				    NULL);
	IT_ASSERT(rec != NULL, "no forensics_failed record of %s within %d s", user, BD_EVENT_S);
	fprintf(stderr, "[%s] audit: forensics_failed error=\"%s\"\n", it.test_name,
		it_rec_str(rec, "error"));
	IT_ASSERT(strstr(it_rec_str(rec, "error"), "not the session's own tmpfs directory") != NULL,
		  "forensics_failed says \"%s\"", it_rec_str(rec, "error"));
	json_decref(rec);
	rec = it_audit_find(NULL, "forensics_kept", "user", user, NULL);
	IT_ASSERT(rec == NULL, "a forensics_kept record although /usr was mounted there");
	char dir[700];
	snprintf(dir, sizeof dir, "%s/forensics", it.dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	int kept = 0;
	while (d != NULL && (e = readdir(d)) != NULL)
		kept += strncmp(e->d_name, "session-", 8) == 0;
	if (d != NULL)
		closedir(d);
	IT_ASSERT(kept == 0, "%d directories in %s although nothing was to be kept", kept, dir);
}

static void bd_run_conf(const char *kind, const char *user, const char *want_what,
			enum bd_keep keep, const char *extra_conf)
{
	static const char *const admins[] = { BD_ADMIN, NULL };
	const char *const users[] = { user, NULL };
	struct it_opts o = { .admins = admins,
			     .session_binary = PIXELGATE_BUILD_DIR "/pixelgate-session-inject",
			     .extra_conf = extra_conf };
	char test_name[64], url[256], line[64];
	struct it_rect block;
	pid_t workers[8];
	double t0 = it_now_s();

	snprintf(test_name, sizeof test_name, "boundary_%s", kind);
	it_start_opts(test_name, users, &o);
	struct pgc_conn *c = it_open_page(user, BD_WIDTH, BD_HEIGHT, &block);
	double t_page = it_now_s();

	bd_watch(c);
	IT_ASSERT(it_workers(workers, 8) == 1, "%d session workers, want 1",
		  it_workers(workers, 8));
	IT_ASSERT(bd_ended_metric() == 0,
		  "sessions_ended_total{reason=\"protocol_violation\"} is %g before the injection",
		  bd_ended_metric());

	/* the user goes to the page that makes the worker misbehave */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/page2.html" INJECT_FRAGMENT "%s",
		 it.page_port, kind);
	bd_goto(c, url);
	bool closed = it_wait_closed(c, BD_CLOSE_S);
	double t_closed = it_now_s();

	/* the worker really wrote the bytes into the viewer's stream (its log
	   reaches the daemon's through a pipe: it may come after the close) */
	snprintf(line, sizeof line, "TEST BUILD: injecting %s (", kind);
	for (double until = it_now_s() + BD_EVENT_S;
	     it_file_count(it.daemon_log, line) == 0 && it_now_s() < until;)
		it_sleep_ms(100);
	IT_ASSERT(it_file_count(it.daemon_log, line) == 1,
		  "the worker's log has %d \"%s\" lines, want 1 (the trigger did not fire?)",
		  it_file_count(it.daemon_log, line), line);

	/* the viewer never got them */
	fprintf(stderr,
		"[%s] decoder saw: %d cut texts (marker %s), %d rectangles with the marker pixel, "
		"%d past the edge, %d resizes (last %dx%d); viewer %s: %d \"%s\"\n",
		it.test_name, bd.cut_texts, bd.cut_marker ? "yes" : "no", bd.marker_rects,
		bd.outside_rects, bd.resizes, bd.resize_w, bd.resize_h,
		closed ? "closed" : "still open", pgc_close_code(c), pgc_close_reason(c));
	IT_ASSERT(bd.cut_texts == 0 && !bd.cut_marker,
		  "the viewer's decoder got %d ServerCutText message(s)%s", bd.cut_texts,
		  bd.cut_marker ? ", one with the injected text" : "");
	IT_ASSERT(bd.marker_rects == 0,
		  "the viewer's decoder drew the injected pixels (%d rectangles)", bd.marker_rects);
	IT_ASSERT(bd.outside_rects == 0,
		  "the viewer's decoder got %d rectangle(s) past the framebuffer's edge",
		  bd.outside_rects);
	IT_ASSERT(bd.resizes == 0, "the viewer's decoder was asked for a %dx%d framebuffer",
		  bd.resize_w, bd.resize_h);
	IT_ASSERT(strncmp(pgc_close_reason(c), "RFB error", 9) != 0,
		  "the viewer's decoder refused the stream itself: \"%s\" (the bad bytes got to it)",
		  pgc_close_reason(c));
	IT_ASSERT(strstr(pgc_close_reason(c), "the server sent data this viewer refuses") == NULL,
		  "the viewer's own guard refused the stream: %d \"%s\" (the bad bytes got through "
		  "the gateway)",
		  pgc_close_code(c), pgc_close_reason(c));

	/* ... and was closed by the gateway, for its safety */
	IT_ASSERT(closed, "the viewer is still connected %d s after going to %s", BD_CLOSE_S, url);
	IT_ASSERT(pgc_close_code(c) == 4007 &&
		      strstr(pgc_close_reason(c), "session ended for your safety") != NULL,
		  "the viewer was closed with %d \"%s\", want 4007 \"session ended for your "
		  "safety: ...\"",
		  pgc_close_code(c), pgc_close_reason(c));

	/* the security staff can read what happened */
	int n;
	json_t *v = it_audit_wait(NULL, BD_EVENT_S, 1, &n, "server_protocol_violation", "user",
				  user, NULL);
	IT_ASSERT(v != NULL, "no server_protocol_violation record of %s within %d s", user,
		  BD_EVENT_S);
	fprintf(stderr, "[%s] audit: server_protocol_violation what=\"%s\"\n", it.test_name,
		it_rec_str(v, "what"));
	IT_ASSERT(n == 1, "%d server_protocol_violation records of %s, want 1", n, user);
	IT_ASSERT(strstr(it_rec_str(v, "what"), want_what) != NULL,
		  "server_protocol_violation says \"%s\", want it to name \"%s\"",
		  it_rec_str(v, "what"), want_what);
	json_decref(v);
	json_t *end = it_audit_wait(NULL, BD_EVENT_S, 1, NULL, "session_end", "user", user, NULL);
	IT_ASSERT(end != NULL, "no session_end record of %s within %d s", user, BD_EVENT_S);
	IT_ASSERT(strcmp(it_rec_str(end, "reason"), "protocol_violation") == 0,
		  "session_end has reason \"%s\", want \"protocol_violation\"",
		  it_rec_str(end, "reason"));
	json_decref(end);

	/* the session is gone, not kept for a reconnect */
	double until = it_now_s() + BD_EVENT_S;
	while ((it_workers(workers, 8) > 0 || bd_sessions_of(user) > 0) && it_now_s() < until)
		it_sleep_ms(200);
	IT_ASSERT(it_workers(workers, 8) == 0,
		  "%d session worker(s) still running %d s after the close", it_workers(workers, 8),
		  BD_EVENT_S);
	IT_ASSERT(bd_sessions_of(user) == 0, "the admin API still lists a session of %s", user);
	IT_ASSERT(bd_ended_metric() == 1,
		  "sessions_ended_total{reason=\"protocol_violation\"} is %g, want 1",
		  bd_ended_metric());
	if (keep == BD_NOT_KEPT)
		bd_check_not_kept(user);
	else
		bd_check_kept(user, want_what, keep == BD_KEEP_CTL);
	fprintf(stderr,
		"[%s] page after %.1f s, closed %.1f s after the navigation, done in %.1f s\n",
		it.test_name, t_page - t0, t_closed - t_page, it_now_s() - t0);
}

static void bd_run(const char *kind, const char *user, const char *want_what, enum bd_keep keep)
{
	bd_run_conf(kind, user, want_what, keep, NULL);
}

/* With clipboard_to_terminal on, a ServerCutText whose text turns hostile
   midway: none of it (the plain start included) reaches the viewer, whose
   stream would otherwise read the text as messages. */
IT_TEST(boundary, cut_text_turning_hostile_midway_never_reaches_the_viewer, .timeout = 240)
{
	bd_run_conf(INJECT_KIND_CUTTEXT_MIDWAY, "bd-cutmid", "ServerCutText with byte 0x1b",
		    BD_KEEP_API, "[policy]\nclipboard_to_terminal = true\n");
}

/* With clipboard_to_terminal on, a worker writing 30 copies at once: the
   gateway lets 20 through in the window, records one refusal for the rest,
   and the session goes on (a flood of copies is no protocol violation). */
IT_TEST(boundary, a_flood_of_copies_is_cut_at_twenty, .timeout = 240)
{
	static const char *const users[] = { "bd-flood", NULL };
	struct it_opts o = { .session_binary = PIXELGATE_BUILD_DIR "/pixelgate-session-inject",
			     .extra_conf = "[policy]\nclipboard_to_terminal = true\n" };
	struct it_rect block;
	char url[256], got[64];
	int n;

	it_start_opts("boundary_cuttext_flood", users, &o);
	struct pgc_conn *c = it_open_page("bd-flood", BD_WIDTH, BD_HEIGHT, &block);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/page2.html" INJECT_FRAGMENT "%s",
		 it.page_port, INJECT_KIND_CUTTEXT_FLOOD);
	bd_goto(c, url);
	for (double end = it_now_s() + BD_EVENT_S;
	     it_audit_count("clipboard", "user", "bd-flood", "result", "refused", NULL) == 0 &&
	     it_now_s() < end;)
		it_pump_for(c, 200);
	it_pump_for(c, 1000);
	uint64_t copies = pgc_last_clipboard(c, got, sizeof got);
	IT_ASSERT(!pgc_closed(c), "the session ended: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	IT_ASSERT(copies == 20 && strcmp(got, "t") == 0,
		  "%llu copies reached the viewer (the last \"%s\"), want 20 (the last \"t\")",
		  (unsigned long long)copies, got);
	json_t *rec = it_audit_find(&n, "clipboard", "user", "bd-flood", "result", "refused", NULL);
	IT_ASSERT(n == 1 &&
		      strstr(it_rec_str(rec, "reason"), "more than 20 copies in 10 s") != NULL,
		  "%d refused records (%s)", n, rec ? it_rec_str(rec, "reason") : "-");
	json_decref(rec);
	IT_ASSERT(it_audit_count("clipboard", "user", "bd-flood", "result", "passed", NULL) == 20,
		  "%d passed records, want 20",
		  it_audit_count("clipboard", "user", "bd-flood", "result", "passed", NULL));
	it_conn_free(c);
}

/* A worker sending 300 browser events at once: at most 200 in 10 s are
   audited, one record says the rest were dropped, the session goes on. */
IT_TEST(boundary, a_flood_of_browser_events_is_cut_at_two_hundred, .timeout = 240)
{
	static const char *const users[] = { "bd-events", NULL };
	struct it_opts o = { .session_binary = PIXELGATE_BUILD_DIR "/pixelgate-session-inject" };
	struct it_rect block;
	char url[256];

	it_start_opts("boundary_event_flood", users, &o);
	struct pgc_conn *c = it_open_page("bd-events", BD_WIDTH, BD_HEIGHT, &block);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/page2.html" INJECT_FRAGMENT "%s",
		 it.page_port, INJECT_KIND_EVENT_FLOOD);
	bd_goto(c, url);
	for (double end = it_now_s() + BD_EVENT_S;
	     it_audit_count("browser_events_dropped", "user", "bd-events", NULL) == 0 &&
	     it_now_s() < end;)
		it_pump_for(c, 200);
	it_pump_for(c, 1000);
	int flood = it_audit_count("navigate", "user", "bd-events", "title", "flood", NULL);
	IT_ASSERT(it_audit_count("browser_events_dropped", "user", "bd-events", NULL) == 1,
		  "%d browser_events_dropped records, want 1",
		  it_audit_count("browser_events_dropped", "user", "bd-events", NULL));
	IT_ASSERT(flood >= 150 && flood <= 200,
		  "%d of the %d injected events audited, want at most 200 (and most of them)",
		  flood, INJECT_FLOOD_EVENTS);
	IT_ASSERT(!pgc_closed(c) && it_pump_for(c, 500), "the session ended: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));
	it_conn_free(c);
}

IT_TEST(boundary, server_cut_text_never_reaches_the_viewer, .timeout = 240)
{
	bd_run(INJECT_KIND_CUTTEXT, "bd-cut", "ServerCutText", BD_KEEP_CTL);
}

IT_TEST(boundary, unrequested_encoding_never_reaches_the_viewer, .timeout = 240)
{
	bd_run(INJECT_KIND_ENCODING, "bd-rre", "encoding 2 (RRE)", BD_KEEP_API);
}

IT_TEST(boundary, rectangle_outside_the_screen_never_reaches_the_viewer, .timeout = 240)
{
	bd_run(INJECT_KIND_OUTSIDE, "bd-edge", "outside the 1024x768 framebuffer", BD_KEEP_API);
}

IT_TEST(boundary, desktop_resize_never_reaches_the_viewer, .timeout = 240)
{
	bd_run(INJECT_KIND_RESIZE, "bd-size", "DesktopSize 16384x16384", BD_KEEP_API);
}

/* A worker that mounts something over its own directory gets nothing of it copied. */
IT_TEST(boundary, a_directory_mounted_over_is_not_copied, .timeout = 240)
{
	bd_run(INJECT_KIND_MOUNT, "bd-mnt", "ServerCutText", BD_NOT_KEPT);
}
