/*
 * test_ldap.c: the directory client (proxy/common/ldap_auth.c, issue 14)
 * against Debian's slapd on 127.0.0.1, started by the test with a generated
 * database: users, groups, a disabled account, a user in no group, the
 * service account. TLS with the test world's CA and 127.0.0.1 certificate
 * (ldaps:// and ldap:// with StartTLS). The gateway's login does not use it
 * yet: these tests show what it will rely on.
 */
#include "harness.h"

#include <errno.h>
#include <ldap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldap_auth.h"

#define LT_SLAPD "/usr/sbin/slapd"
#define LT_SLAPADD "/usr/sbin/slapadd"
#define LT_READY_S 30
#define LT_SUFFIX "dc=city,dc=example"
#define LT_SERVICE_DN "cn=pixelgate,ou=service," LT_SUFFIX
#define LT_SERVICE_PW "service-secret"
#define LT_ROOT_DN "cn=admin," LT_SUFFIX
#define LT_ROOT_PW "root-secret"

static struct {
	pid_t pid;
	int ldaps_port, ldap_port;
	char dir[320];
} lt;

static void lt_run_slapd(void);

/* slapd with its database under it.dir/ldap, listening on two free ports. */
static void lt_start_slapd(void)
{
	char conf[400], ldif[400], out[512];
	FILE *f;

	snprintf(lt.dir, sizeof lt.dir, "%s/ldap", it.dir);
	IT_ASSERT(mkdir(lt.dir, 0700) == 0, "mkdir %s: %s", lt.dir, strerror(errno));
	snprintf(conf, sizeof conf, "%s/slapd.conf", lt.dir);
	f = fopen(conf, "w");
	IT_ASSERT(f != NULL, "%s: %s", conf, strerror(errno));
	fprintf(f,
		"include /etc/ldap/schema/core.schema\n"
		"include /etc/ldap/schema/cosine.schema\n"
		"include /etc/ldap/schema/inetorgperson.schema\n"
		"include /etc/ldap/schema/nis.schema\n"
		"pidfile %s/slapd.pid\n"
		"argsfile %s/slapd.args\n"
		"modulepath /usr/lib/ldap\n"
		"moduleload back_mdb\n"
		"TLSCACertificateFile %s/ca.crt\n"
		"TLSCertificateFile %s/server.crt\n"
		"TLSCertificateKeyFile %s/server.key\n"
		"database mdb\n"
		"maxsize 16777216\n"
		"directory %s\n"
		"suffix \"" LT_SUFFIX "\"\n"
		"rootdn \"" LT_ROOT_DN "\"\n"
		"rootpw " LT_ROOT_PW "\n"
		"access to attrs=userPassword by self write by anonymous auth by * none\n"
		"access to * by dn.exact=\"" LT_SERVICE_DN "\" read by self read by * none\n",
		lt.dir, lt.dir, it.dir, it.dir, it.dir, lt.dir);
	fclose(f);
	snprintf(ldif, sizeof ldif, "%s/data.ldif", lt.dir);
	f = fopen(ldif, "w");
	IT_ASSERT(f != NULL, "%s: %s", ldif, strerror(errno));
	fprintf(f,
		"dn: " LT_SUFFIX "\nobjectClass: dcObject\nobjectClass: organization\n"
		"dc: city\no: city\n\n"
		"dn: ou=people," LT_SUFFIX "\nobjectClass: organizationalUnit\nou: people\n\n"
		"dn: ou=groups," LT_SUFFIX "\nobjectClass: organizationalUnit\nou: groups\n\n"
		"dn: ou=service," LT_SUFFIX "\nobjectClass: organizationalUnit\nou: service\n\n"
		"dn: " LT_SERVICE_DN "\nobjectClass: person\ncn: pixelgate\nsn: service\n"
		"userPassword: " LT_SERVICE_PW "\n\n");
	static const char *const people[][2] = {
		/* uid (the password is it_password(uid)), employeeType */
		{ "alice", "staff" }, { "carol", "staff" }, { "dave", "disabled" },
		{ "erin", "staff" },  { "frank", "staff" }, { "root-admin", "staff" },
	};
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
		fprintf(f,
			"dn: uid=%s,ou=people," LT_SUFFIX "\nobjectClass: inetOrgPerson\n"
			"uid: %s\ncn: %s\nsn: %s\nuserPassword: %s\nemployeeType: %s\n\n",
			people[i][0], people[i][0], people[i][0], people[i][0],
			it_password(people[i][0]), people[i][1]);
	fprintf(f,
		"dn: cn=pixelgate-staff,ou=groups," LT_SUFFIX "\nobjectClass: groupOfNames\n"
		"cn: pixelgate-staff\nmember: uid=alice,ou=people," LT_SUFFIX "\n"
		"member: uid=dave,ou=people," LT_SUFFIX "\nmember: uid=frank,ou=people," LT_SUFFIX
		"\nmember: uid=root-admin,ou=people," LT_SUFFIX "\n\n"
		"dn: cn=pixelgate-admins,ou=groups," LT_SUFFIX "\nobjectClass: groupOfNames\n"
		"cn: pixelgate-admins\nmember: uid=carol,ou=people," LT_SUFFIX "\n\n"
		"dn: cn=kiosk,ou=groups," LT_SUFFIX "\nobjectClass: groupOfNames\n"
		"cn: kiosk\nmember: uid=alice,ou=people," LT_SUFFIX "\n\n");
	fclose(f);
	IT_ASSERT(it_run(out, sizeof out, "%s -f '%s' -l '%s' 2>&1", LT_SLAPADD, conf, ldif) == 0,
		  "slapadd: %s", out);
	if (lt.ldaps_port == 0) {
		lt.ldaps_port = it_free_port();
		lt.ldap_port = it_free_port();
	}
	lt_run_slapd();
}

