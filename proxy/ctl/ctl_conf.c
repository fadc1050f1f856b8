/*
 * ctl_conf.c: pixelgatectl's config files (ctl_conf.h); the server address
 * is checked by pgc_parse_server_url() (client/client_url.h).
 *
 * A small INI reader of its own rather than inih: Debian's libinih cuts
 * lines at 200 bytes, and a path may be longer; every limit here is checked
 * while reading, with the line number in the message.
 */
#include "ctl_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_url.h"
#include "users.h"

static bool ctl_is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Trim spaces and tabs on both sides of [*s, *s + *n). */
static void ctl_trim(const char **s, size_t *n)
{
	while (*n > 0 && ctl_is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ctl_is_space((*s)[*n - 1]))
		(*n)--;
}

/* Cut a comment: ';' or '#' at the start or after a space or tab. */
static size_t ctl_cut_comment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] == ';' || s[i] == '#') && (i == 0 || ctl_is_space(s[i - 1])))
			return i;
	return n;
}

/* Store a path value (joined to dir when relative) into out. 0 or -1 + err. */
static int ctl_conf_path(char *out, size_t outlen, const char *dir, const char *v, size_t vl,
			 const char *name, int line, const char *key, char *err, size_t errlen)
{
	int n;
	if (v[0] != '/' && dir != NULL && dir[0] != '\0')
		n = snprintf(out, outlen, "%s/%.*s", strcmp(dir, "/") == 0 ? "" : dir, (int)vl, v);
	else
		n = snprintf(out, outlen, "%.*s", (int)vl, v);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "%s:%d: %s: path longer than %zu bytes", name, line, key,
			 outlen - 1);
		return -1;
	}
	return 0;
}

/* Apply key = value (both trimmed, value non-empty) of line. 0 or -1 + err. */
static int ctl_conf_set(struct ctl_conf *c, const char *name, const char *dir, int line,
			const char *k, size_t kl, const char *v, size_t vl, char *err,
			size_t errlen)
{
	char key[32], val[CTL_URL_MAX + 1];
	if (kl >= sizeof key) {
		snprintf(err, errlen,
			 "%s:%d: unknown key \"%.*s\" (server, ca_file, user, "
			 "password_file)",
			 name, line, 40, k);
		return -1;
	}
	memcpy(key, k, kl);
	key[kl] = '\0';
	if (strcmp(key, "ca_file") == 0)
		return ctl_conf_path(c->ca_file, sizeof c->ca_file, dir, v, vl, name, line, key,
				     err, errlen);
	if (strcmp(key, "password_file") == 0)
		return ctl_conf_path(c->password_file, sizeof c->password_file, dir, v, vl, name,
				     line, key, err, errlen);
	if (strcmp(key, "server") == 0) {
		char host[CTL_HOST_MAX], why[160];
		int port;
		if (vl >= sizeof val) {
			snprintf(err, errlen, "%s:%d: server: longer than %d characters", name,
				 line, CTL_URL_MAX);
			return -1;
		}
		memcpy(val, v, vl);
		val[vl] = '\0';
		if (pgc_parse_server_url(val, CTL_DEFAULT_PORT, host, sizeof host, &port, why,
					 sizeof why) != 0) {
			snprintf(err, errlen, "%s:%d: server: %s", name, line, why);
			return -1;
		}
		memcpy(c->server, val, vl + 1);
		return 0;
	}
	if (strcmp(key, "user") == 0) {
		if (vl >= sizeof c->user) {
			snprintf(err, errlen, "%s:%d: user: longer than %d characters", name, line,
				 USERS_NAME_MAX);
			return -1;
		}
		memcpy(val, v, vl);
		val[vl] = '\0';
		if (!users_name_valid(val)) {
			snprintf(
			    err, errlen,
			    "%s:%d: user: \"%s\" is not a user name (1-%d of A-Z a-z 0-9 . _ @ -)",
			    name, line, val, USERS_NAME_MAX);
			return -1;
		}
		memcpy(c->user, val, vl + 1);
		return 0;
	}
	snprintf(err, errlen, "%s:%d: unknown key \"%s\" (server, ca_file, user, password_file)",
		 name, line, key);
	return -1;
}

/* ctl_conf_parse() into c, which the caller throws away on error. */
static int ctl_conf_parse_into(struct ctl_conf *c, const char *name, const char *dir,
			       const char *text, size_t len, char *err, size_t errlen)
{
	bool in_section = false, seen_section = false;
	size_t pos = 0;
	int line = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte order mark */
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		line++;
		if (memchr(s, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in the line", name, line);
			return -1;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CTL_CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", name, line,
				 CTL_CONF_LINE_MAX);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				snprintf(err, errlen, "%s:%d: control character in the line", name,
					 line);
				return -1;
			}
		}
		n = ctl_cut_comment(s, n);
		ctl_trim(&s, &n);
		if (n == 0)
			continue;
		if (s[0] == '[') {
			const char *close = memchr(s, ']', n);
			if (close == NULL || (size_t)(close - s) != n - 1) {
				snprintf(err, errlen, "%s:%d: a section line is [name]", name,
					 line);
				return -1;
			}
			const char *sec = s + 1;
			size_t sl = n - 2;
			ctl_trim(&sec, &sl);
			if (sl != strlen(CTL_CONF_SECTION) ||
			    memcmp(sec, CTL_CONF_SECTION, sl) != 0) {
				snprintf(err, errlen,
					 "%s:%d: unknown section [%.*s] (only [" CTL_CONF_SECTION
					 "])",
					 name, line, (int)(sl > 64 ? 64 : sl), sec);
				return -1;
			}
			in_section = seen_section = true;
			continue;
		}
		const char *eq = memchr(s, '=', n);
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", name, line);
			return -1;
		}
		const char *k = s, *v = eq + 1;
		size_t kl = (size_t)(eq - s), vl = n - kl - 1;
		ctl_trim(&k, &kl);
		ctl_trim(&v, &vl);
		if (kl == 0) {
			snprintf(err, errlen, "%s:%d: no key before '='", name, line);
			return -1;
		}
		if (!in_section) {
			snprintf(err, errlen,
				 "%s:%d: %.*s: keys go in the [" CTL_CONF_SECTION "] section%s",
				 name, line, (int)(kl > 64 ? 64 : kl), k,
				 seen_section ? "" : " (none yet)");
			return -1;
		}
		if (vl == 0) {
			snprintf(err, errlen, "%s:%d: %.*s: empty value", name, line,
				 (int)(kl > 64 ? 64 : kl), k);
			return -1;
		}
		if (ctl_conf_set(c, name, dir, line, k, kl, v, vl, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int ctl_conf_parse(struct ctl_conf *c, const char *name, const char *dir, const char *text,
		   size_t len, char *err, size_t errlen)
{
	struct ctl_conf next = *c;
	if (ctl_conf_parse_into(&next, name, dir, text, len, err, errlen) != 0)
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
