/*
 * client_core.c: the pixelgate client library (staff side).
 *
 * Two halves:
 *
 * - HTTP (pgc_http_post, pgc_http_get, pgc_login, pgc_http_request): one
 *   short-lived libwebsockets client context per call, serviced on the
 *   caller's thread until the answer is complete or HTTP_TIMEOUT_S passed.
 *
 * - RFB over WebSocket (pgc_connect ... pgc_free): a socketpair whose
 *   "client" end is handed to libvncclient (which runs on the caller's
 *   thread) and whose "bridge" end is adopted as a raw socket into a
 *   per-connection lws context serviced by its own thread. That thread
 *   shovels bytes between the raw socket and the wss:// connection
 *   (subprotocol "binary"), with bounded buffers and rx flow control in
 *   both directions.
 *
 * Trust: every context disables the OS CA store and trusts only the CA file
 * given in struct pgc_server; server certificates are verified, including
 * the host name / IP address.
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
#include "client_core.h"
#include "rfb_stream.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <limits.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_TIMEOUT_S		15
#define CONNECT_TIMEOUT_S	20
/* How long pgc_free() waits for the WebSocket closing handshake. */
#define CLOSE_GRACE_MS		1000
/* Request body bytes written per LWS_CALLBACK_CLIENT_HTTP_WRITEABLE. */
#define HTTP_TX_CHUNK		16384
/* Bridge buffers: rx from the side feeding a buffer is paused at
   BRIDGE_BUF_HIGH and resumed at BRIDGE_BUF_LOW; BRIDGE_BUF_SLACK absorbs
   what lws may still deliver after the pause. */
#define BRIDGE_BUF_HIGH		(1024u * 1024u)
#define BRIDGE_BUF_LOW		(BRIDGE_BUF_HIGH / 2u)
#define BRIDGE_BUF_SLACK	(256u * 1024u)
/* Largest WebSocket message sent at once, and the ws rx buffer. */
#define WS_TX_CHUNK		32768u
#define WS_RX_BUFFER		65536u
#define LWS_SERV_BUF		32768u
#define MAX_TICKET_LEN		512
/* A WebSocket that received nothing for WS_PING_IDLE_S is pinged; one that
   stays silent (no PONG either) for WS_HANGUP_IDLE_S is closed, so a
   network that drops packets without a reset is noticed. */
#define WS_PING_IDLE_S		20
#define WS_HANGUP_IDLE_S	35
/* What libvncclient writes before its first message, bytes: its
   ProtocolVersion (12), the security type it chose (1), ClientInit (1). The
   guard lets through no other handshake than RFB 3.8 with None. */
#define GUARD_CLIENT_HANDSHAKE	14
/* Where ServerInit starts in the server's stream, bytes: after the
   ProtocolVersion (12), the security types [None] (2) and SecurityResult
   (4), which are all the parser accepts there. */
#define GUARD_SERVER_INIT_AT	18
/* Largest SetEncodings the guard frames, encodings (libvncclient's
   MAX_ENCODINGS; the gateway's RFB_FILTER_MAX_ENCODINGS). */
#define GUARD_MAX_ENCODINGS	64

/* ------------------------------------------------------------------------ */
/* Process-wide setup: logging of lws and libvncclient.                     */
/* ------------------------------------------------------------------------ */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_debug;
/* Serialises lws_create_context()/lws_context_destroy(), which run lws'
   global OpenSSL setup and teardown. */
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The TLS gate. lws 4.1.6 allocates a new OpenSSL ex-data index (where it
 * finds the wsi of an SSL object) each time a context is created with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT and stores it in a global, so a
 * context created while another context's TLS handshake is in flight makes
 * that handshake fail ("connect SSL err 1", and lws leaks the SSL objects).
 * The gate admits one "create a context and complete its TLS handshake" at a
 * time: taken before lws_create_context(), given back once the handshake is
 * over (lws calls LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER only after it,
 * or LWS_CALLBACK_CLIENT_CONNECTION_ERROR) or the attempt is abandoned. A
 * flag, not a mutex: the thread giving it back may not be the one that took
 * it.
 */
static pthread_mutex_t g_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_cond;	/* CLOCK_MONOTONIC, set up in global_init() */
static bool g_gate_busy;

/*
 * OpenSSL entry points, looked up at run time in the libssl/libcrypto that
 * lws already loaded, so this file adds no link dependency (pgclient links
 * lws, libvncclient and jansson only). Members are NULL if not found.
 *
 * Why we build the client SSL_CTX ourselves (info.provided_client_ssl_ctx):
 * lws 4.1.6 tags the SSL_CTX it creates with a bookkeeping struct stored
 * under an ex-data index that every later lws_create_context() with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT replaces, so a context destroyed
 * after another one was created cannot find it and leaks its SSL_CTX
 * (~20 KB, an LSan report). A provided SSL_CTX is left alone by lws and
 * freed by us. If the lookup fails we fall back to lws' own SSL_CTX.
 */
static struct {
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *method);
	void (*ctx_free)(SSL_CTX *ctx);
	int (*load_verify)(SSL_CTX *ctx, const char *file, const char *dir);
	long (*ctx_ctrl)(SSL_CTX *ctx, int cmd, long larg, void *parg);
	void (*err_clear)(void);
	int (*x509_ctx_get_error)(X509_STORE_CTX *x509_ctx);
	const char *(*x509_err_string)(long err);
} g_ossl;

_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym needs code = data pointers");

/* Stores the address of symbol name (or NULL) into the function pointer at
   fp. */
static void ossl_sym(void *fp, const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	memcpy(fp, &p, sizeof(p));
}

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
static void __attribute__((format(printf, 1, 2))) rfb_log_cb(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_format_line(tl_rfb_log, sizeof(tl_rfb_log), fmt, ap);
	va_end(ap);
	if (g_debug)
		fprintf(stderr, "pgc: rfb: %s\n", tl_rfb_log);
}

/* rfbClientErr replacement: remembers the line, prints it only in debug. */
static void __attribute__((format(printf, 1, 2))) rfb_err_cb(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_format_line(tl_rfb_err, sizeof(tl_rfb_err), fmt, ap);
	va_end(ap);
	if (g_debug)
		fprintf(stderr, "pgc: rfb error: %s\n", tl_rfb_err);
}

/* lws log sink used when PIXELGATE_DEBUG is set. */
static void lws_log_cb(int level, const char *line)
{
	(void)level;
	fprintf(stderr, "pgc: lws: %s", line);
}

/* Runs once: reads PIXELGATE_DEBUG and routes lws and libvncclient logs
   (both are process-global settings). */
static void global_init(void)
{
	const char *d = getenv("PIXELGATE_DEBUG");

	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_gate_cond, &ca);
	pthread_condattr_destroy(&ca);
	g_debug = d && *d && strcmp(d, "0") != 0;
	rfbClientLog = rfb_log_cb;
	rfbClientErr = rfb_err_cb;
	ossl_sym(&g_ossl.client_method, "TLS_client_method");
	ossl_sym(&g_ossl.ctx_new, "SSL_CTX_new");
	ossl_sym(&g_ossl.ctx_free, "SSL_CTX_free");
	ossl_sym(&g_ossl.load_verify, "SSL_CTX_load_verify_locations");
	ossl_sym(&g_ossl.ctx_ctrl, "SSL_CTX_ctrl");
	ossl_sym(&g_ossl.err_clear, "ERR_clear_error");
	ossl_sym(&g_ossl.x509_ctx_get_error, "X509_STORE_CTX_get_error");
	ossl_sym(&g_ossl.x509_err_string, "X509_verify_cert_error_string");
	lws_set_log_level(g_debug ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : 0, lws_log_cb);
}

