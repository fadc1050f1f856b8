/*
 * test_scroll.c: scroll_find() (proxy/session/session_scroll.c) on pictures
 * made here: a page of distinct text-like rows, with a fixed header, blank
 * lines and a scrollbar, moved by a known offset.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "session.h"

#define W 320
#define H 240

/* A row of "text": a pattern that depends on the line it shows (blank lines every 7th). */
static void draw_row(uint8_t *row, int line)
{
	for (int x = 0; x < W; x++) {
		uint32_t v = 0xffffffff;
		if (line % 7 != 3 && ((x * 7 + line * 13) % 11) < 3)
			v = 0xff000000u | (uint32_t)(line * 2654435761u >> 8);
		memcpy(row + x * 4, &v, 4);
	}
}

/* The page scrolled to top: row r shows line top + r; header rows show -1. */
static void draw_page(uint8_t *fb, int top, int header)
{
	for (int r = 0; r < H; r++)
		draw_row(fb + (size_t)r * W * 4, r < header ? 100000 + r : top + r);
}

static struct scroll sc;

static void setup(void)
{
	cr_assert_eq(scroll_init(&sc, H), 0);
}

static void teardown(void)
{
	scroll_free(&sc);
}

TestSuite(scroll, .init = setup, .fini = teardown);

Test(scroll, page_down_is_found_with_its_offset_and_block)
{
	static uint8_t old[W * H * 4], now[W * H * 4];
	int r0, r1, s;
	draw_page(old, 0, 0);
	draw_page(now, 90, 0); /* the page moved up 90 rows */
	cr_assert(scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s));
	cr_assert_eq(s, 90);
	cr_assert_eq(r0, 0);
	cr_assert_eq(r1, H - 90 - 1, "the block ends where the new strip begins: %d", r1);
	for (int r = r0; r <= r1; r++)
		cr_assert_eq(memcmp(now + (size_t)r * W * 4, old + (size_t)(r + s) * W * 4, W * 4),
			     0);
}

Test(scroll, scrolling_back_up_is_a_negative_offset)
{
	static uint8_t old[W * H * 4], now[W * H * 4];
	int r0, r1, s;
	draw_page(old, 200, 0);
	draw_page(now, 160, 0);
	cr_assert(scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s));
	cr_assert_eq(s, -40);
	cr_assert_eq(r0, 40);
	cr_assert_eq(r1, H - 1);
}

Test(scroll, a_fixed_header_stays_out_of_the_block)
{
	static uint8_t old[W * H * 4], now[W * H * 4];
	int r0, r1, s;
	draw_page(old, 0, 30);
	draw_page(now, 50, 30);
	cr_assert(scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s));
	cr_assert_eq(s, 50);
	cr_assert_eq(r0, 30, "the header (rows 0-29) did not move: %d", r0);
	cr_assert_eq(r1, H - 50 - 1);
}

Test(scroll, a_sub_rectangle_is_searched_in_its_own_columns_and_rows)
{
	static uint8_t old[W * H * 4], now[W * H * 4];
	int r0, r1, s;
	draw_page(old, 0, 0);
	draw_page(now, 64, 0);
	/* a scrollbar in the last 16 columns that differs everywhere */
	for (int r = 0; r < H; r++)
		memset(now + (size_t)r * W * 4 + (W - 16) * 4, r & 0xff, 16 * 4);
	cr_assert(!scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s),
		  "with the scrollbar the rows do not match");
	cr_assert(scroll_find(&sc, now, W * 4, old, W * 4, 0, 20, W - 16, 200, &r0, &r1, &s));
	cr_assert_eq(s, 64);
	cr_assert_eq(r0, 20);
	cr_assert_eq(r1, 20 + 200 - 64 - 1);
}

Test(scroll, no_scroll_in_a_changed_or_unchanged_picture)
{
	static uint8_t old[W * H * 4], now[W * H * 4];
	int r0, r1, s;
	draw_page(old, 0, 0);
	memcpy(now, old, sizeof now);
	cr_assert(!scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s),
		  "an unchanged picture");
	for (size_t i = 0; i < sizeof now; i++)
		now[i] = (uint8_t)(i * 31 + 7);
	cr_assert(!scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s), "noise");
	/* a blank page scrolled: every row alike, nothing to tell the offset by */
	memset(old, 0xff, sizeof old);
	memset(now, 0xff, sizeof now);
	cr_assert(!scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, H, &r0, &r1, &s));
	/* too few rows, or outside the screen */
	draw_page(old, 0, 0);
	draw_page(now, 5, 0);
	cr_assert(
	    !scroll_find(&sc, now, W * 4, old, W * 4, 0, 0, W, SCROLL_MIN_ROWS - 1, &r0, &r1, &s));
	cr_assert(!scroll_find(&sc, now, W * 4, old, W * 4, 0, H - 40, W, 80, &r0, &r1, &s));
}
