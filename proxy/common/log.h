/*
 * log.h: the one logging facility of every pixelgate process.
 *
 * Lines go to stderr (journald adds the time when run under systemd) as
 * "pixelgate[pid]: level: message". Callers at a module boundary put
 * __func__ or the peer in the message so a line says what and where.
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

/* Log at error level and exit(1). Only at start-up or for a broken invariant. */
void fatal(const char *fmt, ...) __attribute__((format(__printf__, 1, 2), noreturn));

#endif
