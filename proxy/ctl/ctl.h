/*
 * ctl.h: what the parts of pixelgatectl share: its name, its error line,
 * and the entry of the admin API commands (ctl_api.c).
 */
#ifndef PIXELGATE_CTL_H
#define PIXELGATE_CTL_H

#define CTL_NAME "pixelgatectl"

/*
 * Exit status, the same for every command (pixelgatectl(8), --help):
 *   0 done (the log intact, the recording exported);
 *   1 refused or failed: the server said no (HTTP 4xx/5xx), the log is not
 *     intact, the user exists, a file could not be written;
 *   2 the command line is wrong: nothing was tried;
 *   3 no answer to be had: the server unreachable (connection, TLS, timeout),
 *     or the audit log or its key cannot be read.
 */
#define CTL_EXIT_OK 0
#define CTL_EXIT_REFUSED 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_CANNOT 3

/* The users file of the users-file commands without -c or --users-file. */
#define CTL_DEFAULT_USERS_FILE "/etc/pixelgate/users"
#define CTL_DEFAULT_CONFIG "/etc/pixelgate/pixelgate.conf" /* its users_file, if it exists */

#include <stdio.h>

/* The --help text of every command (ctl_usage.c). */
void ctl_usage(FILE *out);

/*
 * A usage mistake: print "pixelgatectl: what" and where help is on stderr
 * (ctl_usage.c). Returns CTL_EXIT_REFUSED, the exit status of every usage
 * error.
 */
int ctl_usage_error(const char *what);

/* Print "pixelgatectl: message" on stderr (ctl_error.c). */
void ctl_error(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

/* Run an admin API command line (argv as main's); returns the exit status. */
int ctl_api_main(int argc, char **argv);

#endif
