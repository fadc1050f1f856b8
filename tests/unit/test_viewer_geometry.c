/*
 * test_viewer_geometry.c: where the remote screen lands in the viewer window
 * and how points and rectangles map between the two, with exact numbers.
 */
#include <criterion/criterion.h>
#include <limits.h>

#include "viewer_geometry.h"

static void expect_rect(struct geo_rect r, int x, int y, int w, int h, const char *what)
{
	cr_expect(r.x == x && r.y == y && r.w == w && r.h == h,
		  "%s: got {%d, %d, %d, %d}, expected {%d, %d, %d, %d}", what, r.x, r.y, r.w, r.h,
		  x, y, w, h);
}

Test(geometry, fit_letterboxes_a_wide_screen_in_a_square_window)
{
	/* 1000 * 800 / 1280 = 625 rows; (1000 - 625) / 2 = 187.5, rounded down. */
	expect_rect(geometry_fit(1000, 1000, 1280, 800), 0, 187, 1000, 625,
		    "1280x800 in 1000x1000");
}

Test(geometry, fit_fills_a_window_of_the_same_aspect)
{
	expect_rect(geometry_fit(1280, 800, 1280, 800), 0, 0, 1280, 800, "same size");
	expect_rect(geometry_fit(640, 400, 1280, 800), 0, 0, 640, 400, "half size");
	expect_rect(geometry_fit(2560, 1600, 1280, 800), 0, 0, 2560, 1600, "double size");
}

Test(geometry, fit_pillarboxes_in_a_wide_window)
{
	expect_rect(geometry_fit(2000, 800, 1280, 800), 360, 0, 1280, 800, "1280x800 in 2000x800");
	/* 500 * 800 / 600 = 666.67 -> 667 columns; (1001 - 667) / 2 = 167. */
	expect_rect(geometry_fit(1001, 500, 800, 600), 167, 0, 667, 500, "800x600 in 1001x500");
	/* 768 * 1920 / 1080 = 1365.33 -> 1365; one column left over, offset 0. */
	expect_rect(geometry_fit(1366, 768, 1920, 1080), 0, 0, 1365, 768, "1920x1080 in 1366x768");
}

Test(geometry, fit_rounds_the_scaled_side_to_nearest_with_halves_up)
{
	/* 3 * 1 / 2 = 1.5 -> 2 rows; (3 - 2) / 2 = 0. */
	expect_rect(geometry_fit(3, 3, 2, 1), 0, 0, 3, 2, "2x1 in 3x3");
	/* 4 * 2 / 3 = 2.67 -> 3 rows. */
	expect_rect(geometry_fit(4, 4, 3, 2), 0, 0, 4, 3, "3x2 in 4x4");
	/* 4 * 1 / 3 = 1.33 -> 1 row; (4 - 1) / 2 = 1. */
	expect_rect(geometry_fit(4, 4, 3, 1), 0, 1, 4, 1, "3x1 in 4x4");
}

Test(geometry, fit_keeps_at_least_one_pixel)
{
	/* 100 * 1 / 10000 = 0.01 rows: still one row, centred. */
	expect_rect(geometry_fit(100, 100, 10000, 1), 0, 49, 100, 1, "10000x1 in 100x100");
	expect_rect(geometry_fit(100, 100, 1, 10000), 49, 0, 1, 100, "1x10000 in 100x100");
}

Test(geometry, fit_of_empty_or_negative_sizes_is_empty)
{
	expect_rect(geometry_fit(0, 1000, 1280, 800), 0, 0, 0, 0, "zero window width");
	expect_rect(geometry_fit(1000, 0, 1280, 800), 0, 0, 0, 0, "zero window height");
	expect_rect(geometry_fit(1000, 1000, 0, 800), 0, 0, 0, 0, "zero screen width");
	expect_rect(geometry_fit(1000, 1000, 1280, 0), 0, 0, 0, 0, "zero screen height");
	expect_rect(geometry_fit(-1000, 1000, 1280, 800), 0, 0, 0, 0, "negative window");
	expect_rect(geometry_fit(1000, 1000, -1280, -800), 0, 0, 0, 0, "negative screen");
	expect_rect(geometry_fit(INT_MIN, INT_MIN, INT_MIN, INT_MIN), 0, 0, 0, 0, "INT_MIN");
}

Test(geometry, fit_of_huge_sizes_does_not_overflow)
{
	expect_rect(geometry_fit(INT_MAX, INT_MAX, 1, 1), 0, 0, INT_MAX, INT_MAX, "INT_MAX square");
	expect_rect(geometry_fit(INT_MAX, INT_MAX, INT_MAX, 1), 0, INT_MAX / 2, INT_MAX, 1,
		    "INT_MAX x 1 screen");
	expect_rect(geometry_fit(1, 1, INT_MAX, INT_MAX), 0, 0, 1, 1, "INT_MAX screen in 1x1");
}

static const struct geo_rect square = { 0, 187, 1000, 625 }; /* 1280x800 in 1000x1000 */

Test(geometry, window_points_map_to_the_remote_pixel_under_their_centre)
{
	int rx, ry;
	cr_expect(geometry_to_remote(&square, 1280, 800, 500, 500, &rx, &ry));
	/* (500.5 * 1.28, 313.5 * 1.28) = (640.64, 401.28) */
	cr_expect_eq(rx, 640);
	cr_expect_eq(ry, 401);
	cr_expect(geometry_to_remote(&square, 1280, 800, 0, 187, &rx, &ry));
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
	cr_expect(geometry_to_remote(&square, 1280, 800, 999, 811, &rx, &ry));
	cr_expect_eq(rx, 1279);
	cr_expect_eq(ry, 799);
}