/* slapd on lt's database and ports (again, after it_extra_stop()). */
static void lt_run_slapd(void)
{
	char conf[400], urls[200], out[512];
	char *argv[] = { LT_SLAPD, "-f", conf, "-h", urls, "-d", "0", NULL };

	snprintf(conf, sizeof conf, "%s/slapd.conf", lt.dir);
	snprintf(urls, sizeof urls, "ldaps://127.0.0.1:%d/ ldap://127.0.0.1:%d/", lt.ldaps_port,
		 lt.ldap_port);
	snprintf(out, sizeof out, "%s/slapd.log", it.dir);
	lt.pid = it_extra_start("slapd", argv, NULL, -1, out);
	for (double end = it_now_s() + LT_READY_S;
	     !(it_port_open(lt.ldaps_port) && it_port_open(lt.ldap_port)); it_sleep_ms(100))
		IT_ASSERT(it_now_s() < end && it_extra_running(lt.pid, NULL),
			  "slapd did not listen on %s within %d s", urls, LT_READY_S);
}

/* The gateway's settings for this directory (ldaps:// unless starttls). */
static struct ldap_auth_conf lt_conf(bool starttls)
{
	struct ldap_auth_conf c;

	memset(&c, 0, sizeof c);
	snprintf(c.uri, sizeof c.uri, "%s://127.0.0.1:%d", starttls ? "ldap" : "ldaps",
		 starttls ? lt.ldap_port : lt.ldaps_port);
	snprintf(c.ca_file, sizeof c.ca_file, "%s", it.ca_file);
	snprintf(c.bind_dn, sizeof c.bind_dn, "%s", LT_SERVICE_DN);
	snprintf(c.bind_password, sizeof c.bind_password, "%s", LT_SERVICE_PW);
	snprintf(c.base_dn, sizeof c.base_dn, "ou=people," LT_SUFFIX);
	/* disabled accounts are left out by the filter, as on AD with
	   userAccountControl's ACCOUNTDISABLE bit */
	snprintf(c.user_filter, sizeof c.user_filter,
		 "(&(objectClass=inetOrgPerson)(uid=%%s)(!(employeeType=disabled)))");
	snprintf(c.staff_group, sizeof c.staff_group, "cn=pixelgate-staff,ou=groups," LT_SUFFIX);
	snprintf(c.admin_group, sizeof c.admin_group, "cn=pixelgate-admins,ou=groups," LT_SUFFIX);
	snprintf(c.name_attribute, sizeof c.name_attribute, "uid");
	snprintf(c.policy_groups[0], sizeof c.policy_groups[0], "cn=kiosk,ou=groups," LT_SUFFIX);
	c.n_policy_groups = 1;
	c.timeout_ms = 3000;
	return c;
}

static enum ldap_auth_result lt_login(const struct ldap_auth_conf *c, const char *user,
				      const char *pw, struct ldap_auth_outcome *o)
{
	enum ldap_auth_result r = ldap_auth_login(c, user, pw, o);

	fprintf(stderr, "[%s] %s: %s (%s)\n", it.test_name, user,
		r == LDAP_AUTH_OK            ? "ok"
		    : r == LDAP_AUTH_REFUSED ? "refused"
					     : "unavailable",
		o->why[0] ? o->why : o->dn);
	return r;
}

