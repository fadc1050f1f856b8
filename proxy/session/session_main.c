/*
 * session_main.c: pixelgate-session, one staff member's isolated browser.
 *
 * Started by the gateway with fork+exec (never fork alone), already running
 * as the unprivileged browser user, with the control socket on fd 3. It reads
 * its settings from that socket, starts Xvfb and Chromium in its own process
 * group, serves their screen with libvncserver (no listener: each viewer
 * connection arrives as a socket over the control fd) and ends when the
 * gateway says so, the browser exits, or the control socket closes.
 */
#include "session.h"

#include <rfb/rfbregion.h>
#include <X11/Xlib.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "clip_text.h"
#include "session_cell.h"
#include "session_clipboard.h"
#include "session_watermark.h"
#include "session_tight.h"

#define SESSION_SETTINGS_TIMEOUT_MS 10000
#define SESSION_STOP_DEADLINE_MS 3000
#define SESSION_MAX_POLL_FDS 64
/*
 * How long libvncserver waits, inside one write or read, for a viewer that
 * makes no progress at all. The worker is single-threaded: while it waits,
 * STOP, browser events and the screen wait too (a stalled viewer held
 * everything for libvncserver's default 20 s). A viewer dropped for this
 * reconnects through the gateway.
 */
#define SESSION_VIEWER_STALL_MS 5000

/* Everything one session owns; a single instance per process. */
struct worker {
	struct session_settings settings;
	int ctrl_fd;
	int sig_fd;
	struct browser browser;
	Display *dpy;
	rfbScreenInfoPtr screen;
	struct capture capture;
	struct clipboard clipboard; /* the terminal's text on CLIPBOARD (allow_cut_text) */
	struct watermark wm;        /* drawn into the framebuffer (watermark = corner) */
	struct input input;
	struct cdp cdp;
	bool ending;
	bool ready_sent;  /* IPC_READY went out: the browser took the opening commands */
	bool ended_sent;  /* IPC_ENDED went out (it goes out once) */
	bool cell_killed; /* a limit was passed: Xvfb and Chromium are gone with the rest */
	bool input_held;  /* the viewer is on hold: too much input waits (worker_input_hold()) */
	char end_reason[256];
};

static struct worker *worker_current; /* for libvncserver's callbacks */

/* The cell's limits (settings memory_mib, max_procs; 0 = none) and the next check. */
#define SESSION_WATCH_MS 1000
static struct {
	int memory_mib, max_procs;
	int64_t next_ms;
} worker_watchdog;

/*
 * Route libvncserver's global loggers into ours, one line per message (its
 * messages end in a newline, ours get one added).
 */
static void worker_rfb_vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	/* Viewer sockets are socketpairs: TCP_NODELAY cannot apply, as expected. */
	if (strstr(line, "TCP_NODELAY") != NULL)
		level = LOG_LEVEL_DEBUG;
	if (level == LOG_LEVEL_DEBUG)
		log_debug("libvncserver: %s", line);
	else
		log_warn("libvncserver: %s", line);
}

static void worker_rfb_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	worker_rfb_vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

static void worker_rfb_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	worker_rfb_vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

/* Mark the session as ending with reason (the first reason wins). */
static void worker_end(struct worker *s, const char *fmt, ...)
{
	if (s->ending)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->end_reason, sizeof s->end_reason, fmt, ap);
	va_end(ap);
	s->ending = true;
	log_info("session ending: %s", s->end_reason);
}

/* Tell the gateway the session is ending, once, with the first reason. */
static void worker_send_ended(struct worker *s)
{
	if (s->ended_sent)
		return;
	s->ended_sent = true;
	if (ipc_send(s->ctrl_fd, IPC_ENDED, s->end_reason, strlen(s->end_reason), -1) != 0)
		log_debug("gateway did not get ENDED: %s", strerror(errno));
}

/* Copy a JSON string member into dst; missing is "" unless required. */
static int worker_json_str(json_t *o, const char *key, char *dst, size_t dstlen, bool required)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL && !required) {
		dst[0] = '\0';
		return 0;
	}
	const char *str = json_string_value(v);
	if (str == NULL || strlen(str) >= dstlen) {
		log_error("settings: \"%s\" missing, not a string or too long", key);
		return -1;
	}
	memcpy(dst, str, strlen(str) + 1);
	return 0;
}

