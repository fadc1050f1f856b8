/*
 * session_capture.c: event-driven screen capture and a tiny window manager.
 *
 * XDamage on the root window says which rectangles changed; those rows are
 * copied from Xvfb's XWD file (mmap, read-only) into libvncserver's own
 * framebuffer and marked modified. Nothing is polled: an idle page costs no
 * CPU and sends no bytes.
 *
 * Xvfb runs with -nocursor, so the pointer is never part of the pixels (it
 * was drawn by Xvfb's software sprite without any damage, leaving stale
 * arrows behind). Instead the current cursor image (XFixes) becomes
 * libvncserver's cursor: viewers that support the cursor pseudo-encodings
 * draw it locally, the others get it drawn into their updates.
 *
 * Without a window manager Chromium would keep whatever size it asked for;
 * this file redirects the root window's structure requests and keeps every
 * top-level, non-transient window at the full screen size.
 */
#include "session.h"

#include <X11/XWDFile.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "session_watermark.h"

/* Read big-endian CARD32 field number idx of the XWD header. */
static uint32_t capture_xwd_field(const uint8_t *map, size_t idx)
{
	uint32_t v;
	memcpy(&v, map + idx * 4, 4);
	return ntohl(v);
}

#define CAPTURE_CURSOR_MAX 256 /* pixels per side; X cursors are at most 64, CSS ones 128 */

/*
 * Give libvncserver the X server's current cursor image. XFixes hands out
 * premultiplied ARGB; the RFB cursor is opaque pixels plus a 1-bit mask, so
 * alpha >= 128 counts as opaque. (libvncserver's alpha blending reads past
 * the end of the framebuffer at its edge, so alphaSource is not used.)
 */
static void capture_update_cursor(struct capture *c)
{
	XFixesCursorImage *img = XFixesGetCursorImage(c->dpy);
	if (img == NULL)
		return;
	if (img->cursor_serial == c->cursor_serial && c->screen->cursor != NULL) {
		XFree(img);
		return;
	}
	int w = img->width, h = img->height;
	if (w < 1 || h < 1 || w > CAPTURE_CURSOR_MAX || h > CAPTURE_CURSOR_MAX) {
		log_debug("%s: ignored a %dx%d cursor", __func__, w, h);
		XFree(img);
		return;
	}
	size_t row_bytes = ((size_t)w + 7) / 8;
	rfbCursorPtr cur = calloc(1, sizeof *cur);
	unsigned char *mask = calloc(row_bytes, (size_t)h);
	unsigned char *rich = calloc((size_t)w * (size_t)h, 4);
	if (cur == NULL || mask == NULL || rich == NULL) {
		free(cur);
		free(mask);
		free(rich);
		XFree(img);
		return;
	}
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			unsigned long argb = img->pixels[(size_t)y * (size_t)w + (size_t)x];
			unsigned a = (argb >> 24) & 0xff;
			if (a < 128)
				continue;
			unsigned r = (unsigned)((argb >> 16) & 0xff) * 255 / a;
			unsigned g = (unsigned)((argb >> 8) & 0xff) * 255 / a;
			unsigned b = (unsigned)(argb & 0xff) * 255 / a;
			/* server format: 32 bpp little-endian, shifts 16/8/0 */
			uint32_t px = (r > 255 ? 255 : r) << 16 | (g > 255 ? 255 : g) << 8 |
			    (b > 255 ? 255 : b);
			memcpy(rich + ((size_t)y * (size_t)w + (size_t)x) * 4, &px, 4);
			mask[(size_t)y * row_bytes + (size_t)x / 8] |= (unsigned char)(0x80 >>
										       (x % 8));
		}
	}
	cur->cleanup = cur->cleanupMask = cur->cleanupRichSource = cur->cleanupSource = TRUE;
	cur->width = (unsigned short)w;
	cur->height = (unsigned short)h;
	cur->xhot = (unsigned short)(img->xhot < w ? img->xhot : w - 1);
	cur->yhot = (unsigned short)(img->yhot < h ? img->yhot : h - 1);
	/* for viewers that only take 2-colour X cursors: non-black is white */
	cur->foreRed = cur->foreGreen = cur->foreBlue = 0xffff;
	cur->richSource = rich;
	cur->mask = mask;
	c->cursor_serial = img->cursor_serial;
	XFree(img);
	rfbSetCursor(c->screen, cur); /* frees the previous one */
}

