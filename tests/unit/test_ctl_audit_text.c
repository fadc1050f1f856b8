/*
 * test_ctl_audit_text.c: what security staff type and read with
 * `pixelgatectl audit`. Times are taken as local (JST) or RFC 3339 and
 * impossible ones refused; filters keep exactly the records asked for, with
 * --since inclusive and --until exclusive; details and tables cannot drive
 * the terminal; sessions are summed up from their records; the command line
 * refuses options that do not belong to the subcommand.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_audit_text.h"

static void tz_tokyo(void)
{
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
}

TestSuite(ctl_audit, .init = tz_tokyo);

/* 2026-11-26T00:00:00Z */
#define T0 1795651200000LL

static int64_t parse_ok(const char *text)
{
	int64_t ms = -42;
	char err[256] = "";
	cr_assert_eq(ctl_audit_parse_time(text, &ms, err, sizeof err), 0, "%s: %s", text, err);
	return ms;
}

Test(ctl_audit, times_are_local_unless_they_say_their_zone)
{
	cr_assert_eq(parse_ok("2026-11-26 09:00"), T0);
	cr_assert_eq(parse_ok("2026-11-26T09:00"), T0);
	cr_assert_eq(parse_ok("2026-11-26t09:00:00"), T0);
	cr_assert_eq(parse_ok("2026-11-26 09:00:30"), T0 + 30000);
	cr_assert_eq(parse_ok("2026-11-26 09:00:30.5"), T0 + 30500);
	cr_assert_eq(parse_ok("2026-11-26T09:00:30.123456Z"), T0 + 9 * 3600000LL + 30123);
	cr_assert_eq(parse_ok("2026-11-26"), T0 - 9 * 3600000LL);
	cr_assert_eq(parse_ok("2026-11-26T00:00:00Z"), T0);
	cr_assert_eq(parse_ok("2026-11-26T00:00Z"), T0);
	cr_assert_eq(parse_ok("2026-11-26T09:00:00+09:00"), T0);
	cr_assert_eq(parse_ok("2026-11-25T18:30:00-05:30"), T0);
	cr_assert_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(parse_ok("2028-02-29 12:00"), 1835406000000LL);
}

Test(ctl_audit, impossible_or_malformed_times_are_refused_with_the_reason)
{
	static const char *const bad[] = {
		"",
		"9:00",
		"2026-11-26 9:00",
		"2026/11/26",
		"2026-11-26 09:00 ",
		" 2026-11-26",
		"2026-11-26  09:00",
		"2026-11-26 09",
		"2026-11-26 09:00:",
		"2026-11-26 09:00:0",
		"2026-11-26 09:00:00.",
		"2026-11-26 09:00:00.1234567890",
		"2026-11-26T09:00:00+0900",
		"2026-11-26T09:00:00+09",
		"2026-11-26T09:00:00Z+09:00",
		"2026-11-26T09:00:00 Z",
		"２０２６-11-26",
		"2026-11-26\n",
		"2026-11-26 09:00\x1b[2J",
		"now",
		"yesterday",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 7;
		char err[256] = "";
		cr_assert_eq(ctl_audit_parse_time(bad[i], &ms, err, sizeof err), -1, "%s", bad[i]);
		cr_assert_eq(ms, 7);
		cr_assert(strstr(err, "not a time") != NULL, "%s: %s", bad[i], err);
	}
	static const char *const impossible[] = {
		"2026-02-30",
		"2027-02-29 00:00",
		"2026-13-01",
		"2026-00-10",
		"2026-11-31",
		"2026-11-26 24:00",
		"2026-11-26 09:60",
		"2026-11-26 09:00:60",
		"2026-11-26T09:00:00+24:00",
		"2026-11-26T09:00:00+09:60",
		"1969-12-31",
		"1970-01-01 08:59",
		"0000-01-01",
	};
	for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
		int64_t ms;
		char err[256] = "";
		cr_assert_eq(ctl_audit_parse_time(impossible[i], &ms, err, sizeof err), -1, "%s",
			     impossible[i]);
		cr_assert(strstr(err, "no such") != NULL || strstr(err, "before 1970") != NULL,
			  "%s: %s", impossible[i], err);
	}
	char err[256];
	int64_t ms;
	cr_assert_eq(ctl_audit_parse_time("2026-11-26 9:00", &ms, err, sizeof err), -1);
	cr_assert_str_eq(err,
			 "\"2026-11-26 9:00\": not a time (use 2026-11-26 09:00, "
			 "2026-11-26T09:00 or RFC 3339 like 2026-11-26T00:00:00Z)");
	cr_assert_eq(ctl_audit_parse_time(NULL, &ms, err, sizeof err), -1);
	/* a tiny error buffer is still terminated */
	char tiny[4];
	cr_assert_eq(ctl_audit_parse_time("x", &ms, tiny, sizeof tiny), -1);
	cr_assert_eq(strlen(tiny), 3);
}