/* Delete dn as the directory's root (an account removed in April). */
static void lt_delete(const char *dn)
{
	struct berval cred = { .bv_len = strlen(LT_ROOT_PW), .bv_val = LT_ROOT_PW };
	int v3 = LDAP_VERSION3, zero = 0, rc;
	LDAP *ld = NULL;
	char uri[64];

	snprintf(uri, sizeof uri, "ldaps://127.0.0.1:%d", lt.ldaps_port);
	IT_ASSERT(ldap_initialize(&ld, uri) == LDAP_SUCCESS, "ldap_initialize %s", uri);
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, it.ca_file);
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	rc = ldap_sasl_bind_s(ld, LT_ROOT_DN, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	IT_ASSERT(rc == LDAP_SUCCESS, "bind as the directory's root: %s", ldap_err2string(rc));
	rc = ldap_delete_ext_s(ld, dn, NULL, NULL);
	ldap_unbind_ext_s(ld, NULL, NULL);
	IT_ASSERT(rc == LDAP_SUCCESS, "deleting %s: %s", dn, ldap_err2string(rc));
}

/* 1. Sign-in over LDAPS and over StartTLS; the groups decide the role. */
IT_TEST(ldap, signs_in_with_the_groups_as_roles)
{
	static const char *const users[] = { "nobody", NULL };
	struct ldap_auth_outcome o;

	it_start("ldap_signs_in_with_the_groups_as_roles", users);
	lt_start_slapd();
	for (int tls = 0; tls < 2; tls++) {
		struct ldap_auth_conf c = lt_conf(tls == 1);
		char err[256];

		IT_ASSERT(ldap_auth_conf_check(&c, err, sizeof err) == 0, "%s", err);
		IT_ASSERT(lt_login(&c, "alice", it_password("alice"), &o) == LDAP_AUTH_OK &&
			      o.role == LDAP_ROLE_STAFF,
			  "%s: alice (staff) not signed in as staff: %s", c.uri, o.why);
		IT_ASSERT(strcmp(o.dn, "uid=alice,ou=people," LT_SUFFIX) == 0, "alice's DN %s",
			  o.dn);
		IT_ASSERT(lt_login(&c, "carol", it_password("carol"), &o) == LDAP_AUTH_OK &&
			      o.role == LDAP_ROLE_ADMIN,
			  "%s: carol (admins) not signed in as admin: %s", c.uri, o.why);
	}
}

/* 2. Every refusal is the same refusal: a wrong or empty password, an
   unknown user, a disabled one, one in no group, and names that would
   change the filter if they were not escaped. A removed account is
   refused from the next sign-in on. */
IT_TEST(ldap, refusals_look_alike_and_names_cannot_inject)
{
	static const char *const users[] = { "nobody", NULL };
	static const char *const hostile[] = {
		"*", "a*", "alice)(uid=*", "*)(|(uid=*", "alice)(employeeType=*", "carol\\2a"
	};
	struct ldap_auth_conf c;
	struct ldap_auth_outcome o;

	it_start("ldap_refusals_look_alike_and_names_cannot_inject", users);
	lt_start_slapd();
	c = lt_conf(false);
	IT_ASSERT(lt_login(&c, "alice", "wrong", &o) == LDAP_AUTH_REFUSED, "wrong password");
	IT_ASSERT(lt_login(&c, "alice", "", &o) == LDAP_AUTH_REFUSED, "empty password");
	IT_ASSERT(lt_login(&c, "zoe", it_password("zoe"), &o) == LDAP_AUTH_REFUSED, "unknown user");
	IT_ASSERT(lt_login(&c, "dave", it_password("dave"), &o) == LDAP_AUTH_REFUSED,
		  "dave is disabled (employeeType) but signed in");
	IT_ASSERT(lt_login(&c, "erin", it_password("erin"), &o) == LDAP_AUTH_REFUSED &&
		      strstr(o.why, "neither group") != NULL,
		  "erin is in no group but: %s", o.why);
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		IT_ASSERT(lt_login(&c, hostile[i], it_password("alice"), &o) == LDAP_AUTH_REFUSED &&
			      o.role == LDAP_ROLE_NONE,
			  "the name \"%s\" signed in (%s)", hostile[i], o.dn);
		IT_ASSERT(lt_login(&c, hostile[i], it_password("carol"), &o) == LDAP_AUTH_REFUSED,
			  "the name \"%s\" signed in with carol's password", hostile[i]);
	}

	/* frank signs in, is removed from the directory, and is refused next time */
	IT_ASSERT(lt_login(&c, "frank", it_password("frank"), &o) == LDAP_AUTH_OK, "frank: %s",
		  o.why);
	lt_delete("uid=frank,ou=people," LT_SUFFIX);
	IT_ASSERT(lt_login(&c, "frank", it_password("frank"), &o) == LDAP_AUTH_REFUSED,
		  "frank was removed from the directory but signed in");
}

/* 3. A directory that cannot be reached safely is "unavailable" (503),
   never a refusal: a certificate from another CA, a service account that
   cannot bind, slapd stopped. */
