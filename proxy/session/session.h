/*
 * session.h: internals of pixelgate-session, the per-session worker.
 *
 * One worker runs one staff member's browser: Xvfb, Chromium (sandboxed,
 * fresh profile), capture of the screen into libvncserver, and input from
 * the viewer via XTest. It talks to the gateway only over its control fd.
 *
 * Files: session_main.c (the process: settings, the event loop, its end;
 * its own functions are worker_*, as session_* names the gateway's session
 * table), session_browser.c (Xvfb and Chromium), session_capture.c,
 * session_scroll.c (scrolls as CopyRect), session_quality.c (lossless or
 * JPEG per update), session_input.c, session_cdp.c, session_cell.c (the
 * cell's watchdog).
 */
#ifndef PIXELGATE_SESSION_H
#define PIXELGATE_SESSION_H

#include <X11/Xlib.h>
#include <rfb/rfb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "session_quality.h"

#define SESSION_URL_MAX 2047 /* a home page (settings, IPC_CLAIM) */
#define SESSION_CONTROL_FD 3 /* where the gateway puts the control socket */

struct watermark;

/* Settings received from the gateway (IPC_SETTINGS). */
struct session_settings {
	char dir[512]; /* private 0700 directory of this session */
	int width, height;
	char home_page[SESSION_URL_MAX + 1];
	char upstream_proxy[2048]; /* "" = direct */
	char chromium_path[512];
	char xvfb_path[512];
	bool allow_cut_text;
	bool clip_to_terminal; /* the browser's copies go to the terminal */
	size_t clip_max;       /* bytes of one clipboard text */
};

/* Processes of the session (session_browser.c). */
struct browser {
	pid_t xvfb_pid;
	pid_t chromium_pid;
	int display; /* X display number Xvfb chose */
	char xauthority[600];
	int cdp_write_fd; /* we write CDP commands here (Chromium's fd 3) */
	int cdp_read_fd;  /* Chromium's answers and events (its fd 4) */
};

/* Start Xvfb with -fbdir in s->dir; fills b->display. 0 or -1. */
int browser_start_xvfb(struct browser *b, const struct session_settings *s);

/* Start Chromium on b's display with a fresh profile and the CDP pipe. 0 or -1. */
int browser_start_chromium(struct browser *b, const struct session_settings *s);

/* Terminate Chromium then Xvfb, waiting at most deadline_ms in all. */
void browser_stop(struct browser *b, int deadline_ms);

/* Screen capture and the tiny window manager (session_capture.c). */
/* A vertical scroll found in a damaged rectangle (session_scroll.c). */
#define SCROLL_MIN_ROWS 32 /* a block that moved: at least this many rows */
struct scroll {
	int height; /* of the screen */
	uint64_t *old_hash, *new_hash;
	int *votes;
	size_t slots;
	struct {
		uint64_t hash;
		int32_t row;
	} * table;
};
int scroll_init(struct scroll *sc, int height);
void scroll_free(struct scroll *sc);
/*
 * Rows [y, y + h) x columns [x, x + w) of the new picture (newp) against the
 * old (oldp), both 32 bpp: if a block of at least SCROLL_MIN_ROWS rows moved
 * vertically, true with its rows in the new picture [*r0, *r1] and *shift,
 * its rows' offset in the old (new row r == old row r + *shift; > 0 when the
 * page moved up, as on Page_Down). Every row of the block was compared.
 */
bool scroll_find(struct scroll *sc, const uint8_t *newp, size_t new_stride, const uint8_t *oldp,
		 size_t old_stride, int x, int y, int w, int h, int *r0, int *r1, int *shift);

