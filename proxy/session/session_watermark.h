/*
 * session_watermark.h: the watermark the worker draws into the framebuffer
 * it serves (issue 15), so that no viewer can leave it out and recordings
 * hold it: a label in the bottom-right corner with the user's name, the
 * terminal's address, the date and the time ([policy] watermark = corner),
 * or the same text repeated diagonally over the whole screen in a staggered
 * grid of tiles (watermark = tiled).
 *
 * The tiled pattern moves with what scrolls: each screen row has a phase
 * (the tile row it shows is row + phase), and a scroll the capture turns
 * into a CopyRect moves the phase of the rows it moved with them
 * (watermark_scroll()). So the copied rows keep their pattern, and a scroll
 * costs the strip that came into view, as without a watermark.
 *
 * The gateway gives the text with each viewer (IPC_ATTACH), {user} and
 * {client} already filled in; {date} and {time} are the worker's clock,
 * drawn again each minute. The label is drawn once per change with Xft
 * (fontconfig's Japanese font, anti-aliased) on a pixmap of the session's
 * X server and kept as per-pixel coverage; the capture blends it into
 * every row it copies from the X screen (watermark_blend_row()), so the
 * framebuffer is the screen with the label on it, and an unchanged screen
 * sends nothing.
 */
#ifndef PIXELGATE_SESSION_WATERMARK_H
#define PIXELGATE_SESSION_WATERMARK_H

#include <X11/Xlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define WATERMARK_TEXT_MAX 256

struct watermark_rect {
	int x, y, w, h;
};

struct watermark {
	Display *dpy;
	int screen_w, screen_h;
	int opacity;                         /* percent, 1..100 */
	char tmpl[WATERMARK_TEXT_MAX];       /* "": no watermark */
	char shown[WATERMARK_TEXT_MAX + 32]; /* the text as drawn */
	struct watermark_rect r;             /* the label on the screen; w == 0: none */
	uint8_t *alpha;                      /* r.w * r.h: how much of the label covers */
	uint8_t *ink;                        /* r.w * r.h * 4: its colour, premultiplied */
	int minute;                          /* of the text as drawn (-1: not drawn) */
	bool tiled;                          /* the pattern over the whole screen */
	int tile_w, tile_h;                  /* one tile (tiled): alpha is tile_w * tile_h */
	int *phase;                          /* tiled: screen_h phases (tile row = row + phase) */
	void *font;                          /* XftFont */
	bool fonts_used;                     /* fontconfig was started (watermark_fini()) */
};

void watermark_init(struct watermark *wm, Display *dpy, int screen_w, int screen_h);
void watermark_free(struct watermark *wm);
/* After XCloseDisplay (Xft's per-display state is gone): fontconfig's own, if it was used. */
void watermark_fini(struct watermark *wm);

/*
 * The label's text template ("" or NULL: none) and opacity. Draws it at
 * once. Returns true if what is on the screen changes: *dirty is the union
 * of the old and the new label (to be copied again).
 */
bool watermark_set(struct watermark *wm, const char *tmpl, int opacity, bool tiled, time_t now,
		   struct watermark_rect *dirty);

/*
 * Rows [r0, r1] of the damaged rows [y, y + h) now show what rows
 * [r0 + shift, r1 + shift] showed (a CopyRect): their pattern moves with
 * them; the other rows of [y, y + h) take the moved block's phase. Only for
 * the tiled pattern (nothing otherwise).
 */
void watermark_scroll(struct watermark *wm, int y, int h, int r0, int r1, int shift);

/* The minute changed since the last drawing: draw again (as watermark_set()). */
bool watermark_tick(struct watermark *wm, time_t now, struct watermark_rect *dirty);

/*
 * Blend the label into px, the w pixels (32-bit, X's byte order: B, G, R,
 * unused) of screen row `row` starting at column x. Nothing if the row
 * misses the label.
 */
void watermark_blend_row(const struct watermark *wm, int row, int x, int w, uint8_t *px);

/* True if the label covers any of rows [y, y + h). */
bool watermark_in_rows(const struct watermark *wm, int y, int h);

/* {date} and {time} of tmpl filled in at now (local time) into out. */
void watermark_expand(const char *tmpl, time_t now, char *out, size_t outlen);

#endif
