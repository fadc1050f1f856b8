/*
 * gateway_audit.c: the audit log writer, the only one (gateway.h).
 *
 * Records (audit_chain.h) go to audit_dir/audit-YYYYMMDD-NNN.jsonl, one line
 * each, appended with a single write(). The chain (seq, prev) runs across
 * files and across restarts: audit_open() continues from the last complete
 * record of the newest file, and refuses to start when that record cannot be
 * read or does not verify with the key, rather than silently starting a new
 * chain. A file that ends in an incomplete line (a crash in mid-write) is
 * left as it is, for `pixelgatectl audit verify` to report, and a new file is
 * started after it.
 *
 * Durability: dirty data is fdatasync'd by a one-second lws timer, armed only
 * while something is unsynced, and by audit_sync() (session_end, shutdown).
 *
 * Rotation happens before a write: when the file has reached audit_rotate_mb
 * MiB, or (audit_rotate_daily) the UTC date is past the file's date. Same
 * date: NNN+1; a later date: 001. The chain goes on in the new file.
 *
 * Failure (disk full, I/O error, the directory or file no longer writable):
 * logged once, audit_available() turns false and the gateway refuses new
 * logins. Every AUDIT_RETRY_MS the writer tries again (a timer, and the next
 * event); when it works again it says so in the gateway's log and writes an
 * "audit_resumed" record (fields lost, since, error) so the gap is part of the
 * chain itself. With audit_fail_open the same happens, but audit_available()
 * stays true and audit_event() returns 0: each lost record is logged loudly.
 *
 * The pure parts are in proxy/common: a record's fields (audit_fields.c),
 * file names and the rotation decision (audit_file.c), the record itself
 * (audit_chain.c).
 *
 * Order in the gateway: audit_open() once gw->ctx exists (without a context
 * every record is fdatasync'd at once); audit_close() last, before or after
 * lws_context_destroy() (it does not touch the timers), with no
 * audit_event() between lws_context_destroy() and audit_close().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_chain.h"
#include "audit_fields.h"
#include "audit_file.h"
#include "gateway.h"
#include "log.h"

#define AUDIT_KEY_MAX 4096  /* bytes of key file at most */
#define AUDIT_SYNC_MS 1000  /* dirty data is on disk after at most this */
#define AUDIT_RETRY_MS 5000 /* a failed log is tried again after this */
#define AUDIT_PATH_MAX (CONFIG_PATH_MAX + 32)

/* The writer's state (one instance). */
static struct {
	bool opened; /* audit_open() succeeded, audit_close() not yet */
	uint8_t key[AUDIT_KEY_MAX];
	size_t keylen;
	int fd;                    /* the current file, or -1 (failed) */
	char path[AUDIT_PATH_MAX]; /* the current file */
	char date[9];              /* its YYYYMMDD */
	int num;                   /* its NNN */
	bool new_file_next;        /* the current file ends badly: start a new one */
	bool max_num_warned;
	uint64_t seq;                 /* of the last record written (0: none yet) */
	char prev[AUDIT_MAC_HEX + 1]; /* its mac ("" for none) */
	bool dirty;                   /* written since the last fdatasync */
	bool sync_armed;
	lws_sorted_usec_list_t sync_sul;
	/* failure */
	bool failed;
	int64_t fail_try_ms;                   /* monotonic time of the last failed attempt */
	char fail_since[40];                   /* ts of the failure */
	char fail_error[AUDIT_PATH_MAX + 200]; /* what failed */
	uint64_t lost;                         /* records not written since the failure */
	bool retry_armed;
	lws_sorted_usec_list_t retry_sul;
} aud = { .fd = -1 };

static int audit_try_recover(void);

static void audit_make_path(char *out, size_t outlen, const char *date, int num)
{
	(void)audit_file_path(out, outlen, gw->cfg.audit_dir, date, num); /* AUDIT_PATH_MAX fits */
}

