/*
 * test_ctl_args.c: pixelgatectl's admin API command line. Every command of
 * the contract parses to what it means, options go anywhere, mistakes are
 * refused with what is wrong; `limits set KEY=VALUE...` becomes exactly the
 * JSON object the server gets, and names and IDs cannot leave their path
 * segment.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_args.h"

#define ARGV(...) ((char *const[]){ "pixelgatectl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "pixelgatectl", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) \
	ctl_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

Test(ctl_args, every_command_of_the_contract_parses)
{
	struct ctl_opts o;
	char err[256];
	cr_assert_eq(PARSE(&o, err, "status"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_STATUS);
	cr_assert_eq(PARSE(&o, err, "sessions"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_SESSIONS);
	cr_assert_eq(PARSE(&o, err, "sessions", "kill", "abc123"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_SESSIONS_KILL);
	cr_assert_str_eq(o.arg, "abc123");
	cr_assert_eq(PARSE(&o, err, "limits"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_LIMITS);
	cr_assert_eq(PARSE(&o, err, "limits", "set", "max_fps=5", "max_kbps=0"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_LIMITS_SET);
	cr_assert_eq(o.nsettings, 2);
	cr_assert_str_eq(o.settings[0], "max_fps=5");
	cr_assert_str_eq(o.settings[1], "max_kbps=0");
	cr_assert_eq(PARSE(&o, err, "users"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS);
	cr_assert_eq(PARSE(&o, err, "users", "list"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS);
	cr_assert_eq(PARSE(&o, err, "users", "add", "bob", "--admin"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_ADD);
	cr_assert_str_eq(o.arg, "bob");
	cr_assert(o.admin);
	cr_assert_eq(PARSE(&o, err, "users", "del", "bob"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_DEL);
	cr_assert_eq(PARSE(&o, err, "users", "passwd", "bob"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_PASSWD);
	cr_assert_eq(PARSE(&o, err, "users", "lock", "bob"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_LOCK);
	cr_assert_eq(PARSE(&o, err, "users", "unlock", "bob"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_UNLOCK);
	cr_assert_eq(PARSE(&o, err, "users", "admin", "bob", "on"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_USERS_ADMIN);
	cr_assert(o.admin_on);
	cr_assert_eq(PARSE(&o, err, "users", "admin", "bob", "off"), 0, "%s", err);
	cr_assert_not(o.admin_on);
	cr_assert_eq(PARSE(&o, err, "forensics"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_FORENSICS);
	cr_assert_eq(PARSE(&o, err, "forensics", "list"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_FORENSICS);
	cr_assert_eq(PARSE(&o, err, "forensics", "del", "0123456789abcdef"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_FORENSICS_DEL);
	cr_assert_str_eq(o.arg, "0123456789abcdef");
	cr_assert_eq(PARSE(&o, err, "forensics", "del"), -1);
	cr_assert_str_eq(err, "forensics del: missing the session ID");
	cr_assert_eq(PARSE(&o, err, "forensics", "keep", "x"), -1);
	cr_assert(strstr(err, "forensics: unknown subcommand \"keep\"") != NULL, "%s", err);
	cr_assert_eq(PARSE(&o, err, "forensics", "del", "a", "b"), -1);
	cr_assert_str_eq(err, "forensics del: unexpected argument \"b\"");
	cr_assert_eq(PARSE(&o, err, "drain"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_DRAIN);
	cr_assert_eq(PARSE(&o, err, "undrain"), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_UNDRAIN);
}

Test(ctl_args, options_go_before_or_after_the_command_in_both_spellings)
{
	struct ctl_opts o;
	char err[256];
	cr_assert_eq(PARSE(&o, err, "--server", "https://h:1", "sessions", "--json", "--ca=ca.pem",
			   "--user", "root", "--password-file=/p", "--config", "/c"),
		     0, "%s", err);
	cr_assert_str_eq(o.server, "https://h:1");
	cr_assert_str_eq(o.ca_file, "ca.pem");
	cr_assert_str_eq(o.user, "root");
	cr_assert_str_eq(o.password_file, "/p");
	cr_assert_str_eq(o.config_file, "/c");
	cr_assert(o.json);
	cr_assert_eq(PARSE(&o, err, "users", "passwd", "bob", "--new-password-file", "/n"), 0, "%s",
		     err);
	cr_assert_str_eq(o.new_password_file, "/n");
	/* after "--" a session ID may start with '-' */
	cr_assert_eq(PARSE(&o, err, "sessions", "kill", "--", "-x"), 0, "%s", err);
	cr_assert_str_eq(o.arg, "-x");
	cr_assert_eq(PARSE(&o, err, "status", "--help"), 1);
	cr_assert_eq(PARSE(&o, err, "-h"), 1);
}

