/*
 * Unit tests for totp_store.c: enrolment, a code accepted once, the sealed
 * secrets (wrong key, moved to another name, a damaged file), and the file
 * kept across a reload with the last step used.
 */
#include <criterion/criterion.h>
#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "totp_store.h"

static const unsigned char key[TOTP_KEY_BYTES] = "0123456789abcdef0123456789abcdef";

/* The base32 secret of an otpauth URI, decoded into secret (20 bytes). */
static void secret_of(const char *uri, char *secret)
{
	const char *p = strstr(uri, "secret=");
	char b32[64];
	char *bin = NULL;
	size_t n = 0;

	cr_assert(p != NULL, "no secret in %s", uri);
	p += 7;
	size_t len = strcspn(p, "&");
	cr_assert(len < sizeof b32);
	memcpy(b32, p, len);
	b32[len] = '\0';
	cr_assert(oath_init() == OATH_OK);
	cr_assert(oath_base32_decode(b32, len, &bin, &n) == OATH_OK && n == TOTP_SECRET_BYTES,
		  "%s does not decode to 20 bytes", b32);
	memcpy(secret, bin, n);
	free(bin);
}

/* The code of secret at time t (as an authenticator app computes it). */
static void code_at(const char *secret, time_t t, char code[7])
{
	cr_assert(oath_totp_generate(secret, TOTP_SECRET_BYTES, t, TOTP_STEP_S, 0, 6, code) ==
		  OATH_OK);
}

Test(totp, a_code_is_accepted_once)
{
	struct totp_store s = { 0 };
	char uri[TOTP_URI_MAX], err[256], secret[TOTP_SECRET_BYTES], code[7], early[7];
	time_t t = 1700000000;

	cr_assert(totp_store_enroll(&s, key, "alice", "pixelgate", uri, sizeof uri, err,
				    sizeof err) == 0,
		  "%s", err);
	cr_assert(strncmp(uri, "otpauth://totp/pixelgate:alice?secret=", 38) == 0, "%s", uri);
	cr_assert(strstr(uri, "&issuer=pixelgate&algorithm=SHA1&digits=6&period=30") != NULL, "%s",
		  uri);
	cr_assert(strstr(s.v[0].sealed, "secret") == NULL);
	secret_of(uri, secret);
	code_at(secret, t - TOTP_STEP_S, early);
	code_at(secret, t, code);

	cr_assert_eq(totp_store_check(&s, key, "bob", code, t), TOTP_NOT_ENROLLED);
	cr_assert_eq(totp_store_check(&s, key, "alice", "12345", t), TOTP_WRONG);
	cr_assert_eq(totp_store_check(&s, key, "alice", "abcdef", t), TOTP_WRONG);
	char wrong[12];
	snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 1) % 1000000);
	cr_assert_eq(totp_store_check(&s, key, "alice", wrong, t), TOTP_WRONG);
	/* two steps away: outside the window */
	char late[7];
	code_at(secret, t + 3 * TOTP_STEP_S, late);
	cr_assert_eq(totp_store_check(&s, key, "alice", late, t), TOTP_WRONG);

	cr_assert_eq(totp_store_check(&s, key, "alice", code, t), TOTP_OK);
	cr_assert_eq(totp_store_check(&s, key, "alice", code, t), TOTP_REUSED);
	cr_assert_eq(totp_store_check(&s, key, "alice", code, t + 20), TOTP_REUSED);
	/* the step before, still in the window, is older than the one used */
	cr_assert_eq(totp_store_check(&s, key, "alice", early, t), TOTP_REUSED);
	/* the next step's code is new */
	code_at(secret, t + TOTP_STEP_S, code);
	cr_assert_eq(totp_store_check(&s, key, "alice", code, t + TOTP_STEP_S), TOTP_OK);
	totp_store_free(&s);
}

Test(totp, the_secrets_are_sealed)
{
	struct totp_store s = { 0 };
	char uri[TOTP_URI_MAX], err[256], secret[TOTP_SECRET_BYTES], code[7];
	unsigned char other[TOTP_KEY_BYTES];
	time_t t = 1700000000;

	memcpy(other, key, sizeof other);
	other[0] ^= 1;
	cr_assert(totp_store_enroll(&s, key, "alice", "pixelgate", uri, sizeof uri, err,
				    sizeof err) == 0);
	cr_assert(
	    totp_store_enroll(&s, key, "bob", "pixelgate", uri, sizeof uri, err, sizeof err) == 0);
	secret_of(uri, secret);
	code_at(secret, t, code);
	cr_assert_eq(totp_store_check(&s, other, "bob", code, t), TOTP_ERROR);
	/* bob's box under alice's name does not open */
	char bobs[TOTP_SEALED_MAX];
	snprintf(bobs, sizeof bobs, "%s", totp_store_find(&s, "bob")->sealed);
	snprintf(totp_store_find(&s, "alice")->sealed, TOTP_SEALED_MAX, "%s", bobs);
	cr_assert_eq(totp_store_check(&s, key, "alice", code, t), TOTP_ERROR);
	/* a changed byte does not open */
	struct totp_entry *b = totp_store_find(&s, "bob");
	b->sealed[20] = b->sealed[20] == 'A' ? 'B' : 'A';
	cr_assert_eq(totp_store_check(&s, key, "bob", code, t), TOTP_ERROR);
	cr_assert_eq(totp_store_remove(&s, "bob"), 0);
	cr_assert_eq(totp_store_remove(&s, "bob"), -1);
	cr_assert_eq(s.n, 1);
	totp_store_free(&s);
}

Test(totp, the_file_keeps_the_last_step)
{
	struct totp_store s = { 0 }, r = { 0 };
	char dir[] = "/tmp/pixelgate-totp-XXXXXX", path[128], uri[TOTP_URI_MAX], err[256];
	char secret[TOTP_SECRET_BYTES], code[7];
	time_t t = 1700000000;

	cr_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/totp.json", dir);
	cr_assert(totp_store_load(&s, path, true, err, sizeof err) == 0 && s.n == 0, "%s", err);
	cr_assert(totp_store_load(&s, path, false, err, sizeof err) == -1);
	cr_assert(totp_store_enroll(&s, key, "carol", "pixelgate", uri, sizeof uri, err,
				    sizeof err) == 0);
	secret_of(uri, secret);
	code_at(secret, t, code);
	cr_assert_eq(totp_store_check(&s, key, "carol", code, t), TOTP_OK);
	cr_assert(totp_store_save(&s, path, err, sizeof err) == 0, "%s", err);
	struct stat st;
	cr_assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	cr_assert(totp_store_load(&r, path, false, err, sizeof err) == 0 && r.n == 1, "%s", err);
	cr_assert_eq(totp_store_check(&r, key, "carol", code, t), TOTP_REUSED);
	totp_store_free(&r);

	cr_assert(chmod(path, 0640) == 0);
	cr_assert(totp_store_load(&r, path, false, err, sizeof err) == -1);
	cr_assert(strstr(err, "owner-only") != NULL, "%s", err);
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs("{\"version\": 1, \"users\": {\"x y\": {\"sealed\": \"a\", \"last_step\": 1}}}", f);
	fclose(f);
	cr_assert(chmod(path, 0600) == 0);
	cr_assert(totp_store_load(&r, path, false, err, sizeof err) == -1);
	cr_assert(strstr(err, "damaged") != NULL, "%s", err);
	unlink(path);
	rmdir(dir);
	totp_store_free(&s);
}