/* fsync audit_dir so that a file created in it stays after a crash. */
static void audit_sync_dir(void)
{
	int dfd = open(gw->cfg.audit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	if (fsync(dfd) != 0 && errno != EINVAL)
		log_warn("audit_dir %s: fsync: %s", gw->cfg.audit_dir, strerror(errno));
	close(dfd);
}

/*
 * Load the key: the raw bytes of audit_key_file (the verifier reads it the
 * same way), which must be owner-only and hold AUDIT_KEY_MIN..AUDIT_KEY_MAX bytes.
 */
static int audit_load_key(char *err, size_t errlen)
{
	const char *path = gw->cfg.audit_key_file;
	char why[300];
	int fd = -1;
	if (config_check_secret_file(path, why, sizeof why) != 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "audit_key_file %s; create one: head -c 32 /dev/urandom > %s && "
				 "chmod 600 %s",
				 why, path, path);
		else
			snprintf(err, errlen, "audit_key_file %s", why);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "audit_key_file %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Checked again on what was opened: the file may have changed since the stat. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen,
			 "audit_key_file %s: not an owner-only regular file; run chmod 600 %s",
			 path, path);
		goto fail;
	}
	if (st.st_size < AUDIT_KEY_MIN || st.st_size > AUDIT_KEY_MAX) {
		snprintf(err, errlen,
			 "audit_key_file %s: %lld bytes; it must hold %d to %d bytes of random key "
			 "material (create one: head -c 32 /dev/urandom > %s && chmod 600 %s)",
			 path, (long long)st.st_size, AUDIT_KEY_MIN, AUDIT_KEY_MAX, path, path);
		goto fail;
	}
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, aud.key + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "audit_key_file %s: %s", path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			goto fail;
		}
		len += (size_t)n;
	}
	aud.keylen = len;
	close(fd);
	return 0;
fail:
	OPENSSL_cleanse(aud.key, sizeof aud.key);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* mkdir -p audit_dir, missing components 0700; it must end up a directory. */
static int audit_make_dir(char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX];
	snprintf(path, sizeof path, "%s", gw->cfg.audit_dir);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "audit_dir %s: mkdir %s: %s", gw->cfg.audit_dir, path,
				 strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "audit_dir %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "audit_dir %s: not a directory", path);
		return -1;
	}
	return 0;
}

/*
 * The last complete record of the file at path, for continuing the chain.
 * Returns 1 with *seq and prev set; 0 when the file holds no complete line;
 * -1 + err when it cannot be read or its last line is not a record made with
 * our key. *incomplete says whether the file ends in an incomplete line.
 */
static int audit_last_record(const char *path, uint64_t *seq, char prev[AUDIT_MAC_HEX + 1],
			     bool *incomplete, char *err, size_t errlen)
{
	/* Enough for an incomplete line of up to AUDIT_LINE_MAX and a full line before it. */
	const size_t window = 2 * (size_t)AUDIT_LINE_MAX + 4;
	char *buf = NULL;
	json_t *rec = NULL;
	int rc = -1;
	*incomplete = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if (st.st_size == 0) {
		rc = 0;
		goto done;
	}
	size_t want = (size_t)st.st_size < window ? (size_t)st.st_size : window;
	off_t start = st.st_size - (off_t)want;
	buf = malloc(want + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto done;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, start + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path,
				 n < 0 ? strerror(errno) : "shrank while read");
			goto done;
		}
		got += (size_t)n;
	}
	/* The newline ending the last complete line. */
	size_t end = want;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	*incomplete = end < want;
	if (end == 0) {
		if (start == 0) {
			rc = 0; /* nothing but an incomplete line */
			goto done;
		}
		snprintf(err, errlen,
			 "%s: the file ends in %zu bytes without a newline: not an audit log", path,
			 want);
		goto done;
	}
	size_t line_end = end - 1, line_start = line_end;
	while (line_start > 0 && buf[line_start - 1] != '\n')
		line_start--;
	if (line_start == 0 && start > 0) {
		snprintf(err, errlen, "%s: the last line is longer than %d bytes: not a record",
			 path, AUDIT_LINE_MAX);
		goto done;
	}
	const char *line = buf + line_start;
	size_t len = line_end - line_start;
	rec = audit_record_parse(line, len);
	/* audit_record_parse() checked the form of ts, seq, event, prev and mac. */
	json_t *jseq = rec ? json_object_get(rec, "seq") : NULL;
	json_t *jmac = rec ? json_object_get(rec, "mac") : NULL;
	if (!json_is_integer(jseq) || json_integer_value(jseq) < 1 || !json_is_string(jmac) ||
	    json_string_length(jmac) != AUDIT_MAC_HEX) {
		snprintf(err, errlen, "%s: the last record is not a valid audit record", path);
		goto done;
	}
	/* It must verify with our key, or the chain would go on under another key. */
	if (!audit_mac_ok(line, len, aud.key, aud.keylen)) {
		snprintf(err, errlen,
			 "%s: the last record (seq %lld) does not verify with audit_key_file %s "
			 "(another key, or the record was changed)",
			 path, (long long)json_integer_value(jseq), gw->cfg.audit_key_file);
		goto done;
	}
	*seq = (uint64_t)json_integer_value(jseq);
	snprintf(prev, AUDIT_MAC_HEX + 1, "%s", json_string_value(jmac));
	rc = 1;
