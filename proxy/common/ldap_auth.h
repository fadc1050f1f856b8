/*
 * ldap_auth.h: sign-in against an LDAP directory or Active Directory
 * (issue 14), with OpenLDAP's libldap: a search for the user by a filter
 * with a service account, a group check, then a bind as the user. Blocking
 * (bounded by the timeouts): the gateway runs it on its authentication
 * threads (gateway_auth_pool.c), never on the event loop.
 */
#ifndef PIXELGATE_LDAP_AUTH_H
#define PIXELGATE_LDAP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define LDAP_AUTH_STR_MAX 512 /* URIs, DNs, filters, paths */
#define LDAP_AUTH_NAME_MAX 64 /* user names (USERS_NAME_MAX) */
#define LDAP_AUTH_PASSWORD_MAX 1024

struct ldap_auth_conf {
	char uri[LDAP_AUTH_STR_MAX];     /* ldaps://host[:port] or ldap://host[:port] (StartTLS) */
	char ca_file[LDAP_AUTH_STR_MAX]; /* the directory's CA: the only one trusted */
	char bind_dn[LDAP_AUTH_STR_MAX]; /* the service account */
	char bind_password[LDAP_AUTH_PASSWORD_MAX + 1];
	char base_dn[LDAP_AUTH_STR_MAX];
	/* one %s, replaced by the escaped user name: "(uid=%s)",
	   "(&(sAMAccountName=%s)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))" */
	char user_filter[LDAP_AUTH_STR_MAX];
	char staff_group[LDAP_AUTH_STR_MAX]; /* group DNs: member = the user's DN */
	char admin_group[LDAP_AUTH_STR_MAX];
	int timeout_ms; /* each network step (connect, TLS, bind, search) */
};

enum ldap_auth_result {
	LDAP_AUTH_OK,          /* signed in: role set */
	LDAP_AUTH_REFUSED,     /* unknown, wrong password, disabled, in no group: 401 */
	LDAP_AUTH_UNAVAILABLE, /* the directory cannot be reached or fails: 503 */
};

enum ldap_auth_role { LDAP_ROLE_NONE, LDAP_ROLE_STAFF, LDAP_ROLE_ADMIN };

struct ldap_auth_outcome {
	enum ldap_auth_role role;
	char dn[LDAP_AUTH_STR_MAX];
	/* what happened, for the log only (never for the client) */
	char why[LDAP_AUTH_STR_MAX];
};

/*
 * Checks the settings (TLS only, one %s in the filter, ...): 0, or -1 with
 * a message in err.
 */
int ldap_auth_conf_check(const struct ldap_auth_conf *c, char *err, size_t errlen);

/*
 * The search filter for user: the conf's filter with the name escaped as
 * RFC 4515 asks (ldap_bv2escaped_filter_value: "*", "(", ")", "\\" and NUL
 * can never change the filter's meaning). 0, or -1 (a name that is empty,
 * too long or not printable UTF-8 is refused before any filter is made).
 */
int ldap_auth_filter(const char *tmpl, const char *user, char *out, size_t outlen);

/*
 * Signs user in with password: LDAP_AUTH_OK with the role (admin if in
 * admin_group, else staff if in staff_group); LDAP_AUTH_REFUSED for an
 * unknown user, a wrong or empty password, a user the filter leaves out
 * (disabled) or in neither group; LDAP_AUTH_UNAVAILABLE if the directory
 * cannot be reached, its certificate does not verify, or the service
 * account cannot bind. out->why says which, for the log.
 */
enum ldap_auth_result ldap_auth_login(const struct ldap_auth_conf *c, const char *user,
				      const char *password, struct ldap_auth_outcome *out);

#endif
