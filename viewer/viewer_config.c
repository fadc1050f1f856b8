/*
 * viewer_config.c: the viewer's INI settings file, see viewer_config.h; read
 * as every INI file of pixelgate is (ini_lines.h: libinih, whole lines
 * counted and checked, one section). The text is checked as a whole first
 * (size, NUL bytes, UTF-8); the server address by pgc_parse_server_url()
 * (client/client_url.h).
 */
#include "viewer_config.h"

#include "ini_lines.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VIEWER_SECTION "viewer"

enum viewer_key { VK_SERVER, VK_CA_FILE, VK_USER, VK_LANGUAGE, VK_COUNT };

static const char *const viewer_key_names[VK_COUNT] = { "server", "ca_file", "user", "language" };

/* One parse (read by ini_lines.c): the working copy and the lines keys were set on. */
struct viewer_parse {
	struct ini_lines in;    /* first: the handler is given &in */
	struct viewer_config c; /* copied to the caller's only on success */
	int set_line[VK_COUNT]; /* line each key was set on in this file, 0 if not */
};

#define vc_fail(p, line, ...) ini_fail_at(&(p)->in, line, __VA_ARGS__)

void viewer_config_defaults(struct viewer_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->language, sizeof c->language, "auto");
}

/* Line number (1-based) of byte offset off in text. */
static int vc_line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* Whole-file checks before parsing: size, NUL bytes, UTF-8. */
static int vc_check_bytes(struct viewer_parse *p)
{
	if (p->in.len > VIEWER_CONFIG_MAX_BYTES) {
		vc_fail(p, vc_line_of(p->in.text, VIEWER_CONFIG_MAX_BYTES),
			"the file is larger than %d bytes (64 KiB); is it the right file?",
			VIEWER_CONFIG_MAX_BYTES);
		return -1;
	}
	const unsigned char *s = (const unsigned char *)p->in.text;
	for (size_t i = 0; i < p->in.len;) {
		if (s[i] == 0) {
			vc_fail(p, vc_line_of(p->in.text, i), "NUL byte: this is not a text file");
			return -1;
		}
		uint32_t cp;
		size_t k = utf8_next(s + i, p->in.len - i, &cp);
		if (k == 0) {
			vc_fail(p, vc_line_of(p->in.text, i),
				"not valid UTF-8 (byte 0x%02x); save the file as UTF-8", s[i]);
			return -1;
		}
		i += k;
	}
	return 0;
}