struct capture {
	Display *dpy;
	Window root;
	int width, height;
	int damage_event_base;
	int fixes_event_base;        /* for XFixesCursorNotify */
	unsigned long damage;        /* Damage */
	unsigned long cursor_serial; /* of the cursor image last given to libvncserver */
	const uint8_t *fb_map;       /* mmap of Xvfb's XWD file */
	size_t fb_map_len;
	size_t pixels_offset;
	size_t bytes_per_line;
	rfbScreenInfoPtr screen;
	struct scroll scroll;
	unsigned long scrolls;      /* CopyRects sent for scrolled blocks */
	struct qual qual;           /* what the viewer has exactly and what lossily */
	struct watermark *wm;       /* blended into what is copied (NULL: none) */
	uint8_t *row_tmp;           /* a screen row with the watermark on it */
	uint8_t *raw;               /* tiled watermark: the screen as last copied without
				       it (the scroll search's old picture); NULL otherwise */
};

/* Map Xvfb's framebuffer file and start XDamage on the root window. 0 or -1. */
int capture_init(struct capture *c, Display *dpy, const char *fbfile, rfbScreenInfoPtr screen);

/* Handle one X event (damage, cursor shape, window management). */
void capture_handle_event(struct capture *c, XEvent *ev);

/* Copy the whole screen (at start). */
void capture_copy_all(struct capture *c);

/* Copy (x, y, w, h) of the screen again (the watermark changed there). */
void capture_copy_area(struct capture *c, int x, int y, int w, int h);

/* Mark again what went out lossy and has been still since (qual_refresh()). */
void capture_refresh_lossy(struct capture *c, int64_t now);

void capture_close(struct capture *c);

/* Input injection (session_input.c). */
/* Keycodes without a keysym put to use for characters without a key. */
#define INPUT_SPARE_KEYCODES 64
/* Blocked keys held down at once (their releases are dropped). */
#define INPUT_BLOCKED_HELD 8
/* Input events waiting behind a remap (the relay lets through bursts of 400 keys). */
#define INPUT_QUEUE_MAX 1024
/* From this many waiting events on, the viewer's messages are not read ... */
#define INPUT_QUEUE_HIGH 768
/* ... until no more than this many wait. */
#define INPUT_QUEUE_LOW 512
/* After a remap, before a key of it: the browser reads the new mapping. */
#define INPUT_REMAP_SETTLE_MS 12
/* A spare is remapped only this long after its last key was sent. */
#define INPUT_SPARE_REUSE_MS 500

/* One viewer input event, in the order it came. */
struct input_event {
	uint32_t keysym; /* INPUT_EV_KEY */
	uint16_t x, y;   /* INPUT_EV_POINTER */
	uint8_t kind;    /* INPUT_EV_* */
	uint8_t mask;    /* INPUT_EV_POINTER: buttons */
	bool down;       /* INPUT_EV_KEY */
	bool spare;      /* INPUT_EV_KEY: typed through a spare keycode */
};

enum { INPUT_EV_KEY, INPUT_EV_POINTER, INPUT_EV_RELEASE_ALL };

struct input {
	Display *dpy;
	unsigned char pressed[256];      /* keycodes we hold down */
	unsigned long held_keysym[256];  /* keysym that pressed each keycode */
	bool shift_added[256];           /* we added Shift for that keycode */
	int spare[INPUT_SPARE_KEYCODES]; /* keycodes with no keysym, for Unicode */
	unsigned long spare_keysym[INPUT_SPARE_KEYCODES];
	int nspare;
	int next_spare;
	int buttons; /* last button mask */
	KeyCode shift_keycode;
	/* The viewer's modifiers, from its key events (for the shortcut filter). */
	bool ctrl_down[2];  /* Control_L, Control_R */
	bool shift_down[2]; /* Shift_L, Shift_R */
	/* Keys whose press was blocked (keysyms, letters in lower case). */
	unsigned long blocked_held[INPUT_BLOCKED_HELD];
	int nblocked_held;
	/* Events wait here, in order, while spare keycodes are being remapped. */
	struct input_event queue[INPUT_QUEUE_MAX];
	int qhead, qlen;
	int64_t settle_until_ms;                     /* monotonic; nothing is sent before */
	int64_t spare_used_ms[INPUT_SPARE_KEYCODES]; /* last key sent through each; -1 never */
	uint64_t remaps, remap_rounds;               /* keycodes remapped, in how many rounds */
};

