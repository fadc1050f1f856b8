/*
 * test_ctl_request.c: what pixelgatectl puts into its admin API requests
 * and reads back of a refusal (ctl_request.c), as the gateway parses them:
 * the Authorization header is "Basic" and the base64 of user:password for
 * every length up to the longest name and password (a colon or UTF-8 in the
 * password included), refused rather than cut beyond; a new password's body
 * is JSON the gateway's login code reads back byte for byte, and a password
 * that is not UTF-8 is refused instead of sent mangled; the error code of a
 * refusal is read from hostile bodies safely; each hint fits its refusal.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_request.h"

/* Decode the header's base64 back into out; its length. */
static int decode_basic(const char *header, unsigned char *out)
{
	cr_assert_eq(strncmp(header, "Basic ", 6), 0, "%s", header);
	size_t b64 = strlen(header + 6);
	cr_assert_eq(b64 % 4, 0, "base64 of %zu characters", b64);
	int n = EVP_DecodeBlock(out, (const unsigned char *)header + 6, (int)b64);
	cr_assert_geq(n, 0, "not base64: %s", header);
	/* EVP_DecodeBlock counts the padding's bytes as zeros */
	if (b64 >= 4 && header[6 + b64 - 1] == '=')
		n--;
	if (b64 >= 4 && header[6 + b64 - 2] == '=')
		n--;
	return n;
}

Test(ctl_request, basic_auth_is_user_colon_password_in_base64)
{
	char h[CTL_AUTH_MAX];
	cr_assert_eq(ctl_basic_auth("Aladdin", "open sesame", h, sizeof h), 0);
	cr_expect_str_eq(h, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "RFC 7617's example");
	/* the password may hold a colon (only the first one splits) and UTF-8 */
	static const char *const pw[] = { "a:b:c", "\xe7\xa7\x98\xe5\xaf\x86", ":", "x" };
	for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
		unsigned char back[CTL_CRED_MAX + 3];
		cr_assert_eq(ctl_basic_auth("admin", pw[i], h, sizeof h), 0);
		int n = decode_basic(h, back);
		char want[64];
		snprintf(want, sizeof want, "admin:%s", pw[i]);
		cr_expect_eq(n, (int)strlen(want));
		cr_expect_eq(memcmp(back, want, strlen(want)), 0, "%s", pw[i]);
	}
}

Test(ctl_request, basic_auth_fits_every_length_up_to_the_longest_and_refuses_beyond)
{
	char user[USERS_NAME_MAX + 1], *pw = malloc(CTL_LINE_MAX + 8);
	unsigned char back[CTL_CRED_MAX + 8];
	memset(user, 'u', USERS_NAME_MAX);
	user[USERS_NAME_MAX] = '\0';
	/* every password length up to what a password line can hold, then past it */
	for (size_t len = 0; len <= CTL_LINE_MAX + 2; len++) {
		memset(pw, 'p', len);
		pw[len] = '\0';
		char h[CTL_AUTH_MAX + 1];
		memset(h, 0x5a, sizeof h);
		int rc = ctl_basic_auth(user, pw, h, CTL_AUTH_MAX);
		size_t cred = USERS_NAME_MAX + 1 + len;
		if (cred <= CTL_CRED_MAX - 1) {
			cr_assert_eq(rc, 0, "a password of %zu bytes refused", len);
			cr_assert_lt(strlen(h), (size_t)CTL_AUTH_MAX);
			cr_assert_eq(decode_basic(h, back), (int)cred);
			cr_assert_eq(memcmp(back + USERS_NAME_MAX + 1, pw, len), 0);
		} else {
			cr_assert_eq(rc, -1, "%zu bytes of user:password accepted", cred);
			cr_assert_str_eq(h, "", "a refused header must not be half written");
		}
		cr_assert_eq(h[CTL_AUTH_MAX], 0x5a, "wrote past the header buffer");
	}
	/* a buffer too small for the header: refused, not cut */
	char small[16];
	cr_expect_eq(ctl_basic_auth("admin", "password", small, sizeof small), -1);
	cr_expect_str_eq(small, "");
	free(pw);
}

