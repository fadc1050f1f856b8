/*
 * test_config.c: the configuration parser. Defaults, a good file, and every
 * kind of mistake an administrator makes, each reported as "name:LINE:" with
 * the line the mistake is on; the secret-file permission check.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* A private directory for one test's files; the test removes it. */
static void make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/pg-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

/* Write text to dir/name with mode; path receives the file's path. */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode, char *path,
		       size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0); /* umask-proof */
	close(fd);
}

Test(config, defaults_match_the_documented_values)
{
	struct config c;
	config_defaults(&c);
	cr_assert_str_eq(c.listen_address, "127.0.0.1");
	cr_assert_eq(c.listen_port, 8443);
	cr_assert_str_eq(c.tls_cert, "/etc/pixelgate/tls/server.crt");
	cr_assert_str_eq(c.tls_key, "/etc/pixelgate/tls/server.key");
	cr_assert_str_eq(c.users_file, "/etc/pixelgate/users");
	cr_assert_str_eq(c.runtime_dir, "/run/pixelgate");
	cr_assert_str_eq(c.session_binary, "");
	cr_assert_str_eq(c.user, "pixelgate");
	cr_assert_eq(c.development_unprivileged, false);
	cr_assert_eq(c.development_direct_egress, false);
	cr_assert_eq(c.session_uid_count, 64);
	cr_assert_str_eq(c.home_page, "about:blank");
	cr_assert_str_eq(c.upstream_proxy, "");
	cr_assert_eq(c.default_width, 1280);
	cr_assert_eq(c.default_height, 800);
	cr_assert_eq(c.max_width, 3840);
	cr_assert_eq(c.max_height, 2160);
	cr_assert_eq(c.session_start_timeout_s, 30);
	cr_assert_str_eq(c.chromium_path, "/usr/lib/chromium/chromium");
	cr_assert_str_eq(c.xvfb_path, "/usr/bin/Xvfb");
	cr_assert_eq(c.clipboard_to_browser, false);
	cr_assert_eq(c.clipboard_max_bytes, 65536);
	cr_assert_str_eq(c.state_dir, "/var/lib/pixelgate");
	cr_assert_str_eq(c.admin_listen_address, "127.0.0.1");
	cr_assert_eq(c.admin_listen_port, 8444);
	cr_assert_str_eq(c.agent_check_address, "127.0.0.1");
	cr_assert_eq(c.agent_check_port, 0);
	cr_assert_str_eq(c.recording, "off");
	cr_assert_str_eq(c.recording_users, "");
	cr_assert_str_eq(c.forensics_dir, "/var/log/pixelgate/forensics");
	cr_assert_eq(c.forensics_max_mib, 256);
	cr_assert_str_eq(c.recording_dir, "/var/log/pixelgate/recordings");
	cr_assert_eq(c.recording_retention_days, 90);
	/* The [limits] defaults are the limits table's. */
	struct limits l;
	limits_defaults(&l);
	cr_assert_eq(memcmp(&c.limits, &l, sizeof l), 0);
	cr_assert_eq(c.limits.reconnect_grace_s, 120);
	cr_assert_eq(c.limits.max_sessions_per_user, 1);
	cr_assert_eq(c.limits.idle_timeout_s, 1800);
	cr_assert_eq(c.limits.login_max_failures, 5);
	cr_assert_eq(c.limits.login_lockout_s, 300);
}

