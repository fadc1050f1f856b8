/*
 * gateway_auth.h: one authentication path for the staff login (gateway_http.c)
 * and the admin API (gateway_admin.c): the same lockout keys, the same audit
 * records and the same metrics, whichever listener a password arrives on.
 *
 * A password is checked in two halves around the thread pool
 * (gateway_auth_pool.c, declared below): auth_begin() refuses a
 * locked-out user or address and queues the check; auth_finish() takes the
 * result. Each listener turns a refusal (struct auth_answer) into its own
 * reply and goes on with what is its own (a ticket, an admin request).
 */
#ifndef PIXELGATE_GATEWAY_AUTH_H
#define PIXELGATE_GATEWAY_AUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "gateway.h"

/*
 * gateway_auth_pool.c: password checks on a pool of threads. The loop submits,
 * a thread runs Argon2id on copies, the loop gets the result in
 * auth_poll() (at LWS_CALLBACK_EVENT_WAIT_CANCELLED) as a call of
 * http_auth_done() or admin_auth_done() with the waiting wsi.
 */
enum auth_for { AUTH_FOR_STAFF, AUTH_FOR_ADMIN };

/* What a finished check hands to its listener (wiped after the call). */
struct auth_result {
	char user[USERS_NAME_MAX + 1]; /* the name as given */
	char hash[USERS_HASH_MAX];     /* the hash checked against (the user's, or the dummy) */
	bool ok;                       /* the password matched hash, or the directory said yes */
	bool directory;                /* checked by the directory ([auth] backend = ldap) */
	enum ldap_auth_result dir_result;
	struct ldap_auth_outcome dir; /* the directory's answer: name, role, DN, groups, why */
};

/* Who signed in (auth_finish()). */
struct auth_identity {
	char typed[USERS_NAME_MAX + 1]; /* the name as given (the lockout's key) */
	char name[USERS_NAME_MAX + 1];  /* as sessions, audit and lockout know it */
	bool admin;
	bool directory;             /* a directory account (else users_file) */
	char dn[LDAP_AUTH_STR_MAX]; /* its DN when directory */
	unsigned policy_groups;     /* directory: bit i = the i-th [group] section */
};

/*
 * Start threads checking threads with a queue of queue_max jobs; ldap (a
 * copy is kept) when [auth] backend = ldap, with every answer held back
 * until floor_ms after it was asked for. 0 or -1 + err.
 */
int auth_init(struct lws_context *ctx, int threads, int queue_max,
	      const struct ldap_auth_conf *ldap, int floor_ms, char *err, size_t errlen);
/* Stop the threads (waits for running checks) and drop every job. */
void auth_shutdown(void);
/*
 * Queue a check of password against hash (NULL: user unknown, a dummy hash
 * of the same cost), or by the directory when directory, for wsi; tag
 * names the asker (auth_pending()). Copies everything it needs. 0, or -1
 * when the queue is full (answer 503 busy).
 */
int auth_submit(struct lws *wsi, enum auth_for kind, const char *user, const char *hash,
		bool directory, const char *tag, const char *password);
/* wsi is going away: its check is dropped or its result discarded. */
void auth_cancel(struct lws *wsi);
/* Checks of tag queued, running or not yet delivered. */
size_t auth_pending(const char *tag);
/* Deliver finished checks (loop thread, LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void auth_poll(void);
/* A staff login's check finished (gateway_http.c). */
void http_auth_done(struct lws *wsi, const struct auth_result *r);
/* An admin request's check finished (gateway_admin.c). */
void admin_auth_done(struct lws *wsi, const struct auth_result *r);

/* Reload the users file if it changed on disk (staff logins and the admin API). */
void gw_users_refresh(void);

/*
 * The refusals that are counted rather than audited one by one (refusals.h),
 * of both listeners: write every pending aggregate record now (shutdown).
 */
void auth_refusals_flush_all(void);

/* A refusal, as a listener answers it: {"error": code, "message": message[, "retry_after_s"]}. */
struct auth_answer {
	unsigned int status; /* 401, 403, 429 or 503 */
	const char *code;    /* static text */
	const char *message; /* static text */
	int retry_after_s;   /* > 0: a Retry-After header and "retry_after_s" */
};

