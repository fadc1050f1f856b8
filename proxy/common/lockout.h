/*
 * lockout.h: failed-login counting and lockout, per key (a user name, or a
 * client address). A pure data structure: the caller passes the time.
 *
 * After max_failures failures of a key within lockout_s seconds of each other,
 * the key is locked for lockout_s seconds from the last failure. While
 * locked, every login for the key is refused without checking the password
 * (a correct password too). A success clears the key's count.
 */
#ifndef PIXELGATE_LOCKOUT_H
#define PIXELGATE_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

#define LOCKOUT_KEY_MAX 96
#define LOCKOUT_ENTRIES 4096 /* keys tracked; the stalest entry is evicted past this */

struct lockout_entry {
	char key[LOCKOUT_KEY_MAX];
	int failures;
	int64_t last_failure_ms;
	int64_t locked_until_ms; /* 0 = not locked */
};

struct lockout {
	struct lockout_entry v[LOCKOUT_ENTRIES];
	size_t n;
};

void lockout_init(struct lockout *l);

/*
 * The stored form of key in a table of cap-byte keys (cap >= 32): key itself
 * if it fits, else its prefix + "#" + 16 hex digits of its 64-bit FNV-1a
 * hash, so long keys sharing a prefix stay apart. Also used by ratelimit.c.
 */
void lockout_key_fit(const char *key, char *out, size_t cap);

/* Seconds key stays locked at now_ms (rounded up), or 0 if it is not locked. */
int lockout_remaining_s(const struct lockout *l, const char *key, int64_t now_ms);

/*
 * Record a failure of key. Returns the seconds it is now locked for (0 if
 * this failure did not lock it). max_failures 0 disables locking.
 */
int lockout_fail(struct lockout *l, const char *key, int max_failures, int lockout_s,
		 int64_t now_ms);

/*
 * Failures of key counted at now_ms towards its next lock (0 if none, or
 * if they are too old to count; max_failures while it is locked).
 */
int lockout_failures(const struct lockout *l, const char *key, int lockout_s, int64_t now_ms);

/* Forget key's failures (a successful login). */
void lockout_success(struct lockout *l, const char *key);

/* Unlock key now (administrator). */
void lockout_clear(struct lockout *l, const char *key);

#endif
