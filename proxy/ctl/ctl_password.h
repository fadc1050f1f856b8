/*
 * ctl_password.h: passwords for pixelgatectl, from a file or the terminal.
 * Every function prints its own "pixelgatectl: ..." message on failure and
 * leaves nothing of a password in buf then.
 */
#ifndef PIXELGATE_CTL_PASSWORD_H
#define PIXELGATE_CTL_PASSWORD_H

#include <stddef.h>

#include "users.h"

/* A password line: the password, "\r\n" and the NUL. */
#define CTL_LINE_MAX (USERS_PASSWORD_MAX + 3)

/*
 * The first line of path (without "\n" or "\r\n") into buf; an empty line,
 * a NUL byte or a line over USERS_PASSWORD_MAX bytes is refused. 0 or -1.
 */
int ctl_password_from_file(const char *path, char *buf, size_t size);

/*
 * Ask prompt on the terminal with echo off; with again_prompt, ask again
 * and refuse a mismatch. An empty password is refused. 0 or -1.
 */
int ctl_password_ask(const char *prompt, const char *again_prompt, char *buf, size_t size);

/* "New password for NAME: " twice on the terminal. 0 or -1. */
int ctl_password_new(const char *name, char *buf, size_t size);

#endif
