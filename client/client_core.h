/*
 * client_core.h: the pixelgate client library (staff side): the RFB client.
 *
 * Logs in over HTTPS (POST /api/v1/login, client_http.h, which this header
 * includes), opens wss://HOST:PORT/rfb?ticket=T
 * with subprotocol "binary" and the server's CA pinned (the OS CA store is
 * disabled), and runs libvncclient on one end of a socketpair whose other end
 * is bridged to the WebSocket by a libwebsockets service thread. Used by the
 * viewer application, the integration tests and the benchmark.
 *
 * The bridge is also the viewer's own guard: every byte from the server
 * passes the gateway's server -> client parser (proxy/common/rfb_stream.h)
 * before libvncclient may read it, with what libvncclient itself asked for
 * (its SetPixelFormat, SetEncodings, update requests), so a rectangle in an
 * encoding it did not ask for, a framebuffer of a size no pixelgate session
 * has or that changes, and any text (ServerCutText, TextChat, ...) never
 * reach libvncclient's decoders: the connection is closed with
 * PGC_CLOSE_REFUSED instead.
 */
#ifndef PIXELGATE_CLIENT_CORE_H
#define PIXELGATE_CLIENT_CORE_H

#include "client_http.h"
#include "pgc_platform.h"

#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * pgc_close_code() when the client's guard refused the server's data (the
 * same code the gateway closes a viewer with when it refuses the browser
 * side's); pgc_close_reason() then starts with "the server sent data this
 * viewer refuses: " and says what.
 */
#define PGC_CLOSE_REFUSED 4007

/*
 * The framebuffer sizes the guard accepts in ServerInit, pixels: those a
 * pixelgate gateway can give a session (its [session] width and height
 * bounds). A login may be answered with a session of another size than it
 * asked for (it reattaches to the user's running session), so the size is
 * not pinned to the login's; once ServerInit set it, it never changes
 * (a DesktopSize must repeat it).
 */
#define PGC_FB_MIN_WIDTH 640
#define PGC_FB_MIN_HEIGHT 480
#define PGC_FB_MAX_WIDTH 7680
#define PGC_FB_MAX_HEIGHT 4320

struct pgc_conn;

/*
 * Open the WebSocket for ticket and complete the RFB handshake with
 * libvncclient. On failure returns NULL and writes a reason into err; if the
 * server refused the upgrade, *http_status (if not NULL) gets its status
 * (e.g. 401), else 0. A connection closed during the handshake is
 * "... during the RFB handshake: CODE REASON" (the guard's refusal:
 * "the viewer closed the connection during the RFB handshake: 4007 the
 * server sent data this viewer refuses: ...").
 */
struct pgc_conn *pgc_connect(const struct pgc_server *srv, const char *ticket, char *err,
			     size_t errlen, int *http_status);

/*
 * A read-only view of the framebuffer, handed to the callbacks below. Pixels
 * are 32 bits, little-endian, width * height, stride_bytes apart; a pixel's
 * colour is (p >> red_shift) & 0xff etc.
 */
struct pgc_fb {
	const uint8_t *pixels;
	int width;
	int height;
	int stride_bytes;
	int red_shift;
	int green_shift;
	int blue_shift;
};

/*
 * What an application (the viewer) wants to hear about a connection. Every
 * callback runs on the thread that drives libvncclient (the caller of
 * pgc_connect_cb() during the handshake, then the caller of pgc_pump()) with
 * the connection's libvncclient lock held: a callback must be quick, must
 * not keep fb->pixels or the cursor buffers after it returns, and must not
 * call pgc_* functions of the same connection. NULL members are not wired
 * (no cursor callback: the server is not asked for cursor shapes).
 */
struct pgc_callbacks {
	void *user; /* first argument of every callback */
	/* The framebuffer was (re)allocated at fb->width x fb->height: at the
	   handshake and on a desktop-size change. Its content is undefined
	   until updates arrive. */
	void (*fb_resized)(void *user, const struct pgc_fb *fb);
	/* Rectangle (x, y, w, h), inside the framebuffer, now holds new pixels. */
	void (*fb_update)(void *user, const struct pgc_fb *fb, int x, int y, int w, int h);
	/* One FramebufferUpdate message was fully decoded. */
	void (*frame_done)(void *user);
	/* The server's cursor shape: width x height pixels in the framebuffer's
	   format (stride width * 4) and a mask of width * height bytes, 1 =
	   opaque; hot spot (xhot, yhot). width == 0 hides the cursor. */
	void (*cursor_shape)(void *user, int xhot, int yhot, int width, int height,
			     const struct pgc_fb *format, const uint8_t *pixels,
			     const uint8_t *mask);
	/* Text copied in the session's browser (clipboard_to_terminal): safe
	   UTF-8 (no control characters but tab and LF), len bytes. Called on
	   the connection's own thread, without the libvncclient lock. */
	void (*clipboard_text)(void *user, const char *utf8, size_t len);
};

/*
 * pgc_connect() with callbacks (cb may be NULL; it is copied). Arguments and
 * result as for pgc_connect().
 */
struct pgc_conn *pgc_connect_cb(const struct pgc_server *srv, const char *ticket,
				const struct pgc_callbacks *cb, char *err, size_t errlen,
				int *http_status);

