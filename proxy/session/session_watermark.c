/*
 * session_watermark.c: the framebuffer's watermark (see session_watermark.h).
 */
#include "session_watermark.h"

#include <X11/Xft/Xft.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define WM_FONT "Noto Sans CJK JP,Noto Sans JP,IPAGothic,sans:pixelsize=14"
#define WM_PAD 6       /* pixels around the text */
#define WM_MARGIN_X 24 /* from the right edge: clear of a page's scrollbar */
#define WM_MARGIN_Y 8
#define WM_TILE_ANGLE 30.0 /* degrees the tiled text rises */
#define WM_TILE_GAP_X 200  /* pixels between tiles */
#define WM_TILE_GAP_Y 220
#define WM_TILE_GREY 0x80 /* the tiled text's colour: seen on light and dark pages */

void watermark_init(struct watermark *wm, Display *dpy, int screen_w, int screen_h)
{
	memset(wm, 0, sizeof *wm);
	wm->dpy = dpy;
	wm->screen_w = screen_w;
	wm->screen_h = screen_h;
	wm->minute = -1;
	wm->opacity = 35;
}

void watermark_free(struct watermark *wm)
{
	free(wm->alpha);
	free(wm->ink);
	free(wm->phase);
	wm->alpha = wm->ink = NULL;
	wm->phase = NULL;
	if (wm->font != NULL && wm->dpy != NULL)
		XftFontClose(wm->dpy, wm->font);
	wm->font = NULL;
	wm->r.w = 0;
}

void watermark_fini(struct watermark *wm)
{
	if (wm->fonts_used)
		FcFini();
	wm->fonts_used = false;
}

