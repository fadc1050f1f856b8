/*
 * lockout.c: failed-login counting per key, with a bounded table.
 *
 * A flat array searched linearly: LOCKOUT_ENTRIES is a few thousand and a
 * lookup happens once per login, so this costs microseconds and has no
 * allocation to fail. Past LOCKOUT_ENTRIES keys, the entry evicted is the
 * one whose last failure is oldest among the keys not locked at the time;
 * only when every key is locked does a lock get evicted (the stalest). So
 * a flood of failures under many throw-away names cannot push a real lock
 * out of the table.
 *
 * Keys that do not fit LOCKOUT_KEY_MAX are stored as a prefix plus a hash of
 * the whole key, so two long keys that share a prefix stay two keys.
 *
 * Times are milliseconds from the caller (a monotonic clock); a clock that
 * goes back never shortens a lock.
 */
#include "lockout.h"

#include <stdio.h>
#include <string.h>

void lockout_init(struct lockout *l)
{
	l->n = 0;
}

void lockout_key_fit(const char *key, char *out, size_t cap)
{
	size_t len = strlen(key);
	if (len < cap) {
		memcpy(out, key, len + 1);
		return;
	}
	uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	const size_t prefix = cap - 1 - 17;
	memcpy(out, key, prefix);
	snprintf(out + prefix, cap - prefix, "#%016llx", (unsigned long long)h);
}

/* The stored form of key in this table. */
static void lockout_key(const char *key, char out[LOCKOUT_KEY_MAX])
{
	lockout_key_fit(key, out, LOCKOUT_KEY_MAX);
}

static struct lockout_entry *lockout_find(const struct lockout *l, const char *key)
{
	char k[LOCKOUT_KEY_MAX];
	lockout_key(key, k);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, k) == 0)
			return (struct lockout_entry *)&l->v[i];
	return NULL;
}

static void lockout_remove(struct lockout *l, struct lockout_entry *e)
{
	size_t i = (size_t)(e - l->v);
	l->v[i] = l->v[l->n - 1];
	l->n--;
}

/* lockout_s seconds after at, without overflow. */
static int64_t lockout_until(int64_t at, int lockout_s)
{
	int64_t span = (int64_t)lockout_s * 1000;
	return at > INT64_MAX - span ? INT64_MAX : at + span;
}

int lockout_remaining_s(const struct lockout *l, const char *key, int64_t now_ms)
{
	if (key == NULL)
		return 0;
	const struct lockout_entry *e = lockout_find(l, key);
	if (e == NULL || e->locked_until_ms == 0 || e->locked_until_ms <= now_ms)
		return 0;
	/* Rounded up: 1 ms left is 1 s, never 0 while the lock holds. */
	uint64_t left = (uint64_t)e->locked_until_ms - (uint64_t)now_ms;
	uint64_t s = left / 1000 + (left % 1000 != 0);
	return s > INT32_MAX ? INT32_MAX : (int)s;
}

/* Whether e is locked at now_ms. */
static int lockout_is_locked(const struct lockout_entry *e, int64_t now_ms)
{
	return e->locked_until_ms != 0 && e->locked_until_ms > now_ms;
}

/* A free entry, evicting one if the table is full. */
static struct lockout_entry *lockout_slot(struct lockout *l, int64_t now_ms)
{
	if (l->n < LOCKOUT_ENTRIES)
		return &l->v[l->n++];
	struct lockout_entry *victim = &l->v[0];
	int victim_locked = lockout_is_locked(victim, now_ms);
	for (size_t i = 1; i < l->n; i++) {
		struct lockout_entry *e = &l->v[i];
		int locked = lockout_is_locked(e, now_ms);
		if (locked < victim_locked ||
		    (locked == victim_locked && e->last_failure_ms < victim->last_failure_ms)) {
			victim = e;
			victim_locked = locked;
		}
	}
	return victim;
}

int lockout_fail(struct lockout *l, const char *key, int max_failures, int lockout_s,
		 int64_t now_ms)
{
	if (key == NULL || max_failures <= 0 || lockout_s <= 0)
		return 0; /* locking disabled: nothing to remember */
	struct lockout_entry *e = lockout_find(l, key);
	if (e != NULL && lockout_is_locked(e, now_ms)) {
		/*
		 * The caller refuses locked keys before checking a password, so
		 * this is a stray call: the lock neither grows nor shrinks.
		 */
		return lockout_remaining_s(l, key, now_ms);
	}
	if (e == NULL) {
		e = lockout_slot(l, now_ms);
		memset(e, 0, sizeof *e);
		lockout_key(key, e->key);
	} else if (e->locked_until_ms != 0 ||
		   (now_ms > e->last_failure_ms &&
		    now_ms - e->last_failure_ms > (int64_t)lockout_s * 1000)) {
		/* An expired lock, or failures too far apart: count afresh. */
		e->failures = 0;
		e->locked_until_ms = 0;
	}
	if (e->failures < max_failures)
		e->failures++;
	if (now_ms > e->last_failure_ms || e->failures == 1)
		e->last_failure_ms = now_ms;
	if (e->failures < max_failures)
		return 0;
	e->locked_until_ms = lockout_until(e->last_failure_ms, lockout_s);
	if (e->locked_until_ms == 0)
		e->locked_until_ms = 1; /* 0 means "not locked" */
	return lockout_remaining_s(l, key, now_ms);
}

int lockout_failures(const struct lockout *l, const char *key, int lockout_s, int64_t now_ms)
{
	if (key == NULL)
		return 0;
	const struct lockout_entry *e = lockout_find(l, key);
	if (e == NULL)
		return 0;
	if (lockout_is_locked(e, now_ms))
		return e->failures;
	/* As lockout_fail() sees it: an expired lock or old failures count afresh. */
	if (e->locked_until_ms != 0 ||
	    (now_ms > e->last_failure_ms &&
	     now_ms - e->last_failure_ms > (int64_t)lockout_s * 1000))
		return 0;
	return e->failures;
}

void lockout_success(struct lockout *l, const char *key)
{
	if (key == NULL)
		return;
	struct lockout_entry *e = lockout_find(l, key);
	if (e == NULL)
		return;
	if (e->locked_until_ms != 0) {
		/*
		 * Callers check the lock first, so a success never comes during
		 * one; if it does, the lock stands (only time or an
		 * administrator lifts it). It is forgotten once expired.
		 */
		e->failures = 0;
		return;
	}
	lockout_remove(l, e);
}

void lockout_clear(struct lockout *l, const char *key)
{
	if (key == NULL)
		return;
	struct lockout_entry *e = lockout_find(l, key);
	if (e != NULL)
		lockout_remove(l, e);
}
