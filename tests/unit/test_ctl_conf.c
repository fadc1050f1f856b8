/*
 * test_ctl_conf.c: pixelgatectl.conf. A good file is read (relative paths
 * taken from its directory, later files overriding earlier ones); every
 * hostile file is refused with "file:line: what", and a refused file
 * changes nothing. The server address parser's own table is in
 * test_client_url.c.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_conf.h"
#include <ini.h>

static int parse(struct ctl_conf *c, const char *text, char *err, size_t errlen)
{
	return ctl_conf_parse(c, "t.conf", "/etc/pixelgate", text, strlen(text), err, errlen);
}

Test(ctl_conf, reads_every_key_and_takes_relative_paths_from_the_files_directory)
{
	struct ctl_conf c;
	char err[512];
	memset(&c, 0, sizeof c);
	cr_assert_eq(parse(&c,
			   "\xef\xbb\xbf; pixelgatectl for the admins\r\n"
			   "[pixelgatectl]\r\n"
			   "server = https://pg1.example.lg.jp:8444   ; node 1\r\n"
			   "ca_file=ca.crt\r\n"
			   "user\t=  admin@city  \r\n"
			   "# a comment\n"
			   "password_file = /root/pg#1\n",
			   err, sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(c.server, "https://pg1.example.lg.jp:8444");
	cr_assert_str_eq(c.ca_file, "/etc/pixelgate/ca.crt");
	cr_assert_str_eq(c.user, "admin@city");
	cr_assert_str_eq(c.password_file, "/root/pg#1", "a '#' inside a value is kept");
}

Test(ctl_conf, a_later_file_overrides_only_the_keys_it_sets)
{
	struct ctl_conf c;
	char err[512];
	memset(&c, 0, sizeof c);
	cr_assert_eq(parse(&c, "[pixelgatectl]\nserver = https://a:1\nuser = one\n", err,
			   sizeof err),
		     0, "%s", err);
	static const char later[] = "[pixelgatectl]\nuser = two\n";
	cr_assert_eq(ctl_conf_parse(&c, "u.conf", NULL, later, sizeof later - 1, err, sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(c.server, "https://a:1");
	cr_assert_str_eq(c.user, "two");
}

Test(ctl_conf, hostile_files_give_the_line_and_what_is_wrong)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "server = https://a\n",
		  "t.conf:1: server: keys go in the [pixelgatectl] section" },
		{ "[viewer]\n", "t.conf:1: unknown section [viewer]" },
		{ "[pixelgatectl\n",
		  "t.conf:1: syntax error (expected [pixelgatectl] or key = value)" },
		{ "[pixelgatectl] x\n", "t.conf:1: text after the section header [pixelgatectl]" },
		{ "[pixelgatectl]\n\nserver\n",
		  "t.conf:3: syntax error (expected [pixelgatectl] or key = value)" },
		{ "[pixelgatectl]\nserver = https://a\n  user = x\n",
		  "t.conf:3: the line starts with a space, so it would continue the value of "
		  "server above" },
		{ "[pixelgatectl]\n= x\n", "t.conf:2: no key before '='" },
		{ "[pixelgatectl]\nuser =\n", "t.conf:2: user: empty value" },
		{ "[pixelgatectl]\nuser = ; nobody\n", "t.conf:2: user: empty value" },
		{ "[pixelgatectl]\npassword = x\n", "t.conf:2: unknown key \"password\"" },
		{ "[pixelgatectl]\nserver = http://a:1\n",
		  "t.conf:2: server: http:// is not allowed" },
		{ "[pixelgatectl]\nserver = a:1\n",
		  "t.conf:2: server: the address must start with https://" },
		{ "[pixelgatectl]\nuser = bad name\n",
		  "t.conf:2: user: \"bad name\" is not a user name" },
		{ "[pixelgatectl]\nuser = x:y\n", "is not a user name" },
		{ "[pixelgatectl]\nuser = "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "t.conf:2: user: longer than 64 characters" },
		{ "[pixelgatectl]\r\nca_file = a\rb\n", "t.conf:2: control character in the line" },
		{ "[pixelgatectl]\nuser = a\x1b[2Jb\n", "t.conf:2: control character in the line" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ctl_conf c;
		char err[512] = "";
		memset(&c, 0, sizeof c);
		cr_assert_eq(parse(&c, cases[i].text, err, sizeof err), -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
			  err, cases[i].msg);
	}
}

Test(ctl_conf, nul_bytes_long_lines_and_long_paths_are_refused_with_their_line)
{
	struct ctl_conf c;
	char err[512];
	static const char nul[] = "[pixelgatectl]\nuser = a\0b\n";
	memset(&c, 0, sizeof c);
	cr_assert_eq(ctl_conf_parse(&c, "t.conf", NULL, nul, sizeof nul - 1, err, sizeof err), -1);
	cr_assert_str_eq(err, "t.conf:2: NUL byte in the line");

	/* libinih's buffer: INI_MAX_LINE bytes with the "\n" and the NUL */
	char *text = malloc(INI_MAX_LINE + 64);
	int n = snprintf(text, 64, "[pixelgatectl]\nca_file = ");
	memset(text + n, 'a', INI_MAX_LINE);
	text[n + INI_MAX_LINE] = '\0';
	cr_assert_eq(ctl_conf_parse(&c, "t.conf", NULL, text, strlen(text), err, sizeof err), -1);
	cr_assert(strstr(err, "t.conf:2: line too long (at most") != NULL, "%s", err);
	/* the longest line that fits is read whole, not cut */
	text[15 + INI_MAX_LINE - 2] = '\0';
	cr_assert_eq(ctl_conf_parse(&c, "t.conf", NULL, text, strlen(text), err, sizeof err), 0,
		     "%s", err);
	cr_assert_eq(strlen(c.ca_file), INI_MAX_LINE - 2 - 10);
	free(text);

	char *deep = malloc(CTL_PATH_MAX + 16);
	memset(deep, 'd', CTL_PATH_MAX);
	deep[0] = '/';
	deep[CTL_PATH_MAX - 1] = '\0';
	char line[64];
	snprintf(line, sizeof line, "[pixelgatectl]\nca_file = %s\n", "x");
	cr_assert_eq(ctl_conf_parse(&c, "t.conf", deep, line, strlen(line), err, sizeof err), -1);
	cr_assert(strstr(err, "t.conf:2: ca_file: path longer than") != NULL, "%s", err);
	free(deep);
}