/* Wait for and parse IPC_SETTINGS. */
static int worker_read_settings(struct worker *s)
{
	struct pollfd p = { s->ctrl_fd, POLLIN, 0 };
	if (poll(&p, 1, SESSION_SETTINGS_TIMEOUT_MS) != 1) {
		log_error("%s: no settings from the gateway within %d ms", __func__,
			  SESSION_SETTINGS_TIMEOUT_MS);
		return -1;
	}
	struct ipc_header hdr;
	char payload[IPC_PAYLOAD_MAX + 1], err[128];
	int fd;
	int r = ipc_recv(s->ctrl_fd, &hdr, payload, &fd, err, sizeof err);
	if (r <= 0 || hdr.type != IPC_SETTINGS || fd >= 0) {
		if (fd >= 0)
			close(fd);
		log_error("%s: expected SETTINGS: %s", __func__, r < 0 ? err : "wrong message");
		return -1;
	}
	json_error_t jerr;
	json_t *o = json_loads(payload, 0, &jerr);
	struct session_settings *st = &s->settings;
	int rc = -1;
	if (o == NULL || !json_is_object(o)) {
		log_error("%s: settings are not a JSON object: %s", __func__, jerr.text);
		goto out;
	}
	if (worker_json_str(o, "dir", st->dir, sizeof st->dir, true) ||
	    worker_json_str(o, "home_page", st->home_page, sizeof st->home_page, true) ||
	    worker_json_str(o, "upstream_proxy", st->upstream_proxy, sizeof st->upstream_proxy,
			    false) ||
	    worker_json_str(o, "chromium_path", st->chromium_path, sizeof st->chromium_path,
			    true) ||
	    worker_json_str(o, "xvfb_path", st->xvfb_path, sizeof st->xvfb_path, true))
		goto out;
	st->width = (int)json_integer_value(json_object_get(o, "width"));
	st->height = (int)json_integer_value(json_object_get(o, "height"));
	st->allow_cut_text = json_is_true(json_object_get(o, "allow_cut_text"));
	st->clip_to_terminal = json_is_true(json_object_get(o, "clipboard_to_terminal"));
	json_int_t clip_max = json_integer_value(json_object_get(o, "clipboard_max_bytes"));
	st->clip_max = clip_max > 0 && clip_max <= CLIP_TEXT_MAX ? (size_t)clip_max : 0;
	worker_watchdog.memory_mib = (int)json_integer_value(json_object_get(o, "memory_mib"));
	worker_watchdog.max_procs = (int)json_integer_value(json_object_get(o, "max_procs"));
	if (st->width < 320 || st->width > 7680 || st->height < 240 || st->height > 4320 ||
	    st->width % 2 != 0) {
		log_error("%s: bad screen size %dx%d", __func__, st->width, st->height);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* Send the gateway a browser event (IPC_EVENT; it audits it); ev is consumed. */
static void worker_send_event(struct worker *s, json_t *ev)
{
	char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (text == NULL)
		return;
	session_send_event(s->ctrl_fd, text);
	free(text);
}

/* Tell the gateway a shortcut was dropped (it audits "shortcut_blocked"). */
static void worker_shortcut_event(struct worker *s, const char *keys)
{
	worker_send_event(s, json_pack("{s:s, s:s}", "event", "shortcut_blocked", "keys", keys));
}

/*
 * Text copied in the browser (clipboard_to_terminal): control characters
 * removed, line ends LF, sent to the viewer as a ServerCutText whose bytes
 * are UTF-8 (the gateway checks them whole, audits and converts them for
 * the viewer: gateway_clipboard.c). Invalid UTF-8 is refused.
 */
static void worker_browser_copied(void *user, const uint8_t *text, size_t len)
{
	struct worker *s = user;
	char why[CLIP_TEXT_WHY_LEN];
	size_t n = 0, removed = 0;
	char *clean = malloc(len + 1);
	if (clean == NULL)
		return;
	if (clip_text_clean_utf8(text, len, clean, len + 1, &n, &removed, why, sizeof why) != 0) {
		log_warn("the browser's copy (%zu bytes) refused: %s", len, why);
		worker_send_event(s,
				  json_pack("{s:s, s:s}", "event", "clipboard_refused", "reason",
					    why));
	} else if (n > 0) {
		log_info("the browser's copy (%zu bytes, %zu control characters removed) to the "
			 "terminal",
			 n, removed);
		rfbSendServerCutText(s->screen, clean, (int)n);
	}
	free(clean);
}

static void worker_browser_copy_refused(void *user, const char *why)
{
	struct worker *s = user;
	log_warn("the browser's copy refused: %s", why);
	worker_send_event(s, json_pack("{s:s, s:s}", "event", "clipboard_refused", "reason", why));
}

static void worker_kbd(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	(void)cl;
	struct worker *s = worker_current;
	char keys[32];
	if (input_shortcut_blocked(&s->input, down, (uint32_t)keysym, keys, sizeof keys)) {
		if (keys[0] != '\0')
			worker_shortcut_event(s, keys);
		return;
	}
	input_key(&s->input, down, (uint32_t)keysym, qual_now_ms());
}

static void worker_ptr(int mask, int x, int y, rfbClientPtr cl)
{
	rfbDefaultPtrAddEvent(mask, x, y, cl); /* where libvncserver draws the cursor */
	input_pointer(&worker_current->input, mask, x, y, qual_now_ms());
}

static void worker_client_gone(rfbClientPtr cl)
{
	log_info("viewer detached");
	/* Keys and buttons belong to the viewer that pressed them; a viewer
	   that replaced this one released them when it attached. */
	bool others = false;
	rfbClientIteratorPtr it = rfbGetClientIterator(cl->screen);
	rfbClientPtr other;
	while ((other = rfbClientIteratorNext(it)) != NULL)
		others |= other != cl && other->sock != RFB_INVALID_SOCKET;
	rfbReleaseClientIterator(it);
	if (!others && !worker_current->cell_killed) /* killed: no Xvfb to release them in */
		input_release_all(&worker_current->input, qual_now_ms());
}

/* The rectangles of what the next update of cl sends (its modified and requested
   region): a calloc'd array (NULL if none or no memory) and their number. */
static struct qual_rect *worker_update_rects(rfbClientPtr cl, int *got)
{
	sraRegionPtr region = sraRgnCreateRgn(cl->modifiedRegion);
	sraRgnAnd(region, cl->requestedRegion);
	int n = (int)sraRgnCountRects(region);
	struct qual_rect *rects = n > 0 ? calloc((size_t)n, sizeof *rects) : NULL;
	*got = 0;
	if (rects != NULL) {
		sraRectangleIterator *it = sraRgnGetIterator(region);
		sraRect r;
		while (*got < n && sraRgnIteratorNext(it, &r))
			rects[(*got)++] = (struct qual_rect){ r.x1, r.y1, r.x2, r.y2 };
		sraRgnReleaseIterator(it);
	}
	sraRgnDestroy(region);
	return rects;
}

/* The part of a mixed update held back for the next one (worker_display_done()). */
static sraRegionPtr worker_deferred;

/*
 * Before each framebuffer update (libvncserver passes cl->modifiedRegion as
 * the update's region, and copies it only after this hook): lossless, or
 * JPEG at the quality the viewer asked for (lower for what moves), as
 * session_quality.c decides for the update's pieces. An update with both
 * goes out in two: this one takes one kind, the other kind is taken out of
 * cl->modifiedRegion and put back after the update (worker_display_done()),
 * so the next update request gets it; the text part goes first, then the
 * two take turns, so that neither waits behind the other for long.
 */
static void worker_display_hook(rfbClientPtr cl)
{
	struct qual *q = &worker_current->capture.qual;
	int asked = qual_asked(q, cl->tightQualityLevel, cl->turboQualityLevel);
	if (asked < 0) {
		/* no quality level of ours applies: tell the Tight streams the
		   compression level tight.c will use, as it clamps the viewer's
		   (with JPEG, a viewer that asked only for a fine quality level:
		   1..2; without, 0 or 1) */
		int lvl = cl->tightCompressLevel;
		if (cl->turboQualityLevel != -1)
			lvl = lvl < 1 ? 1 : lvl > 2 ? 2 : lvl;
		else
			lvl = lvl >= 1 ? 1 : 0;
		tight_zlib_prepare(cl, lvl);
		return;
	}
	int got = 0;
	struct qual_rect *rects = worker_update_rects(cl, &got);
	int64_t now = qual_now_ms();
	const uint8_t *fb = (const uint8_t *)cl->screen->frameBuffer;
	size_t stride = (size_t)cl->screen->paddedWidthInBytes;
	/* without memory to look, the viewer's quality (a still tile is not marked exact) */
	enum qual_mode mode = QUAL_JPEG;
	int max = got * 4 + q->cols * q->rows;
	struct qual_rect *pieces = rects != NULL ? calloc((size_t)max, sizeof *pieces) : NULL;
	if (pieces != NULL) {
		struct qual_split sp;
		int np = qual_split(q, fb, stride, rects, got, now, pieces, max, &sp);
		enum qual_mode lossy_mode = sp.busy * 2 > sp.lossy ? QUAL_JPEG_BUSY : QUAL_JPEG;
		if (sp.lossy == 0) {
			mode = QUAL_LOSSLESS;
			q->deferred_lossy = false;
		} else if (sp.lossy == sp.total || !sp.complete || worker_deferred != NULL) {
			mode = lossy_mode;
			q->deferred_lossy = false;
		} else {
			sraRegionPtr lossy_rgn = sraRgnCreate();
			for (int i = 0; i < np; i++) {
				sraRegionPtr p = sraRgnCreateRect(pieces[i].x0, pieces[i].y0,
								  pieces[i].x1, pieces[i].y1);
				sraRgnOr(lossy_rgn, p);
				sraRgnDestroy(p);
			}
			if (!q->deferred_lossy) {
				worker_deferred = lossy_rgn; /* the text now, the rest next */
				mode = QUAL_LOSSLESS;
			} else {
				worker_deferred = sraRgnCreateRgn(cl->modifiedRegion);
				sraRgnAnd(worker_deferred, cl->requestedRegion);
				sraRgnSubtract(worker_deferred, lossy_rgn);
				sraRgnDestroy(lossy_rgn);
				mode = lossy_mode;
			}
			q->deferred_lossy = !q->deferred_lossy;
			q->splits++;
			sraRgnSubtract(cl->modifiedRegion, worker_deferred);
			free(rects);
			rects = worker_update_rects(cl, &got);
		}
		free(pieces);
	}
	bool lossy = mode != QUAL_LOSSLESS;
	cl->turboQualityLevel = !lossy ? -1
	    : mode == QUAL_JPEG_BUSY   ? qual_busy_quality(asked)
				       : asked;
	/* libvncserver's Tight lowers the compression level to 1 for a lossless
	   update and keeps it there; with JPEG, 2 (what it makes of the viewer's 3) */
	cl->tightCompressLevel = lossy ? 2 : 1;
	tight_zlib_prepare(cl, cl->tightCompressLevel);
	if (rects != NULL)
		qual_sent(q, rects, got, mode, now);
	free(rects);
}

/* After each framebuffer update: what a split held back is modified again. */
static void worker_display_done(rfbClientPtr cl, int result)
{
	(void)result;
	if (worker_deferred == NULL)
		return;
	sraRgnOr(cl->modifiedRegion, worker_deferred);
	sraRgnDestroy(worker_deferred);
	worker_deferred = NULL;
}

/*
 * A viewer (re)attaches: the session has one viewer at a time, so any
 * previous connection is closed first (libvncserver frees it in the next
 * rfbProcessEvents) and whatever it held down is released.
 */
static void worker_attach(struct worker *s, int fd)
{
	int dropped = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(s->screen);
	rfbClientPtr cl;
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		if (cl->sock != RFB_INVALID_SOCKET) {
			rfbCloseClient(cl);
			dropped++;
		}
	}
	rfbReleaseClientIterator(it);
	if (dropped > 0) {
		log_info("dropped %d previous viewer connection(s) for a new one", dropped);
		input_release_all(&s->input, qual_now_ms());
	}
	if (rfbNewClient(s->screen, fd) == NULL)
		log_warn("rfbNewClient refused the viewer socket");
}

/*
 * Text from the terminal's clipboard (issue 15): with clipboard_to_browser
 * on, made safe again (the gateway checked it too) and put on the session's
 * X CLIPBOARD, for Ctrl+V in the page; with it off, dropped (the gateway
 * never lets it through).
 */
static void worker_cut_text_put(const char *str, int len)
{
	struct worker *s = worker_current;
	char why[CLIP_TEXT_WHY_LEN];
	size_t n = 0, cap = len > 0 ? 2 * (size_t)len + 1 : 1;
	if (!s->settings.allow_cut_text) {
		log_info("viewer clipboard text (%d bytes) dropped: the clipboard is off", len);
		return;
	}
	char *text = malloc(cap);
	if (text == NULL)
		return;
	int rc = clip_text_from_utf8((const uint8_t *)str, (size_t)(len > 0 ? len : 0), text, cap,
				     &n, why, sizeof why);
	if (rc != 0)
		log_warn("viewer clipboard text (%d bytes) refused: %s", len, why);
	else if (clipboard_set(&s->clipboard, text, n) == 0)
		log_info("viewer clipboard text (%zu bytes) is the session's clipboard", n);
	free(text);
}

/*
 * The viewer's ClientCutText as the gateway forwards it: plain RFB framing,
 * but always UTF-8 (the gateway converts the terminal's Latin-1 or extended
 * clipboard text; gateway_clipboard.c). The extended clipboard's encoding is
 * never passed to this server, so libvncserver's UTF-8 hook is not called;
 * it is set to the same function all the same.
 */
static void worker_cut_text(char *str, int len, rfbClientPtr cl)
{
	(void)cl;
	worker_cut_text_put(str, len);
}

static enum rfbNewClientAction worker_new_client(rfbClientPtr cl)
{
	cl->clientGoneHook = worker_client_gone;
	log_info("viewer attached");
	/* libvncserver takes it off hold after this: worker_input_hold() puts
	   it back on if input still waits */
	worker_current->input_held = false;
	return RFB_CLIENT_ACCEPT;
}

/* Create the libvncserver screen: no listener of any kind. */
static int worker_vnc_init(struct worker *s)
{
	int w = s->settings.width, h = s->settings.height;
	rfbLog = worker_rfb_log;
	rfbErr = worker_rfb_err;
	rfbMaxClientWait = SESSION_VIEWER_STALL_MS;
	int argc = 0;
	s->screen = rfbGetScreen(&argc, NULL, w, h, 8, 3, 4);
	if (s->screen == NULL)
		return -1;
	s->screen->frameBuffer = calloc((size_t)w * (size_t)h, 4);
	if (s->screen->frameBuffer == NULL)
		return -1;
	/* Xvfb is 0x00RRGGBB little-endian; libvncserver's default swaps red/blue. */
	s->screen->serverFormat.redShift = 16;
	s->screen->serverFormat.greenShift = 8;
	s->screen->serverFormat.blueShift = 0;
	s->screen->port = -1;
	s->screen->ipv6port = -1;
	s->screen->httpPort = -1;
	s->screen->autoPort = FALSE;
	s->screen->permitFileTransfer = FALSE;
	s->screen->alwaysShared = TRUE;
	s->screen->deferUpdateTime = 0; /* we never poll, so never defer */
	s->screen->cursor = NULL;       /* until capture_init sets the X cursor image */
	s->screen->desktopName = "pixelgate";
	s->screen->kbdAddEvent = worker_kbd;
	s->screen->ptrAddEvent = worker_ptr;
	s->screen->newClientHook = worker_new_client;
	s->screen->displayHook = worker_display_hook;
	s->screen->displayFinishedHook = worker_display_done;
	/*
	 * libvncserver calls setXCutText without a NULL check (a NULL here
	 * crashed the worker on the first ClientCutText): both are set, and
	 * drop the text when the clipboard is off. The gateway filters
	 * ClientCutText by policy as well.
	 */
	s->screen->setXCutText = worker_cut_text;
	s->screen->setXCutTextUTF8 = worker_cut_text;
	rfbInitServer(s->screen);
	return 0;
}

/* The watermark's minute changed: draw it again and serve the change. */
static void worker_watermark_tick(struct worker *s)
{
	struct watermark_rect d;
	if (watermark_tick(&s->wm, time(NULL), &d))
		capture_copy_area(&s->capture, d.x, d.y, d.w, d.h);
}

/*
 * The watermark of the viewer the gateway attaches (IPC_ATTACH's payload:
 * {"watermark": text with {user} and {client} filled in, "opacity": percent,
 * "mode": "corner" or "tiled"};
 * none: no watermark).
 */
static void worker_watermark_set(struct worker *s, const char *payload, size_t len)
{
	const char *text = "";
	int opacity = 35;
	json_t *o = len > 0 ? json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (len > 0 && !json_is_object(o))
		log_warn("ATTACH with a payload that is not a JSON object: no watermark");
	const char *t = json_string_value(json_object_get(o, "watermark"));
	if (t != NULL && strlen(t) < WATERMARK_TEXT_MAX)
		text = t;
	if (json_is_integer(json_object_get(o, "opacity")))
		opacity = (int)json_integer_value(json_object_get(o, "opacity"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	bool tiled = mode != NULL && strcmp(mode, "tiled") == 0;
	struct watermark_rect d;
	if (watermark_set(&s->wm, text, opacity, tiled, time(NULL), &d))
		capture_copy_area(&s->capture, d.x, d.y, d.w, d.h);
	if (text[0] != '\0')
		log_info("watermark: \"%s\" at %d%%%s", s->wm.shown, s->wm.opacity,
			 s->wm.tiled ? ", tiled" : "");
	json_decref(o);
}

/* Handle one control message. */
static void worker_control(struct worker *s)
{
	struct ipc_header hdr;
	char payload[IPC_PAYLOAD_MAX + 1], err[128];
	int fd;
	int r = ipc_recv(s->ctrl_fd, &hdr, payload, &fd, err, sizeof err);
	if (r == 0) {
		worker_end(s, "gateway closed the control channel");
		return;
	}
	if (r < 0) {
		worker_end(s, "bad control message: %s", err);
		return;
	}
	switch (hdr.type) {
	case IPC_ATTACH:
		if (fd < 0 || fd >= FD_SETSIZE) { /* libvncserver uses select() */
			log_error("ATTACH without a usable descriptor (%d)", fd);
			if (fd >= 0)
				close(fd);
			return;
		}
		worker_watermark_set(s, payload, hdr.len);
		worker_attach(s, fd);
		return;
	case IPC_STOP:
		worker_end(s, "%s", hdr.len ? payload : "stopped by the gateway");
		break;
	case IPC_CLAIM:
		/* a pre-started session is a user's now: the page the gateway gives */
		if (hdr.len == 0 || hdr.len > SESSION_URL_MAX || strlen(payload) != hdr.len ||
		    strcspn(payload,
			    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
			    "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
			    "\x1b\x1c\x1d\x1e\x1f\x7f ") != hdr.len) {
			worker_end(s, "bad CLAIM message (%u bytes)", (unsigned)hdr.len);
			break;
		}
		log_info("claimed by a login: opening %s", payload);
		if (cdp_claim(&s->cdp, payload) != 0)
			worker_end(s, "cannot open the home page in the browser");
		break;
	default:
		worker_end(s, "unexpected control message %s", ipc_type_name(hdr.type));
		break;
	}
	if (fd >= 0)
		close(fd);
}

/* Reap children; the session ends with the browser or Xvfb. */
static void worker_reap(struct worker *s)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[64];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
		if (pid == s->browser.chromium_pid) {
			s->browser.chromium_pid = 0;
			worker_end(s, "browser exited (%s)", how);
		} else if (pid == s->browser.xvfb_pid) {
			s->browser.xvfb_pid = 0;
			worker_end(s, "display server exited (%s)", how);
		}
	}
}

static void worker_signals(struct worker *s)
{
	struct signalfd_siginfo si;
	while (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			worker_reap(s);
		else
			worker_end(s, "stopped by signal %u (%s)", si.ssi_signo,
				   strsignal((int)si.ssi_signo));
	}
}

/*
 * The session is READY once the browser has taken the opening CDP commands
 * (download denial, target discovery); a refused, unanswered or unsendable
 * required command ends it, before READY (the viewer is told "session failed
 * to start: ...") or after (a browser context whose downloads could not be
 * denied).
 */
static void worker_cdp_state(struct worker *s)
{
	const char *why = cdp_failure(&s->cdp);
	if (why != NULL) {
		worker_end(s, "%s", why);
		return;
	}
	if (!s->ready_sent && cdp_started(&s->cdp)) {
		s->ready_sent = true;
		log_info("the browser took the opening CDP commands: session ready");
		if (ipc_send(s->ctrl_fd, IPC_READY, NULL, 0, -1) != 0)
			worker_end(s, "cannot tell the gateway the session is ready: %s",
				   strerror(errno));
	}
}

/* Once a second: the cell's memory and processes against its limits. */
static void worker_watch(struct worker *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now < worker_watchdog.next_ms)
		return;
	worker_watchdog.next_ms = now + SESSION_WATCH_MS;
	struct cell_usage u;
	char reason[200], limit[16];
	if (cell_measure(&u, worker_watchdog.max_procs > 0 ? worker_watchdog.max_procs / 4 : 256) !=
	    0)
		return;
	cell_measure_files(&u, s->settings.dir);
	if (!cell_watch(&u, worker_watchdog.memory_mib, worker_watchdog.max_procs, reason,
			sizeof reason, limit, sizeof limit))
		return;
	worker_send_event(s,
			  json_pack("{s:s, s:s, s:s}", "event", "limit_exceeded", "limit", limit,
				    "detail", reason));
	log_warn("%s (%ld processes, %ld tasks, %ld MiB)", reason, u.processes, u.tasks,
		 u.pss_kib / 1024);
	worker_end(s, "%s", reason);
	int n = cell_kill_others(2000);
	if (n >= 0) {
		log_info("killed the cell's %d other processes", n);
		s->cell_killed = true;
		s->browser.chromium_pid = s->browser.xvfb_pid = 0; /* reaped */
	}
}