/*
 * The body of every error answer of both listeners: {"error": code,
 * "message": message[, "retry_after_s": retry_after_s when > 0]}. NULL when
 * out of memory.
 */
json_t *auth_error_json(const char *code, const char *message, int retry_after_s);

/*
 * First half of a check. name is the user name as given ("" when it cannot
 * be a user name: answered as an unknown user), peer the client address.
 * Reloads the users file if it changed, then refuses without a check a
 * locked-out user or address (429 locked), an address with as many checks
 * in flight as it has failures left (429 rate_limited), or a full queue
 * (503 busy); those refusals are counted (metrics), and aggregated in the
 * audit log (auth_refusal_count()). Else queues the check for wsi; the
 * listener's *_auth_done() follows. 0 when queued, else -1 with *out set.
 * password is copied for the check, never kept.
 */
int auth_begin(struct lws *wsi, enum auth_for kind, const char *name, const char *peer,
	       const char *password, struct auth_answer *out);

/*
 * Second half, with the check's result r (on the loop). 0 with *id set to
 * the user the password belongs to (users_file as it is now, or the
 * directory's answer) when it may go on: not locked by an administrator,
 * and for AUTH_FOR_ADMIN an administrator. Else -1 with *out set (401
 * wrong name or password, 403 account_locked or forbidden, 503
 * directory_unavailable). A wrong name or password counts towards the
 * lockout of the name and of the address, and is audited as login_fail
 * {reason invalid_credentials}; a refused right one as login_fail {reason
 * account_locked or not_admin}; a directory that failed as login_fail
 * {reason directory_unavailable}, counted for no lockout; the admin API's
 * records say "via":"admin". The name's failures are not forgotten
 * here: auth_succeeded() does that once the whole login has succeeded
 * (the second factor too).
 */
int auth_finish(enum auth_for kind, const char *peer, const struct auth_result *r,
		struct auth_identity *id, struct auth_answer *out);
/* The login of id succeeded: the failures of its name no longer count. */
void auth_succeeded(const struct auth_identity *id);

/*
 * A failed login of name from peer: counted towards the lockout of the
 * name and of the address, in the metrics, logged with why (may be NULL)
 * and audited as login_fail {reason}.
 */
void auth_count_failure(enum auth_for kind, const char *name, const char *peer, const char *reason,
			const char *why);
/* A refusal that is no guess (a code not given yet): logged and audited, not counted. */
void auth_note_refusal(enum auth_for kind, const char *name, const char *peer, const char *reason,
		       const char *why);

/*
 * gateway_totp.c: the second factor. gw_totp_load() at start-up (and by
 * pixelgate -n): gw->totp when totp_key_file exists (required when [auth]
 * mfa is not off), else NULL. auth_second_factor() after auth_finish() of
 * a staff login: 0 when no code is needed or otp is the user's code, used
 * once; else -1 with *out (401 otp_required, 401 otp_invalid, 403
 * mfa_not_enrolled, 503 mfa_unavailable), failures counted as wrong
 * passwords are. *checked says whether a code was checked.
 */
int gw_totp_load(char *err, size_t errlen);
/* Whether a login of id must give a code (enrolled, or [auth] mfa says so). */
bool gw_totp_applies(const struct auth_identity *id);
/* Seconds the name of id (as typed, or as the directory spells it) stays locked out; 0 if not. */
int auth_user_locked_s(const struct auth_identity *id);
void gw_totp_free(void);
int auth_second_factor(const struct auth_identity *id, const char *peer, const char *otp,
		       bool *checked, struct auth_answer *out);

/*
 * Count a refusal that is not audited by itself (event login_refused_locked
 * or login_refused_rate): one aggregate record per key per minute, with
 * "via":"admin" for the admin API's. True for the key's first refusal of
 * the interval: the caller logs that one only.
 */
bool auth_refusal_count(enum auth_for kind, const char *event, const char *user, const char *peer,
			const char *reason);

/* Forget the failed logins of user name (an administrator unlocked it). */
void auth_forget_failures(const char *name);

/*
 * Make next the users in force (the file at users_file was just written
 * with it, or read from it); next is taken and emptied.
 */
void auth_users_install(struct users *next);

#endif
