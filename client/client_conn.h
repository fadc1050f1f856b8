/*
 * client_conn.h: one connection of the client library, shared by its
 * WebSocket bridge (client_bridge.c, the bridge thread) and its RFB client
 * (client_core.c, the caller's thread). Internal to client/: not part of the
 * public API.
 */
#ifndef PIXELGATE_CLIENT_CONN_H
#define PIXELGATE_CLIENT_CONN_H

#include "client_core.h"
#include "client_tls.h"
#include "pgc_platform.h"
#include "rfb_filter.h"
#include "rfb_stream.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deadline of pgc_connect(): WebSocket open and RFB handshake done, s. */
#define CONNECT_TIMEOUT_S 20
/* How long pgc_free() waits for the WebSocket closing handshake. */
#define CLOSE_GRACE_MS 1000
/* Bridge buffers: rx from the side feeding a buffer is paused at
   BRIDGE_BUF_HIGH and resumed at BRIDGE_BUF_LOW; BRIDGE_BUF_SLACK absorbs
   what lws may still deliver after the pause. */
#define BRIDGE_BUF_HIGH (1024u * 1024u)
#define BRIDGE_BUF_LOW (BRIDGE_BUF_HIGH / 2u)
#define BRIDGE_BUF_SLACK (256u * 1024u)
/* Largest WebSocket message sent at once, and the ws rx buffer. */
#define WS_TX_CHUNK 32768u
#define WS_RX_BUFFER 65536u
#define MAX_TICKET_LEN 512
/* A WebSocket that received nothing for WS_PING_IDLE_S is pinged; one that
   stays silent (no PONG either) for WS_HANGUP_IDLE_S is closed, so a
   network that drops packets without a reset is noticed. */
#define WS_PING_IDLE_S 20
#define WS_HANGUP_IDLE_S 35
/* What libvncclient writes before its first message, bytes: its
   ProtocolVersion (12), the security type it chose (1), ClientInit (1). The
   guard lets through no other handshake than RFB 3.8 with None. */
#define GUARD_CLIENT_HANDSHAKE 14
/* Where ServerInit starts in the server's stream, bytes: after the
   ProtocolVersion (12), the security types [None] (2) and SecurityResult
   (4), which are all the parser accepts there. */
#define GUARD_SERVER_INIT_AT 18
/* Largest SetEncodings the guard frames, encodings (libvncclient's
   MAX_ENCODINGS; the gateway's RFB_FILTER_MAX_ENCODINGS). */
#define GUARD_MAX_ENCODINGS 64

/* A FIFO of bytes: data[off, off + len) is pending. */
struct bbuf {
	unsigned char *data;
	size_t cap;
	size_t off;
	size_t len;
};

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_FAILED };

/* The guard of one connection (bridge thread only). */
struct pgc_guard {
	struct rfb_sc sc; /* the server -> client parser */
	bool sized;       /* sc has the session's size (from ServerInit) */
	bool refused;     /* the server's data was refused: nothing more passes */
	uint64_t passed;  /* server bytes passed so far */
	/* what libvncclient writes, framed into its messages */
	uint32_t cs_skip; /* bytes to let by unseen: handshake, ClientCutText's text */
	bool cs_lost;     /* a message it cannot frame came: server bytes are held */
	size_t cs_have;   /* bytes of the current message in cs_msg */
	uint8_t cs_msg[4 + 4 * GUARD_MAX_ENCODINGS];
	/* the server's ServerCutText being taken out of the stream (guard_clip()) */
	uint8_t *clip;
	size_t clip_len, clip_cap;
	bool clip_lost;
};

