/*
 * viewer_session.c: the network side of pixelgate-viewer (see
 * viewer_session.h).
 *
 * Threads: the worker thread owns the connection (login, connect, pump,
 * free). The UI thread sends input through vsession_key/pointer, which use
 * the connection under conn_lock; the worker takes conn_lock only to publish
 * or withdraw the connection, so it never frees one the UI is using. The
 * client core calls our callbacks on the worker thread with libvncclient's
 * lock held; they copy pixels into the shadow buffer under fb_lock, which
 * the UI thread takes to upload. Lock order: conn_lock, then the core's
 * lock, then fb_lock; lock (status) is never held with another.
 *
 * Waiting: the worker blocks in pgc_poll() on the connection's socket and a
 * wake-up socket pair, so an idle session costs no CPU; the UI thread blocks in
 * SDL_WaitEvent() until the worker pushes an event.
 */
#include "pgc_platform.h"
#include "viewer_session.h"

#include <SDL2/SDL.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_core.h"
#include "viewer_log.h"

struct vsession {
	struct vsession_params p; /* the password is wiped by vsession_free() */
	uint32_t ev_type;
	pthread_t thread;
	pgc_socket wake[2]; /* socket pair: the UI wakes the worker (stop) */
	atomic_bool stop;

	pthread_mutex_t lock; /* guards st, want_w, want_h, clip_in */
	struct vsession_status st;
	char *clip_in; /* the session's last copy, for the UI thread */
	int want_w;
	int want_h;

	pthread_mutex_t conn_lock;    /* guards conn and clip_* for the UI thread */
	struct pgc_conn *conn;        /* published while connected */
	bool clip_to_browser;         /* the login said the session takes clipboard text */
	atomic_bool clip_to_terminal; /* ... and sends its copies (else they are dropped) */
	unsigned clip_max;            /* of at most this many bytes */

