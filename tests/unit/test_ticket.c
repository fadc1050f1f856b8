/*
 * test_ticket.c: login tickets are random, single-use and die after
 * TICKET_TTL_S seconds; anything else presented as a ticket grants nothing.
 * Time is injected, so the 30 s boundary is tested to the millisecond.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket.h"

#define T0_MS INT64_C(1700000000000)

static struct ticket_store *store;

static void store_setup(void)
{
	store = malloc(sizeof *store); /* ~1 MB: not on the stack */
	cr_assert_not_null(store);
	ticket_store_init(store);
}

static void store_teardown(void)
{
	free(store);
}

static struct ticket_grant grant_of(const char *user, int width, int height)
{
	struct ticket_grant g;
	memset(&g, 0, sizeof g);
	snprintf(g.user, sizeof g.user, "%s", user);
	g.width = width;
	g.height = height;
	return g;
}

TestSuite(ticket, .init = store_setup, .fini = store_teardown);

Test(ticket, issued_ticket_redeems_once_with_its_grant)
{
	struct ticket_grant g = grant_of("tanaka", 1920, 1080), got;
	char text[TICKET_TEXT_LEN + 1];
	cr_assert_eq(ticket_issue(store, &g, T0_MS, text), 0);
	memset(&got, 0x55, sizeof got);
	cr_assert_eq(ticket_redeem(store, text, T0_MS + 1000, &got), 0);
	cr_assert_str_eq(got.user, "tanaka");
	cr_assert_eq(got.width, 1920);
	cr_assert_eq(got.height, 1080);
	cr_assert_eq(store->n, 0);
}

Test(ticket, second_redeem_fails)
{
	struct ticket_grant g = grant_of("tanaka", 1280, 800), got;
	char text[TICKET_TEXT_LEN + 1];
	cr_assert_eq(ticket_issue(store, &g, T0_MS, text), 0);
	cr_assert_eq(ticket_redeem(store, text, T0_MS, &got), 0);
	memset(&got, 0, sizeof got);
	cr_assert_eq(ticket_redeem(store, text, T0_MS, &got), -1);
	cr_assert_str_eq(got.user, "", "a failed redeem must not fill the grant");
}

Test(ticket, expires_at_exactly_ttl)
{
	struct ticket_grant g = grant_of("suzuki", 1280, 800), got;
	char a[TICKET_TEXT_LEN + 1], b[TICKET_TEXT_LEN + 1];
	cr_assert_eq(TICKET_TTL_S, 30);
	cr_assert_eq(ticket_issue(store, &g, T0_MS, a), 0);
	cr_assert_eq(ticket_issue(store, &g, T0_MS, b), 0);
	/* Last millisecond of life. */
	cr_assert_eq(ticket_redeem(store, a, T0_MS + 30 * 1000 - 1, &got), 0);
	cr_assert_str_eq(got.user, "suzuki");
	/* At 30 000 ms it is dead. */
	cr_assert_eq(ticket_redeem(store, b, T0_MS + 30 * 1000, &got), -1);
	cr_assert_eq(store->n, 0, "the expired ticket is dropped");
}

Test(ticket, expired_ticket_stays_dead_if_clock_goes_back)
{
	struct ticket_grant g = grant_of("suzuki", 1280, 800), got;
	char text[TICKET_TEXT_LEN + 1];
	cr_assert_eq(ticket_issue(store, &g, T0_MS, text), 0);
	cr_assert_eq(ticket_redeem(store, text, T0_MS + 31 * 1000, &got), -1);
	cr_assert_eq(ticket_redeem(store, text, T0_MS + 1000, &got), -1);
}

Test(ticket, expire_drops_only_dead_tickets)
{
	struct ticket_grant g1 = grant_of("old", 1280, 800), g2 = grant_of("new", 1280, 800), got;
	char a[TICKET_TEXT_LEN + 1], b[TICKET_TEXT_LEN + 1];
	cr_assert_eq(ticket_issue(store, &g1, T0_MS, a), 0);
	cr_assert_eq(ticket_issue(store, &g2, T0_MS + 10 * 1000, b), 0);
	ticket_expire(store, T0_MS + 30 * 1000);
	cr_assert_eq(store->n, 1);
	cr_assert_eq(ticket_redeem(store, b, T0_MS + 30 * 1000, &got), 0);
	cr_assert_str_eq(got.user, "new");
}

