/*
 * gateway_directory.c: [auth] backend = ldap (issue 14): the directory's
 * settings made from the configuration ([ldap] and the service account's
 * password file) and checked at start-up and by `pixelgate -n`, which also
 * tries the service account's bind. The sign-ins themselves run on the
 * authentication threads (gateway_auth_pool.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"

/* The service account's password: the file's first line, without its end. */
static int directory_password(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[LDAP_AUTH_PASSWORD_MAX + 3];
	if (config_check_secret_file(path, err, errlen) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "ldap bind_password_file %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int saved = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "ldap bind_password_file %s: %s", path, strerror(saved));
		return -1;
	}
	buf[n] = '\0';
	size_t len = strcspn(buf, "\r\n");
	int rc = -1;
	if ((size_t)n == sizeof buf - 1 && len == (size_t)n)
		snprintf(err, errlen, "ldap bind_password_file %s: over %d bytes", path,
			 LDAP_AUTH_PASSWORD_MAX);
	else if (memchr(buf, '\0', (size_t)n) != NULL)
		snprintf(err, errlen, "ldap bind_password_file %s: holds a NUL byte", path);
	else if (len == 0)
		snprintf(err, errlen,
			 "ldap bind_password_file %s: empty (an empty password would be an "
			 "anonymous bind)",
			 path);
	else if (len >= outlen)
		snprintf(err, errlen, "ldap bind_password_file %s: over %zu bytes", path,
			 outlen - 1);
	else {
		memcpy(out, buf, len);
		out[len] = '\0';
		rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return rc;
}

int directory_load(char *err, size_t errlen)
{
	const struct config *c = &gw->cfg;
	directory_free();
	if (strcmp(c->auth_backend, "ldap") != 0)
		return 0;
	struct ldap_auth_conf *l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(l->uri, sizeof l->uri, "%s", c->ldap_uri);
	snprintf(l->ca_file, sizeof l->ca_file, "%s", c->ldap_ca_file);
	snprintf(l->bind_dn, sizeof l->bind_dn, "%s", c->ldap_bind_dn);
	snprintf(l->base_dn, sizeof l->base_dn, "%s", c->ldap_base_dn);
	snprintf(l->user_filter, sizeof l->user_filter, "%s", c->ldap_user_filter);
	snprintf(l->name_attribute, sizeof l->name_attribute, "%s", c->ldap_name_attribute);
	snprintf(l->staff_group, sizeof l->staff_group, "%s", c->ldap_staff_group);
	snprintf(l->admin_group, sizeof l->admin_group, "%s", c->ldap_admin_group);
	l->timeout_ms = c->ldap_timeout_ms;
	/* [group NAME] sections: their members are reported with each sign-in */
	for (int i = 0; i < c->n_groups && i < LDAP_AUTH_GROUPS_MAX; i++)
		snprintf(l->policy_groups[i], sizeof l->policy_groups[i], "%s", c->groups[i].dn);
	l->n_policy_groups = c->n_groups < LDAP_AUTH_GROUPS_MAX ? c->n_groups
								: LDAP_AUTH_GROUPS_MAX;
	char why[400];
	int fd;
	if (directory_password(c->ldap_bind_password_file, l->bind_password,
			       sizeof l->bind_password, err, errlen) != 0)
		goto fail;
	if (ldap_auth_conf_check(l, why, sizeof why) != 0) {
		snprintf(err, errlen, "[ldap]: %s", why);
		goto fail;
	}
	fd = open(l->ca_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "[ldap] ca_file %s: %s", l->ca_file, strerror(errno));
		goto fail;
	}
	close(fd);
	gw->ldap = l;
	return 0;
fail:
	OPENSSL_cleanse(l, sizeof *l);
	free(l);
	return -1;
}

void directory_free(void)
{
	if (gw->ldap == NULL)
		return;
	OPENSSL_cleanse(gw->ldap, sizeof *gw->ldap);
	free(gw->ldap);
	gw->ldap = NULL;
}

int directory_probe(char *msg, size_t msglen)
{
	if (gw->ldap == NULL)
		return 0;
	char why[LDAP_AUTH_STR_MAX];
	if (ldap_auth_probe(gw->ldap, why, sizeof why) != 0) {
		snprintf(msg, msglen, "directory %s: %s", gw->ldap->uri, why);
		return -1;
	}
	snprintf(msg, msglen, "directory %s: the service account %s binds over TLS", gw->ldap->uri,
		 gw->ldap->bind_dn);
	return 0;
}
