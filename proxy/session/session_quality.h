/*
 * session_quality.h: lossless or JPEG for each framebuffer update, and a
 * lossless refresh of what went out lossy once it is still
 * (session_quality.c).
 */
#ifndef PIXELGATE_SESSION_QUALITY_H
#define PIXELGATE_SESSION_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUAL_TILE 64              /* pixels: the grid the state is kept on */
#define QUAL_BUSY_CHANGES 6       /* changed in this many loop turns ... */
#define QUAL_BUSY_MS 1000         /* ... within this long: busy (animation, video) */
#define QUAL_SAME_CHANGE_MS 8     /* changes closer than this count as one */
#define QUAL_STILL_MS 300         /* lossy and unchanged this long: sent again, lossless */
#define QUAL_LOSSY_SHARE_PCT 25   /* of an update's area photo-like or busy: JPEG */
#define QUAL_PHOTO_EDGE_PCT 40    /* sampled pixels differing from their left neighbour */
#define QUAL_PHOTO_ROW_STEP 4     /* every 4th row is sampled */
#define QUAL_PHOTO_MIN_AREA 1024  /* smaller parts of a tile are never called photos */
#define QUAL_PHOTO_MIN_COLOURS 64 /* ... and photos have this many colours, or 1/8 of the samples */
#define QUAL_PHOTO_SET_BITS 10    /* the colour set: 1024 slots, counting up to 512 */
#define QUAL_NOT_SEEN (-1000)
#define QUAL_BUSY_DROP 25 /* JPEG quality (1..100) below the viewer's for what moves */
#define QUAL_BUSY_MIN 20  /* ... but not below this */

/* How an update goes out. */
enum qual_mode {
	QUAL_LOSSLESS, /* Tight without JPEG */
	QUAL_JPEG,     /* at the viewer's quality */
	QUAL_JPEG_BUSY /* mostly moving: QUAL_BUSY_DROP below it (qual_busy_quality()) */
};

/* x1, y1 exclusive */
struct qual_rect {
	int x0, y0, x1, y1;
};

struct qual_tile {
	int64_t changed[QUAL_BUSY_CHANGES]; /* ring of its last change times (ms) */
	uint8_t next;                       /* the ring's oldest slot */
	bool lossy;                         /* the viewer's picture of it may be inexact */
	bool refresh;                       /* marked again to go out lossless */
	bool reduced;                       /* went out at the busy quality */
	bool requality;                     /* a photo marked again for the viewer's quality */
	int64_t lossy_ms;                   /* when it last went out lossy */
};

struct qual {
	int width, height, cols, rows;
	struct qual_tile *tiles;
	int *scratch;    /* one int per tile */
	int asked_tight; /* the viewer's Tight quality level 0..9, -1 none */
	int asked_turbo; /* the JPEG quality libvncserver made of it, -1 none */
	unsigned long lossy_updates, lossless_updates, refreshed_tiles;
	unsigned long photo_tiles; /* lossy, still, and left so: photos */
	unsigned long splits;      /* mixed updates sent in two parts */
	bool deferred_lossy;       /* the last mixed update sent its lossless part first */
};

int64_t qual_now_ms(void);

/* 0, or -1 (no memory, bad size). */
int qual_init(struct qual *q, int width, int height);
void qual_free(struct qual *q);

/* The screen changed in r at now (the capture's damage). */
void qual_damage(struct qual *q, const struct qual_rect *r, int64_t now);

/* Tile (tx, ty) changed in QUAL_BUSY_CHANGES turns within QUAL_BUSY_MS. */
bool qual_tile_busy(const struct qual *q, int tx, int ty, int64_t now);

/* Most sampled pixels of r (in a 32 bpp picture) differ from their left neighbour. */
bool qual_photo_like(const uint8_t *fb, size_t stride, const struct qual_rect *r);

/*
 * How an update of these rectangles (disjoint, as a region's) should go
 * out: JPEG when QUAL_LOSSY_SHARE_PCT of its area is busy or photo-like
 * (tiles being refreshed count as lossless), at the busy quality when most
 * of that is busy; else lossless.
 */
enum qual_mode qual_choose(struct qual *q, const uint8_t *fb, size_t stride,
			   const struct qual_rect *rects, int n, int64_t now);

/* What qual_split() found in an update's rectangles (areas in pixels). */
struct qual_split {
	long lossy, busy, total;
	bool complete; /* every lossy piece fit into pieces */
};

/*
 * The parts (each within one tile) of rects that should go out lossy:
 * busy, photo-like, or a still photo to send at the viewer's quality; at
 * most max into pieces (may be NULL: only the figures). Returns how many.
 */
int qual_split(struct qual *q, const uint8_t *fb, size_t stride, const struct qual_rect *rects,
	       int n, int64_t now, struct qual_rect *pieces, int max, struct qual_split *sp);

/* The JPEG quality for a busy update when the viewer asked for asked (1..100). */
int qual_busy_quality(int asked);

/* The update went out so: tiles it covered wholly losslessly are exact now;
   tiles it touched lossily are lossy (reduced at the busy quality). */
void qual_sent(struct qual *q, const struct qual_rect *rects, int n, enum qual_mode mode,
	       int64_t now);

/* dst was copied (CopyRect) from the rows shift further down (new row r ==
   old row r + shift): what was lossy moves with it. */
void qual_scroll(struct qual *q, const struct qual_rect *dst, int shift);

/*
 * Lossy tiles unchanged for QUAL_STILL_MS: at most max rectangles (runs of
 * tiles in a row) into out, for the caller to mark as modified. Those not
 * photo-like in fb (the picture the viewer is sent from) go out lossless;
 * photo-like ones sent at the busy quality go out at the viewer's; other
 * photo-like ones are left as they are. Returns how many.
 */
int qual_refresh(struct qual *q, const uint8_t *fb, size_t stride, int64_t now,
		 struct qual_rect *out, int max);

/* ms until qual_refresh() has something to do, -1 if nothing is lossy. */
int qual_timeout_ms(const struct qual *q, int64_t now);

/* The JPEG quality the viewer asked for (libvncserver's client fields
   tightQualityLevel and turboQualityLevel, read before we change the
   latter), -1 for none: never exceeded. */
int qual_asked(struct qual *q, int tight_level, int turbo_level);

#endif
