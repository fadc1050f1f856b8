/*
 * gateway_admin.h: what the admin API's files share (not for the rest of the
 * gateway, which knows only admin_callback() and admin_pss_size() from
 * gateway.h). gateway_admin.c is the lws glue: routing, authentication
 * (through gateway_auth.c), bodies, and writing the reply; the endpoints
 * are in gateway_admin_node.c (health, metrics, limits, drain),
 * gateway_admin_sessions.c (sessions and kept forensics directories) and
 * gateway_admin_users.c (users). An endpoint runs on the loop for an
 * authenticated administrator (pss->admin) whose body, if any, has arrived
 * (pss->body, pss->len), and sets exactly one reply with admin_reply_*() or
 * admin_error*().
 */
#ifndef PIXELGATE_GATEWAY_ADMIN_H
#define PIXELGATE_GATEWAY_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "admin_text.h"
#include "gateway.h"

/* Per-connection state of "admin-http" (one request at a time, kept over keep-alive). */
struct admin_pss {
	/* the request */
	enum admin_method method;
	struct admin_target target;
	char admin[USERS_NAME_MAX + 1]; /* the authenticated administrator */
	char peer[64];                  /* client address for logs */
	bool reading_body;              /* the body is on its way (kept in body) */
	bool checking;                  /* the password check is queued or running */
	bool body_done;                 /* the whole body arrived (BODY_COMPLETION) */
	long long clen;                 /* Content-Length, -1 when absent */
	bool discarding_body;           /* answered early: the body is read and dropped */
	size_t len;
	char body[ADMIN_BODY_MAX + 1];
	/* the reply, written by admin_write() */
	bool replying;
	bool headers_sent;
	unsigned int status;
	const char *content_type;
	char *reply; /* malloc'd */
	size_t reply_len, reply_sent;
	int retry_after_s; /* > 0: Retry-After header */
	bool challenge;    /* 401: WWW-Authenticate header */
	char allow[48];    /* 405: Allow header */
	bool close_after;  /* a body we cannot frame: close after the reply */
};

/* Take text (malloc'd; NULL = out of memory) as the reply. */
void admin_reply_text(struct admin_pss *pss, unsigned int status, const char *content_type,
		      char *text);
/* Reply with o as JSON (o is released; NULL = out of memory). */
void admin_reply_json(struct admin_pss *pss, unsigned int status, json_t *o);
/* Reply {"error": code, "message": message}. */
void admin_error(struct admin_pss *pss, unsigned int status, const char *code, const char *message);
/* admin_error with a printf message. */
void admin_errorf(struct admin_pss *pss, unsigned int status, const char *code, const char *fmt,
		  ...) __attribute__((format(__printf__, 4, 5)));
/* Audit an administrator's action (who, what, on what, old and new value). */
void admin_audit(const char *admin, const char *peer, const char *action, const char *target,
		 const char *old_value, const char *new_value);

/* gateway_admin_node.c */
void admin_healthz(struct admin_pss *pss);
void admin_metrics(struct admin_pss *pss);
void admin_limits_reply(struct admin_pss *pss);
void admin_limits_patch(struct admin_pss *pss);
void admin_drain(struct admin_pss *pss, bool drain);

/* gateway_admin_sessions.c */
void admin_sessions_list(struct admin_pss *pss);
void admin_session_delete(struct admin_pss *pss);
void admin_forensics_list(struct admin_pss *pss);
void admin_forensic_delete(struct admin_pss *pss);

/* gateway_admin_users.c */
void admin_users_list(struct admin_pss *pss);
void admin_user_add(struct admin_pss *pss);
void admin_user_delete(struct admin_pss *pss);
void admin_user_password(struct admin_pss *pss);
void admin_user_lock(struct admin_pss *pss, bool lock);
/* GET, POST (enrol: a new secret, its otpauth URI in the answer) and DELETE .../totp */
void admin_user_totp(struct admin_pss *pss);
/* GET /api/v1/policies: the node's policy, then each [group]'s as in force */
void admin_policies_list(struct admin_pss *pss);
void admin_user_role(struct admin_pss *pss);

#endif
