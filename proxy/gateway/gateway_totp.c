/*
 * gateway_totp.c: the second factor of the staff login (issue 14): TOTP
 * codes of secrets enrolled by an administrator (admin API POST
 * /api/v1/users/{name}/totp, `pixelgatectl users totp enroll NAME`), kept
 * sealed in totp_file (totp_store.h) under totp_key_file.
 *
 * Who is asked for a code: a user with a secret enrolled, always; with
 * [auth] mfa = admins every administrator, with mfa = everyone everyone
 * (one with no secret is refused: 403 mfa_not_enrolled). A wrong or reused
 * code counts as a failed login (lockout, audit); a missing one is audited
 * only (the viewer asks for the code after the password: counting it
 * would lock out a city hall's shared address after a few logins); a code is
 * accepted once (its step is written to totp_file before the login goes
 * on). The admin API's HTTP Basic requests are not asked for codes: that
 * listener belongs on the management network, and a code usable once does
 * not fit a request-per-command API.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gateway_admin.h"
#include "gateway_auth.h"
#include "log.h"
#include "totp_store.h"

struct gw_totp {
	unsigned char key[TOTP_KEY_BYTES];
	struct totp_store store;
};

#define TOTP_ISSUER "pixelgate"

/*
 * The store's name for a user: as given, or in lower case with a
 * directory, which matches names case-insensitively (T.Tanaka enrolled as
 * t.tanaka is one user, as for the lockout).
 */
static void totp_key(const char *name, char out[USERS_NAME_MAX + 1])
{
	size_t i = 0;
	for (; name[i] != '\0' && i < USERS_NAME_MAX; i++)
		out[i] = gw->ldap != NULL && name[i] >= 'A' && name[i] <= 'Z'
		    ? (char)(name[i] - 'A' + 'a')
		    : name[i];
	out[i] = '\0';
}

bool gw_totp_applies(const struct auth_identity *id)
{
	char key[USERS_NAME_MAX + 1];
	const char *mfa = gw->cfg.auth_mfa;
	totp_key(id->name, key);
	return strcmp(mfa, "everyone") == 0 || (strcmp(mfa, "admins") == 0 && id->admin) ||
	    (gw->totp != NULL && totp_store_find(&gw->totp->store, key) != NULL);
}

void gw_totp_free(void)
{
	if (gw->totp == NULL)
		return;
	totp_store_free(&gw->totp->store);
	OPENSSL_cleanse(gw->totp, sizeof *gw->totp);
	free(gw->totp);
	gw->totp = NULL;
}