	pthread_mutex_t fb_lock; /* guards the shadow and the cursor */
	uint32_t *shadow;
	int shadow_w;
	int shadow_h;
	unsigned generation;
	int ndirty;
	struct geo_rect dirty[VSESSION_MAX_DIRTY];
	uint32_t *cursor; /* ARGB8888, NULL = none */
	int cursor_w;
	int cursor_h;
	int cursor_xhot;
	int cursor_yhot;
	bool cursor_logged;       /* worker only */
	atomic_bool frame_posted; /* a VSE_FRAME is queued and not yet taken */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

void vsession_clamp_size(int *width, int *height)
{
	if (*width < VSESSION_MIN_W)
		*width = VSESSION_MIN_W;
	if (*width > VSESSION_MAX_W)
		*width = VSESSION_MAX_W;
	if (*height < VSESSION_MIN_H)
		*height = VSESSION_MIN_H;
	if (*height > VSESSION_MAX_H)
		*height = VSESSION_MAX_H;
}

/* Pushes an SDL user event with code to the UI thread. */
static void post(struct vsession *s, enum vsession_event code)
{
	SDL_Event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = s->ev_type;
	ev.user.code = (Sint32)code;
	if (SDL_PushEvent(&ev) < 0)
		vlog("cannot queue an event for the window: %s", SDL_GetError());
}

/* Sets the state (and, for VS_LOST, the countdown) and tells the UI. */
static void set_state(struct vsession *s, enum vsession_state state, int retry_in_s)
{
	pthread_mutex_lock(&s->lock);
	s->st.state = state;
	s->st.retry_in_s = retry_in_s;
	pthread_mutex_unlock(&s->lock);
	post(s, VSE_STATE);
}

/* Ends the worker's life: VS_ENDED with refusal and the server's words. */
static void set_ended(struct vsession *s, enum vsession_refusal refusal, int http_status,
		      int close_code, const char *error, const char *message)
{
	pthread_mutex_lock(&s->lock);
	s->st.state = VS_ENDED;
	s->st.refusal = refusal;
	s->st.http_status = http_status;
	s->st.close_code = close_code;
	snprintf(s->st.error, sizeof(s->st.error), "%s", error ? error : "");
	snprintf(s->st.message, sizeof(s->st.message), "%s", message ? message : "");
	pthread_mutex_unlock(&s->lock);
	post(s, VSE_STATE);
}

/* Which refusal a transport error text of the client core means. The core
   says "server certificate" only when the certificate check failed, and
   names the CA file when it cannot use it; anything else (refused, reset,
   timed out, a handshake cut short) is the network. */
static enum vsession_refusal classify_transport(const char *msg)
{
	if (strstr(msg, "server certificate"))
		return VR_CERTIFICATE;
	if (strstr(msg, "CA file"))
		return VR_CA_FILE;
	return VR_UNREACHABLE;
}

/* The close code in a pgc_connect() error such as "server closed the
   connection during the RFB handshake: 4003 session failed to start: ...",
   or 0. */
static int handshake_close_code(const char *err)
{
	static const char tag[] = "during the RFB handshake: ";
	const char *p = strstr(err, tag);

	return p ? atoi(p + sizeof(tag) - 1) : 0;
}

/* How long vsession_free() waits for the network thread. */
#define VSESSION_JOIN_WAIT_S 2

/* Waits up to ms for the stop request. True if stopping. */
static bool wait_stop(struct vsession *s, int ms)
{
	struct pollfd pf = { .fd = s->wake[0], .events = POLLIN, .revents = 0 };
	char buf[16];

	if (atomic_load(&s->stop))
		return true;
	if (pgc_poll(&pf, 1, ms) > 0)
		while (pgc_sock_recv(s->wake[0], buf, sizeof(buf)) > 0)
			;
	return atomic_load(&s->stop);
}

/* Monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	return pgc_clock_ms();
}

/* ------------------------------------------------------------------------ */
/* Client core callbacks (worker thread, core lock held)                    */
/* ------------------------------------------------------------------------ */

/* Adds a changed rectangle; too many collapse into their bounding box. */
static void dirty_add(struct vsession *s, int x, int y, int w, int h)
{
	struct geo_rect r = { x, y, w, h };

	if (s->ndirty < VSESSION_MAX_DIRTY) {
		s->dirty[s->ndirty++] = r;
		return;
	}
	for (int i = 1; i < s->ndirty; i++) {
		struct geo_rect *a = &s->dirty[0], *b = &s->dirty[i];
		int x2 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
		int y2 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;

		a->x = a->x < b->x ? a->x : b->x;
		a->y = a->y < b->y ? a->y : b->y;
		a->w = x2 - a->x;
		a->h = y2 - a->y;
	}
	s->dirty[1] = r;
	s->ndirty = 2;
}

/* The framebuffer was (re)allocated. A new size gets a new, black shadow;
   the same size (a reconnect) keeps the last picture until updates come. */
static void cb_fb_resized(void *user, const struct pgc_fb *fb)
{
	struct vsession *s = user;
	uint32_t *n;

	pthread_mutex_lock(&s->fb_lock);
	if (!s->shadow || s->shadow_w != fb->width || s->shadow_h != fb->height) {
		n = calloc((size_t)fb->width * (size_t)fb->height, sizeof(*n));
		if (n) {
			free(s->shadow);
			s->shadow = n;
			s->shadow_w = fb->width;
			s->shadow_h = fb->height;
			s->generation++;
			s->ndirty = 0;
		} else {
			vlog("out of memory for a %dx%d screen", fb->width, fb->height);
		}
	}
	pthread_mutex_unlock(&s->fb_lock);
}

/* Copies a changed rectangle into the shadow as XRGB8888. */
static void cb_fb_update(void *user, const struct pgc_fb *fb, int x, int y, int w, int h)
{
	struct vsession *s = user;
	bool native = fb->red_shift == 16 && fb->green_shift == 8 && fb->blue_shift == 0;

	pthread_mutex_lock(&s->fb_lock);
	if (s->shadow && s->shadow_w == fb->width && s->shadow_h == fb->height) {
		for (int row = y; row < y + h; row++) {
			const uint8_t *src = fb->pixels + (size_t)row * (size_t)fb->stride_bytes +
			    (size_t)x * 4;
			uint32_t *dst = s->shadow + (size_t)row * (size_t)s->shadow_w + (size_t)x;

			if (native) {
				memcpy(dst, src, (size_t)w * 4);
				continue;
			}
			for (int i = 0; i < w; i++) {
				uint32_t p;

				memcpy(&p, src + (size_t)i * 4, 4);
				dst[i] = ((p >> fb->red_shift) & 0xff) << 16 |
				    ((p >> fb->green_shift) & 0xff) << 8 |
				    ((p >> fb->blue_shift) & 0xff);
			}
		}
		dirty_add(s, x, y, w, h);
	}
	pthread_mutex_unlock(&s->fb_lock);
}

/* A FramebufferUpdate is complete: one VSE_FRAME until the UI took it. */
static void cb_frame_done(void *user)
{
	struct vsession *s = user;

	if (!atomic_exchange(&s->frame_posted, true))
		post(s, VSE_FRAME);
}

/* Keeps the server's cursor shape as ARGB8888 (alpha from the mask). */
/* Connection thread: text copied in the session's browser (clipboard_to_terminal). */
static void cb_clipboard_text(void *user, const char *utf8, size_t len)
{
	struct vsession *s = user;
	char *copy;

	if (!atomic_load(&s->clip_to_terminal)) {
		vlog("clipboard text from the session dropped: the login did not allow it");
		return;
	}
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, utf8, len);
	copy[len] = '\0';
	pthread_mutex_lock(&s->lock);
	free(s->clip_in);
	s->clip_in = copy;
	pthread_mutex_unlock(&s->lock);
	vlog("clipboard text (%zu bytes) from the session", len);
	post(s, VSE_CLIPBOARD);
}

