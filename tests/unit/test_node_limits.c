/*
 * test_node_limits.c: the limits table, `limits set KEY=VALUE` text, the
 * PATCH /api/v1/limits body (hostile bodies, each with the exact field and
 * message an administrator gets, and nothing applied), and the overrides
 * file in the state directory.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "node_limits.h"

Test(node_limits, table_holds_the_documented_bounds_and_defaults)
{
	static const struct {
		const char *name;
		int min, max, def;
		bool zero_off; /* pixelgatectl shows "0 (off)" */
	} want[] = {
		{ "max_sessions", 0, 10000, 0, true },
		{ "max_sessions_per_user", 1, 100, 1, false },
		{ "idle_timeout_s", 0, 86400, 1800, true },
		{ "max_session_s", 0, 604800, 0, true },
		{ "reconnect_grace_s", 0, 86400, 120, false },
		{ "max_fps", 0, 240, 0, true },
		{ "max_kbps", 0, 10000000, 0, true },
		{ "login_max_failures", 0, 1000, 5, true },
		{ "login_lockout_s", 1, 86400, 300, false },
		{ "login_rate_per_s", 0, 10000, 5, true },
		{ "login_burst", 1, 10000, 20, false },
		{ "admin_rate_per_s", 0, 10000, 10, true },
		{ "admin_burst", 1, 10000, 60, false },
	};
	size_t n = 0;
	const struct limits_key *t = limits_table(&n);
	cr_assert_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(t[i].name, want[i].name);
		cr_assert_eq(t[i].min, want[i].min, "%s", want[i].name);
		cr_assert_eq(t[i].max, want[i].max, "%s", want[i].name);
		cr_assert_eq(t[i].def, want[i].def, "%s", want[i].name);
		cr_assert_eq(t[i].zero_off, want[i].zero_off, "%s", want[i].name);
		cr_assert(!t[i].zero_off || t[i].min == 0, "%s", want[i].name);
		cr_assert(t[i].help != NULL && t[i].help[0] != '\0');
		cr_assert_eq(t[i].offset % sizeof(int), 0);
		cr_assert_lt(t[i].offset, sizeof(struct limits));
		cr_assert_eq(limits_find(want[i].name), &t[i]);
	}
}

Test(node_limits, defaults_fill_every_field)
{
	struct limits l;
	memset(&l, 0x5a, sizeof l);
	limits_defaults(&l);
	cr_assert_eq(l.max_sessions, 0);
	cr_assert_eq(l.max_sessions_per_user, 1);
	cr_assert_eq(l.idle_timeout_s, 1800);
	cr_assert_eq(l.max_session_s, 0);
	cr_assert_eq(l.reconnect_grace_s, 120);
	cr_assert_eq(l.max_fps, 0);
	cr_assert_eq(l.max_kbps, 0);
	cr_assert_eq(l.login_max_failures, 5);
	cr_assert_eq(l.login_lockout_s, 300);
	cr_assert_eq(l.login_rate_per_s, 5);
	cr_assert_eq(l.login_burst, 20);
	cr_assert_eq(l.admin_rate_per_s, 10);
	cr_assert_eq(l.admin_burst, 60);
}

Test(node_limits, find_knows_only_the_table)
{
	cr_assert_null(limits_find("bogus"));
	cr_assert_null(limits_find(""));
	cr_assert_null(limits_find(NULL));
	cr_assert_null(limits_find("MAX_FPS"));
	cr_assert_null(limits_find("max_fps "));
}

/* One `limits set NAME=VALUE` and what it must do. */
struct text_case {
	const char *name, *value;
	int rc;
	int want;            /* the field's value after a success */
	const char *message; /* the whole of err after a failure */
};

