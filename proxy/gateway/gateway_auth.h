/*
 * gateway_auth.h: one authentication path for the staff login (gateway_http.c)
 * and the admin API (gateway_admin.c): the same lockout keys, the same audit
 * records and the same metrics, whichever listener a password arrives on.
 *
 * A password is checked in two halves around the thread pool
 * (gateway_auth_pool.c, declared in gateway.h): auth_begin() refuses a
 * locked-out user or address and queues the check; auth_finish() takes the
 * result. Each listener turns a refusal (struct auth_answer) into its own
 * reply and goes on with what is its own (a ticket, an admin request).
 */
#ifndef PIXELGATE_GATEWAY_AUTH_H
#define PIXELGATE_GATEWAY_AUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "gateway.h"

/* A refusal, as a listener answers it: {"error": code, "message": message[, "retry_after_s"]}. */
struct auth_answer {
	unsigned int status;   /* 401, 403, 429 or 503 */
	const char *code;      /* static text */
	const char *message;   /* static text */
	int retry_after_s;     /* > 0: a Retry-After header and "retry_after_s" */
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
 * Second half, with the check's result r (on the loop). The user the
 * password belongs to, as the users table is now, when it may go on: not
 * locked by an administrator, and for AUTH_FOR_ADMIN an administrator.
 * Else NULL with *out set (401 wrong name or password, 403 account_locked
 * or forbidden). A wrong name or password counts towards the lockout of
 * the name and of the address, and is audited as login_fail {reason
 * invalid_credentials}; a refused right one as login_fail {reason
 * account_locked or not_admin}; the admin API's records say "via":"admin".
 */
const struct user *auth_finish(enum auth_for kind, const char *peer, const struct auth_result *r,
			       struct auth_answer *out);

/*
 * Count a refusal that is not audited by itself (event login_refused_locked
 * or login_refused_rate): one aggregate record per key per minute, with
 * "via":"admin" for the admin API's. True for the key's first refusal of
 * the interval: the caller logs that one only.
 */
bool auth_refusal_count(enum auth_for kind, const char *event, const char *user,
			const char *peer, const char *reason);

/* Forget the failed logins of user name (an administrator unlocked it). */
void auth_forget_failures(const char *name);

/*
 * Make next the users in force (the file at users_file was just written
 * with it, or read from it); next is taken and emptied.
 */
void auth_users_install(struct users *next);

#endif