Test(geometry, points_in_the_bars_are_clamped_and_reported_outside)
{
	int rx, ry;
	cr_expect_not(geometry_to_remote(&square, 1280, 800, 500, 186, &rx, &ry));
	cr_expect_eq(rx, 640);
	cr_expect_eq(ry, 0);
	cr_expect_not(geometry_to_remote(&square, 1280, 800, 999, 812, &rx, &ry));
	cr_expect_eq(rx, 1279);
	cr_expect_eq(ry, 799);
	cr_expect_not(geometry_to_remote(&square, 1280, 800, -5, 100, &rx, &ry));
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
	cr_expect_not(geometry_to_remote(&square, 1280, 800, INT_MAX, INT_MAX, &rx, &ry));
	cr_expect_eq(rx, 1279);
	cr_expect_eq(ry, 799);
	cr_expect_not(geometry_to_remote(&square, 1280, 800, INT_MIN, INT_MIN, &rx, &ry));
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
}

Test(geometry, unscaled_picture_maps_one_to_one)
{
	struct geo_rect d = { 10, 20, 1280, 800 };
	for (int wx = 10; wx < 1290; wx += 7) {
		int rx, ry;
		cr_assert(geometry_to_remote(&d, 1280, 800, wx, wx / 2 + 20, &rx, &ry));
		cr_assert_eq(rx, wx - 10);
		cr_assert_eq(ry, wx / 2);
	}
}

Test(geometry, doubled_picture_maps_two_window_pixels_to_one)
{
	struct geo_rect d = { 0, 0, 200, 100 };
	int rx, ry;
	geometry_to_remote(&d, 100, 50, 0, 0, &rx, &ry);
	cr_expect_eq(rx, 0);
	geometry_to_remote(&d, 100, 50, 1, 1, &rx, &ry);
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
	geometry_to_remote(&d, 100, 50, 2, 3, &rx, &ry);
	cr_expect_eq(rx, 1);
	cr_expect_eq(ry, 1);
	geometry_to_remote(&d, 100, 50, 199, 99, &rx, &ry);
	cr_expect_eq(rx, 99);
	cr_expect_eq(ry, 49);
}

Test(geometry, empty_picture_maps_nowhere)
{
	struct geo_rect empty = { 0, 0, 0, 0 };
	int rx = 7, ry = 7;
	cr_expect_not(geometry_to_remote(&empty, 1280, 800, 0, 0, &rx, &ry));
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
	rx = ry = 7;
	cr_expect_not(geometry_to_remote(&square, 0, 800, 500, 500, &rx, &ry));
	cr_expect_eq(rx, 0);
	cr_expect_eq(ry, 0);
}

Test(geometry, remote_rectangles_cover_their_window_pixels_rounded_outwards)
{
	expect_rect(geometry_to_window(&square, 1280, 800, 0, 0, 1280, 800), 0, 187, 1000, 625,
		    "whole screen");
	/* 1..2 * 0.78125 = 0.78..1.56 -> 0..2 */
	expect_rect(geometry_to_window(&square, 1280, 800, 1, 1, 1, 1), 0, 187, 2, 2, "one pixel");
	/* x 640..768 -> 500..600 exactly; y 400..480 -> 312.5..375 -> 312..375 */
	expect_rect(geometry_to_window(&square, 1280, 800, 640, 400, 128, 80), 500, 499, 100, 63,
		    "block");
	expect_rect(geometry_to_window(&square, 1280, 800, 1279, 799, 1, 1), 999, 811, 1, 1,
		    "last pixel");
}

Test(geometry, remote_rectangles_are_clipped_to_the_screen)
{
	/* Clipped to 0,0 10x10: 7.8125 -> 8 */
	expect_rect(geometry_to_window(&square, 1280, 800, -10, -10, 20, 20), 0, 187, 8, 8,
		    "top-left overhang");
	expect_rect(geometry_to_window(&square, 1280, 800, 1270, 790, 100, 100), 992, 804, 8, 8,
		    "bottom-right overhang");
	expect_rect(geometry_to_window(&square, 1280, 800, 2000, 0, 10, 10), 0, 187, 0, 0,
		    "right of the screen");
	expect_rect(geometry_to_window(&square, 1280, 800, 10, 10, 0, 5), 0, 187, 0, 0,
		    "zero width");
	expect_rect(geometry_to_window(&square, 1280, 800, 10, 10, -5, 5), 0, 187, 0, 0,
		    "negative width");
	expect_rect(geometry_to_window(&square, 1280, 800, INT_MAX - 1, 0, INT_MAX, 10), 0, 187, 0,
		    0, "x + w overflows int");
	expect_rect(geometry_to_window(&square, 1280, 800, INT_MIN, INT_MIN, INT_MAX, INT_MAX), 0,
		    187, 0, 0, "INT_MIN corner");
}

Test(geometry, upscaled_rectangles_grow_exactly)
{
	struct geo_rect d = { 5, 6, 2560, 1600 };
	expect_rect(geometry_to_window(&d, 1280, 800, 1, 1, 1, 1), 7, 8, 2, 2, "one pixel doubled");
	struct geo_rect empty = { 3, 4, 0, 0 };
	expect_rect(geometry_to_window(&empty, 1280, 800, 1, 1, 1, 1), 3, 4, 0, 0, "empty picture");
}
