/*
 * audit_read.h: reading the audit log where it lies, for security staff's
 * tools (pixelgatectl audit, the viewer's recording player): the key file,
 * the log's files mapped read-only in the gateway's order, and the
 * "recording" record of a recording with its session's events.
 */
#ifndef PIXELGATE_AUDIT_READ_H
#define PIXELGATE_AUDIT_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_chain.h"

#define AUDIT_KEY_MAX 4096 /* bytes of key file read at most */
/* an audit file larger than this is refused (the gateway rotates at rotate_mb) */
#define AUDIT_FILE_READ_MAX (4ull * 1024 * 1024 * 1024)

/* The log files, read. */
struct audit_log {
	struct audit_file *f;
	char **paths; /* owned */
	size_t n;
};

/*
 * Read the key: a regular file only its owner may access, AUDIT_KEY_MIN to
 * AUDIT_KEY_MAX bytes, used as it is, into key (AUDIT_KEY_MAX + 1 bytes;
 * wiped on failure). 0, or -1 with why.
 */
int audit_key_read(const char *path, uint8_t *key, size_t *keylen, char *why, size_t whylen);

/*
 * Read files[0..nfiles) as given, or (dir not NULL) every audit-*.jsonl of
 * dir sorted by name, which is the order the gateway writes them in, into
 * memory of our own (regular files only, each at most AUDIT_FILE_READ_MAX).
 * 0, or -1 with why (log closed).
 */
int audit_log_open(struct audit_log *log, const char *dir, const char *const *files, size_t nfiles,
		   char *why, size_t whylen);

void audit_log_close(struct audit_log *log);

/*
 * Call fn for every record of the log in order, with the record parsed
 * (fn owns it: json_decref() it) and its line; lines that are not records
 * are counted in *bad. Stops at fn's first non-zero answer and returns it;
 * 0 after the last record.
 */
int audit_log_each(const struct audit_log *log,
		   int (*fn)(void *arg, json_t *rec, const char *line, size_t len), void *arg,
		   uint64_t *bad);

/* One event of a recording's session, for a timeline. */
struct audit_event {
	int64_t unix_ms;
	uint64_t seq;
	char event[32];   /* "navigate", "download_blocked", ... */
	char detail[200]; /* the event's main field (url, file, reason, ...), cleaned for one line */
};

/* A recording's record and its session's events. */
struct audit_recording {
	json_t *record;             /* the "recording" record of the file (NULL: none) */
	char sha256[65];            /* its sha256 ("" without a record) */
	char session[64];           /* its session */
	char user[128];             /* its user */
	int64_t end_ms;             /* its ts: the connection closed */
	struct audit_event *events; /* the session's records in time order (malloc'd) */
	size_t nevents;
	size_t events_left_out; /* past AUDIT_EVENTS_MAX: counted, not kept */
};

#define AUDIT_EVENTS_MAX 50000 /* events kept for one recording */

/*
 * Find the last "recording" record whose file is file_name (a base name) in
 * log, and the records of its session stamped from from_ms to its ts (the
 * "recording" records of the session's other connections left out). 0 (a
 * record found), 1 (none: rec->record NULL), -1 out of memory.
 */
int audit_find_recording(const struct audit_log *log, const char *file_name, int64_t from_ms,
			 struct audit_recording *rec);

void audit_recording_free(struct audit_recording *rec);

#endif