/* Formats into buf (if buf/size usable); never overflows. */
static void __attribute__((format(printf, 3, 4)))
set_msg(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the TLS gate, waiting until deadline_ms (monotonic) at most.
   Returns 0 (then *held is true) or -1 on timeout. */
static int tls_gate_enter(int64_t deadline_ms, bool *held)
{
	struct timespec ts;
	int rc = 0;

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	pthread_mutex_lock(&g_gate_lock);
	while (g_gate_busy && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g_gate_cond, &g_gate_lock, &ts);
	if (!g_gate_busy) {
		g_gate_busy = true;
		*held = true;
	}
	pthread_mutex_unlock(&g_gate_lock);
	return *held ? 0 : -1;
}

/* Gives the TLS gate back if *held; clears *held. */
static void tls_gate_leave(bool *held)
{
	if (!*held)
		return;
	*held = false;
	pthread_mutex_lock(&g_gate_lock);
	g_gate_busy = false;
	pthread_cond_signal(&g_gate_cond);
	pthread_mutex_unlock(&g_gate_lock);
}

/* Copies the lws diagnostic string (in, len; may be NULL) into out. */
static void lws_in_to_str(const void *in, size_t len, char *out, size_t size)
{
	if (!size)
		return;
	if (!in) {
		set_msg(out, size, "%s", "no detail");
		return;
	}
	/* lws passes a C string; len is its strlen, but do not trust either */
	len = strnlen((const char *)in, len ? len : size - 1);
	if (len > size - 1)
		len = size - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

/* The first failed server-certificate check of a connection attempt. */
struct tls_verify {
	bool failed;
	int code;		/* X509_V_ERR_*, -1 if unknown */
	char text[96];		/* OpenSSL's description of code */
};

/*
 * Handles LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION (x509_ctx,
 * preverify_ok): remembers the first verification error in tv. Never
 * overrides OpenSSL's verdict.
 */
static void tls_note_verify(struct tls_verify *tv, void *x509_ctx, size_t preverify_ok)
{
	const char *s;

	if (preverify_ok || tv->failed)
		return;
	tv->failed = true;
	tv->code = x509_ctx && g_ossl.x509_ctx_get_error ?
		   g_ossl.x509_ctx_get_error((X509_STORE_CTX *)x509_ctx) : -1;
	s = tv->code >= 0 && g_ossl.x509_err_string ? g_ossl.x509_err_string(tv->code) : NULL;
	set_msg(tv->text, sizeof(tv->text), "%s", s ? s : "certificate verification failed");
}

/*
 * Turns a failed connection attempt into a message for the user: tv (may be
 * NULL) is what the certificate check saw, detail the string lws gives with
 * LWS_CALLBACK_CLIENT_CONNECTION_ERROR (lws 4.1.6 says only "connect SSL err
 * 1: error:00000001:lib(0)::reason(1)" when verification fails; later
 * versions may say "server's cert didn't look good, X509_V_ERR = 20: ...").
 * Returns true if the failure was a TLS one.
 */
static bool describe_conn_error(const struct pgc_server *srv, const struct tls_verify *tv,
				const char *detail, char *out, size_t size)
{
	const char *x = strstr(detail, "X509_V_ERR");
	const char *why = detail;
	char buf[200];
	int code = -1;

	if (tv && tv->failed) {
		code = tv->code;
		set_msg(buf, sizeof(buf), "%s; lws: %s", tv->text, detail);
		why = buf;
	} else if (x) {
		const char *eq = strchr(x, '=');

		code = eq ? atoi(eq + 1) : -1;
	}
	if ((tv && tv->failed) || x) {
		if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH)
			set_msg(out, size,
				"TLS handshake failed: server certificate does not match host %s (%s)",
				srv->host, why);
		else if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID)
			set_msg(out, size,
				"TLS handshake failed: server certificate expired or not yet valid (%s)",
				why);
		else
			set_msg(out, size,
				"TLS handshake failed: server certificate not signed by the pinned CA "
				"%s (%s)", srv->ca_file, why);
		return true;
	}
	if (strstr(detail, "SSL") || strstr(detail, "ssl") || strstr(detail, "TLS") ||
	    strstr(detail, "tls") || strstr(detail, "cert")) {
		set_msg(out, size, "TLS handshake failed with %s:%d (%s)", srv->host, srv->port,
			detail);
		return true;
	}
	set_msg(out, size, "connection to %s:%d failed (%s)", srv->host, srv->port, detail);
	return false;
}

/* True if path is readable and looks like it holds a PEM certificate (lws
   would otherwise fail later with an unhelpful TLS error); else false with a
   reason in err. */
static bool ca_file_has_pem_cert(const char *path, char *err, size_t size)
{
	static const char tag[] = "-----BEGIN CERTIFICATE-----";
	char *buf;
	size_t n;
	bool found;
	FILE *f = fopen(path, "rb");

	if (!f) {
		set_msg(err, size, "cannot read CA file %s: %s", path, strerror(errno));
		return false;
	}
	buf = malloc(65537);
	if (!buf) {
		fclose(f);
		set_msg(err, size, "out of memory");
		return false;
	}
	n = fread(buf, 1, 65536, f);
	fclose(f);
	buf[n] = '\0';
	found = memmem(buf, n, tag, sizeof(tag) - 1) != NULL;
	free(buf);
	if (!found)
		set_msg(err, size, "CA file %s holds no PEM certificate", path);
	return found;
}

/* Checks the parts of srv every call needs; writes a reason into err. */
static int check_server(const struct pgc_server *srv, char *err, size_t size)
{
	if (!srv || !srv->host || !*srv->host || srv->port <= 0 || srv->port > 65535) {
		set_msg(err, size, "invalid server address");
		return -1;
	}
	if (!srv->ca_file || !*srv->ca_file) {
		set_msg(err, size, "no CA file given");
		return -1;
	}
	if (!ca_file_has_pem_cert(srv->ca_file, err, size))
		return -1;
	return 0;
}

/*
 * Creates a TLS client SSL_CTX trusting only ca_file (TLS 1.2 or later;
 * peer verification and the host name check are armed per connection by
 * lws). Returns NULL if the OpenSSL entry points are not available (the
 * caller then lets lws build its own) or, with *failed set and a reason in
 * err, if the CA file cannot be loaded.
 */
static SSL_CTX *tls_client_ctx_new(const char *ca_file, bool *failed, char *err, size_t size)
{
	SSL_CTX *ctx;

	*failed = false;
	if (!g_ossl.client_method || !g_ossl.ctx_new || !g_ossl.ctx_free || !g_ossl.load_verify ||
	    !g_ossl.ctx_ctrl)
		return NULL;
	ctx = g_ossl.ctx_new(g_ossl.client_method());
	if (!ctx)
		return NULL;
	if (g_ossl.load_verify(ctx, ca_file, NULL) != 1) {
		if (g_ossl.err_clear)
			g_ossl.err_clear();
		g_ossl.ctx_free(ctx);
		*failed = true;
		set_msg(err, size, "cannot load CA file %s (not a PEM certificate?)", ca_file);
		return NULL;
	}
	g_ossl.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	return ctx;
}

