/*
 * ctl_audit.h: `pixelgatectl audit verify|query|sessions`, for security
 * staff: reads the audit log files directly (read-only; no server needed).
 */
#ifndef PIXELGATE_CTL_AUDIT_H
#define PIXELGATE_CTL_AUDIT_H

#include <stdio.h>

/* Exit status of the audit commands (ctl.h's, in their words). */
#define CTL_AUDIT_EXIT_OK 0     /* verified / listed */
#define CTL_AUDIT_EXIT_BAD 1    /* the log is not intact (or has lines that are not records) */
#define CTL_AUDIT_EXIT_USAGE 2  /* a usage mistake */
#define CTL_AUDIT_EXIT_CANNOT 3 /* a file or the key cannot be read */

/* Run `pixelgatectl audit ...` (argv as main's); returns the exit status. */
int ctl_audit_main(int argc, char **argv);

/* The --help text of the audit commands. */
void ctl_audit_usage(FILE *out);

#endif
