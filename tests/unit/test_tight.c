/*
 * Unit tests for session_tight.c: libvncserver's Tight streams started at
 * the worker's zlib levels, with the levels libvncserver asks for recorded.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "session_tight.h"

static rfbClientPtr tight_client(int encoding)
{
	rfbClientPtr cl = calloc(1, sizeof *cl);
	cr_assert_not_null(cl);
	cl->preferredEncoding = encoding;
	return cl;
}

/* what libvncserver's rfbClientConnectionGone() does with the streams */
static void tight_client_free(rfbClientPtr cl)
{
	for (int i = 0; i < 4; i++)
		if (cl->zsActive[i])
			deflateEnd(&cl->zsStruct[i]);
	free(cl);
}

/* One byte per pixel, as tight.c's indexed rectangles: lines of "glyphs"
   (a few anti-aliased 9x14 shapes in a few colours) on a background. */
static size_t text_like(uint8_t *buf, int w, int h)
{
	uint32_t seed = 12345;
	memset(buf, 0, (size_t)w * (size_t)h);
	for (int line = 0; line + 20 <= h; line += 20) {
		for (int x = 4; x + 9 <= w; x += 10) {
			seed = seed * 1103515245u + 12345u;
			int g = (int)((seed >> 16) % 40);
			if (g >= 32)
				continue; /* a space */
			for (int yy = 0; yy < 14; yy++)
				for (int xx = 0; xx < 9; xx++) {
					unsigned v = (unsigned)(g * 7 + xx * 3 + yy * 5) % 23;
					/* strokes where the shape's pattern is low; edges antialiased */
					buf[(size_t)(line + 3 + yy) * (size_t)w + (size_t)(x + xx)] =
					    v < 4 ? (uint8_t)(1 + v) : 0;
				}
		}
	}
	return (size_t)w * (size_t)h;
}

/* stream pz's output for in[0..len), flushed as tight.c flushes, appended
   to out (cap bytes, *n used) */
static size_t deflate_sync(z_streamp pz, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			   size_t *n)
{
	pz->next_in = (Bytef *)in;
	pz->avail_in = (uInt)len;
	pz->next_out = out + *n;
	pz->avail_out = (uInt)(cap - *n);
	cr_assert_eq(deflate(pz, Z_SYNC_FLUSH), Z_OK);
	cr_assert_eq(pz->avail_in, 0);
	cr_assert_gt(pz->avail_out, 0);
	size_t wrote = cap - *n - pz->avail_out;
	*n += wrote;
	return wrote;
}

Test(tight, streams_start_at_our_levels_and_record_libvncservers)
{
	rfbClientPtr cl = tight_client(rfbEncodingTight);
	tight_zlib_prepare(cl, 1);
	for (int i = 0; i < TIGHT_STREAMS; i++) {
		cr_assert(cl->zsActive[i], "stream %d started", i);
		cr_assert_eq(cl->zsLevel[i], 1, "lossless: libvncserver asks level 1 of stream %d",
			     i);
	}
	cr_assert_not(cl->zsActive[3], "the gradient stream is never used");
	void *state[TIGHT_STREAMS];
	for (int i = 0; i < TIGHT_STREAMS; i++)
		state[i] = cl->zsStruct[i].state;
	/* an update with JPEG: libvncserver's compression level 2 */
	tight_zlib_prepare(cl, 2);
	cr_assert_eq(cl->zsLevel[TIGHT_FULL_COLOUR], 2);
	cr_assert_eq(cl->zsLevel[TIGHT_MONO], 3);
	cr_assert_eq(cl->zsLevel[TIGHT_INDEXED], 3);
	tight_zlib_prepare(cl, 1);
	for (int i = 0; i < TIGHT_STREAMS; i++) {
		cr_assert_eq(cl->zsStruct[i].state, state[i], "stream %d kept, not started again",
			     i);
		cr_assert_eq(cl->zsLevel[i], 1);
	}
	tight_client_free(cl);
}

Test(tight, text_compresses_better_than_libvncservers_level)
{
	enum { W = 1264, H = 400 };
	uint8_t *px = malloc((size_t)W * H);
	cr_assert_not_null(px);
	size_t len = text_like(px, W, H);
	rfbClientPtr cl = tight_client(rfbEncodingTight);
	tight_zlib_prepare(cl, 1);
	z_stream level1;
	memset(&level1, 0, sizeof level1);
	cr_assert_eq(deflateInit2(&level1, 1, Z_DEFLATED, MAX_WBITS, MAX_MEM_LEVEL,
				  Z_DEFAULT_STRATEGY),
		     Z_OK);
	size_t cap = compressBound((uLong)len) * 2 + 256, n_ours = 0, n_theirs = 0;
	uint8_t *ours = malloc(cap), *theirs = malloc(cap);
	cr_assert(ours != NULL && theirs != NULL);
	/* two strips through the same stream, as two updates */
	deflate_sync(&cl->zsStruct[TIGHT_INDEXED], px, len / 2, ours, cap, &n_ours);
	deflate_sync(&cl->zsStruct[TIGHT_INDEXED], px + len / 2, len - len / 2, ours, cap, &n_ours);
	deflate_sync(&level1, px, len / 2, theirs, cap, &n_theirs);
	deflate_sync(&level1, px + len / 2, len - len / 2, theirs, cap, &n_theirs);
	cr_log_info("indexed text: %zu bytes at level %d, %zu at level 1", n_ours,
		    TIGHT_LEVEL_INDEXED, n_theirs);
	cr_assert_lt(n_ours * 100, n_theirs * 97, "level %d: %zu bytes, level 1: %zu",
		     TIGHT_LEVEL_INDEXED, n_ours, n_theirs);
	/* the viewer's inflate (libvncclient's, one stream per kind) gets the picture */
	z_stream inf;
	memset(&inf, 0, sizeof inf);
	cr_assert_eq(inflateInit(&inf), Z_OK);
	uint8_t *back = malloc(len);
	cr_assert_not_null(back);
	inf.next_in = ours;
	inf.avail_in = (uInt)n_ours;
	inf.next_out = back;
	inf.avail_out = (uInt)len;
	cr_assert_eq(inflate(&inf, Z_SYNC_FLUSH), Z_OK);
	cr_assert_eq(inf.avail_out, 0);
	cr_assert_eq(memcmp(back, px, len), 0);
	inflateEnd(&inf);
	free(back);
	free(ours);
	free(theirs);
	deflateEnd(&level1);
	tight_client_free(cl);
	free(px);
}

Test(tight, nothing_for_other_encodings_or_level_0)
{
	rfbClientPtr cl = tight_client(rfbEncodingZRLE);
	tight_zlib_prepare(cl, 1);
	for (int i = 0; i < 4; i++)
		cr_assert_not(cl->zsActive[i]);
	cl->preferredEncoding = rfbEncodingTight;
	tight_zlib_prepare(cl, 0);
	for (int i = 0; i < 4; i++)
		cr_assert_not(cl->zsActive[i], "level 0: tight.c sends without zlib");
	tight_client_free(cl);
}
