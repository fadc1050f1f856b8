/*
 * client_bridge.c: the WebSocket <-> libvncclient bridge of a connection
 * (client_conn.h).
 *
 * A socketpair whose "client" end is handed to libvncclient (client_core.c,
 * on the caller's thread) and whose "bridge" end is adopted as a raw socket
 * into a per-connection lws context serviced by its own thread. That thread
 * shovels bytes between the raw socket and the wss:// connection
 * (subprotocol "binary"), with bounded buffers and rx flow control in both
 * directions.
 *
 * Threads: lws objects are only touched by the thread that services their
 * context (the caller for HTTP, the bridge thread for a connection), except
 * lws_cancel_service(), which is how other threads wake the bridge thread
 * (it then looks at the request flags under conn->lock in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED). The context is created and the
 * connection started before the bridge thread exists, and destroyed after
 * it was joined. libvncclient calls are serialised by conn->rfb_lock.
 *
 * Closing: when the WebSocket closes, the bridge thread records the close
 * code and reason, flushes what is left for libvncclient and shuts down the
 * write side of its socketpair end, so libvncclient reads EOF. It keeps
 * reading (and discarding) what libvncclient writes until pgc_free(), so a
 * write never hits a closed socket.
 *
 * Guard (issue 10, "the viewer defends itself too"): the bridge thread runs
 * the gateway's server -> client parser (rfb_stream.h) over the server's
 * bytes where they land, in to_raw, and gives libvncclient only the bytes
 * it passed (to_raw's first raw_ok bytes): a field cut short waits there
 * for the rest, nothing is copied again. What libvncclient writes is framed
 * on its way out (guard_client()) and SetPixelFormat, SetEncodings and
 * FramebufferUpdateRequest are told to the parser, so it checks each
 * rectangle against the encodings libvncclient asked for. The session's
 * size is not known before ServerInit (a login can land in the user's
 * running session, of another size than it asked for): the parser learns it
 * from ServerInit once it is within PGC_FB_MIN/MAX_*, and from then on the
 * framebuffer may not change (DesktopSize must repeat it). On a refusal the
 * bytes that passed still reach libvncclient, the rest is dropped,
 * libvncclient reads EOF, the WebSocket is closed (1008) and the connection
 * is PGC_CLOSE_REFUSED with the parser's reason.
 */
#include "client_conn.h"
#include "clip_text.h"
#include "rfb_filter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------ */
/* Bridge buffers                                                           */
/* ------------------------------------------------------------------------ */

/* Allocates cap bytes. Returns 0 or -1. */
static int bbuf_init(struct bbuf *b, size_t cap)
{
	b->data = malloc(cap);
	b->cap = cap;
	b->off = 0;
	b->len = 0;
	return b->data ? 0 : -1;
}

/* Appends n bytes, compacting if needed. Returns 0, or -1 (nothing stored)
   if they do not fit. */
static int bbuf_append(struct bbuf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len)
		return -1;
	if (n > b->cap - b->off - b->len) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

/* Drops n bytes from the front. */
static void bbuf_consume(struct bbuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (!b->len)
		b->off = 0;
}

/* Records the reason the connect attempt failed (first reason wins) and
   wakes pgc_connect(). Takes c->lock. */
