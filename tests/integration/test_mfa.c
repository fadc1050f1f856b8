/*
 * test_mfa.c: the second factor (issue 14) through the real daemon: TOTP
 * codes computed by oathtool (Debian's, from the otpauth URI the admin API
 * hands out) as an authenticator app would; [auth] mfa = admins; a code
 * accepted once, also across a restart; refused when missing, wrong or
 * reused, each audited; the secrets sealed in totp_file.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Enrol user with pixelgatectl (as admin): its QR code printed, the key into secret. */
static void mt_ctl_enroll(const char *admin, const char *user, char *secret, size_t len)
{
	char conf[400], out[16384];
	const char *key;
	int rc, blocks = 0;

	it_ctl_config(admin, conf, sizeof conf, NULL, 0);
	rc = it_run(out, sizeof out, "%s/pixelgatectl --config '%s' users totp enroll %s 2>&1",
		    PIXELGATE_BUILD_DIR, conf, user);
	fprintf(stderr, "[%s] pixelgatectl users totp enroll %s: exit %d\n%s\n", it.test_name, user,
		rc, out);
	IT_ASSERT(rc == 0, "pixelgatectl users totp enroll: exit %d: %s", rc, out);
	for (const char *p = out; (p = strstr(p, "\u2588")) != NULL; p += 3)
		blocks++;
	IT_ASSERT(blocks > 100, "no QR code printed (%d blocks): %s", blocks, out);
	key = strstr(out, "type in the key: ");
	IT_ASSERT(key != NULL, "no key printed: %s", out);
	key += strlen("type in the key: ");
	snprintf(secret, len, "%.*s", (int)strcspn(key, "\n"), key);
	rc = it_run(out, sizeof out, "%s/pixelgatectl --config '%s' users totp show %s 2>&1",
		    PIXELGATE_BUILD_DIR, conf, user);
	IT_ASSERT(rc == 0 && strstr(out, "has a second factor, enrolled 20") != NULL,
		  "pixelgatectl users totp show: exit %d: %s", rc, out);
}

