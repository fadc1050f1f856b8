/*
 * session_inject.c: TEST ONLY. A worker that misbehaves for real.
 *
 * This file is compiled into pixelgate-session-inject and nothing else: the
 * CMake target that has it exists only when PIXELGATE_TESTS is ON, defines
 * PIXELGATE_TEST_INJECT, and is never installed. Its two call sites (in
 * session_cdp.c and session_main.c) are inside #ifdef PIXELGATE_TEST_INJECT,
 * so the production pixelgate-session has neither this code nor a path to
 * it: the injection is decided at compile time, not by a setting.
 *
 * What it does: when the browser reports (over CDP) a page whose URL ends in
 * INJECT_FRAGMENT<kind> (session_inject.h), the worker writes that kind of
 * hostile RFB message into every viewer socket at the next message boundary
 * (after rfbProcessEvents() returned, under the client's send lock, as
 * libvncserver's own rfbSendServerCutText() writes), exactly as a worker
 * taken over from the browser could. The trigger comes through the real
 * product path (the viewer types the URL into the address bar), so
 * tests/integration/test_boundary.c checks the real gateway against it: the
 * viewer must never see the bytes, must get close code 4007, and the audit
 * log must say what was refused.
 */
#ifndef PIXELGATE_TEST_INJECT
#error "session_inject.c belongs only to the test-only pixelgate-session-inject"
#endif

#include "session.h"
#include "session_inject.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

enum inject_kind {
	INJECT_NONE,
	INJECT_CUTTEXT,
	INJECT_CUTTEXT_MIDWAY,
	INJECT_CUTTEXT_FLOOD,
	INJECT_EVENT_FLOOD,
	INJECT_ENCODING,
	INJECT_OUTSIDE,
	INJECT_RESIZE,
	INJECT_MOUNT
};

static const struct {
	const char *name;
	enum inject_kind kind;
} inject_kinds[] = {
	{ INJECT_KIND_CUTTEXT, INJECT_CUTTEXT },
	{ INJECT_KIND_ENCODING, INJECT_ENCODING },
	{ INJECT_KIND_OUTSIDE, INJECT_OUTSIDE },
	{ INJECT_KIND_RESIZE, INJECT_RESIZE },
	{ INJECT_KIND_MOUNT, INJECT_MOUNT },
	{ INJECT_KIND_CUTTEXT_MIDWAY, INJECT_CUTTEXT_MIDWAY },
	{ INJECT_KIND_CUTTEXT_FLOOD, INJECT_CUTTEXT_FLOOD },
	{ INJECT_KIND_EVENT_FLOOD, INJECT_EVENT_FLOOD },
};

/* The injection asked for and not written yet. */
static enum inject_kind inject_pending;
/* One injection per worker: the page's later events (its title arriving,
   with the same URL) do not inject again while the gateway ends the session. */
static bool inject_done;

static const char *inject_name(enum inject_kind kind)
{
	for (size_t i = 0; i < sizeof inject_kinds / sizeof inject_kinds[0]; i++)
		if (inject_kinds[i].kind == kind)
			return inject_kinds[i].name;
	return "none";
}

void inject_watch(const char *event_json)
{
	json_t *ev = json_loads(event_json, 0, NULL);
	const char *url = json_string_value(json_object_get(ev, "url"));
	const char *frag = url != NULL ? strstr(url, INJECT_FRAGMENT) : NULL;
	if (frag != NULL) {
		const char *tail = frag + strlen(INJECT_FRAGMENT);
		enum inject_kind kind = INJECT_NONE;
		for (size_t i = 0; i < sizeof inject_kinds / sizeof inject_kinds[0]; i++)
			if (strcmp(tail, inject_kinds[i].name) == 0)
				kind = inject_kinds[i].kind;
		if (kind == INJECT_NONE) {
			log_warn("TEST BUILD: unknown injection \"%.40s\" ignored", tail);
		} else if (inject_pending == INJECT_NONE && !inject_done) {
			inject_pending = kind;
			log_warn("TEST BUILD: the browser is at an injection URL: writing %s into "
				 "the viewer's stream at the next message boundary",
				 inject_name(kind));
		}
	}
	json_decref(ev);
}

