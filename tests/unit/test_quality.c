/*
 * test_quality.c: lossless or JPEG per update (proxy/session/session_quality.c)
 * on pictures made here: text-like strokes on white, photo-like noise, and
 * a clock the tests move by hand.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "session_quality.h"

#define W 320 /* 5 x 4 tiles of 64 */
#define H 256
#define STRIDE ((size_t)W * 4)

static uint8_t *fb;
static struct qual q;

static void put(int x, int y, uint32_t v)
{
	memcpy(fb + (size_t)y * STRIDE + (size_t)x * 4, &v, 4);
}

/* White with dark "glyphs": short strokes and grey anti-aliasing at their ends. */
static void draw_text(const struct qual_rect *r)
{
	for (int y = r->y0; y < r->y1; y++)
		for (int x = r->x0; x < r->x1; x++) {
			uint32_t v = 0xffffffu;
			int line = y % 16, col = x % 9;
			if (line >= 3 && line < 12 && (col == 2 || col == 3))
				v = 0x101010u;
			else if (line >= 3 && line < 12 && col == 4)
				v = 0x8a8a8au;
			put(x, y, v);
		}
}

/* Photo-like: every pixel different from its neighbour. */
static void draw_photo(const struct qual_rect *r, uint32_t seed)
{
	for (int y = r->y0; y < r->y1; y++)
		for (int x = r->x0; x < r->x1; x++) {
			seed = seed * 1664525u + 1013904223u;
			put(x, y, (seed >> 8) & 0xffffffu);
		}
}

static void setup(void)
{
	fb = calloc(STRIDE, H);
	cr_assert_not_null(fb);
	cr_assert_eq(qual_init(&q, W, H), 0);
	cr_assert_eq(q.cols, 5);
	cr_assert_eq(q.rows, 4);
}

static void teardown(void)
{
	qual_free(&q);
	free(fb);
}

TestSuite(quality, .init = setup, .fini = teardown);

Test(quality, text_is_not_a_photo_and_noise_is)
{
	struct qual_rect all = { 0, 0, W, H };
	draw_text(&all);
	cr_assert_not(qual_photo_like(fb, STRIDE, &all));
	struct qual_rect box = { 64, 64, 192, 128 };
	draw_photo(&box, 7);
	cr_assert(qual_photo_like(fb, STRIDE, &box));
	/* a flat area is not a photo; one row or one column is looked at too */
	memset(fb, 0, STRIDE * H);
	cr_assert_not(qual_photo_like(fb, STRIDE, &all));
	struct qual_rect row = { 64, 70, 192, 71 };
	cr_assert_not(qual_photo_like(fb, STRIDE, &row));
	draw_photo(&box, 9);
	cr_assert(qual_photo_like(fb, STRIDE, &row));
}

/* Small dense anti-aliased text: nearly every pixel differs from its left
   neighbour, but in a few dozen shades of grey: not a photo (it went out
   as JPEG, then again lossless, before the colour count). */
Test(quality, dense_antialiased_text_is_not_a_photo)
{
	struct qual_rect tile = { 64, 64, 128, 128 };
	for (int y = tile.y0; y < tile.y1; y++)
		for (int x = tile.x0; x < tile.x1; x++) {
			uint32_t g = (uint32_t)((x * 7 + y * 3) % 40) * 6u;
			put(x, y, g << 16 | g << 8 | g);
		}
	cr_assert_not(qual_photo_like(fb, STRIDE, &tile));
	/* the same with every pixel a colour of its own is one */
	draw_photo(&tile, 11);
	cr_assert(qual_photo_like(fb, STRIDE, &tile));
}