int gw_totp_load(char *err, size_t errlen)
{
	struct stat st;
	bool required = strcmp(gw->cfg.auth_mfa, "off") != 0;
	gw_totp_free();
	if (!required && stat(gw->cfg.totp_key_file, &st) != 0 && errno == ENOENT) {
		/* no key, no codes (enrolment is refused with the reason); but codes
		   enrolled before must not stop being asked because the key went */
		struct totp_store old = { 0 };
		int lrc = totp_store_load(&old, gw->cfg.totp_file, true, err, errlen);
		size_t n = old.n;
		totp_store_free(&old);
		if (lrc != 0)
			return -1;
		if (n > 0) {
			snprintf(err, errlen,
				 "totp_file %s holds the second factor of %zu users, and "
				 "totp_key_file %s is missing: without it their codes could not "
				 "be checked; put the key back (or remove totp_file to drop every "
				 "second factor)",
				 gw->cfg.totp_file, n, gw->cfg.totp_key_file);
			return -1;
		}
		return 0;
	}
	struct gw_totp *t = calloc(1, sizeof *t);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char why[512];
	if (totp_key_load(gw->cfg.totp_key_file, t->key, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s%s", why, required ? " ([auth] mfa needs it)" : "");
		goto fail;
	}
	if (totp_store_load(&t->store, gw->cfg.totp_file, true, err, errlen) != 0)
		goto fail;
	gw->totp = t;
	return 0;
fail:
	totp_store_free(&t->store);
	OPENSSL_cleanse(t, sizeof *t);
	free(t);
	return -1;
}

static void totp_answer(struct auth_answer *out, unsigned int status, const char *code,
			const char *message, int retry_after_s)
{
	*out = (struct auth_answer){ status, code, message, retry_after_s };
}

int auth_second_factor(const struct auth_identity *id, const char *peer, const char *otp,
		       bool *checked, struct auth_answer *out)
{
	*checked = false;
	const char *mfa = gw->cfg.auth_mfa;
	char key[USERS_NAME_MAX + 1];
	totp_key(id->name, key);
	bool enrolled = gw->totp != NULL && totp_store_find(&gw->totp->store, key) != NULL;
	bool required = strcmp(mfa, "everyone") == 0 || (strcmp(mfa, "admins") == 0 && id->admin);
	if (!enrolled && !required)
		return 0;
	if (!enrolled) {
		char why[200];
		snprintf(why, sizeof why,
			 "[auth] mfa = %s and no second factor is enrolled (pixelgatectl users "
			 "totp enroll %s)",
			 mfa, id->name);
		auth_note_refusal(AUTH_FOR_STAFF, id->typed, peer, "mfa_not_enrolled", why);
		totp_answer(out, 403, "mfa_not_enrolled",
			    "this account needs a second factor, and none is enrolled; ask your "
			    "administrator",
			    0);
		return -1;
	}
	if (otp[0] == '\0') {
		/* a step of the login (the viewer asks for the code now), not a guess */
		auth_note_refusal(AUTH_FOR_STAFF, id->typed, peer, "otp_missing",
				  "the password is right; the code is asked for");
		totp_answer(out, 401, "otp_required",
			    "enter the 6-digit code from your authenticator app", 0);
		return -1;
	}
	/* Logins sent together all passed the lockout before any code was
	   checked: the name's lockout again, now, for each code. */
	int locked_s = auth_user_locked_s(id);
	if (locked_s > 0) {
		auth_note_refusal(AUTH_FOR_STAFF, id->typed, peer, "locked_out",
				  "locked out before its code was checked");
		totp_answer(out, 429, "locked", "too many failed logins: wait before trying again",
			    locked_s);
		return -1;
	}
	enum totp_result r = totp_store_check(&gw->totp->store, gw->totp->key, key, otp,
					      time(NULL));
	*checked = true;
	switch (r) {
	case TOTP_OK:
		break;
	case TOTP_WRONG:
	case TOTP_REUSED:
	case TOTP_NOT_ENROLLED:
		auth_count_failure(AUTH_FOR_STAFF, id->typed, peer,
				   r == TOTP_REUSED ? "otp_reused" : "otp_invalid",
				   r == TOTP_REUSED ? "the code was used already" : "a wrong code");
		totp_answer(out, 401, "otp_invalid",
			    "the code is wrong or was used already; wait for the next one", 0);
		return -1;
	case TOTP_ERROR:
		log_error("login of %s from %s refused: the second factor's secret does not open "
			  "(totp_key_file %s is not the key of totp_file %s, or the file is "
			  "damaged)",
			  id->name, peer, gw->cfg.totp_key_file, gw->cfg.totp_file);
		totp_answer(out, 503, "mfa_unavailable",
			    "the second factor cannot be checked; the administrator has been told",
			    60);
		return -1;
	}
	/* Used: the step is on disk before the login goes on (in memory either way). */
	char err[512];
	if (totp_store_save(&gw->totp->store, gw->cfg.totp_file, err, sizeof err) != 0) {
		log_error("login of %s refused: the code's use could not be written (%s); a "
			  "restart would take the same code again",
			  id->name, err);
		totp_answer(out, 503, "mfa_unavailable",
			    "the second factor cannot be checked; the administrator has been told",
			    60);
		return -1;
	}
	return 0;
}

/* ---- the admin API: GET / POST / DELETE /api/v1/users/{name}/totp ----------------- */

void admin_user_totp(struct admin_pss *pss)
{
	char name[USERS_NAME_MAX + 1], self[USERS_NAME_MAX + 1];
	char err[512] = "out of memory";
	totp_key(pss->target.arg, name);
	totp_key(pss->admin, self);
	if (gw->totp == NULL) {
		admin_errorf(pss, 409, "totp_not_configured",
			     "no second factor on this node: create totp_key_file %s (32 random "
			     "bytes, owner-only) and restart",
			     gw->cfg.totp_key_file);
		return;
	}
	struct totp_entry *e = totp_store_find(&gw->totp->store, name);
	if (pss->method == ADMIN_GET) {
		admin_reply_json(pss, 200,
				 json_pack("{s:s, s:b, s:s}", "name", name, "enrolled", e != NULL,
					   "enrolled_at", e != NULL ? e->enrolled : ""));
		return;
	}
	/* A stolen password must not be enough to give its account a new code. */
	if (strcmp(name, self) == 0) {
		admin_error(pss, 409, "self",
			    "you cannot enrol or remove your own second factor; ask another "
			    "administrator");
		return;
	}
	/* Local accounts must exist; a directory's are not listed here. */
	gw_users_refresh();
	if (gw->ldap == NULL && users_find(&gw->users, name) == NULL) {
		admin_error(pss, 404, "not_found", "no such user");
		return;
	}
	/* The change is made on a copy, written, and only then put in force. */
	struct totp_store next = { 0 };
	char uri[TOTP_URI_MAX] = "";
	bool replaced = e != NULL;
	if (pss->method == ADMIN_DELETE && e == NULL) {
		admin_error(pss, 404, "not_found", "this user has no second factor enrolled");
		return;
	}
	next.v = calloc(gw->totp->store.n + 1, sizeof *next.v);
	if (next.v == NULL) {
		admin_error(pss, 500, "internal_error", "out of memory");
		return;
	}
	if (gw->totp->store.n > 0)
		memcpy(next.v, gw->totp->store.v, gw->totp->store.n * sizeof *next.v);
	next.n = gw->totp->store.n;
	int rc = pss->method == ADMIN_DELETE
	    ? totp_store_remove(&next, name)
	    : totp_store_enroll(&next, gw->totp->key, name, TOTP_ISSUER, uri, sizeof uri, err,
				sizeof err);
	if (rc != 0 || totp_store_save(&next, gw->cfg.totp_file, err, sizeof err) != 0) {
		totp_store_free(&next);
		OPENSSL_cleanse(uri, sizeof uri);
		log_error("admin %s: second factor of %s not changed: %s", pss->admin, name, err);
		admin_errorf(pss, 500, "internal_error",
			     "totp_file could not be written (%s); nothing was changed", err);
		return;
	}
	totp_store_free(&gw->totp->store);
	gw->totp->store = next;
	if (pss->method == ADMIN_DELETE) {
		log_info("admin %s removed the second factor of %s", pss->admin, name);
		admin_audit(pss->admin, pss->peer, "totp_remove", name, "enrolled", "none");
		admin_reply_json(pss, 200, json_pack("{s:s, s:b}", "name", name, "enrolled", 0));
		return;
	}
	log_info("admin %s enrolled a second factor for %s%s", pss->admin, name,
		 replaced ? " (the old one no longer works)" : "");
	admin_audit(pss->admin, pss->peer, "totp_enroll", name, replaced ? "enrolled" : "none",
		    "enrolled");
	admin_reply_json(pss, 200,
			 json_pack("{s:s, s:b, s:s, s:s}", "name", name, "enrolled", 1, "uri", uri,
				   "issuer", TOTP_ISSUER));
	OPENSSL_cleanse(uri, sizeof uri);
}