/* Frees an SSL_CTX from tls_client_ctx_new() (NULL is fine). */
static void tls_client_ctx_free(SSL_CTX *ctx)
{
	if (ctx && g_ossl.ctx_free)
		g_ossl.ctx_free(ctx);
}

/*
 * Creates a client-only lws context that trusts only srv->ca_file, with
 * protocols and user (reachable via lws_context_user()). *ssl_ctx receives
 * the SSL_CTX to free after lws_context_destroy() (may be NULL). Returns
 * NULL with a reason in err on failure.
 */
static struct lws_context *lwsx_create_context(const struct pgc_server *srv,
					       const struct lws_protocols *protocols, void *user,
					       SSL_CTX **ssl_ctx, char *err, size_t size)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	bool failed;

	*ssl_ctx = tls_client_ctx_new(srv->ca_file, &failed, err, size);
	if (failed)
		return NULL;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = srv->ca_file;	/* used if *ssl_ctx is NULL */
	info.provided_client_ssl_ctx = *ssl_ctx;
	info.user = user;
	info.alpn = "http/1.1";
	info.timeout_secs = HTTP_TIMEOUT_S;
	info.connect_timeout_secs = HTTP_TIMEOUT_S;
	info.pt_serv_buf_size = LWS_SERV_BUF;
	info.gid = -1;
	info.uid = -1;

	pthread_mutex_lock(&g_ctx_lock);
	ctx = lws_create_context(&info);
	pthread_mutex_unlock(&g_ctx_lock);
	if (!ctx) {
		tls_client_ctx_free(*ssl_ctx);
		*ssl_ctx = NULL;
		set_msg(err, size, "cannot create the TLS client context (is %s a PEM CA file?)",
			srv->ca_file);
	}
	return ctx;
}

/* Destroys ctx (NULL is fine) under the global context lock, then the
   SSL_CTX it used (NULL is fine). */
static void lwsx_destroy_context(struct lws_context *ctx, SSL_CTX *ssl_ctx)
{
	if (ctx) {
		pthread_mutex_lock(&g_ctx_lock);
		lws_context_destroy(ctx);
		pthread_mutex_unlock(&g_ctx_lock);
	}
	tls_client_ctx_free(ssl_ctx);
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                     */
/* ------------------------------------------------------------------------ */

/* One HTTP transaction; lives on the caller's stack, reached from the
   callback through lws_context_user(). */
struct http_txn {
	const struct pgc_server *srv;
	const char *method;
	const char *authorization;	/* Authorization header value, or NULL */
	const char *content_type;
	const unsigned char *body;
	size_t body_len;
	size_t body_sent;
	/* Exactly one of res (login-style: fixed body buffer, truncating) and
	   resp (general: malloc'd body, capped, over the cap is an error). */
	struct pgc_login_result *res;
	struct pgc_http_response *resp;
	int *status;		/* &res->http_status or &resp->status */
	char *msg;		/* res->message or resp->message */
	size_t msg_size;
	size_t used;		/* bytes in res->body */
	bool too_big;		/* resp: the body passed PGC_HTTP_BODY_MAX */
	bool done;		/* answer complete, or connection gone */
	bool failed;		/* transport / TLS error (res->message says) */
	bool timed_out;
	bool gate_held;		/* TLS gate, until the handshake is over */
	struct tls_verify tv;
	lws_sorted_usec_list_t sul_timeout;
};

/* sul callback: the HTTP_TIMEOUT_S deadline of a transaction passed. */
static void http_timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct http_txn *t = lws_container_of(sul, struct http_txn, sul_timeout);

	t->timed_out = true;
}

/* Appends len bytes of response body, silently truncating at the size of
   res->body minus the terminating NUL. */
static void http_body_append(struct http_txn *t, const void *in, size_t len)
{
	size_t room = sizeof(t->res->body) - 1 - t->used;

	if (len > room)
		len = room;
	memcpy(t->res->body + t->used, in, len);
	t->used += len;
	t->res->body[t->used] = '\0';
}

/* Appends len bytes to resp->body, growing it (doubling) up to
   PGC_HTTP_BODY_MAX. Returns 0, or -1 (t->too_big or t->failed set, with a
   message) to close the connection. */
static int http_resp_append(struct http_txn *t, const void *in, size_t len)
{
	struct pgc_http_response *r = t->resp;
	size_t need, cap;
	char *nb;

	if (len > PGC_HTTP_BODY_MAX - r->body_len) {
		t->too_big = true;
		set_msg(t->msg, t->msg_size, "the answer is larger than %u bytes",
			(unsigned)PGC_HTTP_BODY_MAX);
		return -1;
	}
	need = r->body_len + len + 1;
	if (need > r->body_cap) {
		cap = r->body_cap ? r->body_cap : 4096;
		while (cap < need)
			cap *= 2;	/* need <= PGC_HTTP_BODY_MAX + 1: no overflow */
		nb = realloc(r->body, cap);
		if (!nb) {
			set_msg(t->msg, t->msg_size, "out of memory for a %zu-byte answer", need);
			t->failed = true;
			return -1;
		}
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, in, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Reads the Retry-After header (delta-seconds form) into resp; -1 if it is
   missing or an HTTP date. */
static void http_read_retry_after(struct http_txn *t, struct lws *wsi)
{
	char buf[32], *end;
	long v;

	t->resp->retry_after_s = -1;
	if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_RETRY_AFTER) <= 0)
		return;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end || v < 0 || v > INT_MAX)
		return;
	t->resp->retry_after_s = (int)v;
}

/* Adds Authorization (if any), and for a request with a body (any POST,
   PUT or PATCH, or a body given) Content-Type and Content-Length, and
   announces the body. Returns 0, or -1 if the headers do not fit. */
static int http_append_headers(struct http_txn *t, struct lws *wsi, unsigned char **p,
			       unsigned char *end)
{
	if (t->authorization &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
					 (const unsigned char *)t->authorization,
					 (int)strlen(t->authorization), p, end))
		return -1;
	if (strcmp(t->method, "POST") != 0 && strcmp(t->method, "PUT") != 0 &&
	    strcmp(t->method, "PATCH") != 0 && !t->body_len)
		return 0;
	if (t->content_type && *t->content_type &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)t->content_type,
					 (int)strlen(t->content_type), p, end))
		return -1;
	if (lws_add_http_header_content_length(wsi, (lws_filepos_t)t->body_len, p, end))
		return -1;
	if (t->body_len) {
		lws_client_http_body_pending(wsi, 1);
		lws_callback_on_writable(wsi);
	}
	return 0;
}

/* Writes the next piece of the request body (LWS_WRITE_HTTP_FINAL for the
   last one). Returns 0, or -1 to close on a write error. */
static int http_write_body(struct http_txn *t, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + HTTP_TX_CHUNK];
	size_t left = t->body_len - t->body_sent, n;
	bool last;

	if (!left)
		return 0;
	n = left > HTTP_TX_CHUNK ? HTTP_TX_CHUNK : left;
	last = n == left;
	memcpy(buf + LWS_PRE, t->body + t->body_sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
	    (int)n) {
		explicit_bzero(buf + LWS_PRE, n);
		set_msg(t->msg, t->msg_size, "writing the request body failed");
		t->failed = true;
		return -1;
	}
	explicit_bzero(buf + LWS_PRE, n);	/* a login body holds a password */
	t->body_sent += n;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