done:
	json_decref(rec);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Open date/num for appending as the current file. must_create: a new file
 * (O_EXCL). 0, or -1 with errno set.
 */
static int audit_open_file(const char *date, int num, bool must_create)
{
	char path[AUDIT_PATH_MAX];
	audit_make_path(path, sizeof path, date, num);
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	if (must_create)
		flags |= O_EXCL;
	int fd = open(path, flags, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int saved = errno != 0 ? errno : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	if (st.st_size == 0)
		audit_sync_dir();
	aud.fd = fd;
	snprintf(aud.path, sizeof aud.path, "%s", path);
	memcpy(aud.date, date, 9);
	aud.num = num;
	aud.new_file_next = false;
	return 0;
}

/*
 * Start the file after the current one: today's date (or the current
 * file's, if the clock went back) with NNN+1 on the same date, 001 on a new
 * one; a name that exists is skipped. 0, or -1 with errno set.
 */
static int audit_next_file(int64_t unix_ms)
{
	char today[9], date[9];
	int num;
	audit_file_date(unix_ms, today);
	audit_file_next(today, aud.date, aud.num, date, &num);
	for (; num <= AUDIT_FILE_NUM_MAX; num++) {
		if (audit_open_file(date, num, true) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EMLINK;
	return -1;
}

/* The gateway's own log line when the audit log fails; available() turns false. */
static void audit_fail(const char *what, int errnum)
{
	char ts[40] = "";
	if (aud.fd >= 0) {
		/* What did reach the file should still reach the disk, if it can. */
		if (aud.dirty)
			(void)fdatasync(aud.fd);
		close(aud.fd);
		aud.fd = -1;
	}
	aud.dirty = false;
	aud.fail_try_ms = gw_now_ms();
	if (aud.failed)
		return;
	aud.failed = true;
	aud.lost = 0;
	audit_format_ts(gw_wall_ms(), ts, sizeof ts);
	snprintf(aud.fail_since, sizeof aud.fail_since, "%s", ts);
	snprintf(aud.fail_error, sizeof aud.fail_error, "%s: %s: %s", aud.path, what,
		 strerror(errnum));
	if (gw->cfg.audit_fail_open)
		log_error("audit log cannot be written: %s; audit_fail_open is set: logins go on "
			  "WITHOUT an audit trail",
			  aud.fail_error);
	else
		log_error("audit log cannot be written: %s; refusing new logins", aud.fail_error);
}

/*
 * What a restart or a rotation needs still holds: the directory and the
 * file writable, the file still there. 0 with the file's stat in st, or -1
 * with errno and what failed.
 */
static int audit_check_writable(struct stat *st, const char **what)
{
	if (faccessat(AT_FDCWD, gw->cfg.audit_dir, W_OK | X_OK, AT_EACCESS) != 0) {
		*what = "directory not writable";
		return -1;
	}
	if (faccessat(AT_FDCWD, aud.path, W_OK, AT_EACCESS) != 0) {
		*what = errno == ENOENT ? "file removed" : "file not writable";
		return -1;
	}
	if (fstat(aud.fd, st) != 0) {
		*what = "fstat";
		return -1;
	}
	if (st->st_nlink == 0) {
		*what = "file removed";
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static void audit_sync_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	aud.sync_armed = false;
	audit_sync();
}

static void audit_retry_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	aud.retry_armed = false;
	if (aud.opened && aud.failed && audit_try_recover() != 0 && gw->ctx != NULL) {
		aud.retry_armed = true;
		lws_sul_schedule(gw->ctx, 0, &aud.retry_sul, audit_retry_cb,
				 AUDIT_RETRY_MS * LWS_US_PER_MS);
	}
}

/* Written: make sure it reaches the disk within AUDIT_SYNC_MS. */
static void audit_mark_dirty(void)
{
	aud.dirty = true;
	if (gw->ctx == NULL) {
		audit_sync(); /* no event loop yet: sync now */
		return;
	}
	if (!aud.sync_armed) {
		aud.sync_armed = true;
		lws_sul_schedule(gw->ctx, 0, &aud.sync_sul, audit_sync_cb,
				 AUDIT_SYNC_MS * LWS_US_PER_MS);
	}
}

/*
 * A write stopped after done of len bytes: cut the file back to size. If
 * that fails, the next record starts a new file rather than follow garbage.
 */
static void audit_take_back(off_t size, size_t done, size_t len)
{
	if (ftruncate(aud.fd, size) == 0) {
		log_warn("audit log %s: %zu of %zu bytes of record %llu written: taken back",
			 aud.path, done, len, (unsigned long long)aud.seq + 1);
		return;
	}
	log_error("audit log %s: ends in a partial record (%s); the next record starts a new file",
		  aud.path, strerror(errno));
	aud.new_file_next = true;
}

/*
 * Append one line (record + '\n') with a single write, rotating first when
 * due. 0, or -1 with the failure recorded (the file no longer holds a
 * partial line where that can be helped).
 */
static int audit_append(const char *line, size_t len, int64_t unix_ms)
{
	const char *what = "";
	struct stat st;
	if (aud.fd < 0 || aud.new_file_next) {
		if (aud.fd >= 0) {
			close(aud.fd);
			aud.fd = -1;
		}
		if (audit_next_file(unix_ms) != 0) {
			audit_fail("cannot start a new file", errno);
			return -1;
		}
	}
	if (audit_check_writable(&st, &what) != 0) {
		audit_fail(what, errno);
		return -1;
	}
	char today[9];
	audit_file_date(unix_ms, today);
	enum audit_file_rotation rotation = audit_file_rotation((int64_t)st.st_size,
								gw->cfg.audit_rotate_mb,
								gw->cfg.audit_rotate_daily, today,
								aud.date, aud.num);
	if (rotation == AUDIT_FILE_ROTATE) {
		if (aud.dirty && fdatasync(aud.fd) != 0) {
			audit_fail("fdatasync", errno);
			return -1;
		}
		aud.dirty = false;
		char old[AUDIT_PATH_MAX];
		snprintf(old, sizeof old, "%s", aud.path);
		close(aud.fd);
		aud.fd = -1;
		if (audit_next_file(unix_ms) != 0) {
			audit_fail("cannot start a new file", errno);
			return -1;
		}
		log_info("audit log rotated: %s -> %s (seq %llu)", old, aud.path,
			 (unsigned long long)aud.seq + 1);
		if (fstat(aud.fd, &st) != 0) {
			audit_fail("fstat", errno);
			return -1;
		}
	} else if (rotation == AUDIT_FILE_FULL && !aud.max_num_warned) {
		aud.max_num_warned = true;
		log_warn("audit log %s: past audit_rotate_mb but the %d files of the day are used; "
			 "going on in this file",
			 aud.path, AUDIT_FILE_NUM_MAX);
	}
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(aud.fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : EIO;
			if (done > 0)
				audit_take_back(st.st_size, done, len);
			audit_fail("write", saved);
			return -1;
		}
		done += (size_t)n;
	}
	audit_mark_dirty();
	return 0;
}

/*
 * Make and append the record. 0, or -1 (then the failure is recorded, or the
 * record could not be built at all: out of memory).
 */
static int audit_write(const char *event, const char *user, const char *client, const char *session,
		       json_t *extra)
{
	int64_t unix_ms = gw_wall_ms();
	char ts[40];
	if (audit_format_ts(unix_ms, ts, sizeof ts) != 0) {
		audit_fail("cannot format the time", EINVAL);
		return -1;
	}
	char mac[AUDIT_MAC_HEX + 1];
	char *line = NULL;
	/* Full fields; shorter ones if the line is still too long; the bare event last. */
	for (int pass = 0; pass < 3 && line == NULL; pass++) {
		json_t *fields = NULL;
		if (pass < 2) {
			fields = audit_fields_make(event, user, client, session, extra,
						   pass == 0 ? AUDIT_FIELD_MAX : AUDIT_FIELD_SHORT,
						   pass == 0);
		} else {
			fields = audit_fields_make(event, user, client, session, NULL,
						   AUDIT_FIELD_SHORT, false);
			if (fields != NULL)
				json_object_set_new(fields, "audit_error",
						    json_string(
							"the event's fields could not be recorded"));
		}
		if (fields == NULL)
			continue;
		line = audit_record_make(fields, ts, aud.seq + 1, aud.prev, aud.key, aud.keylen,
					 mac);
		json_decref(fields);
		if (line == NULL)
			log_warn("%s: %s: record refused by audit_record_make (pass %d)", __func__,
				 event, pass + 1);
	}
	if (line == NULL) {
		log_error("%s: %s: cannot build the record (out of memory?)", __func__, event);
		return -1;
	}
	size_t len = strlen(line);
	char *nl = realloc(line, len + 2);
	if (nl == NULL) {
		free(line);
		log_error("%s: %s: out of memory", __func__, event);
		return -1;
	}
	nl[len] = '\n';
	nl[len + 1] = '\0';
	int rc = audit_append(nl, len + 1, unix_ms);
	free(nl);
	if (rc != 0)
		return -1;
	aud.seq++;
	memcpy(aud.prev, mac, sizeof aud.prev);
	return 0;
}

/* Whether the file at path is missing, empty or ends with a newline (safe to append to). */
static bool audit_ends_cleanly(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT;
	struct stat st;
	char last = '\n';
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_size == 0 || pread(fd, &last, 1, st.st_size - 1) == 1) && last == '\n';
	close(fd);
	return ok;
}

/* Failed earlier: try the file again and record the gap. 0 once writable again. */
static int audit_try_recover(void)
{
	aud.fail_try_ms = gw_now_ms();
	if (aud.fd < 0) {
		/* Back to the current file, unless it ends badly (then a new one). */
		if (!aud.new_file_next && !audit_ends_cleanly(aud.path))
			aud.new_file_next = true;
		if (!aud.new_file_next)
			audit_open_file(aud.date, aud.num, false);
		if (aud.fd < 0 && audit_next_file(gw_wall_ms()) != 0)
			return -1;
	}
	json_t *o = json_pack("{s:I, s:s, s:s}", "lost", (json_int_t)aud.lost, "since",
			      aud.fail_since, "error", aud.fail_error);
	/* Still marked failed: a failure here is the same episode, not logged again. */
	int rc = audit_write("audit_resumed", "", "", "", o);
	json_decref(o);
	if (rc != 0)
		return -1;
	log_info("audit log writable again: %s (%llu records lost since %s)", aud.path,
		 (unsigned long long)aud.lost, aud.fail_since);
	aud.failed = false;
	aud.lost = 0;
	return 0;
}

/* After a failure: try again every AUDIT_RETRY_MS even if no event comes. */
static void audit_arm_retry(void)
{
	if (gw->ctx == NULL || aud.retry_armed)
		return;
	aud.retry_armed = true;
	lws_sul_schedule(gw->ctx, 0, &aud.retry_sul, audit_retry_cb,
			 AUDIT_RETRY_MS * LWS_US_PER_MS);
}

/*
 * The newest audit file name (by name) that sorts before below ("" for no
 * bound) into out. 1 found, 0 none, -1 with errno when the directory
 * cannot be read.
 */
static int audit_newest_name(const char *below, char out[AUDIT_NAME_LEN + 1])
{
	char bound[AUDIT_NAME_LEN + 1], best[AUDIT_NAME_LEN + 1] = "";
	snprintf(bound, sizeof bound, "%s", below); /* below may be out */
	DIR *d = opendir(gw->cfg.audit_dir);
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char date[9];
		int num;
		if (audit_file_name_parse(e->d_name, date, &num) && strcmp(e->d_name, best) > 0 &&
		    (bound[0] == '\0' || strcmp(e->d_name, bound) < 0))
			memcpy(best, e->d_name, sizeof best);
	}
	closedir(d);
	memcpy(out, best, sizeof best);
	return best[0] != '\0';
}

