/*
 * users.c: users file and Argon2id password hashes.
 */
#include "users.h"

#include "file_atomic.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Argon2id cost: OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane). */
#define USERS_T_COST 2
#define USERS_M_COST_KIB 19456
#define USERS_PARALLELISM 1
#define USERS_SALT_BYTES 16
#define USERS_HASH_BYTES 32
#define USERS_LINE_MAX 512

bool users_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > USERS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '@' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

int users_hash_password(const char *password, char *out, size_t outlen)
{
	unsigned char salt[USERS_SALT_BYTES];
	if (RAND_bytes(salt, sizeof salt) != 1)
		return -1;
	int rc = argon2id_hash_encoded(USERS_T_COST, USERS_M_COST_KIB, USERS_PARALLELISM, password,
				       strlen(password), salt, sizeof salt, USERS_HASH_BYTES, out,
				       outlen);
	return rc == ARGON2_OK ? 0 : -1;
}

/* Append a user; 0 or -1 on allocation failure or when full. */
static int users_append(struct users *u, const struct user *usr)
{
	if (u->n >= USERS_MAX)
		return -1;
	struct user *nv = realloc(u->v, (u->n + 1) * sizeof *nv);
	if (nv == NULL)
		return -1;
	u->v = nv;
	u->v[u->n++] = *usr;
	return 0;
}

int users_load(struct users *u, const char *path, bool missing_ok, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	char line[USERS_LINE_MAX];
	int lineno = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
				 USERS_LINE_MAX - 2);
			goto fail;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *name = line;
		char *role = strchr(name, ':');
		char *hash = role ? strchr(role + 1, ':') : NULL;
		if (hash == NULL) {
			snprintf(err, errlen, "%s:%d: expected name:role:hash", path, lineno);
			goto fail;
		}
		*role++ = '\0';
		*hash++ = '\0';
		struct user usr = { 0 };
		/* An Argon2id encoded hash has no ':'; one after it starts the flags field. */
		char *flags = strchr(hash, ':');
		if (flags != NULL) {
			*flags++ = '\0';
			if (strcmp(flags, "locked") != 0) {
				snprintf(err, errlen,
					 "%s:%d: fourth field must be \"locked\", not \"%.40s\"",
					 path, lineno, flags);
				goto fail;
			}
			usr.locked = true;
		}
		if (!users_name_valid(name)) {
			snprintf(err, errlen, "%s:%d: invalid user name", path, lineno);
			goto fail;
		}
		if (strcmp(role, "admin") != 0 && strcmp(role, "staff") != 0) {
			snprintf(err, errlen, "%s:%d: role must be staff or admin, not \"%s\"",
				 path, lineno, role);
			goto fail;
		}
		if (strncmp(hash, "$argon2id$", 10) != 0 || strlen(hash) >= sizeof usr.hash) {
			snprintf(err, errlen, "%s:%d: not an Argon2id hash", path, lineno);
			goto fail;
		}
		if (users_find(u, name) != NULL) {
			snprintf(err, errlen, "%s:%d: duplicate user \"%s\"", path, lineno, name);
			goto fail;
		}
		snprintf(usr.name, sizeof usr.name, "%.*s", USERS_NAME_MAX, name);
		usr.admin = strcmp(role, "admin") == 0;
		snprintf(usr.hash, sizeof usr.hash, "%.*s", USERS_HASH_MAX - 1, hash);
		if (users_append(u, &usr) != 0) {
			snprintf(err, errlen, "%s:%d: too many users or out of memory", path,
				 lineno);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	users_free(u);
	return -1;
}

int users_save(const struct users *u, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < u->n; i++)
		fprintf(f, "%s:%s:%s%s\n", u->v[i].name, u->v[i].admin ? "admin" : "staff",
			u->v[i].hash, u->v[i].locked ? ":locked" : "");
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	int rc = file_write_atomic(path, text, len, err, errlen);
	free(text);
	return rc;
}

void users_free(struct users *u)
{
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

struct user *users_find(const struct users *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

int users_set(struct users *u, const char *name, bool admin, const char *password, char *err,
	      size_t errlen)
{
	if (!users_name_valid(name)) {
		snprintf(err, errlen, "invalid user name \"%s\" (1-%d of A-Z a-z 0-9 . _ @ -)",
			 name, USERS_NAME_MAX);
		return -1;
	}
	size_t plen = strlen(password);
	if (plen < 8 || plen > USERS_PASSWORD_MAX) {
		snprintf(err, errlen, "password must be 8 to %d bytes", USERS_PASSWORD_MAX);
		return -1;
	}
	struct user usr = { 0 };
	snprintf(usr.name, sizeof usr.name, "%s", name);
	usr.admin = admin;
	if (users_hash_password(password, usr.hash, sizeof usr.hash) != 0) {
		snprintf(err, errlen, "password hashing failed");
		return -1;
	}
	struct user *old = users_find(u, name);
	if (old != NULL) {
		usr.locked = old->locked;
		*old = usr;
		return 0;
	}
	if (users_append(u, &usr) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int users_del(struct users *u, const char *name)
{
	struct user *usr = users_find(u, name);
	if (usr == NULL)
		return -1;
	size_t i = (size_t)(usr - u->v);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof *u->v);
	u->n--;
	return 0;
}

int users_set_locked(struct users *u, const char *name, bool locked)
{
	struct user *usr = users_find(u, name);
	if (usr == NULL)
		return -1;
	usr->locked = locked;
	return 0;
}

int users_copy(struct users *dst, const struct users *src)
{
	memset(dst, 0, sizeof *dst);
	if (src->n == 0)
		return 0;
	dst->v = calloc(src->n, sizeof *dst->v);
	if (dst->v == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof *dst->v);
	dst->n = src->n;
	return 0;
}

const struct user *users_authenticate(const struct users *u, const char *name, const char *password)
{
	static char dummy[USERS_HASH_MAX];
	const struct user *usr = users_find(u, name);
	size_t plen = strlen(password);
	if (plen > USERS_PASSWORD_MAX)
		return NULL;
	if (usr == NULL) {
		/* Same work as a real check so timing does not reveal which names exist. */
		if (dummy[0] == '\0' &&
		    users_hash_password("pixelgate-dummy", dummy, sizeof dummy) != 0)
			return NULL;
		(void)argon2id_verify(dummy, password, plen);
		return NULL;
	}
	return argon2id_verify(usr->hash, password, plen) == ARGON2_OK ? usr : NULL;
}
