/*
 * gateway_auth.c: who may log in. One path for the staff login
 * (gateway_http.c) and the admin API's HTTP Basic credentials
 * (gateway_admin.c), so that a password guessed on either listener meets
 * the same lockout, leaves the same audit records and counts in the same
 * metrics:
 *
 *   lockout   keys "user:NAME" and "addr:ADDRESS" (lockout.h); a failure
 *             counts for both, a success clears the name's count only (one
 *             valid account must not reset an address's count); checks in
 *             flight count as failures to come;
 *   audit     login_fail {reason} for every wrong name or password and for a
 *             right one that is refused; refusals a client can cause without
 *             a password (locked out, rate limits) are counted per key and
 *             written as one login_refused_locked / login_refused_rate record
 *             per key per AUTH_REFUSALS_INTERVAL_MS (refusals.h); the admin
 *             API's records carry "via":"admin";
 *   metrics   logins_failed, refusals[locked], and the listener's own
 *             rate_limited / busy counters.
 *
 * The users file is (re)loaded here too: both listeners read the users in
 * force through gw->users, refreshed when the file changes on disk.
 *
 * The Argon2id checks themselves run on gateway_auth_pool.c's threads.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "audit_chain.h"
#include "gateway_auth.h"
#include "log.h"
#include "refusals.h"

/* Aggregated refusals: one record per key per this many ms (and at shutdown). */
#define AUTH_REFUSALS_INTERVAL_MS 60000
/* Retry-After of 503 busy (the pool drains a full queue in about a second). */
#define AUTH_BUSY_RETRY_S 1

/* Refusals counted, not audited one by one: a table per listener. */
struct auth_refused {
	struct refusals table;
	bool ready;
	lws_sorted_usec_list_t sul;
	const char *via; /* the records' "via" field, or NULL for none */
};
static struct auth_refused auth_refused[2] = {
	[AUTH_FOR_STAFF] = { .via = NULL },
	[AUTH_FOR_ADMIN] = { .via = "admin" },
};

/* How each listener words what is its own. */
struct auth_words {
	const char *log_prefix;       /* before every log line of this path */
	const char *bad_code;         /* 401: wrong name or password */
	const char *in_flight;        /* 429 while the address's checks are running */
	enum gw_refusal rate_limited; /* metrics of the address's rate limits */
	enum gw_refusal busy;         /* metrics of a full queue */
};
static const struct auth_words auth_words[2] = {
	[AUTH_FOR_STAFF] = { "", "invalid_credentials",
			     "other logins from your address are being checked: wait for their "
			     "answers",
			     GW_REFUSE_RATE_LIMITED, GW_REFUSE_BUSY },
	[AUTH_FOR_ADMIN] = { "admin API: ", "unauthorized",
			     "other requests from your address are being checked: wait for their "
			     "answers",
			     GW_REFUSE_ADMIN_RATE_LIMITED, GW_REFUSE_ADMIN_BUSY },
};

void auth_users_install(struct users *next)
{
	users_free(&gw->users);
	gw->users = *next;
	memset(next, 0, sizeof *next);
	struct stat st;
	if (stat(gw->cfg.users_file, &st) == 0) {
		gw->users_ino = st.st_ino;
		gw->users_size = st.st_size;
		gw->users_mtime = st.st_mtim;
	}
}

/* Reload the users file if it changed since we last read it (pixelgatectl edits it). */
void gw_users_refresh(void)
{
	struct stat st;
	if (stat(gw->cfg.users_file, &st) != 0) {
		log_warn("users file %s: %s (keeping the users loaded before)", gw->cfg.users_file,
			 strerror(errno));
		return;
	}
	if (st.st_ino == gw->users_ino && st.st_size == gw->users_size &&
	    st.st_mtim.tv_sec == gw->users_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == gw->users_mtime.tv_nsec)
		return;
	char err[256];
	struct users fresh = { 0 };
	if (config_check_secret_file(gw->cfg.users_file, err, sizeof err) != 0 ||
	    users_load(&fresh, gw->cfg.users_file, false, err, sizeof err) != 0) {
		log_error("users file not reloaded: %s (keeping the users loaded before)", err);
		users_free(&fresh);
		return;
	}
	size_t n = fresh.n;
	auth_users_install(&fresh);
	log_info("users file %s loaded: %zu users", gw->cfg.users_file, n);
}

