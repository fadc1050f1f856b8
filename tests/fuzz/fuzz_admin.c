/*
 * fuzz_admin.c: libFuzzer target for the admin API's parsers of outside
 * bytes (proxy/common/admin_text.c): request paths, the Authorization
 * header and decoded Basic credentials, and the three JSON bodies.
 * Invariants: never crashes; a routed path's argument is a valid session id
 * or user name; accepted names are valid user names; accepted passwords are
 * 1..USERS_PASSWORD_MAX bytes; refusal messages are NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[8192];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';

	struct admin_target t;
	admin_route_parse(text, &t);
	if (t.route == ADMIN_ROUTE_NONE && t.arg[0] != '\0')
		abort();
	if (t.arg[0] != '\0' && strlen(t.arg) > USERS_NAME_MAX)
		abort();

	char header[8192];
	memcpy(header, text, n + 1);
	char *token = admin_basic_token(header);
	if (token != NULL && (token < header || token > header + n))
		abort();

	memcpy(header, text, n + 1);
	token = admin_bearer_token(header);
	if (token != NULL && (token < header || token > header + n))
		abort();

	/* A metrics token file: one word of printable ASCII within the bounds, or refused. */
	char tok[ADMIN_TOKEN_MAX + 1], why[128];
	if (admin_token_parse((const char *)data, size, tok, sizeof tok, why, sizeof why) == 0) {
		size_t tl = strlen(tok);
		if (tl < ADMIN_TOKEN_MIN || tl > ADMIN_TOKEN_MAX)
			abort();
		for (size_t i = 0; i < tl; i++)
			if (tok[i] <= ' ' || tok[i] >= 0x7f)
				abort();
	}

	char user[USERS_NAME_MAX + 1], password[USERS_PASSWORD_MAX + 1];
	if (admin_basic_split((const char *)data, size, user, password) == 0) {
		if (user[0] != '\0' && !users_name_valid(user))
			abort();
		if (strlen(password) > USERS_PASSWORD_MAX)
			abort();
	}

	char err[256];
	bool admin;
	memset(err, 'x', sizeof err);
	if (admin_parse_new_user((const char *)data, size, user, password, &admin, err,
				 sizeof err) == 0) {
		size_t pl = strlen(password);
		if (!users_name_valid(user) || pl == 0 || pl > USERS_PASSWORD_MAX)
			abort();
	} else if (memchr(err, '\0', sizeof err) == NULL) {
		abort();
	}
	memset(err, 'x', sizeof err);
	if (admin_parse_password((const char *)data, size, password, err, sizeof err) == 0) {
		size_t pl = strlen(password);
		if (pl == 0 || pl > USERS_PASSWORD_MAX)
			abort();
	} else if (memchr(err, '\0', sizeof err) == NULL) {
		abort();
	}
	memset(err, 'x', sizeof err);
	if (admin_parse_admin_flag((const char *)data, size, &admin, err, sizeof err) != 0 &&
	    memchr(err, '\0', sizeof err) == NULL)
		abort();
	return 0;
}