char *vsession_take_clipboard(struct vsession *s)
{
	char *text;

	pthread_mutex_lock(&s->lock);
	text = s->clip_in;
	s->clip_in = NULL;
	pthread_mutex_unlock(&s->lock);
	return text;
}

static void cb_cursor_shape(void *user, int xhot, int yhot, int width, int height,
			    const struct pgc_fb *fmt, const uint8_t *pixels, const uint8_t *mask)
{
	struct vsession *s = user;
	uint32_t *argb = NULL;

	if (!s->cursor_logged) {
		vlog("the server sends cursor shapes (first %dx%d)", width, height);
		s->cursor_logged = true;
	}
	if (width > 0 && height > 0) {
		argb = malloc((size_t)width * (size_t)height * sizeof(*argb));
		if (!argb)
			return;
		for (int i = 0; i < width * height; i++) {
			uint32_t p;

			memcpy(&p, pixels + (size_t)i * 4, 4);
			argb[i] = (mask[i] ? 0xff000000u : 0) |
			    ((p >> fmt->red_shift) & 0xff) << 16 |
			    ((p >> fmt->green_shift) & 0xff) << 8 | ((p >> fmt->blue_shift) & 0xff);
		}
	}
	pthread_mutex_lock(&s->fb_lock);
	free(s->cursor);
	s->cursor = argb;
	s->cursor_w = width;
	s->cursor_h = height;
	s->cursor_xhot = xhot < 0 ? 0 : xhot >= width ? width - 1 : xhot;
	s->cursor_yhot = yhot < 0 ? 0 : yhot >= height ? height - 1 : yhot;
	pthread_mutex_unlock(&s->fb_lock);
	post(s, VSE_CURSOR);
}

/* ------------------------------------------------------------------------ */
/* The worker                                                               */
/* ------------------------------------------------------------------------ */

/* What one attempt came to. */
enum attempt_result {
	ATTEMPT_STOP,  /* vsession_free() asked us to stop */
	ATTEMPT_ENDED, /* refused: set_ended() was called */
	ATTEMPT_RETRY, /* the network failed: why says how */
};