static const struct text_case text_cases[] = {
	{ "max_sessions", "0", 0, 0, NULL },
	{ "max_sessions", "10000", 0, 10000, NULL },
	{ "max_sessions", "-0", 0, 0, NULL },
	{ "max_sessions", "007", 0, 7, NULL },
	{ "max_sessions", "10001", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "-1", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "-", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", " 5", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "5 ", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "+5", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "0x10", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "1e3", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "5.0", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "--1", -1, 0, "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "4294967296", -1, 0,
	  "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "99999999999999999999999999", -1, 0,
	  "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions", "-99999999999999999999999999", -1, 0,
	  "max_sessions: must be an integer between 0 and 10000" },
	{ "max_sessions_per_user", "0", -1, 0,
	  "max_sessions_per_user: must be an integer between 1 and 100" },
	{ "login_lockout_s", "0", -1, 0,
	  "login_lockout_s: must be an integer between 1 and 86400" },
	{ "max_kbps", "10000000", 0, 10000000, NULL },
	{ "max_kbps", "10000001", -1, 0, "max_kbps: must be an integer between 0 and 10000000" },
	{ "max_session_s", "604800", 0, 604800, NULL },
	{ "bogus", "1", -1, 0, "bogus: unknown limit" },
	{ "", "1", -1, 0, ": unknown limit" },
	{ "a\nb\033[31m", "1", -1, 0, "a?b?[31m: unknown limit" },
};

Test(node_limits, set_text_takes_whole_integers_in_range_only)
{
	for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
		const struct text_case *tc = &text_cases[i];
		struct limits l, before;
		char err[256] = "";
		limits_defaults(&l);
		before = l;
		int rc = limits_set_text(&l, tc->name, tc->value, err, sizeof err);
		cr_assert_eq(rc, tc->rc, "case %zu (%s=%s): %s", i, tc->name, tc->value, err);
		if (rc == 0) {
			const struct limits_key *k = limits_find(tc->name);
			cr_assert_eq(*(int *)((char *)&l + k->offset), tc->want, "case %zu", i);
		} else {
			cr_assert_str_eq(err, tc->message, "case %zu", i);
			cr_assert_eq(memcmp(&l, &before, sizeof l), 0, "case %zu changed a limit",
				     i);
		}
	}
}

Test(node_limits, set_text_quotes_a_long_unknown_name_cut)
{
	char name[300], err[256];
	struct limits l;
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	limits_defaults(&l);
	cr_assert_eq(limits_set_text(&l, name, "1", err, sizeof err), -1);
	char want[128];
	memset(want, 'x', 64);
	snprintf(want + 64, sizeof want - 64, "...: unknown limit");
	cr_assert_str_eq(err, want);
	/* A tiny buffer is still terminated. */
	char small[8];
	cr_assert_eq(limits_set_text(&l, "max_fps", "x", small, sizeof small), -1);
	cr_assert_str_eq(small, "max_fps");
}

/* One PATCH body and the answer it must get. */
struct patch_case {
	const char *body;
	int rc;
	const char *field;   /* on failure */
	const char *message; /* on failure: err; on success: changes */
};