Test(config, empty_text_keeps_defaults)
{
	struct config c, d;
	char err[512] = "";
	config_defaults(&c);
	config_defaults(&d);
	cr_assert_eq(config_parse_string(&c, "empty.conf", "", err, sizeof err), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
}

static const char good_conf[] = "# a site's configuration\r\n"
				"[server]\n"
				"listen_address = 10.1.2.3\n"
				"listen_port=9443\n"
				"users_file = /srv/pg/users ; trailing comment\n"
				"session_binary =\n"
				"\n"
				"[session]\n"
				"home_page = https://intra.example.lg.jp/\n"
				"upstream_proxy = proxy.example.lg.jp:8080\r\n"
				"default_width = 1920\n"
				"default_height = 1080\n"
				"reconnect_grace_s = 0\n"
				"[policy]\n"
				"clipboard_to_browser = yes\n"
				"clipboard_max_bytes = 1048576\n";

Test(config, good_file_sets_exactly_its_keys)
{
	char dir[64], path[128], err[512] = "";
	struct config c;
	make_tmpdir(dir, sizeof dir);
	write_file(dir, "pixelgate.conf", good_conf, 0644, path, sizeof path);
	config_defaults(&c);
	int rc = config_load(&c, path, err, sizeof err);
	unlink(path);
	rmdir(dir);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(c.listen_address, "10.1.2.3");
	cr_assert_eq(c.listen_port, 9443);
	cr_assert_str_eq(c.users_file, "/srv/pg/users");
	cr_assert_str_eq(c.session_binary, "");
	cr_assert_str_eq(c.home_page, "https://intra.example.lg.jp/");
	cr_assert_str_eq(c.upstream_proxy, "proxy.example.lg.jp:8080");
	cr_assert_eq(c.default_width, 1920);
	cr_assert_eq(c.default_height, 1080);
	cr_assert_eq(c.limits.reconnect_grace_s, 0); /* [session]: the old name */
	cr_assert_eq(c.clipboard_to_browser, true);
	cr_assert_eq(c.clipboard_max_bytes, 1048576);
	/* Untouched keys keep their defaults. */
	cr_assert_str_eq(c.tls_key, "/etc/pixelgate/tls/server.key");
	cr_assert_eq(c.max_width, 3840);
	cr_assert_eq(c.session_start_timeout_s, 30);
}

Test(config, string_and_file_parse_alike)
{
	struct config a, b;
	char dir[64], path[128], err[512] = "";
	make_tmpdir(dir, sizeof dir);
	write_file(dir, "x.conf", good_conf, 0600, path, sizeof path);
	config_defaults(&a);
	config_defaults(&b);
	cr_assert_eq(config_load(&a, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(config_parse_string(&b, "x.conf", good_conf, err, sizeof err), 0, "%s", err);
	unlink(path);
	rmdir(dir);
	cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}

/* One bad configuration and the exact message it must produce. */
struct bad_conf {
	const char *text;
	const char *message; /* the whole of err */
};

static const struct bad_conf bad_confs[] = {
	{ "[server]\nlisten_port = 8443\n\nlisten_prot = 1\n",
	  "site.conf:4: unknown key \"listen_prot\" in section [server]" },
	{ "# comment\n[server]\nlisten_port = 8443\n[sessions]\nhome_page = about:blank\n",
	  "site.conf:5: unknown section [sessions]" },
	{ "listen_port = 8443\n", "site.conf:1: key \"listen_port\" outside any [section]" },
	{ "[server]\n\n\nlisten_port = 84x3\n",
	  "site.conf:4: listen_port: \"84x3\" is not an integer" },
	{ "[session]\nreconnect_grace_s =\n",
	  "site.conf:2: reconnect_grace_s: must be an integer between 0 and 86400" },
	{ "[server]\nlisten_port = 99999999999999999999\n",
	  "site.conf:2: listen_port: \"99999999999999999999\" is not an integer" },
	{ "[server]\r\nlisten_port = 65535\r\nlisten_port = 65536\r\n",
	  "site.conf:3: listen_port: 65536 is out of range 1..65535" },
	{ "[server]\nlisten_port = 0\n", "site.conf:2: listen_port: 0 is out of range 1..65535" },
	{ "[session]\ndefault_width = 639\n",
	  "site.conf:2: default_width: 639 is out of range 640..7680" },
	{ "[session]\nreconnect_grace_s = -1\n",
	  "site.conf:2: reconnect_grace_s: must be an integer between 0 and 86400" },
	/* [limits]: the limits table's keys and bounds. */
	{ "[limits]\nmax_sessions = 4\nmax_fps = 241\n",
	  "site.conf:3: max_fps: must be an integer between 0 and 240" },
	{ "[limits]\n\nmax_sessions_per_user = 0\n",
	  "site.conf:3: max_sessions_per_user: must be an integer between 1 and 100" },
	{ "[limits]\nlogin_lockout_s = 5m\n",
	  "site.conf:2: login_lockout_s: must be an integer between 1 and 86400" },
	{ "[limits]\nmax_kbps = 1.5\n",
	  "site.conf:2: max_kbps: must be an integer between 0 and 10000000" },
	{ "[limits]\nmax_sessions = 99999999999999999999\n",
	  "site.conf:2: max_sessions: must be an integer between 0 and 10000" },
	{ "[limits]\nmaxfps = 5\n", "site.conf:2: unknown key \"maxfps\" in section [limits]" },
	{ "[limits]\nlisten_port = 5\n",
	  "site.conf:2: unknown key \"listen_port\" in section [limits]" },
	{ "[server]\nmax_fps = 5\n", "site.conf:2: unknown key \"max_fps\" in section [server]" },
	{ "[session]\nmax_fps = 5\n", "site.conf:2: unknown key \"max_fps\" in section [session]" },
	/* The old and the new name of reconnect_grace_s together: which would win? */
	{ "[session]\nreconnect_grace_s = 60\n[limits]\nreconnect_grace_s = 30\n",
	  "site.conf:4: reconnect_grace_s is already set in [session] (line 2); [session] "
	  "reconnect_grace_s is the old name of [limits] reconnect_grace_s, keep only the "
	  "[limits] one" },
	{ "[limits]\nreconnect_grace_s = 30\n\n[session]\nreconnect_grace_s = 60\n",
	  "site.conf:5: reconnect_grace_s is already set in [limits] (line 2); [session] "
	  "reconnect_grace_s is the old name of [limits] reconnect_grace_s, keep only the "
	  "[limits] one" },
	/* [admin] */
	{ "[admin]\nadmin_listen_port = 65536\n",
	  "site.conf:2: admin_listen_port: 65536 is out of range 0..65535" },
	{ "[admin]\nagent_check_port = -1\n",
	  "site.conf:2: agent_check_port: -1 is out of range 0..65535" },
	{ "[admin]\nlisten_port = 1\n",
	  "site.conf:2: unknown key \"listen_port\" in section [admin]" },
	{ "[admin]\nadmin_listen_port = 8443\n",
	  "site.conf: admin_listen_port 8443 is the staff listener's port (listen_port) on the same "
	  "address; the admin API needs a listener of its own" },
	{ "[server]\nlisten_address = 0.0.0.0\nlisten_port = 9000\n[admin]\nadmin_listen_port = 9000\n",
	  "site.conf: admin_listen_port 9000 is the staff listener's port (listen_port) on the same "
	  "address; the admin API needs a listener of its own" },
	{ "[server]\nlisten_port = 9000\n[admin]\nadmin_listen_address = ::\nadmin_listen_port = 9000\n",
	  "site.conf: admin_listen_port 9000 is the staff listener's port (listen_port) on the same "
	  "address; the admin API needs a listener of its own" },
	{ "[admin]\nagent_check_port = 8443\n",
	  "site.conf: agent_check_port 8443 is the staff listener's port (listen_port) on the same "
	  "address; the agent-check needs a port of its own" },
	{ "[admin]\nagent_check_port = 8444\n",
	  "site.conf: agent_check_port 8444 is the admin listener's port (admin_listen_port) on the "
	  "same address; the agent-check needs a port of its own" },
	{ "[server]\nstate_dir = var/lib/pixelgate\n",
	  "site.conf: state_dir must be an absolute path" },
	{ "[audit]\nforensics_dir = forensics\n",
	  "site.conf: forensics_dir must be an absolute path" },
	{ "[audit]\nforensics_max_mib = 0\n",
	  "site.conf:2: forensics_max_mib: 0 is out of range 1..65536" },
	{ "[policy]\nclipboard_max_bytes = 1048577\n",
	  "site.conf:2: clipboard_max_bytes: 1048577 is out of range 0..1048576" },
	{ "[policy]\n\nclipboard_to_browser = maybe\n",
	  "site.conf:3: clipboard_to_browser: \"maybe\" is not a boolean (true/false)" },
	{ "[server]\nlisten_port 8443\n",
	  "site.conf:2: syntax error (expected [section] or key = value)" },
	{ "[server\nlisten_port = 8443\n",
	  "site.conf:1: syntax error (expected [section] or key = value)" },
	/* The syntax error comes first, though the parser goes on past it. */
	{ "[server]\nnonsense\nlisten_port = 0\n",
	  "site.conf:2: syntax error (expected [section] or key = value)" },
	/* The value error comes first, the syntax error after it. */
	{ "[server]\nlisten_port = 0\nnonsense\n",
	  "site.conf:2: listen_port: 0 is out of range 1..65535" },
	{ "[session]\ndefault_width = 3000\nmax_width = 2000\n",
	  "site.conf: default_width x default_height exceeds max_width x max_height" },
	{ "[server]\nruntime_dir = run/pixelgate\n",
	  "site.conf: runtime_dir must be an absolute path" },
	{ "[audit]\nrecording = all\n\nrecording = some\n",
	  "site.conf:4: recording: \"some\" is not off, all or users" },
	{ "[audit]\nrecording_retention_days = -1\n",
	  "site.conf:2: recording_retention_days: -1 is out of range 0..36500" },
	{ "[policy]\nwatermark = stripes\n",
	  "site.conf:2: watermark: \"stripes\" is not off, corner or tiled" },
	{ "[policy]\nwatermark_opacity = 0\n",
	  "site.conf:2: watermark_opacity: 0 is out of range 5..100" },
	/* the reader every INI file shares (ini_lines.c) */
	{ "[server] port\nlisten_port = 8443\n",
	  "site.conf:1: text after the section header [server]" },
	{ "[server]\nlisten_address = 127.0.0.1\n  listen_port = 8443\n",
	  "site.conf:3: the line starts with a space, so it would continue the value of "
	  "listen_address above; remove the spaces" },
	{ "[server]\nlisten_address = 127.0.0.1\x1b[2J\n",
	  "site.conf:2: control character in the line" },
	{ "[server]\r\nlisten_port = 84\r43\r\n", "site.conf:2: control character in the line" },
};

Test(config, each_mistake_is_reported_with_its_line)
{
	for (size_t i = 0; i < sizeof bad_confs / sizeof bad_confs[0]; i++) {
		struct config c;
		char err[512] = "";
		config_defaults(&c);
		cr_assert_eq(config_parse_string(&c, "site.conf", bad_confs[i].text, err,
						 sizeof err),
			     -1, "case %zu accepted", i);
		cr_assert_str_eq(err, bad_confs[i].message, "case %zu: %s", i, err);
	}
}

Test(config, file_errors_name_the_path_and_line)
{
	char dir[64], path[128], err[512] = "", want[512];
	struct config c;
	make_tmpdir(dir, sizeof dir);
	write_file(dir, "bad.conf", "[server]\nlisten_port = 8443\n\n# x\n[policy]\nbogus = 1\n",
		   0600, path, sizeof path);
	config_defaults(&c);
	int rc = config_load(&c, path, err, sizeof err);
	unlink(path);
	rmdir(dir);
	cr_assert_eq(rc, -1);
	snprintf(want, sizeof want, "%s:6: unknown key \"bogus\" in section [policy]", path);
	cr_assert_str_eq(err, want);
}

Test(config, missing_file_is_an_error)
{
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_load(&c, "/nonexistent/pixelgate.conf", err, sizeof err), -1);
	cr_assert_str_eq(err,
			 "/nonexistent/pixelgate.conf: cannot open: No such file or directory");
}

Test(config, too_long_string_value_is_refused)
{
	/* listen_address holds 63 bytes. */
	char text[256], value[80];
	memset(value, 'a', 64);
	value[64] = '\0';
	snprintf(text, sizeof text, "[server]\n\nlisten_address = %s\n", value);
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", text, err, sizeof err), -1);
	cr_assert_str_eq(err, "site.conf:3: listen_address: value longer than 63 bytes");
}

Test(config, over_long_line_is_refused_not_split)
{
	/*
	 * A line longer than the INI parser's buffer must not be cut into a
	 * value and a second "line" made of its tail.
	 */
	static char text[8192];
	int n = snprintf(text, sizeof text, "[session]\nhome_page = https://x.example/");
	memset(text + n, 'a', 4000);
	snprintf(text + n + 4000, sizeof text - (size_t)n - 4000, "\nmax_width = 1\n");
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", text, err, sizeof err), -1);
	cr_assert_eq(strncmp(err, "site.conf:2: line too long", 26), 0, "%s", err);
	cr_assert_str_eq(c.home_page, "about:blank");
}

Test(config, line_without_final_newline_is_read)
{
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", "[server]\nlisten_port = 1234", err,
					 sizeof err),
		     0, "%s", err);
	cr_assert_eq(c.listen_port, 1234);
}

