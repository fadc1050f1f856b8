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
#define AUDIT_LINE_MAX (64 * 1024)  /* a longer line is refused (writer truncates fields) */
#define AUDIT_KEY_MIN 32            /* bytes of key material at least */

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
	AUDIT_NOT_JSON,       /* not a JSON object, or over AUDIT_LINE_MAX */
	AUDIT_MISSING_FIELD,  /* ts, seq, event, prev or mac missing or of the wrong type */
	AUDIT_CHANGED,        /* the mac does not match the record (edited, or forged) */
	AUDIT_WRONG_KEY,      /* no record verifies with this key (reported on the first) */
	AUDIT_DELETED,        /* seq skips ahead: records are missing before this one */
	AUDIT_INSERTED,       /* seq repeats, or the record verifies but prev does not chain */
	AUDIT_REORDERED,      /* seq goes backwards */
	AUDIT_TRUNCATED,      /* the last line is incomplete, or the chain ends before the head */
};

/* A human phrase for p ("changed", "deleted", ...). */
const char *audit_problem_name(enum audit_problem p);

/* State of a verification walking records in order, across files. */
struct audit_verify {
	uint64_t records;              /* verified so far */
	uint64_t last_seq;
	char last_mac[AUDIT_MAC_HEX + 1];
	char first_ts[40], last_ts[40];
	bool any_mac_ok;               /* to tell a wrong key from an edit */
};

void audit_verify_init(struct audit_verify *v);

/*
 * Check the next line (without its newline; complete says whether a newline
 * ended it). Returns AUDIT_OK and advances v, or the problem with a short
 * explanation in why (e.g. "seq 17 follows 15: 1 record deleted").
 */
enum audit_problem audit_verify_line(struct audit_verify *v, const char *line, size_t len,
				     bool complete, const uint8_t *key, size_t keylen,
				     char *why, size_t whylen);

/* Parse a record line into a JSON object (for queries); NULL if not a record. */
json_t *audit_record_parse(const char *line, size_t len);

/* "2026-11-26T03:04:05.678Z" for unix_ms. 0 or -1. */
int audit_format_ts(int64_t unix_ms, char *out, size_t outlen);

#endif
