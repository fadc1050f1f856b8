/*
 * session.h: internals of pixelgate-session, the per-session worker.
 *
 * One worker runs one staff member's browser: Xvfb, Chromium (sandboxed,
 * fresh profile), capture of the screen into libvncserver, and input from
 * the viewer via XTest. It talks to the gateway only over its control fd.
 */
#ifndef PIXELGATE_SESSION_H
#define PIXELGATE_SESSION_H

#include <X11/Xlib.h>
#include <rfb/rfb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SESSION_CONTROL_FD 3   /* where the gateway puts the control socket */

/* Settings received from the gateway (IPC_SETTINGS). */
struct session_settings {
	char dir[512];            /* private 0700 directory of this session */
	int width, height;
	char home_page[2048];
	char upstream_proxy[2048]; /* "" = direct */
	char chromium_path[512];
	char xvfb_path[512];
	bool allow_cut_text;
};

/* Processes of the session (session_browser.c). */
struct browser {
	pid_t xvfb_pid;
	pid_t chromium_pid;
	int display;              /* X display number Xvfb chose */
	char xauthority[600];
	int cdp_write_fd;         /* we write CDP commands here (Chromium's fd 3) */
	int cdp_read_fd;          /* Chromium's answers and events (its fd 4) */
};

/* Start Xvfb with -fbdir in s->dir; fills b->display. 0 or -1. */
int browser_start_xvfb(struct browser *b, const struct session_settings *s);

/* Start Chromium on b's display with a fresh profile and the CDP pipe. 0 or -1. */
int browser_start_chromium(struct browser *b, const struct session_settings *s);

/* Terminate Chromium then Xvfb, waiting at most deadline_ms in all. */
void browser_stop(struct browser *b, int deadline_ms);

/* Screen capture and the tiny window manager (session_capture.c). */
struct capture {
	Display *dpy;
	Window root;
	int width, height;
	int damage_event_base;
	int fixes_event_base;     /* for XFixesCursorNotify */
	unsigned long damage;     /* Damage */
	unsigned long cursor_serial; /* of the cursor image last given to libvncserver */
	const uint8_t *fb_map;    /* mmap of Xvfb's XWD file */
	size_t fb_map_len;
	size_t pixels_offset;
	size_t bytes_per_line;
	rfbScreenInfoPtr screen;
};

/* Map Xvfb's framebuffer file and start XDamage on the root window. 0 or -1. */
int capture_init(struct capture *c, Display *dpy, const char *fbfile, rfbScreenInfoPtr screen);

/* Handle one X event (damage, cursor shape, window management). */
void capture_handle_event(struct capture *c, XEvent *ev);

/* Copy the whole screen (at start). */
void capture_copy_all(struct capture *c);

void capture_close(struct capture *c);

/* Input injection (session_input.c). */
#define INPUT_SPARE_KEYCODES 8

struct input {
	Display *dpy;
	unsigned char pressed[256];          /* keycodes we hold down */
	unsigned long held_keysym[256];      /* keysym that pressed each keycode */
	bool shift_added[256];               /* we added Shift for that keycode */
	int spare[INPUT_SPARE_KEYCODES];     /* keycodes with no keysym, for Unicode */
	unsigned long spare_keysym[INPUT_SPARE_KEYCODES];
	int nspare;
	int next_spare;
	int buttons;                         /* last button mask */
	KeyCode shift_keycode;
};

int input_init(struct input *in, Display *dpy);
void input_key(struct input *in, bool down, uint32_t keysym);
void input_pointer(struct input *in, int button_mask, int x, int y);
/* Release every key and button we hold (a client detached). */
void input_release_all(struct input *in);
/* Give the spare keycodes back their empty mapping. */
void input_close(struct input *in);

/* CDP over the pipe (session_cdp.c). */
#define CDP_MESSAGE_MAX (4 * 1024 * 1024)
#define CDP_SEEN_TABS 32

struct cdp {
	int wfd, rfd;
	char *buf;                /* partial incoming message */
	size_t len, cap;
	bool discarding;          /* skipping an oversize message up to its NUL */
	int next_id;
	int ctrl_fd;              /* to forward events to the gateway */
	/* Last URL reported per tab (FNV-1a hashes), so that a title change
	   (also a Target.targetInfoChanged) is not logged as a navigation. */
	struct {
		uint64_t target_hash, url_hash;
	} seen[CDP_SEEN_TABS];
	unsigned next_seen;
	/* A navigate whose title is still Chromium's placeholder (the URL):
	   held until the page's title arrives or CDP_TITLE_WAIT_MS passed. */
	char *pending;            /* translated event JSON, or NULL */
	uint64_t pending_target;  /* its tab (hash) */
	int64_t pending_deadline_ms;
	int pending_query_id;     /* Target.getTargetInfo asked for its title, or 0 */
	int pending_queries;
};

#define CDP_TITLE_WAIT_MS 400     /* then ask Chromium for the tab's title */
#define CDP_TITLE_QUERIES 4       /* asked at most this often, CDP_TITLE_WAIT_MS apart */

/* Milliseconds until cdp_tick() has something to do, or -1. */
int cdp_timeout_ms(const struct cdp *c);
/* Send a held navigate whose wait is over (or all, if flush). */
void cdp_tick(struct cdp *c, bool flush);

int cdp_init(struct cdp *c, int wfd, int rfd, int ctrl_fd);
/* Send the session's opening commands (download denial, target discovery). */
int cdp_start(struct cdp *c);
/* Read what is available; 0, or -1 when the pipe closed. */
int cdp_read(struct cdp *c);
void cdp_close(struct cdp *c);

/* Parse one CDP message (pure, for tests): fills event (e.g. "download_blocked")
   JSON text for the gateway in out; returns 1 if out is set, 0 if nothing to
   report, -1 if the message is not valid JSON. */
int cdp_translate(const char *msg, char *out, size_t outlen);

#endif
