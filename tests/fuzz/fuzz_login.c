/*
 * fuzz_login.c: libFuzzer target for login_parse() (the body of
 * POST /api/v1/login). Invariants: never crashes; on success the user name
 * is valid or flagged, the password is 1..USERS_PASSWORD_MAX bytes, sizes
 * are 0 or within bounds; on failure the message is NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	memset(msg, 'x', sizeof msg);
	if (login_parse((const char *)data, size, 640, 3840, 480, 2160, &r, msg, sizeof msg) == 0) {
		size_t pw = strlen(r.password);
		if (pw == 0 || pw > USERS_PASSWORD_MAX)
			abort();
		if (!r.bad_user_name && !users_name_valid(r.user))
			abort();
		if ((r.width != 0 && (r.width < 640 || r.width > 3840)) ||
		    (r.height != 0 && (r.height < 480 || r.height > 2160)))
			abort();
	} else if (memchr(msg, '\0', sizeof msg) == NULL) {
		abort();
	}
	return 0;
}