Test(ctl_audit, a_local_time_skipped_by_summer_time_is_refused)
{
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	int64_t ms;
	char err[256];
	cr_assert_eq(ctl_audit_parse_time("2026-03-29 02:30", &ms, err, sizeof err), -1);
	cr_assert_str_eq(err, "\"2026-03-29 02:30\": no such date or local time");
	cr_assert_eq(ctl_audit_parse_time("2026-03-29 03:30", &ms, err, sizeof err), 0);
	cr_assert_eq(ms, 1774747800000LL); /* 01:30Z */
	tz_tokyo();
}

static json_t *rec(const char *json)
{
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);
	cr_assert_not_null(o, "%s: %s", json, e.text);
	return o;
}

Test(ctl_audit, filters_keep_exactly_what_was_asked)
{
	json_t *nav = rec("{\"ts\":\"2026-11-26T00:00:00.000Z\",\"seq\":5,\"event\":\"navigate\","
			  "\"user\":\"yamada\",\"client\":\"10.1.2.7\",\"session\":\"s-a1\","
			  "\"url\":\"https://WWW.City.Example.lg.jp/Kurashi\",\"title\":\"t\"}");
	json_t *dl = rec(
	    "{\"ts\":\"2026-11-26T02:59:59.999Z\",\"seq\":6,\"event\":\"download_blocked\","
	    "\"user\":\"yamada2\",\"session\":\"s-a10\",\"url\":\"https://x/\"}");
	json_t *bad_ts = rec("{\"ts\":\"yesterday\",\"event\":\"navigate\",\"user\":\"yamada\"}");
	json_t *typed = rec("{\"ts\":\"2026-11-26T00:00:00.000Z\",\"event\":7,\"user\":1,"
			    "\"url\":false}");
	struct ctl_audit_filter f;

	memset(&f, 0, sizeof f);
	cr_assert(ctl_audit_match(&f, nav));
	cr_assert(ctl_audit_match(&f, bad_ts));
	cr_assert_not(ctl_audit_match(&f, NULL));

	f.user = "yamada";
	cr_assert(ctl_audit_match(&f, nav));
	cr_assert_not(ctl_audit_match(&f, dl)); /* not a prefix match */
	cr_assert_not(ctl_audit_match(&f, typed));
	f.user = "YAMADA";
	cr_assert_not(ctl_audit_match(&f, nav));

	memset(&f, 0, sizeof f);
	f.session = "s-a1";
	cr_assert(ctl_audit_match(&f, nav));
	cr_assert_not(ctl_audit_match(&f, dl));

	memset(&f, 0, sizeof f);
	f.event = "download_blocked,navigate";
	cr_assert(ctl_audit_match(&f, nav));
	cr_assert(ctl_audit_match(&f, dl));
	cr_assert_not(ctl_audit_match(&f, typed));
	f.event = "navigat";
	cr_assert_not(ctl_audit_match(&f, nav));
	f.event = "navigate,";
	cr_assert(ctl_audit_match(&f, nav));
	f.event = ",";
	cr_assert_not(ctl_audit_match(&f, nav));

	memset(&f, 0, sizeof f);
	f.url_contains = "city.example.LG.jp/kurashi";
	cr_assert(ctl_audit_match(&f, nav));
	cr_assert_not(ctl_audit_match(&f, dl));
	cr_assert_not(ctl_audit_match(&f, bad_ts)); /* no url at all */
	cr_assert_not(ctl_audit_match(&f, typed));
	f.url_contains = "https://WWW.City.Example.lg.jp/Kurashi/";
	cr_assert_not(ctl_audit_match(&f, nav)); /* longer than the url */

	/* since inclusive, until exclusive, to the millisecond */
	memset(&f, 0, sizeof f);
	f.since_set = true;
	f.since_ms = T0;
	cr_assert(ctl_audit_match(&f, nav));
	f.since_ms = T0 + 1;
	cr_assert_not(ctl_audit_match(&f, nav));
	cr_assert_not(ctl_audit_match(&f, bad_ts));
	memset(&f, 0, sizeof f);
	f.until_set = true;
	f.until_ms = T0 + 3 * 3600000LL; /* 12:00 JST */
	cr_assert(ctl_audit_match(&f, dl));
	f.until_ms = T0 + 3 * 3600000LL - 1;
	cr_assert_not(ctl_audit_match(&f, dl));
	f.until_ms = T0;
	cr_assert_not(ctl_audit_match(&f, nav));

	json_decref(nav);
	json_decref(dl);
	json_decref(bad_ts);
	json_decref(typed);
}

