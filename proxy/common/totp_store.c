/*
 * totp_store.c: TOTP secrets, sealed at rest, and the check of a code (see
 * totp_store.h). TOTP itself is liboath's; sealing is OpenSSL's
 * AES-256-GCM; base64 is OpenSSL's; the file is jansson's.
 */
#include "totp_store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_atomic.h"

#define TOTP_NONCE_BYTES 12
#define TOTP_TAG_BYTES 16
#define TOTP_BOX_BYTES (TOTP_NONCE_BYTES + TOTP_SECRET_BYTES + TOTP_TAG_BYTES)
#define TOTP_AAD_PREFIX "pixelgate-totp-v1:"

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_oath_rc;

static void totp_oath_init(void)
{
	totp_oath_rc = oath_init();
}

int totp_key_load(const char *path, unsigned char key[TOTP_KEY_BYTES], char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen,
			 "totp_key_file %s: %s (create it: head -c 32 /dev/urandom > %s && chmod "
			 "600 %s)",
			 path, strerror(errno), path, path);
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_size != TOTP_KEY_BYTES) {
		close(fd);
		snprintf(err, errlen,
			 "totp_key_file %s: want an owner-only regular file of exactly %d bytes",
			 path, TOTP_KEY_BYTES);
		return -1;
	}
	ssize_t n = read(fd, key, TOTP_KEY_BYTES);
	close(fd);
	if (n != TOTP_KEY_BYTES) {
		OPENSSL_cleanse(key, TOTP_KEY_BYTES);
		snprintf(err, errlen, "totp_key_file %s: short read", path);
		return -1;
	}
	return 0;
}

/* The associated data of name's box. */
static int totp_aad(const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, TOTP_AAD_PREFIX "%s", name);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* Seal secret for name into base64 text. 0 or -1. */
static int totp_seal(const unsigned char key[TOTP_KEY_BYTES], const char *name,
		     const unsigned char secret[TOTP_SECRET_BYTES], char *out, size_t outlen)
{
	unsigned char box[TOTP_BOX_BYTES];
	char aad[USERS_NAME_MAX + 32];
	int alen = totp_aad(name, aad, sizeof aad), len = 0, rc = -1;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || alen < 0 || outlen < 4 * ((TOTP_BOX_BYTES + 2) / 3) + 1 ||
	    RAND_bytes(box, TOTP_NONCE_BYTES) != 1)
		goto done;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TOTP_NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, box) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, alen) != 1 ||
	    EVP_EncryptUpdate(ctx, box + TOTP_NONCE_BYTES, &len, secret, TOTP_SECRET_BYTES) != 1 ||
	    len != TOTP_SECRET_BYTES ||
	    EVP_EncryptFinal_ex(ctx, box + TOTP_NONCE_BYTES + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOTP_TAG_BYTES,
				box + TOTP_NONCE_BYTES + TOTP_SECRET_BYTES) != 1)
		goto done;
	EVP_EncodeBlock((unsigned char *)out, box, TOTP_BOX_BYTES);
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(box, sizeof box);
	return rc;
}

/* Open name's sealed text into secret. 0 or -1 (wrong key, other name, damaged). */
static int totp_open(const unsigned char key[TOTP_KEY_BYTES], const char *name, const char *sealed,
		     unsigned char secret[TOTP_SECRET_BYTES])
{
	unsigned char box[TOTP_SEALED_MAX];
	char aad[USERS_NAME_MAX + 32];
	size_t slen = strlen(sealed);
	int alen = totp_aad(name, aad, sizeof aad), len = 0, rc = -1;
	EVP_CIPHER_CTX *ctx = NULL;
	/* 48 bytes are 64 base64 characters with no padding */
	if (alen < 0 || slen != 4 * (TOTP_BOX_BYTES / 3) ||
	    EVP_DecodeBlock(box, (const unsigned char *)sealed, (int)slen) != TOTP_BOX_BYTES)
		goto done;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TOTP_NONCE_BYTES, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, box) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, alen) != 1 ||
	    EVP_DecryptUpdate(ctx, secret, &len, box + TOTP_NONCE_BYTES, TOTP_SECRET_BYTES) != 1 ||
	    len != TOTP_SECRET_BYTES ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOTP_TAG_BYTES,
				box + TOTP_NONCE_BYTES + TOTP_SECRET_BYTES) != 1 ||
	    EVP_DecryptFinal_ex(ctx, secret + len, &len) != 1) {
		OPENSSL_cleanse(secret, TOTP_SECRET_BYTES);
		goto done;
	}
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(box, sizeof box);
	return rc;
}

