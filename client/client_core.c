/*
 * client_core.c: the RFB client of the client library (client_core.h):
 * pgc_connect ... pgc_free. libvncclient runs on the caller's thread on one
 * end of a socketpair whose other end client_bridge.c bridges to the
 * WebSocket; libvncclient calls are serialised by conn->rfb_lock.
 */
#include "clip_text.h"
#include "rfb_filter.h"
#include "client_conn.h"
#include "client_core.h"
#include "keysym.h"
#include "utf8.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Last libvncclient error / log line of this thread (libvncclient runs on
   the caller's thread), used to explain failures. */
static _Thread_local char tl_rfb_err[256];
static _Thread_local char tl_rfb_log[256];

/* Copies a libvncclient message into buf without its trailing newline. */
static void rfb_format_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t n;

	if (!fmt) {
		buf[0] = '\0';
		return;
	}
	vsnprintf(buf, size, fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
}

/* rfbClientLog replacement: remembers the line, prints it only in debug. */
static void __attribute__((format(__printf__, 1, 2))) rfb_log_cb(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_format_line(tl_rfb_log, sizeof(tl_rfb_log), fmt, ap);
	va_end(ap);
	if (pgc_tls_debug())
		fprintf(stderr, "pgc: rfb: %s\n", tl_rfb_log);
}

/* rfbClientErr replacement: remembers the line, prints it only in debug. */
static void __attribute__((format(__printf__, 1, 2))) rfb_err_cb(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_format_line(tl_rfb_err, sizeof(tl_rfb_err), fmt, ap);
	va_end(ap);
	if (pgc_tls_debug())
		fprintf(stderr, "pgc: rfb error: %s\n", tl_rfb_err);
}
static pthread_once_t g_rfb_once = PTHREAD_ONCE_INIT;

/* Runs once: routes libvncclient's logs (process-global settings). */
static void rfb_log_init(void)
{
	rfbClientLog = rfb_log_cb;
	rfbClientErr = rfb_err_cb;
}

/* Tag for rfbClientSetClientData(). */
static int pgc_rfb_tag;

#if defined(LIBVNCSERVER_HAVE_LIBZ) && defined(LIBVNCSERVER_HAVE_LIBJPEG)
/* Exported by libvncclient (its bundled TurboJPEG wrapper); not declared in
   its headers. */
extern int tjDestroy(void *handle);
#endif

/* Percent-encodes src (everything but RFC 3986 unreserved) into dst.
   Returns 0, or -1 if it does not fit. */
static int url_encode(const char *src, char *dst, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *src; src++) {
		unsigned char ch = (unsigned char)*src;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			if (o + 1 >= size)
				return -1;
			dst[o++] = (char)ch;
		} else {
			if (o + 3 >= size)
				return -1;
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	if (o >= size)
		return -1;
	dst[o] = '\0';
	return 0;
}

/* libvncclient writes with write(), not send(MSG_NOSIGNAL): its calls run
   inside a pgc_sigpipe_guard (pgc_platform.h). */

/* Fills fb with a view of cl's framebuffer. */
static void rfb_fb_view(rfbClient *cl, struct pgc_fb *fb)
{
	fb->pixels = cl->frameBuffer;
	fb->width = cl->width;
	fb->height = cl->height;
	fb->stride_bytes = cl->width * 4;
	fb->red_shift = cl->format.redShift;
	fb->green_shift = cl->format.greenShift;
	fb->blue_shift = cl->format.blueShift;
}

/* libvncclient callback: one FramebufferUpdate fully decoded. */
static void rfb_frame_done(rfbClient *cl)
{
	struct pgc_conn *c = rfbClientGetClientData(cl, &pgc_rfb_tag);

	if (!c)
		return;
	atomic_fetch_add_explicit(&c->frames, 1, memory_order_relaxed);
	if (c->cb.frame_done)
		c->cb.frame_done(c->cb.user);
}

/* libvncclient callback (wired only with cb.fb_update): a rectangle was
   decoded into the framebuffer. libvncclient checked it against the
   framebuffer size; check again, the application copies from it. */
