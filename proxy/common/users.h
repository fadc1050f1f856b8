/*
 * users.h: the users file and password verification (Argon2id, libargon2).
 *
 * File format, one user per line, mode 0600:
 *     name:role:$argon2id$v=19$m=...,t=...,p=...$salt$hash
 * role is "staff" or "admin". Blank lines and lines starting with '#' are
 * ignored. Names are 1..64 characters of [A-Za-z0-9._@-].
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

/* Add or replace; 0 or -1 + err. */
int users_set(struct users *u, const char *name, bool admin, const char *password, char *err,
	      size_t errlen);

/* Remove; 0, or -1 if no such user. */
int users_del(struct users *u, const char *name);

/* Argon2id-hash password into out (encoded). 0 or -1. */
int users_hash_password(const char *password, char *out, size_t outlen);

/*
 * Check name/password. Takes the same time for an unknown user as for a wrong
 * password (it verifies against a dummy hash). Returns the user or NULL.
 */
const struct user *users_authenticate(const struct users *u, const char *name,
				      const char *password);

#endif