IT_TEST(mfa, a_code_is_asked_accepted_once_and_kept_sealed, .timeout = 300)
{
	static const char *const users[] = { "clerk", NULL };
	static const char *const admins[] = { "boss", "ops", NULL };
	struct it_opts o = { .admins = admins,
			     .before_daemon = it_mfa_world,
			     .extra_conf = "login_max_failures = 50\n" };
	char secret[128], clerk_secret[128], code[16], wrong[16], path[400], out[8192];
	struct it_http r;
	char bosspw[128];

	it_start_opts("mfa_a_code_is_asked_accepted_once_and_kept_sealed", users, &o);
	snprintf(bosspw, sizeof bosspw, "%s", it_password("boss"));

	/* mfa = admins: an administrator with no code enrolled cannot log in; staff can */
	IT_ASSERT(it_login_otp("boss", bosspw, "", &r) == 403 &&
		      strcmp(r.error, "mfa_not_enrolled") == 0,
		  "boss, not enrolled: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), "", &r) == 200, "clerk: %d %s",
		  r.status, r.body);

	/* ops enrols boss (the admin API asks no code) */
	it_totp_enroll("ops", "boss", secret, sizeof secret);
	IT_ASSERT(it_admin("GET", "/api/v1/users/boss/totp", "ops", NULL, &r) == 200 &&
		      it_json_bool(r.body, "enrolled") == 1,
		  "GET .../totp: %d %s", r.status, r.body);

	IT_ASSERT(it_login_otp("boss", bosspw, "", &r) == 401 &&
		      strcmp(r.error, "otp_required") == 0,
		  "boss without a code: %d %s", r.status, r.body);
	it_totp_code(secret, code);
	snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 500000) % 1000000);
	IT_ASSERT(it_login_otp("boss", bosspw, wrong, &r) == 401 &&
		      strcmp(r.error, "otp_invalid") == 0,
		  "boss with a wrong code: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("boss", "not-the-password", code, &r) == 401 &&
		      strcmp(r.error, "invalid_credentials") == 0,
		  "a wrong password with the right code: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("boss", bosspw, "12ab56", &r) == 400, "a code of letters: %d %s",
		  r.status, r.body);
	IT_ASSERT(it_login_otp("boss", bosspw, code, &r) == 200, "boss with the code: %d %s",
		  r.status, r.body);
	IT_ASSERT(it_login_otp("boss", bosspw, code, &r) == 401 &&
		      strcmp(r.error, "otp_invalid") == 0,
		  "boss with the same code again: %d %s", r.status, r.body);
	IT_ASSERT(it_audit_count("login_ok", "user", "boss", "mfa", "totp", NULL) == 1,
		  "not one login_ok of boss with mfa totp");
	IT_ASSERT(
	    it_audit_count("login_fail", "user", "boss", "reason", "mfa_not_enrolled", NULL) == 1 &&
		it_audit_count("login_fail", "user", "boss", "reason", "otp_missing", NULL) == 1 &&
		it_audit_count("login_fail", "user", "boss", "reason", "otp_invalid", NULL) == 1 &&
		it_audit_count("login_fail", "user", "boss", "reason", "otp_reused", NULL) == 1,
	    "the refusals of boss are not each audited once");
	IT_ASSERT(it_audit_count("admin_action", "action", "totp_enroll", "target", "boss", NULL) ==
		      1,
		  "the enrolment is not audited");

	/* the secret is sealed at rest */
	snprintf(path, sizeof path, "%s/totp.json", it.state_dir);
	IT_ASSERT(it_run(out, sizeof out, "cat '%s'", path) == 0, "%s: %s", path, out);
	IT_ASSERT(strstr(out, "\"boss\"") != NULL && strstr(out, secret) == NULL,
		  "totp.json holds the secret in clear, or not boss: %s", out);
	IT_ASSERT(it_run(out, sizeof out, "stat -c %%a '%s'", path) == 0 && atoi(out) == 600,
		  "totp.json mode %s", out);

	/* a restart does not make the used code good again */
	it_restart_daemon();
	IT_ASSERT(it_login_otp("boss", bosspw, code, &r) == 401 &&
		      strcmp(r.error, "otp_invalid") == 0,
		  "the used code after a restart: %d %s", r.status, r.body);

	/* staff with a code enrolled are asked for it; removed, they are not */
	mt_ctl_enroll("boss", "clerk", clerk_secret, sizeof clerk_secret);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), "", &r) == 401 &&
		      strcmp(r.error, "otp_required") == 0,
		  "clerk, enrolled, without a code: %d %s", r.status, r.body);
	it_totp_code(clerk_secret, code);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), code, &r) == 200,
		  "clerk with the code: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("DELETE", "/api/v1/users/clerk/totp", "boss", NULL, &r) == 200,
		  "DELETE .../totp: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), "", &r) == 200,
		  "clerk after the removal: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("DELETE", "/api/v1/users/clerk/totp", "boss", NULL, &r) == 404,
		  "DELETE again: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("POST", "/api/v1/users/nobody/totp", "boss", NULL, &r) == 404,
		  "enrol a user that does not exist: %d %s", r.status, r.body);
	/* nobody gives their own account a new code with a password alone */
	IT_ASSERT(it_admin("POST", "/api/v1/users/boss/totp", "boss", NULL, &r) == 409 &&
		      strcmp(r.error, "self") == 0,
		  "boss enrolled their own code: %d %s", r.status, r.body);

	/* the code's use cannot be written: refused, not taken on trust (and
	   the step is used all the same) */
	it_totp_enroll("boss", "clerk", clerk_secret, sizeof clerk_secret);
	IT_ASSERT(it_run(out, sizeof out, "chmod 0500 '%s' 2>&1", it.state_dir) == 0, "%s", out);
	it_totp_code(clerk_secret, code);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), code, &r) == 503 &&
		      strcmp(r.error, "mfa_unavailable") == 0,
		  "a code whose use cannot be written: %d %s", r.status, r.body);
	IT_ASSERT(it_run(out, sizeof out, "chmod 0700 '%s' 2>&1", it.state_dir) == 0, "%s", out);
	IT_ASSERT(it_login_otp("clerk", it_password("clerk"), code, &r) == 401 &&
		      strcmp(r.error, "otp_invalid") == 0,
		  "the same code again: %d %s", r.status, r.body);

	/* the key gone while codes are enrolled: the gateway does not start */
	it_stop_daemon(10);
	snprintf(path, sizeof path, "%s/totp.key", it.dir);
	IT_ASSERT(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
	/* with mfa = off too: the enrolled users' codes must not stop being asked */
	IT_ASSERT(it_run(out, sizeof out, "sed -i 's/^mfa = admins$/mfa = off/' '%s' 2>&1",
			 it.conf_file) == 0,
		  "%s", out);
	int rc = it_run(out, sizeof out, "%s/pixelgate -n -c '%s' 2>&1", PIXELGATE_BUILD_DIR,
			it.conf_file);
	IT_ASSERT(rc != 0 && strstr(out, "totp_key_file") != NULL &&
		      strstr(out, "is missing") != NULL,
		  "pixelgate -n without the key: exit %d: %s", rc, out);
}

/* The admin API's password-only requests do not forget the failed codes of
   the name, and codes are checked against the lockout. */
IT_TEST(mfa, the_admin_api_does_not_forget_failed_codes, .timeout = 120)
{
	static const char *const admins[] = { "boss", "ops", NULL };
	struct it_opts o = { .admins = admins,
			     .before_daemon = it_mfa_world,
			     .extra_conf = "login_max_failures = 3\n" };
	char secret[128], code[16], wrong[16];
	struct it_http r;

	it_start_opts("mfa_the_admin_api_does_not_forget_failed_codes", NULL, &o);
	it_totp_enroll("ops", "boss", secret, sizeof secret);
	it_totp_code(secret, code);
	snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 500000) % 1000000);
	for (int i = 0; i < 2; i++)
		IT_ASSERT(it_login_otp("boss", it_password("boss"), wrong, &r) == 401 &&
			      strcmp(r.error, "otp_invalid") == 0,
			  "wrong code %d: %d %s", i + 1, r.status, r.body);
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "boss", NULL, &r) == 200, "%d %s", r.status,
		  r.body);
	IT_ASSERT(it_login_otp("boss", it_password("boss"), wrong, &r) == 401,
		  "wrong code 3: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("boss", it_password("boss"), code, &r) == 429 &&
		      strcmp(r.error, "locked") == 0,
		  "after 3 wrong codes (one admin request between): %d %s", r.status, r.body);
}
