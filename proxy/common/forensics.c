/*
 * forensics.c: copying a hostile session directory for security staff
 * (forensics.h says what and how).
 */
#include "forensics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

#define FX_PATH_MAX 4096
#define FX_BUF 65536

struct fx {
	const struct forensics_job *job;
	int files_fd; /* DEST/session-ID/files */
	json_t *entries;
	unsigned long n_entries, n_files;
	uint64_t bytes;
	size_t manifest; /* about how many bytes manifest.json will have */
	bool truncated;  /* an entry, a file or a directory was left out by a cap */
	unsigned char buf[FX_BUF];
};

/* The file-system identity to read (true) or write (false) with; false if it did not take. */
static bool fx_as(const struct forensics_job *j, bool reader)
{
	uid_t u = reader ? j->reader_uid : j->writer_uid;
	gid_t g = reader ? j->reader_gid : j->writer_gid;
	if (g != (gid_t)-1) {
		setfsgid(g);
		if ((gid_t)setfsgid((gid_t)-1) != g)
			return false;
	}
	if (u != (uid_t)-1) {
		setfsuid(u);
		if ((uid_t)setfsuid((uid_t)-1) != u)
			return false;
	}
	return true;
}

int forensics_name_ok(const char *name)
{
	if (strncmp(name, "session-", 8) != 0 || strlen(name) != 8 + 16)
		return 0;
	for (const char *p = name + 8; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int fx_openat2(int dirfd, const char *name, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
}

static void fx_hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void fx_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

static const char *fx_type(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "dir";
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "device";
	return "other";
}

/*
 * A new manifest entry for rel, whose last component is name (its raw bytes
 * in hex too when cleaning changed the path); NULL past the manifest's cap.
 */
static json_t *fx_entry(struct fx *x, const char *rel, const char *name, const struct stat *st)
{
	char clean[FX_PATH_MAX], mode[8], mtime[32], hex[2 * 256 + 1] = "";
	utf8_clean(clean, sizeof clean, rel);
	size_t nlen = strlen(name);
	if (strcmp(clean, rel) != 0 && nlen <= 256)
		fx_hex((const unsigned char *)name, nlen, hex);
	/* an entry's fields besides the path and name take < 400 bytes */
	x->manifest += strlen(clean) + strlen(hex) + 400;
	if (x->manifest > FORENSICS_MANIFEST_MAX) {
		x->truncated = true;
		return NULL;
	}
	json_t *e = json_pack("{s:s}", "path", clean);
	if (e == NULL)
		return NULL;
	if (hex[0] != '\0')
		json_object_set_new(e, "name_hex", json_string(hex));
	if (st != NULL) {
		snprintf(mode, sizeof mode, "%04o", (unsigned)(st->st_mode & 07777));
		fx_time(st->st_mtime, mtime, sizeof mtime);
		json_object_set_new(e, "type", json_string(fx_type(st->st_mode)));
		json_object_set_new(e, "size", json_integer((json_int_t)st->st_size));
		json_object_set_new(e, "mode", json_string(mode));
		json_object_set_new(e, "uid", json_integer((json_int_t)st->st_uid));
		json_object_set_new(e, "mtime", json_string(mtime));
	}
	x->n_entries++;
	json_array_append_new(x->entries, e);
	return e;
}

static void fx_error(json_t *e, const char *what, int err)
{
	char m[160];
	snprintf(m, sizeof m, "%s: %s", what, strerror(err));
	json_object_set_new(e, "error", json_string(m));
}

/* Copy one regular file (fd, read as the reader) to files/NNNNNN as the writer. */
static void fx_file(struct fx *x, int fd, json_t *e)
{
	char stored[16], hex[2 * EVP_MAX_MD_SIZE + 1];
	uint64_t left = x->job->max_bytes - x->bytes, copied = 0;
	bool cut = false;
	snprintf(stored, sizeof stored, "%06lu", x->n_files + 1);
	fx_as(x->job, false);
	int out = openat(x->files_fd, stored, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	fx_as(x->job, true);
	if (out < 0) {
		fx_error(e, "storing", errno);
		return;
	}
	x->n_files++;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fx_error(e, "sha256", ENOMEM);
		EVP_MD_CTX_free(md);
		close(out);
		return;
	}
	for (;;) {
		size_t want = sizeof x->buf;
		if (left == 0) {
			/* one byte more tells a file cut by the cap from one that ended */
			char probe;
			cut = read(fd, &probe, 1) > 0;
			break;
		}
		if (want > left)
			want = (size_t)left;
		ssize_t n = read(fd, x->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fx_error(e, "reading", errno);
			break;
		}
		if (n == 0)
			break;
		size_t done = 0;
		while (done < (size_t)n) {
			ssize_t w = write(out, x->buf + done, (size_t)n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fx_error(e, "storing", w < 0 ? errno : ENOSPC);
				goto done;
			}
			done += (size_t)w;
		}
		EVP_DigestUpdate(md, x->buf, (size_t)n);
		copied += (uint64_t)n;
		left -= (uint64_t)n;
	}
done:;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_DigestFinal_ex(md, d, &dlen);
	EVP_MD_CTX_free(md);
	fx_hex(d, dlen, hex);
	if (close(out) != 0 && json_object_get(e, "error") == NULL)
		fx_error(e, "storing", errno);
	x->bytes += copied;
	char path[32];
	snprintf(path, sizeof path, "files/%s", stored);
	json_object_set_new(e, "stored", json_string(path));
	json_object_set_new(e, "copied", json_integer((json_int_t)copied));
	json_object_set_new(e, "sha256", json_string(hex));
	if (cut) {
		json_object_set_new(e, "truncated", json_true());
		x->truncated = true;
	}
}

/* List and copy what is in dirfd (an O_RDONLY directory; closed here). */
static void fx_dir(struct fx *x, int fd, const char *rel, int depth)
{
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	int dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (x->n_entries >= FORENSICS_MAX_ENTRIES || x->manifest > FORENSICS_MANIFEST_MAX) {
			x->truncated = true;
			break;
		}
		char path[FX_PATH_MAX];
		int pl = snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		struct stat st;
		if (pl < 0 || (size_t)pl >= sizeof path) {
			json_t *e = fx_entry(x, de->d_name, de->d_name, NULL);
			if (e != NULL)
				json_object_set_new(e, "error",
						    json_string("path too long: not listed"));
			x->truncated = true;
			continue;
		}
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			json_t *e = fx_entry(x, path, de->d_name, NULL);
			if (e != NULL)
				fx_error(e, "stat", errno);
			continue;
		}
		json_t *e = fx_entry(x, path, de->d_name, &st);
		if (e == NULL)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[FORENSICS_LINK_MAX + 1], clean[FORENSICS_LINK_MAX + 8];
			ssize_t n = readlinkat(dfd, de->d_name, target, FORENSICS_LINK_MAX);
			if (n < 0) {
				fx_error(e, "readlink", errno);
				continue;
			}
			target[n] = '\0';
			utf8_clean(clean, sizeof clean, target);
			json_object_set_new(e, "target", json_string(clean));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= FORENSICS_MAX_DEPTH) {
				json_object_set_new(e, "error",
						    json_string(
							"too deep: its contents are not listed"));
				x->truncated = true;
				continue;
			}
			int sub = fx_openat2(dfd, de->d_name, O_RDONLY | O_DIRECTORY);
			if (sub < 0) {
				fx_error(e, "open", errno);
				continue;
			}
			fx_dir(x, sub, path, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue; /* listed with its type; nothing to copy */
		int f = fx_openat2(dfd, de->d_name, O_RDONLY | O_NONBLOCK);
		struct stat fst;
		if (f < 0) {
			fx_error(e, "open", errno);
			continue;
		}
		if (fstat(f, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino) {
			json_object_set_new(e, "error", json_string("changed while it was copied"));
			close(f);
			continue;
		}
		fx_file(x, f, e);
		close(f);
	}
	closedir(d);
}

/* Write text as DEST/session-ID/name (0600, new) as the writer. */
static int fx_write(struct fx *x, int dir, const char *name, const char *text)
{
	fx_as(x->job, false);
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd >= 0) {
		size_t len = strlen(text), done = 0;
		while (done < len) {
			ssize_t w = write(fd, text + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		rc = done == len && fsync(fd) == 0 ? 0 : -1;
		if (close(fd) != 0)
			rc = -1;
	}
	int saved = errno;
	fx_as(x->job, true);
	errno = saved;
	return rc;
}

static int fx_fail(char *result, size_t resultlen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

void forensics_error_line(char *result, size_t resultlen, const char *why)
{
	char clean[FORENSICS_RESULT_MAX];
	size_t room = resultlen - 13; /* {"error":""} and the NUL */
	utf8_clean(clean, room < sizeof clean ? room : sizeof clean, why);
	/* nothing JSON would escape (control characters are gone): it fits */
	for (char *p = clean; *p; p++)
		if (*p == '"')
			*p = '\'';
		else if (*p == '\\')
			*p = '/';
	snprintf(result, resultlen, "{\"error\":\"%s\"}", clean);
}

static int fx_fail(char *result, size_t resultlen, const char *fmt, ...)
{
	char why[FORENSICS_RESULT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	forensics_error_line(result, resultlen, why);
	return -1;
}

int forensics_copy(const struct forensics_job *job, char *result, size_t resultlen)
{
	char name[32];
	int top = -1, src = -1, rc = -1;
	struct fx *x = calloc(1, sizeof *x);
	if (x == NULL)
		return fx_fail(result, resultlen, "out of memory");
	x->job = job;
	x->files_fd = -1;
	x->entries = json_array();
	snprintf(name, sizeof name, "session-%s", job->id);
	if (!fx_as(job, true) || !fx_as(job, false)) {
		fx_fail(result, resultlen, "cannot take the reader's or the writer's identity");
		goto out;
	}
	if (mkdirat(job->dest_dirfd, name, 0700) != 0) {
		fx_fail(result, resultlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	top = openat(job->dest_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0 || mkdirat(top, "files", 0700) != 0 ||
	    (x->files_fd = openat(top, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		0) {
		fx_fail(result, resultlen, "%s/files: %s", name, strerror(errno));
		goto out;
	}
	fx_as(job, true);
	src = openat(job->src_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0) {
		fx_fail(result, resultlen, "the session's directory: %s", strerror(errno));
		goto out;
	}
	if (x->entries == NULL) {
		fx_fail(result, resultlen, "out of memory");
		goto out;
	}
	fx_dir(x, src, "", 0);
	src = -1; /* fx_dir closed it */

	json_t *manifest = json_pack("{s:s, s:O}", "session", job->id, "entries", x->entries);
	char *mtext = manifest != NULL ? json_dumps(manifest, JSON_INDENT(1)) : NULL;
	json_decref(manifest);
	if (mtext == NULL) {
		fx_fail(result, resultlen, "out of memory");
		goto out;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char sha[2 * EVP_MAX_MD_SIZE + 1], kept[32];
	EVP_Digest(mtext, strlen(mtext), d, &dlen, EVP_sha256(), NULL);
	fx_hex(d, dlen, sha);
	int w = fx_write(x, top, "manifest.json", mtext);
	free(mtext);
	if (w != 0) {
		fx_fail(result, resultlen, "%s/manifest.json: %s", name, strerror(errno));
		goto out;
	}
	char user[128], what[512];
	utf8_clean(user, sizeof user, job->user != NULL ? job->user : "");
	utf8_clean(what, sizeof what, job->what != NULL ? job->what : "");
	fx_time(time(NULL), kept, sizeof kept);
	json_t *summary = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:s}", "session",
				    job->id, "user", user, "what", what, "kept", kept, "entries",
				    (json_int_t)x->n_entries, "files", (json_int_t)x->n_files,
				    "bytes", (json_int_t)x->bytes, "truncated", x->truncated,
				    "manifest_sha256", sha);
	char *stext = summary != NULL ? json_dumps(summary, JSON_INDENT(1)) : NULL;
	json_decref(summary);
	if (stext == NULL) {
		fx_fail(result, resultlen, "out of memory");
		goto out;
	}
	w = fx_write(x, top, "summary.json", stext);
	free(stext);
	if (w != 0) {
		fx_fail(result, resultlen, "%s/summary.json: %s", name, strerror(errno));
		goto out;
	}
	snprintf(result, resultlen,
		 "{\"files\":%lu,\"bytes\":%llu,\"truncated\":%s,\"manifest_sha256\":\"%s\"}",
		 x->n_files, (unsigned long long)x->bytes, x->truncated ? "true" : "false", sha);
	rc = 0;
out:
	fx_as(job, true);
	if (src >= 0)
		close(src);
	if (x->files_fd >= 0)
		close(x->files_fd);
	if (top >= 0)
		close(top);
	json_decref(x->entries);
	free(x);
	return rc;
}