IT_TEST(ldap, an_unreachable_directory_is_unavailable)
{
	static const char *const users[] = { "nobody", NULL };
	struct ldap_auth_conf c;
	struct ldap_auth_outcome o;
	char other_ca[400], out[512];
	double t0;

	it_start("ldap_an_unreachable_directory_is_unavailable", users);
	lt_start_slapd();

	snprintf(other_ca, sizeof other_ca, "%s/other-ca.crt", lt.dir);
	IT_ASSERT(it_run(out, sizeof out,
			 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
			 "-keyout '%s/other-ca.key' -out '%s' -days 2 -subj '/CN=another CA' 2>&1",
			 lt.dir, other_ca) == 0,
		  "openssl: %s", out);
	for (int tls = 0; tls < 2; tls++) {
		c = lt_conf(tls == 1);
		snprintf(c.ca_file, sizeof c.ca_file, "%s", other_ca);
		IT_ASSERT(lt_login(&c, "alice", it_password("alice"), &o) == LDAP_AUTH_UNAVAILABLE,
			  "%s with a certificate from another CA: not unavailable", c.uri);
	}
	c = lt_conf(false);
	snprintf(c.bind_password, sizeof c.bind_password, "not-the-service-password");
	IT_ASSERT(lt_login(&c, "alice", it_password("alice"), &o) == LDAP_AUTH_UNAVAILABLE,
		  "a service account that cannot bind: not unavailable");

	c = lt_conf(false);
	IT_ASSERT(lt_login(&c, "alice", it_password("alice"), &o) == LDAP_AUTH_OK, "alice: %s",
		  o.why);
	it_extra_stop(lt.pid, 10);
	t0 = it_now_s();
	IT_ASSERT(lt_login(&c, "alice", it_password("alice"), &o) == LDAP_AUTH_UNAVAILABLE,
		  "slapd stopped: not unavailable");
	IT_ASSERT(it_now_s() - t0 < 10, "the refusal took %.1f s", it_now_s() - t0);
}

/* 4. One connection serves sign-in after sign-in, and is made again when
   the directory restarts; the name is the directory's spelling; the policy
   groups are reported. */
IT_TEST(ldap, one_connection_is_kept_and_made_again)
{
	static const char *const users[] = { "nobody", NULL };
	struct ldap_auth_conn conn = { 0 };
	struct ldap_auth_conf c;
	struct ldap_auth_outcome o;

	/* as in the gateway: a write to a connection the directory closed is EPIPE */
	signal(SIGPIPE, SIG_IGN);
	it_start("ldap_one_connection_is_kept_and_made_again", users);
	lt_start_slapd();
	c = lt_conf(true);
	IT_ASSERT(ldap_auth_login_on(&conn, &c, "ALICE", it_password("alice"), &o) == LDAP_AUTH_OK,
		  "ALICE: %s", o.why);
	IT_ASSERT(strcmp(o.name, "alice") == 0 && o.policy_groups == 1u,
		  "ALICE signed in as \"%s\" with policy groups %#x, not as alice with kiosk",
		  o.name, o.policy_groups);
	IT_ASSERT(ldap_auth_login_on(&conn, &c, "alice", "wrong", &o) == LDAP_AUTH_REFUSED,
		  "wrong password");
	IT_ASSERT(ldap_auth_login_on(&conn, &c, "carol", it_password("carol"), &o) ==
			  LDAP_AUTH_OK &&
		      o.role == LDAP_ROLE_ADMIN && o.policy_groups == 0,
		  "carol (admin, no policy group): %s role %d groups %#x", o.why, (int)o.role,
		  o.policy_groups);
	IT_ASSERT(ldap_auth_login_on(&conn, &c, "zoe", "x", &o) == LDAP_AUTH_REFUSED, "zoe");
	IT_ASSERT(conn.opens == 1, "4 sign-ins made %lu connections, not 1", conn.opens);

	it_extra_stop(lt.pid, 10);
	lt_run_slapd();
	IT_ASSERT(ldap_auth_login_on(&conn, &c, "alice", it_password("alice"), &o) == LDAP_AUTH_OK,
		  "after slapd's restart: %s", o.why);
	IT_ASSERT(conn.opens == 2, "after the restart: %lu connections made, not 2", conn.opens);
	ldap_auth_conn_close(&conn);
}

/* ---- the gateway with [auth] backend = ldap ---------------------------------------- */

#define LT_FLOOR_MS 400 /* [ldap] answer_floor_ms of these tests */

/* Sections appended after [ldap] by lt_daemon_world() ({port}: the page server's port). */
static const char *lt_after_ldap = "";

