/*
 * audit_read.c: the audit log as security staff's tools read it
 * (audit_read.h): read-only, mapped, never written.
 */
#include "audit_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

/*
 * Read the key: a regular file only its owner may access, AUDIT_KEY_MIN to
 * AUDIT_KEY_MAX bytes, used as it is. 0 or -1 with why.
 */
int audit_key_read(const char *path, uint8_t *key, size_t *keylen, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "key file %s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, whylen,
			 "key file %s: mode %04o lets group or others read the audit key; run "
			 "chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	while (got < AUDIT_KEY_MAX + 1 && (n = read(fd, key + got, AUDIT_KEY_MAX + 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "key file %s: %s", path, strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	if (got < AUDIT_KEY_MIN || got > AUDIT_KEY_MAX) {
		snprintf(why, whylen, "key file %s: %zu%s bytes; a key is %d to %d bytes", path,
			 got, got > AUDIT_KEY_MAX ? " or more" : "", AUDIT_KEY_MIN, AUDIT_KEY_MAX);
		goto fail;
	}
	close(fd);
	*keylen = got;
	return 0;
fail:
	OPENSSL_cleanse(key, AUDIT_KEY_MAX + 1);
	close(fd);
	return -1;
}

static int audit_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name is audit-*.jsonl. */
static bool audit_is_log_name(const char *name)
{
	size_t n = strlen(name);
	return n > strlen("audit-.jsonl") && strncmp(name, "audit-", 6) == 0 &&
	    strcmp(name + n - 6, ".jsonl") == 0;
}

/* Add a path (copied) to the list. 0 or -1. */
static int audit_add_path(struct audit_log *log, const char *path)
{
	char **p = realloc(log->paths, (log->n + 1) * sizeof *p);
	if (p == NULL)
		return -1;
	log->paths = p;
	if ((p[log->n] = strdup(path)) == NULL)
		return -1;
	log->n++;
	return 0;
}

/* The paths: files as given, or audit-*.jsonl of dir sorted. 0 or -1 with why. */
static int audit_paths(struct audit_log *log, const char *dir, const char *const *files,
		       size_t nfiles, char *why, size_t whylen)
{
	if (dir == NULL) {
		for (size_t i = 0; i < nfiles; i++)
			if (audit_add_path(log, files[i]) != 0)
				goto nomem;
		return 0;
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	if (d == NULL) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!audit_is_log_name(e->d_name))
			continue;
		char **p = realloc(names, (n + 1) * sizeof *p);
		if (p == NULL || (p[n] = strdup(e->d_name)) == NULL) {
			free(p != NULL ? p : names);
			closedir(d);
			goto nomem;
		}
		names = p;
		n++;
	}
	closedir(d);
	if (n == 0) {
		snprintf(why, whylen, "%s: no audit-*.jsonl files", dir);
		free(names);
		return -1;
	}
	qsort(names, n, sizeof *names, audit_name_cmp);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		if (rc == 0 &&
		    ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path ||
		     audit_add_path(log, path) != 0))
			rc = -1;
		free(names[i]);
	}
	free(names);
	if (rc != 0)
		goto nomem;
	return 0;
nomem:
	snprintf(why, whylen, "out of memory listing the audit files");
	return -1;
}

void audit_log_close(struct audit_log *log)
{
	for (size_t i = 0; i < log->n; i++) {
		if (log->f != NULL)
			free((void *)log->f[i].data);
		free(log->paths[i]);
	}
	free(log->f);
	free(log->paths);
	memset(log, 0, sizeof *log);
}