Test(quality, a_text_update_goes_lossless_a_photo_update_lossy)
{
	struct qual_rect all = { 0, 0, W, H };
	draw_text(&all);
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &all, 1, 1000), QUAL_LOSSLESS);
	struct qual_rect pic = { 0, 0, 256, 192 }; /* 3/5 of the screen */
	draw_photo(&pic, 3);
	cr_assert_neq(qual_choose(&q, fb, STRIDE, &all, 1, 1000), QUAL_LOSSLESS);
	/* a small photo in a big text update: lossless */
	draw_text(&all);
	struct qual_rect small = { 0, 0, 64, 64 };
	draw_photo(&small, 5);
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &all, 1, 1000), QUAL_LOSSLESS);
	/* the same photo alone is a lossy update */
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &small, 1, 1000), QUAL_JPEG, "a still photo");
	/* parts of a tile under QUAL_PHOTO_MIN_AREA are never called photos */
	struct qual_rect sliver = { 0, 0, 64, 8 };
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &sliver, 1, 1000), QUAL_LOSSLESS);
	/* nothing to send: not lossy */
	cr_assert_eq(qual_choose(&q, fb, STRIDE, NULL, 0, 1000), QUAL_LOSSLESS);
}

Test(quality, an_area_changing_often_is_busy_and_goes_lossy)
{
	struct qual_rect all = { 0, 0, W, H }, anim = { 70, 70, 120, 120 };
	draw_text(&all); /* even text, when it changes 30 times a second */
	int64_t t = 10000;
	for (int i = 0; i < QUAL_BUSY_CHANGES - 1; i++, t += 33)
		qual_damage(&q, &anim, t);
	cr_assert_not(qual_tile_busy(&q, 1, 1, t));
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &anim, 1, t), QUAL_LOSSLESS);
	qual_damage(&q, &anim, t);
	cr_assert(qual_tile_busy(&q, 1, 1, t));
	cr_assert_not(qual_tile_busy(&q, 0, 0, t), "a tile that did not change");
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &anim, 1, t), QUAL_JPEG_BUSY);
	/* a second later it is not busy any more */
	cr_assert_not(qual_tile_busy(&q, 1, 1, t + QUAL_BUSY_MS + 200));
	/* a key a second (typing) never makes a tile busy */
	struct qual_rect key = { 200, 10, 210, 30 };
	for (int i = 0; i < 20; i++)
		qual_damage(&q, &key, 20000 + i * 250);
	cr_assert_not(qual_tile_busy(&q, 3, 0, 20000 + 19 * 250));
	/* one change seen in several bands within QUAL_SAME_CHANGE_MS counts once */
	struct qual_rect band = { 0, 200, 40, 210 };
	for (int i = 0; i < 3 * QUAL_BUSY_CHANGES; i++)
		qual_damage(&q, &band, 30000 + i % 3);
	cr_assert_not(qual_tile_busy(&q, 0, 3, 30003));
}

Test(quality, text_that_went_out_lossy_goes_out_again_lossless_once_still)
{
	/* a photo in tiles (0,0) and (1,0), text in (2,0): the update is lossy */
	struct qual_rect all = { 0, 0, W, H }, pic = { 0, 0, 128, 64 }, upd = { 0, 0, 192, 64 };
	draw_text(&all);
	draw_photo(&pic, 11);
	qual_damage(&q, &upd, 1000);
	cr_assert_neq(qual_choose(&q, fb, STRIDE, &upd, 1, 1000), QUAL_LOSSLESS);
	qual_sent(&q, &upd, 1, QUAL_JPEG, 1000);
	cr_assert_eq(q.lossy_updates, 1);
	struct qual_rect out[8];
	cr_assert_eq(qual_timeout_ms(&q, 1000), QUAL_STILL_MS);
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, 1000 + QUAL_STILL_MS - 1, out, 8), 0,
		     "not still yet");
	/* changed again in the meantime: still counts from the change */
	qual_damage(&q, &upd, 1200);
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, 1000 + QUAL_STILL_MS, out, 8), 0);
	cr_assert_eq(qual_timeout_ms(&q, 1300), 200);
	int n = qual_refresh(&q, fb, STRIDE, 1200 + QUAL_STILL_MS, out, 8);
	cr_assert_eq(n, 1, "only the text tile goes out again (got %d)", n);
	cr_assert_eq(out[0].x0, 128);
	cr_assert_eq(out[0].y0, 0);
	cr_assert_eq(out[0].x1, 192);
	cr_assert_eq(out[0].y1, 64);
	cr_assert_eq(q.photo_tiles, 2, "the photo stays at the viewer's quality");
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, 1600, out, 8), 0, "marked once");
	cr_assert_eq(qual_timeout_ms(&q, 1600), -1, "nothing waits while the refresh is out");
	/* the refresh update goes lossless */
	cr_assert_eq(qual_choose(&q, fb, STRIDE, out, n, 1600), QUAL_LOSSLESS);
	qual_sent(&q, out, n, QUAL_LOSSLESS, 1600);
	cr_assert_eq(q.refreshed_tiles, 1);
	cr_assert_eq(qual_timeout_ms(&q, 1600), -1, "nothing lossy any more");
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, 9000, out, 8), 0);
}

