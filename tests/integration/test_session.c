/*
 * test_session.c: one staff member's isolated browsing session, end to end.
 *
 * Each test starts its own daemon, page server and users (harness.c) and
 * drives the session with the client core, as the viewer would: pixels come
 * back, pointer and key events go out. Issue 2, integration tests 1, 2, 3, 6
 * and 7.
 */
#include "harness.h"

#include <ftw.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True if the pixel at (x, y) is (near) white, the page's background. */
static bool is_white(struct pgc_conn *c, int x, int y)
{
	rfbClient *cl = pgc_rfb(c);
	const uint8_t *p;

	if (x < 0 || y < 0 || x >= cl->width || y >= cl->height)
		return false;
	p = (const uint8_t *)cl->frameBuffer + ((size_t)y * (size_t)cl->width + (size_t)x) * 4;
	/* the channels' order does not matter for white */
	return p[0] >= 240 && p[1] >= 240 && p[2] >= 240;
}

/* 1. login + connect: the first complete frame shows the test page. */
IT_TEST(session, first_frame_shows_test_page)
{
	static const char *const users[] = { "t1-alice", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	rfbClient *cl;

	it_start("session_first_frame_shows_test_page", users);
	c = it_open_page("t1-alice", 0, 0, &r);
	cl = pgc_rfb(c);
	IT_ASSERT(cl->width == 1280 && cl->height == 800, "default screen is %dx%d, want 1280x800",
		  cl->width, cl->height);
	IT_ASSERT(cl->format.bitsPerPixel == 32, "client pixel format %d bpp",
		  cl->format.bitsPerPixel);
	/* where the page says, below the browser's own bar (tabs, address bar) */
	IT_ASSERT(r.x >= PAGE_BLOCK_X && r.x <= PAGE_BLOCK_X + 16,
		  "block at x=%d, want %d (+ at most a window border)", r.x, PAGE_BLOCK_X);
	IT_ASSERT(r.y >= PAGE_BLOCK_Y && r.y <= PAGE_BLOCK_Y + 200,
		  "block at y=%d, want %d + the browser's toolbar height", r.y, PAGE_BLOCK_Y);
	IT_ASSERT(r.w == PAGE_BLOCK_W && r.h == PAGE_BLOCK_H, "block is %dx%d, want %dx%d", r.w,
		  r.h, PAGE_BLOCK_W, PAGE_BLOCK_H);
	/* and it sits on the page's white background */
	IT_ASSERT(is_white(c, r.x - 20, r.y + r.h / 2) &&
		      is_white(c, r.x + r.w + 20, r.y + r.h / 2) &&
		      is_white(c, r.x + r.w / 2, r.y + r.h + 10),
		  "the block's surroundings are not the page's white background");
	IT_ASSERT(!pgc_closed(c), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
}

/* 2. input: click into the field, type Japanese text; the page reports exactly it. */
IT_TEST(session, typed_text_reaches_the_page)
{
	static const char *const users[] = { "t2-bob", NULL };
	const char *text = "abc 日本語";
	struct it_rect r;
	struct pgc_conn *c;
	char last[512];
	bool ok;

	it_start("session_typed_text_reaches_the_page", users);
	c = it_open_page("t2-bob", 0, 0, &r);
	IT_ASSERT(it_page_get("/last", last, sizeof last) == 200 && last[0] == '\0',
		  "page server already has a report: \"%s\"", last);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, text) == 0, "typing failed: %s", pgc_close_reason(c));
	ok = it_wait_last(text, IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after typing \"%s\" the page reported \"%s\" (%s)", text, last,
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	/* nothing more arrives later (no doubled or stray key events) */
	it_pump_for(c, 2000);
	IT_ASSERT(it_page_get("/last", last, sizeof last) == 200 && strcmp(last, text) == 0,
		  "the page's value changed after typing ended: \"%s\"", last);
}

/* 2b. a burst of more characters without a key than there are spare keycodes
   (some repeated, digits and a click between them), sent without waiting:
   the worker remaps while it goes on serving, and the page gets every
   character once, in order, the click included (it puts the caret at the
   start, so the last "X" lands in front). */
IT_TEST(session, a_burst_of_japanese_arrives_in_order)
{
	static const char *const users[] = { "t2b-bob", NULL };
	static const char text[] = "窓口は8時から、土日は休み。Ωé¥"; /* fits the field */
	struct it_rect r;
	struct pgc_conn *c;
	char last[512], want[512];
	bool ok;

	it_start("session_a_burst_of_japanese_arrives_in_order", users);
	c = it_open_page("t2b-bob", 0, 0, &r);
	it_focus_field(c, &r);
	int x = it_page_to_screen_x(&r, PAGE_FIELD_X + 4);
	int y = it_page_to_screen_y(&r, PAGE_FIELD_Y + PAGE_FIELD_H / 2);
	double t0 = it_now_s();
	IT_ASSERT(pgc_type_utf8(c, text) == 0 && pgc_pointer(c, x, y, 0) == 0 &&
		      pgc_pointer(c, x, y, 1) == 0 && pgc_pointer(c, x, y, 0) == 0 &&
		      pgc_type_utf8(c, "X") == 0,
		  "sending failed: %s", pgc_close_reason(c));
	snprintf(want, sizeof want, "X%s", text);
	ok = it_wait_last(want, IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after the burst the page reported \"%s\", want \"%s\" (%s)", last, want,
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	fprintf(stderr, "burst of %zu bytes typed and reported in %.0f ms\n", strlen(want),
		(it_now_s() - t0) * 1000);
	/* more new characters than the X server has spare keycodes (19 in
	   Xvfb's): some spares are remapped again once the page has read them */
	static const char more[] = "住民票の写しと印鑑登録証明書を申請する方へ、平日午前";
	IT_ASSERT(pgc_type_utf8(c, more) == 0, "sending failed: %s", pgc_close_reason(c));
	snprintf(want, sizeof want, "X%s%s", more, text); /* the caret is after the X */
	ok = it_wait_last(want, IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after the second burst the page reported \"%s\", want \"%s\" (%s)", last,
		  want, pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	it_pump_for(c, 1000);
	IT_ASSERT(it_page_get("/last", last, sizeof last) == 200 && strcmp(last, want) == 0,
		  "the page's value changed after typing ended: \"%s\"", last);
}

static bool sc_log_wait(const char *needle, double seconds);

/* 2c. A viewer that sends new characters faster than the spare keycodes can
   be remapped (presses only, 100 a second after a burst of 400: what the
   relay lets through): the worker stops reading it once 768 events wait
   ("holding the viewer"), reads it again as they go, and every character
   arrives once, in order; the session goes on. */
IT_TEST(session, input_faster_than_the_remaps_is_held_back, .timeout = 240)
{
	static const char *const users[] = { "t2c-bob", NULL };
	enum { N = 1200 };
	static char want[N * 3 + 1];
	static char last[N * 3 + 64];
	struct it_rect r;
	struct pgc_conn *c;
	size_t len = 0;

	it_start("session_input_faster_than_the_remaps_is_held_back", users);
	c = it_open_page("t2c-bob", 0, 0, &r);
	it_focus_field(c, &r);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t cp = 0x4e00 + i; /* CJK ideographs: three bytes of UTF-8 each */
		want[len++] = (char)(0xe0 | (cp >> 12));
		want[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		want[len++] = (char)(0x80 | (cp & 0x3f));
		IT_ASSERT(pgc_key(c, 0x01000000u + cp, true) == 0, "key %u failed: %s", i,
			  pgc_close_reason(c));
	}
	want[len] = '\0';
	bool ok = it_wait_last(want, 120, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after %d new characters the page reported %zu bytes, want %zu (%s)", N,
		  strlen(last), len, pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	IT_ASSERT(sc_log_wait("holding the viewer:", 1), "the worker never held the viewer back");
	IT_ASSERT(sc_log_wait("reading the viewer:", 1),
		  "the worker held the viewer back and never read it again");
	IT_ASSERT(!pgc_closed(c), "the connection closed: %s", pgc_close_reason(c));
}

/* Number of /download.bin requests the page server saw. */
static int page_downloads(void)
{
	char body[256];
	const char *p;

	if (it_page_get("/stats", body, sizeof body) != 200)
		return -1;
	p = strstr(body, "\"downloads\":");
	return p ? atoi(p + strlen("\"downloads\":")) : -1;
}

/* 3. a download link is clicked: nothing lands under the session's
   directory, and the session goes on. */
IT_TEST(session, download_is_not_written)
{
	static const char *const users[] = { "t3-carol", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	char last[512];
	double end;
	uint64_t frames;
	bool ok;

	it_start("session_download_is_not_written", users);
	c = it_open_page("t3-carol", 0, 0, &r);
	it_click(c, it_page_to_screen_x(&r, PAGE_LINK_X + PAGE_LINK_W / 2),
		 it_page_to_screen_y(&r, PAGE_LINK_Y + PAGE_LINK_H / 2));
	end = it_now_s() + 30;
	while (page_downloads() < 1 && it_now_s() < end)
		it_pump_for(c, 200);
	IT_ASSERT(page_downloads() >= 1,
		  "the browser never requested /download.bin after the link was clicked");
	/* the mechanism that stopped it: the worker's CDP download denial (the
	   policy's DownloadRestrictions alone would not say so) */
	for (end = it_now_s() + 20;
	     it_file_count(it.daemon_log, ": download_blocked http") < 1 && it_now_s() < end;)
		it_pump_for(c, 200);
	IT_ASSERT(it_file_count(it.daemon_log, ": download_blocked http") == 1,
		  "the gateway did not log one download_blocked event from the worker (%d)",
		  it_file_count(it.daemon_log, ": download_blocked http"));
	/* give a download every chance to be written */
	IT_ASSERT(it_pump_for(c, 5000), "connection closed after the download: %d %s",
		  pgc_close_code(c), pgc_close_reason(c));

	/* everything the session can write is in its cell: its directory, /tmp,
	   /dev/shm and /var/tmp (the host's file systems are read-only there) */
	pid_t worker;
	static const char *const where[] = { "", "/tmp", "/dev/shm", "/var/tmp" };
	char root[600];

	IT_ASSERT(it_workers(&worker, 1) == 1, "no session worker");
	struct it_download_walk walk;

	memset(&walk, 0, sizeof walk);
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		IT_ASSERT(it_cell_path(worker, where[i][0] ? where[i] : it.runtime_dir, root,
				       sizeof root),
			  "no %s in the session's cell", where[i][0] ? where[i] : it.runtime_dir);
		IT_ASSERT(it_walk_for_download(root, &walk), "cannot walk %s", root);
	}
	IT_ASSERT(walk.files > 0, "no file at all in the session's cell (%s)", root);
	fprintf(stderr, "[%s] %d files in the session's cell, checked for the download\n",
		it.test_name, walk.files);
	IT_ASSERT(walk.bad == 0,
		  "the download was written in the session's cell (%d of %d files):%s", walk.bad,
		  walk.files, walk.report);

	/* the session goes on: it still takes input and sends frames */
	frames = pgc_frames(c);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, "ok") == 0, "typing failed: %s", pgc_close_reason(c));
	ok = it_wait_last("ok", IT_REPORT_S, c, NULL, last, sizeof last);
	IT_ASSERT(ok, "after the download the page reported \"%s\", want \"ok\" (%s)", last,
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	end = it_now_s() + 20;
	while (pgc_frames(c) == frames && it_now_s() < end && !pgc_closed(c))
		pgc_pump(c, 200);
	IT_ASSERT(pgc_frames(c) > frames, "no frame after typing into the page (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
}

/* 6. once the page is static, the connection carries no bytes for 5 s. */
IT_TEST(capture, static_page_sends_nothing)
{
	static const char *const users[] = { "t6-dave", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	uint64_t b0, f0, b1, f1;
	double end;
	bool settled = false;

	it_start("capture_static_page_sends_nothing", users);
	c = it_open_page("t6-dave", 0, 0, &r);
	/* page load and the browser's loading indicator end: wait for 2 s of quiet */
	end = it_now_s() + 60;
	while (!settled && it_now_s() < end) {
		b0 = pgc_bytes_in(c);
		IT_ASSERT(it_pump_for(c, 2000), "connection closed: %d %s", pgc_close_code(c),
			  pgc_close_reason(c));
		settled = pgc_bytes_in(c) == b0;
	}
	IT_ASSERT(settled,
		  "the screen never stayed unchanged for 2 s within 60 s of the page "
		  "showing (capture polls, or something on screen animates)");

	b0 = pgc_bytes_in(c);
	f0 = pgc_frames(c);
	IT_ASSERT(it_pump_for(c, 5000), "connection closed: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	b1 = pgc_bytes_in(c);
	f1 = pgc_frames(c);
	IT_ASSERT(b1 == b0, "a static page sent %llu bytes (%llu frames) in 5 s",
		  (unsigned long long)(b1 - b0), (unsigned long long)(f1 - f0));

	/* the quiet was not a dead connection: a change on screen does arrive */
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, "x") == 0, "typing failed: %s", pgc_close_reason(c));
	end = it_now_s() + 20;
	while (pgc_bytes_in(c) == b1 && it_now_s() < end && !pgc_closed(c))
		pgc_pump(c, 200);
	IT_ASSERT(pgc_bytes_in(c) > b1, "no bytes after typing into the page (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
}

#define SC_XK_PAGE_DOWN 0xff56

/* CopyRects the viewer got, counted around libvncclient's own handler. */
static int sc_copyrects;
static GotCopyRectProc sc_copyrect_orig;

static void sc_copyrect(rfbClient *cl, int sx, int sy, int w, int h, int dx, int dy)
{
	sc_copyrects++;
	sc_copyrect_orig(cl, sx, sy, w, h, dx, dy);
}

/* Pumps c until nothing arrived for quiet_ms; false if that took over deadline_s. */
static bool sc_settle(struct pgc_conn *c, int quiet_ms, double deadline_s)
{
	double end = it_now_s() + deadline_s;
	while (it_now_s() < end) {
		uint64_t b = pgc_bytes_in(c);
		if (!it_pump_for(c, quiet_ms))
			return false;
		if (pgc_bytes_in(c) == b)
			return true;
	}
	return false;
}

/* Writes the picture to the kept logs' directory as a PPM, for a failure. */
static void sc_dump(const char *name, const uint8_t *fb, int w, int h)
{
	char path[320];
	snprintf(path, sizeof path, "/tmp/pixelgate-it-logs/%s-%s.ppm", it.test_name, name);
	mkdir("/tmp/pixelgate-it-logs", 0755);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return;
	fprintf(f, "P6\n%d %d\n255\n", w, h);
	for (int i = 0; i < w * h; i++) {
		uint32_t p;
		memcpy(&p, fb + (size_t)i * 4, 4);
		uint8_t rgb[3] = { (uint8_t)p, (uint8_t)(p >> 8), (uint8_t)(p >> 16) };
		fwrite(rgb, 1, 3, f);
	}
	fclose(f);
	fprintf(stderr, "*** kept %s\n", path);
}

/*
 * Pictures a and b (w x h, 32 bpp) compared: pixels that differ outside the
 * box [bx0, bx1) x [by0, by1) (an empty box: everywhere) into *differ, the
 * first of them into *first (-1: none); within the box the PSNR (dB, 99
 * for identical), returned. On a difference both are kept as PPMs.
 */
static double sc_compare(const uint8_t *a, const uint8_t *b, int w, int h, int bx0, int by0,
			 int bx1, int by1, long *differ, long *first)
{
	double sq = 0;
	long inside = 0;
	*differ = 0;
	*first = -1;
	for (size_t i = 0; i < (size_t)w * (size_t)h * 4; i += 4) {
		int x = (int)(i / 4 % (size_t)w), y = (int)(i / 4 / (size_t)w);
		if (x >= bx0 && x < bx1 && y >= by0 && y < by1) {
			for (int k = 0; k < 3; k++)
				sq += (double)(a[i + k] - b[i + k]) * (a[i + k] - b[i + k]);
			inside += 3;
		} else if (memcmp(a + i, b + i, 3) != 0) {
			if (*first < 0)
				*first = (long)(i / 4);
			(*differ)++;
		}
	}
	if (*differ != 0) {
		sc_dump("seen", a, w, h);
		sc_dump("reference", b, w, h);
	}
	return sq == 0 ? 99 : 10 * log10(255.0 * 255.0 / (sq / (double)inside));
}

/*
 * 7. Scrolling is sent as CopyRect (the block that moved) plus the strip that
 * came into view, and the picture the viewer builds from them is the one a
 * full refresh of the screen gives.
 */
static void sc_scrolled_picture(const char *name, const char *user, const struct it_opts *o)
{
	const char *const users[] = { user, NULL };
	struct it_rect r;
	struct pgc_conn *c;
	rfbClient *cl;
	char url[160];
	size_t len;
	uint64_t b0, full_bytes, scroll_bytes;
	static uint8_t before[4096 * 4096 * 4], scrolled[4096 * 4096 * 4];

	it_start_opts(name, users, o);
	c = it_open_page(user, 0, 0, &r);
	cl = pgc_rfb(c);
	sc_copyrect_orig = cl->GotCopyRect;
	cl->GotCopyRect = sc_copyrect;
	/* lossless (Tight without JPEG), so that two pictures can be compared exactly */
	cl->appData.enableJPEG = FALSE;
	IT_ASSERT(SetFormatAndEncodings(cl), "cannot ask for lossless encodings");
	snprintf(url, sizeof url, "http://127.0.0.1:%d/long.html", it.page_port);
	it_goto(c, url);
	IT_ASSERT(sc_settle(c, 1500, 60), "the long page did not settle within 60 s");
	/* the start: a lossless picture of the whole screen (what came before may be JPEG) */
	b0 = pgc_bytes_in(c);
	IT_ASSERT(SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height, FALSE),
		  "cannot ask for a full update");
	IT_ASSERT(sc_settle(c, 1000, 30), "no full update");
	full_bytes = pgc_bytes_in(c) - b0;
	len = (size_t)cl->width * (size_t)cl->height * 4;
	IT_ASSERT(len <= sizeof before, "a screen of %dx%d", cl->width, cl->height);
	memcpy(before, cl->frameBuffer, len);
	sc_copyrects = 0;
	b0 = pgc_bytes_in(c);
	for (int i = 0; i < 3; i++) {
		IT_ASSERT(pgc_key(c, SC_XK_PAGE_DOWN, true) == 0 &&
			      pgc_key(c, SC_XK_PAGE_DOWN, false) == 0,
			  "Page_Down: %s", pgc_close_reason(c));
		IT_ASSERT(sc_settle(c, 1000, 30), "the page did not settle after Page_Down");
	}
	memcpy(scrolled, cl->frameBuffer, len);
	scroll_bytes = pgc_bytes_in(c) - b0;
	IT_ASSERT(memcmp(before, scrolled, len) != 0, "Page_Down did not change the picture");
	fprintf(stderr,
		"[%s] %d CopyRects and %llu bytes for 3 x Page_Down; a full screen is %llu bytes\n",
		it.test_name, sc_copyrects, (unsigned long long)scroll_bytes,
		(unsigned long long)full_bytes);
	IT_ASSERT(sc_copyrects > 0, "the scrolling came without any CopyRect");
	/* each Page_Down shows most of a new screen: about 3 full screens for
	   the three (with Chromium's smooth scrolling, which the worker turns
	   off, 5 with CopyRect and 18 without: both measured) */
	IT_ASSERT(scroll_bytes < 10 * full_bytes,
		  "3 x Page_Down cost %llu bytes, %.1f full screens: the moved blocks were sent "
		  "again",
		  (unsigned long long)scroll_bytes, (double)scroll_bytes / (double)full_bytes);

	/* the whole screen again, not incremental: what the server has */
	IT_ASSERT(SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height, FALSE),
		  "cannot ask for a full update");
	IT_ASSERT(sc_settle(c, 1000, 30), "no full update");
	long differ, first;
	sc_compare(scrolled, (const uint8_t *)cl->frameBuffer, cl->width, cl->height, 0, 0, 0, 0,
		   &differ, &first);
	IT_ASSERT(differ == 0,
		  "%ld pixels of the scrolled picture differ from a full refresh (the first at "
		  "%ld,%ld)",
		  differ, first % cl->width, first / cl->width);
}

IT_TEST(capture, scrolled_picture_equals_a_full_refresh)
{
	struct it_opts o = { 0 };
	sc_scrolled_picture("capture_scrolled_picture_equals_a_full_refresh", "t8-fumi", &o);
}

/*
 * 7b. The same with [policy] watermark = tiled: the pattern over the whole
 * screen moves with the rows a scroll moved (session_watermark.h), so the
 * scroll is still CopyRect plus the new strip, and the viewer's picture is
 * the screen with the pattern where a full refresh puts it.
 */
IT_TEST(capture, scrolled_picture_with_the_tiled_watermark_equals_a_full_refresh)
{
	/* faint enough for the harness to find the page's block under it */
	struct it_opts o = { .extra_conf = "[policy]\nwatermark = tiled\nwatermark_opacity = 8\n"
					   "watermark_text = {user} {client} 庁内限り\n" };
	sc_scrolled_picture("capture_scrolled_picture_with_the_tiled_watermark", "t8b-fumi", &o);
	IT_ASSERT(it_file_count(it.daemon_log,
				"watermark: \"t8b-fumi 127.0.0.1 庁内限り\" at 8%, "
				"tiled") == 1,
		  "the worker did not log its tiled watermark");
}

/* photo.html's canvas (tests/fixtures/pageserver.py), page coordinates */
#define SC_PHOTO_X 128
#define SC_PHOTO_Y 128
#define SC_PHOTO_W 1000
#define SC_PHOTO_H 560

/*
 * 8. The viewer asked for JPEG (quality level 5, as pixelgate-viewer does):
 * a photo goes out as JPEG, and once the screen is still the worker sends
 * the text and the white that went out lossy with it again, lossless: the
 * viewer's picture outside the photo's tiles (64 x 64, session_quality.c) is
 * exact, the same as a full update with JPEG turned off; the photo itself
 * stays JPEG (close: over 25 dB).
 */
IT_TEST(capture, jpeg_areas_are_exact_once_still)
{
	static const char *const users[] = { "t8-nao", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	rfbClient *cl;
	char url[160];
	size_t len;
	uint64_t j0;
	static uint8_t seen[4096 * 4096 * 4];

	it_start("capture_jpeg_areas_are_exact_once_still", users);
	c = it_open_page("t8-nao", 0, 0, &r);
	cl = pgc_rfb(c);
	IT_ASSERT(cl->appData.enableJPEG && cl->appData.qualityLevel >= 0,
		  "the test client does not ask for JPEG as the viewer does");
	j0 = pgc_jpeg_rects(c);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/photo.html", it.page_port);
	it_goto(c, url);
	/* still for 1.5 s: the lossless refresh (QUAL_STILL_MS after) came before */
	IT_ASSERT(sc_settle(c, 1500, 60), "the photo page did not settle within 60 s");
	IT_ASSERT(pgc_jpeg_rects(c) > j0, "the photo came without any JPEG rectangle");
	fprintf(stderr, "[%s] %llu JPEG rectangles for the photo page\n", it.test_name,
		(unsigned long long)(pgc_jpeg_rects(c) - j0));
	len = (size_t)cl->width * (size_t)cl->height * 4;
	IT_ASSERT(len <= sizeof seen, "a screen of %dx%d", cl->width, cl->height);
	memcpy(seen, cl->frameBuffer, len);

	/* the reference: the whole screen, lossless */
	cl->appData.enableJPEG = FALSE;
	IT_ASSERT(SetFormatAndEncodings(cl), "cannot ask for lossless encodings");
	j0 = pgc_jpeg_rects(c);
	IT_ASSERT(SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height, FALSE),
		  "cannot ask for a full update");
	IT_ASSERT(sc_settle(c, 1000, 30), "no full update");
	IT_ASSERT(pgc_jpeg_rects(c) == j0, "JPEG after the viewer stopped asking for it");
	/* the photo's tiles on screen */
	int px0 = it_page_to_screen_x(&r, SC_PHOTO_X) / 64 * 64;
	int py0 = it_page_to_screen_y(&r, SC_PHOTO_Y) / 64 * 64;
	int px1 = (it_page_to_screen_x(&r, SC_PHOTO_X + SC_PHOTO_W) + 63) / 64 * 64;
	int py1 = (it_page_to_screen_y(&r, SC_PHOTO_Y + SC_PHOTO_H) + 63) / 64 * 64;
	long differ, first;
	double psnr = sc_compare(seen, (const uint8_t *)cl->frameBuffer, cl->width, cl->height, px0,
				 py0, px1, py1, &differ, &first);
	fprintf(stderr, "[%s] photo tiles %d,%d..%d,%d: %.1f dB; outside them %ld pixels differ\n",
		it.test_name, px0, py0, px1, py1, psnr, differ);
	IT_ASSERT(differ == 0,
		  "%ld pixels outside the photo differ from a lossless picture (the first at "
		  "%ld,%ld): what went out as JPEG with the photo was not sent again lossless",
		  differ, first % cl->width, first / cl->width);
	IT_ASSERT(psnr > 25, "the photo is %.1f dB from a lossless picture", psnr);
}

/* The session's main Chromium process (not a zygote, renderer, ...), or 0. */
static pid_t find_browser(void)
{
	char needle[400];
	pid_t pids[256], found = 0;
	int n;

	snprintf(needle, sizeof needle, "--user-data-dir=%s/", it.runtime_dir);
	n = it_find_procs(needle, pids, 256);
	for (int i = 0; i < n && i < 256; i++)
		if (!it_proc_has_arg(pids[i], "--type=")) {
			char c1[1024], c2[1024];

			IT_ASSERT(found == 0, "two main browser processes: %d (%s) and %d (%s)",
				  (int)found, it_proc_cmdline(found, c1, sizeof c1), (int)pids[i],
				  it_proc_cmdline(pids[i], c2, sizeof c2));
			found = pids[i];
		}
	return found;
}

/* 7. the session's browser dies: the client is told why and disconnected,
   and the gateway goes on serving logins. */
IT_TEST(session, browser_crash_ends_session)
{
	static const char *const users[] = { "t7-erin", NULL };
	struct passwd *gwpw = getpwnam(IT_GATEWAY_USER);
	struct it_rect r;
	struct pgc_conn *c;
	const char *reason;
	pid_t browser;

	it_start("session_browser_crash_ends_session", users);
	c = it_open_page("t7-erin", 0, 0, &r);
	browser = find_browser();
	IT_ASSERT(browser > 0, "no Chromium with --user-data-dir under %s", it.runtime_dir);
	IT_ASSERT(gwpw != NULL, "no user %s on this machine", IT_GATEWAY_USER);
	/* the session's own uid: the first of the default range, nobody's account */
	IT_ASSERT(it_proc_uid(browser) == IT_SESSION_UID_BASE,
		  "Chromium (pid %d) runs as uid %u, want the session's uid 2100000000 (not root, "
		  "not the gateway's %u)",
		  (int)browser, (unsigned)it_proc_uid(browser), (unsigned)gwpw->pw_uid);
	IT_ASSERT(!it_proc_has_arg(browser, "--no-sandbox"), "Chromium runs with --no-sandbox");

	IT_ASSERT(kill(browser, SIGKILL) == 0, "kill %d failed", (int)browser);
	IT_ASSERT(it_wait_closed(c, IT_CLOSE_S),
		  "client still connected %d s after its browser was killed", IT_CLOSE_S);
	reason = pgc_close_reason(c);
	fprintf(stderr, "[%s] closed: %d \"%s\"\n", it.test_name, pgc_close_code(c), reason);
	IT_ASSERT(pgc_close_code(c) == 4002, "close code %d (\"%s\"), want 4002", pgc_close_code(c),
		  reason);
	IT_ASSERT(strncmp(reason, "session ended: ", 15) == 0 && strlen(reason) > 15,
		  "close reason \"%s\", want \"session ended: <why>\"", reason);
	it_conn_free(c);

	/* the gateway is still there and starts a fresh session */
	c = it_open_page("t7-erin", 0, 0, &r);
	IT_ASSERT(find_browser() > 0 && find_browser() != browser,
		  "the new session has no browser of its own");
}

/* The daemon's log has needle (a line the gateway wrote), within seconds. */
static bool sc_log_wait(const char *needle, double seconds)
{
	double end = it_now_s() + seconds;
	static char text[1 << 20];
	do {
		FILE *f = fopen(it.daemon_log, "r");
		size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
		if (f)
			fclose(f);
		text[n] = '\0';
		if (strstr(text, needle) != NULL)
			return true;
		usleep(100 * 1000);
	} while (it_now_s() < end);
	return false;
}

/* Whether pid is among the daemon's session workers now. */
static bool sc_is_worker(pid_t pid)
{
	pid_t w[16];
	int n = it_workers(w, 16);
	for (int i = 0; i < n; i++)
		if (w[i] == pid)
			return true;
	return false;
}

/* The "prestarted" of user's session_start audit record (awaited while c
   is pumped): 1 true, 0 false, -1 neither; fails the test without one. */
static int sc_start_prestarted(struct pgc_conn *c, const char *user)
{
	json_t *rec = it_audit_wait(c, 10, 1, NULL, "session_start", "user", user, NULL);
	IT_ASSERT(rec != NULL, "no session_start for %s", user);
	json_t *p = json_object_get(rec, "prestarted");
	int v = json_is_true(p) ? 1 : json_is_false(p) ? 0 : -1;
	json_decref(rec);
	return v;
}

/*
 * 9. Pre-started browsers ([session] prestart = 1): a session starts before
 * anyone logs in, on about:blank and nobody's (no audit record, not in the
 * admin API's list); the next login of its size takes it (the same worker;
 * audited session_start "prestarted": true), sees the home page, and
 * another one is started for the next login; a login of another size
 * starts a session of its own.
 */
IT_TEST(session, a_login_takes_a_prestarted_browser)
{
	static const char *const users[] = { "t9-aoi", "t9-ken", "t9-admin", NULL };
	static const char *const admins[] = { "t9-admin", NULL };
	static const struct it_opts opts = { .admins = admins,
					     .extra_conf = "[session]\nprestart = 1\n" };
	struct it_session list[8];
	struct it_rect r;
	pid_t w[16], pooled;

	it_start_opts("session_a_login_takes_a_prestarted_browser", users, &opts);
	IT_ASSERT(sc_log_wait("pre-started (1280x800) for the next login", 30),
		  "no session was pre-started");
	IT_ASSERT(sc_log_wait("of (pool): ready after", 60),
		  "the pre-started session never got ready");
	IT_ASSERT(it_workers(w, 16) == 1, "want one worker before any login, got %d",
		  it_workers(w, 16));
	pooled = w[0];
	IT_ASSERT(it_sessions("t9-admin", list, 8) == 0,
		  "the admin API lists the pre-started session as someone's");
	IT_ASSERT(it_audit_count("session_start", NULL) == 0,
		  "a session_start was audited before any login");
	static struct it_http hz;
	it_admin("GET", "/healthz", NULL, NULL, &hz);
	json_t *h = json_loads(hz.body, 0, NULL);
	IT_ASSERT(hz.status == 200 && json_integer_value(json_object_get(h, "sessions")) == 0 &&
		      json_integer_value(json_object_get(h, "prestarted")) == 1,
		  "GET /healthz: %d %s, want 0 sessions and 1 pre-started", hz.status, hz.body);
	json_decref(h);

	struct pgc_conn *c = it_open_page("t9-aoi", 1280, 800, &r);
	IT_ASSERT(sc_start_prestarted(c, "t9-aoi") == 1,
		  "t9-aoi's session was not the pre-started one");
	IT_ASSERT(sc_is_worker(pooled), "the pre-started worker %d is gone", (int)pooled);
	IT_ASSERT(it_sessions("t9-admin", list, 8) == 1 && strcmp(list[0].user, "t9-aoi") == 0,
		  "the admin API does not list t9-aoi's session");
	/* the home page was opened in place of about:blank */
	IT_ASSERT(sc_log_wait("claimed by a login: opening http://", 5),
		  "the worker did not open the home page at the claim");
	/* and the pool is filled again for the next login */
	double end = it_now_s() + 60;
	int n = 0;
	while (it_now_s() < end && (n = it_workers(w, 16)) < 2)
		it_pump_for(c, 200);
	IT_ASSERT(n == 2, "no second pre-started session after the claim (%d workers)", n);

	/* another screen size: a session of its own, not the pre-started one */
	struct pgc_conn *c2 = it_open_page("t9-ken", 1024, 768, &r);
	IT_ASSERT(sc_start_prestarted(c2, "t9-ken") == 0,
		  "t9-ken (1024x768) took a 1280x800 pre-started session");
	IT_ASSERT(!pgc_closed(c), "t9-aoi's session ended: %s", pgc_close_reason(c));

	/* draining: the pre-started session ends (nobody will take it), the
	   users' sessions go on; undraining starts one again */
	static struct it_http dr;
	it_admin("POST", "/api/v1/drain", "t9-admin", NULL, &dr);
	IT_ASSERT(dr.status == 200, "POST /api/v1/drain: %d %s", dr.status, dr.body);
	IT_ASSERT(sc_log_wait("(pool): ending (admin): the node is draining", 10),
		  "the pre-started session did not end when the node was drained");
	end = it_now_s() + 30;
	while (it_now_s() < end && (n = it_workers(w, 16)) != 2)
		it_pump_for(c, 200);
	IT_ASSERT(n == 2, "draining: want the 2 users' workers, got %d", n);
	it_admin("GET", "/healthz", NULL, NULL, &hz);
	h = json_loads(hz.body, 0, NULL);
	IT_ASSERT(json_integer_value(json_object_get(h, "prestarted")) == 0 &&
		      json_integer_value(json_object_get(h, "sessions")) == 2,
		  "GET /healthz while draining: %s, want 2 sessions and 0 pre-started", hz.body);
	json_decref(h);
	IT_ASSERT(!pgc_closed(c) && !pgc_closed(c2), "a user's session ended with the drain: %s",
		  pgc_closed(c) ? pgc_close_reason(c) : pgc_close_reason(c2));
	it_admin("POST", "/api/v1/undrain", "t9-admin", NULL, &dr);
	IT_ASSERT(dr.status == 200, "POST /api/v1/undrain: %d %s", dr.status, dr.body);
	end = it_now_s() + 60;
	while (it_now_s() < end && (n = it_workers(w, 16)) < 3)
		it_pump_for(c, 200);
	IT_ASSERT(n == 3, "undrained: no pre-started session again (%d workers)", n);
}