static void conn_fail(struct pgc_conn *c, int http_status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	if (c->state == CONN_CONNECTING) {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		va_end(ap);
		c->http_status = http_status;
		c->state = CONN_FAILED;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Marks the connection closed with code/reason (by the guard or not)
   unless it already is. Takes c->lock. Returns true if this call closed
   it. */
static bool conn_mark_closed_by(struct pgc_conn *c, int code, const char *reason, bool guard)
{
	bool first;

	pthread_mutex_lock(&c->lock);
	first = !c->closed;
	if (first) {
		c->closed = true;
		c->closed_by_guard = guard;
		c->close_code = code;
		pgc_set_msg(c->close_reason, sizeof(c->close_reason), "%s", reason);
	}
	pthread_mutex_unlock(&c->lock);
	return first;
}

/* conn_mark_closed_by() for every cause but the guard. */
bool pgc_conn_mark_closed(struct pgc_conn *c, int code, const char *reason)
{
	return conn_mark_closed_by(c, code, reason, false);
}

/* Bridge thread: half-closes the bridge end so libvncclient reads EOF. */
static void bridge_shut_raw(struct pgc_conn *c)
{
	if (c->raw && !c->raw_shut) {
		pgc_sock_shutdown_write(lws_get_socket_fd(c->raw));
		c->raw_shut = true;
	}
}

/*
 * Bridge thread: closes the connection from our side: records reason (code 0)
 * unless a reason is already known, drops what libvncclient has not read yet,
 * gives libvncclient EOF and sends a close frame with status/text.
 */
static void bridge_local_close(struct pgc_conn *c, int status, const char *text, const char *reason)
{
	pgc_conn_mark_closed(c, 0, reason);
	c->to_raw.len = 0;
	c->to_raw.off = 0;
	c->raw_ok = 0;
	bridge_shut_raw(c);
	if (c->ws && !c->ws_close_sent) {
		c->ws_close_sent = true;
		c->local_close_status = status;
		pgc_set_msg(c->local_close_text, sizeof(c->local_close_text), "%s", text);
		lws_callback_on_writable(c->ws);
	}
}

/* ------------------------------------------------------------------------ */
/* Guard: the server's bytes checked before libvncclient reads them          */
/* ------------------------------------------------------------------------ */

/* Starts the guard of a new connection. */
static void guard_init(struct pgc_guard *g)
{
	/* the size comes with ServerInit (guard_server_init()) */
	const struct rfb_sc_config cfg = {
		.width = 0,
		.height = 0,
		/* the session's copies (clipboard_to_terminal): taken out of the
		   stream by guard_clip(), libvncclient never sees them */
		.allow_cut_text = true,
		.max_cut_text_bytes = CLIP_TEXT_MAX,
		.ext_cut_text = true,
		.allowed = RFB_SC_GATEWAY_ENCODINGS,
	};

	memset(g, 0, sizeof(*g));
	rfb_sc_init(&g->sc, &cfg);
	g->cs_skip = GUARD_CLIENT_HANDSHAKE;
}

/*
 * Bridge thread: the guard refuses the server's data (why: what). The bytes
 * that passed still go to libvncclient, then it reads EOF; the rest is
 * dropped; the WebSocket is closed. The connection is PGC_CLOSE_REFUSED.
 */
static void guard_refuse(struct pgc_conn *c, const char *prefix, const char *why)
{
	char reason[sizeof(c->close_reason)];

	c->guard.refused = true;
	pgc_set_msg(reason, sizeof(reason), "%s%s", prefix, why);
	conn_mark_closed_by(c, PGC_CLOSE_REFUSED, reason, true);
	c->to_raw.len = c->raw_ok;
	if (!c->to_raw.len) {
		c->to_raw.off = 0;
		bridge_shut_raw(c);
	} else if (c->raw) {
		lws_callback_on_writable(c->raw); /* then EOF (raw_on_writeable()) */
	}
	if (c->ws && !c->ws_close_sent) {
		c->ws_close_sent = true;
		c->local_close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION; /* 1008 */
		pgc_set_msg(c->local_close_text, sizeof(c->local_close_text), "%s",
			    "client: refused the server's data");
		lws_callback_on_writable(c->ws);
	}
}

#define GUARD_REFUSES "the server sent data this viewer refuses: "

/*
 * The size of the client message whose first have bytes are in m, as far
 * as they tell: 1 when have is 0, the whole message's fixed part otherwise
 * (ClientCutText's header: its text is skipped), or 0 for a message the
 * guard cannot frame.
 */
static size_t guard_client_size(const uint8_t *m, size_t have)
{
	size_t count;

	if (!have)
		return 1;
	switch (m[0]) {
	case 0: /* SetPixelFormat */
		return 20;
	case 2: /* SetEncodings: type, pad, u16 count, count x s32 */
		if (have < 4)
			return 4;
		count = (size_t)m[2] << 8 | m[3];
		return count > GUARD_MAX_ENCODINGS ? 0 : 4 + 4 * count;
	case 3: /* FramebufferUpdateRequest */
		return 10;
	case 4: /* KeyEvent */
		return 8;
	case 5: /* PointerEvent */
		return 6;
	case 6: /* ClientCutText: type, 3 pad, u32 length, text */
		return 8;
	default:
		return 0;
	}
}

/*
 * Bridge thread: b[0 .. n) is what libvncclient wrote next (any piece of its
 * stream). Frames it into messages and tells the parser about each
 * (rfb_sc_client()). Returns 0, or -1 after guard_refuse() when the parser
 * cannot follow libvncclient (a SetPixelFormat after the first update
 * request).
 */
static int guard_client(struct pgc_conn *c, const uint8_t *b, size_t n)
{
	struct pgc_guard *g = &c->guard;
	char why[RFB_SC_REASON_LEN];
	size_t want, k;

	while (n && !g->cs_lost) {
		if (g->cs_skip) {
			k = n < g->cs_skip ? n : g->cs_skip;
			g->cs_skip -= (uint32_t)k;
			b += k;
			n -= k;
			continue;
		}
		want = guard_client_size(g->cs_msg, g->cs_have);
		if (!want) {
			g->cs_lost = true; /* held from now: see pgc_send_raw() */
			break;
		}
		if (g->cs_have < want) {
			k = want - g->cs_have < n ? want - g->cs_have : n;
			memcpy(g->cs_msg + g->cs_have, b, k);
			g->cs_have += k;
			b += k;
			n -= k;
			if (g->cs_have < want || guard_client_size(g->cs_msg, g->cs_have) != want)
				continue; /* more to come, or SetEncodings' count came */
		}
		/* a whole message (ClientCutText: its header; a negative length is
		   the extended clipboard's form, pgc_send_clipboard()'s) */
		if (g->cs_msg[0] == 6) {
			g->cs_skip = (uint32_t)g->cs_msg[4] << 24 | (uint32_t)g->cs_msg[5] << 16 |
			    (uint32_t)g->cs_msg[6] << 8 | g->cs_msg[7];
			if (g->cs_skip & 0x80000000u)
				g->cs_skip = 0u - g->cs_skip;
		} else if (!rfb_sc_client(&g->sc, g->cs_msg, g->cs_have, why, sizeof(why))) {
			guard_refuse(c,
				     "this viewer cannot check the server's data any more: ", why);
			return -1;
		}
		g->cs_have = 0;
	}
	return 0;
}

/*
 * Bridge thread: the whole ServerCutText in g->clip (plain ISO 8859-1, or
 * the extended clipboard's Provide of text) as safe UTF-8, kept as the
 * connection's last clipboard text and handed to the callback. Anything
 * else of the extended clipboard (Caps, Request, ...) is ignored.
 */
static void guard_clip_done(struct pgc_conn *c)
{
	struct pgc_guard *g = &c->guard;
	char why[CLIP_TEXT_WHY_LEN] = "";
	char *text = NULL;
	size_t n = 0;
	uint32_t len, flags;

	if (g->clip_lost || g->clip_len < 8)
		return;
	len = (uint32_t)g->clip[4] << 24 | (uint32_t)g->clip[5] << 16 | (uint32_t)g->clip[6] << 8 |
	    g->clip[7];
	if (len & 0x80000000u) {
		if (g->clip_len < 12)
			return;
		flags = (uint32_t)g->clip[8] << 24 | (uint32_t)g->clip[9] << 16 |
		    (uint32_t)g->clip[10] << 8 | g->clip[11];
		if (flags != (RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT))
			return;
		if (clip_text_from_provide(g->clip + 12, g->clip_len - 12, CLIP_TEXT_MAX, true,
					   &text, &n, why, sizeof(why)) != 0)
			text = NULL;
	} else if ((text = malloc(2 * (g->clip_len - 8) + 1)) != NULL &&
		   clip_text_from_latin1(g->clip + 8, g->clip_len - 8, text,
					 2 * (g->clip_len - 8) + 1, &n, why, sizeof(why)) != 0) {
		free(text);
		text = NULL;
	}
	if (!text)
		return; /* refused (why): nothing reaches the terminal's clipboard */
	if (c->cb.clipboard_text)
		c->cb.clipboard_text(c->cb.user, text, n);
	pthread_mutex_lock(&c->lock);
	if (c->clip_last)
		pgc_secure_zero(c->clip_last, strlen(c->clip_last));
	free(c->clip_last);
	c->clip_last = text;
	c->clip_count++;
	pthread_mutex_unlock(&c->lock);
}

/*
 * Bridge thread: a piece of a ServerCutText (len bytes at raw_ok, which the
 * parser passed) is moved out of to_raw into the guard's buffer; at its end
 * guard_clip_done() takes it.
 */
static void guard_clip(struct pgc_conn *c, size_t len, bool ends)
{
	struct pgc_guard *g = &c->guard;
	unsigned char *p = c->to_raw.data + c->to_raw.off + c->raw_ok;
	size_t want = g->clip_len + len, cap = want;
	uint32_t n;
	uint8_t *grown;

	g->passed += len;
	if (!g->clip_lost && want > g->clip_cap) {
		/* the whole message at once from its header (the parser checked
		   the length against the caps): no growing by pieces */
		if (!g->clip_len && len >= 8) {
			n = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 |
			    p[7];
			cap = 8 + (size_t)(n & 0x80000000u ? 0u - n : n);
		}
		grown = cap >= want ? realloc(g->clip, cap) : NULL;
		if (!grown) {
			g->clip_lost = true;
		} else {
			g->clip = grown;
			g->clip_cap = cap;
		}
	}
	if (!g->clip_lost) {
		memcpy(g->clip + g->clip_len, p, len);
		g->clip_len = want;
	}
	memmove(p, p + len, c->to_raw.len - c->raw_ok - len);
	c->to_raw.len -= len;
	if (!ends)
		return;
	guard_clip_done(c);
	if (g->clip)
		pgc_secure_zero(g->clip, g->clip_len);
	free(g->clip);
	g->clip = NULL;
	g->clip_len = g->clip_cap = 0;
	g->clip_lost = false;
}

/*
 * Bridge thread: ServerInit's first bytes b[0 .. 4) (width, height) are in:
 * a size of a pixelgate session becomes the parser's, which is started again
 * with it over the handshake it already passed (libvncclient has sent no
 * message yet: it waits for ServerInit). Returns 0, or -1 after
 * guard_refuse().
 */
static int guard_server_init(struct pgc_conn *c, const uint8_t *b)
{
	/* the only bytes the parser passes before ServerInit */
	static const uint8_t hs[GUARD_SERVER_INIT_AT] = { 'R', 'F', 'B', ' ', '0', '0',
							  '3', '.', '0', '0', '8', '\n',
							  1,   1,   0,   0,   0,   0 };
	struct pgc_guard *g = &c->guard;
	struct rfb_sc_config cfg = g->sc.cfg;
	struct rfb_sc_step st;
	unsigned w = (unsigned)b[0] << 8 | b[1], h = (unsigned)b[2] << 8 | b[3];
	char why[RFB_SC_REASON_LEN];
	size_t off = 0;

	if (w < PGC_FB_MIN_WIDTH || w > PGC_FB_MAX_WIDTH || h < PGC_FB_MIN_HEIGHT ||
	    h > PGC_FB_MAX_HEIGHT) {
		pgc_set_msg(why, sizeof(why), "ServerInit size %ux%u (a session is %dx%d to %dx%d)",
			    w, h, PGC_FB_MIN_WIDTH, PGC_FB_MIN_HEIGHT, PGC_FB_MAX_WIDTH,
			    PGC_FB_MAX_HEIGHT);
		guard_refuse(c, GUARD_REFUSES, why);
		return -1;
	}
	cfg.width = (uint16_t)w;
	cfg.height = (uint16_t)h;
	rfb_sc_init(&g->sc, &cfg);
	while (off < sizeof(hs)) {
		if (rfb_sc_step(&g->sc, hs + off, sizeof(hs) - off, &st) != RFB_SC_PASS) {
			guard_refuse(c, GUARD_REFUSES, "the parser refused its own handshake");
			return -1; /* a broken invariant, never seen */
		}
		off += st.len;
	}
	g->sized = true;
	return 0;
}

/*
 * Bridge thread: runs the parser over the bytes of to_raw it has not seen
 * (after raw_ok). What passes may go to libvncclient; a field cut short
 * waits for the rest; a refusal closes the connection (guard_refuse()).
 * After a client message the guard could not frame nothing passes.
 */
static void guard_server(struct pgc_conn *c)
{
	struct pgc_guard *g = &c->guard;
	struct rfb_sc_step st;
	enum rfb_sc_verdict v;
	const uint8_t *b;
	size_t n;

	while (!g->refused && !g->cs_lost && c->raw_ok < c->to_raw.len) {
		b = c->to_raw.data + c->to_raw.off + c->raw_ok;
		n = c->to_raw.len - c->raw_ok;
		if (!g->sized && g->passed == GUARD_SERVER_INIT_AT) {
			if (n < 4)
				return;
			if (guard_server_init(c, b))
				return;
		}
		v = rfb_sc_step(&g->sc, b, n, &st);
		if (v == RFB_SC_NEED_MORE)
			return;
		if (v == RFB_SC_PASS && !st.handshake && st.message_type == 3) {
			guard_clip(c, st.len, st.ends_message);
			continue;
		}
		/* on a refusal too the whole fields before the bad one pass, as
		   they would have had they come in an earlier piece; not in a
		   ServerCutText, whose header guard_clip() took out of the stream */
		if (v == RFB_SC_REJECT &&
		    (g->clip_len > 0 || (!st.handshake && st.message_type == 3)))
			st.len = 0;
		c->raw_ok += st.len;
		g->passed += st.len;
		atomic_store_explicit(&c->jpeg_rects, g->sc.jpeg_rects, memory_order_relaxed);
		if (v == RFB_SC_REJECT) {
			guard_refuse(c, GUARD_REFUSES, st.reason);
			return;
		}
	}
}

/* sul callback: CONNECT_TIMEOUT_S passed; close unless the RFB handshake
   completed. */
static void bridge_watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct pgc_conn *c = lws_container_of(sul, struct pgc_conn, sul_watchdog);
	bool ready;

	pthread_mutex_lock(&c->lock);
	ready = c->rfb_ready;
	pthread_mutex_unlock(&c->lock);
	if (!ready)
		bridge_local_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "client: connect timeout",
				   "timed out waiting for the RFB handshake");
}