int audit_log_open(struct audit_log *log, const char *dir, const char *const *files, size_t nfiles,
		   char *why, size_t whylen)
{
	memset(log, 0, sizeof *log);
	if (audit_paths(log, dir, files, nfiles, why, whylen) != 0)
		goto fail;
	if ((log->f = calloc(log->n, sizeof *log->f)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < log->n; i++) {
		struct stat st;
		const char *path = log->paths[i];
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		log->f[i].name = path;
		if (fd < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(why, whylen, "%s: not a regular file", path);
			close(fd);
			goto fail;
		}
		/*
		 * Read into memory of our own, not mapped: a mapping shows what
		 * is written to the file later (a record changed after it was
		 * verified) and a file cut meanwhile would kill the reader with
		 * SIGBUS. Whatever was written while it was read is not read.
		 */
		if ((uint64_t)st.st_size > AUDIT_FILE_READ_MAX) {
			snprintf(why, whylen,
				 "%s: %lld bytes, more than an audit file may have (%llu)", path,
				 (long long)st.st_size, (unsigned long long)AUDIT_FILE_READ_MAX);
			close(fd);
			goto fail;
		}
		size_t want = (size_t)st.st_size, got = 0;
		char *data = want > 0 ? malloc(want) : NULL;
		if (want > 0 && data == NULL) {
			snprintf(why, whylen, "%s: out of memory", path);
			close(fd);
			goto fail;
		}
		while (got < want) {
			ssize_t n = read(fd, data + got, want - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(why, whylen, "%s: %s", path, strerror(errno));
				free(data);
				close(fd);
				goto fail;
			}
			if (n == 0)
				break; /* cut meanwhile: what is there */
			got += (size_t)n;
		}
		log->f[i].data = data;
		log->f[i].len = got;
		close(fd);
	}
	return 0;
fail:
	audit_log_close(log);
	return -1;
}

/* A string field of rec, or NULL. */
static const char *audit_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* The one line a timeline shows of a record besides its event's name. */
static void audit_event_detail(const json_t *rec, char *out, size_t outlen)
{
	static const char *const keys[] = { "url", "filename", "what", "reason", "action", NULL };
	char raw[1024] = "";
	const char *dir = audit_str(rec, "direction");
	if (dir != NULL) {
		/* a clipboard transfer: where to, how much, passed or why not */
		const char *result = audit_str(rec, "result"), *reason = audit_str(rec, "reason");
		snprintf(raw, sizeof raw, "%s %lld bytes %s%s%s", dir,
			 (long long)json_integer_value(json_object_get(rec, "bytes")),
			 result != NULL ? result : "", reason != NULL ? " " : "",
			 reason != NULL ? reason : "");
	} else {
		for (size_t i = 0; keys[i] != NULL; i++) {
			const char *v = audit_str(rec, keys[i]);
			if (v != NULL && v[0] != '\0') {
				snprintf(raw, sizeof raw, "%s", v);
				break;
			}
		}
	}
	utf8_clean_text(out, outlen, raw, strlen(raw), UTF8_CUT_MARK, UTF8_CLEAN_BIDI);
}

static int audit_event_cmp(const void *a, const void *b)
{
	const struct audit_event *x = a, *y = b;
	if (x->unix_ms != y->unix_ms)
		return x->unix_ms < y->unix_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int audit_log_each(const struct audit_log *log,
		   int (*fn)(void *arg, json_t *rec, const char *line, size_t len), void *arg,
		   uint64_t *bad)
{
	*bad = 0;
	for (size_t i = 0; i < log->n; i++) {
		const char *p = log->f[i].data, *end = p + log->f[i].len;
		while (p != NULL && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
			json_t *rec = nl != NULL ? audit_record_parse(p, len) : NULL;
			if (rec == NULL) {
				(*bad)++;
			} else {
				int rc = fn(arg, rec, p, len);
				if (rc != 0)
					return rc;
			}
			p += len + 1;
		}
	}
	return 0;
}

struct audit_find {
	const char *file_name;
	int64_t from_ms;
	struct audit_recording *rec;
	size_t cap;
};

/* audit_log_each(): the file's "recording" record (the last one wins). */
static int audit_find_record(void *arg, json_t *r, const char *line, size_t len)
{
	struct audit_find *f = arg;
	const char *ev = audit_str(r, "event"), *file = audit_str(r, "file");
	(void)line;
	(void)len;
	if (ev != NULL && strcmp(ev, "recording") == 0 && file != NULL &&
	    strcmp(file, f->file_name) == 0) {
		json_decref(f->rec->record);
		f->rec->record = json_incref(r);
	}
	json_decref(r);
	return 0;
}

/* audit_log_each(): a record of the session while it was recorded. */
static int audit_find_event(void *arg, json_t *r, const char *line, size_t len)
{
	struct audit_find *f = arg;
	struct audit_recording *rec = f->rec;
	const char *ev = audit_str(r, "event"), *s = audit_str(r, "session"),
		   *rts = audit_str(r, "ts");
	int64_t ms;
	(void)line;
	(void)len;
	if (ev == NULL || s == NULL || rts == NULL || strcmp(s, rec->session) != 0 ||
	    strcmp(ev, "recording") == 0 || audit_parse_ts(rts, &ms) != 0 || ms < f->from_ms ||
	    ms > rec->end_ms) {
		json_decref(r);
		return 0;
	}
	if (rec->nevents >= AUDIT_EVENTS_MAX) {
		rec->events_left_out++; /* counted: the player says so */
		json_decref(r);
		return 0;
	}
	if (rec->nevents == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		struct audit_event *e = realloc(rec->events, ncap * sizeof *e);
		if (e == NULL) {
			json_decref(r);
			return -1;
		}
		rec->events = e;
		f->cap = ncap;
	}
	struct audit_event *e = &rec->events[rec->nevents++];
	e->unix_ms = ms;
	e->seq = (uint64_t)json_integer_value(json_object_get(r, "seq"));
	utf8_clean(e->event, sizeof e->event, ev);
	audit_event_detail(r, e->detail, sizeof e->detail);
	json_decref(r);
	return 0;
}

int audit_find_recording(const struct audit_log *log, const char *file_name, int64_t from_ms,
			 struct audit_recording *rec)
{
	struct audit_find f = { file_name, from_ms, rec, 0 };
	uint64_t bad;
	memset(rec, 0, sizeof *rec);
	/* the record first: its session and its end */
	audit_log_each(log, audit_find_record, &f, &bad);
	if (rec->record == NULL)
		return 1;
	const char *sha = audit_str(rec->record, "sha256"),
		   *session = audit_str(rec->record, "session"),
		   *user = audit_str(rec->record, "user"), *ts = audit_str(rec->record, "ts");
	snprintf(rec->sha256, sizeof rec->sha256, "%s", sha != NULL ? sha : "");
	utf8_clean_text(rec->session, sizeof rec->session, session != NULL ? session : "",
			session != NULL ? strlen(session) : 0, "", UTF8_CLEAN_BIDI);
	utf8_clean_text(rec->user, sizeof rec->user, user != NULL ? user : "",
			user != NULL ? strlen(user) : 0, "", UTF8_CLEAN_BIDI);
	if (ts == NULL || audit_parse_ts(ts, &rec->end_ms) != 0)
		rec->end_ms = INT64_MAX;
	if (rec->session[0] == '\0')
		return 0;
	/* then the session's events while it was recorded */
	if (audit_log_each(log, audit_find_event, &f, &bad) != 0) {
		audit_recording_free(rec);
		return -1;
	}
	if (rec->nevents > 1)
		qsort(rec->events, rec->nevents, sizeof *rec->events, audit_event_cmp);
	return 0;
}

void audit_recording_free(struct audit_recording *rec)
{
	json_decref(rec->record);
	free(rec->events);
	memset(rec, 0, sizeof *rec);
}