/*
 * Find where the chain goes on: the last complete record of the newest file,
 * or of the file before it when that one holds no complete line (created
 * just before a crash), and so on. Sets aud.seq and aud.prev (0 and "" when
 * there is nothing to continue) and *incomplete when the newest file ends in
 * an incomplete line. 0, or -1 + err.
 */
static int audit_find_chain_end(const char *newest, bool *incomplete, char *err, size_t errlen)
{
	char name[AUDIT_NAME_LEN + 1];
	memcpy(name, newest, sizeof name);
	*incomplete = false;
	for (bool first = true;; first = false) {
		char date[9], path[AUDIT_PATH_MAX], why[600];
		int num;
		bool inc;
		audit_file_name_parse(name, date, &num);
		audit_make_path(path, sizeof path, date, num);
		int found = audit_last_record(path, &aud.seq, aud.prev, &inc, why, sizeof why);
		if (found < 0) {
			snprintf(err, errlen,
				 "audit log: %s; the chain cannot be continued. Check the files "
				 "with pixelgatectl audit verify; to start a new chain "
				 "deliberately, move the audit files out of %s",
				 why, gw->cfg.audit_dir);
			return -1;
		}
		if (first)
			*incomplete = inc;
		if (inc)
			log_warn("audit log %s ends in an incomplete record (a crash while "
				 "writing?): it is left as it is",
				 path);
		if (found == 1)
			return 0;
		int older = audit_newest_name(name, name);
		if (older < 0) {
			snprintf(err, errlen, "audit_dir %s: %s", gw->cfg.audit_dir,
				 strerror(errno));
			return -1;
		}
		if (older == 0) {
			aud.seq = 0;
			aud.prev[0] = '\0';
			return 0;
		}
	}
}

