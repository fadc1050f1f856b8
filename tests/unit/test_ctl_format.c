/*
 * test_ctl_format.c: what an administrator reads from pixelgatectl. Tables
 * line up; times are shown in local time; byte counts are readable; text
 * from the server cannot drive the terminal (escape sequences, bidi
 * overrides, invalid UTF-8); answers of the wrong shape are refused with
 * what is wrong; a refusal says the status, the server's error, message,
 * field and when to retry.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_format.h"

static void tz_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TestSuite(ctl_format, .init = tz_utc);

/* Output of a print function, captured. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	cr_assert_not_null(c->f);
}

static const char *cap_close(struct capture *c)
{
	fclose(c->f);
	return c->text;
}

#define S(lit) lit, sizeof(lit) - 1

Test(ctl_format, tables_line_up_with_numbers_on_the_right)
{
	static const char *const headers[] = { "NAME", "N", "NOTE" };
	static const bool right[] = { false, true, false };
	struct ctl_table t;
	struct capture c;
	cr_assert_eq(ctl_table_init(&t, 3, headers, right), 0);
	cr_assert_eq(ctl_table_add(&t, (const char *[]){ "a", "1", "x" }), 0);
	cr_assert_eq(ctl_table_add(&t, (const char *[]){ "longer", "12345", NULL }), 0);
	cr_assert_eq(ctl_table_add(&t, (const char *[]){ "\xe5\xb1\xb1\xe7\x94\xb0", "7", "" }), 0);
	cap_open(&c);
	cr_assert_eq(ctl_table_print(&t, c.f), 0);
	cr_assert_str_eq(cap_close(&c),
			 "NAME        N  NOTE\n"
			 "a           1  x\n"
			 "longer  12345  -\n"
			 "\xe5\xb1\xb1\xe7\x94\xb0        7  \n"); /* 山田: 4 columns */
	free(c.text);
	ctl_table_free(&t);
	cr_assert_eq(ctl_table_init(&t, 0, headers, right), -1);
	cr_assert_eq(ctl_table_init(&t, CTL_TABLE_COLS_MAX + 1, headers, right), -1);
}

Test(ctl_format, japanese_names_take_two_columns_a_character)
{
	/* 山田太郎 (4 wide characters), ｻﾄｳ (half-width katakana: 1 column each),
	   é as e + COMBINING ACUTE ACCENT (1 column) */
	static const char json[] =
	    "{\"users\":[{\"name\":\"\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e\","
	    "\"role\":\"staff\",\"locked\":false},"
	    "{\"name\":\"\xef\xbd\xbb\xef\xbe\x84\xef\xbd\xb3\",\"role\":\"staff\",\"locked\":true},"
	    "{\"name\":\"jose\xcc\x81\",\"role\":\"admin\",\"locked\":false}]}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_users(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cap_close(&c),
			 "NAME      ROLE   LOCKED\n"
			 "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e  staff  no\n"
			 "\xef\xbd\xbb\xef\xbe\x84\xef\xbd\xb3       staff  yes\n"
			 "jose\xcc\x81      admin  no\n");
	free(c.text);
	char out[64];
	cr_assert_eq(ctl_clean_text(S("\xe5\xb1\xb1\xe7\x94\xb0 a"), out, sizeof out), 6);
}

Test(ctl_format, server_text_cannot_drive_the_terminal)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ S("plain"), "plain" },
		{ S("\x1b[2J\x1b]0;title\x07"), "?[2J?]0;title?" },
		{ S("a\r\nb\tc\x7f"), "a??b?c?" },
		{ S("\xc2\x9b"
		    "31m"),
		  "?31m" }, /* C1 CSI */
		{ S("\xe2\x80\xae"
		    "gnp.exe"),
		  "?gnp.exe" },               /* RIGHT-TO-LEFT OVERRIDE */
		{ S("\xe2\x81\xa6x"), "?x" }, /* LEFT-TO-RIGHT ISOLATE */
		{ S("\xff\xfe"), "??" },
		{ S("\xc0\xaf"), "??" },               /* overlong '/' */
		{ S("\xed\xa0\x80"), "???" },          /* surrogate */
		{ S("\xf4\x90\x80\x80"), "????" },     /* over U+10FFFF */
		{ S("\xe6\x9d\xb1"), "\xe6\x9d\xb1" }, /* 東 */
		{ S("\xe6\x9d"), "??" },               /* cut character */
		{ S("a\0b"), "a?b" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		ctl_clean_text(cases[i].in, cases[i].len, out, sizeof out);
		cr_assert_str_eq(out, cases[i].out, "case %zu", i);
	}
}