/*
 * Puts the viewer on hold (libvncserver reads none of its messages and
 * sends it no update) while input_backlogged(), and takes it off again.
 * rfbProcessEvents() reads one message a turn, so the queue stays below
 * INPUT_QUEUE_MAX; the viewer's TCP window, then the relay's buffers, fill,
 * and the relay stops reading it.
 */
static void worker_input_hold(struct worker *s)
{
	bool hold = input_backlogged(&s->input, s->input_held);
	if (hold == s->input_held)
		return;
	s->input_held = hold;
	log_info("%s the viewer: %d input events wait behind keycode remaps",
		 hold ? "holding" : "reading", s->input.qlen);
	rfbClientIteratorPtr it = rfbGetClientIterator(s->screen);
	rfbClientPtr cl;
	while ((cl = rfbClientIteratorNext(it)) != NULL)
		cl->onHold = hold;
	rfbReleaseClientIterator(it);
}

/* The event loop: sleeps in poll() until something happens (or the watchdog's tick). */
static void worker_loop(struct worker *s)
{
	while (!s->ending) {
		struct pollfd pfd[SESSION_MAX_POLL_FDS];
		int n = 0;
		pfd[n++] = (struct pollfd){ s->ctrl_fd, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->sig_fd, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ ConnectionNumber(s->dpy), POLLIN, 0 };
		int cdp_index = -1;
		if (s->cdp.rfd >= 0) {
			cdp_index = n;
			pfd[n++] = (struct pollfd){ s->cdp.rfd, POLLIN, 0 };
		}
		/* while input waits behind remaps, the viewer is not read (on hold) */
		bool hold = s->input_held;
		rfbClientIteratorPtr it = rfbGetClientIterator(s->screen);
		rfbClientPtr cl;
		while ((cl = rfbClientIteratorNext(it)) != NULL && n < SESSION_MAX_POLL_FDS)
			if (cl->sock >= 0 && !hold)
				pfd[n++] = (struct pollfd){ cl->sock, POLLIN, 0 };
		rfbReleaseClientIterator(it);

		int timeout = XPending(s->dpy) > 0 ? 0 : cdp_timeout_ms(&s->cdp);
		int64_t now = qual_now_ms();
		int refresh = qual_timeout_ms(&s->capture.qual, now);
		if (refresh >= 0 && (timeout < 0 || refresh < timeout))
			timeout = refresh; /* a lossy area still long enough to go out lossless */
		int typing = input_timeout_ms(&s->input, now);
		if (typing >= 0 && (timeout < 0 || typing < timeout))
			timeout = typing; /* keys waiting behind a remap */
		if (timeout < 0 || timeout > SESSION_WATCH_MS)
			timeout = SESSION_WATCH_MS; /* the watchdog's tick */
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			worker_end(s, "poll: %s", strerror(errno));
			break;
		}
		cdp_tick(&s->cdp, false);
		worker_watch(s);
		if (s->cell_killed)
			break; /* Xvfb is gone: no more X calls */
		if (pfd[1].revents)
			worker_signals(s);
		if (pfd[0].revents)
			worker_control(s);
		while (XPending(s->dpy) > 0) {
			XEvent ev;
			XNextEvent(s->dpy, &ev);
			if (!clipboard_handle_event(&s->clipboard, &ev))
				capture_handle_event(&s->capture, &ev);
		}
		if (cdp_index >= 0 && pfd[cdp_index].revents && cdp_read(&s->cdp) != 0) {
			log_info("CDP pipe closed");
			close(s->cdp.rfd);
			s->cdp.rfd = -1;
		}
		worker_cdp_state(s);
		input_run(&s->input, qual_now_ms());
		worker_input_hold(s);
		capture_refresh_lossy(&s->capture, qual_now_ms());
		worker_watermark_tick(s);
		rfbProcessEvents(s->screen, 0);
#ifdef PIXELGATE_TEST_INJECT
		/* test-only build: see session_inject.c */
		inject_flush(s->screen, s->settings.dir, s->ctrl_fd);
#endif
	}
}

