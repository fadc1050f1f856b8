/*
 * admin_text.h: the pure parts of the admin API (gateway_admin.c): which
 * endpoint a path names, HTTP Basic credentials, the JSON request bodies,
 * RFC 3339 times, the Prometheus text of GET /metrics and the HAProxy
 * agent-check answer. Functions over buffers only: no I/O, no global state,
 * so each has a table of hostile inputs in tests/unit/test_admin_text.c.
 */
#ifndef PIXELGATE_ADMIN_TEXT_H
#define PIXELGATE_ADMIN_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users.h"

#define ADMIN_BODY_MAX 16384    /* bytes of a request body (more: 400) */
#define ADMIN_SESSION_ID_LEN 16 /* hex characters of a session id */
#define ADMIN_LABELS_MAX 16     /* label values of one metrics family */

/* HTTP methods the admin API knows. */
enum admin_method {
	ADMIN_GET,
	ADMIN_POST,
	ADMIN_PUT,
	ADMIN_PATCH,
	ADMIN_DELETE,
	ADMIN_METHOD_OTHER, /* HEAD, OPTIONS, ...: always 405 */
};

/* The admin API's endpoints. */
enum admin_route {
	ADMIN_ROUTE_NONE,          /* no such path: 404 */
	ADMIN_ROUTE_HEALTHZ,       /* /healthz (no authentication) */
	ADMIN_ROUTE_METRICS,       /* /metrics */
	ADMIN_ROUTE_SESSIONS,      /* /api/v1/sessions */
	ADMIN_ROUTE_SESSION,       /* /api/v1/sessions/{id} */
	ADMIN_ROUTE_LIMITS,        /* /api/v1/limits */
	ADMIN_ROUTE_USERS,         /* /api/v1/users */
	ADMIN_ROUTE_USER,          /* /api/v1/users/{name} */
	ADMIN_ROUTE_USER_PASSWORD, /* /api/v1/users/{name}/password */
	ADMIN_ROUTE_USER_LOCK,     /* /api/v1/users/{name}/lock */
	ADMIN_ROUTE_USER_UNLOCK,   /* /api/v1/users/{name}/unlock */
	ADMIN_ROUTE_USER_ADMIN,    /* /api/v1/users/{name}/admin */
	ADMIN_ROUTE_USER_TOTP,     /* /api/v1/users/{name}/totp: the second factor */
	ADMIN_ROUTE_DRAIN,         /* /api/v1/drain */
	ADMIN_ROUTE_UNDRAIN,       /* /api/v1/undrain */
	ADMIN_ROUTE_FORENSICS,     /* /api/v1/forensics */
	ADMIN_ROUTE_POLICIES,      /* /api/v1/policies: the node's and each [group]'s */
	ADMIN_ROUTE_FORENSIC,      /* /api/v1/forensics/{id} */
};

/* What a request path names. */
struct admin_target {
	enum admin_route route;
	/* {id} (16 lower-case hex digits) or {name} (users_name_valid()); else "" */
	char arg[USERS_NAME_MAX + 1];
};

/*
 * Match path (without the query string) against the endpoints. A path
 * segment that cannot be a session id or a user name, a trailing slash, an
 * empty or extra segment: ADMIN_ROUTE_NONE.
 */
void admin_route_parse(const char *path, struct admin_target *t);

/* The methods route answers, as a mask of (1u << enum admin_method); 0 for NONE. */
unsigned int admin_route_methods(enum admin_route route);

/* The Allow header's value for a mask ("GET, PATCH"); "" for 0. */
void admin_allow_text(unsigned int methods, char *out, size_t outlen);

/* Whether method on route needs a JSON body (POST users, PUT password/admin, PATCH limits). */
bool admin_route_needs_body(enum admin_route route, enum admin_method method);

/*
 * The credentials part of an Authorization header value "Basic <base64>"
 * (scheme case-insensitive, spaces before and after the token skipped), or
 * NULL for any other scheme or an empty token. Trailing spaces are cut by
 * writing a NUL into header.
 */
char *admin_basic_token(char *header);

/* The same for "Bearer <token>" (RFC 6750), as Prometheus' credentials_file sends it. */
char *admin_bearer_token(char *header);

/* A bearer token's length bounds (admin_token_parse()). */
#define ADMIN_TOKEN_MIN 16
#define ADMIN_TOKEN_MAX 256