Test(ctl_request, a_new_passwords_body_is_json_the_gateway_reads_back_exactly)
{
	static const char *const pw[] = {
		"Sakura-2024!",
		"quote\" backslash\\ slash/",
		"\xe7\xa7\x98\xe5\xaf\x86\xe3\x81\xae\xe5\x90\x88\xe8\xa8\x80\xe8\x91\x89",
		"tab\tand\nnewline",
		"\xf0\x9f\x94\x91 key",
	};
	for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
		char *body = ctl_password_body("alice", true, true, pw[i]);
		cr_assert_not_null(body, "%s", pw[i]);
		json_t *o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
		cr_assert_not_null(o, "not JSON: %s", body);
		cr_expect_eq(json_object_size(o), 3);
		cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "alice");
		cr_expect(json_is_true(json_object_get(o, "admin")));
		cr_expect_str_eq(json_string_value(json_object_get(o, "password")), pw[i]);
		json_decref(o);
		free(body);
	}
	char *body = ctl_password_body("ignored", false, true, "Sakura-2024!");
	cr_expect_str_eq(body, "{\"password\":\"Sakura-2024!\"}", "passwd sends the password only");
	free(body);
	body = ctl_password_body("bob", true, false, "Sakura-2024!");
	cr_expect_str_eq(body, "{\"name\":\"bob\",\"password\":\"Sakura-2024!\",\"admin\":false}");
	free(body);
}

Test(ctl_request, a_password_that_is_not_utf8_is_refused_not_mangled)
{
	static const char *const bad[] = { "latin1 caf\xe9", "cut \xe3\x81", "\xff\xfe",
					   "surrogate \xed\xa0\x80", "overlong \xc0\xaf" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_null(ctl_password_body("alice", true, false, bad[i]), "%s", bad[i]);
}

Test(ctl_request, the_error_code_of_a_refusal_is_read_from_any_body)
{
	static const struct {
		const char *body;
		const char *code;
	} cases[] = {
		{ "{\"error\":\"forbidden\",\"message\":\"admin role required\"}", "forbidden" },
		{ "{\"error\":\"not_found\"}", "not_found" },
		{ "{\"error\":42}", "" },
		{ "{\"error\":null}", "" },
		{ "{\"message\":\"no code\"}", "" },
		{ "[\"error\",\"forbidden\"]", "" },
		{ "<html><body>502 Bad Gateway</body></html>", "" },
		{ "", "" },
		{ "{\"error\":\"forbidden\"", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char code[64] = "x";
		ctl_answer_error_code(cases[i].body, strlen(cases[i].body), code, sizeof code);
		cr_expect_str_eq(code, cases[i].code, "%s", cases[i].body);
	}
	/* a long code is cut to the buffer; a body that is not NUL-terminated is fine */
	char big[300] = "{\"error\":\"";
	memset(big + 10, 'e', 200);
	strcpy(big + 210, "\"}XXXX");
	char code[16];
	ctl_answer_error_code(big, 212, code, sizeof code);
	cr_expect_eq(strlen(code), 15);
	ctl_answer_error_code(NULL, 0, code, sizeof code);
	cr_expect_str_eq(code, "", "no body at all");
}

Test(ctl_request, each_refusal_gets_the_hint_that_fits_it)
{
	static const struct {
		int status;
		const char *code, *path, *hint; /* hint: a word of it, or "" */
	} cases[] = {
		{ 401, "unauthorized", "/api/v1/limits", "password of the administrator" },
		{ 401, "", "/healthz", "password of the administrator" },
		{ 403, "forbidden", "/api/v1/users", "admin role" },
		{ 403, "account_locked", "/api/v1/users", "" },
		{ 404, "not_found", "/api/v1/limits", "admin_listen_port" },
		{ 404, "not_found", "/api/v1/users/bob", "" }, /* no such user: no listener hint */
		{ 404, "", "/api/v1/limits", "" },
		{ 404, "not_found", "/healthz", "" },
		{ 409, "exists", "/api/v1/users", "" },
		{ 500, "", "/api/v1/drain", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *h = ctl_refusal_hint(cases[i].status, cases[i].code, cases[i].path);
		if (cases[i].hint[0] == '\0')
			cr_expect_str_empty(h, "%d %s %s: \"%s\"", cases[i].status, cases[i].code,
					    cases[i].path, h);
		else
			cr_expect(strstr(h, cases[i].hint) != NULL, "%d %s %s: \"%s\"",
				  cases[i].status, cases[i].code, cases[i].path, h);
	}
}
