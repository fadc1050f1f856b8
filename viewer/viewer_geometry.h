/*
 * viewer_geometry.h: where the remote screen goes in the viewer window, as
 * pure functions. The picture keeps its aspect ratio, is centred, and is
 * scaled to the largest size that fits the window (letterbox bars where the
 * aspect differs). All sizes are in pixels; arithmetic is done in 64 bits,
 * so any int sizes are safe.
 */
#ifndef PIXELGATE_VIEWER_GEOMETRY_H
#define PIXELGATE_VIEWER_GEOMETRY_H

#include <stdbool.h>

struct geo_rect {
	int x, y, w, h;
};

/*
 * Largest rectangle of fb_w:fb_h aspect, centred in a win_w x win_h window.
 * The scaled side is rounded to the nearest pixel (at least 1), the offset
 * of the bars is rounded down: 1280x800 in 1000x1000 gives x=0 y=187
 * w=1000 h=625. A zero or negative window or screen size gives {0, 0, 0, 0}
 * (nothing to draw), never a division by zero.
 */
struct geo_rect geometry_fit(int win_w, int win_h, int fb_w, int fb_h);

/*
 * Window point (wx, wy) to a remote screen point, given the picture's place
 * dst. Returns false when the point is outside the picture (the result is
 * then clamped to the nearest edge). Each window pixel maps to the remote
 * pixel under its centre, so the result is always within 0..fb_w-1,
 * 0..fb_h-1. An empty dst or screen gives (0, 0) and false.
 */
bool geometry_to_remote(const struct geo_rect *dst, int fb_w, int fb_h, int wx, int wy, int *rx,
			int *ry);

/*
 * The window rectangle covering remote rectangle (x, y, w, h), rounded
 * outwards (for redrawing only what changed). The remote rectangle is first
 * clipped to the screen; an empty result is {dst->x, dst->y, 0, 0}.
 */
struct geo_rect geometry_to_window(const struct geo_rect *dst, int fb_w, int fb_h, int x, int y,
				   int w, int h);

#endif
