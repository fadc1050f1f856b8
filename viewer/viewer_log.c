/*
 * viewer_log.c: pixelgate-viewer's log (see viewer_log.h).
 */
#include "viewer_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0 /* Windows: handles are not inherited unless asked */
#endif

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_log_file; /* NULL: stderr */

int vlog_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0) {
		vlog("cannot open the log file %s: %s; logging to stderr", path, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		vlog("cannot open the log file %s: %s; logging to stderr", path, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&g_log_lock);
	g_log_file = f;
	pthread_mutex_unlock(&g_log_lock);
	return 0;
}

void vlog_close(void)
{
	pthread_mutex_lock(&g_log_lock);
	if (g_log_file)
		fclose(g_log_file);
	g_log_file = NULL;
	pthread_mutex_unlock(&g_log_lock);
}

void vlog(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	FILE *out;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line per call: fold newlines of embedded messages */
	for (n = 0; line[n]; n++)
		if (line[n] == '\n' || line[n] == '\r')
			line[n] = ' ';
	pthread_mutex_lock(&g_log_lock);
	out = g_log_file ? g_log_file : stderr;
	fprintf(out, "pixelgate-viewer: %s\n", line);
	fflush(out);
	pthread_mutex_unlock(&g_log_lock);
}