Test(ctl_format, long_text_is_cut_at_a_character_with_dots)
{
	char out[8];
	cr_assert_eq(ctl_clean_text(S("1234567"), out, sizeof out), 7);
	cr_assert_str_eq(out, "1234567");
	cr_assert_eq(ctl_clean_text(S("12345678"), out, sizeof out), 7);
	cr_assert_str_eq(out, "1234...");
	/* 東 is 3 bytes: "a東" + "..." = 7 bytes; "a東東" does not fit before the dots */
	cr_assert_eq(ctl_clean_text(S("a\xe6\x9d\xb1\xe6\x9d\xb1\xe6\x9d\xb1"), out, sizeof out),
		     6);
	cr_assert_str_eq(out, "a\xe6\x9d\xb1...");
	char tiny[3] = "xx";
	cr_assert_eq(ctl_clean_text(S("abc"), tiny, sizeof tiny), 0);
	cr_assert_str_eq(tiny, "");
}

Test(ctl_format, times_are_shown_in_local_time)
{
	char out[32];
	cr_assert_eq(ctl_local_time("2026-11-26T03:04:05Z", out, sizeof out), 0);
	cr_assert_str_eq(out, "2026-11-26 03:04:05");
	cr_assert_eq(ctl_local_time("2026-11-26T12:04:05.123+09:00", out, sizeof out), 0);
	cr_assert_str_eq(out, "2026-11-26 03:04:05");
	cr_assert_eq(ctl_local_time("2026-11-25t22:04:05-05:00", out, sizeof out), 0);
	cr_assert_str_eq(out, "2026-11-26 03:04:05");
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	cr_assert_eq(ctl_local_time("2026-11-26T23:30:00Z", out, sizeof out), 0);
	cr_assert_str_eq(out, "2026-11-27 08:30:00");
	tz_utc();
	static const char *const bad[] = {
		"",
		"2026-11-26",
		"2026-11-26T03:04:05", /* no zone */
		"2026-11-26T03:04:05+0900",
		"2026-13-26T03:04:05Z",
		"2026-11-26T24:04:05Z",
		"2026-11-26T03:04:05Zjunk",
		"2026-11-26T03:04:05.Z",
		"26-11-26T03:04:05Z",
		"1969-12-31T23:59:59Z",
		"2026-11-2xT03:04:05Z",
		"\x1b[2J2026-11-26T03:04:05Z",
		"2026-02-30T03:04:05Z", /* no such day (was shown as March 2) */
		"2026-11-26T03:04:60Z", /* a leap second (was shown as 03:05:00) */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(ctl_local_time(bad[i], out, sizeof out), -1, "case %zu: %s", i,
			     bad[i]);
}

Test(ctl_format, byte_counts_are_readable)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" },
		{ 10188, "9.9 KiB" },
		{ 10240, "10 KiB" },
		{ 987654321, "942 MiB" },
		{ 4294967296ull, "4.0 GiB" },
		{ UINT64_MAX, "16 EiB" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[32];
		ctl_human_bytes(cases[i].n, out, sizeof out);
		cr_assert_str_eq(out, cases[i].s, "case %zu", i);
	}
}