static void rfb_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	struct pgc_conn *c = rfbClientGetClientData(cl, &pgc_rfb_tag);
	struct pgc_fb fb;

	if (!c || !c->cb.fb_update || !cl->frameBuffer)
		return;
	if (x < 0 || y < 0 || w <= 0 || h <= 0 || x > cl->width - w || y > cl->height - h)
		return;
	rfb_fb_view(cl, &fb);
	c->cb.fb_update(c->cb.user, &fb, x, y, w, h);
}

/*
 * libvncclient callback (wired only with cb.cursor_shape, which also asks
 * the server for cursor shapes): hands the shape in cl->rcSource/rcMask to
 * the application, then frees both (libvncclient 0.9.14 allocates a new
 * rcMask for every shape without freeing the previous one).
 */
static void rfb_got_cursor(rfbClient *cl, int xhot, int yhot, int width, int height,
			   int bytes_per_pixel)
{
	struct pgc_conn *c = rfbClientGetClientData(cl, &pgc_rfb_tag);
	struct pgc_fb fmt;

	if (c && c->cb.cursor_shape && cl->rcSource && cl->rcMask && bytes_per_pixel == 4 &&
	    width >= 0 && height >= 0 && width <= 256 && height <= 256) {
		rfb_fb_view(cl, &fmt);
		fmt.pixels = NULL;
		fmt.width = width;
		fmt.height = height;
		fmt.stride_bytes = width * 4;
		c->cb.cursor_shape(c->cb.user, xhot, yhot, width, height, &fmt, cl->rcSource,
				   cl->rcMask);
	}
	free(cl->rcSource);
	cl->rcSource = NULL;
	free(cl->rcMask);
	cl->rcMask = NULL;
}

/* libvncclient callback replacing its MallocFrameBuffer: same job, but the
   buffer is also remembered in the conn, because rfbInitClient() does not
   free it when the handshake fails after ServerInit (0.9.14). Returns
   FALSE for absurd sizes or when out of memory. */
static rfbBool rfb_alloc_fb(rfbClient *cl)
{
	struct pgc_conn *c = rfbClientGetClientData(cl, &pgc_rfb_tag);
	uint64_t size;

	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	if (c)
		c->fb = NULL;
	if (cl->width <= 0 || cl->height <= 0 || cl->width > 16384 || cl->height > 16384 ||
	    cl->format.bitsPerPixel <= 0) {
		rfbClientErr("refusing a %dx%d framebuffer\n", cl->width, cl->height);
		return FALSE;
	}
	size = (uint64_t)cl->width * (uint64_t)cl->height * (uint64_t)(cl->format.bitsPerPixel / 8);
	cl->frameBuffer = malloc((size_t)size);
	if (c)
		c->fb = cl->frameBuffer;
	if (!cl->frameBuffer)
		return FALSE;
	if (c && c->cb.fb_resized) {
		struct pgc_fb fb;

		rfb_fb_view(cl, &fb);
		c->cb.fb_resized(c->cb.user, &fb);
	}
	return TRUE;
}

void pgc_rfb_client_free(rfbClient *cl)
{
	if (!cl)
		return;
#if defined(LIBVNCSERVER_HAVE_LIBZ) && defined(LIBVNCSERVER_HAVE_LIBJPEG)
	if (cl->tjhnd) {
		tjDestroy(cl->tjhnd);
		cl->tjhnd = NULL;
	}
#endif
	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	/* the last cursor shape when nothing took it (rfb_got_cursor() is not
	   wired, as in a recording's playback): rfbClientCleanup() leaves it */
	free(cl->rcSource);
	cl->rcSource = NULL;
	free(cl->rcMask);
	cl->rcMask = NULL;
	rfbClientCleanup(cl);
}

/* Frees cl (pgc_rfb_client_free()) and forgets c's framebuffer, which was
   cl's. */
static void rfb_destroy(struct pgc_conn *c, rfbClient *cl)
{
	pgc_rfb_client_free(cl);
	c->fb = NULL;
}

/* libvncclient callback: we only offer security type None. */
static char *rfb_no_password(rfbClient *cl)
{
	(void)cl;
	return NULL;
}

/*
 * The extended clipboard's pseudo-encoding in every SetEncodings
 * libvncclient sends (its extensions' encodings are appended): the gateway
 * then sends the session's copies as UTF-8 Provides, which the guard takes
 * out of the stream (guard_clip()) before libvncclient, which has no
 * extended clipboard, sees them. Registered once per process.
 */
