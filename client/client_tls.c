/*
 * client_tls.c: the client library's TLS set-up (client_tls.h): the
 * process-wide initialisation, the TLS gate, the client SSL_CTX that trusts
 * only the pinned CA, the lws client contexts built on it, and the messages
 * for a connection that failed.
 *
 * Trust: every context disables the OS CA store and trusts only the CA file
 * given in struct pgc_server; server certificates are verified, including
 * the host name / IP address.
 */
#include "client_tls.h"
#include "pgc_platform.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static pthread_cond_t g_gate_cond; /* CLOCK_MONOTONIC, set up in global_init() */
static bool g_gate_busy;

/*
 * OpenSSL is called directly (pgclient links it; it once looked the entry
 * points up with dlsym(), which Windows has not).
 *
 * Why we build the client SSL_CTX ourselves (info.provided_client_ssl_ctx):
 * lws 4.1.6 tags the SSL_CTX it creates with a bookkeeping struct stored
 * under an ex-data index that every later lws_create_context() with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT replaces, so a context destroyed
 * after another one was created cannot find it and leaks its SSL_CTX
 * (~20 KB, an LSan report). A provided SSL_CTX is left alone by lws and
 * freed by us.
 */

/* lws log sink used when PIXELGATE_DEBUG is set. */
static void lws_log_cb(int level, const char *line)
{
	(void)level;
	fprintf(stderr, "pgc: lws: %s", line);
}

/* Runs once: reads PIXELGATE_DEBUG, routes lws' log (a process-global
   setting) and sets up the TLS gate. */
static void global_init(void)
{
	const char *d = getenv("PIXELGATE_DEBUG");

	pgc_cond_init_mono(&g_gate_cond);
	pgc_net_init(); /* Winsock, before any socket of ours (lws starts its own too) */
	g_debug = d && *d && strcmp(d, "0") != 0;
	lws_set_log_level(g_debug ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : 0, lws_log_cb);
}

