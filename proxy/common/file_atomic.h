/*
 * file_atomic.h: replace a file in one step. The users file, the limits
 * overrides and the TOTP secrets are written this way: a reader (or a crash)
 * sees the old file or the new one, never half of one.
 */
#ifndef PIXELGATE_FILE_ATOMIC_H
#define PIXELGATE_FILE_ATOMIC_H

#include <stddef.h>

/*
 * Write len bytes of data to a new owner-only (0600) file beside path,
 * fsync it, rename it over path and fsync the directory. 0, or -1 with a
 * message naming the file in err (path is left as it was, unless only the
 * directory's sync failed).
 */
int file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
