/*
 * client_tls.h: the client library's TLS set-up (client_tls.c), shared by
 * its HTTP client (client_http.c) and its WebSocket bridge
 * (client_bridge.c). Internal to client/: not part of the public API.
 */
#ifndef PIXELGATE_CLIENT_TLS_H
#define PIXELGATE_CLIENT_TLS_H

#include "client_http.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgc_platform.h" /* pgc_clock_ms() */

/* Deadline of an HTTP transaction, and lws' connect and TLS timeouts, s. */
#define HTTP_TIMEOUT_S 15
/* lws' per-thread service buffer, bytes. */
#define LWS_SERV_BUF 32768u

/* The first failed server-certificate check of a connection attempt. */
struct tls_verify {
	bool failed;
	int code;      /* X509_V_ERR_*, -1 if unknown */
	char text[96]; /* OpenSSL's description of code */
};

/* Process-wide set-up, once (reads PIXELGATE_DEBUG, routes lws' log, finds
   the OpenSSL entry points, the TLS gate). Call before anything below. */
void pgc_tls_init(void);

/* True when PIXELGATE_DEBUG asks for the libraries' logs on stderr. */
bool pgc_tls_debug(void);

/* Formats into buf (if buf/size usable); never overflows. */
void pgc_set_msg(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

/*
 * The TLS gate (lws 4.1.6 breaks a TLS handshake in flight when another
 * context is created): one "create a context and complete its TLS
 * handshake" at a time. pgc_tls_gate_enter() waits until deadline_ms
 * (monotonic) at most: 0 (then *held is true) or -1 on timeout;
 * pgc_tls_gate_leave() gives it back if *held and clears *held, from any
 * thread.
 */
int pgc_tls_gate_enter(int64_t deadline_ms, bool *held);
void pgc_tls_gate_leave(bool *held);

/* Copies the lws diagnostic string (in, len; may be NULL) into out. */
void pgc_lws_in_to_str(const void *in, size_t len, char *out, size_t size);

/* LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: remembers the first
   verification error in tv; never overrides OpenSSL's verdict. */
void pgc_tls_note_verify(struct tls_verify *tv, void *x509_ctx, size_t preverify_ok);

/* A failed connection attempt as a message for the user (tv may be NULL,
   detail is lws' string); true if the failure was a TLS one. */
bool pgc_tls_describe_error(const struct pgc_server *srv, const struct tls_verify *tv,
			    const char *detail, char *out, size_t size);

/* Checks the parts of srv every call needs (address, a readable PEM CA
   file). 0, or -1 with a reason in err. */
int pgc_check_server(const struct pgc_server *srv, char *err, size_t size);

/*
 * A client-only lws context that trusts only srv->ca_file, with protocols
 * and user (reachable via lws_context_user()). *ssl_ctx receives the
 * SSL_CTX to give pgc_lws_context_free() (may be NULL). NULL with a reason
 * in err on failure.
 */
struct lws_context *pgc_lws_context_new(const struct pgc_server *srv,
					const struct lws_protocols *protocols, void *user,
					SSL_CTX **ssl_ctx, char *err, size_t size);

/* Destroys ctx and then ssl_ctx (either may be NULL). */
void pgc_lws_context_free(struct lws_context *ctx, SSL_CTX *ssl_ctx);

#endif
