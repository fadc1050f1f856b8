/*
 * test_input_budget.c: what a viewer's input budget lets through, holds,
 * coalesces and demotes, and when a flood counts as abuse.
 */
#include <criterion/criterion.h>

#include "input_budget.h"

Test(input_budget, typing_fast_passes_a_flood_waits)
{
	struct input_budget b;
	int64_t retry = 0;

	input_budget_init(&b, 1000);
	for (int i = 0; i < INPUT_KEYS_BURST; i++)
		cr_assert_eq(input_budget_key(&b, 1000, &retry), INPUT_FORWARD, "key %d", i);
	cr_assert_eq(input_budget_key(&b, 1000, &retry), INPUT_WAIT);
	cr_assert_gt(retry, 1000);
	cr_assert_leq(retry, 1000 + 1000 / INPUT_KEYS_PER_S + 1);
	cr_assert_eq(b.counts.keys_delayed, 1);
	/* at the retry time one key goes */
	cr_assert_eq(input_budget_key(&b, retry, &retry), INPUT_FORWARD);
}

Test(input_budget, keys_at_the_sustained_rate_never_wait)
{
	struct input_budget b;
	int64_t retry = 0;

	input_budget_init(&b, 0);
	for (int i = 0; i < 10 * INPUT_KEYS_BURST; i++)
		cr_assert_eq(input_budget_key(&b, (int64_t)i * 1000 / INPUT_KEYS_PER_S, &retry),
			     INPUT_FORWARD, "key %d", i);
	cr_assert_eq(b.counts.keys_delayed, 0);
}

Test(input_budget, clicks_always_pass_motion_is_coalesced)
{
	struct input_budget b;
	int64_t retry = 0;

	input_budget_init(&b, 0);
	for (int i = 0; i < INPUT_POINTER_BURST; i++)
		cr_assert_eq(input_budget_pointer(&b, false, 0, &retry), INPUT_FORWARD);
	cr_assert_eq(input_budget_pointer(&b, false, 0, &retry), INPUT_COALESCE);
	cr_assert_gt(retry, 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(input_budget_pointer(&b, true, 0, &retry), INPUT_FORWARD);
	cr_assert_eq(b.counts.pointer_coalesced, 1);
	input_budget_pointer_flushed(&b, retry);
	cr_assert_eq(input_budget_pointer(&b, false, retry, &retry), INPUT_COALESCE);
}

Test(input_budget, one_full_update_request_a_second)
{
	struct input_budget b;

	input_budget_init(&b, 0);
	cr_assert_eq(input_budget_fbur(&b, false, 5000), INPUT_FORWARD);
	for (int i = 1; i < 100; i++)
		cr_assert_eq(input_budget_fbur(&b, false, 5000 + i), INPUT_DEMOTE);
	cr_assert_eq(input_budget_fbur(&b, true, 5100), INPUT_FORWARD);
	cr_assert_eq(input_budget_fbur(&b, false, 5000 + INPUT_FULL_FBUR_MIN_MS), INPUT_FORWARD);
	cr_assert_eq(b.counts.fbur_demoted, 99);
}

Test(input_budget, a_clock_going_back_earns_nothing_and_breaks_nothing)
{
	struct input_budget b;
	int64_t retry = 0;

	input_budget_init(&b, 100000);
	for (int i = 0; i < INPUT_KEYS_BURST; i++)
		(void)input_budget_key(&b, 100000, &retry);
	cr_assert_eq(input_budget_key(&b, 50, &retry), INPUT_WAIT);
	cr_assert_gt(retry, 50);
	/* a full request after the clock went back is not refused for ever */
	cr_assert_eq(input_budget_fbur(&b, false, 100000), INPUT_FORWARD);
	cr_assert_eq(input_budget_fbur(&b, false, 10), INPUT_FORWARD);
}

Test(input_budget, outstanding_request_holds_the_next_for_a_while)
{
	cr_assert_eq(input_budget_fbur_release_ms(1000, true, 1010), 1010);
	cr_assert_eq(input_budget_fbur_release_ms(1000, false, 1010),
		     1000 + INPUT_FBUR_ANSWER_WAIT_MS);
	cr_assert_eq(input_budget_fbur_release_ms(1000, false, 5000), 5000);
	cr_assert_eq(input_budget_fbur_release_ms(0, false, 7), 7);
}

Test(input_budget, a_flood_of_30_s_is_abuse_a_person_is_not)
{
	struct input_budget b;
	int64_t retry = 0, t = 0;

	input_budget_init(&b, 0);
	/* a hostile viewer: far over the key rate without a pause */
	for (; t <= INPUT_ABUSE_MS + 1000; t += 5) {
		for (int i = 0; i < 10; i++)
			(void)input_budget_key(&b, t, &retry);
		if (t < INPUT_ABUSE_MS - 100)
			cr_assert(!input_budget_abusive(&b, t), "abusive already at %lld ms",
				  (long long)t);
	}
	cr_assert(input_budget_abusive(&b, t));

	/* bursts of fast typing with pauses: never abusive */
	input_budget_init(&b, 0);
	for (t = 0; t < 5 * INPUT_ABUSE_MS; t += 3000) {
		for (int i = 0; i < INPUT_KEYS_BURST + 50; i++)
			(void)input_budget_key(&b, t + i / 10, &retry);
		cr_assert(!input_budget_abusive(&b, t + 100));
	}
	/* and a flood that stopped is not abuse any more */
	input_budget_init(&b, 0);
	for (t = 0; t <= INPUT_ABUSE_MS + 100; t += 5)
		for (int i = 0; i < 10; i++)
			(void)input_budget_key(&b, t, &retry);
	cr_assert(!input_budget_abusive(&b, t + INPUT_CALM_MS));
}
