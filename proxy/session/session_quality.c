/*
 * session_quality.c: lossless or JPEG, decided for each framebuffer update.
 *
 * Tight sends a sub-rectangle with more colours than its palette holds as
 * JPEG whenever the viewer asked for a quality level. Anti-aliased text is
 * such a rectangle, and JPEG makes it both bigger and blurrier than lossless
 * Tight. So the worker decides before each update (libvncserver's
 * displayHook, worker_display_hook()) whether the viewer's quality level
 * applies or the update goes out lossless (cl->turboQualityLevel -1, which
 * libvncserver reads per rectangle): lossy only when QUAL_LOSSY_SHARE_PCT
 * of the update's area is busy (changed in QUAL_BUSY_CHANGES loop turns
 * within QUAL_BUSY_MS: an animation, a video) or looks like a photo (most
 * sampled pixels differ from their left neighbour, where text and UI have
 * runs of background). What went out lossy is remembered per tile; a lossy
 * tile that stayed unchanged for QUAL_STILL_MS is marked again and goes out
 * lossless unless it is a photo itself, so text and UI on a still screen are
 * exact in the viewer (photos stay at the viewer's JPEG quality, as with
 * every VNC server: sent again lossless they cost 5-8 times the bytes,
 * measured with bench/run.sh peers). An update that is mostly busy goes
 * out QUAL_BUSY_DROP below the viewer's quality (what moves is seen for a
 * 30th of a second); a photo that went out so is sent again at the viewer's
 * quality once still. The quality never exceeds what the viewer asked for:
 * no JPEG unless it asked for a quality level, and then at most that level.
 *
 * Pure (no X, no libvncserver): the worker passes the framebuffer and the
 * update's rectangles; tests/unit/test_quality.c drives it with pictures.
 */
#include "session_quality.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t qual_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int qual_init(struct qual *q, int width, int height)
{
	memset(q, 0, sizeof *q);
	if (width <= 0 || height <= 0)
		return -1;
	q->width = width;
	q->height = height;
	q->cols = (width + QUAL_TILE - 1) / QUAL_TILE;
	q->rows = (height + QUAL_TILE - 1) / QUAL_TILE;
	q->tiles = calloc((size_t)q->cols * (size_t)q->rows, sizeof *q->tiles);
	q->scratch = calloc((size_t)q->cols * (size_t)q->rows, sizeof *q->scratch);
	q->asked_tight = QUAL_NOT_SEEN;
	q->asked_turbo = -1;
	if (q->tiles == NULL || q->scratch == NULL) {
		qual_free(q);
		return -1;
	}
	return 0;
}

void qual_free(struct qual *q)
{
	free(q->tiles);
	free(q->scratch);
	q->tiles = NULL;
	q->scratch = NULL;
}

/* The rectangle clipped to the screen; false if nothing is left. */
static bool qual_clip(const struct qual *q, const struct qual_rect *r, struct qual_rect *out)
{
	out->x0 = r->x0 < 0 ? 0 : r->x0;
	out->y0 = r->y0 < 0 ? 0 : r->y0;
	out->x1 = r->x1 > q->width ? q->width : r->x1;
	out->y1 = r->y1 > q->height ? q->height : r->y1;
	return out->x0 < out->x1 && out->y0 < out->y1;
}

/* Tile (tx, ty)'s rectangle, clipped to the screen. */
static struct qual_rect qual_tile_rect(const struct qual *q, int tx, int ty)
{
	struct qual_rect t = { tx * QUAL_TILE, ty * QUAL_TILE, (tx + 1) * QUAL_TILE,
			       (ty + 1) * QUAL_TILE };
	if (t.x1 > q->width)
		t.x1 = q->width;
	if (t.y1 > q->height)
		t.y1 = q->height;
	return t;
}

/* The part of c (clipped to the screen) in tile (tx, ty). */
static struct qual_rect qual_piece(const struct qual *q, const struct qual_rect *c, int tx, int ty)
{
	struct qual_rect t = qual_tile_rect(q, tx, ty);
	return (struct qual_rect){ c->x0 > t.x0 ? c->x0 : t.x0, c->y0 > t.y0 ? c->y0 : t.y0,
				   c->x1 < t.x1 ? c->x1 : t.x1, c->y1 < t.y1 ? c->y1 : t.y1 };
}