/*
 * Lockout keys of a login: one for the user name, one for the client
 * address. With a directory, the name in lower case: directories match
 * names case-insensitively (uid, sAMAccountName), so "Alice" and "alice"
 * are one account and must be one count.
 */
static void auth_lockout_keys(const char *user, const char *peer, char user_key[LOCKOUT_KEY_MAX],
			      char addr_key[LOCKOUT_KEY_MAX])
{
	int n = snprintf(user_key, LOCKOUT_KEY_MAX, "user:%.80s", user);
	if (gw->ldap != NULL)
		for (int i = 5; i < n && i < LOCKOUT_KEY_MAX; i++)
			if (user_key[i] >= 'A' && user_key[i] <= 'Z')
				user_key[i] = (char)(user_key[i] - 'A' + 'a');
	if (addr_key != NULL)
		snprintf(addr_key, LOCKOUT_KEY_MAX, "addr:%.80s", peer);
}

void auth_forget_failures(const char *name)
{
	char user_key[LOCKOUT_KEY_MAX];
	auth_lockout_keys(name, "", user_key, NULL);
	lockout_clear(gw->lockout, user_key);
}

/* ---- refusals counted, not audited one by one ------------------------------------- */

/* Write one aggregate record: event, user, client, {count, first, last, reason[, overflow][, via]}. */
static void auth_refusal_emit(const struct refusal *e, void *arg)
{
	const char *via = arg;
	char first[40], last[40];
	if (audit_format_ts(e->first_wall_ms, first, sizeof first) != 0)
		snprintf(first, sizeof first, "?");
	if (audit_format_ts(e->last_wall_ms, last, sizeof last) != 0)
		snprintf(last, sizeof last, "?");
	json_t *f = json_pack("{s:I, s:s, s:s, s:s}", "count", (json_int_t)e->count, "first", first,
			      "last", last, "reason", e->reason);
	if (f != NULL && e->overflow)
		json_object_set_new(f, "overflow", json_true());
	if (f != NULL && via != NULL)
		json_object_set_new(f, "via", json_string(via));
	audit_event(e->event, e->user, e->client, "", f);
	json_decref(f);
	if (e->count > 1)
		log_warn("%s%s: %llu refusals of \"%s\" from %s (%s) between %s and %s",
			 via != NULL ? "admin API: " : "", e->event, (unsigned long long)e->count,
			 e->user, e->client, e->reason, first, last);
}

static void auth_refusals_arm(struct auth_refused *r);

/* The interval of a table's oldest key ended: write what is due, re-arm for the next. */
static void auth_refusals_tick(lws_sorted_usec_list_t *sul)
{
	struct auth_refused *r = lws_container_of(sul, struct auth_refused, sul);
	refusals_flush(&r->table, gw_now_ms(), false, auth_refusal_emit, (void *)r->via);
	auth_refusals_arm(r);
}

static void auth_refusals_arm(struct auth_refused *r)
{
	int64_t due = refusals_next_due(&r->table);
	if (due == INT64_MAX) {
		lws_sul_cancel(&r->sul);
		return;
	}
	int64_t wait_ms = due - gw_now_ms();
	if (wait_ms < 1)
		wait_ms = 1;
	lws_sul_schedule(gw->ctx, 0, &r->sul, auth_refusals_tick,
			 (lws_usec_t)wait_ms * LWS_US_PER_MS);
}