/* it_opts.before_daemon: slapd, the service password, [auth] and [ldap] appended. */
static void lt_daemon_world(void)
{
	char pw_file[400], text[4096];
	FILE *f;

	lt_start_slapd();
	snprintf(pw_file, sizeof pw_file, "%s/ldap.password", it.dir);
	it_write_file(pw_file, LT_SERVICE_PW "\n", 0600);
	snprintf(text, sizeof text,
		 "[auth]\nbackend = ldap\n"
		 "[ldap]\nuri = ldaps://127.0.0.1:%d\nca_file = %s\nbind_dn = " LT_SERVICE_DN "\n"
		 "bind_password_file = %s\nbase_dn = ou=people," LT_SUFFIX "\n"
		 "user_filter = (&(objectClass=inetOrgPerson)(uid=%%s)(!(employeeType=disabled)))\n"
		 "name_attribute = uid\n"
		 "staff_group = cn=pixelgate-staff,ou=groups," LT_SUFFIX "\n"
		 "admin_group = cn=pixelgate-admins,ou=groups," LT_SUFFIX "\n"
		 "timeout_ms = 3000\nanswer_floor_ms = %d\n",
		 lt.ldaps_port, it.ca_file, pw_file, LT_FLOOR_MS);
	{ /* {port}: the page server's */
		const char *at = strstr(lt_after_ldap, "{port}");
		size_t used = strlen(text);
		if (at == NULL)
			snprintf(text + used, sizeof text - used, "%s", lt_after_ldap);
		else
			snprintf(text + used, sizeof text - used, "%.*s%d%s",
				 (int)(at - lt_after_ldap), lt_after_ldap, it.page_port, at + 6);
	}
	f = fopen(it.conf_file, "a");
	IT_ASSERT(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "%s: %s", it.conf_file,
		  strerror(errno));
}

/* A login's status, with how long the answer took in *ms. */
static int lt_login_timed(const char *user, const char *password, struct it_http *r, double *ms)
{
	double t0 = it_now_s();
	int st = it_login_http(user, password, false, r);

	*ms = (it_now_s() - t0) * 1000;
	fprintf(stderr, "[%s] login %s: %d %s (%.0f ms)\n", it.test_name, user, st, r->error, *ms);
	return st;
}

/* 5. The gateway signs staff and administrators in with the directory:
   roles from the groups, the directory's spelling of the name, every
   refusal the same 401 after the same floor, users_file first. */
IT_TEST(directory, staff_and_admins_sign_in_with_the_directory, .timeout = 300)
{
	static const char *const admins[] = { "root-admin", NULL };
	static const char *const refused[][2] = {
		{ "alice", "wrong" },
		{ "zoe", "pw-zoe-Zq7!" },
		{ "dave", "pw-dave-Zq7!" }, /* disabled */
		{ "erin", "pw-erin-Zq7!" }, /* in no group */
		{ "alice)(uid=*", "x" },
		{ "*", "pw-alice-Zq7!" },
		{ "ROOT-ADMIN",
		  "pw-root-admin-Zq7!" }, /* the directory's name of a local account */
	};
	/* all from one address: more failures than the default 5 before a lockout */
	struct it_opts o = { .admins = admins,
			     .before_daemon = lt_daemon_world,
			     .extra_conf = "login_max_failures = 50\n" };
	struct it_session s[4];
	struct it_http r;
	char body[sizeof r.body];
	struct pgc_conn *c;
	double ms;
	int n;

	it_start_opts("directory_staff_and_admins_sign_in_with_the_directory", NULL, &o);

	/* staff from the directory: a session, audited with the DN */
	c = it_login_connect("alice", 1024, 768);
	IT_ASSERT(it_pump_for(c, 500), "alice's session closed");
	json_t *rec = it_audit_find(&n, "login_ok", "user", "alice", NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "dn"), "uid=alice,ou=people," LT_SUFFIX) == 0,
		  "%d login_ok records of alice; dn \"%s\"", n, rec ? it_rec_str(rec, "dn") : "");
	json_decref(rec);
	/* "ALICE" is alice: the same session, not a second one */
	IT_ASSERT(lt_login_timed("ALICE", it_password("alice"), &r, &ms) == 200, "ALICE: %s",
		  r.body);
	IT_ASSERT(ms >= LT_FLOOR_MS - 5, "ALICE's answer took %.0f ms, under the floor", ms);
	n = it_sessions("root-admin", s, 4);
	IT_ASSERT(n == 1 && strcmp(s[0].user, "alice") == 0, "%d sessions, the first of \"%s\"", n,
		  n > 0 ? s[0].user : "");

	/* administrators from the directory's admin group; staff are not */
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "carol", NULL, &r) == 200,
		  "carol (admin_group) on the admin API: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "alice", NULL, &r) == 403 &&
		      strcmp(r.error, "forbidden") == 0,
		  "alice (staff) on the admin API: %d %s", r.status, r.body);
	/* the local account still signs in (break-glass) */
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "root-admin", NULL, &r) == 200,
		  "root-admin (users_file) on the admin API: %d %s", r.status, r.body);

	/* every refusal alike: status, body, and no quicker than the floor */
	body[0] = '\0';
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		IT_ASSERT(lt_login_timed(refused[i][0], refused[i][1], &r, &ms) == 401, "%s: %d %s",
			  refused[i][0], r.status, r.body);
		IT_ASSERT(ms >= LT_FLOOR_MS - 5, "the refusal of %s took %.0f ms, under %d ms",
			  refused[i][0], ms, LT_FLOOR_MS);
		if (body[0] == '\0')
			snprintf(body, sizeof body, "%s", r.body);
		IT_ASSERT(strcmp(body, r.body) == 0, "%s refused with \"%s\", alice with \"%s\"",
			  refused[i][0], r.body, body);
	}
	IT_ASSERT(it_file_count(it.daemon_log, "which is also an account of users_file") == 1,
		  "the log does not say why ROOT-ADMIN was refused");
	/* the directory's reasons stay in the log */
	IT_ASSERT(strstr(body, "neither") == NULL && strstr(body, "uid=") == NULL,
		  "the refusal shows the directory's reason: %s", body);
	IT_ASSERT(it_file_count(it.daemon_log, "is in neither group") == 1,
		  "the log does not say that erin is in no group");

	/* pixelgate -n tries the service account's bind */
	{
		char out[2048];
		int rc = it_run(out, sizeof out, "%s/pixelgate -n -c '%s' 2>&1",
				PIXELGATE_BUILD_DIR, it.conf_file);
		IT_ASSERT(rc == 0 &&
			      strstr(out, "the service account " LT_SERVICE_DN " binds over TLS") !=
				  NULL &&
			      strstr(out, "configuration OK") != NULL,
			  "pixelgate -n: exit %d: %s", rc, out);
	}

	/* frank signs in, is removed, and is refused from the next login on */
	IT_ASSERT(lt_login_timed("frank", it_password("frank"), &r, &ms) == 200, "frank: %s",
		  r.body);
	lt_delete("uid=frank,ou=people," LT_SUFFIX);
	IT_ASSERT(lt_login_timed("frank", it_password("frank"), &r, &ms) == 401,
		  "frank, removed from the directory: %d %s", r.status, r.body);
	it_conn_free(c);
}

