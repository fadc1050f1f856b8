/* login.c: see login.h. */
#include "login.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* Read an optional screen dimension; 0 when absent. 0 or -1 + msg. */
static int login_dimension(json_t *o, const char *key, int lo, int hi, int *out, char *msg,
			   size_t msglen)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v)) {
		snprintf(msg, msglen, "\"%s\" must be an integer", key);
		return -1;
	}
	json_int_t n = json_integer_value(v);
	if (n < lo || n > hi) {
		snprintf(msg, msglen, "\"%s\" must be between %d and %d", key, lo, hi);
		return -1;
	}
	*out = (int)n;
	return 0;
}

int login_parse(const char *body, size_t len, int min_w, int max_w, int min_h, int max_h,
		struct login_request *out, char *msg, size_t msglen)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	/* JSON_REJECT_DUPLICATES: {"user":"a","user":"b"} is not a login. */
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		/* jansson's " near '...'" quotes the body: the password, control characters */
		char *near = strstr(jerr.text, " near ");
		if (near != NULL)
			*near = '\0';
		snprintf(msg, msglen, "body is not valid JSON: %s at position %d", jerr.text,
			 jerr.position);
		OPENSSL_cleanse(&jerr, sizeof jerr);
		return -1;
	}
	int rc = -1;
	if (!json_is_object(o)) {
		snprintf(msg, msglen, "body must be a JSON object");
		goto out;
	}
	json_t *user = json_object_get(o, "user");
	json_t *password = json_object_get(o, "password");
	if (!json_is_string(user) || !json_is_string(password)) {
		snprintf(msg, msglen, "\"user\" and \"password\" are required strings");
		goto out;
	}
	const char *name = json_string_value(user);
	size_t name_len = json_string_length(user);
	size_t pw_len = json_string_length(password);
	if (pw_len == 0 || pw_len > USERS_PASSWORD_MAX ||
	    strlen(json_string_value(password)) != pw_len) {
		snprintf(msg, msglen, "\"password\" must be 1 to %d bytes without NUL",
			 USERS_PASSWORD_MAX);
		goto out;
	}
	if (name_len == 0 || name_len > USERS_NAME_MAX || strlen(name) != name_len ||
	    !users_name_valid(name)) {
		out->bad_user_name = 1;
	} else {
		memcpy(out->user, name, name_len + 1);
	}
	memcpy(out->password, json_string_value(password), pw_len + 1);
	if (login_dimension(o, "width", min_w, max_w, &out->width, msg, msglen) ||
	    login_dimension(o, "height", min_h, max_h, &out->height, msg, msglen))
		goto out;
	json_t *ns = json_object_get(o, "new_session");
	if (ns != NULL && !json_is_boolean(ns)) {
		snprintf(msg, msglen, "\"new_session\" must be true or false");
		goto out;
	}
	out->new_session = json_is_true(ns);
	/* The second factor's code, when the user gives one: "" when absent or empty. */
	json_t *otp = json_object_get(o, "otp");
	if (otp != NULL && !json_is_null(otp)) {
		const char *code = json_string_value(otp);
		if (code == NULL ||
		    (code[0] != '\0' &&
		     (strlen(code) != LOGIN_OTP_DIGITS ||
		      strspn(code, "0123456789") != LOGIN_OTP_DIGITS))) {
			snprintf(msg, msglen, "\"otp\" must be the %d digits of the code",
				 LOGIN_OTP_DIGITS);
			goto out;
		}
		memcpy(out->otp, code, strlen(code) + 1);
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}
