/*
 * test_refusals.c: refusals counted per key, as the audit log sees them.
 * One refusal or ten thousand of one key in an interval give one entry with
 * the right count, first and last time; keys are apart; an entry is due
 * exactly interval_ms after its first refusal and not before, even when the
 * clock goes back; a flush at shutdown writes everything; a flood of keys
 * beyond the table lands in one overflow entry per event, never in more
 * records.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refusals.h"

static struct refusals *rf;

#define T0 1000000         /* monotonic ms */
#define W0 1780000000000LL /* wall ms */
#define IV 60000

static void rf_setup(void)
{
	rf = malloc(sizeof *rf);
	cr_assert_not_null(rf);
	memset(rf, 0xa5, sizeof *rf);
	refusals_init(rf, IV);
}

static void rf_teardown(void)
{
	free(rf);
}

TestSuite(refusals, .init = rf_setup, .fini = rf_teardown);

#define EMIT_MAX 600
static struct refusal emitted[EMIT_MAX];
static size_t n_emitted;

static void rf_emit(const struct refusal *e, void *arg)
{
	(void)arg;
	if (n_emitted < EMIT_MAX)
		emitted[n_emitted] = *e;
	n_emitted++;
}

static size_t rf_flush(int64_t now, bool all)
{
	n_emitted = 0;
	return refusals_flush(rf, now, all, rf_emit, NULL);
}

Test(refusals, many_refusals_of_one_key_are_one_entry)
{
	cr_assert(refusals_add(rf, "login_refused_locked", "", "10.0.0.1", "locked_out", T0, W0));
	for (int i = 1; i < 10000; i++)
		cr_assert_not(refusals_add(rf, "login_refused_locked", "", "10.0.0.1", "locked_out",
					   T0 + i, W0 + i));
	cr_assert_eq(rf_flush(T0 + IV, false), 1);
	cr_assert_eq(emitted[0].count, 10000);
	cr_assert_eq(emitted[0].first_wall_ms, W0);
	cr_assert_eq(emitted[0].last_wall_ms, W0 + 9999);
	cr_assert_str_eq(emitted[0].event, "login_refused_locked");
	cr_assert_str_eq(emitted[0].client, "10.0.0.1");
	cr_assert_str_eq(emitted[0].reason, "locked_out");
	cr_assert_not(emitted[0].overflow);
	/* Gone after the flush: the next refusal starts a new interval. */
	cr_assert_eq(refusals_next_due(rf), INT64_MAX);
	cr_assert(refusals_add(rf, "login_refused_locked", "", "10.0.0.1", "locked_out", T0 + IV,
			       W0 + IV));
}

Test(refusals, keys_are_event_user_and_client)
{
	cr_assert(refusals_add(rf, "e1", "alice", "", "r", T0, W0));
	cr_assert(refusals_add(rf, "e1", "bob", "", "r", T0, W0));
	cr_assert(refusals_add(rf, "e1", "", "alice", "r", T0, W0));
	cr_assert(refusals_add(rf, "e2", "alice", "", "r", T0, W0));
	cr_assert_not(refusals_add(rf, "e1", "alice", "", "other reason", T0, W0));
	cr_assert_eq(rf_flush(T0, true), 4);
	cr_assert_eq(emitted[0].count, 2);
	cr_assert_str_eq(emitted[0].reason, "r", "the first reason of the interval is kept");
}

Test(refusals, due_exactly_one_interval_after_the_first)
{
	refusals_add(rf, "e", "", "a", "r", T0, W0);
	refusals_add(rf, "e", "", "b", "r", T0 + 30000, W0);
	cr_assert_eq(refusals_next_due(rf), T0 + IV);
	cr_assert_eq(rf_flush(T0 + IV - 1, false), 0);
	cr_assert_eq(rf_flush(T0 + IV, false), 1);
	cr_assert_str_eq(emitted[0].client, "a");
	cr_assert_eq(refusals_next_due(rf), T0 + 30000 + IV);
	cr_assert_eq(rf_flush(T0 + 30000 + IV, false), 1);
	cr_assert_str_eq(emitted[0].client, "b");
}

Test(refusals, clock_going_back_delays_but_never_loses)
{
	refusals_add(rf, "e", "", "a", "r", T0, W0);
	cr_assert_eq(rf_flush(T0 - 3600000, false), 0);
	cr_assert_eq(rf_flush(T0 + IV, false), 1);
	cr_assert_eq(emitted[0].count, 1);
	/* Wall clock going back: last is never before first. */
	refusals_add(rf, "e", "", "a", "r", T0, W0);
	refusals_add(rf, "e", "", "a", "r", T0 + 1, W0 - 5000);
	cr_assert_eq(rf_flush(T0, true), 1);
	cr_assert_eq(emitted[0].last_wall_ms, W0);
	cr_assert_eq(emitted[0].count, 2);
}

