/*
 * viewer_ui.c: drawing primitives of pixelgate-viewer (see viewer_ui.h).
 *
 * Text is rendered on demand (TTF_RenderUTF8_Blended into a texture that
 * lives for one draw): the window is redrawn only when something changed,
 * so there is nothing to cache for.
 */
#include "viewer_ui.h"

#include <SDL2/SDL_ttf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_log.h"
#include "viewer_platform.h"

/* Longest line handed to SDL_ttf at once, bytes. */
#define VUI_LINE_MAX 1024

struct vui {
	SDL_Renderer *r;
	TTF_Font *font[VUI_SIZE_COUNT];
};

static const int vui_px[VUI_SIZE_COUNT] = { VUI_SMALL_PX, VUI_BODY_PX, VUI_TITLE_PX };

struct vui *vui_create(SDL_Renderer *r)
{
	struct vui *u = calloc(1, sizeof(*u));
	char path[1024];
	int index = 0, warn = 0;

	if (!u)
		return NULL;
	u->r = r;
	if (vplat_find_font(path, sizeof(path), &index, &warn)) {
		vlog("no font found for the window's text");
		free(u);
		return NULL;
	}
	if (warn)
		vlog("warning: the font %s has no Japanese characters (install fonts-noto-cjk; "
		     "on Windows, Yu Gothic or Meiryo)",
		     path);
	for (int i = 0; i < VUI_SIZE_COUNT; i++) {
		u->font[i] = TTF_OpenFontIndex(path, vui_px[i], index);
		if (!u->font[i]) {
			vlog("cannot open the font %s (face %d): %s", path, index, TTF_GetError());
			vui_free(u);
			return NULL;
		}
		TTF_SetFontHinting(u->font[i], TTF_HINTING_LIGHT);
	}
	vlog("font: %s (face %d)", path, index);
	return u;
}

void vui_free(struct vui *u)
{
	if (!u)
		return;
	for (int i = 0; i < VUI_SIZE_COUNT; i++)
		if (u->font[i])
			TTF_CloseFont(u->font[i]);
	free(u);
}

void vui_measure(struct vui *u, enum vui_size size, const char *text, int *w, int *h)
{
	*w = 0;
	*h = TTF_FontHeight(u->font[size]);
	if (text[0])
		TTF_SizeUTF8(u->font[size], text, w, h);
}

int vui_line_height(struct vui *u, enum vui_size size)
{
	return TTF_FontLineSkip(u->font[size]);
}

int vui_text(struct vui *u, enum vui_size size, const char *text, int x, int y, SDL_Color c)
{
	SDL_Surface *surf;
	SDL_Texture *tex;
	SDL_Rect dst;

	if (!text[0])
		return 0;
	surf = TTF_RenderUTF8_Blended(u->font[size], text, c);
	if (!surf)
		return 0;
	tex = SDL_CreateTextureFromSurface(u->r, surf);
	dst.x = x;
	dst.y = y;
	dst.w = surf->w;
	dst.h = surf->h;
	SDL_FreeSurface(surf);
	if (!tex)
		return 0;
	SDL_RenderCopy(u->r, tex, NULL, &dst);
	SDL_DestroyTexture(tex);
	return dst.w;
}

/* Bytes taken by the first n code points of s (stops at the NUL). */
static size_t utf8_bytes(const char *s, int n)
{
	size_t i = 0;

	while (s[i] && n > 0) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

int vui_text_wrapped(struct vui *u, enum vui_size size, const char *text, int x, int y, int wrap_w,
		     SDL_Color c, bool draw)
{
	int lh = vui_line_height(u, size), used = 0;
	const char *p = text;
	char line[VUI_LINE_MAX + 1];

	if (wrap_w < 20)
		wrap_w = 20;
	while (*p) {
		size_t para = strcspn(p, "\n"), take, brk;
		int extent = 0, count = 0;

		if (para > VUI_LINE_MAX)
			para = utf8_bytes(p, VUI_LINE_MAX / 4);
		memcpy(line, p, para);
		line[para] = '\0';
		if (!line[0]) { /* empty line */
			used += lh;
			p += para + (p[para] == '\n');
			continue;
		}
		if (TTF_MeasureUTF8(u->font[size], line, wrap_w, &extent, &count) || count < 1)
			count = 1;
		take = utf8_bytes(line, count);
		brk = take;
		if (take < para) {
			/* prefer the last space of the piece that fits */
			for (size_t i = take; i > 0; i--)
				if (line[i - 1] == ' ') {
					brk = i;
					break;
				}
		}
		line[brk] = '\0';
		if (draw)
			vui_text(u, size, line, x, y + used, c);
		used += lh;
		p += brk;
		if (brk == para && p[0] == '\n')
			p++;
		while (*p == ' ' && brk < para) /* no leading space on the next line */
			p++;
	}
	return used;
}

void vui_fill(struct vui *u, const SDL_Rect *r, SDL_Color c)
{
	SDL_SetRenderDrawBlendMode(u->r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(u->r, c.r, c.g, c.b, c.a);
	SDL_RenderFillRect(u->r, r);
}

void vui_frame(struct vui *u, const SDL_Rect *r, SDL_Color c, int thickness)
{
	SDL_Rect e[4] = {
		{ r->x, r->y, r->w, thickness },
		{ r->x, r->y + r->h - thickness, r->w, thickness },
		{ r->x, r->y, thickness, r->h },
		{ r->x + r->w - thickness, r->y, thickness, r->h },
	};

	SDL_SetRenderDrawBlendMode(u->r, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(u->r, c.r, c.g, c.b, c.a);
	SDL_RenderFillRects(u->r, e, 4);
}

void vui_clip(struct vui *u, const SDL_Rect *r)
{
	SDL_RenderSetClipRect(u->r, r);
}

void vui_message_box(struct vui *u, int out_w, int out_h, const char *text)
{
	const SDL_Color panel = { 17, 24, 39, 230 }, fg = { 255, 255, 255, 255 };
	int pad = 24, w = out_w - 80, h;
	SDL_Rect box;

	if (w > 640)
		w = 640;
	if (w < 200)
		w = out_w > 40 ? out_w - 20 : out_w;
	h = vui_text_wrapped(u, VUI_BODY, text, 0, 0, w - 2 * pad, fg, false);
	box.w = w;
	box.h = h + 2 * pad;
	box.x = (out_w - box.w) / 2;
	box.y = (out_h - box.h) / 2;
	vui_fill(u, &box, panel);
	vui_text_wrapped(u, VUI_BODY, text, box.x + pad, box.y + pad, w - 2 * pad, fg, true);
}

void vui_format_int(char *out, size_t outlen, const char *msg, int n)
{
	const char *p = strstr(msg, "%d");

	if (!p) {
		snprintf(out, outlen, "%s", msg);
		return;
	}
	snprintf(out, outlen, "%.*s%d%s", (int)(p - msg), msg, n, p + 2);
}
