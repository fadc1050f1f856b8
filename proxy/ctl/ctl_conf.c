/*
 * ctl_conf.c: pixelgatectl's config files (ctl_conf.h), read as every INI
 * file of pixelgate is (ini_lines.h); the server address is checked by
 * pgc_parse_server_url() (client/client_url.h).
 */
#include "ctl_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_url.h"
#include "ini_lines.h"
#include "users.h"

/* One parse (read by ini_lines.c). */
struct ctl_parse {
	struct ini_lines in; /* first: the handler is given &in */
	struct ctl_conf *c;
	const char *dir;
};

/* Store a path value (joined to p->dir when relative) into out. */
static void ctl_conf_path(struct ctl_parse *p, char *out, size_t outlen, const char *key,
			  const char *v)
{
	int n;
	const char *dir = p->dir;
	if (v[0] != '/' && dir != NULL && dir[0] != '\0')
		n = snprintf(out, outlen, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, v);
	else
		n = snprintf(out, outlen, "%s", v);
	if (n < 0 || (size_t)n >= outlen)
		ini_fail(&p->in, "%s: path longer than %zu bytes", key, outlen - 1);
}

/* key = value of the one section (ini_lines_fn). */
static int ctl_conf_set(struct ini_lines *in, const char *section, const char *key, const char *v)
{
	struct ctl_parse *p = (struct ctl_parse *)in;
	struct ctl_conf *c = p->c;
	if (key[0] == '\0') {
		ini_fail(in, "no key before '='");
		return 0;
	}
	if (section[0] == '\0') {
		ini_fail(in, "%.64s: keys go in the [" CTL_CONF_SECTION "] section", key);
		return 0;
	}
	if (v[0] == '\0') {
		ini_fail(in, "%.64s: empty value", key);
		return 0;
	}
	if (strcmp(key, "ca_file") == 0) {
		ctl_conf_path(p, c->ca_file, sizeof c->ca_file, key, v);
	} else if (strcmp(key, "password_file") == 0) {
		ctl_conf_path(p, c->password_file, sizeof c->password_file, key, v);
	} else if (strcmp(key, "server") == 0) {
		char host[CTL_HOST_MAX], why[160];
		int port;
		if (strlen(v) >= sizeof c->server)
			ini_fail(in, "server: longer than %d characters", CTL_URL_MAX);
		else if (pgc_parse_server_url(v, CTL_DEFAULT_PORT, host, sizeof host, &port, why,
					      sizeof why) != 0)
			ini_fail(in, "server: %s", why);
		else
			snprintf(c->server, sizeof c->server, "%s", v);
	} else if (strcmp(key, "user") == 0) {
		if (strlen(v) >= sizeof c->user)
			ini_fail(in, "user: longer than %d characters", USERS_NAME_MAX);
		else if (!users_name_valid(v))
			ini_fail(in,
				 "user: \"%s\" is not a user name (1-%d of A-Z a-z 0-9 . _ @ -)", v,
				 USERS_NAME_MAX);
		else
			snprintf(c->user, sizeof c->user, "%s", v);
	} else {
		ini_fail(in, "unknown key \"%.64s\" (server, ca_file, user, password_file)", key);
	}
	return 0;
}

int ctl_conf_parse(struct ctl_conf *c, const char *name, const char *dir, const char *text,
		   size_t len, char *err, size_t errlen)
{
	struct ctl_conf next = *c;
	struct ctl_parse p = { .in = { .name = name,
				       .err = err,
				       .errlen = errlen,
				       .text = text,
				       .len = len,
				       .only_section = CTL_CONF_SECTION,
				       .syntax = "[" CTL_CONF_SECTION "] or key = value" },
			       .c = &next,
			       .dir = dir };
	if (ini_lines_parse(&p.in, ctl_conf_set) != 0)
		return -1;
	*c = next;
	return 0;
}

int ctl_conf_load(struct ctl_conf *c, const char *path, bool missing_ok, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL, dir[CTL_PATH_MAX];
	size_t n;
	int rc = -1;

	if (f == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	buf = malloc(CTL_CONF_FILE_MAX + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	n = fread(buf, 1, CTL_CONF_FILE_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	if (n > CTL_CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CTL_CONF_FILE_MAX);
		goto fail;
	}
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		dir[0] = '\0';
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	rc = ctl_conf_parse(c, path, dir, buf, n, err, errlen);
fail:
	free(buf);
	fclose(f);
	return rc;
}