Test(refusals, shutdown_flush_writes_everything)
{
	refusals_add(rf, "e", "", "a", "r", T0, W0);
	refusals_add(rf, "e", "", "b", "r", T0 + 10, W0);
	cr_assert_eq(rf_flush(T0 + 11, true), 2);
	cr_assert_eq(rf_flush(T0 + 10 * IV, true), 0);
}

Test(refusals, flood_of_keys_overflows_into_one_entry_per_event)
{
	char client[64];
	int firsts = 0;
	for (int i = 0; i < 100000; i++) {
		snprintf(client, sizeof client, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
			 i & 255);
		firsts += refusals_add(rf, "login_refused_locked", "", client, "locked_out", T0,
				       W0 + i);
	}
	/* and another event, also past the table */
	for (int i = 0; i < 10; i++) {
		snprintf(client, sizeof client, "x%d", i);
		refusals_add(rf, "login_refused_rate", "", client, "rate_limited", T0, W0);
	}
	cr_assert_eq(firsts, REFUSALS_KEYS_MAX + 1);
	cr_assert_eq(rf_flush(T0 + IV, false), REFUSALS_KEYS_MAX + 2);
	uint64_t total = 0;
	int overflow = 0;
	for (size_t i = 0; i < n_emitted; i++) {
		total += emitted[i].count;
		if (emitted[i].overflow) {
			overflow++;
			cr_assert_str_eq(emitted[i].client, REFUSALS_OVERFLOW_CLIENT);
		}
	}
	cr_assert_eq(overflow, 2);
	cr_assert_eq(total, 100000 + 10, "every refusal is counted in some record");
}

Test(refusals, keys_freed_by_a_flush_are_reusable_before_the_overflow)
{
	char client[64];
	for (int i = 0; i < REFUSALS_KEYS_MAX + 5; i++) {
		snprintf(client, sizeof client, "c%d", i);
		refusals_add(rf, "e", "", client, "r", T0, W0);
	}
	cr_assert_eq(rf_flush(T0 + IV, false), REFUSALS_KEYS_MAX + 1);
	cr_assert(refusals_add(rf, "e", "", "fresh", "r", T0 + IV, W0));
	cr_assert_eq(rf->n, 1);
	cr_assert_eq(rf->n_overflow, 0);
}

Test(refusals, kept_entries_stay_in_order_with_overflow_after_keys)
{
	char client[64];
	for (int i = 0; i < REFUSALS_KEYS_MAX; i++) {
		snprintf(client, sizeof client, "c%d", i);
		refusals_add(rf, "e", "", client, "r", i < 10 ? T0 : T0 + 1000, W0);
	}
	refusals_add(rf, "e", "", "over", "r", T0 + 2000, W0);
	cr_assert_eq(rf_flush(T0 + IV, false), 10);
	cr_assert_eq(rf->n, REFUSALS_KEYS_MAX - 10);
	cr_assert_eq(rf->n_overflow, 1);
	/* A new key goes before the overflow entry, and is counted as its own. */
	cr_assert(refusals_add(rf, "e", "", "new", "r", T0 + IV, W0));
	cr_assert_not(refusals_add(rf, "e", "", "c15", "r", T0 + IV, W0));
	cr_assert_eq(rf_flush(T0 + 10 * IV, true), REFUSALS_KEYS_MAX - 10 + 2);
	cr_assert(emitted[n_emitted - 1].overflow);
	cr_assert_str_eq(emitted[n_emitted - 2].client, "new");
}

Test(refusals, long_strings_are_cut_not_overrun)
{
	char big[1000];
	memset(big, 'u', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_assert(refusals_add(rf, big, big, big, big, T0, W0));
	cr_assert_not(refusals_add(rf, big, big, big, big, T0, W0));
	cr_assert_eq(rf_flush(T0, true), 1);
	cr_assert_eq(strlen(emitted[0].user), REFUSALS_USER_MAX - 1);
	cr_assert_eq(strlen(emitted[0].client), REFUSALS_CLIENT_MAX - 1);
	cr_assert_eq(emitted[0].count, 2);
	cr_assert(refusals_add(rf, NULL, NULL, NULL, NULL, T0, W0));
}