/*
 * The text of a metrics token file: one token of ADMIN_TOKEN_MIN to
 * ADMIN_TOKEN_MAX printable ASCII characters without spaces, then at most
 * one newline (CR LF too). 0 with the token in out (outlen >
 * ADMIN_TOKEN_MAX), or -1 with why in err.
 */
int admin_token_parse(const char *text, size_t len, char *out, size_t outlen, char *err,
		      size_t errlen);

/*
 * Split decoded Basic credentials "user:password" (len bytes; the user ends
 * at the first ':'). user gets the name, or "" when it cannot be a user name
 * (the caller then verifies against nothing, taking the usual time).
 * Returns 0, or -1 when there is no ':', a NUL byte, or the password is over
 * USERS_PASSWORD_MAX bytes. password must hold USERS_PASSWORD_MAX + 1 bytes.
 */
int admin_basic_split(const char *decoded, size_t len, char user[USERS_NAME_MAX + 1],
		      char password[USERS_PASSWORD_MAX + 1]);

/*
 * Request bodies. Each is a JSON object with exactly the fields listed (an
 * unknown or repeated field is refused); 0, or -1 with a message for the
 * client in err. Passwords are wiped from the parser's memory.
 */
/* POST /api/v1/users: {"name": s, "password": s[, "admin": bool]} */
int admin_parse_new_user(const char *body, size_t len, char name[USERS_NAME_MAX + 1],
			 char password[USERS_PASSWORD_MAX + 1], bool *admin, char *err,
			 size_t errlen);
/* PUT /api/v1/users/{name}/password: {"password": s} */
int admin_parse_password(const char *body, size_t len, char password[USERS_PASSWORD_MAX + 1],
			 char *err, size_t errlen);
/* PUT /api/v1/users/{name}/admin: {"admin": bool} */
int admin_parse_admin_flag(const char *body, size_t len, bool *admin, char *err, size_t errlen);

/* unix_ms (ms since 1970, UTC) as "YYYY-MM-DDTHH:MM:SSZ". 0, or -1 (out of range, short out). */
int admin_rfc3339(int64_t unix_ms, char *out, size_t outlen);

/* The wall-clock time (unix ms) of a monotonic instant, given both clocks now. */
int64_t admin_wall_ms(int64_t mono_ms, int64_t mono_now_ms, int64_t unix_now_ms);

/* One labelled counter value ({reason="admin"} 3). */
struct admin_counter {
	const char *label;
	uint64_t value;
};

/* Everything GET /metrics shows. */
struct admin_metrics {
	uint64_t sessions_active;   /* live sessions with a viewer */
	uint64_t sessions_detached; /* live sessions without one */
	int sessions_max;           /* max_sessions (0 = no limit) */
	bool draining;
	uint64_t logins_ok, logins_failed;
	struct admin_counter refusals[ADMIN_LABELS_MAX]; /* label: reason */
	size_t n_refusals;
	uint64_t bytes_out, bytes_in, worker_crashes;
	struct admin_counter ended[ADMIN_LABELS_MAX]; /* label: reason */
	size_t n_ended;
	bool audit_available; /* records can be written (else logins are refused) */
	struct admin_counter input_throttled[ADMIN_LABELS_MAX]; /* label: kind */
	size_t n_input_throttled;
	uint64_t input_floods;                /* viewers closed 4001 for an input flood */
	uint64_t reloads_ok, reloads_refused; /* SIGHUP reloads */
	int64_t cert_not_after;               /* the served certificate's end (Unix s) */
	uint64_t audit_records, audit_lost;   /* audit records written / lost */
};

/*
 * The Prometheus text exposition format (version 0.0.4) of m: every family
 * with # HELP and # TYPE, label values escaped. malloc'd (the caller frees),
 * NULL when out of memory.
 */
char *admin_metrics_text(const struct admin_metrics *m);

/*
 * The HAProxy agent-check answer: "down\n" while logins are refused because
 * the audit log cannot be written (!logins_possible); "up drain\n" while
 * draining or when max_sessions > 0 and sessions >= max_sessions (only
 * terminals that stick to the node, by persistence, reach it); else
 * "up ready NN%\n" with NN the free capacity in percent, rounded down but at
 * least 1 while there is room (100 with no max_sessions). HAProxy keeps
 * each state until told another, so every answer but "down" names both.
 */
void admin_agent_text(bool logins_possible, bool draining, int max_sessions, size_t sessions,
		      char *out, size_t outlen);

#endif