Test(ctl_format, sessions_show_every_column_in_local_time)
{
	static const char json[] =
	    "{\"sessions\":["
	    "{\"id\":\"a1b2\",\"user\":\"yamada\",\"client\":\"10.0.0.5\","
	    "\"started\":\"2026-11-26T03:04:05Z\",\"last_input\":\"2026-11-26T03:10:00Z\","
	    "\"bytes_in\":12345,\"bytes_out\":987654321,\"fps\":12.5,\"state\":\"active\"},"
	    "{\"id\":7,\"user\":\"sato\",\"client\":\"10.0.0.7\","
	    "\"started\":\"2026-11-26T01:00:00Z\",\"last_input\":null,"
	    "\"bytes_in\":0,\"bytes_out\":1024,\"fps\":0,\"state\":\"detached\"}]}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_sessions(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(
	    cap_close(&c),
	    "ID    USER    CLIENT    STARTED              LAST-INPUT               IN      OUT   FPS  STATE\n"
	    "a1b2  yamada  10.0.0.5  2026-11-26 03:04:05  2026-11-26 03:10:00  12 KiB  942 MiB  12.5  active\n"
	    "7     sato    10.0.0.7  2026-11-26 01:00:00  -                       0 B  1.0 KiB     0  detached\n");
	free(c.text);

	cap_open(&c);
	cr_assert_eq(ctl_print_sessions(S("{\"sessions\":[]}"), c.f, err, sizeof err), 0);
	cr_assert_str_eq(cap_close(&c), "no sessions\n");
	free(c.text);
}

Test(ctl_format, kept_directories_show_who_when_and_why)
{
	static const char json[] =
	    "{\"forensics\":["
	    "{\"id\":\"0123456789abcdef\",\"state\":\"complete\",\"user\":\"yamada\","
	    "\"what\":\"ServerCutText refused\",\"kept\":\"2026-11-26T03:04:05Z\","
	    "\"entries\":40,\"files\":31,\"bytes\":1572864,\"truncated\":false,"
	    "\"manifest_sha256\":\"ab\"},"
	    "{\"id\":\"fedcba9876543210\",\"state\":\"copying\"}],\"more\":true}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_forensics(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s",
		     err);
	cr_assert_str_eq(
	    cap_close(&c),
	    "ID                USER    KEPT                 FILES    BYTES  STATE     WHAT\n"
	    "0123456789abcdef  yamada  2026-11-26 03:04:05     31  1.5 MiB  complete  ServerCutText refused\n"
	    "fedcba9876543210  -       -                        -        -  copying   -\n"
	    "(more kept directories than one answer lists: remove some)\n");
	free(c.text);
	cap_open(&c);
	cr_assert_eq(ctl_print_forensics(S("{\"forensics\":[]}"), c.f, err, sizeof err), 0);
	cr_assert_str_eq(cap_close(&c), "no kept session directories\n");
	free(c.text);
	cap_open(&c);
	cr_assert_eq(ctl_print_forensics(S("{\"sessions\":[]}"), c.f, err, sizeof err), -1);
	cap_close(&c);
	free(c.text);
	cr_assert(strstr(err, "no \"forensics\" list") != NULL, "%s", err);
}

Test(ctl_format, a_mistyped_field_shows_as_a_question_mark_not_a_crash)
{
	static const char json[] =
	    "{\"sessions\":[{\"id\":[1],\"user\":5,\"started\":\"yesterday\\u001b[2J\","
	    "\"last_input\":7,\"bytes_in\":-1,\"bytes_out\":\"many\",\"fps\":null,"
	    "\"state\":\"act\\u202eive\"}]}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_sessions(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s", err);
	const char *out = cap_close(&c);
	cr_assert_str_eq(out,
			 "ID  USER  CLIENT  STARTED        LAST-INPUT  IN  OUT  FPS  STATE\n"
			 "?   ?     ?       yesterday?[2J  ?            ?    ?    ?  act?ive\n");
	cr_assert(strchr(out, '\x1b') == NULL);
	free(c.text);
}

