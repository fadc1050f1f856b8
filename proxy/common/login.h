/*
 * login.h: parsing of the staff login request body (POST /api/v1/login).
 *
 * A pure function over the body bytes, so the table of hostile inputs in
 * tests/unit/test_login.c and a fuzz target can drive it directly.
 */
#ifndef PIXELGATE_LOGIN_H
#define PIXELGATE_LOGIN_H

#include <stddef.h>

#include "users.h"

#define LOGIN_MESSAGE_LEN 160
#define LOGIN_OTP_DIGITS 6 /* TOTP codes (totp_store.h) */

/* A parsed login request. width/height are 0 when not asked for. */
struct login_request {
	char user[USERS_NAME_MAX + 1];
	char password[USERS_PASSWORD_MAX + 1];
	int width, height;
	int new_session; /* "new_session": true — an additional session, not a takeover */
	char otp[LOGIN_OTP_DIGITS + 1]; /* "otp": the second factor's code, "" if none */
	int bad_user_name;              /* the name cannot exist (too long, bad characters) */
};

/*
 * Parse body[0 .. len) as {"user": "...", "password": "..."[, "width": N,
 * "height": N][, "new_session": bool][, "otp": "123456"]}. Sizes are checked against [min_w..max_w] x [min_h..max_h].
 * Returns 0, or -1 with a message for the client in msg (what is wrong and,
 * for sizes, the allowed range). A user name that is not a valid name is not
 * an error here (bad_user_name is set) so that the caller answers exactly as
 * for an unknown user.
 */
int login_parse(const char *body, size_t len, int min_w, int max_w, int min_h, int max_h,
		struct login_request *out, char *msg, size_t msglen);

#endif
