/*
 * audit_chain.h: the tamper-evident audit log's records, as pure functions.
 *
 * One record per line (JSON Lines). Each record is a JSON object with
 *   ts      UTC, RFC 3339 with milliseconds ("2026-11-26T03:04:05.678Z")
 *   seq     1, 2, 3, ... across files (rotation does not restart it)
 *   event   "login_ok", "navigate", ...
 *   user, client, session   (strings; "" when not applicable)
 *   ...     the event's own fields (strings, integers, booleans only)
 *   prev    the previous record's mac ("" for seq 1)
 *   mac     HMAC-SHA256(key, C) as 64 lower-case hex, where C is the record
 *           without "mac", serialised by jansson with JSON_COMPACT |
 *           JSON_SORT_KEYS (the line itself is the same serialisation with
 *           "mac" included, so a reader re-creates C exactly).
 * Only the gateway writes records (gateway_audit.c); pixelgatectl audit reads.
 */
#ifndef PIXELGATE_AUDIT_CHAIN_H
#define PIXELGATE_AUDIT_CHAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_MAC_HEX 64
#define AUDIT_LINE_MAX (64 * 1024) /* a longer line is refused (writer truncates fields) */
#define AUDIT_KEY_MIN 32           /* bytes of key material at least */

/*
 * Make the line of a record: fields (an object; it is not modified) plus ts,
 * seq, prev and mac. Returns a malloc'd NUL-terminated line without the
 * newline, and the record's mac in mac_out; NULL if fields holds something
 * other than strings/integers/booleans or the line would exceed AUDIT_LINE_MAX.
 */
char *audit_record_make(json_t *fields, const char *ts, uint64_t seq, const char *prev,
			const uint8_t *key, size_t keylen, char mac_out[AUDIT_MAC_HEX + 1]);

/* Why a record does not verify. */
enum audit_problem {
	AUDIT_OK,
	AUDIT_NOT_JSON,      /* not a JSON object, or over AUDIT_LINE_MAX */
	AUDIT_MISSING_FIELD, /* ts, seq, event, prev or mac missing or of the wrong type */
	AUDIT_CHANGED,       /* the mac does not match the record (edited, or forged) */
	AUDIT_WRONG_KEY,     /* no record verifies with this key (reported on the first) */
	AUDIT_DELETED,       /* seq skips ahead: records are missing before this one */
	AUDIT_INSERTED,      /* seq repeats, or the record verifies but prev does not chain */
	AUDIT_REORDERED,     /* seq goes backwards */
	AUDIT_TRUNCATED,     /* the last line is incomplete, or the chain ends before the head */
};

/* A human phrase for p ("changed", "deleted", ...). */
const char *audit_problem_name(enum audit_problem p);

/* State of a verification walking records in order, across files. */
struct audit_verify {
	uint64_t records; /* verified so far */
	uint64_t last_seq;
	char last_mac[AUDIT_MAC_HEX + 1];
	char first_ts[40], last_ts[40];
	bool any_mac_ok; /* to tell a wrong key from an edit */
};

void audit_verify_init(struct audit_verify *v);

/*
 * Check the next line (without its newline; complete says whether a newline
 * ended it). Returns AUDIT_OK and advances v, or the problem with a short
 * explanation in why (e.g. "seq 17 follows 15: 1 record deleted").
 */
enum audit_problem audit_verify_line(struct audit_verify *v, const char *line, size_t len,
				     bool complete, const uint8_t *key, size_t keylen, char *why,
				     size_t whylen);

/* Parse a record line into a JSON object (for queries); NULL if not a record. */
json_t *audit_record_parse(const char *line, size_t len);

/* "2026-11-26T03:04:05.678Z" for unix_ms. 0 or -1. */
int audit_format_ts(int64_t unix_ms, char *out, size_t outlen);

