/*
 * gateway_relay.c: the relay between a viewer's WebSocket ("binary") and its
 * session worker's RFB socket ("pg-rfb", our end of a socketpair).
 *
 * Viewer -> worker bytes go through the boundary's allow-list (rfb_filter)
 * before they are queued for the worker; worker -> viewer bytes are queued
 * as they come. Each direction has one bounded buffer; when it holds
 * GW_RELAY_HIGH_BYTES the side that fills it is paused with
 * lws_rx_flow_control() and resumed below GW_RELAY_LOW_BYTES, so a slow
 * viewer or a slow worker cannot make the gateway's memory grow.
 *
 * Viewer input is also held to a budget (input_budget.h): KeyEvents beyond
 * the key rate stop the parsing (and the reading) of that viewer until a
 * token is due, pointer motion beyond the pointer rate is coalesced, a
 * non-incremental FramebufferUpdateRequest beyond one a second is demoted
 * to incremental, and at most one request is outstanding at the worker: the
 * next one is held (merged) until the worker has sent something, or
 * INPUT_FBUR_ANSWER_WAIT_MS passed. "Answered" is approximate (any bytes
 * from the worker count) until the relay parses the server->client stream.
 * A viewer throttled without a pause for INPUT_ABUSE_MS is closed with 4001.
 *
 * max_fps and max_kbps (output_rate.h) hold the viewer's next request, never
 * the worker's bytes: a capped session shows fewer frames, not older ones.
 *
 * relay_close() is the one close path of a viewer connection; the
 * connection's memory is lws's per-session data and is released after
 * LWS_CALLBACK_CLOSED, which detaches it from its session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway.h"
#include "ipc.h"
#include "log.h"
#include "utf8.h"

/* Staging buffer for lws_write(), which needs LWS_PRE bytes of headroom. */
static uint8_t relay_tx[LWS_PRE + GW_WS_TX_CHUNK];

/* After the worker closed our RFB socket, wait this long for its reason. */
#define RELAY_CLOSE_WAIT_US (1000 * LWS_US_PER_MS)

static int buf_init(struct gw_buf *b, size_t cap)
{
	b->data = malloc(cap);
	b->len = 0;
	b->cap = b->data ? cap : 0;
	return b->data ? 0 : -1;
}