/* 6. The directory goes down: 503 directory_unavailable, never a lockout;
   a running session and the local account go on; back up, sign-in works. */
IT_TEST(directory, a_directory_that_is_down_refuses_with_503, .timeout = 300)
{
	static const char *const admins[] = { "root-admin", NULL };
	struct it_opts o = { .admins = admins, .before_daemon = lt_daemon_world };
	struct it_http r;
	struct pgc_conn *c;
	double ms;

	it_start_opts("directory_a_directory_that_is_down_refuses_with_503", NULL, &o);
	c = it_login_connect("alice", 1024, 768);
	IT_ASSERT(it_pump_for(c, 500), "alice's session closed");

	it_extra_stop(lt.pid, 10);
	/* more than login_max_failures (5): none counts, none is a 401 */
	for (int i = 0; i < 8; i++) {
		IT_ASSERT(lt_login_timed("carol", it_password("carol"), &r, &ms) == 503 &&
			      strcmp(r.error, "directory_unavailable") == 0 && r.retry_after_s > 0,
			  "carol with the directory down: %d %s", r.status, r.body);
		IT_ASSERT(strstr(r.body, "ldap") == NULL && strstr(r.body, "127.0.0.1") == NULL,
			  "the 503 shows the directory's error: %s", r.body);
	}
	IT_ASSERT(it_audit_count("login_fail", "user", "carol", "reason", "directory_unavailable",
				 NULL) == 8,
		  "not 8 login_fail records with reason directory_unavailable");
	IT_ASSERT(it_pump_for(c, 1000), "alice's session ended while the directory was down");
	IT_ASSERT(it_login_http("root-admin", it_password("root-admin"), false, &r) == 200,
		  "the local account with the directory down: %d %s", r.status, r.body);
	it_admin("GET", "/metrics", "root-admin", NULL, &r);
	IT_ASSERT(it_metric(r.body, "pixelgate_refusals_total{reason=\"directory_unavailable\"}") ==
		      8,
		  "the refusals are not in the metrics: %s", r.body);

	/* a failed directory is not asked again for 5 s: the refusals meanwhile
	   came at once from the gateway, not after the directory's timeouts */
	IT_ASSERT(it_file_count(it.daemon_log, "not asked: it failed less than 5 s ago") >= 1,
		  "every refusal asked the dead directory again");
	lt_run_slapd();
	for (double end = it_now_s() + 20;
	     lt_login_timed("carol", it_password("carol"), &r, &ms) != 200; it_sleep_ms(1000))
		IT_ASSERT(it_now_s() < end && r.status == 503,
			  "carol after the directory came back: %d %s", r.status, r.body);
	it_conn_free(c);
}