int audit_open(char *err, size_t errlen)
{
	char newest[AUDIT_NAME_LEN + 1], today[9];
	if (aud.opened)
		audit_close();
	if (audit_load_key(err, errlen) != 0)
		return -1;
	if (audit_make_dir(err, errlen) != 0)
		goto fail;
	int have = audit_newest_name("", newest);
	if (have < 0) {
		snprintf(err, errlen, "audit_dir %s: %s", gw->cfg.audit_dir, strerror(errno));
		goto fail;
	}
	aud.seq = 0;
	aud.prev[0] = '\0';
	aud.failed = false;
	aud.lost = 0;
	aud.max_num_warned = false;
	audit_file_date(gw_wall_ms(), today);
	if (have == 0) {
		if (audit_open_file(today, 1, false) != 0) {
			char first[AUDIT_PATH_MAX];
			audit_make_path(first, sizeof first, today, 1);
			snprintf(err, errlen, "audit log %s: %s", first, strerror(errno));
			goto fail;
		}
		log_info("audit log %s: a new chain starts", aud.path);
		aud.opened = true;
		return 0;
	}

	bool incomplete;
	if (audit_find_chain_end(newest, &incomplete, err, errlen) != 0)
		goto fail;
	char date[9];
	int num;
	audit_file_name_parse(newest, date, &num);
	memcpy(aud.date, date, sizeof aud.date);
	aud.num = num;
	audit_make_path(aud.path, sizeof aud.path, date, num);
	/* Never append after an incomplete line: the next file starts instead. */
	if (incomplete ? audit_next_file(gw_wall_ms()) != 0
		       : audit_open_file(date, num, false) != 0) {
		snprintf(err, errlen, "audit log: cannot open %s%s: %s",
			 incomplete ? "the file after " : "", aud.path, strerror(errno));
		goto fail;
	}
	if (aud.seq == 0)
		log_info("audit log %s: a new chain starts", aud.path);
	else
		log_info("audit log %s: the chain goes on at seq %llu", aud.path,
			 (unsigned long long)aud.seq + 1);
	aud.opened = true;
	return 0;
fail:
	if (aud.fd >= 0) {
		close(aud.fd);
		aud.fd = -1;
	}
	OPENSSL_cleanse(aud.key, sizeof aud.key);
	aud.keylen = 0;
	return -1;
}

