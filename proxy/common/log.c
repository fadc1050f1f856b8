/* log.c: see log.h. */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_procname = "pixelgate";
static enum log_level log_min_level = LOG_LEVEL_INFO;
static log_sink_fn log_sink;

void log_set_sink(log_sink_fn fn)
{
	log_sink = fn;
}

static bool log_is_id(const char *p)
{
	for (int i = 0; i < 16; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

void log_fields_of(const char *msg, char session[17], char user[65], struct log_fields *f)
{
	f->session = NULL;
	f->user = NULL;
	if (strncmp(msg, "session ", 8) != 0 || strnlen(msg + 8, 16) < 16 || !log_is_id(msg + 8))
		return;
	const char *after = msg + 24;
	if (*after != '\0' && *after != ' ' && *after != ':')
		return;
	memcpy(session, msg + 8, 16);
	session[16] = '\0';
	f->session = session;
	if (strncmp(after, " of ", 4) == 0) {
		const char *u = after + 4;
		size_t n = strcspn(u, ": ");
		if (n > 0 && n < 65 && u[n] == ':') {
			memcpy(user, u, n);
			user[n] = '\0';
			f->user = user;
		}
	}
}

/* Write one line to stderr in one write(), so lines of processes do not interleave. */
static void log_write_line(char *line, size_t cap)
{
	size_t len = strlen(line);
	if (len + 1 < cap) {
		line[len++] = '\n';
	} else {
		line[cap - 2] = '\n';
		len = cap - 1;
	}
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void log_cell_line(const char *session, const char *line)
{
	if (log_sink != NULL) {
		/* "2026-12-04T13:59:20.506Z pixelgate-session[1]: info: message" */
		static const char *const names[] = { "debug: ", "info: ", "warning: ", "error: " };
		struct log_fields f = { "pixelgate-cell", session, NULL, NULL };
		enum log_level level = LOG_LEVEL_INFO;
		const char *msg = line;
		char ident[32];
		const char *sp = strchr(line, ' ');
		const char *br = sp != NULL ? strchr(sp, '[') : NULL;
		const char *end = br != NULL ? strstr(br, "]: ") : NULL;
		if (sp != NULL && sp - line == 24 && line[23] == 'Z' && br != NULL && end != NULL &&
		    (size_t)(br - sp - 1) < sizeof ident) {
			for (int i = 0; i < 4; i++) {
				size_t n = strlen(names[i]);
				if (strncmp(end + 3, names[i], n) == 0) {
					level = (enum log_level)i;
					msg = end + 3 + n;
					memcpy(ident, sp + 1, (size_t)(br - sp - 1));
					ident[br - sp - 1] = '\0';
					f.claimed = ident;
					break;
				}
			}
		}
		if (level > LOG_LEVEL_WARN)
			level = LOG_LEVEL_WARN;
		char shown[4096];
		snprintf(shown, sizeof shown, "cell %s| %s", session, msg);
		if (log_sink(level, &f, shown) == 0)
			return;
	}
	char out[4096];
	snprintf(out, sizeof out, "cell %s| %s", session, line);
	log_write_line(out, sizeof out);
}

void log_init(const char *procname, enum log_level min_level)
{
	log_procname = procname;
	log_min_level = min_level;
	const char *env = getenv("PIXELGATE_DEBUG");
	if (env != NULL && strcmp(env, "1") == 0)
		log_min_level = LOG_LEVEL_DEBUG;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	if (level < log_min_level)
		return;
	char line[2048];
	va_list again;
	va_copy(again, ap);
	if (log_sink != NULL) {
		char session[17], user[65];
		struct log_fields f = { log_procname, NULL, NULL, NULL };
		vsnprintf(line, sizeof line, fmt, ap);
		log_fields_of(line, session, user, &f);
		if (log_sink(level, &f, line) == 0) {
			va_end(again);
			return;
		}
		/* the sink refused it: to stderr as always */
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line,
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d]: %s: ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, log_procname, (int)getpid(), names[level]);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, again);
	va_end(again);
	log_write_line(line, sizeof line);
}

#define LOG_FN(name, level)               \
	void name(const char *fmt, ...)   \
	{                                 \
		va_list ap;               \
		va_start(ap, fmt);        \
		log_vmsg(level, fmt, ap); \
		va_end(ap);               \
	}
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