Test(ctl_audit, details_put_the_url_first_and_leave_out_the_columns)
{
	json_t *r = rec(
	    "{\"ts\":\"2026-11-26T00:00:00.000Z\",\"seq\":1,\"event\":\"session_end\","
	    "\"user\":\"u\",\"client\":\"c\",\"session\":\"s\",\"prev\":\"\",\"mac\":\"m\","
	    "\"reason\":\"logout\",\"duration_s\":61,\"bytes_out\":5,\"bytes_in\":4,"
	    "\"recorded\":true}");
	char out[256];
	ctl_audit_details(r, out, sizeof out);
	cr_assert_str_eq(out, "reason=logout bytes_in=4 bytes_out=5 duration_s=61 recorded=true");
	json_decref(r);
	r = rec("{\"event\":\"download_blocked\",\"filename\":\"a b.exe\",\"url\":\"https://x/\","
		"\"title\":\"T\",\"what\":\"w\",\"tab\":2}");
	ctl_audit_details(r, out, sizeof out);
	cr_assert_str_eq(out, "url=https://x/ title=T filename=a b.exe what=w tab=2");
	/* cut to the buffer, terminated */
	char small[12];
	memset(small, 'x', sizeof small);
	ctl_audit_details(r, small, sizeof small);
	cr_assert_str_eq(small, "url=https:/");
	ctl_audit_details(NULL, out, sizeof out);
	cr_assert_str_eq(out, "");
	json_decref(r);
}

/* Output of a print function. */
static char *capture(int (*fn)(void *), void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	FILE *saved = stdout;
	stdout = f;
	cr_assert_eq(fn(arg), 0);
	stdout = saved;
	fclose(f);
	return text;
}

struct recs_arg {
	json_t **r;
	size_t n;
};

static int print_recs(void *arg)
{
	struct recs_arg *a = arg;
	return ctl_audit_print_records(a->r, a->n, stdout);
}

Test(ctl_audit, query_tables_show_local_time_and_clean_text)
{
	json_t *r[2];
	r[0] = rec(
	    "{\"ts\":\"2026-11-26T00:30:00.000Z\",\"event\":\"login_ok\",\"user\":\"yamada\","
	    "\"client\":\"10.1.2.7\",\"session\":\"\"}");
	r[1] = rec("{\"ts\":\"2026-11-26T15:00:00.250Z\",\"event\":\"navigate\",\"user\":\"u\","
		   "\"client\":\"c\",\"session\":\"s-1\",\"url\":\"https://e/\\u001b[2J\","
		   "\"title\":\"\\u202eabc\"}");
	struct recs_arg a = { r, 2 };
	char *out = capture(print_recs, &a);
	cr_assert_str_eq(out,
			 "TIME                 USER    CLIENT    SESSION  EVENT     DETAILS\n"
			 "2026-11-26 09:30:00  yamada  10.1.2.7  -        login_ok  -\n"
			 "2026-11-27 00:00:00  u       c         s-1      navigate  "
			 "url=https://e/?[2J title=?abc\n");
	free(out);
	json_decref(r[0]);
	json_decref(r[1]);
}