Test(ticket, unknown_garbage_and_empty_text_grant_nothing)
{
	struct ticket_grant g = grant_of("tanaka", 1280, 800), got;
	char text[TICKET_TEXT_LEN + 1], other[TICKET_TEXT_LEN + 2];
	cr_assert_eq(ticket_issue(store, &g, T0_MS, text), 0);

	/* Same length, one hex digit changed. */
	memcpy(other, text, sizeof text);
	other[10] = other[10] == '0' ? '1' : '0';
	cr_assert_eq(ticket_redeem(store, other, T0_MS, &got), -1);
	/* Upper-case version of the real ticket. */
	for (size_t i = 0; i < TICKET_TEXT_LEN; i++)
		other[i] = (char)(text[i] >= 'a' ? text[i] - 'a' + 'A' : text[i]);
	other[TICKET_TEXT_LEN] = '\0';
	if (strcmp(other, text) != 0)
		cr_assert_eq(ticket_redeem(store, other, T0_MS, &got), -1);
	/* Prefix, and the ticket with one extra byte. */
	memcpy(other, text, TICKET_TEXT_LEN - 1);
	other[TICKET_TEXT_LEN - 1] = '\0';
	cr_assert_eq(ticket_redeem(store, other, T0_MS, &got), -1);
	memcpy(other, text, TICKET_TEXT_LEN);
	other[TICKET_TEXT_LEN] = 'a';
	other[TICKET_TEXT_LEN + 1] = '\0';
	cr_assert_eq(ticket_redeem(store, other, T0_MS, &got), -1);
	/* Empty, garbage. */
	cr_assert_eq(ticket_redeem(store, "", T0_MS, &got), -1);
	cr_assert_eq(ticket_redeem(store, "not a ticket", T0_MS, &got), -1);
	cr_assert_eq(
	    ticket_redeem(store, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
			  T0_MS, &got),
	    -1);

	/* None of that consumed the real ticket. */
	cr_assert_eq(store->n, 1);
	cr_assert_eq(ticket_redeem(store, text, T0_MS, &got), 0);
	cr_assert_str_eq(got.user, "tanaka");
}

Test(ticket, empty_store_grants_nothing)
{
	struct ticket_grant got;
	cr_assert_eq(ticket_redeem(store, "", T0_MS, &got), -1);
	cr_assert_eq(
	    ticket_redeem(store, "0000000000000000000000000000000000000000000000000000000000000000",
			  T0_MS, &got),
	    -1);
}

Test(ticket, tickets_are_64_lowercase_hex_and_distinct)
{
	enum { N = 200 };
	static char texts[N][TICKET_TEXT_LEN + 1];
	struct ticket_grant g = grant_of("tanaka", 1280, 800);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(ticket_issue(store, &g, T0_MS, texts[i]), 0);
		cr_assert_eq(strlen(texts[i]), 64);
		cr_assert_eq(strspn(texts[i], "0123456789abcdef"), 64, "%s", texts[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(texts[i], texts[j]);
	}
	cr_assert_eq(store->n, N);
}

Test(ticket, full_store_evicts_the_oldest)
{
	struct ticket_grant g = grant_of("u", 1280, 800), got;
	char first[TICKET_TEXT_LEN + 1], second[TICKET_TEXT_LEN + 1], text[TICKET_TEXT_LEN + 1];
	cr_assert_eq(ticket_issue(store, &g, T0_MS, first), 0);
	cr_assert_eq(ticket_issue(store, &g, T0_MS + 1, second), 0);
	for (int i = 2; i < TICKET_STORE_MAX; i++)
		cr_assert_eq(ticket_issue(store, &g, T0_MS + 2, text), 0);
	cr_assert_eq(store->n, TICKET_STORE_MAX);
	cr_assert_eq(ticket_issue(store, &g, T0_MS + 3, text), 0);
	cr_assert_eq(store->n, TICKET_STORE_MAX);
	cr_assert_eq(ticket_redeem(store, first, T0_MS + 3, &got), -1);
	cr_assert_eq(ticket_redeem(store, second, T0_MS + 3, &got), 0);
	cr_assert_eq(ticket_redeem(store, text, T0_MS + 3, &got), 0);
}
