/*
 * ctl_request.c: the Authorization header, password bodies and refusal
 * hints of pixelgatectl's admin API requests, see ctl_request.h.
 */
#include "ctl_request.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

int ctl_basic_auth(const char *user, const char *password, char *out, size_t outlen)
{
	char cred[CTL_CRED_MAX];
	int rc = -1;
	if (outlen > 0)
		out[0] = '\0';
	int n = snprintf(cred, sizeof cred, "%s:%s", user, password);
	if (n < 0 || (size_t)n >= sizeof cred || outlen < 6 + 4 * (((size_t)n + 2) / 3) + 1)
		goto done;
	memcpy(out, "Basic ", 6);
	/* 4 * ceil(n / 3) bytes and a NUL */
	EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)cred, n);
	rc = 0;
done:
	OPENSSL_cleanse(cred, sizeof cred);
	return rc;
}

/* Overwrite string member key of o before o is freed (it held a password). */
static void ctl_json_wipe(json_t *o, const char *key)
{
	json_t *s = json_object_get(o, key);
	char *v = (char *)json_string_value(s);
	if (v != NULL)
		OPENSSL_cleanse(v, json_string_length(s));
}

char *ctl_password_body(const char *name, bool with_name, bool admin, const char *password)
{
	char *body = NULL;
	json_t *o = json_object();
	if (o == NULL || (with_name && json_object_set_new(o, "name", json_string(name)) != 0) ||
	    json_object_set_new(o, "password", json_string(password)) != 0 ||
	    (with_name && json_object_set_new(o, "admin", json_boolean(admin)) != 0))
		goto done;
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
	ctl_json_wipe(o, "password");
	json_decref(o);
	return body;
}

void ctl_answer_error_code(const char *body, size_t len, char *code, size_t codelen)
{
	json_t *root = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(root, "error"));
	snprintf(code, codelen, "%s", e != NULL ? e : "");
	json_decref(root);
}

const char *ctl_refusal_hint(int status, const char *code, const char *path)
{
	if (status == 401)
		return " (check the user name and password of the administrator)";
	if (status == 403 && strcmp(code, "forbidden") == 0)
		return " (the user needs the admin role: pixelgatectl users admin NAME on, or "
		       "user add NAME --admin on the gateway's host)";
	if (status == 404 && strcmp(code, "not_found") == 0 && strncmp(path, "/api/v1/", 8) == 0 &&
	    strchr(path + 8, '/') == NULL)
		return " (is this the admin listener, admin_listen_port, and not the staff one?)";
	return "";
}
