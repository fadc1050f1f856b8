/*
 * test_ctl_password.c: pixelgatectl's password files (ctl_password.c) as an
 * administrator writes them (with or without a final newline, CRLF from a
 * Windows editor, UTF-8) and as they go wrong (empty, a NUL, too long, not
 * a file), each with its message and nothing of the password left in the
 * buffer; then a password read from a file is hashed into the users file
 * (argon2id, users.c's format) and authenticates after a reload.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_password.h"
#include "users.h"

/* pixelgatectl's error line (ctl_error.c in the program): kept for the test. */
static char last_error[2048];

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

static char dir[64];

static void dir_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/pg-test-ctlpw-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void dir_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(ctl_password, .init = dir_setup, .fini = dir_teardown);

/* Write len bytes to dir/name (0600); its path into path. */
static void write_file(const char *name, const void *data, size_t len, char *path, size_t plen)
{
	snprintf(path, plen, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0600), 0);
}

static bool all_zero(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

struct pw_case {
	const char *what;
	const char *data;
	size_t len;
	const char *password; /* NULL: refused */
	const char *error;    /* then in the message */
};

#define S(s) s, sizeof s - 1

Test(ctl_password, the_first_line_of_a_file_is_the_password)
{
	static const struct pw_case cases[] = {
		{ "a line", S("correct horse\n"), "correct horse", NULL },
		{ "no final newline", S("correct horse"), "correct horse", NULL },
		{ "CRLF (Windows Notepad)", S("correct horse\r\n"), "correct horse", NULL },
		{ "only the first line", S("first-line\nsecond-line\n"), "first-line", NULL },
		{ "spaces are part of it", S("  spaced out  \n"), "  spaced out  ", NULL },
		{ "UTF-8", S("\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89\n"),
		  "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89", NULL },
		{ "one CR only is stripped", S("pass\r\r\n"), "pass\r", NULL },
		{ "a CR inside stays", S("pa\rss\n"), "pa\rss", NULL },
		{ "empty file", S(""), NULL, "no password (end of file)" },
		{ "empty first line", S("\nsecret\n"), NULL, "the first line is empty" },
		{ "CRLF only", S("\r\n"), NULL, "the first line is empty" },
		{ "a NUL byte", S("secret\0more\n"), NULL, "contains a NUL byte" },
		{ "a NUL byte first", S("\0secret\n"), NULL, "contains a NUL byte" },
		{ "a NUL on the second line is not read", S("secret\n\0"), "secret", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct pw_case *c = &cases[i];
		char path[128], buf[CTL_LINE_MAX];
		write_file("pw", c->data, c->len, path, sizeof path);
		memset(buf, 'Z', sizeof buf);
		last_error[0] = '\0';
		int rc = ctl_password_from_file(path, buf, sizeof buf);
		if (c->password != NULL) {
			cr_expect_eq(rc, 0, "%s: refused: %s", c->what, last_error);
			if (rc == 0)
				cr_expect_str_eq(buf, c->password, "%s", c->what);
			continue;
		}
		cr_expect_eq(rc, -1, "%s: accepted \"%s\"", c->what, buf);
		cr_expect(strstr(last_error, c->error) != NULL, "%s: \"%s\", expected \"%s\"",
			  c->what, last_error, c->error);
		cr_expect(strstr(last_error, path) != NULL,
			  "%s: the message does not name the file", c->what);
		cr_expect(all_zero(buf, sizeof buf) || buf[0] == '\0',
			  "%s: the buffer still holds \"%.20s\"", c->what, buf);
		cr_expect(strstr(buf, "secret") == NULL, "%s: password left in the buffer",
			  c->what);
	}
}

Test(ctl_password, the_length_limit_is_users_password_max_bytes)
{
	static const struct {
		size_t len;
		const char *end;
		bool ok;
	} cases[] = {
		{ USERS_PASSWORD_MAX, "\n", true },        { USERS_PASSWORD_MAX, "\r\n", true },
		{ USERS_PASSWORD_MAX, "", true },          { USERS_PASSWORD_MAX + 1, "\n", false },
		{ USERS_PASSWORD_MAX + 1, "", false },     { USERS_PASSWORD_MAX + 2, "\n", false },
		{ USERS_PASSWORD_MAX + 3, "\r\n", false }, { 100000, "\n", false },
	};
	char *data = malloc(100010);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(data, 's', cases[i].len);
		strcpy(data + cases[i].len, cases[i].end);
		char path[128], buf[CTL_LINE_MAX];
		write_file("pw", data, strlen(data), path, sizeof path);
		last_error[0] = '\0';
		int rc = ctl_password_from_file(path, buf, sizeof buf);
		if (cases[i].ok) {
			cr_expect_eq(rc, 0, "%zu bytes: %s", cases[i].len, last_error);
			cr_expect_eq(strlen(buf), cases[i].len);
		} else {
			cr_expect_eq(rc, -1, "%zu bytes + \"%s\" accepted (%zu)", cases[i].len,
				     cases[i].end[0] == '\r' ? "CRLF" : cases[i].end, strlen(buf));
			cr_expect(strstr(last_error, "password longer than 1024 bytes") != NULL,
				  "%zu bytes: \"%s\"", cases[i].len, last_error);
			cr_expect(all_zero(buf, sizeof buf), "%zu bytes: the buffer was not wiped",
				  cases[i].len);
		}
	}
	free(data);
}

Test(ctl_password, a_missing_file_or_a_directory_is_refused_with_the_reason)
{
	char path[128], buf[CTL_LINE_MAX];
	snprintf(path, sizeof path, "%s/none", dir);
	cr_expect_eq(ctl_password_from_file(path, buf, sizeof buf), -1);
	cr_expect(strstr(last_error, "cannot open: No such file or directory") != NULL, "%s",
		  last_error);
	cr_expect_eq(ctl_password_from_file(dir, buf, sizeof buf), -1);
	cr_expect(strstr(last_error, "read error: Is a directory") != NULL, "%s", last_error);
}

Test(ctl_password, a_password_from_a_file_is_hashed_and_authenticates_after_a_reload)
{
	/* what `pixelgatectl local-user add NAME --password-file F` does, minus the terminal */
	char pwpath[128], userspath[128], buf[CTL_LINE_MAX], err[256];
	write_file("pw", S("\xe7\xa7\x98\xe5\xaf\x86 pass\r\n"), pwpath, sizeof pwpath);
	cr_assert_eq(ctl_password_from_file(pwpath, buf, sizeof buf), 0, "%s", last_error);
	struct users u = { 0 };
	cr_assert_eq(users_set(&u, "alice", true, buf, err, sizeof err), 0, "%s", err);
	snprintf(userspath, sizeof userspath, "%s/users", dir);
	cr_assert_eq(users_save(&u, userspath, err, sizeof err), 0, "%s", err);
	users_free(&u);

	FILE *f = fopen(userspath, "r");
	char line[512];
	cr_assert_not_null(fgets(line, sizeof line, f));
	fclose(f);
	cr_expect_eq(strncmp(line, "alice:admin:$argon2id$", 22), 0, "users file line: %s", line);
	cr_expect_null(strstr(line, "pass"), "the password itself is in the users file");

	struct users back = { 0 };
	cr_assert_eq(users_load(&back, userspath, false, err, sizeof err), 0, "%s", err);
	cr_expect_not_null(users_authenticate(&back, "alice", "\xe7\xa7\x98\xe5\xaf\x86 pass"));
	cr_expect_null(users_authenticate(&back, "alice", "\xe7\xa7\x98\xe5\xaf\x86 pass\r"),
		       "the CR of the file's line became part of the password");
	users_free(&back);
}