Test(quality, a_run_of_tiles_is_one_rectangle)
{
	/* text on all of the screen went out lossy (a busy update, say) */
	struct qual_rect all = { 0, 0, W, H }, row = { 0, 64, W, 128 };
	draw_text(&all);
	qual_sent(&q, &row, 1, QUAL_JPEG, 100);
	struct qual_rect out[8];
	int n = qual_refresh(&q, fb, STRIDE, 100 + QUAL_STILL_MS, out, 8);
	cr_assert_eq(n, 1);
	cr_assert_eq(out[0].x0, 0);
	cr_assert_eq(out[0].x1, W);
	cr_assert_eq(out[0].y0, 64);
	cr_assert_eq(out[0].y1, 128);
}

Test(quality, a_lossless_update_that_covers_part_of_a_tile_leaves_it_lossy)
{
	struct qual_rect tile = { 0, 0, 64, 64 }, half = { 0, 0, 64, 32 }, rest = { 0, 32, 64, 64 };
	qual_sent(&q, &tile, 1, QUAL_JPEG, 100);
	qual_sent(&q, &half, 1, QUAL_LOSSLESS, 200);
	struct qual_rect out[4];
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, 100 + QUAL_STILL_MS, out, 4), 1);
	/* both halves in one update (disjoint rectangles) cover it */
	struct qual_rect both[2] = { half, rest };
	qual_sent(&q, both, 2, QUAL_LOSSLESS, 500);
	cr_assert_eq(qual_timeout_ms(&q, 500), -1);
	/* edge tiles are clipped to the screen: 320 x 256 has none partial, so a
	   screen of 300 x 250 checks the clipped size */
	struct qual small;
	cr_assert_eq(qual_init(&small, 300, 250), 0);
	struct qual_rect corner = { 256, 192, 300, 250 };
	qual_sent(&small, &corner, 1, QUAL_JPEG, 100);
	cr_assert_eq(qual_timeout_ms(&small, 100), QUAL_STILL_MS);
	qual_sent(&small, &corner, 1, QUAL_LOSSLESS, 200);
	cr_assert_eq(qual_timeout_ms(&small, 200), -1);
	qual_free(&small);
}