Test(config, secret_file_readable_by_others_is_refused)
{
	char dir[64], path[128], err[512] = "", want[512];
	make_tmpdir(dir, sizeof dir);
	write_file(dir, "server.key", "secret\n", 0644, path, sizeof path);
	int rc = config_check_secret_file(path, err, sizeof err);
	snprintf(want, sizeof want,
		 "%s: mode 0644 lets group or others read a secret; run chmod 600 %s", path, path);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, want);

	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(config_check_secret_file(path, err, sizeof err), -1);
	cr_assert_eq(chmod(path, 0604), 0);
	cr_assert_eq(config_check_secret_file(path, err, sizeof err), -1);

	cr_assert_eq(chmod(path, 0600), 0);
	err[0] = '\0';
	cr_assert_eq(config_check_secret_file(path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(chmod(path, 0400), 0);
	cr_assert_eq(config_check_secret_file(path, err, sizeof err), 0, "%s", err);
	unlink(path);

	/* A directory or a missing file is not a secret file either. */
	cr_assert_eq(config_check_secret_file(dir, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", dir);
	cr_assert_str_eq(err, want);
	cr_assert_eq(config_check_secret_file(path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	cr_assert_str_eq(err, want);
	rmdir(dir);
}

Test(config, limits_and_admin_sections_set_their_keys)
{
	static const char text[] = "[server]\n"
				   "state_dir = /srv/pixelgate/state\n"
				   "[admin]\n"
				   "admin_listen_address = 192.0.2.10\n"
				   "admin_listen_port = 9444\n"
				   "agent_check_address = 192.0.2.10\n"
				   "agent_check_port = 9555\n"
				   "[limits]\n"
				   "max_sessions = 40\n"
				   "max_sessions_per_user = 2\n"
				   "idle_timeout_s = 0\n"
				   "max_session_s = 28800\n"
				   "reconnect_grace_s = 300\n"
				   "max_fps = 15\n"
				   "max_kbps = 20000\n"
				   "login_max_failures = 0\n"
				   "login_lockout_s = 86400\n";
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", text, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(c.state_dir, "/srv/pixelgate/state");
	cr_assert_str_eq(c.admin_listen_address, "192.0.2.10");
	cr_assert_eq(c.admin_listen_port, 9444);
	cr_assert_str_eq(c.agent_check_address, "192.0.2.10");
	cr_assert_eq(c.agent_check_port, 9555);
	cr_assert_eq(c.limits.max_sessions, 40);
	cr_assert_eq(c.limits.max_sessions_per_user, 2);
	cr_assert_eq(c.limits.idle_timeout_s, 0);
	cr_assert_eq(c.limits.max_session_s, 28800);
	cr_assert_eq(c.limits.reconnect_grace_s, 300);
	cr_assert_eq(c.limits.max_fps, 15);
	cr_assert_eq(c.limits.max_kbps, 20000);
	cr_assert_eq(c.limits.login_max_failures, 0);
	cr_assert_eq(c.limits.login_lockout_s, 86400);
}

Test(config, listeners_may_be_off_or_share_a_port_on_other_addresses)
{
	struct config c;
	char err[512] = "";
	/* Port 0 turns a listener off, so it clashes with nothing. */
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", "[admin]\nadmin_listen_port = 0\n", err,
					 sizeof err),
		     0, "%s", err);
	cr_assert_eq(c.admin_listen_port, 0);
	cr_assert_eq(c.agent_check_port, 0);
	/* Same port, two specific addresses: two sockets. */
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf",
					 "[server]\nlisten_address = 10.0.0.1\n"
					 "[admin]\nadmin_listen_port = 8443\n",
					 err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(c.admin_listen_port, 8443);
}

Test(config, old_grace_name_under_session_is_still_read)
{
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", "[session]\nreconnect_grace_s = 15\n",
					 err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(c.limits.reconnect_grace_s, 15);
	/* Repeating it under the same name is fine: the last one counts, as for every key. */
	config_defaults(&c);
	cr_assert_eq(
	    config_parse_string(&c, "site.conf",
				"[limits]\nreconnect_grace_s = 15\nreconnect_grace_s = 16\n", err,
				sizeof err),
	    0, "%s", err);
	cr_assert_eq(c.limits.reconnect_grace_s, 16);
}

/* What config_print_reference() prints (the test's .init must be cr_redirect_stdout). */
static void reference_text(char *out, size_t size)
{
	config_print_reference();
	fflush(stdout);
	FILE *f = cr_get_redirected_stdout();
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
}

Test(config, reference_lists_the_admin_and_limits_keys, .init = cr_redirect_stdout)
{
	static char out[32768];
	reference_text(out, sizeof out);
	static const char *want[] = {
		"\nstate_dir = /var/lib/pixelgate\n",
		"\n[admin]\n",
		"(0..65535)\nadmin_listen_port = 8444\n",
		"\nadmin_listen_address = 127.0.0.1\n",
		"\nagent_check_address = 127.0.0.1\n",
		"(0..65535)\nagent_check_port = 0\n",
		"\n[limits]\n",
		"(0..10000)\nmax_sessions = 0\n",
		"(1..100)\nmax_sessions_per_user = 1\n",
		"(0..86400)\nidle_timeout_s = 1800\n",
		"(0..604800)\nmax_session_s = 0\n",
		"(0..86400)\nreconnect_grace_s = 120\n",
		"(0..240)\nmax_fps = 0\n",
		"(0..10000000)\nmax_kbps = 0\n",
		"(0..1000)\nlogin_max_failures = 5\n",
		"(1..86400)\nlogin_lockout_s = 300\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_not_null(strstr(out, want[i]), "missing %s", want[i]);
	/* The grace period is listed once, under [limits]. */
	char *first = strstr(out, "reconnect_grace_s =");
	cr_assert_null(strstr(first + 1, "reconnect_grace_s ="));
	cr_assert_gt(first, strstr(out, "[limits]"));
}

Test(config, the_reference_output_is_itself_a_valid_configuration, .init = cr_redirect_stdout)
{
	static char out[32768];
	reference_text(out, sizeof out);
	struct config c, d;
	char err[512] = "";
	config_defaults(&c);
	config_defaults(&d);
	cr_assert_eq(config_parse_string(&c, "reference", out, err, sizeof err), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
}

Test(config, upstream_proxy_is_split_into_host_and_port)
{
	char host[256], port[8];

	cr_assert_eq(config_proxy_hostport("proxy.example.lg.jp:8080", host, sizeof host, port,
					   sizeof port),
		     0);
	cr_assert_str_eq(host, "proxy.example.lg.jp");
	cr_assert_str_eq(port, "8080");
	cr_assert_eq(config_proxy_hostport("http://10.1.2.3:3128/", host, sizeof host, port,
					   sizeof port),
		     0);
	cr_assert_str_eq(host, "10.1.2.3");
	cr_assert_str_eq(port, "3128");
	cr_assert_eq(config_proxy_hostport("[2001:db8::5]:8080", host, sizeof host, port,
					   sizeof port),
		     0);
	cr_assert_str_eq(host, "2001:db8::5");
	cr_assert_str_eq(port, "8080");
	static const char *const bad[] = {
		"proxy.example.lg.jp", ":8080",     "proxy:",    "proxy:0",
		"proxy:65536",         "proxy:80a", "pro xy:80", "[2001:db8::5]8080",
		"proxy:123456",        ""
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(config_proxy_hostport(bad[i], host, sizeof host, port, sizeof port),
			     -1, "\"%s\" was accepted", bad[i]);
}

Test(config, a_bad_upstream_proxy_is_refused_at_its_file)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "t.conf", "[session]\nupstream_proxy = no-port\n", err,
					 sizeof err),
		     -1);
	cr_assert(strstr(err, "upstream_proxy") != NULL && strstr(err, "host:port") != NULL, "%s",
		  err);
}

Test(config, auth_ldap_and_group_sections)
{
	static const char *const good =
	    "[auth]\nbackend = ldap\nmfa = admins\n"
	    "[ldap]\nuri = ldaps://dc1.city.example\nbase_dn = dc=city,dc=example\n"
	    "[group kiosk]\ndn = cn=kiosk,ou=groups,dc=city,dc=example\nmax_sessions_per_user = 1\n"
	    "idle_timeout_s = 600\nclipboard_to_browser = on\nrecording = off\n"
	    "url_blocklist = *\nurl_allowlist = https://www.city.example.lg.jp\n"
	    "[group clerks]\ndn = cn=clerks,ou=groups,dc=city,dc=example\nhome_page = "
	    "https://www.city.example.lg.jp/\n";
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "[auth]\nbackend = ad\n", "site.conf:2: backend: \"ad\" is not file or ldap" },
		{ "[auth]\nmfa = some\n",
		  "site.conf:2: mfa: \"some\" is not off, admins or everyone" },
		{ "[auth]\nbackend = ldap\n[group a b]\ndn = x\n",
		  "site.conf:4: [group a b]: a group's name is 1..31 of A-Z a-z 0-9 _ . -" },
		{ "[auth]\nbackend = ldap\n[group k]\nmax_sessions_per_user = 0\n",
		  "site.conf:4: [group k] max_sessions_per_user: at least 1" },
		{ "[auth]\nbackend = ldap\n[group k]\nrecording = all\n",
		  "site.conf:4: [group k] recording: \"all\" is not on or off" },
		{ "[auth]\nbackend = ldap\n[group k]\nbogus = 1\n",
		  "site.conf:4: [group k] unknown key \"bogus\" in [group k] (dn, "
		  "max_sessions_per_user, idle_timeout_s, clipboard_to_browser, "
		  "clipboard_to_terminal, recording, home_page, url_allowlist, url_blocklist)" },
		{ "[auth]\nbackend = ldap\n[group k]\nidle_timeout_s = 60\n",
		  "site.conf: [group k] has no dn (the directory group's DN)" },
		{ "[group k]\ndn = cn=k\n",
		  "site.conf: [group k]: group policies need [auth] backend = ldap (the directory "
		  "says who is in a group)" },
	};
	struct config c;
	char err[512] = "";
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "site.conf", good, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(c.auth_backend, "ldap");
	cr_assert_str_eq(c.auth_mfa, "admins");
	cr_assert_str_eq(c.ldap_uri, "ldaps://dc1.city.example");
	cr_assert_str_eq(c.ldap_user_filter, "(uid=%s)");
	cr_assert_eq(c.n_groups, 2);
	cr_assert_str_eq(c.groups[0].name, "kiosk");
	cr_assert_eq(c.groups[0].max_sessions_per_user, 1);
	cr_assert_eq(c.groups[0].idle_timeout_s, 600);
	cr_assert_eq(c.groups[0].clipboard_to_browser, 1);
	cr_assert_eq(c.groups[0].recording, 0);
	cr_assert(c.groups[0].has_url_blocklist && c.groups[0].has_url_allowlist);
	cr_assert_str_eq(c.groups[0].home_page, "");
	cr_assert_str_eq(c.groups[1].home_page, "https://www.city.example.lg.jp/");
	cr_assert_eq(c.groups[1].max_sessions_per_user, -1);
	cr_assert_eq(c.groups[1].recording, -1);
	cr_assert(!c.groups[1].has_url_blocklist);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		config_defaults(&c);
		cr_assert_eq(config_parse_string(&c, "site.conf", bad[i].text, err, sizeof err), -1,
			     "case %zu accepted", i);
		cr_assert_str_eq(err, bad[i].message, "case %zu: %s", i, err);
	}
}