static int pgc_ext_clip_encodings[] = { (int)RFB_ENCODING_EXT_CLIPBOARD, 0 };
static rfbClientProtocolExtension pgc_ext_clip = { .encodings = pgc_ext_clip_encodings };
static pthread_once_t pgc_ext_clip_once = PTHREAD_ONCE_INIT;

static void pgc_ext_clip_register(void)
{
	rfbClientRegisterExtension(&pgc_ext_clip);
}

rfbClient *pgc_rfb_client_new(const char *host)
{
	static const uint32_t auth_none[] = { rfbNoAuth, 0 };
	pthread_once(&pgc_ext_clip_once, pgc_ext_clip_register);
	rfbClient *cl = rfbGetClient(8, 3, 4);
	if (cl == NULL)
		return NULL;
	free(cl->serverHost);
	cl->serverHost = strdup(host);
	if (cl->serverHost == NULL) {
		pgc_rfb_client_free(cl);
		return NULL;
	}
	cl->canHandleNewFBSize = TRUE;
	cl->appData.encodingsString = "tight zrle zlib hextile copyrect raw";
	SetClientAuthSchemes(cl, auth_none, -1);
	return cl;
}

/* Creates the libvncclient instance on the client end of the socketpair and
   runs the RFB handshake. Returns 0, or -1 with a reason in err. */
static int conn_start_rfb(struct pgc_conn *c, char *err, size_t errlen)
{
	rfbClient *cl = pgc_rfb_client_new("pixelgate");
	bool closed, by_guard, ok;
	char reason[256];
	int code;

	if (!cl) {
		pgc_set_msg(err, errlen, "out of memory");
		return -1;
	}
	cl->listenSpecified = TRUE; /* the socket is connected: do not dial */
	cl->sock = c->fd_client;
	c->fd_client = PGC_NO_SOCKET; /* rfbClientCleanup() closes it now */
	cl->appData.shareDesktop = TRUE;
	cl->GetPassword = rfb_no_password;
	cl->MallocFrameBuffer = rfb_alloc_fb;
	cl->FinishedFrameBufferUpdate = rfb_frame_done;
	if (c->cb.fb_update)
		cl->GotFrameBufferUpdate = rfb_got_update;
	if (c->cb.cursor_shape) {
		cl->appData.useRemoteCursor = TRUE;
		cl->GotCursorShape = rfb_got_cursor;
	}
	rfbClientSetClientData(cl, &pgc_rfb_tag, c);

	tl_rfb_err[0] = tl_rfb_log[0] = '\0';
	{
		struct pgc_sigpipe_guard g;

		pgc_sigpipe_block(&g);
		ok = rfbInitClient(cl, NULL, NULL);
		pgc_sigpipe_restore(&g);
	}
	if (!ok) {
		/* rfbInitClient() freed cl and closed the socket, not the buffer */
		free(c->fb);
		c->fb = NULL;
	} else if (!cl->frameBuffer) {
		rfb_destroy(c, cl);
		ok = false;
		pgc_set_msg(tl_rfb_err, sizeof(tl_rfb_err), "no framebuffer allocated");
	}
	pthread_mutex_lock(&c->lock);
	closed = c->closed;
	by_guard = c->closed_by_guard;
	code = c->close_code;
	pgc_set_msg(reason, sizeof(reason), "%s", c->close_reason);
	if (ok && !closed)
		c->rfb_ready = true;
	pthread_mutex_unlock(&c->lock);

	if (ok) {
		c->rfb = cl; /* on failure freed by pgc_free() */
		if (!closed)
			return 0;
	}
	if (closed && by_guard)
		pgc_set_msg(err, errlen,
			    "the viewer closed the connection during the RFB handshake: "
			    "%d %s",
			    code, reason);
	else if (closed && code)
		pgc_set_msg(err, errlen,
			    "server closed the connection during the RFB handshake: %d %s", code,
			    reason);
	else if (closed)
		pgc_set_msg(err, errlen, "RFB handshake failed: %s", reason);
	else
		pgc_set_msg(err, errlen, "RFB handshake failed: %s",
			    tl_rfb_err[0]       ? tl_rfb_err
				: tl_rfb_log[0] ? tl_rfb_log
						: "unknown error");
	return -1;
}