/* A time as text, parsed by audit_parse_time(). */
struct audit_time {
	int64_t unix_s;  /* seconds since the epoch (negative before 1970 UTC) */
	int ms;          /* the fraction's first three digits, 0..999 */
	int frac_digits; /* digits after the '.', 0 when none */
	bool has_time;   /* hh:mm followed the date */
	bool has_sec;    /* :ss followed hh:mm */
	bool has_zone;   /* Z or an offset: UTC; else local time (TZ) */
};

enum audit_time_result {
	AUDIT_TIME_OK = 0,
	AUDIT_TIME_SYNTAX = -1,  /* not of the form below */
	AUDIT_TIME_NO_SUCH = -2, /* 2026-02-30, 24:00, +09:60, before 1970, skipped by DST */
};

/*
 * The one parser of times as text (the audit log's ts, the admin API's
 * times, the times security staff type):
 *   YYYY-MM-DD[(T|t|' ')hh:mm[:ss[.f]][Z|z|+hh:mm|-hh:mm]]
 * with a fraction of 1-9 digits, years from 1970, no leap second. A date
 * alone is local midnight; a time without a zone is local time. On
 * AUDIT_TIME_NO_SUCH, has_zone says whether a zone was given. Pure except
 * for reading TZ (mktime) when no zone is given.
 */
int audit_parse_time(const char *text, struct audit_time *t);

/*
 * Parse a ts as audit_format_ts() writes it ("2026-11-26T03:04:05.678Z",
 * exactly 24 characters, a real date) into milliseconds since the epoch.
 * 0 or -1.
 */
int audit_parse_ts(const char *ts, int64_t *unix_ms);

/*
 * Whether line (len bytes, no newline) is a record whose mac matches its
 * content under key, whatever its place in the chain. Used to tell a wrong
 * key from an edited first record.
 */
bool audit_mac_ok(const char *line, size_t len, const uint8_t *key, size_t keylen);

/* One file of a walk, in memory (read or mapped by the caller). */
struct audit_file {
	const char *name;
	const char *data;
	size_t len;
};

/* Where a walk stopped: the bad record, or the last record when all is well. */
struct audit_where {
	size_t file;   /* index into the files */
	uint64_t line; /* 1-based line in that file; 0 when there is no record */
	uint64_t seq;  /* the record's seq, 0 when it has none */
};

/* What the newest record should be (kept apart from the log, e.g. off the host). */
struct audit_head {
	uint64_t seq;
	char mac[AUDIT_MAC_HEX + 1];
};

/*
 * Parse a head: a record line (its seq and mac are taken), or the text
 * "SEQ MAC" (decimal, 64 lower-case hex), with or without a final newline.
 * 0 or -1.
 */
int audit_head_parse(const char *text, size_t len, struct audit_head *h);

/*
 * Verify files[0..nfiles) as one chain, in order (the first record of a file
 * chains to the last of the one before). v is initialised here. With
 * from_start the first record must be seq 1 (else DELETED); without it the
 * walk may begin anywhere in the chain (v->records counts from there). With
 * head, the chain must reach head->seq and the record there must have
 * head->mac (TRUNCATED / CHANGED otherwise).
 *
 * The first problem found stops the walk and is refined by looking ahead,
 * so that what is reported is what happened:
 *  - a record whose mac fails is INSERTED when the record after it chains to
 *    the one before it (a forged extra record), WRONG_KEY when it is the
 *    first of the walk and the record after it fails too (or there is none),
 *    CHANGED otherwise;
 *  - a seq that skips ahead is REORDERED when the missing record comes later
 *    (verified and chained to the one before the gap), DELETED otherwise;
 *  - a seq that goes back, or repeats, is INSERTED when the record after it
 *    chains to the one before it (a copy put in), REORDERED otherwise.
 * Returns AUDIT_OK (where = the last record) or the problem (where = the
 * first bad record), with an explanation in why.
 */
enum audit_problem audit_verify_files(const struct audit_file *files, size_t nfiles,
				      const uint8_t *key, size_t keylen, bool from_start,
				      const struct audit_head *head, struct audit_verify *v,
				      struct audit_where *where, char *why, size_t whylen);

#endif
