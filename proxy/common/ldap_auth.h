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
#define LDAP_AUTH_GROUPS_MAX 16 /* policy groups checked besides the two role groups */

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
	/* the attribute whose value is the user's name in pixelgate (sessions,
	   audit, lockout): "uid", "sAMAccountName"; "" = the name as typed */
	char name_attribute[64];
	int timeout_ms; /* each network step (connect, TLS, bind, search) */
	/* more groups to report membership of (per-group policy), in order */
	char policy_groups[LDAP_AUTH_GROUPS_MAX][LDAP_AUTH_STR_MAX];
	int n_policy_groups;
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
	/* the user's name as the directory spells it (name_attribute) */
	char name[LDAP_AUTH_NAME_MAX + 1];
	unsigned policy_groups; /* bit i: a member of conf policy_groups[i] */
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

/*
 * A connection kept from one sign-in to the next (one per thread: not to
 * be shared). Zero it before the first use; ldap_auth_conn_close() at the
 * end. opens counts the connections made (a test reads it).
 */
struct ldap_auth_conn {
	void *ld; /* LDAP *, or NULL */
	unsigned long opens;
};

/*
 * ldap_auth_login() on conn: the connection is made if there is none, and
 * kept afterwards unless the directory failed. A kept connection that the
 * directory has closed meanwhile (idle timeout, restart) is made again
 * once, transparently. Writing to such a connection raises SIGPIPE: the
 * process must ignore it (the gateway does).
 */
enum ldap_auth_result ldap_auth_login_on(struct ldap_auth_conn *conn,
					 const struct ldap_auth_conf *c, const char *user,
					 const char *password, struct ldap_auth_outcome *out);
void ldap_auth_conn_close(struct ldap_auth_conn *conn);

/* Whether the service account binds (over TLS, CA checked): 0, or -1 with why. */
int ldap_auth_probe(const struct ldap_auth_conf *c, char *why, size_t whylen);

#endif