struct pgc_conn *pgc_connect(const struct pgc_server *srv, const char *ticket, char *err,
			     size_t errlen, int *http_status)
{
	return pgc_connect_cb(srv, ticket, NULL, err, errlen, http_status);
}

/*
 * The connect of pgc_connect_cb() and pgc_connect_ws(): WebSocket to srv at
 * path, then the RFB handshake; with filter_out, what libvncclient writes
 * passes the gateway's filter first (client_conn.h). NULL with err filled
 * on failure.
 */
static struct pgc_conn *conn_connect(const struct pgc_server *srv, const char *path,
				     const struct pgc_callbacks *cb, bool filter_out, char *err,
				     size_t errlen, int *http_status)
{
	int64_t deadline = pgc_clock_ms() + (int64_t)CONNECT_TIMEOUT_S * 1000;
	struct pgc_conn *c;
	pgc_socket sv[2];

	c = pgc_conn_alloc();
	if (!c) {
		pgc_set_msg(err, errlen, "out of memory");
		return NULL;
	}
	c->srv = *srv;
	if (cb)
		c->cb = *cb;
	pgc_set_msg(c->path, sizeof(c->path), "%s", path);
	if (filter_out) {
		c->filter_out = true;
		rfb_filter_init(&c->filt, false, 0);
		c->filt_in.cap = BRIDGE_BUF_HIGH + BRIDGE_BUF_SLACK;
		c->filt_in.data = malloc(c->filt_in.cap);
		if (!c->filt_in.data) {
			pgc_set_msg(err, errlen, "out of memory");
			goto fail;
		}
	}

	if (pgc_sock_pair(sv)) {
		pgc_set_msg(err, errlen, "socket pair: %s", strerror(errno));
		goto fail;
	}
	c->fd_bridge = sv[0];
	c->fd_client = sv[1];
	if (pgc_sock_set_nonblock(c->fd_bridge)) {
		pgc_set_msg(err, errlen, "non-blocking bridge socket: %s", strerror(errno));
		goto fail;
	}

	if (pgc_bridge_open(c, deadline, err, errlen, http_status))
		goto fail;
	if (conn_start_rfb(c, err, errlen))
		goto fail;
	return c;

fail:
	pgc_free(c);
	return NULL;
}

struct pgc_conn *pgc_connect_cb(const struct pgc_server *srv, const char *ticket,
				const struct pgc_callbacks *cb, char *err, size_t errlen,
				int *http_status)
{
	char enc[3 * MAX_TICKET_LEN + 1], path[32 + 3 * MAX_TICKET_LEN];

	if (http_status)
		*http_status = 0;
	if (err && errlen)
		err[0] = '\0';
	pgc_tls_init();
	pthread_once(&g_rfb_once, rfb_log_init);
	if (pgc_check_server(srv, err, errlen))
		return NULL;
	if (!ticket || !*ticket || strlen(ticket) > MAX_TICKET_LEN ||
	    url_encode(ticket, enc, sizeof(enc))) {
		pgc_set_msg(err, errlen, "invalid ticket");
		return NULL;
	}
	pgc_set_msg(path, sizeof(path), "/rfb?ticket=%s", enc);
	return conn_connect(srv, path, cb, false, err, errlen, http_status);
}

struct pgc_conn *pgc_connect_ws(const struct pgc_server *srv, const char *path,
				const struct pgc_callbacks *cb, char *err, size_t errlen)
{
	const char *p;

	if (err && errlen)
		err[0] = '\0';
	pgc_tls_init();
	pthread_once(&g_rfb_once, rfb_log_init);
	if (pgc_check_server(srv, err, errlen))
		return NULL;
	if (!path || path[0] != '/' || strlen(path) >= sizeof(((struct pgc_conn *)0)->path)) {
		pgc_set_msg(err, errlen, "invalid path");
		return NULL;
	}
	for (p = path; *p; p++)
		if (*p <= ' ' || *p > '~') {
			pgc_set_msg(err, errlen, "invalid path");
			return NULL;
		}
	return conn_connect(srv, path, cb, true, err, errlen, NULL);
}

rfbClient *pgc_rfb(struct pgc_conn *c)
{
	return c ? c->rfb : NULL;
}

pgc_socket pgc_fd(struct pgc_conn *c)
{
	if (!c || !c->rfb || atomic_load(&c->rfb_dead))
		return PGC_NO_SOCKET;
	return c->rfb->sock;
}

