/*
 * log.h: the one logging facility of every pixelgate process.
 *
 * Lines go to stderr as "TIME pixelgate[pid]: level: message", or to a
 * sink a program sets (the gateway's journald sink, gateway_journal.c: the
 * level as PRIORITY, no second timestamp, the session and user as fields).
 * Callers at a module boundary put __func__ or the peer in the message so a
 * line says what and where; a line about one session starts "session ID"
 * or "session ID of USER:", which is where the sink's fields come from.
 * PIXELGATE_DEBUG=1 in the environment lowers the level to debug.
 */
#ifndef PIXELGATE_LOG_H
#define PIXELGATE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Set the process name shown in each line and the lowest level printed. */
void log_init(const char *procname, enum log_level min_level);

void log_debug(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

/* What a line is about, for a sink: each may be NULL. */
struct log_fields {
	const char *ident;   /* the process name (SYSLOG_IDENTIFIER) */
	const char *session; /* a session id (16 hex digits) */
	const char *user;    /* its user */
	const char *claimed; /* a cell's line: the name the line gives itself (not trusted) */
};

/*
 * A sink takes a line instead of stderr: 0 if it did, else the line goes to
 * stderr as always. msg has no prefix and no newline.
 */
typedef int (*log_sink_fn)(enum log_level level, const struct log_fields *f, const char *msg);
void log_set_sink(log_sink_fn fn);

/*
 * session and user of msg when it starts "session ID of USER: " or "session
 * ID: " / "session ID " (ID: 16 lowercase hex digits); NULL where it does not.
 * The buffers must hold 17 and 65 bytes.
 */
void log_fields_of(const char *msg, char session[17], char user[65], struct log_fields *f);

/*
 * A line a session's worker (or a program in its cell) wrote on its stderr,
 * for session. The cell is hostile (Chromium shares the pipe): to the sink
 * always as ident "pixelgate-cell", the message "cell ID| ..." with the
 * worker's "TIME NAME[PID]: LEVEL: " prefix taken off, NAME only as
 * f->claimed, and the level it claims but never above warning (a flood of
 * "errors" from a page must not pass for the gateway's, nor crowd them out
 * of journald's per-priority rate limit); else to stderr as "cell ID| line".
 */
void log_cell_line(const char *session, const char *line);

/* Log at error level and exit(1). Only at start-up or for a broken invariant. */
void fatal(const char *fmt, ...) __attribute__((format(__printf__, 1, 2), noreturn));

#endif