/* lws callback of the HTTP client protocol. */
static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct http_txn *t = lws_context_user(lws_get_context(wsi));
	char detail[200];

	if (!t)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		lws_in_to_str(in, len, detail, sizeof(detail));
		describe_conn_error(t->srv, &t->tv, detail, t->msg, t->msg_size);
		t->failed = true;
		t->done = true;
		tls_gate_leave(&t->gate_held);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		tls_note_verify(&t->tv, user, len);
		break;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		*t->status = (int)lws_http_client_http_response(wsi);
		if (t->resp)
			http_read_retry_after(t, wsi);
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		tls_gate_leave(&t->gate_held);
		return http_append_headers(t, wsi, (unsigned char **)in,
					   *(unsigned char **)in + len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return http_write_body(t, wsi);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 4096];
		char *px = buf + LWS_PRE;
		int lenx = (int)sizeof(buf) - LWS_PRE;

		if (lws_http_client_read(wsi, &px, &lenx) < 0)
			return -1;
		break;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (t->resp)
			return http_resp_append(t, in, len);
		http_body_append(t, in, len);
		break;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		t->done = true;
		break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!t->done && !*t->status && !t->failed) {
			set_msg(t->msg, t->msg_size,
				"connection closed before an HTTP answer arrived");
			t->failed = true;
		} else if (!t->done && t->resp && !t->failed && !t->too_big) {
			/* a status line but the body was cut short */
			set_msg(t->msg, t->msg_size,
				"connection closed in the middle of the HTTP answer");
			t->failed = true;
		}
		t->done = true;
		break;
	default:
		break;
	}
	return 0;
}

/* Fills the JSON fields of res from its body (status decides which). */
static void http_parse_json(struct pgc_login_result *res, size_t used)
{
	json_error_t jerr;
	json_t *root = json_loadb(res->body, used, 0, &jerr);

	if (!json_is_object(root)) {
		if (res->http_status != 200)
			set_msg(res->message, sizeof(res->message), "HTTP %d (no JSON body)",
				res->http_status);
		json_decref(root);
		return;
	}
	if (res->http_status == 200) {
		const char *ticket = json_string_value(json_object_get(root, "ticket"));
		json_t *exp = json_object_get(root, "expires_in");

		if (ticket && strlen(ticket) < sizeof(res->ticket))
			memcpy(res->ticket, ticket, strlen(ticket) + 1);
		if (json_is_integer(exp)) {
			json_int_t v = json_integer_value(exp);

			res->expires_in_s = v < 0 ? 0 : v > INT_MAX ? INT_MAX : (int)v;
		}
	} else {
		const char *e = json_string_value(json_object_get(root, "error"));
		const char *m = json_string_value(json_object_get(root, "message"));

		if (e)
			set_msg(res->error, sizeof(res->error), "%s", e);
		if (m)
			set_msg(res->message, sizeof(res->message), "%s", m);
		else
			set_msg(res->message, sizeof(res->message), "HTTP %d", res->http_status);
	}
	json_decref(root);
}

/*
 * Performs one blocking HTTP request into res (login style) or resp
 * (general); exactly one of them is non-NULL and has been cleared by the
 * caller. Returns 0 when a complete HTTP answer arrived (any status), -1 on
 * a transport/TLS error, a timeout or (resp) an answer over the cap; the
 * message member says which.
 */
static int http_run(const struct pgc_server *srv, const char *method, const char *path,
		    const char *authorization, const char *content_type, const void *body,
		    size_t body_len, struct pgc_login_result *res, struct pgc_http_response *resp)
{
	static const struct lws_protocols protocols[] = {
		{ "pgc-http", http_cb, 0, 0, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 }
	};
	struct lws_client_connect_info i;
	struct lws_context *ctx;
	SSL_CTX *ssl_ctx;
	struct http_txn t;

	memset(&t, 0, sizeof(t));
	t.res = res;
	t.resp = resp;
	t.status = res ? &res->http_status : &resp->status;
	t.msg = res ? res->message : resp->message;
	t.msg_size = res ? sizeof(res->message) : sizeof(resp->message);
	pthread_once(&g_once, global_init);
	if (check_server(srv, t.msg, t.msg_size))
		return -1;
	if (!path || path[0] != '/' || (body_len && !body)) {
		set_msg(t.msg, t.msg_size, "invalid request path or body");
		return -1;
	}
	if (authorization && strpbrk(authorization, "\r\n")) {
		set_msg(t.msg, t.msg_size, "invalid Authorization header value");
		return -1;
	}
	t.srv = srv;
	t.method = method;
	t.authorization = authorization;
	t.content_type = content_type;
	t.body = body;
	t.body_len = body_len;

	if (tls_gate_enter(now_ms() + (int64_t)HTTP_TIMEOUT_S * 1000, &t.gate_held)) {
		set_msg(t.msg, t.msg_size,
			"timed out waiting for another connection's TLS handshake");
		return -1;
	}
	ctx = lwsx_create_context(srv, protocols, &t, &ssl_ctx, t.msg, t.msg_size);
	if (!ctx) {
		tls_gate_leave(&t.gate_held);
		return -1;
	}
	lws_sul_schedule(ctx, 0, &t.sul_timeout, http_timeout_cb,
			 (lws_usec_t)HTTP_TIMEOUT_S * LWS_US_PER_SEC);

	memset(&i, 0, sizeof(i));
	i.context = ctx;
	i.address = srv->host;
	i.port = srv->port;
	i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	i.path = path;
	i.host = srv->host;
	i.method = method;
	i.protocol = protocols[0].name;
	i.alpn = "http/1.1";
	if (!lws_client_connect_via_info(&i) && !t.failed) {
		set_msg(t.msg, t.msg_size, "cannot start a connection to %s:%d", srv->host,
			srv->port);
		t.failed = true;
		t.done = true;
	}
	while (!t.done && !t.timed_out)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_sul_cancel(&t.sul_timeout);
	lwsx_destroy_context(ctx, ssl_ctx);
	tls_gate_leave(&t.gate_held);

	if (!t.done && !t.failed && !t.too_big) {
		if (*t.status)
			set_msg(t.msg, t.msg_size, "timed out after %d s reading the HTTP answer",
				HTTP_TIMEOUT_S);
		else
			set_msg(t.msg, t.msg_size, "timed out after %d s waiting for %s:%d",
				HTTP_TIMEOUT_S, srv->host, srv->port);
		*t.status = 0;
		return -1;
	}
	if (t.too_big)
		return -1;	/* the status stays: the server did answer */
	if (t.failed && (resp || !*t.status))
		return -1;
	if (!*t.status) {
		set_msg(t.msg, t.msg_size, "no HTTP answer");
		return -1;
	}
	if (res)
		http_parse_json(res, t.used);
	return 0;
}

/* Performs one blocking HTTP request; the contract of pgc_http_post(). */
static int http_request(const struct pgc_server *srv, const char *method, const char *path,
			const char *content_type, const void *body, size_t body_len,
			struct pgc_login_result *res)
{
	if (!res)
		return -1;
	memset(res, 0, sizeof(*res));
	return http_run(srv, method, path, NULL, content_type, body, body_len, res, NULL);
}

