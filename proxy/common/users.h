/*
 * users.h: the users file and password verification (Argon2id, libargon2).
 *
 * File format, one user per line, mode 0600:
 *     name:role:$argon2id$v=19$m=...,t=...,p=...$salt$hash[:locked]
 * role is "staff" or "admin". The optional fourth field "locked" marks an
 * account an administrator locked (admin API); it is written only for locked
 * users, so files without locked accounts look exactly as before (and an
 * older pixelgate reading a locked line takes "hash:locked" as a hash that
 * never verifies: it fails closed). Blank lines and lines starting with '#'
 * are ignored. Names are 1..64 characters of [A-Za-z0-9._@-].
 */
#ifndef PIXELGATE_USERS_H
#define PIXELGATE_USERS_H

#include <stdbool.h>
#include <stddef.h>

#define USERS_NAME_MAX 64
#define USERS_HASH_MAX 160
#define USERS_PASSWORD_MAX 1024
#define USERS_MAX 100000

struct user {
	char name[USERS_NAME_MAX + 1];
	bool admin;
	char hash[USERS_HASH_MAX]; /* Argon2id encoded string */
	bool locked;               /* locked by an administrator: logins are refused */
};

struct users {
	struct user *v;
	size_t n;
};

/* True if name is a valid user name. */
bool users_name_valid(const char *name);

/* Load path; a missing file is an empty set when missing_ok. 0 or -1 + err ("file:line: ..."). */
int users_load(struct users *u, const char *path, bool missing_ok, char *err, size_t errlen);

/* Write atomically (temp file 0600 + rename). 0 or -1 + err. */
int users_save(const struct users *u, const char *path, char *err, size_t errlen);

void users_free(struct users *u);

struct user *users_find(const struct users *u, const char *name);

/*
 * Add or replace (new password and role); 0 or -1 + err. Replacing keeps the
 * user's locked flag: a password reset does not unlock an account.
 */
int users_set(struct users *u, const char *name, bool admin, const char *password, char *err,
	      size_t errlen);

/* Remove; 0, or -1 if no such user. */
int users_del(struct users *u, const char *name);

/* Lock or unlock name's account; 0, or -1 if no such user. */
int users_set_locked(struct users *u, const char *name, bool locked);

/* Deep copy of src into dst (dst's old contents are not freed). 0, or -1 out of memory. */
int users_copy(struct users *dst, const struct users *src);

/* Argon2id-hash password into out (encoded). 0 or -1. */
int users_hash_password(const char *password, char *out, size_t outlen);

/*
 * Check name/password. Takes the same time for an unknown user as for a wrong
 * password (it verifies against a dummy hash), and for a locked user as for
 * any other. Returns the user or NULL. A locked user with the right password
 * is returned too: the caller must check user->locked and refuse the login
 * (403 account_locked), so only someone who knows the password learns that
 * the account is locked.
 */
const struct user *users_authenticate(const struct users *u, const char *name,
				      const char *password);

#endif
