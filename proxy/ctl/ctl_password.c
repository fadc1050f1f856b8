/*
 * ctl_password.c: passwords for pixelgatectl: the first line of a file, or
 * asked on the terminal (/dev/tty) with echo off; a signal while echo is off
 * puts the terminal back before the process dies. Buffers that held a
 * password are wiped with OPENSSL_cleanse().
 */
#include "ctl_password.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"

#define CTL_TTY "/dev/tty"

/*
 * Read one line from f into buf (size bytes) without its "\n" or "\r\n".
 * Returns its length, or -1 with "what: problem" in err and buf wiped: end
 * of file before anything, a NUL byte, a line over USERS_PASSWORD_MAX bytes
 * or that does not fit, or a read error.
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
			goto fail;
		}
		if (len + 1 >= size)
			goto too_long;
		buf[len++] = (char)ch;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", what, strerror(errno));
		goto fail;
	}
	if (!any) {
		snprintf(err, errlen, "%s: no password (end of file)", what);
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > USERS_PASSWORD_MAX)
		goto too_long;
	buf[len] = '\0';
	return (int)len;
too_long:
	snprintf(err, errlen, "%s: password longer than %d bytes", what, USERS_PASSWORD_MAX);
fail:
	OPENSSL_cleanse(buf, size);
	return -1;
}

int ctl_password_from_file(const char *path, char *buf, size_t size)
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

int ctl_password_ask(const char *prompt, const char *again_prompt, char *buf, size_t size)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old[sizeof signals / sizeof signals[0]];
	char again[CTL_LINE_MAX];
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

	int len = ctl_tty_ask(tty, prompt, buf, size);
	if (len < 0)
		goto done;
	if (len == 0) {
		ctl_error("empty password refused");
		goto done;
	}
	if (again_prompt != NULL) {
		if (ctl_tty_ask(tty, again_prompt, again, sizeof again) < 0)
			goto done;
		if (strcmp(buf, again) != 0) {
			ctl_error("the passwords do not match; nothing changed");
			goto done;
		}
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

int ctl_password_new(const char *name, char *buf, size_t size)
{
	char prompt[128];
	snprintf(prompt, sizeof prompt, "New password for %s: ", name);
	return ctl_password_ask(prompt, "Retype the password: ", buf, size);
}