int pgc_http_request(const struct pgc_server *srv, const char *method, const char *path,
		     const char *authorization, const char *content_type, const void *body,
		     size_t body_len, struct pgc_http_response *res)
{
	int rc;

	if (!res)
		return -1;
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (!method || !*method || strpbrk(method, " \r\n")) {
		set_msg(res->message, sizeof(res->message), "invalid HTTP method");
		return -1;
	}
	rc = http_run(srv, method, path, authorization, content_type, body, body_len, NULL, res);
	if (rc) {
		pgc_http_response_free(res);	/* a partial body is no answer */
		return -1;
	}
	if (!res->body) {
		/* an empty body still reads as "" */
		res->body = calloc(1, 1);
		if (!res->body) {
			set_msg(res->message, sizeof(res->message), "out of memory");
			return -1;
		}
		res->body_cap = 1;
	}
	return rc;
}

void pgc_http_response_free(struct pgc_http_response *res)
{
	if (!res)
		return;
	if (res->body)
		explicit_bzero(res->body, res->body_cap);
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	res->body_cap = 0;
}

int pgc_http_post(const struct pgc_server *srv, const char *path, const char *content_type,
		  const void *body, size_t body_len, struct pgc_login_result *res)
{
	return http_request(srv, "POST", path, content_type, body, body_len, res);
}

int pgc_http_get(const struct pgc_server *srv, const char *path, struct pgc_login_result *res)
{
	return http_request(srv, "GET", path, NULL, NULL, 0, res);
}

/* Overwrites the text of string member key of object o (a password)
   before o is freed. NULL o or a missing member is fine. */
static void json_wipe_member(json_t *o, const char *key)
{
	json_t *s = o ? json_object_get(o, key) : NULL;
	/* jansson keeps the value in its own heap copy and does not wipe it
	   when freeing; the object is ours, so writing to it is fine */
	char *v = (char *)json_string_value(s);

	if (v)
		explicit_bzero(v, json_string_length(s));
}

int pgc_login(const struct pgc_server *srv, const char *user, const char *password, int width,
	      int height, struct pgc_login_result *res)
{
	json_t *o;
	char *body;
	int rc;

	if (!res)
		return -1;
	if (!user || !password) {
		memset(res, 0, sizeof(*res));
		set_msg(res->message, sizeof(res->message), "user and password are required");
		return -1;
	}
	o = json_object();
	if (!o || json_object_set_new(o, "user", json_string(user)) ||
	    json_object_set_new(o, "password", json_string(password)) ||
	    (width && json_object_set_new(o, "width", json_integer(width))) ||
	    (height && json_object_set_new(o, "height", json_integer(height)))) {
		/* json_string() returns NULL for invalid UTF-8 */
		json_wipe_member(o, "password");
		json_decref(o);
		memset(res, 0, sizeof(*res));
		set_msg(res->message, sizeof(res->message),
			"cannot encode the login request (user/password not UTF-8?)");
		return -1;
	}
	body = json_dumps(o, JSON_COMPACT);
	json_wipe_member(o, "password");
	json_decref(o);
	if (!body) {
		memset(res, 0, sizeof(*res));
		set_msg(res->message, sizeof(res->message), "out of memory");
		return -1;
	}
	rc = pgc_http_post(srv, "/api/v1/login", "application/json", body, strlen(body), res);
	explicit_bzero(body, strlen(body));	/* it holds the password */
	free(body);
	if (rc)
		return -1;
	if (res->http_status != 200)
		return -1;
	if (!res->ticket[0]) {
		set_msg(res->message, sizeof(res->message),
			"login answer has no usable \"ticket\"");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Bridge buffers                                                           */
/* ------------------------------------------------------------------------ */

/* A FIFO of bytes: data[off, off + len) is pending. */
struct bbuf {
	unsigned char *data;
	size_t cap;
	size_t off;
	size_t len;
};

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

/* ------------------------------------------------------------------------ */
/* Connection                                                               */
/* ------------------------------------------------------------------------ */

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_FAILED };

/* The guard of one connection (bridge thread only). */
struct pgc_guard {
	struct rfb_sc sc;	/* the server -> client parser */
	bool sized;		/* sc has the session's size (from ServerInit) */
	bool refused;		/* the server's data was refused: nothing more passes */
	uint64_t passed;	/* server bytes passed so far */
	/* what libvncclient writes, framed into its messages */
	uint32_t cs_skip;	/* bytes to let by unseen: handshake, ClientCutText's text */
	bool cs_lost;		/* a message it cannot frame came: server bytes are held */
	size_t cs_have;		/* bytes of the current message in cs_msg */
	uint8_t cs_msg[4 + 4 * GUARD_MAX_ENCODINGS];
};

struct pgc_conn {
	/* set before the bridge thread starts, constant afterwards */
	struct lws_context *ctx;
	SSL_CTX *ssl_ctx;
	struct pgc_server srv;
	char path[32 + 3 * MAX_TICKET_LEN];
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;	/* guards the fields below, up to the marker */
	pthread_cond_t cond;	/* state changes */
	enum conn_state state;
	char err[256];		/* why the connect failed */
	int http_status;	/* status of a refused upgrade */
	int hs_status;		/* status seen at LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP */
	bool stop_req;		/* pgc_free(): close and let the thread end */
	bool close_req;		/* caller hit an RFB error: close the WebSocket */
	bool rfb_ready;		/* rfbInitClient() done: disarm the watchdog */
	bool closed;		/* close_code/close_reason are final */
	bool closed_by_guard;	/* ... and the guard's (not the server's) */
	int close_code;
	char close_reason[256];
	/* --- end of lock-guarded fields */

	/* bridge thread only (or any thread once it is joined) */
	struct lws *ws;		/* the WebSocket, once established */
	struct lws *raw;	/* the adopted bridge end */
	int fd_bridge;		/* our socketpair end until lws adopts it */
	struct bbuf to_raw;	/* WebSocket -> libvncclient */
	size_t raw_ok;		/* to_raw's first bytes, which the guard passed */
	struct pgc_guard guard;
	struct bbuf to_ws;	/* libvncclient -> WebSocket */
	unsigned char *txbuf;	/* LWS_PRE + WS_TX_CHUNK */
	bool ws_rx_paused;
	bool raw_rx_paused;
	bool ws_gone;		/* the WebSocket closed (or never opened) */
	bool raw_shut;		/* shutdown(SHUT_WR) done on the bridge end */
	bool ws_close_sent;	/* close frame requested */
	bool stop_handled;
	bool thread_exit;
	bool destroying;	/* inside lws_context_destroy(): bookkeeping only */
	bool peer_close_seen;
	int peer_close_code;
	char peer_close_reason[128];
	struct tls_verify tv;	/* server certificate check */
	bool gate_held;		/* TLS gate (set by the caller before the thread
				   starts, cleared by whoever gives it back) */
	int local_close_status;	/* WebSocket close status we send */
	char local_close_text[64];
	lws_sorted_usec_list_t sul_watchdog;
	lws_sorted_usec_list_t sul_grace;

	/* caller side */
	pthread_mutex_t rfb_lock;	/* serialises libvncclient calls */
	rfbClient *rfb;
	void *fb;		/* cl->frameBuffer, as allocated by rfb_alloc_fb() */
	int fd_client;		/* our socketpair end until rfb owns it */
	atomic_bool rfb_dead;
	struct pgc_callbacks cb;	/* the application's callbacks (members may be NULL) */
	_Atomic uint64_t frames;
	_Atomic uint64_t bytes_in;
	bool locks_ok;
};

/* Tag for rfbClientSetClientData(). */
static int pgc_rfb_tag;

#if defined(LIBVNCSERVER_HAVE_LIBZ) && defined(LIBVNCSERVER_HAVE_LIBJPEG)
/* Exported by libvncclient (its bundled TurboJPEG wrapper); not declared in
   its headers. */
extern int tjDestroy(void *handle);
#endif

/* Records the reason the connect attempt failed (first reason wins) and
   wakes pgc_connect(). Takes c->lock. */
static void conn_fail(struct pgc_conn *c, int http_status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
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
		set_msg(c->close_reason, sizeof(c->close_reason), "%s", reason);
	}
	pthread_mutex_unlock(&c->lock);
	return first;
}