static const struct patch_case patch_cases[] = {
	/* Good bodies: changes lists what moved, in table order. */
	{ "{}", 0, "", "" },
	{ "{\"max_fps\": 5}", 0, "", "max_fps 0->5" },
	{ "{\"max_fps\": 0}", 0, "", "" },
	{ " {\"idle_timeout_s\":5,\"max_sessions\":2}\n", 0, "",
	  "max_sessions 0->2, idle_timeout_s 1800->5" },
	{ "{\"max_kbps\": 10000000, \"login_lockout_s\": 1, \"login_max_failures\": 0}", 0, "",
	  "max_kbps 0->10000000, login_max_failures 5->0, login_lockout_s 300->1" },
	{ "{\"max_fps\": -0}", 0, "", "" },
	/* Not an object of integers. */
	{ "", -1, "",
	  "body is not valid JSON: '[' or '{' expected near end of file (line 1, column 0)" },
	{ "{", -1, "",
	  "body is not valid JSON: string or '}' expected near end of file (line 1, column 1)" },
	{ "[]", -1, "", "body must be a JSON object of limits" },
	{ "[{\"max_fps\": 5}]", -1, "", "body must be a JSON object of limits" },
	{ "5", -1, "", "body is not valid JSON: '[' or '{' expected near '5' (line 1, column 1)" },
	{ "null", -1, "",
	  "body is not valid JSON: '[' or '{' expected near 'null' (line 1, column 4)" },
	{ "{\"max_fps\":5}x", -1, "",
	  "body is not valid JSON: end of file expected near 'x' (line 1, column 14)" },
	{ "{\"max_fps\":5,\"max_fps\":6}", -1, "",
	  "body is not valid JSON: duplicate object key near '\"max_fps\"' (line 1, column 22)" },
	{ "{\"max_fps\":99999999999999999999}", -1, "",
	  "body is not valid JSON: too big integer near '99999999999999999999' (line 1, column 31)" },
	{ "{\"x\xff\":1}", -1, "",
	  "body is not valid JSON: unable to decode byte 0xff near '\"x' (line 1, column 3)" },
	{ "{\"a\\u0000\":1}", -1, "",
	  "body is not valid JSON: NUL byte in object key not supported near '\"a\\u0000\"' (line 1, column 10)" },
	/* A value that is not an integer, even one that looks like it. */
	{ "{\"max_fps\": true}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": false}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": 1.0}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": 1e2}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": \"5\"}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": null}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": [5]}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": {\"v\": 5}}", -1, "max_fps",
	  "max_fps must be an integer between 0 and 240" },
	/* Out of range, at both ends and far beyond an int. */
	{ "{\"max_fps\": 241}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": -1}", -1, "max_fps", "max_fps must be an integer between 0 and 240" },
	{ "{\"max_sessions_per_user\": 0}", -1, "max_sessions_per_user",
	  "max_sessions_per_user must be an integer between 1 and 100" },
	{ "{\"login_lockout_s\": 0}", -1, "login_lockout_s",
	  "login_lockout_s must be an integer between 1 and 86400" },
	{ "{\"max_kbps\": 4294967296}", -1, "max_kbps",
	  "max_kbps must be an integer between 0 and 10000000" },
	{ "{\"max_kbps\": 9223372036854775807}", -1, "max_kbps",
	  "max_kbps must be an integer between 0 and 10000000" },
	{ "{\"max_kbps\": -9223372036854775808}", -1, "max_kbps",
	  "max_kbps must be an integer between 0 and 10000000" },
	/* Unknown fields, quoted back printable only. */
	{ "{\"bogus\": 1}", -1, "bogus", "unknown limit \"bogus\"" },
	{ "{\"MAX_FPS\": 1}", -1, "MAX_FPS", "unknown limit \"MAX_FPS\"" },
	{ "{\"\": 1}", -1, "", "unknown limit \"\"" },
	{ "{\"a\\u0001b\\n\\u00e9\": 1}", -1, "a?b???", "unknown limit \"a?b???\"" },
	/* All or nothing: the first bad field, in body order, is the one named. */
	{ "{\"max_fps\": 5, \"max_sessions\": -1}", -1, "max_sessions",
	  "max_sessions must be an integer between 0 and 10000" },
	{ "{\"max_sessions\": 3, \"bogus\": 1, \"max_fps\": 999}", -1, "bogus",
	  "unknown limit \"bogus\"" },
};

Test(node_limits, patch_bodies_get_exact_answers_and_bad_ones_change_nothing)
{
	for (size_t i = 0; i < sizeof patch_cases / sizeof patch_cases[0]; i++) {
		const struct patch_case *pc = &patch_cases[i];
		struct limits l, before;
		char field[80] = "junk", err[512] = "junk", changes[512] = "junk";
		limits_defaults(&l);
		before = l;
		int rc = limits_patch_json(&l, pc->body, strlen(pc->body), field, sizeof field, err,
					   sizeof err, changes, sizeof changes);
		cr_assert_eq(rc, pc->rc, "case %zu: %s", i, rc ? err : changes);
		if (rc == 0) {
			cr_assert_str_eq(changes, pc->message, "case %zu", i);
			cr_assert_str_eq(field, "", "case %zu", i);
			cr_assert_str_eq(err, "", "case %zu", i);
		} else {
			cr_assert_str_eq(field, pc->field, "case %zu", i);
			cr_assert_str_eq(err, pc->message, "case %zu", i);
			cr_assert_str_eq(changes, "", "case %zu", i);
			cr_assert_eq(memcmp(&l, &before, sizeof l), 0, "case %zu changed a limit",
				     i);
		}
	}
}

