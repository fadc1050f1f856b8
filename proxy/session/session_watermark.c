/*
 * session_watermark.c: the framebuffer's watermark (see session_watermark.h).
 */
#include "session_watermark.h"

#include <X11/Xft/Xft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define WM_FONT "Noto Sans CJK JP,Noto Sans JP,IPAGothic,sans:pixelsize=14"
#define WM_PAD 6     /* pixels around the text */
#define WM_MARGIN_X 24 /* from the right edge: clear of a page's scrollbar */
#define WM_MARGIN_Y 8

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
	wm->alpha = wm->ink = NULL;
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
 * Draw text white on black with Xft on a pixmap, read the coverage back,
 * and make the label: a light box at half the opacity, the text dark at
 * the opacity. 0, or -1 (the old label stays off).
 */
static int wm_draw(struct watermark *wm, const char *text)
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
		return -1;
	}
	XGlyphInfo ext;
	XftTextExtentsUtf8(dpy, font, (const FcChar8 *)text, (int)strlen(text), &ext);
	int w = ext.xOff + 2 * WM_PAD, h = font->ascent + font->descent + 2 * WM_PAD;
	if (w > wm->screen_w - WM_MARGIN_X)
		w = wm->screen_w - WM_MARGIN_X;
	if (w <= 2 * WM_PAD || h > wm->screen_h / 4)
		return -1;
	Visual *vis = DefaultVisual(dpy, scr);
	Colormap cmap = DefaultColormap(dpy, scr);
	Pixmap pm = XCreatePixmap(dpy, RootWindow(dpy, scr), (unsigned)w, (unsigned)h,
				  (unsigned)DefaultDepth(dpy, scr));
	XftDraw *d = XftDrawCreate(dpy, pm, vis, cmap);
	XftColor black, white;
	XRenderColor rb = { 0, 0, 0, 0xffff }, rw = { 0xffff, 0xffff, 0xffff, 0xffff };
	int ret = -1;
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
	uint8_t *alpha = img != NULL ? malloc((size_t)w * h) : NULL;
	uint8_t *ink = img != NULL ? malloc((size_t)w * h * 4) : NULL;
	if (alpha != NULL && ink != NULL) {
		/* box: white at opacity / 2; text: dark grey at opacity, over it */
		unsigned op = (unsigned)wm->opacity * 255 / 100, box = op / 2;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				unsigned cov = (unsigned)((XGetPixel(img, x, y) >> 8) & 0xff);
				unsigned t = cov * op / 255; /* the text's alpha */
				/* A = 1 - (1 - box)(1 - t); colour premultiplied */
				unsigned a = 255 - (255 - box) * (255 - t) / 255;
				unsigned c = (255 * box * (255 - t) / 255 + 0x30 * t) / 255;
				size_t i = (size_t)y * w + x;
				alpha[i] = (uint8_t)a;
				ink[4 * i] = ink[4 * i + 1] = ink[4 * i + 2] = (uint8_t)c;
				ink[4 * i + 3] = 0;
			}
		free(wm->alpha);
		free(wm->ink);
		wm->alpha = alpha;
		wm->ink = ink;
		alpha = ink = NULL;
		wm->r = (struct watermark_rect){ wm->screen_w - WM_MARGIN_X - w,
						 wm->screen_h - WM_MARGIN_Y - h, w, h };
		ret = 0;
	}
	free(alpha);
	free(ink);
	if (img != NULL)
		XDestroyImage(img);
	if (d != NULL)
		XftDrawDestroy(d);
	XFreePixmap(dpy, pm);
	return ret;
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

bool watermark_set(struct watermark *wm, const char *tmpl, int opacity, time_t now,
		   struct watermark_rect *dirty)
{
	snprintf(wm->tmpl, sizeof wm->tmpl, "%s", tmpl != NULL ? tmpl : "");
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

void watermark_blend_row(const struct watermark *wm, int row, int x, int w, uint8_t *px)
{
	if (wm->r.w == 0 || row < wm->r.y || row >= wm->r.y + wm->r.h)
		return;
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
