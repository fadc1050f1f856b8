/*
 * test_viewer_config.c: the viewer's settings file. A good file (with the
 * BOM and CRLF line ends Windows Notepad writes), the override order, every
 * kind of mistake reported as "name:LINE: message" with the exact text, and
 * files that are not text at all. The server address parser's own table is
 * in test_client_url.c.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viewer_config.h"

static int parse_text(struct viewer_config *c, const char *text, char *err)
{
	return viewer_config_parse(c, "viewer.conf", text, strlen(text), err, 512);
}

Test(viewer_config, defaults_are_empty_with_language_auto)
{
	struct viewer_config c;
	memset(&c, 'x', sizeof c);
	viewer_config_defaults(&c);
	cr_expect_str_eq(c.server, "");
	cr_expect_str_eq(c.ca_file, "");
	cr_expect_str_eq(c.user, "");
	cr_expect_str_eq(c.language, "auto");
}

Test(viewer_config, reads_a_file_written_by_windows_notepad)
{
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	const char *text = "\xef\xbb\xbf# 情報システム課が配布する設定\r\n"
			   "[viewer]\r\n"
			   "server = https://pixelgate.example.lg.jp:8443 ; 本番\r\n"
			   "ca_file = C:\\pixelgate\\ca.pem\r\n"
			   "\r\n"
			   "user = yamada.taro\r\n"
			   "language = ja\r\n";
	cr_assert_eq(parse_text(&c, text, err), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://pixelgate.example.lg.jp:8443");
	cr_expect_str_eq(c.ca_file, "C:\\pixelgate\\ca.pem");
	cr_expect_str_eq(c.user, "yamada.taro");
	cr_expect_str_eq(c.language, "ja");
}

Test(viewer_config, later_files_override_and_empty_values_clear)
{
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	cr_assert_eq(
	    parse_text(&c,
		       "[viewer]\nserver = https://pg.example\nca_file = /etc/pixelgate/ca.pem\n"
		       "user = shared\nlanguage = en\n",
		       err),
	    0, "%s", err);
	cr_assert_eq(parse_text(&c, "[viewer]\nuser =\nlanguage =\n", err), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://pg.example");
	cr_expect_str_eq(c.ca_file, "/etc/pixelgate/ca.pem");
	cr_expect_str_eq(c.user, "");
	cr_expect_str_eq(c.language, "auto");
	cr_assert_eq(parse_text(&c, "", err), 0, "%s", err); /* an empty file is fine */
	cr_expect_str_eq(c.server, "https://pg.example");
}