static void fold(struct ctl_audit_sessions *s, const char *json)
{
	json_t *o = rec(json);
	cr_assert_eq(ctl_audit_sessions_add(s, o), 0);
	json_decref(o);
}

static struct ctl_audit_sessions sample_sessions(void)
{
	struct ctl_audit_sessions s;
	ctl_audit_sessions_init(&s);
	/* an earlier session whose start is not in the files */
	fold(&s,
	     "{\"ts\":\"2026-11-25T23:59:00.000Z\",\"event\":\"session_end\",\"user\":\"old\","
	     "\"client\":\"10.0.0.5\",\"session\":\"s-0\",\"reason\":\"idle\",\"duration_s\":7200}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:31:14.000Z\",\"event\":\"session_start\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\",\"width\":1920,\"height\":1080}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:32:00.000Z\",\"event\":\"login_ok\",\"user\":\"suzuki\","
	     "\"client\":\"10.1.2.3\",\"session\":\"\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:33:00.000Z\",\"event\":\"navigate\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\",\"url\":\"https://a/\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:34:00.000Z\",\"event\":\"session_start\",\"user\":\"suzuki\","
	     "\"client\":\"10.1.2.3\",\"session\":\"s-b2\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:35:00.000Z\",\"event\":\"navigate\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\",\"url\":\"https://b/\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:36:00.000Z\",\"event\":\"new_tab\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\",\"url\":\"https://c/\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:37:00.000Z\",\"event\":\"download_blocked\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\",\"url\":\"https://c/x.exe\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:38:00.000Z\",\"event\":\"file_dialog_blocked\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.7\",\"session\":\"s-a1\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:39:00.000Z\",\"event\":\"protocol_violation\",\"user\":\"suzuki\","
	     "\"client\":\"10.1.2.3\",\"session\":\"s-b2\",\"what\":\"x\"}");
	fold(&s,
	     "{\"ts\":\"2026-11-26T00:40:00.000Z\",\"event\":\"session_attach\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.8\",\"session\":\"s-a1\"}");
	/* no duration_s: taken from the times */
	fold(&s,
	     "{\"ts\":\"2026-11-26T01:31:15.000Z\",\"event\":\"session_end\",\"user\":\"yamada\","
	     "\"client\":\"10.1.2.8\",\"session\":\"s-a1\",\"reason\":\"logout\"}");
	/* only navigation records: not a session line */
	fold(&s,
	     "{\"ts\":\"2026-11-26T01:40:00.000Z\",\"event\":\"navigate\",\"user\":\"x\","
	     "\"client\":\"c\",\"session\":\"s-x\",\"url\":\"https://a/\"}");
	return s;
}

struct sess_arg {
	struct ctl_audit_sessions *s;
	struct ctl_audit_filter f;
	bool json;
};

static int print_sess(void *arg)
{
	struct sess_arg *a = arg;
	return ctl_audit_print_sessions(a->s, &a->f, a->json, stdout);
}