/* 7. A directory group's policy ([group kiosk]) over the node's: the
   home page, the URL lists in the cell's Chromium policy, the sessions a
   user may have, the idle timeout, recording; members of no [group] keep
   the node's; the admin API and pixelgatectl show both. */
IT_TEST(directory, a_group_policy_overrides_the_node, .timeout = 300)
{
	static const char *const admins[] = { "root-admin", NULL };
	char top[] = "/tmp/pixelgate-grp-XXXXXX", audit[700], path[700], out[16384], needle[200];
	char conf[400];
	struct it_opts o = { .admins = admins,
			     .before_daemon = lt_daemon_world,
			     .extra_conf = "max_sessions_per_user = 2\n" };
	struct it_http r;
	struct pgc_conn *alice, *carol;
	pid_t w;
	int n;

	IT_ASSERT(mkdtemp(top) != NULL && chmod(top, 0711) == 0, "mkdtemp: %s", strerror(errno));
	snprintf(audit, sizeof audit, "recording_dir = %s/rec\n", top);
	o.audit_extra = audit;
	lt_after_ldap = "[group kiosk]\n"
			"dn = cn=kiosk,ou=groups," LT_SUFFIX "\n"
			"home_page = http://127.0.0.1:{port}/page2.html\n"
			"url_blocklist = kiosk-blocked.example.invalid\n"
			"max_sessions_per_user = 1\n"
			"idle_timeout_s = 8\n"
			"recording = on\n";
	it_start_opts("directory_a_group_policy_overrides_the_node", NULL, &o);

	/* alice is in kiosk */
	alice = it_login_connect("alice", 1024, 768);
	IT_ASSERT(it_workers(&w, 1) == 1, "no worker for alice");
	IT_ASSERT(it_cell_path(w, "/etc/chromium/policies/managed/pixelgate.json", path,
			       sizeof path) &&
		      it_run(out, sizeof out, "cat '%s'", path) == 0,
		  "alice's cell has no managed policy");
	IT_ASSERT(strstr(out, "kiosk-blocked.example.invalid") != NULL,
		  "alice's cell's policy lacks the group's blocklist: %s", out);
	snprintf(needle, sizeof needle, "of alice: navigate http://127.0.0.1:%d/page2.html",
		 it.page_port);
	for (double end = it_now_s() + 20; it_file_count(it.daemon_log, needle) == 0;
	     it_pump_for(alice, 200))
		IT_ASSERT(it_now_s() < end, "alice's session did not open the group's home page");
	IT_ASSERT(it_login_http("alice", it_password("alice"), true, &r) == 429 &&
		      strcmp(r.error, "user_limit") == 0,
		  "a second session for alice (kiosk: 1): %d %s", r.status, r.body);
	IT_ASSERT(it_admin("GET", "/api/v1/sessions", "root-admin", NULL, &r) == 200 &&
		      strstr(r.body, "\"policy\":\"kiosk\"") != NULL,
		  "the sessions list does not name alice's policy: %s", r.body);
	json_t *rec = it_audit_find(&n, "login_ok", "user", "alice", NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "policy"), "kiosk") == 0,
		  "alice's login_ok does not name the policy");
	json_decref(rec);
	/* no input: the group's idle timeout (8 s) ends it */
	IT_ASSERT(it_wait_closed(alice, it_now_s() + 30), "alice's idle session was not ended");
	IT_ASSERT(it_file_count(it.daemon_log,
				"of alice: ending (idle): session ended: idle for 8 s") == 1,
		  "the daemon does not say that alice's session ended idle after 8 s");
	it_conn_free(alice);
	IT_ASSERT(it_run(out, sizeof out, "ls '%s/rec' | grep -c 'vncrec$'", top) == 0 &&
		      atoi(out) >= 1,
		  "alice's session (recording = on in kiosk) left no recording: %s", out);

	/* carol is in no [group]: the node's policy */
	carol = it_login_connect("carol", 1024, 768);
	IT_ASSERT(it_workers(&w, 1) == 1, "no worker for carol");
	IT_ASSERT(it_cell_path(w, "/etc/chromium/policies/managed/pixelgate.json", path,
			       sizeof path) &&
		      it_run(out, sizeof out, "cat '%s'", path) == 0 &&
		      strstr(out, "kiosk-blocked") == NULL,
		  "carol's cell has the group's policy: %s", out);
	IT_ASSERT(it_login_http("carol", it_password("carol"), true, &r) == 200,
		  "a second session for carol (node: 2): %d %s", r.status, r.body);
	IT_ASSERT(it_pump_for(carol, 10000),
		  "carol's session ended within 10 s (node idle 1800 s)");
	IT_ASSERT(it_run(out, sizeof out, "ls '%s/rec' | grep -c 'vncrec$'", top) == 0 &&
		      atoi(out) == 1,
		  "carol's session was recorded (the node's recording is off): %s", out);

	/* the policies as in force: the API and pixelgatectl */
	IT_ASSERT(it_admin("GET", "/api/v1/policies", "root-admin", NULL, &r) == 200 &&
		      strstr(r.body, "\"name\":\"kiosk\"") != NULL &&
		      strstr(r.body, "\"idle_timeout_s\":8") != NULL &&
		      strstr(r.body, "\"idle_timeout_s\":1800") != NULL,
		  "GET /api/v1/policies: %d %s", r.status, r.body);
	it_ctl_config("root-admin", conf, sizeof conf, NULL, 0);
	n = it_run(out, sizeof out, "%s/pixelgatectl --config '%s' policies 2>&1",
		   PIXELGATE_BUILD_DIR, conf);
	fprintf(stderr, "[%s] pixelgatectl policies: exit %d\n%s\n", it.test_name, n, out);
	IT_ASSERT(n == 0 && strstr(out, "(node)") != NULL && strstr(out, "kiosk") != NULL &&
		      strstr(out, "page2.html") != NULL,
		  "pixelgatectl policies: exit %d: %s", n, out);
	it_conn_free(carol);
	it_run(out, sizeof out, "rm -rf '%s'", top);
}