/* A message being built (big-endian fields, as RFB has them). */
struct inject_msg {
	uint8_t buf[512];
	size_t len;
};

static void put8(struct inject_msg *m, uint8_t v)
{
	if (m->len < sizeof m->buf)
		m->buf[m->len++] = v;
}

static void put16(struct inject_msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put32(struct inject_msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

/* One marker pixel in the viewer's format (its bytes per pixel of INJECT_PIXEL_BYTES). */
static void put_pixel(struct inject_msg *m, int bytes_per_pixel)
{
	static const uint8_t pixel[] = INJECT_PIXEL_BYTES;
	for (int i = 0; i < bytes_per_pixel && i < (int)sizeof pixel; i++)
		put8(m, pixel[i]);
}

/* FramebufferUpdate header with one rectangle, and that rectangle's header. */
static void put_update(struct inject_msg *m, uint16_t x, uint16_t y, uint16_t w, uint16_t h,
		       int32_t encoding)
{
	put8(m, rfbFramebufferUpdate);
	put8(m, 0);
	put16(m, 1);
	put16(m, x);
	put16(m, y);
	put16(m, w);
	put16(m, h);
	put32(m, (uint32_t)encoding);
}

/* A ServerCutText of text. */
static void put_cut_text(struct inject_msg *m, const char *text)
{
	put8(m, rfbServerCutText);
	put8(m, 0);
	put16(m, 0);
	put32(m, (uint32_t)strlen(text));
	for (const char *p = text; *p; p++)
		put8(m, (uint8_t)*p);
}

/* The hostile message of kind for viewer cl. */
static void inject_build(struct inject_msg *m, enum inject_kind kind, rfbClientPtr cl)
{
	int bpp = cl->format.bitsPerPixel / 8;
	int width = cl->screen->width;
	m->len = 0;
	switch (kind) {
	case INJECT_CUTTEXT:
	case INJECT_MOUNT:
		put_cut_text(m, INJECT_CUT_TEXT);
		break;
	case INJECT_CUTTEXT_MIDWAY:
		put_cut_text(m, INJECT_CUT_TEXT_MIDWAY);
		break;
	case INJECT_EVENT_FLOOD: /* on the control channel, not here (inject_flush()) */
		break;
	case INJECT_CUTTEXT_FLOOD:
		for (int i = 0; i < INJECT_FLOOD_COPIES; i++)
			put_cut_text(m, (const char[]){ (char)('a' + i % 26), '\0' });
		break;
	case INJECT_ENCODING:
		/* RRE: subrectangle count, background, then one subrectangle */
		put_update(m, INJECT_RECT_X, INJECT_RECT_Y, INJECT_RECT_W, INJECT_RECT_H,
			   rfbEncodingRRE);
		put32(m, 1);
		put_pixel(m, bpp);
		put_pixel(m, bpp);
		put16(m, 2);
		put16(m, 2);
		put16(m, INJECT_RECT_W / 2);
		put16(m, INJECT_RECT_H / 2);
		break;
	case INJECT_OUTSIDE:
		put_update(m, (uint16_t)(width - INJECT_OUTSIDE_W / 2), 0, INJECT_OUTSIDE_W, 1,
			   rfbEncodingRaw);
		for (int i = 0; i < INJECT_OUTSIDE_W; i++)
			put_pixel(m, bpp);
		break;
	case INJECT_RESIZE:
		put_update(m, 0, 0, INJECT_RESIZE_PX, INJECT_RESIZE_PX,
			   (int32_t)rfbEncodingNewFBSize);
		break;
	case INJECT_NONE:
		break;
	}
}

/* Leave what a compromised browser could in the session's directory (once). */
static void inject_leave_files(const char *dir)
{
	static bool left;
	char p[600];
	if (left)
		return;
	left = true;
	snprintf(p, sizeof p, "%s/" INJECT_EVIDENCE_FILE, dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, INJECT_EVIDENCE_TEXT, strlen(INJECT_EVIDENCE_TEXT)) < 0)
		log_warn("TEST BUILD: %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "%s/" INJECT_ESCAPE_LINK, dir);
	if (symlink(INJECT_ESCAPE_TARGET, p) != 0)
		log_warn("TEST BUILD: %s: %s", p, strerror(errno));
	snprintf(p, sizeof p, "%s/" INJECT_FIFO, dir);
	if (mkfifo(p, 0600) != 0)
		log_warn("TEST BUILD: %s: %s", p, strerror(errno));
}

/*
 * Put /usr over dir in a user and mount namespace of this process alone (as
 * a worker taken over could): its /proc/<pid>/root then shows /usr there.
 */
static void inject_mount_over(const char *dir)
{
	static bool done;
	if (done)
		return;
	done = true;
	char uid_map[32], gid_map[32];
	snprintf(uid_map, sizeof uid_map, "0 %u 1", (unsigned)getuid());
	snprintf(gid_map, sizeof gid_map, "0 %u 1", (unsigned)getgid());
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		log_warn("TEST BUILD: unshare: %s", strerror(errno));
		return;
	}
	const char *files[][2] = { { "/proc/self/setgroups", "deny" },
				   { "/proc/self/uid_map", uid_map },
				   { "/proc/self/gid_map", gid_map } };
	for (size_t i = 0; i < 3; i++) {
		int fd = open(files[i][0], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, files[i][1], strlen(files[i][1])) < 0)
			log_warn("TEST BUILD: %s: %s", files[i][0], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (mount("/usr", dir, NULL, MS_BIND | MS_REC, NULL) != 0)
		log_warn("TEST BUILD: mount /usr over %s: %s", dir, strerror(errno));
	else
		log_warn("TEST BUILD: mounted /usr over the session's directory");
}

void inject_flush(rfbScreenInfoPtr screen, const char *dir, int ctrl_fd)
{
	if (inject_pending == INJECT_NONE)
		return;
	if (inject_pending == INJECT_EVENT_FLOOD) {
		log_warn("TEST BUILD: injecting %s (%d events) on the control channel",
			 inject_name(inject_pending), INJECT_FLOOD_EVENTS);
		for (int i = 0; i < INJECT_FLOOD_EVENTS; i++) {
			char ev[160];
			snprintf(ev, sizeof ev,
				 "{\"event\":\"navigate\",\"url\":\"http://flood.invalid/%d\","
				 "\"title\":\"flood\",\"target\":\"T\"}",
				 i);
			session_send_event(ctrl_fd, ev);
		}
		inject_pending = INJECT_NONE;
		inject_done = true;
		return;
	}
	inject_leave_files(dir);
	if (inject_pending == INJECT_MOUNT)
		inject_mount_over(dir);
	int written = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen);
	rfbClientPtr cl;
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		/* Only a viewer past the handshake, with no message of
		   libvncserver's half in its buffer: a message boundary. */
		if (cl->sock == RFB_INVALID_SOCKET || cl->state != RFB_NORMAL || cl->ublen != 0)
			continue;
		struct inject_msg m;
		inject_build(&m, inject_pending, cl);
		/* said before: the gateway may kill the cell as soon as the bytes are out */
		log_warn("TEST BUILD: injecting %s (%zu bytes) into the viewer's stream",
			 inject_name(inject_pending), m.len);
		LOCK(cl->sendMutex);
		int rc;
		if (inject_pending == INJECT_CUTTEXT_MIDWAY) {
			/* the header alone first: the gateway takes it out of the
			   stream before the text turns hostile in its next read */
			rc = rfbWriteExact(cl, (const char *)m.buf, 8);
			usleep(300 * 1000);
			if (rc >= 0)
				rc = rfbWriteExact(cl, (const char *)m.buf + 8, (int)m.len - 8);
		} else {
			rc = rfbWriteExact(cl, (const char *)m.buf, (int)m.len);
		}
		UNLOCK(cl->sendMutex);
		if (rc < 0) {
			log_warn("TEST BUILD: writing %s to a viewer failed",
				 inject_name(inject_pending));
			continue;
		}
		written++;
	}
	rfbReleaseClientIterator(it);
	if (written > 0) {
		inject_pending = INJECT_NONE; /* else: at the next boundary with a viewer */
		inject_done = true;
	}
}
