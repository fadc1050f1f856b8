/*
 * ctl_request.h: what pixelgatectl puts into an admin API request besides
 * its path (ctl_args.h): the Authorization header, the body that carries a
 * new password, and what it reads back of a refusal to give the right hint.
 * Pure: no I/O. Buffers that held a password are wiped (OPENSSL_cleanse)
 * before they are freed.
 */
#ifndef PIXELGATE_CTL_REQUEST_H
#define PIXELGATE_CTL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_password.h"
#include "users.h"

/* "user:password" with the NUL. */
#define CTL_CRED_MAX (USERS_NAME_MAX + 1 + CTL_LINE_MAX)
/* "Basic " + base64 of CTL_CRED_MAX bytes + NUL. */
#define CTL_AUTH_MAX (6 + 4 * ((CTL_CRED_MAX + 2) / 3) + 1)

/*
 * "Basic " and the base64 of "user:password" (RFC 7617) into out (outlen
 * >= CTL_AUTH_MAX). 0, or -1 when user:password is longer than
 * CTL_CRED_MAX - 1 bytes or does not fit out (out is "" then). The
 * intermediate "user:password" is wiped.
 */
int ctl_basic_auth(const char *user, const char *password, char *out, size_t outlen);

/*
 * The JSON body of users add ({"name","password","admin"}, with_name) or
 * passwd ({"password"}), malloc'd: the caller wipes and frees it. NULL when
 * the password is not valid UTF-8 (JSON cannot carry it) or out of memory.
 */
char *ctl_password_body(const char *name, bool with_name, bool admin, const char *password);

/* The "error" code of an answer's JSON body into code ("" if none). */
void ctl_answer_error_code(const char *body, size_t len, char *code, size_t codelen);

/*
 * What to add to a refusal of path with HTTP status and the server's
 * "error" code: a hint at the likely mistake (" (...)"), or "".
 */
const char *ctl_refusal_hint(int status, const char *code, const char *path);

#endif
