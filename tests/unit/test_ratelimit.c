/*
 * test_ratelimit.c: request rates per client address as a client and an
 * attacker see them. A new address gets exactly its burst, then one request
 * per 1/rate s; the wait it is told is exact and rounded up; addresses are
 * independent; a clock that jumps back neither adds nor removes tokens; a
 * flood of throw-away addresses never blocks another address and keeps the
 * table bounded; long keys do not collide; rate 0 is no limit; extreme
 * rates, bursts and times do not overflow.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

/* The table is ~0.5 MB: never on the stack. */
static struct ratelimit *rl;

static void rl_setup(void)
{
	rl = malloc(sizeof *rl);
	cr_assert_not_null(rl);
	memset(rl, 0xa5, sizeof *rl); /* ratelimit_init must not rely on zeroed memory */
	ratelimit_init(rl);
}

static void rl_teardown(void)
{
	free(rl);
}

TestSuite(ratelimit, .init = rl_setup, .fini = rl_teardown);

#define T0 1000000 /* ms; a monotonic clock well past 0 */

/* Requests of key allowed at now before the first refusal (at most max). */
static int rl_allowed(const char *key, int rate, int burst, int64_t now, int max)
{
	int n = 0;
	while (n < max && ratelimit_take(rl, key, rate, burst, now) == 0)
		n++;
	return n;
}

Test(ratelimit, new_address_gets_exactly_its_burst)
{
	cr_assert_eq(rl_allowed("10.0.0.1", 5, 20, T0, 1000), 20);
	/* The 21st at the same instant waits one token: 200 ms at 5/s. */
	cr_assert_eq(ratelimit_take(rl, "10.0.0.1", 5, 20, T0), 200);
	cr_assert_eq(ratelimit_retry_after_s(200), 1);
}

Test(ratelimit, refill_is_exact_and_the_wait_rounded_up)
{
	cr_assert_eq(rl_allowed("a", 5, 1, T0, 10), 1);
	cr_assert_eq(ratelimit_take(rl, "a", 5, 1, T0 + 199), 1, "1 ms before the token");
	cr_assert_eq(ratelimit_take(rl, "a", 5, 1, T0 + 200), 0, "the token is whole at 200 ms");
	/* 3/s: a token every 333.33 ms; the wait is never too short. */
	cr_assert_eq(rl_allowed("b", 3, 1, T0, 10), 1);
	int64_t w = ratelimit_take(rl, "b", 3, 1, T0);
	cr_assert_eq(w, 334);
	cr_assert_neq(ratelimit_take(rl, "b", 3, 1, T0 + 333), 0);
	cr_assert_eq(ratelimit_take(rl, "b", 3, 1, T0 + 334), 0);
}

Test(ratelimit, sustained_rate_is_the_configured_one)
{
	/* Over 10 s after the burst, at most rate * 10 more requests pass. */
	int burst = 20, rate = 5, passed = 0;
	for (int64_t t = T0; t <= T0 + 10000; t += 5)
		passed += ratelimit_take(rl, "flood", rate, burst, t) == 0;
	cr_assert_eq(passed, burst + rate * 10);
}

Test(ratelimit, addresses_are_independent)
{
	cr_assert_eq(rl_allowed("10.0.0.1", 1, 3, T0, 100), 3);
	cr_assert_eq(rl_allowed("10.0.0.2", 1, 3, T0, 100), 3);
	cr_assert_eq(rl_allowed("10.0.0.1", 1, 3, T0, 100), 0);
}

Test(ratelimit, zero_rate_is_no_limit_and_stores_nothing)
{
	cr_assert_eq(rl_allowed("x", 0, 1, T0, 100000), 100000);
	cr_assert_eq(rl->n, 0);
	cr_assert_eq(ratelimit_take(rl, NULL, 5, 20, T0), 0);
}

Test(ratelimit, burst_below_one_is_one)
{
	cr_assert_eq(rl_allowed("x", 5, 0, T0, 100), 1);
	cr_assert_eq(rl_allowed("y", 5, -7, T0, 100), 1);
}

Test(ratelimit, clock_going_back_adds_no_tokens)
{
	cr_assert_eq(rl_allowed("a", 1, 2, T0, 100), 2);
	/* Back by an hour, then forward to where we were: still empty. */
	cr_assert_neq(ratelimit_take(rl, "a", 1, 2, T0 - 3600000), 0);
	cr_assert_neq(ratelimit_take(rl, "a", 1, 2, T0), 0);
	cr_assert_neq(ratelimit_take(rl, "a", 1, 2, T0 + 999), 0);
	cr_assert_eq(ratelimit_take(rl, "a", 1, 2, T0 + 1000), 0);
	/* and a jump back does not take a token away that had been refilled */
	cr_assert_eq(rl_allowed("b", 1, 1, T0, 10), 1);
	cr_assert_eq(ratelimit_take(rl, "b", 1, 1, T0 + 5000), 0);
	cr_assert_neq(ratelimit_take(rl, "b", 1, 1, T0 + 10), 0);
	cr_assert_eq(ratelimit_take(rl, "b", 1, 1, T0 + 6000), 0);
}