/* conn_mark_closed_by() for every cause but the guard. */
static bool conn_mark_closed(struct pgc_conn *c, int code, const char *reason)
{
	return conn_mark_closed_by(c, code, reason, false);
}

/* Bridge thread: half-closes the bridge end so libvncclient reads EOF. */
static void bridge_shut_raw(struct pgc_conn *c)
{
	if (c->raw && !c->raw_shut) {
		shutdown(lws_get_socket_fd(c->raw), SHUT_WR);
		c->raw_shut = true;
	}
}

/*
 * Bridge thread: closes the connection from our side: records reason (code 0)
 * unless a reason is already known, drops what libvncclient has not read yet,
 * gives libvncclient EOF and sends a close frame with status/text.
 */
static void bridge_local_close(struct pgc_conn *c, int status, const char *text,
			       const char *reason)
{
	conn_mark_closed(c, 0, reason);
	c->to_raw.len = 0;
	c->to_raw.off = 0;
	c->raw_ok = 0;
	bridge_shut_raw(c);
	if (c->ws && !c->ws_close_sent) {
		c->ws_close_sent = true;
		c->local_close_status = status;
		set_msg(c->local_close_text, sizeof(c->local_close_text), "%s", text);
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
		.allow_cut_text = false,	/* no text reaches this viewer */
		.max_cut_text_bytes = 0,
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
	set_msg(reason, sizeof(reason), "%s%s", prefix, why);
	conn_mark_closed_by(c, PGC_CLOSE_REFUSED, reason, true);
	c->to_raw.len = c->raw_ok;
	if (!c->to_raw.len) {
		c->to_raw.off = 0;
		bridge_shut_raw(c);
	} else if (c->raw) {
		lws_callback_on_writable(c->raw);	/* then EOF (raw_on_writeable()) */
	}
	if (c->ws && !c->ws_close_sent) {
		c->ws_close_sent = true;
		c->local_close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;	/* 1008 */
		set_msg(c->local_close_text, sizeof(c->local_close_text), "%s",
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
	case 0:		/* SetPixelFormat */
		return 20;
	case 2:		/* SetEncodings: type, pad, u16 count, count x s32 */
		if (have < 4)
			return 4;
		count = (size_t)m[2] << 8 | m[3];
		return count > GUARD_MAX_ENCODINGS ? 0 : 4 + 4 * count;
	case 3:		/* FramebufferUpdateRequest */
		return 10;
	case 4:		/* KeyEvent */
		return 8;
	case 5:		/* PointerEvent */
		return 6;
	case 6:		/* ClientCutText: type, 3 pad, u32 length, text */
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
			g->cs_lost = true;	/* held from now: see pgc_send_raw() */
			break;
		}
		if (g->cs_have < want) {
			k = want - g->cs_have < n ? want - g->cs_have : n;
			memcpy(g->cs_msg + g->cs_have, b, k);
			g->cs_have += k;
			b += k;
			n -= k;
			if (g->cs_have < want || guard_client_size(g->cs_msg, g->cs_have) != want)
				continue;	/* more to come, or SetEncodings' count came */
		}
		/* a whole message (ClientCutText: its header) */
		if (g->cs_msg[0] == 6)
			g->cs_skip = (uint32_t)g->cs_msg[4] << 24 | (uint32_t)g->cs_msg[5] << 16 |
				     (uint32_t)g->cs_msg[6] << 8 | g->cs_msg[7];
		else if (!rfb_sc_client(&g->sc, g->cs_msg, g->cs_have, why, sizeof(why))) {
			guard_refuse(c, "this viewer cannot check the server's data any more: ",
				     why);
			return -1;
		}
		g->cs_have = 0;
	}
	return 0;
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
	static const uint8_t hs[GUARD_SERVER_INIT_AT] = {
		'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n', 1, 1, 0, 0, 0, 0
	};
	struct pgc_guard *g = &c->guard;
	struct rfb_sc_config cfg = g->sc.cfg;
	struct rfb_sc_step st;
	unsigned w = (unsigned)b[0] << 8 | b[1], h = (unsigned)b[2] << 8 | b[3];
	char why[RFB_SC_REASON_LEN];
	size_t off = 0;

	if (w < PGC_FB_MIN_WIDTH || w > PGC_FB_MAX_WIDTH || h < PGC_FB_MIN_HEIGHT ||
	    h > PGC_FB_MAX_HEIGHT) {
		set_msg(why, sizeof(why), "ServerInit size %ux%u (a session is %dx%d to %dx%d)", w,
			h, PGC_FB_MIN_WIDTH, PGC_FB_MIN_HEIGHT, PGC_FB_MAX_WIDTH, PGC_FB_MAX_HEIGHT);
		guard_refuse(c, GUARD_REFUSES, why);
		return -1;
	}
	cfg.width = (uint16_t)w;
	cfg.height = (uint16_t)h;
	rfb_sc_init(&g->sc, &cfg);
	while (off < sizeof(hs)) {
		if (rfb_sc_step(&g->sc, hs + off, sizeof(hs) - off, &st) != RFB_SC_PASS) {
			guard_refuse(c, GUARD_REFUSES, "the parser refused its own handshake");
			return -1;	/* a broken invariant, never seen */
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
		/* on a refusal too the whole fields before the bad one pass, as
		   they would have had they come in an earlier piece */
		c->raw_ok += st.len;
		g->passed += st.len;
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

	lws_in_to_str(in, len, detail, sizeof(detail));
	pthread_mutex_lock(&c->lock);
	status = c->hs_status;
	pthread_mutex_unlock(&c->lock);
	if (!status && wsi)
		status = (int)lws_http_client_http_response(wsi);
	if (!status && strstr(detail, "unauthorized"))
		status = 401;	/* lws 4.1: "HS: ws upgrade unauthorized" */
	if (status == 101)
		status = 0;	/* upgraded but rejected later (e.g. protocol) */
	if (status) {
		conn_fail(c, status, "WebSocket upgrade refused: HTTP %d (%s)", status, detail);
	} else if (!strncmp(detail, "HS:", 3)) {
		conn_fail(c, 0, "WebSocket handshake failed (%s)", detail);
	} else {
		char msg[256];

		describe_conn_error(&c->srv, &c->tv, detail, msg, sizeof(msg));
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
	c->fd_bridge = -1;	/* lws owns it now, even if adoption fails */
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
		return 0;	/* closing locally: libvncclient already has EOF */
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
		conn_mark_closed(c, 0, "WebSocket write failed");
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
		c->peer_close_code = LWS_CLOSE_STATUS_NO_STATUS;	/* 1005 */
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
		conn_mark_closed(c, c->peer_close_code, c->peer_close_reason);
	else
		conn_mark_closed(c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE,	/* 1006 */
				 "connection lost without a WebSocket close frame");
	if (c->destroying)
		return;
	c->to_raw.len = c->raw_ok;	/* a field cut short never passes */
	if (!c->to_raw.len)
		c->to_raw.off = 0;
	c->to_ws.len = 0;
	c->to_ws.off = 0;
	if (c->raw_rx_paused && c->raw) {
		lws_rx_flow_control(c->raw, 1);	/* keep draining libvncclient */
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

/* Bridge thread: bytes libvncclient wrote, framed by the guard on their
   way. Returns 0 (never closes the raw side: after the WebSocket is gone
   the bytes are discarded). */
static int raw_on_rx(struct pgc_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (!c->ws || c->ws_close_sent || !len)
		return 0;
	if (guard_client(c, in, len))
		return 0;
	if (bbuf_append(&c->to_ws, in, len)) {
		bridge_local_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "client: send buffer overflow", "send buffer overflow");
		return 0;
	}
	if (c->to_ws.len >= BRIDGE_BUF_HIGH && !c->raw_rx_paused) {
		lws_rx_flow_control(wsi, 0);
		c->raw_rx_paused = true;
	}
	lws_callback_on_writable(c->ws);
	return 0;
}

/* Bridge thread: feeds libvncclient's socket with what the guard passed
   (to_raw's first raw_ok bytes). Returns 0 or -1. */
static int raw_on_writeable(struct pgc_conn *c, struct lws *wsi)
{
	if (c->raw_ok) {
		ssize_t n = send(lws_get_socket_fd(wsi), c->to_raw.data + c->to_raw.off,
				 c->raw_ok, MSG_NOSIGNAL | MSG_DONTWAIT);

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
		tls_gate_leave(&c->gate_held);
		ws_on_conn_error(c, wsi, in, len);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		tls_note_verify(&c->tv, user, len);
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		tls_gate_leave(&c->gate_held);	/* TLS handshake done */
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
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thread, NULL, bridge_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!rc)
		c->thread_started = true;
	return rc;
}

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

/* SIGPIPE guard around libvncclient writes (it uses write(), not
   send(MSG_NOSIGNAL)): block SIGPIPE in this thread, and afterwards swallow
   one that the call raised. The bridge design avoids EPIPE; this is a
   safety net. */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

/* Blocks SIGPIPE for this thread, remembering whether one was pending. */
static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	sigemptyset(&pend);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE) == 1;
}

/* Swallows a SIGPIPE raised since sigpipe_block() and restores the mask. */
static void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t set, pend;

	if (!g->was_pending) {
		sigemptyset(&pend);
		sigpending(&pend);
		if (sigismember(&pend, SIGPIPE) == 1) {
			const struct timespec zero = { 0, 0 };

			sigemptyset(&set);
			sigaddset(&set, SIGPIPE);
			while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

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

/* Frees what rfbClientCleanup() of libvncclient 0.9.14 leaves behind (the
   framebuffer and the TurboJPEG handle of the Tight decoder), then cleans
   up cl. */
static void rfb_destroy(struct pgc_conn *c, rfbClient *cl)
{
#if defined(LIBVNCSERVER_HAVE_LIBZ) && defined(LIBVNCSERVER_HAVE_LIBJPEG)
	if (cl->tjhnd) {
		tjDestroy(cl->tjhnd);
		cl->tjhnd = NULL;
	}
#endif
	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	c->fb = NULL;
	rfbClientCleanup(cl);
}

/* libvncclient callback: we only offer security type None. */
static char *rfb_no_password(rfbClient *cl)
{
	(void)cl;
	return NULL;
}

/* Allocates a conn with its locks and buffers. Returns NULL on failure. */
static struct pgc_conn *conn_alloc(void)
{
	struct pgc_conn *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (!c)
		return NULL;
	c->fd_bridge = -1;
	c->fd_client = -1;
	guard_init(&c->guard);
	atomic_init(&c->rfb_dead, false);
	atomic_init(&c->frames, 0);
	atomic_init(&c->bytes_in, 0);
	if (pthread_condattr_init(&ca)) {
		free(c);
		return NULL;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&c->lock, NULL)) {
		pthread_condattr_destroy(&ca);
		free(c);
		return NULL;
	}
	if (pthread_cond_init(&c->cond, &ca)) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
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
	struct timespec ts;
	int rc = 0;

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	pthread_mutex_lock(&c->lock);
	while (c->state == CONN_CONNECTING && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	if (c->state == CONN_OPEN) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (c->state == CONN_FAILED) {
		set_msg(err, errlen, "%s", c->err);
		if (http_status)
			*http_status = c->http_status;
	} else {
		set_msg(err, errlen, "timed out after %d s opening wss://%s:%d/rfb",
			CONNECT_TIMEOUT_S, c->srv.host, c->srv.port);
	}
	pthread_mutex_unlock(&c->lock);
	return -1;
}

/* Creates the libvncclient instance on the client end of the socketpair and
   runs the RFB handshake. Returns 0, or -1 with a reason in err. */
static int conn_start_rfb(struct pgc_conn *c, char *err, size_t errlen)
{
	static const uint32_t auth_none[] = { rfbNoAuth, 0 };
	rfbClient *cl = rfbGetClient(8, 3, 4);
	bool closed, by_guard, ok;
	char reason[256];
	int code;

	if (!cl) {
		set_msg(err, errlen, "out of memory");
		return -1;
	}
	free(cl->serverHost);
	cl->serverHost = strdup("pixelgate");
	cl->listenSpecified = TRUE;	/* the socket is connected: do not dial */
	cl->sock = c->fd_client;
	c->fd_client = -1;		/* rfbClientCleanup() closes it now */
	cl->canHandleNewFBSize = TRUE;
	cl->appData.encodingsString = "tight zrle zlib hextile copyrect raw";
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
	SetClientAuthSchemes(cl, auth_none, -1);
	rfbClientSetClientData(cl, &pgc_rfb_tag, c);

	tl_rfb_err[0] = tl_rfb_log[0] = '\0';
	{
		struct sigpipe_guard g;

		sigpipe_block(&g);
		ok = rfbInitClient(cl, NULL, NULL);
		sigpipe_restore(&g);
	}
	if (!ok) {
		/* rfbInitClient() freed cl and closed the socket, not the buffer */
		free(c->fb);
		c->fb = NULL;
	} else if (!cl->frameBuffer) {
		rfb_destroy(c, cl);
		ok = false;
		set_msg(tl_rfb_err, sizeof(tl_rfb_err), "no framebuffer allocated");
	}
	pthread_mutex_lock(&c->lock);
	closed = c->closed;
	by_guard = c->closed_by_guard;
	code = c->close_code;
	set_msg(reason, sizeof(reason), "%s", c->close_reason);
	if (ok && !closed)
		c->rfb_ready = true;
	pthread_mutex_unlock(&c->lock);

	if (ok) {
		c->rfb = cl;	/* on failure freed by pgc_free() */
		if (!closed)
			return 0;
	}
	if (closed && by_guard)
		set_msg(err, errlen, "the viewer closed the connection during the RFB handshake: "
			"%d %s", code, reason);
	else if (closed && code)
		set_msg(err, errlen, "server closed the connection during the RFB handshake: %d %s",
			code, reason);
	else if (closed)
		set_msg(err, errlen, "RFB handshake failed: %s", reason);
	else
		set_msg(err, errlen, "RFB handshake failed: %s",
			tl_rfb_err[0] ? tl_rfb_err : tl_rfb_log[0] ? tl_rfb_log : "unknown error");
	return -1;
}

struct pgc_conn *pgc_connect(const struct pgc_server *srv, const char *ticket, char *err,
			     size_t errlen, int *http_status)
{
	return pgc_connect_cb(srv, ticket, NULL, err, errlen, http_status);
}

struct pgc_conn *pgc_connect_cb(const struct pgc_server *srv, const char *ticket,
				const struct pgc_callbacks *cb, char *err, size_t errlen,
				int *http_status)
{
	struct lws_client_connect_info i;
	char enc[3 * MAX_TICKET_LEN + 1];
	int64_t deadline = now_ms() + (int64_t)CONNECT_TIMEOUT_S * 1000;
	struct pgc_conn *c;
	int sv[2], rc;

	if (http_status)
		*http_status = 0;
	if (err && errlen)
		err[0] = '\0';
	pthread_once(&g_once, global_init);
	if (check_server(srv, err, errlen))
		return NULL;
	if (!ticket || !*ticket || strlen(ticket) > MAX_TICKET_LEN ||
	    url_encode(ticket, enc, sizeof(enc))) {
		set_msg(err, errlen, "invalid ticket");
		return NULL;
	}
	c = conn_alloc();
	if (!c) {
		set_msg(err, errlen, "out of memory");
		return NULL;
	}
	c->srv = *srv;
	if (cb)
		c->cb = *cb;
	set_msg(c->path, sizeof(c->path), "/rfb?ticket=%s", enc);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		set_msg(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	c->fd_bridge = sv[0];
	c->fd_client = sv[1];
	if (fcntl(c->fd_bridge, F_SETFL, fcntl(c->fd_bridge, F_GETFL) | O_NONBLOCK)) {
		set_msg(err, errlen, "fcntl: %s", strerror(errno));
		goto fail;
	}

	if (tls_gate_enter(deadline, &c->gate_held)) {
		set_msg(err, errlen, "timed out waiting for another connection's TLS handshake");
		goto fail;
	}
	c->ctx = lwsx_create_context(srv, bridge_protocols, c, &c->ssl_ctx, err, errlen);
	if (!c->ctx)
		goto fail;
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
		set_msg(err, errlen, "pthread_create: %s", strerror(rc));
		goto fail;
	}
	if (conn_wait_open(c, deadline, err, errlen, http_status))
		goto fail;
	if (conn_start_rfb(c, err, errlen))
		goto fail;
	return c;

fail:
	pgc_free(c);
	return NULL;
}

rfbClient *pgc_rfb(struct pgc_conn *c)
{
	return c ? c->rfb : NULL;
}

int pgc_fd(struct pgc_conn *c)
{
	if (!c || !c->rfb || atomic_load(&c->rfb_dead))
		return -1;
	return c->rfb->sock;
}

/* Waits up to timeout_ms for fd to become readable: 1 yes, 0 timeout,
   -1 error. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
	int64_t end = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = poll(&p, 1, timeout_ms);
		if (n >= 0)
			return n > 0 ? 1 : 0;
		if (errno != EINTR)
			return -1;
		timeout_ms = (int)(end - now_ms());
		if (timeout_ms < 0)
			timeout_ms = 0;
	}
}

/* Caller: an RFB call failed; close the connection with that reason. */
static void conn_rfb_failed(struct pgc_conn *c, const char *what)
{
	char reason[256];

	atomic_store(&c->rfb_dead, true);
	set_msg(reason, sizeof(reason), "%s: %s", what,
		tl_rfb_err[0] ? tl_rfb_err : tl_rfb_log[0] ? tl_rfb_log : "connection lost");
	conn_mark_closed(c, 0, reason);
	pthread_mutex_lock(&c->lock);
	c->close_req = true;
	pthread_mutex_unlock(&c->lock);
	lws_cancel_service(c->ctx);
}

int pgc_pump(struct pgc_conn *c, int timeout_ms)
{
	struct sigpipe_guard g;
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
		sigpipe_block(&g);
		ok = HandleRFBServerMessage(c->rfb);
		sigpipe_restore(&g);
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

/* Common entry check of the send functions: usable and not closed. */
static bool conn_can_send(struct pgc_conn *c)
{
	return c && c->rfb && !atomic_load(&c->rfb_dead) && !pgc_closed(c);
}

int pgc_send_raw(struct pgc_conn *c, const void *buf, size_t len)
{
	struct sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c) || (len && !buf) || len > INT_MAX)
		return -1;
	if (!len)
		return 0;
	pthread_mutex_lock(&c->rfb_lock);
	sigpipe_block(&g);
	ok = WriteToRFBServer(c->rfb, buf, (unsigned int)len);
	sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

int pgc_key(struct pgc_conn *c, uint32_t keysym, bool down)
{
	struct sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	sigpipe_block(&g);
	ok = SendKeyEvent(c->rfb, keysym, down ? TRUE : FALSE);
	sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

int pgc_pointer(struct pgc_conn *c, int x, int y, int button_mask)
{
	struct sigpipe_guard g;
	rfbBool ok;

	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	sigpipe_block(&g);
	ok = SendPointerEvent(c->rfb, x, y, button_mask);
	sigpipe_restore(&g);
	pthread_mutex_unlock(&c->rfb_lock);
	return ok ? 0 : -1;
}

/*
 * Decodes one UTF-8 code point at *p (strict: no overlongs, surrogates or
 * values above U+10FFFF) and advances *p. Returns the code point, or -1 if
 * the sequence is invalid.
 */
static int32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	int32_t cp, min;
	int n, k;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 1;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 2;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 3;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)	/* also stops at the NUL */
			return -1;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p = s + n + 1;
	return cp;
}

/* Maps a code point to the keysym pgc_type_utf8() sends. */
static uint32_t keysym_for(int32_t cp)
{
	if (cp == '\n')
		return 0xff0d;	/* XK_Return */
	if (cp == '\t')
		return 0xff09;	/* XK_Tab */
	if (cp >= 0x20 && cp <= 0x7e)
		return (uint32_t)cp;
	return 0x01000000u | (uint32_t)cp;
}

int pgc_type_utf8(struct pgc_conn *c, const char *text)
{
	const unsigned char *p;
	struct sigpipe_guard g;
	bool ok = true;

	if (!text)
		return -1;
	for (p = (const unsigned char *)text; *p;)	/* validate everything first */
		if (utf8_next(&p) < 0)
			return -1;
	if (!conn_can_send(c))
		return -1;
	pthread_mutex_lock(&c->rfb_lock);
	sigpipe_block(&g);
	for (p = (const unsigned char *)text; *p && ok;) {
		uint32_t ks = keysym_for(utf8_next(&p));

		ok = SendKeyEvent(c->rfb, ks, TRUE) && SendKeyEvent(c->rfb, ks, FALSE);
	}
	sigpipe_restore(&g);
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
		lwsx_destroy_context(c->ctx, c->ssl_ctx);
		c->ctx = NULL;
		c->ssl_ctx = NULL;
	}
	tls_gate_leave(&c->gate_held);	/* attempt abandoned mid-handshake */
	if (c->rfb) {
		rfb_destroy(c, c->rfb);	/* closes the client end */
		c->rfb = NULL;
	}
	if (c->fd_client >= 0)
		close(c->fd_client);
	if (c->fd_bridge >= 0)
		close(c->fd_bridge);	/* never adopted */
	free(c->to_raw.data);
	free(c->to_ws.data);
	free(c->txbuf);
	if (c->locks_ok) {
		pthread_mutex_destroy(&c->rfb_lock);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
	}
	free(c);
}
