/*
 * test_lockout.c: failed-login lockout as an attacker and a user see it.
 * N-1 failures do not lock, the Nth locks for exactly lockout_s; nothing
 * (a success, more failures) shortens or stretches a running lock; keys are
 * independent, long keys do not collide, and a full table evicts the stalest
 * unlocked key rather than a lock.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockout.h"

/* The table is ~0.5 MB: never on the stack. */
static struct lockout *lk;

static void lk_setup(void)
{
	lk = malloc(sizeof *lk);
	cr_assert_not_null(lk);
	memset(lk, 0xa5, sizeof *lk); /* lockout_init must not rely on zeroed memory */
	lockout_init(lk);
}

static void lk_teardown(void)
{
	free(lk);
}

TestSuite(lockout, .init = lk_setup, .fini = lk_teardown);

#define T0 1000000 /* ms; a monotonic clock well past 0 */

Test(lockout, unknown_key_is_not_locked)
{
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 0);
	cr_assert_eq(lockout_remaining_s(lk, "", T0), 0);
	cr_assert_eq(lockout_remaining_s(lk, NULL, T0), 0);
}

Test(lockout, n_minus_one_failures_do_not_lock_the_nth_locks_for_exactly_lockout_s)
{
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(lockout_fail(lk, "user:alice", 5, 300, T0 + i * 1000), 0, "failure %d",
			     i + 1);
		cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + i * 1000), 0);
	}
	int64_t last = T0 + 4 * 1000;
	cr_assert_eq(lockout_fail(lk, "user:alice", 5, 300, last), 300);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last), 300);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 1), 300); /* rounded up */
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 1000), 299);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 299000), 1);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 300000 - 1), 1);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 300000), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", last + 10000000), 0);
}

Test(lockout, one_failure_locks_when_max_is_one)
{
	cr_assert_eq(lockout_fail(lk, "addr:10.0.0.1", 1, 60, T0), 60);
	cr_assert_eq(lockout_remaining_s(lk, "addr:10.0.0.1", T0 + 59999), 1);
}

Test(lockout, a_success_during_the_lock_does_not_lift_it)
{
	/* The caller refuses a correct password while locked; even if it calls success, the lock stands. */
	for (int i = 0; i < 3; i++)
		lockout_fail(lk, "user:alice", 3, 10, T0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 5000), 5);
	lockout_success(lk, "user:alice");
	for (int64_t t = T0; t < T0 + 10000; t += 250)
		cr_assert_gt(lockout_remaining_s(lk, "user:alice", t), 0, "at +%lld ms",
			     (long long)(t - T0));
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 10000), 0);
	/* Afterwards the count starts from zero. */
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 10, T0 + 11000), 0);
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 10, T0 + 11001), 0);
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 10, T0 + 11002), 10);
}

Test(lockout, failures_during_the_lock_neither_stretch_nor_shorten_it)
{
	for (int i = 0; i < 3; i++)
		lockout_fail(lk, "user:alice", 3, 10, T0);
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 10, T0 + 4000), 6);
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 3600, T0 + 4000), 6);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 9999), 1);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 10000), 0);
}

Test(lockout, after_expiry_one_failure_does_not_relock)
{
	for (int i = 0; i < 5; i++)
		lockout_fail(lk, "user:alice", 5, 60, T0);
	cr_assert_eq(lockout_fail(lk, "user:alice", 5, 60, T0 + 60000), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 60000), 0);
}

Test(lockout, success_clears_the_count)
{
	for (int i = 0; i < 4; i++)
		lockout_fail(lk, "user:alice", 5, 300, T0 + i);
	lockout_success(lk, "user:alice");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(lockout_fail(lk, "user:alice", 5, 300, T0 + 10 + i), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 20), 0);
	cr_assert_eq(lockout_fail(lk, "user:alice", 5, 300, T0 + 20), 300);
}

Test(lockout, failures_further_apart_than_lockout_s_do_not_add_up)
{
	/* One guess every 61 s against a 60 s window never locks. */
	for (int i = 0; i < 20; i++)
		cr_assert_eq(lockout_fail(lk, "user:alice", 3, 60, T0 + (int64_t)i * 61000), 0,
			     "%d", i);
	/* Within the window they do: 60 s apart exactly still counts. */
	cr_assert_eq(lockout_fail(lk, "user:bob", 3, 60, T0), 0);
	cr_assert_eq(lockout_fail(lk, "user:bob", 3, 60, T0 + 60000), 0);
	cr_assert_eq(lockout_fail(lk, "user:bob", 3, 60, T0 + 120000), 60);
}

Test(lockout, two_keys_are_independent)
{
	for (int i = 0; i < 5; i++)
		lockout_fail(lk, "user:alice", 5, 300, T0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 300);
	cr_assert_eq(lockout_remaining_s(lk, "user:alicf", T0), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alic", T0), 0);
	cr_assert_eq(lockout_remaining_s(lk, "addr:127.0.0.1", T0), 0);
	/* Failures of another key do not count towards alice's. */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(lockout_fail(lk, "user:bob", 5, 300, T0), 0);
	lockout_success(lk, "user:carol");
	cr_assert_eq(lockout_remaining_s(lk, "user:bob", T0), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 300);
	lockout_clear(lk, "user:bob");
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 300);
}

