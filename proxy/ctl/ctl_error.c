/*
 * ctl_error.c: pixelgatectl's error line (ctl.h), in a unit of its own so
 * that the parts of pixelgatectl which report errors do not depend on
 * ctl_main.c.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	fputs(CTL_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
