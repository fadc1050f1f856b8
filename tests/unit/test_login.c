/* test_login.c: the login request parser against good and hostile bodies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "login.h"

static int parse(const char *body, struct login_request *req, char *msg)
{
	return login_parse(body, strlen(body), 640, 3840, 480, 2160, req, msg, LOGIN_MESSAGE_LEN);
}

Test(login, accepts_user_and_password)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse("{\"user\":\"alice\",\"password\":\"s3cret\"}", &r, msg), 0);
	cr_assert_str_eq(r.user, "alice");
	cr_assert_str_eq(r.password, "s3cret");
	cr_assert_eq(r.width, 0);
	cr_assert_eq(r.height, 0);
	cr_assert_eq(r.bad_user_name, 0);
}

Test(login, accepts_screen_size_within_bounds)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\",\"width\":1920,\"height\":1080}", &r,
			   msg),
		     0);
	cr_assert_eq(r.width, 1920);
	cr_assert_eq(r.height, 1080);
}

Test(login, japanese_password_kept_byte_for_byte)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"日本語パス\"}", &r, msg), 0);
	cr_assert_str_eq(r.password, "日本語パス");
}

/* Each hostile body must be refused with a message naming the problem. */
struct bad_case {
	const char *body;
	const char *msg_part;
};

static const struct bad_case bad_cases[] = {
	{ "", "not valid JSON" },
	{ "{", "not valid JSON" },
	{ "{\"user\":\"a\",\"password\":\"p\"", "not valid JSON" },
	{ "[\"a\",\"p\"]", "JSON object" },
	{ "\"alice\"", "not valid JSON" }, /* jansson refuses a bare string without DECODE_ANY */
	{ "{}", "required" },
	{ "{\"user\":\"a\"}", "required" },
	{ "{\"password\":\"p\"}", "required" },
	{ "{\"user\":1,\"password\":\"p\"}", "required" },
	{ "{\"user\":\"a\",\"password\":null}", "required" },
	{ "{\"user\":\"a\",\"password\":\"\"}", "password" },
	{ "{\"user\":\"a\",\"password\":\"p\\u0000x\"}", "not allowed" },
	{ "{\"user\":\"a\",\"user\":\"b\",\"password\":\"p\"}", "not valid JSON" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"width\":\"800\"}", "\"width\" must be an integer" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"width\":639}", "between 640 and 3840" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"width\":3841}", "between 640 and 3840" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"height\":-1}", "between 480 and 2160" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"height\":99999999999999999999}", "not valid JSON" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"height\":1.5}", "\"height\" must be an integer" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"new_session\":1}",
	  "\"new_session\" must be true or false" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"otp\":123456}", "\"otp\" must be the 6 digits" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"otp\":\"12345\"}", "\"otp\" must be the 6 digits" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"otp\":\"1234567\"}",
	  "\"otp\" must be the 6 digits" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"otp\":\"12 456\"}",
	  "\"otp\" must be the 6 digits" },
	{ "{\"user\":\"a\",\"password\":\"p\",\"otp\":\"\uff11\uff12\uff13\uff14\uff15\uff16\"}",
	  "\"otp\" must be the 6 digits" },
};

Test(login, refuses_hostile_bodies_with_a_reason)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		struct login_request r;
		char msg[LOGIN_MESSAGE_LEN] = "";
		cr_assert_eq(parse(bad_cases[i].body, &r, msg), -1, "case %zu accepted: %s", i,
			     bad_cases[i].body);
		cr_assert(strstr(msg, bad_cases[i].msg_part) != NULL,
			  "case %zu (%s): message \"%s\" lacks \"%s\"", i, bad_cases[i].body, msg,
			  bad_cases[i].msg_part);
	}
}

Test(login, overlong_password_refused)
{
	char body[USERS_PASSWORD_MAX + 64];
	char pw[USERS_PASSWORD_MAX + 2];
	memset(pw, 'x', sizeof pw - 1);
	pw[sizeof pw - 1] = '\0';
	snprintf(body, sizeof body, "{\"user\":\"a\",\"password\":\"%s\"}", pw);
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse(body, &r, msg), -1);
	cr_assert(strstr(msg, "password") != NULL);
}

Test(login, impossible_user_names_answer_like_unknown_users)
{
	static const char *names[] = {
		"",         "a:b",
		"a b",      "../etc",
		"ユーザー", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"p\"}", names[i]);
		struct login_request r;
		char msg[LOGIN_MESSAGE_LEN];
		cr_assert_eq(parse(body, &r, msg), 0, "name %zu refused as malformed: %s", i, msg);
		cr_assert_eq(r.bad_user_name, 1, "name %zu (%s) taken as valid", i, names[i]);
		cr_assert_str_eq(r.user, "");
	}
}

Test(login, body_is_not_nul_terminated)
{
	/* The parser must use len, not strlen: trailing garbage after len is ignored. */
	const char body[] = "{\"user\":\"a\",\"password\":\"p\"}GARBAGE";
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(login_parse(body, sizeof body - 1 - 7, 640, 3840, 480, 2160, &r, msg,
				 sizeof msg),
		     0, "%s", msg);
	cr_assert_str_eq(r.user, "a");
}

Test(login, new_session_flag)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\",\"new_session\":true}", &r, msg), 0);
	cr_assert_eq(r.new_session, 1);
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\"}", &r, msg), 0);
	cr_assert_eq(r.new_session, 0);
}

Test(login, otp_code)
{
	struct login_request r;
	char msg[LOGIN_MESSAGE_LEN];
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\",\"otp\":\"012345\"}", &r, msg), 0);
	cr_assert_str_eq(r.otp, "012345");
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\",\"otp\":\"\"}", &r, msg), 0);
	cr_assert_str_eq(r.otp, "");
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\",\"otp\":null}", &r, msg), 0);
	cr_assert_str_eq(r.otp, "");
	cr_assert_eq(parse("{\"user\":\"a\",\"password\":\"p\"}", &r, msg), 0);
	cr_assert_str_eq(r.otp, "");
}