void watermark_expand(const char *tmpl, time_t now, char *out, size_t outlen)
{
	struct tm tm;
	char date[16], hm[8];
	size_t n = 0;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	strftime(hm, sizeof hm, "%H:%M", &tm);
	if (outlen == 0)
		return;
	for (const char *p = tmpl; *p != '\0' && n + 1 < outlen;) {
		const char *put = NULL;
		if (strncmp(p, "{date}", 6) == 0)
			put = date;
		else if (strncmp(p, "{time}", 6) == 0)
			put = hm;
		if (put != NULL) {
			for (; *put != '\0' && n + 1 < outlen; put++)
				out[n++] = *put;
			p += 6;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
}

static struct watermark_rect wm_union(struct watermark_rect a, struct watermark_rect b)
{
	if (a.w == 0)
		return b;
	if (b.w == 0)
		return a;
	int x0 = a.x < b.x ? a.x : b.x, y0 = a.y < b.y ? a.y : b.y;
	int x1 = a.x + a.w > b.x + b.w ? a.x + a.w : b.x + b.w;
	int y1 = a.y + a.h > b.y + b.h ? a.y + a.h : b.y + b.h;
	return (struct watermark_rect){ x0, y0, x1 - x0, y1 - y0 };
}

/*
 * Draw text white on black with Xft on a pixmap and read the coverage back:
 * a malloc'd *w x *h array (the text with WM_PAD around it), or NULL.
 */
static uint8_t *wm_coverage(struct watermark *wm, const char *text, int max_w, int *wp, int *hp)
{
	Display *dpy = wm->dpy;
	int scr = DefaultScreen(dpy);
	if (wm->font == NULL) {
		wm->fonts_used = true;
		wm->font = XftFontOpenName(dpy, scr, WM_FONT);
	}
	XftFont *font = wm->font;
	if (font == NULL) {
		log_warn("watermark: no font for \"%s\"", WM_FONT);
		return NULL;
	}
	XGlyphInfo ext;
	XftTextExtentsUtf8(dpy, font, (const FcChar8 *)text, (int)strlen(text), &ext);
	int w = ext.xOff + 2 * WM_PAD, h = font->ascent + font->descent + 2 * WM_PAD;
	if (w > max_w)
		w = max_w;
	if (w <= 2 * WM_PAD || h > wm->screen_h / 4)
		return NULL;
	Visual *vis = DefaultVisual(dpy, scr);
	Colormap cmap = DefaultColormap(dpy, scr);
	Pixmap pm = XCreatePixmap(dpy, RootWindow(dpy, scr), (unsigned)w, (unsigned)h,
				  (unsigned)DefaultDepth(dpy, scr));
	XftDraw *d = XftDrawCreate(dpy, pm, vis, cmap);
	XftColor black, white;
	XRenderColor rb = { 0, 0, 0, 0xffff }, rw = { 0xffff, 0xffff, 0xffff, 0xffff };
	XImage *img = NULL;
	if (d != NULL && XftColorAllocValue(dpy, vis, cmap, &rb, &black) &&
	    XftColorAllocValue(dpy, vis, cmap, &rw, &white)) {
		XftDrawRect(d, &black, 0, 0, (unsigned)w, (unsigned)h);
		XftDrawStringUtf8(d, &white, font, WM_PAD, WM_PAD + font->ascent,
				  (const FcChar8 *)text, (int)strlen(text));
		img = XGetImage(dpy, pm, 0, 0, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
		XftColorFree(dpy, vis, cmap, &black);
		XftColorFree(dpy, vis, cmap, &white);
	}
	uint8_t *cov = img != NULL ? malloc((size_t)w * h) : NULL;
	if (cov != NULL)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				cov[(size_t)y * w + x] = (uint8_t)((XGetPixel(img, x, y) >> 8) &
								   0xff);
	if (img != NULL)
		XDestroyImage(img);
	if (d != NULL)
		XftDrawDestroy(d);
	XFreePixmap(dpy, pm);
	*wp = w;
	*hp = h;
	return cov;
}

/* The corner label from the text's coverage: a light box at half the
   opacity, the text dark at the opacity. 0 or -1. */
static int wm_make_label(struct watermark *wm, const uint8_t *cov, int w, int h)
{
	uint8_t *alpha = malloc((size_t)w * h), *ink = malloc((size_t)w * h * 4);
	if (alpha == NULL || ink == NULL) {
		free(alpha);
		free(ink);
		return -1;
	}
	/* box: white at opacity / 2; text: dark grey at opacity, over it */
	unsigned op = (unsigned)wm->opacity * 255 / 100, box = op / 2;
	for (size_t i = 0; i < (size_t)w * h; i++) {
		unsigned t = cov[i] * op / 255; /* the text's alpha */
		/* A = 1 - (1 - box)(1 - t); colour premultiplied */
		unsigned a = 255 - (255 - box) * (255 - t) / 255;
		unsigned c = (255 * box * (255 - t) / 255 + 0x30 * t) / 255;
		alpha[i] = (uint8_t)a;
		ink[4 * i] = ink[4 * i + 1] = ink[4 * i + 2] = (uint8_t)c;
		ink[4 * i + 3] = 0;
	}
	free(wm->alpha);
	free(wm->ink);
	wm->alpha = alpha;
	wm->ink = ink;
	wm->r = (struct watermark_rect){ wm->screen_w - WM_MARGIN_X - w,
					 wm->screen_h - WM_MARGIN_Y - h, w, h };
	return 0;
}

/*
 * The tile from the text's coverage: the text turned WM_TILE_ANGLE degrees
 * (bilinear), grey at the opacity, centred in a tile with the gaps around
 * it. The pattern is the whole screen. 0 or -1.
 */
static int wm_make_tile(struct watermark *wm, const uint8_t *cov, int w, int h)
{
	double a = WM_TILE_ANGLE * M_PI / 180, ca = cos(a), sa = sin(a);
	int rw = (int)ceil(w * ca + h * sa), rh = (int)ceil(w * sa + h * ca);
	int tw = rw + WM_TILE_GAP_X, th = rh + WM_TILE_GAP_Y;
	if (wm->phase == NULL &&
	    (wm->phase = calloc((size_t)wm->screen_h, sizeof *wm->phase)) == NULL)
		return -1;
	uint8_t *alpha = calloc((size_t)tw * th, 1);
	if (alpha == NULL)
		return -1;
	unsigned op = (unsigned)wm->opacity * 255 / 100;
	double cx = tw / 2.0, cy = th / 2.0;
	for (int v = 0; v < th; v++)
		for (int u = 0; u < tw; u++) {
			/* the text's x axis runs along (cos a, -sin a) on the screen */
			double dx = u + 0.5 - cx, dy = v + 0.5 - cy;
			double sx = dx * ca - dy * sa + w / 2.0 - 0.5;
			double sy = dx * sa + dy * ca + h / 2.0 - 0.5;
			int x0 = (int)floor(sx), y0 = (int)floor(sy);
			if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h)
				continue;
			double fx = sx - x0, fy = sy - y0, c = 0;
			for (int k = 0; k < 4; k++) {
				int xx = x0 + (k & 1), yy = y0 + (k >> 1);
				if (xx < 0 || yy < 0 || xx >= w || yy >= h)
					continue;
				c += cov[(size_t)yy * w + xx] * ((k & 1) ? fx : 1 - fx) *
				    ((k >> 1) ? fy : 1 - fy);
			}
			/* one alpha, no anti-aliased edges: on a plain background the
			   pattern is one more colour, which keeps the encoders' palettes
			   small (with the edges' shades, reading cost 30 % more bytes) */
			alpha[(size_t)v * tw + u] = c >= 110 ? (uint8_t)op : 0;
		}
	free(wm->alpha);
	free(wm->ink);
	wm->alpha = alpha;
	wm->ink = NULL;
	wm->tile_w = tw;
	wm->tile_h = th;
	wm->r = (struct watermark_rect){ 0, 0, wm->screen_w, wm->screen_h };
	return 0;
}

/* Draw the watermark of text (corner or tiled). 0, or -1 (it stays off). */
static int wm_draw(struct watermark *wm, const char *text)
{
	int w, h;
	uint8_t *cov = wm_coverage(wm, text, wm->tiled ? wm->screen_w : wm->screen_w - WM_MARGIN_X,
				   &w, &h);
	if (cov == NULL)
		return -1;
	int rc = wm->tiled ? wm_make_tile(wm, cov, w, h) : wm_make_label(wm, cov, w, h);
	free(cov);
	return rc;
}

static bool wm_redraw(struct watermark *wm, time_t now, struct watermark_rect *dirty)
{
	struct watermark_rect old = wm->r;
	struct tm tm;
	localtime_r(&now, &tm);
	wm->minute = tm.tm_hour * 60 + tm.tm_min;
	if (wm->tmpl[0] == '\0') {
		wm->r.w = 0;
		*dirty = old;
		return old.w != 0;
	}
	watermark_expand(wm->tmpl, now, wm->shown, sizeof wm->shown);
	if (wm_draw(wm, wm->shown) != 0)
		wm->r.w = 0;
	*dirty = wm_union(old, wm->r);
	return dirty->w != 0;
}

bool watermark_set(struct watermark *wm, const char *tmpl, int opacity, bool tiled, time_t now,
		   struct watermark_rect *dirty)
{
	snprintf(wm->tmpl, sizeof wm->tmpl, "%s", tmpl != NULL ? tmpl : "");
	wm->tiled = tiled; /* wm_redraw() takes the old pattern (wm->r) into *dirty */
	wm->opacity = opacity < 1 ? 1 : opacity > 100 ? 100 : opacity;
	return wm_redraw(wm, now, dirty);
}

bool watermark_tick(struct watermark *wm, time_t now, struct watermark_rect *dirty)
{
	struct tm tm;
	if (wm->tmpl[0] == '\0')
		return false;
	localtime_r(&now, &tm);
	if (tm.tm_hour * 60 + tm.tm_min == wm->minute)
		return false;
	return wm_redraw(wm, now, dirty);
}

bool watermark_in_rows(const struct watermark *wm, int y, int h)
{
	return wm->r.w > 0 && y < wm->r.y + wm->r.h && y + h > wm->r.y;
}

/* n mod m in 0..m-1 for any n (m > 0). */
static int wm_mod(int n, int m)
{
	int r = n % m;
	return r < 0 ? r + m : r;
}

/* The tiled pattern over the w pixels of row `row` from column x. */
static void wm_blend_tiled(const struct watermark *wm, int row, int x, int w, uint8_t *px)
{
	int tw = wm->tile_w, th = wm->tile_h;
	int ty = row + wm->phase[row];
	int band = ty >= 0 ? ty / th : -((-ty + th - 1) / th); /* floor */
	ty -= band * th;
	/* every other band of tiles is shifted by half a tile: a staggered grid */
	int tx = wm_mod(x + ((band & 1) ? tw / 2 : 0), tw);
	const uint8_t *a = wm->alpha + (size_t)ty * tw;
	for (int i = 0; i < w; i++) {
		unsigned al = a[tx];
		if (al != 0) {
			uint8_t *p = px + (size_t)i * 4;
			for (int ch = 0; ch < 3; ch++)
				p[ch] = (uint8_t)((p[ch] * (255 - al) + WM_TILE_GREY * al + 127) /
						  255);
		}
		if (++tx == tw)
			tx = 0;
	}
}

void watermark_blend_row(const struct watermark *wm, int row, int x, int w, uint8_t *px)
{
	if (wm->r.w == 0 || row < wm->r.y || row >= wm->r.y + wm->r.h)
		return;
	if (wm->tiled) {
		wm_blend_tiled(wm, row, x, w, px);
		return;
	}
	int x0 = x > wm->r.x ? x : wm->r.x;
	int x1 = x + w < wm->r.x + wm->r.w ? x + w : wm->r.x + wm->r.w;
	const uint8_t *a = wm->alpha + (size_t)(row - wm->r.y) * wm->r.w;
	const uint8_t *k = wm->ink + (size_t)(row - wm->r.y) * wm->r.w * 4;
	for (int cx = x0; cx < x1; cx++) {
		unsigned al = a[cx - wm->r.x];
		const uint8_t *ink = k + (size_t)(cx - wm->r.x) * 4;
		uint8_t *p = px + (size_t)(cx - x) * 4;
		for (int ch = 0; ch < 3; ch++)
			p[ch] = (uint8_t)((p[ch] * (255 - al) + ink[ch] * 255 + 127) / 255);
	}
}

void watermark_scroll(struct watermark *wm, int y, int h, int r0, int r1, int shift)
{
	if (!wm->tiled || wm->r.w == 0 || wm->phase == NULL || y < 0 || h <= 0 ||
	    y + h > wm->screen_h || r0 < y || r1 >= y + h || r0 > r1 || r0 + shift < y ||
	    r1 + shift >= y + h)
		return;
	int period = 2 * wm->tile_h; /* the pattern repeats every two bands */
	int *old = malloc((size_t)h * sizeof *old);
	if (old == NULL)
		return;
	memcpy(old, wm->phase + y, (size_t)h * sizeof *old);
	int moved = wm_mod(old[r0 + shift - y] + shift, period);
	for (int r = y; r < y + h; r++)
		wm->phase[r] = r >= r0 && r <= r1 ? wm_mod(old[r + shift - y] + shift, period)
						  : moved;
	free(old);
}