int audit_event(const char *event, const char *user, const char *client, const char *session,
		json_t *fields)
{
	if (!aud.opened) {
		log_error("%s: %s: the audit log is not open", __func__, event);
		return -1;
	}
	if (!aud.failed) {
		if (audit_write(event, user, client, session, fields) == 0) {
			gw->metrics.audit_records++;
			return 0;
		}
	} else if (gw_now_ms() - aud.fail_try_ms >= AUDIT_RETRY_MS && audit_try_recover() == 0) {
		if (audit_write(event, user, client, session, fields) == 0) {
			gw->metrics.audit_records++;
			return 0;
		}
	}
	gw->metrics.audit_lost++;
	if (aud.failed) {
		aud.lost++;
		audit_arm_retry();
	}
	log_error("audit record LOST: event %s user \"%.64s\" client \"%.128s\" session \"%.32s\"",
		  event, user ? user : "", client ? client : "", session ? session : "");
	return aud.failed && gw->cfg.audit_fail_open ? 0 : -1;
}

bool audit_writable(void)
{
	if (!aud.opened)
		return false;
	if (!aud.failed) {
		const char *what = "";
		struct stat st;
		if (audit_check_writable(&st, &what) != 0) {
			audit_fail(what, errno);
			audit_arm_retry();
		}
	}
	return !aud.failed;
}