static struct qual_tile *qual_tile_at(struct qual *q, int tx, int ty)
{
	return &q->tiles[(size_t)ty * (size_t)q->cols + (size_t)tx];
}

/* When the tile last changed (0: never). */
static int64_t qual_last_change(const struct qual_tile *t)
{
	return t->changed[(t->next + QUAL_BUSY_CHANGES - 1) % QUAL_BUSY_CHANGES];
}

void qual_damage(struct qual *q, const struct qual_rect *r, int64_t now)
{
	struct qual_rect c;
	if (!qual_clip(q, r, &c))
		return;
	for (int ty = c.y0 / QUAL_TILE; ty <= (c.y1 - 1) / QUAL_TILE; ty++)
		for (int tx = c.x0 / QUAL_TILE; tx <= (c.x1 - 1) / QUAL_TILE; tx++) {
			struct qual_tile *t = qual_tile_at(q, tx, ty);
			t->refresh = t->requality = false; /* new content: classified for itself */
			int64_t *last =
			    &t->changed[(t->next + QUAL_BUSY_CHANGES - 1) % QUAL_BUSY_CHANGES];
			if (*last != 0 && now - *last < QUAL_SAME_CHANGE_MS) {
				*last = now; /* the same change, seen in several bands */
				continue;
			}
			t->changed[t->next] = now;
			t->next = (uint8_t)((t->next + 1) % QUAL_BUSY_CHANGES);
		}
}

bool qual_tile_busy(const struct qual *q, int tx, int ty, int64_t now)
{
	const struct qual_tile *t = &q->tiles[(size_t)ty * (size_t)q->cols + (size_t)tx];
	int64_t oldest = t->changed[t->next]; /* the ring's oldest of QUAL_BUSY_CHANGES */
	return oldest != 0 && now - oldest <= QUAL_BUSY_MS;
}

/* Adds colour c (24 bits) to the open-addressed set (QUAL_PHOTO_SET slots,
   0 = empty); true if it was not in it yet. */
static bool qual_colour_add(uint32_t *set, uint32_t c)
{
	uint32_t key = c | 0x01000000u;
	for (uint32_t i = (c * 2654435761u) >> (32 - QUAL_PHOTO_SET_BITS);;
	     i = (i + 1) & ((1u << QUAL_PHOTO_SET_BITS) - 1)) {
		if (set[i] == key)
			return false;
		if (set[i] == 0) {
			set[i] = key;
			return true;
		}
	}
}

bool qual_photo_like(const uint8_t *fb, size_t stride, const struct qual_rect *r)
{
	int step = r->y1 - r->y0 >= 4 * QUAL_PHOTO_ROW_STEP ? QUAL_PHOTO_ROW_STEP : 1;
	long rows = (r->y1 - r->y0 + step - 1) / step;
	long samples = rows * (r->x1 - r->x0 - 1);
	if (samples <= 0)
		return false;
	/* enough colours: an eighth of the samples (text, however anti-aliased,
	   has a few shades per text colour), at least QUAL_PHOTO_MIN_COLOURS */
	long want = samples / 8 > QUAL_PHOTO_MIN_COLOURS ? samples / 8 : QUAL_PHOTO_MIN_COLOURS;
	if (want > (1L << QUAL_PHOTO_SET_BITS) / 2)
		want = (1L << QUAL_PHOTO_SET_BITS) / 2;
	uint32_t set[1u << QUAL_PHOTO_SET_BITS];
	memset(set, 0, sizeof set);
	long edges = 0, colours = 0;
	for (int y = r->y0; y < r->y1; y += step) {
		const uint32_t *row = (const uint32_t *)(const void *)(fb + (size_t)y * stride);
		for (int x = r->x0 + 1; x < r->x1; x++) {
			edges += ((row[x] ^ row[x - 1]) & 0x00ffffffu) != 0;
			if (colours < want)
				colours += qual_colour_add(set, row[x] & 0x00ffffffu);
		}
	}
	return edges * 100 >= samples * QUAL_PHOTO_EDGE_PCT && colours >= want;
}