/*
 * An RFB connection over wss://srv->host:srv->port/path (subprotocol
 * "binary", srv->ca_file pinned) to a server that needs no login, e.g. a
 * VNC server behind websockify: no ticket; the RFB handshake and the
 * guard as for pgc_connect_cb(), and what libvncclient sends passes the
 * gateway's viewer -> browser filter (rfb_filter.h) on its way, so the
 * server is asked for the same encodings a pixelgate worker is. For the
 * benchmark's comparison with other servers. path starts with '/' and is
 * printable ASCII. NULL with a reason in err on failure.
 */
struct pgc_conn *pgc_connect_ws(const struct pgc_server *srv, const char *path,
				const struct pgc_callbacks *cb, char *err, size_t errlen);

/*
 * The descriptor to poll (POLLIN) for server data, for callers that wait on
 * several descriptors instead of blocking in pgc_pump(): when it is readable,
 * or after pgc_pump() returned 1, call pgc_pump(c, 0) again; wait on the
 * descriptor only once pgc_pump(c, 0) returned 0 (libvncclient may hold
 * buffered data the descriptor does not show). PGC_NO_SOCKET if c is not
 * usable.
 */
pgc_socket pgc_fd(struct pgc_conn *c);

/* The libvncclient instance (frameBuffer, width, height, SendKeyEvent, ...). */
rfbClient *pgc_rfb(struct pgc_conn *c);

/*
 * Process server messages for up to timeout_ms. Returns 1 if at least one
 * message was handled, 0 on timeout, -1 when the connection is closed (see
 * pgc_close_reason()).
 */
int pgc_pump(struct pgc_conn *c, int timeout_ms);

/* Number of FramebufferUpdate messages fully decoded so far. */
uint64_t pgc_frames(struct pgc_conn *c);

/* Bytes received from the WebSocket so far (server -> client RFB bytes). */
uint64_t pgc_bytes_in(struct pgc_conn *c);
/* Tight JPEG rectangles received (counted by the guard; 0 without it). */
uint64_t pgc_jpeg_rects(struct pgc_conn *c);

/*
 * Send raw bytes into the RFB stream as if libvncclient wrote them (tests).
 * The guard frames them with libvncclient's own messages; after one it
 * cannot frame (a type other than 0 and 2-6, or a SetEncodings of more than
 * 64 encodings: the gateway closes a viewer that sends such a thing), it
 * gives libvncclient nothing more from the server.
 */
int pgc_send_raw(struct pgc_conn *c, const void *buf, size_t len);

/* Send a KeyEvent / PointerEvent (thin wrappers over libvncclient). */
int pgc_key(struct pgc_conn *c, uint32_t keysym, bool down);
int pgc_pointer(struct pgc_conn *c, int x, int y, int button_mask);

/* Type UTF-8 text: each character as a key down+up of the keysym
   keysym.h's rule gives it (Latin-1 keysyms for U+0020..U+007E and
   U+00A0..U+00FF, Unicode keysyms for the rest), Return for "\n" and Tab
   for "\t". Returns 0, or -1 (nothing sent) if text is not valid UTF-8 or
   holds another control character. */
int pgc_type_utf8(struct pgc_conn *c, const char *text);

/*
 * The terminal's clipboard text (UTF-8, len bytes, at most CLIP_TEXT_MAX) to
 * the session, as the extended clipboard's Provide (clip_text.h): the
 * gateway takes it when the session's policy allows text into the browser,
 * and refuses it (audited) otherwise. Returns 0, or -1 (nothing sent).
 */
int pgc_send_clipboard(struct pgc_conn *c, const char *utf8, size_t len);

/*
 * The last clipboard text the session sent (a copy in its browser, with
 * clipboard_to_terminal on) into out (NUL-terminated, cut to outlen - 1),
 * and how many have come in all. 0 when none came.
 */
uint64_t pgc_last_clipboard(struct pgc_conn *c, char *out, size_t outlen);

/* True once the connection is closed; the reason the server gave (WebSocket
   close code and text), the guard's (PGC_CLOSE_REFUSED and what it
   refused) or another local cause (code 0). */
bool pgc_closed(struct pgc_conn *c);
const char *pgc_close_reason(struct pgc_conn *c);
int pgc_close_code(struct pgc_conn *c);

/* Close (if still open) and free everything. NULL is fine. */
void pgc_free(struct pgc_conn *c);

/*
 * rfbClientCleanup() of libvncclient 0.9.14 with what it leaves behind:
 * frees cl's frameBuffer (which must be malloc'd, as libvncclient's own
 * MallocFrameBuffer does) and the Tight decoder's TurboJPEG handle first.
 * For any rfbClient of this process (pgc_connect's, a recording export's).
 * NULL is fine.
 */
void pgc_rfb_client_free(rfbClient *cl);
/* A libvncclient instance as every client of pixelgate makes it: 32 bpp in
   host order (rfbGetClient(8, 3, 4)), resizable, the encodings the gateway
   allows, None authentication only, host in serverHost (a recording's path
   for playback). NULL when out of memory. */
rfbClient *pgc_rfb_client_new(const char *host);

#endif