Test(viewer_config, hostile_files_give_the_line_and_what_is_wrong)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "[viewer]\nserver = http://pg.example\n",
		  "viewer.conf:2: server: http:// is not allowed: the connection must be encrypted "
		  "(https://)" },
		{ "[viewer]\nserver = https://pg.example/login\n",
		  "viewer.conf:2: server: a path (\"/login\") is not allowed: write "
		  "https://host[:port]" },
		{ "[other]\nuser = a\n",
		  "viewer.conf:1: unknown section [other]; the only section is [viewer]" },
		{ "[viewer]\nuser = a\n\n[Viewer]\n",
		  "viewer.conf:4: unknown section [Viewer]; the only section is [viewer]" },
		{ "[ viewer ]\n",
		  "viewer.conf:1: unknown section [ viewer ]; the only section is [viewer]" },
		{ "user = a\n[viewer]\n",
		  "viewer.conf:1: \"user\" is outside a section; put [viewer] above it" },
		{ "[viewer]\ncolour = red\n",
		  "viewer.conf:2: unknown key \"colour\" in [viewer] (known: server, ca_file, user, "
		  "language)" },
		{ "[viewer]\nServer = https://pg.example\n",
		  "viewer.conf:2: unknown key \"Server\" in [viewer] (known: server, ca_file, user, "
		  "language)" },
		{ "[viewer]\npassword = hunter2\n",
		  "viewer.conf:2: passwords are never read from this file (use --password-file for "
		  "scripts)" },
		{ "[viewer]\nuser = a\n\nuser = b\n",
		  "viewer.conf:4: user is set twice (first on line 2)" },
		{ "[viewer]\nserver = https://a.example\n[viewer]\nserver = https://b.example\n",
		  "viewer.conf:4: server is set twice (first on line 2)" },
		{ "[viewer]\nserver = https://pg.example\n  user = taro\n",
		  "viewer.conf:3: the line starts with a space, so it would continue the value of "
		  "server above; remove the spaces" },
		{ "[viewer]\nuser = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "viewer.conf:2: user: value longer than 64 bytes" },
		{ "[viewer]\nlanguage = japanese\n",
		  "viewer.conf:2: language: value longer than 7 bytes" },
		{ "[viewer]\nuser = yamada taro\n",
		  "viewer.conf:2: user: \"yamada taro\" is not a user name (letters, digits, . _ @ - "
		  "only)" },
		{ "[viewer]\nuser = 山田\n",
		  "viewer.conf:2: user: \"山田\" is not a user name (letters, digits, . _ @ - only)" },
		{ "[viewer]\nlanguage = fr\n",
		  "viewer.conf:2: language: \"fr\" is not one of ja, en, auto" },
		{ "[viewer]\nlanguage = JA\n",
		  "viewer.conf:2: language: \"JA\" is not one of ja, en, auto" },
		{ "[viewer]\nca_file = /a\tb\n",
		  "viewer.conf:2: ca_file: the value contains a control character (tab?)" },
		{ "[viewer]\n\nuser\n",
		  "viewer.conf:3: syntax error (expected [viewer] or key = value)" },
		{ "[viewer\nuser = a\n",
		  "viewer.conf:1: syntax error (expected [viewer] or key = value)" },
		/* libinih reads on after a syntax error: the first problem is reported. */
		{ "[viewer]\nuser\ncolour = red\n",
		  "viewer.conf:2: syntax error (expected [viewer] or key = value)" },
		{ "[viewer]\ncolour = red\nuser\n",
		  "viewer.conf:2: unknown key \"colour\" in [viewer] (known: server, ca_file, user, "
		  "language)" },
		/* Shift_JIS "設定" in a comment: the file was not saved as UTF-8. */
		{ "[viewer]\n# \x90\xdd\x92\xe8\n",
		  "viewer.conf:2: not valid UTF-8 (byte 0x90); save the file as UTF-8" },
		{ "[viewer]\nuser = a\n# caf\xe9\n",
		  "viewer.conf:3: not valid UTF-8 (byte 0xe9); save the file as UTF-8" },
		{ "# \xc0\xaf overlong slash\n",
		  "viewer.conf:1: not valid UTF-8 (byte 0xc0); save the file as UTF-8" },
		{ "# \xed\xa0\x80 surrogate\n",
		  "viewer.conf:1: not valid UTF-8 (byte 0xed); save the file as UTF-8" },
		{ "# \xf4\x90\x80\x80 beyond U+10FFFF\n",
		  "viewer.conf:1: not valid UTF-8 (byte 0xf4); save the file as UTF-8" },
		{ "# truncated \xe6\x97",
		  "viewer.conf:1: not valid UTF-8 (byte 0xe6); save the file as UTF-8" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct viewer_config c;
		char err[512] = "";
		viewer_config_defaults(&c);
		cr_expect_eq(parse_text(&c, cases[i].text, err), -1, "case %zu accepted", i);
		cr_expect_str_eq(err, cases[i].err, "case %zu", i);
	}
}

Test(viewer_config, nul_bytes_are_refused_with_their_line)
{
	static const char text[] = "[viewer]\nuser = ab\n\nca_file = /x\0y\n";
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	cr_expect_eq(viewer_config_parse(&c, "viewer.conf", text, sizeof text - 1, err, sizeof err),
		     -1);
	cr_expect_str_eq(err, "viewer.conf:4: NUL byte: this is not a text file");
	cr_expect_str_eq(c.user, ""); /* nothing applied */
}