/* it_opts.before_daemon: the directory and the second factor both. */
static void lt_daemon_world_mfa(void)
{
	lt_daemon_world();
	it_mfa_world();
}

/* 8. valgrind memcheck on the gateway's directory and second-factor paths:
   libldap's TLS on the authentication threads (ASan cannot see writes
   that libraries make into freed memory), the answer floor's timer, a
   directory that goes away and comes back, enrolment and codes. */
IT_TEST(memcheck, directory_and_totp_have_no_invalid_reads_or_writes, .timeout = 1200)
{
	static const char *const admins[] = { "root-admin", NULL };
	struct it_opts o = { .admins = admins,
			     .before_daemon = lt_daemon_world_mfa,
			     .memcheck = true,
			     .extra_conf = "login_max_failures = 50\n" };
	struct it_http r;
	char secret[128], code[16];
	double ms;

	it_start_opts("memcheck_directory_and_totp", NULL, &o);
	IT_ASSERT(lt_login_timed("alice", it_password("alice"), &r, &ms) == 200, "alice: %s",
		  r.body);
	IT_ASSERT(lt_login_timed("ALICE", it_password("alice"), &r, &ms) == 200, "ALICE: %s",
		  r.body);
	IT_ASSERT(lt_login_timed("alice", "wrong", &r, &ms) == 401, "wrong: %s", r.body);
	IT_ASSERT(lt_login_timed("zoe", "x", &r, &ms) == 401, "zoe: %s", r.body);
	IT_ASSERT(lt_login_timed("*)(uid=*", "x", &r, &ms) == 401, "hostile: %s", r.body);
	IT_ASSERT(lt_login_timed("erin", it_password("erin"), &r, &ms) == 401, "erin: %s", r.body);
	/* carol is an admin: mfa = admins */
	IT_ASSERT(lt_login_timed("carol", it_password("carol"), &r, &ms) == 403 &&
		      strcmp(r.error, "mfa_not_enrolled") == 0,
		  "carol, not enrolled: %d %s", r.status, r.body);
	/* enrolled as the directory's name in another case: the same user */
	it_totp_enroll("root-admin", "Carol", secret, sizeof secret);
	IT_ASSERT(lt_login_timed("carol", it_password("carol"), &r, &ms) == 401 &&
		      strcmp(r.error, "otp_required") == 0,
		  "carol without a code: %d %s", r.status, r.body);
	it_totp_code(secret, code);
	IT_ASSERT(it_login_otp("carol", it_password("carol"), code, &r) == 200,
		  "carol with the code: %d %s", r.status, r.body);
	IT_ASSERT(it_login_otp("carol", it_password("carol"), code, &r) == 401,
		  "carol with the code again: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("DELETE", "/api/v1/users/carol/totp", "root-admin", NULL, &r) == 200,
		  "remove: %d %s", r.status, r.body);
	IT_ASSERT(it_admin("GET", "/api/v1/policies", "root-admin", NULL, &r) == 200, "%s", r.body);
	/* the directory goes away (the kept connections break) and comes back */
	it_extra_stop(lt.pid, 10);
	IT_ASSERT(lt_login_timed("alice", it_password("alice"), &r, &ms) == 503, "down: %s",
		  r.body);
	lt_run_slapd();
	for (double end = it_now_s() + 20;
	     lt_login_timed("alice", it_password("alice"), &r, &ms) != 200; it_sleep_ms(1000))
		IT_ASSERT(it_now_s() < end && r.status == 503, "back: %d %s", r.status, r.body);
	IT_ASSERT(r.status == 200, "back: %s", r.body);
	/* it_finish() stops the daemon and fails the test on any valgrind error */
}
