/*
 * test_admin_auth.c: the admin API's credentials go through the staff
 * login's authentication path (issue 11 item 2, gateway_auth.c).
 *
 * From one address (127.0.0.1), with login_max_failures 3: a staff user's
 * right password on the admin API is 403 forbidden and audited; one wrong
 * staff password and two wrong admin passwords lock the address, so the
 * staff login and the admin API are both refused with 429 locked; each
 * wrong password is one login_fail record (the admin API's with
 * "via":"admin"), each listener's lockout refusals one login_refused_locked
 * record; /metrics counts the admin API's failures and lockout refusals as
 * it counts the staff login's; the log verifies.
 */
#include "harness.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define AA_ADMIN "aa-admin"
#define AA_STAFF "aa-staff"

IT_TEST(admin_auth, wrong_admin_password_is_audited_and_locks_out, .timeout = 240)
{
	static const char *const users[] = { AA_STAFF, NULL };
	static const char *const admins[] = { AA_ADMIN, NULL };
	static const struct it_opts opts = {
		.admins = admins, .extra_conf = "login_max_failures = 3\nlogin_lockout_s = 5\n"
	};
	struct it_http r;
	char out[4096];

	it_start_opts("admin_auth_lockout", users, &opts);

	/* a staff user's right password is not an administrator's: 403, audited, no failure */
	it_admin("GET", "/api/v1/limits", AA_STAFF, NULL, &r);
	IT_ASSERT(r.status == 403 && strcmp(r.error, "forbidden") == 0,
		  "staff user on the admin API: %d \"%s\" (%s), want 403 forbidden", r.status,
		  r.error, r.body);

	/* one wrong staff password, two wrong admin passwords: the address is locked */
	it_login_http(AA_STAFF, "wrong-password", false, &r);
	IT_ASSERT(r.status == 401 && strcmp(r.error, "invalid_credentials") == 0,
		  "wrong staff password: %d \"%s\" (%s), want 401", r.status, r.error, r.body);
	for (int i = 1; i <= 2; i++) {
		it_http(&it.admin_srv, "GET", "/api/v1/limits", AA_ADMIN, "wrong-password", NULL,
			&r);
		IT_ASSERT(r.status == 401 && strcmp(r.error, "unauthorized") == 0,
			  "wrong admin password %d: %d \"%s\" (%s), want 401 unauthorized", i,
			  r.status, r.error, r.body);
	}
	it_login_http(AA_STAFF, it_password(AA_STAFF), false, &r);
	IT_ASSERT(r.status == 429 && strcmp(r.error, "locked") == 0 && r.retry_after_s >= 1,
		  "staff login after 1 staff + 2 admin failures (login_max_failures 3): %d \"%s\" "
		  "(%s), want 429 locked",
		  r.status, r.error, r.body);
	it_admin("GET", "/api/v1/limits", AA_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 429 && strcmp(r.error, "locked") == 0 && r.retry_after_s >= 1,
		  "admin API, right password, address locked: %d \"%s\" (%s), want 429 locked",
		  r.status, r.error, r.body);

	/* the lockout lifts; /metrics counts both listeners alike */
	it_sleep_ms(6000);
	it_admin("GET", "/metrics", AA_ADMIN, NULL, &r);
	IT_ASSERT(r.status == 200, "GET /metrics after the lockout: %d %s", r.status, r.body);
	IT_ASSERT(it_metric(r.body, "pixelgate_logins_total{result=\"failed\"}") == 3,
		  "pixelgate_logins_total{result=\"failed\"} %g, want 3 (1 staff, 2 admin API)",
		  it_metric(r.body, "pixelgate_logins_total{result=\"failed\"}"));
	IT_ASSERT(it_metric(r.body, "pixelgate_refusals_total{reason=\"locked\"}") == 2,
		  "pixelgate_refusals_total{reason=\"locked\"} %g, want 2 (1 staff, 1 admin API)",
		  it_metric(r.body, "pixelgate_refusals_total{reason=\"locked\"}"));

	/* the audit log: written whole at shutdown (the aggregates) */
	int st = it_stop_daemon(IT_DAEMON_STOP_S);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %d", st);
	json_t *recs = it_audit_records(NULL), *rec;
	int n;
	it_audit_match(recs, &n, "login_fail", "user", AA_STAFF, "via", "admin", "reason",
		       "not_admin", NULL);
	IT_ASSERT(n == 1, "%d login_fail {reason not_admin, via admin} of %s, want 1", n, AA_STAFF);
	it_audit_match(recs, &n, "login_fail", "user", AA_STAFF, "via", "", "reason",
		       "invalid_credentials", NULL);
	IT_ASSERT(n == 1, "%d login_fail {reason invalid_credentials} of %s, want 1", n, AA_STAFF);
	it_audit_match(recs, &n, "login_fail", "user", AA_ADMIN, "via", "admin", "reason",
		       "invalid_credentials", NULL);
	IT_ASSERT(n == 2, "%d login_fail {reason invalid_credentials, via admin} of %s, want 2", n,
		  AA_ADMIN);
	it_audit_match(recs, &n, "login_fail", "user", AA_ADMIN, "via", "", NULL);
	IT_ASSERT(n == 0, "%d login_fail of %s without via, want 0", n, AA_ADMIN);
	rec = it_audit_match(recs, &n, "login_refused_locked", "user", "", "via", "", "reason",
			     "locked_out", NULL);
	IT_ASSERT(n == 1 && it_rec_int(rec, "count") == 1,
		  "%d login_refused_locked records of the staff login counting %lld, want 1 "
		  "counting 1",
		  n, it_rec_int(rec, "count"));
	rec = it_audit_match(recs, &n, "login_refused_locked", "user", "", "via", "admin", "reason",
			     "locked_out", NULL);
	IT_ASSERT(n == 1 && it_rec_int(rec, "count") == 1,
		  "%d login_refused_locked records via admin counting %lld, want 1 counting 1", n,
		  it_rec_int(rec, "count"));
	json_decref(recs);
	int rc = it_run(out, sizeof out,
			"'%s/pixelgatectl' audit verify --dir '%s' --key-file '%s'",
			PIXELGATE_BUILD_DIR, it.audit_dir, it.audit_key);
	IT_ASSERT(rc == 0 && strncmp(out, "OK", 2) == 0, "audit verify: exit %d: %s", rc, out);
}