/* sul callback: the closing handshake took too long; end the thread. */
static void bridge_grace_cb(lws_sorted_usec_list_t *sul)
{
	struct pgc_conn *c = lws_container_of(sul, struct pgc_conn, sul_grace);

	c->thread_exit = true;
}

/* Bridge thread: acts on requests other threads posted (stop, close). */
static void bridge_on_wakeup(struct pgc_conn *c)
{
	bool stop, close_req;

	pthread_mutex_lock(&c->lock);
	stop = c->stop_req;
	close_req = c->close_req;
	pthread_mutex_unlock(&c->lock);

	if (close_req && !c->ws_close_sent)
		bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "client: RFB protocol error", "RFB protocol error");
	if (stop && !c->stop_handled) {
		c->stop_handled = true;
		if (c->ws) {
			bridge_local_close(c, LWS_CLOSE_STATUS_NORMAL, "client closed",
					   "closed by the client");
			lws_sul_schedule(c->ctx, 0, &c->sul_grace, bridge_grace_cb,
					 (lws_usec_t)CLOSE_GRACE_MS * 1000);
		} else {
			c->thread_exit = true;
		}
	}
}

/* Bridge thread: LWS_CALLBACK_CLIENT_CONNECTION_ERROR of the WebSocket. */
static void ws_on_conn_error(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	char detail[200];
	int status;

	pgc_lws_in_to_str(in, len, detail, sizeof(detail));
	pthread_mutex_lock(&c->lock);
	status = c->hs_status;
	pthread_mutex_unlock(&c->lock);
	if (!status && wsi)
		status = (int)lws_http_client_http_response(wsi);
	if (!status && strstr(detail, "unauthorized"))
		status = 401; /* lws 4.1: "HS: ws upgrade unauthorized" */
	if (status == 101)
		status = 0; /* upgraded but rejected later (e.g. protocol) */
	if (status) {
		conn_fail(c, status, "WebSocket upgrade refused: HTTP %d (%s)", status, detail);
	} else if (!strncmp(detail, "HS:", 3)) {
		conn_fail(c, 0, "WebSocket handshake failed (%s)", detail);
	} else {
		char msg[256];

		pgc_tls_describe_error(&c->srv, &c->tv, detail, msg, sizeof(msg));
		conn_fail(c, 0, "%s", msg);
	}
}