int capture_init(struct capture *c, Display *dpy, const char *fbfile, rfbScreenInfoPtr screen)
{
	memset(c, 0, sizeof *c);
	c->dpy = dpy;
	c->root = DefaultRootWindow(dpy);
	c->screen = screen;
	c->width = screen->width;
	c->height = screen->height;
	c->row_tmp = malloc((size_t)c->width * 4);
	if (c->row_tmp == NULL)
		return -1;

	int fd = open(fbfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("%s: open %s: %s", __func__, fbfile, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(XWDFileHeader)) {
		log_error("%s: %s is too small for an XWD header", __func__, fbfile);
		close(fd);
		return -1;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		log_error("%s: mmap %s: %s", __func__, fbfile, strerror(errno));
		return -1;
	}
	c->fb_map = map;
	c->fb_map_len = (size_t)st.st_size;

	/* XWDFileHeader: 25 CARD32 fields, big-endian (see X11/XWDFile.h). */
	uint32_t header_size = capture_xwd_field(c->fb_map, 0);
	uint32_t width = capture_xwd_field(c->fb_map, 4);
	uint32_t height = capture_xwd_field(c->fb_map, 5);
	uint32_t bpp = capture_xwd_field(c->fb_map, 11);
	uint32_t bytes_per_line = capture_xwd_field(c->fb_map, 12);
	uint32_t ncolors = capture_xwd_field(c->fb_map, 19);
	uint64_t offset = (uint64_t)header_size + (uint64_t)ncolors * sz_XWDColor;
	if (width != (uint32_t)c->width || height != (uint32_t)c->height || bpp != 32 ||
	    bytes_per_line < width * 4 ||
	    offset + (uint64_t)bytes_per_line * height > c->fb_map_len) {
		log_error("%s: unexpected XWD layout in %s (%ux%u, %u bpp, %u bytes/line)",
			  __func__, fbfile, width, height, bpp, bytes_per_line);
		goto fail;
	}
	c->pixels_offset = (size_t)offset;
	c->bytes_per_line = bytes_per_line;
	if (scroll_init(&c->scroll, c->height) != 0 ||
	    qual_init(&c->qual, c->width, c->height) != 0) {
		log_error("%s: out of memory", __func__);
		goto fail;
	}

	int error_base, fixes_event, fixes_error;
	if (!XDamageQueryExtension(dpy, &c->damage_event_base, &error_base) ||
	    !XFixesQueryExtension(dpy, &fixes_event, &fixes_error)) {
		log_error("%s: X server lacks DAMAGE or XFIXES", __func__);
		goto fail;
	}
	c->fixes_event_base = fixes_event;
	c->damage = XDamageCreate(dpy, c->root, XDamageReportNonEmpty);
	XFixesSelectCursorInput(dpy, c->root, XFixesDisplayCursorNotifyMask);
	capture_update_cursor(c);
	/* Be the window manager: see every map and configure request. */
	XSelectInput(dpy, c->root, SubstructureRedirectMask | SubstructureNotifyMask);
	XSync(dpy, False);
	return 0;
fail:
	scroll_free(&c->scroll);
	qual_free(&c->qual);
	free(c->row_tmp);
	c->row_tmp = NULL;
	munmap((void *)c->fb_map, c->fb_map_len);
	c->fb_map = NULL;
	return -1;
}

/*
 * Copy one damaged rectangle from the XWD map into the VNC framebuffer and
 * mark what really changed. Chromium often repaints areas with the same
 * pixels (a whole viewport a few seconds after load, a focus change); only
 * the bands of differing pixels are marked, so such repaints send no bytes
 * and an idle page stays silent.
 */
/*
 * Changed pixels are marked as bands, not as one bounding box: consecutive
 * changed rows (a few unchanged ones between them allowed: the gaps between
 * lines of text) whose changed spans overlap or lie close together. A caret
 * blinking at the top and a counter ticking at the bottom of a damaged area
 * are two small rectangles, not the screen between them (libvncserver keeps
 * the marks as a region and sends its rectangles).
 */
struct capture_band {
	int x0, x1, y0, y1; /* inclusive; y0 < 0: none open */
};

/* Spans further apart than this (pixels) start a new band; so do more
   unchanged rows than CAPTURE_BAND_ROWS. */
#define CAPTURE_BAND_GAP 64
#define CAPTURE_BAND_ROWS 8

static void capture_band_flush(struct capture *c, struct capture_band *b)
{
	if (b->y0 >= 0) {
		rfbMarkRectAsModified(c->screen, b->x0, b->y0, b->x1 + 1, b->y1 + 1);
		qual_damage(&c->qual, &(struct qual_rect){ b->x0, b->y0, b->x1 + 1, b->y1 + 1 },
			    qual_now_ms());
	}
	b->y0 = -1;
}

/* Row row changed in [x0, x1]: grows the open band, or ends it and opens one. */
static void capture_band_add(struct capture *c, struct capture_band *b, int row, int x0, int x1)
{
	if (b->y0 >= 0 &&
	    (row > b->y1 + 1 + CAPTURE_BAND_ROWS || x0 > b->x1 + CAPTURE_BAND_GAP ||
	     x1 < b->x0 - CAPTURE_BAND_GAP))
		capture_band_flush(c, b);
	if (b->y0 < 0) {
		*b = (struct capture_band){ x0, x1, row, row };
		return;
	}
	if (x0 < b->x0)
		b->x0 = x0;
	if (x1 > b->x1)
		b->x1 = x1;
	b->y1 = row;
}

static void capture_copy_rect(struct capture *c, int x, int y, int w, int h)
{
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (x + w > c->width)
		w = c->width - x;
	if (y + h > c->height)
		h = c->height - y;
	if (w <= 0 || h <= 0)
		return;
	size_t dst_stride = (size_t)c->width * 4;
	struct capture_band b = { -1, -1, -1, -1 };
	bool tiled = c->wm != NULL && c->wm->tiled && c->wm->r.w > 0;
	if (tiled && c->raw == NULL)
		c->raw = calloc((size_t)c->height, dst_stride);
	for (int row = y; row < y + h; row++) {
		const uint8_t *src = c->fb_map + c->pixels_offset +
		    (size_t)row * c->bytes_per_line + (size_t)x * 4;
		if (tiled && c->raw != NULL)
			memcpy(c->raw + (size_t)row * dst_stride + (size_t)x * 4, src,
			       (size_t)w * 4);
		if (c->wm != NULL && c->row_tmp != NULL && watermark_in_rows(c->wm, row, 1)) {
			/* the screen's row with the watermark on it is what is served */
			memcpy(c->row_tmp, src, (size_t)w * 4);
			watermark_blend_row(c->wm, row, x, w, c->row_tmp);
			src = c->row_tmp;
		}
		uint8_t *dst = (uint8_t *)c->screen->frameBuffer + (size_t)row * dst_stride +
		    (size_t)x * 4;
		if (memcmp(dst, src, (size_t)w * 4) == 0)
			continue;
		/*
		 * Xvfb keeps drawing into the map while we compare: the pixel
		 * that differed a moment ago may be equal now. Both scans stay
		 * inside the row (they ran past its ends, and memcpy got a
		 * negative size, on a scrolling page under load).
		 */
		int first = 0, last = w - 1;
		while (first < w &&
		       memcmp(dst + (size_t)first * 4, src + (size_t)first * 4, 4) == 0)
			first++;
		if (first == w)
			continue; /* equal again */
		while (last > first &&
		       memcmp(dst + (size_t)last * 4, src + (size_t)last * 4, 4) == 0)
			last--;
		memcpy(dst + (size_t)first * 4, src + (size_t)first * 4,
		       (size_t)(last - first + 1) * 4);
		capture_band_add(c, &b, row, x + first, x + last);
	}
	capture_band_flush(c, &b);
}

/* Columns at the right of a wide damaged area left out of the scroll search:
   a scrollbar, whose thumb does not move with the page. */
#define CAPTURE_SCROLLBAR_W 16

/*
 * A damaged rectangle whose content moved up or down (a page scrolled) is
 * sent as a CopyRect of the block that moved: libvncserver copies it in its
 * framebuffer and tells each viewer to copy it in theirs, so only the strip
 * that scrolled into view is encoded (by capture_copy_rect() afterwards,
 * which finds the copied rows equal).
 */
static void capture_scroll(struct capture *c, int x, int y, int w, int h)
{
	if (x < 0 || y < 0 || x + w > c->width || y + h > c->height || h < 2 * SCROLL_MIN_ROWS ||
	    w < 64)
		return;
	if (w > 256)
		w -= CAPTURE_SCROLLBAR_W;
	/* the watermark stays where it is while the page moves under it: its
	   columns are left out of the search (not of the copy; what the copy
	   gets wrong there is copied again right after) */
	int search_w = w;
	bool tiled = c->wm != NULL && c->wm->tiled && c->wm->r.w > 0;
	if (tiled && c->raw == NULL)
		return; /* nothing to compare with yet */
	if (!tiled && c->wm != NULL && watermark_in_rows(c->wm, y, h) && c->wm->r.x < x + w &&
	    c->wm->r.x - x >= 64)
		search_w = c->wm->r.x - x;
	/* the old picture: what was served, or with the tiled pattern (which is
	   everywhere) the screen as it was copied, without the pattern */
	const uint8_t *old = tiled ? c->raw : (const uint8_t *)c->screen->frameBuffer;
	int r0, r1, shift;
	if (!scroll_find(&c->scroll, c->fb_map + c->pixels_offset, c->bytes_per_line, old,
			 (size_t)c->width * 4, x, y, search_w, h, &r0, &r1, &shift))
		return;
	/* destination rows r0..r1; the source is shift rows further down */
	rfbDoCopyRect(c->screen, x, r0, x + w, r1 + 1, 0, -shift);
	if (tiled) {
		/* the copy of the screen moves too, and the pattern with the rows */
		size_t stride = (size_t)c->width * 4;
		for (int i = 0; i <= r1 - r0; i++) {
			int r = shift > 0 ? r0 + i : r1 - i;
			memmove(c->raw + (size_t)r * stride + (size_t)x * 4,
				c->raw + (size_t)(r + shift) * stride + (size_t)x * 4,
				(size_t)w * 4);
		}
		watermark_scroll(c->wm, y, h, r0, r1, shift);
		/* the columns the copy left out have their pattern moved too */
		capture_copy_rect(c, 0, y, c->width, h);
	}
	qual_scroll(&c->qual, &(struct qual_rect){ x, r0, x + w, r1 + 1 }, shift);
	c->scrolls++;
}

void capture_copy_area(struct capture *c, int x, int y, int w, int h)
{
	capture_copy_rect(c, x, y, w, h);
}

void capture_copy_all(struct capture *c)
{
	capture_copy_rect(c, 0, 0, c->width, c->height);
}

void capture_refresh_lossy(struct capture *c, int64_t now)
{
	struct qual_rect r[64];
	int n = qual_refresh(&c->qual, (const uint8_t *)c->screen->frameBuffer,
			     (size_t)c->width * 4, now, r, 64);
	for (int i = 0; i < n; i++)
		rfbMarkRectAsModified(c->screen, r[i].x0, r[i].y0, r[i].x1, r[i].y1);
}

/* True if w is a dialog or popup that keeps its own geometry. */
static bool capture_is_transient(struct capture *c, Window w)
{
	Window owner = None;
	return XGetTransientForHint(c->dpy, w, &owner) && owner != None;
}

void capture_handle_event(struct capture *c, XEvent *ev)
{
	if (ev->type == c->damage_event_base + XDamageNotify) {
		XserverRegion region = XFixesCreateRegion(c->dpy, NULL, 0);
		XDamageSubtract(c->dpy, c->damage, None, region);
		int n = 0;
		XRectangle *rects = XFixesFetchRegion(c->dpy, region, &n);
		for (int i = 0; i < n; i++) {
			capture_scroll(c, rects[i].x, rects[i].y, rects[i].width, rects[i].height);
			capture_copy_rect(c, rects[i].x, rects[i].y, rects[i].width,
					  rects[i].height);
		}
		if (rects != NULL)
			XFree(rects);
		XFixesDestroyRegion(c->dpy, region);
		return;
	}
	if (ev->type == c->fixes_event_base + XFixesCursorNotify) {
		capture_update_cursor(c);
		return;
	}
	switch (ev->type) {
	case MapRequest: {
		Window w = ev->xmaprequest.window;
		if (!capture_is_transient(c, w))
			XMoveResizeWindow(c->dpy, w, 0, 0, (unsigned)c->width, (unsigned)c->height);
		XMapRaised(c->dpy, w);
		XSetInputFocus(c->dpy, w, RevertToPointerRoot, CurrentTime);
		break;
	}
	case ConfigureRequest: {
		XConfigureRequestEvent *r = &ev->xconfigurerequest;
		XWindowChanges wc = { 0 };
		wc.x = r->x;
		wc.y = r->y;
		wc.width = r->width;
		wc.height = r->height;
		wc.border_width = 0;
		wc.sibling = r->above;
		wc.stack_mode = r->detail;
		unsigned long mask = r->value_mask;
		/*
		 * Only windows on screen are held at full size: Chromium also
		 * configures unmapped 20x20 helper windows at -200,-200, which
		 * keep what they ask for. (MapRequest sizes a window as it
		 * appears.)
		 */
		XWindowAttributes wa;
		bool managed = XGetWindowAttributes(c->dpy, r->window, &wa) &&
		    wa.map_state != IsUnmapped && !capture_is_transient(c, r->window);
		if (!managed) {
			XConfigureWindow(c->dpy, r->window, (unsigned)mask | CWBorderWidth, &wc);
			break;
		}
		wc.x = 0;
		wc.y = 0;
		wc.width = c->width;
		wc.height = c->height;
		mask |= CWX | CWY | CWWidth | CWHeight;
		XConfigureWindow(c->dpy, r->window, (unsigned)mask | CWBorderWidth, &wc);
		/*
		 * ICCCM 4.1.5: a client whose request was not granted as asked
		 * gets a synthetic ConfigureNotify with its real geometry (an
		 * unchanged window gets no real one), or it lays out for the
		 * size it asked for.
		 */
		XConfigureEvent ce = { 0 };
		ce.type = ConfigureNotify;
		ce.display = c->dpy;
		ce.event = r->window;
		ce.window = r->window;
		ce.x = 0;
		ce.y = 0;
		ce.width = c->width;
		ce.height = c->height;
		ce.border_width = 0;
		ce.above = None;
		ce.override_redirect = False;
		XSendEvent(c->dpy, r->window, False, StructureNotifyMask, (XEvent *)&ce);
		break;
	}
	case DestroyNotify:
	case UnmapNotify:
		/* Give the focus back to whatever window is under the pointer. */
		XSetInputFocus(c->dpy, PointerRoot, RevertToPointerRoot, CurrentTime);
		break;
	default:
		break;
	}
}

void capture_close(struct capture *c)
{
	if (c->scrolls > 0)
		log_info("%lu scrolled blocks were sent as CopyRect", c->scrolls);
	if (c->qual.lossy_updates > 0)
		log_info("updates: %lu lossless, %lu with JPEG; %lu tiles sent again lossless "
			 "once still, %lu photo tiles left at the viewer's quality, %lu updates "
			 "split in two",
			 c->qual.lossless_updates, c->qual.lossy_updates, c->qual.refreshed_tiles,
			 c->qual.photo_tiles, c->qual.splits);
	scroll_free(&c->scroll);
	qual_free(&c->qual);
	free(c->row_tmp);
	c->row_tmp = NULL;
	free(c->raw);
	c->raw = NULL;
	if (c->fb_map != NULL)
		munmap((void *)c->fb_map, c->fb_map_len);
	c->fb_map = NULL;
}
