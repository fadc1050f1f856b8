/*
 * totp_store.h: the second factor (issue 14): TOTP (RFC 6238: 6 digits,
 * 30 s, HMAC-SHA1, what every authenticator app reads from an otpauth://
 * QR code), checked with liboath.
 *
 * Each enrolled user's secret (20 random bytes) is kept sealed with
 * AES-256-GCM under a 32-byte key file, the user's name bound in as
 * associated data (a sealed secret moved to another name does not open),
 * in one JSON file:
 *
 *   {"version": 1, "users": {"alice": {"sealed": "<base64 nonce|ciphertext|tag>",
 *                                      "last_step": 59071234, "enrolled": "2026-..."}}}
 *
 * A code is accepted once: last_step is the 30-s step of the last accepted
 * code, and a code of that step or an earlier one is refused (REUSED), so
 * the caller must save the store after an accepted code.
 */
#ifndef PIXELGATE_TOTP_STORE_H
#define PIXELGATE_TOTP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "users.h"

#define TOTP_KEY_BYTES 32
#define TOTP_SECRET_BYTES 20
#define TOTP_DIGITS 6
#define TOTP_STEP_S 30
#define TOTP_WINDOW 1      /* steps accepted either side of now (clock drift) */
#define TOTP_SEALED_MAX 96 /* base64 of 12 + 20 + 16 bytes, and some */
#define TOTP_URI_MAX 512
#define TOTP_FILE_MAX (64 << 20) /* bytes of the store file, at most */

struct totp_entry {
	char name[USERS_NAME_MAX + 1];
	char sealed[TOTP_SEALED_MAX];
	uint64_t last_step; /* 0: no code accepted yet */
	char enrolled[32];  /* UTC, ISO 8601 */
};

struct totp_store {
	struct totp_entry *v;
	size_t n;
};

enum totp_result {
	TOTP_OK,           /* accepted (and last_step moved: save the store) */
	TOTP_WRONG,        /* not a code of this user's secret now */
	TOTP_REUSED,       /* a code of a step already used */
	TOTP_NOT_ENROLLED, /* no secret for this user */
	TOTP_ERROR,        /* the secret does not open (wrong key, damaged file) */
};

/* The key file: exactly 32 bytes, owner-only. 0, or -1 with err. */
int totp_key_load(const char *path, unsigned char key[TOTP_KEY_BYTES], char *err, size_t errlen);

/* Load path (missing: an empty store when missing_ok). 0, or -1 with err. */
int totp_store_load(struct totp_store *s, const char *path, bool missing_ok, char *err,
		    size_t errlen);
/* Write atomically, owner-only. 0, or -1 with err. */
int totp_store_save(const struct totp_store *s, const char *path, char *err, size_t errlen);
void totp_store_free(struct totp_store *s);
struct totp_entry *totp_store_find(const struct totp_store *s, const char *name);

/*
 * A new secret for name (replacing any): sealed into the store, and the
 * otpauth:// URI for the authenticator app written to uri (issuer names
 * the service in the app). 0, or -1 with err.
 */
int totp_store_enroll(struct totp_store *s, const unsigned char key[TOTP_KEY_BYTES],
		      const char *name, const char *issuer, char *uri, size_t urilen, char *err,
		      size_t errlen);
/* Forget name's secret: 0, or -1 if there was none. */
int totp_store_remove(struct totp_store *s, const char *name);

/* Check name's code at now (see enum totp_result). */
enum totp_result totp_store_check(struct totp_store *s, const unsigned char key[TOTP_KEY_BYTES],
				  const char *name, const char *code, time_t now);

/* True if code is TOTP_DIGITS decimal digits. */
bool totp_code_valid(const char *code);

#endif