Test(ctl_format, answers_of_the_wrong_shape_are_refused_with_what_is_wrong)
{
	static const struct {
		int which; /* 0 sessions, 1 limits, 2 users */
		const char *json;
		const char *msg;
	} cases[] = {
		{ 0, "", "is not JSON" },
		{ 0, "<html>", "is not JSON" },
		{ 0, "[]", "is not a JSON object" },
		{ 0, "{}", "has no \"sessions\" list" },
		{ 0, "{\"sessions\":{}}", "has no \"sessions\" list" },
		{ 0, "{\"sessions\":[1]}", "session 1 of the list is not a JSON object" },
		{ 0, "{\"sessions\":[{}, \"x\"]}", "session 2 of the list" },
		{ 0, "{\"sessions\":[]} trailing", "is not JSON" },
		{ 1, "{}", "holds no limits" },
		{ 1, "null", "is not JSON" },
		{ 2, "{\"users\":null}", "has no \"users\" list" },
		{ 2, "{\"users\":[[]]}", "user 1 of the list is not a JSON object" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct capture c;
		char err[256] = "";
		int rc;
		size_t len = strlen(cases[i].json);
		cap_open(&c);
		if (cases[i].which == 0)
			rc = ctl_print_sessions(cases[i].json, len, c.f, err, sizeof err);
		else if (cases[i].which == 1)
			rc = ctl_print_limits(cases[i].json, len, c.f, err, sizeof err);
		else
			rc = ctl_print_users(cases[i].json, len, c.f, err, sizeof err);
		cap_close(&c);
		free(c.text);
		cr_assert_eq(rc, -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
			  err, cases[i].msg);
	}
}

Test(ctl_format, limits_in_the_contracts_order_then_any_others)
{
	static const char json[] =
	    "{\"login_lockout_s\":300,\"future_knob\":3,\"max_fps\":0,\"max_sessions\":20,"
	    "\"max_sessions_per_user\":1,\"reconnect_grace_s\":0,\"weird\":\"x\"}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_limits(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cap_close(&c),
			 "NAME                   VALUE\n"
			 "max_sessions           20\n"
			 "max_sessions_per_user  1\n"
			 "reconnect_grace_s      0\n"
			 "max_fps                0 (off)\n"
			 "login_lockout_s        300\n"
			 "future_knob            3\n"
			 "weird                  ?\n");
	free(c.text);
}

Test(ctl_format, users_show_name_role_and_lock)
{
	static const char json[] =
	    "{\"users\":[{\"name\":\"root\",\"role\":\"admin\",\"locked\":false},"
	    "{\"name\":\"yamada@city\",\"role\":\"staff\",\"locked\":true},"
	    "{\"name\":\"x\",\"role\":\"staff\"}]}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_users(json, sizeof json - 1, c.f, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cap_close(&c),
			 "NAME         ROLE   LOCKED\n"
			 "root         admin  no\n"
			 "yamada@city  staff  yes\n"
			 "x            staff  ?\n");
	free(c.text);
}