Test(ctl_audit, sessions_count_pages_and_blocked_events)
{
	struct ctl_audit_sessions s = sample_sessions();
	struct sess_arg a = { .s = &s };
	cr_assert_eq(s.n, 4);
	char *out = capture(print_sess, &a);
	cr_assert_str_eq(
	    out,
	    "SESSION  USER    CLIENT    START                END                  "
	    "DURATION  PAGES  BLOCKED\n"
	    "s-0      old     10.0.0.5  -                    2026-11-26 08:59:00   "
	    "2:00:00      0        0\n"
	    "s-a1     yamada  10.1.2.7  2026-11-26 09:31:14  2026-11-26 10:31:15   "
	    "1:00:01      2        2\n"
	    "s-b2     suzuki  10.1.2.3  2026-11-26 09:34:00  open                        "
	    "-      0        1\n");
	free(out);

	a.json = true;
	a.f.user = "yamada";
	out = capture(print_sess, &a);
	cr_assert_str_eq(out,
			 "{\"blocked\":2,\"client\":\"10.1.2.7\",\"duration_s\":3601,"
			 "\"end\":\"2026-11-26T01:31:15.000Z\",\"end_reason\":\"logout\","
			 "\"pages\":2,\"session\":\"s-a1\",\"start\":\"2026-11-26T00:31:14.000Z\","
			 "\"user\":\"yamada\"}\n");
	free(out);
	ctl_audit_sessions_free(&s);
}

Test(ctl_audit, sessions_are_listed_when_they_overlap_the_period)
{
	struct ctl_audit_sessions s = sample_sessions();
	struct ctl_audit_filter f;
	const struct ctl_audit_session *s0 = &s.v[0], *a1 = &s.v[1], *b2 = &s.v[2], *x = &s.v[3];
	memset(&f, 0, sizeof f);
	cr_assert_not(ctl_audit_session_match(x, &f));
	/* since 09:00 JST: s-0 ended 08:59 */
	f.since_set = true;
	f.since_ms = T0;
	cr_assert_not(ctl_audit_session_match(s0, &f));
	cr_assert(ctl_audit_session_match(a1, &f));
	cr_assert(ctl_audit_session_match(b2, &f)); /* open */
	/* until 09:34 JST exactly: s-b2 starts then, so it is out */
	f.since_set = false;
	f.until_set = true;
	f.until_ms = T0 + 34 * 60000LL;
	cr_assert(ctl_audit_session_match(a1, &f));
	cr_assert_not(ctl_audit_session_match(b2, &f));
	cr_assert(ctl_audit_session_match(s0, &f));
	/* until 06:00 JST: s-0 (06:59 to 08:59 by its duration) had not started */
	f.until_ms = T0 - 3 * 3600000LL;
	cr_assert_not(ctl_audit_session_match(s0, &f));
	f.until_ms = T0 - 2 * 3600000LL + 1;
	cr_assert(ctl_audit_session_match(s0, &f));
	/* user */
	memset(&f, 0, sizeof f);
	f.user = "suzuki";
	cr_assert(ctl_audit_session_match(b2, &f));
	cr_assert_not(ctl_audit_session_match(a1, &f));
	ctl_audit_sessions_free(&s);
}

Test(ctl_audit, durations_read_as_hours_minutes_seconds)
{
	char out[32];
	ctl_audit_duration(0, out, sizeof out);
	cr_assert_str_eq(out, "0:00:00");
	ctl_audit_duration(4001, out, sizeof out);
	cr_assert_str_eq(out, "1:06:41");
	ctl_audit_duration(97200, out, sizeof out);
	cr_assert_str_eq(out, "27:00:00");
	ctl_audit_duration(-1, out, sizeof out);
	cr_assert_str_eq(out, "-");
}

/* Parse a command line given as one string of words. */
static int parse(const char *line, struct ctl_audit_args *a, char *err, size_t errlen)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;
	snprintf(buf, sizeof buf, "%s", line);
	argv[argc++] = "pixelgatectl";
	for (char *tok = strtok(buf, " "); tok != NULL && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return ctl_audit_args_parse(argc, argv, a, err, errlen);
}

