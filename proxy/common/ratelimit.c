/*
 * ratelimit.c: token buckets per key, with a bounded table.
 *
 * A flat array searched linearly, like lockout.c: a few thousand entries,
 * one lookup per request, no allocation to fail. Tokens are counted in
 * thousandths so that a refill of rate_per_s tokens a second is exact at
 * millisecond resolution (rate_per_s thousandths per millisecond).
 *
 * When the table is full, the entry evicted is the one that loses least:
 * first one whose bucket is full again (it is the same as a key never
 * seen), else the one with the most tokens, the stalest among equals. An
 * evicted key starts again with a full bucket, so a flood of throw-away
 * keys can give one other key at most one extra burst while it lasts; it
 * can never block a key.
 *
 * Keys that do not fit RATELIMIT_KEY_MAX are stored as a prefix plus a hash
 * of the whole key. A clock that goes back adds no tokens and takes none
 * away: last_ms only moves forward.
 */
#include "ratelimit.h"

#include "lockout.h"

#include <stdio.h>
#include <string.h>

void ratelimit_init(struct ratelimit *r)
{
	r->n = 0;
	r->evictions = 0;
}

/* The stored form of key (lockout_key_fit(), shared with the lockout table). */
static void ratelimit_key(const char *key, char out[RATELIMIT_KEY_MAX])
{
	lockout_key_fit(key, out, RATELIMIT_KEY_MAX);
}

/* Bring e's bucket up to now_ms (capacity cap_milli, rate_per_s per second). */
static void ratelimit_refill(struct ratelimit_entry *e, int rate_per_s, int64_t cap_milli,
			     int64_t now_ms)
{
	if (now_ms <= e->last_ms)
		return; /* same millisecond, or the clock went back: nothing to add */
	/* now_ms > last_ms: the difference fits in 64 unsigned bits whatever they are. */
	uint64_t elapsed = (uint64_t)now_ms - (uint64_t)e->last_ms;
	e->last_ms = now_ms;
	/* Long enough to fill the bucket from empty: full (no overflow below). */
	if (elapsed >= (uint64_t)(cap_milli / rate_per_s + 1)) {
		e->tokens_milli = cap_milli;
		return;
	}
	e->tokens_milli += (int64_t)elapsed * rate_per_s;
	if (e->tokens_milli > cap_milli)
		e->tokens_milli = cap_milli;
}

/* Tokens e would have at now_ms (for eviction), without changing it. */
static int64_t ratelimit_level(const struct ratelimit_entry *e, int rate_per_s, int64_t cap_milli,
			       int64_t now_ms)
{
	struct ratelimit_entry copy = *e;
	ratelimit_refill(&copy, rate_per_s, cap_milli, now_ms);
	return copy.tokens_milli;
}

/* A free entry, evicting one if the table is full. */
static struct ratelimit_entry *ratelimit_slot(struct ratelimit *r, int rate_per_s,
					      int64_t cap_milli, int64_t now_ms)
{
	if (r->n < RATELIMIT_ENTRIES)
		return &r->v[r->n++];
	struct ratelimit_entry *victim = &r->v[0];
	int64_t victim_level = ratelimit_level(victim, rate_per_s, cap_milli, now_ms);
	for (size_t i = 1; i < r->n && victim_level < cap_milli; i++) {
		struct ratelimit_entry *e = &r->v[i];
		int64_t level = ratelimit_level(e, rate_per_s, cap_milli, now_ms);
		if (level > victim_level ||
		    (level == victim_level && e->last_ms < victim->last_ms)) {
			victim = e;
			victim_level = level;
		}
	}
	r->evictions++;
	return victim;
}

int64_t ratelimit_take(struct ratelimit *r, const char *key, int rate_per_s, int burst,
		       int64_t now_ms)
{
	if (key == NULL || rate_per_s <= 0)
		return 0;
	if (burst < 1)
		burst = 1;
	int64_t cap_milli = (int64_t)burst * 1000;
	char k[RATELIMIT_KEY_MAX];
	ratelimit_key(key, k);
	struct ratelimit_entry *e = NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].key, k) == 0) {
			e = &r->v[i];
			break;
		}
	}
	if (e == NULL) {
		e = ratelimit_slot(r, rate_per_s, cap_milli, now_ms);
		memcpy(e->key, k, sizeof e->key);
		e->tokens_milli = cap_milli;
		e->last_ms = now_ms;
	} else {
		/* burst may have been lowered at run time since the last request */
		if (e->tokens_milli > cap_milli)
			e->tokens_milli = cap_milli;
		ratelimit_refill(e, rate_per_s, cap_milli, now_ms);
	}
	if (e->tokens_milli >= 1000) {
		e->tokens_milli -= 1000;
		return 0;
	}
	/* Rounded up: the token is whole at that many ms, not before. */
	int64_t missing = 1000 - e->tokens_milli;
	int64_t wait = missing / rate_per_s + (missing % rate_per_s != 0);
	return wait < 1 ? 1 : wait;
}

int ratelimit_retry_after_s(int64_t wait_ms)
{
	if (wait_ms <= 0)
		return 1;
	int64_t s = wait_ms / 1000 + (wait_ms % 1000 != 0);
	return s > 86400 ? 86400 : (int)s;
}