Test(node_limits, patch_applies_every_field_of_a_good_body)
{
	static const char body[] =
	    "{\"max_sessions\":2,\"max_sessions_per_user\":3,\"idle_timeout_s\":5,"
	    "\"max_session_s\":60,\"reconnect_grace_s\":0,\"max_fps\":5,\"max_kbps\":800,"
	    "\"login_max_failures\":3,\"login_lockout_s\":10}";
	struct limits l;
	char field[80], err[256], changes[512];
	limits_defaults(&l);
	cr_assert_eq(limits_patch_json(&l, body, strlen(body), field, sizeof field, err, sizeof err,
				       changes, sizeof changes),
		     0, "%s", err);
	cr_assert_eq(l.max_sessions, 2);
	cr_assert_eq(l.max_sessions_per_user, 3);
	cr_assert_eq(l.idle_timeout_s, 5);
	cr_assert_eq(l.max_session_s, 60);
	cr_assert_eq(l.reconnect_grace_s, 0);
	cr_assert_eq(l.max_fps, 5);
	cr_assert_eq(l.max_kbps, 800);
	cr_assert_eq(l.login_max_failures, 3);
	cr_assert_eq(l.login_lockout_s, 10);
	cr_assert_str_eq(changes,
			 "max_sessions 0->2, max_sessions_per_user 1->3, idle_timeout_s 1800->5, "
			 "max_session_s 0->60, reconnect_grace_s 120->0, max_fps 0->5, "
			 "max_kbps 0->800, login_max_failures 5->3, login_lockout_s 300->10");
}

Test(node_limits, patch_reads_only_len_bytes_and_small_buffers_stay_terminated)
{
	/* The body is not NUL-terminated where len ends. */
	static const char body[] = "{\"max_fps\": 5}GARBAGE";
	struct limits l;
	char field[4], err[16], changes[6];
	limits_defaults(&l);
	cr_assert_eq(limits_patch_json(&l, body, 14, field, sizeof field, err, sizeof err, changes,
				       sizeof changes),
		     0);
	cr_assert_eq(l.max_fps, 5);
	cr_assert_str_eq(changes, ""); /* "max_fps 0->5" does not fit: left out, not cut */
	cr_assert_eq(limits_patch_json(&l, "{\"bogus_and_long\": 1}", 21, field, sizeof field, err,
				       sizeof err, changes, sizeof changes),
		     -1);
	cr_assert_str_eq(field, "...");
	cr_assert_str_eq(err, "unknown limit \"");
	cr_assert_eq(limits_patch_json(&l, NULL, 0, field, sizeof field, err, sizeof err, changes,
				       sizeof changes),
		     -1);
	cr_assert_str_eq(err, "body is empty");
}

Test(node_limits, to_json_lists_every_limit_in_table_order)
{
	struct limits l;
	limits_defaults(&l);
	l.max_fps = 5;
	char *s = limits_to_json(&l);
	cr_assert_not_null(s);
	cr_assert_str_eq(s,
			 "{\"max_sessions\":0,\"max_sessions_per_user\":1,\"idle_timeout_s\":1800,"
			 "\"max_session_s\":0,\"reconnect_grace_s\":120,\"max_fps\":5,"
			 "\"max_kbps\":0,\"login_max_failures\":5,\"login_lockout_s\":300,"
			 "\"login_rate_per_s\":5,\"login_burst\":20,\"admin_rate_per_s\":10,"
			 "\"admin_burst\":60}");
	/* And it is itself a valid PATCH that changes nothing. */
	struct limits m = l;
	char field[80], err[256], changes[512];
	cr_assert_eq(limits_patch_json(&m, s, strlen(s), field, sizeof field, err, sizeof err,
				       changes, sizeof changes),
		     0, "%s", err);
	cr_assert_str_eq(changes, "");
	free(s);
}

/* ---- the overrides file ---------------------------------------------------- */

