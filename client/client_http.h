/*
 * client_http.h: the client library's HTTPS client (client_http.c).
 *
 * One request per call over TLS with the server's CA pinned (the OS CA
 * store is disabled; the certificate must match the host name or IP
 * address). Used by pixelgatectl's admin API calls, the viewer's login, the
 * integration tests and the benchmark; needs no libvncclient.
 */
#ifndef PIXELGATE_CLIENT_HTTP_H
#define PIXELGATE_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Where and how to reach a pixelgate staff listener. */
struct pgc_server {
	const char *host;    /* e.g. "127.0.0.1" */
	int port;            /* e.g. 8443 */
	const char *ca_file; /* PEM CA that must have signed the server cert */
};

/* Result of a login. */
struct pgc_login_result {
	int http_status;              /* 200, 400, 401, ... ; 0 if no HTTP answer */
	char ticket[128];             /* on 200 */
	int expires_in_s;             /* on 200 */
	bool clipboard_to_browser;    /* on 200: the session takes the terminal's clipboard text */
	bool clipboard_to_terminal;   /* on 200: the session's copies come to the terminal */
	unsigned clipboard_max_bytes; /* on 200: of at most this many bytes */
	char error[64];               /* on non-200: the "error" code of the JSON body */
	char message[256];            /* on non-200: the "message" of the JSON body, or a
					 transport error description when http_status == 0 */
	char body[4096];              /* raw response body, NUL-terminated, truncated */
};

/*
 * POST a raw body to path on the server (the body is sent as is, so tests can
 * send malformed JSON). Fills res. Returns 0 when an HTTP answer arrived (any
 * status), -1 on a transport/TLS error (res->message says which).
 */
int pgc_http_post(const struct pgc_server *srv, const char *path, const char *content_type,
		  const void *body, size_t body_len, struct pgc_login_result *res);

/* GET path; same contract as pgc_http_post. */
int pgc_http_get(const struct pgc_server *srv, const char *path, struct pgc_login_result *res);

/* Largest response body pgc_http_request() accepts, bytes. */
#define PGC_HTTP_BODY_MAX (1024u * 1024u)

/* Answer to pgc_http_request(); free the body with pgc_http_response_free(). */
struct pgc_http_response {
	int status;        /* HTTP status; 0 if no HTTP answer arrived */
	int retry_after_s; /* Retry-After header in seconds; -1 if absent or a date */
	char *body;        /* malloc'd, NUL-terminated (also when empty) on success */
	size_t body_len;   /* bytes in body, without the NUL */
	size_t body_cap;   /* allocated size of body */
	char message[256]; /* why the call failed (transport, TLS, timeout, size) */
};

/*
 * One HTTPS request of any method (GET, POST, PUT, PATCH, DELETE) with an
 * optional Authorization header (its full value, e.g. "Basic ...", or NULL)
 * and an optional body (content_type may be NULL; POST, PUT and PATCH always
 * send Content-Length). The body is wiped from lws' buffers after it is
 * written. Fills res (cleared first).
 *
 * Returns 0 when a complete HTTP answer arrived, whatever its status (the
 * body, up to PGC_HTTP_BODY_MAX bytes, is in res->body). Returns -1 on a
 * transport or TLS error or a timeout (res->status is 0), or when the answer
 * is larger than PGC_HTTP_BODY_MAX (res->status is the server's status,
 * res->body is NULL); res->message says which. Call
 * pgc_http_response_free(res) in every case.
 */
int pgc_http_request(const struct pgc_server *srv, const char *method, const char *path,
		     const char *authorization, const char *content_type, const void *body,
		     size_t body_len, struct pgc_http_response *res);

/* Wipes and frees res->body (res itself is the caller's). NULL is fine. */
void pgc_http_response_free(struct pgc_http_response *res);

/*
 * Log in with user/password, asking for a width x height screen (0 = server
 * default). Returns 0 and fills res->ticket on HTTP 200; -1 otherwise (res
 * says why).
 */
int pgc_login(const struct pgc_server *srv, const char *user, const char *password, int width,
	      int height, struct pgc_login_result *res);
/* pgc_login() with the second factor's code otp ("otp" in the request; NULL or "" for none). */
int pgc_login_otp(const struct pgc_server *srv, const char *user, const char *password,
		  const char *otp, int width, int height, struct pgc_login_result *res);

#endif
