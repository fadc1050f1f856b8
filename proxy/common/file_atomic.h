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
 * fsync it, rename it over path and fsync the directory (best effort: once
 * renamed, the new contents are in place). 0, or -1 with a message naming
 * the file in err, path left as it was. As root it keeps the owner of the
 * file it replaces, or gives a new file its directory's owner when that is
 * not root.
 */
int file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
