/*
 * viewer_ui.h: drawing primitives of pixelgate-viewer: the CJK font found
 * through fontconfig, UTF-8 text (wrapped at any character, as Japanese
 * needs), filled and outlined boxes, and a centred message box drawn over
 * the remote picture.
 */
#ifndef PIXELGATE_VIEWER_UI_H
#define PIXELGATE_VIEWER_UI_H

#include <SDL2/SDL.h>
#include <stdbool.h>

/* Text sizes, in pixels. */
enum vui_size { VUI_SMALL, VUI_BODY, VUI_TITLE, VUI_SIZE_COUNT };

#define VUI_SMALL_PX 15
#define VUI_BODY_PX 18
#define VUI_TITLE_PX 26

struct vui;

/*
 * Find a Japanese-capable font ("Noto Sans CJK JP", lang ja, through
 * fontconfig) and open it at the sizes above for renderer r. NULL (logged)
 * if no font can be opened.
 */
struct vui *vui_create(SDL_Renderer *r);
void vui_free(struct vui *u);

/* Width and height of text on one line. */
void vui_measure(struct vui *u, enum vui_size size, const char *text, int *w, int *h);

/* Line height of a size. */
int vui_line_height(struct vui *u, enum vui_size size);

/* Draw text on one line at (x, y); returns its width. */
int vui_text(struct vui *u, enum vui_size size, const char *text, int x, int y, SDL_Color c);

/*
 * Draw text wrapped into wrap_w pixels (at spaces when a line has one,
 * else at any character; '\n' breaks), starting at (x, y). Returns the
 * height used. With draw false, only measures.
 */
int vui_text_wrapped(struct vui *u, enum vui_size size, const char *text, int x, int y, int wrap_w,
		     SDL_Color c, bool draw);

/* Filled rectangle in c (alpha blended). */
void vui_fill(struct vui *u, const SDL_Rect *r, SDL_Color c);

/* Rectangle outline, thickness px. */
void vui_frame(struct vui *u, const SDL_Rect *r, SDL_Color c, int thickness);

/* Clip drawing to r (NULL: no clipping). */
void vui_clip(struct vui *u, const SDL_Rect *r);

/* A message box centred in an out_w x out_h output: text wrapped, on a
   dark translucent panel. */
void vui_message_box(struct vui *u, int out_w, int out_h, const char *text);

/* Replace the first "%d" of a message from text_get() with n (messages are
   data, never format strings). */
void vui_format_int(char *out, size_t outlen, const char *msg, int n);

#endif
