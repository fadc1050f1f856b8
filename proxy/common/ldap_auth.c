/*
 * ldap_auth.c: sign-in against an LDAP directory (see ldap_auth.h).
 *
 * A connection is kept from one sign-in to the next (ldap_auth_login_on),
 * TLS only (ldaps://, or ldap:// with
 * StartTLS, which must succeed), the directory's CA the only one trusted
 * and the server's name checked (LDAP_OPT_X_TLS_DEMAND on a TLS context of
 * the connection's own). The order: bind as the service account, search
 * the user (exactly one entry), check the groups with the service account
 * (the user may not read them), and only then bind as the user: so a user
 * the directory leaves out never gets a bind, and every refusal looks the
 * same to the caller. An empty password is refused before anything: an
 * LDAP simple bind with a DN and no password is an unauthenticated bind,
 * which succeeds.
 */
#include "ldap_auth.h"

#include <ldap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "users.h"
#include "utf8.h"

int ldap_auth_conf_check(const struct ldap_auth_conf *c, char *err, size_t errlen)
{
	const char *p;
	int args = 0;

	/* one URI: libldap takes a list, and would fall back to a later
	   ldap:// one without StartTLS */
	if (strpbrk(c->uri, " \t,") != NULL ||
	    (strncmp(c->uri, "ldaps://", 8) != 0 && strncmp(c->uri, "ldap://", 7) != 0)) {
		snprintf(err, errlen,
			 "ldap uri \"%s\": want ldaps://HOST[:PORT] or ldap://HOST[:PORT] "
			 "(StartTLS)",
			 c->uri);
		return -1;
	}
	if (!c->ca_file[0]) {
		snprintf(err, errlen, "ldap ca_file is not set: the directory's CA must be pinned");
		return -1;
	}
	if (!c->base_dn[0] || !c->bind_dn[0] || !c->bind_password[0]) {
		/* an empty service password would be an anonymous bind */
		snprintf(err, errlen, "ldap base_dn, bind_dn and the service password must be set");
		return -1;
	}
	for (p = c->user_filter; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] != 's') {
			snprintf(err, errlen,
				 "ldap user_filter: only one %%s may appear, no other %%");
			return -1;
		}
		args++;
		p++;
	}
	if (args != 1 || c->user_filter[0] != '(') {
		snprintf(err, errlen,
			 "ldap user_filter \"%s\": want a filter in parentheses with one "
			 "%%s for the user name, e.g. (uid=%%s)",
			 c->user_filter);
		return -1;
	}
	if (!c->staff_group[0] && !c->admin_group[0]) {
		snprintf(err, errlen,
			 "ldap: set staff_group and/or admin_group (a user in neither "
			 "is refused)");
		return -1;
	}
	for (p = c->name_attribute; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-')) {
			snprintf(err, errlen,
				 "ldap name_attribute \"%s\": want an attribute name such as uid "
				 "or sAMAccountName",
				 c->name_attribute);
			return -1;
		}
	}
	if (c->n_policy_groups < 0 || c->n_policy_groups > LDAP_AUTH_GROUPS_MAX) {
		snprintf(err, errlen, "ldap: at most %d policy groups", LDAP_AUTH_GROUPS_MAX);
		return -1;
	}
	if (c->timeout_ms < 100 || c->timeout_ms > 60000) {
		snprintf(err, errlen, "ldap timeout_ms %d: want 100..60000", c->timeout_ms);
		return -1;
	}
	return 0;
}

/* value escaped for a filter (RFC 4515) into out: 0, or -1. */
static int ldap_escape(const char *value, char *out, size_t outlen)
{
	struct berval in = { .bv_len = strlen(value), .bv_val = (char *)value }, esc = { 0, NULL };
	int rc = -1;

	if (ldap_bv2escaped_filter_value(&in, &esc) != 0 || esc.bv_val == NULL)
		return -1;
	if (esc.bv_len < outlen) {
		memcpy(out, esc.bv_val, esc.bv_len + 1);
		rc = 0;
	}
	ber_memfree(esc.bv_val);
	return rc;
}