bool audit_available(void)
{
	return audit_writable() || (aud.opened && gw->cfg.audit_fail_open);
}

bool gw_logins_possible(void)
{
	return audit_available();
}

/*
 * Publish the chain's head ("SEQ MAC") in state_dir/audit.head, outside the
 * log directory: `pixelgatectl audit verify --head` then also catches whole
 * records cut off the end of the log. Written after the records are on disk.
 */
static void audit_write_head(void)
{
	char path[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 48], line[AUDIT_MAC_HEX + 32];
	if (aud.seq == 0)
		return;
	snprintf(path, sizeof path, "%s/audit.head", gw->cfg.state_dir);
	snprintf(tmp, sizeof tmp, "%s/.audit.head.tmp", gw->cfg.state_dir);
	int n = snprintf(line, sizeof line, "%llu %s\n", (unsigned long long)aud.seq, aud.prev);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, line, (size_t)n) == n && fdatasync(fd) == 0;
	int e = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok)
		log_warn("audit head %s not updated: %s", path, strerror(e));
}

void audit_sync(void)
{
	if (aud.fd < 0 || !aud.dirty)
		return;
	aud.dirty = false;
	if (fdatasync(aud.fd) != 0) {
		audit_fail("fdatasync", errno);
		audit_arm_retry();
		return;
	}
	audit_write_head();
}

void audit_close(void)
{
	if (!aud.opened)
		return;
	audit_sync();
	/*
	 * The timers are left alone: the context may already be destroyed, and
	 * if it is not, their callbacks do nothing once the log is closed.
	 */
	if (aud.fd >= 0) {
		if (close(aud.fd) != 0)
			log_error("audit log %s: close: %s", aud.path, strerror(errno));
		aud.fd = -1;
	}
	if (aud.failed && aud.lost > 0)
		log_error("audit log closed with %llu records lost since %s",
			  (unsigned long long)aud.lost, aud.fail_since);
	OPENSSL_cleanse(aud.key, sizeof aud.key);
	aud.keylen = 0;
	aud.opened = false;
}