/* Bridge thread: LWS_CALLBACK_CLIENT_ESTABLISHED: adopt the bridge end and
   report the connection open. Returns 0, or -1 to drop the WebSocket. */
static int ws_on_established(struct pgc_conn *c, struct lws *wsi)
{
	lws_sock_file_fd_type fd;
	struct lws *raw;
	bool stop;

	pthread_mutex_lock(&c->lock);
	stop = c->stop_req || c->state != CONN_CONNECTING;
	pthread_mutex_unlock(&c->lock);
	if (stop)
		return -1;

	fd.sockfd = c->fd_bridge;
	c->fd_bridge = PGC_NO_SOCKET; /* lws owns it now, even if adoption fails */
	raw = lws_adopt_descriptor_vhost(lws_get_vhost(wsi), LWS_ADOPT_SOCKET, fd, "pgc-bridge",
					 NULL);
	if (!raw) {
		conn_fail(c, 0, "cannot adopt the bridge socket into lws");
		return -1;
	}
	c->raw = raw;
	c->ws = wsi;
	c->ws_gone = false;
	pthread_mutex_lock(&c->lock);
	if (c->state == CONN_CONNECTING)
		c->state = CONN_OPEN;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Bridge thread: WebSocket payload (any frame fragment) for libvncclient,
   once the guard passed it. Returns 0, or -1 to drop the WebSocket. */
static int ws_on_receive(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	atomic_fetch_add_explicit(&c->bytes_in, (uint64_t)len, memory_order_relaxed);
	if (c->ws_close_sent || !len)
		return 0; /* closing locally: libvncclient already has EOF */
	if (bbuf_append(&c->to_raw, in, len)) {
		bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "client: receive buffer overflow", "receive buffer overflow");
		return 0;
	}
	guard_server(c);
	if (c->guard.refused)
		return 0;
	if (c->to_raw.len >= BRIDGE_BUF_HIGH && !c->ws_rx_paused) {
		lws_rx_flow_control(wsi, 0);
		c->ws_rx_paused = true;
	}
	if (c->raw && c->raw_ok)
		lws_callback_on_writable(c->raw);
	return 0;
}