int ldap_auth_filter(const char *tmpl, const char *user, char *out, size_t outlen)
{
	char esc[LDAP_AUTH_NAME_MAX * 3 + 1];
	size_t len = strlen(user), i = 0;
	const char *at = strstr(tmpl, "%s");

	if (len == 0 || len > LDAP_AUTH_NAME_MAX || at == NULL)
		return -1;
	while (i < len) { /* printable UTF-8 only */
		uint32_t cp;
		size_t n = utf8_next((const unsigned char *)user + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f)
			return -1;
		i += n;
	}
	if (ldap_escape(user, esc, sizeof esc))
		return -1;
	int n = snprintf(out, outlen, "%.*s%s%s", (int)(at - tmpl), tmpl, esc, at + 2);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int ldap_simple_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred = { .bv_len = strlen(password), .bv_val = (char *)password };

	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* libldap sets its TLS library up on the first TLS context it makes,
   without a lock: once, before the threads race to it. */
static pthread_once_t ldap_tls_once = PTHREAD_ONCE_INIT;

static void ldap_tls_warm_up(void)
{
	LDAP *ld = NULL;
	int zero = 0;

	if (ldap_initialize(&ld, "ldaps://127.0.0.1") == LDAP_SUCCESS && ld != NULL) {
		ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
		ldap_unbind_ext_s(ld, NULL, NULL);
	}
}

/* A connection with the TLS settings, StartTLS done for ldap://: NULL
   with why set if the directory cannot be reached safely. */
static LDAP *ldap_open(const struct ldap_auth_conf *c, char *why, size_t whylen)
{
	LDAP *ld = NULL;
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND,
	    tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, zero = 0, rc;
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000,
			      .tv_usec = (c->timeout_ms % 1000) * 1000 };

	pthread_once(&ldap_tls_once, ldap_tls_warm_up);
	rc = ldap_initialize(&ld, c->uri);
	if (rc != LDAP_SUCCESS || ld == NULL) {
		snprintf(why, whylen, "ldap_initialize %s: %s", c->uri, ldap_err2string(rc));
		return NULL;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ca_file) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != LDAP_OPT_SUCCESS ||
	    /* a TLS context of this connection's own, with the settings above */
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		snprintf(why, whylen, "cannot set the LDAP connection's options (TLS: %s)",
			 c->ca_file);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	if (strncmp(c->uri, "ldap://", 7) == 0) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			snprintf(why, whylen, "StartTLS with %s failed: %s", c->uri,
				 ldap_err2string(rc));
			ldap_unbind_ext_s(ld, NULL, NULL);
			return NULL;
		}
	} else if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		snprintf(why, whylen, "cannot connect to %s: %s", c->uri, ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	/* no password goes out unless TLS is in place, whatever the URI did */
	if (!ldap_tls_inplace(ld)) {
		snprintf(why, whylen, "the connection to %s is not protected by TLS", c->uri);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* 1 if dn is a member of group_dn, 0 if not, -1 on a directory error. */
static int ldap_is_member(LDAP *ld, const struct ldap_auth_conf *c, const char *group_dn,
			  const char *dn, char *why, size_t whylen)
{
	char esc[LDAP_AUTH_STR_MAX * 3 + 1], filter[LDAP_AUTH_STR_MAX * 3 + 16];
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000,
			      .tv_usec = (c->timeout_ms % 1000) * 1000 };
	LDAPMessage *res = NULL;
	int rc, n;

	if (!group_dn[0])
		return 0;
	if (ldap_escape(dn, esc, sizeof esc))
		return -1;
	snprintf(filter, sizeof filter, "(member=%s)", esc);
	rc = ldap_search_ext_s(ld, group_dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, &tv, 1,
			       &res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		snprintf(why, whylen, "the group %s does not exist", group_dn);
		return 0;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		snprintf(why, whylen, "group search in %s: %s", group_dn, ldap_err2string(rc));
		return -1;
	}
	n = ldap_count_entries(ld, res);
	ldap_msgfree(res);
	return n == 1;
}

/* A kept connection found closed by the directory (idle timeout, restart). */
static bool ldap_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

/* The entry's name_attribute: exactly one value that is a pixelgate user name. */
static int ldap_entry_name(LDAP *ld, LDAPMessage *entry, const struct ldap_auth_conf *c,
			   const char *typed, struct ldap_auth_outcome *out)
{
	struct berval **v;
	int n;

	if (!c->name_attribute[0]) {
		snprintf(out->name, sizeof out->name, "%s", typed);
		return 0;
	}
	v = ldap_get_values_len(ld, entry, c->name_attribute);
	n = ldap_count_values_len(v);
	if (n == 1 && v[0]->bv_len <= LDAP_AUTH_NAME_MAX &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(out->name, v[0]->bv_val, v[0]->bv_len);
		out->name[v[0]->bv_len] = '\0';
	} else {
		out->name[0] = '\0';
	}
	ldap_value_free_len(v);
	if (!users_name_valid(out->name)) {
		snprintf(out->why, sizeof out->why,
			 "%.200s: %s has %d values, or one that is not a pixelgate user name "
			 "(1..64 of A-Z a-z 0-9 . _ @ -)",
			 out->dn, c->name_attribute, n);
		out->name[0] = '\0';
		return -1;
	}
	return 0;
}

/* Role and policy groups of out->dn, with the service account: 0, or -1. */
static int ldap_groups(LDAP *ld, const struct ldap_auth_conf *c, struct ldap_auth_outcome *out)
{
	int member = ldap_is_member(ld, c, c->admin_group, out->dn, out->why, sizeof out->why);

	if (member == 1)
		out->role = LDAP_ROLE_ADMIN;
	else if (member == 0 &&
		 (member = ldap_is_member(ld, c, c->staff_group, out->dn, out->why,
					  sizeof out->why)) == 1)
		out->role = LDAP_ROLE_STAFF;
	if (member < 0)
		return -1;
	for (int i = 0; i < c->n_policy_groups && i < LDAP_AUTH_GROUPS_MAX; i++) {
		member = ldap_is_member(ld, c, c->policy_groups[i], out->dn, out->why,
					sizeof out->why);
		if (member < 0)
			return -1;
		if (member == 1)
			out->policy_groups |= 1u << i;
	}
	return 0;
}

/* One sign-in on ld, whose service bind gave bind_rc. */
static enum ldap_auth_result ldap_login_with(LDAP *ld, int bind_rc, const struct ldap_auth_conf *c,
					     const char *filter, const char *user,
					     const char *password, struct ldap_auth_outcome *out)
{
	char *attrs[] = { c->name_attribute[0] ? (char *)c->name_attribute : LDAP_NO_ATTRS, NULL };
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000,
			      .tv_usec = (c->timeout_ms % 1000) * 1000 };
	enum ldap_auth_result result = LDAP_AUTH_UNAVAILABLE;
	LDAPMessage *res = NULL, *entry;
	char *dn;
	int rc;

	if (bind_rc != LDAP_SUCCESS) {
		snprintf(out->why, sizeof out->why,
			 "the service account %.200s cannot bind: %.200s", c->bind_dn,
			 ldap_err2string(bind_rc));
		return LDAP_AUTH_UNAVAILABLE; /* misconfigured or the directory is down */
	}
	rc = ldap_search_ext_s(ld, c->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
			       &tv, 2, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(out->why, sizeof out->why, "the filter %.200s finds more than one entry",
			 filter);
		result = LDAP_AUTH_REFUSED;
		goto done;
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(out->why, sizeof out->why, "user search %.200s: %.200s", filter,
			 ldap_err2string(rc));
		/* the directory or the settings are at fault, not the user */
		goto done;
	}
	if (ldap_count_entries(ld, res) != 1) {
		snprintf(out->why, sizeof out->why, "no entry for %.200s (unknown or disabled)",
			 filter);
		result = LDAP_AUTH_REFUSED;
		goto done;
	}
	entry = ldap_first_entry(ld, res);
	dn = ldap_get_dn(ld, entry);
	if (dn == NULL) {
		snprintf(out->why, sizeof out->why, "the user's entry has no DN");
		goto done;
	}
	if (dn[0] == '\0' || strlen(dn) >= sizeof out->dn) {
		snprintf(out->why, sizeof out->why, "the user's DN is empty or too long");
		ldap_memfree(dn);
		goto done;
	}
	snprintf(out->dn, sizeof out->dn, "%s", dn);
	ldap_memfree(dn);
	if (ldap_entry_name(ld, entry, c, user, out) != 0) {
		result = LDAP_AUTH_REFUSED;
		goto done;
	}
	if (ldap_groups(ld, c, out) != 0)
		goto done;
	if (out->role == LDAP_ROLE_NONE) {
		snprintf(out->why, sizeof out->why, "%.200s is in neither group", out->dn);
		result = LDAP_AUTH_REFUSED;
		goto done;
	}
	rc = ldap_simple_bind(ld, out->dn, password);
	if (rc == LDAP_SUCCESS) {
		result = LDAP_AUTH_OK;
		out->why[0] = '\0';
	} else {
		snprintf(out->why, sizeof out->why, "bind as %.200s: %.200s", out->dn,
			 ldap_err2string(rc));
		/* the user's own refusals; anything else is the directory's fault */
		result = rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
			rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_CONSTRAINT_VIOLATION
		    ? LDAP_AUTH_REFUSED
		    : LDAP_AUTH_UNAVAILABLE;
	}
done:
	if (result != LDAP_AUTH_OK) {
		out->role = LDAP_ROLE_NONE;
		out->policy_groups = 0;
	}
	ldap_msgfree(res);
	return result;
}

