/*
 * ctl_main.c: pixelgatectl, the administrator's command line.
 *
 * This first version manages the users file directly (users.h): add a user,
 * change a password, delete a user, list users. The file is rewritten
 * atomically with mode 0600 by users_save(). Passwords come from a file
 * (first line) or are asked twice on the terminal with echo off.
 *
 * Exit status: 0 on success, 1 on any error, with "pixelgatectl: ..." on
 * stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "users.h"

#define CTL_NAME "pixelgatectl"
#define CTL_DEFAULT_USERS_FILE "/etc/pixelgate/users"
#define CTL_TTY "/dev/tty"
/* A password line: the password, "\r\n" and the NUL. */
#define CTL_LINE_MAX (USERS_PASSWORD_MAX + 3)

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

static void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: " CTL_NAME " [-c CONFIG] user add NAME [--admin] [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user passwd NAME [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user del NAME [--users-file F]\n"
		"       " CTL_NAME " [-c CONFIG] user list [--users-file F]\n"
		"       " CTL_NAME " --help\n"
		"\n"
		"Manage the pixelgate users file (default " CTL_DEFAULT_USERS_FILE ").\n"
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
		"(use user passwd). Every change rewrites the file atomically with mode 0600.\n",
		USERS_NAME_MAX, USERS_PASSWORD_MAX);
}

/* Print "pixelgatectl: message" on stderr. */
static void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void ctl_error(const char *fmt, ...)
{
	va_list ap;
	fputs(CTL_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
		if ((rc = ctl_option_value(argc, argv, &i, "--config", "-c", &a->config_file)) != 0 ||
		    (rc = ctl_option_value(argc, argv, &i, "--users-file", NULL, &a->users_file)) != 0 ||
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

/*
 * Read one line from f into buf (size bytes) without its "\n" or "\r\n".
 * Returns its length, or -1 with "what: problem" in err: end of file before
 * anything, a NUL byte, a line that does not fit, or a read error.
 */
static int ctl_read_line(FILE *f, char *buf, size_t size, const char *what, char *err,
			 size_t errlen)
{
	size_t len = 0;
	int ch;
	bool any = false;
	while ((ch = getc(f)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\0') {
			snprintf(err, errlen, "%s: the password contains a NUL byte", what);
			return -1;
		}
		if (len + 1 >= size) {
			snprintf(err, errlen, "%s: password longer than %d bytes", what,
				 USERS_PASSWORD_MAX);
			return -1;
		}
		buf[len++] = (char)ch;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", what, strerror(errno));
		return -1;
	}
	if (!any) {
		snprintf(err, errlen, "%s: no password (end of file)", what);
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (int)len;
}

/* Password from the first line of path into buf. 0 or -1 after a message. */
static int ctl_password_from_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ctl_error("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IONBF, 0); /* no copy of the password in stdio's buffer */
	char err[CONFIG_PATH_MAX + 64];
	int len = ctl_read_line(f, buf, size, path, err, sizeof err);
	fclose(f);
	if (len < 0) {
		ctl_error("%s", err);
		return -1;
	}
	if (len == 0) {
		ctl_error("%s: the first line is empty; refusing an empty password", path);
		return -1;
	}
	return 0;
}

/* The terminal while echo is off, so that a signal can put it back. */
static int ctl_tty_fd = -1;
static struct termios ctl_tty_saved;
static volatile sig_atomic_t ctl_tty_echo_off;

static void ctl_tty_restore(void)
{
	if (ctl_tty_echo_off) {
		tcsetattr(ctl_tty_fd, TCSAFLUSH, &ctl_tty_saved);
		ctl_tty_echo_off = 0;
	}
}

/* Restore the terminal, then die of the signal as if not caught. */
static void ctl_tty_signal(int sig)
{
	ctl_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Write all of s to fd. 0 or -1. */
static int ctl_write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Ask prompt on the terminal with echo off; read a line into buf from tty
 * (a read-only stream on ctl_tty_fd). Length or -1.
 */
static int ctl_tty_ask(FILE *tty, const char *prompt, char *buf, size_t size)
{
	struct termios noecho;
	if (tcgetattr(ctl_tty_fd, &ctl_tty_saved) != 0) {
		ctl_error(CTL_TTY ": %s", strerror(errno));
		return -1;
	}
	noecho = ctl_tty_saved;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	noecho.c_lflag |= ECHONL | ICANON;
	if (ctl_write_all(ctl_tty_fd, prompt) != 0) {
		ctl_error(CTL_TTY ": %s", strerror(errno));
		return -1;
	}
	ctl_tty_echo_off = 1;
	if (tcsetattr(ctl_tty_fd, TCSAFLUSH, &noecho) != 0) {
		ctl_tty_echo_off = 0;
		ctl_error(CTL_TTY ": cannot turn echo off: %s", strerror(errno));
		return -1;
	}
	char err[128];
	int len = ctl_read_line(tty, buf, size, "terminal", err, sizeof err);
	ctl_tty_restore();
	if (len < 0) {
		(void)ctl_write_all(ctl_tty_fd, "\n"); /* the message below the prompt */
		ctl_error("%s", err);
	}
	return len;
}

/*
 * Ask for name's new password twice on the terminal with echo off; both
 * must match. 0 or -1 after a message.
 */
static int ctl_password_from_tty(const char *name, char *buf, size_t size)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old[sizeof signals / sizeof signals[0]];
	char again[CTL_LINE_MAX], prompt[128];
	int rc = -1;

	int fd = open(CTL_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ctl_error("no terminal to ask for the password (%s); use --password-file",
			  strerror(errno));
		return -1;
	}
	FILE *tty = fdopen(fd, "r");
	if (tty == NULL) {
		ctl_error(CTL_TTY ": %s", strerror(errno));
		close(fd);
		return -1;
	}
	setvbuf(tty, NULL, _IONBF, 0); /* no copy of the password in stdio's buffer */
	ctl_tty_fd = fd;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_tty_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		sigaction(signals[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN) /* nohup and friends stay in force */
			sigaction(signals[i], &sa, NULL);
	}

	snprintf(prompt, sizeof prompt, "New password for %s: ", name);
	int len = ctl_tty_ask(tty, prompt, buf, size);
	if (len < 0)
		goto done;
	if (len == 0) {
		ctl_error("empty password refused");
		goto done;
	}
	if (ctl_tty_ask(tty, "Retype the password: ", again, sizeof again) < 0)
		goto done;
	if (strcmp(buf, again) != 0) {
		ctl_error("the passwords do not match; nothing changed");
		goto done;
	}
	rc = 0;
done:
	OPENSSL_cleanse(again, sizeof again);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaction(signals[i], &old[i], NULL);
	ctl_tty_fd = -1;
	fclose(tty);
	if (rc != 0)
		OPENSSL_cleanse(buf, size);
	return rc;
}

/* The new password of name, from --password-file or the terminal. 0 or -1. */
static int ctl_get_password(const struct ctl_args *a, char *buf, size_t size)
{
	if (a->password_file != NULL)
		return ctl_password_from_file(a->password_file, buf, size);
	return ctl_password_from_tty(a->name, buf, size);
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
		ctl_error("user \"%s\" already exists in %s (use user passwd to change the password)",
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