/* Pumps the connection until it closes or we are told to stop. */
static void pump_until_closed(struct vsession *s, struct pgc_conn *c)
{
	char buf[16];

	while (!atomic_load(&s->stop)) {
		struct pollfd pf[2];
		int r = pgc_pump(c, 0);

		if (r < 0)
			return;
		if (r > 0)
			continue;
		pf[0].fd = pgc_fd(c);
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		pf[1].fd = s->wake[0];
		pf[1].events = POLLIN;
		pf[1].revents = 0;
		if (pf[0].fd == PGC_NO_SOCKET)
			return;
		if (pgc_poll(pf, 2, -1) < 0 && errno != EINTR) {
			vlog("poll failed: %s", strerror(errno));
			return;
		}
		if (pf[1].revents)
			while (pgc_sock_recv(s->wake[0], buf, sizeof(buf)) > 0)
				;
	}
}

/* The login failed (res): ended for good, or worth another try (why). */
static enum attempt_result attempt_login_failed(struct vsession *s,
						const struct pgc_login_result *res,
						bool was_connected, char *why, size_t whylen)
{
	if (atomic_load(&s->stop))
		return ATTEMPT_STOP;
	if (res->http_status == 401) {
		vlog("login refused: 401 %s: %s", res->error[0] ? res->error : "-", res->message);
		set_ended(s, VR_CREDENTIALS, 401, 0, res->error, res->message);
		return ATTEMPT_ENDED;
	}
	if (res->http_status) {
		vlog("login refused: %d %s: %s", res->http_status, res->error[0] ? res->error : "-",
		     res->message);
		set_ended(s, VR_SERVER, res->http_status, 0, res->error, res->message);
		return ATTEMPT_ENDED;
	}
	enum vsession_refusal kind = classify_transport(res->message);
	if (kind != VR_UNREACHABLE || !was_connected) {
		vlog("login failed: %s", res->message);
		set_ended(s, kind, 0, 0, NULL, res->message);
		return ATTEMPT_ENDED;
	}
	snprintf(why, whylen, "login failed: %s", res->message);
	return ATTEMPT_RETRY;
}

/* Opening the session failed (err, the upgrade's HTTP status): ended, or retry. */
static enum attempt_result attempt_connect_failed(struct vsession *s, const char *err, int status,
						  bool was_connected, char *why, size_t whylen)
{
	if (atomic_load(&s->stop))
		return ATTEMPT_STOP;
	int code = handshake_close_code(err);
	enum vsession_refusal kind = classify_transport(err);
	if (code >= 4000 && code <= 4999) {
		vlog("connection closed by the server: %s", err);
		set_ended(s, VR_CLOSED, 0, code, NULL, err);
		return ATTEMPT_ENDED;
	}
	if (status && !(was_connected && status == 401)) {
		/* a 401 on the upgrade after a drop: the ticket expired on a
		   slow network; log in again */
		vlog("connect refused: HTTP %d: %s", status, err);
		set_ended(s, VR_SERVER, status, 0, NULL, err);
		return ATTEMPT_ENDED;
	}
	if (kind != VR_UNREACHABLE || !was_connected) {
		vlog("connect failed: %s", err);
		set_ended(s, kind, 0, 0, NULL, err);
		return ATTEMPT_ENDED;
	}
	snprintf(why, whylen, "connect failed: %s", err);
	return ATTEMPT_RETRY;
}

/* Logs in, connects and pumps once; *connected tells whether it got as
   far as a connection. On ATTEMPT_RETRY why holds the cause. */
