/*
 * viewer_screen.h: the remote screen in the viewer window: a streaming
 * texture the size of the session, updated only where the server changed
 * pixels, drawn scaled with its aspect kept (letterbox bars), optionally
 * dimmed; and the server's cursor shape as the window's cursor.
 */
#ifndef PIXELGATE_VIEWER_SCREEN_H
#define PIXELGATE_VIEWER_SCREEN_H

#include <SDL2/SDL.h>
#include <stdbool.h>

#include "viewer_geometry.h"
#include "viewer_session.h"

struct vscreen {
	SDL_Renderer *r;
	SDL_Texture *tex;
	int fb_w; /* size of tex (the session), 0 = no picture */
	int fb_h;
	unsigned generation; /* of the shadow the texture holds */
	bool stale;          /* the texture lost its content: upload everything */
	SDL_Cursor *cursor;  /* the server's shape, NULL = system default */
	bool cursor_shown;
};

void vscreen_init(struct vscreen *sc, SDL_Renderer *r);
void vscreen_free(struct vscreen *sc);

/* Forget the picture (a new login). */
void vscreen_reset(struct vscreen *sc);

/* Upload what changed in the session's shadow framebuffer. Returns true if
   the picture changed. */
bool vscreen_upload(struct vscreen *sc, struct vsession *s);

/* Where the picture goes in an out_w x out_h output. */
struct geo_rect vscreen_place(const struct vscreen *sc, int out_w, int out_h);

/* Draw the picture (black bars around it), dimmed if asked. False if
   there is no picture yet. */
bool vscreen_draw(struct vscreen *sc, int out_w, int out_h, bool dimmed);

/* Take the session's new cursor shape. */
void vscreen_update_cursor(struct vscreen *sc, struct vsession *s);

/* Show the server's cursor (true) or the system's (false). */
void vscreen_show_cursor(struct vscreen *sc, bool remote);

#endif