Test(ctl_audit, the_command_line_has_safe_defaults)
{
	struct ctl_audit_args a;
	char err[256];
	cr_assert_eq(parse("audit verify", &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(a.cmd, CTL_AUDIT_VERIFY);
	cr_assert_str_eq(a.key_file, "/etc/pixelgate/audit.key");
	cr_assert_str_eq(a.dir, "/var/log/pixelgate/audit");
	cr_assert_eq(a.nfiles, 0);
	cr_assert_null(a.head);
	free(a.files);

	cr_assert_eq(parse("audit verify b.jsonl a.jsonl --key-file=/k --head /h", &a, err,
			   sizeof err),
		     0, "%s", err);
	cr_assert_null(a.dir);
	cr_assert_eq(a.nfiles, 2);
	cr_assert_str_eq(a.files[0], "b.jsonl"); /* in the order given */
	cr_assert_str_eq(a.files[1], "a.jsonl");
	cr_assert_str_eq(a.key_file, "/k");
	cr_assert_str_eq(a.head, "/h");
	free(a.files);

	cr_assert_eq(
	    parse("audit --dir /d query --user yamada --since 2026-11-26T09:00 --until "
		  "2026-11-26T12:00 --event navigate --url-contains city --session s1 --json",
		  &a, err, sizeof err),
	    0, "%s", err);
	cr_assert_eq(a.cmd, CTL_AUDIT_QUERY);
	cr_assert_str_eq(a.dir, "/d");
	cr_assert_str_eq(a.filter.user, "yamada");
	cr_assert(a.filter.since_set && a.filter.until_set);
	cr_assert_eq(a.filter.since_ms, T0);
	cr_assert_eq(a.filter.until_ms, T0 + 3 * 3600000LL);
	cr_assert_str_eq(a.filter.event, "navigate");
	cr_assert_str_eq(a.filter.url_contains, "city");
	cr_assert_str_eq(a.filter.session, "s1");
	cr_assert(a.json);
	free(a.files);

	/* a file named like an option, after "--" */
	cr_assert_eq(parse("audit sessions -- --json", &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(a.cmd, CTL_AUDIT_SESSIONS);
	cr_assert_eq(a.nfiles, 1);
	cr_assert_str_eq(a.files[0], "--json");
	cr_assert_not(a.json);
	free(a.files);

	cr_assert_eq(parse("audit query --help", &a, err, sizeof err), 1);
	cr_assert_null(a.files);
}

Test(ctl_audit, the_command_line_refuses_what_does_not_belong)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "audit", "audit: missing verify, query or sessions" },
		{ "audit show", "unknown audit command \"show\" (verify, query, sessions)" },
		{ "user list", "not an audit command" },
		{ "audit query --key-file /k", "--key-file only goes with audit verify" },
		{ "audit sessions --head /h", "--head only goes with audit verify" },
		{ "audit sessions --event navigate", "--event only goes with audit query" },
		{ "audit verify --user u", "--user only goes with audit query or audit sessions" },
		{ "audit verify --json", "--json only goes with audit query or audit sessions" },
		{ "audit verify --dir /d a.jsonl", "give --dir D or FILES, not both" },
		{ "audit query --user a --user b", "--user given twice" },
		{ "audit query --user", "--user needs a value" },
		{ "audit query --user=", "--user needs a non-empty value" },
		{ "audit query --verbose", "unknown option \"--verbose\"" },
		{ "audit query --use yamada", "unknown option \"--use\"" },
		{ "audit query --json=yes", "unknown option \"--json=yes\"" },
		{ "audit query --since 2026-11-26T12:00 --until 2026-11-26T09:00",
		  "--since must be before --until" },
		{ "audit query --since 2026-11-26T09:00 --until 2026-11-26T09:00",
		  "--since must be before --until" },
		{ "audit query --since 2026-02-30",
		  "--since: \"2026-02-30\": no such date or local time" },
		{ "audit query --until tomorrow",
		  "--until: \"tomorrow\": not a time (use 2026-11-26 09:00, 2026-11-26T09:00 or "
		  "RFC 3339 like 2026-11-26T00:00:00Z)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ctl_audit_args a;
		char err[256] = "";
		cr_assert_eq(parse(cases[i].line, &a, err, sizeof err), -1, "%s", cases[i].line);
		cr_assert_str_eq(err, cases[i].err, "%s", cases[i].line);
		cr_assert_null(a.files);
	}
}
