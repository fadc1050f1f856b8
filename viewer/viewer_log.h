/*
 * viewer_log.h: pixelgate-viewer's log. One line per state change, each
 * starting with "pixelgate-viewer: ", to stderr or to the file given with
 * --log-file (appended). Lines are written whole and flushed at once, from
 * any thread. Never log a password.
 */
#ifndef PIXELGATE_VIEWER_LOG_H
#define PIXELGATE_VIEWER_LOG_H

/* Send the log to path (appended, created 0600) instead of stderr.
   0, or -1 (the log stays on stderr, and says why). */
int vlog_open(const char *path);

/* Close the log file, if any. */
void vlog_close(void);

/* Log one line: "pixelgate-viewer: " + the formatted text + "\n". */
void vlog(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

#endif
