/*
 * ctl_main.c: pixelgatectl, the administrator's command line.
 *
 * Two families of commands:
 *
 * - "user add/passwd/del/list" (singular) manage the users file directly
 *   (users.h), on the gateway's host: this is how the first administrator
 *   is made. The file is rewritten atomically with mode 0600 by
 *   users_save(). Passwords come from a file (first line) or are asked
 *   twice on the terminal with echo off. Exit status: 0 on success, 1 on
 *   any error, with "pixelgatectl: ..." on stderr.
 *
 * - everything else (status, sessions, limits, users, drain, undrain)
 *   speaks the admin API over TLS: ctl_api.c, exit status 0/1/2.
 *
 * main() tells them apart by the first word that is not an option.
 */
#include <errno.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_audit.h"
#include "ctl_recording.h"
#include "ctl_format.h"
#include "ctl_password.h"
#include "users.h"

/* What the command line asked for. */
struct ctl_args {
	const char *object;        /* "user" */
	const char *verb;          /* "add", "passwd", "del", "list" */
	const char *name;          /* user name, NULL for list */
	const char *config_file;   /* -c */
	const char *users_file;    /* --users-file */
	const char *password_file; /* --password-file */
	bool admin;                /* --admin */
};

/* The options of the users-file commands, value options first. */
static const struct option ctl_user_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "users-file", required_argument, NULL, 'v' },
	{ "password-file", required_argument, NULL, 'v' },
	{ "admin", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parse argv into a. Returns 0, 1 when --help was asked, or -1 with err. */
static int ctl_parse_args(int argc, char **argv, struct ctl_args *a, char *err, size_t errlen)
{
	const char *pos[4], *vals[3] = { 0 };
	int npos = 0, c;
	memset(a, 0, sizeof *a);
	optind = 0;
	while ((c = ctl_getopt(argc, argv, "-:hc:", ctl_user_opts, vals, err, errlen)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'h')
			return 1;
		a->admin |= c == 'a';
		if (c == 1 && npos == (int)(sizeof pos / sizeof pos[0]))
			return ctl_fail(err, errlen, "unexpected argument \"%s\"", optarg);
		if (c == 1)
			pos[npos++] = optarg;
	}
	a->config_file = vals[0];
	a->users_file = vals[1];
	a->password_file = vals[2];
	if (npos == 0)
		return ctl_fail(err, errlen, "no command given");
	a->object = pos[0];
	if (strcmp(a->object, "local-user") != 0 && strcmp(a->object, "user") != 0)
		return ctl_fail(err, errlen, "unknown command \"%s\"", a->object);
	if (npos < 2)
		return ctl_fail(err, errlen, "local-user: missing add, passwd, del or list");
	a->verb = pos[1];
	bool is_add = strcmp(a->verb, "add") == 0;
	bool is_passwd = strcmp(a->verb, "passwd") == 0;
	bool is_del = strcmp(a->verb, "del") == 0;
	bool is_list = strcmp(a->verb, "list") == 0;
	if (!is_add && !is_passwd && !is_del && !is_list)
		return ctl_fail(err, errlen,
				"unknown local-user command \"%s\" (add, passwd, del, list)",
				a->verb);
	if (is_list) {
		if (npos > 2)
			return ctl_fail(err, errlen, "local-user list: unexpected argument \"%s\"",
					pos[2]);
	} else {
		if (npos < 3)
			return ctl_fail(err, errlen, "local-user %s: missing NAME", a->verb);
		if (npos > 3)
			return ctl_fail(err, errlen, "local-user %s: unexpected argument \"%s\"",
					a->verb, pos[3]);
		a->name = pos[2];
	}
	if (a->admin && !is_add)
		return ctl_fail(err, errlen, "--admin only goes with local-user add");
	if (a->password_file != NULL && !is_add && !is_passwd)
		return ctl_fail(err, errlen,
				"--password-file only goes with local-user add or passwd");
	if (a->config_file != NULL && a->users_file != NULL)
		return ctl_fail(err, errlen, "give -c CONFIG or --users-file F, not both");
	return 0;
}

/* The new password of name, from --password-file or the terminal. 0 or -1. */
static int ctl_get_password(const struct ctl_args *a, char *buf, size_t size)
{
	if (a->password_file != NULL)
		return ctl_password_from_file(a->password_file, buf, size);
	return ctl_password_new(a->name, buf, size);
}

/*
 * Which users file: --users-file, users_file of -c CONFIG, users_file of
 * the gateway's own configuration (CTL_DEFAULT_CONFIG) when it is there (the
 * Debian package keeps users in /var/lib/pixelgate), or the default.
 */
static int ctl_users_path(const struct ctl_args *a, char *path, size_t size)
{
	if (a->users_file != NULL) {
		if (strlen(a->users_file) >= size) {
			ctl_error("--users-file: path longer than %zu bytes", size - 1);
			return -1;
		}
		snprintf(path, size, "%s", a->users_file);
		return 0;
	}
	const char *conf = a->config_file;
	if (conf == NULL && access(CTL_DEFAULT_CONFIG, F_OK) == 0)
		conf = CTL_DEFAULT_CONFIG;
	if (conf != NULL) {
		struct config c;
		char err[512];
		config_defaults(&c);
		if (config_load(&c, conf, err, sizeof err) != 0) {
			ctl_error("%s", err);
			return -1;
		}
		snprintf(path, size, "%s", c.users_file);
		return 0;
	}
	snprintf(path, size, "%s", CTL_DEFAULT_USERS_FILE);
	return 0;
}

/*
 * Check that the users file can be rewritten (users_save writes a temp file
 * beside it), before asking for a password. 0 or -1 after a message.
 */
static int ctl_check_writable(const char *path)
{
	char copy[CONFIG_PATH_MAX];
	snprintf(copy, sizeof copy, "%s", path);
	const char *dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0) {
		ctl_error("%s: cannot write in directory %s: %s", path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* user add / passwd: set name's password (and role on add), save. 0 or -1. */
static int ctl_user_set(const struct ctl_args *a, const char *path, struct users *u)
{
	bool add = strcmp(a->verb, "add") == 0;
	char password[CTL_LINE_MAX], err[512];
	const struct user *old = users_find(u, a->name);
	bool admin = a->admin;
	int rc = -1;

	if (add && old != NULL) {
		ctl_error(
		    "user \"%s\" already exists in %s (use user passwd to change the password)",
		    a->name, path);
		return -1;
	}
	if (!add) {
		if (old == NULL) {
			ctl_error("no user \"%s\" in %s", a->name, path);
			return -1;
		}
		admin = old->admin; /* passwd keeps the role */
	}
	if (ctl_check_writable(path) != 0)
		return -1;
	if (ctl_get_password(a, password, sizeof password) != 0)
		return -1;
	if (users_set(u, a->name, admin, password, err, sizeof err) != 0) {
		ctl_error("%s", err);
		goto done;
	}
	if (users_save(u, path, err, sizeof err) != 0) {
		ctl_error("%s", err);
		goto done;
	}
	if (add)
		printf("added user %s (%s) to %s\n", a->name, admin ? "admin" : "staff", path);
	else
		printf("changed the password of %s in %s\n", a->name, path);
	rc = 0;
done:
	OPENSSL_cleanse(password, sizeof password);
	return rc;
}

/* user del: remove name, save. 0 or -1. */
static int ctl_user_del(const struct ctl_args *a, const char *path, struct users *u)
{
	char err[512];
	if (users_del(u, a->name) != 0) {
		ctl_error("no user \"%s\" in %s", a->name, path);
		return -1;
	}
	if (ctl_check_writable(path) != 0)
		return -1;
	if (users_save(u, path, err, sizeof err) != 0) {
		ctl_error("%s", err);
		return -1;
	}
	printf("deleted user %s from %s\n", a->name, path);
	return 0;
}

/* user list: "name role" per line, in file order; a warning if the file is exposed. */
static int ctl_user_list(const struct users *u, const char *path)
{
	char err[1024];
	if (access(path, F_OK) == 0 && config_check_secret_file(path, err, sizeof err) != 0)
		ctl_error("warning: %s (the gateway refuses such a users file)", err);
	for (size_t i = 0; i < u->n; i++)
		printf("%s %s\n", u->v[i].name, u->v[i].admin ? "admin" : "staff");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("writing the list: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int ctl_user(const struct ctl_args *a)
{
	char path[CONFIG_PATH_MAX], err[1024];
	struct users u;
	bool add = strcmp(a->verb, "add") == 0;
	int rc;

	if (a->name != NULL && !users_name_valid(a->name)) {
		ctl_error("invalid user name \"%s\" (1-%d of A-Z a-z 0-9 . _ @ -)", a->name,
			  USERS_NAME_MAX);
		return -1;
	}
	if (ctl_users_path(a, path, sizeof path) != 0)
		return -1;
	/* Only add may start a new file; the others need users to act on. */
	if (users_load(&u, path, add, err, sizeof err) != 0) {
		ctl_error("%s", err);
		return -1;
	}
	if (add || strcmp(a->verb, "passwd") == 0)
		rc = ctl_user_set(a, path, &u);
	else if (strcmp(a->verb, "del") == 0)
		rc = ctl_user_del(a, path, &u);
	else
		rc = ctl_user_list(&u, path);
	if (u.v != NULL)
		OPENSSL_cleanse(u.v, u.n * sizeof *u.v);
	users_free(&u);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("pixelgatectl %s\n", PIXELGATE_VERSION);
		return 0;
	}
	const char *cmd = ctl_args_command_word(argc, argv);
	if (cmd != NULL && strcmp(cmd, "audit") == 0)
		return ctl_audit_main(argc, argv);
	if (cmd != NULL && strcmp(cmd, "recording") == 0)
		return ctl_recording_main(argc, argv);
	bool old_name = cmd != NULL && strcmp(cmd, "user") == 0;
	if (cmd == NULL || (!old_name && strcmp(cmd, "local-user") != 0))
		return ctl_api_main(argc, argv);
	if (old_name)
		fprintf(stderr,
			CTL_NAME ": \"user\" is now \"local-user\" (the users file on this "
				 "host; \"users\" is the admin API); the old name will go\n");
	struct ctl_args a;
	char err[512];
	int rc = ctl_parse_args(argc, argv, &a, err, sizeof err);
	if (rc == 1) {
		ctl_usage(stdout);
		return 0;
	}
	if (rc != 0)
		return ctl_usage_error(err);
	return ctl_user(&a) == 0 ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
}
