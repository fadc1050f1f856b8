/*
 * viewer_geometry.h: where the remote screen goes in the viewer window, as
 * pure functions. The picture keeps its aspect ratio, is centred, and is
 * scaled to the largest size that fits the window (letterbox bars where the
 * aspect differs).
 */
#ifndef PIXELGATE_VIEWER_GEOMETRY_H
#define PIXELGATE_VIEWER_GEOMETRY_H

#include <stdbool.h>

struct geo_rect {
	int x, y, w, h;
};

/* Largest rectangle of fb_w:fb_h aspect, centred in a win_w x win_h window. */
struct geo_rect geometry_fit(int win_w, int win_h, int fb_w, int fb_h);

/*
 * Window point (wx, wy) to a remote screen point, given the picture's place
 * dst. Returns false when the point is outside the picture (the result is
 * then clamped to the nearest edge).
 */
bool geometry_to_remote(const struct geo_rect *dst, int fb_w, int fb_h, int wx, int wy, int *rx,
			int *ry);

/*
 * The window rectangle covering remote rectangle (x, y, w, h), rounded
 * outwards (for redrawing only what changed).
 */
struct geo_rect geometry_to_window(const struct geo_rect *dst, int fb_w, int fb_h, int x, int y,
				   int w, int h);

#endif
