/*
 * gw_stubs.h: the rest of the gateway, and libwebsockets, for the fuzz
 * targets that compile one of the gateway's own files as it is
 * (gw_stubs.c). Every gateway function here is a weak definition: the file
 * under test brings the real one where it has it. What the file under test
 * does to the world (audit records, viewers closed, timers, the HTTP answer
 * it writes) is kept here for the target's invariants.
 *
 * libwebsockets is not linked: struct lws is ours (lws only declares it),
 * one fake connection that holds what lws would hand the callback
 * (headers, URL arguments, per-session data) and what the callback wrote.
 */
#ifndef PIXELGATE_FUZZ_GW_STUBS_H
#define PIXELGATE_FUZZ_GW_STUBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway.h"
#include "gateway_auth.h"

/* One fake connection. */
struct lws {
	void *opaque;                     /* lws_set_opaque_user_data() */
	void *user;                       /* per-session data: lws_wsi_user() */
	size_t user_size;                 /* its size (calloc'd anew per transaction) */
	const char *hdr[WSI_TOKEN_COUNT]; /* header values lws parsed, NULL when absent */
	const char *args;                 /* URL arguments, urldecoded, '&'-separated */
	bool keepalive;                   /* lws_http_transaction_completed() keeps it */
	int (*callback)(struct lws *, enum lws_callback_reasons, void *, void *, size_t);
	bool writeable_asked; /* lws_callback_on_writable() since last reset */
	bool timeout_set;     /* lws_set_timeout() asked to close it */
	/* The answer: status and headers (one call each, in order), then the body. */
	unsigned int status; /* 0 until lws_add_http_common_headers() */
	bool headers_done;   /* lws_finalize_write_http_header() */
	char content_type[64];
	uint64_t content_length;
	int retry_after; /* the retry-after header, or -1 */
	bool no_store;   /* cache-control: no-store */
	char body[2048];
	size_t body_len;
	bool body_final;  /* LWS_WRITE_HTTP_FINAL seen */
	int transactions; /* lws_http_transaction_completed() calls */
};

/* Reset the connection to a fresh one: no headers, no answer, new per-session data. */
void fuzz_wsi_init(struct lws *wsi, size_t user_size,
		   int (*callback)(struct lws *, enum lws_callback_reasons, void *, void *,
				   size_t));
/* Forget the answer (a new transaction on the same connection). */
void fuzz_wsi_answer_reset(struct lws *wsi);
/* Free the per-session data (lws does it when the connection is destroyed). */
void fuzz_wsi_free(struct lws *wsi);

/* The gateway's state; fuzz_gw_reset() gives the defaults of a fresh daemon. */
void fuzz_gw_reset(void);
extern int64_t fuzz_now_ms; /* gw_now_ms() */

/* Audit records written (audit_event), with copies of their fields. */
#define FUZZ_AUDITS_MAX 256
struct fuzz_audit {
	char event[64];
	char user[128], client[128], session[64];
	json_t *fields; /* a deep copy, or NULL */
};
extern struct fuzz_audit fuzz_audits[FUZZ_AUDITS_MAX];
extern size_t fuzz_naudits;
extern int fuzz_audit_rc;  /* what audit_event() returns */
extern bool fuzz_audit_up; /* audit_available() */
void fuzz_audits_clear(void);
/* The index of the first record named event from index from on, or -1. */
int fuzz_audit_find(const char *event, size_t from);

/* Viewers closed (relay_close) and handed over (relay_hand_over). */
#define FUZZ_CLOSES_MAX 64
struct fuzz_close {
	struct gw_conn *conn;
	int code;
	char reason[256];
};
extern struct fuzz_close fuzz_closes[FUZZ_CLOSES_MAX];
extern size_t fuzz_ncloses, fuzz_handovers;

/* Sessions the session table counts (session_count_live, session_count_user). */
extern size_t fuzz_live_sessions, fuzz_user_sessions;

/* The privileged parent: cells asked for and killed. */
extern unsigned fuzz_spawns, fuzz_kills;
extern bool fuzz_cells; /* priv_cells() */

/* Timers (lws_sul_schedule): those scheduled and not cancelled. */
size_t fuzz_suls_pending(void);
/* Whether sul is scheduled. */
bool fuzz_sul_pending(const lws_sorted_usec_list_t *sul);
/* Forget every timer (at the end of an input, after the checks). */
void fuzz_suls_clear(void);

/* Password checks (gateway_auth.c): the last one submitted. */
struct fuzz_auth {
	bool submitted;
	struct lws *wsi;
	char user[USERS_NAME_MAX + 1];
	char hash[USERS_HASH_MAX];
	bool had_hash;
	char tag[128];
	char password[USERS_PASSWORD_MAX + 1];
};
extern struct fuzz_auth fuzz_auth;
extern int fuzz_auth_rc;         /* what auth_submit() returns */
extern size_t fuzz_auth_pending; /* what auth_pending() returns */

#endif