Test(viewer_config, a_line_longer_than_the_parser_buffer_is_refused)
{
	char text[512], expected[128];
	char path[301];
	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	snprintf(text, sizeof text, "[viewer]\nca_file = /%s\nuser = b\n", path);
	snprintf(expected, sizeof expected, "viewer.conf:2: line too long (at most %d characters)",
		 INI_MAX_LINE - 2);
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	cr_expect_eq(parse_text(&c, text, err), -1);
	cr_expect_str_eq(err, expected);
	cr_expect_str_eq(c.user, "");
}

Test(viewer_config, the_longest_line_that_fits_is_read_whole)
{
	/* INI_MAX_LINE - 2 characters plus the newline fill the parser's buffer. */
	char text[512], value[256];
	size_t vlen = INI_MAX_LINE - 2 - strlen("ca_file = ");
	memset(value, 'q', vlen);
	value[0] = '/';
	value[vlen] = '\0';
	snprintf(text, sizeof text, "[viewer]\nca_file = %s\n", value);
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	cr_assert_eq(parse_text(&c, text, err), 0, "%s", err);
	cr_expect_str_eq(c.ca_file, value);
}

/* text of exactly n bytes of 10-byte comment lines. */
static char *comment_lines(size_t n)
{
	char *t = malloc(n + 1);
	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		t[i] = (i % 10 == 9) ? '\n' : '#';
	t[n] = '\0';
	return t;
}

Test(viewer_config, files_over_64_kib_are_refused_at_the_line_that_crosses_the_limit)
{
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	char *t = comment_lines(65536);
	cr_expect_eq(viewer_config_parse(&c, "viewer.conf", t, 65536, err, sizeof err), 0, "%s",
		     err);
	free(t);
	t = comment_lines(65537);
	cr_expect_eq(viewer_config_parse(&c, "viewer.conf", t, 65537, err, sizeof err), -1);
	/* byte 65536 (0-based) sits on line 65536 / 10 + 1 */
	cr_expect_str_eq(err,
			 "viewer.conf:6554: the file is larger than 65536 bytes (64 KiB); is "
			 "it the right file?");
	free(t);
}

Test(viewer_config, a_failed_parse_leaves_the_settings_unchanged)
{
	struct viewer_config c;
	char err[512] = "";
	viewer_config_defaults(&c);
	cr_assert_eq(parse_text(&c, "[viewer]\nuser = first\nserver = https://a.example\n", err),
		     0);
	cr_expect_eq(parse_text(&c, "[viewer]\nuser = second\nserver = https://b.example\nbad\n",
				err),
		     -1);
	cr_expect_str_eq(err, "viewer.conf:4: syntax error (expected [viewer] or key = value)");
	cr_expect_str_eq(c.user, "first");
	cr_expect_str_eq(c.server, "https://a.example");
}

/* A private directory for one test's files. */
static void make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/pg-test-viewer-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