/* Bridge thread: sends the next binary message, or the close frame.
   Returns 0, or -1 to close the WebSocket. */
static int ws_on_writeable(struct pgc_conn *c, struct lws *wsi)
{
	size_t n;

	if (c->ws_close_sent) {
		lws_close_reason(wsi, (enum lws_close_status)c->local_close_status,
				 (unsigned char *)c->local_close_text, strlen(c->local_close_text));
		return -1;
	}
	if (!c->to_ws.len)
		return 0;
	n = c->to_ws.len > WS_TX_CHUNK ? WS_TX_CHUNK : c->to_ws.len;
	memcpy(c->txbuf + LWS_PRE, c->to_ws.data + c->to_ws.off, n);
	if (lws_write(wsi, c->txbuf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n) {
		pgc_conn_mark_closed(c, 0, "WebSocket write failed");
		c->ws_close_sent = true;
		bridge_shut_raw(c);
		return -1;
	}
	bbuf_consume(&c->to_ws, n);
	if (c->to_ws.len)
		lws_callback_on_writable(wsi);
	if (c->raw_rx_paused && c->to_ws.len <= BRIDGE_BUF_LOW && c->raw) {
		lws_rx_flow_control(c->raw, 1);
		c->raw_rx_paused = false;
	}
	return 0;
}

/* Bridge thread: the server sent a close frame (in: code BE16 + text). */
static void ws_on_peer_close(struct pgc_conn *c, const unsigned char *in, size_t len)
{
	size_t tl;

	c->peer_close_seen = true;
	if (!in || len < 2) {
		c->peer_close_code = LWS_CLOSE_STATUS_NO_STATUS; /* 1005 */
		c->peer_close_reason[0] = '\0';
		return;
	}
	c->peer_close_code = (in[0] << 8) | in[1];
	tl = len - 2;
	if (tl > sizeof(c->peer_close_reason) - 1)
		tl = sizeof(c->peer_close_reason) - 1;
	memcpy(c->peer_close_reason, in + 2, tl);
	c->peer_close_reason[tl] = '\0';
}

/* Bridge thread: the WebSocket is gone; record why, let libvncclient drain
   what is buffered and then see EOF. */
static void ws_on_closed(struct pgc_conn *c, struct lws *wsi)
{
	bool stop;

	if (wsi != c->ws)
		return;
	c->ws = NULL;
	c->ws_gone = true;
	if (c->peer_close_seen)
		pgc_conn_mark_closed(c, c->peer_close_code, c->peer_close_reason);
	else
		pgc_conn_mark_closed(c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, /* 1006 */
				     "connection lost without a WebSocket close frame");
	if (c->destroying)
		return;
	c->to_raw.len = c->raw_ok; /* a field cut short never passes */
	if (!c->to_raw.len)
		c->to_raw.off = 0;
	c->to_ws.len = 0;
	c->to_ws.off = 0;
	if (c->raw_rx_paused && c->raw) {
		lws_rx_flow_control(c->raw, 1); /* keep draining libvncclient */
		c->raw_rx_paused = false;
	}
	if (!c->to_raw.len)
		bridge_shut_raw(c);
	else if (c->raw)
		lws_callback_on_writable(c->raw);

	pthread_mutex_lock(&c->lock);
	stop = c->stop_req;
	pthread_mutex_unlock(&c->lock);
	if (stop)
		c->thread_exit = true;
}

/* Bridge thread: bytes libvncclient wrote (after the filter, if any),
   framed by the guard and queued for the WebSocket. */
static void raw_forward(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (guard_client(c, in, len))
		return;
	if (bbuf_append(&c->to_ws, in, len)) {
		bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "client: send buffer overflow", "send buffer overflow");
		return;
	}
	if (c->to_ws.len >= BRIDGE_BUF_HIGH && !c->raw_rx_paused) {
		lws_rx_flow_control(wsi, 0);
		c->raw_rx_paused = true;
	}
	lws_callback_on_writable(c->ws);
}