enum qual_mode qual_choose(struct qual *q, const uint8_t *fb, size_t stride,
			   const struct qual_rect *rects, int n, int64_t now)
{
	struct qual_split sp;
	qual_split(q, fb, stride, rects, n, now, NULL, 0, &sp);
	if (sp.total == 0 || sp.lossy * 100 < sp.total * QUAL_LOSSY_SHARE_PCT)
		return QUAL_LOSSLESS;
	return sp.busy * 2 > sp.lossy ? QUAL_JPEG_BUSY : QUAL_JPEG;
}

int qual_split(struct qual *q, const uint8_t *fb, size_t stride, const struct qual_rect *rects,
	       int n, int64_t now, struct qual_rect *pieces, int max, struct qual_split *sp)
{
	long lossy = 0, busy = 0, total = 0;
	int npieces = 0;
	bool complete = true;
	for (int i = 0; i < n; i++) {
		struct qual_rect c;
		if (!qual_clip(q, &rects[i], &c))
			continue;
		for (int ty = c.y0 / QUAL_TILE; ty <= (c.y1 - 1) / QUAL_TILE; ty++)
			for (int tx = c.x0 / QUAL_TILE; tx <= (c.x1 - 1) / QUAL_TILE; tx++) {
				struct qual_rect in = qual_piece(q, &c, tx, ty);
				long area = (long)(in.x1 - in.x0) * (in.y1 - in.y0);
				total += area;
				const struct qual_tile *tile = qual_tile_at(q, tx, ty);
				if (tile->refresh)
					continue; /* a still tile sent again: lossless */
				bool is_busy = false, is_lossy = true;
				if (tile->requality) {
					/* a still photo: the viewer's quality */
				} else if (qual_tile_busy(q, tx, ty, now)) {
					is_busy = true;
				} else if (area < QUAL_PHOTO_MIN_AREA ||
					   !qual_photo_like(fb, stride, &in)) {
					is_lossy = false;
				}
				if (!is_lossy)
					continue;
				lossy += area;
				busy += is_busy ? area : 0;
				if (pieces == NULL)
					continue;
				if (npieces == max)
					complete = false;
				else
					pieces[npieces++] = in;
			}
	}
	sp->lossy = lossy;
	sp->busy = busy;
	sp->total = total;
	sp->complete = complete;
	return npieces;
}

int qual_busy_quality(int asked)
{
	int q = asked - QUAL_BUSY_DROP;
	if (q < QUAL_BUSY_MIN)
		q = QUAL_BUSY_MIN;
	return q < asked ? q : asked; /* never above what was asked */
}

void qual_sent(struct qual *q, const struct qual_rect *rects, int n, enum qual_mode mode,
	       int64_t now)
{
	bool lossy = mode != QUAL_LOSSLESS;
	if (n <= 0)
		return;
	if (lossy)
		q->lossy_updates++;
	else
		q->lossless_updates++;
	/* each tile's area covered by the update (the rectangles do not overlap) */
	memset(q->scratch, 0, (size_t)q->cols * (size_t)q->rows * sizeof *q->scratch);
	int *covered = q->scratch; /* pixels of each tile in the update */
	for (int i = 0; i < n; i++) {
		struct qual_rect c;
		if (!qual_clip(q, &rects[i], &c))
			continue;
		for (int ty = c.y0 / QUAL_TILE; ty <= (c.y1 - 1) / QUAL_TILE; ty++)
			for (int tx = c.x0 / QUAL_TILE; tx <= (c.x1 - 1) / QUAL_TILE; tx++) {
				struct qual_rect in = qual_piece(q, &c, tx, ty);
				covered[(size_t)ty * (size_t)q->cols + (size_t)tx] += (in.x1 -
										       in.x0) *
				    (in.y1 - in.y0);
				struct qual_tile *tile = qual_tile_at(q, tx, ty);
				if (lossy) {
					tile->lossy = true;
					tile->lossy_ms = now;
					tile->refresh = tile->requality = false;
					tile->reduced = mode == QUAL_JPEG_BUSY;
				}
			}
	}
	if (lossy)
		return;
	for (int ty = 0; ty < q->rows; ty++)
		for (int tx = 0; tx < q->cols; tx++) {
			struct qual_rect t = qual_tile_rect(q, tx, ty);
			struct qual_tile *tile = qual_tile_at(q, tx, ty);
			if (covered[(size_t)ty * (size_t)q->cols + (size_t)tx] ==
			    (t.x1 - t.x0) * (t.y1 - t.y0)) {
				if (tile->refresh)
					q->refreshed_tiles++;
				tile->lossy = false; /* all of it went out lossless */
				tile->refresh = tile->requality = tile->reduced = false;
			}
		}
}