int input_init(struct input *in, Display *dpy);
/*
 * The shortcut filter, before input_key(): true if this key event must not
 * reach the browser. Dropped are the DevTools shortcuts (F12 with any
 * modifiers, Ctrl+Shift+I, J and C), incognito (Ctrl+Shift+N) and the
 * profile switcher (Ctrl+Shift+M), press and release; Ctrl and Shift are
 * tracked from the viewer's own key events, and an upper-case letter counts
 * as shifted (input_key() would add the Shift). When a press is newly
 * blocked, keys gets the combination ("Ctrl+Shift+N") for the gateway's
 * audit; otherwise (its release, a key repeat) keys is "".
 */
bool input_shortcut_blocked(struct input *in, bool down, uint32_t keysym, char *keys,
			    size_t keyslen);
/*
 * Key and pointer events from the viewer, at now_ms (monotonic). They go to
 * the X server at once unless a character without a key must first be put
 * on a spare keycode: then that event and every one after it wait, in order,
 * until the remap has settled (input_timeout_ms(), input_run()); the worker
 * keeps serving meanwhile. One remap round maps up to INPUT_SPARE_KEYCODES
 * characters waiting in the queue, so an IME commit of many characters waits
 * for few rounds.
 */
void input_key(struct input *in, bool down, uint32_t keysym, int64_t now_ms);
void input_pointer(struct input *in, int button_mask, int x, int y, int64_t now_ms);
/* Release every key and button we hold (a client detached); forget the
   viewer's modifiers and blocked keys. Queued behind waiting events. */
void input_release_all(struct input *in, int64_t now_ms);
/* True while so many events wait that the viewer's messages must not be
   read (the worker puts its client on hold: no reading, no updates): from
   INPUT_QUEUE_HIGH on, and once held (held true) until INPUT_QUEUE_LOW. A
   hostile viewer can outpace the remaps (19 spares, each reused after
   500 ms: about 38 new characters a second) within the relay's key budget;
   it is then slowed, not served. */
bool input_backlogged(const struct input *in, bool held);
/* Milliseconds until waiting events can go (0: now), -1 if none wait. */
int input_timeout_ms(const struct input *in, int64_t now_ms);
/* Send what waits and may go now. */
void input_run(struct input *in, int64_t now_ms);
/* Give the spare keycodes back their empty mapping (waiting events are dropped). */
void input_close(struct input *in);

/* CDP over the pipe (session_cdp.c). */
#define CDP_MESSAGE_MAX (4 * 1024 * 1024)
#define CDP_SEEN_TABS 32
#define CDP_REQUIRED_MAX 24        /* required commands awaiting their answer at once */
#define CDP_REQUIRED_WAIT_MS 10000 /* a required command's answer must come within this */
#define CDP_CONTEXTS_MAX 16        /* browser contexts whose downloads are denied */
#define CDP_CONTEXT_ID_MAX 64      /* longest browserContextId, bytes (Chromium's: 32) */

/* A command whose failure ends the session (download denial, target discovery). */
struct cdp_required {
	int id;              /* the command's CDP id */
	bool opening;        /* one of cdp_start()'s: READY waits for it */
	int64_t deadline_ms; /* monotonic; no answer by then ends the session */
	char what[96];       /* for the reason, e.g. "download denial" */
};