/* Waits up to timeout_ms for fd to become readable: 1 yes, 0 timeout,
   -1 error. */
static int wait_readable(pgc_socket fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
	int64_t end = pgc_clock_ms() + timeout_ms;
	int n;

	for (;;) {
		n = pgc_poll(&p, 1, timeout_ms);
		if (n >= 0)
			return n > 0 ? 1 : 0;
		if (errno != EINTR)
			return -1;
		timeout_ms = (int)(end - pgc_clock_ms());
		if (timeout_ms < 0)
			timeout_ms = 0;
	}
}

/* Caller: an RFB call failed; close the connection with that reason. */
static void conn_rfb_failed(struct pgc_conn *c, const char *what)
{
	char reason[256];

	atomic_store(&c->rfb_dead, true);
	pgc_set_msg(reason, sizeof(reason), "%s: %s", what,
		    tl_rfb_err[0]       ? tl_rfb_err
			: tl_rfb_log[0] ? tl_rfb_log
					: "connection lost");
	pgc_conn_mark_closed(c, 0, reason);
	pthread_mutex_lock(&c->lock);
	c->close_req = true;
	pthread_mutex_unlock(&c->lock);
	lws_cancel_service(c->ctx);
}

int pgc_pump(struct pgc_conn *c, int timeout_ms)
{
	struct pgc_sigpipe_guard g;
	int handled = 0, r;
	rfbBool ok;

	if (!c || !c->rfb || atomic_load(&c->rfb_dead))
		return -1;
	if (timeout_ms < 0)
		timeout_ms = 0;
	/* poll() rather than WaitForMessage(): no FD_SETSIZE limit, and data
	   libvncclient already buffered counts as a message. */
	r = c->rfb->buffered > 0 ? 1 : wait_readable(c->rfb->sock, timeout_ms);
	if (r < 0) {
		tl_rfb_err[0] = tl_rfb_log[0] = '\0';
		conn_rfb_failed(c, "poll failed");
		return -1;
	}
	while (r > 0) {
		tl_rfb_err[0] = tl_rfb_log[0] = '\0';
		pthread_mutex_lock(&c->rfb_lock);
		pgc_sigpipe_block(&g);
		ok = HandleRFBServerMessage(c->rfb);
		pgc_sigpipe_restore(&g);
		pthread_mutex_unlock(&c->rfb_lock);
		if (!ok) {
			conn_rfb_failed(c, "RFB error");
			return -1;
		}
		/* keep going while more is immediately available, within reason */
		if (++handled >= 64)
			break;
		r = c->rfb->buffered > 0 ? 1 : wait_readable(c->rfb->sock, 0);
	}
	return handled ? 1 : 0;
}

uint64_t pgc_frames(struct pgc_conn *c)
{
	return c ? atomic_load_explicit(&c->frames, memory_order_relaxed) : 0;
}

uint64_t pgc_bytes_in(struct pgc_conn *c)
{
	return c ? atomic_load_explicit(&c->bytes_in, memory_order_relaxed) : 0;
}

uint64_t pgc_jpeg_rects(struct pgc_conn *c)
{
	return c ? atomic_load_explicit(&c->jpeg_rects, memory_order_relaxed) : 0;
}

/* Common entry check of the send functions: usable and not closed. */
static bool conn_can_send(struct pgc_conn *c)
{
	return c && c->rfb && !atomic_load(&c->rfb_dead) && !pgc_closed(c);
}

int pgc_send_raw(struct pgc_conn *c, const void *buf, size_t len)
{
	struct pgc_sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c) || (len && !buf) || len > INT_MAX)
		return -1;
	if (!len)
		return 0;
	pthread_mutex_lock(&c->rfb_lock);
	pgc_sigpipe_block(&g);
	ok = WriteToRFBServer(c->rfb, buf, (unsigned int)len);
	pgc_sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

int pgc_send_clipboard(struct pgc_conn *c, const char *utf8, size_t len)
{
	uint8_t *msg = NULL;
	size_t msg_len = 0;
	int rc;

	if (clip_text_provide_message(CLIP_CLIENT_CUT_TEXT, utf8, len, &msg, &msg_len) != 0)
		return -1;
	rc = pgc_send_raw(c, msg, msg_len);
	pgc_secure_zero(msg, msg_len);
	free(msg);
	return rc;
}

