/*
 * refusals.h: refusals that are counted, not audited one by one.
 *
 * A client without a password can make the gateway refuse as many requests
 * as it can send (a locked-out user or address, a rate limit). One audit
 * record per refusal would let it fill the audit disk, so such refusals are
 * counted here per key (event, user, client) and written as one record per
 * key per interval: count, first and last time, reason. A pure data
 * structure: the caller passes the times and writes the records.
 *
 * The table is bounded: past REFUSALS_KEYS_MAX keys, further keys of an
 * event are counted together in one overflow entry of that event (client
 * "*"), so memory and records per interval stay bounded whatever arrives.
 */
#ifndef PIXELGATE_REFUSALS_H
#define PIXELGATE_REFUSALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REFUSALS_KEYS_MAX 256   /* keys counted at the same time */
#define REFUSALS_OVERFLOW_MAX 8 /* overflow entries (one per event name) */
#define REFUSALS_EVENT_MAX 32
#define REFUSALS_USER_MAX 65 /* USERS_NAME_MAX + 1 */
#define REFUSALS_CLIENT_MAX 64
#define REFUSALS_REASON_MAX 32
#define REFUSALS_OVERFLOW_CLIENT "*"

struct refusal {
	char event[REFUSALS_EVENT_MAX];
	char user[REFUSALS_USER_MAX];
	char client[REFUSALS_CLIENT_MAX];
	char reason[REFUSALS_REASON_MAX];
	bool overflow; /* counts refusals of many keys (the table was full) */
	uint64_t count;
	int64_t first_ms; /* caller's monotonic clock: decides when the interval ends */
	int64_t first_wall_ms, last_wall_ms; /* wall clock, for the record */
};

struct refusals {
	struct refusal v[REFUSALS_KEYS_MAX + REFUSALS_OVERFLOW_MAX];
	size_t n, n_overflow; /* v[0..n) keys, then n_overflow overflow entries after them */
	int64_t interval_ms;
	uint64_t dropped; /* refusals not even counted (every overflow entry in use) */
};

/* An empty table; a key's record is due interval_ms after its first refusal. */
void refusals_init(struct refusals *r, int64_t interval_ms);

/*
 * Count one refusal of (event, user, client) with reason (the first reason
 * of the interval is kept). Strings longer than their fields are cut.
 * Returns true if this is the key's first refusal of the interval (the
 * caller may log that one and stay quiet about the rest).
 */
bool refusals_add(struct refusals *r, const char *event, const char *user, const char *client,
		  const char *reason, int64_t now_ms, int64_t wall_ms);

/*
 * Hand every entry whose interval has ended at now_ms (every entry when
 * all) to emit, keys in the order they came then the overflow entries,
 * and forget it. Returns how many were emitted.
 */
size_t refusals_flush(struct refusals *r, int64_t now_ms, bool all,
		      void (*emit)(const struct refusal *e, void *arg), void *arg);

/* When the next entry is due (monotonic ms), or INT64_MAX if the table is empty. */
int64_t refusals_next_due(const struct refusals *r);

#endif