/*
 * Bridge thread (pgc_connect_ws() only): what libvncclient wrote passes
 * the gateway's viewer -> browser filter, whole messages at a time, before
 * raw_forward(): SetEncodings leaves with the encodings a gateway would
 * pass on. A message the filter refuses closes the connection.
 */
static void raw_filter_out(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct rfb_step st;

	if (bbuf_append(&c->filt_in, in, len)) {
		bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "client: send buffer overflow", "send buffer overflow");
		return;
	}
	while (c->filt_in.len && c->ws && !c->ws_close_sent) {
		const uint8_t *b = c->filt_in.data + c->filt_in.off;

		switch (rfb_filter_step(&c->filt, b, c->filt_in.len, &st)) {
		case RFB_NEED_MORE:
			return;
		case RFB_PASS:
			raw_forward(c, wsi, b, st.len);
			break;
		case RFB_REWRITE:
			raw_forward(c, wsi, st.rewritten, st.rewritten_len);
			break;
		default:
			bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
					   "client: message refused", st.reason);
			return;
		}
		bbuf_consume(&c->filt_in, st.len);
	}
}

/* Bridge thread: bytes libvncclient wrote, framed by the guard on their
   way. Returns 0 (never closes the raw side: after the WebSocket is gone
   the bytes are discarded). */