struct pgc_conn {
	/* set before the bridge thread starts, constant afterwards */
	struct lws_context *ctx;
	SSL_CTX *ssl_ctx;
	struct pgc_server srv;
	char path[32 + 3 * MAX_TICKET_LEN];
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* guards the fields below, up to the marker */
	pthread_cond_t cond;  /* state changes */
	enum conn_state state;
	char err[256];        /* why the connect failed */
	int http_status;      /* status of a refused upgrade */
	int hs_status;        /* status seen at LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP */
	bool stop_req;        /* pgc_free(): close and let the thread end */
	bool close_req;       /* caller hit an RFB error: close the WebSocket */
	bool rfb_ready;       /* rfbInitClient() done: disarm the watchdog */
	bool closed;          /* close_code/close_reason are final */
	bool closed_by_guard; /* ... and the guard's (not the server's) */
	int close_code;
	char close_reason[256];
	char *clip_last; /* the last clipboard text from the session (UTF-8), or NULL */
	uint64_t clip_count;
	/* --- end of lock-guarded fields */

	/* bridge thread only (or any thread once it is joined) */
	struct lws *ws;       /* the WebSocket, once established */
	struct lws *raw;      /* the adopted bridge end */
	pgc_socket fd_bridge; /* our socket pair end until lws adopts it */
	struct bbuf to_raw;   /* WebSocket -> libvncclient */
	size_t raw_ok;        /* to_raw's first bytes, which the guard passed */
	struct pgc_guard guard;
	/* pgc_connect_ws() only: what libvncclient writes passes the gateway's
	   viewer -> browser filter (rfb_filter.h, its SetEncodings rewrite)
	   before the WebSocket, as a pixelgate gateway would pass it on, so a
	   server without a gateway in front is asked for the same encodings;
	   filt_in holds a message cut short */
	bool filter_out;
	struct rfb_filter filt;
	struct bbuf filt_in;
	struct bbuf to_ws;    /* libvncclient -> WebSocket */
	unsigned char *txbuf; /* LWS_PRE + WS_TX_CHUNK */
	bool ws_rx_paused;
	bool raw_rx_paused;
	bool ws_gone;       /* the WebSocket closed (or never opened) */
	bool raw_shut;      /* shutdown(SHUT_WR) done on the bridge end */
	bool ws_close_sent; /* close frame requested */
	bool stop_handled;
	bool thread_exit;
	bool destroying; /* inside lws_context_destroy(): bookkeeping only */
	bool peer_close_seen;
	int peer_close_code;
	char peer_close_reason[128];
	struct tls_verify tv;   /* server certificate check */
	bool gate_held;         /* TLS gate (set by the caller before the thread
				   starts, cleared by whoever gives it back) */
	int local_close_status; /* WebSocket close status we send */
	char local_close_text[64];
	lws_sorted_usec_list_t sul_watchdog;
	lws_sorted_usec_list_t sul_grace;

	/* caller side */
	pthread_mutex_t rfb_lock; /* serialises libvncclient calls */
	rfbClient *rfb;
	void *fb;             /* cl->frameBuffer, as allocated by rfb_alloc_fb() */
	pgc_socket fd_client; /* our socket pair end until rfb owns it */
	atomic_bool rfb_dead;
	struct pgc_callbacks cb; /* the application's callbacks (members may be NULL) */
	_Atomic uint64_t frames;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t jpeg_rects; /* Tight JPEG rectangles the guard passed */
	bool locks_ok;
};

/* Allocates a conn with its locks and buffers. Returns NULL on failure. */
struct pgc_conn *pgc_conn_alloc(void);

/*
 * Opens c's WebSocket to c->srv at c->path (the TLS gate taken, the lws
 * context created, the watchdog armed, the bridge thread started) and waits
 * until it is open or failed, or deadline (monotonic ms) passed. 0, or -1
 * with err and *http_status (if not NULL) filled; pgc_free() cleans up.
 */
int pgc_bridge_open(struct pgc_conn *c, int64_t deadline, char *err, size_t errlen,
		    int *http_status);

/* Marks the connection closed with code/reason unless it already is. Takes
   c->lock. Returns true if this call closed it. */
bool pgc_conn_mark_closed(struct pgc_conn *c, int code, const char *reason);

#endif
