/*
 * ratelimit.h: request rates per key (a client address), token buckets in a
 * bounded table. A pure data structure: the caller passes the time.
 *
 * Each key has a bucket of at most burst tokens, refilled at rate_per_s
 * tokens a second; a request takes one token, and is refused when there is
 * none. A key seen for the first time starts with a full bucket. rate_per_s
 * 0 means "no limit" (nothing is stored).
 */
#ifndef PIXELGATE_RATELIMIT_H
#define PIXELGATE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 96
#define RATELIMIT_ENTRIES 4096 /* keys tracked; past this the least useful entry is evicted */

struct ratelimit_entry {
	char key[RATELIMIT_KEY_MAX];
	int64_t tokens_milli; /* thousandths of a token */
	int64_t last_ms;      /* time of the last refill (never moves back) */
};

struct ratelimit {
	struct ratelimit_entry v[RATELIMIT_ENTRIES];
	size_t n;
	uint64_t evictions; /* entries dropped to make room (for tests and logs) */
};

void ratelimit_init(struct ratelimit *r);

/*
 * One request of key at now_ms, with rate_per_s (0 = no limit) and burst
 * (at least 1; smaller is taken as 1). Returns 0 if it is allowed (a token
 * was taken), else the milliseconds until a token will be there (>= 1).
 */
int64_t ratelimit_take(struct ratelimit *r, const char *key, int rate_per_s, int burst,
		       int64_t now_ms);

/* Seconds of a Retry-After for ratelimit_take()'s wait_ms (rounded up, at least 1). */
int ratelimit_retry_after_s(int64_t wait_ms);

#endif