Test(ctl_format, status_says_draining_full_and_the_counts)
{
	static const char limits[] = "{\"max_sessions\":4,\"max_sessions_per_user\":1}";
	static const char sessions[] =
	    "{\"sessions\":[{\"state\":\"active\"},{\"state\":\"detached\"},"
	    "{\"state\":\"active\"},{\"state\":\"starting\"}]}";
	struct capture c;
	char err[256];
	cap_open(&c);
	cr_assert_eq(ctl_print_status("https://pg:8444",
				      S("{\"status\":\"ok\",\"draining\":false,\"sessions\":4}"),
				      S(limits), S(sessions), c.f, err, sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(cap_close(&c),
			 "server:    https://pg:8444 (ok)\n"
			 "state:     full: new sessions are refused\n"
			 "sessions:  4 of at most 4: 2 active, 1 detached, 1 starting or ending\n"
			 "per user:  1 session at most\n");
	free(c.text);

	cap_open(&c);
	cr_assert_eq(ctl_print_status("https://pg:8444",
				      S("{\"status\":\"ok\",\"draining\":true,\"sessions\":0}"),
				      S("{\"max_sessions\":0,\"max_sessions_per_user\":2}"),
				      S("{\"sessions\":[]}"), c.f, err, sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(cap_close(&c),
			 "server:    https://pg:8444 (ok)\n"
			 "state:     draining: no new sessions; existing ones go on\n"
			 "sessions:  0 (no limit): 0 active, 0 detached\n"
			 "per user:  2 sessions at most\n");
	free(c.text);

	cap_open(&c);
	cr_assert_eq(ctl_print_status("https://pg:8444", S("{}"), S("[]"), S("{\"sessions\":[]}"),
				      c.f, err, sizeof err),
		     -1);
	cap_close(&c);
	free(c.text);
	cr_assert(strstr(err, "GET /api/v1/limits is not a JSON object") != NULL, "%s", err);
}

Test(ctl_format, status_json_combines_the_three_answers)
{
	char err[256];
	char *s = ctl_status_json(S("{\"status\":\"ok\",\"draining\":false,\"sessions\":1}"),
				  S("{\"max_fps\":5}"), S("{\"sessions\":[{\"id\":\"a\"}]}"), err,
				  sizeof err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_str_eq(s,
			 "{\"health\":{\"status\":\"ok\",\"draining\":false,\"sessions\":1},"
			 "\"limits\":{\"max_fps\":5},\"sessions\":[{\"id\":\"a\"}]}");
	free(s);
	cr_assert_null(ctl_status_json(S("{}"), S("{}"), S("nope"), err, sizeof err));
}

Test(ctl_format, a_refusal_says_status_error_message_field_and_retry)
{
	static const struct {
		int status, retry;
		const char *body;
		const char *line;
	} cases[] = {
		{ 400, -1,
		  "{\"error\":\"invalid_limit\",\"field\":\"max_fps\","
		  "\"message\":\"max_fps must be an integer between 0 and 60\"}",
		  "HTTP 400 invalid_limit: max_fps must be an integer between 0 and 60 (field "
		  "max_fps)" },
		{ 503, 30, "{\"error\":\"node_full\",\"message\":\"full\",\"retry_after_s\":99}",
		  "HTTP 503 node_full: full; retry after 30 s" },
		{ 429, -1, "{\"error\":\"locked\",\"message\":\"wait\",\"retry_after_s\":120}",
		  "HTTP 429 locked: wait; retry after 120 s" },
		{ 404, -1, "{\"error\":\"not_found\"}", "HTTP 404 not_found" },
		{ 500, -1, "{}", "HTTP 500 (no \"error\" or \"message\" in the answer)" },
		{ 502, -1, "", "HTTP 502 (empty answer)" },
		{ 502, -1, "<html>\x1b[2J</html>",
		  "HTTP 502 (the answer is not JSON: \"<html>?[2J</html>\")" },
		{ 401, -1, "{\"error\":\"x\\u001b]0;pwned\\u0007\",\"message\":[1]}",
		  "HTTP 401 x?]0;pwned?" },
		{ 400, -1, "{\"error\":\"e\",\"message\":\"m\",\"retry_after_s\":-5}",
		  "HTTP 400 e: m" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[512];
		ctl_describe_refusal(cases[i].status, cases[i].retry, cases[i].body,
				     strlen(cases[i].body), out, sizeof out);
		cr_assert_str_eq(out, cases[i].line, "case %zu", i);
	}
	/* a huge message is cut, never overflows */
	size_t n = 100000;
	char *big = malloc(n + 64);
	strcpy(big, "{\"error\":\"e\",\"message\":\"");
	size_t k = strlen(big);
	memset(big + k, 'm', n);
	strcpy(big + k + n, "\"}");
	char out[300];
	ctl_describe_refusal(400, -1, big, strlen(big), out, sizeof out);
	cr_assert_eq(strlen(out), sizeof out - 1);
	cr_assert_eq(strncmp(out, "HTTP 400 e: mmm", 15), 0);
	free(big);
}