Test(ctl_args, mistakes_are_refused_with_what_is_wrong)
{
	static const struct {
		const char *argv[8];
		const char *msg; /* part of the message */
	} cases[] = {
		{ { NULL }, "no command given" },
		{ { "frobnicate" }, "unknown command \"frobnicate\"" },
		{ { "status", "now" }, "status: unexpected argument \"now\"" },
		{ { "sessions", "kill" }, "missing the session ID" },
		{ { "sessions", "kill", "a", "b" }, "unexpected argument \"b\"" },
		{ { "sessions", "list" }, "unknown subcommand \"list\"" },
		{ { "limits", "set" }, "missing KEY=VALUE" },
		{ { "limits", "get" }, "unknown subcommand \"get\"" },
		{ { "users", "add" }, "users add: missing NAME" },
		{ { "users", "rename", "a" }, "unknown subcommand \"rename\"" },
		{ { "users", "admin", "bob" }, "missing on or off" },
		{ { "users", "admin", "bob", "yes" }, "\"yes\" is not on or off" },
		{ { "users", "lock", "a", "b" }, "unexpected argument \"b\"" },
		{ { "users", "list", "x" }, "unexpected argument \"x\"" },
		{ { "status", "--admin" }, "--admin only goes with users add" },
		{ { "users", "del", "a", "--new-password-file", "f" }, "only goes with users add" },
		{ { "status", "--server" }, "--server needs a value" },
		{ { "status", "--server=" }, "--server needs a non-empty value" },
		{ { "status", "--user", "a", "--user", "b" }, "--user given twice" },
		{ { "status", "--frob" }, "unknown option \"--frob\"" },
		{ { "status", "-c", "x" }, "-c goes with the users-file commands" },
		{ { "status", "--users-file=x" },
		  "--users-file=x goes with the users-file commands" },
		{ { "frob", "list" },
		  "unknown command \"frob\" (status, sessions, limits, users, policies, drain, undrain, forensics, local-user, audit, recording)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[10] = { "pixelgatectl" };
		int argc = 1;
		for (int k = 0; cases[i].argv[k] != NULL; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		struct ctl_opts o;
		char err[256] = "";
		cr_assert_eq(ctl_args_parse(argc, argv, &o, err, sizeof err), -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
			  err, cases[i].msg);
	}
}

Test(ctl_args, too_many_settings_are_refused_not_overrun)
{
	char *argv[CTL_SETTINGS_MAX + 10] = { "pixelgatectl", "limits", "set" };
	int argc = 3;
	for (int i = 0; i < CTL_SETTINGS_MAX + 1; i++)
		argv[argc++] = "max_fps=1";
	struct ctl_opts o;
	char err[256];
	cr_assert_eq(ctl_args_parse(argc, argv, &o, err, sizeof err), -1);
	cr_assert(strstr(err, "more than") != NULL, "%s", err);
	char *many[CTL_SETTINGS_MAX + 10] = { "pixelgatectl" };
	argc = 1;
	for (int i = 0; i < CTL_SETTINGS_MAX + 5; i++)
		many[argc++] = "x";
	cr_assert_eq(ctl_args_parse(argc, many, &o, err, sizeof err), -1);
}

Test(ctl_args, options_are_spelt_in_full_and_alone)
{
	static const struct {
		const char *argv[4];
		const char *msg;
	} cases[] = {
		{ { "--serv", "https://h:1", "status" }, "unknown option \"--serv\"" },
		{ { "status", "--js" }, "unknown option \"--js\"" },
		{ { "status", "--json=yes" }, "unknown option \"--json=yes\"" },
		{ { "status", "-hx" }, "unknown option \"-hx\"" },
		{ { "status", "-x" }, "unknown option \"-x\"" },
		{ { "status", "---json" }, "unknown option \"---json\"" },
		{ { "--users-file", "f", "status" },
		  "--users-file goes with the users-file commands" },
		{ { "status", "--config=a", "--config", "b" }, "--config given twice" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[6] = { "pixelgatectl" };
		int argc = 1;
		for (int k = 0; k < 4 && cases[i].argv[k] != NULL; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		struct ctl_opts o;
		char err[256] = "";
		cr_assert_eq(ctl_args_parse(argc, argv, &o, err, sizeof err), -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
			  err, cases[i].msg);
	}
}

Test(ctl_args, argv_is_left_in_order_and_each_parse_starts_afresh)
{
	char *argv[] = { "pixelgatectl", "sessions", "--json", "kill", "--", "-x", NULL };
	char *copy[7];
	struct ctl_opts o;
	char err[256];
	memcpy(copy, argv, sizeof argv);
	cr_assert_eq(ctl_args_parse(6, argv, &o, err, sizeof err), 0, "%s", err);
	cr_assert_eq(o.cmd, CTL_CMD_SESSIONS_KILL);
	cr_assert_str_eq(o.arg, "-x");
	cr_assert(o.json);
	cr_assert_arr_eq(argv, copy, sizeof argv);
	/* after a line with "--", options are options again */
	cr_assert_eq(PARSE(&o, err, "--json", "status"), 0, "%s", err);
	cr_assert(o.json);
	cr_assert_eq(PARSE(&o, err, "status", "--server", "https://h:1"), 0, "%s", err);
	cr_assert_str_eq(o.server, "https://h:1");
	cr_assert_null(o.user);
	cr_assert_not(o.json);
}

/* The options of the users-file commands (ctl_main.c): -c is --config. */
static const struct option user_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "users-file", required_argument, NULL, 'v' },
	{ "admin", no_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 },
};

Test(ctl_args, a_short_alias_shares_its_long_option_s_value)
{
	const char *vals[2] = { 0 };
	char *argv[] = { "pixelgatectl", "user", "-c", "/c", "--admin", "--config=/d", NULL };
	char err[256] = "";
	optind = 0;
	cr_assert_eq(ctl_getopt(6, argv, "-:c:", user_opts, vals, err, sizeof err), 1);
	cr_assert_str_eq(optarg, "user");
	cr_assert_eq(ctl_getopt(6, argv, "-:c:", user_opts, vals, err, sizeof err), 'c');
	cr_assert_str_eq(vals[0], "/c");
	cr_assert_eq(ctl_getopt(6, argv, "-:c:", user_opts, vals, err, sizeof err), 'a');
	cr_assert_eq(ctl_getopt(6, argv, "-:c:", user_opts, vals, err, sizeof err), '?');
	cr_assert_str_eq(err, "--config given twice");
	cr_assert_eq(ctl_getopt(6, argv, "-:c:", user_opts, vals, err, sizeof err), -1);

	char *empty[] = { "pixelgatectl", "-c", "", NULL };
	vals[0] = NULL;
	optind = 0;
	cr_assert_eq(ctl_getopt(3, empty, "-:c:", user_opts, vals, err, sizeof err), '?');
	cr_assert_str_eq(err, "--config needs a non-empty value");
	char *missing[] = { "pixelgatectl", "list", "-c", NULL };
	optind = 0;
	cr_assert_eq(ctl_getopt(3, missing, "-:c:", user_opts, vals, err, sizeof err), 1);
	cr_assert_eq(ctl_getopt(3, missing, "-:c:", user_opts, vals, err, sizeof err), '?');
	cr_assert_str_eq(err, "-c needs a value");
}

Test(ctl_args, the_command_word_skips_options_and_their_values)
{
	cr_assert_str_eq(ctl_args_command_word(ARGC("user", "add", "x"), ARGV("user", "add", "x")),
			 "user");
	cr_assert_str_eq(ctl_args_command_word(ARGC("-c", "user", "sessions"),
					       ARGV("-c", "user", "sessions")),
			 "sessions");
	cr_assert_str_eq(ctl_args_command_word(ARGC("--user", "user", "--json", "users"),
					       ARGV("--user", "user", "--json", "users")),
			 "users");
	cr_assert_str_eq(ctl_args_command_word(ARGC("--users-file", "f", "--admin", "user"),
					       ARGV("--users-file", "f", "--admin", "user")),
			 "user");
	cr_assert_str_eq(ctl_args_command_word(ARGC("--password-file=p", "user"),
					       ARGV("--password-file=p", "user")),
			 "user");
	cr_assert_str_eq(ctl_args_command_word(ARGC("--", "user"), ARGV("--", "user")), "user");
	cr_assert_null(ctl_args_command_word(ARGC("--json"), ARGV("--json")));
	cr_assert_null(ctl_args_command_word(ARGC("--server"), ARGV("--server")));
}

Test(ctl_args, limits_set_becomes_the_json_object_the_server_gets)
{
	const char *kv[] = { "max_sessions=20", "idle_timeout_s=0", "max_fps=-1",
			     "max_kbps=9223372036854775807" };
	char *body, err[256];
	cr_assert_eq(ctl_limits_body(kv, 4, &body, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(body,
			 "{\"max_sessions\":20,\"idle_timeout_s\":0,\"max_fps\":-1,"
			 "\"max_kbps\":9223372036854775807}");
	free(body);
}

Test(ctl_args, bad_settings_are_refused_naming_the_argument)
{
	static const struct {
		const char *kv;
		const char *msg;
	} cases[] = {
		{ "max_fps", "expected KEY=VALUE" },
		{ "=5", "KEY must be a limit name" },
		{ "Max_fps=5", "KEY must be a limit name" },
		{ "max fps=5", "KEY must be a limit name" },
		{ "max-fps=5", "KEY must be a limit name" },
		{ "max_fps\"=5", "KEY must be a limit name" },
		{ "max_fps=", "max_fps: \"\" is not an integer" },
		{ "max_fps=5s", "is not an integer" },
		{ "max_fps= 5", "is not an integer" },
		{ "max_fps=+5", "is not an integer" },
		{ "max_fps=0x10", "is not an integer" },
		{ "max_fps=1.5", "is not an integer" },
		{ "max_fps=-", "is not an integer" },
		{ "max_fps=9223372036854775808", "is not an integer" },
		{ "max_fps=99999999999999999999999", "is not an integer" },
		{ "max_fps=true", "is not an integer" },
		{ "max_fps=5=6", "is not an integer" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		  "KEY must be a limit name" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *body = (char *)"untouched", err[256] = "";
		const char *kv[] = { cases[i].kv };
		cr_assert_eq(ctl_limits_body(kv, 1, &body, err, sizeof err), -1, "case %zu", i);
		cr_assert_null(body, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
			  err, cases[i].msg);
	}
	const char *dup[] = { "max_fps=1", "max_kbps=2", "max_fps=3" };
	char *body, err[256];
	cr_assert_eq(ctl_limits_body(dup, 3, &body, err, sizeof err), -1);
	cr_assert_str_eq(err, "max_fps given twice");
}

Test(ctl_args, names_and_ids_stay_inside_their_path_segment)
{
	char out[64];
	cr_assert_eq(ctl_path_segment("yamada@city.example-1_x~", out, sizeof out), 0);
	cr_assert_str_eq(out, "yamada@city.example-1_x~");
	cr_assert_eq(ctl_path_segment("../admin", out, sizeof out), 0);
	cr_assert_str_eq(out, "..%2Fadmin");
	cr_assert_eq(ctl_path_segment("a b?c#d%e\r\n\xff", out, sizeof out), 0);
	cr_assert_str_eq(out, "a%20b%3Fc%23d%25e%0D%0A%FF");
	cr_assert_eq(ctl_path_segment("", out, sizeof out), -1);
	cr_assert_eq(ctl_path_segment(".", out, sizeof out), -1);
	cr_assert_eq(ctl_path_segment("..", out, sizeof out), -1);
	/* exactly fits, then one byte too many */
	cr_assert_eq(ctl_path_segment("abc", out, 4), 0);
	cr_assert_eq(ctl_path_segment("abcd", out, 4), -1);
	cr_assert_eq(ctl_path_segment("a/", out, 4), -1);
	cr_assert_eq(ctl_path_segment("/", out, 4), 0);
	cr_assert_str_eq(out, "%2F");
}