static int raw_on_rx(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (!c->ws || c->ws_close_sent || !len)
		return 0;
	if (c->filter_out)
		raw_filter_out(c, wsi, in, len);
	else
		raw_forward(c, wsi, in, len);
	return 0;
}

/* Bridge thread: feeds libvncclient's socket with what the guard passed
   (to_raw's first raw_ok bytes). Returns 0 or -1. */
static int raw_on_writeable(struct pgc_conn *c, struct lws *wsi)
{
	if (c->raw_ok) {
		long n = pgc_sock_send(lws_get_socket_fd(wsi), c->to_raw.data + c->to_raw.off,
				       c->raw_ok);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			/* libvncclient's end is gone: only pgc_free() does that */
			bridge_local_close(c, LWS_CLOSE_STATUS_NORMAL, "client closed",
					   "bridge socket closed");
			return 0;
		}
		if (n > 0) {
			bbuf_consume(&c->to_raw, (size_t)n);
			c->raw_ok -= (size_t)n;
		}
		if (c->raw_ok)
			lws_callback_on_writable(wsi);
		if (c->ws_rx_paused && c->to_raw.len <= BRIDGE_BUF_LOW && c->ws) {
			lws_rx_flow_control(c->ws, 1);
			c->ws_rx_paused = false;
		}
	}
	if (!c->to_raw.len && (c->ws_gone || c->guard.refused))
		bridge_shut_raw(c);
	return 0;
}

/* lws callback shared by the "binary" WebSocket and the "pgc-bridge" raw
   protocol of a connection context. */
static int bridge_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	struct pgc_conn *c = lws_context_user(lws_get_context(wsi));

	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		pgc_tls_gate_leave(&c->gate_held);
		ws_on_conn_error(c, wsi, in, len);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		pgc_tls_note_verify(&c->tv, user, len);
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		pgc_tls_gate_leave(&c->gate_held); /* TLS handshake done */
		break;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		pthread_mutex_lock(&c->lock);
		c->hs_status = (int)lws_http_client_http_response(wsi);
		pthread_mutex_unlock(&c->lock);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		return ws_on_established(c, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return ws_on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return ws_on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		ws_on_peer_close(c, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		ws_on_closed(c, wsi);
		break;
	case LWS_CALLBACK_RAW_ADOPT:
		c->raw = wsi;
		break;
	case LWS_CALLBACK_RAW_RX:
		return raw_on_rx(c, wsi, in, len);
	case LWS_CALLBACK_RAW_WRITEABLE:
		return raw_on_writeable(c, wsi);
	case LWS_CALLBACK_RAW_CLOSE:
		if (wsi == c->raw) {
			c->raw = NULL;
			c->raw_shut = true;
			if (!c->destroying)
				bridge_local_close(c, LWS_CLOSE_STATUS_NORMAL, "client closed",
						   "bridge socket closed");
		}
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (!c->destroying)
			bridge_on_wakeup(c);
		break;
	default:
		break;
	}
	return 0;
}

/* Idle policy of the WebSocket (lws 4.1 applies only its idle part). */
static const uint32_t ws_retry_ms[] = { 1000 };
static const lws_retry_bo_t ws_idle_policy = {
	.retry_ms_table = ws_retry_ms,
	.retry_ms_table_count = 1,
	.conceal_count = 0,
	.secs_since_valid_ping = WS_PING_IDLE_S,
	.secs_since_valid_hangup = WS_HANGUP_IDLE_S,
	.jitter_percent = 0,
};