uint64_t pgc_last_clipboard(struct pgc_conn *c, char *out, size_t outlen)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->clip_count;
	if (outlen)
		snprintf(out, outlen, "%s", c->clip_last ? c->clip_last : "");
	pthread_mutex_unlock(&c->lock);
	return n;
}

int pgc_key(struct pgc_conn *c, uint32_t keysym, bool down)
{
	struct pgc_sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	pgc_sigpipe_block(&g);
	ok = SendKeyEvent(c->rfb, keysym, down ? TRUE : FALSE);
	pgc_sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

int pgc_pointer(struct pgc_conn *c, int x, int y, int button_mask)
{
	struct pgc_sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	pgc_sigpipe_block(&g);
	ok = SendPointerEvent(c->rfb, x, y, button_mask);
	pgc_sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

/* The keysym pgc_type_utf8() sends for code point cp: Return and Tab for
   a line feed and a tab, else keysym.h's rule (0: not typed). */
static uint32_t keysym_for(uint32_t cp)
{
	if (cp == '\n')
		return 0xff0d; /* XK_Return */
	if (cp == '\t')
		return 0xff09; /* XK_Tab */
	return keysym_from_codepoint(cp);
}

/* The next character of the NUL-terminated text at *p (advanced past it)
   as the keysym that types it; 0 if it is not valid UTF-8 or has none. */
static uint32_t keysym_next(const unsigned char **p)
{
	uint32_t cp;
	size_t len = utf8_next(*p, strnlen((const char *)*p, 4), &cp);

	if (!len)
		return 0;
	*p += len;
	return keysym_for(cp);
}

int pgc_type_utf8(struct pgc_conn *c, const char *text)
{
	const unsigned char *p;
	struct pgc_sigpipe_guard g;
	bool ok = true;

	if (!text)
		return -1;
	for (p = (const unsigned char *)text; *p;) /* validate everything first */
		if (!keysym_next(&p))
			return -1;
	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	pgc_sigpipe_block(&g);
	for (p = (const unsigned char *)text; *p && ok;) {
		uint32_t ks = keysym_next(&p);

		ok = SendKeyEvent(c->rfb, ks, TRUE) && SendKeyEvent(c->rfb, ks, FALSE);
	}
	pgc_sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

bool pgc_closed(struct pgc_conn *c)
{
	bool closed;

	if (!c)
		return true;
	pthread_mutex_lock(&c->lock);
	closed = c->closed;
	pthread_mutex_unlock(&c->lock);
	return closed;
}

const char *pgc_close_reason(struct pgc_conn *c)
{
	/* close_reason never changes once closed is set */
	if (!c)
		return "no connection";
	return pgc_closed(c) ? c->close_reason : "";
}

int pgc_close_code(struct pgc_conn *c)
{
	int code;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	code = c->closed ? c->close_code : 0;
	pthread_mutex_unlock(&c->lock);
	return code;
}

void pgc_free(struct pgc_conn *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		pthread_mutex_lock(&c->lock);
		c->stop_req = true;
		pthread_mutex_unlock(&c->lock);
		lws_cancel_service(c->ctx);
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
	if (c->ctx) {
		lws_sul_cancel(&c->sul_watchdog);
		lws_sul_cancel(&c->sul_grace);
		c->destroying = true;
		pgc_lws_context_free(c->ctx, c->ssl_ctx);
		c->ctx = NULL;
		c->ssl_ctx = NULL;
	}
	pgc_tls_gate_leave(&c->gate_held); /* attempt abandoned mid-handshake */
	if (c->rfb) {
		rfb_destroy(c, c->rfb); /* closes the client end */
		c->rfb = NULL;
	}
	pgc_sock_close(c->fd_client);
	pgc_sock_close(c->fd_bridge); /* never adopted */
	free(c->to_raw.data);
	if (c->guard.clip)
		pgc_secure_zero(c->guard.clip, c->guard.clip_len);
	free(c->guard.clip);
	if (c->clip_last)
		pgc_secure_zero(c->clip_last, strlen(c->clip_last));
	free(c->clip_last);
	free(c->to_ws.data);
	free(c->filt_in.data);
	free(c->txbuf);
	if (c->locks_ok) {
		pthread_mutex_destroy(&c->rfb_lock);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
	}
	free(c);
}
