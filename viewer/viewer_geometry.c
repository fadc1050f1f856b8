/*
 * viewer_geometry.c: aspect-keeping fit of the remote screen in the window,
 * and the mappings between window and remote coordinates (see
 * viewer_geometry.h). Everything is integer arithmetic in 64 bits.
 */
#include "viewer_geometry.h"

#include <stdint.h>

static int64_t geo_clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* floor(a / b) for b > 0, also for negative a. */
static int64_t geo_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* ceil(a / b) for b > 0. */
static int64_t geo_ceil_div(int64_t a, int64_t b)
{
	return -geo_floor_div(-a, b);
}

struct geo_rect geometry_fit(int win_w, int win_h, int fb_w, int fb_h)
{
	struct geo_rect r = { 0, 0, 0, 0 };
	if (win_w <= 0 || win_h <= 0 || fb_w <= 0 || fb_h <= 0)
		return r;
	int64_t ww = win_w, wh = win_h, fw = fb_w, fh = fb_h;
	int64_t w, h;
	if (ww * fh <= wh * fw) {
		/* The window is taller than the picture: full width, bars above and below. */
		w = ww;
		h = geo_clamp((ww * fh * 2 + fw) / (2 * fw), 1, wh);
	} else {
		h = wh;
		w = geo_clamp((wh * fw * 2 + fh) / (2 * fh), 1, ww);
	}
	r.w = (int)w;
	r.h = (int)h;
	r.x = (int)((ww - w) / 2);
	r.y = (int)((wh - h) / 2);
	return r;
}

bool geometry_to_remote(const struct geo_rect *dst, int fb_w, int fb_h, int wx, int wy, int *rx,
			int *ry)
{
	*rx = 0;
	*ry = 0;
	if (dst->w <= 0 || dst->h <= 0 || fb_w <= 0 || fb_h <= 0)
		return false;
	int64_t x0 = dst->x, y0 = dst->y, w = dst->w, h = dst->h;
	bool inside = wx >= x0 && wx < x0 + w && wy >= y0 && wy < y0 + h;
	int64_t dx = geo_clamp((int64_t)wx - x0, 0, w - 1);
	int64_t dy = geo_clamp((int64_t)wy - y0, 0, h - 1);
	/* The remote pixel under the window pixel's centre: (d + 0.5) * fb / size. */
	*rx = (int)geo_clamp((2 * dx + 1) * fb_w / (2 * w), 0, fb_w - 1);
	*ry = (int)geo_clamp((2 * dy + 1) * fb_h / (2 * h), 0, fb_h - 1);
	return inside;
}

struct geo_rect geometry_to_window(const struct geo_rect *dst, int fb_w, int fb_h, int x, int y,
				   int w, int h)
{
	struct geo_rect r = { dst->x, dst->y, 0, 0 };
	if (dst->w <= 0 || dst->h <= 0 || fb_w <= 0 || fb_h <= 0 || w <= 0 || h <= 0)
		return r;
	int64_t x0 = geo_clamp(x, 0, fb_w), y0 = geo_clamp(y, 0, fb_h);
	int64_t x1 = geo_clamp((int64_t)x + w, 0, fb_w), y1 = geo_clamp((int64_t)y + h, 0, fb_h);
	if (x1 <= x0 || y1 <= y0)
		return r;
	int64_t wx0 = dst->x + geo_floor_div(x0 * dst->w, fb_w);
	int64_t wy0 = dst->y + geo_floor_div(y0 * dst->h, fb_h);
	int64_t wx1 = dst->x + geo_ceil_div(x1 * dst->w, fb_w);
	int64_t wy1 = dst->y + geo_ceil_div(y1 * dst->h, fb_h);
	r.x = (int)wx0;
	r.y = (int)wy0;
	r.w = (int)(wx1 - wx0);
	r.h = (int)(wy1 - wy0);
	return r;
}