void qual_scroll(struct qual *q, const struct qual_rect *dst, int shift)
{
	struct qual_rect c;
	if (!qual_clip(q, dst, &c))
		return;
	size_t ntiles = (size_t)q->cols * (size_t)q->rows;
	for (size_t i = 0; i < ntiles; i++)
		q->scratch[i] = q->tiles[i].lossy;
	/* destination row r holds what was at row r + shift */
	for (int ty = c.y0 / QUAL_TILE; ty <= (c.y1 - 1) / QUAL_TILE; ty++)
		for (int tx = c.x0 / QUAL_TILE; tx <= (c.x1 - 1) / QUAL_TILE; tx++) {
			struct qual_rect t = qual_tile_rect(q, tx, ty);
			int r0 = c.y0 > t.y0 ? c.y0 : t.y0, r1 = c.y1 < t.y1 ? c.y1 : t.y1;
			bool whole = c.x0 <= t.x0 && c.x1 >= t.x1 && r0 == t.y0 && r1 == t.y1;
			bool lossy = !whole &&
			    q->scratch[(size_t)ty * (size_t)q->cols + (size_t)tx];
			int s0 = (r0 + shift) / QUAL_TILE, s1 = (r1 - 1 + shift) / QUAL_TILE;
			for (int sy = s0 < 0 ? 0 : s0; sy <= s1 && sy < q->rows; sy++)
				lossy |= q->scratch[(size_t)sy * (size_t)q->cols + (size_t)tx] != 0;
			struct qual_tile *tile = qual_tile_at(q, tx, ty);
			if (lossy && !tile->lossy)
				tile->lossy_ms = qual_last_change(tile);
			tile->lossy = lossy;
		}
}

int qual_refresh(struct qual *q, const uint8_t *fb, size_t stride, int64_t now,
		 struct qual_rect *out, int max)
{
	int n = 0;
	for (int ty = 0; ty < q->rows; ty++) {
		for (int tx = 0; tx < q->cols; tx++) {
			struct qual_tile *t = qual_tile_at(q, tx, ty);
			if (!t->lossy || t->refresh || t->requality ||
			    now - t->lossy_ms < QUAL_STILL_MS ||
			    now - qual_last_change(t) < QUAL_STILL_MS)
				continue;
			struct qual_rect r = qual_tile_rect(q, tx, ty);
			bool lossless = true;
			if ((long)(r.x1 - r.x0) * (r.y1 - r.y0) >= QUAL_PHOTO_MIN_AREA &&
			    qual_photo_like(fb, stride, &r)) {
				if (!t->reduced) {
					t->lossy =
					    false; /* a photo: stays at the viewer's quality */
					q->photo_tiles++;
					continue;
				}
				lossless =
				    false; /* went out at the busy quality: the viewer's now */
			}
			/* a run of tiles in a row: one rectangle */
			if (n > 0 && out[n - 1].y0 == r.y0 && out[n - 1].x1 == r.x0) {
				out[n - 1].x1 = r.x1;
			} else {
				if (n == max)
					return n;
				out[n++] = r;
			}
			if (lossless)
				t->refresh = true;
			else
				t->requality = true;
		}
	}
	return n;
}

int qual_timeout_ms(const struct qual *q, int64_t now)
{
	int64_t best = -1;
	size_t ntiles = (size_t)q->cols * (size_t)q->rows;
	for (size_t i = 0; i < ntiles; i++) {
		const struct qual_tile *t = &q->tiles[i];
		if (!t->lossy || t->refresh || t->requality)
			continue;
		int64_t due = t->lossy_ms > qual_last_change(t) ? t->lossy_ms : qual_last_change(t);
		due += QUAL_STILL_MS;
		int64_t wait = due > now ? due - now : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return (int)best;
}

int qual_asked(struct qual *q, int tight_level, int turbo_level)
{
	/* libvncserver sets both at a SetEncodings; only we change turbo later,
	   after reading it here, so a changed tight level means a new request */
	if (tight_level != q->asked_tight) {
		q->asked_tight = tight_level;
		q->asked_turbo = tight_level < 0 ? -1 : turbo_level;
	}
	return q->asked_turbo;
}