Test(lockout, administrator_clear_lifts_a_lock_at_once)
{
	for (int i = 0; i < 5; i++)
		lockout_fail(lk, "user:alice", 5, 300, T0);
	lockout_clear(lk, "user:alice");
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 0);
	/* And the count is gone too. */
	cr_assert_eq(lockout_fail(lk, "user:alice", 5, 300, T0), 0);
	lockout_clear(lk, "user:nobody"); /* unknown: no effect */
	lockout_clear(lk, NULL);
}

Test(lockout, zero_max_failures_never_locks)
{
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(lockout_fail(lk, "user:alice", 0, 300, T0 + i), 0);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0 + 10000), 0);
	cr_assert_eq(lk->n, 0);
}

Test(lockout, lowering_max_failures_applies_to_counted_failures)
{
	for (int i = 0; i < 4; i++)
		lockout_fail(lk, "user:alice", 10, 300, T0);
	/* An administrator sets login_max_failures = 3: the next failure locks. */
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 300, T0 + 1), 300);
}

Test(lockout, long_keys_are_cut_safely_and_do_not_collide)
{
	char a[1000], b[1000];
	memset(a, 'x', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[sizeof b - 2] = 'y'; /* differs only past LOCKOUT_KEY_MAX */
	cr_assert_eq(lockout_fail(lk, a, 1, 60, T0), 60);
	cr_assert_eq(lockout_remaining_s(lk, a, T0), 60);
	cr_assert_eq(lockout_remaining_s(lk, b, T0), 0);
	cr_assert_lt(strlen(lk->v[0].key), LOCKOUT_KEY_MAX);
	/* A key of exactly LOCKOUT_KEY_MAX - 1 bytes is kept whole, one more is not. */
	char c[LOCKOUT_KEY_MAX + 1];
	memset(c, 'c', LOCKOUT_KEY_MAX - 1);
	c[LOCKOUT_KEY_MAX - 1] = '\0';
	cr_assert_eq(lockout_fail(lk, c, 1, 60, T0), 60);
	cr_assert_str_eq(lk->v[1].key, c);
	c[LOCKOUT_KEY_MAX - 1] = 'c';
	c[LOCKOUT_KEY_MAX] = '\0';
	cr_assert_eq(lockout_remaining_s(lk, c, T0), 0);
	lockout_success(lk, b);
	cr_assert_eq(lockout_remaining_s(lk, a, T0), 60);
}

Test(lockout, full_table_evicts_the_stalest_unlocked_key)
{
	char key[32];
	/* Key 0 is locked first (the oldest failure of all). */
	cr_assert_eq(lockout_fail(lk, "user:victim", 1, 3600, T0), 3600);
	for (int i = 1; i < LOCKOUT_ENTRIES; i++) {
		snprintf(key, sizeof key, "user:spray%d", i);
		cr_assert_eq(lockout_fail(lk, key, 5, 3600, T0 + i), 0);
	}
	cr_assert_eq(lk->n, LOCKOUT_ENTRIES);
	/* A new key pushes out spray1, the stalest unlocked one, not the lock. */
	cr_assert_eq(lockout_fail(lk, "user:new", 5, 3600, T0 + LOCKOUT_ENTRIES), 0);
	cr_assert_eq(lk->n, LOCKOUT_ENTRIES);
	cr_assert_eq(lockout_remaining_s(lk, "user:victim", T0 + LOCKOUT_ENTRIES), 3596);
	/*
	 * spray1 forgot its failures: 4 more do not lock it (its return evicted
	 * spray2); spray3 still has its one, so its 5th locks.
	 */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(lockout_fail(lk, "user:spray1", 5, 3600, T0 + 10000), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(lockout_fail(lk, "user:spray3", 5, 3600, T0 + 10000), 0);
	cr_assert_eq(lockout_fail(lk, "user:spray3", 5, 3600, T0 + 10000), 3600);
}

Test(lockout, full_table_of_locks_evicts_the_stalest_lock)
{
	char key[32];
	for (int i = 0; i < LOCKOUT_ENTRIES; i++) {
		snprintf(key, sizeof key, "addr:%d", i);
		cr_assert_eq(lockout_fail(lk, key, 1, 3600, T0 + i), 3600);
	}
	cr_assert_eq(lockout_fail(lk, "addr:new", 1, 3600, T0 + LOCKOUT_ENTRIES), 3600);
	cr_assert_eq(lockout_remaining_s(lk, "addr:0", T0 + LOCKOUT_ENTRIES), 0);
	cr_assert_eq(lockout_remaining_s(lk, "addr:1", T0 + LOCKOUT_ENTRIES), 3596);
	cr_assert_eq(lockout_remaining_s(lk, "addr:new", T0 + LOCKOUT_ENTRIES), 3600);
	cr_assert_eq(lk->n, LOCKOUT_ENTRIES);
}

Test(lockout, clock_going_back_never_shortens_a_lock)
{
	for (int i = 0; i < 3; i++)
		lockout_fail(lk, "user:alice", 3, 10, T0 + 5000);
	cr_assert_eq(lockout_fail(lk, "user:alice", 3, 10, T0), 15);
	cr_assert_eq(lockout_remaining_s(lk, "user:alice", T0), 15);
	/* A lock near the end of time saturates instead of wrapping. */
	cr_assert_eq(lockout_fail(lk, "user:late", 1, 86400, INT64_MAX - 10), 1);
	cr_assert_eq(lockout_remaining_s(lk, "user:late", INT64_MAX - 10), 1);
}
