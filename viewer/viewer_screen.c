/*
 * viewer_screen.c: the remote screen (see viewer_screen.h).
 */
#include "viewer_screen.h"

#include <string.h>

#include "viewer_log.h"

void vscreen_init(struct vscreen *sc, SDL_Renderer *r)
{
	memset(sc, 0, sizeof(*sc));
	sc->r = r;
}

void vscreen_reset(struct vscreen *sc)
{
	if (sc->tex)
		SDL_DestroyTexture(sc->tex);
	sc->tex = NULL;
	sc->fb_w = sc->fb_h = 0;
	sc->stale = false;
	vscreen_show_cursor(sc, false);
	if (sc->cursor)
		SDL_FreeCursor(sc->cursor);
	sc->cursor = NULL;
}

void vscreen_free(struct vscreen *sc)
{
	vscreen_reset(sc);
}

bool vscreen_upload(struct vscreen *sc, struct vsession *s)
{
	struct vsession_frame f;
	bool all;

	if (!vsession_frame_begin(s, &f))
		return false;
	all = sc->stale || !sc->tex || sc->generation != f.generation || sc->fb_w != f.width ||
	    sc->fb_h != f.height;
	if (!sc->tex || sc->fb_w != f.width || sc->fb_h != f.height) {
		if (sc->tex)
			SDL_DestroyTexture(sc->tex);
		sc->tex = SDL_CreateTexture(sc->r, SDL_PIXELFORMAT_RGB888,
					    SDL_TEXTUREACCESS_STREAMING, f.width, f.height);
		if (!sc->tex) {
			vlog("cannot create a %dx%d texture: %s", f.width, f.height,
			     SDL_GetError());
			sc->fb_w = sc->fb_h = 0;
			vsession_frame_end(s);
			return false;
		}
		sc->fb_w = f.width;
		sc->fb_h = f.height;
	}
	if (all) {
		SDL_UpdateTexture(sc->tex, NULL, f.pixels, f.width * 4);
	} else {
		for (int i = 0; i < f.ndirty; i++) {
			const struct geo_rect *d = &f.dirty[i];
			SDL_Rect r = { d->x, d->y, d->w, d->h };

			SDL_UpdateTexture(sc->tex, &r,
					  f.pixels + (size_t)d->y * (size_t)f.width + (size_t)d->x,
					  f.width * 4);
		}
	}
	sc->generation = f.generation;
	sc->stale = false;
	vsession_frame_end(s);
	return all || f.ndirty > 0;
}

struct geo_rect vscreen_place(const struct vscreen *sc, int out_w, int out_h)
{
	return geometry_fit(out_w, out_h, sc->fb_w, sc->fb_h);
}

bool vscreen_draw(struct vscreen *sc, int out_w, int out_h, bool dimmed)
{
	struct geo_rect g;
	SDL_Rect dst;

	SDL_SetRenderDrawBlendMode(sc->r, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(sc->r, 0, 0, 0, 255);
	SDL_RenderClear(sc->r);
	if (!sc->tex)
		return false;
	g = vscreen_place(sc, out_w, out_h);
	dst.x = g.x;
	dst.y = g.y;
	dst.w = g.w;
	dst.h = g.h;
	SDL_RenderCopy(sc->r, sc->tex, NULL, &dst);
	if (dimmed) {
		SDL_SetRenderDrawBlendMode(sc->r, SDL_BLENDMODE_BLEND);
		SDL_SetRenderDrawColor(sc->r, 0, 0, 0, 140);
		SDL_RenderFillRect(sc->r, &dst);
	}
	return true;
}

void vscreen_update_cursor(struct vscreen *sc, struct vsession *s)
{
	struct vsession_cursor c;
	SDL_Cursor *cur = NULL;

	vsession_cursor_begin(s, &c);
	if (c.pixels && c.width > 0 && c.height > 0) {
		SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormatFrom((void *)c.pixels, c.width,
								       c.height, 32, c.width * 4,
								       SDL_PIXELFORMAT_ARGB8888);

		if (surf) {
			cur = SDL_CreateColorCursor(surf, c.xhot, c.yhot);
			SDL_FreeSurface(surf);
		}
		if (!cur)
			vlog("cannot use the server's %dx%d cursor: %s", c.width, c.height,
			     SDL_GetError());
	}
	vsession_cursor_end(s);
	if (sc->cursor_shown)
		SDL_SetCursor(cur ? cur : SDL_GetDefaultCursor());
	if (sc->cursor)
		SDL_FreeCursor(sc->cursor);
	sc->cursor = cur;
}

void vscreen_show_cursor(struct vscreen *sc, bool remote)
{
	if (remote == sc->cursor_shown)
		return;
	sc->cursor_shown = remote;
	SDL_SetCursor(remote && sc->cursor ? sc->cursor : SDL_GetDefaultCursor());
}