void totp_store_free(struct totp_store *s)
{
	if (s->v != NULL)
		OPENSSL_cleanse(s->v, s->n * sizeof *s->v);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct totp_entry *totp_store_find(const struct totp_store *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* A new entry for name (or name's own), NULL when out of memory. */
static struct totp_entry *totp_store_slot(struct totp_store *s, const char *name)
{
	struct totp_entry *e = totp_store_find(s, name);
	if (e != NULL)
		return e;
	if (s->n >= USERS_MAX)
		return NULL;
	struct totp_entry *v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (v == NULL)
		return NULL;
	s->v = v;
	e = &v[s->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	return e;
}

int totp_store_load(struct totp_store *s, const char *path, bool missing_ok, char *err,
		    size_t errlen)
{
	json_error_t je;
	const char *name;
	json_t *root, *users, *u;
	struct stat st;

	memset(s, 0, sizeof *s);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "totp_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_size > TOTP_FILE_MAX) {
		snprintf(err, errlen,
			 "totp_file %s: want an owner-only regular file of at most %d MiB", path,
			 TOTP_FILE_MAX >> 20);
		return -1;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, errlen, "totp_file %s:%d: %s", path, je.line, je.text);
		return -1;
	}
	users = json_object_get(root, "users");
	if (json_integer_value(json_object_get(root, "version")) != 1 || !json_is_object(users)) {
		snprintf(err, errlen, "totp_file %s: not a version 1 file with a \"users\" object",
			 path);
		goto fail;
	}
	json_object_foreach(users, name, u) {
		const char *sealed = json_string_value(json_object_get(u, "sealed"));
		const char *enrolled = json_string_value(json_object_get(u, "enrolled"));
		json_t *step = json_object_get(u, "last_step");
		struct totp_entry *e;
		if (!users_name_valid(name) || sealed == NULL ||
		    strlen(sealed) >= TOTP_SEALED_MAX || !json_is_integer(step) ||
		    json_integer_value(step) < 0) {
			snprintf(err, errlen, "totp_file %s: the entry of \"%.64s\" is damaged",
				 path, name);
			goto fail;
		}
		e = totp_store_slot(s, name);
		if (e == NULL) {
			snprintf(err, errlen, "totp_file %s: out of memory or over %d entries",
				 path, USERS_MAX);
			goto fail;
		}
		snprintf(e->sealed, sizeof e->sealed, "%s", sealed);
		e->last_step = (uint64_t)json_integer_value(step);
		snprintf(e->enrolled, sizeof e->enrolled, "%s", enrolled != NULL ? enrolled : "");
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	totp_store_free(s);
	return -1;
}

int totp_store_save(const struct totp_store *s, const char *path, char *err, size_t errlen)
{
	json_t *users = json_object(), *root;
	char *text;
	int rc;

	for (size_t i = 0; i < s->n && users != NULL; i++) {
		const struct totp_entry *e = &s->v[i];
		if (json_object_set_new(users, e->name,
					json_pack("{s:s, s:I, s:s}", "sealed", e->sealed,
						  "last_step", (json_int_t)e->last_step, "enrolled",
						  e->enrolled)) != 0) {
			json_decref(users);
			users = NULL;
		}
	}
	root = users != NULL ? json_pack("{s:i, s:o}", "version", 1, "users", users) : NULL;
	text = root != NULL ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	if (text == NULL) {
		snprintf(err, errlen, "totp_file %s: out of memory", path);
		return -1;
	}
	rc = file_write_atomic(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

int totp_store_enroll(struct totp_store *s, const unsigned char key[TOTP_KEY_BYTES],
		      const char *name, const char *issuer, char *uri, size_t urilen, char *err,
		      size_t errlen)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char sealed[TOTP_SEALED_MAX], *b32 = NULL;
	size_t b32len = 0;
	int rc = -1;

	pthread_once(&totp_once, totp_oath_init);
	if (!users_name_valid(name)) {
		snprintf(err, errlen, "invalid user name");
		return -1;
	}
	if (RAND_bytes(secret, sizeof secret) != 1 ||
	    totp_seal(key, name, secret, sealed, sizeof sealed) != 0) {
		snprintf(err, errlen, "no random bytes, or the secret could not be sealed");
		goto done;
	}
	if (totp_oath_rc != OATH_OK ||
	    oath_base32_encode((const char *)secret, sizeof secret, &b32, &b32len) != OATH_OK) {
		snprintf(err, errlen, "liboath: cannot encode the secret");
		goto done;
	}
	/* the app shows "issuer (name)"; names and the issuer need no escaping (users.h) */
	int n = snprintf(uri, urilen,
			 "otpauth://totp/%s:%s?secret=%.*s&issuer=%s&algorithm=SHA1&digits=%d&"
			 "period=%d",
			 issuer, name, (int)b32len, b32, issuer, TOTP_DIGITS, TOTP_STEP_S);
	if (n < 0 || (size_t)n >= urilen) {
		snprintf(err, errlen, "the otpauth URI is too long");
		goto done;
	}
	struct totp_entry *e = totp_store_slot(s, name);
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	snprintf(e->sealed, sizeof e->sealed, "%s", sealed);
	e->last_step = 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(e->enrolled, sizeof e->enrolled, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = 0;
done:
	if (rc != 0 && urilen > 0)
		OPENSSL_cleanse(uri, urilen);
	if (b32 != NULL) {
		OPENSSL_cleanse(b32, b32len);
		free(b32);
	}
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(sealed, sizeof sealed);
	return rc;
}

int totp_store_remove(struct totp_store *s, const char *name)
{
	struct totp_entry *e = totp_store_find(s, name);
	if (e == NULL)
		return -1;
	size_t i = (size_t)(e - s->v);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
	OPENSSL_cleanse(&s->v[s->n], sizeof s->v[s->n]);
	return 0;
}

bool totp_code_valid(const char *code)
{
	return code != NULL && strlen(code) == TOTP_DIGITS &&
	    strspn(code, "0123456789") == TOTP_DIGITS;
}

enum totp_result totp_store_check(struct totp_store *s, const unsigned char key[TOTP_KEY_BYTES],
				  const char *name, const char *code, time_t now)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	uint64_t step = 0;
	int pos = 0;
	struct totp_entry *e = totp_store_find(s, name);

	pthread_once(&totp_once, totp_oath_init);
	if (e == NULL)
		return TOTP_NOT_ENROLLED;
	if (totp_oath_rc != OATH_OK || totp_open(key, name, e->sealed, secret) != 0)
		return TOTP_ERROR;
	if (!totp_code_valid(code)) {
		OPENSSL_cleanse(secret, sizeof secret);
		return TOTP_WRONG;
	}
	int rc = oath_totp_validate3((const char *)secret, sizeof secret, now, TOTP_STEP_S,
				     OATH_TOTP_DEFAULT_START_TIME, TOTP_WINDOW, &pos, &step, code);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc < 0)
		return TOTP_WRONG;
	if (step <= e->last_step)
		return TOTP_REUSED;
	e->last_step = step;
	return TOTP_OK;
}