static enum attempt_result attempt(struct vsession *s, bool was_connected, bool *connected,
				   char *why, size_t whylen)
{
	struct pgc_server srv = { s->p.host, s->p.port, s->p.ca_file };
	struct pgc_callbacks cb = {
		.user = s,
		.fb_resized = cb_fb_resized,
		.fb_update = cb_fb_update,
		.frame_done = cb_frame_done,
		.cursor_shape = cb_cursor_shape,
		.clipboard_text = cb_clipboard_text,
	};
	struct pgc_login_result *res;
	struct pgc_conn *c;
	char err[512];
	int w, h, status = 0, code;

	res = calloc(1, sizeof(*res));
	if (!res) {
		snprintf(why, whylen, "out of memory");
		return ATTEMPT_RETRY;
	}
	pthread_mutex_lock(&s->lock);
	w = s->want_w;
	h = s->want_h;
	pthread_mutex_unlock(&s->lock);
	vsession_clamp_size(&w, &h);
	vlog("logging in as %s to %s:%d (screen %dx%d)", s->p.user, s->p.host, s->p.port, w, h);
	/* A code is good once: a later login (a reconnection) goes without it,
	   and the server asks for a new one if the account needs it. */
	int lrc = pgc_login_otp(&srv, s->p.user, s->p.password, s->p.otp, w, h, res);
	pgc_secure_zero(s->p.otp, sizeof(s->p.otp));
	if (lrc != 0) {
		enum attempt_result r = attempt_login_failed(s, res, was_connected, why, whylen);
		free(res);
		return r;
	}
	if (atomic_load(&s->stop)) {
		free(res);
		return ATTEMPT_STOP;
	}

	if (!was_connected)
		set_state(s, VS_STARTING, 0);
	vlog("logged in; opening the session");
	c = pgc_connect_cb(&srv, res->ticket, &cb, err, sizeof(err), &status);
	pgc_secure_zero(res->ticket, sizeof(res->ticket));
	bool clip = res->clipboard_to_browser && res->clipboard_max_bytes > 0;
	/* before the connection: its first copy may come at once */
	atomic_store(&s->clip_to_terminal, res->clipboard_to_terminal);
	unsigned clip_max = res->clipboard_max_bytes;
	free(res);
	if (!c)
		return attempt_connect_failed(s, err, status, was_connected, why, whylen);

	pthread_mutex_lock(&s->lock);
	s->st.fb_width = pgc_rfb(c)->width;
	s->st.fb_height = pgc_rfb(c)->height;
	s->st.attempt = 0;
	s->st.was_connected = true;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->conn_lock);
	s->conn = c;
	s->clip_to_browser = clip;
	s->clip_max = clip_max;
	pthread_mutex_unlock(&s->conn_lock);
	vlog("clipboard text to the session: %s; from the session: %s",
	     clip ? "allowed on paste" : "off", atomic_load(&s->clip_to_terminal) ? "on" : "off");
	*connected = true;
	vlog("%s: session %dx%d", was_connected ? "reconnected" : "connected", pgc_rfb(c)->width,
	     pgc_rfb(c)->height);
	set_state(s, VS_CONNECTED, 0);

	pump_until_closed(s, c);

	pthread_mutex_lock(&s->conn_lock);
	s->conn = NULL;
	pthread_mutex_unlock(&s->conn_lock);
	if (atomic_load(&s->stop)) {
		pgc_free(c);
		return ATTEMPT_STOP;
	}
	code = pgc_close_code(c);
	if (code >= 4000 && code <= 4999) {
		vlog("connection closed by the server: %d %s", code, pgc_close_reason(c));
		set_ended(s, VR_CLOSED, 0, code, NULL, pgc_close_reason(c));
		pgc_free(c);
		return ATTEMPT_ENDED;
	}
	if (code)
		snprintf(why, whylen, "%d %s", code, pgc_close_reason(c));
	else
		snprintf(why, whylen, "%s", pgc_closed(c) ? pgc_close_reason(c) : "poll failed");
	pgc_free(c);
	return ATTEMPT_RETRY;
}

/* Waits delay_s seconds, counting down on screen. True if told to stop. */
static bool countdown(struct vsession *s, int delay_s)
{
	int64_t end = now_ms() + (int64_t)delay_s * 1000;

	for (int left = delay_s; left > 0; left--) {
		int64_t slice_end = end - (int64_t)(left - 1) * 1000;

		set_state(s, VS_LOST, left);
		while (now_ms() < slice_end)
			if (wait_stop(s, (int)(slice_end - now_ms())))
				return true;
	}
	return atomic_load(&s->stop);
}