struct cdp {
	int wfd, rfd;
	char *buf; /* partial incoming message */
	size_t len, cap;
	bool discarding; /* skipping an oversize message up to its NUL */
	int next_id;
	int ctrl_fd; /* to forward events to the gateway */
	/* Required commands not answered yet, and how many of them are opening ones. */
	struct cdp_required required[CDP_REQUIRED_MAX];
	int nrequired;
	int opening_left;
	bool start_sent;   /* cdp_start() sent the opening commands */
	char failure[256]; /* why the session must end ("" while all is well) */
	/* Browser contexts already told to deny downloads (their ids). */
	char contexts[CDP_CONTEXTS_MAX][CDP_CONTEXT_ID_MAX + 1];
	int ncontexts;
	/* The first page (tab) the browser reported: a pre-started session's
	   about:blank, closed when it is claimed (cdp_claim). */
	char first_page[CDP_CONTEXT_ID_MAX + 1];
	char closed_page[CDP_CONTEXT_ID_MAX +
			 1]; /* that tab after the claim: its events are dropped */
	bool claimed;        /* cdp_claim() ran */
	/* Last URL reported per tab (FNV-1a hashes), so that a title change
	   (also a Target.targetInfoChanged) is not logged as a navigation. */
	struct {
		uint64_t target_hash, url_hash;
	} seen[CDP_SEEN_TABS];
	unsigned next_seen;
	/* A navigate whose title is still Chromium's placeholder (the URL):
	   held until the page's title arrives or CDP_TITLE_WAIT_MS passed. */
	char *pending;           /* translated event JSON, or NULL */
	uint64_t pending_target; /* its tab (hash) */
	int64_t pending_deadline_ms;
	int pending_query_id; /* Target.getTargetInfo asked for its title, or 0 */
	int pending_queries;
};

#define CDP_TITLE_WAIT_MS 400 /* then ask Chromium for the tab's title */
#define CDP_TITLE_QUERIES 4   /* asked at most this often, CDP_TITLE_WAIT_MS apart */

/* Milliseconds until cdp_tick() has something to do, or -1. */
int cdp_timeout_ms(const struct cdp *c);
/*
 * Send a held navigate whose wait is over (or all, if flush). Unless flush,
 * a required command whose answer is overdue makes cdp_failure() say so.
 */
void cdp_tick(struct cdp *c, bool flush);

int cdp_init(struct cdp *c, int wfd, int rfd, int ctrl_fd);
/* Send the gateway a browser event (IPC_EVENT, JSON text; it audits it), logged. */
void session_send_event(int ctrl_fd, const char *ev);
/*
 * Send the session's opening commands: download denial (default context)
 * and target discovery. Their answers arrive later through cdp_read(). 0, or
 * -1 if they could not be written.
 */
int cdp_start(struct cdp *c);
/*
 * True once every opening command was answered successfully: the session
 * may tell the gateway it is READY. Never true after a failure.
 */
bool cdp_started(const struct cdp *c);
/*
 * Why the session must end, or NULL: a required command (an opening one, or
 * the download denial of a browser context that appeared later) was refused,
 * not answered within CDP_REQUIRED_WAIT_MS, could not be sent, or the pipe
 * closed before its answer.
 */
const char *cdp_failure(const struct cdp *c);
/* Read what is available; 0, or -1 when the pipe closed (then see cdp_failure()). */
int cdp_read(struct cdp *c);
/* A pre-started session was claimed: open url in a new tab, close the blank one. 0 or -1. */
int cdp_claim(struct cdp *c, const char *url);
void cdp_close(struct cdp *c);

/* Parse one CDP message (pure, for tests): fills event (e.g. "download_blocked")
   JSON text for the gateway in out; returns 1 if out is set, 0 if nothing to
   report, -1 if the message is not valid JSON. */
int cdp_translate(const char *msg, char *out, size_t outlen);

#ifdef PIXELGATE_TEST_INJECT
/*
 * TEST ONLY (session_inject.c, in pixelgate-session-inject alone; the
 * production pixelgate-session is compiled without PIXELGATE_TEST_INJECT
 * and has none of this). inject_watch(): a browser event (the JSON text
 * cdp_translate() made) whose URL ends in INJECT_FRAGMENT<kind> arms an
 * injection. inject_flush(): at a message boundary (between
 * rfbProcessEvents() calls), write the armed hostile message into each
 * viewer's RFB socket, after leaving hostile files in dir (the session's);
 * or, for the event flood, browser events on ctrl_fd.
 */
void inject_watch(const char *event_json);
void inject_flush(rfbScreenInfoPtr screen, const char *dir, int ctrl_fd);
#endif

#endif