static void make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/pg-test-limits-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static char *read_file(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s", path);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* Entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

Test(node_limits, overrides_survive_a_restart_and_hold_only_the_changes)
{
	char dir[64], path[128], err[512] = "";
	struct limits base, cur, loaded;
	struct stat st;
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/limits.json", dir);
	limits_defaults(&base);
	cur = base;
	cur.max_sessions = 2;
	cur.idle_timeout_s = 5;
	umask(022);
	cr_assert_eq(limits_save_overrides(&base, &cur, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_str_eq(read_file(path),
			 "{\n  \"max_sessions\": 2,\n  \"idle_timeout_s\": 5\n}\n");
	cr_assert_eq(count_entries(dir), 1, "a temporary file was left behind");

	/* A restart: the config's defaults, then the file. */
	limits_defaults(&loaded);
	loaded.max_fps = 7; /* from the config file: not overridden, stays */
	cr_assert_eq(limits_load_overrides(&loaded, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(loaded.max_sessions, 2);
	cr_assert_eq(loaded.idle_timeout_s, 5);
	cr_assert_eq(loaded.max_fps, 7);
	cr_assert_eq(loaded.login_lockout_s, 300);

	/* Back to the defaults: the file says so (an empty object). */
	cr_assert_eq(limits_save_overrides(&base, &base, path, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(read_file(path), "{}\n");
	cr_assert_eq(limits_load_overrides(&loaded, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(loaded.max_sessions, 2); /* {} changes nothing */

	/* An existing file with a loose mode is replaced by a 0600 one. */
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(limits_save_overrides(&base, &cur, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	unlink(path);
	rmdir(dir);
}

Test(node_limits, missing_overrides_file_is_no_overrides)
{
	struct limits l, d;
	char err[256] = "";
	limits_defaults(&l);
	d = l;
	cr_assert_eq(limits_load_overrides(&l, "/nonexistent-pg/limits.json", err, sizeof err), 0,
		     "%s", err);
	cr_assert_eq(memcmp(&l, &d, sizeof l), 0);
}

Test(node_limits, save_into_a_missing_directory_fails_with_the_reason)
{
	struct limits l;
	char err[256] = "";
	limits_defaults(&l);
	cr_assert_eq(limits_save_overrides(&l, &l, "/nonexistent-pg/limits.json", err, sizeof err),
		     -1);
	cr_assert_str_eq(err,
			 "/nonexistent-pg/limits.json: cannot create a temporary file: No "
			 "such file or directory");
}

/* One bad overrides file and the message after "PATH: ". */
struct bad_file {
	const char *text;
	mode_t mode;
	const char *message;
};

static const struct bad_file bad_files[] = {
	{ "", 0600,
	  "file is not valid JSON: '[' or '{' expected near end of file (line 1, column 0)" },
	{ "{\"max_fps\": 5,\n \"max_fps\": 6}\n", 0600,
	  "file is not valid JSON: duplicate object key near '\"max_fps\"' (line 2, column 10)" },
	{ "[1]\n", 0600, "file must be a JSON object of limits" },
	{ "{\"max_fps\": 500}\n", 0600, "max_fps must be an integer between 0 and 240" },
	{ "{\"max_fps\": \"5\"}\n", 0600, "max_fps must be an integer between 0 and 240" },
	{ "{\"max_sessions\": 2, \"maxfps\": 5}\n", 0600, "unknown limit \"maxfps\"" },
	{ "{\"max_fps\": 5}\n", 0620,
	  "mode 0620 lets group or others change the limits; run chmod 600 " },
	{ "{\"max_fps\": 5}\n", 0602,
	  "mode 0602 lets group or others change the limits; run chmod 600 " },
};

Test(node_limits, bad_overrides_file_is_refused_with_path_and_reason)
{
	char dir[64], path[128], err[512], want[512];
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/limits.json", dir);
	for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
		struct limits l, before;
		limits_defaults(&l);
		before = l;
		write_file(path, bad_files[i].text, bad_files[i].mode);
		cr_assert_eq(limits_load_overrides(&l, path, err, sizeof err), -1, "case %zu", i);
		snprintf(want, sizeof want, "%s: %s%s", path, bad_files[i].message,
			 strstr(bad_files[i].message, "chmod") ? path : "");
		cr_assert_str_eq(err, want, "case %zu", i);
		cr_assert_eq(memcmp(&l, &before, sizeof l), 0, "case %zu changed a limit", i);
	}
	unlink(path);

	/* Not a regular file; a symbolic link is not followed. */
	struct limits l;
	limits_defaults(&l);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(limits_load_overrides(&l, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", path);
	cr_assert_str_eq(err, want);
	rmdir(path);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_assert_eq(limits_load_overrides(&l, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot open: Too many levels of symbolic links", path);
	cr_assert_str_eq(err, want);
	unlink(path);

	/* Too big to be ours. */
	static char big[70000];
	memset(big, ' ', sizeof big - 3);
	memcpy(big + sizeof big - 3, "{}", 3);
	write_file(path, big, 0600);
	cr_assert_eq(limits_load_overrides(&l, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: larger than 65536 bytes", path);
	cr_assert_str_eq(err, want);
	unlink(path);
	rmdir(dir);
}