/* X errors (a window vanished between event and request) are not fatal. */
static int worker_x_error(Display *dpy, XErrorEvent *e)
{
	(void)dpy;
	log_debug("X error %d on request %d", e->error_code, e->request_code);
	return 0;
}

/* Xlib exits after this handler returns, so the session ends here: a
   crash, unless the worker killed its cell (and Xvfb with it) on a limit. */
static int worker_x_io_error(Display *dpy)
{
	(void)dpy;
	struct worker *s = worker_current;
	worker_end(s, "display server exited (lost the connection to Xvfb)");
	worker_send_ended(s);
	browser_stop(&s->browser, SESSION_STOP_DEADLINE_MS);
	log_info("session ended: %s%s", s->end_reason,
		 s->cell_killed ? " (an X call after the cell was killed)" : "");
	_exit(s->cell_killed ? 0 : 1);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("pixelgate-session %s\n", PIXELGATE_VERSION);
		return 0;
	}
	static struct worker s;
	worker_current = &s;
	s.ctrl_fd = SESSION_CONTROL_FD;
	s.cdp.rfd = s.cdp.wfd = -1;
	log_init("pixelgate-session", LOG_LEVEL_INFO);
	/* exec made us dumpable again: no process of our uid may ptrace or read us */
	if (cell_init() != 0)
		return 1;
	/* Nothing but stdio and the control socket crosses from the gateway. */
	close_range(SESSION_CONTROL_FD + 1, ~0U, 0);
	/* Own process group, so that the gateway can end everything at once.
	   setsid() fails when the gateway already made us a group leader. */
	if (setsid() < 0 && getpgrp() != getpid() && setpgid(0, 0) != 0)
		log_warn("cannot lead a process group: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s.sig_fd < 0)
		fatal("signalfd: %s", strerror(errno));

	if (worker_read_settings(&s) != 0) {
		worker_end(&s, "no valid settings from the gateway");
		goto out;
	}
	if (browser_start_xvfb(&s.browser, &s.settings) != 0) {
		worker_end(&s, "cannot start the display server");
		goto out;
	}
	char display[32], fbfile[600];
	snprintf(display, sizeof display, ":%d", s.browser.display);
	setenv("XAUTHORITY", s.browser.xauthority, 1);
	XSetErrorHandler(worker_x_error);
	XSetIOErrorHandler(worker_x_io_error);
	s.dpy = XOpenDisplay(display);
	if (s.dpy == NULL) {
		worker_end(&s, "cannot open display %s", display);
		goto out;
	}
	snprintf(fbfile, sizeof fbfile, "%s/fb/Xvfb_screen0", s.settings.dir);
	if (worker_vnc_init(&s) != 0 || capture_init(&s.capture, s.dpy, fbfile, s.screen) != 0 ||
	    input_init(&s.input, s.dpy) != 0) {
		worker_end(&s, "cannot set up screen capture");
		goto out;
	}
	watermark_init(&s.wm, s.dpy, s.settings.width, s.settings.height);
	s.capture.wm = &s.wm;
	if ((s.settings.allow_cut_text || s.settings.clip_to_terminal) &&
	    clipboard_init(&s.clipboard, s.dpy) != 0)
		log_warn("no window for the clipboard: no clipboard text in either direction");
	else if (s.settings.clip_to_terminal && s.settings.clip_max > 0 &&
		 clipboard_watch(&s.clipboard, s.settings.clip_max, worker_browser_copied,
				 worker_browser_copy_refused, &s) != 0)
		log_warn("the browser's copies cannot be watched (no XFixes): none goes to the "
			 "terminal");
	capture_copy_all(&s.capture);
	if (browser_start_chromium(&s.browser, &s.settings) != 0) {
		worker_end(&s, "cannot start the browser");
		goto out;
	}
	cdp_init(&s.cdp, s.browser.cdp_write_fd, s.browser.cdp_read_fd, s.ctrl_fd);
	if (cdp_start(&s.cdp) != 0) {
		worker_end(&s, "%s",
			   cdp_failure(&s.cdp) ? cdp_failure(&s.cdp)
					       : "cannot send the opening CDP commands");
		goto out;
	}
	/* IPC_READY waits for the browser's answers (worker_cdp_state) */
	worker_loop(&s);
out:
	cdp_tick(&s.cdp, true); /* a navigate still waiting for its title goes out first */
	worker_send_ended(&s);
	if (s.screen != NULL)
		rfbShutdownServer(s.screen, TRUE);
	if (s.dpy != NULL && !s.cell_killed)
		input_close(&s.input); /* talks to Xvfb */
	if (s.cell_killed)
		s.wm.font = NULL; /* Xvfb is gone: its font is not closed, only forgotten */
	watermark_free(&s.wm);
	if (!s.cell_killed)
		clipboard_free(&s.clipboard);
	if (s.dpy != NULL && !s.cell_killed) {
		/* while Xvfb is there: Xft frees what it keeps per display */
		XCloseDisplay(s.dpy);
		s.dpy = NULL;
		watermark_fini(&s.wm);
	}
	cdp_close(&s.cdp);
	browser_stop(&s.browser, SESSION_STOP_DEADLINE_MS);
	capture_close(&s.capture);
	if (s.screen != NULL) {
		free(s.screen->frameBuffer);
		rfbScreenCleanup(s.screen);
	}
	log_info("session ended: %s", s.end_reason);
	return 0;
}
