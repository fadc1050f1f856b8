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
#include <stdarg.h>
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
#include "ctl_conf.h"
#include "ctl_password.h"
#include "users.h"

#define CTL_DEFAULT_USERS_FILE "/etc/pixelgate/users"

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

void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: " CTL_NAME " [-c CONFIG] user add NAME [--admin] [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user passwd NAME [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user del NAME [--users-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user list [--users-file F]\n"
		"       " CTL_NAME " [API OPTIONS] COMMAND\n"
		"       " CTL_NAME " --help\n"
		"\n"
		"user: manage the pixelgate users file (default " CTL_DEFAULT_USERS_FILE ") on\n"
		"the gateway's host, e.g. to make the first administrator.\n"
		"\n"
		"  -c, --config CONFIG   take users_file from this pixelgate configuration file\n"
		"  --users-file F        the users file itself (not together with -c)\n"
		"  --password-file F     read the password from the first line of F; without it\n"
		"                        the password is asked twice on the terminal\n"
		"  --admin               user add: make the user an administrator (default staff)\n"
		"  --                    end of options (for a name that starts with '-')\n"
		"\n"
		"Names are 1-%d characters of A-Z a-z 0-9 . _ @ -; passwords are 8-%d bytes.\n"
		"user add creates a missing users file (mode 0600) and refuses an existing user\n"
		"(use user passwd). Every change rewrites the file atomically with mode 0600.\n"
		"\n"
		"Admin API commands (HTTPS to the gateway's admin listener, as a user with the\n"
		"admin role):\n"
		"\n"
		"  status                      health, draining, sessions against the limit\n"
		"  sessions                    the sessions on the node\n"
		"  sessions kill ID            end a session (its viewer is told why)\n"
		"  limits                      the limits in force\n"
		"  limits set KEY=VALUE...     change limits at run time (all or nothing)\n"
		"  users [list]                the users, their role and lock\n"
		"  users add NAME [--admin]    add a user (password asked twice, or\n"
		"                              --new-password-file F)\n"
		"  users del NAME              delete a user\n"
		"  users passwd NAME           set a user's password (as for add)\n"
		"  users lock NAME | users unlock NAME\n"
		"  users admin NAME on|off     give or take the admin role\n"
		"  drain | undrain             stop / resume taking new sessions\n"
		"  forensics [list]            session directories kept after the browser side\n"
		"                              broke the RFB allow-list (forensics_dir)\n"
		"  forensics del ID            remove one, once security staff have it\n"
		"\n"
		"audit verify|query|sessions: read the audit log files (see audit --help).\n"
		"\n"
		"API OPTIONS\n"
		"  --server https://HOST:PORT  the admin listener (default " CTL_DEFAULT_SERVER
		")\n"
		"  --ca FILE                   PEM CA the server's certificate must chain to\n"
		"  --user NAME                 the administrator to authenticate as\n"
		"  --password-file F           their password, first line of F (only its owner\n"
		"                              may read F); without it, asked on the terminal\n"
		"  --config FILE               read FILE instead of " CTL_CONF_SYSTEM "\n"
		"                              and ~/.config/" CTL_CONF_USER "\n"
		"  --json                      print the server's JSON answer as is\n"
		"\n"
		"Settings come from " CTL_CONF_SYSTEM ", then\n"
		"~/.config/" CTL_CONF_USER " ([" CTL_CONF_SECTION "] server, ca_file, user,\n"
		"password_file), then the options. Exit status: 0 done, 1 refused by the server\n"
		"(its HTTP status and message are printed) or a local error, 2 server unreachable\n"
		"(connection, TLS or timeout).\n",
		USERS_NAME_MAX, USERS_PASSWORD_MAX);
}

/* A usage mistake: say what, then where help is. Returns -1. */
static int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(CTL_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n" CTL_NAME ": try '" CTL_NAME " --help'\n", stderr);
	return -1;
}

/*
 * If argv[*i] is option opt ("--x F" or "--x=F"), store its value in *val,
 * advance *i past it and return 1; 0 if it is another argument; -1 (with a
 * message) when the value is missing or the option repeated.
 */
static int ctl_option_value(int argc, char **argv, int *i, const char *opt, const char *alias,
			    const char **val)
{
	const char *arg = argv[*i];
	const char *v = NULL;
	size_t n = strlen(opt);
	if (strcmp(arg, opt) == 0 || (alias != NULL && strcmp(arg, alias) == 0)) {
		if (*i + 1 >= argc)
			return ctl_usage_error("%s needs a value", arg);
		v = argv[++*i];
	} else if (strncmp(arg, opt, n) == 0 && arg[n] == '=') {
		v = arg + n + 1;
	} else {
		return 0;
	}
	if (*val != NULL)
		return ctl_usage_error("%s given twice", opt);
	if (v[0] == '\0')
		return ctl_usage_error("%s needs a non-empty value", opt);
	*val = v;
	return 1;
}

/* Parse argv into a. Returns 0, 1 when --help was asked, or -1 after a message. */
static int ctl_parse_args(int argc, char **argv, struct ctl_args *a)
{
	const char *pos[4];
	int npos = 0;
	bool options_done = false;
	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rc;
		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			if (npos == (int)(sizeof pos / sizeof pos[0]))
				return ctl_usage_error("unexpected argument \"%s\"", arg);
			pos[npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return 1;
		if (strcmp(arg, "--admin") == 0) {
			a->admin = true;
			continue;
		}
		if ((rc = ctl_option_value(argc, argv, &i, "--config", "-c", &a->config_file)) !=
			0 ||
		    (rc = ctl_option_value(argc, argv, &i, "--users-file", NULL, &a->users_file)) !=
			0 ||
		    (rc = ctl_option_value(argc, argv, &i, "--password-file", NULL,
					   &a->password_file)) != 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		return ctl_usage_error("unknown option \"%s\"", arg);
	}
	if (npos == 0)
		return ctl_usage_error("no command given");
	a->object = pos[0];
	if (strcmp(a->object, "user") != 0)
		return ctl_usage_error("unknown command \"%s\" (only \"user\" so far)", a->object);
	if (npos < 2)
		return ctl_usage_error("user: missing add, passwd, del or list");
	a->verb = pos[1];
	bool is_add = strcmp(a->verb, "add") == 0;
	bool is_passwd = strcmp(a->verb, "passwd") == 0;
	bool is_del = strcmp(a->verb, "del") == 0;
	bool is_list = strcmp(a->verb, "list") == 0;
	if (!is_add && !is_passwd && !is_del && !is_list)
		return ctl_usage_error("unknown user command \"%s\" (add, passwd, del, list)",
				       a->verb);
	if (is_list) {
		if (npos > 2)
			return ctl_usage_error("user list: unexpected argument \"%s\"", pos[2]);
	} else {
		if (npos < 3)
			return ctl_usage_error("user %s: missing NAME", a->verb);
		if (npos > 3)
			return ctl_usage_error("user %s: unexpected argument \"%s\"", a->verb,
					       pos[3]);
		a->name = pos[2];
	}
	if (a->admin && !is_add)
		return ctl_usage_error("--admin only goes with user add");
	if (a->password_file != NULL && !is_add && !is_passwd)
		return ctl_usage_error("--password-file only goes with user add or user passwd");
	if (a->config_file != NULL && a->users_file != NULL)
		return ctl_usage_error("give -c CONFIG or --users-file F, not both");
	return 0;
}

/* The new password of name, from --password-file or the terminal. 0 or -1. */
static int ctl_get_password(const struct ctl_args *a, char *buf, size_t size)
{
	if (a->password_file != NULL)
		return ctl_password_from_file(a->password_file, buf, size);
	return ctl_password_new(a->name, buf, size);
}

/* Which users file: --users-file, users_file of -c CONFIG, or the default. */
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
	if (a->config_file != NULL) {
		struct config c;
		char err[512];
		config_defaults(&c);
		if (config_load(&c, a->config_file, err, sizeof err) != 0) {
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
	const char *cmd = ctl_args_command_word(argc, argv);
	if (cmd != NULL && strcmp(cmd, "audit") == 0)
		return ctl_audit_main(argc, argv);
	if (cmd != NULL && strcmp(cmd, "recording") == 0)
		return ctl_recording_main(argc, argv);
	if (cmd == NULL || strcmp(cmd, "user") != 0)
		return ctl_api_main(argc, argv);
	struct ctl_args a;
	int rc = ctl_parse_args(argc, argv, &a);
	if (rc == 1) {
		ctl_usage(stdout);
		return 0;
	}
	if (rc != 0)
		return 1;
	return ctl_user(&a) == 0 ? 0 : 1;
}
