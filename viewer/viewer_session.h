/*
 * viewer_session.h: the network side of pixelgate-viewer.
 *
 * A session is one login of one user: a worker thread logs in, opens the
 * connection with the client core and pumps it; when the network drops it
 * says so, waits (1, 2, 4, 8, then every 15 s), logs in again with the
 * credentials it holds in memory and reconnects, which reattaches to the
 * same remote browser within the server's grace period. A refusal by the
 * server (wrong password, busy, certificate, session ended, replaced) ends
 * the worker: it is shown, never retried blindly.
 *
 * The worker tells the UI thread what happened by pushing SDL user events
 * of the type given to vsession_start(), with user.code one of enum
 * vsession_event; the UI thread then reads vsession_get_status() or takes
 * the new pixels. The worker never touches SDL video. Pixels are decoded
 * into the client core's framebuffer and copied, rectangle by rectangle,
 * into a shadow buffer the UI uploads from, so drawing never waits for the
 * network.
 */
#ifndef PIXELGATE_VIEWER_SESSION_H
#define PIXELGATE_VIEWER_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "viewer_config.h"
#include "viewer_geometry.h"

#define VSESSION_PASSWORD_MAX 1024
#define VSESSION_MAX_DIRTY 32

/* The session size the server accepts (README: max_width x max_height
   default; the login is refused outside, so the viewer clamps). */
#define VSESSION_MIN_W 640
#define VSESSION_MIN_H 480
#define VSESSION_MAX_W 3840
#define VSESSION_MAX_H 2160

/* Seconds between reconnect attempts: 1, 2, 4, 8, then this. */
#define VSESSION_RETRY_MAX_S 15

#define VSESSION_OTP_MAX 6 /* TOTP codes: 6 digits */

/* What a session needs to log in. The password stays in memory only. */
struct vsession_params {
	char host[VIEWER_HOST_MAX + 1];
	int port;
	char ca_file[VIEWER_PATH_MAX];
	char user[VIEWER_USER_MAX + 1];
	char password[VSESSION_PASSWORD_MAX + 1];
	char otp[VSESSION_OTP_MAX + 1]; /* the second factor's code, "" if none: sent once */
	int width;                      /* screen size to ask for, clamped to the limits above */
	int height;
};

/* user.code of the SDL events a session pushes. */
enum vsession_event {
	VSE_STATE = 1, /* the state changed: see vsession_get_status() */
	VSE_FRAME,     /* new pixels: vsession_frame_begin() */
	VSE_CURSOR,    /* new cursor shape: vsession_cursor_begin() */
	VSE_CLIPBOARD, /* text copied in the session: vsession_take_clipboard() */
};

enum vsession_state {
	VS_LOGGING_IN, /* first login request */
	VS_STARTING,   /* logged in; opening the connection, the browser starts */
	VS_CONNECTED,
	VS_LOST,         /* the network dropped; next attempt in retry_in_s */
	VS_RECONNECTING, /* logging in again after a drop */
	VS_ENDED,        /* final: the worker stopped; see refusal */
};

/* Why a session ended. */
enum vsession_refusal {
	VR_NONE,        /* stopped by vsession_free() */
	VR_CREDENTIALS, /* HTTP 401 invalid_credentials */
	VR_SERVER,      /* another HTTP refusal (429, 503, 400, ...): http_status, message */
	VR_CERTIFICATE, /* the server's certificate failed the pinned-CA check */
	VR_CA_FILE,     /* the CA file cannot be used */
	VR_UNREACHABLE, /* no answer at the first login (later drops are retried) */
	VR_CLOSED,      /* the server closed the connection with a reason: close_code */
};

struct vsession_status {
	enum vsession_state state;
	enum vsession_refusal refusal; /* with VS_ENDED */
	int retry_in_s;                /* with VS_LOST */
	int attempt;                   /* reconnect attempts since the drop */
	bool was_connected;            /* connected at least once */
	int http_status;               /* VR_CREDENTIALS, VR_SERVER */
	int close_code;                /* VR_CLOSED: 4000 replaced, 4001, 4002, 4003, ... */
	char error[64];                /* the server's error code, if any */
	char message[256];             /* the server's message or the local cause */
	int fb_width;                  /* session size once connected */
	int fb_height;
};

/* The shadow framebuffer, locked between vsession_frame_begin/_end. */
struct vsession_frame {
	const uint32_t *pixels; /* XRGB8888, width * height, stride width * 4 */
	int width;
	int height;
	unsigned generation; /* changes when the size changes (all of it is new) */
	int ndirty;          /* rectangles changed since the last _end */
	struct geo_rect dirty[VSESSION_MAX_DIRTY];
};

/* A cursor shape, locked between vsession_cursor_begin/_end. */
struct vsession_cursor {
	const uint32_t *pixels; /* ARGB8888, width * height; NULL = hide / default */
	int width;
	int height;
	int xhot;
	int yhot;
};

struct vsession;

/*
 * Start logging in with p (copied; the caller wipes its copy). Events are
 * pushed with type sdl_event_type. NULL if the thread cannot start.
 */
struct vsession *vsession_start(const struct vsession_params *p, uint32_t sdl_event_type);

/* Stop the worker (closing the connection), wait for it (at most 2 s: a
   login in flight is left to end with the process, its password wiped), wipe
   the credentials and free everything. NULL is fine. */
void vsession_free(struct vsession *s);

/* A snapshot of the state. */
void vsession_get_status(struct vsession *s, struct vsession_status *st);

/* The window's client area changed: later logins ask for this size. */
void vsession_set_size(struct vsession *s, int width, int height);

/* Send input when connected (dropped otherwise). 0 sent, -1 not. */
int vsession_key(struct vsession *s, uint32_t keysym, bool down);
/* UI thread, when the user pastes into the session: the terminal's clipboard
   text goes to the session if the login said its policy takes it (and it is
   within the server's cap). 0 if sent, -1 if not (off, empty, too long). */
int vsession_offer_clipboard(struct vsession *s);
/* UI thread, on VSE_CLIPBOARD: the text the session's browser copied (UTF-8,
   malloc'd: free it), or NULL if it was taken already. */
char *vsession_take_clipboard(struct vsession *s);
int vsession_pointer(struct vsession *s, int x, int y, int button_mask);

/* Lock the shadow framebuffer; false (nothing locked) if there is none yet. */
bool vsession_frame_begin(struct vsession *s, struct vsession_frame *f);
/* Unlock it; the dirty rectangles count as uploaded. */
void vsession_frame_end(struct vsession *s);

/* Lock the last cursor shape (pixels NULL if none); always pair with _end. */
void vsession_cursor_begin(struct vsession *s, struct vsession_cursor *c);
void vsession_cursor_end(struct vsession *s);

/* Clamp a window size to what a login may ask for. */
void vsession_clamp_size(int *width, int *height);

#endif