static const struct lws_protocols bridge_protocols[] = {
	{ "binary", bridge_cb, 0, WS_RX_BUFFER, 0, NULL, 0 },
	{ "pgc-bridge", bridge_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* The bridge thread: services the connection context until told to stop. */
static void *bridge_thread(void *arg)
{
	struct pgc_conn *c = arg;

	while (!c->thread_exit)
		if (lws_service(c->ctx, 0) < 0)
			break;
	return NULL;
}

/* Starts the bridge thread with all signals blocked in it. Returns 0 or an
   errno value. */
static int bridge_start_thread(struct pgc_conn *c)
{
	int rc = pgc_thread_create(&c->thread, bridge_thread, c);

	if (!rc)
		c->thread_started = true;
	return rc;
}

/* Allocates a conn with its locks and buffers. Returns NULL on failure. */
struct pgc_conn *pgc_conn_alloc(void)
{
	struct pgc_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd_bridge = PGC_NO_SOCKET;
	c->fd_client = PGC_NO_SOCKET;
	guard_init(&c->guard);
	atomic_init(&c->rfb_dead, false);
	atomic_init(&c->frames, 0);
	atomic_init(&c->bytes_in, 0);
	atomic_init(&c->jpeg_rects, 0);
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return NULL;
	}
	if (pgc_cond_init_mono(&c->cond)) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->rfb_lock, NULL)) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	c->locks_ok = true;
	c->txbuf = malloc(LWS_PRE + WS_TX_CHUNK);
	if (!c->txbuf || bbuf_init(&c->to_raw, BRIDGE_BUF_HIGH + BRIDGE_BUF_SLACK) ||
	    bbuf_init(&c->to_ws, BRIDGE_BUF_HIGH + BRIDGE_BUF_SLACK)) {
		pgc_free(c);
		return NULL;
	}
	return c;
}

/* Waits until the WebSocket is open or failed, or deadline_ms passed.
   Returns 0 when open, -1 with err/http_status filled otherwise. */
static int conn_wait_open(struct pgc_conn *c, int64_t deadline_ms, char *err, size_t errlen,
			  int *http_status)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	while (c->state == CONN_CONNECTING && rc != ETIMEDOUT)
		rc = pgc_cond_wait_until(&c->cond, &c->lock, deadline_ms);
	if (c->state == CONN_OPEN) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (c->state == CONN_FAILED) {
		pgc_set_msg(err, errlen, "%s", c->err);
		if (http_status)
			*http_status = c->http_status;
	} else {
		pgc_set_msg(err, errlen, "timed out after %d s opening wss://%s:%d/rfb",
			    CONNECT_TIMEOUT_S, c->srv.host, c->srv.port);
	}
	pthread_mutex_unlock(&c->lock);
	return -1;
}

int pgc_bridge_open(struct pgc_conn *c, int64_t deadline, char *err, size_t errlen,
		    int *http_status)
{
	const struct pgc_server *srv = &c->srv;
	struct lws_client_connect_info i;
	int rc;

	if (pgc_tls_gate_enter(deadline, &c->gate_held)) {
		pgc_set_msg(err, errlen,
			    "timed out waiting for another connection's TLS handshake");
		return -1;
	}
	c->ctx = pgc_lws_context_new(srv, bridge_protocols, c, &c->ssl_ctx, err, errlen);
	if (!c->ctx)
		return -1;
	lws_sul_schedule(c->ctx, 0, &c->sul_watchdog, bridge_watchdog_cb,
			 (lws_usec_t)CONNECT_TIMEOUT_S * LWS_US_PER_SEC);

	memset(&i, 0, sizeof(i));
	i.context = c->ctx;
	i.address = c->srv.host;
	i.port = c->srv.port;
	i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	i.path = c->path;
	i.host = c->srv.host;
	i.protocol = "binary";
	i.alpn = "http/1.1";
	i.retry_and_idle_policy = &ws_idle_policy;
	if (!lws_client_connect_via_info(&i))
		conn_fail(c, 0, "cannot start a connection to %s:%d", srv->host, srv->port);

	rc = bridge_start_thread(c);
	if (rc) {
		pgc_set_msg(err, errlen, "pthread_create: %s", strerror(rc));
		return -1;
	}
	if (conn_wait_open(c, deadline, err, errlen, http_status))
		return -1;
	return 0;
}