Test(ctl_conf, a_refused_file_changes_nothing)
{
	struct ctl_conf c, before;
	char err[512];
	memset(&c, 0, sizeof c);
	cr_assert_eq(parse(&c, "[pixelgatectl]\nuser = one\n", err, sizeof err), 0, "%s", err);
	before = c;
	cr_assert_eq(parse(&c, "[pixelgatectl]\nuser = two\nserver = ftp://x\n", err, sizeof err),
		     -1);
	cr_assert_eq(memcmp(&c, &before, sizeof c), 0);
}

Test(ctl_conf, load_reads_a_file_and_a_missing_one_may_be_fine)
{
	char dir[] = "/tmp/pg-test-ctlconf-XXXXXX", path[128], err[512];
	struct ctl_conf c;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/pixelgatectl.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("[pixelgatectl]\nca_file = ca.crt\npassword_file = ../pw\n", f);
	fclose(f);
	memset(&c, 0, sizeof c);
	cr_assert_eq(ctl_conf_load(&c, path, false, err, sizeof err), 0, "%s", err);
	char want[160];
	snprintf(want, sizeof want, "%s/ca.crt", dir);
	cr_assert_str_eq(c.ca_file, want);
	snprintf(want, sizeof want, "%s/../pw", dir);
	cr_assert_str_eq(c.password_file, want);
	unlink(path);
	cr_assert_eq(ctl_conf_load(&c, path, true, err, sizeof err), 0);
	cr_assert_eq(ctl_conf_load(&c, path, false, err, sizeof err), -1);
	cr_assert(strstr(err, "cannot open") != NULL, "%s", err);
	cr_assert_eq(ctl_conf_load(&c, dir, true, err, sizeof err), -1, "a directory is no file");
	rmdir(dir);
}