/* Formats into buf (if buf/size usable); never overflows. */
void pgc_set_msg(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Takes the TLS gate, waiting until deadline_ms (monotonic) at most.
   Returns 0 (then *held is true) or -1 on timeout. */
int pgc_tls_gate_enter(int64_t deadline_ms, bool *held)
{
	int rc = 0;

	pthread_mutex_lock(&g_gate_lock);
	while (g_gate_busy && rc != ETIMEDOUT)
		rc = pgc_cond_wait_until(&g_gate_cond, &g_gate_lock, deadline_ms);
	if (!g_gate_busy) {
		g_gate_busy = true;
		*held = true;
	}
	pthread_mutex_unlock(&g_gate_lock);
	return *held ? 0 : -1;
}

/* Gives the TLS gate back if *held; clears *held. */
void pgc_tls_gate_leave(bool *held)
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
void pgc_lws_in_to_str(const void *in, size_t len, char *out, size_t size)
{
	if (!size)
		return;
	if (!in) {
		pgc_set_msg(out, size, "%s", "no detail");
		return;
	}
	/* lws passes a C string; len is its strlen, but do not trust either */
	len = strnlen((const char *)in, len ? len : size - 1);
	if (len > size - 1)
		len = size - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

/*
 * Handles LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION (x509_ctx,
 * preverify_ok): remembers the first verification error in tv. Never
 * overrides OpenSSL's verdict.
 */
void pgc_tls_note_verify(struct tls_verify *tv, void *x509_ctx, size_t preverify_ok)
{
	const char *s;

	if (preverify_ok || tv->failed)
		return;
	tv->failed = true;
	tv->code = x509_ctx ? X509_STORE_CTX_get_error((X509_STORE_CTX *)x509_ctx) : -1;
	s = tv->code >= 0 ? X509_verify_cert_error_string(tv->code) : NULL;
	pgc_set_msg(tv->text, sizeof(tv->text), "%s", s ? s : "certificate verification failed");
}

/*
 * Turns a failed connection attempt into a message for the user: tv (may be
 * NULL) is what the certificate check saw, detail the string lws gives with
 * LWS_CALLBACK_CLIENT_CONNECTION_ERROR (lws 4.1.6 says only "connect SSL err
 * 1: error:00000001:lib(0)::reason(1)" when verification fails; later
 * versions may say "server's cert didn't look good, X509_V_ERR = 20: ...").
 * Returns true if the failure was a TLS one.
 */
bool pgc_tls_describe_error(const struct pgc_server *srv, const struct tls_verify *tv,
			    const char *detail, char *out, size_t size)
{
	const char *x = strstr(detail, "X509_V_ERR");
	const char *why = detail;
	char buf[200];
	int code = -1;

	if (tv && tv->failed) {
		code = tv->code;
		pgc_set_msg(buf, sizeof(buf), "%s; lws: %s", tv->text, detail);
		why = buf;
	} else if (x) {
		const char *eq = strchr(x, '=');

		code = eq ? atoi(eq + 1) : -1;
	}
	if ((tv && tv->failed) || x) {
		if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH)
			pgc_set_msg(
			    out, size,
			    "TLS handshake failed: server certificate does not match host %s (%s)",
			    srv->host, why);
		else if (code == X509_V_ERR_CERT_HAS_EXPIRED ||
			 code == X509_V_ERR_CERT_NOT_YET_VALID)
			pgc_set_msg(
			    out, size,
			    "TLS handshake failed: server certificate expired or not yet valid (%s)",
			    why);
		else
			pgc_set_msg(
			    out, size,
			    "TLS handshake failed: server certificate not signed by the pinned CA "
			    "%s (%s)",
			    srv->ca_file, why);
		return true;
	}
	if (strstr(detail, "SSL") || strstr(detail, "ssl") || strstr(detail, "TLS") ||
	    strstr(detail, "tls") || strstr(detail, "cert")) {
		pgc_set_msg(out, size, "TLS handshake failed with %s:%d (%s)", srv->host, srv->port,
			    detail);
		return true;
	}
	pgc_set_msg(out, size, "connection to %s:%d failed (%s)", srv->host, srv->port, detail);
	return false;
}

/* True if path is readable and holds a PEM certificate that OpenSSL reads
   (lws would otherwise fail later with an unhelpful TLS error); else false
   with a reason in err. BIO_new_file() takes UTF-8 paths on Windows too. */
static bool ca_file_has_pem_cert(const char *path, char *err, size_t size)
{
	BIO *b = BIO_new_file(path, "rb");
	int e = errno;
	X509 *x;

	if (!b) {
		ERR_clear_error();
		pgc_set_msg(err, size, "cannot read CA file %s: %s", path, strerror(e ? e : EIO));
		return false;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (!x) {
		pgc_set_msg(err, size, "CA file %s holds no PEM certificate", path);
		return false;
	}
	X509_free(x);
	return true;
}

/* Checks the parts of srv every call needs; writes a reason into err. */
int pgc_check_server(const struct pgc_server *srv, char *err, size_t size)
{
	if (!srv || !srv->host || !*srv->host || srv->port <= 0 || srv->port > 65535) {
		pgc_set_msg(err, size, "invalid server address");
		return -1;
	}
	if (!srv->ca_file || !*srv->ca_file) {
		pgc_set_msg(err, size, "no CA file given");
		return -1;
	}
	if (!ca_file_has_pem_cert(srv->ca_file, err, size))
		return -1;
	return 0;
}

/*
 * Creates a TLS client SSL_CTX trusting only ca_file (TLS 1.2 or later;
 * peer verification and the host name check are armed per connection by
 * lws). Returns NULL if OpenSSL cannot make one (the caller then lets lws
 * build its own) or, with *failed set and a reason in err, if the CA file
 * cannot be loaded.
 */
static SSL_CTX *tls_client_ctx_new(const char *ca_file, bool *failed, char *err, size_t size)
{
	SSL_CTX *ctx;

	*failed = false;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		*failed = true;
		pgc_set_msg(err, size, "cannot load CA file %s (not a PEM certificate?)", ca_file);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

/* Frees an SSL_CTX from tls_client_ctx_new() (NULL is fine). */
static void tls_client_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/*
 * Creates a client-only lws context that trusts only srv->ca_file, with
 * protocols and user (reachable via lws_context_user()). *ssl_ctx receives
 * the SSL_CTX to free after lws_context_destroy() (may be NULL). Returns
 * NULL with a reason in err on failure.
 */
struct lws_context *pgc_lws_context_new(const struct pgc_server *srv,
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
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = srv->ca_file; /* used if *ssl_ctx is NULL */
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
		pgc_set_msg(err, size,
			    "cannot create the TLS client context (is %s a PEM CA file?)",
			    srv->ca_file);
	}
	return ctx;
}

/* Destroys ctx (NULL is fine) under the global context lock, then the
   SSL_CTX it used (NULL is fine). */
void pgc_lws_context_free(struct lws_context *ctx, SSL_CTX *ssl_ctx)
{
	if (ctx) {
		pthread_mutex_lock(&g_ctx_lock);
		lws_context_destroy(ctx);
		pthread_mutex_unlock(&g_ctx_lock);
	}
	tls_client_ctx_free(ssl_ctx);
}

void pgc_tls_init(void)
{
	pthread_once(&g_once, global_init);
}

bool pgc_tls_debug(void)
{
	return g_debug;
}