Test(viewer_config, load_reads_a_file_and_a_missing_one_may_be_fine)
{
	char dir[64], path[128], err[512] = "";
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/viewer.conf", dir);
	struct viewer_config c;
	viewer_config_defaults(&c);

	cr_expect_eq(viewer_config_load(&c, path, true, err, sizeof err), 0);
	cr_expect_str_eq(c.server, "");
	cr_expect_eq(viewer_config_load(&c, path, false, err, sizeof err), -1);
	char expected[256];
	snprintf(expected, sizeof expected, "%s: cannot open: No such file or directory", path);
	cr_expect_str_eq(err, expected);

	const char *text = "[viewer]\nserver = https://[::1]:8443\n";
	write_file(path, text, strlen(text));
	cr_expect_eq(viewer_config_load(&c, path, false, err, sizeof err), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://[::1]:8443");

	text = "[viewer]\nuser = x\nlanguage = de\n";
	write_file(path, text, strlen(text));
	cr_expect_eq(viewer_config_load(&c, path, true, err, sizeof err), -1);
	snprintf(expected, sizeof expected, "%s:3: language: \"de\" is not one of ja, en, auto",
		 path);
	cr_expect_str_eq(err, expected);
	cr_expect_str_eq(c.user, "");

	unlink(path);
	rmdir(dir);
}

Test(viewer_config, load_refuses_directories_and_big_files)
{
	char dir[64], path[128], err[512] = "", expected[256];
	make_tmpdir(dir, sizeof dir);
	struct viewer_config c;
	viewer_config_defaults(&c);

	cr_expect_eq(viewer_config_load(&c, dir, true, err, sizeof err), -1);
	snprintf(expected, sizeof expected, "%s: not a regular file", dir);
	cr_expect_str_eq(err, expected);

	snprintf(path, sizeof path, "%s/big.conf", dir);
	char *t = comment_lines(200000);
	write_file(path, t, 200000);
	free(t);
	cr_expect_eq(viewer_config_load(&c, path, true, err, sizeof err), -1);
	snprintf(expected, sizeof expected,
		 "%s:6554: the file is larger than 65536 bytes (64 KiB); is it the right file?",
		 path);
	cr_expect_str_eq(err, expected);

	unlink(path);
	rmdir(dir);
}

Test(viewer_config, user_path_prefers_xdg_config_home)
{
	char out[256];
	cr_assert_eq(setenv("XDG_CONFIG_HOME", "/home/taro/.cfg", 1), 0);
	cr_assert_eq(setenv("HOME", "/home/taro", 1), 0);
	cr_assert_eq(viewer_config_user_path(out, sizeof out), 0);
	cr_expect_str_eq(out, "/home/taro/.cfg/pixelgate/viewer.conf");
}

Test(viewer_config, user_path_falls_back_to_home_dot_config)
{
	char out[256];
	cr_assert_eq(unsetenv("XDG_CONFIG_HOME"), 0);
	cr_assert_eq(setenv("HOME", "/home/taro", 1), 0);
	cr_assert_eq(viewer_config_user_path(out, sizeof out), 0);
	cr_expect_str_eq(out, "/home/taro/.config/pixelgate/viewer.conf");
	/* The XDG spec says a relative XDG_CONFIG_HOME is ignored; so is an empty one. */
	cr_assert_eq(setenv("XDG_CONFIG_HOME", "relative/dir", 1), 0);
	cr_assert_eq(viewer_config_user_path(out, sizeof out), 0);
	cr_expect_str_eq(out, "/home/taro/.config/pixelgate/viewer.conf");
	cr_assert_eq(setenv("XDG_CONFIG_HOME", "", 1), 0);
	cr_assert_eq(viewer_config_user_path(out, sizeof out), 0);
	cr_expect_str_eq(out, "/home/taro/.config/pixelgate/viewer.conf");
}

Test(viewer_config, user_path_fails_without_home_or_room)
{
	char out[256];
	cr_assert_eq(unsetenv("XDG_CONFIG_HOME"), 0);
	cr_assert_eq(unsetenv("HOME"), 0);
	cr_expect_eq(viewer_config_user_path(out, sizeof out), -1);
	cr_assert_eq(setenv("HOME", "", 1), 0);
	cr_expect_eq(viewer_config_user_path(out, sizeof out), -1);
	cr_assert_eq(setenv("HOME", "/home/taro", 1), 0);
	/* "/home/taro/.config/pixelgate/viewer.conf" is 40 bytes: 40 do not fit, 41 do. */
	cr_expect_eq(viewer_config_user_path(out, 40), -1);
	cr_expect_eq(viewer_config_user_path(out, 41), 0);
	cr_expect_str_eq(out, "/home/taro/.config/pixelgate/viewer.conf");
}