Test(ratelimit, huge_time_jumps_and_values_do_not_overflow)
{
	cr_assert_eq(rl_allowed("a", 10000, 10000, 0, 20000), 10000);
	cr_assert_eq(ratelimit_take(rl, "a", 10000, 10000, INT64_MAX), 0);
	cr_assert_eq(rl_allowed("a", 10000, 10000, INT64_MAX, 20000), 9999);
	cr_assert_eq(rl_allowed("b", 1, 1, INT64_MIN, 10), 1);
	cr_assert_eq(ratelimit_take(rl, "b", 1, 1, INT64_MAX), 0);
	cr_assert_eq(rl_allowed("c", 10000, 1, T0, 10), 1);
	cr_assert_eq(ratelimit_take(rl, "c", 10000, 1, T0), 1,
		     "a token a tenth of a ms away: 1 ms");
}

Test(ratelimit, retry_after_is_rounded_up_and_capped)
{
	cr_assert_eq(ratelimit_retry_after_s(0), 1);
	cr_assert_eq(ratelimit_retry_after_s(1), 1);
	cr_assert_eq(ratelimit_retry_after_s(1000), 1);
	cr_assert_eq(ratelimit_retry_after_s(1001), 2);
	cr_assert_eq(ratelimit_retry_after_s(INT64_MAX), 86400);
}

Test(ratelimit, lowering_the_burst_at_run_time_applies_at_once)
{
	cr_assert_eq(rl_allowed("a", 1, 5, T0, 2), 2); /* 3 tokens left of 5 */
	cr_assert_eq(rl_allowed("a", 1, 1, T0, 100), 1, "burst 1 now: one token at most");
}

Test(ratelimit, flood_of_addresses_never_blocks_another_and_stays_bounded)
{
	/* The victim spends most of its burst. */
	cr_assert_eq(rl_allowed("victim", 1, 10, T0, 8), 8);
	/* 3 x the table of throw-away addresses, each exhausting its burst. */
	char key[64];
	for (int i = 0; i < 3 * RATELIMIT_ENTRIES; i++) {
		snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		cr_assert_eq(ratelimit_take(rl, key, 1, 1, T0 + 1), 0);
	}
	cr_assert_leq(rl->n, RATELIMIT_ENTRIES);
	cr_assert_gt(rl->evictions, 0);
	/* The victim may have been evicted (then it starts full), never blocked harder. */
	cr_assert_eq(ratelimit_take(rl, "victim", 1, 10, T0 + 2), 0);
}

Test(ratelimit, a_full_bucket_is_evicted_before_a_busy_one)
{
	/* Fill the table: the first key is busy (empty bucket), the rest full. */
	cr_assert_eq(rl_allowed("busy", 1, 5, T0, 100), 5);
	char key[64];
	for (int i = 1; i < RATELIMIT_ENTRIES; i++) {
		snprintf(key, sizeof key, "idle-%d", i);
		cr_assert_eq(ratelimit_take(rl, key, 1, 5, T0), 0);
	}
	cr_assert_eq(rl->n, RATELIMIT_ENTRIES);
	/* Some time later, the idle keys are full again; the busy one (1 s) is not. */
	cr_assert_eq(ratelimit_take(rl, "newcomer", 1, 5, T0 + 1000), 0);
	cr_assert_eq(rl->evictions, 1);
	cr_assert_eq(ratelimit_take(rl, "busy", 1, 5, T0 + 1000), 0, "one token refilled");
	cr_assert_neq(ratelimit_take(rl, "busy", 1, 5, T0 + 1000), 0, "still limited");
}

Test(ratelimit, long_keys_sharing_a_prefix_do_not_collide)
{
	char a[300], b[300];
	memset(a, 'x', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[sizeof b - 2] = 'y';
	cr_assert_eq(rl_allowed(a, 1, 2, T0, 10), 2);
	cr_assert_eq(rl_allowed(b, 1, 2, T0, 10), 2);
	cr_assert_eq(rl_allowed(a, 1, 2, T0, 10), 0);
	cr_assert_eq(rl_allowed("", 1, 2, T0, 10), 2, "the empty key is a key like any");
}