static void diff_collect(const char *section, const char *name, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 512 - n, "[%s] %s;", section, name);
}

Test(config, diff_names_each_key_that_changed)
{
	static struct config a, b;
	char err[512] = "", out[512] = "";
	config_defaults(&a);
	config_defaults(&b);
	cr_assert_eq(config_diff(&a, &b, diff_collect, out), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(
	    config_parse_string(&b, "b.conf",
				"[server]\nlisten_port = 9443\n[limits]\nmax_sessions = 4\n"
				"[policy]\nclipboard_to_browser = on\n"
				"[admin]\nmetrics_token_file = /etc/pixelgate/metrics.token\n",
				err, sizeof err),
	    0, "%s", err);
	cr_assert_eq(config_diff(&a, &b, diff_collect, out), 3, "%s", out);
	cr_assert_str_eq(out,
			 "[server] listen_port;[admin] metrics_token_file;[policy] "
			 "clipboard_to_browser;",
			 "%s", out);
	cr_assert_neq(a.limits.max_sessions, b.limits.max_sessions, "[limits] is compared apart");
}

/* deploy/pixelgate.conf.example: found from this file's own (absolute, under CMake) path. */
static void example_path(char *out, size_t outlen)
{
	char here[PATH_MAX];
	snprintf(here, sizeof here, "%s", __FILE__);
	char *slash = strstr(here, "/tests/unit/");
	cr_assert(slash != NULL, "cannot find the source tree from %s", __FILE__);
	*slash = '\0';
	snprintf(out, outlen, "%s/deploy/pixelgate.conf.example", here);
}

Test(config, the_example_file_sets_every_key_to_its_default, .init = cr_redirect_stdout)
{
	static char ref[32768];
	reference_text(ref, sizeof ref);

	char path[PATH_MAX];
	example_path(path, sizeof path);
	FILE *ex = fopen(path, "r");
	cr_assert_not_null(ex, "%s", path);
	static char text[65536];
	size_t m = fread(text, 1, sizeof text - 1, ex);
	fclose(ex);
	text[m] = '\0';

	/* Every "key = value" line of the reference is a key the example sets. */
	int keys = 0;
	for (char *line = strtok(ref, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == '[' || strstr(line, " =") == NULL)
			continue;
		char want[96];
		snprintf(want, sizeof want, "\n%.*s =", (int)(strstr(line, " =") - line), line);
		cr_assert_not_null(strstr(text, want), "deploy/pixelgate.conf.example lacks%s",
				   want);
		keys++;
	}
	cr_assert_gt(keys, 60, "only %d keys read from the reference", keys);

	/* "configures exactly what an empty file would, but for upstream_proxy" (its header) */
	static struct config c, d;
	char err[512] = "";
	config_defaults(&c);
	config_defaults(&d);
	cr_assert_eq(config_load(&c, path, err, sizeof err), 0, "%s", err);
	char diff[512] = "";
	cr_assert_eq(config_diff(&c, &d, diff_collect, diff), 1, "the example's values: %s", diff);
	cr_assert_str_eq(diff, "[session] upstream_proxy;");
	cr_assert_eq(memcmp(&c.limits, &d.limits, sizeof c.limits), 0, "the example's [limits]");
}