void ldap_auth_conn_close(struct ldap_auth_conn *conn)
{
	if (conn->ld != NULL)
		ldap_unbind_ext_s(conn->ld, NULL, NULL);
	conn->ld = NULL;
}

enum ldap_auth_result ldap_auth_login_on(struct ldap_auth_conn *conn,
					 const struct ldap_auth_conf *c, const char *user,
					 const char *password, struct ldap_auth_outcome *out)
{
	char filter[LDAP_AUTH_STR_MAX * 2];
	enum ldap_auth_result result;
	bool kept = conn->ld != NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (password == NULL || password[0] == '\0' || strlen(password) > LDAP_AUTH_PASSWORD_MAX) {
		snprintf(out->why, sizeof out->why, "empty or over-long password");
		return LDAP_AUTH_REFUSED;
	}
	if (ldap_auth_filter(c->user_filter, user, filter, sizeof filter)) {
		snprintf(out->why, sizeof out->why, "a user name no filter is made of");
		return LDAP_AUTH_REFUSED;
	}
	for (int attempt = 0;; attempt++) {
		if (conn->ld == NULL) {
			conn->ld = ldap_open(c, out->why, sizeof out->why);
			if (conn->ld == NULL)
				return LDAP_AUTH_UNAVAILABLE;
			conn->opens++;
		}
		/* each sign-in binds as the service account again: the last one
		   left the connection bound as its user */
		rc = ldap_simple_bind(conn->ld, c->bind_dn, c->bind_password);
		if (attempt == 0 && kept && ldap_lost(rc)) {
			ldap_auth_conn_close(conn); /* closed by the directory: once more */
			continue;
		}
		break;
	}
	result = ldap_login_with(conn->ld, rc, c, filter, user, password, out);
	if (result == LDAP_AUTH_UNAVAILABLE)
		ldap_auth_conn_close(conn); /* start afresh next time */
	return result;
}

enum ldap_auth_result ldap_auth_login(const struct ldap_auth_conf *c, const char *user,
				      const char *password, struct ldap_auth_outcome *out)
{
	struct ldap_auth_conn conn = { 0 };
	enum ldap_auth_result r = ldap_auth_login_on(&conn, c, user, password, out);

	ldap_auth_conn_close(&conn);
	return r;
}

int ldap_auth_probe(const struct ldap_auth_conf *c, char *why, size_t whylen)
{
	LDAP *ld = ldap_open(c, why, whylen);
	int rc;

	if (ld == NULL)
		return -1;
	rc = ldap_simple_bind(ld, c->bind_dn, c->bind_password);
	ldap_unbind_ext_s(ld, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		snprintf(why, whylen, "the service account %.200s cannot bind: %.200s", c->bind_dn,
			 ldap_err2string(rc));
		return -1;
	}
	return 0;
}
