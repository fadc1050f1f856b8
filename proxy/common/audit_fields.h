/*
 * audit_fields.h: the fields of one audit record as the writer
 * (gateway_audit.c) builds them before audit_record_make() chains and signs
 * them. Pure: no I/O but the warnings in the gateway's log.
 *
 * Every record has event, user, client and session (strings, "" for none);
 * an event's own fields follow: strings, integers and booleans only, at most
 * AUDIT_FIELDS_MAX of them, names of at most AUDIT_KEY_NAME_MAX bytes, none
 * of the names the record itself uses (ts, seq, prev, mac, event, user,
 * client, session). Strings become valid UTF-8 without NUL (each bad byte a
 * '?') of at most cap bytes, a cut one ending in U+2026.
 */
#ifndef PIXELGATE_AUDIT_FIELDS_H
#define PIXELGATE_AUDIT_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define AUDIT_FIELD_MAX 2048  /* bytes of one string field (URLs, titles) */
#define AUDIT_FIELD_SHORT 256 /* the cap when a record is still too long */
#define AUDIT_FIELDS_MAX 32   /* event fields of one record */
#define AUDIT_KEY_NAME_MAX 64 /* bytes of a field name */

/*
 * len bytes of s as a JSON string of valid UTF-8: bad bytes and NUL become
 * '?', cut between characters to at most cap (>= 3) bytes with U+2026 at
 * the end. NULL: out of memory.
 */
json_t *audit_fields_string(const char *s, size_t len, size_t cap);

/*
 * The fields of a record (see above), strings capped at cap bytes; extra's
 * fields that cannot be recorded are left out (logged when warn). extra is
 * not changed (NULL or not an object: none). NULL: out of memory.
 */
json_t *audit_fields_make(const char *event, const char *user, const char *client,
			  const char *session, json_t *extra, size_t cap, bool warn);

#endif