/* Every pending aggregate record of both listeners, now (shutdown). */
void auth_refusals_flush_all(void)
{
	for (size_t i = 0; i < sizeof auth_refused / sizeof auth_refused[0]; i++) {
		struct auth_refused *r = &auth_refused[i];
		if (!r->ready)
			continue;
		lws_sul_cancel(&r->sul);
		refusals_flush(&r->table, gw_now_ms(), true, auth_refusal_emit, (void *)r->via);
	}
}

bool auth_refusal_count(enum auth_for kind, const char *event, const char *user, const char *peer,
			const char *reason)
{
	struct auth_refused *r = &auth_refused[kind];
	if (!r->ready) {
		refusals_init(&r->table, AUTH_REFUSALS_INTERVAL_MS);
		r->ready = true;
	}
	bool first = refusals_add(&r->table, event, user, peer, reason, gw_now_ms(), gw_wall_ms());
	if (first)
		auth_refusals_arm(r);
	return first;
}

/* ---- the two halves of a check ------------------------------------------------------ */

json_t *auth_error_json(const char *code, const char *message, int retry_after_s)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
	if (o != NULL && retry_after_s > 0 &&
	    json_object_set_new(o, "retry_after_s", json_integer(retry_after_s)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void auth_set(struct auth_answer *out, unsigned int status, const char *code,
		     const char *message, int retry_after_s)
{
	*out = (struct auth_answer){ status, code, message, retry_after_s };
}

int auth_begin(struct lws *wsi, enum auth_for kind, const char *name, const char *peer,
	       const char *password, struct auth_answer *out)
{
	const struct auth_words *w = &auth_words[kind];
	gw_users_refresh();
	/* Locked out (too many failures for this user or this address): no password check. */
	char user_key[LOCKOUT_KEY_MAX], addr_key[LOCKOUT_KEY_MAX];
	auth_lockout_keys(name, peer, user_key, addr_key);
	int64_t now = gw_now_ms();
	int user_locked_s = lockout_remaining_s(gw->lockout, user_key, now);
	int addr_locked_s = lockout_remaining_s(gw->lockout, addr_key, now);
	if (user_locked_s > 0 || addr_locked_s > 0) {
		int locked_s = addr_locked_s > user_locked_s ? addr_locked_s : user_locked_s;
		gw->metrics.refusals[GW_REFUSE_LOCKED]++;
		/*
		 * Counted, not audited per request: one login_refused_locked
		 * record per key per interval. A locked address is the key
		 * (whatever names it tries); else the locked user (whichever
		 * addresses try it).
		 */
		bool first = addr_locked_s > 0
		    ? auth_refusal_count(kind, "login_refused_locked", "", peer, "locked_out")
		    : auth_refusal_count(kind, "login_refused_locked", name, "", "locked_out");
		if (first)
			log_warn("%slogin of \"%s\" from %s refused: locked out for %d s more; "
				 "further refusals are counted, audited once a minute",
				 w->log_prefix, name[0] ? name : "(invalid name)", peer, locked_s);
		auth_set(out, 429, "locked", "too many failed logins: wait before trying again",
			 locked_s);
		return -1;
	}
	/*
	 * Checks in flight count as failures to come: an address cannot get
	 * more than login_max_failures checks past the lockout by sending
	 * them all at once on parallel connections.
	 */
	int max_failures = gw->limits.login_max_failures;
	if (max_failures > 0 &&
	    (size_t)lockout_failures(gw->lockout, addr_key, gw->limits.login_lockout_s, now) +
		    auth_pending(addr_key) >=
		(size_t)max_failures) {
		gw->metrics.refusals[w->rate_limited]++;
		if (auth_refusal_count(kind, "login_refused_rate", "", peer, "checks_in_flight"))
			log_warn("%slogin from %s refused: %zu logins from this address are being "
				 "checked already",
				 w->log_prefix, peer, auth_pending(addr_key));
		auth_set(out, 429, "rate_limited", w->in_flight, 1);
		return -1;
	}
	/* users_file first (break-glass accounts), then the directory if there is one. */
	const struct user *u = name[0] != '\0' ? users_find(&gw->users, name) : NULL;
	bool directory = u == NULL && name[0] != '\0' && gw->ldap != NULL;
	if (auth_submit(wsi, kind, name, u != NULL ? u->hash : NULL, directory, addr_key,
			password) != 0) {
		gw->metrics.refusals[w->busy]++;
		log_warn("%slogin from %s refused: the password-check queue is full (auth_queue %d)",
			 w->log_prefix, peer, gw->cfg.auth_queue);
		auth_set(out, 503, "busy",
			 "the server is busy checking other logins: try again in a "
			 "moment",
			 AUTH_BUSY_RETRY_S);
		return -1;
	}
	return 0;
}

/* Audit a failed or refused login: login_fail {reason[, via]}. */
static void auth_audit_fail(enum auth_for kind, const char *user, const char *peer,
			    const char *reason)
{
	json_t *f = json_pack("{s:s}", "reason", reason);
	if (f != NULL && auth_refused[kind].via != NULL)
		json_object_set_new(f, "via", json_string(auth_refused[kind].via));
	audit_event("login_fail", user, peer, "", f);
	json_decref(f);
}

void auth_count_failure(enum auth_for kind, const char *name, const char *peer, const char *reason,
			const char *why)
{
	const struct auth_words *w = &auth_words[kind];
	char user_key[LOCKOUT_KEY_MAX], addr_key[LOCKOUT_KEY_MAX];
	auth_lockout_keys(name, peer, user_key, addr_key);
	int64_t now = gw_now_ms();
	gw->metrics.logins_failed++;
	int lu = lockout_fail(gw->lockout, user_key, gw->limits.login_max_failures,
			      gw->limits.login_lockout_s, now);
	int la = lockout_fail(gw->lockout, addr_key, gw->limits.login_max_failures,
			      gw->limits.login_lockout_s, now);
	log_warn("%slogin failed for user \"%s\" from %s%s%s%s", w->log_prefix,
		 name[0] ? name : "(invalid name)", peer, why != NULL ? ": " : "",
		 why != NULL ? why : "", (lu || la) ? " (now locked out)" : "");
	auth_audit_fail(kind, name, peer, reason);
}

void auth_note_refusal(enum auth_for kind, const char *name, const char *peer, const char *reason,
		       const char *why)
{
	log_warn("%slogin of \"%s\" from %s refused: %s", auth_words[kind].log_prefix, name, peer,
		 why);
	auth_audit_fail(kind, name, peer, reason);
}

/* A wrong name or password: counted, logged, audited, 401. */
static void auth_wrong(enum auth_for kind, const char *name, const char *peer, const char *why,
		       struct auth_answer *out)
{
	auth_count_failure(kind, name, peer, "invalid_credentials", why);
	auth_set(out, 401, auth_words[kind].bad_code, "wrong user name or password", 0);
}

/* A directory's answer (r->directory): 0 with *id, or -1 with *out. */
static int auth_finish_directory(enum auth_for kind, const char *peer, const struct auth_result *r,
				 struct auth_identity *id, struct auth_answer *out)
{
	const struct auth_words *w = &auth_words[kind];
	if (r->dir_result == LDAP_AUTH_UNAVAILABLE) {
		/* Not the user's fault: no lockout count, and the reason only in the log. */
		gw->metrics.refusals[GW_REFUSE_DIRECTORY]++;
		log_error("%slogin of \"%s\" from %s refused: the directory is unavailable: %s",
			  w->log_prefix, r->user, peer, r->dir.why);
		auth_audit_fail(kind, r->user, peer, "directory_unavailable");
		auth_set(out, 503, "directory_unavailable",
			 "the sign-in directory cannot be reached; try again in a moment", 30);
		return -1;
	}
	if (r->dir_result != LDAP_AUTH_OK) {
		auth_wrong(kind, r->user, peer, r->dir.why, out);
		return -1;
	}
	/* A directory account never takes the name (and the sessions) of a local
	   one, whatever the case: names are one with a directory (the lockout). */
	bool clash = false;
	for (size_t i = 0; i < gw->users.n && !clash; i++)
		clash = strcasecmp(gw->users.v[i].name, r->dir.name) == 0;
	if (clash) {
		log_error("%slogin of \"%s\" from %s refused: the directory names it \"%s\" (%s), "
			  "which is also an account of users_file; rename one of them",
			  w->log_prefix, r->user, peer, r->dir.name, r->dir.dn);
		auth_wrong(kind, r->user, peer, "a users_file account has the directory's name",
			   out);
		return -1;
	}
	memset(id, 0, sizeof *id);
	snprintf(id->typed, sizeof id->typed, "%s", r->user);
	snprintf(id->name, sizeof id->name, "%s", r->dir.name);
	id->admin = r->dir.role == LDAP_ROLE_ADMIN;
	id->directory = true;
	snprintf(id->dn, sizeof id->dn, "%s", r->dir.dn);
	id->policy_groups = r->dir.policy_groups;
	if (kind == AUTH_FOR_ADMIN && !id->admin) {
		log_warn("%s%s from %s refused: not in the directory's admin_group", w->log_prefix,
			 id->name, peer);
		auth_audit_fail(kind, id->name, peer, "not_admin");
		auth_set(out, 403, "forbidden", "this user does not have the admin role", 0);
		return -1;
	}
	return 0;
}

int auth_finish(enum auth_for kind, const char *peer, const struct auth_result *r,
		struct auth_identity *id, struct auth_answer *out)
{
	const struct auth_words *w = &auth_words[kind];
	if (r->directory)
		return auth_finish_directory(kind, peer, r, id, out);
	/*
	 * The users file may have been reloaded during the check: the password
	 * counts only if it matched the user's hash as it is now.
	 */
	const struct user *u = r->user[0] != '\0' ? users_find(&gw->users, r->user) : NULL;
	if (u != NULL && (!r->ok || strcmp(u->hash, r->hash) != 0))
		u = NULL;
	if (u == NULL) {
		auth_wrong(kind, r->user, peer, NULL, out);
		return -1;
	}
	if (u->locked) {
		log_warn("%slogin of %s from %s refused: account locked by an administrator",
			 w->log_prefix, u->name, peer);
		auth_audit_fail(kind, u->name, peer, "account_locked");
		auth_set(out, 403, "account_locked",
			 "this account is locked; ask your administrator", 0);
		return -1;
	}
	if (kind == AUTH_FOR_ADMIN && !u->admin) {
		log_warn("%s%s from %s refused: not an administrator", w->log_prefix, u->name,
			 peer);
		auth_audit_fail(kind, u->name, peer, "not_admin");
		auth_set(out, 403, "forbidden", "this user does not have the admin role", 0);
		return -1;
	}
	memset(id, 0, sizeof *id);
	snprintf(id->typed, sizeof id->typed, "%s", r->user);
	snprintf(id->name, sizeof id->name, "%s", u->name);
	id->admin = u->admin;
	return 0;
}

int auth_user_locked_s(const struct auth_identity *id)
{
	char key[LOCKOUT_KEY_MAX];
	int64_t now = gw_now_ms();
	auth_lockout_keys(id->typed, "", key, NULL);
	int a = lockout_remaining_s(gw->lockout, key, now);
	auth_lockout_keys(id->name, "", key, NULL);
	int b = lockout_remaining_s(gw->lockout, key, now);
	return a > b ? a : b;
}

void auth_succeeded(const struct auth_identity *id)
{
	/* Only the user's count: one valid account must not reset an address's count. */
	char user_key[LOCKOUT_KEY_MAX];
	auth_lockout_keys(id->typed, "", user_key, NULL);
	lockout_success(gw->lockout, user_key);
	auth_lockout_keys(id->name, "", user_key, NULL);
	lockout_success(gw->lockout, user_key);
}
