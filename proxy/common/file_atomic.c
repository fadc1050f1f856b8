/*
 * file_atomic.c: replace a file in one step (see file_atomic.h).
 */
#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write all of buf to fd. 0 or -1 (errno set). */
static int file_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so a rename into it is durable. */
static int file_sync_dir(const char *path)
{
	char copy[4096];
	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	if (rc != 0 && errno == EINVAL)
		rc = 0; /* a file system that cannot sync directories */
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* stat() of the directory path is in. */
static int file_dir_stat(const char *path, struct stat *st)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return stat(".", st);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return stat(dir, st);
}

int file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	/* Same directory as path, so that rename() replaces it in one step. */
	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", path,
			 strerror(errno));
		return -1;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/*
	 * Root rewriting a file keeps its owner (pixelgatectl user add on the
	 * gateway's users file must leave it readable by the gateway's user);
	 * a new file takes the owner of its directory when that is not root's
	 * (the packaged /var/lib/pixelgate is the gateway user's).
	 */
	struct stat st;
	int own_rc = 0;
	if (geteuid() == 0) {
		/* lstat: a link put in the file's place gives its target's owner nothing */
		int have = lstat(path, &st);
		if (have == 0 && S_ISREG(st.st_mode))
			own_rc = fchown(fd, st.st_uid, st.st_gid);
		else if (have != 0 && file_dir_stat(path, &st) == 0 && st.st_uid != 0)
			own_rc = fchown(fd, st.st_uid, st.st_gid);
	}
	if (own_rc != 0 || fchmod(fd, 0600) != 0 || file_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The new file is in place: a directory that cannot be synced only
	   leaves the rename's durability to the file system (callers must not
	   think the old contents are still there). */
	(void)file_sync_dir(path);
	return 0;
}