/* The worker thread: attempts until refused or stopped, with back-off
   (1, 2, 4, 8, then VSESSION_RETRY_MAX_S seconds; a connection that was
   made starts the series again). */
static void *worker(void *arg)
{
	struct vsession *s = arg;
	bool was_connected = false;
	int n_retry = 0;
	char why[600];

	for (;;) {
		enum attempt_result r;
		bool connected = false;
		int delay_s;

		if (n_retry) {
			pthread_mutex_lock(&s->lock);
			s->st.attempt = n_retry;
			pthread_mutex_unlock(&s->lock);
			vlog("reconnecting (attempt %d)", n_retry);
			set_state(s, VS_RECONNECTING, 0);
		} else {
			set_state(s, VS_LOGGING_IN, 0);
		}
		r = attempt(s, was_connected, &connected, why, sizeof(why));
		if (r != ATTEMPT_RETRY)
			break;
		if (connected) {
			was_connected = true;
			n_retry = 0;
		}
		delay_s = n_retry >= 4 ? VSESSION_RETRY_MAX_S : 1 << n_retry;
		if (delay_s > VSESSION_RETRY_MAX_S)
			delay_s = VSESSION_RETRY_MAX_S;
		vlog("%s: %s; retrying in %d s", connected ? "connection lost" : "reconnect failed",
		     why, delay_s);
		n_retry++;
		if (countdown(s, delay_s))
			break;
	}
	if (atomic_load(&s->stop)) {
		pthread_mutex_lock(&s->lock);
		s->st.state = VS_ENDED;
		s->st.refusal = VR_NONE;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The UI thread's side                                                     */
/* ------------------------------------------------------------------------ */

struct vsession *vsession_start(const struct vsession_params *p, uint32_t sdl_event_type)
{
	struct vsession *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return NULL;
	s->p = *p;
	/* the password stays out of swap (best effort) */
	if (pgc_mem_lock(&s->p, sizeof(s->p)))
		vlog("warning: cannot lock the password in memory: %s", strerror(errno));
	s->ev_type = sdl_event_type;
	s->want_w = p->width;
	s->want_h = p->height;
	atomic_init(&s->stop, false);
	atomic_init(&s->frame_posted, false);
	s->st.state = VS_LOGGING_IN;
	if (pgc_sock_pair(s->wake) || pgc_sock_set_nonblock(s->wake[0]) ||
	    pgc_sock_set_nonblock(s->wake[1])) {
		vlog("cannot make the wake-up socket pair: %s", strerror(errno));
		pgc_sock_close(s->wake[0]);
		pgc_sock_close(s->wake[1]);
		pgc_secure_zero(&s->p, sizeof(s->p));
		pgc_mem_unlock(&s->p, sizeof(s->p));
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->conn_lock, NULL);
	pthread_mutex_init(&s->fb_lock, NULL);
	/* the worker takes no signals (SIGPIPE is handled by the core) */
	rc = pgc_thread_create(&s->thread, worker, s);
	if (rc) {
		vlog("cannot start the network thread: %s", strerror(rc));
		pgc_sock_close(s->wake[0]);
		pgc_sock_close(s->wake[1]);
		pthread_mutex_destroy(&s->lock);
		pthread_mutex_destroy(&s->conn_lock);
		pthread_mutex_destroy(&s->fb_lock);
		pgc_secure_zero(&s->p, sizeof(s->p));
		pgc_mem_unlock(&s->p, sizeof(s->p));
		free(s);
		return NULL;
	}
	return s;
}

void vsession_free(struct vsession *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (pgc_sock_send(s->wake[1], "x", 1) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		vlog("cannot wake the network thread: %s", strerror(errno));
	/*
	 * A login in flight does not look at the stop flag and may take until
	 * its timeout. Do not keep a closing window's process waiting for it:
	 * wipe the password (the request already holds its own copy) and leave
	 * the thread and this structure to end with the process.
	 */
	if (pgc_thread_join_ms(s->thread, VSESSION_JOIN_WAIT_S * 1000) != 0) {
		vlog("the network thread is still busy (a login in progress); not waiting for it");
		pgc_secure_zero(s->p.password, sizeof(s->p.password));
		return;
	}
	pgc_sock_close(s->wake[0]);
	pgc_sock_close(s->wake[1]);
	pgc_secure_zero(&s->p, sizeof(s->p));
	pgc_mem_unlock(&s->p, sizeof(s->p));
	free(s->shadow);
	free(s->clip_in);
	free(s->cursor);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->conn_lock);
	pthread_mutex_destroy(&s->fb_lock);
	free(s);
}

void vsession_get_status(struct vsession *s, struct vsession_status *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

void vsession_set_size(struct vsession *s, int width, int height)
{
	pthread_mutex_lock(&s->lock);
	s->want_w = width;
	s->want_h = height;
	pthread_mutex_unlock(&s->lock);
}

int vsession_key(struct vsession *s, uint32_t keysym, bool down)
{
	int rc = -1;

	pthread_mutex_lock(&s->conn_lock);
	if (s->conn)
		rc = pgc_key(s->conn, keysym, down);
	pthread_mutex_unlock(&s->conn_lock);
	return rc;
}

int vsession_offer_clipboard(struct vsession *s)
{
	int rc = -1;
	bool allowed;
	unsigned max;

	pthread_mutex_lock(&s->conn_lock);
	allowed = s->conn != NULL && s->clip_to_browser;
	max = s->clip_max;
	pthread_mutex_unlock(&s->conn_lock);
	if (!allowed || !SDL_HasClipboardText())
		return -1; /* the policy is off: nothing leaves the terminal */
	char *text = SDL_GetClipboardText();
	if (text == NULL)
		return -1;
	size_t len = strlen(text);
	if (len == 0 || len > max) {
		if (len > max)
			vlog("clipboard text of %zu bytes not sent: the server takes at most %u",
			     len, max);
	} else {
		pthread_mutex_lock(&s->conn_lock);
		if (s->conn)
			rc = pgc_send_clipboard(s->conn, text, len);
		pthread_mutex_unlock(&s->conn_lock);
		if (rc == 0)
			vlog("clipboard text (%zu bytes) sent for the paste", len);
	}
	pgc_secure_zero(text, len);
	SDL_free(text);
	return rc;
}

int vsession_pointer(struct vsession *s, int x, int y, int button_mask)
{
	int rc = -1;

	pthread_mutex_lock(&s->conn_lock);
	if (s->conn)
		rc = pgc_pointer(s->conn, x, y, button_mask);
	pthread_mutex_unlock(&s->conn_lock);
	return rc;
}

bool vsession_frame_begin(struct vsession *s, struct vsession_frame *f)
{
	atomic_store(&s->frame_posted, false);
	pthread_mutex_lock(&s->fb_lock);
	if (!s->shadow) {
		pthread_mutex_unlock(&s->fb_lock);
		return false;
	}
	f->pixels = s->shadow;
	f->width = s->shadow_w;
	f->height = s->shadow_h;
	f->generation = s->generation;
	f->ndirty = s->ndirty;
	memcpy(f->dirty, s->dirty, sizeof(f->dirty[0]) * (size_t)s->ndirty);
	return true;
}

void vsession_frame_end(struct vsession *s)
{
	s->ndirty = 0;
	pthread_mutex_unlock(&s->fb_lock);
}

void vsession_cursor_begin(struct vsession *s, struct vsession_cursor *c)
{
	pthread_mutex_lock(&s->fb_lock);
	c->pixels = s->cursor;
	c->width = s->cursor_w;
	c->height = s->cursor_h;
	c->xhot = s->cursor_xhot;
	c->yhot = s->cursor_yhot;
}

void vsession_cursor_end(struct vsession *s)
{
	pthread_mutex_unlock(&s->fb_lock);
}