static void buf_free(struct gw_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Append; -1 (nothing appended) if it would not fit. */
static int buf_append(struct gw_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_consume(struct gw_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void relay_close(struct gw_conn *conn, int code, const char *reason)
{
	if (conn->closing)
		return;
	conn->closing = true;
	conn->close_code = code;
	snprintf(conn->close_reason, sizeof conn->close_reason, "%s", reason);
	log_info("closing viewer of %s from %s (code %d): %s", conn->user, conn->peer, code,
		 reason);
	/* A violator gets nothing more; otherwise what the worker sent and the
	   check passed goes out first (never what it did not pass). */
	if (code == GW_CLOSE_VIOLATION)
		conn->down_ok = 0;
	conn->down.len = conn->down_ok;
	lws_sul_cancel(&conn->close_sul);
	if (conn->ws != NULL)
		lws_callback_on_writable(conn->ws);
}

/*
 * [policy] watermark = corner or tiled: IPC_ATTACH's payload, {"watermark":
 * the text with {user} and {client} (the terminal's address) filled in,
 * "opacity", "mode": "corner" or "tiled"}
 * (malloc'd); NULL when off.
 */
static char *relay_watermark(const struct gw_conn *conn)
{
	if (strcmp(gw->cfg.watermark, "off") == 0)
		return NULL;
	const char *client = conn->peer;
	if (strncmp(client, "::ffff:", 7) == 0)
		client = client + 7; /* an IPv4 address as the staff know it */
	char text[GW_WATERMARK_MAX], clean[GW_WATERMARK_MAX];
	size_t n = 0;
	for (const char *p = gw->cfg.watermark_text; *p != '\0' && n + 1 < sizeof text;) {
		const char *put = NULL;
		size_t skip = 0;
		if (strncmp(p, "{user}", 6) == 0)
			put = conn->user, skip = 6;
		else if (strncmp(p, "{client}", 8) == 0)
			put = client, skip = 8;
		if (put == NULL) {
			text[n++] = *p++;
			continue;
		}
		for (; *put != '\0' && n + 1 < sizeof text; put++)
			text[n++] = *put;
		p += skip;
	}
	text[n] = '\0';
	utf8_clean(clean, sizeof clean, text);
	json_t *o = json_pack("{s:s, s:i, s:s}", "watermark", clean, "opacity",
			      gw->cfg.watermark_opacity, "mode", gw->cfg.watermark);
	char *out = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

void relay_hand_over(struct gw_conn *conn)
{
	struct gw_session *s = conn->session;
	if (conn->worker_fd < 0 || s == NULL || s->ctrl_fd < 0)
		return;
	/* the worker's side of this viewer's RFB connection starts now */
	struct rfb_sc_config sc = {
		.width = (uint16_t)s->width,
		.height = (uint16_t)s->height,
		/* the browser's copies (clipboard_to_terminal): UTF-8 from the worker,
		   taken out of the stream, checked whole and converted for the viewer */
		.allow_cut_text = policy_clipboard_to_terminal(s->policy),
		.max_cut_text_bytes = (uint32_t)gw->cfg.clipboard_max_bytes,
		.cut_text_utf8 = true,
		.allowed = RFB_SC_GATEWAY_ENCODINGS,
	};
	rfb_sc_init(&conn->sc, &sc);
	/* the watermark of this viewer (the worker fills in the date and time) */
	char *wm = relay_watermark(conn);
	int rc = ipc_send(s->ctrl_fd, IPC_ATTACH, wm, wm != NULL ? strlen(wm) : 0, conn->worker_fd);
	free(wm);
	if (rc != 0) {
		log_error("session %s: could not hand the viewer's socket to the worker: %s", s->id,
			  strerror(errno));
		relay_close(conn, GW_CLOSE_SESSION_ENDED,
			    "session ended: could not reach the browser");
	}
	close(conn->worker_fd);
	conn->worker_fd = -1;
}

/* The worker dropped our socket and no reason arrived in time. */
static void relay_close_later_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_conn *conn = lws_container_of(sul, struct gw_conn, close_sul);
	char reason[sizeof conn->close_reason];
	if (conn->session != NULL && conn->session->end_reason[0] != '\0') {
		/* A close reason must be UTF-8 (RFC 6455): cut the worker's words between characters. */
		char why[101];
		utf8_clean(why, sizeof why, conn->session->end_reason);
		snprintf(reason, sizeof reason, "session ended: %s", why);
	} else {
		snprintf(reason, sizeof reason,
			 "session ended: the browser session closed the connection");
	}
	relay_close(conn, GW_CLOSE_SESSION_ENDED, reason);
}

/* Set up a new viewer connection: buffers, socketpair, session. -1: refuse it. */
static int relay_established(struct lws *wsi, struct gw_conn *conn)
{
	struct ticket_grant *grant = http_take_grant(wsi);
	memset(conn, 0, sizeof *conn);
	conn->ws = wsi;
	conn->worker_fd = -1;
	gw_peer(wsi, conn->peer, sizeof conn->peer); /* the PROXY header's address, if any */
	if (grant == NULL) {
		/* Cannot happen: the upgrade is confirmed only with a redeemed ticket. */
		log_error("WebSocket from %s without a ticket grant: refused", conn->peer);
		return -1;
	}
	snprintf(conn->user, sizeof conn->user, "%s", grant->user);
	input_budget_init(&conn->budget, gw_now_ms());
	/* the session's policy: a viewer taking over a running session gets its
	   rules, not those of its own login (the group may have changed since) */
	const struct gw_session *running = grant->new_session ? NULL
							      : session_find_user(grant->user);
	rfb_filter_init(&conn->filter,
			policy_clipboard_to_browser(running != NULL ? running->policy
								    : grant->policy),
			(uint32_t)gw->cfg.clipboard_max_bytes);
	int sv[2] = { -1, -1 };
	if (buf_init(&conn->up_in, rfb_filter_max_message(&conn->filter) + GW_RELAY_SLACK_BYTES) ||
	    buf_init(&conn->up_out,
		     GW_RELAY_HIGH_BYTES + GW_RELAY_SLACK_BYTES + 8 +
			 (size_t)gw->cfg.clipboard_max_bytes) ||
	    buf_init(&conn->down,
		     GW_RELAY_HIGH_BYTES + GW_RELAY_SLACK_BYTES + 12 +
			 (size_t)RFB_FILTER_EXT_CUT_MAX(gw->cfg.clipboard_max_bytes)) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_error("viewer of %s from %s: out of resources: %s", conn->user, conn->peer,
			  strerror(errno));
		goto fail;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	/*
	 * The viewer's ProtocolVersion, the only one the filter passes, goes to
	 * the worker ahead of time: libvncserver's rfbNewClient() peeks for 4
	 * bytes for up to 100 ms (its WebSocket check) before it speaks, and
	 * with "RFB " already there it goes on at once. The viewer's own
	 * version is checked as before and not passed on (relay_process()).
	 */
	if (write(sv[0], RFB_VERSION_388, RFB_VERSION_LEN) != (ssize_t)RFB_VERSION_LEN) {
		log_error("viewer of %s from %s: cannot write to the relay socket: %s", conn->user,
			  conn->peer, strerror(errno));
		goto fail;
	}
	lws_adopt_desc_t ad = { 0 };
	ad.vh = gw->vhost;
	ad.type = LWS_ADOPT_SOCKET;
	ad.fd.sockfd = sv[0];
	ad.vh_prot_name = "pg-rfb";
	ad.opaque = conn;
	conn->raw = lws_adopt_descriptor_vhost_via_info(&ad);
	if (conn->raw == NULL) {
		/* lws closed sv[0] */
		sv[0] = -1;
		log_error("viewer of %s from %s: could not adopt the relay socket", conn->user,
			  conn->peer);
		goto fail;
	}
	conn->worker_fd = sv[1];
	log_info("viewer of %s connected from %s", conn->user, conn->peer);
	/* On failure session_attach() has already started closing conn with a reason. */
	(void)session_attach(conn, grant);
	free(grant);
	return 0;
fail:
	free(grant);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	buf_free(&conn->up_in);
	buf_free(&conn->up_out);
	buf_free(&conn->down);
	free(conn->clip_down);
	conn->clip_down = NULL;
	conn->worker_fd = -1;
	return -1;
}

/* Count a FramebufferUpdateRequest that goes to the worker (fps for the admin API). */
static void relay_count_fbur(struct gw_conn *conn, int64_t now)
{
	conn->last_fbur_ms = now;
	output_rate_fbur_sent(&conn->rate, gw->limits.max_fps, now);
	struct gw_session *s = conn->session;
	if (s == NULL)
		return;
	s->updates_requested++;
	if (conn->fps_window_ms == 0)
		conn->fps_window_ms = now;
	conn->fps_count++;
	if (now - conn->fps_window_ms >= 1000) {
		s->fps = conn->fps_count * 1000.0 / (double)(now - conn->fps_window_ms);
		conn->fps_window_ms = now;
		conn->fps_count = 0;
	}
}

/* Whether max_fps or max_kbps is in force. */
static bool relay_rate_limited(void)
{
	return gw->limits.max_fps > 0 || gw->limits.max_kbps > 0;
}

static void relay_fbur_cb(lws_sorted_usec_list_t *sul);

/*
 * Send the held FramebufferUpdateRequest if the limits allow it now, else
 * schedule a retry. Holding the request (instead of queueing updates) is
 * what makes a capped session show fewer frames rather than lag behind.
 */
static void relay_fbur_try(struct gw_conn *conn)
{
	if (!conn->have_held || conn->closing)
		return;
	int64_t now = gw_now_ms();
	/* one request outstanding at the worker (for a while at most) */
	int64_t answered_at = input_budget_fbur_release_ms(conn->last_fbur_ms,
							   !conn->fbur_unanswered, now);
	int64_t at = output_rate_fbur_due_ms(&conn->rate, now, gw->limits.max_fps,
					     gw->limits.max_kbps, answered_at);
	if (at > now) {
		lws_sul_schedule(gw->ctx, 0, &conn->fbur_sul, relay_fbur_cb,
				 (lws_usec_t)(at - now) * LWS_US_PER_MS);
		return;
	}
	if (buf_append(&conn->up_out, conn->held_fbur, sizeof conn->held_fbur) != 0)
		return; /* the worker is not reading; try again when it is */
	conn->have_held = false;
	conn->fbur_unanswered = true;
	relay_count_fbur(conn, now);
	if (conn->raw != NULL)
		lws_callback_on_writable(conn->raw);
}

static void relay_fbur_cb(lws_sorted_usec_list_t *sul)
{
	relay_fbur_try(lws_container_of(sul, struct gw_conn, fbur_sul));
}

/* Hold a FramebufferUpdateRequest, merging it with one already held. */
static void relay_hold_fbur(struct gw_conn *conn, const uint8_t *msg)
{
	if (!conn->have_held) {
		memcpy(conn->held_fbur, msg, sizeof conn->held_fbur);
		conn->have_held = true;
	} else {
		output_rate_merge_fbur(conn->held_fbur, msg);
	}
	relay_fbur_try(conn);
}

/*
 * Pause or resume reading the viewer: paused while the worker's buffer is
 * above the high mark or the key rate holds parsing, resumed below the low
 * mark once neither holds.
 */
static void relay_ws_rx_update(struct gw_conn *conn)
{
	if (conn->ws == NULL)
		return;
	bool pause = conn->input_waiting || conn->up_out.len >= GW_RELAY_HIGH_BYTES;
	bool resume = !conn->input_waiting && conn->up_out.len < GW_RELAY_LOW_BYTES;
	if (pause && !conn->ws_paused) {
		conn->ws_paused = true;
		lws_rx_flow_control(conn->ws, 0);
	} else if (resume && conn->ws_paused) {
		conn->ws_paused = false;
		lws_rx_flow_control(conn->ws, 1);
	}
}

/* Queue the coalesced pointer event for the worker, if there is one. 0 or -1 (full). */
static int relay_flush_pointer(struct gw_conn *conn)
{
	if (!conn->have_ptr)
		return 0;
	if (buf_append(&conn->up_out, conn->held_ptr, sizeof conn->held_ptr) != 0)
		return -1;
	conn->have_ptr = false;
	conn->ptr_seen = true;
	conn->ptr_buttons = conn->held_ptr[1];
	lws_sul_cancel(&conn->ptr_sul);
	input_budget_pointer_flushed(&conn->budget, gw_now_ms());
	return 0;
}

static void relay_ptr_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_conn *conn = lws_container_of(sul, struct gw_conn, ptr_sul);
	if (conn->closing || !conn->have_ptr)
		return;
	if (relay_flush_pointer(conn) != 0) {
		/* the worker is not reading: try again shortly */
		lws_sul_schedule(gw->ctx, 0, &conn->ptr_sul, relay_ptr_cb, 20 * LWS_US_PER_MS);
		return;
	}
	if (conn->raw != NULL)
		lws_callback_on_writable(conn->raw);
	relay_ws_rx_update(conn);
}

static void relay_process(struct gw_conn *conn);
static void relay_check_down(struct gw_conn *conn);

/* The key rate has a token again: go on parsing the viewer's bytes. */
static void relay_input_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_conn *conn = lws_container_of(sul, struct gw_conn, input_sul);
	conn->input_waiting = false;
	if (!conn->closing)
		relay_process(conn);
	relay_ws_rx_update(conn);
}

/* A viewer far over its input budget for INPUT_ABUSE_MS: 4001. True if closed. */
static bool relay_check_flood(struct gw_conn *conn, int64_t now)
{
	if (!input_budget_abusive(&conn->budget, now))
		return false;
	const struct input_budget_counts *c = &conn->budget.counts;
	char what[160];
	snprintf(what, sizeof what,
		 "input flood: %llu key waits, %llu pointer events coalesced, %llu full "
		 "update requests demoted",
		 (unsigned long long)c->keys_delayed, (unsigned long long)c->pointer_coalesced,
		 (unsigned long long)c->fbur_demoted);
	log_warn("viewer of %s from %s: over its input budget for %d s without a pause (%s)",
		 conn->user, conn->peer, INPUT_ABUSE_MS / 1000, what);
	json_t *f = json_pack("{s:s}", "what", what);
	audit_event("protocol_violation", conn->user, conn->peer,
		    conn->session ? conn->session->id : "", f);
	json_decref(f);
	gw->metrics.input_floods++;
	relay_close(conn, GW_CLOSE_VIOLATION,
		    "protocol violation: input flood (far over the input budget for 30 s)");
	return true;
}

/*
 * One more ClientCutText (passed or dropped): more than
 * GW_CLIP_MAX_PER_WINDOW in GW_CLIP_WINDOW_MS is no paste but a flood (of
 * the audit log among others): closed with 4001. True if closed.
 */
static bool relay_clip_flood(struct gw_conn *conn, int64_t now)
{
	if (now - conn->clip_window_ms >= GW_CLIP_WINDOW_MS) {
		conn->clip_window_ms = now;
		conn->clip_count = 0;
	}
	if (++conn->clip_count <= GW_CLIP_MAX_PER_WINDOW)
		return false;
	char what[128];
	snprintf(what, sizeof what, "clipboard flood: more than %d clipboard messages in %d s",
		 GW_CLIP_MAX_PER_WINDOW, GW_CLIP_WINDOW_MS / 1000);
	log_warn("viewer of %s from %s: %s", conn->user, conn->peer, what);
	json_t *f = json_pack("{s:s}", "what", what);
	audit_event("protocol_violation", conn->user, conn->peer,
		    conn->session ? conn->session->id : "", f);
	json_decref(f);
	relay_close(conn, GW_CLOSE_VIOLATION, "protocol violation: clipboard flood");
	return true;
}

/*
 * Ask the budget about one normal-phase message at msg (step->len bytes).
 * Returns true if the message was dealt with here (held, coalesced or, for
 * a request, forwarded from a copy); false to forward it as it is. Sets
 * *stop when parsing must stop before this message (key rate).
 */
static bool relay_budget(struct gw_conn *conn, const uint8_t *msg, size_t len, int64_t now,
			 bool *stop)
{
	int64_t retry = 0;
	*stop = false;
	switch (msg[0]) {
	case 4: /* KeyEvent */
		if (input_budget_key(&conn->budget, now, &retry) == INPUT_WAIT) {
			gw->metrics.input.keys_delayed++;
			conn->input_waiting = true;
			lws_sul_schedule(gw->ctx, 0, &conn->input_sul, relay_input_cb,
					 (lws_usec_t)(retry - now) * LWS_US_PER_MS);
			*stop = true;
			return true;
		}
		/* keep the order of motion and keys: the held position goes first */
		if (relay_flush_pointer(conn) != 0) {
			*stop = true; /* the worker is not reading; RAW_WRITEABLE goes on */
			return true;
		}
		return false;
	case 5: { /* PointerEvent */
		bool changed = !conn->ptr_seen || msg[1] != conn->ptr_buttons;
		if (conn->have_ptr && msg[1] != conn->held_ptr[1])
			changed = true;
		if (input_budget_pointer(&conn->budget, changed, now, &retry) == INPUT_COALESCE) {
			gw->metrics.input.pointer_coalesced++;
			memcpy(conn->held_ptr, msg, sizeof conn->held_ptr);
			if (!conn->have_ptr)
				lws_sul_schedule(gw->ctx, 0, &conn->ptr_sul, relay_ptr_cb,
						 (lws_usec_t)(retry - now) * LWS_US_PER_MS);
			conn->have_ptr = true;
			return true;
		}
		/* this one supersedes a held motion */
		conn->have_ptr = false;
		lws_sul_cancel(&conn->ptr_sul);
		conn->ptr_seen = true;
		conn->ptr_buttons = msg[1];
		return false;
	}
	case 3: { /* FramebufferUpdateRequest */
		if (len != sizeof conn->held_fbur)
			return false;
		uint8_t req[sizeof conn->held_fbur];
		memcpy(req, msg, sizeof req);
		if (input_budget_fbur(&conn->budget, req[1] != 0, now) == INPUT_DEMOTE) {
			gw->metrics.input.fbur_demoted++;
			req[1] = 1;
		}
		if (relay_rate_limited() || conn->have_held || conn->fbur_unanswered) {
			relay_hold_fbur(conn, req);
			return true;
		}
		if (buf_append(&conn->up_out, req, sizeof req) != 0) {
			relay_hold_fbur(conn, req); /* sent when the worker reads again */
			return true;
		}
		conn->fbur_unanswered = true;
		relay_count_fbur(conn, now);
		return true;
	}
	default:
		return false;
	}
}

/* Parse what the viewer sent so far: filter, budget, queue for the worker. */
static void relay_process(struct gw_conn *conn)
{
	size_t off = 0;
	struct rfb_step step;
	int64_t now = gw_now_ms();
	while (off < conn->up_in.len && !conn->input_waiting && !conn->closing) {
		bool normal = conn->filter.phase == RFB_PHASE_NORMAL;
		bool version = conn->filter.phase == RFB_PHASE_VERSION;
		uint8_t type = conn->up_in.data[off];
		enum rfb_verdict v = rfb_filter_step(&conn->filter, conn->up_in.data + off,
						     conn->up_in.len - off, &step);
		if (v == RFB_NEED_MORE)
			break;
		if (normal && type == 6 && (v == RFB_PASS || v == RFB_DROP) &&
		    relay_clip_flood(conn, now))
			return;
		if (v == RFB_DROP) {
			/* consumed, not forwarded; the session goes on */
			if (step.cut != RFB_CUT_NONE)
				clip_refused_to_browser(conn, step.len - 8, step.reason);
			else if (conn->drops_logged++ < 10)
				log_warn("viewer of %s from %s: RFB message dropped: %s",
					 conn->user, conn->peer, step.reason);
			off += step.len;
			continue;
		}
		if (v == RFB_REJECT) {
			char reason[sizeof conn->close_reason];
			snprintf(reason, sizeof reason, "protocol violation: %.90s", step.reason);
			log_warn("viewer of %s from %s: RFB message refused after %llu messages: %s",
				 conn->user, conn->peer, (unsigned long long)conn->filter.messages,
				 step.reason);
			json_t *f = json_pack("{s:s}", "what", step.reason);
			audit_event("protocol_violation", conn->user, conn->peer,
				    conn->session ? conn->session->id : "", f);
			json_decref(f);
			relay_close(conn, GW_CLOSE_VIOLATION, reason);
			return;
		}
		/* what the worker may answer depends on it (format, encodings) */
		char why[RFB_SC_REASON_LEN];
		if (normal &&
		    !rfb_sc_client(&conn->sc,
				   v == RFB_PASS ? conn->up_in.data + off : step.rewritten,
				   v == RFB_PASS ? step.len : step.rewritten_len, why,
				   sizeof why)) {
			log_warn("viewer of %s from %s: RFB message refused: %s", conn->user,
				 conn->peer, why);
			json_t *f = json_pack("{s:s}", "what", why);
			audit_event("protocol_violation", conn->user, conn->peer,
				    conn->session ? conn->session->id : "", f);
			json_decref(f);
			relay_close(conn, GW_CLOSE_VIOLATION,
				    "protocol violation: pixel format "
				    "changed after the first update request");
			return;
		}
		if (normal && v == RFB_PASS) {
			bool stop;
			struct rfb_filter saved = conn->filter;
			bool done = relay_budget(conn, conn->up_in.data + off, step.len, now,
						 &stop);
			if (stop) {
				/* parsed again when reading goes on */
				conn->filter = saved;
				break;
			}
			if ((type == 4 || type == 5) && conn->session != NULL)
				conn->session->last_input_ms = now; /* KeyEvent, PointerEvent */
			if (done) {
				off += step.len;
				continue;
			}
		}
		/* ClientCutText the filter let through (clipboard_to_browser): the
		   worker gets the gateway's UTF-8 text, or nothing if refused */
		if (normal && v == RFB_PASS && type == 6) {
			uint8_t *fwd = NULL;
			size_t fwd_len = 0;
			int rc = clip_to_browser(conn, &step, conn->up_in.data + off, &fwd,
						 &fwd_len);
			if (rc == 0 && buf_append(&conn->up_out, fwd, fwd_len) != 0) {
				free(fwd);
				relay_close(
				    conn, GW_CLOSE_SESSION_ENDED,
				    "session ended: the browser session stopped reading input");
				return;
			}
			free(fwd);
			off += step.len; /* refused: audited, not forwarded; the session goes on */
			continue;
		}
		if (version) {
			off += step.len; /* the worker has it (relay_established()) */
			/* the worker's bytes held behind its version may go now */
			size_t ok = conn->down_ok;
			relay_check_down(conn);
			if (conn->down_ok > ok && conn->ws != NULL)
				lws_callback_on_writable(conn->ws);
			continue;
		}
		const uint8_t *pass = v == RFB_PASS ? conn->up_in.data + off : step.rewritten;
		size_t pass_len = v == RFB_PASS ? step.len : step.rewritten_len;

		if (buf_append(&conn->up_out, pass, pass_len) != 0) {
			relay_close(conn, GW_CLOSE_SESSION_ENDED,
				    "session ended: the browser session stopped reading input");
			return;
		}
		off += step.len;
	}
	buf_consume(&conn->up_in, off);
	if (conn->up_out.len > 0 && conn->raw != NULL)
		lws_callback_on_writable(conn->raw);
	if (!conn->closing)
		(void)relay_check_flood(conn, now);
	relay_ws_rx_update(conn);
}

/* Viewer bytes: keep them for relay_process(). */
static void relay_from_viewer(struct lws *wsi, struct gw_conn *conn, const uint8_t *in, size_t len)
{
	if (conn->closing)
		return;
	if (!lws_frame_is_binary(wsi)) {
		log_warn("viewer of %s from %s: text frame refused", conn->user, conn->peer);
		relay_close(conn, GW_CLOSE_VIOLATION,
			    "protocol violation: text frames are not RFB");
		return;
	}
	conn->bytes_up += len;
	gw->metrics.bytes_in += len;
	if (conn->session != NULL)
		conn->session->bytes_in += len;
	if (buf_append(&conn->up_in, in, len) != 0) {
		relay_close(conn, GW_CLOSE_VIOLATION,
			    "protocol violation: too much unexamined input");
		return;
	}
	relay_process(conn);
}

/*
 * A piece of the worker's ServerCutText at down_ok (len bytes): moved out of
 * down into conn->clip_down; at its end the gateway's message for the viewer
 * (clip_to_terminal()) takes its place at down_ok. Not recorded.
 */
static void relay_clip_piece(struct gw_conn *conn, size_t len, bool ends)
{
	uint8_t *p = conn->down.data + conn->down_ok;
	size_t want = conn->clip_down_len + len;
	if (!conn->clip_down_lost && want > conn->clip_down_cap) {
		/* the whole message at once when its header is in (the parser
		   checked its length against the cap): no growing by pieces */
		size_t cap = want;
		if (conn->clip_down_len == 0 && len >= 8)
			cap = 8 +
			    ((size_t)p[4] << 24 | (size_t)p[5] << 16 | (size_t)p[6] << 8 | p[7]);
		uint8_t *grown = cap >= want ? realloc(conn->clip_down, cap) : NULL;
		if (grown == NULL) {
			conn->clip_down_lost = true;
		} else {
			conn->clip_down = grown;
			conn->clip_down_cap = cap;
		}
	}
	if (!conn->clip_down_lost) {
		memcpy(conn->clip_down + conn->clip_down_len, p, len);
		conn->clip_down_len = want;
	}
	memmove(p, p + len, conn->down.len - conn->down_ok - len);
	conn->down.len -= len;
	if (!ends)
		return;
	uint8_t *m = NULL;
	size_t mlen = 0;
	/* a page copying in a loop floods the terminal and the audit log: the
	   copies over the window's count are dropped, one refusal recorded */
	int64_t now = gw_now_ms();
	if (now - conn->clip_down_window_ms >= GW_CLIP_WINDOW_MS) {
		conn->clip_down_window_ms = now;
		conn->clip_down_count = 0;
	}
	if (++conn->clip_down_count > GW_CLIP_MAX_PER_WINDOW) {
		if (conn->clip_down_count == GW_CLIP_MAX_PER_WINDOW + 1)
			clip_refused_to_terminal(conn, conn->clip_down_len,
						 "more than 20 copies in 10 s: dropped until the "
						 "next 10 s");
		conn->clip_down_lost = true;
	}
	if (!conn->clip_down_lost &&
	    clip_to_terminal(conn, conn->clip_down, conn->clip_down_len,
			     conn->down.cap - conn->down.len, &m, &mlen) == 0) {
		uint8_t *at = conn->down.data + conn->down_ok;
		memmove(at + mlen, at, conn->down.len - conn->down_ok);
		memcpy(at, m, mlen);
		conn->down.len += mlen;
		conn->down_ok += mlen;
	}
	free(m);
	free(conn->clip_down);
	conn->clip_down = NULL;
	conn->clip_down_len = conn->clip_down_cap = 0;
	conn->clip_down_lost = false;
}

/*
 * The worker's new bytes in down (after down_ok) through the server ->
 * client check: what passes may go to the viewer (and the recording); a
 * field cut short waits for the rest; a violation ends the session, and the
 * bytes that were not passed never leave.
 */
static void relay_check_down(struct gw_conn *conn)
{
	while (conn->down_ok < conn->down.len && !conn->closing) {
		/*
		 * The worker had the viewer's ProtocolVersion ahead of time
		 * (relay_established()), so its security types can come right
		 * behind its version, in one read and one WebSocket message. A
		 * server never does that before the client's version, and noVNC
		 * (1.3.0) takes one handshake step per message: it would wait for
		 * ever. What follows the version waits for the viewer's.
		 */
		if (conn->filter.phase == RFB_PHASE_VERSION && rfb_sc_past_version(&conn->sc))
			return;
		struct rfb_sc_step st;
		const uint8_t *p = conn->down.data + conn->down_ok;
		enum rfb_sc_verdict v = rfb_sc_step(&conn->sc, p, conn->down.len - conn->down_ok,
						    &st);
		if (v == RFB_SC_NEED_MORE)
			return;
		if (v == RFB_SC_REJECT) {
			/* the whole fields before the bad one pass (as they would have had
			   they come in an earlier read); from the bad one on, nothing. In
			   a ServerCutText nothing passes: its header was taken out of the
			   stream, and its text would reach the viewer as messages */
			if (conn->clip_down_len > 0 || (!st.handshake && st.message_type == 3)) {
				st.len = 0;
				free(conn->clip_down);
				conn->clip_down = NULL;
				conn->clip_down_len = conn->clip_down_cap = 0;
			}
			if (st.len > 0)
				record_data(conn, p, st.len, st.starts_message);
			conn->down_ok += st.len;
			conn->down.len = conn->down_ok;
			log_warn("viewer of %s from %s: the worker's stream refused after %llu "
				 "messages: %s",
				 conn->user, conn->peer, (unsigned long long)conn->sc.messages,
				 st.reason);
			if (conn->session != NULL)
				session_protocol_violation(conn->session, st.reason);
			else
				relay_close(conn, GW_CLOSE_SERVER_VIOLATION,
					    "session ended for your safety: the browser side sent "
					    "data the gateway refuses");
			return;
		}
		if (!st.handshake && st.message_type == 3) {
			/* the worker's ServerCutText (the browser's copy): out of the
			   stream; what the viewer gets instead is the gateway's */
			relay_clip_piece(conn, st.len, st.ends_message);
			continue;
		}
		record_data(conn, p, st.len, st.starts_message);
		conn->down_ok += st.len;
		if (st.ends_message && !st.handshake && st.message_type == 0) {
			/* an update came: a held update request may go now */
			conn->fbur_unanswered = false;
			if (conn->have_held)
				relay_fbur_try(conn);
		}
	}
}

/* The viewer can take more: send queued worker bytes, or the close frame. */
static int relay_to_viewer(struct lws *wsi, struct gw_conn *conn)
{
	if (conn->closing && conn->down_ok == 0) {
		lws_close_reason(wsi, (enum lws_close_status)conn->close_code,
				 (unsigned char *)conn->close_reason, strlen(conn->close_reason));
		return -1;
	}
	if (conn->down_ok == 0)
		return 0;
	size_t n = conn->down_ok < GW_WS_TX_CHUNK ? conn->down_ok : GW_WS_TX_CHUNK;
	memcpy(relay_tx + LWS_PRE, conn->down.data, n);
	if (lws_write(wsi, relay_tx + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n) {
		log_warn("viewer of %s from %s: write failed", conn->user, conn->peer);
		return -1;
	}
	conn->bytes_down += n;
	gw->metrics.bytes_out += n;
	if (conn->session != NULL)
		conn->session->bytes_out += n;
	if (gw->limits.max_kbps > 0)
		output_rate_sent(&conn->rate, n, gw->limits.max_kbps, gw_now_ms());
	buf_consume(&conn->down, n);
	conn->down_ok -= n;
	if (conn->raw_paused && conn->down.len < GW_RELAY_LOW_BYTES && conn->raw != NULL) {
		conn->raw_paused = false;
		lws_rx_flow_control(conn->raw, 1);
	}
	if (conn->down_ok > 0 || conn->closing)
		lws_callback_on_writable(wsi);
	return 0;
}

static void relay_closed(struct gw_conn *conn)
{
	lws_sul_cancel(&conn->close_sul);
	lws_sul_cancel(&conn->fbur_sul);
	lws_sul_cancel(&conn->input_sul);
	lws_sul_cancel(&conn->ptr_sul);
	record_close(conn);
	session_detach(conn);
	if (conn->raw != NULL) {
		lws_set_opaque_user_data(conn->raw, NULL);
		lws_set_timeout(conn->raw, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
		conn->raw = NULL;
	}
	if (conn->worker_fd >= 0) {
		close(conn->worker_fd);
		conn->worker_fd = -1;
	}
	log_info("viewer of %s from %s disconnected (%llu bytes in, %llu bytes out)%s%s",
		 conn->user, conn->peer, (unsigned long long)conn->bytes_up,
		 (unsigned long long)conn->bytes_down, conn->closing ? ": " : "",
		 conn->closing ? conn->close_reason : "");
	buf_free(&conn->up_in);
	buf_free(&conn->up_out);
	buf_free(&conn->down);
	free(conn->clip_down);
	conn->clip_down = NULL;
}

int relay_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len)
{
	struct gw_conn *conn = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return relay_established(wsi, conn);
	case LWS_CALLBACK_RECEIVE:
		relay_from_viewer(wsi, conn, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return relay_to_viewer(wsi, conn);
	case LWS_CALLBACK_CLOSED:
		relay_closed(conn);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		/* A confirmed upgrade whose handshake then failed. */
		http_drop_grant(wsi);
		return 0;
	default:
		return 0;
	}
}

int relay_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	(void)user;
	struct gw_conn *conn = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX:
		if (conn == NULL || conn->closing)
			return 0;
		if (!conn->rec_checked) {
			conn->rec_checked = true;
			record_start(conn);
		}
		if (buf_append(&conn->down, in, len) != 0) {
			log_error("viewer of %s: relay buffer overrun from the worker", conn->user);
			relay_close(conn, GW_CLOSE_SESSION_ENDED, "session ended: relay overrun");
			return 0;
		}
		relay_check_down(conn);
		if (conn->down_ok > 0)
			lws_callback_on_writable(conn->ws);
		if (conn->down.len >= GW_RELAY_HIGH_BYTES && !conn->raw_paused) {
			conn->raw_paused = true;
			lws_rx_flow_control(wsi, 0);
		}
		return 0;

	case LWS_CALLBACK_RAW_WRITEABLE: {
		if (conn == NULL || conn->up_out.len == 0)
			return 0;
		size_t n = conn->up_out.len < GW_WS_TX_CHUNK ? conn->up_out.len : GW_WS_TX_CHUNK;
		memcpy(relay_tx + LWS_PRE, conn->up_out.data, n);
		if (lws_write(wsi, relay_tx + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
			return -1;
		buf_consume(&conn->up_out, n);
		if (conn->have_held)
			relay_fbur_try(conn);
		/* parsing may have stopped because this buffer was full */
		if (conn->up_in.len > 0 && !conn->input_waiting && !conn->closing)
			relay_process(conn);
		relay_ws_rx_update(conn);
		if (conn->up_out.len > 0)
			lws_callback_on_writable(wsi);
		return 0;
	}

	case LWS_CALLBACK_RAW_CLOSE:
		if (conn == NULL)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		conn->raw = NULL;
		if (!conn->closing) {
			/* The session's reason usually follows on the control socket. */
			lws_sul_schedule(gw->ctx, 0, &conn->close_sul, relay_close_later_cb,
					 RELAY_CLOSE_WAIT_US);
		}
		return 0;

	default:
		return 0;
	}
}