Test(quality, a_scroll_moves_what_is_lossy)
{
	/* tile row 2 (y 128..191) lossy in column 1 */
	struct qual_rect t = { 64, 128, 128, 192 };
	qual_sent(&q, &t, 1, QUAL_JPEG, 100);
	/* Page_Down by 64: rows 0..191 now show what was at 64..255 */
	struct qual_rect dst = { 0, 0, W, 192 };
	qual_scroll(&q, &dst, 64);
	struct qual_rect out[8];
	int n = qual_refresh(&q, fb, STRIDE, 100 + QUAL_STILL_MS, out, 8);
	cr_assert_eq(n, 1);
	cr_assert_eq(out[0].x0, 64);
	cr_assert_eq(out[0].y0, 64, "what was at 128 is at 64 now (got %d)", out[0].y0);
	cr_assert_eq(out[0].x1, 128);
	cr_assert_eq(out[0].y1, 128);
	/* a shift that is not a multiple of the tile: both tiles it spans */
	struct qual q2;
	cr_assert_eq(qual_init(&q2, W, H), 0);
	qual_sent(&q2, &t, 1, QUAL_JPEG, 100);
	qual_scroll(&q2, &dst, 100); /* rows 28..91 show 128..191 */
	n = qual_refresh(&q2, fb, STRIDE, 100 + QUAL_STILL_MS, out, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(out[0].y0, 0);
	cr_assert_eq(out[1].y0, 64);
	qual_free(&q2);
}

Test(quality, never_more_than_the_viewer_asked)
{
	cr_assert_eq(qual_asked(&q, -1, -1), -1);
	cr_assert_eq(qual_asked(&q, 5, 77), 77);
	/* the worker set turbo to -1 for a lossless update: still 77 */
	cr_assert_eq(qual_asked(&q, 5, -1), 77);
	cr_assert_eq(qual_asked(&q, 3, 54), 54);
	/* a viewer that stops asking for a level: no JPEG */
	cr_assert_eq(qual_asked(&q, -1, 54), -1);
}

Test(quality, damage_outside_the_screen_is_ignored)
{
	struct qual_rect off = { W + 10, 0, W + 50, 40 }, neg = { -50, -50, -1, -1 };
	for (int i = 0; i < 10; i++) {
		qual_damage(&q, &off, 100 + i * 30);
		qual_damage(&q, &neg, 100 + i * 30);
	}
	for (int ty = 0; ty < q.rows; ty++)
		for (int tx = 0; tx < q.cols; tx++)
			cr_assert_not(qual_tile_busy(&q, tx, ty, 400));
	qual_sent(&q, &off, 1, QUAL_JPEG, 100);
	cr_assert_eq(qual_timeout_ms(&q, 100), -1);
}

Test(quality, what_moved_goes_out_below_the_asked_quality_then_at_it_once_still)
{
	/* the quality for what moves: 25 below the viewer's, never above it */
	cr_assert_eq(qual_busy_quality(77), 52);
	cr_assert_eq(qual_busy_quality(30), QUAL_BUSY_MIN);
	cr_assert_eq(qual_busy_quality(15), 15);
	/* a video in tile (1,1): photo-like and changing 30 times a second */
	struct qual_rect all = { 0, 0, W, H }, vid = { 64, 64, 128, 128 };
	draw_text(&all);
	draw_photo(&vid, 21);
	int64_t t = 5000;
	for (int i = 0; i < QUAL_BUSY_CHANGES; i++, t += 33)
		qual_damage(&q, &vid, t);
	t -= 33;
	cr_assert_eq(qual_choose(&q, fb, STRIDE, &vid, 1, t), QUAL_JPEG_BUSY);
	qual_sent(&q, &vid, 1, QUAL_JPEG_BUSY, t);
	/* it stops: the last frame goes out again, at the viewer's quality */
	struct qual_rect out[4];
	int n = qual_refresh(&q, fb, STRIDE, t + QUAL_STILL_MS, out, 4);
	cr_assert_eq(n, 1);
	cr_assert_eq(out[0].x0, 64);
	cr_assert_eq(out[0].y0, 64);
	cr_assert_eq(qual_choose(&q, fb, STRIDE, out, n, t + QUAL_STILL_MS + 1000), QUAL_JPEG,
		     "a still photo goes out at the viewer's quality, not lossless");
	qual_sent(&q, out, n, QUAL_JPEG, t + QUAL_STILL_MS + 1000);
	/* and then it is left as it is */
	cr_assert_eq(qual_refresh(&q, fb, STRIDE, t + 2 * QUAL_STILL_MS + 1000, out, 4), 0);
	cr_assert_eq(q.photo_tiles, 1);
	cr_assert_eq(qual_timeout_ms(&q, t + 3000), -1);
}
