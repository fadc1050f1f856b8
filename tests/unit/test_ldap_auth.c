/*
 * Unit tests for ldap_auth.c's pure parts: the settings check and the
 * search filter made of a user name (RFC 4515 escaping: no name can change
 * the filter's meaning).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ldap_auth.h"

static struct ldap_auth_conf good(void)
{
	struct ldap_auth_conf c;

	memset(&c, 0, sizeof c);
	strcpy(c.uri, "ldaps://dc1.city.example.lg.jp");
	strcpy(c.ca_file, "/etc/pixelgate/ad-ca.pem");
	strcpy(c.bind_dn, "CN=pixelgate,OU=Service,DC=city,DC=example");
	strcpy(c.bind_password, "service password");
	strcpy(c.base_dn, "DC=city,DC=example");
	strcpy(c.user_filter, "(&(objectClass=user)(sAMAccountName=%s))");
	strcpy(c.staff_group, "CN=pixelgate-staff,OU=Groups,DC=city,DC=example");
	c.timeout_ms = 5000;
	return c;
}

Test(ldap_auth, a_good_configuration_passes)
{
	struct ldap_auth_conf c = good();
	char err[256] = "";

	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), 0, "%s", err);
	strcpy(c.uri, "ldap://127.0.0.1:3890"); /* StartTLS */
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), 0, "%s", err);
}

Test(ldap_auth, plain_or_unpinned_or_odd_settings_are_refused)
{
	struct ldap_auth_conf c;
	char err[256];

	c = good();
	strcpy(c.uri, "ldapi:///");
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	cr_assert(strstr(err, "ldaps://") != NULL, "%s", err);
	c = good();
	strcpy(c.uri, "ldaps://dc1.example ldap://dc2.example"); /* a list: plain fallback */
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	c.bind_password[0] = '\0'; /* an anonymous bind */
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	c.ca_file[0] = '\0';
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	cr_assert(strstr(err, "pinned") != NULL, "%s", err);
	c = good();
	strcpy(c.user_filter, "(uid=%s)(cn=%s)");
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	strcpy(c.user_filter, "(uid=%d)");
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	strcpy(c.user_filter, "uid=%s");
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	c.staff_group[0] = '\0';
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
	c = good();
	c.timeout_ms = 10;
	cr_assert_eq(ldap_auth_conf_check(&c, err, sizeof err), -1);
}

Test(ldap_auth, hostile_names_are_escaped_not_obeyed)
{
	static const struct {
		const char *user, *want;
	} cases[] = {
		{ "alice", "(uid=alice)" },
		{ "*", "(uid=\\2A)" },
		{ "a*)(uid=*", "(uid=a\\2A\\29\\28uid=\\2A)" },
		{ "admin)(|(objectClass=*)", "(uid=admin\\29\\28|\\28objectClass=\\2A\\29)" },
		{ "back\\slash", "(uid=back\\5Cslash)" },
		/* libldap escapes every byte above 0x7f too (RFC 4515 allows it) */
		{ "山田", "(uid=\\E5\\B1\\B1\\E7\\94\\B0)" },
	};
	char out[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(ldap_auth_filter("(uid=%s)", cases[i].user, out, sizeof out), 0, "%s",
			     cases[i].user);
		cr_assert_str_eq(out, cases[i].want, "name \"%s\"", cases[i].user);
	}
	cr_assert_eq(ldap_auth_filter("(&(objectClass=user)(sAMAccountName=%s))", "bob", out,
				      sizeof out),
		     0);
	cr_assert_str_eq(out, "(&(objectClass=user)(sAMAccountName=bob))");
}

Test(ldap_auth, empty_long_or_control_names_make_no_filter)
{
	char out[512], longname[80];

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cr_assert_eq(ldap_auth_filter("(uid=%s)", "", out, sizeof out), -1);
	cr_assert_eq(ldap_auth_filter("(uid=%s)", longname, out, sizeof out), -1);
	cr_assert_eq(ldap_auth_filter("(uid=%s)", "a\nb", out, sizeof out), -1);
	cr_assert_eq(ldap_auth_filter("(uid=%s)", "a\x7f", out, sizeof out), -1);
	cr_assert_eq(ldap_auth_filter("(uid=%s)", "\xff\xfe", out, sizeof out), -1);
	cr_assert_eq(ldap_auth_filter("(uid=%s)", "alice", out, 8), -1, "does not fit");
}

Test(ldap_auth, an_empty_password_never_reaches_the_directory)
{
	struct ldap_auth_conf c = good();
	struct ldap_auth_outcome o;

	/* no directory at this address: a bind would be "unavailable" */
	strcpy(c.uri, "ldaps://127.0.0.1:1");
	cr_assert_eq(ldap_auth_login(&c, "alice", "", &o), LDAP_AUTH_REFUSED);
	cr_assert(strstr(o.why, "password") != NULL, "%s", o.why);
	cr_assert_eq(ldap_auth_login(&c, "a*)(uid=*\x01", "pw", &o), LDAP_AUTH_REFUSED);
}