/* True if every byte of s is allowed in a user name (as the server's users file). */
static bool vc_user_valid(const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '@' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

static bool vc_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Store value for key k into p->c; 0, or -1 after vc_fail(). */
static int vc_set(struct viewer_parse *p, enum viewer_key k, const char *value)
{
	struct viewer_config *c = &p->c;
	const char *name = viewer_key_names[k];
	char *field;
	size_t size;
	switch (k) {
	case VK_SERVER:
		field = c->server, size = sizeof c->server;
		break;
	case VK_CA_FILE:
		field = c->ca_file, size = sizeof c->ca_file;
		break;
	case VK_USER:
		field = c->user, size = sizeof c->user;
		break;
	case VK_LANGUAGE:
		field = c->language, size = sizeof c->language;
		break;
	default:
		return -1;
	}
	size_t n = strlen(value);
	if (n >= size) {
		vc_fail(p, p->in.lineno, "%s: value longer than %zu bytes", name, size - 1);
		return -1;
	}
	if (vc_has_control(value)) {
		vc_fail(p, p->in.lineno, "%s: the value contains a control character (tab?)", name);
		return -1;
	}
	if (k == VK_SERVER && n > 0) {
		char host[VIEWER_HOST_MAX + 1], msg[256];
		int port;
		if (pgc_parse_server_url(value, VIEWER_DEFAULT_PORT, host, sizeof host, &port, msg,
					 sizeof msg) != 0) {
			vc_fail(p, p->in.lineno, "server: %s", msg);
			return -1;
		}
	}
	if (k == VK_USER && !vc_user_valid(value)) {
		vc_fail(p, p->in.lineno,
			"user: \"%s\" is not a user name (letters, digits, . _ @ - only)", value);
		return -1;
	}
	if (k == VK_LANGUAGE && n > 0 && strcmp(value, "ja") != 0 && strcmp(value, "en") != 0 &&
	    strcmp(value, "auto") != 0) {
		vc_fail(p, p->in.lineno, "language: \"%s\" is not one of ja, en, auto", value);
		return -1;
	}
	if (k == VK_LANGUAGE && n == 0)
		value = "auto";
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

static int vc_handle(struct ini_lines *in, const char *section, const char *name,
		     const char *value)
{
	struct viewer_parse *p = (struct viewer_parse *)in;
	if (section[0] == '\0') {
		vc_fail(p, p->in.lineno, "\"%s\" is outside a section; put [%s] above it", name,
			VIEWER_SECTION);
		return 0;
	}
	if (strcmp(section, VIEWER_SECTION) != 0) {
		/* The reader reports the header's line; this is a fallback. */
		vc_fail(p, p->in.lineno, "unknown section [%s]; the only section is [%s]", section,
			VIEWER_SECTION);
		return 0;
	}
	for (int k = 0; k < VK_COUNT; k++) {
		if (strcmp(name, viewer_key_names[k]) != 0)
			continue;
		if (p->set_line[k] != 0) {
			vc_fail(p, p->in.lineno, "%s is set twice (first on line %d)", name,
				p->set_line[k]);
			return 0;
		}
		p->set_line[k] = p->in.lineno;
		return vc_set(p, (enum viewer_key)k, value) == 0;
	}
	if (strcmp(name, "password") == 0)
		vc_fail(p, p->in.lineno,
			"passwords are never read from this file (use --password-file for "
			"scripts)");
	else
		vc_fail(p, p->in.lineno,
			"unknown key \"%s\" in [%s] (known: server, ca_file, user, language)", name,
			VIEWER_SECTION);
	return 0;
}

int viewer_config_parse(struct viewer_config *c, const char *name, const char *text, size_t len,
			char *err, size_t errlen)
{
	struct viewer_parse p = { .in = { .name = name,
					  .err = err,
					  .errlen = errlen,
					  .text = text,
					  .len = len,
					  .only_section = VIEWER_SECTION,
					  .syntax = "[" VIEWER_SECTION "] or key = value" },
				  .c = *c };
	if (vc_check_bytes(&p) != 0 || ini_lines_parse(&p.in, vc_handle) != 0)
		return -1;
	*c = p.c;
	return 0;
}

int viewer_config_load(struct viewer_config *c, const char *path, bool missing_ok, char *err,
		       size_t errlen)
{
	int rc = -1;
	char *buf = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	/* One byte more than allowed, so the parser sees that the file is too big. */
	buf = malloc(VIEWER_CONFIG_MAX_BYTES + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	size_t n = fread(buf, 1, VIEWER_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
		goto fail;
	}
	rc = viewer_config_parse(c, path, buf, n, err, errlen);
fail:
	free(buf);
	fclose(f);
	return rc;
}

/* 0 if snprintf's result n fitted in outlen, else -1. */
static int vc_fitted(int n, size_t outlen)
{
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int viewer_config_user_path(char *out, size_t outlen)
{
#ifdef _WIN32
	const char *appdata = getenv("APPDATA");
	if (appdata != NULL && appdata[0] != '\0')
		return vc_fitted(snprintf(out, outlen, "%s\\pixelgate\\viewer.conf", appdata),
				 outlen);
	return -1;
#else
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg != NULL && xdg[0] == '/') /* the XDG spec: ignore relative paths */
		return vc_fitted(snprintf(out, outlen, "%s/pixelgate/viewer.conf", xdg), outlen);
	const char *home = getenv("HOME");
	if (home != NULL && home[0] == '/')
		return vc_fitted(snprintf(out, outlen, "%s/.config/pixelgate/viewer.conf", home),
				 outlen);
	return -1;
#endif
}
